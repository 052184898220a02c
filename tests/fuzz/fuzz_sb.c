/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: xp_sb_decode() (format 2.0) on arbitrary 4 KiB blocks,
 * with the device size and location taken from the input (see
 * fuzz_common.h). When a block decodes, check every invariant the
 * hypervisor relies on: regions ordered and inside the namespace, data and
 * management area physically aligned, the geometry one of the three 2.0
 * knows, chunk counts equal to an independent count of the frame groups
 * the data area touches, data_offset the smallest that fits; that
 * re-encoding decodes the same; that writers refuse what they must; and
 * that relocating a copy (repair) keeps it valid and "the same but for
 * generation".
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNK (2 * FZ_MiB)

static void check_invariants(const struct xp_sb *sb, const uint8_t *blk,
			     uint64_t dev, bool backup)
{
	uint64_t a, table_end, mgmt_end, data_end, phys_end, backup_off, d0;
	uint64_t ref[3], p = sb->phys_base;
	struct xp_mgmt_geom xen, xnc;
	bool none = xp_mgmt_geom_none(&sb->geom);

	FZ_ASSERT(sb->major == XP_FMT_MAJOR, "major %u", sb->major);
	FZ_ASSERT(sb->incompat == 0, "incompat %#x", sb->incompat);
	FZ_ASSERT(sb->header_size >= XP_SB_SIZE &&
		  sb->header_size <= XP_SB_BLOCK && sb->header_size % 4 == 0,
		  "header_size %u", sb->header_size);
	FZ_ASSERT(!!(sb->compat & XP_SB_F_BACKUP) == backup, "backup flag");
	FZ_ASSERT(sb->generation != 0, "generation 0");
	FZ_ASSERT(!fz_zero(sb->ns_uuid, 16), "zero ns_uuid");
	FZ_ASSERT(sb->ns_size == dev, "ns_size %#llx dev %#llx",
		  (unsigned long long)sb->ns_size, (unsigned long long)dev);
	FZ_ASSERT(sb->ns_size % XP_PAGE_SIZE == 0, "ns_size unaligned");
	FZ_ASSERT(p % XP_PAGE_SIZE == 0, "phys_base unaligned");
	FZ_ASSERT(!__builtin_add_overflow(p, sb->ns_size, &phys_end) &&
		  phys_end <= XP_PHYS_LIMIT, "phys_base + ns_size");
	FZ_ASSERT((sb->compat & XP_SB_F_PHYS_KNOWN) || p == 0,
		  "phys_base without PHYS_KNOWN");
	FZ_ASSERT(sb->table_offset == XP_TABLE_OFFSET, "table_offset");
	FZ_ASSERT(sb->slot_size == XP_SLOT_SIZE && sb->rec_size == XP_REC_SIZE &&
		  sb->page_shift == XP_PAGE_SHIFT, "constants");
	FZ_ASSERT(sb->slot_count >= XP_MIN_SLOTS &&
		  sb->slot_count <= XP_MAX_SLOTS, "slot_count %u",
		  sb->slot_count);
	FZ_ASSERT(sb->align_shift == 21 || sb->align_shift == 30,
		  "align_shift %u", sb->align_shift);
	a = 1ull << sb->align_shift;

	/* one of three geometries */
	xp_mgmt_geom_xen(&xen, true);
	xp_mgmt_geom_xen(&xnc, false);
	FZ_ASSERT(none || !memcmp(&sb->geom, &xen, sizeof(xen)) ||
		  !memcmp(&sb->geom, &xnc, sizeof(xnc)),
		  "geometry %u/%u/%u/%u/%u", sb->geom.chunk_shift,
		  sb->geom.ft_entry, sb->geom.m2p_entry, sb->geom.compat_entry,
		  sb->geom.compat_limit_shift);

	/* superblock < zero area < table < mgmt < data < backup <= ns_size */
	table_end = sb->table_offset + (uint64_t)sb->slot_count * XP_SLOT_SIZE;
	backup_off = sb->ns_size - XP_SB_BLOCK;
	FZ_ASSERT(table_end <= sb->mgmt_offset, "table %#llx > mgmt %#llx",
		  (unsigned long long)table_end,
		  (unsigned long long)sb->mgmt_offset);
	FZ_ASSERT(sb->mgmt_offset % XP_PAGE_SIZE == 0, "mgmt_offset unaligned");
	if (none) {
		FZ_ASSERT(sb->mgmt_offset == (table_end + 4095) / 4096 * 4096,
			  "mgmt_offset of no management area");
		FZ_ASSERT(sb->mgmt_size == 0 && sb->chunks.ft == 0 &&
			  sb->chunks.m2p == 0 && sb->chunks.compat == 0,
			  "no management area, but chunks");
	} else {
		FZ_ASSERT((p + sb->mgmt_offset) % CHUNK == 0,
			  "mgmt_offset not physically 2 MiB aligned");
		FZ_ASSERT(sb->mgmt_offset - table_end < CHUNK,
			  "mgmt_offset not the first 2 MiB boundary");
	}
	FZ_ASSERT(!__builtin_add_overflow(sb->mgmt_offset, sb->mgmt_size,
					  &mgmt_end) &&
		  mgmt_end <= sb->data_offset, "mgmt overlaps data");
	FZ_ASSERT(sb->data_size > 0, "no data");
	FZ_ASSERT(!__builtin_add_overflow(sb->data_offset, sb->data_size,
					  &data_end), "data overflow");
	FZ_ASSERT(sb->ns_size >= 2 * XP_SB_BLOCK && data_end <= backup_off,
		  "data end %#llx past backup (ns %#llx)",
		  (unsigned long long)data_end,
		  (unsigned long long)sb->ns_size);
	FZ_ASSERT((p + sb->data_offset) % a == 0, "data not physically aligned");
	FZ_ASSERT((p + data_end) % a == 0 && backup_off - data_end < a,
		  "data_end not the last aligned boundary");

	/* chunk counts: every frame group the data area touches */
	fz_ref_chunks(&sb->geom, p + sb->data_offset, p + data_end, ref);
	FZ_ASSERT(sb->chunks.ft == ref[0] && sb->chunks.m2p == ref[1] &&
		  sb->chunks.compat == ref[2],
		  "chunks %u/%u/%u, groups %llu/%llu/%llu", sb->chunks.ft,
		  sb->chunks.m2p, sb->chunks.compat, (unsigned long long)ref[0],
		  (unsigned long long)ref[1], (unsigned long long)ref[2]);
	FZ_ASSERT(sb->mgmt_size == (ref[0] + ref[1] + ref[2]) * CHUNK,
		  "mgmt_size not the chunks");
	if (!none && a == FZ_GiB)
		FZ_ASSERT(ref[0] * 256 * FZ_MiB == sb->data_size &&
			  ref[1] * FZ_GiB == sb->data_size,
			  "1 GiB data area does not own its groups whole");

	/* data_offset is the smallest aligned offset that fits */
	d0 = (p + sb->mgmt_offset + a - 1) / a * a - p;
	FZ_ASSERT(sb->data_offset >= d0, "data below the first candidate");
	if (sb->data_offset > d0) {
		uint64_t d = sb->data_offset - a;

		fz_ref_chunks(&sb->geom, p + d, p + data_end, ref);
		FZ_ASSERT(sb->mgmt_offset + (ref[0] + ref[1] + ref[2]) * CHUNK > d,
			  "data_offset %#llx not minimal",
			  (unsigned long long)sb->data_offset);
	}

	/* bytes a reader of this minor demands zero */
	if (sb->minor <= XP_FMT_MINOR)
		FZ_ASSERT(fz_zero(blk + 184, 320) && fz_zero(blk + 36, 4) &&
			  fz_zero(blk + 148, 4), "reserved bytes accepted");
	FZ_ASSERT(fz_zero(blk + sb->header_size,
			  XP_SB_BLOCK - sb->header_size), "block tail");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t blk[XP_SB_BLOCK], blk2[XP_SB_BLOCK], blk3[XP_SB_BLOCK];
	struct xp_sb sb, sb2;
	const char *field, *why;
	enum xp_fmt_status st;
	uint8_t flags = 0;
	uint64_t dev;
	bool backup, w;

	memset(blk, 0, sizeof(blk));
	memcpy(blk, data, size < XP_SB_BLOCK ? size : XP_SB_BLOCK);
	if (size > XP_SB_BLOCK)
		flags = data[XP_SB_BLOCK];
	backup = flags & FZ_SB_BACKUP;
	if ((flags & FZ_SB_DEVSIZE) && size >= XP_SB_BLOCK + FZ_SB_TAIL)
		dev = fz_le(data + XP_SB_BLOCK + 1, 8);
	else
		dev = fz_le(blk + 64, 8);
	if (flags & FZ_SB_FIXLAYOUT)
		fz_fix_layout(blk);
	if (flags & (FZ_SB_FIXSUM | FZ_SB_FIXLAYOUT))
		fz_fix_sb(blk);

	/* Short buffers are refused, never read past. */
	FZ_ASSERT(xp_sb_decode(blk, XP_SB_BLOCK - 1, dev, backup, &sb, &field) ==
		  XP_E_INVAL, "short buffer");

	st = xp_sb_decode(blk, sizeof(blk), dev, backup, &sb, &field);
	FZ_ASSERT(xp_fmt_strstatus(st) != NULL, "strstatus");
	switch (st) {
	case XP_OK:
		break;
	case XP_E_BLANK:
		FZ_ASSERT(fz_zero(blk, sizeof(blk)), "BLANK but not zero");
		return 0;
	case XP_E_SIGNATURE:
	case XP_E_CHECKSUM:
		return 0;
	case XP_E_VERSION:
		FZ_ASSERT(field && (!strcmp(field, "major") ||
				    !strcmp(field, "incompat")),
			  "VERSION for %s", field ? field : "(null)");
		return 0;
	case XP_E_FIELD:
		FZ_ASSERT(field != NULL, "FIELD without a field name");
		return 0;
	default:
		FZ_ASSERT(0, "decode status %d (%s)", (int)st,
			  xp_fmt_strstatus(st));
	}
	FZ_ASSERT(field == NULL, "OK with field %s", field);
	check_invariants(&sb, blk, dev, backup);

	/* Writers refuse a newer minor and unknown ro_compat bits. */
	w = xp_sb_writable(&sb, &why);
	FZ_ASSERT(w == (sb.minor <= XP_FMT_MINOR &&
			!(sb.ro_compat & ~XP_SB_RO_COMPAT_KNOWN)) &&
			  w == (why == NULL),
		  "writable %d (minor %u ro_compat %#x)", w, sb.minor,
		  sb.ro_compat);

	/* What decodes re-encodes to something that decodes the same. */
	xp_sb_encode(&sb, backup, blk2);
	st = xp_sb_decode(blk2, sizeof(blk2), dev, backup, &sb2, &field);
	FZ_ASSERT(st == XP_OK, "re-encoded: %s (%s)", xp_fmt_strstatus(st),
		  field ? field : "-");
	FZ_ASSERT(sb2.ns_size == sb.ns_size && sb2.phys_base == sb.phys_base &&
		  sb2.slot_count == sb.slot_count &&
		  sb2.mgmt_offset == sb.mgmt_offset &&
		  sb2.mgmt_size == sb.mgmt_size &&
		  sb2.data_offset == sb.data_offset &&
		  sb2.data_size == sb.data_size &&
		  !memcmp(&sb2.geom, &sb.geom, sizeof(sb.geom)) &&
		  sb2.chunks.ft == sb.chunks.ft &&
		  sb2.chunks.m2p == sb.chunks.m2p &&
		  sb2.chunks.compat == sb.chunks.compat &&
		  sb2.align_shift == sb.align_shift &&
		  sb2.generation == sb.generation &&
		  sb2.compat == sb.compat && sb2.ro_compat == sb.ro_compat &&
		  sb2.init_time == sb.init_time &&
		  !memcmp(sb2.ns_uuid, sb.ns_uuid, 16), "re-encoded differs");
	FZ_ASSERT(xp_sb_same_but_generation(blk, blk2) ==
			  xp_sb_same_but_generation(blk2, blk),
		  "same_but_generation not symmetric");
	/* ... and is rejected at the other location. */
	st = xp_sb_decode(blk2, sizeof(blk2), dev, !backup, &sb2, &field);
	FZ_ASSERT(st == XP_E_FIELD && field && !strcmp(field, "compat.backup"),
		  "backup flag not checked");

	/*
	 * Repair's relocation: the copy for the other location, with a new
	 * generation, is valid there, says the same but for generation, and
	 * moved back with the old generation is the original byte for byte.
	 */
	if (sb.generation < UINT64_MAX) {
		memcpy(blk3, blk, sizeof(blk3));
		FZ_ASSERT(xp_sb_relocate(blk3, !backup, sb.generation + 1) == XP_OK,
			  "relocate");
		st = xp_sb_decode(blk3, sizeof(blk3), dev, !backup, &sb2, &field);
		FZ_ASSERT(st == XP_OK && sb2.generation == sb.generation + 1,
			  "relocated: %s (%s)", xp_fmt_strstatus(st),
			  field ? field : "-");
		FZ_ASSERT(xp_sb_same_but_generation(blk, blk3) &&
			  xp_sb_same_but_generation(blk3, blk),
			  "relocated copy differs in more than generation");
		FZ_ASSERT(xp_sb_relocate(blk3, backup, sb.generation) == XP_OK &&
			  !memcmp(blk3, blk, sizeof(blk)),
			  "relocating back is not the identity");
	}
	FZ_ASSERT(xp_sb_relocate(blk3, backup, 0) == XP_E_INVAL,
		  "generation 0 relocated");
	return 0;
}
