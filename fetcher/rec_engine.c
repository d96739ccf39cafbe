/* Flights: one per recording being fetched in this process, joined by every
 * player who asks meanwhile. Players wait with their connection suspended
 * (no server thread is held) and are resumed when the flight's state
 * changes or bytes arrive. One lock guards the table, the queues and every
 * flight's shared fields; the sections under it are a few instructions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec_internal.h"
#include "ringlog/xalloc.h"

/* ---- waiters ---------------------------------------------------------------- */

static void waiters_add(struct waiters *w, struct MHD_Connection *conn)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4;
		w->conns = xrealloc(w->conns, w->cap * sizeof(*w->conns));
	}
	w->conns[w->n++] = conn;
}

/* Resumes every waiting connection (called with the lock held: resuming
 * only flags the connection for libmicrohttpd's loop). */
static void waiters_resume(struct waiters *w)
{
	for (size_t i = 0; i < w->n; i++)
		MHD_resume_connection(w->conns[i]);
	w->n = 0;
}

/* ---- the table and the queues ------------------------------------------------ */

static struct flight *find(struct rec_engine *g, long long id)
{
	for (size_t i = 0; i < g->ntable; i++)
		if (g->table[i]->id == id)
			return g->table[i];
	return NULL;
}

static void table_add(struct rec_engine *g, struct flight *fl)
{
	if (g->ntable == g->captable) {
		g->captable = g->captable ? 2 * g->captable : 16;
		g->table = xrealloc(g->table, g->captable * sizeof(*g->table));
	}
	g->table[g->ntable++] = fl;
	fl->in_table = true;
	fl->refs++;
}

static void table_remove(struct rec_engine *g, struct flight *fl)
{
	for (size_t i = 0; i < g->ntable; i++) {
		if (g->table[i] == fl) {
			g->table[i] = g->table[--g->ntable];
			fl->in_table = false;
			fl->refs--; /* the caller holds another */
			return;
		}
	}
}

static void enqueue(struct rec_engine *g, struct flight *fl)
{
	struct flight **head = fl->background ? &g->later : &g->urgent;
	struct flight **tail = fl->background ? &g->later_tail : &g->urgent_tail;

	fl->refs++;
	fl->next = NULL;
	if (*tail)
		(*tail)->next = fl;
	else
		*head = fl;
	*tail = fl;
	pthread_cond_signal(&g->work);
}

static struct flight *new_flight(struct rec_engine *g, long long id)
{
	struct flight *fl = xcalloc(1, sizeof(*fl));

	fl->id = id;
	fl->g = g;
	fl->view.state = FLIGHT_WAITING;
	fl->view.length = -1;
	return fl;
}

struct flight *flight_join(struct rec_engine *g, long long id)
{
	struct flight *fl;

	pthread_mutex_lock(&g->lock);
	fl = find(g, id);
	if (!fl) {
		fl = new_flight(g, id);
		if (g->stopping) { /* nobody would run it: never make anyone wait */
			fl->view.state = FLIGHT_FAILED;
			fl->view.failure = FLIGHT_STOPPING;
			snprintf(fl->view.message, sizeof(fl->view.message), "the daemon is stopping");
		} else {
			table_add(g, fl);
			enqueue(g, fl);
		}
	}
	fl->refs++;
	pthread_mutex_unlock(&g->lock);
	return fl;
}

void rec_engine_queue_claimed(struct rec_engine *g, long long id, const char *ref, const char *url,
			      const char *source_name)
{
	struct flight *fl;

	pthread_mutex_lock(&g->lock);
	if (!g->stopping && !find(g, id)) { /* else a play's flight takes over our lease */
		fl = new_flight(g, id);
		fl->background = fl->claimed = true;
		fl->ref = xstrdup(ref);
		fl->url = xstrdup(url);
		fl->source_name = xstrdup(source_name);
		g->background++;
		table_add(g, fl);
		enqueue(g, fl);
	}
	pthread_mutex_unlock(&g->lock);
}

struct flight *rec_engine_take(struct rec_engine *g)
{
	struct flight *fl = NULL;

	pthread_mutex_lock(&g->lock);
	while (!g->stopping && !g->urgent && !g->later)
		pthread_cond_wait(&g->work, &g->lock);
	if (!g->stopping) {
		struct flight **head = g->urgent ? &g->urgent : &g->later;

		fl = *head;
		*head = fl->next;
		if (!*head) {
			if (head == &g->urgent)
				g->urgent_tail = NULL;
			else
				g->later_tail = NULL;
		}
		fl->next = NULL; /* the queue's reference passes to the worker */
	}
	pthread_mutex_unlock(&g->lock);
	return fl;
}

static void flight_free(struct flight *fl)
{
	blob_writer_free(fl->w);
	free(fl->on_state.conns);
	free(fl->on_data.conns);
	free(fl->ref);
	free(fl->url);
	free(fl->source_name);
	free(fl);
}

struct flight *flight_ref(struct flight *fl)
{
	pthread_mutex_lock(&fl->g->lock);
	fl->refs++;
	pthread_mutex_unlock(&fl->g->lock);
	return fl;
}

void flight_unref(struct flight *fl)
{
	bool last;

	if (!fl)
		return;
	pthread_mutex_lock(&fl->g->lock);
	last = --fl->refs == 0;
	pthread_mutex_unlock(&fl->g->lock);
	if (last)
		flight_free(fl);
}

/* ---- what players see --------------------------------------------------------- */

bool flight_wait(struct flight *fl, struct MHD_Connection *conn, bool need_length,
		 struct flight_view *v)
{
	struct rec_engine *g = fl->g;
	bool wait;

	pthread_mutex_lock(&g->lock);
	wait = fl->view.state == FLIGHT_WAITING ||
	       (fl->view.state == FLIGHT_STREAMING && need_length && fl->view.length < 0);
	if (wait) {
		waiters_add(&fl->on_state, conn);
		MHD_suspend_connection(conn);
	} else {
		*v = fl->view;
	}
	pthread_mutex_unlock(&g->lock);
	return wait;
}

ssize_t flight_read(struct flight *fl, struct MHD_Connection *conn, uint64_t offset, char *buf,
		    size_t len)
{
	struct rec_engine *g = fl->g;
	uint64_t avail;
	enum flight_state st;
	ssize_t n;

	pthread_mutex_lock(&g->lock);
	avail = fl->written;
	st = fl->view.state;
	if (offset >= avail && st != FLIGHT_STORED && st != FLIGHT_FAILED) {
		waiters_add(&fl->on_data, conn);
		MHD_suspend_connection(conn);
	}
	pthread_mutex_unlock(&g->lock);
	if (offset < avail) {
		n = blob_writer_pread(fl->w, buf, avail - offset < len ? (size_t)(avail - offset) : len,
				      offset);
		return n > 0 ? n : FLIGHT_READ_ERROR;
	}
	if (st == FLIGHT_STORED)
		return FLIGHT_READ_END;
	return st == FLIGHT_FAILED ? FLIGHT_READ_ERROR : 0;
}

/* ---- what the worker publishes -------------------------------------------------- */

void flight_publish_streaming(struct flight *fl, const char *mime, int64_t length)
{
	pthread_mutex_lock(&fl->g->lock);
	if (fl->view.state != FLIGHT_WAITING) { /* cancelled meanwhile */
		pthread_mutex_unlock(&fl->g->lock);
		return;
	}
	fl->view.state = FLIGHT_STREAMING;
	fl->view.length = length;
	snprintf(fl->view.mime, sizeof(fl->view.mime), "%s", mime);
	waiters_resume(&fl->on_state);
	pthread_mutex_unlock(&fl->g->lock);
}

void flight_publish_data(struct flight *fl, uint64_t n)
{
	pthread_mutex_lock(&fl->g->lock);
	fl->written += n;
	waiters_resume(&fl->on_data);
	pthread_mutex_unlock(&fl->g->lock);
}

void flight_publish_end(struct flight *fl, const struct flight_view *v)
{
	struct rec_engine *g = fl->g;

	pthread_mutex_lock(&g->lock);
	if (fl->view.state == FLIGHT_WAITING || fl->view.state == FLIGHT_STREAMING) {
		/* The first end wins (a cancel, then the worker's own). */
		fl->view.state = v->state;
		fl->view.failure = v->failure;
		fl->view.error = v->error;
		fl->view.retry_after = v->retry_after;
		snprintf(fl->view.message, sizeof(fl->view.message), "%s", v->message);
	}
	waiters_resume(&fl->on_state);
	waiters_resume(&fl->on_data);
	if (fl->in_table)
		table_remove(g, fl);
	if (fl->background) {
		fl->background = false;
		g->background--;
	}
	pthread_mutex_unlock(&g->lock);
	if (g->prefetch)
		rec_prefetch_wake(g->prefetch);
}

/* ---- for the prefetch worker ------------------------------------------------------- */

long long *rec_engine_flight_ids(struct rec_engine *g, size_t *n)
{
	long long *ids;

	pthread_mutex_lock(&g->lock);
	ids = xcalloc(g->ntable + 1, sizeof(*ids));
	for (size_t i = 0; i < g->ntable; i++)
		ids[i] = g->table[i]->id;
	*n = g->ntable;
	pthread_mutex_unlock(&g->lock);
	return ids;
}

int rec_engine_background(struct rec_engine *g)
{
	int n;

	pthread_mutex_lock(&g->lock);
	n = g->background;
	pthread_mutex_unlock(&g->lock);
	return n;
}

const char *rec_engine_owner(const struct rec_engine *g)
{
	return g->owner;
}

int rec_engine_lease_s(const struct rec_engine *g)
{
	return g->lease_s;
}

bool rec_engine_stopping(const struct rec_engine *g)
{
	return g->stopping;
}

/* ---- start and stop ----------------------------------------------------------------- */

static void make_owner(struct rec_engine *g)
{
	char host[64] = "localhost", hex[9];
	unsigned char rnd[4] = { 0 };

	gethostname(host, sizeof(host) - 1);
	if (auth_random_bytes(rnd, sizeof(rnd)) < 0)
		memset(rnd, 0, sizeof(rnd));
	auth_hex(rnd, sizeof(rnd), hex);
	snprintf(g->owner, sizeof(g->owner), "%.63s:%ld:%s", host, (long)getpid(), hex);
}

struct rec_engine *rec_engine_start(struct fetcher *f, struct errbuf *e)
{
	const struct fetcher_config *c = f->cfg;
	struct rec_engine *g = xcalloc(1, sizeof(*g));

	g->f = f;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->work, NULL);
	make_owner(g);
	g->lease_s = (int)(c->fetch_timeout_s + c->fetch_connect_timeout_s + 15);
	g->upstream = (struct upstream_options){
		.connect_timeout_ms = c->fetch_connect_timeout_s * 1000,
		.timeout_ms = c->fetch_timeout_s * 1000,
		.max_size = (uint64_t)c->recording_max,
		.max_redirects = 5,
	};
	g->workers = xcalloc((size_t)c->fetch_workers, sizeof(*g->workers));
	for (; g->nworkers < c->fetch_workers; g->nworkers++) {
		if (pthread_create(&g->workers[g->nworkers], NULL, rec_worker_main, g) != 0) {
			err_set(e, "cannot start the fetch workers");
			rec_engine_stop(g);
			return NULL;
		}
	}
	if (c->prefetch && !(g->prefetch = rec_prefetch_start(g, f, e))) {
		rec_engine_stop(g);
		return NULL;
	}
	return g;
}

void rec_engine_cancel(void *engine)
{
	struct rec_engine *g = engine;
	struct flight_view v = { .state = FLIGHT_FAILED, .failure = FLIGHT_STOPPING };

	if (!g)
		return;
	g->stopping = true;
	snprintf(v.message, sizeof(v.message), "the daemon is stopping");
	pthread_mutex_lock(&g->lock);
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->lock);
	for (;;) {
		struct flight *fl = NULL;

		pthread_mutex_lock(&g->lock);
		if (g->ntable) {
			fl = g->table[0];
			fl->refs++;
		}
		pthread_mutex_unlock(&g->lock);
		if (!fl)
			break;
		flight_publish_end(fl, &v);
		flight_unref(fl);
	}
	if (g->prefetch)
		rec_prefetch_wake(g->prefetch);
}

void rec_engine_stop(struct rec_engine *g)
{
	if (!g)
		return;
	rec_engine_cancel(g);
	if (g->prefetch)
		rec_prefetch_stop(g->prefetch);
	for (int i = 0; i < g->nworkers; i++)
		pthread_join(g->workers[i], NULL);
	/* Flights still queued hold a reference each. */
	for (struct flight *q = g->urgent; q;) {
		struct flight *next = q->next;

		flight_unref(q);
		q = next;
	}
	for (struct flight *q = g->later; q;) {
		struct flight *next = q->next;

		flight_unref(q);
		q = next;
	}
	free(g->workers);
	free(g->table);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->work);
	free(g);
}
