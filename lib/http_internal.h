/* What the files of the http module (http.c, http_body.c, http_reply.c,
 * http_route.c) share. */
#ifndef RINGLOG_HTTP_INTERNAL_H
#define RINGLOG_HTTP_INTERNAL_H

#include <stdatomic.h>

#include "ringlog/http.h"

struct tls_creds;

struct http_server {
	struct http_options opt;
	struct MHD_Daemon *daemon;
	unsigned port;
	atomic_int in_flight;
	atomic_ullong next_id;
	unsigned id_salt;
	struct tls_creds *tls; /* NULL: plain HTTP */
};

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
