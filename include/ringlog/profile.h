/* Vendor profiles as data: a profile is a table of (where a field is in the
 * payload -> canonical field, converter) plus the vendor's words for
 * directions and dispositions, how its payload is wrapped or encoded, and
 * the answer it expects. profile_prepare() and profile_map() are the one
 * interpreter of those tables; a source's custom mapping (JSON, see README)
 * compiles into the same shape. */
#ifndef RINGLOG_PROFILE_H
#define RINGLOG_PROFILE_H

#include <json-c/json.h>

#include "ringlog/cdr.h"
#include "ringlog/compiler.h"
#include "ringlog/log.h"

struct pull;

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
	CDR_F_LEG_OF,           /* the call id of the call this CDR is another leg of */
	CDR_F_COUNT
};

enum profile_conv {
	CONV_TEXT,        /* string or number, trimmed; "" is absent */
	CONV_SECONDS,     /* a non-negative number or numeric string */
	CONV_TIME,        /* ISO 8601 / epoch / naive text (see rltime.h) */
	CONV_TIME_LOCAL,  /* as CONV_TIME, but a bare number is local wall clock */
	CONV_DIRECTION,   /* through the profile's direction words */
	CONV_DISPOSITION, /* through the profile's disposition words */
	CONV_CLID_NAME,   /* the name of a caller id: "Nagy Péter" <36301234567> */
	CONV_CLID_NUMBER, /* the number of a caller id */
	CONV_EXTENSION,   /* text, only when it is an extension or SIP name (phone_classify) */
	CONV_CHANNEL_EXT, /* the extension number of a channel: PJSIP/1002-00000a1c,
			   * sofia/internal/1002@host; a trunk channel gives nothing */
	CONV_JOIN_PATH,   /* PATH and PATH2 joined with one '/': a directory and a file */
};

/* One place to look for a field. Several rules for one field are tried in
 * order; the first that finds a usable value wins. PATH is dotted with
 * optional array indexes: "variables.start_epoch", "callflow[0].times" (an
 * object where an array was expected counts as its only element). A rule
 * with IF_PATH applies only when that path holds the word IF_VALUE. */
struct profile_rule {
	enum cdr_field field;
	const char *path;
	enum profile_conv conv;
	const char *path2;    /* CONV_JOIN_PATH: the second part */
	const char *if_path;  /* NULL: always */
	const char *if_value;
};

/* A vendor word and what it means (matched ignoring case, '_', '-', ' '). */
struct profile_word {
	const char *word;
	int value; /* enum cdr_direction or enum cdr_disposition */
};

enum profile_flags {
	/* An unknown direction or disposition word is an error (otherwise the
	 * next rule is tried, and a disposition is derived at the end). */
	PROFILE_STRICT_WORDS = 1 << 0,
	/* No disposition, no duration, no end: a call in progress (Ringostat's
	 * "before the call" webhook), never a missed call. */
	PROFILE_OPEN_WITHOUT_END = 1 << 1,
	/* Billable seconds or an answer time make the call answered whatever
	 * the hang-up cause says (FreeSWITCH's NORMAL_CLEARING). */
	PROFILE_TALK_MEANS_ANSWERED = 1 << 2,
	/* The direction words are the switch's view of its own channel: an
	 * extension calling a public number is out, a public number calling an
	 * extension in, two extensions internal (FreeSWITCH, Asterisk). */
	PROFILE_DIRECTION_BY_NUMBERS = 1 << 3,
};

struct profile {
	const char *name;
	const struct profile_rule *rules;
	size_t nrules;
	const struct profile_word *directions;   /* ends with {NULL, 0} */
	const struct profile_word *dispositions; /* ends with {NULL, 0} */
	/* The success body the vendor expects; NULL for ringlog's own answer. */
	const char *ack_body;
	unsigned flags; /* enum profile_flags */
	/* How the payload is prepared before mapping (profile_prepare): */
	const char *unwrap;               /* key holding the whole CDR as JSON or
					   * base64 JSON text (FreeSWITCH's "cdr") */
	const char *encoded_values;       /* object whose string values may be
					   * percent-encoded once more ("variables") */
	const char *const *json_strings;  /* paths whose text may hold JSON ("IVR") */
	const char *const *csv_columns;   /* the columns of a CSV record, in order */
	bool ami_events;                  /* takes AMI events (text/plain Key: Value) */
	/* A custom mapping's call-log API (its "pull"); NULL: the vendor's
	 * built-in one, if any (lib/reconcile_vendors.c). */
	const struct pull *pull;
};

/* The key push_decode() gives a CSV record under: {"_csv": [...]}. */
#define PROFILE_CSV_KEY "_csv"
/* ... and an AMI event under: {"_ami": {...}}. */
#define PROFILE_AMI_KEY "_ami"

/* The built-in profile called NAME, or NULL. */
const struct profile *profile_find(const char *name);
/* The canonical field's name as the API and errors spell it. */
const char *profile_field_name(enum cdr_field f);

/* Prepares *PAYLOAD for mapping as P says: unwraps a wrapped CDR, decodes
 * percent-encoded values, parses JSON held in text, names CSV columns. The
 * result replaces *PAYLOAD (the old one is put) and is what the call's raw
 * JSON keeps, so every encoding of one CDR stores the same. Returns 0, or -1
 * with PROB ("invalid_json", "unsupported_media_type") and *PAYLOAD intact. */
int profile_prepare(const struct profile *p, json_object **payload,
		    struct cdr_problem *prob) RL_MUST_CHECK;

/* Maps PAYLOAD (borrowed) into OUT (initialised by the caller) with P.
 * Returns 0, or -1 with PROB naming the field and the problem. Derivation
 * and validation are left to cdr_finish(). */
int profile_map(const struct profile *p, json_object *payload, struct cdr *out,
		struct cdr_problem *prob) RL_MUST_CHECK;

/* Compiles a custom MAPPING (a JSON object, README "Custom mappings") over
 * the built-in profile BASE (NULL: the mapping's "base", else none). Returns
 * a new profile (free with profile_free), or NULL with E saying what is
 * wrong and where. */
struct profile *profile_compile(json_object *mapping, const char *base, struct errbuf *e) RL_MUST_CHECK;
void profile_free(struct profile *p);
/* The profile of a source of VENDOR with MAPPING (may be NULL): built in,
 * or the mapping compiled over the built-in one (then *OWNED is set to it
 * for profile_free; otherwise *OWNED is NULL). NULL with E when there is no
 * such vendor or the mapping does not compile. */
const struct profile *profile_for_source(const char *vendor, json_object *mapping,
					 struct profile **owned, struct errbuf *e);

/* 0 when PATH is a path as rules take them ("a.b[0].c"), else -1 with E
 * saying so at WHERE. */
int profile_check_path(const char *path, const char *where, struct errbuf *e);

/* Finds PATH in ROOT; borrowed, or NULL when absent. */
json_object *profile_lookup(json_object *root, const char *path);

#endif
