// SPDX-License-Identifier: MIT
#include <stdio.h>

#include "commands.h"
#include "util.h"

static void print_finding(const struct xp_finding *f, void *arg)
{
	static const char *const label[] = {
		[XP_NOTE] = "note",
		[XP_ERROR] = "error",
		[XP_FIXED] = "fixed",
	};
	bool verbose = *(const bool *)arg;

	if (f->severity == XP_NOTE && !verbose)
		return;
	printf("%s: ", f->severity <= XP_FIXED ? label[f->severity] : "?");
	cli_put_escaped(stdout, f->object ? f->object : "?");
	fputs(": ", stdout);
	cli_put_escaped(stdout, f->text);
	fputc('\n', stdout);
}

int cmd_check(int argc, char **argv)
{
	const char *target = NULL;
	bool repair = false, force = false, verbose = false;
	const struct cli_opt opts[] = {
		{.long_name = "repair", .short_name = 'r', .kind = CLI_FLAG,
		 .dest = &repair,
		 .help = "restore damaged metadata from its valid copy "
			 "(without it, check never writes)"},
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "with --repair: also clear table slots that have no "
			 "valid copy (their extents are lost)"},
		{.long_name = "verbose", .short_name = 'v', .kind = CLI_FLAG,
		 .dest = &verbose,
		 .help = "also print notes (harmless leftovers of interrupted "
			 "updates)"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "check",
		.summary = "Check a namespace's metadata; print one line per "
			   "finding and a summary.",
		.description = "Exit status 1 when inconsistencies remain "
			       "(after repair, with --repair).",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	unsigned flags = 0;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (force && !repair)
		return cli_usage_error(cmd.name, "--force needs --repair");
	if (repair)
		flags |= XP_CHECK_REPAIR;
	if (force)
		flags |= XP_CHECK_FORCE;

	rc = xp_check(target, flags, print_finding, &verbose);
	if (rc < 0)
		return cli_lib_error(cmd.name);
	cli_put_escaped(stdout, target);
	if (rc == 0)
		printf(": clean\n");
	else
		printf(": %d error%s\n", rc, rc == 1 ? "" : "s");
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
