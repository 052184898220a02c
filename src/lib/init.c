/* SPDX-License-Identifier: MIT */
/*
 * init: the safety probes that keep xenpmem off anything holding data,
 * and the write sequence of a fresh layout.
 */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xp_internal.h"

#define DEFAULT_SLOTS 1024u
#define DEFAULT_ALIGN_SHIFT XP_ALIGN_1G_SHIFT

/* One init: the caller's options and what force overrode so far. */
struct init_run {
	const struct xp_init_opts *o;
	char *overridden;	/* "; "-separated, malloc'd; NULL if nothing */
};

static int note_override(struct xp_media *m, struct init_run *r,
			 const char *what)
{
	size_t n = r->overridden ? strlen(r->overridden) : 0;
	char *p = realloc(r->overridden, n + strlen(what) + 3);

	if (!p)
		return xp_err(ENOMEM, m->target, "out of memory");
	sprintf(p + n, "%s%s", n ? "; " : "", what);
	r->overridden = p;
	xp_log_info("%s: --force overrides %s", m->target, what);
	return 0;
}

/* A finding that --force may override, or a refusal. */
static int found(struct xp_media *m, struct init_run *o, const char *what)
{
	if (o->o->force)
		return note_override(m, o, what);
	return xp_err(EEXIST, m->target, "holds %s; use --force to overwrite it",
		      what);
}

/*
 * --force overwrites a xenpmem table, but not quietly over guests' disks:
 * extents assigned to a domain are named and need destroy_assigned too.
 * A table that cannot be read names nothing; --force then decides alone.
 */
static int probe_assigned(struct xp_media *m, struct init_run *o)
{
	char list[320] = "", owner[XP_UUID_STR_LEN];
	uint32_t n = 0, shown = 0;
	struct xp_ns *ns;
	size_t len = 0;

	if (o->o->destroy_assigned || xp_ns_open_media(m, 0, &ns)) {
		xp_err_clear();
		return 0;
	}
	for (uint32_t i = 0; i < ns->nused; i++) {
		const struct xp_rec *r = &ns->slots[ns->order[i]].rec;
		int w;

		if (xp_uuid_is_nil(r->owner))
			continue;
		n++;
		xp_uuid_format(r->owner, owner);
		/* Room for "and N more": the error is one line. */
		if (len + 90 > sizeof(list))
			continue;
		w = snprintf(list + len, sizeof(list) - len, "%s'%s' (domain %s)",
			     len ? ", " : "", r->name, owner);
		len += (size_t)w;
		shown++;
	}
	xp_ns_close(ns);
	if (!n)
		return 0;
	if (shown < n)
		snprintf(list + len, sizeof(list) - len, " and %u more",
			 n - shown);
	return xp_err(EBUSY, m->target,
		      "its table assigns %u extent%s to domains: %s; --force does not destroy guests' disks: unassign them, or add --destroy-assigned",
		      n, n == 1 ? "" : "s", list);
}

/* Info blocks Linux writes at 4 KiB (and BTT at 0): 16-byte signatures. */
static const struct {
	const char *sig;
	const char *what;
} linux_info[] = {
	{"NVDIMM_PFN_INFO", "a Linux fsdax (pfn) info block"},
	{"NVDIMM_DAX_INFO", "a Linux devdax info block"},
	{"BTT_ARENA_INFO", "a Linux BTT (sector mode) info block"},
};

static int probe_mode(struct xp_media *m)
{
	char dest[256], path[300], ns[64] = "<namespace>";
	const char *base, *mode;
	ssize_t n;
	FILE *f;

	if (m->kind != XP_BACKEND_BLOCK || !m->sysfs_dev[0])
		return 0;
	n = readlink(m->sysfs_dev, dest, sizeof(dest) - 1);
	if (n < 0)
		return 0;
	dest[n] = 0;
	base = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest;
	/* /dev/pmemN's parent is the namespace itself only in raw mode. */
	if (!strncmp(base, "pfn", 3))
		mode = "fsdax";
	else if (!strncmp(base, "btt", 3))
		mode = "sector";
	else
		return 0;
	/* The pfn/btt device names the namespace it claimed. */
	snprintf(path, sizeof(path), "%s/namespace", m->sysfs_dev);
	f = fopen(path, "re");
	if (f) {
		if (fgets(ns, sizeof(ns), f))
			ns[strcspn(ns, "\n")] = 0;
		fclose(f);
	}
	return xp_err(EBUSY, m->target,
		      "namespace %s is in %s mode (%s), not raw; reconfigure it with 'ndctl create-namespace -f -e %s -m raw'",
		      ns, mode, base, ns);
}

static int probe_in_use(struct xp_media *m)
{
	int fd;

	if (m->kind != XP_BACKEND_BLOCK)
		return 0;
	/* O_EXCL on a block device fails while it is mounted or held by a
	 * driver (dm, md, a filesystem): never safe to override. */
	fd = open(m->path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return xp_err(EBUSY, m->target,
			      "device is mounted or held by another driver");
	if (fd >= 0)
		close(fd);
	return 0;
}

static int probe_blkid(struct xp_media *m, struct init_run *o,
		       bool *known)
{
	const char *type = NULL, *what = "filesystem";
	blkid_probe pr;
	char buf[128];
	int rc;

	if (m->kind == XP_BACKEND_DEVDAX)
		return 0; /* no read(2) on device DAX: the byte probes cover it */
	pr = blkid_new_probe_from_filename(m->path);
	if (!pr)
		return 0;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
						      BLKID_SUBLKS_USAGE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	rc = blkid_do_safeprobe(pr);
	if (rc == 0) {
		const char *usage = NULL;

		if (!blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL)) {
			what = "partition table";
		} else {
			blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
			if (!blkid_probe_lookup_value(pr, "USAGE", &usage, NULL) &&
			    !strcmp(usage, "raid"))
				what = "RAID member signature";
			else if (type && !strcmp(type, "swap"))
				what = "swap signature";
		}
	} else if (rc == -2) {
		type = "several";
		what = "signatures";
	}
	if (type) {
		snprintf(buf, sizeof(buf), "a %s (%s)", what, type);
		blkid_free_probe(pr);
		*known = true;
		return found(m, o, buf);
	}
	blkid_free_probe(pr);
	return 0;
}

static bool nonzero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return true;
	return false;
}

/*
 * The highest generation an old xenpmem superblock of any version carries
 * (both copies, wherever this size puts the backup), so that the new one
 * is higher: a generation never goes back on a namespace.
 */
static uint64_t old_generation(struct xp_media *m)
{
	uint8_t blk[512];
	uint64_t g = 0, off[2] = {0, m->size - XP_SB_BLOCK};

	for (int i = 0; i < 2; i++) {
		const struct xp_sb_disk *d = (const struct xp_sb_disk *)blk;
		uint16_t major;
		uint64_t v;

		if (m->ops->read(m, off[i], blk, sizeof(blk)) ||
		    memcmp(blk, XP_SB_SIGNATURE, 16))
			continue;
		major = xp_get16(d->major);
		/* 1.x kept it at byte 48, 2.x at 56. */
		v = major == 1 ? xp_get64(*(const xp_le64 *)(blk + 48)) :
				 xp_get64(d->generation);
		if (v > g && v < UINT64_MAX)
			g = v;
	}
	return g;
}

/*
 * Look at every byte init would write. Our own signature, a Linux info
 * block, or any other non-zero byte there is somebody's data.
 */
static int probe_bytes(struct xp_media *m, struct init_run *o,
		       const struct xp_layout *lay, bool known, bool *ours,
		       uint64_t *old_gen)
{
	size_t head = (size_t)lay->mgmt_offset;
	uint8_t *buf = malloc(head + XP_SB_BLOCK), *tail;
	int rc;

	*ours = false;
	if (!buf)
		return xp_err(ENOMEM, m->target, "out of memory");
	tail = buf + head;
	rc = m->ops->read(m, 0, buf, head);
	rc = rc ?: m->ops->read(m, lay->backup_offset, tail, XP_SB_BLOCK);
	if (rc)
		goto out;
	if (!memcmp(buf, XP_SB_SIGNATURE, 16) ||
	    !memcmp(tail, XP_SB_SIGNATURE, 16)) {
		*ours = known = true;
		*old_gen = old_generation(m);
		rc = found(m, o, "xenpmem metadata");
		if (rc)
			goto out;
	}
	for (size_t i = 0; i < sizeof(linux_info) / sizeof(linux_info[0]); i++) {
		size_t len = strlen(linux_info[i].sig) + 1;

		/* pfn/dax blocks sit at 4 KiB; BTT's at 0, its backup at S-4K. */
		if (!memcmp(buf + XP_ZERO_OFFSET, linux_info[i].sig, len) ||
		    !memcmp(buf, linux_info[i].sig, len) ||
		    !memcmp(tail, linux_info[i].sig, len)) {
			known = true;
			rc = found(m, o, linux_info[i].what);
			if (rc)
				goto out;
		}
	}
	if (!known && (nonzero(buf, head) || nonzero(tail, XP_SB_BLOCK)))
		rc = found(m, o,
			   "unrecognised data where the metadata would go");
out:
	free(buf);
	return rc;
}

static int zero_range(struct xp_media *m, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[1 << 16];
	int rc = 0;

	for (uint64_t done = 0; !rc && done < len; done += sizeof(zeroes)) {
		size_t n = len - done < sizeof(zeroes) ? (size_t)(len - done) :
							  sizeof(zeroes);

		rc = xp_media_write(m, off + done, zeroes, n);
		rc = rc ?: xp_media_flush(m, off + done, n);
	}
	return rc;
}

/*
 * Every slot starts with a valid free record, so that an update torn
 * before its fence always leaves one valid copy behind; the alignment
 * padding up to the management area is zeroed.
 */
static int write_table(struct xp_media *m, const struct xp_sb *sb,
		       const struct xp_layout *lay)
{
	enum { BATCH = 256 };
	uint64_t end = XP_TABLE_OFFSET + lay->table_size;
	uint8_t *buf = malloc(BATCH * XP_SLOT_SIZE);
	int rc = 0;

	if (!buf)
		return xp_err(ENOMEM, m->target, "out of memory");
	for (uint32_t first = 0; !rc && first < sb->slot_count; first += BATCH) {
		uint32_t n = sb->slot_count - first < BATCH ?
				     sb->slot_count - first : BATCH;
		uint64_t off = xp_slot_offset(first);

		for (uint32_t i = 0; i < n; i++)
			xp_slot_init(sb, first + i, buf + (size_t)i * XP_SLOT_SIZE);
		rc = xp_media_write(m, off, buf, (size_t)n * XP_SLOT_SIZE);
		rc = rc ?: xp_media_flush(m, off, (size_t)n * XP_SLOT_SIZE);
	}
	free(buf);
	return rc ?: zero_range(m, end, lay->mgmt_offset - end);
}

static int opts_to_params(struct xp_media *m, const struct xp_init_opts *o,
			  struct xp_layout_params *p)
{
	uint64_t align = o->align ? o->align : 1ull << DEFAULT_ALIGN_SHIFT;

	p->ns_size = m->size;
	p->phys_base = m->phys_known ? m->phys_base : 0;
	p->slot_count = o->max_extents ? o->max_extents : DEFAULT_SLOTS;
	if (o->mgmt == XP_MGMT_XEN)
		xp_mgmt_geom_xen(&p->geom, !o->no_compat_m2p);
	else if (o->mgmt == XP_MGMT_NONE)
		memset(&p->geom, 0, sizeof(p->geom));
	else
		return xp_err(EINVAL, m->target, "unknown management mode %d",
			      (int)o->mgmt);
	if (align == 1ull << XP_ALIGN_2M_SHIFT)
		p->align_shift = XP_ALIGN_2M_SHIFT;
	else if (align == 1ull << XP_ALIGN_1G_SHIFT)
		p->align_shift = XP_ALIGN_1G_SHIFT;
	else
		return xp_err(EINVAL, m->target,
			      "alignment %llu is not 2M or 1G",
			      (unsigned long long)align);
	if (p->slot_count > XP_MAX_SLOTS)
		return xp_err(EINVAL, m->target,
			      "--max-extents %u is above the limit of %u",
			      p->slot_count, XP_MAX_SLOTS);
	if (m->size % XP_PAGE_SIZE)
		return xp_err(EINVAL, m->target,
			      "size %llu is not a multiple of 4 KiB",
			      (unsigned long long)m->size);
	return 0;
}

/*
 * Allocate the blocks of a file's metadata before anything is written, so
 * that a full filesystem refuses init while the file is still as it was,
 * and later updates of the table never meet ENOSPC half-way. A filesystem
 * without fallocate support is left to pwrite's own errors.
 */
static int reserve_metadata(struct xp_media *m, const struct xp_layout *lay)
{
	const struct {
		uint64_t off, len;
	} range[] = {
		{0, lay->mgmt_offset},
		{lay->backup_offset, XP_SB_BLOCK},
	};

	if (m->kind != XP_BACKEND_FILE || m->fd < 0)
		return 0;
	for (size_t i = 0; i < sizeof(range) / sizeof(range[0]); i++) {
		int err = posix_fallocate(m->fd, (off_t)range[i].off,
					  (off_t)range[i].len);

		if (err == EOPNOTSUPP || err == EINVAL)
			return 0;
		if (err)
			return xp_err(err, m->target,
				      "cannot reserve %llu bytes for the metadata: %s",
				      (unsigned long long)(lay->mgmt_offset +
							   XP_SB_BLOCK),
				      strerror(err));
	}
	return 0;
}

int xp_ns_init_media(struct xp_media *m, const struct xp_init_opts *opts,
		     char **overridden)
{
	static const struct xp_init_opts defaults;
	struct init_run run = { .o = opts ? opts : &defaults };
	struct xp_layout_params lp;
	enum xp_fmt_status st;
	struct xp_layout lay;
	struct xp_sb sb;
	struct timespec ts;
	const char *why;
	bool ours = false, known = false;
	uint64_t old_gen = 0;
	uint8_t *blk;
	int rc;

	if (overridden)
		*overridden = NULL;
	opts = run.o;
	rc = XP_RESERVED_ZERO(opts, m->target, "init options");
	rc = rc ?: xp_flags_known(opts->flags, XP_WAIT_FLAGS,
				  m->target, "init");
	rc = rc ?: opts_to_params(m, opts, &lp);
	if (rc)
		return rc;
	st = xp_layout_solve(&lp, &lay, &why);
	if (st == XP_E_INVAL)
		return xp_err(EINVAL, m->target, "invalid layout parameter %s",
			      why);
	if (st != XP_OK)
		return xp_err(ENOSPC, m->target,
			      "too small for the layout (%llu bytes; no room for the %s)",
			      (unsigned long long)m->size, why);
	/*
	 * Known bad blocks first: the probes read every byte init would
	 * write, and a read of poison fails (or, through a plain load,
	 * kills the process). Then the most specific finding first: what
	 * blkid names beats "unrecognised data".
	 */
	rc = xp_badblocks_check_meta(m, &lay);
	rc = rc ?: probe_in_use(m);
	rc = rc ?: probe_mode(m);
	rc = rc ?: probe_blkid(m, &run, &known);
	rc = rc ?: probe_bytes(m, &run, &lay, known, &ours, &old_gen);
	if (!rc && ours)
		rc = probe_assigned(m, &run);
	rc = rc ?: reserve_metadata(m, &lay);
	if (rc) {
		free(run.overridden);
		return rc;
	}

	memset(&sb, 0, sizeof(sb));
	xp_uuid_generate(sb.ns_uuid);
	clock_gettime(CLOCK_REALTIME, &ts);
	sb.init_time = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	sb.generation = old_gen + 1;
	sb.ns_size = lp.ns_size;
	sb.phys_base = lp.phys_base;
	sb.compat = m->phys_known ? XP_SB_F_PHYS_KNOWN : 0;
	sb.slot_count = lp.slot_count;
	sb.align_shift = lp.align_shift;
	sb.geom = lp.geom;
	sb.chunks = lay.chunks;
	sb.mgmt_offset = lay.mgmt_offset;
	sb.mgmt_size = lay.mgmt_size;
	sb.data_offset = lay.data_offset;
	sb.data_size = lay.data_size;

	blk = calloc(1, XP_SB_BLOCK);
	if (!blk) {
		free(run.overridden);
		return xp_err(ENOMEM, m->target, "out of memory");
	}
	/*
	 * Old metadata goes first, so a crash can leave "no namespace" but
	 * never old superblocks over a half-new table. The new layout becomes
	 * visible when the backup is durable, complete when the primary is.
	 */
	if (ours) {
		rc = zero_range(m, 0, XP_SB_BLOCK);
		rc = rc ?: zero_range(m, lay.backup_offset, XP_SB_BLOCK);
		rc = rc ?: xp_media_drain(m);
	}
	rc = rc ?: zero_range(m, XP_ZERO_OFFSET, XP_TABLE_OFFSET - XP_ZERO_OFFSET);
	rc = rc ?: write_table(m, &sb, &lay);
	rc = rc ?: xp_media_drain(m);
	if (!rc) {
		xp_sb_encode(&sb, true, blk);
		rc = xp_media_persist(m, lay.backup_offset, blk, XP_SB_BLOCK);
	}
	if (!rc) {
		xp_sb_encode(&sb, false, blk);
		rc = xp_media_persist(m, 0, blk, XP_SB_BLOCK);
	}
	free(blk);
	if (!rc)
		xp_log_info("%s: initialised, generation %llu, %u slots",
			    m->target, (unsigned long long)sb.generation,
			    sb.slot_count);
	if (!rc && overridden)
		*overridden = run.overridden;
	else
		free(run.overridden);
	return rc;
}

int xp_ns_init(const char *target, const struct xp_init_opts *opts,
	       char **overridden)
{
	struct xp_media *m;
	int rc;

	xp_err_clear();
	if (overridden)
		*overridden = NULL;
	rc = xp_media_open(target, 1, &m);
	if (rc)
		return rc;
	rc = xp_media_lock(m, true, opts ? opts->flags : 0);
	rc = rc ?: xp_ns_init_media(m, opts, overridden);
	xp_media_close(m);
	return rc;
}
