/* SPDX-License-Identifier: MIT */
/*
 * Repair never discards the superblock the table agrees with (issue 8,
 * item 9). Two valid superblock copies that disagree in more than the
 * generation were not written by any protocol step: the library reads
 * through the copy under which fewer slots are corrupt (ties: higher
 * generation, then the primary), reports an unresolved superblock with
 * the fix "xenpmem check --repair --use-superblock COPY ...", and writes
 * nothing, not even with --repair --force, until XP_CHECK_USE_PRIMARY or
 * XP_CHECK_USE_BACKUP names the copy to keep: then the other copy is
 * rewritten from it, both with a generation above either. Copies that
 * differ only in generation are an interrupted repair: the higher one
 * wins and --repair equalises them at a still higher generation.
 *
 * The fixture: 64 MiB, 2 MiB alignment, no management area, 8 slots,
 * generation 1; "a" (slot 0), "b" (slot 1, assigned to U1), "c" (slot 2).
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
	struct listing list;
	uint8_t sb0[XP_SB_BLOCK];	/* the pristine primary block */
} fx;

static uint8_t *sbp(int copy)
{
	return copy ? fx.img + NS_SIZE - XP_SB_BLOCK : fx.img;
}

static const char *const copy_name[2] = {"primary", "backup"};
static const char *const sb_obj[2] = {"superblock.primary",
				      "superblock.backup"};

static void restore(void)
{
	meta_put(&fx.pristine, fx.img);
	tm_reset(fx.m);
}

static void sb_reseal(uint8_t *b)
{
	le_put(b + 504, 8, xp_sb_checksum(b, (uint32_t)le_get(b + 20, 4)));
}

static uint64_t sb_gen(int copy)
{
	return le_get(sbp(copy) + 56, 8);
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
	rc = rc ?: ns_mk(ns, "b", 4 * MiB, uuid_n(1), 0);
	rc = rc ?: ns_mk(ns, "c", 2 * MiB, NULL, 0);
	if (rc) {
		xp_ns_close(ns);
		goto fail;
	}
	fx.sb = ns->sb;
	fx.D = ns->sb.data_offset;
	list_take(ns, &fx.list);
	xp_ns_close(ns);
	meta_take(&fx.pristine, fx.img, NS_SIZE, fx.D);
	memcpy(fx.sb0, fx.img, XP_SB_BLOCK);
	tm_reset(fx.m);
	return fx.sb.generation == 1 && fx.list.n == 3 ? 0 : -EINVAL;
fail:
	fprintf(stderr, "fixture: %s\n", xp_last_error());
	return rc ? rc : -EINVAL;
}

/* Give copy @copy another namespace UUID (every record fails under it)
 * and generation @gen. */
static void foreign_uuid(int copy, uint64_t gen)
{
	uint8_t *b = sbp(copy);

	b[40] ^= 0x5a;
	le_put(b + 56, 8, gen);
	sb_reseal(b);
}

/* The listing is the pristine one (sequence numbers and all). */
static void expect_listing(struct xp_ns *ns, const char *ctx)
{
	struct listing l;

	list_take(ns, &l);
	CHECK_MSG(l.n == fx.list.n && !memcmp(l.x, fx.list.x, sizeof(l.x)),
		  "%s: %u extents listed, not the pristine %u", ctx, l.n,
		  fx.list.n);
}

/*
 * Copies disagree; the table agrees with @good (whose generation is
 * @good_gen; the other's @bad_gen). What every reader and a read-only
 * check see, and that neither --repair nor --repair --force writes.
 */
static void expect_unresolved(int good, uint64_t good_gen, uint64_t bad_gen,
			      uint32_t corrupt_under_good, const char *ctx)
{
	char fix[96], text[96];
	struct findings fs;
	struct xp_ns *ns;
	struct xp_info in;
	struct meta before;
	int rc, i;

	meta_take(&before, fx.img, NS_SIZE, fx.D);
	tm_reset(fx.m);
	rc = xp_ns_open_media(fx.m, 0, &ns);
	CHECK_MSG(rc == 0, "%s: open: %d (%s)", ctx, rc, xp_last_error());
	if (!rc) {
		const char *d = xp_ns_damage(ns);

		CHECK_EQ_U64(ns->sb_from_backup, good);
		xp_ns_get_info(ns, &in);
		CHECK(in.sb_unresolved);
		CHECK(in.primary_ok && in.backup_ok);
		CHECK_EQ_U64(in.generation, good_gen);
		CHECK_EQ_U64(in.corrupt_slots, corrupt_under_good);
		CHECK_MSG(d && strstr(d, "superblock copies disagree"),
			  "%s: damage \"%s\"", ctx, d ? d : "(null)");
		if (!corrupt_under_good)
			expect_listing(ns, ctx);
		for (uint32_t k = 0; k < xp_ns_extent_count(ns); k++) {
			struct xp_extent x;

			xp_ns_extent_get(ns, k, &x);
			CHECK_RC(xp_extent_exportable(ns, &x), -EUCLEAN);
			CHECK_CONTAINS(xp_last_error(), "disagree");
		}
		xp_ns_close(ns);
	}
	rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	CHECK_MSG(rc == -EUCLEAN, "%s: writable open: %d", ctx, rc);
	if (!rc)
		xp_ns_close(ns);
	CHECK_CONTAINS(xp_last_error(), "differ");
	/* check: the superblock error with the fix naming the copy in use. */
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 1 + (int)corrupt_under_good, "%s: check returned %d",
		  ctx, rc);
	i = findings_find(&fs, XP_SEV_ERROR, "superblock");
	CHECK_MSG(i >= 0, "%s: no superblock error", ctx);
	snprintf(fix, sizeof(fix),
		 "xenpmem check --repair --use-superblock %s (memory)",
		 copy_name[good]);
	snprintf(text, sizeof(text), "generations %" PRIu64 " and %" PRIu64,
		 good ? bad_gen : good_gen, good ? good_gen : bad_gen);
	if (i >= 0) {
		CHECK_STR(fs.f[i].fix, fix);
		CHECK_CONTAINS(fs.f[i].text, "disagree");
		CHECK_CONTAINS(fs.f[i].text, text);
		CHECK_CONTAINS(fs.f[i].text, copy_name[good]);
	}
	CHECK_EQ_U64(findings_errors_without_fix(&fs, NULL), 0);
	/* --use-superblock without --repair is still a read-only check. */
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_USE_PRIMARY, &fs), rc);
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_USE_BACKUP, &fs), rc);
	/* --repair leaves both copies; --force clears no slot. */
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR, &fs), rc);
	CHECK(findings_find_text(&fs, XP_SEV_NOTE, "superblock", "--use-superblock") >=
	      0);
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs), rc);
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_FIXED), 0);
	CHECK_MSG(tm_writes(fx.m) == 0 && meta_same(&before, fx.img),
		  "%s: %u writes before a copy was picked", ctx, tm_writes(fx.m));
	meta_free(&before);
}

/*
 * check --repair --use-superblock @keep: the other copy is rewritten from
 * @keep (first), then @keep itself, both at generation @gen; after that
 * the superblocks agree and the check returns @left errors (what the
 * table holds under the copy kept; 0: the table reads clean).
 */
static void expect_resolved(int keep, uint64_t gen, int left, const char *ctx)
{
	uint8_t kept[XP_SB_BLOCK], want[XP_SB_BLOCK];
	struct findings fs;
	struct xp_ns *ns;
	int rc;

	memcpy(kept, sbp(keep), XP_SB_BLOCK);
	tm_reset(fx.m);
	rc = run_check(fx.m, XP_CHECK_REPAIR | (keep ? XP_CHECK_USE_BACKUP :
						       XP_CHECK_USE_PRIMARY),
		       &fs);
	CHECK(findings_find(&fs, XP_SEV_FIXED, sb_obj[!keep]) >= 0);
	CHECK_EQ_U64(tm_writes(fx.m), 2);
	if (tm_writes(fx.m) == 2) {
		CHECK_EQ_U64(tm_write_at(fx.m, 0)->off,
			     keep ? 0 : NS_SIZE - XP_SB_BLOCK);
		CHECK_EQ_U64(tm_write_at(fx.m, 1)->off,
			     keep ? NS_SIZE - XP_SB_BLOCK : 0);
	}
	for (int c = 0; c < 2; c++) {
		memcpy(want, kept, XP_SB_BLOCK);
		CHECK_ST(xp_sb_relocate(want, c == 1, gen), XP_OK);
		CHECK_MSG(!memcmp(sbp(c), want, XP_SB_BLOCK),
			  "%s: %s is not the kept copy at generation %" PRIu64
			  " (generation %" PRIu64 ")",
			  ctx, copy_name[c], gen, sb_gen(c));
	}
	CHECK_MSG(rc == left, "%s: repair returned %d, want %d", ctx, rc, left);
	if (left)
		return;
	tm_reset(fx.m);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 0 && fs.n == 0, "%s: check after: %d, %u findings", ctx,
		  rc, fs.n);
	if (fs.n && xt_case_failures < 4)
		findings_dump(&fs);
	rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	CHECK_MSG(rc == 0, "%s: writable open after: %d (%s)", ctx, rc,
		  xp_last_error());
	if (!rc) {
		CHECK(!xp_ns_damage(ns));
		CHECK_EQ_U64(ns->sb.generation, gen);
		CHECK(!ns->sb_mismatch && !ns->sb_unresolved);
		CHECK_RC(ns_mk(ns, "d", 2 * MiB, NULL, 0), 0);
		xp_ns_close(ns);
	}
}

/* The backup has another UUID and a higher generation: under it every
 * slot fails. The library keeps reading through the primary. */
static void t_backup_foreign(void)
{
	restore();
	foreign_uuid(1, 5);
	expect_unresolved(0, 1, 5, 0, "foreign backup");
	expect_resolved(0, 6, 0, "foreign backup, primary kept");
	CHECK(!memcmp(sbp(1) + 40, fx.sb.ns_uuid, 16));
	restore();
}

static void t_primary_foreign(void)
{
	restore();
	foreign_uuid(0, 5);
	expect_unresolved(1, 1, 5, 0, "foreign primary");
	expect_resolved(1, 6, 0, "foreign primary, backup kept");
	CHECK(!memcmp(sbp(0) + 40, fx.sb.ns_uuid, 16));
	restore();
}

/* The same without the generation bump (a stale copy from an earlier
 * init, or tampering): still nothing lost by a repair. */
static void t_foreign_same_generation(void)
{
	for (int copy = 0; copy < 2; copy++) {
		restore();
		foreign_uuid(copy, 1);
		expect_unresolved(!copy, 1, 1, 0, "foreign, same generation");
		expect_resolved(!copy, 2, 0, "foreign, same generation");
	}
	restore();
}

/*
 * Picking the copy the table does not agree with is the user's call:
 * the copies agree afterwards, and the table then reads as what it is
 * under that copy: every slot corrupt. No check may call that clean.
 */
static void t_keep_the_wrong_copy(void)
{
	struct findings fs;
	struct xp_ns *ns;
	int rc;

	restore();
	foreign_uuid(1, 5);
	expect_resolved(1, 6, NSLOTS, "foreign backup kept");
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == (int)NSLOTS, "check after keeping the foreign copy: %d",
		  rc);
	CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), -EUCLEAN);
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		CHECK_EQ_U64(ns->ncorrupt, NSLOTS);
		CHECK(xp_ns_damage(ns) != NULL);
		xp_ns_close(ns);
	}
	restore();
}

/*
 * A higher-generation copy with another slot count (the layout does not
 * change for 16 slots): under it slots 8..15 are blank, so corrupt; the
 * library reads through the older copy.
 */
static void t_higher_generation_more_slots(void)
{
	uint8_t *b = sbp(1);

	restore();
	le_put(b + 96, 4, 16);
	le_put(b + 56, 8, 9);
	sb_reseal(b);
	expect_unresolved(0, 1, 9, 0, "backup with 16 slots");
	expect_resolved(0, 10, 0, "backup with 16 slots, primary kept");
	restore();
}

/* A corrupt slot under the copy in use: --repair --force restores no
 * slot either while the copies disagree; once a copy is picked it does. */
static void t_corrupt_slot_waits(void)
{
	struct findings fs;
	int rc;

	restore();
	foreign_uuid(1, 5);
	fx.img[xp_slot_offset(1) + XP_REC_SIZE + 20] ^= 0x04; /* b's current */
	expect_unresolved(0, 1, 5, 1, "foreign backup, slot 1 corrupt");
	tm_reset(fx.m);
	rc = run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE |
				     XP_CHECK_USE_PRIMARY, &fs);
	CHECK_EQ_U64(rc, 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "superblock.backup") >= 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "slot 1") >= 0);
	/* Both superblocks, then slot 1's damaged copy 1. */
	CHECK(tm_writes(fx.m) >= 3);
	if (tm_writes(fx.m) >= 3) {
		uint64_t c1 = xp_slot_offset(1) + XP_REC_SIZE;

		CHECK_EQ_U64(tm_write_at(fx.m, 0)->off, NS_SIZE - XP_SB_BLOCK);
		CHECK_EQ_U64(tm_write_at(fx.m, 1)->off, 0);
		for (unsigned k = 2; k < tm_writes(fx.m) && k < 64; k++)
			CHECK(tm_write_at(fx.m, k)->off >= c1 &&
			      tm_write_at(fx.m, k)->off + tm_write_at(fx.m, k)->len <=
				      c1 + XP_REC_SIZE);
	}
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == 0 && fs.n == 0, "check after: %d, %u findings", rc, fs.n);
	restore();
}

/* Two copies that differ in a field no slot depends on (init_time), same
 * generation: a tie; the primary is read; either can be kept. */
static void t_tie(void)
{
	for (int keep = 0; keep < 2; keep++) {
		restore();
		le_put(sbp(1) + 80, 8, 12345);
		sb_reseal(sbp(1));
		expect_unresolved(0, 1, 1, 0, "init_time differs");
		expect_resolved(keep, 2, 0, "init_time differs");
		CHECK_EQ_U64(le_get(sbp(0) + 80, 8),
			     keep ? 12345 : le_get(fx.sb0 + 80, 8));
	}
	restore();
}

/*
 * Copies that differ only in generation: what an interrupted repair
 * leaves. The higher one is read, nothing is damaged, writes wait for
 * check --repair, which brings both to max + 1 (the stale copy first).
 */
static void t_generation_only(void)
{
	static const uint64_t gens[][2] = {{1, 3}, {9, 1}, {4, 5}};

	for (size_t k = 0; k < sizeof(gens) / sizeof(gens[0]); k++) {
		uint64_t g0 = gens[k][0], g1 = gens[k][1];
		int newer = g1 > g0, stale = !newer;
		uint64_t top = newer ? g1 : g0;
		uint8_t want[XP_SB_BLOCK];
		struct findings fs;
		struct xp_ns *ns;
		char text[64];
		int rc, i;

		restore();
		le_put(sbp(0) + 56, 8, g0);
		sb_reseal(sbp(0));
		le_put(sbp(1) + 56, 8, g1);
		sb_reseal(sbp(1));
		rc = xp_ns_open_media(fx.m, 0, &ns);
		CHECK_RC(rc, 0);
		if (!rc) {
			CHECK_EQ_U64(ns->sb_from_backup, newer);
			CHECK_EQ_U64(ns->sb.generation, top);
			CHECK(ns->sb_mismatch && !ns->sb_unresolved);
			CHECK(!xp_ns_damage(ns));
			expect_listing(ns, "generation only");
			xp_ns_close(ns);
		}
		CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), -EUCLEAN);
		rc = run_check(fx.m, 0, &fs);
		CHECK_EQ_U64(rc, 1);
		i = findings_find(&fs, XP_SEV_ERROR, sb_obj[stale]);
		CHECK(i >= 0);
		snprintf(text, sizeof(text), "generation %" PRIu64 " is older",
			 newer ? g0 : g1);
		if (i >= 0) {
			CHECK_CONTAINS(fs.f[i].text, text);
			CHECK_STR(fs.f[i].fix, "xenpmem check --repair (memory)");
		}
		CHECK_EQ_U64(tm_writes(fx.m), 0);
		rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
		CHECK_EQ_U64(rc, 0);
		CHECK(findings_find(&fs, XP_SEV_FIXED, sb_obj[stale]) >= 0);
		CHECK_EQ_U64(tm_writes(fx.m), 2);
		if (tm_writes(fx.m) == 2)
			CHECK_EQ_U64(tm_write_at(fx.m, 0)->off,
				     stale ? NS_SIZE - XP_SB_BLOCK : 0);
		for (int c = 0; c < 2; c++) {
			memcpy(want, fx.sb0, XP_SB_BLOCK);
			xp_sb_relocate(want, c == 1, top + 1);
			CHECK_MSG(!memcmp(sbp(c), want, XP_SB_BLOCK),
				  "generations %" PRIu64 "/%" PRIu64 ": %s after repair",
				  g0, g1, copy_name[c]);
		}
		rc = run_check(fx.m, 0, &fs);
		CHECK(rc == 0 && fs.n == 0);
		CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), 0);
		if (ns)
			xp_ns_close(ns);
	}
	restore();
}

/* One copy invalid: the other is in use; --repair rewrites the bad one
 * (first) and then the good one, both at generation max + 1. */
static void t_one_copy_invalid(void)
{
	for (int bad = 0; bad < 2; bad++) {
		uint8_t want[XP_SB_BLOCK];
		struct findings fs;
		int rc;

		restore();
		le_put(sbp(!bad) + 56, 8, 7);	/* the good copy: gen 7 */
		sb_reseal(sbp(!bad));
		sbp(bad)[300] ^= 0x20;		/* reserved: checksum */
		rc = run_check(fx.m, 0, &fs);
		CHECK_EQ_U64(rc, 1);
		CHECK(findings_find_text(&fs, XP_SEV_ERROR, sb_obj[bad], "checksum") >=
		      0);
		rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
		CHECK_EQ_U64(rc, 0);
		CHECK_EQ_U64(tm_writes(fx.m), 2);
		if (tm_writes(fx.m) == 2)
			CHECK_EQ_U64(tm_write_at(fx.m, 0)->off,
				     bad ? NS_SIZE - XP_SB_BLOCK : 0);
		for (int c = 0; c < 2; c++) {
			memcpy(want, fx.sb0, XP_SB_BLOCK);
			xp_sb_relocate(want, c == 1, 8);
			CHECK(!memcmp(sbp(c), want, XP_SB_BLOCK));
		}
		rc = run_check(fx.m, 0, &fs);
		CHECK(rc == 0 && fs.n == 0);
	}
	restore();
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	if (fixture()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(t_backup_foreign);
	RUN(t_primary_foreign);
	RUN(t_foreign_same_generation);
	RUN(t_keep_the_wrong_copy);
	RUN(t_higher_generation_more_slots);
	RUN(t_corrupt_slot_waits);
	RUN(t_tie);
	RUN(t_generation_only);
	RUN(t_one_copy_invalid);
	xp_media_close(fx.m);
	img_free(fx.img, NS_SIZE);
	meta_free(&fx.pristine);
	return xt_finish();
}
