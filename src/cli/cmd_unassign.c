// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_unassign(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to take back"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "unassign",
		.summary = "Clear an extent's owner, and print it as JSON.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
	};
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	return cli_change_done(cmd.name, ns,
			xp_extent_assign(ns, name, NULL), name);
}
