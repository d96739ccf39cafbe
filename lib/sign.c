#include "ringlog/sign.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/auth.h"
#include "ringlog/buf.h"

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

static void mac(const struct sign_key *key, const char *resource, long long id, long long expires,
		unsigned char out[AUTH_SHA256_LEN])
{
	char msg[160];
	unsigned int len = AUTH_SHA256_LEN;
	int n = snprintf(msg, sizeof(msg), "%s:%lld:%lld", resource, id, expires);

	HMAC(EVP_sha256(), key->bytes, (int)key->len, (const unsigned char *)msg, (size_t)n, out, &len);
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
