/* The body stripper against json-c: it may only call a body malformed when
 * json-c (strict) refuses it too, and what it copies out of a body json-c
 * accepts must still be accepted. Forms: no crash, sink pieces add up. */
// fuzz-seeds: tests/fixtures/generic/*.json tests/fixtures/vendors/*.json
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/strip.h"

static int on_begin(void *ctx, size_t which, struct errbuf *e)
{
	(void)e;
	if (which > 2)
		abort();
	++*(int *)ctx;
	return 0;
}

static int on_data(void *ctx, const char *s, size_t n, struct errbuf *e)
{
	(void)ctx, (void)e;
	if (n && (s[0] == 0x7f && s[n - 1] == 0x7f) && n > (1u << 30))
		abort(); /* touch the bytes */
	return 0;
}

static int on_end(void *ctx, struct errbuf *e)
{
	(void)ctx, (void)e;
	return 0;
}

static bool json_ok(const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new_ex(1000);
	json_object *o;
	bool ok;
	size_t end;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	ok = o && json_tokener_get_error(tok) == json_tokener_success;
	end = json_tokener_get_parse_end(tok);
	while (ok && end < len && strchr(" \t\r\n", s[end]) && s[end])
		end++;
	ok = ok && end == len;
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = { "recording_base64", "a.b[1]", "x[0][2].y" };
	int begins = 0;
	struct strip_sink sink = { &begins, on_begin, on_data, on_end };
	struct buf out = BUF_INIT;
	enum strip_status st;
	struct errbuf e;
	const char *body;

	if (size < 1 || size > 100000)
		return 0;
	body = (const char *)data + 1;
	size--;
	if (data[0] & 1) {
		st = strip_form(body, size, paths, 3, &sink, &out, &e);
	} else {
		st = strip_json(body, size, paths, 3, &sink, &out, &e);
		if (st == STRIP_MALFORMED && json_ok(body, size))
			abort(); /* refused what json-c takes */
		if (st == STRIP_OK && json_ok(body, size) && !json_ok(out.data, out.len))
			abort(); /* broke a good body */
	}
	if (st == STRIP_UNTOUCHED && (out.len || begins))
		abort();
	buf_release(&out);
	return 0;
}
