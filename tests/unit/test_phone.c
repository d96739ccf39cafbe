/* Phone numbers: the same person is the same E.164 digits however the PBX
 * wrote the number; extensions and short numbers are never public numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/phone.h"

static const struct phone_plan il = { "972", "0", "00" };
static const struct phone_plan hu = { "36", "06", "00" };
static const struct phone_plan ua = { "380", "0", "00" };
static const struct phone_plan us = { "1", "1", "011" };
static const struct phone_plan intl_only = { "", "", "" };

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
	/* Ukraine. */
	{ &ua, "0441234567", "380441234567" },
	{ &ua, "380441234567", "380441234567" },
	{ &ua, "+380 (44) 123-45-67", "380441234567" },
	{ &ua, "00380441234567", "380441234567" },
	{ &ua, "380671234567", "380671234567" },
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
	struct phone_plan empty = { NULL, NULL, NULL };
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
		cmocka_unit_test(test_classify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
