/* The counters ingestd keeps (registered by ingest_metrics_register). */
#ifndef RINGLOG_INGEST_METRICS_H
#define RINGLOG_INGEST_METRICS_H

#include "ringlog/metrics.h"
#include "ringlog/push.h"

/* Counts one push by its outcome (stored, duplicate, rejected, spooled, ...),
 * and per source when SOURCE (a configured source's name) is not NULL. */
void ingest_count_push(const char *source, const char *outcome);
/* Records the time a durable push took. */
void ingest_observe_push(double seconds);
void ingest_count_dead_letter(void);
/* A refusal of SRC not kept: its dead letters are at their byte budget
 * (counted, and logged once a minute at most per daemon). */
void ingest_dead_letter_dropped(const struct source *src, const struct push_options *o,
				const char *request_id);
/* Counts one look-up of ENDPOINT ("screenpop", "route") by RESULT (known,
 * unknown, found, not_found, rejected, failed). */
void ingest_count_lookup(const char *endpoint, const char *result);
/* Counts N numbers of a push to SOURCE that are valid for no region (kept
 * as sent, without E.164): ringlog_phone_invalid_total{source=...}. */
void ingest_count_invalid_phones(const char *source, unsigned n);

#endif
