/* Takes large string values out of a request body in one pass, so a 67 MB
 * base64 recording reaches its decoder without json-c (or anyone) holding
 * a copy of it: the string at one of the given paths is handed to a sink,
 * unescaped, piece by piece (pointers into the body where it needs no
 * unescaping), and the rest of the body is copied out with that value
 * replaced by null (JSON) or emptied (form). What is copied out is then
 * small enough to parse as usual. */
#ifndef RINGLOG_STRIP_H
#define RINGLOG_STRIP_H

#include <stddef.h>

#include "ringlog/buf.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"

#define STRIP_MAX_DEPTH 128   /* JSON nesting followed; deeper is an error */
#define STRIP_MAX_SEGMENTS 16 /* parts of a path: "a.b[2].c" has four */
#define STRIP_MAX_KEY 128     /* longer keys never match a path */

/* Where a stripped value goes. Each call returns 0, or -1 with E to stop. */
struct strip_sink {
	void *ctx;
	/* A string value at PATHS[WHICH] begins. */
	int (*begin)(void *ctx, size_t which, struct errbuf *e);
	/* Its next LEN bytes, unescaped. */
	int (*data)(void *ctx, const char *s, size_t len, struct errbuf *e);
	/* It ended. */
	int (*end)(void *ctx, struct errbuf *e);
};

enum strip_status {
	STRIP_OK = 0,       /* done; OUT holds the body without the values */
	STRIP_UNTOUCHED = 1, /* done; no path had a string value: OUT is empty, use the body */
	STRIP_MALFORMED = -1, /* the body is not JSON (or not a form): E says where */
	STRIP_REFUSED = -2,  /* a sink call failed: E is the sink's */
};

/* Strips the string values found at PATHS (dotted, with [n] for array
 * items, as profile rules write them) from the JSON text BODY. */
enum strip_status strip_json(const char *body, size_t len, const char *const *paths,
			     size_t npaths, const struct strip_sink *sink, struct buf *out,
			     struct errbuf *e) RL_MUST_CHECK;
/* The same for an application/x-www-form-urlencoded BODY, whose keys are
 * compared with PATHS as they are (after percent-decoding). */
enum strip_status strip_form(const char *body, size_t len, const char *const *paths,
			     size_t npaths, const struct strip_sink *sink, struct buf *out,
			     struct errbuf *e) RL_MUST_CHECK;

#endif
