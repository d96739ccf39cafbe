/* Webhook delivery (issue 14). Triggers write one webhook_events row per
 * (event, subscription) in the transaction of the change (sql/035 and
 * sql/functions/ringlog_outbox_*.sql). Here webhook_workers threads, on any
 * number of fetcher nodes, claim due rows with FOR UPDATE SKIP LOCKED and a
 * lease (the claim commits at once: no row lock is held across HTTP; a node
 * killed mid-delivery leaves the row to come back when its lease ends, with
 * the same webhook-id), render the body once (the object the API returns),
 * sign it per Standard Webhooks and POST it with libcurl.
 *
 * Order: an event is claimed only when no earlier event of the same lead
 * for the same subscription is still pending, so the events of one lead
 * reach a subscription in the order they were written (a retrying event
 * holds the later ones back). Events without a lead are unordered.
 * Redirects are not followed (a 3xx is a failure): the signature never
 * goes to a host the subscription did not name. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"
#include "ringlog/b64.h"
#include "ringlog/metrics.h"
#include "ringlog/upstream.h"
#include "ringlog/whsign.h"
#include "ringlog/xalloc.h"

#define WH_MAX_SECRET 64
#define WH_LEASE_EXTRA_S 5
#define WH_PENDING_REFRESH_S 5
#define WH_STATUS_MAX 600
#define WH_SWEEP_S 60

struct webhooks {
	struct fetcher *f;
	int n;
	pthread_t *threads;
	atomic_bool stop;
	struct source allow; /* webhook_allow_hosts as an allow list (upstream_url_allowed) */
	pthread_mutex_t lock;
	pthread_cond_t wake;
};

struct wh_worker {
	struct webhooks *w;
	int index;
	struct db *db;
	CURL *curl;
};

/* ---- metrics ---------------------------------------------------------- */

static atomic_llong pending_events = -1;
static atomic_ullong failures[WH_STATUS_MAX]; /* by HTTP status; 0: no answer */

static double read_pending(void *ctx)
{
	(void)ctx;
	return (double)atomic_load(&pending_events);
}

static void render_failures(struct buf *out, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < WH_STATUS_MAX; i++)
		if (atomic_load(&failures[i]))
			buf_addf(out, "ringlog_webhook_failures_total{status=\"%d\"} %llu\n", i,
				 (unsigned long long)atomic_load(&failures[i]));
}

static const double latency_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600 };
static struct metric m_pending = METRIC_GAUGE_INIT(
	"ringlog_webhook_events_pending", NULL,
	"Webhook events not yet delivered (nor failed for good), refreshed every few seconds.",
	read_pending);
static struct metric m_latency = METRIC_HISTOGRAM_INIT(
	"ringlog_webhook_delivery_seconds", NULL,
	"From the change's commit (the event's row) to the 2xx of its delivery.", latency_bounds);
static struct metric m_delivered = METRIC_COUNTER_INIT(
	"ringlog_webhook_deliveries_total", "outcome=\"delivered\"", "Webhook delivery attempts by outcome.");
static struct metric m_failed = METRIC_COUNTER_INIT(
	"ringlog_webhook_deliveries_total", "outcome=\"failed\"", "Webhook delivery attempts by outcome.");
static struct metric m_failures = {
	.kind = METRIC_COUNTER,
	.name = "ringlog_webhook_failures_total",
	.help = "Failed webhook deliveries by the endpoint's HTTP status (0: no answer: timeout, reset).",
	.render = render_failures,
};
static struct metric m_paused = METRIC_COUNTER_INIT(
	"ringlog_webhook_paused_total", NULL,
	"Subscriptions paused because their endpoint kept failing (see webhook_pause_after).");
static struct metric m_disabled = METRIC_COUNTER_INIT(
	"ringlog_webhook_disabled_total", NULL, "Subscriptions disabled because their endpoint answered 410.");

void fetcher_webhooks_metrics_register(void)
{
	metrics_register(&m_pending);
	metrics_register(&m_latency);
	metrics_register(&m_delivered);
	metrics_register(&m_failed);
	metrics_register(&m_failures);
	metrics_register(&m_paused);
	metrics_register(&m_disabled);
}

/* ---- the database side ----------------------------------------------- */

enum { C_ID, C_TYPE, C_OBJECT, C_RECORDING, C_WHEN, C_BODY, C_HOOK, C_NAME, C_URL, C_KEY, C_OLD_KEY, C_AGE };

/* Due events, oldest first, none of a lead whose earlier event (for that
 * subscription) is still pending; leased for the delivery's timeout. A
 * paused subscription is probed again once its pause_until passes. */
static const struct db_stmt claim_stmt = {
	"webhooks_claim",
	"WITH due AS ("
	" SELECT e.id FROM webhook_events e"
	"  WHERE e.state = 'pending' AND e.next_attempt_at <= clock_timestamp()"
	"    AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = e.webhook_id AND (w.state = 'active'"
	"                OR (w.state = 'paused' AND w.pause_until <= clock_timestamp())))"
	"    AND (e.lead_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_events p"
	"         WHERE p.webhook_id = e.webhook_id AND p.lead_id = e.lead_id"
	"           AND p.state = 'pending' AND p.id < e.id))"
	"  ORDER BY e.next_attempt_at, e.id LIMIT $1 FOR UPDATE OF e SKIP LOCKED)"
	" UPDATE webhook_events e SET attempts = e.attempts + 1, last_attempt_at = clock_timestamp(),"
	"        next_attempt_at = clock_timestamp() + $2::bigint * interval '1 second'"
	"   FROM due, webhooks w WHERE e.id = due.id AND w.id = e.webhook_id"
	" RETURNING e.id, e.type, e.object_id, e.recording_id, ringlog_utc_text(e.occurred_at), e.body,"
	"  w.id, w.name, w.url, encode(w.secret, 'base64'),"
	"  CASE WHEN w.old_secret_until > clock_timestamp() THEN encode(w.old_secret, 'base64') END,"
	"  extract(epoch FROM clock_timestamp() - e.occurred_at)",
	2
};

static const struct db_stmt bodies_stmt = {
	"webhooks_bodies",
	"UPDATE webhook_events e SET body = coalesce(e.body, v.body)"
	"  FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, body text)"
	" WHERE e.id = v.id RETURNING e.id, e.body", 1
};

static const struct db_stmt dropped_stmt = {
	"webhooks_dropped",
	"UPDATE webhook_events SET state = 'dropped', last_error = $2 WHERE id = $1", 2
};

static const struct db_stmt delivered_stmt = {
	"webhooks_delivered",
	"WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id bigint, status int, hook bigint))"
	" , e AS (UPDATE webhook_events e SET state = 'delivered', delivered_at = clock_timestamp(),"
	"   last_status = v.status, last_error = NULL FROM v WHERE e.id = v.id AND e.state = 'pending'"
	"   RETURNING extract(epoch FROM clock_timestamp() - e.occurred_at) AS age)"
	" , w AS (UPDATE webhooks SET failing_since = NULL, pause_until = NULL,"
	"   state = CASE WHEN state = 'paused' THEN 'active' ELSE state END,"
	"   state_reason = CASE WHEN state = 'paused' THEN NULL ELSE state_reason END"
	"   WHERE id IN (SELECT hook FROM v) AND (failing_since IS NOT NULL OR state = 'paused'))"
	" SELECT age FROM e",
	1
};

/* A failed attempt: retried after base * 2^(attempts-1) seconds (at most
 * retry_max), times a jitter in [0.5, 1); kept as failed once the event is
 * older than retry_for. The subscription failing for longer than
 * pause_after is paused (the answer says so, once, for the log). */
static const struct db_stmt failed_stmt = {
	"webhooks_failed",
	"WITH e AS (UPDATE webhook_events e SET last_status = $2, last_error = $3,"
	"   state = CASE WHEN clock_timestamp() - e.occurred_at > $6::bigint * interval '1 second'"
	"                THEN 'failed' ELSE 'pending' END,"
	"   next_attempt_at = clock_timestamp() + least($5::float8, $4::float8 * power(2, greatest(e.attempts - 1, 0)))"
	"        * (0.5 + random() * 0.5) * interval '1 second'"
	"   WHERE e.id = $1 AND e.state = 'pending' RETURNING e.state)"
	" , w AS (UPDATE webhooks w SET failing_since = coalesce(w.failing_since, clock_timestamp()),"
	"   state = CASE WHEN w.state = 'active' AND w.failing_since < clock_timestamp() - $7::bigint * interval '1 second'"
	"           THEN 'paused' ELSE w.state END,"
	"   state_reason = CASE WHEN w.state = 'active' AND w.failing_since < clock_timestamp() - $7::bigint * interval '1 second'"
	"           THEN 'failing since ' || ringlog_utc_text(w.failing_since) ELSE w.state_reason END,"
	"   pause_until = CASE WHEN w.state <> 'disabled' AND w.failing_since < clock_timestamp() - $7::bigint * interval '1 second'"
	"           THEN clock_timestamp() + $5::bigint * interval '1 second' ELSE w.pause_until END"
	"   WHERE w.id = $8 RETURNING (SELECT state FROM webhooks WHERE id = $8) AS was, w.state)"
	" SELECT (SELECT state FROM e), (SELECT was FROM w), (SELECT state FROM w)",
	8
};

static const struct db_stmt gone_stmt = {
	"webhooks_gone",
	"WITH e AS (UPDATE webhook_events SET state = 'failed', last_status = 410, last_error = $2"
	"   WHERE id = $1 AND state = 'pending')"
	" UPDATE webhooks SET state = 'disabled', state_reason = $2 WHERE id = $3 AND state <> 'disabled'"
	" RETURNING id",
	3
};

static const struct db_stmt release_stmt = {
	"webhooks_release",
	"UPDATE webhook_events SET next_attempt_at = clock_timestamp(), attempts = greatest(attempts - 1, 0)"
	" WHERE id = $1 AND state = 'pending'", 1
};

static const struct db_stmt pending_stmt = {
	"webhooks_pending",
	"SELECT count(*) FROM webhook_events e JOIN webhooks w ON w.id = e.webhook_id"
	" WHERE e.state = 'pending' AND w.state <> 'disabled'", 0
};

/* ---- one delivery ----------------------------------------------------- */

struct event {
	const char *id, *type, *when, *hook, *name, *url, *key, *old_key;
	long long object_id, recording_id;
	char msg_id[32];
};

/* The event's body: {"type","timestamp","data"} (and "recording_id" for a
 * recording's events); NULL with *GONE when its object no longer exists, or
 * NULL on a database error (E). */
static char *render_body(struct wh_worker *wk, const struct event *ev, bool *gone, struct errbuf *e)
{
	json_object *data = NULL, *body;
	char *out;
	int rc;

	*gone = false;
	if (strncmp(ev->type, "call.", 5) == 0 || strncmp(ev->type, "recording.", 10) == 0)
		rc = fetcher_call_object(wk->w->f, wk->db, ev->object_id, NULL, &data, e);
	else if (strncmp(ev->type, "lead.", 5) == 0)
		rc = fetcher_lead_object(wk->w->f, wk->db, ev->object_id, &data, e);
	else
		rc = fetcher_task_object(wk->db, ev->object_id, &data, e);
	if (rc < 0)
		return NULL;
	if (!data) {
		*gone = true;
		return NULL;
	}
	body = json_object_new_object();
	json_object_object_add(body, "type", json_object_new_string(ev->type));
	json_object_object_add(body, "timestamp", json_object_new_string(ev->when));
	if (ev->recording_id > 0)
		json_object_object_add(body, "recording_id", json_object_new_int64(ev->recording_id));
	json_object_object_add(body, "data", data);
	out = xstrdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return out;
}

static size_t discard(char *ptr, size_t size, size_t n, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * n;
}

static int progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return atomic_load(&((struct webhooks *)ctx)->stop) ? 1 : 0;
}

/* The signature header: the key's, and during a rotation the old key's. */
static void signatures(const struct event *ev, long long ts, const char *body, struct buf *out)
{
	const char *keys[] = { ev->key, ev->old_key };

	buf_adds(out, "webhook-signature: ");
	for (size_t i = 0; i < 2; i++) {
		struct buf key = BUF_INIT;
		struct errbuf e;

		if (!keys[i] || b64_decode(keys[i], strlen(keys[i]), &key, &e) < 0 || !key.len) {
			buf_release(&key);
			continue;
		}
		if (i)
			buf_addch(out, ' ');
		whsign_sign((const unsigned char *)key.data, key.len, ev->msg_id, ts, body, strlen(body), out);
		buf_release(&key);
	}
}

/* POSTs BODY. Returns the HTTP status, or 0 with MSG filled when none came;
 * -1 when the daemon is stopping. */
static long post(struct wh_worker *wk, const struct event *ev, const char *body, char *msg, size_t size)
{
	const struct fetcher_config *c = wk->w->f->cfg;
	struct curl_slist *h = NULL;
	struct buf line = BUF_INIT;
	char errtext[CURL_ERROR_SIZE] = "";
	long long ts = (long long)time(NULL);
	long status = 0;
	CURLcode rc;

	/* No list: any http(s) URL that parses (it is its own origin). */
	if (wk->w->allow.fetch_allow_hosts ? !upstream_url_allowed(&wk->w->allow, ev->url)
					   : !upstream_url_same_origin(ev->url, ev->url)) {
		snprintf(msg, size, "the URL's host is not in webhook_allow_hosts");
		return 0;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: ringlog-webhooks/1");
	h = curl_slist_append(h, "Expect:");
	buf_addf(&line, "webhook-id: %s", ev->msg_id);
	h = curl_slist_append(h, line.data);
	buf_reset(&line);
	buf_addf(&line, "webhook-timestamp: %lld", ts);
	h = curl_slist_append(h, line.data);
	buf_reset(&line);
	signatures(ev, ts, body, &line);
	h = curl_slist_append(h, line.data);
	buf_release(&line);

	curl_easy_reset(wk->curl);
	curl_easy_setopt(wk->curl, CURLOPT_URL, ev->url);
	curl_easy_setopt(wk->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(wk->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(wk->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(wk->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->webhook_connect_timeout_s * 1000));
	curl_easy_setopt(wk->curl, CURLOPT_TIMEOUT_MS, (long)(c->webhook_timeout_s * 1000));
	curl_easy_setopt(wk->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(wk->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(wk->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(wk->curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(wk->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(1 << 20));
	curl_easy_setopt(wk->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(wk->curl, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(wk->curl, CURLOPT_XFERINFODATA, wk->w);
	curl_easy_setopt(wk->curl, CURLOPT_ERRORBUFFER, errtext);
	rc = curl_easy_perform(wk->curl);
	curl_easy_getinfo(wk->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	if (rc == CURLE_ABORTED_BY_CALLBACK)
		return -1;
	if (rc != CURLE_OK && status == 0) {
		snprintf(msg, size, "%s", errtext[0] ? errtext : curl_easy_strerror(rc));
		return 0;
	}
	snprintf(msg, size, "HTTP %ld", status);
	return status;
}

static void exec_quiet(struct wh_worker *wk, const struct db_stmt *st, const char *const *params,
		       const struct event *ev)
{
	struct errbuf e;
	PGresult *res = db_exec(wk->db, st, params, &e);

	if (!res)
		log_msg(LOG_ERR, "webhook %s event %s: cannot record the outcome: %s", ev->name, ev->id, e.msg);
	PQclear(res);
}

static void record_failure(struct wh_worker *wk, const struct event *ev, long status, const char *msg)
{
	const struct fetcher_config *c = wk->w->f->cfg;
	char st[24], base[24], max[24], retry_for[24], pause[24];
	const char *params[] = { ev->id, st, msg, base, max, retry_for, pause, ev->hook };
	struct errbuf e;
	PGresult *res;

	snprintf(st, sizeof(st), "%ld", status);
	snprintf(base, sizeof(base), "%lld", c->webhook_retry_base_s);
	snprintf(max, sizeof(max), "%lld", c->webhook_retry_max_s);
	snprintf(retry_for, sizeof(retry_for), "%lld", c->webhook_retry_for_s);
	snprintf(pause, sizeof(pause), "%lld", c->webhook_pause_after_s);
	atomic_fetch_add(&failures[status > 0 && status < WH_STATUS_MAX ? status : 0], 1);
	metrics_inc(&m_failed);
	res = db_exec(wk->db, &failed_stmt, params, &e);
	if (!res) {
		log_msg(LOG_ERR, "webhook %s event %s: cannot record the failure: %s", ev->name, ev->id, e.msg);
		return;
	}
	if (PQntuples(res) == 1) {
		if (!PQgetisnull(res, 0, 0) && strcmp(PQgetvalue(res, 0, 0), "failed") == 0)
			log_msg(LOG_WARNING, "webhook %s event %s (%s): failed for good after retrying: %s",
				ev->name, ev->msg_id, ev->type, msg);
		if (!PQgetisnull(res, 0, 1) && strcmp(PQgetvalue(res, 0, 1), "active") == 0 &&
		    !PQgetisnull(res, 0, 2) && strcmp(PQgetvalue(res, 0, 2), "paused") == 0) {
			metrics_inc(&m_paused);
			log_msg(LOG_WARNING, "webhook %s paused: its endpoint has failed for over %llds (last: %s); "
				"it is tried again later, or `ringlog webhook resume %s`", ev->name,
				c->webhook_pause_after_s, msg, ev->name);
		}
	}
	PQclear(res);
}

/* Renders the bodies of the batch's events that have none, and keeps them
 * (one statement for the batch; the first rendering wins). BODIES[i] is
 * then the event's body (owned), or NULL: its object is gone (dropped
 * here) or the database failed (the lease brings it back). */
static void prepare_bodies(struct wh_worker *wk, struct event *evs, int n, PGresult *claimed, char **bodies)
{
	json_object *fresh = json_object_new_array();
	struct errbuf e;

	for (int i = 0; i < n; i++) {
		bool gone;
		char *b;

		if (!PQgetisnull(claimed, i, C_BODY)) {
			bodies[i] = xstrdup(PQgetvalue(claimed, i, C_BODY));
			continue;
		}
		b = render_body(wk, &evs[i], &gone, &e);
		if (!b && gone) {
			const char *d[] = { evs[i].id, "its object no longer exists" };
			exec_quiet(wk, &dropped_stmt, d, &evs[i]);
		} else if (!b) {
			log_msg(LOG_WARNING, "webhook %s event %s: cannot render: %s", evs[i].name, evs[i].id, e.msg);
		} else {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "id", json_object_new_int64(atoll(evs[i].id)));
			json_object_object_add(o, "body", json_object_new_string(b));
			json_object_array_add(fresh, o);
		}
		free(b);
	}
	if (json_object_array_length(fresh) > 0) {
		const char *params[] = { json_object_to_json_string_ext(fresh, JSON_C_TO_STRING_PLAIN) };
		PGresult *res = db_exec(wk->db, &bodies_stmt, params, &e);

		if (!res)
			log_msg(LOG_WARNING, "webhooks: cannot keep the bodies of %zu events: %s",
				json_object_array_length(fresh), e.msg);
		for (int r = 0; res && r < PQntuples(res); r++)
			for (int i = 0; i < n; i++)
				if (!bodies[i] && strcmp(evs[i].id, PQgetvalue(res, r, 0)) == 0)
					bodies[i] = xstrdup(PQgetvalue(res, r, 1));
		PQclear(res);
	}
	json_object_put(fresh);
}

/* Sends one event. A 2xx is added to DONE ({"id","status","hook"}) for the
 * batch's mark; the rest is recorded here. */
static void deliver(struct wh_worker *wk, struct event *ev, const char *body, json_object *done)
{
	char msg[CURL_ERROR_SIZE + 64];
	struct errbuf e;
	long status = post(wk, ev, body, msg, sizeof(msg));

	if (status < 0) {
		const char *p[] = { ev->id };
		exec_quiet(wk, &release_stmt, p, ev);
	} else if (status >= 200 && status < 300) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_int64(atoll(ev->id)));
		json_object_object_add(o, "status", json_object_new_int((int)status));
		json_object_object_add(o, "hook", json_object_new_int64(atoll(ev->hook)));
		json_object_array_add(done, o);
		metrics_inc(&m_delivered);
		log_msg(LOG_DEBUG, "webhook %s event %s (%s): delivered, %ld", ev->name, ev->msg_id, ev->type, status);
	} else if (status == 410) {
		const char *p[] = { ev->id, "the endpoint answered 410 Gone", ev->hook };
		PGresult *res = db_exec(wk->db, &gone_stmt, p, &e);

		atomic_fetch_add(&failures[410], 1);
		metrics_inc(&m_failed);
		if (res && PQntuples(res) == 1) {
			metrics_inc(&m_disabled);
			log_msg(LOG_WARNING, "webhook %s disabled: its endpoint answered 410 Gone", ev->name);
		} else if (!res) {
			log_msg(LOG_ERR, "webhook %s: cannot disable it: %s", ev->name, e.msg);
		}
		PQclear(res);
	} else {
		log_msg(LOG_INFO, "webhook %s event %s (%s): attempt failed: %s", ev->name, ev->msg_id, ev->type, msg);
		record_failure(wk, ev, status, msg);
	}
}

/* Marks the batch's 2xx deliveries in one statement. */
static void mark_delivered(struct wh_worker *wk, json_object *done)
{
	const char *params[] = { json_object_to_json_string_ext(done, JSON_C_TO_STRING_PLAIN) };
	struct errbuf e;
	PGresult *res;

	if (json_object_array_length(done) == 0)
		return;
	res = db_exec(wk->db, &delivered_stmt, params, &e);
	if (!res)
		log_msg(LOG_ERR, "webhooks: %zu events delivered, but not marked so (they will be sent again): %s",
			json_object_array_length(done), e.msg);
	for (int i = 0; res && i < PQntuples(res); i++)
		metrics_observe(&m_latency, atof(PQgetvalue(res, i, 0)));
	PQclear(res);
}

/* Claims a batch and delivers it. Returns how many were claimed, or -1. */
static int round_of(struct wh_worker *wk)
{
	const struct fetcher_config *c = wk->w->f->cfg;
	char limit[24], lease[24];
	const char *params[] = { limit, lease };
	struct event *evs;
	char **bodies;
	json_object *done;
	struct errbuf e;
	PGresult *res;
	int n;

	/* Marks need no fsync of their own: one lost in a crash of PostgreSQL
	 * only means the event is sent again, with its id (at least once); it
	 * keeps the delivery threads' commits off the disk ingest waits on. */
	if (db_command(wk->db, "SET synchronous_commit TO off", &e) < 0) {
		log_msg(LOG_WARNING, "webhooks: cannot claim events: %s", e.msg);
		return -1;
	}
	snprintf(limit, sizeof(limit), "%lld", c->webhook_batch);
	snprintf(lease, sizeof(lease), "%lld", c->webhook_timeout_s + c->webhook_connect_timeout_s + WH_LEASE_EXTRA_S);
	res = db_exec(wk->db, &claim_stmt, params, &e);
	if (!res) {
		log_msg(LOG_WARNING, "webhooks: cannot claim events: %s", e.msg);
		return -1;
	}
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 0;
	}
	evs = xcalloc((size_t)n, sizeof(*evs));
	bodies = xcalloc((size_t)n, sizeof(*bodies));
	done = json_object_new_array();
	for (int i = 0; i < n; i++) {
		evs[i] = (struct event){
			.id = PQgetvalue(res, i, C_ID), .type = PQgetvalue(res, i, C_TYPE),
			.when = PQgetvalue(res, i, C_WHEN), .hook = PQgetvalue(res, i, C_HOOK),
			.name = PQgetvalue(res, i, C_NAME), .url = PQgetvalue(res, i, C_URL),
			.key = PQgetvalue(res, i, C_KEY),
			.old_key = PQgetisnull(res, i, C_OLD_KEY) ? NULL : PQgetvalue(res, i, C_OLD_KEY),
			.object_id = atoll(PQgetvalue(res, i, C_OBJECT)),
			.recording_id = PQgetisnull(res, i, C_RECORDING) ? 0 : atoll(PQgetvalue(res, i, C_RECORDING)),
		};
		snprintf(evs[i].msg_id, sizeof(evs[i].msg_id), "msg_%s", evs[i].id);
	}
	prepare_bodies(wk, evs, n, res, bodies);
	for (int i = 0; i < n && !atomic_load(&wk->w->stop); i++)
		if (bodies[i])
			deliver(wk, &evs[i], bodies[i], done);
	mark_delivered(wk, done);
	json_object_put(done);
	for (int i = 0; i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(evs);
	PQclear(res);
	return n;
}

/* Delivered and dropped events past webhook_keep, failed ones past
 * webhook_keep_failed, a bounded batch at a time. */
static const struct db_stmt sweep_stmt = {
	"webhooks_sweep",
	"DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events"
	" WHERE (state IN ('delivered', 'dropped') AND occurred_at < now() - $1::bigint * interval '1 second')"
	"    OR (state = 'failed' AND occurred_at < now() - $2::bigint * interval '1 second') LIMIT 10000)", 2
};

static void sweep(struct wh_worker *wk)
{
	char keep[24], failed[24];
	const char *params[] = { keep, failed };
	struct errbuf e;
	PGresult *res;

	snprintf(keep, sizeof(keep), "%lld", wk->w->f->cfg->webhook_keep_s);
	snprintf(failed, sizeof(failed), "%lld", wk->w->f->cfg->webhook_keep_failed_s);
	res = db_exec(wk->db, &sweep_stmt, params, &e);
	if (!res)
		log_msg(LOG_WARNING, "webhooks: cannot delete old events: %s", e.msg);
	PQclear(res);
}

static void refresh_pending(struct wh_worker *wk)
{
	struct errbuf e;
	PGresult *res = db_exec(wk->db, &pending_stmt, NULL, &e);

	if (res && PQntuples(res) == 1)
		atomic_store(&pending_events, atoll(PQgetvalue(res, 0, 0)));
	PQclear(res);
}

static void nap(struct webhooks *w, long long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stop))
		if (pthread_cond_timedwait(&w->wake, &w->lock, &until) != 0)
			break;
	pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
	struct wh_worker *wk = arg;
	const struct fetcher_config *c = wk->w->f->cfg;
	time_t refreshed = 0, swept = 0;

	while (!atomic_load(&wk->w->stop)) {
		int got = round_of(wk);

		if (wk->index == 0 && time(NULL) - refreshed >= WH_PENDING_REFRESH_S) {
			refresh_pending(wk);
			refreshed = time(NULL);
		}
		if (wk->index == 0 && time(NULL) - swept >= WH_SWEEP_S) {
			sweep(wk);
			swept = time(NULL);
		}
		if (got < 0)
			nap(wk->w, 1000);
		else if (got < c->webhook_batch)
			nap(wk->w, c->webhook_poll_ms);
	}
	curl_easy_cleanup(wk->curl);
	db_free(wk->db);
	free(wk);
	return NULL;
}

/* "a b *.c" as a NULL-terminated list; empty: NULL (any host). */
static char **split_hosts(const char *text)
{
	size_t n = 0;
	char **out = NULL;
	const char *p = text ? text : "";

	while (*p) {
		size_t len = strcspn(p, " ,");

		if (len) {
			out = xrealloc(out, (n + 2) * sizeof(*out));
			out[n++] = xstrndup(p, len);
			out[n] = NULL;
		}
		p += len;
		p += strspn(p, " ,");
	}
	return out;
}

struct webhooks *fetcher_webhooks_start(struct fetcher *f, struct errbuf *e)
{
	struct webhooks *w = xcalloc(1, sizeof(*w));

	w->f = f;
	w->allow.fetch_allow_hosts = split_hosts(f->cfg->webhook_allow_hosts);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->threads = xcalloc((size_t)f->cfg->webhook_workers + 1, sizeof(*w->threads));
	for (int i = 0; i < f->cfg->webhook_workers; i++) {
		struct wh_worker *wk = xcalloc(1, sizeof(*wk));

		wk->w = w;
		wk->index = i;
		wk->db = db_new(f->cfg->database_url, "ringlog-fetcherd webhooks");
		wk->curl = curl_easy_init();
		if (!wk->curl || pthread_create(&w->threads[i], NULL, worker_main, wk) != 0) {
			curl_easy_cleanup(wk->curl);
			db_free(wk->db);
			free(wk);
			err_set(e, "cannot start the webhook delivery workers");
			fetcher_webhooks_stop(w);
			return NULL;
		}
		w->n++;
	}
	return w;
}

void fetcher_webhooks_stop(struct webhooks *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	for (char **h = w->allow.fetch_allow_hosts; h && *h; h++)
		free(*h);
	free(w->allow.fetch_allow_hosts);
	free(w->threads);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}
