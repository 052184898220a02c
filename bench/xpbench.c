/* SPDX-License-Identifier: MIT */
/*
 * libxenpmem's side of the benchmark (bench/bench.py runs it and prints
 * the table). Each mode prints one line of "key value" pairs; times are
 * never asserted here.
 *
 * Unless a mode says otherwise the namespace is a file on tmpfs opened
 * through the library's libpmem2 backend (xp_media_open_pmem2) with
 * PMEM2_FORCE_GRANULARITY=CACHE_LINE, so that every flush is a cache-line
 * flush and every fence an sfence, as on real pmem and as PMDK and the
 * floor are measured. The public API (xp_ns_open) would take the
 * pwrite + fdatasync backend on tmpfs, which has no MAP_SYNC; "public"
 * measures that path as well.
 *
 * The work a mode measures runs in functions named bench_measured_*, so
 * that `valgrind --tool=callgrind --toggle-collect='bench_measured_*'`
 * counts its instructions and nothing of the setup.
 *
 *   xpbench update OP DIR SLOTS EXTENTS MAXOPS MAXSEC [public]
 *           OP: assign, rename or pair (create + destroy)
 *   xpbench init DIR SIZE
 *   xpbench populate FILE SLOTS EXTENTS
 *   xpbench openlist FILE RUNS
 *   xpbench bulk DIR SLOTS N MAXSEC
 *   xpbench frag DIR OPS SEED
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "counting.h"

#define EXTENT_SIZE (2ull << 20)

static void die(const char *what)
{
	fprintf(stderr, "xpbench: %s: %s\n", what, xp_last_error());
	exit(1);
}

static void check(int rc, const char *what)
{
	if (rc)
		die(what);
}

static void make_sparse(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		fprintf(stderr, "xpbench: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

/* The library's libpmem2 backend over @path, under a counting wrapper. */
static struct counting *open_pmem2(const char *path)
{
	struct xp_media tmpl, *inner;
	struct counting *c;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.fd = -1;
	tmpl.writable = 1;
	tmpl.kind = XP_BACKEND_FILE;
	snprintf(tmpl.path, sizeof(tmpl.path), "%s", path);
	snprintf(tmpl.target, sizeof(tmpl.target), "%s", path);
	check(xp_media_open_pmem2(&tmpl, &inner), "open media");
	c = counting_wrap(inner);
	if (!c) {
		fprintf(stderr, "xpbench: out of memory\n");
		exit(1);
	}
	return c;
}

static struct xp_ns *open_ns(struct counting *c)
{
	struct xp_ns *ns;

	check(xp_media_lock(&c->m, true, 0), "lock");
	check(xp_ns_open_media(&c->m, XP_OPEN_WRITE, &ns), "open");
	return ns;
}

static void init_ns(const char *path, uint64_t size, uint32_t slots,
		    uint64_t align)
{
	struct xp_init_opts o = {.max_extents = slots, .mgmt = XP_MGMT_XEN,
				 .align = align};
	struct counting *c;

	make_sparse(path, size);
	c = open_pmem2(path);
	check(xp_ns_init_media(&c->m, &o, NULL), "init");
	xp_media_close(&c->m);
}

/*
 * Fill slots 0..@n-1 with 2 MiB extents "e0", "e1", ... laid end to end
 * from the start of the data area. This is setup, not a measurement: the
 * records are stored the way slot_commit() stores them (the copy and
 * sequence the format picks), under one fence per batch instead of one
 * per slot, so that a 60,000-extent table is ready in a second whatever
 * one create costs. Opening the namespace again then validates it all.
 */
static void populate(struct xp_ns *ns, uint32_t n)
{
	struct xp_media *m = ns->media;
	uint8_t buf[XP_REC_SIZE] __attribute__((aligned(XP_CACHELINE)));
	struct xp_info info;

	xp_ns_get_info(ns, &info);
	if (n > info.slot_count || n > info.data_size / EXTENT_SIZE) {
		fprintf(stderr, "xpbench: %u extents do not fit\n", n);
		exit(1);
	}
	for (uint32_t i = 0; i < n; i++) {
		struct xp_slot *s = &ns->slots[i];
		struct xp_rec rec;
		uint64_t seq, off;
		int copy = xp_slot_next_copy(s, &seq);

		if (copy < 0 || s->state != XP_SLOT_FREE) {
			fprintf(stderr, "xpbench: slot %u is not a fresh free slot\n", i);
			exit(1);
		}
		memset(&rec, 0, sizeof(rec));
		rec.type = XP_REC_DATA;
		rec.seq = seq;
		rec.offset = info.data_offset + (uint64_t)i * EXTENT_SIZE;
		rec.size = EXTENT_SIZE;
		rec.align_shift = XP_ALIGN_2M_SHIFT;
		xp_uuid_generate(rec.uuid);
		snprintf(rec.name, sizeof(rec.name), "e%u", i);
		xp_rec_encode(&ns->sb, i, &rec, buf);
		off = xp_slot_offset(i) + (uint64_t)copy * XP_REC_SIZE;
		check(xp_media_write(m, off, buf, XP_REC_SIZE), "populate");
		check(xp_media_flush(m, off, XP_REC_SIZE), "populate");
		if (i % 1024 == 1023)
			check(xp_media_drain(m), "populate");
	}
	check(xp_media_drain(m), "populate");
}

/* A 2 MiB-aligned namespace of @slots slots holding @n extents. */
static void make_populated(const char *path, uint32_t slots, uint32_t n)
{
	/* Room for every slot's extent, and sparse whatever the size. */
	uint64_t size = ((uint64_t)slots * EXTENT_SIZE * 2) + (64ull << 30);
	struct counting *c;
	struct xp_ns *ns;

	init_ns(path, size, slots, EXTENT_SIZE);
	c = open_pmem2(path);
	ns = open_ns(c);
	populate(ns, n);
	xp_ns_close(ns);
	xp_media_close(&c->m);
	/* The populated table must read back whole: no damage, n extents. */
	c = open_pmem2(path);
	ns = open_ns(c);
	if (xp_ns_damage(ns) || xp_ns_extent_count(ns) != n) {
		fprintf(stderr, "xpbench: populated table reads back as %u extents (%s)\n",
			xp_ns_extent_count(ns), xp_ns_damage(ns) ?: "no damage");
		exit(1);
	}
	xp_ns_close(ns);
	xp_media_close(&c->m);
}

enum update_op { UPDATE_ASSIGN, UPDATE_RENAME, UPDATE_PAIR };

struct update_ctx {
	struct xp_ns *ns;
	enum update_op op;
	char target[32], other[32];
	uint8_t owner[2][16];
	struct xp_create_opts pair_opts;
	unsigned i;
};

/* One update; what it does alternates so that every call changes a slot. */
static NOINLINE int bench_measured_update(struct update_ctx *u)
{
	bool odd = ++u->i & 1;
	int rc;

	switch (u->op) {
	case UPDATE_ASSIGN:
		return xp_extent_assign(u->ns, u->target, u->owner[odd]);
	case UPDATE_RENAME:
		return xp_extent_rename(u->ns, odd ? u->target : u->other,
					odd ? u->other : u->target, 0);
	case UPDATE_PAIR:
		/* Options built once, in mode_update(): built here, the
		 * other updates paid 21 instructions for zeroing them. */
		rc = xp_extent_create(u->ns, &u->pair_opts, NULL);
		return rc ?: xp_extent_destroy(u->ns, u->other, 0);
	}
	return -EINVAL;
}

/* How many updates the counting pass makes before the timed loop. */
#define COUNTED_OPS 100

/* The sequence number of the target extent's slot, under either name. */
static uint64_t target_seq(struct xp_ns *ns, const struct update_ctx *u,
			   struct xp_extent *e)
{
	const char *name = u->op == UPDATE_RENAME && (u->i & 1) ? u->other :
								   u->target;

	check(xp_ns_extent_find(ns, name, e), "find the target extent");
	return e->seq;
}

/*
 * After the runs: the namespace read back through the public API (pread
 * of the file, not the mapping the updates stored through) holds every
 * update: the target's slot went up by one sequence number an update, and
 * it has the owner or name the last one gave it; a pair left no extent
 * behind.
 */
static void check_updates(const char *path, const struct update_ctx *u,
			  uint32_t n, uint64_t seq0)
{
	struct xp_extent e;
	struct xp_ns *ns;
	uint64_t seq;

	check(xp_ns_open(path, 0, &ns), "open to check");
	seq = target_seq(ns, u, &e);
	if (xp_ns_damage(ns) || xp_ns_extent_count(ns) != n ||
	    (u->op != UPDATE_PAIR && seq != seq0 + u->i) ||
	    (u->op == UPDATE_ASSIGN &&
	     (!e.assigned || memcmp(e.owner, u->owner[u->i & 1], 16))) ||
	    (u->op == UPDATE_PAIR &&
	     xp_ns_extent_find(ns, u->other, &e) != -ENOENT)) {
		fprintf(stderr,
			"xpbench: after %u updates the table reads back wrong: %u extents, target seq %llu (from %llu), %s\n",
			u->i, xp_ns_extent_count(ns), (unsigned long long)seq,
			(unsigned long long)seq0, xp_ns_damage(ns) ?: "no damage");
		exit(1);
	}
	xp_ns_close(ns);
}

/*
 * One namespace an update row runs on: its file, handle and update, and
 * what was measured on it.
 */
struct update_run {
	char path[512];
	struct update_ctx u;
	struct counting *c;	/* NULL for the public API */
	uint32_t n;
	uint64_t seq0;
	uint64_t fences, lines, bytes;
	unsigned counted;
	uint64_t *lat;
	unsigned done, b2b;
	uint64_t b2b_ns;
};

static bool update_op_of(const char *op, enum update_op *out)
{
	if (!strcmp(op, "assign"))
		*out = UPDATE_ASSIGN;
	else if (!strcmp(op, "rename"))
		*out = UPDATE_RENAME;
	else if (!strcmp(op, "pair"))
		*out = UPDATE_PAIR;
	else
		return false;
	return true;
}

/* A populated namespace of @slots slots with @n extents, opened for @op,
 * with room for @maxops timed latencies. */
static void update_setup(struct update_run *r, enum update_op op,
			 const char *dir, uint32_t slots, uint32_t n,
			 unsigned maxops, bool public_api, unsigned idx)
{
	struct update_ctx *u = &r->u;
	struct xp_extent e;

	memset(r, 0, sizeof(*r));
	r->n = n;
	u->op = op;
	snprintf(r->path, sizeof(r->path), "%s/update-%d-%u.img", dir,
		 (int)getpid(), idx);
	make_populated(r->path, slots, n);
	/* The extent in the middle of the offset order, as a toolstack's
	 * guest would be anywhere in the table. */
	snprintf(u->target, sizeof(u->target), "e%u", n / 2);
	snprintf(u->other, sizeof(u->other), "%s", u->op == UPDATE_PAIR ?
		 "bench-pair" : "bench-renamed");
	u->pair_opts.name = u->other;
	u->pair_opts.size = EXTENT_SIZE;
	u->pair_opts.flags = XP_NO_ZERO;
	xp_uuid_generate(u->owner[0]);
	xp_uuid_generate(u->owner[1]);
	if (public_api) {
		check(xp_ns_open(r->path, XP_OPEN_WRITE, &u->ns), "open");
		r->seq0 = target_seq(u->ns, u, &e);
	} else {
		/*
		 * Fences and cache lines from a counting pass through the
		 * wrapper; then the handle is opened again on the bare
		 * libpmem2 media, so that neither the times nor the
		 * instruction counts include the wrapper's work.
		 */
		r->c = open_pmem2(r->path);
		u->ns = open_ns(r->c);
		r->seq0 = target_seq(u->ns, u, &e);
		for (; r->counted < COUNTED_OPS && r->counted < maxops;
		     r->counted++) {
			counting_reset(r->c);
			check(bench_measured_update(u), "update");
			r->fences += r->c->fences;
			r->lines += r->c->lines_flushed;
			r->bytes += r->c->bytes_written;
		}
		xp_ns_close(u->ns);
		check(xp_ns_open_media(r->c->inner, XP_OPEN_WRITE, &u->ns),
		      "open");
	}
	r->lat = calloc(maxops ? maxops : 1, sizeof(*r->lat));
	if (!r->lat) {
		fprintf(stderr, "xpbench: out of memory\n");
		exit(1);
	}
	for (unsigned i = 0; i < WARMUP_OPS; i++)
		check(bench_measured_update(u), "update");
}

/* Up to @count timed updates, each in its own window. */
static void update_timed(struct update_run *r, unsigned count)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		check(bench_measured_update(&r->u), "update");
		op_settled();
		r->lat[r->done++] = now_ns() - t0;
	}
}

/* @count updates back to back, no clock between them. */
static void update_b2b(struct update_run *r, unsigned count)
{
	uint64_t start = now_ns();

	for (unsigned i = 0; i < count; i++)
		check(bench_measured_update(&r->u), "update");
	r->b2b_ns += now_ns() - start;
	r->b2b += count;
}

static void update_print(struct update_run *r)
{
	qsort(r->lat, r->done, sizeof(*r->lat), cmp_u64);
	printf("ops %u p50_ns %" PRIu64 " p99_ns %" PRIu64
	       " b2b_ops %u b2b_ns %.1f", r->done,
	       r->done ? r->lat[r->done / 2] : 0,
	       r->done ? r->lat[(uint64_t)r->done * 99 / 100] : 0, r->b2b,
	       r->b2b ? (double)r->b2b_ns / r->b2b : 0.0);
	if (r->counted)
		printf(" fences_per_op %.3f lines_per_op %.3f bytes_per_op %.1f",
		       (double)r->fences / r->counted,
		       (double)r->lines / r->counted,
		       (double)r->bytes / r->counted);
	printf("\n");
}

/* Close, check that the file holds every update, and remove it. */
static void update_finish(struct update_run *r)
{
	xp_ns_close(r->u.ns);
	if (r->c)
		xp_media_close(&r->c->m);
	check_updates(r->path, &r->u, r->n, r->seq0);
	unlink(r->path);
	free(r->lat);
}

static int mode_update(int argc, char **argv)
{
	const char *dir = argv[3];
	uint32_t slots = (uint32_t)strtoul(argv[4], NULL, 0);
	uint32_t n = (uint32_t)strtoul(argv[5], NULL, 0);
	unsigned maxops = (unsigned)strtoul(argv[6], NULL, 0);
	double maxsec = strtod(argv[7], NULL);
	bool public_api = argc > 8 && !strcmp(argv[8], "public");
	struct update_run r;
	enum update_op op;
	uint64_t start;

	if (!update_op_of(argv[2], &op)) {
		fprintf(stderr, "xpbench: unknown update %s\n", argv[2]);
		return 2;
	}
	update_setup(&r, op, dir, slots, n, maxops, public_api, 0);
	MEASURING_STARTS();
	start = now_ns();
	while (r.done < maxops && (now_ns() - start) / 1e9 < maxsec)
		update_timed(&r, 1);
	/* Throughput: the same updates back to back, no clock between. */
	update_b2b(&r, b2b_count(r.done));
	update_print(&r);
	update_finish(&r);
	return 0;
}

/* Ops a scaling run gives one table before it moves on to the next. */
#define SCALE_BATCH 500u

/*
 * One update at several table sizes in one process: a handle on each,
 * then batches of timed updates on each in turn, until each has @maxops
 * or the time is up, and the same for back to back. A process's own
 * speed (its CPU, where its memory landed) moved a pair's p50 by +-15 %
 * from one process to the next, as much as the issue's +-20 % bound; in
 * one process it weighs on every size alike. One line a size, each
 * "extents N" and then the fields an update run prints.
 */
static int mode_scale(int argc, char **argv)
{
	const char *dir = argv[3];
	uint32_t slots = (uint32_t)strtoul(argv[4], NULL, 0);
	unsigned maxops = (unsigned)strtoul(argv[5], NULL, 0);
	double maxsec = strtod(argv[6], NULL);
	unsigned k = (unsigned)(argc - 7), left;
	struct update_run *r;
	enum update_op op;
	uint64_t start;

	if (!update_op_of(argv[2], &op)) {
		fprintf(stderr, "xpbench: unknown update %s\n", argv[2]);
		return 2;
	}
	r = calloc(k, sizeof(*r));
	if (!r)
		return 1;
	for (unsigned i = 0; i < k; i++)
		update_setup(&r[i], op, dir, slots,
			     (uint32_t)strtoul(argv[7 + i], NULL, 0), maxops,
			     false, i);
	MEASURING_STARTS();
	start = now_ns();
	do {
		left = 0;
		for (unsigned i = 0; i < k; i++) {
			unsigned want = maxops - r[i].done;

			update_timed(&r[i], want < SCALE_BATCH ? want : SCALE_BATCH);
			left += maxops - r[i].done;
		}
	} while (left && (now_ns() - start) / 1e9 < maxsec);
	do {
		left = 0;
		for (unsigned i = 0; i < k; i++) {
			unsigned want = b2b_count(r[i].done) - r[i].b2b;

			update_b2b(&r[i], want < SCALE_BATCH ? want : SCALE_BATCH);
			left += b2b_count(r[i].done) - r[i].b2b;
		}
	} while (left);
	for (unsigned i = 0; i < k; i++) {
		printf("extents %u ", r[i].n);
		update_print(&r[i]);
		update_finish(&r[i]);
	}
	free(r);
	return 0;
}

static NOINLINE int bench_measured_init(struct counting *c,
					struct xp_init_opts *o)
{
	return xp_ns_init_media(&c->m, o, NULL);
}

/*
 * Init with the default table (1,024 slots) and Xen management area, and
 * 2 MiB alignment at every size: a 1 GiB namespace has no room for a
 * 1 GiB-aligned data area, and one setting keeps the sizes comparable.
 */
static int mode_init(char **argv)
{
	struct xp_init_opts o = {.mgmt = XP_MGMT_XEN, .align = EXTENT_SIZE};
	const char *dir = argv[2];
	uint64_t size, t0, t1;
	struct counting *c;
	struct xp_ns *ns;
	struct xp_info info;
	char path[512];
	struct stat st;

	check(xp_parse_size(argv[3], &size), "size");
	snprintf(path, sizeof(path), "%s/init-%d.img", dir, (int)getpid());
	make_sparse(path, size);
	c = open_pmem2(path);
	MEASURING_STARTS();
	t0 = now_ns();
	check(bench_measured_init(c, &o), "init");
	op_settled();
	t1 = now_ns();
	ns = open_ns(c);
	xp_ns_get_info(ns, &info);
	xp_ns_close(ns);
	stat(path, &st);
	printf("ops 1 ns %" PRIu64 " bytes_written %" PRIu64 " fences %" PRIu64
	       " allocated %" PRIu64 " ns_size %" PRIu64 " table_end %" PRIu64
	       " mgmt_offset %" PRIu64 " mgmt_size %" PRIu64
	       " data_offset %" PRIu64 " data_size %" PRIu64 " slots %u\n",
	       t1 - t0, c->bytes_written, c->fences,
	       (uint64_t)st.st_blocks * 512, info.ns_size,
	       info.table_offset + info.table_size, info.mgmt_offset,
	       info.mgmt_size, info.data_offset, info.data_size,
	       info.slot_count);
	xp_media_close(&c->m);
	unlink(path);
	return 0;
}

static int mode_populate(char **argv)
{
	make_populated(argv[2], (uint32_t)strtoul(argv[3], NULL, 0),
		       (uint32_t)strtoul(argv[4], NULL, 0));
	return 0;
}

/* What a toolstack does to show the namespace: open read-only (public
 * API), walk every extent in offset order, close. */
static NOINLINE uint64_t bench_measured_openlist(const char *path)
{
	struct xp_ns *ns;
	struct xp_extent e;
	uint64_t sum = 0;
	uint32_t n;

	check(xp_ns_open(path, 0, &ns), "open");
	n = xp_ns_extent_count(ns);
	for (uint32_t i = 0; i < n; i++) {
		check(xp_ns_extent_get(ns, i, &e), "extent_get");
		sum += e.size;
	}
	xp_ns_close(ns);
	return sum;
}

static int mode_openlist(char **argv)
{
	const char *path = argv[2];
	unsigned runs = (unsigned)strtoul(argv[3], NULL, 0);
	uint64_t *lat = calloc(runs ? runs : 1, sizeof(*lat)), sum = 0;

	if (!lat)
		return 1;
	MEASURING_STARTS();
	for (unsigned r = 0; r < runs; r++) {
		uint64_t t0 = now_ns();

		sum = bench_measured_openlist(path);
		lat[r] = now_ns() - t0;
	}
	qsort(lat, runs, sizeof(*lat), cmp_u64);
	printf("ops %u p50_ns %" PRIu64 " p99_ns %" PRIu64 " listed_bytes %" PRIu64
	       "\n", runs, lat[runs / 2], lat[(uint64_t)runs * 99 / 100], sum);
	free(lat);
	return 0;
}

static NOINLINE int bench_measured_create(struct xp_ns *ns,
					  const struct xp_create_opts *co)
{
	return xp_extent_create(ns, co, NULL);
}

/* Create extents one by one into an empty table, as a toolstack starting
 * guests would; stops after @n or @maxsec. */
static int mode_bulk(char **argv)
{
	const char *dir = argv[2];
	uint32_t slots = (uint32_t)strtoul(argv[3], NULL, 0);
	unsigned n = (unsigned)strtoul(argv[4], NULL, 0);
	double maxsec = strtod(argv[5], NULL);
	struct xp_create_opts co = {.size = EXTENT_SIZE, .flags = XP_NO_ZERO};
	uint64_t start, *lat = calloc(n ? n : 1, sizeof(*lat));
	struct counting *c;
	struct xp_ns *ns;
	char path[512], name[32];
	unsigned done = 0;

	if (!lat)
		return 1;
	snprintf(path, sizeof(path), "%s/bulk-%d.img", dir, (int)getpid());
	make_populated(path, slots, 0);
	c = open_pmem2(path);
	ns = open_ns(c);
	co.name = name;
	MEASURING_STARTS();
	start = now_ns();
	while (done < n && (now_ns() - start) / 1e9 < maxsec) {
		uint64_t t0;

		snprintf(name, sizeof(name), "vm%u", done);
		t0 = now_ns();
		check(bench_measured_create(ns, &co), "create");
		op_settled();
		lat[done++] = now_ns() - t0;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("ops %u total_ns %" PRIu64 " p50_ns %" PRIu64 " p99_ns %" PRIu64
	       " extents %u\n", done, now_ns() - start, done ? lat[done / 2] : 0,
	       done ? lat[(uint64_t)done * 99 / 100] : 0, xp_ns_extent_count(ns));
	xp_ns_close(ns);
	xp_media_close(&c->m);
	unlink(path);
	free(lat);
	return 0;
}

/* xorshift64*: reproducible from the seed, no libc state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/*
 * Random creates and destroys holding the fill near 60 % of the data
 * area: a create when below, a destroy of a random extent when above.
 * Sizes are 1 to 32 units of 2 MiB. Reports how much of the free space the
 * largest free gap is at the end, and the worst seen along the way.
 */
static int mode_frag(char **argv)
{
	const char *dir = argv[2];
	unsigned ops = (unsigned)strtoul(argv[3], NULL, 0);
	uint64_t seed = strtoull(argv[4], NULL, 0) | 1;
	struct xp_create_opts co = {.flags = XP_NO_ZERO};
	unsigned *live, nlive = 0, next = 0, failed = 0;
	double worst = 1.0, ratio = 1.0;
	struct counting *c;
	struct xp_ns *ns;
	struct xp_info info;
	char path[512], name[32];

	snprintf(path, sizeof(path), "%s/frag-%d.img", dir, (int)getpid());
	init_ns(path, 64ull << 30, 4096, EXTENT_SIZE);
	c = open_pmem2(path);
	ns = open_ns(c);
	live = calloc(4096, sizeof(*live));
	if (!live)
		return 1;
	co.name = name;
	for (unsigned i = 0; i < ops; i++) {
		xp_ns_get_info(ns, &info);
		if (info.used_bytes < info.data_size / 10 * 6 && nlive < 4096) {
			int rc;

			co.size = (1 + rnd(&seed) % 32) * EXTENT_SIZE;
			snprintf(name, sizeof(name), "f%u", next);
			rc = xp_extent_create(ns, &co, NULL);
			if (rc == -ENOSPC) {
				failed++;
				continue;
			}
			check(rc, "create");
			live[nlive++] = next++;
		} else {
			unsigned k = (unsigned)(rnd(&seed) % nlive);

			snprintf(name, sizeof(name), "f%u", live[k]);
			check(xp_extent_destroy(ns, name, 0), "destroy");
			live[k] = live[--nlive];
		}
		xp_ns_get_info(ns, &info);
		ratio = info.free_bytes ? (double)info.largest_free / info.free_bytes : 1;
		/* Past the initial fill only: before it, free space is one gap. */
		if (i > ops / 10 && ratio < worst)
			worst = ratio;
	}
	xp_ns_get_info(ns, &info);
	printf("ops %u largest_free %" PRIu64 " free_bytes %" PRIu64
	       " ratio %.4f worst_ratio %.4f gaps %u extents %u fill %.3f failed_creates %u\n",
	       ops, info.largest_free, info.free_bytes, ratio, worst,
	       xp_ns_gap_count(ns), info.extent_count,
	       (double)info.used_bytes / info.data_size, failed);
	xp_ns_close(ns);
	xp_media_close(&c->m);
	unlink(path);
	free(live);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: xpbench update assign|rename|pair DIR SLOTS EXTENTS MAXOPS MAXSEC [public]\n"
		"       xpbench scale assign|rename|pair DIR SLOTS MAXOPS MAXSEC EXTENTS...\n"
		"       xpbench init DIR SIZE\n"
		"       xpbench populate FILE SLOTS EXTENTS\n"
		"       xpbench openlist FILE RUNS\n"
		"       xpbench bulk DIR SLOTS N MAXSEC\n"
		"       xpbench frag DIR OPS SEED\n");
	exit(2);
}

int main(int argc, char **argv)
{
	/* Comparable with PMDK and the floor: cache-line flushes on tmpfs. */
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "scale") && argc >= 8)
		return mode_scale(argc, argv);
	if (!strcmp(argv[1], "update") && argc >= 8)
		return mode_update(argc, argv);
	if (!strcmp(argv[1], "init") && argc == 4)
		return mode_init(argv);
	if (!strcmp(argv[1], "populate") && argc == 5)
		return mode_populate(argv);
	if (!strcmp(argv[1], "openlist") && argc == 4)
		return mode_openlist(argv);
	if (!strcmp(argv[1], "bulk") && argc == 6)
		return mode_bulk(argv);
	if (!strcmp(argv[1], "frag") && argc == 5)
		return mode_frag(argv);
	usage();
	return 2;
}
