/* Opaque page cursors: two integers and a MAC under the signing key
 * (lib/sign.c), so a client can only hand back a position the daemon gave
 * out. The MAC names the list it belongs to. */
#include "fetcher.h"

void fetcher_cursor_make(const struct fetcher *f, const char *kind, long long a, long long b,
			 struct buf *out)
{
	sign_cursor_make(&f->sign_key, kind, a, b, out);
}

int fetcher_cursor_read(const struct fetcher *f, const char *kind, const char *text,
			long long *a, long long *b)
{
	return sign_cursor_read(&f->sign_key, kind, text, a, b);
}
