#include "metrics.h"
#include "leadcache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "ingest.h"
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
	for (size_t i = 0; i < sizeof(pushes) / sizeof(pushes[0]); i++)
		metrics_register(&pushes[i]);
	metrics_register(&push_seconds);
	metrics_register(&dead_letters);
	metrics_register(&phone_invalid);
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

void ingest_count_push(const char *outcome)
{
	for (size_t i = 0; i < sizeof(pushes) / sizeof(pushes[0]); i++) {
		const char *l = pushes[i].labels + strlen("outcome=\"");

		if (strncmp(l, outcome, strlen(outcome)) == 0 && l[strlen(outcome)] == '"') {
			metrics_inc(&pushes[i]);
			return;
		}
	}
}

void ingest_observe_push(double seconds)
{
	metrics_observe(&push_seconds, seconds);
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
