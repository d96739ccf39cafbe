/* Playback over HTTP: a stored recording from the blob store with strong
 * validators (ETag from the SHA-256, Last-Modified from when it was
 * stored), conditional requests (304, 412), one Range (206, 416), the true
 * Content-Type and a Content-Disposition, the body handed to the kernel
 * (sendfile) from the blob's descriptor. A recording still downloading is
 * streamed from its flight as the bytes arrive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recordings.h"
#include "ringlog/httpcond.h"
#include "ringlog/mime.h"
#include "ringlog/xalloc.h"

static void add_disposition(struct MHD_Response *resp, long long id, const char *mime, bool download)
{
	char v[128];

	/* Unknown content is never shown inline. */
	snprintf(v, sizeof(v), "%s; filename=\"recording-%lld.%s\"",
		 download || !mime_is_audio(mime) ? "attachment" : "inline", id, mime_extension(mime));
	MHD_add_response_header(resp, "Content-Disposition", v);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
}

static void add_validators(struct MHD_Response *resp, const char *etag, const char *modified)
{
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=3600");
}

bool playback_wants_range(struct http_request *req)
{
	return strcmp(req->method, "GET") == 0 && http_header(req, MHD_HTTP_HEADER_RANGE);
}

/* ---- conditionals ---------------------------------------------------------------- */

static bool date_header(struct http_request *req, const char *name, int64_t *t)
{
	const char *v = http_header(req, name);

	return v && httpcond_parse_date(v, t) == 0;
}

/* RFC 9110 §13.2.2, in order: 412 when If-Match (or If-Unmodified-Since)
 * fails, 304 when If-None-Match (or If-Modified-Since) says the client's
 * copy is current, 0 to go on. */
static unsigned precondition(struct http_request *req, const char *etag, int64_t modified)
{
	const char *im = http_header(req, MHD_HTTP_HEADER_IF_MATCH);
	const char *inm = http_header(req, MHD_HTTP_HEADER_IF_NONE_MATCH);
	int64_t t;

	if (im ? !httpcond_etag_listed(im, etag, false)
	       : date_header(req, MHD_HTTP_HEADER_IF_UNMODIFIED_SINCE, &t) && modified > t)
		return 412;
	if (inm ? httpcond_etag_listed(inm, etag, true)
		: date_header(req, MHD_HTTP_HEADER_IF_MODIFIED_SINCE, &t) && modified <= t)
		return 304;
	return 0;
}

static enum MHD_Result not_modified(struct http_request *req, const char *etag, const char *modified)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	add_validators(resp, etag, modified);
	req->log_outcome = "not_modified";
	return http_reply_response(req, 304, resp);
}

static enum MHD_Result unsatisfiable(struct http_request *req, uint64_t size)
{
	char v[48];

	snprintf(v, sizeof(v), "bytes */%llu", (unsigned long long)size);
	http_add_header(req, MHD_HTTP_HEADER_CONTENT_RANGE, v);
	http_add_header(req, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	return http_reply_error(req, 416, "range_not_satisfiable",
				"the recording has %llu bytes", (unsigned long long)size);
}

/* ---- a stored recording ------------------------------------------------------------ */

/* A blob without a descriptor (a backend with none, such as S3), read from
 * FIRST on: MHD counts POS from the start of the body, not of the blob. */
struct blob_body {
	struct blob_reader *r;
	uint64_t first;
};

static ssize_t read_blob(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct blob_body *b = cls;
	ssize_t n = blob_pread(b->r, buf, max, b->first + pos);

	return n > 0 ? n : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void close_blob(void *cls)
{
	struct blob_body *b = cls;

	blob_reader_close(b->r);
	free(b);
}

/* The body [FIRST, FIRST + LEN) of R, which the response takes over. */
static struct MHD_Response *body(struct blob_reader *r, uint64_t first, uint64_t len)
{
	struct MHD_Response *resp;
	int fd = blob_reader_fd(r);

	if (fd < 0) {
		struct blob_body *b = xcalloc(1, sizeof(*b));

		b->r = r;
		b->first = first;
		resp = MHD_create_response_from_callback(len, 64 * 1024, read_blob, b, close_blob);
		if (!resp)
			close_blob(b);
		return resp;
	}
	fd = dup(fd);
	blob_reader_close(r);
	if (fd < 0)
		return NULL;
	resp = MHD_create_response_from_fd_at_offset64(len, fd, first);
	if (!resp)
		close(fd);
	return resp;
}

/* Which bytes to send: sets *FIRST and *LEN; 206, 200, or 416. */
static unsigned choose_range(struct http_request *req, uint64_t size, const char *etag,
			     int64_t modified, uint64_t *first, uint64_t *len)
{
	const char *ir = http_header(req, MHD_HTTP_HEADER_IF_RANGE);
	uint64_t last = 0;
	enum httpcond_range rg = HTTPCOND_RANGE_NONE;

	*first = 0;
	*len = size;
	if (playback_wants_range(req) && (!ir || httpcond_if_range(ir, etag, modified)))
		rg = httpcond_range(http_header(req, MHD_HTTP_HEADER_RANGE), size, first, &last);
	if (rg == HTTPCOND_RANGE_UNSATISFIABLE)
		return 416;
	if (rg == HTTPCOND_RANGE_NONE)
		return 200;
	*len = last - *first + 1;
	return 206;
}

enum MHD_Result playback_stored(struct http_request *req, struct blob_store *blobs,
				const struct stored_recording *s, bool download)
{
	char etag[BLOB_KEY_LEN + 3], modified[HTTPCOND_DATE_LEN], cr[80];
	struct MHD_Response *resp;
	struct blob_reader *r;
	uint64_t first, len, size;
	struct errbuf e;
	bool missing;
	unsigned status;

	snprintf(etag, sizeof(etag), "\"%s\"", s->key);
	httpcond_format_date(s->stored_at, modified);
	if ((status = precondition(req, etag, s->stored_at)) == 304)
		return not_modified(req, etag, modified);
	if (status == 412)
		return http_reply_error(req, 412, "precondition_failed", "the recording does not match");
	if (!(r = blob_open(blobs, s->key, &missing, &e))) {
		log_msg(LOG_ERR, "recording %lld: blob %s: %s", s->id, s->key, e.msg);
		return http_reply_error(req, 500, missing ? "recording_missing" : "storage_error",
					"the recording's file cannot be read");
	}
	size = blob_reader_size(r);
	status = choose_range(req, size, etag, s->stored_at, &first, &len);
	if (status == 416) {
		blob_reader_close(r);
		return unsatisfiable(req, size);
	}
	if (!(resp = body(r, first, len)))
		return http_reply_error(req, 500, "storage_error", "the recording cannot be sent");
	add_disposition(resp, s->id, s->mime, download);
	add_validators(resp, etag, modified);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (status == 206) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)first,
			 (unsigned long long)(first + len - 1), (unsigned long long)size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	req->log_outcome = status == 206 ? "partial" : "stored";
	return http_reply_response(req, status, resp);
}

/* ---- a recording still downloading ----------------------------------------------------- */

struct stream {
	struct flight *fl;
	struct MHD_Connection *conn;
	uint64_t first;
	uint64_t count; /* bytes to send; UINT64_MAX: all there will be */
};

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	ssize_t n;

	if (st->count != UINT64_MAX) {
		if (pos >= st->count)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (max > st->count - pos)
			max = (size_t)(st->count - pos);
	}
	n = flight_read(st->fl, st->conn, st->first + pos, buf, max);
	if (n == FLIGHT_READ_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n == FLIGHT_READ_ERROR ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void free_stream(void *cls)
{
	struct stream *st = cls;

	flight_unref(st->fl);
	free(st);
}

enum MHD_Result playback_streaming(struct http_request *req, struct flight *fl,
				   const struct flight_view *v, long long id, bool download)
{
	struct stream *st = calloc(1, sizeof(*st));
	uint64_t size = v->length >= 0 ? (uint64_t)v->length : MHD_SIZE_UNKNOWN, last = 0;
	enum httpcond_range rg = HTTPCOND_RANGE_NONE;
	struct MHD_Response *resp;
	char cr[80];

	if (!st)
		return MHD_NO;
	/* No validators yet, so an If-Range cannot match: the whole file. */
	if (v->length >= 0 && playback_wants_range(req) && !http_header(req, MHD_HTTP_HEADER_IF_RANGE))
		rg = httpcond_range(http_header(req, MHD_HTTP_HEADER_RANGE), size, &st->first, &last);
	if (rg == HTTPCOND_RANGE_UNSATISFIABLE) {
		free(st);
		return unsatisfiable(req, size);
	}
	st->count = rg == HTTPCOND_RANGE_OK ? last - st->first + 1 : size;
	st->conn = req->conn;
	st->fl = flight_ref(fl);
	resp = MHD_create_response_from_callback(st->count, 64 * 1024, read_stream, st, free_stream);
	if (!resp) {
		free_stream(st);
		return MHD_NO;
	}
	add_disposition(resp, id, v->mime, download);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, no-store");
	if (v->length >= 0)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (rg == HTTPCOND_RANGE_OK) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu", (unsigned long long)st->first,
			 (unsigned long long)last, (unsigned long long)size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
	}
	req->log_outcome = "streamed";
	return http_reply_response(req, rg == HTTPCOND_RANGE_OK ? 206 : 200, resp);
}
