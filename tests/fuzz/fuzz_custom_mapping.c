/* libFuzzer: the custom-mapping compiler. Any JSON is compiled alone and
 * over a built-in profile; what compiles maps two sample payloads, fills
 * its "pull" templates (URL, body, times) as a pull would, and is freed. */
// fuzz-seeds: tests/fixtures/custom/*-mapping.json
#include <stdlib.h>

#include "fuzz.h"
#include "ringlog/profile.h"
#include "ringlog/pull.h"

static const char *const samples[] = {
	"{\"call\":{\"id\":\"x\",\"direction\":\"in\",\"start\":\"2025-06-16 11:20:05\","
	"\"caller\":{\"number\":\"06 30 123 4567\"}},\"a\":[{\"b\":\"1\"}],\"cdr\":\"{\\\"v\\\":{\\\"k\\\":\\\"%41\\\"}}\"}",
	"{\"_csv\":[\"1\",\"2\",\"\"],\"uniqueid\":\"u\",\"calldate\":\"2025-06-16 11:20:05\",\"call_type\":\"in\"}",
};

/* The pull's templates filled with hostile values, as lib/reconcile.c does. */
static void try_pull(const struct pull *pl)
{
	struct pull_vars v = { "https://pbx.example/calls?x=1", "1750032000", "{to}%&\"\\", "1",
			       "c\"ur{sor}", "500", "s\"e{cret}" };
	char from[48], *url, *body, *next = NULL;

	pull_time_text(pl, 1750032000, 1750039200, from, sizeof(from));
	pull_time_text(pl, -1, -7200, from, sizeof(from));
	url = pull_url_expand(pl->url, &v);
	free(pull_body_expand(pl->body ? pl->body : "{}", &v, pl->time));
	body = pl->auth_value ? pull_text_expand(pl->auth_value, &v) : NULL;
	if (pull_same_origin(url, pl->next_path ? pl->next_path : "/next?page=2", &next))
		free(next);
	free(body);
	free(url);
}

static void try_profile(struct profile *p)
{
	if (p->pull)
		try_pull(p->pull);
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
