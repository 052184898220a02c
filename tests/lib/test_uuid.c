/* SPDX-License-Identifier: MIT */
/*
 * Extent UUIDs come from a per-handle pool of kernel random bytes
 * (src/lib/uuid.c): every one is a version 4 UUID, none repeats across
 * pool refills, and a fork(2) child that creates extents on its copy of
 * the handle never hands out a UUID its parent also hands out (the pool's
 * page is wiped in the child).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "lib_test.h"

#define UNIT (2 * MiB)

/* More than a pool holds, so that refills are crossed. */
#define MANY 300u
#define AFTER_FORK 16u

static struct xp_ns *fresh(uint8_t **img, struct xp_media **m, uint64_t size)
{
	struct xp_init_opts o = {
	    .max_extents = 1024, .mgmt = XP_MGMT_NONE, .align = UNIT};
	struct xp_ns *ns = NULL;

	CHECK_RC(lt_fresh_ns(size, &o, img, m, &ns), 0);
	return ns;
}

static int mk(struct xp_ns *ns, const char *name, uint8_t uuid[16])
{
	struct xp_create_opts o = {
	    .name = name, .size = UNIT, .flags = XP_NO_ZERO};
	struct xp_extent e;
	int rc = xp_extent_create(ns, &o, &e);

	if (!rc)
		memcpy(uuid, e.uuid, 16);
	return rc;
}

static bool is_v4(const uint8_t u[16])
{
	return (u[6] & 0xf0) == 0x40 && (u[8] & 0xc0) == 0x80;
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* No two of @n UUIDs equal, none nil. */
static void check_distinct(uint8_t (*u)[16], unsigned n)
{
	qsort(u, n, 16, cmp16);
	for (unsigned i = 0; i < n; i++) {
		CHECK_MSG(!xp_uuid_is_nil(u[i]), "nil UUID");
		if (i)
			CHECK_MSG(memcmp(u[i - 1], u[i], 16),
				  "UUID handed out twice");
	}
}

static void t_version4_distinct(void)
{
	uint64_t size = (MANY + 8) * UNIT + 64 * MiB;
	static uint8_t got[MANY + 1][16];
	struct xp_media *m;
	struct xp_ns *ns;
	uint8_t *img;
	char name[16];

	ns = fresh(&img, &m, size);
	if (!ns)
		return;
	for (unsigned i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "e%u", i);
		CHECK_RC(mk(ns, name, got[i]), 0);
		CHECK_MSG(is_v4(got[i]), "extent %u: not a version 4 UUID", i);
	}
	/* The generator behind init and the index seed, too. */
	xp_uuid_generate(got[MANY]);
	CHECK(is_v4(got[MANY]));
	check_distinct(got, MANY + 1);
	xp_ns_close(ns);
	xp_media_close(m);
	img_free(img, size);
}

/*
 * Parent and child each create AFTER_FORK extents on their own copy of
 * the image after the parent's pool was filled: the child's UUIDs come
 * back through a pipe, and all of them differ from all of the parent's.
 */
static void t_fork_distinct(void)
{
	uint64_t size = (2 * AFTER_FORK + 8) * UNIT + 64 * MiB;
	static uint8_t got[2 * AFTER_FORK + 1][16];
	struct xp_media *m;
	struct xp_ns *ns;
	uint8_t *img;
	char name[16];
	int fds[2], status = 0;
	ssize_t n = 0;
	pid_t pid;

	ns = fresh(&img, &m, size);
	if (!ns)
		return;
	/* The pool holds bytes now, which the child inherits but for the
	 * wipe. */
	CHECK_RC(mk(ns, "before", got[2 * AFTER_FORK]), 0);
	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint8_t u[AFTER_FORK][16];
		bool ok = true;

		close(fds[0]);
		for (unsigned i = 0; i < AFTER_FORK; i++) {
			snprintf(name, sizeof(name), "c%u", i);
			ok = ok && !mk(ns, name, u[i]);
		}
		ok = ok && write(fds[1], u, sizeof(u)) == (ssize_t)sizeof(u);
		/* Its copy of everything goes too: a leak checker (valgrind)
		 * must not fail the child. */
		xp_ns_close(ns);
		xp_media_close(m);
		img_free(img, size);
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	for (unsigned i = 0; i < AFTER_FORK; i++) {
		snprintf(name, sizeof(name), "p%u", i);
		CHECK_RC(mk(ns, name, got[i]), 0);
	}
	while (n < (ssize_t)(AFTER_FORK * 16)) {
		ssize_t r = read(fds[0], (uint8_t *)got[AFTER_FORK] + n,
				 AFTER_FORK * 16 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
	}
	close(fds[0]);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child failed to create its extents (status %#x)", status);
	CHECK_EQ_U64(n, AFTER_FORK * 16);
	check_distinct(got, 2 * AFTER_FORK + 1);
	xp_ns_close(ns);
	xp_media_close(m);
	img_free(img, size);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_version4_distinct);
	RUN(t_fork_distinct);
	return xt_finish();
}
