/* The writers: a few threads, each owning one database connection, that
 * take every push waiting and store them together in one transaction. A
 * commit per batch instead of one per push is what lets durable ingest keep
 * up with the database's single-INSERT rate (group commit, done where the
 * pushes are known). A handler thread hands its push over and waits. */
#ifndef RINGLOG_INGEST_WRITER_H
#define RINGLOG_INGEST_WRITER_H

#include <stddef.h>

#include "ringlog/push.h"

struct writers;

/* Starts N writer threads for CONNINFO (copied), each storing up to
 * MAX_BATCH pushes per transaction. Returns NULL with E filled. */
struct writers *writers_start(const char *conninfo, int n, size_t max_batch, struct errbuf *e);
/* Stores READY and fills R; returns when its transaction has committed (or
 * failed). Thread-safe. */
void writers_store(struct writers *w, struct push_ready *ready, struct push_result *r);
/* Waits for the writers to finish what is queued, then stops them. */
void writers_stop(struct writers *w);

/* Transactions run and pushes stored by the writers, for /metrics. */
unsigned long long writers_batches(const struct writers *w);
unsigned long long writers_pushes(const struct writers *w);

#endif
