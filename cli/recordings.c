/* ringlog recordings list|show|retry|gc: what became of the calls'
 * recordings, starting failed fetches over, and removing blobs no row
 * refers to any more. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ringlog/blob.h"
#include "ringlog/buf.h"

static const char usage[] =
	"ringlog recordings list [--state remote|stored|failed] [--source NAME] [--limit N]\n"
	"       ringlog recordings show ID\n"
	"       ringlog recordings retry ID... | --failed [--source NAME]\n"
	"                     fetch again now (after fixing credentials, a template, the allow list)\n"
	"       ringlog recordings gc [--dry-run] [--min-age HOURS]\n"
	"                     remove blobs no recording refers to (older than 24 hours by default)\n"
	"       ringlog recordings move --to s3 [--limit N] [--keep] [--quiet]\n"
	"                     move the blobs of blob_dir into the bucket (resumable, with progress)";

static int list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "source", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[3] = { NULL, NULL, "50" };
	PGresult *res;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			params[0] = optarg;
		else if (c == 'o')
			params[1] = optarg;
		else if (c == 'l' && cli_is_number(optarg))
			params[2] = optarg;
		else
			return cli_usage(usage);
	}
	if (!cli_db(cli))
		return 1;
	res = cli_query(cli,
		"SELECT r.id, s.name, c.pbx_call_id, r.state, coalesce(r.size_bytes::text, '-'),"
		" r.attempts, coalesce(r.last_error_code, '')"
		" FROM recordings r JOIN calls c ON c.id = r.call_id JOIN sources s ON s.id = c.source_id"
		" WHERE ($1::text IS NULL OR r.state = $1) AND ($2::text IS NULL OR s.name = $2)"
		" ORDER BY r.id DESC LIMIT $3::integer", 3, params);
	if (!res)
		return 1;
	printf("%-8s %-16s %-24s %-7s %-10s %-8s %s\n", "ID", "SOURCE", "CALL", "STATE", "BYTES",
	       "ATTEMPTS", "LAST ERROR");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-8s %-16.16s %-24.24s %-7s %-10s %-8s %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), cli_safe(PQgetvalue(res, i, 2)), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), cli_safe(PQgetvalue(res, i, 6)));
	PQclear(res);
	return 0;
}

static int show(struct cli *cli, const char *id)
{
	static const char *const labels[] = {
		"id", "call", "source", "position", "state", "remote ref", "remote url", "blob",
		"bytes", "type", "attempts", "last error", "last attempt", "next attempt",
		"fetching", "stored",
	};
	const char *params[] = { id };
	PGresult *res;

	if (!cli_is_number(id))
		return cli_usage(usage);
	if (!cli_db(cli))
		return 1;
	res = cli_query(cli,
		"SELECT r.id, c.pbx_call_id, s.name, r.position, r.state, coalesce(r.remote_ref, ''),"
		" coalesce(r.remote_url, ''), coalesce(r.blob_key, ''), coalesce(r.size_bytes::text, ''),"
		" coalesce(r.mime_type, ''), r.attempts,"
		" coalesce(r.last_error_code || ': ' || r.last_error, ''),"
		" coalesce(r.last_attempt_at::text, ''), coalesce(r.next_attempt_at::text, ''),"
		" CASE WHEN r.lease_until > now() THEN r.lease_owner ELSE '' END,"
		" coalesce(r.stored_at::text, '')"
		" FROM recordings r JOIN calls c ON c.id = r.call_id JOIN sources s ON s.id = c.source_id"
		" WHERE r.id = $1::bigint", 1, params);
	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no recording %s", id);
	}
	for (int c = 0; c < PQnfields(res); c++)
		printf("%-13s %s\n", labels[c], cli_safe(PQgetvalue(res, 0, c)));
	PQclear(res);
	return 0;
}

/* IDS as a PostgreSQL array literal, or NULL when one is not a number. */
static char *id_array(int n, char **ids)
{
	struct buf out = BUF_INIT;

	buf_addch(&out, '{');
	for (int i = 0; i < n; i++) {
		if (!cli_is_number(ids[i])) {
			buf_release(&out);
			return NULL;
		}
		buf_addf(&out, "%s%s", i ? "," : "", ids[i]);
	}
	buf_addch(&out, '}');
	return buf_detach(&out, NULL);
}

static int retry(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "failed", no_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[3] = { NULL, NULL, NULL };
	char *ids = NULL;
	PGresult *res;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			params[0] = "true";
		else if (c == 'o')
			params[1] = optarg;
		else
			return cli_usage(usage);
	}
	if ((optind < argc) == (params[0] != NULL))
		return cli_usage(usage);
	if (optind < argc && !(params[2] = ids = id_array(argc - optind, argv + optind)))
		return cli_usage(usage);
	if (!cli_db(cli))
		goto out;
	res = cli_query(cli,
		"UPDATE recordings r SET state = 'remote', attempts = 0, next_attempt_at = NULL,"
		" last_error = NULL, last_error_code = NULL"
		" FROM calls c JOIN sources s ON s.id = c.source_id"
		" WHERE c.id = r.call_id AND r.state <> 'stored'"
		"   AND ($1::boolean IS NULL OR r.state = 'failed' OR r.next_attempt_at > now())"
		"   AND ($2::text IS NULL OR s.name = $2) AND ($3::bigint[] IS NULL OR r.id = ANY ($3))",
		3, params);
	if (!res)
		goto out;
	printf("%s recording%s will be fetched again\n", PQcmdTuples(res),
	       strcmp(PQcmdTuples(res), "1") == 0 ? "" : "s");
	PQclear(res);
	rc = 0;
out:
	free(ids);
	return rc;
}

/* ---- gc ------------------------------------------------------------------------ */

struct gc {
	struct cli *cli;
	struct blob_store *blobs;
	time_t before;
	bool dry_run;
	long long seen, removed, bytes, failed;
};

static int gc_one(void *ctx, const struct blob_info *info)
{
	struct gc *g = ctx;
	const char *params[] = { info->key };
	struct errbuf e;
	PGresult *res;
	bool used;

	g->seen++;
	if (info->mtime > g->before) /* perhaps a push still on its way to its row */
		return 0;
	res = cli_query(g->cli, "SELECT EXISTS (SELECT 1 FROM recordings WHERE blob_key = $1)", 1, params);
	if (!res)
		return -1;
	used = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (used)
		return 0;
	if (!g->dry_run && blob_remove(g->blobs, info->key, &e) < 0) {
		fprintf(stderr, "ringlog: %s\n", e.msg);
		g->failed++;
		return 0;
	}
	g->removed++;
	g->bytes += (long long)info->size;
	return 0;
}

static int gc(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "min-age", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct gc g = { .cli = cli };
	long long hours = 24;
	struct errbuf e;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			g.dry_run = true;
		else if (c == 'a' && cli_is_number(optarg))
			hours = atoll(optarg);
		else
			return cli_usage(usage);
	}
	if (optind != argc || !cli_db(cli) || !(g.blobs = cli_blobs(cli)))
		return optind != argc ? cli_usage(usage) : 1;
	g.before = time(NULL) - hours * 3600;
	if (blob_each(g.blobs, gc_one, &g, &e) < 0)
		return cli_fail("gc stopped: %s", e.msg);
	printf("%lld blobs, %lld unreferenced %s (%lld bytes)%s\n", g.seen, g.removed,
	       g.dry_run ? "would be removed" : "removed", g.bytes,
	       g.failed ? ", some could not be removed" : "");
	return g.failed ? 1 : 0;
}

int cmd_recordings(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "list") == 0)
		return list(cli, argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return show(cli, argv[2]);
	if (strcmp(sub, "retry") == 0)
		return retry(cli, argc - 1, argv + 1);
	if (strcmp(sub, "gc") == 0)
		return gc(cli, argc - 1, argv + 1);
	if (strcmp(sub, "move") == 0)
		return cli_recordings_move(cli, argc - 1, argv + 1);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
