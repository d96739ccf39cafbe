/* The transfer: one GET per hop with the source's credentials where they
 * belong, redirects checked by hand, the answer sniffed before anyone sees
 * a byte of it, and the failure sorted. */
#include "ringlog/upstream.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/audio.h"
#include "ringlog/buf.h"
#include "ringlog/mime.h"
#include "ringlog/xalloc.h"

#define ERROR_TEXT_MAX 2048 /* of an error page, kept for the message */

enum mode { M_UNDECIDED, M_SNIFF, M_AUDIO, M_ERROR_TEXT, M_DISCARD };

/* One hop's transfer state, seen by the write callback. */
struct xfer {
	CURL *curl;
	const struct upstream_options *o;
	const struct upstream_handler *h;
	struct upstream_result *r;
	enum mode mode;
	long status;
	unsigned char head[MIME_SNIFF_LEN];
	size_t nhead;
	struct buf text;
	enum upstream_error abort_error; /* why the callback stopped it, or OK */
	char abort_why[200];
};

static void set_result(struct upstream_result *r, enum upstream_error err, const char *fmt, ...)
	RL_PRINTF(3, 4);

static void set_result(struct upstream_result *r, enum upstream_error err, const char *fmt, ...)
{
	va_list ap;

	r->error = err;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
}

static size_t stop(struct xfer *x, enum upstream_error err, const char *why)
{
	x->abort_error = err;
	snprintf(x->abort_why, sizeof(x->abort_why), "%s", why);
	return 0; /* CURLE_WRITE_ERROR */
}

/* The answer is audio: tell the handler, then give it what was held back. */
static size_t begin_audio(struct xfer *x, const char *mime)
{
	curl_off_t cl = -1;

	curl_easy_getinfo(x->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	if (x->o->max_size && cl > 0 && (uint64_t)cl > x->o->max_size)
		return stop(x, UPSTREAM_TOO_LARGE, "the answer is larger than the size limit");
	x->mode = M_AUDIO;
	x->r->started = true;
	if (x->h->start(x->h->ctx, mime, cl >= 0 ? (int64_t)cl : -1) < 0)
		return stop(x, UPSTREAM_ERROR, "the answer could not be stored");
	if (x->nhead && x->h->data(x->h->ctx, x->head, x->nhead) < 0)
		return stop(x, UPSTREAM_ERROR, "the answer could not be stored");
	x->r->bytes += x->nhead;
	return 1;
}

/* Enough of a 200 answer is in: audio, or an error page. */
static size_t decide(struct xfer *x)
{
	const char *mime = mime_sniff(x->head, x->nhead);
	char *type = NULL, *url = NULL;

	/* raw telephone audio has no magic bytes: its type or name tells it */
	if (!mime) {
		curl_easy_getinfo(x->curl, CURLINFO_CONTENT_TYPE, &type);
		curl_easy_getinfo(x->curl, CURLINFO_EFFECTIVE_URL, &url);
		mime = audio_raw_mime(type, url);
	}
	if (mime)
		return begin_audio(x, mime);
	x->mode = M_ERROR_TEXT;
	buf_add(&x->text, x->head, x->nhead);
	return 1;
}

static size_t on_audio(struct xfer *x, const char *p, size_t n)
{
	if (x->o->max_size && x->r->bytes + n > x->o->max_size)
		return stop(x, UPSTREAM_TOO_LARGE, "the answer is larger than the size limit");
	if (x->h->data(x->h->ctx, p, n) < 0)
		return stop(x, UPSTREAM_ERROR, "the answer could not be stored");
	x->r->bytes += n;
	return n;
}

static size_t on_sniff(struct xfer *x, const char *p, size_t n)
{
	size_t take = n < sizeof(x->head) - x->nhead ? n : sizeof(x->head) - x->nhead;

	memcpy(x->head + x->nhead, p, take);
	x->nhead += take;
	if (x->nhead < sizeof(x->head))
		return n;
	if (decide(x) == 0)
		return 0;
	if (x->mode == M_AUDIO)
		return take == n || on_audio(x, p + take, n - take) == n - take ? n : 0;
	buf_add(&x->text, p + take, n - take);
	return x->text.len >= ERROR_TEXT_MAX ? stop(x, UPSTREAM_OK, "") : n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->mode == M_UNDECIDED) {
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
		x->mode = x->status == 200 ? M_SNIFF : x->status >= 300 && x->status < 400 ? M_DISCARD
			: M_ERROR_TEXT;
	}
	switch (x->mode) {
	case M_SNIFF: return on_sniff(x, p, n);
	case M_AUDIO: return on_audio(x, p, n);
	case M_ERROR_TEXT:
		buf_add(&x->text, p, n);
		return x->text.len >= ERROR_TEXT_MAX ? stop(x, UPSTREAM_OK, "") : n;
	default: return n;
	}
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct xfer *x = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return x->h->cancelled && x->h->cancelled(x->h->ctx);
}

/* ---- one hop -------------------------------------------------------------- */

static void set_credentials(CURL *c, const struct source *src, struct curl_slist **headers)
{
	const char *mode = src->fetch_auth ? src->fetch_auth : "none";

	if (strcmp(mode, "basic") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, src->fetch_user ? src->fetch_user : "");
		curl_easy_setopt(c, CURLOPT_PASSWORD, src->fetch_secret ? src->fetch_secret : "");
	} else if (strcmp(mode, "header") == 0 && src->fetch_header && *src->fetch_header) {
		struct buf h = BUF_INIT;

		buf_addf(&h, "%s: %s", src->fetch_header, src->fetch_secret ? src->fetch_secret : "");
		*headers = curl_slist_append(*headers, h.data);
		buf_release(&h);
	}
}

static CURLcode perform_hop(struct xfer *x, const char *url, const struct source *src,
			    bool credentials, char *errbuf)
{
	CURL *c = x->curl;
	struct curl_slist *headers = NULL;
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ringlog-fetcherd/1");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, x->o->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, x->o->timeout_ms);
	if (x->o->max_size)
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->o->max_size);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (credentials)
		set_credentials(c, src, &headers);
	if (headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	errbuf[0] = '\0';
	rc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return rc;
}

/* ---- sorting the outcome --------------------------------------------------- */

/* The first words of an error page: printable, tags and runs of blanks out. */
static void excerpt(const struct buf *text, char *out, size_t size)
{
	size_t o = 0;
	bool tag = false, blank = true;

	for (size_t i = 0; i < text->len && o + 1 < size && o < 200; i++) {
		unsigned char c = (unsigned char)text->data[i];

		if (c == '<' || c == '>') {
			tag = c == '<';
			c = ' ';
		} else if (tag) {
			continue;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			c = ' ';
		if (c == ' ' && blank)
			continue;
		blank = c == ' ';
		out[o++] = (char)c;
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static bool speaks_of_credentials(const char *text)
{
	static const char *const words[] = { "auth", "login", "password", "passwd", "credential",
					     "forbidden", "denied", "permission", "api key",
					     "apikey", "api_key", "token", NULL };
	char low[256];
	size_t i;

	for (i = 0; text[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)text[i]);
	low[i] = '\0';
	for (const char *const *w = words; *w; w++)
		if (strstr(low, *w))
			return true;
	return false;
}

static void sort_http(struct xfer *x, const char *shown, struct upstream_result *r)
{
	char text[256];
	long s = x->status;

	excerpt(&x->text, text, sizeof(text));
	if (s == 200) {
		set_result(r, speaks_of_credentials(text) ? UPSTREAM_AUTH_FAILED : UPSTREAM_REJECTED_REF,
			   "%s answered 200 with no audio: \"%s\"", shown, text);
	} else if (s == 401 || s == 403 || s == 407) {
		set_result(r, UPSTREAM_AUTH_FAILED, "%s answered %ld (credentials refused): \"%s\"",
			   shown, s, text);
	} else if (s == 400 || s == 404 || s == 410 || s == 422) {
		set_result(r, UPSTREAM_REJECTED_REF, "%s answered %ld (unknown reference): \"%s\"",
			   shown, s, text);
	} else {
		set_result(r, UPSTREAM_ERROR, "%s answered %ld: \"%s\"", shown, s, text);
	}
}

static void sort_curl(struct xfer *x, CURLcode rc, const char *errbuf, const char *shown,
		      struct upstream_result *r)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_WRITE_ERROR && x->abort_error != UPSTREAM_OK)
		set_result(r, x->abort_error, "%s: %s", shown, x->abort_why);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		set_result(r, UPSTREAM_TIMEOUT, "%s: timed out (%s)", shown, why);
	else if (rc == CURLE_FILESIZE_EXCEEDED)
		set_result(r, UPSTREAM_TOO_LARGE, "%s: the answer is larger than %llu bytes", shown,
			   (unsigned long long)x->o->max_size);
	else if (rc == CURLE_ABORTED_BY_CALLBACK)
		set_result(r, UPSTREAM_CANCELLED, "%s: cancelled", shown);
	else
		set_result(r, UPSTREAM_ERROR, "%s: %s", shown, why);
}

/* After a hop that ended well at the HTTP level. Returns 1 when OK. */
static int sort_done(struct xfer *x, const char *shown, struct upstream_result *r)
{
	if (x->mode == M_SNIFF && x->nhead)
		decide(x);
	if (x->abort_error != UPSTREAM_OK) {
		set_result(r, x->abort_error, "%s: %s", shown, x->abort_why);
		return 0;
	}
	if (x->mode == M_AUDIO) {
		r->error = UPSTREAM_OK;
		return 1;
	}
	sort_http(x, shown, r);
	return 0;
}

/* ---- the whole fetch --------------------------------------------------------- */

/* A redirect from URL: the next URL (new string) if the rules allow it. */
static char *next_hop(struct xfer *x, const struct source *src, const char *shown,
		      struct upstream_result *r)
{
	char *loc = NULL, next_shown[300];

	curl_easy_getinfo(x->curl, CURLINFO_REDIRECT_URL, &loc);
	if (!loc) {
		set_result(r, UPSTREAM_ERROR, "%s answered %ld without a Location", shown, x->status);
		return NULL;
	}
	if (!upstream_url_allowed(src, loc)) {
		upstream_url_display(loc, next_shown, sizeof(next_shown));
		set_result(r, UPSTREAM_NOT_ALLOWED, "%s redirected to %s, which is not an allowed host",
			   shown, next_shown);
		return NULL;
	}
	return xstrdup(loc);
}

/* One request to CUR. Returns the next URL when it redirects within the
 * rules, or NULL when the fetch is over (R says how). */
static char *one_hop(CURL *curl, const struct source *src, const char *cur, bool creds, int hop,
		     const struct upstream_options *o, const struct upstream_handler *h,
		     struct upstream_result *r)
{
	struct xfer x = { .curl = curl, .o = o, .h = h, .r = r, .text = BUF_INIT };
	char errbuf[CURL_ERROR_SIZE], shown[300], *next = NULL;
	CURLcode rc;

	upstream_url_display(cur, shown, sizeof(shown));
	rc = perform_hop(&x, cur, src, creds, errbuf);
	r->requests++;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &x.status);
	r->status = x.status;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x.abort_error == UPSTREAM_OK))
		sort_curl(&x, rc, errbuf, shown, r);
	else if (x.status < 300 || x.status >= 400 || x.mode == M_AUDIO)
		sort_done(&x, shown, r);
	else if (hop >= o->max_redirects)
		set_result(r, UPSTREAM_ERROR, "%s: more than %d redirects", shown, o->max_redirects);
	else
		next = next_hop(&x, src, shown, r);
	buf_release(&x.text);
	return next;
}

/* The message names URLs (whose path may hold a {secret}) and quotes error
 * pages (which may echo the URL): take the source's secrets out. */
static void redact(const struct source *src, struct upstream_result *r)
{
	const char *secrets[] = { src->fetch_secret, NULL };

	upstream_redact(r->message, sizeof(r->message), secrets);
}

void upstream_get(CURL *curl, const struct source *src, const char *ref, const char *url,
		  const struct upstream_options *o, const struct upstream_handler *h,
		  struct upstream_result *r)
{
	struct errbuf e;
	char *cur, *next;
	bool creds;

	memset(r, 0, sizeof(*r));
	cur = upstream_url(src, ref, url, &r->error, &e);
	if (!cur) {
		snprintf(r->message, sizeof(r->message), "%.399s", e.msg);
		redact(src, r);
		return;
	}
	creds = upstream_url_gets_credentials(src, cur);
	for (int hop = 0; (next = one_hop(curl, src, cur, creds, hop, o, h, r)); hop++) {
		/* Credentials stay only while the origin does not change. */
		creds = creds && upstream_url_same_origin(cur, next);
		free(cur);
		cur = next;
	}
	free(cur);
	redact(src, r);
}
