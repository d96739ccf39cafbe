/* push_decode: a push's body (or query string) by method and content type.
 * The input is the body as sent; its last byte picks the method and the
 * Content-Type, so fixture files are used as they are. */
// fuzz-seeds: tests/fixtures/generic/* tests/fixtures/vendors/*
#include "fuzz.h"
#include "ringlog/push.h"

static const char *const types[] = {
	NULL,
	"application/json",
	"application/json; charset=utf-8",
	"application/x-www-form-urlencoded",
	"text/plain",
	"application/vnd.pbx+json",
	"multipart/form-data; boundary=x",
	"  APPLICATION/X-WWW-FORM-URLENCODED;charset=UTF-8",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel = size ? data[size - 1] : 0;
	char *text = fuzz_cstring(data, size);
	struct push p = {
		.source = "fuzz",
		.method = sel & 0x80 ? "GET" : "POST",
		.content_type = types[sel % RL_ARRAY_LEN(types)],
		.query = sel & 0x40 ? "uuid=abc&a=%41&b" : "",
		.body = (const char *)data,
		.body_len = size,
	};
	struct push_result r;
	json_object *o;

	if (sel & 0x80) { /* a GET carries its payload in the query string */
		p.query = text;
		p.body_len = 0;
	}
	memset(&r, 0, sizeof(r));
	o = push_decode(&p, &r);
	FUZZ_ASSERT(o ? json_object_is_type(o, json_type_object)
		      : r.outcome == PUSH_REJECTED && r.status >= 400 && r.error);
	json_object_put(o);
	free(text);
	return 0;
}
