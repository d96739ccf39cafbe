// The one C++ file: lib/phone.c's door to Google's libphonenumber
// (Debian's libphonenumber-dev). Everything here is plain C to the caller
// and nothing is thrown past it.
//
// libphonenumber's Parse() runs a dozen ICU regular expressions (12-19 µs a
// number on this machine), so the common cases take a short way that gives
// the same answer: a '+' number is split into calling code and national
// number here, a national one has the region's national prefix taken off,
// and the result goes straight to GetNumberType(), which is the validity
// check (a number is valid exactly when its type is known). Only what that
// finds invalid goes through Parse(): Argentine 15 mobiles, NANP 011, a
// national prefix after the calling code (+44 0 20 ...), own calling code
// without '+' — Parse() decides those, and a number it finds invalid too is
// invalid.
#include "phonenumber_shim.h"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// enum phone_type of include/ringlog/phone.h, in its order.
enum {
	T_UNKNOWN, T_FIXED_LINE, T_MOBILE, T_FIXED_LINE_OR_MOBILE, T_TOLL_FREE, T_PREMIUM_RATE,
	T_SHARED_COST, T_VOIP, T_PERSONAL_NUMBER, T_PAGER, T_UAN, T_VOICEMAIL,
};
// enum phone_style of include/ringlog/phone.h.
enum { S_E164, S_INTERNATIONAL, S_NATIONAL };

// libphonenumber's longest national significant number.
const size_t max_national = 17;

const PhoneNumberUtil &util()
{
	return *PhoneNumberUtil::GetInstance();
}

int type_of(const PhoneNumber &pn)
{
	switch (util().GetNumberType(pn)) {
	case PhoneNumberUtil::FIXED_LINE: return T_FIXED_LINE;
	case PhoneNumberUtil::MOBILE: return T_MOBILE;
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return T_FIXED_LINE_OR_MOBILE;
	case PhoneNumberUtil::TOLL_FREE: return T_TOLL_FREE;
	case PhoneNumberUtil::PREMIUM_RATE: return T_PREMIUM_RATE;
	case PhoneNumberUtil::SHARED_COST: return T_SHARED_COST;
	case PhoneNumberUtil::VOIP: return T_VOIP;
	case PhoneNumberUtil::PERSONAL_NUMBER: return T_PERSONAL_NUMBER;
	case PhoneNumberUtil::PAGER: return T_PAGER;
	case PhoneNumberUtil::UAN: return T_UAN;
	case PhoneNumberUtil::VOICEMAIL: return T_VOICEMAIL;
	default: return T_UNKNOWN;
	}
}

// PN := calling code CC and the national digits NAT (N of them). Leading
// zeros are part of the number (Italian fixed lines keep their 0). As in
// Parse(), the last digit is never counted a leading zero: an all-zero
// national number (+881 000000000, a satellite mobile) is 0 after N-1 zeros.
bool build(int cc, const char *nat, size_t n, PhoneNumber *pn)
{
	size_t zeros = 0;
	unsigned long long v = 0;

	if (n == 0 || n > max_national)
		return false;
	while (zeros + 1 < n && nat[zeros] == '0')
		zeros++;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(nat[i] - '0');
	pn->Clear();
	pn->set_country_code(cc);
	pn->set_national_number(v);
	if (zeros) {
		pn->set_italian_leading_zero(true);
		if (zeros > 1)
			pn->set_number_of_leading_zeros((int)zeros);
	}
	return true;
}

bool is_code(int cc)
{
	std::string r;

	util().GetRegionCodeForCountryCode(cc, &r);
	return r != "ZZ";
}

// International digits (after the '+'): calling code, then the rest.
bool build_international(const char *d, PhoneNumber *pn)
{
	size_t n = std::strlen(d);
	int cc = 0;

	if (d[0] == '0')
		return false;
	for (size_t len = 1; len <= 3 && len < n; len++) {
		cc = cc * 10 + (d[len - 1] - '0');
		if (cc && is_code(cc))
			return build(cc, d + len, n - len, pn);
	}
	return false;
}

bool starts_with(const char *s, const std::string &prefix)
{
	return !prefix.empty() && std::strncmp(s, prefix.c_str(), prefix.size()) == 0;
}

// The short way for a national number D in REGION: without the national
// prefix, as it is, or (written without '+') after the own calling code.
int fast_national(const char *d, const std::string &region, PhoneNumber *pn)
{
	int cc = util().GetCountryCodeForRegion(region);
	size_t n = std::strlen(d);
	std::string ndd, ccs;
	int t;

	if (!cc)
		return T_UNKNOWN;
	util().GetNddPrefixForRegion(region, true, &ndd);
	if (starts_with(d, ndd) && build(cc, d + ndd.size(), n - ndd.size(), pn) &&
	    (t = type_of(*pn)) != T_UNKNOWN)
		return t;
	if (build(cc, d, n, pn) && (t = type_of(*pn)) != T_UNKNOWN)
		return t;
	ccs = std::to_string(cc);
	if (starts_with(d, ccs) && build(cc, d + ccs.size(), n - ccs.size(), pn) &&
	    (t = type_of(*pn)) != T_UNKNOWN)
		return t;
	return T_UNKNOWN;
}

bool digits_ok(const char *s)
{
	size_t n = 0;

	if (*s == '+')
		s++;
	for (; *s; s++, n++)
		if (*s < '0' || *s > '9' || n == 20)
			return false;
	return n > 0;
}

bool region_ok(const char *r)
{
	return r && std::strlen(r) == 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z';
}

void write_e164(const PhoneNumber &pn, char out[16])
{
	std::string s;

	util().Format(pn, PhoneNumberUtil::E164, &s);
	if (s.size() >= 2 && s.size() <= 16 && s[0] == '+')
		std::memcpy(out, s.c_str() + 1, s.size()); // with its NUL
	else
		out[0] = '\0';
}

int parse(const char *digits, const char *region, char out[16], int *type)
{
	std::string reg = region_ok(region) ? region : "ZZ";
	PhoneNumber pn;
	int t = T_UNKNOWN;

	out[0] = '\0';
	*type = T_UNKNOWN;
	if (!digits_ok(digits))
		return -1;
	if (digits[0] == '+') {
		if (build_international(digits + 1, &pn))
			t = type_of(pn);
	} else if (reg != "ZZ") {
		t = fast_national(digits, reg, &pn);
	}
	if (t == T_UNKNOWN) {
		if (util().Parse(digits, reg, &pn) != PhoneNumberUtil::NO_PARSING_ERROR)
			return -1;
		t = type_of(pn);
	}
	if (t == T_UNKNOWN)
		return -1;
	write_e164(pn, out);
	if (!out[0])
		return -1;
	*type = t;
	return 0;
}

int format(const char *e164, int style, const char *from_region, char *out, size_t size)
{
	PhoneNumber pn;
	std::string s;

	if (size)
		out[0] = '\0';
	if (!digits_ok(e164) || e164[0] == '+' || !build_international(e164, &pn) ||
	    type_of(pn) == T_UNKNOWN)
		return -1;
	if (style == S_E164)
		util().Format(pn, PhoneNumberUtil::E164, &s);
	else if (style == S_INTERNATIONAL)
		util().Format(pn, PhoneNumberUtil::INTERNATIONAL, &s);
	else if (region_ok(from_region))
		util().FormatOutOfCountryCallingNumber(pn, from_region, &s);
	else
		util().Format(pn, PhoneNumberUtil::NATIONAL, &s);
	if (s.empty() || s.size() >= size)
		return -1;
	std::memcpy(out, s.c_str(), s.size() + 1);
	return 0;
}

} // namespace

extern "C" int pn_shim_parse(const char *digits, const char *region, char out[16], int *type)
{
	try {
		return parse(digits, region, out, type);
	} catch (...) {
		out[0] = '\0';
		*type = T_UNKNOWN;
		return -1;
	}
}

extern "C" int pn_shim_type(const char *e164)
{
	try {
		PhoneNumber pn;

		if (!digits_ok(e164) || e164[0] == '+' || !build_international(e164, &pn))
			return T_UNKNOWN;
		return type_of(pn);
	} catch (...) {
		return T_UNKNOWN;
	}
}

extern "C" int pn_shim_format(const char *e164, int style, const char *from_region, char *out,
			      size_t size)
{
	try {
		return format(e164, style, from_region, out, size);
	} catch (...) {
		if (size)
			out[0] = '\0';
		return -1;
	}
}

extern "C" int pn_shim_region_of_code(int cc, char out[3])
{
	try {
		std::string r;

		out[0] = '\0';
		util().GetRegionCodeForCountryCode(cc, &r);
		if (!region_ok(r.c_str()))
			return -1;
		std::memcpy(out, r.c_str(), 3);
		return 0;
	} catch (...) {
		return -1;
	}
}

extern "C" int pn_shim_code_of_region(const char *region)
{
	try {
		return region_ok(region) ? util().GetCountryCodeForRegion(region) : 0;
	} catch (...) {
		return 0;
	}
}
