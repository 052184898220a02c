/* SPDX-License-Identifier: MIT */
/* Internals shared by the hv library's files. Not an interface. */
#ifndef XPHV_PRIV_H
#define XPHV_PRIV_H

#include "xphv.h"
#include "xp_overflow.h"

#define XPHV_FRAMES_PER_CHUNK(ns) (1ull << ((ns)->geom.chunk_shift - XP_PAGE_SHIFT))

static inline int xphv_refuse(struct xphv_refusal *why, uint32_t reason,
			      uint32_t slot, uint64_t a, uint64_t b)
{
	if (why) {
		why->reason = reason;
		why->slot = slot;
		why->a = a;
		why->b = b;
	}
	return -1;
}

static inline void xphv_ok(struct xphv_refusal *why)
{
	(void)xphv_refuse(why, XPHV_OK, XPHV_NO_SLOT, 0, 0);
}

static inline bool xphv_bytes_equal(const void *a, const void *b, uint64_t n)
{
	const uint8_t *x = a, *y = b;

	for (uint64_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static inline void xphv_bytes_copy(void *dst, const void *src, uint64_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (uint64_t i = 0; i < n; i++)
		d[i] = s[i];
}

static inline void xphv_bytes_zero(void *dst, uint64_t n)
{
	uint8_t *d = dst;

	for (uint64_t i = 0; i < n; i++)
		d[i] = 0;
}

/* Do [a, a + an) and [b, b + bn) intersect? (no overflow: callers pass
 * validated ranges below XP_PHYS_LIMIT) */
static inline bool xphv_overlap(uint64_t a, uint64_t an, uint64_t b,
				uint64_t bn)
{
	return an && bn && a < b + bn && b < a + an;
}

/* The data frames of an extent: its label area excluded. */
static inline uint64_t xphv_ext_mfn(const struct xphv_ns *ns,
				    const struct xphv_extent *e)
{
	return (ns->phys_start + e->offset) >> XP_PAGE_SHIFT;
}

static inline uint64_t xphv_ext_frames(const struct xphv_extent *e)
{
	return (e->size - e->label_size) >> XP_PAGE_SHIFT;
}

uint64_t xphv_pdx(const struct xphv_ns *ns, uint64_t mfn);

/* Check one decoded record of @slot as an extent of @ns (bounds, physical
 * alignment, label area, lent alignment). */
int xphv_check_rec(const struct xphv_ns *ns, uint32_t slot,
		   const struct xp_rec *rec, struct xphv_refusal *why);

/* Fill @e from @rec (slot @slot), not mapped. */
void xphv_ext_from_rec(struct xphv_extent *e, uint32_t slot,
		       const struct xp_rec *rec);

/* The cached extent of @slot, or NULL. */
struct xphv_extent *xphv_ext_by_slot(struct xphv_ns *ns, uint32_t slot);

/* Does @rec (for @slot) collide with another cached extent of @ns:
 * overlap, same uuid or same name? */
int xphv_check_against(const struct xphv_ns *ns, uint32_t slot,
		       const struct xp_rec *rec, struct xphv_refusal *why);

/* Re-read the whole table into the cache (a Dom0 that still reaches the
 * media changed it); keeps what the mapping list says. */
int xphv_refresh(struct xphv_ns *ns, const struct xphv_registry *r,
		 struct xphv_refusal *why);

/* Read and decode slot @slot from the media. */
int xphv_read_slot(const struct xphv_ns *ns, uint32_t slot,
		   struct xp_slot *s, struct xphv_refusal *why);

#endif /* XPHV_PRIV_H */
