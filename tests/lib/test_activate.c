/* SPDX-License-Identifier: MIT */
/*
 * The activation API (xp_extent_activation / _activate / _deactivate) as a
 * caller such as the export code sees it: the fields of struct
 * xp_activation, idempotence, the detaching state of a loop device still
 * held open, and the refusals with their errno. An in-memory image has no
 * device; a file needs loop devices (root): without them those cases are
 * skipped (exit 77 when nothing else ran).
 */
#include <ctype.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/loop.h>

#include "lib_test.h"

#define NS_SIZE (64 * MiB)

static char path[64];

static bool loop_usable(void)
{
	return !geteuid() && !access("/dev/loop-control", R_OK | W_OK);
}

static int make_file(void)
{
	struct xp_init_opts o = {.max_extents = 8, .mgmt = XP_MGMT_NONE,
				 .align = 2 * MiB};
	struct xp_create_opts c = {.name = "vm1", .size = 8 * MiB,
				   .label_size = 128 * KiB};
	struct xp_ns *ns;
	int fd, rc;

	snprintf(path, sizeof(path), "/tmp/xp-test-activate.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, NS_SIZE)) {
		perror(path);
		exit(2);
	}
	close(fd);
	rc = xp_ns_init(path, &o, NULL);
	rc = rc ?: xp_ns_open(path, XP_OPEN_WRITE, &ns);
	if (rc)
		return rc;
	rc = xp_extent_create(ns, &c, NULL);
	xp_ns_close(ns);
	return rc;
}

static void t_memory_image(void)
{
	struct xp_init_opts o = {.max_extents = 8, .mgmt = XP_MGMT_NONE,
				 .align = 2 * MiB};
	uint8_t *img = img_new(NS_SIZE);
	struct xp_media *m = xp_media_mem_new(img, NS_SIZE);
	struct xp_activation a;
	struct xp_extent e;
	struct xp_ns *ns = NULL;

	CHECK_RC(xp_ns_init_media(m, &o, NULL), 0);
	CHECK_RC(xp_ns_open_media(m, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(ns_mk(ns, "x", 2 * MiB, NULL, 0), 0);
	CHECK_RC(xp_ns_extent_find(ns, "x", &e), 0);
	memset(&a, 0xff, sizeof(a));
	CHECK_RC(xp_extent_activation(ns, &e, &a), 0);
	CHECK(a.kind == XP_ACT_NONE && !a.device[0]);
	CHECK_RC(xp_extent_activate(ns, "x", &a), -EOPNOTSUPP);
	CHECK_CONTAINS(xp_last_error(), "extent 'x'");
	/* nothing active: a destroy is not held up */
	CHECK_RC(xp_extent_destroy(ns, "x", 0), 0);
	xp_ns_close(ns);
	xp_media_close(m);
	img_free(img, NS_SIZE);
}

static void t_loop(void)
{
	struct xp_activation a, b;
	struct xp_extent e;
	struct xp_ns *ns = NULL, *ro = NULL;
	char sys[256];
	int fd;

	CHECK_RC(make_file(), 0);
	/* Each handle holds the namespace's flock: one at a time. */
	CHECK_RC(xp_ns_open(path, 0, &ro), 0);
	CHECK_RC(xp_extent_activate(ro, "vm1", &a), -EBADF);
	xp_ns_close(ro);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_ns_extent_find(ns, "vm1", &e), 0);

	CHECK_RC(xp_extent_activate(ns, "vm1", &a), 0);
	CHECK(a.kind == XP_ACT_LOOP && !a.dax && !a.detaching);
	CHECK(!strncmp(a.device, "/dev/loop", 9));
	CHECK_EQ_U64(a.offset, e.offset);
	CHECK_EQ_U64(a.size, e.size - e.label_size);
	/* a later read-only handle (another process) sees the same */
	xp_ns_close(ns);
	CHECK_RC(xp_ns_open(path, 0, &ro), 0);
	CHECK_RC(xp_extent_activation(ro, &e, &b), 0);
	CHECK(b.kind == XP_ACT_LOOP && !strcmp(b.device, a.device));
	CHECK_EQ_U64(b.offset, a.offset);
	CHECK_EQ_U64(b.size, a.size);
	xp_ns_close(ro);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	/* by slot, idempotent */
	snprintf(sys, sizeof(sys), "@%u", e.slot);
	CHECK_RC(xp_extent_activate(ns, sys, &b), 0);
	CHECK_STR(b.device, a.device);

	CHECK_RC(xp_extent_destroy(ns, "vm1", XP_FORCE), -EBUSY);
	CHECK_CONTAINS(xp_last_error(), a.device);
	CHECK_RC(xp_extent_resize(ns, "vm1", 16 * MiB, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), -EBUSY);
	/* the same size changes nothing, so nothing to refuse */
	CHECK_RC(xp_extent_resize(ns, "vm1", e.size, XP_FORCE | XP_NO_ZERO,
				  NULL, NULL), 0);
	CHECK_RC(xp_extent_wipe(ns, "vm1", XP_FORCE, NULL, NULL), -EBUSY);
	CHECK_RC(xp_extent_set_state(ns, "vm1", XP_EXTENT_LENT_RAM), -EBUSY);

	/* held open elsewhere: deactivate leaves it detaching */
	fd = open(a.device, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_RC(xp_extent_deactivate(ns, "vm1"), -EBUSY);
	CHECK_RC(xp_extent_activation(ns, &e, &b), 0);
	CHECK(b.kind == XP_ACT_LOOP && b.detaching);
	/* activate keeps it */
	CHECK_RC(xp_extent_activate(ns, "vm1", &b), 0);
	CHECK(!b.detaching && !strcmp(b.device, a.device));
	if (fd >= 0)
		close(fd);
	CHECK_RC(xp_extent_activation(ns, &e, &b), 0);
	CHECK(b.kind == XP_ACT_LOOP && !b.detaching);

	CHECK_RC(xp_extent_deactivate(ns, "vm1"), 0);
	CHECK_RC(xp_extent_activation(ns, &e, &b), 0);
	CHECK(b.kind == XP_ACT_NONE);
	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file",
		 a.device + 5);
	CHECK(access(sys, F_OK));
	CHECK_RC(xp_extent_deactivate(ns, "vm1"), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "extent 'vm1' is not active");
	CHECK_RC(xp_extent_destroy(ns, "vm1", 0), 0);
	xp_ns_close(ns);
	unlink(path);
}

/* A loop device over @file's bytes @off+@size with @tag, bound by hand as
 * another tool might: its number, or -1. A free device another process
 * takes first is asked for again, as activate does. */
static int bind_tagged(const char *file, const char *tag, uint64_t off,
		       uint64_t size)
{
	struct loop_config cfg;
	char dev[32];
	int ctl, nr = -1, fd, backing, rc = -1;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	backing = open(file, O_RDWR | O_CLOEXEC);
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)backing;
	cfg.info.lo_offset = off;
	cfg.info.lo_sizelimit = size;
	snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", tag);
	for (int i = 0; i < 8 && rc && ctl >= 0 && backing >= 0; i++) {
		nr = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (nr < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			break;
		rc = ioctl(fd, LOOP_CONFIGURE, &cfg);
		close(fd);
		if (rc && errno != EBUSY)
			break;
	}
	if (backing >= 0)
		close(backing);
	if (ctl >= 0)
		close(ctl);
	return rc ? -1 : nr;
}

static void unbind(int nr)
{
	char dev[32];
	int fd;

	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
	}
}

/*
 * A handle finds activations by the extent UUID its scan parsed out of
 * each device's tag: only the tag exactly as activate writes it counts,
 * "xenpmem:" and the UUID in lower case. Devices over the extent's bytes
 * tagged in upper case, or with more after the UUID, are someone else's:
 * the extent reads inactive and destroy goes ahead; the exact tag, made
 * by hand, holds destroy up.
 */
static void t_loop_tag_exact(void)
{
	char u[XP_UUID_STR_LEN], tag[LO_NAME_SIZE];
	struct xp_activation b;
	struct xp_extent e;
	struct xp_ns *ns = NULL;
	int upper, longer, exact;

	CHECK_RC(make_file(), 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	if (!ns)
		return;
	CHECK_RC(xp_ns_extent_find(ns, "vm1", &e), 0);
	xp_ns_close(ns);
	xp_uuid_format(e.uuid, u);
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	snprintf(tag, sizeof(tag), "xenpmem:%s", u);
	upper = bind_tagged(path, tag, e.offset, e.size - e.label_size);
	xp_uuid_format(e.uuid, u);
	snprintf(tag, sizeof(tag), "xenpmem:%s.old", u);
	longer = bind_tagged(path, tag, e.offset, e.size - e.label_size);
	CHECK(upper >= 0 && longer >= 0);

	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_activation(ns, &e, &b), 0);
	CHECK(b.kind == XP_ACT_NONE);
	xp_ns_close(ns);

	snprintf(tag, sizeof(tag), "xenpmem:%s", u);
	exact = bind_tagged(path, tag, e.offset, e.size - e.label_size);
	CHECK(exact >= 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_destroy(ns, "vm1", XP_FORCE), -EBUSY);
	CHECK_RC(xp_extent_activation(ns, &e, &b), 0);
	CHECK(b.kind == XP_ACT_LOOP);
	CHECK_EQ_U64(b.offset, e.offset);
	xp_ns_close(ns);

	if (exact >= 0)
		unbind(exact);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_destroy(ns, "vm1", XP_FORCE), 0);
	xp_ns_close(ns);
	if (upper >= 0)
		unbind(upper);
	if (longer >= 0)
		unbind(longer);
	unlink(path);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_memory_image);
	if (loop_usable()) {
		RUN(t_loop);
		RUN(t_loop_tag_exact);
	} else
		printf("SKIP t_loop: needs root and /dev/loop-control\n");
	return xt_finish();
}
