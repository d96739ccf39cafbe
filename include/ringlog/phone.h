/* Phone numbers to E.164 digits, so that one person is one lead however the
 * PBX wrote the number: 0528812345 and +972 52-881-2345 are the same. */
#ifndef RINGLOG_PHONE_H
#define RINGLOG_PHONE_H

#include <stddef.h>

#include "ringlog/compiler.h"

/* How a source's numbers are written. */
struct phone_plan {
	const char *country_code;         /* "972"; "" = numbers are always international */
	const char *trunk_prefix;         /* "0" (IL, UA), "06" (HU); "" = none */
	const char *international_prefix; /* "00"; "" = none */
};

/* E.164 has at most 15 digits; OUT needs PHONE_E164_LEN bytes. */
#define PHONE_E164_LEN 16

/* Writes the E.164 digits of RAW (no '+') to OUT. Returns 0, or -1 when RAW
 * is not a public number: an extension, a short number, a SIP name, or a
 * number that cannot be placed in the plan. */
int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN]) RL_MUST_CHECK;

#endif
