/* Screen-pop events of calls in progress (ringing per station, talking,
 * hangup), recorded off the request path: a handler queues its event and
 * answers; one thread writes what is queued every EVENTS_FLUSH_MS (or as
 * soon as EVENTS_BATCH wait) with one COPY. call_events is UNLOGGED: a live
 * view, not a record. A full queue or a crash loses events, never a screen
 * pop.
 *
 * Events are queued as COPY text lines, not as JSON for jsonb_to_recordset:
 * the server parses them in a quarter of the time (about 3 against 12 us an
 * event, measured on 20,000), which a ringing group of 10 stations at 15k
 * look-ups/s feels in the look-ups' p99. */
#ifndef RINGLOG_INGEST_EVENTS_H
#define RINGLOG_INGEST_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "ringlog/log.h"

#define EVENTS_FLUSH_MS 200
/* Queued events that wake the writer before its time. Small batches keep
 * each COPY short: the look-ups' p99 at 10 connections on 2 cores was about
 * 4 ms with batches of 2,000 and 2 to 3 ms with 100, the same work in all. */
#define EVENTS_BATCH 100

struct events;

/* One row of call_events. Text fields may be NULL (SQL NULL); text that is
 * not UTF-8 is kept as NULL rather than failing its batch. */
struct call_event {
	int64_t source_id;
	const char *pbx_call_id, *status, *phone, *phone_e164, *caller_name, *agent, *did,
		*direction;
	int64_t lead_id; /* 0: none */
	int64_t at_us;   /* when the screen pop arrived, microseconds since the epoch */
};

/* Starts the writer for CONNINFO (copied), keeping at most MAX_QUEUED events
 * waiting. Returns NULL with E filled. */
struct events *events_start(const char *conninfo, size_t max_queued, struct errbuf *e);
/* Queues a copy of EVENT; drops it when the queue is full. Never blocks on
 * the database. */
void events_record(struct events *ev, const struct call_event *event);
/* Writes what is queued, then stops the writer. NULL is a no-op. */
void events_stop(struct events *ev);

/* Events written and dropped, for /metrics. */
unsigned long long events_written(const struct events *ev);
unsigned long long events_dropped(const struct events *ev);

#endif
