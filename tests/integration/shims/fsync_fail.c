/* LD_PRELOAD shim for the tests: fsync() and fdatasync() fail with EIO on
 * files (RINGLOG_SHIM_FSYNC=file: not on directories, so code that skips
 * the file's own fsync is caught), or on directories only (=dir), as a
 * dying disk or a full thin pool makes them. Built by the test with cc. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fails(int fd)
{
	const char *mode = getenv("RINGLOG_SHIM_FSYNC");
	struct stat st;

	if (!mode || fstat(fd, &st) < 0)
		return 0;
	return strcmp(mode, S_ISDIR(st.st_mode) ? "dir" : "file") == 0;
}

int fsync(int fd)
{
	static int (*real)(int);

	if (fails(fd)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	return real(fd);
}

int fdatasync(int fd)
{
	static int (*real)(int);

	if (fails(fd)) {
		errno = EIO;
		return -1;
	}
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	return real(fd);
}
