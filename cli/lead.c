/* ringlog lead add|list|import: seeding the leads calls are linked to and
 * screen pops show (a CRM may also write its own leads into the table). */
#include "lead.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ringlog/lead.h"
#include "ringlog/xalloc.h"

static const char usage[] =
	"ringlog lead add PHONE [--name N] [--company C] [--crm-id ID] [--crm-url URL]\n"
	"                          [--responsible USER] [PLAN]\n"
	"       ringlog lead list [--phone PHONE] [--all] [--limit N] [PLAN]\n"
	"       ringlog lead import FILE.csv [--delimiter C] [--dry-run] [--skip-invalid] [PLAN]\n"
	"       ringlog lead duplicates [--limit N]   numbers with more than one open lead\n"
	"PLAN is how national numbers are read: --source NAME (that source's country code\n"
	"and prefixes), or --region RR (HU, IL, US: libphonenumber's rules for it), or\n"
	"--country-code CC [--trunk-prefix P] [--international-prefix P].\n"
	"Without one, numbers must be international (+972…, 00972…).";

bool lead_plan_option(struct lead_plan *p, int c, const char *arg)
{
	switch (c) {
	case 1000: p->source = arg; return true;
	case 1001: p->country_code = arg; return true;
	case 1002: p->trunk_prefix = arg; return true;
	case 1003: p->international_prefix = arg; return true;
	case 1004: p->region = arg; return true;
	default: return false;
	}
}

int lead_plan_resolve(struct cli *cli, struct lead_plan *p)
{
	const char *params[] = { p->source };
	PGresult *res;

	p->plan = (struct phone_plan){ p->country_code ? p->country_code : "",
				       p->trunk_prefix ? p->trunk_prefix : (p->country_code ? "0" : ""),
				       p->international_prefix ? p->international_prefix : "00",
				       p->region ? p->region : "" };
	if (!p->source)
		return 0;
	if (p->country_code || p->trunk_prefix || p->international_prefix || p->region)
		return cli_fail("give --source or the plan's prefixes, not both");
	res = cli_query(cli, "SELECT country_code, trunk_prefix, international_prefix, coalesce(region, '')"
			     " FROM sources WHERE name = $1", 1, params);
	if (!res)
		return 1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cli_fail("no source is called \"%s\"", p->source);
	}
	for (int i = 0; i < 4; i++)
		p->owned[i] = xstrdup(PQgetvalue(res, 0, i));
	p->plan = (struct phone_plan){ p->owned[0], p->owned[1], p->owned[2], p->owned[3] };
	PQclear(res);
	return 0;
}

void lead_plan_release(struct lead_plan *p)
{
	for (int i = 0; i < 4; i++)
		free(p->owned[i]);
}

int lead_phone(const struct lead_plan *p, const char *raw, char out[PHONE_E164_LEN],
	       struct errbuf *e)
{
	char region[3];

	if (p->region && !phone_region_is_known(p->region))
		return err_set(e, "--region %.8s: not a region libphonenumber knows (HU, IL, US, ...)", p->region);
	if (phone_normalize(raw, &p->plan, out) == 0)
		return 0;
	return err_set(e, "\"%.64s\" is not a public phone number%s", raw,
		       *phone_plan_region(&p->plan, region) ? "" :
		       " in international form (or give --source, --region or --country-code)");
}

/* lead_phone(), printing why not. */
static int phone_or_fail(const struct lead_plan *p, const char *raw, char out[PHONE_E164_LEN])
{
	struct errbuf e;

	if (lead_phone(p, raw, out, &e) == 0)
		return 0;
	cli_fail("%s", e.msg);
	return -1;
}

/* V[1..5]: name, company, crm_id, crm_url, responsible, checked as the API
 * checks them (lead.h). */
static int fields_or_fail(const char *const v[6])
{
	static const char *const names[6] = { NULL, "name", "company", "crm_id", "crm_url", "responsible" };
	struct errbuf e;

	for (int i = 1; i < 6; i++) {
		if (v[i] && lead_check_field(names[i], v[i], &e) < 0) {
			cli_fail("%s", e.msg);
			return -1;
		}
	}
	return 0;
}

/* The lead rules' one home (sql/functions/ringlog_upsert_leads.sql): the
 * number's lock, finding the lead by CRM id or number, the back-fill of its
 * earlier calls. A flag not given is a key left out: the field stays. */
static const char add_sql[] =
	"SELECT u.lead_id, u.outcome, u.linked_calls FROM ringlog_upsert_leads(jsonb_build_array("
	"jsonb_strip_nulls(jsonb_build_object('phone', $1::text, 'name', $2::text,"
	" 'company', $3::text, 'crm_id', $4::text, 'crm_url', $5::text, 'responsible', $6::text)))) u";

static int add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },	{ "company", required_argument, NULL, 'c' },
		{ "crm-id", required_argument, NULL, 'i' },	{ "crm-url", required_argument, NULL, 'u' },
		{ "responsible", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
		LEAD_PLAN_OPTIONS,				{ NULL, 0, NULL, 0 },
	};
	const char *v[6] = { NULL };
	struct lead_plan plan = { 0 };
	char e164[PHONE_E164_LEN];
	PGresult *res = NULL;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': v[1] = optarg; break;
		case 'c': v[2] = optarg; break;
		case 'i': v[3] = optarg; break;
		case 'u': v[4] = optarg; break;
		case 'r': v[5] = optarg; break;
		case 'h': printf("usage: %s\n", usage); return 0;
		default:
			if (!lead_plan_option(&plan, c, optarg))
				return cli_usage(usage);
		}
	}
	if (optind + 1 != argc)
		return cli_usage(usage);
	if (lead_plan_resolve(cli, &plan) || phone_or_fail(&plan, argv[optind], e164) < 0 ||
	    fields_or_fail(v) < 0)
		goto out;
	v[0] = e164;
	res = cli_query(cli, add_sql, 6, v);
	if (!res)
		goto out;
	printf("lead %s %s: +%s; %s earlier calls linked\n", PQgetvalue(res, 0, 0),
	       strcmp(PQgetvalue(res, 0, 1), "created") == 0 ? "added" : PQgetvalue(res, 0, 1), e164,
	       PQgetvalue(res, 0, 2));
	rc = 0;
out:
	PQclear(res);
	lead_plan_release(&plan);
	return rc;
}

static int list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "phone", required_argument, NULL, 'p' }, { "all", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		LEAD_PLAN_OPTIONS,			   { NULL, 0, NULL, 0 },
	};
	struct lead_plan plan = { 0 };
	const char *phone = NULL;
	char e164[PHONE_E164_LEN];
	const char *params[] = { NULL, "false", "100" };
	PGresult *res = NULL;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'p')
			phone = optarg;
		else if (c == 'a')
			params[1] = "true";
		else if (c == 'l')
			params[2] = optarg;
		else if (c == 'h') {
			printf("usage: %s\n", usage);
			return 0;
		} else if (!lead_plan_option(&plan, c, optarg))
			return cli_usage(usage);
	}
	if (optind != argc || !cli_is_number(params[2]))
		return cli_usage(usage);
	if (lead_plan_resolve(cli, &plan) || (phone && phone_or_fail(&plan, phone, e164) < 0))
		goto out;
	params[0] = phone ? e164 : NULL;
	res = cli_query(cli,
		"SELECT id, '+' || phone, name, company, coalesce(responsible, ''), status, origin,"
		"       coalesce(crm_id, '')"
		"  FROM leads WHERE ($1::text IS NULL OR phone = $1) AND ($2::boolean OR status = 'open')"
		" ORDER BY id LIMIT $3::bigint", 3, params);
	if (!res)
		goto out;
	printf("%-8s %-16s %-24s %-20s %-16s %-6s %-7s %s\n", "ID", "PHONE", "NAME", "COMPANY",
	       "RESPONSIBLE", "STATUS", "ORIGIN", "CRM ID");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-8s %-16s %-24s %-20s %-16s %-6s %-7s %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), cli_safe(PQgetvalue(res, i, 2)),
		       cli_safe(PQgetvalue(res, i, 3)), cli_safe(PQgetvalue(res, i, 4)),
		       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), cli_safe(PQgetvalue(res, i, 7)));
	rc = 0;
out:
	PQclear(res);
	lead_plan_release(&plan);
	return rc;
}

int cmd_lead(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "add") == 0)
		return add(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return list(cli, argc - 1, argv + 1);
	if (strcmp(sub, "import") == 0)
		return lead_import(cli, argc - 1, argv + 1);
	if (strcmp(sub, "duplicates") == 0)
		return lead_duplicates(cli, argc - 1, argv + 1);
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		printf("usage: %s\n", usage);
		return 0;
	}
	return cli_usage(usage);
}
