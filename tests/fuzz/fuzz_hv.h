/* SPDX-License-Identifier: MIT */
/*
 * Shared by the hv fuzz targets (fuzz_hv_validate, fuzz_hv_plan) and
 * mkseeds: input layouts, a reference of the frame-table/M2P plan written
 * the slow way, and a recorder of the library's ops callbacks.
 *
 * Input layouts (little-endian):
 *
 * fuzz_hv_validate: hdr[16] | primary[4096] | backup[4096] | bytes from
 *            4 KiB on (zero block, table, ...), laid over a zero image of
 *            `length` bytes (primary at 0, backup at length - 4 KiB).
 *   hdr[0]   bit0 recompute both superblock checksums, bit1 recompute
 *            record checksums (primary's ns_uuid, tags kept), bit2 the
 *            backup is the primary relocated, bit3 make each record
 *            copy's tags agree first, bit4 32-bit PV on (compat M2P),
 *            bit5 a PDX hole (hdr[8..11]), bit6 recompute the primary's
 *            layout fields from its own parameters, bit7 length from
 *            hdr[1..3] (else the primary's ns_size).
 *   hdr[1..3] length in 4 KiB pages (le24).
 *   hdr[4..7] phys_start = primary's phys_base ^ (le32 << 12).
 *   hdr[8..9] hole start, 2 MiB units above phys_start; hdr[10..11] its
 *            length in 2 MiB units (0: no hole).
 *   hdr[12]  bit0 register dry-run first, bit1 a host RAM range touching
 *            the namespace, bit2 ft_init fails once, bit3 heap_add fails,
 *            bit4 a p2m map fails once, bit5 expect the ns_uuid on media,
 *            bit6 expect its generation, bit7 expect a wrong generation.
 *   hdr[13]  seed of domain choices, hdr[14..15] seed of gfns.
 *
 * fuzz_hv_plan: hdr[64] | extents (4 bytes each: type, unit le16, units)
 *   hdr[0]   bit0 32-bit PV on, bit1 the media reserves the compat M2P,
 *            bit2 1 GiB alignment, bit3 PHYS_KNOWN (else the layout is
 *            for address 0 and phys_start is anywhere), bit4 a PDX hole,
 *            bit5 the hole in frames (else 2 MiB units), bit6 custom
 *            entry sizes (hdr[1..5]), bit7 register and lend.
 *   hdr[1..3] log2 of page_info_size, m2p_entry, compat_entry;
 *   hdr[4]   compat_limit_shift; hdr[5] chunk_shift (0: 21);
 *   hdr[6..7] slot_count - 1 (mod 64);
 *   hdr[8..15] phys_start in 4 KiB pages (45 bits); hdr[16..18] ns_size
 *            in pages, up to 4 GiB, or hdr[16..19] (28 bits of pages, up
 *            to 1 TiB) when hdr[23] is 0xff;
 *   hdr[24..31] hole start (units above phys_start), hdr[32..39] length
 *            (hdr[39] bit7: PDXs above the hole not compressed, in 2 MiB
 *            units only);
 *   hdr[40..47] ft_pdx_limit, hdr[48..55] m2p_mfn_limit (0: Xen's);
 *   hdr[56..63] a seed for the lookups tried.
 *   Extents: type 0 data, 1 lent as RAM; [unit, unit + units) in units of
 *   the data area's alignment.
 */
#ifndef XP_FUZZ_HV_H
#define XP_FUZZ_HV_H

#include "fuzz_common.h"
#include "../unit/hv_image.h"

#define FZ_HV_HDR 16u
#define FZ_HV_FIXSB 0x01u
#define FZ_HV_FIXREC 0x02u
#define FZ_HV_BACKUP_COPY 0x04u
#define FZ_HV_UNITAG 0x08u
#define FZ_HV_PV32 0x10u
#define FZ_HV_HOLE 0x20u
#define FZ_HV_FIXLAYOUT 0x40u
#define FZ_HV_LENGTH 0x80u

#define FZ_HV_OP_DRY 0x01u
#define FZ_HV_OP_RAM 0x02u
#define FZ_HV_OP_FTFAIL 0x04u
#define FZ_HV_OP_HEAPFAIL 0x08u
#define FZ_HV_OP_P2MFAIL 0x10u
#define FZ_HV_OP_EXP_UUID 0x20u
#define FZ_HV_OP_EXP_GEN 0x40u
#define FZ_HV_OP_EXP_BADGEN 0x80u

#define FZ_HV_MAX_IMAGE ((4ull << 30) + (64ull << 20))

#define FZ_PLAN_HDR 64u
#define FZ_PLAN_PV32 0x01u
#define FZ_PLAN_COMPAT 0x02u
#define FZ_PLAN_1G 0x04u
#define FZ_PLAN_PHYS 0x08u
#define FZ_PLAN_HOLE 0x10u
#define FZ_PLAN_HOLE_FRAMES 0x20u
#define FZ_PLAN_ENTRIES 0x40u
#define FZ_PLAN_REGISTER 0x80u
#define FZ_PLAN_EXT 4u
#define FZ_PLAN_MAX_EXT 16u

/* A bit per refusal reason. */
#define FZ_R(x) (1ull << (x))

/* ---- The plan, the slow way ------------------------------------------- */

struct fz_ref_plan {
	uint64_t refuse;	/* FZ_R() of every rule the namespace breaks */
	bool counted;		/* plan below is meaningful */
	struct xphv_plan plan;
};

static inline bool fz_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline uint64_t fz_pdx(const struct xphv_geom *g, uint64_t mfn)
{
	return g->pfn_to_pdx ? g->pfn_to_pdx(g->pdx_ctx, mfn) : mfn;
}

/*
 * Groups of @per consecutive indexes that [a, b] touches: walked group by
 * group, or, past a bound on the walk, counted as the frames of the
 * range rounded out to whole groups.
 */
static inline uint64_t fz_walk_groups(uint64_t a, uint64_t b, uint64_t per)
{
	uint64_t n = 0, x = a;

	if (b < a)
		return 0;
	while (x <= b) {
		n++;
		if (n > (1u << 18))
			return (b - a + 1 + a % per + (per - 1 - b % per)) / per;
		x = (x / per + 1) * per;
	}
	return n;
}

static inline void fz_ref_array(struct xphv_array_plan *p, uint64_t a,
				uint64_t b, uint64_t per, uint64_t mfn,
				uint64_t reserved)
{
	p->first = a / per;
	p->count = fz_walk_groups(a, b, per);
	p->mfn = mfn;
	p->reserved = reserved;
}

/*
 * What xphv_validate() must decide for @sb at @phys_start under @g, from
 * the documented rules (docs/hypervisor-abi.md, hv/xphv.h): the set of
 * rules broken (any of them may be the reason given) and, when the
 * geometry and PDX are usable, the plan.
 */
static inline void fz_ref_plan(const struct xp_sb *sb, uint64_t phys_start,
			       const struct xphv_geom *g,
			       struct fz_ref_plan *out)
{
	uint64_t chunk, cframes, ds, de, p0, mgmt_mfn, limit;
	struct xphv_plan *pl = &out->plan;

	memset(out, 0, sizeof(*out));
	if ((sb->compat & XP_SB_F_PHYS_KNOWN) && sb->phys_base != phys_start)
		out->refuse |= FZ_R(XPHV_R_MOVED);
	if (xp_mgmt_geom_none(&sb->geom)) {
		out->refuse |= FZ_R(XPHV_R_NO_MGMT);
		return;
	}
	if (g->chunk_shift != sb->geom.chunk_shift || g->chunk_shift < 12 ||
	    g->chunk_shift > 30 || !fz_pow2(g->page_info_size) ||
	    g->page_info_size > (1u << g->chunk_shift) ||
	    !fz_pow2(g->m2p_entry) || g->m2p_entry > (1u << g->chunk_shift) ||
	    (g->compat_entry && (!fz_pow2(g->compat_entry) ||
				 g->compat_entry > (1u << g->chunk_shift) ||
				 g->compat_limit_shift > 63))) {
		out->refuse |= FZ_R(XPHV_R_GEOMETRY);
		return;
	}
	chunk = 1ull << g->chunk_shift;
	cframes = chunk >> 12;
	ds = (phys_start + sb->data_offset) >> 12;
	de = (phys_start + sb->data_offset + sb->data_size) >> 12;
	if ((phys_start + sb->data_offset) % (1ull << sb->align_shift) ||
	    ds % cframes || de % cframes ||
	    (phys_start + sb->mgmt_offset) % chunk)
		out->refuse |= FZ_R(XPHV_R_ALIGN);
	/* PDX compression only shrinks numbers: more data frames than
	 * frame-table entries never fit */
	if (g->ft_pdx_limit && de - ds > g->ft_pdx_limit) {
		out->refuse |= FZ_R(XPHV_R_LIMIT);
		return;
	}
	/* every data frame valid and consecutive in PDX space, frame by
	 * frame where that is cheap, else at every 2 MiB and both ends */
	p0 = fz_pdx(g, ds);
	if (p0 == XPHV_INVALID_PDX || p0 > XPHV_INVALID_PDX - (de - ds)) {
		out->refuse |= FZ_R(XPHV_R_PDX);
		return;
	}
	{
		uint64_t step = de - ds <= (1u << 16) ? 1 : 512;

		for (uint64_t f = ds; f < de; f += step)
			if (fz_pdx(g, f) != p0 + (f - ds) ||
			    (step > 1 && fz_pdx(g, f + step - 1) !=
						 p0 + (f + step - 1 - ds))) {
				out->refuse |= FZ_R(XPHV_R_PDX);
				return;
			}
	}
	if ((g->ft_pdx_limit && p0 + (de - 1 - ds) >= g->ft_pdx_limit) ||
	    (g->m2p_mfn_limit && de - 1 >= g->m2p_mfn_limit))
		out->refuse |= FZ_R(XPHV_R_LIMIT);

	mgmt_mfn = (phys_start + sb->mgmt_offset) >> 12;
	pl->entries_per_ft_chunk = chunk / g->page_info_size;
	fz_ref_array(&pl->ft, p0, p0 + (de - 1 - ds), pl->entries_per_ft_chunk,
		     mgmt_mfn, sb->chunks.ft);
	fz_ref_array(&pl->m2p, ds, de - 1, chunk / g->m2p_entry,
		     mgmt_mfn + (uint64_t)sb->chunks.ft * cframes,
		     sb->chunks.m2p);
	pl->compat.mfn = mgmt_mfn +
			 (uint64_t)(sb->chunks.ft + sb->chunks.m2p) * cframes;
	pl->compat.reserved = sb->chunks.compat;
	limit = g->compat_limit_shift >= 12 + 52 ?
			UINT64_MAX :
			(1ull << g->compat_limit_shift) >> 12;
	if (g->compat_entry && ds < limit)
		fz_ref_array(&pl->compat, ds, (de < limit ? de : limit) - 1,
			     chunk / g->compat_entry, pl->compat.mfn,
			     sb->chunks.compat);
	if (pl->ft.count > pl->ft.reserved || pl->m2p.count > pl->m2p.reserved)
		out->refuse |= FZ_R(XPHV_R_MGMT_SMALL);
	if (pl->compat.count && !pl->compat.reserved)
		out->refuse |= FZ_R(XPHV_R_COMPAT);
	else if (pl->compat.count > pl->compat.reserved)
		out->refuse |= FZ_R(XPHV_R_MGMT_SMALL);
	pl->mgmt_used = (pl->ft.count + pl->m2p.count + pl->compat.count) *
			cframes;
	out->counted = true;
}

static inline bool fz_array_eq(const struct xphv_array_plan *a,
			       const struct xphv_array_plan *b)
{
	return a->first == b->first && a->count == b->count &&
	       a->mfn == b->mfn && a->reserved == b->reserved;
}

static inline void fz_print_array(const char *what,
				  const struct xphv_array_plan *p)
{
	fprintf(stderr, "  %s first %#llx count %llu mfn %#llx reserved %llu\n",
		what, (unsigned long long)p->first,
		(unsigned long long)p->count, (unsigned long long)p->mfn,
		(unsigned long long)p->reserved);
}

/* The library's plan equals the reference (abort otherwise). */
static inline void fz_check_plan(const struct xphv_plan *got,
				 const struct fz_ref_plan *ref)
{
	bool eq = fz_array_eq(&got->ft, &ref->plan.ft) &&
		  fz_array_eq(&got->m2p, &ref->plan.m2p) &&
		  fz_array_eq(&got->compat, &ref->plan.compat) &&
		  got->entries_per_ft_chunk == ref->plan.entries_per_ft_chunk &&
		  got->mgmt_used == ref->plan.mgmt_used;

	if (!eq) {
		fprintf(stderr, "plan (library):\n");
		fz_print_array("ft", &got->ft);
		fz_print_array("m2p", &got->m2p);
		fz_print_array("compat", &got->compat);
		fprintf(stderr, "  per %llu used %llu\nplan (reference):\n",
			(unsigned long long)got->entries_per_ft_chunk,
			(unsigned long long)got->mgmt_used);
		fz_print_array("ft", &ref->plan.ft);
		fz_print_array("m2p", &ref->plan.m2p);
		fz_print_array("compat", &ref->plan.compat);
		fprintf(stderr, "  per %llu used %llu\n",
			(unsigned long long)ref->plan.entries_per_ft_chunk,
			(unsigned long long)ref->plan.mgmt_used);
	}
	FZ_ASSERT(eq, "plan differs from the reference");
}

#endif /* XP_FUZZ_HV_H */
