/* The spool: pushes kept on local disk while PostgreSQL is away, one file
 * each (temp file, fsync, rename, directory fsync), drained in arrival order
 * when the database is back. One process owns a spool directory (flock). */
#ifndef RINGLOG_SPOOL_H
#define RINGLOG_SPOOL_H

#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"
#include "ringlog/push.h"

struct spool;

/* Opens (creating) DIR, holding at most MAX_BYTES of pushes. Returns NULL
 * with E filled when the directory cannot be made or another process owns it. */
struct spool *spool_open(const char *dir, long long max_bytes, struct errbuf *e) RL_MUST_CHECK;
void spool_close(struct spool *s);

/* Writes P durably. Returns 0 once it is on disk, or -1 with E filled (disk
 * full, over the size limit, I/O error): then nothing was kept. Thread-safe. */
int spool_put(struct spool *s, const struct push *p, struct errbuf *e) RL_MUST_CHECK;

/* Called with N (>= 1) spooled pushes, oldest first. Returns how many of
 * them, counted from the first, are dealt with: those are removed; fewer
 * than N stops the drain and keeps the rest for the next one. */
typedef size_t (*spool_fn)(void *ctx, const struct push *pushes, size_t n);
/* Drains the spool through FN in batches of at most MAX_BATCH pushes (fewer
 * when their bodies pass SPOOL_BATCH_BYTES together), oldest first.
 * Returns how many pushes were removed. */
#define SPOOL_BATCH_BYTES (8 << 20)
size_t spool_drain(struct spool *s, size_t max_batch, spool_fn fn, void *ctx);
/* Pushes waiting, and their bytes on disk. */
size_t spool_depth(struct spool *s);
long long spool_bytes(struct spool *s);

#endif
