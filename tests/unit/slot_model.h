/* SPDX-License-Identifier: MIT */
/*
 * A reference model of docs/format.md, "Picking a slot's state", written
 * out again from the document: the oracle the unit tests and the slot
 * fuzzer compare xp_slot_decode() with. Record copies are classified by
 * xp_rec_decode() (tested on its own).
 */
#ifndef XP_SLOT_MODEL_H
#define XP_SLOT_MODEL_H

#include <stdbool.h>
#include <string.h>

#include "xp_format.h"

struct ref_slot {
	enum xp_slot_state state;
	int active, fallback;
	bool stale;
	struct xp_rec rec[2];
	enum xp_fmt_status st[2];
};

static inline struct ref_slot ref_slot_decode(const struct xp_sb *sb,
					      uint32_t slot,
					      const uint8_t *raw)
{
	struct ref_slot r;
	const char *f;
	int x, y;
	bool newer;

	memset(&r, 0, sizeof(r));
	r.state = XP_SLOT_CORRUPT;
	r.active = r.fallback = -1;
	for (int c = 0; c < 2; c++)
		r.st[c] = xp_rec_decode(sb, slot, raw + c * XP_REC_SIZE,
					&r.rec[c], &f);
	if (r.st[0] == XP_OK && r.st[1] == XP_OK) {
		if (r.rec[0].seq == r.rec[1].seq)
			return r;
		r.active = r.rec[1].seq > r.rec[0].seq;
	} else if (r.st[0] == XP_OK || r.st[1] == XP_OK) {
		x = r.st[0] == XP_OK ? 0 : 1;
		y = !x;
		if (r.st[y] == XP_E_BLANK || r.st[y] == XP_E_TORN) {
			r.active = x;
		} else {
			if (r.st[y] == XP_E_CHECKSUM)
				newer = (uint8_t)(raw[y * XP_REC_SIZE + 7] -
						  (uint8_t)r.rec[x].seq) < 128;
			else
				newer = r.rec[y].seq >= r.rec[x].seq;
			if (newer) {
				r.fallback = x;
				return r;
			}
			r.active = x;
			r.stale = true;
		}
	} else {
		return r;
	}
	r.state = r.rec[r.active].type ? XP_SLOT_USED : XP_SLOT_FREE;
	return r;
}

#endif /* XP_SLOT_MODEL_H */
