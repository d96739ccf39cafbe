/* Opaque page cursors: two integers and a MAC (HMAC-SHA256 under the
 * signing key, first 16 bytes) in base64url, so a client can only hand back
 * a position the daemon gave out. The MAC names the list it belongs to. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/auth.h"

#define CURSOR_MAC_LEN 16
#define CURSOR_RAW_LEN (16 + CURSOR_MAC_LEN)
#define CURSOR_TEXT_LEN 43 /* base64url of 32 bytes, unpadded */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void mac(const struct fetcher *f, const char *kind, long long a, long long b,
		unsigned char out[CURSOR_MAC_LEN])
{
	char resource[64], hex[SIGN_HEX_LEN + 1];

	snprintf(resource, sizeof(resource), "cursor:%s", kind);
	sign_make(&f->sign_key, resource, b, a, hex);
	hex[2 * CURSOR_MAC_LEN] = '\0';
	if (auth_unhex(hex, out, CURSOR_MAC_LEN) < 0) /* cannot happen: sign_make writes hex */
		memset(out, 0, CURSOR_MAC_LEN);
}

static void put64(unsigned char *p, long long v)
{
	for (int i = 7; i >= 0; i--, v = (long long)((unsigned long long)v >> 8))
		p[i] = (unsigned char)(v & 0xff);
}

static long long get64(const unsigned char *p)
{
	unsigned long long v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (long long)v;
}

void fetcher_cursor_make(const struct fetcher *f, const char *kind, long long a, long long b,
			 struct buf *out)
{
	unsigned char raw[CURSOR_RAW_LEN + 1] = { 0 }; /* one spare zero byte for the last group */

	put64(raw, a);
	put64(raw + 8, b);
	mac(f, kind, a, b, raw + 16);
	for (size_t i = 0; i < CURSOR_RAW_LEN; i += 3) {
		uint32_t g = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		buf_addch(out, alphabet[g >> 18 & 63]);
		buf_addch(out, alphabet[g >> 12 & 63]);
		buf_addch(out, alphabet[g >> 6 & 63]);
		if (i + 2 < CURSOR_RAW_LEN)
			buf_addch(out, alphabet[g & 63]);
	}
}

static int decode(const char *text, unsigned char raw[CURSOR_RAW_LEN + 1])
{
	uint32_t g = 0;
	size_t n = 0;

	if (strlen(text) != CURSOR_TEXT_LEN)
		return -1;
	for (size_t i = 0; i < CURSOR_TEXT_LEN; i++) {
		const char *c = text[i] ? strchr(alphabet, text[i]) : NULL;

		if (!c)
			return -1;
		g = g << 6 | (uint32_t)(c - alphabet);
		if (i % 4 == 3) {
			raw[n++] = (unsigned char)(g >> 16);
			raw[n++] = (unsigned char)(g >> 8);
			raw[n++] = (unsigned char)g;
			g = 0;
		}
	}
	/* 43 = 10 groups of 4 and one of 3: 18 bits, 16 of them data. */
	if (g & 3)
		return -1;
	raw[n++] = (unsigned char)(g >> 10);
	raw[n++] = (unsigned char)(g >> 2);
	return n == CURSOR_RAW_LEN ? 0 : -1;
}

int fetcher_cursor_read(const struct fetcher *f, const char *kind, const char *text,
			long long *a, long long *b)
{
	unsigned char raw[CURSOR_RAW_LEN + 1], want[CURSOR_MAC_LEN];

	if (decode(text, raw) < 0)
		return -1;
	*a = get64(raw);
	*b = get64(raw + 8);
	mac(f, kind, *a, *b, want);
	return auth_equal(want, raw + 16, CURSOR_MAC_LEN) ? 0 : -1;
}
