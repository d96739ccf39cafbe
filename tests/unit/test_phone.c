/* Phone numbers: the same person is the same E.164 digits however the PBX
 * wrote the number, as libphonenumber reads it in the source's region;
 * extensions, short codes, withheld callers and numbers valid nowhere are
 * never public numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/phone.h"

static const struct phone_plan il = { "972", "0", "00", NULL };
static const struct phone_plan hu = { "36", "06", "00", NULL };
static const struct phone_plan ua = { "380", "0", "00", NULL };
static const struct phone_plan us = { "1", "1", "011", NULL };
static const struct phone_plan intl_only = { "", "", "", NULL };
/* Region only (--region), with the table's default prefixes. */
static const struct phone_plan it = { "", "0", "00", "IT" };
static const struct phone_plan ar = { "", "0", "00", "AR" };
static const struct phone_plan us_region = { "", "0", "00", "US" };
static const struct phone_plan ca = { "1", "1", "011", "CA" };
/* A region wins over a country code that says otherwise. */
static const struct phone_plan hu_over_il = { "972", "0", "00", "HU" };

struct norm_case {
	const struct phone_plan *plan;
	const char *raw;
	const char *e164; /* NULL: not a public number */
};

static const struct norm_case cases[] = {
	/* Israel: the national 05X form and the international one match. */
	{ &il, "0528812345", "972528812345" },
	{ &il, "972528812345", "972528812345" },
	{ &il, "+972528812345", "972528812345" },
	{ &il, "+972 52-881-2345", "972528812345" },
	{ &il, "00972528812345", "972528812345" },
	{ &il, "052-881-2345", "972528812345" },
	{ &il, "(052) 881 2345", "972528812345" },
	{ &il, "0733750100", "972733750100" },
	{ &il, "528812345", "972528812345" },   /* trunk prefix left out */
	{ &il, "tel:+972-52-881-2345", "972528812345" },
	{ &il, "sip:0528812345@pbx.example.co.il", "972528812345" },
	{ &il, "sips:+972528812345@pbx;user=phone", "972528812345" },
	{ &il, "  0528812345  ", "972528812345" },
	/* Hungary: trunk prefix 06. */
	{ &hu, "06 1 234 5678", "3612345678" },
	{ &hu, "+36 1 234 5678", "3612345678" },
	{ &hu, "0036 1 234 5678", "3612345678" },
	{ &hu, "36 1 234 5678", "3612345678" },
	{ &hu, "06-30-123-4567", "36301234567" },
	{ &hu, "+36301234567", "36301234567" },
	{ &hu, "36301234567", "36301234567" },
	{ &hu, "3614567890", "3614567890" },
	{ &hu, "1 234 5678", "3612345678" },
	{ &hu, "36 123 456", "3636123456" }, /* Eger, national, no trunk */
	{ &hu, "06 20 987 6543", "36209876543" },
	{ &hu, "06-70-555-1234", "36705551234" },
	{ &hu, "06 80 123 456", "3680123456" },  /* toll free */
	/* Ukraine. */
	{ &ua, "0441234567", "380441234567" },
	{ &ua, "380441234567", "380441234567" },
	{ &ua, "+380 (44) 123-45-67", "380441234567" },
	{ &ua, "00380441234567", "380441234567" },
	{ &ua, "380671234567", "380671234567" },
	{ &ua, "067 123 45 67", "380671234567" },
	{ &ua, "050 123 4567", "380501234567" },
	{ &ua, "0 800 500 123", "380800500123" },
	/* Israel's other 05x mobiles and landlines. */
	{ &il, "054-123-4567", "972541234567" },
	{ &il, "058 123 4567", "972581234567" },
	{ &il, "03-123-4567", "97231234567" },
	/* Italy: a fixed line keeps its 0 after +39; mobiles have none. */
	{ &it, "06 1234 5678", "390612345678" },
	{ &it, "+39 06 1234 5678", "390612345678" },
	{ &it, "0039 06 1234 5678", "390612345678" },
	{ &it, "02 1234 5678", "390212345678" },
	{ &it, "333 123 4567", "393331234567" },
	{ &hu, "+39 06 1234 5678", "390612345678" },
	{ &intl_only, "390612345678", "390612345678" },
	/* NANP: 1 is the trunk prefix, 011 the international one. */
	{ &us_region, "1 (202) 555-0100", "12025550100" },
	{ &us_region, "202-555-0100", "12025550100" },
	{ &us_region, "+1 202 555 0100", "12025550100" },
	{ &us_region, "011 36 30 123 4567", "36301234567" },
	{ &us_region, "011 972 52 881 2345", "972528812345" },
	{ &us_region, "1-800-555-0199", "18005550199" },
	{ &us, "011 39 06 1234 5678", "390612345678" },
	{ &ca, "1 416 555 0100", "14165550100" },
	{ &ca, "011 44 20 7946 0958", "442079460958" },
	/* Argentina: a mobile is +54 9 ...; nationally 0 11 15 ... */
	{ &ar, "011 15 2345 6789", "5491123456789" },
	{ &ar, "(011) 15-2345-6789", "5491123456789" },
	{ &ar, "+54 9 11 2345 6789", "5491123456789" },
	{ &ar, "0351 15 412 3456", "5493514123456" },
	{ &ar, "011 4321 5678", "541143215678" },  /* a Buenos Aires landline */
	{ &hu, "+54 9 11 2345 6789", "5491123456789" },
	{ &hu_over_il, "06 30 123 4567", "36301234567" },
	/* Other plans. */
	{ &us, "1 202 555 0100", "12025550100" },
	{ &us, "(202) 555-0100", "12025550100" },
	{ &us, "011 44 20 7946 0958", "442079460958" },
	{ &hu, "+44 (0)20 7946 0958", "442079460958" },
	{ &intl_only, "442079460958", "442079460958" },
	{ &intl_only, "+1 202 555 0100", "12025550100" },
	/* Not public numbers: never matched to a lead. */
	{ &il, "1002", NULL },
	{ &il, "101", NULL },
	{ &il, "*100#", NULL },
	{ &il, "Rk7pQ2xL", NULL },
	{ &il, "mebliua_olena", NULL },
	{ &il, "anonymous", NULL },
	{ &il, "Anonymous", NULL },
	{ &hu, "unknown", NULL },
	{ &ua, "Restricted", NULL },
	{ &ar, "PRIVATE", NULL },
	{ &us_region, "sip:anonymous@anonymous.invalid", NULL },
	{ &hu, "112", NULL },                 /* short codes */
	{ &us_region, "911", NULL },
	{ &il, "*6800", NULL },
	{ &ua, "#31#", NULL },
	/* Valid for no region: stored as sent, no E.164. */
	{ &hu, "06 99 123 4567", NULL },
	{ &il, "0000000000", NULL },
	{ &il, "+999 123 4567", NULL },
	{ &us_region, "123-456-7890", NULL },
	{ &il, "", NULL },
	{ &il, "   ", NULL },
	{ &il, "+", NULL },
	{ &il, "+12345", NULL },
	{ &il, "012345", NULL },              /* trunk + five digits */
	{ &hu, "06 1234", NULL },
	{ &il, "0528812345 ext 12", NULL },
	{ &il, "052881234567890123456789", NULL }, /* too many digits */
	{ &il, "+0528812345", NULL },          /* E.164 never starts with 0 */
	{ &il, "12345678901234567", NULL },    /* 17 digits */
	{ &il, "05288\n12345", NULL },
};

static void test_normalize_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[PHONE_E164_LEN];
		int rc = phone_normalize(cases[i].raw, cases[i].plan, out);

		if (cases[i].e164) {
			if (rc != 0 || strcmp(out, cases[i].e164) != 0)
				fail_msg("\"%s\" (cc %s): got rc=%d \"%s\", want \"%s\"", cases[i].raw,
					 cases[i].plan->country_code, rc, out, cases[i].e164);
		} else if (rc != -1 || out[0]) {
			fail_msg("\"%s\": got \"%s\", want no number", cases[i].raw, out);
		}
	}
}

static void test_null_and_missing_plan_fields(void **state)
{
	struct phone_plan empty = { NULL, NULL, NULL, NULL };
	char out[PHONE_E164_LEN];

	(void)state;
	assert_int_equal(phone_normalize(NULL, &il, out), -1);
	assert_int_equal(phone_normalize("+972528812345", &empty, out), 0);
	assert_string_equal(out, "972528812345");
	assert_int_equal(phone_normalize("972528812345", &empty, out), 0);
	assert_string_equal(out, "972528812345");
}

/* The two spellings of one person always give the same digits. */
static void test_pairs_match(void **state)
{
	static const struct {
		const struct phone_plan *plan;
		const char *a, *b;
	} pairs[] = {
		{ &il, "0528812345", "972528812345" },
		{ &hu, "06 1 234 5678", "+36 1 234 5678" },
		{ &ua, "0441234567", "+380441234567" },
		{ &hu, "0036301234567", "06301234567" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		char a[PHONE_E164_LEN], b[PHONE_E164_LEN];

		assert_int_equal(phone_normalize(pairs[i].a, pairs[i].plan, a), 0);
		assert_int_equal(phone_normalize(pairs[i].b, pairs[i].plan, b), 0);
		assert_string_equal(a, b);
	}
}

/* What each outcome is, with the type libphonenumber gives it. */
static void test_parse_verdicts_and_types(void **state)
{
	static const struct {
		const struct phone_plan *plan;
		const char *raw;
		enum phone_verdict verdict;
		enum phone_type type;
	} tc[] = {
		{ &hu, "06 30 123 4567", PHONE_VALID, PHONE_TYPE_MOBILE },
		{ &hu, "06 1 234 5678", PHONE_VALID, PHONE_TYPE_FIXED_LINE },
		{ &hu, "06 80 123 456", PHONE_VALID, PHONE_TYPE_TOLL_FREE },
		{ &il, "0528812345", PHONE_VALID, PHONE_TYPE_MOBILE },
		{ &ua, "0441234567", PHONE_VALID, PHONE_TYPE_FIXED_LINE },
		{ &it, "06 1234 5678", PHONE_VALID, PHONE_TYPE_FIXED_LINE },
		{ &ar, "011 15 2345 6789", PHONE_VALID, PHONE_TYPE_MOBILE },
		{ &us_region, "202-555-0100", PHONE_VALID, PHONE_TYPE_FIXED_LINE_OR_MOBILE },
		{ &us_region, "1-800-555-0199", PHONE_VALID, PHONE_TYPE_TOLL_FREE },
		{ &hu, "anonymous", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, "Restricted", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, "1002", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, "112", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, "", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, NULL, PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &hu, "06 99 123 4567", PHONE_INVALID, PHONE_TYPE_UNKNOWN },
		{ &il, "+999 123 4567", PHONE_INVALID, PHONE_TYPE_UNKNOWN },
		/* A satellite number whose national part is all zeros (found by
		 * fuzzing: the type of its digits once said "not a number"). */
		{ &il, "00881000000000", PHONE_VALID, PHONE_TYPE_MOBILE },
		{ &intl_only, "+881000000000", PHONE_VALID, PHONE_TYPE_MOBILE },
		/* libphonenumber takes +43 1114 for a Vienna line; E.164 under 7
		 * digits is a short code here, as phone_classify says (fuzzing). */
		{ &il, "00431114", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
		{ &intl_only, "+43 1114", PHONE_NOT_PUBLIC, PHONE_TYPE_UNKNOWN },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		struct phone_number n;
		enum phone_verdict v = phone_parse(tc[i].raw, tc[i].plan, &n);

		if (v != tc[i].verdict || n.type != tc[i].type)
			fail_msg("\"%s\": verdict %d type %s, want %d %s", tc[i].raw ? tc[i].raw : "(null)",
				 v, phone_type_name(n.type), tc[i].verdict, phone_type_name(tc[i].type));
		if ((v == PHONE_VALID) != (n.e164[0] != '\0'))
			fail_msg("\"%s\": e164 \"%s\" with verdict %d", tc[i].raw, n.e164, v);
		if (v == PHONE_VALID && phone_type_of(n.e164) != n.type)
			fail_msg("\"%s\": phone_type_of disagrees", tc[i].raw);
	}
}

static void test_format(void **state)
{
	static const struct {
		const char *e164;
		enum phone_style style;
		const char *from, *want;
	} tc[] = {
		{ "36301234567", PHONE_STYLE_INTERNATIONAL, NULL, "+36 30 123 4567" },
		{ "36301234567", PHONE_STYLE_NATIONAL, NULL, "06 30 123 4567" },
		{ "36301234567", PHONE_STYLE_NATIONAL, "HU", "06 30 123 4567" },
		{ "36301234567", PHONE_STYLE_E164, NULL, "+36301234567" },
		{ "972528812345", PHONE_STYLE_INTERNATIONAL, NULL, "+972 52-881-2345" },
		{ "972528812345", PHONE_STYLE_NATIONAL, NULL, "052-881-2345" },
		{ "380441234567", PHONE_STYLE_INTERNATIONAL, NULL, "+380 44 123 4567" },
		{ "390612345678", PHONE_STYLE_INTERNATIONAL, NULL, "+39 06 1234 5678" },
		{ "5491123456789", PHONE_STYLE_INTERNATIONAL, NULL, "+54 9 11 2345-6789" },
		{ "12025550100", PHONE_STYLE_NATIONAL, NULL, "(202) 555-0100" },
		/* A foreign number as dialled from the source's country. */
		{ "442079460958", PHONE_STYLE_NATIONAL, "HU", "00 44 20 7946 0958" },
		{ "442079460958", PHONE_STYLE_NATIONAL, "US", "011 44 20 7946 0958" },
		/* A national part of zeros only is a number too. */
		{ "881000000000", PHONE_STYLE_INTERNATIONAL, NULL, "+881 0 000 00000" },
	};
	char out[PHONE_DISPLAY_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		if (phone_format(tc[i].e164, tc[i].style, tc[i].from, out, sizeof(out)) != 0 ||
		    strcmp(out, tc[i].want) != 0)
			fail_msg("%s style %d: got \"%s\", want \"%s\"", tc[i].e164, tc[i].style, out,
				 tc[i].want);
	}
	/* Not a valid number, or no room: nothing. */
	assert_int_equal(phone_format("3620123456", PHONE_STYLE_INTERNATIONAL, NULL, out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(phone_format("+36301234567", PHONE_STYLE_INTERNATIONAL, NULL, out, sizeof(out)), -1);
	assert_int_equal(phone_format("36301234567", PHONE_STYLE_INTERNATIONAL, NULL, out, 8), -1);
	assert_int_equal(phone_style_parse("national"), PHONE_STYLE_NATIONAL);
	assert_int_equal(phone_style_parse("E164"), -1);
}

/* One thread's answers are kept by region and digits: the same digits in
 * two regions never get each other's answer, however often they come. */
static void test_cache_keeps_regions_apart(void **state)
{
	char out[PHONE_E164_LEN];

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(phone_normalize("06 1234 5678", &it, out), 0);
		assert_string_equal(out, "390612345678");
		assert_int_equal(phone_normalize("06 1234 5678", &hu, out), 0);
		assert_string_equal(out, "3612345678");
		assert_int_equal(phone_normalize("0612345678", &ar, out), -1);
		assert_int_equal(phone_normalize("+390612345678", &ar, out), 0);
		assert_string_equal(out, "390612345678");
	}
}

static void test_regions(void **state)
{
	char r[3];

	(void)state;
	assert_true(phone_region_is_known("HU"));
	assert_false(phone_region_is_known("hu"));
	assert_false(phone_region_is_known("XX"));
	assert_false(phone_region_is_known(""));
	assert_false(phone_region_is_known(NULL));
	assert_int_equal(phone_region_code("AR"), 54);
	assert_string_equal(phone_plan_region(&hu, r), "HU");
	assert_string_equal(phone_plan_region(&us, r), "US");
	assert_string_equal(phone_plan_region(&it, r), "IT");
	assert_string_equal(phone_plan_region(&hu_over_il, r), "HU");
	assert_string_equal(phone_plan_region(&intl_only, r), "");
	assert_string_equal(phone_type_name(PHONE_TYPE_TOLL_FREE), "toll_free");
	assert_string_equal(phone_type_name((enum phone_type)99), "unknown");
}

static void test_classify(void **state)
{
	static const struct {
		const char *raw;
		enum phone_kind kind;
	} kinds[] = {
		{ "1002", PHONE_KIND_EXTENSION },
		{ "101", PHONE_KIND_EXTENSION },
		{ "Rk7pQ2xL", PHONE_KIND_EXTENSION },
		{ "mebliua_olena", PHONE_KIND_EXTENSION },
		{ "sip:1002@pbx.example.hu", PHONE_KIND_EXTENSION },
		{ "0528812345", PHONE_KIND_PUBLIC },
		{ "+36301234567", PHONE_KIND_PUBLIC },
		{ "3614567890", PHONE_KIND_PUBLIC },
		{ "06 1 234 5678", PHONE_KIND_PUBLIC },
		{ "anonymous", PHONE_KIND_NONE },
		{ "Unknown", PHONE_KIND_NONE },
		{ "s", PHONE_KIND_NONE },
		{ "", PHONE_KIND_NONE },
		{ NULL, PHONE_KIND_NONE },
		{ "+123", PHONE_KIND_NONE },
		{ "a b", PHONE_KIND_NONE },
		{ "\"Kovács Éva\" <+36301234567>", PHONE_KIND_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (phone_classify(kinds[i].raw) != kinds[i].kind)
			fail_msg("\"%s\": kind %d, want %d", kinds[i].raw ? kinds[i].raw : "(null)",
				 phone_classify(kinds[i].raw), kinds[i].kind);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_table),
		cmocka_unit_test(test_null_and_missing_plan_fields),
		cmocka_unit_test(test_pairs_match),
		cmocka_unit_test(test_parse_verdicts_and_types),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_cache_keeps_regions_apart),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
