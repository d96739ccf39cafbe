/* ringlog-ingestd's private parts: its configuration and the state its
 * handlers share (sources, spool, metrics). */
#ifndef RINGLOG_INGEST_H
#define RINGLOG_INGEST_H

#include <stdatomic.h>
#include <stdbool.h>

#include "ringlog/blob.h"
#include "ringlog/conf.h"
#include "ringlog/http.h"
#include "ringlog/push.h"
#include "ringlog/source.h"
#include "ringlog/spool.h"

struct ingest_config {
	char *database_url;
	char *privacy_key_file;
	char *listen;
	long long threads;
	long long writers;
	long long batch_max;
	long long max_body;
	long long timeout_s;
	long long header_timeout_s, min_body_rate; /* slow clients */
	long long max_connections;
	long long max_connections_per_ip;
	char *spool_dir;
	long long spool_max;
	long long source_refresh_s;
	long long shutdown_grace_s;
	char *tls_cert, *tls_key;
	char *log_level;
	char *cors_origins;      /* origins allowed to call screen pop from a browser */
	long long events_keep_s; /* screen-pop events kept this long; 0: not recorded */
	long long body_spill;
	long long screenpop_cache; /* most numbers the lead cache holds; 0: off */
	char *blob_dir;
	long long recording_max;
	struct blob_config blobcfg; /* [recordings] store, s3_*, store_format */
	long long dead_letters_max; /* bytes per source; sources.dead_letters_max overrides */
};

extern const struct conf_key ingest_conf_keys[];
extern const size_t ingest_conf_nkeys;

struct ingest {
	const struct ingest_config *cfg;
	struct source_cache *sources;
	struct spool *spool;
	struct writers *writers;
	struct events *events; /* NULL when events_keep is 0 */
	struct leadcache *leads; /* open leads by number for screen pop; NULL when off */
	struct push_options push; /* where inline recordings go */
	atomic_bool stopping;
	atomic_llong last_miss_reload_ns; /* see ingest_reload_on_miss() */
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route ingest_routes[];

/* Registers the daemon's metrics; call once before serving. */
void ingest_metrics_register(struct ingest *in);
/* Registers the reconciliation metrics (read from reconcile_state). */
void ingest_reconcile_metrics_register(struct ingest *in);

/* True when the request proves it comes from SRC: HTTP Basic, X-Api-Key or
 * key= as the source allows. */
bool ingest_authenticated(struct http_request *req, const struct source *src);

/* The source named by the path of a request (/v1/cdr, screen pop, route),
 * authenticated, with a reference on *SET the caller drops; or NULL after
 * answering 404 or 401 (*RC holds the handler's return; PUSH: counted as
 * a push, and 401 asks for HTTP Basic). The one place that does this. */
const struct source *ingest_lookup_source(struct ingest *in, struct http_request *req,
					  struct source_set **set, bool push, enum MHD_Result *rc);
/* The parameters of a look-up: the query string, and a JSON or form body.
 * Returns a new object (caller puts it), or NULL after answering 4xx. */
json_object *ingest_lookup_params(struct http_request *req, enum MHD_Result *rc);
/* The first non-empty text among the parameters NAMES (NULL-terminated);
 * borrowed from PARAMS, or NULL. */
const char *ingest_param(json_object *params, const char *const *names);
/* The database failed a look-up of ENDPOINT ("screenpop", "route"): counts,
 * logs, and answers 503 with Retry-After. */
enum MHD_Result ingest_lookup_failed(struct http_request *req, const char *endpoint,
				     const struct source *src, const char *why);
/* Adds the CORS headers a browser caller from an allowed Origin needs. */
void ingest_add_cors(struct ingest *in, struct http_request *req);
/* Deletes screen-pop events older than [ingest] events_keep (main thread). */
void ingest_prune_events(struct ingest *in, struct db *db);
/* Makes the monthly partitions of calls ahead (ringlog_calls_partitions),
 * at most once an hour; logs what it made. */
void ingest_make_partitions(struct db *db);

/* Reloads the sources into the cache. Returns 0 or -1 with E. */
int ingest_reload_sources(struct ingest *in, struct db *db, struct errbuf *e) RL_MUST_CHECK;
/* A push named a source the cache does not know: perhaps it was just added.
 * Reloads the cache, at most once a second whatever the traffic. Returns
 * true when it reloaded. */
bool ingest_reload_on_miss(struct ingest *in, struct db *db);
/* Drains the spool into the database (main thread). Returns pushes drained. */
size_t ingest_drain_spool(struct ingest *in, struct db *db);

#endif
