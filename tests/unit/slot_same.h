/* SPDX-License-Identifier: MIT */
/*
 * Whether two decoded slots are the same, field by field (never the
 * padding): what tests compare open's or a copied decode against a
 * slot's own xp_slot_decode() with (tests/unit/test_format.c,
 * tests/lib/test_index.c).
 */
#ifndef XP_SLOT_SAME_H
#define XP_SLOT_SAME_H

#include <stdbool.h>
#include <string.h>

#include "xp_format.h"

/* Everything a decode sets in a record. */
static inline bool rec_same(const struct xp_rec *a, const struct xp_rec *b)
{
	return a->seq == b->seq && a->type == b->type &&
	       a->align_shift == b->align_shift && a->flags == b->flags &&
	       a->offset == b->offset && a->size == b->size &&
	       a->label_size == b->label_size &&
	       !memcmp(a->uuid, b->uuid, sizeof(a->uuid)) &&
	       !memcmp(a->owner, b->owner, sizeof(a->owner)) &&
	       !memcmp(a->name, b->name, sizeof(a->name));
}

static inline bool slot_same(const struct xp_slot *a, const struct xp_slot *b)
{
	return a->state == b->state && a->active == b->active &&
	       rec_same(&a->rec, &b->rec) &&
	       a->copy_status[0] == b->copy_status[0] &&
	       a->copy_status[1] == b->copy_status[1] &&
	       a->copy_field[0] == b->copy_field[0] &&
	       a->copy_field[1] == b->copy_field[1] &&
	       a->stale_damaged == b->stale_damaged &&
	       a->mixed_tags == b->mixed_tags &&
	       !memcmp(a->tag_mask, b->tag_mask, sizeof(a->tag_mask)) &&
	       a->fallback == b->fallback;
}

#endif /* XP_SLOT_SAME_H */
