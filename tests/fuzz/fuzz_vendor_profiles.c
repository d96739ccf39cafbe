/* libFuzzer: any JSON object through every built-in profile's preparation
 * and mapping (paths, converters, words, unwrapping, percent-decoding,
 * JSON held in text, CSV columns), then cdr_finish. */
// fuzz-seeds: tests/fixtures/vendors/*.json tests/fixtures/custom/*.json
#include <stdlib.h>

#include "fuzz.h"
#include "ringlog/profile.h"

static const char *const vendors[] = { "generic", "voicenter", "ringostat", "freeswitch", "asterisk" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_tokener *tok = json_tokener_new_ex(64);
	json_object *root = json_tokener_parse_ex(tok, (const char *)data, (int)(size > 1 << 20 ? 1 << 20 : size));

	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return 0;
	}
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		const struct profile *p = profile_find(vendors[i]);
		json_object *payload = json_object_get(root);
		/* Preparation may replace the payload: work on a deep copy. */
		json_object *copy = NULL;
		struct cdr_problem prob;
		struct cdr c;

		if (json_object_deep_copy(payload, &copy, NULL) != 0) {
			json_object_put(payload);
			continue;
		}
		json_object_put(payload);
		cdr_init(&c);
		if (profile_prepare(p, &copy, &prob) == 0 && profile_map(p, copy, &c, &prob) == 0)
			(void)!cdr_finish(&c, &prob);
		cdr_release(&c);
		json_object_put(copy);
	}
	json_object_put(root);
	return 0;
}
