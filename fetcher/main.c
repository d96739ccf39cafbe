/* ringlog-fetcherd: serves the CRM and its users' browsers. main() only
 * wires things together: config, signals, start, wait, shutdown. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"
#include "rec_internal.h"
#include "ringlog/daemon.h"
#include "ringlog/db.h"
#include "ringlog/paths.h"


static const char summary[] =
	"Serves the CRM: call logs, recordings (fetched from the PBX on first play),\n"
	"CSV exports and click-to-call. `ringlog-fetcherd --list-routes` prints the\n"
	"endpoints it serves (docs/openapi-fetcher.yaml documents them).";

struct upkeep {
	struct fetcher *f;
	struct db *db;
	time_t next_refresh;
	struct daemon_config conf; /* for SIGHUP */
};

static int reload_sources(struct upkeep *u, struct errbuf *e)
{
	struct source_set *set = source_set_load(u->db, e);

	if (!set)
		return -1;
	source_cache_put(u->f->sources, set);
	u->next_refresh = time(NULL) + u->f->cfg->source_refresh_s;
	return 0;
}

/* The page's files: ui_dir, else found next to the binary or installed.
 * Without them the daemon serves the API alone. */
static void load_ui(struct fetcher *f)
{
	char buf[4096];
	const char *dir = *f->cfg->ui_dir ? f->cfg->ui_dir : paths_data_dir("ui", buf, sizeof(buf));
	struct errbuf e;

	f->ui = fetcher_ui_load(dir, &e);
	if (!f->ui)
		log_msg(*f->cfg->ui_dir ? LOG_WARNING : LOG_NOTICE, "no call-log page: %s", e.msg);
}

static int open_blobs(struct fetcher *f, struct errbuf *e)
{
	if (audio_store_format_parse(f->cfg->blobcfg.store_format, &f->store_format) < 0)
		return err_set(e, "recordings.store_format must be original, mp3 or opus");
	f->blobs = blob_store_open_config(f->cfg->blob_dir, &f->cfg->blobcfg, e);
	return f->blobs ? 0 : -1;
}

static int prepare(struct upkeep *u)
{
	struct errbuf e;

	load_ui(u->f);
	if (sign_key_load(&u->f->sign_key, u->f->cfg->signing_key_file, &e) < 0 ||
	    (*u->f->cfg->privacy_key_file && db_use_privacy_key_file(u->f->cfg->privacy_key_file, &e) < 0) ||
	    open_blobs(u->f, &e) < 0 ||
	    db_connect(u->db, &e) < 0 || db_check_schema(u->db, &e) < 0 || reload_sources(u, &e) < 0 ||
	    !(u->f->zones = fetcher_zones_load(u->db, &e))) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		return -1;
	}
	return 0;
}

static void reload(void *ctx)
{
	struct upkeep *u = ctx;
	struct errbuf e;

	daemon_reload_config(&u->conf);
	if (reload_sources(u, &e) < 0)
		log_msg(LOG_WARNING, "sources not reloaded: %s", e.msg);
	else
		log_msg(LOG_NOTICE, "reloaded %zu sources", source_cache_count(u->f->sources));
}

static int tick(void *ctx)
{
	struct upkeep *u = ctx;
	struct errbuf e;

	if (time(NULL) >= u->next_refresh && reload_sources(u, &e) < 0) {
		log_msg(LOG_DEBUG, "sources not reloaded: %s", e.msg);
		u->next_refresh = time(NULL) + u->f->cfg->source_refresh_s;
	}
	return 1000;
}

static void before_stop(void *app)
{
	rec_engine_cancel(((struct fetcher *)app)->recordings);
}

static struct http_server *start_http(struct fetcher *f, const struct fetcher_config *cfg)
{
	struct http_options o = {
		.program = "ringlog-fetcherd",
		.listen = cfg->listen,
		.threads = (int)cfg->threads,
		.max_body = cfg->max_body,
		.timeout_s = (int)cfg->timeout_s,
		.header_timeout_s = (int)cfg->header_timeout_s,
		.min_body_rate = cfg->min_body_rate,
		.max_connections = (int)cfg->max_connections,
		.max_connections_per_ip = (int)cfg->max_connections_per_ip,
		.db_conninfo = cfg->database_url,
		.tls_cert = cfg->tls_cert,
		.tls_key = cfg->tls_key,
		.routes = fetcher_routes,
		.app = f,
		.before_stop = before_stop,
	};
	struct errbuf e;
	struct http_server *srv = http_server_start(&o, &e);

	if (!srv)
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
	return srv;
}

int main(int argc, char **argv)
{
	struct fetcher_config cfg = { 0 };
	struct fetcher f = { .cfg = &cfg };
	struct upkeep up = { .f = &f };
	struct daemon_hooks hooks = { &up, tick, reload };
	struct http_server *srv = NULL;
	struct conf_cli cli;
	struct errbuf e;
	int rc = 1;

	/* Before the config: listing the table needs neither a file nor a database. */
	if (argc == 2 && strcmp(argv[1], "--list-routes") == 0) {
		http_routes_print(fetcher_routes, stdout);
		return 0;
	}
	if (daemon_load_config("ringlog-fetcherd", fetcher_conf_keys, fetcher_conf_nkeys, "fetcher", &cfg,
			       argc, argv, &cli) < 0)
		goto out;
	if (cli.help || cli.check_config) {
		if (cli.help)
			conf_usage("ringlog-fetcherd", summary, fetcher_conf_keys, fetcher_conf_nkeys, "fetcher");
		else
			conf_print(fetcher_conf_keys, fetcher_conf_nkeys, &cfg);
		rc = 0;
		goto out;
	}
	log_init("ringlog-fetcherd", daemon_log_level(cfg.log_level));
	daemon_block_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_msg(LOG_ERR, "cannot start: libcurl does not initialise");
		goto out;
	}
	f.sources = source_cache_new();
	up.db = db_new(cfg.database_url, "ringlog-fetcherd");
	if (prepare(&up) < 0)
		goto out;
	fetcher_export_metrics_register();
	rec_metrics_register();
	fetcher_webhooks_metrics_register();
	fetcher_db_metrics_register(&f);
	f.recordings = rec_engine_start(&f, &e);
	if (!f.recordings) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	f.webhooks = fetcher_webhooks_start(&f, &e);
	if (!f.webhooks) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	f.live = fetcher_live_start(&f, &e);
	if (!f.live) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	srv = start_http(&f, &cfg);
	if (!srv)
		goto out;
	up.conf = (struct daemon_config){ fetcher_conf_keys, fetcher_conf_nkeys, "fetcher",
					  paths_config_file(), sizeof(cfg), &cfg, argc, argv, srv };
	daemon_ready(cfg.listen, srv, NULL);
	daemon_wait(&hooks);
	log_msg(LOG_NOTICE, "stopping: finishing %d requests in flight", http_server_in_flight(srv));
	fetcher_live_stop(f.live); /* ends the live streams: none may stay suspended */
	http_server_stop(srv, (int)cfg.shutdown_grace_s * 1000);
	srv = NULL;
	log_msg(LOG_NOTICE, "stopped");
	rc = 0;
out:
	if (srv) { /* started, then something failed after it */
		fetcher_live_stop(f.live);
		http_server_stop(srv, 0);
	}
	fetcher_live_stop(f.live);
	fetcher_live_free(f.live);
	fetcher_webhooks_stop(f.webhooks);
	rec_engine_stop(f.recordings);
	blob_store_close(f.blobs);
	curl_global_cleanup();
	db_free(up.db);
	source_cache_free(f.sources);
	fetcher_zones_free(f.zones);
	sign_key_release(&f.sign_key);
	fetcher_ui_free(f.ui);
	conf_release(fetcher_conf_keys, fetcher_conf_nkeys, &cfg);
	return rc;
}
