/* SPDX-License-Identifier: MIT */
/*
 * Recording media backend: see recmedia.h for the persistence model.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recmedia.h"
#include "xp_internal.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "recmedia: out of memory\n");
		abort();
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "recmedia: out of memory\n");
		abort();
	}
	return p;
}

static struct recmedia *R(struct xp_media *m)
{
	return (struct recmedia *)m;
}

static int bounds(struct xp_media *m, uint64_t off, uint64_t len)
{
	if (off > m->size || len > m->size - off)
		return xp_err(EINVAL, m->target,
			      "access past the end of the namespace");
	return 0;
}

static void log_event(struct recmedia *rm, enum rec_ev_kind kind,
		      uint64_t off, uint64_t len, const void *data)
{
	struct rec_event *e;

	if (rm->nlog == rm->caplog) {
		rm->caplog = rm->caplog ? 2 * rm->caplog : 64;
		rm->log = xrealloc(rm->log, rm->caplog * sizeof(*rm->log));
	}
	e = &rm->log[rm->nlog++];
	e->kind = kind;
	e->off = off;
	e->len = len;
	e->data = NULL;
	if (data) {
		e->data = xmalloc((size_t)len);
		memcpy(e->data, data, (size_t)len);
	}
}

static void mark_dirty(struct recmedia *rm, uint64_t line)
{
	if (rm->dirty[line])
		return;
	rm->dirty[line] = 1;
	if (rm->ndlist == rm->capdlist) {
		rm->capdlist = rm->capdlist ? 2 * rm->capdlist : 256;
		rm->dlist = xrealloc(rm->dlist, rm->capdlist * sizeof(uint64_t));
	}
	rm->dlist[rm->ndlist++] = line;
}

static void point(struct recmedia *rm, enum rec_ev_kind kind)
{
	if (!rm->point || rm->in_point)
		return;
	rm->in_point = true;
	rm->point(rm, kind, rm->point_arg);
	rm->in_point = false;
}

static int r_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	int rc = bounds(m, off, len);

	if (!rc)
		memcpy(buf, R(m)->vol + off, len);
	return rc;
}

/* Slots are 256-byte aligned: flipping bit 7 of an offset swaps copies. */
_Static_assert(XP_TABLE_OFFSET % XP_SLOT_SIZE == 0, "slot alignment");

/*
 * A store of one whole record copy inside the extent table (@len
 * XP_REC_SIZE), or of its first word alone (8: the seq word an update
 * over a torn copy stores first)?
 */
static bool record_store(const struct recmedia *rm, uint64_t off, size_t len,
			 size_t want)
{
	const struct xp_sb_disk *d = (const struct xp_sb_disk *)rm->vol;
	uint64_t end = XP_TABLE_OFFSET +
		       (uint64_t)xp_get32(d->slot_count) * XP_SLOT_SIZE;

	return len == want && off >= XP_TABLE_OFFSET && off < end &&
	       !((off - XP_TABLE_OFFSET) % XP_REC_SIZE);
}

/*
 * REC_INJ_TAG_REUSE: give the record about to be stored at @off the seq
 * right after the slot's other copy, whatever tags the target copy holds,
 * and re-seal it (checksum, tags). The namespace UUID is the primary
 * superblock's: the simulator never damages it during an extent update.
 */
static void retag(struct recmedia *rm, uint64_t off, uint8_t *rec)
{
	const struct xp_sb_disk *d = (const struct xp_sb_disk *)rm->vol;
	uint32_t slot = (uint32_t)((off - XP_TABLE_OFFSET) / XP_SLOT_SIZE);
	uint64_t other = off ^ XP_REC_SIZE;	/* the slot's other copy */
	uint8_t pl[XP_REC_PAYLOAD], opl[XP_REC_PAYLOAD];
	struct xp_rec_payload *p = (struct xp_rec_payload *)pl;
	const struct xp_rec_payload *o = (const struct xp_rec_payload *)opl;
	uint64_t seq;

	xp_rec_gather(rm->vol + other, opl);
	xp_rec_gather(rec, pl);
	seq = xp_get64(o->seq) + 1;
	if (seq == xp_get64(p->seq))
		return;		/* what the library chose anyway */
	p->seq = xp_put64(seq);
	p->checksum = xp_put64(xp_rec_checksum(d->ns_uuid, slot, pl));
	xp_rec_scatter(pl, xp_rec_tag(seq), rec);
	rm->injected++;
}

/* The same for a store of the seq word alone: payload bytes 0..6 of the
 * seq, and its tag. */
static void retag_word(struct recmedia *rm, uint64_t off, uint8_t *word)
{
	uint8_t opl[XP_REC_PAYLOAD];
	const struct xp_rec_payload *o = (const struct xp_rec_payload *)opl;
	uint64_t seq;
	xp_le64 v;

	xp_rec_gather(rm->vol + (off ^ XP_REC_SIZE), opl);
	seq = xp_get64(o->seq) + 1;
	v = xp_put64(seq);
	if (!memcmp(word, v.b, XP_REC_WORD_PAYLOAD))
		return;
	memcpy(word, v.b, XP_REC_WORD_PAYLOAD);
	word[7] = xp_rec_tag(seq);
	rm->injected++;
}

/* Nothing reaches the media between a store_flush() and its fence. */
static void no_fence_owed(struct recmedia *rm, const char *what, uint64_t off)
{
	if (!rm->fence_owed)
		return;
	fprintf(stderr,
		"recmedia: %s at %#llx while the fence of a store_flush is still owed\n",
		what, (unsigned long long)off);
	abort();
}

static int r_write(struct xp_media *m, uint64_t off, const void *buf,
		   size_t len)
{
	struct recmedia *rm = R(m);
	uint8_t rec[XP_REC_SIZE];
	int rc = bounds(m, off, len);

	if (rc)
		return rc;
	no_fence_owed(rm, "store", off);
	if (!len)
		return 0;
	if (rm->inject == REC_INJ_SWAP_COPY &&
	    (record_store(rm, off, len, XP_REC_SIZE) ||
	     record_store(rm, off, len, 8))) {
		off ^= XP_REC_SIZE;
		rm->injected++;
	}
	if (rm->inject == REC_INJ_TAG_REUSE &&
	    record_store(rm, off, len, XP_REC_SIZE)) {
		memcpy(rec, buf, sizeof(rec));
		retag(rm, off, rec);
		buf = rec;
	}
	if (rm->inject == REC_INJ_TAG_REUSE && record_store(rm, off, len, 8)) {
		memcpy(rec, buf, 8);
		retag_word(rm, off, rec);
		buf = rec;
	}
	memcpy(rm->vol + off, buf, len);
	for (uint64_t l = off / rm->line; l <= (off + len - 1) / rm->line; l++)
		mark_dirty(rm, l);
	log_event(rm, REC_EV_STORE, off, len, buf);
	rm->nstores++;
	point(rm, REC_EV_STORE);
	return 0;
}

static int r_flush(struct xp_media *m, uint64_t off, size_t len)
{
	struct recmedia *rm = R(m);
	int rc = bounds(m, off, len);

	if (rc)
		return rc;
	log_event(rm, REC_EV_FLUSH, off, len, NULL);
	rm->nflushes++;
	if (rm->inject == REC_INJ_DROP_FLUSH && len) {
		rm->injected++;
		return 0;
	}
	if (rm->model != REC_PMEM || !len)
		return 0;
	for (uint64_t l = off / rm->line; l <= (off + len - 1) / rm->line; l++) {
		if (!rm->dirty[l])
			continue;
		if (rm->nflist == rm->capflist) {
			rm->capflist = rm->capflist ? 2 * rm->capflist : 256;
			rm->flist = xrealloc(rm->flist,
					     rm->capflist * sizeof(uint64_t));
			rm->fsnap = xrealloc(rm->fsnap, rm->capflist * rm->line);
		}
		rm->flist[rm->nflist] = l;
		memcpy(rm->fsnap + rm->nflist * rm->line, rm->vol + l * rm->line,
		       rm->line);
		rm->nflist++;
	}
	return 0;
}

static void settle(struct recmedia *rm, uint64_t l)
{
	if (!memcmp(rm->vol + l * rm->line, rm->per + l * rm->line, rm->line))
		rm->dirty[l] = 0;
}

static int r_drain(struct xp_media *m)
{
	struct recmedia *rm = R(m);

	log_event(rm, REC_EV_FENCE, 0, 0, NULL);
	rm->nfences++;
	rm->fence_owed = false;
	if (rm->model == REC_PMEM) {
		for (size_t i = 0; i < rm->nflist; i++)
			memcpy(rm->per + rm->flist[i] * rm->line,
			       rm->fsnap + i * rm->line, rm->line);
		for (size_t i = 0; i < rm->nflist; i++)
			settle(rm, rm->flist[i]);
		rm->nflist = 0;
	} else {
		for (size_t i = 0; i < rm->ndlist; i++) {
			uint64_t l = rm->dlist[i];

			if (!rm->dirty[l])
				continue;
			memcpy(rm->per + l * rm->line, rm->vol + l * rm->line,
			       rm->line);
			rm->dirty[l] = 0;
		}
		rm->ndlist = 0;
	}
	point(rm, REC_EV_FENCE);
	return 0;
}

static int r_zero(struct xp_media *m, uint64_t off, uint64_t len,
		  xp_progress_fn progress, void *arg)
{
	struct recmedia *rm = R(m);
	int rc = bounds(m, off, len);

	if (rc)
		return rc;
	no_fence_owed(rm, "zero", off);
	/* Like the real backends: zeroed and durable when it returns. */
	memset(rm->vol + off, 0, len);
	memset(rm->per + off, 0, len);
	log_event(rm, REC_EV_ZERO, off, len, NULL);
	if (len)
		for (uint64_t l = off / rm->line; l <= (off + len - 1) / rm->line;
		     l++)
			if (rm->dirty[l])
				settle(rm, l);
	if (progress)
		progress(len, len, arg);
	point(rm, REC_EV_FENCE);
	return 0;
}

/*
 * As the pmem2 backend offers it: the store and its flush now, the fence
 * when the library drains. The same events as write + flush, so every
 * crash point of the split update is explored as before.
 */
static int r_store_flush(struct xp_media *m, uint64_t off, const void *buf,
			 size_t len)
{
	int rc = r_write(m, off, buf, len);

	rc = rc ?: r_flush(m, off, len);
	if (!rc)
		R(m)->fence_owed = true;
	return rc;
}

static void r_close(struct xp_media *m)
{
	/* The recorder outlives the handles the library opens over it. */
	(void)m;
}

/* As the block backend: every store through write, flush and drain. */
static const struct xp_media_ops rec_ops_block = {
	.read = r_read,
	.write = r_write,
	.flush = r_flush,
	.drain = r_drain,
	.zero = r_zero,
	.close = r_close,
};

/* As the pmem2 backend: an update's record store may leave its fence. */
static const struct xp_media_ops rec_ops_pmem = {
	.read = r_read,
	.write = r_write,
	.flush = r_flush,
	.drain = r_drain,
	.store_flush = r_store_flush,
	.zero = r_zero,
	.close = r_close,
};

struct recmedia *rec_new(uint64_t size, enum rec_model model)
{
	struct recmedia *rm = calloc(1, sizeof(*rm));

	if (!rm)
		return NULL;
	rm->model = model;
	rm->line = model == REC_PMEM ? 64 : 512;
	rm->size = size;
	rm->vol = calloc(1, size);
	rm->per = calloc(1, size);
	rm->dirty = calloc(1, size / rm->line + 1);
	if (!rm->vol || !rm->per || !rm->dirty) {
		rec_free(rm);
		return NULL;
	}
	rm->m.ops = model == REC_PMEM ? &rec_ops_pmem : &rec_ops_block;
	rm->m.kind = model == REC_PMEM ? XP_BACKEND_FILE : XP_BACKEND_BLOCK;
	rm->m.size = size;
	rm->m.fd = -1;
	rm->m.writable = 1;
	rm->m.priv = rm;
	snprintf(rm->m.path, sizeof(rm->m.path), "(recorder)");
	snprintf(rm->m.target, sizeof(rm->m.target), "(recorder)");
	return rm;
}

void rec_log_reset(struct recmedia *rm)
{
	for (size_t i = 0; i < rm->nlog; i++)
		free(rm->log[i].data);
	rm->nlog = 0;
	rm->nstores = rm->nflushes = rm->nfences = 0;
}

void rec_free(struct recmedia *rm)
{
	if (!rm)
		return;
	rec_log_reset(rm);
	free(rm->log);
	free(rm->vol);
	free(rm->per);
	free(rm->dirty);
	free(rm->dlist);
	free(rm->flist);
	free(rm->fsnap);
	free(rm);
}

void rec_poke(struct recmedia *rm, uint64_t off, const void *buf, size_t len)
{
	memcpy(rm->vol + off, buf, len);
	memcpy(rm->per + off, buf, len);
	if (len)
		for (uint64_t l = off / rm->line; l <= (off + len - 1) / rm->line;
		     l++)
			if (rm->dirty[l])
				settle(rm, l);
}

/* Drop clean and duplicate entries from the dirty list. */
static void compact(struct recmedia *rm)
{
	size_t n = 0;

	for (size_t i = 0; i < rm->ndlist; i++) {
		uint64_t l = rm->dlist[i];

		if (rm->dirty[l] != 1)
			continue;
		rm->dirty[l] = 2;
		rm->dlist[n++] = l;
	}
	for (size_t i = 0; i < n; i++)
		rm->dirty[rm->dlist[i]] = 1;
	rm->ndlist = n;
}

size_t rec_dirty_lines(struct recmedia *rm, uint64_t *out, size_t max)
{
	size_t n = 0;

	compact(rm);
	for (size_t i = 0; i < rm->ndlist; i++) {
		uint64_t l = rm->dlist[i];

		if (!memcmp(rm->vol + l * rm->line, rm->per + l * rm->line,
			    rm->line))
			continue;
		if (n < max)
			out[n] = l;
		n++;
	}
	return n;
}

size_t rec_pending(struct recmedia *rm)
{
	return rec_dirty_lines(rm, NULL, 0);
}
