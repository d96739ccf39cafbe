/* Time parsing: the shapes PBXs send, and their canonical text for PostgreSQL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/rltime.h"

static void expect_text(const char *in, enum rltime_epoch epoch, const char *want)
{
	struct rltime t;
	char out[RLTIME_TEXT_LEN];

	assert_int_equal(rltime_parse(in, epoch, &t), RLTIME_OK);
	rltime_format(&t, out);
	assert_string_equal(out, want);
}

static void test_iso_with_offsets(void **state)
{
	(void)state;
	expect_text("2025-06-16T11:20:05+02:00", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.000000+00");
	expect_text("2025-06-16T11:20:05+0200", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.000000+00");
	expect_text("2025-06-16T11:20:05+02", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.000000+00");
	expect_text("2025-06-16T09:20:05Z", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.000000+00");
	expect_text("2025-06-16 09:20:05.25Z", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.250000+00");
	/* a negative offset crossing midnight and a year */
	expect_text("2024-12-31T22:30:00-05:00", RLTIME_EPOCH_UTC, "2025-01-01 03:30:00.000000+00");
	/* Israel's half-hour history does not matter: offsets are explicit */
	expect_text("2025-03-28T01:59:59+03:00", RLTIME_EPOCH_UTC, "2025-03-27 22:59:59.000000+00");
}

static void test_epochs(void **state)
{
	(void)state;
	/* FreeSWITCH start_epoch, start_uepoch and a millisecond epoch */
	expect_text("1750065605", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.000000+00");
	expect_text("1750065605112233", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.112233+00");
	expect_text("1750065605112", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.112000+00");
	expect_text("1750065605.5", RLTIME_EPOCH_UTC, "2025-06-16 09:20:05.500000+00");
	/* Voicenter's `time`: Israel wall clock written as an epoch stays naive */
	expect_text("1749984312", RLTIME_EPOCH_LOCAL, "2025-06-15 10:45:12.000000");
}

static void test_naive(void **state)
{
	(void)state;
	/* no offset: wall-clock time, read in the source's zone by PostgreSQL */
	expect_text("2025-06-16 11:20:05", RLTIME_EPOCH_UTC, "2025-06-16 11:20:05.000000");
	expect_text("2025-06-16T11:20", RLTIME_EPOCH_UTC, "2025-06-16 11:20:00.000000");
	/* the hour that does not exist in Budapest on 2025-03-30 is kept as written */
	expect_text("2025-03-30 02:30:00", RLTIME_EPOCH_UTC, "2025-03-30 02:30:00.000000");
	/* a leap day, and a leap second read as the minute's last second */
	expect_text("2024-02-29 12:00:00", RLTIME_EPOCH_UTC, "2024-02-29 12:00:00.000000");
	expect_text("2016-12-31T23:59:60Z", RLTIME_EPOCH_UTC, "2016-12-31 23:59:59.000000+00");
}

static void test_empty_means_never(void **state)
{
	struct rltime t;

	(void)state;
	assert_int_equal(rltime_parse("", RLTIME_EPOCH_UTC, &t), RLTIME_EMPTY);
	assert_int_equal(rltime_parse("0", RLTIME_EPOCH_UTC, &t), RLTIME_EMPTY);
	assert_int_equal(rltime_parse("0000-00-00 00:00:00", RLTIME_EPOCH_UTC, &t), RLTIME_EMPTY);
	assert_false(t.set);
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"yesterday", "2025-13-01 00:00:00", "2025-02-29 10:00:00", "2025-06-31T00:00:00",
		"2025-06-16 24:00:00", "2025-06-16T11:20:05+25:00", "2025-06-16T11:20:05 junk",
		"-5", "1e400", "2025-6-16 11:20:05", "12:00", "2025-06-16T11:20:05.Z",
	};
	struct rltime t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rltime_parse(bad[i], RLTIME_EPOCH_UTC, &t) != RLTIME_INVALID)
			fail_msg("accepted \"%s\"", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_with_offsets), cmocka_unit_test(test_epochs),
		cmocka_unit_test(test_naive),		 cmocka_unit_test(test_empty_means_never),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests_name("rltime", tests, NULL, NULL);
}
