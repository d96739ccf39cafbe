#include "events.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ringlog/db.h"
#include "ringlog/xalloc.h"

struct events {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	json_object *queued; /* an array, swapped out whole by the writer */
	size_t max_queued;
	bool stopping, full_batch;
	pthread_t thread;
	char *conninfo;
	atomic_ullong written, dropped;
};

/* One statement for a batch: the events travel as one JSON array. */
static const struct db_stmt insert_events = {
	"events_insert",
	"INSERT INTO call_events (source_id, pbx_call_id, status, phone, phone_e164, caller_name,"
	" agent, did, direction, lead_id, at)"
	" SELECT source_id, pbx_call_id, status, phone, phone_e164, caller_name, agent, did,"
	"        direction, lead_id, at"
	"   FROM jsonb_to_recordset($1::jsonb) AS e(source_id bigint, pbx_call_id text, status text,"
	"        phone text, phone_e164 text, caller_name text, agent text, did text, direction text,"
	"        lead_id bigint, at timestamptz)",
	1
};

static void write_batch(struct events *ev, struct db *db, json_object *batch)
{
	const char *params[] = { json_object_to_json_string_ext(batch, JSON_C_TO_STRING_PLAIN) };
	size_t n = json_object_array_length(batch);
	struct errbuf e;
	PGresult *res = db_exec(db, &insert_events, params, &e);

	if (!res) {
		atomic_fetch_add(&ev->dropped, n);
		log_msg(LOG_WARNING, "%zu screen-pop events not recorded: %s", n, e.msg);
		return;
	}
	atomic_fetch_add(&ev->written, n);
	PQclear(res);
}

static void *writer_main(void *arg)
{
	struct events *ev = arg;
	struct db *db = db_new(ev->conninfo, "ringlog-ingestd events");
	bool stop = false;

	while (!stop) {
		struct timespec until;
		json_object *batch;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += EVENTS_FLUSH_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_mutex_lock(&ev->lock);
		while (!ev->stopping && !ev->full_batch &&
		       pthread_cond_timedwait(&ev->wake, &ev->lock, &until) != ETIMEDOUT)
			;
		stop = ev->stopping;
		ev->full_batch = false;
		batch = ev->queued;
		ev->queued = json_object_new_array();
		pthread_mutex_unlock(&ev->lock);
		if (json_object_array_length(batch) > 0)
			write_batch(ev, db, batch);
		json_object_put(batch);
	}
	db_free(db);
	return NULL;
}

struct events *events_start(const char *conninfo, size_t max_queued, struct errbuf *e)
{
	struct events *ev = xcalloc(1, sizeof(*ev));

	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->wake, NULL);
	ev->queued = json_object_new_array();
	ev->max_queued = max_queued;
	ev->conninfo = xstrdup(conninfo);
	if (pthread_create(&ev->thread, NULL, writer_main, ev) != 0) {
		err_set(e, "cannot start the events writer: %s", strerror(errno));
		json_object_put(ev->queued);
		free(ev->conninfo);
		free(ev);
		return NULL;
	}
	return ev;
}

void events_record(struct events *ev, json_object *event)
{
	bool full;

	pthread_mutex_lock(&ev->lock);
	full = json_object_array_length(ev->queued) >= ev->max_queued;
	if (!full)
		json_object_array_add(ev->queued, event);
	/* A busy ringing hour: write now rather than let the queue grow. */
	if (json_object_array_length(ev->queued) == EVENTS_BATCH) {
		ev->full_batch = true;
		pthread_cond_signal(&ev->wake);
	}
	pthread_mutex_unlock(&ev->lock);
	if (full) {
		atomic_fetch_add(&ev->dropped, 1);
		json_object_put(event);
	}
}

void events_stop(struct events *ev)
{
	if (!ev)
		return;
	pthread_mutex_lock(&ev->lock);
	ev->stopping = true;
	pthread_cond_signal(&ev->wake);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->thread, NULL);
	json_object_put(ev->queued);
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->wake);
	free(ev->conninfo);
	free(ev);
}

unsigned long long events_written(const struct events *ev)
{
	return ev ? ev->written : 0;
}

unsigned long long events_dropped(const struct events *ev)
{
	return ev ? ev->dropped : 0;
}
