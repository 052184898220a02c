/* SPDX-License-Identifier: MIT */
/*
 * The in-memory index of a namespace's table, so that an operation costs
 * O(log n) beyond its slot store however large the table is:
 *
 *   - extents in offset order: a treap (one node per slot, in an array
 *     indexed by slot number) whose nodes also carry the free gap right
 *     before their extent; subtree counts and sums answer "the k-th
 *     extent", "the k-th gap", first fit, free and used bytes and the
 *     largest gap;
 *   - names: a hash table chained through the slots, so that a name two
 *     slots share (a damaged table) is still found twice;
 *   - free slots: a bitmap with a summary bit per 64-bit word at each
 *     level above, which finds the lowest free slot in a few steps.
 *
 * A change to a whole table updates these in place (xp_ns_index_unlink()
 * before the slot changes, xp_ns_index_link() after). A damaged table is
 * refused every change but the forced ones that remove a violation; after
 * those, and at open, xp_ns_index_build() starts over from the decoded
 * slots.
 *
 * A node's priority is a bijective hash of its slot number mixed with a
 * seed drawn per handle: priorities are then distinct without a tie rule,
 * and an image cannot place its extents in slots whose priorities line up
 * into a degenerate (deep, linear-time) tree, since it cannot know them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

#define NIL XP_NS_NIL

/* Summary levels up to a single word at the top, for the largest table. */
_Static_assert(XP_MAX_SLOTS <= 64ull * 64 * 64 * 64 &&
		       XP_NS_FREE_LEVELS == 4,
	       "free-slot bitmap levels");

static uint32_t priority(const struct xp_ns *ns, uint32_t slot)
{
	/* A 32-bit integer hash (lowbias32): each step is invertible. */
	slot ^= ns->index.seed;
	slot ^= slot >> 16;
	slot *= 0x7feb352du;
	slot ^= slot >> 15;
	slot *= 0x846ca68bu;
	slot ^= slot >> 16;
	return slot;
}

/* FNV-1a from a seeded basis: an image cannot pile its names into one
 * chain either. */
static uint32_t name_hash(const struct xp_ns *ns, const char *name)
{
	uint32_t h = 2166136261u ^ ns->index.seed;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

/* ---- allocation ---------------------------------------------------------- */

int xp_ns_index_alloc(struct xp_ns_index *ix, uint32_t slots)
{
	uint32_t buckets = 16, words = 0;
	uint8_t seed[16];

	memset(ix, 0, sizeof(*ix));
	while (buckets < slots)
		buckets <<= 1;
	/* Level 0 has a bit per slot; each level above one per word. */
	for (uint32_t n = slots ? slots : 1;
	     ix->free_levels < XP_NS_FREE_LEVELS;) {
		n = (n + 63) / 64;
		ix->free_off[ix->free_levels++] = words;
		words += n;
		if (n == 1)
			break;
	}
	ix->node = calloc(slots ? slots : 1, sizeof(*ix->node));
	ix->name_next = calloc(slots ? slots : 1, sizeof(*ix->name_next));
	ix->name_hv = calloc(slots ? slots : 1, sizeof(*ix->name_hv));
	ix->path = calloc(slots ? slots : 1, sizeof(*ix->path));
	ix->name_head = malloc(buckets * sizeof(*ix->name_head));
	ix->free_bits = calloc(words, sizeof(*ix->free_bits));
	if (!ix->node || !ix->name_next || !ix->name_hv || !ix->path ||
	    !ix->name_head || !ix->free_bits) {
		xp_ns_index_free(ix);
		return -ENOMEM;
	}
	xp_uuid_generate(seed);
	memcpy(&ix->seed, seed, sizeof(ix->seed));
	ix->name_mask = buckets - 1;
	ix->root = NIL;
	memset(ix->name_head, 0xff, buckets * sizeof(*ix->name_head));
	return 0;
}

void xp_ns_index_free(struct xp_ns_index *ix)
{
	free(ix->node);
	free(ix->name_next);
	free(ix->name_hv);
	free(ix->path);
	free(ix->name_head);
	free(ix->free_bits);
	memset(ix, 0, sizeof(*ix));
}

/* ---- free slots ---------------------------------------------------------- */

static void free_bit_set(struct xp_ns_index *ix, uint32_t slot)
{
	for (uint32_t l = 0, i = slot; l < ix->free_levels; l++, i /= 64) {
		uint64_t *w = &ix->free_bits[ix->free_off[l] + i / 64];
		bool was = *w != 0;

		*w |= 1ull << (i % 64);
		if (was)
			break;
	}
}

static void free_bit_clear(struct xp_ns_index *ix, uint32_t slot)
{
	for (uint32_t l = 0, i = slot; l < ix->free_levels; l++, i /= 64) {
		uint64_t *w = &ix->free_bits[ix->free_off[l] + i / 64];

		*w &= ~(1ull << (i % 64));
		if (*w)
			break;
	}
}

int64_t xp_ns_free_slot(const struct xp_ns *ns)
{
	const struct xp_ns_index *ix = &ns->index;
	uint32_t top = ix->free_levels - 1, i = 0;

	if (!ix->free_levels || !ix->free_bits[ix->free_off[top]])
		return -1;
	for (uint32_t l = top + 1; l-- > 0;)
		i = i * 64 + (uint32_t)__builtin_ctzll(
				 ix->free_bits[ix->free_off[l] + i]);
	return i;
}

/* ---- names --------------------------------------------------------------- */

static void name_link(struct xp_ns *ns, uint32_t slot)
{
	struct xp_ns_index *ix = &ns->index;
	uint32_t h = name_hash(ns, ns->slots[slot].rec.name);
	uint32_t *head = &ix->name_head[h & ix->name_mask];

	ix->name_hv[slot] = h;
	ix->name_next[slot] = *head;
	*head = slot;
}

static void name_unlink(struct xp_ns *ns, uint32_t slot)
{
	struct xp_ns_index *ix = &ns->index;
	uint32_t *p = &ix->name_head[ix->name_hv[slot] & ix->name_mask];

	while (*p != NIL && *p != slot)
		p = &ix->name_next[*p];
	if (*p == slot)
		*p = ix->name_next[slot];
}

int xp_ns_index_find_name(const struct xp_ns *ns, const char *name)
{
	const struct xp_ns_index *ix = &ns->index;
	uint32_t h = name_hash(ns, name);
	int found = -ENOENT;

	for (uint32_t s = ix->name_head[h & ix->name_mask]; s != NIL;
	     s = ix->name_next[s]) {
		if (ix->name_hv[s] != h || strcmp(ns->slots[s].rec.name, name))
			continue;
		if (found >= 0)
			return -EUCLEAN;
		found = (int)s;
	}
	return found;
}

/* ---- extents in offset order --------------------------------------------- */

static uint64_t rec_end(const struct xp_ns *ns, uint32_t s)
{
	return ns->index.node[s].off + ns->index.node[s].size;
}

/* Whether slot @s sorts before (offset @off, slot @slot). */
static bool before(const struct xp_ns *ns, uint32_t s, uint64_t off,
		   uint32_t slot)
{
	uint64_t o = ns->index.node[s].off;

	return o < off || (o == off && s < slot);
}

/* A node about to join the tree takes its slot's key. */
static void node_key(struct xp_ns *ns, uint32_t s)
{
	struct xp_ns_node *n = &ns->index.node[s];

	n->prio = priority(ns, s);
	n->off = ns->slots[s].rec.offset;
	n->size = ns->slots[s].rec.size;
}

/* An empty subtree's sums, so that pull() adds both children alike. */
static const struct xp_ns_node no_node;

static inline void pull(struct xp_ns *ns, uint32_t s)
{
	struct xp_ns_node *nd = ns->index.node, *n = &nd[s];
	const struct xp_ns_node *l = n->left == NIL ? &no_node : &nd[n->left];
	const struct xp_ns_node *r =
	    n->right == NIL ? &no_node : &nd[n->right];
	uint64_t max = l->gap_max > r->gap_max ? l->gap_max : r->gap_max;

	n->count = l->count + r->count + 1;
	n->gaps = l->gaps + r->gaps + (n->gap != 0);
	n->gap_sum = l->gap_sum + r->gap_sum + n->gap;
	n->gap_max = n->gap > max ? n->gap : max;
	n->used = l->used + r->used + n->size;
}

/* The gap from the end of @pred (NIL: the data area's start) to @to. */
static uint64_t gap_between(const struct xp_ns *ns, uint32_t pred, uint64_t to)
{
	uint64_t from = pred == NIL ? ns->sb.data_offset : rec_end(ns, pred);

	return to > from ? to - from : 0;
}

/*
 * The gap in front of @succ (NIL: the tail gap) once @pred is the extent
 * before it. Sums over @succ are the caller's to pull.
 */
static void set_gap_before(struct xp_ns *ns, uint32_t pred, uint32_t succ)
{
	if (succ == NIL)
		ns->index.tail_gap = gap_between(
		    ns, pred, ns->sb.data_offset + ns->sb.data_size);
	else
		ns->index.node[succ].gap =
		    gap_between(ns, pred, ns->index.node[succ].off);
}

/* Join two trees, every extent of @a before every extent of @b. */
static uint32_t merge(struct xp_ns *ns, uint32_t a, uint32_t b)
{
	struct xp_ns_node *n = ns->index.node;

	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (n[a].prio > n[b].prio) {
		n[a].right = merge(ns, n[a].right, b);
		pull(ns, a);
		return a;
	}
	n[b].left = merge(ns, a, n[b].left);
	pull(ns, b);
	return b;
}

/*
 * Both changes go down one search path without recursion, note in
 * index.path every node whose sums change, parents before children, and
 * pull them bottom-up once the tree has its new shape and gaps. The
 * neighbours of the extent are the last nodes the search passed on
 * either side (or, on erase, the nearest nodes of its own subtrees).
 * Expected cost: the extent's depth, O(log n), plus about two nodes that
 * a split or merge touches below it.
 */
static void pull_down_to(struct xp_ns *ns, uint32_t from, uint32_t *d)
{
	while (*d > from)
		pull(ns, ns->index.path[--*d]);
}

/*
 * Down the search path while the nodes outrank @x; @x takes the place of
 * the rest, which splits around its key into its two subtrees.
 */
/*
 * One step down the search path for @x (at offset @off): @t goes on the
 * path, becomes @x's predecessor or successor so far, and the link to
 * the child on @x's side comes back.
 */
static uint32_t *descend(struct xp_ns *ns, uint32_t t, uint64_t off,
			 uint32_t x, uint32_t *d, uint32_t *pred,
			 uint32_t *succ)
{
	struct xp_ns_node *nd = ns->index.node;

	ns->index.path[(*d)++] = t;
	if (before(ns, t, off, x)) {
		*pred = t;
		return &nd[t].right;
	}
	*succ = t;
	return &nd[t].left;
}

static void extent_link(struct xp_ns *ns, uint32_t x)
{
	struct xp_ns_index *ix = &ns->index;
	struct xp_ns_node *nd = ix->node;
	uint64_t off;
	uint32_t prio, pred = NIL, succ = NIL;
	uint32_t *link = &ix->root, *l = &nd[x].left, *r = &nd[x].right;
	uint32_t t, d = 0, above;

	node_key(ns, x);
	off = nd[x].off;
	prio = nd[x].prio;
	for (t = *link; t != NIL && nd[t].prio > prio; t = *link)
		link = descend(ns, t, off, x, &d, &pred, &succ);
	*link = x;
	above = d;
	while (t != NIL) {
		ix->path[d++] = t;
		if (before(ns, t, off, x)) {
			pred = t;
			*l = t;
			l = &nd[t].right;
			t = nd[t].right;
		} else {
			succ = t;
			*r = t;
			r = &nd[t].left;
			t = nd[t].left;
		}
	}
	*l = *r = NIL;
	nd[x].gap = gap_between(ns, pred, off);
	set_gap_before(ns, x, succ);
	pull_down_to(ns, above, &d);
	pull(ns, x);
	pull_down_to(ns, 0, &d);
	ns->nused++;
}

/*
 * Down to @x; its children merge into its place, and the gap before its
 * successor widens back to its predecessor.
 */
static void extent_unlink(struct xp_ns *ns, uint32_t x)
{
	struct xp_ns_index *ix = &ns->index;
	struct xp_ns_node *nd = ix->node;
	uint64_t off = nd[x].off;
	uint32_t pred = NIL, succ = NIL, *link = &ix->root;
	uint32_t t, a, b, d = 0, above;

	for (t = *link; t != x; t = *link) {
		if (t == NIL)
			return;	/* not in the tree: nothing of it to take out */
		link = descend(ns, t, off, x, &d, &pred, &succ);
	}
	above = d;
	for (t = nd[x].left; t != NIL; t = nd[t].right)
		pred = t;
	/* A successor in the right subtree is its first node: pull the
	 * left spine down to it. */
	for (t = nd[x].right; t != NIL; t = nd[t].left)
		ix->path[d++] = succ = t;
	set_gap_before(ns, pred, succ);
	pull_down_to(ns, above, &d);
	a = nd[x].left;
	b = nd[x].right;
	while (a != NIL && b != NIL) {
		if (nd[a].prio > nd[b].prio) {
			*link = a;
			ix->path[d++] = a;
			link = &nd[a].right;
			a = nd[a].right;
		} else {
			*link = b;
			ix->path[d++] = b;
			link = &nd[b].left;
			b = nd[b].left;
		}
	}
	*link = a != NIL ? a : b;
	pull_down_to(ns, 0, &d);
	ns->nused--;
}

/*
 * The from-scratch views hold slot numbers in offset order and the gaps:
 * a new name or owner leaves them right, a move, resize, new or gone
 * extent does not.
 */
void xp_ns_index_unlink(struct xp_ns *ns, uint32_t slot, unsigned what)
{
	if (what & XP_IX_NAME)
		name_unlink(ns, slot);
	if (what & XP_IX_PLACE) {
		ns->views_current = false;
		extent_unlink(ns, slot);
	}
	if ((what & XP_IX_ALL) == XP_IX_ALL)
		free_bit_set(&ns->index, slot);
}

void xp_ns_index_link(struct xp_ns *ns, uint32_t slot, unsigned what)
{
	if (what & XP_IX_NAME)
		name_link(ns, slot);
	if (what & XP_IX_PLACE) {
		ns->views_current = false;
		extent_link(ns, slot);
	}
	if ((what & XP_IX_ALL) == XP_IX_ALL)
		free_bit_clear(&ns->index, slot);
}

void xp_ns_index_build(struct xp_ns *ns, const uint32_t *order, uint32_t n)
{
	struct xp_ns_index *ix = &ns->index;
	uint64_t cursor = ns->sb.data_offset;
	uint64_t data_end = ns->sb.data_offset + ns->sb.data_size;

	memset(ix->name_head, 0xff,
	       ((size_t)ix->name_mask + 1) * sizeof(*ix->name_head));
	memset(ix->free_bits, 0,
	       (ix->free_off[ix->free_levels - 1] + 1) *
		   sizeof(*ix->free_bits));
	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		if (ns->slots[i].state == XP_SLOT_FREE)
			free_bit_set(ix, i);
	/*
	 * As xp_ns_rebuild() derives the gaps: overlapping extents leave no
	 * gap between them, and with a corrupt slot nothing is known free.
	 * Appending in offset order walks only the tree's right edge.
	 */
	ix->root = NIL;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t s = order[i];
		struct xp_ns_node *nd = &ix->node[s];
		uint64_t off;

		node_key(ns, s);
		off = nd->off;
		nd->left = nd->right = NIL;
		nd->gap = !ns->ncorrupt && off > cursor ? off - cursor : 0;
		if (rec_end(ns, s) > cursor)
			cursor = rec_end(ns, s);
		pull(ns, s);
		ix->root = merge(ns, ix->root, s);
		name_link(ns, s);
	}
	ix->tail_gap =
	    !ns->ncorrupt && data_end > cursor ? data_end - cursor : 0;
	ns->nused = n;
}

/* ---- queries ------------------------------------------------------------- */

uint32_t xp_ns_index_extent_at(const struct xp_ns *ns, uint32_t idx)
{
	const struct xp_ns_node *nd = ns->index.node;
	uint32_t t = ns->index.root;

	while (t != NIL) {
		uint32_t left = nd[t].left == NIL ? 0 : nd[nd[t].left].count;

		if (idx < left) {
			t = nd[t].left;
		} else if (idx == left) {
			return t;
		} else {
			idx -= left + 1;
			t = nd[t].right;
		}
	}
	return NIL;
}

uint32_t xp_ns_index_gap_count(const struct xp_ns *ns)
{
	const struct xp_ns_index *ix = &ns->index;

	return (ix->root == NIL ? 0 : ix->node[ix->root].gaps) +
	       (ix->tail_gap != 0);
}

static void gap_of(const struct xp_ns *ns, uint32_t s, struct xp_gap *gap)
{
	gap->size = ns->index.node[s].gap;
	gap->offset = ns->index.node[s].off - gap->size;
}

static void tail_of(const struct xp_ns *ns, struct xp_gap *gap)
{
	gap->size = ns->index.tail_gap;
	gap->offset = ns->sb.data_offset + ns->sb.data_size - gap->size;
}

bool xp_ns_index_gap_at(const struct xp_ns *ns, uint32_t idx,
			struct xp_gap *gap)
{
	const struct xp_ns_node *nd = ns->index.node;
	uint32_t t = ns->index.root;

	while (t != NIL) {
		uint32_t left = nd[t].left == NIL ? 0 : nd[nd[t].left].gaps;

		if (idx < left) {
			t = nd[t].left;
			continue;
		}
		idx -= left;
		if (nd[t].gap) {
			if (!idx) {
				gap_of(ns, t, gap);
				return true;
			}
			idx--;
		}
		t = nd[t].right;
	}
	if (idx || !ns->index.tail_gap)
		return false;
	tail_of(ns, gap);
	return true;
}

/*
 * In offset order, the gaps of @t of at least @min bytes, until @fn says
 * stop; subtrees without one are skipped whole. The nodes whose right
 * side is still to come wait in index.path, which no change is using
 * while a question runs (one thread per handle): no call per level.
 */
static bool gaps_walk(const struct xp_ns *ns, uint32_t t, uint64_t min,
		      bool (*fn)(const struct xp_gap *g, void *arg), void *arg)
{
	const struct xp_ns_node *nd = ns->index.node;
	uint32_t *pending = ns->index.path, d = 0;
	struct xp_gap g;

	for (;;) {
		while (t != NIL && nd[t].gap_max >= min && nd[t].gap_max) {
			pending[d++] = t;
			t = nd[t].left;
		}
		if (!d)
			return false;
		t = pending[--d];
		if (nd[t].gap && nd[t].gap >= min) {
			gap_of(ns, t, &g);
			if (fn(&g, arg))
				return true;
		}
		t = nd[t].right;
	}
}

bool xp_ns_index_gaps_from(const struct xp_ns *ns, uint64_t min,
			   bool (*fn)(const struct xp_gap *g, void *arg),
			   void *arg)
{
	struct xp_gap g;

	if (gaps_walk(ns, ns->index.root, min, fn, arg))
		return true;
	if (!ns->index.tail_gap || ns->index.tail_gap < min)
		return false;
	tail_of(ns, &g);
	return fn(&g, arg);
}

uint32_t xp_ns_index_next_after(const struct xp_ns *ns, uint64_t off)
{
	const struct xp_ns_node *nd = ns->index.node;
	uint32_t t = ns->index.root, best = NIL;

	while (t != NIL) {
		if (nd[t].off > off) {
			best = t;
			t = nd[t].left;
		} else {
			t = nd[t].right;
		}
	}
	return best;
}

void xp_ns_index_space(const struct xp_ns *ns, uint64_t *used,
		       uint64_t *free_bytes, uint64_t *largest)
{
	const struct xp_ns_index *ix = &ns->index;
	const struct xp_ns_node *r =
	    ix->root == NIL ? NULL : &ix->node[ix->root];

	*used = r ? r->used : 0;
	*free_bytes = (r ? r->gap_sum : 0) + ix->tail_gap;
	*largest = r && r->gap_max > ix->tail_gap ? r->gap_max : ix->tail_gap;
}
