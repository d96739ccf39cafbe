/* ringlog maintain [--dry-run]: partitions ahead, and retention per source.
 * Each source keeps its calls, recordings and dead letters for its own
 * --keep-* (`ringlog source update`), else for the [maintain] defaults of
 * the config (unset: for ever). A month of calls every source has let
 * expire is a partition dropped (ringlog_drop_expired_months); the rest
 * goes in small batches, one transaction each (ringlog_expire), and a blob
 * goes only after the rows that used it are committed gone. Run daily by
 * ringlog-maintain.timer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/xalloc.h"

#define MAINTAIN_BATCH 1000

static const char *const kinds[] = { "calls", "recordings", "dead_letters" };
#define NKINDS 3

/* Each source with its cut-off time per kind (NULL: kept for ever). */
static const char sources_sql[] =
	"SELECT s.id, s.name,"
	"       now() - coalesce(s.keep_calls, ringlog_retention($1)),"
	"       now() - coalesce(s.keep_recordings, ringlog_retention($2)),"
	"       now() - coalesce(s.keep_dead_letters, ringlog_retention($3))"
	"  FROM sources s ORDER BY s.name";

static const char partitions_sql[] = "SELECT ringlog_calls_partitions()";
static const char months_sql[] =
	"SELECT month, calls FROM ringlog_drop_expired_months(ringlog_retention($1), $2::boolean)";

static const struct db_stmt expire_stmt = {
	"maintain_expire",
	"SELECT removed, array_to_string(freed_blobs, ',') FROM ringlog_expire($1, $2, $3, $4, $5)", 5
};

/* A freed blob a push has used again since (inline audio is stored once
 * per content) stays. */
static const struct db_stmt blob_used_stmt = {
	"maintain_blob_used", "SELECT 1 FROM recordings WHERE blob_key = $1 LIMIT 1", 1
};

/* Deletes the blobs in KEYS ("k1,k2,...") no row uses; returns how many. */
static long remove_blobs(struct cli *cli, struct db *db, const char *keys, long *failed)
{
	struct blob_store *blobs;
	char *copy, *save = NULL;
	long n = 0;

	if (!*keys || !(blobs = cli_blobs(cli))) {
		*failed += *keys ? 1 : 0;
		return 0;
	}
	copy = xstrdup(keys);
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		const char *params[1] = { k };
		struct errbuf e;
		PGresult *used = db_exec(db, &blob_used_stmt, params, &e);
		bool keep = !used || PQntuples(used) > 0;

		PQclear(used);
		if (keep)
			continue;
		if (blob_remove(blobs, k, &e) < 0) {
			fprintf(stderr, "ringlog: blob %s: %s\n", k, e.msg);
			(*failed)++;
		} else {
			n++;
		}
	}
	free(copy);
	return n;
}

/* Expires KIND of one source before CUTOFF; adds to *ROWS and *BLOBS. */
static int expire(struct cli *cli, struct db *db, const char *id, const char *kind,
		  const char *cutoff, bool dry_run, long long *rows, long *blobs, long *failed)
{
	char limit[16];
	const char *params[5] = { kind, id, cutoff, limit, dry_run ? "true" : "false" };
	long long removed;

	snprintf(limit, sizeof(limit), "%d", MAINTAIN_BATCH);
	do {
		struct errbuf e;
		PGresult *res = db_exec(db, &expire_stmt, params, &e);

		if (!res)
			return cli_fail("expiring %s: %s", kind, e.msg);
		removed = atoll(PQgetvalue(res, 0, 0));
		*rows += removed;
		/* Autocommit: the rows are gone for good before their blobs go. */
		if (!dry_run)
			*blobs += remove_blobs(cli, db, PQgetvalue(res, 0, 1), failed);
		PQclear(res);
	} while (!dry_run && removed == MAINTAIN_BATCH);
	return 0;
}

/* Partitions ahead, then the months every source has let expire. */
static int months(struct cli *cli, bool dry_run)
{
	const char *params[2] = { cli->keep[0], dry_run ? "true" : "false" };
	PGresult *res;

	if (!dry_run) {
		if (!(res = cli_query(cli, partitions_sql, 0, NULL)))
			return -1;
		for (int i = 0; i < PQntuples(res); i++)
			printf("made partition %s\n", PQgetvalue(res, i, 0));
		PQclear(res);
	}
	if (!(res = cli_query(cli, months_sql, 2, params)))
		return -1;
	for (int i = 0; i < PQntuples(res); i++)
		printf("%s the calls of %s (about %s): every source lets them expire\n",
		       dry_run ? "would drop" : "dropped", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return 0;
}

int cmd_maintain(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "ringlog maintain [--dry-run]";
	const char *params[3] = { cli->keep[0], cli->keep[1], cli->keep[2] };
	long long total[NKINDS] = { 0 };
	long blobs = 0, failed = 0;
	bool dry_run = false;
	PGresult *res = NULL;
	struct db *db;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'n')
			dry_run = true;
		else if (c == 'h') {
			printf("usage: %s\n\nRemoves calls, recordings and dead letters older than their "
			       "source keeps them\n(ringlog source update S --keep-calls 400d "
			       "--keep-recordings 90d --keep-dead-letters 30d;\ndefaults: [maintain] "
			       "keep_* in the config). --dry-run says what would go.\n", usage);
			return 0;
		} else
			return cli_usage(usage);
	}
	if (optind != argc)
		return cli_usage(usage);
	if (!(db = cli_db(cli)) || months(cli, dry_run) < 0 ||
	    !(res = cli_query(cli, sources_sql, 3, params)))
		goto out;
	for (int s = 0; s < PQntuples(res); s++) {
		for (int k = 0; k < NKINDS; k++) {
			long long rows = 0;

			if (PQgetisnull(res, s, 2 + k))
				continue;
			if (expire(cli, db, PQgetvalue(res, s, 0), kinds[k], PQgetvalue(res, s, 2 + k), dry_run,
				   &rows, &blobs, &failed))
				goto out;
			total[k] += rows;
			if (rows)
				printf("%s: %s %lld %s started or received before %s\n", PQgetvalue(res, s, 1),
				       dry_run ? "would remove" : "removed", rows, kinds[k],
				       PQgetvalue(res, s, 2 + k));
		}
	}
	/* What referred to the calls of dropped months. */
	if (!dry_run && expire(cli, db, NULL, "orphans", "now", false, &total[0], &blobs, &failed))
		goto out;
	printf("%s %lld calls, %lld recordings, %lld dead letters; %ld blobs deleted%s\n",
	       dry_run ? "would remove" : "removed", total[0], total[1], total[2], blobs,
	       dry_run ? " (dry run: nothing changed)" : "");
	/* For node_exporter's textfile collector, or a journal reader. */
	if (!dry_run)
		printf("ringlog_maintain_removed{kind=\"calls\"} %lld\n"
		       "ringlog_maintain_removed{kind=\"recordings\"} %lld\n"
		       "ringlog_maintain_removed{kind=\"dead_letters\"} %lld\n"
		       "ringlog_maintain_blobs_deleted %ld\nringlog_maintain_blob_errors %ld\n",
		       total[0], total[1], total[2], blobs, failed);
	rc = failed ? 1 : 0;
out:
	PQclear(res);
	return rc;
}
