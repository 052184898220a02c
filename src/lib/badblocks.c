/* SPDX-License-Identifier: MIT */
/*
 * Known-bad media ranges, as the kernel lists them: one "sector count"
 * pair of 512-byte sectors per line, relative to the namespace start
 * (/sys/block/pmemN/badblocks); for device DAX, libpmem2 translates the
 * region's list. Tests inject a list through the file that
 * $XENPMEM_BADBLOCKS_FILE names (read at each open: no state is kept).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

static const char *list_path(const struct xp_media *m, char *buf, size_t len)
{
	char *slash;
#ifdef XP_TEST_HOOKS
	/* Test hook: a sysfs-format list standing in for any namespace's. */
	const char *env = getenv("XENPMEM_BADBLOCKS_FILE");

	if (env && *env)
		return env;
#endif
	if (m->kind != XP_BACKEND_BLOCK || !m->sysfs_dev[0])
		return NULL;
	/* sysfs_dev is /sys/dev/block/M:m/device; the list is beside it. */
	snprintf(buf, len, "%s", m->sysfs_dev);
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	snprintf(slash, len - (size_t)(slash - buf), "/badblocks");
	return buf;
}

int xp_badblocks_push(uint64_t **v, uint32_t *n, uint32_t *cap, uint64_t off,
		      uint64_t len)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 16;
		uint64_t *t = realloc(*v, (size_t)c * 2 * sizeof(**v));

		if (!t)
			return -ENOMEM;
		*v = t;
		*cap = c;
	}
	(*v)[2 * *n] = off;
	(*v)[2 * *n + 1] = len;
	(*n)++;
	return 0;
}

/* Read the list into pairs of byte offsets; *out is malloc'd. */
static int load(const struct xp_media *m, uint64_t **out, uint32_t *n)
{
	char pbuf[256];
	const char *path = list_path(m, pbuf, sizeof(pbuf));
	unsigned long long s, c;
	uint64_t *v = NULL;
	uint32_t cap = 0;
	FILE *f;

	*out = NULL;
	*n = 0;
	if (!path && m->ops->badblocks)
		return m->ops->badblocks((struct xp_media *)m, out, n);
	if (!path)
		return 0;
	f = fopen(path, "re");
	if (!f)
		return 0; /* no list: nothing known to be bad */
	while (fscanf(f, "%llu %llu", &s, &c) == 2) {
		if (s > UINT64_MAX / 512 || c > UINT64_MAX / 512)
			continue;
		if (xp_badblocks_push(&v, n, &cap, s * 512, c * 512)) {
			free(v);
			fclose(f);
			return xp_err(ENOMEM, m->target, "out of memory");
		}
	}
	fclose(f);
	*out = v;
	return 0;
}

int xp_badblocks_load(struct xp_ns *ns)
{
	int rc;

	free(ns->bad);
	rc = load(ns->media, &ns->bad, &ns->nbad);
	if (!rc && ns->nbad)
		xp_log_info("%s: %u bad range(s) known to the platform",
			    ns->media->target, ns->nbad);
	return rc;
}

static uint64_t overlap(const uint64_t *bad, uint32_t n, uint64_t off,
			uint64_t len)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t s = bad[2 * i], e = s + bad[2 * i + 1];
		uint64_t lo = s > off ? s : off;
		uint64_t hi = e < off + len ? e : off + len;

		if (e >= s && hi > lo)
			sum += (hi - lo) / 512;
	}
	return sum;
}

uint64_t xp_badblocks_in(const struct xp_ns *ns, uint64_t off, uint64_t len)
{
	return overlap(ns->bad, ns->nbad, off, len);
}

int xp_badblocks_check_meta(struct xp_media *m, const struct xp_layout *lay)
{
	uint64_t *bad;
	uint32_t n;
	int rc = load(m, &bad, &n);

	if (rc)
		return rc;
	/* The management area too: the hypervisor's frame table goes there. */
	if (overlap(bad, n, 0, lay->mgmt_offset + lay->mgmt_size) ||
	    overlap(bad, n, lay->backup_offset, XP_SB_BLOCK))
		rc = xp_err(EIO, m->target,
			    "bad blocks inside the metadata or management area (first %llu bytes or last 4 KiB); xenpmem will not place metadata on them",
			    (unsigned long long)(lay->mgmt_offset + lay->mgmt_size));
	free(bad);
	return rc;
}
