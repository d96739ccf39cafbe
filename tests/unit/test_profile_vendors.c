/* The Voicenter, Ringostat and Asterisk profiles store what the payloads
 * README says each example must give (tests/fixtures/vendors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "ringlog/csv.h"

static json_object *map_fixture(const char *vendor, const char *name, struct cdr *c)
{
	struct cdr_problem prob;
	json_object *o = map_payload(profile_find(vendor), fixture_payload(name), c, &prob);

	if (!o)
		fail_msg("%s: %s", name, prob.message);
	return o;
}

static void test_voicenter_answered(void **state)
{
	struct cdr c;
	json_object *o = map_fixture("voicenter", "vendors/voicenter-cdr-answered.json", &c);

	(void)state;
	assert_string_equal(c.call_id, "20250615104512031207c4a19be2f05d");
	assert_int_equal(c.direction, CDR_IN);
	assert_int_equal(c.disposition, CDR_ANSWERED);
	assert_string_equal(c.caller, "0528812345");
	assert_string_equal(c.callee, "0733750100");
	assert_string_equal(c.did, "0733750100");
	/* Israel wall clock written as an epoch: naive 10:45:12, i.e. 07:45:12Z
	 * once PostgreSQL reads it in Asia/Jerusalem. */
	assert_string_equal(time_text(&c.started_at), "2025-06-15 10:45:12.000000");
	assert_int_equal(c.billable_s, 142);
	assert_int_equal(c.duration_s, 166);
	assert_string_equal(c.recordings[0].url, "https://cpanel.voicenter.co.il/CallsHistory/PlayRecord/20250615104512031207c4a19be2f05d-aws.mp3");
	assert_string_equal(c.agent, "Rk7pQ2xL");
	assert_string_equal(c.agent_name, "דנה כהן");
	assert_null(c.leg_of);
	assert_string_equal(profile_find("voicenter")->ack_body, "{\"Err\":0,\"Errdesc\":\"OK\"}");
	cdr_release(&c);
	json_object_put(o);
}

static void test_voicenter_missed_ivr_as_string(void **state)
{
	struct cdr c;
	json_object *o = map_fixture("voicenter", "vendors/voicenter-cdr-missed.json", &c), *ivr;

	(void)state;
	assert_string_equal(c.call_id, "2025061518024008e41b7d03a6c2f9b4");
	assert_int_equal(c.disposition, CDR_MISSED); /* ABANDONE: a queue abandon */
	assert_int_equal(c.billable_s, 0);
	assert_int_equal(c.duration_s, 47);
	assert_string_equal(c.caller, "0547001122");
	assert_null(c.recordings[0].url);
	assert_null(c.agent);
	assert_string_equal(time_text(&c.started_at), "2025-06-15 18:02:40.000000");
	/* The IVR path sent as a JSON string is kept as the array it encodes. */
	assert_true(json_object_object_get_ex(o, "IVR", &ivr));
	assert_true(json_object_is_type(ivr, json_type_array));
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(ivr, 1), "layer_name")), "תמיכה טכנית");
	cdr_release(&c);
	json_object_put(o);
}

/* A form post: every value a string, '+' and %20 for spaces. */
static void test_voicenter_form(void **state)
{
	const char *body = "caller=0528812345&target=Rk7pQ2xL&time=1749984312&duration=166"
			   "&ivruniqueid=abc&type=Queue&status=ANSWER&did=0733750100"
			   "&representative_name=Dana+Cohen&actualCallDuration=142"
			   "&IVR=%5B%7B%22layer_id%22%3A1%7D%5D";
	struct cdr_problem prob;
	struct cdr c;
	json_object *o = map_payload(profile_find("voicenter"), form_parse(body, strlen(body), NULL),
				     &c, &prob);

	(void)state;
	assert_non_null(o);
	assert_int_equal(c.direction, CDR_IN); /* from `type` */
	assert_int_equal(c.billable_s, 142);
	assert_string_equal(c.agent_name, "Dana Cohen");
	assert_string_equal(time_text(&c.started_at), "2025-06-15 10:45:12.000000");
	assert_true(json_object_is_type(json_object_object_get(o, "IVR"), json_type_array));
	cdr_release(&c);
	json_object_put(o);
}

static void test_ringostat_start_is_in_progress(void **state)
{
	struct cdr c;
	json_object *o = map_fixture("ringostat", "vendors/ringostat-call-start.json", &c);

	(void)state;
	assert_string_equal(c.call_id, "ua-1750071807.48213");
	assert_int_equal(c.direction, CDR_IN);
	assert_int_equal(c.disposition, CDR_IN_PROGRESS); /* never a missed call */
	assert_string_equal(c.caller, "380671234567");
	assert_string_equal(c.callee, "380443334455");
	assert_string_equal(time_text(&c.started_at), "2025-06-16 14:03:27.000000");
	assert_null(c.agent);
	cdr_release(&c);
	json_object_put(o);
}

static void test_ringostat_end(void **state)
{
	struct cdr c;
	json_object *o = map_fixture("ringostat", "vendors/ringostat-call-end.json", &c);

	(void)state;
	assert_string_equal(c.call_id, "ua-1750071807.48213");
	assert_int_equal(c.disposition, CDR_ANSWERED); /* PROPER */
	assert_int_equal(c.billable_s, 187);
	assert_int_equal(c.duration_s, 204);
	assert_string_equal(c.recordings[0].url, "https://records.ringostat.example/ua-1750071807.48213.mp3");
	assert_string_equal(c.recordings[1].url, "https://records.ringostat.example/ua-1750071807.48213.wav");
	assert_string_equal(c.agent, "mebliua_olena");
	assert_string_equal(c.agent_name, "Олена Коваленко");
	cdr_release(&c);
	json_object_put(o);
}

/* Webhooks 2.0 as third parties saw it: some keys under additional_call_data. */
static void test_ringostat_nested_keys(void **state)
{
	const char *text = "{\"uniqueid\":\"ua-1.2\",\"calldate\":\"2025-06-16 14:03:27\","
			   "\"additional_call_data\":{\"call_type\":\"out\",\"dst\":\"0441234567\","
			   "\"disposition\":\"NO ANSWER\",\"billsec\":\"0\",\"duration\":\"25\"},"
			   "\"caller\":\"mebliua_olena\"}";
	struct cdr_problem prob;
	struct cdr c;
	json_object *o = map_payload(profile_find("ringostat"), json_tokener_parse(text), &c, &prob);

	(void)state;
	assert_non_null(o);
	assert_int_equal(c.direction, CDR_OUT);
	assert_int_equal(c.disposition, CDR_MISSED);
	assert_string_equal(c.callee, "0441234567");
	assert_int_equal(c.duration_s, 25);
	assert_string_equal(c.agent, "mebliua_olena"); /* the dialling SIP account */
	cdr_release(&c);
	json_object_put(o);
}

/* An undocumented status does not lose the CDR: billsec decides. */
static void test_ringostat_unknown_status_is_derived(void **state)
{
	const char *text = "{\"uniqueid\":\"u1\",\"calldate\":\"2025-06-16 14:03:27\","
			   "\"call_type\":\"in\",\"disposition\":\"REPEAT CALL\",\"billsec\":40}";
	struct cdr_problem prob;
	struct cdr c;
	json_object *o = map_payload(profile_find("ringostat"), json_tokener_parse(text), &c, &prob);

	(void)state;
	assert_non_null(o);
	assert_int_equal(c.disposition, CDR_ANSWERED);
	cdr_release(&c);
	json_object_put(o);
}

static void check_asterisk_answered(const struct cdr *c)
{
	assert_string_equal(c->call_id, "1750065605.2731");
	assert_int_equal(c->direction, CDR_IN); /* a public number called extension 1002 */
	assert_int_equal(c->disposition, CDR_ANSWERED);
	assert_string_equal(c->caller, "36301234567");
	assert_string_equal(c->caller_name, "Nagy Péter");
	assert_string_equal(c->callee, "1002");
	assert_string_equal(time_text(&c->started_at), "2025-06-16 11:20:05.000000");
	assert_string_equal(time_text(&c->answered_at), "2025-06-16 11:20:22.000000");
	assert_int_equal(c->billable_s, 187);
	assert_int_equal(c->duration_s, 204);
	assert_string_equal(c->agent, "1002"); /* from dstchannel PJSIP/1002-00000a1c */
}

static void test_asterisk_json(void **state)
{
	struct cdr c;
	json_object *o = map_fixture("asterisk", "vendors/asterisk-cdr.json", &c);

	(void)state;
	check_asterisk_answered(&c);
	assert_string_equal(c.did, "3614567890");
	assert_string_equal(c.recordings[0].ref, "external-1002-36301234567-20250616-112005-1750065605.2731.wav");
	cdr_release(&c);
	json_object_put(o);
}

/* Master.csv lines, each as push_decode() hands a text/csv record over. */
static json_object *csv_payload(const char *line, size_t len)
{
	struct csv_record rec = CSV_RECORD_INIT;
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct errbuf e;

	assert_true(csv_next(line, len, ',', &rec, &e) > 0);
	for (size_t i = 0; i < rec.n; i++)
		json_object_array_add(arr, json_object_new_string(rec.fields[i]));
	json_object_object_add(o, PROFILE_CSV_KEY, arr);
	csv_record_release(&rec);
	return o;
}

static void test_asterisk_master_csv(void **state)
{
	size_t len;
	char *text = fixture_text("vendors/asterisk-master.csv", &len);
	const char *second = strchr(text, '\n') + 1;
	struct cdr_problem prob;
	struct cdr c;
	json_object *o;

	(void)state;
	o = map_payload(profile_find("asterisk"), csv_payload(text, (size_t)(second - text)), &c, &prob);
	assert_non_null(o);
	check_asterisk_answered(&c);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "clid")), "\"Nagy Péter\" <36301234567>");
	cdr_release(&c);
	json_object_put(o);
	o = map_payload(profile_find("asterisk"), csv_payload(second, strlen(second)), &c, &prob);
	assert_non_null(o);
	assert_string_equal(c.call_id, "1750085271.2790");
	assert_int_equal(c.disposition, CDR_MISSED); /* NO ANSWER */
	assert_false(c.answered_at.set);             /* an empty, unquoted field */
	assert_int_equal(c.billable_s, 0);
	assert_string_equal(c.caller_name, "Szabó Ádám");
	cdr_release(&c);
	json_object_put(o);
	free(text);
}

/* An AMI Cdr event forwarded as JSON; an outbound call from extension 1002. */
static void test_asterisk_ami_outbound(void **state)
{
	const char *text = "{\"UniqueID\":\"1750.1\",\"Source\":\"1002\",\"Destination\":\"0612345678\","
			   "\"DestinationContext\":\"from-internal\",\"CallerID\":\"\\\"Tóth Gábor\\\" <1002>\","
			   "\"Channel\":\"PJSIP/1002-0000001\",\"DestinationChannel\":\"PJSIP/telekom-0000002\","
			   "\"StartTime\":\"2025-06-16 12:00:00\",\"AnswerTime\":\"\",\"EndTime\":\"2025-06-16 12:00:30\","
			   "\"Duration\":\"30\",\"BillableSeconds\":\"0\",\"Disposition\":\"NO ANSWER\"}";
	struct cdr_problem prob;
	struct cdr c;
	json_object *o = map_payload(profile_find("asterisk"), json_tokener_parse(text), &c, &prob);

	(void)state;
	assert_non_null(o);
	assert_int_equal(c.direction, CDR_OUT);
	assert_int_equal(c.disposition, CDR_MISSED);
	assert_string_equal(c.agent, "1002"); /* the trunk channel is not an agent */
	assert_string_equal(c.caller_name, "Tóth Gábor");
	cdr_release(&c);
	json_object_put(o);
}

static void test_csv_to_a_profile_without_columns(void **state)
{
	struct cdr_problem prob;
	struct cdr c;

	(void)state;
	assert_null(map_payload(profile_find("voicenter"), csv_payload("a,b\n", 4), &c, &prob));
	assert_string_equal(prob.code, "unsupported_media_type");
}

static void test_csv_records(void **state)
{
	static const char text[] = "a,\"b,\"\"c\"\"\",,\"\"\r\nsecond\n\n";
	struct csv_record rec = CSV_RECORD_INIT;
	struct errbuf e;
	long n;

	(void)state;
	n = csv_next(text, strlen(text), ',', &rec, &e);
	assert_int_equal(n, 17);
	assert_int_equal(rec.n, 4);
	assert_string_equal(rec.fields[1], "b,\"c\"");
	assert_string_equal(rec.fields[2], "");
	assert_string_equal(rec.fields[3], "");
	n = csv_next(text + 17, strlen(text) - 17, ',', &rec, &e);
	assert_int_equal(n, 7);
	assert_string_equal(rec.fields[0], "second");
	assert_int_equal(csv_next("\"open", 5, ',', &rec, &e), -1);
	assert_int_equal(csv_next("\"a\"b", 4, ',', &rec, &e), -1);
	assert_int_equal(csv_next("", 0, ',', &rec, &e), 0);
	csv_record_release(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_voicenter_answered),
		cmocka_unit_test(test_voicenter_missed_ivr_as_string),
		cmocka_unit_test(test_voicenter_form),
		cmocka_unit_test(test_ringostat_start_is_in_progress),
		cmocka_unit_test(test_ringostat_end),
		cmocka_unit_test(test_ringostat_nested_keys),
		cmocka_unit_test(test_ringostat_unknown_status_is_derived),
		cmocka_unit_test(test_asterisk_json),
		cmocka_unit_test(test_asterisk_master_csv),
		cmocka_unit_test(test_asterisk_ami_outbound),
		cmocka_unit_test(test_csv_to_a_profile_without_columns),
		cmocka_unit_test(test_csv_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
