/* Phone numbers to E.164 under every kind of numbering plan a source may
 * have (the schema allows 1-3 digit country codes, 0-3 digit trunk and 0-4
 * digit international prefixes). */
// fuzz-seeds: tests/fixtures/phones/*
#include <ctype.h>

#include "fuzz.h"
#include "ringlog/phone.h"

static const char *const country[] = { "", "1", "36", "972", "380" };
static const char *const trunk[] = { "", "0", "06", "8", "123" };
static const char *const intl[] = { "", "00", "011", "810", "0000" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *raw = fuzz_cstring(data, size);
	char out[PHONE_E164_LEN];

	for (size_t c = 0; c < RL_ARRAY_LEN(country); c++)
		for (size_t t = 0; t < RL_ARRAY_LEN(trunk); t++)
			for (size_t i = 0; i < RL_ARRAY_LEN(intl); i++) {
				struct phone_plan plan = { country[c], trunk[t], intl[i], NULL };
				size_t n;

				if (phone_normalize(raw, &plan, out) < 0)
					continue;
				n = strlen(out);
				FUZZ_ASSERT(n >= 7 && n <= 15 && out[0] != '0'); /* the e164 domain */
				for (size_t k = 0; k < n; k++)
					FUZZ_ASSERT(isdigit((unsigned char)out[k]));
			}
	free(raw);
	return 0;
}
