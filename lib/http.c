#include "ringlog/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ringlog/auth.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

struct http_server {
	struct http_options opt;
	struct MHD_Daemon *daemon;
	unsigned port;
	atomic_int in_flight;
	atomic_ullong next_id;
	unsigned id_salt;
	char *tls_cert_pem, *tls_key_pem;
};

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					 0.05,	 0.1,	0.25,	0.5,   1,    2.5 };
static struct metric request_seconds = METRIC_HISTOGRAM_INIT(
	"ringlog_http_request_duration_seconds", NULL,
	"Time from a request's first line to its answer.", latency_bounds);
static struct metric requests_2xx = METRIC_COUNTER_INIT("ringlog_http_requests_total", "class=\"2xx\"", "HTTP requests answered, by status class.");
static struct metric requests_3xx = METRIC_COUNTER_INIT("ringlog_http_requests_total", "class=\"3xx\"", "");
static struct metric requests_4xx = METRIC_COUNTER_INIT("ringlog_http_requests_total", "class=\"4xx\"", "");
static struct metric requests_5xx = METRIC_COUNTER_INIT("ringlog_http_requests_total", "class=\"5xx\"", "");
static double read_in_flight(void *ctx);
static struct metric in_flight_gauge = METRIC_GAUGE_INIT("ringlog_http_requests_in_flight", NULL, "Requests being served.", read_in_flight);

int64_t http_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t http_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double read_in_flight(void *ctx)
{
	return ctx ? (double)((struct http_server *)ctx)->in_flight : 0;
}

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
	enum MHD_Result rc;

	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
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

/* ---- the request life cycle --------------------------------------------- */

static bool sane_request_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= 64 || !(isalnum((unsigned char)s[n]) || strchr("._-", s[n])))
			return false;
	return n > 0;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_server *s = cls;
	struct http_request *req = xcalloc(1, sizeof(*req));
	const char *q;

	req->server = s;
	req->conn = conn;
	req->uri = xstrdup(uri);
	q = strchr(req->uri, '?');
	req->query = q ? q + 1 : "";
	req->received_us = http_now_us();
	req->start_ns = http_monotonic_ns();
	snprintf(req->id, sizeof(req->id), "%08x%08llx", s->id_salt,
		 (unsigned long long)atomic_fetch_add(&s->next_id, 1));
	atomic_fetch_add(&s->in_flight, 1);
	return req;
}

/* The one log line of a request: what it was, who, what came of it. */
static void log_request(const struct http_request *req, double seconds,
			enum MHD_RequestTerminationCode toe)
{
	struct buf line = BUF_INIT;
	bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;

	buf_addf(&line, "request id=%s method=%s path=%.200s status=%u", req->id,
		 req->method ? req->method : "-", req->path, req->status);
	if (req->user)
		buf_addf(&line, " user=%.100s auth=%s", req->user, req->auth ? req->auth : "-");
	if (req->log_source)
		buf_addf(&line, " source=%s", req->log_source);
	if (req->log_call_id)
		buf_addf(&line, " call_id=%.200s", req->log_call_id);
	if (req->log_outcome)
		buf_addf(&line, " outcome=%s", req->log_outcome);
	buf_addf(&line, " ms=%.2f%s", seconds * 1e3, ok ? "" : " (connection closed early)");
	log_msg(ok ? LOG_INFO : LOG_NOTICE, "%s", line.data);
	buf_release(&line);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_request *req = *con_cls;
	double seconds;

	(void)conn;
	if (!req)
		return;
	seconds = (double)(http_monotonic_ns() - req->start_ns) / 1e9;
	metrics_observe(&request_seconds, seconds);
	metrics_inc(req->status >= 500 ? &requests_5xx : req->status >= 400 ? &requests_4xx
		    : req->status >= 300 ? &requests_3xx : &requests_2xx);
	if (req->path && strcmp(req->path, "/metrics") != 0 && strcmp(req->path, "/healthz") != 0)
		log_request(req, seconds, toe);
	free(req->uri);
	free((char *)req->path);
	free(req->log_source);
	free(req->log_call_id);
	free(req->user);
	buf_release(&req->body);
	buf_release(&req->extra_headers);
	free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&s->in_flight, 1);
}

static bool method_listed(const char *methods, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = methods; (p = strstr(p, m)); p += n)
		if ((p == methods || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* A route path is exact ("/healthz"), a prefix when it ends with '/'
 * ("/v1/cdr/" matches "/v1/cdr/acme"), or a template whose "{name}"
 * segments each match one non-empty path segment ("/v1/tasks/{id}/done"). */
static bool is_static(const struct http_route *r)
{
	size_t n = strlen(r->path);

	return !strchr(r->path, '{') && !(n && r->path[n - 1] == '/');
}

/* Walks template TPL along PATH. When NAME is set, *VALUE and *LEN receive
 * the segment that "{NAME}" matched. Returns whether the whole path matches. */
static bool template_walk(const char *tpl, const char *path, const char *name,
			  const char **value, size_t *len)
{
	size_t nlen = name ? strlen(name) : 0;

	while (*tpl && *path) {
		if (*tpl == '{') {
			const char *close = strchr(tpl, '}');
			size_t seg = strcspn(path, "/");

			if (!close || seg == 0)
				return false;
			if (name && (size_t)(close - tpl - 1) == nlen && strncmp(tpl + 1, name, nlen) == 0) {
				*value = path;
				*len = seg;
			}
			tpl = close + 1;
			path += seg;
		} else if (*tpl++ != *path++) {
			return false;
		}
	}
	return !*tpl && !*path;
}

static bool path_matches(const struct http_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (strchr(r->path, '{'))
		return template_walk(r->path, path, NULL, NULL, NULL);
	if (n && r->path[n - 1] == '/') /* the prefix and one more path segment, maybe empty */
		return strncmp(path, r->path, n) == 0 && !strchr(path + n, '/');
	return strcmp(path, r->path) == 0;
}

char *http_path_param(const struct http_request *req, const char *name)
{
	const char *value = NULL;
	size_t len = 0;

	if (!req->route || !template_walk(req->route->path, req->path, name, &value, &len) || !value)
		return NULL;
	return xstrndup(value, len);
}

void http_routes_print(const struct http_route *routes, FILE *out)
{
	for (const struct http_route *r = routes; r->fn; r++) {
		size_t n = strlen(r->path);
		bool prefix = !strchr(r->path, '{') && n && r->path[n - 1] == '/';

		for (const char *m = r->methods; *m;) {
			size_t len = strcspn(m, " ");

			if (len)
				fprintf(out, "%.*s %s%s\n", (int)len, m, r->path, prefix ? "{...}" : "");
			m += len;
			while (*m == ' ')
				m++;
		}
	}
}

/* Finds the route for the request; answers 404/405 itself when there is none. */
static enum MHD_Result route(struct http_request *req)
{
	const struct http_route *r;
	struct buf allow = BUF_INIT;
	enum MHD_Result rc;

	/* Exact paths first, so "/v1/calls/live" wins over "/v1/calls/{id}". */
	for (int pass = 0; pass < 2; pass++) {
		for (r = req->server->opt.routes; r->fn; r++) {
			if (is_static(r) != (pass == 0) || !path_matches(r, req->path))
				continue;
			if (method_listed(r->methods, req->method)) {
				req->route = r;
				buf_release(&allow);
				return MHD_YES;
			}
			buf_addf(&allow, "%s%s", allow.len ? " " : "", r->methods);
		}
	}
	if (!allow.len)
		return http_reply_error(req, 404, "not_found", "no such endpoint: %.200s", req->path);
	for (size_t i = 0; i < allow.len; i++)
		if (allow.data[i] == ' ')
			allow.data[i] = ',';
	http_add_header(req, "Allow", allow.data);
	rc = http_reply_error(req, 405, "method_not_allowed", "%s is not allowed here; use %s",
			      req->method, allow.data);
	buf_release(&allow);
	return rc;
}

static enum MHD_Result too_large(struct http_request *req)
{
	return http_reply_error(req, 413, "body_too_large", "the body is larger than %lld bytes",
				req->server->opt.max_body);
}

/* First call for a request: route it and decide whether to read a body. */
static enum MHD_Result begin(struct http_request *req, const char *url, const char *method)
{
	const char *cl, *rid;

	req->method = method;
	req->path = xstrdup(url);
	rid = http_header(req, "X-Request-Id");
	if (rid && sane_request_id(rid))
		snprintf(req->id, sizeof(req->id), "%s", rid);
	if (route(req) != MHD_YES || req->answered)
		return req->answered ? MHD_YES : MHD_NO;
	cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoll(cl, NULL, 10) > req->server->opt.max_body)
		return too_large(req);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_request *req = *con_cls;

	(void)version;
	(void)conn;
	if (!req->method)
		return begin(req, url, method);
	if (req->answered) { /* answered early (413, 404): drop what still comes */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (req->body.len + *upload_data_size > (size_t)s->opt.max_body || !req->route->wants_body) {
			*upload_data_size = 0;
			req->body_too_large = true;
			return req->route->wants_body ? too_large(req) : MHD_YES;
		}
		buf_add(&req->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return req->route->fn(req, s->opt.app);
}

/* ---- start and stop ----------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf line = BUF_INIT;

	(void)cls;
	buf_vaddf(&line, fmt, ap);
	while (line.len && line.data[line.len - 1] == '\n')
		line.data[--line.len] = '\0';
	log_msg(LOG_WARNING, "http: %s", buf_str(&line));
	buf_release(&line);
}

static int parse_listen(const char *text, struct sockaddr_storage *ss, struct errbuf *e)
{
	char host[256];
	const char *colon = strrchr(text, ':');
	struct addrinfo hints = { 0 }, *res = NULL;
	size_t hl;
	int rc;

	if (!colon)
		return err_set(e, "listen address \"%s\" needs a port (HOST:PORT)", text);
	hl = (size_t)(colon - text);
	if (hl >= sizeof(host))
		return err_set(e, "listen address \"%s\" is too long", text);
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 1 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
	if (rc != 0)
		return err_set(e, "listen address \"%s\": %s", text, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static char *read_pem(const char *path, struct errbuf *e)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f) {
		err_set(e, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1 << 20))
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, NULL);
}

/* The TLS options, or an empty list for plain HTTP. */
static struct MHD_OptionItem *tls_options(struct http_server *s, struct MHD_OptionItem tls[3])
{
	int n = 0;

	if (s->tls_cert_pem) {
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return tls;
}

static void register_metrics(struct http_server *s)
{
	static bool done;

	in_flight_gauge.ctx = s;
	if (done)
		return;
	done = true;
	metrics_register(&request_seconds);
	metrics_register(&requests_2xx);
	metrics_register(&requests_3xx);
	metrics_register(&requests_4xx);
	metrics_register(&requests_5xx);
	metrics_register(&in_flight_gauge);
}

struct http_server *http_server_start(const struct http_options *o, struct errbuf *e)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem tls[3];
	unsigned char salt[4];

	s->opt = *o;
	if (parse_listen(o->listen, &ss, e) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key)) {
		err_set(e, "TLS needs both a certificate and a key file");
		goto fail;
	}
	if (o->tls_cert && *o->tls_cert) {
		s->tls_cert_pem = read_pem(o->tls_cert, e);
		s->tls_key_pem = s->tls_cert_pem ? read_pem(o->tls_key, e) : NULL;
		if (!s->tls_key_pem)
			goto fail;
		flags |= MHD_USE_TLS;
	}
	if (auth_random_bytes(salt, sizeof(salt)) < 0)
		memset(salt, 0, sizeof(salt));
	s->id_salt = (unsigned)salt[0] << 24 | (unsigned)salt[1] << 16 | (unsigned)salt[2] << 8 | salt[3];
	register_metrics(s);
	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_ARRAY, tls_options(s, tls),
		MHD_OPTION_END);
	if (!s->daemon) {
		err_set(e, "cannot listen on %s (address in use, or bad options)", o->listen);
		goto fail;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	return s;
fail:
	free(s->tls_cert_pem);
	free(s->tls_key_pem);
	free(s);
	return NULL;
}

unsigned http_server_port(const struct http_server *s)
{
	return s->port;
}

int http_server_in_flight(const struct http_server *s)
{
	return s->in_flight;
}

void http_server_stop(struct http_server *s, int grace_ms)
{
	MHD_socket fd;

	if (!s)
		return;
	fd = MHD_quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	for (int waited = 0; s->in_flight > 0 && waited < grace_ms; waited += 10)
		usleep(10000);
	MHD_stop_daemon(s->daemon);
	in_flight_gauge.ctx = NULL;
	free(s->tls_cert_pem);
	free(s->tls_key_pem);
	free(s);
}
