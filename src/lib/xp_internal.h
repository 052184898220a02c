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
#include <syslog.h>

#include "media.h"
#include "xenpmem.h"
#include "xp_format.h"

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
	uint32_t *order;	/* used slots in offset order */
	uint32_t nused;
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
	bool moved;		/* xp_ns_moved() */
	char damage[320];	/* xp_ns_damage()'s text */
	uint64_t *bad;		/* bad 512-byte sectors: start,count pairs */
	uint32_t nbad;
	/* Read errors: a superblock copy's ("" when it read), and the first
	 * table page's; per slot, whether its table page could be read. */
	char sb_read_error[2][160];
	char table_read_error[160];
	bool *unreadable;
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
#define xp_log_info(...) \
	xp_log_at(LOG_INFO, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define xp_log_dbg(...) \
	xp_log_at(LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

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

/* Rebuild the derived views (offset order, gaps) after a slot changes. */
int xp_ns_rebuild(struct xp_ns *ns);

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

/* Generate a random (v4) UUID. */
void xp_uuid_generate(uint8_t out[16]);

#endif /* XP_INTERNAL_H */
