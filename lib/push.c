#include "ringlog/push.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ringlog/form.h"
#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

#define PUSH_JSON_DEPTH 64

static const char *const outcome_names[] = {
	[PUSH_STORED] = "stored",     [PUSH_UPDATED] = "updated",   [PUSH_DUPLICATE] = "duplicate",
	[PUSH_IGNORED] = "ignored",   [PUSH_REJECTED] = "rejected", [PUSH_FAILED] = "failed",
};

const char *push_outcome_name(enum push_outcome o)
{
	return outcome_names[o];
}

bool push_is_success(enum push_outcome o)
{
	return o == PUSH_STORED || o == PUSH_UPDATED || o == PUSH_DUPLICATE || o == PUSH_IGNORED;
}

static void reject(struct push_result *r, unsigned status, const char *code, const char *field,
		   const char *msg)
{
	r->outcome = PUSH_REJECTED;
	r->status = status;
	r->error = code;
	snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
	snprintf(r->message, sizeof(r->message), "%.500s", msg);
}

/* ---- decoding ----------------------------------------------------------- */

enum body_kind { BODY_JSON, BODY_FORM, BODY_UNSUPPORTED };

static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static enum body_kind classify(const struct push *p)
{
	const char *ct = p->content_type ? p->content_type : "";
	const char *b = p->body;
	size_t i = 0;

	while (*ct == ' ')
		ct++;
	if (media_type_is(ct, "application/json") || media_type_is(ct, "text/json"))
		return BODY_JSON;
	if (media_type_is(ct, "application/x-www-form-urlencoded") ||
	    media_type_is(ct, "application/x-www-form-base64-encoded"))
		return BODY_FORM;
	if (*ct && !media_type_is(ct, "text/plain") && !media_type_is(ct, "application/octet-stream")) {
		const char *plus = strchr(ct, '+');

		/* application/vnd.x+json */
		if (plus && strncasecmp(plus, "+json", 5) == 0)
			return BODY_JSON;
		return BODY_UNSUPPORTED;
	}
	/* No usable type: the first byte tells JSON from a form. */
	while (i < p->body_len && isspace((unsigned char)b[i]))
		i++;
	return i < p->body_len && b[i] == '{' ? BODY_JSON : BODY_FORM;
}

static json_object *decode_json(const char *s, size_t len, struct push_result *r)
{
	json_tokener *tok = json_tokener_new_ex(PUSH_JSON_DEPTH);
	json_object *obj;
	size_t end;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		char msg[256];

		snprintf(msg, sizeof(msg), "the body is not valid JSON: %s at byte %zu",
			 json_tokener_error_desc(json_tokener_get_error(tok)), end);
		reject(r, 400, "invalid_json", NULL, msg);
		json_object_put(obj);
		obj = NULL;
		goto out;
	}
	while (end < len && isspace((unsigned char)s[end]))
		end++;
	if (end != len) {
		reject(r, 400, "invalid_json", NULL, "the body has data after its JSON value");
		goto fail;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		reject(r, 400, "invalid_json", NULL, "the body must be a JSON object");
		goto fail;
	}
	goto out;
fail:
	json_object_put(obj);
	obj = NULL;
out:
	json_tokener_free(tok);
	return obj;
}

static json_object *decode_form(const char *s, size_t len, struct push_result *r)
{
	struct errbuf e;
	json_object *obj = form_parse(s, len, &e);
	char msg[600];

	if (!obj) {
		snprintf(msg, sizeof(msg), "the form is malformed: %s", e.msg);
		reject(r, 400, "invalid_form", NULL, msg);
	}
	return obj;
}

/* Query parameters of a POST join the payload where the body does not
 * already have the key (FreeSWITCH sends ?uuid=…), so nothing is dropped. */
static int merge_query(json_object *payload, const char *query, struct push_result *r)
{
	json_object *q;

	if (!query || !*query)
		return 0;
	q = decode_form(query, strlen(query), r);
	if (!q)
		return -1;
	json_object_object_foreach(q, key, val) {
		if (!json_object_object_get_ex(payload, key, NULL))
			json_object_object_add(payload, key, json_object_get(val));
	}
	json_object_put(q);
	return 0;
}

json_object *push_decode(const struct push *p, struct push_result *r)
{
	json_object *payload;

	if (p->body_len == 0 || strcmp(p->method, "GET") == 0) {
		const char *q = p->query ? p->query : "";

		return decode_form(q, strlen(q), r);
	}
	switch (classify(p)) {
	case BODY_JSON:
		payload = decode_json(p->body, p->body_len, r);
		break;
	case BODY_FORM:
		payload = decode_form(p->body, p->body_len, r);
		break;
	default:
		reject(r, 415, "unsupported_media_type", NULL,
		       "send application/json or application/x-www-form-urlencoded");
		return NULL;
	}
	if (payload && merge_query(payload, p->query, r) < 0) {
		json_object_put(payload);
		payload = NULL;
	}
	return payload;
}

/* ---- storing ------------------------------------------------------------ */

static const char *e164_or_null(const char *raw, const struct source *src, char buf[PHONE_E164_LEN])
{
	return raw && phone_normalize(raw, &src->phone, buf) == 0 ? buf : NULL;
}

static char *recordings_json(const struct cdr *c)
{
	json_object *arr = json_object_new_array();
	char *text;

	for (size_t i = 0; i < CDR_MAX_RECORDINGS; i++) {
		const struct cdr_recording *rec = &c->recordings[i];
		json_object *o;

		if (!rec->ref && !rec->url)
			continue;
		o = json_object_new_object();
		if (rec->ref)
			json_object_object_add(o, "ref", json_object_new_string(rec->ref));
		if (rec->url)
			json_object_object_add(o, "url", json_object_new_string(rec->url));
		json_object_array_add(arr, o);
	}
	text = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return text;
}

static void format_time(const struct rltime *t, char out[RLTIME_TEXT_LEN], const char **param)
{
	if (!t->set) {
		*param = NULL;
		return;
	}
	rltime_format(t, out);
	*param = out;
}

static void format_count(long long v, char out[24], const char **param)
{
	if (v < 0) {
		*param = NULL;
		return;
	}
	snprintf(out, 24, "%lld", v);
	*param = out;
}

static void received_text(int64_t us, char out[RLTIME_TEXT_LEN])
{
	struct rltime t = { .set = true, .naive = false, .sec = us / 1000000, .usec = (int32_t)(us % 1000000) };

	rltime_format(&t, out);
}

static const struct db_stmt ingest_stmt = {
	"push_ingest_call",
	"SELECT call_id, outcome FROM ringlog_ingest_call("
	"$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
	"$19, $20, $21)",
	21
};

static void store_call(struct db *db, const struct source *src, const struct cdr *c,
		       const char *raw, int64_t received_us, struct push_result *r)
{
	char id[24], started[RLTIME_TEXT_LEN], answered[RLTIME_TEXT_LEN], ended[RLTIME_TEXT_LEN];
	char duration[24], billable[24], received[RLTIME_TEXT_LEN];
	char caller_e164[PHONE_E164_LEN], callee_e164[PHONE_E164_LEN];
	char *recs = recordings_json(c);
	const char *params[21];
	struct errbuf e;
	PGresult *res;
	const char *outcome;

	snprintf(id, sizeof(id), "%lld", src->id);
	received_text(received_us, received);
	params[0] = id;
	params[1] = c->call_id;
	params[2] = cdr_direction_name(c->direction);
	params[3] = cdr_disposition_name(c->disposition);
	params[4] = c->caller;
	params[5] = e164_or_null(c->caller, src, caller_e164);
	params[6] = c->caller_name;
	params[7] = c->callee;
	params[8] = e164_or_null(c->callee, src, callee_e164);
	params[9] = c->did;
	params[10] = c->agent;
	params[11] = c->agent_name;
	format_time(&c->started_at, started, &params[12]);
	format_time(&c->answered_at, answered, &params[13]);
	format_time(&c->ended_at, ended, &params[14]);
	params[15] = src->time_zone;
	format_count(c->duration_s, duration, &params[16]);
	format_count(c->billable_s, billable, &params[17]);
	params[18] = recs;
	params[19] = raw;
	params[20] = received;

	res = db_exec(db, &ingest_stmt, params, &e);
	free(recs);
	if (!res) {
		r->db_down = db_is_down(db);
		r->outcome = PUSH_FAILED;
		r->status = 500;
		r->error = "store_failed";
		snprintf(r->message, sizeof(r->message), "%s", e.msg);
		/* A value PostgreSQL cannot hold (class 22: data exception) is the
		 * sender's problem, not ours. */
		if (strncmp(db_sqlstate(db), "22", 2) == 0)
			reject(r, 422, "invalid_field", NULL, e.msg);
		return;
	}
	r->call_row = atoll(PQgetvalue(res, 0, 0));
	outcome = PQgetvalue(res, 0, 1);
	r->outcome = strcmp(outcome, "stored") == 0	  ? PUSH_STORED
		     : strcmp(outcome, "updated") == 0	  ? PUSH_UPDATED
		     : strcmp(outcome, "duplicate") == 0 ? PUSH_DUPLICATE
							 : PUSH_IGNORED;
	r->status = 200;
	PQclear(res);
}

static const struct db_stmt dead_letter_stmt = {
	"push_dead_letter",
	"INSERT INTO dead_letters (source_name, reason, message, field, method, content_type, "
	"query, body, request_id, received_at) "
	"VALUES ($1, $2, $3, nullif($4, ''), $5, $6, $7, $8, $9, $10) RETURNING id",
	10
};

static void file_dead_letter(struct db *db, const struct push *p, struct push_result *r)
{
	char received[RLTIME_TEXT_LEN];
	const char *params[10];
	int lengths[10] = { 0 }, formats[10] = { 0 };
	struct errbuf e;
	PGresult *res;

	received_text(p->received_us, received);
	params[0] = p->source;
	params[1] = r->error;
	params[2] = r->message;
	params[3] = r->field;
	params[4] = p->method;
	params[5] = p->content_type;
	params[6] = p->query ? p->query : "";
	params[7] = p->body ? p->body : "";
	lengths[7] = (int)p->body_len;
	formats[7] = 1;
	params[8] = p->request_id;
	params[9] = received;
	res = db_exec_bin(db, &dead_letter_stmt, params, lengths, formats, &e);
	if (!res) {
		/* Down: the caller spools the push and the drain files it. */
		r->db_down = db_is_down(db);
		if (!r->db_down)
			snprintf(r->message + strlen(r->message), sizeof(r->message) - strlen(r->message),
				 " (and it could not be kept: %s)", e.msg);
		return;
	}
	r->dead_letter = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Serialises the payload for the jsonb column. NULL when it holds a NUL
 * character, which jsonb cannot store. */
static char *raw_text(json_object *payload)
{
	const char *s = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	return strstr(s, "\\u0000") ? NULL : xstrdup(s);
}

/* Decodes and maps P for SRC into C (initialised by the caller); *PAYLOAD
 * receives the decoded payload (caller puts it). Returns 0, or -1 with R
 * holding the rejection. */
static int prepare(const struct source *src, const struct push *p, json_object **payload,
		   struct cdr *c, struct push_result *r)
{
	const struct profile *prof = profile_find(src->vendor);
	struct cdr_problem prob;

	*payload = push_decode(p, r);
	if (!*payload)
		return -1;
	if (!prof) {
		reject(r, 422, "unknown_profile", NULL, "the source's vendor profile is not built in");
		return -1;
	}
	if (profile_map(prof, *payload, c, &prob) < 0 || cdr_finish(c, &prob) < 0) {
		reject(r, 422, prob.code, prob.field, prob.message);
		return -1;
	}
	snprintf(r->call_id, sizeof(r->call_id), "%s", c->call_id);
	r->ack_body = prof->ack_body;
	return 0;
}

int push_check(const struct source *src, const struct push *p, struct push_result *r)
{
	json_object *payload = NULL;
	struct cdr c;
	int rc;

	memset(r, 0, sizeof(*r));
	cdr_init(&c);
	rc = prepare(src, p, &payload, &c, r);
	cdr_release(&c);
	json_object_put(payload);
	return rc;
}

static void map_and_store(struct db *db, const struct source *src, const struct push *p,
			  struct push_result *r)
{
	json_object *payload = NULL;
	struct cdr c;
	char *raw = NULL;

	cdr_init(&c);
	if (prepare(src, p, &payload, &c, r) < 0)
		goto out;
	raw = raw_text(payload);
	if (!raw) {
		reject(r, 422, "invalid_field", NULL, "the payload contains a NUL character");
		goto out;
	}
	store_call(db, src, &c, raw, p->received_us, r);
out:
	free(raw);
	cdr_release(&c);
	json_object_put(payload);
}

void push_process(struct db *db, const struct source *src, const struct push *p, int flags,
		  struct push_result *r)
{
	memset(r, 0, sizeof(*r));
	if (!src)
		reject(r, 404, "unknown_source", NULL, "no source of that name");
	else
		map_and_store(db, src, p, r);
	if (push_is_success(r->outcome) || r->db_down || (flags & PUSH_NO_DEAD_LETTER))
		return;
	file_dead_letter(db, p, r);
}
