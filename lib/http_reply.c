/* Answers: plain, streamed, JSON and JSON errors, with the request id and
 * the headers a handler added; what a handler reads of the request; and the
 * endpoints every daemon mounts (/healthz, /readyz, /metrics). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "ringlog/db.h"

/* ---- answers ------------------------------------------------------------ */

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	buf_add(&req->extra_headers, name, strlen(name) + 1);
	buf_add(&req->extra_headers, value, strlen(value) + 1);
}

/* Adds the request id, the extra headers and CONTENT_TYPE to RESP, queues
 * it and lets go of it (MHD keeps its own reference). */
static enum MHD_Result queue(struct http_request *req, unsigned status, const char *content_type,
			     struct MHD_Response *resp)
{

	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return http_reply_response(req, status, resp);
}

enum MHD_Result http_reply_response(struct http_request *req, unsigned status,
				    struct MHD_Response *resp)
{
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Request-Id", req->id);
	for (size_t i = 0; i < req->extra_headers.len;) {
		const char *name = req->extra_headers.data + i;
		const char *value = name + strlen(name) + 1;

		MHD_add_response_header(resp, name, value);
		i = (size_t)(value + strlen(value) + 1 - req->extra_headers.data);
	}
	req->status = status;
	req->answered = true;
	rc = MHD_queue_response(req->conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

enum MHD_Result http_reply(struct http_request *req, unsigned status, const char *content_type,
			   const void *body, size_t len)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);

	if (!resp)
		return MHD_NO;
	return queue(req, status, content_type, resp);
}

enum MHD_Result http_reply_stream(struct http_request *req, unsigned status,
				  const char *content_type, size_t block_size,
				  MHD_ContentReaderCallback reader, void *cls,
				  MHD_ContentReaderFreeCallback release)
{
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, block_size, reader, cls, release);

	if (strncmp(content_type, "text/event-stream", 17) == 0)
		req->streaming = true;

	if (!resp) {
		release(cls);
		return MHD_NO;
	}
	return queue(req, status, content_type, resp);
}

enum MHD_Result http_reply_json(struct http_request *req, unsigned status, json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	enum MHD_Result rc = http_reply(req, status, "application/json", text, strlen(text));

	json_object_put(obj);
	return rc;
}

enum MHD_Result http_reply_error(struct http_request *req, unsigned status, const char *code,
				 const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(code));
	json_object_object_add(o, "message", json_object_new_string(buf_str(&msg)));
	buf_release(&msg);
	if (!req->log_outcome)
		req->log_outcome = code;
	return http_reply_json(req, status, o);
}

const char *http_header(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query_param(struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_path_tail(const struct http_request *req)
{
	size_t n = strlen(req->route->path);

	return strlen(req->path) >= n ? req->path + n : "";
}

/* ---- built-in endpoints ------------------------------------------------- */

enum MHD_Result http_handle_healthz(struct http_request *req, void *app)
{
	(void)app;
	return http_reply(req, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

enum MHD_Result http_handle_readyz(struct http_request *req, void *app)
{
	static const struct db_stmt ping = { "http_readyz_ping", "SELECT 1", 0 };
	struct db *db = db_for_thread(req->server->opt.db_conninfo, req->server->opt.program);
	struct errbuf e;
	PGresult *res;

	(void)app;
	res = db_exec(db, &ping, NULL, &e);
	if (!res)
		return http_reply_error(req, 503, "database_unavailable", "%s", e.msg);
	PQclear(res);
	return http_reply(req, 200, "application/json", "{\"status\":\"ready\"}", 18);
}

enum MHD_Result http_handle_metrics(struct http_request *req, void *app)
{
	struct buf out = BUF_INIT;
	enum MHD_Result rc;

	(void)app;
	metrics_render(&out);
	rc = http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&out), out.len);
	buf_release(&out);
	return rc;
}

