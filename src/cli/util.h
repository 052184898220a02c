/* SPDX-License-Identifier: MIT */
/*
 * Helpers every xenpmem command shares: a declarative option parser (so
 * `CMD --help` can never drift from what CMD accepts), error reporting with
 * the CLI's exit-code contract, size formatting and JSON output.
 */
#ifndef XP_CLI_UTIL_H
#define XP_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "xenpmem.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

enum cli_opt_kind {
	CLI_FLAG,	/* bool */
	CLI_SIZE,	/* uint64_t, K/M/G/T suffixes */
	CLI_ALIGN,	/* uint64_t, one of 4K 2M 1G */
	CLI_U32,	/* uint32_t within [min, max] */
	CLI_NAME,	/* const char *, an extent name */
	CLI_CHOICE,	/* const char *, one of choices[] */
	CLI_OWNER,	/* uint8_t[16]: a domain UUID, or on a Xen host a
			 * running domain's name or id */
	CLI_U64,	/* uint64_t, decimal or 0x hex (frame numbers) */
	CLI_STRING,	/* const char *, any non-empty text */
	CLI_UUID,	/* uint8_t[16]: a UUID, not nil (left all zero
			 * when the option is not given) */
};

struct cli_opt {
	const char *long_name;
	int short_name;		/* 0: long form only */
	enum cli_opt_kind kind;
	void *dest;
	const char *metavar;	/* shown in help for options with a value */
	const char *help;
	uint32_t min, max;	/* CLI_U32 */
	const char *const *choices;	/* CLI_CHOICE, NULL-terminated */
	bool required;
};

/* A positional argument; the namespace is always the last one. */
struct cli_arg {
	const char *metavar;
	const char **dest;
	bool is_name;		/* an extent name: checked before use */
	bool slot_ok;		/* with is_name: "@N" (slot N) is fine too */
	bool optional;		/* only the last one; its dest stays NULL */
	const char *help;
};

struct cli_cmd {
	const char *name;
	const char *summary;
	const char *description;	/* optional extra paragraph for --help */
	const struct cli_arg *args;
	size_t nargs;
	const struct cli_opt *opts;
	size_t nopts;
};

#define CLI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The help text of the namespace argument every command takes last. */
#define CLI_NS_HELP \
	"namespace: a file, /dev/pmemN, /dev/daxN.M, an ndctl name " \
	"(namespace0.0), or hv:UUID for one registered with the " \
	"hypervisor ($XENPMEM_HV)"

/*
 * Parse argv (argv[0] is the command name). Returns true when the command
 * should run; false with *exit_code set when it should stop: 0 after
 * --help, CLI_EXIT_USAGE after a usage error (already reported).
 */
bool cli_parse(const struct cli_cmd *cmd, int argc, char **argv,
	       int *exit_code);

/*
 * Write @s with control bytes as \xNN: text that came from the media or
 * the command line must neither break a line nor drive the terminal.
 */
void cli_put_escaped(FILE *f, const char *s);

/* Report a usage error as one line on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report an operation failure as one line on stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report the library's last error; returns CLI_EXIT_FAIL. */
int cli_lib_error(const char *cmd);

/*
 * Listing commands show what a damaged namespace holds, then say on
 * stderr what is wrong with it and exit 1: returns @rc, or CLI_EXIT_FAIL
 * when @ns is damaged.
 */
int cli_damage(const char *cmd, struct xp_ns *ns, int rc);

/* One line on stderr, no exit-code meaning (confirmations, warnings). */
void cli_notice(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A namespace handed to the hypervisor ("hv:UUID") takes only extent
 * table changes, through the hypervisor: @what (init, wipe, repair)
 * needs it unregistered. CLI_EXIT_FAIL after one line saying so, or 0
 * for any other target.
 */
int cli_refuse_registered(const char *cmd, const char *target,
			  const char *what);

/*
 * XP_NOWAIT or XP_WAIT_SECONDS() as the command line's --no-wait and
 * --wait (every command takes them), 0 for the library's default; for
 * calls that open a namespace without cli_open().
 */
unsigned cli_lock_flags(void);

/* Open @target (waiting for its lock as cli_lock_flags() says),
 * reporting failure; returns 0 or CLI_EXIT_FAIL. */
int cli_open(const char *cmd, const char *target, unsigned flags,
	     struct xp_ns **nsp, struct xp_info *info);

/* "64.00 MiB" style, for the map legend and progress output. */
void cli_fmt_iec(uint64_t bytes, char *buf, size_t len);

/* Hex "0x..." formatting for offsets. */
void cli_fmt_hex(uint64_t v, char *buf, size_t len);

void cli_fmt_uuid(const uint8_t uuid[16], char out[37]);

/*
 * JSON builders. With @human, byte counts print as ndctl does
 * ("64.00 MiB (67.11 MB)") and offsets as hex strings; the keys never
 * change. They return NULL on allocation failure.
 */
/* Add @val under @key; false (nothing added) when @val is NULL or on OOM. */
bool cli_json_add(json_object *obj, const char *key, json_object *val);

json_object *cli_json_size(uint64_t bytes, bool human);
json_object *cli_json_offset(uint64_t off, bool human);
json_object *cli_info_json(const struct xp_info *info, bool human);
json_object *cli_extent_json(const struct xp_extent *ext,
			     const struct xp_info *info, bool human);

/*
 * Add "active_device" to extent object @o: the block device the extent is
 * activated as (xenpmem activate), or null. False when the kernel could
 * not be asked (xp_last_error() says why) or on OOM.
 */
bool cli_json_add_active(json_object *o, struct xp_ns *ns,
			 const struct xp_extent *e);

/*
 * The command's change is on the media: from here on a failure to print
 * its result (stdout closed, full) is said on stderr but exits 0, since
 * the change happened and running the command again would not redo it.
 */
void cli_committed(void);
/* Whether cli_committed() was called in this run. */
bool cli_is_committed(void);

/*
 * The --uuid guard of commands that change or destroy an extent: when
 * @uuid is not all zero, the extent @name must have that UUID, else the
 * command stops (one line, CLI_EXIT_FAIL): a same-named extent created
 * since the caller looked is not the one it meant. 0 when it passes.
 */
int cli_check_uuid(const char *cmd, struct xp_ns *ns, const char *name,
		   const uint8_t uuid[16]);

/* The --uuid option's help. */
#define CLI_UUID_HELP \
	"act only if the extent has this UUID (from 'xenpmem list'): a " \
	"guard against a same-named extent created in between"

/* Print @obj pretty, once, then drop it; returns an exit code. */
int cli_print_json(const char *cmd, json_object *obj);

/*
 * Look @name up again after a mutation and print it as JSON: the output
 * shows what the media now holds, not what the command asked for.
 */
int cli_print_extent(const char *cmd, struct xp_ns *ns, const char *name);

/*
 * End a command that opened @ns: report @op_rc (a library return) as the
 * failure, else print extent @show (when not NULL); closes @ns either way.
 */
int cli_done(const char *cmd, struct xp_ns *ns, int op_rc, const char *show);
/* cli_done() for a change: when @op_rc is 0 the change is committed
 * (cli_committed()), whatever printing it does. */
int cli_change_done(const char *cmd, struct xp_ns *ns, int op_rc,
		    const char *show);

/* The hypervisor option every hypervisor command takes. */
#define CLI_HV_HELP \
	"the hypervisor: xen (the default; $XENPMEM_HV overrides it) or " \
	"model:SOCKET, the model hypervisor (xenpmem-modelhv) listening on " \
	"SOCKET"

/* Open the hypervisor @spec names, reporting failure; 0 or an exit code
 * (a malformed @spec is a usage error). */
int cli_hv_open(const char *cmd, const char *spec, struct xp_hv **hvp);

/* A guest mapping as JSON: the extent, the domain, the frames. */
json_object *cli_hv_mapping_json(const struct xp_hv_mapping *m,
				 const char *target, const struct xp_hv *hv,
				 bool map);

/*
 * A progress bar on stderr for a long zeroing ("zeroing NAME [###  ] 40%"),
 * drawn only when stderr is a terminal: cli_progress_fn() is NULL
 * otherwise. cli_progress_end() ends the bar's line, so what follows
 * starts on its own.
 */
struct cli_progress {
	const char *verb;	/* "wiping", "zeroing" */
	const char *name;	/* the extent */
	int last_pct;		/* start at -1 */
	bool drawn;
};
void cli_progress_draw(uint64_t done, uint64_t total, void *arg);
xp_progress_fn cli_progress_fn(void);
void cli_progress_end(struct cli_progress *p);

/* Terminal columns of @fd, or 0 when it is not a terminal. */
unsigned cli_term_width(int fd);

#endif /* XP_CLI_UTIL_H */
