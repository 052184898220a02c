/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: xp_slot_decode() and xp_table_check() over a valid
 * superblock (solved from the input's header) and arbitrary table bytes.
 * Every USED slot must describe an extent inside the data area, aligned
 * physically, with a valid name/owner/label; xp_table_check() must agree
 * with a brute-force check; and an update written where
 * xp_slot_next_copy() says must win.
 */
#include "fuzz_common.h"

#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SLOTS 4096u
#define BRUTE_MAX 512u

static struct xp_slot slots[MAX_SLOTS];
static uint32_t scratch[MAX_SLOTS];
static uint8_t table[MAX_SLOTS * XP_SLOT_SIZE];

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_used(const struct xp_sb *sb, uint32_t i,
		       const struct xp_rec *r)
{
	uint64_t end, a, data_end = sb->data_offset + sb->data_size;
	size_t n;

	FZ_ASSERT(r->flags == XP_REC_F_USED, "slot %u flags %#x", i, r->flags);
	FZ_ASSERT(r->seq != 0, "slot %u seq 0", i);
	FZ_ASSERT(xp_align_shift_ok(r->align_shift), "slot %u align %u", i,
		  r->align_shift);
	a = 1ull << r->align_shift;
	FZ_ASSERT(r->size > 0 && r->size % a == 0, "slot %u size", i);
	FZ_ASSERT(r->offset >= sb->data_offset, "slot %u below data", i);
	FZ_ASSERT(!__builtin_add_overflow(r->offset, r->size, &end) &&
		  end <= data_end, "slot %u past data end", i);
	FZ_ASSERT((sb->phys_base + r->offset) % a == 0,
		  "slot %u not physically aligned", i);
	FZ_ASSERT(r->owner == XP_OWNER_NONE || r->owner < XP_DOMID_LIMIT,
		  "slot %u owner %u", i, r->owner);
	FZ_ASSERT(r->label_size % XP_PAGE_SIZE == 0 && r->label_size < r->size,
		  "slot %u label", i);
	FZ_ASSERT(!zero(r->uuid, 16), "slot %u zero uuid", i);
	n = strnlen(r->name, sizeof(r->name));
	FZ_ASSERT(n >= 1 && n <= XP_NAME_MAX && r->name[0] != '-',
		  "slot %u name length %zu", i, n);
	FZ_ASSERT(xp_name_valid(r->name, sizeof(r->name)), "slot %u name", i);
}

static int brute(const struct xp_slot *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++) {
			const struct xp_rec *p = &s[i].rec, *q = &s[j].rec;

			if (s[i].state != XP_SLOT_USED ||
			    s[j].state != XP_SLOT_USED)
				continue;
			if (p->offset < q->offset + q->size &&
			    q->offset < p->offset + p->size)
				return 1;
			if (!strcmp(p->name, q->name))
				return 2;
			if (!memcmp(p->uuid, q->uuid, 16))
				return 3;
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xp_sb sb;
	uint32_t n, a, b;
	const char *why;
	enum xp_fmt_status st;
	uint8_t flags;

	if (size < FZ_SLOT_HDR)
		return 0;
	fz_slot_sb(data, &sb);
	flags = data[2];
	n = (uint32_t)((size - FZ_SLOT_HDR) / XP_SLOT_SIZE);
	if (n > sb.slot_count)
		n = sb.slot_count;
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	memcpy(table, data + FZ_SLOT_HDR, (size_t)n * XP_SLOT_SIZE);
	if (flags & FZ_SLOT_FIXSUM)
		fz_fix_recs(sb.ns_uuid, table, n);

	for (uint32_t i = 0; i < n; i++) {
		struct xp_slot *s = &slots[i];
		const uint8_t *raw = table + (size_t)i * XP_SLOT_SIZE;

		memset(s, 0x5a, sizeof(*s));
		xp_slot_decode(&sb, i, raw, s);
		switch (s->state) {
		case XP_SLOT_CORRUPT:
			FZ_ASSERT(s->active == -1, "slot %u CORRUPT active", i);
			break;
		case XP_SLOT_FREE:
			FZ_ASSERT(s->active == 0 || s->active == 1, "active");
			FZ_ASSERT(s->copy_status[s->active] == XP_OK, "status");
			FZ_ASSERT(!xp_rec_used(&s->rec) && s->rec.flags == 0 &&
				  s->rec.seq != 0, "slot %u FREE record", i);
			break;
		case XP_SLOT_USED:
			FZ_ASSERT(s->active == 0 || s->active == 1, "active");
			FZ_ASSERT(s->copy_status[s->active] == XP_OK, "status");
			check_used(&sb, i, &s->rec);
			break;
		default:
			FZ_ASSERT(0, "slot %u state %d", i, (int)s->state);
		}
		if (s->active >= 0 && s->copy_status[!s->active] == XP_OK) {
			/* both valid: the active one has the higher seq */
			struct xp_rec other;
			const char *f;

			FZ_ASSERT(xp_rec_decode(&sb, i, raw + (!s->active) *
						XP_REC_SIZE, &other, &f) == XP_OK,
				  "redecode");
			FZ_ASSERT(other.seq < s->rec.seq, "slot %u older wins", i);
		}

		/*
		 * The update protocol: write a free record where next_copy
		 * says; it must be what the slot holds afterwards. CORRUPT
		 * slots take no update at all.
		 */
		if (s->state == XP_SLOT_CORRUPT) {
			uint64_t seq;

			FZ_ASSERT(xp_slot_next_copy(s, &seq) == -1,
				  "slot %u: corrupt slot takes an update", i);
		} else {
			uint8_t upd[XP_SLOT_SIZE];
			struct xp_rec fr;
			struct xp_slot d;
			uint64_t seq = 0;
			int c = xp_slot_next_copy(s, &seq);

			if (c >= 0) {
				FZ_ASSERT(c == 0 || c == 1, "copy %d", c);
				memcpy(upd, raw, sizeof(upd));
				memset(&fr, 0, sizeof(fr));
				fr.seq = seq;
				xp_rec_encode(&sb, i, &fr, upd + c * XP_REC_SIZE);
				xp_slot_decode(&sb, i, upd, &d);
				FZ_ASSERT(d.state == XP_SLOT_FREE && d.active == c &&
					  d.rec.seq == seq,
					  "slot %u: update to copy %d seq %llu lost (state %d active %d)",
					  i, c, (unsigned long long)seq,
					  (int)d.state, d.active);
			} else {
				FZ_ASSERT(s->active >= 0 && s->rec.seq == UINT64_MAX,
					  "next_copy refused");
			}
		}
	}

	st = xp_table_check(slots, n, scratch, &a, &b, &why);
	if (st == XP_OK) {
		FZ_ASSERT(why == NULL, "OK with why");
		if (n <= BRUTE_MAX)
			FZ_ASSERT(brute(slots, n) == 0, "table_check missed %d",
				  brute(slots, n));
	} else {
		const struct xp_rec *p, *q;

		FZ_ASSERT(st == XP_E_LAYOUT && why, "status %d", (int)st);
		FZ_ASSERT(a < n && b < n && a != b, "pair %u %u", a, b);
		FZ_ASSERT(slots[a].state == XP_SLOT_USED &&
			  slots[b].state == XP_SLOT_USED, "pair not used");
		p = &slots[a].rec;
		q = &slots[b].rec;
		if (!strcmp(why, "extents overlap"))
			FZ_ASSERT(p->offset < q->offset + q->size &&
				  q->offset < p->offset + p->size, "no overlap");
		else if (!strcmp(why, "duplicate name"))
			FZ_ASSERT(!strcmp(p->name, q->name), "names differ");
		else if (!strcmp(why, "duplicate uuid"))
			FZ_ASSERT(!memcmp(p->uuid, q->uuid, 16), "uuids differ");
		else
			FZ_ASSERT(0, "unknown why '%s'", why);
	}
	return 0;
}
