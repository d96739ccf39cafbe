/* libFuzzer: the libphonenumber shim (lib/phonenumber_shim.cc) and the
 * rules over it. Input: a region selector byte, then the number. Checks
 * what the shim promises: a valid answer is 1-15 digits not starting with 0,
 * written back with '+' it reads as itself with the same type; formatting
 * fits or says no; garbage (any bytes) is refused, never a crash. */
// fuzz-seeds: tests/fixtures/phones/*
#include <string.h>

#include "../../lib/phonenumber_shim.h"
#include "fuzz.h"
#include "ringlog/phone.h"

static const char *const regions[] = { "", "HU", "IL", "UA", "IT", "AR", "US", "GB", "DE", "RU",
				       "BR", "IN", "CN", "XX", "hu", "001" };

static void check_valid(const char *e164, int type, const char *region)
{
	char again[18], back[16], text[PHONE_DISPLAY_LEN], tiny[4];
	size_t n = strlen(e164);
	int type2;

	FUZZ_ASSERT(n >= 2 && n <= 15 && e164[0] != '0' && strspn(e164, "0123456789") == n);
	FUZZ_ASSERT(type != PHONE_TYPE_UNKNOWN && pn_shim_type(e164) == type);
	again[0] = '+';
	memcpy(again + 1, e164, n + 1);
	FUZZ_ASSERT(pn_shim_parse(again, NULL, back, &type2) == 0);
	FUZZ_ASSERT(strcmp(back, e164) == 0 && type2 == type);
	for (int style = PHONE_STYLE_E164; style <= PHONE_STYLE_NATIONAL; style++) {
		FUZZ_ASSERT(pn_shim_format(e164, style, region, text, sizeof(text)) == 0);
		FUZZ_ASSERT(strlen(text) < sizeof(text) && text[0]);
		if (pn_shim_format(e164, style, region, tiny, sizeof(tiny)) == 0)
			FUZZ_ASSERT(strlen(tiny) < sizeof(tiny));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *region = regions[size ? data[0] % RL_ARRAY_LEN(regions) : 0];
	char *raw = fuzz_cstring(size ? data + 1 : data, size ? size - 1 : 0);
	struct phone_plan plan = { "", "0", "00", region };
	struct phone_number num;
	char out[16];
	int type;

	/* The shim itself, on any bytes. */
	if (pn_shim_parse(raw, region, out, &type) == 0)
		check_valid(out, type, region);
	else
		FUZZ_ASSERT(out[0] == '\0' && type == PHONE_TYPE_UNKNOWN);
	(void)pn_shim_type(raw);
	(void)pn_shim_format(raw, PHONE_STYLE_INTERNATIONAL, region, out, sizeof(out));
	/* The rules over it. */
	switch (phone_parse(raw, &plan, &num)) {
	case PHONE_VALID:
		check_valid(num.e164, (int)num.type, region);
		break;
	case PHONE_NOT_PUBLIC:
	case PHONE_INVALID:
		FUZZ_ASSERT(num.e164[0] == '\0' && num.type == PHONE_TYPE_UNKNOWN);
		break;
	}
	free(raw);
	return 0;
}
