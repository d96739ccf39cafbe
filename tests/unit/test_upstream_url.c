/* Which URL a recording is fetched from, and where credentials may go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/upstream.h"

static char *hosts[] = { (char *)"rec.pbx.example", (char *)"*.cdn.example", NULL };
static char *no_hosts[] = { NULL };

static struct source vipex(void)
{
	struct source s = { 0 };

	s.name = (char *)"vipex";
	s.fetch_url_template = (char *)"https://api.pbx.example/rec?id={ref}&user={user}&pass={secret}";
	s.fetch_auth = (char *)"query";
	s.fetch_user = (char *)"crm user";
	s.fetch_secret = (char *)"p&ss=1";
	s.fetch_allow_hosts = hosts;
	return s;
}

static void url_is(const struct source *s, const char *ref, const char *url, const char *want)
{
	enum upstream_error err = UPSTREAM_OK;
	struct errbuf e;
	char *got = upstream_url(s, ref, url, &err, &e);

	if (!got)
		fail_msg("no URL: %s", e.msg);
	if (strcmp(got, want) != 0)
		fail_msg("got %s\nwant %s", got, want);
	free(got);
}

static void refused(const struct source *s, const char *ref, const char *url,
		    enum upstream_error want)
{
	enum upstream_error err = UPSTREAM_OK;
	struct errbuf e;
	char *got = upstream_url(s, ref, url, &err, &e);

	if (got)
		fail_msg("accepted: %s", got);
	assert_int_equal(err, want);
}

static void test_template_escapes_the_reference_and_credentials(void **state)
{
	struct source s = vipex();

	(void)state;
	url_is(&s, "a b/c?d&e=%", NULL,
	       "https://api.pbx.example/rec?id=a%20b%2Fc%3Fd%26e%3D%25&user=crm%20user&pass=p%26ss%3D1");
	/* the template wins over a pushed URL when there is a reference */
	url_is(&s, "r1", "https://rec.pbx.example/x.mp3",
	       "https://api.pbx.example/rec?id=r1&user=crm%20user&pass=p%26ss%3D1");
}

static void test_query_credentials_are_appended_without_placeholders(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_url_template = (char *)"https://api.pbx.example/rec/{ref}.mp3";
	url_is(&s, "42", NULL, "https://api.pbx.example/rec/42.mp3?user=crm%20user&key=p%26ss%3D1");
	s.fetch_header = (char *)"apikey";
	s.fetch_user = NULL;
	url_is(&s, "42", NULL, "https://api.pbx.example/rec/42.mp3?apikey=p%26ss%3D1");
	/* a pushed URL on another host gets nothing */
	url_is(&s, NULL, "https://rec.pbx.example/x.mp3?a=1", "https://rec.pbx.example/x.mp3?a=1");
	/* one on the template's origin gets them */
	url_is(&s, NULL, "https://api.pbx.example/x.mp3?a=1",
	       "https://api.pbx.example/x.mp3?a=1&apikey=p%26ss%3D1");
}

static void test_pushed_urls_need_an_allowed_host(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_auth = (char *)"none";
	url_is(&s, NULL, "https://rec.pbx.example/x.mp3", "https://rec.pbx.example/x.mp3");
	url_is(&s, NULL, "http://REC.pbx.example:8080/x.mp3", "http://REC.pbx.example:8080/x.mp3");
	url_is(&s, NULL, "https://eu.cdn.example/x.mp3", "https://eu.cdn.example/x.mp3");
	url_is(&s, NULL, "https://api.pbx.example/x.mp3", "https://api.pbx.example/x.mp3");
	refused(&s, NULL, "https://cdn.example/x.mp3", UPSTREAM_NOT_ALLOWED);     /* apex of a wildcard */
	refused(&s, NULL, "https://rec.pbx.example.evil/x", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "https://evil.example/rec.pbx.example", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "https://rec.pbx.example@evil.example/", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "http://169.254.169.254/latest/meta-data", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "file:///etc/passwd", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "ftp://rec.pbx.example/x", UPSTREAM_NOT_ALLOWED);
	refused(&s, NULL, "not a url", UPSTREAM_NOT_ALLOWED);
	s.fetch_url_template = NULL;
	refused(&s, "r1", NULL, UPSTREAM_NOT_CONFIGURED);
	refused(&s, NULL, NULL, UPSTREAM_NOT_CONFIGURED);
}

static void test_credentials_stay_with_their_origin(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_auth = (char *)"basic";
	assert_true(upstream_url_gets_credentials(&s, "https://api.pbx.example/other"));
	assert_false(upstream_url_gets_credentials(&s, "http://api.pbx.example/rec"));      /* scheme */
	assert_false(upstream_url_gets_credentials(&s, "https://api.pbx.example:8443/rec")); /* port */
	assert_false(upstream_url_gets_credentials(&s, "https://rec.pbx.example/x"));       /* allowed, not the origin */
	s.fetch_url_template = NULL; /* no template: the allow-listed hosts are the PBX's */
	assert_true(upstream_url_gets_credentials(&s, "https://rec.pbx.example/x"));
	assert_false(upstream_url_gets_credentials(&s, "https://other.example/x"));
	s.fetch_auth = (char *)"none";
	assert_false(upstream_url_gets_credentials(&s, "https://rec.pbx.example/x"));
	s.fetch_allow_hosts = no_hosts;
	assert_false(upstream_url_allowed(&s, "https://rec.pbx.example/x"));
	assert_true(upstream_url_same_origin("https://a.example/x", "https://A.example:443/y"));
	assert_false(upstream_url_same_origin("https://a.example/x", "http://a.example/x"));
}

static void test_display_hides_the_query(void **state)
{
	char out[200];

	(void)state;
	upstream_url_display("https://u:p@api.pbx.example:8443/rec?pass=secret#x", out, sizeof(out));
	assert_string_equal(out, "https://api.pbx.example:8443/rec");
	upstream_url_display("::", out, sizeof(out));
	assert_string_equal(out, "(unparsable URL)");
}

static void test_error_codes(void **state)
{
	(void)state;
	assert_string_equal(upstream_error_code(UPSTREAM_AUTH_FAILED), "upstream_auth_failed");
	assert_int_equal(upstream_error_from_code("upstream_rejected_ref"), UPSTREAM_REJECTED_REF);
	assert_int_equal(upstream_error_from_code("nonsense"), UPSTREAM_ERROR);
	assert_int_equal(upstream_error_status(UPSTREAM_TIMEOUT), 504);
	assert_int_equal(upstream_error_status(UPSTREAM_AUTH_FAILED), 502);
	assert_true(upstream_error_is_final(UPSTREAM_NOT_ALLOWED));
	assert_false(upstream_error_is_final(UPSTREAM_TIMEOUT));
}

/* A wildcard covers subdomains only: not a host that merely ends alike. */
static void test_a_wildcard_is_a_dot_boundary(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_auth = (char *)"none";
	assert_true(upstream_url_allowed(&s, "https://a.cdn.example/x"));
	assert_true(upstream_url_allowed(&s, "https://a.b.cdn.example/x"));
	assert_false(upstream_url_allowed(&s, "https://evilcdn.example/x"));
	assert_false(upstream_url_allowed(&s, "https://xcdn.example/x"));
	assert_false(upstream_url_allowed(&s, "https://cdn.example.evil/x"));
	refused(&s, NULL, "https://evilcdn.example/x.mp3", UPSTREAM_NOT_ALLOWED);
}

/* {ref} is one path segment: ".." or "." cannot move up the PBX's paths. */
static void test_dot_segments_are_escaped(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_auth = (char *)"basic";
	s.fetch_url_template = (char *)"https://api.pbx.example/rec/{ref}";
	url_is(&s, "..", NULL, "https://api.pbx.example/rec/%2E%2E");
	url_is(&s, ".", NULL, "https://api.pbx.example/rec/%2E");
	url_is(&s, "../../admin", NULL, "https://api.pbx.example/rec/..%2F..%2Fadmin");
	url_is(&s, "a.wav", NULL, "https://api.pbx.example/rec/a.wav");
}

/* Placeholders only in the path and query; built URLs checked as pushed ones. */
static void test_templates_keep_their_host(void **state)
{
	struct source s = vipex();
	struct errbuf e;

	(void)state;
	assert_int_equal(upstream_template_check("https://pbx.example/rec/{ref}?k={secret}", &e), 0);
	assert_int_equal(upstream_template_check("http://127.0.0.{ref}:18251/", &e), -1);
	assert_int_equal(upstream_template_check("http://{ref}.pbx.example/", &e), -1);
	assert_int_equal(upstream_template_check("http://pbx.example:{ref}/", &e), -1);
	assert_int_equal(upstream_template_check("{ref}://pbx.example/", &e), -1);
	assert_int_equal(upstream_template_check("http://{user}:{secret}@pbx.example/", &e), -1);
	assert_int_equal(upstream_template_check("ftp://pbx.example/{ref}", &e), -1);
	assert_int_equal(upstream_template_check("pbx.example/{ref}", &e), -1);
	/* a template kept before the check: the URL it builds is not fetched */
	s.fetch_url_template = (char *)"http://127.0.0.{ref}:18251/";
	s.fetch_auth = (char *)"basic";
	refused(&s, "1", NULL, UPSTREAM_NOT_ALLOWED);
}

static void test_credentials_need_https_unless_the_source_says(void **state)
{
	struct source s = vipex();

	(void)state;
	s.fetch_auth = (char *)"basic";
	s.fetch_url_template = (char *)"http://api.pbx.example/rec/{ref}";
	assert_false(upstream_url_gets_credentials(&s, "http://api.pbx.example/rec/1"));
	s.fetch_plain_http = true;
	assert_true(upstream_url_gets_credentials(&s, "http://api.pbx.example/rec/1"));
}

static void test_redaction(void **state)
{
	const char *secrets[] = { "p&ss=1", "s3cr3t", NULL };
	char t[300];

	(void)state;
	snprintf(t, sizeof(t), "https://u:pw@pbx.example/rec/s3cr3t/1?id=7&key=p%%26ss%%3D1 said 404");
	upstream_redact(t, sizeof(t), secrets);
	assert_string_equal(t, "https://pbx.example/rec/***/1?id=***&key=*** said 404");
	snprintf(t, sizeof(t), "no such recording: /page?user=crm&pass=p&ss=1");
	upstream_redact(t, sizeof(t), secrets);
	assert_null(strstr(t, "p&ss=1"));
	assert_null(strstr(t, "crm"));
	snprintf(t, sizeof(t), "form: pass=p%%26ss%%3D1 or s3cr3t, plain words? yes & no");
	upstream_redact(t, sizeof(t), secrets);
	assert_string_equal(t, "form: pass=*** or ***, plain words? yes & no");
	assert_string_equal(upstream_error_text(UPSTREAM_AUTH_FAILED),
			    "the PBX refused the source's credentials");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_escapes_the_reference_and_credentials),
		cmocka_unit_test(test_query_credentials_are_appended_without_placeholders),
		cmocka_unit_test(test_pushed_urls_need_an_allowed_host),
		cmocka_unit_test(test_credentials_stay_with_their_origin),
		cmocka_unit_test(test_display_hides_the_query),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_a_wildcard_is_a_dot_boundary),
		cmocka_unit_test(test_dot_segments_are_escaped),
		cmocka_unit_test(test_templates_keep_their_host),
		cmocka_unit_test(test_credentials_need_https_unless_the_source_says),
		cmocka_unit_test(test_redaction),
	};

	return cmocka_run_group_tests_name("upstream_url", tests, NULL, NULL);
}
