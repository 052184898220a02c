/* SPDX-License-Identifier: MIT */
/*
 * Preloaded under the fault tests: a disk that fails. With
 * XENPMEM_FAULT_READ=OFFSET,LENGTH every pread touching that byte range
 * fails with EIO (a bad sector, or poison under a page-cache file); with
 * XENPMEM_FAULT_FDATASYNC=1 every fdatasync and fsync fails with EIO, as
 * after a write-back error. Everything else passes through.
 */
/* Both symbols are defined here, so neither may alias the other. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*pread_fn)(int, void *, size_t, off64_t);
typedef int (*sync_fn)(int);

static int bad_range(off64_t off, size_t len)
{
	const char *env = getenv("XENPMEM_FAULT_READ");
	unsigned long long s, n;

	if (!env || sscanf(env, "%llu,%llu", &s, &n) != 2)
		return 0;
	return (unsigned long long)off < s + n &&
	       s < (unsigned long long)off + len;
}

static ssize_t faulty_pread(const char *name, int fd, void *buf, size_t len,
			    off64_t off)
{
	pread_fn real = (pread_fn)dlsym(RTLD_NEXT, name);

	if (bad_range(off, len)) {
		errno = EIO;
		return -1;
	}
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len, off);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	return faulty_pread("pread", fd, buf, len, off);
}

ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	return faulty_pread("pread64", fd, buf, len, off);
}

static int faulty_sync(const char *name, int fd)
{
	const char *env = getenv("XENPMEM_FAULT_FDATASYNC");
	sync_fn real = (sync_fn)dlsym(RTLD_NEXT, name);

	if (env && *env == '1') {
		errno = EIO;
		return -1;
	}
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd);
}

int fdatasync(int fd)
{
	return faulty_sync("fdatasync", fd);
}

int fsync(int fd)
{
	return faulty_sync("fsync", fd);
}
