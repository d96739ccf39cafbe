#include "ringlog/profile.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/phone.h"
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
	[CDR_F_LEG_OF] = "leg_of",
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

			if (*end != ']' || idx < 0)
				return NULL;
			if (json_object_is_type(cur, json_type_array)) {
				if ((size_t)idx >= json_object_array_length(cur))
					return NULL;
				cur = json_object_array_get_idx(cur, (size_t)idx);
			} else if (idx != 0 || !json_object_is_type(cur, json_type_object)) {
				/* Older FreeSWITCH sends "callflow" as an object. */
				return NULL;
			}
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return cur;
}

/* LEN bytes of S without surrounding white space: a new string, or NULL
 * when nothing is left. */
static char *trimmed(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return len ? xstrndup(s, len) : NULL;
}

/* The value as trimmed text: a new string, or NULL when absent or empty. */
static char *value_text(json_object *v)
{
	const char *s;

	if (!v || json_object_is_type(v, json_type_null) ||
	    json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
		return NULL;
	s = json_object_get_string(v);
	return trimmed(s, strlen(s));
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

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
	} else {
		/* Decimal only: strtod would also read "0x10", "1e3", "inf". */
		size_t whole = strspn(text, "0123456789"), frac = 0;

		if (text[whole] == '.')
			frac = strspn(text + whole + 1, "0123456789");
		if (whole + frac == 0 || text[whole + (text[whole] == '.' ? 1 + frac : 0)] != '\0')
			return -1;
		d = strtod(text, &end);
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

/* ---- converters that yield text ----------------------------------------- */

/* A part of a caller id ("Nagy Péter" <36301234567>): the name before the
 * angle brackets (unquoted) or the number inside them. */
static char *clid_part(const char *text, bool name)
{
	const char *lt = strrchr(text, '<'), *gt;
	size_t len;

	if (!lt)
		return NULL;
	if (!name) {
		gt = strchr(lt, '>');
		return gt ? trimmed(lt + 1, (size_t)(gt - lt - 1)) : NULL;
	}
	len = (size_t)(lt - text);
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	if (len >= 2 && text[0] == '"' && text[len - 1] == '"') {
		text++;
		len -= 2;
	}
	return trimmed(text, len);
}

/* The extension of a channel name: the peer after the last '/', cut at '@'
 * or ';', else before the "-0000a1c" suffix; only a short number counts. */
static char *channel_extension(const char *text)
{
	const char *s = strrchr(text, '/');
	size_t n;

	s = s ? s + 1 : text;
	n = strcspn(s, "@;");
	if (!s[n]) {
		size_t dash = n;

		while (dash && s[dash - 1] != '-')
			dash--;
		if (dash)
			n = dash - 1;
	}
	if (n == 0 || n >= PHONE_MIN_NATIONAL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return NULL;
	return xstrndup(s, n);
}

/* DIR and the text at PATH2 of PAYLOAD joined by one '/'; NULL unless both. */
static char *join_path(const char *dir, json_object *payload, const char *path2)
{
	char *file = path2 ? value_text(profile_lookup(payload, path2)) : NULL, *out;
	size_t d = strlen(dir);

	if (!file)
		return NULL;
	while (d && dir[d - 1] == '/')
		d--;
	out = xmalloc(d + strlen(file) + 2);
	memcpy(out, dir, d);
	out[d] = '/';
	strcpy(out + d + 1, file[0] == '/' ? file + 1 : file);
	free(file);
	return out;
}

static bool guard_holds(json_object *payload, const struct profile_rule *r)
{
	char *text = value_text(profile_lookup(payload, r->if_path));
	bool ok = text && word_eq(text, r->if_value ? r->if_value : "");

	free(text);
	return ok;
}

/* The text rule R finds in PAYLOAD after its text converter (a new string),
 * or NULL; *V is the JSON value at the rule's path. */
static char *rule_text(const struct profile_rule *r, json_object *payload, json_object **v)
{
	char *text, *out;

	*v = NULL;
	if (r->if_path && !guard_holds(payload, r))
		return NULL;
	*v = profile_lookup(payload, r->path);
	text = value_text(*v);
	if (!text)
		return NULL;
	switch (r->conv) {
	case CONV_CLID_NAME:
	case CONV_CLID_NUMBER:
		out = clid_part(text, r->conv == CONV_CLID_NAME);
		break;
	case CONV_EXTENSION:
		if (phone_classify(text) == PHONE_KIND_EXTENSION)
			return text;
		out = NULL;
		break;
	case CONV_CHANNEL_EXT:
		out = channel_extension(text);
		break;
	case CONV_JOIN_PATH:
		out = join_path(text, payload, r->path2);
		break;
	default:
		return text;
	}
	free(text);
	return out;
}

/* ---- applying a rule ---------------------------------------------------- */

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
	case CDR_F_LEG_OF: return &c->leg_of;
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

static int apply_word(const struct profile *p, const struct profile_rule *r, const char *text,
		      struct cdr *c, struct cdr_problem *prob)
{
	const char *name = profile_field_name(r->field);
	int word;

	if (lookup_word(r->conv == CONV_DIRECTION ? p->directions : p->dispositions, text, &word) < 0) {
		if (!(p->flags & PROFILE_STRICT_WORDS))
			return 0; /* the next rule may know; else derived */
		return cdr_problem_set(prob, "invalid_field", name,
				       "%s (payload key \"%s\") has an unknown value \"%.60s\"", name,
				       r->path, text);
	}
	if (r->conv == CONV_DIRECTION && r->field == CDR_F_DIRECTION)
		c->direction = (enum cdr_direction)word;
	else if (r->conv == CONV_DISPOSITION && r->field == CDR_F_DISPOSITION)
		c->disposition = (enum cdr_disposition)word;
	return 0;
}

/* Applies one rule whose value TEXT (owned) was found at the rule's path. */
static int apply(const struct profile *p, const struct profile_rule *r, json_object *v, char *text,
		 struct cdr *c, struct cdr_problem *prob)
{
	const char *name = profile_field_name(r->field);
	struct rltime *t = time_slot(c, r->field);
	char **slot = text_slot(c, r->field);
	int rc = 0;

	switch (r->conv) {
	case CONV_SECONDS:
		if (r->field != CDR_F_DURATION && r->field != CDR_F_BILLABLE)
			break;
		if (to_seconds(v, text, r->field == CDR_F_DURATION ? &c->duration_s : &c->billable_s) < 0)
			rc = cdr_problem_set(prob, "invalid_field", name,
					     "%s (payload key \"%s\") is not a number of seconds: \"%.60s\"",
					     name, r->path, text);
		break;
	case CONV_TIME:
	case CONV_TIME_LOCAL:
		if (t && to_time(v, text, r->conv == CONV_TIME_LOCAL ? RLTIME_EPOCH_LOCAL : RLTIME_EPOCH_UTC,
				 t) < 0)
			rc = cdr_problem_set(prob, "invalid_field", name,
					     "%s (payload key \"%s\") is not a time: \"%.60s\"", name,
					     r->path, text);
		break;
	case CONV_DIRECTION:
	case CONV_DISPOSITION:
		rc = apply_word(p, r, text, c, prob);
		break;
	default: /* the text converters */
		if (!slot)
			break;
		*slot = text;
		return 0;
	}
	free(text);
	return rc;
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

/* ---- what the rules leave open ------------------------------------------ */

/* The numbers tell when one side is an extension; otherwise the words
 * stand, and without words a call from an extension is out, one from a
 * public number in. */
static void direction_by_numbers(struct cdr *c)
{
	enum phone_kind from = phone_classify(c->caller), to = phone_classify(c->callee);

	if (from == PHONE_KIND_EXTENSION && to == PHONE_KIND_EXTENSION)
		c->direction = CDR_INTERNAL;
	else if (from == PHONE_KIND_EXTENSION && to == PHONE_KIND_PUBLIC)
		c->direction = CDR_OUT;
	else if (from == PHONE_KIND_PUBLIC && to == PHONE_KIND_EXTENSION)
		c->direction = CDR_IN;
	else if (c->direction == CDR_DIRECTION_UNSET && from != PHONE_KIND_NONE)
		c->direction = from == PHONE_KIND_EXTENSION ? CDR_OUT : CDR_IN;
}

static void settle_disposition(const struct profile *p, struct cdr *c)
{
	if (c->disposition == CDR_DISPOSITION_UNSET && (p->flags & PROFILE_OPEN_WITHOUT_END) &&
	    c->duration_s < 0 && c->billable_s < 0 && !c->ended_at.set && !c->answered_at.set)
		c->disposition = CDR_IN_PROGRESS;
	if ((p->flags & PROFILE_TALK_MEANS_ANSWERED) && (c->billable_s > 0 || c->answered_at.set) &&
	    c->disposition != CDR_VOICEMAIL && c->disposition != CDR_IN_PROGRESS)
		c->disposition = CDR_ANSWERED;
}

/* No agent named: the extension on the company's side of the call is. */
static void derive_agent(struct cdr *c)
{
	const char *ext = NULL;

	if (c->agent)
		return;
	if ((c->direction == CDR_OUT || c->direction == CDR_INTERNAL) &&
	    phone_classify(c->caller) == PHONE_KIND_EXTENSION)
		ext = c->caller;
	else if (c->direction == CDR_IN && phone_classify(c->callee) == PHONE_KIND_EXTENSION)
		ext = c->callee;
	c->agent = xstrdup(ext);
}

static bool is_container(json_object *v)
{
	return v && (json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array));
}

/* A rule whose value is a number or a time, where an object or an array
 * is a mistake, not a value to skip. */
static bool wants_number(const struct profile_rule *r)
{
	return (r->conv == CONV_SECONDS && (r->field == CDR_F_DURATION || r->field == CDR_F_BILLABLE)) ||
	       ((r->conv == CONV_TIME || r->conv == CONV_TIME_LOCAL) &&
		(r->field == CDR_F_STARTED_AT || r->field == CDR_F_ANSWERED_AT ||
		 r->field == CDR_F_ENDED_AT));
}

int profile_map(const struct profile *p, json_object *payload, struct cdr *out,
		struct cdr_problem *prob)
{
	bool done[CDR_F_COUNT] = { false };

	for (size_t i = 0; i < p->nrules; i++) {
		const struct profile_rule *r = &p->rules[i];
		json_object *v;
		char *text;

		if (r->field >= CDR_F_COUNT || done[r->field])
			continue;
		text = rule_text(r, payload, &v);
		if (!text && is_container(v) && wants_number(r))
			return cdr_problem_set(prob, "invalid_field", profile_field_name(r->field),
					       "%s (payload key \"%s\") is an %s, not a %s",
					       profile_field_name(r->field), r->path,
					       json_object_is_type(v, json_type_object) ? "object" : "array",
					       r->conv == CONV_SECONDS ? "number of seconds" : "time");
		if (!text)
			continue;
		if (apply(p, r, v, text, out, prob) < 0)
			return -1;
		/* "0" for a time means "never": the next rule may still know. */
		done[r->field] = field_is_set(out, r->field);
	}
	if (p->flags & PROFILE_DIRECTION_BY_NUMBERS)
		direction_by_numbers(out);
	settle_disposition(p, out);
	derive_agent(out);
	return 0;
}
