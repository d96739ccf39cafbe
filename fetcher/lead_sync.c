/* POST /v1/leads: the CRM syncs its contacts in, one object or an array of
 * up to 1000, created or updated by the CRM's id or by phone (see
 * sql/functions/ringlog_upsert_leads.sql: the lead rules' one home, with
 * per-number locks). Every item is checked before anything is
 * written, and a batch is applied in one transaction: all or nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetcher.h"
#include "ringlog/lead.h"

#define SYNC_MAX_BATCH 1000
#define SYNC_JSON_DEPTH 16

/* A rejected item: 422 {"error":"invalid_field","field":..,"index":..}. */
struct sync_bad {
	const char *field;
	int index; /* -1 for a single object */
	struct errbuf e;
};

static const struct db_stmt upsert_stmt = {
	"fetcher_leads_upsert",
	"SELECT u.lead_id, u.outcome, u.linked_calls FROM ringlog_upsert_leads($1::jsonb) u",
	1
};

static const struct db_stmt leads_stmt = {
	"fetcher_leads_by_ids",
	"SELECT json_build_object('id', l.id, 'crm_id', l.crm_id, 'phone', l.phone, 'name', l.name,"
	" 'company', l.company, 'crm_url', l.crm_url, 'responsible', l.responsible,"
	" 'status', l.status, 'origin', l.origin, 'created_at', ringlog_utc_text(l.created_at),"
	" 'updated_at', ringlog_utc_text(l.updated_at))"
	" FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n) JOIN leads l ON l.id = u.id"
	" ORDER BY u.n",
	1
};

static int sync_fail(struct sync_bad *b, const char *field, const char *fmt, ...) RL_PRINTF(3, 4);

static int sync_fail(struct sync_bad *b, const char *field, const char *fmt, ...)
{
	va_list ap;

	b->field = field;
	va_start(ap, fmt);
	vsnprintf(b->e.msg, sizeof(b->e.msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A text field: a string of at most MAX bytes without NUL; NULL allowed
 * (it clears the field) when NULLABLE. Copies it into CLEAN. */
static int take_text(json_object *clean, const char *key, json_object *v, size_t max,
		     bool nullable, struct sync_bad *b)
{
	struct errbuf e;
	const char *s;

	if (!v) {
		if (!nullable)
			return sync_fail(b, key, "%s must not be null", key);
		json_object_object_add(clean, key, NULL);
		return 0;
	}
	if (json_object_is_type(v, json_type_int) && strcmp(key, "crm_id") == 0)
		s = json_object_get_string(v); /* CRMs often number their contacts */
	else if (!json_object_is_type(v, json_type_string))
		return sync_fail(b, key, "%s must be a string", key);
	else
		s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v) && json_object_is_type(v, json_type_string))
		return sync_fail(b, key, "%s contains a NUL character", key);
	if (strlen(s) > max)
		return sync_fail(b, key, "%s is too long", key);
	if (lead_check_field(key, s, &e) < 0) /* the same check as the admin command's */
		return sync_fail(b, key, "%s", e.msg);
	json_object_object_add(clean, key, json_object_new_string(s));
	return 0;
}

static int take_field(json_object *clean, const char *key, json_object *v, const struct source *src,
		      struct sync_bad *b)
{
	char phone[PHONE_E164_LEN];
	struct fetcher_bad fb;

	if (strcmp(key, "crm_id") == 0)
		return take_text(clean, key, v, 256, false, b) < 0 ? -1 :
		       *json_object_get_string(json_object_object_get(clean, key)) ? 0 :
		       sync_fail(b, key, "%s must not be empty", key);
	if (strcmp(key, "phone") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return sync_fail(b, key, "%s must be a string", key);
		if (fetcher_phone(json_object_get_string(v), src, "phone", phone, &fb) < 0)
			return sync_fail(b, key, "%s: %s", key, fb.e.msg);
		json_object_object_add(clean, key, json_object_new_string(phone));
		return 0;
	}
	if (strcmp(key, "name") == 0 || strcmp(key, "company") == 0)
		return take_text(clean, key, v, 512, true, b);
	if (strcmp(key, "responsible") == 0)
		return take_text(clean, key, v, 256, true, b);
	if (strcmp(key, "crm_url") == 0) /* the page links to it: http(s) only (lead.h) */
		return take_text(clean, key, v, 2048, true, b);
	if (strcmp(key, "status") == 0) {
		const char *s = v ? json_object_get_string(v) : "";

		if (!json_object_is_type(v, json_type_string) || (strcmp(s, "open") && strcmp(s, "closed")))
			return sync_fail(b, key, "%s must be \"open\" or \"closed\"", key);
		json_object_object_add(clean, key, json_object_new_string(s));
		return 0;
	}
	return sync_fail(b, key, "unknown field %s (known: crm_id, phone, name, company, crm_url, "
			 "responsible, status)", key);
}

/* Checks one item; returns a clean copy (only known, checked keys), or NULL. */
static json_object *check_item(json_object *item, const struct source *src, struct sync_bad *b)
{
	json_object *clean;

	if (!json_object_is_type(item, json_type_object)) {
		sync_fail(b, "", "a lead is a JSON object");
		return NULL;
	}
	clean = json_object_new_object();
	json_object_object_foreach(item, key, val) {
		if (take_field(clean, key, val, src, b) < 0) {
			json_object_put(clean);
			return NULL;
		}
	}
	if (!json_object_object_get_ex(clean, "crm_id", NULL) &&
	    !json_object_object_get_ex(clean, "phone", NULL)) {
		json_object_put(clean);
		sync_fail(b, "phone", "a lead needs crm_id or phone to be found by");
		return NULL;
	}
	return clean;
}

static json_object *parse_body(struct http_request *req)
{
	json_tokener *tok = json_tokener_new_ex(SYNC_JSON_DEPTH);
	json_object *obj;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf_str(&req->body), (int)req->body.len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != req->body.len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Checks every item of BODY into a clean array. Returns it, or NULL with B. */
static json_object *check_all(json_object *body, const struct source *src, struct sync_bad *b)
{
	bool single = !json_object_is_type(body, json_type_array);
	size_t n = single ? 1 : json_object_array_length(body);
	json_object *clean = json_object_new_array();

	b->index = -1;
	if (n == 0 || n > SYNC_MAX_BATCH) {
		json_object_put(clean);
		sync_fail(b, "", "send one lead (an object) or an array of 1 to %d", SYNC_MAX_BATCH);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *item = check_item(single ? body : json_object_array_get_idx(body, i), src, b);

		if (!item) {
			b->index = single ? -1 : (int)i;
			json_object_put(clean);
			return NULL;
		}
		json_object_array_add(clean, item);
	}
	return clean;
}

static enum MHD_Result reply_item_error(struct http_request *req, const struct sync_bad *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string("invalid_field"));
	json_object_object_add(o, "message", json_object_new_string(b->e.msg));
	json_object_object_add(o, "field", json_object_new_string(b->field));
	if (b->index >= 0)
		json_object_object_add(o, "index", json_object_new_int(b->index));
	req->log_outcome = "invalid_field";
	return http_reply_json(req, 422, o);
}

/* Applies CLEAN (an array) in one transaction. Returns the upsert result
 * (lead id, outcome, linked calls per item) and *LEADS the leads as they
 * are now, or NULL having answered. */
static PGresult *apply(struct http_request *req, struct db *db, json_object *clean,
		       PGresult **leads, enum MHD_Result *rc)
{
	const char *params[1] = { json_object_to_json_string_ext(clean, JSON_C_TO_STRING_PLAIN) };
	PGresult *res = NULL;
	struct buf ids = BUF_INIT;
	struct sync_bad b = { .index = -1 };
	struct errbuf e;

	*leads = NULL;
	if (db_command(db, "BEGIN", &e) < 0 || !(res = db_exec(db, &upsert_stmt, params, &e)))
		goto failed;
	for (int i = 0; i < PQntuples(res); i++) {
		if (strcmp(PQgetvalue(res, i, 1), "needs_phone") == 0) {
			b.index = json_object_is_type(clean, json_type_array) && PQntuples(res) > 1 ? i : -1;
			sync_fail(&b, "phone", "no lead has this crm_id: a new lead needs a phone");
			goto rejected;
		}
		buf_addf(&ids, "%s%s", i ? "," : "{", PQgetvalue(res, i, 0));
	}
	buf_addch(&ids, '}');
	params[0] = buf_str(&ids);
	if (!(*leads = db_exec(db, &leads_stmt, params, &e)) || db_command(db, "COMMIT", &e) < 0)
		goto failed;
	buf_release(&ids);
	return res;
failed:
	*rc = fetcher_reply_db_error(req, db, "lead sync", &e);
	goto out;
rejected:
	*rc = reply_item_error(req, &b);
out:
	if (!db_is_down(db) && db_command(db, "ROLLBACK", &e) < 0)
		log_msg(LOG_WARNING, "lead sync: rollback failed: %s", e.msg);
	PQclear(res);
	PQclear(*leads);
	*leads = NULL;
	buf_release(&ids);
	return NULL;
}

static json_object *result_item(PGresult *res, PGresult *leads, int i)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(PQgetvalue(res, i, 1)));
	json_object_object_add(o, "lead", i < PQntuples(leads) ? fetcher_json_parse(PQgetvalue(leads, i, 0)) : NULL);
	json_object_object_add(o, "linked_calls", json_object_new_int(atoi(PQgetvalue(res, i, 2))));
	return o;
}

static enum MHD_Result answer(struct http_request *req, bool single, PGresult *res, PGresult *leads)
{
	json_object *out, *results;

	if (single) {
		bool created = strcmp(PQgetvalue(res, 0, 1), "created") == 0;

		req->log_outcome = created ? "created" : "updated";
		return http_reply_json(req, created ? 201 : 200, result_item(res, leads, 0));
	}
	out = json_object_new_object();
	results = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(results, result_item(res, leads, i));
	json_object_object_add(out, "results", results);
	return http_reply_json(req, 200, out);
}

static bool is_json(const char *ct)
{
	const char *plus = ct ? strchr(ct, '+') : NULL;

	return ct && (strncasecmp(ct, "application/json", 16) == 0 ||
		      (plus && strncasecmp(plus, "+json", 5) == 0));
}

enum MHD_Result fetcher_handle_lead_upsert(struct http_request *req, void *app)
{
	static const char *const allowed[] = { "source", NULL };
	struct fetcher *f = app;
	json_object *body = NULL, *clean = NULL;
	PGresult *res = NULL, *leads = NULL;
	struct source_set *set = NULL;
	const struct source *src;
	struct fetcher_bad fb;
	struct sync_bad b;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (fetcher_params_known(req, allowed, &fb) < 0 || fetcher_param_source(f, req, &set, &src, &fb) < 0) {
		rc = fetcher_reply_bad(req, &fb);
		goto out;
	}
	if (!is_json(http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		rc = http_reply_error(req, 415, "unsupported_media_type", "send application/json");
		goto out;
	}
	if (!(body = parse_body(req))) {
		rc = http_reply_error(req, 400, "invalid_json", "the body is not valid JSON");
		goto out;
	}
	if (!(clean = check_all(body, src, &b))) {
		rc = reply_item_error(req, &b);
		goto out;
	}
	res = apply(req, fetcher_db(f), clean, &leads, &rc);
	if (res)
		rc = answer(req, !json_object_is_type(body, json_type_array), res, leads);
out:
	PQclear(res);
	PQclear(leads);
	json_object_put(clean);
	json_object_put(body);
	source_set_unref(set);
	return rc;
}
