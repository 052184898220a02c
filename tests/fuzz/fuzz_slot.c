/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: xp_slot_decode(), the update protocol and the table
 * rules (format 2.0) over a valid superblock (solved from the input's
 * header) and arbitrary table bytes.
 *
 * Every slot's decode must equal the rules of "Picking a slot's state",
 * written out again here; a USED slot describes a valid extent inside the
 * data area, physically aligned; the tag masks are the tags on the media.
 * An update written where xp_slot_next_copy() says must win, every tear of
 * it over a whole (or blank) copy must read as the old or the new record,
 * and its seq must avoid every tag of the copy it overwrites. One changed
 * byte in the current copy never rolls the slot back; one in the other
 * copy never makes it current. xp_table_violations() reports exactly the
 * slots a brute-force check finds in each rule, and only real pairs.
 */
#include "../unit/slot_model.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SLOTS 4096u
#define BRUTE_MAX 512u

static struct xp_slot slots[MAX_SLOTS];
static uint32_t scratch[MAX_SLOTS];
static uint8_t table[MAX_SLOTS * XP_SLOT_SIZE];
static uint64_t seed;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static bool rec_equal(const struct xp_rec *a, const struct xp_rec *b)
{
	return a->seq == b->seq && a->type == b->type &&
	       a->align_shift == b->align_shift && a->flags == b->flags &&
	       a->offset == b->offset && a->size == b->size &&
	       a->label_size == b->label_size &&
	       !memcmp(a->uuid, b->uuid, 16) &&
	       !memcmp(a->owner, b->owner, 16) && !strcmp(a->name, b->name);
}

static bool tag_on(const uint8_t *copy, uint8_t t)
{
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (copy[k * 8 + 7] == t)
			return true;
	return false;
}

/* Every tag of the copy is its seq's, as the protocol writes it. */
static bool tagged(const uint8_t *copy, uint64_t seq)
{
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (copy[k * 8 + 7] != xp_rec_tag(seq))
			return false;
	return true;
}

static void check_used(const struct xp_sb *sb, uint32_t i,
		       const struct xp_rec *r)
{
	uint64_t end, a, data_end = sb->data_offset + sb->data_size;
	size_t n;

	FZ_ASSERT(r->type == XP_REC_DATA || r->type == XP_REC_LENT_RAM,
		  "slot %u type %u", i, r->type);
	FZ_ASSERT(r->flags == 0, "slot %u flags %#x", i, r->flags);
	FZ_ASSERT(r->seq != 0, "slot %u seq 0", i);
	FZ_ASSERT(r->align_shift == 21 || r->align_shift == 30,
		  "slot %u align %u", i, r->align_shift);
	a = 1ull << r->align_shift;
	FZ_ASSERT(r->size > 0 && r->size % a == 0, "slot %u size", i);
	FZ_ASSERT(r->offset >= sb->data_offset, "slot %u below data", i);
	FZ_ASSERT(!__builtin_add_overflow(r->offset, r->size, &end) &&
		  end <= data_end, "slot %u past data end", i);
	FZ_ASSERT((sb->phys_base + r->offset) % a == 0,
		  "slot %u not physically aligned", i);
	FZ_ASSERT(r->label_size % XP_PAGE_SIZE == 0 && r->label_size < r->size,
		  "slot %u label", i);
	FZ_ASSERT(!fz_zero(r->uuid, 16), "slot %u zero uuid", i);
	FZ_ASSERT(r->type != XP_REC_LENT_RAM || fz_zero(r->owner, 16),
		  "slot %u lent as RAM with an owner", i);
	n = strnlen(r->name, sizeof(r->name));
	FZ_ASSERT(n >= 1 && n <= XP_NAME_MAX && r->name[0] != '-',
		  "slot %u name length %zu", i, n);
	FZ_ASSERT(xp_name_valid(r->name, sizeof(r->name)), "slot %u name", i);
}

static void check_decode(const struct xp_sb *sb, uint32_t i,
			 const uint8_t *raw, const struct xp_slot *s)
{
	struct ref_slot r = ref_slot_decode(sb, i, raw);

	FZ_ASSERT(s->state == r.state && s->active == r.active &&
		  s->fallback == r.fallback &&
		  s->copy_status[0] == r.st[0] && s->copy_status[1] == r.st[1],
		  "slot %u: state %d/%d active %d/%d fallback %d/%d status %d,%d/%d,%d (decode/rules)",
		  i, s->state, r.state, s->active, r.active, s->fallback,
		  r.fallback, s->copy_status[0], s->copy_status[1], r.st[0],
		  r.st[1]);
	if (r.active >= 0) {
		FZ_ASSERT(s->stale_damaged == r.stale, "slot %u stale", i);
		FZ_ASSERT(rec_equal(&s->rec, &r.rec[r.active]), "slot %u rec", i);
	}
	if (r.fallback >= 0)
		FZ_ASSERT(rec_equal(&s->fallback_rec, &r.rec[r.fallback]),
			  "slot %u fallback rec", i);
	for (int c = 0; c < 2; c++) {
		uint32_t m[8] = {0, 0, 0, 0, 0, 0, 0, 0};

		for (uint32_t k = 0; k < XP_REC_WORDS; k++) {
			uint8_t t = raw[c * XP_REC_SIZE + k * 8 + 7];

			m[t / 32] |= 1u << (t % 32);
		}
		FZ_ASSERT(!memcmp(m, s->tag_mask[c], sizeof(m)),
			  "slot %u copy %d tag mask", i, c);
	}
}

/*
 * The update protocol on slot @i: the copy and seq next_copy picks, the
 * update winning whole, and tears of it reading as old or new.
 */
static void check_update(const struct xp_sb *sb, uint32_t i,
			 const uint8_t *raw, const struct xp_slot *s)
{
	uint8_t upd[XP_SLOT_SIZE], nc[XP_REC_SIZE];
	struct xp_rec want, o;
	struct xp_slot d;
	const char *f;
	uint64_t seq = 0;
	int c = xp_slot_next_copy(s, &seq), x = s->active;
	enum xp_fmt_status tst;

	if (x < 0) {
		FZ_ASSERT(c == -1, "slot %u: corrupt slot takes an update", i);
		return;
	}
	if (c < 0) {
		FZ_ASSERT(s->rec.seq > UINT64_MAX - (XP_REC_WORDS + 1),
			  "slot %u: next_copy refused", i);
		return;
	}
	FZ_ASSERT(c == !x, "slot %u: update to the current copy", i);
	FZ_ASSERT(seq > s->rec.seq && seq - s->rec.seq <= XP_REC_WORDS + 1,
		  "slot %u: seq %llu after %llu", i, (unsigned long long)seq,
		  (unsigned long long)s->rec.seq);
	FZ_ASSERT(!tag_on(raw + c * XP_REC_SIZE, xp_rec_tag(seq)),
		  "slot %u: seq %llu's tag is on the target copy", i,
		  (unsigned long long)seq);
	for (uint64_t q = s->rec.seq + 1; q < seq; q++)
		FZ_ASSERT(tag_on(raw + c * XP_REC_SIZE, xp_rec_tag(q)),
			  "slot %u: seq %llu skipped", i, (unsigned long long)q);

	/* a free record, or the current record again (only seq differs) */
	if (mix(seed ^ i) & 1) {
		want = s->rec;
	} else {
		memset(&want, 0, sizeof(want));
	}
	want.seq = seq;
	xp_rec_encode(sb, i, &want, nc);
	memcpy(upd, raw, sizeof(upd));
	memcpy(upd + c * XP_REC_SIZE, nc, XP_REC_SIZE);
	xp_slot_decode(sb, i, upd, &d);
	FZ_ASSERT(d.active == c && d.rec.seq == seq && rec_equal(&d.rec, &want),
		  "slot %u: update to copy %d seq %llu lost (state %d active %d)",
		  i, c, (unsigned long long)seq, (int)d.state, d.active);

	/*
	 * Tears over a whole copy or a blank one. (Over a torn leftover, the
	 * new words can complete the interrupted update: not asserted here;
	 * over a damaged copy with a seq 128 or more away, which no update
	 * sequence leaves, neither.)
	 */
	tst = xp_rec_decode(sb, i, raw + c * XP_REC_SIZE, &o, &f);
	if (tst != XP_OK && tst != XP_E_BLANK)
		return;
	for (int t = 0; t < 6; t++) {
		uint32_t mask = (uint32_t)mix(seed + (uint64_t)i * 7 + t) & 0xffff;
		bool is_old, is_new;

		memcpy(upd, raw, sizeof(upd));
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			if (mask >> k & 1)
				memcpy(upd + c * XP_REC_SIZE + k * 8, nc + k * 8, 8);
		xp_slot_decode(sb, i, upd, &d);
		is_old = d.active == x && rec_equal(&d.rec, &s->rec);
		is_new = d.active == c && rec_equal(&d.rec, &want);
		FZ_ASSERT(is_old || is_new,
			  "slot %u: tear %#x of seq %llu: state %d active %d", i,
			  mask, (unsigned long long)seq, (int)d.state, d.active);
	}
}

/* One changed byte in either copy of a slot with a current copy. */
static void check_damage(const struct xp_sb *sb, uint32_t i,
			 const uint8_t *raw, const struct xp_slot *s)
{
	uint8_t upd[XP_SLOT_SIZE];
	const int x = s->active, y = !x;
	struct xp_slot d;
	enum xp_fmt_status yst;
	bool close;

	if (x < 0)
		return;
	yst = s->copy_status[y];
	for (int t = 0; t < 3; t++) {
		uint64_t h = mix(seed * 31 + (uint64_t)i * 3 + t);
		size_t pos = h % XP_REC_SIZE;
		uint8_t v = (uint8_t)((h >> 8) | 1);
		struct xp_rec other;
		const char *f;
		bool other_ok;

		/* the current copy */
		memcpy(upd, raw, sizeof(upd));
		upd[x * XP_REC_SIZE + pos] ^= v;
		xp_slot_decode(sb, i, upd, &d);
		other_ok = xp_rec_decode(sb, i, raw + y * XP_REC_SIZE, &other,
					 &f) == XP_OK;
		/*
		 * The protocol keeps the two copies' seqs under 128 apart
		 * and tags a copy with its seq. A current copy with mixed
		 * tags (a torn update that completed by coincidence, or a
		 * damaged tag) reads as torn once a payload byte is damaged,
		 * and the slot rolls back: a known gap of the single-fence
		 * write, not asserted; nor are tags that are not the seq's.
		 */
		close = !other_ok || s->rec.seq - other.seq < 128;
		if (pos % 8 == 7) {
			FZ_ASSERT(d.active == x && rec_equal(&d.rec, &s->rec),
				  "slot %u: a tag byte of the current copy changed it",
				  i);
		} else if (close && tagged(raw + x * XP_REC_SIZE, s->rec.seq)) {
			FZ_ASSERT(d.state == XP_SLOT_CORRUPT &&
					  d.fallback == (other_ok ? y : -1),
				  "slot %u: byte %zu of the current copy: state %d active %d fallback %d",
				  i, pos, (int)d.state, d.active, d.fallback);
		}

		/*
		 * The other copy never becomes current, unless it was torn
		 * (one byte can complete an interrupted update) or damaged
		 * with an unknown seq (one byte can undo the damage).
		 */
		memcpy(upd, raw, sizeof(upd));
		upd[y * XP_REC_SIZE + pos] ^= v;
		xp_slot_decode(sb, i, upd, &d);
		if (other_ok ? !close : (yst == XP_E_TORN || yst == XP_E_CHECKSUM))
			continue;
		FZ_ASSERT(d.active != y,
			  "slot %u: byte %zu of the other copy made it current",
			  i, pos);
		FZ_ASSERT(d.state != XP_SLOT_CORRUPT || d.fallback == x,
			  "slot %u: byte %zu of the other copy: fallback %d", i,
			  pos, d.fallback);
		if (other_ok && tagged(raw + y * XP_REC_SIZE, other.seq))
			FZ_ASSERT(d.active == x && rec_equal(&d.rec, &s->rec),
				  "slot %u: byte %zu of the older copy: state %d active %d",
				  i, pos, (int)d.state, d.active);
	}
}

/* Reported pairs: each must break the rule it names. */
struct vio {
	uint32_t calls, n;
	bool seen[3][MAX_SLOTS];
};

static void note_vio(uint32_t a, uint32_t b, const char *rule, void *arg)
{
	static const char *const names[3] = {"extents overlap",
					     "duplicate name", "duplicate uuid"};
	struct vio *v = arg;
	int k = -1;

	v->calls++;
	for (int r = 0; r < 3; r++)
		if (!strcmp(rule, names[r]))
			k = r;
	FZ_ASSERT(k >= 0 && a < v->n && b < v->n && a != b,
		  "pair %u,%u (%s)", a, b, rule);
	FZ_ASSERT(slots[a].state == XP_SLOT_USED &&
		  slots[b].state == XP_SLOT_USED, "pair %u,%u not used", a, b);
	FZ_ASSERT(fz_rules(&slots[a].rec, &slots[b].rec) & (1 << k),
		  "pair %u,%u: %s is not true", a, b, rule);
	v->seen[k][a] = v->seen[k][b] = true;
}

/* Every slot that breaks a rule with any other is reported for it. */
static void check_table(uint32_t n)
{
	static bool want[3][MAX_SLOTS];
	static struct vio v;
	uint32_t pairs, a, b;
	bool any = false;
	const char *why;
	enum xp_fmt_status st;

	memset(&v, 0, sizeof(v));
	v.n = n;
	pairs = xp_table_violations(slots, n, scratch, note_vio, &v);
	FZ_ASSERT(pairs == v.calls, "%u pairs, %u calls", pairs, v.calls);
	FZ_ASSERT(xp_table_violations(slots, n, scratch, NULL, NULL) == pairs,
		  "count without a callback");
	st = xp_table_check(slots, n, scratch, &a, &b, &why);
	FZ_ASSERT((st == XP_OK) == (pairs == 0), "table_check %d, %u pairs",
		  (int)st, pairs);
	if (st != XP_OK) {
		int r = fz_rules(&slots[a].rec, &slots[b].rec);

		FZ_ASSERT(a < n && b < n && a != b && why, "pair %u %u", a, b);
		FZ_ASSERT(slots[a].state == XP_SLOT_USED &&
			  slots[b].state == XP_SLOT_USED, "pair not used");
		FZ_ASSERT((!strcmp(why, "extents overlap") && (r & 1)) ||
			  (!strcmp(why, "duplicate name") && (r & 2)) ||
			  (!strcmp(why, "duplicate uuid") && (r & 4)),
			  "table_check: %s not true of %u,%u", why, a, b);
	}
	if (n > BRUTE_MAX)
		return;
	memset(want, 0, sizeof(want));
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++) {
			int r;

			if (slots[i].state != XP_SLOT_USED ||
			    slots[j].state != XP_SLOT_USED)
				continue;
			r = fz_rules(&slots[i].rec, &slots[j].rec);
			for (int k = 0; k < 3; k++)
				if (r & (1 << k))
					want[k][i] = want[k][j] = any = true;
		}
	FZ_ASSERT((pairs > 0) == any, "violations %u, brute force %d", pairs,
		  any);
	for (int k = 0; k < 3; k++)
		for (uint32_t i = 0; i < n; i++)
			FZ_ASSERT(v.seen[k][i] == want[k][i],
				  "slot %u: rule %d reported %d, brute force %d",
				  i, k, v.seen[k][i], want[k][i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xp_sb sb;
	uint32_t n;
	uint8_t flags;

	if (size < FZ_SLOT_HDR)
		return 0;
	fz_slot_sb(data, &sb);
	flags = data[1];
	seed = fz_le(data + 12, 4);
	n = (uint32_t)((size - FZ_SLOT_HDR) / XP_SLOT_SIZE);
	if (n > sb.slot_count)
		n = sb.slot_count;
	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	memcpy(table, data + FZ_SLOT_HDR, (size_t)n * XP_SLOT_SIZE);
	fz_fix_recs(sb.ns_uuid, table, n, flags & FZ_SLOT_UNITAG,
		    flags & FZ_SLOT_FIXSUM);

	for (uint32_t i = 0; i < n; i++) {
		struct xp_slot *s = &slots[i];
		const uint8_t *raw = table + (size_t)i * XP_SLOT_SIZE;

		memset(s, 0x5a, sizeof(*s));
		xp_slot_decode(&sb, i, raw, s);
		check_decode(&sb, i, raw, s);
		switch (s->state) {
		case XP_SLOT_CORRUPT:
			FZ_ASSERT(s->active == -1, "slot %u CORRUPT active", i);
			break;
		case XP_SLOT_FREE:
			FZ_ASSERT(s->copy_status[s->active] == XP_OK, "status");
			FZ_ASSERT(!xp_rec_used(&s->rec) && s->rec.flags == 0 &&
				  s->rec.seq != 0 && fz_zero(s->rec.owner, 16) &&
				  s->rec.name[0] == 0, "slot %u FREE record", i);
			break;
		case XP_SLOT_USED:
			FZ_ASSERT(s->copy_status[s->active] == XP_OK, "status");
			check_used(&sb, i, &s->rec);
			break;
		default:
			FZ_ASSERT(0, "slot %u state %d", i, (int)s->state);
		}
		check_update(&sb, i, raw, s);
		check_damage(&sb, i, raw, s);
	}
	check_table(n);
	return 0;
}
