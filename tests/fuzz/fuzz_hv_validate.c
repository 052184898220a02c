/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the hv library's validator on a hostile namespace,
 * then everything a validated namespace leads to (layout in fuzz_hv.h).
 *
 * The input becomes a zero image of the length the header or the
 * superblock says, with the input's superblocks, zero block and table
 * laid over it. Probe and validate must never read outside [0, length)
 * nor write at all; a refusal's slot and numbers must be what the media
 * shows (a corrupt slot decodes corrupt, two slots named by OVERLAP or
 * DUP_* do break that rule, ZERO_BLOCK names the first non-zero byte).
 * An accepted namespace must be what the format says, slot by slot, keep
 * every table rule, and have exactly the plan the reference computes; its
 * frame-table and M2P lookups stay inside their sub-arrays of the
 * management area. Then it is registered (writes only in the management
 * area or a lent extent's own frame-table frames; regions tile the
 * namespace), its frame-table chunks prepared lazily (each at most once,
 * backed where the plan says), and each data extent mapped into the
 * domain its record names through a checking p2m (hv_image.h: every frame
 * a data frame of that extent, outside its label area, never twice),
 * refused to anyone else and when lent, unmapped, and the domains
 * destroyed: the shadow p2m must end empty.
 */
#include "fuzz_hv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHUNK (2 * FZ_MiB)
#define MAX_DOMS 32u

static struct hvi im;
static struct hvi_ns H;
static struct hvp P;
static struct hvo O;
static struct hvi_pdx PDX;
static bool stats;
static struct {
	unsigned long probed, validated, registered, mapped, lent;
} st;

static void print_stats(void)
{
	fprintf(stderr, "fuzz_hv_validate: %lu probed, %lu validated, %lu registered, %lu extents mapped, %lu lent\n",
		st.probed, st.validated, st.registered, st.mapped, st.lent);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	stats = getenv("FZ_STATS") != NULL;
	if (stats)
		atexit(print_stats);
	return 0;
}

static uint64_t image_length(const uint8_t *hdr, const uint8_t *pri)
{
	uint64_t s;

	if (hdr[0] & FZ_HV_LENGTH)
		s = fz_le(hdr + 1, 3) << 12;
	else
		s = fz_le(pri + 64, 8);
	if (s % XP_PAGE_SIZE || s < 4 * XP_PAGE_SIZE || s > FZ_HV_MAX_IMAGE)
		return 0;
	return s;
}

/* A refused probe or validate: the reason is one, and true to the media. */
static void check_refusal(const struct xphv_refusal *w)
{
	FZ_ASSERT(w->reason > XPHV_OK && w->reason < XPHV_R__COUNT,
		  "reason %u", w->reason);
	FZ_ASSERT(xphv_strreason(w->reason) != NULL, "strreason");
	if (w->reason == XPHV_R_ZERO_BLOCK) {
		FZ_ASSERT(w->a >= XP_ZERO_OFFSET &&
				  w->a < XP_ZERO_OFFSET + XP_SB_BLOCK &&
				  im.buf[w->a] && im.buf[w->a] == w->b &&
				  fz_zero(im.buf + XP_ZERO_OFFSET,
					  w->a - XP_ZERO_OFFSET),
			  "ZERO_BLOCK at %#llx", (unsigned long long)w->a);
	}
}

static bool recs_equal(const struct xp_rec *a, const struct xphv_extent *e)
{
	return a->type == e->type && a->offset == e->offset &&
	       a->size == e->size && a->label_size == e->label_size &&
	       a->seq == e->seq && !memcmp(a->uuid, e->uuid, 16) &&
	       !memcmp(a->owner, e->owner, 16) && !strcmp(a->name, e->name);
}

/* The refusals that name slots: what the table itself shows. */
static void check_slot_refusal(const struct xphv_refusal *w)
{
	struct xp_slot a, b;

	if (w->reason == XPHV_R_SLOT_CORRUPT) {
		FZ_ASSERT(w->slot < H.ns.sb.slot_count, "corrupt slot %u",
			  w->slot);
		hvi_decode(&im, w->slot, &a);
		FZ_ASSERT(a.state == XP_SLOT_CORRUPT, "slot %u is not corrupt",
			  w->slot);
	}
	if (w->reason == XPHV_R_OVERLAP || w->reason == XPHV_R_DUP_UUID ||
	    w->reason == XPHV_R_DUP_NAME) {
		FZ_ASSERT(w->slot < H.ns.sb.slot_count &&
				  w->a < H.ns.sb.slot_count && w->slot != w->a,
			  "slots %u, %llu", w->slot, (unsigned long long)w->a);
		hvi_decode(&im, w->slot, &a);
		hvi_decode(&im, (uint32_t)w->a, &b);
		FZ_ASSERT(a.state == XP_SLOT_USED && b.state == XP_SLOT_USED,
			  "rule broken by an unused slot");
		if (w->reason == XPHV_R_OVERLAP)
			FZ_ASSERT(a.rec.offset < b.rec.offset + b.rec.size &&
					  b.rec.offset < a.rec.offset + a.rec.size,
				  "slots %u, %llu do not overlap", w->slot,
				  (unsigned long long)w->a);
		if (w->reason == XPHV_R_DUP_UUID)
			FZ_ASSERT(!memcmp(a.rec.uuid, b.rec.uuid, 16),
				  "different uuids");
		if (w->reason == XPHV_R_DUP_NAME)
			FZ_ASSERT(!strcmp(a.rec.name, b.rec.name),
				  "different names");
	}
}

/* The accepted namespace is the table, slot by slot, keeping the rules. */
static void check_table(void)
{
	const struct xp_sb *sb = &H.ns.sb;
	uint64_t ds = sb->data_offset, de = ds + sb->data_size;
	uint32_t nused = 0;
	static struct xp_rec used[4096];
	static uint32_t slot_of[4096];

	for (uint32_t i = 0; i < sb->slot_count; i++) {
		struct xp_slot s;
		bool found = false;

		hvi_decode(&im, i, &s);
		FZ_ASSERT(s.state != XP_SLOT_CORRUPT,
			  "accepted with slot %u corrupt", i);
		if (s.state != XP_SLOT_USED)
			continue;
		for (uint32_t k = 0; k < H.ns.next && !found; k++)
			if (H.ns.st.ext[k].slot == i) {
				FZ_ASSERT(recs_equal(&s.rec, &H.ns.st.ext[k]),
					  "slot %u cached differently", i);
				found = true;
			}
		FZ_ASSERT(found, "used slot %u not cached", i);
		FZ_ASSERT(s.rec.offset >= ds && s.rec.size &&
				  s.rec.offset + s.rec.size <= de,
			  "slot %u outside the data area", i);
		FZ_ASSERT((H.ns.phys_start + s.rec.offset) %
					  (1ull << s.rec.align_shift) ==
				  0 &&
				  s.rec.size % CHUNK == 0,
			  "slot %u misaligned at %#llx", i,
			  (unsigned long long)(H.ns.phys_start + s.rec.offset));
		FZ_ASSERT(s.rec.label_size < s.rec.size &&
				  s.rec.label_size % XP_PAGE_SIZE == 0,
			  "slot %u label", i);
		if (nused < 4096) {
			slot_of[nused] = i;
			used[nused++] = s.rec;
		}
	}
	FZ_ASSERT(nused == H.ns.next, "%u used slots, %u cached", nused,
		  H.ns.next);
	for (uint32_t a = 0; a < nused; a++)
		for (uint32_t b = a + 1; b < nused; b++)
			FZ_ASSERT(!fz_rules(&used[a], &used[b]),
				  "accepted: slots %u and %u break a rule",
				  slot_of[a], slot_of[b]);
}

/* Lookups stay in their sub-arrays; frames of one chunk do not collide. */
static void check_lookups(uint64_t seed)
{
	const struct xphv_plan *pl = &H.ns.plan;
	const uint64_t cf = CHUNK >> 12;
	uint64_t ds = (H.ns.phys_start + H.ns.sb.data_offset) >> 12;
	uint64_t de = ds + (H.ns.sb.data_size >> 12);
	uint64_t mlo = (H.ns.phys_start + H.ns.sb.mgmt_offset) >> 12;
	uint64_t mhi = mlo + (H.ns.sb.mgmt_size >> 12);
	uint64_t b, prev_b = 0;
	uint32_t off, prev_off = 0;

	FZ_ASSERT(xphv_ft_slot(&H.ns, ds - 1, &b, &off) != 0 &&
			  xphv_ft_slot(&H.ns, de, &b, &off) != 0,
		  "ft_slot outside the data area");
	for (int k = 0; k < 64; k++) {
		uint64_t mfn = ds + (seed + (uint64_t)k * 0x9e3779b97f4a7c15ull) %
					    (de - ds);

		FZ_ASSERT(xphv_ft_slot(&H.ns, mfn, &b, &off) == 0,
			  "ft_slot of data frame %#llx", (unsigned long long)mfn);
		FZ_ASSERT(b >= pl->ft.mfn &&
				  b < pl->ft.mfn + pl->ft.reserved * cf &&
				  b >= mlo && b < mhi && off < 4096 &&
				  off % H.ns.geom.page_info_size == 0,
			  "ft_slot %#llx -> %#llx+%u outside the frame table",
			  (unsigned long long)mfn, (unsigned long long)b, off);
		if (mfn + 1 < de) {
			prev_b = b;
			prev_off = off;
			FZ_ASSERT(xphv_ft_slot(&H.ns, mfn + 1, &b, &off) == 0,
				  "ft_slot");
			FZ_ASSERT(b * 4096 + off ==
					  prev_b * 4096 + prev_off +
						  H.ns.geom.page_info_size ||
				  off == 0,
				  "neighbours' page_info not adjacent");
		}
		FZ_ASSERT(xphv_m2p_slot(&H.ns, mfn, false, &b, &off) == 0 &&
				  b >= pl->m2p.mfn &&
				  b < pl->m2p.mfn + pl->m2p.reserved * cf &&
				  b >= mlo && b < mhi,
			  "m2p_slot of %#llx", (unsigned long long)mfn);
		if (!xphv_m2p_slot(&H.ns, mfn, true, &b, &off))
			FZ_ASSERT(b >= pl->compat.mfn &&
					  b < pl->compat.mfn +
						      pl->compat.reserved * cf &&
					  b >= mlo && b < mhi,
				  "compat slot of %#llx",
				  (unsigned long long)mfn);
		else
			FZ_ASSERT(!pl->compat.count ||
					  (mfn << 12) >> H.ns.geom.compat_limit_shift,
				  "no compat slot below the limit");
	}
}

/* Domains: one per distinct owner on media. */
static struct {
	uint8_t uuid[16];
	uint16_t domid;
} doms[MAX_DOMS];
static unsigned ndoms;

static uint16_t dom_for(const uint8_t owner[16])
{
	for (unsigned i = 0; i < ndoms; i++)
		if (!memcmp(doms[i].uuid, owner, 16))
			return doms[i].domid;
	if (ndoms == MAX_DOMS)
		return 0;
	memcpy(doms[ndoms].uuid, owner, 16);
	doms[ndoms].domid = (uint16_t)(ndoms + 1);
	hvp_domain(&P, doms[ndoms].domid, owner);
	return doms[ndoms++].domid;
}

static int map_ext(struct xphv_registry *r, uint16_t domid,
		   const uint8_t uuid[16], uint64_t gfn,
		   struct xphv_refusal *w)
{
	struct xphv_domain d;
	bool allowed;
	int rc;

	memset(&d, 0, sizeof(d));
	d.domid = domid;
	memcpy(d.uuid, P.dom_uuid[domid], 16);
	allowed = hvp_begin(&P, 0, domid, uuid, gfn);
	rc = xphv_map(r, H.ns.id, &d, uuid, gfn, &P.p2m, w);
	hvp_end(&P);
	FZ_ASSERT(rc || allowed, "dom %u mapped an extent the media does not give it",
		  domid);
	FZ_ASSERT(P.violations == 0, "p2m: %s", P.why);
	return rc;
}

static void register_and_map(const uint8_t *hdr)
{
	static struct xphv_ns *nsp[2];
	static struct xphv_region regions[64];
	static struct xphv_mapping maps[256];
	struct xphv_range ram[2];
	struct xphv_registry r;
	struct xphv_refusal w;
	uint8_t ops = hdr[12];
	uint64_t p0 = H.ns.phys_start, pend = p0 + H.ns.length, cur;
	uint64_t ds = (p0 + H.ns.sb.data_offset) >> 12;
	uint64_t de = ds + (H.ns.sb.data_size >> 12);
	uint32_t nram = 0, mapped = 0;
	uint64_t gseed = fz_le(hdr + 14, 2);
	int rc;

	ram[nram++] = (struct xphv_range){0, p0};	/* below: touching */
	if (ops & FZ_HV_OP_RAM)
		ram[nram++] = (struct xphv_range){pend - 4096, pend + 4096};
	xphv_registry_init(&r, ram, nram, nsp, 2, regions, 64, maps, 256);

	/* writes: the management area, lent extents' own first frames */
	hvi_allow_mgmt(&im);
	for (uint32_t k = 0; k < H.ns.next; k++) {
		const struct xphv_extent *e = &H.ns.st.ext[k];

		if (e->type == XP_REC_LENT_RAM)
			hvi_allow(&im, e->offset,
				  e->offset + (e->size >> 12) /
						      H.ns.plan.entries_per_ft_chunk *
						      CHUNK +
					  CHUNK);
	}
	if (ops & FZ_HV_OP_DRY) {
		rc = xphv_register(&r, &H.ns, &O.ops, true, &w);
		FZ_ASSERT(!H.ns.id && !r.nreg && O.ninit == 0 && O.nheap == 0,
			  "dry run changed something");
		FZ_ASSERT(rc == 0 || w.reason != XPHV_OK, "dry run");
	}
	if (ops & FZ_HV_OP_FTFAIL)
		O.fail_init_in = 1 + (hdr[13] & 3);
	if (ops & FZ_HV_OP_HEAPFAIL)
		O.fail_heap_in = 1;
	rc = xphv_register(&r, &H.ns, &O.ops, false, &w);
	FZ_ASSERT(im.violations == 0, "register: %s", im.why);
	if (ops & FZ_HV_OP_RAM)
		FZ_ASSERT(rc != 0 && w.reason == XPHV_R_RAM_OVERLAP &&
				  w.a == pend - 4096,
			  "host RAM overlap not refused (%u)", w.reason);
	if (!H.ns.id) {
		FZ_ASSERT(rc != 0, "registered without an id");
		return;
	}
	st.registered++;

	/* regions tile the namespace in order */
	cur = p0 >> 12;
	for (uint32_t i = 0; i < r.nreg; i++) {
		const struct xphv_region *g = &r.reg[i];
		const struct xphv_region *q;

		FZ_ASSERT(g->start_mfn == cur && g->end_mfn > g->start_mfn &&
				  g->ns_id == H.ns.id,
			  "region %u [%#llx, %#llx) after %#llx", i,
			  (unsigned long long)g->start_mfn,
			  (unsigned long long)g->end_mfn,
			  (unsigned long long)cur);
		FZ_ASSERT(g->type != XPHV_REG_DATA ||
				  (g->start_mfn >= ds && g->end_mfn <= de),
			  "data region outside the data area");
		q = xphv_query(&r, g->start_mfn);
		FZ_ASSERT(q == g, "query of a region's start");
		q = xphv_query(&r, g->end_mfn - 1);
		FZ_ASSERT(q == g, "query of a region's end");
		cur = g->end_mfn;
	}
	FZ_ASSERT(cur == pend >> 12, "regions end at %#llx",
		  (unsigned long long)cur);
	FZ_ASSERT(!xphv_query(&r, (p0 >> 12) - 1) && !xphv_query(&r, cur),
		  "query outside the namespace");

	/*
	 * Lent extents: the groups they hold whole from their own first
	 * frames, shared groups from the management area, the rest to the
	 * heap; every chunk initialised once.
	 */
	for (uint32_t i = 0; i < H.ns.nlent; i++) {
		const struct xphv_lent *l = &H.ns.st.lent[i];
		const struct xphv_region *q = xphv_query(&r, l->start_mfn);
		uint64_t own = (uint64_t)l->ft_chunks * (CHUNK >> 12), b;
		uint64_t last = l->start_mfn + l->nr - 1;
		uint64_t c = fz_pdx(&H.ns.geom, last) /
			     H.ns.plan.entries_per_ft_chunk;
		uint32_t off;

		st.lent++;
		FZ_ASSERT(q && q->type == XPHV_REG_RAM && q->end_mfn ==
						l->start_mfn + l->nr,
			  "lent extent not a RAM region");
		FZ_ASSERT(own < l->nr && l->heap_mfn == l->start_mfn + own &&
				  l->heap_nr == l->nr - own,
			  "lent: %llu frames, %llu of frame table, heap %#llx+%llu",
			  (unsigned long long)l->nr, (unsigned long long)own,
			  (unsigned long long)l->heap_mfn,
			  (unsigned long long)l->heap_nr);
		FZ_ASSERT(xphv_ft_slot(&H.ns, last, &b, &off) == 0,
			  "ft_slot of a lent frame");
		if (c >= l->ft_first && c < l->ft_first + l->ft_chunks)
			FZ_ASSERT(b >= l->start_mfn && b < l->start_mfn + own,
				  "lent frame's page_info outside its own frames");
		else
			FZ_ASSERT(b >= H.ns.plan.ft.mfn &&
					  b < H.ns.plan.ft.mfn +
						      H.ns.plan.ft.count * 512,
				  "shared group's page_info outside the frame table");
		/* the page_info of every lent frame is set up */
		for (uint64_t f = l->start_mfn; f < l->start_mfn + l->nr;
		     f += H.ns.plan.entries_per_ft_chunk)
			FZ_ASSERT(hvo_inits_of(&O, fz_pdx(&H.ns.geom, f) /
						       H.ns.plan.entries_per_ft_chunk) ==
					  1,
				  "lent frame %#llx: its chunk initialised %u times",
				  (unsigned long long)f,
				  hvo_inits_of(&O, fz_pdx(&H.ns.geom, f) /
							 H.ns.plan.entries_per_ft_chunk));
	}
	for (unsigned i = 0; i < O.nheap; i++) {
		bool ok = false;

		for (uint32_t k = 0; k < H.ns.nlent; k++) {
			const struct xphv_lent *l = &H.ns.st.lent[k];

			ok |= O.heap[i].mfn == l->heap_mfn &&
			      O.heap[i].nr == l->heap_nr && l->heap_nr;
		}
		FZ_ASSERT(ok, "heap got %#llx+%llu",
			  (unsigned long long)O.heap[i].mfn,
			  (unsigned long long)O.heap[i].nr);
	}

	/* map every data extent into its owner */
	hvp_init(&P);
	hvp_add_img(&P, 0, &im);
	for (uint32_t i = 0; i < H.ns.nlent; i++)
		hvp_add_ram(&P, H.ns.st.lent[i].start_mfn,
			    H.ns.st.lent[i].start_mfn + H.ns.st.lent[i].nr);
	ndoms = 0;
	if (ops & FZ_HV_OP_P2MFAIL)
		P.fail_map_in = 1 + (hdr[13] >> 4);
	for (uint32_t k = 0; k < H.ns.next && k < 64; k++) {
		struct xphv_extent e = H.ns.st.ext[k];
		uint64_t nr = (e.size - e.label_size) >> 12;
		uint64_t gfn = (gseed >> (k % 8)) & 1 ?
				       ((gseed + k) * 512) % (1ull << 28) :
				       (gseed * 7 + k * 3) % (1ull << 28);
		uint16_t d;
		struct xphv_domain other;

		if (nr > (1u << 16))
			gfn &= ~511ull;		/* keep it quick */
		if (e.type == XP_REC_LENT_RAM || xp_uuid_is_nil(e.owner)) {
			uint8_t stranger[16];

			memset(stranger, 0x5a, 16);
			d = dom_for(stranger);
			if (d) {
				rc = map_ext(&r, d, e.uuid, gfn, &w);
				FZ_ASSERT(rc != 0 &&
						  (w.reason == XPHV_R_NOT_DATA ||
						   w.reason == XPHV_R_NOT_OWNER),
					  "lent or unowned extent mapped (%u)",
					  w.reason);
			}
			continue;
		}
		d = dom_for(e.owner);
		if (!d)
			continue;
		/* someone else first */
		memset(&other, 0, sizeof(other));
		other.domid = 60;
		memset(other.uuid, 0xa5, 16);
		hvp_domain(&P, 60, other.uuid);
		rc = map_ext(&r, 60, e.uuid, gfn, &w);
		FZ_ASSERT(rc != 0 && w.reason == XPHV_R_NOT_OWNER,
			  "a stranger mapped slot %u (%u)", e.slot, w.reason);
		rc = map_ext(&r, d, e.uuid, gfn, &w);
		if (rc) {
			FZ_ASSERT(w.reason == XPHV_R_P2M || w.reason == XPHV_R_GFN ||
					  w.reason == XPHV_R_IO,
				  "owner's map of slot %u refused: %s", e.slot,
				  xphv_strreason(w.reason));
			continue;
		}
		mapped++;
		st.mapped++;
		FZ_ASSERT(hvp_count(&P, 0, d, e.uuid) == nr,
			  "slot %u: %llu frames mapped of %llu", e.slot,
			  (unsigned long long)hvp_count(&P, 0, d, e.uuid),
			  (unsigned long long)nr);
		rc = map_ext(&r, d, e.uuid, gfn + (1ull << 20), &w);
		FZ_ASSERT(rc != 0 && w.reason == XPHV_R_MAPPED,
			  "slot %u mapped twice", e.slot);
	}
	/*
	 * Each frame-table chunk initialised once in this registration,
	 * where the plan (or a lent extent's own frames) says.
	 */
	for (unsigned i = 0; i < O.ninit; i++) {
		const struct xphv_plan *pl = &H.ns.plan;
		uint64_t c = O.init[i].chunk, per = pl->entries_per_ft_chunk;
		uint64_t g0 = c * per, g1 = g0 + per;
		uint64_t p_lo = fz_pdx(&H.ns.geom, O.init[i].mfn);
		uint64_t p_hi = fz_pdx(&H.ns.geom,
				       O.init[i].mfn + O.init[i].nr - 1);
		bool own = false;

		for (uint32_t k = 0; k < H.ns.nlent; k++) {
			const struct xphv_lent *l = &H.ns.st.lent[k];

			own |= c >= l->ft_first &&
			       c < l->ft_first + l->ft_chunks &&
			       O.init[i].backing ==
				       l->start_mfn + (c - l->ft_first) * 512;
		}
		FZ_ASSERT(own ||
				  (c >= pl->ft.first &&
				   c < pl->ft.first + pl->ft.count &&
				   O.init[i].backing ==
					   pl->ft.mfn + (c - pl->ft.first) * 512),
			  "chunk %#llx backed by %#llx",
			  (unsigned long long)c,
			  (unsigned long long)O.init[i].backing);
		FZ_ASSERT(O.init[i].nr && O.init[i].mfn >= ds &&
				  O.init[i].mfn + O.init[i].nr <= de &&
				  p_lo >= g0 && p_hi < g1,
			  "chunk %#llx for frames %#llx+%llu",
			  (unsigned long long)c,
			  (unsigned long long)O.init[i].mfn,
			  (unsigned long long)O.init[i].nr);
		FZ_ASSERT(hvo_inits_of(&O, c) == 1, "chunk %#llx twice",
			  (unsigned long long)c);
	}
	/* unregister refused while mapped */
	if (mapped) {
		rc = xphv_unregister(&r, H.ns.id, &w);
		FZ_ASSERT(rc != 0 && w.reason == XPHV_R_BUSY && w.a == mapped,
			  "unregister with %u mapped", mapped);
	}
	/* half unmapped, the rest released by domain death */
	for (uint32_t k = 0; k < H.ns.next && k < 64; k += 2) {
		const struct xphv_extent *e = &H.ns.st.ext[k];
		uint16_t d;

		if (e->mapped_domid == XPHV_NO_DOMID)
			continue;
		d = e->mapped_domid;
		rc = xphv_unmap(&r, H.ns.id, d, e->uuid, &P.p2m, &w);
		FZ_ASSERT(rc == 0, "unmap");
		FZ_ASSERT(hvp_count(&P, 0, d, e->uuid) == 0, "unmap left frames");
	}
	for (unsigned i = 0; i < ndoms; i++)
		xphv_domain_destroy(&r, doms[i].domid, &P.p2m);
	FZ_ASSERT(P.violations == 0, "p2m: %s", P.why);
	FZ_ASSERT(hvp_count(&P, 0, 0, NULL) == 0 && r.nmap == 0 &&
			  H.ns.nmapped == 0,
		  "frames left mapped after every domain died");
	FZ_ASSERT(P.frames_mapped == P.frames_unmapped, "shadow");
	rc = xphv_unregister(&r, H.ns.id, &w);
	if (H.ns.nlent)
		FZ_ASSERT(rc != 0 && w.reason == XPHV_R_LENT, "lent unregistered");
	else
		FZ_ASSERT(rc == 0 && r.nreg == 0, "unregister");
	FZ_ASSERT(im.violations == 0, "media: %s", im.why);
	hvp_fini(&P);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hdr[FZ_HV_HDR], pri[XP_SB_BLOCK], bak[XP_SB_BLOCK];
	const uint8_t *rest = NULL;
	size_t restlen = 0;
	uint64_t len, phys;
	struct xphv_geom g;
	struct xphv_expect exp;
	struct xphv_refusal w;
	struct fz_ref_plan ref;
	uint8_t fl;
	int rc;

	memset(hdr, 0, sizeof(hdr));
	memset(pri, 0, sizeof(pri));
	memset(bak, 0, sizeof(bak));
	memcpy(hdr, data, size < FZ_HV_HDR ? size : FZ_HV_HDR);
	if (size > FZ_HV_HDR)
		memcpy(pri, data + FZ_HV_HDR,
		       size - FZ_HV_HDR < XP_SB_BLOCK ? size - FZ_HV_HDR :
							XP_SB_BLOCK);
	if (size > FZ_HV_HDR + XP_SB_BLOCK)
		memcpy(bak, data + FZ_HV_HDR + XP_SB_BLOCK,
		       size - FZ_HV_HDR - XP_SB_BLOCK < XP_SB_BLOCK ?
			       size - FZ_HV_HDR - XP_SB_BLOCK :
			       XP_SB_BLOCK);
	if (size > FZ_HV_HDR + 2 * XP_SB_BLOCK) {
		rest = data + FZ_HV_HDR + 2 * XP_SB_BLOCK;
		restlen = size - FZ_HV_HDR - 2 * XP_SB_BLOCK;
	}
	fl = hdr[0];
	if (fl & FZ_HV_FIXLAYOUT)
		fz_fix_layout(pri);
	if (fl & (FZ_HV_FIXSB | FZ_HV_FIXLAYOUT))
		fz_fix_sb(pri);
	if (fl & FZ_HV_BACKUP_COPY) {
		memcpy(bak, pri, sizeof(bak));
		bak[24] |= XP_SB_F_BACKUP;
		fz_fix_sb(bak);
	} else if (fl & FZ_HV_FIXSB) {
		fz_fix_sb(bak);
	}
	len = image_length(hdr, pri);
	if (!len)
		return 0;
	phys = fz_le(pri + 72, 8) ^ (fz_le(hdr + 4, 4) << 12);

	/* the image: a zero namespace with the input laid over it */
	memset(&im, 0, sizeof(im));
	im.size = len;
	im.map_len = (size_t)len;
	im.phys = phys;
	im.buf = mmap(NULL, im.map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	FZ_ASSERT(im.buf != MAP_FAILED, "mmap %#llx", (unsigned long long)len);
	memcpy(im.buf, pri, XP_SB_BLOCK);
	if (restlen > len - 2 * XP_SB_BLOCK)
		restlen = (size_t)(len - 2 * XP_SB_BLOCK);
	if (restlen)
		memcpy(im.buf + XP_SB_BLOCK, rest, restlen);
	memcpy(im.buf + len - XP_SB_BLOCK, bak, XP_SB_BLOCK);
	if (fl & (FZ_HV_UNITAG | FZ_HV_FIXREC)) {
		uint64_t n = fz_le(pri + 96, 4);
		uint64_t room = restlen > XP_SB_BLOCK ?
					(restlen - XP_SB_BLOCK) / XP_SLOT_SIZE :
					0;

		fz_fix_recs(pri + 40, im.buf + XP_TABLE_OFFSET,
			    (uint32_t)(n < room ? n : room),
			    fl & FZ_HV_UNITAG, fl & FZ_HV_FIXREC);
	}
	hvi_attach_media(&im);
	im.wmode = HVI_W_NONE;

	xphv_geom_xen_x86(&g, fl & FZ_HV_PV32);
	memset(&PDX, 0, sizeof(PDX));
	if ((fl & FZ_HV_HOLE) && fz_le(hdr + 10, 2)) {
		PDX.lo = (phys >> 12) + fz_le(hdr + 8, 2) * 512;
		PDX.hi = PDX.lo + fz_le(hdr + 10, 2) * 512;
		g.pfn_to_pdx = hvi_pdx_fn;
		g.pdx_ctx = &PDX;
	}
	memset(&exp, 0, sizeof(exp));

	/* probe */
	memset(&H, 0, sizeof(H));
	st.probed++;
	rc = xphv_probe(&H.ns, &im.m, phys, len, &H.need, &w);
	FZ_ASSERT(im.violations == 0, "probe: %s", im.why);
	FZ_ASSERT(im.writes == 0, "probe wrote");
	if (rc) {
		check_refusal(&w);
		goto out;
	}
	FZ_ASSERT(w.reason == XPHV_OK, "probe: rc 0, reason %u", w.reason);
	im.sb = H.ns.sb;	/* the oracles decode with what probe took */
	{
		/* the superblock picked is the one the format picks */
		struct xp_sb s[2];
		const char *f;
		enum xp_fmt_status a, b;

		a = xp_sb_decode(im.buf, XP_SB_BLOCK, len, false, &s[0], &f);
		b = xp_sb_decode(im.buf + len - XP_SB_BLOCK, XP_SB_BLOCK, len,
				 true, &s[1], &f);
		FZ_ASSERT(a == XP_OK || b == XP_OK, "probe took no valid copy");
		if (a == XP_OK && b == XP_OK) {
			FZ_ASSERT(xp_sb_same_but_generation(
					  im.buf, im.buf + len - XP_SB_BLOCK),
				  "two different superblocks taken");
			FZ_ASSERT(H.ns.sb.generation ==
					  (s[0].generation > s[1].generation ?
						   s[0].generation :
						   s[1].generation),
				  "the lower generation taken");
		} else {
			FZ_ASSERT(H.ns.sb_one_valid &&
					  H.ns.sb_copy == (a == XP_OK ? 0 : 1),
				  "one valid copy: took %d", H.ns.sb_copy);
		}
		FZ_ASSERT(H.need.slot_count == H.ns.sb.slot_count, "need");
	}

	/* validate */
	if (hdr[12] & FZ_HV_OP_EXP_UUID)
		memcpy(exp.ns_uuid, H.ns.sb.ns_uuid, 16);
	if (hdr[12] & FZ_HV_OP_EXP_GEN)
		exp.generation = H.ns.sb.generation;
	if (hdr[12] & FZ_HV_OP_EXP_BADGEN)
		exp.generation = H.ns.sb.generation + 1;
	H.st.ext = calloc(H.need.slot_count + 1, sizeof(*H.st.ext));
	H.st.scratch = calloc(H.need.slot_count + 1, sizeof(*H.st.scratch));
	H.st.ft_ready = calloc(H.need.ft_ready_words + 1,
			       sizeof(*H.st.ft_ready));
	H.st.lent_cap = 8;
	H.st.lent = calloc(H.st.lent_cap, sizeof(*H.st.lent));
	FZ_ASSERT(H.st.ext && H.st.scratch && H.st.ft_ready && H.st.lent,
		  "calloc");
	st.validated++;
	rc = xphv_validate(&H.ns, &exp, &g, &H.st, &w);
	FZ_ASSERT(im.violations == 0, "validate: %s", im.why);
	FZ_ASSERT(im.writes == 0, "validate wrote");
	fz_ref_plan(&H.ns.sb, phys, &g, &ref);
	if (rc) {
		check_refusal(&w);
		check_slot_refusal(&w);
		/* a refusal of the plan's is one the reference sees */
		if (w.reason == XPHV_R_MOVED || w.reason == XPHV_R_NO_MGMT ||
		    w.reason == XPHV_R_GEOMETRY || w.reason == XPHV_R_ALIGN ||
		    w.reason == XPHV_R_PDX || w.reason == XPHV_R_LIMIT ||
		    w.reason == XPHV_R_MGMT_SMALL || w.reason == XPHV_R_COMPAT)
			FZ_ASSERT(ref.refuse & FZ_R(w.reason),
				  "refused %s, the reference sees %#llx",
				  hvi_rname(w.reason),
				  (unsigned long long)ref.refuse);
		goto out;
	}
	FZ_ASSERT(!(hdr[12] & FZ_HV_OP_EXP_BADGEN), "wrong generation taken");
	FZ_ASSERT(ref.refuse == 0 && ref.counted,
		  "accepted, the reference refuses %#llx",
		  (unsigned long long)ref.refuse);
	fz_check_plan(&H.ns.plan, &ref);
	check_table();
	check_lookups(fz_le(hdr + 13, 3));
	hvo_init(&O);
	register_and_map(hdr);
out:
	hvi_ns_free(&H);
	munmap(im.buf, im.map_len);
	im.buf = NULL;
	return 0;
}
