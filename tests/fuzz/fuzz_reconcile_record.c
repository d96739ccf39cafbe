/* libFuzzer: a Voicenter Call Log answer as reconciliation reads it: the
 * JSON parsed, each CDR_LIST record (keys in any case, values of any type)
 * turned into the push it stands for (reconcile_voicenter_body) and through
 * push_prepare with the voicenter profile, as a pull stores it. */
// fuzz-seeds: tests/fixtures/vendors/*.json
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ringlog/profile.h"
#include "ringlog/push.h"
#include "ringlog/reconcile.h"

static void one(json_object *rec)
{
	static const struct push_options opts = { .blobs = NULL, .dead_letters_max = -1 };
	json_object *body = reconcile_voicenter_body(rec);
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	struct source src = { 0 };
	struct push_result r;
	struct push p = { 0 };

	src.id = 1;
	src.name = (char *)"fuzz";
	src.vendor = (char *)"voicenter";
	src.profile = profile_find("voicenter");
	src.time_zone = (char *)"Asia/Jerusalem";
	src.phone = (struct phone_plan){ "972", "0", "00", NULL };
	p.source = "fuzz";
	p.method = "POST";
	p.content_type = "application/json";
	p.query = "";
	p.body = text;
	p.body_len = strlen(text);
	p.received_us = 1750065605000000LL;
	p.origin = "reconcile";
	push_ready_free(push_prepare(&src, &p, &opts, &r));
	json_object_put(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	json_object *doc, *list;

	memcpy(text, data, size);
	text[size] = '\0';
	doc = json_tokener_parse(text);
	free(text);
	if (json_object_object_get_ex(doc, "CDR_LIST", &list) && json_object_is_type(list, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(list) && i < 64; i++)
			one(json_object_array_get_idx(list, i));
	} else {
		one(doc);
	}
	json_object_put(doc);
	return 0;
}
