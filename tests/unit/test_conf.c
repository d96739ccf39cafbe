/* Configuration tables: one file shared by every program, typos refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/conf.h"

struct cfg {
	char *url;
	long long threads;
	long long max_body;
};

#define KEY(sec, name, type, field, def) \
	{ sec, name, type, offsetof(struct cfg, field), def, 1, 1LL << 40, false, "" }

static const struct conf_key keys[] = {
	KEY("database", "url", CONF_STRING, url, ""),
	KEY("ingest", "threads", CONF_INT, threads, "16"),
	KEY("ingest", "max_body", CONF_BYTES, max_body, "1M"),
};

static int load(const char *path, struct cfg *c, struct errbuf *e)
{
	char *argv[] = { (char *)"test", (char *)"--config", (char *)path, NULL };
	struct conf_cli cli;

	memset(c, 0, sizeof(*c));
	return conf_load(keys, RL_ARRAY_LEN(keys), "ingest", NULL, c, 3, argv, &cli, e);
}

static void test_sections_of_other_programs_are_skipped(void **state)
{
	struct cfg c;
	struct errbuf e;

	(void)state;
	assert_int_equal(load("tests/fixtures/config/shared.conf", &c, &e), 0);
	assert_string_equal(c.url, "host=/run/postgresql dbname=ringlog");
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.max_body, 2 << 20);
	conf_release(keys, RL_ARRAY_LEN(keys), &c);
}

static void test_unknown_key_in_own_section_is_an_error(void **state)
{
	struct cfg c;
	struct errbuf e;

	(void)state;
	assert_int_equal(load("tests/fixtures/config/typo.conf", &c, &e), -1);
	assert_non_null(strstr(e.msg, "unknown key \"thread\" in section [ingest]"));
	conf_release(keys, RL_ARRAY_LEN(keys), &c);
}

static void test_negative_size_with_suffix_is_refused(void **state)
{
	static const char *const bad[] = { "-2k", "-1M", "-9223372036854775807G", "-0x1k" };
	struct conf_cli cli;
	struct errbuf e;

	(void)state;
	for (size_t i = 0; i < RL_ARRAY_LEN(bad); i++) {
		char flag[64];
		char *argv[] = { (char *)"test", flag, NULL };
		struct cfg c = { 0 };

		snprintf(flag, sizeof(flag), "--max-body=%s", bad[i]);
		assert_int_equal(conf_load(keys, RL_ARRAY_LEN(keys), "ingest", NULL, &c, 2, argv, &cli, &e), -1);
		assert_non_null(strstr(e.msg, "not a number"));
		conf_release(keys, RL_ARRAY_LEN(keys), &c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_of_other_programs_are_skipped),
		cmocka_unit_test(test_unknown_key_in_own_section_is_an_error),
		cmocka_unit_test(test_negative_size_with_suffix_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
