/* SPDX-License-Identifier: MIT */
/*
 * Changes to the media, with the bytes they replace kept until a fence
 * makes them durable.
 *
 * A store that fails, or a fence that fails, leaves the new bytes in the
 * page cache (or the CPU cache) as current for every other process, though
 * they may never reach the media: the next update of that slot would then
 * be written over a copy the media does not hold, and a crash could tear
 * both copies. So, as LMDB's mdb_env_write_meta does after a failed meta
 * write, the old bytes are put back and the media is marked broken: every
 * later change through it fails, and the caller reopens the namespace,
 * reading what the media really holds.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

struct xp_media_undo {
	uint64_t off;
	size_t len;
	size_t at;		/* its old bytes in m->undo_bytes */
	bool known;		/* false: they could not be read */
};

/*
 * The buffers outlive a fence: an update is one store, and allocating for
 * it each time cost more than the store. A wipe's or init's stores can
 * grow them large, so past this size they go back to the allocator.
 */
#define UNDO_KEEP_BYTES (64u << 10)

static void undo_free(struct xp_media *m)
{
	free(m->undo);
	free(m->undo_bytes);
	m->undo = NULL;
	m->undo_bytes = NULL;
	m->nundo = m->capundo = 0;
	m->nundo_bytes = m->capundo_bytes = 0;
}

/* Forget the ranges a good fence made durable. */
static void undo_drop(struct xp_media *m)
{
	if (m->capundo_bytes > UNDO_KEEP_BYTES) {
		undo_free(m);
		return;
	}
	m->nundo = 0;
	m->nundo_bytes = 0;
}

static int refuse_broken(struct xp_media *m)
{
	return xp_err(EIO, m->target,
		      "an earlier write to the namespace failed, so this handle makes no more changes; open the namespace again");
}

/*
 * Put back every range stored since the last good fence, newest first,
 * and try to make that durable; keep the error text of the failure that
 * brought us here, since that is what the user must see.
 */
static int undo_fail(struct xp_media *m, int rc)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", xp_last_error());
	xp_log_info("%s: putting back %zu range(s) stored since the last good fence; the handle is broken",
		    m->target, m->nundo);
	for (size_t i = m->nundo; i-- > 0;) {
		const struct xp_media_undo *u = &m->undo[i];
		const uint8_t *old = m->undo_bytes + u->at;

		if (u->known && !m->ops->write(m, u->off, old, u->len))
			m->ops->flush(m, u->off, u->len);
	}
	if (m->nundo)
		m->ops->drain(m);
	undo_free(m);
	m->broken = true;
	xp_err(-rc, NULL, "%s", why);
	return rc;
}

/* Room for one more range of @len old bytes. */
static int undo_reserve(struct xp_media *m, size_t len)
{
	if (m->nundo == m->capundo) {
		size_t cap = m->capundo ? 2 * m->capundo : 16;
		struct xp_media_undo *t = realloc(m->undo, cap * sizeof(*t));

		if (!t)
			return xp_err(ENOMEM, m->target, "out of memory");
		m->undo = t;
		m->capundo = cap;
	}
	if (len > m->capundo_bytes - m->nundo_bytes) {
		size_t cap = m->capundo_bytes ? m->capundo_bytes : 1024;
		uint8_t *t;

		if (len > SIZE_MAX / 2 - m->nundo_bytes)
			return xp_err(ENOMEM, m->target, "out of memory");
		while (cap - m->nundo_bytes < len)
			cap *= 2;
		t = realloc(m->undo_bytes, cap);
		if (!t)
			return xp_err(ENOMEM, m->target, "out of memory");
		m->undo_bytes = t;
		m->capundo_bytes = cap;
	}
	return 0;
}

int xp_media_write_old(struct xp_media *m, uint64_t off, const void *buf,
		       size_t len, const void *old)
{
	struct xp_media_undo *u;
	uint8_t *keep;
	int rc;

	if (m->broken)
		return refuse_broken(m);
	rc = undo_reserve(m, len);
	if (rc)
		return rc;
	u = &m->undo[m->nundo];
	u->at = m->nundo_bytes;
	keep = m->undo_bytes + u->at;
	/*
	 * Bytes that cannot be read (a bad block) cannot be put back either;
	 * the store goes ahead, since storing is what clears a bad block.
	 */
	if (old) {
		memcpy(keep, old, len);
		u->known = true;
	} else {
		u->known = !m->ops->read(m, off, keep, len);
	}
	u->off = off;
	u->len = len;
	m->nundo++;
	m->nundo_bytes += len;
	rc = m->ops->write(m, off, buf, len);
	if (!rc)
		return 0;
	/*
	 * The hypervisor applies a record write whole or refuses it (a
	 * mapped extent, a registered namespace): a refusal stored nothing
	 * and breaks nothing. A pwrite or a store may have landed in part.
	 */
	if (m->kind == XP_BACKEND_HV) {
		m->nundo--;
		m->nundo_bytes -= len;
		return rc;
	}
	return undo_fail(m, rc);
}

int xp_media_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len)
{
	return xp_media_write_old(m, off, buf, len, NULL);
}

int xp_media_flush(struct xp_media *m, uint64_t off, size_t len)
{
	int rc;

	if (m->broken)
		return refuse_broken(m);
	rc = m->ops->flush(m, off, len);
	return rc ? undo_fail(m, rc) : 0;
}

int xp_media_drain(struct xp_media *m)
{
	int rc;

	if (m->broken)
		return refuse_broken(m);
	rc = m->ops->drain(m);
	if (rc)
		return undo_fail(m, rc);
	undo_drop(m);
	return 0;
}

int xp_media_persist_undo(struct xp_media *m, uint64_t off, const void *buf,
			  size_t len, const void *old)
{
	int rc = xp_media_write_old(m, off, buf, len, old);

	rc = rc ?: xp_media_flush(m, off, len);
	return rc ?: xp_media_drain(m);
}

int xp_media_zero(struct xp_media *m, uint64_t off, uint64_t len,
		  xp_progress_fn progress, void *arg)
{
	int rc;

	if (m->broken)
		return refuse_broken(m);
	/* Zeroing makes its range durable itself: fence what came before,
	 * if anything did (an idle fence would be one more per update). */
	rc = m->nundo ? xp_media_drain(m) : 0;
	rc = rc ?: m->ops->zero(m, off, len, progress, arg);
	if (rc && !m->broken)
		m->broken = true;
	return rc;
}

void xp_media_close(struct xp_media *m)
{
	if (!m)
		return;
	undo_free(m);
	m->ops->close(m);
}
