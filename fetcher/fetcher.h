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
	long long max_connections_per_ip;
	char *signing_key_file;
	long long play_url_ttl_s;
	char *public_url;
	long long source_refresh_s;
	long long shutdown_grace_s;
	char *tls_cert, *tls_key;
	char *log_level;
};

extern const struct conf_key fetcher_conf_keys[];
extern const size_t fetcher_conf_nkeys;

struct fetcher {
	const struct fetcher_config *cfg;
	struct sign_key sign_key;
	struct source_cache *sources;
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route fetcher_routes[];

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
