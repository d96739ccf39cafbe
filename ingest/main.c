/* ringlog-ingestd: receives end-of-call pushes from PBXs. main() only wires
 * things together: config, signals, start, wait, shutdown. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "ingest.h"
#include "leadcache.h"
#include "writer.h"
#include "ringlog/daemon.h"
#include "ringlog/paths.h"
#include "ringlog/db.h"


static const char summary[] =
	"Receives end-of-call pushes (JSON, form or query string) from cloud PBXs and\n"
	"stores them in PostgreSQL; spools them to disk while PostgreSQL is away.";

/* The main thread's own connection and timers, for the hooks below. */
struct upkeep {
	struct ingest *in;
	struct db *db;
	time_t next_refresh;
	struct daemon_config conf; /* for SIGHUP */
};

/* Connects, checks the schema and loads the sources: the daemon does not
 * start on a database it cannot serve. */
static int prepare_database(struct ingest *in, struct db *db)
{
	struct errbuf e;

	if (db_connect(db, &e) < 0 || db_check_schema(db, &e) < 0 || db_check_privacy_key(db, &e) < 0 ||
	    ingest_reload_sources(in, db, &e) < 0) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		return -1;
	}
	return 0;
}

/* After the grace period: the pushes still queued are stored and their
 * suspended connections resumed before libmicrohttpd closes them. */
static void before_stop(void *app)
{
	struct ingest *in = app;

	writers_finish(in->writers);
}

static struct http_server *start_http(struct ingest *in, const struct ingest_config *cfg)
{
	struct http_options o = {
		.program = "ringlog-ingestd",
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
		.routes = ingest_routes,
		.app = in,
		.before_stop = before_stop,
		.spill_threshold = cfg->body_spill,
		.spill_dir = cfg->spool_dir,
	};
	struct errbuf e;
	struct http_server *srv = http_server_start(&o, &e);

	if (!srv)
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
	return srv;
}

static void reload(void *ctx)
{
	struct upkeep *u = ctx;
	struct errbuf e;

	daemon_reload_config(&u->conf);
	if (ingest_reload_sources(u->in, u->db, &e) < 0)
		log_msg(LOG_WARNING, "sources not reloaded: %s", e.msg);
	else
		log_msg(LOG_NOTICE, "reloaded %zu sources", source_cache_count(u->in->sources));
	u->next_refresh = time(NULL) + u->in->cfg->source_refresh_s;
}

/* Keeps the sources fresh; drains the spool quickly while it holds pushes. */
static int tick(void *ctx)
{
	struct upkeep *u = ctx;
	struct errbuf e;

	if (time(NULL) >= u->next_refresh) {
		if (ingest_reload_sources(u->in, u->db, &e) < 0)
			log_msg(LOG_DEBUG, "sources not reloaded: %s", e.msg);
		u->next_refresh = time(NULL) + u->in->cfg->source_refresh_s;
	}
	ingest_prune_events(u->in, u->db);
	ingest_make_partitions(u->db);
	if (spool_depth(u->in->spool) == 0)
		return 1000;
	ingest_drain_spool(u->in, u->db);
	return 50;
}

int main(int argc, char **argv)
{
	struct ingest_config cfg = { 0 };
	struct ingest in = { .cfg = &cfg };
	struct upkeep up = { .in = &in };
	struct daemon_hooks hooks = { &up, tick, reload };
	struct http_server *srv = NULL;
	struct conf_cli cli;
	struct errbuf e;
	char details[64];
	int rc = 1;

	if (daemon_load_config("ringlog-ingestd", ingest_conf_keys, ingest_conf_nkeys, "ingest", &cfg,
			       argc, argv, &cli) < 0)
		goto out;
	if (cli.help || cli.check_config) {
		if (cli.help)
			conf_usage("ringlog-ingestd", summary, ingest_conf_keys, ingest_conf_nkeys, "ingest");
		else
			conf_print(ingest_conf_keys, ingest_conf_nkeys, &cfg);
		rc = 0;
		goto out;
	}
	log_init("ringlog-ingestd", daemon_log_level(cfg.log_level));
	daemon_block_signals();
	in.sources = source_cache_new();
	in.spool = spool_open(cfg.spool_dir, cfg.spool_max, &e);
	if (!in.spool) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	/* The S3 blob store speaks through libcurl: initialised before any thread. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_msg(LOG_ERR, "cannot start: libcurl cannot be initialised");
		goto out;
	}
	if (audio_store_format_parse(cfg.blobcfg.store_format, &in.push.store_format) < 0) {
		log_msg(LOG_ERR, "cannot start: recordings.store_format must be original, mp3 or opus");
		goto out;
	}
	in.push.blobs = blob_store_open_config(cfg.blob_dir, &cfg.blobcfg, &e);
	in.push.recording_max = (uint64_t)cfg.recording_max;
	in.push.dead_letters_max = cfg.dead_letters_max;
	if (!in.push.blobs) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	if (*cfg.privacy_key_file && db_use_privacy_key_file(cfg.privacy_key_file, &e) < 0) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	up.db = db_new(cfg.database_url, "ringlog-ingestd");
	up.next_refresh = time(NULL) + cfg.source_refresh_s;
	if (prepare_database(&in, up.db) < 0)
		goto out;
	in.writers = writers_start(cfg.database_url, (int)cfg.writers, (size_t)cfg.batch_max, &e);
	if (!in.writers) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	if (cfg.events_keep_s > 0 && !(in.events = events_start(cfg.database_url, 100000, &e))) {
		log_msg(LOG_ERR, "cannot start: %s", e.msg);
		goto out;
	}
	if (cfg.screenpop_cache > 0)
		in.leads = leadcache_start(cfg.database_url, (size_t)cfg.screenpop_cache);
	ingest_metrics_register(&in);
	metrics_register_process("ringlog-ingestd");
	srv = start_http(&in, &cfg);
	if (!srv)
		goto out;
	up.conf = (struct daemon_config){ ingest_conf_keys, ingest_conf_nkeys, "ingest", paths_config_file(),
					  sizeof(cfg), &cfg, argc, argv, srv };
	snprintf(details, sizeof(details), "(%zu sources, %zu pushes spooled)",
		 source_cache_count(in.sources), spool_depth(in.spool));
	daemon_ready(cfg.listen, srv, details);
	daemon_wait(&hooks);
	log_msg(LOG_NOTICE, "stopping: finishing %d requests in flight", http_server_in_flight(srv));
	in.stopping = true;
	http_server_stop(srv, (int)cfg.shutdown_grace_s * 1000);
	log_msg(LOG_NOTICE, "stopped");
	rc = 0;
out:
	events_stop(in.events);
	leadcache_stop(in.leads);
	writers_stop(in.writers);
	db_free(up.db);
	spool_close(in.spool);
	blob_store_close(in.push.blobs);
	curl_global_cleanup();
	source_cache_free(in.sources);
	conf_release(ingest_conf_keys, ingest_conf_nkeys, &cfg);
	return rc;
}
