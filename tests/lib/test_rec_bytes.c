/* SPDX-License-Identifier: MIT */
/*
 * No single changed byte of a record loses an extent silently (issue 8,
 * items 6, 8 and 10). Every byte of the current copy of every slot kind,
 * and of the older copy, is changed to nine other values (each single bit
 * flipped, and all bits); after each change the test lists, checks,
 * creates and exports, and repairs:
 *
 *   current copy, a tag byte (byte 7 of a word): the payload and its
 *     checksum are untouched, the copy is still valid: everything is
 *     listed unchanged, check is clean, writes and exports work;
 *   current copy, any other byte: the slot is corrupt. It is not listed,
 *     xp_ns_damage() says so, nothing is free (a create can never get the
 *     range the slot may describe), a writable open is refused and writes
 *     nothing, every extent's export is refused, check reports the slot
 *     with "xenpmem check --repair --force ..."; --repair alone writes
 *     nothing; --repair --force restores the older copy (the extent as it
 *     was before its last update), or frees a slot that has none, and the
 *     next check is clean;
 *   older copy, a non-tag byte: the extent is listed with its current
 *     record, check reports the older copy ("xenpmem check --repair ..."),
 *     --repair rewrites it and the next check is clean.
 *
 * The fixture: 64 MiB, 2 MiB alignment, no management area, 8 slots.
 * init writes a free record (seq 1) into copy 0 of each slot, copy 1
 * blank; each update writes the other copy with the next seq:
 *   slot 0 "alpha"  c1 s2 created, c0 s3 assigned to U1      current c0
 *   slot 1 "beta"   c0 s1 init's free record, c1 s2 created    current c1
 *   slot 2 "gamma"  c1 s2 created, c0 s3 lent to Xen as RAM    current c0
 *   slot 3 "delta2" c1 s2 "delta", c0 s3 renamed, c1 s4 4 MiB  current c1
 *   slot 4 (free)   c1 s2 "eps" created, c0 s3 destroyed       current c0
 *   slot 5..7       c0 s1 init's free record, c1 blank         current c0
 * alpha, beta, gamma, delta2 (4 MiB), eps's old range follow each other
 * from data_offset in 2 MiB steps.
 */
#include "lib_test.h"

#define NS_SIZE (64 * MiB)
#define NSLOTS 8u

static struct {
	uint8_t *img;
	struct xp_media *m;
	struct xp_sb sb;
	uint64_t D, E;
	uint64_t head;		/* [0, head): superblock, zero area, table */
	struct meta pristine;
	struct listing list;	/* as listed on the pristine image */
	struct xp_extent eps;	/* slot 4's extent before it was destroyed */
	unsigned iterations;
} fx;

static uint8_t *recp(uint32_t slot, int copy)
{
	return fx.img + xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
}

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
	rc = ns_mk(ns, "alpha", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_assign(ns, "alpha", uuid_n(1));
	rc = rc ?: ns_mk(ns, "beta", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "gamma", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_set_state(ns, "gamma", XP_EXTENT_LENT_RAM);
	rc = rc ?: ns_mk(ns, "delta", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_rename(ns, "delta", "delta2", 0);
	rc = rc ?: xp_extent_resize(ns, "delta2", 4 * MiB,
				    XP_FORCE | XP_NO_ZERO, NULL, NULL);
	rc = rc ?: ns_mk(ns, "eps", 2 * MiB, NULL, 0);
	rc = rc ?: xp_ns_extent_find(ns, "eps", &fx.eps);
	rc = rc ?: xp_extent_destroy(ns, "eps", 0);
	if (rc) {
		xp_ns_close(ns);
		goto fail;
	}
	fx.sb = ns->sb;
	fx.D = ns->sb.data_offset;
	fx.E = ns->sb.data_offset + ns->sb.data_size;
	fx.head = ns->sb.mgmt_offset;
	list_take(ns, &fx.list);
	xp_ns_close(ns);
	meta_take(&fx.pristine, fx.img, NS_SIZE, fx.head);
	tm_reset(fx.m);
	/* The fixture is what the comment above says. */
	if (fx.list.n != 4 || fx.eps.slot != 4 || fx.eps.offset != fx.D + 10 * MiB)
		return -EINVAL;
	for (uint32_t s = 0; s < NSLOTS; s++) {
		static const int cur[NSLOTS] = {0, 1, 0, 1, 0, 0, 0, 0};
		static const uint64_t seq[NSLOTS] = {3, 2, 3, 4, 3, 1, 1, 1};
		struct xp_slot st;

		xp_slot_decode(&fx.sb, s, recp(s, 0), &st);
		if (st.active != cur[s] || st.rec.seq != seq[s] ||
		    st.stale_damaged)
			return -EINVAL;
	}
	return 0;
fail:
	fprintf(stderr, "fixture: %s\n", xp_last_error());
	return rc ? rc : -EINVAL;
}

/* ---- what a slot falls back to -------------------------------------------- */

/*
 * The listing expected after check --repair --force of slot @slot whose
 * current copy was damaged: its older copy restored. Returns the count.
 */
static uint32_t fallback_view(uint32_t slot, struct xp_extent *w)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fx.list.n; i++) {
		struct xp_extent x = fx.list.x[i];

		if (x.slot == slot) {
			switch (slot) {
			case 0:		/* alpha before its assignment */
				x.assigned = false;
				memset(x.owner, 0, 16);
				break;
			case 1:		/* beta before its creation: none */
				continue;
			case 2:		/* gamma before it was lent */
				x.state = XP_EXTENT_DATA;
				break;
			case 3:		/* delta2 before its resize */
				x.size = 2 * MiB;
				x.nr_frames = x.size >> 12;
				break;
			}
		}
		w[n++] = x;
	}
	if (slot == 4)		/* eps before it was destroyed */
		w[n++] = fx.eps;
	return n;
}

/* ---- checks ------------------------------------------------------------------ */

/* Exports: every listed extent (and @also, when given) gets @want. */
static void expect_exports(struct xp_ns *ns, const struct xp_extent *also,
			   int want_all, const char *ctx)
{
	uint32_t n = xp_ns_extent_count(ns);
	struct xp_extent x;

	for (uint32_t i = 0; i <= n; i++) {
		int want = want_all, rc;

		if (i < n)
			xp_ns_extent_get(ns, i, &x);
		else if (also)
			x = *also;
		else
			break;
		if (!want && x.state == XP_EXTENT_LENT_RAM)
			want = -EINVAL;
		rc = xp_extent_exportable(ns, &x);
		CHECK_MSG(rc == want, "%s: export of '%s': %d, want %d (%s)", ctx,
			  x.name, rc, want, xp_last_error());
		if (rc == -EUCLEAN && want == -EUCLEAN) {
			CHECK_CONTAINS(xp_last_error(), "not exported");
			CHECK_CONTAINS(xp_last_error(), "corrupt");
			CHECK_CONTAINS(xp_last_error(), x.name);
		}
	}
}

/* A writable open works; a 2 MiB extent created through it lands in
 * space no listed extent (nor @avoid) covers; nothing else changes but,
 * when slot @mixed (>= 0) is not the one the create takes, the tags of its
 * current copy, which a tag change had mixed: that write shares the
 * create's fence (2 writes in all). */
static void expect_create(const struct xp_extent *avoid, int mixed,
			  const char *ctx)
{
	struct xp_ns *ns;
	struct xp_extent x, y;
	int rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);

	CHECK_MSG(rc == 0, "%s: writable open: %d (%s)", ctx, rc, xp_last_error());
	if (rc)
		return;
	tm_reset(fx.m);
	{
		struct xp_create_opts o = {.name = "newcomer", .size = 2 * MiB,
					   .flags = XP_NO_ZERO};

		rc = xp_extent_create(ns, &o, &x);
	}
	CHECK_MSG(rc == 0, "%s: create: %d (%s)", ctx, rc, xp_last_error());
	CHECK_EQ_U64(tm_writes(fx.m),
		     mixed >= 0 && !rc && x.slot != (uint32_t)mixed ? 2 : 1);
	if (!rc) {
		for (uint32_t i = 0; i < xp_ns_extent_count(ns); i++) {
			xp_ns_extent_get(ns, i, &y);
			if (y.slot == x.slot)
				continue;
			CHECK_MSG(x.offset + x.size <= y.offset ||
					  y.offset + y.size <= x.offset,
				  "%s: new extent at %#" PRIx64 " overlaps '%s'",
				  ctx, x.offset, y.name);
		}
		if (avoid)
			CHECK_MSG(x.offset + x.size <= avoid->offset ||
					  avoid->offset + avoid->size <= x.offset,
				  "%s: new extent at %#" PRIx64
				  " takes the range of '%s'",
				  ctx, x.offset, avoid->name);
	}
	xp_ns_close(ns);
}
static void expect_create_ok(const struct xp_extent *avoid, const char *ctx)
{
	expect_create(avoid, -1, ctx);
}

/* Everything a reader sees is the pristine state. */
static void expect_listed_unchanged(const char *ctx)
{
	struct xp_ns *ns;
	struct listing l;
	struct xp_info in;
	int rc = xp_ns_open_media(fx.m, 0, &ns);

	CHECK_MSG(rc == 0, "%s: open: %d (%s)", ctx, rc, xp_last_error());
	if (rc)
		return;
	list_take(ns, &l);
	CHECK_MSG(!memcmp(&l, &fx.list, sizeof(l)),
		  "%s: listing differs (%u extents, %u gaps; want %u, %u)", ctx,
		  l.n, l.ng, fx.list.n, fx.list.ng);
	CHECK_MSG(!xp_ns_damage(ns), "%s: damage \"%s\"", ctx, xp_ns_damage(ns));
	xp_ns_get_info(ns, &in);
	CHECK_EQ_U64(in.corrupt_slots, 0);
	CHECK(in.free_bytes > 0);
	expect_exports(ns, NULL, 0, ctx);
	xp_ns_close(ns);
}

/* After a repair: the listing is @w (sequence numbers apart), no damage,
 * check clean without a single finding. */
static void expect_view_clean(const struct xp_extent *w, uint32_t n,
			      const char *ctx)
{
	struct xp_ns *ns;
	struct findings fs;
	struct listing l;
	struct xp_info in;
	int rc = xp_ns_open_media(fx.m, 0, &ns);

	CHECK_MSG(rc == 0, "%s: open after repair: %d", ctx, rc);
	if (!rc) {
		list_take(ns, &l);
		CHECK_MSG(l.n == n, "%s: %u extents after repair, want %u", ctx,
			  l.n, n);
		for (uint32_t i = 0; i < n && i < l.n; i++) {
			const struct xp_extent *x = list_slot(&l, w[i].slot);

			CHECK_MSG(x && extent_same(x, &w[i]),
				  "%s: slot %u after repair is '%s' %#" PRIx64
				  "+%#" PRIx64 " state %d assigned %d; want '%s' %#"
				  PRIx64 "+%#" PRIx64 " state %d assigned %d",
				  ctx, w[i].slot, x ? x->name : "(none)",
				  x ? x->offset : 0, x ? x->size : 0,
				  x ? (int)x->state : 0, x ? x->assigned : 0,
				  w[i].name, w[i].offset, w[i].size,
				  (int)w[i].state, w[i].assigned);
		}
		CHECK_MSG(!xp_ns_damage(ns), "%s: damage after repair: %s", ctx,
			  xp_ns_damage(ns));
		xp_ns_get_info(ns, &in);
		CHECK_EQ_U64(in.used_bytes + in.free_bytes, in.data_size);
		xp_ns_close(ns);
	}
	tm_reset(fx.m);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 0 && fs.n == 0,
		  "%s: check after repair: %d, %u findings", ctx, rc, fs.n);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	if (fs.n && xt_case_failures < 4)
		findings_dump(&fs);
}

/*
 * The current copy @copy of @slot is damaged (checksum): the whole
 * contract of a corrupt slot, then the forced repair.
 */
static void expect_corrupt(uint32_t slot, int copy, const char *ctx)
{
	const struct xp_extent *lost = list_slot(&fx.list, slot);
	char obj[16], fix[160];
	struct xp_extent w[8];
	struct findings fs;
	struct xp_slot st;
	struct xp_info in;
	struct xp_ns *ns;
	struct meta before;
	uint32_t nw;
	int rc, i;

	snprintf(obj, sizeof(obj), "slot %u", slot);
	/* The slot decodes as corrupt, the older copy as its fallback. */
	xp_slot_decode(&fx.sb, slot, recp(slot, 0), &st);
	CHECK_MSG(st.state == XP_SLOT_CORRUPT, "%s: slot state %d", ctx,
		  (int)st.state);
	CHECK_EQ_U64(st.copy_status[copy], XP_E_CHECKSUM);
	CHECK_EQ_U64(st.fallback, slot < 5 ? !copy : -1);
	meta_take(&before, fx.img, NS_SIZE, fx.head);
	tm_reset(fx.m);

	/* (a) list: every other extent as it was, the slot's extent not
	 * listed but reported; nothing free. */
	rc = xp_ns_open_media(fx.m, 0, &ns);
	CHECK_MSG(rc == 0, "%s: read-only open: %d (%s)", ctx, rc,
		  xp_last_error());
	if (!rc) {
		struct listing l;
		struct xp_extent x;

		list_take(ns, &l);
		CHECK_EQ_U64(l.n, fx.list.n - (lost ? 1 : 0));
		for (uint32_t k = 0, j = 0; k < fx.list.n; k++) {
			if (fx.list.x[k].slot == slot)
				continue;
			CHECK_MSG(j < l.n && !memcmp(&l.x[j], &fx.list.x[k],
						     sizeof(x)),
				  "%s: '%s' is not listed as before", ctx,
				  fx.list.x[k].name);
			j++;
		}
		CHECK_MSG(xp_ns_damage(ns) &&
				  strstr(xp_ns_damage(ns),
					 "1 extent table slot is corrupt"),
			  "%s: damage \"%s\"", ctx,
			  xp_ns_damage(ns) ? xp_ns_damage(ns) : "(null)");
		xp_ns_get_info(ns, &in);
		CHECK_EQ_U64(in.corrupt_slots, 1);
		CHECK_EQ_U64(in.free_bytes, 0);
		CHECK_EQ_U64(in.largest_free, 0);
		CHECK_EQ_U64(xp_ns_gap_count(ns), 0);
		if (lost)
			CHECK_RC(xp_ns_extent_find(ns, lost->name, &x), -ENOENT);
		/* (d) export: refused for every extent, the lost one too. */
		expect_exports(ns, lost, -EUCLEAN, ctx);
		xp_ns_close(ns);
	}
	/* (b) check: one error on the slot, its fix the forced repair. */
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 1, "%s: check returned %d", ctx, rc);
	i = findings_find(&fs, XP_SEV_ERROR, obj);
	CHECK_MSG(i >= 0, "%s: no error on %s", ctx, obj);
	if (i >= 0) {
		CHECK_STR(fs.f[i].fix, "xenpmem check --repair --force (memory)");
		CHECK_CONTAINS(fs.f[i].text,
			       slot < 5 ? "newer copy" : "no valid copy");
	}
	CHECK_EQ_U64(findings_errors_without_fix(&fs, NULL), 0);
	/* (c) create: the writable open it needs is refused. */
	rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	CHECK_MSG(rc == -EUCLEAN, "%s: writable open: %d (%s)", ctx, rc,
		  xp_last_error());
	if (!rc)
		xp_ns_close(ns);
	CHECK_CONTAINS(xp_last_error(), "corrupt");
	/* check --repair alone restores nothing uncertain. */
	rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
	CHECK_MSG(rc == 1, "%s: check --repair returned %d", ctx, rc);
	CHECK(findings_find_text(&fs, XP_SEV_NOTE, obj, "not repaired") >= 0);
	rc = run_check(fx.m, XP_CHECK_FORCE, &fs);	/* no repair: reads */
	CHECK_EQ_U64(rc, 1);
	CHECK_MSG(tm_writes(fx.m) == 0 && meta_same(&before, fx.img),
		  "%s: %u writes before the forced repair", ctx,
		  tm_writes(fx.m));
	meta_free(&before);

	/* Item 3: --repair --force restores the older copy, or frees. */
	rc = run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs);
	CHECK_MSG(rc == 0, "%s: forced repair returned %d", ctx, rc);
	i = findings_find(&fs, XP_SEV_FIXED, obj);
	CHECK_MSG(i >= 0, "%s: no fix on %s", ctx, obj);
	if (i >= 0)
		CHECK_CONTAINS(fs.f[i].text, slot < 5 ? "restored its older copy" :
							 "freed");
	{
		uint64_t off = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;

		CHECK_MSG(tm_rewrote_copy(fx.m, off, off + XP_REC_SIZE, off),
			  "%s: the forced repair wrote elsewhere (%u writes)",
			  ctx, tm_writes(fx.m));
	}
	if (slot < 5) {
		/* The older copy is untouched: it is what was restored. */
		CHECK(!memcmp(recp(slot, !copy),
			      fx.pristine.head + xp_slot_offset(slot) +
				      (uint64_t)!copy * XP_REC_SIZE,
			      XP_REC_SIZE));
	}
	nw = fallback_view(slot, w);
	expect_view_clean(w, nw, ctx);
	snprintf(fix, sizeof(fix), "%s after the forced repair", ctx);
	expect_create_ok(NULL, fix);
}

/* The older copy @copy of @slot is damaged: reported, repaired. */
static void expect_stale(uint32_t slot, int copy, const char *ctx)
{
	char obj[16];
	struct findings fs;
	struct xp_slot st;
	int rc, i;

	snprintf(obj, sizeof(obj), "slot %u", slot);
	xp_slot_decode(&fx.sb, slot, recp(slot, 0), &st);
	CHECK_MSG(st.state != XP_SLOT_CORRUPT && st.active == !copy &&
			  st.stale_damaged,
		  "%s: slot state %d active %d stale %d", ctx, (int)st.state,
		  st.active, st.stale_damaged);
	tm_reset(fx.m);
	expect_listed_unchanged(ctx);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 1, "%s: check returned %d", ctx, rc);
	i = findings_find(&fs, XP_SEV_ERROR, obj);
	CHECK_MSG(i >= 0, "%s: no error on %s", ctx, obj);
	if (i >= 0) {
		CHECK_STR(fs.f[i].fix, "xenpmem check --repair (memory)");
		CHECK_CONTAINS(fs.f[i].text, "older copy");
	}
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
	CHECK_MSG(rc == 0, "%s: repair returned %d", ctx, rc);
	CHECK(findings_find(&fs, XP_SEV_FIXED, obj) >= 0);
	{
		uint64_t off = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;

		CHECK_MSG(tm_rewrote_copy(fx.m, off, off + XP_REC_SIZE, off),
			  "%s: the repair wrote elsewhere (%u writes)", ctx,
			  tm_writes(fx.m));
	}
	expect_view_clean(fx.list.x, fx.list.n, ctx);
	expect_create_ok(NULL, ctx);
}

/*
 * A change the checksum does not see (a tag byte of a valid copy). In the
 * current copy the mixed tags are a note (a damaged byte there would now
 * read as a tear); the next update evens them, after which check is silent.
 */
static void expect_unchanged(uint32_t slot, bool current, const char *ctx)
{
	struct findings fs;
	int rc;

	tm_reset(fx.m);
	expect_listed_unchanged(ctx);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 0 && fs.n == (current ? 1u : 0u),
		  "%s: check: %d, %u findings", ctx, rc, fs.n);
	if (current)
		CHECK_MSG(findings_find_text(&fs, XP_SEV_NOTE, fs.f[0].object,
					     "tags differ") == 0,
			  "%s: no note about mixed tags", ctx);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	expect_create(NULL, current ? (int)slot : -1, ctx);
	if (current) {
		rc = run_check(fx.m, 0, &fs);
		CHECK_MSG(rc == 0 && fs.n == 0,
			  "%s: check after the update: %d, %u findings", ctx,
			  rc, fs.n);
	}
}


/* ---- the sweeps ---------------------------------------------------------------- */

struct target {
	uint32_t slot;
	int copy;
};

static const struct target current[] = {
	{0, 0}, {1, 1}, {2, 0}, {3, 1}, {4, 0}, {5, 0},
};
static const struct target older[] = {
	{0, 1}, {1, 0}, {2, 1}, {3, 0}, {4, 1},
};

/* The nine values each byte takes: each single bit flipped, and ~x. */
static uint8_t changed(uint8_t x, unsigned v)
{
	return v < 8 ? (uint8_t)(x ^ (1u << v)) : (uint8_t)~x;
}

static void sweep(const struct target *t, bool is_current)
{
	char ctx[96];

	for (unsigned byte = 0; byte < XP_REC_SIZE; byte++) {
		for (unsigned v = 0; v < 9; v++) {
			uint8_t *p = recp(t->slot, t->copy) + byte;
			unsigned before = xt_case_failures;

			restore();
			*p = changed(*p, v);
			fx.iterations++;
			snprintf(ctx, sizeof(ctx),
				 "slot %u %s copy %d byte %u (%s) %#04x", t->slot,
				 is_current ? "current" : "older", t->copy, byte,
				 is_tag_byte(byte) ? "tag" : "payload", *p);
			if (is_tag_byte(byte))
				expect_unchanged(t->slot, is_current, ctx);
			else if (is_current)
				expect_corrupt(t->slot, t->copy, ctx);
			else
				expect_stale(t->slot, t->copy, ctx);
			if (xt_case_failures > before + 10)
				return;
		}
	}
	restore();
}

static void t_current_copy_bytes(void)
{
	for (size_t i = 0; i < sizeof(current) / sizeof(current[0]); i++)
		sweep(&current[i], true);
}

static void t_older_copy_bytes(void)
{
	for (size_t i = 0; i < sizeof(older) / sizeof(older[0]); i++)
		sweep(&older[i], false);
}

/*
 * The blank copy 1 of a never-used slot: a byte written into a tag
 * position mixes tags (what a torn write leaves: a note, nothing to do);
 * anywhere else it is a damaged copy older than the free record (an error
 * --repair rewrites).
 */
static void t_blank_copy_bytes(void)
{
	char ctx[96];

	for (unsigned byte = 0; byte < XP_REC_SIZE; byte++) {
		for (unsigned v = 0; v < 9; v++) {
			uint8_t *p = recp(6, 1) + byte;
			struct findings fs;
			unsigned before = xt_case_failures;
			int rc;

			restore();
			*p = changed(*p, v);
			fx.iterations++;
			snprintf(ctx, sizeof(ctx), "slot 6 blank copy 1 byte %u %#04x",
				 byte, *p);
			if (!is_tag_byte(byte)) {
				expect_stale(6, 1, ctx);
				continue;
			}
			expect_listed_unchanged(ctx);
			rc = run_check(fx.m, 0, &fs);
			CHECK_MSG(rc == 0, "%s: check %d", ctx, rc);
			CHECK(findings_find_text(&fs, XP_SEV_NOTE, "slot 6", "torn") >= 0);
			rc = run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs);
			CHECK_EQ_U64(rc, 0);
			CHECK_EQ_U64(tm_writes(fx.m), 0);
			expect_create_ok(NULL, ctx);
			if (xt_case_failures > before + 10)
				return;
		}
	}
	restore();
}

/* Both copies of an extent's slot damaged: no valid copy; the forced
 * repair frees the slot (nothing certain is left to restore). */
static void t_both_copies(void)
{
	struct xp_extent w[8];
	struct findings fs;
	uint32_t n = 0;
	int rc;

	for (uint32_t slot = 0; slot < 5; slot++) {
		unsigned before = xt_case_failures;
		char ctx[32], obj[16];

		snprintf(ctx, sizeof(ctx), "both copies of slot %u", slot);
		snprintf(obj, sizeof(obj), "slot %u", slot);
		restore();
		recp(slot, 0)[40] ^= 0x10;
		recp(slot, 1)[90] ^= 0x01;
		rc = run_check(fx.m, 0, &fs);
		CHECK_EQ_U64(rc, 1);
		CHECK(findings_find_text(&fs, XP_SEV_ERROR, obj, "no valid copy") >= 0);
		CHECK_EQ_U64(tm_writes(fx.m), 0);
		rc = run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs);
		CHECK_EQ_U64(rc, 0);
		CHECK(findings_find_text(&fs, XP_SEV_FIXED, obj, "freed") >= 0);
		/* The free record over copy 0; the damaged copy 1, older than
		 * it now, is rewritten too. Nothing outside the slot. */
		CHECK(tm_rewrote_copy(fx.m, xp_slot_offset(slot),
				      xp_slot_offset(slot + 1),
				      xp_slot_offset(slot)) ||
		      tm_rewrote_copy(fx.m, xp_slot_offset(slot),
				      xp_slot_offset(slot + 1),
				      xp_slot_offset(slot) + XP_REC_SIZE));
		n = 0;
		for (uint32_t i = 0; i < fx.list.n; i++)
			if (fx.list.x[i].slot != slot)
				w[n++] = fx.list.x[i];
		expect_view_clean(w, n, ctx);
		/* The freed range is free now: a deliberate, forced choice. */
		expect_create_ok(NULL, ctx);
		if (xt_case_failures > before + 10)
			break;
	}
	restore();
}

/*
 * The snapshots above cover [0, mgmt_offset) and the backup superblock;
 * the management area, the padding behind it and the data area were zero
 * at init and no case writes there on purpose: after everything, they
 * still are (what any stray write of the library would have changed).
 */
static void t_untouched(void)
{
	lt_expect_zero(fx.img, fx.head, NS_SIZE - XP_SB_BLOCK);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	if (fixture()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(t_current_copy_bytes);
	RUN(t_older_copy_bytes);
	RUN(t_blank_copy_bytes);
	RUN(t_both_copies);
	printf("%u single-byte changes\n", fx.iterations);
	RUN(t_untouched);
	xp_media_close(fx.m);
	img_free(fx.img, NS_SIZE);
	meta_free(&fx.pristine);
	return xt_finish();
}
