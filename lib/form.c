#include "ringlog/form.h"

#include <stdlib.h>
#include <string.h>

#include "ringlog/xalloc.h"

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *form_unescape(const char *s, size_t len, int plus_is_space, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < len ? hexdigit(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexdigit(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
			continue;
		}
		out[o++] = plus_is_space && s[i] == '+' ? ' ' : s[i];
	}
	out[o] = '\0';
	if (out_len)
		*out_len = o;
	return out;
}

int form_is_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		size_t n;
		unsigned min, cp;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			n = 1, min = 0x80, cp = c & 0x1F;
		else if ((c & 0xF0) == 0xE0)
			n = 2, min = 0x800, cp = c & 0x0F;
		else if ((c & 0xF8) == 0xF0)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		if (n >= len - i)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

static void add_value(json_object *obj, const char *key, const char *val, size_t vlen)
{
	json_object *prev, *v = json_object_new_string_len(val, (int)vlen);

	if (!json_object_object_get_ex(obj, key, &prev)) {
		json_object_object_add(obj, key, v);
		return;
	}
	if (!json_object_is_type(prev, json_type_array)) {
		json_object *arr = json_object_new_array();

		json_object_array_add(arr, json_object_get(prev));
		json_object_object_add(obj, key, arr); /* drops our reference to prev */
		prev = arr;
	}
	json_object_array_add(prev, v);
}

json_object *form_parse(const char *s, size_t len, struct errbuf *e)
{
	json_object *obj = json_object_new_object();
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq;
		char *key = NULL, *val = NULL;
		size_t klen, vlen = 0;

		while (end < len && s[end] != '&')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (end == i) { /* "a=1&&b=2": an empty pair is skipped */
			i = end + 1;
			continue;
		}
		key = form_unescape(s + i, eq - i, 1, &klen);
		if (eq < end)
			val = form_unescape(s + eq + 1, end - eq - 1, 1, &vlen);
		else
			val = xstrdup("");
		if (!key || !val) {
			err_set(e, "malformed percent escape in \"%.*s\"", (int)(end - i > 80 ? 80 : end - i), s + i);
			goto fail;
		}
		if (klen == 0) {
			err_set(e, "a parameter has an empty name");
			goto fail;
		}
		if (!form_is_utf8(key, klen) || !form_is_utf8(val, vlen)) {
			err_set(e, "parameter \"%.80s\" is not valid UTF-8 text", key);
			goto fail;
		}
		add_value(obj, key, val, vlen);
		free(key);
		free(val);
		i = end + 1;
		continue;
fail:
		free(key);
		free(val);
		json_object_put(obj);
		return NULL;
	}
	return obj;
}
