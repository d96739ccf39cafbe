/* libFuzzer: the custom-mapping compiler. Any JSON is compiled alone and
 * over a built-in profile; what compiles maps two sample payloads and is
 * freed. */
// fuzz-seeds: tests/fixtures/custom/*-mapping.json
#include <stdlib.h>

#include "fuzz.h"
#include "ringlog/profile.h"

static const char *const samples[] = {
	"{\"call\":{\"id\":\"x\",\"direction\":\"in\",\"start\":\"2025-06-16 11:20:05\","
	"\"caller\":{\"number\":\"06 30 123 4567\"}},\"a\":[{\"b\":\"1\"}],\"cdr\":\"{\\\"v\\\":{\\\"k\\\":\\\"%41\\\"}}\"}",
	"{\"_csv\":[\"1\",\"2\",\"\"],\"uniqueid\":\"u\",\"calldate\":\"2025-06-16 11:20:05\",\"call_type\":\"in\"}",
};

static void try_profile(struct profile *p)
{
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		json_object *payload = json_tokener_parse(samples[i]);
		struct cdr_problem prob;
		struct cdr c;

		cdr_init(&c);
		if (profile_prepare(p, &payload, &prob) == 0 && profile_map(p, payload, &c, &prob) == 0)
			(void)!cdr_finish(&c, &prob);
		cdr_release(&c);
		json_object_put(payload);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const bases[] = { NULL, "ringostat", "freeswitch" };
	json_tokener *tok = json_tokener_new_ex(32);
	json_object *m = json_tokener_parse_ex(tok, (const char *)data, (int)(size > 65536 ? 65536 : size));
	struct errbuf e;

	json_tokener_free(tok);
	for (size_t i = 0; m && i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct profile *p = profile_compile(m, bases[i], &e);

		if (p)
			try_profile(p);
		profile_free(p);
	}
	json_object_put(m);
	return 0;
}
