/* ringlog source add|update|list|show|remove: the PBX accounts. */
#include <getopt.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/auth.h"
#include "ringlog/buf.h"
#include "ringlog/profile.h"
#include "ringlog/xalloc.h"

static const char usage[] =
	"ringlog source add NAME [OPTIONS]     a new PBX account\n"
	"       ringlog source update NAME [OPTIONS]  change some of its settings\n"
	"       ringlog source list\n"
	"       ringlog source show NAME\n"
	"       ringlog source remove NAME [--force]  (--force also deletes its calls)";

static const char options_help[] =
	"options (add and update):\n"
	"  --vendor V              generic, voicenter, ringostat, freeswitch, asterisk, custom\n"
	"  --auth MODE             any (default), basic, header, query, none\n"
	"  --user NAME             user name expected with HTTP Basic (default: any)\n"
	"  --secret-file FILE      read the push secret from FILE (- for stdin)\n"
	"  --generate-secret       make a random secret and print it once\n"
	"  --time-zone ZONE        IANA zone of naive times (default UTC)\n"
	"  --country-code CC       e.g. 972; numbers are normalised to E.164 with it\n"
	"  --trunk-prefix P        national trunk prefix (default 0; 06 in Hungary)\n"
	"  --international-prefix P  default 00\n"
	"  --mapping-file FILE     custom field mapping (JSON)\n"
	"  --leads / --no-leads    whether ringlog creates leads and tasks (default yes)\n"
	"  --default-responsible U CRM user for missed calls and unmapped agents\n"
	"  --crm-url-template T    lead card URL, {id} and {phone} replaced\n"
	"  --fetch-url-template T  recording URL, {ref} replaced (URL-escaped)\n"
	"  --fetch-auth MODE       none, basic, query, header\n"
	"  --fetch-user U          user for recording fetches\n"
	"  --fetch-secret-file F   password/key for recording fetches (- for stdin)\n"
	"  --fetch-header H        header name carrying the key (e.g. Auth-key)\n"
	"  --fetch-allow-host H    host a pushed recording URL may point to (repeat)\n"
	"Secrets are read from files or stdin, never from the command line.\n";

/* Parameters of the add and update statements, in order ($2 ...); NULL
 * leaves a setting as it is (update) or at its default (add); "" clears it. */
enum {
	P_NAME, P_VENDOR, P_AUTH, P_USER, P_SECRET, P_ZONE, P_CC, P_TRUNK, P_INTL, P_MAPPING,
	P_LEADS, P_RESPONSIBLE, P_CRM_URL, P_FETCH_URL, P_FETCH_AUTH, P_FETCH_USER,
	P_FETCH_SECRET, P_FETCH_HEADER, P_FETCH_HOSTS, P_COUNT
};

struct source_opts {
	char *p[P_COUNT];
	bool generated;
	struct buf hosts;
};

static const char add_sql[] =
	"INSERT INTO sources (name, vendor, auth_mode, auth_user, secret_sha256, time_zone,"
	" country_code, trunk_prefix, international_prefix, mapping, create_leads,"
	" default_responsible, crm_url_template, fetch_url_template, fetch_auth, fetch_user,"
	" fetch_secret, fetch_header, fetch_allow_hosts) VALUES ("
	" $1, coalesce($2, 'generic'), coalesce($3, 'any'), nullif($4, ''), decode($5, 'hex'),"
	" coalesce($6, 'UTC'), coalesce($7, ''), coalesce($8, '0'), coalesce($9, '00'),"
	" nullif($10, '')::jsonb, coalesce($11::boolean, true), nullif($12, ''), nullif($13, ''),"
	" nullif($14, ''), coalesce($15, 'none'), nullif($16, ''), nullif($17, ''),"
	" nullif($18, ''), coalesce(string_to_array(nullif($19, ''), ' '), '{}'))";

static const char update_sql[] =
	"UPDATE sources SET"
	" vendor = coalesce($2::text, vendor), auth_mode = coalesce($3::text, auth_mode),"
	" auth_user = CASE WHEN $4::text IS NULL THEN auth_user ELSE nullif($4::text, '') END,"
	" secret_sha256 = coalesce(decode($5::text, 'hex'), secret_sha256),"
	" time_zone = coalesce($6::text, time_zone), country_code = coalesce($7::text, country_code),"
	" trunk_prefix = coalesce($8::text, trunk_prefix),"
	" international_prefix = coalesce($9::text, international_prefix),"
	" mapping = CASE WHEN $10::text IS NULL THEN mapping ELSE nullif($10::text, '')::jsonb END,"
	" create_leads = coalesce($11::boolean, create_leads),"
	" default_responsible = CASE WHEN $12::text IS NULL THEN default_responsible ELSE nullif($12::text, '') END,"
	" crm_url_template = CASE WHEN $13::text IS NULL THEN crm_url_template ELSE nullif($13::text, '') END,"
	" fetch_url_template = CASE WHEN $14::text IS NULL THEN fetch_url_template ELSE nullif($14::text, '') END,"
	" fetch_auth = coalesce($15::text, fetch_auth),"
	" fetch_user = CASE WHEN $16::text IS NULL THEN fetch_user ELSE nullif($16::text, '') END,"
	" fetch_secret = CASE WHEN $17::text IS NULL THEN fetch_secret ELSE nullif($17::text, '') END,"
	" fetch_header = CASE WHEN $18::text IS NULL THEN fetch_header ELSE nullif($18::text, '') END,"
	" fetch_allow_hosts = CASE WHEN $19::text IS NULL THEN fetch_allow_hosts"
	"   ELSE coalesce(string_to_array(nullif($19::text, ''), ' '), '{}') END"
	" WHERE name = $1";

static void opts_release(struct source_opts *o)
{
	for (int i = 0; i < P_COUNT; i++)
		free(o->p[i]);
	buf_release(&o->hosts);
}

static void set_opt(struct source_opts *o, int which, const char *value)
{
	free(o->p[which]);
	o->p[which] = xstrdup(value);
}

static void hashed_secret(struct source_opts *o, const char *secret)
{
	unsigned char sum[AUTH_SHA256_LEN];
	char hex[2 * AUTH_SHA256_LEN + 1];

	auth_sha256(secret, strlen(secret), sum);
	auth_hex(sum, sizeof(sum), hex);
	set_opt(o, P_SECRET, hex);
}

static int read_mapping(struct source_opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	json_object *obj;

	if (!f)
		return cli_fail("cannot read %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	obj = json_tokener_parse(buf_str(&b));
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		buf_release(&b);
		return cli_fail("%s is not a JSON object", path);
	}
	json_object_put(obj);
	set_opt(o, P_MAPPING, buf_str(&b));
	buf_release(&b);
	return 0;
}

static const char *const vendors[] = { "generic", "voicenter", "ringostat", "freeswitch",
				       "asterisk", "custom", NULL };
static const char *const auth_modes[] = { "any", "basic", "header", "query", "none", NULL };
static const char *const fetch_modes[] = { "none", "basic", "query", "header", NULL };

static int one_of(const char *what, const char *value, const char *const *allowed)
{
	for (const char *const *a = allowed; *a; a++)
		if (strcmp(*a, value) == 0)
			return 0;
	return cli_fail("%s \"%s\" is not one of the known values (see --help)", what, value);
}

/* Parses the options shared by add and update into O. Returns 0, or the exit status. */
static int parse_opts(int argc, char **argv, struct source_opts *o, char **secret_out)
{
	static const struct option opts[] = {
		{ "vendor", required_argument, NULL, 'v' },
		{ "auth", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "secret-file", required_argument, NULL, 's' },
		{ "generate-secret", no_argument, NULL, 'g' },
		{ "time-zone", required_argument, NULL, 'z' },
		{ "country-code", required_argument, NULL, 'c' },
		{ "trunk-prefix", required_argument, NULL, 't' },
		{ "international-prefix", required_argument, NULL, 'i' },
		{ "mapping-file", required_argument, NULL, 'm' },
		{ "leads", no_argument, NULL, 'L' },
		{ "no-leads", no_argument, NULL, 'N' },
		{ "default-responsible", required_argument, NULL, 'r' },
		{ "crm-url-template", required_argument, NULL, 'C' },
		{ "fetch-url-template", required_argument, NULL, 'F' },
		{ "fetch-auth", required_argument, NULL, 'A' },
		{ "fetch-user", required_argument, NULL, 'U' },
		{ "fetch-secret-file", required_argument, NULL, 'S' },
		{ "fetch-header", required_argument, NULL, 'H' },
		{ "fetch-allow-host", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *s;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'v': if (one_of("vendor", optarg, vendors)) return 1; set_opt(o, P_VENDOR, optarg); break;
		case 'a': if (one_of("auth", optarg, auth_modes)) return 1; set_opt(o, P_AUTH, optarg); break;
		case 'u': set_opt(o, P_USER, optarg); break;
		case 's':
			if (!(s = cli_read_secret(optarg)))
				return 1;
			hashed_secret(o, s);
			free(s);
			break;
		case 'g':
			if (!(s = auth_new_token()))
				return cli_fail("no randomness available");
			hashed_secret(o, s);
			free(*secret_out);
			*secret_out = s;
			break;
		case 'z': set_opt(o, P_ZONE, optarg); break;
		case 'c': set_opt(o, P_CC, optarg); break;
		case 't': set_opt(o, P_TRUNK, optarg); break;
		case 'i': set_opt(o, P_INTL, optarg); break;
		case 'm': if (read_mapping(o, optarg)) return 1; break;
		case 'L': set_opt(o, P_LEADS, "true"); break;
		case 'N': set_opt(o, P_LEADS, "false"); break;
		case 'r': set_opt(o, P_RESPONSIBLE, optarg); break;
		case 'C': set_opt(o, P_CRM_URL, optarg); break;
		case 'F': set_opt(o, P_FETCH_URL, optarg); break;
		case 'A': if (one_of("fetch auth", optarg, fetch_modes)) return 1; set_opt(o, P_FETCH_AUTH, optarg); break;
		case 'U': set_opt(o, P_FETCH_USER, optarg); break;
		case 'S':
			if (!(s = cli_read_secret(optarg)))
				return 1;
			set_opt(o, P_FETCH_SECRET, s);
			free(s);
			break;
		case 'H': set_opt(o, P_FETCH_HEADER, optarg); break;
		case 'O':
			if (strchr(optarg, ' ') || !*optarg)
				return cli_fail("--fetch-allow-host takes one host name");
			buf_addf(&o->hosts, "%s%s", o->hosts.len ? " " : "", optarg);
			set_opt(o, P_FETCH_HOSTS, buf_str(&o->hosts));
			break;
		case 'h': printf("usage: %s\n\n%s", usage, options_help); return -1;
		default: return cli_usage(usage);
		}
	}
	return 0;
}

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

static int add_or_update(struct cli *cli, int argc, char **argv, bool add)
{
	struct source_opts o = { .hosts = BUF_INIT };
	char *secret = NULL;
	PGresult *res;
	int rc;

	rc = parse_opts(argc, argv, &o, &secret);
	if (rc)
		goto out;
	rc = 2;
	if (optind + 1 != argc) {
		cli_usage(usage);
		goto out;
	}
	set_opt(&o, P_NAME, argv[optind]);
	rc = 1;
	if (check_name(o.p[P_NAME]) || !cli_db(cli) || check_zone(cli, o.p[P_ZONE]))
		goto out;
	if (add && !o.p[P_SECRET] && !(o.p[P_AUTH] && strcmp(o.p[P_AUTH], "none") == 0)) {
		cli_fail("a source needs --secret-file FILE or --generate-secret (or --auth none)");
		goto out;
	}
	res = cli_query(cli, add ? add_sql : update_sql, P_COUNT, (const char *const *)o.p);
	if (!res)
		goto out;
	if (!add && strcmp(PQcmdTuples(res), "0") == 0) {
		PQclear(res);
		cli_fail("no source is called \"%s\"", o.p[P_NAME]);
		goto out;
	}
	PQclear(res);
	printf("source %s %s\n", o.p[P_NAME], add ? "added" : "updated");
	if (secret)
		printf("secret: %s\n(shown once: give it to the PBX; only its hash is kept)\n", secret);
	rc = 0;
out:
	free(secret);
	opts_release(&o);
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
		" time_zone, country_code, trunk_prefix, international_prefix,"
		" coalesce(mapping::text, ''), create_leads, coalesce(default_responsible, ''),"
		" coalesce(crm_url_template, ''), coalesce(fetch_url_template, ''), fetch_auth,"
		" coalesce(fetch_user, ''), CASE WHEN fetch_secret IS NULL THEN 'not set' ELSE 'set' END,"
		" coalesce(fetch_header, ''), array_to_string(fetch_allow_hosts, ' '), created_at"
		" FROM sources WHERE name = $1", 1, params);
	static const char *const labels[] = {
		"name", "vendor", "auth", "auth user", "secret", "time zone", "country code",
		"trunk prefix", "international prefix", "mapping", "create leads",
		"default responsible", "crm url template", "fetch url template", "fetch auth",
		"fetch user", "fetch secret", "fetch header", "fetch allow hosts", "created",
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
		printf("usage: %s\n\n%s", usage, options_help);
		return 0;
	}
	return cli_usage(usage);
}
