/* What the main thread does between signals: keep the source cache fresh and
 * drain the spool into the database once it answers again. */
#include "ingest.h"
#include "metrics.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "ringlog/xalloc.h"

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

static void log_drained(const struct push *p, const struct push_result *r)
{
	bool ok = push_is_success(r->outcome);

	log_msg(ok ? LOG_INFO : LOG_WARNING,
		"spooled push drained: request id=%s source=%s call_id=%s outcome=%s%s%s",
		p->request_id ? p->request_id : "-", p->source, r->call_id[0] ? r->call_id : "-",
		ok ? push_outcome_name(r->outcome) : r->error, ok ? "" : ": ", ok ? "" : r->message);
}

/* Stores a batch of spooled pushes the way the writers store live ones
 * (push_prepare, then push_commit: one transaction for the batch, dead
 * letters for the refused), in spool order. Returns how many, from the
 * first, are dealt with: the database going away stops at the first push
 * it left unwritten. */
static size_t drain_batch(void *ctx, const struct push *pushes, size_t n)
{
	struct drain_ctx *d = ctx;
	struct push_item *items;
	struct push_result *results;
	size_t dealt = 0;

	if (d->in->stopping)
		return 0;
	items = xcalloc(n, sizeof(*items));
	results = xcalloc(n, sizeof(*results));
	for (size_t i = 0; i < n; i++) {
		const struct source *src = source_set_find(d->sources, pushes[i].source);

		items[i] = (struct push_item){ &pushes[i], push_prepare(src, &pushes[i], &d->in->push, &results[i]),
					       &results[i], push_dead_letter_budget(src, &d->in->push) };
	}
	push_commit(d->db, items, n, 0);
	for (; dealt < n && !results[dealt].db_down; dealt++) {
		const struct push *p = &pushes[dealt];

		if (results[dealt].dead_letter)
			ingest_count_dead_letter();
		if (results[dealt].dead_letter_dropped)
			ingest_dead_letter_dropped(source_set_find(d->sources, p->source), &d->in->push,
						   p->request_id ? p->request_id : "-");
		log_drained(p, &results[dealt]);
	}
	for (size_t i = 0; i < n; i++)
		push_ready_free(items[i].ready);
	free(items);
	free(results);
	return dealt;
}

size_t ingest_drain_spool(struct ingest *in, struct db *db)
{
	struct drain_ctx d = { in, db, source_cache_get(in->sources) };
	size_t n = spool_drain(in->spool, (size_t)in->cfg->batch_max, drain_batch, &d);

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
