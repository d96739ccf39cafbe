#include "ringlog/daemon.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "ringlog/paths.h"
#include "ringlog/xalloc.h"

int daemon_load_config(const char *program, const struct conf_key *keys, size_t nkeys,
		       const char *section, void *cfg, int argc, char **argv, struct conf_cli *cli)
{
	const char *level;
	struct errbuf e;

	if (conf_load(keys, nkeys, section, paths_config_file(), cfg, argc, argv, cli, &e) < 0) {
		fprintf(stderr, "%s: %s\n", program, e.msg);
		return -1;
	}
	level = conf_string(conf_find(keys, nkeys, section, "log_level"), cfg);
	if (level && daemon_log_level(level) < 0) {
		fprintf(stderr, "%s: log_level \"%s\" is not one of debug, info, notice, warning, err\n",
			program, level);
		return -1;
	}
	return 0;
}

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

	struct buf tls = BUF_INIT;

	if (http_server_describe_tls(srv, &tls))
		log_msg(LOG_NOTICE, "https: %s", buf_str(&tls));
	buf_release(&tls);
	log_msg(LOG_NOTICE, "listening on %.*s:%u%s%s", hostlen, listen, http_server_port(srv),
		details ? " " : "", details ? details : "");
	sd_notify(0, "READY=1");
}

static bool applied_at_reload(const struct conf_key *k, const char *own)
{
	return strcmp(k->section, own) == 0 &&
	       (strcmp(k->name, "log_level") == 0 || strcmp(k->name, "tls_cert") == 0 ||
		strcmp(k->name, "tls_key") == 0);
}

static void reload_tls(const struct daemon_config *dc, const void *fresh)
{
	const char *own = dc->own_section;
	const char *cert = conf_string(conf_find(dc->keys, dc->nkeys, own, "tls_cert"), fresh);
	const char *key = conf_string(conf_find(dc->keys, dc->nkeys, own, "tls_key"), fresh);
	struct buf what = BUF_INIT;
	struct errbuf e;

	if (http_server_reload_tls(dc->srv, cert, key, &e) < 0)
		log_msg(LOG_ERR, "https: certificate not reloaded, the previous one stays: %s", e.msg);
	else if (http_server_describe_tls(dc->srv, &what))
		log_msg(LOG_NOTICE, "https: reloaded: %s", buf_str(&what));
	buf_release(&what);
}

void daemon_reload_config(const struct daemon_config *dc)
{
	void *fresh = xcalloc(1, dc->size);
	const char *level;
	struct conf_cli cli;
	struct errbuf e;

	if (conf_load(dc->keys, dc->nkeys, dc->own_section, dc->default_path, fresh, dc->argc,
		      dc->argv, &cli, &e) < 0) {
		log_msg(LOG_ERR, "configuration not reloaded: %s", e.msg);
		goto out;
	}
	level = conf_string(conf_find(dc->keys, dc->nkeys, dc->own_section, "log_level"), fresh);
	if (level && daemon_log_level(level) < 0) {
		log_msg(LOG_ERR, "configuration not reloaded: log_level \"%s\" is not one of debug, "
			"info, notice, warning, err", level);
		goto out;
	}
	if (level)
		log_set_level(daemon_log_level(level));
	reload_tls(dc, fresh);
	for (size_t i = 0; i < dc->nkeys; i++)
		if (!applied_at_reload(&dc->keys[i], dc->own_section) &&
		    !conf_same(&dc->keys[i], dc->cfg, fresh))
			log_msg(LOG_WARNING, "configuration: %s.%s changed; it takes effect at the "
				"next restart", dc->keys[i].section, dc->keys[i].name);
out:
	conf_release(dc->keys, dc->nkeys, fresh);
	free(fresh);
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
		if (sig == SIGHUP && h->reload) {
			sd_notify(0, "RELOADING=1");
			h->reload(h->ctx);
			sd_notify(0, "READY=1");
		}
		next_ms = h->tick ? h->tick(h->ctx) : 1000;
		if (next_ms <= 0 || next_ms > 1000)
			next_ms = 1000;
		if (watchdog_us)
			sd_notify(0, "WATCHDOG=1");
	}
	sd_notify(0, "STOPPING=1");
}
