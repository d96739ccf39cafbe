/* Fetching a recording from its PBX with libcurl. The URL is the source's
 * template with the reference URL-escaped, or the URL the PBX pushed, which
 * is fetched only when its host is on the source's allow list (no request
 * forgery through a crafted push). Credentials (Basic, in the query, or a
 * header such as Ringostat's Auth-key) go only to the host they belong to:
 * the template's origin, or the allow-listed hosts of a source without a
 * template. Redirects are followed by hand under the same rule, without
 * credentials once the origin changes. The answer must be 200 and audio
 * (mime.h); every failure is sorted into the few kinds an operator can act
 * on. Secrets never appear in messages: URLs are shown without their query. */
#ifndef RINGLOG_UPSTREAM_H
#define RINGLOG_UPSTREAM_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"
#include "ringlog/source.h"

enum upstream_error {
	UPSTREAM_OK = 0,
	UPSTREAM_AUTH_FAILED,    /* 401/403, or an error page about credentials */
	UPSTREAM_REJECTED_REF,   /* 400/404/410/422, or another error page instead of audio */
	UPSTREAM_TIMEOUT,        /* connect or total timeout */
	UPSTREAM_ERROR,          /* 5xx, connection, cut short, anything else */
	UPSTREAM_NOT_ALLOWED,    /* the URL or a redirect leaves the allowed hosts */
	UPSTREAM_NOT_CONFIGURED, /* a reference, but the source has no URL template */
	UPSTREAM_TOO_LARGE,      /* over the size limit */
	UPSTREAM_CANCELLED,      /* the daemon is stopping */
};

/* The machine code the API answers and the row keeps ("upstream_timeout"). */
const char *upstream_error_code(enum upstream_error err);
/* The inverse, for codes read back from the database (unknown: UPSTREAM_ERROR). */
enum upstream_error upstream_error_from_code(const char *code);
/* What the API says about ERR: fixed words, never the PBX's or a URL. */
const char *upstream_error_text(enum upstream_error err);
/* Rewrites TEXT (SIZE bytes) as an excerpt fit for an operator: every
 * secret of SECRETS (NULL-terminated; also URL- and form-escaped), the
 * user info and the query values of anything that looks like a URL become
 * "***". */
void upstream_redact(char *text, size_t size, const char *const *secrets);
/* 504 for a timeout, 502 for the others. */
unsigned upstream_error_status(enum upstream_error err);
/* True when trying again cannot help until someone changes something. */
bool upstream_error_is_final(enum upstream_error err);

struct upstream_options {
	long connect_timeout_ms;
	long timeout_ms;  /* the whole transfer */
	uint64_t max_size; /* bytes; 0: no limit */
	int max_redirects;
};

/* What the caller does with an answer that is good so far. */
struct upstream_handler {
	void *ctx;
	/* The answer is 200 and audio of type MIME; LENGTH is its
	 * Content-Length or -1. Return 0, or -1 to abort (UPSTREAM_ERROR). */
	int (*start)(void *ctx, const char *mime, int64_t length);
	/* The next bytes of it. Return 0, or -1 to abort. */
	int (*data)(void *ctx, const void *data, size_t len);
	/* Polled during the transfer: true aborts it. May be NULL. */
	bool (*cancelled)(void *ctx);
};

struct upstream_result {
	enum upstream_error error;
	long status;       /* the last HTTP status, 0 when none came */
	bool started;      /* start() was called */
	uint64_t bytes;    /* bytes handed to data() */
	int requests;      /* HTTP requests made (redirects included) */
	char message[400]; /* what happened, for the row and the log (redacted:
			    * no secret, user info or query value); never
			    * for API users (upstream_error_text) */
};

/* The first URL to fetch for a recording of SRC with reference REF and/or
 * pushed URL URL (the pushed URL wins when both are set and it is allowed;
 * the reference is used through the template otherwise). Returns a new
 * string (caller frees; it may hold credentials: never log it), or NULL
 * with *ERR (UPSTREAM_NOT_ALLOWED, UPSTREAM_NOT_CONFIGURED) and E filled. */
char *upstream_url(const struct source *src, const char *ref, const char *url,
		   enum upstream_error *err, struct errbuf *e) RL_MUST_CHECK;
/* True when URL may be fetched for SRC: http(s), and its host is the
 * template's host or on the allow list ("host", or "*.domain" for its
 * subdomains; compared without case). */
bool upstream_url_allowed(const struct source *src, const char *url);
/* True when SRC's credentials may be sent to URL: its origin, and https
 * unless the source allows plain http (fetch_plain_http). */
bool upstream_url_gets_credentials(const struct source *src, const char *url);
/* True when A and B have the same scheme, host and port. */
bool upstream_url_same_origin(const char *a, const char *b);
/* Checks a fetch URL template before it is kept: http or https, and no
 * placeholder in the scheme, host or port. Returns 0, or -1 with E. */
int upstream_template_check(const char *tmpl, struct errbuf *e) RL_MUST_CHECK;
/* Writes URL without its query, fragment and user info to OUT (for logs). */
void upstream_url_display(const char *url, char *out, size_t size);

/* Fetches the recording (see upstream_url) with CURL, an easy handle the
 * caller owns and may reuse (it is reset here; connections are kept).
 * Fills R; the handler sees the body only once it is known to be audio. */
void upstream_get(CURL *curl, const struct source *src, const char *ref, const char *url,
		  const struct upstream_options *o, const struct upstream_handler *h,
		  struct upstream_result *r);

#endif
