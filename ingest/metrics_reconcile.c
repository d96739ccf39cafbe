/* Reconciliation as operators alert on it (issue 15): per source, the calls
 * pulls filled (pushes that were lost), the time of the last good pull and
 * the failed pulls by kind. Here, beside the pushes of the same sources
 * (ringlog_source_pushes_total): what a pull fills is what this daemon
 * never received. The pulls run from `ringlog reconcile` under a timer, not
 * in a daemon, so the figures are read from reconcile_state (one row per
 * source) at scrape time, at most every DB_TTL seconds. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "metrics.h"
#include "ringlog/buf.h"
#include "ringlog/db.h"
#include "ringlog/reconcile.h"

#define DB_TTL 15

/* One row per source and error kind, every kind of $1 from zero; a source
 * is there when it is set to be pulled or has been pulled. */
static const struct db_stmt state_stmt = {
	"metrics_reconcile",
	"SELECT s.name, coalesce(r.filled, 0), coalesce(extract(epoch FROM r.last_ok_at), 0), e.kind, e.n"
	" FROM sources s LEFT JOIN reconcile_state r ON r.source_id = s.id,"
	" LATERAL jsonb_each_text((SELECT jsonb_object_agg(k, 0) FROM unnest($1::text[]) k)"
	"  || coalesce(r.errors, '{}')) e(kind, n)"
	" WHERE s.reconcile_every IS NOT NULL OR r.source_id IS NOT NULL"
	" ORDER BY s.name, e.kind",
	1
};

enum { COL_SOURCE, COL_FILLED, COL_LAST_OK, COL_KIND, COL_ERRORS };

static struct {
	pthread_mutex_t lock;
	time_t asked;
	PGresult *res;    /* the last answer; NULL until one came */
	struct buf kinds; /* reconcile_error_kinds as a text[] literal */
} cache = { PTHREAD_MUTEX_INITIALIZER, 0, NULL, BUF_INIT };

/* Locks the cache and returns its rows, asked again when older than
 * DB_TTL (NULL while the database never answered). Caller unlocks. */
static const PGresult *rows_locked(struct ingest *in)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&cache.lock);
	if (!cache.res || now - cache.asked >= DB_TTL) {
		const char *params[] = { buf_str(&cache.kinds) };
		struct errbuf e;
		PGresult *res = db_exec(db_for_thread(in->cfg->database_url, "ringlog-ingestd"), &state_stmt,
					params, &e);

		if (res) {
			PQclear(cache.res);
			cache.res = res;
			cache.asked = now;
		}
	}
	return cache.res;
}

/* NAME{source="…"} VALUE of column COL, once per source; or, with COL
 * COL_ERRORS, NAME{source="…",kind="…"} per source and kind. */
static void render(struct buf *out, struct ingest *in, const char *name, int col)
{
	const PGresult *r = rows_locked(in);

	for (int i = 0; r && i < PQntuples(r); i++) {
		if (col != COL_ERRORS && i > 0 &&
		    strcmp(PQgetvalue(r, i, COL_SOURCE), PQgetvalue(r, i - 1, COL_SOURCE)) == 0)
			continue;
		buf_addf(out, "%s{source=\"", name);
		metrics_label_value(out, PQgetvalue(r, i, COL_SOURCE));
		if (col == COL_ERRORS) {
			buf_adds(out, "\",kind=\"");
			metrics_label_value(out, PQgetvalue(r, i, COL_KIND));
		}
		buf_addf(out, "\"} %s\n", PQgetvalue(r, i, col));
	}
	pthread_mutex_unlock(&cache.lock);
}

static void render_filled(struct buf *out, void *ctx)
{
	render(out, ctx, "ringlog_reconcile_filled_calls_total", COL_FILLED);
}

static void render_last_ok(struct buf *out, void *ctx)
{
	render(out, ctx, "ringlog_reconcile_last_success_timestamp_seconds", COL_LAST_OK);
}

static void render_errors(struct buf *out, void *ctx)
{
	render(out, ctx, "ringlog_reconcile_errors_total", COL_ERRORS);
}

static struct metric filled = METRIC_CUSTOM_INIT(
	"ringlog_reconcile_filled_calls_total", "counter",
	"Calls stored by reconciliation (ringlog reconcile) because their push never came, by source: "
	"a rate above zero means pushes are being lost. Read every 15 s at most.",
	render_filled);
static struct metric last_ok = METRIC_CUSTOM_INIT(
	"ringlog_reconcile_last_success_timestamp_seconds", "gauge",
	"Unix time of the source's last pull that read its whole window (0: never).", render_last_ok);
static struct metric errors = METRIC_CUSTOM_INIT(
	"ringlog_reconcile_errors_total", "counter",
	"Failed pulls of the source's call log by kind (auth, rate_limited, timeout, http, bad_answer, "
	"database, unsupported, cancelled).",
	render_errors);

void ingest_reconcile_metrics_register(struct ingest *in)
{
	buf_adds(&cache.kinds, "{");
	for (size_t i = 0; reconcile_error_kinds[i]; i++)
		buf_addf(&cache.kinds, "%s%s", i ? "," : "", reconcile_error_kinds[i]);
	buf_adds(&cache.kinds, "}");
	filled.ctx = last_ok.ctx = errors.ctx = in;
	metrics_register(&filled);
	metrics_register(&last_ok);
	metrics_register(&errors);
}
