#include "ringlog/httpcond.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ringlog/rltime.h"

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* 1*DIGIT into *OUT, saturating at UINT64_MAX. Returns the end, or NULL. */
static const char *read_u64(const char *p, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
	}
	*out = v;
	return p == start ? NULL : p;
}

struct spec {
	bool suffix;
	uint64_t a, b; /* first and last (b = UINT64_MAX when open), or the suffix length */
};

/* One range-spec at P. Returns its end, or NULL when malformed. */
static const char *read_spec(const char *p, struct spec *s)
{
	s->suffix = *p == '-';
	if (s->suffix)
		return read_u64(p + 1, &s->a);
	if (!(p = read_u64(p, &s->a)) || *p++ != '-')
		return NULL;
	s->b = UINT64_MAX;
	if (*p >= '0' && *p <= '9') {
		p = read_u64(p, &s->b);
		if (s->b < s->a)
			return NULL;
	}
	return p;
}

enum httpcond_range httpcond_range(const char *header, uint64_t size, uint64_t *first,
				   uint64_t *last)
{
	struct spec s;
	const char *p;
	int n = 0;

	if (!header)
		return HTTPCOND_RANGE_NONE;
	p = skip_ows(header);
	if (strncasecmp(p, "bytes", 5) != 0)
		return HTTPCOND_RANGE_NONE;
	p = skip_ows(p + 5);
	if (*p++ != '=')
		return HTTPCOND_RANGE_NONE;
	for (;;) {
		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (!*p)
			break;
		if (++n > 1 || !(p = read_spec(p, &s)))
			return HTTPCOND_RANGE_NONE;
		p = skip_ows(p);
		if (*p && *p != ',')
			return HTTPCOND_RANGE_NONE;
	}
	if (n == 0)
		return HTTPCOND_RANGE_NONE;
	if (s.suffix) {
		if (s.a == 0 || size == 0)
			return HTTPCOND_RANGE_UNSATISFIABLE;
		*first = s.a >= size ? 0 : size - s.a;
		*last = size - 1;
		return HTTPCOND_RANGE_OK;
	}
	if (s.a >= size)
		return HTTPCOND_RANGE_UNSATISFIABLE;
	*first = s.a;
	*last = s.b >= size ? size - 1 : s.b;
	return HTTPCOND_RANGE_OK;
}

/* One entity-tag at P: sets *WEAK, *TAG (the quoted part) and *LEN.
 * Returns its end, or NULL when malformed. */
static const char *read_etag(const char *p, bool *weak, const char **tag, size_t *len)
{
	*weak = strncmp(p, "W/", 2) == 0;
	if (*weak)
		p += 2;
	if (*p != '"')
		return NULL;
	*tag = p++;
	while (*p && *p != '"') {
		unsigned char c = (unsigned char)*p;

		if (c < 0x21 || c == 0x7f)
			return NULL;
		p++;
	}
	if (*p != '"')
		return NULL;
	p++;
	*len = (size_t)(p - *tag);
	return p;
}

bool httpcond_etag_listed(const char *header, const char *etag, bool weak)
{
	size_t elen = strlen(etag);
	const char *p, *tag;
	bool is_weak;
	size_t len;

	if (!header)
		return false;
	p = skip_ows(header);
	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	while (*p) {
		if (*p == ',' || *p == ' ' || *p == '\t') {
			p++;
			continue;
		}
		if (!(p = read_etag(p, &is_weak, &tag, &len)))
			return false;
		if ((weak || !is_weak) && len == elen && memcmp(tag, etag, len) == 0)
			return true;
		p = skip_ows(p);
		if (*p && *p != ',')
			return false;
	}
	return false;
}

bool httpcond_if_range(const char *value, const char *etag, int64_t last_modified)
{
	const char *p = skip_ows(value);
	const char *tag, *end;
	bool weak;
	size_t len;
	int64_t t;

	if (*p == '"' || strncmp(p, "W/", 2) == 0) {
		end = read_etag(p, &weak, &tag, &len);
		return end && !weak && *skip_ows(end) == '\0' && len == strlen(etag) &&
		       memcmp(tag, etag, len) == 0;
	}
	return httpcond_parse_date(p, &t) == 0 && t == last_modified;
}

/* ---- HTTP dates ---------------------------------------------------------- */

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
static const char *const long_days[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
					 "Friday", "Saturday", "Sunday" };

static const char *read_month(const char *p, unsigned *m)
{
	for (unsigned i = 0; i < 12; i++)
		if (strncmp(p, months[i], 3) == 0) {
			*m = i + 1;
			return p + 3;
		}
	return NULL;
}

/* Exactly N digits. */
static const char *read_digits(const char *p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++, p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*out = v;
	return p;
}

/* "HH:MM:SS" */
static const char *read_time(const char *p, unsigned *h, unsigned *mi, unsigned *s)
{
	if (!(p = read_digits(p, 2, h)) || *p++ != ':' || !(p = read_digits(p, 2, mi)) ||
	    *p++ != ':' || !(p = read_digits(p, 2, s)))
		return NULL;
	return p;
}

static const char *read_word(const char *p, const char *word)
{
	size_t n = strlen(word);

	return strncmp(p, word, n) == 0 ? p + n : NULL;
}

static int finish_date(unsigned y, unsigned m, unsigned d, unsigned h, unsigned mi, unsigned s,
		       int64_t *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || h > 23 || mi > 59 || s > 60)
		return -1;
	*out = rltime_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + (s == 60 ? 59 : s);
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" or "Sunday, 06-Nov-94 08:49:37 GMT" */
static int imf_or_rfc850(const char *p, int64_t *out)
{
	unsigned d, m, y, h, mi, s;
	bool rfc850 = p[3] != ',';
	const char *q = NULL;

	for (size_t i = 0; !rfc850 && i < 7 && !q; i++)
		q = read_word(p, days[i]);
	for (size_t i = 0; rfc850 && i < 7 && !q; i++)
		q = read_word(p, long_days[i]);
	if (!q || *q++ != ',' || *q++ != ' ' || !(q = read_digits(q, 2, &d)) ||
	    *q++ != (rfc850 ? '-' : ' ') || !(q = read_month(q, &m)) || *q++ != (rfc850 ? '-' : ' '))
		return -1;
	if (!(q = read_digits(q, rfc850 ? 2 : 4, &y)) || *q++ != ' ' ||
	    !(q = read_time(q, &h, &mi, &s)) || !(q = read_word(q, " GMT")) || *q)
		return -1;
	if (rfc850)
		y += y < 70 ? 2000 : 1900;
	return finish_date(y, m, d, h, mi, s, out);
}

/* "Sun Nov  6 08:49:37 1994" */
static int asctime_date(const char *p, int64_t *out)
{
	unsigned d, m, y, h, mi, s;
	const char *q = NULL;

	for (size_t i = 0; i < 7 && !q; i++)
		q = read_word(p, days[i]);
	if (!q || *q++ != ' ' || !(q = read_month(q, &m)) || *q++ != ' ')
		return -1;
	if (*q == ' ')
		q = read_digits(q + 1, 1, &d);
	else
		q = read_digits(q, 2, &d);
	if (!q || *q++ != ' ' || !(q = read_time(q, &h, &mi, &s)) || *q++ != ' ' ||
	    !(q = read_digits(q, 4, &y)) || *q)
		return -1;
	return finish_date(y, m, d, h, mi, s, out);
}

int httpcond_parse_date(const char *text, int64_t *out)
{
	size_t n = strnlen(text, 64);

	if (n < 24 || n >= 64)
		return -1;
	if (text[3] == ' ')
		return asctime_date(text, out);
	return imf_or_rfc850(text, out);
}

void httpcond_format_date(int64_t t, char out[HTTPCOND_DATE_LEN])
{
	int64_t days_since = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days_since * 86400;
	/* civil_from_days (H. Hinnant) */
	int64_t z = days_since + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);
	int wd = (int)(((days_since % 7) + 7) % 7);

	snprintf(out, HTTPCOND_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[wd], (int)d,
		 months[m - 1], (int)(y % 10000), (int)(secs / 3600), (int)(secs / 60 % 60),
		 (int)(secs % 60));
}
