/* libFuzzer: phone numbers. Checks what phone_normalize promises: E.164
 * digits only, 7 to 15 of them, no leading 0, and the same answer for the
 * number written back with '+'. Input: the raw number; a fuzzed plan comes
 * from the text after a NUL byte. */
// fuzz-seeds: tests/fixtures/phones/*
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ringlog/phone.h"

static void check(const char *raw, const struct phone_plan *plan)
{
	char out[PHONE_E164_LEN], again[PHONE_E164_LEN + 1], back[PHONE_E164_LEN];
	size_t n;

	(void)phone_classify(raw);
	if (phone_normalize(raw, plan, out) != 0) {
		if (out[0])
			abort();
		return;
	}
	n = strlen(out);
	if (n < 7 || n > 15 || out[0] == '0' || strspn(out, "0123456789") != n)
		abort();
	again[0] = '+';
	memcpy(again + 1, out, n + 1);
	if (phone_normalize(again, plan, back) != 0 || strcmp(back, out) != 0)
		abort();
}

/* Reads "CC TRUNK INTL" as the sources table allows them: CC 1-3 digits
 * not starting with 0 (or none), TRUNK up to 3 digits, INTL up to 4. */
static int parse_plan(const char *text, char cc[4], char trunk[4], char intl[5])
{
	char *parts[3] = { cc, trunk, intl };
	static const size_t max[3] = { 3, 3, 4 };

	for (int i = 0; i < 3; i++) {
		size_t n = strspn(text, "0123456789");

		if (n > max[i] || (i == 0 && n && text[0] == '0'))
			return -1;
		memcpy(parts[i], text, n);
		parts[i][n] = '\0';
		text += n;
		if (*text == ' ')
			text++;
		else if (*text || i < 2)
			return *text ? -1 : 0;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct phone_plan plans[] = {
		{ "972", "0", "00", NULL }, { "36", "06", "00", NULL }, { "380", "0", "00", NULL },
		{ "1", "1", "011", NULL },  { "", "", "", NULL },
	};
	char *raw = malloc(size + 1), cc[4] = "", trunk[4] = "", intl[5] = "";

	memcpy(raw, data, size);
	raw[size] = '\0';
	for (size_t i = 0; i < sizeof(plans) / sizeof(plans[0]); i++)
		check(raw, &plans[i]);
	/* After a NUL byte: a plan of the fuzzer's own. */
	if (strlen(raw) < size && parse_plan(raw + strlen(raw) + 1, cc, trunk, intl) == 0) {
		struct phone_plan fuzzed = { cc, trunk, intl, NULL };

		check(raw, &fuzzed);
	}
	free(raw);
	return 0;
}
