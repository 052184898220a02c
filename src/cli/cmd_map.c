// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

#define MAP_DEFAULT_WIDTH 80

enum region_kind {
	R_SUPER,
	R_TABLE,
	R_MGMT,
	R_EXTENT,
	R_FREE,
	R_PAD,
	R_UNKNOWN,
	R_BACKUP,
};

struct region {
	enum region_kind kind;
	char letter;
	uint64_t off, size;
	char name[XP_NAME_MAX + 1];
	unsigned width;		/* columns in the bar */
	double ideal;		/* columns it would get to scale */
};

struct map {
	struct region *r;
	size_t n, cap;
	uint64_t cursor;	/* end of the last region added */
	uint32_t nextents;
};

static const char *const kind_name[] = {
	[R_SUPER] = "superblock",
	[R_TABLE] = "zero gap + extent table",
	[R_MGMT] = "management area",
	[R_EXTENT] = "extent",
	[R_FREE] = "free",
	[R_PAD] = "unused (alignment)",
	[R_UNKNOWN] = "unknown (corrupt slots)",
	[R_BACKUP] = "backup superblock",
};

static const char *const kind_colour[] = {
	[R_SUPER] = "\033[1;31m",
	[R_TABLE] = "\033[1;35m",
	[R_MGMT] = "\033[1;33m",
	[R_EXTENT] = "",	/* cycles, see colour_of() */
	[R_FREE] = "\033[2m",
	[R_PAD] = "\033[2m",
	[R_UNKNOWN] = "\033[1;31m",
	[R_BACKUP] = "\033[1;31m",
};

/* S, T, M and B draw the metadata: extents never take them. */
static const char extent_letters[] =
	"ACDEFGHIJKLNOPQRUVWXYZabcdefghijklmnopqrstuvwxyz";

static const char *colour_of(const struct region *r)
{
	static const char *const extent_colours[] = {
		"\033[1;32m", "\033[1;36m", "\033[1;34m",
		"\033[32m",   "\033[36m",   "\033[34m",
	};
	size_t i;

	if (r->kind != R_EXTENT)
		return kind_colour[r->kind];
	i = (size_t)(strchr(extent_letters, r->letter) - extent_letters);
	return extent_colours[i % CLI_ARRAY_SIZE(extent_colours)];
}

static int push(struct map *m, enum region_kind kind, char letter,
		uint64_t off, uint64_t size, const char *name)
{
	struct region *r;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct region *nr = realloc(m->r, cap * sizeof(*nr));

		if (!nr)
			return -1;
		m->r = nr;
		m->cap = cap;
	}
	r = &m->r[m->n++];
	*r = (struct region){.kind = kind, .letter = letter, .off = off,
			     .size = size};
	snprintf(r->name, sizeof(r->name), "%s", name ? name : kind_name[kind]);
	return 0;
}

/*
 * Append a region; whatever lies between the previous region and this one
 * (alignment padding) becomes a region too, so the bar covers every byte.
 */
static int add(struct map *m, enum region_kind kind, char letter,
	       uint64_t off, uint64_t size, const char *name)
{
	if (!size)
		return 0;
	if (off > m->cursor &&
	    push(m, R_PAD, '-', m->cursor, off - m->cursor, NULL))
		return -1;
	if (push(m, kind, letter, off, size, name))
		return -1;
	if (off + size > m->cursor)
		m->cursor = off + size;
	return 0;
}

static char extent_letter(uint32_t i)
{
	return extent_letters[i % (sizeof(extent_letters) - 1)];
}

/*
 * While a slot is corrupt it may describe an extent anywhere: what lies
 * between the extents that can be read is unknown, never free.
 */
static int add_unknown(struct map *m, const struct xp_info *in, uint64_t end)
{
	if (!in->corrupt_slots || end <= m->cursor ||
	    m->cursor < in->data_offset)
		return 0;
	return add(m, R_UNKNOWN, '?', m->cursor, end - m->cursor, NULL);
}

/* The data area: extents and free gaps, merged in offset order. */
static int add_data_area(struct map *m, struct xp_ns *ns,
			 const struct xp_info *in)
{
	uint32_t ne = xp_ns_extent_count(ns), ng = xp_ns_gap_count(ns);
	uint32_t ie = 0, ig = 0;
	struct xp_extent e;
	struct xp_gap g;

	while (ie < ne || ig < ng) {
		if (ie < ne && xp_ns_extent_get(ns, ie, &e))
			return -1;
		if (ig < ng && xp_ns_gap_get(ns, ig, &g))
			return -1;
		if (ie < ne && (ig >= ng || e.offset < g.offset)) {
			if (add_unknown(m, in, e.offset) ||
			    add(m, R_EXTENT, extent_letter(ie), e.offset,
				e.size, e.name))
				return -1;
			ie++;
		} else {
			if (add(m, R_FREE, '.', g.offset, g.size, NULL))
				return -1;
			ig++;
		}
	}
	m->nextents = ne;
	return add_unknown(m, in, in->data_offset + in->data_size);
}

static int build(struct map *m, struct xp_ns *ns, const struct xp_info *in)
{
	uint64_t backup = in->ns_size - 4096;
	char mgmt[XP_NAME_MAX + 1];

	/* The legend names the sub-arrays' 2 MiB chunks: frame table, M2P,
	 * compat M2P. */
	snprintf(mgmt, sizeof(mgmt), "mgmt: FT %u, M2P %u, C %u",
		 in->ft_chunks, in->m2p_chunks, in->compat_chunks);
	if (add(m, R_SUPER, 'S', 0, 4096, NULL) ||
	    add(m, R_TABLE, 'T', 4096,
		in->table_offset + in->table_size - 4096, NULL) ||
	    add(m, R_MGMT, 'M', in->mgmt_offset, in->mgmt_size, mgmt) ||
	    add(m, R_PAD, '-', m->cursor, in->data_offset - m->cursor, NULL) ||
	    add_data_area(m, ns, in))
		return -1;
	return add(m, R_BACKUP, 'B', backup, 4096, NULL);
}

/*
 * Columns by largest remainder: every region gets at least one, the rest
 * follow its share of the namespace, and the sum is exactly @width unless
 * there are more regions than columns.
 */
static void layout_columns(struct map *m, unsigned width, uint64_t total)
{
	unsigned sum = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct region *r = &m->r[i];

		r->ideal = (double)r->size * width / (double)total;
		r->width = r->ideal < 1.0 ? 1 : (unsigned)r->ideal;
		sum += r->width;
	}
	while (sum < width) {
		struct region *best = NULL;

		for (size_t i = 0; i < m->n; i++)
			if (!best || m->r[i].ideal - m->r[i].width >
					     best->ideal - best->width)
				best = &m->r[i];
		if (!best)
			break;
		best->width++;
		sum++;
	}
	while (sum > width) {
		struct region *best = NULL;

		for (size_t i = 0; i < m->n; i++)
			if (m->r[i].width > 1 &&
			    (!best || m->r[i].width - m->r[i].ideal >
					      best->width - best->ideal))
				best = &m->r[i];
		if (!best)
			break;
		best->width--;
		sum--;
	}
}

static void draw(const struct map *m, const struct xp_info *in,
		 const char *target, unsigned width, bool colour)
{
	const char *reset = colour ? "\033[0m" : "";
	uint64_t per_col = in->ns_size / width;
	char size[32], col[32], off[32];
	bool small = false;
	unsigned drawn;

	cli_fmt_iec(in->ns_size, size, sizeof(size));
	cli_fmt_iec(per_col, col, sizeof(col));
	cli_put_escaped(stdout, target);
	printf(": %s, %u columns of %s\n", size, width, col);

	drawn = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct region *r = &m->r[i];

		if (colour)
			fputs(colour_of(r), stdout);
		for (unsigned c = 0; c < r->width; c++)
			putchar(r->letter);
		fputs(reset, stdout);
		drawn += r->width;
	}
	putchar('\n');
	if (drawn > width)
		printf("(%u columns: more regions than --width)\n", drawn);

	for (size_t i = 0; i < m->n; i++) {
		const struct region *r = &m->r[i];
		bool tiny = r->ideal < 1.0;

		cli_fmt_hex(r->off, off, sizeof(off));
		cli_fmt_iec(r->size, size, sizeof(size));
		printf("  %s%c%s  %-*s %14s  %10s%s\n", colour ? colour_of(r) : "",
		       r->letter, reset, 28, r->name, off, size, tiny ? " *" : "");
		small |= tiny;
	}
	if (small)
		printf("  * smaller than one column, drawn one column wide\n");
}

/* An option only the guest-mapping form takes (cmd_map_guest.c). */
static bool guest_form(int argc, char **argv)
{
	static const char *const longs[] = {"--domain", "--gfn", "--hv"};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		for (size_t j = 0; j < CLI_ARRAY_SIZE(longs); j++) {
			size_t n = strlen(longs[j]);

			if (!strncmp(a, longs[j], n) && (!a[n] || a[n] == '='))
				return true;
		}
		if (a[0] == '-' && (a[1] == 'd' || a[1] == 'g'))
			return true;
	}
	return false;
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int cmd_map(int argc, char **argv)
{
	const char *target = NULL;
	uint32_t width = 0;
	const struct cli_opt opts[] = {
		{.long_name = "width", .short_name = 'w', .kind = CLI_U32,
		 .dest = &width, .metavar = "W", .min = 8, .max = 10000,
		 .help = "bar width in columns (default: the terminal's, "
			 "else 80)"},
	};
	const struct cli_arg args[] = {
		{.metavar = "NAMESPACE", .dest = &target, .help = CLI_NS_HELP},
	};
	const struct cli_cmd cmd = {
		.name = "map",
		.summary = "Draw the namespace to scale: one bar, one letter "
			   "per region, and a legend.",
		.description = "Letters: S superblock, T zero gap + extent "
			       "table, M management area, A-Z then a-z the "
			       "extents in offset order (cycling), '.' free, "
			       "'-' alignment padding, '?' space a corrupt "
			       "slot may describe, B backup superblock. "
			       "A region smaller than one column still gets "
			       "one. Colours only when stdout is a terminal. "
			       "With --domain, map maps an extent into a guest "
			       "instead (below).",
		.args = args, .nargs = CLI_ARRAY_SIZE(args),
		.opts = opts, .nopts = CLI_ARRAY_SIZE(opts),
	};
	struct map m = {0};
	struct xp_info info;
	struct xp_ns *ns;
	int rc;

	/* One command, two forms: the help shows both. */
	if (wants_help(argc, argv)) {
		char *help[] = {argv[0], (char *)"--help", NULL};

		cli_parse(&cmd, 2, help, &rc);
		putchar('\n');
		return cmd_map_guest(2, help);
	}
	if (guest_form(argc, argv))
		return cmd_map_guest(argc, argv);
	if (!cli_parse(&cmd, argc, argv, &rc))
		return rc;
	if (!width)
		width = cli_term_width(STDOUT_FILENO);
	if (!width)
		width = MAP_DEFAULT_WIDTH;
	rc = cli_open(cmd.name, target, 0, &ns, &info);
	if (rc)
		return rc;
	if (build(&m, ns, &info)) {
		rc = cli_lib_error(cmd.name);
	} else {
		layout_columns(&m, width, info.ns_size);
		draw(&m, &info, target, width, isatty(STDOUT_FILENO));
		rc = fflush(stdout) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
		rc = cli_damage(cmd.name, ns, rc);
	}
	xp_ns_close(ns);
	free(m.r);
	return rc;
}
