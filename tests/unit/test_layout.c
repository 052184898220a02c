/* SPDX-License-Identifier: MIT */
/*
 * Property tests of xp_layout_solve(): a deterministic pseudo-random sweep
 * (fixed seed) plus boundary sizes from 16 MiB to 64 TiB, every per_page for
 * some sizes, all three alignments, and physical bases that are only 4 KiB
 * aligned. For every solved layout: regions ordered and in bounds, data
 * physically aligned, mgmt exactly xp_mgmt_bytes(), and minimal (one
 * alignment unit lower would not fit). Solved layouts round-trip through a
 * superblock; any layout field one unit off is rejected.
 */
#include "xp_format.h"
#include "xp_test.h"

#include <stdbool.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

static const uint32_t shifts[] = {XP_ALIGN_4K_SHIFT, XP_ALIGN_2M_SHIFT,
				  XP_ALIGN_1G_SHIFT};

static unsigned long n_ok, n_small, n_brute;

/* Does a management area for the data behind @d fit in front of it? */
static bool fits(uint64_t mgmt_off, uint32_t pp, uint64_t d, uint64_t data_end)
{
	return d >= mgmt_off && mgmt_off + xp_mgmt_bytes(pp, data_end - d) <= d;
}

/* Reference numbers computed independently of the solver. */
struct ref {
	uint64_t mgmt_off, d0, data_end, a;
	bool room; /* any aligned data page at all between d0 and data_end */
};

static struct ref ref_of(const struct xp_layout_params *p)
{
	struct ref r;
	uint64_t table_end = XP_TABLE_OFFSET + (uint64_t)p->slot_count * 256;
	uint64_t pb = p->phys_base, e;

	r.a = 1ull << p->align_shift;
	r.mgmt_off = (table_end + 4095) / 4096 * 4096;
	/* smallest d >= mgmt_off with (pb + d) % a == 0 */
	r.d0 = (pb + r.mgmt_off + r.a - 1) / r.a * r.a - pb;
	r.data_end = 0;
	r.room = false;
	if (p->ns_size < r.mgmt_off + 4096)
		return r;
	/* largest e <= ns - 4K with (pb + e) % a == 0, if any */
	e = (pb + p->ns_size - 4096) / r.a * r.a;
	if (e < pb)
		return r;
	r.data_end = e - pb;
	r.room = r.data_end > r.d0;
	return r;
}

static void check_sb_of(const struct xp_layout_params *p,
			const struct xp_layout *l)
{
	static uint8_t buf[XP_SB_BLOCK];
	struct xp_sb sb, out;
	const char *f;
	enum xp_fmt_status st;

	memset(&sb, 0, sizeof(sb));
	sb.compat = p->phys_base ? XP_SB_F_PHYS_KNOWN : 0;
	for (int i = 0; i < 16; i++)
		sb.ns_uuid[i] = (uint8_t)(i * 11 + 1);
	sb.generation = 3;
	sb.ns_size = p->ns_size;
	sb.phys_base = p->phys_base;
	sb.slot_count = p->slot_count;
	sb.per_page = p->per_page;
	sb.align_shift = p->align_shift;
	sb.mgmt_offset = l->mgmt_offset;
	sb.mgmt_size = l->mgmt_size;
	sb.data_offset = l->data_offset;
	sb.data_size = l->data_size;

	for (int backup = 0; backup < 2; backup++) {
		xp_sb_encode(&sb, backup, buf);
		st = xp_sb_decode(buf, sizeof(buf), p->ns_size, backup, &out, &f);
		CHECK_MSG(st == XP_OK, "ns=%#" PRIx64 " phys=%#" PRIx64
			  " slots=%u pp=%u shift=%u: %s (%s)", p->ns_size,
			  p->phys_base, p->slot_count, p->per_page,
			  p->align_shift, xp_fmt_strstatus(st), f ? f : "-");
		if (st == XP_OK) {
			CHECK(out.mgmt_offset == l->mgmt_offset &&
			      out.mgmt_size == l->mgmt_size &&
			      out.data_offset == l->data_offset &&
			      out.data_size == l->data_size &&
			      out.table_offset == l->table_offset &&
			      out.slot_count == p->slot_count);
		}
	}

	/* Every layout field, one unit (and one byte) up or down. */
	{
		static const size_t offs[] = {88, 96, 104, 112};
		const uint64_t vals[] = {l->mgmt_offset, l->mgmt_size,
					 l->data_offset, l->data_size};
		const uint64_t units[] = {4096, 4096, 1ull << p->align_shift,
					  1ull << p->align_shift};

		for (int i = 0; i < 4; i++) {
			const uint64_t deltas[] = {1, units[i]};

			for (int k = 0; k < 2; k++)
				for (int sgn = 0; sgn < 2; sgn++) {
					uint64_t v = sgn ? vals[i] - deltas[k] :
							   vals[i] + deltas[k];

					xp_sb_encode(&sb, false, buf);
					*(xp_le64 *)(buf + offs[i]) = xp_put64(v);
					*(xp_le64 *)(buf + 504) = xp_put64(
						xp_sb_checksum(buf, XP_SB_SIZE));
					st = xp_sb_decode(buf, sizeof(buf),
							  p->ns_size, false,
							  &out, &f);
					CHECK_MSG(st == XP_E_FIELD,
						  "field at %zu %s %#" PRIx64
						  " accepted", offs[i],
						  sgn ? "-" : "+", deltas[k]);
				}
		}
	}
}

/* Solve @p and check every property; @brute compares with a linear scan. */
static void check_case(const struct xp_layout_params *p, bool brute,
		       bool sbcheck)
{
	struct xp_layout l;
	const char *why = "unset";
	enum xp_fmt_status st = xp_layout_solve(p, &l, &why);
	struct ref r = ref_of(p);
	uint64_t a = r.a, pp = p->per_page;

	if (st == XP_E_TOO_SMALL) {
		n_small++;
		CHECK(why != NULL);
		/*
		 * Too small must be true: the highest candidate with any data
		 * (data_end - a) must not fit, or there is no candidate.
		 */
		if (r.room)
			CHECK_MSG(!fits(r.mgmt_off, p->per_page,
					r.data_end - a, r.data_end),
				  "ns=%#" PRIx64 " phys=%#" PRIx64
				  " slots=%u pp=%u shift=%u: TOO_SMALL (%s) but "
				  "d=%#" PRIx64 " fits",
				  p->ns_size, p->phys_base, p->slot_count,
				  p->per_page, p->align_shift, why,
				  r.data_end - a);
		return;
	}
	CHECK_MSG(st == XP_OK, "ns=%#" PRIx64 " phys=%#" PRIx64
		  " slots=%u pp=%u shift=%u: %s (%s)", p->ns_size,
		  p->phys_base, p->slot_count, p->per_page, p->align_shift,
		  xp_fmt_strstatus(st), why ? why : "-");
	if (st != XP_OK)
		return;
	n_ok++;
	CHECK(why == NULL);

	/* fixed parts */
	CHECK_EQ_U64(l.table_offset, XP_TABLE_OFFSET);
	CHECK_EQ_U64(l.table_size, (uint64_t)p->slot_count * XP_SLOT_SIZE);
	CHECK_EQ_U64(l.mgmt_offset, r.mgmt_off);
	CHECK_EQ_U64(l.backup_offset, p->ns_size - XP_SB_BLOCK);

	/* ordering: sb < zero < table < mgmt < data < backup, in bounds */
	CHECK(XP_SB_BLOCK <= XP_ZERO_OFFSET &&
	      XP_ZERO_OFFSET + 4096 <= l.table_offset);
	CHECK(l.table_offset + l.table_size <= l.mgmt_offset);
	CHECK(l.mgmt_offset % 4096 == 0);
	CHECK(l.mgmt_offset + l.mgmt_size <= l.data_offset);
	CHECK(l.data_size > 0);
	CHECK(l.data_offset + l.data_size > l.data_offset); /* no wrap */
	CHECK(l.data_offset + l.data_size + XP_SB_BLOCK <= p->ns_size);
	CHECK(l.data_offset + l.data_size <= l.backup_offset);
	CHECK(l.backup_offset + XP_SB_BLOCK == p->ns_size);

	/* alignment: physical, and whole units */
	CHECK_MSG((p->phys_base + l.data_offset) % a == 0,
		  "phys=%#" PRIx64 " data_offset=%#" PRIx64 " a=%#" PRIx64,
		  p->phys_base, l.data_offset, a);
	CHECK(xp_phys_aligned(p->phys_base, l.data_offset, p->align_shift));
	CHECK(l.data_size % a == 0);
	CHECK(l.mgmt_size % 4096 == 0);
	/* the data area ends at the last aligned boundary before the backup */
	CHECK_EQ_U64(l.data_offset + l.data_size, r.data_end);
	CHECK(l.data_offset >= r.d0);

	/* management area size */
	CHECK_EQ_U64(l.mgmt_size, xp_mgmt_bytes(p->per_page, l.data_size));
	CHECK(l.mgmt_size >= pp * (l.data_size >> 12));
	CHECK(l.mgmt_size < pp * (l.data_size >> 12) + 4096);
	if (pp == 0)
		CHECK_EQ_U64(l.mgmt_size, 0);

	/* minimality: one alignment unit lower does not fit */
	if (l.data_offset >= a && l.data_offset - a >= r.mgmt_off)
		CHECK_MSG(!fits(r.mgmt_off, p->per_page, l.data_offset - a,
				r.data_end),
			  "ns=%#" PRIx64 " phys=%#" PRIx64
			  " slots=%u pp=%u shift=%u: data_offset %#" PRIx64
			  " not minimal",
			  p->ns_size, p->phys_base, p->slot_count, p->per_page,
			  p->align_shift, l.data_offset);
	else
		CHECK_EQ_U64(l.data_offset, r.d0);

	if (brute) {
		uint64_t d = r.d0;

		n_brute++;
		while (d < r.data_end && !fits(r.mgmt_off, p->per_page, d,
					       r.data_end))
			d += a;
		CHECK_EQ_U64(l.data_offset, d);
	}
	if (sbcheck)
		check_sb_of(p, &l);
}

static uint64_t rand_size(void)
{
	/* log-uniform between 16 MiB (2^24) and 64 TiB (2^46), 4K aligned */
	uint32_t bits = (uint32_t)xt_range(24, 46);
	uint64_t s = (1ull << bits) + (xt_rand() & ((1ull << bits) - 1));

	s &= ~4095ull;
	if (s < 16 * MiB)
		s = 16 * MiB;
	if (s > 64 * TiB)
		s = 64 * TiB;
	return s;
}

static uint32_t rand_slots(void)
{
	switch (xt_rand() % 6) {
	case 0: return 1;
	case 1: return 65536;
	case 2: return 1024;
	default: return (uint32_t)xt_range(1, 1u << xt_range(0, 16));
	}
}

static uint32_t rand_pp(void)
{
	switch (xt_rand() % 6) {
	case 0: return 0;
	case 1: return 256;
	case 2: return 40;
	case 3: return 64;
	default: return (uint32_t)xt_range(0, 256);
	}
}

static uint64_t rand_phys(uint64_t ns)
{
	uint64_t room = XP_PHYS_LIMIT - ns, b;

	switch (xt_rand() % 8) {
	case 0:
	case 1: return 0;
	case 2: return 4096 * (2 * xt_range(0, 1u << 20) + 1);	/* 4K * odd */
	case 3: return 2 * MiB + 4096;
	case 4: return GiB - 4096;
	case 5: return xt_range(1, 64) * GiB + 2 * MiB * xt_range(0, 511) + 4096;
	case 6: return room & ~4095ull;				/* top */
	default:
		b = xt_rand() % (room + 1);
		return b & ~4095ull;
	}
}

static void test_random_sweep(void)
{
	for (int i = 0; i < 100000; i++) {
		struct xp_layout_params p;

		p.ns_size = rand_size();
		p.phys_base = rand_phys(p.ns_size);
		p.slot_count = rand_slots();
		p.per_page = rand_pp();
		p.align_shift = shifts[xt_rand() % 3];
		check_case(&p, false, i % 4 == 0);
	}
}

static void test_boundary_sizes(void)
{
	uint64_t sizes[512];
	size_t n = 0;

	sizes[n++] = 16 * MiB;
	sizes[n++] = 16 * MiB + 4096;
	sizes[n++] = 64 * TiB;
	sizes[n++] = 64 * TiB - 4096;
	for (int b = 24; b <= 46; b++) {
		sizes[n++] = 1ull << b;
		sizes[n++] = (1ull << b) + 4096;
		sizes[n++] = (1ull << b) - 4096;
		sizes[n++] = (1ull << b) + 8192;
		sizes[n++] = (1ull << b) + 2 * MiB + 4096;
		if (b > 24)
			sizes[n++] = (1ull << b) - 2 * MiB + 4096;
		if (b >= 31) {
			sizes[n++] = (1ull << b) + GiB + 4096;
			sizes[n++] = (1ull << b) + GiB;
			sizes[n++] = (1ull << b) - GiB + 4096;
		}
	}
	for (size_t i = 0; i < n; i++) {
		static const uint64_t bases[] = {0, 4096, 3 * 4096,
						 2 * MiB + 4096, GiB - 4096,
						 GiB + 2 * MiB};
		static const uint32_t slotss[] = {1, 16, 17, 1024, 65536};
		static const uint32_t pps[] = {0, 1, 40, 64, 255, 256};

		if (sizes[i] > 64 * TiB || sizes[i] < 16 * MiB)
			continue;
		for (size_t a = 0; a < 3; a++)
			for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
				for (size_t s = 0; s < sizeof(slotss) / sizeof(slotss[0]); s++)
					for (size_t q = 0; q < sizeof(pps) / sizeof(pps[0]); q++) {
						struct xp_layout_params p = {
							sizes[i], bases[b], slotss[s],
							pps[q], shifts[a]};

						check_case(&p, false,
							   (q + s + b) % 5 == 0);
					}
	}
}

/* Every per_page value for a handful of sizes. */
static void test_all_per_page(void)
{
	static const uint64_t sizes[] = {16 * MiB, 100 * MiB + 4096,
					 4 * GiB + 3 * 4096, 1 * TiB + 2 * MiB,
					 64 * TiB};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (size_t a = 0; a < 3; a++)
			for (uint32_t pp = 0; pp <= 256; pp++) {
				struct xp_layout_params p = {sizes[i], 0, 1024, pp,
							     shifts[a]};

				check_case(&p, false, pp % 16 == 0);
				p.phys_base = 5 * 4096;
				check_case(&p, false, false);
			}
}

/* Small namespaces: compare with a linear scan over every candidate. */
static void test_bruteforce_small(void)
{
	for (int i = 0; i < 10000; i++) {
		struct xp_layout_params p;
		uint64_t max;

		p.align_shift = shifts[xt_rand() % 3];
		max = p.align_shift == 12 ? 24 * MiB :
		      p.align_shift == 21 ? 1 * GiB : 64 * GiB;
		p.ns_size = xt_range(1, max / 4096) * 4096;
		p.phys_base = xt_rand() % 2 ? 0 : xt_range(0, 1u << 20) * 4096;
		p.slot_count = (uint32_t)xt_range(1, xt_rand() % 2 ? 64 : 65536);
		p.per_page = rand_pp();
		check_case(&p, true, i % 8 == 0);
	}
}

static void test_too_small(void)
{
	struct xp_layout l;
	const char *why;

	/* Everything below the fixed parts. */
	for (uint64_t ns = 0; ns <= 64 * 4096; ns += 4096)
		for (size_t a = 0; a < 3; a++) {
			struct xp_layout_params p = {ns, 0, 1, 40, shifts[a]};
			enum xp_fmt_status st = xp_layout_solve(&p, &l, &why);

			if (shifts[a] > 12 || ns < 6 * 4096)
				CHECK_ST(st, XP_E_TOO_SMALL);
			else
				CHECK_ST(st, XP_OK);
			check_case(&p, true, false);
		}
	/* 65536 slots need 16 MiB of table alone */
	{
		struct xp_layout_params p = {16 * MiB, 0, 65536, 40, 12};

		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_TOO_SMALL);
		CHECK(why != NULL);
		p.ns_size = 16 * MiB + 8192 + 4096 + 4096;
		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_TOO_SMALL);
		p.ns_size += 8192;
		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_OK);
	}
	/* 1G alignment needs a whole aligned GiB in front of the backup */
	{
		struct xp_layout_params p = {2 * GiB, 0, 1, 0, 30};

		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_TOO_SMALL);
		p.ns_size = 2 * GiB + 4096;
		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_OK);
		CHECK_EQ_U64(l.data_offset, GiB);
		CHECK_EQ_U64(l.data_size, GiB);
		/* a base that puts the boundary 4K in */
		p.phys_base = GiB - 4096;
		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_TOO_SMALL);
	}
	/* per_page 256 on a namespace where mgmt eats everything */
	{
		struct xp_layout_params p = {32 * 4096, 0, 1, 256, 12};

		CHECK_ST(xp_layout_solve(&p, &l, &why), XP_OK);
		check_case(&p, true, true);
	}
}

static void test_invalid_params(void)
{
	struct xp_layout l;
	const char *why;
	struct xp_layout_params base = {GiB, 0, 64, 40, 21}, p;

	CHECK_ST(xp_layout_solve(&base, &l, &why), XP_OK);

	p = base;
	p.ns_size = 4 * GiB;
	for (uint32_t s = 0; s < 64; s++) {
		p.align_shift = s;
		CHECK_ST(xp_layout_solve(&p, &l, &why),
			 xp_align_shift_ok(s) ? XP_OK : XP_E_INVAL);
	}
	p = base;
	p.slot_count = 0;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "slot_count");
	p.slot_count = 65537;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p.slot_count = 0xffffffffu;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.per_page = 257;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "per_page");
	p.per_page = 0xffffffffu;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.ns_size = GiB + 512;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "ns_size");
	p.ns_size = UINT64_MAX;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.phys_base = 2048;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "phys_base");
	p.phys_base = XP_PHYS_LIMIT;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p.phys_base = XP_PHYS_LIMIT - GiB;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_OK);
	p.phys_base = XP_PHYS_LIMIT - GiB + 4096;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p.phys_base = UINT64_MAX & ~4095ull;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.ns_size = UINT64_MAX & ~4095ull;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_E_INVAL);
	p.ns_size = XP_PHYS_LIMIT;
	CHECK_ST(xp_layout_solve(&p, &l, &why), XP_OK);
	check_case(&p, false, true);
}

/* Monotonicity the solver's binary search relies on. */
static void test_monotone_in_size(void)
{
	for (int i = 0; i < 200; i++) {
		struct xp_layout_params p;
		struct xp_layout l, prev = {0};
		bool had = false;
		const char *why;

		p.align_shift = shifts[xt_rand() % 3];
		p.phys_base = xt_rand() % 2 ? 0 : xt_range(0, 4096) * 4096;
		p.slot_count = rand_slots();
		p.per_page = rand_pp();
		p.ns_size = rand_size();
		for (int k = 0; k < 50; k++) {
			enum xp_fmt_status st = xp_layout_solve(&p, &l, &why);

			if (had)
				CHECK_ST(st, XP_OK); /* bigger stays feasible */
			if (st == XP_OK) {
				if (had)
					CHECK(l.data_size >= prev.data_size);
				prev = l;
				had = true;
			}
			p.ns_size += xt_range(1, 1u << 18) * 4096;
		}
	}
}

int main(int argc, char **argv)
{
	xt_init(argc, argv);
	RUN(test_invalid_params);
	RUN(test_too_small);
	RUN(test_boundary_sizes);
	RUN(test_all_per_page);
	RUN(test_random_sweep);
	RUN(test_bruteforce_small);
	RUN(test_monotone_in_size);
	printf("%lu layouts solved, %lu too small, %lu brute-forced\n", n_ok,
	       n_small, n_brute);
	return xt_finish();
}
