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

#endif
