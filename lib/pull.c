/* A mapping's "pull" object compiled and checked into a struct pull
 * (README "Custom mappings", docs/reconcile.md). */
#include "ringlog/pull.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

#define MAX_TEMPLATE 2048
#define MAX_OWN	     16

/* The placeholders, as bits of what a template holds. */
enum {
	V_PULL_URL = 1 << 0,
	V_FROM = 1 << 1,
	V_TO = 1 << 2,
	V_PAGE = 1 << 3,
	V_CURSOR = 1 << 4,
	V_PAGE_SIZE = 1 << 5,
	V_SECRET = 1 << 6,
};

static const char *const var_names[] = {"pull_url", "from",	 "to",	  "page",
					"cursor",   "page_size", "secret"};

struct compiled {
	struct pull p; /* first: pull_free() casts back */
	char *own[MAX_OWN];
	int nown;
};

static const char *keep(struct compiled *c, const char *s)
{
	c->own[c->nown] = xstrdup(s);
	return c->own[c->nown++];
}

void pull_free(struct pull *p)
{
	struct compiled *c = (struct compiled *)p;

	if (!c)
		return;
	for (int i = 0; i < c->nown; i++)
		free(c->own[i]);
	free(c);
}

/* The placeholders T holds, as bits; -1 with E when one is not ALLOWED. */
static int template_vars(const char *t, unsigned allowed, const char *where, struct errbuf *e)
{
	unsigned seen = 0;

	if (strlen(t) > MAX_TEMPLATE)
		return err_set(e, "%s: longer than %d bytes", where, MAX_TEMPLATE);
	for (const char *p = strchr(t, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		size_t i = 0;

		if (n == 0 || p[1 + n] != '}')
			continue; /* a brace that is no placeholder is text */
		while (i < RL_ARRAY_LEN(var_names) &&
		       (strlen(var_names[i]) != n || strncmp(var_names[i], p + 1, n) != 0))
			i++;
		if (i == RL_ARRAY_LEN(var_names) || !(allowed & (1u << i)))
			return err_set(e, "%s: {%.*s} is not a placeholder here", where, (int)n,
				       p + 1);
		seen |= 1u << i;
	}
	return (int)seen;
}

/* Every string in the JSON value V, as template_vars() says, OR-ed. */
static int body_vars(json_object *v, struct errbuf *e)
{
	int seen = 0, one;

	switch (json_object_get_type(v)) {
	case json_type_string:
		return template_vars(json_object_get_string(v),
				     V_FROM | V_TO | V_PAGE | V_CURSOR | V_PAGE_SIZE | V_SECRET,
				     "pull.body", e);
	case json_type_object: {
		json_object_object_foreach(v, k, val)
		{
			(void)k;
			if ((one = body_vars(val, e)) < 0)
				return -1;
			seen |= one;
		}
		return seen;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if ((one = body_vars(json_object_array_get_idx(v, i), e)) < 0)
				return -1;
			seen |= one;
		}
		return seen;
	default: return 0;
	}
}

static int check_keys(json_object *o, const char *const *keys, const char *where, struct errbuf *e)
{
	json_object_object_foreach(o, key, val)
	{
		const char *const *k = keys;

		(void)val;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k)
			return err_set(e, "%s: unknown key \"%.60s\"", where, key);
	}
	return 0;
}

static const char *str_at(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* KEY of O, when present, as a whole number in [LO, HI] into *OUT. */
static int number_at(json_object *o, const char *key, long lo, long hi, long *out, struct errbuf *e)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < lo || n > hi)
		return err_set(e, "pull.%s: a whole number from %ld to %ld", key, lo, hi);
	*out = (long)n;
	return 0;
}

/* A path setting KEY (REQUIRED: must be there; EMPTY_OK: "" is allowed). */
static int path_at(struct compiled *c, json_object *o, const char *key, bool required,
		   bool empty_ok, const char **out, struct errbuf *e)
{
	char where[40];
	json_object *v;
	const char *s;

	snprintf(where, sizeof(where), "pull.%s", key);
	if (!json_object_object_get_ex(o, key, &v))
		return required
			   ? err_set(e,
				     "%s: the path of the list of records in the answer is missing "
				     "(\"\" when the answer is the list)",
				     where)
			   : 0;
	s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "%s: a path like \"data.calls\"", where);
	if (!(empty_ok && !*s) && profile_check_path(s, where, e) < 0)
		return -1;
	*out = keep(c, s);
	return 0;
}

static int set_time(struct compiled *c, json_object *o, struct errbuf *e)
{
	const char *f = str_at(o, "time_format"), *z = str_at(o, "time_zone"),
		   *w = str_at(o, "window_end");
	json_object *v;

	if (json_object_object_get_ex(o, "time_format", &v) && !f)
		return err_set(
		    e, "pull.time_format: \"epoch\", \"epoch_ms\", \"iso\" or a pattern like "
		       "\"%%Y-%%m-%%d %%H:%%M:%%S\"");
	c->p.time = PULL_TIME_ISO;
	if (f && strcmp(f, "epoch") == 0) {
		c->p.time = PULL_TIME_EPOCH;
	} else if (f && strcmp(f, "epoch_ms") == 0) {
		c->p.time = PULL_TIME_EPOCH_MS;
	} else if (f && strcmp(f, "iso") != 0) {
		for (const char *p = strchr(f, '%'); p; p = strchr(p + 2, '%'))
			if (!p[1] || !strchr("YmdHMSz%", p[1]))
				return err_set(e,
					       "pull.time_format: %%%c is not one of %%Y %%m %%d "
					       "%%H %%M %%S %%z %%%%",
					       p[1] ? p[1] : ' ');
		if (!strchr(f, '%') || strlen(f) > 64)
			return err_set(
			    e, "pull.time_format: \"epoch\", \"epoch_ms\", \"iso\" or a pattern "
			       "(at most 64 bytes) like \"%%Y-%%m-%%d %%H:%%M:%%S\"");
		c->p.time = PULL_TIME_PATTERN;
		c->p.time_pattern = keep(c, f);
	}
	if ((json_object_object_get_ex(o, "time_zone", &v) &&
	     (!z || (strcmp(z, "source") && strcmp(z, "UTC")))))
		return err_set(e, "pull.time_zone: \"source\" (the source's --time-zone, the "
				  "default) or \"UTC\"");
	c->p.time_utc = z && strcmp(z, "UTC") == 0;
	if (json_object_object_get_ex(o, "window_end", &v) &&
	    (!w || (strcmp(w, "inclusive") && strcmp(w, "exclusive"))))
		return err_set(
		    e, "pull.window_end: \"inclusive\" ({to} is the window's last second, the "
		       "default) or \"exclusive\"");
	c->p.to_exclusive = w && strcmp(w, "exclusive") == 0;
	return 0;
}

/* 1 to 64 letters, digits and EXTRA: a header or query parameter name. */
static bool is_name(const char *s, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

static int set_auth(struct compiled *c, json_object *o, int *vars, struct errbuf *e)
{
	static const char *const keys[] = {"header", "value", "query", NULL};
	json_object *a;
	const char *h, *v, *q;
	int seen;

	if (!json_object_object_get_ex(o, "auth", &a))
		return 0;
	if (!json_object_is_type(a, json_type_object) || check_keys(a, keys, "pull.auth", e) < 0)
		return e->msg[0] ? -1
				 : err_set(e, "pull.auth: {\"header\": …, \"value\": \"… "
					      "{secret}\"} or {\"query\": …}");
	h = str_at(a, "header");
	v = str_at(a, "value");
	q = str_at(a, "query");
	if (q && !h && !v) {
		if (!is_name(q, "_.-"))
			return err_set(e, "pull.auth.query: a query parameter name");
		c->p.auth_query = keep(c, q);
		*vars |= V_SECRET;
		return 0;
	}
	if (!h || !v || q)
		return err_set(
		    e, "pull.auth: {\"header\": …, \"value\": \"… {secret}\"} or {\"query\": …}");
	if (!is_name(h, "-_"))
		return err_set(e, "pull.auth.header: a header name");
	if ((seen = template_vars(v, V_SECRET, "pull.auth.value", e)) < 0)
		return -1;
	if (!(seen & V_SECRET) || strpbrk(v, "\r\n"))
		return err_set(
		    e, "pull.auth.value: must hold {secret} (the --pull-secret-file), on one line");
	c->p.auth_header = keep(c, h);
	c->p.auth_value = keep(c, v);
	*vars |= V_SECRET;
	return 0;
}

static int set_next(struct compiled *c, json_object *o, struct errbuf *e)
{
	static const char *const keys[] = {"page", "cursor", "url", NULL};
	static const char *const page_keys[] = {"first", NULL};
	json_object *n, *page;
	const char *path;

	c->p.next = PULL_NEXT_SPLIT;
	if (!json_object_object_get_ex(o, "next", &n))
		return 0;
	if (!json_object_is_type(n, json_type_object) || json_object_object_length(n) != 1 ||
	    check_keys(n, keys, "pull.next", e) < 0)
		return e->msg[0]
			   ? -1
			   : err_set(e, "pull.next: one of {\"page\": {\"first\": 1}}, "
					"{\"cursor\": \"meta.next\"}, {\"url\": \"links.next\"}");
	if (json_object_object_get_ex(n, "page", &page)) {
		c->p.next = PULL_NEXT_PAGE;
		c->p.first_page = 1;
		if (!json_object_is_type(page, json_type_object) ||
		    check_keys(page, page_keys, "pull.next.page", e) < 0)
			return e->msg[0] ? -1 : err_set(e, "pull.next.page: {\"first\": 0 or 1}");
		return number_at(page, "first", 0, 1, &c->p.first_page, e) < 0
			   ? err_set(e, "pull.next.page.first: 0 or 1")
			   : 0;
	}
	c->p.next = json_object_object_get_ex(n, "cursor", NULL) ? PULL_NEXT_CURSOR : PULL_NEXT_URL;
	path = str_at(n, c->p.next == PULL_NEXT_CURSOR ? "cursor" : "url");
	if (!path || profile_check_path(path, "pull.next", e) < 0)
		return e->msg[0] ? -1
				 : err_set(e,
					   "pull.next: the path of the next %s in the answer, like "
					   "\"meta.next\"",
					   c->p.next == PULL_NEXT_CURSOR ? "cursor" : "page's URL");
	c->p.next_path = keep(c, path);
	return 0;
}

static int set_request(struct compiled *c, json_object *o, int *vars, struct errbuf *e)
{
	const char *url = str_at(o, "url"), *method = str_at(o, "method");
	json_object *body;
	int seen;

	if (!url)
		return err_set(
		    e,
		    "pull.url: a URL template like \"{pull_url}?from={from}&to={to}&page={page}\"");
	if ((seen = template_vars(url, V_PULL_URL | V_FROM | V_TO | V_PAGE | V_CURSOR | V_PAGE_SIZE,
				  "pull.url", e)) < 0)
		return -1;
	if (strncmp(url, "{pull_url}", 10) != 0 && strncmp(url, "https://", 8) != 0 &&
	    strncmp(url, "http://", 7) != 0)
		return err_set(e, "pull.url: must begin with {pull_url} (the source's --pull-url), "
				  "https:// or http://");
	*vars |= seen;
	c->p.url = keep(c, url);
	if (method && strcmp(method, "POST") == 0)
		c->p.post = true;
	else if (method ? strcmp(method, "GET") != 0 : json_object_object_get_ex(o, "method", NULL))
		return err_set(e, "pull.method: \"GET\" (the default) or \"POST\"");
	if (json_object_object_get_ex(o, "body", &body)) {
		if (!c->p.post || !(json_object_is_type(body, json_type_object) ||
				    json_object_is_type(body, json_type_array)))
			return err_set(
			    e, "pull.body: a JSON object or array, with \"method\": \"POST\"");
		if ((seen = body_vars(body, e)) < 0)
			return -1;
		*vars |= seen;
		c->p.body = keep(c, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
		if (strlen(c->p.body) > MAX_TEMPLATE)
			return err_set(e, "pull.body: longer than %d bytes", MAX_TEMPLATE);
	}
	return 0;
}

static int compile_into(struct compiled *c, json_object *o, struct errbuf *e)
{
	static const char *const keys[] = {"url",	  "method",    "body",	     "auth",
					   "time_format", "time_zone", "window_end", "records",
					   "record_path", "total",     "next",	     "page_size",
					   "max_pages",	  "pace_ms",   NULL};
	int vars = 0;

	if (!json_object_is_type(o, json_type_object))
		return err_set(e, "pull: an object describing the PBX's call-log API");
	if (check_keys(o, keys, "pull", e) < 0 || set_request(c, o, &vars, e) < 0 ||
	    set_auth(c, o, &vars, e) < 0 || set_time(c, o, e) < 0 || set_next(c, o, e) < 0 ||
	    path_at(c, o, "records", true, true, &c->p.records, e) < 0 ||
	    path_at(c, o, "record_path", false, false, &c->p.record_path, e) < 0 ||
	    path_at(c, o, "total", false, false, &c->p.total, e) < 0 ||
	    number_at(o, "page_size", 1, PULL_PAGE_SIZE_LIMIT, &c->p.page_size, e) < 0 ||
	    number_at(o, "max_pages", 1, PULL_MAX_PAGES_LIMIT, &c->p.max_pages, e) < 0 ||
	    number_at(o, "pace_ms", 0, 60000, &c->p.pace_ms, e) < 0)
		return -1;
	if ((vars & (V_FROM | V_TO)) != (V_FROM | V_TO))
		return err_set(
		    e, "pull.url: the request must hold {from} and {to} (in the URL or the body): "
		       "a pull asks for a window of time");
	if (c->p.next == PULL_NEXT_PAGE && !(vars & V_PAGE))
		return err_set(e, "pull.next: page numbers need {page} in the URL or the body");
	if (c->p.next == PULL_NEXT_CURSOR && !(vars & V_CURSOR))
		return err_set(e, "pull.next: a cursor needs {cursor} in the URL or the body");
	if (c->p.next != PULL_NEXT_CURSOR && (vars & V_CURSOR))
		return err_set(e, "pull.url: {cursor} needs \"next\": {\"cursor\": …}");
	if (c->p.next != PULL_NEXT_PAGE && (vars & V_PAGE))
		return err_set(e, "pull.url: {page} needs \"next\": {\"page\": …}");
	if ((vars & V_PAGE_SIZE) && !c->p.page_size)
		return err_set(e, "pull.page_size: {page_size} needs a page_size");
	if (!(vars & V_SECRET))
		return err_set(
		    e, "pull.auth: say how the pull secret is sent ({\"header\": …, \"value\": "
		       "\"… {secret}\"}, {\"query\": …}, or {secret} in the body)");
	return 0;
}

struct pull *pull_compile(json_object *spec, struct errbuf *e)
{
	struct compiled *c = xcalloc(1, sizeof(*c));

	e->msg[0] = '\0';
	c->p.pace_ms = 500;
	c->p.max_pages = PULL_MAX_PAGES_DEFAULT;
	if (compile_into(c, spec, e) < 0) {
		pull_free(&c->p);
		return NULL;
	}
	return &c->p;
}
