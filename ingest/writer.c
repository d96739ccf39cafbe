#include "writer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/db.h"
#include "ringlog/xalloc.h"

struct writers {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct writer_job *head, *tail;
	bool stopping;
	pthread_t *threads;
	int nthreads; /* running; 0 once joined */
	char *conninfo;
	size_t max_batch;
	atomic_ullong batches, pushes;
};

/* Takes up to max_batch jobs off the queue; waits while it is empty.
 * Returns how many, 0 when stopping. Called with the lock held. */
static size_t take(struct writers *w, struct writer_job **jobs)
{
	size_t n = 0;

	while (!w->head && !w->stopping)
		pthread_cond_wait(&w->work, &w->lock);
	while (w->head && n < w->max_batch) {
		jobs[n++] = w->head;
		w->head = w->head->next;
	}
	if (!w->head)
		w->tail = NULL;
	return n;
}

static void *writer_main(void *arg)
{
	struct writers *w = arg;
	struct db *db = db_new(w->conninfo, "ringlog-ingestd writer");
	struct writer_job **jobs = xcalloc(w->max_batch, sizeof(*jobs));
	struct push_item *items = xcalloc(w->max_batch, sizeof(*items));
	size_t n;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		n = take(w, jobs);
		pthread_mutex_unlock(&w->lock);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			items[i] = jobs[i]->item;
		push_commit(db, items, n, 0);
		w->batches++;
		w->pushes += n;
		/* The jobs belong to their submitters again from here. */
		for (size_t i = 0; i < n; i++)
			jobs[i]->done(jobs[i]->ctx);
	}
	free(jobs);
	free(items);
	db_free(db);
	return NULL;
}

struct writers *writers_start(const char *conninfo, int n, size_t max_batch, struct errbuf *e)
{
	struct writers *w = xcalloc(1, sizeof(*w));

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	w->conninfo = xstrdup(conninfo);
	w->max_batch = max_batch;
	w->threads = xcalloc((size_t)n, sizeof(*w->threads));
	for (; w->nthreads < n; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, writer_main, w) != 0) {
			err_set(e, "cannot start database writer threads");
			writers_stop(w);
			return NULL;
		}
	}
	return w;
}

void writers_submit(struct writers *w, struct writer_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

void writers_finish(struct writers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

void writers_stop(struct writers *w)
{
	if (!w)
		return;
	writers_finish(w);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w->conninfo);
	free(w);
}

unsigned long long writers_batches(const struct writers *w)
{
	return w ? w->batches : 0;
}

unsigned long long writers_pushes(const struct writers *w)
{
	return w ? w->pushes : 0;
}
