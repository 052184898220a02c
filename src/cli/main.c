// SPDX-License-Identifier: MIT
/*
 * xenpmem: carve a raw pmem namespace into extents for Xen and KVM guests.
 * This file only dispatches; each command lives in cmd_<name>.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

#ifndef XENPMEM_VERSION
#define XENPMEM_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"init", cmd_init, "write a fresh, empty layout on a namespace"},
	{"info", cmd_info, "show the namespace's layout and usage"},
	{"list", cmd_list, "list the extents of a namespace"},
	{"create", cmd_create, "create an extent"},
	{"destroy", cmd_destroy, "destroy an extent"},
	{"resize", cmd_resize, "grow or shrink an extent in place"},
	{"rename", cmd_rename, "rename an extent"},
	{"assign", cmd_assign, "assign an extent to a Xen domain"},
	{"unassign", cmd_unassign, "take an extent back from its domain"},
	{"lend", cmd_lend, "lend an extent to the hypervisor as RAM"},
	{"reclaim", cmd_reclaim, "take a lent extent back as data"},
	{"check", cmd_check, "check the metadata, optionally repair it"},
	{"map", cmd_map, "draw the layout to scale, or (--domain) map an "
			 "extent into a guest"},
	{"wipe", cmd_wipe, "zero an extent's data"},
	{"activate", cmd_activate, "make a block device over an extent "
				   "(dm-linear or loop)"},
	{"deactivate", cmd_deactivate, "remove an extent's block device"},
	{"export", cmd_export, "print what QEMU, libvirt or xl need to give an extent to a guest"},
	{"register", cmd_register, "hand the namespace to the hypervisor"},
	{"unregister", cmd_unregister, "take it back from the hypervisor"},
	{"regions", cmd_regions, "the physical regions the hypervisor adopted"},
	{"unmap", cmd_unmap, "take an extent out of a guest"},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xenpmem [--version] [--help] COMMAND [OPTIONS] ... "
		"NAMESPACE\n"
		"\n"
		"NAMESPACE, always the last argument, is a file, /dev/pmemN, "
		"/dev/daxN.M\nor an ndctl namespace name (namespace0.0).\n"
		"\ncommands:\n");
	for (size_t i = 0; i < CLI_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f,
		"\nRun 'xenpmem COMMAND --help' for the options of a command.\n"
		"Sizes take K, M, G and T suffixes (binary units).\n"
		"\nexit status:\n"
		"  0  success\n"
		"  1  the operation failed, or check found inconsistencies\n"
		"  2  usage error: unknown option, missing or extra argument,\n"
		"     malformed size, number or name\n");
}

/*
 * Output goes to pipes and files too: a failed write is a failure, unless
 * the command's change is already on the media. Then exit 0, as a script
 * that retries on failure would otherwise repeat a change that happened.
 */
static int finish(int rc)
{
	if (fflush(stdout) || ferror(stdout)) {
		int err = errno;

		if (rc == CLI_EXIT_OK && cli_is_committed())
			cli_notice(NULL, "the change is committed, but writing its result failed: %s",
				   strerror(err));
		else if (rc == CLI_EXIT_OK)
			rc = cli_fail(NULL, "cannot write the output: %s",
				      strerror(err));
	}
	return rc;
}

int main(int argc, char **argv)
{
	const char *name;

	if (argc < 2)
		return cli_usage_error(NULL, "missing command");
	name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
	    !strcmp(name, "help")) {
		/* "xenpmem help CMD" is "xenpmem CMD --help". */
		if (!strcmp(name, "help") && argc == 3) {
			argv[1] = argv[2];
			argv[2] = (char *)"--help";
			name = argv[1];
		} else {
			usage(stdout);
			return finish(CLI_EXIT_OK);
		}
	}
	if (!strcmp(name, "--version")) {
		/* The library is loaded at run time: say which one. */
		printf("xenpmem %s (libxenpmem %s)\n", XENPMEM_VERSION,
		       xp_version_string());
		return finish(CLI_EXIT_OK);
	}
	if (name[0] == '-')
		return cli_usage_error(NULL, "unknown option '%.64s'", name);

	for (size_t i = 0; i < CLI_ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return finish(commands[i].fn(argc - 1, argv + 1));
	return cli_usage_error(NULL, "unknown command '%.64s'", name);
}
