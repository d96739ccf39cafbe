/* Leads as the CRM sees them: GET /v1/leads (by phone, CRM id, status),
 * GET /v1/leads/{id}, and POST /v1/leads, which creates or updates leads
 * by the CRM's id or by phone: how a CRM syncs its contacts in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"

#define LEADS_DEFAULT_LIMIT 50
#define LEADS_MAX_LIMIT 1000
#define LEADS_MAX_BATCH 1000

/* The source of the lead's latest call: whose crm_url_template applies. */
#define LEAD_SOURCE                                                                                \
	"(SELECT s.name FROM calls c JOIN sources s ON s.id = c.source_id WHERE c.lead_id = l.id"  \
	" ORDER BY c.started_at DESC, c.id DESC LIMIT 1)"

#define LEAD_JSON                                                                                  \
	"json_build_object('id', l.id, 'crm_id', l.crm_id, 'phone', l.phone, 'name', l.name,"      \
	" 'company', l.company, 'crm_url', l.crm_url, 'responsible', l.responsible,"               \
	" 'status', l.status, 'origin', l.origin, 'created_at', ringlog_utc_text(l.created_at),"   \
	" 'updated_at', ringlog_utc_text(l.updated_at))"

static const struct db_stmt list_stmt = {
	"fetcher_leads_list",
	"SELECT l.id, " LEAD_JSON ", " LEAD_SOURCE " FROM leads l"
	" WHERE ($1::text IS NULL OR l.phone = $1) AND ($2::text IS NULL OR l.crm_id = $2)"
	"   AND ($3::text IS NULL OR l.status = $3) AND ($4::bigint IS NULL OR l.id > $4)"
	" ORDER BY l.id LIMIT $5",
	5
};

static const struct db_stmt one_stmt = {
	"fetcher_leads_one",
	"SELECT " LEAD_JSON ","
	" (SELECT count(*) FROM calls c WHERE c.lead_id = l.id),"
	" (SELECT ringlog_utc_text(max(c.started_at)) FROM calls c WHERE c.lead_id = l.id),"
	" (SELECT count(*) FROM tasks t WHERE t.lead_id = l.id AND t.status = 'open'), " LEAD_SOURCE
	" FROM leads l WHERE l.id = $1",
	1
};

/* The lead's crm_url, else the template of SRC (the source asked for), else
 * of the source of its latest call (column COL of RES). */
static void lead_crm_url(struct fetcher *f, const struct source *src, PGresult *res, int row,
			 int col, json_object *lead)
{
	struct source_set *set = NULL;

	if (!src && !PQgetisnull(res, row, col)) {
		set = source_cache_get(f->sources);
		src = set ? source_set_find(set, PQgetvalue(res, row, col)) : NULL;
	}
	fetcher_lead_crm_url(src, lead);
	source_set_unref(set);
}

static json_object *list_page(struct fetcher *f, const struct source *src, PGresult *res,
			      long long limit)
{
	json_object *out = json_object_new_object(), *leads = json_object_new_array();
	int n = PQntuples(res), shown = n > limit ? (int)limit : n;
	struct buf cursor = BUF_INIT;

	for (int i = 0; i < shown; i++) {
		json_object *lead = fetcher_json_parse(PQgetvalue(res, i, 1));

		if (lead) {
			fetcher_add_phone_display(lead, "phone", NULL, "phone");
			lead_crm_url(f, src, res, i, 2, lead);
			json_object_array_add(leads, lead);
		}
	}
	json_object_object_add(out, "leads", leads);
	if (n > limit)
		fetcher_cursor_make(f, "leads", 0, atoll(PQgetvalue(res, shown - 1, 0)), &cursor);
	json_object_object_add(out, "next_cursor",
			       n > limit ? json_object_new_string(buf_str(&cursor)) : NULL);
	buf_release(&cursor);
	return out;
}

struct leads_query {
	const char *params[5];
	char phone[PHONE_E164_LEN], after[24], limit[24];
	long long limit_n;
	struct source_set *set;
	const struct source *src;
};

static int read_filters(struct fetcher *f, struct http_request *req, struct leads_query *q,
			struct fetcher_bad *b)
{
	static const char *const allowed[] = { "phone", "source", "crm_id", "status", "limit",
					       "cursor", NULL };
	static const char *const statuses[] = { "open", "closed", NULL };
	const char *phone, *cursor;
	long long zero, after;

	if (fetcher_params_known(req, allowed, b) < 0 ||
	    fetcher_param_source(f, req, &q->set, &q->src, b) < 0 ||
	    fetcher_param_text(req, "phone", 64, &phone, b) < 0 ||
	    (phone && fetcher_phone(phone, q->src, "phone", q->phone, b) < 0) ||
	    fetcher_param_text(req, "crm_id", 256, &q->params[1], b) < 0 ||
	    fetcher_param_choice(req, "status", statuses, &q->params[2], b) < 0 ||
	    fetcher_param_int(req, "limit", 1, LEADS_MAX_LIMIT, LEADS_DEFAULT_LIMIT, &q->limit_n, b) < 0 ||
	    fetcher_param_text(req, "cursor", 64, &cursor, b) < 0)
		return -1;
	if (cursor && fetcher_cursor_read(f, "leads", cursor, &zero, &after) < 0)
		return fetcher_bad(b, "invalid_cursor", "cursor",
				   "cursor is not one this API gave out (pass next_cursor as it came)");
	if (phone)
		q->params[0] = q->phone;
	if (cursor)
		snprintf(q->after, sizeof(q->after), "%lld", after), q->params[3] = q->after;
	snprintf(q->limit, sizeof(q->limit), "%lld", q->limit_n + 1);
	q->params[4] = q->limit;
	return 0;
}

enum MHD_Result fetcher_handle_leads(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct leads_query q = { 0 };
	struct fetcher_bad b;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (read_filters(f, req, &q, &b) < 0) {
		rc = fetcher_reply_bad(req, &b);
		goto out;
	}
	db = fetcher_read_db(f);
	res = db_exec_planned(db, &list_stmt, q.params, &e);
	if (!res) {
		rc = fetcher_reply_db_error(req, db, "leads", &e);
		goto out;
	}
	rc = http_reply_json(req, 200, list_page(f, q.src, res, q.limit_n));
	PQclear(res);
out:
	source_set_unref(q.set);
	return rc;
}

enum MHD_Result fetcher_handle_lead(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char idtext[24];
	const char *params[] = { idtext };
	json_object *lead = NULL;
	struct errbuf e;
	struct db *db;
	PGresult *res;
	enum MHD_Result rc;
	long long id;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	if (!fetcher_path_id(req, &id))
		return http_reply_error(req, 404, "not_found", "a lead id is a positive integer");
	snprintf(idtext, sizeof(idtext), "%lld", id);
	db = fetcher_read_db(f);
	res = db_exec(db, &one_stmt, params, &e);
	if (!res)
		return fetcher_reply_db_error(req, db, "lead", &e);
	if (PQntuples(res) && (lead = fetcher_json_parse(PQgetvalue(res, 0, 0)))) {
		json_object_object_add(lead, "calls_total", json_object_new_int64(atoll(PQgetvalue(res, 0, 1))));
		json_object_object_add(lead, "last_call_at", PQgetisnull(res, 0, 2) ? NULL :
				       json_object_new_string(PQgetvalue(res, 0, 2)));
		json_object_object_add(lead, "open_tasks", json_object_new_int64(atoll(PQgetvalue(res, 0, 3))));
		fetcher_add_phone_display(lead, "phone", NULL, "phone");
		lead_crm_url(f, NULL, res, 0, 4, lead);
	}
	PQclear(res);
	if (!lead)
		return http_reply_error(req, 404, "not_found", "no lead has id %lld", id);
	return http_reply_json(req, 200, lead);
}
