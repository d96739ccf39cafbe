/* Webhook subscriptions through the API, for the CRM's backend (a bearer
 * token; a browser's UI session is refused): GET /v1/webhooks, POST
 * /v1/webhooks (its secret answered once), GET and DELETE
 * /v1/webhooks/{id}, POST /v1/webhooks/{id}/rotate-secret. The same rules
 * as `ringlog webhook` (cli/webhook.c); the table checks names and types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/whsign.h"

#define WEBHOOK_JSON                                                                               \
	"json_build_object('id', w.id, 'name', w.name, 'url', w.url, 'events', w.events,"          \
	" 'source', (SELECT s.name FROM sources s WHERE s.id = w.source_id), 'state', w.state,"    \
	" 'state_reason', w.state_reason, 'created_at', ringlog_utc_text(w.created_at),"           \
	" 'old_secret_valid_until', CASE WHEN w.old_secret_until > now()"                          \
	"   THEN ringlog_utc_text(w.old_secret_until) END,"                                         \
	" 'pending', (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id"             \
	"   AND e.state = 'pending'),"                                                              \
	" 'failed', (SELECT count(*) FROM webhook_events e WHERE e.webhook_id = w.id"              \
	"   AND e.state = 'failed'))"

static const struct db_stmt list_stmt = {
	"webhooks_api_list", "SELECT coalesce(json_agg(" WEBHOOK_JSON " ORDER BY w.id), '[]') FROM webhooks w", 0
};
static const struct db_stmt one_stmt = {
	"webhooks_api_one", "SELECT " WEBHOOK_JSON " FROM webhooks w WHERE w.id = $1", 1
};
static const struct db_stmt add_stmt = {
	"webhooks_api_add",
	"INSERT INTO webhooks (name, url, events, source_id, secret, created_by)"
	" SELECT $1, $2, $3::text[], s.id, decode($5, 'hex'), $6"
	"   FROM (SELECT NULL) x LEFT JOIN sources s ON s.name = $4"
	"  WHERE $4::text IS NULL OR s.id IS NOT NULL RETURNING id", 6
};
static const struct db_stmt remove_stmt = {
	"webhooks_api_remove", "DELETE FROM webhooks WHERE id = $1", 1
};
static const struct db_stmt rotate_stmt = {
	"webhooks_api_rotate",
	"UPDATE webhooks SET old_secret = secret, secret = decode($2, 'hex'),"
	" old_secret_until = now() + $3::bigint * interval '1 second' WHERE id = $1 RETURNING id", 3
};

static const char *const types[] = { "call.stored", "call.updated", "call.missed", "lead.created",
				     "task.created", "task.done", "recording.ready", "recording.failed" };

static json_object *parse(struct http_request *req)
{
	json_tokener *tok;
	json_object *obj;

	if (req->body_fd >= 0 || req->body.len == 0)
		return NULL;
	tok = json_tokener_new_ex(8);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf_str(&req->body), (int)req->body.len);
	if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != req->body.len || !json_object_is_type(obj, json_type_object))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

/* "{a,b}" from a JSON array of known types; -1 when one is unknown. */
static int events_literal(json_object *o, struct buf *out)
{
	json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(o, "events", &arr) || !json_object_is_type(arr, json_type_array) ||
	    (n = json_object_array_length(arr)) == 0 || n > 16)
		return -1;
	buf_addch(out, '{');
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
		bool known = false;

		for (size_t k = 0; t && k < sizeof(types) / sizeof(types[0]); k++)
			known |= strcmp(t, types[k]) == 0;
		if (!known)
			return -1;
		buf_addf(out, "%s%s", i ? "," : "", t);
	}
	buf_addch(out, '}');
	return 0;
}

static void new_key(char hex[2 * WHSIGN_KEY_LEN + 1], struct buf *shown, bool *ok)
{
	unsigned char key[WHSIGN_KEY_LEN];

	*ok = whsign_key_new(key) == 0;
	for (size_t i = 0; *ok && i < sizeof(key); i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	if (*ok)
		whsign_secret_format(key, sizeof(key), shown);
}

/* The subscription ID as the API shows it, with SECRET added when set. */
static enum MHD_Result reply_one(struct http_request *req, struct db *db, const char *id, unsigned status,
				 const char *secret)
{
	const char *params[] = { id };
	struct errbuf e;
	json_object *obj;

	if (fetcher_json_row(db, &one_stmt, params, &obj, &e) < 0)
		return fetcher_reply_db_error(req, db, "webhook", &e);
	if (!obj)
		return http_reply_error(req, 404, "not_found", "no webhook has id %s", id);
	if (secret)
		json_object_object_add(obj, "secret", json_object_new_string(secret));
	return http_reply_json(req, status, obj);
}

static enum MHD_Result add(struct fetcher *f, struct http_request *req)
{
	json_object *body = parse(req);
	struct buf events = BUF_INIT, shown = BUF_INIT;
	char hex[2 * WHSIGN_KEY_LEN + 1];
	const char *name, *url, *params[6];
	struct db *db = fetcher_db(f);
	enum MHD_Result rc;
	struct errbuf e;
	PGresult *res = NULL;
	bool ok;

	if (!body) {
		rc = http_reply_error(req, 400, "invalid_json", "send a JSON object: name, url, events, source");
		goto out;
	}
	name = str(body, "name");
	url = str(body, "url");
	if (!name || !url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strlen(url) > 2048 || strlen(name) > 63) {
		rc = http_reply_error(req, 400, "invalid_webhook",
				      "name (a-z, 0-9, _ and -) and an http(s) url (at most 2048 characters) are needed");
		goto out;
	}
	if (events_literal(body, &events) < 0) {
		rc = http_reply_error(req, 400, "invalid_events",
				      "events is a list of call.stored, call.updated, call.missed, lead.created, "
				      "task.created, task.done, recording.ready, recording.failed");
		goto out;
	}
	new_key(hex, &shown, &ok);
	if (!ok) {
		rc = http_reply_error(req, 503, "unavailable", "no randomness available");
		goto out;
	}
	params[0] = name;
	params[1] = url;
	params[2] = events.data;
	params[3] = str(body, "source");
	params[4] = hex;
	params[5] = req->user;
	res = db_exec(db, &add_stmt, params, &e);
	if (!res && (strcmp(db_sqlstate(db), "23505") == 0 || strcmp(db_sqlstate(db), "23514") == 0))
		rc = http_reply_error(req, strcmp(db_sqlstate(db), "23505") == 0 ? 409 : 400, "invalid_webhook",
				      strcmp(db_sqlstate(db), "23505") == 0 ? "a webhook of that name exists"
									   : "the name or url is not accepted");
	else if (!res)
		rc = fetcher_reply_db_error(req, db, "webhook", &e);
	else if (PQntuples(res) != 1)
		rc = http_reply_error(req, 400, "unknown_source", "no source %s", params[3]);
	else
		rc = reply_one(req, db, PQgetvalue(res, 0, 0), 201, shown.data);
out:
	PQclear(res);
	buf_release(&events);
	buf_release(&shown);
	json_object_put(body);
	return rc;
}

enum MHD_Result fetcher_handle_webhooks(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	json_object *out;
	enum MHD_Result rc;

	if (!fetcher_authorized_backend(f, req, &rc))
		return rc;
	if (strcmp(req->method, "POST") == 0)
		return add(f, req);
	db = fetcher_db(f);
	res = db_exec(db, &list_stmt, NULL, &e);
	if (!res)
		return fetcher_reply_db_error(req, db, "webhooks", &e);
	out = json_object_new_object();
	json_object_object_add(out, "webhooks", fetcher_json_parse(PQgetvalue(res, 0, 0)));
	PQclear(res);
	return http_reply_json(req, 200, out);
}

enum MHD_Result fetcher_handle_webhook(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char id[24];
	const char *params[] = { id };
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;
	long long n;

	if (!fetcher_authorized_backend(f, req, &rc))
		return rc;
	if (!fetcher_path_id(req, &n))
		return http_reply_error(req, 404, "not_found", "a webhook id is a positive integer");
	snprintf(id, sizeof(id), "%lld", n);
	db = fetcher_db(f);
	if (strcmp(req->method, "GET") == 0)
		return reply_one(req, db, id, 200, NULL);
	res = db_exec(db, &remove_stmt, params, &e);
	if (!res)
		return fetcher_reply_db_error(req, db, "webhook", &e);
	n = atoll(PQcmdTuples(res));
	PQclear(res);
	if (n == 0)
		return http_reply_error(req, 404, "not_found", "no webhook has id %s", id);
	return http_reply(req, 204, NULL, NULL, 0);
}

enum MHD_Result fetcher_handle_webhook_rotate(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	json_object *body = req->body.len ? parse(req) : NULL, *v;
	char id[24], hex[2 * WHSIGN_KEY_LEN + 1], overlap[24] = "86400";
	const char *params[] = { id, hex, overlap };
	struct buf shown = BUF_INIT;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;
	long long n;
	bool ok;

	if (!fetcher_authorized_backend(f, req, &rc))
		goto out;
	if (!fetcher_path_id(req, &n)) {
		rc = http_reply_error(req, 404, "not_found", "a webhook id is a positive integer");
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", n);
	if (body && json_object_object_get_ex(body, "overlap_s", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0 ||
		    json_object_get_int64(v) > 30 * 86400) {
			rc = http_reply_error(req, 400, "invalid_parameter", "overlap_s is 0 to 2592000 seconds");
			goto out;
		}
		snprintf(overlap, sizeof(overlap), "%lld", (long long)json_object_get_int64(v));
	}
	new_key(hex, &shown, &ok);
	if (!ok) {
		rc = http_reply_error(req, 503, "unavailable", "no randomness available");
		goto out;
	}
	db = fetcher_db(f);
	res = db_exec(db, &rotate_stmt, params, &e);
	if (!res) {
		rc = fetcher_reply_db_error(req, db, "webhook", &e);
		goto out;
	}
	n = PQntuples(res);
	PQclear(res);
	rc = n ? reply_one(req, db, id, 200, shown.data)
	       : http_reply_error(req, 404, "not_found", "no webhook has id %s", id);
out:
	buf_release(&shown);
	json_object_put(body);
	return rc;
}
