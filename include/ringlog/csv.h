/* CSV records as Asterisk's cdr_csv and spreadsheets write them (RFC 4180):
 * fields split by a delimiter, quoted with '"' when they hold one, '""' for
 * a quote inside a quoted field, records ended by LF or CRLF. */
#ifndef RINGLOG_CSV_H
#define RINGLOG_CSV_H

#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

/* Most fields one record may have. */
#define CSV_MAX_FIELDS 1024

struct csv_record {
	char **fields; /* owned, NUL-terminated */
	size_t n, cap;
};

#define CSV_RECORD_INIT { NULL, 0, 0 }

/* Parses the record at S (LEN bytes left) into REC, replacing what it held.
 * Returns the bytes consumed (through the line end), 0 at the end of the
 * input, or -1 with E filled: an unterminated quote, text after a closing
 * quote, a NUL byte, or more than CSV_MAX_FIELDS fields. */
long csv_next(const char *s, size_t len, char delim, struct csv_record *rec, struct errbuf *e) RL_MUST_CHECK;
void csv_record_release(struct csv_record *rec);

#endif
