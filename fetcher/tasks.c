/* Missed-call follow-ups: GET /v1/tasks (oldest first, as a to-do list is
 * worked through) and POST /v1/tasks/{id}/done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"

#define TASKS_DEFAULT_LIMIT 50
#define TASKS_MAX_LIMIT 1000

#define TASK_JSON                                                                                  \
	"json_build_object('id', t.id, 'kind', t.kind, 'status', t.status,"                        \
	" 'assignee', t.assignee, 'created_at', ringlog_utc_text(t.created_at),"                   \
	" 'done_at', ringlog_utc_text(t.done_at),"                                                 \
	" 'lead', (SELECT json_build_object('id', l.id, 'name', l.name, 'company', l.company,"     \
	"   'phone', l.phone, 'crm_id', l.crm_id, 'crm_url', l.crm_url) FROM leads l"              \
	"   WHERE l.id = t.lead_id),"                                                               \
	" 'call', (SELECT json_build_object('id', c.id, 'direction', c.direction,"                 \
	"   'disposition', c.disposition, 'caller', c.caller, 'callee', c.callee, 'did', c.did,"   \
	"   'started_at', ringlog_utc_text(c.started_at)) FROM calls c WHERE c.id = t.call_id))"

static const struct db_stmt list_stmt = {
	"fetcher_tasks_list",
	"SELECT (extract(epoch FROM t.created_at) * 1000000)::bigint, t.id, " TASK_JSON
	" FROM tasks t"
	" WHERE ($1::text IS NULL OR t.assignee = $1) AND ($2::text IS NULL OR t.status = $2)"
	"   AND ($3::bigint IS NULL OR t.lead_id = $3) AND ($4::text IS NULL OR t.kind = $4)"
	"   AND ($5::bigint IS NULL OR (t.created_at, t.id) >"
	"        (timestamptz 'epoch' + $5::bigint * interval '1 microsecond', $6::bigint))"
	" ORDER BY t.created_at, t.id LIMIT $7",
	7
};

static const struct db_stmt done_stmt = {
	"fetcher_tasks_done",
	"UPDATE tasks SET status = 'done', done_at = now() WHERE id = $1 AND status = 'open'"
	" AND ($2::text IS NULL OR assignee IS NULL OR assignee = $2::text)", 2
};

/* $2: a UI session's user, who sees only its own and unassigned tasks here. */
static const struct db_stmt one_stmt = {
	"fetcher_tasks_one", "SELECT " TASK_JSON " FROM tasks t WHERE t.id = $1"
	" AND ($2::text IS NULL OR t.assignee IS NULL OR t.assignee = $2::text)", 2
};

struct tasks_query {
	const char *params[7];
	char lead_id[24], after_time[24], after_id[24], limit[24];
	long long limit_n;
};

static int read_filters(struct fetcher *f, struct http_request *req, struct tasks_query *q,
			struct fetcher_bad *b)
{
	static const char *const allowed[] = { "assignee", "status", "lead_id", "kind", "limit",
					       "cursor", NULL };
	static const char *const statuses[] = { "open", "done", "all", NULL };
	static const char *const kinds[] = { "missed_call", "check_agent_mapping", NULL };
	const char *cursor;
	long long lead, t, id;

	if (fetcher_params_known(req, allowed, b) < 0 ||
	    fetcher_param_text(req, "assignee", 256, &q->params[0], b) < 0 ||
	    fetcher_param_choice(req, "status", statuses, &q->params[1], b) < 0 ||
	    fetcher_param_int(req, "lead_id", 1, INT64_MAX, 0, &lead, b) < 0 ||
	    fetcher_param_choice(req, "kind", kinds, &q->params[3], b) < 0 ||
	    fetcher_param_int(req, "limit", 1, TASKS_MAX_LIMIT, TASKS_DEFAULT_LIMIT, &q->limit_n, b) < 0 ||
	    fetcher_param_text(req, "cursor", 64, &cursor, b) < 0)
		return -1;
	if (cursor && fetcher_cursor_read(f, "tasks", cursor, &t, &id) < 0)
		return fetcher_bad(b, "invalid_cursor", "cursor",
				   "cursor is not one this API gave out (pass next_cursor as it came)");
	/* Open tasks unless asked otherwise: the to-do list. */
	if (!q->params[1])
		q->params[1] = "open";
	else if (strcmp(q->params[1], "all") == 0)
		q->params[1] = NULL;
	if (lead)
		snprintf(q->lead_id, sizeof(q->lead_id), "%lld", lead), q->params[2] = q->lead_id;
	if (cursor) {
		snprintf(q->after_time, sizeof(q->after_time), "%lld", t);
		snprintf(q->after_id, sizeof(q->after_id), "%lld", id);
		q->params[4] = q->after_time;
		q->params[5] = q->after_id;
	}
	snprintf(q->limit, sizeof(q->limit), "%lld", q->limit_n + 1);
	q->params[6] = q->limit;
	return 0;
}

static json_object *page(struct fetcher *f, PGresult *res, long long limit)
{
	json_object *out = json_object_new_object(), *tasks = json_object_new_array();
	int n = PQntuples(res), shown = n > limit ? (int)limit : n;
	struct buf cursor = BUF_INIT;

	for (int i = 0; i < shown; i++) {
		json_object *task = fetcher_json_parse(PQgetvalue(res, i, 2));

		if (task)
			json_object_array_add(tasks, task);
	}
	json_object_object_add(out, "tasks", tasks);
	if (n > limit)
		fetcher_cursor_make(f, "tasks", atoll(PQgetvalue(res, shown - 1, 0)),
				    atoll(PQgetvalue(res, shown - 1, 1)), &cursor);
	json_object_object_add(out, "next_cursor",
			       n > limit ? json_object_new_string(buf_str(&cursor)) : NULL);
	buf_release(&cursor);
	return out;
}

enum MHD_Result fetcher_handle_tasks(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct tasks_query q = { 0 };
	struct fetcher_bad b;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (read_filters(f, req, &q, &b) < 0)
		return fetcher_reply_bad(req, &b);
	db = fetcher_read_db(f);
	res = db_exec_planned(db, &list_stmt, q.params, &e);
	if (!res)
		return fetcher_reply_db_error(req, db, "tasks", &e);
	rc = http_reply_json(req, 200, page(f, res, q.limit_n));
	PQclear(res);
	return rc;
}

/* Marks the task done (once: done_at stays the first time) and answers it
 * as it is now; doing it again is harmless. */
enum MHD_Result fetcher_handle_task_done(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char idtext[24];
	const char *params[] = { idtext, NULL };
	json_object *task;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;
	long long id;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (!fetcher_path_id(req, &id))
		return http_reply_error(req, 404, "not_found", "a task id is a positive integer");
	snprintf(idtext, sizeof(idtext), "%lld", id);
	params[1] = fetcher_is_session(req) ? req->user : NULL; /* a session closes its own tasks */
	db = fetcher_db(f);
	res = db_exec(db, &done_stmt, params, &e);
	if (!res)
		return fetcher_reply_db_error(req, db, "task done", &e);
	PQclear(res);
	if (fetcher_json_row(db, &one_stmt, params, &task, &e) < 0)
		return fetcher_reply_db_error(req, db, "task done", &e);
	if (!task)
		return http_reply_error(req, 404, "not_found", "no task has id %lld", id);
	return http_reply_json(req, 200, task);
}

int fetcher_task_object(struct db *db, long long id, json_object **out, struct errbuf *e)
{
	char idtext[24];
	const char *params[] = { idtext, NULL }; /* no session: any task */

	snprintf(idtext, sizeof(idtext), "%lld", id);
	return fetcher_json_row(db, &one_stmt, params, out, e);
}
