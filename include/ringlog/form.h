/* application/x-www-form-urlencoded bodies and query strings, decoded into a
 * JSON object of strings so every encoding reaches the mappers the same way.
 * '+' and %20 are both a space; a repeated key becomes an array of strings. */
#ifndef RINGLOG_FORM_H
#define RINGLOG_FORM_H

#include <json-c/json.h>
#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

/* Decodes LEN bytes of S. Returns a new object (caller puts it), or NULL with
 * E filled: bad percent escape, invalid UTF-8, NUL byte, or an empty key. */
json_object *form_parse(const char *s, size_t len, struct errbuf *e) RL_MUST_CHECK;
/* Percent-decodes LEN bytes of S in place of a new string ('+' is a space
 * when PLUS_IS_SPACE). Returns it (caller frees) or NULL when malformed. */
char *form_unescape(const char *s, size_t len, int plus_is_space, size_t *out_len) RL_MUST_CHECK;
/* True when LEN bytes of S are valid UTF-8 without NUL bytes. */
int form_is_utf8(const char *s, size_t len);

#endif
