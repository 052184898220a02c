/* SPDX-License-Identifier: MIT */
/*
 * xenpmem on-media format, version 2.0.
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
 *                                    | FT | M2P | compat M2P |  (2 MiB chunks)
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

#define XP_FMT_MAJOR 2
#define XP_FMT_MINOR 0

#define XP_PAGE_SHIFT 12
#define XP_PAGE_SIZE (1ull << XP_PAGE_SHIFT)
#define XP_CACHELINE 64

/* Fixed positions. */
#define XP_SB_OFFSET 0ull		/* primary superblock */
#define XP_SB_BLOCK 4096ull		/* each superblock copy owns 4 KiB */
#define XP_ZERO_OFFSET 4096ull		/* 4K..8K stays zero (Linux probes) */
#define XP_TABLE_OFFSET 8192ull		/* extent table */

#define XP_SB_SIZE 512u			/* 2.0 superblock header */
#define XP_REC_SIZE 128u		/* one copy of an extent record */
#define XP_SLOT_SIZE (2u * XP_REC_SIZE)	/* a slot holds two copies */

/*
 * A record copy is 16 little-endian 8-byte words. Byte 7 of every word is
 * a tag (the low byte of the copy's seq); bytes 0..6 of the 16 words,
 * concatenated, are the 112-byte payload. Persistent memory stores an
 * aligned 8-byte word atomically, so a copy torn by a crash mixes words of
 * two writes and its tags differ; a copy whose tags agree but whose
 * checksum fails was written whole and damaged later.
 */
#define XP_REC_WORDS 16u
#define XP_REC_WORD_PAYLOAD 7u
#define XP_REC_PAYLOAD (XP_REC_WORDS * XP_REC_WORD_PAYLOAD)	/* 112 */

#define XP_MIN_SLOTS 1u
#define XP_MAX_SLOTS 65536u
#define XP_NAME_MAX 31u			/* bytes, not counting the NUL */
#define XP_UUID_SIZE 16u

/* Allowed alignments of the data area and of extents. */
#define XP_ALIGN_2M_SHIFT 21u
#define XP_ALIGN_1G_SHIFT 30u

/*
 * Management area geometry for Xen x86-64 (docs/format.md, "Management
 * area"): each sub-array is a run of 2 MiB chunks; one chunk holds the
 * entries of one naturally aligned group of frames.
 */
#define XP_CHUNK_SHIFT 21u		/* 2 MiB */
#define XP_XEN_FT_ENTRY 32u		/* sizeof(struct page_info) */
#define XP_XEN_M2P_ENTRY 8u		/* M2P entry */
#define XP_XEN_COMPAT_ENTRY 4u		/* 32-bit PV compat M2P entry */
#define XP_XEN_COMPAT_LIMIT_SHIFT 40u	/* compat M2P covers SPA < 1 TiB */

/*
 * Highest byte address (phys_base + ns_size) the format accepts: 2^57, the
 * x86 5-level paging limit. Keeping every sum below 2^63 lets the layout
 * arithmetic run on uint64_t without overflow.
 */
#define XP_PHYS_LIMIT (1ull << 57)

#define XP_SB_SIGNATURE "XENPMEM-SUPERBLK" /* 16 bytes, no NUL on media */
#define XP_REC_MAGIC 0x58455058u	/* "XPEX" read as le32 */

/* Superblock compat flags: unknown bits are ignored by everyone. */
#define XP_SB_F_BACKUP (1u << 0)	/* this copy sits at S-4K */
#define XP_SB_F_PHYS_KNOWN (1u << 1)	/* phys_base was read from the host */
#define XP_SB_COMPAT_KNOWN (XP_SB_F_BACKUP | XP_SB_F_PHYS_KNOWN)
/* Read-only-compatible flags: readers ignore unknown bits, writers refuse. */
#define XP_SB_RO_COMPAT_KNOWN 0u
/* Incompatible flags: any unknown bit makes every reader refuse. */
#define XP_SB_INCOMPAT_KNOWN 0u

/* Record types (payload byte 12). */
enum xp_rec_type {
	XP_REC_FREE = 0,	/* slot holds no extent */
	XP_REC_DATA = 1,	/* an extent of guest data */
	XP_REC_LENT_RAM = 2,	/* lent to the hypervisor as RAM: content is
				 * garbage after a reboot */
};

typedef struct { uint8_t b[2]; } xp_le16;
typedef struct { uint8_t b[4]; } xp_le32;
typedef struct { uint8_t b[8]; } xp_le64;

/* On-media superblock, XP_SB_SIZE bytes at offset 0 and at S-4K. */
struct xp_sb_disk {
	uint8_t signature[16];	/*   0 XP_SB_SIGNATURE */
	xp_le16 major;		/*  16 format major version (2) */
	xp_le16 minor;		/*  18 format minor version */
	xp_le32 header_size;	/*  20 bytes covered by the checksum */
	xp_le32 compat;		/*  24 XP_SB_F_*; unknown bits ignored */
	xp_le32 ro_compat;	/*  28 writers refuse unknown bits */
	xp_le32 incompat;	/*  32 everyone refuses unknown bits */
	xp_le32 reserved0;	/*  36 zero */
	uint8_t ns_uuid[16];	/*  40 random at init; binds records */
	xp_le64 generation;	/*  56 bumped on every superblock rewrite */
	xp_le64 ns_size;	/*  64 namespace size in bytes */
	xp_le64 phys_base;	/*  72 physical address of byte 0, or 0 */
	xp_le64 init_time;	/*  80 ns since the epoch; informational */
	xp_le64 table_offset;	/*  88 XP_TABLE_OFFSET */
	xp_le32 slot_count;	/*  96 extent table slots */
	xp_le32 slot_size;	/* 100 XP_SLOT_SIZE */
	xp_le32 rec_size;	/* 104 XP_REC_SIZE */
	xp_le32 page_shift;	/* 108 XP_PAGE_SHIFT */
	xp_le32 align_shift;	/* 112 data area alignment, 21/30 */
	xp_le32 chunk_shift;	/* 116 mgmt chunk size, 21; 0 = no mgmt */
	xp_le32 ft_entry;	/* 120 frame-table bytes per frame, 32; 0 */
	xp_le32 m2p_entry;	/* 124 M2P bytes per frame, 8; 0 */
	xp_le32 compat_entry;	/* 128 compat M2P bytes per frame, 4; 0 */
	xp_le32 compat_limit_shift; /* 132 compat M2P below 2^this, 40; 0 */
	xp_le32 ft_chunks;	/* 136 chunks of the frame-table sub-array */
	xp_le32 m2p_chunks;	/* 140 chunks of the M2P sub-array */
	xp_le32 compat_chunks;	/* 144 chunks of the compat M2P sub-array */
	xp_le32 reserved1;	/* 148 zero */
	xp_le64 mgmt_offset;	/* 152 hypervisor management area */
	xp_le64 mgmt_size;	/* 160 */
	xp_le64 data_offset;	/* 168 data area, aligned to 1 << align_shift */
	xp_le64 data_size;	/* 176 */
	uint8_t reserved[320];	/* 184 zero */
	xp_le64 checksum;	/* 504 Fletcher-64, see xp_sb_checksum() */
};
_Static_assert(sizeof(struct xp_sb_disk) == XP_SB_SIZE, "superblock size");
_Static_assert(offsetof(struct xp_sb_disk, ro_compat) == 28, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, ns_uuid) == 40, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, generation) == 56, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, slot_count) == 96, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, chunk_shift) == 116, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, ft_chunks) == 136, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, mgmt_offset) == 152, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, data_size) == 176, "sb layout");
_Static_assert(offsetof(struct xp_sb_disk, checksum) == 504, "sb layout");

/*
 * The 112-byte payload of an extent record copy (logical offsets; on media
 * payload byte i sits at word i / 7, byte i % 7).
 */
struct xp_rec_payload {
	xp_le64 seq;		/*   0 update sequence, >= 1; newest wins */
	xp_le32 magic;		/*   8 XP_REC_MAGIC */
	uint8_t type;		/*  12 enum xp_rec_type */
	uint8_t align_shift;	/*  13 extent alignment, 21/30 */
	xp_le16 flags;		/*  14 zero: a new meaning needs incompat */
	xp_le64 offset;		/*  16 extent start, bytes from namespace 0 */
	xp_le64 size;		/*  24 extent length in bytes */
	xp_le64 label_size;	/*  32 guest label area at the extent's end */
	uint8_t uuid[16];	/*  40 extent identity, stable across rename */
	uint8_t owner[16];	/*  56 owning domain's UUID; zero = none */
	uint8_t name[32];	/*  72 NUL-terminated, NUL-padded */
	xp_le64 checksum;	/* 104 Fletcher-64, see xp_rec_checksum() */
};
_Static_assert(sizeof(struct xp_rec_payload) == XP_REC_PAYLOAD, "payload");
_Static_assert(offsetof(struct xp_rec_payload, offset) == 16, "rec layout");
_Static_assert(offsetof(struct xp_rec_payload, owner) == 56, "rec layout");
_Static_assert(offsetof(struct xp_rec_payload, name) == 72, "rec layout");
_Static_assert(offsetof(struct xp_rec_payload, checksum) == 104, "rec layout");
_Static_assert(XP_REC_SIZE == XP_REC_WORDS * 8, "record words");
_Static_assert(XP_REC_SIZE % XP_CACHELINE == 0, "records are cache lines");

/* Why a structure was rejected; stable, documented in docs/format.md. */
enum xp_fmt_status {
	XP_OK = 0,
	XP_E_BLANK,		/* all bytes zero: never written */
	XP_E_SIGNATURE,		/* not a xenpmem structure */
	XP_E_CHECKSUM,		/* written whole, damaged since (or foreign) */
	XP_E_VERSION,		/* major version or incompat flag unknown */
	XP_E_FIELD,		/* a field is out of bounds; see *field */
	XP_E_LAYOUT,		/* fields disagree with the layout rules */
	XP_E_TOO_SMALL,		/* namespace too small for this layout */
	XP_E_INVAL,		/* caller passed bad parameters */
	XP_E_TORN,		/* record copy torn by an interrupted write */
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
/* Spelled out byte by byte (no loop): compilers fold these into one
 * move, which the record encoding's cost depends on. */
static inline uint64_t xp_get64(xp_le64 v)
{
	return (uint64_t)v.b[0] | (uint64_t)v.b[1] << 8 |
	       (uint64_t)v.b[2] << 16 | (uint64_t)v.b[3] << 24 |
	       (uint64_t)v.b[4] << 32 | (uint64_t)v.b[5] << 40 |
	       (uint64_t)v.b[6] << 48 | (uint64_t)v.b[7] << 56;
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
	return (xp_le64){{(uint8_t)x, (uint8_t)(x >> 8), (uint8_t)(x >> 16),
			  (uint8_t)(x >> 24), (uint8_t)(x >> 32),
			  (uint8_t)(x >> 40), (uint8_t)(x >> 48),
			  (uint8_t)(x >> 56)}};
}

/*
 * Fletcher-64 over little-endian 32-bit words (the sum the Linux nvdimm
 * labels, BTT and pfn info blocks use). @len must be a multiple of 4.
 * @state carries the two sums so a checksum can span several buffers;
 * start it at 0.
 */
uint64_t xp_fletcher64(uint64_t state, const void *buf, size_t len);

bool xp_uuid_is_nil(const uint8_t uuid[16]);

/*
 * What the management area reserves per data frame. All zero: no
 * management area (the hypervisor keeps its frame table in RAM).
 */
struct xp_mgmt_geom {
	uint32_t chunk_shift;	/* XP_CHUNK_SHIFT, or 0 */
	uint32_t ft_entry;	/* XP_XEN_FT_ENTRY, or 0 */
	uint32_t m2p_entry;	/* XP_XEN_M2P_ENTRY, or 0 */
	uint32_t compat_entry;	/* XP_XEN_COMPAT_ENTRY; 0 = not reserved */
	uint32_t compat_limit_shift; /* XP_XEN_COMPAT_LIMIT_SHIFT, or 0 */
};

/* The geometry of Xen x86-64, with or without the compat M2P. */
void xp_mgmt_geom_xen(struct xp_mgmt_geom *g, bool compat_m2p);
bool xp_mgmt_geom_none(const struct xp_mgmt_geom *g);

/* Chunks each sub-array needs for the data frames [@start, @end) (bytes,
 * physical addresses), given @g. */
struct xp_mgmt_chunks {
	uint32_t ft, m2p, compat;
};
void xp_mgmt_chunks(const struct xp_mgmt_geom *g, uint64_t start,
		    uint64_t end, struct xp_mgmt_chunks *out);

/* Layout parameters chosen at init, and the layout they determine. */
struct xp_layout_params {
	uint64_t ns_size;	/* bytes */
	uint64_t phys_base;	/* physical address of byte 0, 0 if unknown */
	uint32_t slot_count;
	uint32_t align_shift;	/* 21 or 30 */
	struct xp_mgmt_geom geom;
};

struct xp_layout {
	uint64_t table_offset, table_size;
	uint64_t mgmt_offset, mgmt_size;
	struct xp_mgmt_chunks chunks;
	uint64_t data_offset, data_size;
	uint64_t backup_offset;
};

/*
 * Compute the one layout @p determines (docs/format.md, "Layout"): the
 * smallest aligned data_offset whose management area, with a chunk for
 * every frame group behind it, still fits in front of it.
 */
enum xp_fmt_status xp_layout_solve(const struct xp_layout_params *p,
				   struct xp_layout *out, const char **why);

/* True if namespace offset @off is aligned to 1 << @shift physically. */
bool xp_phys_aligned(uint64_t phys_base, uint64_t off, uint32_t shift);

bool xp_align_shift_ok(uint32_t shift);

/* Decoded superblock, host byte order. */
struct xp_sb {
	uint16_t major, minor;
	uint32_t header_size;
	uint32_t compat, ro_compat, incompat;
	uint8_t ns_uuid[16];
	uint64_t generation;
	uint64_t ns_size, phys_base;
	uint64_t init_time;
	uint64_t table_offset;
	uint32_t slot_count, slot_size, rec_size, page_shift;
	uint32_t align_shift;
	struct xp_mgmt_geom geom;
	struct xp_mgmt_chunks chunks;
	uint64_t mgmt_offset, mgmt_size;
	uint64_t data_offset, data_size;
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

/* Whether a writer of this version may change a namespace described by
 * @sb: no newer minor, no unknown ro_compat bit. *why says which. */
bool xp_sb_writable(const struct xp_sb *sb, const char **why);

/*
 * Turn a valid superblock block into the copy for @to_backup's location
 * with generation @generation: set or clear XP_SB_F_BACKUP, store the
 * generation and recompute the checksum, leaving every other byte as it
 * is. Repair uses it.
 */
enum xp_fmt_status xp_sb_relocate(void *buf, bool to_backup,
				  uint64_t generation);

/*
 * True when two valid blocks say the same thing except for where they sit
 * and their generation: what an interrupted repair leaves behind.
 */
bool xp_sb_same_but_generation(const void *a, const void *b);

/* Decoded extent record, host byte order. */
struct xp_rec {
	uint64_t seq;
	uint8_t type;		/* enum xp_rec_type */
	uint8_t align_shift;
	uint16_t flags;
	uint64_t offset, size;
	uint64_t label_size;
	uint8_t uuid[16];
	uint8_t owner[16];
	char name[XP_NAME_MAX + 1];
};

static inline bool xp_rec_used(const struct xp_rec *r)
{
	return r->type != XP_REC_FREE;
}

/* Checksum of a record payload: seeded with the namespace UUID and slot. */
uint64_t xp_rec_checksum(const uint8_t ns_uuid[16], uint32_t slot,
			 const uint8_t payload[XP_REC_PAYLOAD]);

/* Gather the payload of an on-media copy; scatter it back with @tag. */
void xp_rec_gather(const void *copy, uint8_t payload[XP_REC_PAYLOAD]);
void xp_rec_scatter(const uint8_t payload[XP_REC_PAYLOAD], uint8_t tag,
		    void *copy);

static inline uint8_t xp_rec_tag(uint64_t seq)
{
	return (uint8_t)seq;
}

/*
 * Decode and validate one record copy of slot @slot against @sb. Checks the
 * checksum (telling a torn copy, XP_E_TORN, from a damaged one,
 * XP_E_CHECKSUM, by its tags), magic, type and flags, and for an extent
 * that it is aligned and inside the data area and its name is valid.
 * Whenever the checksum holds, out->seq is the copy's seq even if a later
 * check fails; otherwise it is 0.
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
 * record, and an interrupted update leaves the previous copy valid and the
 * torn one recognisably torn; so a slot with no valid copy, or whose newer
 * copy is damaged, is corrupt: it may describe an extent nobody can read.
 */
enum xp_slot_state {
	XP_SLOT_FREE,		/* current copy says unused */
	XP_SLOT_USED,		/* current copy holds an extent */
	XP_SLOT_CORRUPT,	/* no current copy can be trusted */
};

struct xp_slot {
	enum xp_slot_state state;
	int active;		/* copy index in use, -1 when none */
	struct xp_rec rec;	/* the active copy, when active >= 0 */
	enum xp_fmt_status copy_status[2];
	const char *copy_field[2];
	/* A copy that is not current is damaged (not torn): worth a repair. */
	bool stale_damaged;
	/*
	 * The current copy is valid but its tags differ: an update cut short
	 * after every changed word had landed. A later damaged byte there
	 * would read as a tear, so a writer evens the tags (tag-only stores
	 * keep the copy valid at every point).
	 */
	bool mixed_tags;
	/* Tags each copy carries on media: an update picks a seq whose tag
	 * none of the target copy's words carries, so a tear always shows. */
	uint32_t tag_mask[2][8];
	/* The older valid copy of a corrupt slot, for a forced repair. */
	int fallback;
	struct xp_rec fallback_rec;
};

/*
 * Pick a slot's current state from its two copies (@buf is XP_SLOT_SIZE
 * bytes): docs/format.md, "Picking a slot's state".
 */
void xp_slot_decode(const struct xp_sb *sb, uint32_t slot, const void *buf,
		    struct xp_slot *out);

/* Which copy an update to a slot in state @s writes, and its sequence;
 * -1 for a corrupt slot or an exhausted sequence. */
int xp_slot_next_copy(const struct xp_slot *s, uint64_t *seq);

/* Record in @s that copy @copy now holds @rec (written whole). */
void xp_slot_set(struct xp_slot *s, int copy, const struct xp_rec *rec);

/* The XP_SLOT_SIZE bytes init writes for @slot: a free record (seq 1) in
 * copy 0, copy 1 blank. */
void xp_slot_init(const struct xp_sb *sb, uint32_t slot, void *buf);

/*
 * Whether @buf (XP_SLOT_SIZE bytes) is exactly what xp_slot_init() writes
 * for @slot. Every such slot decodes alike, whatever its number: a
 * reader of a large, mostly unused table decodes one and copies the
 * result to the others (an encode and a compare, a quarter of a decode).
 */
bool xp_slot_pristine(const struct xp_sb *sb, uint32_t slot, const void *buf);

/*
 * Table-wide rules over the used slots: extents do not overlap, names and
 * UUIDs are unique. @slots holds @n decoded slots; @scratch must hold @n
 * uint32_t. On a violation returns XP_E_LAYOUT with *a and *b the two
 * slots involved and *why the rule.
 */
enum xp_fmt_status xp_table_check(const struct xp_slot *slots, uint32_t n,
				  uint32_t *scratch, uint32_t *a, uint32_t *b,
				  const char **why);

/*
 * The violations of the table rules (overlap, duplicate name or uuid):
 * calls @fn (may be NULL) for pairs of used slots that break one, enough
 * of them that every slot involved in any violation is in at least one
 * (not every pair: those can grow with the square of the table). Returns
 * the number of pairs reported. @scratch must hold @n uint32_t.
 */
typedef void (*xp_violation_fn)(uint32_t a, uint32_t b, const char *rule,
				void *arg);
uint32_t xp_table_violations(const struct xp_slot *slots, uint32_t n,
			     uint32_t *scratch, xp_violation_fn fn, void *arg);

/* In-place heap sort of @n indices with a caller comparator. */
void xp_sort_idx(uint32_t *idx, uint32_t n,
		 int (*cmp)(uint32_t x, uint32_t y, const void *ctx),
		 const void *ctx);

#endif /* XP_FORMAT_H */
