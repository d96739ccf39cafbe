/* The S3-compatible backend of the blob store (AWS S3, MinIO, Ceph RGW).
 * Every request is signed by libcurl (CURLOPT_AWS_SIGV4); ringlog has no
 * signer of its own. Objects are named PREFIX + key in one bucket, reached
 * path-style (endpoint/bucket/key) or virtual-hosted (bucket.endpoint/key).
 *
 * A put is staged in an unlinked local file (readable while it is stored,
 * as the file backend's is), then sent on commit: one PUT up to the part
 * size, a multipart upload above it; the payload hash S3 checks is the
 * content's SHA-256, which is the key itself. S3 answers a PUT only once the
 * object is durable, so commit returning is as strong as the file backend's
 * fsync. A reader fetches windows of the object with Range GETs (the first
 * one when it is opened, which also gives the size), so a play from the
 * start costs one request. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blob_s3.h"
#include "ringlog/xalloc.h"

#define FIRST_WINDOW (64 * 1024) /* small: it is what a cold play waits for */
#define WINDOW (1024 * 1024)
#define MAX_PARTS 10000

struct s3_writer {
	struct s3_store *s;
	int fd;
	uint64_t size;
};

struct s3_reader {
	struct s3_store *s;
	CURL *h; /* kept: the windows reuse its connection */
	char *key;
	uint64_t size;
	char *win;
	uint64_t win_off;
	size_t win_len, win_cap;
};

/* ---- the store --------------------------------------------------------------- */

static int read_credentials(const char *path, char **userpwd, struct errbuf *e)
{
	char *id = NULL, *secret = NULL, text[4096];
	FILE *f = fopen(path, "r");
	size_t n;
	int rc;

	if (!f)
		return err_set(e, "cannot read the object store credentials %s: %s", path, strerror(errno));
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n == sizeof(text))
		return err_set(e, "%s: larger than %zu bytes", path, sizeof(text));
	rc = blob_s3_parse_credentials(text, n, &id, &secret, e);
	explicit_bzero(text, sizeof(text));
	if (rc < 0)
		return err_set(e, "%s: %s", path, e->msg);
	*userpwd = xmalloc(strlen(id) + strlen(secret) + 2);
	sprintf(*userpwd, "%s:%s", id, secret);
	explicit_bzero(secret, strlen(secret));
	free(id);
	free(secret);
	return 0;
}

static bool is_name(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

void *blob_s3_open(const char *staging, const struct blob_config *c, struct errbuf *e)
{
	struct s3_store *s = NULL;
	const char *ep = c->s3_endpoint ? c->s3_endpoint : "", *host;
	bool path_style = !c->s3_addressing || strcmp(c->s3_addressing, "path") == 0;
	const char *prefix = c->s3_prefix ? c->s3_prefix : "";
	size_t n = strlen(ep);
	struct buf b = BUF_INIT;

	if (c->s3_addressing && !path_style && strcmp(c->s3_addressing, "virtual") != 0) {
		err_set(e, "recordings.s3_addressing must be path or virtual");
		return NULL;
	}
	if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) {
		err_set(e, "recordings.s3_endpoint must be an http:// or https:// URL");
		return NULL;
	}
	while (n && ep[n - 1] == '/')
		n--;
	host = strstr(ep, "://") + 3;
	if (memchr(host, '/', (size_t)(ep + n - host)) || memchr(ep, '?', n) || memchr(ep, '@', n)) {
		err_set(e, "recordings.s3_endpoint is a scheme and host only (no path, no user)");
		return NULL;
	}
	if (!c->s3_bucket || strlen(c->s3_bucket) < 3 || strlen(c->s3_bucket) > 63 ||
	    !is_name(c->s3_bucket, "-.")) {
		err_set(e, "recordings.s3_bucket must be a bucket name (3-63 of a-z 0-9 . -)");
		return NULL;
	}
	if (strlen(prefix) > 200 || !is_name(prefix, "-._/ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
	    prefix[0] == '/') {
		err_set(e, "recordings.s3_prefix may hold letters, digits and - . _ / (not first)");
		return NULL;
	}
	if (!c->s3_region || !*c->s3_region || !is_name(c->s3_region, "-_")) {
		err_set(e, "recordings.s3_region is needed (us-east-1 for most S3-compatible stores)");
		return NULL;
	}
	if (!c->s3_credentials_file || !*c->s3_credentials_file) {
		err_set(e, "recordings.s3_credentials_file is needed");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	if (read_credentials(c->s3_credentials_file, &s->userpwd, e) < 0) {
		free(s);
		return NULL;
	}
	if (path_style) {
		s->scheme_host = xstrndup(ep, n);
		buf_addf(&b, "/%s", c->s3_bucket);
	} else {
		buf_addf(&b, "%.*s%s.%.*s", (int)(host - ep), ep, c->s3_bucket, (int)(ep + n - host), host);
		s->scheme_host = buf_detach(&b, NULL);
	}
	s->bucket_path = b.len ? buf_detach(&b, NULL) : xstrdup("");
	if (*prefix)
		buf_addf(&b, "%s%s", prefix, prefix[strlen(prefix) - 1] == '/' ? "" : "/");
	s->prefix = b.len ? buf_detach(&b, NULL) : xstrdup("");
	buf_addf(&b, "aws:amz:%s:s3", c->s3_region);
	s->sigv4 = buf_detach(&b, NULL);
	s->staging = xstrdup(staging);
	s->part_size = c->s3_part_size > 0 ? (uint64_t)c->s3_part_size : 16 * 1024 * 1024;
	return s;
}

static void s3_close(void *store)
{
	struct s3_store *s = store;

	if (s->userpwd)
		explicit_bzero(s->userpwd, strlen(s->userpwd));
	free(s->userpwd);
	free(s->scheme_host);
	free(s->bucket_path);
	free(s->prefix);
	free(s->sigv4);
	free(s->staging);
	free(s);
}

static void *s3_open_unused(const char *location, struct errbuf *e)
{
	(void)location;
	err_set(e, "the S3 store is opened from [recordings] store = s3");
	return NULL;
}

/* ---- puts -------------------------------------------------------------------- */

static int staging_fd(const char *dir, struct errbuf *e)
{
	struct buf path = BUF_INIT;
	const char *slash = strrchr(dir, '/');
	int fd;

	/* blob_dir, then its tmp/ (made on first use, as the file store's) */
	buf_add(&path, dir, slash && slash > dir ? (size_t)(slash - dir) : strlen(dir));
	if (mkdir(path.data, 0750) < 0 && errno != EEXIST) {
		fd = err_set(e, "cannot create %s: %s", path.data, strerror(errno));
		buf_release(&path);
		return fd;
	}
	buf_reset(&path);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", dir, strerror(errno));
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
		buf_addf(&path, "%s/s3-put-XXXXXX", dir);
		fd = mkostemp(path.data, O_CLOEXEC);
		if (fd >= 0)
			unlink(path.data);
	}
	buf_release(&path);
	if (fd < 0)
		return err_set(e, "cannot stage a put in %s: %s", dir, strerror(errno));
	return fd;
}

static void *s3_begin(void *store, struct errbuf *e)
{
	struct s3_store *s = store;
	struct s3_writer *w;
	int fd = staging_fd(s->staging, e);

	if (fd < 0)
		return NULL;
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->fd = fd;
	return w;
}

static int s3_write(void *writer, const void *data, size_t len, struct errbuf *e)
{
	struct s3_writer *w = writer;
	const char *p = data;

	while (len) {
		ssize_t n = pwrite(w->fd, p, len, (off_t)w->size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, "cannot stage the put: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
		w->size += (uint64_t)n;
	}
	return 0;
}

static ssize_t s3_pread(void *writer, void *buf, size_t len, uint64_t offset)
{
	struct s3_writer *w = writer;
	ssize_t n;

	do
		n = pread(w->fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	return n;
}

/* HEAD of KEY: 0 with *SIZE (and *MTIME), 1 when absent, -1 on error. */
static int head(struct s3_store *s, const char *key, uint64_t *size, time_t *mtime,
		struct errbuf *e)
{
	struct s3_req r;
	int rc = -1;

	blob_s3_req_init(&r, "HEAD");
	blob_s3_url(s, key, &r);
	if (blob_s3_perform(s, NULL, &r, e) < 0)
		goto out;
	if (r.status == 404) {
		rc = 1;
	} else if (r.status == 200) {
		*size = r.total;
		if (mtime)
			*mtime = r.last_modified;
		rc = 0;
	} else {
		blob_s3_fail(&r, "HEAD", e);
	}
out:
	blob_s3_req_release(&r);
	return rc;
}

/* The SHA-256 (hex) of LEN bytes of FD from OFF. */
static int hash_region(int fd, uint64_t off, uint64_t len, char hex[BLOB_KEY_LEN + 1],
		       struct errbuf *e)
{
	unsigned char md[AUTH_SHA256_LEN], chunk[65536];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int mdlen = sizeof(md);
	int rc = -1;

	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	while (len) {
		ssize_t n = pread(fd, chunk, len < sizeof(chunk) ? (size_t)len : sizeof(chunk), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_set(e, "cannot read the staged put: %s", n < 0 ? strerror(errno) : "short");
			goto out;
		}
		EVP_DigestUpdate(c, chunk, (size_t)n);
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(c, md, &mdlen) == 1) {
		auth_hex(md, sizeof(md), hex);
		rc = 0;
	}
out:
	EVP_MD_CTX_free(c);
	return rc < 0 && e && !e->msg[0] ? err_set(e, "cannot hash a part") : rc;
}

static void sha_hex(const void *data, size_t len, char hex[BLOB_KEY_LEN + 1])
{
	unsigned char md[AUTH_SHA256_LEN];
	unsigned int n = sizeof(md);

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	auth_hex(md, sizeof(md), hex);
}

static int put_single(struct s3_writer *w, const char *key, struct errbuf *e)
{
	struct s3_req r;
	int rc = -1;

	blob_s3_req_init(&r, "PUT");
	blob_s3_url(w->s, key, &r);
	r.payload_sha = key; /* the content's SHA-256 is its key */
	r.body_fd = w->fd;
	r.fd_len = w->size;
	if (blob_s3_perform(w->s, NULL, &r, e) == 0)
		rc = r.status == 200 ? 0 : blob_s3_fail(&r, "PUT", e);
	blob_s3_req_release(&r);
	return rc;
}

static void abort_upload(struct s3_store *s, const char *key, const char *upload)
{
	struct errbuf ignored;
	struct s3_req r;

	blob_s3_req_init(&r, "DELETE");
	blob_s3_url(s, key, &r);
	buf_addf(&r.url, "?uploadId=%s", upload);
	(void)blob_s3_perform(s, NULL, &r, &ignored);
	blob_s3_req_release(&r);
}

/* Starts a multipart upload of KEY; returns the upload id (escaped for a
 * query), or NULL with E filled. */
static char *start_upload(struct s3_store *s, const char *key, struct errbuf *e)
{
	struct s3_req r;
	const char *v;
	size_t n;
	char *id = NULL, *raw;

	blob_s3_req_init(&r, "POST");
	blob_s3_url(s, key, &r);
	buf_adds(&r.url, "?uploads=");
	r.body = "";
	if (blob_s3_perform(s, NULL, &r, e) < 0)
		goto out;
	if (r.status != 200) {
		blob_s3_fail(&r, "starting a multipart upload", e);
		goto out;
	}
	if (blob_s3_xml_find(r.resp.data, r.resp.len, "UploadId", 0, &v, &n) < 0 || !n || n > 1024) {
		err_set(e, "object store: no UploadId in its answer");
		goto out;
	}
	raw = curl_easy_escape(NULL, v, (int)n);
	id = raw ? xstrdup(raw) : NULL;
	curl_free(raw);
out:
	blob_s3_req_release(&r);
	return id;
}

static int put_part(struct s3_writer *w, const char *key, const char *upload, unsigned part,
		    uint64_t off, uint64_t len, struct buf *done, struct errbuf *e)
{
	char sha[BLOB_KEY_LEN + 1];
	struct s3_req r;
	int rc = -1;

	if (hash_region(w->fd, off, len, sha, e) < 0)
		return -1;
	blob_s3_req_init(&r, "PUT");
	blob_s3_url(w->s, key, &r);
	buf_addf(&r.url, "?partNumber=%u&uploadId=%s", part, upload);
	r.payload_sha = sha;
	r.body_fd = w->fd;
	r.fd_off = off;
	r.fd_len = len;
	if (blob_s3_perform(w->s, NULL, &r, e) < 0)
		goto out;
	if (r.status != 200 || !r.etag[0] || strchr(r.etag, '<')) {
		blob_s3_fail(&r, "PUT of a part", e);
		goto out;
	}
	buf_addf(done, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", part, r.etag);
	rc = 0;
out:
	blob_s3_req_release(&r);
	return rc;
}

static int put_multipart(struct s3_writer *w, const char *key, struct errbuf *e)
{
	uint64_t part_size = w->s->part_size;
	struct buf done = BUF_INIT;
	char sha[BLOB_KEY_LEN + 1], *upload;
	struct s3_req r;
	unsigned part = 1;
	int rc = -1;

	while ((w->size + part_size - 1) / part_size > MAX_PARTS)
		part_size *= 2;
	if (!(upload = start_upload(w->s, key, e)))
		return -1;
	blob_s3_req_init(&r, "POST");
	buf_adds(&done, "<CompleteMultipartUpload>");
	for (uint64_t off = 0; off < w->size; off += part_size, part++)
		if (put_part(w, key, upload, part, off,
			     w->size - off < part_size ? w->size - off : part_size, &done, e) < 0)
			goto out;
	buf_adds(&done, "</CompleteMultipartUpload>");
	blob_s3_url(w->s, key, &r);
	buf_addf(&r.url, "?uploadId=%s", upload);
	sha_hex(done.data, done.len, sha);
	r.payload_sha = sha;
	r.body = done.data;
	r.body_len = done.len;
	if (blob_s3_perform(w->s, NULL, &r, e) < 0)
		goto out;
	/* S3 may answer 200 and put the error in the body. */
	if (r.status != 200 || (r.resp.len && memmem(r.resp.data, r.resp.len, "<Error>", 7))) {
		blob_s3_fail(&r, "completing a multipart upload", e);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		abort_upload(w->s, key, upload);
	blob_s3_req_release(&r);
	buf_release(&done);
	free(upload);
	return rc;
}

static int s3_commit(void *writer, const char *key, struct blob_info *info, struct errbuf *e)
{
	struct s3_writer *w = writer;
	uint64_t size = 0;
	int there = head(w->s, key, &size, NULL, e);

	if (there < 0)
		return -1;
	/* The same content under its hash is there already: keep it. */
	if (there == 1 || size != w->size) {
		if ((w->size > w->s->part_size ? put_multipart(w, key, e) : put_single(w, key, e)) < 0)
			return -1;
	}
	info->mtime = time(NULL);
	return 0;
}

static void s3_discard(void *writer)
{
	struct s3_writer *w = writer;

	close(w->fd);
	free(w);
}

/* ---- reads ------------------------------------------------------------------- */

/* Fetches the window of R's object at OFF (LEN bytes at most). Returns 0,
 * 1 when there is no such object, or -1 with E filled. */
static int fetch_window(struct s3_reader *rd, uint64_t off, size_t len, struct errbuf *e)
{
	char range[64];
	struct s3_req r;
	int rc = -1;

	if (rd->win_cap < len) {
		free(rd->win);
		rd->win = xmalloc(len);
		rd->win_cap = len;
	}
	blob_s3_req_init(&r, "GET");
	blob_s3_url(rd->s, rd->key, &r);
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	r.range = range;
	r.resp_to = rd->win;
	r.resp_cap = len;
	if (blob_s3_perform(rd->s, rd->h, &r, e) < 0)
		goto out;
	if (r.status == 404) {
		rc = 1;
		err_set(e, "no blob %s in the object store", rd->key);
	} else if (r.status == 206 || r.status == 200) {
		rd->win_off = off;
		rd->win_len = r.resp_len;
		if (r.status == 200 || r.have_total)
			rd->size = r.total;
		rc = 0;
	} else if (r.status == 416 && off == 0) { /* an empty object */
		rd->win_off = 0;
		rd->win_len = 0;
		rd->size = 0;
		rc = 0;
	} else {
		blob_s3_fail(&r, "GET", e);
	}
out:
	blob_s3_req_release(&r);
	return rc;
}

static void s3_close_reader(void *reader)
{
	struct s3_reader *r = reader;

	if (r->h)
		curl_easy_cleanup(r->h);
	free(r->win);
	free(r->key);
	free(r);
}

static void *s3_open_reader(void *store, const char *key, uint64_t *size, bool *missing,
			    struct errbuf *e)
{
	struct s3_reader *r = xcalloc(1, sizeof(*r));
	int rc;

	r->s = store;
	r->key = xstrdup(key);
	r->h = curl_easy_init();
	if (!r->h) {
		err_set(e, "cannot start a request to the object store");
		s3_close_reader(r);
		return NULL;
	}
	rc = fetch_window(r, 0, FIRST_WINDOW, e);
	if (rc != 0) {
		*missing = rc == 1;
		s3_close_reader(r);
		return NULL;
	}
	*size = r->size;
	return r;
}

static ssize_t s3_read_at(void *reader, void *buf, size_t len, uint64_t offset)
{
	struct s3_reader *r = reader;
	struct errbuf e;
	size_t have;

	if (offset >= r->size)
		return 0;
	if (offset < r->win_off || offset >= r->win_off + r->win_len) {
		uint64_t left = r->size - offset;

		if (fetch_window(r, offset, left < WINDOW ? (size_t)left : WINDOW, &e) != 0 ||
		    r->win_len == 0)
			return -1;
	}
	have = (size_t)(r->win_off + r->win_len - offset);
	if (len > have)
		len = have;
	memcpy(buf, r->win + (offset - r->win_off), len);
	return (ssize_t)len;
}

static int s3_stat(void *store, const char *key, struct blob_info *info, bool *missing,
		   struct errbuf *e)
{
	time_t mtime = 0;
	int rc = head(store, key, &info->size, &mtime, e);

	if (rc == 1) {
		*missing = true;
		return err_set(e, "no blob %s in the object store", key);
	}
	info->mtime = mtime > 0 ? mtime : 0;
	return rc;
}

static int s3_remove(void *store, const char *key, struct errbuf *e)
{
	struct s3_req r;
	int rc = -1;

	blob_s3_req_init(&r, "DELETE");
	blob_s3_url(store, key, &r);
	if (blob_s3_perform(store, NULL, &r, e) == 0)
		rc = r.status == 204 || r.status == 200 || r.status == 404 ? 0 : blob_s3_fail(&r, "DELETE", e);
	blob_s3_req_release(&r);
	return rc;
}

/* ---- listing ----------------------------------------------------------------- */

static int s3_each(void *store, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
		   struct errbuf *e)
{
	struct s3_store *s = store;
	size_t plen = strlen(s->prefix);
	char *token = NULL, *esc_token, *esc_prefix = curl_easy_escape(NULL, s->prefix, (int)plen);
	int rc = 0;

	do {
		struct s3_req r;

		blob_s3_req_init(&r, "GET");
		esc_token = token ? curl_easy_escape(NULL, token, 0) : NULL;
		buf_addf(&r.url, "%s%s/?", s->scheme_host, s->bucket_path);
		if (esc_token)
			buf_addf(&r.url, "continuation-token=%s&", esc_token);
		buf_addf(&r.url, "list-type=2&prefix=%s", esc_prefix ? esc_prefix : "");
		curl_free(esc_token);
		free(token);
		token = NULL;
		if (blob_s3_perform(s, NULL, &r, e) < 0)
			rc = -1;
		else if (r.status != 200)
			rc = blob_s3_fail(&r, "listing the bucket", e);
		else if (blob_s3_list_page(r.resp.data ? r.resp.data : "", r.resp.len, plen, fn, ctx,
					   &token) < 0)
			rc = err_set(e, "stopped");
		blob_s3_req_release(&r);
	} while (rc == 0 && token);
	free(token);
	curl_free(esc_prefix);
	return rc;
}

const struct blob_backend blob_s3_backend = {
	.scheme = "s3",
	.open = s3_open_unused,
	.close = s3_close,
	.begin = s3_begin,
	.write = s3_write,
	.pread = s3_pread,
	.commit = s3_commit,
	.discard = s3_discard,
	.open_reader = s3_open_reader,
	.read_at = s3_read_at,
	.fd = NULL,
	.close_reader = s3_close_reader,
	.stat = s3_stat,
	.remove = s3_remove,
	.each = s3_each,
};
