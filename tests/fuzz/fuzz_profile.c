/* Vendor mapping: a JSON (or form) payload through profile_map and
 * cdr_finish with every built-in profile. Profiles added to lib/profiles.c
 * are fuzzed once their name is in the list below. */
// fuzz-seeds: tests/fixtures/generic/* tests/fixtures/vendors/*.json tests/fixtures/vendors/*.form
#include "fuzz.h"
#include "ringlog/form.h"
#include "ringlog/profile.h"

static const char *const names[] = { "generic", "voicenter", "vipex", "ringostat",
				     "freeswitch", "asterisk" };

static json_object *payload(const uint8_t *data, size_t size)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);

	json_tokener_free(tok);
	if (o && json_object_is_type(o, json_type_object))
		return o;
	json_object_put(o);
	return form_parse((const char *)data, size, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *o = payload(data, size);

	if (!o)
		return 0;
	for (size_t i = 0; i < RL_ARRAY_LEN(names); i++) {
		const struct profile *p = profile_find(names[i]);
		struct cdr_problem prob;
		struct cdr c;

		if (!p)
			continue;
		cdr_init(&c);
		if (profile_map(p, o, &c, &prob) == 0 && cdr_finish(&c, &prob) == 0) {
			FUZZ_ASSERT(c.call_id && c.direction != CDR_DIRECTION_UNSET && c.started_at.set);
			FUZZ_ASSERT(cdr_disposition_name(c.disposition) != NULL);
		}
		cdr_release(&c);
	}
	json_object_put(o);
	return 0;
}
