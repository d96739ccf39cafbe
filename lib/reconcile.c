/* Reconciliation: pull the PBX's call log, store it through the push path.
 * One interpreter of the call-log APIs (struct pull: the vendors' built-in
 * ones, a custom mapping's "pull"): windows, pages, storing. See
 * reconcile.h and docs/reconcile.md. */
#include "ringlog/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile_internal.h"
#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

#define STORE_BATCH 500       /* records per push_commit */
#define SLICE_S 86400         /* the window is read a day at a time */
#define LOCK_CLASS 1380142659 /* "RCNC": pg_try_advisory_lock(class, source id) */

/* Every KIND reconcile_fail() is given, but "busy" (not a pull: nothing is
 * recorded). */
const char *const reconcile_error_kinds[] = {
	"auth", "rate_limited", "timeout", "http", "bad_answer", "database", "unsupported", "cancelled", NULL,
};

/* ---- asking ------------------------------------------------------------- */

/* T as the pull writes its times into OUT. */
static int time_text(struct ctx *c, int64_t t, char out[48])
{
	static const struct db_stmt st = {
		"reconcile_local_time",
		"SELECT floor(extract(epoch FROM to_timestamp($1::double precision) AT TIME ZONE $2))::bigint", 2
	};
	int64_t local = t;

	if (c->pull->time == PULL_TIME_PATTERN && !c->pull->time_utc) {
		char num[24];
		const char *params[] = { num, c->run->src->time_zone };
		struct errbuf e;
		PGresult *res;

		snprintf(num, sizeof(num), "%lld", (long long)t);
		res = db_exec(c->run->db, &st, params, &e);
		if (!res)
			return reconcile_fail(c->run, "database", "%s", e.msg);
		local = atoll(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	pull_time_text(c->pull, t, local, out, 48);
	return 0;
}

/* What one request asks for. */
struct want {
	char from[48], to[48];
	long page;
	const char *cursor;   /* PULL_NEXT_CURSOR: NULL before the first */
	const char *next_url; /* PULL_NEXT_URL: NULL before the first */
};

/* One answer. */
struct page {
	json_object *doc;  /* the answer */
	json_object *list; /* its records, borrowed from doc */
	size_t n;
	int64_t total; /* the window's records as the answer says, -1: not said */
	char *url;     /* what was asked, without a secret */
};

static void page_release(struct page *pg)
{
	json_object_put(pg->doc);
	free(pg->url);
	memset(pg, 0, sizeof(*pg));
}

/* PATH of DOC ("": DOC itself), keys in any case when the pull says so. */
static json_object *find(const struct pull *p, json_object *doc, const char *path)
{
	if (!*path)
		return doc;
	return p->any_case ? reconcile_get_ci(doc, path) : profile_lookup(doc, path);
}

/* True when the query of URL has the parameter NAME. */
static bool has_param(const char *url, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strchr(url, '?'); p; p = strchr(p + 1, '&'))
		if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '=')
			return true;
	return false;
}

/* URL with the secret in its query parameter, when the pull sends it so
 * and the URL (a next page's) does not hold it yet. Caller frees. */
static char *with_secret(struct ctx *c, const char *url)
{
	struct pull_vars v = { .secret = c->secret };
	struct buf b = BUF_INIT;
	char *escaped;

	buf_adds(&b, url);
	if (!c->pull->auth_query || has_param(url, c->pull->auth_query))
		return buf_detach(&b, NULL);
	escaped = pull_url_expand("{secret}", &v);
	buf_addf(&b, "%c%s=%s", strchr(url, '?') ? '&' : '?', c->pull->auth_query, escaped);
	free(escaped);
	return buf_detach(&b, NULL);
}

/* Asks for W. Returns 0 with PG filled (release it), or -1 with the run's
 * error set. */
static int fetch(struct ctx *c, const struct want *w, struct page *pg)
{
	char page[24], size[24];
	struct pull_vars v = { c->url, w->from, w->to, page, w->cursor, size, c->secret };
	char *asked, *body = NULL;
	json_object *total;

	memset(pg, 0, sizeof(*pg));
	snprintf(page, sizeof(page), "%ld", w->page);
	snprintf(size, sizeof(size), "%ld", c->page_size);
	pg->url = w->next_url ? xstrdup(w->next_url) : pull_url_expand(c->pull->url, &v);
	asked = with_secret(c, pg->url);
	if (c->pull->body)
		body = pull_body_expand(c->pull->body, &v, c->pull->time);
	pg->doc = reconcile_ask(c, asked, body);
	free(asked);
	free(body);
	if (!pg->doc)
		return -1;
	pg->list = find(c->pull, pg->doc, c->pull->records);
	if (!pg->list || !json_object_is_type(pg->list, json_type_array))
		return reconcile_fail(c->run, "bad_answer",
				      "the call log answer has no list of records at \"%.80s\"", c->pull->records);
	pg->n = json_object_array_length(pg->list);
	if (pg->n > PULL_PAGE_SIZE_LIMIT)
		return reconcile_fail(c->run, "bad_answer", "an answer holds %zu records, more than %d",
				      pg->n, PULL_PAGE_SIZE_LIMIT);
	total = c->pull->total ? find(c->pull, pg->doc, c->pull->total) : NULL;
	pg->total = total ? json_object_get_int64(total) : -1;
	return 0;
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
		reconcile_fail(c->run, "database", "%s", e.msg);
		return -1;
	}
	n = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* RECORD as the push it stands for (a new reference). */
static json_object *push_body(const struct pull *p, json_object *record)
{
	json_object *inner;

	if (p->to_push)
		return p->to_push(record);
	if (p->record_path && (inner = profile_lookup(record, p->record_path)))
		return json_object_get(inner);
	return json_object_get(record);
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
		json_object *b = push_body(c->pull, rec);

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
				rc = reconcile_fail(run, "database", "PostgreSQL went away: %s", r[i].message);
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

static int store_all(struct ctx *c, json_object *list)
{
	size_t n = json_object_array_length(list);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i += STORE_BATCH)
		rc = store(c, list, i, i + STORE_BATCH < n ? i + STORE_BATCH : n);
	return rc;
}

/* The window [A, B] (inclusive seconds) as the request writes it. */
static int window_times(struct ctx *c, int64_t a, int64_t b, struct want *w)
{
	int64_t to = c->pull->to_exclusive ? b + 1 : b;

	return time_text(c, a, w->from) < 0 || time_text(c, to, w->to) < 0 ? -1 : 0;
}

/* Reads and stores [A, B] in one answer; an answer that may be cut is read
 * again as two halves. */
static int split_window(struct ctx *c, int64_t a, int64_t b)
{
	struct want w = { .page = c->pull->first_page };
	struct page pg = { 0 };
	bool full;
	int rc;

	if (window_times(c, a, b, &w) < 0 || fetch(c, &w, &pg) < 0) {
		page_release(&pg);
		return -1;
	}
	full = (pg.total >= 0 && pg.total > (int64_t)pg.n) ||
	       (c->page_size > 0 && (long)pg.n >= c->page_size);
	if (full && b > a) {
		int64_t mid = a + (b - a) / 2;

		page_release(&pg);
		return split_window(c, a, mid) < 0 ? -1 : split_window(c, mid + 1, b);
	}
	rc = store_all(c, pg.list);
	page_release(&pg);
	return rc;
}

/* After PG: 1 when another page follows (*CURSOR or *NEXT_URL moved on),
 * 0 when the window is done, -1 with the run's error set. */
static int advance(struct ctx *c, const struct page *pg, const char *first_url, char **cursor,
		   char **next_url)
{
	json_object *v;
	const char *text;
	char *resolved;

	if (pg->n == 0 || (c->page_size > 0 && (long)pg->n < c->page_size))
		return 0;
	if (c->pull->next == PULL_NEXT_PAGE)
		return 1;
	v = profile_lookup(pg->doc, c->pull->next_path);
	text = v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : NULL;
	if (!text || !*text || strcmp(text, "false") == 0)
		return 0;
	if (c->pull->next == PULL_NEXT_CURSOR) {
		if (*cursor && strcmp(*cursor, text) == 0)
			return reconcile_fail(c->run, "bad_answer",
					      "the call log answered the cursor it was asked with");
		free(*cursor);
		*cursor = xstrdup(text);
		return 1;
	}
	if (!pull_same_origin(first_url, text, &resolved))
		return reconcile_fail(c->run, "bad_answer",
				      "the next page's URL (at \"%.80s\") is not on the pull URL's scheme, "
				      "host and port: not followed with the pull secret",
				      c->pull->next_path);
	if (*next_url && strcmp(*next_url, resolved) == 0) {
		free(resolved);
		return reconcile_fail(c->run, "bad_answer",
				      "the call log answered the page it was asked for as the next");
	}
	free(*next_url);
	*next_url = resolved;
	return 1;
}

/* Reads and stores [A, B] page by page, each page stored as it comes. */
static int paged_window(struct ctx *c, int64_t a, int64_t b)
{
	struct want w = { 0 };
	char *cursor = NULL, *next_url = NULL, *first_url = NULL;
	int more = 1;

	if (window_times(c, a, b, &w) < 0)
		return -1;
	for (long i = 0; more > 0; i++) {
		struct page pg;

		if (i == c->pull->max_pages) {
			more = reconcile_fail(c->run, "bad_answer",
					      "a day of the call log took more than %ld pages "
					      "(the pull's max_pages)", c->pull->max_pages);
			break;
		}
		w.page = c->pull->first_page + i;
		w.cursor = cursor;
		w.next_url = next_url;
		if (fetch(c, &w, &pg) < 0) {
			more = -1;
		} else {
			if (!first_url)
				first_url = xstrdup(pg.url);
			more = store_all(c, pg.list) < 0 ? -1 : advance(c, &pg, first_url, &cursor, &next_url);
		}
		page_release(&pg);
	}
	free(cursor);
	free(next_url);
	free(first_url);
	return more;
}

static int window(struct ctx *c, int64_t a, int64_t b)
{
	return c->pull->next == PULL_NEXT_SPLIT ? split_window(c, a, b) : paged_window(c, a, b);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int settings(struct ctx *c)
{
	static const struct db_stmt st = {
		"reconcile_settings",
		"SELECT coalesce(pull_url, ''), coalesce(pull_secret, '') FROM sources WHERE id = $1::bigint", 1
	};
	struct reconcile_run *run = c->run;
	const struct source *src = run->src;
	char sid[24];
	const char *params[] = { sid };
	struct errbuf e;
	PGresult *res;

	if (!src->profile)
		return reconcile_fail(run, "unsupported", "source %s: %s", src->name,
				      src->profile_error ? src->profile_error : "no profile");
	c->pull = src->profile->pull ? src->profile->pull : reconcile_vendor_pull(src->vendor);
	if (!c->pull)
		return reconcile_fail(run, "unsupported",
				      "source %s: neither its vendor nor its mapping describes a call log "
				      "to pull (a mapping's \"pull\", docs/reconcile.md)", src->name);
	snprintf(sid, sizeof(sid), "%lld", src->id);
	res = db_exec(run->db, &st, params, &e);
	if (!res)
		return reconcile_fail(run, "database", "%s", e.msg);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return reconcile_fail(run, "unsupported", "source %s is gone", src->name);
	}
	c->url = xstrdup(*PQgetvalue(res, 0, 0) ? PQgetvalue(res, 0, 0)
			 : c->pull->default_url ? c->pull->default_url : "");
	c->secret = xstrdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (!*c->url && strstr(c->pull->url, "{pull_url}"))
		return reconcile_fail(run, "unsupported", "source %s has no pull URL (--pull-url)",
				      src->name);
	if (!*c->secret)
		return reconcile_fail(run, "auth", "source %s has no pull secret (--pull-secret-file)",
				      src->name);
	if (has_control(c->secret))
		return reconcile_fail(run, "auth", "source %s: the pull secret holds a control character",
				      src->name);
	c->page_size = run->page_size > 0 ? run->page_size : c->pull->page_size;
	c->pace_ms = run->pace_ms >= 0 ? run->pace_ms : c->pull->pace_ms;
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
		return take ? reconcile_fail(run, "database", "%s", e.msg) : -1;
	got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (take && !got)
		return reconcile_fail(run, "busy", "source %s is being reconciled elsewhere", run->src->name);
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
		return reconcile_fail(run, "unsupported", "the window is empty");
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
