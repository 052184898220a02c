/* SPDX-License-Identifier: MIT */
/*
 * The table's in-memory index (issue 13, items 1 and 4): a change to a
 * whole table updates it in place (ns_index.c) instead of deriving it
 * again. A property test drives seeded random create, destroy, rename,
 * assign, resize and set_state calls, refused ones and ones whose fence
 * fails among them, and after every one compares the writer's index with
 * a handle opened afresh on the same image, which derives everything from
 * the decoded slots: extents in offset order (and the plain sorted array
 * xp_ns_rebuild() makes, which a fresh handle serves them from), gaps,
 * name lookups against a scan of the slots, the lowest free slot, the
 * byte counters; and checks both handles' index sums, name chains and
 * free-slot bitmaps node by node, and the writer's copy of the table's
 * bytes against the image. A damaged table
 * (duplicate name, overlap) answers as before and, once forced changes
 * resolve it, takes ordinary changes again.
 */
#include "lib_test.h"
#include "slot_same.h"

#define UNIT  (2 * MiB)
#define NAMES 40u

struct env {
	uint8_t *img;
	uint64_t size;
	struct xp_media *m;
	struct xp_ns *ns;
	unsigned ops, compared;
	/* Per operation kind: calls that changed the table, and refusals. */
	unsigned done[6], refused[6], fences_failed;
};

static const char *pool_name(unsigned i)
{
	static char names[NAMES][8];

	snprintf(names[i], sizeof(names[i]), "n%u", i);
	return names[i];
}

static int env_new(struct env *e, uint64_t size, uint32_t slots)
{
	struct xp_init_opts o = {
	    .max_extents = slots, .mgmt = XP_MGMT_NONE, .align = UNIT};
	int rc;

	memset(e, 0, sizeof(*e));
	e->size = size;
	rc = lt_fresh_ns(size, &o, &e->img, &e->m, &e->ns);
	CHECK_RC(rc, 0);
	return rc;
}

static void env_done(struct env *e)
{
	if (e->ns)
		xp_ns_close(e->ns);
	xp_media_close(e->m);
	img_free(e->img, e->size);
}

/* Metadata only: zeroing 2 MiB per extent would fill the lazy image. */
static int mk(struct xp_ns *ns, const char *name, uint64_t size)
{
	struct xp_create_opts o = {
	    .name = name, .size = size, .flags = XP_NO_ZERO};

	return xp_extent_create(ns, &o, NULL);
}

/* ---- the index, node by node --------------------------------------------- */

struct walk {
	uint32_t count, gaps;
	uint64_t gap_sum, gap_max, used;
};

static void check_node(const struct xp_ns *ns, uint32_t t, struct walk *w,
		       unsigned depth)
{
	const struct xp_ns_node *n = &ns->index.node[t];
	struct walk l = {0}, r = {0};

	if (depth > 200) {
		CHECK_MSG(0, "tree deeper than 200 at slot %u", t);
		return;
	}
	CHECK_MSG(ns->slots[t].state == XP_SLOT_USED, "free slot %u in tree",
		  t);
	/* The key a node carries is its slot's place as it is now. */
	CHECK_MSG(n->off == ns->slots[t].rec.offset &&
		      n->size == ns->slots[t].rec.size,
		  "slot %u: node key %llu+%llu, slot %llu+%llu", t,
		  (unsigned long long)n->off, (unsigned long long)n->size,
		  (unsigned long long)ns->slots[t].rec.offset,
		  (unsigned long long)ns->slots[t].rec.size);
	if (n->left != XP_NS_NIL)
		check_node(ns, n->left, &l, depth + 1);
	if (n->right != XP_NS_NIL)
		check_node(ns, n->right, &r, depth + 1);
	w->count = l.count + r.count + 1;
	w->gaps = l.gaps + r.gaps + (n->gap != 0);
	w->gap_sum = l.gap_sum + r.gap_sum + n->gap;
	w->used = l.used + r.used + ns->slots[t].rec.size;
	w->gap_max = n->gap;
	if (l.gap_max > w->gap_max)
		w->gap_max = l.gap_max;
	if (r.gap_max > w->gap_max)
		w->gap_max = r.gap_max;
	CHECK_MSG(
	    n->count == w->count && n->gaps == w->gaps &&
		n->gap_sum == w->gap_sum && n->gap_max == w->gap_max &&
		n->used == w->used,
	    "slot %u: sums %u/%u %u/%u %llu/%llu %llu/%llu %llu/%llu", t,
	    n->count, w->count, n->gaps, w->gaps,
	    (unsigned long long)n->gap_sum, (unsigned long long)w->gap_sum,
	    (unsigned long long)n->gap_max, (unsigned long long)w->gap_max,
	    (unsigned long long)n->used, (unsigned long long)w->used);
}

static void check_index_sums(const struct xp_ns *ns)
{
	const struct xp_ns_index *ix = &ns->index;
	struct walk w = {0};
	uint32_t chained = 0;

	if (ix->root != XP_NS_NIL)
		check_node(ns, ix->root, &w, 0);
	CHECK_EQ_U64(w.count, ns->nused);
	/* Every used slot once in the chain of its name's bucket. */
	for (uint32_t b = 0; b <= ix->name_mask; b++)
		for (uint32_t s = ix->name_head[b]; s != XP_NS_NIL;
		     s = ix->name_next[s]) {
			CHECK_MSG(ns->slots[s].state == XP_SLOT_USED,
				  "slot %u chained but not used", s);
			if (++chained > ns->sb.slot_count)
				return;
		}
	CHECK_EQ_U64(chained, ns->nused);
	/* Level 0: a bit per free slot; above it, a bit per nonzero word. */
	for (uint32_t s = 0; s < ns->sb.slot_count; s++) {
		bool bit =
		    ix->free_bits[ix->free_off[0] + s / 64] >> (s % 64) & 1;

		CHECK_MSG(bit == (ns->slots[s].state == XP_SLOT_FREE),
			  "free bit of slot %u", s);
	}
	for (uint32_t l = 1; l < ix->free_levels; l++) {
		uint32_t below = ix->free_off[l] - ix->free_off[l - 1];

		for (uint32_t i = 0; i < below; i++) {
			bool bit = ix->free_bits[ix->free_off[l] + i / 64] >>
				       (i % 64) &
				   1;

			CHECK_MSG(
			    bit ==
				(ix->free_bits[ix->free_off[l - 1] + i] != 0),
			    "summary bit %u of level %u", i, l);
		}
	}
}

/* ---- against a handle that derives everything from scratch --------------- */

/* A name looked up by scanning every slot: what find must answer. */
static int scan_name(const struct xp_ns *ns, const char *name)
{
	int found = -ENOENT;

	for (uint32_t s = 0; s < ns->sb.slot_count; s++) {
		if (ns->slots[s].state != XP_SLOT_USED ||
		    strcmp(ns->slots[s].rec.name, name))
			continue;
		if (found >= 0)
			return -EUCLEAN;
		found = (int)s;
	}
	return found;
}

static void expect_as_rebuilt(struct env *e)
{
	struct xp_ns *ns = e->ns, *ro;
	struct xp_info a, b;
	uint64_t used = 0, free_bytes = 0, largest = 0;
	int64_t lowest = -1;
	char sel[16];

	e->compared++;
	check_index_sums(ns);
	/* The writer's copy of the table bytes, the old bytes its stores
	 * hand the undo layer, is exactly what the media holds; a handle a
	 * failed fence broke has none left. */
	CHECK(ns->media->broken ? !ns->raw : ns->raw != NULL);
	if (ns->raw)
		CHECK_MSG(!memcmp(ns->raw, e->img + XP_TABLE_OFFSET,
				  (size_t)ns->sb.slot_count * XP_SLOT_SIZE),
			  "the writer's table bytes differ from the media's");
	CHECK_RC(xp_ns_open_media(e->m, 0, &ro), 0);
	if (!ro)
		return;
	check_index_sums(ro);
	CHECK(ro->views_current);
	/* Each slot as its own full decode gives it: open decodes one slot
	 * init left untouched and copies that to the others. */
	for (uint32_t s = 0; s < ro->sb.slot_count; s++) {
		struct xp_slot d;

		memset(&d, 0, sizeof(d));
		xp_slot_decode(&ro->sb, s, e->img + xp_slot_offset(s), &d);
		CHECK_MSG(slot_same(&d, &ro->slots[s]),
			  "slot %u: open's state differs from its decode", s);
	}
	CHECK_EQ_U64(xp_ns_index_gap_count(ns), ro->ngaps);
	CHECK_EQ_U64(xp_ns_index_gap_count(ro), ro->ngaps);
	CHECK_EQ_U64(xp_ns_extent_count(ns), ro->nused);
	for (uint32_t i = 0; i < ro->nused; i++) {
		struct xp_extent x, y;

		CHECK_RC(xp_ns_extent_get(ns, i, &x), 0);
		CHECK_RC(xp_ns_extent_get(ro, i, &y), 0);
		CHECK_MSG(!memcmp(&x, &y, sizeof(x)),
			  "extent %u: '%s' @%u [%#llx +%#llx) here, '%s' @%u "
			  "[%#llx +%#llx) rebuilt",
			  i, x.name, x.slot, (unsigned long long)x.offset,
			  (unsigned long long)x.size, y.name, y.slot,
			  (unsigned long long)y.offset,
			  (unsigned long long)y.size);
		CHECK_EQ_U64(x.slot, ro->order[i]);
		/* The index itself, also where the views serve the call. */
		CHECK_EQ_U64(xp_ns_index_extent_at(ns, i), ro->order[i]);
		CHECK_EQ_U64(xp_ns_index_extent_at(ro, i), ro->order[i]);
		used += x.size;
	}
	CHECK_RC(xp_ns_extent_get(ns, ro->nused, &(struct xp_extent){0}),
		 -ERANGE);
	CHECK_EQ_U64(xp_ns_gap_count(ns), ro->ngaps);
	CHECK_EQ_U64(xp_ns_gap_count(ro), ro->ngaps);
	for (uint32_t i = 0; i < ro->ngaps; i++) {
		struct xp_gap g = {0};

		CHECK_RC(xp_ns_gap_get(ns, i, &g), 0);
		CHECK_MSG(g.offset == ro->gaps[i].offset &&
			      g.size == ro->gaps[i].size,
			  "gap %u: [%#llx +%#llx) here, [%#llx +%#llx) rebuilt",
			  i, (unsigned long long)g.offset,
			  (unsigned long long)g.size,
			  (unsigned long long)ro->gaps[i].offset,
			  (unsigned long long)ro->gaps[i].size);
		for (int k = 0; k < 2; k++) {
			struct xp_gap h = {0};

			CHECK(xp_ns_index_gap_at(k ? ro : ns, i, &h));
			CHECK(h.offset == ro->gaps[i].offset &&
			      h.size == ro->gaps[i].size);
		}
		free_bytes += ro->gaps[i].size;
		if (ro->gaps[i].size > largest)
			largest = ro->gaps[i].size;
	}
	CHECK_RC(xp_ns_gap_get(ns, ro->ngaps, &(struct xp_gap){0}), -ERANGE);
	xp_ns_get_info(ns, &a);
	xp_ns_get_info(ro, &b);
	CHECK_EQ_U64(a.extent_count, b.extent_count);
	CHECK_EQ_U64(a.used_bytes, used);
	CHECK_EQ_U64(b.used_bytes, used);
	CHECK_EQ_U64(a.free_bytes, free_bytes);
	CHECK_EQ_U64(b.free_bytes, free_bytes);
	CHECK_EQ_U64(a.largest_free, largest);
	CHECK_EQ_U64(b.largest_free, largest);
	/* Names: the pool, the names in use, and slot selectors. */
	for (unsigned i = 0; i < NAMES; i++)
		CHECK_EQ_U64(xp_ns_find_slot(ns, pool_name(i)),
			     scan_name(ro, pool_name(i)));
	for (uint32_t s = 0; s < ro->sb.slot_count; s++) {
		if (ro->slots[s].state == XP_SLOT_FREE && lowest < 0)
			lowest = s;
		snprintf(sel, sizeof(sel), "@%u", s);
		CHECK_EQ_U64(xp_ns_find_slot(ns, sel),
			     xp_ns_find_slot(ro, sel));
		if (ro->slots[s].state != XP_SLOT_USED)
			continue;
		CHECK_EQ_U64(xp_ns_find_slot(ns, ro->slots[s].rec.name),
			     scan_name(ro, ro->slots[s].rec.name));
	}
	CHECK_EQ_U64(xp_ns_free_slot(ns), lowest);
	CHECK_EQ_U64(xp_ns_free_slot(ro), lowest);
	CHECK_EQ_U64(ns->npairs, ro->npairs);
	xp_ns_close(ro);
}

/* ---- random operations --------------------------------------------------- */

enum { OP_CREATE, OP_DESTROY, OP_RENAME, OP_ASSIGN, OP_RESIZE, OP_STATE };

static const char *any_name(const struct xp_ns *ns, char *buf, size_t len)
{
	/* Mostly names of the pool; now and then a slot selector. */
	if (xt_range(0, 9))
		return pool_name((unsigned)xt_range(0, NAMES - 1));
	snprintf(buf, len, "@%u", (unsigned)xt_range(0, ns->sb.slot_count));
	return buf;
}

static int random_op(struct env *e, unsigned units, int *kind)
{
	struct xp_ns *ns = e->ns;
	char b1[16];
	const char *name = any_name(ns, b1, sizeof(b1));

	*kind = (int)xt_range(OP_CREATE, OP_STATE);
	switch (*kind) {
	case OP_CREATE: {
		struct xp_create_opts o = {.name = name[0] == '@' ? pool_name(0)
								  : name,
					   .size = xt_range(1, units) * UNIT,
					   .flags = XP_NO_ZERO};

		if (!xt_range(0, 3))
			memcpy(o.owner, uuid_n((unsigned)xt_range(1, 3)), 16);
		return xp_extent_create(ns, &o, NULL);
	}
	case OP_DESTROY:
		return xp_extent_destroy(ns, name,
					 xt_range(0, 1) ? XP_FORCE : 0);
	case OP_RENAME:
		return xp_extent_rename(
		    ns, name, pool_name((unsigned)xt_range(0, NAMES - 1)), 0);
	case OP_ASSIGN:
		return xp_extent_assign(
		    ns, name,
		    xt_range(0, 1) ? uuid_n((unsigned)xt_range(1, 3)) : NULL);
	case OP_RESIZE:
		return xp_extent_resize(
		    ns, name, xt_range(1, units + 2) * UNIT,
		    XP_NO_ZERO | (xt_range(0, 1) ? XP_FORCE : 0), NULL, NULL);
	default:
		return xp_extent_set_state(ns, name,
					   xt_range(0, 1) ? XP_EXTENT_LENT_RAM
							  : XP_EXTENT_DATA);
	}
}

/* A fence that failed left the handle broken: open a new one. */
static void reopen(struct env *e)
{
	xp_ns_close(e->ns);
	e->ns = NULL;
	xp_media_close(e->m);
	e->m = tm_new(e->img, e->size, 0, 0);
	CHECK_RC(xp_ns_open_media(e->m, XP_OPEN_WRITE, &e->ns), 0);
}

static void run_ops(struct env *e, unsigned n, unsigned units, unsigned every)
{
	for (unsigned i = 0; i < n && e->ns && !xt_case_failures; i++) {
		bool fail = !xt_range(0, 49);
		int kind, rc;

		if (fail)
			tm_fail_drain(e->m, 1);
		rc = random_op(e, units, &kind);
		tm_fail_drain(e->m, 0);
		e->ops++;
		if (rc == -EIO) {
			CHECK(fail);
			e->fences_failed++;
		} else if (rc) {
			/* Refusals only: nothing else may go wrong here. */
			CHECK_MSG(rc == -EEXIST || rc == -ENOENT ||
				      rc == -ENOSPC || rc == -EBUSY ||
				      rc == -EINVAL,
				  "op %u kind %d: rc %d (%s)", i, kind, rc,
				  xp_last_error());
			e->refused[kind]++;
		} else {
			e->done[kind]++;
		}
		if (rc == -EIO || !(e->ops % every))
			expect_as_rebuilt(e);
		if (rc == -EIO)
			reopen(e);
	}
}

static void expect_mix(const struct env *e)
{
	/* The walk went everywhere: every kind both changed the table and
	 * was refused, and fences failed. */
	for (int k = OP_CREATE; k <= OP_STATE; k++)
		CHECK_MSG(e->done[k] && e->refused[k],
			  "kind %d: %u done, %u refused", k, e->done[k],
			  e->refused[k]);
	CHECK(e->fences_failed > 0);
}

/* A small table that fills up: slots and space run out now and then. */
static void t_random_small(void)
{
	struct env e;

	if (env_new(&e, 256 * MiB, 24))
		return;
	run_ops(&e, 6000, 6, 1);
	CHECK_EQ_U64(e.compared, e.ops);
	expect_mix(&e);
	env_done(&e);
}

/* A larger table, so the tree is deep: compared every 7th operation
 * (every one whose fence failed too), its sums checked every time. */
static void t_random_large(void)
{
	struct env e;

	if (env_new(&e, 8 * GiB, 4096))
		return;
	run_ops(&e, 6000, 3, 7);
	CHECK(e.compared >= 6000 / 7);
	expect_mix(&e);
	env_done(&e);
}

/*
 * A reader decodes the table a 1 MiB chunk (4,096 slots) at a time, a
 * writer all at once: a table of three chunks, the last one partial,
 * with extents and untouched slots in every chunk, reads the same both
 * ways; a page of the second chunk that cannot be read costs a reader
 * its 16 slots and nothing else.
 */
static void t_reader_chunks(void)
{
	const uint32_t slots = 10000, made = 9000;
	uint64_t page = XP_TABLE_OFFSET + 5000ull * XP_SLOT_SIZE;
	uint32_t first = 5000 / 16 * 16;
	struct xp_ns *ro = NULL;
	struct env e;
	char name[16];

	page -= page % XP_PAGE_SIZE;
	if (env_new(&e, 24 * GiB, slots))
		return;
	for (unsigned i = 0; i < made; i++) {
		snprintf(name, sizeof(name), "c%u", i);
		CHECK_RC(mk(e.ns, name, UNIT), 0);
	}
	for (unsigned i = 1; i < made; i += 7) {
		snprintf(name, sizeof(name), "c%u", i);
		CHECK_RC(xp_extent_destroy(e.ns, name, 0), 0);
	}
	/* Writer and reader against each slot's own decode. */
	expect_as_rebuilt(&e);
	CHECK_RC(xp_ns_open_media(e.m, 0, &ro), 0);
	if (!ro) {
		env_done(&e);
		return;
	}
	CHECK_EQ_U64(ro->ncorrupt, 0);
	CHECK_EQ_U64(ro->nused, e.ns->nused);
	CHECK(!ro->raw);
	for (uint32_t s = 0; s < slots; s++)
		CHECK_MSG(slot_same(&ro->slots[s], &e.ns->slots[s]),
			  "slot %u: the reader's state differs from the writer's", s);
	xp_ns_close(ro);
	ro = NULL;

	tm_fail_reads(e.m, page, XP_PAGE_SIZE, EIO);
	CHECK_RC(xp_ns_open_media(e.m, 0, &ro), 0);
	if (ro) {
		uint32_t gone = 0;

		for (uint32_t s = 0; s < slots; s++) {
			bool lost = s >= first && s < first + 16;

			if (lost) {
				gone += e.ns->slots[s].state == XP_SLOT_USED;
				CHECK_MSG(ro->slots[s].state == XP_SLOT_CORRUPT,
					  "slot %u on the unreadable page is not corrupt", s);
			} else {
				CHECK_MSG(slot_same(&ro->slots[s], &e.ns->slots[s]),
					  "slot %u: off the unreadable page, yet changed", s);
			}
		}
		CHECK(gone > 0);
		CHECK_EQ_U64(ro->ncorrupt, 16);
		CHECK_EQ_U64(ro->nused, e.ns->nused - gone);
		xp_ns_close(ro);
	}
	tm_fail_reads(e.m, 0, 0, 0);
	env_done(&e);
}

/* Many extents, then the middle ones destroyed and made again. */
static void t_fill_and_churn(void)
{
	struct env e;
	char name[16];

	if (env_new(&e, 4 * GiB, 2048))
		return;
	for (unsigned i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "x%u", i);
		CHECK_RC(mk(e.ns, name, UNIT), 0);
	}
	expect_as_rebuilt(&e);
	for (unsigned i = 300; i < 1200; i += 3) {
		snprintf(name, sizeof(name), "x%u", i);
		CHECK_RC(xp_extent_destroy(e.ns, name, 0), 0);
	}
	expect_as_rebuilt(&e);
	CHECK_EQ_U64(xp_ns_gap_count(e.ns), 300 + 1);
	for (unsigned i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "y%u", i);
		CHECK_RC(mk(e.ns, name, UNIT), 0);
	}
	/* First fit: the gaps filled lowest first, the tail untouched. */
	expect_as_rebuilt(&e);
	CHECK_EQ_U64(xp_ns_gap_count(e.ns), 1);
	run_ops(&e, 1000, 2, 5);
	env_done(&e);
}

/* ---- a damaged table ----------------------------------------------------- */

/* A valid record in copy 1 of @slot, seq 2: newer than init's free
 * record in copy 0 (the slot must not have been written since init). */
static void craft(struct env *e, uint32_t slot, const char *name, uint64_t off,
		  uint64_t size)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = 2;
	r.type = XP_REC_DATA;
	r.align_shift = 21;
	r.offset = off;
	r.size = size;
	memset(r.uuid, 0x40 + (int)slot, 16);
	snprintf(r.name, sizeof(r.name), "%s", name);
	xp_rec_encode(&e->ns->sb, slot, &r,
		      e->img + xp_slot_offset(slot) + XP_REC_SIZE);
}

static void t_damaged_then_whole(void)
{
	struct env e;
	struct xp_extent a, b;
	uint64_t d;

	if (env_new(&e, 256 * MiB, 32))
		return;
	CHECK_RC(mk(e.ns, "n1", UNIT), 0);
	CHECK_RC(mk(e.ns, "n2", UNIT), 0);
	CHECK_RC(mk(e.ns, "n3", 2 * UNIT), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "n1", &a), 0);
	CHECK_RC(xp_ns_extent_find(e.ns, "n3", &b), 0);
	d = e.ns->sb.data_offset;
	/* Slot 20: a second "n2", past the others; slot 21 overlaps n3. */
	craft(&e, 20, "n2", d + 20 * UNIT, UNIT);
	craft(&e, 21, "n9", b.offset + UNIT, 2 * UNIT);
	reopen(&e);
	if (!e.ns)
		return;
	CHECK(e.ns->npairs >= 2);
	expect_as_rebuilt(&e);
	CHECK_RC(xp_ns_find_slot(e.ns, "n2"), -EUCLEAN);
	CHECK_RC(xp_ns_find_slot(e.ns, "n9"), 21);
	/* Refused as before: the table breaks a rule. */
	CHECK_RC(xp_extent_assign(e.ns, "n1", uuid_n(1)), -EUCLEAN);
	CHECK_RC(mk(e.ns, "n30", UNIT), -EUCLEAN);
	CHECK_RC(xp_extent_rename(e.ns, "@20", "n20", 0), -EUCLEAN);
	expect_as_rebuilt(&e);
	/* The way out: forced changes of the extents involved. */
	CHECK_RC(xp_extent_rename(e.ns, "@20", "n20", XP_FORCE), 0);
	expect_as_rebuilt(&e);
	CHECK_RC(xp_ns_find_slot(e.ns, "n2"), 1);
	CHECK_RC(xp_ns_find_slot(e.ns, "n20"), 20);
	CHECK(e.ns->npairs > 0);
	CHECK_RC(xp_extent_destroy(e.ns, "@21", XP_FORCE), 0);
	CHECK_EQ_U64(e.ns->npairs, 0);
	expect_as_rebuilt(&e);
	/* Whole again: ordinary changes, kept up in place. */
	CHECK_RC(xp_extent_assign(e.ns, "n1", uuid_n(1)), 0);
	CHECK_RC(mk(e.ns, "n30", UNIT), 0);
	expect_as_rebuilt(&e);
	run_ops(&e, 1500, 4, 1);
	env_done(&e);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_random_small);
	RUN(t_random_large);
	RUN(t_reader_chunks);
	RUN(t_fill_and_churn);
	RUN(t_damaged_then_whole);
	return xt_finish();
}
