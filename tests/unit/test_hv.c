/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the hypervisor library (hv/): validation of hostile
 * namespaces (every refusal reason, with its slot and numbers), the frame
 * table / M2P plan and its O(1) lookups, the region registry, guest
 * mapping, lending extents as RAM, and Dom0's metadata access after the
 * hand-off.
 *
 * Namespaces are built in memory by the format encoder (hv_image.h) at a
 * physical base of 64 GiB, and every test checks the media was read only
 * inside the namespace and written only where the call may write, and
 * that the checking p2m saw nothing mapped the media does not allow.
 */
#include "xp_test.h"
#include "hv_image.h"

#define PHYS (64ull << 30)
#define MiB HVI_MiB
#define GiB HVI_GiB
#define TiB HVI_TiB

#define rname hvi_rname

/* The refusal is @r (and, unless ~0, slot/a/b as given). */
#define ANY (~0ull)
#define CHECK_WHY(w, r, s, x, y)                                              \
	do {                                                                  \
		const struct xphv_refusal *w_ = (w);                          \
		uint64_t s_ = (uint64_t)(s), x_ = (uint64_t)(x),              \
			 y_ = (uint64_t)(y);                                  \
		CHECK_MSG(w_->reason == (uint32_t)(r) &&                      \
				  (s_ == ANY || w_->slot == (uint32_t)s_) &&  \
				  (x_ == ANY || w_->a == x_) &&               \
				  (y_ == ANY || w_->b == y_),                 \
			  "got %s slot %u a %#" PRIx64 " b %#" PRIx64         \
			  ", want %s slot %#" PRIx64 " a %#" PRIx64           \
			  " b %#" PRIx64 " (%s)",                              \
			  rname(w_->reason), w_->slot, w_->a, w_->b,          \
			  rname((uint32_t)(r)), s_, x_, y_,                   \
			  xphv_strreason(w_->reason));                        \
	} while (0)

#define NOSLOT XPHV_NO_SLOT

/* ---- Fixture ------------------------------------------------------------ */

struct fx {
	struct hvi im;
	struct hvi_ns h;
	struct xphv_geom g;
	struct hvi_pdx pdx;
	struct xphv_registry reg;
	struct xphv_ns *nsp[4];
	struct xphv_region regions[64];
	struct xphv_mapping maps[64];
	struct xphv_range ram[4];
	uint32_t nram;
	bool reg_ready;
	struct hvo ops;
	struct hvp p;
	struct xphv_refusal why;
};

static struct fx F;

/* 64 MiB at 64 GiB, 16 slots, 2 MiB alignment, Xen geometry with compat. */
static struct hvi_spec spec_std(uint64_t size)
{
	struct hvi_spec s;

	memset(&s, 0, sizeof(s));
	s.ns_size = size ? size : 64 * MiB;
	s.phys = PHYS;
	s.phys_known = true;
	s.slots = 16;
	s.align_shift = 21;
	s.mgmt = HVI_MGMT_XEN;
	return s;
}

static void fx_reset(void)
{
	hvi_free(&F.im);
	hvi_ns_free(&F.h);
	hvp_fini(&F.p);
	memset(&F, 0, sizeof(F));
	xphv_geom_xen_x86(&F.g, true);
	hvo_init(&F.ops);
	hvp_init(&F.p);
}

static bool fx_img(const struct hvi_spec *s)
{
	fx_reset();
	if (hvi_init(&F.im, s)) {
		CHECK_MSG(0, "image %#llx does not solve",
			  (unsigned long long)s->ns_size);
		return false;
	}
	return true;
}

/* No read outside the namespace, no write where none may be, nothing
 * the media forbids mapped. */
#define CHECK_CLEAN()                                                         \
	do {                                                                  \
		CHECK_MSG(F.im.violations == 0, "media: %s", F.im.why);       \
		CHECK_MSG(F.p.violations == 0, "p2m: %s", F.p.why);           \
	} while (0)

static int fx_validate(void)
{
	int rc;

	hvi_ns_free(&F.h);
	F.im.wmode = HVI_W_NONE;
	memset(&F.why, 0xa5, sizeof(F.why));
	rc = hvi_validate(&F.im, &F.h, NULL, &F.g, 8, &F.why);
	CHECK_MSG(F.im.violations == 0, "validate: %s", F.im.why);
	CHECK_MSG(F.im.nwlog == 0, "validate wrote %u times", F.im.nwlog);
	CHECK_MSG((rc == 0) == (F.why.reason == XPHV_OK),
		  "rc %d with reason %s", rc, rname(F.why.reason));
	return rc;
}

static int fx_validate_exp(const struct xphv_expect *e)
{
	int rc;

	hvi_ns_free(&F.h);
	F.im.wmode = HVI_W_NONE;
	rc = hvi_validate(&F.im, &F.h, e, &F.g, 8, &F.why);
	CHECK_MSG(F.im.violations == 0, "validate: %s", F.im.why);
	return rc;
}

static void fx_registry(void)
{
	if (F.reg_ready)
		return;
	xphv_registry_init(&F.reg, F.ram, F.nram, F.nsp, 4, F.regions, 64,
			   F.maps, 64);
	F.reg_ready = true;
}

/* Validate and register; register may write only the management area. */
static int fx_register(void)
{
	int rc;

	if (fx_validate())
		return -1;
	fx_registry();
	hvi_allow_mgmt(&F.im);
	rc = xphv_register(&F.reg, &F.h.ns, &F.ops.ops, false, &F.why);
	F.im.wmode = HVI_W_NONE;
	CHECK_MSG(F.im.violations == 0, "register: %s", F.im.why);
	if (!rc)
		hvp_add_img(&F.p, 0, &F.im);
	return rc;
}

static void dom_uuid(uint8_t u[16], uint16_t domid)
{
	hvi_uuid(u, domid, 0xd0);
}

static struct xphv_domain dom(uint16_t domid)
{
	struct xphv_domain d;

	memset(&d, 0, sizeof(d));
	d.domid = domid;
	dom_uuid(d.uuid, domid);
	hvp_domain(&F.p, domid, d.uuid);
	return d;
}

static void ext_uuid(uint8_t u[16], uint32_t id)
{
	hvi_uuid(u, id, 0xe0);
}

/* Map extent @id into @domid at @gfn through the checking p2m. */
static int fx_map(uint16_t domid, uint32_t id, uint64_t gfn)
{
	struct xphv_domain d = dom(domid);
	uint8_t u[16];
	bool allowed;
	int rc;

	ext_uuid(u, id);
	allowed = hvp_begin(&F.p, 0, domid, u, gfn);
	F.im.wmode = HVI_W_WINDOWS;	/* management area only */
	rc = xphv_map(&F.reg, F.h.ns.id, &d, u, gfn, &F.p.p2m, &F.why);
	F.im.wmode = HVI_W_NONE;
	hvp_end(&F.p);
	CHECK_MSG(rc || allowed, "extent %u mapped into dom %u, media says no",
		  id, domid);
	CHECK_CLEAN();
	return rc;
}

static int fx_unmap(uint16_t domid, uint32_t id)
{
	uint8_t u[16];
	int rc;

	ext_uuid(u, id);
	rc = xphv_unmap(&F.reg, F.h.ns.id, domid, u, &F.p.p2m, &F.why);
	CHECK_CLEAN();
	return rc;
}

static uint8_t *owner_of(uint16_t domid)
{
	static uint8_t u[8][16];
	static unsigned k;
	uint8_t *p = u[k++ % 8];

	dom_uuid(p, domid);
	return p;
}

/* Put extent @id on media in @slot (Dom0 by the protocol). */
static void put(uint32_t slot, uint64_t unit, uint64_t units, uint32_t id,
		int owner_dom, uint64_t label)
{
	struct xp_rec r = hvi_rec(&F.im, unit, units, id,
				  owner_dom > 0 ? owner_of((uint16_t)owner_dom) :
						  NULL,
				  label);

	CHECK(hvi_update(&F.im, slot, &r) >= 0);
}

static void put_rec(uint32_t slot, const struct xp_rec *r)
{
	CHECK(hvi_update(&F.im, slot, r) >= 0);
}

static void free_slot(uint32_t slot)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	CHECK(hvi_update(&F.im, slot, &r) >= 0);
}

static uint64_t ds_mfn(void)
{
	return hvi_mfn(&F.im, F.im.sb.data_offset);
}

static uint64_t unit_mfn(uint64_t unit)
{
	return ds_mfn() + unit * HVI_FRAMES_2M;
}

/* ---- Validation --------------------------------------------------------- */

static void t_layout_std(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	/* table ends at 12 KiB: the management area at the first 2 MiB;
	 * data [64G+8M, 64G+62M) sits in one group of each array: 3 chunks */
	CHECK_EQ_U64(F.im.sb.mgmt_offset, 2 * MiB);
	CHECK_EQ_U64(F.im.sb.chunks.ft, 1);
	CHECK_EQ_U64(F.im.sb.chunks.m2p, 1);
	CHECK_EQ_U64(F.im.sb.chunks.compat, 1);
	CHECK_EQ_U64(F.im.sb.data_offset, 8 * MiB);
	CHECK_EQ_U64(F.im.sb.data_size, 54 * MiB);
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.need.slot_count, 16);
	CHECK_EQ_U64(F.h.ns.next, 0);
	CHECK(!F.h.ns.sb_one_valid);
	CHECK_EQ_U64(F.h.ns.sb_copy, 0);
	CHECK(!memcmp(F.h.ns.sb.ns_uuid, hvi_default_uuid, 16));
	CHECK_CLEAN();
}

static void t_extents_cached(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t u[16];

	if (!fx_img(&s))
		return;
	put(3, 0, 2, 1, 1, 0);
	put(7, 4, 1, 2, 0, 8192);
	put(9, 10, 3, 3, 2, 4096);
	free_slot(9);
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.next, 2);
	for (uint32_t i = 0; i < F.h.ns.next; i++) {
		const struct xphv_extent *e = &F.h.ns.st.ext[i];

		CHECK(e->slot == 3 || e->slot == 7);
		CHECK_EQ_U64(e->mapped_domid, XPHV_NO_DOMID);
		ext_uuid(u, e->slot == 3 ? 1 : 2);
		CHECK(!memcmp(e->uuid, u, 16));
		CHECK_EQ_U64(e->offset, F.im.sb.data_offset +
						(e->slot == 3 ? 0 : 4) * HVI_CHUNK);
		CHECK_EQ_U64(e->size, (e->slot == 3 ? 2 : 1) * HVI_CHUNK);
		CHECK_EQ_U64(e->label_size, e->slot == 3 ? 0 : 8192);
		CHECK_EQ_U64(e->type, XP_REC_DATA);
	}
	CHECK_CLEAN();
}

static void t_sb_differ(void)
{
	struct hvi_spec s = spec_std(0);
	struct xp_sb b;

	if (!fx_img(&s))
		return;
	b = F.im.sb;
	b.init_time++;
	b.generation = 2;
	xp_sb_encode(&b, true, F.im.buf + F.im.size - XP_SB_BLOCK);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SB_DIFFER, NOSLOT, 1, 2);
	CHECK_CLEAN();
}

static void t_sb_one_invalid(void)
{
	struct hvi_spec s = spec_std(0);

	/* backup damaged: the primary alone */
	if (!fx_img(&s))
		return;
	F.im.buf[F.im.size - XP_SB_BLOCK + 100] ^= 1;
	CHECK(fx_validate() == 0);
	CHECK(F.h.ns.sb_one_valid);
	CHECK_EQ_U64(F.h.ns.sb_copy, 0);

	/* primary damaged: the backup alone */
	if (!fx_img(&s))
		return;
	F.im.buf[100] ^= 1;
	CHECK(fx_validate() == 0);
	CHECK(F.h.ns.sb_one_valid);
	CHECK_EQ_U64(F.h.ns.sb_copy, 1);

	/* an interrupted rewrite: same but generation, the higher wins */
	if (!fx_img(&s))
		return;
	F.im.sb.generation = 5;
	xp_sb_encode(&F.im.sb, true, F.im.buf + F.im.size - XP_SB_BLOCK);
	CHECK(fx_validate() == 0);
	CHECK(!F.h.ns.sb_one_valid);
	CHECK_EQ_U64(F.h.ns.sb_copy, 1);
	CHECK_EQ_U64(F.h.ns.sb.generation, 5);

	/* neither */
	if (!fx_img(&s))
		return;
	F.im.buf[100] ^= 1;
	F.im.buf[F.im.size - XP_SB_BLOCK + 100] ^= 1;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SB_NONE, NOSLOT, XP_E_CHECKSUM, XP_E_CHECKSUM);
	CHECK_CLEAN();
}

static void t_moved(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	F.im.phys = PHYS + GiB;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_MOVED, NOSLOT, PHYS, PHYS + GiB);
	F.im.phys = PHYS - 4096;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_MOVED, NOSLOT, PHYS, PHYS - 4096);
	CHECK_CLEAN();
}

/*
 * Without PHYS_KNOWN the layout was solved for address 0: the hypervisor
 * takes it wherever every alignment and chunk count still hold
 * (docs/format.md "For the hypervisor", docs/hypervisor-abi.md).
 */
static void t_no_phys_known(void)
{
	struct hvi_spec s = spec_std(0);

	s.phys_known = false;
	if (!fx_img(&s))
		return;
	CHECK(!(F.im.sb.compat & XP_SB_F_PHYS_KNOWN));
	CHECK_EQ_U64(F.im.sb.phys_base, 0);
	/* at 64 GiB (or any 2 MiB boundary inside one group): accepted */
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.plan.ft.mfn, (PHYS + 2 * MiB) >> 12);
	F.im.phys = PHYS + 6 * MiB;
	CHECK(fx_validate() == 0);
	/* not 2 MiB aligned: the data area is not where it must be */
	F.im.phys = PHYS + 4096;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_ALIGN, NOSLOT, PHYS + 4096 + 8 * MiB,
		  2 * MiB);
	/* 2 MiB aligned, but the data frames now straddle two frame-table
	 * groups: one reserved chunk is not enough */
	F.im.phys = PHYS + 240 * MiB;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_MGMT_SMALL, NOSLOT, 2, 1);
	CHECK_CLEAN();
}

/* Probe alone at @length (the image may be larger than the namespace). */
static int fx_probe(uint64_t length)
{
	struct xphv_need need;

	memset(&F.h.ns, 0, sizeof(F.h.ns));
	F.im.wmode = HVI_W_NONE;
	return xphv_probe(&F.h.ns, &F.im.m, F.im.phys, length, &need, &F.why);
}

static void t_size(void)
{
	struct hvi_spec s = spec_std(66 * MiB);
	struct hvi_spec s64 = spec_std(64 * MiB);
	struct xp_sb sb;

	if (!fx_img(&s))
		return;
	/* a 64 MiB namespace in a 66 MiB range: its backup is not at the
	 * end of the range, its primary names another size */
	CHECK(hvi_make_sb(&s64, &sb) == XP_OK);
	memset(F.im.buf + F.im.size - XP_SB_BLOCK, 0, XP_SB_BLOCK);
	xp_sb_encode(&sb, true, F.im.buf + 64 * MiB - XP_SB_BLOCK);
	xp_sb_encode(&sb, false, F.im.buf);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SIZE, NOSLOT, 64 * MiB, 66 * MiB);
	/* the right length is accepted */
	CHECK(fx_probe(64 * MiB) == 0);
	/* a shorter one is not */
	CHECK(fx_probe(62 * MiB) != 0);
	CHECK_WHY(&F.why, XPHV_R_SIZE, NOSLOT, 64 * MiB, 62 * MiB);
	CHECK_CLEAN();
}

static void t_range_io(void)
{
	struct hvi_spec s = spec_std(0);
	struct xphv_need need;

	if (!fx_img(&s))
		return;
	F.im.phys = PHYS + 1;
	CHECK(fx_probe(F.im.size) != 0);
	CHECK_WHY(&F.why, XPHV_R_RANGE, NOSLOT, PHYS + 1, F.im.size);
	F.im.phys = PHYS;
	CHECK(fx_probe(F.im.size - 1) != 0);
	CHECK_WHY(&F.why, XPHV_R_RANGE, NOSLOT, PHYS, F.im.size - 1);
	CHECK(xphv_probe(&F.h.ns, &F.im.m, (1ull << 57) - 32 * MiB, F.im.size,
			 &need, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_RANGE, NOSLOT, (1ull << 57) - 32 * MiB,
		  F.im.size);
	CHECK(xphv_probe(&F.h.ns, &F.im.m, PHYS, 4096, &need, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_RANGE, NOSLOT, PHYS, 4096);
	F.im.fail_read_in = 1;
	CHECK(fx_probe(F.im.size) != 0);
	CHECK_WHY(&F.why, XPHV_R_IO, NOSLOT, 0, XP_SB_BLOCK);
	/* the table read fails: validate says IO too */
	CHECK(fx_probe(F.im.size) == 0);
	F.im.fail_read_in = 3;
	hvi_ns_free(&F.h);
	CHECK(hvi_validate(&F.im, &F.h, NULL, &F.g, 8, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_IO, NOSLOT, ANY, ANY);
	CHECK_CLEAN();
}

static void t_zero_block(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	F.im.buf[4096 + 100] = 0x5a;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_ZERO_BLOCK, NOSLOT, 4196, 0x5a);
	F.im.buf[4096 + 100] = 0;
	F.im.buf[8191] = 1;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_ZERO_BLOCK, NOSLOT, 8191, 1);
	CHECK_CLEAN();
}

/* A record the format refuses (outside the data area, here in the
 * management area) is a damaged newer copy: the slot is corrupt. The
 * hv's own EXTENT_OUTSIDE check sits behind the format's. */
static void t_extent_outside(void)
{
	struct hvi_spec s = spec_std(0);
	struct xp_rec r;
	uint8_t *c1;

	if (!fx_img(&s))
		return;
	r = hvi_rec(&F.im, 0, 1, 1, NULL, 0);
	r.offset = F.im.sb.mgmt_offset;
	r.seq = 2;
	c1 = hvi_slot(&F.im, 5) + XP_REC_SIZE;
	xp_rec_encode(&F.im.sb, 5, &r, c1);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SLOT_CORRUPT, 5, XP_OK, XP_E_FIELD);
	/* past the end of the data area */
	if (!fx_img(&s))
		return;
	r = hvi_rec(&F.im, hvi_data_units(&F.im) - 1, 2, 1, NULL, 0);
	r.seq = 2;
	xp_rec_encode(&F.im.sb, 6, &r, hvi_slot(&F.im, 6) + XP_REC_SIZE);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SLOT_CORRUPT, 6, XP_OK, XP_E_FIELD);
	CHECK_CLEAN();
}

/*
 * A 1 GiB aligned extent of a namespace without PHYS_KNOWN (its layout
 * solved for address 0) found at an address that is 2 MiB but not 1 GiB
 * aligned: the format accepts it, the hypervisor must not.
 */
static void t_extent_align(void)
{
	struct hvi_spec s = spec_std(2 * GiB + 4 * MiB);
	struct xp_rec r;

	s.phys_known = false;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, 30 * MiB);
	r = hvi_rec(&F.im, 0, 1, 1, NULL, 0);
	r.align_shift = 30;
	r.offset = GiB;
	r.size = GiB;
	put_rec(2, &r);
	F.im.phys = PHYS;
	CHECK(fx_validate() == 0);
	F.im.phys = PHYS + 2 * MiB;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_EXTENT_ALIGN, 2, PHYS + 2 * MiB + GiB, GiB);
	CHECK_CLEAN();
}

static void t_overlap_dups(void)
{
	struct hvi_spec s = spec_std(0);
	struct xp_rec r;

	if (!fx_img(&s))
		return;
	put(2, 0, 3, 1, 1, 0);
	put(5, 2, 2, 2, 2, 0);
	put(9, 10, 1, 3, 0, 0);
	CHECK(fx_validate() != 0);
	CHECK_MSG(F.why.reason == XPHV_R_OVERLAP &&
			  ((F.why.slot == 5 && F.why.a == 2) ||
			   (F.why.slot == 2 && F.why.a == 5)),
		  "got %s slot %u a %" PRIu64, rname(F.why.reason), F.why.slot,
		  F.why.a);

	/* the same uuid, disjoint, different names */
	if (!fx_img(&s))
		return;
	put(1, 0, 1, 7, 1, 0);
	r = hvi_rec(&F.im, 3, 1, 7, NULL, 0);
	snprintf(r.name, sizeof(r.name), "other");
	put_rec(12, &r);
	CHECK(fx_validate() != 0);
	CHECK_MSG(F.why.reason == XPHV_R_DUP_UUID &&
			  ((F.why.slot == 1 && F.why.a == 12) ||
			   (F.why.slot == 12 && F.why.a == 1)),
		  "got %s slot %u a %" PRIu64, rname(F.why.reason), F.why.slot,
		  F.why.a);

	/* the same name, different uuids */
	if (!fx_img(&s))
		return;
	put(0, 0, 1, 7, 1, 0);
	r = hvi_rec(&F.im, 3, 1, 8, NULL, 0);
	snprintf(r.name, sizeof(r.name), "x7");
	put_rec(15, &r);
	CHECK(fx_validate() != 0);
	CHECK_MSG(F.why.reason == XPHV_R_DUP_NAME &&
			  ((F.why.slot == 0 && F.why.a == 15) ||
			   (F.why.slot == 15 && F.why.a == 0)),
		  "got %s slot %u a %" PRIu64, rname(F.why.reason), F.why.slot,
		  F.why.a);
	CHECK_CLEAN();
}

static void t_corrupt_slot(void)
{
	struct hvi_spec s = spec_std(0);
	int c;

	if (!fx_img(&s))
		return;
	put(4, 0, 1, 1, 1, 0);
	c = 1;	/* the update went to copy 1 (init filled copy 0) */
	hvi_slot(&F.im, 4)[c * XP_REC_SIZE + 75] ^= 0x20; /* payload byte */
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_SLOT_CORRUPT, 4, XP_OK, XP_E_CHECKSUM);
	/* a torn newer copy rolls back: accepted, the slot is free */
	if (!fx_img(&s))
		return;
	{
		struct xp_rec r = hvi_rec(&F.im, 0, 1, 1, NULL, 0);

		CHECK(hvi_update_torn(&F.im, 4, &r, 0x00ff) == 1);
	}
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.next, 0);
	/* a tag byte damaged: still valid */
	if (!fx_img(&s))
		return;
	put(4, 0, 1, 1, 1, 0);
	hvi_slot(&F.im, 4)[XP_REC_SIZE + 7] ^= 0x40;
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.next, 1);
	CHECK_CLEAN();
}

static void t_mgmt_small(void)
{
	struct hvi_spec s = spec_std(256 * MiB);

	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, 8 * MiB);
	CHECK_EQ_U64(F.im.sb.chunks.ft, 1);
	/* 64-byte page_info: a chunk covers 128 MiB, the data area two */
	F.g.page_info_size = 64;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_MGMT_SMALL, NOSLOT, 2, 1);
	/* 4-byte M2P entries: fewer chunks needed, accepted */
	xphv_geom_xen_x86(&F.g, true);
	F.g.m2p_entry = 4;
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.plan.m2p.count, 1);
	/* 8-byte compat entries over 2 GiB groups: one 1 GiB group each */
	xphv_geom_xen_x86(&F.g, true);
	F.g.compat_entry = 8;
	CHECK(fx_validate() == 0);
	CHECK_CLEAN();
}

static void t_compat(void)
{
	struct hvi_spec s = spec_std(0);

	s.mgmt = HVI_MGMT_XEN_NOCOMPAT;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.chunks.compat, 0);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_COMPAT, NOSLOT, 1, 0);
	xphv_geom_xen_x86(&F.g, false);
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.plan.compat.count, 0);
	/* reserved but not needed (pv=no-32): fine, left unused */
	s.mgmt = HVI_MGMT_XEN;
	if (!fx_img(&s))
		return;
	xphv_geom_xen_x86(&F.g, false);
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.plan.compat.count, 0);
	CHECK_EQ_U64(F.h.ns.plan.compat.reserved, 1);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 2 * 512);
	CHECK_CLEAN();
}

static void t_expect(void)
{
	struct hvi_spec s = spec_std(0);
	struct xphv_expect e;

	s.generation = 3;
	if (!fx_img(&s))
		return;
	memset(&e, 0, sizeof(e));
	memcpy(e.ns_uuid, hvi_default_uuid, 16);
	e.generation = 3;
	CHECK(fx_validate_exp(&e) == 0);
	e.generation = 7;
	CHECK(fx_validate_exp(&e) != 0);
	CHECK_WHY(&F.why, XPHV_R_GENERATION, NOSLOT, 3, 7);
	e.generation = 0;
	e.ns_uuid[5] ^= 1;
	CHECK(fx_validate_exp(&e) != 0);
	CHECK_WHY(&F.why, XPHV_R_UUID, NOSLOT, ANY, ANY);
	CHECK_CLEAN();
}

static void t_pdx(void)
{
	struct hvi_spec s = spec_std(0);
	uint64_t ds;

	if (!fx_img(&s))
		return;
	ds = ds_mfn();
	CHECK_EQ_U64(ds, 0x1000800);
	F.g.pfn_to_pdx = hvi_pdx_fn;
	F.g.pdx_ctx = &F.pdx;
	/* a hole inside the data area */
	F.pdx.lo = ds + 3 * 512;
	F.pdx.hi = ds + 5 * 512;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_PDX, NOSLOT, ds + 3 * 512, ANY);
	/* starting at the first data frame */
	F.pdx.lo = ds;
	F.pdx.hi = ds + 512;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_PDX, NOSLOT, ds, ANY);
	/* at the last frame */
	F.pdx.lo = ds + 13823;
	F.pdx.hi = ds + 13824;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_PDX, NOSLOT, ANY, ANY);
	/* below it: PDX = MFN - 28 GiB worth of frames */
	F.pdx.lo = 0x100000;
	F.pdx.hi = 0x800000;
	CHECK(fx_validate() == 0);
	CHECK_EQ_U64(F.h.ns.plan.ft.first, (ds - 0x700000) / 65536);
	CHECK_EQ_U64(F.h.ns.plan.m2p.first, ds / 262144);
	{
		uint64_t b;
		uint32_t off;

		CHECK(xphv_ft_slot(&F.h.ns, ds + 5, &b, &off) == 0);
		CHECK_EQ_U64(b, F.h.ns.plan.ft.mfn +
					(((ds - 0x700000) % 65536 + 5) * 32) /
						4096);
		CHECK_EQ_U64(off, (((ds - 0x700000) % 65536 + 5) * 32) % 4096);
	}
	CHECK_CLEAN();
}

static void t_limit(void)
{
	struct hvi_spec s = spec_std(0);
	uint64_t ds, de;

	if (!fx_img(&s))
		return;
	ds = ds_mfn();
	de = ds + (54 * MiB >> 12);
	F.g.ft_pdx_limit = ds + 100;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_LIMIT, NOSLOT, de - 1, ds + 100);
	xphv_geom_xen_x86(&F.g, true);
	F.g.m2p_mfn_limit = ds + 5;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_LIMIT, NOSLOT, de - 1, ds + 5);
	/* exactly enough */
	xphv_geom_xen_x86(&F.g, true);
	F.g.ft_pdx_limit = de;
	F.g.m2p_mfn_limit = de;
	CHECK(fx_validate() == 0);
	/* Xen's own limits: 16 TiB of frame table, 128 TiB of M2P */
	xphv_geom_xen_x86(&F.g, true);
	CHECK_EQ_U64(F.g.ft_pdx_limit, 16 * TiB >> 12);
	CHECK_EQ_U64(F.g.m2p_mfn_limit, 128 * TiB >> 12);
	CHECK_CLEAN();
}

static void t_limit_far(void)
{
	struct hvi_spec s = spec_std(0);

	/* beyond 16 TiB: the frame table does not reach */
	s.phys = 20 * TiB;
	if (!fx_img(&s))
		return;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_LIMIT, NOSLOT,
		  ((20 * TiB + 62 * MiB) >> 12) - 1, 16 * TiB >> 12);
	CHECK_CLEAN();
}

static void t_geometry(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	F.g.page_info_size = 48;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_GEOMETRY, NOSLOT, ANY, ANY);
	xphv_geom_xen_x86(&F.g, true);
	F.g.chunk_shift = 22;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_GEOMETRY, NOSLOT, 22, 21);
	xphv_geom_xen_x86(&F.g, true);
	F.g.m2p_entry = 0;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_GEOMETRY, NOSLOT, ANY, ANY);
	/* no management area at all */
	s.mgmt = HVI_MGMT_NONE;
	if (!fx_img(&s))
		return;
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_NO_MGMT, NOSLOT, ANY, ANY);
	CHECK_CLEAN();
}

static void t_version(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	F.im.sb.incompat = 1;
	hvi_write_sbs(&F.im);
	CHECK(fx_validate() != 0);
	CHECK_WHY(&F.why, XPHV_R_VERSION, NOSLOT, ANY, ANY);
	/* a newer minor reads fine */
	if (!fx_img(&s))
		return;
	F.im.sb.minor = 1;
	hvi_write_sbs(&F.im);
	CHECK(fx_validate() == 0);
	CHECK_CLEAN();
}

/* ---- Plan --------------------------------------------------------------- */

static void check_array(const char *what, const struct xphv_array_plan *p,
			uint64_t first, uint64_t count, uint64_t mfn,
			uint64_t reserved)
{
	CHECK_MSG(p->first == first && p->count == count && p->mfn == mfn &&
			  p->reserved == reserved,
		  "%s: first %#" PRIx64 " count %" PRIu64 " mfn %#" PRIx64
		  " reserved %" PRIu64 ", want %#" PRIx64 " %" PRIu64
		  " %#" PRIx64 " %" PRIu64,
		  what, p->first, p->count, p->mfn, p->reserved, first, count,
		  mfn, reserved);
}

static void t_plan_std(void)
{
	struct hvi_spec s = spec_std(0);
	uint64_t m = (PHYS + 2 * MiB) >> 12, ds = 0x1000800;

	if (!fx_img(&s))
		return;
	CHECK(fx_validate() == 0);
	check_array("ft", &F.h.ns.plan.ft, ds / 65536, 1, m, 1);
	check_array("m2p", &F.h.ns.plan.m2p, ds / 262144, 1, m + 512, 1);
	check_array("compat", &F.h.ns.plan.compat, ds / 524288, 1, m + 1024, 1);
	CHECK_EQ_U64(F.h.ns.plan.entries_per_ft_chunk, 65536);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 3 * 512);
}

/* 1 GiB aligned data area: it owns its frame-table and M2P groups. */
static void t_plan_1g(void)
{
	struct hvi_spec s = spec_std(3 * GiB + 4096);
	uint64_t m = (PHYS + 2 * MiB) >> 12;

	s.align_shift = 30;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, GiB);
	CHECK_EQ_U64(F.im.sb.data_size, 2 * GiB);
	CHECK(fx_validate() == 0);
	check_array("ft", &F.h.ns.plan.ft, 260, 8, m, 8);
	check_array("m2p", &F.h.ns.plan.m2p, 65, 2, m + 8 * 512, 2);
	check_array("compat", &F.h.ns.plan.compat, 32, 2, m + 10 * 512, 2);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 12 * 512);
	CHECK_CLEAN();
}

/* 2 MiB aligned at 64 GiB + 200 MiB: the data area straddles a 256 MiB
 * frame-table group boundary; both partial groups get a chunk. */
static void t_plan_partial(void)
{
	struct hvi_spec s = spec_std(128 * MiB);
	uint64_t m;

	s.phys = PHYS + 200 * MiB;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.mgmt_offset, 2 * MiB);
	CHECK_EQ_U64(F.im.sb.data_offset, 10 * MiB);
	CHECK_EQ_U64(F.im.sb.data_size, 116 * MiB);
	m = (PHYS + 202 * MiB) >> 12;
	CHECK(fx_validate() == 0);
	check_array("ft", &F.h.ns.plan.ft, 256, 2, m, 2);
	check_array("m2p", &F.h.ns.plan.m2p, 64, 1, m + 1024, 1);
	check_array("compat", &F.h.ns.plan.compat, 32, 1, m + 1536, 1);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 4 * 512);
	CHECK_CLEAN();
}

static void t_plan_compat_1t(void)
{
	struct hvi_spec s = spec_std(0);
	uint64_t m;

	/* straddling 1 TiB: the compat M2P covers the part below */
	s.phys = TiB - 32 * MiB;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, 12 * MiB);
	m = (TiB - 30 * MiB) >> 12;
	CHECK(fx_validate() == 0);
	check_array("ft", &F.h.ns.plan.ft, 4095, 2, m, 2);
	check_array("m2p", &F.h.ns.plan.m2p, 1023, 2, m + 1024, 2);
	check_array("compat", &F.h.ns.plan.compat, 511, 1, m + 2048, 1);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 5 * 512);

	/* above 1 TiB: no compat M2P, none reserved, pv32 or not */
	s.phys = 2 * TiB;
	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.chunks.compat, 0);
	CHECK_EQ_U64(F.im.sb.data_offset, 6 * MiB);
	m = (2 * TiB + 2 * MiB) >> 12;
	CHECK(fx_validate() == 0);
	check_array("ft", &F.h.ns.plan.ft, 8192, 1, m, 1);
	check_array("m2p", &F.h.ns.plan.m2p, 2048, 1, m + 512, 1);
	CHECK_EQ_U64(F.h.ns.plan.compat.count, 0);
	CHECK_EQ_U64(F.h.ns.plan.compat.reserved, 0);
	CHECK_EQ_U64(F.h.ns.plan.mgmt_used, 2 * 512);
	CHECK_CLEAN();
}

/* xphv_ft_slot/xphv_m2p_slot against the formula, frame by frame. */
static void check_slots(void)
{
	const struct xphv_plan *pl = &F.h.ns.plan;
	uint64_t ds = ds_mfn(), de = ds + (F.im.sb.data_size >> 12);
	uint64_t b, want;
	uint32_t off;

	for (uint64_t mfn = ds; mfn < de; mfn += (mfn % 997) + 1) {
		uint64_t e = mfn % 65536;

		CHECK(xphv_ft_slot(&F.h.ns, mfn, &b, &off) == 0);
		want = pl->ft.mfn + (mfn / 65536 - pl->ft.first) * 512 +
		       e * 32 / 4096;
		CHECK_MSG(b == want && off == e * 32 % 4096,
			  "ft mfn %#" PRIx64 ": %#" PRIx64 "+%u, want %#" PRIx64
			  "+%" PRIu64, mfn, b, off, want, e * 32 % 4096);
		CHECK(xphv_m2p_slot(&F.h.ns, mfn, false, &b, &off) == 0);
		want = pl->m2p.mfn + (mfn / 262144 - pl->m2p.first) * 512 +
		       mfn % 262144 * 8 / 4096;
		CHECK_MSG(b == want && off == mfn % 262144 * 8 % 4096,
			  "m2p mfn %#" PRIx64, mfn);
		if (pl->compat.count && mfn < (TiB >> 12)) {
			CHECK(xphv_m2p_slot(&F.h.ns, mfn, true, &b, &off) == 0);
			want = pl->compat.mfn +
			       (mfn / 524288 - pl->compat.first) * 512 +
			       mfn % 524288 * 4 / 4096;
			CHECK_MSG(b == want && off == mfn % 524288 * 4 % 4096,
				  "compat mfn %#" PRIx64, mfn);
		} else {
			CHECK(xphv_m2p_slot(&F.h.ns, mfn, true, &b, &off) != 0);
		}
	}
	CHECK(xphv_ft_slot(&F.h.ns, ds - 1, &b, &off) != 0);
	CHECK(xphv_ft_slot(&F.h.ns, de, &b, &off) != 0);
	CHECK(xphv_m2p_slot(&F.h.ns, ds - 1, false, &b, &off) != 0);
	CHECK(xphv_m2p_slot(&F.h.ns, de, false, &b, &off) != 0);
	CHECK(xphv_ft_slot(&F.h.ns, hvi_mfn(&F.im, F.im.sb.mgmt_offset), &b,
			   &off) != 0);
}

static void t_slots(void)
{
	struct hvi_spec s = spec_std(128 * MiB);

	s.phys = PHYS + 200 * MiB;
	if (!fx_img(&s))
		return;
	CHECK(fx_validate() == 0);
	check_slots();
	s = spec_std(0);
	s.phys = TiB - 32 * MiB;
	if (!fx_img(&s))
		return;
	CHECK(fx_validate() == 0);
	check_slots();
	CHECK_CLEAN();
}

static void t_ft_prepare(void)
{
	struct hvi_spec s = spec_std(128 * MiB);
	uint64_t ds, de, m;

	s.phys = PHYS + 200 * MiB;
	if (!fx_img(&s))
		return;
	CHECK(fx_register() == 0);
	ds = ds_mfn();
	de = ds + (F.im.sb.data_size >> 12);
	m = F.h.ns.plan.ft.mfn;
	CHECK_EQ_U64(F.ops.ninit, 0);	/* lazily: nothing at register */
	CHECK(xphv_ft_prepare(&F.h.ns, ds + 10, 1, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK_EQ_U64(F.ops.init[0].chunk, 256);
	CHECK_EQ_U64(F.ops.init[0].backing, m);
	CHECK_EQ_U64(F.ops.init[0].mfn, ds);
	CHECK_EQ_U64(F.ops.init[0].nr, 46 * MiB >> 12);
	CHECK(xphv_ft_prepare(&F.h.ns, ds, 100, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK(xphv_ft_prepare(&F.h.ns, ds, de - ds, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 2);
	CHECK_EQ_U64(F.ops.init[1].chunk, 257);
	CHECK_EQ_U64(F.ops.init[1].backing, m + 512);
	CHECK_EQ_U64(F.ops.init[1].mfn, (PHYS + 256 * MiB) >> 12);
	CHECK_EQ_U64(F.ops.init[1].nr, 70 * MiB >> 12);
	CHECK(xphv_ft_prepare(&F.h.ns, de - 1, 1, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 2);
	/* outside the data area */
	CHECK(xphv_ft_prepare(&F.h.ns, ds - 1, 2, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_ARGS, NOSLOT, ANY, ANY);
	CHECK(xphv_ft_prepare(&F.h.ns, de - 1, 2, &F.why) != 0);
	CHECK(xphv_ft_prepare(&F.h.ns, ds, 0, &F.why) != 0);
	CHECK(xphv_ft_prepare(&F.h.ns, ds, ~0ull, &F.why) != 0);
	CHECK_EQ_U64(F.ops.ninit, 2);
	CHECK_CLEAN();
}

/* A failing init is retried next time, and then done once. */
static void t_ft_prepare_fail(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	CHECK(fx_register() == 0);
	F.ops.fail_init_in = 1;
	CHECK(xphv_ft_prepare(&F.h.ns, ds_mfn(), 1, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_IO, NOSLOT, ANY, ANY);
	CHECK(xphv_ft_prepare(&F.h.ns, ds_mfn(), 1, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK(xphv_ft_prepare(&F.h.ns, ds_mfn(), 1, &F.why) == 0);
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK_CLEAN();
}

/* ---- Registry ----------------------------------------------------------- */

static void t_register_query(void)
{
	struct hvi_spec s = spec_std(0);
	const struct xphv_region *r;
	uint64_t p = PHYS >> 12;

	if (!fx_img(&s))
		return;
	/* host RAM below and above, touching but not overlapping */
	F.ram[0] = (struct xphv_range){0, PHYS};
	F.ram[1] = (struct xphv_range){PHYS + 64 * MiB, PHYS + GiB};
	F.nram = 2;
	/* a dry run changes nothing */
	CHECK(fx_validate() == 0);
	fx_registry();
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, true, &F.why) == 0);
	CHECK_EQ_U64(F.h.ns.id, 0);
	CHECK_EQ_U64(F.reg.nreg, 0);
	CHECK(xphv_query(&F.reg, p) == NULL);
	CHECK(fx_register() == 0);
	CHECK(F.h.ns.id != 0);
	CHECK(xphv_lookup(&F.reg, F.h.ns.id) == &F.h.ns);
	CHECK(xphv_lookup_uuid(&F.reg, hvi_default_uuid) == &F.h.ns);
	CHECK(xphv_lookup(&F.reg, F.h.ns.id + 1) == NULL);
	CHECK_EQ_U64(F.reg.nreg, 4);
	/* metadata: superblock, zero block, table, up to the management */
	r = xphv_query(&F.reg, p);
	CHECK(r && r->type == XPHV_REG_META && r->start_mfn == p &&
	      r->end_mfn == p + 512 && r->ns_id == F.h.ns.id);
	r = xphv_query(&F.reg, p + 2);
	CHECK(r && r->type == XPHV_REG_META);
	r = xphv_query(&F.reg, p + 512);
	CHECK(r && r->type == XPHV_REG_MGMT && r->end_mfn == p + 4 * 512);
	r = xphv_query(&F.reg, p + 4 * 512 - 1);
	CHECK(r && r->type == XPHV_REG_MGMT);
	r = xphv_query(&F.reg, p + 4 * 512);
	CHECK(r && r->type == XPHV_REG_DATA && r->end_mfn == p + 31 * 512);
	r = xphv_query(&F.reg, p + 31 * 512 - 1);
	CHECK(r && r->type == XPHV_REG_DATA);
	/* the unused tail and the backup superblock */
	r = xphv_query(&F.reg, p + 31 * 512);
	CHECK(r && r->type == XPHV_REG_META && r->end_mfn == p + 32 * 512);
	r = xphv_query(&F.reg, p + 32 * 512 - 1);
	CHECK(r && r->type == XPHV_REG_META);
	CHECK(xphv_query(&F.reg, p + 32 * 512) == NULL);
	CHECK(xphv_query(&F.reg, p - 1) == NULL);
	/* registered twice */
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, false, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_NS_OVERLAP, NOSLOT, ANY, ANY);
	/* nothing written by validate or register */
	CHECK_EQ_U64(F.im.nwlog, 0);
	/* unregister: the regions go */
	CHECK(xphv_unregister(&F.reg, F.h.ns.id, &F.why) == 0);
	CHECK_EQ_U64(F.reg.nreg, 0);
	CHECK(xphv_query(&F.reg, p + 4 * 512) == NULL);
	CHECK(xphv_unregister(&F.reg, 1, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_REGISTERED, NOSLOT, 1, 0);
	CHECK_CLEAN();
}

static void t_ram_overlap(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	F.ram[0] = (struct xphv_range){0, 4 * GiB};
	F.ram[1] = (struct xphv_range){PHYS + 60 * MiB, PHYS + 100 * MiB};
	F.nram = 2;
	CHECK(fx_validate() == 0);
	fx_registry();
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, true, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_RAM_OVERLAP, NOSLOT, PHYS + 60 * MiB,
		  PHYS + 100 * MiB);
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, false, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_RAM_OVERLAP, NOSLOT, PHYS + 60 * MiB,
		  PHYS + 100 * MiB);
	CHECK_EQ_U64(F.h.ns.id, 0);
	CHECK_EQ_U64(F.reg.nreg, 0);
	CHECK_CLEAN();
}

static void t_ns_overlap(void)
{
	struct hvi_spec s = spec_std(0);
	struct hvi im2;
	struct hvi_ns h2;
	struct xphv_refusal w;

	if (!fx_img(&s))
		return;
	CHECK(fx_register() == 0);
	/* a second namespace overlapping the first */
	s.phys = PHYS + 32 * MiB;
	hvi_uuid(s.uuid, 2, 0x77);
	CHECK(hvi_init(&im2, &s) == 0);
	CHECK(hvi_validate(&im2, &h2, NULL, &F.g, 8, &w) == 0);
	CHECK(xphv_register(&F.reg, &h2.ns, &F.ops.ops, false, &w) != 0);
	CHECK_WHY(&w, XPHV_R_NS_OVERLAP, NOSLOT, PHYS, PHYS + 64 * MiB);
	hvi_free(&im2);
	hvi_ns_free(&h2);
	/* disjoint, but the same namespace uuid (a copy) */
	s.phys = PHYS + GiB;
	memset(s.uuid, 0, 16);
	CHECK(hvi_init(&im2, &s) == 0);
	CHECK(hvi_validate(&im2, &h2, NULL, &F.g, 8, &w) == 0);
	CHECK(xphv_register(&F.reg, &h2.ns, &F.ops.ops, false, &w) != 0);
	CHECK_WHY(&w, XPHV_R_NS_OVERLAP, NOSLOT, PHYS, PHYS + 64 * MiB);
	hvi_free(&im2);
	hvi_ns_free(&h2);
	/* disjoint with its own uuid: both registered, regions sorted */
	hvi_uuid(s.uuid, 3, 0x77);
	s.phys = PHYS - GiB;
	CHECK(hvi_init(&im2, &s) == 0);
	CHECK(hvi_validate(&im2, &h2, NULL, &F.g, 8, &w) == 0);
	CHECK(xphv_register(&F.reg, &h2.ns, &F.ops.ops, false, &w) == 0);
	CHECK(h2.ns.id != F.h.ns.id);
	CHECK_EQ_U64(F.reg.nreg, 8);
	for (uint32_t i = 1; i < F.reg.nreg; i++)
		CHECK(F.reg.reg[i - 1].end_mfn <= F.reg.reg[i].start_mfn);
	CHECK(xphv_query(&F.reg, (PHYS - GiB) >> 12)->ns_id == h2.ns.id);
	CHECK(xphv_query(&F.reg, PHYS >> 12)->ns_id == F.h.ns.id);
	CHECK(xphv_unregister(&F.reg, h2.ns.id, &w) == 0);
	CHECK(xphv_query(&F.reg, PHYS >> 12)->ns_id == F.h.ns.id);
	CHECK_EQ_U64(F.reg.nreg, 4);
	hvi_free(&im2);
	hvi_ns_free(&h2);
	CHECK_CLEAN();
}

static void t_registry_full(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	CHECK(fx_validate() == 0);
	xphv_registry_init(&F.reg, NULL, 0, F.nsp, 4, F.regions, 3, F.maps, 64);
	F.reg_ready = true;
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, false, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_FULL, NOSLOT, ANY, ANY);
	CHECK_EQ_U64(F.h.ns.id, 0);
	CHECK_CLEAN();
}

/* ---- Mapping ------------------------------------------------------------ */

static void t_map_owner(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	put(2, 0, 2, 1, 1, 0);		/* owned by dom 1's uuid */
	put(3, 4, 1, 2, 0, 0);		/* unassigned */
	CHECK(fx_register() == 0);
	CHECK(fx_map(2, 1, 0x100000) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_OWNER, 2, 2, 0);
	CHECK(fx_map(1, 2, 0x100000) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_OWNER, 3, 1, 0);
	CHECK_EQ_U64(F.p.frames_mapped, 0);
	CHECK(fx_map(1, 1, 0x100000) == 0);
	CHECK_WHY(&F.why, XPHV_OK, 2, 1024, 2);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 1024);
	CHECK_EQ_U64(F.h.ns.nmapped, 1);
	CHECK_EQ_U64(F.reg.nmap, 1);
	CHECK_EQ_U64(F.reg.map[0].mfn, unit_mfn(0));
	CHECK_EQ_U64(F.reg.map[0].nr, 1024);
	/* no such extent, no such namespace */
	CHECK(fx_map(1, 99, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_NO_EXTENT, NOSLOT, ANY, ANY);
	{
		struct xphv_domain d = dom(1);
		uint8_t u[16];

		ext_uuid(u, 1);
		CHECK(xphv_map(&F.reg, 3, &d, u, 0, &F.p.p2m, &F.why) != 0);
		CHECK_WHY(&F.why, XPHV_R_NOT_REGISTERED, NOSLOT, 3, 0);
		d.domid = XPHV_NO_DOMID;
		CHECK(xphv_map(&F.reg, F.h.ns.id, &d, u, 0, &F.p.p2m,
			       &F.why) != 0);
		CHECK_WHY(&F.why, XPHV_R_ARGS, NOSLOT, ANY, ANY);
	}
	/* never management, metadata or label frames: checked by hvp */
	CHECK_CLEAN();
}

static void t_map_label_orders(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	put(0, 0, 3, 1, 1, 0);		/* 6 MiB, no label */
	put(1, 4, 3, 2, 1, 4096);	/* 6 MiB, 4 KiB label */
	put(2, 8, 2, 3, 1, 2 * MiB - 4096); /* label of 511 frames */
	put(3, 12, 2, 4, 1, 0);
	CHECK(fx_register() == 0);

	/* aligned gfn: three 2 MiB entries */
	F.p.maps = F.p.orders9 = 0;
	CHECK(fx_map(1, 1, 0x200000) == 0);
	CHECK_EQ_U64(F.p.orders9, 3);
	CHECK_EQ_U64(F.p.maps, 3);
	CHECK_WHY(&F.why, XPHV_OK, 0, 1536, 3);

	/* the label frame is never mapped: two 2 MiB entries, 511 small */
	F.p.maps = F.p.orders9 = 0;
	CHECK(fx_map(1, 2, 0x300000) == 0);
	CHECK_EQ_U64(F.p.orders9, 2);
	CHECK_EQ_U64(F.p.maps, 2 + 511);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 1536 + 1535);
	{
		/* the last frame of extent 2 is its label: not mapped */
		uint64_t last = unit_mfn(4) + 3 * 512 - 1;

		CHECK_EQ_U64(F.p.fr[0][last - F.p.lo_mfn[0]].dom, 0);
		CHECK_EQ_U64(F.p.fr[0][last - 1 - F.p.lo_mfn[0]].dom, 1);
	}

	/* 1 + 512 data frames: the one 2 MiB block whole, the rest small */
	F.p.maps = F.p.orders9 = 0;
	CHECK(fx_map(1, 3, 0x400000) == 0);
	CHECK_EQ_U64(F.p.orders9, 1);
	CHECK_EQ_U64(F.p.maps, 2);

	/* unaligned gfn: every frame small */
	F.p.maps = F.p.orders9 = 0;
	CHECK(fx_map(1, 4, 0x500001) == 0);
	CHECK_EQ_U64(F.p.orders9, 0);
	CHECK_EQ_U64(F.p.maps, 1024);
	CHECK_WHY(&F.why, XPHV_OK, 3, 1024, 0);

	/* unmap releases exactly what was mapped, in the same orders */
	F.p.unmaps = 0;
	CHECK(fx_unmap(1, 2) == 0);
	CHECK_EQ_U64(F.p.unmaps, 2 + 511);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 1536 + 513 + 1024);
	CHECK_EQ_U64(F.reg.nmap, 3);
	CHECK_CLEAN();
}

static void t_map_twice_unmap_destroy(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t u[16];

	if (!fx_img(&s))
		return;
	put(0, 0, 1, 1, 1, 0);
	put(1, 2, 1, 2, 1, 0);
	put(2, 4, 1, 3, 2, 0);
	CHECK(fx_register() == 0);
	CHECK(fx_map(1, 1, 0x1000) == 0);
	CHECK(fx_map(1, 1, 0x9000) != 0);
	CHECK_WHY(&F.why, XPHV_R_MAPPED, 0, 1, 0);
	CHECK(fx_map(3, 1, 0x9000) != 0);	/* not the owner either */
	CHECK(fx_map(1, 2, 0x2000) == 0);
	CHECK(fx_map(2, 3, 0x1000) == 0);
	CHECK_EQ_U64(F.h.ns.nmapped, 3);
	/* unregister refused while mapped */
	CHECK(xphv_unregister(&F.reg, F.h.ns.id, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_BUSY, NOSLOT, 3, 0);
	/* unmap: the wrong domain, then the right one */
	CHECK(fx_unmap(2, 1) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_MAPPED, NOSLOT, 2, 0);
	CHECK(fx_unmap(1, 1) == 0);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 512);
	CHECK(fx_unmap(1, 1) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_MAPPED, NOSLOT, 1, 0);
	/* and mapped again after the unmap */
	CHECK(fx_map(1, 1, 0x7000) == 0);
	/* dom 1 dies: both its mappings go, dom 2's stays */
	CHECK_EQ_U64(xphv_domain_destroy(&F.reg, 1, &F.p.p2m), 2);
	CHECK_CLEAN();
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 0);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 2, NULL), 512);
	CHECK_EQ_U64(F.h.ns.nmapped, 1);
	CHECK_EQ_U64(xphv_domain_destroy(&F.reg, 1, &F.p.p2m), 0);
	/* the ns id survives a wrong-namespace unmap */
	ext_uuid(u, 3);
	CHECK(xphv_unmap(&F.reg, 9, 2, u, &F.p.p2m, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_REGISTERED, NOSLOT, 9, 0);
	CHECK_EQ_U64(xphv_domain_destroy(&F.reg, 2, &F.p.p2m), 1);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 0, NULL), 0);
	CHECK_EQ_U64(F.h.ns.nmapped, 0);
	CHECK(xphv_unregister(&F.reg, F.h.ns.id, &F.why) == 0);
	CHECK_EQ_U64(F.p.frames_mapped, F.p.frames_unmapped);
	CHECK_CLEAN();
}

static void t_map_gfn_p2m(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	CHECK(fx_map(1, 1, (1ull << 40) - 1023) != 0);
	CHECK_WHY(&F.why, XPHV_R_GFN, 0, (1ull << 40) - 1023, 1024);
	CHECK(fx_map(1, 1, ~0ull - 5) != 0);
	CHECK_WHY(&F.why, XPHV_R_GFN, 0, ANY, ANY);
	CHECK(fx_map(1, 1, (1ull << 40) - 1024) == 0);
	CHECK(fx_unmap(1, 1) == 0);
	/* the p2m fails half way: what was mapped is undone */
	F.p.fail_map_in = 2;
	CHECK(fx_map(1, 1, 0x400) != 0);
	CHECK_WHY(&F.why, XPHV_R_P2M, 0, 0x400 + 512, (uint64_t)-12);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 0, NULL), 0);
	CHECK_EQ_U64(F.h.ns.nmapped, 0);
	CHECK_EQ_U64(F.reg.nmap, 0);
	CHECK(fx_map(1, 1, 0x400) == 0);
	CHECK_CLEAN();
}

/* Dom0 changes the table between register and map: the media decides. */
static void t_map_dom0_changes(void)
{
	struct hvi_spec s = spec_std(0);

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	put(1, 4, 2, 2, 1, 0);
	put(2, 8, 2, 3, 1, 0);
	CHECK(fx_register() == 0);

	/* new owner on media: the old owner is refused, the new one maps */
	put(0, 0, 2, 1, 2, 0);
	CHECK(fx_map(1, 1, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_OWNER, 0, 1, 0);
	CHECK(fx_map(2, 1, 0) == 0);

	/* destroyed on media: CHANGED */
	free_slot(2);
	CHECK(fx_map(1, 3, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_CHANGED, 2, ANY, ANY);

	/* moved over the mapped extent 1: refused, nothing mapped twice */
	put(1, 1, 2, 2, 1, 0);
	CHECK(fx_map(1, 2, 0x1000) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_MAPPED ||
			  F.why.reason == XPHV_R_FRAME_MAPPED ||
			  F.why.reason == XPHV_R_OVERLAP,
		  "got %s", rname(F.why.reason));
	/* Dom0 destroys mapped extent 1 on media and moves 2 over its
	 * frames: still refused, the frames are the guest's */
	free_slot(0);
	CHECK(fx_map(1, 2, 0x1000) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_MAPPED ||
			  F.why.reason == XPHV_R_FRAME_MAPPED ||
			  F.why.reason == XPHV_R_OVERLAP,
		  "got %s", rname(F.why.reason));
	/* the mapping stays what it was until unmapped */
	CHECK_EQ_U64(hvp_count(&F.p, 0, 2, NULL), 1024);
	CHECK(fx_unmap(2, 1) == 0);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 0, NULL), 0);
	/* extent 1 is gone on media now: CHANGED, the cache follows */
	CHECK(fx_map(2, 1, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_CHANGED, 0, ANY, ANY);
	/* a corrupt slot at map time */
	put(1, 4, 2, 2, 1, 0);
	hvi_slot(&F.im, 1)[75] ^= 1;
	hvi_slot(&F.im, 1)[XP_REC_SIZE + 75] ^= 1;
	CHECK(fx_map(1, 2, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_SLOT_CORRUPT, 1, ANY, ANY);
	CHECK_CLEAN();
}

/* ---- Lent RAM ----------------------------------------------------------- */

/* 640 MiB at 64 GiB; a 256 MiB extent at 64G + 256M is lent as RAM. */
static struct hvi_spec spec_lent(void)
{
	return spec_std(640 * MiB);
}

static struct xp_rec lent_rec(uint64_t off, uint64_t size, uint32_t id)
{
	struct xp_rec r = hvi_rec(&F.im, 0, 1, id, NULL, 0);

	r.type = XP_REC_LENT_RAM;
	r.offset = off;
	r.size = size;
	return r;
}

static void t_lent(void)
{
	struct hvi_spec s = spec_lent();
	struct xp_rec r;
	const struct xphv_region *q;
	uint64_t start = (PHYS + 256 * MiB) >> 12, b;
	uint32_t off;

	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, 12 * MiB);
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	put_rec(3, &r);
	put(0, 0, 2, 2, 1, 0);				/* data below */
	put(1, (512 - 12) / 2, 2, 3, 1, 0);		/* data above */
	CHECK(fx_register() == 0);
	CHECK_EQ_U64(F.h.ns.nlent, 1);
	/* its own frame table first: one chunk for its 65536 frames */
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK_EQ_U64(F.ops.init[0].chunk, start / 65536);
	CHECK_EQ_U64(F.ops.init[0].backing, start);
	CHECK_EQ_U64(F.ops.init[0].mfn, start);
	CHECK_EQ_U64(F.ops.init[0].nr, 65536);
	/* the heap gets the rest */
	CHECK_EQ_U64(F.ops.nheap, 1);
	CHECK_EQ_U64(F.ops.heap[0].mfn, start + 512);
	CHECK_EQ_U64(F.ops.heap[0].nr, 65536 - 512);
	CHECK_EQ_U64(F.h.ns.st.lent[0].heap_mfn, start + 512);
	/* its frames' page_info sits in its own first frames */
	CHECK(xphv_ft_slot(&F.h.ns, start + 1000, &b, &off) == 0);
	CHECK_EQ_U64(b, start + 1000 * 32 / 4096);
	CHECK_EQ_U64(off, 1000 * 32 % 4096);
	CHECK(xphv_ft_slot(&F.h.ns, start + 65535, &b, &off) == 0);
	CHECK_EQ_U64(b, start + 511);
	/* regions: data, RAM, data */
	q = xphv_query(&F.reg, start);
	CHECK(q && q->type == XPHV_REG_RAM && q->end_mfn == start + 65536);
	q = xphv_query(&F.reg, start - 1);
	CHECK(q && q->type == XPHV_REG_DATA);
	q = xphv_query(&F.reg, start + 65536);
	CHECK(q && q->type == XPHV_REG_DATA);
	/* no guest map */
	CHECK(fx_map(1, 1, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_DATA, 3, XP_REC_LENT_RAM, 0);
	/* the data on either side maps */
	CHECK(fx_map(1, 2, 0) == 0);
	CHECK(fx_map(1, 3, 0x10000) == 0);
	CHECK(xphv_domain_destroy(&F.reg, 1, &F.p.p2m) == 2);
	/* one way: unregister refused for ever */
	CHECK(xphv_unregister(&F.reg, F.h.ns.id, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_LENT, NOSLOT, 1, 0);
	/* the lazily set up data chunks never take the lent group */
	CHECK(xphv_ft_prepare(&F.h.ns, ds_mfn(), F.im.sb.data_size >> 12,
			      &F.why) != 0 ||
	      hvo_inits_of(&F.ops, start / 65536) == 1);
	CHECK_MSG(hvo_inits_of(&F.ops, start / 65536) == 1,
		  "the lent extent's frame-table chunk %#" PRIx64
		  " was initialised %u times (again from the management area)",
		  start / 65536, hvo_inits_of(&F.ops, start / 65536));
	CHECK_CLEAN();
}

/*
 * A lent extent need not cover whole frame-table groups: the groups it
 * holds whole get their chunk from its own first frames, the groups it
 * shares keep theirs in the management area (docs/hypervisor-abi.md).
 * 1 GiB at 64 GiB; the data area starts at 14 MiB.
 */
static void t_lent_partial(void)
{
	struct hvi_spec s = spec_std(GiB);
	struct xp_rec r;
	uint64_t start = (PHYS + 128 * MiB) >> 12, m, b;
	uint32_t off;

	if (!fx_img(&s))
		return;
	CHECK_EQ_U64(F.im.sb.data_offset, 14 * MiB);
	CHECK_EQ_U64(F.im.sb.chunks.ft, 4);
	/* [64G + 128M, 64G + 640M): half a group, a group, half a group */
	r = lent_rec(128 * MiB, 512 * MiB, 1);
	r.label_size = 4096;		/* RAM like the rest */
	put_rec(3, &r);
	put(0, 0, 2, 2, 1, 0);		/* data sharing group 256 */
	CHECK(fx_register() == 0);
	m = F.h.ns.plan.ft.mfn;
	CHECK_EQ_U64(F.h.ns.st.lent[0].ft_first, 257);
	CHECK_EQ_U64(F.h.ns.st.lent[0].ft_chunks, 1);
	CHECK_EQ_U64(F.ops.ninit, 3);
	CHECK_EQ_U64(hvo_inits_of(&F.ops, 256), 1);
	CHECK_EQ_U64(hvo_inits_of(&F.ops, 257), 1);
	CHECK_EQ_U64(hvo_inits_of(&F.ops, 258), 1);
	for (unsigned i = 0; i < F.ops.ninit; i++) {
		uint64_t c = F.ops.init[i].chunk;

		if (c == 257) {
			/* its own: backed by its first frames */
			CHECK_EQ_U64(F.ops.init[i].backing, start);
			CHECK_EQ_U64(F.ops.init[i].mfn, (PHYS + 256 * MiB) >> 12);
			CHECK_EQ_U64(F.ops.init[i].nr, 65536);
		} else {
			/* shared: from the management area */
			CHECK_EQ_U64(F.ops.init[i].backing,
				     m + (c - 256) * 512);
		}
	}
	CHECK_EQ_U64(F.ops.nheap, 1);
	CHECK_EQ_U64(F.ops.heap[0].mfn, start + 512);
	CHECK_EQ_U64(F.ops.heap[0].nr, 131072 - 512);
	/* lookups: a head frame in the management area, a whole-group
	 * frame in its own frames */
	CHECK(xphv_ft_slot(&F.h.ns, start + 5, &b, &off) == 0);
	CHECK(b >= m && b < m + 512);
	CHECK(xphv_ft_slot(&F.h.ns, (PHYS + 256 * MiB) >> 12, &b, &off) == 0);
	CHECK_EQ_U64(b, start);
	CHECK(xphv_ft_slot(&F.h.ns, start + 131071, &b, &off) == 0);
	CHECK(b >= m + 2 * 512 && b < m + 3 * 512);
	/* the data extent sharing group 256 maps; its chunk is not set up
	 * again */
	CHECK(fx_map(1, 2, 0) == 0);
	CHECK_EQ_U64(hvo_inits_of(&F.ops, 256), 1);
	/* the lent frames are RAM, never a guest's */
	CHECK(fx_map(1, 1, 0x100000) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_DATA, 3, XP_REC_LENT_RAM, 0);
	CHECK_CLEAN();
}

/* Smaller than a group: no frame table of its own, the heap gets all. */
static void t_lent_small(void)
{
	struct hvi_spec s = spec_lent();
	struct xp_rec r;
	uint64_t start = (PHYS + 128 * MiB) >> 12;

	if (!fx_img(&s))
		return;
	r = lent_rec(128 * MiB, 64 * MiB, 1);
	put_rec(3, &r);
	CHECK(fx_register() == 0);
	CHECK_EQ_U64(F.h.ns.st.lent[0].ft_chunks, 0);
	CHECK_EQ_U64(F.ops.ninit, 1);
	CHECK_EQ_U64(F.ops.init[0].chunk, 256);
	CHECK_EQ_U64(F.ops.init[0].backing, F.h.ns.plan.ft.mfn);
	CHECK_EQ_U64(F.ops.nheap, 1);
	CHECK_EQ_U64(F.ops.heap[0].mfn, start);
	CHECK_EQ_U64(F.ops.heap[0].nr, 16384);
	CHECK_CLEAN();
}

static void t_lent_refusals(void)
{
	struct hvi_spec s = spec_lent();
	struct xp_rec r;

	/* no room for its bookkeeping */
	if (!fx_img(&s))
		return;
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	put_rec(3, &r);
	CHECK(fx_validate() == 0);
	fx_registry();
	F.h.ns.st.lent_cap = 0;
	CHECK(xphv_register(&F.reg, &F.h.ns, &F.ops.ops, false, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_FULL, NOSLOT, ANY, ANY);
	/* the heap refuses: lent anyway (one way), registered, HEAP said */
	if (!fx_img(&s))
		return;
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	put_rec(3, &r);
	F.ops.fail_heap_in = 1;
	CHECK(fx_register() != 0);
	CHECK_WHY(&F.why, XPHV_R_HEAP, 3, ((PHYS + 256 * MiB) >> 12) + 512,
		  65536 - 512);
	CHECK(F.h.ns.id != 0);
	CHECK_EQ_U64(F.h.ns.nlent, 1);
	CHECK(xphv_unregister(&F.reg, F.h.ns.id, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_LENT, NOSLOT, 1, 0);
	CHECK_CLEAN();
}

/* ---- Metadata access ---------------------------------------------------- */

static void t_meta_read(void)
{
	struct hvi_spec s = spec_std(0);
	static uint8_t buf[64 * 1024];
	uint64_t te = xp_slot_offset(16), sz;

	if (!fx_img(&s))
		return;
	CHECK(fx_validate() == 0);
	CHECK(xphv_meta_read(&F.h.ns, 0, buf, 4096, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_REGISTERED, NOSLOT, ANY, ANY);
	CHECK(fx_register() == 0);
	sz = F.im.size;
	CHECK(xphv_meta_read(&F.h.ns, 0, buf, te, &F.why) == 0);
	CHECK(!memcmp(buf, F.im.buf, te));
	CHECK(xphv_meta_read(&F.h.ns, 8192 + 256, buf, 256, &F.why) == 0);
	CHECK(xphv_meta_read(&F.h.ns, sz - 4096, buf, 4096, &F.why) == 0);
	CHECK(!memcmp(buf, F.im.buf + sz - 4096, 4096));
	CHECK(xphv_meta_read(&F.h.ns, te - 1, buf, 2, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RANGE, NOSLOT, te - 1, 2);
	CHECK(xphv_meta_read(&F.h.ns, F.im.sb.mgmt_offset, buf, 8, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RANGE, NOSLOT, F.im.sb.mgmt_offset, 8);
	CHECK(xphv_meta_read(&F.h.ns, F.im.sb.data_offset, buf, 8, &F.why) != 0);
	CHECK(xphv_meta_read(&F.h.ns, sz - 4097, buf, 2, &F.why) != 0);
	CHECK(xphv_meta_read(&F.h.ns, sz - 4096, buf, 4097, &F.why) != 0);
	CHECK(xphv_meta_read(&F.h.ns, sz, buf, 1, &F.why) != 0);
	CHECK(xphv_meta_read(&F.h.ns, 0, buf, 0, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RANGE, NOSLOT, 0, 0);
	CHECK(xphv_meta_read(&F.h.ns, ~0ull - 10, buf, 20, &F.why) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RANGE, NOSLOT, ~0ull - 10, 20);
	CHECK(xphv_meta_read(&F.h.ns, sz - 4096, buf, ~0ull, &F.why) != 0);
	CHECK_CLEAN();
}

/* The write window of one record copy, for meta_write. */
static void allow_copy(uint32_t slot, uint32_t copy)
{
	F.im.wmode = HVI_W_WINDOWS;
	F.im.nwin = 0;
	hvi_allow(&F.im, xp_slot_offset(slot) + copy * XP_REC_SIZE,
		  xp_slot_offset(slot) + (copy + 1) * XP_REC_SIZE);
	F.im.nwlog = 0;
}

static int meta_write(uint32_t slot, uint32_t copy, const uint8_t *c)
{
	int rc;

	allow_copy(slot, copy);
	rc = xphv_meta_write(&F.reg, &F.h.ns, slot, copy, c, &F.why);
	F.im.wmode = HVI_W_NONE;
	CHECK_MSG(F.im.violations == 0, "meta_write: %s", F.im.why);
	CHECK_MSG(rc == 0 || F.im.nwlog == 0, "refused, but wrote %u times",
		  F.im.nwlog);
	return rc;
}

static void t_meta_write(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t c[XP_REC_SIZE], before[XP_SLOT_SIZE];
	struct xp_rec r;
	struct xp_slot sl;
	int copy;

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	put(1, 4, 2, 2, 1, 0);
	CHECK(fx_register() == 0);

	/* a new extent in a free slot, the next copy: accepted */
	r = hvi_rec(&F.im, 8, 2, 3, owner_of(1), 0);
	copy = hvi_next_copy(&F.im, 5, &r, c);
	CHECK_EQ_U64(copy, 1);
	CHECK(meta_write(5, (uint32_t)copy, c) == 0);
	CHECK_EQ_U64(F.im.nwlog, 1);
	CHECK(!memcmp(hvi_slot(&F.im, 5) + XP_REC_SIZE, c, XP_REC_SIZE));
	hvi_decode(&F.im, 5, &sl);
	CHECK(sl.state == XP_SLOT_USED && sl.rec.offset == r.offset);
	/* the hypervisor knows it now: it maps */
	CHECK(fx_map(1, 3, 0) == 0);

	/* the current copy with another payload: refused */
	r = hvi_rec(&F.im, 12, 2, 4, NULL, 0);
	r.seq = sl.rec.seq;
	xp_rec_encode(&F.im.sb, 5, &r, c);
	memcpy(before, hvi_slot(&F.im, 5), XP_SLOT_SIZE);
	CHECK(meta_write(5, 1, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_COPY, 5, 1, 0);
	CHECK(!memcmp(before, hvi_slot(&F.im, 5), XP_SLOT_SIZE));

	/* the current copy again, same payload, tags evened: accepted */
	hvi_slot(&F.im, 5)[XP_REC_SIZE + 8 * 3 + 7] ^= 0x11;	/* mixed */
	hvi_decode(&F.im, 5, &sl);
	CHECK(sl.mixed_tags);
	xp_rec_encode(&F.im.sb, 5, &sl.rec, c);
	CHECK(meta_write(5, 1, c) == 0);
	hvi_decode(&F.im, 5, &sl);
	CHECK(!sl.mixed_tags && sl.state == XP_SLOT_USED);

	/* a record that breaks a rule: overlaps extent 1 */
	r = hvi_rec(&F.im, 1, 2, 6, NULL, 0);
	CHECK_EQ_U64(hvi_next_copy(&F.im, 7, &r, c), 1);
	CHECK(meta_write(7, 1, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_OVERLAP, 7, 0, 0);
	/* a duplicate uuid, a duplicate name */
	r = hvi_rec(&F.im, 14, 1, 2, NULL, 0);
	snprintf(r.name, sizeof(r.name), "fresh");
	hvi_next_copy(&F.im, 7, &r, c);
	CHECK(meta_write(7, 1, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_DUP_UUID, 7, 1, 0);
	r = hvi_rec(&F.im, 14, 1, 7, NULL, 0);
	snprintf(r.name, sizeof(r.name), "x2");
	hvi_next_copy(&F.im, 7, &r, c);
	CHECK(meta_write(7, 1, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_DUP_NAME, 7, 1, 0);

	/* a change to the mapped extent 3 (resize, new owner): refused */
	r = hvi_rec(&F.im, 8, 3, 3, owner_of(1), 0);
	hvi_next_copy(&F.im, 5, &r, c);
	CHECK(meta_write(5, 0, c) != 0);
	/* a: the domain holding the mapping, b: its first frame */
	CHECK_WHY(&F.why, XPHV_R_META_MAPPED, 5, 1, unit_mfn(8));
	r = hvi_rec(&F.im, 8, 2, 3, owner_of(2), 0);
	hvi_next_copy(&F.im, 5, &r, c);
	CHECK(meta_write(5, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_MAPPED, 5, 1, unit_mfn(8));
	memset(&r, 0, sizeof(r));		/* destroy */
	hvi_next_copy(&F.im, 5, &r, c);
	CHECK(meta_write(5, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_MAPPED, 5, 1, unit_mfn(8));
	/* a rename is fine */
	r = hvi_rec(&F.im, 8, 2, 3, owner_of(1), 0);
	snprintf(r.name, sizeof(r.name), "renamed");
	hvi_next_copy(&F.im, 5, &r, c);
	CHECK(meta_write(5, 0, c) == 0);
	/* an unmapped extent moved over the mapped one's frames: refused */
	r = hvi_rec(&F.im, 9, 2, 2, owner_of(1), 0);
	hvi_next_copy(&F.im, 1, &r, c);
	CHECK(meta_write(1, 0, c) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_OVERLAP ||
			  F.why.reason == XPHV_R_META_MAPPED,
		  "got %s", rname(F.why.reason));
	/* unmapped: a new owner is fine */
	CHECK(fx_unmap(1, 3) == 0);
	r = hvi_rec(&F.im, 8, 2, 3, owner_of(2), 0);
	snprintf(r.name, sizeof(r.name), "renamed");
	hvi_next_copy(&F.im, 5, &r, c);
	CHECK(meta_write(5, 1, c) == 0);
	CHECK(fx_map(1, 3, 0) != 0);
	CHECK_WHY(&F.why, XPHV_R_NOT_OWNER, 5, 1, 0);
	CHECK(fx_map(2, 3, 0) == 0);
	CHECK_CLEAN();
}

static void t_meta_write_protocol(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;
	struct xp_slot sl;

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	hvi_decode(&F.im, 0, &sl);
	CHECK_EQ_U64(sl.active, 1);

	/* seq not above the current one */
	r = hvi_rec(&F.im, 0, 2, 1, owner_of(2), 0);
	r.seq = sl.rec.seq;
	xp_rec_encode(&F.im.sb, 0, &r, c);
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_SEQ, 0, sl.rec.seq, sl.rec.seq);
	/* its tag on a word of the target copy (copy 0 holds seq 1) */
	r.seq = sl.rec.seq + 255;		/* tag 1 */
	xp_rec_encode(&F.im.sb, 0, &r, c);
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_SEQ, 0, sl.rec.seq + 255, sl.rec.seq);
	/* tags not uniform, bad checksum, wrong slot binding */
	r.seq = sl.rec.seq + 1;
	xp_rec_encode(&F.im.sb, 0, &r, c);
	c[8 * 5 + 7] ^= 1;
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RECORD, 0, ANY, ANY);
	xp_rec_encode(&F.im.sb, 0, &r, c);
	c[20] ^= 1;
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RECORD, 0, XP_E_CHECKSUM, 0);
	xp_rec_encode(&F.im.sb, 1, &r, c);
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_RECORD, 0, XP_E_CHECKSUM, 0);
	/* bad arguments */
	xp_rec_encode(&F.im.sb, 0, &r, c);
	CHECK(meta_write(0, 2, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_ARGS, 0, ANY, ANY);
	CHECK(meta_write(16, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_ARGS, 16, ANY, ANY);

	/*
	 * The target copy is torn (an earlier update cut short): the seq
	 * word goes first, on its own, then the whole copy.
	 */
	r = hvi_rec(&F.im, 0, 2, 1, owner_of(3), 0);
	CHECK_EQ_U64(hvi_update_torn(&F.im, 0, &r, 0x0f0f), 0);
	hvi_decode(&F.im, 0, &sl);
	CHECK(sl.active == 1 && sl.copy_status[0] == XP_E_TORN);
	r = hvi_rec(&F.im, 0, 2, 1, owner_of(2), 0);
	CHECK_EQ_U64(hvi_next_copy(&F.im, 0, &r, c), 0);
	CHECK(meta_write(0, 0, c) == 0);
	CHECK_EQ_U64(F.im.nwlog, 2);
	CHECK_EQ_U64(F.im.wlog[0].off, xp_slot_offset(0));
	CHECK_EQ_U64(F.im.wlog[0].len, 8);
	CHECK_EQ_U64(F.im.wlog[1].off, xp_slot_offset(0));
	CHECK_EQ_U64(F.im.wlog[1].len, XP_REC_SIZE);
	hvi_decode(&F.im, 0, &sl);
	CHECK(sl.active == 0 && !memcmp(sl.rec.owner, owner_of(2), 16));
	/* over a valid older copy: one store */
	r = hvi_rec(&F.im, 0, 2, 1, owner_of(1), 0);
	CHECK_EQ_U64(hvi_next_copy(&F.im, 0, &r, c), 1);
	CHECK(meta_write(0, 1, c) == 0);
	CHECK_EQ_U64(F.im.nwlog, 1);
	CHECK(fx_map(1, 1, 0) == 0);
	CHECK_CLEAN();
}

/*
 * docs/format.md "Update protocol": the new seq is the current one plus
 * the smallest n >= 1 whose tag the target copy does not carry (n <= 17),
 * and "Picking a slot's state" relies on it (consecutive copies differ by
 * less than 128). A seq far above breaks that: once accepted, a later
 * damaged byte in the new copy reads as the older one and rolls the slot
 * back to the previous owner.
 */
static void t_meta_write_seq_jump(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;
	struct xp_slot sl;

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	hvi_decode(&F.im, 0, &sl);
	r = hvi_rec(&F.im, 0, 2, 1, owner_of(2), 0);
	r.seq = sl.rec.seq + 200;
	xp_rec_encode(&F.im.sb, 0, &r, c);
	CHECK(meta_write(0, 0, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_SEQ, 0, sl.rec.seq + 200, sl.rec.seq);
	if (F.why.reason == XPHV_OK) {
		/* what the acceptance leads to: one damaged payload byte in
		 * the current copy silently hands the extent back */
		hvi_slot(&F.im, 0)[75] ^= 0x20;
		hvi_decode(&F.im, 0, &sl);
		CHECK_MSG(sl.state == XP_SLOT_CORRUPT,
			  "damaged current copy rolled back to seq %" PRIu64
			  " (owner dom %u's)", sl.rec.seq, 1);
	}
	CHECK_CLEAN();
}

static void t_meta_write_lent(void)
{
	struct hvi_spec s = spec_lent();
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;

	if (!fx_img(&s))
		return;
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	put_rec(3, &r);
	CHECK(fx_register() == 0);
	/* any change of the lent extent */
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	snprintf(r.name, sizeof(r.name), "renamed");
	hvi_next_copy(&F.im, 3, &r, c);
	CHECK(meta_write(3, 0, c) != 0);
	/* docs/hypervisor-abi.md: a = 0xffff, b = the lent extent's slot */
	CHECK_WHY(&F.why, XPHV_R_META_MAPPED, 3, XPHV_NO_DOMID, 3);
	/* a new extent over the lent frames */
	r = hvi_rec(&F.im, (300 - 12) / 2, 2, 2, owner_of(1), 0);
	hvi_next_copy(&F.im, 4, &r, c);
	CHECK(meta_write(4, 1, c) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_OVERLAP ||
			  F.why.reason == XPHV_R_META_MAPPED,
		  "got %s", rname(F.why.reason));
	CHECK_CLEAN();
}

/*
 * A lent extent is lent until the next boot, and the media must keep
 * saying so (the next boot treats its content as garbage). Dom0 rewriting
 * its slot behind the hypervisor, and a map attempt that re-reads it,
 * must not make the slot writable through meta_write.
 */
static void t_lent_slot_stays_lent(void)
{
	struct hvi_spec s = spec_lent();
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;
	struct xp_slot sl;
	int copy;

	if (!fx_img(&s))
		return;
	r = lent_rec(256 * MiB, 256 * MiB, 1);
	put_rec(3, &r);
	CHECK(fx_register() == 0);
	/* Dom0 writes the slot straight to the media: data, owned by dom 1 */
	r.type = XP_REC_DATA;
	memcpy(r.owner, owner_of(1), 16);
	put_rec(3, &r);
	CHECK(fx_map(1, 1, 0) != 0);		/* RAM: never mapped */
	CHECK_MSG(F.why.reason == XPHV_R_OVERLAP ||
			  F.why.reason == XPHV_R_NOT_DATA,
		  "got %s", rname(F.why.reason));
	/* now through the hypervisor: another extent in the lent slot */
	r = hvi_rec(&F.im, (256 - 12) / 2, 2, 9, owner_of(2), 0);
	copy = hvi_next_copy(&F.im, 3, &r, c);
	CHECK(copy >= 0);
	CHECK(meta_write(3, (uint32_t)copy, c) != 0);
	CHECK_WHY(&F.why, XPHV_R_META_MAPPED, 3, ANY, ANY);
	hvi_decode(&F.im, 3, &sl);
	CHECK_MSG(memcmp(sl.rec.uuid, r.uuid, 16),
		  "the lent slot now holds a data extent over the lent RAM");
	CHECK_CLEAN();
}

/*
 * Dom0 destroys a mapped extent behind the hypervisor's back and a later
 * map re-reads the table (the cache refresh). The frames stay the guest's
 * until it unmaps them: no record over them may go through meta_write,
 * and the extent's uuid re-created elsewhere must not map a second time.
 */
static void t_after_refresh(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;
	int copy;

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	CHECK(fx_map(1, 1, 0) == 0);
	/* Dom0, straight to the media: extent 1 destroyed, extent 2 new */
	free_slot(0);
	put(5, 10, 1, 2, 1, 0);
	CHECK(fx_map(1, 2, 0x1000) == 0);	/* not cached: a refresh */
	/* a new extent in slot 0 over the frames dom 1 still maps */
	r = hvi_rec(&F.im, 0, 2, 3, owner_of(2), 0);
	copy = hvi_next_copy(&F.im, 0, &r, c);
	CHECK(copy >= 0);
	CHECK(meta_write(0, (uint32_t)copy, c) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_META_MAPPED ||
			  F.why.reason == XPHV_R_OVERLAP,
		  "got %s: slot 0 now holds an extent of dom 2 over frames mapped to dom 1",
		  rname(F.why.reason));

	/* extent 1 again, elsewhere (its uuid is free on media) */
	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	CHECK(fx_map(1, 1, 0) == 0);
	free_slot(0);
	put(3, 6, 2, 1, 1, 0);
	put(5, 10, 1, 2, 1, 0);
	CHECK(fx_map(1, 2, 0x1000) == 0);	/* a refresh */
	CHECK(fx_map(1, 1, 0x2000) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_MAPPED ||
			  F.why.reason == XPHV_R_FRAME_MAPPED,
		  "got %s: extent 1 mapped twice into dom 1 (%u mappings); unmap by its uuid is now ambiguous",
		  rname(F.why.reason), F.reg.nmap);
	CHECK_CLEAN();
}

/*
 * Two mappings of one slot (the slot's extent replaced behind the
 * hypervisor, then mapped too): unmapping the first must not mark the
 * second unmapped, or meta_write lets Dom0 change a mapped extent.
 */
static void t_unmap_same_slot(void)
{
	struct hvi_spec s = spec_std(0);
	uint8_t c[XP_REC_SIZE];
	struct xp_rec r;
	int copy;

	if (!fx_img(&s))
		return;
	put(0, 0, 2, 1, 1, 0);
	CHECK(fx_register() == 0);
	CHECK(fx_map(1, 1, 0) == 0);		/* extent 1 in slot 0 */
	/* Dom0, straight to the media: slot 0 now holds extent 2 */
	put(0, 4, 2, 2, 1, 0);
	CHECK(fx_map(1, 2, 0x1000) == 0);	/* a refresh; slot 0 again */
	CHECK_EQ_U64(F.reg.nmap, 2);
	CHECK(fx_unmap(1, 1) == 0);
	CHECK_EQ_U64(hvp_count(&F.p, 0, 1, NULL), 1024);	/* extent 2's */
	/* extent 2 is mapped: giving it to dom 2 must be refused */
	r = hvi_rec(&F.im, 4, 2, 2, owner_of(2), 0);
	copy = hvi_next_copy(&F.im, 0, &r, c);
	CHECK(copy >= 0);
	CHECK(meta_write(0, (uint32_t)copy, c) != 0);
	CHECK_MSG(F.why.reason == XPHV_R_META_MAPPED,
		  "got %s: the media now gives dom 2 an extent mapped into dom 1",
		  rname(F.why.reason));
	CHECK_CLEAN();
}

/* Every reason has its own text; the names here follow the enum. */
static void t_strreason(void)
{
	for (uint32_t r = 0; r < XPHV_R__COUNT; r++) {
		const char *t = xphv_strreason(r);

		CHECK_MSG(t && *t && strcmp(t, "unknown reason"),
			  "reason %u (%s) has no text", r, rname(r));
		for (uint32_t q = 0; q < r && t; q++)
			CHECK_MSG(r == XPHV_R_LENT_ALIGN || q == XPHV_R_LENT_ALIGN ||
					  strcmp(t, xphv_strreason(q)),
				  "reasons %u and %u share a text", q, r);
	}
	CHECK_STR(xphv_strreason(XPHV_R__COUNT), "unknown reason");
	/* hv_image.h names them all (for the messages of these tests) */
	CHECK_STR(rname(XPHV_R_COMPAT), "COMPAT");
	CHECK_STR(rname(XPHV_R__COUNT - 1), "FRAME_MAPPED");
	CHECK_STR(rname(XPHV_R__COUNT), "?");
}

int main(int argc, char **argv)
{
	xt_init(argc, argv);
	RUN(t_strreason);
	RUN(t_layout_std);
	RUN(t_extents_cached);
	RUN(t_sb_differ);
	RUN(t_sb_one_invalid);
	RUN(t_moved);
	RUN(t_no_phys_known);
	RUN(t_size);
	RUN(t_range_io);
	RUN(t_zero_block);
	RUN(t_extent_outside);
	RUN(t_extent_align);
	RUN(t_overlap_dups);
	RUN(t_corrupt_slot);
	RUN(t_mgmt_small);
	RUN(t_compat);
	RUN(t_expect);
	RUN(t_pdx);
	RUN(t_limit);
	RUN(t_limit_far);
	RUN(t_geometry);
	RUN(t_version);
	RUN(t_plan_std);
	RUN(t_plan_1g);
	RUN(t_plan_partial);
	RUN(t_plan_compat_1t);
	RUN(t_slots);
	RUN(t_ft_prepare);
	RUN(t_ft_prepare_fail);
	RUN(t_register_query);
	RUN(t_ram_overlap);
	RUN(t_ns_overlap);
	RUN(t_registry_full);
	RUN(t_map_owner);
	RUN(t_map_label_orders);
	RUN(t_map_twice_unmap_destroy);
	RUN(t_map_gfn_p2m);
	RUN(t_map_dom0_changes);
	RUN(t_lent);
	RUN(t_lent_partial);
	RUN(t_lent_small);
	RUN(t_lent_refusals);
	RUN(t_meta_read);
	RUN(t_meta_write);
	RUN(t_meta_write_protocol);
	RUN(t_meta_write_seq_jump);
	RUN(t_meta_write_lent);
	RUN(t_lent_slot_stays_lent);
	RUN(t_after_refresh);
	RUN(t_unmap_same_slot);
	fx_reset();
	hvi_free(&F.im);
	return xt_finish();
}
