// SPDX-License-Identifier: MIT
/*
 * activate / deactivate: a block device over an extent's data (dm-linear
 * on a pmem block device, loop on a file), for guests that take a path.
 * The kernel keeps it until deactivate or reboot; `activate --all` at boot
 * (systemd/xenpmem-activate.service) brings them back.
 *
 * Two forms each: one extent (NAME NAMESPACE), or --all extents of the
 * namespaces given, or with none of the namespaces discovery finds (the
 * ones `xenpmem list` shows). A file namespace is never discovered: name
 * it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static const char *const kind_names[] = {
	[XP_ACT_NONE] = "none",
	[XP_ACT_DM] = "dm",
	[XP_ACT_LOOP] = "loop",
};

static json_object *activation_json(const struct xp_extent *e,
				    const char *target,
				    const struct xp_activation *a)
{
	json_object *o = json_object_new_object();
	char uuid[XP_UUID_STR_LEN];
	bool ok = o != NULL;

	cli_fmt_uuid(e->uuid, uuid);
	ok = ok && cli_json_add(o, "name", json_object_new_string(e->name));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "namespace", json_object_new_string(target));
	ok = ok && cli_json_add(o, "device", json_object_new_string(a->device));
	ok = ok && cli_json_add(o, "kind",
				json_object_new_string(kind_names[a->kind]));
	ok = ok && cli_json_add(o, "dax", json_object_new_boolean(a->dax));
	ok = ok && cli_json_add(o, "offset", json_object_new_uint64(a->offset));
	ok = ok && cli_json_add(o, "size", json_object_new_uint64(a->size));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* One extent: activate (or deactivate) it and report. */
static int one(const char *cmd, const char *name, const char *target,
	       bool activate, unsigned flags)
{
	struct xp_activation before, a;
	struct xp_extent e;
	struct xp_ns *ns;
	json_object *o;
	int rc;

	rc = cli_open(cmd, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	rc = xp_ns_extent_find(ns, name, &e);
	if (!rc && activate) {
		rc = xp_extent_activation(ns, &e, &before);
		rc = rc ?: xp_extent_activate_flags(ns, name, flags, &a);
	} else if (!rc) {
		rc = xp_extent_deactivate(ns, name);
	}
	if (rc) {
		rc = cli_lib_error(cmd);
		xp_ns_close(ns);
		return rc;
	}
	xp_ns_close(ns);
	cli_committed();
	if (!activate) {
		cli_notice(cmd, "deactivated extent '%s' of %s", e.name, target);
		return CLI_EXIT_OK;
	}
	o = activation_json(&e, target, &a);
	rc = cli_print_json(cmd, o);
	if (!rc && before.kind != XP_ACT_NONE)
		cli_notice(cmd, "extent '%s' was already active as %s", e.name,
			   a.device);
	return rc;
}

struct all_run {
	const char *cmd;
	bool activate;
	unsigned flags;		/* XP_ACTIVATE_* */
	json_object *arr;	/* activate: every activation */
	unsigned done, failed;
};

/* Every data extent of @target; a failure is one line and the rest go on. */
static void all_of(struct all_run *r, const char *target)
{
	struct xp_info info;
	struct xp_ns *ns;
	const char *damage;
	uint32_t n;

	if (cli_open(r->cmd, target, XP_OPEN_WRITE, &ns, &info)) {
		r->failed++;
		return;
	}
	/* One line for the namespace, not one per extent. */
	if (info.backend == XP_BACKEND_DEVDAX ||
	    info.backend == XP_BACKEND_HV) {
		if (r->activate) {
			cli_fail(r->cmd, "%s: %s", target,
				 info.backend == XP_BACKEND_HV ?
				 "registered with the hypervisor, which maps "
				 "extents itself: nothing to activate" :
				 "device DAX is a character device, and "
				 "dm-linear and loop need a block device");
			r->failed++;
		}
		xp_ns_close(ns);
		return;
	}
	damage = xp_ns_damage(ns);
	if (damage && r->activate) {
		cli_fail(r->cmd, "%s", damage);
		r->failed++;
		xp_ns_close(ns);
		return;
	}
	n = xp_ns_extent_count(ns);
	for (uint32_t i = 0; i < n; i++) {
		struct xp_activation a;
		struct xp_extent e;
		char sel[16];
		int rc;

		if (xp_ns_extent_get(ns, i, &e)) {
			cli_lib_error(r->cmd);
			r->failed++;
			continue;
		}
		/* Lent RAM holds no data, and is no device's. */
		if (e.state != XP_EXTENT_DATA)
			continue;
		/* By slot: a name is not unique in a broken table. */
		snprintf(sel, sizeof(sel), "@%u", e.slot);
		rc = xp_extent_activation(ns, &e, &a);
		if (!rc && !r->activate && a.kind == XP_ACT_NONE)
			continue;
		if (!rc && r->activate)
			rc = xp_extent_activate_flags(ns, sel, r->flags, &a);
		else if (!rc)
			rc = xp_extent_deactivate(ns, sel);
		if (rc) {
			cli_lib_error(r->cmd);
			r->failed++;
			continue;
		}
		r->done++;
		cli_committed();
		if (r->activate &&
		    json_object_array_add(r->arr, activation_json(&e, target,
								  &a))) {
			cli_fail(r->cmd, "out of memory");
			r->failed++;
		}
	}
	xp_ns_close(ns);
}

struct found {
	const char *cmd;
	char (*nodes)[64];
	size_t n;
};

/* Discovered namespaces holding xenpmem metadata, by their node. */
static int collect(const struct xp_pmem_ns *p, void *arg)
{
	struct found *f = arg;
	void *grown;

	/* A busy one is tried too: its turn waits as any open does. */
	if ((p->xenpmem != XP_META_OK && p->xenpmem != XP_META_BUSY) ||
	    !p->node[0])
		return 0;
	if (p->is_char) {
		/* At boot a device-DAX namespace is no failure: there is
		 * nothing it could be activated as. */
		cli_notice(f->cmd, "%s (%s): device DAX, skipped: dm and loop "
			   "need a block device", p->dev, p->node);
		return 0;
	}
	grown = realloc(f->nodes, (f->n + 1) * sizeof(*f->nodes));
	if (!grown)
		return -ENOMEM;
	f->nodes = grown;
	snprintf(f->nodes[f->n++], sizeof(*f->nodes), "%s", p->node);
	return 0;
}

static int all(const char *cmd, bool activate, unsigned flags, int nns,
	       char **nss)
{
	struct all_run r = {.cmd = cmd, .activate = activate, .flags = flags};
	struct found f = {.cmd = cmd};
	int rc = CLI_EXIT_OK;

	if (activate) {
		r.arr = json_object_new_array();
		if (!r.arr)
			return cli_fail(cmd, "out of memory");
	}
	if (!nns) {
		if (xp_discover(collect, &f)) {
			free(f.nodes);
			json_object_put(r.arr);
			return cli_lib_error(cmd);
		}
		for (size_t i = 0; i < f.n; i++)
			all_of(&r, f.nodes[i]);
		free(f.nodes);
	}
	for (int i = 0; i < nns; i++)
		all_of(&r, nss[i]);
	if (activate)
		rc = cli_print_json(cmd, r.arr);
	else
		cli_notice(cmd, "deactivated %u extent%s", r.done,
			   r.done == 1 ? "" : "s");
	return r.failed ? CLI_EXIT_FAIL : rc;
}

static bool is_all(const char *a)
{
	return !strcmp(a, "--all") || !strcmp(a, "-a");
}

/*
 * The --all form takes any number of namespaces, which the option table
 * cannot say; its only other option is activate's --with-label, so it is
 * parsed here.
 */
static int parse_all(const char *cmd, int argc, char **argv, bool activate,
		     unsigned *flags, int *nns, char ***nss)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (is_all(a))
			continue;
		if (activate && !strcmp(a, "--with-label")) {
			*flags |= XP_ACTIVATE_WITH_LABEL;
			continue;
		}
		if (a[0] == '-' && strcmp(a, "-") && strcmp(a, "--"))
			return cli_usage_error(cmd, "unknown option '%.64s' "
					       "with --all", a);
		if (!strcmp(a, "--"))
			continue;
		if (!*a)
			return cli_usage_error(cmd,
					       "NAMESPACE must not be empty");
		argv[1 + n++] = argv[i];
	}
	*nns = n;
	*nss = argv + 1;
	return 0;
}

static int run(int argc, char **argv, bool activate)
{
	const char *target = NULL, *name = NULL;
	bool all_flag = false, with_label = false;
	const struct cli_opt opts[] = {
		{.long_name = "all", .short_name = 'a', .kind = CLI_FLAG,
		 .dest = &all_flag,
		 .help = activate ?
			"activate every data extent of the namespaces given "
			"instead (usage: activate --all [NAMESPACE...]); with "
			"none, of every pmem namespace holding xenpmem "
			"metadata that discovery finds (as 'xenpmem list' "
			"shows them; files are never discovered: name them). "
			"Device-DAX namespaces found are skipped with a note. "
			"One line per failure; the others go on; exit 1 if "
			"any failed" :
			"deactivate every active extent of the namespaces "
			"given instead (usage: deactivate --all "
			"[NAMESPACE...]); with none, of every pmem namespace "
			"discovery finds"},
		{.long_name = "with-label", .kind = CLI_FLAG,
		 .dest = &with_label,
		 .help = "cover the whole extent, its label area last, "
			 "instead of its data alone: the backend QEMU before "
			 "8.1 and libvirt need to give the guest the "
			 "extent's label area (export --format qemu|libvirt "
			 "then adds label-size)"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = activate ? "the extent to activate" :
				    "the extent to deactivate"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = activate ? "activate" : "deactivate",
		.summary = activate ?
			"Make a block device over an extent's data (its label "
			"area excluded) and print it as JSON: on /dev/pmemN "
			"(or its ndctl name) a dm-linear device "
			"/dev/mapper/xenpmem-NAME, DAX-capable when the kernel "
			"allows; on a file a loop device. Activating an active "
			"extent reports the device it has (exit 0, a note on "
			"stderr)." :
			"Remove the device 'xenpmem activate' made for an "
			"extent. Refused while it is in use (mounted, a running "
			"guest).",
		.description = activate ?
			"The device is found again by the extent's UUID (dm "
			"UUID XENPMEM-NSUUID-EXTENTUUID, loop file name "
			"xenpmem:EXTENTUUID on the namespace file's inode), so "
			"rename keeps it under its old name until deactivate. "
			"Device DAX (/dev/daxN.M) is a character device dm and "
			"loop cannot sit on: refused. destroy, resize, wipe "
			"and lend refuse an active extent. Nothing survives a "
			"reboot: xenpmem-activate.service runs 'activate "
			"--all' at boot." : NULL,
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		/* --with-label, last, is activate's alone */
		.opts = opts,
		.nopts = CLI_ARRAY_SIZE(opts) - (activate ? 0 : 1),
	};
	char **nss = NULL;
	unsigned flags = 0;
	int rc, nns = 0;

	bool help = false, all_form = false;

	/* Help wins over whatever else is on the line, as everywhere. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		help = help || !strcmp(argv[i], "--help") ||
		       !strcmp(argv[i], "-h");
		all_form = all_form || is_all(argv[i]);
	}
	if (all_form && !help) {
		rc = parse_all(cmd.name, argc, argv, activate, &flags, &nns,
			       &nss);
		return rc ? rc : all(cmd.name, activate, flags, nns, nss);
	}
	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	return one(cmd.name, name, target, activate,
		   with_label ? XP_ACTIVATE_WITH_LABEL : 0);
}

int cmd_activate(int argc, char **argv)
{
	return run(argc, argv, true);
}

int cmd_deactivate(int argc, char **argv)
{
	return run(argc, argv, false);
}
