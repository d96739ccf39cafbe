/* One request to the object store: signed by libcurl (CURLOPT_AWS_SIGV4,
 * with the payload's SHA-256 in x-amz-content-sha256), its body from memory
 * or a region of a file, its answer into a bounded buffer or the caller's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blob_s3.h"

#define MAX_XML (4 * 1024 * 1024) /* one listing page or error */
#define CONNECT_TIMEOUT_S 10L
#define TIMEOUT_S 600L

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

void blob_s3_req_init(struct s3_req *r, const char *method)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	buf_init(&r->url);
	buf_init(&r->resp);
	r->resp_max = MAX_XML;
	r->body_fd = -1;
}

void blob_s3_req_release(struct s3_req *r)
{
	buf_release(&r->url);
	buf_release(&r->resp);
}

/* The URL of object KEY (or of the bucket when KEY is NULL) into R's url. */
void blob_s3_url(const struct s3_store *s, const char *key, struct s3_req *r)
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
int blob_s3_perform(struct s3_store *s, CURL *h, struct s3_req *r, struct errbuf *e)
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
int blob_s3_fail(const struct s3_req *r, const char *what, struct errbuf *e)
{
	char code[100];

	error_code(&r->resp, code, sizeof(code));
	return err_set(e, "object store: %s answered %ld%s", what, r->status, code);
}
