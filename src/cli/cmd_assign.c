// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_assign(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	uint32_t owner = XP_OWNER_NONE;
	const struct cli_opt opts[] = {
		{.long_name = "owner", .short_name = 'o', .kind = CLI_U32,
		 .dest = &owner, .metavar = "DOMID", .min = 0,
		 .max = CLI_DOMID_MAX, .required = true,
		 .help = "the Xen domain id (0..32751) that gets the extent"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .help = "the extent to assign"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "assign",
		.summary = "Record which Xen domain owns an extent, and print "
			   "it as JSON.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	return cli_done(cmd.name, ns, xp_extent_assign(ns, name, owner), name);
}
