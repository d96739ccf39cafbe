/* The type of a recording comes from its first bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ringlog/mime.h"

static const char *sniff_file(const char *name)
{
	char path[256], data[MIME_SNIFF_LEN];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "tests/fixtures/audio/%s", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot read %s (run tests/fixtures/audio/make.py)", path);
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return mime_sniff(data, n);
}

static void test_fixtures(void **state)
{
	(void)state;
	assert_string_equal(sniff_file("tone.wav"), "audio/wav");
	assert_string_equal(sniff_file("tone.mp3"), "audio/mpeg");
	assert_string_equal(sniff_file("frames.mp3"), "audio/mpeg");
	assert_string_equal(sniff_file("tone.opus.ogg"), "audio/ogg");
	assert_string_equal(sniff_file("tone.flac"), "audio/flac");
	assert_string_equal(sniff_file("tone.m4a"), "audio/mp4");
	assert_null(sniff_file("error-page.html"));
}

static void test_small_and_lookalike_inputs(void **state)
{
	(void)state;
	assert_null(mime_sniff("", 0));
	assert_null(mime_sniff("RIFF", 4));
	assert_null(mime_sniff("RIFF\0\0\0\0AVI ", 12));           /* RIFF, not WAVE */
	assert_null(mime_sniff("\xff\xfb\xf0\x00", 4));            /* MPEG, bitrate index 15 */
	assert_null(mime_sniff("\xff\xe9\x90\x00", 4));            /* MPEG, reserved version */
	assert_null(mime_sniff("{\"error\":\"bad id\"}", 18));
	assert_string_equal(mime_sniff("#!AMR\n", 6), "audio/amr");
	assert_string_equal(mime_sniff("\xff\xf1\x50\x80\x00\x1f\xfc", 7), "audio/aac");
	assert_string_equal(mime_extension("audio/mpeg"), "mp3");
	assert_string_equal(mime_extension(MIME_UNKNOWN), "bin");
	assert_true(mime_is_audio("audio/flac"));
	assert_false(mime_is_audio(MIME_UNKNOWN));
	assert_false(mime_is_audio(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_small_and_lookalike_inputs),
	};

	return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
