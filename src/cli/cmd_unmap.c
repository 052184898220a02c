// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_unmap(int argc, char **argv)
{
	const char *target = NULL, *name = NULL, *spec = NULL;
	uint8_t domain[16] = {0};
	const struct cli_opt opts[] = {
		{.long_name = "domain", .short_name = 'd', .kind = CLI_OWNER,
		 .dest = domain, .metavar = "DOMAIN", .required = true,
		 .help = "the domain the extent is mapped into: its UUID; on a "
			 "Xen host also a running domain's name or id"},
		{.long_name = "hv", .kind = CLI_STRING, .dest = &spec,
		 .metavar = "SPEC", .help = CLI_HV_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true, .help = "the extent to unmap"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "unmap",
		.summary = "Take an extent out of a guest's physical memory, and "
			   "print what was unmapped as JSON.",
		.description = "Its frames become free pmem again; their content "
			       "stays as the guest left it (never scrubbed).",
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
	if (xp_hv_unmap(hv, target, name, domain, cli_lock_flags(), &m))
		rc = cli_lib_error(cmd.name);
	else
		cli_committed();
	if (!rc)
		rc = cli_print_json(cmd.name,
				    cli_hv_mapping_json(&m, target, hv, false));
	xp_hv_close(hv);
	return rc;
}
