/* Base64 as PBXs send inline audio, checked strictly before libb64 sees a
 * byte (libb64's decoder silently skips anything outside its alphabet), and
 * decoded as a stream so a large recording is never held twice. Accepted:
 * the standard alphabet (RFC 4648 §4), an optional "data:[type];base64,"
 * prefix, CR and LF anywhere (MIME and libb64 break lines), spaces and tabs
 * only before or after the text, '=' padding or none. Refused: everything
 * else, including the URL-safe alphabet, data after padding, and a length
 * that cannot be whole bytes. */
#ifndef RINGLOG_B64_H
#define RINGLOG_B64_H

#include <b64/cdecode.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlog/buf.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"

/* Receives decoded bytes. Returns 0, or -1 with E filled to stop. */
typedef int (*b64_sink)(void *ctx, const void *data, size_t len, struct errbuf *e);

#define B64_PREFIX_MAX 256 /* longest "data:...;base64," accepted */
#define B64_CHUNK 4096     /* checked characters decoded together */

/* A decoder fed text in pieces of any size. */
struct b64_stream {
	b64_sink sink;
	void *ctx;
	base64_decodestate dec;
	int phase;            /* see b64.c */
	char prefix[B64_PREFIX_MAX + 1];
	size_t prefix_len;
	bool trailing_space;  /* a space or tab after the text began */
	unsigned pad;         /* '=' seen */
	uint64_t nchars;      /* alphabet characters seen */
	uint64_t offset;      /* text bytes fed, for messages */
	uint64_t decoded;     /* bytes handed to the sink */
	char in[B64_CHUNK];   /* checked characters not yet decoded */
	size_t nin;
};

/* Starts a stream whose bytes go to SINK(CTX, ...). */
void b64_stream_init(struct b64_stream *s, b64_sink sink, void *ctx);
/* Checks and decodes LEN more bytes of TEXT. Returns 0, or -1 with E filled
 * (the text is not base64, or the sink refused). */
int b64_stream_feed(struct b64_stream *s, const char *text, size_t len, struct errbuf *e) RL_MUST_CHECK;
/* Ends the text: checks the padding and length, flushes. Returns 0 or -1. */
int b64_stream_finish(struct b64_stream *s, struct errbuf *e) RL_MUST_CHECK;
/* True when the stream has seen no base64 character yet (only blanks). */
bool b64_stream_is_empty(const struct b64_stream *s);

/* Checks LEN bytes of TEXT and appends what they decode to into OUT.
 * Returns 0, or -1 with E filled (then OUT may hold a part). */
int b64_decode(const char *text, size_t len, struct buf *out, struct errbuf *e) RL_MUST_CHECK;
/* Appends the base64 of DATA to OUT, padded, without line breaks. */
void b64_encode(const void *data, size_t len, struct buf *out);

#endif
