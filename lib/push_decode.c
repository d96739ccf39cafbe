/* Decoding a push's payload as its content type says: JSON, a form, or the
 * query string of a GET. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "push_internal.h"
#include "ringlog/ami.h"
#include "ringlog/csv.h"
#include "ringlog/form.h"

#define PUSH_JSON_DEPTH 64

static bool media_type_is(const char *ct, const char *type)
{
	size_t n = strlen(type);

	return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

enum push_body_kind push_body_kind(const struct push *p)
{
	const char *ct = p->content_type ? p->content_type : "";
	const char *b = p->body;
	size_t i = 0;

	while (*ct == ' ')
		ct++;
	if (media_type_is(ct, "application/json") || media_type_is(ct, "text/json"))
		return PUSH_BODY_JSON;
	if (media_type_is(ct, "application/x-www-form-urlencoded") ||
	    media_type_is(ct, "application/x-www-form-base64-encoded"))
		return PUSH_BODY_FORM;
	if (media_type_is(ct, "text/csv"))
		return PUSH_BODY_CSV;
	if (media_type_is(ct, "text/plain")) {
		/* JSON sent as text, else an AMI event's Key: Value lines. */
		while (i < p->body_len && isspace((unsigned char)b[i]))
			i++;
		return i < p->body_len && b[i] == '{' ? PUSH_BODY_JSON : PUSH_BODY_AMI;
	}
	if (*ct && !media_type_is(ct, "application/octet-stream")) {
		const char *plus = strchr(ct, '+');

		/* application/vnd.x+json */
		if (plus && strncasecmp(plus, "+json", 5) == 0)
			return PUSH_BODY_JSON;
		return PUSH_BODY_UNSUPPORTED;
	}
	/* No usable type: the first byte tells JSON from a form. */
	while (i < p->body_len && isspace((unsigned char)b[i]))
		i++;
	return i < p->body_len && b[i] == '{' ? PUSH_BODY_JSON : PUSH_BODY_FORM;
}

static json_object *decode_json(const char *s, size_t len, struct push_result *r)
{
	json_tokener *tok = json_tokener_new_ex(PUSH_JSON_DEPTH);
	json_object *obj;
	size_t end;
	char msg[256];

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(msg, sizeof(msg), "the body is not valid JSON: %s at byte %zu",
			 json_tokener_error_desc(json_tokener_get_error(tok)), end);
		push_reject(r, 400, "invalid_json", NULL, msg);
		goto fail;
	}
	while (end < len && isspace((unsigned char)s[end]))
		end++;
	if (end != len) {
		push_reject(r, 400, "invalid_json", NULL, "the body has data after its JSON value");
		goto fail;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		push_reject(r, 400, "invalid_json", NULL, "the body must be a JSON object");
		goto fail;
	}
	goto out;
fail:
	json_object_put(obj);
	obj = NULL;
out:
	json_tokener_free(tok);
	return obj;
}

static json_object *decode_form(const char *s, size_t len, struct push_result *r)
{
	struct errbuf e;
	json_object *obj = form_parse(s, len, &e);
	char msg[600];

	if (!obj) {
		snprintf(msg, sizeof(msg), "the form is malformed: %s", e.msg);
		push_reject(r, 400, "invalid_form", NULL, msg);
	}
	return obj;
}

/* One CSV record (Asterisk's Master.csv line): {"_csv": [fields]}, named
 * by the source's profile. One call per push: more records are refused. */
static json_object *decode_csv(const char *s, size_t len, struct push_result *r)
{
	struct csv_record rec = CSV_RECORD_INIT, extra = CSV_RECORD_INIT;
	json_object *obj = NULL, *fields;
	struct errbuf e;
	long used = csv_next(s, len, ',', &rec, &e), more = 0;
	char msg[600];

	if (used > 0) {
		/* Blank lines after the record are fine; another record is not. */
		while ((size_t)used < len && (more = csv_next(s + used, len - (size_t)used, ',', &extra, &e)) > 0 &&
		       extra.n == 1 && !extra.fields[0][0])
			used += more;
	}
	if (used <= 0 || more < 0 || !form_is_utf8(s, len)) {
		snprintf(msg, sizeof(msg), "the CSV record is malformed: %s",
			 used == 0 ? "the body is empty" : !form_is_utf8(s, len) ? "not UTF-8 text" : e.msg);
		push_reject(r, 400, "invalid_csv", NULL, msg);
	} else if ((size_t)used < len) {
		push_reject(r, 400, "invalid_csv", NULL, "send one CSV record (one call) per push");
	} else {
		fields = json_object_new_array();
		for (size_t i = 0; i < rec.n; i++)
			json_object_array_add(fields, json_object_new_string(rec.fields[i]));
		obj = json_object_new_object();
		json_object_object_add(obj, PROFILE_CSV_KEY, fields);
	}
	csv_record_release(&rec);
	csv_record_release(&extra);
	return obj;
}

/* What a value taken from the query string of a POST carries as userdata:
 * it is transport (FreeSWITCH's ?uuid=), not the call's content. */
static const char transport_mark = 't';

/* An AMI event (text/plain, Key: Value lines): {"_ami": {keys}}, read only
 * by a profile that takes them. Any other text is not a push: 415. */
static json_object *decode_ami(const char *s, size_t len, struct push_result *r)
{
	struct errbuf e;
	json_object *event = ami_parse(s, len, &e), *obj;
	char msg[800];

	if (!event) {
		snprintf(msg, sizeof(msg),
			 "a text/plain body must be an AMI event (Key: Value lines): %s; else send "
			 "application/json, application/x-www-form-urlencoded or text/csv", e.msg);
		push_reject(r, 415, "unsupported_media_type", NULL, msg);
		return NULL;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, PROFILE_AMI_KEY, event);
	return obj;
}

/* Query parameters of a POST join the payload where the body does not
 * already have the key (FreeSWITCH sends ?uuid=…), so nothing is dropped;
 * they stay marked as transport (push_transport_keys). */
static int merge_query(json_object *payload, const char *query, struct push_result *r)
{
	json_object *q;

	if (!query || !*query)
		return 0;
	q = decode_form(query, strlen(query), r);
	if (!q)
		return -1;
	json_object_object_foreach(q, key, val) {
		if (!json_object_object_get_ex(payload, key, NULL)) {
			json_object_set_userdata(val, (void *)&transport_mark, NULL);
			json_object_object_add(payload, key, json_object_get(val));
		}
	}
	json_object_put(q);
	return 0;
}

json_object *push_decode(const struct push *p, struct push_result *r)
{
	json_object *payload;

	if (p->body_len == 0 || strcmp(p->method, "GET") == 0) {
		const char *q = p->query ? p->query : "";

		return decode_form(q, strlen(q), r);
	}
	switch (push_body_kind(p)) {
	case PUSH_BODY_JSON:
		payload = decode_json(p->body, p->body_len, r);
		break;
	case PUSH_BODY_FORM:
		payload = decode_form(p->body, p->body_len, r);
		break;
	case PUSH_BODY_CSV:
		payload = decode_csv(p->body, p->body_len, r);
		break;
	case PUSH_BODY_AMI:
		payload = decode_ami(p->body, p->body_len, r);
		break;
	default:
		push_reject(r, 415, "unsupported_media_type", NULL,
			    "send application/json, application/x-www-form-urlencoded or text/csv");
		return NULL;
	}
	if (payload && merge_query(payload, p->query, r) < 0) {
		json_object_put(payload);
		payload = NULL;
	}
	return payload;
}

json_object *push_transport_keys(json_object *payload)
{
	json_object *keys = json_object_new_array();

	json_object_object_foreach(payload, key, val) {
		if (val && json_object_get_userdata(val) == &transport_mark)
			json_object_array_add(keys, json_object_new_string(key));
	}
	return keys;
}
