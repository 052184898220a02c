/* SPDX-License-Identifier: MIT */
/*
 * Resolve what the user named to a device node or file, find out what kind
 * of namespace it is, and open the matching media backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "xp_internal.h"

static int read_sysfs_u64(const char *path, uint64_t *out)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	char *end;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	errno = 0;
	*out = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static bool looks_like_ndctl_name(const char *s)
{
	unsigned a, b;
	int n = 0;

	return sscanf(s, "namespace%u.%u%n", &a, &b, &n) == 2 && !s[n];
}

#ifdef XP_TEST_HOOKS
static bool parse_hex(const char *s, uint64_t *out)
{
	char *end;

	if (strncmp(s, "0x", 2) || !s[2])
		return false;
	errno = 0;
	*out = strtoull(s + 2, &end, 16);
	return !errno && !*end;
}
#endif

/* Physical start and parent device of a namespace node, from sysfs. */
static void probe_sysfs(struct xp_media *m, const struct stat *st)
{
	char dir[64], p[192];
	m->phys_known = 0;
	m->sysfs_dev[0] = 0;
	if (S_ISREG(st->st_mode)) {
#ifdef XP_TEST_HOOKS
		/*
		 * A file has no physical address. Test hook: one may be
		 * supplied, and the layout aligns to it as to a real
		 * namespace's.
		 */
		const char *env = getenv("XENPMEM_FILE_PHYS_BASE");

		if (env && (!xp_parse_size(env, &m->phys_base) ||
			    parse_hex(env, &m->phys_base)))
			m->phys_known = 1;
#endif
		return;
	}
	snprintf(dir, sizeof(dir), "/sys/dev/%s/%u:%u",
		 S_ISBLK(st->st_mode) ? "block" : "char",
		 major(st->st_rdev), minor(st->st_rdev));
	if (S_ISBLK(st->st_mode))
		snprintf(m->sysfs_dev, sizeof(m->sysfs_dev), "%s/device", dir);
	else
		snprintf(m->sysfs_dev, sizeof(m->sysfs_dev), "%s", dir);
	snprintf(p, sizeof(p), "%s/resource", m->sysfs_dev);
	if (!read_sysfs_u64(p, &m->phys_base))
		m->phys_known = 1;
}

static bool is_dax_chardev(const struct stat *st)
{
	char link[128], dest[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem",
		 major(st->st_rdev), minor(st->st_rdev));
	n = readlink(link, dest, sizeof(dest) - 1);
	if (n < 0)
		return false;
	dest[n] = 0;
	return !strcmp(strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest, "dax");
}

/*
 * A file whose pages map synchronously (MAP_SYNC: a DAX filesystem) is
 * pmem and goes through libpmem2; any other file's mapping is page cache,
 * where only pwrite and fdatasync report errors instead of signalling.
 */
static bool file_maps_sync(const char *path, int writable)
{
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	void *p = MAP_FAILED;
	struct stat st;

	if (fd < 0)
		return false;
	if (!fstat(fd, &st) && st.st_size >= 4096)
		p = mmap(NULL, 4096, PROT_READ | (writable ? PROT_WRITE : 0),
			 MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	munmap(p, 4096);
	return true;
}

int xp_media_open(const char *target, int writable, struct xp_media **mp)
{
	char path[256];
	struct stat st;
	struct xp_media tmpl;
	int rc;

	*mp = NULL;
	if (!target || !*target)
		return xp_err(EINVAL, "xenpmem", "no namespace given");
	if (strlen(target) >= sizeof(path))
		return xp_err(ENAMETOOLONG, "xenpmem", "namespace path too long");
	if (xp_media_is_hv(target))
		return xp_media_open_hv(NULL, target, writable, mp);
	snprintf(path, sizeof(path), "%s", target);
	if (stat(path, &st) < 0) {
		int err = errno;

		if (err != ENOENT || !looks_like_ndctl_name(target))
			return xp_err(err, target, "%s", strerror(err));
		rc = xp_ndctl_resolve(target, path, sizeof(path));
		if (rc == -ENOENT)
			return xp_err(ENOENT, target, "no such file or namespace");
		if (rc)
			return xp_err(-rc, target, "namespace has no device node");
		if (stat(path, &st) < 0)
			return xp_err(errno, target, "%s: %s", path, strerror(errno));
	}

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.fd = -1;
	tmpl.writable = writable;
	snprintf(tmpl.path, sizeof(tmpl.path), "%s", path);
	snprintf(tmpl.target, sizeof(tmpl.target), "%s", target);

	if (S_ISDIR(st.st_mode))
		return xp_err(EISDIR, target, "is a directory, not a namespace");
	if (S_ISREG(st.st_mode)) {
		/*
		 * root may write any file; a file nobody may write is meant to
		 * stay as it is, so respect the mode bits before open() would.
		 */
		if (writable && !(st.st_mode & 0222))
			return xp_err(EACCES, target, "file is read-only");
		tmpl.kind = XP_BACKEND_FILE;
		probe_sysfs(&tmpl, &st);
		if (file_maps_sync(path, writable)) {
			xp_log_info("%s: a file whose pages map synchronously (MAP_SYNC): libpmem2",
				    target);
			return xp_media_open_pmem2(&tmpl, mp);
		}
		xp_log_info("%s: a file in the page cache (no MAP_SYNC): pwrite and fdatasync",
			    target);
		return xp_media_open_block(&tmpl, mp);
	}
	if (S_ISBLK(st.st_mode)) {
		tmpl.kind = XP_BACKEND_BLOCK;
		probe_sysfs(&tmpl, &st);
		xp_log_info("%s: block device %s: pwrite and fdatasync%s", target,
			    path, tmpl.phys_known ? "" : ", physical address unknown");
		return xp_media_open_block(&tmpl, mp);
	}
	if (S_ISCHR(st.st_mode) && is_dax_chardev(&st)) {
		tmpl.kind = XP_BACKEND_DEVDAX;
		probe_sysfs(&tmpl, &st);
		xp_log_info("%s: device DAX %s: libpmem2", target, path);
		return xp_media_open_pmem2(&tmpl, mp);
	}
	return xp_err(ENODEV, target,
		      "not a regular file, pmem block device or device-DAX");
}
