/* What every daemon's /metrics shows besides its own: the build, and the
 * process as the Prometheus client libraries describe it (read from /proc
 * at scrape time). */
#include "ringlog/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef RINGLOG_VERSION
#define RINGLOG_VERSION "unknown"
#endif

static const char *program_name = "ringlog";

/* Fields 14 on of /proc/self/stat (after the command's closing paren). */
struct proc_stat {
	double utime, stime, starttime, vsize, rss;
};

static int read_stat(struct proc_stat *st)
{
	char text[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	int field = 3;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	p = strrchr(text, ')');
	if (!p)
		return -1;
	p += 2; /* field 3: state */
	for (char *tok = strtok(p, " "); tok; tok = strtok(NULL, " "), field++) {
		double v = strtod(tok, NULL);

		if (field == 14) st->utime = v;
		else if (field == 15) st->stime = v;
		else if (field == 22) st->starttime = v;
		else if (field == 23) st->vsize = v;
		else if (field == 24) { st->rss = v; break; }
	}
	return field == 24 ? 0 : -1;
}

static double boot_time(void)
{
	char line[256];
	FILE *f = fopen("/proc/stat", "r");
	double bt = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "btime ", 6) == 0)
			bt = strtod(line + 6, NULL);
	fclose(f);
	return bt;
}

static double open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* not the one reading the directory */
}

static void render_process(struct buf *out, void *ctx)
{
	struct proc_stat st = { 0 };
	double tick = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	struct rlimit rl;

	(void)ctx;
	if (read_stat(&st) < 0)
		return;
	buf_addf(out, "process_cpu_seconds_total %.2f\n", (st.utime + st.stime) / tick);
	buf_addf(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		      "# TYPE process_resident_memory_bytes gauge\n"
		      "process_resident_memory_bytes %.0f\n", st.rss * page);
	buf_addf(out, "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
		      "# TYPE process_virtual_memory_bytes gauge\n"
		      "process_virtual_memory_bytes %.0f\n", st.vsize);
	buf_addf(out, "# HELP process_open_fds Number of open file descriptors.\n"
		      "# TYPE process_open_fds gauge\n"
		      "process_open_fds %.0f\n", open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		buf_addf(out, "# HELP process_max_fds Maximum number of open file descriptors.\n"
			      "# TYPE process_max_fds gauge\n"
			      "process_max_fds %.0f\n", (double)rl.rlim_cur);
	buf_addf(out, "# HELP process_start_time_seconds Start time of the process since the epoch in seconds.\n"
		      "# TYPE process_start_time_seconds gauge\n"
		      "process_start_time_seconds %.2f\n", boot_time() + st.starttime / tick);
}

static void render_build(struct buf *out, void *ctx)
{
	(void)ctx;
	buf_adds(out, "ringlog_build_info{program=\"");
	metrics_label_value(out, program_name);
	buf_adds(out, "\",version=\"");
	metrics_label_value(out, RINGLOG_VERSION);
	buf_adds(out, "\"} 1\n");
}

static struct metric build_info = METRIC_CUSTOM_INIT(
	"ringlog_build_info", "gauge", "The program and the version it was built from (always 1).", render_build);
static struct metric process = METRIC_CUSTOM_INIT(
	"process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
	render_process);

void metrics_register_process(const char *program)
{
	program_name = program;
	metrics_register(&build_info);
	metrics_register(&process);
}
