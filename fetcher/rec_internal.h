/* What rec_engine.c (flights, queue, waiters) and rec_fetch.c (the fetch
 * workers) share. Every field marked "locked" is read and written under
 * the engine's lock. */
#ifndef RINGLOG_FETCHER_REC_INTERNAL_H
#define RINGLOG_FETCHER_REC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "fetcher.h"
#include "recordings.h"

/* Suspended connections to resume. */
struct waiters {
	struct MHD_Connection **conns;
	size_t n, cap;
};

struct flight {
	long long id;
	struct rec_engine *g;
	int refs;                 /* locked */
	bool background;          /* a prefetch */
	bool claimed;             /* the lease is held already (the prefetch took it) */
	char *ref, *url, *source_name; /* from the prefetch's claim */
	/* The download: the worker writes W, then publishes WRITTEN (locked);
	 * readers pread below WRITTEN from any thread. */
	struct blob_writer *w;
	uint64_t written;         /* locked */
	struct flight_view view;  /* locked */
	struct waiters on_state;  /* locked: handlers waiting for a new state */
	struct waiters on_data;   /* locked: readers waiting for bytes */
	bool in_table;            /* locked */
	struct flight *next;      /* locked: in a queue */
};

struct rec_engine {
	struct fetcher *f;
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct flight **table; /* locked: the flights of this process */
	size_t ntable, captable;
	struct flight *urgent, *urgent_tail, *later, *later_tail; /* locked: plays, prefetches */
	int background;        /* locked: prefetch flights not finished */
	atomic_bool stopping;
	pthread_t *workers;
	int nworkers;
	struct rec_prefetch *prefetch;
	char owner[128];
	int lease_s;
	struct upstream_options upstream;
};

/* The next flight to run (a reference), or NULL when stopping. */
struct flight *rec_engine_take(struct rec_engine *g);
/* The download started: audio of type MIME, LENGTH bytes or -1. */
void flight_publish_streaming(struct flight *fl, const char *mime, int64_t length);
/* N more bytes were written. */
void flight_publish_data(struct flight *fl, uint64_t n);
/* The flight is over: STORED, or FAILED as V says (state, failure, error,
 * message and retry_after are taken from V). */
void flight_publish_end(struct flight *fl, const struct flight_view *v);

/* Registers the fetch metrics (before serving). */
void rec_metrics_register(void);
/* The fetch worker's thread (rec_fetch.c). */
void *rec_worker_main(void *engine);

#endif
