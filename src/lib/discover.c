/* SPDX-License-Identifier: MIT */
/*
 * Discovery through libndctl: every pmem namespace on the host, the node
 * it exposes in its current mode, its physical start, and whether it holds
 * xenpmem metadata.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <daxctl/libdaxctl.h>
#include <ndctl/libndctl.h>
#include <linux/ndctl.h>

#include "xp_internal.h"

/* The node a namespace exposes in its mode; "" when it has none. */
static void ns_node(struct ndctl_namespace *ndns, char *path, size_t len,
		    bool *is_char)
{
	struct ndctl_btt *btt = ndctl_namespace_get_btt(ndns);
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
	const char *dev = NULL;

	*is_char = false;
	if (btt) {
		dev = ndctl_btt_get_block_device(btt);
	} else if (pfn) {
		dev = ndctl_pfn_get_block_device(pfn);
	} else if (dax) {
		struct daxctl_region *dr = ndctl_dax_get_daxctl_region(dax);
		struct daxctl_dev *dd = dr ? daxctl_dev_get_first(dr) : NULL;

		dev = dd ? daxctl_dev_get_devname(dd) : NULL;
		*is_char = true;
	} else {
		dev = ndctl_namespace_get_block_device(ndns);
	}
	snprintf(path, len, "%s%s", dev && *dev ? "/dev/" : "",
		 dev && *dev ? dev : "");
}

static const char *mode_name(struct ndctl_namespace *ndns)
{
	switch (ndctl_namespace_get_mode(ndns)) {
	case NDCTL_NS_MODE_FSDAX: return "fsdax";
	case NDCTL_NS_MODE_SECTOR: return "sector";
	case NDCTL_NS_MODE_RAW: return "raw";
	case NDCTL_NS_MODE_DEVDAX: return "devdax";
	default: return "unknown";
	}
}

void xp_discover_probe(struct xp_pmem_ns *p)
{
	struct xp_ns *ns;
	int rc;

	p->xenpmem = XP_META_NONE;
	if (!p->node || !p->node[0])
		return;
	/*
	 * Never wait: a listing must not hang behind another process's
	 * long update, nor on a write handle of the caller's own.
	 */
	rc = xp_ns_open(p->node, XP_NOWAIT, &ns);
	if (rc == 0) {
		p->xenpmem = XP_META_OK;
		p->extents = xp_ns_extent_count(ns);
		xp_ns_close(ns);
	} else if (rc == -EBUSY || rc == -EDEADLK) {
		p->xenpmem = XP_META_BUSY;
	} else if (rc == -EUCLEAN) {
		p->xenpmem = XP_META_CORRUPT;
	} else if (rc != -ENODATA) {
		p->xenpmem = XP_META_UNKNOWN;
	}
}

int xp_ndctl_resolve(const char *name, char *path, size_t len)
{
	struct ndctl_ctx *ctx;
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;
	bool is_char;
	int rc = -ENOENT;

	if (ndctl_new(&ctx))
		return -ENOENT;
	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			ndctl_namespace_foreach(region, ndns) {
				if (strcmp(ndctl_namespace_get_devname(ndns), name))
					continue;
				ns_node(ndns, path, len, &is_char);
				rc = path[0] ? 0 : -ENODEV;
				goto out;
			}
		}
	}
out:
	ndctl_unref(ctx);
	return rc;
}

int xp_discover(xp_discover_fn fn, void *arg)
{
	struct ndctl_ctx *ctx;
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;
	int rc = 0;

	xp_err_clear();
	if (ndctl_new(&ctx))
		return xp_err(ENODEV, "xenpmem", "cannot initialise libndctl");
	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			if (ndctl_region_get_type(region) != ND_DEVICE_REGION_PMEM)
				continue;
			ndctl_namespace_foreach(region, ndns) {
				struct xp_pmem_ns p;
				unsigned long long res;
				char node[PATH_MAX];

				if (!ndctl_namespace_get_size(ndns))
					continue;
				memset(&p, 0, sizeof(p));
				/* libndctl's strings live as long as ctx. */
				p.dev = ndctl_namespace_get_devname(ndns);
				p.region = ndctl_region_get_devname(region);
				p.mode = mode_name(ndns);
				p.size = ndctl_namespace_get_size(ndns);
				res = ndctl_namespace_get_resource(ndns);
				p.resource_known = res != ULLONG_MAX;
				p.resource = p.resource_known ? res : 0;
				ns_node(ndns, node, sizeof(node), &p.is_char);
				p.node = node;
				xp_discover_probe(&p);
				rc = fn(&p, arg);
				if (rc)
					goto out;
			}
		}
	}
out:
	ndctl_unref(ctx);
	xp_err_clear();
	return rc;
}

/* The namespace whose physical range is exactly [@phys, @phys + @size). */
static struct ndctl_namespace *ns_at(struct ndctl_ctx *ctx, uint64_t phys,
				     uint64_t size)
{
	struct ndctl_bus *bus;
	struct ndctl_region *region;
	struct ndctl_namespace *ndns;

	ndctl_bus_foreach(ctx, bus) {
		ndctl_region_foreach(bus, region) {
			if (ndctl_region_get_type(region) != ND_DEVICE_REGION_PMEM)
				continue;
			ndctl_namespace_foreach(region, ndns)
				if (ndctl_namespace_get_resource(ndns) == phys &&
				    ndctl_namespace_get_size(ndns) == size)
					return ndns;
		}
	}
	return NULL;
}

int xp_ndctl_set_enabled(uint64_t phys, uint64_t size, bool enable,
			 char *name, size_t len)
{
	struct ndctl_namespace *ndns;
	struct ndctl_ctx *ctx;
	int rc;

	if (len)
		name[0] = 0;
	if (ndctl_new(&ctx))
		return -ENOENT;
	ndns = ns_at(ctx, phys, size);
	if (!ndns) {
		ndctl_unref(ctx);
		return -ENOENT;
	}
	if (len && (size_t)snprintf(name, len, "%s",
				    ndctl_namespace_get_devname(ndns)) >= len) {
		ndctl_unref(ctx);
		return -ERANGE;
	}
	if (!!ndctl_namespace_is_enabled(ndns) == enable)
		rc = 1;
	else if (enable)
		rc = ndctl_namespace_enable(ndns);
	else
		/* Refuses while the block device is open or mounted, as
		 * `ndctl disable-namespace` does. */
		rc = ndctl_namespace_disable_safe(ndns);
	ndctl_unref(ctx);
	return rc < 0 ? rc : rc == 1 ? 1 : 0;
}
