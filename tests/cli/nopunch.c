/* SPDX-License-Identifier: MIT */
/*
 * Preloaded under the fault tests: a filesystem that cannot punch holes
 * (as many cannot), so the zeroing fallbacks that then run get tested on
 * any host. Every other fallocate mode passes through.
 */
/* Both symbols are defined here, so neither may alias the other. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>

typedef int (*fallocate_fn)(int, int, off_t, off_t);

static int refuse_punch(const char *name, int fd, int mode, off_t off,
			off_t len)
{
	fallocate_fn real;

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	real = (fallocate_fn)dlsym(RTLD_NEXT, name);
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, mode, off, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	return refuse_punch("fallocate", fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	return refuse_punch("fallocate64", fd, mode, off, len);
}
