/* Where ringlog's data files are: next to the binary when installed
 * (<bindir>/../share/ringlog/X) or in the build tree, else where `make
 * install` put them (the DATADIR compiled in). */
#ifndef RINGLOG_PATHS_H
#define RINGLOG_PATHS_H

#include <stddef.h>

/* Writes to BUF the first existing directory for WHAT ("sql", "ui") and
 * returns BUF; returns the compiled-in location when none exists. */
const char *paths_data_dir(const char *what, char *buf, size_t len);

/* The configuration file read when none is named: SYSCONFDIR/ringlog/ringlog.conf
 * (/etc/ringlog/ringlog.conf as make install puts it). */
const char *paths_config_file(void);

#endif
