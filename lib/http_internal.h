/* What lib/http.c and lib/http_body.c share. */
#ifndef RINGLOG_HTTP_INTERNAL_H
#define RINGLOG_HTTP_INTERNAL_H

#include "ringlog/http.h"

/* Appends a piece of REQ's body (O: the server's options): in memory, or in the spill file once the
 * route allows it and the body has grown past the threshold. Returns 0, or
 * -1 with errno set (the file could not be made or written). */
int http_body_add(struct http_request *req, const struct http_options *o, const char *data,
		  size_t n);
/* Unmaps and closes a spilled body. */
void http_body_release(struct http_request *req);

#endif
