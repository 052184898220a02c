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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

struct xp_media_undo {
	uint64_t off;
	size_t len;
	uint8_t *old;
};

static void undo_drop(struct xp_media *m)
{
	for (size_t i = 0; i < m->nundo; i++)
		free(m->undo[i].old);
	free(m->undo);
	m->undo = NULL;
	m->nundo = m->capundo = 0;
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

		if (u->old && !m->ops->write(m, u->off, u->old, u->len))
			m->ops->flush(m, u->off, u->len);
	}
	if (m->nundo)
		m->ops->drain(m);
	undo_drop(m);
	m->broken = true;
	xp_err(-rc, NULL, "%s", why);
	return rc;
}

int xp_media_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len)
{
	struct xp_media_undo *u;
	int rc;

	if (m->broken)
		return refuse_broken(m);
	if (m->nundo == m->capundo) {
		size_t cap = m->capundo ? 2 * m->capundo : 16;
		struct xp_media_undo *t = realloc(m->undo, cap * sizeof(*t));

		if (!t)
			return xp_err(ENOMEM, m->target, "out of memory");
		m->undo = t;
		m->capundo = cap;
	}
	u = &m->undo[m->nundo];
	u->old = malloc(len ? len : 1);
	if (!u->old)
		return xp_err(ENOMEM, m->target, "out of memory");
	/*
	 * Bytes that cannot be read (a bad block) cannot be put back either;
	 * the store goes ahead, since storing is what clears a bad block.
	 */
	if (m->ops->read(m, off, u->old, len)) {
		free(u->old);
		u->old = NULL;
	}
	u->off = off;
	u->len = len;
	m->nundo++;
	rc = m->ops->write(m, off, buf, len);
	if (!rc)
		return 0;
	/*
	 * The hypervisor applies a record write whole or refuses it (a
	 * mapped extent, a registered namespace): a refusal stored nothing
	 * and breaks nothing. A pwrite or a store may have landed in part.
	 */
	if (m->kind == XP_BACKEND_HV) {
		free(m->undo[--m->nundo].old);
		return rc;
	}
	return undo_fail(m, rc);
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
	undo_drop(m);
	m->ops->close(m);
}
