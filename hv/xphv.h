/* SPDX-License-Identifier: MIT */
/*
 * xphv: the hypervisor half of xenpmem, as a freestanding library.
 *
 * A hypervisor links this (and src/format) to adopt a namespace that Dom0
 * carved: it validates the on-media metadata as hostile input, plans where
 * its frame table and M2P live in the management area, keeps a registry of
 * the physical regions it adopted, and maps an extent only into the domain
 * whose UUID the extent's record names.
 *
 * Freestanding: no libc, no allocation. The caller provides all storage
 * and reaches the media, the p2m and its heap through the callbacks below.
 * Nothing here is thread-safe: the caller serialises every call on one
 * registry (Xen: one spinlock).
 *
 * Every refusal fills a struct xphv_refusal: one reason code (stable, in
 * docs/hypervisor-abi.md), the slot involved or XPHV_NO_SLOT, and two
 * numbers whose meaning the reason's text gives.
 */
#ifndef XPHV_H
#define XPHV_H

#include "xp_format.h"

#define XPHV_NO_SLOT 0xffffffffu
#define XPHV_INVALID_PDX (~0ull)
#define XPHV_NO_DOMID 0xffffu

/* Reasons (values are ABI: they travel in xphv_abi replies). */
enum xphv_reason {
	XPHV_OK = 0,
	XPHV_R_IO = 1,		/* the media read or write failed */
	XPHV_R_ARGS = 2,	/* bad request: a=what */
	XPHV_R_RANGE = 3,	/* start/length not page aligned or too big */
	XPHV_R_SB_NONE = 4,	/* neither superblock copy is valid */
	XPHV_R_SB_DIFFER = 5,	/* both valid, differ beyond generation */
	XPHV_R_SB_INVALID = 6,	/* a=copy (0/1): field b invalid */
	XPHV_R_VERSION = 7,	/* major/incompat unknown */
	XPHV_R_UUID = 8,	/* namespace UUID is not the expected one */
	XPHV_R_GENERATION = 9,	/* a=on media, b=expected */
	XPHV_R_SIZE = 10,	/* a=ns_size on media, b=length given */
	XPHV_R_MOVED = 11,	/* a=phys_base on media, b=start given */
	XPHV_R_ZERO_BLOCK = 12,	/* a=first nonzero offset in the 4K block */
	XPHV_R_SLOT_CORRUPT = 13, /* slot: no trustworthy copy */
	XPHV_R_EXTENT_OUTSIDE = 14, /* slot: a=offset b=size */
	XPHV_R_EXTENT_ALIGN = 15, /* slot: a=phys address b=alignment */
	XPHV_R_OVERLAP = 16,	/* slot and a=other slot overlap */
	XPHV_R_DUP_UUID = 17,	/* slot and a=other slot share a uuid */
	XPHV_R_DUP_NAME = 18,	/* slot and a=other slot share a name */
	XPHV_R_NO_MGMT = 19,	/* namespace has no management area */
	XPHV_R_GEOMETRY = 20,	/* media geometry unusable by this hv */
	XPHV_R_ALIGN = 21,	/* a=phys address b=required alignment */
	XPHV_R_PDX = 22,	/* a=mfn not PDX-compressible/contiguous */
	XPHV_R_LIMIT = 23,	/* a=mfn/pdx beyond the frame table or M2P */
	XPHV_R_MGMT_SMALL = 24,	/* a=chunks needed b=chunks reserved */
	XPHV_R_LENT_ALIGN = 25,	/* reserved (no longer used) */
	XPHV_R_RAM_OVERLAP = 26, /* a=start b=end of the host RAM range */
	XPHV_R_NS_OVERLAP = 27,	/* a=start b=end of a registered namespace */
	XPHV_R_FULL = 28,	/* caller storage exhausted */
	XPHV_R_BUSY = 29,	/* a=extents still mapped (unmap: a=mfn the
				 * domain still maps, b=references) */
	XPHV_R_LENT = 30,	/* namespace lent RAM: one-way until reboot */
	XPHV_R_NOT_REGISTERED = 31, /* no such namespace id */
	XPHV_R_NO_EXTENT = 32,	/* no extent with that uuid */
	XPHV_R_NOT_OWNER = 33,	/* slot: owner on media is not the domain */
	XPHV_R_NOT_DATA = 34,	/* slot: extent is lent as RAM / not data */
	XPHV_R_MAPPED = 35,	/* slot: extent already mapped into a=domid */
	XPHV_R_NOT_MAPPED = 36,	/* extent not mapped into that domain */
	XPHV_R_GFN = 37,	/* a=gfn b=frames: misaligned or overflows */
	XPHV_R_P2M = 38,	/* the p2m callback failed: a=gfn b=error */
	XPHV_R_CHANGED = 39,	/* slot changed on media since register */
	XPHV_R_META_RANGE = 40,	/* a=offset b=length: not superblock/table */
	XPHV_R_META_RECORD = 41, /* slot: new copy invalid (a=fmt status) */
	XPHV_R_META_SEQ = 42,	/* slot: a=new seq not above b=current */
	XPHV_R_META_COPY = 43,	/* slot: a=copy is the current one */
	XPHV_R_META_MAPPED = 44, /* slot: a=domid (0xffff: lent), b=mfn/slot */
	XPHV_R_HEAP = 45,	/* the heap callback refused a=mfn */
	XPHV_R_LABEL = 46,	/* slot: label area not below the size */
	XPHV_R_ABI = 47,	/* a=ABI version or reserved field not zero */
	XPHV_R_TABLE = 48,	/* table not where the layout says */
	XPHV_R_COMPAT = 49,	/* 32-bit PV needs a compat M2P: a=chunks */
	XPHV_R_NO_DOMAIN = 50,	/* a=domid: no such domain */
	XPHV_R_FRAME_MAPPED = 51, /* slot: a=mfn already mapped into b=domid */
	XPHV_R__COUNT
};

struct xphv_refusal {
	uint32_t reason;	/* enum xphv_reason */
	uint32_t slot;		/* slot involved, or XPHV_NO_SLOT */
	uint64_t a, b;
};

/* One line of text for @r (no newline; static string). */
const char *xphv_strreason(uint32_t reason);

/* The errno a refusal travels with (positive; Xen's public errno values,
 * which are Linux's on x86), for callers that see only a return code. */
int xphv_errno(uint32_t reason);

/*
 * The media of one namespace, by namespace offset. read returns 0 or a
 * negative error; write stores and makes durable (flush + fence) before it
 * returns. The library writes only the management area and, on a Dom0
 * request, one record copy of the table.
 */
struct xphv_media {
	int (*read)(void *ctx, uint64_t off, void *buf, uint64_t len);
	int (*write)(void *ctx, uint64_t off, const void *buf, uint64_t len);
	void *ctx;
};

/* The hypervisor's own metadata geometry. */
struct xphv_geom {
	uint32_t page_info_size;	/* sizeof(struct page_info): 32 */
	uint32_t m2p_entry;		/* 8 */
	uint32_t compat_entry;		/* 4 when 32-bit PV is on, else 0 */
	uint32_t compat_limit_shift;	/* compat M2P covers SPA < 2^this */
	uint32_t chunk_shift;		/* 21: chunks mapped as superpages */
	uint32_t pad;
	uint64_t ft_pdx_limit;		/* frame-table entries (FRAMETABLE_NR) */
	uint64_t m2p_mfn_limit;		/* M2P entries */
	/* MFN -> PDX; XPHV_INVALID_PDX when @mfn sits in the PDX hole.
	 * NULL: PDX = MFN. Must be increasing over valid MFNs and keep
	 * the frames of each 2 MiB block together (Xen's compression never
	 * removes address bits below MAX_ORDER): validation checks every
	 * block's first frame and the last frame, not every frame. */
	uint64_t (*pfn_to_pdx)(void *ctx, uint64_t mfn);
	void *pdx_ctx;
};

/* Xen x86-64: page_info 32 B, M2P 8 B, compat M2P 4 B below 1 TiB when
 * @pv32, 2 MiB chunks, 16 TiB of frame table and 128 TiB of M2P. */
void xphv_geom_xen_x86(struct xphv_geom *g, bool pv32);

/* A validated extent (the current copy of one used slot). */
struct xphv_extent {
	uint32_t slot;
	uint8_t type;		/* XP_REC_DATA or XP_REC_LENT_RAM */
	uint8_t align_shift;
	uint16_t mapped_domid;	/* XPHV_NO_DOMID when not mapped */
	uint64_t seq;
	uint64_t offset, size, label_size;
	uint64_t gfn;		/* where it is mapped, when mapped */
	uint8_t uuid[16];
	uint8_t owner[16];
	char name[XP_NAME_MAX + 1];
};

/*
 * One sub-array of the plan: the data frames need virtual chunks
 * [first, first + count) of the array; chunk first + i is backed by the
 * 512 management-area frames from mfn + i * 512.
 */
struct xphv_array_plan {
	uint64_t first;		/* first virtual chunk index */
	uint64_t count;		/* chunks needed */
	uint64_t mfn;		/* backing of chunk @first */
	uint64_t reserved;	/* chunks the media reserves for it */
};

struct xphv_plan {
	struct xphv_array_plan ft, m2p, compat;
	uint64_t entries_per_ft_chunk;	/* page_info records per chunk */
	uint64_t mgmt_used;		/* management frames backing chunks */
};

/*
 * A lent-as-RAM extent's own layout (memmap_on_memory): the frame-table
 * chunks of the groups it holds whole live in its own first frames; a
 * group it shares with other frames keeps its chunk in the management
 * area.
 */
struct xphv_lent {
	uint32_t slot;
	uint32_t ft_chunks;	/* chunks of its own frame table */
	uint64_t start_mfn, nr;	/* the whole extent */
	uint64_t ft_first;	/* first virtual FT chunk it backs */
	uint64_t heap_mfn, heap_nr; /* what goes to the heap */
};

/* Storage the caller hands over for one namespace (sizes: xphv_need). */
struct xphv_storage {
	struct xphv_extent *ext;	/* slot_count entries */
	uint32_t *scratch;		/* slot_count entries */
	uint64_t *ft_ready;		/* ft_ready_words words */
	struct xphv_lent *lent;		/* slot_count entries, or fewer */
	uint32_t lent_cap;
};

struct xphv_need {
	uint32_t slot_count;	/* entries of ext and scratch */
	uint32_t ft_ready_words;
};

/* The caller's hooks into the hypervisor. Any may be NULL. */
struct xphv_ops {
	/* Initialise the page_info records of frame-table chunk @chunk,
	 * backed by the 512 frames from @backing_mfn, for frames [@mfn,
	 * @mfn + @nr) of this namespace; the rest of the chunk belongs to
	 * frames the namespace does not hold. */
	int (*ft_init_chunk)(void *ctx, uint64_t chunk, uint64_t backing_mfn,
			     uint64_t mfn, uint64_t nr);
	/* Hand frames [@mfn, @mfn + @nr) to the heap as RAM. */
	int (*heap_add)(void *ctx, uint64_t mfn, uint64_t nr);
	void *ctx;
};

/* A validated, possibly registered, namespace. */
struct xphv_ns {
	uint64_t phys_start, length;	/* bytes */
	struct xp_sb sb;
	int sb_copy;			/* copy the namespace was read by */
	bool sb_one_valid;		/* the other copy is invalid */
	struct xphv_geom geom;
	struct xphv_plan plan;
	struct xphv_storage st;
	uint32_t next;			/* extents in st.ext (any order) */
	uint32_t nlent;
	uint32_t nmapped;
	uint32_t id;			/* registry id, 0 = not registered */
	bool stale;			/* the cache needs a refresh */
	const struct xphv_media *media;
	const struct xphv_ops *ops;
	/* Bounce buffers for the two superblock blocks (and the zero
	 * block): kept here so no call needs kilobytes of stack. */
	uint8_t sbuf[2][XP_SB_BLOCK];
};

/*
 * Step 1: read both superblocks and pick the one the format says to use.
 * Fills @ns->sb and tells how much storage step 2 needs. @phys_start and
 * @length are where the namespace is, in bytes.
 */
int xphv_probe(struct xphv_ns *ns, const struct xphv_media *m,
	       uint64_t phys_start, uint64_t length, struct xphv_need *need,
	       struct xphv_refusal *why);

/* What register expects on media (zero = do not check). */
struct xphv_expect {
	uint8_t ns_uuid[16];
	uint64_t generation;
};

/*
 * Step 2: validate the whole namespace read-only against @g, and compute
 * the plan. @st must hold what @need said. Returns 0, or -1 with @why.
 */
int xphv_validate(struct xphv_ns *ns, const struct xphv_expect *exp,
		  const struct xphv_geom *g, const struct xphv_storage *st,
		  struct xphv_refusal *why);

/* The frame-table slot of @mfn: the management (or lent) frame holding its
 * page_info and the byte offset there. O(1). -1 when @mfn is not a data
 * frame of @ns. */
int xphv_ft_slot(const struct xphv_ns *ns, uint64_t mfn, uint64_t *backing_mfn,
		 uint32_t *offset);

/* The M2P slot of @mfn likewise (compat: @compat true). */
int xphv_m2p_slot(const struct xphv_ns *ns, uint64_t mfn, bool compat,
		  uint64_t *backing_mfn, uint32_t *offset);

/* Make sure the page_info records of [@mfn, @mfn + @nr) are initialised,
 * one chunk at a time, calling ops->ft_init_chunk for each new chunk. */
int xphv_ft_prepare(struct xphv_ns *ns, uint64_t mfn, uint64_t nr,
		    struct xphv_refusal *why);

/* ---- Registry ---------------------------------------------------------- */

enum xphv_region_type {
	XPHV_REG_META = 1,	/* superblocks, zero block, table */
	XPHV_REG_MGMT = 2,	/* frame table / M2P backing */
	XPHV_REG_DATA = 3,	/* extents and free space */
	XPHV_REG_RAM = 4,	/* lent to the hypervisor as RAM */
};

struct xphv_region {
	uint64_t start_mfn, end_mfn;	/* [start, end) */
	uint32_t type;			/* enum xphv_region_type */
	uint32_t ns_id;
};

struct xphv_range {
	uint64_t start, end;		/* bytes, [start, end) */
};

/* One extent mapped into one domain: the authority on which frames are
 * whose, whatever the media or the cache says later. */
struct xphv_mapping {
	uint32_t ns_id;
	uint32_t slot;		/* where the extent was at map time */
	uint16_t domid;
	uint16_t pad[3];
	uint64_t mfn, gfn, nr;
	uint8_t extent_uuid[16];
	uint8_t owner[16];	/* the owner on media at map time */
	/* The record at map time: only its name may change while mapped. */
	uint64_t offset, size, label_size;
	uint32_t align_shift;
	uint32_t pad2;
};

struct xphv_registry {
	const struct xphv_range *ram;	/* host RAM map */
	uint32_t nram;
	struct xphv_ns **ns;		/* ns_cap pointers */
	uint32_t ns_cap;
	struct xphv_region *reg;	/* sorted by start_mfn */
	uint32_t nreg, reg_cap;
	struct xphv_mapping *map;
	uint32_t nmap, map_cap;
};

void xphv_registry_init(struct xphv_registry *r, const struct xphv_range *ram,
			uint32_t nram, struct xphv_ns **ns, uint32_t ns_cap,
			struct xphv_region *reg, uint32_t reg_cap,
			struct xphv_mapping *map, uint32_t map_cap);

/*
 * Register a validated namespace: refuse any overlap with host RAM or a
 * registered namespace, add its regions, and turn its lent extents into
 * RAM (their own frame table first, the rest through ops->heap_add).
 * @dry_run validates and checks overlaps only. Sets ns->id.
 */
int xphv_register(struct xphv_registry *r, struct xphv_ns *ns,
		  const struct xphv_ops *ops, bool dry_run,
		  struct xphv_refusal *why);

/* Unregister: refused while any extent is mapped or RAM was lent. */
int xphv_unregister(struct xphv_registry *r, uint32_t ns_id,
		    struct xphv_refusal *why);

struct xphv_ns *xphv_lookup(const struct xphv_registry *r, uint32_t ns_id);
struct xphv_ns *xphv_lookup_uuid(const struct xphv_registry *r,
				 const uint8_t ns_uuid[16]);

/* The region holding @mfn, or NULL. O(log n). */
const struct xphv_region *xphv_query(const struct xphv_registry *r,
				     uint64_t mfn);

/* ---- Guest mapping ------------------------------------------------------ */

struct xphv_domain {
	uint16_t domid;
	uint16_t pad[3];
	uint8_t uuid[16];	/* the domain's handle */
};

/* The caller's p2m: map or unmap 1 << @order frames at @gfn. */
struct xphv_p2m {
	int (*map)(void *ctx, uint16_t domid, uint64_t gfn, uint64_t mfn,
		   uint32_t order);
	int (*unmap)(void *ctx, uint16_t domid, uint64_t gfn, uint64_t mfn,
		     uint32_t order);
	void *ctx;
};

/*
 * Map the data frames of extent @extent_uuid (its label area excluded)
 * into @d at @gfn: re-reads and re-validates the slot first, requires the
 * owner on media to equal d->uuid, never maps a frame already mapped, and
 * uses 2 MiB entries where gfn and mfn allow. On success @why is {OK,
 * slot, a = frames, b = 2 MiB entries}; xphv_unmap's is {OK, slot, a =
 * gfn, b = frames}. The storage given to xphv_validate must live until
 * xphv_unregister.
 */
int xphv_map(struct xphv_registry *r, uint32_t ns_id,
	     const struct xphv_domain *d, const uint8_t extent_uuid[16],
	     uint64_t gfn, const struct xphv_p2m *p2m,
	     struct xphv_refusal *why);

int xphv_unmap(struct xphv_registry *r, uint32_t ns_id, uint16_t domid,
	       const uint8_t extent_uuid[16], const struct xphv_p2m *p2m,
	       struct xphv_refusal *why);

/* Release every mapping of a dying domain. Returns how many. */
uint32_t xphv_domain_destroy(struct xphv_registry *r, uint16_t domid,
			     const struct xphv_p2m *p2m);

/* ---- Dom0 metadata access after the hand-off ---------------------------- */

/* Read metadata: only the superblock blocks, the zero block and the table. */
int xphv_meta_read(const struct xphv_ns *ns, uint64_t off, void *buf,
		   uint64_t len, struct xphv_refusal *why);

/*
 * Write one record copy (XP_REC_SIZE bytes) of @slot. Accepted when it is
 * the copy that is not current and holds a valid record newer than the
 * current one that keeps the table rules and changes no mapped or lent
 * extent, or when it is the current copy again with the same payload
 * (evening its tags). Written with the format's update protocol.
 */
int xphv_meta_write(struct xphv_registry *r, struct xphv_ns *ns,
		    uint32_t slot, uint32_t copy, const void *rec_copy,
		    struct xphv_refusal *why);

#endif /* XPHV_H */
