/* SPDX-License-Identifier: MIT */
/*
 * Library tests of init, the allocator and the extent mutations (format
 * 2.0), over in-memory images: the layouts init writes (management area
 * none or Xen chunks, 2 MiB or 1 GiB alignment), first-fit placement at
 * physical alignment, the refusals (and that a refused call writes
 * nothing), owners as UUIDs, "@N" slot selectors, in-place resize, slot
 * reuse, gaps and info, reopen, "one mutation = one 128-byte record copy
 * whose words carry a fresh tag", the management area staying untouched,
 * init over old metadata raising the generation, and a randomized model
 * test.
 */
#include <unistd.h>

#include "lib_test.h"

/* ---- environment --------------------------------------------------------- */

struct env {
	uint8_t *img;
	uint64_t size;
	struct xp_media *m;
	struct xp_ns *ns;
	struct xp_info info;
	uint64_t D, E;		/* data area [D, E) */
	uint64_t phys;
};

#define NONE XP_MGMT_NONE
#define XEN XP_MGMT_XEN

static int env_setup(struct env *e, uint64_t size, uint64_t align,
		     uint32_t slots, enum xp_mgmt_mode mgmt, int phys_known,
		     uint64_t phys_base)
{
	struct xp_init_opts o = {.max_extents = slots, .mgmt = mgmt,
				 .align = align};
	int rc;

	memset(e, 0, sizeof(*e));
	e->size = size;
	e->img = img_new(size);
	e->m = tm_new(e->img, size, phys_known, phys_base);
	e->phys = phys_known ? phys_base : 0;
	rc = xp_ns_init_media(e->m, &o, NULL);
	CHECK_RC(rc, 0);
	if (rc)
		return rc;
	rc = xp_ns_open_media(e->m, XP_OPEN_WRITE, &e->ns);
	CHECK_RC(rc, 0);
	if (rc)
		return rc;
	xp_ns_get_info(e->ns, &e->info);
	e->D = e->info.data_offset;
	e->E = e->info.data_offset + e->info.data_size;
	tm_reset(e->m);
	return 0;
}

/* The usual small namespace: 64 MiB, 2 MiB alignment, no management area. */
static int env_small(struct env *e, uint32_t slots)
{
	return env_setup(e, 64 * MiB, 2 * MiB, slots, NONE, 0, 0);
}

static void env_reopen(struct env *e, unsigned flags)
{
	int rc;

	xp_ns_close(e->ns);
	e->ns = NULL;
	rc = xp_ns_open_media(e->m, flags, &e->ns);
	CHECK_RC(rc, 0);
	if (!rc)
		xp_ns_get_info(e->ns, &e->info);
}

static void env_done(struct env *e)
{
	xp_ns_close(e->ns);
	xp_media_close(e->m);
	img_free(e->img, e->size);
	memset(e, 0, sizeof(*e));
}

static int mk(struct env *e, const char *name, uint64_t size, uint64_t align,
	      struct xp_extent *out)
{
	/* These tests count metadata stores: t_zero_new_range covers the
	 * zeroing of the new range. */
	struct xp_create_opts o = {.name = name, .size = size, .align = align,
				   .flags = XP_NO_ZERO};
	struct xp_extent tmp;

	return xp_extent_create(e->ns, &o, out ? out : &tmp);
}

static uint64_t off_of(struct env *e, const char *name)
{
	struct xp_extent x;

	if (xp_ns_extent_find(e->ns, name, &x))
		return UINT64_MAX;
	return x.offset;
}

static uint64_t size_of(struct env *e, const char *name)
{
	struct xp_extent x;

	if (xp_ns_extent_find(e->ns, name, &x))
		return UINT64_MAX;
	return x.size;
}

/*
 * The views agree with each other: extents in offset order, inside the
 * data area, physically aligned, not overlapping; gaps exactly the rest of
 * [data_offset, data_end), maximal; info's counters add up; no damage.
 */
static void verify(struct env *e)
{
	struct xp_ns *ns = e->ns;
	struct xp_info in;
	uint32_t n = xp_ns_extent_count(ns), ng = xp_ns_gap_count(ns);
	uint64_t cursor, used = 0, free_ = 0, largest = 0;
	uint32_t gi = 0;
	struct xp_extent x, y;
	struct xp_gap g;

	xp_ns_get_info(ns, &in);
	CHECK_EQ_U64(in.extent_count, n);
	CHECK(xp_ns_damage(ns) == NULL);
	CHECK_EQ_U64(in.corrupt_slots, 0);
	CHECK_EQ_U64(in.violations, 0);
	CHECK(!in.moved && !in.sb_unresolved);
	cursor = in.data_offset;
	for (uint32_t i = 0; i <= n; i++) {
		uint64_t next = in.data_offset + in.data_size;

		if (i < n) {
			CHECK_RC(xp_ns_extent_get(ns, i, &x), 0);
			next = x.offset;
		}
		/* [cursor, next) must be exactly one gap, or empty. */
		if (next > cursor) {
			CHECK(gi < ng);
			if (gi < ng) {
				CHECK_RC(xp_ns_gap_get(ns, gi, &g), 0);
				CHECK_EQ_U64(g.offset, cursor);
				CHECK_EQ_U64(g.size, next - cursor);
				free_ += g.size;
				if (g.size > largest)
					largest = g.size;
			}
			gi++;
		} else {
			CHECK_EQ_U64(next, cursor);	/* no overlap */
		}
		if (i == n)
			break;
		CHECK(x.offset >= in.data_offset);
		CHECK(x.size > 0 && x.offset + x.size <= in.data_offset +
							  in.data_size);
		CHECK(x.align == 2 * MiB || x.align == GiB);
		CHECK_EQ_U64((in.phys_base + x.offset) % x.align, 0);
		CHECK_EQ_U64(x.size % x.align, 0);
		CHECK(x.label_size < x.size && x.label_size % 4096 == 0);
		CHECK_EQ_U64(x.first_mfn, (in.phys_base + x.offset) >> 12);
		CHECK_EQ_U64(x.nr_frames, x.size >> 12);
		CHECK_EQ_U64(x.phys_known, in.phys_known);
		CHECK(!x.violation);
		CHECK(x.state == XP_EXTENT_DATA || x.state == XP_EXTENT_LENT_RAM);
		CHECK_EQ_U64(x.assigned, !xp_uuid_is_nil(x.owner));
		CHECK(!x.assigned || x.state == XP_EXTENT_DATA);
		CHECK_RC(xp_ns_extent_find(ns, x.name, &y), 0);
		CHECK(!memcmp(&x, &y, sizeof(x)));
		used += x.size;
		cursor = x.offset + x.size;
	}
	CHECK_EQ_U64(gi, ng);
	CHECK_RC(xp_ns_extent_get(ns, n, &x), -ERANGE);
	CHECK_RC(xp_ns_gap_get(ns, ng, &g), -ERANGE);
	CHECK_EQ_U64(in.free_bytes, free_);
	CHECK_EQ_U64(in.used_bytes, used);
	CHECK_EQ_U64(in.used_bytes + in.free_bytes, in.data_size);
	CHECK_EQ_U64(in.largest_free, largest);
}

/* ---- snapshots: "unchanged" and "exactly one record copy" ------------------ */

struct snap {
	uint8_t *head;		/* [0, data_offset) */
	uint64_t hlen;
	uint8_t tail[4096];	/* backup superblock block */
};

static void snap_take(struct env *e, struct snap *s)
{
	s->hlen = e->D;
	s->head = malloc(s->hlen);
	if (!s->head)
		exit(2);
	memcpy(s->head, e->img, s->hlen);
	memcpy(s->tail, e->img + e->size - 4096, 4096);
	tm_reset(e->m);
}

static void snap_free(struct snap *s)
{
	free(s->head);
	s->head = NULL;
}

/* Nothing was written at all, and the metadata bytes are as they were. */
static void expect_unchanged(struct env *e, struct snap *s)
{
	CHECK_EQ_U64(tm_writes(e->m), 0);
	CHECK(!memcmp(s->head, e->img, s->hlen));
	CHECK(!memcmp(s->tail, e->img + e->size - 4096, 4096));
	snap_free(s);
}

/*
 * The mutation wrote one 128-byte store over copy @copy of @slot (the one
 * that was not current), and no other byte of the metadata changed. The
 * new copy decodes with seq @seq (what xp_slot_next_copy chose before the
 * mutation), and every one of its words carries the tag of that seq,
 * which no word of the copy it replaced carried.
 */
static void expect_one_record(struct env *e, struct snap *s, uint32_t slot,
			      int copy, uint64_t seq, const uint32_t *old_mask)
{
	uint64_t lo = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
	uint64_t first = UINT64_MAX, last = 0;

	CHECK_MSG(copy == 0 || copy == 1,
		  "slot %u had no current copy before the mutation", slot);
	CHECK(seq >= 2);
	CHECK_EQ_U64(tm_writes(e->m), 1);
	if (tm_writes(e->m) == 1) {
		CHECK_EQ_U64(tm_write_at(e->m, 0)->off, lo);
		CHECK_EQ_U64(tm_write_at(e->m, 0)->len, XP_REC_SIZE);
		CHECK(!tm_write_at(e->m, 0)->zero);
	}
	for (uint64_t i = 0; i < s->hlen; i++) {
		if (s->head[i] != e->img[i]) {
			if (first == UINT64_MAX)
				first = i;
			last = i;
		}
	}
	CHECK(first != UINT64_MAX);
	CHECK_MSG(first >= lo && last < lo + XP_REC_SIZE,
		  "changed bytes [%#" PRIx64 ", %#" PRIx64 "] outside copy at %#" PRIx64,
		  first, last, lo);
	CHECK(!memcmp(s->tail, e->img + e->size - 4096, 4096));
	CHECK_EQ_U64(e->ns->slots[slot].active, copy);
	CHECK_EQ_U64(e->ns->slots[slot].rec.seq, seq);
	{
		struct xp_rec r;
		const char *f;
		uint8_t t = xp_rec_tag(seq);

		CHECK_ST(xp_rec_decode(&e->ns->sb, slot, e->img + lo, &r, &f),
			 XP_OK);
		CHECK_EQ_U64(r.seq, seq);
		for (unsigned w = 0; w < XP_REC_WORDS; w++)
			CHECK_EQ_U64(e->img[lo + w * 8 + 7], t);
		CHECK_MSG(!(old_mask[t / 32] & (1u << (t % 32))),
			  "tag %#x was carried by the replaced copy", t);
	}
	snap_free(s);
}

/* ---- init and layouts ------------------------------------------------------ */

/* Naturally aligned groups of @g bytes that [a, b) touches. */
static uint64_t groups_of(uint64_t a, uint64_t b, uint64_t g)
{
	return b <= a ? 0 : (b - 1) / g - a / g + 1;
}

struct chunks {
	uint64_t ft, m2p, compat;
};

/* The chunk arithmetic of the brief, written out independently. */
static void chunks_for(uint64_t pa, uint64_t pb, bool compat, struct chunks *c)
{
	c->ft = groups_of(pa, pb, 256 * MiB);	/* 2M / 32 B * 4K */
	c->m2p = groups_of(pa, pb, GiB);	/* 2M / 8 B * 4K */
	c->compat = 0;
	if (compat && pa < (1ull << 40))
		c->compat = groups_of(pa, pb < (1ull << 40) ? pb : 1ull << 40,
				      2 * GiB);	/* 2M / 4 B * 4K */
}

static void t_init_layouts(void)
{
	static const struct {
		uint64_t size, align;
		enum xp_mgmt_mode mgmt;
		bool no_compat;
		int pk;
		uint64_t phys;
		uint32_t slots;
	} cf[] = {
		{64 * MiB, 2 * MiB, NONE, false, 0, 0, 0},
		{64 * MiB, 2 * MiB, XEN, false, 0, 0, 0},
		{64 * MiB, 2 * MiB, XEN, true, 0, 0, 8},
		{64 * MiB, 2 * MiB, XEN, false, 1, 0x40001000ull, 4},
		{64 * MiB, 2 * MiB, NONE, false, 1, 0x7ffff000ull, 1},
		/* Straddles 256 MiB and 1 GiB groups: two FT/M2P chunks. */
		{64 * MiB, 2 * MiB, XEN, false, 1, GiB - 32 * MiB, 0},
		/* Across 1 TiB: the compat M2P covers only what is below. */
		{4 * GiB, 2 * MiB, XEN, false, 1, (1ull << 40) - GiB, 0},
		/* Above 1 TiB: no compat M2P chunk at all. */
		{64 * MiB, 2 * MiB, XEN, false, 1, 2ull << 40, 0},
		{256 * MiB, 2 * MiB, XEN, false, 1, 0x7ffff000ull, 65536},
		{3 * GiB, 1 * GiB, NONE, false, 0, 0, 0},
		{4 * GiB, 1 * GiB, XEN, false, 0, 0, 0},
		{4 * GiB, 1 * GiB, XEN, true, 1, 0x3ff01000ull, 1},
	};

	for (size_t i = 0; i < sizeof(cf) / sizeof(cf[0]); i++) {
		struct xp_layout_params lp = {
			.ns_size = cf[i].size,
			.phys_base = cf[i].pk ? cf[i].phys : 0,
			.slot_count = cf[i].slots ? cf[i].slots : 1024,
			.align_shift = cf[i].align == 2 * MiB ? 21 : 30,
		};
		struct xp_init_opts o = {.max_extents = cf[i].slots,
					 .mgmt = cf[i].mgmt,
					 .no_compat_m2p = cf[i].no_compat,
					 .align = cf[i].align};
		uint64_t A = cf[i].align, P = lp.phys_base, tend;
		bool xen = cf[i].mgmt == XEN;
		struct xp_layout lay;
		const char *why;
		struct xp_sb a, b;
		const char *fa, *fb;
		struct chunks c;
		struct env e;
		struct xp_gap g;
		unsigned before = xt_case_failures;

		if (xen)
			xp_mgmt_geom_xen(&lp.geom, !cf[i].no_compat);
		memset(&e, 0, sizeof(e));
		e.size = cf[i].size;
		e.img = img_new(e.size);
		e.m = tm_new(e.img, e.size, cf[i].pk, cf[i].phys);
		CHECK_RC(xp_ns_init_media(e.m, &o, NULL), 0);
		if (xp_ns_open_media(e.m, XP_OPEN_WRITE, &e.ns)) {
			CHECK_MSG(0, "config %zu: open: %s", i, xp_last_error());
			goto next;
		}
		xp_ns_get_info(e.ns, &e.info);
		e.D = e.info.data_offset;
		e.E = e.D + e.info.data_size;
		CHECK_ST(xp_layout_solve(&lp, &lay, &why), XP_OK);
		CHECK_EQ_U64(e.info.major, 2);
		CHECK_EQ_U64(e.info.minor, 0);
		CHECK_EQ_U64(e.info.compat, cf[i].pk ? XP_SB_F_PHYS_KNOWN : 0);
		CHECK_EQ_U64(e.info.ro_compat, 0);
		CHECK_EQ_U64(e.info.incompat, 0);
		CHECK_EQ_U64(e.info.ns_size, cf[i].size);
		CHECK_EQ_U64(e.info.phys_known, cf[i].pk);
		CHECK_EQ_U64(e.info.phys_base, P);
		CHECK_EQ_U64(e.info.slot_count, lp.slot_count);
		CHECK_EQ_U64(e.info.table_offset, 8192);
		CHECK_EQ_U64(e.info.table_size, lp.slot_count * 256ull);
		CHECK_EQ_U64(e.info.mgmt_offset, lay.mgmt_offset);
		CHECK_EQ_U64(e.info.mgmt_size, lay.mgmt_size);
		CHECK_EQ_U64(e.info.data_offset, lay.data_offset);
		CHECK_EQ_U64(e.info.data_size, lay.data_size);
		CHECK_EQ_U64(e.info.align, A);
		CHECK_EQ_U64(e.info.mgmt, cf[i].mgmt);
		CHECK_EQ_U64(e.info.compat_m2p, xen && !cf[i].no_compat);
		/* The layout rules, independently of xp_layout_solve(). */
		tend = 8192 + e.info.table_size;
		CHECK_EQ_U64((P + e.D) % A, 0);
		CHECK_EQ_U64((P + e.E) % A, 0);
		CHECK(e.E <= e.size - 4096 && e.size - 4096 - e.E < A);
		chunks_for(P + e.D, P + e.E, xen && !cf[i].no_compat, &c);
		if (xen) {
			CHECK_EQ_U64((P + e.info.mgmt_offset) % (2 * MiB), 0);
			CHECK(e.info.mgmt_offset >= tend &&
			      e.info.mgmt_offset < tend + 2 * MiB);
			CHECK_EQ_U64(e.info.ft_chunks, c.ft);
			CHECK_EQ_U64(e.info.m2p_chunks, c.m2p);
			CHECK_EQ_U64(e.info.compat_chunks, c.compat);
		} else {
			CHECK_EQ_U64(e.info.mgmt_offset, (tend + 4095) & ~4095ull);
			CHECK_EQ_U64(e.info.ft_chunks + e.info.m2p_chunks +
					     e.info.compat_chunks, 0);
		}
		CHECK_EQ_U64(e.info.ft_offset, e.info.mgmt_offset);
		CHECK_EQ_U64(e.info.m2p_offset,
			     e.info.ft_offset + e.info.ft_chunks * 2 * MiB);
		CHECK_EQ_U64(e.info.compat_offset,
			     e.info.m2p_offset + e.info.m2p_chunks * 2 * MiB);
		CHECK_EQ_U64(e.info.mgmt_size,
			     (uint64_t)(e.info.ft_chunks + e.info.m2p_chunks +
					e.info.compat_chunks) * 2 * MiB);
		CHECK(e.info.mgmt_offset + e.info.mgmt_size <= e.D);
		/* The smallest such data offset: one alignment unit lower, the
		 * management area (for the frames behind it) does not fit. */
		if (e.D >= A && e.D - A >= e.info.mgmt_offset) {
			struct chunks c2;

			chunks_for(P + e.D - A, P + e.E, xen && !cf[i].no_compat,
				   &c2);
			CHECK(e.info.mgmt_offset +
				      (c2.ft + c2.m2p + c2.compat) * 2 * MiB >
			      e.D - A);
		}
		CHECK(e.info.primary_ok && e.info.backup_ok);
		CHECK_EQ_U64(e.info.generation, 1);
		CHECK_EQ_U64(e.info.extent_count, 0);
		CHECK_EQ_U64(e.info.free_bytes, e.info.data_size);
		CHECK_EQ_U64(e.info.largest_free, e.info.data_size);
		CHECK_EQ_U64(xp_ns_gap_count(e.ns), 1);
		CHECK_RC(xp_ns_gap_get(e.ns, 0, &g), 0);
		CHECK_EQ_U64(g.offset, e.D);
		CHECK_EQ_U64(g.size, e.info.data_size);
		/* Both superblocks decode, same content, backup flag apart
		 * (zeroed first: memcmp sees the struct's padding too). */
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		CHECK_ST(xp_sb_decode(e.img, 4096, e.size, false, &a, &fa), XP_OK);
		CHECK_ST(xp_sb_decode(e.img + e.size - 4096, 4096, e.size, true,
				      &b, &fb), XP_OK);
		CHECK_EQ_U64(a.compat | XP_SB_F_BACKUP, b.compat);
		a.compat = b.compat;
		CHECK(!memcmp(&a, &b, sizeof(a)));
		CHECK(xp_sb_same_but_generation(e.img, e.img + e.size - 4096));
		/* Zero area is zero. */
		for (uint64_t k = 4096; k < 8192; k++)
			if (e.img[k]) {
				CHECK_MSG(0, "byte %#" PRIx64 " non-zero", k);
				break;
			}
		/*
		 * Every slot holds a free record with seq 1 in copy 0 (payload
		 * bytes 12..103 zero, every word tagged 1) and a blank copy 1,
		 * and decodes as a free slot whose current copy is 0.
		 */
		for (uint32_t sl = 0; sl < e.info.slot_count; sl++) {
			const uint8_t *c0 = e.img + xp_slot_offset(sl);
			const uint8_t *c1 = c0 + XP_REC_SIZE;
			uint8_t pl[XP_REC_PAYLOAD];
			struct xp_rec r;
			struct xp_slot st;
			const char *f;
			int bad = 0;

			xp_rec_gather(c0, pl);
			bad |= le_get(pl + PL_SEQ, 8) != 1 ||
			       le_get(pl + PL_MAGIC, 4) != 0x58455058u;
			for (unsigned k = PL_TYPE; k < PL_CHECKSUM; k++)
				bad |= pl[k] != 0;
			for (unsigned w = 0; w < XP_REC_WORDS; w++)
				bad |= c0[w * 8 + 7] != 1;
			for (unsigned k = 0; k < XP_REC_SIZE; k++)
				bad |= c1[k] != 0;
			bad |= xp_rec_decode(&a, sl, c0, &r, &f) != XP_OK ||
			       r.seq != 1 || xp_rec_used(&r);
			xp_slot_decode(&a, sl, c0, &st);
			bad |= st.state != XP_SLOT_FREE || st.active != 0 ||
			       st.rec.seq != 1 ||
			       st.copy_status[0] != XP_OK ||
			       st.copy_status[1] != XP_E_BLANK;
			if (bad) {
				CHECK_MSG(0, "slot %u is not a free record (seq 1) in copy 0 and a blank copy 1",
					  sl);
				break;
			}
		}
		/* The padding from the table's end to mgmt_offset is zero. */
		for (uint64_t k = tend; k < e.info.mgmt_offset; k++)
			if (e.img[k]) {
				CHECK_MSG(0, "byte %#" PRIx64 " non-zero", k);
				break;
			}
		verify(&e);
		{
			struct findings fs;

			CHECK_RC(run_check(e.m, 0, &fs), 0);
			CHECK_EQ_U64(fs.n, 0);
		}
	next:
		if (xt_case_failures != before)
			fprintf(stderr, "  (config %zu: %" PRIu64 " MiB, align %" PRIu64
				" MiB, mgmt %s, phys %#" PRIx64 ")\n",
				i, cf[i].size >> 20, cf[i].align >> 20,
				xen ? "xen" : "none", P);
		env_done(&e);
	}
}

/* init writes only inside [0, mgmt_offset) and the last 4 KiB. */
static void t_init_writes_only_metadata(void)
{
	uint64_t size = 64 * MiB;
	uint8_t *img = img_new(size);
	struct xp_media *m = tm_new(img, size, 0, 0);
	struct xp_init_opts o = {.align = 2 * MiB};
	struct xp_ns *ns;
	struct xp_info in;

	CHECK_RC(xp_ns_init_media(m, &o, NULL), 0);
	CHECK(tm_writes(m) > 0 && tm_writes(m) <= 64);
	CHECK_RC(xp_ns_open_media(m, 0, &ns), 0);
	if (!ns)
		goto out;
	xp_ns_get_info(ns, &in);
	CHECK_EQ_U64(in.mgmt, XP_MGMT_XEN);	/* the default */
	CHECK(in.compat_m2p);
	for (unsigned i = 0; i < tm_writes(m) && i < 64; i++) {
		const struct tm_write *w = tm_write_at(m, i);

		CHECK_MSG(w->off + w->len <= in.mgmt_offset ||
				  (w->off >= size - 4096 && w->off + w->len <= size),
			  "init wrote [%#" PRIx64 ", +%#" PRIx64 ")", w->off, w->len);
	}
	/* The backup superblock is written (and persisted) before the primary. */
	{
		int bi = -1, pi = -1;

		for (unsigned i = 0; i < tm_writes(m) && i < 64; i++) {
			if (tm_write_at(m, i)->off == size - 4096)
				bi = (int)i;
			if (tm_write_at(m, i)->off == 0)
				pi = (int)i;
		}
		CHECK(bi >= 0 && pi > bi);
	}
	xp_ns_close(ns);
out:
	xp_media_close(m);
	img_free(img, size);
}

static void t_init_refuses_existing(void)
{
	struct env e;
	struct xp_init_opts o = {.mgmt = NONE, .align = 2 * MiB};
	char *ov = NULL;
	struct xp_info before;
	struct snap s;

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	before = e.info;
	snap_take(&e, &s);
	CHECK_RC(xp_ns_init_media(e.m, &o, NULL), -EEXIST);
	CHECK_CONTAINS(xp_last_error(), "--force");
	expect_unchanged(&e, &s);
	o.force = true;
	CHECK_RC(xp_ns_init_media(e.m, &o, &ov), 0);
	CHECK_CONTAINS(ov ? ov : "", "xenpmem metadata");
	free(ov);
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_EQ_U64(xp_ns_extent_count(e.ns), 0);
	CHECK(memcmp(before.uuid, e.info.uuid, 16) != 0);
	verify(&e);
out:
	env_done(&e);
}

/* Set the generation of one superblock copy (valid checksum kept). */
static void sb_set_generation(uint8_t *blk, uint64_t gen)
{
	le_put(blk + 56, 8, gen);
	le_put(blk + 504, 8, xp_sb_checksum(blk, XP_SB_SIZE));
}

/*
 * init over old xenpmem metadata: the new generation is the old maximum
 * (of both copies, of any version) plus one, so a generation never goes
 * back on a namespace.
 */
static void t_init_generation(void)
{
	struct xp_init_opts o = {.mgmt = NONE, .align = 2 * MiB, .force = true};
	char *ov = NULL;
	struct env e;
	uint8_t *prim, *back;

	if (env_small(&e, 8))
		goto out;
	prim = e.img;
	back = e.img + e.size - 4096;
	CHECK_EQ_U64(e.info.generation, 1);
	/* Both copies at 41. */
	sb_set_generation(prim, 41);
	sb_set_generation(back, 41);
	CHECK_RC(xp_ns_init_media(e.m, &o, NULL), 0);
	env_reopen(&e, 0);
	CHECK_EQ_U64(e.info.generation, 42);
	CHECK_EQ_U64(le_get(prim + 56, 8), 42);
	CHECK_EQ_U64(le_get(back + 56, 8), 42);
	/* The backup higher than the primary (an interrupted repair). */
	sb_set_generation(prim, 50);
	sb_set_generation(back, 77);
	CHECK_RC(xp_ns_init_media(e.m, &o, NULL), 0);
	env_reopen(&e, 0);
	CHECK_EQ_U64(e.info.generation, 78);
	/* Only a primary left, its checksum broken: still counted. */
	prim[504] ^= 0xff;
	le_put(prim + 56, 8, 90);
	memset(back, 0, 4096);
	CHECK_RC(xp_ns_init_media(e.m, &o, NULL), 0);
	env_reopen(&e, 0);
	CHECK_EQ_U64(e.info.generation, 91);
	/* A 1.x superblock kept its generation at byte 48. */
	memset(prim, 0, 4096);
	memset(back, 0, 4096);
	memcpy(prim, XP_SB_SIGNATURE, 16);
	le_put(prim + 16, 2, 1);
	le_put(prim + 48, 8, 9);
	CHECK_RC(xp_ns_init_media(e.m, &o, &ov), 0);
	CHECK_CONTAINS(ov ? ov : "", "xenpmem metadata");
	free(ov);
	env_reopen(&e, 0);
	CHECK_EQ_U64(e.info.generation, 10);
	/* No superblock of ours left (the table is, so --force): 1. */
	memset(prim, 0, 4096);
	memset(back, 0, 4096);
	CHECK_RC(xp_ns_init_media(e.m, &o, &ov), 0);
	CHECK_CONTAINS(ov ? ov : "", "unrecognised data");
	free(ov);
	env_reopen(&e, 0);
	CHECK_EQ_U64(e.info.generation, 1);
	if (e.ns)
		verify(&e);
out:
	env_done(&e);
}

/* Bad init parameters are EINVAL and write nothing; too small is ENOSPC. */
static void t_init_bad_params(void)
{
	uint64_t size = 64 * MiB;
	uint8_t *img = img_new(size);
	struct xp_media *m = tm_new(img, size, 0, 0);
	struct xp_init_opts o = {.mgmt = NONE};

	/* 4 KiB alignment is gone in 2.0, and nothing else but 2M/1G. */
	o.align = 4 * KiB;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	o.align = 8192;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	o.align = 4 * MiB;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	o.align = 2 * MiB;
	o.max_extents = XP_MAX_SLOTS + 1;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	o.max_extents = 0;
	o.mgmt = (enum xp_mgmt_mode)7;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	o.mgmt = NONE;
	CHECK_EQ_U64(tm_writes(m), 0);
	/* The default alignment is 1 GiB: 64 MiB has no room for it. */
	o.align = 0;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -ENOSPC);
	CHECK_CONTAINS(xp_last_error(), "too small");
	o.align = 2 * MiB;
	/* Too small for any data area behind the table. */
	m->size = 2 * MiB;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -ENOSPC);
	/* With the Xen management area (at least 3 chunks), 8 MiB is not
	 * enough either. */
	m->size = 8 * MiB;
	o.mgmt = XEN;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -ENOSPC);
	o.mgmt = NONE;
	m->size = size;
	CHECK_EQ_U64(tm_writes(m), 0);
	/* phys_base not 4 KiB aligned: a parameter error, not "no room". */
	m->phys_known = 1;
	m->phys_base = 0x1800;
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EINVAL);
	CHECK_EQ_U64(tm_writes(m), 0);
	xp_media_close(m);
	img_free(img, size);
}

/* ---- placement ------------------------------------------------------------- */

static void t_first_fit(void)
{
	struct env e;
	uint64_t D;

	if (env_small(&e, 0))
		goto out;
	D = e.D;
	CHECK_RC(mk(&e, "a", 4 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "c", 8 * MiB, 0, NULL), 0);
	CHECK_EQ_U64(off_of(&e, "a"), D);
	CHECK_EQ_U64(off_of(&e, "b"), D + 4 * MiB);
	CHECK_EQ_U64(off_of(&e, "c"), D + 6 * MiB);
	verify(&e);
	CHECK_RC(xp_extent_destroy(e.ns, "b", 0), 0);
	CHECK_EQ_U64(xp_ns_gap_count(e.ns), 2);
	verify(&e);
	/* 4M does not fit the 2M hole: goes behind c. */
	CHECK_RC(mk(&e, "d", 4 * MiB, 0, NULL), 0);
	CHECK_EQ_U64(off_of(&e, "d"), D + 14 * MiB);
	/* 2M takes the hole: lowest free offset first. */
	CHECK_RC(mk(&e, "e", 2 * MiB, 2 * MiB, NULL), 0);
	CHECK_EQ_U64(off_of(&e, "e"), D + 4 * MiB);
	/* 1 GiB alignment cannot be had in 64 MiB. */
	CHECK_RC(mk(&e, "g", 2 * MiB, GiB, NULL), -EINVAL);
	CHECK_RC(mk(&e, "g", GiB, GiB, NULL), -ENOSPC);
	verify(&e);
	/* Fill the rest exactly; then nothing fits. */
	{
		struct xp_info in;

		CHECK_RC(mk(&e, "rest", e.E - (D + 18 * MiB), 0, NULL), 0);
		CHECK_EQ_U64(off_of(&e, "rest"), D + 18 * MiB);
		xp_ns_get_info(e.ns, &in);
		CHECK_EQ_U64(in.free_bytes, 0);
		CHECK_EQ_U64(in.largest_free, 0);
		CHECK_EQ_U64(xp_ns_gap_count(e.ns), 0);
		CHECK_RC(mk(&e, "l", 2 * MiB, 0, NULL), -ENOSPC);
		CHECK_CONTAINS(xp_last_error(), "no free range");
	}
	verify(&e);
out:
	env_done(&e);
}

/* phys_base known, 4 KiB but not 2 MiB aligned: alignment is physical. */
static void t_phys_alignment(void)
{
	const uint64_t P = 0x40001000ull;
	struct env e;
	struct xp_extent x;

	if (env_setup(&e, 64 * MiB, 2 * MiB, 0, XEN, 1, P))
		goto out;
	CHECK(e.info.phys_known);
	CHECK_EQ_U64(e.info.phys_base, P);
	CHECK_EQ_U64((P + e.D) % (2 * MiB), 0);
	CHECK_EQ_U64((P + e.info.mgmt_offset) % (2 * MiB), 0);
	CHECK(e.D % (2 * MiB) != 0);
	CHECK_RC(mk(&e, "x", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.offset, e.D);
	CHECK_RC(mk(&e, "y", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.offset, e.D + 2 * MiB);
	CHECK_EQ_U64((P + x.offset) % (2 * MiB), 0);
	CHECK_EQ_U64(x.first_mfn, (P + x.offset) >> 12);
	CHECK_EQ_U64(x.nr_frames, 512);
	CHECK(x.phys_known);
	verify(&e);
	env_done(&e);

	/* 2 GiB, 2M data alignment: a 1 GiB extent only fits at phys 2 GiB,
	 * and then ends exactly at the end of the data area. */
	if (env_setup(&e, 2 * GiB, 2 * MiB, 0, NONE, 1, P))
		goto out;
	CHECK_RC(mk(&e, "small", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.offset, e.D);
	CHECK_EQ_U64(x.align, 2 * MiB);
	CHECK_RC(mk(&e, "huge", 1 * GiB, 1 * GiB, &x), 0);
	CHECK_EQ_U64(P + x.offset, 2 * GiB);
	CHECK_EQ_U64(x.offset + x.size, e.E);
	CHECK_EQ_U64(x.align, 1 * GiB);
	CHECK_RC(mk(&e, "huge2", 1 * GiB, 1 * GiB, NULL), -ENOSPC);
	CHECK_RC(mk(&e, "mid", 2 * MiB, 2 * MiB, &x), 0);
	CHECK_EQ_U64((P + x.offset) % (2 * MiB), 0);
	CHECK_EQ_U64(x.offset, e.D + 2 * MiB);
	verify(&e);
	env_done(&e);

	/* 1 GiB data alignment: the data area is [1 GiB, 4 GiB) physically. */
	if (env_setup(&e, 4 * GiB, 1 * GiB, 0, NONE, 1, 0x3ff01000ull))
		goto out;
	CHECK_EQ_U64(0x3ff01000ull + e.D, GiB);
	CHECK_EQ_U64(e.info.data_size, 3 * GiB);
	CHECK_RC(mk(&e, "g1", 2 * MiB, 0, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "multiple of its alignment");
	CHECK_RC(mk(&e, "g1", 1 * GiB, 0, &x), 0);
	CHECK_EQ_U64(x.offset, e.D);
	CHECK_RC(mk(&e, "m1", 2 * MiB, 2 * MiB, &x), 0);
	CHECK_EQ_U64(x.offset, e.D + GiB);
	CHECK_RC(mk(&e, "g2", 1 * GiB, 0, &x), 0);
	CHECK_EQ_U64(x.offset, e.D + 2 * GiB);
	CHECK_RC(mk(&e, "g3", 1 * GiB, 0, NULL), -ENOSPC);
	verify(&e);
out:
	env_done(&e);
}

/* ---- refusals -------------------------------------------------------------- */

static void create_refused(struct env *e, const struct xp_create_opts *o,
			   int want)
{
	struct snap s;
	struct xp_extent x;

	snap_take(e, &s);
	CHECK_RC(xp_extent_create(e->ns, o, &x), want);
	CHECK(xp_last_error()[0] != 0);
	expect_unchanged(e, &s);
}

static void t_create_rejects(void)
{
	struct env e;
	char n31[32], n32[33];
	struct xp_create_opts o = {.name = "x", .size = 2 * MiB};
	struct xp_extent x;

	if (env_small(&e, 0))
		goto out;
	memset(n31, 'n', 31);
	n31[31] = 0;
	memset(n32, 'n', 32);
	n32[32] = 0;
#define REJ(field, val, want)                           \
	do {                                           \
		struct xp_create_opts c_ = o;          \
		c_.field = val;                        \
		create_refused(&e, &c_, want);         \
	} while (0)
	REJ(size, 0, -EINVAL);
	REJ(size, 3 * MiB, -EINVAL);
	REJ(size, 2 * MiB + 4 * KiB, -EINVAL);
	REJ(size, 4 * KiB, -EINVAL);
	REJ(size, UINT64_MAX, -EINVAL);
	REJ(size, e.info.data_size + 2 * MiB, -ENOSPC);
	REJ(size, UINT64_MAX - 2 * MiB + 1, -ENOSPC);
	REJ(align, 4 * KiB, -EINVAL);
	REJ(align, 8 * KiB, -EINVAL);
	REJ(align, 3, -EINVAL);
	REJ(align, 4 * MiB, -EINVAL);
	REJ(align, 1ull << 63, -EINVAL);
	REJ(label_size, 1, -EINVAL);
	REJ(label_size, 2 * MiB, -EINVAL);
	REJ(label_size, 4 * MiB, -EINVAL);
	REJ(name, "", -EINVAL);
	REJ(name, "-a", -EINVAL);
	REJ(name, "a b", -EINVAL);
	REJ(name, "a/b", -EINVAL);
	REJ(name, "@1", -EINVAL);	/* slot selectors are not names */
	REJ(name, ".", -EINVAL);
	REJ(name, "..", -EINVAL);
	REJ(name, "\xc3\xa4", -EINVAL);
	REJ(name, n32, -EINVAL);
	REJ(name, NULL, -EINVAL);
	{
		struct xp_create_opts c = o;

		c.align = GiB;
		c.size = 2 * MiB;
		create_refused(&e, &c, -EINVAL);
		c.size = GiB;
		create_refused(&e, &c, -ENOSPC);
	}
#undef REJ
	/* The boundaries that are allowed. */
	o.name = n31;
	o.label_size = 2 * MiB - 4096;
	memcpy(o.owner, uuid_n(1), 16);
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	CHECK_EQ_U64(x.label_size, 2 * MiB - 4096);
	CHECK(x.assigned);
	CHECK(!memcmp(x.owner, uuid_n(1), 16));
	CHECK_EQ_U64(x.state, XP_EXTENT_DATA);
	CHECK_EQ_U64(strlen(x.name), 31);
	CHECK(!xp_uuid_is_nil(x.uuid));
	o.name = "a-._+:Z9";
	o.label_size = 0;
	memset(o.owner, 0, 16);
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	CHECK_STR(x.name, "a-._+:Z9");
	CHECK(!x.assigned);
	/* created may be NULL. */
	o.name = "nul";
	CHECK_RC(xp_extent_create(e.ns, &o, NULL), 0);
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_RC(xp_ns_extent_find(e.ns, n31, &x), 0);
	CHECK_EQ_U64(x.label_size, 2 * MiB - 4096);
	CHECK(!memcmp(x.owner, uuid_n(1), 16));
	verify(&e);
out:
	env_done(&e);
}

static void t_enospc_unchanged(void)
{
	struct env e;
	uint8_t *copy;
	struct xp_info in;

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "big", e.info.largest_free, 0, NULL), 0);
	copy = malloc(e.size);
	if (!copy)
		exit(2);
	memcpy(copy, e.img, e.size);
	tm_reset(e.m);
	CHECK_RC(mk(&e, "x", 2 * MiB, 0, NULL), -ENOSPC);
	CHECK_CONTAINS(xp_last_error(), "no free range");
	CHECK_EQ_U64(tm_writes(e.m), 0);
	CHECK(!memcmp(copy, e.img, e.size));
	free(copy);
	/* Fragmented: 4M free in total, in two 2M holes: 4M does not fit. */
	CHECK_RC(xp_extent_resize(e.ns, "big", e.info.data_size - 8 * MiB,
				  XP_FORCE | XP_NO_ZERO, NULL, NULL), 0);
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "c", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "d", 2 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "a", 0), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "c", 0), 0);
	xp_ns_get_info(e.ns, &in);
	CHECK_EQ_U64(in.free_bytes, 4 * MiB);
	CHECK_EQ_U64(in.largest_free, 2 * MiB);
	{
		struct snap s;

		snap_take(&e, &s);
		CHECK_RC(mk(&e, "x", 4 * MiB, 0, NULL), -ENOSPC);
		expect_unchanged(&e, &s);
	}
	verify(&e);
out:
	env_done(&e);
}

static void t_eexist_enoent(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x;

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	snap_take(&e, &s);
	CHECK_RC(mk(&e, "a", 4 * MiB, 0, NULL), -EEXIST);
	CHECK_CONTAINS(xp_last_error(), "'a'");
	CHECK_RC(xp_extent_destroy(e.ns, "nope", 0), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "nope");
	CHECK_RC(xp_extent_destroy(e.ns, "nope", XP_FORCE), -ENOENT);
	CHECK_RC(xp_extent_resize(e.ns, "nope", 2 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -ENOENT);
	CHECK_RC(xp_extent_rename(e.ns, "nope", "c", 0), -ENOENT);
	CHECK_RC(xp_extent_assign(e.ns, "nope", uuid_n(1)), -ENOENT);
	CHECK_RC(xp_extent_set_state(e.ns, "nope", XP_EXTENT_LENT_RAM), -ENOENT);
	CHECK_RC(xp_extent_wipe(e.ns, "nope", XP_FORCE, NULL, NULL), -ENOENT);
	CHECK_RC(xp_ns_extent_find(e.ns, "nope", &x), -ENOENT);
	/* Prefixes and case are different names. */
	CHECK_RC(xp_ns_extent_find(e.ns, "A", &x), -ENOENT);
	CHECK_RC(xp_ns_extent_find(e.ns, "", &x), -ENOENT);
	CHECK_RC(xp_extent_rename(e.ns, "a", "b", 0), -EEXIST);
	CHECK_RC(xp_extent_rename(e.ns, "a", "b", XP_FORCE), -EEXIST);
	CHECK_RC(xp_extent_rename(e.ns, "a", "-b", 0), -EINVAL);
	CHECK_RC(xp_extent_rename(e.ns, "a", "", 0), -EINVAL);
	CHECK_RC(xp_extent_rename(e.ns, "a", NULL, 0), -EINVAL);
	CHECK_RC(xp_extent_rename(e.ns, "a", "@1", 0), -EINVAL);
	expect_unchanged(&e, &s);
	verify(&e);
out:
	env_done(&e);
}

/* "@N" names the extent in slot N wherever an extent is named. */
static void t_slot_selector(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x;
	uint32_t slot;

	CHECK(xp_extent_slot_selector("@0", &slot) && slot == 0);
	CHECK(xp_extent_slot_selector("@65535", &slot) && slot == 65535);
	CHECK(!xp_extent_slot_selector("@65536", &slot));
	CHECK(!xp_extent_slot_selector("@", &slot));
	CHECK(!xp_extent_slot_selector("@-1", &slot));
	CHECK(!xp_extent_slot_selector("@1x", &slot));
	CHECK(!xp_extent_slot_selector("@ 1", &slot));
	CHECK(!xp_extent_slot_selector("1", &slot));
	CHECK(!xp_extent_slot_selector("@99999999999999999999", &slot));
	CHECK(!xp_extent_slot_selector(NULL, &slot));
	if (env_small(&e, 8))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "@1", &x), 0);
	CHECK_STR(x.name, "b");
	CHECK_EQ_U64(x.slot, 1);
	snap_take(&e, &s);
	CHECK_RC(xp_ns_extent_find(e.ns, "@2", &x), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "slot 2");
	CHECK_RC(xp_ns_extent_find(e.ns, "@8", &x), -ENOENT);
	CHECK_RC(xp_ns_extent_find(e.ns, "@0007", &x), -ENOENT);
	CHECK_RC(xp_extent_destroy(e.ns, "@5", 0), -ENOENT);
	expect_unchanged(&e, &s);
	CHECK_RC(xp_extent_rename(e.ns, "@0", "a2", 0), 0);
	CHECK_RC(xp_extent_assign(e.ns, "@0", uuid_n(2)), 0);
	CHECK_RC(xp_extent_resize(e.ns, "@1", 4 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "a2", &x), 0);
	CHECK_EQ_U64(x.slot, 0);
	CHECK(!memcmp(x.owner, uuid_n(2), 16));
	CHECK_EQ_U64(size_of(&e, "b"), 4 * MiB);
	CHECK_RC(xp_extent_destroy(e.ns, "@0", 0), -EBUSY);
	CHECK_RC(xp_extent_destroy(e.ns, "@0", XP_FORCE), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "@1", 0), 0);
	CHECK_EQ_U64(xp_ns_extent_count(e.ns), 0);
	verify(&e);
out:
	env_done(&e);
}

static void t_readonly(void)
{
	struct env e;
	struct snap s;
	struct xp_create_opts o = {.name = "x", .size = 2 * MiB};

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	env_reopen(&e, 0);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_create(e.ns, &o, NULL), -EBADF);
	CHECK_RC(xp_extent_destroy(e.ns, "a", XP_FORCE), -EBADF);
	CHECK_RC(xp_extent_resize(e.ns, "a", 4 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -EBADF);
	CHECK_RC(xp_extent_rename(e.ns, "a", "b", 0), -EBADF);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(1)), -EBADF);
	CHECK_RC(xp_extent_set_state(e.ns, "a", XP_EXTENT_LENT_RAM), -EBADF);
	CHECK_RC(xp_extent_wipe(e.ns, "a", XP_FORCE, NULL, NULL), -EBADF);
	CHECK_CONTAINS(xp_last_error(), "read-only");
	expect_unchanged(&e, &s);
out:
	env_done(&e);
}

static void t_destroy_assigned(void)
{
	struct env e;
	struct snap s;
	char u[XP_UUID_STR_LEN];

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(3)), 0);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_destroy(e.ns, "a", 0), -EBUSY);
	xp_uuid_format(uuid_n(3), u);
	CHECK_CONTAINS(xp_last_error(), u);
	expect_unchanged(&e, &s);
	CHECK_RC(xp_extent_destroy(e.ns, "a", XP_FORCE), 0);
	CHECK_EQ_U64(xp_ns_extent_count(e.ns), 0);
	/* Unassigned (NULL or the nil UUID): no force needed. */
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_assign(e.ns, "b", uuid_n(9)), 0);
	CHECK_RC(xp_extent_assign(e.ns, "b", NULL), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "b", 0), 0);
	CHECK_RC(mk(&e, "c", 2 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_assign(e.ns, "c", uuid_n(9)), 0);
	CHECK_RC(xp_extent_assign(e.ns, "c", uuid_nil), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "c", 0), 0);
	env_reopen(&e, 0);
	CHECK_EQ_U64(xp_ns_extent_count(e.ns), 0);
	CHECK_EQ_U64(e.info.free_bytes, e.info.data_size);
	verify(&e);
out:
	env_done(&e);
}

static void t_resize(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x0, x1;
	uint64_t D;

	if (env_small(&e, 0))
		goto out;
	D = e.D;
	CHECK_RC(mk(&e, "a", 4 * MiB, 0, NULL), 0);	/* D */
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);	/* D+4M */
	CHECK_RC(mk(&e, "tmp", 4 * MiB, 0, NULL), 0);	/* D+6M */
	CHECK_RC(mk(&e, "c", 2 * MiB, 0, NULL), 0);	/* D+10M */
	CHECK_RC(xp_extent_destroy(e.ns, "tmp", 0), 0);
	CHECK_EQ_U64(off_of(&e, "c"), D + 10 * MiB);
	CHECK_RC(xp_ns_extent_find(e.ns, "b", &x0), 0);

	/* a has b right behind it: no growth at all. */
	snap_take(&e, &s);
	CHECK_RC(xp_extent_resize(e.ns, "a", 6 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -ENOSPC);
	CHECK_CONTAINS(xp_last_error(), "in place");
	expect_unchanged(&e, &s);
	/* b grows into the free space behind it, exactly up to c... */
	CHECK_RC(xp_extent_resize(e.ns, "b", 6 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_EQ_U64(size_of(&e, "b"), 6 * MiB);
	CHECK_EQ_U64(off_of(&e, "b"), D + 4 * MiB);
	/* ...and not one unit further. */
	snap_take(&e, &s);
	CHECK_RC(xp_extent_resize(e.ns, "b", 8 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -ENOSPC);
	expect_unchanged(&e, &s);
	verify(&e);
	/* Shrinking always works and never moves. */
	CHECK_RC(xp_extent_resize(e.ns, "b", 2 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_RC(xp_extent_resize(e.ns, "a", 2 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_EQ_U64(off_of(&e, "a"), D);
	CHECK_EQ_U64(xp_ns_gap_count(e.ns), 3);
	verify(&e);
	CHECK_RC(xp_extent_resize(e.ns, "a", 4 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_RC(xp_extent_resize(e.ns, "a", 6 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -ENOSPC);
	/* Growth never moves into space in front. */
	CHECK_RC(xp_extent_destroy(e.ns, "a", 0), 0);
	CHECK_RC(xp_extent_resize(e.ns, "b", 8 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -ENOSPC);
	CHECK_RC(xp_extent_resize(e.ns, "b", 6 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_EQ_U64(off_of(&e, "b"), D + 4 * MiB);
	/* Identity is stable across resize. */
	CHECK_RC(xp_ns_extent_find(e.ns, "b", &x1), 0);
	CHECK(!memcmp(x0.uuid, x1.uuid, 16));
	CHECK_EQ_U64(x1.slot, x0.slot);
	/* The last extent grows to the end of the data area exactly. */
	CHECK_RC(xp_extent_resize(e.ns, "c", e.E - (D + 10 * MiB),
				  XP_FORCE | XP_NO_ZERO, NULL, NULL), 0);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_resize(e.ns, "c", e.E - (D + 10 * MiB) + 2 * MiB,
				  XP_FORCE | XP_NO_ZERO, NULL, NULL),
		 -ENOSPC);
	CHECK_RC(xp_extent_resize(e.ns, "c", e.info.data_size + 2 * MiB,
				  XP_FORCE | XP_NO_ZERO, NULL, NULL),
		 -ENOSPC);
	CHECK_RC(xp_extent_resize(e.ns, "c", UINT64_MAX - 2 * MiB + 1,
				  XP_FORCE | XP_NO_ZERO, NULL, NULL), -ENOSPC);
	CHECK_RC(xp_extent_resize(e.ns, "c", 3 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -EINVAL);
	CHECK_RC(xp_extent_resize(e.ns, "c", 4 * KiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -EINVAL);
	CHECK_RC(xp_extent_resize(e.ns, "c", 0, XP_FORCE | XP_NO_ZERO, NULL,
				  NULL), -EINVAL);
	/* The same size is a no-op that writes nothing. */
	CHECK_RC(xp_extent_resize(e.ns, "c", e.E - (D + 10 * MiB),
				  XP_FORCE | XP_NO_ZERO, NULL, NULL), 0);
	expect_unchanged(&e, &s);
	/* A label area must stay smaller than the extent. */
	CHECK_RC(xp_extent_resize(e.ns, "c", 4 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	{
		struct xp_create_opts o = {.name = "l", .size = 4 * MiB,
					   .label_size = 2 * MiB};

		CHECK_RC(xp_extent_create(e.ns, &o, NULL), 0);
		snap_take(&e, &s);
		CHECK_RC(xp_extent_resize(e.ns, "l", 2 * MiB,
					  XP_FORCE | XP_NO_ZERO, NULL, NULL), -EINVAL);
		expect_unchanged(&e, &s);
	}
	verify(&e);
	env_reopen(&e, 0);
	CHECK_EQ_U64(size_of(&e, "c"), 4 * MiB);
	CHECK_EQ_U64(size_of(&e, "b"), 6 * MiB);
	verify(&e);
out:
	env_done(&e);
}

static void t_rename(void)
{
	struct env e;
	struct snap s;
	struct xp_extent a0, a1;
	char n31[32];

	if (env_small(&e, 0))
		goto out;
	memset(n31, 'Q', 31);
	n31[31] = 0;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, &a0), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_rename(e.ns, "a", "b", 0), -EEXIST);
	CHECK_RC(xp_extent_rename(e.ns, "b", "a", 0), -EEXIST);
	CHECK_RC(xp_extent_rename(e.ns, "a", "a", 0), 0);	/* no-op */
	expect_unchanged(&e, &s);
	CHECK_RC(xp_extent_rename(e.ns, "a", n31, 0), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "a", &a1), -ENOENT);
	CHECK_RC(xp_ns_extent_find(e.ns, n31, &a1), 0);
	CHECK(!memcmp(a0.uuid, a1.uuid, 16));
	CHECK_EQ_U64(a1.offset, a0.offset);
	CHECK_EQ_U64(a1.size, a0.size);
	CHECK_EQ_U64(a1.slot, a0.slot);
	/* A long name shrinking to a short one leaves no stale bytes. */
	CHECK_RC(xp_extent_rename(e.ns, n31, "z", 0), 0);
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_RC(xp_ns_extent_find(e.ns, "z", &a1), 0);
	CHECK(!memcmp(a0.uuid, a1.uuid, 16));
	CHECK_STR(a1.name, "z");
	/* An assigned extent renames without force (nothing is lost). */
	CHECK_RC(xp_extent_assign(e.ns, "z", uuid_n(4)), 0);
	CHECK_RC(xp_extent_rename(e.ns, "z", "zz", 0), 0);
	/* The old name is free for a new extent. */
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	verify(&e);
out:
	env_done(&e);
}

static void t_assign(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x;

	if (env_small(&e, 0))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, &x), 0);
	CHECK(!x.assigned);
	CHECK(xp_uuid_is_nil(x.owner));
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(1)), 0);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(2)), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "a", &x), 0);
	CHECK(x.assigned);
	CHECK(!memcmp(x.owner, uuid_n(2), 16));
	snap_take(&e, &s);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(2)), 0); /* same */
	expect_unchanged(&e, &s);
	CHECK_RC(xp_extent_assign(e.ns, "a", NULL), 0);
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_RC(xp_ns_extent_find(e.ns, "a", &x), 0);
	CHECK(!x.assigned);
	CHECK(xp_uuid_is_nil(x.owner));
	/* init's free record is seq 1; create 2, three assigns 3..5. */
	CHECK_EQ_U64(x.seq, 5);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_nil), 0); /* already none */
	expect_unchanged(&e, &s);
out:
	env_done(&e);
}

/* UUID text and owner resolution through the test hook. */
static void t_owner_uuids(void)
{
	static const char text[] = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
	char path[] = "/tmp/xenpmem-domains.XXXXXX", out[XP_UUID_STR_LEN];
	uint8_t u[16], v[16];
	uint32_t domid = 0;
	char name[32];
	FILE *f;
	int fd;

	CHECK_RC(xp_uuid_parse(text, u), 0);
	xp_uuid_format(u, out);
	CHECK_STR(out, text);
	CHECK_EQ_U64(u[0], 0x0f);
	CHECK_EQ_U64(u[15], 0xf9);
	CHECK_RC(xp_uuid_parse("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9", v), 0);
	CHECK(!memcmp(u, v, 16));
	CHECK_RC(xp_uuid_parse("0f1e2d3c4b5a49788695a4b3c2d1e0f9", v), -EINVAL);
	CHECK_RC(xp_uuid_parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f", v), -EINVAL);
	CHECK_RC(xp_uuid_parse("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9x", v),
		 -EINVAL);
	CHECK_RC(xp_uuid_parse("", v), -EINVAL);
	CHECK_RC(xp_uuid_parse(NULL, v), -EINVAL);
	/* A UUID resolves to itself anywhere; nil never owns. */
	CHECK_RC(xp_owner_resolve(text, v), 0);
	CHECK(!memcmp(u, v, 16));
	CHECK_RC(xp_owner_resolve("00000000-0000-0000-0000-000000000000", v),
		 -EINVAL);
	CHECK_RC(xp_owner_resolve("", v), -EINVAL);
	/* Names and domids through the "DOMID NAME UUID" file. */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fprintf(f, "0 Domain-0 00000000-0000-0000-0000-000000000000\n");
	fprintf(f, "7 guest7 %s\n", text);
	fprintf(f, "8 twin 11111111-2222-4333-8444-555555555555\n");
	fprintf(f, "9 twin 11111111-2222-4333-8444-666666666666\n");
	fclose(f);
	setenv("XENPMEM_XEN_DOMAINS", path, 1);
	memset(v, 0, 16);
	CHECK_RC(xp_owner_resolve("guest7", v), 0);
	CHECK(!memcmp(u, v, 16));
	memset(v, 0, 16);
	CHECK_RC(xp_owner_resolve("7", v), 0);
	CHECK(!memcmp(u, v, 16));
	CHECK_RC(xp_owner_resolve("nobody", v), -ENOENT);
	CHECK_RC(xp_owner_resolve("12", v), -ENOENT);
	CHECK_RC(xp_owner_resolve("twin", v), -EINVAL);
	CHECK_RC(xp_owner_resolve("Domain-0", v), -EINVAL);
	CHECK_RC(xp_owner_lookup(u, name, sizeof(name), &domid), 0);
	CHECK_STR(name, "guest7");
	CHECK_EQ_U64(domid, 7);
	CHECK_RC(xp_owner_lookup(uuid_n(5), name, sizeof(name), &domid),
		 -ENOENT);
	CHECK_RC(xp_owner_lookup(uuid_nil, name, sizeof(name), &domid),
		 -ENOENT);
	unsetenv("XENPMEM_XEN_DOMAINS");
	unlink(path);
}

struct progress {
	uint64_t calls, last_done, last_total;
	int monotone;
};

static void progress_cb(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;

	if (done < p->last_done || done > total)
		p->monotone = 0;
	p->calls++;
	p->last_done = done;
	p->last_total = total;
}

/*
 * The range a change hands to an extent is zeroed before the record
 * commits (issue 12, item 9), unless XP_NO_ZERO; shrinking an assigned
 * extent needs XP_FORCE; a label area is copied to the new end, or the
 * resize refused when the copy would overwrite it.
 */
static bool all_bytes(const uint8_t *p, uint64_t len, uint8_t v)
{
	for (uint64_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void t_zero_new_range(void)
{
	struct xp_create_opts o = {.name = "z", .size = 4 * MiB};
	struct progress pr = {.monotone = 1};
	struct xp_extent x;
	struct env e;
	uint64_t D;

	if (env_small(&e, 0))
		goto out;
	D = e.D;
	memset(e.img + D, 0x5a, 16 * MiB);
	o.progress = progress_cb;
	o.progress_arg = &pr;
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	CHECK_EQ_U64(x.offset, D);
	CHECK(all_bytes(e.img + D, 4 * MiB, 0));
	CHECK(all_bytes(e.img + D + 4 * MiB, 12 * MiB, 0x5a));
	CHECK_EQ_U64(pr.last_done, 4 * MiB);
	CHECK_EQ_U64(pr.last_total, 4 * MiB);
	/* XP_NO_ZERO hands over what is there */
	o.name = "nz";
	o.flags = XP_NO_ZERO;
	o.progress = NULL;
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	CHECK(all_bytes(e.img + D + 4 * MiB, 4 * MiB, 0x5a));
	CHECK_RC(xp_extent_destroy(e.ns, "nz", 0), 0);

	/* grow: the new range is zeroed, the old bytes stay */
	memset(e.img + D, 0x11, 4 * MiB);
	CHECK_RC(xp_extent_resize(e.ns, "z", 6 * MiB, 0, NULL, NULL), 0);
	CHECK(all_bytes(e.img + D, 4 * MiB, 0x11));
	CHECK(all_bytes(e.img + D + 4 * MiB, 2 * MiB, 0));
	CHECK(all_bytes(e.img + D + 6 * MiB, 2 * MiB, 0x5a));
	CHECK_RC(xp_extent_resize(e.ns, "z", 8 * MiB, XP_NO_ZERO, NULL, NULL),
		 0);
	CHECK(all_bytes(e.img + D + 6 * MiB, 2 * MiB, 0x5a));

	/* shrinking an assigned extent: XP_FORCE, and the refusal says
	 * how much it releases */
	CHECK_RC(xp_extent_assign(e.ns, "z", uuid_n(1)), 0);
	CHECK_RC(xp_extent_resize(e.ns, "z", 2 * MiB, 0, NULL, NULL), -EBUSY);
	CHECK_CONTAINS(xp_last_error(),
		       "shrinking it from 8 MiB to 2 MiB releases 6 MiB");
	CHECK_RC(xp_ns_extent_find(e.ns, "z", &x), 0);
	CHECK_EQ_U64(x.size, 8 * MiB);
	CHECK_RC(xp_extent_resize(e.ns, "z", 2 * MiB, XP_FORCE, NULL, NULL), 0);
	/* growing an assigned extent takes nothing from anyone */
	CHECK_RC(xp_extent_resize(e.ns, "z", 4 * MiB, 0, NULL, NULL), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "z", XP_FORCE), 0);

	/* the label area moves with the end */
	o.name = "l";
	o.size = 4 * MiB;
	o.label_size = 128 * KiB;
	o.flags = 0;
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	memset(e.img + x.offset + 4 * MiB - 128 * KiB, 0x4c, 128 * KiB);
	CHECK_RC(xp_extent_resize(e.ns, "l", 8 * MiB, 0, NULL, NULL), 0);
	CHECK(all_bytes(e.img + x.offset + 8 * MiB - 128 * KiB, 128 * KiB,
			0x4c));
	CHECK_RC(xp_extent_resize(e.ns, "l", 2 * MiB, 0, NULL, NULL), 0);
	CHECK(all_bytes(e.img + x.offset + 2 * MiB - 128 * KiB, 128 * KiB,
			0x4c));
	CHECK_RC(xp_extent_destroy(e.ns, "l", 0), 0);
	/* ... unless the copy would land on the label itself */
	o.size = 8 * MiB;
	o.label_size = 4 * MiB;
	CHECK_RC(xp_extent_create(e.ns, &o, &x), 0);
	CHECK_RC(xp_extent_resize(e.ns, "l", 10 * MiB, 0, NULL, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "would copy it over itself");
	CHECK_RC(xp_ns_extent_find(e.ns, "l", &x), 0);
	CHECK_EQ_U64(x.size, 8 * MiB);
	verify(&e);
out:
	env_done(&e);
}

static void t_wipe(void)
{
	struct env e;
	struct snap s;
	struct progress pr = {.monotone = 1};
	uint64_t D, a0;

	if (env_small(&e, 0))
		goto out;
	D = e.D;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "c", 2 * MiB, 0, NULL), 0);
	memset(e.img + D, 0xa5, 6 * MiB);
	snap_take(&e, &s);
	CHECK_RC(xp_extent_wipe(e.ns, "b", XP_FORCE, progress_cb, &pr), 0);
	CHECK_EQ_U64(tm_writes(e.m), 1);
	CHECK(tm_write_at(e.m, 0)->zero);
	CHECK_EQ_U64(tm_write_at(e.m, 0)->off, D + 2 * MiB);
	CHECK_EQ_U64(tm_write_at(e.m, 0)->len, 2 * MiB);
	tm_reset(e.m);
	expect_unchanged(&e, &s);
	CHECK(pr.calls >= 1 && pr.monotone);
	CHECK_EQ_U64(pr.last_done, 2 * MiB);
	CHECK_EQ_U64(pr.last_total, 2 * MiB);
	a0 = 0;
	for (uint64_t i = 0; i < 2 * MiB; i++)
		a0 |= e.img[D + 2 * MiB + i];
	CHECK_EQ_U64(a0, 0);
	CHECK_EQ_U64(e.img[D + 2 * MiB - 1], 0xa5);
	CHECK_EQ_U64(e.img[D + 4 * MiB], 0xa5);
	CHECK_EQ_U64(e.img[D], 0xa5);
	CHECK_EQ_U64(e.img[D + 6 * MiB - 1], 0xa5);
	/*
	 * An assigned extent is a guest's disk: wiping it is refused, forced
	 * or not, naming the owner, and leaves its bytes alone. Without
	 * XP_FORCE nothing is wiped either. NULL progress is fine.
	 */
	CHECK_RC(xp_extent_assign(e.ns, "c", uuid_n(4)), 0);
	CHECK_RC(xp_extent_wipe(e.ns, "c", XP_FORCE, NULL, NULL), -EBUSY);
	CHECK_CONTAINS(xp_last_error(), "extent 'c' is assigned to domain");
	CHECK_CONTAINS(xp_last_error(), "unassign it before wiping it");
	CHECK_EQ_U64(e.img[D + 4 * MiB], 0xa5);
	CHECK_RC(xp_extent_assign(e.ns, "c", NULL), 0);
	CHECK_RC(xp_extent_wipe(e.ns, "c", 0, NULL, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "confirm with --force");
	CHECK_EQ_U64(e.img[D + 4 * MiB], 0xa5);
	CHECK_RC(xp_extent_wipe(e.ns, "c", XP_FORCE, NULL, NULL), 0);
	CHECK_EQ_U64(e.img[D + 4 * MiB], 0);
	CHECK_EQ_U64(e.img[D + 2 * MiB - 1], 0xa5);
	verify(&e);
out:
	env_done(&e);
}

/* ---- slots ----------------------------------------------------------------- */

static void t_slot_exhaustion_and_reuse(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x;
	char name[8];

	if (env_small(&e, 4))
		goto out;
	CHECK_EQ_U64(e.info.slot_count, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "e%d", i);
		CHECK_RC(mk(&e, name, 2 * MiB, 0, &x), 0);
		CHECK_EQ_U64(x.slot, i);
		/* Over init's free record (seq 1, copy 0): seq 2, copy 1. */
		CHECK_EQ_U64(x.seq, 2);
		CHECK_EQ_U64(e.ns->slots[i].active, 1);
	}
	snap_take(&e, &s);
	CHECK_RC(mk(&e, "e4", 2 * MiB, 0, NULL), -ENOSPC);
	CHECK_CONTAINS(xp_last_error(), "slots");
	expect_unchanged(&e, &s);
	/* A destroyed extent's slot is reused, with the next sequence. */
	CHECK_RC(xp_extent_destroy(e.ns, "e1", 0), 0);
	CHECK_RC(mk(&e, "e4", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.slot, 1);
	CHECK_EQ_U64(x.seq, 4);
	CHECK_EQ_U64(e.ns->slots[1].active, 1);
	CHECK_EQ_U64(x.offset, e.D + 2 * MiB);
	/* The lowest free slot first. */
	CHECK_RC(xp_extent_destroy(e.ns, "e3", 0), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "e0", 0), 0);
	CHECK_RC(mk(&e, "e5", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.slot, 0);
	CHECK_RC(mk(&e, "e6", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.slot, 3);
	CHECK_RC(mk(&e, "e7", 2 * MiB, 0, NULL), -ENOSPC);
	/* Reopen: slots and sequences are what the table says. */
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_RC(xp_ns_extent_find(e.ns, "e4", &x), 0);
	CHECK_EQ_U64(x.slot, 1);
	CHECK_EQ_U64(x.seq, 4);
	CHECK_RC(xp_ns_extent_find(e.ns, "e6", &x), 0);
	CHECK_EQ_U64(x.slot, 3);
	CHECK_EQ_U64(x.seq, 4);
	CHECK_RC(mk(&e, "e7", 2 * MiB, 0, NULL), -ENOSPC);
	verify(&e);
	env_done(&e);
	/* One slot is enough for one extent. */
	if (env_small(&e, 1))
		goto out;
	CHECK_RC(mk(&e, "only", 2 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "two", 2 * MiB, 0, NULL), -ENOSPC);
	CHECK_RC(xp_extent_destroy(e.ns, "only", 0), 0);
	CHECK_RC(mk(&e, "two", 2 * MiB, 0, &x), 0);
	CHECK_EQ_U64(x.slot, 0);
out:
	env_done(&e);
}

/*
 * The tag rule: an update picks the smallest seq above the current one
 * whose tag no word of the target copy carries, so a tear always shows.
 * Here the target copy's words are made to carry the next tags (as stale
 * words of older writes could): the update skips them.
 */
static void t_tag_skips(void)
{
	struct env e;
	struct xp_extent x;
	uint8_t *c0;

	if (env_small(&e, 2))
		goto out;
	CHECK_RC(mk(&e, "a", 2 * MiB, 0, &x), 0);	/* copy 1, seq 2 */
	CHECK_EQ_U64(x.seq, 2);
	/* Copy 0 (seq 1, free) is the target of the next update. Give its
	 * words the tags 3, 4, 5 (a valid copy: tags are outside the sum). */
	c0 = e.img + xp_slot_offset(0);
	c0[0 * 8 + 7] = 3;
	c0[1 * 8 + 7] = 4;
	c0[2 * 8 + 7] = 5;
	env_reopen(&e, XP_OPEN_WRITE);
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(1)), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "a", &x), 0);
	CHECK_EQ_U64(x.seq, 6);
	CHECK_EQ_U64(e.ns->slots[0].active, 0);
	for (unsigned w = 0; w < XP_REC_WORDS; w++)
		CHECK_EQ_U64(c0[w * 8 + 7], 6);
	/* Reopened, the table says the same. */
	env_reopen(&e, 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "a", &x), 0);
	CHECK_EQ_U64(x.seq, 6);
	CHECK(!memcmp(x.owner, uuid_n(1), 16));
	verify(&e);
out:
	env_done(&e);
}

/* ---- one mutation, one record copy ----------------------------------------- */

static void t_one_record_per_mutation(void)
{
	struct env e;
	struct snap s;
	struct xp_extent x;
	uint32_t slot = 0, mask[8];
	int copy = -1;
	uint64_t seq = 0;

	if (env_setup(&e, 64 * MiB, 2 * MiB, 8, XEN, 1, 0x1001000ull))
		goto out;
#define BEFORE(nm)                                                        \
	do {                                                              \
		if (xp_ns_extent_find(e.ns, nm, &x) == 0) {               \
			slot = x.slot;                                    \
		} else {                                                  \
			for (slot = 0; slot < 8; slot++)                  \
				if (e.ns->slots[slot].state != XP_SLOT_USED) \
					break;                            \
		}                                                         \
		CHECK_MSG(e.ns->slots[slot].state != XP_SLOT_CORRUPT,     \
			  "slot %u corrupt before the mutation", slot);     \
		copy = xp_slot_next_copy(&e.ns->slots[slot], &seq);       \
		CHECK_EQ_U64(copy, !e.ns->slots[slot].active);            \
		if (copy >= 0)                                            \
			memcpy(mask, e.ns->slots[slot].tag_mask[copy],    \
			       sizeof(mask));                             \
		snap_take(&e, &s);                                        \
	} while (0)
#define AFTER() expect_one_record(&e, &s, slot, copy, seq, mask)

	BEFORE("a");
	CHECK_RC(mk(&e, "a", 4 * MiB, 0, NULL), 0);
	AFTER();
	BEFORE("b");
	CHECK_RC(mk(&e, "b", 2 * MiB, 0, NULL), 0);
	AFTER();
	BEFORE("a");
	CHECK_RC(xp_extent_assign(e.ns, "a", uuid_n(1)), 0);
	AFTER();
	BEFORE("a");
	CHECK_RC(xp_extent_rename(e.ns, "a", "a2", 0), 0);
	AFTER();
	BEFORE("b");
	CHECK_RC(xp_extent_resize(e.ns, "b", 6 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	AFTER();
	BEFORE("a2");
	CHECK_RC(xp_extent_assign(e.ns, "a2", NULL), 0);
	AFTER();
	BEFORE("a2");
	CHECK_RC(xp_extent_resize(e.ns, "a2", 2 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	AFTER();
	BEFORE("b");
	CHECK_RC(xp_extent_set_state(e.ns, "b", XP_EXTENT_LENT_RAM), 0);
	AFTER();
	BEFORE("b");
	CHECK_RC(xp_extent_set_state(e.ns, "b", XP_EXTENT_DATA), 0);
	AFTER();
	BEFORE("b");
	CHECK_RC(xp_extent_destroy(e.ns, "b", 0), 0);
	AFTER();
	BEFORE("c");	/* reuses b's free slot: overwrites its older copy */
	CHECK_RC(mk(&e, "c", 2 * MiB, 0, NULL), 0);
	AFTER();
	CHECK_EQ_U64(slot, 1);
	BEFORE("a2");
	CHECK_RC(xp_extent_assign(e.ns, "a2", uuid_n(7)), 0);
	AFTER();
	BEFORE("a2");
	CHECK_RC(xp_extent_destroy(e.ns, "a2", XP_FORCE), 0);
	AFTER();
	/* Every commit is one store, one flush, one fence. */
	BEFORE("d");
	CHECK_RC(mk(&e, "d", 2 * MiB, 0, NULL), 0);
	CHECK_EQ_U64(((struct tmedia *)e.m)->nflush, 1);
	CHECK_EQ_U64(((struct tmedia *)e.m)->ndrain, 1);
	AFTER();
#undef BEFORE
#undef AFTER
	verify(&e);
out:
	env_done(&e);
}

/* ---- management area ------------------------------------------------------- */

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(0xa5 ^ (i * 31) ^ (i >> 9));
}

static void t_mgmt_untouched(void)
{
	struct env e;
	uint64_t mo, de;
	struct findings fs;
	char name[8];

	if (env_setup(&e, 64 * MiB, 2 * MiB, 16, XEN, 1, 0x5000ull))
		goto out;
	mo = e.info.mgmt_offset;
	de = e.E;
	CHECK(e.info.mgmt_size >= 3 * 2 * MiB);
	/* Management area and the slack up to data_offset, and the slack
	 * between data_end and the backup superblock. */
	for (uint64_t i = mo; i < e.D; i++)
		e.img[i] = pat(i);
	for (uint64_t i = de; i < e.size - 4096; i++)
		e.img[i] = pat(i);
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "m%d", (int)xt_range(0, 11));
		switch (xt_range(0, 6)) {
		case 0:
		case 1:
			mk(&e, name, xt_range(1, 4) * 2 * MiB, 0, NULL);
			break;
		case 2:
			xp_extent_destroy(e.ns, name, XP_FORCE);
			break;
		case 3:
			xp_extent_resize(e.ns, name, xt_range(1, 8) * 2 * MiB,
					 XP_FORCE | XP_NO_ZERO, NULL, NULL);
			break;
		case 4:
			xp_extent_assign(e.ns, name,
					 xt_range(0, 1) ? uuid_n(1) : NULL);
			break;
		case 5:
			xp_extent_set_state(e.ns, name,
					    xt_range(0, 1) ? XP_EXTENT_DATA :
							     XP_EXTENT_LENT_RAM);
			break;
		case 6:
			if (i % 50 == 0)
				xp_extent_wipe(e.ns, name, XP_FORCE, NULL,
					       NULL);
			else
				xp_extent_rename(e.ns, name, "m0", 0);
			break;
		}
		if (i % 100 == 99)
			env_reopen(&e, XP_OPEN_WRITE);
	}
	CHECK_RC(run_check(e.m, 0, &fs), 0);
	CHECK_RC(run_check(e.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs), 0);
	for (uint64_t i = mo; i < e.D; i++)
		if (e.img[i] != pat(i)) {
			CHECK_MSG(0, "management byte %#" PRIx64 " changed", i);
			break;
		}
	for (uint64_t i = de; i < e.size - 4096; i++)
		if (e.img[i] != pat(i)) {
			CHECK_MSG(0, "slack byte %#" PRIx64 " changed", i);
			break;
		}
	verify(&e);
out:
	env_done(&e);
}

/* ---- reopen ---------------------------------------------------------------- */

static void t_reopen_same(void)
{
	struct env e;
	struct listing a, b;
	struct xp_info ia;

	if (env_setup(&e, 256 * MiB, 2 * MiB, 32, XEN, 1, 0x7fe00000ull))
		goto out;
	CHECK_RC(mk(&e, "one", 64 * MiB, 0, NULL), 0);
	CHECK_RC(mk(&e, "two", 2 * MiB, 2 * MiB, NULL), 0);
	CHECK_RC(mk(&e, "three", 4 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_assign(e.ns, "two", uuid_n(12)), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "one", 0), 0);
	CHECK_RC(xp_extent_rename(e.ns, "three", "drei", 0), 0);
	CHECK_RC(xp_extent_set_state(e.ns, "drei", XP_EXTENT_LENT_RAM), 0);
	CHECK_RC(mk(&e, "four", 4 * MiB, 0, NULL), 0);
	CHECK_RC(xp_extent_resize(e.ns, "four", 8 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	{
		struct xp_create_opts o = {.name = "five", .size = 16 * MiB,
					   .align = 2 * MiB,
					   .label_size = 128 * KiB};

		memcpy(o.owner, uuid_n(13), 16);
		CHECK_RC(xp_extent_create(e.ns, &o, NULL), 0);
	}
	verify(&e);
	list_take(e.ns, &a);
	xp_ns_get_info(e.ns, &ia);
	env_reopen(&e, 0);
	list_take(e.ns, &b);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	CHECK(!memcmp(&ia, &e.info, sizeof(ia)));
	env_reopen(&e, XP_OPEN_WRITE);
	list_take(e.ns, &b);
	CHECK(!memcmp(&a, &b, sizeof(a)));
	verify(&e);
out:
	env_done(&e);
}

/* ---- randomized model test --------------------------------------------------- */

#define M_SLOTS 8
#define M_NAMES 12
#define M_OWNERS 4

struct mslot {
	int active;		/* current copy; init: 0 (free record, seq 1) */
	uint64_t cseq[2];	/* seq each copy holds, 0 = blank */
	bool used;
	bool lent;
	char name[32];
	uint64_t off, size, label;
	int owner;		/* index into m_owner(), 0 = none */
	uint32_t shift;
	uint8_t uuid[16];
};

struct model {
	struct mslot s[M_SLOTS];
	uint64_t D, E, P, data_size;
	int touched;		/* slot written by the last op, -1 none */
	int touched_copy;
};

static const uint8_t *m_owner(int i)
{
	return i ? uuid_n((unsigned)i) : uuid_nil;
}

static int m_find(struct model *mo, const char *name)
{
	for (int i = 0; i < M_SLOTS; i++)
		if (mo->s[i].used && !strcmp(mo->s[i].name, name))
			return i;
	return -1;
}

/* The tag rule, on the model's copies (which hold whole writes). */
static void m_commit(struct model *mo, int slot)
{
	struct mslot *s = &mo->s[slot];
	int target = !s->active;
	uint64_t cur = s->cseq[s->active], n = 1;

	while (xp_rec_tag(cur + n) == xp_rec_tag(s->cseq[target]))
		n++;
	s->cseq[target] = cur + n;
	s->active = target;
	mo->touched = slot;
	mo->touched_copy = target;
}

/* Slots in offset order. */
static int m_order(struct model *mo, int *idx)
{
	int n = 0;

	for (int i = 0; i < M_SLOTS; i++)
		if (mo->s[i].used)
			idx[n++] = i;
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && mo->s[idx[j - 1]].off > mo->s[idx[j]].off;
		     j--) {
			int t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	return n;
}

static bool m_place(struct model *mo, uint64_t size, uint32_t shift,
		    uint64_t *off)
{
	int idx[M_SLOTS], n = m_order(mo, idx);
	uint64_t cursor = mo->D, a = 1ull << shift;

	for (int i = 0; i <= n; i++) {
		uint64_t end = i < n ? mo->s[idx[i]].off : mo->E;

		if (end > cursor) {
			uint64_t start = ((mo->P + cursor + a - 1) & ~(a - 1)) - mo->P;

			if (start < end && end - start >= size) {
				*off = start;
				return true;
			}
		}
		if (i < n)
			cursor = mo->s[idx[i]].off + mo->s[idx[i]].size;
	}
	return false;
}

static int m_size_ok(struct model *mo, uint64_t size, uint32_t shift,
		     uint64_t label)
{
	if (!size || size % (1ull << shift))
		return -EINVAL;
	if (size > mo->data_size)
		return -ENOSPC;
	if (label % 4096 || label >= size)
		return -EINVAL;
	return 0;
}

static const char *const m_names[M_NAMES] = {
	"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "ten",
	"eleven-and-then-some-to-31-byte"};

static const char *m_pick_name(void)
{
	uint64_t r = xt_range(0, 99);

	if (r == 0)
		return "-bad";
	if (r == 1)
		return "this-name-is-thirty-two-bytes-x";	/* 32 */
	return m_names[xt_range(0, M_NAMES - 1)];
}

static int m_pick_owner(void)
{
	return xt_range(0, 99) < 50 ? 0 : (int)xt_range(1, M_OWNERS - 1);
}

/* Compare the library's extent list (and the last op's writes) to the model. */
static void m_compare(struct env *e, struct model *mo, int op, const char *what)
{
	int idx[M_SLOTS], n = m_order(mo, idx);
	uint32_t ln = xp_ns_extent_count(e->ns);
	struct xp_extent x;

	CHECK_MSG(ln == (uint32_t)n, "op %d (%s): %u extents, model %d", op, what,
		  ln, n);
	for (int i = 0; i < n && (uint32_t)i < ln; i++) {
		const struct mslot *s = &mo->s[idx[i]];

		if (xp_ns_extent_get(e->ns, (uint32_t)i, &x))
			continue;
		CHECK_MSG(!strcmp(x.name, s->name) && x.offset == s->off &&
				  x.size == s->size &&
				  !memcmp(x.owner, m_owner(s->owner), 16) &&
				  x.assigned == (s->owner != 0) &&
				  x.state == (s->lent ? XP_EXTENT_LENT_RAM :
							XP_EXTENT_DATA) &&
				  x.align == 1ull << s->shift &&
				  x.label_size == s->label &&
				  x.slot == (uint32_t)idx[i] &&
				  x.seq == s->cseq[s->active] &&
				  !memcmp(x.uuid, s->uuid, 16),
			  "op %d (%s): extent %d is %s@%#" PRIx64 "+%#" PRIx64
			  " slot %u seq %" PRIu64 " state %d; model %s@%#" PRIx64
			  "+%#" PRIx64 " slot %d seq %" PRIu64 " lent %d",
			  op, what, i, x.name, x.offset, x.size, x.slot, x.seq,
			  (int)x.state, s->name, s->off, s->size, idx[i],
			  s->cseq[s->active], s->lent);
	}
	if (mo->touched >= 0) {
		uint64_t lo = xp_slot_offset((uint32_t)mo->touched) +
			      (uint64_t)mo->touched_copy * XP_REC_SIZE;

		/* A resize also copies the label area, in the data area;
		 * the metadata takes one record store. */
		unsigned meta = 0, first = UINT32_MAX;

		for (unsigned w = 0; w < tm_writes(e->m); w++) {
			if (tm_write_at(e->m, w)->off >= e->D)
				continue;
			meta++;
			if (first == UINT32_MAX)
				first = w;
		}
		CHECK_MSG(meta == 1 && tm_write_at(e->m, first)->off == lo &&
				  tm_write_at(e->m, first)->len == XP_REC_SIZE,
			  "op %d (%s): %u metadata writes, first at %#" PRIx64
			  ", want one at %#" PRIx64,
			  op, what, meta,
			  meta ? tm_write_at(e->m, first)->off : 0, lo);
	} else if (strcmp(what, "wipe")) {
		CHECK_MSG(tm_writes(e->m) == 0, "op %d (%s): %u writes, want 0",
			  op, what, tm_writes(e->m));
	}
}

static void t_model_random(void)
{
	const uint64_t P = 0x1001000ull;
	struct env e;
	struct model mo;
	unsigned fails_before = xt_case_failures;
	unsigned counts[8] = {0}, ok[8] = {0};
	static const char *const kinds[8] = {"create", "destroy", "resize",
					     "rename", "assign", "state",
					     "wipe/reopen", ""};

	xt_rng_state = 0x5eed0f5eedull;
	if (env_setup(&e, 128 * MiB, 2 * MiB, M_SLOTS, XEN, 1, P))
		goto out;
	memset(&mo, 0, sizeof(mo));
	for (int i = 0; i < M_SLOTS; i++) {
		mo.s[i].active = 0;
		mo.s[i].cseq[0] = 1;
	}
	mo.D = e.D;
	mo.E = e.E;
	mo.P = P;
	mo.data_size = e.info.data_size;

	for (int op = 0; op < 5000; op++) {
		int kind = (int)xt_range(0, 99), want = 0, got, sl;
		const char *what;

		kind = kind < 30 ? 0 : kind < 45 ? 1 : kind < 60 ? 2 :
		       kind < 72 ? 3 : kind < 84 ? 4 : kind < 95 ? 5 : 6;
		mo.touched = -1;
		tm_reset(e.m);
		switch (kind) {
		case 0: { /* create */
			struct xp_create_opts o = {.flags = XP_NO_ZERO};
			struct xp_extent x;
			uint64_t r = xt_range(0, 99), off = 0;
			uint32_t shift = 21;
			int owner = m_pick_owner();

			what = "create";
			o.name = m_pick_name();
			o.align = r < 60 ? 0 : r < 90 ? 2 * MiB :
				  r < 94 ? GiB : r < 97 ? 4 * KiB : 8 * KiB;
			if (o.align == GiB)
				shift = 30;
			r = xt_range(0, 99);
			o.size = xt_range(1, 10) * (1ull << shift);
			if (r < 3)
				o.size += 4 * KiB;
			else if (r < 5)
				o.size = 0;
			r = xt_range(0, 99);
			o.label_size = r < 80 ? 0 : r < 95 ? 4 * KiB : o.size;
			memcpy(o.owner, m_owner(owner), 16);

			if (!xp_extent_name_valid(o.name) ||
			    o.align == 4 * KiB || o.align == 8 * KiB)
				want = -EINVAL;
			else
				want = m_size_ok(&mo, o.size, shift, o.label_size);
			if (!want && m_find(&mo, o.name) >= 0)
				want = -EEXIST;
			sl = -1;
			if (!want) {
				for (sl = 0; sl < M_SLOTS; sl++)
					if (!mo.s[sl].used)
						break;
				if (sl == M_SLOTS)
					want = -ENOSPC;
			}
			if (!want && !m_place(&mo, o.size, shift, &off))
				want = -ENOSPC;
			got = xp_extent_create(e.ns, &o, &x);
			if (!want && !got) {
				struct mslot *s = &mo.s[sl];

				s->used = true;
				s->lent = false;
				snprintf(s->name, sizeof(s->name), "%s", o.name);
				s->off = off;
				s->size = o.size;
				s->label = o.label_size;
				s->owner = owner;
				s->shift = shift;
				memcpy(s->uuid, x.uuid, 16);
				m_commit(&mo, sl);
			}
			break;
		}
		case 1: { /* destroy */
			const char *name = m_pick_name();
			unsigned fl = xt_range(0, 1) ? XP_FORCE : 0;

			what = "destroy";
			sl = m_find(&mo, name);
			if (sl < 0)
				want = -ENOENT;
			else if (mo.s[sl].owner && !fl)
				want = -EBUSY;
			got = xp_extent_destroy(e.ns, name, fl);
			if (!want && !got) {
				mo.s[sl].used = false;
				m_commit(&mo, sl);
			}
			break;
		}
		case 2: { /* resize */
			const char *name = m_pick_name();
			uint64_t size, limit;

			what = "resize";
			sl = m_find(&mo, name);
			if (sl < 0) {
				size = 2 * MiB;
				want = -ENOENT;
			} else {
				struct mslot *s = &mo.s[sl];
				uint64_t unit = 1ull << s->shift;
				int idx[M_SLOTS], n = m_order(&mo, idx);

				size = xt_range(1, 16) * unit;
				if (xt_range(0, 19) == 0)
					size = s->size + 4 * KiB;
				want = m_size_ok(&mo, size, s->shift, s->label);
				limit = mo.E;
				for (int i = 0; i < n; i++)
					if (mo.s[idx[i]].off > s->off) {
						limit = mo.s[idx[i]].off;
						break;
					}
				if (!want && s->off + size > limit)
					want = -ENOSPC;
				/* The label area would be copied over
				 * itself. */
				if (!want && s->label && size != s->size &&
				    (size > s->size ? size - s->size :
						      s->size - size) < s->label)
					want = -EINVAL;
				if (!want && size != s->size) {
					s->size = size;
					m_commit(&mo, sl);
				}
			}
			got = xp_extent_resize(e.ns, name, size,
					       XP_FORCE | XP_NO_ZERO, NULL, NULL);
			break;
		}
		case 3: { /* rename */
			const char *from = m_pick_name(), *to = m_pick_name();

			what = "rename";
			sl = m_find(&mo, from);
			if (!xp_extent_name_valid(to))
				want = -EINVAL;
			else if (sl < 0)
				want = -ENOENT;
			else if (!strcmp(from, to))
				want = 0;
			else if (m_find(&mo, to) >= 0)
				want = -EEXIST;
			else {
				snprintf(mo.s[sl].name, sizeof(mo.s[sl].name),
					 "%s", to);
				m_commit(&mo, sl);
			}
			got = xp_extent_rename(e.ns, from, to, 0);
			break;
		}
		case 4: { /* assign */
			const char *name = m_pick_name();
			int owner = m_pick_owner();

			what = "assign";
			sl = m_find(&mo, name);
			if (sl < 0)
				want = -ENOENT;
			else if (mo.s[sl].owner == owner)
				want = 0;
			else if (mo.s[sl].lent && owner)
				want = -EBUSY;
			else {
				mo.s[sl].owner = owner;
				m_commit(&mo, sl);
			}
			got = xp_extent_assign(e.ns, name,
					       owner ? m_owner(owner) : NULL);
			break;
		}
		case 5: { /* set_state */
			const char *name = m_pick_name();
			uint64_t r = xt_range(0, 19);
			enum xp_extent_state st = r == 0 ? (enum xp_extent_state)3 :
						  r < 10 ? XP_EXTENT_LENT_RAM :
							   XP_EXTENT_DATA;
			bool lent = st == XP_EXTENT_LENT_RAM;

			what = "state";
			sl = m_find(&mo, name);
			if (r == 0)
				want = -EINVAL;
			else if (sl < 0)
				want = -ENOENT;
			else if (mo.s[sl].lent == lent)
				want = 0;
			else if (lent && mo.s[sl].owner)
				want = -EBUSY;
			else {
				mo.s[sl].lent = lent;
				m_commit(&mo, sl);
			}
			got = xp_extent_set_state(e.ns, name, st);
			break;
		}
		default: { /* wipe, or reopen */
			const char *name = m_pick_name();

			what = "wipe";
			if (xt_range(0, 2)) {
				what = "reopen";
				env_reopen(&e, XP_OPEN_WRITE);
				tm_reset(e.m);
				got = want = 0;
				break;
			}
			sl = m_find(&mo, name);
			want = sl < 0 ? -ENOENT : 0;
			/* a guest's disk: unassign it first */
			if (sl >= 0 && mo.s[sl].owner)
				want = -EBUSY;
			/* keep sanitizer runs short: wipe only small extents */
			if (sl >= 0 && mo.s[sl].size > 8 * MiB) {
				got = want;
				break;
			}
			got = xp_extent_wipe(e.ns, name, XP_FORCE, NULL, NULL);
			break;
		}
		}
		counts[kind]++;
		ok[kind] += got == 0;
		CHECK_MSG(got == want, "op %d (%s): rc %d, model %d; last error: %s",
			  op, what, got, want, xp_last_error());
		if (got != want) {
			/* resynchronise: the rest would only repeat this */
			break;
		}
		m_compare(&e, &mo, op, what);
		if (op % 500 == 0)
			verify(&e);
		if (xt_case_failures > fails_before + 10)
			break;
	}
	env_reopen(&e, 0);
	mo.touched = -1;
	tm_reset(e.m);
	m_compare(&e, &mo, 5000, "final reopen");
	verify(&e);
	{
		struct findings fs;

		CHECK_RC(run_check(e.m, 0, &fs), 0);
		CHECK_EQ_U64(fs.n, 0);
	}
	printf("     model ops:");
	for (int k = 0; k < 7; k++)
		printf(" %s %u (%u ok)", kinds[k], counts[k], ok[k]);
	printf("\n");
	/* The mix must actually exercise success and failure paths. */
	for (int k = 0; k < 6; k++)
		CHECK_MSG(ok[k] > 20 && ok[k] < counts[k], "%s: %u of %u ok",
			  kinds[k], ok[k], counts[k]);
out:
	env_done(&e);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_init_layouts);
	RUN(t_init_writes_only_metadata);
	RUN(t_init_refuses_existing);
	RUN(t_init_generation);
	RUN(t_init_bad_params);
	RUN(t_first_fit);
	RUN(t_phys_alignment);
	RUN(t_create_rejects);
	RUN(t_enospc_unchanged);
	RUN(t_eexist_enoent);
	RUN(t_slot_selector);
	RUN(t_readonly);
	RUN(t_destroy_assigned);
	RUN(t_resize);
	RUN(t_rename);
	RUN(t_assign);
	RUN(t_owner_uuids);
	RUN(t_zero_new_range);
	RUN(t_wipe);
	RUN(t_slot_exhaustion_and_reuse);
	RUN(t_tag_skips);
	RUN(t_one_record_per_mutation);
	RUN(t_mgmt_untouched);
	RUN(t_reopen_same);
	RUN(t_model_random);
	return xt_finish();
}
