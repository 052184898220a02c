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
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpmem2.h>

#include "bench_common.h"

#define FILE_SIZE (2u << 20)

struct target {
	uint8_t *rec;
	pmem2_memcpy_fn memcpy_fn;
	pmem2_persist_fn persist_fn;
	pmem2_drain_fn drain_fn;
	bool nt;
};

static NOINLINE void bench_measured_persist(const struct target *t,
					    const uint8_t *src)
{
	if (t->nt) {
		/* Non-temporal stores, then the fence. */
		t->memcpy_fn(t->rec, src, 128,
			     PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN);
		t->drain_fn();
		return;
	}
	/* Plain stores (no non-temporal path), then flush + fence. */
	t->memcpy_fn(t->rec, src, 128, PMEM2_F_MEM_NOFLUSH | PMEM2_F_MEM_TEMPORAL);
	t->persist_fn(t->rec, 128);
}

static void fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, pmem2_errormsg());
	exit(1);
}

int main(int argc, char **argv)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	struct target t;
	uint8_t data[2][128] __attribute__((aligned(64)));
	uint64_t *lat, start;
	unsigned maxops, done = 0, b2b, done_all;
	uint64_t b2b_ns;
	double maxsec;
	int fd;

	if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "nt"))) {
		fprintf(stderr, "usage: floor FILE MAXOPS MAXSEC [nt]\n");
		return 2;
	}
	t.nt = argc == 5;
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 0);
	maxops = (unsigned)strtoul(argv[2], NULL, 0);
	maxsec = strtod(argv[3], NULL);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, FILE_SIZE) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (pmem2_source_from_fd(&src, fd))
		fail("source");
	if (pmem2_config_new(&cfg) ||
	    pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE))
		fail("config");
	if (pmem2_map_new(&map, cfg, src))
		fail("map");
	if (pmem2_map_get_store_granularity(map) != PMEM2_GRANULARITY_CACHE_LINE) {
		fprintf(stderr, "floor: the mapping is not cache-line granular (PMEM2_FORCE_GRANULARITY)\n");
		return 1;
	}
	/* A slot-sized, cache-line-aligned record, as the table's are. */
	t.rec = (uint8_t *)pmem2_map_get_address(map) + 8192;
	t.memcpy_fn = pmem2_get_memcpy_fn(map);
	t.persist_fn = pmem2_get_persist_fn(map);
	t.drain_fn = pmem2_get_drain_fn(map);
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
	pmem2_map_delete(&map);
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	close(fd);
	unlink(argv[1]);
	free(lat);
	return 0;
}
