/* SPDX-License-Identifier: MIT */
/*
 * Namespace locks (issue 12, item 6), on real files since flock(2) is the
 * lock: a process never waits on its own handles (-EDEADLK at once), a
 * lock held by another process is waited for within a bound or not at all
 * (-EBUSY, "NAMESPACE: busy, held by another process"), a wipe handle's
 * lock is shared (readers go ahead, writers do not), and discovery reports
 * a namespace it cannot lock as busy instead of waiting.
 */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib_test.h"

#define NS_SIZE (256 * MiB)

static char dir[48], path[64];

static void fresh_ns(void)
{
	struct xp_init_opts o = {.align = 2 * MiB};
	struct xp_create_opts c = {.name = "a", .size = 4 * MiB};
	struct xp_ns *ns;
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && !ftruncate(fd, NS_SIZE));
	close(fd);
	CHECK_RC(xp_ns_init(path, &o, NULL), 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
	xp_ns_close(ns);
}

static void busy_line(const char *tail)
{
	char want[256];

	snprintf(want, sizeof(want), "%s: busy, held by %s", path, tail);
	CHECK_STR(xp_last_error(), want);
}

/* A read handle, then a write handle, in one process: flock(2) would wait
 * for ever (the first lock is this process's own), so it is refused. */
static void t_self_read_then_write(void)
{
	struct xp_ns *r, *w = NULL;

	fresh_ns();
	CHECK_RC(xp_ns_open(path, 0, &r), 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &w), -EDEADLK);
	busy_line("this process (another handle of this namespace is open; close it first)");
	CHECK(w == NULL);
	/* A second reader shares the lock. */
	CHECK_RC(xp_ns_open(path, 0, &w), 0);
	xp_ns_close(w);
	xp_ns_close(r);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &w), 0);
	xp_ns_close(w);
}

static void t_self_write_then_read(void)
{
	struct xp_ns *w, *r = NULL;
	struct xp_init_opts o = {.align = 2 * MiB, .force = true};
	struct findings fs = {0};

	fresh_ns();
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &w), 0);
	CHECK_RC(xp_ns_open(path, 0, &r), -EDEADLK);
	busy_line("this process (another handle of this namespace is open; close it first)");
	CHECK_RC(xp_check(path, 0, findings_cb, &fs), -EDEADLK);
	CHECK_RC(xp_ns_init(path, &o, NULL), -EDEADLK);
	CHECK_RC(xp_ns_extent_count(w), 1);
	xp_ns_close(w);
}

/* Discovery looks at every namespace on the host, the caller's too. */
static void t_discovery_busy(void)
{
	struct xp_pmem_ns p = {0};
	struct xp_ns *h;

	fresh_ns();
	p.node = path;
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &h), 0);
	xp_discover_probe(&p);
	CHECK_RC(p.xenpmem, XP_META_BUSY);
	xp_ns_close(h);
	CHECK_RC(xp_ns_open(path, 0, &h), 0);
	xp_discover_probe(&p);
	CHECK_RC(p.xenpmem, XP_META_OK);
	CHECK_RC(p.extents, 1);
	xp_ns_close(h);
}

/*
 * A child process opens @flags, says so through a pipe, and holds the
 * handle until the parent closes its end of the second pipe.
 */
struct holder {
	pid_t pid;
	int release;
};

static struct holder hold(unsigned flags)
{
	struct holder h = {-1, -1};
	int ready[2], go[2];
	char c = 0;

	if (pipe(ready) || pipe(go)) {
		CHECK_MSG(0, "pipe");
		return h;
	}
	h.pid = fork();
	if (h.pid == 0) {
		struct xp_ns *ns;

		close(ready[0]);
		close(go[1]);
		if (xp_ns_open(path, flags, &ns))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		(void)!read(go[0], &c, 1);
		xp_ns_close(ns);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	CHECK_MSG(read(ready[0], &c, 1) == 1, "the holder did not open");
	close(ready[0]);
	h.release = go[1];
	return h;
}

static void unhold(struct holder h)
{
	int st = 0;

	close(h.release);
	CHECK(waitpid(h.pid, &st, 0) == h.pid && WIFEXITED(st) &&
	      !WEXITSTATUS(st));
}

static void t_other_writer(void)
{
	struct xp_init_opts o = {.align = 2 * MiB, .force = true,
				 .flags = XP_NOWAIT};
	struct findings fs = {0};
	struct xp_ns *ns = NULL;
	struct holder h;
	uint8_t before[4096], after[4096];
	int fd;

	fresh_ns();
	h = hold(XP_OPEN_WRITE);
	CHECK_RC(xp_ns_open(path, XP_NOWAIT, &ns), -EBUSY);
	busy_line("another process");
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE | XP_NOWAIT, &ns), -EBUSY);
	busy_line("another process");
	CHECK_RC(xp_check(path, XP_NOWAIT, findings_cb, &fs), -EBUSY);
	busy_line("another process");
	CHECK_RC(fs.n, 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(pread(fd, before, sizeof(before), 0) == sizeof(before));
	CHECK_RC(xp_ns_init(path, &o, NULL), -EBUSY);
	busy_line("another process");
	CHECK(pread(fd, after, sizeof(after), 0) == sizeof(after));
	CHECK(!memcmp(before, after, sizeof(before)));
	close(fd);
	/* The bound: given up after it, saying so. */
	CHECK_RC(xp_ns_open(path, XP_WAIT_SECONDS(1), &ns), -EBUSY);
	busy_line("another process (waited 1 s)");
	CHECK(ns == NULL);
	unhold(h);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE | XP_NOWAIT, &ns), 0);
	xp_ns_close(ns);
}

/* A reader elsewhere: readers and a wipe go ahead, a writer does not. */
static void t_other_reader(void)
{
	struct xp_ns *ns = NULL;
	struct holder h;

	fresh_ns();
	h = hold(0);
	CHECK_RC(xp_ns_open(path, XP_NOWAIT, &ns), 0);
	xp_ns_close(ns);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WIPE | XP_NOWAIT, &ns), 0);
	xp_ns_close(ns);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE | XP_NOWAIT, &ns), -EBUSY);
	busy_line("another process");
	unhold(h);
}

/*
 * A wipe holds its lock shared for its whole run: another process may
 * read meanwhile, not change the table. The wipe handle itself changes
 * no metadata.
 */
static void t_wipe_shared(void)
{
	struct xp_create_opts c = {.name = "b", .size = 4 * MiB};
	struct xp_extent a;
	struct xp_ns *ns, *r;
	struct holder h;
	uint8_t buf[64];
	int fd;

	fresh_ns();
	CHECK_RC(xp_ns_open(path, 0, &r), 0);
	CHECK_RC(xp_ns_extent_find(r, "a", &a), 0);
	xp_ns_close(r);
	fd = open(path, O_RDWR | O_CLOEXEC);
	memset(buf, 0xa5, sizeof(buf));
	CHECK(pwrite(fd, buf, sizeof(buf), (off_t)a.offset) == sizeof(buf));

	CHECK_RC(xp_ns_open(path, XP_OPEN_WIPE, &ns), 0);
	/* Readers: another process, and this one. */
	h = hold(XP_NOWAIT);
	unhold(h);
	CHECK_RC(xp_ns_open(path, XP_NOWAIT, &r), 0);
	xp_ns_close(r);
	/* Not a writer: the extent must not change under the wipe. */
	if (fork() == 0) {
		struct xp_ns *w;

		_exit(xp_ns_open(path, XP_OPEN_WRITE | XP_NOWAIT, &w) == -EBUSY ?
			      0 : 1);
	} else {
		int st = 0;

		CHECK(wait(&st) > 0 && WIFEXITED(st) && !WEXITSTATUS(st));
	}
	CHECK_RC(xp_extent_create(ns, &c, NULL), -EBADF);
	CHECK_RC(xp_extent_destroy(ns, "a", XP_FORCE), -EBADF);
	CHECK_RC(xp_extent_wipe(ns, "a", XP_FORCE, NULL, NULL), 0);
	xp_ns_close(ns);
	CHECK(pread(fd, buf, sizeof(buf), (off_t)a.offset) == sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_MSG(!buf[i], "byte %zu of 'a' is %#x after wipe", i, buf[i]);
	close(fd);
}

int main(int argc, char **argv)
{
	int rc;

	lib_test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s/xp-locks.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ns.img", dir);
	RUN(t_self_read_then_write);
	RUN(t_self_write_then_read);
	RUN(t_discovery_busy);
	RUN(t_other_writer);
	RUN(t_other_reader);
	RUN(t_wipe_shared);
	rc = xt_finish();
	unlink(path);
	rmdir(dir);
	return rc;
}
