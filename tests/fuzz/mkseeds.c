/* SPDX-License-Identifier: MIT */
/*
 * Seed corpora for the fuzz targets (format 2.0), built from real
 * structures with xp_sb_encode(), xp_slot_init() and the update protocol
 * (xp_slot_next_copy() + xp_rec_encode() + xp_slot_set()): mkseeds OUTDIR
 * writes OUTDIR/sb, OUTDIR/slot and OUTDIR/open (input layouts in
 * fuzz_common.h), and OUTDIR/hv_validate and OUTDIR/hv_plan (fuzz_hv.h):
 * whole namespace images made by the same encoder (tests/unit/hv_image.h).
 */
#include "fuzz_hv.h"

#include <errno.h>
#include <sys/stat.h>

#define NKINDS 5
static char outdir[4096];
static unsigned nseeds[NKINDS];
static const char *const sub[NKINDS] = {"sb", "slot", "open", "hv_validate",
					"hv_plan"};

static void put(int kind, const uint8_t *buf, size_t len)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%03u", outdir, sub[kind],
		 nseeds[kind]++);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void mkdir_p(const char *d)
{
	if (mkdir(d, 0755) && errno != EEXIST) {
		perror(d);
		exit(1);
	}
}

static void must(enum xp_fmt_status st, const char *what, size_t i)
{
	if (st != XP_OK) {
		fprintf(stderr, "mkseeds: %s params %zu do not solve: %s\n",
			what, i, xp_fmt_strstatus(st));
		exit(1);
	}
}

/* An extent record: the k-th alignment unit of the data area, @units long. */
static struct xp_rec used(const struct xp_sb *sb, uint64_t k, uint64_t units,
			  const char *name)
{
	struct xp_rec r;
	uint64_t a = 1ull << sb->align_shift;

	memset(&r, 0, sizeof(r));
	r.type = XP_REC_DATA;
	r.offset = sb->data_offset + k * a;
	r.size = units * a;
	r.align_shift = (uint8_t)sb->align_shift;
	r.label_size = k % 2 ? XP_PAGE_SIZE : 0;
	for (int i = 0; i < 16; i++) {
		r.uuid[i] = (uint8_t)(0xa0 + i + 13 * k);
		if (k % 3 == 1)
			r.owner[i] = (uint8_t)(0x30 + i * 5 + k);
	}
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

/*
 * One slot driven through the update protocol: @raw holds its two copies.
 * Returns the copy written, -1 if the slot takes no update.
 */
static int update(const struct xp_sb *sb, uint32_t slot, uint8_t *raw,
		  struct xp_rec *rec)
{
	struct xp_slot s;
	uint64_t seq;
	int c;

	xp_slot_decode(sb, slot, raw, &s);
	c = xp_slot_next_copy(&s, &seq);
	if (c < 0)
		return -1;
	rec->seq = seq;
	xp_rec_encode(sb, slot, rec, raw + c * XP_REC_SIZE);
	return c;
}

/* Like update(), but only the words in @mask reach the media. */
static void torn_update(const struct xp_sb *sb, uint32_t slot, uint8_t *raw,
			struct xp_rec *rec, uint32_t mask)
{
	uint8_t nc[XP_REC_SIZE];
	struct xp_slot s;
	uint64_t seq;
	int c;

	xp_slot_decode(sb, slot, raw, &s);
	c = xp_slot_next_copy(&s, &seq);
	if (c < 0)
		return;
	rec->seq = seq;
	xp_rec_encode(sb, slot, rec, nc);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (mask >> k & 1)
			memcpy(raw + c * XP_REC_SIZE + k * 8, nc + k * 8, 8);
}

static int current_copy(const struct xp_sb *sb, uint32_t slot,
			const uint8_t *raw)
{
	struct xp_slot s;

	xp_slot_decode(sb, slot, raw, &s);
	return s.active;
}

/*
 * A small table as a real life leaves it: every slot initialised, extents
 * created, renamed, assigned, lent and destroyed through the protocol.
 * @variant adds one kind of damage. Returns the slots written.
 */
static uint32_t build_table(const struct xp_sb *sb, uint8_t *t, uint32_t n,
			    int variant)
{
	uint64_t units = sb->data_size >> sb->align_shift;
	struct xp_rec r;
	char nm[32];

#define SLOT(i) (t + (size_t)(i) * XP_SLOT_SIZE)
	for (uint32_t i = 0; i < n; i++)
		xp_slot_init(sb, i, SLOT(i));
	/* extents on every other unit, the last unit always left free */
	for (uint32_t i = 0; i < n && 2 * i + 1 < units && i < 6; i++) {
		snprintf(nm, sizeof(nm), "vm%u-disk", i);
		r = used(sb, 2 * i, 1, nm);
		update(sb, i, SLOT(i), &r);
		switch (i % 6) {
		case 1: /* rename to 31 characters */
			memset(r.name, 0, sizeof(r.name));
			memset(r.name, 'r', 31);
			update(sb, i, SLOT(i), &r);
			break;
		case 2: /* unassign, lend as RAM */
			memset(r.owner, 0, 16);
			update(sb, i, SLOT(i), &r);
			r.type = XP_REC_LENT_RAM;
			update(sb, i, SLOT(i), &r);
			break;
		case 3: /* destroy */
			memset(&r, 0, sizeof(r));
			update(sb, i, SLOT(i), &r);
			break;
		case 4: /* many updates: seqs cross a tag wrap */
			for (int k = 0; k < 260; k++) {
				r.label_size = (uint64_t)(k % 2) * XP_PAGE_SIZE;
				update(sb, i, SLOT(i), &r);
			}
			break;
		}
	}
	if (n < 8)
		return n;
	switch (variant) {
	case 1: /* an overlap and a duplicate name, each legal alone */
		r = used(sb, 2, 1, "vm0-disk");
		update(sb, 6, SLOT(6), &r);
		break;
	case 2: /* an interrupted update: torn copy */
		r = used(sb, 11, 1, "vm5-moved");
		torn_update(sb, 5, SLOT(5), &r, 0x0f0f);
		break;
	case 3: /* the current copy damaged: corrupt, fallback older */
		SLOT(1)[current_copy(sb, 1, SLOT(1)) * XP_REC_SIZE + 75] ^= 0x20;
		break;
	case 4: /* the older copy damaged; a record copied to another slot */
		SLOT(0)[(1 - current_copy(sb, 0, SLOT(0))) * XP_REC_SIZE + 30] ^= 1;
		memcpy(SLOT(7), SLOT(0), XP_SLOT_SIZE);
		break;
	case 5: /* equal seqs in both copies; a blank slot */
		memcpy(SLOT(4) + XP_REC_SIZE, SLOT(4), XP_REC_SIZE);
		memset(SLOT(7), 0, XP_SLOT_SIZE);
		break;
	case 6: /* a lent-as-RAM record with an owner (bad field) */
		r = used(sb, 13, 1, "bad-lent");
		r.type = XP_REC_LENT_RAM;
		update(sb, 6, SLOT(6), &r);
		break;
	case 7: /* garbage tags over an older copy; next update skips */
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			SLOT(3)[(1 - current_copy(sb, 3, SLOT(3))) * XP_REC_SIZE +
				k * 8 + 7] = (uint8_t)(k * 3);
		break;
	}
#undef SLOT
	return n;
}

/* ---- fuzz_sb ------------------------------------------------------------ */

static void sb_seed(const struct xp_sb *sb, bool backup, uint8_t flags,
		    uint64_t dev, void (*tweak)(uint8_t *))
{
	static uint8_t buf[XP_SB_BLOCK + FZ_SB_TAIL];

	xp_sb_encode(sb, backup, buf);
	if (tweak) {
		tweak(buf);
		fz_fix_sb(buf);
	}
	buf[XP_SB_BLOCK] = flags | (backup ? FZ_SB_BACKUP : 0);
	fz_put_le(buf + XP_SB_BLOCK + 1, dev, 8);
	put(0, buf, sizeof(buf));
}

static void tw_minor1(uint8_t *b)
{
	b[18] = 1;
	b[200] = 0x42; /* reserved byte a 2.1 may use */
}

static void tw_hdr1024(uint8_t *b)
{
	fz_put_le(b + 20, 1024, 4);
}

static void tw_ro_compat(uint8_t *b)
{
	b[28] = 0x01;
}

static void tw_chunks(uint8_t *b)
{
	b[136]++; /* ft_chunks one off (FIXLAYOUT repairs it) */
}

static void seeds_sb(void)
{
	static const struct {
		uint64_t ns, phys;
		uint32_t slots, shift;
		unsigned mgmt;
	} p[] = {
		{(4ull << 20) + 4096, 0, 1, 21, 0},
		{(10ull << 20) + 4096, 0, 1024, 21, 1},
		{(8ull << 20) + 4096, 0, 1024, 21, 2},
		{(2ull << 30) + 4096, 0, 1024, 30, 1},
		{(3ull << 30) + 4096 * 5, (2ull << 20) + 4096, 4096, 21, 1},
		{(4ull << 30) + 4096, 4096 * 7, 65536, 21, 0},
		{(8ull << 30) + 4096, (1ull << 30) - 4096, 16, 30, 1},
		{8ull << 30, (1ull << 40) - (3ull << 30) + 4096, 100, 21, 1},
		{64ull << 30, (1ull << 40) - (32ull << 30), 100, 30, 1},
		{64ull << 40, 0, 65536, 30, 1},
		{64ull << 40, 1ull << 56, 1024, 21, 2},
		{(1ull << 57) - (1ull << 40), 1ull << 40, 100, 30, 0},
	};
	struct xp_sb sb;
	static uint8_t zero[XP_SB_BLOCK + FZ_SB_TAIL];

	put(0, zero, sizeof(zero));
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		must(fz_make_sb(&sb, p[i].ns, p[i].phys, p[i].slots, p[i].shift,
				p[i].mgmt), "sb", i);
		sb.generation = i + 1;
		sb_seed(&sb, false, 0, sb.ns_size, NULL);
		sb_seed(&sb, true, 0, sb.ns_size, NULL);
		sb_seed(&sb, false, FZ_SB_FIXSUM | FZ_SB_DEVSIZE, sb.ns_size,
			NULL);
		if (i % 3 == 0) {
			sb_seed(&sb, false, FZ_SB_DEVSIZE, sb.ns_size + 4096,
				NULL);
			sb_seed(&sb, false, 0, sb.ns_size, tw_minor1);
			sb_seed(&sb, true, 0, sb.ns_size, tw_hdr1024);
		}
		if (i % 3 == 1) {
			sb_seed(&sb, false, 0, sb.ns_size, tw_ro_compat);
			sb_seed(&sb, true, FZ_SB_FIXLAYOUT, sb.ns_size, tw_chunks);
		}
	}
}

/* ---- fuzz_slot ---------------------------------------------------------- */

static void slot_hdr(uint8_t *h, uint32_t shift, unsigned mgmt, uint8_t fl,
		     uint32_t slots, uint64_t ns, uint64_t phys, uint32_t seed)
{
	memset(h, 0, FZ_SLOT_HDR);
	h[0] = (uint8_t)((shift == 30 ? FZ_SLOT_1G : 0) |
			 mgmt << FZ_SLOT_MGMT_SHIFT);
	h[1] = (uint8_t)(fl | (phys ? FZ_SLOT_PHYS : 0));
	fz_put_le(h + 2, slots - 1, 2);
	fz_put_le(h + 4, ns >> 12, 4);
	fz_put_le(h + 8, phys >> 12, 4);
	fz_put_le(h + 12, seed, 4);
}

static void seeds_slot(void)
{
	static const struct {
		uint32_t shift;
		unsigned mgmt;
		uint32_t slots;
		uint64_t ns, phys;
	} p[] = {
		{21, 1, 16, 4ull << 30, 0},
		{21, 0, 8, 64ull << 20, 4096 * 3},
		{30, 1, 32, 16ull << 30, (1ull << 30) - 4096},
		{21, 2, 64, 1ull << 40, (2ull << 20) + 4096},
		{21, 1, 16, 8ull << 30, (1ull << 40) - (3ull << 30)},
	};
	static uint8_t buf[FZ_SLOT_HDR + 64 * XP_SLOT_SIZE];

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		for (int variant = 0; variant < 8; variant++) {
			struct xp_sb sb;
			uint32_t n = p[i].slots < 16 ? p[i].slots : 16;
			uint8_t fl = variant == 6 ? FZ_SLOT_FIXSUM : 0;

			memset(buf, 0, sizeof(buf));
			slot_hdr(buf, p[i].shift, p[i].mgmt, fl, p[i].slots,
				 p[i].ns, p[i].phys, (uint32_t)(i * 8 + variant));
			fz_slot_sb(buf, &sb);
			if (sb.ns_size != p[i].ns) {
				fprintf(stderr, "mkseeds: slot params %zu do not solve\n",
					i);
				exit(1);
			}
			n = build_table(&sb, buf + FZ_SLOT_HDR, n, variant);
			put(1, buf, FZ_SLOT_HDR + (size_t)n * XP_SLOT_SIZE);
		}
}

/* ---- fuzz_open ---------------------------------------------------------- */

static void open_hdr(uint8_t *h, uint8_t flags, uint64_t isz)
{
	h[0] = flags;
	fz_put_le(h + 1, isz >> 12, 3);
}

static void seeds_open(void)
{
	static const struct {
		uint64_t ns, phys;
		uint32_t slots, shift;
		unsigned mgmt;
	} p[] = {
		{(4ull << 20) + 4096, 0, 16, 21, 0},
		{(16ull << 20) + 4096, 0, 16, 21, 1},
		{64ull << 20, 0, 32, 21, 2},
		{(3ull << 30) + 4096, 0, 8, 30, 1},
		{(3ull << 30), (2ull << 20) + 4096, 16, 21, 1},
	};
#define S FZ_OPEN_SIZE_FROM_SB
#define R FZ_OPEN_REPAIR
#define W FZ_OPEN_WRITE
	/* input flags, build_table() variant, superblock damage */
	static const struct {
		uint8_t flags;
		int table, sb;
	} v[] = {
		{S | W, 0, 0},
		{S | W | R, 0, 0},
		{S | R, 1, 0},				/* broken rules */
		{S | R | W, 2, 0},			/* torn copy */
		{S | R | FZ_OPEN_FIXREC, 3, 0},		/* corrupt slot */
		{S | FZ_OPEN_BACKUP_COPY | W | R, 4, 0},
		{S | FZ_OPEN_FIXSB | R | W, 5, 1},	/* field changed */
		{S | R | FZ_OPEN_USE_BACKUP, 6, 2},	/* copies disagree */
		{R | W, 7, 0},				/* size from hdr */
		{S | W | R, 0, 3},			/* newer minor */
		{S | R | W, 0, 4},			/* primary damaged */
		{S | R | W, 0, 5},			/* backup stale */
		{S | R | FZ_OPEN_USE_PRIMARY, 0, 2},
	};
#undef S
#undef R
#undef W
	static uint8_t buf[FZ_OPEN_HDR + 2 * XP_SB_BLOCK + 32 * XP_SLOT_SIZE];

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct xp_sb sb;

		must(fz_make_sb(&sb, p[i].ns, p[i].phys, p[i].slots, p[i].shift,
				p[i].mgmt), "open", i);
		sb.generation = 3;
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			uint8_t *pri = buf + FZ_OPEN_HDR;
			uint8_t *bak = pri + XP_SB_BLOCK;
			uint8_t *t = bak + XP_SB_BLOCK;
			size_t len = FZ_OPEN_HDR + 2 * XP_SB_BLOCK +
				     (size_t)sb.slot_count * XP_SLOT_SIZE;
			struct xp_sb s2 = sb;

			memset(buf, 0, sizeof(buf));
			open_hdr(buf, v[k].flags, sb.ns_size);
			xp_sb_encode(&sb, false, pri);
			xp_sb_encode(&sb, true, bak);
			build_table(&sb, t, sb.slot_count, v[k].table);
			switch (v[k].sb) {
			case 1: /* a field changed, sum fixed by the harness */
				fz_put_le(pri + 80, 12345, 8);
				break;
			case 2: /* the backup is another namespace's */
				s2.ns_uuid[0] ^= 0xff;
				s2.generation = 4;
				xp_sb_encode(&s2, true, bak);
				break;
			case 3: /* a newer minor: readable, not writable */
				fz_put_le(pri + 18, 1, 2);
				fz_fix_sb(pri);
				fz_put_le(bak + 18, 1, 2);
				fz_fix_sb(bak);
				break;
			case 4:
				pri[100] ^= 1;
				break;
			case 5: /* an interrupted rewrite left it behind */
				s2.generation = 2;
				xp_sb_encode(&s2, true, bak);
				break;
			}
			put(2, buf, len);
		}
	}
}

/* ---- fuzz_hv_validate ------------------------------------------------- */

static uint8_t hv_owner[4][16];

/* Write one input: header, both superblocks, the zero block and table. */
static void hv_put(const struct hvi *im, const uint8_t hdr[FZ_HV_HDR])
{
	uint64_t tend = xp_slot_offset(im->sb.slot_count);
	size_t len = FZ_HV_HDR + 2 * XP_SB_BLOCK + (size_t)(tend - XP_SB_BLOCK);
	uint8_t *buf = calloc(1, len);

	if (!buf) {
		perror("calloc");
		exit(1);
	}
	memcpy(buf, hdr, FZ_HV_HDR);
	memcpy(buf + FZ_HV_HDR, im->buf, XP_SB_BLOCK);
	memcpy(buf + FZ_HV_HDR + XP_SB_BLOCK, im->buf + im->size - XP_SB_BLOCK,
	       XP_SB_BLOCK);
	memcpy(buf + FZ_HV_HDR + 2 * XP_SB_BLOCK, im->buf + XP_SB_BLOCK,
	       (size_t)(tend - XP_SB_BLOCK));
	put(3, buf, len);
	free(buf);
}

static void hv_hdr(uint8_t *h, uint8_t flags, uint8_t ops, uint32_t phys_xor,
		   uint16_t hole_at, uint16_t hole_len, uint32_t seed)
{
	memset(h, 0, FZ_HV_HDR);
	h[0] = flags;
	fz_put_le(h + 4, phys_xor, 4);
	fz_put_le(h + 8, hole_at, 2);
	fz_put_le(h + 10, hole_len, 2);
	h[12] = ops;
	h[13] = (uint8_t)seed;
	fz_put_le(h + 14, seed >> 8, 2);
}

static void hv_image(struct hvi *im, uint64_t size, uint64_t phys, bool known,
		     uint32_t slots, uint32_t shift, int mgmt)
{
	struct hvi_spec s;

	memset(&s, 0, sizeof(s));
	s.ns_size = size;
	s.phys = phys;
	s.phys_known = known;
	s.slots = slots;
	s.align_shift = shift;
	s.mgmt = mgmt;
	s.generation = 3;
	if (hvi_init(im, &s)) {
		fprintf(stderr, "mkseeds: hv image %#llx at %#llx does not solve\n",
			(unsigned long long)size, (unsigned long long)phys);
		exit(1);
	}
}

/* Data extents owned by a few domains, with and without label areas. */
static void hv_extents(struct hvi *im, uint32_t first_slot)
{
	struct xp_rec r;
	uint64_t u = hvi_data_units(im);

	r = hvi_rec(im, 0, 2, 1, hv_owner[0], 0);
	hvi_update(im, first_slot, &r);
	r = hvi_rec(im, 3, 1, 2, hv_owner[1], 4096);
	hvi_update(im, first_slot + 2, &r);
	if (u > 8) {
		r = hvi_rec(im, 5, 3, 3, hv_owner[0], 2 * HVI_MiB - 4096);
		hvi_update(im, first_slot + 3, &r);
		r = hvi_rec(im, u - 1, 1, 4, NULL, 0);
		hvi_update(im, first_slot + 5, &r);
		/* renamed, reassigned, destroyed: seqs move on */
		r = hvi_rec(im, 9, 1, 5, hv_owner[2], 0);
		hvi_update(im, first_slot + 6, &r);
		memcpy(r.owner, hv_owner[3], 16);
		hvi_update(im, first_slot + 6, &r);
		memset(&r, 0, sizeof(r));
		hvi_update(im, first_slot + 7, &r);
	}
}

static void seeds_hv_validate(void)
{
	const uint64_t G64 = 64ull << 30;
	struct hvi im;
	struct xp_rec r;
	uint8_t h[FZ_HV_HDR];

	for (int i = 0; i < 4; i++)
		hvi_uuid(hv_owner[i], (uint32_t)i + 1, 0xd0);

	/* 64 MiB at 64 GiB: plain, expectations, a dry run first */
	hv_image(&im, 64 * HVI_MiB, G64, true, 16, 21, HVI_MGMT_XEN);
	hv_extents(&im, 0);
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0x1234);
	hv_put(&im, h);
	hv_hdr(h, 0, FZ_HV_OP_DRY | FZ_HV_OP_EXP_UUID | FZ_HV_OP_EXP_GEN, 0, 0,
	       0, 0x2201);
	hv_put(&im, h);
	hv_hdr(h, FZ_HV_PV32, FZ_HV_OP_EXP_BADGEN | FZ_HV_OP_RAM, 0, 0, 0, 7);
	hv_put(&im, h);
	hv_hdr(h, FZ_HV_PV32, FZ_HV_OP_P2MFAIL | FZ_HV_OP_FTFAIL, 0, 0, 0,
	       0x4511);
	hv_put(&im, h);
	/* moved; a PDX hole in the data area; one below it */
	hv_hdr(h, FZ_HV_PV32, 0, 0x40000, 0, 0, 0);
	hv_put(&im, h);
	hv_hdr(h, FZ_HV_PV32 | FZ_HV_HOLE, 0, 0, 6, 2, 0);
	hv_put(&im, h);
	/* the superblocks: one damaged, the backup stale, both differing */
	im.buf[100] ^= 1;
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0x77);
	hv_put(&im, h);
	im.buf[100] ^= 1;
	hv_hdr(h, FZ_HV_PV32 | FZ_HV_FIXSB, 0, 0, 0, 0, 0x78);
	hv_put(&im, h);
	im.sb.generation = 2;
	xp_sb_encode(&im.sb, true, im.buf + im.size - XP_SB_BLOCK);
	hv_put(&im, h);
	im.sb.init_time++;
	xp_sb_encode(&im.sb, true, im.buf + im.size - XP_SB_BLOCK);
	hv_put(&im, h);
	hvi_free(&im);

	/* the table: overlap, duplicate uuid, corrupt slot, torn copy,
	 * the zero block written */
	for (int v = 0; v < 5; v++) {
		hv_image(&im, 64 * HVI_MiB, G64, true, 16, 21, HVI_MGMT_XEN);
		hv_extents(&im, 0);
		switch (v) {
		case 0:
			r = hvi_rec(&im, 1, 2, 9, hv_owner[1], 0);
			hvi_update(&im, 12, &r);
			break;
		case 1:
			r = hvi_rec(&im, 14, 1, 1, hv_owner[1], 0);
			snprintf(r.name, sizeof(r.name), "dup");
			hvi_update(&im, 12, &r);
			break;
		case 2:
			hvi_slot(&im, 2)[XP_REC_SIZE + 75] ^= 0x10;
			break;
		case 3:
			r = hvi_rec(&im, 16, 2, 9, hv_owner[2], 0);
			hvi_update_torn(&im, 9, &r, 0x0ff0);
			break;
		case 4:
			im.buf[4096 + 512] = 0xff;
			break;
		}
		hv_hdr(h, FZ_HV_PV32 | (v == 1 ? FZ_HV_FIXREC : 0), 0, 0, 0, 0,
		       (uint32_t)v * 977);
		hv_put(&im, h);
		hvi_free(&im);
	}

	/* 640 MiB with a lent group: its own frame table, the heap */
	hv_image(&im, 640 * HVI_MiB, G64, true, 24, 21, HVI_MGMT_XEN);
	hv_extents(&im, 0);
	memset(&r, 0, sizeof(r));
	r.type = XP_REC_LENT_RAM;
	r.align_shift = 21;
	r.offset = 256 * HVI_MiB;
	r.size = 256 * HVI_MiB;
	hvi_uuid(r.uuid, 20, 0xe0);
	snprintf(r.name, sizeof(r.name), "ram");
	hvi_update(&im, 20, &r);
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0x3a5);
	hv_put(&im, h);
	hv_hdr(h, FZ_HV_PV32, FZ_HV_OP_HEAPFAIL, 0, 0, 0, 0x3a6);
	hv_put(&im, h);
	hv_hdr(h, 0, FZ_HV_OP_FTFAIL, 0, 0, 0, 0x3a7);
	hv_put(&im, h);
	hvi_free(&im);

	/* no compat M2P reserved: pv32 refused, fine without */
	hv_image(&im, 64 * HVI_MiB, G64, true, 8, 21, HVI_MGMT_XEN_NOCOMPAT);
	hv_extents(&im, 0);
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0);
	hv_put(&im, h);
	hv_hdr(h, 0, 0, 0, 0, 0, 0x51);
	hv_put(&im, h);
	hvi_free(&im);

	/* no PHYS_KNOWN: laid out for 0, found at 64 GiB (+ 2 MiB) */
	hv_image(&im, 64 * HVI_MiB, 0, false, 16, 21, HVI_MGMT_XEN);
	hv_extents(&im, 1);
	hv_hdr(h, FZ_HV_PV32, 0, (uint32_t)(G64 >> 12), 0, 0, 0x99);
	hv_put(&im, h);
	hv_hdr(h, FZ_HV_PV32, 0, (uint32_t)((G64 + 2 * HVI_MiB) >> 12), 0, 0,
	       0x9a);
	hv_put(&im, h);
	hvi_free(&im);

	/* 1 GiB alignment: a data area owning its groups */
	hv_image(&im, 3 * HVI_GiB + 4096, G64, true, 8, 30, HVI_MGMT_XEN);
	r = hvi_rec(&im, 0, 1, 1, hv_owner[0], 0);
	r.align_shift = 30;
	r.size = HVI_GiB;
	hvi_update(&im, 0, &r);
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0x100);
	hv_put(&im, h);
	hvi_free(&im);

	/* straddling 1 TiB */
	hv_image(&im, 64 * HVI_MiB, (1ull << 40) - 32 * HVI_MiB, true, 16, 21,
		 HVI_MGMT_XEN);
	hv_extents(&im, 0);
	hv_hdr(h, FZ_HV_PV32, 0, 0, 0, 0, 0x200);
	hv_put(&im, h);
	hvi_free(&im);
}

/* ---- fuzz_hv_plan ------------------------------------------------------- */

static void plan_seed(uint8_t flags, uint64_t phys, uint64_t size,
		      uint32_t slots, const uint8_t *entries, uint64_t hole_at,
		      uint64_t hole_len, uint64_t ftl, uint64_t m2pl,
		      const uint8_t (*ext)[4], size_t next)
{
	uint8_t b[FZ_PLAN_HDR + FZ_PLAN_MAX_EXT * FZ_PLAN_EXT];

	memset(b, 0, sizeof(b));
	b[0] = flags;
	if (entries)
		memcpy(b + 1, entries, 5);
	fz_put_le(b + 6, slots - 1, 2);
	fz_put_le(b + 8, phys >> 12, 8);
	fz_put_le(b + 16, size >> 12, 4);
	if (size > (4ull << 30))
		b[23] = 0xff;
	fz_put_le(b + 24, hole_at, 8);
	fz_put_le(b + 32, hole_len, 8);
	fz_put_le(b + 40, ftl, 8);
	fz_put_le(b + 48, m2pl, 8);
	fz_put_le(b + 56, 0x9e3779b97f4a7c15ull * (nseeds[4] + 1), 8);
	if (next)
		memcpy(b + FZ_PLAN_HDR, ext, next * FZ_PLAN_EXT);
	put(4, b, FZ_PLAN_HDR + next * FZ_PLAN_EXT);
}

static void seeds_hv_plan(void)
{
	const uint64_t G64 = 64ull << 30, MB = HVI_MiB, GB = HVI_GiB;
	const uint64_t TB = HVI_TiB;
	const uint8_t P = FZ_PLAN_PHYS, C = FZ_PLAN_COMPAT, V = FZ_PLAN_PV32;
	const uint8_t R = FZ_PLAN_REGISTER;
	/* data extents and a group lent as RAM (640 MiB at 64 GiB) */
	static const uint8_t ext[][4] = {
		{0, 0, 0, 2}, {2, 5, 0, 1}, {1, 122, 0, 128}, {0, 40, 0, 4},
	};
	static const uint8_t e64[5] = {6, 4, 3, 40, 0};	/* 64/16/8 B */
	static const uint8_t e8k[5] = {13, 3, 2, 40, 0}; /* 8 KiB page_info */
	static const uint8_t e4k[5] = {12, 3, 2, 32, 0};

	plan_seed(P | C | V, G64, 64 * MB, 16, NULL, 0, 0, 0, 0, NULL, 0);
	plan_seed(P | C | V | R, G64, 640 * MB, 24, NULL, 0, 0, 0, 0, ext, 4);
	plan_seed(P | C | R, G64, 640 * MB, 24, e4k, 0, 0, 0, 0, ext, 4);
	plan_seed(P | C | V | R | FZ_PLAN_ENTRIES, G64, 640 * MB, 24, e8k, 0,
		  0, 0, 0, ext, 4);
	plan_seed(P | C | V | FZ_PLAN_ENTRIES, G64, 256 * MB, 16, e64, 0, 0,
		  0, 0, NULL, 0);
	plan_seed(P | C | V | FZ_PLAN_1G, G64, 3 * GB + 4096, 8, NULL, 0, 0,
		  0, 0, NULL, 0);
	plan_seed(P | C | V, G64 + 200 * MB, 128 * MB, 8, NULL, 0, 0, 0, 0,
		  NULL, 0);
	plan_seed(P | C | V, TB - 32 * MB, 64 * MB, 8, NULL, 0, 0, 0, 0, NULL,
		  0);
	plan_seed(P | V, 2 * TB, 64 * MB, 8, NULL, 0, 0, 0, 0, NULL, 0);
	plan_seed(P | C | V | FZ_PLAN_1G, 15 * TB, 16 * GB + 4096, 8, NULL, 0,
		  0, 0, 0, NULL, 0);
	plan_seed(P | V | FZ_PLAN_1G, 3 * TB, 1 * TB - 4096, 8, NULL, 0,
		  0, 0, 0, NULL, 0);
	plan_seed(P | V | FZ_PLAN_1G, (1ull << 57) - 64 * GB, 32 * GB, 8,
		  NULL, 0, 0, 0, 0, NULL, 0);
	plan_seed(C | V, G64 + 6 * MB, 64 * MB, 16, NULL, 0, 0, 0, 0, NULL, 0);
	plan_seed(C | V, G64 + 240 * MB, 64 * MB, 16, NULL, 0, 0, 0, 0, NULL, 0);
	/* PDX holes: in the data area, below it, a small one */
	plan_seed(P | C | V | FZ_PLAN_HOLE, G64, 64 * MB, 16, NULL, 6, 2, 0, 0,
		  NULL, 0);
	plan_seed(P | C | V | FZ_PLAN_HOLE, G64, 64 * MB, 16, NULL, 0, 0, 0, 0,
		  NULL, 0);
	plan_seed(P | C | V | FZ_PLAN_HOLE | FZ_PLAN_HOLE_FRAMES, G64,
		  64 * MB, 16, NULL, 2055, 3, 0, 0, NULL, 0);
	/* limits */
	plan_seed(P | C | V, G64, 64 * MB, 16, NULL, 0, 0,
		  (G64 >> 12) + 5000, 0, NULL, 0);
	plan_seed(P | C | V, G64, 64 * MB, 16, NULL, 0, 0, 0,
		  (G64 >> 12) + 5000, NULL, 0);
}

int main(int argc, char **argv)
{
	char d[4200];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	snprintf(outdir, sizeof(outdir), "%s", argv[1]);
	mkdir_p(outdir);
	for (int k = 0; k < NKINDS; k++) {
		snprintf(d, sizeof(d), "%s/%s", outdir, sub[k]);
		mkdir_p(d);
	}
	seeds_sb();
	seeds_slot();
	seeds_open();
	seeds_hv_validate();
	seeds_hv_plan();
	printf("mkseeds: %u sb, %u slot, %u open, %u hv_validate, %u hv_plan seeds in %s\n",
	       nseeds[0], nseeds[1], nseeds[2], nseeds[3], nseeds[4], outdir);
	return 0;
}
