/* What the parts of reconciliation share: one pull's state, its errors,
 * the HTTP request with its retries, the built-in vendors' APIs. */
#ifndef RINGLOG_RECONCILE_INTERNAL_H
#define RINGLOG_RECONCILE_INTERNAL_H

#include <json-c/json.h>
#include <time.h>

#include "ringlog/buf.h"
#include "ringlog/pull.h"
#include "ringlog/reconcile.h"

#define ANSWER_MAX (64u << 20) /* bytes of one answer */

struct ctx {
	struct reconcile_run *run;
	const struct pull *pull; /* the source's call-log API */
	char *url, *secret;	 /* {pull_url} and {secret} */
	long page_size, pace_ms;
	struct timespec last_request;
};

/* Sets RUN's error (KIND one of reconcile_error_kinds) and returns -1. */
int reconcile_fail(struct reconcile_run *run, const char *kind, const char *fmt, ...)
    RL_PRINTF(3, 4);

void reconcile_sleep_ms(long ms);

/* Asks URL (POSTing BODY when C's pull is a POST) and parses the answer.
 * Retries 429 (as Retry-After says), 5xx, timeouts and the vendor's own
 * rate limit in a 200 answer (pull->check) with backoff. Returns the
 * answer (caller puts), or NULL with the run's error set. */
json_object *reconcile_ask(struct ctx *c, const char *url, const char *body);

/* KEY of O in any case (Voicenter's live answers are lower case). */
json_object *reconcile_get_ci(json_object *o, const char *key);

/* The built-in call-log API of VENDOR, or NULL. */
const struct pull *reconcile_vendor_pull(const char *vendor);

#endif
