/* ringlog token add|list|revoke: bearer tokens of the CRM's backend. A new
 * token is printed once; only its SHA-256 is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/auth.h"

static const char usage[] =
	"ringlog token add NAME [--scope erase]   make a token (printed once); --scope erase:\n"
	"                             it may also erase a person (POST /v1/erase)\n"
	"       ringlog token list\n"
	"       ringlog token revoke ID|NAME";

static int add(struct cli *cli, const char *name, const char *scope)
{
	char *token = auth_new_token();
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];
	const char *params[] = { name, hex, scope };
	PGresult *res;

	if (!token)
		return cli_fail("no randomness available");
	if (strlen(name) == 0 || strlen(name) > 128) {
		free(token);
		return cli_fail("a token name has 1 to 128 characters");
	}
	auth_sha256(token, strlen(token), sum);
	auth_hex(sum, sizeof(sum), hex);
	res = cli_query(cli, "INSERT INTO api_tokens (name, token_sha256, scopes)"
			     " VALUES ($1, decode($2, 'hex'), CASE WHEN $3::text IS NULL THEN '{}'"
			     " ELSE ARRAY[$3::text] END) RETURNING id", 3, params);
	if (!res) {
		free(token);
		return 1;
	}
	printf("token %s (id %s):\n%s\n(shown once: only its hash is kept)\n", name,
	       PQgetvalue(res, 0, 0), token);
	PQclear(res);
	free(token);
	return 0;
}

static int list(struct cli *cli)
{
	PGresult *res = cli_query(cli,
		"SELECT id, name, to_char(created_at, 'YYYY-MM-DD HH24:MI'),"
		" coalesce(to_char(last_used_at, 'YYYY-MM-DD HH24:MI'), 'never'),"
		" CASE WHEN revoked_at IS NULL THEN 'active' ELSE 'revoked' END"
		" || CASE WHEN scopes <> '{}' THEN ' (' || array_to_string(scopes, ',') || ')' ELSE '' END"
		" FROM api_tokens ORDER BY id", 0, NULL);

	if (!res)
		return 1;
	printf("%-6s %-28s %-17s %-17s %s\n", "ID", "NAME", "CREATED", "LAST USED", "STATE");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-6s %-28s %-17s %-17s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
	PQclear(res);
	return 0;
}

static int revoke(struct cli *cli, const char *which)
{
	const char *params[] = { which };
	PGresult *res = cli_query(cli,
		cli_is_number(which)
			? "UPDATE api_tokens SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL"
			: "UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
		1, params);
	long n;

	if (!res)
		return 1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	if (n == 0)
		return cli_fail("no active token %s", which);
	printf("revoked %ld token%s\n", n, n == 1 ? "" : "s");
	return 0;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0 && argc == 3)
		return add(cli, argv[2], NULL);
	if (strcmp(sub, "add") == 0 && argc == 5 && strcmp(argv[3], "--scope") == 0) {
		if (strcmp(argv[4], "erase") != 0)
			return cli_fail("unknown scope %s (known: erase)", argv[4]);
		return add(cli, argv[2], argv[4]);
	}
	if (strcmp(sub, "list") == 0 && argc == 2)
		return list(cli);
	if (strcmp(sub, "revoke") == 0 && argc == 3)
		return revoke(cli, argv[2]);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
