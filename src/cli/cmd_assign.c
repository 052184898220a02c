// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_assign(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	uint8_t owner[16] = {0}, uuid[16] = {0};
	const struct cli_opt opts[] = {
		{.long_name = "owner", .short_name = 'o', .kind = CLI_OWNER,
		 .dest = owner, .metavar = "DOMAIN", .required = true,
		 .help = "the domain that gets the extent: its UUID (xl.cfg "
			 "uuid=, libvirt <uuid>); on a Xen host also a running "
			 "domain's name or id"},
		{.long_name = "uuid", .kind = CLI_UUID, .dest = uuid,
		 .metavar = "UUID", .help = CLI_UUID_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to assign"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "assign",
		.summary = "Record which domain (by UUID) owns an extent, and "
			   "print it as JSON.",
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
	return cli_change_done(cmd.name, ns, xp_extent_assign(ns, name, owner),
			       name);
}
