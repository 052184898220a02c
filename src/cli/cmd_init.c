// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

int cmd_init(int argc, char **argv)
{
	const char *target = NULL;
	static const char *const mgmt_modes[] = {"xen", "none", NULL};
	uint32_t max_extents = 1024;
	const char *mgmt = "xen";
	struct xp_init_opts o = {0};
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &o.force,
		 .help = "overwrite what the safety probes found (existing "
			 "xenpmem metadata, filesystems, partition tables, "
			 "Linux info blocks)"},
		{.long_name = "destroy-assigned", .kind = CLI_FLAG,
		 .dest = &o.destroy_assigned,
		 .help = "with --force: overwrite a table even though it "
			 "assigns extents to domains (their data is lost)"},
		{.long_name = "max-extents", .short_name = 'e',
		 .kind = CLI_U32, .dest = &max_extents, .metavar = "N",
		 .min = 1, .max = 65536,
		 .help = "extent table slots, 1..65536 (default 1024)"},
		{.long_name = "mgmt", .short_name = 'm', .kind = CLI_CHOICE,
		 .dest = &mgmt, .metavar = "xen|none", .choices = mgmt_modes,
		 .help = "management area: xen (default) reserves Xen "
			 "x86-64's frame table and M2P for the data area, in "
			 "2 MiB chunks; none: the hypervisor keeps them in "
			 "RAM"},
		{.long_name = "no-compat-m2p", .kind = CLI_FLAG,
		 .dest = &o.no_compat_m2p,
		 .help = "do not reserve the 32-bit PV compat M2P (Xen must "
			 "then run with pv=no-32, or the pmem sit above 1 TiB)"},
		{.long_name = "align", .short_name = 'a', .kind = CLI_ALIGN,
		 .dest = &o.align, .metavar = "2M|1G",
		 .help = "data area and default extent alignment "
			 "(default 1G, so the data area owns its frame-table "
			 "and M2P groups whole)"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "init",
		.summary = "Write a fresh, empty layout on a namespace and print "
			   "its info as JSON.",
		.description = "Refuses a namespace that holds data unless "
			       "--force is given; what --force overrode is "
			       "reported on stderr.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_info info;
	char *overridden;
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	o.max_extents = max_extents;
	o.mgmt = strcmp(mgmt, "none") ? XP_MGMT_XEN : XP_MGMT_NONE;
	if (o.destroy_assigned && !o.force)
		return cli_usage_error(cmd.name,
				       "--destroy-assigned needs --force");
	if (o.mgmt == XP_MGMT_NONE && o.no_compat_m2p)
		return cli_usage_error(cmd.name,
				       "--no-compat-m2p needs --mgmt xen");
	rc = cli_refuse_registered(cmd.name, target, "init");
	if (rc)
		return rc;
	o.flags = cli_lock_flags();
	if (xp_ns_init(target, &o, &overridden))
		return cli_lib_error(cmd.name);
	cli_committed();
	if (overridden)
		cli_notice(cmd.name, "--force overrode: %s", overridden);
	free(overridden);
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	/* info's strings live as long as the handle. */
	rc = cli_print_json(cmd.name, cli_info_json(&info, false));
	xp_ns_close(ns);
	return rc;
}
