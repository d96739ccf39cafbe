/* Reconciliation: pull the PBX's call log, store it through the push path.
 * See reconcile.h and docs/reconcile.md. */
#include "ringlog/reconcile.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ringlog/buf.h"
#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

#define ANSWER_MAX (64u << 20) /* bytes of one answer */
#define STORE_BATCH 500        /* records per push_commit */
#define SLICE_S 86400          /* the window is read a day at a time */
#define RETRY_AFTER_MAX 120    /* seconds we wait for one 429 at most */
#define LOCK_CLASS 1380142659  /* "RCNC": pg_try_advisory_lock(class, source id) */

enum vendor { V_VOICENTER, V_RINGOSTAT };

struct ctx {
	struct reconcile_run *run;
	enum vendor vendor;
	char *url, *secret;
	long page_size, pace_ms;
	struct timespec last_request;
};

/* Every KIND fail() is given, but "busy" (not a pull: nothing is recorded). */
const char *const reconcile_error_kinds[] = {
	"auth", "rate_limited", "timeout", "http", "bad_answer", "database", "unsupported", "cancelled", NULL,
};

static int fail(struct reconcile_run *run, const char *kind, const char *fmt, ...) RL_PRINTF(3, 4);

static int fail(struct reconcile_run *run, const char *kind, const char *fmt, ...)
{
	va_list ap;

	run->error_kind = kind;
	va_start(ap, fmt);
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
	return -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static long since_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* ---- HTTP --------------------------------------------------------------- */

struct answer {
	struct buf body;
	long retry_after; /* seconds, -1 when none */
	bool too_large;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	if (a->body.len + size * n > ANSWER_MAX) {
		a->too_large = true;
		return 0;
	}
	buf_add(&a->body, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
		a->retry_after = strtol(data + 12, NULL, 10);
	return len;
}

/* One request: POST JSON BODY, or GET when BODY is NULL. Retries 429 (as
 * Retry-After says), 5xx and timeouts with backoff. Returns 0 with the 200
 * answer in A, or -1 with the run's error set. */
static int request(struct ctx *c, const char *url, const char *body, struct answer *a)
{
	struct reconcile_run *run = c->run;
	int tries = run->max_retries > 0 ? run->max_retries : 5;
	long backoff = 1000;

	for (int attempt = 0;; attempt++) {
		CURL *h = curl_easy_init();
		struct curl_slist *hdr = NULL;
		char line[600];
		CURLcode rc;
		long status = 0;

		if (run->cancel && *run->cancel) {
			curl_easy_cleanup(h);
			return fail(run, "cancelled", "stopped");
		}
		if (c->pace_ms > 0 && c->last_request.tv_sec && since_ms(&c->last_request) < c->pace_ms)
			sleep_ms(c->pace_ms - since_ms(&c->last_request));
		clock_gettime(CLOCK_MONOTONIC, &c->last_request);
		buf_release(&a->body);
		a->retry_after = -1;
		a->too_large = false;
		if (c->vendor == V_RINGOSTAT) {
			snprintf(line, sizeof(line), "Auth-key: %s", c->secret);
			hdr = curl_slist_append(hdr, line);
		} else if (body) {
			hdr = curl_slist_append(hdr, "Content-Type: application/json");
		}
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, run->timeout_ms > 0 ? run->timeout_ms : 60000L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "ringlog-reconcile");
		if (body)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
		run->counts.requests++;
		if (rc == CURLE_OK && status == 200)
			return 0;
		if (a->too_large)
			return fail(run, "bad_answer", "the answer is larger than %u MiB", ANSWER_MAX >> 20);
		if (status == 401 || status == 403)
			return fail(run, "auth", "the PBX refused the pull credentials (HTTP %ld)", status);
		if (rc == CURLE_OK && status != 429 && status < 500)
			return fail(run, "http", "the PBX answered HTTP %ld", status);
		if (attempt + 1 >= tries)
			return fail(run, rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
					 : status == 429			 ? "rate_limited"
									 : "http",
				    "gave up after %d tries: %s", tries,
				    rc != CURLE_OK ? curl_easy_strerror(rc) : status == 429 ? "HTTP 429" : "HTTP 5xx");
		if (status == 429 && a->retry_after >= 0) {
			sleep_ms((a->retry_after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : a->retry_after) * 1000);
		} else {
			sleep_ms(backoff);
			backoff *= 2;
		}
	}
}

/* ---- the vendors -------------------------------------------------------- */

/* KEY of O in any case (Voicenter's live answers are lower case). */
static json_object *get_ci(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	if (json_object_object_get_ex(o, key, &v))
		return v;
	json_object_object_foreach(o, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static void copy_ci(json_object *to, const char *to_key, json_object *from, const char *key)
{
	json_object *v = get_ci(from, key);

	if (v && !json_object_is_type(v, json_type_null))
		json_object_object_add(to, to_key, json_object_get(v));
}

/* A Call Log record as the CDR Notification would have sent it (§1.2 keys),
 * so the voicenter profile maps it as it maps a push. */
json_object *reconcile_voicenter_body(json_object *rec)
{
	json_object *b = json_object_new_object(), *t = get_ci(rec, "CdrType");
	int type = t ? json_object_get_int(t) : 0;

	copy_ci(b, "ivruniqueid", rec, "CallID");
	copy_ci(b, "caller", rec, "CallerNumber");
	copy_ci(b, "target", rec, "TargetNumber");
	/* Date is GMT ("…Z"): absolute, unlike the push's local epoch. */
	copy_ci(b, "time", rec, "Date");
	copy_ci(b, "duration", rec, "Duration");
	copy_ci(b, "status", rec, "DialStatus");
	copy_ci(b, "type", rec, "Type");
	copy_ci(b, "targetextension", rec, "TargetExtension");
	copy_ci(b, "callerextension", rec, "CallerExtension");
	copy_ci(b, "did", rec, "DID");
	copy_ci(b, "record", rec, "RecordURL");
	copy_ci(b, "representative_name", rec, "RepresentativeName");
	copy_ci(b, "representative_code", rec, "RepresentativeCode");
	copy_ci(b, "queuename", rec, "QueueName");
	copy_ci(b, "price", rec, "Price");
	copy_ci(b, "dialtime", rec, "RingTime");
	copy_ci(b, "cdrtype", rec, "CdrType");
	/* CdrType ids (§1.7): the direction a CRM module reads from them. */
	if (type == 1 || type == 8 || type == 11 || type == 18 || type == 19)
		json_object_object_add(b, "direction", json_object_new_string("incoming"));
	else if (type == 4 || type == 9 || type == 10 || type == 14 || type == 15)
		json_object_object_add(b, "direction", json_object_new_string("outgoing"));
	return b;
}

static void utc_text(int64_t t, char out[32], bool iso)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm);
}

/* T as wall-clock time in the source's zone (Ringostat's from/to). */
static int zone_text(struct ctx *c, int64_t t, char out[32])
{
	static const struct db_stmt st = {
		"reconcile_zone_text",
		"SELECT to_char(to_timestamp($1::double precision) AT TIME ZONE $2, "
		"'YYYY-MM-DD HH24:MI:SS')",
		2
	};
	char num[24];
	const char *params[] = { num, c->run->src->time_zone };
	struct errbuf e;
	PGresult *res;

	snprintf(num, sizeof(num), "%lld", (long long)t);
	res = db_exec(c->run->db, &st, params, &e);
	if (!res)
		return fail(c->run, "database", "%s", e.msg);
	snprintf(out, 32, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static char *escape(const char *s)
{
	CURL *h = curl_easy_init();
	char *e = curl_easy_escape(h, s, 0), *out = xstrdup(e);

	curl_free(e);
	curl_easy_cleanup(h);
	return out;
}

/* Voicenter's rate limit is ERROR_NUMBER 1 in a 200 answer: waited out
 * with backoff as a 429 is, within the same number of tries. Returns the
 * parsed answer (caller puts; NULL when it is no JSON), or NULL with the
 * run's error set (*FAILED). */
static json_object *voicenter_ask(struct ctx *c, const char *body, struct answer *ans, bool *failed)
{
	int tries = c->run->max_retries > 0 ? c->run->max_retries : 5;
	long backoff = 1000;

	for (int attempt = 0;; attempt++) {
		json_object *doc, *err;

		if (request(c, c->url, body, ans) < 0) {
			*failed = true;
			return NULL;
		}
		doc = json_tokener_parse(buf_str(&ans->body));
		err = get_ci(doc, "ERROR_NUMBER");
		if (!err || json_object_get_int(err) != 1 || attempt + 1 >= tries)
			return doc;
		json_object_put(doc);
		sleep_ms(backoff);
		backoff *= 2;
	}
}

/* Reads [A, B] (inclusive seconds). Returns the records (caller puts),
 * with *FULL when the answer may not hold all of them (split the window),
 * or NULL with the run's error set. */
static json_object *fetch(struct ctx *c, int64_t a, int64_t b, bool *full)
{
	struct answer ans = { BUF_INIT, -1, false };
	json_object *doc = NULL, *list = NULL;
	char from[32], to[32];
	struct buf url = BUF_INIT, body = BUF_INIT;
	bool failed = false;

	*full = false;
	if (c->vendor == V_VOICENTER) {
		json_object *o = json_object_new_object(), *search = json_object_new_object();

		utc_text(a, from, true);
		utc_text(b, to, true);
		json_object_object_add(o, "code", json_object_new_string(c->secret));
		json_object_object_add(search, "fromdate", json_object_new_string(from));
		json_object_object_add(search, "todate", json_object_new_string(to));
		json_object_object_add(o, "search", search);
		buf_adds(&body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		doc = voicenter_ask(c, buf_str(&body), &ans, &failed);
		if (failed)
			goto out;
	} else {
		char *f, *t;

		if (zone_text(c, a, from) < 0 || zone_text(c, b, to) < 0)
			goto out;
		f = escape(from);
		t = escape(to);
		buf_adds(&url, c->url);
		buf_adds(&url, strchr(c->url, '?') ? "&" : "?");
		buf_adds(&url, "export_type=json&order=calldate%20asc&from=");
		buf_adds(&url, f);
		buf_adds(&url, "&to=");
		buf_adds(&url, t);
		free(f);
		free(t);
		if (request(c, buf_str(&url), NULL, &ans) < 0)
			goto out;
		doc = json_tokener_parse(buf_str(&ans.body));
	}
	if (c->vendor == V_VOICENTER) {
		json_object *err = get_ci(doc, "ERROR_NUMBER"), *total = get_ci(doc, "TOTAL_HITS");
		int code = err ? json_object_get_int(err) : 0;

		if (code == 2 || code == 4) {
			fail(c->run, "auth", "Voicenter refused the pull: error %d (%s)", code,
			     code == 2 ? "authentication" : "IP not authorised");
			goto out;
		}
		if (code != 0) {
			fail(c->run, code == 1 ? "rate_limited" : "bad_answer", "Voicenter answered error %d: %.100s",
			     code, json_object_get_string(get_ci(doc, "ERROR_DESCRIPTION")));
			goto out;
		}
		list = get_ci(doc, "CDR_LIST");
		if (list && json_object_is_type(list, json_type_array))
			*full = (total && json_object_get_int64(total) > (int64_t)json_object_array_length(list)) ||
				(long)json_object_array_length(list) >= c->page_size;
	} else {
		list = json_object_is_type(doc, json_type_array) ? doc : NULL;
		if (list)
			*full = (long)json_object_array_length(list) >= c->page_size;
	}
	if (!list || !json_object_is_type(list, json_type_array)) {
		fail(c->run, "bad_answer", "the call log answer is not the list expected");
		list = NULL;
		goto out;
	}
	json_object_get(list);
out:
	json_object_put(doc);
	buf_release(&ans.body);
	buf_release(&url);
	buf_release(&body);
	return list;
}

/* ---- storing ------------------------------------------------------------ */

/* How many of the IDS (a JSON array) are already stored. */
static long long known(struct ctx *c, json_object *ids)
{
	static const struct db_stmt st = {
		"reconcile_known",
		"SELECT count(*) FROM call_keys WHERE source_id = $1::bigint"
		" AND pbx_call_id IN (SELECT jsonb_array_elements_text($2::jsonb))",
		2
	};
	char sid[24];
	const char *params[] = { sid, json_object_to_json_string(ids) };
	struct errbuf e;
	PGresult *res;
	long long n;

	snprintf(sid, sizeof(sid), "%lld", c->run->src->id);
	res = db_exec(c->run->db, &st, params, &e);
	if (!res) {
		fail(c->run, "database", "%s", e.msg);
		return -1;
	}
	n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Stores RECS[from, to) through the push path. */
static int store(struct ctx *c, json_object *recs, size_t from, size_t to)
{
	struct reconcile_run *run = c->run;
	size_t n = to - from;
	struct push *p = xcalloc(n, sizeof(*p));
	struct push_result *r = xcalloc(n, sizeof(*r));
	struct push_item *items = xcalloc(n, sizeof(*items));
	char **bodies = xcalloc(n, sizeof(*bodies));
	json_object *ids = json_object_new_array();
	struct timespec now;
	long long prepared = 0;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(recs, from + i);
		json_object *b = c->vendor == V_VOICENTER ? reconcile_voicenter_body(rec) : json_object_get(rec);

		bodies[i] = xstrdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
		json_object_put(b);
		p[i] = (struct push){
			.source = run->src->name,
			.method = "POST",
			.content_type = "application/json",
			.query = "",
			.body = bodies[i],
			.body_len = strlen(bodies[i]),
			.request_id = "reconcile",
			.received_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000,
			.origin = "reconcile",
		};
		items[i] = (struct push_item){ &p[i], push_prepare(run->src, &p[i], run->push, &r[i]), &r[i],
					       push_dead_letter_budget(run->src, run->push) };
		if (items[i].ready) {
			prepared++;
			json_object_array_add(ids, json_object_new_string(r[i].call_id));
		}
	}
	run->counts.seen += (long long)n;
	if (run->dry_run) {
		long long k = known(c, ids);

		if (k < 0) {
			rc = -1;
		} else {
			run->counts.already += k;
			run->counts.filled += prepared - k;
			run->counts.refused += (long long)n - prepared;
		}
	} else {
		push_commit(run->db, items, n, 0);
		for (size_t i = 0; i < n; i++) {
			if (r[i].db_down) {
				rc = fail(run, "database", "PostgreSQL went away: %s", r[i].message);
				break;
			}
			if (r[i].outcome == PUSH_STORED)
				run->counts.filled++;
			else if (push_is_success(r[i].outcome))
				run->counts.already++;
			else
				run->counts.refused++;
		}
	}
	for (size_t i = 0; i < n; i++) {
		push_ready_free(items[i].ready);
		free(bodies[i]);
	}
	json_object_put(ids);
	free(p);
	free(r);
	free(items);
	free(bodies);
	return rc;
}

/* Reads and stores [A, B]; a window whose answer may be cut is read again
 * as two halves. */
static int window(struct ctx *c, int64_t a, int64_t b)
{
	bool full;
	json_object *recs = fetch(c, a, b, &full);
	size_t n;
	int rc = 0;

	if (!recs)
		return -1;
	if (full && b > a) {
		int64_t mid = a + (b - a) / 2;

		json_object_put(recs);
		return window(c, a, mid) < 0 ? -1 : window(c, mid + 1, b);
	}
	n = json_object_array_length(recs);
	for (size_t i = 0; i < n && rc == 0; i += STORE_BATCH)
		rc = store(c, recs, i, i + STORE_BATCH < n ? i + STORE_BATCH : n);
	json_object_put(recs);
	return rc;
}

static int settings(struct ctx *c)
{
	static const struct db_stmt st = {
		"reconcile_settings",
		"SELECT coalesce(pull_url, ''), coalesce(pull_secret, '') FROM sources WHERE id = $1::bigint", 1
	};
	struct reconcile_run *run = c->run;
	const char *vendor = run->src->profile ? run->src->profile->name : "";
	char sid[24];
	const char *params[] = { sid };
	struct errbuf e;
	PGresult *res;

	if (strcmp(vendor, "voicenter") == 0)
		c->vendor = V_VOICENTER;
	else if (strcmp(vendor, "ringostat") == 0)
		c->vendor = V_RINGOSTAT;
	else
		return fail(run, "unsupported",
			    "source %s: only voicenter and ringostat sources can be reconciled", run->src->name);
	snprintf(sid, sizeof(sid), "%lld", run->src->id);
	res = db_exec(run->db, &st, params, &e);
	if (!res)
		return fail(run, "database", "%s", e.msg);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return fail(run, "unsupported", "source %s is gone", run->src->name);
	}
	c->url = xstrdup(*PQgetvalue(res, 0, 0) ? PQgetvalue(res, 0, 0)
			 : c->vendor == V_VOICENTER ? "https://api.voicenter.com/hub/cdr/"
						    : "https://api.ringostat.net/calls/list");
	c->secret = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!*c->secret)
		return fail(run, "auth", "source %s has no pull secret (--pull-secret-file)", run->src->name);
	c->page_size = run->page_size > 0 ? run->page_size : c->vendor == V_VOICENTER ? 10000 : 6500;
	/* Voicenter: about 30 requests a minute. */
	c->pace_ms = run->pace_ms >= 0 ? run->pace_ms : c->vendor == V_VOICENTER ? 2000 : 500;
	return 0;
}

static int lock(struct reconcile_run *run, bool take)
{
	static const struct db_stmt take_st = {
		"reconcile_lock", "SELECT pg_try_advisory_lock(1380142659, $1::int)", 1
	};
	static const struct db_stmt give_st = {
		"reconcile_unlock", "SELECT pg_advisory_unlock(1380142659, $1::int)", 1
	};
	char sid[24];
	const char *params[] = { sid };
	struct errbuf e;
	PGresult *res;
	bool got;

	snprintf(sid, sizeof(sid), "%lld", run->src->id);
	res = db_exec(run->db, take ? &take_st : &give_st, params, &e);
	if (!res)
		return take ? fail(run, "database", "%s", e.msg) : -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (take && !got)
		return fail(run, "busy", "source %s is being reconciled elsewhere", run->src->name);
	return 0;
}

int reconcile(struct reconcile_run *run)
{
	struct ctx c = { .run = run };
	int rc = -1;

	memset(&run->counts, 0, sizeof(run->counts));
	run->error_kind = NULL;
	run->error[0] = '\0';
	if (run->to <= run->from)
		return fail(run, "unsupported", "the window is empty");
	if (lock(run, true) < 0)
		return -1;
	if (settings(&c) < 0)
		goto out;
	for (int64_t a = run->from; a < run->to; a += SLICE_S) {
		int64_t b = a + SLICE_S < run->to ? a + SLICE_S : run->to;

		if (window(&c, a, b - 1) < 0)
			goto out;
		if (run->progress)
			run->progress(run->ctx, b, &run->counts);
	}
	rc = 0;
out:
	(void)lock(run, false);
	free(c.url);
	free(c.secret);
	return rc;
}

int reconcile_record(struct db *db, const struct reconcile_run *run)
{
	/* filled is not here: ringlog_reconcile_filled counts the calls in
	 * the transactions that store them. */
	static const struct db_stmt st = {
		"reconcile_record",
		"INSERT INTO reconcile_state AS s (source_id, last_run_at, last_ok_at, pulled_until, seen,"
		" refused, errors, last_error)"
		" VALUES ($1::bigint, now(), CASE WHEN $2 = '' THEN now() END,"
		"  CASE WHEN $2 = '' THEN to_timestamp($3::double precision) END, $4::bigint,"
		"  $5::bigint, CASE WHEN $2 = '' THEN '{}' ELSE jsonb_build_object($2, 1) END, nullif($6, ''))"
		" ON CONFLICT (source_id) DO UPDATE SET last_run_at = now(),"
		"  last_ok_at = coalesce(EXCLUDED.last_ok_at, s.last_ok_at),"
		"  pulled_until = coalesce(EXCLUDED.pulled_until, s.pulled_until),"
		"  seen = s.seen + EXCLUDED.seen, refused = s.refused + EXCLUDED.refused,"
		"  errors = CASE WHEN $2 = '' THEN s.errors"
		"   ELSE s.errors || jsonb_build_object($2, coalesce((s.errors->>$2)::bigint, 0) + 1) END,"
		"  last_error = CASE WHEN $2 = '' THEN s.last_error ELSE EXCLUDED.last_error END",
		6
	};
	char sid[24], until[24], seen[24], refused[24];
	const char *params[] = { sid, run->error_kind ? run->error_kind : "", until, seen, refused, run->error };
	struct errbuf e;
	PGresult *res;

	snprintf(sid, sizeof(sid), "%lld", run->src->id);
	snprintf(until, sizeof(until), "%lld", (long long)run->to);
	snprintf(seen, sizeof(seen), "%lld", run->counts.seen);
	snprintf(refused, sizeof(refused), "%lld", run->counts.refused);
	res = db_exec(db, &st, params, &e);
	if (!res)
		return -1;
	PQclear(res);
	return 0;
}
