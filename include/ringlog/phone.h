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

/* Shorter than this many digits is an extension or a service number. */
#define PHONE_MIN_NATIONAL 6

/* Writes the E.164 digits of RAW (no '+') to OUT. Accepts separators people
 * write (space - . / ( )), a leading '+', the plan's international and trunk
 * prefixes, and tel:/sip: URIs. Returns 0, or -1 when RAW is not a public
 * number: an extension, a short number, a SIP name, a withheld caller id, or
 * a number that cannot be placed in the plan. */
int phone_normalize(const char *raw, const struct phone_plan *plan, char out[PHONE_E164_LEN]) RL_MUST_CHECK;

enum phone_kind {
	PHONE_KIND_NONE,      /* empty, withheld ("anonymous"), or not a number */
	PHONE_KIND_EXTENSION, /* a short number (< PHONE_MIN_NATIONAL digits) or a SIP name */
	PHONE_KIND_PUBLIC,    /* a number of the public network */
};

/* What RAW looks like, without a plan: tells an agent's extension from a
 * customer's number (directions, agents). */
enum phone_kind phone_classify(const char *raw);

#endif
