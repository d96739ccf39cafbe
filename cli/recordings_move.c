/* ringlog recordings move --to s3: copies the blobs of the directory store
 * into the object store, then removes each local copy. Run it after the
 * daemons were switched to [recordings] store = s3 with the same blob_dir:
 * they read a blob the bucket does not have yet from the directory, and a
 * local copy goes only once the bucket has it (checked by its hash), so no
 * play fails at any moment. Stopping it is harmless; running it again goes
 * on where it stopped (an object already there is not sent again). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ringlog/blob.h"

#define CHUNK (256 * 1024)

static const char usage[] =
	"ringlog recordings move --to s3 [--limit N] [--keep] [--quiet]\n"
	"                     move the blobs of recordings.blob_dir into the bucket of\n"
	"                     recordings.store = s3 (resumable; switch the daemons first)";

struct move {
	struct blob_store *to, *from;
	long long total, total_bytes, done, done_bytes, failed, limit;
	bool keep, quiet;
	char *chunk;
	time_t last_report;
};

static int count_one(void *ctx, const struct blob_info *info)
{
	struct move *m = ctx;

	m->total++;
	m->total_bytes += (long long)info->size;
	return 0;
}

/* Copies blob KEY from the directory to the bucket; 0 or -1 with E. */
static int copy_one(struct move *m, const char *key, struct errbuf *e)
{
	struct blob_reader *r = NULL;
	struct blob_writer *w = NULL;
	struct blob_info got;
	uint64_t off = 0, size;
	int rc = -1;

	if (!(r = blob_open(m->from, key, NULL, e)) || !(w = blob_put_begin(m->to, 0, e)))
		goto out;
	size = blob_reader_size(r);
	while (off < size) {
		ssize_t n = blob_pread(r, m->chunk, CHUNK, off);

		if (n <= 0) {
			err_set(e, "cannot read blob %s", key);
			goto out;
		}
		if (blob_write(w, m->chunk, (size_t)n, e) < 0)
			goto out;
		off += (uint64_t)n;
	}
	if (blob_commit(w, &got, e) < 0)
		goto out;
	if (strcmp(got.key, key) != 0) { /* the file changed under its name: keep it */
		err_set(e, "blob %s does not hash to its name (%s): left where it is", key, got.key);
		goto out;
	}
	rc = 0;
out:
	blob_writer_free(w);
	blob_reader_close(r);
	return rc;
}

static void report(struct move *m, bool last)
{
	time_t now = time(NULL);

	if (m->quiet || (!last && now == m->last_report))
		return;
	m->last_report = now;
	printf("moved %lld/%lld blobs, %.1f/%.1f MiB%s\n", m->done, m->total,
	       (double)m->done_bytes / 1048576.0, (double)m->total_bytes / 1048576.0,
	       last ? (m->failed ? ", some failed (run again)" : ", done") : "");
	fflush(stdout);
}

static int move_one(void *ctx, const struct blob_info *info)
{
	struct move *m = ctx;
	struct errbuf e;

	if (m->limit >= 0 && m->done >= m->limit)
		return -1;
	if (copy_one(m, info->key, &e) < 0 || (!m->keep && blob_remove(m->from, info->key, &e) < 0)) {
		fprintf(stderr, "ringlog: %s\n", e.msg);
		m->failed++;
		return 0;
	}
	m->done++;
	m->done_bytes += (long long)info->size;
	report(m, false);
	return 0;
}

int cli_recordings_move(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "keep", no_argument, NULL, 'k' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct move m = { .limit = -1 };
	const char *to = NULL;
	struct errbuf e;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't')
			to = optarg;
		else if (c == 'l' && cli_is_number(optarg))
			m.limit = atoll(optarg);
		else if (c == 'k')
			m.keep = true;
		else if (c == 'q')
			m.quiet = true;
		else
			return cli_usage(usage);
	}
	if (optind != argc || !to || strcmp(to, "s3") != 0)
		return cli_usage(usage);
	if (!(m.to = cli_blobs(cli)))
		return 1;
	if (!blob_store_is_remote(m.to) || !(m.from = blob_store_fallback(m.to)))
		return cli_fail("recordings.store is not s3: set it (and s3_*) first, in the daemons too");
	if (blob_each(m.from, count_one, &m, &e) < 0)
		return cli_fail("cannot list %s: %s", blob_store_location(m.from), e.msg);
	m.chunk = malloc(CHUNK);
	if (!m.chunk)
		return cli_fail("out of memory");
	rc = blob_each(m.from, move_one, &m, &e);
	free(m.chunk);
	report(&m, true);
	if (rc < 0 && !(m.limit >= 0 && m.done >= m.limit))
		return cli_fail("move stopped: %s", e.msg);
	return m.failed ? 1 : 0;
}
