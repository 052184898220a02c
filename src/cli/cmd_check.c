// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static void print_finding(const struct xp_finding *f, void *arg)
{
	static const char *const label[] = {
		[XP_SEV_NOTE] = "note",
		[XP_SEV_ERROR] = "error",
		[XP_SEV_FIXED] = "fixed",
	};
	bool verbose = *(const bool *)arg;

	/* A repair wrote this: printing can no longer undo it. */
	if (f->severity == XP_SEV_FIXED)
		cli_committed();
	if (f->severity == XP_SEV_NOTE && !verbose)
		return;
	printf("%s: ", f->severity <= XP_SEV_FIXED ? label[f->severity] : "?");
	cli_put_escaped(stdout, f->object ? f->object : "?");
	fputs(": ", stdout);
	cli_put_escaped(stdout, f->text);
	fputc('\n', stdout);
	if (f->severity == XP_SEV_ERROR && f->fix[0]) {
		fputs("  fix: ", stdout);
		cli_put_escaped(stdout, f->fix);
		fputc('\n', stdout);
	}
}

int cmd_check(int argc, char **argv)
{
	static const char *const copies[] = {"primary", "backup", NULL};
	const char *target = NULL, *use = NULL;
	bool repair = false, force = false, verbose = false;
	const struct cli_opt opts[] = {
		{.long_name = "repair", .short_name = 'r', .kind = CLI_FLAG,
		 .dest = &repair,
		 .help = "restore damaged metadata from its valid copy "
			 "(without it, check never writes)"},
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "with --repair: also settle corrupt table slots: "
			 "restore a slot's older valid copy, else free it (the "
			 "extent it described is lost)"},
		{.long_name = "use-superblock", .short_name = 'u',
		 .kind = CLI_CHOICE, .dest = &use,
		 .metavar = "primary|backup", .choices = copies,
		 .help = "with --repair, when the two superblock copies "
			 "disagree: keep this one and rewrite the other"},
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
		.description = "Each error is followed by the command that "
			       "resolves it, keeping every other extent. Exit "
			       "status 1 when inconsistencies remain (after "
			       "repair, with --repair).",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	unsigned flags = 0;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (force && !repair)
		return cli_usage_error(cmd.name, "--force needs --repair");
	if (use && !repair)
		return cli_usage_error(cmd.name,
				       "--use-superblock needs --repair");
	if (use)
		flags |= strcmp(use, "backup") ? XP_CHECK_USE_PRIMARY :
						 XP_CHECK_USE_BACKUP;
	if (repair) {
		rc = cli_refuse_registered(cmd.name, target, "repair");
		if (rc)
			return rc;
		flags |= XP_CHECK_REPAIR;
	}
	if (force)
		flags |= XP_CHECK_FORCE;

	rc = xp_check(target, flags | cli_lock_flags(), print_finding,
		      &verbose);
	if (rc < 0)
		return cli_lib_error(cmd.name);
	cli_put_escaped(stdout, target);
	if (rc == 0)
		printf(": clean\n");
	else
		printf(": %d error%s\n", rc, rc == 1 ? "" : "s");
	return rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
