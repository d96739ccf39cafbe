/* Short-lived signed URLs, for what a browser fetches without headers (an
 * <audio> element): HMAC-SHA256 over "<resource>:<id>:<expires>" with a key
 * only the server knows, compared in constant time. */
#ifndef RINGLOG_SIGN_H
#define RINGLOG_SIGN_H

#include <stddef.h>

#include "ringlog/buf.h"
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

/* ---- UI session tokens --------------------------------------------------
 * "uis.<hex user>.<token id>.<expires>.<hex HMAC>": what the CRM's backend
 * (API token TOKEN_ID) hands a browser to act as USER until EXPIRES. The
 * HMAC covers the user, the minting token and the expiry, so revoking the
 * token can end its sessions. */
#define SIGN_SESSION_PREFIX "uis."
#define SIGN_SESSION_USER_MAX 256   /* bytes of a user name */
#define SIGN_SESSION_MAX_TTL 86400  /* no session is valid longer than this */

/* Appends the token of (TOKEN_ID, USER, EXPIRES) to OUT. */
void sign_session_make(const struct sign_key *key, long long token_id, const char *user,
		       long long expires, struct buf *out);
/* Checks TEXT at time NOW: SIGN_OK with *TOKEN_ID and *USER (caller frees);
 * SIGN_EXPIRED for a genuine one too old (*USER stays NULL); SIGN_INVALID
 * for anything else, a user with control characters or an expiry further
 * than SIGN_SESSION_MAX_TTL ahead included. */
enum sign_status sign_session_read(const struct sign_key *key, const char *text, long long now,
				   long long *token_id, char **user);

/* ---- page cursors -----------------------------------------------------------
 * Two integers and a MAC (first 16 bytes of the HMAC) in unpadded base64url
 * (43 characters), for the list KIND ("calls", "tasks"). */
#define SIGN_CURSOR_TEXT_LEN 43

void sign_cursor_make(const struct sign_key *key, const char *kind, long long a, long long b,
		      struct buf *out);
/* Returns 0 with *A and *B, or -1 when TEXT is not a cursor of KIND. */
int sign_cursor_read(const struct sign_key *key, const char *kind, const char *text, long long *a,
		     long long *b) RL_MUST_CHECK;

#endif
