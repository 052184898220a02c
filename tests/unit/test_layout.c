/* SPDX-License-Identifier: MIT */
/*
 * Property tests of xp_layout_solve() and xp_mgmt_chunks() (format 2.0).
 *
 * Every layout is compared with a reference computed here without the
 * solver: the management area's start (4 KiB after the table for mgmt
 * "none", physically 2 MiB aligned for Xen), the data area's aligned bounds,
 * chunk counts from walking the physical range group by group (256 MiB per
 * frame-table chunk, 1 GiB per M2P chunk, 2 GiB per compat M2P chunk below
 * 1 TiB only), and a data_offset that is the smallest aligned offset whose
 * management area fits in front of it (a linear scan for small namespaces,
 * "this one fits, one unit lower does not" for all). Solved layouts
 * round-trip through a superblock; any layout field or chunk count off by
 * one is rejected.
 */
#include "xp_format.h"
#include "xp_test.h"

#include <stdbool.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

#define FT_GROUP (256 * MiB)	/* 2 MiB / 32 B per frame * 4 KiB */
#define M2P_GROUP GiB		/* 2 MiB / 8 B per frame * 4 KiB */
#define COMPAT_GROUP (2 * GiB)	/* 2 MiB / 4 B per frame * 4 KiB */
#define COMPAT_LIMIT TiB
#define CHUNK (2 * MiB)

enum mg { MG_NONE, MG_XEN, MG_XEN_NOCOMPAT, MG_COUNT };

static const char *const mg_name[MG_COUNT] = {"none", "xen", "xen-nocompat"};
static const uint32_t shifts[] = {XP_ALIGN_2M_SHIFT, XP_ALIGN_1G_SHIFT};

static unsigned long n_ok, n_small, n_brute, n_straddle;

/* The geometry, spelled out rather than taken from xp_mgmt_geom_xen(). */
static struct xp_mgmt_geom geom_of(enum mg m)
{
	struct xp_mgmt_geom g = {0, 0, 0, 0, 0};

	if (m == MG_NONE)
		return g;
	g.chunk_shift = 21;
	g.ft_entry = 32;
	g.m2p_entry = 8;
	if (m == MG_XEN) {
		g.compat_entry = 4;
		g.compat_limit_shift = 40;
	}
	return g;
}

static enum mg rand_mg(void)
{
	return (enum mg)(xt_rand() % MG_COUNT);
}

/* Groups of @g bytes [s, e) touches: walk them, or count a long range. */
static uint64_t ref_groups(uint64_t s, uint64_t e, uint64_t g)
{
	uint64_t n = 0;

	if (e <= s)
		return 0;
	if ((e - s) / g > 4096)
		return (e / g + !!(e % g)) - s / g; /* ceil(e/g) - floor(s/g) */
	while (s < e) {
		n++;
		s = (s / g + 1) * g;
	}
	return n;
}

struct ref_chunks {
	uint64_t ft, m2p, compat;
};

static struct ref_chunks ref_chunks_of(enum mg m, uint64_t s, uint64_t e)
{
	struct ref_chunks c = {0, 0, 0};

	if (m == MG_NONE)
		return c;
	c.ft = ref_groups(s, e, FT_GROUP);
	c.m2p = ref_groups(s, e, M2P_GROUP);
	if (m == MG_XEN && s < COMPAT_LIMIT)
		c.compat = ref_groups(s, e < COMPAT_LIMIT ? e : COMPAT_LIMIT,
				      COMPAT_GROUP);
	return c;
}

static uint64_t ref_mgmt_bytes(const struct ref_chunks *c)
{
	return (c->ft + c->m2p + c->compat) * CHUNK;
}

struct params {
	uint64_t ns, phys;
	uint32_t slots, shift;
	enum mg mg;
};

static struct xp_layout_params lp_of(const struct params *p)
{
	struct xp_layout_params lp;

	memset(&lp, 0, sizeof(lp));
	lp.ns_size = p->ns;
	lp.phys_base = p->phys;
	lp.slot_count = p->slots;
	lp.align_shift = p->shift;
	lp.geom = geom_of(p->mg);
	return lp;
}

/* Reference numbers computed independently of the solver. */
struct ref {
	uint64_t a, mgmt_off, d0, data_end;
	bool room;	/* an aligned data unit between d0 and data_end */
};

static struct ref ref_of(const struct params *p)
{
	struct ref r;
	uint64_t table_end = 8192 + (uint64_t)p->slots * 256, e;

	memset(&r, 0, sizeof(r));
	r.a = 1ull << p->shift;
	if (p->mg == MG_NONE)
		r.mgmt_off = (table_end + 4095) / 4096 * 4096;
	else
		r.mgmt_off = (p->phys + table_end + CHUNK - 1) / CHUNK * CHUNK -
			     p->phys;
	if (r.mgmt_off > p->ns || p->ns - r.mgmt_off < 4096)
		return r;
	r.d0 = (p->phys + r.mgmt_off + r.a - 1) / r.a * r.a - p->phys;
	e = (p->phys + p->ns - 4096) / r.a * r.a;
	if (e < p->phys)
		return r;
	r.data_end = e - p->phys;
	r.room = r.data_end > r.d0;
	return r;
}

/* Does the management area for the data behind @d fit in front of it? */
static bool fits(const struct params *p, const struct ref *r, uint64_t d)
{
	struct ref_chunks c = ref_chunks_of(p->mg, p->phys + d,
					    p->phys + r->data_end);

	return r->mgmt_off + ref_mgmt_bytes(&c) <= d;
}

#define P_FMT "ns=%#" PRIx64 " phys=%#" PRIx64 " slots=%u shift=%u mgmt=%s"
#define P_ARGS(p) (p)->ns, (p)->phys, (p)->slots, (p)->shift, mg_name[(p)->mg]

/* The superblock of a solved layout. */
static void sb_of(const struct params *p, const struct xp_layout *l,
		  struct xp_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->major = XP_FMT_MAJOR;
	sb->minor = XP_FMT_MINOR;
	sb->header_size = XP_SB_SIZE;
	sb->compat = p->phys ? XP_SB_F_PHYS_KNOWN : 0;
	for (int i = 0; i < 16; i++)
		sb->ns_uuid[i] = (uint8_t)(i * 11 + 1);
	sb->generation = 3;
	sb->ns_size = p->ns;
	sb->phys_base = p->phys;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = p->slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->rec_size = XP_REC_SIZE;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->align_shift = p->shift;
	sb->geom = geom_of(p->mg);
	sb->chunks = l->chunks;
	sb->mgmt_offset = l->mgmt_offset;
	sb->mgmt_size = l->mgmt_size;
	sb->data_offset = l->data_offset;
	sb->data_size = l->data_size;
}

static void put_le(uint8_t *b, uint64_t v, int width)
{
	for (int i = 0; i < width; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static void check_sb_of(const struct params *p, const struct xp_layout *l)
{
	static uint8_t buf[XP_SB_BLOCK];
	struct xp_sb sb, out;
	const char *f;
	enum xp_fmt_status st;
	uint64_t a = 1ull << p->shift;
	const struct {
		size_t off;
		int width;
		const char *name;
		uint64_t val, unit;
	} lf[] = {
		{offsetof(struct xp_sb_disk, ft_chunks), 4, "ft_chunks",
		 l->chunks.ft, 1},
		{offsetof(struct xp_sb_disk, m2p_chunks), 4, "m2p_chunks",
		 l->chunks.m2p, 1},
		{offsetof(struct xp_sb_disk, compat_chunks), 4, "compat_chunks",
		 l->chunks.compat, 1},
		{offsetof(struct xp_sb_disk, mgmt_offset), 8, "mgmt_offset",
		 l->mgmt_offset, p->mg == MG_NONE ? 4096 : CHUNK},
		{offsetof(struct xp_sb_disk, mgmt_size), 8, "mgmt_size",
		 l->mgmt_size, CHUNK},
		{offsetof(struct xp_sb_disk, data_offset), 8, "data_offset",
		 l->data_offset, a},
		{offsetof(struct xp_sb_disk, data_size), 8, "data_size",
		 l->data_size, a},
	};

	sb_of(p, l, &sb);
	for (int backup = 0; backup < 2; backup++) {
		xp_sb_encode(&sb, backup, buf);
		st = xp_sb_decode(buf, sizeof(buf), p->ns, backup, &out, &f);
		CHECK_MSG(st == XP_OK, P_FMT ": %s (%s)", P_ARGS(p),
			  xp_fmt_strstatus(st), f ? f : "-");
		if (st != XP_OK)
			continue;
		CHECK(out.mgmt_offset == l->mgmt_offset &&
		      out.mgmt_size == l->mgmt_size &&
		      out.data_offset == l->data_offset &&
		      out.data_size == l->data_size &&
		      out.chunks.ft == l->chunks.ft &&
		      out.chunks.m2p == l->chunks.m2p &&
		      out.chunks.compat == l->chunks.compat &&
		      !memcmp(&out.geom, &sb.geom, sizeof(sb.geom)) &&
		      out.slot_count == p->slots);
	}

	/* Every layout field and chunk count, one byte / one unit off. */
	for (size_t i = 0; i < sizeof(lf) / sizeof(lf[0]); i++) {
		const uint64_t deltas[] = {1, lf[i].unit, 2 * lf[i].unit};

		for (int k = 0; k < 3; k++)
			for (int sgn = 0; sgn < 2; sgn++) {
				uint64_t v = sgn ? lf[i].val - deltas[k] :
						   lf[i].val + deltas[k];

				xp_sb_encode(&sb, false, buf);
				put_le(buf + lf[i].off, v, lf[i].width);
				put_le(buf + offsetof(struct xp_sb_disk, checksum),
				       xp_sb_checksum(buf, XP_SB_SIZE), 8);
				st = xp_sb_decode(buf, sizeof(buf), p->ns, false,
						  &out, &f);
				CHECK_MSG(st == XP_E_FIELD && f &&
						  !strcmp(f, lf[i].name),
					  P_FMT ": %s %s %#" PRIx64
					  " gave %s (%s)",
					  P_ARGS(p), lf[i].name, sgn ? "-" : "+",
					  deltas[k], xp_fmt_strstatus(st),
					  f ? f : "-");
			}
	}
}

/* Solve @p and check every property; @brute compares with a linear scan. */
static void check_case(const struct params *p, bool brute, bool sbcheck)
{
	struct xp_layout_params lp = lp_of(p);
	struct xp_layout l;
	const char *why = "unset";
	enum xp_fmt_status st = xp_layout_solve(&lp, &l, &why);
	struct ref r = ref_of(p);
	struct ref_chunks c;
	uint64_t a = r.a, data_end;

	if (r.room && p->mg == MG_XEN && p->phys + r.d0 < COMPAT_LIMIT &&
	    p->phys + r.data_end > COMPAT_LIMIT)
		n_straddle++;
	if (st == XP_E_TOO_SMALL) {
		n_small++;
		CHECK(why != NULL);
		/* Too small must be true: not even the last unit fits. */
		if (r.room)
			CHECK_MSG(!fits(p, &r, r.data_end - a),
				  P_FMT ": TOO_SMALL (%s) but d=%#" PRIx64
				  " fits", P_ARGS(p), why, r.data_end - a);
		return;
	}
	CHECK_MSG(st == XP_OK, P_FMT ": %s (%s)", P_ARGS(p),
		  xp_fmt_strstatus(st), why ? why : "-");
	if (st != XP_OK)
		return;
	n_ok++;
	CHECK(why == NULL);
	CHECK_MSG(r.room, P_FMT ": solved but the reference has no room",
		  P_ARGS(p));
	if (!r.room)
		return;
	data_end = l.data_offset + l.data_size;

	/* fixed parts */
	CHECK_EQ_U64(l.table_offset, XP_TABLE_OFFSET);
	CHECK_EQ_U64(l.table_size, (uint64_t)p->slots * XP_SLOT_SIZE);
	CHECK_EQ_U64(l.mgmt_offset, r.mgmt_off);
	CHECK_EQ_U64(l.backup_offset, p->ns - XP_SB_BLOCK);

	/* ordering: sb < zero < table < mgmt < data < backup, in bounds */
	CHECK(l.table_offset + l.table_size <= l.mgmt_offset);
	CHECK(l.mgmt_offset % 4096 == 0);
	CHECK(l.mgmt_offset + l.mgmt_size <= l.data_offset);
	CHECK(l.data_size > 0);
	CHECK(data_end > l.data_offset);
	CHECK(data_end <= l.backup_offset);
	CHECK(l.backup_offset + XP_SB_BLOCK == p->ns);

	/* management area: where, and how big */
	if (p->mg == MG_NONE) {
		CHECK_EQ_U64(l.mgmt_size, 0);
		CHECK(l.chunks.ft == 0 && l.chunks.m2p == 0 &&
		      l.chunks.compat == 0);
		CHECK_EQ_U64(l.mgmt_offset,
			     (l.table_offset + l.table_size + 4095) & ~4095ull);
	} else {
		CHECK_MSG((p->phys + l.mgmt_offset) % CHUNK == 0,
			  P_FMT ": mgmt_offset %#" PRIx64
			  " not physically 2 MiB aligned",
			  P_ARGS(p), l.mgmt_offset);
		CHECK(xp_phys_aligned(p->phys, l.mgmt_offset, 21));
		/* no earlier 2 MiB boundary after the table */
		CHECK(l.mgmt_offset - CHUNK < l.table_offset + l.table_size ||
		      l.mgmt_offset < CHUNK);
	}
	c = ref_chunks_of(p->mg, p->phys + l.data_offset, p->phys + data_end);
	CHECK_MSG(l.chunks.ft == c.ft && l.chunks.m2p == c.m2p &&
			  l.chunks.compat == c.compat,
		  P_FMT ": chunks %u/%u/%u, reference %" PRIu64 "/%" PRIu64
		  "/%" PRIu64,
		  P_ARGS(p), l.chunks.ft, l.chunks.m2p, l.chunks.compat, c.ft,
		  c.m2p, c.compat);
	CHECK_EQ_U64(l.mgmt_size, ref_mgmt_bytes(&c));
	if (p->mg != MG_XEN || p->phys + l.data_offset >= COMPAT_LIMIT)
		CHECK_EQ_U64(l.chunks.compat, 0);

	/* alignment: physical, whole units */
	CHECK_MSG((p->phys + l.data_offset) % a == 0,
		  P_FMT ": data_offset=%#" PRIx64, P_ARGS(p), l.data_offset);
	CHECK(xp_phys_aligned(p->phys, l.data_offset, p->shift));
	CHECK(l.data_size % a == 0);
	CHECK_EQ_U64(data_end, r.data_end);
	CHECK(l.data_offset >= r.d0);

	/*
	 * A 1 GiB aligned data area owns its frame-table and M2P groups
	 * whole: it starts and ends on 1 GiB physical boundaries, so no chunk
	 * also describes frames outside it.
	 */
	if (p->shift == XP_ALIGN_1G_SHIFT && p->mg != MG_NONE) {
		CHECK((p->phys + l.data_offset) % GiB == 0 &&
		      (p->phys + data_end) % GiB == 0);
		CHECK_EQ_U64((uint64_t)l.chunks.ft * FT_GROUP, l.data_size);
		CHECK_EQ_U64((uint64_t)l.chunks.m2p * M2P_GROUP, l.data_size);
	}

	/* minimality: it fits, and one alignment unit lower does not */
	CHECK_MSG(fits(p, &r, l.data_offset), P_FMT ": data_offset %#" PRIx64
		  " does not fit", P_ARGS(p), l.data_offset);
	if (l.data_offset > r.d0)
		CHECK_MSG(!fits(p, &r, l.data_offset - a),
			  P_FMT ": data_offset %#" PRIx64 " not minimal",
			  P_ARGS(p), l.data_offset);
	else
		CHECK_EQ_U64(l.data_offset, r.d0);

	if (brute) {
		uint64_t d = r.d0;

		n_brute++;
		while (d < r.data_end && !fits(p, &r, d))
			d += a;
		CHECK_EQ_U64(l.data_offset, d);
	}
	if (sbcheck)
		check_sb_of(p, &l);
}

/* ---- xp_mgmt_chunks ---------------------------------------------------- */

static void test_geometry(void)
{
	struct xp_mgmt_geom g, x;

	xp_mgmt_geom_xen(&g, true);
	x = geom_of(MG_XEN);
	CHECK(!memcmp(&g, &x, sizeof(g)));
	CHECK(!xp_mgmt_geom_none(&g));
	xp_mgmt_geom_xen(&g, false);
	x = geom_of(MG_XEN_NOCOMPAT);
	CHECK(!memcmp(&g, &x, sizeof(g)));
	CHECK(!xp_mgmt_geom_none(&g));
	x = geom_of(MG_NONE);
	CHECK(xp_mgmt_geom_none(&x));
	/* the constants the format names */
	CHECK_EQ_U64(XP_CHUNK_SHIFT, 21);
	CHECK_EQ_U64(XP_XEN_FT_ENTRY, 32);
	CHECK_EQ_U64(XP_XEN_M2P_ENTRY, 8);
	CHECK_EQ_U64(XP_XEN_COMPAT_ENTRY, 4);
	CHECK_EQ_U64(XP_XEN_COMPAT_LIMIT_SHIFT, 40);
	/* one field off is not "none" */
	for (int i = 0; i < 5; i++) {
		uint32_t *f = (uint32_t *)&x;

		x = geom_of(MG_NONE);
		f[i] = 1;
		CHECK(!xp_mgmt_geom_none(&x));
	}
}

static void chunks_case(enum mg m, uint64_t s, uint64_t e)
{
	struct xp_mgmt_geom g = geom_of(m);
	struct xp_mgmt_chunks c;
	struct ref_chunks r = ref_chunks_of(m, s, e);

	memset(&c, 0xa5, sizeof(c));
	xp_mgmt_chunks(&g, s, e, &c);
	CHECK_MSG(c.ft == r.ft && c.m2p == r.m2p && c.compat == r.compat,
		  "%s [%#" PRIx64 ", %#" PRIx64 "): %u/%u/%u, reference %" PRIu64
		  "/%" PRIu64 "/%" PRIu64,
		  mg_name[m], s, e, c.ft, c.m2p, c.compat, r.ft, r.m2p,
		  r.compat);
}

static void test_mgmt_chunks(void)
{
	static const uint64_t pts[] = {
		0, 4096, 2 * MiB, FT_GROUP - 4096, FT_GROUP, FT_GROUP + 4096,
		GiB - 4096, GiB, GiB + 4096, 2 * GiB - 4096, 2 * GiB,
		2 * GiB + 4096, 3 * GiB, TiB - 2 * GiB, TiB - GiB, TiB - 4096,
		TiB, TiB + 4096, TiB + 2 * GiB, 2 * TiB,
	};
	const size_t n = sizeof(pts) / sizeof(pts[0]);
	struct xp_mgmt_geom g;
	struct xp_mgmt_chunks c;

	for (int m = 0; m < MG_COUNT; m++) {
		/* every pair of interesting points, either order */
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				chunks_case((enum mg)m, pts[i], pts[j]);
		/* random ranges, short and long, near 1 TiB and anywhere */
		for (int k = 0; k < 20000; k++) {
			uint64_t s, len;

			switch (k % 4) {
			case 0:
				s = xt_range(0, 1ull << 36) * 4096;
				break;
			case 1:
				s = TiB - xt_range(0, 1u << 22) * 4096;
				break;
			case 2:
				s = xt_range(0, 64) * GiB;
				break;
			default:
				s = xt_range(0, (1ull << 45)) * 4096;
				break;
			}
			len = k % 3 ? xt_range(0, 1u << 22) * 4096 :
				      xt_range(0, 1ull << 34) * 4096;
			chunks_case((enum mg)m, s, s + len);
		}
	}
	/* exact counts the brief gives: 1 GiB at 0 */
	xp_mgmt_geom_xen(&g, true);
	xp_mgmt_chunks(&g, 0, GiB, &c);
	CHECK(c.ft == 4 && c.m2p == 1 && c.compat == 1);
	/* 4 KiB straddling a 256 MiB boundary touches two groups */
	xp_mgmt_chunks(&g, FT_GROUP - 4096, FT_GROUP + 4096, &c);
	CHECK(c.ft == 2 && c.m2p == 1 && c.compat == 1);
	/* wholly above 1 TiB: no compat M2P */
	xp_mgmt_chunks(&g, TiB, TiB + 4 * GiB, &c);
	CHECK(c.ft == 16 && c.m2p == 4 && c.compat == 0);
	/* straddling 1 TiB: compat only for the part below */
	xp_mgmt_chunks(&g, TiB - 3 * GiB, TiB + 5 * GiB, &c);
	CHECK(c.ft == 32 && c.m2p == 8 && c.compat == 2);
	xp_mgmt_geom_xen(&g, false);
	xp_mgmt_chunks(&g, 0, GiB, &c);
	CHECK(c.ft == 4 && c.m2p == 1 && c.compat == 0);
	/* empty and reversed ranges */
	xp_mgmt_geom_xen(&g, true);
	xp_mgmt_chunks(&g, GiB, GiB, &c);
	CHECK(c.ft == 0 && c.m2p == 0 && c.compat == 0);
	xp_mgmt_chunks(&g, 2 * GiB, GiB, &c);
	CHECK(c.ft == 0 && c.m2p == 0 && c.compat == 0);
	/* a geometry 2.0 does not know reserves nothing */
	g.ft_entry = 16;
	memset(&c, 0xa5, sizeof(c));
	xp_mgmt_chunks(&g, 0, GiB, &c);
	CHECK(c.ft == 0 && c.m2p == 0 && c.compat == 0);
}

/* ---- layouts ------------------------------------------------------------ */

static uint64_t rand_size(void)
{
	/* log-uniform between 4 MiB (2^22) and 64 TiB (2^46), 4K aligned */
	uint32_t bits = (uint32_t)xt_range(22, 46);
	uint64_t s = (1ull << bits) + (xt_rand() & ((1ull << bits) - 1));

	s &= ~4095ull;
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

/* 4 KiB aligned physical bases, biased to boundaries and to 1 TiB. */
static uint64_t rand_phys(uint64_t ns)
{
	uint64_t room = XP_PHYS_LIMIT - ns, b;

	switch (xt_rand() % 10) {
	case 0:
	case 1: return 0;
	case 2: return 4096 * (2 * xt_range(0, 1u << 20) + 1);	/* 4K * odd */
	case 3: return 2 * MiB - 4096;
	case 4: return GiB - 4096 * xt_range(1, 3);
	case 5: return xt_range(1, 64) * GiB + 2 * MiB * xt_range(0, 511) + 4096;
	case 6: return room & ~4095ull;				/* top */
	case 7:
	case 8:
		/* straddle 1 TiB: start up to ns below it */
		b = xt_rand() % ((ns < TiB ? ns : TiB) + 1);
		return (TiB - b) & ~4095ull;
	default:
		b = xt_rand() % (room + 1);
		return b & ~4095ull;
	}
}

static void test_random_sweep(void)
{
	for (int i = 0; i < 100000; i++) {
		struct params p;

		p.ns = rand_size();
		p.phys = rand_phys(p.ns);
		p.slots = rand_slots();
		p.shift = shifts[xt_rand() % 2];
		p.mg = rand_mg();
		check_case(&p, false, i % 4 == 0);
	}
}

/* Physical bases around 1 TiB, where the compat M2P stops. */
static void test_straddle_1t(void)
{
	static const uint64_t sizes[] = {
		8 * MiB + 4096, 64 * MiB, GiB + 4096, 2 * GiB + 4096,
		5 * GiB + 8192, 17 * GiB, 64 * GiB + 4096,
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int m = 0; m < MG_COUNT; m++)
			for (size_t s = 0; s < 2; s++) {
				uint64_t ns = sizes[i];

				/* bases from ns + 2 GiB below 1 TiB to 2 GiB
				 * above, in 4 KiB..1 GiB steps */
				for (uint64_t back = 0; back <= ns + 4 * GiB;
				     back += back < 16 * MiB ? 4096 * 37 :
				     back < 4 * GiB ? 61 * MiB + 4096 :
							      GiB - 4096) {
					struct params p = {ns, TiB + 2 * GiB - back,
							   1024, shifts[s],
							   (enum mg)m};

					check_case(&p, ns <= 8 * GiB, back % 3 == 0);
				}
			}
}

static void test_boundary_sizes(void)
{
	uint64_t sizes[512];
	size_t n = 0;

	sizes[n++] = 64 * TiB;
	sizes[n++] = 64 * TiB - 4096;
	for (int b = 22; b <= 46; b++) {
		sizes[n++] = 1ull << b;
		sizes[n++] = (1ull << b) + 4096;
		sizes[n++] = (1ull << b) - 4096;
		sizes[n++] = (1ull << b) + 8192;
		sizes[n++] = (1ull << b) + 2 * MiB + 4096;
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
						 GiB + 2 * MiB, TiB - GiB,
						 TiB - 2 * MiB + 4096};
		static const uint32_t slotss[] = {1, 17, 1024, 65536};

		if (sizes[i] > 64 * TiB || sizes[i] < 4 * MiB)
			continue;
		for (size_t a = 0; a < 2; a++)
			for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
				for (size_t s = 0; s < sizeof(slotss) / sizeof(slotss[0]); s++)
					for (int m = 0; m < MG_COUNT; m++) {
						struct params p = {
							sizes[i], bases[b], slotss[s],
							shifts[a], (enum mg)m};

						check_case(&p, false,
							   (m + s + b) % 5 == 0);
					}
	}
}

/* Small namespaces: compare with a linear scan over every candidate. */
static void test_bruteforce_small(void)
{
	for (int i = 0; i < 20000; i++) {
		struct params p;
		uint64_t max;

		p.shift = shifts[xt_rand() % 2];
		p.mg = rand_mg();
		max = p.shift == 21 ? 3 * GiB : 96 * GiB;
		p.ns = xt_range(1, max / 4096) * 4096;
		switch (xt_rand() % 4) {
		case 0: p.phys = 0; break;
		case 1: p.phys = xt_range(0, 1u << 20) * 4096; break;
		case 2: p.phys = (TiB - xt_range(0, max / 4096) * 4096); break;
		default: p.phys = xt_range(0, 1ull << 33) * 4096; break;
		}
		p.slots = (uint32_t)xt_range(1, xt_rand() % 2 ? 64 : 65536);
		check_case(&p, true, i % 8 == 0);
	}
}

/* Smallest 4K multiple the solver accepts. */
static uint64_t min_ns(uint64_t phys, uint32_t slots, uint32_t shift,
		       enum mg m)
{
	uint64_t lo = 1, hi = 1ull << 30; /* in pages */

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		struct params p = {mid << 12, phys, slots, shift, m};
		struct xp_layout_params lp = lp_of(&p);
		struct xp_layout l;
		const char *why;

		if (xp_layout_solve(&lp, &l, &why) == XP_OK)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo << 12;
}

static enum xp_fmt_status solve(const struct params *p, struct xp_layout *l,
				const char **why)
{
	struct xp_layout_params lp = lp_of(p);

	return xp_layout_solve(&lp, l, why);
}

static void test_too_small(void)
{
	struct xp_layout l;
	const char *why;

	/* Everything below the fixed parts, and around the minima. */
	for (uint64_t ns = 0; ns <= 12 * MiB; ns += ns < 64 * 4096 ? 4096 : 4096 * 29)
		for (size_t a = 0; a < 2; a++)
			for (int m = 0; m < MG_COUNT; m++) {
				struct params p = {ns, 0, 1, shifts[a], (enum mg)m};

				check_case(&p, true, false);
			}

	/* The minima the format implies (1024 slots, phys 0). */
	CHECK_EQ_U64(min_ns(0, 1024, 21, MG_NONE), 4 * MiB + 4096);
	CHECK_EQ_U64(min_ns(0, 1024, 21, MG_XEN_NOCOMPAT), 8 * MiB + 4096);
	CHECK_EQ_U64(min_ns(0, 1024, 21, MG_XEN), 10 * MiB + 4096);
	/* default 1 GiB alignment: more than 2 GiB */
	for (int m = 0; m < MG_COUNT; m++)
		CHECK_EQ_U64(min_ns(0, 1024, 30, (enum mg)m), 2 * GiB + 4096);
	{
		struct params p = {10 * MiB + 4096, 0, 1024, 21, MG_XEN};

		CHECK_ST(solve(&p, &l, &why), XP_OK);
		CHECK_EQ_U64(l.mgmt_offset, 2 * MiB);
		CHECK(l.chunks.ft == 1 && l.chunks.m2p == 1 &&
		      l.chunks.compat == 1);
		CHECK_EQ_U64(l.mgmt_size, 6 * MiB);
		CHECK_EQ_U64(l.data_offset, 8 * MiB);
		CHECK_EQ_U64(l.data_size, 2 * MiB);
		p.ns -= 4096;
		CHECK_ST(solve(&p, &l, &why), XP_E_TOO_SMALL);
		CHECK(why != NULL);
	}
	{
		struct params p = {2 * GiB + 4096, 0, 1024, 30, MG_XEN};

		CHECK_ST(solve(&p, &l, &why), XP_OK);
		CHECK_EQ_U64(l.data_offset, GiB);
		CHECK_EQ_U64(l.data_size, GiB);
		CHECK(l.chunks.ft == 4 && l.chunks.m2p == 1 &&
		      l.chunks.compat == 1);
		/* a base that puts the boundary 4K in */
		p.phys = GiB - 4096;
		CHECK_ST(solve(&p, &l, &why), XP_E_TOO_SMALL);
	}
	/* 65536 slots need 16 MiB of table alone */
	{
		struct params p = {16 * MiB, 0, 65536, 21, MG_NONE};

		CHECK_ST(solve(&p, &l, &why), XP_E_TOO_SMALL);
		CHECK(why != NULL);
		CHECK_EQ_U64(min_ns(0, 65536, 21, MG_NONE),
			     20 * MiB + 4096);
	}
	/*
	 * The management area swallowing every candidate: with 2 MiB
	 * alignment a data unit costs up to three 2 MiB chunks when it opens
	 * new groups, so such namespaces are refused, never half-solved.
	 */
	for (uint64_t ns = 4 * MiB; ns <= 16 * MiB; ns += 4096)
		for (uint64_t phys = 0; phys < 2 * GiB; phys += 255 * MiB + 4096) {
			struct params p = {ns, phys, 1, 21, MG_XEN};

			check_case(&p, true, false);
		}
}

static void test_invalid_params(void)
{
	struct xp_layout l;
	const char *why;
	struct params base = {GiB, 0, 64, 21, MG_XEN}, p;
	struct xp_layout_params lp;

	CHECK_ST(solve(&base, &l, &why), XP_OK);

	p = base;
	p.ns = 4 * GiB;
	for (uint32_t s = 0; s < 64; s++) {
		p.shift = s;
		CHECK_ST(solve(&p, &l, &why),
			 s == 21 || s == 30 ? XP_OK : XP_E_INVAL);
		if (s != 21 && s != 30)
			CHECK_STR(why, "align_shift");
	}
	p = base;
	p.shift = 0xffffffffu;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.slots = 0;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "slot_count");
	p.slots = 65537;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p.slots = 0xffffffffu;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.ns = GiB + 512;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "ns_size");
	p.ns = UINT64_MAX;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.phys = 2048;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	CHECK_STR(why, "phys_base");
	p.phys = XP_PHYS_LIMIT;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p.phys = XP_PHYS_LIMIT - GiB;
	CHECK_ST(solve(&p, &l, &why), XP_OK);
	check_case(&p, false, true);
	p.phys = XP_PHYS_LIMIT - GiB + 4096;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p.phys = UINT64_MAX & ~4095ull;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	p = base;
	p.ns = UINT64_MAX & ~4095ull;
	CHECK_ST(solve(&p, &l, &why), XP_E_INVAL);
	/* the largest namespace the format allows, every geometry */
	for (int m = 0; m < MG_COUNT; m++)
		for (size_t a = 0; a < 2; a++) {
			p = base;
			p.ns = XP_PHYS_LIMIT;
			p.mg = (enum mg)m;
			p.shift = shifts[a];
			p.slots = 65536;
			CHECK_ST(solve(&p, &l, &why), XP_OK);
			check_case(&p, false, true);
		}

	/* Geometries 2.0 does not know: every field one off. */
	for (int m = MG_XEN; m < MG_COUNT; m++)
		for (int i = 0; i < 5; i++)
			for (int d = -1; d <= 1; d += 2) {
				uint32_t *f;

				p = base;
				p.mg = (enum mg)m;
				lp = lp_of(&p);
				f = (uint32_t *)&lp.geom;
				f[i] += (uint32_t)d;
				CHECK_ST(xp_layout_solve(&lp, &l, &why), XP_E_INVAL);
				CHECK_STR(why, "management geometry");
			}
	/* compat entry without its limit, and the reverse */
	p = base;
	lp = lp_of(&p);
	lp.geom.compat_limit_shift = 0;
	CHECK_ST(xp_layout_solve(&lp, &l, &why), XP_E_INVAL);
	lp = lp_of(&p);
	lp.geom.compat_entry = 0;
	CHECK_ST(xp_layout_solve(&lp, &l, &why), XP_E_INVAL);
	/* none with one stray field */
	for (int i = 0; i < 5; i++) {
		p = base;
		p.mg = MG_NONE;
		lp = lp_of(&p);
		((uint32_t *)&lp.geom)[i] = 21;
		CHECK_ST(xp_layout_solve(&lp, &l, &why), XP_E_INVAL);
	}
}

/*
 * Growing the namespace never makes it unsolvable, and for mgmt "none"
 * never shrinks the data area. (With a management area the data area may
 * shrink by a few chunks when growing opens new frame groups.)
 */
static void test_monotone_in_size(void)
{
	for (int i = 0; i < 300; i++) {
		struct params p;
		struct xp_layout l, prev = {0};
		bool had = false;
		const char *why;

		p.shift = shifts[xt_rand() % 2];
		p.mg = rand_mg();
		p.phys = xt_rand() % 2 ? 0 : rand_phys(1ull << 46);
		p.slots = rand_slots();
		p.ns = p.shift == 21 ? xt_range(1, 8192) * 4096 :
				       xt_range(1, 1u << 20) * 4096;
		for (int k = 0; k < 200; k++) {
			enum xp_fmt_status st = solve(&p, &l, &why);

			if (had)
				CHECK_MSG(st == XP_OK, P_FMT ": %s after a smaller size solved",
					  P_ARGS(&p), xp_fmt_strstatus(st));
			if (st == XP_OK) {
				if (had && p.mg == MG_NONE)
					CHECK(l.data_size >= prev.data_size);
				prev = l;
				had = true;
			}
			p.ns += xt_range(1, p.shift == 21 ? 1024 : 1u << 18) * 4096;
		}
	}
}

int main(int argc, char **argv)
{
	xt_init(argc, argv);
	RUN(test_geometry);
	RUN(test_mgmt_chunks);
	RUN(test_invalid_params);
	RUN(test_too_small);
	RUN(test_straddle_1t);
	RUN(test_boundary_sizes);
	RUN(test_random_sweep);
	RUN(test_bruteforce_small);
	RUN(test_monotone_in_size);
	printf("%lu layouts solved, %lu too small, %lu brute-forced, %lu straddle 1 TiB\n",
	       n_ok, n_small, n_brute, n_straddle);
	return xt_finish();
}
