/* SPDX-License-Identifier: MIT */
/*
 * The comparison for one xenpmem update: a libpmemobj transaction that
 * overwrites a 128-byte record (an undo-logged range, then the store),
 * the way a PMDK program keeps a table of records. Its own process:
 * libpmemobj and libpmem2 may not share one (bench/bench.py interleaves
 * the runs). Run with PMEM_IS_PMEM_FORCE=1 on tmpfs, so libpmem flushes
 * cache lines instead of calling msync, as it would on real pmem.
 *
 *   pmdk_tx POOLFILE MAXOPS MAXSEC
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpmemobj.h>

#include "bench_common.h"

#define POOL_SIZE (32u << 20)

struct root {
	uint8_t rec[128];
};

/* One transaction: snapshot the record into the undo log, overwrite it. */
static NOINLINE int bench_measured_tx(PMEMobjpool *pop, struct root *r,
				      const uint8_t *src)
{
	/* Set in TX_ONABORT, after a longjmp: volatile keeps it. */
	volatile int rc = 0;

	TX_BEGIN(pop) {
		pmemobj_tx_add_range_direct(r->rec, sizeof(r->rec));
		memcpy(r->rec, src, sizeof(r->rec));
	} TX_ONABORT {
		rc = -1;
	} TX_END
	return rc;
}

int main(int argc, char **argv)
{
	PMEMobjpool *pop;
	struct root *r;
	uint8_t src[2][128];
	uint64_t *lat, start;
	unsigned maxops, done = 0, b2b, done_all;
	uint64_t b2b_ns;
	double maxsec;

	if (argc != 4) {
		fprintf(stderr, "usage: pmdk_tx POOLFILE MAXOPS MAXSEC\n");
		return 2;
	}
	maxops = (unsigned)strtoul(argv[2], NULL, 0);
	maxsec = strtod(argv[3], NULL);
	unlink(argv[1]);
	pop = pmemobj_create(argv[1], "xenpmem-bench", POOL_SIZE, 0600);
	if (!pop) {
		fprintf(stderr, "pmdk_tx: %s: %s\n", argv[1], pmemobj_errormsg());
		return 1;
	}
	r = pmemobj_direct(pmemobj_root(pop, sizeof(*r)));
	memset(src[0], 0xa5, sizeof(src[0]));
	memset(src[1], 0x5a, sizeof(src[1]));
	lat = calloc(maxops ? maxops : 1, sizeof(*lat));
	if (!r || !lat)
		return 1;
	for (unsigned i = 0; i < WARMUP_OPS; i++)
		if (bench_measured_tx(pop, r, src[i & 1])) {
			fprintf(stderr, "pmdk_tx: transaction aborted: %s\n",
				pmemobj_errormsg());
			return 1;
		}
	MEASURING_STARTS();
	start = now_ns();
	while (done < maxops && (now_ns() - start) / 1e9 < maxsec) {
		uint64_t t0 = now_ns();

		if (bench_measured_tx(pop, r, src[done & 1])) {
			fprintf(stderr, "pmdk_tx: transaction aborted: %s\n",
				pmemobj_errormsg());
			return 1;
		}
		op_settled();
		lat[done++] = now_ns() - t0;
	}
	/* Throughput: the same transactions back to back. */
	b2b = b2b_count(done);
	start = now_ns();
	for (unsigned i = 0; i < b2b; i++)
		if (bench_measured_tx(pop, r, src[(done + i) & 1])) {
			fprintf(stderr, "pmdk_tx: transaction aborted: %s\n",
				pmemobj_errormsg());
			return 1;
		}
	b2b_ns = now_ns() - start;
	done_all = done + b2b;
	/* The content must be the last record written, or nothing was
	 * measured. */
	if (done_all &&
	    memcmp(r->rec, src[(done_all - 1) & 1], sizeof(r->rec))) {
		fprintf(stderr, "pmdk_tx: record does not hold the last write\n");
		return 1;
	}
	qsort(lat, done, sizeof(*lat), cmp_u64);
	printf("ops %u p50_ns %" PRIu64 " p99_ns %" PRIu64
	       " b2b_ops %u b2b_ns %.1f\n", done,
	       done ? lat[done / 2] : 0, done ? lat[(uint64_t)done * 99 / 100] : 0,
	       b2b, b2b ? (double)b2b_ns / b2b : 0.0);
	pmemobj_close(pop);
	unlink(argv[1]);
	free(lat);
	return 0;
}
