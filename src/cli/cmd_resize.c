// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_resize(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	uint64_t size = 0;
	bool force = false, no_zero = false;
	uint8_t uuid[16] = {0};
	const struct cli_opt opts[] = {
		{.long_name = "size", .short_name = 's', .kind = CLI_SIZE,
		 .dest = &size, .metavar = "SIZE", .required = true,
		 .help = "new size; growing needs free space right behind "
			 "the extent"},
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "shrink an extent assigned to a domain (the bytes "
			 "past the new size are released)"},
		{.long_name = "no-zero", .kind = CLI_FLAG, .dest = &no_zero,
		 .help = "growing: do not zero the new range first (it then "
			 "holds whatever the range held)"},
		{.long_name = "uuid", .kind = CLI_UUID, .dest = uuid,
		 .metavar = "UUID", .help = CLI_UUID_HELP},
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
		.description = "Growing zeroes the new range first (a hole "
			       "punched in a file), with progress on stderr "
			       "when it is a terminal; --no-zero skips that. "
			       "A label area moves with the extent's end: it "
			       "is copied there before the change commits, "
			       "and a resize by less than its size is refused.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct cli_progress p = {.verb = "zeroing", .last_pct = -1};
	unsigned flags;
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	flags = (force ? XP_FORCE : 0) | (no_zero ? XP_NO_ZERO : 0);
	p.name = name;
	rc = cli_open(cmd.name, target, XP_OPEN_WRITE, &ns, NULL);
	if (rc)
		return rc;
	rc = cli_check_uuid(cmd.name, ns, name, uuid);
	if (rc) {
		xp_ns_close(ns);
		return rc;
	}
	rc = xp_extent_resize(ns, name, size, flags, cli_progress_fn(), &p);
	cli_progress_end(&p);
	return cli_change_done(cmd.name, ns, rc, name);
}
