/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: xp_sb_decode() on arbitrary 4 KiB blocks, with the
 * device size and location taken from the input (see fuzz_common.h). When
 * a block decodes, check every invariant the hypervisor relies on: regions
 * ordered and inside the namespace, data physically aligned, no sum
 * overflows; and that re-encoding the decoded superblock decodes the same.
 */
#include "fuzz_common.h"

#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_invariants(const struct xp_sb *sb, uint64_t dev, bool backup)
{
	uint64_t a, table_end, mgmt_end, data_end, need, phys_end;

	FZ_ASSERT(sb->major == XP_FMT_MAJOR, "major %u", sb->major);
	FZ_ASSERT(sb->incompat == 0, "incompat %#x", sb->incompat);
	FZ_ASSERT(sb->header_size >= XP_SB_SIZE &&
		  sb->header_size <= XP_SB_BLOCK && sb->header_size % 4 == 0,
		  "header_size %u", sb->header_size);
	FZ_ASSERT(!!(sb->compat & XP_SB_F_BACKUP) == backup, "backup flag");
	FZ_ASSERT(sb->generation != 0, "generation 0");
	{
		int z = 1;

		for (int i = 0; i < 16; i++)
			z &= !sb->ns_uuid[i];
		FZ_ASSERT(!z, "zero ns_uuid");
	}
	FZ_ASSERT(sb->ns_size == dev, "ns_size %#llx dev %#llx",
		  (unsigned long long)sb->ns_size, (unsigned long long)dev);
	FZ_ASSERT(sb->ns_size % XP_PAGE_SIZE == 0, "ns_size unaligned");
	FZ_ASSERT(sb->phys_base % XP_PAGE_SIZE == 0, "phys_base unaligned");
	FZ_ASSERT(!__builtin_add_overflow(sb->phys_base, sb->ns_size, &phys_end) &&
		  phys_end <= XP_PHYS_LIMIT, "phys_base + ns_size");
	FZ_ASSERT((sb->compat & XP_SB_F_PHYS_KNOWN) || sb->phys_base == 0,
		  "phys_base without PHYS_KNOWN");
	FZ_ASSERT(sb->table_offset == XP_TABLE_OFFSET, "table_offset");
	FZ_ASSERT(sb->slot_size == XP_SLOT_SIZE && sb->rec_size == XP_REC_SIZE &&
		  sb->page_shift == XP_PAGE_SHIFT, "constants");
	FZ_ASSERT(sb->slot_count >= XP_MIN_SLOTS &&
		  sb->slot_count <= XP_MAX_SLOTS, "slot_count %u",
		  sb->slot_count);
	FZ_ASSERT(sb->per_page <= XP_MAX_PER_PAGE, "per_page %u", sb->per_page);
	FZ_ASSERT(xp_align_shift_ok(sb->align_shift), "align_shift %u",
		  sb->align_shift);
	a = 1ull << sb->align_shift;

	/* superblock < zero area < table < mgmt < data < backup <= ns_size */
	table_end = sb->table_offset + (uint64_t)sb->slot_count * XP_SLOT_SIZE;
	FZ_ASSERT(XP_ZERO_OFFSET + XP_PAGE_SIZE <= sb->table_offset, "zero area");
	FZ_ASSERT(table_end <= sb->mgmt_offset, "table %#llx > mgmt %#llx",
		  (unsigned long long)table_end,
		  (unsigned long long)sb->mgmt_offset);
	FZ_ASSERT(sb->mgmt_offset % XP_PAGE_SIZE == 0, "mgmt_offset unaligned");
	FZ_ASSERT(!__builtin_add_overflow(sb->mgmt_offset, sb->mgmt_size,
					  &mgmt_end) &&
		  mgmt_end <= sb->data_offset, "mgmt overlaps data");
	FZ_ASSERT(sb->data_size > 0, "no data");
	FZ_ASSERT(!__builtin_add_overflow(sb->data_offset, sb->data_size,
					  &data_end), "data overflow");
	FZ_ASSERT(sb->ns_size >= 2 * XP_SB_BLOCK &&
		  data_end <= sb->ns_size - XP_SB_BLOCK,
		  "data end %#llx past backup (ns %#llx)",
		  (unsigned long long)data_end,
		  (unsigned long long)sb->ns_size);
	FZ_ASSERT((sb->phys_base + sb->data_offset) % a == 0,
		  "data not physically aligned");
	FZ_ASSERT(sb->data_size % a == 0, "data_size not a multiple");
	FZ_ASSERT(!__builtin_mul_overflow((uint64_t)sb->per_page,
					  sb->data_size >> XP_PAGE_SHIFT,
					  &need) &&
		  sb->mgmt_size >= need, "mgmt too small: %#llx < %#llx",
		  (unsigned long long)sb->mgmt_size, (unsigned long long)need);
	FZ_ASSERT(sb->mgmt_size == xp_mgmt_bytes(sb->per_page, sb->data_size),
		  "mgmt_size not exact");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t blk[XP_SB_BLOCK], blk2[XP_SB_BLOCK];
	struct xp_sb sb, sb2;
	const char *field;
	enum xp_fmt_status st;
	uint8_t flags = 0;
	uint64_t dev;
	bool backup;

	memset(blk, 0, sizeof(blk));
	memcpy(blk, data, size < XP_SB_BLOCK ? size : XP_SB_BLOCK);
	if (size > XP_SB_BLOCK)
		flags = data[XP_SB_BLOCK];
	backup = flags & FZ_SB_BACKUP;
	if ((flags & FZ_SB_DEVSIZE) && size >= XP_SB_BLOCK + FZ_SB_TAIL)
		dev = fz_le(data + XP_SB_BLOCK + 1, 8);
	else
		dev = fz_le(blk + 56, 8);
	if (flags & FZ_SB_FIXSUM)
		fz_fix_sb(blk);

	/* Short buffers are refused, never read past. */
	FZ_ASSERT(xp_sb_decode(blk, XP_SB_BLOCK - 1, dev, backup, &sb, &field) ==
		  XP_E_INVAL, "short buffer");

	st = xp_sb_decode(blk, sizeof(blk), dev, backup, &sb, &field);
	FZ_ASSERT(st <= XP_E_INVAL, "status %d", (int)st);
	FZ_ASSERT(xp_fmt_strstatus(st) != NULL, "strstatus");
	if (st != XP_OK) {
		FZ_ASSERT(st != XP_E_TOO_SMALL, "decode says TOO_SMALL");
		if (st == XP_E_FIELD)
			FZ_ASSERT(field != NULL, "FIELD without a field name");
		return 0;
	}
	FZ_ASSERT(field == NULL, "OK with field %s", field);
	check_invariants(&sb, dev, backup);

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
		  sb2.per_page == sb.per_page &&
		  sb2.align_shift == sb.align_shift &&
		  sb2.generation == sb.generation &&
		  sb2.compat == sb.compat &&
		  !memcmp(sb2.ns_uuid, sb.ns_uuid, 16), "re-encoded differs");
	/* ... and is rejected at the other location. */
	st = xp_sb_decode(blk2, sizeof(blk2), dev, !backup, &sb2, &field);
	FZ_ASSERT(st == XP_E_FIELD, "backup flag not checked");
	return 0;
}
