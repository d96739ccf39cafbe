/* ringlog lead: what add, list and import share: the phone plan numbers are
 * read in, and the one upsert a lead import is made of. */
#ifndef RINGLOG_CLI_LEAD_H
#define RINGLOG_CLI_LEAD_H

#include "cli.h"
#include "ringlog/phone.h"

/* Where the plan comes from: a source (--source) or the flags. */
struct lead_plan {
	const char *source;
	const char *country_code, *trunk_prefix, *international_prefix, *region;
	struct phone_plan plan; /* resolved; strings owned when from a source */
	char *owned[4];
};

/* The options every lead subcommand takes for its plan (getopt_long codes
 * 1000..1004); returns true when C was one of them. */
bool lead_plan_option(struct lead_plan *p, int c, const char *arg);
#define LEAD_PLAN_OPTIONS                                               \
	{ "source", required_argument, NULL, 1000 },                    \
	{ "country-code", required_argument, NULL, 1001 },              \
	{ "trunk-prefix", required_argument, NULL, 1002 },              \
	{ "international-prefix", required_argument, NULL, 1003 },      \
	{ "region", required_argument, NULL, 1004 }
/* Fills P->plan (reading the source's settings). Returns 0, or 1 after
 * printing why. */
int lead_plan_resolve(struct cli *cli, struct lead_plan *p);
void lead_plan_release(struct lead_plan *p);
/* The E.164 digits of RAW in P's plan, or -1 with E saying why. */
int lead_phone(const struct lead_plan *p, const char *raw, char out[PHONE_E164_LEN],
	       struct errbuf *e);

int lead_import(struct cli *cli, int argc, char **argv);
/* ringlog lead duplicates: numbers with more than one open lead. */
int lead_duplicates(struct cli *cli, int argc, char **argv);

#endif
