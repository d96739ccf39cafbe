/* ringlog-fetcherd's private parts: its configuration and the state its
 * handlers share. */
#ifndef RINGLOG_FETCHER_H
#define RINGLOG_FETCHER_H

#include <stdbool.h>

#include "ringlog/blob.h"
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
	long long source_refresh_s;
	long long shutdown_grace_s;
	char *tls_cert, *tls_key;
	char *log_level;
	char *blob_dir;
	long long recording_max;
	long long fetch_workers;
	long long fetch_connect_timeout_s, fetch_timeout_s;
	long long fetch_retry_base_s, fetch_retry_max_s, fetch_max_attempts;
	bool prefetch;
	long long prefetch_concurrency, prefetch_interval_s;
};

extern const struct conf_key fetcher_conf_keys[];
extern const size_t fetcher_conf_nkeys;

struct fetcher {
	const struct fetcher_config *cfg;
	struct sign_key sign_key;
	struct source_cache *sources;
	struct blob_store *blobs;        /* recordings */
	struct rec_engine *recordings;   /* fetches from PBXs (recordings.h) */
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route fetcher_routes[];

struct rec_engine;

/* GET|HEAD /v1/recordings/{id}: a recording, by bearer token or signed URL. */
enum MHD_Result fetcher_handle_recording(struct http_request *req, void *app);

/* The calling worker thread's database connection. */
struct db *fetcher_db(struct fetcher *f);

/* Checks "Authorization: Bearer <token>" against api_tokens. Returns true
 * when the request may go on; otherwise it has answered 401 (no or unknown
 * token, with WWW-Authenticate) or 403 (revoked), or 503, and *RC holds
 * what the handler must return. */
bool fetcher_authorized(struct fetcher *f, struct http_request *req, enum MHD_Result *rc);

/* The signed URL a browser plays recording ID with, valid for
 * play_url_ttl seconds from NOW: "{public_url}/v1/recordings/{id}?expires=
 * {unix}&sig={hex}". Appended to OUT. The recordings endpoint checks it with
 * sign_check(key, FETCHER_SIGN_RECORDING, id, expires, sig, now). */
#define FETCHER_SIGN_RECORDING "recording"
void fetcher_play_url(const struct fetcher *f, long long id, long long now, struct buf *out);

#endif
