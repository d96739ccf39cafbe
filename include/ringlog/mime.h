/* What a recording is, told from its first bytes (magic numbers), never
 * from what the sender says: WAV (RIFF/RF64), MP3, AAC (ADTS), Ogg (Opus,
 * Vorbis, Speex), FLAC, MP4/M4A, WebM/Matroska, AMR, AIFF and Sun/NeXT au. */
#ifndef RINGLOG_MIME_H
#define RINGLOG_MIME_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes mime_sniff() looks at at most; give it that many when there are. */
#define MIME_SNIFF_LEN 64
/* What a recording of no known format is served as (as an attachment). */
#define MIME_UNKNOWN "application/octet-stream"

/* The audio type of the content that starts with DATA (LEN bytes), or NULL
 * when it is no audio format ringlog knows. Static strings. */
const char *mime_sniff(const void *data, size_t len);
/* A file extension for MIME ("wav", "mp3", ...; "bin" when unknown). */
const char *mime_extension(const char *mime);
/* True when MIME is one mime_sniff() can return. */
bool mime_is_audio(const char *mime);

#endif
