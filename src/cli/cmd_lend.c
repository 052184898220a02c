// SPDX-License-Identifier: MIT
/*
 * lend / reclaim: mark an extent on media as lent to the hypervisor as
 * RAM (docs/hypervisor-abi.md, "Pmem as hypervisor RAM"), or take it back
 * as a data extent. Like daxctl's system-ram mode this destroys what the
 * extent holds, so both need --force; unlike daxctl the state is kept on
 * media, so the hypervisor finds it at every register.
 */
#include "commands.h"
#include "util.h"

static int lend_or_reclaim(int argc, char **argv, bool lend)
{
	const char *target = NULL, *name = NULL;
	bool force = false;
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = lend ? "required: the extent's content becomes the "
				"hypervisor's RAM and is lost" :
				"required: the content the hypervisor left is "
				"garbage, not data"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = lend ? "the extent to lend (unassigned)" :
				"the lent extent to take back"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = lend ? "lend" : "reclaim",
		.summary = lend ?
			"Lend an unassigned extent to the hypervisor as RAM "
			"(from its next register on; one-way until reboot), "
			"and print it as JSON." :
			"Turn a lent extent back into a data extent (while "
			"the namespace is not registered), and print it as "
			"JSON.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (!force)
		return cli_usage_error(cmd.name,
				       lend ? "lending extent '%s' as RAM "
					      "destroys its data; add --force "
					      "to confirm" :
					      "extent '%s' holds what the "
					      "hypervisor left as RAM, not "
					      "data; add --force to confirm",
				       name);
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	return cli_change_done(cmd.name, ns,
			xp_extent_set_state(ns, name,
					    lend ? XP_EXTENT_LENT_RAM :
						   XP_EXTENT_DATA),
			name);
}

int cmd_lend(int argc, char **argv)
{
	return lend_or_reclaim(argc, argv, true);
}

int cmd_reclaim(int argc, char **argv)
{
	return lend_or_reclaim(argc, argv, false);
}
