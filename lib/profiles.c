/* The built-in vendor profiles: tables only, read by profile_map(). */
#include <string.h>

#include "ringlog/profile.h"


/* ---- generic: ringlog's documented canonical payload (README) ---------- */

static const struct profile_word generic_directions[] = {
	{ "in", CDR_IN },	   { "inbound", CDR_IN },	{ "incoming", CDR_IN },
	{ "out", CDR_OUT },	   { "outbound", CDR_OUT },	{ "outgoing", CDR_OUT },
	{ "internal", CDR_INTERNAL }, { "local", CDR_INTERNAL }, { NULL, 0 },
};

static const struct profile_word generic_dispositions[] = {
	{ "answered", CDR_ANSWERED },	{ "answer", CDR_ANSWERED },
	{ "missed", CDR_MISSED },	{ "no_answer", CDR_MISSED },
	{ "noanswer", CDR_MISSED },	{ "abandoned", CDR_MISSED },
	{ "cancelled", CDR_MISSED },	{ "canceled", CDR_MISSED },
	{ "busy", CDR_BUSY },		{ "failed", CDR_FAILED },
	{ "congestion", CDR_FAILED },	{ "voicemail", CDR_VOICEMAIL },
	{ "in_progress", CDR_IN_PROGRESS }, { NULL, 0 },
};

static const struct profile_rule generic_rules[] = {
	{ CDR_F_CALL_ID, "call_id", CONV_TEXT },
	{ CDR_F_DIRECTION, "direction", CONV_DIRECTION },
	{ CDR_F_DISPOSITION, "disposition", CONV_DISPOSITION },
	{ CDR_F_CALLER, "caller", CONV_TEXT },
	{ CDR_F_CALLER_NAME, "caller_name", CONV_TEXT },
	{ CDR_F_CALLEE, "callee", CONV_TEXT },
	{ CDR_F_DID, "did", CONV_TEXT },
	{ CDR_F_AGENT, "agent", CONV_TEXT },
	{ CDR_F_AGENT, "agent_ext", CONV_TEXT },
	{ CDR_F_AGENT_NAME, "agent_name", CONV_TEXT },
	{ CDR_F_STARTED_AT, "started_at", CONV_TIME },
	{ CDR_F_ANSWERED_AT, "answered_at", CONV_TIME },
	{ CDR_F_ENDED_AT, "ended_at", CONV_TIME },
	{ CDR_F_DURATION, "duration", CONV_SECONDS },
	{ CDR_F_DURATION, "duration_s", CONV_SECONDS },
	{ CDR_F_BILLABLE, "billsec", CONV_SECONDS },
	{ CDR_F_BILLABLE, "billable_s", CONV_SECONDS },
	{ CDR_F_RECORDING_REF, "recording_id", CONV_TEXT },
	{ CDR_F_RECORDING_URL, "recording_url", CONV_TEXT },
	{ CDR_F_RECORDING_BASE64, "recording_base64", CONV_TEXT },
};

static const struct profile generic = {
	.name = "generic",
	.rules = generic_rules,
	.nrules = RL_ARRAY_LEN(generic_rules),
	.directions = generic_directions,
	.dispositions = generic_dispositions,
	.ack_body = NULL,
};

static const struct profile *const builtin[] = { &generic };

const struct profile *profile_find(const char *name)
{
	for (size_t i = 0; i < RL_ARRAY_LEN(builtin); i++)
		if (strcmp(builtin[i]->name, name) == 0)
			return builtin[i];
	return NULL;
}
