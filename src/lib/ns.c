/* SPDX-License-Identifier: MIT */
/*
 * Namespace handles: open (pick the valid superblock, decode the table),
 * init, and the read-only views built from the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "xp_internal.h"

static int cmp_slot_offset(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xp_slot *s = ctx;
	uint64_t a = s[x].rec.offset, b = s[y].rec.offset;

	return a < b ? -1 : a > b;
}

int xp_ns_rebuild(struct xp_ns *ns)
{
	uint64_t cursor = ns->sb.data_offset;
	uint64_t data_end = ns->sb.data_offset + ns->sb.data_size;
	uint32_t n = 0;

	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		if (ns->slots[i].state == XP_SLOT_USED)
			ns->order[n++] = i;
	xp_sort_idx(ns->order, n, cmp_slot_offset, ns->slots);
	ns->nused = n;

	/* Gaps between extents; overlapping extents (a corrupt table read
	 * for inspection) simply leave no gap between them. */
	ns->ngaps = 0;
	for (uint32_t i = 0; i <= n; i++) {
		uint64_t start = i < n ? ns->slots[ns->order[i]].rec.offset :
					 data_end;

		if (start > cursor) {
			ns->gaps[ns->ngaps].offset = cursor;
			ns->gaps[ns->ngaps].size = start - cursor;
			ns->ngaps++;
		}
		if (i < n) {
			const struct xp_rec *r = &ns->slots[ns->order[i]].rec;

			if (r->offset + r->size > cursor)
				cursor = r->offset + r->size;
		}
	}
	return 0;
}

int xp_ns_load_sb(struct xp_ns *ns)
{
	struct xp_media *m = ns->media;
	uint8_t *prim = ns->sb_raw[0], *back = ns->sb_raw[1];
	struct xp_sb p = {0}, k = {0};
	int rc;

	ns->primary_ok = ns->backup_ok = false;
	ns->sb_mismatch = false;
	ns->sb_from_backup = false;
	if (m->size < 2 * XP_SB_BLOCK || m->size % XP_PAGE_SIZE) {
		ns->primary_st = ns->backup_st = XP_E_TOO_SMALL;
		ns->primary_field = ns->backup_field = "ns_size";
		return 0;
	}
	rc = m->ops->read(m, 0, prim, XP_SB_BLOCK);
	rc = rc ?: m->ops->read(m, m->size - XP_SB_BLOCK, back, XP_SB_BLOCK);
	if (rc)
		return rc;
	ns->primary_st = xp_sb_decode(prim, XP_SB_BLOCK, m->size, false, &p,
				      &ns->primary_field);
	ns->backup_st = xp_sb_decode(back, XP_SB_BLOCK, m->size, true, &k,
				     &ns->backup_field);
	ns->primary_ok = ns->primary_st == XP_OK;
	ns->backup_ok = ns->backup_st == XP_OK;
	ns->sbs[0] = p;
	ns->sbs[1] = k;
	if (ns->primary_ok && ns->backup_ok) {
		uint8_t moved[XP_SB_BLOCK];

		/* Identical but for the location bit and the checksum? */
		memcpy(moved, back, XP_SB_BLOCK);
		xp_sb_relocate(moved, false);
		ns->sb_mismatch = memcmp(moved, prim, XP_SB_BLOCK) != 0;
		/* The copy rewritten last is the newer; ties go to primary. */
		ns->sb_from_backup = k.generation > p.generation;
		ns->sb = ns->sb_from_backup ? k : p;
	} else if (ns->primary_ok) {
		ns->sb = p;
	} else if (ns->backup_ok) {
		ns->sb_from_backup = true;
		ns->sb = k;
	}
	return 0;
}

static bool sb_has_signature(enum xp_fmt_status st)
{
	return st != XP_E_BLANK && st != XP_E_SIGNATURE && st != XP_E_TOO_SMALL &&
	       st != XP_E_INVAL;
}

int xp_ns_sb_error(struct xp_ns *ns)
{
	const char *t = ns->media->target;

	if (ns->primary_ok || ns->backup_ok)
		return 0;
	if (!sb_has_signature(ns->primary_st) && !sb_has_signature(ns->backup_st))
		return xp_err(ENODATA, t,
			      "not a xenpmem namespace (no superblock at the start or end); run 'xenpmem init'");
	return xp_err(EUCLEAN, t,
		      "no valid superblock (primary: %s%s%s; backup: %s%s%s); run 'xenpmem check' for details",
		      xp_fmt_strstatus(ns->primary_st),
		      ns->primary_field ? " in " : "",
		      ns->primary_field ? ns->primary_field : "",
		      xp_fmt_strstatus(ns->backup_st),
		      ns->backup_field ? " in " : "",
		      ns->backup_field ? ns->backup_field : "");
}

static uint32_t decode_table(struct xp_ns *ns, const uint8_t *raw,
			     const struct xp_sb *sb)
{
	uint32_t bad = 0;

	for (uint32_t i = 0; i < sb->slot_count; i++) {
		xp_slot_decode(sb, i, raw + (size_t)i * XP_SLOT_SIZE,
			       &ns->slots[i]);
		bad += ns->slots[i].state == XP_SLOT_CORRUPT;
	}
	return bad;
}

int xp_ns_load_table(struct xp_ns *ns)
{
	struct xp_media *m = ns->media;
	uint32_t n = ns->sb.slot_count;
	uint8_t *raw;
	int rc;

	ns->slots = calloc(n, sizeof(*ns->slots));
	ns->order = calloc(n, sizeof(*ns->order));
	ns->gaps = calloc((size_t)n + 1, sizeof(*ns->gaps));
	raw = malloc((size_t)n * XP_SLOT_SIZE);
	if (!ns->slots || !ns->order || !ns->gaps || !raw) {
		free(raw);
		return xp_err(ENOMEM, m->target, "out of memory");
	}
	rc = m->ops->read(m, XP_TABLE_OFFSET, raw, (size_t)n * XP_SLOT_SIZE);
	if (rc) {
		free(raw);
		return rc;
	}
	ns->ncorrupt = decode_table(ns, raw, &ns->sb);
	/*
	 * Two valid superblocks of one generation that differ: no protocol
	 * step wrote them, and nothing says which is right. Read through the
	 * one the table agrees with (records are bound to ns_uuid); nothing
	 * will be written until a human settles it.
	 */
	if (ns->sb_mismatch && ns->sbs[0].generation == ns->sbs[1].generation &&
	    ns->sbs[1].slot_count == n) {
		struct xp_sb first = ns->sb;
		uint32_t other = decode_table(ns, raw, &ns->sbs[!ns->sb_from_backup]);

		if (other < ns->ncorrupt) {
			ns->sb_from_backup = !ns->sb_from_backup;
			ns->sb = ns->sbs[ns->sb_from_backup];
			ns->ncorrupt = other;
		} else {
			decode_table(ns, raw, &first);
		}
	}
	free(raw);
	ns->table_st = xp_table_check(ns->slots, n, ns->order, &ns->table_a,
				      &ns->table_b, &ns->table_why);
	return xp_ns_rebuild(ns);
}

/* Refuse to change a namespace whose metadata is not whole. */
static int writable_check(struct xp_ns *ns)
{
	const char *t = ns->media->target;

	if (!ns->primary_ok || !ns->backup_ok)
		return xp_err(EUCLEAN, t,
			      "superblock %s copy is invalid (%s%s%s); run 'xenpmem check --repair'",
			      ns->primary_ok ? "backup" : "primary",
			      xp_fmt_strstatus(ns->primary_ok ? ns->backup_st :
								ns->primary_st),
			      (ns->primary_ok ? ns->backup_field :
						ns->primary_field) ? " in " : "",
			      (ns->primary_ok ? ns->backup_field :
						ns->primary_field) ?: "");
	if (ns->sb_mismatch)
		return xp_err(EUCLEAN, t,
			      "superblock copies differ; run 'xenpmem check --repair'");
	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		if (ns->slots[i].state == XP_SLOT_CORRUPT)
			return xp_err(EUCLEAN, t,
				      "extent table slot %u has no valid copy; run 'xenpmem check'",
				      i);
	if (ns->table_st != XP_OK)
		return xp_err(EUCLEAN, t,
			      "extent table slots %u and %u: %s; run 'xenpmem check'",
			      ns->table_a, ns->table_b, ns->table_why);
	if (xp_ns_moved(ns))
		return xp_err(EUCLEAN, t,
			      "namespace now starts at physical %#llx, not %#llx as at init: extents may no longer be aligned; run 'xenpmem check'",
			      (unsigned long long)ns->media->phys_base,
			      (unsigned long long)ns->sb.phys_base);
	return 0;
}

static void ns_free(struct xp_ns *ns)
{
	if (!ns)
		return;
	free(ns->slots);
	free(ns->order);
	free(ns->gaps);
	free(ns->bad);
	if (ns->own_media)
		xp_media_close(ns->media);
	free(ns);
}

int xp_ns_open_media(struct xp_media *m, unsigned flags, struct xp_ns **nsp)
{
	struct xp_ns *ns;
	int rc;

	*nsp = NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return xp_err(ENOMEM, m->target, "out of memory");
	ns->media = m;
	ns->flags = flags;
	rc = xp_ns_load_sb(ns);
	rc = rc ?: xp_ns_sb_error(ns);
	rc = rc ?: xp_ns_load_table(ns);
	rc = rc ?: xp_badblocks_load(ns);
	if (!rc && (flags & XP_OPEN_WRITE))
		rc = writable_check(ns);
	if (rc) {
		ns_free(ns);
		return rc;
	}
	*nsp = ns;
	return 0;
}

int xp_media_lock(struct xp_media *m, bool exclusive)
{
	if (m->fd < 0)
		return 0;
	while (flock(m->fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR)
			return xp_err(errno, m->target, "cannot lock: %s",
				      strerror(errno));
	}
	return 0;
}

int xp_ns_open(const char *target, unsigned flags, struct xp_ns **nsp)
{
	struct xp_media *m;
	int rc;

	xp_err_clear();
	*nsp = NULL;
	rc = xp_media_open(target, !!(flags & XP_OPEN_WRITE), &m);
	if (rc)
		return rc;
	/* The lock is taken before anything is read: every read-modify-write
	 * of this handle sees the latest table. */
	rc = xp_media_lock(m, flags & XP_OPEN_WRITE);
	rc = rc ?: xp_ns_open_media(m, flags, nsp);
	if (rc) {
		xp_media_close(m);
		return rc;
	}
	(*nsp)->own_media = true;
	return 0;
}

void xp_ns_close(struct xp_ns *ns)
{
	ns_free(ns);
}

int xp_ns_get_info(struct xp_ns *ns, struct xp_info *info)
{
	const struct xp_sb *sb = &ns->sb;

	memset(info, 0, sizeof(*info));
	snprintf(info->target, sizeof(info->target), "%s", ns->media->path);
	info->backend = ns->media->kind;
	info->major = sb->major;
	info->minor = sb->minor;
	memcpy(info->uuid, sb->ns_uuid, 16);
	info->generation = sb->generation;
	info->ns_size = sb->ns_size;
	info->phys_known = xp_ns_phys(ns, &info->phys_base);
	info->table_offset = sb->table_offset;
	info->table_size = (uint64_t)sb->slot_count * XP_SLOT_SIZE;
	info->slot_count = sb->slot_count;
	info->mgmt_offset = sb->mgmt_offset;
	info->mgmt_size = sb->mgmt_size;
	info->per_page = sb->per_page;
	info->data_offset = sb->data_offset;
	info->data_size = sb->data_size;
	info->align = 1ull << sb->align_shift;
	info->init_time = sb->init_time;
	info->extent_count = ns->nused;
	for (uint32_t i = 0; i < ns->ngaps; i++) {
		info->free_bytes += ns->gaps[i].size;
		if (ns->gaps[i].size > info->largest_free)
			info->largest_free = ns->gaps[i].size;
	}
	info->used_bytes = sb->data_size - info->free_bytes;
	info->primary_ok = ns->primary_ok;
	info->backup_ok = ns->backup_ok;
	return 0;
}

uint32_t xp_ns_extent_count(struct xp_ns *ns)
{
	return ns->nused;
}

bool xp_ns_phys(const struct xp_ns *ns, uint64_t *phys)
{
	/* Machine frames are where the namespace is now, as the host says. */
	if (ns->media->phys_known) {
		*phys = ns->media->phys_base;
		return true;
	}
	*phys = ns->sb.phys_base;
	return ns->sb.compat & XP_SB_F_PHYS_KNOWN;
}

bool xp_ns_moved(const struct xp_ns *ns)
{
	return ns->media->phys_known && (ns->sb.compat & XP_SB_F_PHYS_KNOWN) &&
	       ns->media->phys_base != ns->sb.phys_base;
}

void xp_extent_fill(const struct xp_ns *ns, uint32_t slot,
		    struct xp_extent *ext)
{
	const struct xp_rec *r = &ns->slots[slot].rec;
	uint64_t phys;

	memset(ext, 0, sizeof(*ext));
	memcpy(ext->name, r->name, sizeof(ext->name));
	memcpy(ext->uuid, r->uuid, 16);
	ext->slot = slot;
	ext->seq = r->seq;
	ext->offset = r->offset;
	ext->size = r->size;
	ext->align = 1ull << r->align_shift;
	ext->label_size = r->label_size;
	ext->owner = r->owner;
	ext->phys_known = xp_ns_phys(ns, &phys);
	ext->first_mfn = (phys + r->offset) >> XP_PAGE_SHIFT;
	ext->nr_frames = r->size >> XP_PAGE_SHIFT;
	ext->badblocks = xp_badblocks_in(ns, r->offset, r->size);
}

int xp_ns_extent_get(struct xp_ns *ns, uint32_t idx, struct xp_extent *ext)
{
	if (idx >= ns->nused)
		return -ERANGE;
	xp_extent_fill(ns, ns->order[idx], ext);
	return 0;
}

int xp_ns_find_slot(struct xp_ns *ns, const char *name)
{
	for (uint32_t i = 0; i < ns->nused; i++)
		if (!strcmp(ns->slots[ns->order[i]].rec.name, name))
			return (int)ns->order[i];
	return -1;
}

int xp_ns_extent_find(struct xp_ns *ns, const char *name,
		      struct xp_extent *ext)
{
	int slot = xp_ns_find_slot(ns, name);

	if (slot < 0)
		return xp_err(ENOENT, ns->media->target, "no extent named '%s'",
			      name);
	xp_extent_fill(ns, (uint32_t)slot, ext);
	return 0;
}

uint32_t xp_ns_gap_count(struct xp_ns *ns)
{
	return ns->ngaps;
}

int xp_ns_gap_get(struct xp_ns *ns, uint32_t idx, struct xp_gap *gap)
{
	if (idx >= ns->ngaps)
		return -ERANGE;
	*gap = ns->gaps[idx];
	return 0;
}
