/* Strict base64: what is accepted, what is refused, and that streaming in
 * pieces of any size gives the same bytes as one go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/b64.h"

static void decodes_to(const char *text, const char *want, size_t want_len)
{
	struct buf out = BUF_INIT;
	struct errbuf e;

	if (b64_decode(text, strlen(text), &out, &e) != 0)
		fail_msg("\"%s\" refused: %s", text, e.msg);
	assert_int_equal(out.len, want_len);
	assert_memory_equal(out.data, want, want_len);
	buf_release(&out);
}

static void refused(const char *text, const char *words)
{
	struct buf out = BUF_INIT;
	struct errbuf e;

	if (b64_decode(text, strlen(text), &out, &e) == 0)
		fail_msg("\"%s\" accepted", text);
	if (!strstr(e.msg, words))
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", text, e.msg, words);
	buf_release(&out);
}

static void test_accepts_what_senders_send(void **state)
{
	(void)state;
	decodes_to("UklGRg==", "RIFF", 4);
	decodes_to("UklGRg", "RIFF", 4);                   /* no padding */
	decodes_to("UklGRiQ=", "RIFF$", 5);
	decodes_to("UklGRiQ", "RIFF$", 5);
	decodes_to("Uk\r\nlG\nRg==\r\n", "RIFF", 4);        /* MIME and libb64 line breaks */
	decodes_to("  UklGRg==\n ", "RIFF", 4);            /* blanks around the text */
	decodes_to("data:audio/wav;base64,UklGRg==", "RIFF", 4);
	decodes_to("DATA:;BASE64,UklGRg==", "RIFF", 4);
	decodes_to("data:audio/x-wav;codecs=1;base64,\nUklG\nRg==", "RIFF", 4);
	decodes_to("dGVzdA==", "test", 4);                 /* starts like "data:" but is not */
	decodes_to("ZGF0YQ==", "data", 4);
	decodes_to("+/+/", "\xfb\xff\xbf", 3);
}

static void test_refuses_everything_else(void **state)
{
	(void)state;
	refused("", "no base64 data");
	refused(" \r\n", "no base64 data");
	refused("UklG*g==", "'*' at byte 4");
	refused("UklG-g==", "URL-safe");
	refused("UklG_g==", "URL-safe");
	refused("Ukl GRg==", "space inside");
	refused("UklGRg==UklG", "after the '=' padding");
	refused("UklGR===", "misplaced '='");
	refused("U===", "misplaced '='");
	refused("=UklG", "misplaced '='");
	refused("UklGRiQ==", "misplaced '='");
	refused("UklGR", "cut short");
	refused("UklG\x01Rg==", "byte 0x01");
	refused("UklG\xc3\xa9", "byte 0xc3");
	refused("data:audio/wav,UklGRg==", ";base64");
	refused("data:audio/wav;base64", "without a comma");
	refused("data:audio wav;base64,UklGRg==", "prefix is malformed");
}

struct collect {
	struct buf out;
};

static int collect(void *ctx, const void *data, size_t len, struct errbuf *e)
{
	(void)e;
	buf_add(&((struct collect *)ctx)->out, data, len);
	return 0;
}

static void test_streaming_in_pieces_equals_one_go(void **state)
{
	unsigned char raw[10007];
	struct buf text = BUF_INIT, lines = BUF_INIT, once = BUF_INIT;
	struct errbuf e;

	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)rand();
	b64_encode(raw, sizeof(raw), &text);
	buf_adds(&lines, "data:audio/wav;base64,");
	for (size_t i = 0; i < text.len; i += 76) {
		buf_add(&lines, text.data + i, text.len - i < 76 ? text.len - i : 76);
		buf_adds(&lines, "\r\n");
	}
	assert_int_equal(b64_decode(lines.data, lines.len, &once, &e), 0);
	assert_int_equal(once.len, sizeof(raw));
	assert_memory_equal(once.data, raw, sizeof(raw));
	for (size_t piece = 1; piece < 40; piece += 3) {
		struct collect c = { BUF_INIT };
		struct b64_stream s;

		b64_stream_init(&s, collect, &c);
		for (size_t i = 0; i < lines.len; i += piece)
			assert_int_equal(b64_stream_feed(&s, lines.data + i,
							 lines.len - i < piece ? lines.len - i : piece, &e), 0);
		assert_int_equal(b64_stream_finish(&s, &e), 0);
		assert_int_equal(c.out.len, sizeof(raw));
		assert_memory_equal(c.out.data, raw, sizeof(raw));
		buf_release(&c.out);
	}
	buf_release(&text);
	buf_release(&lines);
	buf_release(&once);
}

static int refuse_sink(void *ctx, const void *data, size_t len, struct errbuf *e)
{
	(void)ctx, (void)data, (void)len;
	return err_set(e, "disk full");
}

static void test_sink_failure_stops_the_stream(void **state)
{
	struct buf text = BUF_INIT;
	char raw[8000] = { 0 };
	struct b64_stream s;
	struct errbuf e;

	(void)state;
	b64_encode(raw, sizeof(raw), &text);
	b64_stream_init(&s, refuse_sink, NULL);
	assert_int_equal(b64_stream_feed(&s, text.data, text.len, &e), -1);
	assert_string_equal(e.msg, "disk full");
	buf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_what_senders_send),
		cmocka_unit_test(test_refuses_everything_else),
		cmocka_unit_test(test_streaming_in_pieces_equals_one_go),
		cmocka_unit_test(test_sink_failure_stops_the_stream),
	};

	return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
