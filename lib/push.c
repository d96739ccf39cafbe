/* The end-of-call pipeline: decode, map, check, then store or file a dead
 * letter. See push_decode.c and push_store.c for the two ends. */
#include "ringlog/push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "ringlog/profile.h"
#include "ringlog/text.h"
#include "ringlog/xalloc.h"

static const char *const outcome_names[] = {
	[PUSH_STORED] = "stored",     [PUSH_UPDATED] = "updated",   [PUSH_DUPLICATE] = "duplicate",
	[PUSH_IGNORED] = "ignored",   [PUSH_REJECTED] = "rejected", [PUSH_FAILED] = "failed",
};

const char *push_outcome_name(enum push_outcome o)
{
	return outcome_names[o];
}

bool push_is_success(enum push_outcome o)
{
	return o == PUSH_STORED || o == PUSH_UPDATED || o == PUSH_DUPLICATE || o == PUSH_IGNORED;
}

void push_reject(struct push_result *r, unsigned status, const char *code, const char *field,
		 const char *msg)
{
	r->outcome = PUSH_REJECTED;
	r->status = status;
	r->error = code;
	snprintf(r->field, sizeof(r->field), "%s", field ? field : "");
	snprintf(r->message, sizeof(r->message), "%.500s", msg);
}

void push_received_text(int64_t us, char out[RLTIME_TEXT_LEN])
{
	struct rltime t = { .set = true, .sec = us / 1000000, .usec = (int32_t)(us % 1000000) };

	rltime_format(&t, out);
}

/* ---- the parameters of the upsert --------------------------------------- */

/* The E.164 digits of RAW in SRC's plan, or NULL: withheld, an extension, a
 * short code, or valid for no region (counted in *INVALID). */
static char *e164_or_null(const char *raw, const struct source *src, unsigned *invalid)
{
	struct phone_number n;
	enum phone_verdict v = phone_parse(raw, &src->phone, &n);

	if (v == PHONE_INVALID)
		(*invalid)++;
	return v == PHONE_VALID ? xstrdup(n.e164) : NULL;
}

static char *recordings_json(const struct cdr *c)
{
	json_object *arr = json_object_new_array();
	char *text;

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
	text = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return text;
}

static char *time_text(const struct rltime *t)
{
	char out[RLTIME_TEXT_LEN];

	if (!t->set)
		return NULL;
	rltime_format(t, out);
	return xstrdup(out);
}

static char *count_text(long long v)
{
	char out[24];

	if (v < 0)
		return NULL;
	snprintf(out, sizeof(out), "%lld", v);
	return xstrdup(out);
}

/* Serialises the payload for the jsonb column. NULL when it holds a NUL
 * character, which jsonb cannot store. */
static char *raw_text(json_object *payload)
{
	const char *s = json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);

	return strstr(s, "\\u0000") ? NULL : xstrdup(s);
}

static void fill_params(struct push_ready *ready, const struct source *src, const struct cdr *c,
			int64_t received_us, unsigned *invalid_phones)
{
	char **p = ready->params, received[RLTIME_TEXT_LEN];

	push_received_text(received_us, received);
	p[PP_SOURCE_ID] = count_text(src->id);
	p[PP_CALL_ID] = xstrdup(c->call_id);
	p[PP_DIRECTION] = xstrdup(cdr_direction_name(c->direction));
	p[PP_DISPOSITION] = xstrdup(cdr_disposition_name(c->disposition));
	p[PP_CALLER] = xstrdup(c->caller);
	p[PP_CALLER_E164] = e164_or_null(c->caller, src, invalid_phones);
	p[PP_CALLER_NAME] = xstrdup(c->caller_name);
	p[PP_CALLEE] = xstrdup(c->callee);
	p[PP_CALLEE_E164] = e164_or_null(c->callee, src, invalid_phones);
	p[PP_DID] = xstrdup(c->did);
	p[PP_AGENT] = xstrdup(c->agent);
	p[PP_AGENT_NAME] = xstrdup(c->agent_name);
	p[PP_STARTED_AT] = time_text(&c->started_at);
	p[PP_ANSWERED_AT] = time_text(&c->answered_at);
	p[PP_ENDED_AT] = time_text(&c->ended_at);
	p[PP_TIME_ZONE] = xstrdup(src->time_zone);
	p[PP_DURATION] = count_text(c->duration_s);
	p[PP_BILLABLE] = count_text(c->billable_s);
	p[PP_RECORDINGS] = recordings_json(c);
	p[PP_RECEIVED_AT] = xstrdup(received);
	p[PP_LEG_OF] = xstrdup(c->leg_of);
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
	json_object *payload = NULL;
	struct push_inline in;
	struct push view = *p;
	struct cdr c;
	char *raw;

	memset(r, 0, sizeof(*r));
	cdr_init(&c);
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
	raw = raw_text(payload);
	if (!raw) {
		push_reject(r, 422, "invalid_field", NULL, "the payload contains a NUL character");
		goto out;
	}
	if (!text_is_utf8(raw, strlen(raw))) {
		free(raw);
		push_reject(r, 422, "invalid_field", NULL, "the payload is not UTF-8 text");
		goto out;
	}
	ready = xcalloc(1, sizeof(*ready));
	fill_params(ready, src, &c, p->received_us, &r->invalid_phones);
	ready->params[PP_RAW] = raw;
	ready->params[PP_TRANSPORT] = push_transport_keys(payload);
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
	for (int i = 0; i < PUSH_NPARAMS; i++)
		free(ready->params[i]);
	free(ready);
}

void push_process(struct db *db, const struct source *src, const struct push *p,
		  const struct push_options *o, int flags, struct push_result *r)
{
	struct push_ready *ready = NULL;

	if (!src) {
		memset(r, 0, sizeof(*r));
		push_reject(r, 404, "unknown_source", NULL, "no source of that name");
	} else {
		ready = push_prepare(src, p, o, r);
	}
	if (ready)
		push_store(db, &ready, &r, 1);
	push_ready_free(ready);
	if (push_is_success(r->outcome) || r->db_down || (flags & PUSH_NO_DEAD_LETTER))
		return;
	push_file_dead_letter(db, src, p, o, r);
}
