/* SPDX-License-Identifier: MIT */
/*
 * Seed corpora for the fuzz targets, built from real structures with
 * xp_sb_encode()/xp_rec_encode(): mkseeds OUTDIR writes OUTDIR/sb,
 * OUTDIR/slot and OUTDIR/open (input layouts in fuzz_common.h).
 */
#include "fuzz_common.h"

#include <errno.h>
#include <stdbool.h>
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

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static struct xp_rec used(const struct xp_sb *sb, uint64_t seq, uint64_t k,
			  uint64_t units, const char *name)
{
	struct xp_rec r;
	uint64_t a = 1ull << sb->align_shift;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.flags = XP_REC_F_USED;
	r.offset = sb->data_offset + k * a;
	r.size = units * a;
	r.owner = k % 3 ? XP_OWNER_NONE : (uint32_t)(k + 1);
	r.align_shift = sb->align_shift;
	r.label_size = units * a > XP_PAGE_SIZE && k % 2 ? XP_PAGE_SIZE : 0;
	for (int i = 0; i < 16; i++)
		r.uuid[i] = (uint8_t)(0xa0 + i + 13 * k);
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static struct xp_rec freerec(uint64_t seq)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	return r;
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
	put_le(buf + XP_SB_BLOCK + 1, dev, 8);
	put(0, buf, sizeof(buf));
}

static void tw_minor1(uint8_t *b)
{
	b[18] = 1;
	b[200] = 0x42; /* reserved byte in use by 1.1 */
}

static void tw_hdr1024(uint8_t *b)
{
	put_le(b + 20, 1024, 4);
}

static void seeds_sb(void)
{
	static const struct {
		uint64_t ns, phys;
		uint32_t slots, pp, shift;
	} p[] = {
		{20480, 0, 1, 0, 12},
		{24576, 0, 1, 40, 12},
		{64ull << 20, 0, 1024, 40, 21},
		{1ull << 30, 0, 64, 40, 21},
		{3ull << 30, (2ull << 20) + 4096, 4096, 64, 21},
		{4ull << 30, 4096 * 7, 65536, 256, 12},
		{(8ull << 30) + 4096, (1ull << 30) - 4096, 16, 40, 30},
		{64ull << 40, 0, 65536, 256, 30},
		{64ull << 40, (1ull << 56), 1024, 40, 21},
		{(1ull << 57) - (1ull << 40), 1ull << 40, 100, 0, 12},
	};
	struct xp_sb sb;
	static uint8_t zero[XP_SB_BLOCK + FZ_SB_TAIL];

	put(0, zero, sizeof(zero));
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		if (fz_make_sb(&sb, p[i].ns, p[i].phys, p[i].slots, p[i].pp,
			       p[i].shift) != XP_OK) {
			fprintf(stderr, "mkseeds: sb params %zu do not solve\n", i);
			exit(1);
		}
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
	}
}

/* ---- fuzz_slot ---------------------------------------------------------- */

static void slot_hdr(uint8_t *h, uint32_t shift_idx, uint32_t pp, uint8_t fl,
		     uint32_t slots, uint64_t ns, uint64_t phys)
{
	memset(h, 0, FZ_SLOT_HDR);
	h[0] = (uint8_t)shift_idx;
	h[1] = (uint8_t)(pp > 255 ? 255 : pp);
	h[2] = (uint8_t)(fl | (pp > 255 ? FZ_SLOT_PP1 : 0) |
			 (phys ? FZ_SLOT_PHYS : 0));
	put_le(h + 4, slots - 1, 2);
	put_le(h + 6, ns >> 12, 4);
	put_le(h + 10, phys >> 12, 4);
}

static void seeds_slot(void)
{
	static const struct {
		uint32_t shift_idx, pp, slots;
		uint64_t ns, phys;
	} p[] = {
		{1, 40, 16, 4ull << 30, 0},
		{0, 64, 8, 64ull << 20, 4096 * 3},
		{2, 40, 32, 16ull << 30, (1ull << 30) - 4096},
		{1, 256, 64, 1ull << 40, (2ull << 20) + 4096},
	};
	enum { NS = 8 };
	static uint8_t buf[FZ_SLOT_HDR + 64 * XP_SLOT_SIZE];

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		for (int variant = 0; variant < 6; variant++) {
			uint8_t *t = buf + FZ_SLOT_HDR;
			struct xp_sb sb;
			struct xp_rec r;
			uint32_t n = variant == 5 ? p[i].slots : NS;
			uint8_t fl = variant == 3 ? FZ_SLOT_FIXSUM : 0;

			memset(buf, 0, sizeof(buf));
			slot_hdr(buf, p[i].shift_idx, p[i].pp, fl, p[i].slots,
				 p[i].ns, p[i].phys);
			fz_slot_sb(buf, &sb);
#define COPY(s, c) (t + (s) * XP_SLOT_SIZE + (c) * XP_REC_SIZE)
			/* slot 0: used, one copy; 1: updated twice; 2: freed */
			r = used(&sb, 1, 0, 1, "vm0-disk");
			xp_rec_encode(&sb, 0, &r, COPY(0, 0));
			r = used(&sb, 1, 1, 2, "vm1.pmem");
			xp_rec_encode(&sb, 1, &r, COPY(1, 0));
			r.seq = 2;
			r.owner = 5;
			xp_rec_encode(&sb, 1, &r, COPY(1, 1));
			r = used(&sb, 3, 4, 1, "old");
			xp_rec_encode(&sb, 2, &r, COPY(2, 0));
			r = freerec(4);
			xp_rec_encode(&sb, 2, &r, COPY(2, 1));
			/* slot 4: 55-character name, label */
			r = used(&sb, 9, 6, 3,
				 "a234567890123456789012345678901234567890123456789012345");
			xp_rec_encode(&sb, 4, &r, COPY(4, 1));
			switch (variant) {
			case 1: /* overlap + duplicate name */
				r = used(&sb, 1, 1, 1, "vm0-disk");
				xp_rec_encode(&sb, 5, &r, COPY(5, 0));
				break;
			case 2: /* equal seqs; torn copy */
				r = used(&sb, 7, 10, 1, "same");
				xp_rec_encode(&sb, 5, &r, COPY(5, 0));
				xp_rec_encode(&sb, 5, &r, COPY(5, 1));
				COPY(1, 1)[77] ^= 0x20;
				break;
			case 3: /* field errors under fixed checksums */
				r = used(&sb, 1, 12, 1, "x");
				r.owner = 0x7ff0;
				xp_rec_encode(&sb, 6, &r, COPY(6, 0));
				break;
			case 4: /* copied to the wrong slot */
				memcpy(COPY(7, 0), COPY(0, 0), XP_REC_SIZE);
				break;
			case 5: /* every slot used, adjacent extents */
				for (uint32_t s = 0; s < n; s++) {
					char nm[16];

					snprintf(nm, sizeof(nm), "e%u", s);
					r = used(&sb, s + 1, 20 + s, 1, nm);
					xp_rec_encode(&sb, s, &r,
						      COPY(s, s % 2));
				}
				break;
			}
#undef COPY
			put(1, buf, FZ_SLOT_HDR + (size_t)n * XP_SLOT_SIZE);
		}
	}
}

/* ---- fuzz_open ---------------------------------------------------------- */

static void seeds_open(void)
{
	static const struct {
		uint64_t ns;
		uint32_t slots, pp, shift;
	} p[] = {
		{64 << 10, 8, 40, 12},
		{1 << 20, 16, 64, 12},
		{(8 << 20) + 4096, 16, 40, 21},
		{(12 << 20), 4, 256, 21},
	};
	static uint8_t buf[FZ_OPEN_HDR + 2 * XP_SB_BLOCK + 16 * XP_SLOT_SIZE];

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		struct xp_sb sb;

		if (fz_make_sb(&sb, p[i].ns, 0, p[i].slots, p[i].pp,
			       p[i].shift) != XP_OK) {
			fprintf(stderr, "mkseeds: open params %zu do not solve\n",
				i);
			exit(1);
		}
		for (int variant = 0; variant < 7; variant++) {
			uint8_t *pri = buf + FZ_OPEN_HDR;
			uint8_t *bak = pri + XP_SB_BLOCK;
			uint8_t *t = bak + XP_SB_BLOCK;
			uint64_t units = sb.data_size >> sb.align_shift;
			struct xp_rec r;
			size_t len = FZ_OPEN_HDR + 2 * XP_SB_BLOCK +
				     (size_t)sb.slot_count * XP_SLOT_SIZE;
			static const uint8_t fl[7] = {
				FZ_OPEN_SIZE_FROM_SB,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_WRITE,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_REPAIR,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_REPAIR,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_REPAIR |
					FZ_OPEN_FIXREC,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_BACKUP_COPY |
					FZ_OPEN_WRITE,
				FZ_OPEN_SIZE_FROM_SB | FZ_OPEN_FIXSB |
					FZ_OPEN_REPAIR | FZ_OPEN_WRITE,
			};

			memset(buf, 0, sizeof(buf));
			buf[0] = fl[variant];
			xp_sb_encode(&sb, false, pri);
			xp_sb_encode(&sb, true, bak);
			if (units >= 2) {
				r = used(&sb, 1, 0, 1, "guest1");
				xp_rec_encode(&sb, 0, &r, t);
			}
			if (units >= 4) {
				r = used(&sb, 2, 2, 1, "guest2");
				xp_rec_encode(&sb, 2, &r, t + 2 * XP_SLOT_SIZE +
							    XP_REC_SIZE);
				r = freerec(5);
				xp_rec_encode(&sb, 3, &r, t + 3 * XP_SLOT_SIZE);
			}
			switch (variant) {
			case 2: /* primary torn */
				pri[100] ^= 1;
				break;
			case 3: /* backup stale and a corrupt slot */
				sb.generation++;
				xp_sb_encode(&sb, false, pri);
				sb.generation--;
				t[XP_SLOT_SIZE * 1 + 5] = 0x77;
				buf[FZ_OPEN_HDR + XP_SB_BLOCK + 40] ^= 0xff;
				break;
			case 4: /* an overlap, checksums fixed by the harness */
				r = used(&sb, 1, 0, 1, "guest3");
				xp_rec_encode(&sb, 1, &r, t + XP_SLOT_SIZE);
				t[XP_SLOT_SIZE + 130] = 1;
				break;
			case 6: /* a changed field, checksum fixed by the harness */
				put_le(pri + 136, 12345, 8);
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
