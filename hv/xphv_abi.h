/* SPDX-License-Identifier: MIT */
/*
 * The xenpmem hypervisor ABI, version 1 (docs/hypervisor-abi.md).
 *
 * One request structure for every command, fixed size, naturally aligned,
 * explicit padding; every reserved field and unknown flag must be zero or
 * the request is refused with XPHV_R_ABI. The hypervisor answers in the
 * same structure: `reply` says what was done or exactly which check
 * failed (enum xphv_reason, hv/xphv.h).
 *
 * Under Xen the structure is the argument of a sysctl (register, query,
 * unregister, metadata access) or memory op (map, unmap), and `buf` is a
 * guest handle. Over the model hypervisor's socket the request is followed
 * by `len` bytes of payload for META_WRITE, and the reply by the bytes of
 * QUERY and META_READ; `buf` is ignored there.
 */
#ifndef XPHV_ABI_H
#define XPHV_ABI_H

#include <stdint.h>

#define XPHV_ABI_VERSION 1u
#define XPHV_ABI_MAGIC 0x56485058u	/* "XPHV" */

enum xphv_cmd {
	XPHV_CMD_REGISTER = 1,
	XPHV_CMD_QUERY = 2,
	XPHV_CMD_UNREGISTER = 3,
	XPHV_CMD_MAP = 4,
	XPHV_CMD_UNMAP = 5,
	XPHV_CMD_META_READ = 6,
	XPHV_CMD_META_WRITE = 7,
	/* The model hypervisor only: stand-ins for the toolstack's domains. */
	XPHV_CMD_MODEL_DOMAIN_CREATE = 0x100,
	XPHV_CMD_MODEL_DOMAIN_DESTROY = 0x101,
	XPHV_CMD_MODEL_P2M = 0x102,	/* a domain's p2m entries: count in
					 * reply.a, entries follow */
	XPHV_CMD_MODEL_DOMAIN_FIND = 0x103, /* domid of a domain UUID */
};

#define XPHV_F_DRY_RUN (1u << 0)	/* register: validate only */
#define XPHV_F_PV32 (1u << 1)		/* register (model only): 32-bit PV
					 * guests on; Xen uses its own
					 * opt_pv32 and ignores it */

struct xphv_abi_reply {			/* 32 bytes */
	int32_t err;			/* 0 or -errno */
	uint32_t reason;		/* enum xphv_reason */
	uint32_t slot;			/* XPHV_NO_SLOT when none */
	uint32_t rsvd;
	uint64_t a, b;
};

struct xphv_abi_register {		/* 88 bytes */
	uint64_t spa_start, spa_len;	/* IN: bytes, page aligned */
	uint8_t ns_uuid[16];		/* IN: expected namespace UUID */
	uint64_t generation;		/* IN: expected generation, 0 = any */
	uint32_t pxm;			/* IN: proximity domain (hint) */
	uint32_t rsvd;
	uint32_t ns_id;			/* OUT */
	uint32_t nextents;		/* OUT: extents validated */
	uint64_t data_start_mfn;	/* OUT: data area [start, end) */
	uint64_t data_end_mfn;
	uint64_t mgmt_used;		/* OUT: management frames in use */
	uint64_t ram_frames;		/* OUT: frames lent as RAM */
};

struct xphv_abi_region {		/* 40 bytes */
	uint64_t start_mfn, end_mfn;
	uint32_t type;			/* enum xphv_region_type */
	uint32_t ns_id;
	uint8_t ns_uuid[16];
};

struct xphv_abi_query {			/* 24 bytes */
	uint32_t start;			/* IN: first region index */
	uint32_t nr;			/* IN: capacity; OUT: returned */
	uint32_t total;			/* OUT: regions registered */
	uint32_t rsvd;
	uint64_t buf;			/* IN: handle to nr regions */
};

struct xphv_abi_ns {			/* 24 bytes: unregister */
	uint8_t ns_uuid[16];
	uint64_t rsvd;
};

struct xphv_abi_map {			/* 72 bytes: map, unmap */
	uint8_t ns_uuid[16];		/* IN */
	uint8_t extent_uuid[16];	/* IN */
	uint16_t domid;			/* IN */
	uint16_t rsvd0[3];
	uint64_t gfn;			/* IN (map) / OUT (unmap) */
	uint64_t mfn;			/* OUT: first frame mapped */
	uint64_t nr;			/* OUT: frames mapped */
	uint64_t superpages;		/* OUT: 2 MiB entries used */
};

struct xphv_abi_meta {			/* 48 bytes: metadata read, write */
	uint8_t ns_uuid[16];		/* IN */
	uint64_t offset;		/* IN: namespace offset */
	uint32_t len;			/* IN: bytes */
	uint32_t slot;			/* IN (write): slot */
	uint32_t copy;			/* IN (write): copy 0 or 1 */
	uint32_t rsvd;
	uint64_t buf;			/* IN: handle to len bytes */
};

struct xphv_abi_domain {		/* 24 bytes: model only */
	uint16_t domid;
	uint16_t rsvd0[3];
	uint8_t uuid[16];
};

struct xphv_abi_p2m_entry {		/* 24 bytes: model only */
	uint64_t gfn, mfn;
	uint32_t order;
	uint32_t rsvd;
};

struct xphv_abi_op {			/* 160 bytes */
	uint32_t magic;			/* XPHV_ABI_MAGIC */
	uint32_t version;		/* XPHV_ABI_VERSION */
	uint32_t cmd;			/* enum xphv_cmd */
	uint32_t flags;			/* XPHV_F_*, per command */
	struct xphv_abi_reply reply;	/* OUT */
	union {
		struct xphv_abi_register reg;
		struct xphv_abi_query query;
		struct xphv_abi_ns ns;
		struct xphv_abi_map map;
		struct xphv_abi_meta meta;
		struct xphv_abi_domain dom;
		uint8_t pad[112];
	} u;
};

_Static_assert(sizeof(struct xphv_abi_reply) == 32, "abi reply");
_Static_assert(sizeof(struct xphv_abi_register) == 88, "abi register");
_Static_assert(sizeof(struct xphv_abi_region) == 40, "abi region");
_Static_assert(sizeof(struct xphv_abi_query) == 24, "abi query");
_Static_assert(sizeof(struct xphv_abi_map) == 72, "abi map");
_Static_assert(sizeof(struct xphv_abi_meta) == 48, "abi meta");
_Static_assert(sizeof(struct xphv_abi_domain) == 24, "abi domain");
_Static_assert(sizeof(struct xphv_abi_op) == 160, "abi op");

/*
 * Under Xen (xen/patches/): REGISTER, QUERY, UNREGISTER, META_READ and
 * META_WRITE are the sysctl XPHV_XEN_SYSCTL (Dom0 only), whose union
 * member is struct xphv_xen_sysctl: a guest handle to the request.
 * MAP and UNMAP are the memory op XPHV_XEN_MEMOP (below MEMOP_CMD_MASK),
 * whose argument is a guest handle to the request. A Xen without the
 * patches answers the sysctl with -ENOSYS.
 */
#define XPHV_XEN_SYSCTL 0x7870u		/* "xp" */
#define XPHV_XEN_MEMOP 58u

struct xphv_xen_sysctl {		/* in xen_sysctl.u */
	uint64_t op;			/* handle to struct xphv_abi_op */
};

/* Largest META_READ/META_WRITE payload in one request. */
#define XPHV_META_MAX (64u * 1024u)

#endif /* XPHV_ABI_H */
