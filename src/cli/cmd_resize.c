// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_resize(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	uint64_t size = 0;
	const struct cli_opt opts[] = {
		{.long_name = "size", .short_name = 's', .kind = CLI_SIZE,
		 .dest = &size, .metavar = "SIZE", .required = true,
		 .help = "new size; growing needs free space right behind "
			 "the extent"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to resize"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "resize",
		.summary = "Grow or shrink an extent in place and print it as "
			   "JSON. The extent never moves.",
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
	return cli_done(cmd.name, ns, xp_extent_resize(ns, name, size), name);
}
