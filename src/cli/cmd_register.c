// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

static json_object *ns_json(const struct xp_hv_ns *r, const char *target,
			    const struct xp_hv *hv, bool dry_run)
{
	json_object *o = json_object_new_object();
	char uuid[XP_UUID_STR_LEN];
	bool ok = o != NULL;

	cli_fmt_uuid(r->uuid, uuid);
	ok = ok && cli_json_add(o, "namespace", json_object_new_string(target));
	ok = ok && cli_json_add(o, "hypervisor",
				json_object_new_string(xp_hv_name(hv)));
	ok = ok && cli_json_add(o, "dry_run", json_object_new_boolean(dry_run));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "generation",
				json_object_new_uint64(r->generation));
	ok = ok && cli_json_add(o, "phys_start",
				json_object_new_uint64(r->phys_start));
	ok = ok && cli_json_add(o, "size", json_object_new_uint64(r->size));
	if (!dry_run)
		ok = ok && cli_json_add(o, "ns_id",
					json_object_new_uint64(r->ns_id));
	ok = ok && cli_json_add(o, "extents", json_object_new_uint64(r->extents));
	ok = ok && cli_json_add(o, "data_start_mfn",
				json_object_new_uint64(r->data_start_mfn));
	ok = ok && cli_json_add(o, "data_end_mfn",
				json_object_new_uint64(r->data_end_mfn));
	ok = ok && cli_json_add(o, "mgmt_frames",
				json_object_new_uint64(r->mgmt_frames));
	ok = ok && cli_json_add(o, "ram_frames",
				json_object_new_uint64(r->ram_frames));
	if (r->linux_ns[0])
		ok = ok && cli_json_add(o, "linux_namespace",
					json_object_new_string(r->linux_ns));
	if (r->linux_disabled)
		ok = ok && cli_json_add(o, "disabled_in_linux",
					json_object_new_boolean(true));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int cmd_register(int argc, char **argv)
{
	const char *target = NULL, *spec = NULL;
	bool dry_run = false;
	const struct cli_opt opts[] = {
		{.long_name = "dry-run", .kind = CLI_FLAG,
		 .dest = &dry_run,
		 .help = "let the hypervisor validate the namespace and check "
			 "it against its memory map, and register nothing"},
		{.long_name = "hv", .kind = CLI_STRING, .dest = &spec,
		 .metavar = "SPEC", .help = CLI_HV_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "register",
		.summary = "Hand the namespace to the hypervisor, and print what "
			   "it accepted as JSON.",
		.description = "Dom0 sends where the namespace is and the UUID "
			       "and generation it read; the hypervisor re-reads "
			       "the media, validates it, refuses any overlap "
			       "with host RAM or another namespace, and from "
			       "then on keeps its frame table and M2P in the "
			       "management area and maps extents only into "
			       "their owners ('xenpmem map NAME --domain'). "
			       "Extents lent as RAM become the hypervisor's "
			       "until reboot. A refusal names the check that "
			       "failed. A pmem namespace is first disabled in "
			       "Linux (as 'ndctl disable-namespace' does; "
			       "refused while mounted or open), since Xen "
			       "cannot revoke Dom0's mappings; afterwards name "
			       "it 'hv:UUID'.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_hv_ns r;
	struct xp_hv *hv;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_hv_open(cmd.name, spec, &hv);
	if (rc)
		return rc;
	if (xp_hv_register(hv, target,
			   (dry_run ? XP_HV_DRY_RUN : 0) | cli_lock_flags(), &r))
		rc = cli_lib_error(cmd.name);
	else if (!dry_run)
		cli_committed();
	if (!rc)
		rc = cli_print_json(cmd.name, ns_json(&r, target, hv, dry_run));
	xp_hv_close(hv);
	return rc;
}
