/* libFuzzer: one push through the whole decode-and-map pipeline without the
 * database: push_decode (JSON, form, text/csv, query string), the vendor's
 * profile_prepare and profile_map, cdr_finish, phone numbers, the upsert's
 * parameters. Input: byte 0 picks the vendor, byte 1 the method and content
 * type, the rest is the body (or the query string of a GET). */
// fuzz-seeds: tests/fixtures/vendors/*.json tests/fixtures/vendors/*.form tests/fixtures/vendors/*.csv tests/fixtures/custom/vipex-push.json
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ringlog/profile.h"
#include "ringlog/push.h"

static const char *const vendors[] = { "generic", "voicenter", "ringostat", "freeswitch", "asterisk" };
static const char *const types[] = { "application/json", "application/x-www-form-urlencoded",
				     "application/x-www-form-base64-encoded", "text/csv", NULL,
				     "text/plain" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct push_options opts = { .blobs = NULL, .dead_letters_max = -1 }; /* inline audio refused */
	struct source src = { 0 };
	struct push_result r;
	struct push p = { 0 };
	struct push_ready *ready;
	char *body;

	if (size < 2)
		return 0;
	src.id = 1;
	src.name = (char *)"fuzz";
	src.vendor = (char *)vendors[data[0] % 5];
	src.profile = profile_find(src.vendor);
	src.time_zone = (char *)"Europe/Budapest";
	src.phone = (struct phone_plan){ "36", "06", "00", NULL };
	body = malloc(size - 2 + 1);
	memcpy(body, data + 2, size - 2);
	body[size - 2] = '\0';
	p.source = "fuzz";
	p.method = data[1] & 0x80 ? "GET" : "POST";
	p.content_type = types[(data[1] & 0x7f) % 6];
	p.query = data[1] & 0x80 ? body : "uuid=abc";
	p.body = data[1] & 0x80 ? NULL : body;
	p.body_len = data[1] & 0x80 ? 0 : size - 2;
	p.received_us = 1750065605000000LL;
	ready = push_prepare(&src, &p, &opts, &r);
	push_ready_free(ready);
	free(body);
	return 0;
}
