// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static json_object *region_json(const struct xp_hv_region *r)
{
	json_object *o = json_object_new_object();
	char uuid[XP_UUID_STR_LEN];
	bool ok = o != NULL;

	cli_fmt_uuid(r->ns_uuid, uuid);
	ok = ok && cli_json_add(o, "start_mfn",
				json_object_new_uint64(r->start_mfn));
	ok = ok && cli_json_add(o, "end_mfn", json_object_new_uint64(r->end_mfn));
	ok = ok && cli_json_add(o, "frames",
				json_object_new_uint64(r->end_mfn -
						       r->start_mfn));
	ok = ok && cli_json_add(o, "type",
		json_object_new_string(xp_hv_region_type_name(r->type)));
	ok = ok && cli_json_add(o, "ns_id", json_object_new_uint64(r->ns_id));
	ok = ok && cli_json_add(o, "namespace_uuid",
				json_object_new_string(uuid));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int cmd_regions(int argc, char **argv)
{
	const char *target = NULL, *spec = NULL;
	const struct cli_opt opts[] = {
		{.long_name = "hv", .kind = CLI_STRING, .dest = &spec,
		 .metavar = "SPEC", .help = CLI_HV_HELP},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .optional = true,
		 .help = "only this namespace's regions (default: every "
			 "registered namespace's); " CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "regions",
		.summary = "Print the physical regions the hypervisor adopted, "
			   "as JSON, in frame order.",
		.description = "Each registered namespace has metadata regions "
			       "(superblocks and extent table), one management "
			       "region (frame table and M2P), data regions "
			       "(extents and free space) and a RAM region per "
			       "extent lent as RAM; frames are [start_mfn, "
			       "end_mfn).",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_hv_region *regs = NULL;
	uint8_t only[16];
	json_object *arr;
	struct xp_hv *hv;
	uint32_t n = 0;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (target) {
		struct xp_info info;
		struct xp_ns *ns;

		rc = cli_open(cmd.name, target, 0, &ns, &info);
		if (rc)
			return rc;
		memcpy(only, info.uuid, 16);
		xp_ns_close(ns);
	}
	rc = cli_hv_open(cmd.name, spec, &hv);
	if (rc)
		return rc;
	if (xp_hv_query(hv, &regs, &n)) {
		rc = cli_lib_error(cmd.name);
		xp_hv_close(hv);
		return rc;
	}
	xp_hv_close(hv);
	arr = json_object_new_array();
	for (uint32_t i = 0; arr && i < n; i++) {
		json_object *o;

		if (target && memcmp(regs[i].ns_uuid, only, 16))
			continue;
		o = region_json(&regs[i]);
		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			json_object_put(arr);
			arr = NULL;
		}
	}
	free(regs);
	return cli_print_json(cmd.name, arr);
}
