/* Text that came from outside, checked before the database or a terminal
 * sees it: strict UTF-8, control characters, and an escaped form for
 * printing. */
#ifndef RINGLOG_TEXT_H
#define RINGLOG_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "ringlog/buf.h"

/* True when the N bytes of S are UTF-8 as PostgreSQL takes it: no overlong
 * forms, no surrogates, nothing past U+10FFFF, no NUL. */
bool text_is_utf8(const char *s, size_t n);
/* True when S is UTF-8 without control characters (C0, DEL, C1). */
bool text_is_clean(const char *s);
/* Appends S to OUT with every control character and every byte that is not
 * UTF-8 written as \xNN (C1 characters as \u00NN), so printing it cannot
 * drive a terminal. */
void text_escape(const char *s, struct buf *out);

#endif
