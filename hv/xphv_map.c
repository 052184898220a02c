/* SPDX-License-Identifier: MIT */
/*
 * Guest mappings and Dom0's metadata access after the hand-off.
 *
 * The mapping list is the authority on which frame is whose: a frame is
 * mapped only if no mapping holds it, only from the data part of an
 * extent whose record, re-read from media at that moment, names the
 * domain as its owner.
 */
#include "xphv_priv.h"

/* 2 MiB p2m entries where both frame numbers allow one. */
#define SUPER_ORDER 9u

static uint32_t order_at(uint64_t gfn, uint64_t mfn, uint64_t left)
{
	const uint64_t n = 1ull << SUPER_ORDER;

	return !((gfn | mfn) & (n - 1)) && left >= n ? SUPER_ORDER : 0;
}

/* Undo the first @done frames of a mapping, in the orders map used. */
static void p2m_undo(const struct xphv_p2m *p2m, uint16_t domid, uint64_t gfn,
		     uint64_t mfn, uint64_t done)
{
	for (uint64_t i = 0; i < done;) {
		uint32_t o = order_at(gfn + i, mfn + i, done - i);

		if (p2m && p2m->unmap)
			(void)p2m->unmap(p2m->ctx, domid, gfn + i, mfn + i, o);
		i += 1ull << o;
	}
}

static struct xphv_extent *ext_by_uuid(struct xphv_ns *ns, const uint8_t u[16])
{
	for (uint32_t i = 0; i < ns->next; i++)
		if (xphv_bytes_equal(ns->st.ext[i].uuid, u, 16))
			return &ns->st.ext[i];
	return 0;
}

static const struct xphv_mapping *mapping_of(const struct xphv_registry *r,
					     uint32_t ns_id, const uint8_t u[16])
{
	for (uint32_t i = 0; i < r->nmap; i++)
		if (r->map[i].ns_id == ns_id &&
		    xphv_bytes_equal(r->map[i].extent_uuid, u, 16))
			return &r->map[i];
	return 0;
}

static bool slot_lent(const struct xphv_ns *ns, uint32_t slot)
{
	for (uint32_t i = 0; i < ns->nlent; i++)
		if (ns->st.lent[i].slot == slot)
			return true;
	return false;
}

static const struct xphv_mapping *mapping_over(const struct xphv_registry *r,
					       uint64_t mfn, uint64_t nr)
{
	for (uint32_t i = 0; i < r->nmap; i++)
		if (xphv_overlap(r->map[i].mfn, r->map[i].nr, mfn, nr))
			return &r->map[i];
	return 0;
}

static int lent_over(const struct xphv_ns *ns, uint64_t mfn, uint64_t nr)
{
	for (uint32_t i = 0; i < ns->nlent; i++)
		if (xphv_overlap(ns->st.lent[i].start_mfn, ns->st.lent[i].nr,
				 mfn, nr))
			return (int)ns->st.lent[i].slot;
	return -1;
}

/* Replace (or drop, @rec NULL or free) the cached extent of @slot. */
static void cache_slot(struct xphv_ns *ns, uint32_t slot,
		       const struct xp_rec *rec)
{
	struct xphv_extent *e = xphv_ext_by_slot(ns, slot);
	/* The same extent keeps its mapping; another one in its slot does
	 * not inherit it. */
	bool same = e && rec && xphv_bytes_equal(e->uuid, rec->uuid, 16);
	uint16_t domid = same ? e->mapped_domid : XPHV_NO_DOMID;
	uint64_t gfn = same ? e->gfn : 0;

	if (!rec || !xp_rec_used(rec)) {
		if (e)
			*e = ns->st.ext[--ns->next];
		return;
	}
	if (!e)
		e = &ns->st.ext[ns->next++];
	xphv_ext_from_rec(e, slot, rec);
	e->mapped_domid = domid;
	e->gfn = gfn;
}

int xphv_map(struct xphv_registry *r, uint32_t ns_id,
	     const struct xphv_domain *d, const uint8_t extent_uuid[16],
	     uint64_t gfn, const struct xphv_p2m *p2m,
	     struct xphv_refusal *why)
{
	struct xphv_ns *ns = xphv_lookup(r, ns_id);
	const struct xphv_mapping *busy;
	struct xphv_extent *e;
	struct xphv_mapping *m;
	uint64_t mfn, nr, supers = 0;
	struct xp_slot s;
	int lent;

	if (!ns)
		return xphv_refuse(why, XPHV_R_NOT_REGISTERED, XPHV_NO_SLOT,
				   ns_id, 0);
	if (!d || !p2m || !p2m->map || d->domid == XPHV_NO_DOMID)
		return xphv_refuse(why, XPHV_R_ARGS, XPHV_NO_SLOT, 0, 0);
	e = ns->stale ? 0 : ext_by_uuid(ns, extent_uuid);
	if (!e) {
		/* Created, or moved, on media since register. */
		if (xphv_refresh(ns, r, why))
			return -1;
		e = ext_by_uuid(ns, extent_uuid);
	}
	if (!e)
		return xphv_refuse(why, XPHV_R_NO_EXTENT, XPHV_NO_SLOT, 0, 0);

	/* Dom0 may have changed the table since register: the media, read
	 * now, decides. */
	if (xphv_read_slot(ns, e->slot, &s, why))
		return -1;
	if (s.state == XP_SLOT_CORRUPT)
		return xphv_refuse(why, XPHV_R_SLOT_CORRUPT, e->slot,
				   s.copy_status[0], s.copy_status[1]);
	if (s.state != XP_SLOT_USED ||
	    !xphv_bytes_equal(s.rec.uuid, extent_uuid, 16)) {
		uint32_t slot = e->slot;
		uint64_t seq = e->seq;

		if (e->mapped_domid == XPHV_NO_DOMID)
			cache_slot(ns, slot, &s.rec);	/* may move *e */
		return xphv_refuse(why, XPHV_R_CHANGED, slot, seq, s.rec.seq);
	}
	/* Ownership first: a domain that does not own the extent learns
	 * nothing about who maps it. */
	if (s.rec.type != XP_REC_DATA)
		return xphv_refuse(why, XPHV_R_NOT_DATA, e->slot, s.rec.type, 0);
	if (!xphv_bytes_equal(s.rec.owner, d->uuid, 16))
		return xphv_refuse(why, XPHV_R_NOT_OWNER, e->slot, d->domid, 0);
	busy = mapping_of(r, ns_id, extent_uuid);
	if (busy)
		return xphv_refuse(why, XPHV_R_MAPPED, e->slot, busy->domid, 0);
	if (slot_lent(ns, e->slot))
		return xphv_refuse(why, XPHV_R_NOT_DATA, e->slot,
				   XP_REC_LENT_RAM, 0);
	if (xphv_check_rec(ns, e->slot, &s.rec, why) ||
	    xphv_check_against(ns, e->slot, &s.rec, why))
		return -1;
	cache_slot(ns, e->slot, &s.rec);

	mfn = xphv_ext_mfn(ns, e);
	nr = xphv_ext_frames(e);
	lent = lent_over(ns, mfn, nr);
	if (lent >= 0)
		return xphv_refuse(why, XPHV_R_OVERLAP, e->slot, (uint32_t)lent,
				   0);
	busy = mapping_over(r, mfn, nr);
	if (busy)
		return xphv_refuse(why, XPHV_R_FRAME_MAPPED, e->slot,
				   busy->mfn > mfn ? busy->mfn : mfn,
				   busy->domid);
	/* Guest physical addresses stay below 2^52 (x86 MAXPHYADDR). */
	if (gfn >= (1ull << 40) || nr > (1ull << 40) - gfn)
		return xphv_refuse(why, XPHV_R_GFN, e->slot, gfn, nr);
	if (r->nmap == r->map_cap)
		return xphv_refuse(why, XPHV_R_FULL, e->slot, r->nmap,
				   r->map_cap);
	if (xphv_ft_prepare(ns, mfn, nr, why))
		return -1;

	for (uint64_t i = 0; i < nr;) {
		uint32_t o = order_at(gfn + i, mfn + i, nr - i);
		int rc = p2m->map(p2m->ctx, d->domid, gfn + i, mfn + i, o);

		if (rc) {
			p2m_undo(p2m, d->domid, gfn, mfn, i);
			return xphv_refuse(why, XPHV_R_P2M, e->slot, gfn + i,
					   (uint64_t)(int64_t)rc);
		}
		supers += o == SUPER_ORDER;
		i += 1ull << o;
	}
	m = &r->map[r->nmap++];
	xphv_bytes_zero(m, sizeof(*m));
	m->ns_id = ns_id;
	m->slot = e->slot;
	m->domid = d->domid;
	m->mfn = mfn;
	m->gfn = gfn;
	m->nr = nr;
	xphv_bytes_copy(m->extent_uuid, extent_uuid, 16);
	xphv_bytes_copy(m->owner, d->uuid, 16);
	m->offset = e->offset;
	m->size = e->size;
	m->label_size = e->label_size;
	m->align_shift = e->align_shift;
	e->mapped_domid = d->domid;
	e->gfn = gfn;
	ns->nmapped++;
	(void)xphv_refuse(why, XPHV_OK, e->slot, nr, supers);
	return 0;
}

static void drop_mapping(struct xphv_registry *r, uint32_t i,
			 const struct xphv_p2m *p2m)
{
	struct xphv_mapping m = r->map[i];
	struct xphv_ns *ns = xphv_lookup(r, m.ns_id);
	struct xphv_extent *e = ns ? ext_by_uuid(ns, m.extent_uuid) : 0;

	p2m_undo(p2m, m.domid, m.gfn, m.mfn, m.nr);
	r->map[i] = r->map[--r->nmap];
	if (e && e->slot == m.slot)
		e->mapped_domid = XPHV_NO_DOMID;
	if (ns)
		ns->nmapped--;
}

int xphv_unmap(struct xphv_registry *r, uint32_t ns_id, uint16_t domid,
	       const uint8_t extent_uuid[16], const struct xphv_p2m *p2m,
	       struct xphv_refusal *why)
{
	if (!xphv_lookup(r, ns_id))
		return xphv_refuse(why, XPHV_R_NOT_REGISTERED, XPHV_NO_SLOT,
				   ns_id, 0);
	for (uint32_t i = 0; i < r->nmap; i++) {
		const struct xphv_mapping *m = &r->map[i];

		if (m->ns_id == ns_id && m->domid == domid &&
		    xphv_bytes_equal(m->extent_uuid, extent_uuid, 16)) {
			uint32_t slot = m->slot;
			uint64_t gfn = m->gfn, nr = m->nr;

			drop_mapping(r, i, p2m);
			(void)xphv_refuse(why, XPHV_OK, slot, gfn, nr);
			return 0;
		}
	}
	return xphv_refuse(why, XPHV_R_NOT_MAPPED, XPHV_NO_SLOT, domid, 0);
}

uint32_t xphv_domain_destroy(struct xphv_registry *r, uint16_t domid,
			     const struct xphv_p2m *p2m)
{
	uint32_t n = 0;

	for (uint32_t i = r->nmap; i-- > 0;)
		if (r->map[i].domid == domid) {
			drop_mapping(r, i, p2m);
			n++;
		}
	return n;
}

/* ---- Metadata --------------------------------------------------------- */

int xphv_meta_read(const struct xphv_ns *ns, uint64_t off, void *buf,
		   uint64_t len, struct xphv_refusal *why)
{
	const uint64_t table_end = xp_slot_offset(ns->sb.slot_count);
	const uint64_t backup = ns->length - XP_SB_BLOCK;
	uint64_t end;

	if (!ns->id)
		return xphv_refuse(why, XPHV_R_NOT_REGISTERED, XPHV_NO_SLOT, 0,
				   0);
	if (!len || xp_add_ovf(off, len, &end) ||
	    !((end <= table_end) || (off >= backup && end <= ns->length)))
		return xphv_refuse(why, XPHV_R_META_RANGE, XPHV_NO_SLOT, off,
				   len);
	if (ns->media->read(ns->media->ctx, off, buf, len))
		return xphv_refuse(why, XPHV_R_IO, XPHV_NO_SLOT, off, len);
	xphv_ok(why);
	return 0;
}

static bool same_payload(const void *a, const void *b)
{
	uint8_t x[XP_REC_PAYLOAD], y[XP_REC_PAYLOAD];

	xp_rec_gather(a, x);
	xp_rec_gather(b, y);
	return xphv_bytes_equal(x, y, sizeof(x));
}

static bool tags_are(const uint8_t *copy, uint8_t tag)
{
	for (uint32_t w = 0; w < XP_REC_WORDS; w++)
		if (copy[w * 8 + 7] != tag)
			return false;
	return true;
}

/* What a mapped extent may change: its name only. */
static bool only_renamed(const struct xphv_mapping *m, const struct xp_rec *n)
{
	return xp_rec_used(n) && n->type == XP_REC_DATA &&
	       xphv_bytes_equal(n->uuid, m->extent_uuid, 16) &&
	       xphv_bytes_equal(n->owner, m->owner, 16) &&
	       n->offset == m->offset && n->size == m->size &&
	       n->label_size == m->label_size &&
	       n->align_shift == m->align_shift;
}

/*
 * A new record for @slot must leave every mapping and every lent extent
 * exactly as it is: the mapping list and the lent list, not the cache,
 * say what is in use (the cache follows the media, which Dom0 may have
 * changed before the hand-off).
 */
static int keeps_in_use(const struct xphv_registry *r,
			const struct xphv_ns *ns, uint32_t slot,
			const struct xp_rec *cur, const struct xp_rec *n,
			struct xphv_refusal *why)
{
	uint64_t mfn = (ns->phys_start + n->offset) >> XP_PAGE_SHIFT;
	uint64_t nr = xp_rec_used(n) ? n->size >> XP_PAGE_SHIFT : 0;

	if (slot_lent(ns, slot))
		return xphv_refuse(why, XPHV_R_META_MAPPED, slot, XPHV_NO_DOMID,
				   slot);
	for (uint32_t i = 0; i < r->nmap; i++) {
		const struct xphv_mapping *m = &r->map[i];

		if (m->ns_id != ns->id)
			continue;
		/* A mapped extent is only renamed, in place: the slot must
		 * still hold it on media, and the new record too. */
		if (m->slot == slot ? !only_renamed(m, cur) ||
					      !only_renamed(m, n) :
				      xphv_overlap(m->mfn, m->nr, mfn, nr))
			return xphv_refuse(why, XPHV_R_META_MAPPED, slot,
					   m->domid, m->mfn);
	}
	for (uint32_t i = 0; nr && i < ns->nlent; i++)
		if (xphv_overlap(ns->st.lent[i].start_mfn, ns->st.lent[i].nr,
				 mfn, nr))
			return xphv_refuse(why, XPHV_R_META_MAPPED, slot,
					   XPHV_NO_DOMID, ns->st.lent[i].slot);
	return 0;
}

int xphv_meta_write(struct xphv_registry *r, struct xphv_ns *ns,
		    uint32_t slot, uint32_t copy, const void *rec_copy,
		    struct xphv_refusal *why)
{
	const uint8_t *nc = rec_copy;
	uint8_t cur[XP_REC_SIZE];
	const char *field, *ro;
	struct xp_rec n;
	struct xp_slot s;
	enum xp_fmt_status st;
	uint64_t off, next;

	if (!ns || !ns->id || xphv_lookup(r, ns->id) != ns)
		return xphv_refuse(why, XPHV_R_NOT_REGISTERED, XPHV_NO_SLOT, 0,
				   0);
	if (slot >= ns->sb.slot_count || copy > 1 || !rec_copy ||
	    !ns->media->write)
		return xphv_refuse(why, XPHV_R_ARGS, slot, copy, 0);
	if (!xp_sb_writable(&ns->sb, &ro))
		return xphv_refuse(why, XPHV_R_VERSION, slot, ns->sb.minor,
				   ns->sb.ro_compat);
	if (ns->stale && xphv_refresh(ns, r, why))
		return -1;
	if (xphv_read_slot(ns, slot, &s, why))
		return -1;
	if (s.state == XP_SLOT_CORRUPT || s.active < 0)
		return xphv_refuse(why, XPHV_R_SLOT_CORRUPT, slot,
				   s.copy_status[0], s.copy_status[1]);
	st = xp_rec_decode(&ns->sb, slot, nc, &n, &field);
	if (st != XP_OK || !tags_are(nc, xp_rec_tag(n.seq)))
		return xphv_refuse(why, XPHV_R_META_RECORD, slot, st, copy);
	off = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;

	if ((int)copy == s.active) {
		/* Evening the tags of the current copy: same payload. */
		if (ns->media->read(ns->media->ctx, off, cur, sizeof(cur)))
			return xphv_refuse(why, XPHV_R_IO, slot, off, 0);
		if (!same_payload(cur, nc))
			return xphv_refuse(why, XPHV_R_META_COPY, slot, copy, 0);
		if (ns->media->write(ns->media->ctx, off, nc, XP_REC_SIZE))
			return xphv_refuse(why, XPHV_R_IO, slot, off, 0);
		xphv_ok(why);
		return 0;
	}

	/* A new record: exactly the seq and copy the update protocol picks
	 * (docs/format.md): newer by at most 17, with a tag no word of the
	 * target copy carries, so a tear always shows and a later damaged
	 * copy is told older or newer by its tag. */
	if (xp_slot_next_copy(&s, &next) != (int)copy || n.seq != next)
		return xphv_refuse(why, XPHV_R_META_SEQ, slot, n.seq, s.rec.seq);
	if (keeps_in_use(r, ns, slot, &s.rec, &n, why))
		return -1;
	if (xp_rec_used(&n) && (xphv_check_rec(ns, slot, &n, why) ||
				xphv_check_against(ns, slot, &n, why)))
		return -1;
	/* Over a copy that is neither valid nor blank, the seq word goes
	 * first behind its own fence: no tear can complete an old record. */
	if (s.copy_status[copy] != XP_OK && s.copy_status[copy] != XP_E_BLANK &&
	    ns->media->write(ns->media->ctx, off, nc, 8))
		return xphv_refuse(why, XPHV_R_IO, slot, off, 0);
	if (ns->media->write(ns->media->ctx, off, nc, XP_REC_SIZE))
		return xphv_refuse(why, XPHV_R_IO, slot, off, 0);
	cache_slot(ns, slot, &n);
	xphv_ok(why);
	return 0;
}
