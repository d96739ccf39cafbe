/* POST|GET /v1/cdr/{source}: the end-of-call push. Authenticate, run the
 * pipeline, and answer only once the push is durable: committed in
 * PostgreSQL, or fsynced in the spool while PostgreSQL is away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest.h"
#include "metrics.h"
#include "writer.h"
#include "ringlog/auth.h"
#include "ringlog/buf.h"
#include "ringlog/form.h"
#include "ringlog/xalloc.h"

/* The raw query without its key= parameters: the key is a secret and must
 * reach neither the spool nor the database. libmicrohttpd finds query
 * arguments ignoring case (ingest_authenticated accepts ?KEY=), so every
 * spelling of the name is taken out. Caller frees. */
static char *query_without_key(const char *query)
{
	struct buf out = BUF_INIT;
	const char *p = query;

	while (*p) {
		size_t len = strcspn(p, "&");
		size_t klen = strcspn(p, "=&");
		char *key = form_unescape(p, klen, 1, NULL);

		if (len && !(key && strcasecmp(key, "key") == 0)) {
			if (out.len)
				buf_addch(&out, '&');
			buf_add(&out, p, len);
		}
		free(key);
		p += len;
		if (*p == '&')
			p++;
	}
	return buf_detach(&out, NULL);
}

static enum MHD_Result answer_rejection(struct http_request *req, const struct push_result *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(r->error));
	json_object_object_add(o, "message", json_object_new_string(r->message));
	if (r->field[0])
		json_object_object_add(o, "field", json_object_new_string(r->field));
	if (r->dead_letter)
		json_object_object_add(o, "dead_letter_id", json_object_new_int64(r->dead_letter));
	return http_reply_json(req, r->status, o);
}

static enum MHD_Result answer_success(struct http_request *req, const struct push_result *r,
				      const char *status)
{
	json_object *o;

	if (r->ack_body)
		return http_reply(req, 200, "application/json", r->ack_body, strlen(r->ack_body));
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "duplicate", json_object_new_boolean(r->outcome == PUSH_DUPLICATE));
	if (r->call_id[0])
		json_object_object_add(o, "call_id", json_object_new_string(r->call_id));
	if (r->call_row)
		json_object_object_add(o, "id", json_object_new_int64(r->call_row));
	return http_reply_json(req, 200, o);
}

/* The database is away: keep the push on disk. Its answer stays what the
 * pipeline decided (a rejection is filed as a dead letter when it drains). */
static enum MHD_Result spool_and_answer(struct ingest *in, struct http_request *req,
					const struct push *p, struct push_result *r)
{
	struct errbuf e;

	if (spool_put(in->spool, p, &e) < 0) {
		log_msg(LOG_ERR, "push not kept: request id=%s source=%s: %s", req->id, p->source, e.msg);
		req->log_outcome = "spool_failed";
		ingest_count_push(p->source, "spool_failed");
		http_add_header(req, "Retry-After", "30");
		return http_reply_error(req, 503, "unavailable",
					"the database is unreachable and the spool cannot keep the push: %s",
					e.msg);
	}
	if (r->outcome == PUSH_REJECTED) {
		req->log_outcome = r->error;
		ingest_count_push(p->source, "rejected");
		return answer_rejection(req, r);
	}
	req->log_outcome = "spooled";
	ingest_count_push(p->source, "spooled");
	return answer_success(req, r, "spooled");
}

/* A push handed to the writers: what the handler needs again when its
 * connection is resumed. Freed with the request. */
struct pending {
	struct ingest *in;
	struct MHD_Connection *conn;
	struct source_set *set;   /* keeps the source alive */
	const struct source *src;
	char *query;              /* the query without key= */
	struct push push;         /* borrows from the request and QUERY */
	struct push_ready *ready;
	struct push_result result;
	struct writer_job job;
	int64_t t0;
};

static void pending_free(void *ctx)
{
	struct pending *pd = ctx;

	push_ready_free(pd->ready);
	source_set_unref(pd->set);
	free(pd->query);
	free(pd);
}

/* A writer has committed (or failed) the push: wake its connection. */
static void stored(void *ctx)
{
	struct pending *pd = ctx;

	MHD_resume_connection(pd->conn);
}

/* What to answer once the push is durable, or what became of it. */
static enum MHD_Result finish(struct http_request *req, struct pending *pd)
{
	struct ingest *in = pd->in;
	struct push_result *r = &pd->result;
	enum MHD_Result rc;

	if (r->invalid_phones && (push_is_success(r->outcome) || r->db_down))
		ingest_count_invalid_phones(pd->push.source, r->invalid_phones);
	if (r->call_id[0])
		req->log_call_id = xstrdup(r->call_id);
	if (r->db_down) {
		rc = spool_and_answer(in, req, &pd->push, r);
	} else {
		if (r->dead_letter)
			ingest_count_dead_letter();
		if (r->dead_letter_dropped)
			ingest_dead_letter_dropped(pd->src, &in->push, req->id);
		req->log_outcome = push_is_success(r->outcome) ? push_outcome_name(r->outcome) : r->error;
		ingest_count_push(pd->push.source, push_outcome_name(r->outcome));
		if (r->outcome == PUSH_FAILED)
			log_msg(LOG_ERR, "push not stored: request id=%s source=%s: %s", req->id,
				pd->push.source, r->message);
		rc = push_is_success(r->outcome) ? answer_success(req, r, push_outcome_name(r->outcome))
						 : answer_rejection(req, r);
	}
	ingest_observe_push((double)(http_monotonic_ns() - pd->t0) / 1e9);
	return rc;
}

/* Decodes and maps the push on this thread, then hands it to the writers
 * (stored, or its dead letter filed) and parks the connection; or spools it
 * while older pushes wait in the spool. */
static enum MHD_Result start(struct http_request *req, struct pending *pd)
{
	struct ingest *in = pd->in;

	pd->ready = push_prepare(pd->src, &pd->push, &in->push, &pd->result);
	/* While older pushes wait in the spool, new ones queue behind them so
	 * the database sees every call's pushes in order (a refused one is
	 * filed when the spool drains). */
	if (spool_depth(in->spool) > 0) {
		pd->result.db_down = true;
		return finish(req, pd);
	}
	pd->job = (struct writer_job){
		{ &pd->push, pd->ready, &pd->result, push_dead_letter_budget(pd->src, &in->push) },
		stored, pd, NULL
	};
	MHD_suspend_connection(req->conn);
	writers_submit(in->writers, &pd->job);
	return MHD_YES;
}

enum MHD_Result ingest_handle_cdr(struct http_request *req, void *app);

enum MHD_Result ingest_handle_cdr(struct http_request *req, void *app)
{
	struct ingest *in = app;
	struct pending *pd = req->app_ctx;
	enum MHD_Result rc;
	const char *body;
	size_t body_len;

	if (pd) /* resumed: the writer is done with it */
		return finish(req, pd);
	pd = xcalloc(1, sizeof(*pd));
	pd->in = in;
	pd->conn = req->conn;
	pd->t0 = http_monotonic_ns();
	req->app_ctx = pd;
	req->app_ctx_free = pending_free;
	pd->src = ingest_lookup_source(in, req, &pd->set, true, &rc);
	if (!pd->src)
		return rc;
	pd->query = query_without_key(req->query);
	body = http_body(req, &body_len);
	pd->push = (struct push){
		.source = pd->src->name,
		.method = req->method,
		.content_type = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
		.query = pd->query,
		.body = body,
		.body_len = body_len,
		.request_id = req->id,
		.received_us = req->received_us,
	};
	return start(req, pd);
}
