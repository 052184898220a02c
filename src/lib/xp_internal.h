/* SPDX-License-Identifier: MIT */
/*
 * libxenpmem internals, shared by the library's files and by tests that
 * drive the library through a backend of their own (crash simulator,
 * fuzzers). Not installed, not exported from the shared library.
 */
#ifndef XP_INTERNAL_H
#define XP_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>

#include "media.h"
#include "xenpmem.h"
#include "xp_format.h"

/*
 * The table's in-memory index (ns_index.c): extents in offset order with
 * the gaps between them, names, free slots. Per slot arrays, sized at
 * load time; XP_NS_NIL marks "no slot".
 */
#define XP_NS_NIL UINT32_MAX
#define XP_NS_FREE_LEVELS 4	/* 64^4 > XP_MAX_SLOTS */

struct xp_ns_node {
	uint32_t left, right;	/* children in offset order */
	uint32_t count;		/* extents in this subtree */
	uint32_t gaps;		/* ... with a free gap right before them */
	/*
	 * The node's own key, copied from its slot when it is linked (a
	 * change to a slot's place unlinks it first): a step down the tree
	 * reads this node's cache line, not its ~330-byte struct xp_slot.
	 */
	uint32_t prio;		/* treap priority (ns_index.c priority()) */
	uint64_t off, size;	/* the extent's place */
	uint64_t gap;		/* free bytes right before this extent */
	uint64_t gap_sum, gap_max, used;	/* over this subtree */
};

struct xp_ns_index {
	struct xp_ns_node *node;	/* per slot; a tree of the used ones */
	uint32_t root;
	uint32_t seed;		/* mixed into the tree's priorities */
	uint64_t tail_gap;	/* free bytes after the last extent */
	/* Nodes a change pulls again (ns_index.c): distinct nodes, so one
	 * per slot is room enough however deep the tree. */
	uint32_t *path;
	uint32_t *name_head;	/* name_mask + 1 chains of used slots */
	uint32_t *name_next;	/* per slot */
	/* Per slot: its name's hash, so a chain is walked without a string
	 * compare for each name that only shares the bucket, and a slot
	 * leaves its chain without hashing its name again. */
	uint32_t *name_hv;
	uint32_t name_mask;
	/* Bit per free slot, then a bit per nonzero word, level by level. */
	uint64_t *free_bits;
	uint32_t free_off[XP_NS_FREE_LEVELS];
	uint32_t free_levels;
};

/* Random bytes for new extents' UUIDs, a page at a time (uuid.c). */
struct xp_uuid_pool {
	struct xp_uuid_page *page;	/* NULL before the first UUID */
	size_t page_size;
	bool unavailable;	/* no page a fork wipes: a system call each */
};

struct xp_ns {
	struct xp_media *media;
	bool own_media;		/* close the media with the handle */
	unsigned flags;
	struct xp_sb sb;	/* the copy in use */
	bool primary_ok, backup_ok;
	enum xp_fmt_status primary_st, backup_st;
	const char *primary_field, *backup_field;
	bool sb_mismatch;	/* both valid, but they differ */
	/* They differ in more than the generation an interrupted repair
	 * leaves: nothing says which is right; a human picks. */
	bool sb_unresolved;
	bool sb_from_backup;	/* sb is the backup copy's */
	uint8_t sb_raw[2][XP_SB_BLOCK];	/* both blocks as read */
	struct xp_sb sbs[2];	/* both decoded (valid when *_ok) */
	struct xp_slot *slots;	/* sb.slot_count decoded slots */
	/*
	 * Used slots in offset order and the gaps between them, as
	 * xp_ns_rebuild() last derived them from scratch (at open, in check,
	 * after a change to a damaged table). A change to a whole table
	 * updates only @index and clears @views_current: read extents and
	 * gaps through xp_ns_extent_get() and xp_ns_gap_get(), which take
	 * these arrays while they are current (O(1) each: a list right after
	 * open) and the index after that. @order is also the table rules'
	 * scratch space.
	 */
	uint32_t *order;
	bool views_current;
	uint32_t nused;		/* extents now (kept by the index) */
	uint32_t ncorrupt;
	uint32_t nmixed;	/* current copies with mixed tags */
	/* Table rules: pairs breaking one, the first pair, and per slot
	 * whether it is involved. */
	uint32_t npairs;
	uint32_t table_a, table_b;
	const char *table_why;
	bool *violation;
	struct xp_gap *gaps;
	uint32_t ngaps;
	struct xp_ns_index index;
	bool moved;		/* xp_ns_moved() */
	char damage[320];	/* xp_ns_damage()'s text */
	uint64_t *bad;		/* bad 512-byte sectors: start,count pairs */
	uint32_t nbad;
	/* Read errors: a superblock copy's ("" when it read), and the first
	 * table page's; per slot, whether its table page could be read. */
	char sb_read_error[2][160];
	char table_read_error[160];
	bool *unreadable;
	/* Loop devices over this namespace file (activate.c), or NULL
	 * before the first question. */
	struct xp_loop_cache *loops;
	struct xp_uuid_pool uuids;
	/*
	 * A writer's copy of the table's bytes as the media holds them (read
	 * machine-check safe at open, kept current by every store this handle
	 * makes; its exclusive lock keeps everyone else out): the bytes an
	 * update replaces, handed to the undo layer without a read of the
	 * media. NULL for readers, check and the hypervisor backend; zeroes
	 * over unreadable slots.
	 */
	uint8_t *raw;
};

/*
 * Set the thread's last error, "TARGET: message", and log it at LOG_ERR
 * with the place it was raised. Returns -@err.
 */
int xp_err_at(const char *file, int line, const char *fn, int err,
	      const char *target, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
#define xp_err(err, target, ...) \
	xp_err_at(__FILE__, __LINE__, __func__, (err), (target), __VA_ARGS__)
void xp_err_clear(void);

/* Field diagnostics through the log hook (xp_set_log_fn()). */
void xp_log_at(int priority, const char *file, int line, const char *fn,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Whether a message at @priority would go anywhere. */
bool xp_log_wanted(int priority);
/*
 * The check comes first and is not variadic: every slot update logs at
 * LOG_DEBUG, and the varargs call alone cost a slot update 28
 * instructions when nothing listens.
 */
#define xp_log_prio(prio, ...)                                            \
	do {                                                              \
		if (xp_log_wanted(prio))                                  \
			xp_log_at((prio), __FILE__, __LINE__, __func__,    \
				  __VA_ARGS__);                           \
	} while (0)
#define xp_log_info(...) xp_log_prio(LOG_INFO, __VA_ARGS__)
#define xp_log_dbg(...) xp_log_prio(LOG_DEBUG, __VA_ARGS__)

/* The lock-waiting bits every call that takes a lock accepts. */
#define XP_WAIT_FLAGS (XP_NOWAIT | XP_WAIT_SECONDS(0xffff))

/* -EINVAL naming @call when @flags has a bit outside @known. */
int xp_flags_known(unsigned flags, unsigned known, const char *target,
		   const char *call);
/* -EINVAL when a caller's reserved words are not zero. */
int xp_reserved_zero(const uint64_t *words, size_t n, const char *target,
		     const char *what);
#define XP_RESERVED_ZERO(s, target, what) \
	xp_reserved_zero((s)->reserved, \
			 sizeof((s)->reserved) / sizeof((s)->reserved[0]), \
			 (target), (what))

/* Open/init/check over an already open media (which the call borrows). */
int xp_ns_open_media(struct xp_media *m, unsigned flags, struct xp_ns **nsp);
int xp_ns_init_media(struct xp_media *m, const struct xp_init_opts *opts,
		     char **overridden);
int xp_check_media(struct xp_media *m, unsigned flags, xp_finding_fn fn,
		   void *arg);

/* Steps of opening, shared with check. Take the namespace's flock, shared
 * or exclusive, waiting as @flags say (XP_NOWAIT, XP_WAIT_SECONDS()). */
int xp_media_lock(struct xp_media *m, bool exclusive, unsigned flags);
int xp_ns_load_sb(struct xp_ns *ns);
int xp_ns_sb_error(struct xp_ns *ns);
/* A superblock copy holds up but for its size: the namespace was resized
 * since init, from *@was bytes. */
bool xp_ns_size_changed(const struct xp_ns *ns, uint64_t *was);
int xp_ns_load_table(struct xp_ns *ns);
/* "STATUS[ in FIELD]" or "unreadable (ERROR)" for superblock copy @copy. */
const char *xp_ns_sb_status(const struct xp_ns *ns, int copy, char *buf,
			    size_t len);
/* The used slot named @name (or "@N"): -ENOENT, -EUCLEAN if ambiguous
 * (no error text set). */
int xp_ns_find_slot(struct xp_ns *ns, const char *name);
int xp_ns_find_error(struct xp_ns *ns, const char *name, int rc);
/*
 * Store uniform tags over every current copy whose tags are mixed (and
 * flush them), leaving slot @skip alone; the caller's fence makes them
 * durable. Payload bytes do not change, so each copy stays valid whatever
 * subset of these stores lands.
 */
int xp_ns_even_tags(struct xp_ns *ns, int64_t skip);
/*
 * Store @len bytes at @off, inside one slot of the table, through the
 * undo layer, giving it the bytes replaced from ns->raw when the handle
 * keeps them, and keep ns->raw current. The caller flushes and fences.
 */
int xp_ns_table_write(struct xp_ns *ns, uint64_t off, const void *buf,
		      size_t len);
/* The writer's copy of table bytes at @at, or NULL when it has none. */
static inline const uint8_t *xp_ns_raw_old(const struct xp_ns *ns,
					   uint64_t at)
{
	/* An unreadable slot's old bytes are unknown: the undo layer tries
	 * the media, as for any other store. */
	if (ns->raw && !ns->unreadable[at / XP_SLOT_SIZE])
		return ns->raw + at;
	return NULL;
}

/*
 * Store and flush table bytes (one step where the media can) and keep
 * ns->raw current, in the two halves of xp_media_persist_begin(): in
 * between the caller updates what it keeps in memory while the lines are
 * written back, and stores nothing to the media. Inline: an update's
 * @len is a constant, and its copy into ns->raw is then a few moves
 * rather than a call.
 */
static inline int xp_ns_table_persist_begin(struct xp_ns *ns, uint64_t off,
					    const void *buf, size_t len,
					    bool *fence_owed)
{
	uint64_t at = off - XP_TABLE_OFFSET;
	int rc = xp_media_persist_begin(ns->media, off, buf, len,
					xp_ns_raw_old(ns, at), fence_owed);

	/* A failed store or fence put the media back as it was (or stored
	 * nothing), which is what ns->raw still holds. */
	if (!rc && ns->raw)
		memcpy(ns->raw + at, buf, len);
	return rc;
}
static inline void xp_ns_table_persist_end(struct xp_ns *ns, bool fence_owed)
{
	xp_media_persist_end(ns->media, fence_owed);
}
/* Both halves at once. */
static inline int xp_ns_table_persist(struct xp_ns *ns, uint64_t off,
				      const void *buf, size_t len)
{
	bool fence_owed;
	int rc = xp_ns_table_persist_begin(ns, off, buf, len, &fence_owed);

	if (!rc)
		xp_ns_table_persist_end(ns, fence_owed);
	return rc;
}
/* Re-run the table rules over the decoded slots. */
void xp_ns_check_rules(struct xp_ns *ns);
/* Free what xp_ns_load_* allocated. */
void xp_ns_free_tables(struct xp_ns *ns);
void xp_extent_fill(const struct xp_ns *ns, uint32_t slot,
		    struct xp_extent *ext);
/* Physical address of byte 0 (the host's, else the superblock's). */
bool xp_ns_phys(const struct xp_ns *ns, uint64_t *phys);
/*
 * The host puts the namespace elsewhere than it was at init, or, for one
 * initialised while its address was unknown, somewhere the layout's
 * physical alignment no longer holds.
 */
bool xp_ns_moved(const struct xp_ns *ns);

/* Derive the views (offset order, gaps) and the index from the decoded
 * slots, from scratch: O(n log n). */
int xp_ns_rebuild(struct xp_ns *ns);

/*
 * The index (ns_index.c). A change to slot @slot of a whole table calls
 * xp_ns_index_unlink() while the slot still holds its old record, and
 * xp_ns_index_link() once it holds the new one, for the parts the change
 * touches: XP_IX_NAME for its name, XP_IX_PLACE for its offset or size,
 * XP_IX_ALL when it starts or stops being used. O(log n) each.
 */
#define XP_IX_NAME (1u << 0)
#define XP_IX_PLACE (1u << 1)
#define XP_IX_ALL (XP_IX_NAME | XP_IX_PLACE)
int xp_ns_index_alloc(struct xp_ns_index *ix, uint32_t slots);
void xp_ns_index_free(struct xp_ns_index *ix);
/* From @n used slots in offset order (gaps as xp_ns_rebuild() has them). */
void xp_ns_index_build(struct xp_ns *ns, const uint32_t *order, uint32_t n);
void xp_ns_index_unlink(struct xp_ns *ns, uint32_t slot, unsigned what);
void xp_ns_index_link(struct xp_ns *ns, uint32_t slot, unsigned what);
/* The used slot named @name: -ENOENT, -EUCLEAN when two are. */
int xp_ns_index_find_name(const struct xp_ns *ns, const char *name);
/* The lowest free slot, -1 when none is. */
int64_t xp_ns_free_slot(const struct xp_ns *ns);
/* The slot of the @idx-th extent in offset order, XP_NS_NIL past the end. */
uint32_t xp_ns_index_extent_at(const struct xp_ns *ns, uint32_t idx);
uint32_t xp_ns_index_gap_count(const struct xp_ns *ns);
bool xp_ns_index_gap_at(const struct xp_ns *ns, uint32_t idx,
			struct xp_gap *gap);
/* Call @fn on each gap of at least @min bytes (> 0) in offset order until
 * it returns true; returns whether it did. */
bool xp_ns_index_gaps_from(const struct xp_ns *ns, uint64_t min,
			   bool (*fn)(const struct xp_gap *g, void *arg),
			   void *arg);
/* The first extent starting after offset @off, XP_NS_NIL when none does. */
uint32_t xp_ns_index_next_after(const struct xp_ns *ns, uint64_t off);
void xp_ns_index_space(const struct xp_ns *ns, uint64_t *used,
		       uint64_t *free_bytes, uint64_t *largest);

/* Read the namespace's badblocks (sysfs or the test file). */
int xp_badblocks_load(struct xp_ns *ns);
uint64_t xp_badblocks_in(const struct xp_ns *ns, uint64_t off, uint64_t len);
int xp_badblocks_check_meta(struct xp_media *m, const struct xp_layout *lay);
/* Append one (offset, length) pair to a growing array; -ENOMEM. */
int xp_badblocks_push(uint64_t **v, uint32_t *n, uint32_t *cap, uint64_t off,
		      uint64_t len);

/* Discovery's look at @p->node: whether it holds xenpmem metadata, or is
 * busy (locked by a writer); it never waits. */
void xp_discover_probe(struct xp_pmem_ns *p);

/* "namespace0.0" -> the node it exposes now (/dev/pmem0, /dev/dax0.0). */
int xp_ndctl_resolve(const char *name, char *path, size_t len);

/*
 * Enable or disable (as `ndctl enable-/disable-namespace` does, refusing a
 * busy one) the libndctl namespace at exactly [@phys, @phys + @size),
 * naming it in @name. 0 done, 1 already so, -ENOENT no such namespace
 * (a file, or not a pmem namespace), else a negative errno.
 */
int xp_ndctl_set_enabled(uint64_t phys, uint64_t size, bool enable,
			 char *name, size_t len);

/*
 * -EBUSY, with one line naming the device and saying to deactivate it,
 * when the extent in @slot is active (activate.c); @what is the change
 * refused ("destroying", "resizing", ...). 0 when it is not.
 */
int xp_extent_refuse_active(struct xp_ns *ns, uint32_t slot, const char *what);

/* Forget the handle's scan of loop devices (activate.c). */
void xp_loop_cache_drop(struct xp_ns *ns);

/* Generate a random (v4) UUID. */
void xp_uuid_generate(uint8_t out[16]);
/* The same from @pool's bytes: no system call for most UUIDs, and never
 * one a parent or child of a fork(2) also gets. */
void xp_uuid_pool_take(struct xp_uuid_pool *pool, uint8_t out[16]);
void xp_uuid_pool_drop(struct xp_uuid_pool *pool);

#endif /* XP_INTERNAL_H */
