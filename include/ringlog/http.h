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
#include <stdio.h>

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
	bool body_too_large;     /* over max_body: answered 413 once it has come */
	size_t body_dropped;     /* bytes of it thrown away meanwhile */
	bool answered;
	bool streaming;          /* an event stream: kept out of the latency histogram */
	int64_t received_us;     /* wall clock, µs since the epoch */
	int64_t start_ns;        /* monotonic, for latency */
	unsigned status;
	/* Who the request acts for, once authenticated (owned; logged), and
	 * how it proved it (a static word: "token", "session", "signed_url"). */
	char *user;
	const char *auth;
	long long auth_id;       /* the id of the credential (an API token), or 0 */
	/* What the log line says besides the basics (owned). */
	char *log_source, *log_call_id;
	const char *log_outcome;
	struct buf extra_headers; /* "Name\0Value\0" pairs added to the answer */
	struct guard_conn *guard; /* the connection's entry in the slow-client guard */
	/* A handler's own state across calls (a suspended request is handled
	 * again when resumed); APP_CTX_FREE(APP_CTX) runs when it completes. */
	void *app_ctx;
	void (*app_ctx_free)(void *app_ctx);
};

typedef enum MHD_Result (*http_handler)(struct http_request *req, void *app);

/* PATH is exact ("/healthz"), a prefix when it ends with '/' ("/v1/cdr/"
 * matches "/v1/cdr/acme"), or a template whose "{name}" segments each match
 * one non-empty segment ("/v1/tasks/{id}/done"). Exact paths are tried
 * before prefixes and templates, so "/v1/calls/live" wins over
 * "/v1/calls/{id}" wherever it sits in the table. */
struct http_route {
	const char *methods; /* "GET", "POST", "GET HEAD", ... */
	const char *path;    /* exact path; a template with {name} segments; or ending with
	                       * '/': that and one more segment, maybe empty */
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
	int header_timeout_s;     /* a request head must be in within this (0: 10) */
	long long min_body_rate;  /* bytes/s a body must average once past header_timeout (0: any) */
	int max_connections;
	int max_connections_per_ip; /* 0: no limit per client address */
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
/* Reads the TLS certificate and key files again (SIGHUP) for new
 * connections; open ones keep theirs. HTTPS cannot be switched on or off
 * this way. Returns 0 (also when serving plain HTTP and still asked to), or
 * -1 with E filled: then the certificate in use stays. */
int http_server_reload_tls(struct http_server *s, const char *cert, const char *key,
			   struct errbuf *e) RL_MUST_CHECK;
/* Appends the served certificate's subject, issuer and expiry to OUT;
 * returns false when serving plain HTTP. */
bool http_server_describe_tls(const struct http_server *s, struct buf *out);

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
/* Answers STATUS with a body that READER (libmicrohttpd's content reader)
 * writes as the client takes it: chunked, in blocks of at most BLOCK_SIZE,
 * in constant memory. READER runs on the request's worker thread.
 * RELEASE(CLS) runs exactly once: when the answer is complete, when the
 * client went away mid-stream, or at once if the answer cannot be queued. */
enum MHD_Result http_reply_stream(struct http_request *req, unsigned status,
				  const char *content_type, size_t block_size,
				  MHD_ContentReaderCallback reader, void *cls,
				  MHD_ContentReaderFreeCallback release);
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
/* The segment a template route's "{NAME}" matched ("/v1/tasks/{id}/done",
 * "id" -> "7"). Returns a new string (caller frees), or NULL. */
char *http_path_param(const struct http_request *req, const char *name);

/* Prints "METHOD PATH" per line for every route and method of ROUTES (a
 * prefix route's tail shows as "{...}"): what a daemon's --list-routes
 * shows, so tests can hold the table against the API documentation. */
void http_routes_print(const struct http_route *routes, FILE *out);

/* Built-in handlers every daemon mounts. */
enum MHD_Result http_handle_healthz(struct http_request *req, void *app);
enum MHD_Result http_handle_readyz(struct http_request *req, void *app);
enum MHD_Result http_handle_metrics(struct http_request *req, void *app);

/* Wall-clock µs since the epoch, and monotonic ns. */
int64_t http_now_us(void);
int64_t http_monotonic_ns(void);

#endif
