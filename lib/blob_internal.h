/* What the blob store's front (blob.c: hashing, limits, key checks) and its
 * backends share. A backend stores bytes under a key it is given; it never
 * sees a name from anywhere else. */
#ifndef RINGLOG_BLOB_INTERNAL_H
#define RINGLOG_BLOB_INTERNAL_H

#include <openssl/evp.h>

#include "ringlog/blob.h"

struct blob_backend {
	const char *scheme; /* "file" */
	/* Opens the store at LOCATION (the part after "scheme:"). */
	void *(*open)(const char *location, struct errbuf *e);
	void (*close)(void *store);
	/* A put: begin returns the backend's part of a writer. */
	void *(*begin)(void *store, struct errbuf *e);
	int (*write)(void *w, const void *data, size_t len, struct errbuf *e);
	ssize_t (*pread)(void *w, void *buf, size_t len, uint64_t offset);
	/* Makes the bytes durable as KEY; fills INFO->mtime. */
	int (*commit)(void *w, const char *key, struct blob_info *info, struct errbuf *e);
	void (*discard)(void *w);
	/* A reader: returns the backend's reader; fills size. */
	void *(*open_reader)(void *store, const char *key, uint64_t *size, bool *missing,
			     struct errbuf *e);
	ssize_t (*read_at)(void *r, void *buf, size_t len, uint64_t offset);
	int (*fd)(void *r);
	void (*close_reader)(void *r);
	int (*stat)(void *store, const char *key, struct blob_info *info, bool *missing,
		    struct errbuf *e);
	int (*remove)(void *store, const char *key, struct errbuf *e);
	int (*each)(void *store, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
		    struct errbuf *e);
};

extern const struct blob_backend blob_fs_backend;
extern const struct blob_backend blob_s3_backend;

/* The S3 backend's store, from C; puts are staged in STAGING. */
void *blob_s3_open(const char *staging, const struct blob_config *c, struct errbuf *e);
/* Reads aws_access_key_id and aws_secret_access_key from TEXT (the shared
 * credentials file's lines). Returns 0 with two new strings, or -1. */
int blob_s3_parse_credentials(const char *text, size_t len, char **id, char **secret,
			      struct errbuf *e);
/* Finds the first element TAG at or after FROM in DOC (LEN bytes): sets
 * VAL/VLEN to its text and returns the offset after it, or -1. */
long blob_s3_xml_find(const char *doc, size_t len, const char *tag, size_t from,
		      const char **val, size_t *vlen);
/* Calls FN for every blob of one ListObjectsV2 page (keys after PREFIX_LEN
 * characters of prefix); *NEXT is the continuation token (new string) or
 * NULL on the last page. Returns 0, or -1 when FN stopped. */
int blob_s3_list_page(const char *xml, size_t len, size_t prefix_len,
		      int (*fn)(void *ctx, const struct blob_info *info), void *ctx, char **next);

#endif
