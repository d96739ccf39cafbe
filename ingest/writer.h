/* The writers: a few threads, each owning one database connection, that
 * take every push waiting and store them together in one transaction. A
 * commit per batch instead of one per push is what lets durable ingest keep
 * up with the database's single-INSERT rate (group commit, done where the
 * pushes are known). The HTTP threads never touch the database for a push:
 * a refused push goes to the writers too, for its dead letter. A handler
 * hands its push over and is called back once
 * the push's transaction has committed (or failed): its connection waits
 * suspended meanwhile, so no HTTP thread blocks on the database. */
#ifndef RINGLOG_INGEST_WRITER_H
#define RINGLOG_INGEST_WRITER_H

#include <stddef.h>

#include "ringlog/push.h"

struct writers;

/* A push handed to the writers, prepared or refused (ITEM.ready NULL: its
 * dead letter is filed on the writer's connection). The submitter owns it
 * (and what ITEM points to) until DONE is called, from a writer thread, with
 * CTX; ITEM.result is final then (push_commit). */
struct writer_job {
	struct push_item item;
	void (*done)(void *ctx);
	void *ctx;
	struct writer_job *next; /* the queue's */
};

/* Starts N writer threads for CONNINFO (copied), each storing up to
 * MAX_BATCH pushes per transaction. Returns NULL with E filled. */
struct writers *writers_start(const char *conninfo, int n, size_t max_batch, struct errbuf *e);
/* Queues JOB; returns at once. Thread-safe. */
void writers_submit(struct writers *w, struct writer_job *job);
/* Waits for the writers to store what is queued (calling each job's DONE),
 * then ends their threads. Jobs submitted afterwards are never stored. */
void writers_finish(struct writers *w);
/* Finishes the writers if not done yet, and frees W. */
void writers_stop(struct writers *w);

/* Transactions run and pushes stored by the writers, for /metrics. */
unsigned long long writers_batches(const struct writers *w);
unsigned long long writers_pushes(const struct writers *w);

#endif
