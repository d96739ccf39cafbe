/* The open leads by number, in memory, for screen pop: loaded once, then
 * kept true by LISTEN ringlog_leads (sql/030: statement triggers on leads
 * NOTIFY the numbers they changed), so a lead written on any node is seen
 * by every daemon as soon as its transaction commits. While the listener
 * is not connected (start, a lost database) the cache says so and callers
 * ask PostgreSQL instead. */
#ifndef RINGLOG_INGEST_LEADCACHE_H
#define RINGLOG_INGEST_LEADCACHE_H

#include <stdbool.h>
#include <stddef.h>

/* What screen pop shows of the oldest open lead of a number. */
struct lead_view {
	long long total; /* open leads of the number; 0: none (the rest unset) */
	long long id;
	char *crm_id;    /* NULL when the lead has none */
	char *name, *company;
	char *crm_url;   /* "" when none */
};

struct leadcache;

/* Starts the listener thread for CONNINFO (copied). Never fails: the cache
 * fills once connected. MAX_NUMBERS caps what it holds (beyond: it stays
 * off and look-ups go to PostgreSQL). */
struct leadcache *leadcache_start(const char *conninfo, size_t max_numbers);
void leadcache_stop(struct leadcache *lc);
/* Fills V for the E.164 digits PHONE (free with lead_view_release) and
 * returns true when the cache is current; false when it cannot answer. */
bool leadcache_get(struct leadcache *lc, const char *phone, struct lead_view *v);
void lead_view_release(struct lead_view *v);
/* Numbers held, look-ups answered from memory, notifications applied. */
size_t leadcache_numbers(const struct leadcache *lc);
unsigned long long leadcache_hits(const struct leadcache *lc);
unsigned long long leadcache_updates(const struct leadcache *lc);

#endif
