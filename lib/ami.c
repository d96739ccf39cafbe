#include "ringlog/ami.h"

#include <stdbool.h>
#include <string.h>

#include "ringlog/form.h"
#include "ringlog/xalloc.h"

static bool is_key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* Adds KEY: VALUE to OBJ; a repeated key turns into an array of its values. */
static void add(json_object *obj, const char *key, const char *value, size_t vlen)
{
	json_object *old, *v = json_object_new_string_len(value, (int)vlen);

	if (!json_object_object_get_ex(obj, key, &old)) {
		json_object_object_add(obj, key, v);
	} else if (json_object_is_type(old, json_type_array)) {
		json_object_array_add(old, v);
	} else {
		json_object *arr = json_object_new_array();

		json_object_array_add(arr, json_object_get(old));
		json_object_array_add(arr, v);
		json_object_object_add(obj, key, arr);
	}
}

/* One line (LINE, N bytes, without its end) into OBJ. */
static int add_line(json_object *obj, const char *line, size_t n, struct errbuf *e)
{
	const char *colon = memchr(line, ':', n);
	char key[AMI_MAX_KEY + 1];
	size_t klen, v, vend = n;

	if (!colon)
		return err_set(e, "a line has no ':' (send Key: Value lines)");
	klen = (size_t)(colon - line);
	if (klen == 0)
		return err_set(e, "a line has an empty key");
	if (klen > AMI_MAX_KEY)
		return err_set(e, "a key is longer than %d bytes", AMI_MAX_KEY);
	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(line[i]))
			return err_set(e, "a key holds a character other than letters, digits, '_' and '-'");
	memcpy(key, line, klen);
	key[klen] = '\0';
	v = klen + 1;
	while (v < n && (line[v] == ' ' || line[v] == '\t'))
		v++;
	while (vend > v && (line[vend - 1] == ' ' || line[vend - 1] == '\t'))
		vend--;
	add(obj, key, line + v, vend - v);
	return 0;
}

json_object *ami_parse(const char *s, size_t len, struct errbuf *e)
{
	json_object *obj = NULL;
	size_t at = 0, lines = 0;
	bool ended = false;

	if (!form_is_utf8(s, len)) {
		err_set(e, "not UTF-8 text (or a NUL byte)");
		return NULL;
	}
	obj = json_object_new_object();
	while (at < len) {
		const char *nl = memchr(s + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - s) : len, n = end - at;

		if (n > 0 && s[at + n - 1] == '\r')
			n--;
		if (n == 0) {
			ended = lines > 0;
		} else if (ended) {
			err_set(e, "send one event per push (a blank line ends it)");
			goto fail;
		} else if (++lines > AMI_MAX_LINES) {
			err_set(e, "an event has more than %d lines", AMI_MAX_LINES);
			goto fail;
		} else if (add_line(obj, s + at, n, e) < 0) {
			goto fail;
		}
		at = end + 1;
	}
	if (lines == 0) {
		err_set(e, "the body is empty");
		goto fail;
	}
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}
