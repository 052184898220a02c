/* SPDX-License-Identifier: MIT */
/*
 * What of an update's work before its store can run while the previous
 * update's fence waits for its write-back (docs/performance.md, "Back to
 * back"). Each iteration persists 128 bytes as the floor does (bench/floor.c,
 * through libpmem2's own functions on a file with
 * PMEM2_FORCE_GRANULARITY=CACHE_LINE), then does K steps of one kind of
 * work; beside it, the same work alone:
 *
 *   alu     a dependent chain of shifts and xors, registers only
 *   load    a dependent chain of loads from a 2 KiB array
 *   store   stores to a 2 KiB array, one a step
 *
 * If the work overlaps the fence, persist + work costs the larger of the
 * two; if it waits for the fence, their sum. Run by hand:
 *
 *   fence_overlap FILE [nt]
 *
 * With "nt" the 128 bytes go with non-temporal stores and one fence, as
 * the library's libpmem2 backend stores a record. Prints one line a
 * (kind, K): ns per iteration for persist + work and for the work alone.
 */
#include <stdio.h>
#include <string.h>

#include "bench_common.h"
#include "floor_target.h"

#define ITERS 200000u

enum kind { ALU, LOAD, STORE };

static uint64_t arr[256];

static NOINLINE uint64_t work(enum kind kind, unsigned k, uint64_t x)
{
	for (unsigned i = 0; i < k; i++) {
		switch (kind) {
		case ALU:
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			break;
		case LOAD:
			x += arr[(x + i) & 255];
			x ^= x >> 3;
			break;
		case STORE:
			arr[i & 255] = x;
			x = x * 3 + 1;
			break;
		}
	}
	return x;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {"alu", "load", "store"};
	uint8_t data[2][128] __attribute__((aligned(64)));
	struct floor_target t;
	volatile uint64_t sink;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "nt"))) {
		fprintf(stderr, "usage: fence_overlap FILE [nt]\n");
		return 2;
	}
	floor_map(&t, "fence_overlap", argv[1], argc == 3);
	memset(data[0], 0xa5, sizeof(data[0]));
	memset(data[1], 0x5a, sizeof(data[1]));
	for (enum kind kind = ALU; kind <= STORE; kind++) {
		for (unsigned k = 0; k <= 200; k += 50) {
			uint64_t x = 1, t0, t1, t2;

			for (unsigned i = 0; i < 2000; i++) {
				floor_persist(&t, data[i & 1]);
				x = work(kind, k, x);
			}
			t0 = now_ns();
			for (unsigned i = 0; i < ITERS; i++) {
				floor_persist(&t, data[i & 1]);
				x = work(kind, k, x);
			}
			t1 = now_ns();
			for (unsigned i = 0; i < ITERS; i++)
				x = work(kind, k, x);
			t2 = now_ns();
			sink = x;
			printf("%s %-5s K %3u: persist + work %6.1f ns, work alone %6.1f ns\n",
			       t.nt ? "nt  " : "clwb", names[kind], k,
			       (double)(t1 - t0) / ITERS, (double)(t2 - t1) / ITERS);
		}
	}
	(void)sink;
	floor_unmap(&t, argv[1]);
	return 0;
}
