/* ringlog lead duplicates: numbers with more than one open lead. Calls link
 * to the oldest; the others are kept for a person to merge or close in the
 * CRM (a number read differently by an older ringlog, or two CRM contacts
 * of one phone). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "lead.h"

static const char usage[] = "ringlog lead duplicates [--limit N]";

int lead_duplicates(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[] = { "100" };
	char shown[PHONE_DISPLAY_LEN];
	PGresult *res;
	int c, groups = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'l')
			params[0] = optarg;
		else if (c == 'h') {
			printf("usage: %s\n", usage);
			return 0;
		} else
			return cli_usage(usage);
	}
	if (optind != argc || !cli_is_number(params[0]))
		return cli_usage(usage);
	res = cli_query(cli,
		"WITH d AS (SELECT phone FROM leads WHERE status = 'open' GROUP BY phone"
		"           HAVING count(*) > 1 ORDER BY phone LIMIT $1::bigint)"
		" SELECT l.phone, l.id, l.name, l.company, coalesce(l.crm_id, ''), l.origin,"
		"        (SELECT count(*) FROM calls c WHERE c.lead_id = l.id)"
		"   FROM leads l JOIN d ON d.phone = l.phone WHERE l.status = 'open'"
		"  ORDER BY l.phone, l.id", 1, params);
	if (!res)
		return 1;
	printf("%-20s %-8s %-24s %-20s %-12s %-7s %s\n", "PHONE", "LEAD", "NAME", "COMPANY", "CRM ID",
	       "ORIGIN", "CALLS");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *phone = PQgetvalue(res, i, 0);
		bool first = i == 0 || strcmp(phone, PQgetvalue(res, i - 1, 0)) != 0;

		if (first) {
			groups++;
			if (phone_format(phone, PHONE_STYLE_INTERNATIONAL, NULL, shown, sizeof(shown)) < 0)
				snprintf(shown, sizeof(shown), "+%s", phone);
		}
		printf("%-20s %-8s %-24s %-20s %-12s %-7s %s\n", first ? shown : "", PQgetvalue(res, i, 1),
		       PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5), PQgetvalue(res, i, 6));
	}
	PQclear(res);
	printf("%d number%s with more than one open lead (calls link to the oldest)\n", groups,
	       groups == 1 ? "" : "s");
	return 0;
}
