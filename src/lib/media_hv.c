/* SPDX-License-Identifier: MIT */
/*
 * A media backend over the hypervisor, for a namespace Dom0 has handed
 * over (docs/hypervisor-abi.md, "The hand-off"): the target "hv:UUID"
 * names a registered namespace by its UUID, and the hypervisor ($XENPMEM_HV
 * or the handle the caller gives) is the only way to its metadata. Dom0
 * disabled the namespace in Linux before register, so there is no
 * /dev/pmemN to open any more.
 *
 *   read   META_READ, in pieces of at most 64 KiB. The hypervisor serves
 *          the superblocks, the zero block and the extent table only.
 *   write  one whole 128-byte record copy of one slot: META_WRITE. The
 *          hypervisor validates the record against the table and every
 *          mapping, then persists it with the format's update protocol and
 *          its own flushes and fence. Anything else (a superblock, the
 *          management area, an extent's data, part of a record) is
 *          refused: init, wipe and superblock repair need the namespace
 *          unregistered.
 *   flush, drain
 *          nothing to do: a write that returned is durable already.
 *   zero   refused (that would be an extent's data).
 *
 * The library's update protocol runs unchanged above this backend
 * (src/lib/extent.c slot_commit): it picks the copy and seq, evens mixed
 * tags, and only then writes. One step is the hypervisor's own: over a
 * torn target copy slot_commit first persists the new record's 8-byte seq
 * word behind its own fence, so that a tear of the full store cannot
 * complete an old record. META_WRITE does exactly that step itself before
 * it stores the copy (ABI, META_WRITE), and takes no partial record, so
 * this backend absorbs the 8-byte pre-write: it remembers the word and
 * checks that the whole copy which follows starts with it. A pre-write
 * never followed by its copy (the update failed before) wrote nothing,
 * which is what a crash right before it leaves too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"
#include "xphv_abi.h"

struct hv_media {
	struct xp_hv *hv;
	bool own_hv;
	uint8_t ns_uuid[16];
	/* The absorbed seq-word pre-write, awaiting its whole copy. */
	bool pending;
	uint64_t pending_off;
	uint8_t pending_word[8];
};

static struct hv_media *hvm(struct xp_media *m)
{
	return m->priv;
}

bool xp_media_is_hv(const char *target)
{
	return target && !strncmp(target, XP_HV_TARGET_PREFIX,
				  strlen(XP_HV_TARGET_PREFIX));
}

/* The one-line refusal for anything but a record write. */
static int registered(struct xp_media *m, const char *what)
{
	return xp_err(EROFS, m->target,
		      "the namespace is registered with the hypervisor (%s), "
		      "which takes only extent table record writes; %s needs "
		      "it unregistered first ('xenpmem unregister')",
		      xp_hv_name(hvm(m)->hv), what);
}

static int hv_bounds(struct xp_media *m, uint64_t off, uint64_t len)
{
	if (off > m->size || len > m->size - off)
		return xp_err(EINVAL, m->target,
			      "access past the end of the namespace");
	return 0;
}

static int hv_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	int rc = hv_bounds(m, off, len);

	while (!rc && len) {
		uint32_t n = len > XPHV_META_MAX ? XPHV_META_MAX :
						   (uint32_t)len;

		rc = xp_hv_meta_read(hvm(m)->hv, hvm(m)->ns_uuid, off, p, n);
		/* Beyond the superblocks and the table (META_RANGE): only
		 * init, wipe and repair look there. */
		if (rc == -EACCES)
			return xp_err(EROFS, m->target,
				      "the namespace is registered with the "
				      "hypervisor (%s), which serves only its "
				      "superblocks and extent table (not offset "
				      "%#llx); unregister it first ('xenpmem "
				      "unregister')",
				      xp_hv_name(hvm(m)->hv),
				      (unsigned long long)off);
		off += n;
		p += n;
		len -= n;
	}
	return rc;
}

/* Slot and copy of the record copy at @off, or false. */
static bool record_at(const struct xp_media *m, uint64_t off, uint32_t *slot,
		      uint32_t *copy)
{
	uint64_t rel;

	if (off < XP_TABLE_OFFSET || off >= m->size)
		return false;
	rel = off - XP_TABLE_OFFSET;
	if (rel % XP_REC_SIZE || rel / XP_SLOT_SIZE >= XP_MAX_SLOTS)
		return false;
	*slot = (uint32_t)(rel / XP_SLOT_SIZE);
	*copy = (uint32_t)(rel / XP_REC_SIZE % 2);
	return true;
}

static int hv_write(struct xp_media *m, uint64_t off, const void *buf,
		    size_t len)
{
	struct hv_media *h = hvm(m);
	uint32_t slot, copy;
	int rc = hv_bounds(m, off, len);

	if (rc)
		return rc;
	if (!m->writable)
		return xp_err(EBADF, m->target, "opened read-only");
	if (!record_at(m, off, &slot, &copy) ||
	    (len != 8 && len != XP_REC_SIZE))
		return registered(m, off < XP_TABLE_OFFSET ?
					     "changing a superblock" :
					     "this write");
	if (len == 8) {
		/* slot_commit's seq word over a torn copy: META_WRITE does
		 * this step itself. */
		h->pending = true;
		h->pending_off = off;
		memcpy(h->pending_word, buf, 8);
		return 0;
	}
	if (h->pending && h->pending_off == off &&
	    memcmp(h->pending_word, buf, 8))
		return xp_err(EINVAL, m->target,
			      "extent table slot %u: the record copy does not "
			      "start with the seq word written before it",
			      slot);
	h->pending = false;
	return xp_hv_meta_write(h->hv, h->ns_uuid, slot, copy, buf);
}

static int hv_flush(struct xp_media *m, uint64_t off, size_t len)
{
	return hv_bounds(m, off, len);
}

static int hv_drain(struct xp_media *m)
{
	(void)m;
	return 0;
}

static int hv_zero(struct xp_media *m, uint64_t off, uint64_t len,
		   xp_progress_fn progress, void *arg)
{
	(void)off, (void)len, (void)progress, (void)arg;
	return registered(m, "zeroing");
}

static void hv_close(struct xp_media *m)
{
	struct hv_media *h = hvm(m);

	if (h && h->own_hv)
		xp_hv_close(h->hv);
	free(h);
	free(m);
}

static const struct xp_media_ops hv_ops = {
	.read = hv_read,
	.write = hv_write,
	.flush = hv_flush,
	.drain = hv_drain,
	.zero = hv_zero,
	.close = hv_close,
};

/* Where the hypervisor holds namespace @uuid: its regions' span. */
static int locate(struct xp_hv *hv, const char *target, const uint8_t uuid[16],
		  uint64_t *start, uint64_t *size)
{
	struct xp_hv_region *r;
	uint64_t lo = UINT64_MAX, hi = 0;
	uint32_t n;
	int rc = xp_hv_query(hv, &r, &n);

	if (rc)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		if (memcmp(r[i].ns_uuid, uuid, 16))
			continue;
		if (r[i].start_mfn < lo)
			lo = r[i].start_mfn;
		if (r[i].end_mfn > hi)
			hi = r[i].end_mfn;
	}
	free(r);
	if (lo >= hi)
		return xp_err(ENOENT, target,
			      "no namespace with this UUID is registered with "
			      "the hypervisor (%s); 'xenpmem regions' lists "
			      "what is",
			      xp_hv_name(hv));
	*start = lo << XP_PAGE_SHIFT;
	*size = (hi - lo) << XP_PAGE_SHIFT;
	return 0;
}

int xp_media_open_hv(struct xp_hv *hv, const char *target, int writable,
		     struct xp_media **mp)
{
	const char *u = target + strlen(XP_HV_TARGET_PREFIX);
	struct xp_media *m = NULL;
	struct hv_media *h = NULL;
	int rc;

	*mp = NULL;
	if (!xp_media_is_hv(target))
		return xp_err(EINVAL, target, "not a hv:UUID target");
	if (strlen(target) >= sizeof(m->target))
		return xp_err(ENAMETOOLONG, "xenpmem", "namespace path too long");
	m = calloc(1, sizeof(*m));
	h = calloc(1, sizeof(*h));
	if (!m || !h) {
		free(m);
		free(h);
		return xp_err(ENOMEM, target, "out of memory");
	}
	m->ops = &hv_ops;
	m->kind = XP_BACKEND_HV;
	m->fd = -1;
	m->writable = writable;
	m->priv = h;
	snprintf(m->path, sizeof(m->path), "%s", target);
	snprintf(m->target, sizeof(m->target), "%s", target);
	if (xp_uuid_parse(u, h->ns_uuid)) {
		rc = xp_err(EINVAL, target,
			    "'hv:' takes the UUID of a registered namespace "
			    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
		goto fail;
	}
	if (hv) {
		h->hv = hv;
	} else {
		rc = xp_hv_open(NULL, &h->hv);
		if (rc)
			goto fail;
		h->own_hv = true;
	}
	rc = locate(h->hv, target, h->ns_uuid, &m->phys_base, &m->size);
	if (rc)
		goto fail;
	m->phys_known = 1;
	*mp = m;
	return 0;
fail:
	hv_close(m);
	return rc;
}

int xp_ns_open_hv(struct xp_hv *hv, const char *target, unsigned flags,
		  struct xp_ns **nsp)
{
	struct xp_media *m;
	int rc;

	xp_err_clear();
	*nsp = NULL;
	rc = xp_media_open_hv(hv, target, !!(flags & XP_OPEN_WRITE), &m);
	rc = rc ?: xp_ns_open_media(m, flags, nsp);
	if (rc) {
		xp_media_close(m);
		return rc;
	}
	(*nsp)->own_media = true;
	return 0;
}
