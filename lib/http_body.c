/* Request bodies: in memory, or (routes with HTTP_BODY_SPILL, past the
 * spill threshold) in an unlinked temp file that http_body() maps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "http_internal.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* An unlinked file for a large body: nobody else can see it, and it is gone
 * when closed, even after a crash. */
static int spill_file(const struct http_options *o)
{
	const char *dir = o->spill_dir && *o->spill_dir ? o->spill_dir : "/tmp";
	struct buf name = BUF_INIT;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		return fd;
	buf_addf(&name, "%s/.body-XXXXXX", dir);
	fd = mkostemp(name.data, O_CLOEXEC);
	if (fd >= 0)
		unlink(name.data);
	buf_release(&name);
	return fd;
}

int http_body_add(struct http_request *req, const struct http_options *o, const char *data,
		  size_t n)
{
	if (req->body_fd < 0 && req->route->wants_body == HTTP_BODY_SPILL &&
	    req->body.len + n > (size_t)o->spill_threshold) {
		req->body_fd = spill_file(o);
		if (req->body_fd < 0 || write_all(req->body_fd, buf_str(&req->body), req->body.len) < 0)
			return -1;
		buf_release(&req->body);
	}
	if (req->body_fd >= 0) {
		if (write_all(req->body_fd, data, n) < 0)
			return -1;
	} else {
		buf_add(&req->body, data, n);
	}
	req->body_size += n;
	return 0;
}

void http_body_release(struct http_request *req)
{
	if (req->body_map)
		munmap(req->body_map, req->body_size);
	if (req->body_fd >= 0)
		close(req->body_fd);
	req->body_map = NULL;
	req->body_fd = -1;
}

const char *http_body(struct http_request *req, size_t *len)
{
	void *map;

	*len = 0;
	if (req->body_fd < 0) {
		*len = req->body.len;
		return req->body.data;
	}
	if (!req->body_map && req->body_size) {
		map = mmap(NULL, req->body_size, PROT_READ, MAP_SHARED, req->body_fd, 0);
		if (map == MAP_FAILED)
			return NULL;
		madvise(map, req->body_size, MADV_SEQUENTIAL);
		req->body_map = map;
	}
	*len = req->body_map ? req->body_size : 0;
	return req->body_map;
}
