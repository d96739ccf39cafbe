/* GET|POST /v1/screenpop/{source}: who is calling, before anyone answers
 * (Voicenter's Pop-Up Screen contract, FORMATS.md §1.5). A ringing call
 * rings many stations at once and each asks, so the answer comes from the
 * open leads by number held in memory (leadcache.c, kept true by LISTEN),
 * or one indexed look-up while that cache is not current. The event (ringing per station,
 * talking, hangup) is queued for call_events, a live view of calls in
 * progress, and written in batches (events.c). Ringing creates nothing else. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "ingest.h"
#include "leadcache.h"
#include "metrics.h"
#include "ringlog/buf.h"
#include "ringlog/crm_url.h"
#include "ringlog/phone.h"
#include "ringlog/xalloc.h"

/* Voicenter's names first, then what other PBXs send. */
static const char *const phone_names[] = { "phone", "callerPhone", "caller", "callerid",
					   "caller_id", "from", "number", NULL };
static const char *const call_names[] = { "ivrid", "ivruniqueid", "call_id", "callid", "uniqueid", NULL };
static const char *const agent_names[] = { "extenUser", "extension", "agent", "exten", NULL };
static const char *const did_names[] = { "did", "called", "to", NULL };
static const char *const status_names[] = { "statusCall", "status", "event", "callstatus", NULL };
static const char *const name_names[] = { "callerName", "caller_name", "callername", NULL };
static const char *const direction_names[] = { "direction", NULL };

#define POP_MAX_TEXT 256

/* One screen-pop request, its values borrowed from the parameters. */
struct pop {
	const char *phone, *call, *agent, *did, *caller_name, *direction;
	char status[33];
	char e164[PHONE_E164_LEN];
	bool public_number;
};

static const struct db_stmt lookup = {
	"screenpop_lookup",
	"SELECT count(*) OVER (), id, crm_id, name, company, crm_url"
	"  FROM leads WHERE phone = $1 AND status = 'open' ORDER BY id LIMIT 1",
	1
};

/* Text fit to keep: NULL when absent or longer than a field can be. */
static const char *bounded(const char *s)
{
	return s && strlen(s) <= POP_MAX_TEXT ? s : NULL;
}

static void read_pop(json_object *params, const struct source *src, struct pop *pop)
{
	const char *status = ingest_param(params, status_names);
	size_t i = 0;

	memset(pop, 0, sizeof(*pop));
	pop->phone = ingest_param(params, phone_names);
	pop->call = bounded(ingest_param(params, call_names));
	pop->agent = bounded(ingest_param(params, agent_names));
	pop->did = bounded(ingest_param(params, did_names));
	pop->caller_name = bounded(ingest_param(params, name_names));
	pop->direction = bounded(ingest_param(params, direction_names));
	/* Ringing, Talking, Hangup: kept lower case; none said is a look-up.
	 * A long one is cut on a character boundary, never inside one. */
	for (; status && status[i] && i < sizeof(pop->status) - 1; i++)
		pop->status[i] = (char)tolower((unsigned char)status[i]);
	while (status && i > 0 && ((unsigned char)status[i] & 0xc0) == 0x80)
		i--; /* status[i], the first byte left out, continues a character */
	snprintf(pop->status + i, sizeof(pop->status) - i, "%s", i ? "" : "lookup");
	pop->public_number = pop->phone && strlen(pop->phone) <= 64 &&
			     phone_normalize(pop->phone, &src->phone, pop->e164) == 0;
}

static void add_url(json_object *o, const char *template, const char *id, const struct pop *pop)
{
	struct buf url = BUF_INIT;

	crm_url_fill(template, id, pop->phone ? pop->phone : "", pop->public_number ? pop->e164 : "",
		     &url);
	json_object_object_add(o, "URL", json_object_new_string(buf_str(&url)));
	buf_release(&url);
}

/* The answer Voicenter's plug-in reads: STATUS exactly "OK". */
static json_object *answer(const struct source *src, const struct pop *pop, const struct lead_view *v)
{
	json_object *o = json_object_new_object();
	char idtext[24];
	const char *id;

	json_object_object_add(o, "STATUS", json_object_new_string("OK"));
	if (v->total == 0) {
		add_url(o, src->crm_new_url_template, NULL, pop);
		json_object_object_add(o, "CLIENTNAME", json_object_new_string(""));
		json_object_object_add(o, "TOTAL", json_object_new_int(0));
		return o;
	}
	snprintf(idtext, sizeof(idtext), "%lld", v->id);
	id = v->crm_id ? v->crm_id : idtext;
	if (*v->crm_url)
		json_object_object_add(o, "URL", json_object_new_string(v->crm_url));
	else
		add_url(o, src->crm_url_template, id, pop);
	json_object_object_add(o, "CLIENTNAME", json_object_new_string(v->name));
	json_object_object_add(o, "TOTAL", json_object_new_int64(v->total));
	json_object_object_add(o, "COMPANY", json_object_new_string(v->company));
	return o;
}

/* The open leads of POP's number: from memory when the cache is current,
 * else from PostgreSQL. Returns 0 with V filled, or -1 with E. */
static int look_up(struct ingest *in, const struct pop *pop, struct lead_view *v, struct errbuf *e)
{
	struct db *db;
	const char *params[] = { pop->e164 };
	PGresult *res;

	if (leadcache_get(in->leads, pop->e164, v))
		return 0;
	db = db_for_thread(in->cfg->database_url, "ringlog-ingestd");
	res = db_exec(db, &lookup, params, e);
	if (!res)
		return -1;
	if (PQntuples(res) > 0) {
		v->total = atoll(PQgetvalue(res, 0, 0));
		v->id = atoll(PQgetvalue(res, 0, 1));
		v->crm_id = PQgetisnull(res, 0, 2) ? NULL : xstrdup(PQgetvalue(res, 0, 2));
		v->name = xstrdup(PQgetvalue(res, 0, 3));
		v->company = xstrdup(PQgetvalue(res, 0, 4));
		v->crm_url = xstrdup(PQgetvalue(res, 0, 5));
	}
	PQclear(res);
	return 0;
}

/* Queues the event for call_events: what rang where, and the lead shown. */
static void record(struct ingest *in, struct http_request *req, const struct source *src,
		   const struct pop *pop, const struct lead_view *v)
{
	struct call_event ev = {
		.source_id = src->id,
		.pbx_call_id = pop->call,
		.status = pop->status,
		.phone = bounded(pop->phone),
		.phone_e164 = pop->public_number ? pop->e164 : NULL,
		.caller_name = pop->caller_name,
		.agent = pop->agent,
		.did = pop->did,
		.direction = pop->direction,
		.lead_id = v->total ? v->id : 0,
		.at_us = req->received_us,
	};

	if (in->events)
		events_record(in->events, &ev);
}

static enum MHD_Result serve(struct ingest *in, struct http_request *req, const struct source *src)
{
	enum MHD_Result rc;
	json_object *params = ingest_lookup_params(req, &rc);
	struct lead_view v = { 0 };
	struct errbuf e;
	struct pop pop;

	if (!params)
		return rc;
	read_pop(params, src, &pop);
	if (!pop.phone) {
		json_object_put(params);
		ingest_count_lookup("screenpop", "rejected");
		return http_reply_error(req, 400, "missing_field", "phone is required");
	}
	/* POP borrows from PARAMS until the answer is built. A number that is
	 * nobody's (an extension, a withheld caller id) needs no look-up. */
	if (pop.public_number && look_up(in, &pop, &v, &e) < 0) {
		rc = ingest_lookup_failed(req, "screenpop", src, e.msg);
	} else {
		req->log_outcome = v.total ? "known" : "unknown";
		ingest_count_lookup("screenpop", req->log_outcome);
		rc = http_reply_json(req, 200, answer(src, &pop, &v));
		record(in, req, src, &pop, &v);
		lead_view_release(&v);
	}
	json_object_put(params);
	return rc;
}

enum MHD_Result ingest_handle_screenpop(struct http_request *req, void *app);

enum MHD_Result ingest_handle_screenpop(struct http_request *req, void *app)
{
	struct ingest *in = app;
	struct source_set *set = NULL;
	const struct source *src;
	enum MHD_Result rc;

	/* The browser plug-in reads every answer, errors too. */
	ingest_add_cors(in, req);
	if (strcmp(req->method, "OPTIONS") == 0)
		return http_reply(req, 204, NULL, "", 0);
	src = ingest_lookup_source(in, req, &set, false, &rc);
	if (src)
		rc = serve(in, req, src);
	source_set_unref(set);
	return rc;
}

void ingest_prune_events(struct ingest *in, struct db *db)
{
	static const struct db_stmt prune = {
		"screenpop_prune_events",
		"DELETE FROM call_events WHERE at < now() - make_interval(secs => $1::double precision)", 1
	};
	static time_t next;
	char keep[24];
	const char *params[] = { keep };
	struct errbuf e;
	PGresult *res;

	if (in->cfg->events_keep_s == 0 || time(NULL) < next)
		return;
	next = time(NULL) + 60;
	snprintf(keep, sizeof(keep), "%lld", in->cfg->events_keep_s);
	res = db_exec(db, &prune, params, &e);
	if (!res) {
		log_msg(LOG_DEBUG, "screen-pop events not pruned: %s", e.msg);
		return;
	}
	if (atoll(PQcmdTuples(res)) > 0)
		log_msg(LOG_INFO, "pruned %s screen-pop events older than %lld s", PQcmdTuples(res),
			in->cfg->events_keep_s);
	PQclear(res);
}
