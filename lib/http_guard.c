/* Slow clients (slowloris): libmicrohttpd's timeout only ends silence, so a
 * client that sends a header line every few seconds, or a body a byte at a
 * time, could hold a connection for ever, and enough of them every
 * connection. The guard knows each connection's phase and when it began,
 * and a thread of its own cuts (shutdown(2); libmicrohttpd then closes the
 * connection) a head not complete within header_timeout, a body slower
 * than min_body_rate after it, and, while the connections are nearly all
 * taken, the oldest slow heads and idle keep-alive connections first, so
 * that a real request always finds a free one. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_internal.h"
#include "ringlog/xalloc.h"

#define GUARD_TICK_MS 100
#define GUARD_PRESSURE_AGE_NS 1000000000LL /* under pressure, heads older than this go */
#define GUARD_LOG_EVERY_S 10

enum phase { PHASE_HEAD, PHASE_BODY, PHASE_HANDLER };

struct guard_conn {
	struct MHD_Connection *conn;
	int fd;
	enum phase phase;
	int64_t since_ns;      /* when the phase began (a head: connect or last answer) */
	uint64_t body_bytes;
	bool cut;
	struct guard_conn *prev, *next;
};

struct http_guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	struct guard_conn *conns; /* a list: oldest phase start is found by a scan */
	int count;                /* connections not cut */
	int max_connections;
	int64_t header_ns;
	long long min_body_rate;
	unsigned long long cut_head, cut_body, cut_pressure;
	int64_t logged_ns;
};

static struct metric cut_total = METRIC_COUNTER_INIT(
	"ringlog_http_slow_clients_cut_total", NULL,
	"Connections cut for a slow request head or body, or to free room for others.");

static void cut(struct http_guard *g, struct guard_conn *c, unsigned long long *counter)
{
	c->cut = true;
	g->count--;
	(*counter)++;
	metrics_inc(&cut_total);
	shutdown(c->fd, SHUT_RDWR);
}

static bool body_too_slow(const struct http_guard *g, const struct guard_conn *c, int64_t now)
{
	int64_t age = now - c->since_ns;

	return g->min_body_rate > 0 && age > g->header_ns &&
	       (double)c->body_bytes < (double)g->min_body_rate * (double)age / 1e9;
}

/* The oldest head (or body below the rate) started before LIMIT, or NULL. */
static struct guard_conn *oldest_slow(struct http_guard *g, int64_t now, int64_t limit)
{
	struct guard_conn *best = NULL;

	for (struct guard_conn *c = g->conns; c; c = c->next) {
		bool slow = c->phase == PHASE_HEAD ||
			    (c->phase == PHASE_BODY && g->min_body_rate > 0 &&
			     (double)c->body_bytes < (double)g->min_body_rate * (double)(now - c->since_ns) / 1e9);

		if (!c->cut && slow && c->since_ns < limit && (!best || c->since_ns < best->since_ns))
			best = c;
	}
	return best;
}

static void sweep(struct http_guard *g, int64_t now)
{
	int high = g->max_connections - g->max_connections / 8, low = g->max_connections * 3 / 4;
	struct guard_conn *c;

	for (c = g->conns; c; c = c->next) {
		if (c->cut)
			continue;
		if (c->phase == PHASE_HEAD && now - c->since_ns > g->header_ns)
			cut(g, c, &g->cut_head);
		else if (c->phase == PHASE_BODY && body_too_slow(g, c, now))
			cut(g, c, &g->cut_body);
	}
	if (g->count < high)
		return;
	while (g->count > low && (c = oldest_slow(g, now, now - GUARD_PRESSURE_AGE_NS)))
		cut(g, c, &g->cut_pressure);
}

static void maybe_log(struct http_guard *g, int64_t now)
{
	if (g->cut_head + g->cut_body + g->cut_pressure == 0 ||
	    now - g->logged_ns < (int64_t)GUARD_LOG_EVERY_S * 1000000000LL)
		return;
	log_msg(LOG_WARNING, "slow clients cut: %llu heads past header_timeout, %llu bodies below "
		"min_body_rate, %llu slow or idle connections to make room (%d open)",
		g->cut_head, g->cut_body, g->cut_pressure, g->count);
	g->cut_head = g->cut_body = g->cut_pressure = 0;
	g->logged_ns = now;
}

static void *guard_main(void *arg)
{
	struct http_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		struct timespec until;
		int64_t now = http_monotonic_ns();

		sweep(g, now);
		maybe_log(g, now);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += GUARD_TICK_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct http_guard *http_guard_start(const struct http_options *o, struct errbuf *e)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));
	static atomic_bool registered;

	g->max_connections = o->max_connections;
	g->header_ns = (int64_t)(o->header_timeout_s > 0 ? o->header_timeout_s : 10) * 1000000000LL;
	g->min_body_rate = o->min_body_rate;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (!atomic_exchange(&registered, true))
		metrics_register(&cut_total);
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		err_set(e, "cannot start the slow-client guard: %s", strerror(errno));
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

void http_guard_stop(struct http_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	while (g->conns) {
		struct guard_conn *c = g->conns;

		g->conns = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

struct guard_conn *http_guard_add(struct http_guard *g, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct guard_conn *c;

	if (!g || !info)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->conn = conn;
	c->fd = info->connect_fd;
	c->phase = PHASE_HEAD;
	c->since_ns = http_monotonic_ns();
	pthread_mutex_lock(&g->lock);
	c->next = g->conns;
	if (g->conns)
		g->conns->prev = c;
	g->conns = c;
	g->count++;
	pthread_mutex_unlock(&g->lock);
	return c;
}

void http_guard_remove(struct http_guard *g, struct guard_conn *c)
{
	if (!g || !c)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (!c->cut)
		g->count--;
	pthread_mutex_unlock(&g->lock);
	free(c);
}

static void set_phase(struct http_guard *g, struct guard_conn *c, enum phase p)
{
	if (!g || !c)
		return;
	pthread_mutex_lock(&g->lock);
	c->phase = p;
	c->since_ns = http_monotonic_ns();
	c->body_bytes = 0;
	pthread_mutex_unlock(&g->lock);
}

void http_guard_head_done(struct http_guard *g, struct guard_conn *c, bool body)
{
	set_phase(g, c, body ? PHASE_BODY : PHASE_HANDLER);
}

void http_guard_body(struct http_guard *g, struct guard_conn *c, size_t n)
{
	if (!g || !c)
		return;
	pthread_mutex_lock(&g->lock);
	c->body_bytes += n;
	pthread_mutex_unlock(&g->lock);
}

void http_guard_body_done(struct http_guard *g, struct guard_conn *c)
{
	set_phase(g, c, PHASE_HANDLER);
}

void http_guard_answered(struct http_guard *g, struct guard_conn *c)
{
	set_phase(g, c, PHASE_HEAD); /* the next request's head, on a kept-alive connection */
}
