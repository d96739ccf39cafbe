/* libFuzzer: CSV records (Master.csv lines, lead imports), every delimiter
 * the import accepts. */
// fuzz-seeds: tests/fixtures/vendors/*.csv
#include <stdlib.h>

#include "fuzz.h"
#include "ringlog/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { ',', ';', '\t' };
	struct csv_record rec = CSV_RECORD_INIT;
	struct errbuf e;

	for (size_t d = 0; d < sizeof(delims); d++) {
		size_t at = 0;
		long n;

		while ((n = csv_next((const char *)data + at, size - at, delims[d], &rec, &e)) > 0) {
			at += (size_t)n;
			if (at > size)
				abort();
		}
	}
	csv_record_release(&rec);
	return 0;
}
