/* Secrets: hashing, constant-time comparison, random tokens. Secrets are
 * stored only as SHA-256 digests and are never logged. */
#ifndef RINGLOG_AUTH_H
#define RINGLOG_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "ringlog/compiler.h"

#define AUTH_SHA256_LEN 32
#define AUTH_TOKEN_PREFIX "rl_"

/* OUT receives the SHA-256 digest of DATA. */
void auth_sha256(const void *data, size_t len, unsigned char out[AUTH_SHA256_LEN]);
/* True when A and B (each N bytes) are equal; time independent of content. */
bool auth_equal(const void *a, const void *b, size_t n);
/* True when SECRET hashes to DIGEST; time independent of where they differ. */
bool auth_secret_matches(const char *secret, size_t len, const unsigned char digest[AUTH_SHA256_LEN]);
/* Writes LEN bytes of hex of DATA to OUT (2*LEN+1 bytes, NUL-terminated). */
void auth_hex(const unsigned char *data, size_t len, char *out);
/* Parses 2*LEN hex characters into OUT. Returns 0 or -1. */
int auth_unhex(const char *hex, unsigned char *out, size_t len) RL_MUST_CHECK;
/* Fills OUT with LEN random bytes from the kernel. Returns 0 or -1. */
int auth_random_bytes(void *out, size_t len) RL_MUST_CHECK;
/* Returns a new random token "rl_" + 43 base64url characters (256 bits) from
 * the kernel's generator, or NULL; caller frees. */
char *auth_new_token(void);

#endif
