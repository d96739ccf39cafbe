#include "ringlog/phone.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* A national number has at most this many digits: longer ones without a
 * prefix are international numbers written without '+' or "00". */
#define PHONE_MAX_NATIONAL 10
#define PHONE_MIN_E164 7
#define PHONE_MAX_E164 15
/* More digits than this is not a phone number at all. */
#define PHONE_MAX_DIGITS 20
#define PHONE_MAX_SIP_NAME 64

struct digits {
	char d[PHONE_MAX_DIGITS + 1];
	size_t n;
	bool plus;
};

static bool starts_with(const char *s, const char *prefix)
{
	return *prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The user part of RAW: RAW itself, or what a tel:, sip: or sips: URI holds
 * before its '@host' or ';parameters'. Leading spaces are skipped. */
static const char *user_part(const char *raw, size_t *len)
{
	const char *p = raw;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "tel:", 4) == 0 || strncasecmp(p, "sip:", 4) == 0) {
		p += 4;
		*len = strcspn(p, "@;");
	} else if (strncasecmp(p, "sips:", 5) == 0) {
		p += 5;
		*len = strcspn(p, "@;");
	} else {
		*len = strlen(p);
	}
	while (*len && (p[*len - 1] == ' ' || p[*len - 1] == '\t'))
		(*len)--;
	return p;
}

/* Collects the digits of the LEN bytes at S. A leading '+' sets PLUS;
 * separators people write (space - . / ( )) are skipped, and so is the
 * "(0)" of "+44 (0)20 …". Returns 0, or -1 when anything else appears or
 * there are too many digits. */
static int collect(const char *s, size_t len, struct digits *out)
{
	size_t i = 0;

	out->n = 0;
	out->plus = len && s[0] == '+';
	if (out->plus)
		i++;
	for (; i < len; i++) {
		if (out->plus && len - i >= 3 && strncmp(s + i, "(0)", 3) == 0) {
			i += 2;
			continue;
		}
		if (isdigit((unsigned char)s[i])) {
			if (out->n == PHONE_MAX_DIGITS)
				return -1;
			out->d[out->n++] = s[i];
		} else if (!strchr(" -./()\t", s[i])) {
			return -1;
		}
	}
	out->d[out->n] = '\0';
	return 0;
}

/* Checks DIGITS (with PREFIX in front, may be "") is a plausible E.164
 * number and writes it to OUT. */
static int finish(const char *prefix, const char *digits, char out[PHONE_E164_LEN])
{
	size_t p = strlen(prefix), n = strlen(digits);

	if (p + n < PHONE_MIN_E164 || p + n > PHONE_MAX_E164)
		return -1;
	memcpy(out, prefix, p);
	memcpy(out + p, digits, n + 1);
	if (out[0] == '0') {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN])
{
	const char *cc = or_empty(plan->country_code), *trunk = or_empty(plan->trunk_prefix);
	const char *intl = or_empty(plan->international_prefix), *s;
	struct digits dg;
	size_t len;

	out[0] = '\0';
	if (!raw)
		return -1;
	s = user_part(raw, &len);
	if (collect(s, len, &dg) < 0 || dg.n < PHONE_MIN_NATIONAL)
		return -1;
	if (dg.plus)
		return finish("", dg.d, out);
	if (starts_with(dg.d, intl))
		return finish("", dg.d + strlen(intl), out);
	if (!*cc)
		return finish("", dg.d, out);
	if (starts_with(dg.d, trunk)) {
		const char *rest = dg.d + strlen(trunk);

		return strlen(rest) < PHONE_MIN_NATIONAL ? -1 : finish(cc, rest, out);
	}
	/* Already international without a prefix ("972528812345"), as many
	 * PBXs write it; or longer than any national number. */
	if ((starts_with(dg.d, cc) && dg.n >= strlen(cc) + PHONE_MIN_NATIONAL + 1) ||
	    dg.n > PHONE_MAX_NATIONAL)
		return finish("", dg.d, out);
	/* A national number whose trunk prefix was left out. */
	return finish(cc, dg.d, out);
}

/* Caller ids that say "withheld", and Asterisk's start extension. */
static bool is_withheld(const char *s, size_t len)
{
	static const char *const words[] = { "anonymous", "unknown",  "restricted", "private",
					     "unavailable", "withheld", "invalid", "s" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return true;
	return false;
}

/* A SIP account name: letters, digits, _ . - with at least one letter. */
static bool is_sip_name(const char *s, size_t len)
{
	bool letter = false;

	if (len == 0 || len > PHONE_MAX_SIP_NAME || is_withheld(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalpha(c))
			letter = true;
		else if (!isdigit(c) && c != '_' && c != '.' && c != '-')
			return false;
	}
	return letter;
}

enum phone_kind phone_classify(const char *raw)
{
	struct digits dg;
	const char *s;
	size_t len;

	if (!raw)
		return PHONE_KIND_NONE;
	s = user_part(raw, &len);
	if (collect(s, len, &dg) < 0)
		return is_sip_name(s, len) ? PHONE_KIND_EXTENSION : PHONE_KIND_NONE;
	if (dg.n == 0)
		return PHONE_KIND_NONE;
	if (dg.plus)
		return dg.n >= PHONE_MIN_E164 ? PHONE_KIND_PUBLIC : PHONE_KIND_NONE;
	return dg.n < PHONE_MIN_NATIONAL ? PHONE_KIND_EXTENSION : PHONE_KIND_PUBLIC;
}
