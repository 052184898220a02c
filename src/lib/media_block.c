/* SPDX-License-Identifier: MIT */
/*
 * Block devices (/dev/pmemN in raw mode), which libpmem2 does not map, and
 * regular files on a filesystem without MAP_SYNC: pwrite into the page
 * cache, fdatasync as the fence. The pmem driver copies a whole page per
 * write-back, rewriting unchanged bytes with their old values, so a torn
 * write-back can only tear bytes we changed.
 *
 * Files take this path rather than a mapping because a mapping turns
 * errors into signals: a store into a sparse hole on a full filesystem
 * raises SIGBUS, and libpmem2 aborts when msync fails. pwrite and
 * fdatasync return ENOSPC and EIO instead, which become one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xp_internal.h"

#define ZERO_CHUNK (64ull << 20)

static int b_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(m->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return xp_err(n < 0 ? errno : EIO, m->target,
				      "read at %#llx: %s", (unsigned long long)off,
				      n < 0 ? strerror(errno) : "short read");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int b_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(m->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return xp_err(n < 0 ? errno : EIO, m->target,
				      "write at %#llx: %s",
				      (unsigned long long)off,
				      n < 0 ? strerror(errno) : "short write");
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int b_flush(struct xp_media *m, uint64_t off, size_t len)
{
	/* Written back by the fence: fdatasync covers every dirty page. */
	(void)m;
	(void)off;
	(void)len;
	return 0;
}

static int b_drain(struct xp_media *m)
{
	if (fdatasync(m->fd) < 0)
		return xp_err(errno, m->target, "fdatasync: %s", strerror(errno));
	return 0;
}

static int b_zero(struct xp_media *m, uint64_t off, uint64_t len,
		  xp_progress_fn progress, void *arg)
{
	static const uint8_t zeroes[1 << 16];
	uint64_t done = 0;

	/*
	 * On a regular file punching a hole is the cheap, exact zeroing: a
	 * sparse namespace file stays sparse. Where the filesystem cannot
	 * punch, zeroes are written, never past the end of the file.
	 */
	if (m->kind == XP_BACKEND_FILE &&
	    !fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)off, (off_t)len)) {
		if (progress)
			progress(len, len, arg);
		return b_drain(m);
	}
	while (done < len) {
		uint64_t n = len - done > ZERO_CHUNK ? ZERO_CHUNK : len - done;
		uint64_t range[2] = {off + done, n};

		if (m->kind == XP_BACKEND_FILE ||
		    ioctl(m->fd, BLKZEROOUT, range) < 0) {
			for (uint64_t i = 0; i < n; i += sizeof(zeroes)) {
				size_t k = n - i < sizeof(zeroes) ?
						   (size_t)(n - i) : sizeof(zeroes);
				int rc = b_write(m, off + done + i, zeroes, k);

				if (rc)
					return rc;
			}
		}
		done += n;
		if (progress)
			progress(done, len, arg);
	}
	return b_drain(m);
}

static void b_close(struct xp_media *m)
{
	if (m->fd >= 0)
		close(m->fd);
	free(m);
}

static const struct xp_media_ops block_ops = {
	.read = b_read,
	.write = b_write,
	.flush = b_flush,
	.drain = b_drain,
	.zero = b_zero,
	.close = b_close,
};

int xp_media_open_block(const struct xp_media *tmpl, struct xp_media **out)
{
	struct xp_media *m;
	uint64_t size;
	int fd;

	fd = open(tmpl->path, (tmpl->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return xp_err(errno, tmpl->target, "%s", strerror(errno));
	if (tmpl->kind == XP_BACKEND_FILE) {
		struct stat st;

		if (fstat(fd, &st) < 0) {
			int rc = xp_err(errno, tmpl->target, "%s", strerror(errno));

			close(fd);
			return rc;
		}
		size = (uint64_t)st.st_size;
	} else if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		int rc = xp_err(errno, tmpl->target, "cannot read device size: %s",
				strerror(errno));

		close(fd);
		return rc;
	}
	m = malloc(sizeof(*m));
	if (!m) {
		close(fd);
		return xp_err(ENOMEM, tmpl->target, "out of memory");
	}
	*m = *tmpl;
	m->fd = fd;
	m->size = size;
	m->ops = &block_ops;
	*out = m;
	return 0;
}
