// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "export.h"
#include "util.h"

static json_object *json_u64_or_null(bool known, uint64_t v)
{
	return known ? json_object_new_uint64(v) : NULL;
}

/* Like cli_json_add(), but a NULL @val is JSON null, not a failure. */
static bool add_nullable(json_object *o, const char *key, json_object *val)
{
	return !json_object_object_add(o, key, val);
}

/*
 * Everything a tool needs to hand the extent out itself: where its data
 * and label area are in the namespace and in machine frames, who owns it,
 * and where it is active. Keys are always present; null when unknown.
 */
static json_object *export_json(const struct export_ctx *c)
{
	const struct xp_extent *e = c->ext;
	const struct xp_info *in = c->info;
	json_object *o = json_object_new_object();
	char uuid[XP_UUID_STR_LEN], ns_uuid[XP_UUID_STR_LEN];
	char owner[XP_UUID_STR_LEN], dom[64];
	bool active = c->act.kind != XP_ACT_NONE;
	bool phys = e->phys_known;
	uint32_t domid;
	bool running = false;
	bool ok = o != NULL;

	cli_fmt_uuid(e->uuid, uuid);
	cli_fmt_uuid(in->uuid, ns_uuid);
	cli_fmt_uuid(e->owner, owner);
	if (e->assigned)
		running = !xp_owner_lookup(e->owner, dom, sizeof(dom), &domid);
	ok = ok && cli_json_add(o, "name", json_object_new_string(e->name));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "slot", json_object_new_uint64(e->slot));
	ok = ok && cli_json_add(o, "namespace",
				json_object_new_string(in->target));
	ok = ok && cli_json_add(o, "namespace_uuid",
				json_object_new_string(ns_uuid));
	ok = ok && cli_json_add(o, "backend",
				json_object_new_string(
					xp_backend_name(in->backend)));
	ok = ok && cli_json_add(o, "state", json_object_new_string(
					xp_extent_state_name(e->state)));
	ok = ok && cli_json_add(o, "offset", json_object_new_uint64(e->offset));
	ok = ok && cli_json_add(o, "size", json_object_new_uint64(e->size));
	ok = ok && cli_json_add(o, "align", json_object_new_uint64(e->align));
	ok = ok && cli_json_add(o, "data_size",
				json_object_new_uint64(c->data_size));
	ok = ok && cli_json_add(o, "label_size",
				json_object_new_uint64(e->label_size));
	ok = ok && add_nullable(o, "label_offset",
				json_u64_or_null(e->label_size,
						 e->offset + c->data_size));
	ok = ok && add_nullable(o, "owner", e->assigned ?
				json_object_new_string(owner) : NULL);
	ok = ok && add_nullable(o, "owner_name", running ?
				json_object_new_string(dom) : NULL);
	ok = ok && add_nullable(o, "owner_domid",
				json_u64_or_null(running, domid));
	ok = ok && add_nullable(o, "phys_start",
				json_u64_or_null(phys, in->phys_base +
							       e->offset));
	ok = ok && add_nullable(o, "first_mfn",
				json_u64_or_null(phys, e->first_mfn));
	/* nr_frames as list has it (the whole extent); data_frames are the
	 * ones a guest maps (the hypervisor never maps the label area). */
	ok = ok && add_nullable(o, "nr_frames",
				json_u64_or_null(phys, e->nr_frames));
	ok = ok && add_nullable(o, "data_frames",
				json_u64_or_null(phys, c->data_size >> 12));
	ok = ok && add_nullable(o, "active_device", active ?
				json_object_new_string(c->act.device) : NULL);
	ok = ok && add_nullable(o, "active_kind", active ?
				json_object_new_string(
					c->act.kind == XP_ACT_DM ? "dm" :
								   "loop") :
				NULL);
	ok = ok && add_nullable(o, "active_dax", active ?
				json_object_new_boolean(c->act.dax) : NULL);
	ok = ok && add_nullable(o, "active_offset",
				json_u64_or_null(active, c->act.offset));
	ok = ok && add_nullable(o, "active_size",
				json_u64_or_null(active, c->act.size));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Linux's memmap=SIZE!ADDR (memparse: K/M suffixes, 0x addresses). */
static void fmt_memmap(uint64_t size, uint64_t addr, char *buf, size_t len)
{
	if (!(size & ((1ull << 20) - 1)))
		snprintf(buf, len, "memmap=%lluM!0x%llx",
			 (unsigned long long)(size >> 20),
			 (unsigned long long)addr);
	else
		snprintf(buf, len, "memmap=%lluK!0x%llx",
			 (unsigned long long)(size >> 10),
			 (unsigned long long)addr);
}

/*
 * Stock Xen 4.17 (xl.cfg(5)): iomem= gives the guest the machine frames,
 * here 1:1 (GFN = MFN), so the same memmap= address serves a PV guest
 * (whose kernel maps host-memory-map holes 1:1) and an HVM one.
 */
static int print_xl_iomem(const struct export_ctx *c)
{
	const struct xp_extent *e = c->ext;
	uint64_t mfn = e->first_mfn, nr = c->data_size >> 12;
	char memmap[80];

	if (!e->phys_known)
		return cli_fail(c->cmd,
				"extent '%s': the namespace's physical address is unknown (a file?), so there are no machine frames for iomem=",
				e->name);
	fmt_memmap(c->data_size, mfn << 12, memmap, sizeof(memmap));
	printf("# xenpmem extent '%s' of namespace %s: %llu data frames at machine frame 0x%llx, 1:1",
	       e->name, c->info->target, (unsigned long long)nr,
	       (unsigned long long)mfn);
	if (e->label_size)
		printf(" (its %llu KiB label area is not mapped)",
		       (unsigned long long)(e->label_size >> 10));
	printf("\n");
	printf("iomem = [ \"%llx,%llx@%llx\" ]\n", (unsigned long long)mfn,
	       (unsigned long long)nr, (unsigned long long)mfn);
	printf("# PV guests: the host memory map, so the range stays a hole in the guest\n");
	printf("e820_host = 1\n");
	printf("# the guest kernel's pmem there: add to its command line (extra=); a PV\n");
	printf("# kernel needs pci=conf1 to reach the PCI init that lists e820 pmem for nd_e820\n");
	printf("extra = \"%s pci=conf1\"\n", memmap);
	printf("# Uncached: Xen 4.17 forces a PV guest's cacheable mappings of iomem frames to UC\n");
	printf("# (WC stays) unless it boots with mmio-relax=all (plain mmio-relax covers Dom0 only);\n");
	printf("# an HVM guest's EPT type for frames outside Xen's frame table is UC whatever it asks.\n");
	return CLI_EXIT_OK;
}

/*
 * The patched Xen (xen/patches): the xl hook maps the extent when the
 * guest starts, at its first data frame unless gfn= says otherwise.
 */
static int print_xl(const struct export_ctx *c)
{
	const struct xp_extent *e = c->ext;
	char owner[XP_UUID_STR_LEN], ns_uuid[XP_UUID_STR_LEN], memmap[80];

	if (!e->assigned)
		return cli_fail(c->cmd,
				"extent '%s' is not assigned: the hypervisor maps an extent only into its owner (xenpmem assign %s --owner DOMAIN-UUID %s)",
				e->name, e->name, c->info->target);
	if (!e->phys_known)
		return cli_fail(c->cmd,
				"extent '%s': the namespace's physical address is unknown (a file?), so the guest address of its frames is too",
				e->name);
	cli_fmt_uuid(e->owner, owner);
	cli_fmt_uuid(c->info->uuid, ns_uuid);
	fmt_memmap(c->data_size, e->first_mfn << 12, memmap, sizeof(memmap));
	printf("uuid = \"%s\"\n", owner);
	printf("disk = [ 'vdev=xvdp, access=ro, script=block-xenpmem, target=extent=%s,ns=hv:%s' ]\n",
	       e->name, ns_uuid);
	printf("extra = \"%s pci=conf1\"\n", memmap);
	return CLI_EXIT_OK;
}

/*
 * Guest configurations outlive the working directory: paths absolute.
 * The target, a copy that outlives the handle, for free().
 */
static char *absolute_target(const struct xp_info *info)
{
	char *abs = NULL;

	if (info->backend != XP_BACKEND_HV && info->target[0] != '/')
		abs = realpath(info->target, NULL);
	return abs ? abs : strdup(info->target);
}

int cmd_export(int argc, char **argv)
{
	static const char *const formats[] = {
		"json", "qemu", "libvirt", "xl-iomem", "xl", NULL,
	};
	const char *target = NULL, *name = NULL, *format = "json";
	const char *qemu_version = NULL;
	const struct cli_opt opts[] = {
		{.long_name = "format", .short_name = 'F', .kind = CLI_CHOICE,
		 .dest = &format, .metavar = "FORMAT",
		 .choices = formats,
		 .help = "json (default): offsets, frames, label area, owner "
			 "and activation; qemu: -object/-device arguments "
			 "for a vNVDIMM; libvirt: a <memory model='nvdimm'> "
			 "element; xl-iomem: iomem=, e820_host= and memmap= "
			 "for stock Xen (needs the physical address, so not "
			 "for files); xl: the disk line of the patched Xen's "
			 "hook (needs an owner)"},
		{.long_name = "qemu-version", .kind = CLI_STRING,
		 .dest = &qemu_version, .metavar = "X.Y",
		 .help = "the QEMU the qemu line is for (offset= from 8.1); "
			 "default: $XENPMEM_QEMU_VERSION, else what "
			 "qemu-system-x86_64 --version says"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to export"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "export",
		.summary = "Print what a hypervisor needs to hand an extent to "
			   "a guest.",
		.description = "qemu and libvirt use the extent's activation "
			       "('xenpmem activate', with --with-label for the "
			       "guest to get the extent's label area), or with "
			       "QEMU 8.1 or later offset= into a file or "
			       "device-DAX namespace (the whole extent). A raw "
			       "/dev/pmemN is never a mem-path. See "
			       "docs/guests.md.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct export_ctx c = {.cmd = "export"};
	struct xp_info info;
	struct xp_extent e;
	struct xp_ns *ns;
	char *abs_target;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (!qemu_version) {
		qemu_version = getenv("XENPMEM_QEMU_VERSION");
		if (qemu_version && !*qemu_version)
			qemu_version = NULL;
	}
	if (qemu_version &&
	    !export_parse_qemu_version(qemu_version, &c.qemu_version))
		return cli_usage_error(cmd.name,
				       "--qemu-version '%s' is not X.Y or X.Y.Z",
				       qemu_version);
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	info.target = abs_target = absolute_target(&info);
	rc = abs_target ? 0 : cli_fail(cmd.name, "%s: out of memory", target);
	if (!rc) {
		rc = xp_ns_extent_find(ns, name, &e);
		rc = rc ?: xp_extent_exportable(ns, &e);
		rc = rc ?: xp_extent_activation(ns, &e, &c.act);
		rc = rc ? cli_lib_error(cmd.name) : 0;
	}
	xp_ns_close(ns);
	if (rc) {
		free(abs_target);
		return rc;
	}

	c.ext = &e;
	c.info = &info;
	c.data_size = e.size - e.label_size;
	if (!strcmp(format, "qemu") && !qemu_version)
		c.qemu_version = export_probe_qemu_version();
	if (!strcmp(format, "libvirt"))
		snprintf(c.no_offset_why, sizeof(c.no_offset_why),
			 "libvirt's nvdimm takes no offset= into a file");
	else if (!c.qemu_version)
		snprintf(c.no_offset_why, sizeof(c.no_offset_why),
			 "offset= needs QEMU 8.1, and no qemu-system-x86_64 answers --version");
	else
		snprintf(c.no_offset_why, sizeof(c.no_offset_why),
			 "offset= needs QEMU 8.1, this is %u.%u",
			 c.qemu_version / 100, c.qemu_version % 100);

	if (!strcmp(format, "qemu"))
		rc = export_print_qemu(&c);
	else if (!strcmp(format, "libvirt"))
		rc = export_print_libvirt(&c);
	else if (!strcmp(format, "xl-iomem"))
		rc = print_xl_iomem(&c);
	else if (!strcmp(format, "xl"))
		rc = print_xl(&c);
	else
		rc = cli_print_json(cmd.name, export_json(&c));
	free(abs_target);
	return rc;
}
