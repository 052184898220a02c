// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "commands.h"
#include "util.h"

int cmd_wipe(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	bool force = false;
	uint8_t uuid[16] = {0};
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "required: confirms that the extent's data is "
			 "destroyed (an extent assigned to a domain is "
			 "refused all the same: unassign it first)"},
		{.long_name = "uuid", .kind = CLI_UUID, .dest = uuid,
		 .metavar = "UUID", .help = CLI_UUID_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to zero"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "wipe",
		.summary = "Zero every byte of an extent (its label area "
			   "included). The extent itself stays.",
		.description = "Refuses an extent assigned to a domain. Shows "
			       "progress on stderr when it is a terminal.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct cli_progress p = {.verb = "wiping", .last_pct = -1};
	struct xp_ns *ns;
	int rc, wrc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (!force)
		return cli_usage_error(cmd.name,
				       "wipe destroys the data of extent '%s'; "
				       "add --force to confirm",
				       name);
	rc = cli_refuse_registered(cmd.name, target, "wiping an extent");
	if (rc)
		return rc;
	p.name = name;
	/* A shared lock: readers are not kept waiting for the whole run. */
	rc = cli_open(cmd.name, target, XP_OPEN_WIPE, &ns, NULL);
	if (rc)
		return rc;
	rc = cli_check_uuid(cmd.name, ns, name, uuid);
	if (rc) {
		xp_ns_close(ns);
		return rc;
	}
	wrc = xp_extent_wipe(ns, name, XP_FORCE, cli_progress_fn(), &p);
	cli_progress_end(&p);
	rc = cli_change_done(cmd.name, ns, wrc, NULL);
	if (!rc)
		fputs("wiped 1 extent\n", stderr);
	return rc;
}
