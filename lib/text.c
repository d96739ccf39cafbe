#include "ringlog/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The length of the UTF-8 sequence at P (N bytes left) and its code point,
 * or 0 when it is not one. */
static size_t utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (n == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* True when the 8 bytes at P are ASCII without a NUL (the common case, taken
 * a word at a time). */
static bool ascii8(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return ((w | ((w - 0x0101010101010101ULL) & ~w)) & 0x8080808080808080ULL) == 0;
}

bool text_is_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (n) {
		size_t len;

		if (n >= 8 && ascii8(p)) {
			p += 8;
			n -= 8;
			continue;
		}
		len = utf8_char(p, n, &cp);

		if (!len || cp == 0)
			return false;
		p += len;
		n -= len;
	}
	return true;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool text_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t cp;

	while (n) {
		size_t len = utf8_char(p, n, &cp);

		if (!len || is_control(cp))
			return false;
		p += len;
		n -= len;
	}
	return true;
}

void text_escape(const char *s, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t cp;

	while (n) {
		size_t len = utf8_char(p, n, &cp);

		if (!len) {
			buf_addf(out, "\\x%02x", *p);
			len = 1;
		} else if (cp < 0x80 && is_control(cp)) {
			buf_addf(out, "\\x%02x", (unsigned)cp);
		} else if (is_control(cp)) {
			buf_addf(out, "\\u%04x", (unsigned)cp);
		} else {
			buf_add(out, p, len);
		}
		p += len;
		n -= len;
	}
}
