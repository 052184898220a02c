// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static bool append(json_object *arr, struct xp_ns *ns,
		   const struct xp_extent *ext, const struct xp_info *info,
		   bool human)
{
	json_object *o = cli_extent_json(ext, info, human);

	if (!o || !cli_json_add_active(o, ns, ext) ||
	    json_object_array_add(arr, o)) {
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
		     append(arr, ns, &ext, info, human);
	} else if (ok) {
		uint32_t n = xp_ns_extent_count(ns);

		for (uint32_t i = 0; ok && i < n; i++)
			ok = !xp_ns_extent_get(ns, i, &ext) &&
			     append(arr, ns, &ext, info, human);
	}
	if (!ok) {
		json_object_put(arr);
		return NULL;
	}
	return arr;
}

static const char *const meta_names[] = {
	[XP_META_NONE] = "none",
	[XP_META_OK] = "ok",
	[XP_META_CORRUPT] = "corrupt",
	[XP_META_UNKNOWN] = "unknown",
	[XP_META_BUSY] = "busy",
};

struct discovery {
	json_object *arr;
	bool human;
};

/* One host namespace, with ndctl's keys where ndctl has them. */
static int add_namespace(const struct xp_pmem_ns *p, void *arg)
{
	struct discovery *d = arg;
	json_object *o = json_object_new_object();
	const char *node = strrchr(p->node, '/');

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "dev", json_object_new_string(p->dev));
	json_object_object_add(o, "region", json_object_new_string(p->region));
	json_object_object_add(o, "mode", json_object_new_string(p->mode));
	json_object_object_add(o, "size", cli_json_size(p->size, d->human));
	if (p->resource_known)
		json_object_object_add(o, "resource",
				       cli_json_offset(p->resource, d->human));
	if (node)
		json_object_object_add(o, p->is_char ? "chardev" : "blockdev",
				       json_object_new_string(node + 1));
	json_object_object_add(o, "xenpmem",
			       json_object_new_string(meta_names[p->xenpmem]));
	if (p->xenpmem == XP_META_OK)
		json_object_object_add(o, "extents",
				       json_object_new_int64(p->extents));
	if (json_object_array_add(d->arr, o)) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

static int list_host(const char *cmd, bool human)
{
	struct discovery d = {.arr = json_object_new_array(), .human = human};

	if (!d.arr)
		return cli_fail(cmd, "out of memory");
	if (xp_discover(add_namespace, &d)) {
		json_object_put(d.arr);
		return cli_lib_error(cmd);
	}
	return cli_print_json(cmd, d.arr);
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
		{.metavar = "NAMESPACE", .dest = &target, .optional = true,
		 .help = CLI_NS_HELP "; without it, list the host's pmem "
			 "namespaces (libndctl) and whether they hold xenpmem "
			 "metadata"},
	};
	const struct cli_cmd cmd = {
		.name = "list",
		.summary = "List the extents of a namespace, in offset order, "
			   "as a JSON array; with no namespace, list the pmem "
			   "namespaces of this host.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_info info;
	struct xp_ns *ns;
	json_object *arr;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (!target) {
		if (only)
			return cli_usage_error(cmd.name,
					       "--name needs a NAMESPACE");
		return list_host(cmd.name, human);
	}
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	arr = extents_json(ns, &info, only, human);
	if (!arr) {
		rc = cli_lib_error(cmd.name);
		xp_ns_close(ns);
		return rc;
	}
	rc = cli_damage(cmd.name, ns, cli_print_json(cmd.name, arr));
	xp_ns_close(ns);
	return rc;
}
