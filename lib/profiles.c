/* The built-in vendor profiles: tables only, read by profile_prepare() and
 * profile_map(). docs/vendors.md (examples in tests/fixtures/vendors) is
 * the reference for every field named here. */
#include <string.h>

#include "ringlog/profile.h"

#define R(field, path, conv) { CDR_F_##field, path, CONV_##conv, NULL, NULL, NULL }

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
	R(CALL_ID, "call_id", TEXT),
	R(DIRECTION, "direction", DIRECTION),
	R(DISPOSITION, "disposition", DISPOSITION),
	R(CALLER, "caller", TEXT),
	R(CALLER_NAME, "caller_name", TEXT),
	R(CALLEE, "callee", TEXT),
	R(DID, "did", TEXT),
	R(AGENT, "agent", TEXT),
	R(AGENT, "agent_ext", TEXT),
	R(AGENT_NAME, "agent_name", TEXT),
	R(STARTED_AT, "started_at", TIME),
	R(ANSWERED_AT, "answered_at", TIME),
	R(ENDED_AT, "ended_at", TIME),
	R(DURATION, "duration", SECONDS),
	R(DURATION, "duration_s", SECONDS),
	R(BILLABLE, "billsec", SECONDS),
	R(BILLABLE, "billable_s", SECONDS),
	R(RECORDING_REF, "recording_id", TEXT),
	R(RECORDING_URL, "recording_url", TEXT),
	R(RECORDING_BASE64, "recording_base64", TEXT),
	R(LEG_OF, "leg_of", TEXT),
};

static const struct profile generic = {
	.name = "generic",
	.rules = generic_rules,
	.nrules = RL_ARRAY_LEN(generic_rules),
	.directions = generic_directions,
	.dispositions = generic_dispositions,
	.flags = PROFILE_STRICT_WORDS,
};

/* ---- voicenter: CDR Notification (docs/vendors.md) --------------------- */

static const struct profile_word voicenter_directions[] = {
	/* `direction`, then the older `type` (CdrType names). */
	{ "incoming", CDR_IN },
	{ "outgoing", CDR_OUT },
	{ "internal", CDR_INTERNAL },
	{ "incoming call", CDR_IN },
	{ "queue", CDR_IN },
	{ "voicemail", CDR_IN },
	{ "click 2 ivr incoming", CDR_IN },
	{ "click 2 queue incoming", CDR_IN },
	{ "extension outgoing", CDR_OUT },
	{ "click2call leg1", CDR_OUT },
	{ "click2call leg2", CDR_OUT },
	{ "productivecall leg1", CDR_OUT },
	{ "productivecall leg2", CDR_OUT },
	{ "click 2 ivr", CDR_OUT },
	{ "xfercdr", CDR_INTERNAL },
	{ NULL, 0 },
};

static const struct profile_word voicenter_dispositions[] = {
	{ "answer", CDR_ANSWERED },
	{ "noanswer", CDR_MISSED },
	{ "cancel", CDR_MISSED },
	{ "abandone", CDR_MISSED }, /* a queue abandon is a missed call */
	{ "timeout", CDR_MISSED },
	{ "full", CDR_MISSED },
	{ "exit", CDR_MISSED },
	{ "joinempty", CDR_MISSED },
	{ "busy", CDR_BUSY },
	{ "notcalled", CDR_FAILED },
	{ "voicemail", CDR_VOICEMAIL },
	/* VOEND and TE are undocumented: derived from actualCallDuration. */
	{ NULL, 0 },
};

static const struct profile_rule voicenter_rules[] = {
	R(CALL_ID, "ivruniqueid", TEXT),
	R(CALL_ID, "ivrid", TEXT),
	R(DIRECTION, "direction", DIRECTION),
	R(DIRECTION, "type", DIRECTION),
	R(DISPOSITION, "status", DISPOSITION),
	R(CALLER, "caller", TEXT),
	R(CALLER, "callerPhone", TEXT),
	/* Incoming: the DID dialled; outgoing: the customer in `target`. */
	R(CALLEE, "did", TEXT),
	R(CALLEE, "target", TEXT),
	R(DID, "did", TEXT),
	R(AGENT, "extenUser", TEXT),
	R(AGENT, "targetextension", TEXT),
	R(AGENT, "callerextension", TEXT),
	R(AGENT_NAME, "representative_name", TEXT),
	R(AGENT_NAME, "targetextension_name", TEXT),
	R(AGENT_NAME, "callerextension_name", TEXT),
	/* Israel wall-clock seconds written as an epoch (§1.3). */
	R(STARTED_AT, "time", TIME_LOCAL),
	R(DURATION, "duration", SECONDS),
	R(BILLABLE, "actualCallDuration", SECONDS),
	R(RECORDING_URL, "record", TEXT),
};

static const char *const voicenter_json_strings[] = { "IVR", "CustomData", "aiData", NULL };

static const struct profile voicenter = {
	.name = "voicenter",
	.rules = voicenter_rules,
	.nrules = RL_ARRAY_LEN(voicenter_rules),
	.directions = voicenter_directions,
	.dispositions = voicenter_dispositions,
	.ack_body = "{\"Err\":0,\"Errdesc\":\"OK\"}",
	.json_strings = voicenter_json_strings,
};

/* ---- ringostat: Webhooks 2.0 (docs/vendors.md): keys at the top level or
 * under additional_call_data ------------------------------------------- */

static const struct profile_word ringostat_directions[] = {
	{ "in", CDR_IN },	{ "inbound", CDR_IN },	 { "incoming", CDR_IN },
	{ "out", CDR_OUT },	{ "outbound", CDR_OUT }, { "outgoing", CDR_OUT },
	{ "callback", CDR_OUT }, { "internal", CDR_INTERNAL }, { NULL, 0 },
};

static const struct profile_word ringostat_dispositions[] = {
	{ "answered", CDR_ANSWERED },	  { "proper", CDR_ANSWERED },
	{ "no answer", CDR_MISSED },	  { "noanswer", CDR_MISSED },
	{ "missed", CDR_MISSED },	  { "busy", CDR_BUSY },
	{ "failed", CDR_FAILED },	  { "voicemail", CDR_VOICEMAIL },
	{ "in progress", CDR_IN_PROGRESS }, { "calling", CDR_IN_PROGRESS },
	{ "ringing", CDR_IN_PROGRESS },	  { NULL, 0 },
};

#define RINGOSTAT(field, key, conv) R(field, key, conv), R(field, "additional_call_data." key, conv)

static const struct profile_rule ringostat_rules[] = {
	RINGOSTAT(CALL_ID, "uniqueid", TEXT),
	RINGOSTAT(DIRECTION, "call_type", DIRECTION),
	RINGOSTAT(DIRECTION, "direction", DIRECTION),
	RINGOSTAT(DISPOSITION, "disposition", DISPOSITION),
	RINGOSTAT(CALLER, "caller", TEXT),
	RINGOSTAT(CALLER, "caller_number", TEXT),
	RINGOSTAT(CALLEE, "dst", TEXT),
	RINGOSTAT(AGENT, "connected_with", TEXT),
	RINGOSTAT(AGENT, "employee_number", TEXT),
	RINGOSTAT(AGENT_NAME, "employee_fio", TEXT),
	/* Naive, in the project's zone. */
	RINGOSTAT(STARTED_AT, "calldate", TIME),
	RINGOSTAT(DURATION, "duration", SECONDS),
	RINGOSTAT(BILLABLE, "billsec", SECONDS),
	RINGOSTAT(RECORDING_URL, "recording", TEXT),
	RINGOSTAT(RECORDING2_URL, "recording_wav", TEXT),
};

static const struct profile ringostat = {
	.name = "ringostat",
	.rules = ringostat_rules,
	.nrules = RL_ARRAY_LEN(ringostat_rules),
	.directions = ringostat_directions,
	.dispositions = ringostat_dispositions,
	.flags = PROFILE_OPEN_WITHOUT_END,
};

/* ---- freeswitch: mod_json_cdr, one CDR per leg (docs/vendors.md) --------- */

static const struct profile_word freeswitch_directions[] = {
	{ "inbound", CDR_IN },
	{ "outbound", CDR_OUT },
	{ "local", CDR_INTERNAL }, /* FusionPBX's call_direction */
	{ NULL, 0 },
};

/* Hang-up causes (Q.850 names). An answered call is told by its billable
 * seconds (PROFILE_TALK_MEANS_ANSWERED), so NORMAL_CLEARING here is a call
 * that ended before anyone answered. */
static const struct profile_word freeswitch_dispositions[] = {
	{ "voicemail", CDR_VOICEMAIL }, /* last_app */
	{ "NORMAL_CLEARING", CDR_MISSED },
	{ "ORIGINATOR_CANCEL", CDR_MISSED },
	{ "NO_ANSWER", CDR_MISSED },
	{ "NO_USER_RESPONSE", CDR_MISSED },
	{ "ALLOTTED_TIMEOUT", CDR_MISSED },
	{ "LOSE_RACE", CDR_MISSED },
	{ "PICKED_OFF", CDR_MISSED },
	{ "USER_BUSY", CDR_BUSY },
	{ "CALL_REJECTED", CDR_BUSY },
	{ "UNALLOCATED_NUMBER", CDR_FAILED },
	{ "NO_ROUTE_DESTINATION", CDR_FAILED },
	{ "NO_ROUTE_TRANSIT_NET", CDR_FAILED },
	{ "DESTINATION_OUT_OF_ORDER", CDR_FAILED },
	{ "INVALID_NUMBER_FORMAT", CDR_FAILED },
	{ "NORMAL_TEMPORARY_FAILURE", CDR_FAILED },
	{ "NORMAL_CIRCUIT_CONGESTION", CDR_FAILED },
	{ "SWITCH_CONGESTION", CDR_FAILED },
	{ "NETWORK_OUT_OF_ORDER", CDR_FAILED },
	{ "SERVICE_UNAVAILABLE", CDR_FAILED },
	{ "RECOVERY_ON_TIMER_EXPIRE", CDR_FAILED },
	{ "INCOMPATIBLE_DESTINATION", CDR_FAILED },
	{ "USER_NOT_REGISTERED", CDR_FAILED },
	{ "SUBSCRIBER_ABSENT", CDR_FAILED },
	{ "GATEWAY_DOWN", CDR_FAILED },
	{ "MEDIA_TIMEOUT", CDR_FAILED },
	{ "EXCHANGE_ROUTING_ERROR", CDR_FAILED },
	{ NULL, 0 },
};

#define CALLER_PROFILE "callflow[0].caller_profile."

static const struct profile_rule freeswitch_rules[] = {
	R(CALL_ID, "variables.uuid", TEXT),
	R(CALL_ID, CALLER_PROFILE "uuid", TEXT),
	R(CALL_ID, "uuid", TEXT), /* ?uuid= of the POST */
	/* A B-leg names the A-leg it was originated from. */
	R(LEG_OF, "variables.originating_leg_uuid", TEXT),
	R(LEG_OF, CALLER_PROFILE "originator.originator_caller_profiles[0].uuid", TEXT),
	R(DIRECTION, "variables.call_direction", DIRECTION),
	R(DIRECTION, "variables.direction", DIRECTION),
	R(DIRECTION, "channel_data.direction", DIRECTION),
	{ CDR_F_DISPOSITION, "variables.last_app", CONV_DISPOSITION, NULL, "variables.last_app", "voicemail" },
	R(DISPOSITION, "variables.hangup_cause", DISPOSITION),
	R(CALLER, "variables.caller_id_number", TEXT),
	R(CALLER, CALLER_PROFILE "caller_id_number", TEXT),
	R(CALLER, "variables.sip_from_user", TEXT),
	R(CALLER_NAME, "variables.caller_id_name", TEXT),
	R(CALLER_NAME, CALLER_PROFILE "caller_id_name", TEXT),
	R(CALLEE, "variables.destination_number", TEXT),
	R(CALLEE, CALLER_PROFILE "destination_number", TEXT),
	R(CALLEE, "variables.sip_to_user", TEXT),
	R(AGENT, "variables.dialed_user", TEXT),
	R(AGENT, "variables.cc_agent", TEXT),
	R(AGENT, CALLER_PROFILE "originatee.originatee_caller_profiles[0].destination_number", EXTENSION),
	R(AGENT, "variables.last_sent_callee_id_number", EXTENSION),
	R(AGENT_NAME, "variables.last_sent_callee_id_name", TEXT),
	R(AGENT_NAME, "variables.callee_id_name", TEXT),
	/* *_epoch is true UTC; *_stamp is the server's wall clock. */
	R(STARTED_AT, "variables.start_epoch", TIME),
	R(STARTED_AT, "variables.start_uepoch", TIME),
	R(STARTED_AT, "variables.start_stamp", TIME),
	R(STARTED_AT, "callflow[0].times.created_time", TIME),
	R(ANSWERED_AT, "variables.answer_epoch", TIME),
	R(ANSWERED_AT, "variables.answer_uepoch", TIME),
	R(ANSWERED_AT, "variables.answer_stamp", TIME),
	R(ENDED_AT, "variables.end_epoch", TIME),
	R(ENDED_AT, "variables.end_uepoch", TIME),
	R(ENDED_AT, "variables.end_stamp", TIME),
	R(ENDED_AT, "callflow[0].times.hangup_time", TIME),
	R(DURATION, "variables.duration", SECONDS),
	R(BILLABLE, "variables.billsec", SECONDS),
	/* FusionPBX's convention, then mod_callcenter, then record_session. */
	{ CDR_F_RECORDING_REF, "variables.record_path", CONV_JOIN_PATH, "variables.record_name", NULL, NULL },
	R(RECORDING_REF, "variables.cc_record_filename", TEXT),
	{ CDR_F_RECORDING_REF, "variables.last_arg", CONV_TEXT, NULL, "variables.last_app", "record_session" },
};

static const struct profile freeswitch = {
	.name = "freeswitch",
	.rules = freeswitch_rules,
	.nrules = RL_ARRAY_LEN(freeswitch_rules),
	.directions = freeswitch_directions,
	.dispositions = freeswitch_dispositions,
	.flags = PROFILE_TALK_MEANS_ANSWERED | PROFILE_DIRECTION_BY_NUMBERS,
	.unwrap = "cdr",
	.encoded_values = "variables",
};

/* ---- asterisk: the documented CDR fields, FreePBX's columns, the AMI Cdr
 * event's keys, and cdr_csv's Master.csv (docs/vendors.md) ---------------- */

static const struct profile_word asterisk_directions[] = {
	/* dcontext, when the numbers do not tell (FreePBX context names). */
	{ "from-pstn", CDR_IN },	{ "from-trunk", CDR_IN },
	{ "from-did-direct", CDR_IN },	{ "ext-did", CDR_IN },
	{ "from-internal", CDR_OUT },	{ "outbound-allroutes", CDR_OUT },
	{ "macro-dialout-trunk", CDR_OUT }, { "ext-local", CDR_INTERNAL },
	{ NULL, 0 },
};

static const struct profile_word asterisk_dispositions[] = {
	{ "ANSWERED", CDR_ANSWERED }, { "NO ANSWER", CDR_MISSED }, { "BUSY", CDR_BUSY },
	{ "FAILED", CDR_FAILED },     { "CONGESTION", CDR_FAILED },
	/* The numeric form of ast_cdr_disposition. */
	{ "0", CDR_MISSED },	      { "1", CDR_MISSED },	   { "2", CDR_FAILED },
	{ "4", CDR_BUSY },	      { "8", CDR_ANSWERED },	   { "16", CDR_FAILED },
	{ NULL, 0 },
};

static const struct profile_rule asterisk_rules[] = {
	R(CALL_ID, "uniqueid", TEXT),
	R(CALL_ID, "UniqueID", TEXT),
	R(DIRECTION, "dcontext", DIRECTION),
	R(DIRECTION, "DestinationContext", DIRECTION),
	R(DISPOSITION, "disposition", DISPOSITION),
	R(DISPOSITION, "Disposition", DISPOSITION),
	R(CALLER, "src", TEXT),
	R(CALLER, "Source", TEXT),
	R(CALLER, "clid", CLID_NUMBER),
	R(CALLER, "CallerID", CLID_NUMBER),
	R(CALLER_NAME, "cnam", TEXT),
	R(CALLER_NAME, "clid", CLID_NAME),
	R(CALLER_NAME, "CallerID", CLID_NAME),
	R(CALLEE, "dst", TEXT),
	R(CALLEE, "Destination", TEXT),
	R(DID, "did", TEXT),
	R(AGENT, "dstchannel", CHANNEL_EXT),
	R(AGENT, "DestinationChannel", CHANNEL_EXT),
	R(AGENT, "channel", CHANNEL_EXT),
	R(AGENT, "Channel", CHANNEL_EXT),
	R(AGENT_NAME, "dst_cnam", TEXT),
	/* The server's wall clock unless usegmtime=yes. */
	R(STARTED_AT, "start", TIME),
	R(STARTED_AT, "StartTime", TIME),
	R(ANSWERED_AT, "answer", TIME),
	R(ANSWERED_AT, "AnswerTime", TIME),
	R(ENDED_AT, "end", TIME),
	R(ENDED_AT, "EndTime", TIME),
	R(DURATION, "duration", SECONDS),
	R(DURATION, "Duration", SECONDS),
	R(BILLABLE, "billsec", SECONDS),
	R(BILLABLE, "BillableSeconds", SECONDS),
	R(RECORDING_REF, "recordingfile", TEXT),
};

/* cdr_csv's Master.csv column order. */
static const char *const asterisk_csv_columns[] = {
	"accountcode", "src",	  "dst",      "dcontext", "clid",     "channel",
	"dstchannel",  "lastapp", "lastdata", "start",	  "answer",   "end",
	"duration",    "billsec", "disposition", "amaflags", "uniqueid", "userfield",
	NULL,
};

static const struct profile asterisk = {
	.name = "asterisk",
	.rules = asterisk_rules,
	.nrules = RL_ARRAY_LEN(asterisk_rules),
	.directions = asterisk_directions,
	.dispositions = asterisk_dispositions,
	.flags = PROFILE_DIRECTION_BY_NUMBERS,
	.csv_columns = asterisk_csv_columns,
	.ami_events = true,
};

static const struct profile *const builtin[] = { &generic, &voicenter, &ringostat, &freeswitch,
						 &asterisk };

const struct profile *profile_find(const char *name)
{
	for (size_t i = 0; name && i < RL_ARRAY_LEN(builtin); i++)
		if (strcmp(builtin[i]->name, name) == 0)
			return builtin[i];
	return NULL;
}
