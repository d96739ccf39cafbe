#include "ringlog/phone.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "phonenumber_shim.h"

/* A national number has at most this many digits: longer ones without a
 * prefix are international numbers written without '+' or "00". */
#define PHONE_MAX_NATIONAL 10
#define PHONE_MIN_E164 7
#define PHONE_MAX_E164 15
/* More digits than this is not a phone number at all. */
#define PHONE_MAX_DIGITS 20
#define PHONE_MAX_SIP_NAME 64
/* Longer raw text is not a phone number (bounds the work). */
#define PHONE_MAX_RAW 128

struct digits {
	char d[PHONE_MAX_DIGITS + 1];
	size_t n;
	bool plus;
};

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

static bool starts_with_n(const char *s, const char *prefix, size_t *len)
{
	*len = strlen(prefix);
	return *len && strncmp(s, prefix, *len) == 0;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

const char *phone_plan_region(const struct phone_plan *plan, char out[3])
{
	const char *cc = or_empty(plan->country_code);

	out[0] = '\0';
	if (phone_region_is_known(plan->region))
		memcpy(out, plan->region, 3);
	else if (*cc && strlen(cc) <= 3 && strspn(cc, "0123456789") == strlen(cc))
		(void)pn_shim_region_of_code(atoi(cc), out);
	return out;
}

bool phone_region_is_known(const char *region)
{
	return region && strlen(region) == 2 && pn_shim_code_of_region(region) > 0;
}

int phone_region_code(const char *region)
{
	return region && strlen(region) == 2 ? pn_shim_code_of_region(region) : 0;
}

/* libphonenumber's answers, per thread, by region and digits: one call's
 * number is read again and again (every ringing station's screen pop, the
 * route look-up, the end-of-call push), and libphonenumber's regular
 * expressions cost 2-25 µs a number where a hit costs ~0.1 µs. Direct
 * mapped, bounded, no locks; a collision just reads the number again. */
#define PHONE_CACHE_SLOTS 1024

struct cache_slot {
	char key[24]; /* region (2 letters or "--") then the digits, '+' kept */
	char e164[PHONE_E164_LEN];
	signed char rc, type;
};

static __thread struct cache_slot cache[PHONE_CACHE_SLOTS];

/* FNV-1a of S. */
static uint32_t hash_text(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int cached_parse(const char *digits, const char *region, char out[PHONE_E164_LEN], int *type)
{
	char key[sizeof(cache[0].key)];
	struct cache_slot *slot;
	int n = snprintf(key, sizeof(key), "%.2s%s", region && *region ? region : "--", digits);

	if (n < 0 || (size_t)n >= sizeof(key))
		return pn_shim_parse(digits, region, out, type);
	slot = &cache[hash_text(key) % PHONE_CACHE_SLOTS];
	if (strcmp(slot->key, key) != 0) {
		slot->rc = (signed char)pn_shim_parse(digits, region, slot->e164, type);
		slot->type = (signed char)*type;
		memcpy(slot->key, key, (size_t)n + 1);
	}
	memcpy(out, slot->e164, PHONE_E164_LEN);
	*type = slot->type;
	return slot->rc;
}

/* libphonenumber on "+" PREFIX DIGITS. */
static int try_international(const char *prefix, const char *digits, struct phone_number *out)
{
	char buf[2 * PHONE_MAX_DIGITS + 2];
	int type;

	snprintf(buf, sizeof(buf), "+%s%s", prefix, digits);
	if (cached_parse(buf, NULL, out->e164, &type) < 0)
		return -1;
	out->type = (enum phone_type)type;
	return 0;
}

/* The candidates in order: written internationally ('+' or the plan's
 * prefix), national in the region (libphonenumber knows its prefixes),
 * national after the plan's own trunk prefix, and international written
 * without any prefix (as many PBXs do; only when too long for a national
 * number, or when there is no region at all). */
static enum phone_verdict read_digits(const struct digits *dg, const struct phone_plan *plan,
				      struct phone_number *out)
{
	const char *cc = or_empty(plan->country_code);
	char region[3], code[8];
	size_t len;
	int type;

	if (dg->plus)
		return try_international("", dg->d, out) == 0 ? PHONE_VALID : PHONE_INVALID;
	if (starts_with_n(dg->d, or_empty(plan->international_prefix), &len) &&
	    try_international("", dg->d + len, out) == 0)
		return PHONE_VALID;
	phone_plan_region(plan, region);
	if (region[0] && cached_parse(dg->d, region, out->e164, &type) == 0) {
		out->type = (enum phone_type)type;
		return PHONE_VALID;
	}
	if (!*cc && region[0])
		snprintf(code, sizeof(code), "%d", pn_shim_code_of_region(region)), cc = code;
	if (*cc && starts_with_n(dg->d, or_empty(plan->trunk_prefix), &len) &&
	    dg->n - len >= PHONE_MIN_NATIONAL && try_international(cc, dg->d + len, out) == 0)
		return PHONE_VALID;
	if ((!region[0] || dg->n > PHONE_MAX_NATIONAL) && try_international("", dg->d, out) == 0)
		return PHONE_VALID;
	return PHONE_INVALID;
}

enum phone_verdict phone_parse(const char *raw, const struct phone_plan *plan, struct phone_number *out)
{
	enum phone_verdict v;
	struct digits dg;
	const char *s;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (!raw)
		return PHONE_NOT_PUBLIC;
	s = user_part(raw, &len);
	if (len > PHONE_MAX_RAW || collect(s, len, &dg) < 0 || dg.n < PHONE_MIN_NATIONAL)
		return PHONE_NOT_PUBLIC;
	v = read_digits(&dg, plan, out);
	/* libphonenumber knows a few numbers shorter than any subscriber's
	 * (+43 1114); under PHONE_MIN_E164 digits they are short codes, as
	 * phone_classify() says. */
	if (v == PHONE_VALID && strlen(out->e164) < PHONE_MIN_E164)
		v = PHONE_NOT_PUBLIC;
	if (v != PHONE_VALID)
		memset(out, 0, sizeof(*out));
	return v;
}

int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN])
{
	struct phone_number n;

	if (phone_parse(raw, plan, &n) != PHONE_VALID) {
		out[0] = '\0';
		return -1;
	}
	memcpy(out, n.e164, PHONE_E164_LEN);
	return 0;
}

enum phone_type phone_type_of(const char *e164)
{
	char plus[PHONE_E164_LEN + 1], out[PHONE_E164_LEN];
	int type;

	if (!e164 || strlen(e164) >= PHONE_E164_LEN)
		return PHONE_TYPE_UNKNOWN;
	snprintf(plus, sizeof(plus), "+%s", e164);
	/* Through the cache; digits libphonenumber writes otherwise are no E.164. */
	if (cached_parse(plus, NULL, out, &type) < 0 || strcmp(out, e164) != 0)
		return PHONE_TYPE_UNKNOWN;
	return (enum phone_type)type;
}

const char *phone_type_name(enum phone_type t)
{
	static const char *const names[] = {
		[PHONE_TYPE_UNKNOWN] = "unknown",
		[PHONE_TYPE_FIXED_LINE] = "fixed_line",
		[PHONE_TYPE_MOBILE] = "mobile",
		[PHONE_TYPE_FIXED_LINE_OR_MOBILE] = "fixed_line_or_mobile",
		[PHONE_TYPE_TOLL_FREE] = "toll_free",
		[PHONE_TYPE_PREMIUM_RATE] = "premium_rate",
		[PHONE_TYPE_SHARED_COST] = "shared_cost",
		[PHONE_TYPE_VOIP] = "voip",
		[PHONE_TYPE_PERSONAL_NUMBER] = "personal_number",
		[PHONE_TYPE_PAGER] = "pager",
		[PHONE_TYPE_UAN] = "uan",
		[PHONE_TYPE_VOICEMAIL] = "voicemail",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

/* Formatted numbers, per thread as the parse cache above: a page of calls
 * and an export show the same few numbers again and again. */
#define PHONE_FORMAT_SLOTS 4096

struct format_slot {
	char key[24]; /* style digit, region (or "--"), E.164 digits */
	char text[PHONE_DISPLAY_LEN];
	signed char rc;
};

static __thread struct format_slot formats[PHONE_FORMAT_SLOTS];

int phone_format(const char *e164, enum phone_style style, const char *from_region, char *out,
		 size_t size)
{
	struct format_slot *slot;
	char key[sizeof(formats[0].key)];
	int n;

	if (!e164 || !out || !size)
		return -1;
	n = snprintf(key, sizeof(key), "%d%.2s%s", (int)style,
		     from_region && *from_region ? from_region : "--", e164);
	if (n < 0 || (size_t)n >= sizeof(key))
		return pn_shim_format(e164, (int)style, from_region, out, size);
	slot = &formats[hash_text(key) % PHONE_FORMAT_SLOTS];
	if (strcmp(slot->key, key) != 0) {
		slot->rc = (signed char)pn_shim_format(e164, (int)style, from_region, slot->text,
						       sizeof(slot->text));
		memcpy(slot->key, key, (size_t)n + 1);
	}
	out[0] = '\0';
	if (slot->rc < 0 || strlen(slot->text) >= size)
		return -1;
	memcpy(out, slot->text, strlen(slot->text) + 1);
	return 0;
}

int phone_style_parse(const char *text)
{
	static const char *const names[] = { [PHONE_STYLE_E164] = "e164",
					     [PHONE_STYLE_INTERNATIONAL] = "international",
					     [PHONE_STYLE_NATIONAL] = "national" };

	for (size_t i = 0; text && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(text, names[i]) == 0)
			return (int)i;
	return -1;
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
