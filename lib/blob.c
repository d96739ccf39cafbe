/* The blob store's front: picks the backend, hashes what is put (the key is
 * the content's SHA-256), enforces the size limit, and checks every key
 * before a backend sees it. */
#include "ringlog/blob.h"

#include <stdlib.h>
#include <string.h>

#include "blob_internal.h"
#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

struct blob_store {
	const struct blob_backend *be;
	void *impl;
	char *location;
	struct blob_store *fallback; /* reads of blobs not moved here yet */
};

struct blob_writer {
	struct blob_store *store;
	void *impl;
	EVP_MD_CTX *sha;
	uint64_t size, max_size;
	bool too_large, committed;
};

struct blob_reader {
	const struct blob_backend *be;
	void *impl;
	uint64_t size;
};

static const struct blob_backend *const backends[] = { &blob_fs_backend };

bool blob_key_is_valid(const char *key)
{
	size_t i;

	if (!key)
		return false;
	for (i = 0; i < BLOB_KEY_LEN; i++)
		if (!((key[i] >= '0' && key[i] <= '9') || (key[i] >= 'a' && key[i] <= 'f')))
			return false;
	return key[i] == '\0';
}

struct blob_store *blob_store_open(const char *location, struct errbuf *e)
{
	const struct blob_backend *be = &blob_fs_backend;
	const char *rest = location ? location : "";
	struct blob_store *s;
	void *impl;

	for (size_t i = 0; i < RL_ARRAY_LEN(backends); i++) {
		size_t n = strlen(backends[i]->scheme);

		if (strncmp(rest, backends[i]->scheme, n) == 0 && rest[n] == ':') {
			be = backends[i];
			rest += n + 1;
			break;
		}
	}
	if (!*rest) {
		err_set(e, "the blob store needs a location (recordings.blob_dir)");
		return NULL;
	}
	impl = be->open(rest, e);
	if (!impl)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->be = be;
	s->impl = impl;
	s->location = xstrdup(location);
	return s;
}

struct blob_store *blob_store_open_config(const char *dir, const struct blob_config *c,
					  struct errbuf *e)
{
	struct buf staging = BUF_INIT, where = BUF_INIT;
	struct blob_store *s = NULL, *fallback = NULL;
	void *impl;

	if (!c->store || !*c->store || strcmp(c->store, "file") == 0)
		return blob_store_open(dir, e);
	if (strcmp(c->store, "s3") != 0) {
		err_set(e, "recordings.store must be file or s3, not \"%.40s\"", c->store);
		return NULL;
	}
	if (!dir || dir[0] != '/') {
		err_set(e, "recordings.blob_dir (where S3 puts are staged) must be an absolute path");
		return NULL;
	}
	if (!(fallback = blob_store_open(dir, e)))
		return NULL;
	buf_addf(&staging, "%s/tmp", dir);
	impl = blob_s3_open(staging.data, c, e);
	if (impl) {
		buf_addf(&where, "s3:%s/%s/%s", c->s3_endpoint, c->s3_bucket, c->s3_prefix ? c->s3_prefix : "");
		s = xcalloc(1, sizeof(*s));
		s->be = &blob_s3_backend;
		s->impl = impl;
		s->location = buf_detach(&where, NULL);
		s->fallback = fallback;
		fallback = NULL;
	}
	blob_store_close(fallback);
	buf_release(&staging);
	buf_release(&where);
	return s;
}

struct blob_store *blob_store_fallback(struct blob_store *s)
{
	return s->fallback;
}

bool blob_store_is_remote(const struct blob_store *s)
{
	return s->be == &blob_s3_backend;
}

void blob_store_close(struct blob_store *s)
{
	if (!s)
		return;
	blob_store_close(s->fallback);
	s->be->close(s->impl);
	free(s->location);
	free(s);
}

const char *blob_store_location(const struct blob_store *s)
{
	return s->location;
}

struct blob_writer *blob_put_begin(struct blob_store *s, uint64_t max_size, struct errbuf *e)
{
	void *impl = s->be->begin(s->impl, e);
	struct blob_writer *w;

	if (!impl)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->store = s;
	w->impl = impl;
	w->max_size = max_size;
	w->sha = EVP_MD_CTX_new();
	if (!w->sha || EVP_DigestInit_ex(w->sha, EVP_sha256(), NULL) != 1) {
		err_set(e, "cannot start SHA-256");
		blob_writer_free(w);
		return NULL;
	}
	return w;
}

int blob_write(struct blob_writer *w, const void *data, size_t len, struct errbuf *e)
{
	if (w->committed)
		return err_set(e, "blob already committed");
	if (w->max_size && (len > w->max_size || w->size > w->max_size - len)) {
		w->too_large = true;
		return err_set(e, "larger than %llu bytes", (unsigned long long)w->max_size);
	}
	if (!len)
		return 0;
	if (w->store->be->write(w->impl, data, len, e) < 0)
		return -1;
	EVP_DigestUpdate(w->sha, data, len);
	w->size += len;
	return 0;
}

bool blob_writer_too_large(const struct blob_writer *w)
{
	return w->too_large;
}

uint64_t blob_writer_size(const struct blob_writer *w)
{
	return w->size;
}

int blob_writer_key(struct blob_writer *w, char key[BLOB_KEY_LEN + 1])
{
	unsigned char md[AUTH_SHA256_LEN];
	unsigned int n = sizeof(md);
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	int rc = -1;

	if (copy && EVP_MD_CTX_copy_ex(copy, w->sha) == 1 && EVP_DigestFinal_ex(copy, md, &n) == 1) {
		auth_hex(md, sizeof(md), key);
		rc = 0;
	}
	EVP_MD_CTX_free(copy);
	return rc;
}

ssize_t blob_writer_pread(struct blob_writer *w, void *buf, size_t len, uint64_t offset)
{
	return w->store->be->pread(w->impl, buf, len, offset);
}

int blob_commit(struct blob_writer *w, struct blob_info *info, struct errbuf *e)
{
	unsigned int n = AUTH_SHA256_LEN;

	if (w->committed)
		return err_set(e, "blob already committed");
	memset(info, 0, sizeof(*info));
	if (EVP_DigestFinal_ex(w->sha, info->sha256, &n) != 1)
		return err_set(e, "cannot finish SHA-256");
	auth_hex(info->sha256, AUTH_SHA256_LEN, info->key);
	info->size = w->size;
	if (w->store->be->commit(w->impl, info->key, info, e) < 0)
		return -1;
	w->committed = true;
	return 0;
}

void blob_writer_free(struct blob_writer *w)
{
	if (!w)
		return;
	if (w->impl)
		w->store->be->discard(w->impl);
	EVP_MD_CTX_free(w->sha);
	free(w);
}

struct blob_reader *blob_open(struct blob_store *s, const char *key, bool *missing,
			      struct errbuf *e)
{
	struct blob_reader *r;
	uint64_t size = 0;
	bool gone = false;
	void *impl;

	if (missing)
		*missing = false;
	if (!blob_key_is_valid(key)) {
		err_set(e, "not a blob key");
		return NULL;
	}
	impl = s->be->open_reader(s->impl, key, &size, &gone, e);
	if (!impl && gone && s->fallback) {
		struct errbuf e2;

		r = blob_open(s->fallback, key, &gone, &e2);
		if (!r && !gone && e)
			*e = e2;
		if (missing)
			*missing = !r && gone;
		return r;
	}
	if (!impl) {
		if (missing)
			*missing = gone;
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->be = s->be;
	r->impl = impl;
	r->size = size;
	return r;
}

uint64_t blob_reader_size(const struct blob_reader *r)
{
	return r->size;
}

ssize_t blob_pread(struct blob_reader *r, void *buf, size_t len, uint64_t offset)
{
	if (offset >= r->size)
		return 0;
	return r->be->read_at(r->impl, buf, len, offset);
}

int blob_reader_fd(const struct blob_reader *r)
{
	return r->be->fd ? r->be->fd(r->impl) : -1;
}

void blob_reader_close(struct blob_reader *r)
{
	if (!r)
		return;
	r->be->close_reader(r->impl);
	free(r);
}

int blob_stat(struct blob_store *s, const char *key, struct blob_info *info, bool *missing,
	      struct errbuf *e)
{
	char k[BLOB_KEY_LEN + 1];
	bool gone = false;
	int rc;

	if (missing)
		*missing = false;
	if (!blob_key_is_valid(key))
		return err_set(e, "not a blob key");
	memcpy(k, key, sizeof(k)); /* KEY may live in INFO */
	memset(info, 0, sizeof(*info));
	rc = s->be->stat(s->impl, k, info, &gone, e);
	if (rc < 0 && gone && s->fallback)
		return blob_stat(s->fallback, k, info, missing, e);
	if (rc == 0) {
		memcpy(info->key, k, sizeof(k));
		if (auth_unhex(k, info->sha256, AUTH_SHA256_LEN) < 0)
			return err_set(e, "not a blob key");
	} else if (missing) {
		*missing = gone;
	}
	return rc;
}

int blob_remove(struct blob_store *s, const char *key, struct errbuf *e)
{
	if (!blob_key_is_valid(key))
		return err_set(e, "not a blob key");
	/* A blob not moved yet is in the fallback directory: gone from both. */
	if (s->fallback && blob_remove(s->fallback, key, e) < 0)
		return -1;
	return s->be->remove(s->impl, key, e);
}

int blob_each(struct blob_store *s, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
	      struct errbuf *e)
{
	return s->be->each(s->impl, fn, ctx, e);
}
