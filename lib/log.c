#include "ringlog/log.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ringlog/buf.h"

static const char *log_program = "ringlog";
static atomic_int log_max = LOG_INFO;

void log_init(const char *program, int max_priority)
{
	log_program = program;
	log_max = max_priority;
}

void log_set_level(int max_priority)
{
	log_max = max_priority;
}

void log_msg(int priority, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (priority > log_max)
		return;
	buf_addf(&line, "<%d>%s: ", priority, log_program);
	va_start(ap, fmt);
	buf_vaddf(&line, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < line.len; i++)
		if (line.data[i] == '\n' || line.data[i] == '\r')
			line.data[i] = ' ';
	buf_addch(&line, '\n');
	/* One write per line keeps lines whole when threads log at once. */
	(void)!write(STDERR_FILENO, line.data, line.len);
	buf_release(&line);
}

int err_set(struct errbuf *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}
