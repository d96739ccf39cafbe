/* The second half of the pipeline: a batch of pushes stored by one
 * statement, then the dead letters of those refused, on one connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

/* The one typed contract with SQL: a JSON array of batch elements in, one
 * row per element out (sql/functions/ringlog_ingest_calls.sql). */
static const struct db_stmt ingest_stmt = {
	"push_ingest_calls",
	/* then, in the same statement and transaction, what became of inline
	 * audio (transcoded, corrupt) onto the rows just written */
	"SELECT b.idx, b.call_id, b.outcome FROM ringlog_ingest_calls($1::jsonb) b"
	" JOIN jsonb_array_elements($1::jsonb) WITH ORDINALITY e(el, n) ON e.n = b.idx,"
	" LATERAL ringlog_recordings_note_audio(b.call_id, e.el->'recordings') x"
	" ORDER BY b.idx",
	1
};

static void store_failed(struct db *db, const char *msg, struct push_result *r)
{
	r->db_down = db_is_down(db);
	r->outcome = PUSH_FAILED;
	r->status = 500;
	r->error = "store_failed";
	snprintf(r->message, sizeof(r->message), "%s", msg);
	/* A value PostgreSQL cannot hold (class 22: data exception) is the
	 * sender's problem, not ours. */
	if (!r->db_down && strncmp(db_sqlstate(db), "22", 2) == 0)
		push_reject(r, 422, "invalid_field", NULL, msg);
}

/* Checks that RES answers every element of the batch ITEMS[IDX[0..N-1]]
 * with an outcome this build knows, and fills their results. Returns 0, or
 * -1 with MSG set when the answer breaks the contract (nothing filled). */
static int interpret(PGresult *res, struct push_item *items, const size_t *idx, size_t n,
		     char *msg, size_t msg_size)
{
	if (PQnfields(res) != 3 || (size_t)PQntuples(res) != n) {
		snprintf(msg, msg_size, "ringlog_ingest_calls answered %d rows for %zu pushes",
			 PQntuples(res), n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = PQgetvalue(res, (int)i, 2);

		if (atol(PQgetvalue(res, (int)i, 0)) != (long)i + 1 || push_outcome_parse(name) < 0) {
			snprintf(msg, msg_size, "ringlog_ingest_calls answered an unknown outcome \"%.40s\"",
				 name);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct push_result *r = items[idx[i]].result;

		r->outcome = (enum push_outcome)push_outcome_parse(PQgetvalue(res, (int)i, 2));
		r->call_row = PQgetisnull(res, (int)i, 1) ? 0 : atoll(PQgetvalue(res, (int)i, 1));
		r->status = 200;
	}
	return 0;
}

/* Stores ITEMS[IDX[0..N-1]] (all prepared) in one statement. Returns 0
 * when their results are filled; -1 when the statement failed (MSG says
 * why; nothing was stored). */
static int store_batch(struct db *db, struct push_item *items, const size_t *idx, size_t n,
		       char *msg, size_t msg_size, bool *contract)
{
	struct buf batch = BUF_INIT;
	const char *params[1];
	struct errbuf e;
	PGresult *res;
	int rc;

	*contract = false;
	buf_adds(&batch, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(&batch, ",");
		buf_add(&batch, items[idx[i]].ready->row, items[idx[i]].ready->len);
	}
	buf_adds(&batch, "]");
	params[0] = batch.data;
	res = db_exec(db, &ingest_stmt, params, &e);
	buf_release(&batch);
	if (!res) {
		snprintf(msg, msg_size, "%s", e.msg);
		return -1;
	}
	rc = interpret(res, items, idx, n, msg, msg_size);
	*contract = rc < 0;
	PQclear(res);
	return rc;
}

static void file_dead_letter(struct db *db, const struct push *p, long long budget_bytes,
			     struct push_result *r);

static void store(struct db *db, struct push_item *items, size_t n)
{
	size_t *idx = xcalloc(n ? n : 1, sizeof(*idx)), m = 0;
	char msg[512];
	bool contract;

	for (size_t i = 0; i < n; i++)
		if (items[i].ready)
			idx[m++] = i;
	if (m == 0 || store_batch(db, items, idx, m, msg, sizeof(msg), &contract) == 0)
		goto out;
	/* Down: every push fails alike. An answer outside the contract is an
	 * error for every push it concerns (never guessed). Otherwise one
	 * element failed and took the statement with it: each goes alone. */
	for (size_t i = 0; i < m; i++) {
		struct push_result *r = items[idx[i]].result;

		if (m == 1 || contract || db_is_down(db)) {
			store_failed(db, msg, r);
			if (contract)
				r->error = "bad_outcome";
			continue;
		}
		if (store_batch(db, items, &idx[i], 1, msg, sizeof(msg), &contract) < 0) {
			store_failed(db, msg, r);
			if (contract)
				r->error = "bad_outcome";
		}
	}
out:
	free(idx);
}

void push_commit(struct db *db, struct push_item *items, size_t n, int flags)
{
	store(db, items, n);
	if (flags & PUSH_NO_DEAD_LETTER)
		return;
	for (size_t i = 0; i < n; i++) {
		struct push_result *r = items[i].result;

		if (!push_is_success(r->outcome) && !r->db_down)
			file_dead_letter(db, items[i].push, items[i].dead_letter_budget, r);
	}
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

/* Keeps P in dead_letters with R's reason, setting R->dead_letter (or
 * R->db_down when the database is away: then the caller spools P), within
 * BUDGET bytes of its source's dead letters (< 0: no bound): past it, P is
 * not kept and R->dead_letter_dropped is set. */
static void file_dead_letter(struct db *db, const struct push *p, long long budget_bytes,
			     struct push_result *r)
{
	char received[RLTIME_TEXT_LEN], size[24], budget[24];
	const char *params[12];
	int lengths[12] = { 0 }, formats[12] = { 0 };
	struct errbuf e;
	PGresult *res;

	push_received_text(p->received_us, received);
	snprintf(size, sizeof(size), "%zu", p->body_len + (p->query ? strlen(p->query) : 0));
	snprintf(budget, sizeof(budget), "%lld", budget_bytes);
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
