/* SPDX-License-Identifier: MIT */
/*
 * xenpmem on-media format, version 1.0.
 *
 * This header is the C rendering of docs/format.md, the contract between
 * the Dom0 tool and the hypervisor. It is freestanding: it needs only
 * <stdint.h>, <stddef.h> and <stdbool.h>, allocates nothing, and every
 * routine here treats the bytes it is given as hostile input.
 *
 *   0        4K       8K                                              S-4K   S
 *   +--------+--------+--------------+-----------+---------------------+------+
 *   | super  | zeroes | extent table | mgmt area | data area (extents) |backup|
 *   +--------+--------+--------------+-----------+---------------------+------+
 *
 * Multi-byte fields are little-endian and stored as byte arrays, so the
 * on-media structs have no padding, no alignment requirement, and cannot be
 * read without going through the accessors below.
 */
#ifndef XP_FORMAT_H
#define XP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XP_FMT_MAJOR 1
#define XP_FMT_MINOR 1

#define XP_PAGE_SHIFT 12
#define XP_PAGE_SIZE (1ull << XP_PAGE_SHIFT)
#define XP_CACHELINE 64

/* Fixed positions. */
#define XP_SB_OFFSET 0ull		/* primary superblock */
#define XP_SB_BLOCK 4096ull		/* each superblock copy owns 4 KiB */
#define XP_ZERO_OFFSET 4096ull		/* 4K..8K stays zero (Linux probes) */
#define XP_TABLE_OFFSET 8192ull		/* extent table */

#define XP_SB_SIZE 512u			/* v1.0 superblock header */
#define XP_REC_SIZE 128u		/* one copy of an extent record */
#define XP_SLOT_SIZE (2u * XP_REC_SIZE)	/* a slot holds two copies */

#define XP_MIN_SLOTS 1u
#define XP_MAX_SLOTS 65536u
#define XP_MAX_PER_PAGE 256u
#define XP_NAME_MAX 55u			/* bytes, not counting the NUL */
#define XP_OWNER_NONE 0xffffffffu	/* extent not assigned */
#define XP_DOMID_LIMIT 0x7ff0u		/* Xen DOMID_FIRST_RESERVED */

/* Allowed alignments of the data area and of extents. */
#define XP_ALIGN_4K_SHIFT 12u
#define XP_ALIGN_2M_SHIFT 21u
#define XP_ALIGN_1G_SHIFT 30u

/*
 * Highest byte address (phys_base + ns_size) the format accepts: 2^57, the
 * x86 5-level paging limit. Keeping every sum below 2^63 lets the layout
 * arithmetic run on uint64_t without overflow.
 */
#define XP_PHYS_LIMIT (1ull << 57)

#define XP_SB_SIGNATURE "XENPMEM-SUPERBLK" /* 16 bytes, no NUL on media */
#define XP_REC_MAGIC 0x58455058u	/* "XPEX" read as le32 */

/* Superblock compat flags: unknown bits are ignored by readers. */
#define XP_SB_F_BACKUP (1u << 0)	/* this copy sits at S-4K */
#define XP_SB_F_PHYS_KNOWN (1u << 1)	/* phys_base was read from the host */
#define XP_SB_COMPAT_KNOWN (XP_SB_F_BACKUP | XP_SB_F_PHYS_KNOWN)
/* Superblock incompat flags: any set bit makes a v1.0 reader refuse. */
#define XP_SB_INCOMPAT_KNOWN 0u

/* Record flags: unknown bits make the copy invalid. */
#define XP_REC_F_USED (1u << 0)
#define XP_REC_F_KNOWN XP_REC_F_USED

typedef struct { uint8_t b[2]; } xp_le16;
typedef struct { uint8_t b[4]; } xp_le32;
typedef struct { uint8_t b[8]; } xp_le64;

/* On-media superblock, XP_SB_SIZE bytes at offset 0 and at S-4K. */
struct xp_sb_disk {
	uint8_t signature[16];	/*   0 XP_SB_SIGNATURE */
	xp_le16 major;		/*  16 format major version (1) */
	xp_le16 minor;		/*  18 format minor version */
	xp_le32 header_size;	/*  20 bytes covered by the checksum */
	xp_le32 compat;		/*  24 XP_SB_F_* */
	xp_le32 incompat;	/*  28 must be 0 for 1.x readers */
	uint8_t ns_uuid[16];	/*  32 random at init; binds records */
	xp_le64 generation;	/*  48 bumped on every superblock rewrite */
	xp_le64 ns_size;	/*  56 namespace size in bytes at init */
	xp_le64 phys_base;	/*  64 physical address of byte 0, or 0 */
	xp_le64 table_offset;	/*  72 XP_TABLE_OFFSET */
	xp_le32 slot_count;	/*  80 extent table slots */
	xp_le32 slot_size;	/*  84 XP_SLOT_SIZE */
	xp_le64 mgmt_offset;	/*  88 hypervisor management area */
	xp_le64 mgmt_size;	/*  96 */
	xp_le64 data_offset;	/* 104 data area, aligned to 1 << align_shift */
	xp_le64 data_size;	/* 112 */
	xp_le32 per_page;	/* 120 mgmt bytes per 4 KiB data page */
	xp_le32 align_shift;	/* 124 data area alignment, 12/21/30 */
	xp_le32 page_shift;	/* 128 XP_PAGE_SHIFT */
	xp_le32 rec_size;	/* 132 XP_REC_SIZE */
	xp_le64 init_time;	/* 136 ns since the epoch; informational */
	uint8_t reserved[360];	/* 144 zero */
	xp_le64 checksum;	/* 504 Fletcher-64, see xp_sb_checksum() */
};
_Static_assert(sizeof(struct xp_sb_disk) == XP_SB_SIZE, "superblock size");
_Static_assert(offsetof(struct xp_sb_disk, generation) == 48, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, slot_count) == 80, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, per_page) == 120, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, init_time) == 136, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, checksum) == 504, "sb layout");

/* On-media extent record copy, XP_REC_SIZE bytes, two per slot. */
struct xp_rec_disk {
	xp_le64 seq;		/*   0 update sequence, >= 1; newest wins */
	xp_le32 magic;		/*   8 XP_REC_MAGIC */
	xp_le32 flags;		/*  12 XP_REC_F_* */
	xp_le64 offset;		/*  16 extent start, bytes from namespace 0 */
	xp_le64 size;		/*  24 extent length in bytes */
	xp_le32 owner;		/*  32 Xen domid or XP_OWNER_NONE */
	xp_le32 align_shift;	/*  36 extent alignment, 12/21/30 */
	xp_le64 label_size;	/*  40 guest label area at the extent's end */
	uint8_t uuid[16];	/*  48 extent identity, stable across rename */
	uint8_t name[56];	/*  64 NUL-terminated, NUL-padded */
	xp_le64 checksum;	/* 120 Fletcher-64, see xp_rec_checksum() */
};
_Static_assert(sizeof(struct xp_rec_disk) == XP_REC_SIZE, "record size");
_Static_assert(offsetof(struct xp_rec_disk, label_size) == 40, "rec layout");
_Static_assert(offsetof(struct xp_rec_disk, name) == 64, "rec layout");
_Static_assert(offsetof(struct xp_rec_disk, checksum) == 120, "rec layout");
_Static_assert(XP_REC_SIZE % XP_CACHELINE == 0, "records are cache lines");

/* Why a structure was rejected; stable, documented in docs/format.md. */
enum xp_fmt_status {
	XP_OK = 0,
	XP_E_BLANK,		/* all bytes zero: never written */
	XP_E_SIGNATURE,		/* not a xenpmem structure */
	XP_E_CHECKSUM,		/* torn, corrupt or from another namespace */
	XP_E_VERSION,		/* major version or incompat flag unknown */
	XP_E_FIELD,		/* a field is out of bounds; see *field */
	XP_E_LAYOUT,		/* fields disagree with the layout rules */
	XP_E_TOO_SMALL,		/* namespace too small for this layout */
	XP_E_INVAL,		/* caller passed bad parameters */
};

const char *xp_fmt_strstatus(enum xp_fmt_status st);

/* Endian accessors. */
static inline uint16_t xp_get16(xp_le16 v)
{
	return (uint16_t)(v.b[0] | (v.b[1] << 8));
}
static inline uint32_t xp_get32(xp_le32 v)
{
	return (uint32_t)v.b[0] | (uint32_t)v.b[1] << 8 |
	       (uint32_t)v.b[2] << 16 | (uint32_t)v.b[3] << 24;
}
static inline uint64_t xp_get64(xp_le64 v)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | v.b[i];
	return x;
}
static inline xp_le16 xp_put16(uint16_t x)
{
	return (xp_le16){{(uint8_t)x, (uint8_t)(x >> 8)}};
}
static inline xp_le32 xp_put32(uint32_t x)
{
	return (xp_le32){{(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16),
			  (uint8_t)(x >> 24)}};
}
static inline xp_le64 xp_put64(uint64_t x)
{
	xp_le64 v;
	for (int i = 0; i < 8; i++)
		v.b[i] = (uint8_t)(x >> (8 * i));
	return v;
}

/*
 * Fletcher-64 over little-endian 32-bit words (the sum the Linux nvdimm
 * labels, BTT and pfn info blocks use). @len must be a multiple of 4.
 * @state carries the two sums so a checksum can span several buffers;
 * start it at 0.
 */
uint64_t xp_fletcher64(uint64_t state, const void *buf, size_t len);

/* Layout parameters chosen at init, and the layout they determine. */
struct xp_layout_params {
	uint64_t ns_size;	/* bytes */
	uint64_t phys_base;	/* physical address of byte 0, 0 if unknown */
	uint32_t slot_count;
	uint32_t per_page;	/* 0..XP_MAX_PER_PAGE */
	uint32_t align_shift;	/* 12, 21 or 30 */
};

struct xp_layout {
	uint64_t table_offset, table_size;
	uint64_t mgmt_offset, mgmt_size;
	uint64_t data_offset, data_size;
	uint64_t backup_offset;
};

/*
 * Compute the one layout @p determines (docs/format.md, "Layout"): the
 * smallest aligned data_offset whose management area, sized for every data
 * page behind it, still fits in front of it.
 */
enum xp_fmt_status xp_layout_solve(const struct xp_layout_params *p,
				   struct xp_layout *out, const char **why);

/* Bytes of management area for @data_size bytes of data at @per_page. */
uint64_t xp_mgmt_bytes(uint32_t per_page, uint64_t data_size);

/* True if namespace offset @off is aligned to 1 << @shift physically. */
bool xp_phys_aligned(uint64_t phys_base, uint64_t off, uint32_t shift);

bool xp_align_shift_ok(uint32_t shift);

/* Decoded superblock, host byte order. */
struct xp_sb {
	uint16_t major, minor;
	uint32_t header_size;
	uint32_t compat, incompat;
	uint8_t ns_uuid[16];
	uint64_t generation;
	uint64_t ns_size, phys_base;
	uint64_t table_offset;
	uint32_t slot_count, slot_size;
	uint64_t mgmt_offset, mgmt_size;
	uint64_t data_offset, data_size;
	uint32_t per_page, align_shift, page_shift, rec_size;
	uint64_t init_time;
};

/*
 * Decode and fully validate one superblock copy. @buf holds XP_SB_BLOCK
 * bytes read from the copy's location; @dev_size is the namespace's size as
 * the reader sees it and @is_backup says which location it came from.
 * On failure *@field names the offending field (static string).
 */
enum xp_fmt_status xp_sb_decode(const void *buf, size_t len, uint64_t dev_size,
				bool is_backup, struct xp_sb *out,
				const char **field);

/* Encode @sb into the XP_SB_BLOCK bytes at @buf (rest zeroed), with sum. */
void xp_sb_encode(const struct xp_sb *sb, bool is_backup, void *buf);

uint64_t xp_sb_checksum(const void *buf, uint32_t header_size);

/*
 * Turn a valid superblock block (any minor version) into the copy for the
 * other location: set or clear XP_SB_F_BACKUP and recompute the checksum,
 * leaving every other byte as it is. Repair uses it so that fields a newer
 * minor version added survive.
 */
enum xp_fmt_status xp_sb_relocate(void *buf, bool to_backup);

/* Decoded extent record, host byte order. */
struct xp_rec {
	uint64_t seq;
	uint32_t flags;
	uint64_t offset, size;
	uint32_t owner;
	uint32_t align_shift;
	uint64_t label_size;
	uint8_t uuid[16];
	char name[XP_NAME_MAX + 1];
};

static inline bool xp_rec_used(const struct xp_rec *r)
{
	return r->flags & XP_REC_F_USED;
}

/* Checksum of a record copy: seeded with the namespace UUID and slot. */
uint64_t xp_rec_checksum(const uint8_t ns_uuid[16], uint32_t slot,
			 const void *rec);

/*
 * Decode and validate one record copy of slot @slot against @sb. Checks
 * magic, checksum, flags, and for a used record that the extent is aligned
 * and inside the data area and the name is valid.
 */
enum xp_fmt_status xp_rec_decode(const struct xp_sb *sb, uint32_t slot,
				 const void *buf, struct xp_rec *out,
				 const char **field);

void xp_rec_encode(const struct xp_sb *sb, uint32_t slot,
		   const struct xp_rec *rec, void *buf);

/* Names: 1..XP_NAME_MAX bytes of [A-Za-z0-9._+:-], not starting with '-',
 * not made of dots alone. */
bool xp_name_valid(const char *name, size_t maxlen);

/* Where one slot's copies live. */
static inline uint64_t xp_slot_offset(uint32_t slot)
{
	return XP_TABLE_OFFSET + (uint64_t)slot * XP_SLOT_SIZE;
}

/*
 * What a reader makes of one slot. init gives every slot a valid free
 * record, so a slot with no valid copy -- blank or not -- is corrupt: an
 * interrupted update always leaves the previous copy valid.
 */
enum xp_slot_state {
	XP_SLOT_FREE,		/* newest valid copy says unused */
	XP_SLOT_USED,		/* newest valid copy holds an extent */
	XP_SLOT_CORRUPT,	/* no valid copy */
};

struct xp_slot {
	enum xp_slot_state state;
	int active;		/* copy index in use, -1 when none */
	struct xp_rec rec;	/* the active copy, when active >= 0 */
	enum xp_fmt_status copy_status[2];
	const char *copy_field[2];
};

/*
 * Pick a slot's current state from its two copies (@buf is XP_SLOT_SIZE
 * bytes): the valid copy with the higher sequence wins. Two valid copies
 * with the same sequence cannot come from the update protocol, so the slot
 * is reported corrupt rather than guessed at.
 */
void xp_slot_decode(const struct xp_sb *sb, uint32_t slot, const void *buf,
		    struct xp_slot *out);

/* Which copy an update to a slot in state @s writes, and its sequence;
 * -1 for a corrupt slot or an exhausted sequence. */
int xp_slot_next_copy(const struct xp_slot *s, uint64_t *seq);

/* The XP_SLOT_SIZE bytes init writes for @slot: a free record (seq 1) in
 * copy 0, copy 1 blank. */
void xp_slot_init(const struct xp_sb *sb, uint32_t slot, void *buf);

/*
 * Table-wide rules over the used slots: extents do not overlap, names and
 * UUIDs are unique. @slots holds @n decoded slots; @scratch must hold @n
 * uint32_t. On a violation returns XP_E_LAYOUT with *a and *b the two
 * slots involved and *why the rule.
 */
enum xp_fmt_status xp_table_check(const struct xp_slot *slots, uint32_t n,
				  uint32_t *scratch, uint32_t *a, uint32_t *b,
				  const char **why);

/* In-place heap sort of @n indices with a caller comparator. */
void xp_sort_idx(uint32_t *idx, uint32_t n,
		 int (*cmp)(uint32_t x, uint32_t y, const void *ctx),
		 const void *ctx);

#endif /* XP_FORMAT_H */
