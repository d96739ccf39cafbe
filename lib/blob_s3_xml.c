/* What the S3 backend reads from outside (fuzzed: tests/fuzz/fuzz_s3.c):
 * the text of an element by name in an answer (UploadId, Code, the
 * Contents of a listing), and the credentials file. Not a parser of XML in
 * general: S3's answers are flat, attribute-free and unescaped where
 * ringlog looks (keys are hex, upload ids and tokens are opaque text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "blob_s3.h"
#include "ringlog/xalloc.h"

long blob_s3_xml_find(const char *doc, size_t len, const char *tag, size_t from,
		      const char **val, size_t *vlen)
{
	size_t tn = strlen(tag);

	if (!doc || tn == 0 || tn > 64)
		return -1;
	while (from < len) {
		const char *open = memchr(doc + from, '<', len - from), *start, *p;
		size_t left;

		if (!open)
			return -1;
		from = (size_t)(open - doc) + 1;
		left = len - from;
		if (left < tn + 1 || memcmp(doc + from, tag, tn) != 0 || doc[from + tn] != '>')
			continue;
		start = doc + from + tn + 1;
		/* the matching close: "</tag>" */
		for (p = start; (p = memchr(p, '<', (size_t)(doc + len - p))); p++) {
			size_t rest = (size_t)(doc + len - p);

			if (rest >= tn + 3 && p[1] == '/' && memcmp(p + 2, tag, tn) == 0 && p[2 + tn] == '>') {
				*val = start;
				*vlen = (size_t)(p - start);
				return (long)(p + tn + 3 - doc);
			}
		}
		return -1;
	}
	return -1;
}

/* Printable, no blank, no ':' (libcurl takes "ID:SECRET"). */
static bool is_token(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] <= ' ' || v[i] > '~' || v[i] == ':')
			return false;
	return true;
}

int blob_s3_parse_credentials(const char *text, size_t len, char **id, char **secret,
			      struct errbuf *e)
{
	const char *p = text, *end = text + len;

	*id = *secret = NULL;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *eq, *k, *v, *ve;
		char **slot = NULL;

		if (!eol)
			eol = end;
		eq = memchr(p, '=', (size_t)(eol - p));
		k = p;
		while (k < eol && (*k == ' ' || *k == '\t'))
			k++;
		if (eq && k < eq) {
			size_t kn = (size_t)(eq - k);

			while (kn && (k[kn - 1] == ' ' || k[kn - 1] == '\t'))
				kn--;
			if (kn == 17 && strncasecmp(k, "aws_access_key_id", kn) == 0)
				slot = id;
			else if (kn == 21 && strncasecmp(k, "aws_secret_access_key", kn) == 0)
				slot = secret;
			v = eq + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			ve = eol;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			if (slot && !*slot && ve > v && ve - v < 256 && is_token(v, (size_t)(ve - v)))
				*slot = xstrndup(v, (size_t)(ve - v));
		}
		p = eol + 1;
	}
	if (*id && *secret)
		return 0;
	free(*id);
	free(*secret);
	*id = *secret = NULL;
	return err_set(e, "the credentials file needs aws_access_key_id and aws_secret_access_key");
}

int64_t blob_s3_iso_time(const char *v, size_t n)
{
	char tmp[40];
	struct tm tm = { 0 };

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (sscanf(tmp, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

int blob_s3_list_page(const char *xml, size_t len, size_t prefix_len,
		      int (*fn)(void *ctx, const struct blob_info *info), void *ctx, char **next)
{
	size_t pos = 0;
	const char *v, *key, *size, *mod;
	size_t n, kn, sn, mn;
	long end;

	*next = NULL;
	while ((end = blob_s3_xml_find(xml, len, "Contents", pos, &v, &n)) >= 0) {
		struct blob_info info;

		pos = (size_t)end;
		if (blob_s3_xml_find(v, n, "Key", 0, &key, &kn) < 0 || kn != prefix_len + BLOB_KEY_LEN)
			continue;
		memset(&info, 0, sizeof(info));
		memcpy(info.key, key + prefix_len, BLOB_KEY_LEN);
		if (!blob_key_is_valid(info.key) || auth_unhex(info.key, info.sha256, AUTH_SHA256_LEN) < 0)
			continue;
		if (blob_s3_xml_find(v, n, "Size", 0, &size, &sn) >= 0 && sn < 20)
			for (size_t i = 0; i < sn && size[i] >= '0' && size[i] <= '9'; i++)
				info.size = info.size * 10 + (uint64_t)(size[i] - '0');
		if (blob_s3_xml_find(v, n, "LastModified", 0, &mod, &mn) >= 0)
			info.mtime = blob_s3_iso_time(mod, mn);
		if (fn(ctx, &info) < 0)
			return -1;
	}
	if (blob_s3_xml_find(xml, len, "IsTruncated", 0, &v, &n) >= 0 && n == 4 &&
	    memcmp(v, "true", 4) == 0 &&
	    blob_s3_xml_find(xml, len, "NextContinuationToken", 0, &v, &n) >= 0 && n && n < 2048)
		*next = xstrndup(v, n);
	return 0;
}
