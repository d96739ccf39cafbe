/* Allocation that never returns NULL: out of memory aborts the process, as in
 * git and Redis. Every input is bounded, so running out means the machine is
 * in trouble and a clean crash (restarted by systemd) beats half-handled state. */
#ifndef RINGLOG_XALLOC_H
#define RINGLOG_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Returns a new copy of S (NULL stays NULL); caller frees. */
char *xstrdup(const char *s);
/* Returns a new NUL-terminated copy of the first N bytes of S; caller frees. */
char *xstrndup(const char *s, size_t n);

#endif
