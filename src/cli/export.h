/* SPDX-License-Identifier: MIT */
/*
 * `xenpmem export`: what one extent looks like to each guest stack. The
 * command (cmd_export.c) opens the namespace, vouches for the extent and
 * finds its activation; each format then only prints.
 */
#ifndef XP_CLI_EXPORT_H
#define XP_CLI_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "xenpmem.h"

/* QEMU refuses a smaller nvdimm label-size (hw/mem/nvdimm.c). */
#define EXPORT_QEMU_MIN_LABEL (128ull << 10)

struct export_ctx {
	const char *cmd;
	const struct xp_extent *ext;
	const struct xp_info *info;
	struct xp_activation act;	/* kind XP_ACT_NONE when not active */
	uint64_t data_size;		/* the extent less its label area */
	/* QEMU's version, major * 100 + minor; 0 when unknown. */
	unsigned qemu_version;
	/* Why the format cannot use offset= here, for errors. */
	char no_offset_why[96];
};

/* The memory backend a vNVDIMM gets (QEMU and libvirt alike). */
struct export_backend {
	char path[256];		/* absolute */
	bool use_offset;	/* QEMU >= 8.1: offset= into path */
	uint64_t offset;
	uint64_t size;		/* backend bytes, label area included */
	uint64_t label_size;	/* the guest's label area; 0: none */
	bool pmem;		/* path takes MAP_SYNC: DAX */
};

/*
 * Pick the backend for @c (offset= only when @offset_ok); returns 0, or
 * an exit code after one line on stderr.
 */
int export_backend_pick(const struct export_ctx *c, bool offset_ok,
			struct export_backend *be);

/* The formats; each returns an exit code. */
int export_print_qemu(const struct export_ctx *c);
int export_print_libvirt(const struct export_ctx *c);

/* "X.Y[.Z]" -> major * 100 + minor; false when malformed. */
bool export_parse_qemu_version(const char *s, unsigned *out);

/* The installed QEMU's version from `qemu-system-x86_64 --version`
 * ($XENPMEM_QEMU names another binary); 0 when it cannot be run. */
unsigned export_probe_qemu_version(void);

/*
 * A QEMU object id for extent @name: QEMU ids are a letter, then letters,
 * digits, '-', '.', '_' (util/id.c, id_wellformed). @prefix supplies the
 * letter; '_' escapes what ids cannot hold ("__" for '_', "_p" for '+',
 * "_c" for ':'), so distinct names never share an id.
 */
void export_qemu_id(const char *prefix, const char *name, char *out,
		    size_t len);

#endif /* XP_CLI_EXPORT_H */
