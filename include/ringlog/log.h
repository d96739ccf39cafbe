/* Logging: one line per event on stderr, with an sd-daemon priority prefix
 * ("<3>" ... "<7>") that journald understands. Lower layers never log; they
 * fill a struct errbuf and the layer that decides what happens logs once. */
#ifndef RINGLOG_LOG_H
#define RINGLOG_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

#include "ringlog/compiler.h"

/* Sets the program name printed after the prefix and the lowest priority
 * written (LOG_DEBUG shows everything). */
void log_init(const char *program, int max_priority);
/* Changes the lowest priority written (a reload); safe while threads log. */
void log_set_level(int max_priority);
void log_msg(int priority, const char *fmt, ...) RL_PRINTF(2, 3);

/* An error message a lower layer hands to its caller. */
struct errbuf {
	char msg[512];
};

/* Fills E (which may be NULL) and returns -1, so `return err_set(...)` reads. */
int err_set(struct errbuf *e, const char *fmt, ...) RL_PRINTF(2, 3);

#endif
