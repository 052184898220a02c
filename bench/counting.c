/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "counting.h"

static struct counting *cnt(struct xp_media *m)
{
	return (struct counting *)m;
}

static int c_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	return cnt(m)->inner->ops->read(cnt(m)->inner, off, buf, len);
}

static int c_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len)
{
	cnt(m)->bytes_written += len;
	cnt(m)->writes++;
	return cnt(m)->inner->ops->write(cnt(m)->inner, off, buf, len);
}

static void count_flush(struct counting *c, uint64_t off, size_t len)
{
	uint64_t first = off / XP_CACHELINE, last = (off + len - 1) / XP_CACHELINE;

	c->flushes++;
	c->lines_flushed += len ? last - first + 1 : 0;
}

static int c_flush(struct xp_media *m, uint64_t off, size_t len)
{
	count_flush(cnt(m), off, len);
	return cnt(m)->inner->ops->flush(cnt(m)->inner, off, len);
}

static int c_drain(struct xp_media *m)
{
	cnt(m)->fences++;
	return cnt(m)->inner->ops->drain(cnt(m)->inner);
}

/* The one-step store counts as the store and flush it is; its fence
 * comes as a drain. */
static int c_store_flush(struct xp_media *m, uint64_t off, const void *buf,
			 size_t len)
{
	struct counting *c = cnt(m);

	c->bytes_written += len;
	c->writes++;
	count_flush(c, off, len);
	return c->inner->ops->store_flush(c->inner, off, buf, len);
}

static int c_zero(struct xp_media *m, uint64_t off, uint64_t len,
		  xp_progress_fn fn, void *arg)
{
	cnt(m)->bytes_written += len;
	return cnt(m)->inner->ops->zero(cnt(m)->inner, off, len, fn, arg);
}

static void c_close(struct xp_media *m)
{
	xp_media_close(cnt(m)->inner);
	free(m);
}

static const struct xp_media_ops counting_ops = {
	.read = c_read,
	.write = c_write,
	.flush = c_flush,
	.drain = c_drain,
	.store_flush = c_store_flush,
	.zero = c_zero,
	.close = c_close,
};

struct counting *counting_wrap(struct xp_media *inner)
{
	struct counting *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->inner = inner;
	/* Same identity (fd for the lock, size, target), our operations. */
	c->m = *inner;
	c->ops = counting_ops;
	if (!inner->ops->store_flush)
		c->ops.store_flush = NULL;
	c->m.ops = &c->ops;
	c->m.undo = NULL;
	c->m.nundo = c->m.capundo = 0;
	return c;
}

void counting_reset(struct counting *c)
{
	c->bytes_written = c->writes = c->flushes = c->lines_flushed =
		c->fences = 0;
}
