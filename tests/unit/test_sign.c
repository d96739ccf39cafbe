/* Signed URLs: genuine, expired, altered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "ringlog/auth.h"
#include "ringlog/buf.h"
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

/* A resource longer than any fixed buffer is signed whole: the MAC is the
 * HMAC of the full message (it once read past a 160-byte buffer). */
static void test_a_long_resource_is_signed_whole(void **state)
{
	char resource[400], msg[500], sig[SIGN_HEX_LEN + 1], want[SIGN_HEX_LEN + 1];
	unsigned char sum[AUTH_SHA256_LEN];
	unsigned int len = sizeof(sum);

	(void)state;
	memset(resource, 'u', sizeof(resource) - 1);
	resource[sizeof(resource) - 1] = '\0';
	snprintf(msg, sizeof(msg), "%s:%d:%d", resource, 7, 1000);
	HMAC(EVP_sha256(), key.bytes, (int)key.len, (const unsigned char *)msg, strlen(msg), sum, &len);
	auth_hex(sum, sizeof(sum), want);
	sign_make(&key, resource, 7, 1000, sig);
	assert_string_equal(sig, want);
	assert_int_equal(sign_check(&key, resource, 7, "1000", sig, 999), SIGN_OK);
	resource[300] = 'v'; /* a difference past 160 bytes changes the MAC */
	assert_int_equal(sign_check(&key, resource, 7, "1000", sig, 999), SIGN_INVALID);
}

static void test_session_tokens(void **state)
{
	static const char *malformed[] = { "uis.", "uis.61.0.5000.00", "uis.6.1.5000.00",
					   "uis..1.5000.", "uis.61.01.5000.aa", "x" };
	struct buf t = BUF_INIT, long_user = BUF_INIT;
	long long id;
	char *user;

	(void)state;
	sign_session_make(&key, 12, "dana@crm", 5000, &t);
	assert_int_equal(sign_session_read(&key, buf_str(&t), 4000, &id, &user), SIGN_OK);
	assert_string_equal(user, "dana@crm");
	assert_int_equal(id, 12);
	free(user);
	assert_int_equal(sign_session_read(&key, buf_str(&t), 5001, &id, &user), SIGN_EXPIRED);
	assert_null(user);
	/* no session lives longer than the cap, even when signed so */
	assert_int_equal(sign_session_read(&key, buf_str(&t), 5000 - SIGN_SESSION_MAX_TTL - 1, &id, &user),
			 SIGN_INVALID);
	/* another token's session */
	assert_non_null(strstr(t.data, ".12."));
	strstr(t.data, ".12.")[2] = '3';
	assert_int_equal(sign_session_read(&key, buf_str(&t), 4000, &id, &user), SIGN_INVALID);
	assert_int_equal(id, 0);
	buf_release(&t);
	/* a user of 200 bytes signs and reads back whole */
	for (int i = 0; i < 200; i++)
		buf_addch(&long_user, 'u');
	sign_session_make(&key, 1, buf_str(&long_user), 5000, &t);
	assert_int_equal(sign_session_read(&key, buf_str(&t), 4000, &id, &user), SIGN_OK);
	assert_string_equal(user, buf_str(&long_user));
	free(user);
	buf_release(&t);
	/* control characters in a user are never a session */
	sign_session_make(&key, 1, "a\x1b[2Jb", 5000, &t);
	assert_int_equal(sign_session_read(&key, buf_str(&t), 4000, &id, &user), SIGN_INVALID);
	buf_release(&t);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(sign_session_read(&key, malformed[i], 4000, &id, &user), SIGN_INVALID);
	buf_release(&long_user);
}

static void test_cursors(void **state)
{
	struct buf c = BUF_INIT;
	long long a, b;

	(void)state;
	sign_cursor_make(&key, "calls", 1750000000000000LL, 42, &c);
	assert_int_equal(strlen(buf_str(&c)), SIGN_CURSOR_TEXT_LEN);
	assert_int_equal(sign_cursor_read(&key, "calls", buf_str(&c), &a, &b), 0);
	assert_true(a == 1750000000000000LL && b == 42);
	assert_int_equal(sign_cursor_read(&key, "tasks", buf_str(&c), &a, &b), -1);
	c.data[5] = c.data[5] == 'A' ? 'B' : 'A';
	assert_int_equal(sign_cursor_read(&key, "calls", buf_str(&c), &a, &b), -1);
	buf_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine_link_until_it_expires),
		cmocka_unit_test(test_altered_links_are_invalid),
		cmocka_unit_test(test_a_long_resource_is_signed_whole),
		cmocka_unit_test(test_session_tokens),
		cmocka_unit_test(test_cursors),
	};

	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
