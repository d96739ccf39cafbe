/* The one door to libphonenumber (a C++ library): lib/phonenumber_shim.cc.
 * Plain C types in and out, nothing thrown; lib/phone.c holds the rules
 * (withheld callers, prefixes of a source's plan) and calls these. */
#ifndef RINGLOG_PHONENUMBER_SHIM_H
#define RINGLOG_PHONENUMBER_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Reads DIGITS (an optional leading '+', then 1 to 20 ASCII digits) as
 * dialled in REGION ("HU"; NULL or "" when it must be international).
 * Writes the E.164 digits (no '+') to OUT (16 bytes) and the number's type
 * (enum phone_type) to TYPE. Returns 0 when the number is valid for some
 * region, -1 otherwise (OUT is then ""). */
int pn_shim_parse(const char *digits, const char *region, char out[16], int *type);

/* The type (enum phone_type) of E164 digits, PHONE_TYPE_UNKNOWN when they
 * are not a valid number. */
int pn_shim_type(const char *e164);

/* Writes E164 digits in STYLE (enum phone_style) to OUT (SIZE bytes);
 * national style from FROM_REGION ("" or NULL: the number's own country)
 * writes a foreign number as dialled from there. Returns 0, or -1 when the
 * digits are not a valid number or OUT is too small. */
int pn_shim_format(const char *e164, int style, const char *from_region, char *out, size_t size);

/* The main region of calling code CC ("HU" for 36, "US" for 1) in OUT (3
 * bytes). Returns 0, or -1 when no region has that code. */
int pn_shim_region_of_code(int cc, char out[3]);
/* The calling code of REGION ("HU" -> 36), or 0 for an unknown region. */
int pn_shim_code_of_region(const char *region);

#ifdef __cplusplus
}
#endif

#endif
