/* Conditional and range requests (RFC 9110 §13 and §14) as playback needs
 * them: the Range header (one range; Safari's "bytes=0-1" probe, suffix
 * ranges), entity-tag lists for If-None-Match and If-Match, If-Range, and
 * HTTP dates. Pure functions of their arguments: no I/O, no allocation. */
#ifndef RINGLOG_HTTPCOND_H
#define RINGLOG_HTTPCOND_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlog/compiler.h"

enum httpcond_range {
	HTTPCOND_RANGE_NONE,          /* send the whole representation (200) */
	HTTPCOND_RANGE_OK,            /* send [first, last] (206) */
	HTTPCOND_RANGE_UNSATISFIABLE, /* 416 with "Content-Range: bytes * /size" */
};

/* Reads the Range header HEADER (may be NULL) for a representation of SIZE
 * bytes. A missing or malformed header, another unit, or several ranges
 * give NONE (RFC 9110 lets a server ignore them and send everything);
 * one satisfiable range gives OK with the inclusive byte positions. */
enum httpcond_range httpcond_range(const char *header, uint64_t size, uint64_t *first,
				   uint64_t *last);

/* True when the entity-tag list HEADER ("*", or comma-separated tags such
 * as "\"abc\", W/\"def\"") names ETAG (a quoted strong tag). WEAK selects
 * the weak comparison (If-None-Match) over the strong one (If-Match). */
bool httpcond_etag_listed(const char *header, const char *etag, bool weak);

/* True when an If-Range VALUE still matches: an entity tag equal (strong
 * comparison) to ETAG, or an HTTP date equal to LAST_MODIFIED. */
bool httpcond_if_range(const char *value, const char *etag, int64_t last_modified);

/* Parses an HTTP date in any of its three forms (IMF-fixdate, RFC 850,
 * asctime) into seconds since the epoch. Returns 0, or -1 when it is none. */
int httpcond_parse_date(const char *text, int64_t *out) RL_MUST_CHECK;
/* Writes T as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
#define HTTPCOND_DATE_LEN 32
void httpcond_format_date(int64_t t, char out[HTTPCOND_DATE_LEN]);

#endif
