// SPDX-License-Identifier: MIT
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define CLI_MAX_OPTS 16
/* getopt_long values for long-only options start above any char. */
#define CLI_LONG_BASE 0x100
/* The lock options every command that opens a namespace takes. */
#define CLI_OPT_WAIT 0x80
#define CLI_OPT_NO_WAIT 0x81
#define CLI_WAIT_MAX 65535u

/* What --wait and --no-wait asked of this run's namespace locks. */
static unsigned lock_flags;

unsigned cli_lock_flags(void)
{
	return lock_flags;
}

/*
 * Arguments are echoed in error messages; past this they are cut, so one
 * bad argument cannot turn the one-line error into a screenful.
 */
#define CLI_SHOW_MAX 64

/*
 * Every message ends up on a terminal or in a log parsed line by line:
 * control bytes (a newline in a file name, an escape sequence in an
 * extent name) are written as \xNN so a message stays one line and cannot
 * drive the terminal.
 */
void cli_put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static void vreport(const char *cmd, const char *suffix, const char *fmt,
		    va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fflush(stdout);
	fputs("xenpmem", stderr);
	if (cmd) {
		fputc(' ', stderr);
		cli_put_escaped(stderr, cmd);
	}
	fputs(": ", stderr);
	cli_put_escaped(stderr, msg);
	if (suffix)
		fputs(suffix, stderr);
	fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	char suffix[96];
	va_list ap;

	snprintf(suffix, sizeof(suffix), "; see 'xenpmem %s%s--help'",
		 cmd ? cmd : "", cmd ? " " : "");
	va_start(ap, fmt);
	vreport(cmd, suffix, fmt, ap);
	va_end(ap);
	return CLI_EXIT_USAGE;
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, NULL, fmt, ap);
	va_end(ap);
	return CLI_EXIT_FAIL;
}

void cli_notice(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, NULL, fmt, ap);
	va_end(ap);
}

int cli_lib_error(const char *cmd)
{
	const char *e = xp_last_error();

	return cli_fail(cmd, "%s", e && *e ? e : "operation failed");
}

/* @s cut to CLI_SHOW_MAX bytes for display; @buf holds the result. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (n <= CLI_SHOW_MAX || len < CLI_SHOW_MAX + 4)
		return s;
	snprintf(buf, len, "%.*s...", CLI_SHOW_MAX, s);
	return buf;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * The library's size parser is the authority on suffixes, but it need not
 * be strict about a leading sign or blank: strtoull() happily turns "-1"
 * into 2^64-1. A size starts with a digit, or it is malformed.
 */
static int parse_size(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	return xp_parse_size(s, out);
}

static int parse_u32(const char *s, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!all_digits(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* A frame number: decimal, or hex with 0x. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	bool hex = !strncmp(s, "0x", 2) || !strncmp(s, "0X", 2);

	if (hex ? !isxdigit((unsigned char)s[2]) :
		  !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (*end)
		return -EINVAL;
	if (errno)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

static bool has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

/* Only what the library cannot say well is checked here. @slot_ok: "@N"
 * (the extent in slot N) is accepted too. */
static int check_name(const char *cmd, const char *what, const char *name,
		      bool slot_ok)
{
	char buf[CLI_SHOW_MAX + 8];
	uint32_t slot;

	if (slot_ok && xp_extent_slot_selector(name, &slot))
		return 0;
	if (!*name)
		return cli_usage_error(cmd, "%s must not be empty", what);
	if (strlen(name) > XP_NAME_MAX)
		return cli_usage_error(cmd, "%s '%s' is longer than %u bytes",
				       what, shown(name, buf, sizeof(buf)),
				       XP_NAME_MAX);
	if (has_control(name))
		return cli_usage_error(cmd,
				       "%s '%s' contains control characters",
				       what, shown(name, buf, sizeof(buf)));
	if (!xp_extent_name_valid(name))
		return cli_usage_error(cmd,
				       "%s '%s' is not valid: use A-Z a-z 0-9 . _ + : -, do not start with '-'%s",
				       what, shown(name, buf, sizeof(buf)),
				       slot_ok ? " (or @N for the extent in slot N)" : "");
	return 0;
}

static const struct cli_opt *find_opt(const struct cli_cmd *cmd, int val)
{
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct cli_opt *o = &cmd->opts[i];

		if ((o->short_name && o->short_name == val) ||
		    val == CLI_LONG_BASE + (int)i)
			return o;
	}
	return NULL;
}

#define HELP_COLUMNS 79
#define HELP_INDENT 27

/*
 * @first (may be "") then @text and @tail as words wrapped into columns
 * @indent..HELP_COLUMNS.
 */
static void print_wrapped(int indent, const char *first, const char *text,
			  const char *tail)
{
	char buf[512];
	int col = printf("%s", first);
	bool line_start = true;

	snprintf(buf, sizeof(buf), "%s%s", text, tail);
	for (const char *p = buf + strspn(buf, " "); *p;) {
		int word = (int)strcspn(p, " ");

		if (col + (line_start ? 0 : 1) + word > HELP_COLUMNS &&
		    col > indent) {
			putchar('\n');
			col = 0;
			line_start = true;
		}
		if (col < indent) {
			col += printf("%*s", indent - col, "");
			line_start = true;
		}
		col += printf("%s%.*s", line_start ? "" : " ", word, p);
		line_start = false;
		p += word;
		p += strspn(p, " ");
	}
	putchar('\n');
}

static void print_item(const char *left, const char *text, const char *tail)
{
	char first[80];

	snprintf(first, sizeof(first), "  %s ", left);
	print_wrapped(HELP_INDENT, first, text, tail);
}

static void print_help(const struct cli_cmd *cmd)
{
	printf("usage: xenpmem %s [OPTIONS]", cmd->name);
	for (size_t i = 0; i < cmd->nargs; i++)
		printf(cmd->args[i].optional ? " [%s]" : " %s",
		       cmd->args[i].metavar);
	printf("\n\n");
	print_wrapped(0, "", cmd->summary, "");
	if (cmd->description) {
		putchar('\n');
		print_wrapped(0, "", cmd->description, "");
	}

	printf("\narguments:\n");
	for (size_t i = 0; i < cmd->nargs; i++)
		print_item(cmd->args[i].metavar, cmd->args[i].help, "");

	printf("\noptions:\n");
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct cli_opt *o = &cmd->opts[i];
		char left[64];
		int n;

		n = snprintf(left, sizeof(left), o->short_name ? "-%c, " : "    ",
			     o->short_name);
		if (o->kind == CLI_FLAG)
			snprintf(left + n, sizeof(left) - (size_t)n, "--%s",
				 o->long_name);
		else
			snprintf(left + n, sizeof(left) - (size_t)n, "--%s=%s",
				 o->long_name, o->metavar);
		print_item(left, o->help, o->required ? " (required)" : "");
	}
	print_item("    --wait=SECONDS",
		   "wait this long for a namespace another process has "
		   "locked, then fail with 'busy' (default: 10)", "");
	print_item("    --no-wait",
		   "fail at once when another process has the namespace "
		   "locked", "");
	print_item("-h, --help", "show this help and exit", "");
}

static int set_value(const struct cli_cmd *cmd, const struct cli_opt *o,
		     const char *arg)
{
	char buf[CLI_SHOW_MAX + 8];
	const char *s = arg ? shown(arg, buf, sizeof(buf)) : "";
	int rc;

	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->dest = true;
		return 0;
	case CLI_SIZE:
		rc = parse_size(arg, (uint64_t *)o->dest);
		if (rc == -ERANGE)
			return cli_usage_error(cmd->name,
					       "size '%s' for --%s is too large",
					       s, o->long_name);
		if (rc)
			return cli_usage_error(cmd->name,
					       "invalid size '%s' for --%s "
					       "(a whole number with an optional "
					       "K, M, G or T suffix)",
					       s, o->long_name);
		return 0;
	case CLI_ALIGN: {
		uint64_t v = 0;

		if (parse_size(arg, &v) ||
		    (v != 2ull << 20 && v != 1ull << 30))
			return cli_usage_error(cmd->name,
					       "invalid alignment '%s' for --%s "
					       "(use 2M or 1G)",
					       s, o->long_name);
		*(uint64_t *)o->dest = v;
		return 0;
	}
	case CLI_U32:
		if (parse_u32(arg, o->min, o->max, (uint32_t *)o->dest))
			return cli_usage_error(cmd->name,
					       "invalid value '%s' for --%s "
					       "(a number from %u to %u)",
					       s, o->long_name, o->min, o->max);
		return 0;
	case CLI_NAME:
		if (check_name(cmd->name, "extent name", arg, false))
			return CLI_EXIT_USAGE;
		*(const char **)o->dest = arg;
		return 0;
	case CLI_OWNER:
		/* Not a UUID, and no Xen host to resolve it on: a usage
		 * error; no such running domain: the operation fails. */
		rc = xp_owner_resolve(arg, (uint8_t *)o->dest);
		if (rc == -EINVAL)
			return cli_usage_error(cmd->name, "%s", xp_last_error());
		if (rc)
			return cli_lib_error(cmd->name);
		return 0;
	case CLI_U64:
		rc = parse_u64(arg, (uint64_t *)o->dest);
		if (rc == -ERANGE)
			return cli_usage_error(cmd->name,
					       "value '%s' for --%s is too large",
					       s, o->long_name);
		if (rc)
			return cli_usage_error(cmd->name,
					       "invalid value '%s' for --%s "
					       "(a number, decimal or 0x hex)",
					       s, o->long_name);
		return 0;
	case CLI_STRING:
		if (!*arg)
			return cli_usage_error(cmd->name,
					       "--%s must not be empty",
					       o->long_name);
		*(const char **)o->dest = arg;
		return 0;
	case CLI_UUID:
		if (xp_uuid_parse(arg, (uint8_t *)o->dest))
			return cli_usage_error(cmd->name,
					       "invalid UUID '%s' for --%s",
					       s, o->long_name);
		for (int i = 0; i < 16; i++)
			if (((uint8_t *)o->dest)[i])
				return 0;
		return cli_usage_error(cmd->name,
				       "--%s: the nil UUID is no extent's",
				       o->long_name);
	case CLI_CHOICE:
		for (const char *const *c = o->choices; *c; c++) {
			if (!strcmp(arg, *c)) {
				*(const char **)o->dest = *c;
				return 0;
			}
		}
		return cli_usage_error(cmd->name,
				       "invalid value '%s' for --%s (one of %s)",
				       s, o->long_name, o->metavar);
	}
	return cli_usage_error(cmd->name, "internal: bad option kind");
}

/* --wait SECONDS (@arg), or --no-wait (@arg NULL); --wait 0 is --no-wait. */
static bool set_wait(const struct cli_cmd *cmd, const char *arg)
{
	char buf[CLI_SHOW_MAX + 8];
	uint32_t v = 0;

	if (arg && parse_u32(arg, 0, CLI_WAIT_MAX, &v)) {
		cli_usage_error(cmd->name,
				"invalid value '%s' for --wait (seconds, from "
				"0 to %u)",
				shown(arg, buf, sizeof(buf)), CLI_WAIT_MAX);
		return false;
	}
	lock_flags = v ? XP_WAIT_SECONDS(v) : XP_NOWAIT;
	return true;
}

static int option_error(const struct cli_cmd *cmd, int c, char **argv)
{
	const char *bad = argv[optind - 1];
	const struct cli_opt *o = find_opt(cmd, optopt);
	char buf[CLI_SHOW_MAX + 8];

	if (c == ':')
		return cli_usage_error(cmd->name, "option '--%s' needs a value",
				       o ? o->long_name : "?");
	if (o && !strncmp(bad, "--", 2))
		return cli_usage_error(cmd->name,
				       "option '--%s' does not take a value",
				       o->long_name);
	if (optopt && optopt < CLI_LONG_BASE)
		return cli_usage_error(cmd->name, "unknown option '-%c'",
				       isprint(optopt) ? optopt : '?');
	return cli_usage_error(cmd->name, "unknown option '%s'",
			       shown(bad, buf, sizeof(buf)));
}

/*
 * getopt_long() takes any unambiguous prefix of a long option: "--f" runs
 * as "--force". A destructive flag must be spelled out, and an option
 * added later must not change what an old abbreviation meant, so the word
 * on the command line has to be the option's whole name.
 */
static bool long_name_exact(const struct option *lo, int idx, char **argv)
{
	const char *word = argv[optind - 1];
	size_t n;

	if (optarg && optarg == argv[optind - 1] && optind >= 2)
		word = argv[optind - 2];
	if (strncmp(word, "--", 2))
		return true;	/* a short option */
	word += 2;
	n = strcspn(word, "=");
	return n == strlen(lo[idx].name) && !strncmp(word, lo[idx].name, n);
}

bool cli_parse(const struct cli_cmd *cmd, int argc, char **argv,
	       int *exit_code)
{
	struct option longopts[CLI_MAX_OPTS + 4];
	char optstring[3 * CLI_MAX_OPTS + 8];
	bool seen[CLI_MAX_OPTS] = {false};
	size_t n = 0;
	int c, nargs, rc, idx;
	bool nargs_ok = false;

	*exit_code = CLI_EXIT_USAGE;
	if (cmd->nopts > CLI_MAX_OPTS) {
		cli_fail(cmd->name, "internal: too many options");
		return false;
	}

	/* ':' first: report a missing value apart from an unknown option. */
	optstring[n++] = ':';
	optstring[n++] = 'h';
	for (size_t i = 0; i < cmd->nopts; i++) {
		const struct cli_opt *o = &cmd->opts[i];
		bool val = o->kind != CLI_FLAG;

		longopts[i] = (struct option){
			.name = o->long_name,
			.has_arg = val ? required_argument : no_argument,
			.val = o->short_name ? o->short_name
					     : CLI_LONG_BASE + (int)i,
		};
		if (o->short_name) {
			optstring[n++] = (char)o->short_name;
			if (val)
				optstring[n++] = ':';
		}
	}
	optstring[n] = '\0';
	longopts[cmd->nopts] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[cmd->nopts + 1] =
		(struct option){"wait", required_argument, NULL, CLI_OPT_WAIT};
	longopts[cmd->nopts + 2] =
		(struct option){"no-wait", no_argument, NULL, CLI_OPT_NO_WAIT};
	longopts[cmd->nopts + 3] = (struct option){NULL, 0, NULL, 0};
	lock_flags = 0;

	/* 0, not 1: glibc then forgets state from any earlier parse. */
	optind = 0;
	opterr = 0;
	while ((idx = -1,
		c = getopt_long(argc, argv, optstring, longopts, &idx)) != -1) {
		const struct cli_opt *o;

		if (idx >= 0 && c != '?' && c != ':' &&
		    !long_name_exact(longopts, idx, argv)) {
			char buf[CLI_SHOW_MAX + 8];
			const char *w = argv[optind - 1];

			if (optarg && optarg == argv[optind - 1] && optind >= 2)
				w = argv[optind - 2];
			cli_usage_error(cmd->name,
					"unknown option '%s' (options are never abbreviated: did you mean '--%s'?)",
					shown(w, buf, sizeof(buf)),
					longopts[idx].name);
			return false;
		}
		if (c == 'h') {
			print_help(cmd);
			*exit_code = CLI_EXIT_OK;
			return false;
		}
		if (c == '?' || c == ':') {
			option_error(cmd, c, argv);
			return false;
		}
		if (c == CLI_OPT_WAIT || c == CLI_OPT_NO_WAIT) {
			if (!set_wait(cmd, c == CLI_OPT_WAIT ? optarg : NULL))
				return false;
			continue;
		}
		o = find_opt(cmd, c);
		if (!o) {
			cli_usage_error(cmd->name, "internal: option %d", c);
			return false;
		}
		/* Usage error (2), or a value that failed to resolve (1: an
		 * --owner name no running domain has). */
		rc = set_value(cmd, o, optarg);
		if (rc) {
			*exit_code = rc;
			return false;
		}
		seen[o - cmd->opts] = true;
	}

	for (size_t i = 0; i < cmd->nopts; i++) {
		if (cmd->opts[i].required && !seen[i]) {
			cli_usage_error(cmd->name, "option '--%s' is required",
					cmd->opts[i].long_name);
			return false;
		}
	}

	nargs = argc - optind;
	/* Only the last argument may be left out. */
	if (nargs == (int)cmd->nargs - 1 && cmd->nargs &&
	    cmd->args[cmd->nargs - 1].optional)
		nargs_ok = true;
	if (nargs != (int)cmd->nargs && !nargs_ok) {
		char want[128] = "";
		size_t len = 0;

		for (size_t i = 0; i < cmd->nargs && len < sizeof(want); i++)
			len += (size_t)snprintf(want + len, sizeof(want) - len,
						"%s%s", i ? " " : "",
						cmd->args[i].metavar);
		/*
		 * Which word is extra or missing is a guess (NAMESPACE comes
		 * last), so say what was expected instead.
		 */
		cli_usage_error(cmd->name, "%s: expected %s, got %d argument%s",
				nargs < (int)cmd->nargs ? "missing argument"
							: "too many arguments",
				want, nargs, nargs == 1 ? "" : "s");
		return false;
	}

	for (size_t i = 0; i < (size_t)nargs; i++) {
		const struct cli_arg *a = &cmd->args[i];
		const char *v = argv[optind + (int)i];

		if (a->is_name &&
		    check_name(cmd->name, "extent name", v, a->slot_ok)) {
			*exit_code = CLI_EXIT_USAGE;
			return false;
		}
		if (!*v) {
			cli_usage_error(cmd->name, "%s must not be empty",
					a->metavar);
			return false;
		}
		*a->dest = v;
	}
	*exit_code = CLI_EXIT_OK;
	return true;
}

int cli_refuse_registered(const char *cmd, const char *target,
			  const char *what)
{
	if (strncmp(target, "hv:", 3))
		return 0;
	return cli_fail(cmd,
			"%s: the namespace is registered with the hypervisor, "
			"which takes only extent table changes; %s needs it "
			"back in Dom0 first ('xenpmem unregister %s', which "
			"enables it in Linux again)",
			target, what, target);
}

int cli_open(const char *cmd, const char *target, unsigned flags,
	     struct xp_ns **nsp, struct xp_info *info)
{
	struct xp_ns *ns = NULL;

	if (xp_ns_open(target, flags | lock_flags, &ns))
		return cli_lib_error(cmd);
	if (info && xp_ns_get_info(ns, info)) {
		int rc = cli_lib_error(cmd);

		xp_ns_close(ns);
		return rc;
	}
	*nsp = ns;
	return 0;
}

void cli_fmt_iec(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB",
					   "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1024.0 && u + 1 < CLI_ARRAY_SIZE(unit)) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.2f %s", v, unit[u]);
}

void cli_fmt_hex(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "0x%llx", (unsigned long long)v);
}

void cli_fmt_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * ndctl's --human size: plain bytes below 5000 KiB; then binary and
 * decimal units side by side, MiB below 2 GiB, GiB below 2 TiB (ndctl stops
 * at GiB; a pmem namespace can exceed that, so TiB follows).
 */
json_object *cli_json_size(uint64_t bytes, bool human)
{
	static const struct {
		uint64_t below;
		double bin, dec;
		const char *bname, *dname;
	} scale[] = {
		{2ull << 30, 1048576.0, 1e6, "MiB", "MB"},
		{2ull << 40, 1073741824.0, 1e9, "GiB", "GB"},
		{UINT64_MAX, 1099511627776.0, 1e12, "TiB", "TB"},
	};
	char buf[64];
	size_t i = 0;

	if (!human || bytes < 5000ull * 1024)
		return json_object_new_uint64(bytes);
	while (i + 1 < CLI_ARRAY_SIZE(scale) && bytes >= scale[i].below)
		i++;
	snprintf(buf, sizeof(buf), "%.2f %s (%.2f %s)",
		 (double)bytes / scale[i].bin, scale[i].bname,
		 (double)bytes / scale[i].dec, scale[i].dname);
	return json_object_new_string(buf);
}

json_object *cli_json_offset(uint64_t off, bool human)
{
	char buf[32];

	if (!human)
		return json_object_new_uint64(off);
	cli_fmt_hex(off, buf, sizeof(buf));
	return json_object_new_string(buf);
}

bool cli_json_add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

static json_object *json_time(uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_object_new_null();
	return json_object_new_string(buf);
}

/* The three feature words, as numbers: what a newer tool set. */
static json_object *features_json(const struct xp_info *in)
{
	json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && cli_json_add(o, "compat", json_object_new_uint64(in->compat));
	ok = ok && cli_json_add(o, "ro_compat",
				json_object_new_uint64(in->ro_compat));
	ok = ok && cli_json_add(o, "incompat",
				json_object_new_uint64(in->incompat));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *cli_info_json(const struct xp_info *in, bool human)
{
	json_object *o = json_object_new_object();
	json_object *sb = json_object_new_object();
	char uuid[37], version[16];
	bool ok = o && sb;

	cli_fmt_uuid(in->uuid, uuid);
	snprintf(version, sizeof(version), "%u.%u", in->major, in->minor);

	ok = ok && cli_json_add(o, "target", json_object_new_string(in->target));
	ok = ok && cli_json_add(o, "backend",
		       json_object_new_string(xp_backend_name(in->backend)));
	ok = ok && cli_json_add(o, "version", json_object_new_string(version));
	ok = ok && cli_json_add(o, "features", features_json(in));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "generation", json_object_new_uint64(in->generation));
	ok = ok && cli_json_add(o, "size", cli_json_size(in->ns_size, human));
	if (in->phys_known)
		ok = ok && cli_json_add(o, "phys_start",
			       cli_json_offset(in->phys_base, human));
	ok = ok && cli_json_add(o, "table_offset",
		       cli_json_offset(in->table_offset, human));
	ok = ok && cli_json_add(o, "table_size", cli_json_size(in->table_size, human));
	ok = ok && cli_json_add(o, "slots", json_object_new_uint64(in->slot_count));
	ok = ok && cli_json_add(o, "mgmt",
		       json_object_new_string(in->mgmt == XP_MGMT_NONE ? "none" : "xen"));
	ok = ok && cli_json_add(o, "compat_m2p",
		       json_object_new_boolean(in->compat_m2p));
	ok = ok && cli_json_add(o, "mgmt_offset",
		       cli_json_offset(in->mgmt_offset, human));
	ok = ok && cli_json_add(o, "mgmt_size", cli_json_size(in->mgmt_size, human));
	ok = ok && cli_json_add(o, "ft_offset", cli_json_offset(in->ft_offset, human));
	ok = ok && cli_json_add(o, "ft_chunks", json_object_new_uint64(in->ft_chunks));
	ok = ok && cli_json_add(o, "m2p_offset", cli_json_offset(in->m2p_offset, human));
	ok = ok && cli_json_add(o, "m2p_chunks", json_object_new_uint64(in->m2p_chunks));
	ok = ok && cli_json_add(o, "compat_m2p_offset",
		       cli_json_offset(in->compat_offset, human));
	ok = ok && cli_json_add(o, "compat_m2p_chunks",
		       json_object_new_uint64(in->compat_chunks));
	ok = ok && cli_json_add(o, "data_offset",
		       cli_json_offset(in->data_offset, human));
	ok = ok && cli_json_add(o, "data_size", cli_json_size(in->data_size, human));
	ok = ok && cli_json_add(o, "align", cli_json_size(in->align, human));
	ok = ok && cli_json_add(o, "init_time", json_time(in->init_time));
	ok = ok && cli_json_add(o, "extents", json_object_new_uint64(in->extent_count));
	ok = ok && cli_json_add(o, "used", cli_json_size(in->used_bytes, human));
	ok = ok && cli_json_add(o, "free", cli_json_size(in->free_bytes, human));
	ok = ok && cli_json_add(o, "largest_free",
		       cli_json_size(in->largest_free, human));
	ok = ok && cli_json_add(o, "corrupt_slots",
		       json_object_new_uint64(in->corrupt_slots));
	ok = ok && cli_json_add(o, "rule_violations",
		       json_object_new_uint64(in->violations));
	ok = ok && cli_json_add(o, "moved", json_object_new_boolean(in->moved));
	ok = ok && cli_json_add(sb, "agree",
		       json_object_new_boolean(!in->sb_unresolved));
	ok = ok && cli_json_add(sb, "primary",
		       json_object_new_string(in->primary_ok ? "ok"
							     : "invalid"));
	ok = ok && cli_json_add(sb, "backup",
		       json_object_new_string(in->backup_ok ? "ok"
							    : "invalid"));
	if (ok) {
		ok = cli_json_add(o, "superblocks", sb);
		sb = NULL;
	}
	json_object_put(sb);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *cli_extent_json(const struct xp_extent *e,
			     const struct xp_info *info, bool human)
{
	json_object *o = json_object_new_object();
	char uuid[37];
	bool ok = o != NULL;

	cli_fmt_uuid(e->uuid, uuid);
	ok = ok && cli_json_add(o, "name", json_object_new_string(e->name));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "slot", json_object_new_uint64(e->slot));
	ok = ok && cli_json_add(o, "offset", cli_json_offset(e->offset, human));
	ok = ok && cli_json_add(o, "size", cli_json_size(e->size, human));
	ok = ok && cli_json_add(o, "align", cli_json_size(e->align, human));
	if (e->label_size)
		ok = ok && cli_json_add(o, "label_size",
			       cli_json_size(e->label_size, human));
	ok = ok && cli_json_add(o, "state",
		       json_object_new_string(xp_extent_state_name(e->state)));
	if (e->assigned) {
		char owner[XP_UUID_STR_LEN], dom[64];
		uint32_t domid;

		cli_fmt_uuid(e->owner, owner);
		ok = ok && cli_json_add(o, "owner", json_object_new_string(owner));
		/* The running domain with that handle, if there is one. */
		if (!xp_owner_lookup(e->owner, dom, sizeof(dom), &domid)) {
			ok = ok && cli_json_add(o, "owner_name",
				       json_object_new_string(dom));
			ok = ok && cli_json_add(o, "owner_domid",
				       json_object_new_uint64(domid));
		}
	}
	if (e->violation)
		ok = ok && cli_json_add(o, "rule_violation",
			       json_object_new_boolean(true));
	if (e->phys_known) {
		ok = ok && cli_json_add(o, "phys_start",
			       cli_json_offset(info->phys_base + e->offset,
					       human));
		ok = ok && cli_json_add(o, "first_mfn",
			       json_object_new_uint64(e->first_mfn));
		ok = ok && cli_json_add(o, "nr_frames",
			       json_object_new_uint64(e->nr_frames));
	}
	if (e->badblocks)
		ok = ok && cli_json_add(o, "badblocks",
			       json_object_new_uint64(e->badblocks));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* CLI state, not library state: one command runs per process. */
static bool committed;

void cli_committed(void)
{
	committed = true;
}

bool cli_is_committed(void)
{
	return committed;
}

int cli_check_uuid(const char *cmd, struct xp_ns *ns, const char *name,
		   const uint8_t uuid[16])
{
	static const uint8_t nil[16];
	struct xp_extent ext;
	struct xp_info info;
	char want[XP_UUID_STR_LEN], have[XP_UUID_STR_LEN];

	if (!memcmp(uuid, nil, 16))
		return 0;
	if (xp_ns_get_info(ns, &info) || xp_ns_extent_find(ns, name, &ext))
		return cli_lib_error(cmd);
	if (!memcmp(ext.uuid, uuid, 16))
		return 0;
	cli_fmt_uuid(uuid, want);
	cli_fmt_uuid(ext.uuid, have);
	return cli_fail(cmd,
			"%s: extent '%s' has UUID %s, not %s (--uuid): it is not the extent meant; nothing changed",
			info.target, ext.name, have, want);
}

int cli_print_json(const char *cmd, json_object *obj)
{
	const char *s;
	int rc = CLI_EXIT_OK;

	if (!obj)
		return cli_fail(cmd, "out of memory building the output");
	/* Paths are the common string here: keep them readable. */
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		rc = cli_fail(cmd, "out of memory printing the output");
	else
		puts(s);
	json_object_put(obj);
	return rc;
}

bool cli_json_add_active(json_object *o, struct xp_ns *ns,
			 const struct xp_extent *e)
{
	struct xp_activation act;

	if (xp_extent_activation(ns, e, &act))
		return false;
	/* null, not absent: "not active" is an answer a tool can test. */
	if (act.kind == XP_ACT_NONE)
		return !json_object_object_add(o, "active_device", NULL);
	return cli_json_add(o, "active_device",
			    json_object_new_string(act.device));
}

int cli_print_extent(const char *cmd, struct xp_ns *ns, const char *name)
{
	struct xp_info info;
	struct xp_extent ext;
	json_object *o;

	if (xp_ns_get_info(ns, &info) || xp_ns_extent_find(ns, name, &ext))
		return cli_lib_error(cmd);
	o = cli_extent_json(&ext, &info, false);
	if (o && !cli_json_add_active(o, ns, &ext)) {
		json_object_put(o);
		return cli_lib_error(cmd);
	}
	return cli_print_json(cmd, o);
}

int cli_done(const char *cmd, struct xp_ns *ns, int op_rc, const char *show)
{
	int rc = CLI_EXIT_OK;

	if (op_rc) {
		rc = cli_lib_error(cmd);
	} else if (show) {
		rc = cli_print_extent(cmd, ns, show);
		if (rc && cli_is_committed()) {
			cli_notice(cmd, "the change is committed; only printing its result failed");
			rc = CLI_EXIT_OK;
		}
	}
	xp_ns_close(ns);
	return rc;
}

int cli_change_done(const char *cmd, struct xp_ns *ns, int op_rc,
		    const char *show)
{
	if (!op_rc)
		cli_committed();
	return cli_done(cmd, ns, op_rc, show);
}

int cli_hv_open(const char *cmd, const char *spec, struct xp_hv **hvp)
{
	int rc = xp_hv_open(spec, hvp);

	if (rc == -EINVAL)
		return cli_usage_error(cmd, "%s", xp_last_error());
	return rc ? cli_lib_error(cmd) : 0;
}

json_object *cli_hv_mapping_json(const struct xp_hv_mapping *m,
				 const char *target, const struct xp_hv *hv,
				 bool map)
{
	json_object *o = json_object_new_object();
	char uuid[XP_UUID_STR_LEN], dom[XP_UUID_STR_LEN];
	bool ok = o != NULL;

	cli_fmt_uuid(m->extent_uuid, uuid);
	cli_fmt_uuid(m->domain, dom);
	ok = ok && cli_json_add(o, "name", json_object_new_string(m->name));
	ok = ok && cli_json_add(o, "uuid", json_object_new_string(uuid));
	ok = ok && cli_json_add(o, "namespace", json_object_new_string(target));
	ok = ok && cli_json_add(o, "hypervisor",
				json_object_new_string(xp_hv_name(hv)));
	ok = ok && cli_json_add(o, "domain", json_object_new_string(dom));
	ok = ok && cli_json_add(o, "domid", json_object_new_uint64(m->domid));
	ok = ok && cli_json_add(o, "mapped", json_object_new_boolean(map));
	ok = ok && cli_json_add(o, "gfn", json_object_new_uint64(m->gfn));
	ok = ok && cli_json_add(o, "first_mfn",
				json_object_new_uint64(m->first_mfn));
	ok = ok && cli_json_add(o, "nr_frames",
				json_object_new_uint64(m->nr_frames));
	if (map)
		ok = ok && cli_json_add(o, "superpages",
					json_object_new_uint64(m->superpages));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

#define BAR_COLUMNS 30

void cli_progress_draw(uint64_t done, uint64_t total, void *arg)
{
	struct cli_progress *p = arg;
	int pct = total ? (int)(done * 100 / total) : 100;
	int fill = pct * BAR_COLUMNS / 100;

	/* Redrawing on every callback would flood a slow terminal. */
	if (pct == p->last_pct)
		return;
	p->last_pct = pct;
	p->drawn = true;
	fprintf(stderr, "\r%s ", p->verb);
	cli_put_escaped(stderr, p->name);
	fprintf(stderr, " [%.*s%*s] %3d%%", fill,
		"##############################", BAR_COLUMNS - fill, "", pct);
	fflush(stderr);
}

xp_progress_fn cli_progress_fn(void)
{
	return isatty(STDERR_FILENO) ? cli_progress_draw : NULL;
}

void cli_progress_end(struct cli_progress *p)
{
	/* The bar's line is unterminated; errors start on their own. */
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
}

unsigned cli_term_width(int fd)
{
	struct winsize ws;

	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) || !ws.ws_col)
		return 0;
	return ws.ws_col;
}

int cli_damage(const char *cmd, struct xp_ns *ns, int rc)
{
	const char *d = xp_ns_damage(ns);
	struct xp_info info;

	if (!d)
		return rc;
	xp_ns_get_info(ns, &info);
	cli_fail(cmd, "%s: %s", info.target, d);
	return CLI_EXIT_FAIL;
}
