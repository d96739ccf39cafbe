#include "ringlog/rltime.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t rltime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

/* Reads exactly N digits at *P. */
static int digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool is_number_text(const char *s)
{
	bool dot = false, any = false;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s; s++) {
		if (*s == '.' && !dot)
			dot = true;
		else if (isdigit((unsigned char)*s))
			any = true;
		else
			return false;
	}
	return any;
}

enum rltime_status rltime_from_number(double v, enum rltime_epoch epoch, struct rltime *out)
{
	double sec;

	memset(out, 0, sizeof(*out));
	if (!isfinite(v) || v < 0)
		return RLTIME_INVALID;
	if (v == 0)
		return RLTIME_EMPTY;
	/* 1e11 s is the year 5138, 1e14 ms the year 5138 too: magnitude tells units. */
	if (v >= 1e14)
		sec = v / 1e6;
	else if (v >= 1e11)
		sec = v / 1e3;
	else
		sec = v;
	if (sec >= 253402300800.0) /* 10000-01-01 */
		return RLTIME_INVALID;
	out->set = true;
	out->naive = epoch == RLTIME_EPOCH_LOCAL;
	out->sec = (int64_t)sec;
	out->usec = (int32_t)llround((sec - (double)out->sec) * 1e6);
	if (out->usec >= 1000000) {
		out->sec++;
		out->usec -= 1000000;
	}
	return RLTIME_OK;
}

static enum rltime_status parse_fraction(const char **p, int32_t *usec)
{
	int32_t scale = 100000, v = 0;

	if (**p != '.' && **p != ',')
		return RLTIME_OK;
	(*p)++;
	if (!isdigit((unsigned char)**p))
		return RLTIME_INVALID;
	while (isdigit((unsigned char)**p)) {
		v += (**p - '0') * scale;
		scale /= 10;
		(*p)++;
	}
	*usec = v;
	return RLTIME_OK;
}

/* Reads "Z", "+HH", "+HHMM", "+HH:MM" (or '-'): offset in seconds. */
static int parse_offset(const char **p, int *offset)
{
	unsigned hh, mm = 0;
	int sign;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*offset = 0;
		return 1;
	}
	if (**p != '+' && **p != '-')
		return 0;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (digits(p, 2, &hh) < 0)
		return -1;
	if (**p == ':')
		(*p)++;
	if (isdigit((unsigned char)**p) && digits(p, 2, &mm) < 0)
		return -1;
	if (hh > 23 || mm > 59)
		return -1;
	*offset = sign * (int)(hh * 3600 + mm * 60);
	return 1;
}

static enum rltime_status parse_datetime(const char *s, struct rltime *out)
{
	unsigned y, mo, d, h = 0, mi = 0, se = 0;
	int offset = 0, has_offset;
	const char *p = s;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return RLTIME_INVALID;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return RLTIME_INVALID;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se) < 0)
				return RLTIME_INVALID;
			if (parse_fraction(&p, &out->usec) != RLTIME_OK)
				return RLTIME_INVALID;
		}
		while (*p == ' ')
			p++;
	}
	has_offset = parse_offset(&p, &offset);
	if (has_offset < 0 || *p)
		return RLTIME_INVALID;
	if (y == 0 && mo == 0 && d == 0)
		return RLTIME_EMPTY;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    se > 60)
		return RLTIME_INVALID;
	if (se == 60) /* a leap second is read as the last second of the minute */
		se = 59;
	out->set = true;
	out->naive = !has_offset;
	out->sec = rltime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
	return RLTIME_OK;
}

enum rltime_status rltime_parse(const char *text, enum rltime_epoch epoch, struct rltime *out)
{
	enum rltime_status st;

	memset(out, 0, sizeof(*out));
	while (*text == ' ')
		text++;
	if (!*text)
		return RLTIME_EMPTY;
	if (is_number_text(text)) {
		char *end;
		double v = strtod(text, &end);

		return *end ? RLTIME_INVALID : rltime_from_number(v, epoch, out);
	}
	st = parse_datetime(text, out);
	if (st != RLTIME_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

void rltime_format(const struct rltime *t, char out[RLTIME_TEXT_LEN])
{
	int64_t days = t->sec / 86400, rem = t->sec % 86400, y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, RLTIME_TEXT_LEN, "%04lld-%02u-%02u %02d:%02d:%02d.%06d%s", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)t->usec,
		 t->naive ? "" : "+00");
}
