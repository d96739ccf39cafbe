/* The source of a request and its authentication, for every endpoint that
 * names one (/v1/cdr, screen pop, route); what the look-ups share besides: the parameters in whichever encoding the PBX or its
 * browser plug-in used, and CORS for browser callers. */
#include <string.h>

#include "ingest.h"
#include "metrics.h"
#include "ringlog/auth.h"
#include "ringlog/push.h"
#include "ringlog/xalloc.h"

static bool secret_ok(const struct source *src, const char *secret)
{
	return secret && src->has_secret && auth_secret_matches(secret, strlen(secret), src->secret_sha256);
}

static bool basic_ok(struct http_request *req, const struct source *src)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(req->conn, &pass);
	bool ok = false;

	if (user) {
		bool user_ok = true;

		if (src->auth_user) {
			size_t n = strlen(src->auth_user);

			user_ok = strlen(user) == n && auth_equal(user, src->auth_user, n);
		}
		ok = secret_ok(src, pass) && user_ok;
	}
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

bool ingest_authenticated(struct http_request *req, const struct source *src)
{
	enum source_auth a = src->auth;

	if (a == SOURCE_AUTH_NONE)
		return true;
	if ((a == SOURCE_AUTH_ANY || a == SOURCE_AUTH_BASIC) && basic_ok(req, src))
		return true;
	if ((a == SOURCE_AUTH_ANY || a == SOURCE_AUTH_HEADER) &&
	    secret_ok(src, http_header(req, "X-Api-Key")))
		return true;
	return (a == SOURCE_AUTH_ANY || a == SOURCE_AUTH_QUERY) &&
	       secret_ok(src, http_query_param(req, "key"));
}

const struct source *ingest_lookup_source(struct ingest *in, struct http_request *req,
					  struct source_set **set, bool push, enum MHD_Result *rc)
{
	const char *name = http_path_tail(req);
	const struct source *src;

	*set = source_cache_get(in->sources);
	src = source_set_find(*set, name);
	req->log_source = xstrndup(name, strnlen(name, 64));
	if (!src && ingest_reload_on_miss(in, db_for_thread(in->cfg->database_url, "ringlog-ingestd"))) {
		source_set_unref(*set);
		*set = source_cache_get(in->sources);
		src = source_set_find(*set, name);
	}
	if (!src) {
		if (push)
			ingest_count_push(NULL, "unknown_source");
		*rc = http_reply_error(req, 404, "unknown_source", "no source is called \"%.64s\"", name);
		return NULL;
	}
	if (!ingest_authenticated(req, src)) {
		if (push) {
			ingest_count_push(src->name, "unauthorized");
			http_add_header(req, "WWW-Authenticate", "Basic realm=\"ringlog\", charset=\"UTF-8\"");
		}
		*rc = http_reply_error(req, 401, "unauthorized",
				       "this source needs its secret (HTTP Basic, X-Api-Key, or key=)");
		return NULL;
	}
	return src;
}

json_object *ingest_lookup_params(struct http_request *req, enum MHD_Result *rc)
{
	struct push p = {
		.source = "",
		.method = req->method,
		.content_type = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE),
		.query = req->query,
		.body = req->body.data,
		.body_len = req->body.len,
	};
	struct push_result r = { 0 };
	json_object *params = push_decode(&p, &r);

	if (!params)
		*rc = http_reply_error(req, r.status, r.error, "%s", r.message);
	return params;
}

const char *ingest_param(json_object *params, const char *const *names)
{
	for (; *names; names++) {
		json_object *v;
		const char *s;

		if (!json_object_object_get_ex(params, *names, &v))
			continue;
		/* A repeated form key is an array: its first value counts. */
		if (json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, 0);
		if (!v || json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array) ||
		    json_object_is_type(v, json_type_null))
			continue;
		s = json_object_get_string(v);
		while (*s == ' ')
			s++;
		if (*s)
			return s;
	}
	return NULL;
}

static bool origin_allowed(const char *list, const char *origin)
{
	size_t n = strlen(origin);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ,");

		if ((len == 1 && *p == '*') || (len == n && strncmp(p, origin, n) == 0))
			return true;
		p += len;
		p += strspn(p, " ,");
	}
	return false;
}

void ingest_add_cors(struct ingest *in, struct http_request *req)
{
	const char *origin = http_header(req, "Origin");

	http_add_header(req, "Vary", "Origin");
	if (!origin || !in->cfg->cors_origins || !origin_allowed(in->cfg->cors_origins, origin))
		return;
	http_add_header(req, "Access-Control-Allow-Origin", origin);
	if (strcmp(req->method, "OPTIONS") == 0) {
		http_add_header(req, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
		http_add_header(req, "Access-Control-Allow-Headers",
				"Content-Type, X-Api-Key, Authorization, X-Request-Id");
		http_add_header(req, "Access-Control-Max-Age", "600");
	}
}

enum MHD_Result ingest_lookup_failed(struct http_request *req, const char *endpoint,
				     const struct source *src, const char *why)
{
	ingest_count_lookup(endpoint, "failed");
	log_msg(LOG_ERR, "%s look-up failed: request id=%s source=%s: %s", endpoint, req->id,
		src->name, why);
	http_add_header(req, "Retry-After", "5");
	return http_reply_error(req, 503, "unavailable", "the %s look-up failed: %s", endpoint, why);
}
