/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Dom0 library's full open path (format 2.0) on a
 * hostile image. The input becomes an in-memory namespace image (layout in
 * fuzz_common.h); it is opened read-only through xp_media_mem_new() +
 * xp_ns_open_media(), and everything the library derives is checked against
 * the table itself: extents inside the data area, physically aligned, in
 * offset order, never overlapping when no rule is broken; no free space at
 * all while a slot is corrupt; the rule violations each extent is flagged
 * with equal a brute-force check; damage and export refusals agree with
 * the state. When the input asks, the image is opened for writing (which
 * must succeed exactly when the metadata is whole) and an extent is
 * created, assigned, lent, renamed and destroyed; or it is repaired (check
 * --repair --force, optionally choosing a superblock) and re-checked: what
 * repair does not fix it must have said it could not.
 *
 * Triage: FZ_VERBOSE=1 prints every check finding, FZ_STATS=1 prints at
 * exit how often each oracle ran (e.g. ./fuzz_open -runs=0 CORPUS).
 */
#include "fuzz_common.h"
#include "xp_internal.h"

#include <errno.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHUNK (2 * FZ_MiB)

static const uint8_t owner_a[16] = {0x0d, 0x15, 0xea, 0x5e, 0x00, 0x01,
				    0x40, 0x00, 0x80, 0x00, 0x12, 0x34,
				    0x56, 0x78, 0x9a, 0xbc};

/*
 * Images live at the end of one lazily backed mapping with a guard page
 * behind it (a read past an image's end faults), and only the ranges an
 * input or the library wrote are zeroed again afterwards.
 */
static uint8_t *arena;
static struct {
	uint64_t off, len;
} dirty[64];
static unsigned ndirty;
static bool dirty_all;
static const struct xp_media_ops *mem_ops;
static struct xp_media_ops track_ops;
static uint64_t cur_img_off, cur_isz;
/* FZ_VERBOSE=1 in the environment prints every finding (triage). */
static bool verbose;
/* FZ_STATS=1: how often each oracle ran, printed at exit. */
static struct {
	unsigned long opened, extents, corrupt, broken, unresolved, writable,
		created, lent, repaired, clean_after;
} st;

static void print_stats(void)
{
	fprintf(stderr,
		"fuzz_open: %lu opened, %lu extents walked, %lu with corrupt slots, %lu with broken rules, %lu unresolved; %lu writable, %lu created, %lu lent+destroyed; %lu repaired, %lu clean after\n",
		st.opened, st.extents, st.corrupt, st.broken, st.unresolved,
		st.writable, st.created, st.lent, st.repaired, st.clean_after);
}

static void note(uint64_t img_off, uint64_t off, uint64_t len)
{
	if (ndirty == sizeof(dirty) / sizeof(dirty[0])) {
		dirty_all = true;
		return;
	}
	dirty[ndirty].off = img_off + off;
	dirty[ndirty].len = len;
	ndirty++;
}

static int track_write(struct xp_media *m, uint64_t off, const void *buf,
		       size_t len)
{
	if (off <= cur_isz && len <= cur_isz - off)
		note(cur_img_off, off, len);
	return mem_ops->write(m, off, buf, len);
}

static int track_zero(struct xp_media *m, uint64_t off, uint64_t len,
		      xp_progress_fn progress, void *arg)
{
	if (off <= cur_isz && len <= cur_isz - off)
		note(cur_img_off, off, len);
	return mem_ops->zero(m, off, len, progress, arg);
}

static void zero_range(uint64_t off, uint64_t len)
{
	const uint64_t pg = 4096;

	if (len <= FZ_MiB) {
		memset(arena + off, 0, len);
		return;
	}
	/* large: give the pages back (they read as zero again) */
	{
		uint64_t s = (off + pg - 1) & ~(pg - 1);
		uint64_t e = (off + len) & ~(pg - 1);

		memset(arena + off, 0, s - off);
		memset(arena + e, 0, off + len - e);
		if (e > s)
			FZ_ASSERT(!madvise(arena + s, e - s, MADV_DONTNEED),
				  "madvise");
	}
}

static void clean_arena(void)
{
	if (dirty_all)
		zero_range(0, FZ_OPEN_MAX_IMAGE);
	else
		for (unsigned i = 0; i < ndirty; i++)
			zero_range(dirty[i].off, dirty[i].len);
	ndirty = 0;
	dirty_all = false;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	void *p;

	(void)argc;
	(void)argv;
	verbose = getenv("FZ_VERBOSE") != NULL;
	if (getenv("FZ_STATS"))
		atexit(print_stats);
	unsetenv("XENPMEM_BADBLOCKS_FILE");
	p = mmap(NULL, FZ_OPEN_MAX_IMAGE + 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		abort();
	arena = p;
	if (mprotect(arena + FZ_OPEN_MAX_IMAGE, 4096, PROT_NONE))
		abort();
	return 0;
}

static uint64_t image_size(const uint8_t *data, size_t size, uint8_t flags)
{
	uint64_t s;

	if ((flags & FZ_OPEN_SIZE_FROM_SB) &&
	    size >= FZ_OPEN_HDR + XP_SB_BLOCK) {
		s = fz_le(data + FZ_OPEN_HDR + 64, 8);
		if (s % XP_PAGE_SIZE == 0 && s >= FZ_OPEN_MIN_IMAGE &&
		    s <= FZ_OPEN_MAX_IMAGE)
			return s;
	}
	s = fz_le(data + 1, 3) << 12;
	if (s < FZ_OPEN_MIN_IMAGE)
		s = FZ_OPEN_MIN_IMAGE;
	if (s > FZ_OPEN_MAX_IMAGE)
		s = FZ_OPEN_MAX_IMAGE;
	return s;
}

static bool find_ok(struct xp_ns *ns, const char *name, struct xp_extent *e)
{
	return xp_ns_extent_find(ns, name, e) == 0;
}

/* Everything a read-only open derived, against the table itself. */
static void walk(struct xp_ns *ns)
{
	const struct xp_sb *sb = &ns->sb;
	uint64_t data_end = sb->data_offset + sb->data_size;
	uint64_t prev_off = 0, prev_end = sb->data_offset, used = 0, free_b = 0;
	uint32_t n = xp_ns_extent_count(ns), g = xp_ns_gap_count(ns);
	uint32_t ncorrupt = 0, nused = 0;
	bool any_rule = false;
	const char *dmg;
	struct xp_info info;
	struct xp_extent e, f;
	struct xp_gap gap;
	char sel[16];
	static bool inv[XP_MAX_SLOTS];

	FZ_ASSERT(xp_ns_get_info(ns, &info) == 0, "get_info");
	st.opened++;
	st.extents += n;
	st.corrupt += ns->ncorrupt > 0;
	st.broken += ns->npairs > 0;
	st.unresolved += ns->sb_unresolved;
	FZ_ASSERT(info.extent_count == n && n <= sb->slot_count,
		  "extent_count %u/%u", info.extent_count, n);
	FZ_ASSERT(info.corrupt_slots == ns->ncorrupt &&
		  info.violations == ns->npairs, "info damage counts");
	FZ_ASSERT(info.major == XP_FMT_MAJOR, "major");
	FZ_ASSERT(info.ft_offset == sb->mgmt_offset &&
		  info.m2p_offset == info.ft_offset + info.ft_chunks * CHUNK &&
		  info.compat_offset ==
			  info.m2p_offset + info.m2p_chunks * CHUNK &&
		  info.compat_offset + info.compat_chunks * CHUNK ==
			  sb->mgmt_offset + sb->mgmt_size &&
		  sb->mgmt_offset + sb->mgmt_size <= sb->data_offset,
		  "management sub-arrays");
	FZ_ASSERT((info.mgmt == XP_MGMT_NONE) == xp_mgmt_geom_none(&sb->geom) &&
		  info.compat_m2p == (sb->geom.compat_entry != 0), "mgmt mode");

	/* the table itself: corrupt slots and the rules, brute force */
	for (uint32_t i = 0; i < sb->slot_count; i++) {
		inv[i] = false;
		ncorrupt += ns->slots[i].state == XP_SLOT_CORRUPT;
		nused += ns->slots[i].state == XP_SLOT_USED;
	}
	FZ_ASSERT(ncorrupt == ns->ncorrupt, "ncorrupt %u, slots %u",
		  ns->ncorrupt, ncorrupt);
	FZ_ASSERT(nused == n, "%u extents, %u used slots", n, nused);
	for (uint32_t a = 0; a < n; a++)
		for (uint32_t b = a + 1; b < n; b++) {
			uint32_t i = ns->order[a], j = ns->order[b];

			if (fz_rules(&ns->slots[i].rec, &ns->slots[j].rec)) {
				inv[i] = inv[j] = true;
				any_rule = true;
			}
		}
	FZ_ASSERT((ns->npairs > 0) == any_rule, "npairs %u, brute force %d",
		  ns->npairs, any_rule);

	for (uint32_t i = 0; i < n; i++) {
		FZ_ASSERT(xp_ns_extent_get(ns, i, &e) == 0, "extent_get %u", i);
		FZ_ASSERT(e.slot < sb->slot_count, "slot");
		FZ_ASSERT(e.offset >= sb->data_offset && e.size > 0 &&
			  e.offset + e.size <= data_end,
			  "extent %u outside the data area", i);
		FZ_ASSERT(e.offset >= prev_off, "extents not in offset order");
		FZ_ASSERT((e.align == 2 * FZ_MiB || e.align == FZ_GiB) &&
			  (sb->phys_base + e.offset) % e.align == 0 &&
			  e.size % e.align == 0, "extent %u unaligned", i);
		FZ_ASSERT(e.label_size < e.size, "label");
		FZ_ASSERT(e.nr_frames == e.size >> 12, "nr_frames");
		FZ_ASSERT(strnlen(e.name, sizeof(e.name)) < sizeof(e.name) &&
			  xp_extent_name_valid(e.name), "name");
		FZ_ASSERT(e.state == XP_EXTENT_DATA ||
			  e.state == XP_EXTENT_LENT_RAM, "state %d", e.state);
		FZ_ASSERT(e.assigned == !fz_zero(e.owner, 16), "assigned");
		FZ_ASSERT(e.state != XP_EXTENT_LENT_RAM || !e.assigned,
			  "lent as RAM and assigned");
		FZ_ASSERT(e.violation == inv[e.slot],
			  "extent @%u: violation %d, brute force %d", e.slot,
			  e.violation, inv[e.slot]);
		snprintf(sel, sizeof(sel), "@%u", e.slot);
		FZ_ASSERT(find_ok(ns, sel, &f) && f.slot == e.slot, "find %s", sel);
		if (!ns->npairs) {
			FZ_ASSERT(e.offset >= prev_end, "extents overlap");
			FZ_ASSERT(find_ok(ns, e.name, &f) && f.slot == e.slot,
				  "find '%s'", e.name);
		}
		{
			int rc = xp_extent_exportable(ns, &e);
			bool refuse = ns->moved || ns->ncorrupt ||
				      ns->sb_unresolved || e.violation;

			if (refuse)
				FZ_ASSERT(rc == -EUCLEAN, "exported @%u: %d",
					  e.slot, rc);
			else if (e.state == XP_EXTENT_LENT_RAM)
				FZ_ASSERT(rc == -EINVAL, "exported lent @%u", e.slot);
			else
				FZ_ASSERT(rc == 0, "not exported @%u: %s", e.slot,
					  xp_last_error());
		}
		prev_off = e.offset;
		if (e.offset + e.size > prev_end)
			prev_end = e.offset + e.size;
		used += e.size;
	}
	FZ_ASSERT(xp_ns_extent_get(ns, n, &e) != 0, "extent_get past end");

	/* gaps: none at all while a slot is corrupt */
	if (ns->ncorrupt)
		FZ_ASSERT(g == 0 && info.free_bytes == 0 &&
			  info.largest_free == 0,
			  "%u gaps, %llu bytes free with %u corrupt slots", g,
			  (unsigned long long)info.free_bytes, ns->ncorrupt);
	prev_end = sb->data_offset;
	for (uint32_t i = 0; i < g; i++) {
		FZ_ASSERT(xp_ns_gap_get(ns, i, &gap) == 0, "gap_get");
		FZ_ASSERT(gap.size > 0 && gap.offset >= prev_end &&
			  gap.offset + gap.size <= data_end, "gap %u", i);
		for (uint32_t k = 0; k < n; k++) {
			xp_ns_extent_get(ns, k, &e);
			FZ_ASSERT(gap.offset + gap.size <= e.offset ||
				  e.offset + e.size <= gap.offset,
				  "gap %u overlaps extent %u", i, k);
		}
		prev_end = gap.offset + gap.size;
		free_b += gap.size;
	}
	FZ_ASSERT(info.free_bytes == free_b, "free_bytes");
	if (!ns->ncorrupt && !ns->npairs)
		FZ_ASSERT(used + free_b == sb->data_size,
			  "used %llu + free %llu != data %llu",
			  (unsigned long long)used, (unsigned long long)free_b,
			  (unsigned long long)sb->data_size);

	dmg = xp_ns_damage(ns);
	FZ_ASSERT((dmg != NULL) == (ns->ncorrupt || ns->npairs ||
				    ns->sb_unresolved || ns->moved),
		  "damage line: %s", dmg ? dmg : "(none)");
}

struct tally {
	int errors;
	bool lenient;	/* repair could not settle everything */
	char bad_object[64];
	char bad_text[200];
	/* objects whose repair said it failed (repair run), NUL-separated */
	char failed[4096];
	size_t nfailed;
	const struct tally *repair;	/* the repair run, for the re-check */
};

static bool repair_failed(const struct tally *t, const char *object)
{
	for (size_t i = 0; t && i < t->nfailed;) {
		if (!strcmp(t->failed + i, object))
			return true;
		i += strlen(t->failed + i) + 1;
	}
	return false;
}

static void count(const struct xp_finding *f, void *arg)
{
	struct tally *t = arg;
	size_t n = strlen(f->object) + 1;

	if (verbose)
		fprintf(stderr, "  %s %s: %s%s%s\n",
			f->severity == XP_SEV_ERROR ? "error" :
			f->severity == XP_SEV_FIXED ? "fixed" : "note",
			f->object, f->text, f->fix[0] ? " | fix: " : "", f->fix);
	if (f->severity != XP_SEV_ERROR)
		return;
	t->errors++;
	FZ_ASSERT(f->fix[0] == 0 || !strncmp(f->fix, "xenpmem ", 8),
		  "fix '%s'", f->fix);
	if (strstr(f->text, "repair failed") &&
	    t->nfailed + n <= sizeof(t->failed)) {
		memcpy(t->failed + t->nfailed, f->object, n);
		t->nfailed += n;
	}
	/*
	 * Errors repair must have fixed: superblocks, zero area, slots,
	 * unless the repair run said it could not.
	 */
	if (t->lenient || repair_failed(t->repair, f->object))
		return;
	if (!strncmp(f->object, "superblock", 10) ||
	    !strcmp(f->object, "zero area") ||
	    !strncmp(f->object, "slot ", 5)) {
		snprintf(t->bad_object, sizeof(t->bad_object), "%s", f->object);
		snprintf(t->bad_text, sizeof(t->bad_text), "%s", f->text);
	}
}

/* Would a writer take this namespace? (Read-only open @ns.) */
static bool whole(const struct xp_ns *ns)
{
	const char *why;

	return ns->primary_ok && ns->backup_ok && !ns->sb_mismatch &&
	       xp_sb_writable(&ns->sb, &why) && !ns->ncorrupt && !ns->moved;
}

static bool has_free_slot(const struct xp_ns *ns)
{
	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		if (ns->slots[i].state == XP_SLOT_FREE)
			return true;
	return false;
}

static bool gap_fits(const struct xp_ns *ns, uint64_t size)
{
	uint64_t a = 1ull << ns->sb.align_shift, p = ns->sb.phys_base;

	for (uint32_t i = 0; i < ns->ngaps; i++) {
		const struct xp_gap *g = &ns->gaps[i];
		uint64_t s = (p + g->offset + a - 1) / a * a - p;

		if (s < g->offset + g->size && g->offset + g->size - s >= size)
			return true;
	}
	return false;
}

/* Open for writing and walk one extent through its life. */
static void try_write(struct xp_media *m)
{
	struct xp_ns *ns, *ro;
	struct xp_create_opts o;
	struct xp_extent e;
	uint32_t before;
	bool expect, exists, slot_ok, fits;
	int rc;
	char sel[16];

	if (xp_ns_open_media(m, 0, &ro))
		return;
	expect = whole(ro);
	before = ro->nused;
	exists = xp_ns_find_slot(ro, "fz-new") != -ENOENT;
	slot_ok = has_free_slot(ro);
	fits = gap_fits(ro, 1ull << ro->sb.align_shift);
	rc = xp_ns_open_media(m, XP_OPEN_WRITE, &ns);
	FZ_ASSERT((rc == 0) == expect,
		  "writable open %d, metadata whole %d (%s)", rc, expect,
		  xp_last_error());
	xp_ns_close(ro);
	if (rc)
		return;
	st.writable++;

	memset(&o, 0, sizeof(o));
	o.name = "fz-new";
	o.size = 1ull << ns->sb.align_shift;
	rc = xp_extent_create(ns, &o, &e);
	if (ns->npairs)
		FZ_ASSERT(rc == -EUCLEAN, "create in a broken table: %d", rc);
	else if (exists)
		FZ_ASSERT(rc == -EEXIST, "create over an existing name: %d", rc);
	else if (!slot_ok || !fits)
		FZ_ASSERT(rc == -ENOSPC, "create without room: %d", rc);
	else
		FZ_ASSERT(rc == 0, "create: %s", xp_last_error());
	xp_ns_close(ns);
	if (rc)
		return;

	st.created++;
	FZ_ASSERT(xp_ns_open_media(m, 0, &ns) == 0, "reopen after create");
	FZ_ASSERT(ns->npairs == 0 && ns->ncorrupt == 0,
		  "create broke the table: %s", ns->table_why);
	FZ_ASSERT(find_ok(ns, "fz-new", &e) && e.state == XP_EXTENT_DATA &&
		  !e.assigned && e.size == o.size, "created extent");
	walk(ns);
	xp_ns_close(ns);

	FZ_ASSERT(xp_ns_open_media(m, XP_OPEN_WRITE, &ns) == 0,
		  "writable reopen after create");
	FZ_ASSERT(xp_extent_assign(ns, "fz-new", owner_a) == 0, "assign: %s",
		  xp_last_error());
	FZ_ASSERT(xp_extent_set_state(ns, "fz-new", XP_EXTENT_LENT_RAM) ==
			  -EBUSY, "lent while assigned");
	FZ_ASSERT(xp_extent_assign(ns, "fz-new", NULL) == 0, "unassign");
	FZ_ASSERT(xp_extent_set_state(ns, "fz-new", XP_EXTENT_LENT_RAM) == 0,
		  "lend: %s", xp_last_error());
	FZ_ASSERT(xp_extent_assign(ns, "fz-new", owner_a) == -EBUSY,
		  "assigned while lent");
	if (xp_ns_find_slot(ns, "fz-lent") == -ENOENT)
		FZ_ASSERT(xp_extent_rename(ns, "fz-new", "fz-lent", 0) == 0,
			  "rename: %s", xp_last_error());
	xp_ns_close(ns);

	FZ_ASSERT(xp_ns_open_media(m, 0, &ns) == 0, "reopen after lending");
	FZ_ASSERT(find_ok(ns, "fz-lent", &e) || find_ok(ns, "fz-new", &e),
		  "lent extent not found");
	FZ_ASSERT(e.state == XP_EXTENT_LENT_RAM && !e.assigned, "lent state");
	FZ_ASSERT(xp_extent_exportable(ns, &e) == -EINVAL, "lent exported");
	snprintf(sel, sizeof(sel), "@%u", e.slot);
	walk(ns);
	xp_ns_close(ns);

	FZ_ASSERT(xp_ns_open_media(m, XP_OPEN_WRITE, &ns) == 0,
		  "writable reopen after lending");
	FZ_ASSERT(xp_extent_destroy(ns, sel, 0) == 0, "destroy %s: %s", sel,
		  xp_last_error());
	xp_ns_close(ns);
	FZ_ASSERT(xp_ns_open_media(m, 0, &ns) == 0, "reopen after destroy");
	FZ_ASSERT(!find_ok(ns, sel, &e) && ns->nused == before,
		  "destroyed extent still there");
	st.lent++;
	walk(ns);
	xp_ns_close(ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags, *img;
	uint64_t isz, body, room;
	struct xp_media *m;
	struct xp_ns *ns;
	struct xp_sb sb, sb2;
	const char *field, *why;
	bool any_sb, p_ok, b_ok, sb_unresolved = false, all_writable;
	int rc;

	if (size < FZ_OPEN_HDR)
		return 0;
	flags = data[0];
	isz = image_size(data, size, flags);
	cur_isz = isz;
	cur_img_off = FZ_OPEN_MAX_IMAGE - isz;
	img = arena + cur_img_off;
	room = isz - XP_SB_BLOCK - XP_TABLE_OFFSET;
	/* primary */
	if (size > FZ_OPEN_HDR)
		memcpy(img, data + FZ_OPEN_HDR,
		       size - FZ_OPEN_HDR < XP_SB_BLOCK ? size - FZ_OPEN_HDR :
							  XP_SB_BLOCK);
	if (flags & FZ_OPEN_FIXSB)
		fz_fix_sb(img);
	/* backup */
	if (flags & FZ_OPEN_BACKUP_COPY) {
		uint8_t *bk = img + isz - XP_SB_BLOCK;
		struct xp_sb_disk *d = (struct xp_sb_disk *)bk;

		memcpy(bk, img, XP_SB_BLOCK);
		d->compat = xp_put32(xp_get32(d->compat) | XP_SB_F_BACKUP);
		fz_fix_sb(bk);
	} else if (size > FZ_OPEN_HDR + XP_SB_BLOCK) {
		size_t n = size - FZ_OPEN_HDR - XP_SB_BLOCK;

		memcpy(img + isz - XP_SB_BLOCK, data + FZ_OPEN_HDR + XP_SB_BLOCK,
		       n < XP_SB_BLOCK ? n : XP_SB_BLOCK);
		if (flags & FZ_OPEN_FIXSB)
			fz_fix_sb(img + isz - XP_SB_BLOCK);
	}
	/* from 8 KiB on */
	body = size > FZ_OPEN_HDR + 2 * XP_SB_BLOCK ?
		       size - FZ_OPEN_HDR - 2 * XP_SB_BLOCK : 0;
	if (body > room)
		body = room;
	memcpy(img + XP_TABLE_OFFSET, data + FZ_OPEN_HDR + 2 * XP_SB_BLOCK, body);
	if (flags & FZ_OPEN_FIXREC) {
		const struct xp_sb_disk *d = (const struct xp_sb_disk *)img;
		uint64_t n = xp_get32(d->slot_count);

		/* Only slots the input wrote can be non-blank. */
		if (n > (body + XP_SLOT_SIZE - 1) / XP_SLOT_SIZE)
			n = (body + XP_SLOT_SIZE - 1) / XP_SLOT_SIZE;
		if (n > room / XP_SLOT_SIZE)
			n = room / XP_SLOT_SIZE;
		fz_fix_recs(d->ns_uuid, img + XP_TABLE_OFFSET, (uint32_t)n,
			    false, true);
	}

	p_ok = xp_sb_decode(img, XP_SB_BLOCK, isz, false, &sb, &field) == XP_OK;
	b_ok = xp_sb_decode(img + isz - XP_SB_BLOCK, XP_SB_BLOCK, isz, true, &sb2,
			    &field) == XP_OK;
	any_sb = p_ok || b_ok;
	/* Two valid copies that differ in more than generation. */
	if (p_ok && b_ok)
		sb_unresolved = !xp_sb_same_but_generation(img, img + isz -
								      XP_SB_BLOCK);
	all_writable = (!p_ok || xp_sb_writable(&sb, &why)) &&
		       (!b_ok || xp_sb_writable(&sb2, &why));

	/* What the input wrote: primary, table area, backup. */
	note(cur_img_off, 0, XP_TABLE_OFFSET + body + XP_SLOT_SIZE < isz ?
				     XP_TABLE_OFFSET + body + XP_SLOT_SIZE : isz);
	note(cur_img_off, isz - XP_SB_BLOCK, XP_SB_BLOCK);

	m = xp_media_mem_new(img, isz);
	FZ_ASSERT(m != NULL, "xp_media_mem_new");
	mem_ops = m->ops;
	track_ops = *m->ops;
	track_ops.write = track_write;
	track_ops.zero = track_zero;
	m->ops = &track_ops;

	rc = xp_ns_open_media(m, 0, &ns);
	FZ_ASSERT((rc == 0) == any_sb, "open rc %d but a valid superblock: %d (%s)",
		  rc, any_sb, xp_last_error());
	if (!rc) {
		FZ_ASSERT(ns->sb_unresolved == sb_unresolved,
			  "superblocks unresolved %d, compared %d",
			  ns->sb_unresolved, sb_unresolved);
		walk(ns);
		xp_ns_close(ns);
	}

	if (flags & FZ_OPEN_WRITE)
		try_write(m);

	if (flags & FZ_OPEN_REPAIR) {
		static struct tally t1, t2;
		unsigned cf = XP_CHECK_REPAIR | XP_CHECK_FORCE;
		bool use = flags & (FZ_OPEN_USE_PRIMARY | FZ_OPEN_USE_BACKUP);
		int r1, r2;

		memset(&t1, 0, sizeof(t1));
		memset(&t2, 0, sizeof(t2));
		t2.repair = &t1;
		if (flags & FZ_OPEN_USE_PRIMARY)
			cf |= XP_CHECK_USE_PRIMARY;
		else if (flags & FZ_OPEN_USE_BACKUP)
			cf |= XP_CHECK_USE_BACKUP;
		/* A choice for a copy that is not valid settles nothing;
		 * neither does a writer that may not write. */
		t2.lenient = !all_writable ||
			     (sb_unresolved &&
			      (!use ||
			       ((cf & XP_CHECK_USE_PRIMARY) ? !p_ok : !b_ok)));
		t1.lenient = true;
		if (verbose)
			fprintf(stderr, "repair (flags %#x):\n", cf);
		r1 = xp_check_media(m, cf, count, &t1);
		if (verbose)
			fprintf(stderr, "check after repair (rc %d):\n", r1);
		r2 = xp_check_media(m, 0, count, &t2);
		FZ_ASSERT(r1 >= 0 || r1 == -ENODATA || !any_sb, "repair rc %d", r1);
		if (any_sb) {
			st.repaired++;
			st.clean_after += r2 == 0;
			FZ_ASSERT(r2 >= 0, "check after repair rc %d", r2);
			FZ_ASSERT(r2 == t2.errors, "check returned %d, reported %d",
				  r2, t2.errors);
			FZ_ASSERT(!t2.bad_object[0],
				  "after repair, still: %s: %s", t2.bad_object,
				  t2.bad_text);
			if (r2 == 0 && all_writable) {
				/* A clean check means writable (for a writer
				 * of this version). */
				rc = xp_ns_open_media(m, XP_OPEN_WRITE, &ns);
				FZ_ASSERT(rc == 0, "clean check but open for write: %s",
					  xp_last_error());
				walk(ns);
				xp_ns_close(ns);
			}
		}
	}

	xp_media_close(m);
	clean_arena();
	return 0;
}
