/* A PBX's call-log API as data (docs/reconcile.md): how a window of time is
 * asked for and paged through, where the records are in the answer, how the
 * pull secret is sent. The built-in vendors' APIs are such descriptions
 * (lib/reconcile_vendors.c); a custom mapping's "pull" object compiles into
 * one. lib/reconcile.c is their one interpreter. */
#ifndef RINGLOG_PULL_H
#define RINGLOG_PULL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

enum pull_time {
	PULL_TIME_EPOCH,    /* seconds */
	PULL_TIME_EPOCH_MS, /* milliseconds */
	PULL_TIME_ISO,	    /* UTC: 2025-06-16T10:00:00Z */
	PULL_TIME_PATTERN,  /* time_pattern in the source's zone (or UTC) */
};

/* How the rest of a window is found after its first answer. */
enum pull_next {
	PULL_NEXT_SPLIT,  /* none: a full answer is asked again as two halves */
	PULL_NEXT_PAGE,	  /* {page} counts up until a short or empty page */
	PULL_NEXT_CURSOR, /* the value at next_path goes in {cursor} */
	PULL_NEXT_URL,	  /* the URL at next_path, on the same scheme, host, port */
};

/* What a built-in vendor's check says of a 200 answer. */
enum pull_verdict { PULL_OK, PULL_RETRY, PULL_FAIL };

struct pull {
	const char *url;	 /* template: {pull_url} {from} {to} {page} {cursor} {page_size} */
	const char *default_url; /* {pull_url} when the source sets none; NULL: it must */
	bool post;		 /* POST (a JSON body when body is set), else GET */
	const char *body;	 /* JSON text whose strings are templates ({secret} too), or NULL */
	enum pull_time time;
	const char *time_pattern; /* PULL_TIME_PATTERN: %Y %m %d %H %M %S %z %% and text */
	bool time_utc;		  /* the pattern in UTC, not the source's zone */
	bool to_exclusive;	  /* {to} is the first second after the window */
	const char *auth_header;  /* the secret goes in this header ... */
	const char *auth_value;	  /* ... as this template ({secret}) */
	const char *auth_query;	  /* or in this query parameter */
	const char *records;	  /* path of the list ("" : the answer is the list) */
	const char *record_path;  /* path of the push body in a record; NULL: the record */
	const char *total;	  /* path of the window's number of records, or NULL */
	enum pull_next next;
	long first_page;
	const char *next_path; /* PULL_NEXT_CURSOR and PULL_NEXT_URL */
	long page_size;	       /* an answer this long may not hold all (0: no such bound) */
	long max_pages;	       /* pages one window may take */
	long pace_ms;	       /* least time between requests */
	bool any_case;	       /* records and total keys matched in any case */
	/* Built-in vendors only (NULL in a compiled one): a 200 answer that is
	 * an error (PULL_RETRY: the vendor's rate limit; *KIND one of
	 * reconcile_error_kinds, MSG for a person), and a record as the push
	 * it stands for (a new object). */
	enum pull_verdict (*check)(json_object *answer, const char **kind, char *msg, size_t len);
	json_object *(*to_push)(json_object *record);
};

#define PULL_MAX_PAGES_DEFAULT 1000
#define PULL_MAX_PAGES_LIMIT   100000
#define PULL_PAGE_SIZE_LIMIT   100000

/* Compiles a mapping's "pull" object. Returns a new description (free with
 * pull_free), or NULL with E naming the mistake ("pull.next: ..."). */
struct pull *pull_compile(json_object *spec, struct errbuf *e) RL_MUST_CHECK;
/* Frees a compiled description (NULL is a no-op; never a built-in one). */
void pull_free(struct pull *p);

/* The values a template is filled with; NULL members are "". */
struct pull_vars {
	const char *pull_url, *from, *to, *page, *cursor, *page_size, *secret;
};

/* TEMPLATE (a URL) filled from V, each value URL-escaped but {pull_url};
 * a '?' right after {pull_url} becomes '&' when that URL has a query.
 * Returns a new string; caller frees. */
char *pull_url_expand(const char *template, const struct pull_vars *v);
/* TEMPLATE filled from V as it is (a header's value). Returns a new
 * string; caller frees. */
char *pull_text_expand(const char *template, const struct pull_vars *v);
/* The body template (JSON text) with every string filled from V; a string
 * that is only {page}, or {from}/{to} of an epoch format, becomes a number.
 * Returns new JSON text (caller frees), or NULL when TEMPLATE is no JSON. */
char *pull_body_expand(const char *template, const struct pull_vars *v, enum pull_time time);
/* T (epoch seconds; LOCAL: the same instant as wall-clock seconds of the
 * zone the pattern is in) as P's time format into OUT. */
void pull_time_text(const struct pull *p, int64_t t, int64_t local, char *out, size_t len);
/* True when NEXT (absolute, or relative to BASE) is on BASE's scheme, host
 * and port; *RESOLVED is then the absolute URL (caller frees). */
bool pull_same_origin(const char *base, const char *next, char **resolved);

#endif
