#include <stddef.h>

#include "fetcher.h"

#define KEY(sec, name, type, field, def, min, max, help) \
	{ sec, name, type, offsetof(struct fetcher_config, field), def, min, max, false, help }

const struct conf_key fetcher_conf_keys[] = {
	KEY("database", "url", CONF_STRING, database_url, "", 0, 0,
	    "libpq connection string or URI (empty: libpq's PG* environment)"),
	KEY("fetcher", "listen", CONF_STRING, listen, "127.0.0.1:8081", 0, 0,
	    "address and port to serve (port 0 picks a free one)"),
	KEY("fetcher", "threads", CONF_INT, threads, "16", 1, 256,
	    "worker threads, each with its own database connection"),
	KEY("fetcher", "max_body", CONF_BYTES, max_body, "1M", 1024, 1LL << 30,
	    "largest request body accepted (413 above)"),
	KEY("fetcher", "timeout", CONF_INT, timeout_s, "60", 1, 3600,
	    "seconds an idle or slow connection is kept"),
	KEY("fetcher", "max_connections", CONF_INT, max_connections, "1024", 1, 65536,
	    "simultaneous connections"),
	KEY("fetcher", "signing_key_file", CONF_STRING, signing_key_file,
	    "/etc/ringlog/signing.key", 0, 0,
	    "secret key (32+ bytes) that signs play URLs for browsers"),
	KEY("fetcher", "play_url_ttl", CONF_INT, play_url_ttl_s, "900", 10, 7 * 86400,
	    "seconds a signed play URL stays valid"),
	KEY("fetcher", "public_url", CONF_STRING, public_url, "", 0, 0,
	    "base URL browsers reach this daemon at (empty: URLs are relative)"),
	KEY("fetcher", "click2call_timeout", CONF_INT, click2call_timeout_s, "10", 1, 120,
	    "seconds to wait for the PBX's click-to-call answer"),
	KEY("fetcher", "live_ringing_timeout", CONF_INT, live_ringing_timeout_s, "120", 10, 86400,
	    "seconds a ringing call stays in the live view without news"),
	KEY("fetcher", "live_talking_timeout", CONF_INT, live_talking_timeout_s, "14400", 60, 86400,
	    "seconds an answered call stays in the live view without a hangup"),
	KEY("fetcher", "ui_dir", CONF_STRING, ui_dir, "", 0, 0,
	    "the call-log page's files (empty: next to the binary, then the installed share/ringlog/ui)"),
	KEY("fetcher", "ui_frame_ancestors", CONF_STRING, ui_frame_ancestors, "'self'", 0, 0,
	    "origins allowed to embed the page in an iframe (CSP frame-ancestors), e.g. https://crm.example.com"),
	KEY("fetcher", "ui_session_ttl", CONF_INT, ui_session_ttl_s, "28800", 60, 86400,
	    "default seconds a UI session token lasts"),
	KEY("fetcher", "source_refresh", CONF_INT, source_refresh_s, "5", 1, 3600,
	    "seconds between reloads of the sources table"),
	KEY("fetcher", "shutdown_grace", CONF_INT, shutdown_grace_s, "10", 0, 600,
	    "seconds to finish requests in flight on SIGTERM"),
	KEY("fetcher", "max_exports", CONF_INT, max_exports, "4", 1, 256,
	    "CSV exports streaming at once, each holding a database connection (503 above)"),
	KEY("fetcher", "tls_cert", CONF_STRING, tls_cert, NULL, 0, 0,
	    "PEM certificate chain for HTTPS (with tls_key)"),
	KEY("fetcher", "tls_key", CONF_STRING, tls_key, NULL, 0, 0, "PEM private key for HTTPS"),
	KEY("fetcher", "log_level", CONF_STRING, log_level, "info", 0, 0,
	    "debug, info, notice, warning or err"),
};

const size_t fetcher_conf_nkeys = sizeof(fetcher_conf_keys) / sizeof(fetcher_conf_keys[0]);
