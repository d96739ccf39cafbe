/* The settings of a source as `ringlog source add|update` takes them: one
 * table row per option, each with the one statement that applies it. Adding
 * a setting is adding a row. */
#ifndef RINGLOG_CLI_SOURCE_SETTINGS_H
#define RINGLOG_CLI_SOURCE_SETTINGS_H

#include <stdbool.h>

#include "cli.h"

/* The values given on a command line, in table order (NULL: not given). */
struct source_settings {
	char **values;
	char *generated_secret; /* --generate-secret: to print once */
};

/* Parses ARGV (options first, then the source name at argv[optind]).
 * Returns 0; -1 when --help was printed; or an exit status after printing. */
int source_settings_parse(int argc, char **argv, struct source_settings *s, const char *usage);
void source_settings_release(struct source_settings *s);
/* True when the push secret or --auth none was given (a new source needs one). */
bool source_settings_has_auth(const struct source_settings *s);
/* The value of option NAME ("time-zone"), or NULL. */
const char *source_settings_get(const struct source_settings *s, const char *name);
/* Applies every given setting to source NAME, one statement each, inside
 * the caller's transaction. Returns 0, or 1 after printing the error. */
int source_settings_apply(struct cli *cli, const struct source_settings *s, const char *name);
/* Prints the options and their help. */
void source_settings_usage(void);

#endif
