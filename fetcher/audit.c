/* The audit trail (README "Privacy"): who played or downloaded which
 * recording (when its first byte is served) and who exported what, with
 * the export's filters and row count. A row names the user (token name,
 * session user, or the user a play link was made for), the call and its
 * source; it holds no phone number. `ringlog maintain` removes rows older
 * than [maintain] keep_audit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"

static const struct db_stmt play_stmt = {
	"fetcher_audit_play",
	"INSERT INTO audit_log (actor, auth, action, call_id, recording_id, source_name)"
	" SELECT $1, $2, $3, r.call_id, r.id, s.name"
	"   FROM (SELECT $4::bigint AS id) q LEFT JOIN recordings r ON r.id = q.id"
	"   LEFT JOIN call_keys k ON k.call_id = r.call_id LEFT JOIN sources s ON s.id = k.source_id",
	4
};

static const struct db_stmt export_stmt = {
	"fetcher_audit_export",
	"INSERT INTO audit_log (actor, auth, action, source_name, filters)"
	" VALUES ($1, $2, 'export', $3, $4::jsonb) RETURNING id", 4
};

static const struct db_stmt export_done_stmt = {
	"fetcher_audit_export_done",
	"UPDATE audit_log SET row_count = $2::bigint,"
	" filters = filters || jsonb_build_object('outcome', $3::text) WHERE id = $1::bigint", 3
};

static const char *actor(const struct http_request *req)
{
	return req->user && *req->user ? req->user : "(unknown)";
}

static const char *auth_word(const struct http_request *req)
{
	return req->auth && (strcmp(req->auth, "session") == 0 || strcmp(req->auth, "signed_url") == 0)
		? req->auth : "token";
}

int fetcher_audit_play(struct fetcher *f, struct http_request *req, long long recording_id, bool download)
{
	char id[24];
	const char *params[] = { actor(req), auth_word(req), download ? "download" : "play", id };
	struct errbuf e;
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", recording_id);
	if (!(res = db_exec(fetcher_db(f), &play_stmt, params, &e))) {
		log_msg(LOG_ERR, "audit of a play not recorded: request id=%s recording=%lld user=%s: %s",
			req->id, recording_id, actor(req), e.msg);
		return -1;
	}
	PQclear(res);
	return 0;
}

long long fetcher_audit_export(struct fetcher *f, struct http_request *req, const char *source,
			       json_object *filters)
{
	const char *params[] = { actor(req), auth_word(req), source,
				 json_object_to_json_string_ext(filters, JSON_C_TO_STRING_PLAIN) };
	struct errbuf e;
	PGresult *res;
	long long id;

	if (!(res = db_exec(fetcher_db(f), &export_stmt, params, &e))) {
		log_msg(LOG_ERR, "audit of an export not recorded: request id=%s user=%s: %s", req->id,
			actor(req), e.msg);
		return -1;
	}
	id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return id;
}

void fetcher_audit_export_done(struct fetcher *f, long long audit_id, long long rows, const char *outcome)
{
	char id[24], n[24];
	const char *params[] = { id, n, outcome };
	struct errbuf e;
	PGresult *res;

	if (audit_id <= 0)
		return;
	snprintf(id, sizeof(id), "%lld", audit_id);
	snprintf(n, sizeof(n), "%lld", rows);
	if (!(res = db_exec(fetcher_db(f), &export_done_stmt, params, &e)))
		log_msg(LOG_ERR, "audit of an export: row count not recorded: audit id=%lld: %s", audit_id,
			e.msg);
	PQclear(res);
}
