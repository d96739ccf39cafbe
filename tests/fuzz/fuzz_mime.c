/* The magic-byte sniffer reads only what it is given. */
// fuzz-seeds: tests/fixtures/audio/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly SIZE bytes, so reading past it is caught. */
	uint8_t *copy = malloc(size ? size : 1);
	const char *m;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	m = mime_sniff(copy, size);
	if (m && !mime_is_audio(m))
		abort();
	(void)mime_extension(m);
	free(copy);
	return 0;
}
