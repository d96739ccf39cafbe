/* The blob store: recordings kept as immutable blobs named by the SHA-256
 * of their content (64 lowercase hex characters, the "key"), so the same
 * audio is stored once and no name ever comes from a request. A put is a
 * stream (begin, write..., commit) that is durable when commit returns;
 * reading gives the size and, where the backend has one, a file descriptor
 * to send with sendfile(). Two backends: a directory (blob_fs.c) and an
 * S3-compatible object store (blob_s3.c), chosen by [recordings] store.
 * Every call is thread-safe; writers and readers are owned by one thread
 * at a time (a writer's pread may be called from several). */
#ifndef RINGLOG_BLOB_H
#define RINGLOG_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ringlog/auth.h"
#include "ringlog/compiler.h"
#include "ringlog/conf.h"
#include "ringlog/log.h"

#define BLOB_KEY_LEN 64

struct blob_store;
struct blob_writer;
struct blob_reader;

struct blob_info {
	char key[BLOB_KEY_LEN + 1];
	unsigned char sha256[AUTH_SHA256_LEN];
	uint64_t size;
	int64_t mtime; /* when it was stored, seconds since the epoch */
};

/* The [recordings] keys that say where blobs live, shared by every program
 * (each embeds this struct and lists BLOB_CONF_KEYS in its key table). */
struct blob_config {
	char *store;               /* "file" (blob_dir) or "s3" */
	char *s3_endpoint;         /* "https://s3.eu-west-1.amazonaws.com", "http://minio:9000" */
	char *s3_region;
	char *s3_bucket;
	char *s3_addressing;       /* "path" or "virtual" */
	char *s3_prefix;           /* keys are named PREFIX/KEY ("" : at the top) */
	char *s3_credentials_file; /* aws_access_key_id / aws_secret_access_key lines */
	long long s3_part_size;    /* multipart above this size, in parts of it */
	char *store_format;        /* original, mp3 or opus (audio.h) */
};

#define BLOB_CONF_KEY_(type, member, name, ctype, field, def, min, max, help) \
	{ "recordings", name, ctype, offsetof(type, member.field), def, min, max, false, help }
#define BLOB_CONF_KEYS(type, member) \
	BLOB_CONF_KEY_(type, member, "store", CONF_STRING, store, "file", 0, 0, \
		       "where recordings are kept: file (blob_dir) or s3 (blob_dir then only stages " \
		       "puts and still serves blobs not moved yet)"), \
	BLOB_CONF_KEY_(type, member, "s3_endpoint", CONF_STRING, s3_endpoint, "", 0, 0, \
		       "the object store's URL, scheme and host (https://s3.REGION.amazonaws.com)"), \
	BLOB_CONF_KEY_(type, member, "s3_region", CONF_STRING, s3_region, "us-east-1", 0, 0, \
		       "region the requests are signed for (SigV4)"), \
	BLOB_CONF_KEY_(type, member, "s3_bucket", CONF_STRING, s3_bucket, "", 0, 0, \
		       "bucket of the recordings"), \
	BLOB_CONF_KEY_(type, member, "s3_addressing", CONF_STRING, s3_addressing, "path", 0, 0, \
		       "path (ENDPOINT/BUCKET/KEY: MinIO, Ceph RGW) or virtual (BUCKET.HOST/KEY: AWS)"), \
	BLOB_CONF_KEY_(type, member, "s3_prefix", CONF_STRING, s3_prefix, "", 0, 0, \
		       "key prefix in the bucket (empty: none)"), \
	BLOB_CONF_KEY_(type, member, "s3_credentials_file", CONF_STRING, s3_credentials_file, \
		       "/etc/ringlog/s3-credentials", 0, 0, \
		       "file with aws_access_key_id = ... and aws_secret_access_key = ... lines"), \
	BLOB_CONF_KEY_(type, member, "s3_part_size", CONF_BYTES, s3_part_size, "16M", 5LL << 20, \
		       5LL << 30, "recordings larger than this are sent in parts of this size"), \
	BLOB_CONF_KEY_(type, member, "store_format", CONF_STRING, store_format, "original", 0, 0, \
		       "original (kept when every browser plays it, else MP3), mp3 or opus")

/* Opens the store [recordings] describes: C's store, or the directory DIR.
 * An S3 store stages puts under DIR/tmp and reads a blob it does not have
 * from DIR (recordings not moved yet). Returns a new store or NULL with E. */
struct blob_store *blob_store_open_config(const char *dir, const struct blob_config *c,
					  struct errbuf *e) RL_MUST_CHECK;
/* The directory an S3 store falls back to, or NULL. Borrowed. */
struct blob_store *blob_store_fallback(struct blob_store *s);
/* True when S keeps blobs in an object store. */
bool blob_store_is_remote(const struct blob_store *s);

/* Opens the store at LOCATION: a directory ("/var/lib/ringlog/recordings",
 * or "file:" + a path). Nothing is created until the first put. Returns a
 * new store (free with blob_store_close), or NULL with E filled. */
struct blob_store *blob_store_open(const char *location, struct errbuf *e) RL_MUST_CHECK;
void blob_store_close(struct blob_store *s);
/* Where the store is, for messages. Borrowed. */
const char *blob_store_location(const struct blob_store *s);

/* Starts a put of at most MAX_SIZE bytes (0: no limit). Returns a writer,
 * or NULL with E filled. */
struct blob_writer *blob_put_begin(struct blob_store *s, uint64_t max_size, struct errbuf *e) RL_MUST_CHECK;
/* Appends LEN bytes. Returns 0, or -1 with E filled (I/O error, or more than
 * MAX_SIZE: then blob_writer_too_large() is true). */
int blob_write(struct blob_writer *w, const void *data, size_t len, struct errbuf *e) RL_MUST_CHECK;
bool blob_writer_too_large(const struct blob_writer *w);
/* Bytes written so far. */
uint64_t blob_writer_size(const struct blob_writer *w);
/* The key (SHA-256 hex) of what was written so far, without ending the put.
 * Returns 0 or -1. */
int blob_writer_key(struct blob_writer *w, char key[BLOB_KEY_LEN + 1]) RL_MUST_CHECK;
/* Reads back up to LEN bytes already written, from OFFSET (to stream an
 * upload to readers while it is stored). Safe from any thread while the
 * writer is alive, after commit too. Returns bytes read or -1. */
ssize_t blob_writer_pread(struct blob_writer *w, void *buf, size_t len, uint64_t offset);
/* Makes the content durable under its key (file system: fsync, rename,
 * directory fsync; a blob already there is kept as is) and fills INFO.
 * Returns 0 or -1 with E filled. The writer stays readable until freed. */
int blob_commit(struct blob_writer *w, struct blob_info *info, struct errbuf *e) RL_MUST_CHECK;
/* Frees W; a blob not committed is discarded. NULL is a no-op. */
void blob_writer_free(struct blob_writer *w);

/* Opens blob KEY for reading. Returns a reader, or NULL with E filled
 * (*MISSING set when there is no such blob, if MISSING is not NULL). */
struct blob_reader *blob_open(struct blob_store *s, const char *key, bool *missing,
			      struct errbuf *e) RL_MUST_CHECK;
uint64_t blob_reader_size(const struct blob_reader *r);
/* Reads up to LEN bytes from OFFSET. Returns bytes read (0 at the end) or -1. */
ssize_t blob_pread(struct blob_reader *r, void *buf, size_t len, uint64_t offset);
/* A descriptor positioned nowhere in particular, for sendfile/pread, or -1
 * when the backend has none. Borrowed until blob_reader_close. */
int blob_reader_fd(const struct blob_reader *r);
void blob_reader_close(struct blob_reader *r);

/* Fills INFO for KEY. Returns 0, or -1 with E (and *MISSING as above). */
int blob_stat(struct blob_store *s, const char *key, struct blob_info *info, bool *missing,
	      struct errbuf *e) RL_MUST_CHECK;
/* Deletes blob KEY wherever the store keeps it (an S3 store: the object and
 * a copy not moved yet); gone already is success. For gc and retention: the
 * caller deletes only blobs no row points to. Returns 0 or -1 with E. */
int blob_remove(struct blob_store *s, const char *key, struct errbuf *e) RL_MUST_CHECK;
/* Calls FN for every blob (any order). FN returns 0 to go on, -1 to stop.
 * Returns 0, or -1 with E filled. */
int blob_each(struct blob_store *s, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
	      struct errbuf *e) RL_MUST_CHECK;

/* True when KEY is a well-formed key: exactly 64 lowercase hex characters. */
bool blob_key_is_valid(const char *key);

#endif
