/* What both daemons' main() share: log levels, signals taken synchronously
 * by the main thread (no handlers: sigtimedwait), and the systemd
 * notifications (READY=1, STOPPING=1, WATCHDOG=1). */
#ifndef RINGLOG_DAEMON_H
#define RINGLOG_DAEMON_H

#include "ringlog/conf.h"
#include "ringlog/http.h"

struct daemon_hooks {
	void *ctx;
	/* Run between signals; returns the milliseconds until it wants to run
	 * again (it runs at least once a second). May be NULL. */
	int (*tick)(void *ctx);
	/* SIGHUP. May be NULL. */
	void (*reload)(void *ctx);
};

/* How a daemon reads its configuration, so a SIGHUP can read it again. */
struct daemon_config {
	const struct conf_key *keys;
	size_t nkeys;
	const char *own_section;  /* its keys' section: log_level, tls_cert, tls_key */
	const char *default_path; /* as given to conf_load */
	size_t size;              /* of the program's config struct */
	const void *cfg;          /* the one in use, read-only */
	int argc;
	char **argv;
	struct http_server *srv;
};

/* Loads PROGRAM's configuration (conf_load with SECTION as its own) and
 * checks its log_level. Returns 0, or -1 after printing why on stderr. */
int daemon_load_config(const char *program, const struct conf_key *keys, size_t nkeys,
		       const char *section, void *cfg, int argc, char **argv,
		       struct conf_cli *cli) RL_MUST_CHECK;
/* "debug" ... "err" to a syslog priority, or -1. */
int daemon_log_level(const char *name);
/* Blocks SIGTERM, SIGINT, SIGHUP and SIGPIPE in the calling thread and in
 * every thread it starts later: call first thing in main(). */
void daemon_block_signals(void);
/* Logs "listening on HOST:PORT" (what tests and operators read) and tells
 * systemd the daemon is ready. LISTEN is the configured address. */
void daemon_ready(const char *listen, const struct http_server *srv, const char *details);
/* Reads the configuration again (file, environment, flags; a SIGHUP) and
 * applies what can change while serving: log_level, and the TLS certificate
 * and key, read again even when their names did not change (renewed files).
 * Each other key that changed is logged as waiting for a restart. A file
 * that does not load changes nothing. Logs what it did. */
void daemon_reload_config(const struct daemon_config *dc);
/* Waits for SIGTERM or SIGINT, running the hooks meanwhile and pinging the
 * systemd watchdog when it is enabled; then tells systemd it is stopping.
 * Around the reload hook systemd hears RELOADING=1, then READY=1. */
void daemon_wait(const struct daemon_hooks *hooks);

#endif
