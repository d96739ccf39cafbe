/* POST /v1/erase {"phone", "source"?, "dry_run"?}: the CRM erases a person
 * (README "Privacy") as `ringlog erase` does: ringlog_erase in one
 * transaction, then the recordings' blobs no row uses any more, through the
 * blob interface. Only a token with the "erase" scope may. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/xalloc.h"

static const struct db_stmt erase_stmt = {
	"fetcher_erase", "SELECT ringlog_erase($1, $2::bigint, $3::boolean, $4)::text", 4
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

/* Runs the erasure; a deadlock with a push of the same number is tried
 * again. Returns the result, or NULL with E (and the database's SQLSTATE). */
static PGresult *run(struct db *db, const char *const *params, struct errbuf *e)
{
	PGresult *res = NULL;

	for (int attempt = 0; attempt < 3 && !res; attempt++)
		if (!(res = db_exec(db, &erase_stmt, params, e)) && strcmp(db_sqlstate(db), "40P01") != 0)
			break;
	return res;
}

enum MHD_Result fetcher_handle_erase(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char phone[PHONE_E164_LEN], source_id[24], *by = NULL;
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

		db = fetcher_db(f);
		if (!(res = run(db, params, &e))) {
			if (strcmp(db_sqlstate(db), "55000") == 0) {
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
