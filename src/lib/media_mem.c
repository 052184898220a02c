/* SPDX-License-Identifier: MIT */
/*
 * A backend over a memory image the caller owns: unit tests and fuzzers
 * open images through the same code path as real namespaces.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

static int mem_bounds(struct xp_media *m, uint64_t off, uint64_t len)
{
	if (off > m->size || len > m->size - off)
		return xp_err(EINVAL, m->target,
			      "access past the end of the namespace");
	return 0;
}

static int mem_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	int rc = mem_bounds(m, off, len);

	if (!rc)
		memcpy(buf, (uint8_t *)m->priv + off, len);
	return rc;
}

static int mem_write(struct xp_media *m, uint64_t off, const void *buf,
		     size_t len)
{
	int rc = mem_bounds(m, off, len);

	if (!rc)
		memcpy((uint8_t *)m->priv + off, buf, len);
	return rc;
}

static int mem_flush(struct xp_media *m, uint64_t off, size_t len)
{
	return mem_bounds(m, off, len);
}

static int mem_drain(struct xp_media *m)
{
	(void)m;
	return 0;
}

static int mem_zero(struct xp_media *m, uint64_t off, uint64_t len,
		    xp_progress_fn progress, void *arg)
{
	int rc = mem_bounds(m, off, len);

	if (rc)
		return rc;
	memset((uint8_t *)m->priv + off, 0, len);
	if (progress)
		progress(len, len, arg);
	return 0;
}

static void mem_close(struct xp_media *m)
{
	free(m);
}

static const struct xp_media_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.drain = mem_drain,
	.zero = mem_zero,
	.close = mem_close,
};

struct xp_media *xp_media_mem_new(void *image, uint64_t size)
{
	struct xp_media *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->ops = &mem_ops;
	m->kind = XP_BACKEND_FILE;
	m->size = size;
	m->fd = -1;
	m->writable = 1;
	m->priv = image;
	strcpy(m->path, "(memory)");
	strcpy(m->target, "(memory)");
	return m;
}
