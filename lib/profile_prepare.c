/* Preparing a vendor's payload before it is mapped, as its profile says:
 * naming the columns of a CSV record, unwrapping a CDR sent as text
 * (FreeSWITCH's cdr=<urlencoded JSON> or cdr=<base64 JSON>), decoding values
 * the sender percent-encoded once more (FreeSWITCH's encode-values), and
 * parsing JSON sent as text (Voicenter's IVR). */
#include "ringlog/profile.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/b64.h"
#include "ringlog/buf.h"
#include "ringlog/form.h"
#include "ringlog/xalloc.h"

#define PREPARE_JSON_DEPTH 64

/* LEN bytes of S as a JSON object or array (strict, UTF-8), or NULL. */
static json_object *parse_json(const char *s, size_t len)
{
	json_tokener *tok;
	json_object *obj;
	size_t end;

	if (len > (size_t)INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(PREPARE_JSON_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (end < len && isspace((unsigned char)s[end]))
		end++;
	if (json_tokener_get_error(tok) != json_tokener_success || end != len ||
	    !(json_object_is_type(obj, json_type_object) || json_object_is_type(obj, json_type_array))) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* Decodes base64 TEXT strictly (b64.h). The form decoder made every '+'
 * of FreeSWITCH's unescaped base64 a space: that is undone first. Returns a
 * new buffer of *LEN bytes, or NULL. */
static char *base64_strict(const char *text, size_t *len)
{
	size_t n = strlen(text);
	char *plus = xstrndup(text, n);
	struct buf out = BUF_INIT;
	struct errbuf e;

	for (size_t i = 0; i < n; i++)
		if (plus[i] == ' ')
			plus[i] = '+';
	if (b64_decode(plus, n, &out, &e) < 0 || out.len == 0) {
		free(plus);
		buf_release(&out);
		return NULL;
	}
	free(plus);
	return buf_detach(&out, len);
}

/* {"cdr": "<JSON or base64 JSON>", "uuid": …} -> the CDR, with the other
 * parameters (FreeSWITCH's ?uuid=) added where the CDR lacks them. */
static int unwrap(const struct profile *p, json_object **payload, struct cdr_problem *prob)
{
	json_object *v, *inner;
	const char *text;
	char *raw;
	size_t len;

	if (!p->unwrap || !json_object_object_get_ex(*payload, p->unwrap, &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	text = json_object_get_string(v);
	while (isspace((unsigned char)*text))
		text++;
	if (*text == '{') {
		inner = parse_json(text, strlen(text));
	} else {
		raw = base64_strict(text, &len);
		inner = raw ? parse_json(raw, len) : NULL;
		free(raw);
	}
	if (!json_object_is_type(inner, json_type_object)) {
		json_object_put(inner);
		return cdr_problem_set(prob, "invalid_json", p->unwrap,
				       "the %s parameter holds neither JSON nor base64-encoded JSON",
				       p->unwrap);
	}
	json_object_object_foreach(*payload, key, val) {
		if (strcmp(key, p->unwrap) != 0 && !json_object_object_get_ex(inner, key, NULL))
			json_object_object_add(inner, key, json_object_get(val));
	}
	json_object_put(*payload);
	*payload = inner;
	return 0;
}

/* A byte FreeSWITCH's switch_url_encode() always escapes: a value holding
 * one as is was not encoded. */
static bool never_left_raw(unsigned char c)
{
	return c < 0x20 || c > 0x7e || (c && strchr(" \"#&+:;<=>?@[\\]^`{|}", c));
}

/* True when every string value of OBJ reads as percent-encoded and at least
 * one holds an escape. Senders decide per configuration, so the payload
 * says: a start_stamp of "2025-06-16 11:20:05" was sent as is,
 * "2025-06-16%2011%3A20%3A05" was encoded. */
static bool values_encoded(json_object *obj)
{
	bool escapes = false;

	json_object_object_foreach(obj, key, val) {
		const char *s;
		size_t len;

		(void)key;
		if (!json_object_is_type(val, json_type_string))
			continue;
		s = json_object_get_string(val);
		len = (size_t)json_object_get_string_len(val);
		for (size_t i = 0; i < len; i++) {
			if (never_left_raw((unsigned char)s[i]))
				return false;
			if (s[i] != '%')
				continue;
			if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return false;
			escapes = true;
		}
	}
	return escapes;
}

static void decode_values(const struct profile *p, json_object *payload)
{
	json_object *obj = p->encoded_values ? profile_lookup(payload, p->encoded_values) : NULL;

	if (!json_object_is_type(obj, json_type_object) || !values_encoded(obj))
		return;
	json_object_object_foreach(obj, key, val) {
		size_t n;
		char *plain;

		if (!json_object_is_type(val, json_type_string))
			continue;
		plain = form_unescape(json_object_get_string(val),
				      (size_t)json_object_get_string_len(val), 0, &n);
		/* Replacing the value of an existing key keeps the iteration valid. */
		if (plain && form_is_utf8(plain, n))
			json_object_object_add(obj, key, json_object_new_string_len(plain, (int)n));
		free(plain);
	}
}

/* Parses the text at PATH in place when it holds a JSON array or object. */
static void parse_json_string(json_object *payload, const char *path)
{
	const char *dot = strrchr(path, '.'), *key = dot ? dot + 1 : path, *s;
	json_object *parent = payload, *v, *parsed;

	if (dot) {
		char *prefix = xstrndup(path, (size_t)(dot - path));

		parent = profile_lookup(payload, prefix);
		free(prefix);
	}
	if (!json_object_is_type(parent, json_type_object) ||
	    !json_object_object_get_ex(parent, key, &v) || !json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '[' && *s != '{')
		return;
	parsed = parse_json(s, strlen(s));
	if (parsed)
		json_object_object_add(parent, key, parsed);
}

/* {"_csv": ["", "36301234567", …]} -> the record under the profile's
 * column names (extra columns as "column_N"); other keys (query
 * parameters) join where the record lacks them. */
static int name_columns(const struct profile *p, json_object **payload, struct cdr_problem *prob)
{
	json_object *rec, *named;
	size_t ncols = 0;
	char extra[32];

	if (!json_object_object_get_ex(*payload, PROFILE_CSV_KEY, &rec) ||
	    !json_object_is_type(rec, json_type_array))
		return 0;
	if (!p->csv_columns)
		return cdr_problem_set(prob, "unsupported_media_type", "",
				       "the %s profile does not take CSV records: send JSON or a form",
				       p->name);
	while (p->csv_columns[ncols])
		ncols++;
	named = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(rec); i++) {
		const char *name = i < ncols ? p->csv_columns[i] : extra;

		if (i >= ncols)
			snprintf(extra, sizeof(extra), "column_%zu", i + 1);
		json_object_object_add(named, name, json_object_get(json_object_array_get_idx(rec, i)));
	}
	json_object_object_foreach(*payload, key, val) {
		if (strcmp(key, PROFILE_CSV_KEY) != 0 && !json_object_object_get_ex(named, key, NULL))
			json_object_object_add(named, key, json_object_get(val));
	}
	json_object_put(*payload);
	*payload = named;
	return 0;
}

/* {"_ami": {"UniqueID": …}} -> the event's keys; other keys (query
 * parameters) join where the event lacks them. */
static int open_ami_event(const struct profile *p, json_object **payload, struct cdr_problem *prob)
{
	json_object *event, *named;

	if (!json_object_object_get_ex(*payload, PROFILE_AMI_KEY, &event) ||
	    !json_object_is_type(event, json_type_object))
		return 0;
	if (!p->ami_events)
		return cdr_problem_set(prob, "unsupported_media_type", "",
				       "the %s profile does not take AMI events (text/plain): send JSON "
				       "or a form", p->name);
	named = json_object_get(event);
	json_object_object_foreach(*payload, key, val) {
		if (strcmp(key, PROFILE_AMI_KEY) != 0 && !json_object_object_get_ex(named, key, NULL))
			json_object_object_add(named, key, json_object_get(val));
	}
	json_object_put(*payload);
	*payload = named;
	return 0;
}

int profile_prepare(const struct profile *p, json_object **payload, struct cdr_problem *prob)
{
	if (name_columns(p, payload, prob) < 0 || open_ami_event(p, payload, prob) < 0 ||
	    unwrap(p, payload, prob) < 0)
		return -1;
	decode_values(p, *payload);
	for (const char *const *path = p->json_strings; path && *path; path++)
		parse_json_string(*payload, *path);
	return 0;
}
