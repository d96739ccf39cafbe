#include "ringlog/source.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

struct source_set {
	atomic_int refs;
	size_t count;
	struct source *items;
};

static const char *const auth_names[] = {
	[SOURCE_AUTH_ANY] = "any",	 [SOURCE_AUTH_BASIC] = "basic",
	[SOURCE_AUTH_HEADER] = "header", [SOURCE_AUTH_QUERY] = "query",
	[SOURCE_AUTH_NONE] = "none",
};

enum source_auth source_auth_parse(const char *text)
{
	for (size_t i = 0; i < RL_ARRAY_LEN(auth_names); i++)
		if (strcmp(auth_names[i], text) == 0)
			return (enum source_auth)i;
	return SOURCE_AUTH_ANY;
}

const char *source_auth_name(enum source_auth a)
{
	return auth_names[a];
}

#define SOURCE_COLUMNS                                                                        \
	"id, name, vendor, auth_mode, auth_user, encode(secret_sha256, 'hex'), time_zone, "   \
	"country_code, trunk_prefix, international_prefix, mapping::text, "                   \
	"fetch_url_template, fetch_auth, fetch_user, fetch_secret, fetch_header, "            \
	"array_to_string(fetch_allow_hosts, ' '), create_leads, default_responsible, "        \
	"crm_url_template, click2call_style, click2call_url, click2call_user, "               \
	"click2call_secret, crm_new_url_template, coalesce(region, ''), fetch_plain_http, "     \
	"dead_letters_max"

static char *col(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : xstrdup(PQgetvalue(res, row, c));
}

static char **split_hosts(const char *text)
{
	size_t n = 0, cap = 4;
	char **out = xcalloc(cap, sizeof(*out));
	const char *p = text ? text : "";

	while (*p) {
		size_t len = strcspn(p, " ");

		if (len) {
			if (n + 1 >= cap)
				out = xrealloc(out, (cap *= 2) * sizeof(*out));
			out[n++] = xstrndup(p, len);
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	out[n] = NULL;
	return out;
}

static void source_release(struct source *s)
{
	free(s->name);
	free(s->vendor);
	free(s->auth_user);
	free(s->time_zone);
	free((char *)s->phone.country_code);
	free((char *)s->phone.trunk_prefix);
	free((char *)s->phone.international_prefix);
	free((char *)s->phone.region);
	json_object_put(s->mapping);
	free(s->fetch_url_template);
	free(s->fetch_auth);
	free(s->fetch_user);
	free(s->fetch_secret);
	free(s->fetch_header);
	for (char **h = s->fetch_allow_hosts; h && *h; h++)
		free(*h);
	free(s->fetch_allow_hosts);
	free(s->default_responsible);
	free(s->crm_url_template);
	free(s->click2call_style);
	free(s->click2call_url);
	free(s->click2call_user);
	free(s->click2call_secret);
	free(s->crm_new_url_template);
	profile_free(s->custom_profile);
	free(s->profile_error);
}

/* Finds or compiles the source's profile once, when it is loaded. */
static void source_profile(struct source *s)
{
	struct errbuf e;

	s->profile = profile_for_source(s->vendor, s->mapping, &s->custom_profile, &e);
	if (!s->profile)
		s->profile_error = xstrdup(e.msg);
}

static void source_from_row(PGresult *res, int row, struct source *s)
{
	char *mapping = col(res, row, 10);

	memset(s, 0, sizeof(*s));
	s->id = atoll(PQgetvalue(res, row, 0));
	s->name = col(res, row, 1);
	s->vendor = col(res, row, 2);
	s->auth = source_auth_parse(PQgetvalue(res, row, 3));
	s->auth_user = col(res, row, 4);
	s->has_secret = !PQgetisnull(res, row, 5) &&
			auth_unhex(PQgetvalue(res, row, 5), s->secret_sha256, AUTH_SHA256_LEN) == 0;
	s->time_zone = col(res, row, 6);
	s->phone.country_code = col(res, row, 7);
	s->phone.trunk_prefix = col(res, row, 8);
	s->phone.international_prefix = col(res, row, 9);
	s->mapping = mapping ? json_tokener_parse(mapping) : NULL;
	s->fetch_url_template = col(res, row, 11);
	s->fetch_auth = col(res, row, 12);
	s->fetch_user = col(res, row, 13);
	s->fetch_secret = col(res, row, 14);
	s->fetch_header = col(res, row, 15);
	s->fetch_allow_hosts = split_hosts(PQgetvalue(res, row, 16));
	s->create_leads = PQgetvalue(res, row, 17)[0] == 't';
	s->default_responsible = col(res, row, 18);
	s->crm_url_template = col(res, row, 19);
	s->click2call_style = col(res, row, 20);
	s->click2call_url = col(res, row, 21);
	s->click2call_user = col(res, row, 22);
	s->click2call_secret = col(res, row, 23);
	s->crm_new_url_template = col(res, row, 24);
	s->phone.region = col(res, row, 25);
	s->fetch_plain_http = PQgetvalue(res, row, 26)[0] == 't';
	s->dead_letters_max = PQgetisnull(res, row, 27) ? -1 : atoll(PQgetvalue(res, row, 27));
	free(mapping);
	source_profile(s);
}

static struct source_set *set_from_result(PGresult *res)
{
	struct source_set *set = xcalloc(1, sizeof(*set));

	atomic_init(&set->refs, 1);
	set->count = (size_t)PQntuples(res);
	set->items = xcalloc(set->count ? set->count : 1, sizeof(*set->items));
	for (size_t i = 0; i < set->count; i++)
		source_from_row(res, (int)i, &set->items[i]);
	return set;
}

struct source_set *source_set_load(struct db *db, struct errbuf *e)
{
	static const struct db_stmt q = {
		"source_load_all", "SELECT " SOURCE_COLUMNS " FROM sources ORDER BY name", 0
	};
	PGresult *res = db_exec(db, &q, NULL, e);
	struct source_set *set;

	if (!res)
		return NULL;
	set = set_from_result(res);
	PQclear(res);
	return set;
}

struct source_set *source_set_load_one(struct db *db, const char *name, struct errbuf *e)
{
	static const struct db_stmt q = {
		"source_load_one", "SELECT " SOURCE_COLUMNS " FROM sources WHERE name = $1", 1
	};
	const char *params[] = { name };
	PGresult *res = db_exec(db, &q, params, e);
	struct source_set *set;

	if (!res)
		return NULL;
	set = set_from_result(res);
	PQclear(res);
	return set;
}

const struct source *source_set_find(const struct source_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->count; i++)
		if (strcmp(set->items[i].name, name) == 0)
			return &set->items[i];
	return NULL;
}

const struct source *source_set_at(const struct source_set *set, size_t i)
{
	return &set->items[i];
}

size_t source_set_count(const struct source_set *set)
{
	return set ? set->count : 0;
}

struct source_set *source_set_ref(struct source_set *set)
{
	if (set)
		atomic_fetch_add(&set->refs, 1);
	return set;
}

void source_set_unref(struct source_set *set)
{
	if (!set || atomic_fetch_sub(&set->refs, 1) != 1)
		return;
	for (size_t i = 0; i < set->count; i++)
		source_release(&set->items[i]);
	free(set->items);
	free(set);
}

struct source_cache {
	pthread_mutex_t lock;
	struct source_set *current;
};

struct source_cache *source_cache_new(void)
{
	struct source_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void source_cache_free(struct source_cache *c)
{
	if (!c)
		return;
	source_set_unref(c->current);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

struct source_set *source_cache_get(struct source_cache *c)
{
	struct source_set *set;

	pthread_mutex_lock(&c->lock);
	set = source_set_ref(c->current);
	pthread_mutex_unlock(&c->lock);
	return set;
}

size_t source_cache_count(struct source_cache *c)
{
	struct source_set *set = source_cache_get(c);
	size_t n = source_set_count(set);

	source_set_unref(set);
	return n;
}

void source_cache_put(struct source_cache *c, struct source_set *set)
{
	struct source_set *old;

	pthread_mutex_lock(&c->lock);
	old = c->current;
	c->current = set;
	pthread_mutex_unlock(&c->lock);
	source_set_unref(old);
}
