#include "ringlog/csv.h"

#include <stdlib.h>
#include <string.h>

#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

static void clear(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		free(rec->fields[i]);
	rec->n = 0;
}

void csv_record_release(struct csv_record *rec)
{
	clear(rec);
	free(rec->fields);
	rec->fields = NULL;
	rec->cap = 0;
}

static int add_field(struct csv_record *rec, struct buf *field, struct errbuf *e)
{
	if (rec->n == CSV_MAX_FIELDS) {
		buf_release(field);
		return err_set(e, "a record has more than %d fields", CSV_MAX_FIELDS);
	}
	if (rec->n == rec->cap) {
		rec->cap = rec->cap ? rec->cap * 2 : 16;
		rec->fields = xrealloc(rec->fields, rec->cap * sizeof(*rec->fields));
	}
	rec->fields[rec->n++] = buf_detach(field, NULL);
	return 0;
}

/* Reads a quoted field starting after its opening quote at S[*I]. */
static int quoted(const char *s, size_t len, size_t *i, char delim, struct buf *field,
		  struct errbuf *e)
{
	for (;;) {
		if (*i >= len)
			return err_set(e, "a quoted field is not closed");
		if (s[*i] == '"') {
			if (*i + 1 < len && s[*i + 1] == '"') {
				buf_addch(field, '"');
				*i += 2;
				continue;
			}
			(*i)++;
			break;
		}
		if (s[*i] == '\0')
			return err_set(e, "a field holds a NUL byte");
		buf_addch(field, s[(*i)++]);
	}
	if (*i < len && s[*i] != delim && s[*i] != '\n' && s[*i] != '\r')
		return err_set(e, "text follows a closing quote");
	return 0;
}

long csv_next(const char *s, size_t len, char delim, struct csv_record *rec, struct errbuf *e)
{
	size_t i = 0;

	clear(rec);
	if (len == 0)
		return 0;
	for (;;) {
		struct buf field = BUF_INIT;

		if (i < len && s[i] == '"') {
			i++;
			if (quoted(s, len, &i, delim, &field, e) < 0) {
				buf_release(&field);
				return -1;
			}
		} else {
			for (; i < len && s[i] != delim && s[i] != '\n' && s[i] != '\r'; i++) {
				if (s[i] == '\0') {
					buf_release(&field);
					return err_set(e, "a field holds a NUL byte");
				}
				buf_addch(&field, s[i]);
			}
		}
		if (add_field(rec, &field, e) < 0)
			return -1;
		if (i < len && s[i] == delim) {
			i++;
			continue;
		}
		break;
	}
	if (i < len && s[i] == '\r')
		i++;
	if (i < len && s[i] == '\n')
		i++;
	return (long)i;
}
