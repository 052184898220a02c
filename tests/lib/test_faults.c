/* SPDX-License-Identifier: MIT */
/*
 * Media faults under the library (issue 12): a fence that fails, known
 * bad blocks under init, an unreadable zero area under check.
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
	struct xp_create_opts o = {.name = name, .size = size};
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
	CHECK_RC(xp_extent_resize(e.ns, "a", 8 * MiB), -EIO);
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

/* A bad-blocks list holding one "sector count" line. */
static void set_badblocks(char *path, unsigned long long sector,
			  unsigned long long count)
{
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	if (!f)
		exit(2);
	fprintf(f, "%llu %llu\n", sector, count);
	fclose(f);
	CHECK_RC(xp_ns_set_badblocks_file(path), 0);
}

/*
 * A bad block in the table: init refuses it by the list, before any probe
 * reads it (a read of poison through a mapping is SIGBUS), and writes
 * nothing.
 */
static void t_init_badblocks_before_probes(void)
{
	struct xp_init_opts o = {.mgmt = XP_MGMT_NONE, .align = 2 * MiB};
	char path[] = "/tmp/xenpmem-bb.XXXXXX";
	uint8_t *img = img_new(NS_SIZE);
	struct xp_media *m = tm_new(img, NS_SIZE, 0, 0);

	set_badblocks(path, 16, 8);		/* bytes 8 KiB..12 KiB */
	tm_fail_reads(m, 8 * KiB, 4 * KiB, EIO);
	CHECK_RC(xp_ns_init_media(m, &o), -EIO);
	CHECK_CONTAINS(xp_last_error(),
		       "(memory): bad blocks inside the metadata or management area");
	CHECK_EQ_U64(tm_writes(m), 0);
	lt_expect_zero(img, 0, 4 * MiB);
	xp_ns_set_badblocks_file(NULL);
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
	i = findings_find_text(&fs, XP_ERROR, "zero area", "cannot be read");
	CHECK_MSG(i >= 0, "no finding on the unreadable zero area");
	if (i >= 0) {
		CHECK_CONTAINS(fs.f[i].text, "Input/output error");
		CHECK_STR(fs.f[i].fix, "xenpmem check --repair (memory)");
	}
	tm_reset(e.m);
	CHECK_RC(run_check(e.m, XP_CHECK_REPAIR, &fs), 0);
	CHECK(findings_find(&fs, XP_FIXED, "zero area") >= 0);
	CHECK_EQ_U64(tm_writes(e.m), 1);
	CHECK_EQ_U64(tm_write_at(e.m, 0)->off, 4 * KiB);
	tm_fail_reads(e.m, 0, 0, 0);
	CHECK_RC(run_check(e.m, 0, &fs), 0);
	env_done(&e);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_fence_fails_create);
	RUN(t_fence_fails_resize);
	RUN(t_fence_fails_rename);
	RUN(t_init_badblocks_before_probes);
	RUN(t_check_unreadable_zero_area);
	return xt_finish();
}
