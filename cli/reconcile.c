/* ringlog reconcile: pull a source's call log from its PBX and fill in the
 * calls whose pushes were lost (lib/reconcile.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ringlog/audio.h"
#include "ringlog/reconcile.h"
#include "ringlog/source.h"

static const char usage[] =
	"ringlog reconcile SOURCE --since TIME [--until TIME] [--dry-run] [--page-size N] [--pace MS]\n"
	"       ringlog reconcile --due   (every source whose --reconcile period has passed)";

/* TEXT (2025-06-01, 2025-06-01T10:00:00, with or without a zone: UTC when
 * none) as epoch seconds; -1 after printing why. */
static long long epoch(struct cli *cli, const char *text)
{
	const char *params[] = { text };
	PGresult *res = cli_query(cli,
		"SELECT floor(extract(epoch FROM CASE WHEN $1 ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$'"
		" THEN $1::timestamptz ELSE $1::timestamp AT TIME ZONE 'UTC' END))::bigint", 1, params);
	long long t;

	if (!res)
		return -1;
	t = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return t;
}

static void progress(void *ctx, int64_t done_until, const struct reconcile_counts *c)
{
	char when[32];
	time_t t = (time_t)done_until;
	struct tm tm;

	(void)ctx;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	fprintf(stderr, "\rread up to %s UTC: %lld seen, %lld already stored, %lld filled, %lld refused ",
		when, c->seen, c->already, c->filled, c->refused);
	fflush(stderr);
}

static int run_one(struct cli *cli, const struct source *src, long long from, long long to,
		   bool dry_run, long page_size, long pace_ms, bool quiet)
{
	struct push_options o = { cli_blobs(cli), (uint64_t)cli->recording_max, AUDIO_STORE_ORIGINAL,
				  PUSH_DEAD_LETTERS_MAX_DEFAULT };
	struct reconcile_run run = {
		.db = cli->db, .src = src, .push = &o, .from = from, .to = to, .dry_run = dry_run,
		.page_size = page_size, .pace_ms = pace_ms,
		.progress = !quiet && isatty(2) ? progress : NULL,
	};
	int rc;

	if (cli->blobcfg && audio_store_format_parse(cli->blobcfg->store_format, &o.store_format) < 0)
		o.store_format = AUDIO_STORE_ORIGINAL;
	rc = reconcile(&run);

	if (run.progress)
		fputc('\n', stderr);
	printf("%s%s: %lld seen, %lld already stored, %lld %s, %lld refused (%lld requests)\n",
	       dry_run ? "dry run: " : "", src->name, run.counts.seen, run.counts.already,
	       run.counts.filled, dry_run ? "would be filled" : "filled", run.counts.refused,
	       run.counts.requests);
	if (!dry_run && (rc == 0 || strcmp(run.error_kind, "busy") != 0) &&
	    reconcile_record(cli->db, &run) < 0)
		fprintf(stderr, "ringlog: the pull's outcome could not be recorded\n");
	if (rc < 0)
		return cli_fail("%s: %s (%s)", src->name, run.error, run.error_kind);
	return 0;
}

/* Every source whose period has passed since its last pull: the window it
 * is set to, up to now. For a timer (systemd/ringlog-reconcile.timer). */
static int due(struct cli *cli)
{
	PGresult *res = cli_query(cli,
		"SELECT s.name, floor(extract(epoch FROM now() - s.reconcile_window))::bigint,"
		" floor(extract(epoch FROM now()))::bigint"
		" FROM sources s LEFT JOIN reconcile_state r ON r.source_id = s.id"
		" WHERE s.reconcile_every IS NOT NULL"
		"   AND (r.last_run_at IS NULL OR r.last_run_at + s.reconcile_every <= now())"
		" ORDER BY s.name", 0, NULL);
	int rc = 0;

	if (!res)
		return 1;
	for (int i = 0; i < PQntuples(res); i++) {
		struct errbuf e;
		struct source_set *set = source_set_load_one(cli->db, PQgetvalue(res, i, 0), &e);
		const struct source *src = set ? source_set_find(set, PQgetvalue(res, i, 0)) : NULL;

		if (!src)
			rc = cli_fail("%s", set ? "source gone" : e.msg);
		else if (run_one(cli, src, atoll(PQgetvalue(res, i, 1)), atoll(PQgetvalue(res, i, 2)),
				 false, 0, -1, true) != 0)
			rc = 1;
		source_set_unref(set);
	}
	PQclear(res);
	return rc;
}

int cmd_reconcile(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' }, { "until", required_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },	   { "page-size", required_argument, NULL, 'p' },
		{ "pace", required_argument, NULL, 'P' },  { "due", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },	   { NULL, 0, NULL, 0 },
	};
	const char *since = NULL, *until = NULL;
	bool dry_run = false, run_due = false;
	long page_size = 0, pace = -1;
	struct source_set *set = NULL;
	const struct source *src;
	long long from, to;
	struct errbuf e;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': since = optarg; break;
		case 'u': until = optarg; break;
		case 'n': dry_run = true; break;
		case 'p': page_size = cli_is_number(optarg) ? atol(optarg) : -1; break;
		case 'P': pace = cli_is_number(optarg) ? atol(optarg) : -2; break;
		case 'd': run_due = true; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		default: return cli_usage(usage);
		}
	}
	if (page_size < 0 || pace < -1 || page_size > 100000)
		return cli_usage(usage);
	if (!cli_db(cli))
		return 1;
	if (run_due)
		return optind == argc ? due(cli) : cli_usage(usage);
	if (optind != argc - 1 || !since)
		return cli_usage(usage);
	from = epoch(cli, since);
	to = until ? epoch(cli, until) : (long long)time(NULL);
	if (from < 0 || to < 0)
		return 1;
	if (to <= from)
		return cli_fail("--until must be after --since");
	set = source_set_load_one(cli->db, argv[optind], &e);
	if (!set)
		return cli_fail("%s", e.msg);
	src = source_set_find(set, argv[optind]);
	if (!src)
		cli_fail("no source is called \"%s\"", argv[optind]);
	else
		rc = run_one(cli, src, from, to, dry_run, page_size, pace, false);
	source_set_unref(set);
	return rc;
}
