/* ringlog dead-letters: what list/show and replay share. */
#ifndef RINGLOG_CLI_DEAD_LETTERS_H
#define RINGLOG_CLI_DEAD_LETTERS_H

#include "cli.h"

/* Dead letter ID with its body, in binary (columns: id, source_name, reason,
 * message, field, method, content_type, query, body, request_id,
 * received_at, received µs, status, replayed_at, replay_call_id). Returns the
 * result (caller PQclears) or NULL after printing why. */
PGresult *dead_letter_load(struct cli *cli, const char *id);
/* A big-endian int8 of a binary result. */
long long dead_letter_be64(const char *p);

/* ringlog dead-letters replay ID: one, again, through the whole pipeline. */
int dead_letters_replay_one(struct cli *cli, const char *id);
/* ringlog dead-letters replay --all | --source S | --reason R | --since T
 * [--dry-run]: ARGV[0] is "replay". Returns the exit status. */
int dead_letters_replay_bulk(struct cli *cli, int argc, char **argv, const char *usage);

#endif
