/* FreeSWITCH mod_json_cdr in every encoding it has: raw JSON, cdr=<urlencoded>,
 * cdr=<base64> (its own content type), values percent-encoded once more
 * (encode-values), callflow as an array or an object, one CDR per leg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <b64/cencode.h>

#include "fixture.h"

static const struct profile *fs(void)
{
	return profile_find("freeswitch");
}

static json_object *map_ok(json_object *payload, struct cdr *c)
{
	struct cdr_problem prob;
	json_object *o = map_payload(fs(), payload, c, &prob);

	if (!o)
		fail_msg("%s", prob.message);
	return o;
}

/* What the payloads README says the A-leg stores. */
static void check_a_leg(const struct cdr *c)
{
	assert_string_equal(c->call_id, "3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41");
	assert_int_equal(c->direction, CDR_IN);
	assert_string_equal(c->caller, "+36301234567");
	assert_string_equal(c->caller_name, "Kovács Éva");
	assert_string_equal(c->callee, "3614567890");
	assert_string_equal(time_text(&c->started_at), "2025-06-16 09:20:05.000000+00");
	assert_string_equal(time_text(&c->answered_at), "2025-06-16 09:20:22.000000+00");
	assert_string_equal(time_text(&c->ended_at), "2025-06-16 09:23:29.000000+00");
	assert_int_equal(c->billable_s, 187);
	assert_int_equal(c->duration_s, 204);
	assert_int_equal(c->disposition, CDR_ANSWERED); /* NORMAL_CLEARING, billsec > 0 */
	assert_string_equal(c->recordings[0].ref, "/var/lib/freeswitch/recordings/pbx.example.hu/archive/2025/Jun/16/3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41.wav");
	assert_string_equal(c->agent, "1002");
	assert_string_equal(c->agent_name, "Tóth Gábor");
	assert_null(c->leg_of);
}

static void test_raw_json(void **state)
{
	struct cdr c;
	json_object *o = map_ok(fixture_payload("vendors/freeswitch-json-cdr.json"), &c);

	(void)state;
	check_a_leg(&c);
	cdr_release(&c);
	json_object_put(o);
}

/* The .form twin decodes to the same CDR, and the same JSON to keep. */
static void test_urlencoded_twin_is_the_same(void **state)
{
	struct cdr a, b;
	json_object *oa = map_ok(fixture_payload("vendors/freeswitch-json-cdr.json"), &a);
	json_object *ob = map_ok(fixture_payload("vendors/freeswitch-json-cdr-urlencoded.form"), &b);

	(void)state;
	check_a_leg(&b);
	assert_true(json_object_equal(oa, ob));
	cdr_release(&a);
	cdr_release(&b);
	json_object_put(oa);
	json_object_put(ob);
}

static char *base64(const char *s, size_t len)
{
	base64_encodestate st;
	char *out = malloc(len * 2 + 16);
	int n;

	base64_init_encodestate(&st);
	n = base64_encode_block(s, (int)len, out, &st);
	n += base64_encode_blockend(out + n, &st);
	out[n] = '\0';
	return out;
}

/* encode=base64: cdr=<base64>, not URL-encoded, so the form decoder turns its
 * '+' into spaces; libb64 adds line breaks every 72 characters. */
static void test_base64(void **state)
{
	size_t len;
	char *json = fixture_text("vendors/freeswitch-json-cdr.json", &len), *b64 = base64(json, len);
	struct buf body = BUF_INIT;
	struct cdr c;
	json_object *o;

	(void)state;
	/* "~~~~" holds a 3-byte group encoded "fn5+": a '+' to restore. */
	json = realloc(json, len + 16);
	memmove(json + 13, json + 1, len);
	memcpy(json + 1, "\"ua\":\"~~~~\",", 12);
	len += 12;
	free(b64);
	b64 = base64(json, len);
	assert_non_null(strchr(b64, '+'));
	buf_addf(&body, "cdr=%s", b64);
	o = map_ok(form_parse(body.data, body.len, NULL), &c);
	check_a_leg(&c);
	cdr_release(&c);
	json_object_put(o);
	buf_release(&body);
	free(b64);
	free(json);
}

static void test_bad_base64_is_refused(void **state)
{
	static const char *const bodies[] = { "cdr=eyJhIjoxfQ%3D%3D%3D", "cdr=!!!!", "cdr=eyJh",
					      "cdr=WzFd" /* [1]: not an object */ };
	struct cdr_problem prob;
	struct cdr c;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_null(map_payload(fs(), form_parse(bodies[i], strlen(bodies[i]), NULL), &c, &prob));
		assert_string_equal(prob.code, "invalid_json");
		cdr_release(&c);
	}
}

/* encode=false with encode-values=true (the default): raw JSON whose
 * variables are percent-encoded. */
static void test_encoded_values_in_raw_json(void **state)
{
	json_object *form = fixture_payload("vendors/freeswitch-json-cdr-urlencoded.form");
	json_object *raw = json_tokener_parse(json_object_get_string(json_object_object_get(form, "cdr")));
	json_object *vars;
	struct cdr c;
	json_object *o;

	(void)state;
	assert_true(json_object_object_get_ex(raw, "variables", &vars));
	assert_string_equal(json_object_get_string(json_object_object_get(vars, "caller_id_name")),
			    "Kov%C3%A1cs%20%C3%89va");
	o = map_ok(raw, &c);
	check_a_leg(&c);
	cdr_release(&c);
	json_object_put(o);
	json_object_put(form);
}

/* A value that merely looks encoded, in a payload that was not, stays. */
static void test_plain_values_stay(void **state)
{
	json_object *o = fixture_payload("vendors/freeswitch-json-cdr.json"), *vars;
	struct cdr c;

	(void)state;
	vars = json_object_object_get(o, "variables");
	json_object_object_add(vars, "sip_user_agent", json_object_new_string("Yealink%20T46"));
	o = map_ok(o, &c);
	vars = json_object_object_get(o, "variables");
	assert_string_equal(json_object_get_string(json_object_object_get(vars, "sip_user_agent")),
			    "Yealink%20T46");
	cdr_release(&c);
	json_object_put(o);
}

/* Older builds send callflow as an object; the uuid then comes from it. */
static void test_callflow_as_object(void **state)
{
	json_object *o = fixture_payload("vendors/freeswitch-json-cdr.json"), *flow;
	struct cdr c;

	(void)state;
	flow = json_object_get(json_object_array_get_idx(json_object_object_get(o, "callflow"), 0));
	json_object_object_add(o, "callflow", flow);
	json_object_object_del(json_object_object_get(o, "variables"), "uuid");
	json_object_object_del(json_object_object_get(o, "variables"), "start_epoch");
	json_object_object_del(json_object_object_get(o, "variables"), "start_uepoch");
	json_object_object_del(json_object_object_get(o, "variables"), "start_stamp");
	o = map_ok(o, &c);
	assert_string_equal(c.call_id, "3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41");
	/* created_time, in µs */
	assert_string_equal(time_text(&c.started_at), "2025-06-16 09:20:05.112233+00");
	cdr_release(&c);
	json_object_put(o);
}

/* The B-leg of the same call: another uuid, naming the A-leg. */
static void test_b_leg(void **state)
{
	const char *text =
		"{\"channel_data\":{\"direction\":\"outbound\"},"
		"\"variables\":{\"direction\":\"outbound\",\"uuid\":\"9e1d7c3b-2a4f-4e8d-b6c5-1f0e9d8c7b62\","
		"\"originating_leg_uuid\":\"3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41\","
		"\"caller_id_number\":\"%2B36301234567\",\"destination_number\":\"1002\","
		"\"start_epoch\":\"1750065605\",\"answer_epoch\":\"1750065622\",\"end_epoch\":\"1750065809\","
		"\"billsec\":\"187\",\"duration\":\"204\",\"hangup_cause\":\"NORMAL_CLEARING\"},"
		"\"callflow\":[{\"caller_profile\":{\"uuid\":\"9e1d7c3b-2a4f-4e8d-b6c5-1f0e9d8c7b62\","
		"\"originator\":{\"originator_caller_profiles\":[{\"uuid\":\"3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41\"}]}}}]}";
	struct cdr c;
	json_object *o = map_ok(json_tokener_parse(text), &c);

	(void)state;
	assert_string_equal(c.call_id, "9e1d7c3b-2a4f-4e8d-b6c5-1f0e9d8c7b62");
	assert_string_equal(c.leg_of, "3f2c8d4e-6b1a-4c7e-9d2f-0a8b7c6d5e41");
	assert_string_equal(c.caller, "+36301234567");
	assert_string_equal(c.agent, "1002");
	cdr_release(&c);
	json_object_put(o);
}

/* An extension dialling out: FreeSWITCH calls that A-leg "inbound". */
static void test_extension_dialling_out(void **state)
{
	const char *text =
		"{\"variables\":{\"direction\":\"inbound\",\"uuid\":\"u-out-1\","
		"\"caller_id_number\":\"1002\",\"destination_number\":\"06301234567\","
		"\"start_epoch\":\"1750065605\",\"answer_epoch\":\"0\",\"end_epoch\":\"1750065630\","
		"\"billsec\":\"0\",\"duration\":\"25\",\"hangup_cause\":\"NO_ANSWER\"}}";
	struct cdr c;
	json_object *o = map_ok(json_tokener_parse(text), &c);

	(void)state;
	assert_int_equal(c.direction, CDR_OUT);
	assert_int_equal(c.disposition, CDR_MISSED);
	assert_false(c.answered_at.set); /* answer_epoch 0: never */
	assert_string_equal(c.agent, "1002");
	cdr_release(&c);
	json_object_put(o);
}

static void test_voicemail_and_record_session(void **state)
{
	const char *text =
		"{\"variables\":{\"direction\":\"inbound\",\"uuid\":\"u-vm\",\"caller_id_number\":\"+3612345678\","
		"\"destination_number\":\"1002\",\"start_stamp\":\"2025-06-16 11:20:05\",\"billsec\":\"31\","
		"\"last_app\":\"voicemail\",\"last_arg\":\"default pbx 1002\",\"hangup_cause\":\"NORMAL_CLEARING\"}}";
	const char *rec =
		"{\"variables\":{\"direction\":\"inbound\",\"uuid\":\"u-rec\",\"caller_id_number\":\"+3612345678\","
		"\"destination_number\":\"1002\",\"start_stamp\":\"2025-06-16 11:20:05\",\"billsec\":\"31\","
		"\"last_app\":\"record_session\",\"last_arg\":\"/rec/u-rec.wav\"}}";
	struct cdr c;
	json_object *o = map_ok(json_tokener_parse(text), &c);

	(void)state;
	assert_int_equal(c.disposition, CDR_VOICEMAIL);
	/* start_stamp: the server's wall clock, read in the source's zone */
	assert_string_equal(time_text(&c.started_at), "2025-06-16 11:20:05.000000");
	assert_null(c.recordings[0].ref);
	cdr_release(&c);
	json_object_put(o);
	o = map_ok(json_tokener_parse(rec), &c);
	assert_int_equal(c.disposition, CDR_ANSWERED);
	assert_string_equal(c.recordings[0].ref, "/rec/u-rec.wav");
	cdr_release(&c);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_json),
		cmocka_unit_test(test_urlencoded_twin_is_the_same),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_bad_base64_is_refused),
		cmocka_unit_test(test_encoded_values_in_raw_json),
		cmocka_unit_test(test_plain_values_stay),
		cmocka_unit_test(test_callflow_as_object),
		cmocka_unit_test(test_b_leg),
		cmocka_unit_test(test_extension_dialling_out),
		cmocka_unit_test(test_voicemail_and_record_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
