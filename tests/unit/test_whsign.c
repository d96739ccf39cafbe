/* Standard Webhooks signatures: the spec's reference vector (the one its
 * libraries test with), the whsec_ form, fresh keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/b64.h"
#include "ringlog/whsign.h"

static void test_reference_vector(void **state)
{
	struct buf key = BUF_INIT, sig = BUF_INIT;
	struct errbuf e;
	const char *body = "{\"test\": 2432232314}";

	(void)state;
	assert_int_equal(b64_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32, &key, &e), 0);
	whsign_sign((const unsigned char *)key.data, key.len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		    body, strlen(body), &sig);
	assert_string_equal(sig.data, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	buf_reset(&sig);
	whsign_sign((const unsigned char *)key.data, key.len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331,
		    body, strlen(body), &sig);
	assert_string_not_equal(sig.data, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	buf_release(&key);
	buf_release(&sig);
}

static void test_secret_form_and_fresh_keys(void **state)
{
	unsigned char a[WHSIGN_KEY_LEN], b[WHSIGN_KEY_LEN];
	struct buf s = BUF_INIT, back = BUF_INIT;
	struct errbuf e;

	(void)state;
	assert_int_equal(whsign_key_new(a), 0);
	assert_int_equal(whsign_key_new(b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	whsign_secret_format(a, sizeof(a), &s);
	assert_int_equal(strncmp(s.data, "whsec_", 6), 0);
	assert_int_equal(b64_decode(s.data + 6, s.len - 6, &back, &e), 0);
	assert_int_equal(back.len, sizeof(a));
	assert_memory_equal(back.data, a, sizeof(a));
	buf_release(&s);
	buf_release(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vector),
		cmocka_unit_test(test_secret_form_and_fresh_keys),
	};

	return cmocka_run_group_tests_name("whsign", tests, NULL, NULL);
}
