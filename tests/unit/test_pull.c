/* A mapping's "pull": what it compiles to, and its templates filled in as
 * the PBX's call-log API will read them (values escaped, numbers as
 * numbers, times in the zone asked), and where a next-page URL may lead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "ringlog/pull.h"

static void test_the_vipex_example_compiles(void **state)
{
	json_object *m = fixture_payload("custom/vipex-pull-mapping.json");
	struct profile *owned;
	struct errbuf e;
	const struct profile *p = profile_for_source("custom", m, &owned, &e);

	(void)state;
	if (!p)
		fail_msg("%s", e.msg);
	assert_non_null(p->pull);
	assert_int_equal(p->pull->next, PULL_NEXT_PAGE);
	assert_int_equal(p->pull->first_page, 1);
	assert_int_equal(p->pull->time, PULL_TIME_EPOCH);
	assert_string_equal(p->pull->records, "data.calls");
	assert_string_equal(p->pull->record_path, "cdr");
	assert_string_equal(p->pull->auth_header, "Authorization");
	assert_int_equal(p->pull->page_size, 500);
	assert_int_equal(p->pull->max_pages, 200);
	assert_false(p->pull->post);
	assert_null(p->pull->check);
	profile_free(owned);
	json_object_put(m);
}

static void test_url(void **state)
{
	struct pull_vars v = {.pull_url = "https://pbx.example/api/calls?tenant=7",
			      .from = "2025-06-16 02:00:00",
			      .to = "a&b=c/d+é",
			      .page = "3"};
	char *u;

	(void)state;
	u = pull_url_expand("{pull_url}?from={from}&to={to}&page={page}&c={cursor}", &v);
	assert_string_equal(u,
			    "https://pbx.example/api/calls?tenant=7&from=2025-06-16%2002%3A00%3A00"
			    "&to=a%26b%3Dc%2Fd%2B%C3%A9&page=3&c=");
	free(u);
	v.pull_url = "https://pbx.example/api/calls";
	u = pull_url_expand("{pull_url}?from={from}&x={unknown}", &v);
	assert_string_equal(
	    u, "https://pbx.example/api/calls?from=2025-06-16%2002%3A00%3A00&x={unknown}");
	free(u);
}

static void test_body(void **state)
{
	struct pull_vars v = {
	    .from = "1750032000", .to = "1750118399", .page = "2", .secret = "k\"ey\\"};
	char *b;

	(void)state;
	b = pull_body_expand(
	    "{\"key\":\"{secret}\",\"range\":[\"{from}\",\"{to}\"],\"page\":\"{page}\","
	    "\"note\":\"from {from}\",\"n\":1}",
	    &v, PULL_TIME_EPOCH);
	assert_string_equal(b,
			    "{\"key\":\"k\\\"ey\\\\\",\"range\":[1750032000,1750118399],\"page\":2,"
			    "\"note\":\"from 1750032000\",\"n\":1}");
	free(b);
	/* times that are text stay text */
	v.from = "2025-06-16T00:00:00Z";
	b = pull_body_expand("{\"from\":\"{from}\"}", &v, PULL_TIME_ISO);
	assert_string_equal(b, "{\"from\":\"2025-06-16T00:00:00Z\"}");
	free(b);
	assert_null(pull_body_expand("{", &v, PULL_TIME_ISO));
}

static void test_times(void **state)
{
	struct pull p = {.time = PULL_TIME_PATTERN, .time_pattern = "%Y-%m-%dT%H:%M:%S%z (%%)"};
	char out[64];

	(void)state;
	/* 2025-06-16 00:00:00 UTC is 02:00 in Budapest, 20:00 the day before in New York */
	pull_time_text(&p, 1750032000, 1750032000 + 7200, out, sizeof(out));
	assert_string_equal(out, "2025-06-16T02:00:00+0200 (%)");
	pull_time_text(&p, 1750032000, 1750032000 - 4 * 3600, out, sizeof(out));
	assert_string_equal(out, "2025-06-15T20:00:00-0400 (%)");
	p.time = PULL_TIME_ISO;
	pull_time_text(&p, 1750032000, 0, out, sizeof(out));
	assert_string_equal(out, "2025-06-16T00:00:00Z");
	p.time = PULL_TIME_EPOCH_MS;
	pull_time_text(&p, 1750032000, 0, out, sizeof(out));
	assert_string_equal(out, "1750032000000");
}

static void test_next_url_stays_on_the_pull_urls_origin(void **state)
{
	static const char base[] = "https://api.pbx.example/v1/calls?from=1&page=1";
	static const struct {
		const char *next, *resolved;
	} cases[] = {
	    {"https://api.pbx.example/v1/calls?page=2", "https://api.pbx.example/v1/calls?page=2"},
	    {"https://API.pbx.example:443/v1/calls?page=2",
	     "https://api.pbx.example:443/v1/calls?page=2"},
	    {"/v1/calls?page=3", "https://api.pbx.example/v1/calls?page=3"},
	    {"?page=4", "https://api.pbx.example/v1/calls?page=4"},
	    {"http://api.pbx.example/v1/calls?page=2", NULL},
	    {"https://api.pbx.example:8443/v1/calls", NULL},
	    {"https://evil.example/v1/calls", NULL},
	    {"https://api.pbx.example.evil.example/", NULL},
	    {"//evil.example/v1/calls", NULL},
	    {"https://api.pbx.example@evil.example/", NULL},
	    {"ftp://api.pbx.example/", NULL},
	};

	(void)state;
	for (size_t i = 0; i < RL_ARRAY_LEN(cases); i++) {
		char *resolved;
		bool same = pull_same_origin(base, cases[i].next, &resolved);

		if (same != (cases[i].resolved != NULL))
			fail_msg("%s: %s", cases[i].next, same ? "followed" : "refused");
		if (same && strcasecmp(resolved, cases[i].resolved) != 0)
			fail_msg("%s: resolved as %s", cases[i].next, resolved);
		free(resolved);
	}
}

static void test_mistakes_are_named(void **state)
{
	static const struct {
		const char *pull, *says;
	} bad[] = {
	    {"[]", "pull: an object"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k\"},"
	     "\"x\":1}",
	     "pull: unknown key \"x\""},
	    {"{\"records\":\"\"}", "pull.url: a URL template"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"auth\":{\"query\":\"k\"}}",
	     "pull.records: the path"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}&s={secret}\",\"records\":\"\",\"auth\":{"
	     "\"query\":\"k\"}}",
	     "pull.url: {secret} is not a placeholder here"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k "
	     "y\"}}",
	     "pull.auth.query: a query parameter name"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"header\":\"X: "
	     "y\",\"value\":\"{secret}\"}}",
	     "pull.auth.header: a header name"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k\"},"
	     "\"time_zone\":\"Europe/Budapest\"}",
	     "pull.time_zone: \"source\""},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k\"},"
	     "\"next\":{\"url\":\"\"}}",
	     "pull.next: a path must be"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}&p={page}\",\"records\":\"\",\"auth\":{"
	     "\"query\":\"k\"},\"next\":{\"page\":{\"first\":2}}}",
	     "pull.next.page.first: 0 or 1"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k\"},"
	     "\"max_pages\":1000000}",
	     "pull.max_pages: a whole number from 1 to 100000"},
	    {"{\"url\":\"{pull_url}?f={from}&t={to}\",\"records\":\"\",\"auth\":{\"query\":\"k\"},"
	     "\"window_end\":\"open\"}",
	     "pull.window_end"},
	};
	struct errbuf e;

	(void)state;
	for (size_t i = 0; i < RL_ARRAY_LEN(bad); i++) {
		json_object *o = json_tokener_parse(bad[i].pull);
		struct pull *p;

		assert_non_null(o);
		p = pull_compile(o, &e);
		if (p)
			fail_msg("%s compiled", bad[i].pull);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].pull, e.msg, bad[i].says);
		json_object_put(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_vipex_example_compiles),
	    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_next_url_stays_on_the_pull_urls_origin),
	    cmocka_unit_test(test_mistakes_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
