/* GET /v1/route/{source}?phone=: smart forwarding. The extension of the
 * agent responsible for the caller's open lead on this source, so the PBX
 * rings that agent first; 404 when the number has no lead or its
 * responsible has no extension here. ?format=text answers the bare
 * extension, for PBXs that read the body as the number to dial. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "metrics.h"
#include "ringlog/phone.h"

static const char *const phone_names[] = { "phone", "caller", "callerid", "from", "number", NULL };

static const struct db_stmt route_stmt = {
	"route_lookup",
	"SELECT a.extension, a.crm_user, l.id, l.name"
	"  FROM leads l JOIN agents a ON a.source_id = $2 AND a.crm_user = l.responsible"
	" WHERE l.phone = $1 AND l.status = 'open'"
	" ORDER BY l.id, a.id LIMIT 1",
	2
};

static enum MHD_Result found(struct http_request *req, PGresult *res, bool text)
{
	json_object *o;

	if (text)
		return http_reply(req, 200, "text/plain; charset=utf-8", PQgetvalue(res, 0, 0),
				  strlen(PQgetvalue(res, 0, 0)));
	o = json_object_new_object();
	json_object_object_add(o, "extension", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(o, "agent", json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(o, "lead_id", json_object_new_int64(atoll(PQgetvalue(res, 0, 2))));
	json_object_object_add(o, "lead_name", json_object_new_string(PQgetvalue(res, 0, 3)));
	return http_reply_json(req, 200, o);
}

static enum MHD_Result serve(struct ingest *in, struct http_request *req, const struct source *src,
			     const char *phone, bool text)
{
	struct db *db = db_for_thread(in->cfg->database_url, "ringlog-ingestd");
	char e164[PHONE_E164_LEN], source_id[24];
	const char *params[] = { e164, source_id };
	enum MHD_Result rc;
	struct errbuf e;
	PGresult *res;

	if (strlen(phone) > 64 || phone_normalize(phone, &src->phone, e164) < 0) {
		ingest_count_lookup("route", "not_found");
		return http_reply_error(req, 404, "no_route", "\"%.64s\" is not a public number", phone);
	}
	snprintf(source_id, sizeof(source_id), "%lld", src->id);
	res = db_exec(db, &route_stmt, params, &e);
	if (!res)
		return ingest_lookup_failed(req, "route", src, e.msg);
	if (PQntuples(res) == 0) {
		ingest_count_lookup("route", "not_found");
		rc = http_reply_error(req, 404, "no_route",
				      "no open lead of %s has a responsible with an extension here", e164);
	} else {
		ingest_count_lookup("route", "found");
		req->log_outcome = "found";
		rc = found(req, res, text);
	}
	PQclear(res);
	return rc;
}

enum MHD_Result ingest_handle_route(struct http_request *req, void *app);

enum MHD_Result ingest_handle_route(struct http_request *req, void *app)
{
	struct ingest *in = app;
	struct source_set *set = NULL;
	json_object *params = NULL;
	const char *phone, *format;
	enum MHD_Result rc;
	const struct source *src = ingest_lookup_source(in, req, &set, false, &rc);

	if (!src)
		goto out;
	params = ingest_lookup_params(req, &rc);
	if (!params)
		goto out;
	phone = ingest_param(params, phone_names);
	format = http_query_param(req, "format");
	if (!phone)
		rc = http_reply_error(req, 400, "missing_field", "phone is required");
	else
		rc = serve(in, req, src, phone, format && strcmp(format, "text") == 0);
out:
	json_object_put(params);
	source_set_unref(set);
	return rc;
}
