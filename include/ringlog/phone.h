/* Phone numbers to E.164 digits, so that one person is one lead however the
 * PBX wrote the number: 0528812345 and +972 52-881-2345 are the same. Read,
 * validated, typed and formatted by Google's libphonenumber (through
 * lib/phonenumber_shim.cc) with the region of the source. */
#ifndef RINGLOG_PHONE_H
#define RINGLOG_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#include "ringlog/compiler.h"

/* How a source's numbers are written. */
struct phone_plan {
	const char *country_code;         /* "972"; "" = numbers are always international */
	const char *trunk_prefix;         /* "0" (IL, UA), "06" (HU); "" = none */
	const char *international_prefix; /* "00"; "" = none */
	const char *region;               /* "HU" (ISO 3166); NULL or "" = the main region
					     of country_code */
};

/* E.164 has at most 15 digits; OUT needs PHONE_E164_LEN bytes. */
#define PHONE_E164_LEN 16

/* Shorter than this many digits is an extension or a service number. */
#define PHONE_MIN_NATIONAL 6

/* What libphonenumber says a valid number is (its PhoneNumberType). */
enum phone_type {
	PHONE_TYPE_UNKNOWN,
	PHONE_TYPE_FIXED_LINE,
	PHONE_TYPE_MOBILE,
	PHONE_TYPE_FIXED_LINE_OR_MOBILE, /* where the plan does not tell (NANP) */
	PHONE_TYPE_TOLL_FREE,
	PHONE_TYPE_PREMIUM_RATE,
	PHONE_TYPE_SHARED_COST,
	PHONE_TYPE_VOIP,
	PHONE_TYPE_PERSONAL_NUMBER,
	PHONE_TYPE_PAGER,
	PHONE_TYPE_UAN,
	PHONE_TYPE_VOICEMAIL,
};

/* What a raw number turned out to be. */
enum phone_verdict {
	PHONE_VALID,      /* a number valid in its region: E.164 and type set */
	PHONE_NOT_PUBLIC, /* empty, withheld (anonymous, unknown, Restricted), an
			     extension, a short code, a SIP name, not a number */
	PHONE_INVALID,    /* written like a public number, valid for no region */
};

struct phone_number {
	char e164[PHONE_E164_LEN]; /* digits, no '+'; "" unless VALID */
	enum phone_type type;
};

/* Reads RAW in PLAN: separators people write (space - . / ( )), a leading
 * '+', the plan's international and trunk prefixes, the region's own
 * prefixes (NANP 1 and 011, Argentina's 9/15), tel:/sip: URIs. Fills OUT;
 * never fails otherwise. */
enum phone_verdict phone_parse(const char *raw, const struct phone_plan *plan, struct phone_number *out);

/* Writes the E.164 digits of RAW (no '+') to OUT. Returns 0, or -1 (OUT "")
 * when RAW is not a valid public number (see phone_parse). */
int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN]) RL_MUST_CHECK;

/* The region PLAN reads national numbers in: its region, else the main
 * region of its country code ("HU"; "US" for 1), else "" (international
 * only). Writes 3 bytes to OUT and returns OUT. */
const char *phone_plan_region(const struct phone_plan *plan, char out[3]);

/* True when REGION is a two-letter region libphonenumber knows ("HU"). */
bool phone_region_is_known(const char *region);
/* The calling code of a known REGION (36 for "HU"), or 0. */
int phone_region_code(const char *region);

/* The type of E.164 digits (PHONE_TYPE_UNKNOWN when not valid). */
enum phone_type phone_type_of(const char *e164);
/* "mobile", "fixed_line", "toll_free", ...; "unknown". */
const char *phone_type_name(enum phone_type t);

enum phone_style {
	PHONE_STYLE_E164,          /* +36301234567 */
	PHONE_STYLE_INTERNATIONAL, /* +36 30 123 4567 */
	PHONE_STYLE_NATIONAL,      /* 06 30 123 4567 (a foreign number as dialled
				      from FROM_REGION: 00 44 20 7946 0958) */
};

/* Writes E164 digits for people in STYLE to OUT (SIZE bytes; 32 is enough).
 * FROM_REGION (NULL: the number's own) matters for the national style.
 * Returns 0, or -1 (OUT "") when the digits are not a valid number. */
int phone_format(const char *e164, enum phone_style style, const char *from_region, char *out,
		 size_t size);
/* Parses "e164", "international", "national"; -1 for anything else. */
int phone_style_parse(const char *text);

#define PHONE_DISPLAY_LEN 48

enum phone_kind {
	PHONE_KIND_NONE,      /* empty, withheld ("anonymous"), or not a number */
	PHONE_KIND_EXTENSION, /* a short number (< PHONE_MIN_NATIONAL digits) or a SIP name */
	PHONE_KIND_PUBLIC,    /* a number of the public network */
};

/* What RAW looks like, without a plan: tells an agent's extension from a
 * customer's number (directions, agents). */
enum phone_kind phone_classify(const char *raw);

#endif
