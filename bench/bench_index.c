/* SPDX-License-Identifier: MIT */
/*
 * CPU cost of metadata operations against the table's size (issue 13 item
 * 1), on an in-memory media so that only the library's own work is timed:
 *
 *   bench_index assign EXTENTS ITERS   assign/unassign one extent in a loop
 *                                      in a 65,536-slot table
 *   bench_index pair EXTENTS ITERS     create and destroy one more extent
 *                                      in a loop, with EXTENTS there
 *   bench_index create EXTENTS         create EXTENTS extents one by one
 *   bench_index open EXTENTS ITERS     open the table with EXTENTS extents
 *                                      and read every extent, in a loop
 *
 * Prints ns per operation. For an instruction count that a noisy machine
 * does not change, run it under callgrind with collection limited to the
 * measured loop:
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=bench_assign_loop bench_index assign 10000 2000
 *
 * and divide the instructions collected by ITERS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "xp_internal.h"

#define UNIT (2ull << 20)	/* extent size and alignment */
#define SLOTS 65536u

static void die(const char *what)
{
	fprintf(stderr, "bench_index: %s: %s\n", what, xp_last_error());
	exit(1);
}

/* A lazily backed image with room for @extents extents of UNIT. */
static struct xp_ns *fresh_ns(uint32_t extents)
{
	uint64_t size = (uint64_t)(extents + 64) * UNIT + (256ull << 20);
	void *img = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct xp_init_opts io = {.max_extents = SLOTS, .mgmt = XP_MGMT_NONE,
				  .align = UNIT};
	struct xp_media *m;
	struct xp_ns *ns = NULL;

	if (img == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	m = xp_media_mem_new(img, size);
	if (!m || xp_ns_init_media(m, &io, NULL) ||
	    xp_ns_open_media(m, XP_OPEN_WRITE, &ns))
		die("setup");
	return ns;
}

/* Not inlined: callgrind's --toggle-collect names these loops. */
__attribute__((noinline)) void bench_create_loop(struct xp_ns *ns, uint32_t n);
__attribute__((noinline)) void bench_assign_loop(struct xp_ns *ns,
						 uint32_t iters);
__attribute__((noinline)) void bench_pair_loop(struct xp_ns *ns,
					       uint32_t iters);
__attribute__((noinline)) void bench_open_loop(struct xp_media *m,
					       uint32_t iters);

void bench_create_loop(struct xp_ns *ns, uint32_t n)
{
	char name[32];

	for (uint32_t i = 0; i < n; i++) {
		/* Metadata only: zeroing would time the memory, not us. */
		struct xp_create_opts o = {.name = name, .size = UNIT,
					   .flags = XP_NO_ZERO};

		snprintf(name, sizeof(name), "e%u", i);
		if (xp_extent_create(ns, &o, NULL))
			die("create");
	}
}

void bench_assign_loop(struct xp_ns *ns, uint32_t iters)
{
	static const uint8_t owner[2][16] = {{0x5a, 1}, {0}};

	for (uint32_t i = 0; i < iters; i++)
		if (xp_extent_assign(ns, "e0", owner[i & 1]))
			die("assign");
}

void bench_pair_loop(struct xp_ns *ns, uint32_t iters)
{
	struct xp_create_opts o = {.name = "pair", .size = UNIT,
				   .flags = XP_NO_ZERO};

	for (uint32_t i = 0; i < iters; i++)
		if (xp_extent_create(ns, &o, NULL) ||
		    xp_extent_destroy(ns, "pair", 0))
			die("create+destroy");
}

void bench_open_loop(struct xp_media *m, uint32_t iters)
{
	struct xp_extent e;
	struct xp_ns *ns;

	for (uint32_t i = 0; i < iters; i++) {
		if (xp_ns_open_media(m, 0, &ns))
			die("open");
		for (uint32_t k = 0; k < xp_ns_extent_count(ns); k++)
			if (xp_ns_extent_get(ns, k, &e))
				die("extent_get");
		xp_ns_close(ns);
	}
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint32_t extents = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0;
	uint32_t iters = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 0) : 0;
	struct xp_media *m;
	struct xp_ns *ns;
	double t;

	if (argc == 4 && !strcmp(argv[1], "assign") && extents && iters &&
	    extents <= SLOTS) {
		ns = fresh_ns(extents);
		bench_create_loop(ns, extents);
		t = seconds();
		bench_assign_loop(ns, iters);
		t = seconds() - t;
		printf("assign, %u slots, %u extents: %.0f ns/op\n", SLOTS,
		       extents, t * 1e9 / iters);
	} else if (argc == 4 && !strcmp(argv[1], "pair") && iters &&
		   extents < SLOTS) {
		ns = fresh_ns(extents + 1);
		bench_create_loop(ns, extents);
		t = seconds();
		bench_pair_loop(ns, iters);
		t = seconds() - t;
		printf("create+destroy pair, %u slots, %u extents: %.0f ns/pair\n",
		       SLOTS, extents, t * 1e9 / iters);
	} else if (argc == 4 && !strcmp(argv[1], "open") && iters &&
		   extents <= SLOTS) {
		ns = fresh_ns(extents);
		bench_create_loop(ns, extents);
		t = seconds();
		bench_open_loop(ns->media, iters);
		t = seconds() - t;
		printf("open + read every extent, %u slots, %u extents: %.0f us\n",
		       SLOTS, extents, t * 1e6 / iters);
	} else if (argc == 3 && !strcmp(argv[1], "create") && extents &&
		   extents <= SLOTS) {
		ns = fresh_ns(extents);
		t = seconds();
		bench_create_loop(ns, extents);
		t = seconds() - t;
		printf("create %u extents one by one, %u slots: %.3f s, %.0f ns/op\n",
		       extents, SLOTS, t, t * 1e9 / extents);
	} else {
		fprintf(stderr,
			"usage: bench_index assign|pair|open EXTENTS ITERS | create EXTENTS\n");
		return 2;
	}
	m = ns->media;
	xp_ns_close(ns);
	xp_media_close(m);
	return 0;
}
