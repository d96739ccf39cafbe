/* Audio at store time: a recording browsers cannot all play (GSM 6.10,
 * µ-law, A-law, IMA/MS ADPCM in WAV; raw µ-law, A-law, GSM; Ogg, AIFF, au)
 * is transcoded in-process with libsndfile into MP3 (or Opus) before it is
 * committed to the blob store; an operator may store all audio compact.
 * The original's SHA-256 is kept for the record; audio that claims a format
 * but cannot be decoded is committed as it came and reported as corrupt. */
#ifndef RINGLOG_AUDIO_H
#define RINGLOG_AUDIO_H

#include <stdbool.h>

#include "ringlog/blob.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"

enum audio_store_format {
	AUDIO_STORE_ORIGINAL, /* keep what came when every browser plays it, else MP3 */
	AUDIO_STORE_MP3,      /* everything decodable as MP3 (Safari, Chrome, Firefox) */
	AUDIO_STORE_OPUS,     /* everything decodable as Opus in Ogg (smallest; Safari 17+) */
};

/* Parses "original", "mp3" or "opus". Returns 0 or -1. */
int audio_store_format_parse(const char *text, enum audio_store_format *out) RL_MUST_CHECK;

struct audio_stored {
	struct blob_info info;        /* the blob as stored */
	const char *mime;             /* its type (static string) */
	char original_key[BLOB_KEY_LEN + 1]; /* SHA-256 (hex) of what came */
	uint64_t original_size;
	const char *original_mime;    /* what came, as sniffed or hinted (static) */
	bool transcoded;              /* INFO is not the original */
	bool corrupt;                 /* claims a format, cannot be decoded: stored as it came */
	char reason[200];             /* why it is corrupt */
};

/* Commits the bytes in W (a put not yet committed; W stays owned by the
 * caller, who frees it) as FORMAT says: as they are, or transcoded into a
 * new blob of at most MAX_SIZE bytes (0: no limit) in S. HINT (lines of
 * MIME types, file names or URLs; may be NULL) tells raw µ-law, A-law and
 * GSM, which have no magic bytes. Fills OUT. Returns 0 (corrupt audio too: see
 * OUT->corrupt), or -1 with E filled when nothing could be stored. */
int audio_commit(struct blob_store *s, struct blob_writer *w, const char *hint,
		 enum audio_store_format format, uint64_t max_size, struct audio_stored *out,
		 struct errbuf *e) RL_MUST_CHECK;

/* True when audio starting with HEAD (LEN bytes, the first MIME_SNIFF_LEN
 * or more) of type HINT will be stored as it comes under FORMAT, so its
 * bytes may be streamed to a player before it is stored. */
bool audio_plays_as_is(const void *head, size_t len, const char *hint,
		       enum audio_store_format format);

/* The type of raw µ-law, A-law or GSM audio that content type TYPE or the
 * name at the end of URL (either may be NULL) announces ("audio/pcmu",
 * "audio/pcma", "audio/gsm"), or NULL. A static string. */
const char *audio_raw_mime(const char *type, const char *url);

/* Transcodes the audio in the file IN_FD (seekable) into OUT_FD as FORMAT
 * (MP3 or Opus), HINT as above. Returns 0, or -1 with E filled (*CORRUPT
 * set when the input is the problem). For the bench and tests. */
int audio_transcode_fd(int in_fd, int out_fd, const char *hint, enum audio_store_format format,
		       bool *corrupt, struct errbuf *e) RL_MUST_CHECK;

#endif
