/* The HTTP side both daemons share, on libmicrohttpd's thread pool: routing
 * by method and path, bounded request bodies, request ids, JSON answers and
 * errors, one log line and one latency observation per request, /healthz,
 * /readyz and /metrics, and a graceful stop (quiesce, finish, close). */
#ifndef RINGLOG_HTTP_H
#define RINGLOG_HTTP_H

#include <json-c/json.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringlog/buf.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"
#include "ringlog/metrics.h"

struct http_server;

/* One request, from its first line to its completion. */
struct http_request {
	char id[65];             /* X-Request-Id: the client's if sane, else ours */
	char *uri;               /* as sent, query included */
	const char *path;        /* decoded path (MHD's url) */
	const char *query;       /* raw query string after '?', or "" */
	const char *method;
	struct MHD_Connection *conn;
	struct http_server *server;
	const struct http_route *route;
	struct buf body;         /* the body, unless it was spilled (see http_body) */
	int body_fd;             /* >= 0: the body is in this unlinked temp file */
	uint64_t body_size;      /* bytes of the body, wherever it is */
	void *body_map;          /* the spilled body mapped by http_body(), or NULL */
	bool body_too_large;
	bool answered;
	int64_t received_us;     /* wall clock, µs since the epoch */
	int64_t start_ns;        /* monotonic, for latency */
	unsigned status;
	/* What the log line says besides the basics (owned). */
	char *log_source, *log_call_id;
	const char *log_outcome;
	struct buf extra_headers; /* "Name\0Value\0" pairs added to the answer */
	/* A handler's own state across calls (a suspended request is handled
	 * again when resumed); APP_CTX_FREE(APP_CTX) runs when it completes. */
	void *app_ctx;
	void (*app_ctx_free)(void *app_ctx);
};

typedef enum MHD_Result (*http_handler)(struct http_request *req, void *app);

struct http_route {
	const char *methods; /* "GET", "POST", "GET HEAD", ... */
	const char *path;    /* exact path, or a prefix when it ends with '/' */
	http_handler fn;
	/* false: no body; true (HTTP_BODY_MEMORY): POST/PUT bodies are read
	 * into memory, up to max_body; HTTP_BODY_SPILL: the same, but past
	 * http_options.spill_threshold they go to a temp file (see http_body). */
	unsigned char wants_body;
};

#define HTTP_BODY_MEMORY 1
#define HTTP_BODY_SPILL 2

struct http_options {
	const char *program;      /* for logs */
	const char *listen;       /* "127.0.0.1:8080", "[::1]:0" */
	int threads;
	long long max_body;       /* bytes */
	int timeout_s;            /* idle connection timeout */
	int max_connections;
	const char *db_conninfo;  /* for /readyz */
	const char *tls_cert;     /* PEM files; both or neither */
	const char *tls_key;
	const struct http_route *routes; /* ends with a route whose fn is NULL */
	void *app;                /* handed to every handler */
	/* Bodies of routes with HTTP_BODY_SPILL: kept in memory up to SPILL_THRESHOLD
	 * bytes (0: always), then in an unlinked file in SPILL_DIR. */
	long long spill_threshold;
	const char *spill_dir;
	/* Called by http_server_stop after the grace period, before the
	 * connections are closed: the application resumes every connection it
	 * suspended (MHD_suspend_connection), as libmicrohttpd requires. */
	void (*before_stop)(void *app);
};

/* Starts serving. Returns the server, or NULL with E filled. */
struct http_server *http_server_start(const struct http_options *o, struct errbuf *e) RL_MUST_CHECK;
/* The port bound (useful when listening on port 0). */
unsigned http_server_port(const struct http_server *s);
/* Stops accepting, waits up to GRACE_MS for requests in flight, and frees S. */
void http_server_stop(struct http_server *s, int grace_ms);
/* Requests being served right now. */
int http_server_in_flight(const struct http_server *s);

/* Answers (each returns what the MHD handler must return). */
enum MHD_Result http_reply(struct http_request *req, unsigned status, const char *content_type,
			   const void *body, size_t len);
/* Queues RESP (a response the handler made: from a file, a callback...)
 * with the request id and the added headers, and destroys it. */
enum MHD_Result http_reply_response(struct http_request *req, unsigned status,
				    struct MHD_Response *resp);
/* Serialises OBJ (and puts it). */
enum MHD_Result http_reply_json(struct http_request *req, unsigned status, json_object *obj);
/* {"error": CODE, "message": ...}. */
enum MHD_Result http_reply_error(struct http_request *req, unsigned status, const char *code,
				 const char *fmt, ...) RL_PRINTF(4, 5);
/* Adds a header to the answer still to come. */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* The request body wherever it is (memory, or a spilled file mapped
 * read-only); *LEN gets its size. Borrowed until the request completes.
 * NULL with *LEN 0 when there is none (or the file cannot be mapped). */
const char *http_body(struct http_request *req, size_t *len);

/* A request header or a decoded query parameter; borrowed, or NULL. */
const char *http_header(struct http_request *req, const char *name);
const char *http_query_param(struct http_request *req, const char *name);
/* The part of the path after the route's prefix ("/v1/cdr/acme" -> "acme"). */
const char *http_path_tail(const struct http_request *req);

/* Built-in handlers every daemon mounts. */
enum MHD_Result http_handle_healthz(struct http_request *req, void *app);
enum MHD_Result http_handle_readyz(struct http_request *req, void *app);
enum MHD_Result http_handle_metrics(struct http_request *req, void *app);

/* Wall-clock µs since the epoch, and monotonic ns. */
int64_t http_now_us(void);
int64_t http_monotonic_ns(void);

#endif
