/* The first half of the pipeline: decode, map, check and inline audio,
 * without the database, into one element of the batch push_commit stores
 * (push_store.c). */
#include "ringlog/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "ringlog/profile.h"
#include "ringlog/text.h"
#include "ringlog/xalloc.h"

void push_received_text(int64_t us, char out[RLTIME_TEXT_LEN])
{
	struct rltime t = { .set = true, .sec = us / 1000000, .usec = (int32_t)(us % 1000000) };

	rltime_format(&t, out);
}

/* ---- the batch element -------------------------------------------------- */

static json_object *recordings_json(const struct cdr *c)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < CDR_MAX_RECORDINGS; i++) {
		const struct cdr_recording *rec = &c->recordings[i];
		json_object *o;

		if (!rec->ref && !rec->url && !rec->blob_key)
			continue;
		o = json_object_new_object();
		if (rec->ref)
			json_object_object_add(o, "ref", json_object_new_string(rec->ref));
		if (rec->url)
			json_object_object_add(o, "url", json_object_new_string(rec->url));
		if (rec->blob_key) { /* inline audio, already in the blob store */
			json_object_object_add(o, "blob", json_object_new_string(rec->blob_key));
			json_object_object_add(o, "size", json_object_new_int64(rec->size_bytes));
			json_object_object_add(o, "mime", json_object_new_string(rec->mime_type));
		}
		if (rec->original_sha256) { /* for ringlog_recordings_note_audio() */
			json_object_object_add(o, "original_sha256", json_object_new_string(rec->original_sha256));
			json_object_object_add(o, "original_mime", json_object_new_string(rec->original_mime_type));
			json_object_object_add(o, "original_size", json_object_new_int64(rec->original_size));
		}
		if (rec->corrupt)
			json_object_object_add(o, "corrupt", json_object_new_string(rec->corrupt));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Adds KEY: V to ROW unless V is NULL (absent is SQL NULL). */
static void put_text(json_object *row, const char *key, const char *v)
{
	if (v)
		json_object_object_add(row, key, json_object_new_string(v));
}

static void put_time(json_object *row, const char *key, const struct rltime *t)
{
	char out[RLTIME_TEXT_LEN];

	if (!t->set)
		return;
	rltime_format(t, out);
	put_text(row, key, out);
}

static void put_count(json_object *row, const char *key, long long v)
{
	if (v >= 0)
		json_object_object_add(row, key, json_object_new_int64(v));
}

/* The E.164 digits of RAW in SRC's plan, or nothing: withheld, an
 * extension, a short code, or valid for no region (counted in *INVALID:
 * stored as sent, linked to no lead). */
static void put_e164(json_object *row, const char *key, const char *raw, const struct source *src,
		     unsigned *invalid)
{
	struct phone_number n;
	enum phone_verdict v = phone_parse(raw, &src->phone, &n);

	if (v == PHONE_INVALID)
		(*invalid)++;
	if (v == PHONE_VALID)
		put_text(row, key, n.e164);
}

/* The batch element (sql/functions/ringlog_ingest_calls.sql) for call C
 * of SRC, PAYLOAD its raw JSON. */
static json_object *make_row(const struct source *src, const struct cdr *c, json_object *payload,
			     const struct push *p, unsigned *invalid_phones)
{
	json_object *row = json_object_new_object();
	char received[RLTIME_TEXT_LEN];

	push_received_text(p->received_us, received);
	json_object_object_add(row, "source_id", json_object_new_int64(src->id));
	put_text(row, "call_id", c->call_id);
	put_text(row, "direction", cdr_direction_name(c->direction));
	put_text(row, "disposition", cdr_disposition_name(c->disposition));
	put_text(row, "caller", c->caller);
	put_e164(row, "caller_e164", c->caller, src, invalid_phones);
	put_text(row, "caller_name", c->caller_name);
	put_text(row, "callee", c->callee);
	put_e164(row, "callee_e164", c->callee, src, invalid_phones);
	put_text(row, "did", c->did);
	put_text(row, "agent", c->agent);
	put_text(row, "agent_name", c->agent_name);
	put_time(row, "started_at", &c->started_at);
	put_time(row, "answered_at", &c->answered_at);
	put_time(row, "ended_at", &c->ended_at);
	put_text(row, "time_zone", src->time_zone);
	put_count(row, "duration_s", c->duration_s);
	put_count(row, "billable_s", c->billable_s);
	json_object_object_add(row, "recordings", recordings_json(c));
	json_object_object_add(row, "raw", json_object_get(payload));
	put_text(row, "received_at", received);
	put_text(row, "leg_of", c->leg_of);
	json_object_object_add(row, "transport", push_transport_keys(payload));
	put_text(row, "origin", p->origin);
	return row;
}

/* ---- the pipeline ------------------------------------------------------- */

/* Every text field of C is UTF-8, or the push is refused in ringlog's words
 * before PostgreSQL refuses it in its own. */
static int check_text(const struct cdr *c, struct push_result *r)
{
	const struct { const char *name, *value; } fields[] = {
		{ "call_id", c->call_id },	   { "caller", c->caller },
		{ "caller_name", c->caller_name }, { "callee", c->callee },
		{ "did", c->did },		   { "agent", c->agent },
		{ "agent_name", c->agent_name },   { "leg_of", c->leg_of },
		{ "recording_id", c->recordings[0].ref }, { "recording_url", c->recordings[0].url },
		{ "recording2_url", c->recordings[1].url },
	};
	char msg[120];

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (fields[i].value && !text_is_utf8(fields[i].value, strlen(fields[i].value))) {
			snprintf(msg, sizeof(msg), "%s is not UTF-8 text", fields[i].name);
			push_reject(r, 422, "invalid_field", fields[i].name, msg);
			return -1;
		}
	}
	return 0;
}

/* Decodes and maps P for SRC into C. Returns the payload (caller puts it),
 * or NULL with R holding the rejection. */
static json_object *map(const struct source *src, const struct push *p, struct cdr *c,
			struct push_result *r)
{
	const struct profile *prof = src->profile;
	json_object *payload = push_decode(p, r);
	struct cdr_problem prob;

	if (!payload)
		return NULL;
	if (!prof) {
		push_reject(r, 422, "unknown_profile", NULL,
			    src->profile_error ? src->profile_error : "the source has no profile");
		goto fail;
	}
	/* Unwrapping and decoding: what the call's raw JSON keeps. */
	if (profile_prepare(prof, &payload, &prob) < 0) {
		push_reject(r, strcmp(prob.code, "unsupported_media_type") == 0 ? 415 : 400,
			    prob.code, prob.field, prob.message);
		goto fail;
	}
	if (profile_map(prof, payload, c, &prob) < 0 || cdr_finish(c, &prob) < 0) {
		push_reject(r, 422, prob.code, prob.field, prob.message);
		goto fail;
	}
	snprintf(r->call_id, sizeof(r->call_id), "%s", c->call_id);
	r->ack_body = prof->ack_body;
	return payload;
fail:
	json_object_put(payload);
	return NULL;
}

struct push_ready *push_prepare(const struct source *src, const struct push *p,
				const struct push_options *o, struct push_result *r)
{
	struct push_ready *ready = NULL;
	json_object *payload = NULL, *row;
	struct push_inline in = { 0 };
	struct push view = *p;
	struct cdr c;
	const char *text;
	size_t len;

	memset(r, 0, sizeof(*r));
	cdr_init(&c);
	if (!src) {
		push_reject(r, 404, "unknown_source", NULL, "no source of that name");
		goto out;
	}
	/* Inline audio first: into the blob store, out of the body. */
	if (push_inline_strip(src->profile, p, o, &in, r) < 0)
		goto out;
	if (in.stripped) {
		view.body = in.body.data;
		view.body_len = in.body.len;
	}
	payload = map(src, &view, &c, r);
	if (!payload || push_inline_finish(&in, payload, &c, o, r) < 0)
		goto out;
	if (check_text(&c, r) < 0)
		goto out;
	row = make_row(src, &c, payload, p, &r->invalid_phones);
	text = json_object_to_json_string_length(
		row, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* jsonb holds no NUL character (nor does a text column). */
	if (strstr(text, "\\u0000")) {
		push_reject(r, 422, "invalid_field", NULL, "the payload contains a NUL character");
	} else if (!text_is_utf8(text, len)) {
		push_reject(r, 422, "invalid_field", NULL, "the payload is not UTF-8 text");
	} else {
		ready = xcalloc(1, sizeof(*ready));
		ready->row = xstrndup(text, len);
		ready->len = len;
	}
	json_object_put(row);
out:
	push_inline_release(&in);
	cdr_release(&c);
	json_object_put(payload);
	return ready;
}

void push_ready_free(struct push_ready *ready)
{
	if (!ready)
		return;
	free(ready->row);
	free(ready);
}

void push_process(struct db *db, const struct source *src, const struct push *p,
		  const struct push_options *o, int flags, struct push_result *r)
{
	struct push_item item = { p, push_prepare(src, p, o, r), r, push_dead_letter_budget(src, o) };

	push_commit(db, &item, 1, flags);
	push_ready_free(item.ready);
}
