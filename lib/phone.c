#include "ringlog/phone.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Shortest national number kept: anything shorter is an extension or a
 * service number and is never matched to a lead. */
#define PHONE_MIN_NATIONAL 6
#define PHONE_MAX_NATIONAL 10
#define PHONE_MIN_E164 8
#define PHONE_MAX_E164 15

static bool starts_with(const char *s, const char *prefix)
{
	return *prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Copies the digits of RAW to DIGITS; a leading '+' sets *PLUS. Separators
 * people write (space, - . / ( )) are skipped; anything else is not a number. */
static int collect_digits(const char *raw, char *digits, size_t cap, bool *plus)
{
	size_t n = 0;
	const char *p = raw;

	*plus = false;
	while (*p == ' ')
		p++;
	if (*p == '+') {
		*plus = true;
		p++;
	}
	for (; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			if (n + 1 >= cap)
				return -1;
			digits[n++] = *p;
		} else if (!strchr(" -./()", *p)) {
			return -1;
		}
	}
	digits[n] = '\0';
	return (int)n;
}

static int finish(const char *digits, char out[PHONE_E164_LEN])
{
	size_t n = strlen(digits);

	if (n < PHONE_MIN_E164 || n > PHONE_MAX_E164 || digits[0] == '0')
		return -1;
	memcpy(out, digits, n + 1);
	return 0;
}

int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN])
{
	char digits[64], national[64 + 4];
	const char *cc = plan->country_code ? plan->country_code : "";
	const char *trunk = plan->trunk_prefix ? plan->trunk_prefix : "";
	const char *intl = plan->international_prefix ? plan->international_prefix : "";
	bool plus;
	int n = raw ? collect_digits(raw, digits, sizeof(digits), &plus) : -1;

	out[0] = '\0';
	if (n < PHONE_MIN_NATIONAL)
		return -1;
	if (plus)
		return finish(digits, out);
	if (starts_with(digits, intl))
		return finish(digits + strlen(intl), out);
	if (!*cc)
		return finish(digits, out);
	if (starts_with(digits, trunk)) {
		const char *rest = digits + strlen(trunk);

		if (strlen(rest) < PHONE_MIN_NATIONAL)
			return -1;
		strcpy(national, cc);
		strcat(national, rest);
		return finish(national, out);
	}
	/* Already international without a prefix ("972528812345"), as many
	 * PBXs write it. */
	if (starts_with(digits, cc) && (size_t)n >= strlen(cc) + PHONE_MIN_NATIONAL + 1)
		return finish(digits, out);
	/* Longer than a national number: international without a prefix. */
	if (n > PHONE_MAX_NATIONAL)
		return finish(digits, out);
	/* A national number whose trunk prefix was left out. */
	strcpy(national, cc);
	strcat(national, digits);
	return finish(national, out);
}
