/* Custom mappings: a VIPeX account (or any PBX) served without new code, a
 * built-in profile with renamed keys, and every mistake a mapping can hold
 * refused with where it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

static struct profile *compile_text(const char *text, const char *base, struct errbuf *e)
{
	json_object *m = json_tokener_parse(text);
	struct profile *p;

	assert_non_null(m);
	p = profile_compile(m, base, e);
	json_object_put(m);
	return p;
}

static void test_vipex(void **state)
{
	json_object *m = fixture_payload("custom/vipex-mapping.json");
	struct cdr_problem prob;
	struct profile *owned;
	struct errbuf e;
	const struct profile *p = profile_for_source("custom", m, &owned, &e);
	struct cdr c;
	json_object *o;

	(void)state;
	if (!p)
		fail_msg("%s", e.msg);
	assert_ptr_equal(p, owned);
	o = map_payload(p, fixture_payload("custom/vipex-push.json"), &c, &prob);
	if (!o)
		fail_msg("%s", prob.message);
	assert_string_equal(c.call_id, "vpx-20250616-000123");
	assert_int_equal(c.direction, CDR_IN);
	assert_int_equal(c.disposition, CDR_ANSWERED);
	assert_string_equal(c.caller, "06 30 123 4567");
	assert_string_equal(c.caller_name, "Kovács Éva");
	assert_string_equal(c.did, "06 1 456 7890");
	assert_string_equal(c.agent, "201");
	assert_string_equal(c.agent_name, "Tóth Gábor");
	assert_string_equal(time_text(&c.started_at), "2025-06-16 11:20:05.000000");
	assert_int_equal(c.billable_s, 187);
	assert_int_equal(c.duration_s, 204);
	assert_string_equal(c.recordings[0].ref, "ZXh0LTIwMS0xNzUwMDY1NjA1");
	assert_null(p->ack_body);
	cdr_release(&c);
	json_object_put(o);
	/* strict_words: a word the mapping does not list is an error */
	o = fixture_payload("custom/vipex-push.json");
	json_object_object_add(json_object_object_get(o, "call"), "status", json_object_new_string("?"));
	assert_null(map_payload(p, o, &c, &prob));
	assert_string_equal(prob.field, "disposition");
	cdr_release(&c);
	profile_free(owned);
	json_object_put(m);
}

/* Ringostat with keys renamed in its webhook settings: the mapping's rules
 * come first, the built-in ones still apply. */
static void test_over_a_builtin(void **state)
{
	json_object *m = fixture_payload("custom/ringostat-renamed-mapping.json");
	const char *push = "{\"call\":{\"uid\":\"r-9\"},\"client\":\"0441234567\",\"calldate\":\"2025-06-16 14:03:27\","
			   "\"call_type\":\"in\",\"disposition\":\"цільовий\",\"billsec\":3}";
	struct cdr_problem prob;
	struct profile *owned;
	struct errbuf e;
	const struct profile *p = profile_for_source("ringostat", m, &owned, &e);
	struct cdr c;
	json_object *o;

	(void)state;
	assert_non_null(p);
	o = map_payload(p, json_tokener_parse(push), &c, &prob);
	if (!o)
		fail_msg("%s", prob.message);
	assert_string_equal(c.call_id, "r-9");
	assert_string_equal(c.caller, "0441234567");
	assert_int_equal(c.direction, CDR_IN);             /* the built-in words */
	assert_int_equal(c.disposition, CDR_ANSWERED); /* the mapping's word, any case */
	assert_string_equal(p->ack_body, "{\"ok\":true}");
	assert_true(p->flags & PROFILE_OPEN_WITHOUT_END); /* kept from the base */
	cdr_release(&c);
	json_object_put(o);
	profile_free(owned);
	json_object_put(m);
}

static void test_converters_and_preparation(void **state)
{
	const char *mapping =
		"{\"fields\":{\"call_id\":\"d.id\",\"direction\":{\"path\":\"d.dir\"},"
		"\"caller\":{\"path\":\"d.clid\",\"convert\":\"clid_number\"},"
		"\"caller_name\":{\"path\":\"d.clid\",\"convert\":\"clid_name\"},"
		"\"agent\":{\"path\":\"d.chan\",\"convert\":\"channel_extension\"},"
		"\"started_at\":{\"path\":\"d.t\",\"convert\":\"time_local\"},"
		"\"recording_id\":[{\"path\":\"d.dir\",\"if\":{\"path\":\"d.kind\",\"equals\":\"never\"}},"
		"{\"path\":\"d.path\",\"join\":\"d.file\"}]},"
		"\"unwrap\":\"payload\",\"json_strings\":[\"d\"]}";
	const char *inner = "{\"id\":\"x1\",\"dir\":\"out\",\"clid\":\"\\\"Ann\\\" <1002>\","
			    "\"chan\":\"SIP/1002-0001\",\"t\":1750000000,\"path\":\"/rec/\",\"file\":\"x1.wav\"}";
	json_object *d = json_object_new_object(), *push = json_object_new_object();
	struct cdr_problem prob;
	struct errbuf e;
	struct profile *p = compile_text(mapping, NULL, &e);
	struct cdr c;
	json_object *o;

	(void)state;
	if (!p)
		fail_msg("%s", e.msg);
	/* {"payload": "<JSON text of {\"d\": \"<JSON text>\"}>"} */
	json_object_object_add(d, "d", json_object_new_string(inner));
	json_object_object_add(push, "payload", json_object_new_string(json_object_to_json_string(d)));
	json_object_put(d);
	o = map_payload(p, push, &c, &prob);
	if (!o)
		fail_msg("%s", prob.message);
	assert_string_equal(c.call_id, "x1");
	assert_int_equal(c.direction, CDR_OUT);
	assert_string_equal(c.caller, "1002");
	assert_string_equal(c.caller_name, "Ann");
	assert_string_equal(c.agent, "1002");
	assert_true(c.started_at.naive);
	assert_string_equal(c.recordings[0].ref, "/rec/x1.wav");
	cdr_release(&c);
	json_object_put(o);
	profile_free(p);
}

static void test_mistakes_are_named(void **state)
{
	static const struct {
		const char *mapping, *base, *says;
	} bad[] = {
		{ "{\"fields\":{\"calid\":\"x\"}}", NULL, "fields.calid: not a canonical field" },
		{ "{\"fields\":{\"call_id\":\"a..b\"}}", NULL, "is not a path" },
		{ "{\"fields\":{\"call_id\":\"a[x]\"}}", NULL, "bad [index]" },
		{ "{\"fields\":{\"call_id\":\"\"}}", NULL, "a path must be" },
		{ "{\"fields\":{\"call_id\":{\"path\":\"a\",\"convert\":\"upper\"}}}", NULL, "unknown converter" },
		{ "{\"fields\":{\"started_at\":{\"path\":\"a\",\"convert\":\"text\"}}}", NULL, "does not give a started_at" },
		{ "{\"fields\":{\"call_id\":{\"path\":\"a\",\"convert\":\"join_path\"}}}", NULL, "needs \"join\"" },
		{ "{\"fields\":{\"call_id\":{\"pth\":\"a\"}}}", NULL, "unknown key \"pth\"" },
		{ "{\"fields\":{\"call_id\":{\"path\":\"a\",\"if\":{\"path\":\"b\"}}}}", NULL, "\"if\" needs" },
		{ "{\"fields\":{\"call_id\":42}}", NULL, "a rule is a path" },
		{ "{\"fields\":{\"call_id\":\"a\"},\"directions\":{\"IN\":\"inbound\"}}", NULL, "directions.IN: not one of in, out, internal" },
		{ "{\"fields\":{\"call_id\":\"a\"},\"flags\":[\"fast\"]}", NULL, "unknown flag" },
		{ "{\"fields\":{\"call_id\":\"a\"},\"unwrap\":\"a.b\"}", NULL, "top-level key" },
		{ "{\"fields\":{\"call_id\":\"a\"},\"answer\":[1]}", NULL, "\"answer\" must be" },
		{ "{\"fields\":{\"call_id\":\"a\"},\"colour\":1}", NULL, "mapping: unknown key \"colour\"" },
		{ "{\"base\":\"avaya\"}", NULL, "not a built-in profile" },
		{ "{}", NULL, "no fields and no base" },
	};
	struct errbuf e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct profile *p = compile_text(bad[i].mapping, bad[i].base, &e);

		if (p)
			fail_msg("%s compiled", bad[i].mapping);
		if (!strstr(e.msg, bad[i].says))
			fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].mapping, e.msg, bad[i].says);
	}
}

static void test_source_profiles(void **state)
{
	struct profile *owned;
	struct errbuf e;

	(void)state;
	assert_ptr_equal(profile_for_source("voicenter", NULL, &owned, &e), profile_find("voicenter"));
	assert_null(owned);
	assert_null(profile_for_source("custom", NULL, &owned, &e));
	assert_non_null(strstr(e.msg, "needs a mapping"));
	assert_null(profile_for_source("avaya", NULL, &owned, &e));
	assert_non_null(strstr(e.msg, "not built in"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vipex),
		cmocka_unit_test(test_over_a_builtin),
		cmocka_unit_test(test_converters_and_preparation),
		cmocka_unit_test(test_mistakes_are_named),
		cmocka_unit_test(test_source_profiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
