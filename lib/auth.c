#include "ringlog/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "ringlog/xalloc.h"

void auth_sha256(const void *data, size_t len, unsigned char out[AUTH_SHA256_LEN])
{
	unsigned int n = AUTH_SHA256_LEN;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

bool auth_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

bool auth_secret_matches(const char *secret, size_t len, const unsigned char digest[AUTH_SHA256_LEN])
{
	unsigned char got[AUTH_SHA256_LEN];

	auth_sha256(secret, len, got);
	return auth_equal(got, digest, AUTH_SHA256_LEN);
}

void auth_hex(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int auth_unhex(const char *hex, unsigned char *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int auth_random_bytes(void *out, size_t len)
{
	return RAND_bytes(out, (int)len) == 1 ? 0 : -1;
}

char *auth_new_token(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[32];
	size_t plen = strlen(AUTH_TOKEN_PREFIX);
	char *tok;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	/* 43 characters of 6 bits each carry the 256 random bits. */
	tok = xmalloc(plen + 44);
	memcpy(tok, AUTH_TOKEN_PREFIX, plen);
	for (size_t i = 0; i < 43; i++) {
		size_t bit = i * 6, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)raw[byte] << 8 | (byte + 1 < sizeof(raw) ? raw[byte + 1] : 0);

		tok[plen + i] = alphabet[(v >> (10 - off)) & 63];
	}
	tok[plen + 43] = '\0';
	return tok;
}
