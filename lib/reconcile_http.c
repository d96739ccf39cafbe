/* Reconciliation's requests: pace, auth as the pull says, retries of 429
 * (Retry-After), 5xx, timeouts and a vendor's own rate limit. */
#include "reconcile_internal.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RETRY_AFTER_MAX 120 /* seconds we wait for one 429 at most */

int reconcile_fail(struct reconcile_run *run, const char *kind, const char *fmt, ...)
{
	va_list ap;

	run->error_kind = kind;
	va_start(ap, fmt);
	vsnprintf(run->error, sizeof(run->error), fmt, ap);
	va_end(ap);
	return -1;
}

void reconcile_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0)
		;
}

static long since_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

struct answer {
	struct buf body;
	long retry_after; /* seconds, -1 when none */
	bool too_large;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	if (a->body.len + size * n > ANSWER_MAX) {
		a->too_large = true;
		return 0;
	}
	buf_add(&a->body, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
		a->retry_after = strtol(data + 12, NULL, 10);
	return len;
}

/* The request's headers: the secret's, if the pull sends it in one, and
 * the body's type. Caller frees. */
static struct curl_slist *headers(struct ctx *c, const char *body)
{
	struct curl_slist *hdr = NULL;

	if (c->pull->auth_header) {
		struct pull_vars v = {.secret = c->secret};
		char *value = pull_text_expand(c->pull->auth_value, &v);
		struct buf line = BUF_INIT;

		buf_addf(&line, "%s: %s", c->pull->auth_header, value);
		hdr = curl_slist_append(hdr, buf_str(&line));
		buf_release(&line);
		free(value);
	}
	if (body)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	return hdr;
}

static void pace(struct ctx *c)
{
	if (c->pace_ms > 0 && c->last_request.tv_sec && since_ms(&c->last_request) < c->pace_ms)
		reconcile_sleep_ms(c->pace_ms - since_ms(&c->last_request));
	clock_gettime(CLOCK_MONOTONIC, &c->last_request);
}

/* One request with its retries. Returns 0 with the 200 answer in A, or -1
 * with the run's error set. */
static int request(struct ctx *c, const char *url, const char *body, struct answer *a)
{
	struct reconcile_run *run = c->run;
	int tries = run->max_retries > 0 ? run->max_retries : 5;
	long backoff = 1000;

	for (int attempt = 0;; attempt++) {
		CURL *h;
		struct curl_slist *hdr;
		CURLcode rc;
		long status = 0;

		if (run->cancel && *run->cancel)
			return reconcile_fail(run, "cancelled", "stopped");
		pace(c);
		buf_release(&a->body);
		a->retry_after = -1;
		a->too_large = false;
		h = curl_easy_init();
		hdr = headers(c, body);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
				 run->timeout_ms > 0 ? run->timeout_ms : 60000L);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "ringlog-reconcile");
		if (c->pull->post)
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
		run->counts.requests++;
		if (rc == CURLE_OK && status == 200)
			return 0;
		if (a->too_large)
			return reconcile_fail(run, "bad_answer", "the answer is larger than %u MiB",
					      ANSWER_MAX >> 20);
		if (status == 401 || status == 403)
			return reconcile_fail(
			    run, "auth", "the PBX refused the pull credentials (HTTP %ld)", status);
		if (rc == CURLE_OK && status != 429 && status < 500)
			return reconcile_fail(run, "http", "the PBX answered HTTP %ld", status);
		if (attempt + 1 >= tries)
			return reconcile_fail(run,
					      rc == CURLE_OPERATION_TIMEDOUT ? "timeout"
					      : status == 429		     ? "rate_limited"
									     : "http",
					      "gave up after %d tries: %s", tries,
					      rc != CURLE_OK  ? curl_easy_strerror(rc)
					      : status == 429 ? "HTTP 429"
							      : "HTTP 5xx");
		if (status == 429 && a->retry_after >= 0) {
			reconcile_sleep_ms(
			    (a->retry_after > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : a->retry_after) *
			    1000);
		} else {
			reconcile_sleep_ms(backoff);
			backoff *= 2;
		}
	}
}

json_object *reconcile_ask(struct ctx *c, const char *url, const char *body)
{
	struct reconcile_run *run = c->run;
	int tries = run->max_retries > 0 ? run->max_retries : 5;
	long backoff = 1000;
	struct answer ans = {BUF_INIT, -1, false};
	json_object *doc = NULL;

	for (int attempt = 0;; attempt++) {
		const char *kind = "bad_answer";
		char msg[200] = "";
		enum pull_verdict v;

		if (request(c, url, body, &ans) < 0)
			break;
		doc = json_tokener_parse(buf_str(&ans.body));
		if (!doc) {
			reconcile_fail(run, "bad_answer", "the call log answer is not JSON");
			break;
		}
		v = c->pull->check ? c->pull->check(doc, &kind, msg, sizeof(msg)) : PULL_OK;
		if (v == PULL_OK)
			break;
		json_object_put(doc);
		doc = NULL;
		if (v == PULL_FAIL || attempt + 1 >= tries) {
			reconcile_fail(run, kind, "%s", msg);
			break;
		}
		reconcile_sleep_ms(backoff);
		backoff *= 2;
	}
	buf_release(&ans.body);
	return doc;
}
