#include "ringlog/crm_url.h"

#include <ctype.h>
#include <string.h>

static void add_escaped(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			buf_addch(b, (char)c);
		else
			buf_addf(b, "%%%02X", c);
	}
}

void crm_url_fill(const char *template, const char *id, const char *phone, const char *e164,
		  struct buf *out)
{
	for (const char *p = template; p && *p;) {
		if (strncmp(p, "{id}", 4) == 0 && id) {
			add_escaped(out, id);
			p += 4;
		} else if (strncmp(p, "{phone}", 7) == 0) {
			add_escaped(out, phone);
			p += 7;
		} else if (strncmp(p, "{e164}", 6) == 0) {
			add_escaped(out, e164);
			p += 6;
		} else {
			buf_addch(out, *p++);
		}
	}
}
