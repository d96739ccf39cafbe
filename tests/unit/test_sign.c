/* Signed URLs: genuine, expired, altered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/sign.h"

static unsigned char raw[] = "0123456789abcdef0123456789abcdef-test-key";
static const struct sign_key key = { raw, sizeof(raw) - 1 };

static void test_genuine_link_until_it_expires(void **state)
{
	char sig[SIGN_HEX_LEN + 1];

	(void)state;
	sign_make(&key, "recording", 42, 1000, sig);
	assert_int_equal(strlen(sig), 64);
	assert_int_equal(sign_check(&key, "recording", 42, "1000", sig, 999), SIGN_OK);
	assert_int_equal(sign_check(&key, "recording", 42, "1000", sig, 1000), SIGN_OK);
	assert_int_equal(sign_check(&key, "recording", 42, "1000", sig, 1001), SIGN_EXPIRED);
}

static void test_altered_links_are_invalid(void **state)
{
	char sig[SIGN_HEX_LEN + 1], bad[SIGN_HEX_LEN + 1];
	static const unsigned char other_raw[] = "another-key-another-key-another-key";
	const struct sign_key other = { (unsigned char *)other_raw, sizeof(other_raw) - 1 };

	(void)state;
	sign_make(&key, "recording", 42, 1000, sig);
	assert_int_equal(sign_check(&key, "recording", 43, "1000", sig, 0), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "recording", 42, "1001", sig, 0), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "export", 42, "1000", sig, 0), SIGN_INVALID);
	assert_int_equal(sign_check(&other, "recording", 42, "1000", sig, 0), SIGN_INVALID);
	memcpy(bad, sig, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(sign_check(&key, "recording", 42, "1000", bad, 0), SIGN_INVALID);
	/* an altered link that has also expired is still "invalid", not "expired" */
	assert_int_equal(sign_check(&key, "recording", 42, "1000", bad, 5000), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "recording", 42, "1000", "", 0), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "recording", 42, "1000", NULL, 0), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "recording", 42, "10x", sig, 0), SIGN_INVALID);
	assert_int_equal(sign_check(&key, "recording", 42, "", sig, 0), SIGN_INVALID);
	sig[63] = '\0';
	assert_int_equal(sign_check(&key, "recording", 42, "1000", sig, 0), SIGN_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine_link_until_it_expires),
		cmocka_unit_test(test_altered_links_are_invalid),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
