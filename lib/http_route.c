/* Routing: which route of the table a request is for, by method and path
 * (exact paths first, then {name} templates and prefixes); 404 and 405 with
 * Allow when there is none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"
#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

static bool method_listed(const char *methods, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = methods; (p = strstr(p, m)); p += n)
		if ((p == methods || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

/* A route path is exact ("/healthz"), a prefix when it ends with '/'
 * ("/v1/cdr/" matches "/v1/cdr/acme"), or a template whose "{name}"
 * segments each match one non-empty path segment ("/v1/tasks/{id}/done"). */
static bool is_static(const struct http_route *r)
{
	size_t n = strlen(r->path);

	return !strchr(r->path, '{') && !(n && r->path[n - 1] == '/');
}

/* Walks template TPL along PATH. When NAME is set, *VALUE and *LEN receive
 * the segment that "{NAME}" matched. Returns whether the whole path matches. */
static bool template_walk(const char *tpl, const char *path, const char *name,
			  const char **value, size_t *len)
{
	size_t nlen = name ? strlen(name) : 0;

	while (*tpl && *path) {
		if (*tpl == '{') {
			const char *close = strchr(tpl, '}');
			size_t seg = strcspn(path, "/");

			if (!close || seg == 0)
				return false;
			if (name && (size_t)(close - tpl - 1) == nlen && strncmp(tpl + 1, name, nlen) == 0) {
				*value = path;
				*len = seg;
			}
			tpl = close + 1;
			path += seg;
		} else if (*tpl++ != *path++) {
			return false;
		}
	}
	return !*tpl && !*path;
}

static bool path_matches(const struct http_route *r, const char *path)
{
	size_t n = strlen(r->path);

	if (strchr(r->path, '{'))
		return template_walk(r->path, path, NULL, NULL, NULL);
	if (n && r->path[n - 1] == '/') /* the prefix and one more path segment, maybe empty */
		return strncmp(path, r->path, n) == 0 && !strchr(path + n, '/');
	return strcmp(path, r->path) == 0;
}

char *http_path_param(const struct http_request *req, const char *name)
{
	const char *value = NULL;
	size_t len = 0;

	if (!req->route || !template_walk(req->route->path, req->path, name, &value, &len) || !value)
		return NULL;
	return xstrndup(value, len);
}

void http_routes_print(const struct http_route *routes, FILE *out)
{
	for (const struct http_route *r = routes; r->fn; r++) {
		size_t n = strlen(r->path);
		bool prefix = !strchr(r->path, '{') && n && r->path[n - 1] == '/';

		for (const char *m = r->methods; *m;) {
			size_t len = strcspn(m, " ");

			if (len)
				fprintf(out, "%.*s %s%s\n", (int)len, m, r->path, prefix ? "{...}" : "");
			m += len;
			while (*m == ' ')
				m++;
		}
	}
}

enum MHD_Result http_route_request(struct http_request *req)
{
	const struct http_route *r;
	struct buf allow = BUF_INIT;
	enum MHD_Result rc;

	/* Exact paths first, so "/v1/calls/live" wins over "/v1/calls/{id}". */
	for (int pass = 0; pass < 2; pass++) {
		for (r = req->server->opt.routes; r->fn; r++) {
			if (is_static(r) != (pass == 0) || !path_matches(r, req->path))
				continue;
			if (method_listed(r->methods, req->method)) {
				req->route = r;
				buf_release(&allow);
				return MHD_YES;
			}
			buf_addf(&allow, "%s%s", allow.len ? " " : "", r->methods);
		}
	}
	if (!allow.len)
		return http_reply_error(req, 404, "not_found", "no such endpoint: %.200s", req->path);
	for (size_t i = 0; i < allow.len; i++)
		if (allow.data[i] == ' ')
			allow.data[i] = ',';
	http_add_header(req, "Allow", allow.data);
	rc = http_reply_error(req, 405, "method_not_allowed", "%s is not allowed here; use %s",
			      req->method, allow.data);
	buf_release(&allow);
	return rc;
}

