/* ringlog migrate: applies the numbered files of sql/ that the database has
 * not seen, each in its own transaction, under an advisory lock so two
 * operators (or two hosts) cannot run them at once. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ringlog/auth.h"
#include "ringlog/buf.h"
#include "ringlog/paths.h"
#include "ringlog/xalloc.h"

/* Taken for the whole run: "ringlog" in ASCII. */
#define MIGRATE_LOCK_KEY "7164479475171437"

struct migration {
	int version;
	char *name; /* file name */
	char *path;
	char *sql;  /* its text, once loaded */
	char sha256[2 * AUTH_SHA256_LEN + 1];
	bool resum; /* applied as text that was since rewritten (see rewritten[]) */
};

/* --dir, $RINGLOG_SQL_DIR, next to the binary (installed or build tree),
 * then the directory `make install` used. */
static const char *find_sql_dir(const char *flag, char *buf, size_t len)
{
	if (flag)
		return flag;
	if (getenv("RINGLOG_SQL_DIR"))
		return getenv("RINGLOG_SQL_DIR");
	return paths_data_dir("sql", buf, len);
}

static int cmp_migrations(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return x->version != y->version ? x->version - y->version : strcmp(x->name, y->name);
}

/* The NNN_name.sql files of DIR (NUMBERED), or all its *.sql files, in
 * order. */
static struct migration *list_migrations(const char *dir, bool numbered, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct migration *m = NULL;
	size_t n = 0;

	if (!d && !numbered && errno == ENOENT) { /* a directory of migrations only */
		*count = 0;
		return xcalloc(1, sizeof(*m));
	}
	if (!d) {
		cli_fail("cannot read migrations in %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		size_t len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 4, ".sql") || de->d_name[0] == '.' ||
		    (numbered && (end == de->d_name || *end != '_')))
			continue;
		m = xrealloc(m, (n + 1) * sizeof(*m));
		memset(&m[n], 0, sizeof(*m));
		m[n].version = numbered ? (int)v : 0;
		m[n].name = xstrdup(de->d_name);
		m[n].path = xmalloc(strlen(dir) + len + 2);
		sprintf(m[n].path, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	qsort(m, n, sizeof(*m), cmp_migrations);
	*count = n;
	return m ? m : xcalloc(1, sizeof(*m));
}

static void free_migrations(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].path);
		free(m[i].sql);
	}
	free(m);
}

static int read_text(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "r");
	char chunk[8192];
	size_t n;

	if (!f)
		return cli_fail("cannot read %s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return 0;
}

static int exec_simple(PGconn *conn, const char *sql, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	/* A migration may hold only comments (its functions moved out). */
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY ? 0 : -1;

	if (rc < 0)
		cli_fail("%s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

/* The files' text and checksum. */
static int load(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		unsigned char sum[AUTH_SHA256_LEN];

		if (read_text(m[i].path, &b) != 0) {
			buf_release(&b);
			return -1;
		}
		auth_sha256(b.data, b.len, sum);
		auth_hex(sum, sizeof(sum), m[i].sha256);
		m[i].sql = buf_detach(&b, NULL);
	}
	return 0;
}

/* Migrations rewritten once when their functions moved to sql/functions/
 * (issue 11): a database that applied the earlier text is as current as
 * one that applied the new text. */
static const struct {
	int version;
	const char *sha256;
} rewritten[] = {
	{ 2, "1552536dcc93450792ee95ad95db4df585f844f1cbfc39eca2289fbeaf6d1f48" },
	{ 3, "77936b403ea35f731c74222da1bb344ecbc4bb3917d065c35d61613e28bfe3d8" },
	{ 4, "6c7e4fd147e18608a09be4a5fba98890d822f07263f4c3c7746d7dd94104fc7a" },
	{ 5, "a93c5ee80b358f4af75c6ff933a94010d3462c32173025b0e16c8f19267b3a80" },
	{ 7, "0fb6c23e61bb6ab62b886c7002af0c9e096b8d9661b93e1e05739a8d840fbb88" },
};

static bool was_rewritten(int version, const char *sha256)
{
	for (size_t i = 0; i < sizeof(rewritten) / sizeof(rewritten[0]); i++)
		if (rewritten[i].version == version && strcmp(rewritten[i].sha256, sha256) == 0)
			return true;
	return false;
}

static int exec_params(PGconn *conn, const char *sql, int n, const char *const *params,
		       const char *what)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK ? 0 : -1;

	if (rc < 0)
		cli_fail("%s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

/* Compares each applied migration with its file: marks it in APPLIED,
 * refuses an edited one. Returns 0 or -1 after printing which. */
static int check_applied(PGconn *conn, struct migration *m, size_t n, bool *applied)
{
	PGresult *res = PQexec(conn, "SELECT version, sha256 FROM schema_migrations");
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		cli_fail("%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		int v = atoi(PQgetvalue(res, r, 0));
		const char *sum = PQgetvalue(res, r, 1);

		for (size_t i = 0; i < n; i++) {
			if (m[i].version != v)
				continue;
			applied[i] = true;
			if (strcmp(sum, m[i].sha256) == 0)
				break;
			if (was_rewritten(v, sum)) {
				m[i].resum = true;
				break;
			}
			rc = cli_fail("migration %s was edited after it was applied (sha256 %.12s… "
				      "then, %.12s… now): change the schema in a new migration, and a "
				      "function in its file in sql/functions/; nothing was applied",
				      m[i].name, sum, m[i].sha256);
			break;
		}
	}
	PQclear(res);
	return rc;
}

/* True when the function files differ from those last applied. */
static int functions_changed(PGconn *conn, const struct migration *f, size_t nf, bool *changed)
{
	PGresult *res = PQexec(conn, "SELECT name, sha256 FROM schema_functions ORDER BY name");
	int rows;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		cli_fail("%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	rows = PQntuples(res);
	*changed = (size_t)rows != nf;
	for (int r = 0; r < rows && !*changed; r++)
		*changed = strcmp(PQgetvalue(res, r, 0), f[r].name) != 0 ||
			   strcmp(PQgetvalue(res, r, 1), f[r].sha256) != 0;
	PQclear(res);
	return 0;
}

/* Runs every function file (CREATE OR REPLACE). */
static int create_functions(PGconn *conn, const struct migration *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		if (exec_simple(conn, f[i].sql, f[i].name) < 0)
			return -1;
	return 0;
}

/* Every function file again, then drops the overloads of those functions
 * that no file defines any more (a signature changed). The files run twice:
 * first in any order (bodies unchecked), then, after the drop, with bodies
 * checked, so a SQL function calling a dropped one stops the migration. */
static int apply_functions(PGconn *conn, const struct migration *f, size_t nf)
{
	if (exec_simple(conn, "SET LOCAL check_function_bodies = off", "settings") < 0 ||
	    exec_simple(conn, "CREATE TEMP TABLE migrate_functions (name text) ON COMMIT DROP",
			"functions") < 0 ||
	    exec_simple(conn, "DELETE FROM schema_functions", "schema_functions") < 0 ||
	    create_functions(conn, f, nf) < 0)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		char base[256];
		const char *params[2] = { base, f[i].sha256 };

		snprintf(base, sizeof(base), "%.*s", (int)(strlen(f[i].name) - 4), f[i].name);
		if (exec_params(conn, "INSERT INTO migrate_functions VALUES ($1)", 1, params, f[i].name) < 0)
			return -1;
		params[0] = f[i].name;
		if (exec_params(conn, "INSERT INTO schema_functions (name, sha256) VALUES ($1, $2)", 2,
				params, f[i].name) < 0)
			return -1;
	}
	/* pg_proc rows written by this transaction carry its xid as xmin. */
	if (exec_simple(conn,
		"DO $$ DECLARE f regprocedure; BEGIN"
		" FOR f IN SELECT p.oid FROM pg_proc p JOIN migrate_functions m ON m.name = p.proname"
		"  WHERE p.pronamespace = current_schema()::regnamespace"
		"    AND p.xmin::text <> (pg_current_xact_id()::text::bigint % 4294967296)::text"
		" LOOP EXECUTE 'DROP FUNCTION ' || f; END LOOP; END $$", "stale functions") < 0)
		return -1;
	return exec_simple(conn, "SET LOCAL check_function_bodies = on", "settings") < 0 ? -1 :
	       create_functions(conn, f, nf);
}

/* The pending migrations, then the functions, all in one transaction. */
static int apply(PGconn *conn, const struct migration *m, size_t n, const bool *applied,
		 const struct migration *f, size_t nf, bool funcs)
{
	char version[16];
	const char *params[3];

	if (exec_simple(conn, "BEGIN", "begin") < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		params[0] = version;
		params[1] = m[i].name;
		params[2] = m[i].sha256;
		snprintf(version, sizeof(version), "%d", m[i].version);
		if (m[i].resum &&
		    exec_params(conn, "UPDATE schema_migrations SET sha256 = $3, name = $2 WHERE version = $1",
				3, params, m[i].name) < 0)
			goto rollback;
		if (applied[i])
			continue;
		if (exec_simple(conn, m[i].sql, m[i].name) < 0 ||
		    exec_params(conn, "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
				3, params, m[i].name) < 0)
			goto rollback;
	}
	if (funcs && apply_functions(conn, f, nf) < 0)
		goto rollback;
	if (exec_simple(conn, "COMMIT", "commit") < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!applied[i])
			printf("applied %s\n", m[i].name);
	if (funcs)
		printf("applied %zu functions of sql/functions\n", nf);
	return 0;
rollback:
	exec_simple(conn, "ROLLBACK", "rollback");
	return -1;
}

static int run(PGconn *conn, struct migration *m, size_t n, struct migration *f, size_t nf,
	       bool status_only)
{
	bool *applied = xcalloc(n + 1, sizeof(*applied)), funcs = false, resum = false;
	int pending = 0, rc = 1;

	if (exec_simple(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			      " version integer PRIMARY KEY, name text NOT NULL,"
			      " sha256 text NOT NULL,"
			      " applied_at timestamptz NOT NULL DEFAULT now());"
			      "CREATE TABLE IF NOT EXISTS schema_functions ("
			      " name text PRIMARY KEY, sha256 text NOT NULL,"
			      " applied_at timestamptz NOT NULL DEFAULT now())",
			"schema_migrations") < 0 ||
	    check_applied(conn, m, n, applied) < 0 || functions_changed(conn, f, nf, &funcs) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		pending += !applied[i];
		resum |= m[i].resum;
		if (status_only && !applied[i])
			printf("pending %s\n", m[i].name);
	}
	funcs = funcs || pending > 0;
	if (status_only && funcs)
		printf("pending the functions of sql/functions (%zu files)\n", nf);
	if (!status_only && (pending || funcs || resum) && apply(conn, m, n, applied, f, nf, funcs) < 0)
		goto out;
	if (status_only || (pending == 0 && !funcs))
		printf("schema is %s (%d pending of %zu)\n",
		       status_only && (pending || funcs) ? "behind" : "up to date",
		       status_only ? pending : 0, n);
	rc = 0;
out:
	free(applied);
	return rc;
}

int cmd_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "status", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "ringlog migrate [--dir SQLDIR] [--status]";
	const char *dir_flag = NULL, *dir;
	char dirbuf[PATH_MAX + 64], *fdir = NULL;
	bool status_only = false;
	struct migration *m, *f = NULL;
	struct errbuf e;
	size_t n, nf = 0;
	int c, rc = 1;
	PGconn *conn;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dir_flag = optarg; break;
		case 's': status_only = true; break;
		case 'h': printf("usage: %s\n\nApplies the pending migrations of SQLDIR (NNN_*.sql), then the\n"
				 "functions of SQLDIR/functions, in one transaction. Refuses a migration\n"
				 "edited after it was applied.\n", usage); return 0;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc)
		return cli_usage(usage);
	dir = find_sql_dir(dir_flag, dirbuf, sizeof(dirbuf));
	m = list_migrations(dir, true, &n);
	if (!m)
		return 1;
	if (n == 0) {
		cli_fail("no migrations (NNN_name.sql) in %s", dir);
		goto out;
	}
	fdir = xmalloc(strlen(dir) + sizeof("/functions"));
	sprintf(fdir, "%s/functions", dir);
	f = list_migrations(fdir, false, &nf);
	if (!f || load(m, n) < 0 || load(f, nf) < 0)
		goto out;
	cli->db = db_new(cli->database_url, "ringlog migrate");
	if (db_connect(cli->db, &e) < 0) {
		cli_fail("%s", e.msg);
		goto out;
	}
	conn = db_conn(cli->db);
	if (exec_simple(conn, "SET client_min_messages = warning", "settings") < 0 ||
	    exec_simple(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "lock") < 0)
		goto out;
	rc = run(conn, m, n, f, nf, status_only);
	exec_simple(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", "unlock");
out:
	free_migrations(m, n);
	if (f)
		free_migrations(f, nf);
	free(fdir);
	return rc;
}
