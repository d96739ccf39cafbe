/* Configuration files: libinih's parsing and ringlog's values (numbers,
 * sizes with suffixes, booleans, strings) through conf_load.
 * The file is handed over as /proc/self/fd/N of a memfd. */
// fuzz-seeds: tests/fixtures/config/*.conf etc/ringlog.conf
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "ringlog/conf.h"

struct cfg {
	char *url, *listen;
	long long threads, max_body, spool_max;
	bool flag;
};

#define KEY(sec, name, type, field, def, min, max) \
	{ sec, name, type, offsetof(struct cfg, field), def, min, max, false, "" }

static const struct conf_key keys[] = {
	KEY("database", "url", CONF_STRING, url, "", 0, 0),
	KEY("ingest", "listen", CONF_STRING, listen, "127.0.0.1:8080", 0, 0),
	KEY("ingest", "threads", CONF_INT, threads, "16", 1, 256),
	KEY("ingest", "max_body", CONF_BYTES, max_body, "1M", 1024, 1LL << 30),
	KEY("ingest", "spool_max", CONF_BYTES, spool_max, "1G", 1024, 1LL << 50),
	KEY("ingest", "flag", CONF_BOOL, flag, "no", 0, 0),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-conf", MFD_CLOEXEC);
	char path[64], *argv[] = { (char *)"fuzz", (char *)"--config", path, NULL };
	struct cfg c = { 0 };
	struct conf_cli cli;
	struct errbuf e;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (conf_load(keys, RL_ARRAY_LEN(keys), "ingest", NULL, &c, 3, argv, &cli, &e) == 0)
			FUZZ_ASSERT(c.threads >= 1 && c.threads <= 256 && c.max_body >= 1024 &&
				    c.max_body <= 1LL << 30 && c.spool_max >= 1024);
		conf_release(keys, RL_ARRAY_LEN(keys), &c);
	}
	close(fd);
	return 0;
}
