/* SPDX-License-Identifier: MIT */
/*
 * Shared by the fuzz targets and the seed generator (mkseeds.c), format
 * 2.0: input layouts, the fixed namespace UUID, superblock and record
 * fix-ups, reference chunk counts and table-rule oracles, and an assertion
 * that aborts (so libFuzzer saves the input) with a readable message.
 *
 * Input layouts (all little-endian):
 *
 * fuzz_sb:   block[4096] | flags[1] | dev_size[8]
 *            flags bit0 is_backup, bit1 recompute the checksum before
 *            decoding (reach field validation), bit2 take dev_size from the
 *            input, else use the block's own ns_size field, bit3 recompute
 *            the layout fields (offsets, sizes, chunk counts) from the
 *            block's own parameters before fixing the checksum (reach the
 *            checks after the layout). Shorter inputs are zero-padded; no
 *            tail means flags 0.
 *
 * fuzz_slot: hdr[16] | table bytes (256 per slot)
 *            hdr[0] bit0 alignment 1 GiB (else 2 MiB), bits 1..2 mgmt
 *            (0 none, 1 Xen, 2 Xen without compat M2P, 3 Xen);
 *            hdr[1] bit0 recompute record checksums (tags kept), bit1 make
 *            each non-blank copy's tags agree (word 0's) first, bit2
 *            phys_base known; hdr[2..3] slot_count - 1; hdr[4..7] ns_size
 *            in 4 KiB pages; hdr[8..11] phys_base in 4 KiB pages;
 *            hdr[12..15] a seed for the tears and damage the target tries.
 *            The superblock is solved from these (a default if they do not
 *            solve); the slots present in the input are decoded.
 *
 * fuzz_open: hdr[4] | primary[4096] | backup[4096] | bytes from 8 KiB on
 *            hdr[0] flags: bit0 recompute both superblock checksums, bit1
 *            recompute record checksums (with the primary's ns_uuid, tags
 *            kept), bit2 the backup is the primary re-flagged as backup,
 *            bit3 the image size is the primary's ns_size (else hdr[1..3]
 *            pages), bit4 run check --repair --force and re-check, bit5
 *            open for writing and run create/assign/lend/rename/destroy,
 *            bit6/bit7 repair with --use-superblock primary/backup.
 *            hdr[1..3] image size in 4 KiB pages (le24), clamped.
 */
#ifndef XP_FUZZ_COMMON_H
#define XP_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_format.h"

#define FZ_SB_TAIL 9u
#define FZ_SLOT_HDR 16u
#define FZ_OPEN_HDR 4u

#define FZ_SB_BACKUP 0x01u
#define FZ_SB_FIXSUM 0x02u
#define FZ_SB_DEVSIZE 0x04u
#define FZ_SB_FIXLAYOUT 0x08u

#define FZ_SLOT_1G 0x01u	/* hdr[0] */
#define FZ_SLOT_MGMT_SHIFT 1	/* hdr[0] bits 1..2 */
#define FZ_SLOT_FIXSUM 0x01u	/* hdr[1] */
#define FZ_SLOT_UNITAG 0x02u
#define FZ_SLOT_PHYS 0x04u

#define FZ_OPEN_FIXSB 0x01u
#define FZ_OPEN_FIXREC 0x02u
#define FZ_OPEN_BACKUP_COPY 0x04u
#define FZ_OPEN_SIZE_FROM_SB 0x08u
#define FZ_OPEN_REPAIR 0x10u
#define FZ_OPEN_WRITE 0x20u
#define FZ_OPEN_USE_PRIMARY 0x40u
#define FZ_OPEN_USE_BACKUP 0x80u

/*
 * Largest image fuzz_open builds: room for a 1 GiB aligned layout (more
 * than 2 GiB). The arena is a lazily backed mapping: only the pages the
 * library touches (superblocks, table) cost memory.
 */
#define FZ_OPEN_MAX_IMAGE ((4ull << 30) + (64ull << 20))
#define FZ_OPEN_MIN_IMAGE (4ull << 12)

#define FZ_MiB (1ull << 20)
#define FZ_GiB (1ull << 30)
#define FZ_TiB (1ull << 40)

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

static inline void fz_put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
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

/*
 * Store the layout the block's own parameters determine (when they
 * solve), so the fuzzer gets past the layout comparison. No checksum.
 */
static inline void fz_fix_layout(uint8_t *blk)
{
	struct xp_sb_disk *d = (struct xp_sb_disk *)blk;
	struct xp_layout_params p;
	struct xp_layout l;
	const char *why;

	memset(&p, 0, sizeof(p));
	p.ns_size = xp_get64(d->ns_size);
	p.phys_base = xp_get64(d->phys_base);
	p.slot_count = xp_get32(d->slot_count);
	p.align_shift = xp_get32(d->align_shift);
	p.geom.chunk_shift = xp_get32(d->chunk_shift);
	p.geom.ft_entry = xp_get32(d->ft_entry);
	p.geom.m2p_entry = xp_get32(d->m2p_entry);
	p.geom.compat_entry = xp_get32(d->compat_entry);
	p.geom.compat_limit_shift = xp_get32(d->compat_limit_shift);
	if (xp_layout_solve(&p, &l, &why) != XP_OK)
		return;
	d->ft_chunks = xp_put32(l.chunks.ft);
	d->m2p_chunks = xp_put32(l.chunks.m2p);
	d->compat_chunks = xp_put32(l.chunks.compat);
	d->mgmt_offset = xp_put64(l.mgmt_offset);
	d->mgmt_size = xp_put64(l.mgmt_size);
	d->data_offset = xp_put64(l.data_offset);
	d->data_size = xp_put64(l.data_size);
}

static inline bool fz_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Give every word of a non-blank copy the tag of word 0. */
static inline void fz_unify_tags(uint8_t *copy)
{
	if (fz_zero(copy, XP_REC_SIZE))
		return;
	for (uint32_t k = 1; k < XP_REC_WORDS; k++)
		copy[k * 8 + 7] = copy[7];
}

/*
 * Recompute the checksum of one non-blank record copy, writing only the
 * payload bytes that hold it (payload 104..111 sit in words 14 and 15):
 * the tags stay what they were.
 */
static inline void fz_fix_rec(const uint8_t ns_uuid[16], uint32_t slot,
			      uint8_t *copy)
{
	uint8_t pl[XP_REC_PAYLOAD];
	uint64_t sum;

	if (fz_zero(copy, XP_REC_SIZE))
		return;
	xp_rec_gather(copy, pl);
	sum = xp_rec_checksum(ns_uuid, slot, pl);
	for (uint32_t i = 0; i < 8; i++) {
		uint32_t j = (uint32_t)offsetof(struct xp_rec_payload, checksum) + i;

		copy[(j / XP_REC_WORD_PAYLOAD) * 8 + j % XP_REC_WORD_PAYLOAD] =
			(uint8_t)(sum >> (8 * i));
	}
}

/* Both copies of @n slots: tags made to agree and/or checksums fixed. */
static inline void fz_fix_recs(const uint8_t ns_uuid[16], uint8_t *table,
			       uint32_t n, bool unitag, bool fixsum)
{
	for (uint32_t s = 0; s < n; s++)
		for (int c = 0; c < 2; c++) {
			uint8_t *r = table + (size_t)s * XP_SLOT_SIZE +
				     (size_t)c * XP_REC_SIZE;

			if (unitag)
				fz_unify_tags(r);
			if (fixsum)
				fz_fix_rec(ns_uuid, s, r);
		}
}

/* The three geometries 2.0 knows: 0 none, 1 Xen, 2 Xen without compat. */
static inline void fz_geom(struct xp_mgmt_geom *g, unsigned mode)
{
	memset(g, 0, sizeof(*g));
	if (mode % 3)
		xp_mgmt_geom_xen(g, mode % 3 == 1);
}

/* Fill @sb for a layout solved from the parameters; XP_OK or why not. */
static inline enum xp_fmt_status fz_make_sb(struct xp_sb *sb, uint64_t ns,
					    uint64_t phys, uint32_t slots,
					    uint32_t shift, unsigned mgmt)
{
	struct xp_layout_params p;
	struct xp_layout l;
	const char *why;
	enum xp_fmt_status st;

	memset(&p, 0, sizeof(p));
	p.ns_size = ns;
	p.phys_base = phys;
	p.slot_count = slots;
	p.align_shift = shift;
	fz_geom(&p.geom, mgmt);
	st = xp_layout_solve(&p, &l, &why);
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
	sb->init_time = 1700000000000000000ull;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->rec_size = XP_REC_SIZE;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->align_shift = shift;
	sb->geom = p.geom;
	sb->chunks = l.chunks;
	sb->mgmt_offset = l.mgmt_offset;
	sb->mgmt_size = l.mgmt_size;
	sb->data_offset = l.data_offset;
	sb->data_size = l.data_size;
	return XP_OK;
}

/* The superblock fuzz_slot decodes against, from its 16-byte header. */
static inline void fz_slot_sb(const uint8_t *h, struct xp_sb *sb)
{
	uint32_t shift = (h[0] & FZ_SLOT_1G) ? XP_ALIGN_1G_SHIFT :
					       XP_ALIGN_2M_SHIFT;
	unsigned mgmt = (h[0] >> FZ_SLOT_MGMT_SHIFT) & 3;	/* 3: Xen */
	uint32_t slots = (uint32_t)fz_le(h + 2, 2) + 1;
	uint64_t ns = fz_le(h + 4, 4) << 12;
	uint64_t phys = (h[1] & FZ_SLOT_PHYS) ? fz_le(h + 8, 4) << 12 : 0;

	if (fz_make_sb(sb, ns, phys, slots, shift, mgmt == 3 ? 1 : mgmt) !=
	    XP_OK)
		fz_make_sb(sb, 1ull << 30, 0, 64, XP_ALIGN_2M_SHIFT, 1);
}

/*
 * Naturally aligned groups of @g bytes that [s, e) touches, counted the
 * long way round (ceil(e / g) - floor(s / g)), for the chunk oracle.
 */
static inline uint64_t fz_groups(uint64_t s, uint64_t e, uint64_t g)
{
	if (e <= s)
		return 0;
	return (e / g + !!(e % g)) - s / g;
}

/* Chunk counts of the three sub-arrays for the frames [s, e). */
static inline void fz_ref_chunks(const struct xp_mgmt_geom *g, uint64_t s,
				 uint64_t e, uint64_t out[3])
{
	out[0] = out[1] = out[2] = 0;
	if (xp_mgmt_geom_none(g))
		return;
	out[0] = fz_groups(s, e, 256 * FZ_MiB);
	out[1] = fz_groups(s, e, FZ_GiB);
	if (g->compat_entry && s < FZ_TiB)
		out[2] = fz_groups(s, e < FZ_TiB ? e : FZ_TiB, 2 * FZ_GiB);
}

/* Do two used records break a table rule? (0 no, 1 overlap, 2 name,
 * 4 uuid; or'ed.) */
static inline int fz_rules(const struct xp_rec *p, const struct xp_rec *q)
{
	int r = 0;

	if (p->offset < q->offset + q->size && q->offset < p->offset + p->size)
		r |= 1;
	if (!strcmp(p->name, q->name))
		r |= 2;
	if (!memcmp(p->uuid, q->uuid, 16))
		r |= 4;
	return r;
}

#endif /* XP_FUZZ_COMMON_H */
