#include "ringlog/daemon.h"

#include <signal.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

int daemon_log_level(const char *name)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "debug", LOG_DEBUG },	    { "info", LOG_INFO }, { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR },	  { "error", LOG_ERR },
	};

	for (size_t i = 0; i < RL_ARRAY_LEN(levels); i++)
		if (strcmp(name, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

void daemon_block_signals(void)
{
	sigset_t set;

	stop_signals(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void daemon_ready(const char *listen, const struct http_server *srv, const char *details)
{
	const char *colon = strrchr(listen, ':');
	int hostlen = colon ? (int)(colon - listen) : (int)strlen(listen);

	log_msg(LOG_NOTICE, "listening on %.*s:%u%s%s", hostlen, listen, http_server_port(srv),
		details ? " " : "", details ? details : "");
	sd_notify(0, "READY=1");
}

void daemon_wait(const struct daemon_hooks *h)
{
	uint64_t watchdog_us = 0;
	int next_ms = 1000;
	sigset_t set;

	stop_signals(&set);
	if (sd_watchdog_enabled(0, &watchdog_us) <= 0)
		watchdog_us = 0;
	for (;;) {
		struct timespec wait = { next_ms / 1000, (long)(next_ms % 1000) * 1000000L };
		int sig = sigtimedwait(&set, NULL, &wait);

		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP && h->reload)
			h->reload(h->ctx);
		next_ms = h->tick ? h->tick(h->ctx) : 1000;
		if (next_ms <= 0 || next_ms > 1000)
			next_ms = 1000;
		if (watchdog_us)
			sd_notify(0, "WATCHDOG=1");
	}
	sd_notify(0, "STOPPING=1");
}
