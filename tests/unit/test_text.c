/* Text from outside: UTF-8, control characters, escaping for terminals,
 * and the one check of lead fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/buf.h"
#include "ringlog/lead.h"
#include "ringlog/text.h"

static void escaped_is(const char *in, const char *want)
{
	struct buf b = BUF_INIT;

	text_escape(in, &b);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(text_is_utf8("Kovács Éva משה", strlen("Kovács Éva משה")));
	assert_false(text_is_utf8("\xc3\x28", 2));         /* a broken sequence */
	assert_false(text_is_utf8("abc\xc3", 4));          /* cut inside a character */
	assert_false(text_is_utf8("\xc0\xaf", 2));         /* overlong */
	assert_false(text_is_utf8("\xed\xa0\x80", 3));     /* a surrogate */
	assert_false(text_is_utf8("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	/* Long text is read 8 bytes at a time: a NUL or a bad byte anywhere. */
	for (size_t at = 0; at < 40; at++) {
		char text[41];

		memset(text, 'a', 40);
		text[40] = '\0';
		assert_true(text_is_utf8(text, 40));
		text[at] = '\0';
		assert_false(text_is_utf8(text, 40));
		text[at] = '\xff';
		assert_false(text_is_utf8(text, 40));
		text[at] = '\x01';
		assert_true(text_is_utf8(text, 40));
		text[at] = '\x7f';
		assert_true(text_is_utf8(text, 40));
	}
	assert_true(text_is_utf8("0123456789abcdé0123456789", strlen("0123456789abcdé0123456789")));
	assert_true(text_is_clean("Tóth Gábor"));
	assert_false(text_is_clean("a\x1b[2J"));
	assert_false(text_is_clean("a\x7f"));
	assert_false(text_is_clean("a\xc2\x9b" "31m")); /* C1: a CSI on some terminals */
	assert_false(text_is_clean("tab\there"));
}

static void test_escape(void **state)
{
	(void)state;
	escaped_is("plain Éva", "plain Éva");
	escaped_is("a\x1b[2J\x07", "a\\x1b[2J\\x07");
	escaped_is("x\xc2\x9b", "x\\u009b");
	escaped_is("bad\xff!", "bad\\xff!");
}

static void test_lead_fields(void **state)
{
	char long_name[600];
	struct errbuf e;

	(void)state;
	assert_int_equal(lead_check_field("name", "Kovács Éva", &e), 0);
	assert_int_equal(lead_check_field("crm_url", "https://crm.example/1", &e), 0);
	assert_int_equal(lead_check_field("crm_url", "HTTP://crm.example/1", &e), 0);
	assert_int_equal(lead_check_field("crm_url", "javascript:alert(1)", &e), -1);
	assert_non_null(strstr(e.msg, "crm_url"));
	assert_int_equal(lead_check_field("crm_url", "", &e), -1);
	assert_int_equal(lead_check_field("name", "a\x1b[2J", &e), -1);
	assert_int_equal(lead_check_field("company", "\xc3\x28", &e), -1);
	assert_int_equal(lead_check_field("crm_id", "id\n2", &e), -1);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(lead_check_field("name", long_name, &e), -1);
	assert_int_equal(lead_check_field("phone", "1", &e), -1); /* not a text field */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_lead_fields),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
