/* SPDX-License-Identifier: MIT */
/*
 * Corruption suite (format 2.0): hostile media. Every bit of both
 * superblock headers, every superblock field at boundary values, and
 * extent-record fields re-sealed with a valid checksum (crafted, so the
 * record decodes as checksum-valid but invalid), records from another
 * namespace or slot, equal sequence numbers, and a messy image. For each:
 * what open (read-only and for writing) does, what check reports (object,
 * field, and the fix command), what repair restores, and that read-only
 * checks and refused repairs write nothing. Also xp_parse_size.
 *
 * Single changed bytes of record copies are test_rec_bytes.c; table rules
 * test_rules.c; disagreeing superblocks test_sb_repair.c; feature words
 * and moved namespaces test_features.c.
 *
 * The fixture: 64 MiB, 2 MiB alignment, the Xen management area, 8 slots,
 * address unknown. init writes a free record (seq 1) into copy 0 of every
 * slot (copy 1 blank); each update writes the other copy, seq + 1:
 *   slot 0 "alpha"  c1 s2 created, c0 s3 assigned to U7      current c0
 *   slot 1 "beta"   c0 s1 init's free record, c1 s2 created    current c1
 *   slot 2 (free)   c1 s2 "gamma" created, c0 s3 destroyed     current c0
 *   slot 3 "delta2" c1 s2 "delta", c0 s3 renamed, c1 s4 4 MiB  current c1
 *   slots 4..7      c0 s1 init's free record, c1 blank         current c0
 * alpha, beta, (gamma's free range), delta2 follow each other from
 * data_offset in 2 MiB steps.
 */
#include "lib_test.h"

#define NS_SIZE (64 * MiB)
#define NSLOTS 8u

static struct {
	uint8_t *img;
	struct xp_media *m;
	struct xp_sb sb;
	uint64_t D, E;
	uint64_t head;		/* [0, head): superblock, zero area, table */
	struct meta pristine;
	struct listing list;	/* alpha, beta, delta2 */
} fx;

static uint8_t *sbp(int copy)
{
	return copy ? fx.img + NS_SIZE - XP_SB_BLOCK : fx.img;
}

static const char *const sb_obj[2] = {"superblock.primary",
				      "superblock.backup"};
static const char *const copy_name[2] = {"primary", "backup"};

static uint8_t *recp(uint32_t slot, int copy)
{
	return fx.img + xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
}

static void restore(void)
{
	meta_put(&fx.pristine, fx.img);
	tm_reset(fx.m);
}

static bool pristine(void)
{
	return meta_same(&fx.pristine, fx.img);
}

static void sb_resum(uint8_t *b)
{
	uint32_t hs = (uint32_t)le_get(b + 20, 4);

	if (hs < XP_SB_SIZE || hs > XP_SB_BLOCK || hs % 4)
		hs = XP_SB_SIZE;
	le_put(b + 504, 8, xp_sb_checksum(b, hs));
}

static int fixture(void)
{
	struct xp_init_opts o = {.max_extents = NSLOTS, .mgmt = XP_MGMT_XEN,
				 .align = 2 * MiB};
	struct xp_ns *ns;
	int rc;

	rc = lt_fresh_ns(NS_SIZE, &o, &fx.img, &fx.m, &ns);
	if (rc)
		goto fail;
	rc = ns_mk(ns, "alpha", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_assign(ns, "alpha", uuid_n(7));
	rc = rc ?: ns_mk(ns, "beta", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "gamma", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "delta", 2 * MiB, NULL, 0);
	rc = rc ?: xp_extent_rename(ns, "delta", "delta2", 0);
	rc = rc ?: xp_extent_resize(ns, "delta2", 4 * MiB,
				    XP_FORCE | XP_NO_ZERO, NULL, NULL);
	rc = rc ?: xp_extent_destroy(ns, "gamma", 0);
	if (rc) {
		xp_ns_close(ns);
		goto fail;
	}
	fx.sb = ns->sb;
	fx.D = ns->sb.data_offset;
	fx.E = ns->sb.data_offset + ns->sb.data_size;
	fx.head = ns->sb.mgmt_offset;
	list_take(ns, &fx.list);
	xp_ns_close(ns);
	meta_take(&fx.pristine, fx.img, NS_SIZE, fx.head);
	tm_reset(fx.m);
	return fx.list.n == 3 && fx.sb.chunks.ft == 1 ? 0 : -EINVAL;
fail:
	fprintf(stderr, "fixture: %s\n", xp_last_error());
	return rc ? rc : -EINVAL;
}

/* ---- expected extent lists ------------------------------------------------- */

/* What a reader should see: pristine, a slot lost (corrupt), or a slot's
 * older copy restored by a forced repair. */
enum view {
	V_PRISTINE,
	V_NO_ALPHA,	/* slot 0 corrupt, or freed */
	V_NO_BETA,	/* slot 1 corrupt, or back to init's free record */
	V_NO_DELTA,	/* slot 3 corrupt, or freed */
	V_ALPHA_BACK,	/* slot 0's older copy: alpha unassigned */
	V_DELTA_BACK,	/* slot 3's older copy: delta2 at 2 MiB */
};

static uint32_t view_list(enum view v, struct xp_extent *w)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < fx.list.n; i++) {
		struct xp_extent x = fx.list.x[i];

		if ((v == V_NO_ALPHA && x.slot == 0) ||
		    (v == V_NO_BETA && x.slot == 1) ||
		    (v == V_NO_DELTA && x.slot == 3))
			continue;
		if (v == V_ALPHA_BACK && x.slot == 0) {
			x.assigned = false;
			memset(x.owner, 0, 16);
		}
		if (v == V_DELTA_BACK && x.slot == 3) {
			x.size = 2 * MiB;
			x.nr_frames = x.size >> 12;
		}
		w[n++] = x;
	}
	return n;
}

static void expect_view(struct xp_ns *ns, enum view v, const char *ctx)
{
	struct xp_extent w[4];
	uint32_t n = view_list(v, w);
	struct listing l;

	list_take(ns, &l);
	CHECK_MSG(l.n == n, "%s: %u extents, want %u", ctx, l.n, n);
	for (uint32_t i = 0; i < n && i < l.n; i++)
		CHECK_MSG(extent_same(&l.x[i], &w[i]),
			  "%s: extent %u is '%s' %#" PRIx64 "+%#" PRIx64
			  " slot %u assigned %d, want '%s' %#" PRIx64 "+%#" PRIx64
			  " slot %u assigned %d",
			  ctx, i, l.x[i].name, l.x[i].offset, l.x[i].size,
			  l.x[i].slot, l.x[i].assigned, w[i].name, w[i].offset,
			  w[i].size, w[i].slot, w[i].assigned);
}

/* Open read-only; expect success, @v, and @damaged. */
static void expect_open_ro(enum view v, bool damaged, const char *ctx)
{
	struct xp_ns *ns;
	int rc = xp_ns_open_media(fx.m, 0, &ns);

	CHECK_MSG(rc == 0, "%s: read-only open: %d %s", ctx, rc, xp_last_error());
	if (rc)
		return;
	expect_view(ns, v, ctx);
	CHECK_MSG(!xp_ns_damage(ns) == !damaged, "%s: damage \"%s\"", ctx,
		  xp_ns_damage(ns) ? xp_ns_damage(ns) : "(null)");
	xp_ns_close(ns);
	CHECK_MSG(tm_writes(fx.m) == 0, "%s: open wrote", ctx);
}

/* Open for writing; expect -EUCLEAN mentioning @n1 and @n2. */
static void expect_open_w_refused(const char *ctx, const char *n1,
				  const char *n2)
{
	struct xp_ns *ns = NULL;
	int rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);

	CHECK_MSG(rc == -EUCLEAN, "%s: write open: %d (%s)", ctx, rc,
		  xp_last_error());
	if (!rc)
		xp_ns_close(ns);
	if (n1)
		CHECK_MSG(strstr(xp_last_error(), n1), "%s: \"%s\" lacks \"%s\"",
			  ctx, xp_last_error(), n1);
	if (n2)
		CHECK_MSG(strstr(xp_last_error(), n2), "%s: \"%s\" lacks \"%s\"",
			  ctx, xp_last_error(), n2);
	CHECK_MSG(tm_writes(fx.m) == 0, "%s: open wrote", ctx);
}

static void expect_open_w_ok(enum view v, const char *ctx)
{
	struct xp_ns *ns;
	int rc = xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);

	CHECK_MSG(rc == 0, "%s: write open: %d %s", ctx, rc, xp_last_error());
	if (rc)
		return;
	expect_view(ns, v, ctx);
	xp_ns_close(ns);
}

/*
 * Read-only check: returns @errors, writes nothing, every error carries
 * a fix, and (when @obj) there is a finding of @sev on @obj whose text
 * contains @text (when given) and whose fix is @fix (when given).
 */
static void expect_check(int errors, enum xp_severity sev, const char *obj,
			 const char *text, const char *fix, const char *ctx)
{
	struct findings fs;
	unsigned before = xt_case_failures;
	int rc, i;

	tm_reset(fx.m);
	rc = run_check(fx.m, 0, &fs);
	CHECK_MSG(rc == errors, "%s: check returned %d, want %d", ctx, rc, errors);
	CHECK_MSG(tm_writes(fx.m) == 0, "%s: read-only check wrote", ctx);
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_ERROR), rc > 0 ? (unsigned)rc : 0);
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_FIXED), 0);
	if (obj) {
		i = findings_find_text(&fs, sev, obj, text);
		CHECK_MSG(i >= 0, "%s: no %s finding on \"%s\" with \"%s\"", ctx,
			  sev == XP_SEV_NOTE ? "note" : "error", obj,
			  text ? text : "");
		if (i >= 0 && fix)
			CHECK_MSG(!strcmp(fs.f[i].fix, fix),
				  "%s: fix \"%s\", want \"%s\"", ctx, fs.f[i].fix,
				  fix);
	}
	if (xt_case_failures != before && before < 4)
		findings_dump(&fs);
}

/* Repair refuses: same return as a check, nothing written at all. */
static void expect_repair_refused(unsigned flags, int errors, const char *ctx)
{
	struct findings fs;
	struct meta before;
	int rc;

	meta_take(&before, fx.img, NS_SIZE, fx.head);
	tm_reset(fx.m);
	rc = run_check(fx.m, flags, &fs);
	CHECK_MSG(rc == errors, "%s: repair returned %d, want %d", ctx, rc, errors);
	CHECK_MSG(tm_writes(fx.m) == 0, "%s: refused repair wrote %u times", ctx,
		  tm_writes(fx.m));
	CHECK(meta_same(&before, fx.img));
	CHECK_EQ_U64(findings_count(&fs, XP_SEV_FIXED), 0);
	meta_free(&before);
}

/* Both superblock blocks are the pristine ones at generation @gen. */
static bool sb_blocks_at(uint64_t gen)
{
	uint8_t want[XP_SB_BLOCK];

	for (int c = 0; c < 2; c++) {
		memcpy(want, c ? fx.pristine.tail : fx.pristine.head, XP_SB_BLOCK);
		xp_sb_relocate(want, c == 1, gen);
		if (memcmp(sbp(c), want, XP_SB_BLOCK))
			return false;
	}
	return true;
}

/* ...and everything else is pristine. */
static bool sb_pristine_at(uint64_t gen)
{
	return sb_blocks_at(gen) &&
	       !memcmp(fx.img + XP_SB_BLOCK, fx.pristine.head + XP_SB_BLOCK,
		       fx.head - XP_SB_BLOCK);
}

/* ---- superblock ------------------------------------------------------------ */

/* Field offsets of struct xp_sb_disk. */
static const struct fdef {
	const char *name;
	unsigned off, len;
} sb_fields[] = {
	{"signature", 0, 16},	     {"major", 16, 2},
	{"minor", 18, 2},	     {"header_size", 20, 4},
	{"compat", 24, 4},	     {"ro_compat", 28, 4},
	{"incompat", 32, 4},	     {"reserved0", 36, 4},
	{"ns_uuid", 40, 16},	     {"generation", 56, 8},
	{"ns_size", 64, 8},	     {"phys_base", 72, 8},
	{"init_time", 80, 8},	     {"table_offset", 88, 8},
	{"slot_count", 96, 4},	     {"slot_size", 100, 4},
	{"rec_size", 104, 4},	     {"page_shift", 108, 4},
	{"align_shift", 112, 4},     {"chunk_shift", 116, 4},
	{"ft_entry", 120, 4},	     {"m2p_entry", 124, 4},
	{"compat_entry", 128, 4},    {"compat_limit_shift", 132, 4},
	{"ft_chunks", 136, 4},	     {"m2p_chunks", 140, 4},
	{"compat_chunks", 144, 4},   {"reserved1", 148, 4},
	{"mgmt_offset", 152, 8},     {"mgmt_size", 160, 8},
	{"data_offset", 168, 8},     {"data_size", 176, 8},
	{"reserved", 184, 320},	     {"checksum", 504, 8},
};

static const struct fdef *sb_field(const char *name)
{
	for (size_t i = 0; i < sizeof(sb_fields) / sizeof(sb_fields[0]); i++)
		if (!strcmp(sb_fields[i].name, name))
			return &sb_fields[i];
	return NULL;
}

static const struct fdef *sb_field_at(unsigned byte)
{
	for (size_t i = 0; i < sizeof(sb_fields) / sizeof(sb_fields[0]); i++)
		if (byte >= sb_fields[i].off &&
		    byte < sb_fields[i].off + sb_fields[i].len)
			return &sb_fields[i];
	return NULL;
}

/* One superblock copy is invalid: everything that follows from it, and
 * check --repair rewriting it (first) and the good one at generation 2. */
static void sb_one_bad(int copy, const char *field, const char *ctx)
{
	struct findings fs;
	int rc;

	expect_open_ro(V_PRISTINE, false, ctx);
	expect_open_w_refused(ctx, "check --repair", copy_name[copy]);
	expect_check(1, XP_SEV_ERROR, sb_obj[copy], field,
		     "xenpmem check --repair (memory)", ctx);
	tm_reset(fx.m);
	rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
	CHECK_MSG(rc == 0, "%s: repair returned %d", ctx, rc);
	CHECK_MSG(findings_find(&fs, XP_SEV_FIXED, sb_obj[copy]) >= 0,
		  "%s: no fix on %s", ctx, sb_obj[copy]);
	CHECK_EQ_U64(tm_writes(fx.m), 2);
	if (tm_writes(fx.m) == 2)
		CHECK_EQ_U64(tm_write_at(fx.m, 0)->off,
			     copy ? NS_SIZE - XP_SB_BLOCK : 0);
	CHECK_MSG(sb_pristine_at(2), "%s: not pristine (generation 2) after repair",
		  ctx);
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, ctx);
	expect_open_w_ok(V_PRISTINE, ctx);
}

/* Every bit of both 512-byte headers. */
static void t_sb_bitflips(void)
{
	char ctx[96];

	for (int copy = 0; copy < 2; copy++) {
		for (unsigned bit = 0; bit < XP_SB_SIZE * 8; bit++) {
			uint8_t *b = sbp(copy);
			const struct fdef *fd = sb_field_at(bit / 8);
			enum xp_fmt_status st;
			struct xp_sb out;
			const char *f;
			unsigned before = xt_case_failures;

			restore();
			b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			snprintf(ctx, sizeof(ctx), "%s bit %u (%s)", sb_obj[copy],
				 bit, fd ? fd->name : "?");
			st = xp_sb_decode(b, XP_SB_BLOCK, NS_SIZE, copy, &out, &f);
			if (!strcmp(fd->name, "signature")) {
				CHECK_ST(st, XP_E_SIGNATURE);
			} else {
				CHECK_ST(st, XP_E_CHECKSUM);
				if (strcmp(fd->name, "header_size"))
					CHECK_STR(f, "checksum");
			}
			sb_one_bad(copy, f ? f : "?", ctx);
			if (xt_case_failures > before + 10)
				return;
		}
	}
	restore();
}

/* Bytes behind the 512-byte header are outside the checksum, so the
 * format demands them zero: anything there invalidates the copy. */
static void t_sb_block_tail(void)
{
	for (int copy = 0; copy < 2; copy++) {
		restore();
		sbp(copy)[XP_SB_SIZE] = 0x5a;
		sbp(copy)[4095] = 0x01;
		sb_one_bad(copy, "block tail", "block tail");
	}
	restore();
}

/* The field xp_sb_decode names when a layout parameter changes. */
static const char *layout_field(uint64_t phys, uint32_t slots, uint32_t shift,
				bool compat)
{
	struct xp_layout_params lp = {.ns_size = NS_SIZE, .phys_base = phys,
				      .slot_count = slots, .align_shift = shift};
	struct xp_layout l;
	const char *why;

	xp_mgmt_geom_xen(&lp.geom, compat);
	if (xp_layout_solve(&lp, &l, &why) != XP_OK)
		return "ns_size";
	if (l.mgmt_offset != fx.sb.mgmt_offset)
		return "mgmt_offset";
	if (l.chunks.ft != fx.sb.chunks.ft)
		return "ft_chunks";
	if (l.chunks.m2p != fx.sb.chunks.m2p)
		return "m2p_chunks";
	if (l.chunks.compat != fx.sb.chunks.compat)
		return "compat_chunks";
	if (l.mgmt_size != fx.sb.mgmt_size)
		return "mgmt_size";
	if (l.data_offset != fx.sb.data_offset)
		return "data_offset";
	if (l.data_size != fx.sb.data_size)
		return "data_size";
	return NULL;
}

enum kind {
	K_BAD,		/* the copy is rejected with st / field */
	K_DIFF,		/* valid, but not what the other copy says */
};

enum op {
	SET,		/* store the value */
	XOR,		/* flip the bits of the value */
	OR,		/* set the bits of the value */
};

struct sbcase {
	const char *field;
	enum op op;
	uint64_t val;
	enum kind kind;
	enum xp_fmt_status st;
	const char *fname;	/* expected field in decode and check text */
	/* K_DIFF: the copy in use when the other one is changed: -1 the
	 * primary (a tie), 1 the unchanged copy (the changed one makes
	 * slots fail). */
	int use;
	const char *field2;	/* a second field to store, or NULL */
	uint64_t val2;
	bool no_resum;
};

static void apply_sb(uint8_t *b, const struct sbcase *c)
{
	const struct fdef *fd = sb_field(c->field);
	uint64_t v;

	if (c->field2) {	/* a second field first; compat: OR'ed in */
		const struct fdef *f2 = sb_field(c->field2);
		uint64_t v2 = c->val2;

		if (!strcmp(c->field2, "compat"))
			v2 |= le_get(b + f2->off, f2->len);
		le_put(b + f2->off, f2->len, v2);
	}
	if (!strcmp(c->field, "signature")) {
		b[15] = (uint8_t)c->val;
	} else if (!strcmp(c->field, "reserved")) {
		b[184 + c->val % 320] = 0x01;
	} else if (!strcmp(c->field, "ns_uuid")) {
		memset(b + 40, (int)c->val, 16);
	} else {
		v = le_get(b + fd->off, fd->len);
		v = c->op == SET ? c->val : c->op == XOR ? v ^ c->val : v | c->val;
		le_put(b + fd->off, fd->len, v);
	}
	if (!c->no_resum)
		sb_resum(b);
}

static void t_sb_fields(void)
{
	const uint64_t D = fx.sb.data_offset, DS = fx.sb.data_size;
	const uint64_t MO = fx.sb.mgmt_offset, MS = fx.sb.mgmt_size;
	const uint32_t PK = XP_SB_F_PHYS_KNOWN;
	const struct sbcase cases[] = {
		{"signature", SET, 'X', K_BAD, XP_E_SIGNATURE, "signature"},
		{"signature", SET, 0, K_BAD, XP_E_SIGNATURE, "signature"},
		{"major", SET, 0, K_BAD, XP_E_VERSION, "major"},
		{"major", SET, 1, K_BAD, XP_E_VERSION, "major"},
		{"major", SET, 3, K_BAD, XP_E_VERSION, "major"},
		{"major", SET, 0xffff, K_BAD, XP_E_VERSION, "major"},
		{"minor", SET, 1, K_DIFF, XP_OK, NULL, -1},
		{"minor", SET, 0xffff, K_DIFF, XP_OK, NULL, -1},
		{"minor", SET, 1, K_DIFF, XP_OK, NULL, -1, "reserved1", 9},
		{"header_size", SET, 0, K_BAD, XP_E_CHECKSUM, "header_size"},
		{"header_size", SET, 508, K_BAD, XP_E_CHECKSUM, "header_size"},
		{"header_size", SET, 514, K_BAD, XP_E_CHECKSUM, "header_size"},
		{"header_size", SET, 4100, K_BAD, XP_E_CHECKSUM, "header_size"},
		{"header_size", SET, 0xffffffff, K_BAD, XP_E_CHECKSUM,
		 "header_size"},
		{"header_size", SET, 1024, K_DIFF, XP_OK, NULL, -1},
		{"header_size", SET, 4096, K_DIFF, XP_OK, NULL, -1},
		{"compat", XOR, XP_SB_F_BACKUP, K_BAD, XP_E_FIELD, "compat.backup"},
		{"compat", OR, PK, K_DIFF, XP_OK, NULL, -1},
		{"compat", OR, 1u << 7, K_DIFF, XP_OK, NULL, -1},
		{"ro_compat", SET, 1, K_DIFF, XP_OK, NULL, -1},
		{"ro_compat", SET, 0x80000000u, K_DIFF, XP_OK, NULL, -1},
		{"incompat", SET, 1, K_BAD, XP_E_VERSION, "incompat"},
		{"incompat", SET, 0x80000000u, K_BAD, XP_E_VERSION, "incompat"},
		{"reserved0", SET, 1, K_BAD, XP_E_FIELD, "reserved"},
		{"ns_uuid", SET, 0, K_BAD, XP_E_FIELD, "ns_uuid"},
		{"generation", SET, 0, K_BAD, XP_E_FIELD, "generation"},
		{"ns_size", SET, 0, K_BAD, XP_E_FIELD, "ns_size"},
		{"ns_size", SET, NS_SIZE + 4096, K_BAD, XP_E_FIELD, "ns_size"},
		{"ns_size", SET, NS_SIZE - 4096, K_BAD, XP_E_FIELD, "ns_size"},
		{"ns_size", SET, UINT64_MAX, K_BAD, XP_E_FIELD, "ns_size"},
		{"phys_base", SET, 0x200000, K_BAD, XP_E_FIELD, "phys_base"},
		{"phys_base", SET, 0x1234, K_BAD, XP_E_FIELD, "phys_base", 0,
		 "compat", PK},
		{"phys_base", SET, UINT64_MAX, K_BAD, XP_E_FIELD, "phys_base", 0,
		 "compat", PK},
		{"phys_base", SET, 1ull << 57, K_BAD, XP_E_FIELD, "phys_base", 0,
		 "compat", PK},
		{"phys_base", SET, (1ull << 57) - NS_SIZE + 4096, K_BAD,
		 XP_E_FIELD, "phys_base", 0, "compat", PK},
		{"phys_base", SET, 0x1000, K_BAD, XP_E_FIELD,
		 layout_field(0x1000, NSLOTS, 21, true), 0, "compat", PK},
		{"phys_base", SET, 0x40000000, K_DIFF, XP_OK, NULL, -1, "compat",
		 PK},
		{"init_time", SET, 0, K_DIFF, XP_OK, NULL, -1},
		{"init_time", SET, UINT64_MAX, K_DIFF, XP_OK, NULL, -1},
		{"table_offset", SET, 0, K_BAD, XP_E_FIELD, "table_offset"},
		{"table_offset", SET, 8192 + 256, K_BAD, XP_E_FIELD,
		 "table_offset"},
		{"table_offset", SET, UINT64_MAX, K_BAD, XP_E_FIELD,
		 "table_offset"},
		{"slot_count", SET, 0, K_BAD, XP_E_FIELD, "slot_count"},
		{"slot_count", SET, XP_MAX_SLOTS + 1, K_BAD, XP_E_FIELD,
		 "slot_count"},
		{"slot_count", SET, UINT32_MAX, K_BAD, XP_E_FIELD, "slot_count"},
		{"slot_count", SET, XP_MAX_SLOTS, K_BAD, XP_E_FIELD,
		 layout_field(0, XP_MAX_SLOTS, 21, true)},
		/* The same layout with fewer slots: nothing fails, a tie. */
		{"slot_count", SET, NSLOTS - 1, K_DIFF, XP_OK, NULL, -1},
		/* ...with more: the blank ones behind the table are corrupt,
		 * so the unchanged copy is read. */
		{"slot_count", SET, 17, K_DIFF, XP_OK, NULL, 1},
		{"slot_size", SET, 128, K_BAD, XP_E_FIELD, "slot_size"},
		{"slot_size", SET, 0, K_BAD, XP_E_FIELD, "slot_size"},
		{"rec_size", SET, 0, K_BAD, XP_E_FIELD, "rec_size"},
		{"rec_size", SET, 256, K_BAD, XP_E_FIELD, "rec_size"},
		{"page_shift", SET, 0, K_BAD, XP_E_FIELD, "page_shift"},
		{"page_shift", SET, 13, K_BAD, XP_E_FIELD, "page_shift"},
		{"align_shift", SET, 0, K_BAD, XP_E_FIELD, "align_shift"},
		{"align_shift", SET, 12, K_BAD, XP_E_FIELD, "align_shift"},
		{"align_shift", SET, 20, K_BAD, XP_E_FIELD, "align_shift"},
		{"align_shift", SET, 22, K_BAD, XP_E_FIELD, "align_shift"},
		{"align_shift", SET, UINT32_MAX, K_BAD, XP_E_FIELD,
		 "align_shift"},
		{"align_shift", SET, 30, K_BAD, XP_E_FIELD, "ns_size"},
		{"chunk_shift", SET, 0, K_BAD, XP_E_FIELD, "management geometry"},
		{"chunk_shift", SET, 22, K_BAD, XP_E_FIELD,
		 "management geometry"},
		{"ft_entry", SET, 0, K_BAD, XP_E_FIELD, "management geometry"},
		{"ft_entry", SET, 64, K_BAD, XP_E_FIELD, "management geometry"},
		{"m2p_entry", SET, 4, K_BAD, XP_E_FIELD, "management geometry"},
		{"compat_entry", SET, 8, K_BAD, XP_E_FIELD,
		 "management geometry"},
		{"compat_entry", SET, 0, K_BAD, XP_E_FIELD,
		 "management geometry"},
		{"compat_limit_shift", SET, 39, K_BAD, XP_E_FIELD,
		 "management geometry"},
		/* A valid geometry without the compat M2P: one chunk less. */
		{"compat_entry", SET, 0, K_BAD, XP_E_FIELD,
		 layout_field(0, NSLOTS, 21, false), 0, "compat_limit_shift", 0},
		{"ft_chunks", SET, 0, K_BAD, XP_E_FIELD, "ft_chunks"},
		{"ft_chunks", SET, 2, K_BAD, XP_E_FIELD, "ft_chunks"},
		{"m2p_chunks", SET, 2, K_BAD, XP_E_FIELD, "m2p_chunks"},
		{"compat_chunks", SET, 0, K_BAD, XP_E_FIELD, "compat_chunks"},
		{"reserved1", SET, 1, K_BAD, XP_E_FIELD, "reserved"},
		{"mgmt_offset", SET, 0, K_BAD, XP_E_FIELD, "mgmt_offset"},
		{"mgmt_offset", SET, MO + 4096, K_BAD, XP_E_FIELD, "mgmt_offset"},
		{"mgmt_offset", SET, D, K_BAD, XP_E_FIELD, "mgmt_offset"},
		{"mgmt_offset", SET, UINT64_MAX, K_BAD, XP_E_FIELD,
		 "mgmt_offset"},
		{"mgmt_size", SET, 0, K_BAD, XP_E_FIELD, "mgmt_size"},
		{"mgmt_size", SET, MS + 4096, K_BAD, XP_E_FIELD, "mgmt_size"},
		{"mgmt_size", SET, UINT64_MAX, K_BAD, XP_E_FIELD, "mgmt_size"},
		{"data_offset", SET, 0, K_BAD, XP_E_FIELD, "data_offset"},
		{"data_offset", SET, MO, K_BAD, XP_E_FIELD, "data_offset"},
		{"data_offset", SET, D + 1, K_BAD, XP_E_FIELD, "data_offset"},
		{"data_offset", SET, D + 2 * MiB, K_BAD, XP_E_FIELD,
		 "data_offset"},
		{"data_offset", SET, D - 2 * MiB, K_BAD, XP_E_FIELD,
		 "data_offset"},
		{"data_offset", SET, NS_SIZE, K_BAD, XP_E_FIELD, "data_offset"},
		{"data_offset", SET, UINT64_MAX, K_BAD, XP_E_FIELD,
		 "data_offset"},
		{"data_size", SET, 0, K_BAD, XP_E_FIELD, "data_size"},
		{"data_size", SET, DS + 2 * MiB, K_BAD, XP_E_FIELD, "data_size"},
		{"data_size", SET, NS_SIZE, K_BAD, XP_E_FIELD, "data_size"},
		{"data_size", SET, UINT64_MAX, K_BAD, XP_E_FIELD, "data_size"},
		{"reserved", SET, 0, K_BAD, XP_E_FIELD, "reserved"},
		{"reserved", SET, 319, K_BAD, XP_E_FIELD, "reserved"},
		{"checksum", SET, 0, K_BAD, XP_E_CHECKSUM, "checksum", 0, NULL, 0,
		 true},
		{"checksum", SET, UINT64_MAX, K_BAD, XP_E_CHECKSUM, "checksum", 0,
		 NULL, 0, true},
	};
	char ctx[128], fix[96];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int copy = 0; copy < 2; copy++) {
			const struct sbcase *c = &cases[i];
			enum xp_fmt_status st;
			struct xp_sb out;
			const char *f;
			int use;
			unsigned before = xt_case_failures;

			restore();
			apply_sb(sbp(copy), c);
			snprintf(ctx, sizeof(ctx), "%s %s=%#" PRIx64 "%s%s",
				 sb_obj[copy], c->field, c->val,
				 c->field2 ? " with " : "",
				 c->field2 ? c->field2 : "");
			st = xp_sb_decode(sbp(copy), XP_SB_BLOCK, NS_SIZE, copy,
					  &out, &f);
			if (c->kind == K_BAD) {
				CHECK_MSG(st == c->st && f && c->fname &&
						  !strcmp(f, c->fname),
					  "%s: decode %s in %s, want %s in %s", ctx,
					  xp_fmt_strstatus(st), f ? f : "-",
					  xp_fmt_strstatus(c->st),
					  c->fname ? c->fname : "-");
				sb_one_bad(copy, c->fname, ctx);
				goto next;
			}
			/*
			 * Valid, same generation, but not the same block. No
			 * protocol step writes that and nothing says which
			 * copy is right: the reader goes with the table (a
			 * tie: the primary), writes are refused, the fix
			 * names the copy in use, and no repair writes until a
			 * copy is picked.
			 */
			CHECK_MSG(st == XP_OK, "%s: decode %s in %s", ctx,
				  xp_fmt_strstatus(st), f ? f : "-");
			use = c->use < 0 ? 0 : !copy;
			snprintf(fix, sizeof(fix),
				 "xenpmem check --repair --use-superblock %s (memory)",
				 copy_name[use]);
			expect_open_ro(V_PRISTINE, true, ctx);
			expect_open_w_refused(ctx, "differ", "check");
			expect_check(1, XP_SEV_ERROR, "superblock", "disagree", fix, ctx);
			expect_repair_refused(XP_CHECK_REPAIR, 1, ctx);
			expect_repair_refused(XP_CHECK_REPAIR | XP_CHECK_FORCE, 1,
					      ctx);
		next:
			if (xt_case_failures > before + 10)
				return;
		}
	}
	restore();
}

/* A blank (zeroed) copy: reported as blank, restored by repair. */
static void t_sb_blank_copy(void)
{
	for (int copy = 0; copy < 2; copy++) {
		restore();
		memset(sbp(copy), 0, XP_SB_BLOCK);
		sb_one_bad(copy, "blank", copy ? "blank backup" : "blank primary");
	}
	restore();
}

/* Both copies invalid: nothing can be used or restored. */
static void t_sb_both_bad(void)
{
	struct xp_ns *ns;
	struct findings fs;
	static const struct {
		const char *what;
		int mode[2];	/* 0 flip checksum, 1 field, 2 zero, 3 sig */
		int open_rc, check_rc;
	} cases[] = {
		{"checksum/checksum", {0, 0}, -EUCLEAN, 2},
		{"field/field", {1, 1}, -EUCLEAN, 2},
		{"checksum/field", {0, 1}, -EUCLEAN, 2},
		{"blank/checksum", {2, 0}, -EUCLEAN, 2},
		{"signature/field", {3, 1}, -EUCLEAN, 2},
		{"signature/signature", {3, 3}, -ENODATA, -ENODATA},
		{"blank/blank", {2, 2}, -ENODATA, -ENODATA},
		{"blank/signature", {2, 3}, -ENODATA, -ENODATA},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *ctx = cases[i].what;

		restore();
		for (int copy = 0; copy < 2; copy++) {
			uint8_t *b = sbp(copy);

			switch (cases[i].mode[copy]) {
			case 0: b[504] ^= 0x10; break;
			case 1: le_put(b + 168, 8, fx.sb.data_offset + 2 * MiB);
				sb_resum(b);
				break;
			case 2: memset(b, 0, XP_SB_BLOCK); break;
			case 3: b[0] ^= 0x20; break;
			}
		}
		tm_reset(fx.m);
		CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), cases[i].open_rc);
		if (cases[i].open_rc == -EUCLEAN)
			CHECK_CONTAINS(xp_last_error(), "check");
		else
			CHECK_CONTAINS(xp_last_error(), "not a xenpmem namespace");
		CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns),
			 cases[i].open_rc);
		CHECK_EQ_U64(tm_writes(fx.m), 0);
		if (cases[i].check_rc > 0) {
			/* No command restores from nothing: no fix. */
			CHECK_EQ_U64(run_check(fx.m, 0, &fs), 2);
			CHECK(findings_find(&fs, XP_SEV_ERROR, "superblock.primary") >= 0);
			CHECK(findings_find(&fs, XP_SEV_ERROR, "superblock.backup") >= 0);
			for (unsigned k = 0; k < fs.n; k++)
				CHECK_STR(fs.f[k].fix, "");
		} else {
			CHECK_RC(run_check(fx.m, 0, &fs), cases[i].check_rc);
		}
		expect_repair_refused(XP_CHECK_REPAIR, cases[i].check_rc, ctx);
		expect_repair_refused(XP_CHECK_REPAIR | XP_CHECK_FORCE,
				      cases[i].check_rc, ctx);
		if (cases[i].check_rc > 0) {
			run_check(fx.m, XP_CHECK_REPAIR, &fs);
			CHECK(findings_find_text(&fs, XP_SEV_NOTE, "superblock",
						 "neither copy") >= 0);
		}
	}
	restore();
}

/* Bytes 4 KiB..8 KiB must stay zero. */
static void t_zero_area(void)
{
	static const char sig[] = "NVDIMM_PFN_INFO";
	static const struct {
		unsigned off;
		const char *ctx;
	} cases[] = {{4096, "pfn signature"}, {8191, "last byte"}};
	struct findings fs;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *ctx = cases[i].ctx;

		restore();
		if (cases[i].off == 4096)
			memcpy(fx.img + 4096, sig, sizeof(sig));
		else
			fx.img[cases[i].off] = 1;
		expect_open_ro(V_PRISTINE, false, ctx);
		expect_check(1, XP_SEV_ERROR, "zero area", "not zero",
			     "xenpmem check --repair (memory)", ctx);
		tm_reset(fx.m);
		CHECK_RC(run_check(fx.m, XP_CHECK_REPAIR, &fs), 0);
		CHECK(findings_find(&fs, XP_SEV_FIXED, "zero area") >= 0);
		CHECK_EQ_U64(tm_writes(fx.m), 1);
		CHECK_MSG(pristine(), "%s: not pristine after repair", ctx);
		expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, ctx);
	}
	restore();
}

/* ---- extent records --------------------------------------------------------- */

/* The record copies worth corrupting. */
struct target {
	uint32_t slot;
	int copy;
	bool current;		/* the slot's current copy */
	enum view lost;		/* the view while the slot is corrupt */
	enum view back;		/* after --repair --force: its older copy */
	const char *obj;
};

#define T_ALPHA_CUR {0, 0, true, V_NO_ALPHA, V_ALPHA_BACK, "slot 0"}
#define T_ALPHA_OLD {0, 1, false, V_PRISTINE, V_PRISTINE, "slot 0"}
/* beta's older copy is init's free record: restoring it frees beta. */
#define T_BETA_CUR {1, 1, true, V_NO_BETA, V_NO_BETA, "slot 1"}
#define T_GAMMA_OLD {2, 1, false, V_PRISTINE, V_PRISTINE, "slot 2"}
#define T_DELTA_CUR {3, 1, true, V_NO_DELTA, V_DELTA_BACK, "slot 3"}
#define T_DELTA_OLD {3, 0, false, V_PRISTINE, V_PRISTINE, "slot 3"}

static const struct target targets[] = {
	T_ALPHA_CUR, T_ALPHA_OLD, T_BETA_CUR, T_GAMMA_OLD, T_DELTA_CUR,
	T_DELTA_OLD,
};

/* Exports of every listed extent get @want (0: lent ones -EINVAL). */
static void expect_exports(int want, const char *ctx)
{
	struct xp_ns *ns;

	if (xp_ns_open_media(fx.m, 0, &ns))
		return;
	for (uint32_t i = 0; i < xp_ns_extent_count(ns); i++) {
		struct xp_extent x;
		int rc;

		xp_ns_extent_get(ns, i, &x);
		rc = xp_extent_exportable(ns, &x);
		CHECK_MSG(rc == want, "%s: export of '%s': %d (%s)", ctx, x.name,
			  rc, xp_last_error());
	}
	xp_ns_close(ns);
}

/*
 * The current copy is damaged: the slot is corrupt until a forced repair
 * restores its older copy (@back). The older copy is damaged: the slot
 * goes on with its current copy, check reports it, --repair rewrites it.
 */
static void rec_bad(const struct target *t, const char *field, const char *ctx)
{
	uint64_t off = xp_slot_offset(t->slot) + (uint64_t)t->copy * XP_REC_SIZE;
	struct findings fs;
	int rc;

	if (!t->current) {
		expect_open_ro(V_PRISTINE, false, ctx);
		expect_exports(0, ctx);
		expect_open_w_ok(V_PRISTINE, ctx);
		expect_check(1, XP_SEV_ERROR, t->obj, "older copy",
			     "xenpmem check --repair (memory)", ctx);
		expect_check(1, XP_SEV_ERROR, t->obj, field, NULL, ctx);
		tm_reset(fx.m);
		rc = run_check(fx.m, XP_CHECK_REPAIR, &fs);
		CHECK_MSG(rc == 0, "%s: repair returned %d", ctx, rc);
		CHECK(findings_find(&fs, XP_SEV_FIXED, t->obj) >= 0);
		CHECK_MSG(tm_rewrote_copy(fx.m, off, off + XP_REC_SIZE, off),
			  "%s: the repair wrote elsewhere", ctx);
		expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, ctx);
		expect_open_w_ok(V_PRISTINE, ctx);
		return;
	}
	expect_open_ro(t->lost, true, ctx);
	expect_exports(-EUCLEAN, ctx);
	expect_open_w_refused(ctx, "corrupt", "check");
	expect_check(1, XP_SEV_ERROR, t->obj, "newer copy",
		     "xenpmem check --repair --force (memory)", ctx);
	expect_check(1, XP_SEV_ERROR, t->obj, field, NULL, ctx);
	expect_repair_refused(XP_CHECK_REPAIR, 1, ctx);
	/* Force without repair is still read-only. */
	expect_repair_refused(XP_CHECK_FORCE, 1, ctx);
	tm_reset(fx.m);
	rc = run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs);
	CHECK_MSG(rc == 0, "%s: forced repair returned %d", ctx, rc);
	CHECK(findings_find_text(&fs, XP_SEV_FIXED, t->obj, "restored") >= 0);
	CHECK_MSG(tm_rewrote_copy(fx.m, off, off + XP_REC_SIZE, off),
		  "%s: the forced repair wrote elsewhere", ctx);
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, ctx);
	expect_open_w_ok(t->back, ctx);
}

struct reccase {
	const char *field;
	unsigned off, len;	/* payload field */
	uint64_t val;
	enum xp_fmt_status st;
	const char *fname;
	const char *name;	/* for the name: the 32 bytes to store */
	size_t name_len;
	bool no_resum;		/* leave the checksum as it was */
};

static void apply_rec(uint32_t slot, uint8_t *r, const struct reccase *c)
{
	uint8_t pl[XP_REC_PAYLOAD];

	xp_rec_gather(r, pl);
	if (c->name) {
		memset(pl + PL_NAME, 0, 32);
		memcpy(pl + PL_NAME, c->name, c->name_len);
	} else if (c->off == PL_UUID || c->off == PL_OWNER) {
		memset(pl + c->off, (int)c->val, 16);
	} else {
		le_put(pl + c->off, c->len, c->val);
	}
	if (!strcmp(c->field, "lent+owner")) {
		pl[PL_TYPE] = XP_REC_LENT_RAM;
		memset(pl + PL_OWNER, 0x33, 16);
	}
	if (c->no_resum)
		xp_rec_scatter(pl, r[7], r);
	else
		rec_seal(fx.sb.ns_uuid, slot, pl, r[7], r);
}

static void t_rec_fields(void)
{
	const uint64_t D = fx.D, E = fx.E;
	static const char n32[32] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const struct reccase cases[] = {
		{"magic", PL_MAGIC, 4, 0, XP_E_SIGNATURE, "magic"},
		{"magic", PL_MAGIC, 4, XP_REC_MAGIC + 1, XP_E_SIGNATURE, "magic"},
		{"magic", PL_MAGIC, 4, UINT32_MAX, XP_E_SIGNATURE, "magic"},
		{"type", PL_TYPE, 1, 3, XP_E_FIELD, "type"},
		{"type", PL_TYPE, 1, 0xff, XP_E_FIELD, "type"},
		{"type", PL_TYPE, 1, XP_REC_FREE, XP_E_FIELD,
		 "free record payload"},
		{"lent+owner", PL_TYPE, 1, XP_REC_LENT_RAM, XP_E_FIELD, "owner"},
		{"flags", PL_FLAGS, 2, 1, XP_E_FIELD, "flags"},
		{"flags", PL_FLAGS, 2, 0x8000, XP_E_FIELD, "flags"},
		{"flags", PL_FLAGS, 2, 0xffff, XP_E_FIELD, "flags"},
		{"align_shift", PL_ALIGN, 1, 0, XP_E_FIELD, "align_shift"},
		{"align_shift", PL_ALIGN, 1, 12, XP_E_FIELD, "align_shift"},
		{"align_shift", PL_ALIGN, 1, 20, XP_E_FIELD, "align_shift"},
		{"align_shift", PL_ALIGN, 1, 22, XP_E_FIELD, "align_shift"},
		{"align_shift", PL_ALIGN, 1, 0xff, XP_E_FIELD, "align_shift"},
		{"align_shift", PL_ALIGN, 1, 30, XP_E_FIELD, "size"},
		{"offset", PL_OFFSET, 8, 0, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, 8192, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, D - 2 * MiB, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, D + 4096, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, D + 1, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, E, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, NS_SIZE - 4096, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, NS_SIZE, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, UINT64_MAX, XP_E_FIELD, "offset"},
		{"offset", PL_OFFSET, 8, UINT64_MAX - 2 * MiB + 1, XP_E_FIELD,
		 "offset"},
		{"size", PL_SIZE, 8, 0, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, 4096, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, 2 * MiB + 4096, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, E - D + 2 * MiB, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, NS_SIZE, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, UINT64_MAX, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, UINT64_MAX - 2 * MiB + 1, XP_E_FIELD, "size"},
		{"size", PL_SIZE, 8, 1ull << 63, XP_E_FIELD, "size"},
		{"label_size", PL_LABEL, 8, 1, XP_E_FIELD, "label_size"},
		{"label_size", PL_LABEL, 8, 4 * MiB, XP_E_FIELD, "label_size"},
		{"label_size", PL_LABEL, 8, 1ull << 40, XP_E_FIELD, "label_size"},
		{"label_size", PL_LABEL, 8, UINT64_MAX, XP_E_FIELD, "label_size"},
		{"uuid", PL_UUID, 16, 0, XP_E_FIELD, "uuid"},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "", 0},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "-x", 2},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "a b", 3},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "a/b", 3},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "a\nb", 3},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "@1", 2},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", ".", 1},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "..", 2},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "\xff", 1},
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", n32, 32}, /* no NUL */
		{"name", PL_NAME, 0, 0, XP_E_FIELD, "name", "ab\0c", 4},
		{"checksum", PL_CHECKSUM, 8, 0, XP_E_CHECKSUM, NULL, NULL, 0,
		 true},
		{"checksum", PL_CHECKSUM, 8, UINT64_MAX, XP_E_CHECKSUM, NULL,
		 NULL, 0, true},
	};
	char ctx[128];

	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		for (size_t ti = 0; ti < sizeof(targets) / sizeof(targets[0]);
		     ti++) {
			const struct target *t = &targets[ti];
			const struct reccase *c = &cases[ci];
			uint8_t *r = recp(t->slot, t->copy);
			struct xp_rec out;
			const char *f;
			enum xp_fmt_status st;
			unsigned before = xt_case_failures;

			restore();
			apply_rec(t->slot, r, c);
			snprintf(ctx, sizeof(ctx), "slot %u copy %d %s=%#" PRIx64 "%s%.*s",
				 t->slot, t->copy, c->field, c->val,
				 c->name ? " name " : "", (int)c->name_len,
				 c->name ? c->name : "");
			st = xp_rec_decode(&fx.sb, t->slot, r, &out, &f);
			CHECK_MSG(st == c->st &&
					  (c->fname ? f && !strcmp(f, c->fname) :
						      !f),
				  "%s: decode %s in %s, want %s in %s", ctx,
				  xp_fmt_strstatus(st), f ? f : "-",
				  xp_fmt_strstatus(c->st),
				  c->fname ? c->fname : "-");
			rec_bad(t, c->fname ? c->fname : "checksum", ctx);
			if (xt_case_failures > before + 10)
				return;
		}
	}
	restore();
}

/* A copy with a valid checksum but seq 0 is invalid and, by its seq,
 * older: when it was the current copy the slot goes back to the other
 * copy, and check reports the damaged one as an error. */
static void t_rec_seq_zero(void)
{
	const struct target alpha_old = T_ALPHA_OLD;
	struct xp_ns *ns;

	restore();
	rec_set(fx.sb.ns_uuid, 0, recp(0, 0), PL_SEQ, 8, 0);
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		expect_view(ns, V_ALPHA_BACK, "seq 0");
		CHECK(ns->slots[0].stale_damaged);
		xp_ns_close(ns);
	}
	expect_check(1, XP_SEV_ERROR, "slot 0", "older copy 0",
		     "xenpmem check --repair (memory)", "seq 0");
	expect_check(1, XP_SEV_ERROR, "slot 0", "seq", NULL, "seq 0");
	/* The older copy with seq 0: as any damaged older copy. */
	restore();
	rec_set(fx.sb.ns_uuid, 0, recp(0, 1), PL_SEQ, 8, 0);
	rec_bad(&alpha_old, "seq", "older copy seq 0");
	restore();
}

/* Records from elsewhere: another namespace, another slot. */
static void t_rec_foreign(void)
{
	const struct target alpha_cur = T_ALPHA_CUR, delta_old = T_DELTA_OLD;
	struct xp_sb other = fx.sb;
	struct xp_slot s;

	other.ns_uuid[15] ^= 0x80;
	/* alpha's current record, sealed for another namespace UUID. */
	restore();
	xp_slot_decode(&fx.sb, 0, recp(0, 0), &s);
	CHECK_EQ_U64(s.state, XP_SLOT_USED);
	CHECK_EQ_U64(s.active, 0);
	xp_rec_encode(&other, 0, &s.rec, recp(0, 0));
	rec_bad(&alpha_cur, "checksum", "current record from another namespace");
	/* delta2's older record, from another namespace. */
	restore();
	xp_slot_decode(&fx.sb, 3, recp(3, 0), &s);
	s.rec.size = 2 * MiB;
	s.rec.seq = 3;
	xp_rec_encode(&other, 3, &s.rec, recp(3, 0));
	rec_bad(&delta_old, "checksum", "older record from another namespace");
	/* delta2's current copy copied over slot 4's blank copy 1: its
	 * checksum binds it to slot 3; as a damaged copy newer than slot
	 * 4's free record it makes slot 4 corrupt (it may describe an
	 * extent); the forced repair restores the free record. */
	{
		struct xp_ns *ns;
		struct findings fs;
		struct xp_info in;

		restore();
		memcpy(recp(4, 1), recp(3, 1), XP_REC_SIZE);
		expect_open_ro(V_PRISTINE, true, "record copied to slot 4");
		CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
		if (ns) {
			xp_ns_get_info(ns, &in);
			CHECK_EQ_U64(in.corrupt_slots, 1);
			CHECK_EQ_U64(in.free_bytes, 0);
			xp_ns_close(ns);
		}
		expect_open_w_refused("record copied to slot 4", "corrupt", NULL);
		expect_check(1, XP_SEV_ERROR, "slot 4", "newer copy 1",
			     "xenpmem check --repair --force (memory)",
			     "record copied to slot 4");
		CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs),
			     0);
		CHECK(findings_find_text(&fs, XP_SEV_FIXED, "slot 4", "free") >= 0);
		expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "slot 4 repaired");
		expect_open_w_ok(V_PRISTINE, "slot 4 repaired");
	}
	/* Both copies of alpha bad: no valid copy; the forced repair frees
	 * the slot (nothing certain to restore). */
	{
		struct findings fs;

		restore();
		recp(0, 0)[70] ^= 1;
		recp(0, 1)[8] ^= 1;
		expect_open_ro(V_NO_ALPHA, true, "both copies of slot 0");
		expect_check(1, XP_SEV_ERROR, "slot 0", "no valid copy",
			     "xenpmem check --repair --force (memory)",
			     "both copies of slot 0");
		expect_repair_refused(XP_CHECK_REPAIR, 1, "both copies");
		CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs),
			     0);
		CHECK(findings_find_text(&fs, XP_SEV_FIXED, "slot 0", "freed") >= 0);
		expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "both copies");
		expect_open_w_ok(V_NO_ALPHA, "both copies");
	}
	restore();
}

/* Two valid copies with the same seq cannot come from the protocol. */
static void t_rec_equal_seq(void)
{
	struct findings fs;

	/* alpha's current copy (seq 3) takes its older copy's seq, 2. */
	restore();
	rec_set(fx.sb.ns_uuid, 0, recp(0, 0), PL_SEQ, 8, 2);
	expect_open_ro(V_NO_ALPHA, true, "equal seq");
	expect_open_w_refused("equal seq", "corrupt", NULL);
	expect_check(1, XP_SEV_ERROR, "slot 0", "same seq",
		     "xenpmem check --repair --force (memory)", "equal seq");
	expect_repair_refused(XP_CHECK_REPAIR, 1, "equal seq");
	CHECK_EQ_U64(run_check(fx.m, XP_CHECK_REPAIR | XP_CHECK_FORCE, &fs), 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "slot 0") >= 0);
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "equal seq repaired");
	expect_open_w_ok(V_NO_ALPHA, "equal seq repaired");
	restore();
}

/* Valid crafted records are simply the state: no finding. */
static void t_rec_valid_crafted(void)
{
	struct xp_ns *ns;
	struct xp_extent x;
	uint8_t pl[XP_REC_PAYLOAD];

	/* Any owner UUID is valid. */
	restore();
	xp_rec_gather(recp(0, 0), pl);
	memcpy(pl + PL_OWNER, uuid_n(9), 16);
	rec_seal(fx.sb.ns_uuid, 0, pl, recp(0, 0)[7], recp(0, 0));
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "another owner");
	CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_extent_find(ns, "alpha", &x), 0);
		CHECK(!memcmp(x.owner, uuid_n(9), 16));
		xp_ns_close(ns);
	}
	/* beta as lent-ram (type 2, no owner). */
	restore();
	rec_set(fx.sb.ns_uuid, 1, recp(1, 1), PL_TYPE, 1, XP_REC_LENT_RAM);
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "beta lent");
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_extent_find(ns, "beta", &x), 0);
		CHECK_EQ_U64(x.state, XP_EXTENT_LENT_RAM);
		xp_ns_close(ns);
	}
	/* Tags are outside the checksum: mixed tags on a valid copy are
	 * still that copy. */
	restore();
	recp(0, 0)[7] ^= 0x40;
	recp(0, 0)[15 * 8 + 7] = 0;
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "mixed tags, valid");
	expect_open_w_ok(V_PRISTINE, "mixed tags, valid");
	/* seq at the top: valid, but no further update is possible. */
	restore();
	rec_set(fx.sb.ns_uuid, 0, recp(0, 0), PL_SEQ, 8, UINT64_MAX);
	expect_check(0, XP_SEV_ERROR, NULL, NULL, NULL, "seq max");
	CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), 0);
	if (ns) {
		tm_reset(fx.m);
		CHECK_RC(xp_extent_assign(ns, "alpha", uuid_n(1)), -EUCLEAN);
		CHECK_CONTAINS(xp_last_error(), "sequence number exhausted");
		CHECK_RC(xp_extent_destroy(ns, "alpha", XP_FORCE), -EUCLEAN);
		CHECK_CONTAINS(xp_last_error(), "sequence number exhausted");
		CHECK_EQ_U64(tm_writes(fx.m), 0);
		CHECK_RC(xp_extent_assign(ns, "beta", uuid_n(1)), 0);
		xp_ns_close(ns);
	}
	restore();
}

/* Read-only check never writes: full-image comparison on a messy image;
 * repair mends what has a certain source and leaves the rest. */
static void t_check_readonly_full(void)
{
	uint8_t *copy = malloc(NS_SIZE);
	struct findings fs;
	struct xp_rec r;

	if (!copy)
		exit(2);
	restore();
	sbp(0)[100] ^= 4;			/* primary bad */
	fx.img[4096 + 17] = 9;			/* zero area */
	recp(1, 1)[30] ^= 1;			/* beta's current: corrupt */
	recp(0, 1)[30] ^= 1;			/* alpha's older copy */
	memset(&r, 0, sizeof(r));		/* over alpha: overlap */
	r.seq = 2;
	r.type = XP_REC_DATA;
	r.align_shift = 21;
	r.offset = fx.D;
	r.size = 2 * MiB;
	memset(r.uuid, 0x42, 16);
	strcpy(r.name, "evil");
	xp_rec_encode(&fx.sb, 5, &r, recp(5, 1));
	memcpy(copy, fx.img, NS_SIZE);
	tm_reset(fx.m);
	CHECK_RC(run_check(fx.m, 0, &fs), 5);
	CHECK(findings_find(&fs, XP_SEV_ERROR, "superblock.primary") >= 0);
	CHECK(findings_find(&fs, XP_SEV_ERROR, "zero area") >= 0);
	CHECK(findings_find_text(&fs, XP_SEV_ERROR, "slot 1", "newer copy") >= 0);
	CHECK(findings_find_text(&fs, XP_SEV_ERROR, "slot 0", "older copy") >= 0);
	CHECK(findings_find_text(&fs, XP_SEV_ERROR, "slots 0,5", "overlap") >= 0);
	CHECK_EQ_U64(findings_errors_without_fix(&fs, NULL), 0);
	CHECK_RC(run_check(fx.m, XP_CHECK_FORCE, &fs), 5);
	CHECK_RC(run_check(fx.m, XP_CHECK_USE_BACKUP, &fs), 5);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	CHECK(!memcmp(copy, fx.img, NS_SIZE));
	/* Repair mends the superblock, the zero area and alpha's older
	 * copy; the corrupt slot and the overlap stay. */
	CHECK_RC(run_check(fx.m, XP_CHECK_REPAIR, &fs), 2);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "superblock.primary") >= 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "zero area") >= 0);
	CHECK(findings_find(&fs, XP_SEV_FIXED, "slot 0") >= 0);
	CHECK(sb_blocks_at(2));
	for (unsigned i = 4096; i < 8192; i++)
		if (fx.img[i]) {
			CHECK_MSG(0, "zero area byte %u", i);
			break;
		}
	CHECK_RC(run_check(fx.m, 0, &fs), 2);
	free(copy);
	restore();
}

/* ---- xp_parse_size -------------------------------------------------------------- */

static void t_parse_size(void)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{"4096", 0, 4096},
		{"0", 0, 0},
		{"4K", 0, 4096},
		{"4k", 0, 4096},
		{"64M", 0, 64ull << 20},
		{"2G", 0, 2ull << 30},
		{"1T", 0, 1ull << 40},
		{"1P", 0, 1ull << 50},
		{"64MiB", 0, 64ull << 20},
		{"64MB", 0, 64ull << 20},
		{"2GiB", 0, 2ull << 30},
		{"18446744073709551615", 0, UINT64_MAX},
		{"16777215T", 0, 16777215ull << 40},
		{"-1", -EINVAL, 0},
		{"1.5G", -EINVAL, 0},
		{"", -EINVAL, 0},
		{"G", -EINVAL, 0},
		{"12Q", -EINVAL, 0},
		{"0x10", -EINVAL, 0},
		{" 64M", -EINVAL, 0},
		{"64M ", -EINVAL, 0},
		{"64 M", -EINVAL, 0},
		{"64Mi", -EINVAL, 0},
		{"64MiBs", -EINVAL, 0},
		{"64MM", -EINVAL, 0},
		{"+64", -EINVAL, 0},
		{"99999999T", -ERANGE, 0},
		{"16777216T", -ERANGE, 0},
		{"16384P", -ERANGE, 0},
		{"18446744073709551616", -ERANGE, 0},
		{"99999999999999999999999", -ERANGE, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int rc = xp_parse_size(cases[i].s, &v);

		CHECK_MSG(rc == cases[i].rc, "\"%s\": rc %d, want %d", cases[i].s, rc,
			  cases[i].rc);
		if (!cases[i].rc)
			CHECK_MSG(v == cases[i].v, "\"%s\": %" PRIu64 ", want %" PRIu64,
				  cases[i].s, v, cases[i].v);
		else
			CHECK_MSG(v == 0xdeadbeef, "\"%s\": output written on error",
				  cases[i].s);
	}
	CHECK_RC(xp_parse_size(NULL, &(uint64_t){0}), -EINVAL);
}

/*
 * The snapshots above cover [0, mgmt_offset) and the backup superblock;
 * the management area, the padding behind it and the data area were zero
 * at init and no case writes there on purpose: after everything, they
 * still are (what any stray write of the library would have changed).
 */
static void t_untouched(void)
{
	lt_expect_zero(fx.img, fx.head, NS_SIZE - XP_SB_BLOCK);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	if (fixture()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(t_parse_size);
	RUN(t_sb_bitflips);
	RUN(t_sb_block_tail);
	RUN(t_sb_fields);
	RUN(t_sb_blank_copy);
	RUN(t_sb_both_bad);
	RUN(t_zero_area);
	RUN(t_rec_fields);
	RUN(t_rec_seq_zero);
	RUN(t_rec_foreign);
	RUN(t_rec_equal_seq);
	RUN(t_rec_valid_crafted);
	RUN(t_check_readonly_full);
	RUN(t_untouched);
	xp_media_close(fx.m);
	img_free(fx.img, NS_SIZE);
	meta_free(&fx.pristine);
	return xt_finish();
}
