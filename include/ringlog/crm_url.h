/* Links to a lead's card in the CRM, from a source's --crm-url-template: one
 * rule for screen pop (ingest) and the query API (fetcher). */
#ifndef RINGLOG_CRM_URL_H
#define RINGLOG_CRM_URL_H

#include "ringlog/buf.h"

/* Appends TEMPLATE to OUT with {id} replaced by ID (kept as written when ID
 * is NULL), {phone} by PHONE and {e164} by E164 (NULL: empty), each
 * URL-escaped (RFC 3986 unreserved characters stay as they are). */
void crm_url_fill(const char *template, const char *id, const char *phone, const char *e164,
		  struct buf *out);

#endif
