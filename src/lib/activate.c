/* SPDX-License-Identifier: MIT */
/*
 * Activation: a block device over an extent's data range, for guests and
 * tools that want a path (QEMU's mem-path, libvirt's <source><path>).
 *
 * The kernel keeps the activation, not this library: nothing is written
 * to the namespace, and the device is found again from the kernel's own
 * records, so any process (list, destroy, deactivate) sees the same truth.
 *
 * - /dev/pmemN (any block namespace): a dm-linear device made through
 *   libdevmapper, named "xenpmem-NAME" for people and carrying the dm UUID
 *   "XENPMEM-<namespace uuid>-<extent uuid>" for this code. It is always
 *   found by UUID: a rename of the extent keeps its activation (the device
 *   keeps the name it was made with until it is deactivated), and two
 *   extents of the same name on two namespaces cannot be mistaken for each
 *   other.
 * - A regular file: a loop device with the data range as offset and size
 *   limit, and "xenpmem:<extent uuid>" as its file name tag. It is found
 *   by the backing inode (st_dev, st_ino) plus that tag, not by a path,
 *   which a rename or bind mount changes.
 * - Device DAX is a character device, and dm and loop sit only on block
 *   devices: refused. hv:UUID was given up by Dom0: refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>

#include "xp_internal.h"

#define DM_NAME_PREFIX "xenpmem-"
#define DM_UUID_PREFIX "XENPMEM-"
#define LOOP_TAG_PREFIX "xenpmem:"
#define SECTOR 512u
/* LOOP_CTL_GET_FREE hands the same free device to racing callers; the
 * loser's LOOP_CONFIGURE fails with EBUSY and asks again. */
#define LOOP_ATTEMPTS 8

static const char *tgt(const struct xp_ns *ns)
{
	return ns->media->target;
}

/* The namespace bytes the device covers: the data, not the label area
 * (docs/format.md: the label area is the extent's last label_size bytes). */
static void data_range(const struct xp_extent *ext, uint64_t *off,
		       uint64_t *size)
{
	*off = ext->offset;
	*size = ext->size - ext->label_size;
}

/*
 * What an activation covers: the data, or with XP_ACTIVATE_WITH_LABEL the
 * whole extent, [data | label area], which is the layout of a QEMU
 * nvdimm backend with label-size (the label area in its last bytes).
 */
static void activation_range(const struct xp_extent *ext, unsigned flags,
			     uint64_t *off, uint64_t *size)
{
	data_range(ext, off, size);
	if (flags & XP_ACTIVATE_WITH_LABEL)
		*size = ext->size;
}

static void act_none(struct xp_activation *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = XP_ACT_NONE;
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	char *nl;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return 0;
}

/* sysfs queue/dax of block device @maj:@min: "1" when DAX-capable. */
static bool block_dax(unsigned maj, unsigned min)
{
	char path[96], v[8];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/dax", maj,
		 min);
	return !read_line(path, v, sizeof(v)) && !strcmp(v, "1");
}

/* ---- device mapper ---- */

/*
 * libdevmapper logs to stderr by default; a library must not. Its last
 * error is kept here and becomes part of our one-line error instead.
 */
static __thread char dm_msg[160];

__attribute__((format(printf, 5, 6)))
static void dm_log(int level, const char *file, int line, int dm_errno,
		   const char *fmt, ...)
{
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	if (level > 3)	/* _LOG_ERR: warnings and debug stay quiet */
		return;
	va_start(ap, fmt);
	vsnprintf(dm_msg, sizeof(dm_msg), fmt, ap);
	va_end(ap);
}

/*
 * Whether the kernel has device mapper. Without it nothing can be active
 * through dm, and libdevmapper would try (and log) loading a module.
 */
static bool dm_present(void)
{
	char line[64];
	FILE *f = fopen("/proc/misc", "re");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " device-mapper\n") != NULL;
	fclose(f);
	return found;
}

static void dm_begin(void)
{
	dm_msg[0] = '\0';
	dm_log_with_errno_init(dm_log);
	/*
	 * No udev needed: libdevmapper makes the /dev/mapper node itself
	 * (its fallback), so a host or guest without udev rules works.
	 */
	dm_udev_set_sync_support(0);
}

static void dm_end(void)
{
	dm_log_with_errno_init(NULL);
}

static const char *dm_why(void)
{
	return dm_msg[0] ? dm_msg : strerror(errno ? errno : EIO);
}

static void dm_uuid_of(const struct xp_ns *ns, const struct xp_extent *ext,
		       char out[DM_UUID_LEN])
{
	char a[XP_UUID_STR_LEN], b[XP_UUID_STR_LEN];

	xp_uuid_format(ns->sb.ns_uuid, a);
	xp_uuid_format(ext->uuid, b);
	snprintf(out, DM_UUID_LEN, DM_UUID_PREFIX "%s-%s", a, b);
}

/*
 * The dm name. Extent names are A-Z a-z 0-9 . _ + : - (at most 31 bytes),
 * every one of which the kernel and libdevmapper's udev-safe set accept,
 * and the prefix rules out "." and "..": the mapping is the identity
 * behind "xenpmem-".
 */
static void dm_name_of(const struct xp_extent *ext, char out[DM_NAME_LEN])
{
	snprintf(out, DM_NAME_LEN, DM_NAME_PREFIX "%s", ext->name);
}

struct dm_found {
	bool exists;
	char name[DM_NAME_LEN];
	char uuid[DM_UUID_LEN];
	unsigned maj, min;		/* the dm device */
	int open_count;
	unsigned under_maj, under_min;	/* the device under its target */
	uint64_t start, len;		/* sectors on it */
	bool linear;			/* exactly one linear target */
	bool foreign;			/* over another device than ours */
};

/* Look a dm device up by @uuid or @name. 0 with exists false when none. */
static int dm_lookup(const char *uuid, const char *name, struct dm_found *f)
{
	struct dm_task *dmt;
	struct dm_info info;
	uint64_t start, len;
	char *type = NULL, *params = NULL;
	const char *s;
	void *next;
	int ok;

	memset(f, 0, sizeof(*f));
	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -ENOMEM;
	ok = uuid ? dm_task_set_uuid(dmt, uuid) : dm_task_set_name(dmt, name);
	if (!ok || !dm_task_run(dmt) || !dm_task_get_info(dmt, &info)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	if (!info.exists) {
		dm_task_destroy(dmt);
		return 0;
	}
	f->exists = true;
	f->maj = (unsigned)info.major;
	f->min = (unsigned)info.minor;
	f->open_count = info.open_count;
	s = dm_task_get_name(dmt);
	snprintf(f->name, sizeof(f->name), "%s", s ? s : "");
	s = dm_task_get_uuid(dmt);
	snprintf(f->uuid, sizeof(f->uuid), "%s", s ? s : "");
	dm_task_destroy(dmt);

	dmt = dm_task_create(DM_DEVICE_TABLE);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, f->name) || !dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	next = dm_get_next_target(dmt, NULL, &start, &len, &type, &params);
	f->linear = !next && type && !strcmp(type, "linear") && !start &&
		    params &&
		    sscanf(params, "%u:%u %" SCNu64, &f->under_maj,
			   &f->under_min, &f->start) == 3;
	f->len = len;
	dm_task_destroy(dmt);
	return 0;
}

/* dm_task_run with libdevmapper's node handling done before it returns. */
static bool dm_run_with_nodes(struct dm_task *dmt)
{
	uint32_t cookie = 0;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return false;
	if (!dm_task_run(dmt)) {
		dm_udev_wait(cookie);
		return false;
	}
	return dm_udev_wait(cookie) != 0;
}

static void dm_fill(const struct dm_found *f, struct xp_activation *out)
{
	out->kind = XP_ACT_DM;
	snprintf(out->device, sizeof(out->device), "/dev/mapper/%s", f->name);
	out->dax = block_dax(f->maj, f->min);
	out->offset = f->start * SECTOR;
	out->size = f->len * SECTOR;
}

static int block_rdev(const struct xp_ns *ns, dev_t *rdev)
{
	struct stat st;

	if (fstat(ns->media->fd, &st) < 0 || !S_ISBLK(st.st_mode))
		return xp_err(ENODEV, tgt(ns), "cannot stat the namespace's block device");
	*rdev = st.st_rdev;
	return 0;
}

static int dm_activation(struct xp_ns *ns, const struct xp_extent *ext,
			 struct xp_activation *out, struct dm_found *f)
{
	char uuid[DM_UUID_LEN];
	dev_t rdev;
	int rc;

	memset(f, 0, sizeof(*f));
	if (!dm_present())
		return 0;
	dm_uuid_of(ns, ext, uuid);
	dm_begin();
	rc = dm_lookup(uuid, NULL, f);
	dm_end();
	if (rc)
		return xp_err(-rc, tgt(ns),
			      "extent '%s': cannot look up dm device %s: %s",
			      ext->name, uuid, dm_why());
	if (!f->exists)
		return 0;
	/*
	 * The UUIDs come from the media, so a byte copy of this namespace
	 * elsewhere carries them too: the device is this namespace's only
	 * when its table sits on this namespace's block device.
	 */
	rc = block_rdev(ns, &rdev);
	if (rc)
		return rc;
	f->foreign = !f->linear || f->under_maj != major(rdev) ||
		     f->under_min != minor(rdev);
	if (!f->foreign)
		dm_fill(f, out);
	return 0;
}

static int dm_activate(struct xp_ns *ns, const struct xp_extent *ext,
		       unsigned flags, struct xp_activation *out)
{
	char uuid[DM_UUID_LEN], name[DM_NAME_LEN], params[64];
	uint64_t off, size;
	struct dm_found f;
	struct dm_task *dmt;
	dev_t rdev;
	int rc;

	if (!dm_present())
		return xp_err(ENODEV, tgt(ns),
			      "extent '%s': the kernel has no device mapper (load it: modprobe dm-mod)",
			      ext->name);
	rc = block_rdev(ns, &rdev);
	if (rc)
		return rc;
	activation_range(ext, flags, &off, &size);
	dm_uuid_of(ns, ext, uuid);
	dm_name_of(ext, name);
	dm_begin();
	rc = dm_lookup(NULL, name, &f);
	if (rc) {
		dm_end();
		return xp_err(-rc, tgt(ns),
			      "extent '%s': cannot look up dm device %s: %s",
			      ext->name, name, dm_why());
	}
	if (f.exists) {
		dm_end();
		return xp_err(EEXIST, tgt(ns),
			      "extent '%s': /dev/mapper/%s exists and belongs to %s; deactivate or rename that one first",
			      ext->name, name,
			      f.uuid[0] ? f.uuid : "another device (no dm UUID)");
	}
	rc = dm_lookup(uuid, NULL, &f);
	if (!rc && f.exists) {
		dm_end();
		return xp_err(EEXIST, tgt(ns),
			      "extent '%s': dm UUID %s is taken by /dev/mapper/%s over device %u:%u, not this namespace (a copy of it?); deactivate that one first",
			      ext->name, uuid, f.name, f.under_maj,
			      f.under_min);
	}
	snprintf(params, sizeof(params), "%u:%u %" PRIu64, major(rdev),
		 minor(rdev), off / SECTOR);
	dmt = dm_task_create(DM_DEVICE_CREATE);
	rc = -ENOMEM;
	if (dmt && dm_task_set_name(dmt, name) && dm_task_set_uuid(dmt, uuid) &&
	    dm_task_add_target(dmt, 0, size / SECTOR, "linear", params))
		rc = dm_run_with_nodes(dmt) ? 0 : -EIO;
	if (dmt)
		dm_task_destroy(dmt);
	if (!rc)
		rc = dm_lookup(uuid, NULL, &f);
	dm_end();
	if (rc)
		return xp_err(-rc, tgt(ns),
			      "extent '%s': cannot create dm device %s: %s",
			      ext->name, name, dm_why());
	if (!f.exists)
		return xp_err(EIO, tgt(ns),
			      "extent '%s': dm device %s vanished after it was created",
			      ext->name, name);
	dm_fill(&f, out);
	return 0;
}

static int dm_deactivate(struct xp_ns *ns, const struct xp_extent *ext,
			 const struct dm_found *f)
{
	struct dm_task *dmt;
	bool ok = false;

	if (f->open_count > 0)
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s': /dev/mapper/%s is in use (open %d times: a mount, a guest or a holder); stop that first",
			      ext->name, f->name, f->open_count);
	dm_begin();
	/*
	 * By name, just looked up by UUID: libdevmapper removes the
	 * /dev/mapper node only for a device it was given the name of.
	 */
	dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (dmt && dm_task_set_name(dmt, f->name))
		ok = dm_run_with_nodes(dmt);
	if (dmt)
		dm_task_destroy(dmt);
	dm_end();
	if (!ok)
		return xp_err(errno == EBUSY ? EBUSY : EIO, tgt(ns),
			      "extent '%s': cannot remove /dev/mapper/%s: %s",
			      ext->name, f->name, dm_why());
	return 0;
}

/* ---- loop devices ---- */

static void loop_tag(const struct xp_extent *ext, char out[LO_NAME_SIZE])
{
	char u[XP_UUID_STR_LEN];

	xp_uuid_format(ext->uuid, u);
	snprintf(out, LO_NAME_SIZE, LOOP_TAG_PREFIX "%s", u);
}

struct loop_found {
	unsigned nr;
	char dev[32];
	uint64_t offset, sizelimit;
	bool autoclear;
};

/* The status of bound loop device @nr when its backing file is @st's
 * inode (and its tag @tag, unless NULL): 1 and @f filled, else 0. */
static int loop_probe(unsigned nr, const struct stat *st, const char *tag,
		      struct loop_found *f, char *tag_out)
{
	struct loop_info64 li;
	char path[64], v[32];
	int found = 0, fd;

	snprintf(path, sizeof(path), "/sys/block/loop%u/loop/backing_file", nr);
	if (access(path, F_OK))
		return 0;	/* not bound */
	snprintf(path, sizeof(path), "/dev/loop%u", nr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* went away meanwhile */
	memset(&li, 0, sizeof(li));
	if (!ioctl(fd, LOOP_GET_STATUS64, &li) &&
	    li.lo_device == (uint64_t)st->st_dev &&
	    li.lo_inode == (uint64_t)st->st_ino &&
	    (!tag || !strncmp((const char *)li.lo_file_name, tag,
			      LO_NAME_SIZE))) {
		found = 1;
		f->nr = nr;
		snprintf(f->dev, sizeof(f->dev), "/dev/loop%u", nr);
		f->offset = li.lo_offset;
		f->sizelimit = li.lo_sizelimit;
		f->autoclear = li.lo_flags & LO_FLAGS_AUTOCLEAR;
		if (tag_out)
			snprintf(tag_out, LO_NAME_SIZE, "%.*s", LO_NAME_SIZE - 1,
				 (const char *)li.lo_file_name);
		snprintf(path, sizeof(path), "/sys/block/loop%u/loop/sizelimit",
			 nr);
		/* sysfs is what losetup and people see; agree. */
		if (!read_line(path, v, sizeof(v)))
			f->sizelimit = strtoull(v, NULL, 10);
	}
	close(fd);
	return found;
}

/*
 * The loop devices bound to this handle's namespace file, found by one
 * scan of every loop device and kept with the handle: `list` asks for
 * each extent, and create/destroy/resize for the one they change, so a
 * scan per question would cost the number of loop devices every time.
 * It stays true while the handle lives: xenpmem activates and
 * deactivates only under the namespace's exclusive lock, which no other
 * process can take while this handle holds its lock, and this handle's
 * own changes drop it. A hit is checked against the device again (a
 * detaching device goes at its last close, whoever closes it).
 *
 * A question is answered from numbers: the file's inode, taken once, and
 * per device the extent UUID its tag names, parsed at the scan. A device
 * counts only when its tag is exactly what loop_tag() writes, as when the
 * tags were compared as strings. Destroying an extent then asks no
 * system call and formats no text (it did both per destroy before).
 */
struct xp_loop_cache {
	struct stat st;		/* the namespace file's, at the scan */
	uint32_t n, cap;
	struct loop_seen {
		struct loop_found f;
		uint8_t uuid[16];
	} *v;
};

void xp_loop_cache_drop(struct xp_ns *ns)
{
	if (ns->loops)
		free(ns->loops->v);
	free(ns->loops);
	ns->loops = NULL;
}

/* The extent UUID in @tag, when @tag is one loop_tag() wrote. */
static bool tag_uuid(const char *tag, uint8_t uuid[16])
{
	const size_t plen = sizeof(LOOP_TAG_PREFIX) - 1;
	char again[XP_UUID_STR_LEN];

	if (strncmp(tag, LOOP_TAG_PREFIX, plen) ||
	    xp_uuid_parse(tag + plen, uuid))
		return false;
	/* libuuid also reads upper case, which loop_tag() never writes. */
	xp_uuid_format(uuid, again);
	return !strcmp(again, tag + plen);
}

static int loop_scan(struct xp_ns *ns, const struct stat *st)
{
	struct xp_loop_cache *c = calloc(1, sizeof(*c));
	struct dirent *de;
	DIR *d;

	if (!c)
		return -ENOMEM;
	c->st = *st;
	d = opendir("/sys/block");
	if (!d) {
		int err = errno;

		/* No sysfs block class: no loop device either. */
		if (err == ENOENT) {
			ns->loops = c;
			return 0;
		}
		free(c);
		return -err;
	}
	while ((de = readdir(d))) {
		struct loop_seen seen, *v;
		char tag[LO_NAME_SIZE];
		unsigned nr;
		int n = 0;

		if (sscanf(de->d_name, "loop%u%n", &nr, &n) != 1 ||
		    de->d_name[n] ||
		    !loop_probe(nr, st, NULL, &seen.f, tag) ||
		    !tag_uuid(tag, seen.uuid))
			continue;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 8;
			v = realloc(c->v, c->cap * sizeof(*v));
			if (!v) {
				closedir(d);
				free(c->v);
				free(c);
				return -ENOMEM;
			}
			c->v = v;
		}
		c->v[c->n++] = seen;
	}
	closedir(d);
	ns->loops = c;
	return 0;
}

/* The handle's scan, made at the first question about extent @name. */
static int loop_cache(struct xp_ns *ns, const char *name,
		      struct xp_loop_cache **c)
{
	struct stat st;
	int rc;

	if (!ns->loops) {
		if (fstat(ns->media->fd, &st) < 0)
			return xp_err(errno, tgt(ns),
				      "cannot stat the namespace: %s",
				      strerror(errno));
		rc = loop_scan(ns, &st);
		if (rc < 0)
			return xp_err(-rc, tgt(ns),
				      "extent '%s': cannot scan the loop devices: %s",
				      name, strerror(-rc));
	}
	*c = ns->loops;
	return 0;
}

/* The scan's entry for extent UUID @uuid, or -1. */
static int loop_listed(const struct xp_loop_cache *c, const uint8_t uuid[16])
{
	for (uint32_t i = 0; i < c->n; i++)
		if (!memcmp(c->v[i].uuid, uuid, 16))
			return (int)i;
	return -1;
}

/*
 * The bound loop device over this namespace file tagged with @ext's UUID:
 * 1 found, 0 none.
 */
static int loop_lookup(struct xp_loop_cache *c, const struct xp_extent *ext,
		       struct loop_found *f)
{
	char tag[LO_NAME_SIZE];
	int i = loop_listed(c, ext->uuid);

	if (i < 0)
		return 0;
	loop_tag(ext, tag);
	if (loop_probe(c->v[i].f.nr, &c->st, tag, f, NULL))
		return 1;
	c->v[i] = c->v[--c->n];	/* gone since the scan */
	return 0;
}

static void loop_fill(const struct loop_found *f, struct xp_activation *out)
{
	out->kind = XP_ACT_LOOP;
	snprintf(out->device, sizeof(out->device), "%s", f->dev);
	out->dax = false;
	out->offset = f->offset;
	out->size = f->sizelimit;
	out->detaching = f->autoclear;
}

/* Cancel a detach deactivate left pending on a device still in use. */
static int loop_keep(struct xp_ns *ns, const struct xp_extent *ext,
		     struct xp_activation *out)
{
	struct loop_info64 li;
	int fd = open(out->device, O_RDWR | O_CLOEXEC);
	int err = 0;

	memset(&li, 0, sizeof(li));
	if (fd < 0)
		err = errno;
	else if (ioctl(fd, LOOP_GET_STATUS64, &li))
		err = errno;
	else if (li.lo_flags & LO_FLAGS_AUTOCLEAR) {
		li.lo_flags &= ~(uint32_t)LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_SET_STATUS64, &li))
			err = errno;
	}
	if (fd >= 0)
		close(fd);
	if (err)
		return xp_err(err, tgt(ns),
			      "extent '%s': %s is detaching and cannot be kept: %s",
			      ext->name, out->device, strerror(err));
	out->detaching = false;
	return 0;
}

static int loop_activation(struct xp_ns *ns, const struct xp_extent *ext,
			   struct xp_activation *out, struct loop_found *f)
{
	struct xp_loop_cache *c;
	int rc = loop_cache(ns, ext->name, &c);

	if (rc)
		return rc;
	if (loop_lookup(c, ext, f))
		loop_fill(f, out);
	return 0;
}

/* Bind @loopfd to @backing: LOOP_CONFIGURE (Linux 5.8), else the two-step
 * LOOP_SET_FD + LOOP_SET_STATUS64 older kernels have. */
static int loop_bind(int loopfd, int backing, const struct loop_info64 *li)
{
	struct loop_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)backing;
	cfg.info = *li;
	if (!ioctl(loopfd, LOOP_CONFIGURE, &cfg))
		return 0;
	if (errno != EINVAL && errno != ENOTTY)
		return -errno;
	if (ioctl(loopfd, LOOP_SET_FD, backing))
		return -errno;
	if (ioctl(loopfd, LOOP_SET_STATUS64, li)) {
		int err = errno;

		ioctl(loopfd, LOOP_CLR_FD, 0);
		return -err;
	}
	return 0;
}

static int loop_activate(struct xp_ns *ns, const struct xp_extent *ext,
			 unsigned flags, struct xp_activation *out)
{
	struct loop_info64 li;
	struct loop_found f;
	uint64_t off, size, got = 0;
	char dev[32];
	int ctl, backing, loopfd = -1, rc = -EBUSY;

	/* The handle's picture of the loop devices changes now. */
	xp_loop_cache_drop(ns);

	activation_range(ext, flags, &off, &size);
	memset(&li, 0, sizeof(li));
	li.lo_offset = off;
	li.lo_sizelimit = size;
	/* No LO_FLAGS_AUTOCLEAR: the activation outlives this process. */
	li.lo_flags = 0;
	loop_tag(ext, (char *)li.lo_file_name);

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return xp_err(errno, tgt(ns),
			      "extent '%s': cannot open /dev/loop-control: %s",
			      ext->name, strerror(errno));
	backing = open(ns->media->path, O_RDWR | O_CLOEXEC);
	if (backing < 0) {
		rc = -errno;
		close(ctl);
		return xp_err(-rc, tgt(ns), "extent '%s': cannot open %s: %s",
			      ext->name, ns->media->path, strerror(-rc));
	}
	for (int i = 0; i < LOOP_ATTEMPTS && rc == -EBUSY; i++) {
		int nr = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (nr < 0) {
			rc = -errno;
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
		loopfd = open(dev, O_RDWR | O_CLOEXEC);
		if (loopfd < 0) {
			rc = -errno;
			break;
		}
		rc = loop_bind(loopfd, backing, &li);
		if (rc)
			close(loopfd);
	}
	close(backing);
	close(ctl);
	if (rc)
		return xp_err(-rc, tgt(ns),
			      "extent '%s': cannot set up a loop device: %s",
			      ext->name, strerror(-rc));
	/* The kernel clips the size limit to the file: check it did not. */
	if (ioctl(loopfd, BLKGETSIZE64, &got) || got != size) {
		ioctl(loopfd, LOOP_CLR_FD, 0);
		close(loopfd);
		return xp_err(EIO, tgt(ns),
			      "extent '%s': %s covers %" PRIu64 " bytes, not the %" PRIu64 " asked for",
			      ext->name, dev, got, size);
	}
	close(loopfd);
	memset(&f, 0, sizeof(f));
	snprintf(f.dev, sizeof(f.dev), "%s", dev);
	f.offset = off;
	f.sizelimit = size;
	loop_fill(&f, out);
	return 0;
}

static int loop_deactivate(struct xp_ns *ns, const struct xp_extent *ext,
			   const struct loop_found *f)
{
	char path[64];
	int fd, excl;

	/* The handle's picture of the loop devices changes now. */
	xp_loop_cache_drop(ns);

	/* O_EXCL fails on a mounted (or otherwise claimed) device. */
	excl = open(f->dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (excl < 0 && errno == EBUSY)
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s': %s is in use (mounted or claimed); stop that first",
			      ext->name, f->dev);
	if (excl >= 0)
		close(excl);
	fd = open(f->dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return xp_err(errno, tgt(ns), "extent '%s': cannot open %s: %s",
			      ext->name, f->dev, strerror(errno));
	/* Writes through the device sit in its own page cache: push them
	 * into the file before the device goes. */
	if (fsync(fd) || ioctl(fd, LOOP_CLR_FD, 0)) {
		int err = errno;

		close(fd);
		return xp_err(err, tgt(ns),
			      "extent '%s': cannot detach %s: %s", ext->name,
			      f->dev, strerror(err));
	}
	/*
	 * The kernel detaches at the last close (it only marks the device
	 * while it is open); a device someone else holds open stays until
	 * they close it. Say so rather than claim it is gone.
	 */
	close(fd);
	snprintf(path, sizeof(path), "/sys/block/loop%u/loop/backing_file",
		 f->nr);
	if (!access(path, F_OK))
		return xp_err(EBUSY, tgt(ns),
			      "extent '%s': %s is in use (a guest?); the kernel detaches it when its last user closes it",
			      ext->name, f->dev);
	return 0;
}

/* ---- the API ---- */

int xp_extent_activation(struct xp_ns *ns, const struct xp_extent *ext,
			 struct xp_activation *out)
{
	struct loop_found lf;
	struct dm_found df;

	act_none(out);
	/* A media with no file under it (a memory image) has no device. */
	if (ns->media->fd < 0)
		return 0;
	switch (ns->media->kind) {
	case XP_BACKEND_BLOCK:
		return dm_activation(ns, ext, out, &df);
	case XP_BACKEND_FILE:
		return loop_activation(ns, ext, out, &lf);
	case XP_BACKEND_DEVDAX:
	case XP_BACKEND_HV:
		break;
	}
	return 0;
}

static int refuse_kind(struct xp_ns *ns, const char *name)
{
	if (ns->media->kind == XP_BACKEND_DEVDAX)
		return xp_err(EOPNOTSUPP, tgt(ns),
			      "extent '%s': device DAX is a character device, and dm-linear and loop need a block device; give QEMU the namespace itself with offset= (QEMU 8.1 or later)",
			      name);
	if (ns->media->kind == XP_BACKEND_HV)
		return xp_err(EOPNOTSUPP, tgt(ns),
			      "extent '%s': the namespace is registered with the hypervisor, which maps extents into guests itself; 'xenpmem unregister' gives it back to Dom0",
			      name);
	if (ns->media->fd < 0)
		return xp_err(EOPNOTSUPP, tgt(ns),
			      "extent '%s': the namespace is not a file or device",
			      name);
	return 0;
}

int xp_extent_activate(struct xp_ns *ns, const char *name,
		       struct xp_activation *out)
{
	return xp_extent_activate_flags(ns, name, 0, out);
}

int xp_extent_activate_flags(struct xp_ns *ns, const char *name,
			     unsigned flags, struct xp_activation *out)
{
	struct xp_extent ext;
	uint64_t off, size;
	int rc;

	xp_err_clear();
	act_none(out);
	rc = xp_flags_known(flags, XP_ACTIVATE_WITH_LABEL, tgt(ns), "activate");
	if (rc)
		return rc;
	if (!(ns->flags & XP_OPEN_WRITE))
		return xp_err(EBADF, tgt(ns), "namespace opened read-only");
	rc = refuse_kind(ns, name);
	rc = rc ?: xp_ns_extent_find(ns, name, &ext);
	rc = rc ?: xp_extent_exportable(ns, &ext);
	rc = rc ?: xp_extent_activation(ns, &ext, out);
	if (rc)
		return rc;
	activation_range(&ext, flags, &off, &size);
	if (out->kind != XP_ACT_NONE) {
		/* Idempotent, but only for the same range: anything else is
		 * a device over other bytes (the data alone, or with the
		 * label area), or over bytes the extent no longer has. */
		if (out->offset == off && out->size == size)
			return out->detaching ? loop_keep(ns, &ext, out) : 0;
		return xp_err(EEXIST, tgt(ns),
			      "extent '%s' is active as %s over bytes %" PRIu64 "+%" PRIu64 ", not %" PRIu64 "+%" PRIu64 " (%s); deactivate it first",
			      ext.name, out->device, out->offset, out->size,
			      off, size,
			      flags & XP_ACTIVATE_WITH_LABEL ?
			      "data and label area" : "its data");
	}
	if (ns->media->kind == XP_BACKEND_BLOCK)
		rc = dm_activate(ns, &ext, flags, out);
	else
		rc = loop_activate(ns, &ext, flags, out);
	if (!rc)
		xp_log_info("%s: extent '%s' active as %s over bytes %" PRIu64 "+%" PRIu64,
			    tgt(ns), ext.name, out->device, out->offset,
			    out->size);
	return rc;
}

int xp_extent_deactivate(struct xp_ns *ns, const char *name)
{
	struct xp_activation act;
	struct xp_extent ext;
	struct loop_found lf;
	struct dm_found df;
	int rc;

	xp_err_clear();
	act_none(&act);
	rc = refuse_kind(ns, name);
	rc = rc ?: xp_ns_extent_find(ns, name, &ext);
	if (rc)
		return rc;
	if (ns->media->kind == XP_BACKEND_BLOCK)
		rc = dm_activation(ns, &ext, &act, &df);
	else
		rc = loop_activation(ns, &ext, &act, &lf);
	if (rc)
		return rc;
	if (act.kind == XP_ACT_NONE)
		return xp_err(ENOENT, tgt(ns), "extent '%s' is not active",
			      ext.name);
	if (act.kind == XP_ACT_DM)
		return dm_deactivate(ns, &ext, &df);
	return loop_deactivate(ns, &ext, &lf);
}

int xp_extent_refuse_active(struct xp_ns *ns, uint32_t slot, const char *what)
{
	const struct xp_rec *rec = &ns->slots[slot].rec;
	struct xp_activation act;
	struct xp_loop_cache *c;
	struct xp_extent ext;
	int rc;

	/* No device over a memory image, device DAX or the hypervisor's
	 * namespace (xp_extent_activation()); over a file, the common
	 * answer, "not active", comes straight from the handle's scan. */
	if (ns->media->fd < 0 || ns->media->kind == XP_BACKEND_DEVDAX ||
	    ns->media->kind == XP_BACKEND_HV)
		return 0;
	if (ns->media->kind == XP_BACKEND_FILE) {
		rc = loop_cache(ns, rec->name, &c);
		if (rc || loop_listed(c, rec->uuid) < 0)
			return rc;
	}
	xp_extent_fill(ns, slot, &ext);
	rc = xp_extent_activation(ns, &ext, &act);
	if (rc || act.kind == XP_ACT_NONE)
		return rc;
	return xp_err(EBUSY, tgt(ns),
		      "extent '%s' is active as %s; %s it needs 'xenpmem deactivate %s %s' first",
		      ext.name, act.device, what, ext.name, tgt(ns));
}
