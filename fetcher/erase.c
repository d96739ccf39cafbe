/* POST /v1/erase {"phone", "source"?, "dry_run"?}: the CRM erases a person
 * (README "Privacy") as `ringlog erase` does: ringlog_erase in one
 * transaction, then the recordings' blobs no row uses any more, through the
 * blob interface. Only a token with the "erase" scope may. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetcher.h"
#include "ringlog/xalloc.h"

static const struct db_stmt erase_stmt = {
	"fetcher_erase", "SELECT ringlog_erase($1, $2::bigint, $3::boolean, $4)::text", 4
};

/* The number's lock (ringlog_lead_lock's key), held by the session across
 * the transaction's retries: pushes that create a lead or a task for it
 * wait for the erasure, and it for them. */
static const struct db_stmt lock_stmt = {
	"fetcher_erase_lock", "SELECT pg_advisory_lock($1::bigint)", 1
};
static const struct db_stmt unlock_stmt = {
	"fetcher_erase_unlock", "SELECT pg_advisory_unlock($1::bigint)", 1
};

static const struct db_stmt blob_used_stmt = {
	"fetcher_erase_blob_used", "SELECT 1 FROM recordings WHERE blob_key = $1 LIMIT 1", 1
};

/* Deletes the freed blobs no row uses (after the commit); returns how many. */
static long remove_blobs(struct fetcher *f, struct http_request *req, json_object *keys, long *failed)
{
	size_t n = keys ? json_object_array_length(keys) : 0;
	long removed = 0;

	for (size_t i = 0; i < n; i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
		const char *params[] = { k };
		struct errbuf e;
		PGresult *used;
		bool keep;

		if (!k || !blob_key_is_valid(k))
			continue;
		used = db_exec(fetcher_db(f), &blob_used_stmt, params, &e);
		keep = !used || PQntuples(used) > 0;
		PQclear(used);
		if (keep)
			continue;
		if (blob_remove(f->blobs, k, &e) < 0) {
			log_msg(LOG_ERR, "erase: blob %s not deleted: request id=%s: %s", k, req->id, e.msg);
			(*failed)++;
		} else {
			removed++;
		}
	}
	return removed;
}

/* Reads the body into PHONE (E.164 digits), SOURCE_ID ("" for all) and
 * *DRY_RUN. Returns 0, or -1 with B filled. */
static int read_body(struct fetcher *f, json_object *body, char phone[PHONE_E164_LEN],
		     char source_id[24], bool *dry_run, struct fetcher_bad *b)
{
	struct source_set *set = NULL;
	const struct source *src = NULL;
	json_object *v;
	const char *raw;
	int rc = -1;

	*source_id = '\0';
	*dry_run = json_object_object_get_ex(body, "dry_run", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(body, "source", &v) && !json_object_is_type(v, json_type_null)) {
		set = source_cache_get(f->sources);
		if (!json_object_is_type(v, json_type_string) ||
		    !(src = source_set_find(set, json_object_get_string(v)))) {
			fetcher_bad(b, "unknown_source", "source", "no such source");
			goto out;
		}
		snprintf(source_id, 24, "%lld", src->id);
	}
	if (!json_object_object_get_ex(body, "phone", &v) || !json_object_is_type(v, json_type_string) ||
	    strlen(raw = json_object_get_string(v)) > 64) {
		fetcher_bad(b, "missing_parameter", "phone", "phone: the number to erase (+E.164)");
		goto out;
	}
	rc = fetcher_phone(raw, src, "phone", phone, b);
out:
	source_set_unref(set);
	return rc;
}

/* Runs the erasure in its own REPEATABLE READ transaction (ringlog_erase),
 * again (five times in all) when a push of the same number got in its way
 * (40001, 40P01). Returns the committed result, or NULL with E (and the
 * database's SQLSTATE). */
static PGresult *run(struct db *db, const char *const *params, char state[6], struct errbuf *e)
{
	for (int attempt = 1;; attempt++) {
		PGresult *res = NULL;
		struct errbuf ignored;
		int rolled_back;

		if (attempt > 1)
			usleep(20000U * (unsigned)attempt);
		if (db_command(db, "BEGIN ISOLATION LEVEL REPEATABLE READ", e) == 0 &&
		    (res = db_exec(db, &erase_stmt, params, e)) && db_command(db, "COMMIT", e) == 0)
			return res;
		PQclear(res);
		snprintf(state, 6, "%s", db_sqlstate(db));
		if (db_is_down(db))
			return NULL;
		rolled_back = db_command(db, "ROLLBACK", &ignored); /* a failed one drops the connection */
		(void)rolled_back;
		if (attempt >= 10 || (strcmp(state, "40001") != 0 && strcmp(state, "40P01") != 0))
			return NULL;
	}
}

enum MHD_Result fetcher_handle_erase(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char phone[PHONE_E164_LEN], source_id[24], state[6] = "", *by = NULL;
	json_object *body = NULL, *out = NULL, *freed = NULL;
	struct fetcher_bad b;
	struct errbuf e;
	struct db *db;
	PGresult *res = NULL;
	enum MHD_Result rc;
	bool dry_run;
	long blobs = 0, failed = 0;

	if (!fetcher_authorized_scope(f, req, "erase", &rc))
		return rc;
	body = json_tokener_parse(buf_str(&req->body));
	if (!body || !json_object_is_type(body, json_type_object)) {
		rc = http_reply_error(req, 400, "invalid_json", "send a JSON object: {\"phone\": \"+36301234567\"}");
		goto out;
	}
	if (read_body(f, body, phone, source_id, &dry_run, &b) < 0) {
		rc = fetcher_reply_bad(req, &b);
		goto out;
	}
	by = xmalloc(strlen(req->user) + sizeof("token:"));
	strcpy(by, "token:");
	strcat(by, req->user);
	{
		const char *params[] = { phone, *source_id ? source_id : NULL, dry_run ? "true" : "false", by };

		const char *lock[] = { phone };
		PGresult *l;

		db = fetcher_db(f);
		if (!(l = db_exec(db, &lock_stmt, lock, &e))) {
			rc = fetcher_reply_db_error(req, db, "erase", &e);
			goto out;
		}
		PQclear(l);
		res = run(db, params, state, &e);
		if (!db_is_down(db)) {
			struct errbuf ignored;

			PQclear(db_exec(db, &unlock_stmt, lock, &ignored));
		}
		if (!res) {
			if (strcmp(state, "55000") == 0) {
				log_msg(LOG_ERR, "erase refused: request id=%s: %s", req->id, e.msg);
				rc = http_reply_error(req, 503, "privacy_key_missing",
						      "ringlog has no privacy key ([privacy] key_file)");
			} else {
				rc = fetcher_reply_db_error(req, db, "erase", &e);
			}
			goto out;
		}
	}
	if (!(out = json_tokener_parse(PQgetvalue(res, 0, 0)))) {
		rc = http_reply_error(req, 500, "internal", "unreadable answer");
		goto out;
	}
	if (json_object_object_get_ex(out, "freed_blobs", &freed))
		blobs = dry_run ? 0 : remove_blobs(f, req, freed, &failed);
	json_object_object_del(out, "freed_blobs");
	json_object_object_add(out, "blobs_deleted", json_object_new_int64(blobs));
	json_object_object_add(out, "blob_errors", json_object_new_int64(failed));
	log_msg(LOG_NOTICE, "erase%s: request id=%s by=%s", dry_run ? " (dry run)" : "", req->id, by);
	req->log_outcome = dry_run ? "dry_run" : "erased";
	rc = http_reply_json(req, 200, out);
	out = NULL;
out:
	json_object_put(out);
	json_object_put(body);
	PQclear(res);
	free(by);
	return rc;
}
