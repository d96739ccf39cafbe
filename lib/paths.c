#include "ringlog/paths.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef RINGLOG_SYSCONFDIR
#define RINGLOG_SYSCONFDIR "/etc"
#endif
#ifndef RINGLOG_DATADIR
#define RINGLOG_DATADIR "/usr/local/share/ringlog"
#endif

static bool is_dir(const char *path)
{
	DIR *d = opendir(path);

	if (d)
		closedir(d);
	return d != NULL;
}

const char *paths_data_dir(const char *what, char *buf, size_t len)
{
	/* installed (relocatable), then the build tree (build/VARIANT/bin) */
	static const char *const beside[] = { "/../share/ringlog/", "/../../../" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
			snprintf(buf, len, "%s%s%s", exe, beside[i], what);
			if (is_dir(buf))
				return buf;
		}
	}
	snprintf(buf, len, "%s/%s", RINGLOG_DATADIR, what);
	return buf;
}

const char *paths_config_file(void)
{
	return RINGLOG_SYSCONFDIR "/ringlog/ringlog.conf";
}
