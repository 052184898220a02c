// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

int cmd_unregister(int argc, char **argv)
{
	const char *target = NULL, *spec = NULL;
	const struct cli_opt opts[] = {
		{.long_name = "hv", .kind = CLI_STRING, .dest = &spec,
		 .metavar = "SPEC", .help = CLI_HV_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "unregister",
		.summary = "Take the namespace back from the hypervisor, and "
			   "print it as JSON.",
		.description = "Refused while any extent is mapped into a "
			       "domain ('xenpmem unmap'), and for good once the "
			       "namespace lent RAM to the hypervisor. A pmem "
			       "namespace is enabled in Linux again.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	char uuid[XP_UUID_STR_LEN];
	json_object *o;
	struct xp_hv_ns r;
	struct xp_hv *hv;
	bool ok;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_hv_open(cmd.name, spec, &hv);
	if (rc)
		return rc;
	if (xp_hv_unregister(hv, target, cli_lock_flags(), &r)) {
		rc = cli_lib_error(cmd.name);
		xp_hv_close(hv);
		return rc;
	}
	cli_committed();
	cli_fmt_uuid(r.uuid, uuid);
	o = json_object_new_object();
	ok = o != NULL;
	ok = ok && cli_json_add(o, "namespace", json_object_new_string(target));
	ok = ok && cli_json_add(o, "hypervisor",
				json_object_new_string(xp_hv_name(hv)));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "phys_start",
				json_object_new_uint64(r.phys_start));
	ok = ok && cli_json_add(o, "size", json_object_new_uint64(r.size));
	ok = ok && cli_json_add(o, "registered", json_object_new_boolean(false));
	if (r.linux_ns[0])
		ok = ok && cli_json_add(o, "linux_namespace",
					json_object_new_string(r.linux_ns));
	if (r.linux_enabled)
		ok = ok && cli_json_add(o, "enabled_in_linux",
					json_object_new_boolean(true));
	if (!ok) {
		json_object_put(o);
		o = NULL;
	}
	xp_hv_close(hv);
	return cli_print_json(cmd.name, o);
}
