/* SPDX-License-Identifier: MIT */
/*
 * Validate a namespace as hostile input, read-only, and plan where the
 * hypervisor's frame table and M2P live in its management area.
 *
 * Nothing on media is trusted beyond what src/format validates, and
 * nothing Dom0 says is trusted beyond where to look: the superblock must
 * describe the namespace at exactly the physical range the caller gives,
 * and the chunk counts are recomputed with this hypervisor's geometry.
 */
#include "xphv_priv.h"

const char *xphv_strreason(uint32_t reason)
{
	switch (reason) {
	case XPHV_OK: return "accepted";
	case XPHV_R_IO: return "the media could not be read or written";
	case XPHV_R_ARGS: return "invalid request";
	case XPHV_R_RANGE: return "physical range not page aligned, too small or beyond the addressable limit";
	case XPHV_R_SB_NONE: return "no valid superblock";
	case XPHV_R_SB_DIFFER: return "the two superblocks are valid but differ; run 'xenpmem check' and choose one with --use-superblock";
	case XPHV_R_SB_INVALID: return "a superblock copy is invalid";
	case XPHV_R_VERSION: return "format version or feature not supported";
	case XPHV_R_UUID: return "namespace UUID is not the one expected";
	case XPHV_R_GENERATION: return "superblock generation is not the one expected";
	case XPHV_R_SIZE: return "namespace size on media differs from the range given";
	case XPHV_R_MOVED: return "the namespace has moved since init (phys_base differs)";
	case XPHV_R_ZERO_BLOCK: return "the 4 KiB block after the superblock is not zero";
	case XPHV_R_SLOT_CORRUPT: return "extent table slot is corrupt; run 'xenpmem check --repair'";
	case XPHV_R_EXTENT_OUTSIDE: return "extent lies outside the data area";
	case XPHV_R_EXTENT_ALIGN: return "extent is misaligned physically";
	case XPHV_R_OVERLAP: return "extents overlap";
	case XPHV_R_DUP_UUID: return "two extents share a UUID";
	case XPHV_R_DUP_NAME: return "two extents share a name";
	case XPHV_R_NO_MGMT: return "the namespace has no management area (init --mgmt none)";
	case XPHV_R_GEOMETRY: return "the management area's geometry does not suit this hypervisor";
	case XPHV_R_ALIGN: return "a region is not aligned physically as the hypervisor needs";
	case XPHV_R_PDX: return "frame is not PDX-compressible (in the PDX hole) or the range is not contiguous in PDX space";
	case XPHV_R_LIMIT: return "frame beyond the frame table's or M2P's reach";
	case XPHV_R_MGMT_SMALL: return "management area too small for this hypervisor's frame table and M2P";
	case XPHV_R_LENT_ALIGN: return "reserved";
	case XPHV_R_RAM_OVERLAP: return "range overlaps host RAM";
	case XPHV_R_NS_OVERLAP: return "range or UUID overlaps a namespace already registered";
	case XPHV_R_FULL: return "no room left in the hypervisor's tables";
	case XPHV_R_BUSY: return "extents are still mapped into domains";
	case XPHV_R_LENT: return "the namespace lent RAM to the hypervisor: one-way until reboot";
	case XPHV_R_NOT_REGISTERED: return "namespace is not registered";
	case XPHV_R_NO_EXTENT: return "no such extent in the namespace";
	case XPHV_R_NOT_OWNER: return "the domain is not the extent's owner on media";
	case XPHV_R_NOT_DATA: return "extent is lent to the hypervisor as RAM, not guest data";
	case XPHV_R_MAPPED: return "extent is already mapped";
	case XPHV_R_NOT_MAPPED: return "extent is not mapped into that domain";
	case XPHV_R_GFN: return "guest frame range is invalid";
	case XPHV_R_P2M: return "the p2m refused the mapping";
	case XPHV_R_CHANGED: return "extent changed on media since the namespace was registered";
	case XPHV_R_META_RANGE: return "metadata access outside the superblocks and the extent table";
	case XPHV_R_META_RECORD: return "new record copy is invalid";
	case XPHV_R_META_SEQ: return "new record's sequence or tag breaks the update protocol";
	case XPHV_R_META_COPY: return "record write targets the current copy with a different payload";
	case XPHV_R_META_MAPPED: return "record change touches a mapped or lent extent";
	case XPHV_R_HEAP: return "the hypervisor heap refused the lent frames";
	case XPHV_R_LABEL: return "extent's label area is invalid";
	case XPHV_R_ABI: return "ABI version, flag or reserved field not supported";
	case XPHV_R_TABLE: return "extent table is not where the layout puts it";
	case XPHV_R_NO_DOMAIN: return "no such domain";
	case XPHV_R_FRAME_MAPPED: return "a frame of the extent is already mapped into a domain";
	case XPHV_R_COMPAT: return "32-bit PV guests are enabled but the namespace reserved no compat M2P (init without --no-compat-m2p, or boot Xen with pv=no-32)";
	}
	return "unknown reason";
}

/* Xen's public errno values (xen/include/public/errno.h), Linux's too. */
enum {
	E_IO = 5, E_NOMEM = 12, E_ACCES = 13, E_BUSY = 16, E_EXIST = 17,
	E_INVAL = 22, E_NOSPC = 28, E_RANGE = 34, E_NOTSUP = 95, E_PROTO = 71,
	E_NOENT = 2, E_SRCH = 3, E_STALE = 116, E_UCLEAN = 117,
};

int xphv_errno(uint32_t reason)
{
	switch (reason) {
	case XPHV_OK: return 0;
	case XPHV_R_IO: return E_IO;
	case XPHV_R_RANGE: return E_RANGE;
	case XPHV_R_UUID: case XPHV_R_GENERATION: case XPHV_R_CHANGED:
		return E_STALE;
	case XPHV_R_SB_NONE: case XPHV_R_SB_DIFFER: case XPHV_R_SB_INVALID:
	case XPHV_R_SIZE: case XPHV_R_MOVED: case XPHV_R_ZERO_BLOCK:
	case XPHV_R_SLOT_CORRUPT: case XPHV_R_EXTENT_OUTSIDE:
	case XPHV_R_EXTENT_ALIGN: case XPHV_R_OVERLAP: case XPHV_R_DUP_UUID:
	case XPHV_R_DUP_NAME: case XPHV_R_LABEL: case XPHV_R_TABLE:
		return E_UCLEAN;
	case XPHV_R_VERSION: case XPHV_R_NO_MGMT: case XPHV_R_GEOMETRY:
	case XPHV_R_ALIGN: case XPHV_R_PDX: case XPHV_R_LIMIT:
	case XPHV_R_MGMT_SMALL: case XPHV_R_COMPAT:
		return E_NOTSUP;
	case XPHV_R_RAM_OVERLAP: case XPHV_R_NS_OVERLAP: case XPHV_R_MAPPED:
	case XPHV_R_FRAME_MAPPED:
		return E_EXIST;
	case XPHV_R_FULL: return E_NOSPC;
	case XPHV_R_BUSY: case XPHV_R_LENT: case XPHV_R_META_MAPPED:
		return E_BUSY;
	case XPHV_R_NOT_REGISTERED: case XPHV_R_NO_EXTENT:
	case XPHV_R_NOT_MAPPED:
		return E_NOENT;
	case XPHV_R_NO_DOMAIN: return E_SRCH;
	case XPHV_R_NOT_OWNER: case XPHV_R_META_RANGE: return E_ACCES;
	case XPHV_R_HEAP: return E_NOMEM;
	case XPHV_R_ABI: return E_PROTO;
	}
	return E_INVAL;
}

void xphv_geom_xen_x86(struct xphv_geom *g, bool pv32)
{
	xphv_bytes_zero(g, sizeof(*g));
	g->page_info_size = XP_XEN_FT_ENTRY;
	g->m2p_entry = XP_XEN_M2P_ENTRY;
	g->compat_entry = pv32 ? XP_XEN_COMPAT_ENTRY : 0;
	g->compat_limit_shift = XP_XEN_COMPAT_LIMIT_SHIFT;
	g->chunk_shift = XP_CHUNK_SHIFT;
	/* FRAMETABLE_SIZE 128 GiB / 32 B; RDWR_MPT 256 GiB / 8 B. */
	g->ft_pdx_limit = (128ull << 30) / XP_XEN_FT_ENTRY;
	g->m2p_mfn_limit = (256ull << 30) / XP_XEN_M2P_ENTRY;
}

uint64_t xphv_pdx(const struct xphv_ns *ns, uint64_t mfn)
{
	if (!ns->geom.pfn_to_pdx)
		return mfn;
	return ns->geom.pfn_to_pdx(ns->geom.pdx_ctx, mfn);
}

static int media_read(const struct xphv_ns *ns, uint64_t off, void *buf,
		      uint64_t len, struct xphv_refusal *why)
{
	if (off > ns->length || len > ns->length - off)
		return xphv_refuse(why, XPHV_R_IO, XPHV_NO_SLOT, off, len);
	if (ns->media->read(ns->media->ctx, off, buf, len))
		return xphv_refuse(why, XPHV_R_IO, XPHV_NO_SLOT, off, len);
	return 0;
}

/* The raw ns_size field of a block that failed on it. */
static uint64_t raw_ns_size(const uint8_t *blk)
{
	const struct xp_sb_disk *d = (const void *)blk;

	return xp_get64(d->ns_size);
}

int xphv_probe(struct xphv_ns *ns, const struct xphv_media *m,
	       uint64_t phys_start, uint64_t length, struct xphv_need *need,
	       struct xphv_refusal *why)
{
	enum xp_fmt_status st[2];
	const char *field[2];
	struct xp_sb sb[2];
	int use;

	xphv_bytes_zero(ns, sizeof(*ns));
	ns->media = m;
	ns->phys_start = phys_start;
	ns->length = length;
	if (!m || !m->read || !need)
		return xphv_refuse(why, XPHV_R_ARGS, XPHV_NO_SLOT, 0, 0);
	if ((phys_start | length) & (XP_PAGE_SIZE - 1) ||
	    length < XP_TABLE_OFFSET + XP_SB_BLOCK ||
	    phys_start > XP_PHYS_LIMIT || length > XP_PHYS_LIMIT - phys_start)
		return xphv_refuse(why, XPHV_R_RANGE, XPHV_NO_SLOT, phys_start,
				   length);

	if (media_read(ns, XP_SB_OFFSET, ns->sbuf[0], XP_SB_BLOCK, why) ||
	    media_read(ns, length - XP_SB_BLOCK, ns->sbuf[1], XP_SB_BLOCK, why))
		return -1;
	for (int i = 0; i < 2; i++)
		st[i] = xp_sb_decode(ns->sbuf[i], XP_SB_BLOCK, length, i == 1,
				     &sb[i], &field[i]);

	if (st[0] != XP_OK && st[1] != XP_OK) {
		/* Say the most specific thing the primary copy tells. */
		if (st[0] == XP_E_VERSION || st[1] == XP_E_VERSION)
			return xphv_refuse(why, XPHV_R_VERSION, XPHV_NO_SLOT,
					   st[0] == XP_E_VERSION ? sb[0].major :
								  sb[1].major,
					   0);
		if (st[0] == XP_E_FIELD && raw_ns_size(ns->sbuf[0]) != length)
			return xphv_refuse(why, XPHV_R_SIZE, XPHV_NO_SLOT,
					   raw_ns_size(ns->sbuf[0]), length);
		return xphv_refuse(why, XPHV_R_SB_NONE, XPHV_NO_SLOT, st[0],
				   st[1]);
	}
	if (st[0] == XP_OK && st[1] == XP_OK) {
		/* docs/format.md "Picking the superblock": a hypervisor
		 * refuses two valid copies that differ beyond generation. */
		if (!xp_sb_same_but_generation(ns->sbuf[0], ns->sbuf[1]))
			return xphv_refuse(why, XPHV_R_SB_DIFFER, XPHV_NO_SLOT,
					   sb[0].generation, sb[1].generation);
		use = sb[1].generation > sb[0].generation;
	} else {
		use = st[0] != XP_OK;
		ns->sb_one_valid = true;
	}
	/* A struct assignment may become a memcpy call: freestanding. */
	xphv_bytes_copy(&ns->sb, &sb[use], sizeof(ns->sb));
	ns->sb_copy = use;

	need->slot_count = ns->sb.slot_count;
	need->ft_ready_words = (ns->sb.chunks.ft + 63) / 64;
	xphv_ok(why);
	return 0;
}

/* ---- Checks on extents ------------------------------------------------- */

int xphv_check_rec(const struct xphv_ns *ns, uint32_t slot,
		   const struct xp_rec *rec, struct xphv_refusal *why)
{
	const struct xp_sb *sb = &ns->sb;
	uint64_t end, phys, a;

	if (xp_add_ovf(rec->offset, rec->size, &end) ||
	    rec->offset < sb->data_offset ||
	    end > sb->data_offset + sb->data_size || !rec->size)
		return xphv_refuse(why, XPHV_R_EXTENT_OUTSIDE, slot,
				   rec->offset, rec->size);
	phys = ns->phys_start + rec->offset;
	a = xp_shl1(rec->align_shift);
	if (!xp_align_shift_ok(rec->align_shift) || phys & (a - 1) ||
	    rec->size & ((1ull << XP_ALIGN_2M_SHIFT) - 1))
		return xphv_refuse(why, XPHV_R_EXTENT_ALIGN, slot, phys, a);
	if (rec->label_size & (XP_PAGE_SIZE - 1) ||
	    rec->label_size >= rec->size)
		return xphv_refuse(why, XPHV_R_LABEL, slot, rec->label_size,
				   rec->size);
	if (rec->type != XP_REC_DATA && rec->type != XP_REC_LENT_RAM)
		return xphv_refuse(why, XPHV_R_NOT_DATA, slot, rec->type, 0);
	return 0;
}

void xphv_ext_from_rec(struct xphv_extent *e, uint32_t slot,
		       const struct xp_rec *rec)
{
	xphv_bytes_zero(e, sizeof(*e));
	e->slot = slot;
	e->type = rec->type;
	e->align_shift = rec->align_shift;
	e->mapped_domid = XPHV_NO_DOMID;
	e->seq = rec->seq;
	e->offset = rec->offset;
	e->size = rec->size;
	e->label_size = rec->label_size;
	xphv_bytes_copy(e->uuid, rec->uuid, 16);
	xphv_bytes_copy(e->owner, rec->owner, 16);
	xphv_bytes_copy(e->name, rec->name, sizeof(e->name));
	e->name[XP_NAME_MAX] = 0;
}

struct xphv_extent *xphv_ext_by_slot(struct xphv_ns *ns, uint32_t slot)
{
	for (uint32_t i = 0; i < ns->next; i++)
		if (ns->st.ext[i].slot == slot)
			return &ns->st.ext[i];
	return 0;
}

static bool names_equal(const char *a, const char *b)
{
	for (uint32_t i = 0; i <= XP_NAME_MAX; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

int xphv_check_against(const struct xphv_ns *ns, uint32_t slot,
		       const struct xp_rec *rec, struct xphv_refusal *why)
{
	for (uint32_t i = 0; i < ns->next; i++) {
		const struct xphv_extent *e = &ns->st.ext[i];

		if (e->slot == slot)
			continue;
		if (xphv_overlap(e->offset, e->size, rec->offset, rec->size))
			return xphv_refuse(why, XPHV_R_OVERLAP, slot, e->slot,
					   0);
		if (xphv_bytes_equal(e->uuid, rec->uuid, 16))
			return xphv_refuse(why, XPHV_R_DUP_UUID, slot, e->slot,
					   0);
		if (names_equal(e->name, rec->name))
			return xphv_refuse(why, XPHV_R_DUP_NAME, slot, e->slot,
					   0);
	}
	return 0;
}

int xphv_read_slot(const struct xphv_ns *ns, uint32_t slot, struct xp_slot *s,
		   struct xphv_refusal *why)
{
	uint8_t buf[XP_SLOT_SIZE];

	if (slot >= ns->sb.slot_count)
		return xphv_refuse(why, XPHV_R_ARGS, slot, 0, 0);
	if (media_read(ns, xp_slot_offset(slot), buf, sizeof(buf), why))
		return -1;
	xp_slot_decode(&ns->sb, slot, buf, s);
	return 0;
}

/* ---- Whole-table rules over the cached extents, O(n log n) ------------- */

static int cmp_off(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xphv_extent *e = ctx;

	return e[x].offset < e[y].offset ? -1 : e[x].offset > e[y].offset;
}

static int cmp_uuid(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xphv_extent *e = ctx;

	for (int i = 0; i < 16; i++)
		if (e[x].uuid[i] != e[y].uuid[i])
			return e[x].uuid[i] < e[y].uuid[i] ? -1 : 1;
	return 0;
}

static int cmp_name(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xphv_extent *e = ctx;

	for (uint32_t i = 0; i <= XP_NAME_MAX; i++) {
		if (e[x].name[i] != e[y].name[i])
			return (uint8_t)e[x].name[i] < (uint8_t)e[y].name[i] ?
				       -1 : 1;
		if (!e[x].name[i])
			return 0;
	}
	return 0;
}

static int table_rules(struct xphv_ns *ns, struct xphv_refusal *why)
{
	const struct xphv_extent *e = ns->st.ext;
	uint32_t *idx = ns->st.scratch, n = ns->next;

	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	xp_sort_idx(idx, n, cmp_off, e);
	for (uint32_t i = 1; i < n; i++)
		if (e[idx[i - 1]].offset + e[idx[i - 1]].size > e[idx[i]].offset)
			return xphv_refuse(why, XPHV_R_OVERLAP, e[idx[i]].slot,
					   e[idx[i - 1]].slot, 0);
	xp_sort_idx(idx, n, cmp_uuid, e);
	for (uint32_t i = 1; i < n; i++)
		if (!cmp_uuid(idx[i - 1], idx[i], e))
			return xphv_refuse(why, XPHV_R_DUP_UUID, e[idx[i]].slot,
					   e[idx[i - 1]].slot, 0);
	xp_sort_idx(idx, n, cmp_name, e);
	for (uint32_t i = 1; i < n; i++)
		if (!cmp_name(idx[i - 1], idx[i], e))
			return xphv_refuse(why, XPHV_R_DUP_NAME, e[idx[i]].slot,
					   e[idx[i - 1]].slot, 0);
	return 0;
}

/* ---- Geometry and plan ------------------------------------------------- */

static bool entry_ok(uint32_t size, uint32_t chunk_shift)
{
	return size && xp_is_pow2(size) && size <= (1u << chunk_shift);
}

static int check_geom(const struct xphv_geom *g, const struct xp_sb *sb,
		      struct xphv_refusal *why)
{
	if (xp_mgmt_geom_none(&sb->geom))
		return xphv_refuse(why, XPHV_R_NO_MGMT, XPHV_NO_SLOT, 0, 0);
	if (g->chunk_shift != sb->geom.chunk_shift ||
	    g->chunk_shift < XP_PAGE_SHIFT || g->chunk_shift > 30 ||
	    !entry_ok(g->page_info_size, g->chunk_shift) ||
	    !entry_ok(g->m2p_entry, g->chunk_shift) ||
	    (g->compat_entry && (!entry_ok(g->compat_entry, g->chunk_shift) ||
				 g->compat_limit_shift > 63)))
		return xphv_refuse(why, XPHV_R_GEOMETRY, XPHV_NO_SLOT,
				   g->chunk_shift, sb->geom.chunk_shift);
	return 0;
}

static void array_plan(struct xphv_array_plan *p, uint64_t first_idx,
		       uint64_t last_idx, uint64_t per_chunk, uint64_t mfn,
		       uint32_t reserved)
{
	p->first = first_idx / per_chunk;
	p->count = last_idx / per_chunk - p->first + 1;
	p->mfn = mfn;
	p->reserved = reserved;
}

/*
 * The data frames [ds, de) must be contiguous in PDX space, so one run of
 * frame-table chunks covers them and a frame's chunk is one subtraction
 * away. Checked at every chunk-sized step (Xen's PDX compression keeps
 * the bits below MAX_ORDER, so frames inside a 2 MiB block stay together)
 * and at the last frame.
 */
static int check_pdx(const struct xphv_ns *ns, uint64_t ds, uint64_t de,
		     struct xphv_refusal *why)
{
	const uint64_t step = XPHV_FRAMES_PER_CHUNK(ns);
	uint64_t p0 = xphv_pdx(ns, ds), last;

	if (p0 == XPHV_INVALID_PDX)
		return xphv_refuse(why, XPHV_R_PDX, XPHV_NO_SLOT, ds, 0);
	for (uint64_t mfn = ds; mfn < de; mfn += step) {
		uint64_t p = xphv_pdx(ns, mfn);

		if (p == XPHV_INVALID_PDX || p != p0 + (mfn - ds))
			return xphv_refuse(why, XPHV_R_PDX, XPHV_NO_SLOT, mfn,
					   p);
	}
	last = xphv_pdx(ns, de - 1);
	if (last != p0 + (de - 1 - ds))
		return xphv_refuse(why, XPHV_R_PDX, XPHV_NO_SLOT, de - 1, last);
	return 0;
}

static int make_plan(struct xphv_ns *ns, struct xphv_refusal *why)
{
	const struct xphv_geom *g = &ns->geom;
	const struct xp_sb *sb = &ns->sb;
	struct xphv_plan *pl = &ns->plan;
	const uint64_t chunk = 1ull << g->chunk_shift;
	const uint64_t cframes = chunk >> XP_PAGE_SHIFT;
	uint64_t ds, de, p0, p1, mgmt_mfn, limit, used;

	xphv_bytes_zero(pl, sizeof(*pl));
	ds = (ns->phys_start + sb->data_offset) >> XP_PAGE_SHIFT;
	de = (ns->phys_start + sb->data_offset + sb->data_size) >> XP_PAGE_SHIFT;
	if (de <= ds)
		return xphv_refuse(why, XPHV_R_GEOMETRY, XPHV_NO_SLOT, ds, de);
	/* Every region Xen maps is 2 MiB aligned at both ends: the data
	 * area by mem_hotadd_check(), the management chunks as superpages. */
	if ((ds | de) & (cframes - 1))
		return xphv_refuse(why, XPHV_R_ALIGN, XPHV_NO_SLOT,
				   ns->phys_start + sb->data_offset, chunk);
	if ((ns->phys_start + sb->mgmt_offset) & (chunk - 1))
		return xphv_refuse(why, XPHV_R_ALIGN, XPHV_NO_SLOT,
				   ns->phys_start + sb->mgmt_offset, chunk);
	/* PDX compression only shrinks numbers: a data area larger than
	 * the frame table's reach is refused before walking it. */
	if (g->ft_pdx_limit && de - ds > g->ft_pdx_limit)
		return xphv_refuse(why, XPHV_R_LIMIT, XPHV_NO_SLOT, de - 1,
				   g->ft_pdx_limit);
	if (check_pdx(ns, ds, de, why))
		return -1;
	p0 = xphv_pdx(ns, ds);
	p1 = xphv_pdx(ns, de - 1);
	if (g->ft_pdx_limit && p1 >= g->ft_pdx_limit)
		return xphv_refuse(why, XPHV_R_LIMIT, XPHV_NO_SLOT, p1,
				   g->ft_pdx_limit);
	if (g->m2p_mfn_limit && de - 1 >= g->m2p_mfn_limit)
		return xphv_refuse(why, XPHV_R_LIMIT, XPHV_NO_SLOT, de - 1,
				   g->m2p_mfn_limit);

	mgmt_mfn = (ns->phys_start + sb->mgmt_offset) >> XP_PAGE_SHIFT;
	pl->entries_per_ft_chunk = chunk / g->page_info_size;
	array_plan(&pl->ft, p0, p1, pl->entries_per_ft_chunk, mgmt_mfn,
		   sb->chunks.ft);
	array_plan(&pl->m2p, ds, de - 1, chunk / g->m2p_entry,
		   mgmt_mfn + (uint64_t)sb->chunks.ft * cframes, sb->chunks.m2p);
	pl->compat.mfn = mgmt_mfn +
			 (uint64_t)(sb->chunks.ft + sb->chunks.m2p) * cframes;
	pl->compat.reserved = sb->chunks.compat;
	limit = xp_shl1(g->compat_limit_shift) >> XP_PAGE_SHIFT;
	if (g->compat_entry && ds < limit)
		array_plan(&pl->compat, ds, (de < limit ? de : limit) - 1,
			   chunk / g->compat_entry, pl->compat.mfn,
			   sb->chunks.compat);

	if (pl->ft.count > pl->ft.reserved)
		return xphv_refuse(why, XPHV_R_MGMT_SMALL, XPHV_NO_SLOT,
				   pl->ft.count, pl->ft.reserved);
	if (pl->m2p.count > pl->m2p.reserved)
		return xphv_refuse(why, XPHV_R_MGMT_SMALL, XPHV_NO_SLOT,
				   pl->m2p.count, pl->m2p.reserved);
	if (pl->compat.count && !pl->compat.reserved)
		return xphv_refuse(why, XPHV_R_COMPAT, XPHV_NO_SLOT,
				   pl->compat.count, 0);
	if (pl->compat.count > pl->compat.reserved)
		return xphv_refuse(why, XPHV_R_MGMT_SMALL, XPHV_NO_SLOT,
				   pl->compat.count, pl->compat.reserved);
	used = (pl->ft.count + pl->m2p.count + pl->compat.count) * chunk;
	if (used > sb->mgmt_size)	/* cannot happen after the above */
		return xphv_refuse(why, XPHV_R_MGMT_SMALL, XPHV_NO_SLOT,
				   used, sb->mgmt_size);
	pl->mgmt_used = used >> XP_PAGE_SHIFT;
	return 0;
}

static int check_zero_block(struct xphv_ns *ns, struct xphv_refusal *why)
{
	uint8_t *b = ns->sbuf[0];

	if (media_read(ns, XP_ZERO_OFFSET, b, XP_SB_BLOCK, why))
		return -1;
	for (uint32_t i = 0; i < XP_SB_BLOCK; i++)
		if (b[i])
			return xphv_refuse(why, XPHV_R_ZERO_BLOCK, XPHV_NO_SLOT,
					   XP_ZERO_OFFSET + i, b[i]);
	return 0;
}

static int load_table(struct xphv_ns *ns, uint32_t *nlent,
		      struct xphv_refusal *why)
{
	struct xp_slot s;

	ns->next = 0;
	*nlent = 0;
	for (uint32_t i = 0; i < ns->sb.slot_count; i++) {
		if (xphv_read_slot(ns, i, &s, why))
			return -1;
		if (s.state == XP_SLOT_CORRUPT)
			return xphv_refuse(why, XPHV_R_SLOT_CORRUPT, i,
					   s.copy_status[0], s.copy_status[1]);
		if (s.state != XP_SLOT_USED)
			continue;
		if (xphv_check_rec(ns, i, &s.rec, why))
			return -1;
		xphv_ext_from_rec(&ns->st.ext[ns->next++], i, &s.rec);
		*nlent += s.rec.type == XP_REC_LENT_RAM;
	}
	return table_rules(ns, why);
}

int xphv_refresh(struct xphv_ns *ns, const struct xphv_registry *r,
		 struct xphv_refusal *why)
{
	uint32_t nlent;

	/*
	 * Rebuild the cache from the media. Mappings stay as the mapping
	 * list says (it, not the cache, decides which frame is whose), and
	 * so do lent extents (ns->st.lent): lending is one-way.
	 */
	ns->stale = true;
	if (load_table(ns, &nlent, why))
		return -1;
	for (uint32_t i = 0; r && i < r->nmap; i++) {
		const struct xphv_mapping *m = &r->map[i];
		struct xphv_extent *e;

		if (m->ns_id != ns->id)
			continue;
		/* Only where it was mapped: an extent that moved to another
		 * slot on media is refused by its uuid (the mapping list),
		 * and its new slot is not "mapped". */
		e = xphv_ext_by_slot(ns, m->slot);
		if (e && xphv_bytes_equal(e->uuid, m->extent_uuid, 16)) {
			e->mapped_domid = m->domid;
			e->gfn = m->gfn;
		}
	}
	ns->stale = false;
	return 0;
}

int xphv_validate(struct xphv_ns *ns, const struct xphv_expect *exp,
		  const struct xphv_geom *g, const struct xphv_storage *st,
		  struct xphv_refusal *why)
{
	const struct xp_sb *sb = &ns->sb;

	if (!g || !st || !st->ext || !st->scratch ||
	    (sb->chunks.ft && !st->ft_ready) || !ns->media)
		return xphv_refuse(why, XPHV_R_ARGS, XPHV_NO_SLOT, 0, 0);
	ns->geom = *g;
	ns->st = *st;
	if (exp && !xp_uuid_is_nil(exp->ns_uuid) &&
	    !xphv_bytes_equal(exp->ns_uuid, sb->ns_uuid, 16))
		return xphv_refuse(why, XPHV_R_UUID, XPHV_NO_SLOT, 0, 0);
	if (exp && exp->generation && exp->generation != sb->generation)
		return xphv_refuse(why, XPHV_R_GENERATION, XPHV_NO_SLOT,
				   sb->generation, exp->generation);
	/*
	 * With PHYS_KNOWN the layout was solved for this very address;
	 * without it, for address 0, and make_plan() and the extent checks
	 * below still demand every alignment where the namespace is now.
	 */
	if ((sb->compat & XP_SB_F_PHYS_KNOWN) && sb->phys_base != ns->phys_start)
		return xphv_refuse(why, XPHV_R_MOVED, XPHV_NO_SLOT,
				   sb->phys_base, ns->phys_start);
	if (sb->table_offset != XP_TABLE_OFFSET ||
	    xp_slot_offset(sb->slot_count) > sb->mgmt_offset)
		return xphv_refuse(why, XPHV_R_TABLE, XPHV_NO_SLOT,
				   sb->table_offset, sb->mgmt_offset);
	if (check_geom(g, sb, why))
		return -1;
	if ((ns->phys_start + sb->data_offset) & (xp_shl1(sb->align_shift) - 1))
		return xphv_refuse(why, XPHV_R_ALIGN, XPHV_NO_SLOT,
				   ns->phys_start + sb->data_offset,
				   xp_shl1(sb->align_shift));
	if (make_plan(ns, why))
		return -1;
	if (check_zero_block(ns, why))
		return -1;
	if (load_table(ns, &ns->nlent, why))
		return -1;
	for (uint32_t i = 0; i < (sb->chunks.ft + 63) / 64; i++)
		ns->st.ft_ready[i] = 0;
	xphv_ok(why);
	return 0;
}

/* ---- O(1) lookups ------------------------------------------------------ */

static bool data_frame(const struct xphv_ns *ns, uint64_t mfn)
{
	uint64_t ds = (ns->phys_start + ns->sb.data_offset) >> XP_PAGE_SHIFT;
	uint64_t de = ds + (ns->sb.data_size >> XP_PAGE_SHIFT);

	return mfn >= ds && mfn < de;
}

static const struct xphv_lent *lent_of(const struct xphv_ns *ns, uint64_t mfn)
{
	for (uint32_t i = 0; i < ns->nlent && ns->st.lent; i++) {
		const struct xphv_lent *l = &ns->st.lent[i];

		if (mfn >= l->start_mfn && mfn - l->start_mfn < l->nr)
			return l;
	}
	return 0;
}

int xphv_ft_slot(const struct xphv_ns *ns, uint64_t mfn, uint64_t *backing_mfn,
		 uint32_t *offset)
{
	const struct xphv_plan *pl = &ns->plan;
	const struct xphv_lent *l;
	uint64_t pdx, chunk, byte;

	if (!data_frame(ns, mfn))
		return -1;
	pdx = xphv_pdx(ns, mfn);
	chunk = pdx / pl->entries_per_ft_chunk;
	byte = (pdx % pl->entries_per_ft_chunk) * ns->geom.page_info_size;
	l = ns->id ? lent_of(ns, mfn) : 0;
	if (l && chunk >= l->ft_first && chunk - l->ft_first < l->ft_chunks)
		*backing_mfn = l->start_mfn +
			       (chunk - l->ft_first) * XPHV_FRAMES_PER_CHUNK(ns);
	else
		*backing_mfn = pl->ft.mfn +
			       (chunk - pl->ft.first) * XPHV_FRAMES_PER_CHUNK(ns);
	*backing_mfn += byte >> XP_PAGE_SHIFT;
	*offset = (uint32_t)(byte & (XP_PAGE_SIZE - 1));
	return 0;
}

int xphv_m2p_slot(const struct xphv_ns *ns, uint64_t mfn, bool compat,
		  uint64_t *backing_mfn, uint32_t *offset)
{
	const struct xphv_array_plan *p = compat ? &ns->plan.compat :
						   &ns->plan.m2p;
	uint32_t entry = compat ? ns->geom.compat_entry : ns->geom.m2p_entry;
	uint64_t per, chunk, byte;

	if (!data_frame(ns, mfn) || !p->count || !entry)
		return -1;
	per = (1ull << ns->geom.chunk_shift) / entry;
	chunk = mfn / per;
	if (chunk < p->first || chunk - p->first >= p->count)
		return -1;
	byte = (mfn % per) * entry;
	*backing_mfn = p->mfn + (chunk - p->first) * XPHV_FRAMES_PER_CHUNK(ns) +
		       (byte >> XP_PAGE_SHIFT);
	*offset = (uint32_t)(byte & (XP_PAGE_SIZE - 1));
	return 0;
}

int xphv_ft_prepare(struct xphv_ns *ns, uint64_t mfn, uint64_t nr,
		    struct xphv_refusal *why)
{
	const struct xphv_plan *pl = &ns->plan;
	const uint64_t per = pl->entries_per_ft_chunk;
	uint64_t ds = (ns->phys_start + ns->sb.data_offset) >> XP_PAGE_SHIFT;
	uint64_t de = ds + (ns->sb.data_size >> XP_PAGE_SHIFT);
	uint64_t pds = xphv_pdx(ns, ds), c0, c1;

	if (!nr || mfn < ds || mfn >= de || nr > de - mfn)
		return xphv_refuse(why, XPHV_R_ARGS, XPHV_NO_SLOT, mfn, nr);
	c0 = xphv_pdx(ns, mfn) / per;
	c1 = xphv_pdx(ns, mfn + nr - 1) / per;
	for (uint64_t c = c0; c <= c1; c++) {
		uint64_t i = c - pl->ft.first, lo, hi;

		if (ns->st.ft_ready[i / 64] & (1ull << (i % 64)))
			continue;
		/* The frames of this namespace the chunk describes: data
		 * frames are contiguous in PDX space (check_pdx). */
		lo = c * per > pds ? ds + (c * per - pds) : ds;
		hi = (c + 1) * per - pds < de - ds ? ds + ((c + 1) * per - pds) :
						      de;
		if (ns->ops && ns->ops->ft_init_chunk &&
		    ns->ops->ft_init_chunk(ns->ops->ctx, c,
					   pl->ft.mfn +
						   i * XPHV_FRAMES_PER_CHUNK(ns),
					   lo, hi - lo))
			return xphv_refuse(why, XPHV_R_IO, XPHV_NO_SLOT, c, 0);
		ns->st.ft_ready[i / 64] |= 1ull << (i % 64);
	}
	return 0;
}
