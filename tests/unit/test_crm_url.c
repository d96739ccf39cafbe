/* A lead's CRM link from a source's template: placeholders filled and
 * URL-escaped, everything else kept as written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/crm_url.h"

static void check(const char *template, const char *id, const char *phone, const char *e164,
		  const char *want)
{
	struct buf out = BUF_INIT;

	crm_url_fill(template, id, phone, e164, &out);
	assert_string_equal(buf_str(&out), want);
	buf_release(&out);
}

static void test_placeholders_are_filled_and_escaped(void **state)
{
	(void)state;
	check("https://crm.example/leads/{id}?tel={phone}&n={e164}", "K 7/ä", "+36 30 123",
	      "3630123", "https://crm.example/leads/K%207%2F%C3%A4?tel=%2B36%2030%20123&n=3630123");
	check("https://crm.example/x/{id}", "crm-7.a_b~", NULL, NULL, "https://crm.example/x/crm-7.a_b~");
}

static void test_missing_values_and_unknown_braces(void **state)
{
	(void)state;
	/* no id: {id} stays as written (a "new contact" template has none) */
	check("https://crm.example/new?id={id}&p={phone}", NULL, "052", NULL,
	      "https://crm.example/new?id={id}&p=052");
	check("https://crm.example/{e164}{other}", "1", "", NULL, "https://crm.example/{other}");
	check(NULL, "1", "2", "3", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders_are_filled_and_escaped),
		cmocka_unit_test(test_missing_values_and_unknown_braces),
	};

	return cmocka_run_group_tests_name("crm_url", tests, NULL, NULL);
}
