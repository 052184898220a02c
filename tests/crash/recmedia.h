/* SPDX-License-Identifier: MIT */
/*
 * Recording media backend for the crash simulator.
 *
 * An xp_media over an in-memory image that implements the same interface
 * as the real backends (media.h) and logs every store, flush and fence the
 * library issues. It keeps two images:
 *
 *   vol  the volatile view: what the CPU sees. read() returns it, write()
 *        changes it.
 *   per  the persisted image: what survives a power failure for sure.
 *
 * Persistence is tracked per "line": a 64-byte cache line in the pmem model,
 * a 512-byte sector in the block model.
 *
 *   pmem   write() dirties lines; flush() snapshots the dirty lines of its
 *          range (the write-back the flush started); drain() makes every
 *          snapshot taken since the last drain durable. A line stored,
 *          never flushed, stays dirty (it may still be evicted at any time).
 *   block  write() dirties sectors (page cache); flush() is a hint only;
 *          drain() (fdatasync) makes every dirty sector durable.
 *
 * A crash image is per plus any subset of the dirty lines (each at its
 * volatile content), plus tears inside a line; the simulator builds those.
 * The recorder calls back after every store and after every fence so the
 * simulator can enumerate crash images at each crash point.
 */
#ifndef XP_RECMEDIA_H
#define XP_RECMEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media.h"

enum rec_model {
	REC_PMEM,	/* 64-byte cache lines, clwb + sfence semantics */
	REC_BLOCK,	/* 512-byte sectors, pwrite + fdatasync semantics */
};

enum rec_ev_kind {
	REC_EV_STORE,
	REC_EV_FLUSH,
	REC_EV_FENCE,
	REC_EV_ZERO,	/* zero(): stored and made durable at once */
};

struct rec_event {
	enum rec_ev_kind kind;
	uint64_t off, len;	/* range (0 for a fence) */
	uint8_t *data;		/* the stored bytes, for stores */
};

/*
 * Deliberate protocol violations, to prove the simulator catches them:
 * the library itself is never changed.
 */
enum rec_inject {
	REC_INJ_NONE,
	REC_INJ_SWAP_COPY,	/* record stores land on the other copy */
	REC_INJ_DROP_FLUSH,	/* flush() does nothing */
	/*
	 * The writer ignores the tag rule: a record store is rewritten to
	 * seq = (the other copy's seq) + 1 with that seq's tag, even when the
	 * target copy already carries that tag (left there by an interrupted
	 * update). A tear can then show uniform tags: a false "corrupt".
	 */
	REC_INJ_TAG_REUSE,
};

struct recmedia;

/* Called after each store and after each fence (kind says which). */
typedef void (*rec_point_fn)(struct recmedia *rm, enum rec_ev_kind kind,
			     void *arg);

struct recmedia {
	struct xp_media m;	/* first: the library sees only this */
	enum rec_model model;
	uint32_t line;		/* 64 or 512 */
	uint64_t size;
	uint8_t *vol;		/* volatile view */
	uint8_t *per;		/* persisted image */
	uint8_t *dirty;		/* per line: 1 when stored since persisted */
	uint64_t *dlist;	/* dirty line indices (may hold clean ones) */
	size_t ndlist, capdlist;
	/* pmem: lines flushed since the last drain, with their snapshot */
	uint64_t *flist;
	uint8_t *fsnap;
	size_t nflist, capflist;
	/* the log of the current recording window */
	struct rec_event *log;
	size_t nlog, caplog;
	uint64_t nstores, nflushes, nfences;	/* in the window */
	rec_point_fn point;
	void *point_arg;
	bool in_point;		/* no recursion from a callback */
	enum rec_inject inject;
	uint64_t injected;	/* stores the injection changed */
	/*
	 * Since a store_flush(), whose fence the library issues later:
	 * another store or zero before that fence would be ordered by a
	 * fence its caller never asked for; the recorder aborts.
	 */
	bool fence_owed;
};

/* New recorder over a zeroed image of @size bytes. */
struct recmedia *rec_new(uint64_t size, enum rec_model model);
void rec_free(struct recmedia *rm);

static inline struct xp_media *rec_media(struct recmedia *rm)
{
	return &rm->m;
}

/* Set bytes in both images (test setup; not logged, not a crash point). */
void rec_poke(struct recmedia *rm, uint64_t off, const void *buf, size_t len);

/* Start a new recording window: clears the log and counters. */
void rec_log_reset(struct recmedia *rm);

/* Lines currently dirty whose volatile bytes differ from the persisted. */
size_t rec_dirty_lines(struct recmedia *rm, uint64_t *out, size_t max);

/* Number of lines that are dirty and differ (for "everything durable?"). */
size_t rec_pending(struct recmedia *rm);

#endif /* XP_RECMEDIA_H */
