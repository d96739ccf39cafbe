/* What the files of the http module (http.c, http_body.c, http_reply.c,
 * http_route.c) share. */
#ifndef RINGLOG_HTTP_INTERNAL_H
#define RINGLOG_HTTP_INTERNAL_H

#include <stdatomic.h>

#include "ringlog/http.h"

struct tls_creds;
struct http_guard;
struct guard_conn;

struct http_server {
	struct http_options opt;
	struct MHD_Daemon *daemon;
	unsigned port;
	atomic_int in_flight;
	atomic_ullong next_id;
	unsigned id_salt;
	struct tls_creds *tls; /* NULL: plain HTTP */
	struct http_guard *guard; /* slow clients (http_guard.c) */
};

/* The slow-client guard (http_guard.c): a thread that cuts connections
 * whose head or body is too slow, and makes room when nearly all are
 * taken. Each connection is added when it opens and removed when it
 * closes; the request's progress moves its phase. NULL G or C is a no-op. */
struct http_guard *http_guard_start(const struct http_options *o, struct errbuf *e);
void http_guard_stop(struct http_guard *g);
struct guard_conn *http_guard_add(struct http_guard *g, struct MHD_Connection *conn);
void http_guard_remove(struct http_guard *g, struct guard_conn *c);
/* The head is in; BODY: a request body is still to come. */
void http_guard_head_done(struct http_guard *g, struct guard_conn *c, bool body);
void http_guard_body(struct http_guard *g, struct guard_conn *c, size_t n);
void http_guard_body_done(struct http_guard *g, struct guard_conn *c);
/* Answered: the connection waits for the next head (keep-alive). */
void http_guard_answered(struct http_guard *g, struct guard_conn *c);

/* Finds REQ's route (sets req->route); answers 404/405 itself when there is
 * none (then req->answered is set). */
enum MHD_Result http_route_request(struct http_request *req);

/* Appends a piece of REQ's body (O: the server's options): in memory, or in the spill file once the
 * route allows it and the body has grown past the threshold. Returns 0, or
 * -1 with errno set (the file could not be made or written). */
int http_body_add(struct http_request *req, const struct http_options *o, const char *data,
		  size_t n);
/* Unmaps and closes a spilled body. */
void http_body_release(struct http_request *req);

#endif
