/* Strict base64: every byte is checked here, and only checked characters
 * (line breaks removed) reach libb64's decoder. */
#include "ringlog/b64.h"

#include <b64/cencode.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

enum { PH_START, PH_PREFIX, PH_BODY };

static const char data_scheme[] = "data:";
static const char base64_param[] = ";base64";

static bool is_alphabet(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void b64_stream_init(struct b64_stream *s, b64_sink sink, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->sink = sink;
	s->ctx = ctx;
	s->phase = PH_START;
	base64_init_decodestate(&s->dec);
}

bool b64_stream_is_empty(const struct b64_stream *s)
{
	return s->nchars == 0 && s->pad == 0 && s->prefix_len == 0;
}

static int flush(struct b64_stream *s, struct errbuf *e)
{
	/* libb64 writes one partial byte past what it reports: room for it. */
	char out[B64_CHUNK / 4 * 3 + 4];
	int n;

	if (!s->nin)
		return 0;
	n = base64_decode_block(s->in, (int)s->nin, out, &s->dec);
	s->nin = 0;
	if (n <= 0)
		return 0;
	s->decoded += (uint64_t)n;
	return s->sink ? s->sink(s->ctx, out, (size_t)n, e) : 0;
}

static int not_base64(struct b64_stream *s, unsigned char c, struct errbuf *e)
{
	if (c == '-' || c == '_')
		return err_set(e, "'%c' at byte %llu: the URL-safe base64 alphabet is not accepted",
			       c, (unsigned long long)s->offset);
	if (c >= 0x21 && c < 0x7f)
		return err_set(e, "'%c' at byte %llu is not a base64 character", c,
			       (unsigned long long)s->offset);
	return err_set(e, "byte 0x%02x at byte %llu is not a base64 character", c,
		       (unsigned long long)s->offset);
}

/* One character of the base64 text itself. */
static int body_char(struct b64_stream *s, unsigned char c, struct errbuf *e)
{
	if (c == '\r' || c == '\n')
		return 0;
	if (c == ' ' || c == '\t') {
		s->trailing_space = s->nchars || s->pad;
		return 0;
	}
	if (!is_alphabet(c) && c != '=')
		return not_base64(s, c, e);
	if (s->trailing_space)
		return err_set(e, "a space inside the base64 text (before byte %llu)",
			       (unsigned long long)s->offset);
	if (c == '=') {
		unsigned rem = (unsigned)(s->nchars % 4);

		if (rem < 2 || ++s->pad > 4 - rem)
			return err_set(e, "misplaced '=' padding at byte %llu", (unsigned long long)s->offset);
		return 0;
	}
	if (s->pad)
		return err_set(e, "data after the '=' padding at byte %llu", (unsigned long long)s->offset);
	s->nchars++;
	s->in[s->nin++] = (char)c;
	return s->nin == sizeof(s->in) ? flush(s, e) : 0;
}

/* The text did not start with "data:": what was held back is base64. */
static int replay_prefix(struct b64_stream *s, struct errbuf *e)
{
	size_t n = s->prefix_len;

	s->phase = PH_BODY;
	s->prefix_len = 0;
	for (size_t i = 0; i < n; i++)
		if (body_char(s, (unsigned char)s->prefix[i], e) < 0)
			return -1;
	return 0;
}

static int start_char(struct b64_stream *s, unsigned char c, struct errbuf *e)
{
	size_t n = s->prefix_len;

	if (n == 0 && is_blank(c))
		return 0;
	if (n < sizeof(data_scheme) - 1 && tolower(c) == data_scheme[n]) {
		s->prefix[s->prefix_len++] = (char)c;
		if (s->prefix_len == sizeof(data_scheme) - 1)
			s->phase = PH_PREFIX;
		return 0;
	}
	if (replay_prefix(s, e) < 0)
		return -1;
	return body_char(s, c, e);
}

static int prefix_char(struct b64_stream *s, unsigned char c, struct errbuf *e)
{
	size_t pl = sizeof(base64_param) - 1;

	if (c != ',') {
		if (c <= 0x20 || c >= 0x7f || s->prefix_len >= B64_PREFIX_MAX)
			return err_set(e, "the data: URI prefix is malformed or longer than %d bytes",
				       B64_PREFIX_MAX);
		s->prefix[s->prefix_len++] = (char)c;
		return 0;
	}
	s->prefix[s->prefix_len] = '\0';
	if (s->prefix_len < sizeof(data_scheme) - 1 + pl ||
	    strcasecmp(s->prefix + s->prefix_len - pl, base64_param) != 0)
		return err_set(e, "a data: URI must say \";base64\" before its comma");
	s->phase = PH_BODY;
	return 0;
}

int b64_stream_feed(struct b64_stream *s, const char *text, size_t len, struct errbuf *e)
{
	for (size_t i = 0; i < len; i++, s->offset++) {
		unsigned char c = (unsigned char)text[i];
		int rc;

		if (s->phase == PH_BODY) {
			/* The common case, kept short: alphabet characters in a row. */
			if (is_alphabet(c) && !s->pad && !s->trailing_space) {
				s->nchars++;
				s->in[s->nin++] = (char)c;
				if (s->nin == sizeof(s->in) && flush(s, e) < 0)
					return -1;
				continue;
			}
			rc = body_char(s, c, e);
		} else if (s->phase == PH_START) {
			rc = start_char(s, c, e);
		} else {
			rc = prefix_char(s, c, e);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

int b64_stream_finish(struct b64_stream *s, struct errbuf *e)
{
	unsigned rem;

	if (s->phase == PH_START && replay_prefix(s, e) < 0)
		return -1;
	if (s->phase == PH_PREFIX)
		return err_set(e, "a data: URI without a comma before its data");
	rem = (unsigned)(s->nchars % 4);
	if (s->nchars == 0)
		return err_set(e, "no base64 data");
	if (rem == 1)
		return err_set(e, "the base64 text is cut short (%llu characters)",
			       (unsigned long long)s->nchars);
	if (s->pad && rem + s->pad != 4)
		return err_set(e, "wrong '=' padding");
	return flush(s, e);
}

static int to_buf(void *ctx, const void *data, size_t len, struct errbuf *e)
{
	(void)e;
	buf_add(ctx, data, len);
	return 0;
}

int b64_decode(const char *text, size_t len, struct buf *out, struct errbuf *e)
{
	struct b64_stream s;

	b64_stream_init(&s, to_buf, out);
	if (b64_stream_feed(&s, text, len, e) < 0)
		return -1;
	return b64_stream_finish(&s, e);
}

void b64_encode(const void *data, size_t len, struct buf *out)
{
	const char *p = data;
	char chunk[2 * 3072 + 8];
	base64_encodestate st;

	base64_init_encodestate(&st);
	while (len) {
		size_t n = len > 3072 ? 3072 : len;
		int m = base64_encode_block(p, (int)n, chunk, &st);

		/* libb64 breaks lines every 72 characters: drop the breaks. */
		for (int i = 0; i < m; i++)
			if (chunk[i] != '\n')
				buf_addch(out, chunk[i]);
		p += n;
		len -= n;
	}
	{
		int m = base64_encode_blockend(chunk, &st);

		for (int i = 0; i < m; i++)
			if (chunk[i] != '\n')
				buf_addch(out, chunk[i]);
	}
}
