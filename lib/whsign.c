#include "ringlog/whsign.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ringlog/b64.h"

int whsign_key_new(unsigned char key[WHSIGN_KEY_LEN])
{
	return RAND_bytes(key, WHSIGN_KEY_LEN) == 1 ? 0 : -1;
}

void whsign_secret_format(const unsigned char *key, size_t len, struct buf *out)
{
	buf_adds(out, WHSIGN_PREFIX);
	b64_encode(key, len, out);
}

void whsign_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
		 const char *body, size_t len, struct buf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct buf msg = BUF_INIT;

	buf_addf(&msg, "%s.%lld.", id, timestamp);
	buf_add(&msg, body, len);
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg.data, msg.len, mac, &maclen)) {
		buf_adds(out, "v1,");
		b64_encode(mac, maclen, out);
	}
	buf_release(&msg);
}
