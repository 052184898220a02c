/* SPDX-License-Identifier: MIT */
/*
 * libxenpmem: carve a raw persistent-memory namespace into named, aligned
 * extents for guests, with a management area reserved for the hypervisor.
 *
 * Conventions: functions return 0 or a negative errno; on failure
 * xp_last_error() holds one line naming the target and the cause. Handles
 * are opaque. A handle opened for writing holds an exclusive lock on the
 * namespace until xp_ns_close(), so every read-modify-write it does is
 * serialised against other processes.
 *
 * Threads: the library keeps no mutable state outside its handles, and
 * xp_last_error() is per thread. Calls on different handles (or on none)
 * may run in parallel threads; one handle is used by one thread at a
 * time (the caller serialises calls that share it). Activation goes
 * through libdevmapper, whose log hook is process-wide: activate and
 * deactivate from one thread at a time.
 *
 * Locks: a handle opened for reading holds a shared flock(2) on the
 * namespace, one opened for writing an exclusive one, both until close.
 * A conflicting lock held by another process is waited for, for at most
 * XP_LOCK_WAIT_DEFAULT seconds or what XP_WAIT_SECONDS() in the flags
 * says; then the call fails with -EBUSY, "NAMESPACE: busy, held by another
 * process". XP_NOWAIT fails at once. A conflicting lock held by this
 * process (another handle of the same namespace still open) is never
 * waited for, since waiting could only end when this process closes it:
 * -EDEADLK, "NAMESPACE: busy, held by this process".
 *
 * ABI: the shared library's soname changes only when an exported
 * function's meaning or a struct's layout has to; everything else grows in
 * place. Every struct that crosses the boundary has a fixed size and ends
 * in reserved space that new fields are carved out of:
 *   - option structs (the caller fills them) mean the defaults when
 *     zero-initialised, and their reserved words must stay zero: a
 *     library older than the caller's header refuses a field it does not
 *     know (-EINVAL) instead of ignoring it;
 *   - result structs (the library fills them) come back zeroed beyond
 *     what the library knows, so a newer field reads 0 from an older
 *     library.
 * Flag words likewise: a bit the library does not know is refused with
 * -EINVAL. Strings the library hands out are pointers with a stated
 * lifetime, never fixed arrays that could truncate; the only arrays left
 * hold extent names, whose length the format bounds (XP_NAME_MAX). Each
 * release's new functions get their own symbol-version node
 * (LIBXENPMEM_1.0, LIBXENPMEM_1.1, ...), and xp_version() says which
 * library is loaded.
 */
#ifndef XENPMEM_H
#define XENPMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* This header's version; xp_version() is the loaded library's. */
#define XP_VERSION_MAJOR 1
#define XP_VERSION_MINOR 0
#define XP_VERSION_MICRO 0
#define XP_VERSION_CODE(major, minor, micro) \
	(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(micro))
#define XP_VERSION \
	XP_VERSION_CODE(XP_VERSION_MAJOR, XP_VERSION_MINOR, XP_VERSION_MICRO)

#define XP_NAME_MAX 31u
#define XP_UUID_STR_LEN 37u	/* "xxxxxxxx-xxxx-...", with the NUL */

struct xp_ns;

/*
 * The loaded library's version, XP_VERSION_CODE(major, minor, micro), and
 * the same as text ("1.0.0"). A program built against a newer header
 * checks xp_version() >= XP_VERSION_CODE(1, 1, 0) before it uses what
 * 1.1 added (and its symbols' LIBXENPMEM_1.1 node keeps it from starting
 * at all against an older library).
 */
uint32_t xp_version(void);
const char *xp_version_string(void);

/* Thread-local text of the last failure, "" when none. */
const char *xp_last_error(void);

/*
 * Diagnostics for the field, as ndctl_set_log_fn() gives them: what the
 * library decided and why (the backend a target got, lock waits, read
 * fallbacks, rollbacks after a failed fence, repairs, hypercalls,
 * activation) and every error at the place it was raised. Priorities are
 * syslog(3)'s, LOG_ERR (3) to LOG_DEBUG (7); messages above the priority
 * are dropped. The priority starts from $XENPMEM_LOG ("err", "info",
 * "debug" or a number), else nothing is logged. Without a function set,
 * messages go to stderr as "libxenpmem: FUNCTION: MESSAGE".
 *
 * Process-wide (a toolstack sets it once); safe to call from any thread.
 * @fn runs in the thread that logs, with no library lock held: it may
 * call xp_last_error() but should not call back into the library.
 */
typedef void (*xp_log_fn)(int priority, const char *file, int line,
			  const char *fn, const char *msg, void *arg);
/* @fn NULL: back to stderr. */
void xp_set_log_fn(xp_log_fn fn, void *arg);
void xp_set_log_priority(int priority);
int xp_get_log_priority(void);

/* Parse "64M", "2G", "4096", "1T" (binary units); -EINVAL / -ERANGE. */
int xp_parse_size(const char *s, uint64_t *out);

/* An extent name: 1..31 bytes of A-Z a-z 0-9 . _ + : -, no leading '-',
 * not dots alone. */
bool xp_extent_name_valid(const char *name);

/* "@N": the extent in table slot N, for extents a name cannot pick out
 * (duplicate names). True and *slot set when @sel has that form. */
bool xp_extent_slot_selector(const char *sel, uint32_t *slot);

/*
 * Owners are domain UUIDs (xl.cfg uuid=, Xen's domain handle, libvirt's
 * <uuid>), never domain ids, which change at every guest start.
 *
 * xp_owner_resolve() accepts a UUID anywhere; on a Xen host (xenstore
 * reachable) also a running domain's name or domid, looked up under
 * /local/domain/N/{name,vm}. The nil UUID is Dom0's handle and means
 * "unassigned": it is never an owner.
 */
int xp_uuid_parse(const char *s, uint8_t uuid[16]);
void xp_uuid_format(const uint8_t uuid[16], char out[XP_UUID_STR_LEN]);
int xp_owner_resolve(const char *spec, uint8_t uuid[16]);
/* The running domain whose handle is @uuid: its name (in @name, @len
 * bytes with the NUL) and domid. -ENOENT when none runs or this is not a
 * Xen host; -ERANGE, @name untouched, when the name does not fit. */
int xp_owner_lookup(const uint8_t uuid[16], char *name, size_t len,
		    uint32_t *domid);

/* Where a target resolves to. */
enum xp_backend {
	XP_BACKEND_FILE,	/* regular file, via libpmem2 */
	XP_BACKEND_DEVDAX,	/* /dev/daxN.M, via libpmem2 */
	XP_BACKEND_BLOCK,	/* /dev/pmemN, pwrite + fdatasync */
	XP_BACKEND_HV,		/* hv:UUID, a registered namespace: the
				 * hypervisor's metadata commands */
};

const char *xp_backend_name(enum xp_backend b);

/* What the management area is laid out for (docs/format.md). */
enum xp_mgmt_mode {
	XP_MGMT_XEN = 0,	/* Xen x86-64 frame table + M2P (default) */
	XP_MGMT_NONE = 1,	/* none: the hypervisor keeps them in RAM */
};

/* Zero-initialised: the defaults (a Xen management area with the compat
 * M2P, 1024 slots, 1 GiB alignment, refuse anything holding data). */
struct xp_init_opts {
	uint32_t max_extents;	/* table slots; 0 = default (1024) */
	enum xp_mgmt_mode mgmt;	/* 0 = Xen */
	bool no_compat_m2p;	/* Xen: do not reserve the 32-bit PV M2P */
	uint64_t align;		/* data alignment 2M/1G; 0 = 1 GiB */
	bool force;		/* overwrite existing xenpmem metadata */
	/* With force: also when its table assigns extents to domains
	 * (their guests' disks); without it those are refused by name. */
	bool destroy_assigned;
	unsigned flags;		/* XP_NOWAIT, XP_WAIT_SECONDS() */
	uint64_t reserved[6];	/* zero */
};

/*
 * Write a fresh, empty layout on @target. Refuses data unless forced.
 * @opts NULL means the defaults. @overridden, when not NULL, receives what
 * force overrode ("xenpmem metadata (generation 3); ..."), malloc'd for
 * the caller to free(), or NULL when nothing was.
 */
int xp_ns_init(const char *target, const struct xp_init_opts *opts,
	       char **overridden);

#define XP_OPEN_WRITE (1u << 0)	/* exclusive lock; allow mutations */
/*
 * For xp_extent_wipe() only: the media is writable but the lock is
 * shared, since zeroing an extent changes no metadata. Readers are not
 * kept waiting for the whole run of a long wipe; writers are, so the
 * table cannot change (the extent be destroyed or reused) under it.
 */
#define XP_OPEN_WIPE (1u << 1)

/* Lock waiting (see the top), in the flags of xp_ns_open(), xp_check()
 * and xp_init_opts.flags. */
#define XP_LOCK_WAIT_DEFAULT 10u	/* seconds */
#define XP_NOWAIT (1u << 15)		/* fail at once when locked */
#define XP_WAIT_SECONDS(s) (((unsigned)(s) & 0xffffu) << 16)	/* 1..65535;
					 * 0 = the default */

int xp_ns_open(const char *target, unsigned flags, struct xp_ns **nsp);
void xp_ns_close(struct xp_ns *ns);

struct xp_info {
	const char *target;	/* what was opened (resolved path); valid
				 * until the handle is closed */
	enum xp_backend backend;
	uint16_t major, minor;
	uint32_t compat, ro_compat, incompat;	/* feature words */
	uint8_t uuid[16];
	uint64_t generation;
	uint64_t ns_size;
	bool phys_known;
	uint64_t phys_base;
	uint64_t table_offset, table_size;
	uint32_t slot_count;
	enum xp_mgmt_mode mgmt;
	bool compat_m2p;	/* the 32-bit PV compat M2P is reserved */
	uint64_t mgmt_offset, mgmt_size;
	/* Sub-arrays of 2 MiB chunks: namespace offset and chunk count. */
	uint64_t ft_offset, m2p_offset, compat_offset;
	uint32_t ft_chunks, m2p_chunks, compat_chunks;
	uint64_t data_offset, data_size;
	uint64_t align;
	uint64_t init_time;	/* ns since the epoch */
	uint32_t extent_count;
	/* free_bytes counts only space known to be free: none while any
	 * slot is corrupt (it may describe an extent anywhere). */
	uint64_t used_bytes, free_bytes, largest_free;
	bool primary_ok, backup_ok;	/* superblock copies valid */
	/* Damage that makes every command say so and exit 1: */
	uint32_t corrupt_slots;	/* slots no copy of which can be trusted */
	uint32_t violations;	/* pairs of extents found breaking a table
				 * rule (every extent involved is in one) */
	bool moved;		/* not where (or aligned as) it was at init */
	bool sb_unresolved;	/* the superblock copies disagree */
	uint64_t reserved[8];
};

int xp_ns_get_info(struct xp_ns *ns, struct xp_info *info);

enum xp_extent_state {
	XP_EXTENT_DATA = 1,	/* guest data (in use) */
	XP_EXTENT_LENT_RAM = 2,	/* lent to the hypervisor as RAM: content is
				 * garbage after a reboot */
};

const char *xp_extent_state_name(enum xp_extent_state st);

struct xp_extent {
	char name[XP_NAME_MAX + 1];
	uint8_t uuid[16];
	uint32_t slot;
	uint64_t seq;
	enum xp_extent_state state;
	uint64_t offset, size;	/* bytes from the namespace start */
	uint64_t align;
	uint64_t label_size;
	bool assigned;
	uint8_t owner[16];	/* the owning domain's UUID, when assigned */
	bool violation;		/* breaks a table rule with another extent */
	bool phys_known;
	uint64_t first_mfn, nr_frames;	/* when phys_known */
	uint64_t badblocks;	/* 512-byte bad sectors inside the extent */
	uint64_t reserved[6];
};

/* Extents in offset order. */
uint32_t xp_ns_extent_count(struct xp_ns *ns);
int xp_ns_extent_get(struct xp_ns *ns, uint32_t idx, struct xp_extent *ext);
/* By name, or "@N" for slot N; -ENOENT, or -EUCLEAN when the name is
 * not unique (a table-rule violation). */
int xp_ns_extent_find(struct xp_ns *ns, const char *name,
		      struct xp_extent *ext);

/*
 * Refuse to hand out an extent: -EUCLEAN with one line naming the extents
 * when the namespace moved, has corrupt slots or unresolved superblocks,
 * or @ext breaks a table rule; -EINVAL when it is lent to the hypervisor.
 */
int xp_extent_exportable(struct xp_ns *ns, const struct xp_extent *ext);

/*
 * One line describing damage that leaves the namespace readable but not
 * trustworthy (corrupt slots, broken rules, moved, superblocks differ),
 * or NULL when there is none. Listing commands print it and exit 1.
 */
const char *xp_ns_damage(struct xp_ns *ns);

/* A free gap of the data area, in offset order; for maps and planning.
 * There are none while any slot is corrupt. */
struct xp_gap {
	uint64_t offset, size;
	uint64_t reserved[2];
};
uint32_t xp_ns_gap_count(struct xp_ns *ns);
int xp_ns_gap_get(struct xp_ns *ns, uint32_t idx, struct xp_gap *gap);

/* Progress of a long zeroing (create, resize, wipe): done of total bytes. */
typedef void (*xp_progress_fn)(uint64_t done, uint64_t total, void *arg);

#define XP_FORCE (1u << 0)
/*
 * create, growing resize: leave the new range's bytes as they are. By
 * default they are zeroed (a hole punched on a file) before the change
 * commits, so no guest receives the bytes of an extent destroyed earlier.
 */
#define XP_NO_ZERO (1u << 1)

/* Zero-initialised (but for name and size): unassigned, the namespace's
 * alignment, no label area, the range zeroed first. */
struct xp_create_opts {
	const char *name;
	uint64_t size;
	uint8_t owner[16];	/* a domain UUID; all zero = unassigned */
	uint64_t align;		/* 0 = the namespace's data alignment */
	uint64_t label_size;	/* 0 = none */
	unsigned flags;		/* XP_NO_ZERO */
	xp_progress_fn progress;	/* zeroing progress; may be NULL */
	void *progress_arg;
	uint64_t reserved[6];	/* zero */
};

/*
 * Zeroes the range first (unless XP_NO_ZERO); a hypervisor-registered
 * namespace cannot zero extent data, so there it needs XP_NO_ZERO.
 */
int xp_extent_create(struct xp_ns *ns, const struct xp_create_opts *opts,
		     struct xp_extent *created);

/*
 * An assigned extent needs XP_FORCE. In a table that breaks a rule
 * (overlap, duplicate name or uuid), destroy and rename of an extent
 * involved work with XP_FORCE, since they can only remove a violation;
 * every other change is refused until the table is whole. @name may be
 * "@N" (slot N).
 */
int xp_extent_destroy(struct xp_ns *ns, const char *name, unsigned flags);
/*
 * In place: grows into the free space right behind the extent, zeroing it
 * first unless XP_NO_ZERO. Shrinking an assigned extent needs XP_FORCE.
 * A label area (the extent's last label_size bytes) is copied to the new
 * end before the change commits; refused (-EINVAL) when the old and new
 * label ranges would overlap, since the copy would then damage the only
 * label before the commit.
 */
int xp_extent_resize(struct xp_ns *ns, const char *name, uint64_t size,
		     unsigned flags, xp_progress_fn progress, void *arg);
int xp_extent_rename(struct xp_ns *ns, const char *from, const char *to,
		     unsigned flags);
/* @owner NULL or nil unassigns. */
int xp_extent_assign(struct xp_ns *ns, const char *name,
		     const uint8_t owner[16]);
/* Lend an unassigned extent to the hypervisor as RAM (its content is lost),
 * or take it back as guest data (XP_EXTENT_DATA). */
int xp_extent_set_state(struct xp_ns *ns, const char *name,
			enum xp_extent_state state);

/*
 * Zero an extent's bytes; @progress (may be NULL) sees done/total. @flags
 * must hold XP_FORCE, confirming the data loss; an extent assigned to a
 * domain is refused (-EBUSY) all the same: unassign it first.
 */
int xp_extent_wipe(struct xp_ns *ns, const char *name, unsigned flags,
		   xp_progress_fn progress, void *arg);

/*
 * Activation: a block device over an extent's data (its label area
 * excluded), for guests and tools that take a path (QEMU's mem-path,
 * libvirt's <source><path>). It lives in the kernel, not in the handle:
 * it outlives the process, survives nothing across a reboot (activate
 * again at boot), and is found again from the kernel's own records.
 *
 * On /dev/pmemN (or the ndctl name of a fsdax/raw namespace) it is a
 * dm-linear device /dev/mapper/xenpmem-NAME whose dm UUID is
 * "XENPMEM-<namespace uuid>-<extent uuid>": found by UUID, never by name,
 * so a rename keeps it. On a regular file it is a loop device with the
 * data range as offset and size limit, found through the backing file's
 * inode. Device DAX (/dev/daxN.M) is a character device that neither dm
 * nor loop can sit on: refused (-EOPNOTSUPP). So is hv:UUID (Dom0 gave
 * the namespace up).
 */
enum xp_activation_kind {
	XP_ACT_NONE = 0,	/* not active */
	XP_ACT_DM = 1,		/* dm-linear /dev/mapper/xenpmem-NAME */
	XP_ACT_LOOP = 2,	/* loop device (file namespaces) */
};

/* The longest device node an activation can have: /dev/mapper/ and a
 * dm name (DM_NAME_LEN 128, with its NUL). */
#define XP_DEVICE_MAX 140u

struct xp_activation {
	enum xp_activation_kind kind;
	char device[XP_DEVICE_MAX];	/* absolute path of the block device */
	bool dax;		/* the device supports DAX (dm over pmem) */
	uint64_t offset, size;	/* namespace bytes the device covers: the
				 * extent's data (label area excluded), or
				 * with XP_ACTIVATE_WITH_LABEL all of it */
	bool detaching;		/* deactivated while in use: the kernel
				 * removes it at its last close (loop) */
	uint64_t reserved[4];
};

/* Whether and where @ext is active; kind XP_ACT_NONE when it is not. */
int xp_extent_activation(struct xp_ns *ns, const struct xp_extent *ext,
			 struct xp_activation *out);
/*
 * Activate extent @name (or "@N"). Idempotent: an extent already active
 * over the same range is reported as it is (0, @out filled), and one
 * detaching is kept instead. Refused for an extent xp_extent_exportable()
 * refuses (lent, damaged namespace).
 */
int xp_extent_activate(struct xp_ns *ns, const char *name,
		       struct xp_activation *out);
/*
 * The device covers the whole extent, its label area last: what QEMU's
 * nvdimm wants as its backend with label-size (QEMU keeps the guest's
 * label area in the backend's last label-size bytes), for QEMU before
 * 8.1 and libvirt, which cannot give offset= into the namespace.
 */
#define XP_ACTIVATE_WITH_LABEL (1u << 0)
/* xp_extent_activate() with XP_ACTIVATE_* @flags. */
int xp_extent_activate_flags(struct xp_ns *ns, const char *name,
			     unsigned flags, struct xp_activation *out);
/* Remove the activation of @name; -ENOENT (with text) when not active,
 * -EBUSY when the device is open (mounted, a running guest): dm leaves it
 * as it is, a loop device detaches at its last close (detaching). */
int xp_extent_deactivate(struct xp_ns *ns, const char *name);

/* Check: findings are reported one at a time. */
enum xp_severity {
	XP_SEV_NOTE,	/* expected after an interrupted update; harmless */
	XP_SEV_ERROR,	/* an inconsistency */
	XP_SEV_FIXED,	/* repair changed this */
};

/* Handed to the callback; its strings live until the callback returns. */
struct xp_finding {
	enum xp_severity severity;
	const char *object;	/* "superblock.primary", "slot 12", ... */
	const char *text;
	/* For an error: the xenpmem command that resolves it (the namespace
	 * written as NS), keeping every other extent; "" when none. */
	const char *fix;
	uint64_t reserved[4];
};

typedef void (*xp_finding_fn)(const struct xp_finding *f, void *arg);

#define XP_CHECK_REPAIR (1u << 0)	/* restore from the valid copy */
#define XP_CHECK_FORCE (1u << 1)	/* also settle corrupt slots: restore
					 * their older valid copy, or free them */
#define XP_CHECK_USE_PRIMARY (1u << 2)	/* superblocks disagree: keep this */
#define XP_CHECK_USE_BACKUP (1u << 3)	/* ... or this copy */

/*
 * Check @target. Returns the number of XP_ERROR findings left after any
 * repair (0 = clean), or a negative errno when the target cannot be read.
 */
int xp_check(const char *target, unsigned flags, xp_finding_fn fn, void *arg);

/* Discovery: every pmem namespace on the host (libndctl). */
enum xp_meta {
	XP_META_NONE,		/* no xenpmem superblock */
	XP_META_OK,		/* a valid xenpmem namespace */
	XP_META_CORRUPT,	/* ours, but needs check */
	XP_META_UNKNOWN,	/* could not be read */
	XP_META_BUSY,		/* locked by a writer (or by a handle of
				 * the caller's): discovery does not wait */
};

/* Handed to the callback; its strings live until the callback returns. */
struct xp_pmem_ns {
	const char *dev;	/* ndctl name: namespace0.0 */
	const char *region;	/* region0 */
	const char *mode;	/* raw, fsdax, devdax, sector, unknown */
	uint64_t size;
	bool resource_known;
	uint64_t resource;	/* physical start */
	const char *node;	/* /dev/pmem0, /dev/dax0.0; "" if none */
	bool is_char;		/* device DAX */
	enum xp_meta xenpmem;
	uint32_t extents;	/* when XP_META_OK */
	uint64_t reserved[4];
};

/* Calls @fn for each namespace; a non-zero return stops and is returned. */
typedef int (*xp_discover_fn)(const struct xp_pmem_ns *ns, void *arg);
int xp_discover(xp_discover_fn fn, void *arg);

/*
 * Handing a namespace to the hypervisor (docs/hypervisor-abi.md).
 *
 * Dom0 tells the hypervisor where a namespace is and what it expects to
 * find there; the hypervisor re-reads the media, validates it, and from
 * then on keeps its frame table in the management area and maps extents
 * only into the domain the table names as owner. Dom0 closes its own
 * mapping of the namespace before register; afterwards its metadata
 * changes go through the hypervisor (xp_hv_meta_*).
 *
 * A handle talks to one hypervisor: "xen" (libxencall over privcmd; a Xen
 * without the xen/patches series answers -ENOSYS, and the error says so
 * and names the iomem= export), or "model:SOCKET" (xenpmem-modelhv). A
 * refusal is -errno with xp_last_error() naming the target, the
 * hypervisor's reason and the slot or numbers involved.
 */
struct xp_hv;

/* @spec NULL or "": $XENPMEM_HV, else "xen". */
int xp_hv_open(const char *spec, struct xp_hv **hvp);
void xp_hv_close(struct xp_hv *hv);
/* "xen" or "model:SOCKET". */
const char *xp_hv_name(const struct xp_hv *hv);

/* In @flags of register, unregister, map and unmap: XP_NOWAIT and
 * XP_WAIT_SECONDS() for the namespace's lock while Dom0 reads it. */
#define XP_HV_DRY_RUN (1u << 0)	/* register: validate and check overlaps
				 * only */

struct xp_hv_ns {
	uint8_t uuid[16];	/* what Dom0 read and sent */
	uint64_t generation;
	uint64_t phys_start, size;	/* bytes */
	/* The hypervisor's answer (register): */
	uint32_t ns_id;		/* 0 after a dry run */
	uint32_t extents;	/* extents it validated */
	uint64_t data_start_mfn, data_end_mfn;
	uint64_t mgmt_frames;	/* management frames its tables use */
	uint64_t ram_frames;	/* frames of extents lent as RAM */
	/* The Linux namespace behind it ("namespace0.0", an ndctl name of
	 * at most 30 characters), "" for a file: register disables it in
	 * Linux first (the hand-off), unregister enables it again. */
	char linux_ns[32];
	bool linux_disabled;	/* register disabled it */
	bool linux_enabled;	/* unregister enabled it again */
	uint64_t reserved[6];
};

int xp_hv_register(struct xp_hv *hv, const char *target, unsigned flags,
		   struct xp_hv_ns *out);
/* Refused while an extent is mapped or RAM was lent. */
int xp_hv_unregister(struct xp_hv *hv, const char *target, unsigned flags,
		     struct xp_hv_ns *out);

enum xp_hv_region_type {
	XP_HV_REGION_META = 1,	/* superblocks, zero block, extent table */
	XP_HV_REGION_MGMT = 2,	/* frame table and M2P backing */
	XP_HV_REGION_DATA = 3,	/* extents and free space */
	XP_HV_REGION_RAM = 4,	/* lent to the hypervisor as RAM */
};

const char *xp_hv_region_type_name(enum xp_hv_region_type t);

struct xp_hv_region {
	uint64_t start_mfn, end_mfn;	/* [start, end) */
	enum xp_hv_region_type type;
	uint32_t ns_id;
	uint8_t ns_uuid[16];
	uint64_t reserved[2];
};

/* Every region of every registered namespace, by start; free(*regions). */
int xp_hv_query(struct xp_hv *hv, struct xp_hv_region **regions,
		uint32_t *count);

struct xp_hv_mapping {
	char name[XP_NAME_MAX + 1];
	uint8_t extent_uuid[16];
	uint8_t domain[16];		/* the domain's UUID */
	uint32_t domid;			/* its id now */
	uint64_t gfn;			/* first guest frame */
	uint64_t first_mfn, nr_frames;	/* the extent's data frames */
	uint64_t superpages;		/* 2 MiB entries used (map) */
	uint64_t reserved[4];
};

/*
 * Map extent @name (or "@N") of @target into the running domain whose
 * UUID is @domain, at guest frame @gfn. The hypervisor maps it only when
 * the table on media, read at that moment, names @domain as the owner.
 * @gfn XP_HV_GFN_MFN maps it at its own first data frame (gfn == mfn),
 * which is where a PV guest finds it: a Linux PV guest reaches a range
 * the kernel's memmap=SIZE!ADDR marks as pmem through its 1:1 machine
 * mapping of non-RAM frames.
 */
#define XP_HV_GFN_MFN UINT64_MAX

int xp_hv_map(struct xp_hv *hv, const char *target, const char *name,
	      const uint8_t domain[16], uint64_t gfn, unsigned flags,
	      struct xp_hv_mapping *out);
int xp_hv_unmap(struct xp_hv *hv, const char *target, const char *name,
		const uint8_t domain[16], unsigned flags,
		struct xp_hv_mapping *out);

/*
 * Open a registered namespace through @hv: @target is "hv:UUID" (the
 * namespace UUID). xp_ns_open() takes the same target and opens a handle
 * of its own from $XENPMEM_HV. Reads go through META_READ, table changes
 * through META_WRITE, which the hypervisor validates; a change of the
 * superblocks, the zeroing of an extent or init is refused (unregister
 * first). The namespace handle borrows @hv: close it first.
 */
int xp_ns_open_hv(struct xp_hv *hv, const char *target, unsigned flags,
		  struct xp_ns **nsp);

/* Metadata of a registered namespace, through the hypervisor: the
 * superblocks and the extent table only (at most 64 KiB a read), and one
 * record copy (128 bytes) per write, which it validates first. */
int xp_hv_meta_read(struct xp_hv *hv, const uint8_t ns_uuid[16],
		    uint64_t offset, void *buf, uint32_t len);
int xp_hv_meta_write(struct xp_hv *hv, const uint8_t ns_uuid[16],
		     uint32_t slot, uint32_t copy, const void *rec);

#ifdef __cplusplus
}
#endif

#endif /* XENPMEM_H */
