// SPDX-License-Identifier: MIT
/* "xenpmem map NAME --domain DOMAIN [--gfn G]": the guest-mapping form of
 * map (cmd_map.c draws the picture and hands this form over). */
#include "commands.h"
#include "util.h"

int cmd_map_guest(int argc, char **argv)
{
	const char *target = NULL, *name = NULL, *spec = NULL;
	uint8_t domain[16] = {0};
	uint64_t gfn = XP_HV_GFN_MFN;
	const struct cli_opt opts[] = {
		{.long_name = "domain", .short_name = 'd', .kind = CLI_OWNER,
		 .dest = domain, .metavar = "DOMAIN", .required = true,
		 .help = "the guest: its UUID (xl.cfg uuid=, libvirt <uuid>); "
			 "on a Xen host also a running domain's name or id. It "
			 "must be the extent's owner"},
		{.long_name = "gfn", .short_name = 'g', .kind = CLI_U64,
		 .dest = &gfn, .metavar = "G",
		 .help = "the guest frame the extent starts at, decimal or 0x "
			 "hex; 2 MiB aligned (512 frames) for 2 MiB mappings. "
			 "Default: the extent's first data frame (gfn = mfn), "
			 "where a PV guest's memmap=SIZE!ADDR finds it"},
		{.long_name = "hv", .kind = CLI_STRING, .dest = &spec,
		 .metavar = "SPEC", .help = CLI_HV_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true, .help = "the extent to map"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "map",
		.summary = "With --domain: map an extent of a registered "
			   "namespace into a guest's physical memory, and print "
			   "the mapping as JSON.",
		.description = "The hypervisor re-reads the extent's record and "
			       "maps its data frames (not its label area) only "
			       "when the record names the domain as owner and no "
			       "frame is mapped already.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_hv_mapping m;
	struct xp_hv *hv;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_hv_open(cmd.name, spec, &hv);
	if (rc)
		return rc;
	if (xp_hv_map(hv, target, name, domain, gfn, cli_lock_flags(), &m))
		rc = cli_lib_error(cmd.name);
	else
		cli_committed();
	if (!rc)
		rc = cli_print_json(cmd.name,
				    cli_hv_mapping_json(&m, target, hv, true));
	xp_hv_close(hv);
	return rc;
}
