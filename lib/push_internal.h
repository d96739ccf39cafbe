/* What the files of the push module share and nobody else needs. */
#ifndef RINGLOG_PUSH_INTERNAL_H
#define RINGLOG_PUSH_INTERNAL_H

#include "ringlog/blob.h"
#include "ringlog/buf.h"
#include "ringlog/profile.h"
#include "ringlog/push.h"
#include "ringlog/rltime.h"

/* The top-level keys of PAYLOAD that came from a POST's query string, as a
 * new JSON array of strings: transport parameters, left out of the
 * duplicate test. */
json_object *push_transport_keys(json_object *payload);

/* A push decoded and mapped: one element of ringlog_ingest_calls()'s batch
 * (sql/functions/ringlog_ingest_calls.sql), as JSON text. */
struct push_ready {
	char *row;
	size_t len;
};

enum push_body_kind { PUSH_BODY_JSON, PUSH_BODY_FORM, PUSH_BODY_CSV, PUSH_BODY_AMI, PUSH_BODY_UNSUPPORTED };

/* What P's body is, from its content type (or its first byte). */
enum push_body_kind push_body_kind(const struct push *p);

/* Inline recordings (push_inline.c): the base64 audio at the profile's
 * recording_base64 paths, decoded into the blob store. */
#define PUSH_INLINE_MAX 4 /* paths of the base64 field a profile may name */

struct push_inline {
	const char *paths[PUSH_INLINE_MAX];
	size_t npaths;
	struct push_inline_rec {
		bool seen;    /* the path had a string value */
		bool stored;  /* ... which was audio, now in the blob store */
		struct blob_info info;
		const char *mime;
		struct audio_stored audio; /* what came, and what became of it */
	} recs[PUSH_INLINE_MAX];
	bool stripped;    /* BODY holds the push body without the audio */
	struct buf body;
};

/* Takes the audio out of P's body (one pass, nothing held twice) for the
 * profile PROF. Returns 0 (IN->stripped says whether the body changed) or
 * -1 with R holding the rejection. IN is released with push_inline_release. */
int push_inline_strip(const struct profile *prof, const struct push *p,
		      const struct push_options *o, struct push_inline *in, struct push_result *r);
/* After PAYLOAD was decoded: stores what was not stripped (small bodies,
 * query strings), puts a reference to each stored blob where the audio was
 * in PAYLOAD, and names the first one in C's recording 0. Returns 0 or -1
 * with R holding the rejection. */
int push_inline_finish(struct push_inline *in, json_object *payload, struct cdr *c,
		       const struct push_options *o, struct push_result *r);
void push_inline_release(struct push_inline *in);

/* Writes µs since the epoch as an absolute time for PostgreSQL. */
void push_received_text(int64_t us, char out[RLTIME_TEXT_LEN]);

#endif
