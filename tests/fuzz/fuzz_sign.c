/* Signed play URLs: sign_check on the expires and sig parameters as they
 * come in a query string ("expires\nsig"). Nothing but the genuine
 * signature of that expiry may pass. */
// fuzz-seeds: tests/fixtures/signed/*.txt
#include <strings.h>

#include "fuzz.h"
#include "ringlog/sign.h"

/* The key the seed files were signed with (tests/fixtures/signed/README). */
static unsigned char raw[] = "ringlog-fuzz-signing-key-0123456789abcdef";
static const struct sign_key key = { raw, sizeof(raw) - 1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);
	char *nl = strchr(text, '\n'), want[SIGN_HEX_LEN + 1];
	const char *sig = nl ? nl + 1 : "";
	enum sign_status st;

	if (nl)
		*nl = '\0';
	st = sign_check(&key, "recording", 42, text, sig, 1750000000);
	if (st != SIGN_INVALID) {
		sign_make(&key, "recording", 42, strtoll(text, NULL, 10), want);
		FUZZ_ASSERT(strcasecmp(want, sig) == 0);
	}
	free(text);
	return 0;
}
