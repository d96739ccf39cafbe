/* The generic profile maps ringlog's canonical payload, from fixture files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/buf.h"
#include "ringlog/form.h"
#include "ringlog/profile.h"

static json_object *load(const char *name)
{
	char path[256];
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;
	json_object *o;

	snprintf(path, sizeof(path), "tests/fixtures/generic/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (strstr(name, ".form")) {
		while (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		o = form_parse(b.data, b.len, NULL);
	} else {
		o = json_tokener_parse(b.data);
	}
	buf_release(&b);
	assert_non_null(o);
	return o;
}

static void map(const char *fixture, struct cdr *c)
{
	json_object *o = load(fixture);
	struct cdr_problem p;

	cdr_init(c);
	assert_int_equal(profile_map(profile_find("generic"), o, c, &p), 0);
	if (cdr_finish(c, &p) != 0)
		fail_msg("%s: %s", fixture, p.message);
	json_object_put(o);
}

static void time_text(const struct rltime *t, char out[RLTIME_TEXT_LEN])
{
	rltime_format(t, out);
}

static void test_answered_json(void **state)
{
	struct cdr c;
	char t[RLTIME_TEXT_LEN];

	(void)state;
	map("answered.json", &c);
	assert_string_equal(c.call_id, "gen-0001");
	assert_int_equal(c.direction, CDR_IN);
	assert_int_equal(c.disposition, CDR_ANSWERED);
	assert_string_equal(c.caller, "+36 30 123 4567");
	assert_string_equal(c.caller_name, "Kovács Éva");
	assert_string_equal(c.agent, "1002");
	time_text(&c.started_at, t);
	assert_string_equal(t, "2025-06-16 09:20:05.000000+00");
	assert_int_equal(c.duration_s, 204);
	assert_int_equal(c.billable_s, 187); /* "187" as a string is a number too */
	assert_string_equal(c.recordings[0].ref, "rec-8c1f");
	assert_string_equal(c.recordings[0].url, "https://pbx.example.hu/rec/rec-8c1f.wav");
	cdr_release(&c);
}

static void test_missed_form_naive_times(void **state)
{
	struct cdr c;
	char t[RLTIME_TEXT_LEN];

	(void)state;
	map("missed-naive.form", &c);
	assert_int_equal(c.disposition, CDR_MISSED); /* "no answer" */
	assert_string_equal(c.caller, "06 30 765 4321");
	time_text(&c.started_at, t);
	assert_string_equal(t, "2025-10-26 02:30:00.000000"); /* naive: the zone decides */
	assert_int_equal(c.duration_s, 47);  /* derived from the times */
	assert_int_equal(c.billable_s, 0);   /* a missed call bills nothing */
	cdr_release(&c);
}

static void test_reference_peer_payload(void **state)
{
	struct cdr c;

	(void)state;
	map("peer-post.json", &c);
	assert_string_equal(c.agent, "231");	 /* agent_ext */
	assert_int_equal(c.duration_s, 620); /* duration_s */
	assert_int_equal(c.billable_s, 600);
	cdr_release(&c);
}

static void expect_problem(const char *json, const char *code, const char *field)
{
	json_object *o = json_tokener_parse(json);
	struct cdr_problem p = { 0 };
	struct cdr c;
	int rc;

	cdr_init(&c);
	rc = profile_map(profile_find("generic"), o, &c, &p);
	if (rc == 0)
		rc = cdr_finish(&c, &p);
	assert_int_equal(rc, -1);
	assert_string_equal(p.code, code);
	assert_string_equal(p.field, field);
	cdr_release(&c);
	json_object_put(o);
}

static void test_problems_name_the_field(void **state)
{
	(void)state;
	expect_problem("{\"direction\":\"in\",\"started_at\":1750065605}", "missing_field", "call_id");
	expect_problem("{\"call_id\":\"x\",\"started_at\":1750065605}", "missing_field", "direction");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"in\"}", "missing_field", "started_at");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"up\",\"started_at\":1}", "invalid_field", "direction");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"in\",\"started_at\":\"soon\"}", "invalid_field", "started_at");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"in\",\"started_at\":1750065605,\"duration\":\"long\"}",
		       "invalid_field", "duration");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"in\",\"started_at\":\"2025-06-16T10:00:00Z\","
		       "\"ended_at\":\"2025-06-16T09:00:00Z\"}", "invalid_field", "ended_at");
	expect_problem("{\"call_id\":\"x\",\"direction\":\"in\",\"started_at\":\"1999-06-16T10:00:00Z\"}",
		       "invalid_field", "started_at");
	expect_problem("{\"call_id\":\"a\\nb\",\"direction\":\"in\",\"started_at\":1750065605}",
		       "invalid_field", "call_id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answered_json),
		cmocka_unit_test(test_missed_form_naive_times),
		cmocka_unit_test(test_reference_peer_payload),
		cmocka_unit_test(test_problems_name_the_field),
	};

	return cmocka_run_group_tests_name("profile_generic", tests, NULL, NULL);
}
