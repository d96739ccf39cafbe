/* Asterisk Manager Interface events as forwarders push them: `Key: Value`
 * lines (CRLF or LF), e.g. the Cdr event of cdr_manager, decoded into a JSON
 * object of strings like a form, so every encoding reaches the mappers the
 * same way. */
#ifndef RINGLOG_AMI_H
#define RINGLOG_AMI_H

#include <json-c/json.h>
#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

/* Most lines (keys) one event may have, and the longest key. */
#define AMI_MAX_LINES 1024
#define AMI_MAX_KEY 128

/* Decodes LEN bytes of S, one event: lines `Key: Value` (spaces around the
 * value trimmed; a repeated key becomes an array of strings), blank lines
 * only at the end. Returns a new object (caller puts it), or NULL with E
 * filled: a line without a colon, a key that is empty, too long or not
 * [A-Za-z0-9_-], a second event, invalid UTF-8, a NUL byte, too many lines. */
json_object *ami_parse(const char *s, size_t len, struct errbuf *e) RL_MUST_CHECK;

#endif
