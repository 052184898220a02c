/* SPDX-License-Identifier: MIT */
/*
 * The floor of one durable 128-byte update: store 128 bytes, flush their
 * two cache lines, one fence, through libpmem2's own functions on the same
 * kind of mapping the library uses (a file on tmpfs with
 * PMEM2_FORCE_GRANULARITY=CACHE_LINE: clwb or clflushopt, then sfence).
 * This is the floor. With "nt" the same 128 bytes go with
 * non-temporal stores and one fence instead (no flush instruction), as
 * the library's pmem2 backend stores whole lines: the cheapest durable
 * 128-byte write this machine has, shown beside the floor.
 *
 *   floor FILE MAXOPS MAXSEC [nt]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "floor_target.h"

static NOINLINE void bench_measured_persist(const struct floor_target *t,
					    const uint8_t *src)
{
	floor_persist(t, src);
}

int main(int argc, char **argv)
{
	struct floor_target t;
	uint8_t data[2][128] __attribute__((aligned(64)));
	uint64_t *lat, start;
	unsigned maxops, done = 0, b2b, done_all;
	uint64_t b2b_ns;
	double maxsec;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "nt"))) {
		fprintf(stderr, "usage: floor FILE MAXOPS MAXSEC [nt]\n");
		return 2;
	}
	maxops = (unsigned)strtoul(argv[2], NULL, 0);
	maxsec = strtod(argv[3], NULL);
	floor_map(&t, "floor", argv[1], argc == 5);
	memset(data[0], 0xa5, sizeof(data[0]));
	memset(data[1], 0x5a, sizeof(data[1]));
	lat = calloc(maxops ? maxops : 1, sizeof(*lat));
	if (!lat)
		return 1;
	for (unsigned i = 0; i < WARMUP_OPS; i++)
		bench_measured_persist(&t, data[i & 1]);
	MEASURING_STARTS();
	start = now_ns();
	while (done < maxops && (now_ns() - start) / 1e9 < maxsec) {
		uint64_t t0 = now_ns();

		bench_measured_persist(&t, data[done & 1]);
		op_settled();
		lat[done++] = now_ns() - t0;
	}
	/* Throughput: the same ops back to back, no clock between them. */
	b2b = b2b_count(done);
	start = now_ns();
	for (unsigned i = 0; i < b2b; i++)
		bench_measured_persist(&t, data[(done + i) & 1]);
	b2b_ns = now_ns() - start;
	done_all = done + b2b;
	if (done_all && memcmp(t.rec, data[(done_all - 1) & 1], 128)) {
		fprintf(stderr, "floor: record does not hold the last write\n");
		return 1;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("ops %u p50_ns %" PRIu64 " p99_ns %" PRIu64
	       " b2b_ops %u b2b_ns %.1f fences_per_op 1 lines_per_op 2",
	       done, done ? lat[done / 2] : 0,
	       done ? lat[(uint64_t)done * 99 / 100] : 0, b2b,
	       b2b ? (double)b2b_ns / b2b : 0.0);
	/*
	 * What every driver's window costs with no op in it (two clock
	 * reads and the mfence): part of every p50 in the table alike.
	 */
	for (unsigned i = 0; i < done; i++) {
		uint64_t t0 = now_ns();

		op_settled();
		lat[i] = now_ns() - t0;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf(" empty_window_ns %" PRIu64 "\n", done ? lat[done / 2] : 0);
	floor_unmap(&t, argv[1]);
	free(lat);
	return 0;
}
