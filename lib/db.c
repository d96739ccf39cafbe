#include "ringlog/db.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlog/auth.h"
#include "ringlog/xalloc.h"

#ifndef RINGLOG_SCHEMA_VERSIONS
#error "RINGLOG_SCHEMA_VERSIONS must come from the Makefile (the numbers of the files in sql/)"
#endif

#define DB_RETRY_NS 1000000000LL /* one connection attempt a second while down */

struct db {
	char *conninfo;
	char *application_name;
	PGconn *conn;
	bool down;
	long long next_attempt_ns;
	const struct db_stmt **prepared; /* statements prepared on this connection */
	int nprepared, capprepared;
	char sqlstate[6];
	int slot; /* its thread slot (db_for_thread_slot) */
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct db *db_new(const char *conninfo, const char *application_name)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->conninfo = xstrdup(conninfo ? conninfo : "");
	db->application_name = xstrdup(application_name ? application_name : "ringlog");
	return db;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->prepared);
	free(db->conninfo);
	free(db->application_name);
	free(db);
}

static void drop_connection(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;
}

static int mark_down(struct db *db, struct errbuf *e, const char *what)
{
	const char *why = db->conn ? PQerrorMessage(db->conn) : "no connection";

	err_set(e, "database unavailable (%s): %s", what, why);
	db->down = true;
	drop_connection(db);
	db->next_attempt_ns = now_ns() + DB_RETRY_NS;
	return -1;
}

/* "-c ringlog.privacy_key=<hex>", set once before any thread connects. */
static char *privacy_options;

int db_use_privacy_key_file(const char *path, struct errbuf *e)
{
	unsigned char data[4096], sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		if (errno == ENOENT)
			return 1;
		return err_set(e, "cannot read the privacy key %s: %s", path, strerror(errno));
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (n < 32)
		return err_set(e, "the privacy key %s is shorter than 32 bytes (make one with: "
			       "head -c 32 /dev/urandom | base64 > %s)", path, path);
	auth_sha256(data, n, sum);
	auth_hex(sum, sizeof(sum), hex);
	free(privacy_options);
	privacy_options = xmalloc(sizeof("-c ringlog.privacy_key=") + sizeof(hex));
	strcpy(privacy_options, "-c ringlog.privacy_key=");
	strcat(privacy_options, hex);
	return 0;
}

int db_check_privacy_key(struct db *db, struct errbuf *e)
{
	static const struct db_stmt erased = {
		"db_privacy_erased", "SELECT EXISTS (SELECT 1 FROM erased_calls)", 0
	};
	PGresult *res;
	bool any;

	if (privacy_options)
		return 0;
	res = db_exec(db, &erased, NULL, e);
	if (!res)
		return -1;
	any = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (any)
		return err_set(e, "calls were erased in this database, and this program has no privacy "
			       "key to recognise their pushes: set [privacy] key_file to a copy of the "
			       "key of the programs that erased them");
	return 0;
}

int db_connect(struct db *db, struct errbuf *e)
{
	static const char *const keys[] = { "dbname", "fallback_application_name",
					     "connect_timeout", "options", NULL };
	const char *values[] = { db->conninfo, db->application_name, "5", NULL, NULL };

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	drop_connection(db);
	if (db->down && now_ns() < db->next_attempt_ns)
		return err_set(e, "database unavailable (retrying shortly)");
	if (privacy_options) /* else NULL: libpq's default (PGOPTIONS) */
		values[3] = privacy_options;
	db->conn = PQconnectdbParams(keys, values, 1);
	if (PQstatus(db->conn) != CONNECTION_OK)
		return mark_down(db, e, "connect");
	db->down = false;
	return 0;
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

bool db_is_down(const struct db *db)
{
	return db->down;
}

const char *db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

/* Classifies a failed result: the server gone, or the statement refused. */
static PGresult *failed(struct db *db, PGresult *res, const char *what, struct errbuf *e)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	if (!res || PQstatus(db->conn) != CONNECTION_OK ||
	    (state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0))) {
		PQclear(res);
		mark_down(db, e, what);
		return NULL;
	}
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	err_set(e, "%s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return NULL;
}

static int ensure_prepared(struct db *db, const struct db_stmt *st, struct errbuf *e)
{
	PGresult *res;

	for (int i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == st)
			return 0;
	res = PQprepare(db->conn, st->name, st->sql, st->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return failed(db, res, st->name, e), -1;
	PQclear(res);
	if (db->nprepared == db->capprepared) {
		db->capprepared = db->capprepared ? 2 * db->capprepared : 16;
		db->prepared = xrealloc(db->prepared, (size_t)db->capprepared * sizeof(*db->prepared));
	}
	db->prepared[db->nprepared++] = st;
	return 0;
}

PGresult *db_exec_bin(struct db *db, const struct db_stmt *st, const char *const *params,
		      const int *lengths, const int *formats, struct errbuf *e)
{
	PGresult *res;
	ExecStatusType s;

	db->sqlstate[0] = '\0';
	if (db_connect(db, e) < 0 || ensure_prepared(db, st, e) < 0)
		return NULL;
	res = PQexecPrepared(db->conn, st->name, st->nparams, params, lengths, formats, 0);
	s = PQresultStatus(res);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return res;
	return failed(db, res, st->name, e);
}

PGresult *db_exec(struct db *db, const struct db_stmt *st, const char *const *params,
		  struct errbuf *e)
{
	return db_exec_bin(db, st, params, NULL, NULL, e);
}

/* Reads the results of one pipelined query: its result, then NULL. */
static PGresult *next_result(PGconn *c)
{
	PGresult *res = PQgetResult(c), *extra;

	while (res && (extra = PQgetResult(c)))
		PQclear(extra);
	return res;
}

/* Sends the N statements, then a sync point. Up to the sync they form one
 * implicit transaction: committed at the sync, or rolled back entirely when
 * one of them fails (the connection is then clean for what follows). */
static int send_batch(struct db *db, const struct db_stmt *st, const char *const *const *params,
		      size_t n)
{
	PGconn *c = db->conn;

	if (!PQenterPipelineMode(c))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!PQsendQueryPrepared(c, st->name, st->nparams, params[i], NULL, NULL, 0))
			return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

int db_exec_batch(struct db *db, const struct db_stmt *st, const char *const *const *params,
		  size_t n, PGresult **results, struct errbuf *e)
{
	PGresult *res = NULL, *failure = NULL;
	size_t got = 0;
	bool ok = true;

	db->sqlstate[0] = '\0';
	if (db_connect(db, e) < 0 || ensure_prepared(db, st, e) < 0)
		return -1;
	if (send_batch(db, st, params, n) < 0)
		return mark_down(db, e, st->name);
	/* N statements, then the sync point once the commit is durable. */
	for (size_t q = 0; q < n; q++) {
		ExecStatusType s;

		res = next_result(db->conn);
		if (!res)
			break;
		s = PQresultStatus(res);
		if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
			ok = false;
			if (!failure && s != PGRES_PIPELINE_ABORTED)
				failure = res;
			else
				PQclear(res);
			continue;
		}
		if (ok)
			results[got++] = res;
		else
			PQclear(res);
	}
	res = res ? PQgetResult(db->conn) : NULL; /* the sync point */
	if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC) {
		PQclear(res);
		PQclear(failure);
		while (got)
			PQclear(results[--got]);
		return mark_down(db, e, st->name);
	}
	PQclear(res);
	PQexitPipelineMode(db->conn);
	if (ok && got == n)
		return 0;
	while (got)
		PQclear(results[--got]);
	if (failure) {
		failed(db, failure, st->name, e);
		return -1;
	}
	return err_set(e, "%s: the batch was aborted", st->name);
}

PGresult *db_exec_planned(struct db *db, const struct db_stmt *st, const char *const *params,
			  struct errbuf *e)
{
	PGresult *res;
	ExecStatusType s;

	db->sqlstate[0] = '\0';
	if (db_connect(db, e) < 0)
		return NULL;
	res = PQexecParams(db->conn, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
	s = PQresultStatus(res);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
		return res;
	return failed(db, res, st->name, e);
}

int db_command(struct db *db, const char *sql, struct errbuf *e)
{
	PGresult *res;

	db->sqlstate[0] = '\0';
	if (db_connect(db, e) < 0)
		return -1;
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	failed(db, res, sql, e);
	return -1;
}

int db_copy_in(struct db *db, const char *sql, const char *data, size_t len, struct errbuf *e)
{
	PGresult *res;
	const char *sent_error = NULL;

	db->sqlstate[0] = '\0';
	if (db_connect(db, e) < 0)
		return -1;
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		failed(db, res, sql, e);
		return -1;
	}
	PQclear(res);
	/* Blocking connection: each call sends or queues all it is given. */
	while (len > 0 && !sent_error) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;

		if (PQputCopyData(db->conn, data, chunk) != 1)
			sent_error = "sending COPY data";
		data += chunk;
		len -= (size_t)chunk;
	}
	if (PQputCopyEnd(db->conn, sent_error) != 1) {
		mark_down(db, e, "ending COPY");
		return -1;
	}
	res = PQgetResult(db->conn);
	for (PGresult *more; (more = PQgetResult(db->conn)) != NULL;) {
		PQclear(res);
		res = more;
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		failed(db, res, sql, e);
		return -1;
	}
	PQclear(res);
	return 0;
}

static pthread_key_t thread_keys[DB_THREAD_SLOTS];
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static void free_thread_db(void *p)
{
	db_free(p);
}

static void make_thread_key(void)
{
	for (int i = 0; i < DB_THREAD_SLOTS; i++)
		if (pthread_key_create(&thread_keys[i], free_thread_db) != 0)
			abort();
}

struct db *db_for_thread_slot(int slot, const char *conninfo, const char *application_name)
{
	struct db *db;

	pthread_once(&thread_key_once, make_thread_key);
	db = pthread_getspecific(thread_keys[slot]);
	if (!db) {
		db = db_new(conninfo, application_name);
		db->slot = slot;
		pthread_setspecific(thread_keys[slot], db);
	}
	return db;
}

struct db *db_for_thread(const char *conninfo, const char *application_name)
{
	return db_for_thread_slot(DB_SLOT_PRIMARY, conninfo, application_name);
}

struct db *db_take_from_thread_slot(int slot, const char *conninfo, const char *application_name)
{
	struct db *db = db_for_thread_slot(slot, conninfo, application_name);

	pthread_setspecific(thread_keys[slot], NULL);
	return db;
}

struct db *db_take_from_thread(const char *conninfo, const char *application_name)
{
	return db_take_from_thread_slot(DB_SLOT_PRIMARY, conninfo, application_name);
}

void db_return_to_thread(struct db *db)
{
	if (!db)
		return;
	pthread_once(&thread_key_once, make_thread_key);
	if (pthread_getspecific(thread_keys[db->slot]) || !db->conn ||
	    PQstatus(db->conn) != CONNECTION_OK || PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		db_free(db);
		return;
	}
	pthread_setspecific(thread_keys[db->slot], db);
}

/* Every migration this build knows must be applied: comparing the newest
 * number alone would miss one merged late with a lower number. */
int db_check_schema(struct db *db, struct errbuf *e)
{
	static const struct db_stmt q = {
		"db_schema_missing",
		"SELECT string_agg(v::text, ', ' ORDER BY v), max(v) FROM unnest($1::int[]) v"
		" WHERE v NOT IN (SELECT version FROM schema_migrations)", 1
	};
	const char *params[] = { "{" RINGLOG_SCHEMA_VERSIONS "}" };
	PGresult *res = db_exec(db, &q, params, e);
	int rc = 0;

	if (!res) {
		if (strcmp(db_sqlstate(db), "42P01") == 0)
			return err_set(e, "the database has no ringlog schema: run `ringlog migrate`");
		return -1;
	}
	if (!PQgetisnull(res, 0, 0))
		rc = err_set(e, "the database schema lacks migration %s that this build needs: "
			     "run `ringlog migrate`", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
