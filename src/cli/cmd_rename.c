// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_rename(int argc, char **argv)
{
	const char *target = NULL, *from = NULL, *to = NULL;
	const struct cli_arg args[] = {
		{.metavar = "OLD", .dest = &from, .is_name = true,
		 .help = "the extent's current name"},
		{.metavar = "NEW", .dest = &to, .is_name = true,
		 .help = "its new name, not used by another extent"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "rename",
		.summary = "Rename an extent and print it as JSON. Its UUID, "
			   "place and data stay.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
	};
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	return cli_done(cmd.name, ns, xp_extent_rename(ns, from, to), to);
}
