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

#include "blob_internal.h"
#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define FIRST_WINDOW (64 * 1024) /* small: it is what a cold play waits for */
#define WINDOW (1024 * 1024)
#define MAX_XML (4 * 1024 * 1024) /* one listing page or error */
#define MAX_PARTS 10000
#define CONNECT_TIMEOUT_S 10L
#define TIMEOUT_S 600L

struct s3_store {
	char *scheme_host; /* "http://127.0.0.1:9000" (path style) or with the bucket in front */
	char *bucket_path; /* "/bucket" (path style) or "" (virtual-hosted) */
	char *prefix;      /* what keys are named under: "" or "some/prefix/" */
	char *sigv4;       /* "aws:amz:REGION:s3" */
	char *userpwd;     /* "ID:SECRET", never shown */
	char *staging;     /* directory of staged puts */
	uint64_t part_size;
};

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

/* ---- one request ------------------------------------------------------------ */

struct s3_req {
	const char *method;
	struct buf url;
	const char *payload_sha; /* hex; NULL: the empty body's */
	const char *range;       /* "a-b" or NULL */
	/* the body: memory, or a region of a file */
	const char *body;
	size_t body_len;
	int body_fd;
	uint64_t fd_off, fd_len, sent;
	/* the answer */
	long status;
	struct buf resp;         /* the body, up to RESP_MAX (when RESP_TO is NULL) */
	size_t resp_max;
	char *resp_to;           /* or straight into this buffer ... */
	size_t resp_cap, resp_len; /* ... of this size */
	char etag[128];
	uint64_t total;          /* from Content-Range, else Content-Length */
	bool have_total;
	time_t last_modified;
};

static size_t on_header(char *line, size_t size, size_t n, void *ctx)
{
	struct s3_req *r = ctx;
	size_t len = size * n;
	char tmp[256];
	const char *v;

	if (len >= sizeof(tmp))
		return len;
	memcpy(tmp, line, len);
	tmp[len] = '\0';
	tmp[strcspn(tmp, "\r\n")] = '\0';
	if (strncasecmp(tmp, "etag:", 5) == 0) {
		v = tmp + 5 + strspn(tmp + 5, " ");
		snprintf(r->etag, sizeof(r->etag), "%s", v);
	} else if (strncasecmp(tmp, "content-range:", 14) == 0 && (v = strchr(tmp, '/')) &&
		   v[1] != '*') {
		r->total = strtoull(v + 1, NULL, 10);
		r->have_total = true;
	} else if (strncasecmp(tmp, "content-length:", 15) == 0 && !r->have_total) {
		r->total = strtoull(tmp + 15, NULL, 10);
	} else if (strncasecmp(tmp, "last-modified:", 14) == 0) {
		r->last_modified = curl_getdate(tmp + 14, NULL);
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct s3_req *r = ctx;
	size_t len = size * n;

	if (r->resp_to) {
		if (len > r->resp_cap - r->resp_len)
			len = r->resp_cap - r->resp_len; /* a server that ignored Range: enough */
		memcpy(r->resp_to + r->resp_len, data, len);
		r->resp_len += len;
		return r->resp_len == r->resp_cap && len < size * n ? 0 : size * n;
	}
	if (r->resp.len + len > r->resp_max)
		return 0;
	buf_add(&r->resp, data, len);
	return len;
}

static size_t on_send(char *out, size_t size, size_t n, void *ctx)
{
	struct s3_req *r = ctx;
	size_t want = size * n;
	ssize_t got;

	if (r->body) {
		if (want > r->body_len - r->sent)
			want = r->body_len - r->sent;
		memcpy(out, r->body + r->sent, want);
		r->sent += want;
		return want;
	}
	if (want > r->fd_len - r->sent)
		want = (size_t)(r->fd_len - r->sent);
	if (!want)
		return 0;
	do
		got = pread(r->body_fd, out, want, (off_t)(r->fd_off + r->sent));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	r->sent += (uint64_t)got;
	return (size_t)got;
}

static void req_init(struct s3_req *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	buf_init(&r->url);
	buf_init(&r->resp);
	r->resp_max = MAX_XML;
	r->body_fd = -1;
}

static void req_release(struct s3_req *r)
{
	buf_release(&r->url);
	buf_release(&r->resp);
}

/* The URL of object KEY (or of the bucket when KEY is NULL) into R's url. */
static void object_url(const struct s3_store *s, const char *key, struct s3_req *r)
{
	buf_addf(&r->url, "%s%s/%s%s", s->scheme_host, s->bucket_path, s->prefix, key ? key : "");
}

/* S3's <Code> of an error body, for messages (nothing secret is in it). */
static void error_code(const struct buf *resp, char *out, size_t cap)
{
	const char *v;
	size_t n;

	out[0] = '\0';
	if (resp->len && blob_s3_xml_find(resp->data, resp->len, "Code", 0, &v, &n) >= 0)
		snprintf(out, cap, " (%.*s)", (int)(n < 80 ? n : 80), v);
}

/* Sends R with handle H (a new one when NULL). Returns 0 with R->status
 * set, or -1 with E filled when there was no HTTP answer. */
static int perform(struct s3_store *s, CURL *h, struct s3_req *r, struct errbuf *e)
{
	struct curl_slist *hdrs = NULL;
	char line[160];
	CURL *own = NULL;
	CURLcode rc;
	int ret = -1;

	if (!h && !(h = own = curl_easy_init()))
		return err_set(e, "cannot start a request to the object store");
	curl_easy_reset(h);
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", r->payload_sha ? r->payload_sha : EMPTY_SHA256);
	hdrs = curl_slist_append(hdrs, line);
	/* Range through libcurl's own option: a header that is not signed,
	 * as S3 requires of it only that it be sent. */
	if (r->range)
		curl_easy_setopt(h, CURLOPT_RANGE, r->range);
	curl_easy_setopt(h, CURLOPT_URL, r->url.data);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_send);
		curl_easy_setopt(h, CURLOPT_READDATA, r);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)(r->body ? r->body_len : r->fd_len));
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->resp_to && r->resp_len == r->resp_cap)) {
		err_set(e, "object store %s: %s", r->method, curl_easy_strerror(rc));
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	if (own)
		curl_easy_cleanup(own);
	return ret;
}

/* Fails with the status and S3's error code. */
static int http_error(const struct s3_req *r, const char *what, struct errbuf *e)
{
	char code[100];

	error_code(&r->resp, code, sizeof(code));
	return err_set(e, "object store: %s answered %ld%s", what, r->status, code);
}

/* ---- the store --------------------------------------------------------------- */

/* Printable, no blank, no ':' (libcurl takes "ID:SECRET"). */
static bool is_token(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~' || v[i] == ':')
			return false;
	return true;
}

int blob_s3_parse_credentials(const char *text, size_t len, char **id, char **secret,
			      struct errbuf *e)
{
	const char *p = text, *end = text + len;

	*id = *secret = NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *eq, *k, *v, *ve;
		char **slot = NULL;

		if (!eol)
			eol = end;
		eq = memchr(p, '=', (size_t)(eol - p));
		k = p;
		while (k < eol && (*k == ' ' || *k == '\t'))
			k++;
		if (eq && k < eq) {
			size_t kn = (size_t)(eq - k);

			while (kn && (k[kn - 1] == ' ' || k[kn - 1] == '\t'))
				kn--;
			if (kn == 17 && strncasecmp(k, "aws_access_key_id", kn) == 0)
				slot = id;
			else if (kn == 21 && strncasecmp(k, "aws_secret_access_key", kn) == 0)
				slot = secret;
			v = eq + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			ve = eol;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			if (slot && !*slot && ve > v && ve - v < 256 && is_token(v, (size_t)(ve - v)))
				*slot = xstrndup(v, (size_t)(ve - v));
		}
		p = eol + 1;
	}
	if (*id && *secret)
		return 0;
	free(*id);
	free(*secret);
	*id = *secret = NULL;
	return err_set(e, "the credentials file needs aws_access_key_id and aws_secret_access_key");
}

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

	req_init(&r, "HEAD");
	object_url(s, key, &r);
	if (perform(s, NULL, &r, e) < 0)
		goto out;
	if (r.status == 404) {
		rc = 1;
	} else if (r.status == 200) {
		*size = r.total;
		if (mtime)
			*mtime = r.last_modified;
		rc = 0;
	} else {
		http_error(&r, "HEAD", e);
	}
out:
	req_release(&r);
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

	req_init(&r, "PUT");
	object_url(w->s, key, &r);
	r.payload_sha = key; /* the content's SHA-256 is its key */
	r.body_fd = w->fd;
	r.fd_len = w->size;
	if (perform(w->s, NULL, &r, e) == 0)
		rc = r.status == 200 ? 0 : http_error(&r, "PUT", e);
	req_release(&r);
	return rc;
}

static void abort_upload(struct s3_store *s, const char *key, const char *upload)
{
	struct errbuf ignored;
	struct s3_req r;

	req_init(&r, "DELETE");
	object_url(s, key, &r);
	buf_addf(&r.url, "?uploadId=%s", upload);
	(void)perform(s, NULL, &r, &ignored);
	req_release(&r);
}

/* Starts a multipart upload of KEY; returns the upload id (escaped for a
 * query), or NULL with E filled. */
static char *start_upload(struct s3_store *s, const char *key, struct errbuf *e)
{
	struct s3_req r;
	const char *v;
	size_t n;
	char *id = NULL, *raw;

	req_init(&r, "POST");
	object_url(s, key, &r);
	buf_adds(&r.url, "?uploads=");
	r.body = "";
	if (perform(s, NULL, &r, e) < 0)
		goto out;
	if (r.status != 200) {
		http_error(&r, "starting a multipart upload", e);
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
	req_release(&r);
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
	req_init(&r, "PUT");
	object_url(w->s, key, &r);
	buf_addf(&r.url, "?partNumber=%u&uploadId=%s", part, upload);
	r.payload_sha = sha;
	r.body_fd = w->fd;
	r.fd_off = off;
	r.fd_len = len;
	if (perform(w->s, NULL, &r, e) < 0)
		goto out;
	if (r.status != 200 || !r.etag[0] || strchr(r.etag, '<')) {
		http_error(&r, "PUT of a part", e);
		goto out;
	}
	buf_addf(done, "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", part, r.etag);
	rc = 0;
out:
	req_release(&r);
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
	req_init(&r, "POST");
	buf_adds(&done, "<CompleteMultipartUpload>");
	for (uint64_t off = 0; off < w->size; off += part_size, part++)
		if (put_part(w, key, upload, part, off,
			     w->size - off < part_size ? w->size - off : part_size, &done, e) < 0)
			goto out;
	buf_adds(&done, "</CompleteMultipartUpload>");
	object_url(w->s, key, &r);
	buf_addf(&r.url, "?uploadId=%s", upload);
	sha_hex(done.data, done.len, sha);
	r.payload_sha = sha;
	r.body = done.data;
	r.body_len = done.len;
	if (perform(w->s, NULL, &r, e) < 0)
		goto out;
	/* S3 may answer 200 and put the error in the body. */
	if (r.status != 200 || (r.resp.len && memmem(r.resp.data, r.resp.len, "<Error>", 7))) {
		http_error(&r, "completing a multipart upload", e);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		abort_upload(w->s, key, upload);
	req_release(&r);
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
	req_init(&r, "GET");
	object_url(rd->s, rd->key, &r);
	snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	r.range = range;
	r.resp_to = rd->win;
	r.resp_cap = len;
	if (perform(rd->s, rd->h, &r, e) < 0)
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
		http_error(&r, "GET", e);
	}
out:
	req_release(&r);
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

	req_init(&r, "DELETE");
	object_url(store, key, &r);
	if (perform(store, NULL, &r, e) == 0)
		rc = r.status == 204 || r.status == 200 || r.status == 404 ? 0 : http_error(&r, "DELETE", e);
	req_release(&r);
	return rc;
}

/* ---- listing ----------------------------------------------------------------- */

/* "2024-05-01T10:00:00.000Z" as seconds since the epoch (0 when not that). */
static int64_t iso_time(const char *v, size_t n)
{
	char tmp[40];
	struct tm tm = { 0 };

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

int blob_s3_list_page(const char *xml, size_t len, size_t prefix_len,
		      int (*fn)(void *ctx, const struct blob_info *info), void *ctx, char **next)
{
	size_t pos = 0;
	const char *v, *key, *size, *mod;
	size_t n, kn, sn, mn;
	long end;

	*next = NULL;
	while ((end = blob_s3_xml_find(xml, len, "Contents", pos, &v, &n)) >= 0) {
		struct blob_info info;

		pos = (size_t)end;
		if (blob_s3_xml_find(v, n, "Key", 0, &key, &kn) < 0 || kn != prefix_len + BLOB_KEY_LEN)
			continue;
		memset(&info, 0, sizeof(info));
		memcpy(info.key, key + prefix_len, BLOB_KEY_LEN);
		if (!blob_key_is_valid(info.key) || auth_unhex(info.key, info.sha256, AUTH_SHA256_LEN) < 0)
			continue;
		if (blob_s3_xml_find(v, n, "Size", 0, &size, &sn) >= 0 && sn < 20)
			for (size_t i = 0; i < sn && size[i] >= '0' && size[i] <= '9'; i++)
				info.size = info.size * 10 + (uint64_t)(size[i] - '0');
		if (blob_s3_xml_find(v, n, "LastModified", 0, &mod, &mn) >= 0)
			info.mtime = iso_time(mod, mn);
		if (fn(ctx, &info) < 0)
			return -1;
	}
	if (blob_s3_xml_find(xml, len, "IsTruncated", 0, &v, &n) >= 0 && n == 4 &&
	    memcmp(v, "true", 4) == 0 &&
	    blob_s3_xml_find(xml, len, "NextContinuationToken", 0, &v, &n) >= 0 && n && n < 2048)
		*next = xstrndup(v, n);
	return 0;
}

static int s3_each(void *store, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
		   struct errbuf *e)
{
	struct s3_store *s = store;
	size_t plen = strlen(s->prefix);
	char *token = NULL, *esc_token, *esc_prefix = curl_easy_escape(NULL, s->prefix, (int)plen);
	int rc = 0;

	do {
		struct s3_req r;

		req_init(&r, "GET");
		esc_token = token ? curl_easy_escape(NULL, token, 0) : NULL;
		buf_addf(&r.url, "%s%s/?", s->scheme_host, s->bucket_path);
		if (esc_token)
			buf_addf(&r.url, "continuation-token=%s&", esc_token);
		buf_addf(&r.url, "list-type=2&prefix=%s", esc_prefix ? esc_prefix : "");
		curl_free(esc_token);
		free(token);
		token = NULL;
		if (perform(s, NULL, &r, e) < 0)
			rc = -1;
		else if (r.status != 200)
			rc = http_error(&r, "listing the bucket", e);
		else if (blob_s3_list_page(r.resp.data ? r.resp.data : "", r.resp.len, plen, fn, ctx,
					   &token) < 0)
			rc = err_set(e, "stopped");
		req_release(&r);
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
