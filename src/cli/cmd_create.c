// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_create(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	struct xp_create_opts c = {0};
	bool no_zero = false;
	const struct cli_opt opts[] = {
		{.long_name = "size", .short_name = 's', .kind = CLI_SIZE,
		 .dest = &c.size, .metavar = "SIZE", .required = true,
		 .help = "extent size, a multiple of its alignment"},
		{.long_name = "owner", .short_name = 'o', .kind = CLI_OWNER,
		 .dest = c.owner, .metavar = "DOMAIN",
		 .help = "assign to this domain: its UUID (xl.cfg uuid=, "
			 "libvirt <uuid>); on a Xen host also a running "
			 "domain's name or id"},
		{.long_name = "align", .short_name = 'a', .kind = CLI_ALIGN,
		 .dest = &c.align, .metavar = "2M|1G",
		 .help = "alignment (default: the namespace's)"},
		{.long_name = "label-size", .short_name = 'l',
		 .kind = CLI_SIZE, .dest = &c.label_size, .metavar = "SIZE",
		 .help = "guest label area at the end of the extent "
			 "(vNVDIMM label-size)"},
		{.long_name = "no-zero", .kind = CLI_FLAG, .dest = &no_zero,
		 .help = "do not zero the extent first: it then holds whatever "
			 "the range held, such as a destroyed extent's data"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .help = "extent name: up to 31 bytes of A-Z a-z 0-9 . _ + : -"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "create",
		.summary = "Create an extent in the data area's free space and "
			   "print it as JSON.",
		.description = "The range is zeroed first (a hole punched in a "
			       "file), with progress on stderr when it is a "
			       "terminal, so no guest receives another "
			       "tenant's bytes; --no-zero skips that.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct cli_progress p = {.verb = "zeroing", .last_pct = -1};
	struct xp_extent created;
	struct xp_ns *ns;
	int rc, crc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	c.name = name;
	c.flags = no_zero ? XP_NO_ZERO : 0;
	c.progress = cli_progress_fn();
	c.progress_arg = &p;
	p.name = name;
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	crc = xp_extent_create(ns, &c, &created);
	cli_progress_end(&p);
	return cli_change_done(cmd.name, ns, crc, name);
}
