/* Every kind of signed thing, from the same bytes: a play URL's expires and
 * sig ("expires\nsig"), a UI session token ("uis.…") and a page cursor.
 * Nothing but what the key signed may pass, and no input (a long user
 * included) may read past a buffer. */
// fuzz-seeds: tests/fixtures/signed/*.txt
#include <strings.h>

#include "fuzz.h"
#include "ringlog/buf.h"
#include "ringlog/sign.h"

/* The key the seed files were signed with (tests/fixtures/signed/README). */
static unsigned char raw[] = "ringlog-fuzz-signing-key-0123456789abcdef";
static const struct sign_key key = { raw, sizeof(raw) - 1 };
#define NOW 1750000000LL

static void play_url(char *text)
{
	char *nl = strchr(text, '\n'), want[SIGN_HEX_LEN + 1];
	const char *sig = nl ? nl + 1 : "";
	enum sign_status st;

	if (nl)
		*nl = '\0';
	st = sign_check(&key, "recording", 42, text, sig, NOW);
	if (st != SIGN_INVALID) {
		sign_make(&key, "recording", 42, strtoll(text, NULL, 10), want);
		FUZZ_ASSERT(strcasecmp(want, sig) == 0);
	}
	if (nl)
		*nl = '\n';
}

static void session(const char *text)
{
	long long token_id = -1;
	char *user = NULL;
	enum sign_status st = sign_session_read(&key, text, NOW, &token_id, &user);

	if (st == SIGN_OK) {
		struct buf again = BUF_INIT;
		const char *exp = strrchr(text, '.');

		FUZZ_ASSERT(user && token_id > 0 && strlen(user) <= SIGN_SESSION_USER_MAX);
		/* the expiry is the field before the signature */
		while (exp > text && exp[-1] != '.')
			exp--;
		sign_session_make(&key, token_id, user, strtoll(exp, NULL, 10), &again);
		FUZZ_ASSERT(strcasecmp(buf_str(&again), text) == 0);
		buf_release(&again);
	} else {
		FUZZ_ASSERT(!user && token_id == 0);
	}
	free(user);
}

static void cursor(const char *text)
{
	long long a, b;

	if (sign_cursor_read(&key, "calls", text, &a, &b) == 0) {
		struct buf again = BUF_INIT;

		sign_cursor_make(&key, "calls", a, b, &again);
		FUZZ_ASSERT(strcmp(buf_str(&again), text) == 0);
		buf_release(&again);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);

	play_url(text);
	session(text);
	cursor(text);
	free(text);
	return 0;
}
