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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"
#include "ringlog/auth.h"
#include "ringlog/db.h"
#include "ringlog/tls.h"
#include "ringlog/xalloc.h"

/* TLS 1.2 and 1.3 only: what a PBX on the internet speaks since 2008. */
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
					 0.05,	 0.1,	0.25,	0.5,   1,    2.5 };
static struct metric request_seconds = METRIC_HISTOGRAM_INIT(
	"ringlog_http_request_duration_seconds", NULL,
	"Time from a request's first line to its answer.", latency_bounds);
/* HTTP requests by status code: the codes the daemons answer, a series
 * each once seen; anything else counts as code="other". */
#define CODE_COUNTER(c) { .kind = METRIC_COUNTER, .name = "ringlog_http_requests_total",         \
			  .labels = "code=\"" #c "\"", .help = "HTTP requests answered, by status code.", \
			  .hide_zero = true }
static struct metric requests_by_code[] = {
	CODE_COUNTER(200), CODE_COUNTER(201), CODE_COUNTER(204), CODE_COUNTER(206), CODE_COUNTER(301),
	CODE_COUNTER(302), CODE_COUNTER(303), CODE_COUNTER(304), CODE_COUNTER(307), CODE_COUNTER(400),
	CODE_COUNTER(401), CODE_COUNTER(403), CODE_COUNTER(404), CODE_COUNTER(405), CODE_COUNTER(406),
	CODE_COUNTER(408), CODE_COUNTER(409), CODE_COUNTER(410), CODE_COUNTER(411), CODE_COUNTER(412),
	CODE_COUNTER(413), CODE_COUNTER(414), CODE_COUNTER(415), CODE_COUNTER(416), CODE_COUNTER(417),
	CODE_COUNTER(422), CODE_COUNTER(429), CODE_COUNTER(431), CODE_COUNTER(500), CODE_COUNTER(501),
	CODE_COUNTER(502), CODE_COUNTER(503), CODE_COUNTER(504), CODE_COUNTER(505), CODE_COUNTER(other),
};
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
	req->body_fd = -1;
	req->uri = xstrdup(uri);
	q = strchr(req->uri, '?');
	req->query = q ? q + 1 : "";
	req->received_us = http_now_us();
	req->start_ns = http_monotonic_ns();
	{
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

		req->guard = ci ? ci->socket_context : NULL;
	}
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

static void count_code(unsigned status)
{
	size_t n = sizeof(requests_by_code) / sizeof(requests_by_code[0]);
	char code[16];

	snprintf(code, sizeof(code), "code=\"%u\"", status);
	for (size_t i = 0; i + 1 < n; i++)
		if (strcmp(requests_by_code[i].labels, code) == 0) {
			metrics_inc(&requests_by_code[i]);
			return;
		}
	metrics_inc(&requests_by_code[n - 1]);
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
	/* A stream (Server-Sent Events) lasts as long as its reader: not a latency. */
	if (!req->streaming)
		metrics_observe(&request_seconds, seconds);
	count_code(req->status);
	if (req->path && strcmp(req->path, "/metrics") != 0 && strcmp(req->path, "/healthz") != 0)
		log_request(req, seconds, toe);
	http_guard_answered(s->guard, req->guard);
	if (req->app_ctx_free)
		req->app_ctx_free(req->app_ctx);
	http_body_release(req);
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

static enum MHD_Result too_large(struct http_request *req)
{
	return http_reply_error(req, 413, "body_too_large", "the body is larger than %lld bytes",
				req->server->opt.max_body);
}

struct framing {
	int content_lengths, transfer_encodings;
	const char *content_length, *transfer_encoding;
	bool lengths_differ;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->content_length && strcmp(f->content_length, value) != 0)
			f->lengths_differ = true;
		f->content_length = value;
		f->content_lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encoding = value;
		f->transfer_encodings++;
	}
	return MHD_YES;
}

/* How the body is framed must be unambiguous, or a proxy in front and this
 * server could read two different requests out of the same bytes: one
 * Content-Length (digits), or one Transfer-Encoding: chunked, never both.
 * (libmicrohttpd itself refuses a Content-Length that is not a number
 * before any handler runs.) Returns NULL, or why not. */
static const char *framing_problem(struct http_request *req)
{
	struct framing f = { 0 };

	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_lengths > 1)
		return f.lengths_differ ? "the request has two different Content-Length headers"
					: "the request repeats its Content-Length header";
	if (f.content_lengths && f.transfer_encodings)
		return "the request has both Content-Length and Transfer-Encoding";
	if (f.transfer_encodings > 1 || (f.transfer_encodings && strcasecmp(f.transfer_encoding, "chunked") != 0))
		return "the only Transfer-Encoding understood is chunked";
	if (f.content_length && (!*f.content_length || strspn(f.content_length, "0123456789") !=
							  strlen(f.content_length)))
		return "the Content-Length header is not a number";
	return NULL;
}

static bool has_body(struct http_request *req)
{
	const char *cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return http_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strcmp(cl, "0") != 0);
}

/* First call for a request: route it and decide whether to read a body. */
static enum MHD_Result begin(struct http_request *req, const char *url, const char *method)
{
	const char *cl, *rid, *bad;

	req->method = method;
	req->path = xstrdup(url);
	rid = http_header(req, "X-Request-Id");
	if (rid && sane_request_id(rid))
		snprintf(req->id, sizeof(req->id), "%s", rid);
	http_guard_head_done(req->server->guard, req->guard, has_body(req));
	if ((bad = framing_problem(req))) {
		req->log_outcome = "bad_framing";
		http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
		return http_reply_error(req, 400, "bad_request", "%s", bad);
	}
	if (http_route_request(req) != MHD_YES || req->answered)
		return req->answered ? MHD_YES : MHD_NO;
	cl = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoll(cl, NULL, 10) > req->server->opt.max_body)
		return too_large(req);
	return MHD_YES;
}

/* A body without Content-Length (chunked) passed max_body while it was
 * coming in, when libmicrohttpd cannot answer yet: drop the rest and answer
 * 413 once it is in, or hang up when it goes on past this many bodies' worth. */
#define HTTP_DROP_BODIES 4

static enum MHD_Result take_body(struct http_request *req, const char *data, size_t *size)
{
	long long max = req->server->opt.max_body;
	size_t n = *size;

	*size = 0;
	if (!req->route->wants_body)
		return MHD_YES;
	if (req->body_too_large || req->body_size + n > (uint64_t)max) {
		req->body_too_large = true;
		req->body_dropped += (size_t)req->body_size + n;
		http_body_release(req);
		buf_release(&req->body);
		req->body_size = 0;
		if (req->body_dropped <= (size_t)max * HTTP_DROP_BODIES)
			return MHD_YES;
		req->log_outcome = "body_too_large";
		return MHD_NO;
	}
	if (http_body_add(req, &req->server->opt, data, n) < 0) {
		log_msg(LOG_ERR, "request id=%s: cannot keep the body: %s", req->id, strerror(errno));
		http_add_header(req, "Retry-After", "30");
		return http_reply_error(req, 503, "unavailable", "the body cannot be kept right now");
	}
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
		http_guard_body(s->guard, req->guard, *upload_data_size);
		return take_body(req, upload_data, upload_data_size);
	}
	http_guard_body_done(s->guard, req->guard);
	if (req->body_too_large)
		return too_large(req);
	return req->route->fn(req, s->opt.app);
}

/* Every connection is known to the slow-client guard while it is open. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = http_guard_add(s->guard, conn);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		http_guard_remove(s->guard, *socket_context);
}

/* ---- start and stop ----------------------------------------------------- */

/* libmicrohttpd's messages: FMT is its own printf format. */
static void mhd_log(void *cls, const char *fmt, va_list ap) RL_PRINTF(2, 0);
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

/* The TLS options, or an empty list for plain HTTP. The certificate and key
 * are handed to each handshake by tls_creds_retrieve, so a reload swaps them. */
static struct MHD_OptionItem *tls_options(struct http_server *s, struct MHD_OptionItem tls[3])
{
	int n = 0;

	if (s->tls) {
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
						    (void *)tls_creds_retrieve };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
						    (void *)HTTP_TLS_PRIORITIES };
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
	for (size_t i = 0; i < sizeof(requests_by_code) / sizeof(requests_by_code[0]); i++)
		metrics_register(&requests_by_code[i]);
	metrics_register(&in_flight_gauge);
}

struct http_server *http_server_start(const struct http_options *o, struct errbuf *e)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	/* Suspend/resume for handlers that wait (a recording still downloading);
	 * harmless to the others. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	struct MHD_OptionItem tls[3];
	unsigned char salt[4];

	s->opt = *o;
	if (parse_listen(o->listen, &ss, e) < 0)
		goto fail;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if ((o->tls_cert && *o->tls_cert) || (o->tls_key && *o->tls_key)) {
		s->tls = tls_creds_new(o->tls_cert, o->tls_key, e);
		if (!s->tls)
			goto fail;
		flags |= MHD_USE_TLS;
	}
	if (auth_random_bytes(salt, sizeof(salt)) < 0)
		memset(salt, 0, sizeof(salt));
	s->id_salt = (unsigned)salt[0] << 24 | (unsigned)salt[1] << 16 | (unsigned)salt[2] << 8 | salt[3];
	register_metrics(s);
	s->guard = http_guard_start(o, e);
	if (!s->guard)
		goto fail;
	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->max_connections_per_ip,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		/* daemon_block_signals() blocks SIGPIPE in every thread, which is
		 * what lets libmicrohttpd send files with sendfile(). */
		MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)1,
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
	http_guard_stop(s->guard);
	tls_creds_free(s->tls);
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
	if (s->opt.before_stop)
		s->opt.before_stop(s->opt.app);
	MHD_stop_daemon(s->daemon);
	http_guard_stop(s->guard);
	in_flight_gauge.ctx = NULL;
	tls_creds_free(s->tls);
	free(s);
}

int http_server_reload_tls(struct http_server *s, const char *cert, const char *key,
			   struct errbuf *e)
{
	bool want = (cert && *cert) || (key && *key);

	if (!s->tls && !want)
		return 0;
	if (!s->tls)
		return err_set(e, "HTTPS cannot be switched on without a restart");
	if (!want)
		return err_set(e, "HTTPS cannot be switched off without a restart");
	return tls_creds_reload(s->tls, cert, key, e);
}

bool http_server_describe_tls(const struct http_server *s, struct buf *out)
{
	if (!s->tls)
		return false;
	tls_creds_describe(s->tls, out);
	return true;
}
