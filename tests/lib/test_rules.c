/* SPDX-License-Identifier: MIT */
/*
 * Table-rule violations (issue 8, item 7): overlapping extents, duplicate
 * names, duplicate uuids, crafted with valid checksums (xp_rec_encode)
 * into slots of an initialised image. For each: check reports every
 * violating pair with a command that resolves it; list/info carry the
 * damage line; every change is refused except destroy and rename with
 * XP_FORCE of an extent involved (by "@N"), which work and make the
 * violation go away; an involved extent is not exported (the line names
 * the extents), an uninvolved one still is; check --repair (--force) does
 * not touch such a table.
 *
 * The fixture: 64 MiB, 2 MiB alignment, no management area, 8 slots:
 *   slot 0 "a" [D, +2M)   slot 1 "b" [D+2M, +2M)
 *   slot 2 "c" [D+4M, +2M) assigned to U2
 *   slot 3 "u" [D+10M, +2M) never involved
 * crafted records go into copy 1 of slots 5..7 (seq 2 over init's free
 * record).
 */
#include "lib_test.h"

#define NS_SIZE (64 * MiB)
#define NSLOTS 8u

static struct {
	uint8_t *img;
	struct xp_media *m;
	struct xp_sb sb;
	uint64_t D;
	struct meta pristine;
	struct xp_extent a, b, c, u;
} fx;

static void restore(void)
{
	meta_put(&fx.pristine, fx.img);
	tm_reset(fx.m);
}

static int fixture(void)
{
	struct xp_init_opts o = {.max_extents = NSLOTS, .mgmt = XP_MGMT_NONE,
				 .align = 2 * MiB};
	struct xp_ns *ns;
	int rc;

	rc = lt_fresh_ns(NS_SIZE, &o, &fx.img, &fx.m, &ns);
	if (rc)
		goto fail;
	rc = ns_mk(ns, "a", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "b", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "c", 2 * MiB, uuid_n(2), 0);
	rc = rc ?: ns_mk(ns, "tmp", 4 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "u", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_destroy(ns, "tmp", 0);
	rc = rc ?: xp_ns_extent_find(ns, "a", &fx.a);
	rc = rc ?: xp_ns_extent_find(ns, "b", &fx.b);
	rc = rc ?: xp_ns_extent_find(ns, "c", &fx.c);
	rc = rc ?: xp_ns_extent_find(ns, "u", &fx.u);
	if (rc) {
		xp_ns_close(ns);
		goto fail;
	}
	fx.sb = ns->sb;
	fx.D = ns->sb.data_offset;
	xp_ns_close(ns);
	meta_take(&fx.pristine, fx.img, NS_SIZE, fx.D);
	tm_reset(fx.m);
	if (fx.u.slot != 4 || fx.u.offset != fx.D + 10 * MiB || fx.c.slot != 2)
		return -EINVAL;
	return 0;
fail:
	fprintf(stderr, "fixture: %s\n", xp_last_error());
	return rc ? rc : -EINVAL;
}

/* A valid record in copy 1 of @slot, seq 2: newer than init's free
 * record in copy 0. */
static void craft(uint32_t slot, const char *name, uint64_t off, uint64_t size,
		  const uint8_t *uuid)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = 2;
	r.type = XP_REC_DATA;
	r.align_shift = 21;
	r.offset = off;
	r.size = size;
	if (uuid)
		memcpy(r.uuid, uuid, 16);
	else
		memset(r.uuid, 0x40 + (int)slot, 16);
	snprintf(r.name, sizeof(r.name), "%s", name);
	xp_rec_encode(&fx.sb, slot, &r, fx.img + xp_slot_offset(slot) + XP_REC_SIZE);
}

struct pair {
	uint32_t x, y;		/* the two slots, either order */
	const char *rule;	/* "extents overlap", "duplicate name", ... */
};

static int pair_finding(const struct findings *fs, const struct pair *p)
{
	char o1[32], o2[32];
	int i;

	snprintf(o1, sizeof(o1), "slots %u,%u", p->x, p->y);
	snprintf(o2, sizeof(o2), "slots %u,%u", p->y, p->x);
	i = findings_find_text(fs, XP_SEV_ERROR, o1, p->rule);
	return i >= 0 ? i : findings_find_text(fs, XP_SEV_ERROR, o2, p->rule);
}

/* Everything a violation means, before anything resolves it. */
static void expect_violation(const char *ctx, const struct pair *pairs,
			     unsigned npairs, const uint32_t *involved,
			     unsigned ninv)
{
	struct findings fs;
	struct xp_ns *ns;
	struct xp_info in;
	struct meta before;
	int rc;

	meta_take(&before, fx.img, NS_SIZE, fx.D);
	tm_reset(fx.m);
	/* check: one error per pair, with a fix naming one of its slots. */
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == (int)npairs, "%s: check returned %d, want %u", ctx, rc,
		  npairs);
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_ERROR), npairs);
	for (unsigned k = 0; k < npairs; k++) {
		int i = pair_finding(&fs, &pairs[k]);
		char f1[64], f2[64];

		CHECK_MSG(i >= 0, "%s: no error for slots %u,%u (%s)", ctx,
			  pairs[k].x, pairs[k].y, pairs[k].rule);
		if (i < 0)
			continue;
		if (!strcmp(pairs[k].rule, "duplicate name")) {
			snprintf(f1, sizeof(f1),
				 "xenpmem rename --force @%u NEWNAME (memory)",
				 pairs[k].x);
			snprintf(f2, sizeof(f2),
				 "xenpmem rename --force @%u NEWNAME (memory)",
				 pairs[k].y);
		} else {
			snprintf(f1, sizeof(f1),
				 "xenpmem destroy --force @%u (memory)", pairs[k].x);
			snprintf(f2, sizeof(f2),
				 "xenpmem destroy --force @%u (memory)", pairs[k].y);
		}
		CHECK_MSG(!strcmp(fs.f[i].fix, f1) || !strcmp(fs.f[i].fix, f2),
			  "%s: fix \"%s\"", ctx, fs.f[i].fix);
	}
	if (xt_case_failures && xt_case_failures < 3)
		findings_dump(&fs);
	/* Never repaired automatically, not even with force. */
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR, &fs), npairs);
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs),
		     npairs);
	CHECK_MSG(tm_writes(fx.m) == 0 && meta_same(&before, fx.img),
		  "%s: check wrote", ctx);

	/* list/info: the damage line names the extents; the flags. */
	rc = xp_ns_open_media(fx.m, 0, &ns);
	CHECK_RC(rc, 0);
	if (!rc) {
		const char *d = xp_ns_damage(ns);
		struct xp_extent x;
		char name[48];

		CHECK_MSG(d && strstr(d, "table rules are broken"),
			  "%s: damage \"%s\"", ctx, d ? d : "(null)");
		xp_ns_get_info(ns, &in);
		CHECK_EQ_U64(in.violations, npairs);
		CHECK_EQ_U64(in.corrupt_slots, 0);
		for (uint32_t i = 0; i < xp_ns_extent_count(ns); i++) {
			bool inv = false;

			xp_ns_extent_get(ns, i, &x);
			for (unsigned k = 0; k < ninv; k++)
				inv |= involved[k] == x.slot;
			CHECK_MSG(x.violation == inv, "%s: '%s' (@%u) violation %d",
				  ctx, x.name, x.slot, x.violation);
			snprintf(name, sizeof(name), "'%s' (@%u)", x.name, x.slot);
			if (inv && d)
				CHECK_CONTAINS(d, name);
			/* Export: involved refused naming the extents;
			 * uninvolved exported as ever. */
			rc = xp_extent_exportable(ns, &x);
			if (!inv) {
				CHECK_MSG(rc == 0, "%s: export of '%s': %d (%s)",
					  ctx, x.name, rc, xp_last_error());
				continue;
			}
			CHECK_MSG(rc == -EUCLEAN, "%s: export of '%s': %d", ctx,
				  x.name, rc);
			CHECK_CONTAINS(xp_last_error(), "breaks a table rule");
			for (unsigned k = 0; k < ninv; k++) {
				const struct xp_slot *s = &ns->slots[involved[k]];

				snprintf(name, sizeof(name), "'%s' (@%u)",
					 s->rec.name, involved[k]);
				CHECK_CONTAINS(xp_last_error(), name);
			}
		}
		xp_ns_close(ns);
	}
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	meta_free(&before);
}

/* Every change but destroy/rename --force of an involved extent is
 * refused on a writable handle, and writes nothing. */
static void expect_changes_refused(const char *ctx, uint32_t inv, uint32_t other)
{
	struct xp_create_opts o = {.name = "new", .size = 2 * MiB};
	char sel[16], sel_other[16];
	struct meta before;
	struct xp_ns *ns;
	uint64_t data;
	int rc;

	snprintf(sel, sizeof(sel), "@%u", inv);
	snprintf(sel_other, sizeof(sel_other), "@%u", other);
	fx.img[fx.D + 10 * MiB] = 0x5a;	/* u's first byte: no wipe */
	meta_take(&before, fx.img, NS_SIZE, fx.D);
	rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	CHECK_MSG(rc == 0, "%s: writable open: %d (%s)", ctx, rc, xp_last_error());
	if (rc) {
		meta_free(&before);
		return;
	}
	tm_reset(fx.m);
#define REFUSED(call)                                                      \
	do {                                                               \
		int r_ = (call);                                           \
		CHECK_MSG(r_ == -EUCLEAN, "%s: %s: %d (%s)", ctx, #call, r_, \
			  xp_last_error());                                \
	} while (0)
	REFUSED(xp_extent_create(ns, &o, NULL));
	REFUSED(xp_extent_resize(ns, sel, 4 * MiB, XP_FORCE | XP_NO_ZERO, NULL,
				 NULL));
	REFUSED(xp_extent_resize(ns, "u", 4 * MiB, XP_FORCE | XP_NO_ZERO, NULL,
				 NULL));
	REFUSED(xp_extent_assign(ns, sel, uuid_n(5)));
	REFUSED(xp_extent_assign(ns, "u", uuid_n(5)));
	REFUSED(xp_extent_set_state(ns, sel, XP_EXTENT_LENT_RAM));
	REFUSED(xp_extent_set_state(ns, "u", XP_EXTENT_LENT_RAM));
	REFUSED(xp_extent_wipe(ns, sel, XP_FORCE, NULL, NULL));
	REFUSED(xp_extent_wipe(ns, "u", XP_FORCE, NULL, NULL));
	/* Without force, even destroy and rename of an involved extent. */
	REFUSED(xp_extent_destroy(ns, sel, 0));
	CHECK_CONTAINS(xp_last_error(), "--force");
	REFUSED(xp_extent_rename(ns, sel, "fresh", 0));
	REFUSED(xp_extent_rename(ns, sel_other, "fresh", 0));
	/* With force, not of an extent outside the violation. */
	REFUSED(xp_extent_destroy(ns, "u", XP_FORCE));
	REFUSED(xp_extent_rename(ns, "u", "fresh", XP_FORCE));
#undef REFUSED
	data = fx.img[fx.D + 10 * MiB];
	CHECK_EQ_U64(data, 0x5a);
	CHECK_MSG(tm_writes(fx.m) == 0 && meta_same(&before, fx.img),
		  "%s: a refused change wrote (%u writes)", ctx, tm_writes(fx.m));
	xp_ns_close(ns);
	meta_free(&before);
	fx.img[fx.D + 10 * MiB] = 0;
}

/* After the resolving change: no violation, no damage, check clean, and
 * changes work again. */
static void expect_whole(const char *ctx, uint32_t nextents)
{
	struct findings fs;
	struct xp_ns *ns;
	struct xp_extent x;
	int rc;

	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 0 && fs.n == 0, "%s: check after: %d, %u findings", ctx,
		  rc, fs.n);
	if (fs.n && xt_case_failures < 4)
		findings_dump(&fs);
	rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	CHECK_RC(rc, 0);
	if (rc)
		return;
	CHECK_MSG(!xp_ns_damage(ns), "%s: damage \"%s\"", ctx, xp_ns_damage(ns));
	CHECK_EQ_U64(xp_ns_extent_count(ns), nextents);
	for (uint32_t i = 0; i < xp_ns_extent_count(ns); i++) {
		xp_ns_extent_get(ns, i, &x);
		CHECK(!x.violation);
		CHECK_EQ_U64(xp_extent_exportable(ns, &x),
			     x.state == XP_EXTENT_LENT_RAM ? -EINVAL : 0);
	}
	CHECK_RC(ns_mk(ns, "new", 2 * MiB, NULL, 0), 0);
	CHECK_RC(xp_extent_assign(ns, "u", uuid_n(6)), 0);
	xp_ns_close(ns);
}

/* Apply a change on a fresh writable handle. */
static int change(int (*fn)(struct xp_ns *, const char *, const char *),
		  const char *a, const char *b)
{
	struct xp_ns *ns;
	int rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);

	if (rc)
		return rc;
	tm_reset(fx.m);
	rc = fn(ns, a, b);
	xp_ns_close(ns);
	return rc;
}

static int do_destroy(struct xp_ns *ns, const char *sel, const char *unused)
{
	(void)unused;
	return xp_extent_destroy(ns, sel, XP_FORCE);
}

static int do_rename(struct xp_ns *ns, const char *sel, const char *to)
{
	return xp_extent_rename(ns, sel, to, XP_FORCE);
}

/* One extent covering a and b: two overlap pairs. */
static void t_overlap(void)
{
	const struct pair p[] = {{0, 5, "extents overlap"},
				 {5, 1, "extents overlap"}};
	const uint32_t inv[] = {0, 1, 5};

	restore();
	craft(5, "evil", fx.D, 4 * MiB, NULL);
	expect_violation("overlap", p, 2, inv, 3);
	expect_changes_refused("overlap", 5, 0);
	/* A rename --force is allowed (it involves an extent of the
	 * violation) but cannot end an overlap. */
	CHECK_RC(change(do_rename, "@5", "evil2"), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 1);
	expect_violation("overlap after rename", p, 2, inv, 3);
	/* Destroying the newcomer ends both pairs. */
	CHECK_RC(change(do_destroy, "@5", NULL), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 1);
	expect_whole("overlap", 4);
	/* Or destroying the two it covers (a first: one pair remains). */
	restore();
	craft(5, "evil", fx.D, 4 * MiB, NULL);
	CHECK_RC(change(do_destroy, "@0", NULL), 0);
	{
		const struct pair q[] = {{5, 1, "extents overlap"}};
		const uint32_t inv2[] = {1, 5};

		expect_violation("overlap, a destroyed", q, 1, inv2, 2);
	}
	CHECK_RC(change(do_destroy, "@1", NULL), 0);
	expect_whole("overlap, a and b destroyed", 3);
	restore();
}

/* A crafted extent over the assigned c: destroy --force of c (assigned,
 * involved) resolves it too. */
static void t_overlap_assigned(void)
{
	const struct pair p[] = {{2, 6, "extents overlap"}};
	const uint32_t inv[] = {2, 6};

	restore();
	craft(6, "evil", fx.D + 4 * MiB, 2 * MiB, NULL);
	expect_violation("overlap with c", p, 1, inv, 2);
	expect_changes_refused("overlap with c", 2, 6);
	CHECK_RC(change(do_destroy, "@2", NULL), 0);
	expect_whole("c destroyed", 4);
	restore();
}

static void t_duplicate_name(void)
{
	const struct pair p[] = {{1, 5, "duplicate name"}};
	const uint32_t inv[] = {1, 5};
	struct xp_ns *ns;
	struct xp_extent x;

	restore();
	craft(5, "b", fx.D + 20 * MiB, 2 * MiB, NULL);
	expect_violation("duplicate name", p, 1, inv, 2);
	expect_changes_refused("duplicate name", 5, 1);
	/* The name no longer picks one extent; "@N" does. */
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_extent_find(ns, "b", &x), -EUCLEAN);
		CHECK_CONTAINS(xp_last_error(), "@N");
		CHECK_RC(xp_ns_extent_find(ns, "@5", &x), 0);
		CHECK_EQ_U64(x.offset, fx.D + 20 * MiB);
		xp_ns_close(ns);
	}
	CHECK_RC(change(do_destroy, "b", NULL), -EUCLEAN);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	/* Renaming to a name that is taken is still refused. */
	CHECK_RC(change(do_rename, "@5", "a"), -EEXIST);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	CHECK_RC(change(do_rename, "@5", "b2"), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 1);
	expect_whole("duplicate name renamed", 5);
	/* The other way: rename the original. */
	restore();
	craft(5, "b", fx.D + 20 * MiB, 2 * MiB, NULL);
	CHECK_RC(change(do_rename, "@1", "b-orig"), 0);
	expect_whole("duplicate name, original renamed", 5);
	restore();
}

static void t_duplicate_uuid(void)
{
	const struct pair p[] = {{2, 7, "duplicate uuid"}};
	const uint32_t inv[] = {2, 7};

	restore();
	craft(7, "other", fx.D + 20 * MiB, 2 * MiB, fx.c.uuid);
	expect_violation("duplicate uuid", p, 1, inv, 2);
	expect_changes_refused("duplicate uuid", 7, 2);
	/* A rename keeps the uuid: allowed, but the pair stays. */
	CHECK_RC(change(do_rename, "@7", "other2"), 0);
	expect_violation("duplicate uuid after rename", p, 1, inv, 2);
	CHECK_RC(change(do_destroy, "@7", NULL), 0);
	expect_whole("duplicate uuid destroyed", 4);
	restore();
}

/* Several rules at once: every pair is reported; resolving one leaves
 * the rest refused. */
static void t_several(void)
{
	const struct pair p[] = {{0, 5, "extents overlap"},
				 {1, 6, "duplicate name"},
				 {4, 7, "duplicate uuid"}};
	const uint32_t inv[] = {0, 1, 4, 5, 6, 7};

	restore();
	craft(5, "evil", fx.D, 2 * MiB, NULL);
	craft(6, "b", fx.D + 20 * MiB, 2 * MiB, NULL);
	craft(7, "twin", fx.D + 24 * MiB, 2 * MiB, fx.u.uuid);
	expect_violation("three rules", p, 3, inv, 6);
	CHECK_RC(change(do_destroy, "@5", NULL), 0);
	{
		const struct pair q[] = {{1, 6, "duplicate name"},
					 {4, 7, "duplicate uuid"}};
		const uint32_t inv2[] = {1, 4, 6, 7};

		expect_violation("two rules left", q, 2, inv2, 4);
	}
	CHECK_RC(change(do_rename, "@6", "b6"), 0);
	CHECK_RC(change(do_destroy, "@7", NULL), 0);
	expect_whole("three rules resolved", 5);
	restore();
}

/*
 * A forced repair restores what a slot's older copy says, even where the
 * table has moved on: "tmp" (slot 3) was destroyed and its range is now
 * part of nothing; craft "late" over that range into slot 6, then damage
 * slot 3's current (free) record. The slot is corrupt (it may describe
 * an extent): nothing is free, no create. --repair --force restores tmp,
 * which overlaps late: a violation, reported with its way out.
 */
static void t_restore_collides(void)
{
	const struct pair p[] = {{3, 6, "extents overlap"}};
	const uint32_t inv[] = {3, 6};
	struct findings fs;
	struct xp_ns *ns;
	struct xp_info in;
	uint8_t *cur = fx.img + xp_slot_offset(3);	/* copy 0: free, seq 3 */

	restore();
	craft(6, "late", fx.D + 6 * MiB, 2 * MiB, NULL);
	cur[33] ^= 0x08;
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		xp_ns_get_info(ns, &in);
		CHECK_EQ_U64(in.corrupt_slots, 1);
		CHECK_EQ_U64(in.violations, 0);
		CHECK_EQ_U64(in.free_bytes, 0);
		xp_ns_close(ns);
	}
	CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), -EUCLEAN);
	CHECK_EQ_U64(run_check(fx.m, 0, &fs), 1);
	CHECK(findings_find_text(&fs, XP_SEV_ERROR, "slot 3", "extent 'tmp'") >= 0);
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs), 1);
	CHECK(findings_find_text(&fs, XP_SEV_FIXED, "slot 3", "'tmp'") >= 0);
	expect_violation("tmp restored over late", p, 1, inv, 2);
	CHECK_RC(change(do_destroy, "@3", NULL), 0);
	expect_whole("tmp destroyed again", 5);
	restore();
}

/*
 * Nested overlaps: "big" (slot 5) covers a and b, "mid" (slot 6) the same
 * range: big/mid, big/a, big/b, mid/a and mid/b overlap. Every extent
 * involved is flagged, named and refused for export; every pair reported
 * is genuine; the way out works one step at a time until the table is
 * whole. check names every extent involved at least once, not every
 * pair (docs/format.md, "Table rules": pairs can grow with the square of
 * the table).
 */
/* Where the extent in @slot lies in t_nested_overlap (big and mid are
 * [D, D+4M)); does it overlap the one in @other? */
static void range_of(uint32_t slot, uint64_t *off, uint64_t *size)
{
	const struct xp_extent *e = slot == 0 ? &fx.a : slot == 1 ? &fx.b :
				    slot == 2 ? &fx.c : slot == 4 ? &fx.u : NULL;

	*off = e ? e->offset : fx.D;
	*size = e ? e->size : 4 * MiB;
}

static bool overlaps(uint32_t slot, uint32_t other)
{
	uint64_t o1, z1, o2, z2;

	range_of(slot, &o1, &z1);
	range_of(other, &o2, &z2);
	return o1 < o2 + z2 && o2 < o1 + z1;
}

static void t_nested_overlap(void)
{
	const uint32_t inv[] = {0, 1, 5, 6};
	struct findings fs;
	struct xp_ns *ns;
	int rc;

	restore();
	craft(5, "big", fx.D, 4 * MiB, NULL);
	craft(6, "mid", fx.D, 4 * MiB, NULL);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc >= 3 && rc <= 5, "check returned %d", rc);
	for (unsigned i = 0; i < fs.n && i < 64; i++) {
		unsigned x, y;

		CHECK(fs.f[i].sev == XP_SEV_ERROR);
		CHECK_MSG(sscanf(fs.f[i].object, "slots %u,%u", &x, &y) == 2 &&
				  overlaps(x, y) && strstr(fs.f[i].text, "overlap"),
			  "not a genuine pair: [%s] %s", fs.f[i].object,
			  fs.f[i].text);
	}
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		const char *d = xp_ns_damage(ns);
		struct xp_extent x;
		char name[32];

		for (unsigned k = 0; k < 4; k++) {
			snprintf(name, sizeof(name), "(@%u)", inv[k]);
			CHECK_MSG(d && strstr(d, name), "damage \"%s\" lacks %s",
				  d ? d : "(null)", name);
		}
		for (uint32_t i = 0; i < xp_ns_extent_count(ns); i++) {
			bool want = false;

			xp_ns_extent_get(ns, i, &x);
			for (unsigned k = 0; k < 4; k++)
				want |= x.slot == inv[k];
			CHECK_EQ_U64(x.violation, want);
			CHECK_EQ_U64(xp_extent_exportable(ns, &x),
				     want ? -EUCLEAN : 0);
		}
		xp_ns_close(ns);
	}
	expect_changes_refused("nested overlap", 5, 6);
	/* Destroying big leaves mid over a and b: two pairs. */
	CHECK_RC(change(do_destroy, "@5", NULL), 0);
	{
		const struct pair q[] = {{6, 0, "extents overlap"},
					 {6, 1, "extents overlap"}};
		const uint32_t inv2[] = {0, 1, 6};

		expect_violation("nested overlap, big destroyed", q, 2, inv2, 3);
	}
	CHECK_RC(change(do_destroy, "@6", NULL), 0);
	expect_whole("nested overlap resolved", 4);
	restore();
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	if (fixture()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(t_overlap);
	RUN(t_overlap_assigned);
	RUN(t_duplicate_name);
	RUN(t_duplicate_uuid);
	RUN(t_several);
	RUN(t_restore_collides);
	RUN(t_nested_overlap);
	xp_media_close(fx.m);
	img_free(fx.img, NS_SIZE);
	meta_free(&fx.pristine);
	return xt_finish();
}
