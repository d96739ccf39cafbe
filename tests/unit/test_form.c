/* Form bodies and query strings as PBXs write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ringlog/form.h"

static const char *get(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static void test_plus_and_percent20_are_spaces(void **state)
{
	const char *s = "name=Kov%C3%A1cs+%C3%89va&alt=Kov%C3%A1cs%20%C3%89va&plus=%2B36";
	json_object *o = form_parse(s, strlen(s), NULL);

	(void)state;
	assert_non_null(o);
	assert_string_equal(get(o, "name"), "Kovács Éva");
	assert_string_equal(get(o, "alt"), "Kovács Éva");
	assert_string_equal(get(o, "plus"), "+36");
	json_object_put(o);
}

static void test_empty_values_and_pairs(void **state)
{
	const char *s = "a=&&b&c=1=2&";
	json_object *o = form_parse(s, strlen(s), NULL);

	(void)state;
	assert_non_null(o);
	assert_string_equal(get(o, "a"), "");
	assert_string_equal(get(o, "b"), "");
	assert_string_equal(get(o, "c"), "1=2");
	assert_int_equal(json_object_object_length(o), 3);
	json_object_put(o);
}

static void test_repeated_key_becomes_array(void **state)
{
	const char *s = "tag=a&tag=b&tag=c";
	json_object *o = form_parse(s, strlen(s), NULL), *arr;

	(void)state;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "tag", &arr));
	assert_true(json_object_is_type(arr, json_type_array));
	assert_int_equal(json_object_array_length(arr), 3);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(arr, 2)), "c");
	json_object_put(o);
}

static void test_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"a=%zz", "a=%4", "a=%", "=value", "a=%00", "a=%C3", "a=%ED%A0%80", "a=%FF",
	};
	struct errbuf e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *o = form_parse(bad[i], strlen(bad[i]), &e);

		if (o) {
			json_object_put(o);
			fail_msg("accepted \"%s\"", bad[i]);
		}
		assert_true(strlen(e.msg) > 0);
	}
}

static void test_double_encoded_values_stay_encoded(void **state)
{
	/* FreeSWITCH encode-values: the form layer decodes once; the profile
	 * decides to decode once more. */
	const char *s = "v=%252B36301234567";
	json_object *o = form_parse(s, strlen(s), NULL);

	(void)state;
	assert_string_equal(get(o, "v"), "%2B36301234567");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plus_and_percent20_are_spaces),
		cmocka_unit_test(test_empty_values_and_pairs),
		cmocka_unit_test(test_repeated_key_becomes_array),
		cmocka_unit_test(test_rejects_malformed),
		cmocka_unit_test(test_double_encoded_values_stay_encoded),
	};

	return cmocka_run_group_tests_name("form", tests, NULL, NULL);
}
