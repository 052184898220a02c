/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the Dom0 library's full open path on a hostile image.
 * The input becomes an in-memory namespace image (layout in
 * fuzz_common.h); it is opened read-only through xp_media_mem_new() +
 * xp_ns_open_media(), its extents and gaps are walked and checked, and,
 * when the input asks, it is repaired (check --repair --force) and
 * re-checked, or opened for writing and an extent created and destroyed.
 */
#include "fuzz_common.h"
#include "xp_internal.h"

#include <errno.h>
#include <stdbool.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Images live at the end of one arena allocated once (so ASan still sees
 * reads past an image's end), and only the bytes an input or the library
 * wrote are zeroed again afterwards: a calloc of up to 64 MiB per input
 * would spend most of the time in page faults.
 */
static uint8_t *arena;
static struct {
	uint64_t off, len;
} dirty[64];
static unsigned ndirty;
static bool dirty_all;
static const struct xp_media_ops *mem_ops;
static struct xp_media_ops track_ops;

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

static uint64_t cur_img_off, cur_isz;

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

static void clean_arena(void)
{
	if (dirty_all)
		memset(arena, 0, FZ_OPEN_MAX_IMAGE);
	else
		for (unsigned i = 0; i < ndirty; i++)
			memset(arena + dirty[i].off, 0, dirty[i].len);
	ndirty = 0;
	dirty_all = false;
#ifdef FZ_CHECK_ARENA
	{
		static const uint8_t z[1 << 16];

		for (uint64_t i = 0; i < FZ_OPEN_MAX_IMAGE; i += sizeof(z))
			FZ_ASSERT(!memcmp(arena + i, z, sizeof(z)),
				  "arena left dirty near %llu",
				  (unsigned long long)i);
	}
#endif
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	unsetenv("XENPMEM_BADBLOCKS_FILE");
	xp_ns_set_badblocks_file(NULL);
	arena = calloc(1, FZ_OPEN_MAX_IMAGE);
	if (!arena)
		abort();
	return 0;
}

static uint64_t image_size(const uint8_t *data, size_t size, uint8_t flags)
{
	uint64_t body = size > FZ_OPEN_HDR + 2 * XP_SB_BLOCK ?
				size - FZ_OPEN_HDR - 2 * XP_SB_BLOCK : 0;
	uint64_t s;

	if ((flags & FZ_OPEN_SIZE_FROM_SB) && size >= FZ_OPEN_HDR + XP_SB_BLOCK) {
		s = fz_le(data + FZ_OPEN_HDR + 56, 8);
		if (s % XP_PAGE_SIZE == 0 && s >= 4 * XP_PAGE_SIZE &&
		    s <= FZ_OPEN_MAX_IMAGE)
			return s;
	}
	s = (XP_TABLE_OFFSET + body + XP_PAGE_SIZE - 1) / XP_PAGE_SIZE *
		    XP_PAGE_SIZE + XP_SB_BLOCK;
	if (s > FZ_OPEN_MAX_IMAGE)
		s = FZ_OPEN_MAX_IMAGE;
	return s;
}

static void walk(struct xp_ns *ns)
{
	const struct xp_sb *sb = &ns->sb;
	uint64_t data_end = sb->data_offset + sb->data_size;
	uint64_t prev_off = 0, prev_end = sb->data_offset, used = 0, free_b = 0;
	uint32_t n = xp_ns_extent_count(ns), g = xp_ns_gap_count(ns);
	bool clean = ns->table_st == XP_OK;
	struct xp_info info;
	struct xp_extent e, f;
	struct xp_gap gap;

	FZ_ASSERT(xp_ns_get_info(ns, &info) == 0, "get_info");
	FZ_ASSERT(info.extent_count == n, "extent_count");
	FZ_ASSERT(n <= sb->slot_count && g <= n + 1, "counts %u %u", n, g);
	for (uint32_t i = 0; i < n; i++) {
		FZ_ASSERT(xp_ns_extent_get(ns, i, &e) == 0, "extent_get %u", i);
		FZ_ASSERT(e.slot < sb->slot_count, "slot");
		FZ_ASSERT(e.offset >= sb->data_offset && e.size > 0 &&
			  e.offset + e.size <= data_end,
			  "extent %u outside the data area", i);
		FZ_ASSERT(e.offset >= prev_off, "extents not in offset order");
		FZ_ASSERT(e.align && (sb->phys_base + e.offset) % e.align == 0,
			  "extent %u unaligned", i);
		FZ_ASSERT(e.label_size < e.size, "label");
		FZ_ASSERT(e.nr_frames == e.size >> 12, "nr_frames");
		FZ_ASSERT(strnlen(e.name, sizeof(e.name)) < sizeof(e.name),
			  "name not terminated");
		if (clean) {
			FZ_ASSERT(e.offset >= prev_end, "extents overlap");
			FZ_ASSERT(xp_ns_extent_find(ns, e.name, &f) == 0 &&
				  f.slot == e.slot, "find '%s'", e.name);
		}
		prev_off = e.offset;
		prev_end = e.offset + e.size;
		used += e.size;
	}
	FZ_ASSERT(xp_ns_extent_get(ns, n, &e) != 0, "extent_get past end");
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
	if (clean)
		FZ_ASSERT(used + free_b == sb->data_size,
			  "used %llu + free %llu != data %llu",
			  (unsigned long long)used, (unsigned long long)free_b,
			  (unsigned long long)sb->data_size);
}

struct tally {
	int errors;
	bool sb_unresolved;	/* both copies valid, one generation, differ */
	const char *bad_object;
	char bad_text[200];
};

static void count(const struct xp_finding *f, void *arg)
{
	struct tally *t = arg;

	if (f->severity != XP_ERROR)
		return;
	t->errors++;
	/* Errors repair must have fixed: superblocks, zero area, slots. */
	/* (With an unresolved superblock pair, repair changes nothing.) */
	if (t->sb_unresolved)
		return;
	if (!strncmp(f->object, "superblock", 10) ||
	    !strcmp(f->object, "zero area") ||
	    !strncmp(f->object, "slot ", 5)) {
		t->bad_object = f->object;
		snprintf(t->bad_text, sizeof(t->bad_text), "%s", f->text);
	}
}

static void try_write(struct xp_media *m)
{
	struct xp_ns *ns;
	struct xp_create_opts o = {0};
	struct xp_extent e;
	int rc;

	if (xp_ns_open_media(m, XP_OPEN_WRITE, &ns))
		return;
	FZ_ASSERT(ns->primary_ok && ns->backup_ok && !ns->sb_mismatch &&
		  ns->ncorrupt == 0 && ns->table_st == XP_OK,
		  "writable open of an unclean namespace");
	o.name = "fz-new";
	o.size = 1ull << ns->sb.align_shift;
	o.owner = XP_OWNER_NONE;
	rc = xp_extent_create(ns, &o, &e);
	xp_ns_close(ns);
	if (rc)
		return;
	FZ_ASSERT(xp_ns_open_media(m, 0, &ns) == 0, "reopen after create");
	FZ_ASSERT(ns->table_st == XP_OK, "create broke the table: %s",
		  ns->table_why);
	FZ_ASSERT(xp_ns_extent_find(ns, "fz-new", &e) == 0, "created not found");
	walk(ns);
	xp_ns_close(ns);
	FZ_ASSERT(xp_ns_open_media(m, XP_OPEN_WRITE, &ns) == 0,
		  "writable reopen after create");
	FZ_ASSERT(xp_extent_destroy(ns, "fz-new", 0) == 0, "destroy");
	xp_ns_close(ns);
	FZ_ASSERT(xp_ns_open_media(m, 0, &ns) == 0, "reopen after destroy");
	FZ_ASSERT(xp_ns_extent_find(ns, "fz-new", &e) != 0, "destroyed found");
	walk(ns);
	xp_ns_close(ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags, *img;
	uint64_t isz, body, room;
	struct xp_media *m;
	struct xp_ns *ns;
	struct xp_sb sb;
	const char *field;
	bool any_sb, sb_unresolved = false;
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
		fz_fix_recs(d->ns_uuid, img + XP_TABLE_OFFSET, (uint32_t)n);
	}

	{
		struct xp_sb sb2;
		bool p_ok = xp_sb_decode(img, XP_SB_BLOCK, isz, false, &sb,
					 &field) == XP_OK;
		bool b_ok = xp_sb_decode(img + isz - XP_SB_BLOCK, XP_SB_BLOCK,
					 isz, true, &sb2, &field) == XP_OK;

		any_sb = p_ok || b_ok;
		/*
		 * Repair leaves two valid copies of one generation that
		 * differ to a human (nothing tells which is right).
		 */
		if (p_ok && b_ok && sb.generation == sb2.generation) {
			static uint8_t moved[XP_SB_BLOCK];

			memcpy(moved, img + isz - XP_SB_BLOCK, XP_SB_BLOCK);
			xp_sb_relocate(moved, false);
			sb_unresolved = memcmp(moved, img, XP_SB_BLOCK) != 0;
		}
	}

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
		walk(ns);
		xp_ns_close(ns);
	}

	if (flags & FZ_OPEN_WRITE)
		try_write(m);

	if (flags & FZ_OPEN_REPAIR) {
		struct tally t1 = {0}, t2 = {0};
		int r1, r2;

		t1.sb_unresolved = t2.sb_unresolved = sb_unresolved;

		r1 = xp_check_media(m, XP_CHECK_REPAIR | XP_CHECK_FORCE, count, &t1);
		r2 = xp_check_media(m, 0, count, &t2);
		FZ_ASSERT(r1 >= 0 || r1 == -ENODATA || !any_sb, "repair rc %d", r1);
		if (any_sb) {
			FZ_ASSERT(r2 >= 0, "check after repair rc %d", r2);
			FZ_ASSERT(!t2.bad_object,
				  "after repair, still: %s: %s", t2.bad_object,
				  t2.bad_text);
			if (r2 == 0) {
				/* A clean check means writable. */
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
