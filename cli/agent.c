/* ringlog agent add|list|remove: which CRM user is behind an extension or
 * SIP account of a source. The lead rules make that user responsible for
 * the new callers they answer; screen pop routing rings them first. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
	"ringlog agent add SOURCE EXTENSION CRM_USER [--name NAME]\n"
	"       ringlog agent list [SOURCE]\n"
	"       ringlog agent remove SOURCE EXTENSION";

static const char add_sql[] =
	"INSERT INTO agents (source_id, extension, crm_user, name)"
	" SELECT s.id, $2, $3, nullif($4, '') FROM sources s WHERE s.name = $1"
	" ON CONFLICT (source_id, extension) DO UPDATE"
	"   SET crm_user = EXCLUDED.crm_user, name = coalesce(EXCLUDED.name, agents.name)"
	" RETURNING (xmax = 0)";

static int upsert(struct cli *cli, const char *source, const char *extension, const char *user,
		  const char *name)
{
	const char *params[] = { source, extension, user, name };
	PGresult *res;

	if (!*extension || strlen(extension) > 128 || !*user || strlen(user) > 256)
		return cli_fail("the extension (1-128 bytes) and the CRM user (1-256 bytes) must be given");
	res = cli_query(cli, add_sql, 4, params);
	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no source is called \"%s\"", source);
	}
	printf("agent %s of %s -> %s %s\n", extension, source, user,
	       PQgetvalue(res, 0, 0)[0] == 't' ? "added" : "updated");
	PQclear(res);
	return 0;
}

static int add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = NULL;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		if (c == 'n') {
			name = optarg;
		} else if (c == 'h') {
			printf("usage: %s\n", usage);
			return 0;
		} else {
			return cli_usage(usage);
		}
	}
	if (optind + 3 != argc)
		return cli_usage(usage);
	return upsert(cli, argv[optind], argv[optind + 1], argv[optind + 2], name);
}

static int list(struct cli *cli, const char *source)
{
	const char *params[] = { source };
	PGresult *res = cli_query(cli,
		"SELECT s.name, a.extension, a.crm_user, coalesce(a.name, '')"
		"  FROM agents a JOIN sources s ON s.id = a.source_id"
		" WHERE $1::text IS NULL OR s.name = $1"
		" ORDER BY s.name, a.extension", 1, params);

	if (!res)
		return 1;
	printf("%-20s %-16s %-28s %s\n", "SOURCE", "EXTENSION", "CRM USER", "NAME");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-20s %-16s %-28s %s\n", PQgetvalue(res, i, 0), cli_safe(PQgetvalue(res, i, 1)),
		       cli_safe(PQgetvalue(res, i, 2)), cli_safe(PQgetvalue(res, i, 3)));
	PQclear(res);
	return 0;
}

static int remove_agent(struct cli *cli, const char *source, const char *extension)
{
	const char *params[] = { source, extension };
	PGresult *res = cli_query(cli,
		"DELETE FROM agents a USING sources s"
		" WHERE s.id = a.source_id AND s.name = $1 AND a.extension = $2", 2, params);
	bool gone;

	if (!res)
		return 1;
	gone = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!gone)
		return cli_fail("source \"%s\" has no agent \"%s\"", source, extension);
	printf("agent %s of %s removed\n", extension, source);
	return 0;
}

int cmd_agent(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0)
		return add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0 && argc <= 3)
		return list(cli, argc == 3 ? argv[2] : NULL);
	if (strcmp(sub, "remove") == 0 && argc == 4)
		return remove_agent(cli, argv[2], argv[3]);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
