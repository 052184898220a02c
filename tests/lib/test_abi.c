/* SPDX-License-Identifier: MIT */
/*
 * The public ABI (issue 12, item 12): struct layouts frozen at 1.0 with
 * reserved space last, zero-initialised options meaning the defaults,
 * reserved words and unknown flags refused with the media unchanged,
 * strings handed out whole, the version query and the log hook.
 */
#include <fcntl.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "lib_test.h"

static char dir[64], path[512];

static void make_file(const char *p, uint64_t size)
{
	int fd;

	unlink(p);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	CHECK(fd >= 0 && !ftruncate(fd, (off_t)size));
	close(fd);
}

/* FNV-1a of the file's first @len bytes: "the media is unchanged". */
static uint64_t file_hash(const char *p, uint64_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t buf[65536];
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	CHECK(fd >= 0);
	while (len && (n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
		len -= (uint64_t)n;
	}
	close(fd);
	return h;
}

/* A 2 MiB-aligned namespace with extent "a" (4 MiB). */
static void fresh_ns(uint64_t size)
{
	struct xp_init_opts o = {.align = 2 * MiB, .mgmt = XP_MGMT_NONE};
	struct xp_create_opts c = {.name = "a", .size = 4 * MiB};
	struct xp_ns *ns;

	make_file(path, size);
	CHECK_RC(xp_ns_init(path, &o, NULL), 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
	xp_ns_close(ns);
}

static void t_version(void)
{
	CHECK_EQ_U64(xp_version(), XP_VERSION);
	CHECK_EQ_U64(XP_VERSION, XP_VERSION_CODE(XP_VERSION_MAJOR,
						 XP_VERSION_MINOR,
						 XP_VERSION_MICRO));
	/* The header, the library and meson.build's version agree. */
	CHECK_STR(xp_version_string(), XENPMEM_VERSION);
	CHECK(XP_VERSION_CODE(1, 1, 0) > XP_VERSION_CODE(1, 0, 9));
}

/*
 * Layouts as released in 1.0 (x86-64): a field added anywhere but in
 * the reserved space changes a size or the reserved offset, which an
 * application built against 1.0 would read wrongly. Grow into reserved.
 */
static void t_layouts(void)
{
	static const struct {
		const char *name;
		size_t size, reserved, end;
	} l[] = {
#define L(t, sz, res) {#t, sz, res, 0}, \
	{#t " (actual)", sizeof(struct t), offsetof(struct t, reserved), \
	 offsetof(struct t, reserved) + sizeof(((struct t *)0)->reserved)}
		L(xp_init_opts, 80, 32),
		L(xp_info, 312, 248),
		L(xp_extent, 200, 152),
		L(xp_gap, 32, 16),
		L(xp_create_opts, 120, 72),
		L(xp_activation, 208, 176),
		L(xp_finding, 64, 32),
		L(xp_pmem_ns, 104, 72),
		L(xp_hv_ns, 168, 120),
		L(xp_hv_region, 56, 40),
		L(xp_hv_mapping, 136, 104),
#undef L
	};

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i += 2) {
		/* Reserved space is last, on every architecture. */
		CHECK_MSG(l[i + 1].end == l[i + 1].size,
			  "%s: reserved space is not the struct's end", l[i].name);
#if defined(__x86_64__)
		CHECK_MSG(l[i + 1].size == l[i].size &&
			  l[i + 1].reserved == l[i].reserved,
			  "%s: size %zu, reserved at %zu; 1.0 had %zu, %zu",
			  l[i].name, l[i + 1].size, l[i + 1].reserved,
			  l[i].size, l[i].reserved);
#endif
	}
	CHECK(XP_DEVICE_MAX >= sizeof("/dev/mapper/") + 127);
}

/* A zeroed xp_init_opts, and NULL, mean the documented defaults. */
static void t_init_defaults(void)
{
	struct xp_init_opts zero = {0};
	struct xp_info info;
	struct xp_ns *ns;

	for (int pass = 0; pass < 2; pass++) {
		make_file(path, 8 * GiB);
		CHECK_RC(xp_ns_init(path, pass ? NULL : &zero, NULL), 0);
		CHECK_RC(xp_ns_open(path, 0, &ns), 0);
		if (!ns)
			continue;
		CHECK_RC(xp_ns_get_info(ns, &info), 0);
		CHECK_RC(info.mgmt, XP_MGMT_XEN);
		CHECK(info.compat_m2p);
		CHECK(info.mgmt_size > 0 && info.ft_chunks > 0);
		CHECK_EQ_U64(info.slot_count, 1024);
		CHECK_EQ_U64(info.align, GiB);
		CHECK_STR(info.target, path);
		for (size_t i = 0; i < 8; i++)
			CHECK_EQ_U64(info.reserved[i], 0);
		xp_ns_close(ns);
	}
}

/* A zeroed xp_create_opts but for name and size: unassigned, the
 * namespace's alignment, no label area, and the range zeroed. */
static void t_create_defaults(void)
{
	struct xp_init_opts o = {.align = 2 * MiB, .mgmt = XP_MGMT_NONE};
	struct xp_create_opts c = {.name = "z", .size = 8 * MiB};
	struct xp_info info;
	struct xp_extent e;
	struct xp_ns *ns;
	uint8_t *buf = malloc(8 * MiB);
	size_t nonzero = 0;
	int fd;

	make_file(path, 256 * MiB);
	CHECK_RC(xp_ns_init(path, &o, NULL), 0);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	if (!ns || !buf)
		goto out;
	CHECK_RC(xp_ns_get_info(ns, &info), 0);
	/* Another tenant's bytes where the extent will go. */
	memset(buf, 0xa5, 8 * MiB);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(pwrite(fd, buf, 8 * MiB, (off_t)info.data_offset) == 8 * MiB);
	CHECK_RC(xp_extent_create(ns, &c, &e), 0);
	CHECK(!e.assigned);
	for (int i = 0; i < 16; i++)
		CHECK(e.owner[i] == 0);
	CHECK_EQ_U64(e.align, info.align);
	CHECK_EQ_U64(e.label_size, 0);
	CHECK_EQ_U64(e.offset, info.data_offset);
	CHECK(pread(fd, buf, 8 * MiB, (off_t)e.offset) == 8 * MiB);
	for (size_t i = 0; i < 8 * MiB; i++)
		nonzero += buf[i] != 0;
	CHECK_EQ_U64(nonzero, 0);
	close(fd);
	xp_ns_close(ns);
out:
	free(buf);
}

/* A reserved word set (a caller built against a newer header) is refused,
 * naming it, and nothing is written. */
static void t_reserved_refused(void)
{
	struct xp_init_opts o = {.align = 2 * MiB, .mgmt = XP_MGMT_NONE};
	struct xp_create_opts c = {.name = "b", .size = 4 * MiB};
	struct xp_ns *ns;
	uint64_t h;

	make_file(path, 64 * MiB);
	h = file_hash(path, 64 * MiB);
	o.reserved[5] = 1;
	CHECK_RC(xp_ns_init(path, &o, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "reserved field set");
	CHECK_CONTAINS(xp_last_error(), path);
	CHECK_EQ_U64(file_hash(path, 64 * MiB), h);

	fresh_ns(64 * MiB);
	h = file_hash(path, 64 * MiB);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	if (!ns)
		return;
	c.reserved[0] = 7;
	CHECK_RC(xp_extent_create(ns, &c, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "create options: reserved field set");
	CHECK_RC(xp_extent_create(ns, NULL, NULL), -EINVAL);
	CHECK_EQ_U64(xp_ns_extent_count(ns), 1);
	xp_ns_close(ns);
	CHECK_EQ_U64(file_hash(path, 64 * MiB), h);
}

/* A flag bit the library does not know is refused, not ignored. */
static void t_unknown_flags(void)
{
	struct xp_init_opts o = {.align = 2 * MiB, .flags = 1u << 3};
	struct xp_create_opts c = {.name = "b", .size = 4 * MiB,
				   .flags = 1u << 4};
	struct xp_activation act;
	struct xp_ns *ns = NULL;
	uint64_t h;

	fresh_ns(64 * MiB);
	h = file_hash(path, 64 * MiB);
	CHECK_RC(xp_ns_init(path, &o, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "init: unknown flags 0x8");
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE | (1u << 5), &ns), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "open: unknown flags 0x20");
	CHECK(ns == NULL);
	CHECK_RC(xp_check(path, 1u << 9, NULL, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "check: unknown flags 0x200");
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	if (!ns)
		return;
	CHECK_RC(xp_extent_create(ns, &c, NULL), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "create: unknown flags 0x10");
	CHECK_RC(xp_extent_destroy(ns, "a", XP_FORCE | (1u << 7)), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "destroy: unknown flags 0x80");
	CHECK_RC(xp_extent_resize(ns, "a", 2 * MiB, 1u << 6, NULL, NULL),
		 -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "resize: unknown flags 0x40");
	CHECK_RC(xp_extent_rename(ns, "a", "c", 1u << 2), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "rename: unknown flags 0x4");
	CHECK_RC(xp_extent_wipe(ns, "a", XP_FORCE | (1u << 1), NULL, NULL),
		 -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "wipe: unknown flags 0x2");
	CHECK_RC(xp_extent_activate_flags(ns, "a", 1u << 1, &act), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "activate: unknown flags 0x2");
	CHECK_EQ_U64(xp_ns_extent_count(ns), 1);
	xp_ns_close(ns);
	CHECK_EQ_U64(file_hash(path, 64 * MiB), h);
}

struct findings_long {
	unsigned n, with_fix;
	char fix[600];
};

static void long_cb(const struct xp_finding *f, void *arg)
{
	struct findings_long *x = arg;

	x->n++;
	if (f->severity == XP_SEV_ERROR && *f->fix) {
		x->with_fix++;
		snprintf(x->fix, sizeof(x->fix), "%s", f->fix);
	}
}

/*
 * Strings come whole: a target path of 400 bytes is in info.target and in
 * check's fix command to its last byte (a 160-byte fix array cut it).
 */
static void t_long_strings(void)
{
	char deep[512], fixwant[600];
	struct findings_long fl = {0};
	struct xp_info info;
	struct xp_ns *ns;
	uint8_t junk = 0x5a;
	int fd;

	snprintf(deep, sizeof(deep), "%s/%s", dir,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	mkdir(deep, 0755);
	strcat(deep, "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	mkdir(deep, 0755);
	strcat(deep, "/ns-with-a-long-name.img");
	CHECK(strlen(deep) > 200 && strlen(deep) < 256);
	snprintf(path, sizeof(path), "%s", deep);
	fresh_ns(64 * MiB);
	CHECK_RC(xp_ns_open(path, 0, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_get_info(ns, &info), 0);
		CHECK_STR(info.target, deep);
		xp_ns_close(ns);
	}
	/* Damage the primary superblock: check names the repair, whole. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK(pwrite(fd, &junk, 1, 200) == 1);
	close(fd);
	CHECK(xp_check(path, 0, long_cb, &fl) >= 1);
	snprintf(fixwant, sizeof(fixwant), "xenpmem check --repair %s", deep);
	CHECK_EQ_U64(fl.with_fix, 1);
	CHECK_STR(fl.fix, fixwant);
	unlink(path);
	*strrchr(deep, '/') = 0;
	rmdir(deep);
	*strrchr(deep, '/') = 0;
	rmdir(deep);
	snprintf(path, sizeof(path), "%s/ns.img", dir);
}

/* A domain name longer than the caller's buffer: -ERANGE, not a cut name
 * that could pass for another domain's. */
static void t_owner_lookup_range(void)
{
	static const char *uuid = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
	char domains[128], name[256], small[16] = "untouched";
	char longname[101];
	uint8_t u[16];
	uint32_t id = 0;
	FILE *f;

	memset(longname, 'n', 100);
	longname[100] = 0;
	snprintf(domains, sizeof(domains), "%s/domains", dir);
	f = fopen(domains, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "0 Domain-0 00000000-0000-0000-0000-000000000000\n");
	fprintf(f, "7 %s %s\n", longname, uuid);
	fclose(f);
	setenv("XENPMEM_XEN_DOMAINS", domains, 1);
	CHECK_RC(xp_uuid_parse(uuid, u), 0);
	CHECK_RC(xp_owner_lookup(u, small, sizeof(small), &id), -ERANGE);
	CHECK_STR(small, "untouched");
	CHECK_RC(xp_owner_lookup(u, name, sizeof(name), &id), 0);
	CHECK_STR(name, longname);
	CHECK_EQ_U64(id, 7);
	/* By name, the whole name. */
	memset(u, 0, sizeof(u));
	CHECK_RC(xp_owner_resolve(longname, u), 0);
	{
		char back[XP_UUID_STR_LEN];

		xp_uuid_format(u, back);
		CHECK_STR(back, uuid);
	}
	unsetenv("XENPMEM_XEN_DOMAINS");
	unlink(domains);
}

struct logged {
	unsigned n, err, info, dbg;
	char last_err[512], last_err_file[64], backend[256], slot[256];
};

static void log_cb(int prio, const char *file, int line, const char *fn,
		   const char *msg, void *arg)
{
	struct logged *l = arg;
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;

	(void)line;
	l->n++;
	if (prio == LOG_ERR) {
		l->err++;
		snprintf(l->last_err, sizeof(l->last_err), "%s", msg);
		snprintf(l->last_err_file, sizeof(l->last_err_file), "%s:%s",
			 base, fn);
	} else if (prio == LOG_INFO) {
		l->info++;
		if (strstr(msg, "fdatasync") || strstr(msg, "libpmem2"))
			snprintf(l->backend, sizeof(l->backend), "%s", msg);
	} else if (prio == LOG_DEBUG) {
		l->dbg++;
		if (strstr(msg, "slot "))
			snprintf(l->slot, sizeof(l->slot), "%s", msg);
	}
}

/* The log hook: priorities filter, errors come with their place. */
static void t_log_hook(void)
{
	struct xp_create_opts c = {.name = "logged", .size = 2 * MiB};
	struct logged l = {0};
	struct xp_ns *ns;

	fresh_ns(64 * MiB);
	xp_set_log_fn(log_cb, &l);
	xp_set_log_priority(LOG_DEBUG);
	CHECK_RC(xp_get_log_priority(), LOG_DEBUG);
	CHECK_RC(xp_ns_open(path, XP_OPEN_WRITE, &ns), 0);
	CHECK_CONTAINS(l.backend, path);
	CHECK_CONTAINS(l.backend, "pwrite and fdatasync");
	if (ns) {
		CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
		CHECK_CONTAINS(l.slot, "slot 1 copy");
		CHECK_CONTAINS(l.slot, "'logged'");
		xp_ns_close(ns);
	}
	CHECK_RC(xp_ns_open("/nonexistent/ns.img", 0, &ns), -ENOENT);
	CHECK_STR(l.last_err, xp_last_error());
	CHECK_STR(l.last_err_file, "media.c:xp_media_open");

	/* LOG_ERR: errors only. */
	memset(&l, 0, sizeof(l));
	xp_set_log_priority(LOG_ERR);
	CHECK_RC(xp_ns_open(path, 0, &ns), 0);
	xp_ns_close(ns);
	CHECK_RC(xp_ns_open("/nonexistent/ns.img", 0, &ns), -ENOENT);
	CHECK_EQ_U64(l.info + l.dbg, 0);
	CHECK_EQ_U64(l.err, 1);

	/* Off: nothing. */
	memset(&l, 0, sizeof(l));
	xp_set_log_priority(-1);
	CHECK_RC(xp_ns_open("/nonexistent/ns.img", 0, &ns), -ENOENT);
	CHECK_EQ_U64(l.n, 0);
	xp_set_log_fn(NULL, NULL);
}

/*
 * $XENPMEM_LOG sets the starting priority, and without a hook messages go
 * to stderr as "libxenpmem: FUNCTION: MESSAGE". In a child, since the
 * variable is read once.
 */
static void t_log_env(void)
{
	char out[128], buf[4096] = "";
	int fd, status;
	ssize_t n;
	pid_t pid;

	snprintf(out, sizeof(out), "%s/stderr", dir);
	for (int with = 0; with < 2; with++) {
		pid = fork();
		if (pid == 0) {
			struct xp_init_opts o = {.mgmt = XP_MGMT_NONE,
						 .align = 2 * MiB};
			struct xp_ns *ns;

			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 2);
			if (with)
				setenv("XENPMEM_LOG", "info", 1);
			else
				unsetenv("XENPMEM_LOG");
			xp_set_log_fn(NULL, NULL);
			make_file(path, 64 * MiB);
			xp_ns_init(path, &o, NULL);
			if (!xp_ns_open(path, 0, &ns))
				xp_ns_close(ns);
			xp_ns_open("/nonexistent/ns.img", 0, &ns);
			_exit(0);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && !status);
		fd = open(out, O_RDONLY);
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		close(fd);
		if (with) {
			CHECK_CONTAINS(buf, "libxenpmem: xp_media_open: ");
			CHECK_CONTAINS(buf, "pwrite and fdatasync");
			CHECK_CONTAINS(buf, "/nonexistent/ns.img: No such file or directory");
		} else {
			CHECK_STR(buf, "");
		}
	}
	unlink(out);
}

int main(int argc, char **argv)
{
	int rc;

	lib_test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s/xp-abi.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ns.img", dir);
	/* First, before anything in this process reads $XENPMEM_LOG. */
	RUN(t_log_env);
	RUN(t_version);
	RUN(t_layouts);
	RUN(t_init_defaults);
	RUN(t_create_defaults);
	RUN(t_reserved_refused);
	RUN(t_unknown_flags);
	RUN(t_long_strings);
	RUN(t_owner_lookup_range);
	RUN(t_log_hook);
	rc = xt_finish();
	unlink(path);
	rmdir(dir);
	return rc;
}
