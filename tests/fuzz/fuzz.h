/* What the libFuzzer harnesses share. A harness is one file,
 * tests/fuzz/fuzz_<name>.c, with LLVMFuzzerTestOneInput and a comment line
 *     // fuzz-seeds: <globs of fixture files, from the repository root>
 * that tests/fuzz/run copies into its starting corpus. `make fuzz` builds
 * and runs every harness; nothing else needs to change to add one. */
#ifndef RINGLOG_FUZZ_H
#define RINGLOG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (up to its first NUL); caller frees. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size)
{
	return xstrndup((const char *)data, size);
}

/* A harness's own invariant failed: crash so libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond)          \
	do {                       \
		if (!(cond))       \
			abort();   \
	} while (0)

#endif
