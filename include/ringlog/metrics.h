/* Prometheus metrics: counters, gauges read at scrape time, and histograms
 * with fixed buckets, all lock-free. A program declares its metrics as
 * static structs, registers them once at start, and renders them for
 * GET /metrics in the text exposition format. */
#ifndef RINGLOG_METRICS_H
#define RINGLOG_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "ringlog/buf.h"

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

#define METRIC_MAX_BUCKETS 16

struct metric {
	enum metric_kind kind;
	const char *name;   /* ringlog_pushes_total */
	const char *labels; /* outcome="stored", or NULL */
	const char *help;
	atomic_ullong count; /* counter value; histogram observation count */
	/* gauge (and a counter kept elsewhere): read at scrape time */
	double (*read)(void *ctx);
	void *ctx;
	/* histogram: upper bounds in seconds, ascending, and cumulative counts */
	const double *bounds;
	size_t nbounds;
	atomic_ullong buckets[METRIC_MAX_BUCKETS];
	atomic_ullong sum_us;
	/* a counter family whose series (labels and values) are made at scrape
	 * time, after its HELP and TYPE lines: writes them to OUT */
	void (*render)(struct buf *out, void *ctx);
};

#define METRIC_COUNTER_INIT(n, l, h) { .kind = METRIC_COUNTER, .name = (n), .labels = (l), .help = (h) }
#define METRIC_GAUGE_INIT(n, l, h, fn) { .kind = METRIC_GAUGE, .name = (n), .labels = (l), .help = (h), .read = (fn) }
/* A counter whose value lives elsewhere and is read at scrape time. */
#define METRIC_COUNTER_READ_INIT(n, l, h, fn) { .kind = METRIC_COUNTER, .name = (n), .labels = (l), .help = (h), .read = (fn) }
#define METRIC_HISTOGRAM_INIT(n, l, h, b)                                                        \
	{ .kind = METRIC_HISTOGRAM, .name = (n), .labels = (l), .help = (h), .bounds = (b),       \
	  .nbounds = sizeof(b) / sizeof((b)[0]) }

/* Adds M to the registry (not thread-safe: call before serving). Metrics of
 * one name must be registered next to each other. */
void metrics_register(struct metric *m);
void metrics_inc(struct metric *m);
void metrics_add(struct metric *m, unsigned long long n);
/* Records one observation of SECONDS in histogram M. */
void metrics_observe(struct metric *m, double seconds);
/* Appends every registered metric to OUT in the text format. */
void metrics_render(struct buf *out);
/* Forgets the registry (tests, shutdown). */
void metrics_reset(void);

#endif
