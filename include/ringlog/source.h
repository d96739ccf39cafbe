/* Sources (PBX accounts) as the daemons see them: loaded from the sources
 * table into an immutable, reference-counted set that a cache swaps as a
 * whole, so a request holds one consistent view without locks. */
#ifndef RINGLOG_SOURCE_H
#define RINGLOG_SOURCE_H

#include <json-c/json.h>
#include <stdbool.h>

#include "ringlog/auth.h"
#include "ringlog/compiler.h"
#include "ringlog/db.h"
#include "ringlog/phone.h"

struct profile;

enum source_auth { SOURCE_AUTH_ANY, SOURCE_AUTH_BASIC, SOURCE_AUTH_HEADER, SOURCE_AUTH_QUERY, SOURCE_AUTH_NONE };

struct source {
	long long id;
	char *name;
	char *vendor;
	enum source_auth auth;
	char *auth_user; /* NULL: any user name with Basic */
	bool has_secret;
	unsigned char secret_sha256[AUTH_SHA256_LEN];
	char *time_zone;
	struct phone_plan phone; /* strings owned by the source */
	json_object *mapping;    /* custom mapping or NULL */
	/* The profile its pushes are mapped with (built in, or the mapping
	 * compiled over it), or NULL with PROFILE_ERROR saying why. */
	const struct profile *profile;
	struct profile *custom_profile; /* owned when compiled */
	char *profile_error;
	char *fetch_url_template;
	char *fetch_auth;
	char *fetch_user, *fetch_secret, *fetch_header;
	char **fetch_allow_hosts; /* NULL-terminated */
	bool fetch_plain_http;    /* credentials may go over http, not only https */
	long long dead_letters_max; /* bytes of dead letters kept; -1: the daemon's default */
	bool create_leads;
	char *default_responsible;
	char *crm_url_template;
	char *crm_new_url_template; /* screen pop of an unknown caller */
	char *click2call_style; /* "none", "voicenter", "url_template" */
	char *click2call_url, *click2call_user, *click2call_secret;
};

struct source_set;

/* Loads every source. Returns a new set (one reference), or NULL with E. */
struct source_set *source_set_load(struct db *db, struct errbuf *e) RL_MUST_CHECK;
/* Loads the one source NAME: a set of zero or one source, or NULL with E. */
struct source_set *source_set_load_one(struct db *db, const char *name, struct errbuf *e) RL_MUST_CHECK;
/* The source called NAME, borrowed from SET, or NULL. */
const struct source *source_set_find(const struct source_set *set, const char *name);
size_t source_set_count(const struct source_set *set);
/* The I-th source of SET (in name order), borrowed. */
const struct source *source_set_at(const struct source_set *set, size_t i);
/* Takes another reference / drops one (NULL is a no-op). */
struct source_set *source_set_ref(struct source_set *set);
void source_set_unref(struct source_set *set);

enum source_auth source_auth_parse(const char *text);
const char *source_auth_name(enum source_auth a);

/* The current set, swapped as a whole when sources change. */
struct source_cache;

struct source_cache *source_cache_new(void);
void source_cache_free(struct source_cache *c);
/* Returns a reference to the current set (NULL before the first load);
 * the caller drops it with source_set_unref(). */
struct source_set *source_cache_get(struct source_cache *c);
/* How many sources the current set holds. */
size_t source_cache_count(struct source_cache *c);
/* Makes SET current, taking over the caller's reference. */
void source_cache_put(struct source_cache *c, struct source_set *set);

#endif
