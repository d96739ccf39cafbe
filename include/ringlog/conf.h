/* Configuration as one table per program: each key names its section, type
 * and place in the program's config struct. Values come from the defaults,
 * then the file (key = value, via libinih), then RINGLOG_<SECTION>_<KEY> in
 * the environment, then flags; the struct is read-only afterwards. */
#ifndef RINGLOG_CONF_H
#define RINGLOG_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "ringlog/compiler.h"
#include "ringlog/log.h"

enum conf_type {
	CONF_STRING, /* char *, owned by the struct; NULL when unset */
	CONF_INT,    /* long long, within [min, max] */
	CONF_BYTES,  /* long long, with an optional k/M/G suffix (powers of 1024) */
	CONF_BOOL,   /* bool: yes/no, true/false, on/off, 1/0 */
};

struct conf_key {
	const char *section;
	const char *name;
	enum conf_type type;
	size_t offset;   /* offsetof(program config, field) */
	const char *def; /* default, as it would be written in the file; NULL = unset */
	long long min, max;
	bool secret;     /* never printed */
	const char *help;
};

/* What the command line asked of the program itself. */
struct conf_cli {
	const char *config_path; /* --config FILE, else $RINGLOG_CONFIG, else NULL */
	bool check_config;       /* --check-config */
	bool help;               /* --help */
	bool version;            /* --version */
};

/* Fills CFG from KEYS in the order above. Flags are --KEY for keys of
 * OWN_SECTION and --SECTION-KEY for the others ('_' may be written '-').
 * DEFAULT_PATH is read when no --config/$RINGLOG_CONFIG names a file and it
 * exists. One file serves every ringlog program: a section in which KEYS has
 * no key is skipped; an unknown key in a section of KEYS is an error.
 * Returns 0, or -1 with E filled. */
int conf_load(const struct conf_key *keys, size_t nkeys, const char *own_section,
	      const char *default_path, void *cfg, int argc, char **argv,
	      struct conf_cli *cli, struct errbuf *e) RL_MUST_CHECK;
/* Frees the strings CONF_STRING keys hold in CFG. */
void conf_release(const struct conf_key *keys, size_t nkeys, void *cfg);
/* The key SECTION.NAME of KEYS, or NULL. */
const struct conf_key *conf_find(const struct conf_key *keys, size_t nkeys, const char *section,
				 const char *name);
/* The string K holds in CFG (borrowed; NULL when unset or not a string). */
const char *conf_string(const struct conf_key *k, const void *cfg);
/* True when K has the same value in the config structs A and B. */
bool conf_same(const struct conf_key *k, const void *a, const void *b);
/* Prints every key and its value (secrets masked) on stdout. */
void conf_print(const struct conf_key *keys, size_t nkeys, const void *cfg);
/* Prints the flags and their help on stdout. */
void conf_usage(const char *program, const char *summary, const struct conf_key *keys,
		size_t nkeys, const char *own_section);

#endif
