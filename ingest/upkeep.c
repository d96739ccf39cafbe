/* What the main thread does between signals: keep the source cache fresh and
 * drain the spool into the database once it answers again. */
#include "ingest.h"
#include "metrics.h"

#include <time.h>

int ingest_reload_sources(struct ingest *in, struct db *db, struct errbuf *e)
{
	struct source_set *set = source_set_load(db, e);

	if (!set)
		return -1;
	source_cache_put(in->sources, set);
	return 0;
}

bool ingest_reload_on_miss(struct ingest *in, struct db *db)
{
	long long now = http_monotonic_ns(), last = in->last_miss_reload_ns;
	struct errbuf e;

	if (now - last < 1000000000LL ||
	    !atomic_compare_exchange_strong(&in->last_miss_reload_ns, &last, now))
		return false;
	return ingest_reload_sources(in, db, &e) == 0;
}

struct drain_ctx {
	struct ingest *in;
	struct db *db;
	struct source_set *sources;
};

static int drain_one(void *ctx, const struct push *p)
{
	struct drain_ctx *d = ctx;
	struct push_result r;

	if (d->in->stopping)
		return -1;
	push_process(d->db, source_set_find(d->sources, p->source), p, &d->in->push, 0, &r);
	if (r.db_down)
		return -1;
	if (r.dead_letter)
		ingest_count_dead_letter();
	if (r.dead_letter_dropped)
		ingest_dead_letter_dropped(source_set_find(d->sources, p->source), &d->in->push,
					   p->request_id ? p->request_id : "-");
	log_msg(push_is_success(r.outcome) ? LOG_INFO : LOG_WARNING,
		"spooled push drained: request id=%s source=%s call_id=%s outcome=%s%s%s",
		p->request_id ? p->request_id : "-", p->source, r.call_id[0] ? r.call_id : "-",
		push_is_success(r.outcome) ? push_outcome_name(r.outcome) : r.error,
		push_is_success(r.outcome) ? "" : ": ", push_is_success(r.outcome) ? "" : r.message);
	return 0;
}

size_t ingest_drain_spool(struct ingest *in, struct db *db)
{
	struct drain_ctx d = { in, db, source_cache_get(in->sources) };
	size_t n = spool_drain(in->spool, drain_one, &d);

	source_set_unref(d.sources);
	if (n)
		log_msg(LOG_NOTICE, "spool: %zu pushes drained into the database, %zu waiting", n,
			spool_depth(in->spool));
	return n;
}

void ingest_make_partitions(struct db *db)
{
	static const struct db_stmt make = {
		"upkeep_calls_partitions", "SELECT ringlog_calls_partitions()", 0
	};
	static time_t next;
	struct errbuf e;
	PGresult *res;

	if (time(NULL) < next)
		return;
	next = time(NULL) + 3600;
	res = db_exec(db, &make, NULL, &e);
	if (!res) {
		log_msg(LOG_WARNING, "monthly partitions of calls not made: %s", e.msg);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		log_msg(LOG_NOTICE, "made partition %s of calls", PQgetvalue(res, i, 0));
	PQclear(res);
}
