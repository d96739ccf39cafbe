/* GET /v1/calls and GET /v1/calls/{id}: the call log, newest first, each
 * call with its lead and its recordings (signed play_url when playable).
 * Keyset pagination on (started_at DESC, id DESC): a page never skips or
 * repeats a call while new ones arrive, and costs the same at any depth. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"

#define CALLS_DEFAULT_LIMIT 50
#define CALLS_MAX_LIMIT 1000
#define CALLS_MAX_SEARCH 64

/* One call as the API shows it, built by PostgreSQL from CALLS, rows of
 * calls (the table or a page of it; aliases c, s, a). */
#define CALL_JSON_OF(calls)                                                                        \
	"json_build_object("                                                                       \
	"'id', c.id, 'source', s.name, 'call_id', c.pbx_call_id, 'direction', c.direction,"        \
	" 'disposition', c.disposition, 'caller', c.caller, 'caller_e164', c.caller_e164,"         \
	" 'caller_name', c.caller_name, 'callee', c.callee, 'callee_e164', c.callee_e164,"         \
	" 'did', c.did, 'agent', c.agent, 'agent_name', c.agent_name, 'agent_user', a.crm_user,"   \
	" 'agent_user_name', a.name,"                                                              \
	" 'started_at', ringlog_utc_text(c.started_at),"                                           \
	" 'answered_at', ringlog_utc_text(c.answered_at),"                                         \
	" 'ended_at', ringlog_utc_text(c.ended_at),"                                               \
	" 'duration_s', c.duration_s, 'billable_s', c.billable_s,"                                 \
	" 'lead', (SELECT json_build_object('id', l.id, 'name', l.name, 'company', l.company,"     \
	"   'phone', l.phone, 'crm_id', l.crm_id, 'crm_url', l.crm_url,"                           \
	"   'responsible', l.responsible, 'status', l.status) FROM leads l WHERE l.id = c.lead_id)," \
	" 'recordings', coalesce((SELECT json_agg(json_build_object('id', r.id,"                   \
	"   'position', r.position, 'state', r.state,"                                             \
	"   'duration_s', coalesce(r.duration_s, c.billable_s), 'size_bytes', r.size_bytes,"       \
	"   'mime_type', r.mime_type,"                                                             \
	"   'error', CASE WHEN r.state = 'failed' THEN r.last_error_code END,"                     \
	"   '_ref', r.remote_ref, '_url', r.remote_url, '_error_code', r.last_error_code)"         \
	"   ORDER BY r.position)"                                                                  \
	"   FROM recordings r WHERE r.call_id = c.id), '[]'))"                                     \
	" FROM " calls " c JOIN sources s ON s.id = c.source_id"                                   \
	" LEFT JOIN agents a ON a.source_id = c.source_id AND a.extension = c.agent"

/* The list's filters but phone and agent, on a call c and its agent a
 * ($n as read_filters sets them; a filter not asked for is NULL). OFFSET 0
 * keeps has_recording a probe of the recordings index for each call the
 * page reads: without it PostgreSQL may hash every recording instead, once
 * per partition (130 ms at 100,000 calls, for a 1 ms page). */
#define CALLS_FILTER                                                                               \
	"($1::bigint IS NULL OR c.lead_id = $1)"                                                   \
	" AND ($4::bigint IS NULL OR c.source_id = $4)"                                            \
	" AND ($5::text IS NULL OR c.started_at >= ringlog_query_bound($5, $7, false))"            \
	" AND ($6::text IS NULL OR c.started_at < ringlog_query_bound($6, $7, true))"              \
	" AND ($8::text IS NULL OR c.direction = $8)"                                              \
	" AND ($9::text IS NULL OR c.disposition = $9)"                                            \
	" AND ($10::boolean IS NULL OR"                                                            \
	"      EXISTS (SELECT 1 FROM recordings r WHERE r.call_id = c.id OFFSET 0) = $10)"         \
	" AND ($11::bigint IS NULL OR (c.started_at, c.id) <"                                      \
	"      (timestamptz 'epoch' + $11::bigint * interval '1 microsecond', $12::bigint))"       \
	" AND ($14::text IS NULL OR c.caller_name ILIKE $14 OR c.agent_name ILIKE $14"             \
	"      OR a.name ILIKE $14 OR a.crm_user ILIKE $14 OR c.agent ILIKE $14"                   \
	"      OR EXISTS (SELECT 1 FROM leads l WHERE l.id = c.lead_id"                            \
	"                 AND (l.name ILIKE $14 OR l.company ILIKE $14)))"                         \
	" AND ($15::text IS NULL OR c.caller_e164 LIKE $15 OR c.callee_e164 LIKE $15"              \
	"      OR c.caller LIKE $15 OR c.callee LIKE $15 OR c.did LIKE $15)"

/* The first page of the calls matching KEYS (one index's key: a phone as
 * caller, an extension) and CALLS_FILTER, newest first: an index on KEYS
 * and started_at serves it in order and stops at the page's end. */
#define CALLS_BRANCH(keys)                                                                         \
	"(SELECT c.* FROM calls c"                                                                 \
	" LEFT JOIN agents a ON a.source_id = c.source_id AND a.extension = c.agent"               \
	" WHERE " keys " AND " CALLS_FILTER " ORDER BY c.started_at DESC, c.id DESC LIMIT $13)"

/* A phone ($2) is the caller or, on the calls where it is not, the callee;
 * an agent ($3) is an extension on any source, or a CRM user: the
 * extensions mapped to that user, each on its own source. Each pair of
 * these is a branch of its own, and no call is in two of them. */
#define PHONE_CALLER "($2::text IS NULL OR c.caller_e164 = $2)"
#define PHONE_CALLEE "c.callee_e164 = $2 AND c.caller_e164 IS DISTINCT FROM $2"
#define BY_EXTENSION(phone) CALLS_BRANCH(phone " AND ($3::text IS NULL OR c.agent = $3)")
#define BY_USER(phone)                                                                             \
	"(SELECT p.* FROM agents m CROSS JOIN LATERAL "                                            \
	CALLS_BRANCH(phone " AND c.source_id = m.source_id AND c.agent = m.extension") " p"        \
	" WHERE m.crm_user = $3 AND m.extension <> $3 AND ($4::bigint IS NULL OR m.source_id = $4))"

/* The page: the newest of its branches' pages. */
#define CALLS_PAGE(branches)                                                                       \
	"SELECT (extract(epoch FROM c.started_at) * 1000000)::bigint, c.id, "                      \
	CALL_JSON_OF("(SELECT * FROM (" branches ") b ORDER BY started_at DESC, id DESC LIMIT $13)") \
	" ORDER BY c.started_at DESC, c.id DESC"

/* By whether phone (1) and agent (2) are set: the branches that can hold a
 * call; the others, empty, are left out rather than planned. Planned with
 * its values each time (db_exec_planned): the filters that are set decide
 * which index serves each branch. */
static const struct db_stmt list_stmts[4] = {
	{ "fetcher_calls_list", CALLS_PAGE(BY_EXTENSION(PHONE_CALLER)), 15 },
	{ "fetcher_calls_list_phone",
	  CALLS_PAGE(BY_EXTENSION(PHONE_CALLER) " UNION ALL " BY_EXTENSION(PHONE_CALLEE)), 15 },
	{ "fetcher_calls_list_agent",
	  CALLS_PAGE(BY_EXTENSION(PHONE_CALLER) " UNION ALL " BY_USER(PHONE_CALLER)), 15 },
	{ "fetcher_calls_list_phone_agent",
	  CALLS_PAGE(BY_EXTENSION(PHONE_CALLER) " UNION ALL " BY_EXTENSION(PHONE_CALLEE)
		     " UNION ALL " BY_USER(PHONE_CALLER) " UNION ALL " BY_USER(PHONE_CALLEE)), 15 },
};

static const struct db_stmt one_stmt = {
	"fetcher_calls_one", "SELECT " CALL_JSON_OF("calls") " WHERE c.id = $1", 1
};

/* The checked filters of a list request, as statement parameters. */
struct calls_query {
	char lead_id[24], source_id[24], limit[24], after_time[24], after_id[24];
	char phone[PHONE_E164_LEN];
	struct buf words, digits; /* the LIKE patterns of q */
	const char *params[15];
	long long limit_n;
	struct source_set *set;
};

/* The list statement for Q's filters. */
static const struct db_stmt *list_stmt(const struct calls_query *q)
{
	return &list_stmts[(q->params[1] ? 1 : 0) + (q->params[2] ? 2 : 0)];
}

static int read_cursor(struct fetcher *f, struct http_request *req, struct calls_query *q,
		       struct fetcher_bad *b)
{
	const char *text = http_query_param(req, "cursor");
	long long t, id;

	if (!text)
		return 0;
	if (fetcher_cursor_read(f, "calls", text, &t, &id) < 0)
		return fetcher_bad(b, "invalid_cursor", "cursor",
				   "cursor is not one this API gave out (pass next_cursor as it came)");
	snprintf(q->after_time, sizeof(q->after_time), "%lld", t);
	snprintf(q->after_id, sizeof(q->after_id), "%lld", id);
	q->params[10] = q->after_time;
	q->params[11] = q->after_id;
	return 0;
}

/* Appends TEXT to a LIKE pattern, its wildcards and the escape taken
 * literally. */
static void add_like(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
			buf_addch(out, '\\');
		buf_addch(out, text[i]);
	}
}

/* q: a number (digits, with the separators people write) matches the
 * numbers of a call wherever the digits occur in them (a trunk prefix's
 * leading zeros aside); anything else matches names: the lead's name or
 * company, the caller's name, the agent. */
static int read_search(const char *text, struct calls_query *q, struct fetcher_bad *b)
{
	char digits[CALLS_MAX_SEARCH + 1];
	size_t n = 0, len = strlen(text);
	const char *d;

	while (len && text[len - 1] == ' ')
		len--;
	while (len && *text == ' ')
		text++, len--;
	if (len < 2)
		return fetcher_bad(b, "invalid_parameter", "q", "q needs at least 2 characters");
	for (size_t i = 0; i < len && n < CALLS_MAX_SEARCH; i++)
		if (isdigit((unsigned char)text[i]))
			digits[n++] = text[i];
		else if (!strchr("+ -()./", text[i]))
			n = CALLS_MAX_SEARCH + 1;
	if (n >= 3 && n <= CALLS_MAX_SEARCH) {
		digits[n] = '\0';
		for (d = digits; *d == '0' && d[1]; d++)
			;
		buf_addch(&q->digits, '%');
		add_like(&q->digits, d, strlen(d));
		buf_addch(&q->digits, '%');
		q->params[14] = buf_str(&q->digits);
	} else {
		buf_addch(&q->words, '%');
		add_like(&q->words, text, len);
		buf_addch(&q->words, '%');
		q->params[13] = buf_str(&q->words);
	}
	return 0;
}

static int read_filters(struct fetcher *f, struct http_request *req, struct calls_query *q,
			struct fetcher_bad *b)
{
	static const char *const allowed[] = { "lead_id", "phone", "agent", "source", "from", "to",
					       "tz", "direction", "disposition", "has_recording",
					       "limit", "cursor", "q", NULL };
	static const char *const directions[] = { "in", "out", "internal", NULL };
	static const char *const dispositions[] = { "answered", "missed", "busy", "failed",
						    "voicemail", "in_progress", NULL };
	const char *phone, *tz, *search;
	const struct source *src;
	long long lead;
	int rec;

	if (fetcher_params_known(req, allowed, b) < 0 ||
	    fetcher_param_int(req, "lead_id", 1, INT64_MAX, 0, &lead, b) < 0 ||
	    fetcher_param_int(req, "limit", 1, CALLS_MAX_LIMIT, CALLS_DEFAULT_LIMIT, &q->limit_n, b) < 0 ||
	    fetcher_param_source(f, req, &q->set, &src, b) < 0 ||
	    fetcher_param_text(req, "phone", 64, &phone, b) < 0 ||
	    (phone && fetcher_phone(phone, src, "phone", q->phone, b) < 0) ||
	    fetcher_param_text(req, "agent", 256, &q->params[2], b) < 0 ||
	    fetcher_param_time(req, "from", &q->params[4], b) < 0 ||
	    fetcher_param_time(req, "to", &q->params[5], b) < 0 ||
	    fetcher_param_tz(f, req, &tz, b) < 0 ||
	    fetcher_param_choice(req, "direction", directions, &q->params[7], b) < 0 ||
	    fetcher_param_choice(req, "disposition", dispositions, &q->params[8], b) < 0 ||
	    fetcher_param_bool(req, "has_recording", &rec, b) < 0 || read_cursor(f, req, q, b) < 0 ||
	    fetcher_param_text(req, "q", CALLS_MAX_SEARCH, &search, b) < 0)
		return -1;
	if (search && read_search(search, q, b) < 0)
		return -1;
	if (lead)
		snprintf(q->lead_id, sizeof(q->lead_id), "%lld", lead), q->params[0] = q->lead_id;
	if (phone)
		q->params[1] = q->phone;
	if (src)
		snprintf(q->source_id, sizeof(q->source_id), "%lld", src->id), q->params[3] = q->source_id;
	q->params[6] = tz;
	q->params[9] = rec < 0 ? NULL : rec ? "true" : "false";
	/* One more than asked: whether there is a next page. */
	snprintf(q->limit, sizeof(q->limit), "%lld", q->limit_n + 1);
	q->params[12] = q->limit;
	return 0;
}

static json_object *page(struct fetcher *f, PGresult *res, long long limit, const char *user)
{
	struct source_set *set = source_cache_get(f->sources);
	json_object *out = json_object_new_object(), *calls = json_object_new_array();
	int n = PQntuples(res), shown = n > limit ? (int)limit : n;
	long long now = (long long)time(NULL);
	struct buf cursor = BUF_INIT;

	for (int i = 0; i < shown; i++) {
		json_object *call = fetcher_json_parse(PQgetvalue(res, i, 2));

		if (!call)
			continue;
		fetcher_call_links(f, set, call, now, user);
		fetcher_add_call_phones(call);
		json_object_array_add(calls, call);
	}
	json_object_object_add(out, "calls", calls);
	if (n > limit) {
		fetcher_cursor_make(f, "calls", atoll(PQgetvalue(res, shown - 1, 0)),
				    atoll(PQgetvalue(res, shown - 1, 1)), &cursor);
		json_object_object_add(out, "next_cursor", json_object_new_string(buf_str(&cursor)));
	} else {
		json_object_object_add(out, "next_cursor", NULL);
	}
	buf_release(&cursor);
	source_set_unref(set);
	return out;
}

enum MHD_Result fetcher_handle_calls(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct calls_query q = { 0 };
	struct fetcher_bad b;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (read_filters(f, req, &q, &b) < 0) {
		rc = fetcher_reply_bad(req, &b);
		goto out;
	}
	db = fetcher_read_db(f);
	res = db_exec_planned(db, list_stmt(&q), q.params, &e);
	if (!res) {
		rc = fetcher_reply_db_error(req, db, "call log", &e);
		goto out;
	}
	rc = http_reply_json(req, 200, page(f, res, q.limit_n, req->user));
	PQclear(res);
out:
	source_set_unref(q.set);
	buf_release(&q.words);
	buf_release(&q.digits);
	return rc;
}

int fetcher_call_object(struct fetcher *f, struct db *db, long long id, const char *user,
			json_object **out, struct errbuf *e)
{
	char idtext[24];
	const char *params[] = { idtext };
	struct source_set *set;

	snprintf(idtext, sizeof(idtext), "%lld", id);
	if (fetcher_json_row(db, &one_stmt, params, out, e) < 0)
		return -1;
	if (!*out)
		return 0;
	set = source_cache_get(f->sources);
	fetcher_call_links(f, set, *out, (long long)time(NULL), user);
	source_set_unref(set);
	fetcher_add_call_phones(*out);
	return 0;
}

enum MHD_Result fetcher_handle_call(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	json_object *call;
	struct errbuf e;
	struct db *db;
	enum MHD_Result rc;
	long long id;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (!fetcher_path_id(req, &id))
		return http_reply_error(req, 404, "not_found", "a call id is a positive integer");
	db = fetcher_read_db(f);
	if (fetcher_call_object(f, db, id, req->user, &call, &e) < 0)
		return fetcher_reply_db_error(req, db, "call", &e);
	if (!call)
		return http_reply_error(req, 404, "not_found", "no call has id %lld", id);
	return http_reply_json(req, 200, call);
}
