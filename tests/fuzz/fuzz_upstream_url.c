/* Pushed URLs against the allow list: whatever the text, a URL accepted
 * for fetching has an allowed host as libcurl itself reads it. */
// fuzz-seeds:
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ringlog/upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	free(text);
	return 0;
}
