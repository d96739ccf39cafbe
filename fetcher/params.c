/* Query parameters of the query API, checked strictly: a bad value is a 400
 * that names the parameter, and an unknown parameter is refused so that a
 * misspelt filter never widens a query. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetcher.h"
#include "ringlog/xalloc.h"

int fetcher_bad(struct fetcher_bad *b, const char *code, const char *param, const char *fmt, ...)
{
	va_list ap;

	b->code = code;
	b->param = param;
	va_start(ap, fmt);
	vsnprintf(b->e.msg, sizeof(b->e.msg), fmt, ap);
	va_end(ap);
	return -1;
}

enum MHD_Result fetcher_reply_bad(struct http_request *req, const struct fetcher_bad *b)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(b->code));
	json_object_object_add(o, "message", json_object_new_string(b->e.msg));
	if (b->param)
		json_object_object_add(o, "parameter", json_object_new_string(b->param));
	req->log_outcome = b->code;
	return http_reply_json(req, 400, o);
}

enum MHD_Result fetcher_reply_db_error(struct http_request *req, struct db *db, const char *what,
				       const struct errbuf *e)
{
	if (db_is_down(db)) {
		log_msg(LOG_WARNING, "%s: request id=%s: %s", what, req->id, e->msg);
		http_add_header(req, "Retry-After", "5");
		return http_reply_error(req, 503, "unavailable", "the database is unreachable");
	}
	log_msg(LOG_ERR, "%s failed: request id=%s: %s", what, req->id, e->msg);
	return http_reply_error(req, 500, "query_failed", "the database refused the query");
}

json_object *fetcher_json_parse(const char *text)
{
	return json_tokener_parse(text);
}

int fetcher_json_row(struct db *db, const struct db_stmt *stmt, const char *const *params,
		     json_object **out, struct errbuf *e)
{
	PGresult *res = db_exec(db, stmt, params, e);

	*out = NULL;
	if (!res)
		return -1;
	*out = PQntuples(res) ? fetcher_json_parse(PQgetvalue(res, 0, 0)) : NULL;
	PQclear(res);
	return 0;
}

struct known_ctx {
	const char *const *allowed;
	const char *unknown;
};

static enum MHD_Result check_known(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct known_ctx *k = cls;

	(void)kind;
	(void)value;
	for (const char *const *a = k->allowed; *a; a++)
		if (strcmp(*a, key) == 0)
			return MHD_YES;
	k->unknown = key;
	return MHD_NO;
}

int fetcher_params_known(struct http_request *req, const char *const *allowed, struct fetcher_bad *b)
{
	struct known_ctx k = { allowed, NULL };
	struct buf list = BUF_INIT;

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_known, &k);
	if (!k.unknown)
		return 0;
	for (const char *const *a = allowed; *a; a++)
		buf_addf(&list, "%s%s", list.len ? ", " : "", *a);
	fetcher_bad(b, "unknown_parameter", k.unknown, "unknown parameter \"%.64s\" (known: %s)",
		    k.unknown, buf_str(&list));
	buf_release(&list);
	return -1;
}

int fetcher_param_text(struct http_request *req, const char *name, size_t max, const char **out,
		       struct fetcher_bad *b)
{
	const char *v = http_query_param(req, name);

	*out = NULL;
	if (!v)
		return 0;
	if (!*v)
		return fetcher_bad(b, "invalid_parameter", name, "%s is empty", name);
	if (strlen(v) > max)
		return fetcher_bad(b, "invalid_parameter", name, "%s is longer than %zu bytes", name, max);
	*out = v;
	return 0;
}

int fetcher_param_int(struct http_request *req, const char *name, long long min, long long max,
		      long long def, long long *out, struct fetcher_bad *b)
{
	const char *v = http_query_param(req, name);
	char *end;
	long long n;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)v[v[0] == '-']) || *end || errno || n < min || n > max)
		return fetcher_bad(b, "invalid_parameter", name, "%s must be an integer from %lld to %lld",
				   name, min, max);
	*out = n;
	return 0;
}

int fetcher_param_bool(struct http_request *req, const char *name, int *out, struct fetcher_bad *b)
{
	static const char *const yes[] = { "true", "1", "yes", NULL }, *const no[] = { "false", "0", "no", NULL };
	const char *v = http_query_param(req, name);

	*out = -1;
	if (!v)
		return 0;
	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return fetcher_bad(b, "invalid_parameter", name, "%s must be true or false", name);
}

int fetcher_param_choice(struct http_request *req, const char *name, const char *const *choices,
			 const char **out, struct fetcher_bad *b)
{
	const char *v = http_query_param(req, name);
	struct buf list = BUF_INIT;

	*out = NULL;
	if (!v)
		return 0;
	for (const char *const *c = choices; *c; c++)
		if (strcmp(v, *c) == 0)
			return *out = *c, 0;
	for (const char *const *c = choices; *c; c++)
		buf_addf(&list, "%s%s", list.len ? ", " : "", *c);
	fetcher_bad(b, "invalid_parameter", name, "%s must be one of %s", name, buf_str(&list));
	buf_release(&list);
	return -1;
}

/* Reads exactly N digits at *P into *OUT. */
static bool digits(const char **p, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*out = *out * 10 + (**p - '0');
	}
	return true;
}

static bool valid_date(const char **p)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;

	if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &m) || *(*p)++ != '-' ||
	    !digits(p, 2, &d) || y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0)));
}

/* "HH:MM[:SS[.frac]]" then nothing, "Z", or "+HH[:MM]" / "-HHMM". */
static bool valid_clock(const char *p)
{
	int h, mi, s, oh, om;

	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || h > 23 || mi > 59)
		return false;
	if (*p == ':' && (p++, !digits(&p, 2, &s) || s > 60))
		return false;
	if (*p == '.' || *p == ',') {
		const char *f = ++p;

		while (isdigit((unsigned char)*p))
			p++;
		if (p == f || p - f > 9)
			return false;
	}
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0';
	if (*p == '+' || *p == '-') {
		p++;
		if (!digits(&p, 2, &oh) || oh > 15)
			return false;
		if (*p == ':')
			p++;
		if (*p && (!digits(&p, 2, &om) || om > 59))
			return false;
	}
	return *p == '\0';
}

int fetcher_param_time(struct http_request *req, const char *name, const char **out,
		       struct fetcher_bad *b)
{
	const char *v = http_query_param(req, name), *p = v;

	*out = NULL;
	if (!v)
		return 0;
	if (strlen(v) > 64 || !valid_date(&p) || (*p && !((*p == 'T' || *p == 't' || *p == ' ') &&
							 valid_clock(p + 1))))
		return fetcher_bad(b, "invalid_parameter", name,
				   "%s must be a date (2025-06-01) or an ISO 8601 time "
				   "(2025-06-01T08:30:00, with an offset such as Z or +02:00 or without: "
				   "then it is read in tz)", name);
	*out = v;
	return 0;
}

int fetcher_param_tz(struct fetcher *f, struct http_request *req, const char **out,
		     struct fetcher_bad *b)
{
	const char *v = http_query_param(req, "tz");

	*out = "UTC";
	if (!v)
		return 0;
	*out = fetcher_zones_find(f->zones, v);
	if (!*out)
		return fetcher_bad(b, "unknown_time_zone", "tz",
				   "unknown time zone \"%.64s\": use an IANA name such as Europe/Budapest",
				   v);
	return 0;
}

int fetcher_param_source(struct fetcher *f, struct http_request *req, struct source_set **set,
			 const struct source **src, struct fetcher_bad *b)
{
	const char *name = http_query_param(req, "source");
	struct errbuf e;

	*set = NULL;
	*src = NULL;
	if (!name)
		return 0;
	*set = source_cache_get(f->sources);
	*src = source_set_find(*set, name);
	if (!*src) { /* added in the last few seconds? */
		source_set_unref(*set);
		*set = source_set_load_one(fetcher_db(f), name, &e);
		*src = *set ? source_set_find(*set, name) : NULL;
	}
	if (!*src)
		return fetcher_bad(b, "unknown_source", "source", "no source is called \"%.64s\"", name);
	return 0;
}

int fetcher_phone(const char *raw, const struct source *src, const char *param,
		  char out[PHONE_E164_LEN], struct fetcher_bad *b)
{
	/* Without a source there is no country to place a national number in. */
	static const struct phone_plan international = { "", "", "00", "" };

	if (phone_normalize(raw, src ? &src->phone : &international, out) == 0)
		return 0;
	if (src)
		return fetcher_bad(b, "invalid_parameter", param,
				   "%s \"%.40s\" is not a public phone number in source %s's plan",
				   param, raw, src->name);
	return fetcher_bad(b, "invalid_parameter", param,
			   "%s \"%.40s\" is not an international phone number: write it as +CC... "
			   "or 00CC..., or add source= to read it in that source's plan",
			   param, raw);
}

bool fetcher_path_id(struct http_request *req, long long *id)
{
	char *text = http_path_param(req, "id"), *end;
	bool ok;

	errno = 0;
	*id = text ? strtoll(text, &end, 10) : 0;
	ok = text && isdigit((unsigned char)text[0]) && !*end && !errno && *id > 0;
	free(text);
	return ok;
}
