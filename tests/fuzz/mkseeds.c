/* SPDX-License-Identifier: MIT */
/*
 * Seed corpora for the fuzz targets (format 2.0), built from real
 * structures with xp_sb_encode(), xp_slot_init() and the update protocol
 * (xp_slot_next_copy() + xp_rec_encode() + xp_slot_set()): mkseeds OUTDIR
 * writes OUTDIR/sb, OUTDIR/slot and OUTDIR/open (input layouts in
 * fuzz_common.h).
 */
#include "fuzz_common.h"

#include <errno.h>
#include <sys/stat.h>

static char outdir[4096];
static unsigned nseeds[3];

static void put(int kind, const uint8_t *buf, size_t len)
{
	static const char *const sub[3] = {"sb", "slot", "open"};
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

int main(int argc, char **argv)
{
	char d[4200];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	snprintf(outdir, sizeof(outdir), "%s", argv[1]);
	mkdir_p(outdir);
	snprintf(d, sizeof(d), "%s/sb", outdir);
	mkdir_p(d);
	snprintf(d, sizeof(d), "%s/slot", outdir);
	mkdir_p(d);
	snprintf(d, sizeof(d), "%s/open", outdir);
	mkdir_p(d);
	seeds_sb();
	seeds_slot();
	seeds_open();
	printf("mkseeds: %u sb, %u slot, %u open seeds in %s\n", nseeds[0],
	       nseeds[1], nseeds[2], outdir);
	return 0;
}
