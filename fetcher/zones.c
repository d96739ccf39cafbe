/* The time zone names PostgreSQL knows, loaded once at start: checking a
 * `tz` parameter against pg_timezone_names costs ~40 ms a query, a look-up
 * here a binary search. */
#include <stdlib.h>
#include <strings.h>

#include "fetcher.h"
#include "ringlog/xalloc.h"

struct fetcher_zones {
	char **names; /* sorted case-insensitively */
	size_t n;
};

static const struct db_stmt zones_stmt = {
	"fetcher_zones", "SELECT name FROM pg_timezone_names", 0
};

static int by_name(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

struct fetcher_zones *fetcher_zones_load(struct db *db, struct errbuf *e)
{
	PGresult *res = db_exec(db, &zones_stmt, NULL, e);
	struct fetcher_zones *z;

	if (!res)
		return NULL;
	z = xcalloc(1, sizeof(*z));
	z->n = (size_t)PQntuples(res);
	z->names = xcalloc(z->n ? z->n : 1, sizeof(*z->names));
	for (size_t i = 0; i < z->n; i++)
		z->names[i] = xstrdup(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	qsort(z->names, z->n, sizeof(*z->names), by_name);
	return z;
}

void fetcher_zones_free(struct fetcher_zones *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		free(z->names[i]);
	free(z->names);
	free(z);
}

const char *fetcher_zones_find(const struct fetcher_zones *z, const char *name)
{
	char **hit;

	if (!z || !name)
		return NULL;
	hit = bsearch(&name, z->names, z->n, sizeof(*z->names), by_name);
	return hit ? *hit : NULL;
}
