/* What both daemons' main() share: log levels, signals taken synchronously
 * by the main thread (no handlers: sigtimedwait), and the systemd
 * notifications (READY=1, STOPPING=1, WATCHDOG=1). */
#ifndef RINGLOG_DAEMON_H
#define RINGLOG_DAEMON_H

#include "ringlog/http.h"

struct daemon_hooks {
	void *ctx;
	/* Run between signals; returns the milliseconds until it wants to run
	 * again (it runs at least once a second). May be NULL. */
	int (*tick)(void *ctx);
	/* SIGHUP. May be NULL. */
	void (*reload)(void *ctx);
};

/* "debug" ... "err" to a syslog priority, or -1. */
int daemon_log_level(const char *name);
/* Blocks SIGTERM, SIGINT, SIGHUP and SIGPIPE in the calling thread and in
 * every thread it starts later: call first thing in main(). */
void daemon_block_signals(void);
/* Logs "listening on HOST:PORT" (what tests and operators read) and tells
 * systemd the daemon is ready. LISTEN is the configured address. */
void daemon_ready(const char *listen, const struct http_server *srv, const char *details);
/* Waits for SIGTERM or SIGINT, running the hooks meanwhile and pinging the
 * systemd watchdog when it is enabled; then tells systemd it is stopping. */
void daemon_wait(const struct daemon_hooks *hooks);

#endif
