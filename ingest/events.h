/* Screen-pop events of calls in progress (ringing per station, talking,
 * hangup), recorded off the request path: a handler queues its event and
 * answers; one thread writes what is queued every EVENTS_FLUSH_MS (or as
 * soon as EVENTS_BATCH wait) in one statement. call_events is UNLOGGED: a live view, not a record. A full
 * queue or a crash loses events, never a screen pop. */
#ifndef RINGLOG_INGEST_EVENTS_H
#define RINGLOG_INGEST_EVENTS_H

#include <json-c/json.h>
#include <stddef.h>

#include "ringlog/log.h"

#define EVENTS_FLUSH_MS 200
/* Queued events that wake the writer before its time. */
#define EVENTS_BATCH 2000

struct events;

/* Starts the writer for CONNINFO (copied), keeping at most MAX_QUEUED events
 * waiting. Returns NULL with E filled. */
struct events *events_start(const char *conninfo, size_t max_queued, struct errbuf *e);
/* Queues EVENT (taken: an object of call_events' columns, "at" included);
 * drops it when the queue is full. Never blocks on the database. */
void events_record(struct events *ev, json_object *event);
/* Writes what is queued, then stops the writer. NULL is a no-op. */
void events_stop(struct events *ev);

/* Events written and dropped, for /metrics. */
unsigned long long events_written(const struct events *ev);
unsigned long long events_dropped(const struct events *ev);

#endif
