/* ringlog hold add|remove|list: legal holds on calls and leads (a held call,
 * or a held lead and its calls, is skipped by retention and by erasure),
 * and ringlog audit list: who played, downloaded or exported what. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char hold_usage[] =
	"ringlog hold add call ID|lead ID --reason TEXT [--by NAME]\n"
	"       ringlog hold remove call ID|lead ID\n"
	"       ringlog hold list";

static const char *target_column(const char *kind)
{
	if (strcmp(kind, "call") == 0)
		return "call";
	if (strcmp(kind, "lead") == 0)
		return "lead";
	return NULL;
}

static int hold_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "by", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL, *by = NULL, *kind;
	struct passwd *pw;
	PGresult *res;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			reason = optarg;
		else if (c == 'b')
			by = optarg;
		else
			return cli_usage(hold_usage);
	}
	if (argc - optind != 2 || !(kind = target_column(argv[optind])) || !cli_is_number(argv[optind + 1]))
		return cli_usage(hold_usage);
	if (!reason || !*reason || strlen(reason) > 1000)
		return cli_fail("--reason says why (1 to 1000 characters): it is shown by erase and hold list");
	if (!by)
		by = (pw = getpwuid(getuid())) ? pw->pw_name : "unknown";
	{
		const char *params[] = { argv[optind + 1], reason, by };

		res = cli_query(cli, strcmp(kind, "call") == 0
			? "INSERT INTO holds (call_id, reason, held_by)"
			  " SELECT k.call_id, $2, $3 FROM call_keys k WHERE k.call_id = $1::bigint"
			  " ON CONFLICT (call_id) DO UPDATE SET reason = EXCLUDED.reason RETURNING id"
			: "INSERT INTO holds (lead_id, reason, held_by)"
			  " SELECT l.id, $2, $3 FROM leads l WHERE l.id = $1::bigint"
			  " ON CONFLICT (lead_id) DO UPDATE SET reason = EXCLUDED.reason RETURNING id",
			3, params);
	}
	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no %s %s", kind, argv[optind + 1]);
	}
	printf("hold %s: %s %s is kept past retention and erasure\n", PQgetvalue(res, 0, 0), kind,
	       argv[optind + 1]);
	PQclear(res);
	return 0;
}

static int hold_remove(struct cli *cli, int argc, char **argv)
{
	const char *kind;
	PGresult *res;
	long n;

	if (argc != 3 || !(kind = target_column(argv[1])) || !cli_is_number(argv[2]))
		return cli_usage(hold_usage);
	{
		const char *params[] = { argv[2] };

		res = cli_query(cli, strcmp(kind, "call") == 0
			? "DELETE FROM holds WHERE call_id = $1::bigint"
			: "DELETE FROM holds WHERE lead_id = $1::bigint", 1, params);
	}
	if (!res)
		return 1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	if (n == 0)
		return cli_fail("%s %s is not on hold", kind, argv[2]);
	printf("%s %s is no longer on hold\n", kind, argv[2]);
	return 0;
}

static int hold_list(struct cli *cli)
{
	PGresult *res = cli_query(cli,
		"SELECT h.id, CASE WHEN h.call_id IS NOT NULL THEN 'call' ELSE 'lead' END,"
		" coalesce(h.call_id, h.lead_id), h.held_by,"
		" to_char(h.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), h.reason"
		" FROM holds h ORDER BY h.id", 0, NULL);

	if (!res)
		return 1;
	printf("%-6s %-5s %-10s %-16s %-17s %s\n", "ID", "KIND", "TARGET", "BY", "SINCE (UTC)", "REASON");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-6s %-5s %-10s %-16s %-17s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5));
	PQclear(res);
	return 0;
}

int cmd_hold(struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return hold_add(cli, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return hold_remove(cli, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		return hold_list(cli);
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: %s\n\nA held call, or a held lead and its calls, is kept by `ringlog maintain`\n"
		       "and by `ringlog erase` whatever their age or number.\n", hold_usage);
		return 0;
	}
	return cli_usage(hold_usage);
}

/* ---- audit ---------------------------------------------------------------------------- */

static const char audit_sql[] =
	"SELECT a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), a.actor, a.auth,"
	" a.action, coalesce(a.call_id::text, '-'), coalesce(a.recording_id::text, '-'),"
	" coalesce(a.source_name, '-'), coalesce(a.row_count::text, '-'), coalesce(a.filters::text, '')"
	" FROM audit_log a"
	" WHERE ($1::bigint IS NULL OR a.call_id = $1::bigint) AND ($2::text IS NULL OR a.actor = $2)"
	"   AND ($3::text IS NULL OR a.at >= CASE WHEN $3 ~ '^[0-9]{1,6}[dh]$'"
	"        THEN now() - ringlog_retention($3) ELSE ringlog_query_bound($3, 'UTC', false) END)"
	" ORDER BY a.at DESC, a.id DESC LIMIT $4::integer";

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "call", required_argument, NULL, 'c' }, { "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 's' }, { "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "ringlog audit list [--call ID] [--user U] [--since TIME] [--limit N]";
	const char *call = NULL, *user = NULL, *since = NULL, *limit = "100";
	PGresult *res;
	int c;

	if (argc < 2 || strcmp(argv[1], "list") != 0)
		return cli_usage(usage);
	argc--;
	argv++;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': call = optarg; break;
		case 'u': user = optarg; break;
		case 's': since = optarg; break;
		case 'l': limit = optarg; break;
		default: return cli_usage(usage);
		}
	}
	if (optind != argc || (call && !cli_is_number(call)) || !cli_is_number(limit) || atoll(limit) < 1 ||
	    atoll(limit) > 100000)
		return cli_usage(usage);
	{
		const char *params[] = { call, user, since, limit };

		if (!(res = cli_query(cli, audit_sql, 4, params)))
			return 1;
	}
	printf("%-8s %-20s %-20s %-10s %-8s %-8s %-9s %-12s %-7s %s\n", "ID", "AT (UTC)", "USER", "AUTH",
	       "ACTION", "CALL", "RECORDING", "SOURCE", "ROWS", "FILTERS");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-8s %-20s %-20s %-10s %-8s %-8s %-9s %-12s %-7s %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
		       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
		       PQgetvalue(res, i, 7), PQgetvalue(res, i, 8), PQgetvalue(res, i, 9));
	PQclear(res);
	return 0;
}
