// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

#define BAR_COLUMNS 30

struct progress {
	const char *name;
	int last_pct;
	bool drawn;
};

static void draw_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 100;
	int fill = pct * BAR_COLUMNS / 100;

	/* Redrawing on every callback would flood a slow terminal. */
	if (pct == p->last_pct)
		return;
	p->last_pct = pct;
	p->drawn = true;
	fputs("\rwiping ", stderr);
	cli_put_escaped(stderr, p->name);
	fprintf(stderr, " [%.*s%*s] %3d%%", fill,
		"##############################", BAR_COLUMNS - fill, "", pct);
	fflush(stderr);
}

int cmd_wipe(int argc, char **argv)
{
	const char *target = NULL, *name = NULL;
	bool force = false;
	const struct cli_opt opts[] = {
		{.long_name = "force", .short_name = 'f', .kind = CLI_FLAG,
		 .dest = &force,
		 .help = "required: confirms that the extent's data is "
			 "destroyed"},
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
		.description = "Shows progress on stderr when it is a terminal.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct progress p = {.last_pct = -1};
	bool tty;
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
	tty = isatty(STDERR_FILENO);
	/* A shared lock: readers are not kept waiting for the whole run. */
	rc = cli_open(cmd.name, target, XP_OPEN_WIPE, &ns, NULL);
	if (rc)
		return rc;
	wrc = xp_extent_wipe(ns, name, tty ? draw_progress : NULL, &p);
	/* The progress line is unterminated; errors start on their own. */
	if (p.drawn)
		fputc('\n', stderr);
	rc = cli_done(cmd.name, ns, wrc, NULL);
	if (!rc)
		fputs("wiped 1 extent\n", stderr);
	return rc;
}
