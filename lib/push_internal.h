/* What the files of the push module share and nobody else needs. */
#ifndef RINGLOG_PUSH_INTERNAL_H
#define RINGLOG_PUSH_INTERNAL_H

#include "ringlog/push.h"
#include "ringlog/rltime.h"

/* The parameters of ringlog_ingest_call(), in order. */
enum push_param {
	PP_SOURCE_ID, PP_CALL_ID, PP_DIRECTION, PP_DISPOSITION, PP_CALLER, PP_CALLER_E164,
	PP_CALLER_NAME, PP_CALLEE, PP_CALLEE_E164, PP_DID, PP_AGENT, PP_AGENT_NAME,
	PP_STARTED_AT, PP_ANSWERED_AT, PP_ENDED_AT, PP_TIME_ZONE, PP_DURATION, PP_BILLABLE,
	PP_RECORDINGS, PP_RAW, PP_RECEIVED_AT, PP_LEG_OF,
	PUSH_NPARAMS
};

struct push_ready {
	char *params[PUSH_NPARAMS]; /* owned text; NULL is SQL NULL */
};

/* Writes µs since the epoch as an absolute time for PostgreSQL. */
void push_received_text(int64_t us, char out[RLTIME_TEXT_LEN]);

#endif
