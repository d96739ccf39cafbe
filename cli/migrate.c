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
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

static struct migration *list_migrations(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct migration *m = NULL;
	size_t n = 0;

	if (!d) {
		cli_fail("cannot read migrations in %s: %s", dir, strerror(errno));
		return NULL;
	}
	while ((de = readdir(d))) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		size_t len = strlen(de->d_name);

		if (end == de->d_name || *end != '_' || len < 5 || strcmp(de->d_name + len - 4, ".sql"))
			continue;
		m = xrealloc(m, (n + 1) * sizeof(*m));
		m[n].version = (int)v;
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
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;

	if (rc < 0)
		cli_fail("%s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

/* Applies M in one transaction and records it with its checksum. */
static int apply(PGconn *conn, const struct migration *m)
{
	struct buf sql = BUF_INIT;
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1], version[16];
	const char *params[3];
	PGresult *res;
	int rc = -1;

	if (read_text(m->path, &sql) != 0)
		goto out;
	auth_sha256(sql.data, sql.len, sum);
	auth_hex(sum, sizeof(sum), hex);
	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = hex;
	if (exec_simple(conn, "BEGIN", "begin") < 0)
		goto out;
	if (exec_simple(conn, buf_str(&sql), m->name) < 0)
		goto rollback;
	res = PQexecParams(conn,
			   "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
			   3, NULL, params, NULL, NULL, 0);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc < 0)
		cli_fail("%s: %s", m->name, PQresultErrorMessage(res));
	PQclear(res);
	if (rc == 0 && exec_simple(conn, "COMMIT", "commit") == 0) {
		printf("applied %s\n", m->name);
		goto out;
	}
	rc = -1;
rollback:
	exec_simple(conn, "ROLLBACK", "rollback");
out:
	buf_release(&sql);
	return rc;
}

/* Marks in *SEEN (indexed by version, up to MAX) the migrations applied. */
static int applied_versions(PGconn *conn, bool **seen, int max)
{
	PGresult *res = PQexec(conn, "SELECT version FROM schema_migrations");

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		cli_fail("%s", PQresultErrorMessage(res));
		PQclear(res);
		return -1;
	}
	*seen = xcalloc((size_t)max + 1, sizeof(**seen));
	for (int i = 0; i < PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, i, 0));

		if (v >= 0 && v <= max)
			(*seen)[v] = true;
	}
	PQclear(res);
	return 0;
}

static int run(PGconn *conn, const struct migration *m, size_t n, bool status_only)
{
	bool *seen = NULL;
	int pending = 0, rc = 0, max = n ? m[n - 1].version : 0;

	if (exec_simple(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			      " version integer PRIMARY KEY, name text NOT NULL,"
			      " sha256 text NOT NULL,"
			      " applied_at timestamptz NOT NULL DEFAULT now())",
			"schema_migrations") < 0 ||
	    applied_versions(conn, &seen, max) < 0)
		return 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (seen[m[i].version])
			continue;
		pending++;
		if (status_only)
			printf("pending %s\n", m[i].name);
		else if (apply(conn, &m[i]) < 0)
			rc = 1;
	}
	if (rc == 0 && (status_only || pending == 0))
		printf("schema is %s (%d pending of %zu)\n", pending ? "behind" : "up to date", pending, n);
	free(seen);
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
	char dirbuf[PATH_MAX + 64];
	bool status_only = false;
	struct migration *m;
	struct errbuf e;
	size_t n;
	int c, rc = 1;
	PGconn *conn;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dir_flag = optarg; break;
		case 's': status_only = true; break;
		case 'h': printf("usage: %s\n\nApplies the pending migrations of SQLDIR, one transaction each.\n", usage); return 0;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc)
		return cli_usage(usage);
	dir = find_sql_dir(dir_flag, dirbuf, sizeof(dirbuf));
	m = list_migrations(dir, &n);
	if (!m)
		return 1;
	if (n == 0) {
		cli_fail("no migrations (NNN_name.sql) in %s", dir);
		goto out;
	}
	cli->db = db_new(cli->database_url, "ringlog migrate");
	if (db_connect(cli->db, &e) < 0) {
		cli_fail("%s", e.msg);
		goto out;
	}
	conn = db_conn(cli->db);
	if (exec_simple(conn, "SET client_min_messages = warning", "settings") < 0 ||
	    exec_simple(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "lock") < 0)
		goto out;
	rc = run(conn, m, n, status_only);
	exec_simple(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")", "unlock");
out:
	free_migrations(m, n);
	return rc;
}
