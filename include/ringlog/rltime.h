/* Call times as PBXs send them: ISO 8601 with or without an offset, epoch
 * seconds (or ms, µs), or naive wall-clock text. A time without an offset is
 * kept naive and read in the source's IANA zone by PostgreSQL, which owns the
 * time zone database (glibc has no thread-safe per-zone conversion). */
#ifndef RINGLOG_RLTIME_H
#define RINGLOG_RLTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "ringlog/compiler.h"

struct rltime {
	bool set;
	bool naive;   /* wall clock in the source's zone; offset unknown */
	int64_t sec;  /* seconds since 1970-01-01T00:00:00 (UTC, or wall clock when naive) */
	int32_t usec; /* 0..999999 */
};

/* How a bare number is read. */
enum rltime_epoch {
	RLTIME_EPOCH_UTC,   /* a true Unix epoch */
	RLTIME_EPOCH_LOCAL, /* wall-clock seconds written as an epoch (Voicenter's `time`) */
};

enum rltime_status { RLTIME_OK = 0, RLTIME_EMPTY = 1, RLTIME_INVALID = -1 };

/* Parses TEXT into OUT. Empty text, "0" and Asterisk's all-zero date are
 * RLTIME_EMPTY ("never", e.g. a call never answered). */
enum rltime_status rltime_parse(const char *text, enum rltime_epoch epoch, struct rltime *out) RL_MUST_CHECK;
/* Builds a time from an epoch number in seconds, ms or µs (told apart by size). */
enum rltime_status rltime_from_number(double value, enum rltime_epoch epoch, struct rltime *out) RL_MUST_CHECK;
/* Writes T for PostgreSQL: "YYYY-MM-DD HH:MM:SS.ffffff+00" when absolute,
 * the same without "+00" when naive. OUT has room for RLTIME_TEXT_LEN. */
#define RLTIME_TEXT_LEN 64
void rltime_format(const struct rltime *t, char out[RLTIME_TEXT_LEN]);
/* Days since 1970-01-01 of a proleptic Gregorian date (may be negative). */
int64_t rltime_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
