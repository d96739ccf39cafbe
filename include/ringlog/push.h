/* The end-of-call pipeline: one push as it arrived -> the vendor's payload
 * decoded -> the canonical call -> one upsert in PostgreSQL, or a dead letter
 * that says why not. ingestd runs it live, the spool runs it when the
 * database is back, and `ringlog dead-letters replay` runs it again. */
#ifndef RINGLOG_PUSH_H
#define RINGLOG_PUSH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlog/audio.h"
#include "ringlog/cdr.h"
#include "ringlog/compiler.h"
#include "ringlog/db.h"
#include "ringlog/source.h"

/* One delivery, byte for byte (the `key` query parameter already removed:
 * it is a secret). Everything is borrowed. */
struct push {
	const char *source;       /* the source name from the URL */
	const char *method;       /* "GET" or "POST" */
	const char *content_type; /* may be NULL */
	const char *query;        /* the raw query string without '?', or "" */
	const char *body;
	size_t body_len;
	const char *request_id;   /* may be NULL */
	int64_t received_us;      /* when it first arrived, µs since the epoch */
};

enum push_outcome {
	PUSH_STORED,    /* a new call */
	PUSH_UPDATED,   /* new content for a known call; the old one kept as a revision */
	PUSH_DUPLICATE, /* the same content again: nothing changed */
	PUSH_IGNORED,   /* a late "in progress" push for an ended call: kept, not applied */
	PUSH_REJECTED,  /* the push cannot be a call: dead-lettered, 4xx */
	PUSH_FAILED,    /* the database refused the statement: dead-lettered, 500 */
};

struct push_result {
	enum push_outcome outcome;
	/* The database could not be reached, so nothing was written: the caller
	 * keeps the push (spool) and answers as OUTCOME/STATUS say. */
	bool db_down;
	unsigned status;       /* the HTTP status to answer */
	const char *error;     /* machine code when REJECTED or FAILED */
	char field[64];        /* the canonical field at fault, or "" */
	char message[512];     /* for a person */
	long long call_row;    /* calls.id, or 0 */
	long long dead_letter; /* dead_letters.id, or 0 */
	bool dead_letter_dropped; /* refused, and not kept: the source's dead letters are full */
	char call_id[CDR_MAX_CALL_ID + 1]; /* the PBX call id, for logs, or "" */
	const char *ack_body;  /* the vendor's success body, or NULL */
	/* Caller and callee numbers valid for no region: stored as sent,
	 * without E.164, linked to no lead. */
	unsigned invalid_phones;
};

/* Where inline recordings go (base64 audio in the push, see push_inline.c):
 * decoded into BLOBS, durable before the call's row commits. */
struct push_options {
	struct blob_store *blobs; /* NULL: inline audio is refused (500) */
	uint64_t recording_max;   /* largest decoded recording, bytes (0: no limit) */
	enum audio_store_format store_format; /* how audio is kept (audio.h) */
	/* Bytes of dead letters kept per source unless the source says
	 * otherwise (sources.dead_letters_max); < 0: no bound. */
	long long dead_letters_max;
};

enum push_flags {
	PUSH_NO_DEAD_LETTER = 1, /* a replay: report a rejection, do not file it again */
};

/* Runs P through the whole pipeline for source SRC (NULL: the source is
 * unknown, which is a rejection): prepare, store, or file a dead letter.
 * Fills R; never fails otherwise. */
void push_process(struct db *db, const struct source *src, const struct push *p,
		  const struct push_options *o, int flags, struct push_result *r);

/* A push decoded and mapped: the upsert's parameters, owned. */
struct push_ready;

/* Decodes, maps and checks P for SRC without the database; an inline
 * recording is stored in O's blob store on the way. Returns what to store
 * (free with push_ready_free), or NULL with R holding the rejection. */
struct push_ready *push_prepare(const struct source *src, const struct push *p,
				const struct push_options *o, struct push_result *r) RL_MUST_CHECK;
void push_ready_free(struct push_ready *ready);
/* Stores N prepared pushes, filling R[i] for READY[i]: one statement for
 * one, one pipelined transaction for several (if one of them fails, the
 * others are stored one by one). */
void push_store(struct db *db, struct push_ready **ready, struct push_result **r, size_t n);
/* Keeps P in dead_letters with R's reason, setting R->dead_letter (or
 * R->db_down when the database is away: then the caller spools P), within
 * the byte budget of SRC (NULL: unknown) and O: past it, P is not kept and
 * R->dead_letter_dropped is set. */
void push_file_dead_letter(struct db *db, const struct source *src, const struct push *p,
			   const struct push_options *o, struct push_result *r);
/* The bytes of dead letters kept for SRC under O (< 0: no bound). */
long long push_dead_letter_budget(const struct source *src, const struct push_options *o);

/* Decodes the payload of P as its content type says. Returns a new JSON
 * object (caller puts it), or NULL with R's error, status and message set. */
json_object *push_decode(const struct push *p, struct push_result *r) RL_MUST_CHECK;
/* Marks R as a rejection with STATUS, machine CODE, FIELD (or NULL), MSG. */
void push_reject(struct push_result *r, unsigned status, const char *code, const char *field,
		 const char *msg);

/* True when the outcome means the call is in the database. */
bool push_is_success(enum push_outcome o);
const char *push_outcome_name(enum push_outcome o);

#endif
