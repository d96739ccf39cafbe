/* One PostgreSQL connection, owned by one thread: it connects on first use,
 * reconnects by itself (at most once a second while the server is away),
 * and prepares each statement once per connection. */
#ifndef RINGLOG_DB_H
#define RINGLOG_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

struct db;

/* A statement with its query text, declared `static const` next to its one
 * caller. NAME must be unique in the program. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

/* Returns a new, unconnected handle for CONNINFO (copied); never NULL. */
struct db *db_new(const char *conninfo, const char *application_name);
void db_free(struct db *db);

/* Connects if not connected. Returns 0, or -1 with E filled. */
int db_connect(struct db *db, struct errbuf *e) RL_MUST_CHECK;
/* The live connection, or NULL; borrowed. */
PGconn *db_conn(struct db *db);
/* True when the last failure was the connection (server away), not the SQL. */
bool db_is_down(const struct db *db);

/* Runs the prepared statement ST with text PARAMS (NULL = SQL NULL).
 * Returns a result the caller PQclears, or NULL with E filled; then
 * db_is_down() tells a lost server from a statement error, and
 * db_sqlstate() gives the SQLSTATE of a statement error. */
PGresult *db_exec(struct db *db, const struct db_stmt *st, const char *const *params,
		  struct errbuf *e) RL_MUST_CHECK;
/* As db_exec, with explicit lengths and formats (1 = binary) per parameter. */
PGresult *db_exec_bin(struct db *db, const struct db_stmt *st, const char *const *params,
		      const int *lengths, const int *formats, struct errbuf *e) RL_MUST_CHECK;
/* Runs ST once per parameter set PARAMS[0..N-1] inside one transaction,
 * pipelined: one round trip and one commit for all. On success fills
 * RESULTS[0..N-1] (the caller PQclears each) and returns 0. Returns -1 with E
 * filled when the batch failed as a whole: nothing was committed and no
 * result is set (db_is_down() tells a lost server; otherwise one statement
 * failed and running them one by one finds which). */
int db_exec_batch(struct db *db, const struct db_stmt *st, const char *const *const *params,
		  size_t n, PGresult **results, struct errbuf *e) RL_MUST_CHECK;
/* As db_exec, but ST is planned with its values on every run instead of
 * prepared once: for a statement of optional filters ("$1 IS NULL OR
 * col = $1") whose best plan (which index) depends on which are set. */
PGresult *db_exec_planned(struct db *db, const struct db_stmt *st, const char *const *params,
			  struct errbuf *e) RL_MUST_CHECK;
/* Runs SQL without parameters (BEGIN, COMMIT, ...). Returns 0 or -1. */
int db_command(struct db *db, const char *sql, struct errbuf *e) RL_MUST_CHECK;
/* Runs SQL, a COPY ... FROM STDIN, with DATA[0..LEN) as its input (text
 * format). Returns 0, or -1 with E filled (db_is_down() as for db_exec). */
int db_copy_in(struct db *db, const char *sql, const char *data, size_t len,
	       struct errbuf *e) RL_MUST_CHECK;
/* SQLSTATE of the last statement error, "" when none. */
const char *db_sqlstate(const struct db *db);

/* The calling thread's connection to CONNINFO, created on first use and
 * freed when the thread exits. */
struct db *db_for_thread(const char *conninfo, const char *application_name);

/* Takes the calling thread's connection out of its slot for the caller's
 * exclusive use, for work that outlives one handler call (a COPY streamed
 * to a client): meanwhile, the thread's next db_for_thread() opens a fresh
 * connection. Returns the handle (the caller owns it); never NULL. */
struct db *db_take_from_thread(const char *conninfo, const char *application_name);
/* Hands DB back to the calling thread's slot when it is idle (no command
 * or transaction in progress) and the slot is empty; frees it otherwise. */
void db_return_to_thread(struct db *db);

/* A thread may hold one connection per slot: the primary (what
 * db_for_thread uses) and a read replica. */
enum { DB_SLOT_PRIMARY, DB_SLOT_READ, DB_THREAD_SLOTS };
/* As db_for_thread and db_take_from_thread, for SLOT. */
struct db *db_for_thread_slot(int slot, const char *conninfo, const char *application_name);
struct db *db_take_from_thread_slot(int slot, const char *conninfo, const char *application_name);

/* The privacy key (README "Privacy"): reads the key file PATH (at least 32
 * bytes; its SHA-256 is the key) and hands the key to every connection made
 * afterwards as the setting ringlog.privacy_key (libpq options), so SQL can
 * compute keyed hashes of erased calls and numbers; the key is never stored
 * in the database. Call once, before any thread connects. Returns 0, 1 when
 * PATH does not exist (no key: nothing was ever erasable), or -1 with E. */
int db_use_privacy_key_file(const char *path, struct errbuf *e) RL_MUST_CHECK;
/* 0 when DB's program may write calls: it has the privacy key, or no call
 * was ever erased in DB; else -1 with E saying so (an erased call's push
 * could not be recognised: every write of a call would fail). */
int db_check_privacy_key(struct db *db, struct errbuf *e) RL_MUST_CHECK;

/* Checks that the schema has every migration this build was made with
 * (RINGLOG_SCHEMA_VERSIONS). Returns 0, or -1 with E saying what to run. */
int db_check_schema(struct db *db, struct errbuf *e) RL_MUST_CHECK;

#endif
