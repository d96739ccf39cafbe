#include <stddef.h>

#include "ingest.h"

#define KEY(sec, name, type, field, def, min, max, help) \
	{ sec, name, type, offsetof(struct ingest_config, field), def, min, max, false, help }

const struct conf_key ingest_conf_keys[] = {
	KEY("database", "url", CONF_STRING, database_url, "",
	    0, 0, "libpq connection string or URI (empty: libpq's PG* environment)"),
	KEY("privacy", "key_file", CONF_STRING, privacy_key_file, "/etc/ringlog/privacy.key", 0, 0,
	    "key of the hashes of erased calls (an erased call's push is dropped); as for the fetcher"),
	KEY("ingest", "listen", CONF_STRING, listen, "127.0.0.1:8080", 0, 0,
	    "address and port to serve (port 0 picks a free one)"),
	KEY("ingest", "threads", CONF_INT, threads, "4", 1, 256,
	    "HTTP worker threads (they decode and map; writers store)"),
	KEY("ingest", "writers", CONF_INT, writers, "2", 1, 64,
	    "database writer threads, each with its own connection"),
	KEY("ingest", "batch_max", CONF_INT, batch_max, "64", 1, 1024,
	    "most pushes a writer commits in one transaction"),
	KEY("ingest", "max_body", CONF_BYTES, max_body, "1M", 1024, 1LL << 30,
	    "largest request body accepted (413 above)"),
	KEY("ingest", "timeout", CONF_INT, timeout_s, "30", 1, 3600,
	    "seconds an idle or slow connection is kept"),
	KEY("ingest", "header_timeout", CONF_INT, header_timeout_s, "10", 1, 3600,
	    "seconds a request's line and headers may take, however they trickle in"),
	KEY("ingest", "min_body_rate", CONF_BYTES, min_body_rate, "1k", 0, 1LL << 30,
	    "bytes per second a request body must average once past header_timeout (0: any)"),
	KEY("ingest", "max_connections", CONF_INT, max_connections, "1024", 1, 65536,
	    "simultaneous connections"),
	KEY("ingest", "max_connections_per_ip", CONF_INT, max_connections_per_ip, "256", 0, 65536,
	    "simultaneous connections from one client address (0: no limit)"),
	KEY("ingest", "spool_dir", CONF_STRING, spool_dir, "/var/spool/ringlog", 0, 0,
	    "where pushes wait while PostgreSQL is unreachable"),
	KEY("ingest", "spool_max", CONF_BYTES, spool_max, "1G", 1024, 1LL << 50,
	    "most bytes the spool holds (503 above)"),
	KEY("ingest", "source_refresh", CONF_INT, source_refresh_s, "5", 1, 3600,
	    "seconds between reloads of the sources table"),
	KEY("ingest", "shutdown_grace", CONF_INT, shutdown_grace_s, "10", 0, 600,
	    "seconds to finish requests in flight on SIGTERM"),
	KEY("ingest", "tls_cert", CONF_STRING, tls_cert, NULL, 0, 0,
	    "PEM certificate chain for HTTPS (with tls_key)"),
	KEY("ingest", "tls_key", CONF_STRING, tls_key, NULL, 0, 0, "PEM private key for HTTPS"),
	KEY("ingest", "log_level", CONF_STRING, log_level, "info", 0, 0,
	    "debug, info, notice, warning or err"),
	KEY("ingest", "cors_origins", CONF_STRING, cors_origins,
	    "chrome-extension://ifiaikfdhcagbagdeflffjdammidpbio", 0, 0,
	    "origins (space-separated, or *) whose browser pages may call screen pop: "
	    "the default is Voicenter's Chrome extension"),
	KEY("ingest", "events_keep", CONF_INT, events_keep_s, "86400", 0, 365LL * 86400,
	    "seconds screen-pop events (calls in progress) are kept; 0: not recorded"),
	KEY("ingest", "screenpop_cache", CONF_INT, screenpop_cache, "2000000", 0, 100000000,
	    "most numbers with open leads screen pop keeps in memory (kept true by LISTEN); "
	    "more, or 0: every look-up asks PostgreSQL"),
	KEY("ingest", "body_spill", CONF_BYTES, body_spill, "1M", 0, 1LL << 30,
	    "push bodies larger than this wait in an unlinked file in spool_dir, not in memory"),
	KEY("ingest", "dead_letters_max", CONF_BYTES, dead_letters_max, "64M", 0, 1LL << 50,
	    "bytes of refused pushes kept per source in dead_letters; past it they are answered "
	    "and counted, not kept (ringlog source update --dead-letters-max overrides it)"),
	KEY("recordings", "blob_dir", CONF_STRING, blob_dir, "/var/lib/ringlog/recordings", 0, 0,
	    "blob store of recordings, shared with ringlog-fetcherd (made on first use)"),
	KEY("recordings", "max_size", CONF_BYTES, recording_max, "100M", 1024, 1LL << 40,
	    "largest recording stored (an inline one also needs max_body of 4/3 of it)"),
	BLOB_CONF_KEYS(struct ingest_config, blobcfg),
};

const size_t ingest_conf_nkeys = sizeof(ingest_conf_keys) / sizeof(ingest_conf_keys[0]);
