#include "ringlog/metrics.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define METRICS_MAX 128

static struct metric *registry[METRICS_MAX];
static size_t nregistry;

void metrics_register(struct metric *m)
{
	if (nregistry < METRICS_MAX)
		registry[nregistry++] = m;
}

void metrics_reset(void)
{
	nregistry = 0;
}

void metrics_inc(struct metric *m)
{
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

void metrics_add(struct metric *m, unsigned long long n)
{
	atomic_fetch_add_explicit(&m->count, n, memory_order_relaxed);
}

void metrics_observe(struct metric *m, double seconds)
{
	for (size_t i = 0; i < m->nbounds && i < METRIC_MAX_BUCKETS; i++)
		if (seconds <= m->bounds[i])
			atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (unsigned long long)(seconds * 1e6),
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
}

static const char *type_name(enum metric_kind k)
{
	return k == METRIC_COUNTER ? "counter" : k == METRIC_GAUGE ? "gauge" : "histogram";
}

/* name{labels,extra} */
static void series(struct buf *out, const char *name, const char *suffix, const char *labels,
		   const char *extra)
{
	bool l = labels && *labels, x = extra && *extra;

	buf_addf(out, "%s%s", name, suffix);
	if (l || x)
		buf_addf(out, "{%s%s%s}", l ? labels : "", l && x ? "," : "", x ? extra : "");
	buf_addch(out, ' ');
}

static void render_histogram(struct buf *out, struct metric *m)
{
	char le[48];

	for (size_t i = 0; i < m->nbounds && i < METRIC_MAX_BUCKETS; i++) {
		snprintf(le, sizeof(le), "le=\"%g\"", m->bounds[i]);
		series(out, m->name, "_bucket", m->labels, le);
		buf_addf(out, "%llu\n", (unsigned long long)m->buckets[i]);
	}
	series(out, m->name, "_bucket", m->labels, "le=\"+Inf\"");
	buf_addf(out, "%llu\n", (unsigned long long)m->count);
	series(out, m->name, "_sum", m->labels, NULL);
	buf_addf(out, "%.6f\n", (double)m->sum_us / 1e6);
	series(out, m->name, "_count", m->labels, NULL);
	buf_addf(out, "%llu\n", (unsigned long long)m->count);
}

void metrics_render(struct buf *out)
{
	for (size_t i = 0; i < nregistry; i++) {
		struct metric *m = registry[i];

		if (i == 0 || strcmp(registry[i - 1]->name, m->name) != 0)
			buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
				 type_name(m->kind));
		switch (m->kind) {
		case METRIC_COUNTER:
			if (m->render) {
				m->render(out, m->ctx);
				break;
			}
			series(out, m->name, "", m->labels, NULL);
			if (m->read)
				buf_addf(out, "%.0f\n", m->read(m->ctx));
			else
				buf_addf(out, "%llu\n", (unsigned long long)m->count);
			break;
		case METRIC_GAUGE:
			series(out, m->name, "", m->labels, NULL);
			buf_addf(out, "%g\n", m->read ? m->read(m->ctx) : 0.0);
			break;
		case METRIC_HISTOGRAM:
			render_histogram(out, m);
			break;
		}
	}
}
