#include "ringlog/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

#define SPOOL_SUFFIX ".push"
#define SPOOL_MAGIC "ringlog-spool 1\n"

struct spool {
	char *dir;
	int dir_fd;
	int lock_fd;
	long long max_bytes;
	atomic_llong bytes;
	atomic_size_t depth;
	atomic_ullong seq;
	pthread_mutex_t drain_lock;
};

static bool is_spool_file(const char *name)
{
	size_t n = strlen(name), s = strlen(SPOOL_SUFFIX);

	return n > s && strcmp(name + n - s, SPOOL_SUFFIX) == 0 && name[0] != '.';
}

static void count_existing(struct spool *s)
{
	DIR *d = fdopendir(dup(s->dir_fd));
	struct dirent *de;
	struct stat st;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' && strncmp(de->d_name, ".tmp-", 5) == 0) {
			/* a write that never finished: it was never acknowledged */
			unlinkat(s->dir_fd, de->d_name, 0);
			continue;
		}
		if (!is_spool_file(de->d_name) || fstatat(s->dir_fd, de->d_name, &st, 0) < 0)
			continue;
		s->depth++;
		s->bytes += st.st_size;
	}
	closedir(d);
}

struct spool *spool_open(const char *dir, long long max_bytes, struct errbuf *e)
{
	struct spool *s;
	int dfd, lfd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(e, "cannot create spool directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err_set(e, "cannot open spool directory %s: %s", dir, strerror(errno));
		return NULL;
	}
	lfd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, "spool directory %s is in use by another process (or unlockable: %s)",
			dir, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(dir);
	s->dir_fd = dfd;
	s->lock_fd = lfd;
	s->max_bytes = max_bytes;
	pthread_mutex_init(&s->drain_lock, NULL);
	count_existing(s);
	return s;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	close(s->lock_fd);
	close(s->dir_fd);
	pthread_mutex_destroy(&s->drain_lock);
	free(s->dir);
	free(s);
}

size_t spool_depth(struct spool *s)
{
	return s->depth;
}

long long spool_bytes(struct spool *s)
{
	return s->bytes;
}

/* The header line: what the push carried besides its body, as JSON (the
 * body follows it in the file, written from where it is: no copy of a
 * large one in memory). */
static void encode(const struct push *p, struct buf *out)
{
	json_object *h = json_object_new_object();

	json_object_object_add(h, "source", json_object_new_string(p->source));
	json_object_object_add(h, "method", json_object_new_string(p->method));
	if (p->content_type)
		json_object_object_add(h, "content_type", json_object_new_string(p->content_type));
	json_object_object_add(h, "query", json_object_new_string(p->query ? p->query : ""));
	if (p->request_id)
		json_object_object_add(h, "request_id", json_object_new_string(p->request_id));
	json_object_object_add(h, "received_us", json_object_new_int64(p->received_us));
	buf_adds(out, SPOOL_MAGIC);
	buf_adds(out, json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	buf_addch(out, '\n');
	json_object_put(h);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int spool_put(struct spool *s, const struct push *p, struct errbuf *e)
{
	struct buf data = BUF_INIT;
	char tmp[80], name[64];
	unsigned long long seq = ++s->seq;
	struct timespec ts;
	long long size;
	int fd = -1, rc = -1;

	encode(p, &data);
	size = (long long)(data.len + p->body_len);
	if (s->bytes + size > s->max_bytes) {
		err_set(e, "spool is full (%lld of %lld bytes)", (long long)s->bytes, s->max_bytes);
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Names sort in arrival order: time, then a per-process sequence. */
	snprintf(name, sizeof(name), "%013lld%06ld-%08llx" SPOOL_SUFFIX, (long long)ts.tv_sec,
		 ts.tv_nsec / 1000, seq);
	snprintf(tmp, sizeof(tmp), ".tmp-%s", name);
	fd = openat(s->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(e, "cannot create spool file: %s", strerror(errno));
		goto out;
	}
	if (write_all(fd, data.data, data.len) < 0 || write_all(fd, p->body, p->body_len) < 0 ||
	    fsync(fd) < 0) {
		err_set(e, "cannot write spool file: %s", strerror(errno));
		goto out_unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, "cannot write spool file: %s", strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (renameat(s->dir_fd, tmp, s->dir_fd, name) < 0) {
		err_set(e, "cannot commit spool file: %s", strerror(errno));
		goto out_unlink;
	}
	if (fsync(s->dir_fd) < 0) {
		/* Not durable, so not acknowledged: and not drained later either. */
		err_set(e, "cannot commit spool file: %s", strerror(errno));
		unlinkat(s->dir_fd, name, 0);
		goto out;
	}
	s->depth++;
	s->bytes += size;
	rc = 0;
	goto out;
out_unlink:
	unlinkat(s->dir_fd, tmp, 0);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&data);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The spooled file names, sorted; caller frees each and the array. */
static char **list_files(struct spool *s, size_t *count)
{
	DIR *d = fdopendir(dup(s->dir_fd));
	struct dirent *de;
	size_t n = 0, cap = 16;
	char **names = xcalloc(cap, sizeof(*names));

	if (d) {
		rewinddir(d);
		while ((de = readdir(d))) {
			if (!is_spool_file(de->d_name))
				continue;
			if (n == cap)
				names = xrealloc(names, (cap *= 2) * sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
		closedir(d);
	}
	qsort(names, n, sizeof(*names), cmp_names);
	*count = n;
	return names;
}

static int read_file(struct spool *s, const char *name, struct buf *out)
{
	int fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC);
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

static const char *header_str(json_object *h, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(h, key, &v) ? json_object_get_string(v) : NULL;
}

/* Parses a spool file into P (borrowing from DATA and *HEADER). */
static int decode(struct buf *data, json_object **header, struct push *p)
{
	size_t mlen = strlen(SPOOL_MAGIC);
	char *nl;
	json_object *v;

	if (data->len < mlen || memcmp(data->data, SPOOL_MAGIC, mlen) != 0)
		return -1;
	nl = memchr(data->data + mlen, '\n', data->len - mlen);
	if (!nl)
		return -1;
	*nl = '\0';
	*header = json_tokener_parse(data->data + mlen);
	if (!*header)
		return -1;
	memset(p, 0, sizeof(*p));
	p->source = header_str(*header, "source");
	p->method = header_str(*header, "method");
	p->content_type = header_str(*header, "content_type");
	p->query = header_str(*header, "query");
	p->request_id = header_str(*header, "request_id");
	if (json_object_object_get_ex(*header, "received_us", &v))
		p->received_us = json_object_get_int64(v);
	p->body = nl + 1;
	p->body_len = data->len - (size_t)(nl + 1 - data->data);
	return p->source && p->method ? 0 : -1;
}

static void forget(struct spool *s, const char *name, long long size)
{
	unlinkat(s->dir_fd, name, 0);
	s->depth--;
	s->bytes -= size;
}

/* One spooled push read into memory, for a batch of the drain. */
struct spooled {
	char *name;
	struct buf data;
	json_object *header;
	struct push push;
};

/* Reads spooled files from NAMES[*NEXT] on into BATCH, up to MAX pushes and
 * about SPOOL_BATCH_BYTES; an unreadable file is set aside under a name the
 * drain skips, never deleted. Returns how many were read. */
static size_t read_batch(struct spool *s, char **names, size_t count, size_t *next,
			 struct spooled *batch, size_t max)
{
	size_t n = 0, bytes = 0;

	while (*next < count && n < max && bytes < SPOOL_BATCH_BYTES) {
		struct spooled *b = &batch[n];

		b->name = names[(*next)++];
		b->data = (struct buf)BUF_INIT;
		b->header = NULL;
		if (read_file(s, b->name, &b->data) < 0 || decode(&b->data, &b->header, &b->push) < 0) {
			char bad[80];

			snprintf(bad, sizeof(bad), "%s.corrupt", b->name);
			renameat(s->dir_fd, b->name, s->dir_fd, bad);
			s->depth--;
			log_msg(LOG_ERR, "spool file %s/%s is unreadable: kept as %s", s->dir, b->name, bad);
			json_object_put(b->header);
			buf_release(&b->data);
			continue;
		}
		bytes += b->data.len;
		n++;
	}
	return n;
}

size_t spool_drain(struct spool *s, size_t max_batch, spool_fn fn, void *ctx)
{
	size_t count, next = 0, done = 0, n, dealt;
	struct spooled *batch;
	struct push *pushes;
	char **names;

	if (pthread_mutex_trylock(&s->drain_lock) != 0)
		return 0;
	if (max_batch == 0)
		max_batch = 1;
	names = list_files(s, &count);
	batch = xcalloc(max_batch, sizeof(*batch));
	pushes = xcalloc(max_batch, sizeof(*pushes));
	do {
		n = read_batch(s, names, count, &next, batch, max_batch);
		for (size_t i = 0; i < n; i++)
			pushes[i] = batch[i].push;
		dealt = n ? fn(ctx, pushes, n) : 0;
		for (size_t i = 0; i < n; i++) {
			if (i < dealt)
				forget(s, batch[i].name, (long long)batch[i].data.len);
			json_object_put(batch[i].header);
			buf_release(&batch[i].data);
		}
		done += dealt < n ? dealt : n;
	} while (n > 0 && dealt >= n);
	if (done)
		fsync(s->dir_fd);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	free(batch);
	free(pushes);
	pthread_mutex_unlock(&s->drain_lock);
	return done;
}
