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
	char *listen;
	long long threads;
	long long writers;
	long long batch_max;
	long long max_body;
	long long timeout_s;
	long long max_connections;
	long long max_connections_per_ip;
	char *spool_dir;
	long long spool_max;
	long long source_refresh_s;
	long long shutdown_grace_s;
	char *tls_cert, *tls_key;
	char *log_level;
	long long body_spill;
	char *blob_dir;
	long long recording_max;
};

extern const struct conf_key ingest_conf_keys[];
extern const size_t ingest_conf_nkeys;

struct ingest {
	const struct ingest_config *cfg;
	struct source_cache *sources;
	struct spool *spool;
	struct writers *writers;
	struct push_options push; /* where inline recordings go */
	atomic_bool stopping;
	atomic_llong last_miss_reload_ns; /* see ingest_reload_on_miss() */
};

/* The route table of the daemon (ends with a NULL handler). */
extern const struct http_route ingest_routes[];

/* Registers the daemon's metrics; call once before serving. */
void ingest_metrics_register(struct ingest *in);

/* Reloads the sources into the cache. Returns 0 or -1 with E. */
int ingest_reload_sources(struct ingest *in, struct db *db, struct errbuf *e) RL_MUST_CHECK;
/* A push named a source the cache does not know: perhaps it was just added.
 * Reloads the cache, at most once a second whatever the traffic. Returns
 * true when it reloaded. */
bool ingest_reload_on_miss(struct ingest *in, struct db *db);
/* Drains the spool into the database (main thread). Returns pushes drained. */
size_t ingest_drain_spool(struct ingest *in, struct db *db);

#endif
