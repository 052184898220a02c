/* SPDX-License-Identifier: MIT */
/*
 * The model hypervisor's side of the socket protocol, beyond
 * hv/xphv_abi.h, and the frame-table records it keeps in the management
 * area. Shared by xenpmem-modelhv and libxenpmem's model backend
 * (src/lib/hv.c); the tests decode the records from the file's bytes.
 *
 * The socket carries struct xphv_abi_op in host byte order: one request,
 * then (META_WRITE only) meta.len bytes of payload; one reply, the same
 * structure with `reply` filled, then
 *   QUERY:      query.nr    x struct xphv_abi_region
 *   META_READ:  meta.len    bytes (when reply.err is 0)
 *   MODEL_P2M:  reply.a     x struct xphv_abi_p2m_entry (when err is 0)
 * Requests on one connection are answered in order. A request is acted on
 * only once it has arrived whole, and one at a time, so a client that dies
 * mid-request leaves nothing behind; once acted on it stands even when
 * the reply cannot be delivered (as a hypercall does when its caller is
 * killed on the way back).
 */
#ifndef XP_MODELHV_H
#define XP_MODELHV_H

#include <stdint.h>

#include "xphv_abi.h"

/*
 * Model only, not in hv/xphv_abi.h yet: which domain has handle
 * dom.uuid (IN); dom.domid OUT. Dom0 on Xen asks xenstore instead; the
 * model's domains exist only in the model.
 */
#define MODELHV_CMD_DOMAIN_FIND XPHV_CMD_MODEL_DOMAIN_FIND

/* Most regions one QUERY reply carries (the caller pages with start). */
#define MODELHV_QUERY_MAX (XPHV_META_MAX / sizeof(struct xphv_abi_region))

/*
 * The model's struct page_info, 32 bytes, little-endian, in the frame
 * table the hv library planned in the management area: the record of
 * frame mfn sits where xphv_ft_slot() says (chunk k of the frame-table
 * sub-array holds the records of pdx [k' * 65536, (k' + 1) * 65536) for
 * the virtual chunk k' it backs, 32 bytes each). Like Xen's, the records
 * are the hypervisor's volatile state kept on the namespace: they are
 * written with plain stores and meaningless after a restart, which
 * initialises each chunk again when it is first needed.
 */
struct modelhv_page_info {
	uint64_t count_info;	/* MODELHV_PGC_* | reference count */
	uint16_t owner;		/* domid; MODELHV_DOMID_INVALID when free */
	uint16_t pad[3];	/* zero */
	uint64_t mfn;		/* the frame described: a misplaced record
				 * shows */
	uint64_t gfn;		/* where it is mapped; MODELHV_GFN_INVALID */
};
_Static_assert(sizeof(struct modelhv_page_info) == 32, "page_info");

#define MODELHV_PGC_ALLOCATED (1ull << 63)	/* owned by a domain */
#define MODELHV_PGC_PMEM (1ull << 62)		/* pmem data frame */
#define MODELHV_PGC_FREE (1ull << 61)		/* PGC_state_free */
#define MODELHV_PGC_INUSE (1ull << 60)		/* PGC_state_inuse */
#define MODELHV_PGC_HEAP (1ull << 59)		/* lent RAM (the heap's) */
#define MODELHV_PGC_COUNT_MASK 0xffffffffull	/* references */

#define MODELHV_DOMID_INVALID 0x7ff4u		/* Xen's DOMID_INVALID */
#define MODELHV_GFN_INVALID (~0ull)

#endif /* XP_MODELHV_H */
