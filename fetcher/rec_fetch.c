/* The fetch workers: each owns a database connection and a curl handle
 * (created and cleaned up here; its connections to PBXs are reused). A
 * worker takes a flight, claims the row's lease (or waits while another
 * process holds it), downloads into the blob store while players read
 * along, then records the outcome on the row and publishes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rec_internal.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

static const double fetch_bounds[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
static struct metric fetch_seconds = METRIC_HISTOGRAM_INIT(
	"ringlog_recording_fetch_duration_seconds", NULL,
	"Time to download a recording from its PBX, successful or not.", fetch_bounds);
#define FETCH_COUNTER(o) METRIC_COUNTER_INIT("ringlog_recording_fetches_total", "outcome=\"" o "\"", \
					     "Recording downloads from PBXs, by outcome.")
static struct metric fetches[] = {
	FETCH_COUNTER("ok"), FETCH_COUNTER("upstream_auth_failed"),
	FETCH_COUNTER("upstream_rejected_ref"), FETCH_COUNTER("upstream_timeout"),
	FETCH_COUNTER("upstream_error"), FETCH_COUNTER("upstream_not_allowed"),
	FETCH_COUNTER("upstream_not_configured"), FETCH_COUNTER("upstream_too_large"),
	FETCH_COUNTER("upstream_cancelled"),
};

void rec_metrics_register(void)
{
	for (size_t i = 0; i < RL_ARRAY_LEN(fetches); i++)
		metrics_register(&fetches[i]);
	metrics_register(&fetch_seconds);
}

struct worker {
	struct rec_engine *g;
	struct db *db;
	CURL *curl;
};

/* What the claim says to fetch. */
struct job {
	char *ref, *url, *source;
};

static void job_release(struct job *j)
{
	free(j->ref);
	free(j->url);
	free(j->source);
}

static char *col(PGresult *res, int c)
{
	return PQgetisnull(res, 0, c) ? NULL : xstrdup(PQgetvalue(res, 0, c));
}

static void fail_view(struct flight_view *v, enum flight_failure f, const char *msg)
{
	memset(v, 0, sizeof(*v));
	v->state = FLIGHT_FAILED;
	v->failure = f;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

/* ---- claiming, or waiting for another process ----------------------------------- */

enum claim { CLAIMED, SETTLED, CLAIM_FAILED };

static const struct db_stmt claim_stmt = {
	"rec_claim", "SELECT remote_ref, remote_url, attempts, source_name "
		     "FROM ringlog_recording_claim($1, $2, $3)", 3
};

/* Returns 1 when the lease is ours (J filled), 0 when not, -1 (database). */
static int try_claim(struct worker *wk, long long id, struct job *j, struct errbuf *e)
{
	char idt[24], lease[16];
	const char *params[] = { idt, rec_engine_owner(wk->g), lease };
	PGresult *res;
	int rc;

	snprintf(idt, sizeof(idt), "%lld", id);
	snprintf(lease, sizeof(lease), "%d", rec_engine_lease_s(wk->g));
	res = db_exec(wk->db, &claim_stmt, params, e);
	if (!res)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		j->ref = col(res, 0);
		j->url = col(res, 1);
		j->source = col(res, 3);
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt poll_stmt = {
	"rec_poll", "SELECT state, coalesce(lease_until > now(), false), last_error_code, last_error,"
		    " coalesce(greatest(0, ceil(extract(epoch FROM next_attempt_at - now()))), 0)::bigint"
		    " FROM recordings WHERE id = $1", 1
};

/* Reads the row of a flight we could not claim: settled (V filled, 1),
 * leased by another process (0), or -1 (database). */
static int poll_row(struct worker *wk, long long id, struct flight_view *v, struct errbuf *e)
{
	char idt[24];
	const char *params[] = { idt };
	PGresult *res;
	int rc = 1;

	snprintf(idt, sizeof(idt), "%lld", id);
	if (!(res = db_exec(wk->db, &poll_stmt, params, e)))
		return -1;
	memset(v, 0, sizeof(*v));
	if (PQntuples(res) == 0) {
		fail_view(v, FLIGHT_GONE, "the recording no longer exists");
	} else if (strcmp(PQgetvalue(res, 0, 0), "stored") == 0) {
		v->state = FLIGHT_STORED;
	} else if (strcmp(PQgetvalue(res, 0, 0), "failed") == 0 || atoll(PQgetvalue(res, 0, 4)) > 0) {
		fail_view(v, FLIGHT_UPSTREAM, PQgetvalue(res, 0, 3));
		v->error = upstream_error_from_code(PQgetvalue(res, 0, 2));
		v->retry_after = atoll(PQgetvalue(res, 0, 4));
	} else {
		rc = PQgetvalue(res, 0, 1)[0] == 't' ? 0 : 2; /* 2: free again, claim */
	}
	PQclear(res);
	return rc;
}

/* Claims the flight's row, waiting while another fetcher holds its lease
 * (the other process's download ends it: stored or failed). */
static enum claim settle(struct worker *wk, struct flight *fl, struct job *j, struct flight_view *v)
{
	struct errbuf e;
	useconds_t pause = 20000;
	time_t deadline = time(NULL) + 2 * rec_engine_lease_s(wk->g);
	int rc = 0;

	while (!rec_engine_stopping(wk->g) && time(NULL) <= deadline) {
		if ((rc = try_claim(wk, fl->id, j, &e)) == 1)
			return CLAIMED;
		if (rc == 0 && (rc = poll_row(wk, fl->id, v, &e)) == 1)
			return SETTLED;
		if (rc < 0)
			break;
		if (rc == 0) { /* another process is downloading it: its end settles ours */
			usleep(pause);
			pause = pause < 250000 ? pause * 2 : 500000;
		} else {
			usleep(1000); /* free again: a race with another claim */
		}
	}
	if (rec_engine_stopping(wk->g))
		fail_view(v, FLIGHT_STOPPING, "the daemon is stopping");
	else if (rc < 0)
		fail_view(v, FLIGHT_UNAVAILABLE, "the database is unreachable");
	else
		fail_view(v, FLIGHT_UNAVAILABLE, "another fetcher holds this recording's lease");
	return CLAIM_FAILED;
}

/* ---- recording the outcome on the row ------------------------------------------------ */

static const struct db_stmt stored_stmt = {
	"rec_stored",
	"UPDATE recordings SET state = CASE WHEN $8 = '' THEN 'stored' ELSE 'failed' END,"
	" blob_key = $2::text, sha256 = decode($2::text, 'hex'),"
	" size_bytes = $3, mime_type = $4, stored_at = now(), last_error = nullif($8, ''),"
	" last_error_code = CASE WHEN $8 = '' THEN NULL ELSE 'audio_corrupt' END,"
	" original_sha256 = decode($5, 'hex'), original_mime_type = $6, original_size_bytes = $7,"
	" next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL"
	" WHERE id = $1 AND state <> 'stored'", 8
};

/* The row of a download stored as AU says (audio.h): a corrupt one is
 * kept and marked failed with the reason. */
static void record_stored(struct worker *wk, long long id, const struct audio_stored *au,
			  const char *mime)
{
	const struct blob_info *info = &au->info;
	char idt[24], size[24], osize[24];
	const char *params[] = { idt, info->key, size, mime, au->original_key, au->original_mime, osize,
				 au->corrupt ? au->reason : "" };
	struct errbuf e;
	PGresult *res;

	snprintf(idt, sizeof(idt), "%lld", id);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)info->size);
	snprintf(osize, sizeof(osize), "%llu", (unsigned long long)au->original_size);
	res = db_exec(wk->db, &stored_stmt, params, &e);
	if (!res)
		log_msg(LOG_ERR, "recording %lld is in the blob store as %s but not on its row: %s", id,
			info->key, e.msg);
	PQclear(res);
}

/* A failure counts an attempt; the row is retried after a backoff that
 * doubles (with jitter), or marked failed after the last attempt or when
 * retrying cannot help. */
static const struct db_stmt failed_stmt = {
	"rec_failed",
	"UPDATE recordings r SET"
	" state = CASE WHEN $5::boolean OR r.attempts >= $6::bigint THEN 'failed' ELSE 'remote' END,"
	" last_error_code = $2, last_error = $3,"
	" next_attempt_at = CASE WHEN $5::boolean OR r.attempts >= $6::bigint THEN NULL"
	"   ELSE now() + least($7::float8, $4::float8 * power(2, greatest(r.attempts - 1, 0)))"
	"        * (0.8 + random() * 0.4) * interval '1 second' END,"
	" lease_owner = NULL, lease_until = NULL"
	" WHERE r.id = $1 AND r.state = 'remote' AND (r.lease_owner = $8 OR r.lease_owner IS NULL)"
	" RETURNING coalesce(ceil(extract(epoch FROM r.next_attempt_at - now())), 0)::bigint", 8
};

static long long record_failure(struct worker *wk, long long id, const struct upstream_result *r)
{
	const struct fetcher_config *c = wk->g->f->cfg;
	char idt[24], base[24], max_attempts[24], max[24];
	const char *params[] = { idt, upstream_error_code(r->error), r->message, base,
				 upstream_error_is_final(r->error) ? "true" : "false", max_attempts,
				 max, rec_engine_owner(wk->g) };
	struct errbuf e;
	PGresult *res;
	long long retry = 0;

	snprintf(idt, sizeof(idt), "%lld", id);
	snprintf(base, sizeof(base), "%lld", c->fetch_retry_base_s);
	snprintf(max_attempts, sizeof(max_attempts), "%lld", c->fetch_max_attempts);
	snprintf(max, sizeof(max), "%lld", c->fetch_retry_max_s);
	res = db_exec(wk->db, &failed_stmt, params, &e);
	if (!res)
		log_msg(LOG_ERR, "recording %lld: the failed fetch is not on its row: %s", id, e.msg);
	else if (PQntuples(res) == 1)
		retry = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return retry;
}

static const struct db_stmt release_stmt = {
	"rec_release",
	"UPDATE recordings SET lease_owner = NULL, lease_until = NULL,"
	" attempts = greatest(attempts - 1, 0) WHERE id = $1 AND lease_owner = $2", 2
};

/* Not the recording's fault (stopping, our disk): give the lease back
 * without counting the attempt. */
static void release(struct worker *wk, long long id)
{
	char idt[24];
	const char *params[] = { idt, rec_engine_owner(wk->g) };
	struct errbuf e;

	snprintf(idt, sizeof(idt), "%lld", id);
	PQclear(db_exec(wk->db, &release_stmt, params, &e));
}

/* ---- the download ------------------------------------------------------------------------ */

struct download {
	struct worker *wk;
	struct flight *fl;
	char mime[64];
	int64_t length;
	bool started, streaming; /* players get the bytes as they come (audio.h) */
	bool store_failed;
	struct errbuf store_error;
};

static int on_start(void *ctx, const char *mime, int64_t length)
{
	struct download *d = ctx;
	struct fetcher *f = d->wk->g->f;

	d->length = length;
	d->fl->w = blob_put_begin(f->blobs, (uint64_t)f->cfg->recording_max, &d->store_error);
	if (!d->fl->w) {
		d->store_failed = true;
		return -1;
	}
	snprintf(d->mime, sizeof(d->mime), "%s", mime);
	return 0;
}

static int on_data(void *ctx, const void *data, size_t len)
{
	struct download *d = ctx;

	if (!d->started) {
		/* Players may start their answer now, unless what comes is stored
		 * transcoded: then they wait for the stored form. They read
		 * nothing before the first bytes are published. */
		d->started = true;
		d->streaming = audio_plays_as_is(data, len, d->mime, d->wk->g->f->store_format);
		if (d->streaming)
			flight_publish_streaming(d->fl, d->mime, d->length);
	}
	if (blob_write(d->fl->w, data, len, &d->store_error) < 0) {
		d->store_failed = !blob_writer_too_large(d->fl->w);
		return -1;
	}
	if (d->streaming)
		flight_publish_data(d->fl, len);
	return 0;
}

static bool on_cancelled(void *ctx)
{
	return rec_engine_stopping(((struct download *)ctx)->wk->g);
}

/* The source named by the claim, from the cache or the database. A new
 * reference (source_set_unref) in *SET. */
static const struct source *find_source(struct worker *wk, const char *name,
					struct source_set **set)
{
	const struct source *src;
	struct errbuf e;

	*set = source_cache_get(wk->g->f->sources);
	src = name ? source_set_find(*set, name) : NULL;
	if (!src && name) {
		source_set_unref(*set);
		*set = source_set_load_one(wk->db, name, &e);
		src = *set ? source_set_find(*set, name) : NULL;
	}
	return src;
}

/* After a successful download: durable in the store, then on the row. */
static void finish_ok(struct worker *wk, struct download *d, const struct job *j,
		      struct flight_view *v)
{
	struct fetcher *f = wk->g->f;
	struct audio_stored au;
	struct errbuf e;
	char hint[1024];

	/* raw µ-law, A-law, GSM are told by the type, the URL or the reference */
	snprintf(hint, sizeof(hint), "%s\n%.400s\n%.400s", d->mime, j->url ? j->url : "",
		 j->ref ? j->ref : "");
	/* Kept, or transcoded when browsers cannot all play it (audio.h). */
	if (audio_commit(f->blobs, d->fl->w, hint, f->store_format, (uint64_t)f->cfg->recording_max,
			 &au, &e) < 0) {
		release(wk, d->fl->id);
		log_msg(LOG_ERR, "recording %lld not stored: %s", d->fl->id, e.msg);
		fail_view(v, FLIGHT_STORE_FAILED, "the recording could not be stored");
		return;
	}
	record_stored(wk, d->fl->id, &au, au.transcoded ? au.mime : d->mime);
	memset(v, 0, sizeof(*v));
	v->state = FLIGHT_STORED;
	if (au.corrupt)
		log_msg(LOG_WARNING, "recording %lld stored as it came but failed: %s", d->fl->id, au.reason);
	log_msg(LOG_INFO, "recording fetched: id=%lld bytes=%llu type=%s blob=%.12s",
		d->fl->id, (unsigned long long)au.info.size, au.transcoded ? au.mime : d->mime, au.info.key);
}

static void finish_failed(struct worker *wk, struct download *d, const struct upstream_result *r,
			  const char *source, struct flight_view *v)
{
	if (d->store_failed || r->error == UPSTREAM_CANCELLED) {
		release(wk, d->fl->id);
		if (d->store_failed)
			log_msg(LOG_ERR, "recording %lld not stored: %s", d->fl->id, d->store_error.msg);
		fail_view(v, d->store_failed ? FLIGHT_STORE_FAILED : FLIGHT_STOPPING,
			  d->store_failed ? "the recording could not be stored" : "the daemon is stopping");
		return;
	}
	fail_view(v, FLIGHT_UPSTREAM, r->message);
	v->error = r->error;
	v->retry_after = record_failure(wk, d->fl->id, r);
	log_msg(LOG_WARNING, "recording fetch failed: id=%lld source=%s error=%s: %s", d->fl->id,
		source ? source : "-", upstream_error_code(r->error), r->message);
}

static void fetch(struct worker *wk, struct flight *fl, const struct job *j, struct flight_view *v)
{
	struct download d = { .wk = wk, .fl = fl };
	struct upstream_handler h = { &d, on_start, on_data, on_cancelled };
	struct upstream_result r;
	struct source_set *set = NULL;
	const struct source *src = find_source(wk, j->source, &set);
	int64_t t0 = http_monotonic_ns();

	if (!src) {
		memset(&r, 0, sizeof(r));
		r.error = UPSTREAM_NOT_CONFIGURED;
		snprintf(r.message, sizeof(r.message), "the recording's source is unknown");
	} else {
		upstream_get(wk->curl, src, j->ref, j->url, &wk->g->upstream, &h, &r);
	}
	metrics_observe(&fetch_seconds, (double)(http_monotonic_ns() - t0) / 1e9);
	metrics_inc(&fetches[r.error < RL_ARRAY_LEN(fetches) ? r.error : UPSTREAM_ERROR]);
	if (r.error == UPSTREAM_OK)
		finish_ok(wk, &d, j, v);
	else
		finish_failed(wk, &d, &r, j->source, v);
	source_set_unref(set);
}

static void run(struct worker *wk, struct flight *fl)
{
	struct job j = { 0 };
	struct flight_view v;

	if (fl->claimed) {
		j.ref = xstrdup(fl->ref);
		j.url = xstrdup(fl->url);
		j.source = xstrdup(fl->source_name);
	} else if (settle(wk, fl, &j, &v) != CLAIMED) {
		flight_publish_end(fl, &v);
		job_release(&j);
		return;
	}
	fetch(wk, fl, &j, &v);
	flight_publish_end(fl, &v);
	job_release(&j);
}

void *rec_worker_main(void *engine)
{
	struct rec_engine *g = engine;
	struct worker wk = { g, db_new(g->f->cfg->database_url, "ringlog-fetcherd fetch"),
			     curl_easy_init() };
	struct flight *fl;
	struct errbuf e;

	/* Connected before the first play needs it (it reconnects by itself). */
	if (db_connect(wk.db, &e) < 0)
		log_msg(LOG_DEBUG, "fetch worker: %s", e.msg);
	while (wk.curl && (fl = rec_engine_take(g))) {
		run(&wk, fl);
		flight_unref(fl);
	}
	curl_easy_cleanup(wk.curl);
	db_free(wk.db);
	return NULL;
}
