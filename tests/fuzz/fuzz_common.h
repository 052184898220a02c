/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets and the seed generator (mkseeds.c): input
 * layouts, the fixed namespace UUID, checksum fix-ups and an assertion
 * that aborts (so libFuzzer saves the input) with a readable message.
 *
 * Input layouts (all little-endian):
 *
 * fuzz_sb:   block[4096] | flags[1] | dev_size[8]
 *            flags bit0 is_backup, bit1 recompute the checksum before
 *            decoding (reach field validation), bit2 take dev_size from the
 *            input, else use the block's own ns_size field.
 *            Shorter inputs are zero-padded; no tail means flags 0.
 *
 * fuzz_slot: hdr[16] | table bytes (256 per slot)
 *            hdr[0] alignment (12/21/30 by value % 3), hdr[1] per_page,
 *            hdr[2] bit0 per_page += 1, bit1 recompute record checksums,
 *            bit2 phys_base known; hdr[4..5] slot_count - 1;
 *            hdr[6..9] ns_size in pages; hdr[10..13] phys_base in pages.
 *            The superblock is solved from these (a default if they do
 *            not solve); the slots present in the input are decoded.
 *
 * fuzz_open: flags[1] | primary[4096] | backup[4096] | bytes from 8 KiB on
 *            flags bit0 recompute both superblock checksums, bit1
 *            recompute record checksums (with the primary's ns_uuid),
 *            bit2 the backup is the primary re-flagged as backup, bit3 the
 *            image size is the primary's ns_size (else derived from the
 *            input length), bit4 run check --repair --force and re-check,
 *            bit5 open for writing and create/destroy an extent.
 */
#ifndef XP_FUZZ_COMMON_H
#define XP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_format.h"

#define FZ_SB_TAIL 9u
#define FZ_SLOT_HDR 16u
#define FZ_OPEN_HDR 1u

#define FZ_SB_BACKUP 0x01u
#define FZ_SB_FIXSUM 0x02u
#define FZ_SB_DEVSIZE 0x04u

#define FZ_SLOT_PP1 0x01u
#define FZ_SLOT_FIXSUM 0x02u
#define FZ_SLOT_PHYS 0x04u

#define FZ_OPEN_FIXSB 0x01u
#define FZ_OPEN_FIXREC 0x02u
#define FZ_OPEN_BACKUP_COPY 0x04u
#define FZ_OPEN_SIZE_FROM_SB 0x08u
#define FZ_OPEN_REPAIR 0x10u
#define FZ_OPEN_WRITE 0x20u

/* Largest image fuzz_open builds (calloc'd per input). */
#define FZ_OPEN_MAX_IMAGE (64ull << 20)

static const uint8_t fz_ns_uuid[16] = {0x3f, 0x8e, 0x2a, 0x51, 0xc4, 0x07,
				       0x4d, 0x9b, 0xa1, 0x66, 0x0e, 0x5d,
				       0x72, 0xb8, 0x19, 0xe3};

#define FZ_ASSERT(cond, ...)                                                 \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FUZZ ASSERT %s:%d: %s: ", __FILE__, \
				__LINE__, #cond);                            \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

static inline uint64_t fz_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Recompute a superblock block's checksum if its header_size is sane. */
static inline void fz_fix_sb(uint8_t *blk)
{
	struct xp_sb_disk *d = (struct xp_sb_disk *)blk;
	uint32_t h = xp_get32(d->header_size);

	if (h < XP_SB_SIZE || h > XP_SB_BLOCK || h % 4)
		return;
	d->checksum = xp_put64(xp_sb_checksum(blk, h));
}

/* Recompute the checksum of every non-blank copy of @n slots. */
static inline void fz_fix_recs(const uint8_t ns_uuid[16], uint8_t *table,
			       uint32_t n)
{
	for (uint32_t s = 0; s < n; s++)
		for (int c = 0; c < 2; c++) {
			uint8_t *r = table + (size_t)s * XP_SLOT_SIZE +
				     (size_t)c * XP_REC_SIZE;
			struct xp_rec_disk *d = (struct xp_rec_disk *)r;
			int blank = 1;

			for (unsigned i = 0; i < XP_REC_SIZE; i++)
				if (r[i]) {
					blank = 0;
					break;
				}
			if (!blank)
				d->checksum = xp_put64(xp_rec_checksum(ns_uuid, s, r));
		}
}

/* Fill @sb for a layout solved from the parameters; XP_OK or why not. */
static inline enum xp_fmt_status fz_make_sb(struct xp_sb *sb, uint64_t ns,
					    uint64_t phys, uint32_t slots,
					    uint32_t pp, uint32_t shift)
{
	struct xp_layout_params p = {ns, phys, slots, pp, shift};
	struct xp_layout l;
	const char *why;
	enum xp_fmt_status st = xp_layout_solve(&p, &l, &why);

	memset(sb, 0, sizeof(*sb));
	if (st != XP_OK)
		return st;
	sb->major = XP_FMT_MAJOR;
	sb->minor = XP_FMT_MINOR;
	sb->header_size = XP_SB_SIZE;
	sb->compat = phys ? XP_SB_F_PHYS_KNOWN : 0;
	memcpy(sb->ns_uuid, fz_ns_uuid, 16);
	sb->generation = 1;
	sb->ns_size = ns;
	sb->phys_base = phys;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->mgmt_offset = l.mgmt_offset;
	sb->mgmt_size = l.mgmt_size;
	sb->data_offset = l.data_offset;
	sb->data_size = l.data_size;
	sb->per_page = pp;
	sb->align_shift = shift;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->rec_size = XP_REC_SIZE;
	sb->init_time = 1700000000000000000ull;
	return XP_OK;
}

/* The superblock fuzz_slot decodes against, from its 16-byte header. */
static inline void fz_slot_sb(const uint8_t *h, struct xp_sb *sb)
{
	static const uint32_t shifts[3] = {12, 21, 30};
	uint32_t shift = shifts[h[0] % 3];
	uint32_t pp = h[1] + (h[2] & FZ_SLOT_PP1);
	uint32_t slots = (uint32_t)fz_le(h + 4, 2) + 1;
	uint64_t ns = fz_le(h + 6, 4) << 12;
	uint64_t phys = (h[2] & FZ_SLOT_PHYS) ? fz_le(h + 10, 4) << 12 : 0;

	if (fz_make_sb(sb, ns, phys, slots, pp, shift) != XP_OK)
		fz_make_sb(sb, 1ull << 30, 0, 64, 40, 21);
}

#endif /* XP_FUZZ_COMMON_H */
