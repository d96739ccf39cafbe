/* The `ringlog` admin command: shared plumbing of its subcommands. */
#ifndef RINGLOG_CLI_H
#define RINGLOG_CLI_H

#include <stdbool.h>

#include "ringlog/compiler.h"
#include "ringlog/blob.h"
#include "ringlog/db.h"

struct cli {
	const char *database_url;
	struct db *db;
	const char *blob_dir;      /* [recordings] blob_dir */
	long long recording_max;   /* [recordings] max_size */
	const struct blob_config *blobcfg; /* [recordings] store, s3_*, store_format */
	struct blob_store *blobs;  /* opened by cli_blobs() */
	const char *keep[3];       /* [maintain] keep_calls, keep_recordings, keep_dead_letters */
	const char *keep_audit;    /* [maintain] keep_audit */
};

/* ringlog recordings move (recordings_move.c). */
int cli_recordings_move(struct cli *cli, int argc, char **argv);

/* A subcommand: argv[0] is its own name. Returns the exit status. */
typedef int (*cli_command_fn)(struct cli *cli, int argc, char **argv);

int cmd_migrate(struct cli *cli, int argc, char **argv);
int cmd_source(struct cli *cli, int argc, char **argv);
int cmd_token(struct cli *cli, int argc, char **argv);
int cmd_dead_letters(struct cli *cli, int argc, char **argv);
int cmd_agent(struct cli *cli, int argc, char **argv);
int cmd_lead(struct cli *cli, int argc, char **argv);
int cmd_recordings(struct cli *cli, int argc, char **argv);
int cmd_phones(struct cli *cli, int argc, char **argv);
int cmd_maintain(struct cli *cli, int argc, char **argv);
int cmd_webhook(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
int cmd_hold(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_reconcile(struct cli *cli, int argc, char **argv);

/* Connects and checks the schema is current. Returns the connection, or NULL
 * after printing why. */
struct db *cli_db(struct cli *cli);
/* The blob store of recordings, opened on first use; NULL after printing why. */
struct blob_store *cli_blobs(struct cli *cli);
/* Prints "ringlog: <message>" on stderr; returns the exit status 1. */
int cli_fail(const char *fmt, ...) RL_PRINTF(1, 2);
/* TEXT (from the database: what a PBX or a CRM sent) fit for a terminal:
 * control characters and bytes that are not UTF-8 escaped (\x1b). The
 * result is borrowed until CLI_SAFE_SLOTS more calls: enough for one line. */
#define CLI_SAFE_SLOTS 16
const char *cli_safe(const char *text);
/* Exit status 2 with a usage line. */
int cli_usage(const char *usage);
/* Reads a secret from PATH ("-" is stdin), without its trailing newline.
 * Returns a new string, or NULL after printing why. */
char *cli_read_secret(const char *path);
/* Runs a one-off statement with text parameters; returns the result (caller
 * PQclears) or NULL after printing the error. */
PGresult *cli_query(struct cli *cli, const char *sql, int nparams, const char *const *params);
/* True when TEXT is a whole decimal number that fits in a long long. */
bool cli_is_number(const char *text);

#endif
