/* The file-system backend of the blob store. Layout under the root:
 *   ab/cd/abcd…(64 hex)   a blob, fanned out by its first two bytes
 *   tmp/NAME.part          puts in progress (removed after a day if left)
 * A put writes tmp/NAME.part, fsyncs it, renames it to its key and fsyncs
 * the directory, so a blob is either whole under its name or absent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blob_internal.h"
#include "ringlog/buf.h"
#include "ringlog/xalloc.h"

#define TMP_MAX_AGE (24 * 3600)

struct fs_store {
	char *root;
	atomic_bool swept; /* stale temp files looked for once per process */
	atomic_ullong seq;
};

struct fs_writer {
	struct fs_store *s;
	char *tmp; /* NULL once renamed or removed */
	int fd;
};

struct fs_reader {
	int fd;
};

static void blob_path(const struct fs_store *s, const char *key, struct buf *out)
{
	buf_addf(out, "%s/%.2s/%.2s/%s", s->root, key, key + 2, key);
}

static int fsync_dir(const char *path, struct errbuf *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return err_set(e, "cannot open %s: %s", path, strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc < 0 ? err_set(e, "cannot fsync %s: %s", path, strerror(errno)) : 0;
}

/* Makes directory PATH if missing; a new one is made durable in PARENT. */
static int make_dir(const char *path, const char *parent, struct errbuf *e)
{
	if (mkdir(path, 0750) == 0)
		return parent ? fsync_dir(parent, e) : 0;
	if (errno == EEXIST)
		return 0;
	return err_set(e, "cannot create %s: %s", path, strerror(errno));
}

static void *fs_open(const char *location, struct errbuf *e)
{
	struct fs_store *s;
	size_t n = strlen(location);

	while (n > 1 && location[n - 1] == '/')
		n--;
	if (location[0] != '/') {
		err_set(e, "the blob directory \"%s\" must be an absolute path", location);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->root = xstrndup(location, n);
	return s;
}

static void fs_close(void *store)
{
	struct fs_store *s = store;

	free(s->root);
	free(s);
}

/* Temp files left by a crash: never acknowledged, safe to remove once old. */
static void sweep_tmp(struct fs_store *s, const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 6 || strcmp(de->d_name + n - 5, ".part") != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && now - st.st_mtime > TMP_MAX_AGE)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	(void)s;
}

static void *fs_begin(void *store, struct errbuf *e)
{
	struct fs_store *s = store;
	struct buf dir = BUF_INIT, name = BUF_INIT;
	struct fs_writer *w = NULL;
	unsigned char rnd[6];
	char hex[13];
	int fd;

	buf_addf(&dir, "%s/tmp", s->root);
	if (make_dir(s->root, NULL, e) < 0 || make_dir(dir.data, s->root, e) < 0)
		goto out;
	if (!atomic_exchange(&s->swept, true))
		sweep_tmp(s, dir.data);
	if (auth_random_bytes(rnd, sizeof(rnd)) < 0)
		memset(rnd, 0, sizeof(rnd));
	auth_hex(rnd, sizeof(rnd), hex);
	buf_addf(&name, "%s/%ld-%llu-%s.part", dir.data, (long)getpid(),
		 (unsigned long long)atomic_fetch_add(&s->seq, 1), hex);
	fd = open(name.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		err_set(e, "cannot create %s: %s", name.data, strerror(errno));
		goto out;
	}
	w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->fd = fd;
	w->tmp = buf_detach(&name, NULL);
out:
	buf_release(&dir);
	buf_release(&name);
	return w;
}

static int fs_write(void *writer, const void *data, size_t len, struct errbuf *e)
{
	struct fs_writer *w = writer;
	const char *p = data;

	while (len) {
		ssize_t n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_set(e, "cannot write %s: %s", w->tmp ? w->tmp : "blob", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t fs_pread(void *writer, void *buf, size_t len, uint64_t offset)
{
	struct fs_writer *w = writer;
	ssize_t n;

	do
		n = pread(w->fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	return n;
}

/* The two fan-out directories of KEY, made durable when new. */
static int make_fanout(struct fs_store *s, const char *key, struct buf *leaf, struct errbuf *e)
{
	struct buf mid = BUF_INIT;
	int rc;

	buf_addf(&mid, "%s/%.2s", s->root, key);
	buf_addf(leaf, "%s/%.2s", mid.data, key + 2);
	rc = make_dir(mid.data, s->root, e) < 0 || make_dir(leaf->data, mid.data, e) < 0 ? -1 : 0;
	buf_release(&mid);
	return rc;
}

static int fs_commit(void *writer, const char *key, struct blob_info *info, struct errbuf *e)
{
	struct fs_writer *w = writer;
	struct buf leaf = BUF_INIT, path = BUF_INIT;
	struct stat st;
	int rc = -1;

	if (make_fanout(w->s, key, &leaf, e) < 0)
		goto out;
	blob_path(w->s, key, &path);
	if (stat(path.data, &st) == 0 && (uint64_t)st.st_size == info->size) {
		/* The same content is there already: keep it, drop ours. */
		unlink(w->tmp);
	} else {
		if (fsync(w->fd) < 0) {
			err_set(e, "cannot fsync %s: %s", w->tmp, strerror(errno));
			goto out;
		}
		if (rename(w->tmp, path.data) < 0) {
			err_set(e, "cannot rename %s to %s: %s", w->tmp, path.data, strerror(errno));
			goto out;
		}
		if (fstat(w->fd, &st) < 0)
			st.st_mtime = time(NULL);
	}
	free(w->tmp);
	w->tmp = NULL;
	/* Even for a blob found there: its writer may not have synced yet. */
	if (fsync_dir(leaf.data, e) < 0)
		goto out;
	info->mtime = st.st_mtime;
	rc = 0;
out:
	buf_release(&leaf);
	buf_release(&path);
	return rc;
}

static void fs_discard(void *writer)
{
	struct fs_writer *w = writer;

	if (w->tmp)
		unlink(w->tmp);
	close(w->fd);
	free(w->tmp);
	free(w);
}

static void *fs_open_reader(void *store, const char *key, uint64_t *size, bool *missing,
			    struct errbuf *e)
{
	struct buf path = BUF_INIT;
	struct fs_reader *r = NULL;
	struct stat st;
	int fd;

	blob_path(store, key, &path);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*missing = errno == ENOENT;
		err_set(e, "cannot open blob %s: %s", key, strerror(errno));
	} else if (fstat(fd, &st) < 0) {
		err_set(e, "cannot stat blob %s: %s", key, strerror(errno));
		close(fd);
	} else {
		r = xcalloc(1, sizeof(*r));
		r->fd = fd;
		*size = (uint64_t)st.st_size;
	}
	buf_release(&path);
	return r;
}

static ssize_t fs_read_at(void *reader, void *buf, size_t len, uint64_t offset)
{
	struct fs_reader *r = reader;
	ssize_t n;

	do
		n = pread(r->fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	return n;
}

static int fs_fd(void *reader)
{
	return ((struct fs_reader *)reader)->fd;
}

static void fs_close_reader(void *reader)
{
	struct fs_reader *r = reader;

	close(r->fd);
	free(r);
}

static int fs_stat(void *store, const char *key, struct blob_info *info, bool *missing,
		   struct errbuf *e)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int rc = 0;

	blob_path(store, key, &path);
	if (stat(path.data, &st) < 0) {
		*missing = errno == ENOENT;
		rc = err_set(e, "cannot stat blob %s: %s", key, strerror(errno));
	} else {
		info->size = (uint64_t)st.st_size;
		info->mtime = st.st_mtime;
	}
	buf_release(&path);
	return rc;
}

static int fs_remove(void *store, const char *key, struct errbuf *e)
{
	struct fs_store *s = store;
	struct buf path = BUF_INIT, leaf = BUF_INIT;
	int rc = 0;

	blob_path(s, key, &path);
	buf_addf(&leaf, "%s/%.2s/%.2s", s->root, key, key + 2);
	if (unlink(path.data) < 0 && errno != ENOENT)
		rc = err_set(e, "cannot remove blob %s: %s", key, strerror(errno));
	else if (access(leaf.data, F_OK) == 0)
		rc = fsync_dir(leaf.data, e);
	buf_release(&path);
	buf_release(&leaf);
	return rc;
}

static bool is_fanout(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

/* The blobs in one leaf directory DIR (its path PATH). */
static int each_leaf(const char *path, int (*fn)(void *, const struct blob_info *), void *ctx)
{
	DIR *d = opendir(path);
	struct dirent *de;
	struct blob_info info;
	struct stat st;
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!blob_key_is_valid(de->d_name) || fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		memset(&info, 0, sizeof(info));
		memcpy(info.key, de->d_name, BLOB_KEY_LEN + 1);
		if (auth_unhex(info.key, info.sha256, AUTH_SHA256_LEN) < 0)
			continue;
		info.size = (uint64_t)st.st_size;
		info.mtime = st.st_mtime;
		rc = fn(ctx, &info);
	}
	closedir(d);
	return rc;
}

static int fs_each(void *store, int (*fn)(void *ctx, const struct blob_info *info), void *ctx,
		   struct errbuf *e)
{
	struct fs_store *s = store;
	DIR *top = opendir(s->root);
	struct dirent *a;
	int rc = 0;

	if (!top)
		return errno == ENOENT ? 0 : err_set(e, "cannot read %s: %s", s->root, strerror(errno));
	while (rc == 0 && (a = readdir(top))) {
		struct buf mid = BUF_INIT;
		DIR *md;
		struct dirent *b;

		if (!is_fanout(a->d_name))
			continue;
		buf_addf(&mid, "%s/%s", s->root, a->d_name);
		md = opendir(mid.data);
		while (md && rc == 0 && (b = readdir(md))) {
			struct buf leaf = BUF_INIT;

			if (!is_fanout(b->d_name))
				continue;
			buf_addf(&leaf, "%s/%s", mid.data, b->d_name);
			rc = each_leaf(leaf.data, fn, ctx);
			buf_release(&leaf);
		}
		if (md)
			closedir(md);
		buf_release(&mid);
	}
	closedir(top);
	return rc < 0 ? err_set(e, "stopped") : 0;
}

const struct blob_backend blob_fs_backend = {
	.scheme = "file",
	.open = fs_open,
	.close = fs_close,
	.begin = fs_begin,
	.write = fs_write,
	.pread = fs_pread,
	.commit = fs_commit,
	.discard = fs_discard,
	.open_reader = fs_open_reader,
	.read_at = fs_read_at,
	.fd = fs_fd,
	.close_reader = fs_close_reader,
	.stat = fs_stat,
	.remove = fs_remove,
	.each = fs_each,
};
