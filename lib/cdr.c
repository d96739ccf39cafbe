#include "ringlog/cdr.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls before this year or after that one are typing errors, not calls. */
#define CDR_EARLIEST 946684800LL /* 2000-01-01 */
#define CDR_LATEST 4102444800LL  /* 2100-01-01 */
#define CDR_MAX_SECONDS (7LL * 24 * 3600)

void cdr_init(struct cdr *c)
{
	memset(c, 0, sizeof(*c));
	c->duration_s = -1;
	c->billable_s = -1;
}

void cdr_release(struct cdr *c)
{
	free(c->call_id);
	free(c->caller);
	free(c->caller_name);
	free(c->callee);
	free(c->did);
	free(c->agent);
	free(c->agent_name);
	free(c->leg_of);
	for (size_t i = 0; i < CDR_MAX_RECORDINGS; i++) {
		free(c->recordings[i].ref);
		free(c->recordings[i].url);
		free(c->recordings[i].base64);
		free(c->recordings[i].blob_key);
		free(c->recordings[i].mime_type);
		free(c->recordings[i].original_sha256);
		free(c->recordings[i].original_mime_type);
		free(c->recordings[i].corrupt);
	}
	cdr_init(c);
}

int cdr_problem_set(struct cdr_problem *p, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	p->code = code;
	snprintf(p->field, sizeof(p->field), "%s", field);
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof(p->message), fmt, ap);
	va_end(ap);
	return -1;
}

const char *cdr_direction_name(enum cdr_direction d)
{
	switch (d) {
	case CDR_IN: return "in";
	case CDR_OUT: return "out";
	case CDR_INTERNAL: return "internal";
	case CDR_DIRECTION_UNSET: break;
	}
	return NULL;
}

const char *cdr_disposition_name(enum cdr_disposition d)
{
	switch (d) {
	case CDR_ANSWERED: return "answered";
	case CDR_MISSED: return "missed";
	case CDR_BUSY: return "busy";
	case CDR_FAILED: return "failed";
	case CDR_VOICEMAIL: return "voicemail";
	case CDR_IN_PROGRESS: return "in_progress";
	case CDR_DISPOSITION_UNSET: break;
	}
	return NULL;
}

bool cdr_recording_is_set(const struct cdr_recording *r)
{
	return r->ref || r->url || r->base64 || r->blob_key;
}

static bool has_control_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int check_text(const char *v, const char *field, size_t max, struct cdr_problem *p)
{
	if (!v)
		return 0;
	if (strlen(v) > max)
		return cdr_problem_set(p, "invalid_field", field,
				       "%s is longer than %zu bytes", field, max);
	if (has_control_chars(v))
		return cdr_problem_set(p, "invalid_field", field,
				       "%s contains control characters", field);
	return 0;
}

#define SPAN_UNKNOWN LLONG_MIN

/* Seconds from A to B when both are known in the same frame. */
static long long span(const struct rltime *a, const struct rltime *b)
{
	if (!a->set || !b->set || a->naive != b->naive)
		return SPAN_UNKNOWN;
	return b->sec - a->sec;
}

static bool runs_backwards(const struct rltime *a, const struct rltime *b)
{
	long long s = span(a, b);

	return s != SPAN_UNKNOWN && s < 0;
}

static int check_time(const struct rltime *t, const char *field, struct cdr_problem *p)
{
	/* Naive times may be off by a zone offset: allow a day either side. */
	if (t->set && (t->sec < CDR_EARLIEST - 86400 || t->sec > CDR_LATEST + 86400))
		return cdr_problem_set(p, "invalid_field", field,
				       "%s is outside the years 2000 to 2100", field);
	return 0;
}

static void derive(struct cdr *c)
{
	long long total = span(&c->started_at, &c->ended_at);
	long long talk = span(&c->answered_at, &c->ended_at);

	if (c->duration_s < 0 && total != SPAN_UNKNOWN)
		c->duration_s = total;
	if (c->billable_s < 0 && talk != SPAN_UNKNOWN)
		c->billable_s = talk;
	if (c->disposition == CDR_DISPOSITION_UNSET)
		c->disposition = c->billable_s > 0 || c->answered_at.set ? CDR_ANSWERED : CDR_MISSED;
	if (c->billable_s < 0 && c->disposition != CDR_ANSWERED && c->disposition != CDR_IN_PROGRESS)
		c->billable_s = 0;
}

int cdr_finish(struct cdr *c, struct cdr_problem *p)
{
	if (!c->call_id)
		return cdr_problem_set(p, "missing_field", "call_id", "call_id is required");
	if (check_text(c->call_id, "call_id", CDR_MAX_CALL_ID, p) < 0)
		return -1;
	if (c->direction == CDR_DIRECTION_UNSET)
		return cdr_problem_set(p, "missing_field", "direction", "direction is required");
	if (!c->started_at.set)
		return cdr_problem_set(p, "missing_field", "started_at", "started_at is required");
	if (check_text(c->caller, "caller", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->caller_name, "caller_name", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->callee, "callee", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->did, "did", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->agent, "agent", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->agent_name, "agent_name", CDR_MAX_TEXT, p) < 0 ||
	    check_text(c->leg_of, "leg_of", CDR_MAX_CALL_ID, p) < 0)
		return -1;
	if (check_time(&c->started_at, "started_at", p) < 0 ||
	    check_time(&c->answered_at, "answered_at", p) < 0 ||
	    check_time(&c->ended_at, "ended_at", p) < 0)
		return -1;
	if (runs_backwards(&c->started_at, &c->ended_at))
		return cdr_problem_set(p, "invalid_field", "ended_at", "ended_at is before started_at");
	if (runs_backwards(&c->answered_at, &c->ended_at))
		return cdr_problem_set(p, "invalid_field", "ended_at", "ended_at is before answered_at");
	derive(c);
	if (c->duration_s > CDR_MAX_SECONDS)
		return cdr_problem_set(p, "invalid_field", "duration",
				       "duration of %lld s is longer than a week", c->duration_s);
	if (c->billable_s > CDR_MAX_SECONDS)
		return cdr_problem_set(p, "invalid_field", "billsec",
				       "billsec of %lld s is longer than a week", c->billable_s);
	return 0;
}
