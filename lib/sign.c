#include "ringlog/sign.h"

#include <errno.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/auth.h"
#include "ringlog/buf.h"
#include "ringlog/text.h"
#include "ringlog/xalloc.h"

int sign_key_load(struct sign_key *key, const char *path, struct errbuf *e)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[256];
	size_t n;

	key->bytes = NULL;
	key->len = 0;
	if (!f)
		return err_set(e, "cannot read the signing key %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < 4096)
		buf_add(&b, chunk, n);
	fclose(f);
	if (b.len < SIGN_KEY_MIN) {
		buf_release(&b);
		return err_set(e, "the signing key %s is shorter than %d bytes (make one with: "
			       "head -c 32 /dev/urandom | base64 > %s)", path, SIGN_KEY_MIN, path);
	}
	key->len = b.len;
	key->bytes = (unsigned char *)buf_detach(&b, NULL);
	return 0;
}

void sign_key_release(struct sign_key *key)
{
	if (key->bytes)
		OPENSSL_cleanse(key->bytes, key->len);
	free(key->bytes);
	key->bytes = NULL;
	key->len = 0;
}

/* The message is built to its full length: a long RESOURCE (a UI session's
 * user) is signed whole, never cut to a fixed buffer. */
static void mac(const struct sign_key *key, const char *resource, long long id, long long expires,
		unsigned char out[AUTH_SHA256_LEN])
{
	struct buf msg = BUF_INIT;
	unsigned int len = AUTH_SHA256_LEN;

	buf_addf(&msg, "%s:%lld:%lld", resource, id, expires);
	HMAC(EVP_sha256(), key->bytes, (int)key->len, (const unsigned char *)buf_str(&msg), msg.len,
	     out, &len);
	buf_release(&msg);
}

void sign_make(const struct sign_key *key, const char *resource, long long id, long long expires,
	       char out[SIGN_HEX_LEN + 1])
{
	unsigned char sum[AUTH_SHA256_LEN];

	mac(key, resource, id, expires, sum);
	auth_hex(sum, sizeof(sum), out);
}

enum sign_status sign_check(const struct sign_key *key, const char *resource, long long id,
			    const char *expires, const char *sig, long long now)
{
	unsigned char want[AUTH_SHA256_LEN], got[AUTH_SHA256_LEN];
	long long exp;
	char *end;

	if (!expires || !sig || !*expires)
		return SIGN_INVALID;
	errno = 0;
	exp = strtoll(expires, &end, 10);
	if (*end || errno || exp <= 0 || auth_unhex(sig, got, sizeof(got)) < 0)
		return SIGN_INVALID;
	mac(key, resource, id, exp, want);
	if (!auth_equal(want, got, sizeof(want)))
		return SIGN_INVALID;
	return now > exp ? SIGN_EXPIRED : SIGN_OK;
}

/* ---- UI session tokens -------------------------------------------------- */

#define SESSION_RESOURCE "ui:"

static void session_sig(const struct sign_key *key, long long token_id, const char *user,
			long long expires, char out[SIGN_HEX_LEN + 1])
{
	struct buf resource = BUF_INIT;

	buf_addf(&resource, SESSION_RESOURCE "%s", user);
	sign_make(key, buf_str(&resource), token_id, expires, out);
	buf_release(&resource);
}

static enum sign_status session_check(const struct sign_key *key, long long token_id,
				      const char *user, const char *expires, const char *sig,
				      long long now)
{
	struct buf resource = BUF_INIT;
	enum sign_status st;

	buf_addf(&resource, SESSION_RESOURCE "%s", user);
	st = sign_check(key, buf_str(&resource), token_id, expires, sig, now);
	buf_release(&resource);
	return st;
}

void sign_session_make(const struct sign_key *key, long long token_id, const char *user,
		       long long expires, struct buf *out)
{
	char sig[SIGN_HEX_LEN + 1];
	size_t n = strlen(user);
	char *hex = xmalloc(2 * n + 1);

	auth_hex((const unsigned char *)user, n, hex);
	session_sig(key, token_id, user, expires, sig);
	buf_addf(out, SIGN_SESSION_PREFIX "%s.%lld.%lld.%s", hex, token_id, expires, sig);
	free(hex);
}

/* A positive decimal number of at most 18 digits, ending at '.'; returns
 * what follows the dot, or NULL. */
static const char *read_number(const char *p, long long *v)
{
	size_t n = strspn(p, "0123456789");

	if (n == 0 || n > 18 || p[n] != '.' || (*p == '0' && n > 1))
		return NULL;
	*v = strtoll(p, NULL, 10);
	return *v > 0 ? p + n + 1 : NULL;
}

enum sign_status sign_session_read(const struct sign_key *key, const char *text, long long now,
				   long long *token_id, char **user)
{
	size_t plen = strlen(SIGN_SESSION_PREFIX), hn;
	const char *p = text, *dot;
	char *name = NULL, *hex = NULL, expires[24];
	enum sign_status st = SIGN_INVALID;
	long long exp, tid;

	*user = NULL;
	*token_id = 0;
	if (strncmp(p, SIGN_SESSION_PREFIX, plen) != 0)
		return SIGN_INVALID;
	p += plen;
	dot = strchr(p, '.');
	hn = dot ? (size_t)(dot - p) : 0;
	if (!dot || hn == 0 || hn % 2 || hn > 2 * SIGN_SESSION_USER_MAX)
		return SIGN_INVALID;
	hex = xstrndup(p, hn);
	name = xcalloc(1, hn / 2 + 1);
	/* the user is logged and shown: UTF-8 text without control characters */
	if (auth_unhex(hex, (unsigned char *)name, hn / 2) < 0 || strlen(name) != hn / 2 ||
	    !text_is_clean(name) || !(p = read_number(dot + 1, &tid)))
		goto out;
	dot = read_number(p, &exp); /* P: the expiry; DOT: the signature after it */
	if (!dot || (size_t)(dot - 1 - p) >= sizeof(expires) || exp > now + SIGN_SESSION_MAX_TTL)
		goto out;
	memcpy(expires, p, (size_t)(dot - 1 - p));
	expires[dot - 1 - p] = '\0';
	st = session_check(key, tid, name, expires, dot, now);
	if (st == SIGN_OK) {
		*user = name;
		*token_id = tid;
		name = NULL;
	}
out:
	free(hex);
	free(name);
	return st;
}

/* ---- page cursors ------------------------------------------------------- */

#define CURSOR_MAC_LEN 16
#define CURSOR_RAW_LEN (16 + CURSOR_MAC_LEN)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void cursor_mac(const struct sign_key *key, const char *kind, long long a, long long b,
		       unsigned char out[CURSOR_MAC_LEN])
{
	struct buf resource = BUF_INIT;
	unsigned char sum[AUTH_SHA256_LEN];

	buf_addf(&resource, "cursor:%s", kind);
	mac(key, buf_str(&resource), b, a, sum);
	memcpy(out, sum, CURSOR_MAC_LEN);
	buf_release(&resource);
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

void sign_cursor_make(const struct sign_key *key, const char *kind, long long a, long long b,
		      struct buf *out)
{
	unsigned char raw[CURSOR_RAW_LEN + 1] = { 0 }; /* one spare zero byte for the last group */

	put64(raw, a);
	put64(raw + 8, b);
	cursor_mac(key, kind, a, b, raw + 16);
	for (size_t i = 0; i < CURSOR_RAW_LEN; i += 3) {
		uint32_t g = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		buf_addch(out, b64url[g >> 18 & 63]);
		buf_addch(out, b64url[g >> 12 & 63]);
		buf_addch(out, b64url[g >> 6 & 63]);
		if (i + 2 < CURSOR_RAW_LEN)
			buf_addch(out, b64url[g & 63]);
	}
}

static int cursor_decode(const char *text, unsigned char raw[CURSOR_RAW_LEN + 1])
{
	uint32_t g = 0;
	size_t n = 0;

	if (strlen(text) != SIGN_CURSOR_TEXT_LEN)
		return -1;
	for (size_t i = 0; i < SIGN_CURSOR_TEXT_LEN; i++) {
		const char *c = text[i] ? strchr(b64url, text[i]) : NULL;

		if (!c)
			return -1;
		g = g << 6 | (uint32_t)(c - b64url);
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

int sign_cursor_read(const struct sign_key *key, const char *kind, const char *text, long long *a,
		     long long *b)
{
	unsigned char raw[CURSOR_RAW_LEN + 1], want[CURSOR_MAC_LEN];

	if (cursor_decode(text, raw) < 0)
		return -1;
	*a = get64(raw);
	*b = get64(raw + 8);
	cursor_mac(key, kind, *a, *b, want);
	return auth_equal(want, raw + 16, CURSOR_MAC_LEN) ? 0 : -1;
}
