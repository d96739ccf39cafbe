/* A growable byte buffer, always NUL-terminated, for text and bodies built
 * from outside data (no fixed-size buffers for those). Modelled on git's
 * strbuf. Growth aborts on out of memory (see xalloc.h). */
#ifndef RINGLOG_BUF_H
#define RINGLOG_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "ringlog/compiler.h"

struct buf {
	char *data; /* NULL until the first byte is added; then NUL-terminated */
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
/* Frees the contents; the buffer is empty and reusable afterwards. */
void buf_release(struct buf *b);
/* Forgets the contents but keeps the memory. */
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) RL_PRINTF(2, 3);
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) RL_PRINTF(2, 0);
/* The contents as a string: "" when empty; borrowed until the next change. */
const char *buf_str(const struct buf *b);
/* Hands the contents to the caller (who frees them) and empties B. Never NULL. */
char *buf_detach(struct buf *b, size_t *len);

#endif
