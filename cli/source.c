/* ringlog source add|update|list|show|remove: the PBX accounts. */
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/profile.h"
#include "source_settings.h"

static const char usage[] =
	"ringlog source add NAME [OPTIONS]     a new PBX account\n"
	"       ringlog source update NAME [OPTIONS]  change some of its settings\n"
	"       ringlog source list\n"
	"       ringlog source show NAME\n"
	"       ringlog source remove NAME [--force]  (--force also deletes its calls)";

static int check_name(const char *name)
{
	regex_t re;
	int ok;

	regcomp(&re, "^[a-z0-9][a-z0-9_-]{0,62}$", REG_EXTENDED | REG_NOSUB);
	ok = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return ok ? 0 : cli_fail("source name \"%s\" must be 1-63 of a-z 0-9 _ - (it goes in URLs)", name);
}

static int check_zone(struct cli *cli, const char *zone)
{
	const char *params[] = { zone };
	PGresult *res;
	int found;

	if (!zone)
		return 0;
	res = cli_query(cli, "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1, params);
	if (!res)
		return 1;
	found = PQntuples(res);
	PQclear(res);
	return found ? 0 : cli_fail("\"%s\" is not an IANA time zone PostgreSQL knows (e.g. Asia/Jerusalem)", zone);
}

/* A new source: its name, auth and secret first (a CHECK ties them), then
 * the other settings, all in one transaction. */
static const char insert_sql[] =
	"INSERT INTO sources (name, auth_mode, secret_sha256) VALUES ($1, $2, decode($3, 'hex'))";

static int create(struct cli *cli, const struct source_settings *s, const char *name)
{
	const char *secret = source_settings_get(s, "secret-file");
	const char *auth = source_settings_get(s, "auth");
	const char *params[] = { name, auth ? auth : "any",
				 secret ? secret : source_settings_get(s, "generate-secret") };
	PGresult *res;

	if (!source_settings_has_auth(s))
		return cli_fail("a source needs --secret-file FILE or --generate-secret (or --auth none)");
	res = cli_query(cli, insert_sql, 3, params);
	if (!res)
		return 1;
	PQclear(res);
	return 0;
}

static int exists(struct cli *cli, const char *name)
{
	const char *params[] = { name };
	PGresult *res = cli_query(cli, "SELECT 1 FROM sources WHERE name = $1", 1, params);
	int n;

	if (!res)
		return 1;
	n = PQntuples(res);
	PQclear(res);
	return n ? 0 : cli_fail("no source is called \"%s\"", name);
}

/* The source as it now stands must have a profile: a built-in vendor, or a
 * mapping that compiles (over it). */
static int check_profile(struct cli *cli, const char *name)
{
	const char *params[] = { name };
	PGresult *res = cli_query(cli, "SELECT vendor, mapping::text FROM sources WHERE name = $1",
				  1, params);
	json_object *mapping = NULL;
	struct profile *owned = NULL;
	struct errbuf e;
	int rc = 0;

	if (!res)
		return 1;
	if (!PQgetisnull(res, 0, 1))
		mapping = json_tokener_parse(PQgetvalue(res, 0, 1));
	if (!profile_for_source(PQgetvalue(res, 0, 0), mapping, &owned, &e))
		rc = cli_fail("the mapping does not fit: %s", e.msg);
	profile_free(owned);
	json_object_put(mapping);
	PQclear(res);
	return rc;
}

static int run(struct cli *cli, const char *sql)
{
	PGresult *res = cli_query(cli, sql, 0, NULL);

	if (!res)
		return 1;
	PQclear(res);
	return 0;
}

static int add_or_update(struct cli *cli, int argc, char **argv, bool add)
{
	struct source_settings s = { 0 };
	const char *name;
	int rc = source_settings_parse(argc, argv, &s, usage);

	if (rc)
		goto out;
	rc = 2;
	if (optind + 1 != argc) {
		cli_usage(usage);
		goto out;
	}
	name = argv[optind];
	rc = 1;
	if (check_name(name) || !cli_db(cli) || check_zone(cli, source_settings_get(&s, "time-zone")) ||
	    run(cli, "BEGIN"))
		goto out;
	if ((add ? create(cli, &s, name) : exists(cli, name)) || source_settings_apply(cli, &s, name) ||
	    check_profile(cli, name) || run(cli, "COMMIT")) {
		PQclear(PQexec(db_conn(cli->db), "ROLLBACK"));
		goto out;
	}
	printf("source %s %s\n", name, add ? "added" : "updated");
	if (s.generated_secret)
		printf("secret: %s\n(shown once: give it to the PBX; only its hash is kept)\n",
		       s.generated_secret);
	rc = 0;
out:
	source_settings_release(&s);
	return rc < 0 ? 0 : rc;
}

static int list(struct cli *cli)
{
	PGresult *res = cli_query(cli,
		"SELECT s.name, s.vendor, s.auth_mode, s.time_zone, s.country_code,"
		" (SELECT count(*) FROM calls c WHERE c.source_id = s.id)"
		" FROM sources s ORDER BY s.name", 0, NULL);

	if (!res)
		return 1;
	printf("%-24s %-10s %-7s %-22s %-4s %s\n", "NAME", "VENDOR", "AUTH", "TIME ZONE", "CC", "CALLS");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-24s %-10s %-7s %-22s %-4s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5));
	PQclear(res);
	return 0;
}

static int show(struct cli *cli, const char *name)
{
	const char *params[] = { name };
	PGresult *res = cli_query(cli,
		"SELECT name, vendor, auth_mode, coalesce(auth_user, '(any)'),"
		" CASE WHEN secret_sha256 IS NULL THEN 'not set' ELSE 'set' END,"
		" time_zone, country_code, coalesce(region, ''), trunk_prefix, international_prefix,"
		" coalesce(mapping::text, ''), create_leads, coalesce(default_responsible, ''),"
		" coalesce(crm_url_template, ''), coalesce(crm_new_url_template, ''),"
		" coalesce(fetch_url_template, ''), fetch_auth,"
		" coalesce(fetch_user, ''), CASE WHEN fetch_secret IS NULL THEN 'not set' ELSE 'set' END,"
		" coalesce(fetch_header, ''), array_to_string(fetch_allow_hosts, ' '),"
		" CASE WHEN fetch_plain_http THEN 'yes' ELSE 'no' END,"
		" coalesce(dead_letters_max::text, '(the daemon''s dead_letters_max)'),"
		" click2call_style, coalesce(click2call_url, ''), coalesce(click2call_user, ''),"
		" CASE WHEN click2call_secret IS NULL THEN 'not set' ELSE 'set' END, created_at,"
		" coalesce('every ' || reconcile_every::text || ', window ' || reconcile_window::text, 'off'),"
		" coalesce(pull_url, '(the vendor''s)'),"
		" CASE WHEN pull_secret IS NULL THEN 'not set' ELSE 'set' END,"
		" coalesce(r.last_ok_at::text, 'never'), coalesce(r.filled, 0),"
		" coalesce(r.seen, 0), coalesce(r.errors::text, '{}') ||"
		"  coalesce(' (last: ' || r.last_error || ')', '')"
		" FROM sources LEFT JOIN reconcile_state r ON r.source_id = sources.id"
		" WHERE name = $1", 1, params);
	static const char *const labels[] = {
		"name", "vendor", "auth", "auth user", "secret", "time zone", "country code",
		"region", "trunk prefix", "international prefix", "mapping", "create leads",
		"default responsible", "crm url template", "crm new url template",
		"fetch url template", "fetch auth",
		"fetch user", "fetch secret", "fetch header", "fetch allow hosts",
		"fetch plain http", "dead letters max", "click2call style", "click2call url", "click2call user",
		"click2call secret", "created",
		"reconcile", "pull url", "pull secret", "last good pull", "filled by pulls",
		"pulled records", "pull errors",
	};

	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no source is called \"%s\"", name);
	}
	for (int c = 0; c < PQnfields(res); c++)
		printf("%-21s %s\n", labels[c], PQgetvalue(res, 0, c));
	PQclear(res);
	return 0;
}

static int remove_source(struct cli *cli, const char *name, bool force)
{
	const char *params[] = { name };
	PGresult *res;
	long long calls;

	res = cli_query(cli, "SELECT count(c.id) FROM sources s LEFT JOIN calls c ON c.source_id = s.id"
			     " WHERE s.name = $1 GROUP BY s.id", 1, params);
	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no source is called \"%s\"", name);
	}
	calls = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (calls && !force)
		return cli_fail("source \"%s\" has %lld calls; add --force to delete them with it", name, calls);
	/* One transaction: the calls and their source go together or not at all. */
	if (!(res = cli_query(cli, "BEGIN", 0, NULL)))
		return 1;
	PQclear(res);
	if (!(res = cli_query(cli, "DELETE FROM calls WHERE source_id ="
				   " (SELECT id FROM sources WHERE name = $1)", 1, params)))
		return 1;
	PQclear(res);
	if (!(res = cli_query(cli, "DELETE FROM sources WHERE name = $1", 1, params)))
		return 1;
	PQclear(res);
	if (!(res = cli_query(cli, "COMMIT", 0, NULL)))
		return 1;
	PQclear(res);
	printf("source %s removed (%lld calls deleted)\n", name, calls);
	return 0;
}

int cmd_source(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0 || strcmp(sub, "update") == 0)
		return add_or_update(cli, argc - 1, argv + 1, sub[0] == 'a');
	if (strcmp(sub, "list") == 0 && argc == 2)
		return list(cli);
	if (strcmp(sub, "show") == 0 && argc == 3)
		return show(cli, argv[2]);
	if (strcmp(sub, "remove") == 0 && (argc == 3 || (argc == 4 && strcmp(argv[3], "--force") == 0)))
		return remove_source(cli, argv[2], argc == 4);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n\n", usage);
		source_settings_usage();
		return 0;
	}
	return cli_usage(usage);
}
