/* Gauges fetcherd reads from the database at scrape time (at most every
 * 15 s, so a scrape never counts a large table each time). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fetcher.h"
#include "ringlog/db.h"
#include "ringlog/metrics.h"

#define DB_GAUGE_TTL 15

static const char *const states[] = { "remote", "stored", "failed" };

static const struct db_stmt by_state_stmt = {
	"metrics_recordings",
	"SELECT count(*) FILTER (WHERE state = 'remote'), count(*) FILTER (WHERE state = 'stored'),"
	" count(*) FILTER (WHERE state = 'failed') FROM recordings",
	0
};

static void render_recordings(struct buf *out, void *ctx)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static time_t asked;
	static double counts[3] = { -1, -1, -1 };
	time_t now = time(NULL);
	struct errbuf e;

	pthread_mutex_lock(&lock);
	if (counts[0] < 0 || now - asked >= DB_GAUGE_TTL) {
		PGresult *res = db_exec(fetcher_db(ctx), &by_state_stmt, NULL, &e);

		if (res) {
			for (int i = 0; i < 3; i++)
				counts[i] = atof(PQgetvalue(res, 0, i));
			asked = now;
		}
		PQclear(res);
	}
	for (int i = 0; i < 3 && counts[0] >= 0; i++)
		buf_addf(out, "ringlog_recordings{state=\"%s\"} %.0f\n", states[i], counts[i]);
	pthread_mutex_unlock(&lock);
}

static struct metric recordings = METRIC_CUSTOM_INIT(
	"ringlog_recordings", "gauge", "Recordings by state (remote, stored, failed); read every 15 s at most.",
	render_recordings);

void fetcher_db_metrics_register(struct fetcher *f)
{
	recordings.ctx = f;
	metrics_register(&recordings);
	metrics_register_process("ringlog-fetcherd");
}
