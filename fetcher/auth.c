/* Who may ask: bearer tokens of the CRM's backend (only their SHA-256 is
 * stored, so the look-up is by digest: nothing to compare in constant time)
 * and short-lived UI session tokens the backend hands to a browser
 * (lib/sign.c: signed for a user by one API token, which must still be
 * valid; limited to what the call-log page does). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetcher.h"
#include "ringlog/auth.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

/* One round trip: find the token and, at most once a minute, note its use. */
static const struct db_stmt token_stmt = {
	"fetcher_token",
	"WITH t AS (SELECT id, revoked_at FROM api_tokens WHERE token_sha256 = decode($1, 'hex')),"
	" used AS (UPDATE api_tokens a SET last_used_at = now() FROM t"
	"   WHERE a.id = t.id AND t.revoked_at IS NULL"
	"     AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '60 seconds'))"
	" SELECT id, revoked_at IS NOT NULL, (SELECT name FROM api_tokens WHERE id = t.id) FROM t",
	1
};

struct db *fetcher_db(struct fetcher *f)
{
	return db_for_thread(f->cfg->database_url, "ringlog-fetcherd");
}

struct db *fetcher_read_db(struct fetcher *f)
{
	if (!*f->cfg->database_read_url)
		return fetcher_db(f);
	return db_for_thread_slot(DB_SLOT_READ, f->cfg->database_read_url, "ringlog-fetcherd read");
}

static enum MHD_Result unauthorized(struct http_request *req, const char *why)
{
	http_add_header(req, "WWW-Authenticate", "Bearer realm=\"ringlog\"");
	return http_reply_error(req, 401, "unauthorized", "%s", why);
}

/* What a UI session may do: what the call-log page does, as its own user
 * (the handlers keep it to that user: its own clicks, its own tasks). No
 * exports, no lead writes, no new sessions. */
static const struct {
	const char *method, *path;
} ui_scope[] = {
	{ "GET", "/v1/calls" },           { "GET", "/v1/calls/{id}" },
	{ "GET", "/v1/calls/live" },      { "GET", "/v1/calls/live/stream" },
	{ "GET", "/v1/recordings/" },     { "HEAD", "/v1/recordings/" },
	{ "GET", "/v1/leads" },           { "GET", "/v1/leads/{id}" },
	{ "GET", "/v1/tasks" },           { "POST", "/v1/tasks/{id}/done" },
	{ "POST", "/v1/click2call" },     { "GET", "/v1/click2call/{id}" },
};

static bool ui_may(const struct http_request *req)
{
	for (size_t i = 0; i < sizeof(ui_scope) / sizeof(ui_scope[0]); i++)
		if (req->route && strcmp(req->route->path, ui_scope[i].path) == 0 &&
		    strcmp(req->method, ui_scope[i].method) == 0)
			return true;
	return false;
}

bool fetcher_is_session(const struct http_request *req)
{
	return req->auth && strcmp(req->auth, "session") == 0;
}

void fetcher_ui_token(const struct fetcher *f, const struct http_request *req, const char *user,
		      long long expires, struct buf *out)
{
	sign_session_make(&f->sign_key, req->auth_id, user, expires, out);
}

static const struct db_stmt session_stmt = {
	"fetcher_session_token",
	"SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1::bigint",
	1
};

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *bearer(struct http_request *req)
{
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

	return h && strncasecmp(h, "Bearer ", 7) == 0 && h[7] ? h + 7 : NULL;
}

static enum MHD_Result db_unavailable(struct http_request *req, const struct errbuf *e)
{
	log_msg(LOG_ERR, "token check failed: request id=%s: %s", req->id, e->msg);
	http_add_header(req, "Retry-After", "5");
	return http_reply_error(req, 503, "unavailable", "the database is unreachable");
}

/* A UI session: genuine, not expired, within the page's scope, and its
 * API token not revoked. */
static bool authorize_session(struct fetcher *f, struct http_request *req, const char *token,
			      enum MHD_Result *rc, bool allow_ui)
{
	char idtext[24];
	const char *params[] = { idtext };
	long long token_id;
	enum sign_status st;
	struct errbuf e;
	PGresult *res;
	bool revoked;

	req->auth = "session";
	st = sign_session_read(&f->sign_key, token, (long long)time(NULL), &token_id, &req->user);
	if (st != SIGN_OK) {
		*rc = st == SIGN_EXPIRED ? unauthorized(req, "this session has expired: reload the page")
					 : unauthorized(req, "invalid session token");
		return false;
	}
	if (!allow_ui || !ui_may(req)) {
		*rc = http_reply_error(req, 403, "forbidden", "a UI session cannot do this");
		return false;
	}
	snprintf(idtext, sizeof(idtext), "%lld", token_id);
	res = db_exec(fetcher_db(f), &session_stmt, params, &e);
	if (!res) {
		*rc = db_unavailable(req, &e);
		return false;
	}
	revoked = PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (revoked) {
		*rc = unauthorized(req, "the token that opened this session was revoked");
		return false;
	}
	req->auth_id = token_id;
	return true;
}

static bool authorize(struct fetcher *f, struct http_request *req, const char *token,
		      enum MHD_Result *rc, bool allow_ui)
{
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	const char *params[] = { hex };
	struct errbuf e;
	PGresult *res;
	bool revoked;

	if (!token) {
		*rc = unauthorized(req, "send Authorization: Bearer <token> (ringlog token add)");
		return false;
	}
	if (strncmp(token, SIGN_SESSION_PREFIX, strlen(SIGN_SESSION_PREFIX)) == 0)
		return authorize_session(f, req, token, rc, allow_ui);
	auth_sha256(token, strlen(token), sum);
	auth_hex(sum, sizeof(sum), hex);
	res = db_exec(fetcher_db(f), &token_stmt, params, &e);
	if (!res) {
		*rc = db_unavailable(req, &e);
		return false;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		*rc = unauthorized(req, "unknown token");
		return false;
	}
	revoked = PQgetvalue(res, 0, 1)[0] == 't';
	req->auth_id = atoll(PQgetvalue(res, 0, 0));
	req->user = xstrdup(PQgetvalue(res, 0, 2));
	req->auth = "token";
	PQclear(res);
	if (revoked) {
		*rc = http_reply_error(req, 403, "token_revoked", "this token was revoked");
		return false;
	}
	return true;
}

bool fetcher_authorized(struct fetcher *f, struct http_request *req, enum MHD_Result *rc)
{
	return authorize(f, req, bearer(req), rc, true);
}

bool fetcher_authorized_backend(struct fetcher *f, struct http_request *req, enum MHD_Result *rc)
{
	return authorize(f, req, bearer(req), rc, false);
}

bool fetcher_authorized_or_query(struct fetcher *f, struct http_request *req, enum MHD_Result *rc)
{
	const char *token = bearer(req);

	return authorize(f, req, token ? token : http_query_param(req, "token"), rc, true);
}

static const struct db_stmt scope_stmt = {
	"fetcher_token_scope",
	"SELECT $2 = ANY (scopes) FROM api_tokens WHERE token_sha256 = decode($1, 'hex') AND revoked_at IS NULL",
	2
};

bool fetcher_authorized_scope(struct fetcher *f, struct http_request *req, const char *scope,
			      enum MHD_Result *rc)
{
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	const char *params[] = { hex, scope }, *token = bearer(req);
	struct errbuf e;
	PGresult *res;
	bool ok;

	if (!authorize(f, req, token, rc, false))
		return false;
	auth_sha256(token, strlen(token), sum);
	auth_hex(sum, sizeof(sum), hex);
	if (!(res = db_exec(fetcher_db(f), &scope_stmt, params, &e))) {
		*rc = fetcher_reply_db_error(req, fetcher_db(f), "token scope", &e);
		return false;
	}
	ok = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!ok)
		*rc = http_reply_error(req, 403, "insufficient_scope",
				       "this token may not %s (ringlog token add NAME --scope %s)", scope, scope);
	return ok;
}
