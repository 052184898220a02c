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
 */
#ifndef XENPMEM_H
#define XENPMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XP_OWNER_NONE 0xffffffffu
#define XP_NAME_MAX 55u

struct xp_ns;

/* Thread-local text of the last failure, "" when none. */
const char *xp_last_error(void);

/* Parse "64M", "2G", "4096", "1T" (binary units); -EINVAL / -ERANGE. */
int xp_parse_size(const char *s, uint64_t *out);

/* An extent name: 1..55 bytes of A-Z a-z 0-9 . _ + : -, no leading '-',
 * not dots alone. */
bool xp_extent_name_valid(const char *name);

/* Where a target resolves to. */
enum xp_backend {
	XP_BACKEND_FILE,	/* regular file, via libpmem2 */
	XP_BACKEND_DEVDAX,	/* /dev/daxN.M, via libpmem2 */
	XP_BACKEND_BLOCK,	/* /dev/pmemN, pwrite + fdatasync */
};

const char *xp_backend_name(enum xp_backend b);

struct xp_init_opts {
	uint32_t max_extents;	/* table slots; 0 = default (1024) */
	int32_t per_page;	/* mgmt bytes per 4 KiB page; -1 = 40 */
	uint64_t align;		/* data alignment 4K/2M/1G; 0 = 2 MiB */
	bool force;		/* overwrite existing xenpmem metadata */
	/* Filled in by xp_ns_init(): what --force overrode, "" if nothing. */
	char overridden[256];
};

/* Write a fresh, empty layout on @target. Refuses data unless forced. */
int xp_ns_init(const char *target, struct xp_init_opts *opts);

#define XP_OPEN_WRITE (1u << 0)	/* exclusive lock; allow mutations */

int xp_ns_open(const char *target, unsigned flags, struct xp_ns **nsp);
void xp_ns_close(struct xp_ns *ns);

struct xp_info {
	char target[256];	/* what was opened (resolved path) */
	enum xp_backend backend;
	uint16_t major, minor;
	uint8_t uuid[16];
	uint64_t generation;
	uint64_t ns_size;
	bool phys_known;
	uint64_t phys_base;
	uint64_t table_offset, table_size;
	uint32_t slot_count;
	uint64_t mgmt_offset, mgmt_size;
	uint32_t per_page;
	uint64_t data_offset, data_size;
	uint64_t align;
	uint64_t init_time;	/* ns since the epoch */
	uint32_t extent_count;
	uint64_t used_bytes, free_bytes, largest_free;
	bool primary_ok, backup_ok;	/* superblock copies valid */
};

int xp_ns_get_info(struct xp_ns *ns, struct xp_info *info);

struct xp_extent {
	char name[XP_NAME_MAX + 1];
	uint8_t uuid[16];
	uint32_t slot;
	uint64_t seq;
	uint64_t offset, size;	/* bytes from the namespace start */
	uint64_t align;
	uint64_t label_size;
	uint32_t owner;		/* XP_OWNER_NONE when unassigned */
	bool phys_known;
	uint64_t first_mfn, nr_frames;	/* when phys_known */
	uint64_t badblocks;	/* 512-byte bad sectors inside the extent */
};

/* Extents in offset order. */
uint32_t xp_ns_extent_count(struct xp_ns *ns);
int xp_ns_extent_get(struct xp_ns *ns, uint32_t idx, struct xp_extent *ext);
int xp_ns_extent_find(struct xp_ns *ns, const char *name,
		      struct xp_extent *ext);

/* A free gap of the data area, in offset order; for maps and planning. */
struct xp_gap {
	uint64_t offset, size;
};
uint32_t xp_ns_gap_count(struct xp_ns *ns);
int xp_ns_gap_get(struct xp_ns *ns, uint32_t idx, struct xp_gap *gap);

struct xp_create_opts {
	const char *name;
	uint64_t size;
	uint32_t owner;		/* XP_OWNER_NONE for unassigned */
	uint64_t align;		/* 0 = the namespace's data alignment */
	uint64_t label_size;	/* 0 = none */
};

int xp_extent_create(struct xp_ns *ns, const struct xp_create_opts *opts,
		     struct xp_extent *created);

#define XP_FORCE (1u << 0)

/* An assigned extent needs XP_FORCE. */
int xp_extent_destroy(struct xp_ns *ns, const char *name, unsigned flags);
/* In place: grows into the free space right behind the extent. */
int xp_extent_resize(struct xp_ns *ns, const char *name, uint64_t size);
int xp_extent_rename(struct xp_ns *ns, const char *from, const char *to);
/* @owner XP_OWNER_NONE unassigns. */
int xp_extent_assign(struct xp_ns *ns, const char *name, uint32_t owner);

/* Zero an extent's bytes; @progress (may be NULL) sees done/total. */
typedef void (*xp_progress_fn)(uint64_t done, uint64_t total, void *arg);
int xp_extent_wipe(struct xp_ns *ns, const char *name, xp_progress_fn progress,
		   void *arg);

/* Check: findings are reported one at a time. */
enum xp_severity {
	XP_NOTE,	/* expected after an interrupted update; harmless */
	XP_ERROR,	/* an inconsistency */
	XP_FIXED,	/* repair changed this */
};

struct xp_finding {
	enum xp_severity severity;
	const char *object;	/* "superblock.primary", "slot 12", ... */
	char text[200];
};

typedef void (*xp_finding_fn)(const struct xp_finding *f, void *arg);

#define XP_CHECK_REPAIR (1u << 0)	/* restore from the valid copy */
#define XP_CHECK_FORCE (1u << 1)	/* also clear slots with no valid copy */

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
};

struct xp_pmem_ns {
	char dev[32];		/* ndctl name: namespace0.0 */
	char region[32];	/* region0 */
	char mode[16];		/* raw, fsdax, devdax, sector, unknown */
	uint64_t size;
	bool resource_known;
	uint64_t resource;	/* physical start */
	char node[64];		/* /dev/pmem0, /dev/dax0.0; "" if none */
	bool is_char;		/* device DAX */
	enum xp_meta xenpmem;
	uint32_t extents;	/* when XP_META_OK */
};

/* Calls @fn for each namespace; a non-zero return stops and is returned. */
typedef int (*xp_discover_fn)(const struct xp_pmem_ns *ns, void *arg);
int xp_discover(xp_discover_fn fn, void *arg);

/* Test hook: a badblocks list ("sector count" lines) instead of sysfs. */
int xp_ns_set_badblocks_file(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* XENPMEM_H */
