// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_info(int argc, char **argv)
{
	const char *target = NULL;
	bool human = false;
	const struct cli_opt opts[] = {
		{.long_name = "human", .short_name = 'u', .kind = CLI_FLAG,
		 .dest = &human,
		 .help = "sizes in binary and decimal units, offsets in hex"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "info",
		.summary = "Show the layout, usage and superblock state of a "
			   "namespace as JSON.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_info info;
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	rc = cli_damage(cmd.name, ns,
			cli_print_json(cmd.name, cli_info_json(&info, human)));
	xp_ns_close(ns);
	return rc;
}
