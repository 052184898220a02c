/* SPDX-License-Identifier: MIT */
/*
 * Media backends: one interface over regular files and device DAX
 * (libpmem2), block devices (pwrite + fdatasync), and the recording backend
 * the crash simulator uses.
 *
 * The persistence model is the pmem one: write() stores bytes (they may sit
 * in a CPU cache or the page cache), flush() starts writing a range back,
 * drain() is the fence after which every flushed range is durable. Nothing
 * written is durable before a drain() that follows its flush().
 */
#ifndef XP_MEDIA_H
#define XP_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenpmem.h"

struct xp_media;

struct xp_media_ops {
	int (*read)(struct xp_media *m, uint64_t off, void *buf, size_t len);
	int (*write)(struct xp_media *m, uint64_t off, const void *buf,
		     size_t len);
	int (*flush)(struct xp_media *m, uint64_t off, size_t len);
	int (*drain)(struct xp_media *m);
	/*
	 * Optional: store and flush @len bytes in one step that on failure
	 * has stored nothing, the fence left to @drain, which for a backend
	 * offering this cannot fail: with nothing pending, there is then
	 * nothing to undo. An update is one such store, and the undo
	 * layer's bookkeeping for write, flush and drain cost more than the
	 * store (xp_media_persist_begin()).
	 */
	int (*store_flush)(struct xp_media *m, uint64_t off, const void *buf,
			   size_t len);
	/* Zero and persist a large range (wipe), reporting progress. */
	int (*zero)(struct xp_media *m, uint64_t off, uint64_t len,
		    xp_progress_fn progress, void *arg);
	void (*close)(struct xp_media *m);
	/*
	 * Optional: the bad ranges the platform reports, as malloc'd pairs
	 * of byte offset and length relative to byte 0.
	 */
	int (*badblocks)(struct xp_media *m, uint64_t **pairs, uint32_t *n);
};

struct xp_media {
	const struct xp_media_ops *ops;
	enum xp_backend kind;
	uint64_t size;		/* bytes */
	int fd;			/* -1 when there is no file */
	int writable;
	char path[256];		/* the node actually opened */
	char target[256];	/* what the user named */
	int phys_known;
	uint64_t phys_base;	/* physical address of byte 0 */
	char sysfs_dev[128];	/* e.g. /sys/dev/block/259:0/device, or "" */
	void *priv;		/* backend's own state (memory image, ...) */
	/* Stores since the last good fence and the bytes they replaced
	 * (media_undo.c); broken once a store or fence failed. */
	struct xp_media_undo *undo;
	size_t nundo, capundo;
	uint8_t *undo_bytes;	/* the replaced bytes, range after range */
	size_t nundo_bytes, capundo_bytes;
	bool broken;
};

/*
 * Open @target: a regular file, /dev/pmemN, /dev/daxN.M, or an ndctl
 * namespace name (namespace0.0). Sets xp_last_error() on failure.
 */
int xp_media_open(const char *target, int writable, struct xp_media **mp);

/* Backends: open @tmpl->path; the new media starts as a copy of @tmpl. */
int xp_media_open_pmem2(const struct xp_media *tmpl, struct xp_media **out);
int xp_media_open_block(const struct xp_media *tmpl, struct xp_media **out);

/*
 * Changes go through these, not the ops: a failed store or fence puts the
 * bytes stored since the last good fence back and marks the media broken,
 * after which every change fails (media_undo.c).
 */
int xp_media_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len);
/*
 * The same, for a caller that knows the bytes the store replaces (@old,
 * @len of them; NULL: read them), as a handle that holds the table
 * exclusively does: no read of the media, which on a file is a system
 * call.
 */
int xp_media_write_old(struct xp_media *m, uint64_t off, const void *buf,
		       size_t len, const void *old);
int xp_media_flush(struct xp_media *m, uint64_t off, size_t len);
int xp_media_drain(struct xp_media *m);
int xp_media_zero(struct xp_media *m, uint64_t off, uint64_t len,
		  xp_progress_fn progress, void *arg);
void xp_media_close(struct xp_media *m);

/* Store, flush and fence through the undo layer (write, flush, drain). */
int xp_media_persist_undo(struct xp_media *m, uint64_t off, const void *buf,
			  size_t len, const void *old);

/*
 * Store, flush and fence @len bytes (@old as for xp_media_write_old()) in
 * two halves, so that work which needs no media can run while the
 * flushed lines are written back: the first stores and flushes and,
 * where the media can leave the fence for later, sets *@fence_owed;
 * xp_media_persist_end() then fences. Otherwise the first half did the
 * whole persist, through the undo layer. Nothing but memory work in
 * between: no other store may be ordered by this fence.
 */
static inline int xp_media_persist_begin(struct xp_media *m, uint64_t off,
					 const void *buf, size_t len,
					 const void *old, bool *fence_owed)
{
	*fence_owed = m->ops->store_flush && !m->nundo && !m->broken;
	if (*fence_owed)
		return m->ops->store_flush(m, off, buf, len);
	return xp_media_persist_undo(m, off, buf, len, old);
}
static inline void xp_media_persist_end(struct xp_media *m, bool fence_owed)
{
	/* A backend with store_flush has a drain that cannot fail. */
	if (fence_owed)
		(void)m->ops->drain(m);
}

/* Both halves at once. */
static inline int xp_media_persist_old(struct xp_media *m, uint64_t off,
				       const void *buf, size_t len,
				       const void *old)
{
	bool fence_owed;
	int rc = xp_media_persist_begin(m, off, buf, len, old, &fence_owed);

	if (!rc)
		xp_media_persist_end(m, fence_owed);
	return rc;
}
static inline int xp_media_persist(struct xp_media *m, uint64_t off,
				   const void *buf, size_t len)
{
	return xp_media_persist_old(m, off, buf, len, NULL);
}

/*
 * "hv:UUID": a namespace registered with a hypervisor, reached through
 * its metadata commands (media_hv.c). With @hv NULL the backend opens a
 * handle of its own ($XENPMEM_HV, else "xen"); otherwise it borrows @hv.
 */
#define XP_HV_TARGET_PREFIX "hv:"
bool xp_media_is_hv(const char *target);
int xp_media_open_hv(struct xp_hv *hv, const char *target, int writable,
		     struct xp_media **mp);

/* A media backend over a caller-owned memory image (tests, fuzzing). */
struct xp_media *xp_media_mem_new(void *image, uint64_t size);

#endif /* XP_MEDIA_H */
