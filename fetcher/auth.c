/* Bearer tokens of the CRM's backend: only their SHA-256 is stored, so the
 * look-up is by digest (nothing to compare in constant time). */
#include <string.h>
#include <strings.h>

#include "fetcher.h"
#include "ringlog/auth.h"
#include "ringlog/db.h"

/* One round trip: find the token and, at most once a minute, note its use. */
static const struct db_stmt token_stmt = {
	"fetcher_token",
	"WITH t AS (SELECT id, revoked_at FROM api_tokens WHERE token_sha256 = decode($1, 'hex')),"
	" used AS (UPDATE api_tokens a SET last_used_at = now() FROM t"
	"   WHERE a.id = t.id AND t.revoked_at IS NULL"
	"     AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '60 seconds'))"
	" SELECT id, revoked_at IS NOT NULL FROM t",
	1
};

struct db *fetcher_db(struct fetcher *f)
{
	return db_for_thread(f->cfg->database_url, "ringlog-fetcherd");
}

static enum MHD_Result unauthorized(struct http_request *req, const char *why)
{
	http_add_header(req, "WWW-Authenticate", "Bearer realm=\"ringlog\"");
	return http_reply_error(req, 401, "unauthorized", "%s", why);
}

bool fetcher_authorized(struct fetcher *f, struct http_request *req, enum MHD_Result *rc)
{
	const char *h = http_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	const char *params[] = { hex };
	struct errbuf e;
	PGresult *res;
	bool revoked;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		*rc = unauthorized(req, "send Authorization: Bearer <token> (ringlog token add)");
		return false;
	}
	auth_sha256(h + 7, strlen(h + 7), sum);
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
	PQclear(res);
	if (revoked) {
		*rc = http_reply_error(req, 403, "token_revoked", "this token was revoked");
		return false;
	}
	return true;
}
