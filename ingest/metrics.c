#include "metrics.h"
#include "leadcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "ingest.h"
#include "ringlog/db.h"
#include "writer.h"

#define PUSH_COUNTER(outcome)                                                           \
	METRIC_COUNTER_INIT("ringlog_pushes_total", "outcome=\"" outcome "\"",           \
			    "End-of-call pushes by outcome.")

static struct metric pushes[] = {
	PUSH_COUNTER("stored"),	      PUSH_COUNTER("updated"),	      PUSH_COUNTER("duplicate"),
	PUSH_COUNTER("ignored"),      PUSH_COUNTER("spooled"),	      PUSH_COUNTER("rejected"),
	PUSH_COUNTER("failed"),	      PUSH_COUNTER("unauthorized"),   PUSH_COUNTER("unknown_source"),
	PUSH_COUNTER("spool_failed"),
	PUSH_COUNTER("erased"),
};

#define NPUSHES (sizeof(pushes) / sizeof(pushes[0]))

/* ---- pushes per source: the configured sources' names only (an unknown
 * name in a URL makes no series), at most SOURCES_MAX, the rest together
 * as source="_other". -------------------------------------------------- */

#define SOURCES_MAX 256

static struct {
	char name[65];
	unsigned long long n[NPUSHES];
} per_source[SOURCES_MAX + 1];
static size_t nsources;
static pthread_mutex_t per_source_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_source_push(const char *source, size_t outcome)
{
	size_t i;

	pthread_mutex_lock(&per_source_lock);
	for (i = 0; i < nsources; i++)
		if (strcmp(per_source[i].name, source) == 0)
			break;
	if (i == nsources) {
		if (nsources < SOURCES_MAX) {
			snprintf(per_source[i].name, sizeof(per_source[i].name), "%s", source);
			nsources++;
		} else {
			i = SOURCES_MAX;
			snprintf(per_source[i].name, sizeof(per_source[i].name), "_other");
		}
	}
	per_source[i].n[outcome]++;
	pthread_mutex_unlock(&per_source_lock);
}

static void render_source_pushes(struct buf *out, void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&per_source_lock);
	for (size_t i = 0; i <= SOURCES_MAX; i++) {
		if (i >= nsources && i < SOURCES_MAX)
			continue;
		for (size_t o = 0; o < NPUSHES; o++) {
			if (!per_source[i].n[o])
				continue;
			buf_adds(out, "ringlog_source_pushes_total{source=\"");
			metrics_label_value(out, per_source[i].name);
			buf_addf(out, "\",%s} %llu\n", pushes[o].labels, per_source[i].n[o]);
		}
	}
	pthread_mutex_unlock(&per_source_lock);
}

static struct metric source_pushes = METRIC_CUSTOM_INIT(
	"ringlog_source_pushes_total", "counter", "End-of-call pushes by source and outcome.",
	render_source_pushes);

/* ---- dead letters waiting for a replay: asked of the database at most
 * every DB_GAUGE_TTL seconds ------------------------------------------ */

#define DB_GAUGE_TTL 15

static const struct db_stmt pending_stmt = {
	"metrics_dead_letters", "SELECT count(*) FROM dead_letters WHERE status = 'new'", 0
};

static void render_dead_letters_pending(struct buf *out, void *ctx)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t asked;
	static double pending = -1;
	struct ingest *in = ctx;
	time_t now = time(NULL);
	struct errbuf e;

	pthread_mutex_lock(&lock);
	if (pending < 0 || now - asked >= DB_GAUGE_TTL) {
		PGresult *res = db_exec(db_for_thread(in->cfg->database_url, "ringlog-ingestd"),
					&pending_stmt, NULL, &e);

		if (res) {
			pending = atof(PQgetvalue(res, 0, 0));
			asked = now;
		}
		PQclear(res);
	}
	if (pending >= 0)
		buf_addf(out, "ringlog_dead_letters_pending %.0f\n", pending);
	pthread_mutex_unlock(&lock);
}

static struct metric dead_letters_pending = METRIC_CUSTOM_INIT(
	"ringlog_dead_letters_pending", "gauge",
	"Dead letters not replayed yet (status new), all sources; read every 15 s at most.",
	render_dead_letters_pending);

#define LOOKUP_COUNTER(endpoint, result)                                                 \
	METRIC_COUNTER_INIT("ringlog_lookups_total",                                      \
			    "endpoint=\"" endpoint "\",result=\"" result "\"",                   \
			    "Screen pop and route look-ups by result.")

static struct metric lookups[] = {
	LOOKUP_COUNTER("screenpop", "known"),	 LOOKUP_COUNTER("screenpop", "unknown"),
	LOOKUP_COUNTER("screenpop", "rejected"), LOOKUP_COUNTER("screenpop", "failed"),
	LOOKUP_COUNTER("route", "found"),	 LOOKUP_COUNTER("route", "not_found"),
	LOOKUP_COUNTER("route", "failed"),
};

static const double push_bounds[] = { 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
				      0.05,   0.1,   0.25,  0.5,   1,    2.5 };
static struct metric push_seconds = METRIC_HISTOGRAM_INIT(
	"ringlog_push_duration_seconds", NULL,
	"Time to make a push durable (database commit or spool fsync) and answer.", push_bounds);
static struct metric dead_letters = METRIC_COUNTER_INIT(
	"ringlog_dead_letters_total", NULL, "Pushes kept in dead_letters with their reason.");
static struct metric dead_letters_dropped = METRIC_COUNTER_INIT(
	"ringlog_dead_letters_dropped_total", NULL,
	"Refused pushes not kept: their source's dead letters were at its byte budget.");

static double read_spool_depth(void *ctx)
{
	struct ingest *in = ctx;

	return in->spool ? (double)spool_depth(in->spool) : 0;
}

static double read_spool_bytes(void *ctx)
{
	struct ingest *in = ctx;

	return in->spool ? (double)spool_bytes(in->spool) : 0;
}

static struct metric spool_depth_gauge = METRIC_GAUGE_INIT(
	"ringlog_spool_pushes", NULL, "Pushes waiting in the spool for the database.", read_spool_depth);
static struct metric spool_bytes_gauge = METRIC_GAUGE_INIT(
	"ringlog_spool_bytes", NULL, "Bytes of pushes waiting in the spool.", read_spool_bytes);

static double read_batches(void *ctx)
{
	return (double)writers_batches(((struct ingest *)ctx)->writers);
}

static double read_batched(void *ctx)
{
	return (double)writers_pushes(((struct ingest *)ctx)->writers);
}

static struct metric batches = METRIC_COUNTER_READ_INIT(
	"ringlog_db_transactions_total", NULL, "Transactions the writers committed or tried.", read_batches);
static struct metric batched = METRIC_COUNTER_READ_INIT(
	"ringlog_db_pushes_total", NULL, "Pushes the writers stored (divide by transactions for the batch size).",
	read_batched);

static double read_events_written(void *ctx)
{
	return (double)events_written(((struct ingest *)ctx)->events);
}

static double read_events_dropped(void *ctx)
{
	return (double)events_dropped(((struct ingest *)ctx)->events);
}

static struct metric events_written_total = METRIC_COUNTER_READ_INIT(
	"ringlog_call_events_total", "result=\"written\"",
	"Screen-pop events of calls in progress, written or dropped (queue full, database away).",
	read_events_written);
static struct metric events_dropped_total = METRIC_COUNTER_READ_INIT(
	"ringlog_call_events_total", "result=\"dropped\"", "", read_events_dropped);

/* Numbers valid for no region, by source: a slot per source name, claimed
 * on first use (names are checked by the sources table, safe in a label);
 * sources past the cap share source="_other". */
#define INVALID_SOURCES 256

static struct invalid_slot {
	char name[64];
	atomic_ullong n;
} invalid_slots[INVALID_SOURCES + 1] = { [INVALID_SOURCES] = { .name = "_other" } };
static atomic_size_t invalid_used;
static pthread_mutex_t invalid_lock = PTHREAD_MUTEX_INITIALIZER;

static struct invalid_slot *invalid_find(const char *source, size_t used)
{
	for (size_t i = 0; i < used; i++)
		if (strcmp(invalid_slots[i].name, source) == 0)
			return &invalid_slots[i];
	return NULL;
}

void ingest_count_invalid_phones(const char *source, unsigned n)
{
	struct invalid_slot *s = invalid_find(source, atomic_load(&invalid_used));
	size_t used;

	if (!s) {
		pthread_mutex_lock(&invalid_lock);
		used = atomic_load(&invalid_used);
		s = invalid_find(source, used);
		if (!s && used < INVALID_SOURCES && strlen(source) < sizeof(s->name)) {
			s = &invalid_slots[used];
			snprintf(s->name, sizeof(s->name), "%s", source);
			atomic_store(&invalid_used, used + 1);
		}
		pthread_mutex_unlock(&invalid_lock);
	}
	atomic_fetch_add(&(s ? s : &invalid_slots[INVALID_SOURCES])->n, n);
}

static void render_invalid(struct buf *out, void *ctx)
{
	size_t used = atomic_load(&invalid_used);

	(void)ctx;
	for (size_t i = 0; i <= INVALID_SOURCES; i++)
		if (i < used || (i == INVALID_SOURCES && atomic_load(&invalid_slots[i].n)))
			buf_addf(out, "ringlog_phone_invalid_total{source=\"%s\"} %llu\n", invalid_slots[i].name,
				 (unsigned long long)atomic_load(&invalid_slots[i].n));
}

static struct metric phone_invalid = {
	.kind = METRIC_COUNTER,
	.name = "ringlog_phone_invalid_total",
	.help = "Caller and callee numbers valid for no region, by source (stored as sent, no E.164, no lead).",
	.render = render_invalid,
};

static double read_cache_numbers(void *ctx)
{
	return (double)leadcache_numbers(((struct ingest *)ctx)->leads);
}

static double read_cache_hits(void *ctx)
{
	return (double)leadcache_hits(((struct ingest *)ctx)->leads);
}

static double read_cache_updates(void *ctx)
{
	return (double)leadcache_updates(((struct ingest *)ctx)->leads);
}

static struct metric cache_numbers = METRIC_GAUGE_INIT(
	"ringlog_screenpop_cache_numbers", NULL,
	"Numbers with open leads held in memory for screen pop.", read_cache_numbers);
static struct metric cache_hits = METRIC_COUNTER_READ_INIT(
	"ringlog_screenpop_cache_hits_total", NULL,
	"Screen pop look-ups answered from memory.", read_cache_hits);
static struct metric cache_updates = METRIC_COUNTER_READ_INIT(
	"ringlog_screenpop_cache_updates_total", NULL,
	"Lead changes (NOTIFY ringlog_leads) applied to the screen pop cache.", read_cache_updates);

void ingest_metrics_register(struct ingest *in)
{
	batches.ctx = in;
	batched.ctx = in;
	metrics_register(&batches);
	metrics_register(&batched);
	for (size_t i = 0; i < NPUSHES; i++)
		metrics_register(&pushes[i]);
	metrics_register(&source_pushes);
	metrics_register(&push_seconds);
	metrics_register(&dead_letters);
	metrics_register(&dead_letters_dropped);
	metrics_register(&phone_invalid);
	dead_letters_pending.ctx = in;
	metrics_register(&dead_letters_pending);
	ingest_reconcile_metrics_register(in);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++)
		metrics_register(&lookups[i]);
	events_written_total.ctx = in;
	events_dropped_total.ctx = in;
	metrics_register(&events_written_total);
	metrics_register(&events_dropped_total);
	spool_depth_gauge.ctx = in;
	spool_bytes_gauge.ctx = in;
	metrics_register(&spool_depth_gauge);
	metrics_register(&spool_bytes_gauge);
	cache_numbers.ctx = cache_hits.ctx = cache_updates.ctx = in;
	metrics_register(&cache_numbers);
	metrics_register(&cache_hits);
	metrics_register(&cache_updates);
}

void ingest_count_push(const char *source, const char *outcome)
{
	for (size_t i = 0; i < NPUSHES; i++) {
		const char *l = pushes[i].labels + strlen("outcome=\"");

		if (strncmp(l, outcome, strlen(outcome)) == 0 && l[strlen(outcome)] == '"') {
			metrics_inc(&pushes[i]);
			if (source)
				count_source_push(source, i);
			return;
		}
	}
}

void ingest_observe_push(double seconds)
{
	metrics_observe(&push_seconds, seconds);
}

void ingest_dead_letter_dropped(const struct source *src, const struct push_options *o,
				const char *request_id)
{
	static _Atomic long long last_log;
	long long now = (long long)time(NULL), last = last_log;

	metrics_inc(&dead_letters_dropped);
	/* An attack makes many: one line a minute says it, the counter counts. */
	if (now - last >= 60 && atomic_compare_exchange_strong(&last_log, &last, now))
		log_msg(LOG_WARNING, "dead letter not kept: request id=%s source=%s: its dead letters "
			"are at their budget of %lld bytes (ringlog dead-letters, or "
			"ringlog source update --dead-letters-max)", request_id,
			src ? src->name : "-", push_dead_letter_budget(src, o));
}

void ingest_count_dead_letter(void)
{
	metrics_inc(&dead_letters);
}

void ingest_count_lookup(const char *endpoint, const char *result)
{
	char labels[96];

	snprintf(labels, sizeof(labels), "endpoint=\"%s\",result=\"%s\"", endpoint, result);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		if (strcmp(lookups[i].labels, labels) == 0) {
			metrics_inc(&lookups[i]);
			return;
		}
	}
}
