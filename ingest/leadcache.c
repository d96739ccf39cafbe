#include "leadcache.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlog/buf.h"
#include "ringlog/db.h"
#include "ringlog/log.h"
#include "ringlog/xalloc.h"

#define PHONE_MAX 16          /* E.164: at most 15 digits */
#define REFRESH_MAX 512       /* numbers refreshed by one query; more: load all */

struct entry {
	struct entry *next;
	char phone[PHONE_MAX];
	struct lead_view v;
};

struct table {
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

struct leadcache {
	pthread_rwlock_t lock;
	struct table t;     /* under LOCK */
	atomic_bool ready;  /* T is current: the listener is connected and loaded */
	atomic_bool stopping;
	size_t max_numbers;
	char *conninfo;
	pthread_t thread;
	bool started;
	atomic_ullong hits, updates;
	atomic_size_t numbers;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void view_free(struct lead_view *v)
{
	free(v->crm_id);
	free(v->name);
	free(v->company);
	free(v->crm_url);
	memset(v, 0, sizeof(*v));
}

void lead_view_release(struct lead_view *v)
{
	view_free(v);
}

static void table_init(struct table *t, size_t expect)
{
	t->nbuckets = 1024;
	while (t->nbuckets < expect * 2)
		t->nbuckets *= 2;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->count = 0;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct entry *e = t->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			view_free(&e->v);
			free(e);
		}
	}
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static struct entry **slot(struct table *t, const char *phone)
{
	struct entry **p = &t->buckets[hash(phone) & (t->nbuckets - 1)];

	while (*p && strcmp((*p)->phone, phone) != 0)
		p = &(*p)->next;
	return p;
}

/* Removes PHONE from T. */
static void table_remove(struct table *t, const char *phone)
{
	struct entry **p = slot(t, phone), *e = *p;

	if (!e)
		return;
	*p = e->next;
	view_free(&e->v);
	free(e);
	t->count--;
}

/* Adds E (its phone not in T). */
static void table_add(struct table *t, struct entry *e)
{
	struct entry **p = &t->buckets[hash(e->phone) & (t->nbuckets - 1)];

	e->next = *p;
	*p = e;
	t->count++;
}

/* Row I of RES (phone, total, id, crm_id, name, company, crm_url). */
static struct entry *entry_from(PGresult *res, int i)
{
	struct entry *e = xcalloc(1, sizeof(*e));

	snprintf(e->phone, sizeof(e->phone), "%s", PQgetvalue(res, i, 0));
	e->v.total = atoll(PQgetvalue(res, i, 1));
	e->v.id = atoll(PQgetvalue(res, i, 2));
	e->v.crm_id = PQgetisnull(res, i, 3) ? NULL : xstrdup(PQgetvalue(res, i, 3));
	e->v.name = xstrdup(PQgetvalue(res, i, 4));
	e->v.company = xstrdup(PQgetvalue(res, i, 5));
	e->v.crm_url = xstrdup(PQgetvalue(res, i, 6));
	return e;
}

/* The oldest open lead of each number, and how many it has. */
#define LEADS_SELECT                                                                        \
	"SELECT DISTINCT ON (phone) phone, count(*) OVER (PARTITION BY phone), id, crm_id, "  \
	"name, company, coalesce(crm_url, '') FROM leads WHERE status = 'open' "

static const struct db_stmt load_all = {
	"leadcache_all", LEADS_SELECT "ORDER BY phone, id", 0
};
static const struct db_stmt load_some = {
	"leadcache_some", LEADS_SELECT "AND phone = ANY ($1::text[]) ORDER BY phone, id", 1
};

static int full_load(struct leadcache *lc, struct db *db)
{
	struct errbuf e;
	PGresult *res = db_exec(db, &load_all, NULL, &e);
	struct table t, old;
	int n;

	if (!res) {
		log_msg(LOG_WARNING, "screen pop cache: cannot load the open leads: %s", e.msg);
		return -1;
	}
	n = PQntuples(res);
	if ((size_t)n > lc->max_numbers) {
		log_msg(LOG_WARNING, "screen pop cache off: %d numbers have open leads (more than %zu)", n,
			lc->max_numbers);
		PQclear(res);
		return -1;
	}
	table_init(&t, (size_t)n);
	for (int i = 0; i < n; i++)
		table_add(&t, entry_from(res, i));
	PQclear(res);
	pthread_rwlock_wrlock(&lc->lock);
	old = lc->t;
	lc->t = t;
	lc->numbers = t.count;
	pthread_rwlock_unlock(&lc->lock);
	table_free(&old);
	return 0;
}

/* Reads again the numbers in the PostgreSQL array literal PHONES (N of them). */
static int refresh(struct leadcache *lc, struct db *db, const char *phones, char list[][PHONE_MAX],
		   size_t n)
{
	const char *params[] = { phones };
	struct errbuf e;
	PGresult *res = db_exec(db, &load_some, params, &e);
	int rows;

	if (!res) {
		log_msg(LOG_WARNING, "screen pop cache: cannot read changed leads: %s", e.msg);
		return -1;
	}
	rows = PQntuples(res);
	pthread_rwlock_wrlock(&lc->lock);
	for (size_t i = 0; i < n; i++)
		table_remove(&lc->t, list[i]);
	for (int i = 0; i < rows; i++) {
		table_remove(&lc->t, PQgetvalue(res, i, 0));
		table_add(&lc->t, entry_from(res, i));
	}
	lc->numbers = lc->t.count;
	pthread_rwlock_unlock(&lc->lock);
	PQclear(res);
	lc->updates++;
	return 0;
}

/* Applies every notification waiting on DB. Returns 0, or -1 when the
 * connection is lost or a query failed (the caller starts again). */
static int apply_notifications(struct leadcache *lc, struct db *db)
{
	static char list[REFRESH_MAX][PHONE_MAX]; /* the listener thread's only */
	PGconn *conn = db_conn(db);
	struct buf arr = BUF_INIT;
	PGnotify *nf;
	size_t n = 0;
	bool all = false;
	int rc = 0;

	if (!conn || !PQconsumeInput(conn))
		return -1;
	while ((nf = PQnotifies(conn))) {
		const char *p = nf->extra;

		while (*p && !all) {
			size_t len = strcspn(p, ",");

			if ((len == 1 && *p == '*') || n == REFRESH_MAX) {
				all = true;
			} else if (len > 0 && len < PHONE_MAX && strspn(p, "0123456789") == len) {
				memcpy(list[n], p, len);
				list[n][len] = '\0';
				n++;
			}
			p += len;
			p += *p == ',';
		}
		PQfreemem(nf);
	}
	if (all) {
		rc = full_load(lc, db);
		lc->updates++;
	} else if (n > 0) {
		buf_adds(&arr, "{");
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_adds(&arr, ",");
			buf_adds(&arr, list[i]);
		}
		buf_adds(&arr, "}");
		rc = refresh(lc, db, buf_str(&arr), list, n);
		buf_release(&arr);
	}
	return rc;
}

static void *listener(void *arg)
{
	struct leadcache *lc = arg;
	struct db *db = NULL;
	struct errbuf e;

	while (!lc->stopping) {
		struct pollfd pfd;

		if (!db) {
			db = db_new(lc->conninfo, "ringlog-ingestd leads");
			/* LISTEN first, then load: nothing committed between is missed. */
			if (db_connect(db, &e) < 0 || db_command(db, "LISTEN ringlog_leads", &e) < 0 ||
			    full_load(lc, db) < 0) {
				db_free(db);
				db = NULL;
				for (int i = 0; i < 10 && !lc->stopping; i++)
					nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
				continue;
			}
			lc->ready = true;
		}
		pfd = (struct pollfd){ .fd = PQsocket(db_conn(db)), .events = POLLIN };
		if (poll(&pfd, 1, 200) < 0 || apply_notifications(lc, db) < 0) {
			lc->ready = false;
			db_free(db);
			db = NULL;
		}
	}
	lc->ready = false;
	db_free(db);
	return NULL;
}

struct leadcache *leadcache_start(const char *conninfo, size_t max_numbers)
{
	struct leadcache *lc = xcalloc(1, sizeof(*lc));

	pthread_rwlock_init(&lc->lock, NULL);
	table_init(&lc->t, 0);
	lc->conninfo = xstrdup(conninfo);
	lc->max_numbers = max_numbers;
	lc->started = pthread_create(&lc->thread, NULL, listener, lc) == 0;
	return lc;
}

void leadcache_stop(struct leadcache *lc)
{
	if (!lc)
		return;
	lc->stopping = true;
	if (lc->started)
		pthread_join(lc->thread, NULL);
	table_free(&lc->t);
	pthread_rwlock_destroy(&lc->lock);
	free(lc->conninfo);
	free(lc);
}

bool leadcache_get(struct leadcache *lc, const char *phone, struct lead_view *v)
{
	struct entry *e;

	memset(v, 0, sizeof(*v));
	if (!lc || !lc->ready)
		return false;
	pthread_rwlock_rdlock(&lc->lock);
	e = *slot(&lc->t, phone);
	if (e) {
		v->total = e->v.total;
		v->id = e->v.id;
		v->crm_id = e->v.crm_id ? xstrdup(e->v.crm_id) : NULL;
		v->name = xstrdup(e->v.name);
		v->company = xstrdup(e->v.company);
		v->crm_url = xstrdup(e->v.crm_url);
	}
	pthread_rwlock_unlock(&lc->lock);
	lc->hits++;
	return true;
}

size_t leadcache_numbers(const struct leadcache *lc)
{
	return lc ? lc->numbers : 0;
}

unsigned long long leadcache_hits(const struct leadcache *lc)
{
	return lc ? lc->hits : 0;
}

unsigned long long leadcache_updates(const struct leadcache *lc)
{
	return lc ? lc->updates : 0;
}
