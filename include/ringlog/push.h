/* The end-of-call pipeline, one straight walk: a push as it arrived ->
 * push_prepare (decode, map, inline audio; no database) -> push_commit (the
 * calls of a batch in one statement, then the dead letters of the refused
 * ones, on the same connection) -> the result the caller answers with.
 * ingestd's writers, the spool drain and `ringlog dead-letters replay` all
 * make these two calls (push_process is both, for one push). */
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
	/* NULL: a push. "reconcile": a record pulled from the PBX's call log
	 * (reconcile.h): a call already known stays as it is. */
	const char *origin;
};

enum push_outcome {
	PUSH_STORED,    /* a new call */
	PUSH_UPDATED,   /* new content for a known call; the old one kept as a revision */
	PUSH_DUPLICATE, /* the same content again: nothing changed */
	PUSH_IGNORED,   /* a late "in progress" push for an ended call: kept, not applied */
	PUSH_ERASED,    /* the call was erased (a tombstone refused its key): nothing stored, 200 */
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

/* The default of [ingest] dead_letters_max, also what the CLI's runs
 * (reconcile) keep per source when the source says nothing. */
#define PUSH_DEAD_LETTERS_MAX_DEFAULT (64LL << 20)

enum push_flags {
	PUSH_NO_DEAD_LETTER = 1, /* a replay: report a rejection, do not file it again */
};

/* A push decoded and mapped: one element of the batch, owned. */
struct push_ready;

/* Decodes, maps and checks P for SRC without the database; an inline
 * recording is stored in O's blob store on the way. Returns what to store
 * (free with push_ready_free), or NULL with R holding the rejection (SRC
 * NULL: the source is unknown, a rejection). */
struct push_ready *push_prepare(const struct source *src, const struct push *p,
				const struct push_options *o, struct push_result *r) RL_MUST_CHECK;
void push_ready_free(struct push_ready *ready);

/* One push of a batch: as it arrived, what push_prepare made of it (NULL
 * when refused), and its result (filled by push_prepare, then push_commit). */
struct push_item {
	const struct push *push;
	struct push_ready *ready;
	struct push_result *result;
	long long dead_letter_budget; /* push_dead_letter_budget() of its source */
};

/* Commits N pushes on DB: the prepared ones in one statement and one
 * transaction whatever N is (if that statement fails and the server is up,
 * each is stored alone, so one bad push fails alone), then a dead letter for
 * each push refused or failed (unless FLAGS has PUSH_NO_DEAD_LETTER).
 * Every result is final when it returns: an outcome, or db_down (nothing
 * written: the caller spools the push). */
void push_commit(struct db *db, struct push_item *items, size_t n, int flags);

/* push_prepare then push_commit for one push. */
void push_process(struct db *db, const struct source *src, const struct push *p,
		  const struct push_options *o, int flags, struct push_result *r);

/* The bytes of dead letters kept for SRC under O (< 0: no bound): the
 * source's own budget, else the daemon's. Past it a refusal is answered and
 * counted but not kept (R->dead_letter_dropped). */
long long push_dead_letter_budget(const struct source *src, const struct push_options *o);

/* Decodes the payload of P as its content type says. Returns a new JSON
 * object (caller puts it), or NULL with R's error, status and message set. */
json_object *push_decode(const struct push *p, struct push_result *r) RL_MUST_CHECK;
/* Marks R as a rejection with STATUS, machine CODE, FIELD (or NULL), MSG. */
void push_reject(struct push_result *r, unsigned status, const char *code, const char *field,
		 const char *msg);

/* True when the push was accepted (200): the call is in the database, or
 * was erased and must not be. */
bool push_is_success(enum push_outcome o);
const char *push_outcome_name(enum push_outcome o);
/* The outcome ringlog_ingest_calls() named NAME; -1 for a name this build
 * does not know (an error: never taken for another outcome). */
int push_outcome_parse(const char *name);

#endif
