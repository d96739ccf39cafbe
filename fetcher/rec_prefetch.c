/* The prefetch worker (prefetch = yes): fetches remote recordings ahead of
 * any play, so they survive the PBX's retention. It claims due rows in
 * batches (FOR UPDATE SKIP LOCKED, so several fetcher processes share the
 * work without waiting on each other), keeps at most prefetch_concurrency
 * of them in the fetch pool at once (plays always go first), and sleeps
 * prefetch_interval when nothing is due. Failed rows come back after their
 * backoff (next_attempt_at). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec_internal.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

struct rec_prefetch {
	struct rec_engine *g;
	struct fetcher *f;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool woken;
	struct db *db;
};

static const struct db_stmt due_stmt = {
	"rec_prefetch_due",
	"SELECT id, remote_ref, remote_url, source_name"
	" FROM ringlog_recordings_claim_due($1, $2, $3, $4::bigint[])", 4
};

/* "{1,2,3}": the flights running here, which the claim skips. */
static void skip_list(struct rec_engine *g, struct buf *out)
{
	size_t n;
	long long *ids = rec_engine_flight_ids(g, &n);

	buf_addch(out, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(out, "%s%lld", i ? "," : "", ids[i]);
	buf_addch(out, '}');
	free(ids);
}

/* Claims up to ROOM due rows and queues them. Returns how many, or -1. */
static int claim_batch(struct rec_prefetch *p, int room)
{
	struct buf skip = BUF_INIT;
	char lease[16], limit[16];
	const char *params[] = { rec_engine_owner(p->g), lease, limit, NULL };
	struct errbuf e;
	PGresult *res;
	int n;

	skip_list(p->g, &skip);
	params[3] = skip.data;
	snprintf(lease, sizeof(lease), "%d", rec_engine_lease_s(p->g));
	snprintf(limit, sizeof(limit), "%d", room);
	res = db_exec(p->db, &due_stmt, params, &e);
	buf_release(&skip);
	if (!res) {
		log_msg(LOG_WARNING, "prefetch: cannot claim recordings: %s", e.msg);
		return -1;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		rec_engine_queue_claimed(p->g, atoll(PQgetvalue(res, i, 0)),
					 PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1),
					 PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2),
					 PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3));
	PQclear(res);
	if (n)
		log_msg(LOG_DEBUG, "prefetch: claimed %d recordings", n);
	return n;
}

/* Sleeps up to SECONDS, or until woken. */
static void nap(struct rec_prefetch *p, long long seconds)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&p->lock);
	while (!p->woken && !rec_engine_stopping(p->g))
		if (pthread_cond_timedwait(&p->wake, &p->lock, &until) != 0)
			break;
	p->woken = false;
	pthread_mutex_unlock(&p->lock);
}

static void *prefetch_main(void *arg)
{
	struct rec_prefetch *p = arg;
	const struct fetcher_config *c = p->f->cfg;

	while (!rec_engine_stopping(p->g)) {
		int room = (int)c->prefetch_concurrency - rec_engine_background(p->g);
		int got = room > 0 ? claim_batch(p, room) : 0;

		if (rec_engine_stopping(p->g))
			break;
		if (room <= 0)
			nap(p, c->prefetch_interval_s); /* woken when a prefetch ends */
		else if (got <= 0)
			nap(p, got < 0 ? 5 : c->prefetch_interval_s);
	}
	return NULL;
}

struct rec_prefetch *rec_prefetch_start(struct rec_engine *g, struct fetcher *f, struct errbuf *e)
{
	struct rec_prefetch *p = xcalloc(1, sizeof(*p));

	p->g = g;
	p->f = f;
	p->db = db_new(f->cfg->database_url, "ringlog-fetcherd prefetch");
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (pthread_create(&p->thread, NULL, prefetch_main, p) != 0) {
		err_set(e, "cannot start the prefetch worker");
		db_free(p->db);
		free(p);
		return NULL;
	}
	return p;
}

void rec_prefetch_wake(struct rec_prefetch *p)
{
	pthread_mutex_lock(&p->lock);
	p->woken = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void rec_prefetch_stop(struct rec_prefetch *p)
{
	if (!p)
		return;
	rec_prefetch_wake(p);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	db_free(p->db);
	free(p);
}
