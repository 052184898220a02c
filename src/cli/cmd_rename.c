// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_rename(int argc, char **argv)
{
	const char *target = NULL, *from = NULL, *to = NULL;
	bool force = false;
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "rename an extent that breaks a table rule (a "
			 "duplicate name): it can only remove the violation"},
	};
	const struct cli_arg args[] = {
		{.metavar = "OLD", .dest = &from, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent's current name, or @N for the extent in "
			 "slot N"},
		{.metavar = "NEW", .dest = &to, .is_name = true,
		 .help = "its new name, not used by another extent"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "rename",
		.summary = "Rename an extent and print it as JSON. Its UUID, "
			   "place and data stay.",
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
	return cli_change_done(cmd.name, ns,
			xp_extent_rename(ns, from, to, force ? XP_FORCE : 0), to);
}
