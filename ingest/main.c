/* ringlog-ingestd: receives end-of-call pushes from PBXs. main() only wires
 * things together: config, signals, start, wait, shutdown. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "ingest.h"
#include "ringlog/db.h"

static const char summary[] =
	"Receives end-of-call pushes (JSON, form or query string) from cloud PBXs and\n"
	"stores them in PostgreSQL; spools them to disk while PostgreSQL is away.";

static int parse_level(const char *s)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
	};

	for (size_t i = 0; i < RL_ARRAY_LEN(levels); i++)
		if (strcmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static int load_config(struct ingest_config *cfg, int argc, char **argv, struct conf_cli *cli)
{
	struct errbuf e;

	if (conf_load(ingest_conf_keys, ingest_conf_nkeys, "ingest", "/etc/ringlog/ringlog.conf",
		      cfg, argc, argv, cli, &e) < 0) {
		fprintf(stderr, "ringlog-ingestd: %s\n", e.msg);
		return -1;
	}
	if (parse_level(cfg->log_level) < 0) {
		fprintf(stderr, "ringlog-ingestd: log_level \"%s\" is not one of debug, info, notice, warning, err\n",
			cfg->log_level);
		return -1;
	}
	return 0;
}

/* Connects, checks the schema and loads the sources: the daemon does not
 * start on a database it cannot serve. */
static int prepare_database(struct ingest *in, struct db *db)
{
	struct errbuf e;

	if (db_connect(db, &e) < 0 || db_check_schema(db, &e) < 0 ||
	    ingest_reload_sources(in, db, &e) < 0) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		return -1;
	}
	return 0;
}

static struct http_server *start_http(struct ingest *in, const struct ingest_config *cfg)
{
	struct http_options o = {
		.program = "ringlog-ingestd",
		.listen = cfg->listen,
		.threads = (int)cfg->threads,
		.max_body = cfg->max_body,
		.timeout_s = (int)cfg->timeout_s,
		.max_connections = (int)cfg->max_connections,
		.db_conninfo = cfg->database_url,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.routes = ingest_routes,
		.app = in,
	};
	struct errbuf e;
	struct http_server *srv = http_server_start(&o, &e);

	if (!srv)
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
	return srv;
}

/* Waits for signals; between them keeps sources fresh and drains the spool. */
static void serve(struct ingest *in, struct db *db, const struct ingest_config *cfg)
{
	sigset_t set;
	time_t next_refresh = time(NULL) + cfg->source_refresh_s;
	uint64_t watchdog_us = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sd_watchdog_enabled(0, &watchdog_us);
	for (;;) {
		bool draining = spool_depth(in->spool) > 0;
		struct timespec tick = { 0, draining ? 50000000L : 0 };
		struct errbuf e;
		int sig;

		if (!draining)
			tick.tv_sec = 1;
		sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			return;
		if (sig == SIGHUP || time(NULL) >= next_refresh) {
			if (ingest_reload_sources(in, db, &e) < 0 && sig == SIGHUP)
				log_msg(LOG_WARNING, "sources not reloaded: %s", e.msg);
			else if (sig == SIGHUP)
				log_msg(LOG_NOTICE, "reloaded %zu sources", source_cache_count(in->sources));
			next_refresh = time(NULL) + cfg->source_refresh_s;
		}
		if (draining)
			ingest_drain_spool(in, db);
		if (watchdog_us)
			sd_notify(0, "WATCHDOG=1");
	}
}

int main(int argc, char **argv)
{
	struct ingest_config cfg = { 0 };
	struct ingest in = { .cfg = &cfg };
	struct http_server *srv = NULL;
	struct conf_cli cli;
	struct errbuf e;
	struct db *db = NULL;
	sigset_t block;
	int rc = 1;

	if (load_config(&cfg, argc, argv, &cli) < 0)
		goto out;
	if (cli.help) {
		conf_usage("ringlog-ingestd", summary, ingest_conf_keys, ingest_conf_nkeys, "ingest");
		rc = 0;
		goto out;
	}
	if (cli.check_config) {
		conf_print(ingest_conf_keys, ingest_conf_nkeys, &cfg);
		rc = 0;
		goto out;
	}
	log_init("ringlog-ingestd", parse_level(cfg.log_level));
	/* Signals are taken by sigtimedwait() in the main thread only. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, NULL);

	in.sources = source_cache_new();
	in.spool = spool_open(cfg.spool_dir, cfg.spool_max, &e);
	if (!in.spool) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	db = db_new(cfg.database_url, "ringlog-ingestd");
	if (prepare_database(&in, db) < 0)
		goto out;
	ingest_metrics_register(&in);
	srv = start_http(&in, &cfg);
	if (!srv)
		goto out;
	log_msg(LOG_NOTICE, "listening on %.*s:%u (%zu sources, %zu pushes spooled)",
		(int)(strrchr(cfg.listen, ':') - cfg.listen), cfg.listen, http_server_port(srv), source_cache_count(in.sources),
		spool_depth(in.spool));
	sd_notify(0, "READY=1");
	serve(&in, db, &cfg);
	sd_notify(0, "STOPPING=1");
	log_msg(LOG_NOTICE, "stopping: finishing %d requests in flight", http_server_in_flight(srv));
	in.stopping = true;
	http_server_stop(srv, (int)cfg.shutdown_grace_s * 1000);
	log_msg(LOG_NOTICE, "stopped");
	rc = 0;
out:
	db_free(db);
	spool_close(in.spool);
	source_cache_free(in.sources);
	conf_release(ingest_conf_keys, ingest_conf_nkeys, &cfg);
	return rc;
}
