/* Call times: rltime_parse in both epoch readings, and the text it writes
 * for PostgreSQL read back to the same instant. */
// fuzz-seeds: tests/fixtures/times/*
#include "fuzz.h"
#include "ringlog/rltime.h"

static void check(const char *text, enum rltime_epoch epoch)
{
	struct rltime t, back;
	char out[RLTIME_TEXT_LEN];

	if (rltime_parse(text, epoch, &t) != RLTIME_OK)
		return;
	FUZZ_ASSERT(t.set && t.usec >= 0 && t.usec < 1000000);
	rltime_format(&t, out);
	FUZZ_ASSERT(strlen(out) < RLTIME_TEXT_LEN - 1);
	/* Years 1000..9998 print as four digits, so the text reads back. */
	if (t.sec < -30610224000LL || t.sec >= 253370764800LL)
		return;
	FUZZ_ASSERT(rltime_parse(out, RLTIME_EPOCH_UTC, &back) == RLTIME_OK);
	FUZZ_ASSERT(back.sec == t.sec && back.usec == t.usec && back.naive == t.naive);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstring(data, size);

	check(text, RLTIME_EPOCH_UTC);
	check(text, RLTIME_EPOCH_LOCAL);
	free(text);
	return 0;
}
