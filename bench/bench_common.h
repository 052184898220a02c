/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark's drivers (xpbench, floor, pmdk_tx: separate
 * programs, since libpmem2 and libpmemobj may not share a process) measure
 * with alike: the clock, the sort for percentiles, and where callgrind
 * starts counting.
 */
#ifndef XP_BENCH_COMMON_H
#define XP_BENCH_COMMON_H

#include <stdint.h>
#include <time.h>

/*
 * Under callgrind --instr-atstart=no the setup runs at close to native
 * speed; instrumentation starts where the measuring does.
 */
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define MEASURING_STARTS() CALLGRIND_START_INSTRUMENTATION
#else
#define MEASURING_STARTS() do { } while (0)
#endif

/* Measured functions are named bench_measured_* and never inlined, so
 * callgrind's --toggle-collect finds them. */
#define NOINLINE __attribute__((noinline))

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* qsort() order of uint64_t latencies. */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#endif /* XP_BENCH_COMMON_H */
