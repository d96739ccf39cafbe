/* Range, entity tags, If-Range and HTTP dates, case by case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/httpcond.h"

static void range_is(const char *h, uint64_t size, enum httpcond_range want, uint64_t first,
		     uint64_t last)
{
	uint64_t a = 12345, b = 12345;
	enum httpcond_range got = httpcond_range(h, size, &a, &b);

	if (got != want)
		fail_msg("Range \"%s\" of %llu: got %d, want %d", h ? h : "(null)",
			 (unsigned long long)size, got, want);
	if (want == HTTPCOND_RANGE_OK && (a != first || b != last))
		fail_msg("Range \"%s\": got %llu-%llu, want %llu-%llu", h, (unsigned long long)a,
			 (unsigned long long)b, (unsigned long long)first, (unsigned long long)last);
}

static void test_ranges(void **state)
{
	(void)state;
	range_is(NULL, 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=0-1", 1000, HTTPCOND_RANGE_OK, 0, 1);           /* Safari's probe */
	range_is("bytes=0-", 1000, HTTPCOND_RANGE_OK, 0, 999);          /* Chrome's first */
	range_is("bytes=100-199", 1000, HTTPCOND_RANGE_OK, 100, 199);
	range_is("bytes=900-5000", 1000, HTTPCOND_RANGE_OK, 900, 999);  /* clamped */
	range_is("bytes=999-999", 1000, HTTPCOND_RANGE_OK, 999, 999);
	range_is("bytes=-500", 1000, HTTPCOND_RANGE_OK, 500, 999);      /* suffix */
	range_is("bytes=-5000", 1000, HTTPCOND_RANGE_OK, 0, 999);
	range_is("BYTES = 5-6 ", 1000, HTTPCOND_RANGE_OK, 5, 6);
	range_is("bytes=5-6,", 1000, HTTPCOND_RANGE_OK, 5, 6);
	range_is("bytes=99999999999999999999999-", 1000, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-99999999999999999999999", 1000, HTTPCOND_RANGE_OK, 0, 999);
	range_is("bytes=1000-", 1000, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=1000-1001", 1000, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-0", 1000, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=0-0", 0, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	range_is("bytes=-1", 0, HTTPCOND_RANGE_UNSATISFIABLE, 0, 0);
	/* ignored: the whole file is sent */
	range_is("bytes=0-1,5-6", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=5-1", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=a-b", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=-", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("items=0-1", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes 0-1", 1000, HTTPCOND_RANGE_NONE, 0, 0);
	range_is("bytes=0-1 x", 1000, HTTPCOND_RANGE_NONE, 0, 0);
}

#define TAG "\"2cf24dba5fb0a30e\""

static void test_entity_tags(void **state)
{
	(void)state;
	assert_true(httpcond_etag_listed(TAG, TAG, true));
	assert_true(httpcond_etag_listed("*", TAG, true));
	assert_true(httpcond_etag_listed(" * ", TAG, false));
	assert_true(httpcond_etag_listed("\"x\", " TAG, TAG, true));
	assert_true(httpcond_etag_listed("\"x\"," TAG ",\"y\"", TAG, true));
	assert_true(httpcond_etag_listed("W/" TAG, TAG, true));   /* weak comparison */
	assert_false(httpcond_etag_listed("W/" TAG, TAG, false)); /* strong comparison */
	assert_false(httpcond_etag_listed("\"2cf24dba5fb0a30\"", TAG, true));
	assert_false(httpcond_etag_listed("2cf24dba5fb0a30e", TAG, true));
	assert_false(httpcond_etag_listed("\"x\" junk, " TAG, TAG, true));
	assert_false(httpcond_etag_listed("", TAG, true));
	assert_false(httpcond_etag_listed(NULL, TAG, true));
	assert_false(httpcond_etag_listed("*, \"x\"", TAG, true));
}

static void test_if_range(void **state)
{
	(void)state;
	assert_true(httpcond_if_range(TAG, TAG, 0));
	assert_false(httpcond_if_range("W/" TAG, TAG, 0));
	assert_false(httpcond_if_range("\"other\"", TAG, 0));
	assert_true(httpcond_if_range("Sun, 06 Nov 1994 08:49:37 GMT", TAG, 784111777));
	assert_false(httpcond_if_range("Sun, 06 Nov 1994 08:49:38 GMT", TAG, 784111777));
	assert_false(httpcond_if_range("yesterday", TAG, 784111777));
}

static void test_dates(void **state)
{
	int64_t t = 0;
	char out[HTTPCOND_DATE_LEN];

	(void)state;
	assert_int_equal(httpcond_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(httpcond_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(httpcond_parse_date("Sun Nov  6 08:49:37 1994", &t), 0);
	assert_int_equal(t, 784111777);
	assert_int_equal(httpcond_parse_date("Tue, 29 Feb 2028 00:00:00 GMT", &t), 0);
	assert_int_equal(httpcond_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", &t), -1);
	assert_int_equal(httpcond_parse_date("Sun, 31 Nov 1994 08:49:37 GMT", &t), -1);
	assert_int_equal(httpcond_parse_date("Sun, 06 Nov 1994 24:49:37 GMT", &t), -1);
	assert_int_equal(httpcond_parse_date("Sun, 06 Nov 1994 08:49:37 GMT x", &t), -1);
	assert_int_equal(httpcond_parse_date("06 Nov 1994", &t), -1);
	httpcond_format_date(784111777, out);
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	httpcond_format_date(0, out);
	assert_string_equal(out, "Thu, 01 Jan 1970 00:00:00 GMT");
	httpcond_format_date(1835395200, out);
	assert_string_equal(out, "Tue, 29 Feb 2028 00:00:00 GMT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_entity_tags),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests_name("httpcond", tests, NULL, NULL);
}
