/* Strict base64: any input, fed in pieces of any size, must give the same
 * verdict and bytes as in one go, and what is accepted must round-trip. */
// fuzz-seeds: tests/fixtures/audio/*.b64 tests/fixtures/vendors/*.json
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/b64.h"

static int collect(void *ctx, const void *data, size_t len, struct errbuf *e)
{
	(void)e;
	buf_add(ctx, data, len);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf once = BUF_INIT, pieces = BUF_INIT, text = BUF_INIT, again = BUF_INIT;
	struct b64_stream s;
	struct errbuf e;
	size_t piece;
	int a, b;

	if (size < 1)
		return 0;
	piece = 1 + data[0] % 97;
	data++, size--;
	a = b64_decode((const char *)data, size, &once, &e);
	b64_stream_init(&s, collect, &pieces);
	b = 0;
	for (size_t i = 0; i < size && b == 0; i += piece)
		b = b64_stream_feed(&s, (const char *)data + i, size - i < piece ? size - i : piece, &e);
	if (b == 0)
		b = b64_stream_finish(&s, &e);
	if (a != b || (a == 0 && (once.len != pieces.len || memcmp(once.data, pieces.data, once.len))))
		abort();
	if (a == 0) {
		b64_encode(once.data, once.len, &text);
		if (b64_decode(text.data, text.len, &again, &e) != 0 || again.len != once.len ||
		    memcmp(again.data, once.data, once.len) != 0)
			abort();
	}
	buf_release(&once);
	buf_release(&pieces);
	buf_release(&text);
	buf_release(&again);
	return 0;
}
