/* ringlog-fetcherd's private parts: its configuration and the state its
 * handlers share. */
#ifndef RINGLOG_FETCHER_H
#define RINGLOG_FETCHER_H

#include <stdbool.h>

#include "ringlog/buf.h"
#include "ringlog/conf.h"
#include "ringlog/http.h"
#include "ringlog/sign.h"
#include "ringlog/source.h"

struct fetcher_config {
	char *database_url;
	char *listen;
	long long threads;
	long long max_body;
	long long timeout_s;
	long long max_connections;
	char *signing_key_file;
	long long play_url_ttl_s;
	char *public_url;
	long long click2call_timeout_s;
	char *ui_dir;
	char *ui_frame_ancestors;
	long long ui_session_ttl_s;
	long long source_refresh_s;
	long long shutdown_grace_s;
	char *tls_cert, *tls_key;
	char *log_level;
};

extern const struct conf_key fetcher_conf_keys[];
extern const size_t fetcher_conf_nkeys;

struct ui;

struct fetcher {
	const struct fetcher_config *cfg;
	struct sign_key sign_key;
	struct source_cache *sources;
	struct ui *ui; /* the page's files, or NULL when not installed */
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route fetcher_routes[];

/* The calling worker thread's database connection. */
struct db *fetcher_db(struct fetcher *f);

/* Checks "Authorization: Bearer <token>": an API token (api_tokens) or a
 * UI session token. Returns true when the request may go on (req->user
 * then names the token or the session's user); otherwise it has answered
 * 401 (no, unknown or expired token, with WWW-Authenticate) or 403
 * (revoked), or 503, and *RC holds what the handler must return. */
bool fetcher_authorized(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);
/* As fetcher_authorized, but only for the CRM's backend: a browser's UI
 * session is refused (403). */
bool fetcher_authorized_backend(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);
/* Appends a UI session token for USER valid until EXPIRES (unix time). */
void fetcher_ui_token(const struct fetcher *f, const char *user, long long expires, struct buf *out);

/* Click-to-call (click2call.c). */
enum MHD_Result fetcher_handle_click2call(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_click2call_show(struct http_request *req, void *app);

/* The reference page (ui.c): files of DIR read into memory; NULL with E. */
struct ui *fetcher_ui_load(const char *dir, struct errbuf *e);
void fetcher_ui_free(struct ui *ui);
enum MHD_Result fetcher_handle_ui(struct http_request *req, void *app);
enum MHD_Result fetcher_handle_ui_session(struct http_request *req, void *app);

/* The signed URL a browser plays recording ID with, valid for
 * play_url_ttl seconds from NOW: "{public_url}/v1/recordings/{id}?expires=
 * {unix}&sig={hex}". Appended to OUT. The recordings endpoint checks it with
 * sign_check(key, FETCHER_SIGN_RECORDING, id, expires, sig, now). */
#define FETCHER_SIGN_RECORDING "recording"
void fetcher_play_url(const struct fetcher *f, long long id, long long now, struct buf *out);

#endif
