/* A pull's templates filled in: the URL (values escaped), the JSON body,
 * the window's times, and where a next-page URL may lead. */
#include "ringlog/pull.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

static const char *var_value(const struct pull_vars *v, const char *name, size_t n)
{
	static const struct {
		const char *name;
		size_t off;
	} vars[] = {
	    {"pull_url", offsetof(struct pull_vars, pull_url)},
	    {"from", offsetof(struct pull_vars, from)},
	    {"to", offsetof(struct pull_vars, to)},
	    {"page", offsetof(struct pull_vars, page)},
	    {"cursor", offsetof(struct pull_vars, cursor)},
	    {"page_size", offsetof(struct pull_vars, page_size)},
	    {"secret", offsetof(struct pull_vars, secret)},
	};

	for (size_t i = 0; i < RL_ARRAY_LEN(vars); i++) {
		if (strlen(vars[i].name) == n && strncmp(vars[i].name, name, n) == 0) {
			const char *s = *(const char *const *)((const char *)v + vars[i].off);

			return s ? s : "";
		}
	}
	return NULL;
}

/* RFC 3986 unreserved characters stay, every other byte is %XX. */
static void add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			buf_addch(b, (char)*p);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 15]);
		}
	}
}

/* T with its placeholders filled into B; URL: escaped, as pull_url_expand. */
static void expand(struct buf *b, const char *t, const struct pull_vars *v, bool url)
{
	const char *p = t;

	while (*p) {
		size_t n = p[0] == '{' ? strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_") : 0;
		const char *val = n && p[1 + n] == '}' ? var_value(v, p + 1, n) : NULL;

		if (!val) {
			buf_addch(b, *p++);
			continue;
		}
		p += n + 2;
		if (!url) {
			buf_adds(b, val);
		} else if (n == 8 && strncmp(p - 9, "pull_url", 8) == 0) {
			buf_adds(b, val);
			if (*p == '?' && strchr(val, '?')) {
				buf_addch(b, '&');
				p++;
			}
		} else {
			add_escaped(b, val);
		}
	}
}

char *pull_url_expand(const char *template, const struct pull_vars *v)
{
	struct buf b = BUF_INIT;

	expand(&b, template, v, true);
	return buf_detach(&b, NULL);
}

char *pull_text_expand(const char *template, const struct pull_vars *v)
{
	struct buf b = BUF_INIT;

	expand(&b, template, v, false);
	return buf_detach(&b, NULL);
}

/* A string that is nothing but one numeric placeholder becomes a number. */
static json_object *as_number(const char *s, const struct pull_vars *v, enum pull_time time)
{
	const char *val = NULL;

	if (strcmp(s, "{page}") == 0)
		val = v->page;
	else if (strcmp(s, "{page_size}") == 0)
		val = v->page_size;
	else if ((time == PULL_TIME_EPOCH || time == PULL_TIME_EPOCH_MS) &&
		 strcmp(s, "{from}") == 0)
		val = v->from;
	else if ((time == PULL_TIME_EPOCH || time == PULL_TIME_EPOCH_MS) && strcmp(s, "{to}") == 0)
		val = v->to;
	return val && *val ? json_object_new_int64(strtoll(val, NULL, 10)) : NULL;
}

static json_object *fill(json_object *o, const struct pull_vars *v, enum pull_time time)
{
	json_object *out, *num;
	struct buf b = BUF_INIT;

	switch (json_object_get_type(o)) {
	case json_type_string:
		if ((num = as_number(json_object_get_string(o), v, time)))
			return num;
		expand(&b, json_object_get_string(o), v, false);
		out = json_object_new_string(buf_str(&b));
		buf_release(&b);
		return out;
	case json_type_object:
		out = json_object_new_object();
		json_object_object_foreach(o, k, val)
		    json_object_object_add(out, k, fill(val, v, time));
		return out;
	case json_type_array:
		out = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_object_array_add(out, fill(json_object_array_get_idx(o, i), v, time));
		return out;
	default: return json_object_get(o);
	}
}

char *pull_body_expand(const char *template, const struct pull_vars *v, enum pull_time time)
{
	json_object *t = json_tokener_parse(template), *filled;
	char *out;

	if (!t)
		return NULL;
	filled = fill(t, v, time);
	out = xstrdup(json_object_to_json_string_ext(filled, JSON_C_TO_STRING_PLAIN));
	json_object_put(filled);
	json_object_put(t);
	return out;
}

void pull_time_text(const struct pull *p, int64_t t, int64_t local, char *out, size_t len)
{
	time_t tt = (time_t)(p->time == PULL_TIME_PATTERN ? local : t);
	long off = (long)(local - t);
	struct buf b = BUF_INIT;
	struct tm tm;

	if (p->time == PULL_TIME_EPOCH || p->time == PULL_TIME_EPOCH_MS) {
		snprintf(out, len, "%" PRId64, p->time == PULL_TIME_EPOCH ? t : t * 1000);
		return;
	}
	gmtime_r(&tt, &tm);
	if (p->time == PULL_TIME_ISO) {
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	for (const char *s = p->time_pattern; *s; s++) {
		if (*s != '%' || !s[1]) {
			buf_addch(&b, *s);
			continue;
		}
		switch (*++s) {
		case 'Y': buf_addf(&b, "%04d", tm.tm_year + 1900); break;
		case 'm': buf_addf(&b, "%02d", tm.tm_mon + 1); break;
		case 'd': buf_addf(&b, "%02d", tm.tm_mday); break;
		case 'H': buf_addf(&b, "%02d", tm.tm_hour); break;
		case 'M': buf_addf(&b, "%02d", tm.tm_min); break;
		case 'S': buf_addf(&b, "%02d", tm.tm_sec); break;
		case 'z':
			buf_addf(&b, "%c%02ld%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
				 labs(off) % 3600 / 60);
			break;
		default: buf_addch(&b, *s); break;
		}
	}
	snprintf(out, len, "%s", buf_str(&b));
	buf_release(&b);
}

static bool part_equal(CURLU *a, CURLU *b, CURLUPart part, bool nocase)
{
	char *x = NULL, *y = NULL;
	bool same;

	curl_url_get(a, part, &x, part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0);
	curl_url_get(b, part, &y, part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0);
	same = x && y && (nocase ? strcasecmp(x, y) == 0 : strcmp(x, y) == 0);
	curl_free(x);
	curl_free(y);
	return same;
}

bool pull_same_origin(const char *base, const char *next, char **resolved)
{
	CURLU *b = curl_url(), *n = curl_url();
	char *url = NULL;
	bool same = false;

	*resolved = NULL;
	if (curl_url_set(b, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(n, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(n, CURLUPART_URL, next, 0) != CURLUE_OK ||
	    curl_url_get(n, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto out;
	same = part_equal(b, n, CURLUPART_SCHEME, true) && part_equal(b, n, CURLUPART_HOST, true) &&
	       part_equal(b, n, CURLUPART_PORT, false);
	if (same)
		*resolved = xstrdup(url);
out:
	curl_free(url);
	curl_url_cleanup(b);
	curl_url_cleanup(n);
	return same;
}
