/* Standard Webhooks signing (https://www.standardwebhooks.com): secrets in
 * the "whsec_<base64>" form, and the webhook-signature header value
 * "v1,<base64 of HMAC-SHA256(key, id "." timestamp "." body)>". */
#ifndef RINGLOG_WHSIGN_H
#define RINGLOG_WHSIGN_H

#include <stddef.h>

#include "ringlog/buf.h"
#include "ringlog/compiler.h"

#define WHSIGN_KEY_LEN 32 /* bytes of a new secret */
#define WHSIGN_PREFIX "whsec_"

/* Fills KEY[0..WHSIGN_KEY_LEN) with random bytes (OpenSSL's CSPRNG).
 * Returns 0, or -1 when the generator fails. */
int whsign_key_new(unsigned char key[WHSIGN_KEY_LEN]) RL_MUST_CHECK;
/* Appends "whsec_" and the base64 of KEY[0..LEN) to OUT. */
void whsign_secret_format(const unsigned char *key, size_t len, struct buf *out);
/* Appends "v1,<base64 signature>" of (ID, TIMESTAMP, BODY[0..LEN)) under
 * KEY[0..KEYLEN) to OUT. */
void whsign_sign(const unsigned char *key, size_t keylen, const char *id, long long timestamp,
		 const char *body, size_t len, struct buf *out);

#endif
