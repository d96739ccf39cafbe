/* ringlog: the admin command. main() finds the database and the subcommand. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ringlog/conf.h"
#include "ringlog/paths.h"

static const char usage[] =
	"usage: ringlog [--database URL] [--config FILE] COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  migrate                apply pending schema migrations\n"
	"  source add|update|list|show|remove\n"
	"                         PBX accounts that push calls\n"
	"  token add|list|revoke  bearer tokens of the CRM's backend\n"
	"  dead-letters list|show|replay\n"
	"                         pushes that could not be stored, and why\n"
	"  agent add|list|remove  extensions and SIP accounts -> CRM users\n"
	"  lead add|list|import   the leads calls are linked to (import: CSV)\n"
	"  recordings list|show|retry|gc|move\n"
	"                         calls' recordings: fetch state, retries, unused blobs, to S3\n"
	"  phones renormalize     read stored numbers again (libphonenumber), in batches\n"
	"  maintain [--dry-run]   remove what sources keep no longer (retention)\n"
	"  webhook add|list|show|remove|rotate-secret|resume|deliveries|replay\n"
	"                         signed events to the CRM (Standard Webhooks)\n"
	"  erase --phone +E164    erase a person (--source S, --dry-run)\n"
	"  hold add|remove|list   legal holds on calls and leads\n"
	"  audit list             who played, downloaded, exported\n"
	"  reconcile S|--due      pull the PBX's own call log, fill in lost pushes\n"
	"\n"
	"The database is --database, else $RINGLOG_DATABASE_URL, else [database] url\n"
	"in the config file (--config, $RINGLOG_CONFIG, /etc/ringlog/ringlog.conf),\n"
	"else libpq's PG* environment. `ringlog COMMAND --help` tells more.\n";

struct cli_config {
	char *database_url;
	char *blob_dir;
	long long recording_max;
	char *keep[3];
	struct blob_config blobcfg;
	char *keep_audit;
	char *privacy_key_file;
};

static const struct conf_key keys[] = {
	{ "database", "url", CONF_STRING, offsetof(struct cli_config, database_url), "", 0, 0, false,
	  "libpq connection string" },
	{ "recordings", "blob_dir", CONF_STRING, offsetof(struct cli_config, blob_dir),
	  "/var/lib/ringlog/recordings", 0, 0, false, "blob store of recordings" },
	{ "recordings", "max_size", CONF_BYTES, offsetof(struct cli_config, recording_max), "100M",
	  1024, 1LL << 40, false, "largest recording stored" },
	{ "maintain", "keep_calls", CONF_STRING, offsetof(struct cli_config, keep[0]), "", 0, 0, false,
	  "how long calls are kept unless their source says (400d; empty: for ever)" },
	{ "maintain", "keep_recordings", CONF_STRING, offsetof(struct cli_config, keep[1]), "", 0, 0,
	  false, "how long recordings are kept unless their source says" },
	{ "maintain", "keep_dead_letters", CONF_STRING, offsetof(struct cli_config, keep[2]), "", 0, 0,
	  false, "how long dead letters are kept unless their source says" },
	BLOB_CONF_KEYS(struct cli_config, blobcfg),
	{ "maintain", "keep_audit", CONF_STRING, offsetof(struct cli_config, keep_audit), "730d", 0, 0,
	  false, "how long the audit trail (plays, downloads, exports) is kept" },
	{ "privacy", "key_file", CONF_STRING, offsetof(struct cli_config, privacy_key_file),
	  "/etc/ringlog/privacy.key", 0, 0, false, "key of the hashes of erased calls and numbers" },
};

static const struct {
	const char *name;
	cli_command_fn fn;
} commands[] = {
	{ "migrate", cmd_migrate },
	{ "source", cmd_source },
	{ "sources", cmd_source },
	{ "token", cmd_token },
	{ "tokens", cmd_token },
	{ "dead-letters", cmd_dead_letters },
	{ "reconcile", cmd_reconcile },
	{ "dead-letter", cmd_dead_letters },
	{ "agent", cmd_agent },
	{ "agents", cmd_agent },
	{ "lead", cmd_lead },
	{ "leads", cmd_lead },
	{ "recordings", cmd_recordings },
	{ "recording", cmd_recordings },
	{ "phones", cmd_phones },
	{ "maintain", cmd_maintain },
	{ "webhook", cmd_webhook },
	{ "webhooks", cmd_webhook },
	{ "erase", cmd_erase },
	{ "hold", cmd_hold },
	{ "holds", cmd_hold },
	{ "audit", cmd_audit },
};

int main(int argc, char **argv)
{
	struct cli_config cfg = { 0 };
	const char *database = NULL, *config = NULL;
	char *conf_argv[] = { argv[0], NULL, NULL, NULL };
	struct conf_cli ccli;
	struct errbuf e;
	struct cli cli = { 0 };
	int i = 1, rc = 2;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if ((strcmp(argv[i], "--database") == 0 || strcmp(argv[i], "-d") == 0) && i + 1 < argc)
			database = argv[++i];
		else if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	if (i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (config) {
		conf_argv[1] = (char *)"--config";
		conf_argv[2] = (char *)config;
	}
	if (conf_load(keys, RL_ARRAY_LEN(keys), "cli", paths_config_file(), &cfg, config ? 3 : 1, conf_argv,
		      &ccli, &e) < 0) {
		fprintf(stderr, "ringlog: %s\n", e.msg);
		return 1;
	}
	cli.database_url = database ? database : cfg.database_url;
	cli.blob_dir = cfg.blob_dir;
	cli.blobcfg = &cfg.blobcfg;
	cli.recording_max = cfg.recording_max;
	for (int k = 0; k < 3; k++)
		cli.keep[k] = cfg.keep[k];
	cli.keep_audit = cfg.keep_audit;
	/* Only an erasure needs the key (and says so without it). */
	if (*cfg.privacy_key_file && db_use_privacy_key_file(cfg.privacy_key_file, &e) < 0 &&
	    strcmp(argv[i], "erase") == 0)
		fprintf(stderr, "ringlog: %s\n", e.msg);
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(argv[i], commands[k].name) == 0) {
			rc = commands[k].fn(&cli, argc - i, argv + i);
			goto out;
		}
	}
	fprintf(stderr, "ringlog: unknown command \"%s\"\n\n%s", argv[i], usage);
out:
	db_free(cli.db);
	blob_store_close(cli.blobs);
	conf_release(keys, RL_ARRAY_LEN(keys), &cfg);
	return rc;
}
