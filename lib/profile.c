#include "ringlog/profile.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/xalloc.h"

static const char *const field_names[CDR_F_COUNT] = {
	[CDR_F_CALL_ID] = "call_id",
	[CDR_F_DIRECTION] = "direction",
	[CDR_F_DISPOSITION] = "disposition",
	[CDR_F_CALLER] = "caller",
	[CDR_F_CALLER_NAME] = "caller_name",
	[CDR_F_CALLEE] = "callee",
	[CDR_F_DID] = "did",
	[CDR_F_AGENT] = "agent",
	[CDR_F_AGENT_NAME] = "agent_name",
	[CDR_F_STARTED_AT] = "started_at",
	[CDR_F_ANSWERED_AT] = "answered_at",
	[CDR_F_ENDED_AT] = "ended_at",
	[CDR_F_DURATION] = "duration",
	[CDR_F_BILLABLE] = "billsec",
	[CDR_F_RECORDING_REF] = "recording_id",
	[CDR_F_RECORDING_URL] = "recording_url",
	[CDR_F_RECORDING_BASE64] = "recording_base64",
	[CDR_F_RECORDING2_URL] = "recording2_url",
};

const char *profile_field_name(enum cdr_field f)
{
	return f < CDR_F_COUNT ? field_names[f] : "?";
}

json_object *profile_lookup(json_object *root, const char *path)
{
	json_object *cur = root;
	const char *p = path;

	while (cur && *p) {
		size_t n = strcspn(p, ".[");
		char key[128];

		if (n) {
			if (n >= sizeof(key) || !json_object_is_type(cur, json_type_object))
				return NULL;
			memcpy(key, p, n);
			key[n] = '\0';
			if (!json_object_object_get_ex(cur, key, &cur))
				return NULL;
			p += n;
		}
		while (*p == '[') {
			char *end;
			long idx = strtol(p + 1, &end, 10);

			if (*end != ']' || idx < 0 || !json_object_is_type(cur, json_type_array) ||
			    (size_t)idx >= json_object_array_length(cur))
				return NULL;
			cur = json_object_array_get_idx(cur, (size_t)idx);
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

/* The value as trimmed text: a new string, or NULL when absent or empty. */
static char *value_text(json_object *v)
{
	const char *s;
	size_t len;

	if (!v || json_object_is_type(v, json_type_null) ||
	    json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
		return NULL;
	s = json_object_get_string(v);
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len ? xstrndup(s, len) : NULL;
}

static bool word_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);

		if (x == '-' || x == ' ')
			x = '_';
		if (y == '-' || y == ' ')
			y = '_';
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static int lookup_word(const struct profile_word *words, const char *text, int *out)
{
	for (; words && words->word; words++) {
		if (word_eq(words->word, text)) {
			*out = words->value;
			return 0;
		}
	}
	return -1;
}

static int to_seconds(json_object *v, const char *text, long long *out)
{
	double d;
	char *end;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		d = json_object_get_double(v);
	else {
		d = strtod(text, &end);
		if (*end)
			return -1;
	}
	if (!isfinite(d) || d < 0 || d > 1e9)
		return -1;
	*out = llround(d);
	return 0;
}

static int to_time(json_object *v, const char *text, enum rltime_epoch epoch, struct rltime *out)
{
	enum rltime_status st;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
		st = rltime_from_number(json_object_get_double(v), epoch, out);
	else
		st = rltime_parse(text, epoch, out);
	return st == RLTIME_INVALID ? -1 : 0;
}

static char **text_slot(struct cdr *c, enum cdr_field f)
{
	switch (f) {
	case CDR_F_CALL_ID: return &c->call_id;
	case CDR_F_CALLER: return &c->caller;
	case CDR_F_CALLER_NAME: return &c->caller_name;
	case CDR_F_CALLEE: return &c->callee;
	case CDR_F_DID: return &c->did;
	case CDR_F_AGENT: return &c->agent;
	case CDR_F_AGENT_NAME: return &c->agent_name;
	case CDR_F_RECORDING_REF: return &c->recordings[0].ref;
	case CDR_F_RECORDING_URL: return &c->recordings[0].url;
	case CDR_F_RECORDING_BASE64: return &c->recordings[0].base64;
	case CDR_F_RECORDING2_URL: return &c->recordings[1].url;
	default: return NULL;
	}
}

static struct rltime *time_slot(struct cdr *c, enum cdr_field f)
{
	switch (f) {
	case CDR_F_STARTED_AT: return &c->started_at;
	case CDR_F_ANSWERED_AT: return &c->answered_at;
	case CDR_F_ENDED_AT: return &c->ended_at;
	default: return NULL;
	}
}

/* Applies one rule whose value TEXT (owned) was found at the rule's path. */
static int apply(const struct profile *p, const struct profile_rule *r, json_object *v, char *text,
		 struct cdr *c, struct cdr_problem *prob)
{
	const char *name = profile_field_name(r->field);
	char **slot;
	int word;

	switch (r->conv) {
	case CONV_TEXT:
		slot = text_slot(c, r->field);
		if (!slot)
			break;
		*slot = text;
		return 0;
	case CONV_SECONDS: {
		long long *dst = r->field == CDR_F_DURATION ? &c->duration_s : &c->billable_s;

		if (to_seconds(v, text, dst) == 0)
			break;
		cdr_problem_set(prob, "invalid_field", name, "%s (payload key \"%s\") is not a number of seconds: \"%.60s\"", name, r->path, text);
		free(text);
		return -1;
	}
	case CONV_TIME:
	case CONV_TIME_LOCAL:
		if (to_time(v, text, r->conv == CONV_TIME_LOCAL ? RLTIME_EPOCH_LOCAL : RLTIME_EPOCH_UTC,
			    time_slot(c, r->field)) == 0)
			break;
		cdr_problem_set(prob, "invalid_field", name, "%s (payload key \"%s\") is not a time: \"%.60s\"", name, r->path, text);
		free(text);
		return -1;
	case CONV_DIRECTION:
	case CONV_DISPOSITION:
		if (lookup_word(r->conv == CONV_DIRECTION ? p->directions : p->dispositions, text, &word) < 0) {
			cdr_problem_set(prob, "invalid_field", name, "%s (payload key \"%s\") has an unknown value \"%.60s\"", name, r->path, text);
			free(text);
			return -1;
		}
		if (r->conv == CONV_DIRECTION)
			c->direction = (enum cdr_direction)word;
		else
			c->disposition = (enum cdr_disposition)word;
		break;
	}
	free(text);
	return 0;
}

static bool field_is_set(const struct cdr *c, enum cdr_field f)
{
	switch (f) {
	case CDR_F_DIRECTION: return c->direction != CDR_DIRECTION_UNSET;
	case CDR_F_DISPOSITION: return c->disposition != CDR_DISPOSITION_UNSET;
	case CDR_F_STARTED_AT: return c->started_at.set;
	case CDR_F_ANSWERED_AT: return c->answered_at.set;
	case CDR_F_ENDED_AT: return c->ended_at.set;
	case CDR_F_DURATION: return c->duration_s >= 0;
	case CDR_F_BILLABLE: return c->billable_s >= 0;
	default: {
		char **slot = text_slot((struct cdr *)c, f);

		return slot && *slot;
	}
	}
}

int profile_map(const struct profile *p, json_object *payload, struct cdr *out,
		struct cdr_problem *prob)
{
	bool done[CDR_F_COUNT] = { false };

	for (size_t i = 0; i < p->nrules; i++) {
		const struct profile_rule *r = &p->rules[i];
		json_object *v;
		char *text;

		if (done[r->field])
			continue;
		v = profile_lookup(payload, r->path);
		text = value_text(v);
		if (!text)
			continue;
		if (apply(p, r, v, text, out, prob) < 0)
			return -1;
		/* "0" for a time means "never": the next rule may still know. */
		done[r->field] = field_is_set(out, r->field);
	}
	return 0;
}
