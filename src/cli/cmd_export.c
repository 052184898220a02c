// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static json_object *export_json(const struct xp_extent *e,
				const struct xp_info *in)
{
	json_object *o = json_object_new_object();
	json_object *ext = cli_extent_json(e, in, false);
	static const char *const keys[] = {
		"uuid", "state", "offset", "size", "align", "label_size",
		"owner", "owner_name", "owner_domid", "phys_start", "first_mfn",
		"nr_frames",
	};
	bool ok = o && ext;

	ok = ok && cli_json_add(o, "name", json_object_new_string(e->name));
	ok = ok && cli_json_add(o, "namespace",
				json_object_new_string(in->target));
	/* The rest is the list entry's, so both always agree. */
	for (size_t i = 0; ok && i < CLI_ARRAY_SIZE(keys); i++) {
		json_object *v;

		if (json_object_object_get_ex(ext, keys[i], &v))
			ok = cli_json_add(o, keys[i], json_object_get(v));
	}
	json_object_put(ext);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/*
 * The QEMU line is pasted into a shell: a word with anything but plain
 * characters gets single quotes.
 */
static void put_shell_word(const char *s)
{
	const char *safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789,._+:=/@%-";

	if (s[strspn(s, safe)] == '\0') {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/* QEMU option values end at a comma; a literal comma is written twice. */
static void append_qemu_value(char *buf, size_t len, const char *v)
{
	size_t n = strlen(buf);

	for (; *v && n + 2 < len; v++) {
		buf[n++] = *v;
		if (*v == ',')
			buf[n++] = ',';
	}
	buf[n] = '\0';
}

static int print_qemu(const struct xp_extent *e, const struct xp_info *in)
{
	char obj[1024], dev[256];
	size_t n;

	snprintf(obj, sizeof(obj), "memory-backend-file,id=xp-%s,mem-path=",
		 e->name);
	append_qemu_value(obj, sizeof(obj), in->target);
	n = strlen(obj);
	snprintf(obj + n, sizeof(obj) - n,
		 ",offset=%llu,size=%llu,share=on,align=%llu",
		 (unsigned long long)e->offset, (unsigned long long)e->size,
		 (unsigned long long)e->align);
	n = (size_t)snprintf(dev, sizeof(dev), "nvdimm,id=nv-%s,memdev=xp-%s",
			     e->name, e->name);
	if (e->label_size)
		snprintf(dev + n, sizeof(dev) - n, ",label-size=%llu",
			 (unsigned long long)e->label_size);

	fputs("-object ", stdout);
	put_shell_word(obj);
	fputs(" -device ", stdout);
	put_shell_word(dev);
	putchar('\n');
	return CLI_EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
	static const char *const formats[] = {"json", "xl", "qemu", NULL};
	const char *target = NULL, *name = NULL, *format = "json";
	const struct cli_opt opts[] = {
		{.long_name = "format", .short_name = 'F', .kind = CLI_CHOICE,
		 .dest = &format, .metavar = "json|xl|qemu",
		 .choices = formats,
		 .help = "json (default): the extent's place and frames; "
			 "xl: an xl.cfg iomem= line (needs the physical "
			 "address, so not for files); qemu: -object/-device "
			 "options for a vNVDIMM (QEMU >= 8.1)"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAME", .dest = &name, .is_name = true,
		 .slot_ok = true,
		 .help = "the extent to export"},
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "export",
		.summary = "Print what a hypervisor needs to hand an extent to "
			   "a guest.",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct xp_info info;
	struct xp_extent e;
	struct xp_ns *ns;
	int rc;

	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	rc = xp_ns_extent_find(ns, name, &e);
	rc = rc ?: xp_extent_exportable(ns, &e);
	xp_ns_close(ns);
	if (rc)
		return cli_lib_error(cmd.name);

	if (!strcmp(format, "xl")) {
		if (!e.phys_known)
			return cli_fail(cmd.name,
					"extent '%s': the namespace's physical "
					"address is unknown (a file?), so "
					"there are no machine frames for "
					"iomem=",
					e.name);
		/* xl.cfg: iomem=[ "IOMEM_START,NUM_PAGES" ], hex frames. */
		printf("iomem = [ \"%llx,%llx\" ]\n",
		       (unsigned long long)e.first_mfn,
		       (unsigned long long)e.nr_frames);
		return CLI_EXIT_OK;
	}
	if (!strcmp(format, "qemu"))
		return print_qemu(&e, &info);
	return cli_print_json(cmd.name, export_json(&e, &info));
}
