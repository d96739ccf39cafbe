/* The one check of a lead's fields, for every path that writes them: the
 * CRM's API (POST /v1/leads) and the admin command (lead add, lead import). */
#ifndef RINGLOG_LEAD_H
#define RINGLOG_LEAD_H

#include "ringlog/compiler.h"
#include "ringlog/log.h"

/* Checks VALUE of lead field FIELD ("name", "company", "crm_id", "crm_url",
 * "responsible"): UTF-8 without control characters, at most the field's
 * length; a crm_url is an http:// or https:// URL (the page links to it).
 * Returns 0, or -1 with E saying why (naming the field). An unknown FIELD
 * is refused. */
int lead_check_field(const char *field, const char *value, struct errbuf *e) RL_MUST_CHECK;

#endif
