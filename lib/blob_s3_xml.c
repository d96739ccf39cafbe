/* The little XML the S3 backend reads: the text of an element by name in
 * an answer (UploadId, Code, the Contents of a listing). Not a parser of
 * XML in general: S3's answers are flat, attribute-free and unescaped where
 * ringlog looks (keys are hex, upload ids and tokens are opaque text). */
#include <string.h>

#include "blob_internal.h"

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
