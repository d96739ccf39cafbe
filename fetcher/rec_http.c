/* GET|HEAD /v1/recordings/{id}: who may play (the CRM's bearer token, or a
 * signed URL a browser's <audio> can use without headers), and what the
 * recordings row says to do: serve the stored blob, join (or start) the
 * download of a remote one, or answer the failure it keeps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"
#include "recordings.h"
#include "ringlog/db.h"

/* One play request across its calls (it is called again when resumed). */
struct play {
	long long id;
	bool download;
	struct flight *fl;
	int rounds;
};

static void play_free(void *p)
{
	struct play *pl = p;

	flight_unref(pl->fl);
	free(pl);
}

static int parse_id(const char *s, long long *id)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 18 || s[n] || s[0] == '0')
		return -1;
	*id = atoll(s);
	return 0;
}

/* A play link: who it was made for becomes the request's user (the audit
 * trail names them); a link without one (made before links named users)
 * plays as "(play link)". */
static bool signed_ok(struct fetcher *f, struct http_request *req, long long id, enum MHD_Result *rc)
{
	char *user = NULL;
	enum sign_status st = fetcher_play_signature(f, id, http_query_param(req, "expires"),
						     http_query_param(req, "u"), http_query_param(req, "sig"),
						     (long long)time(NULL), &user);

	if (st == SIGN_OK) {
		free(req->user);
		req->user = user ? user : strdup("(play link)");
		req->auth = "signed_url";
		return true;
	}
	if (st == SIGN_EXPIRED)
		*rc = http_reply_error(req, 403, "url_expired", "this play link has expired: ask for a new one");
	else
		*rc = http_reply_error(req, 403, "invalid_signature", "this play link is not valid");
	return false;
}

/* The API says what kind of failure it was in its own words: the PBX's
 * message (a URL, an error page) stays on the row for operators. */
static enum MHD_Result upstream_answer(struct http_request *req, long long id, enum upstream_error err,
				       long long retry_after)
{
	json_object *o = json_object_new_object();
	char ra[24];

	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%lld", retry_after);
		http_add_header(req, "Retry-After", ra);
	}
	json_object_object_add(o, "error", json_object_new_string(upstream_error_code(err)));
	json_object_object_add(o, "message", json_object_new_string(upstream_error_text(err)));
	json_object_object_add(o, "recording_id", json_object_new_int64(id));
	if (retry_after > 0)
		json_object_object_add(o, "retry_after", json_object_new_int64(retry_after));
	req->log_outcome = upstream_error_code(err);
	return http_reply_json(req, upstream_error_status(err), o);
}

static enum MHD_Result unavailable(struct http_request *req, const char *why)
{
	http_add_header(req, "Retry-After", "5");
	return http_reply_error(req, 503, "unavailable", "%s", why);
}

static enum MHD_Result lookup(struct fetcher *f, struct http_request *req, struct play *pl);

/* Audits a play whose first byte is being served: a GET answered with the
 * audio from its start (no Range, or one from byte 0); a seek, a HEAD or a
 * revalidation is not a new play. */
static enum MHD_Result audited(struct fetcher *f, struct http_request *req, const struct play *pl,
			       enum MHD_Result rc)
{
	const char *range = http_header(req, MHD_HTTP_HEADER_RANGE), *o = req->log_outcome;

	if (rc == MHD_YES && strcmp(req->method, "GET") == 0 && o &&
	    (strcmp(o, "stored") == 0 || strcmp(o, "partial") == 0 || strcmp(o, "streamed") == 0) &&
	    (!range || strncmp(range, "bytes=0-", 8) == 0))
		(void)fetcher_audit_play(f, req, pl->id, pl->download);
	return rc;
}

/* The request waits on a download: answer from where it stands. */
static enum MHD_Result follow(struct fetcher *f, struct http_request *req, struct play *pl)
{
	struct flight_view v;

	if (flight_wait(pl->fl, req->conn, playback_wants_range(req), &v))
		return MHD_YES; /* suspended: called again when it moves */
	if (v.state == FLIGHT_STREAMING)
		return audited(f, req, pl, playback_streaming(req, pl->fl, &v, pl->id, pl->download));
	flight_unref(pl->fl);
	pl->fl = NULL;
	if (v.state == FLIGHT_STORED)
		return lookup(f, req, pl);
	switch (v.failure) {
	case FLIGHT_UPSTREAM: return upstream_answer(req, pl->id, v.error, v.retry_after);
	case FLIGHT_STORE_FAILED:
		return http_reply_error(req, 500, "recording_store_failed", "%s", v.message);
	case FLIGHT_GONE: return http_reply_error(req, 404, "not_found", "no such recording");
	default: return unavailable(req, v.message);
	}
}

static const struct db_stmt row_stmt = {
	"rec_row",
	"SELECT state, blob_key, mime_type, floor(extract(epoch FROM stored_at))::bigint,"
	" last_error_code, last_error,"
	" coalesce(greatest(0, ceil(extract(epoch FROM next_attempt_at - now()))), 0)::bigint"
	" FROM recordings WHERE id = $1", 1
};

/* Serves the stored recording of RES's row. */
static enum MHD_Result serve_row(struct fetcher *f, struct http_request *req, struct play *pl,
				 PGresult *res)
{
	struct stored_recording s = { .id = pl->id };

	snprintf(s.key, sizeof(s.key), "%s", PQgetvalue(res, 0, 1));
	snprintf(s.mime, sizeof(s.mime), "%s", PQgetisnull(res, 0, 2) ? "application/octet-stream"
									: PQgetvalue(res, 0, 2));
	s.stored_at = atoll(PQgetvalue(res, 0, 3));
	PQclear(res);
	return audited(f, req, pl, playback_stored(req, f->blobs, &s, pl->download));
}

static enum MHD_Result lookup(struct fetcher *f, struct http_request *req, struct play *pl)
{
	char idt[24];
	const char *params[] = { idt };
	struct errbuf e;
	PGresult *res;
	const char *state;
	enum MHD_Result rc;
	long long retry;

	snprintf(idt, sizeof(idt), "%lld", pl->id);
	if (!(res = db_exec(fetcher_db(f), &row_stmt, params, &e))) {
		log_msg(LOG_ERR, "recording %lld: request id=%s: %s", pl->id, req->id, e.msg);
		return unavailable(req, "the database is unreachable");
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return http_reply_error(req, 404, "not_found", "no recording %lld", pl->id);
	}
	state = PQgetvalue(res, 0, 0);
	if (strcmp(state, "stored") == 0)
		return serve_row(f, req, pl, res);
	retry = atoll(PQgetvalue(res, 0, 6));
	if (strcmp(PQgetvalue(res, 0, 4), "audio_corrupt") == 0) { /* kept as it came (sql/023) */
		rc = http_reply_error(req, 422, "audio_corrupt", "the recording cannot be played: %s",
				      PQgetvalue(res, 0, 5));
		PQclear(res);
		return rc;
	}
	if (strcmp(state, "failed") == 0 || (retry > 0 && !PQgetisnull(res, 0, 4))) {
		rc = upstream_answer(req, pl->id, upstream_error_from_code(PQgetvalue(res, 0, 4)),
				     strcmp(state, "failed") == 0 ? 0 : retry);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	if (++pl->rounds > 3)
		return unavailable(req, "the recording is being stored: try again");
	pl->fl = flight_join(f->recordings, pl->id);
	return follow(f, req, pl);
}

enum MHD_Result fetcher_handle_recording(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct play *pl = req->app_ctx;
	const char *dl;
	enum MHD_Result rc;
	long long id;

	if (pl) /* resumed */
		return pl->fl ? follow(f, req, pl) : lookup(f, req, pl);
	if (parse_id(http_path_tail(req), &id) < 0)
		return http_reply_error(req, 404, "not_found", "recordings are named by their id");
	if (http_query_param(req, "sig") || http_query_param(req, "expires")) {
		if (!signed_ok(f, req, id, &rc))
			return rc;
	} else if (!fetcher_authorized(f, req, &rc)) {
		return rc;
	}
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return MHD_NO;
	pl->id = id;
	dl = http_query_param(req, "download");
	pl->download = dl && (strcmp(dl, "1") == 0 || strcmp(dl, "true") == 0);
	req->app_ctx = pl;
	req->app_ctx_free = play_free;
	return lookup(f, req, pl);
}
