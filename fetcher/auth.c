/* Who may ask: bearer tokens of the CRM's backend (only their SHA-256 is
 * stored, so the look-up is by digest: nothing to compare in constant time)
 * and short-lived UI session tokens the backend hands to a browser
 * ("uis.<hex user>.<expires>.<HMAC>", checked without the database). */
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

#define UI_PREFIX "uis."
#define UI_RESOURCE "ui:"

void fetcher_ui_token(const struct fetcher *f, const char *user, long long expires, struct buf *out)
{
	char sig[SIGN_HEX_LEN + 1], *resource = xmalloc(strlen(UI_RESOURCE) + strlen(user) + 1);
	char *hex = xmalloc(2 * strlen(user) + 1);

	strcpy(resource, UI_RESOURCE);
	strcat(resource, user);
	sign_make(&f->sign_key, resource, 0, expires, sig);
	auth_hex((const unsigned char *)user, strlen(user), hex);
	buf_addf(out, UI_PREFIX "%s.%lld.%s", hex, expires, sig);
	free(resource);
	free(hex);
}

/* Checks a UI session token; returns its user (caller frees) or NULL,
 * with *EXPIRED set when it was genuine but is too old. */
static char *ui_user(const struct fetcher *f, const char *token, bool *expired)
{
	const char *hex = token + strlen(UI_PREFIX), *dot = strchr(hex, '.'), *dot2;
	char *user = NULL, *hexcopy = NULL, *resource = NULL, *expires = NULL;
	size_t n;

	*expired = false;
	if (!dot || (n = (size_t)(dot - hex)) == 0 || n % 2 || n > 512 || !(dot2 = strchr(dot + 1, '.')))
		return NULL;
	user = xcalloc(1, n / 2 + 1);
	hexcopy = xstrndup(hex, n);
	expires = xstrndup(dot + 1, (size_t)(dot2 - dot - 1));
	resource = xmalloc(strlen(UI_RESOURCE) + n / 2 + 1);
	if (auth_unhex(hexcopy, (unsigned char *)user, n / 2) < 0 || strlen(user) != n / 2)
		goto bad;
	strcpy(resource, UI_RESOURCE);
	strcat(resource, user);
	switch (sign_check(&f->sign_key, resource, 0, expires, dot2 + 1, (long long)time(NULL))) {
	case SIGN_OK: goto out;
	case SIGN_EXPIRED: *expired = true; break;
	case SIGN_INVALID: break;
	}
bad:
	free(user);
	user = NULL;
out:
	free(hexcopy);
	free(resource);
	free(expires);
	return user;
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *bearer(struct http_request *req)
{
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);

	return h && strncasecmp(h, "Bearer ", 7) == 0 && h[7] ? h + 7 : NULL;
}

static bool authorize(struct fetcher *f, struct http_request *req, const char *token,
		      enum MHD_Result *rc, bool allow_ui)
{
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	const char *params[] = { hex };
	struct errbuf e;
	PGresult *res;
	bool revoked, expired;

	if (!token) {
		*rc = unauthorized(req, "send Authorization: Bearer <token> (ringlog token add)");
		return false;
	}
	if (strncmp(token, UI_PREFIX, strlen(UI_PREFIX)) == 0) {
		req->user = allow_ui ? ui_user(f, token, &expired) : NULL;
		req->auth = "session";
		if (req->user)
			return true;
		*rc = !allow_ui ? http_reply_error(req, 403, "forbidden", "a UI session cannot do this")
		      : expired ? unauthorized(req, "this session has expired: reload the page")
				: unauthorized(req, "invalid session token");
		return false;
	}
	auth_sha256(token, strlen(token), sum);
	auth_hex(sum, sizeof(sum), hex);
	res = db_exec(fetcher_db(f), &token_stmt, params, &e);
	if (!res) {
		log_msg(LOG_ERR, "token check failed: request id=%s: %s", req->id, e.msg);
		http_add_header(req, "Retry-After", "5");
		*rc = http_reply_error(req, 503, "unavailable", "the database is unreachable");
		return false;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		*rc = unauthorized(req, "unknown token");
		return false;
	}
	revoked = PQgetvalue(res, 0, 1)[0] == 't';
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
