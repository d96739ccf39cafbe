/* The canonical call: what every vendor's push is mapped to before it is
 * stored. Strings are owned by the struct. */
#ifndef RINGLOG_CDR_H
#define RINGLOG_CDR_H

#include <stdbool.h>
#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/rltime.h"

enum cdr_direction { CDR_DIRECTION_UNSET = 0, CDR_IN, CDR_OUT, CDR_INTERNAL };

enum cdr_disposition {
	CDR_DISPOSITION_UNSET = 0,
	CDR_ANSWERED,
	CDR_MISSED,
	CDR_BUSY,
	CDR_FAILED,
	CDR_VOICEMAIL,
	CDR_IN_PROGRESS, /* a "call started" event: never a missed call */
};

/* A recording the push names: an encoded id, a URL, or inline audio (once
 * stored: its blob key, type and size). */
struct cdr_recording {
	char *ref;
	char *url;
	char *base64;
	char *blob_key;  /* the stored inline audio (blob.h), or NULL */
	char *mime_type;
	long long size_bytes;
	/* what came, when the stored blob is not it (transcoded) or is corrupt */
	char *original_sha256;     /* hex */
	char *original_mime_type;
	long long original_size;
	char *corrupt;             /* why the audio cannot be decoded, or NULL */
};

#define CDR_MAX_RECORDINGS 4
#define CDR_MAX_TEXT 256 /* bound of every text field but the call id */
#define CDR_MAX_CALL_ID 256

struct cdr {
	char *call_id;
	enum cdr_direction direction;
	enum cdr_disposition disposition;
	char *caller, *caller_name;
	char *callee;
	char *did;
	char *agent, *agent_name;
	char *leg_of; /* another leg of this call id (FreeSWITCH B-legs), or NULL */
	struct rltime started_at, answered_at, ended_at;
	long long duration_s, billable_s; /* -1 when not known */
	struct cdr_recording recordings[CDR_MAX_RECORDINGS];
};

/* Why a push could not become a call: a machine code ("missing_field",
 * "invalid_field"), the canonical field, and a sentence for a person. */
struct cdr_problem {
	const char *code;
	char field[64];
	char message[400];
};

void cdr_init(struct cdr *c);
void cdr_release(struct cdr *c);

/* Fills what can be derived (duration from the times, disposition from the
 * billable seconds) and checks every rule of the canonical call. Returns 0,
 * or -1 with P filled. */
int cdr_finish(struct cdr *c, struct cdr_problem *p) RL_MUST_CHECK;

/* Sets P and returns -1. */
int cdr_problem_set(struct cdr_problem *p, const char *code, const char *field,
		    const char *fmt, ...) RL_PRINTF(4, 5);

const char *cdr_direction_name(enum cdr_direction d);
const char *cdr_disposition_name(enum cdr_disposition d);
/* True when the recording slot names something. */
bool cdr_recording_is_set(const struct cdr_recording *r);

#endif
