/* libFuzzer: AMI events (text/plain Key: Value pushes). Whatever parses is
 * an object whose values are strings or arrays of strings. */
// fuzz-seeds: tests/fixtures/vendors/*.txt
#include "fuzz.h"
#include "ringlog/ami.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errbuf e;
	json_object *o = ami_parse((const char *)data, size, &e);

	if (o) {
		FUZZ_ASSERT(json_object_is_type(o, json_type_object));
		json_object_object_foreach(o, key, val) {
			FUZZ_ASSERT(*key);
			FUZZ_ASSERT(json_object_is_type(val, json_type_string) ||
				    json_object_is_type(val, json_type_array));
		}
		/* Printable again as JSON (valid UTF-8 throughout). */
		FUZZ_ASSERT(json_object_to_json_string(o) != NULL);
		json_object_put(o);
	}
	return 0;
}
