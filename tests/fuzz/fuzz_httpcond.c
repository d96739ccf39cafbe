/* Range, entity-tag lists, If-Range and HTTP dates on any header text:
 * no crash, a range inside the file, and a date that formats back. */
// fuzz-seeds:
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/httpcond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char etag[] = "\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\"";
	static const uint64_t sizes[] = { 0, 1, 2, 500, 1000000, UINT64_MAX };
	char *h = malloc(size + 1), out[HTTPCOND_DATE_LEN];
	int64_t t, t2;

	if (!h)
		return 0;
	memcpy(h, data, size);
	h[size] = '\0';
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t first = 0, last = 0;

		if (httpcond_range(h, sizes[i], &first, &last) == HTTPCOND_RANGE_OK &&
		    (first > last || last >= sizes[i]))
			abort();
	}
	(void)httpcond_etag_listed(h, etag, true);
	(void)httpcond_etag_listed(h, etag, false);
	(void)httpcond_if_range(h, etag, 784111777);
	if (httpcond_parse_date(h, &t) == 0) {
		httpcond_format_date(t, out);
		if (httpcond_parse_date(out, &t2) != 0 || t2 != t)
			abort();
	}
	free(h);
	return 0;
}
