/* POST /v1/click2call: asks a source's PBX to ring an agent and then dial a
 * number (or to hang up), and keeps every click so the CDR that arrives
 * later, carrying the PBX's call id, is linked to who clicked and from which
 * lead. GET /v1/click2call/{id}: the click and, once it arrived, its call. */
#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetcher.h"
#include "ringlog/upstream.h"
#include "ringlog/db.h"
#include "ringlog/xalloc.h"

#define C2C_MAX_VARS 10
#define C2C_MAX_TEXT 128

/* A request, checked. Strings are borrowed from the body or the source. */
struct click {
	const struct source *src;
	const char *action; /* "call" or "terminate" */
	const char *agent, *target, *clicked_by;
	char *extension;    /* owned */
	long long lead_id;  /* 0: none */
	bool record;
	json_object *vars;  /* borrowed; NULL when none */
};

static const char *text_field(json_object *body, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(body, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int)
		       ? json_object_get_string(v)
		       : "";
}

static bool is_dialable(const char *s)
{
	size_t digits = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (!strchr("+*# -().", *s))
			return false;
	}
	return digits >= 2 && digits <= 20;
}

static bool sane_text(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x20 || n >= C2C_MAX_TEXT)
			return false;
	return n > 0;
}

/* Checks the variables: at most ten, names of letters, digits and '_'. */
static const char *check_vars(json_object *vars)
{
	if (!json_object_is_type(vars, json_type_object))
		return "vars must be an object of names and values";
	if (json_object_object_length(vars) > C2C_MAX_VARS)
		return "vars holds at most 10 values (the PBX's var_* limit)";
	json_object_object_foreach(vars, key, val) {
		size_t n = strlen(key);

		if (n == 0 || n > 32 || strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != n)
			return "vars names are 1-32 letters, digits or _";
		if (json_object_is_type(val, json_type_object) || json_object_is_type(val, json_type_array) ||
		    !sane_text(json_object_get_string(val)))
			return "vars values are short texts or numbers";
	}
	return NULL;
}

/* Reads the request into C; the agent defaults to USER (the UI session's
 * CRM user). Returns NULL, or a message for a 400. */
static const char *parse_click(json_object *body, const char *user, struct click *c,
			       const char **field)
{
	json_object *v;

	c->action = text_field(body, "action") ? text_field(body, "action") : "call";
	c->agent = text_field(body, "agent") ? text_field(body, "agent") : user;
	c->target = text_field(body, "target");
	c->clicked_by = text_field(body, "clicked_by");
	if (strcmp(c->action, "call") != 0 && strcmp(c->action, "terminate") != 0)
		return *field = "action", "action is call or terminate";
	if (!c->agent || !sane_text(c->agent))
		return *field = "agent", "agent (a CRM user or an extension) is required";
	if (strcmp(c->action, "call") == 0 && (!c->target || !is_dialable(c->target)))
		return *field = "target", "target must be a phone number (digits, + * #)";
	if (c->clicked_by && !sane_text(c->clicked_by))
		return *field = "clicked_by", "clicked_by is a short text";
	if (json_object_object_get_ex(body, "record", &v))
		c->record = json_object_get_boolean(v);
	if (json_object_object_get_ex(body, "lead_id", &v) && !json_object_is_type(v, json_type_null)) {
		c->lead_id = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || c->lead_id <= 0)
			return *field = "lead_id", "lead_id is a lead's number";
	}
	if (json_object_object_get_ex(body, "vars", &c->vars)) {
		const char *why = check_vars(c->vars);

		if (why)
			return *field = "vars", why;
	}
	return NULL;
}

/* The source to call through: the one named, or the only one that can. */
static const struct source *pick_source(struct source_set *set, json_object *body, unsigned *status,
					const char **why)
{
	const char *name = text_field(body, "source");
	const struct source *src = NULL;
	size_t able = 0;

	if (name) {
		src = source_set_find(set, name);
		if (!src)
			return *status = 404, *why = "no source of that name", NULL;
	} else {
		for (size_t i = 0; i < source_set_count(set); i++) {
			const struct source *s = source_set_at(set, i);

			if (strcmp(s->click2call_style, "none") != 0)
				able++, src = s;
		}
		if (able != 1)
			return *status = 400,
			       *why = able ? "several sources can place calls: name one in \"source\""
					   : "no source is set up for click-to-call",
			       NULL;
	}
	if (strcmp(src->click2call_style, "none") == 0 || !src->click2call_url)
		return *status = 409, *why = "this source is not set up for click-to-call (ringlog source update --click2call-*)", NULL;
	return src;
}

static const struct db_stmt agent_stmt = {
	"c2c_agent",
	"SELECT extension FROM agents WHERE source_id = $1 AND (crm_user = $2 OR extension = $2)"
	" ORDER BY (crm_user = $2) DESC, id LIMIT 1",
	2
};

/* The extension the PBX rings: the agent's, when the CRM named a user. */
static int resolve_extension(struct db *db, struct click *c, struct errbuf *e)
{
	char id[24];
	const char *params[] = { id, c->agent };
	PGresult *res;

	snprintf(id, sizeof(id), "%lld", c->src->id);
	res = db_exec(db, &agent_stmt, params, e);
	if (!res)
		return -1;
	c->extension = xstrdup(PQntuples(res) ? PQgetvalue(res, 0, 0) : c->agent);
	PQclear(res);
	return 0;
}

static const struct db_stmt lead_stmt = {
	"c2c_lead", "SELECT id FROM leads WHERE id = $1::bigint", 1
};

static int lead_exists(struct db *db, long long lead, struct errbuf *e)
{
	char id[24];
	const char *params[] = { id };
	PGresult *res;
	int n;

	snprintf(id, sizeof(id), "%lld", lead);
	res = db_exec(db, &lead_stmt, params, e);
	if (!res)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	return n;
}

/* ---- asking the PBX ----------------------------------------------------- */

/* What the PBX said, mapped to an answer. */
struct pbx_answer {
	unsigned status;     /* 200, or the error status */
	const char *outcome; /* calling, terminated, refused, failed */
	const char *error;   /* machine code, NULL on success */
	char message[300];   /* ringlog's words, for the API and the row */
	char pbx_said[300];  /* the PBX's own message, redacted, for the log only */
	char *call_id;       /* the PBX's call id (owned), or NULL */
};

/* Keeps what the PBX said for operators: its message (which may quote the
 * URL, credentials included) never reaches the API or the row. */
static void answer_quote(const struct click *c, struct pbx_answer *a, const char *said)
{
	const char *secrets[] = { c->src->click2call_secret, NULL };

	snprintf(a->pbx_said, sizeof(a->pbx_said), "%s", said ? said : "");
	for (char *p = a->pbx_said; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	upstream_redact(a->pbx_said, sizeof(a->pbx_said), secrets);
}

static void answer_set(struct pbx_answer *a, unsigned status, const char *outcome,
		       const char *error, const char *message)
{
	a->status = status;
	a->outcome = outcome;
	a->error = error;
	snprintf(a->message, sizeof(a->message), "%s", message);
}

static void add_param(CURL *curl, struct buf *url, const char *name, const char *value)
{
	char *v = curl_easy_escape(curl, value, 0);

	buf_addf(url, "%s%s=%s", strchr(buf_str(url), '?') ? "&" : "?", name, v ? v : "");
	curl_free(v);
}

/* Voicenter's click2call.aspx: GET with code, phone, target, action, format=json. */
static void voicenter_url(CURL *curl, const struct click *c, struct buf *url)
{
	buf_adds(url, c->src->click2call_url);
	add_param(curl, url, "code", c->src->click2call_secret ? c->src->click2call_secret : "");
	add_param(curl, url, "phone", c->extension);
	if (c->target)
		add_param(curl, url, "target", c->target);
	add_param(curl, url, "action", c->action);
	add_param(curl, url, "format", "json");
	if (strcmp(c->action, "call") == 0)
		add_param(curl, url, "record", c->record ? "true" : "false");
	if (c->vars) {
		json_object_object_foreach(c->vars, key, val) {
			char name[40];

			snprintf(name, sizeof(name), "var_%s", key);
			add_param(curl, url, name, json_object_get_string(val));
		}
	}
}

/* A template: {extension} {target} {user} {password} {record} {action},
 * each replaced URL-escaped. */
static void template_url(CURL *curl, const struct click *c, struct buf *url)
{
	const struct { const char *name; const char *value; } vars[] = {
		{ "{extension}", c->extension },
		{ "{target}", c->target ? c->target : "" },
		{ "{user}", c->src->click2call_user ? c->src->click2call_user : "" },
		{ "{password}", c->src->click2call_secret ? c->src->click2call_secret : "" },
		{ "{record}", c->record ? "1" : "0" },
		{ "{action}", c->action },
	};
	const char *p = c->src->click2call_url;

	while (*p) {
		size_t i;

		for (i = 0; i < RL_ARRAY_LEN(vars); i++) {
			size_t n = strlen(vars[i].name);

			if (strncmp(p, vars[i].name, n) == 0) {
				char *v = curl_easy_escape(curl, vars[i].value, 0);

				buf_adds(url, v ? v : "");
				curl_free(v);
				p += n;
				break;
			}
		}
		if (i == RL_ARRAY_LEN(vars))
			buf_addch(url, *p++);
	}
}

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *body = ctx;

	if (body->len + size * n > 65536)
		return 0; /* an answer this long is not a click-to-call answer */
	buf_add(body, data, size * n);
	return size * n;
}

/* Runs the GET. Returns the curl result; *STATUS gets the HTTP status. */
static CURLcode pbx_get(CURL *curl, const char *url, long timeout_s, struct buf *body, long *status)
{
	CURLcode rc;

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_s < 3 ? timeout_s : 3L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* credentials are in the URL */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ringlog-fetcherd");
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

/* Voicenter answers {"ERRORCODE": n, "ERRORMESSAGE": ..., "CALLID": ...}. */
static void map_voicenter(const struct click *c, const struct buf *body, struct pbx_answer *a)
{
	json_object *o = json_tokener_parse(buf_str(body)), *v;
	const char *msg = "";
	int code;

	if (!o || !json_object_object_get_ex(o, "ERRORCODE", &v)) {
		answer_set(a, 502, "failed", "upstream_error", "the PBX's answer is not Voicenter's JSON");
		json_object_put(o);
		return;
	}
	code = json_object_get_int(v);
	if (json_object_object_get_ex(o, "ERRORMESSAGE", &v))
		msg = json_object_get_string(v);
	switch (code) {
	case 0:
		answer_set(a, 200, strcmp(c->action, "call") == 0 ? "calling" : "terminated", NULL, "");
		if (json_object_object_get_ex(o, "CALLID", &v) && *json_object_get_string(v))
			a->call_id = xstrdup(json_object_get_string(v));
		break;
	case 1: answer_set(a, 422, "refused", "invalid_params", "the PBX refused the number or the extension"); break;
	case 2: answer_set(a, 502, "failed", "pbx_error", "the PBX reported an error"); break;
	case 3: answer_set(a, 409, "refused", "agent_offline", "the agent's phone is offline"); break;
	case 4: answer_set(a, 403, "refused", "agent_blocked", "the agent may not place click-to-call calls"); break;
	default: answer_set(a, 502, "failed", "upstream_error", "the PBX answered with an unknown error code"); break;
	}
	if (a->error)
		answer_quote(c, a, msg);
	json_object_put(o);
}

/* A template PBX answers nothing on success and a message on failure. */
static void map_template(const struct click *c, const struct buf *body, struct pbx_answer *a)
{
	const char *s = buf_str(body);

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || strcasecmp(s, "ok") == 0 || strncasecmp(s, "ok\n", 3) == 0) {
		answer_set(a, 200, strcmp(c->action, "call") == 0 ? "calling" : "terminated", NULL, "");
	} else {
		answer_set(a, 502, "refused", "pbx_refused", "the PBX refused the click-to-call");
		answer_quote(c, a, s);
	}
}

static void ask_pbx(const struct fetcher *f, const struct click *c, struct pbx_answer *a)
{
	CURL *curl = curl_easy_init();
	struct buf url = BUF_INIT, body = BUF_INIT;
	bool voicenter = strcmp(c->src->click2call_style, "voicenter") == 0;
	long status = 0;
	CURLcode rc;

	if (!curl) {
		answer_set(a, 500, "failed", "internal", "cannot make an HTTP client");
		return;
	}
	(voicenter ? voicenter_url : template_url)(curl, c, &url);
	rc = pbx_get(curl, url.data, f->cfg->click2call_timeout_s, &body, &status);
	if (rc == CURLE_OPERATION_TIMEDOUT)
		answer_set(a, 504, "failed", "upstream_timeout", "the PBX did not answer in time");
	else if (rc != CURLE_OK)
		answer_set(a, 502, "failed", "upstream_error", curl_easy_strerror(rc));
	else if (status == 401 || status == 403)
		answer_set(a, 502, "failed", "upstream_auth_failed", "the PBX refused the credentials");
	else if (status < 200 || status > 299)
		answer_set(a, 502, "failed", "upstream_error", "the PBX answered with an HTTP error");
	else
		(voicenter ? map_voicenter : map_template)(c, &body, a);
	buf_release(&url); /* holds credentials: never logged */
	buf_release(&body);
	curl_easy_cleanup(curl);
}

/* ---- keeping the click and answering ------------------------------------ */

static const struct db_stmt record_stmt = {
	"c2c_record",
	"INSERT INTO click2calls (source_id, action, clicked_by, agent, extension, target,"
	" target_e164, lead_id, record, vars, outcome, error, message, pbx_call_id)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7::text, coalesce($8::bigint, (SELECT id FROM leads"
	"   WHERE phone = $7::text AND status = 'open' ORDER BY id LIMIT 1)), $9, $10, $11, $12,"
	"   nullif($13, ''), $14)"
	" RETURNING id, lead_id",
	14
};

/* Keeps the click; returns its id (0 when it could not be kept). */
static long long record_click(struct db *db, const struct click *c, const struct pbx_answer *a,
			      long long *lead_id, struct errbuf *e)
{
	char src[24], lead[24], e164[PHONE_E164_LEN];
	const char *vars = c->vars ? json_object_to_json_string(c->vars) : "{}";
	const char *params[14] = {
		src, c->action, c->clicked_by, c->agent, c->extension, c->target,
		c->target && phone_normalize(c->target, &c->src->phone, e164) == 0 ? e164 : NULL,
		c->lead_id ? lead : NULL, c->record ? "true" : "false", vars, a->outcome, a->error,
		a->message, a->call_id,
	};
	PGresult *res;
	long long id;

	snprintf(src, sizeof(src), "%lld", c->src->id);
	snprintf(lead, sizeof(lead), "%lld", c->lead_id);
	res = db_exec(db, &record_stmt, params, e);
	if (!res)
		return 0;
	id = atoll(PQgetvalue(res, 0, 0));
	*lead_id = PQgetisnull(res, 0, 1) ? 0 : atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	return id;
}

static enum MHD_Result answer(struct http_request *req, const struct click *c,
			      const struct pbx_answer *a, long long id, long long lead_id)
{
	json_object *o = json_object_new_object();

	if (a->error) {
		json_object_object_add(o, "error", json_object_new_string(a->error));
		json_object_object_add(o, "message", json_object_new_string(a->message));
	} else {
		json_object_object_add(o, "status", json_object_new_string(a->outcome));
	}
	json_object_object_add(o, "click2call_id", json_object_new_int64(id));
	json_object_object_add(o, "source", json_object_new_string(c->src->name));
	json_object_object_add(o, "extension", json_object_new_string(c->extension));
	if (c->target)
		json_object_object_add(o, "target", json_object_new_string(c->target));
	if (lead_id)
		json_object_object_add(o, "lead_id", json_object_new_int64(lead_id));
	if (a->call_id)
		json_object_object_add(o, "pbx_call_id", json_object_new_string(a->call_id));
	req->log_outcome = a->error ? a->error : a->outcome;
	return http_reply_json(req, a->status, o);
}

static enum MHD_Result place(struct fetcher *f, struct http_request *req, json_object *body,
			     struct source_set *set)
{
	struct click c = { 0 };
	struct pbx_answer a = { 0 };
	struct db *db = fetcher_db(f);
	const char *why, *field = NULL;
	long long id, lead_id = 0;
	unsigned status = 400;
	struct errbuf e;
	enum MHD_Result rc;
	int lead;

	/* A person at the page calls from their own phone, as themselves. */
	why = parse_click(body, fetcher_is_session(req) ? req->user : NULL, &c, &field);
	if (why)
		return http_reply_error(req, 400, "invalid_request", "%s", why);
	if (fetcher_is_session(req) && (strcmp(c.agent, req->user) != 0 ||
					(c.clicked_by && strcmp(c.clicked_by, req->user) != 0)))
		return http_reply_error(req, 403, "forbidden",
					"a UI session places calls only from its own user's phone, as that user");
	if (!c.clicked_by)
		c.clicked_by = req->user; /* the UI session's user, or the API token's name */
	c.src = pick_source(set, body, &status, &why);
	if (!c.src)
		return http_reply_error(req, status, status == 404 ? "unknown_source" : "not_configured", "%s", why);
	lead = c.lead_id ? lead_exists(db, c.lead_id, &e) : 1;
	if (lead < 0 || resolve_extension(db, &c, &e) < 0)
		goto db_down;
	if (lead == 0) {
		rc = http_reply_error(req, 422, "unknown_lead", "lead %lld does not exist", c.lead_id);
		goto out;
	}
	ask_pbx(f, &c, &a);
	if (a.pbx_said[0])
		log_msg(LOG_NOTICE, "click-to-call %s: request id=%s source=%s: the PBX said \"%s\"",
			a.error ? a.error : a.outcome, req->id, c.src->name, a.pbx_said);
	id = record_click(db, &c, &a, &lead_id, &e);
	if (!id)
		log_msg(LOG_ERR, "click not kept: request id=%s: %s", req->id, e.msg);
	rc = answer(req, &c, &a, id, lead_id);
	goto out;
db_down:
	http_add_header(req, "Retry-After", "5");
	rc = http_reply_error(req, 503, "unavailable", "the database is unreachable");
out:
	free(c.extension);
	free(a.call_id);
	return rc;
}

enum MHD_Result fetcher_handle_click2call(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	struct source_set *set;
	json_object *body;
	enum MHD_Result rc;

	if (!fetcher_authorized(f, req, &rc))
		return rc;
	body = json_tokener_parse(buf_str(&req->body));
	if (!body || !json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		return http_reply_error(req, 400, "invalid_json", "send a JSON object (see the API docs)");
	}
	set = source_cache_get(f->sources);
	rc = place(f, req, body, set);
	source_set_unref(set);
	json_object_put(body);
	return rc;
}

static const struct db_stmt show_stmt = {
	"c2c_show",
	"SELECT json_build_object('id', k.id, 'source', s.name, 'action', k.action,"
	" 'clicked_by', k.clicked_by, 'agent', k.agent, 'extension', k.extension,"
	" 'target', k.target, 'lead_id', k.lead_id, 'record', k.record, 'vars', k.vars,"
	" 'outcome', k.outcome, 'error', k.error, 'message', k.message,"
	" 'pbx_call_id', k.pbx_call_id, 'created_at', ringlog_utc_text(k.created_at),"
	" 'call', (SELECT json_build_object('id', c.id, 'disposition', c.disposition,"
	"   'started_at', ringlog_utc_text(c.started_at), 'billable_s', c.billable_s, 'lead_id', c.lead_id)"
	"   FROM calls c WHERE c.source_id = k.source_id AND c.pbx_call_id = k.pbx_call_id"
	"   ORDER BY c.id LIMIT 1))"
	" FROM click2calls k JOIN sources s ON s.id = k.source_id WHERE k.id = $1::bigint"
	" AND ($2::text IS NULL OR k.clicked_by = $2::text)",
	2
};

enum MHD_Result fetcher_handle_click2call_show(struct http_request *req, void *app)
{
	struct fetcher *f = app;
	char *id = http_path_param(req, "id");
	const char *params[] = { id, NULL };
	enum MHD_Result rc;
	struct errbuf e;
	PGresult *res = NULL;

	if (!fetcher_authorized(f, req, &rc))
		goto out;
	params[1] = fetcher_is_session(req) ? req->user : NULL; /* a session sees its own clicks */
	if (!id || !*id || strspn(id, "0123456789") != strlen(id) || strlen(id) > 18) {
		rc = http_reply_error(req, 404, "not_found", "no such click-to-call");
		goto out;
	}
	res = db_exec(fetcher_db(f), &show_stmt, params, &e);
	if (!res) {
		http_add_header(req, "Retry-After", "5");
		rc = http_reply_error(req, 503, "unavailable", "the database is unreachable");
	} else if (PQntuples(res) == 0) {
		rc = http_reply_error(req, 404, "not_found", "no click-to-call %s", id);
	} else {
		rc = http_reply_json(req, 200, json_tokener_parse(PQgetvalue(res, 0, 0)));
	}
out:
	PQclear(res);
	free(id);
	return rc;
}
