/* Test helpers shared by the profile tests (header-only: each test program
 * is one file). Fixtures are files under tests/fixtures/. */
#ifndef RINGLOG_TEST_FIXTURE_H
#define RINGLOG_TEST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/buf.h"
#include "ringlog/form.h"
#include "ringlog/profile.h"

/* The bytes of tests/fixtures/NAME (NUL-terminated; caller frees). */
static inline char *fixture_text(const char *name, size_t *len)
{
	char path[256];
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "tests/fixtures/%s", name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, len);
}

/* A fixture as the decoder would hand it over: JSON, or a form (.form). */
static inline json_object *fixture_payload(const char *name)
{
	size_t len;
	char *text = fixture_text(name, &len);
	json_object *o;

	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	o = strstr(name, ".form") ? form_parse(text, len, NULL) : json_tokener_parse(text);
	free(text);
	if (!o) {
		fprintf(stderr, "cannot parse %s\n", name);
		abort();
	}
	return o;
}

/* Prepares and maps PAYLOAD (taken) with the profile PROF into C, and
 * finishes it; returns the prepared payload (caller puts it) or NULL with
 * PROB filled. */
static inline json_object *map_payload(const struct profile *prof, json_object *payload,
				       struct cdr *c, struct cdr_problem *prob)
{
	cdr_init(c);
	if (profile_prepare(prof, &payload, prob) < 0 || profile_map(prof, payload, c, prob) < 0 ||
	    cdr_finish(c, prob) < 0) {
		json_object_put(payload);
		return NULL;
	}
	return payload;
}

/* The time as PostgreSQL gets it ("… +00" when absolute). */
static inline const char *time_text(const struct rltime *t)
{
	static char out[RLTIME_TEXT_LEN];

	if (!t->set)
		return "(unset)";
	rltime_format(t, out);
	return out;
}

#endif
