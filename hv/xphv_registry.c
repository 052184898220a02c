/* SPDX-License-Identifier: MIT */
/*
 * The registry of adopted namespaces: which physical frames are whose
 * metadata, management area, guest data or lent RAM, answered by MFN.
 */
#include "xphv_priv.h"

void xphv_registry_init(struct xphv_registry *r, const struct xphv_range *ram,
			uint32_t nram, struct xphv_ns **ns, uint32_t ns_cap,
			struct xphv_region *reg, uint32_t reg_cap,
			struct xphv_mapping *map, uint32_t map_cap)
{
	xphv_bytes_zero(r, sizeof(*r));
	r->ram = ram;
	r->nram = nram;
	r->ns = ns;
	r->ns_cap = ns_cap;
	r->reg = reg;
	r->reg_cap = reg_cap;
	r->map = map;
	r->map_cap = map_cap;
	for (uint32_t i = 0; i < ns_cap; i++)
		ns[i] = 0;
}

struct xphv_ns *xphv_lookup(const struct xphv_registry *r, uint32_t ns_id)
{
	if (!ns_id || ns_id > r->ns_cap)
		return 0;
	return r->ns[ns_id - 1];
}

struct xphv_ns *xphv_lookup_uuid(const struct xphv_registry *r,
				 const uint8_t ns_uuid[16])
{
	for (uint32_t i = 0; i < r->ns_cap; i++)
		if (r->ns[i] && xphv_bytes_equal(r->ns[i]->sb.ns_uuid, ns_uuid, 16))
			return r->ns[i];
	return 0;
}

const struct xphv_region *xphv_query(const struct xphv_registry *r,
				     uint64_t mfn)
{
	uint32_t lo = 0, hi = r->nreg;

	/* The last region starting at or below @mfn. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->reg[mid].start_mfn <= mfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || mfn >= r->reg[lo - 1].end_mfn)
		return 0;
	return &r->reg[lo - 1];
}

/* Regions a namespace needs: metadata front, management, metadata tail,
 * and the data area cut around each lent extent (one RAM region each). */
static uint32_t regions_needed(const struct xphv_ns *ns)
{
	return 3 + 1 + 2 * ns->nlent;
}

static void add_region(struct xphv_registry *r, uint64_t s, uint64_t e,
		       uint32_t type, uint32_t id)
{
	uint32_t i = r->nreg;

	if (s >= e)
		return;
	while (i && r->reg[i - 1].start_mfn > s) {
		r->reg[i] = r->reg[i - 1];
		i--;
	}
	r->reg[i] = (struct xphv_region){s, e, type, id};
	r->nreg++;
}

static int cmp_lent(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xphv_lent *l = ctx;

	return l[x].start_mfn < l[y].start_mfn ? -1 :
						 l[x].start_mfn > l[y].start_mfn;
}

static void add_regions(struct xphv_registry *r, struct xphv_ns *ns)
{
	const uint64_t p = ns->phys_start;
	const struct xp_sb *sb = &ns->sb;
	uint64_t ms = (p + sb->mgmt_offset) >> XP_PAGE_SHIFT;
	uint64_t ds = (p + sb->data_offset) >> XP_PAGE_SHIFT;
	uint64_t de = (p + sb->data_offset + sb->data_size) >> XP_PAGE_SHIFT;
	uint32_t *idx = ns->st.scratch;
	uint64_t cur = ds;

	add_region(r, p >> XP_PAGE_SHIFT, ms, XPHV_REG_META, ns->id);
	add_region(r, ms, ds, XPHV_REG_MGMT, ns->id);
	for (uint32_t i = 0; i < ns->nlent; i++)
		idx[i] = i;
	xp_sort_idx(idx, ns->nlent, cmp_lent, ns->st.lent);
	for (uint32_t i = 0; i < ns->nlent; i++) {
		const struct xphv_lent *l = &ns->st.lent[idx[i]];

		add_region(r, cur, l->start_mfn, XPHV_REG_DATA, ns->id);
		add_region(r, l->start_mfn, l->start_mfn + l->nr, XPHV_REG_RAM,
			   ns->id);
		cur = l->start_mfn + l->nr;
	}
	add_region(r, cur, de, XPHV_REG_DATA, ns->id);
	add_region(r, de, (p + ns->length) >> XP_PAGE_SHIFT, XPHV_REG_META,
		   ns->id);
}

/*
 * Lend one extent as RAM, like Linux's memmap_on_memory: the page_info
 * records of the frame-table groups it holds whole go into its own first
 * frames; a group it shares with data frames keeps its chunk in the
 * management area (the plan reserved one for every group of the data
 * area). The rest of the extent goes to the heap.
 */
static int lend(struct xphv_ns *ns, const struct xphv_extent *e,
		struct xphv_lent *l, struct xphv_refusal *why)
{
	const uint64_t cframes = XPHV_FRAMES_PER_CHUNK(ns);
	const uint64_t per = ns->plan.entries_per_ft_chunk;
	const struct xphv_ops *ops = ns->ops;
	uint64_t p0, gs, ge, head, tail;

	l->slot = e->slot;
	l->start_mfn = xphv_ext_mfn(ns, e);
	l->nr = e->size >> XP_PAGE_SHIFT;
	p0 = xphv_pdx(ns, l->start_mfn);	/* contiguous: check_pdx */
	gs = (p0 + per - 1) / per * per;
	ge = (p0 + l->nr) / per * per;
	l->ft_first = gs / per;
	l->ft_chunks = gs < ge ? (uint32_t)((ge - gs) / per) : 0;
	/* Its own frame table must not eat the whole extent. */
	if ((uint64_t)l->ft_chunks * cframes >= l->nr)
		l->ft_chunks = 0;
	if (!l->ft_chunks)
		gs = ge = p0 + l->nr;
	head = gs - p0;
	tail = p0 + l->nr - ge;
	l->heap_mfn = l->start_mfn + (uint64_t)l->ft_chunks * cframes;
	l->heap_nr = l->nr - (uint64_t)l->ft_chunks * cframes;

	for (uint32_t c = 0; c < l->ft_chunks; c++) {
		uint64_t i = l->ft_first + c - ns->plan.ft.first;

		if (ops && ops->ft_init_chunk &&
		    ops->ft_init_chunk(ops->ctx, l->ft_first + c,
				       l->start_mfn + c * cframes,
				       l->start_mfn + head + c * per, per))
			return xphv_refuse(why, XPHV_R_IO, e->slot,
					   l->ft_first + c, 0);
		/* Ready, and backed by the extent: xphv_ft_prepare must
		 * never initialise it again from the management area. */
		ns->st.ft_ready[i / 64] |= 1ull << (i % 64);
	}
	if (head && xphv_ft_prepare(ns, l->start_mfn, head, why))
		return -1;
	if (tail && xphv_ft_prepare(ns, l->start_mfn + l->nr - tail, tail, why))
		return -1;
	if (ops && ops->heap_add && l->heap_nr &&
	    ops->heap_add(ops->ctx, l->heap_mfn, l->heap_nr))
		return xphv_refuse(why, XPHV_R_HEAP, e->slot, l->heap_mfn,
				   l->heap_nr);
	return 0;
}

static int check_overlaps(const struct xphv_registry *r,
			  const struct xphv_ns *ns, struct xphv_refusal *why)
{
	const uint64_t s = ns->phys_start, n = ns->length;

	for (uint32_t i = 0; i < r->nram; i++)
		if (r->ram[i].end > r->ram[i].start &&
		    xphv_overlap(s, n, r->ram[i].start,
				 r->ram[i].end - r->ram[i].start))
			return xphv_refuse(why, XPHV_R_RAM_OVERLAP, XPHV_NO_SLOT,
					   r->ram[i].start, r->ram[i].end);
	for (uint32_t i = 0; i < r->ns_cap; i++) {
		const struct xphv_ns *o = r->ns[i];

		if (!o || o == ns)
			continue;
		if (xphv_overlap(s, n, o->phys_start, o->length) ||
		    xphv_bytes_equal(o->sb.ns_uuid, ns->sb.ns_uuid, 16))
			return xphv_refuse(why, XPHV_R_NS_OVERLAP, XPHV_NO_SLOT,
					   o->phys_start,
					   o->phys_start + o->length);
	}
	return 0;
}

int xphv_register(struct xphv_registry *r, struct xphv_ns *ns,
		  const struct xphv_ops *ops, bool dry_run,
		  struct xphv_refusal *why)
{
	struct xphv_refusal local, *w = why ? why : &local;
	uint32_t slot = r->ns_cap, nlent = 0;
	int rc = 0;

	if (ns->id)
		return xphv_refuse(why, XPHV_R_NS_OVERLAP, XPHV_NO_SLOT,
				   ns->phys_start, ns->phys_start + ns->length);
	if (check_overlaps(r, ns, why))
		return -1;
	for (uint32_t i = 0; i < r->ns_cap && slot == r->ns_cap; i++)
		if (!r->ns[i])
			slot = i;
	if (slot == r->ns_cap || r->reg_cap - r->nreg < regions_needed(ns) ||
	    (ns->nlent && (!ns->st.lent || ns->st.lent_cap < ns->nlent)))
		return xphv_refuse(why, XPHV_R_FULL, XPHV_NO_SLOT, r->nreg,
				   r->reg_cap);
	if (dry_run) {
		xphv_ok(why);
		return 0;
	}

	/* From here on the namespace is the hypervisor's. */
	ns->ops = ops;
	ns->id = slot + 1;
	r->ns[slot] = ns;
	xphv_ok(w);
	for (uint32_t i = 0; i < ns->next && !rc; i++) {
		const struct xphv_extent *e = &ns->st.ext[i];

		if (e->type != XP_REC_LENT_RAM)
			continue;
		ns->nlent = nlent + 1;	/* visible to xphv_ft_slot */
		rc = lend(ns, e, &ns->st.lent[nlent], w);
		/*
		 * Lending is one-way: an extent whose frame table was set up
		 * stays lent even when the heap refused its frames, and the
		 * namespace stays registered either way.
		 */
		if (!rc || w->reason == XPHV_R_HEAP)
			nlent++;
	}
	ns->nlent = nlent;
	add_regions(r, ns);
	if (rc && why)
		*why = *w;
	return rc;
}

int xphv_unregister(struct xphv_registry *r, uint32_t ns_id,
		    struct xphv_refusal *why)
{
	struct xphv_ns *ns = xphv_lookup(r, ns_id);
	uint32_t j = 0;

	if (!ns)
		return xphv_refuse(why, XPHV_R_NOT_REGISTERED, XPHV_NO_SLOT,
				   ns_id, 0);
	if (ns->nmapped)
		return xphv_refuse(why, XPHV_R_BUSY, XPHV_NO_SLOT, ns->nmapped,
				   0);
	if (ns->nlent)
		return xphv_refuse(why, XPHV_R_LENT, XPHV_NO_SLOT, ns->nlent, 0);
	for (uint32_t i = 0; i < r->nreg; i++)
		if (r->reg[i].ns_id != ns_id)
			r->reg[j++] = r->reg[i];
	r->nreg = j;
	r->ns[ns_id - 1] = 0;
	ns->id = 0;
	ns->ops = 0;
	xphv_ok(why);
	return 0;
}
