/* Vendor profiles as data: a profile is a table of (where a field is in the
 * payload -> canonical field, converter) plus the vendor's words for
 * directions and dispositions and the answer it expects. profile_map() is
 * the one interpreter of those tables. */
#ifndef RINGLOG_PROFILE_H
#define RINGLOG_PROFILE_H

#include <json-c/json.h>

#include "ringlog/cdr.h"
#include "ringlog/compiler.h"

enum cdr_field {
	CDR_F_CALL_ID,
	CDR_F_DIRECTION,
	CDR_F_DISPOSITION,
	CDR_F_CALLER,
	CDR_F_CALLER_NAME,
	CDR_F_CALLEE,
	CDR_F_DID,
	CDR_F_AGENT,
	CDR_F_AGENT_NAME,
	CDR_F_STARTED_AT,
	CDR_F_ANSWERED_AT,
	CDR_F_ENDED_AT,
	CDR_F_DURATION,
	CDR_F_BILLABLE,
	CDR_F_RECORDING_REF,    /* recording 0: an encoded id */
	CDR_F_RECORDING_URL,    /* recording 0: a URL */
	CDR_F_RECORDING_BASE64, /* recording 0: inline audio */
	CDR_F_RECORDING2_URL,   /* recording 1: a second format (Ringostat's WAV) */
	CDR_F_COUNT
};

enum profile_conv {
	CONV_TEXT,        /* string or number, trimmed; "" is absent */
	CONV_SECONDS,     /* a non-negative number or numeric string */
	CONV_TIME,        /* ISO 8601 / epoch / naive text (see rltime.h) */
	CONV_TIME_LOCAL,  /* as CONV_TIME, but a bare number is local wall clock */
	CONV_DIRECTION,   /* through the profile's direction words */
	CONV_DISPOSITION, /* through the profile's disposition words */
};

/* One place to look for a field. Several rules for one field are tried in
 * order; the first that finds a non-empty value wins. PATH is dotted with
 * optional array indexes: "variables.start_epoch", "callflow[0].times". */
struct profile_rule {
	enum cdr_field field;
	const char *path;
	enum profile_conv conv;
};

/* A vendor word and what it means (matched ignoring case, '_', '-', ' '). */
struct profile_word {
	const char *word;
	int value; /* enum cdr_direction or enum cdr_disposition */
};

struct profile {
	const char *name;
	const struct profile_rule *rules;
	size_t nrules;
	const struct profile_word *directions;   /* ends with {NULL, 0} */
	const struct profile_word *dispositions; /* ends with {NULL, 0} */
	/* The success body the vendor expects; NULL for ringlog's own answer. */
	const char *ack_body;
};

/* The built-in profile called NAME, or NULL. */
const struct profile *profile_find(const char *name);
/* The canonical field's name as the API and errors spell it. */
const char *profile_field_name(enum cdr_field f);

/* Maps PAYLOAD (borrowed) into OUT (initialised by the caller) with P.
 * Returns 0, or -1 with PROB naming the field and the problem. Derivation
 * and validation are left to cdr_finish(). */
int profile_map(const struct profile *p, json_object *payload, struct cdr *out,
		struct cdr_problem *prob) RL_MUST_CHECK;

/* Finds PATH in ROOT; borrowed, or NULL when absent. */
json_object *profile_lookup(json_object *root, const char *path);

#endif
