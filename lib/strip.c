/* One pass over a JSON or form body: values at the wanted paths go to a
 * sink, everything else is copied out (lazily: a body with nothing to strip
 * is not copied at all). The JSON side is a small recursive-descent
 * scanner; it reports only what is certainly not JSON, json-c checks the
 * rest on what is copied out. */
#include "ringlog/strip.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seg {
	bool is_index;
	size_t index;
	char key[STRIP_MAX_KEY + 1];
	size_t klen; /* > STRIP_MAX_KEY: too long to match anything */
};

struct target {
	struct seg segs[STRIP_MAX_SEGMENTS];
	size_t n; /* 0: the path cannot be followed (malformed) */
};

struct scan {
	const char *s;
	size_t len, i;
	size_t copied; /* s[copied..] is not in OUT yet */
	bool stripped;
	struct buf *out;
	struct target *targets;
	size_t ntargets;
	struct seg stack[STRIP_MAX_DEPTH];
	size_t depth;
	const struct strip_sink *sink;
	struct errbuf *e;
	bool refused;
};

/* ---- paths --------------------------------------------------------------- */

static void parse_path(const char *path, struct target *t)
{
	const char *p = path;

	t->n = 0;
	while (*p) {
		struct seg *g;
		size_t n = strcspn(p, ".[");

		if (t->n == STRIP_MAX_SEGMENTS || (!n && *p != '['))
			goto bad;
		if (n) {
			g = &t->segs[t->n++];
			g->is_index = false;
			g->klen = n;
			if (n > STRIP_MAX_KEY)
				goto bad;
			memcpy(g->key, p, n);
			g->key[n] = '\0';
			p += n;
		}
		while (*p == '[') {
			char *end;

			if (t->n == STRIP_MAX_SEGMENTS)
				goto bad;
			g = &t->segs[t->n++];
			g->is_index = true;
			g->index = strtoul(p + 1, &end, 10);
			if (end == p + 1 || *end != ']')
				goto bad;
			p = end + 1;
		}
		if (*p == '.')
			p++;
	}
	return;
bad:
	t->n = 0;
}

static bool seg_eq(const struct seg *a, const struct seg *b)
{
	if (a->is_index != b->is_index)
		return false;
	if (a->is_index)
		return a->index == b->index;
	return a->klen == b->klen && a->klen <= STRIP_MAX_KEY && memcmp(a->key, b->key, a->klen) == 0;
}

/* The target the value at the current path is, or -1. */
static long match(const struct scan *sc)
{
	for (size_t t = 0; t < sc->ntargets; t++) {
		const struct target *tg = &sc->targets[t];
		size_t k;

		if (tg->n == 0 || tg->n != sc->depth)
			continue;
		for (k = 0; k < tg->n && seg_eq(&tg->segs[k], &sc->stack[k]); k++)
			;
		if (k == tg->n)
			return (long)t;
	}
	return -1;
}

/* ---- output and errors --------------------------------------------------- */

static int malformed(struct scan *sc, const char *what)
{
	err_set(sc->e, "the body is not valid JSON: %s at byte %zu", what, sc->i);
	return -1;
}

static int refused(struct scan *sc)
{
	sc->refused = true;
	return -1;
}

/* Copies s[copied..upto) out and continues after SKIP_TO. */
static void copy_upto(struct scan *sc, size_t upto)
{
	buf_add(sc->out, sc->s + sc->copied, upto - sc->copied);
	sc->copied = upto;
}

/* ---- JSON strings -------------------------------------------------------- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static long read_hex4(const char *p)
{
	long v = 0;

	for (int k = 0; k < 4; k++) {
		int h = hexval(p[k]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t utf8(unsigned long cp, char out[4])
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800)
		return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The escape at s[i] ('\\' included): its bytes in OUT, their count in *N.
 * Advances i past it. Returns 0 or -1 (malformed). */
static int escape(struct scan *sc, char out[4], size_t *n)
{
	const char *p = sc->s + sc->i;
	size_t left = sc->len - sc->i;
	static const char simple[] = "\"\\/bfnrt", means[] = "\"\\/\b\f\n\r\t";
	const char *k;
	long hi, lo;

	if (left < 2)
		return malformed(sc, "unterminated string");
	if (p[1] != 'u') {
		if (!(k = strchr(simple, p[1])) || !p[1])
			return malformed(sc, "bad escape");
		out[0] = means[k - simple];
		*n = 1;
		sc->i += 2;
		return 0;
	}
	if (left < 6 || (hi = read_hex4(p + 2)) < 0)
		return malformed(sc, "bad \\u escape");
	sc->i += 6;
	if (hi >= 0xd800 && hi < 0xdc00 && left >= 12 && p[6] == '\\' && p[7] == 'u' &&
	    (lo = read_hex4(p + 8)) >= 0xdc00 && lo < 0xe000) {
		sc->i += 6;
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	*n = utf8((unsigned long)hi, out);
	return 0;
}

/* Reads the string at s[i] (its opening quote). Its unescaped bytes go to
 * EMIT(ARG, ...) when EMIT is set. Leaves i after the closing quote. */
static int string(struct scan *sc, int (*emit)(struct scan *, void *, const char *, size_t), void *arg)
{
	size_t run;

	sc->i++;
	for (;;) {
		const char *p = sc->s + sc->i;
		size_t left = sc->len - sc->i;

		/* Raw control characters are not JSON, but json-c (strict)
		 * takes them: only what json-c refuses is refused here. */
		for (run = 0; run < left && p[run] != '"' && p[run] != '\\'; run++)
			;
		if (run && emit && emit(sc, arg, p, run) < 0)
			return -1;
		sc->i += run;
		if (run == left)
			return malformed(sc, "unterminated string");
		if (p[run] == '"') {
			sc->i++;
			return 0;
		}
		{
			char bytes[4];
			size_t n;

			if (escape(sc, bytes, &n) < 0 || (emit && emit(sc, arg, bytes, n) < 0))
				return -1;
		}
	}
}

static int to_key(struct scan *sc, void *arg, const char *s, size_t n)
{
	struct seg *g = arg;

	(void)sc;
	if (g->klen + n <= STRIP_MAX_KEY)
		memcpy(g->key + g->klen, s, n);
	g->klen += n;
	return 0;
}

static int to_sink(struct scan *sc, void *arg, const char *s, size_t n)
{
	(void)arg;
	return sc->sink->data(sc->sink->ctx, s, n, sc->e) < 0 ? refused(sc) : 0;
}

/* A string value at a wanted path: out as null, its content to the sink. */
static int strip_string(struct scan *sc, size_t which)
{
	copy_upto(sc, sc->i);
	buf_adds(sc->out, "null");
	sc->stripped = true;
	if (sc->sink->begin(sc->sink->ctx, which, sc->e) < 0)
		return refused(sc);
	if (string(sc, to_sink, NULL) < 0)
		return -1;
	sc->copied = sc->i;
	return sc->sink->end(sc->sink->ctx, sc->e) < 0 ? refused(sc) : 0;
}

/* ---- JSON values --------------------------------------------------------- */

static void skip_ws(struct scan *sc)
{
	while (sc->i < sc->len && strchr(" \t\r\n", sc->s[sc->i]) && sc->s[sc->i])
		sc->i++;
}

static int value(struct scan *sc);

static int push_frame(struct scan *sc)
{
	if (sc->depth == STRIP_MAX_DEPTH)
		return malformed(sc, "nesting too deep");
	sc->depth++;
	return 0;
}

static int object(struct scan *sc)
{
	struct seg *g;

	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == '}')
		return sc->i++, 0;
	if (push_frame(sc) < 0)
		return -1;
	g = &sc->stack[sc->depth - 1];
	for (;;) {
		skip_ws(sc);
		if (sc->i >= sc->len || sc->s[sc->i] != '"')
			return malformed(sc, "expected a key");
		g->is_index = false;
		g->klen = 0;
		if (string(sc, to_key, g) < 0)
			return -1;
		skip_ws(sc);
		if (sc->i >= sc->len || sc->s[sc->i++] != ':')
			return malformed(sc, "expected ':'");
		if (value(sc) < 0)
			return -1;
		skip_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ',') {
			sc->i++;
			continue;
		}
		if (sc->i < sc->len && sc->s[sc->i] == '}')
			break;
		return malformed(sc, "expected ',' or '}'");
	}
	sc->i++;
	sc->depth--;
	return 0;
}

static int array(struct scan *sc)
{
	struct seg *g;

	sc->i++;
	skip_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == ']')
		return sc->i++, 0;
	if (push_frame(sc) < 0)
		return -1;
	g = &sc->stack[sc->depth - 1];
	g->is_index = true;
	for (g->index = 0;; g->index++) {
		if (value(sc) < 0)
			return -1;
		skip_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ',') {
			sc->i++;
			continue;
		}
		if (sc->i < sc->len && sc->s[sc->i] == ']')
			break;
		return malformed(sc, "expected ',' or ']'");
	}
	sc->i++;
	sc->depth--;
	return 0;
}

/* true, false, null, numbers (and json-c's NaN and Infinity): json-c
 * checks them on the copy. */
static int literal(struct scan *sc)
{
	size_t start = sc->i;

	while (sc->i < sc->len && (isalnum((unsigned char)sc->s[sc->i]) || strchr("+-.", sc->s[sc->i])) &&
	       sc->s[sc->i])
		sc->i++;
	return sc->i == start ? malformed(sc, "unexpected character") : 0;
}

static int value(struct scan *sc)
{
	long which;

	skip_ws(sc);
	if (sc->i >= sc->len)
		return malformed(sc, "unexpected end");
	switch (sc->s[sc->i]) {
	case '{': return object(sc);
	case '[': return array(sc);
	case '"':
		which = match(sc);
		return which >= 0 ? strip_string(sc, (size_t)which) : string(sc, NULL, NULL);
	default: return literal(sc);
	}
}

static void scan_init(struct scan *sc, const char *body, size_t len, const char *const *paths,
		      size_t npaths, const struct strip_sink *sink, struct buf *out, struct errbuf *e)
{
	memset(sc, 0, sizeof(*sc));
	sc->s = body;
	sc->len = len;
	sc->out = out;
	sc->sink = sink;
	sc->e = e;
	sc->ntargets = npaths;
	sc->targets = calloc(npaths ? npaths : 1, sizeof(*sc->targets));
	if (!sc->targets)
		abort();
	for (size_t i = 0; i < npaths; i++)
		parse_path(paths[i], &sc->targets[i]);
}

static enum strip_status scan_done(struct scan *sc, int rc)
{
	free(sc->targets);
	if (rc < 0)
		return sc->refused ? STRIP_REFUSED : STRIP_MALFORMED;
	if (!sc->stripped)
		return STRIP_UNTOUCHED;
	copy_upto(sc, sc->len);
	return STRIP_OK;
}

enum strip_status strip_json(const char *body, size_t len, const char *const *paths,
			     size_t npaths, const struct strip_sink *sink, struct buf *out,
			     struct errbuf *e)
{
	struct scan sc;
	int rc;

	scan_init(&sc, body, len, paths, npaths, sink, out, e);
	rc = value(&sc);
	if (rc == 0) {
		skip_ws(&sc);
		if (sc.i != len)
			rc = malformed(&sc, "data after the JSON value");
	}
	return scan_done(&sc, rc);
}

/* ---- forms --------------------------------------------------------------- */

/* Percent-decodes S[0..N) (with '+' as a space) to EMIT, in runs. */
static int form_decode(struct scan *sc, const char *s, size_t n,
		       int (*emit)(struct scan *, void *, const char *, size_t), void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t run = 0;
		char c;

		while (i + run < n && s[i + run] != '%' && s[i + run] != '+')
			run++;
		if (run && emit(sc, arg, s + i, run) < 0)
			return -1;
		i += run;
		if (i == n)
			break;
		if (s[i] == '+') {
			c = ' ';
			i++;
		} else if (i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 3;
		} else {
			sc->i = (size_t)(s - sc->s) + i;
			err_set(sc->e, "the form is malformed: bad percent escape at byte %zu", sc->i);
			return -1;
		}
		if (emit(sc, arg, &c, 1) < 0)
			return -1;
	}
	return 0;
}

/* The form pair at S[0..N): stripped when its key is wanted. */
static int form_pair(struct scan *sc, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n, vstart;
	struct seg *g = &sc->stack[0];
	long which;

	g->is_index = false;
	g->klen = 0;
	if (form_decode(sc, s, klen, to_key, g) < 0)
		return sc->refused ? -1 : 0; /* a bad key: form_parse will say so */
	sc->depth = 1;
	which = eq ? match(sc) : -1;
	if (which < 0)
		return 0;
	vstart = (size_t)(eq + 1 - sc->s);
	copy_upto(sc, vstart);
	sc->stripped = true;
	if (sc->sink->begin(sc->sink->ctx, (size_t)which, sc->e) < 0)
		return refused(sc);
	if (form_decode(sc, eq + 1, n - klen - 1, to_sink, NULL) < 0)
		return -1;
	sc->copied = (size_t)(s + n - sc->s);
	return sc->sink->end(sc->sink->ctx, sc->e) < 0 ? refused(sc) : 0;
}

enum strip_status strip_form(const char *body, size_t len, const char *const *paths,
			     size_t npaths, const struct strip_sink *sink, struct buf *out,
			     struct errbuf *e)
{
	struct scan sc;
	size_t i = 0;
	int rc = 0;

	scan_init(&sc, body, len, paths, npaths, sink, out, e);
	while (rc == 0 && i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t n = amp ? (size_t)(amp - body) - i : len - i;

		rc = form_pair(&sc, body + i, n);
		i += n + 1;
	}
	return scan_done(&sc, rc);
}
