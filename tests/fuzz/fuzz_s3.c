/* What the S3 backend reads from outside: listing pages and error bodies
 * (blob_s3_xml_find, blob_s3_list_page), the credentials file, and the
 * names and types that announce raw telephone audio (audio_raw_mime).
 * Found text must lie inside the input; listed keys must be blob keys. */
// fuzz-seeds: tests/fixtures/s3/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/blob_internal.h"
#include "ringlog/audio.h"

static int check_info(void *ctx, const struct blob_info *info)
{
	(*(size_t *)ctx)++;
	if (!blob_key_is_valid(info->key))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data, *v;
	char *id = NULL, *secret = NULL, *next = NULL, *text;
	size_t vlen, n = 0, prefix;
	struct errbuf e;
	long end;

	if (size < 1)
		return 0;
	prefix = data[0] % 8;
	doc++, size--;
	end = blob_s3_xml_find(doc, size, "Key", 0, &v, &vlen);
	if (end >= 0 && (v < doc || v + vlen > doc + size || (size_t)end > size))
		abort();
	if (blob_s3_list_page(doc, size, prefix, check_info, &n, &next) < 0)
		abort();
	if (next && strlen(next) >= 2048)
		abort();
	free(next);
	if (blob_s3_parse_credentials(doc, size, &id, &secret, &e) == 0 &&
	    (!*id || !*secret || strchr(id, ':') || strchr(secret, ':')))
		abort();
	free(id);
	free(secret);
	text = malloc(size + 1);
	if (text) {
		memcpy(text, doc, size);
		text[size] = '\0';
		(void)audio_raw_mime(text, text);
		free(text);
	}
	return 0;
}
