// SPDX-License-Identifier: MIT
#include "commands.h"
#include "util.h"

static bool append(json_object *arr, const struct xp_extent *ext,
		   const struct xp_info *info, bool human)
{
	json_object *o = cli_extent_json(ext, info, human);

	if (!o || json_object_array_add(arr, o)) {
		json_object_put(o);
		return false;
	}
	return true;
}

/* NULL on failure: a failed read must not leave a partial listing. */
static json_object *extents_json(struct xp_ns *ns, const struct xp_info *info,
				 const char *only, bool human)
{
	json_object *arr = json_object_new_array();
	struct xp_extent ext;
	bool ok = arr != NULL;

	if (ok && only) {
		ok = !xp_ns_extent_find(ns, only, &ext) &&
		     append(arr, &ext, info, human);
	} else if (ok) {
		uint32_t n = xp_ns_extent_count(ns);

		for (uint32_t i = 0; ok && i < n; i++)
			ok = !xp_ns_extent_get(ns, i, &ext) &&
			     append(arr, &ext, info, human);
	}
	if (!ok) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

int cmd_list(int argc, char **argv)
{
	const char *target = NULL, *only = NULL;
	bool human = false;
	const struct cli_opt opts[] = {
		{.long_name = "name", .short_name = 'n', .kind = CLI_NAME,
		 .dest = &only, .metavar = "NAME",
		 .help = "list only this extent (an error if it does not "
			 "exist)"},
		{.long_name = "human", .short_name = 'u', .kind = CLI_FLAG,
		 .dest = &human,
		 .help = "sizes in binary and decimal units, offsets in hex"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "list",
		.summary = "List the extents of a namespace, in offset order, "
			   "as a JSON array.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_info info;
	struct xp_ns *ns;
	json_object *arr;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	arr = extents_json(ns, &info, only, human);
	if (!arr) {
		rc = cli_lib_error(cmd.name);
		xp_ns_close(ns);
		return rc;
	}
	xp_ns_close(ns);
	return cli_print_json(cmd.name, arr);
}
