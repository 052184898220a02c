/* SPDX-License-Identifier: MIT */
/*
 * Extent mutations. Each one is a single slot update (docs/format.md,
 * "Update protocol"): encode the new record, store it over the slot's copy
 * that is not the newest, flush its two cache lines, fence once. Until the
 * fence the old copy rules; after it the new one does. Free space is
 * derived from the table, so nothing else needs to change on media; in
 * memory, the index follows the slot (ns_index.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"
#include "xp_overflow.h"

static const char *tgt(const struct xp_ns *ns)
{
	return ns->media->target;
}

static int need_write(struct xp_ns *ns)
{
	if (!(ns->flags & XP_OPEN_WRITE))
		return xp_err(EBADF, tgt(ns), "namespace opened read-only");
	return 0;
}

/*
 * A table that breaks a rule takes no change but one that removes a
 * violation: destroy or rename, forced, of an extent involved (@slot, or
 * -1 for an operation that names no extent yet).
 */
static int rules_allow(struct xp_ns *ns, int slot, bool may_resolve,
		       unsigned flags)
{
	if (!ns->npairs)
		return 0;
	if (may_resolve && slot >= 0 && ns->violation[slot] &&
	    (flags & XP_FORCE))
		return 0;
	if (may_resolve && slot >= 0 && ns->violation[slot])
		return xp_err(EUCLEAN, tgt(ns),
			      "extent '%s' (@%d) breaks a table rule; --force lets this change go ahead, since it can only remove the violation",
			      ns->slots[slot].rec.name, slot);
	return xp_err(EUCLEAN, tgt(ns),
		      "extent table slots %u and %u: %s; only destroy or rename --force of an extent involved is allowed; run 'xenpmem check'",
		      ns->table_a, ns->table_b, ns->table_why);
}

/* What of the index a change of slot @s to @rec touches. */
static unsigned index_touched(const struct xp_slot *s, const struct xp_rec *rec)
{
	bool was = s->state == XP_SLOT_USED, now = xp_rec_used(rec);
	unsigned what = 0;

	if (was != now)
		return XP_IX_ALL;
	if (!now)
		return 0;
	/* The whole arrays: bytes past the NUL can only make two equal
	 * names look different, which costs an unneeded relink, never a
	 * missed one; and the compare is four word loads, not a call. */
	if (memcmp(s->rec.name, rec->name, sizeof(rec->name)))
		what |= XP_IX_NAME;
	if (s->rec.offset != rec->offset || s->rec.size != rec->size)
		what |= XP_IX_PLACE;
	return what;
}

/* Once the record is durable (the log hook is the caller's code). */
static void log_commit(struct xp_ns *ns, uint32_t slot, int copy,
		       const struct xp_rec *rec)
{
	xp_log_dbg("%s: slot %u copy %d seq %llu: '%s'", tgt(ns), slot, copy,
		   (unsigned long long)rec->seq, rec->name);
}

static int slot_commit(struct xp_ns *ns, uint32_t slot, struct xp_rec *rec)
{
	struct xp_slot *s = &ns->slots[slot];
	/* Word-aligned is enough: the stores that matter, to the media,
	 * are libpmem2's, 8 bytes each at an aligned destination. */
	uint8_t buf[XP_REC_SIZE] __attribute__((aligned(16)));
	uint64_t seq, off;
	unsigned what;
	bool fence_owed = false;
	int copy, rc = 0;

	copy = xp_slot_next_copy(s, &seq);
	if (copy < 0)
		return xp_err(EUCLEAN, tgt(ns),
			      "extent table slot %u cannot be updated (%s)", slot,
			      s->active < 0 ? "no valid copy" :
					      "sequence number exhausted");
	rec->seq = seq;
	xp_rec_encode(&ns->sb, slot, rec, buf);
	off = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
	/*
	 * A target copy left torn (or damaged) holds words of an earlier
	 * record that may beat the current copy; a tear of this store could
	 * complete it. Its seq word goes first, behind its own fence: then
	 * only this store's record can validate there.
	 */
	if (s->copy_status[copy] != XP_OK && s->copy_status[copy] != XP_E_BLANK)
		rc = xp_ns_table_persist(ns, off, buf, 8);
	/* Left by an update cut short: even them under this update's fence. */
	if (!rc && ns->nmixed)
		rc = xp_ns_even_tags(ns, slot);
	rc = rc ?: xp_ns_table_persist_begin(ns, off, buf, XP_REC_SIZE,
					     &fence_owed);
	if (rc) {
		/*
		 * A failed fence put the old bytes back over stores ns->raw
		 * already holds; the handle makes no more changes, so rather
		 * than keep a copy that is wrong, keep none.
		 */
		if (ns->media->broken) {
			free(ns->raw);
			ns->raw = NULL;
		}
		return rc;
	}
	/*
	 * A table that breaks a rule took a change that may remove the
	 * violation: everything derived from the table starts over. A whole
	 * table stays whole (the change was checked against the index), and
	 * the index follows the one slot.
	 */
	if (ns->npairs) {
		xp_ns_table_persist_end(ns, fence_owed);
		log_commit(ns, slot, copy, rec);
		xp_slot_set(s, copy, rec);
		xp_ns_check_rules(ns);
		return xp_ns_rebuild(ns);
	}
	/*
	 * The index changes while the record's two lines are written back
	 * (an O(log n) tree step for a new or gone extent costs as much as
	 * the store), and the fence comes before the return: the caller
	 * sees the change only once it is durable, as before.
	 */
	what = index_touched(s, rec);
	if (what && s->state == XP_SLOT_USED)
		xp_ns_index_unlink(ns, slot, what);
	xp_slot_set(s, copy, rec);
	if (what && s->state == XP_SLOT_USED)
		xp_ns_index_link(ns, slot, what);
	xp_ns_table_persist_end(ns, fence_owed);
	log_commit(ns, slot, copy, rec);
	return 0;
}

static int shift_of(struct xp_ns *ns, uint64_t align, uint32_t *shift)
{
	if (!align) {
		*shift = ns->sb.align_shift;
		return 0;
	}
	for (uint32_t s = XP_ALIGN_2M_SHIFT; s <= XP_ALIGN_1G_SHIFT; s++) {
		if (align == 1ull << s && xp_align_shift_ok(s)) {
			*shift = s;
			return 0;
		}
	}
	return xp_err(EINVAL, tgt(ns), "alignment %llu is not 2M or 1G",
		      (unsigned long long)align);
}

static void human(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB",
					   "PiB"};
	int u = 0;

	while (u < 5 && v >= 1024 && !(v % 1024)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu %s", (unsigned long long)v, unit[u]);
}

static int check_size(struct xp_ns *ns, const char *name, uint64_t size,
		      uint32_t shift, uint64_t label_size)
{
	char a[32], b[32];

	if (!size)
		return xp_err(EINVAL, tgt(ns), "extent '%s': size must not be 0",
			      name);
	if (size & ((1ull << shift) - 1)) {
		human(size, a, sizeof(a));
		human(1ull << shift, b, sizeof(b));
		return xp_err(EINVAL, tgt(ns),
			      "extent '%s': size %s is not a multiple of its alignment %s",
			      name, a, b);
	}
	if (size > ns->sb.data_size) {
		human(size, a, sizeof(a));
		human(ns->sb.data_size, b, sizeof(b));
		return xp_err(ENOSPC, tgt(ns),
			      "extent '%s': size %s is larger than the whole data area (%s)",
			      name, a, b);
	}
	if (label_size & (XP_PAGE_SIZE - 1) || label_size >= size)
		return xp_err(EINVAL, tgt(ns),
			      "extent '%s': label size %llu must be a multiple of 4 KiB and smaller than the extent",
			      name, (unsigned long long)label_size);
	return 0;
}

bool xp_extent_name_valid(const char *name)
{
	return name && xp_name_valid(name, XP_NAME_MAX + 1);
}

static int check_name(struct xp_ns *ns, const char *name)
{
	if (!xp_extent_name_valid(name))
		return xp_err(EINVAL, tgt(ns),
			      "invalid extent name: use 1 to %u characters of A-Z a-z 0-9 . _ + : - (not starting with '-', not dots alone)",
			      XP_NAME_MAX);
	return 0;
}

/* The end of the last known bad range inside [off, off + len), or 0. */
static uint64_t bad_end(const struct xp_ns *ns, uint64_t off, uint64_t len)
{
	uint64_t end = 0;

	for (uint32_t i = 0; i < ns->nbad; i++) {
		uint64_t s = ns->bad[2 * i], e = s + ns->bad[2 * i + 1];

		if (e > s && s < off + len && e > off && e > end)
			end = e;
	}
	return end;
}

struct placing {
	const struct xp_ns *ns;
	uint64_t size, align, off;
	bool avoid_bad;
};

/* Whether the extent fits in @g, at its first aligned offset clear of
 * known bad blocks (when those are avoided). */
static bool fits_in(const struct xp_gap *g, void *arg)
{
	struct placing *p = arg;
	uint64_t a = p->align, base = p->ns->sb.phys_base;
	uint64_t end = g->offset + g->size, from = g->offset;

	for (;;) {
		uint64_t start = ((base + from + a - 1) & ~(a - 1)) - base;
		uint64_t bad;

		if (start >= end || end - start < p->size)
			return false;
		bad = p->avoid_bad ? bad_end(p->ns, start, p->size) : 0;
		if (!bad) {
			p->off = start;
			return true;
		}
		from = bad;
	}
}

/*
 * First fit, lowest address first: where a new extent would go. With
 * @avoid_bad, a guest is never handed a known bad block: a candidate over
 * one moves past it. Only gaps as large as the extent are looked at.
 */
static bool place(const struct xp_ns *ns, uint64_t size, uint32_t shift,
		  bool avoid_bad, uint64_t *off)
{
	struct placing p = {.ns = ns, .size = size, .align = 1ull << shift,
			    .avoid_bad = avoid_bad};

	if (!xp_ns_index_gaps_from(ns, size, fits_in, &p))
		return false;
	*off = p.off;
	return true;
}

static uint64_t largest_gap(const struct xp_ns *ns)
{
	uint64_t used, free_bytes, largest;

	xp_ns_index_space(ns, &used, &free_bytes, &largest);
	return largest;
}

/*
 * Zero the range a change is about to give an extent, before the change
 * commits: a crash in between leaves zeroed free space, never a guest
 * holding the bytes of an extent destroyed earlier.
 */
static int zero_new_range(struct xp_ns *ns, const char *name, uint64_t off,
			  uint64_t len, unsigned flags, xp_progress_fn progress,
			  void *arg)
{
	int rc;

	if ((flags & XP_NO_ZERO) || !len)
		return 0;
	if (ns->media->kind == XP_BACKEND_HV)
		return xp_err(EROFS, tgt(ns),
			      "extent '%s': the hypervisor serves only the metadata of a registered namespace, so its new range cannot be zeroed; unregister it first, or skip the zeroing with --no-zero",
			      name);
	xp_err_clear();
	rc = xp_media_zero(ns->media, off, len, progress, arg);
	if (rc && !*xp_last_error())
		xp_err(-rc, tgt(ns), "extent '%s': zeroing its new range failed: %s",
		       name, strerror(-rc));
	return rc;
}

/*
 * A guest keeps its label area in the extent's last label_size bytes, so a
 * resize copies it to the new end, durably, before the record commits.
 * The copy goes only where it cannot overwrite the label itself: a crash
 * before the commit then leaves the old extent with its label intact
 * (on a shrink, bytes the shrink gives up may already hold the copy).
 */
static int move_label(struct xp_ns *ns, const struct xp_rec *rec,
		      uint64_t size)
{
	struct xp_media *m = ns->media;
	uint64_t len = rec->label_size;
	uint64_t from = rec->offset + rec->size - len;
	uint64_t to = rec->offset + size - len;
	size_t chunk = len < (1u << 20) ? (size_t)len : (1u << 20);
	uint8_t *buf;
	int rc = 0;

	if (!len)
		return 0;
	buf = malloc(chunk);
	if (!buf)
		return xp_err(ENOMEM, tgt(ns), "out of memory");
	for (uint64_t done = 0; !rc && done < len; done += chunk) {
		size_t n = len - done < chunk ? (size_t)(len - done) : chunk;

		rc = m->ops->read(m, from + done, buf, n);
		rc = rc ?: xp_media_write(m, to + done, buf, n);
		rc = rc ?: xp_media_flush(m, to + done, n);
	}
	rc = rc ?: xp_media_drain(m);
	free(buf);
	if (rc && !*xp_last_error())
		xp_err(-rc, tgt(ns),
		       "extent '%s': copying its label area to the new end failed: %s",
		       rec->name, strerror(-rc));
	return rc;
}

/*
 * The start of every change to an existing extent: a writable handle and
 * the extent's slot, with a copy of its current record to modify.
 */
static int begin_update(struct xp_ns *ns, const char *name, int *slot,
			struct xp_rec *rec)
{
	int rc = need_write(ns);

	if (rc)
		return rc;
	*slot = xp_ns_find_slot(ns, name);
	if (*slot < 0)
		return xp_ns_find_error(ns, name, *slot);
	*rec = ns->slots[*slot].rec;
	return 0;
}

int xp_extent_create(struct xp_ns *ns, const struct xp_create_opts *o,
		     struct xp_extent *created)
{
	struct xp_rec rec;
	uint32_t shift = 0;
	int64_t slot;
	uint64_t off;
	int rc;

	xp_err_clear();
	if (!o)
		return xp_err(EINVAL, tgt(ns), "create: no options given");
	rc = XP_RESERVED_ZERO(o, tgt(ns), "create options");
	rc = rc ?: xp_flags_known(o->flags, XP_NO_ZERO, tgt(ns), "create");
	rc = rc ?: need_write(ns);
	rc = rc ?: check_name(ns, o->name);
	rc = rc ?: shift_of(ns, o->align, &shift);
	rc = rc ?: check_size(ns, o->name, o->size, shift, o->label_size);
	rc = rc ?: rules_allow(ns, -1, false, 0);
	if (rc)
		return rc;
	if (xp_ns_find_slot(ns, o->name) != -ENOENT)
		return xp_err(EEXIST, tgt(ns), "extent '%s' already exists",
			      o->name);
	slot = xp_ns_free_slot(ns);
	if (slot < 0)
		return xp_err(ENOSPC, tgt(ns),
			      "all %u extent table slots are in use (init chose --max-extents)",
			      ns->sb.slot_count);
	if (!place(ns, o->size, shift, true, &off)) {
		char a[32];

		human(o->size, a, sizeof(a));
		if (place(ns, o->size, shift, false, &off))
			return xp_err(ENOSPC, tgt(ns),
				      "no free range of %s for extent '%s' clear of known bad blocks ('xenpmem check' lists them)",
				      a, o->name);
		return xp_err(ENOSPC, tgt(ns),
			      "no free range of %s for extent '%s' (largest free range: %llu bytes)",
			      a, o->name, (unsigned long long)largest_gap(ns));
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = XP_REC_DATA;
	rec.offset = off;
	rec.size = o->size;
	memcpy(rec.owner, o->owner, 16);
	rec.align_shift = (uint8_t)shift;
	rec.label_size = o->label_size;
	xp_uuid_pool_take(&ns->uuids, rec.uuid);
	/* check_name() held it to XP_NAME_MAX bytes: it fits with its NUL.
	 * (A copy, not snprintf: that was 600 instructions per create.) */
	memcpy(rec.name, o->name, strlen(o->name) + 1);
	rc = zero_new_range(ns, o->name, off, o->size, o->flags, o->progress,
			    o->progress_arg);
	rc = rc ?: slot_commit(ns, (uint32_t)slot, &rec);
	if (!rc && created)
		xp_extent_fill(ns, (uint32_t)slot, created);
	return rc;
}

int xp_extent_destroy(struct xp_ns *ns, const char *name, unsigned flags)
{
	struct xp_rec rec;
	int slot, rc;

	xp_err_clear();
	rc = xp_flags_known(flags, XP_FORCE, tgt(ns), "destroy");
	rc = rc ?: begin_update(ns, name, &slot, &rec);
	rc = rc ?: rules_allow(ns, slot, true, flags);
	rc = rc ?: xp_extent_refuse_active(ns, (uint32_t)slot, "destroying");
	if (rc)
		return rc;
	if (!xp_uuid_is_nil(rec.owner) && !(flags & XP_FORCE)) {
		char owner[XP_UUID_STR_LEN];

		xp_uuid_format(rec.owner, owner);
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s' is assigned to domain %s; unassign it or use --force",
			      name, owner);
	}
	memset(&rec, 0, sizeof(rec));
	return slot_commit(ns, (uint32_t)slot, &rec);
}

int xp_extent_resize(struct xp_ns *ns, const char *name, uint64_t size,
		     unsigned flags, xp_progress_fn progress, void *arg)
{
	struct xp_rec rec;
	uint64_t limit, end, delta;
	char a[32], b[32], c[32];
	uint32_t next;
	int slot, rc;

	xp_err_clear();
	rc = xp_flags_known(flags, XP_FORCE | XP_NO_ZERO, tgt(ns), "resize");
	rc = rc ?: begin_update(ns, name, &slot, &rec);
	rc = rc ?: rules_allow(ns, slot, false, 0);
	if (rc)
		return rc;
	rc = check_size(ns, name, size, rec.align_shift, rec.label_size);
	/* A device over the old range would cover bytes the extent no
	 * longer has, or miss bytes it now has. */
	if (!rc && size != rec.size)
		rc = xp_extent_refuse_active(ns, (uint32_t)slot, "resizing");
	if (rc)
		return rc;
	/* In place: the next extent (or the data area's end) is the limit. */
	next = xp_ns_index_next_after(ns, rec.offset);
	limit = next == XP_NS_NIL ? ns->sb.data_offset + ns->sb.data_size :
				    ns->slots[next].rec.offset;
	if (xp_add_ovf(rec.offset, size, &end) || end > limit) {
		human(size, a, sizeof(a));
		human(limit - rec.offset, b, sizeof(b));
		return xp_err(ENOSPC, tgt(ns),
			      "extent '%s' cannot grow to %s in place: %s is the most its position allows",
			      name, a, b);
	}
	if (size == rec.size)
		return 0;
	if (size > rec.size &&
	    bad_end(ns, rec.offset + rec.size, size - rec.size)) {
		human(size, a, sizeof(a));
		return xp_err(EIO, tgt(ns),
			      "extent '%s' cannot grow to %s: the range it would take holds known bad blocks ('xenpmem check' lists them)",
			      name, a);
	}
	delta = size > rec.size ? size - rec.size : rec.size - size;
	if (size < rec.size && !xp_uuid_is_nil(rec.owner) &&
	    !(flags & XP_FORCE)) {
		char owner[XP_UUID_STR_LEN];

		xp_uuid_format(rec.owner, owner);
		human(rec.size, a, sizeof(a));
		human(size, b, sizeof(b));
		human(delta, c, sizeof(c));
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s' is assigned to domain %s; shrinking it from %s to %s releases %s of its data; unassign it or use --force",
			      name, owner, a, b, c);
	}
	if (rec.label_size && delta < rec.label_size) {
		human(rec.label_size, a, sizeof(a));
		human(delta, b, sizeof(b));
		return xp_err(EINVAL, tgt(ns),
			      "extent '%s': its %s label area moves with its end, and a resize by %s would copy it over itself before the change commits; resize by at least %s",
			      name, a, b, a);
	}
	if (size > rec.size)
		rc = zero_new_range(ns, name, rec.offset + rec.size,
				    size - rec.size, flags, progress, arg);
	rc = rc ?: move_label(ns, &rec, size);
	if (rc)
		return rc;
	rec.size = size;
	return slot_commit(ns, (uint32_t)slot, &rec);
}

int xp_extent_rename(struct xp_ns *ns, const char *from, const char *to,
		     unsigned flags)
{
	struct xp_rec rec;
	int slot, rc;

	xp_err_clear();
	rc = xp_flags_known(flags, XP_FORCE, tgt(ns), "rename");
	rc = rc ?: check_name(ns, to);
	rc = rc ?: begin_update(ns, from, &slot, &rec);
	rc = rc ?: rules_allow(ns, slot, true, flags);
	if (rc)
		return rc;
	if (!strcmp(rec.name, to))
		return 0;
	if (xp_ns_find_slot(ns, to) != -ENOENT)
		return xp_err(EEXIST, tgt(ns), "extent '%s' already exists", to);
	/* check_name() held @to to XP_NAME_MAX bytes; NUL-padded, as
	 * decode leaves a name (snprintf here was a quarter of a rename). */
	memset(rec.name, 0, sizeof(rec.name));
	memcpy(rec.name, to, strlen(to));
	return slot_commit(ns, (uint32_t)slot, &rec);
}

int xp_extent_assign(struct xp_ns *ns, const char *name,
		     const uint8_t owner[16])
{
	static const uint8_t nil[16];
	struct xp_rec rec;
	int slot, rc;

	xp_err_clear();
	if (!owner)
		owner = nil;
	rc = begin_update(ns, name, &slot, &rec);
	rc = rc ?: rules_allow(ns, slot, false, 0);
	if (rc)
		return rc;
	if (!memcmp(rec.owner, owner, 16))
		return 0;
	if (rec.type == XP_REC_LENT_RAM && !xp_uuid_is_nil(owner))
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s' is lent to the hypervisor as RAM; take it back first with 'xenpmem reclaim %s --force'",
			      name, name);
	memcpy(rec.owner, owner, 16);
	return slot_commit(ns, (uint32_t)slot, &rec);
}

int xp_extent_set_state(struct xp_ns *ns, const char *name,
			enum xp_extent_state state)
{
	struct xp_rec rec;
	uint8_t type;
	int slot, rc;

	xp_err_clear();
	if (state != XP_EXTENT_DATA && state != XP_EXTENT_LENT_RAM)
		return xp_err(EINVAL, tgt(ns), "unknown extent state %d",
			      (int)state);
	rc = begin_update(ns, name, &slot, &rec);
	rc = rc ?: rules_allow(ns, slot, false, 0);
	if (rc)
		return rc;
	type = state == XP_EXTENT_LENT_RAM ? XP_REC_LENT_RAM : XP_REC_DATA;
	if (rec.type == type)
		return 0;
	if (type == XP_REC_LENT_RAM && !xp_uuid_is_nil(rec.owner))
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s' is assigned to a domain; unassign it before lending it as RAM",
			      name);
	if (type == XP_REC_LENT_RAM) {
		rc = xp_extent_refuse_active(ns, (uint32_t)slot, "lending");
		if (rc)
			return rc;
	}
	rec.type = type;
	return slot_commit(ns, (uint32_t)slot, &rec);
}

int xp_extent_wipe(struct xp_ns *ns, const char *name, unsigned flags,
		   xp_progress_fn progress, void *arg)
{
	struct xp_rec rec;
	int slot, rc;

	xp_err_clear();
	rc = xp_flags_known(flags, XP_FORCE, tgt(ns), "wipe");
	if (rc)
		return rc;
	/*
	 * Zeroing changes no metadata, so an XP_OPEN_WIPE handle's shared
	 * lock is enough: it keeps every writer (destroy, create, activate)
	 * out for the whole run, and lets readers in.
	 */
	if (ns->flags & XP_OPEN_WIPE) {
		slot = xp_ns_find_slot(ns, name);
		rc = slot < 0 ? xp_ns_find_error(ns, name, slot) : 0;
		if (!rc)
			rec = ns->slots[slot].rec;
	} else {
		rc = begin_update(ns, name, &slot, &rec);
	}
	rc = rc ?: rules_allow(ns, slot, false, 0);
	rc = rc ?: xp_extent_refuse_active(ns, (uint32_t)slot, "wiping");
	if (rc)
		return rc;
	if (!(flags & XP_FORCE))
		return xp_err(EINVAL, tgt(ns),
			      "wiping destroys the data of extent '%s'; confirm with --force",
			      name);
	/* A running or resumable guest's disk: forcing confirms data loss,
	 * not taking the extent away from its owner. */
	if (!xp_uuid_is_nil(rec.owner)) {
		char owner[XP_UUID_STR_LEN];

		xp_uuid_format(rec.owner, owner);
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s' is assigned to domain %s; unassign it before wiping it ('xenpmem unassign %s')",
			      name, owner, name);
	}
	return xp_media_zero(ns->media, rec.offset, rec.size, progress,
				    arg);
}
