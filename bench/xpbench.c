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

static int mode_update(int argc, char **argv)
{
	const char *op = argv[2], *dir = argv[3];
	uint32_t slots = (uint32_t)strtoul(argv[4], NULL, 0);
	uint32_t n = (uint32_t)strtoul(argv[5], NULL, 0);
	unsigned maxops = (unsigned)strtoul(argv[6], NULL, 0);
	double maxsec = strtod(argv[7], NULL);
	bool public_api = argc > 8 && !strcmp(argv[8], "public");
	struct update_ctx u;
	struct counting *c = NULL;
	uint64_t *lat, start, fences = 0, lines = 0, bytes = 0, b2b_ns, seq0;
	struct xp_extent e;
	char path[512];
	unsigned done = 0, counted = 0, b2b;

	memset(&u, 0, sizeof(u));
	if (!strcmp(op, "assign")) {
		u.op = UPDATE_ASSIGN;
	} else if (!strcmp(op, "rename")) {
		u.op = UPDATE_RENAME;
	} else if (!strcmp(op, "pair")) {
		u.op = UPDATE_PAIR;
	} else {
		fprintf(stderr, "xpbench: unknown update %s\n", op);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/update-%d.img", dir, (int)getpid());
	make_populated(path, slots, n);
	/* The extent in the middle of the offset order, as a toolstack's
	 * guest would be anywhere in the table. */
	snprintf(u.target, sizeof(u.target), "e%u", n / 2);
	snprintf(u.other, sizeof(u.other), "%s", u.op == UPDATE_PAIR ?
		 "bench-pair" : "bench-renamed");
	u.pair_opts.name = u.other;
	u.pair_opts.size = EXTENT_SIZE;
	u.pair_opts.flags = XP_NO_ZERO;
	xp_uuid_generate(u.owner[0]);
	xp_uuid_generate(u.owner[1]);
	if (public_api) {
		check(xp_ns_open(path, XP_OPEN_WRITE, &u.ns), "open");
		seq0 = target_seq(u.ns, &u, &e);
	} else {
		/*
		 * Fences and cache lines from a counting pass through the
		 * wrapper; then the handle is opened again on the bare
		 * libpmem2 media, so that neither the times nor the
		 * instruction counts include the wrapper's work.
		 */
		c = open_pmem2(path);
		u.ns = open_ns(c);
		seq0 = target_seq(u.ns, &u, &e);
		for (; counted < COUNTED_OPS && counted < maxops; counted++) {
			counting_reset(c);
			check(bench_measured_update(&u), op);
			fences += c->fences;
			lines += c->lines_flushed;
			bytes += c->bytes_written;
		}
		xp_ns_close(u.ns);
		check(xp_ns_open_media(c->inner, XP_OPEN_WRITE, &u.ns), "open");
	}
	lat = calloc(maxops ? maxops : 1, sizeof(*lat));
	if (!lat)
		return 1;
	for (unsigned i = 0; i < WARMUP_OPS; i++)
		check(bench_measured_update(&u), op);
	MEASURING_STARTS();
	start = now_ns();
	while (done < maxops && (now_ns() - start) / 1e9 < maxsec) {
		uint64_t t0 = now_ns();

		check(bench_measured_update(&u), op);
		op_settled();
		lat[done++] = now_ns() - t0;
	}
	/* Throughput: the same updates back to back, no clock between. */
	b2b = b2b_count(done);
	start = now_ns();
	for (unsigned i = 0; i < b2b; i++)
		check(bench_measured_update(&u), op);
	b2b_ns = now_ns() - start;
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("ops %u p50_ns %" PRIu64 " p99_ns %" PRIu64
	       " b2b_ops %u b2b_ns %.1f", done,
	       done ? lat[done / 2] : 0, done ? lat[(uint64_t)done * 99 / 100] : 0,
	       b2b, b2b ? (double)b2b_ns / b2b : 0.0);
	if (counted)
		printf(" fences_per_op %.3f lines_per_op %.3f bytes_per_op %.1f",
		       (double)fences / counted, (double)lines / counted,
		       (double)bytes / counted);
	printf("\n");
	xp_ns_close(u.ns);
	if (c)
		xp_media_close(&c->m);
	check_updates(path, &u, n, seq0);
	unlink(path);
	free(lat);
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
