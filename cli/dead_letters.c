/* ringlog dead-letters list|show|replay: pushes that could not be stored,
 * byte for byte, and a way to run one again after a fix. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dead_letters.h"

static const char usage[] =
	"ringlog dead-letters list [--all] [--source NAME] [--limit N]\n"
	"       ringlog dead-letters show ID [--body]   (--body: the raw bytes only)\n"
	"       ringlog dead-letters replay ID | --all | [--source NAME] [--reason CODE] [--since TIME]\n"
	"                                   [--dry-run]";

static int list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "source", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[3] = { "new", NULL, "50" };
	PGresult *res;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a': params[0] = NULL; break;
		case 's': params[1] = optarg; break;
		case 'l':
			if (!cli_is_number(optarg) || atol(optarg) <= 0)
				return cli_fail("--limit takes a positive number");
			params[2] = optarg;
			break;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc)
		return cli_usage(usage);
	res = cli_query(cli,
		"SELECT id, to_char(received_at, 'YYYY-MM-DD HH24:MI:SS'), source_name, status, reason,"
		" octet_length(body), left(message, 70)"
		" FROM dead_letters WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR source_name = $2)"
		" ORDER BY id DESC LIMIT $3::int", 3, params);
	if (!res)
		return 1;
	printf("%-7s %-19s %-16s %-8s %-22s %7s  %s\n", "ID", "RECEIVED", "SOURCE", "STATUS",
	       "REASON", "BYTES", "MESSAGE");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-7s %-19s %-16s %-8s %-22s %7s  %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), cli_safe(PQgetvalue(res, i, 2)), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), cli_safe(PQgetvalue(res, i, 6)));
	PQclear(res);
	return 0;
}

static const char load_sql[] =
	"SELECT id, source_name, reason, message, coalesce(field, ''), method,"
	" content_type, query, body, coalesce(request_id, ''), received_at,"
	" (extract(epoch FROM received_at) * 1000000)::bigint, status,"
	" coalesce(replayed_at::text, ''), coalesce(replay_call_id::text, '')"
	" FROM dead_letters WHERE id = $1::bigint";

/* Loads dead letter ID with its body in binary. */
PGresult *dead_letter_load(struct cli *cli, const char *id)
{
	const char *params[] = { id };
	PGresult *res;

	if (!cli_is_number(id)) {
		cli_fail("a dead letter is named by its number");
		return NULL;
	}
	if (!cli_db(cli))
		return NULL;
	res = PQexecParams(db_conn(cli->db), load_sql, 1, NULL, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		cli_fail("%s", PQresultErrorMessage(res));
		PQclear(res);
		return NULL;
	}
	if (PQntuples(res) == 0) {
		cli_fail("no dead letter %s", id);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Binary results: text columns are plain bytes, numbers are big-endian. */
long long dead_letter_be64(const char *p)
{
	unsigned long long v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | (unsigned char)p[i];
	return (long long)v;
}

static int show(struct cli *cli, const char *id, bool body_only)
{
	PGresult *res = dead_letter_load(cli, id);

	if (!res)
		return 1;
	if (body_only) {
		fwrite(PQgetvalue(res, 0, 8), 1, (size_t)PQgetlength(res, 0, 8), stdout);
		PQclear(res);
		return 0;
	}
	printf("id            %lld\n", dead_letter_be64(PQgetvalue(res, 0, 0)));
	/* What a PBX sent may hold terminal escapes: printed escaped
	 * (--body gives the bytes as they came, for a file or a pipe). */
	printf("source        %s\n", cli_safe(PQgetvalue(res, 0, 1)));
	printf("reason        %s\n", PQgetvalue(res, 0, 2));
	printf("message       %s\n", cli_safe(PQgetvalue(res, 0, 3)));
	if (*PQgetvalue(res, 0, 4))
		printf("field         %s\n", cli_safe(PQgetvalue(res, 0, 4)));
	printf("request       %s %s%s%s\n", PQgetvalue(res, 0, 5),
	       PQgetisnull(res, 0, 6) ? "" : cli_safe(PQgetvalue(res, 0, 6)),
	       *PQgetvalue(res, 0, 7) ? " ?" : "", cli_safe(PQgetvalue(res, 0, 7)));
	printf("request id    %s\n", cli_safe(PQgetvalue(res, 0, 9)));
	printf("status        %s%s%s\n", PQgetvalue(res, 0, 12),
	       *PQgetvalue(res, 0, 13) ? " at " : "", PQgetvalue(res, 0, 13));
	printf("body          %d bytes (ringlog dead-letters show %s --body)\n",
	       PQgetlength(res, 0, 8), id);
	PQclear(res);
	return 0;
}

int cmd_dead_letters(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "list") == 0)
		return list(cli, argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return show(cli, argv[2], false);
	if (strcmp(sub, "show") == 0 && argc == 4 && strcmp(argv[3], "--body") == 0)
		return show(cli, argv[2], true);
	if (strcmp(sub, "replay") == 0 && argc == 3 && argv[2][0] != '-')
		return dead_letters_replay_one(cli, argv[2]);
	if (strcmp(sub, "replay") == 0)
		return dead_letters_replay_bulk(cli, argc - 1, argv + 1, usage);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
