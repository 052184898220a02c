/* SPDX-License-Identifier: MIT */
/*
 * Media faults under the library (issue 12): a fence that fails, known
 * bad blocks under init, create and resize, an unreadable zero area,
 * superblock copy or table page.
 *
 * After a failed fdatasync or flush the new bytes stay current in the page
 * cache for every other process, though the media may never get them; the
 * next update of the slot would then tear both copies. The library puts
 * the old bytes back and refuses every later change through the handle.
 */
#include <unistd.h>

#include "lib_test.h"

#define NS_SIZE (256 * MiB)

struct env {
	uint8_t *img;
	struct xp_media *m;
	struct xp_ns *ns;
	struct xp_info info;
	uint8_t *meta;		/* metadata as it was: [0, data_offset) */
	uint8_t backup[XP_SB_BLOCK];
};

static int env_new(struct env *e)
{
	struct xp_init_opts o = {.mgmt = XP_MGMT_NONE, .align = 2 * MiB};
	int rc;

	memset(e, 0, sizeof(*e));
	rc = lt_fresh_ns(NS_SIZE, &o, &e->img, &e->m, &e->ns);
	CHECK_RC(rc, 0);
	if (rc)
		return rc;
	xp_ns_get_info(e->ns, &e->info);
	e->meta = malloc(e->info.data_offset);
	if (!e->meta)
		exit(2);
	return 0;
}

static void env_done(struct env *e)
{
	if (e->ns)
		xp_ns_close(e->ns);
	xp_media_close(e->m);
	free(e->meta);
	img_free(e->img, NS_SIZE);
}

static int mk(struct xp_ns *ns, const char *name, uint64_t size)
{
	/* Metadata only: the zeroing of a new range is tested elsewhere. */
	struct xp_create_opts o = {.name = name, .size = size,
				   .flags = XP_NO_ZERO};
	struct xp_extent x;

	return xp_extent_create(ns, &o, &x);
}

static void snap(struct env *e)
{
	memcpy(e->meta, e->img, e->info.data_offset);
	memcpy(e->backup, e->img + NS_SIZE - XP_SB_BLOCK, XP_SB_BLOCK);
}

/* Every metadata byte, both superblocks and the table, as snap() saw. */
static void expect_unchanged(struct env *e)
{
	CHECK_MSG(!memcmp(e->meta, e->img, e->info.data_offset),
		  "the table or primary superblock changed");
	CHECK_MSG(!memcmp(e->backup, e->img + NS_SIZE - XP_SB_BLOCK,
			  XP_SB_BLOCK), "the backup superblock changed");
}

/* The change that failed is refused again with the sticky error, and a
 * fresh handle over the same bytes sees exactly extent "a", 2 MiB. */
static void expect_broken_then_reopen(struct env *e)
{
	struct xp_media *m2;
	struct xp_ns *ns2 = NULL;
	struct xp_extent x = {0};

	CHECK_RC(mk(e->ns, "c", 2 * MiB), -EIO);
	CHECK_CONTAINS(xp_last_error(),
		       "(memory): an earlier write to the namespace failed");
	CHECK_RC(xp_extent_destroy(e->ns, "a", XP_FORCE), -EIO);
	expect_unchanged(e);

	m2 = tm_new(e->img, NS_SIZE, 0, 0);
	CHECK_RC(xp_ns_open_media(m2, XP_OPEN_WRITE, &ns2), 0);
	if (!ns2) {
		xp_media_close(m2);
		return;
	}
	CHECK_EQ_U64(xp_ns_extent_count(ns2), 1);
	CHECK_RC(xp_ns_extent_find(ns2, "a", &x), 0);
	CHECK_EQ_U64(x.size, 2 * MiB);
	/* The new handle changes the namespace as usual. */
	CHECK_RC(mk(ns2, "b", 2 * MiB), 0);
	CHECK_EQ_U64(xp_ns_extent_count(ns2), 2);
	xp_ns_close(ns2);
	xp_media_close(m2);
}

static void t_fence_fails_create(void)
{
	struct env e;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	snap(&e);
	tm_fail_drain(e.m, 1);
	CHECK_RC(mk(e.ns, "b", 2 * MiB), -EIO);
	CHECK_STR(xp_last_error(), "(memory): fdatasync: Input/output error");
	expect_unchanged(&e);
	expect_broken_then_reopen(&e);
	env_done(&e);
}

static void t_fence_fails_resize(void)
{
	struct env e;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	snap(&e);
	tm_fail_drain(e.m, 1);
	CHECK_RC(xp_extent_resize(e.ns, "a", 8 * MiB, XP_NO_ZERO, NULL, NULL), -EIO);
	CHECK_STR(xp_last_error(), "(memory): fdatasync: Input/output error");
	expect_unchanged(&e);
	expect_broken_then_reopen(&e);
	env_done(&e);
}

static void t_fence_fails_rename(void)
{
	struct env e;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	CHECK_RC(mk(e.ns, "tmp", 2 * MiB), 0);
	CHECK_RC(xp_extent_destroy(e.ns, "tmp", XP_FORCE), 0);
	snap(&e);
	tm_fail_drain(e.m, 1);
	CHECK_RC(xp_extent_rename(e.ns, "a", "z", 0), -EIO);
	expect_unchanged(&e);
	expect_broken_then_reopen(&e);
	env_done(&e);
}

/* A bad-blocks list of "sector count" lines, @n pairs from @v. */
static void set_badblocks(char *path, const unsigned long long *v, int n)
{
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f)
		exit(2);
	for (int i = 0; i < n; i++)
		fprintf(f, "%llu %llu\n", v[2 * i], v[2 * i + 1]);
	fclose(f);
	/* read by every open: no state is kept in the library */
	CHECK_RC(setenv("XENPMEM_BADBLOCKS_FILE", path, 1), 0);
}

/*
 * A bad block in the table: init refuses it by the list, before any probe
 * reads it (a read of poison through a mapping is SIGBUS), and writes
 * nothing.
 */
static void t_init_badblocks_before_probes(void)
{
	static const unsigned long long bb[] = {16, 8}; /* 8 KiB..12 KiB */
	struct xp_init_opts o = {.mgmt = XP_MGMT_NONE, .align = 2 * MiB};
	char path[] = "/tmp/xenpmem-bb.XXXXXX";
	uint8_t *img = img_new(NS_SIZE);
	struct xp_media *m = tm_new(img, NS_SIZE, 0, 0);

	set_badblocks(path, bb, 1);
	tm_fail_reads(m, 8 * KiB, 4 * KiB, EIO);
	CHECK_RC(xp_ns_init_media(m, &o, NULL), -EIO);
	CHECK_CONTAINS(xp_last_error(),
		       "(memory): bad blocks inside the metadata or management area");
	CHECK_EQ_U64(tm_writes(m), 0);
	lt_expect_zero(img, 0, 4 * MiB);
	unsetenv("XENPMEM_BADBLOCKS_FILE");
	unlink(path);
	xp_media_close(m);
	img_free(img, NS_SIZE);
}

/* check names an unreadable zero area; --repair stores zeroes over it. */
static void t_check_unreadable_zero_area(void)
{
	struct findings fs;
	struct env e;
	int i;

	if (env_new(&e))
		return;
	xp_ns_close(e.ns);
	e.ns = NULL;
	tm_fail_reads(e.m, 4 * KiB, 512, EIO);
	CHECK_RC(run_check(e.m, 0, &fs), 1);
	i = findings_find_text(&fs, XP_SEV_ERROR, "zero area", "cannot be read");
	CHECK_MSG(i >= 0, "no finding on the unreadable zero area");
	if (i >= 0) {
		CHECK_CONTAINS(fs.f[i].text, "Input/output error");
		CHECK_STR(fs.f[i].fix, "xenpmem check --repair (memory)");
	}
	tm_reset(e.m);
	CHECK_RC(run_check(e.m, XP_CHECK_REPAIR, &fs), 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "zero area") >= 0);
	CHECK_EQ_U64(tm_writes(e.m), 1);
	CHECK_EQ_U64(tm_write_at(e.m, 0)->off, 4 * KiB);
	tm_fail_reads(e.m, 0, 0, 0);
	CHECK_RC(run_check(e.m, 0, &fs), 0);
	env_done(&e);
}

/* Open for reading: extent "a" (2 MiB) is there. */
static void expect_a_readable(struct xp_media *m)
{
	struct xp_extent x = {0};
	struct xp_ns *ns = NULL;

	CHECK_RC(xp_ns_open_media(m, 0, &ns), 0);
	if (!ns)
		return;
	CHECK_RC(xp_ns_extent_find(ns, "a", &x), 0);
	CHECK_EQ_U64(x.size, 2 * MiB);
	xp_ns_close(ns);
}

/* One superblock copy unreadable: the other serves; check names it and
 * --repair rewrites it. */
static void sb_copy_unreadable(int copy)
{
	static const char *const obj[2] = {"superblock.primary",
					   "superblock.backup"};
	uint64_t off = copy ? NS_SIZE - XP_SB_BLOCK : 0;
	struct xp_ns *ns = NULL;
	struct findings fs;
	struct env e;
	char want[128];
	int i;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	xp_ns_close(e.ns);
	e.ns = NULL;
	tm_fail_reads(e.m, off, 512, EIO);
	expect_a_readable(e.m);
	snprintf(want, sizeof(want),
		 "(memory): superblock %s copy is invalid (unreadable (read at %#" PRIx64 ": Input/output error)); run 'xenpmem check --repair'",
		 copy ? "backup" : "primary", off);
	CHECK_RC(xp_ns_open_media(e.m, XP_OPEN_WRITE, &ns), -EUCLEAN);
	CHECK_STR(xp_last_error(), want);
	CHECK_RC(run_check(e.m, 0, &fs), 1);
	i = findings_find(&fs, XP_SEV_ERROR, obj[copy]);
	CHECK_MSG(i >= 0, "no finding on the unreadable copy");
	if (i >= 0) {
		snprintf(want, sizeof(want),
			 "unreadable (read at %#" PRIx64 ": Input/output error)",
			 off);
		CHECK_STR(fs.f[i].text, want);
		CHECK_STR(fs.f[i].fix, "xenpmem check --repair (memory)");
	}
	tm_reset(e.m);
	run_check(e.m, XP_CHECK_REPAIR, &fs);
	CHECK(findings_find(&fs, XP_SEV_FIXED, obj[copy]) >= 0);
	CHECK(tm_writes(e.m) >= 1 && tm_write_at(e.m, 0)->off == off);
	/* The store cleared the bad block. */
	tm_fail_reads(e.m, 0, 0, 0);
	CHECK_RC(run_check(e.m, 0, &fs), 0);
	CHECK_RC(xp_ns_open_media(e.m, XP_OPEN_WRITE, &ns), 0);
	if (ns)
		xp_ns_close(ns);
	expect_a_readable(e.m);
	env_done(&e);
}

static void t_sb_primary_unreadable(void)
{
	sb_copy_unreadable(0);
}

static void t_sb_backup_unreadable(void)
{
	sb_copy_unreadable(1);
}

/*
 * A writer takes the bytes its stores replace from the table it read at
 * open, not from the media (a read there is a system call): with every
 * read failing, updates still go ahead, and when a fence fails the bytes
 * put back are those of the last good update, byte for byte.
 */
static void t_fence_fails_no_reads(void)
{
	static const uint8_t own[16] = {7, 7, 7};
	struct xp_extent x = {0};
	struct xp_media *m2;
	struct xp_ns *ns2 = NULL;
	struct env e;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	tm_fail_reads(e.m, 0, NS_SIZE, EIO);
	CHECK_RC(xp_extent_rename(e.ns, "a", "b", 0), 0);
	CHECK_RC(xp_extent_assign(e.ns, "b", own), 0);
	CHECK_RC(xp_extent_rename(e.ns, "b", "c", 0), 0);
	snap(&e);
	tm_fail_drain(e.m, 1);
	CHECK_RC(xp_extent_assign(e.ns, "c", NULL), -EIO);
	expect_unchanged(&e);
	tm_fail_reads(e.m, 0, 0, 0);

	m2 = tm_new(e.img, NS_SIZE, 0, 0);
	CHECK_RC(xp_ns_open_media(m2, XP_OPEN_WRITE, &ns2), 0);
	if (ns2) {
		CHECK_EQ_U64(xp_ns_extent_count(ns2), 1);
		CHECK_RC(xp_ns_extent_find(ns2, "c", &x), 0);
		CHECK(!memcmp(x.owner, own, 16));
		xp_ns_close(ns2);
	}
	xp_media_close(m2);
	env_done(&e);
}

/* A table page unreadable: its slots are corrupt and named; extent "a"
 * on another page stays listed; --repair --force frees those slots. */
static void t_table_page_unreadable(void)
{
	uint64_t page = XP_TABLE_OFFSET + XP_PAGE_SIZE;	/* slots 16..31 */
	uint32_t first = XP_PAGE_SIZE / XP_SLOT_SIZE, n = first;
	struct xp_ns *ns = NULL;
	struct findings fs;
	struct env e;
	char want[128];
	int i;

	if (env_new(&e))
		return;
	CHECK_RC(mk(e.ns, "a", 2 * MiB), 0);
	xp_ns_close(e.ns);
	e.ns = NULL;
	tm_fail_reads(e.m, page + 512, 512, EIO);
	expect_a_readable(e.m);
	CHECK_RC(xp_ns_open_media(e.m, XP_OPEN_WRITE, &ns), -EUCLEAN);
	CHECK_STR(xp_last_error(),
		  "(memory): 16 extent table slots are corrupt; run 'xenpmem check'");
	CHECK_RC(run_check(e.m, 0, &fs), (int)n);
	snprintf(want, sizeof(want),
		 "its table page cannot be read (read at %#" PRIx64 ": Input/output error); --repair --force frees the slot",
		 page);
	for (uint32_t s = first; s < first + n; s++) {
		char obj[32];

		snprintf(obj, sizeof(obj), "slot %u", s);
		i = findings_find(&fs, XP_SEV_ERROR, obj);
		CHECK_MSG(i >= 0, "no finding on %s", obj);
		if (i >= 0)
			CHECK_STR(fs.f[i].text, want);
	}
	CHECK(findings_find(&fs, XP_SEV_ERROR, "slot 15") < 0);
	CHECK(findings_find(&fs, XP_SEV_ERROR, "slot 32") < 0);
	CHECK_EQ_U64(findings_errors_without_fix(&fs, NULL), 0);
	CHECK_RC(run_check(e.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs), 0);
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_FIXED), n);
	tm_fail_reads(e.m, 0, 0, 0);
	CHECK_RC(run_check(e.m, 0, &fs), 0);
	expect_a_readable(e.m);
	env_done(&e);
}

/*
 * Bad blocks 4 KiB into the data area and 4 KiB past its first 6 MiB:
 * "a" (4 MiB) goes past the first, may not grow over the second, and "b"
 * goes past that.
 */
static void t_extents_avoid_badblocks(void)
{
	char path[] = "/tmp/xenpmem-bb.XXXXXX";
	struct xp_extent x = {0};
	struct xp_media *m2;
	struct xp_ns *ns2 = NULL;
	unsigned long long bb[4];
	struct env e;
	uint64_t d;

	if (env_new(&e))
		return;
	d = e.info.data_offset;
	bb[0] = (d + 4 * KiB) / 512;
	bb[2] = (d + 6 * MiB + 4 * KiB) / 512;
	bb[1] = bb[3] = 8;
	set_badblocks(path, bb, 2);
	/* A handle reads the list when it opens. */
	m2 = tm_new(e.img, NS_SIZE, 0, 0);
	CHECK_RC(xp_ns_open_media(m2, XP_OPEN_WRITE, &ns2), 0);
	if (!ns2)
		goto out;
	CHECK_RC(mk(ns2, "a", 4 * MiB), 0);
	CHECK_RC(xp_ns_extent_find(ns2, "a", &x), 0);
	CHECK_EQ_U64(x.offset, d + 2 * MiB);
	CHECK_EQ_U64(x.badblocks, 0);
	snap(&e);
	CHECK_RC(xp_extent_resize(ns2, "a", 6 * MiB, XP_NO_ZERO, NULL, NULL), -EIO);
	CHECK_STR(xp_last_error(),
		  "(memory): extent 'a' cannot grow to 6 MiB: the range it would take holds known bad blocks ('xenpmem check' lists them)");
	expect_unchanged(&e);
	CHECK_RC(mk(ns2, "b", 2 * MiB), 0);
	CHECK_RC(xp_ns_extent_find(ns2, "b", &x), 0);
	CHECK_EQ_U64(x.offset, d + 8 * MiB);
	CHECK_EQ_U64(x.badblocks, 0);
	xp_ns_close(ns2);
out:
	xp_media_close(m2);
	unsetenv("XENPMEM_BADBLOCKS_FILE");
	unlink(path);
	env_done(&e);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_fence_fails_create);
	RUN(t_fence_fails_resize);
	RUN(t_fence_fails_rename);
	RUN(t_fence_fails_no_reads);
	RUN(t_init_badblocks_before_probes);
	RUN(t_check_unreadable_zero_area);
	RUN(t_sb_primary_unreadable);
	RUN(t_sb_backup_unreadable);
	RUN(t_table_page_unreadable);
	RUN(t_extents_avoid_badblocks);
	return xt_finish();
}
