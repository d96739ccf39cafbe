/* Reconciliation (issue 15): the PBX's own call log, pulled for a window of
 * time, each record stored through the push path (push_prepare and
 * push_commit, origin "reconcile"): a call already known is a duplicate and
 * changes nothing, a missing one is filled and the lead and task rules
 * apply, a record that cannot be mapped is a dead letter. The call-log API
 * is the source's mapping's "pull", else its vendor's (Voicenter's hub/cdr,
 * Ringostat's calls/list; docs/reconcile.md). One pull of a source at a
 * time across every node: a session advisory lock. */
#ifndef RINGLOG_RECONCILE_H
#define RINGLOG_RECONCILE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringlog/compiler.h"
#include "ringlog/db.h"
#include "ringlog/push.h"
#include "ringlog/source.h"

struct reconcile_counts {
	long long seen;     /* records read */
	long long already;  /* already stored (duplicates; erased calls too) */
	long long filled;   /* stored by this pull: pushes that were lost */
	long long refused;  /* could not be mapped or stored: dead letters */
	long long requests; /* HTTP requests made */
};

struct reconcile_run {
	/* in */
	struct db *db;
	const struct source *src;
	const struct push_options *push;
	int64_t from, to;   /* the window, epoch seconds: [from, to) */
	bool dry_run;       /* read and map only; store nothing */
	long page_size;     /* most records one answer holds (0: the API's) */
	long pace_ms;       /* least time between requests (-1: the API's) */
	long timeout_ms;    /* of one request (0: 60 s) */
	int max_retries;    /* on 429, 5xx, timeouts (0: 5) */
	volatile int *cancel; /* may be NULL; non-zero stops between requests */
	/* Called after each slice of the window is done (may be NULL). */
	void (*progress)(void *ctx, int64_t done_until, const struct reconcile_counts *c);
	void *ctx;
	/* out */
	struct reconcile_counts counts;
	const char *error_kind; /* NULL, "busy" (another pull holds the source), or
				 * one of reconcile_error_kinds */
	char error[300];
};

/* Pulls RUN->src's call log for the window and stores it. Returns 0 when
 * the whole window was read, -1 with error_kind and error set (what was
 * stored before the error stays). */
int reconcile(struct reconcile_run *run) RL_MUST_CHECK;

/* A record of Voicenter's Call Log (any JSON value; keys in any case) as the
 * CDR Notification push it stands for: a new object, caller puts. */
json_object *reconcile_voicenter_body(json_object *rec);

/* What a failed pull's error_kind may be, NULL-terminated: auth,
 * rate_limited (429 past the retries, or Voicenter's error 1), timeout,
 * http, bad_answer, database, unsupported, cancelled. ingestd's /metrics
 * shows each from zero. */
extern const char *const reconcile_error_kinds[];

/* Records RUN's outcome in reconcile_state (records seen and refused, the
 * last good pull, errors by kind; the calls filled were counted as they
 * were stored, by ringlog_reconcile_filled). Returns 0 or -1. */
int reconcile_record(struct db *db, const struct reconcile_run *run);

#endif
