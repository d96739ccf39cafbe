/* Inline recordings: the base64 audio a push carries at the profile's
 * recording_base64 paths is checked strictly (b64.h), decoded straight into
 * the blob store (durable before the call's row commits: the upsert only
 * runs after push_prepare), typed from its magic bytes (mime.h), and
 * replaced in the payload by a reference, so `raw` never holds the audio:
 *   "recording_base64": {"blob_sha256": "…", "size_bytes": 123, "mime_type": "audio/wav"}
 * Large bodies are stripped in one pass (strip.h) before json-c sees them,
 * so a 67 MB body is never held twice; small ones (and query strings) are
 * decoded after mapping from the payload itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "push_internal.h"
#include "ringlog/b64.h"
#include "ringlog/mime.h"
#include "ringlog/strip.h"
#include "ringlog/xalloc.h"

#define FIELD "recording_base64"

enum fail { FAIL_INVALID, FAIL_TOO_LARGE, FAIL_STORE };

/* One value being decoded into the store. */
struct decoder {
	const struct push_options *o;
	struct b64_stream b64;
	struct blob_writer *w;
	unsigned char head[MIME_SNIFF_LEN];
	size_t nhead;
	enum fail fail; /* why it stopped, when it did */
};

static int to_blob(void *ctx, const void *data, size_t len, struct errbuf *e)
{
	struct decoder *d = ctx;
	size_t take = sizeof(d->head) - d->nhead;

	if (!d->w) {
		d->fail = FAIL_STORE;
		if (!d->o || !d->o->blobs)
			return err_set(e, "this daemon has no recordings store");
		d->w = blob_put_begin(d->o->blobs, d->o->recording_max, e);
		if (!d->w)
			return -1;
	}
	memcpy(d->head + d->nhead, data, len < take ? len : take);
	d->nhead += len < take ? len : take;
	if (blob_write(d->w, data, len, e) < 0) {
		d->fail = blob_writer_too_large(d->w) ? FAIL_TOO_LARGE : FAIL_STORE;
		return -1;
	}
	d->fail = FAIL_INVALID; /* what stops the stream from now on is the text */
	return 0;
}

static void decoder_start(struct decoder *d, const struct push_options *o)
{
	memset(d, 0, sizeof(*d));
	d->o = o;
	d->fail = FAIL_INVALID;
	b64_stream_init(&d->b64, to_blob, d);
}

/* Ends the value: stores it in REC, or says why not (0 or -1 with E). A
 * value of blanks only is no recording, as an empty field is. */
static int decoder_finish(struct decoder *d, struct push_inline_rec *rec, struct errbuf *e)
{
	rec->seen = true;
	if (b64_stream_is_empty(&d->b64))
		return 0;
	if (b64_stream_finish(&d->b64, e) < 0)
		return -1;
	d->fail = FAIL_STORE;
	/* Kept, or transcoded when browsers cannot all play it (audio.h). */
	if (!d->w || audio_commit(d->o->blobs, d->w, NULL, d->o->store_format, d->o->recording_max,
				  &rec->audio, e) < 0)
		return d->w ? -1 : err_set(e, "no audio");
	rec->info = rec->audio.info;
	rec->mime = rec->audio.mime;
	rec->stored = true;
	return 0;
}

static void decoder_release(struct decoder *d)
{
	blob_writer_free(d->w);
	d->w = NULL;
}

static void reject(struct push_result *r, const char *path, enum fail f, const struct errbuf *e,
		   const struct push_options *o)
{
	char msg[600];

	switch (f) {
	case FAIL_INVALID:
		snprintf(msg, sizeof(msg), FIELD " (payload key \"%.60s\") is not valid base64: %.400s",
			 path, e->msg);
		push_reject(r, 422, "invalid_field", FIELD, msg);
		break;
	case FAIL_TOO_LARGE:
		snprintf(msg, sizeof(msg), "the inline recording is larger than %llu bytes "
			 "(recordings.max_size)", (unsigned long long)(o ? o->recording_max : 0));
		push_reject(r, 413, "recording_too_large", FIELD, msg);
		break;
	case FAIL_STORE:
		r->outcome = PUSH_FAILED;
		r->status = 500;
		r->error = "recording_store_failed";
		snprintf(r->field, sizeof(r->field), FIELD);
		snprintf(r->message, sizeof(r->message), "the recording could not be stored: %.400s",
			 e->msg);
		break;
	}
}

/* ---- stripping a large body ------------------------------------------------- */

struct strip_ctx {
	struct push_inline *in;
	const struct push_options *o;
	struct decoder d;
	size_t which;
	bool active;
};

static int on_begin(void *ctx, size_t which, struct errbuf *e)
{
	struct strip_ctx *s = ctx;

	decoder_start(&s->d, s->o);
	s->which = which;
	s->active = true;
	if (s->in->recs[which].seen)
		return err_set(e, "it appears more than once");
	return 0;
}

static int on_data(void *ctx, const char *text, size_t len, struct errbuf *e)
{
	struct strip_ctx *s = ctx;

	return b64_stream_feed(&s->d.b64, text, len, e);
}

static int on_end(void *ctx, struct errbuf *e)
{
	struct strip_ctx *s = ctx;
	int rc = decoder_finish(&s->d, &s->in->recs[s->which], e);

	if (rc == 0) {
		decoder_release(&s->d);
		s->active = false;
	}
	return rc;
}

/* True when the body names one of the paths' last keys at all: the common
 * push without inline audio is not scanned. (A key written with escapes is
 * missed here and decoded after mapping instead.) */
static bool mentions(const struct push_inline *in, const struct push *p)
{
	for (size_t i = 0; i < in->npaths; i++) {
		const char *path = in->paths[i], *dot = strrchr(path, '.');
		const char *key = dot ? dot + 1 : path;
		size_t n = strcspn(key, "[");

		if (n && memmem(p->body, p->body_len, key, n))
			return true;
	}
	return false;
}

static void collect_paths(const struct profile *prof, struct push_inline *in)
{
	for (size_t i = 0; prof && i < prof->nrules && in->npaths < PUSH_INLINE_MAX; i++)
		if (prof->rules[i].field == CDR_F_RECORDING_BASE64)
			in->paths[in->npaths++] = prof->rules[i].path;
}

int push_inline_strip(const struct profile *prof, const struct push *p,
		      const struct push_options *o, struct push_inline *in, struct push_result *r)
{
	struct strip_ctx s = { .in = in, .o = o };
	struct strip_sink sink = { &s, on_begin, on_data, on_end };
	enum push_body_kind kind;
	enum strip_status st;
	struct errbuf e;

	memset(in, 0, sizeof(*in));
	collect_paths(prof, in);
	if (!in->npaths || !p->body_len || strcmp(p->method, "GET") == 0)
		return 0;
	kind = push_body_kind(p);
	if ((kind != PUSH_BODY_JSON && kind != PUSH_BODY_FORM) || !mentions(in, p))
		return 0;
	st = kind == PUSH_BODY_JSON
		     ? strip_json(p->body, p->body_len, in->paths, in->npaths, &sink, &in->body, &e)
		     : strip_form(p->body, p->body_len, in->paths, in->npaths, &sink, &in->body, &e);
	if (s.active)
		decoder_release(&s.d);
	if (st == STRIP_REFUSED) {
		reject(r, in->paths[s.which], s.d.fail, &e, o);
		return -1;
	}
	if (st == STRIP_MALFORMED) {
		push_reject(r, 400, kind == PUSH_BODY_JSON ? "invalid_json" : "invalid_form", NULL, e.msg);
		return -1;
	}
	in->stripped = st == STRIP_OK;
	return 0;
}

/* ---- after mapping ------------------------------------------------------------- */

/* Puts V (taken) at PATH in ROOT, replacing what is there. */
static void set_at(json_object *root, const char *path, json_object *v)
{
	const char *cut = path + strlen(path);
	char *parent_path;
	json_object *parent;
	long idx = -1;

	if (cut > path && cut[-1] == ']') {
		cut = strrchr(path, '[');
		idx = strtol(cut + 1, NULL, 10);
	} else {
		const char *dot = strrchr(path, '.');

		cut = dot ? dot : path;
	}
	parent_path = xstrndup(path, (size_t)(cut - path));
	parent = *parent_path ? profile_lookup(root, parent_path) : root;
	if (idx >= 0 && json_object_is_type(parent, json_type_array))
		json_object_array_put_idx(parent, (size_t)idx, v);
	else if (idx < 0 && json_object_is_type(parent, json_type_object))
		json_object_object_add(parent, *cut == '.' ? cut + 1 : cut, v);
	else
		json_object_put(v);
	free(parent_path);
}

static json_object *reference(const struct push_inline_rec *rec)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "blob_sha256", json_object_new_string(rec->info.key));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)rec->info.size));
	json_object_object_add(o, "mime_type", json_object_new_string(rec->mime));
	if (rec->audio.transcoded) {
		json_object_object_add(o, "original_sha256", json_object_new_string(rec->audio.original_key));
		json_object_object_add(o, "original_mime_type", json_object_new_string(rec->audio.original_mime));
		json_object_object_add(o, "original_size_bytes",
				       json_object_new_int64((int64_t)rec->audio.original_size));
	}
	if (rec->audio.corrupt)
		json_object_object_add(o, "audio_error", json_object_new_string(rec->audio.reason));
	return o;
}

/* A value that was not stripped: decoded from the payload. */
static int decode_in_place(struct push_inline *in, size_t i, json_object *v,
			   const struct push_options *o, struct push_result *r)
{
	struct decoder d;
	struct errbuf e;
	int rc;

	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string)) {
		e = (struct errbuf){ "it must be a base64 string" };
		reject(r, in->paths[i], FAIL_INVALID, &e, o);
		return -1;
	}
	decoder_start(&d, o);
	rc = b64_stream_feed(&d.b64, json_object_get_string(v), (size_t)json_object_get_string_len(v), &e);
	if (rc == 0)
		rc = decoder_finish(&d, &in->recs[i], &e);
	if (rc < 0)
		reject(r, in->paths[i], d.fail, &e, o);
	decoder_release(&d);
	return rc;
}

int push_inline_finish(struct push_inline *in, json_object *payload, struct cdr *c,
		       const struct push_options *o, struct push_result *r)
{
	struct cdr_recording *rec0 = &c->recordings[0];

	for (size_t i = 0; i < in->npaths; i++) {
		struct push_inline_rec *rec = &in->recs[i];

		if (!rec->seen && decode_in_place(in, i, profile_lookup(payload, in->paths[i]), o, r) < 0)
			return -1;
		if (rec->stored)
			set_at(payload, in->paths[i], reference(rec));
		else if (rec->seen)
			set_at(payload, in->paths[i], json_object_new_string(""));
		if (rec->stored && !rec0->blob_key) {
			rec0->blob_key = xstrdup(rec->info.key);
			rec0->mime_type = xstrdup(rec->mime);
			rec0->size_bytes = (long long)rec->info.size;
			rec0->original_sha256 = xstrdup(rec->audio.original_key);
			rec0->original_mime_type = xstrdup(rec->audio.original_mime);
			rec0->original_size = (long long)rec->audio.original_size;
			if (rec->audio.corrupt)
				rec0->corrupt = xstrdup(rec->audio.reason);
		}
	}
	free(rec0->base64);
	rec0->base64 = NULL;
	return 0;
}

void push_inline_release(struct push_inline *in)
{
	buf_release(&in->body);
}
