/* The S3 backend's pieces that need no server: its configuration is
 * checked at open, the credentials file, listing pages and error bodies
 * are read right, and raw telephone audio is told by its type or name.
 * (The requests themselves are tested against s3rver: test_recordings_s3.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/blob_internal.h"
#include "fixture.h"
#include "ringlog/audio.h"

#define KEY1 "9269ff79b842d8d07e02ff63ace58a7c9be7d81f3c460cec2c1fc2dc41f297b2"
#define KEY2 "2df6715cd2dea5d49ccc9e5cd2d401d0d3fc08ba8ed74c0ec8b656f47fa34a68"

static void test_credentials_file(void **state)
{
	size_t len;
	char *text = fixture_text("s3/credentials", &len), *id, *secret;
	struct errbuf e;

	(void)state;
	assert_int_equal(blob_s3_parse_credentials(text, len, &id, &secret, &e), 0);
	assert_string_equal(id, "AKIAIOSFODNN7EXAMPLE");
	assert_string_equal(secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	free(id);
	free(secret);
	free(text);
	assert_int_equal(blob_s3_parse_credentials("aws_access_key_id = x\n", 22, &id, &secret, &e), -1);
	assert_null(id);
	assert_non_null(strstr(e.msg, "aws_secret_access_key"));
	/* a ':' would split libcurl's "ID:SECRET" */
	assert_int_equal(blob_s3_parse_credentials("aws_access_key_id=a:b\naws_secret_access_key=c\n", 46,
						   &id, &secret, &e), -1);
}

struct seen {
	char keys[4][BLOB_KEY_LEN + 1];
	uint64_t sizes[4];
	int64_t mtimes[4];
	int n;
};

static int collect(void *ctx, const struct blob_info *info)
{
	struct seen *s = ctx;

	memcpy(s->keys[s->n], info->key, sizeof(s->keys[0]));
	s->sizes[s->n] = info->size;
	s->mtimes[s->n] = info->mtime;
	s->n++;
	return 0;
}

static void test_listing_page(void **state)
{
	size_t len;
	char *xml = fixture_text("s3/list-page.xml", &len), *next = NULL;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(blob_s3_list_page(xml, len, strlen("rec/"), collect, &s, &next), 0);
	assert_int_equal(s.n, 2); /* "rec/not-a-blob" is no blob */
	assert_string_equal(s.keys[0], KEY1);
	assert_int_equal(s.sizes[0], 10);
	assert_int_equal(s.mtimes[0], 1796226695); /* 2026-12-02T15:51:35Z */
	assert_string_equal(s.keys[1], KEY2);
	assert_int_equal(s.sizes[1], 300000);
	assert_non_null(next);
	assert_string_equal(next, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	free(next);
	free(xml);
}

static void test_xml_find(void **state)
{
	static const char err[] = "<Error><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error>";
	const char *v;
	size_t n;
	long end;

	(void)state;
	end = blob_s3_xml_find(err, strlen(err), "Code", 0, &v, &n);
	assert_true(end > 0);
	assert_int_equal(n, strlen("SignatureDoesNotMatch"));
	assert_memory_equal(v, "SignatureDoesNotMatch", n);
	assert_int_equal(blob_s3_xml_find(err, strlen(err), "Cod", 0, &v, &n), -1);
	assert_int_equal(blob_s3_xml_find("<Code>unclosed", 14, "Code", 0, &v, &n), -1);
}

static void test_s3_configuration_is_checked_at_open(void **state)
{
	struct blob_config c = { .store = (char *)"s3", .s3_endpoint = (char *)"http://127.0.0.1:9",
				 .s3_region = (char *)"us-east-1", .s3_bucket = (char *)"recordings",
				 .s3_credentials_file = (char *)"tests/fixtures/s3/credentials" };
	struct blob_store *s;
	struct errbuf e;

	(void)state;
	s = blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e);
	assert_non_null(s);
	assert_true(blob_store_is_remote(s));
	assert_non_null(blob_store_fallback(s));
	blob_store_close(s);
	c.s3_endpoint = (char *)"http://host/path";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
	c.s3_endpoint = (char *)"ftp://host";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
	c.s3_endpoint = (char *)"https://s3.amazonaws.com";
	c.s3_bucket = (char *)"Bad_Bucket";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
	c.s3_bucket = (char *)"recordings";
	c.s3_addressing = (char *)"sideways";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
	c.s3_addressing = (char *)"virtual";
	c.s3_credentials_file = (char *)"/nonexistent";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
	assert_non_null(strstr(e.msg, "/nonexistent"));
	c.store = (char *)"tape";
	assert_null(blob_store_open_config("/tmp/ringlog-s3-unit", &c, &e));
}

static void test_raw_audio_is_told_by_type_or_name(void **state)
{
	(void)state;
	assert_string_equal(audio_raw_mime("audio/basic", NULL), "audio/pcmu");
	assert_string_equal(audio_raw_mime("application/octet-stream", "http://pbx/rec/1234.ulaw"), "audio/pcmu");
	assert_string_equal(audio_raw_mime(NULL, "http://pbx/rec/1234.alaw?token=x"), "audio/pcma");
	assert_string_equal(audio_raw_mime("audio/x-gsm", NULL), "audio/gsm");
	assert_string_equal(audio_raw_mime(NULL, "https://pbx/rec/a.GSM"), "audio/gsm");
	assert_null(audio_raw_mime("text/html", "http://pbx/rec/1234"));
	assert_null(audio_raw_mime(NULL, "http://pbx/ulaw/1234.wav"));
}

static void test_what_streams_as_it_comes(void **state)
{
	/* "RIFF" size "WAVE" "fmt " 16, then the format tag */
	unsigned char wav[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0";
	static const unsigned char mp3[] = { 'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0 };

	(void)state;
	assert_true(audio_plays_as_is(wav, sizeof(wav), "audio/wav", AUDIO_STORE_ORIGINAL));
	assert_false(audio_plays_as_is(wav, sizeof(wav), "audio/wav", AUDIO_STORE_MP3));
	wav[20] = 0x31; /* GSM 6.10 */
	assert_false(audio_plays_as_is(wav, sizeof(wav), "audio/wav", AUDIO_STORE_ORIGINAL));
	wav[20] = 0x07; /* µ-law */
	assert_false(audio_plays_as_is(wav, sizeof(wav), "audio/wav", AUDIO_STORE_ORIGINAL));
	assert_true(audio_plays_as_is(mp3, sizeof(mp3), "audio/mpeg", AUDIO_STORE_MP3));
	assert_false(audio_plays_as_is(mp3, sizeof(mp3), "audio/mpeg", AUDIO_STORE_OPUS));
	assert_false(audio_plays_as_is("\xff\x7f\xfe", 3, "audio/pcmu", AUDIO_STORE_ORIGINAL));
	assert_true(audio_plays_as_is("<html>", 6, "text/html", AUDIO_STORE_ORIGINAL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials_file),
		cmocka_unit_test(test_listing_page),
		cmocka_unit_test(test_xml_find),
		cmocka_unit_test(test_s3_configuration_is_checked_at_open),
		cmocka_unit_test(test_raw_audio_is_told_by_type_or_name),
		cmocka_unit_test(test_what_streams_as_it_comes),
	};

	return cmocka_run_group_tests_name("blob_s3", tests, NULL, NULL);
}
