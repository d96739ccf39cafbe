/* Numbers for people in the API's answers: next to a number's E.164 digits,
 * `<name>_display` (+36 30 123 4567, as libphonenumber writes it; what the
 * PBX sent when it is no valid number) and `<name>_type` (mobile,
 * fixed_line, toll_free, ...; null). Computed when answering, from the
 * digits: a pure function of them, so it is never stale and costs the
 * ingest path nothing. */
#include <stdio.h>
#include <string.h>

#include "fetcher.h"

static const char *string_of(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

void fetcher_add_phone_display(json_object *obj, const char *e164_key, const char *raw_key,
			       const char *name)
{
	const char *e164 = string_of(obj, e164_key), *raw = raw_key ? string_of(obj, raw_key) : NULL;
	char text[PHONE_DISPLAY_LEN], key[64];
	enum phone_type type = PHONE_TYPE_UNKNOWN;
	bool formatted = e164 && phone_format(e164, PHONE_STYLE_INTERNATIONAL, NULL, text,
					      sizeof(text)) == 0;

	if (formatted)
		type = phone_type_of(e164);
	snprintf(key, sizeof(key), "%s_display", name);
	json_object_object_add(obj, key, formatted ? json_object_new_string(text)
					 : raw	   ? json_object_new_string(raw)
						   : NULL);
	snprintf(key, sizeof(key), "%s_type", name);
	json_object_object_add(obj, key, type != PHONE_TYPE_UNKNOWN
						 ? json_object_new_string(phone_type_name(type))
						 : NULL);
}

void fetcher_add_call_phones(json_object *call)
{
	json_object *lead;

	fetcher_add_phone_display(call, "caller_e164", "caller", "caller");
	fetcher_add_phone_display(call, "callee_e164", "callee", "callee");
	if (json_object_object_get_ex(call, "lead", &lead) && json_object_is_type(lead, json_type_object))
		fetcher_add_phone_display(lead, "phone", NULL, "phone");
}

/* The export's phone cells (caller and callee: the 4th and 5th) as
 * ringlog_export_calls() writes a normalised number: '+' and 7 to 15
 * digits, unquoted. */
#define EXPORT_CALLER_CELL 3
#define EXPORT_CALLEE_CELL 4

static bool is_e164_cell(const char *s, size_t n)
{
	if (n < 8 || n > 16 || s[0] != '+' || s[1] == '0')
		return false;
	for (size_t i = 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* The end of the cell starting at S (before END): past its closing quote
 * when quoted (a doubled quote is a quote), else at the delimiter. */
static const char *cell_end(const char *s, const char *end, char delim)
{
	if (s < end && *s == '"') {
		for (s++; s < end; s++)
			if (*s == '"' && (s + 1 >= end || s[1] != '"'))
				return s + 1;
			else if (*s == '"')
				s++;
		return end;
	}
	while (s < end && *s != delim && *s != '\n')
		s++;
	return s;
}

char *fetcher_export_phones(const char *row, int *len, char delim, enum phone_style style,
			    const char *region)
{
	const char *p = row, *end = row + *len;
	struct buf out = BUF_INIT;
	char text[PHONE_DISPLAY_LEN], digits[PHONE_E164_LEN];
	bool changed = false;
	size_t n;

	for (int cell = 0; p < end; cell++) {
		const char *e = cell_end(p, end, delim);

		n = (size_t)(e - p);
		if ((cell == EXPORT_CALLER_CELL || cell == EXPORT_CALLEE_CELL) && is_e164_cell(p, n)) {
			memcpy(digits, p + 1, n - 1);
			digits[n - 1] = '\0';
			if (phone_format(digits, style, region, text, sizeof(text)) == 0) {
				buf_adds(&out, text);
				changed = true;
				n = 0;
			}
		}
		buf_add(&out, p, n);
		p = e;
		if (p < end)
			buf_addch(&out, *p++); /* the delimiter, or the row's '\n' */
	}
	if (!changed) {
		buf_release(&out);
		return NULL;
	}
	buf_addch(&out, '\0'); /* room for the CR the export adds */
	*len = (int)out.len - 1;
	return buf_detach(&out, NULL);
}
