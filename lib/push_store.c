/* Storing pushes: the one-statement upsert (alone or many in one
 * transaction) and dead letters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "ringlog/xalloc.h"

static const struct db_stmt ingest_stmt = {
	"push_ingest_call",
	/* then, in the same statement and transaction, what became of inline
	 * audio (transcoded, corrupt) onto the rows just written (sql/023) */
	"SELECT c.call_id, c.outcome FROM ringlog_ingest_call("
	"$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "
	"$19, $20, $21, $22, $23) c, LATERAL ringlog_recordings_note_audio(c.call_id, $19::jsonb) n",
	PUSH_NPARAMS
};

static void interpret(PGresult *res, struct push_result *r)
{
	const char *outcome = PQgetvalue(res, 0, 1);

	r->call_row = atoll(PQgetvalue(res, 0, 0));
	r->outcome = strcmp(outcome, "stored") == 0	  ? PUSH_STORED
		     : strcmp(outcome, "updated") == 0	  ? PUSH_UPDATED
		     : strcmp(outcome, "duplicate") == 0 ? PUSH_DUPLICATE
							 : PUSH_IGNORED;
	r->status = 200;
	PQclear(res);
}

static void store_failed(struct db *db, const struct errbuf *e, struct push_result *r)
{
	r->db_down = db_is_down(db);
	r->outcome = PUSH_FAILED;
	r->status = 500;
	r->error = "store_failed";
	snprintf(r->message, sizeof(r->message), "%s", e->msg);
	/* A value PostgreSQL cannot hold (class 22: data exception) is the
	 * sender's problem, not ours. */
	if (!r->db_down && strncmp(db_sqlstate(db), "22", 2) == 0)
		push_reject(r, 422, "invalid_field", NULL, e->msg);
}

static void store_one(struct db *db, struct push_ready *ready, struct push_result *r)
{
	struct errbuf e;
	PGresult *res = db_exec(db, &ingest_stmt, (const char *const *)ready->params, &e);

	if (res)
		interpret(res, r);
	else
		store_failed(db, &e, r);
}

void push_store(struct db *db, struct push_ready **ready, struct push_result **r, size_t n)
{
	const char *const **params;
	PGresult **results;
	struct errbuf e;

	if (n == 1) {
		store_one(db, ready[0], r[0]);
		return;
	}
	params = xcalloc(n, sizeof(*params));
	results = xcalloc(n, sizeof(*results));
	for (size_t i = 0; i < n; i++)
		params[i] = (const char *const *)ready[i]->params;
	if (db_exec_batch(db, &ingest_stmt, params, n, results, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			interpret(results[i], r[i]);
	} else {
		/* Down: every push fails alike. Otherwise one statement failed
		 * and took the transaction with it: find it by going one by one. */
		for (size_t i = 0; i < n; i++) {
			if (db_is_down(db))
				store_failed(db, &e, r[i]);
			else
				store_one(db, ready[i], r[i]);
		}
	}
	free(params);
	free(results);
}

/* Kept only while the source's dead letters stay within $12 bytes (< 0: no
 * bound); nothing comes back when it would pass it. */
static const struct db_stmt dead_letter_stmt = {
	"push_dead_letter",
	"INSERT INTO dead_letters (source_name, reason, message, field, method, content_type, "
	"query, body, request_id, received_at, size_bytes) "
	"SELECT $1::text, $2::text, $3::text, nullif($4::text, ''), $5::text, $6::text, $7::text,"
	" $8::bytea, $9::text, $10::timestamptz, $11::bigint"
	" WHERE $12::bigint < 0 OR $11::bigint + (SELECT coalesce(sum(size_bytes), 0)"
	"   FROM dead_letters WHERE source_name = $1::text) <= $12::bigint"
	" RETURNING id",
	12
};

void push_file_dead_letter(struct db *db, const struct source *src, const struct push *p,
			   const struct push_options *o, struct push_result *r)
{
	char received[RLTIME_TEXT_LEN], size[24], budget[24];
	const char *params[12];
	int lengths[12] = { 0 }, formats[12] = { 0 };
	struct errbuf e;
	PGresult *res;

	push_received_text(p->received_us, received);
	snprintf(size, sizeof(size), "%zu", p->body_len + (p->query ? strlen(p->query) : 0));
	snprintf(budget, sizeof(budget), "%lld", push_dead_letter_budget(src, o));
	params[0] = p->source;
	params[1] = r->error;
	params[2] = r->message;
	params[3] = r->field;
	params[4] = p->method;
	params[5] = p->content_type;
	params[6] = p->query ? p->query : "";
	params[7] = p->body ? p->body : "";
	lengths[7] = (int)p->body_len;
	formats[7] = 1;
	params[8] = p->request_id;
	params[9] = received;
	params[10] = size;
	params[11] = budget;
	res = db_exec_bin(db, &dead_letter_stmt, params, lengths, formats, &e);
	if (!res) {
		/* Down: the caller spools the push and the drain files it. */
		r->db_down = db_is_down(db);
		if (!r->db_down)
			snprintf(r->message + strlen(r->message), sizeof(r->message) - strlen(r->message),
				 " (and it could not be kept: %s)", e.msg);
		return;
	}
	if (PQntuples(res) == 1)
		r->dead_letter = atoll(PQgetvalue(res, 0, 0));
	else
		r->dead_letter_dropped = true;
	PQclear(res);
}

long long push_dead_letter_budget(const struct source *src, const struct push_options *o)
{
	if (src && src->dead_letters_max >= 0)
		return src->dead_letters_max;
	return o ? o->dead_letters_max : -1;
}
