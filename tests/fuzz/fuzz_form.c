/* Form bodies and query strings: form_parse, form_unescape, form_is_utf8. */
// fuzz-seeds: tests/fixtures/generic/*.form tests/fixtures/vendors/*.form tests/fixtures/vendors/*.query
#include "fuzz.h"
#include "ringlog/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct errbuf e;
	json_object *o = form_parse(s, size, &e);
	size_t n;

	if (o) {
		/* Every value decoded is text PostgreSQL can keep. */
		json_object_object_foreach(o, key, val) {
			FUZZ_ASSERT(form_is_utf8(key, strlen(key)));
			(void)val;
		}
		json_object_put(o);
	}
	for (int plus = 0; plus <= 1; plus++) {
		char *u = form_unescape(s, size, plus, &n);

		if (u)
			FUZZ_ASSERT(n <= size && u[n] == '\0');
		free(u);
	}
	(void)form_is_utf8(s, size);
	return 0;
}
