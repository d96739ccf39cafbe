/* Short-lived signed URLs, for what a browser fetches without headers (an
 * <audio> element): HMAC-SHA256 over "<resource>:<id>:<expires>" with a key
 * only the server knows, compared in constant time. */
#ifndef RINGLOG_SIGN_H
#define RINGLOG_SIGN_H

#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

#define SIGN_KEY_MIN 32
#define SIGN_HEX_LEN 64

struct sign_key {
	unsigned char *bytes;
	size_t len;
};

/* Reads the key file PATH (at least SIGN_KEY_MIN bytes; a trailing newline
 * is part of the key). Returns 0, or -1 with E filled. */
int sign_key_load(struct sign_key *key, const char *path, struct errbuf *e) RL_MUST_CHECK;
void sign_key_release(struct sign_key *key);

/* Writes the signature of (RESOURCE, ID, EXPIRES) as hex to OUT. */
void sign_make(const struct sign_key *key, const char *resource, long long id, long long expires,
	       char out[SIGN_HEX_LEN + 1]);

enum sign_status { SIGN_OK, SIGN_EXPIRED, SIGN_INVALID };

/* Checks EXPIRES and SIG as they came in a query string, at time NOW
 * (seconds since the epoch). A bad signature is SIGN_INVALID even when it
 * has also expired: expiry is only reported for genuine links. */
enum sign_status sign_check(const struct sign_key *key, const char *resource, long long id,
			    const char *expires, const char *sig, long long now);

#endif
