/* Which URL a recording is fetched from, and who may be sent credentials:
 * the rules of upstream.h, on libcurl's own URL parser (the one that will
 * make the request, so the check and the request cannot disagree). */
#include "ringlog/upstream.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

static const char *const codes[] = {
	[UPSTREAM_OK] = "ok",
	[UPSTREAM_AUTH_FAILED] = "upstream_auth_failed",
	[UPSTREAM_REJECTED_REF] = "upstream_rejected_ref",
	[UPSTREAM_TIMEOUT] = "upstream_timeout",
	[UPSTREAM_ERROR] = "upstream_error",
	[UPSTREAM_NOT_ALLOWED] = "upstream_not_allowed",
	[UPSTREAM_NOT_CONFIGURED] = "upstream_not_configured",
	[UPSTREAM_TOO_LARGE] = "upstream_too_large",
	[UPSTREAM_CANCELLED] = "upstream_cancelled",
};

const char *upstream_error_code(enum upstream_error err)
{
	return (size_t)err < RL_ARRAY_LEN(codes) ? codes[err] : "upstream_error";
}

enum upstream_error upstream_error_from_code(const char *code)
{
	for (size_t i = 1; code && i < RL_ARRAY_LEN(codes); i++)
		if (strcmp(codes[i], code) == 0)
			return (enum upstream_error)i;
	return UPSTREAM_ERROR;
}

unsigned upstream_error_status(enum upstream_error err)
{
	return err == UPSTREAM_TIMEOUT ? 504 : 502;
}

bool upstream_error_is_final(enum upstream_error err)
{
	return err == UPSTREAM_NOT_ALLOWED || err == UPSTREAM_NOT_CONFIGURED ||
	       err == UPSTREAM_TOO_LARGE;
}

static const char *const texts[] = {
	[UPSTREAM_OK] = "ok",
	[UPSTREAM_AUTH_FAILED] = "the PBX refused the source's credentials",
	[UPSTREAM_REJECTED_REF] = "the PBX does not have this recording (yet)",
	[UPSTREAM_TIMEOUT] = "the PBX did not answer in time",
	[UPSTREAM_ERROR] = "the PBX could not deliver the recording",
	[UPSTREAM_NOT_ALLOWED] = "the recording's address is not one the source may be fetched from",
	[UPSTREAM_NOT_CONFIGURED] = "the source is not set up to fetch recordings",
	[UPSTREAM_TOO_LARGE] = "the recording is larger than the size limit",
	[UPSTREAM_CANCELLED] = "the daemon is stopping",
};

const char *upstream_error_text(enum upstream_error err)
{
	return (size_t)err < RL_ARRAY_LEN(texts) ? texts[err] : texts[UPSTREAM_ERROR];
}

/* ---- redaction ------------------------------------------------------------ */

/* Replaces every occurrence of SECRET in B with "***". */
static void redact_one(struct buf *b, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	struct buf out = BUF_INIT;
	const char *p, *hit;

	if (n == 0 || !b->len)
		return;
	for (p = b->data; (hit = strstr(p, secret)); p = hit + n) {
		buf_add(&out, p, (size_t)(hit - p));
		buf_adds(&out, "***");
	}
	if (p == b->data) {
		buf_release(&out);
		return;
	}
	buf_adds(&out, p);
	buf_release(b);
	*b = out;
}

static bool url_stop(char c)
{
	return c == '\0' || isspace((unsigned char)c) || strchr("\"'<>()[]{}", c);
}

/* Userinfo ("scheme://user:pass@host") and query values ("?a=1&b=2" ->
 * "?a=***&b=***") of whatever looks like a URL in TEXT. */
static void redact_urls(struct buf *b)
{
	struct buf out = BUF_INIT;
	const char *p = buf_str(b);

	while (*p) {
		if (strncmp(p, "://", 3) == 0) {
			size_t auth = 3, at = 0;

			while (!url_stop(p[auth]) && !strchr("/?#", p[auth])) {
				if (p[auth] == '@')
					at = auth;
				auth++;
			}
			buf_adds(&out, "://");
			p += at ? at + 1 : 3;
			continue;
		}
		if ((*p == '?' || *p == '&') && p > b->data && !url_stop(p[-1])) {
			buf_addch(&out, *p++);
			while (!url_stop(*p) && *p != '=' && *p != '&' && *p != '#')
				buf_addch(&out, *p++);
			if (*p == '=') {
				buf_adds(&out, "=***");
				for (p++; !url_stop(*p) && *p != '&' && *p != '#';)
					p++;
			}
			continue;
		}
		buf_addch(&out, *p++);
	}
	buf_release(b);
	*b = out;
}

void upstream_redact(char *text, size_t size, const char *const *secrets)
{
	struct buf b = BUF_INIT;

	if (!size)
		return;
	buf_adds(&b, text);
	for (const char *const *s = secrets; s && *s; s++) {
		char *esc = curl_easy_escape(NULL, *s, 0);

		redact_one(&b, *s);
		if (esc) {
			redact_one(&b, esc);
			for (char *q = esc; (q = strstr(q, "%20"));) { /* a form's spelling of a space */
				*q = '+';
				memmove(q + 1, q + 3, strlen(q + 3) + 1);
			}
			redact_one(&b, esc);
		}
		curl_free(esc);
	}
	redact_urls(&b);
	snprintf(text, size, "%s", buf_str(&b));
	buf_release(&b);
}

/* ---- origins ------------------------------------------------------------- */

struct origin {
	char *scheme, *host, *port; /* lowercase; port as curl fills it in */
};

static void origin_release(struct origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
	memset(o, 0, sizeof(*o));
}

static void lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Parses URL's origin; only http and https are origins here. */
static int origin_parse(const char *url, struct origin *o)
{
	CURLU *u = curl_url();
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (!u || !url)
		goto out;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &o->host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	lower(o->scheme);
	lower(o->host);
	if (strcmp(o->scheme, "http") != 0 && strcmp(o->scheme, "https") != 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		origin_release(o);
	curl_url_cleanup(u);
	return rc;
}

static bool same_origin(const struct origin *a, const struct origin *b)
{
	return a->host && b->host && strcmp(a->scheme, b->scheme) == 0 &&
	       strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0;
}

/* HOST (lowercase) against one allow-list entry: "host" or "*.domain". */
static bool host_matches(const char *host, const char *entry)
{
	size_t h = strlen(host), n = strlen(entry);

	if (n > 2 && entry[0] == '*' && entry[1] == '.')
		return h > n - 1 && strcasecmp(host + h - (n - 1), entry + 1) == 0;
	return strcasecmp(host, entry) == 0;
}

static bool host_listed(const struct source *src, const char *host)
{
	for (char **e = src->fetch_allow_hosts; e && *e; e++)
		if (host_matches(host, *e))
			return true;
	return false;
}

static bool has_template(const struct source *src)
{
	return src->fetch_url_template && *src->fetch_url_template;
}

bool upstream_url_allowed(const struct source *src, const char *url)
{
	struct origin o, t;
	bool ok = false;

	if (origin_parse(url, &o) < 0)
		return false;
	ok = host_listed(src, o.host);
	if (!ok && has_template(src) && origin_parse(src->fetch_url_template, &t) == 0) {
		ok = strcmp(o.host, t.host) == 0;
		origin_release(&t);
	}
	origin_release(&o);
	return ok;
}

bool upstream_url_gets_credentials(const struct source *src, const char *url)
{
	struct origin o, t;
	bool ok = false;

	if (!src->fetch_auth || strcmp(src->fetch_auth, "none") == 0 ||
	    origin_parse(url, &o) < 0)
		return false;
	if (strcmp(o.scheme, "https") != 0 && !src->fetch_plain_http) {
		origin_release(&o);
		return false;
	}
	if (!has_template(src)) {
		ok = host_listed(src, o.host);
	} else if (origin_parse(src->fetch_url_template, &t) == 0) {
		ok = same_origin(&o, &t);
		origin_release(&t);
	}
	origin_release(&o);
	return ok;
}

bool upstream_url_same_origin(const char *a, const char *b)
{
	struct origin x, y;
	bool same = false;

	if (origin_parse(a, &x) < 0)
		return false;
	if (origin_parse(b, &y) == 0) {
		same = same_origin(&x, &y);
		origin_release(&y);
	}
	origin_release(&x);
	return same;
}

void upstream_url_display(const char *url, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL, *p = NULL, *path = NULL;

	snprintf(out, size, "(unparsable URL)");
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &p, 0) == CURLUE_OK)
			snprintf(out, size, "%s://%s:%s%.200s", s, h, p, path);
		else
			snprintf(out, size, "%s://%s%.200s", s, h, path);
	}
	curl_free(s);
	curl_free(h);
	curl_free(p);
	curl_free(path);
	curl_url_cleanup(u);
}

/* ---- the first URL ------------------------------------------------------- */

static void add_escaped(struct buf *out, const char *text)
{
	char *esc = curl_easy_escape(NULL, text ? text : "", 0);

	buf_adds(out, esc ? esc : "");
	curl_free(esc);
}

/* A reference URL-escaped; "/" is escaped, so it is one path segment, and
 * one made only of dots ("..", ".") is escaped too: no dot segment may
 * move the request up the PBX's paths. */
static void add_reference(struct buf *out, const char *ref)
{
	if (ref && *ref && strspn(ref, ".") == strlen(ref)) {
		for (const char *p = ref; *p; p++)
			buf_adds(out, "%2E");
		return;
	}
	add_escaped(out, ref);
}

static bool query_auth(const struct source *src)
{
	return src->fetch_auth && strcmp(src->fetch_auth, "query") == 0;
}

/* The template with {ref} (and, for query auth, {user} and {secret}). */
static char *expand(const struct source *src, const char *ref, bool *has_secret)
{
	struct buf out = BUF_INIT;
	const char *p = src->fetch_url_template;

	*has_secret = false;
	while (*p) {
		if (strncmp(p, "{ref}", 5) == 0) {
			add_reference(&out, ref);
			p += 5;
		} else if (query_auth(src) && strncmp(p, "{user}", 6) == 0) {
			add_escaped(&out, src->fetch_user);
			p += 6;
		} else if (query_auth(src) && strncmp(p, "{secret}", 8) == 0) {
			add_escaped(&out, src->fetch_secret);
			*has_secret = true;
			p += 8;
		} else {
			buf_addch(&out, *p++);
		}
	}
	return buf_detach(&out, NULL);
}

/* Query auth without a {secret} in the template: the key (named by
 * fetch_header, default "key") and the user are appended. */
static void append_query_credentials(const struct source *src, char **url)
{
	struct buf out = BUF_INIT;
	const char *name = src->fetch_header && *src->fetch_header ? src->fetch_header : "key";
	char *hash = strchr(*url, '#');

	buf_add(&out, *url, hash ? (size_t)(hash - *url) : strlen(*url));
	if (src->fetch_user && *src->fetch_user) {
		buf_adds(&out, strchr(out.data, '?') ? "&user=" : "?user=");
		add_escaped(&out, src->fetch_user);
	}
	buf_addf(&out, "%s", strchr(out.data, '?') ? "&" : "?");
	add_escaped(&out, name);
	buf_addch(&out, '=');
	add_escaped(&out, src->fetch_secret);
	free(*url);
	*url = buf_detach(&out, NULL);
}

char *upstream_url(const struct source *src, const char *ref, const char *url,
		   enum upstream_error *err, struct errbuf *e)
{
	bool has_secret = false;
	char *out;

	if (ref && *ref && has_template(src)) {
		out = expand(src, ref, &has_secret);
		/* The template's own host, or a listed one, like a pushed URL. */
		if (!upstream_url_allowed(src, out)) {
			free(out);
			*err = UPSTREAM_NOT_ALLOWED;
			err_set(e, "the fetch URL template of source %s does not make a URL of its own host",
				src->name);
			return NULL;
		}
	} else if (url && *url) {
		if (!upstream_url_allowed(src, url)) {
			char shown[300];

			upstream_url_display(url, shown, sizeof(shown));
			*err = UPSTREAM_NOT_ALLOWED;
			err_set(e, "the pushed URL %s is not on the allow list of source %s", shown,
				src->name);
			return NULL;
		}
		out = xstrdup(url);
	} else {
		*err = UPSTREAM_NOT_CONFIGURED;
		err_set(e, "source %s has no fetch URL template for reference \"%.100s\"", src->name,
			ref ? ref : "");
		return NULL;
	}
	if (query_auth(src) && !has_secret && src->fetch_secret &&
	    upstream_url_gets_credentials(src, out))
		append_query_credentials(src, &out);
	return out;
}

/* ---- templates ------------------------------------------------------------ */

int upstream_template_check(const char *tmpl, struct errbuf *e)
{
	const char *sep = strstr(tmpl, "://"), *brace = strchr(tmpl, '{');
	size_t auth_end;
	struct origin o;
	struct buf plain = BUF_INIT;
	int rc;

	if (!sep)
		return err_set(e, "the fetch URL template must be an http:// or https:// URL");
	auth_end = (size_t)(sep - tmpl) + 3 + strcspn(sep + 3, "/?#");
	if (brace && (size_t)(brace - tmpl) < auth_end)
		return err_set(e, "placeholders may not be in the scheme, host or port of a fetch URL "
			       "template (only in its path and query)");
	/* With every placeholder filled, it must be a URL of its own. */
	for (const char *p = tmpl; *p; p++) {
		if (*p == '{' && strchr(p, '}')) {
			buf_addch(&plain, 'x');
			p = strchr(p, '}');
		} else {
			buf_addch(&plain, *p);
		}
	}
	rc = origin_parse(buf_str(&plain), &o);
	buf_release(&plain);
	if (rc < 0)
		return err_set(e, "the fetch URL template is not an http:// or https:// URL");
	if (strcmp(o.host, "") == 0) {
		origin_release(&o);
		return err_set(e, "the fetch URL template has no host");
	}
	origin_release(&o);
	return 0;
}
