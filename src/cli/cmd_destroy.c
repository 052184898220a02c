// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "commands.h"
#include "util.h"

int cmd_destroy(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	bool force = false;
	uint8_t uuid[16] = {0};
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "destroy even if the extent is assigned to a domain, "
			 "or breaks a table rule (which destroying it can "
			 "only remove)"},
		{.long_name = "uuid", .kind = CLI_UUID, .dest = uuid,
		 .metavar = "UUID", .help = CLI_UUID_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to destroy, or @N for the extent in slot N"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "destroy",
		.summary = "Destroy an extent; its space becomes free. The data "
			   "is not zeroed (see 'xenpmem wipe').",
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
	rc = cli_check_uuid(cmd.name, ns, name, uuid);
	if (rc) {
		xp_ns_close(ns);
		return rc;
	}
	rc = cli_change_done(cmd.name, ns,
			     xp_extent_destroy(ns, name, force ? XP_FORCE : 0),
			     NULL);
	/* As ndctl destroy-namespace: the count, on stderr. */
	if (!rc)
		fputs("destroyed 1 extent\n", stderr);
	return rc;
}
