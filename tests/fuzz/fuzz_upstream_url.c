/* Pushed URLs against the allow list: whatever the text, a URL accepted
 * for fetching has an allowed host as libcurl itself reads it. The same
 * text as a reference stays below the template's path, as a template is
 * accepted only with its host fixed, and redacted it holds no secret. */
// fuzz-seeds:
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ringlog/upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The host and path libcurl reads from URL (both freed by the caller). */
static void parts(const char *url, char **host, char **path)
{
	CURLU *u = curl_url();

	*host = *path = NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, path, 0) != CURLUE_OK)
		abort();
	curl_url_cleanup(u);
}

static void check_reference(const char *ref)
{
	static char *none[] = { NULL };
	struct source src = { .name = (char *)"r", .fetch_auth = (char *)"none",
			      .fetch_url_template = (char *)"https://api.pbx.example/rec/{ref}",
			      .fetch_allow_hosts = none };
	enum upstream_error err;
	struct errbuf e;
	char *url = upstream_url(&src, ref, NULL, &err, &e), *host, *path;

	if (!url)
		return;
	parts(url, &host, &path);
	if (strcmp(host, "api.pbx.example") != 0 || strncmp(path, "/rec/", 5) != 0)
		abort();
	curl_free(host);
	curl_free(path);
	free(url);
}

static void check_template(const char *tmpl)
{
	static char *none[] = { NULL };
	struct source src = { .name = (char *)"t", .fetch_auth = (char *)"none",
			      .fetch_url_template = (char *)tmpl, .fetch_allow_hosts = none };
	enum upstream_error err;
	struct errbuf e;
	char *a, *b, *ha, *hb, *pa, *pb;

	if (upstream_template_check(tmpl, &e) < 0)
		return;
	/* two references, one host */
	a = upstream_url(&src, "1", NULL, &err, &e);
	b = upstream_url(&src, "evil.example", NULL, &err, &e);
	if (a && b) {
		parts(a, &ha, &pa);
		parts(b, &hb, &pb);
		if (strcasecmp(ha, hb) != 0)
			abort();
		curl_free(ha);
		curl_free(hb);
		curl_free(pa);
		curl_free(pb);
	}
	free(a);
	free(b);
}

static void check_redaction(const char *text)
{
	static const char *secrets[] = { "Zq-s3cret", NULL };
	char out[400];

	snprintf(out, sizeof(out), "%s", text);
	upstream_redact(out, sizeof(out), secrets);
	if (strstr(out, "Zq-s3cret"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *hosts[] = { (char *)"rec.pbx.example", (char *)"*.cdn.example", NULL };
	struct source src = { .name = (char *)"f", .fetch_auth = (char *)"basic",
			      .fetch_url_template = (char *)"https://api.pbx.example/rec?id={ref}",
			      .fetch_allow_hosts = hosts };
	char *text = malloc(size + 1), *url, shown[300], *host = NULL;
	enum upstream_error err;
	struct errbuf e;
	CURLU *u;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	upstream_url_display(text, shown, sizeof(shown));
	url = upstream_url(&src, NULL, text, &err, &e);
	if (url) {
		u = curl_url();
		if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
			abort();
		if (strcasecmp(host, "api.pbx.example") != 0 && strcasecmp(host, "rec.pbx.example") != 0 &&
		    !(strlen(host) > 12 && strcasecmp(host + strlen(host) - 12, ".cdn.example") == 0))
			abort();
		curl_free(host);
		curl_url_cleanup(u);
		free(url);
	}
	free(url = upstream_url(&src, text, NULL, &err, &e));
	check_reference(text);
	check_template(text);
	check_redaction(text);
	free(text);
	return 0;
}
