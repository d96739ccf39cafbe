/* Stripping the audio out of a body: found at nested paths, unescaped,
 * replaced by null (JSON) or emptied (form); malformed bodies refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "ringlog/strip.h"

struct got {
	struct buf value;
	int begins, ends;
	size_t which;
};

static int on_begin(void *ctx, size_t which, struct errbuf *e)
{
	struct got *g = ctx;

	(void)e;
	g->begins++;
	g->which = which;
	return 0;
}

static int on_data(void *ctx, const char *s, size_t n, struct errbuf *e)
{
	(void)e;
	buf_add(&((struct got *)ctx)->value, s, n);
	return 0;
}

static int on_end(void *ctx, struct errbuf *e)
{
	(void)e;
	((struct got *)ctx)->ends++;
	return 0;
}

static enum strip_status run(bool json, const char *body, const char *const *paths, size_t n,
			     struct got *g, struct buf *out, struct errbuf *e)
{
	struct strip_sink sink = { g, on_begin, on_data, on_end };

	memset(g, 0, sizeof(*g));
	return json ? strip_json(body, strlen(body), paths, n, &sink, out, e)
		    : strip_form(body, strlen(body), paths, n, &sink, out, e);
}

static void test_json_values_are_stripped_at_their_paths(void **state)
{
	static const char *const paths[] = { "recording_base64", "rec.files[1]" };
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;

	(void)state;
	assert_int_equal(run(true, "{\"a\":1,\"recording_base64\":\"UklG\\nRg==\",\"b\":[true,null]}",
			     paths, 2, &g, &out, &e), STRIP_OK);
	assert_string_equal(out.data, "{\"a\":1,\"recording_base64\":null,\"b\":[true,null]}");
	assert_string_equal(g.value.data, "UklG\nRg==");
	assert_int_equal(g.which, 0);
	buf_release(&g.value);
	buf_reset(&out);
	assert_int_equal(run(true, " {\"rec\": {\"files\": [\"x\", \"a\\/b\\u002b\\u00e9\\ud83d\\ude00\"]}} ",
			     paths, 2, &g, &out, &e), STRIP_OK);
	assert_string_equal(out.data, " {\"rec\": {\"files\": [\"x\", null]}} ");
	assert_string_equal(g.value.data, "a/b+\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(g.which, 1);
	assert_int_equal(g.begins, 1);
	assert_int_equal(g.ends, 1);
	buf_release(&g.value);
	buf_release(&out);
}

static void test_json_without_the_value_is_not_copied(void **state)
{
	static const char *const paths[] = { "recording_base64" };
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;

	(void)state;
	/* a number, an object and a nested key of the same name are not it */
	assert_int_equal(run(true, "{\"recording_base64\":12,\"x\":{\"recording_base64\":\"A\"},"
			     "\"k\":\"recording_base64\"}", paths, 1, &g, &out, &e), STRIP_UNTOUCHED);
	assert_int_equal(out.len, 0);
	assert_int_equal(g.begins, 0);
}

static void test_malformed_json(void **state)
{
	static const char *const paths[] = { "v" };
	static const char *const bad[] = {
		"{\"v\":\"abc", "{\"v\":\"a\\x\"}", "{\"v\" 1}", "{\"v\":1,}", "{\"v\":1} x",
		"[1 2]", "{\"v\":\"\\u12\"}", "", "{", "{\"v\":@}", NULL,
	};
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;

	(void)state;
	for (const char *const *b = bad; *b; b++) {
		if (run(true, *b, paths, 1, &g, &out, &e) != STRIP_MALFORMED)
			fail_msg("accepted: %s", *b);
		assert_non_null(strstr(e.msg, "not valid JSON"));
		buf_release(&g.value);
		buf_reset(&out);
	}
	buf_release(&out);
}

/* Found by fuzz_strip: json-c (strict) takes NaN, Infinity and raw control
 * characters in strings, so the stripper must not refuse them. */
static void test_what_json_c_takes_is_not_refused(void **state)
{
	static const char *const paths[] = { "v" };
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;

	(void)state;
	assert_int_equal(run(true, "\n{\"a\":NaN,\"b\":-Infinity,\"v\":\"x\x01y\"}", paths, 1, &g,
			     &out, &e), STRIP_OK);
	assert_string_equal(g.value.data, "x\x01y");
	assert_string_equal(out.data, "\n{\"a\":NaN,\"b\":-Infinity,\"v\":null}");
	buf_release(&g.value);
	buf_release(&out);
}

static void test_deep_nesting_is_refused_not_overflowed(void **state)
{
	static const char *const paths[] = { "v" };
	char body[2 * STRIP_MAX_DEPTH + 10];
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;
	size_t n = STRIP_MAX_DEPTH + 2;

	(void)state;
	memset(body, '[', n);
	memset(body + n, ']', n);
	body[2 * n] = '\0';
	assert_int_equal(run(true, body, paths, 1, &g, &out, &e), STRIP_MALFORMED);
	assert_non_null(strstr(e.msg, "too deep"));
}

static int refuse(void *ctx, const char *s, size_t n, struct errbuf *e)
{
	(void)ctx, (void)s, (void)n;
	return err_set(e, "not base64");
}

static void test_sink_refusal_is_reported(void **state)
{
	static const char *const paths[] = { "v" };
	struct got g = { BUF_INIT, 0, 0, 0 };
	struct strip_sink sink = { &g, on_begin, refuse, on_end };
	struct buf out = BUF_INIT;
	struct errbuf e;

	(void)state;
	assert_int_equal(strip_json("{\"v\":\"x\"}", 9, paths, 1, &sink, &out, &e), STRIP_REFUSED);
	assert_string_equal(e.msg, "not base64");
	buf_release(&out);
}

static void test_forms(void **state)
{
	static const char *const paths[] = { "recording_base64" };
	struct buf out = BUF_INIT;
	struct errbuf e;
	struct got g;

	(void)state;
	assert_int_equal(run(false, "call_id=1&recording%5Fbase64=Ukl%2BRg%3D%3D&x=a+b", paths, 1,
			     &g, &out, &e), STRIP_OK);
	assert_string_equal(out.data, "call_id=1&recording%5Fbase64=&x=a+b");
	assert_string_equal(g.value.data, "Ukl+Rg==");
	buf_release(&g.value);
	buf_reset(&out);
	assert_int_equal(run(false, "recording_base64=a+b", paths, 1, &g, &out, &e), STRIP_OK);
	assert_string_equal(g.value.data, "a b"); /* '+' is a space: base64 will refuse it */
	buf_release(&g.value);
	buf_reset(&out);
	assert_int_equal(run(false, "a=1&b=2", paths, 1, &g, &out, &e), STRIP_UNTOUCHED);
	assert_int_equal(run(false, "recording_base64=Ukl%zz", paths, 1, &g, &out, &e), STRIP_MALFORMED);
	buf_release(&g.value);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_values_are_stripped_at_their_paths),
		cmocka_unit_test(test_json_without_the_value_is_not_copied),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_what_json_c_takes_is_not_refused),
		cmocka_unit_test(test_deep_nesting_is_refused_not_overflowed),
		cmocka_unit_test(test_sink_refusal_is_reported),
		cmocka_unit_test(test_forms),
	};

	return cmocka_run_group_tests_name("strip", tests, NULL, NULL);
}
