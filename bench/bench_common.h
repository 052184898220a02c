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

/*
 * Close a timed window only once the op's stores and flushes have all
 * completed. An sfence retires before the flushes it orders are done, and
 * the wait lands on whatever comes next: in a loop that reads the clock
 * once more outside the window (the time box), a 128-byte store + 2 clwb +
 * sfence timed 30-50 ns a window on this project's CI machine, while the
 * same loop with mfence before the second clock read timed 150-230 ns,
 * and back to back, with no clock between ops, it ran at ~150 ns each.
 * An mfence waits for every earlier store and flush: each window then
 * holds its whole op, and the next starts with nothing in flight. Every
 * driver closes its windows this way, so the ratios compare like with
 * like.
 */
static inline void op_settled(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("mfence" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Back-to-back ops after the timed ones: at most this many, and no more
 * than were timed (the time box already said how many fit). */
#define B2B_MAX_OPS 20000u

static inline unsigned b2b_count(unsigned timed)
{
	return timed < B2B_MAX_OPS ? timed : B2B_MAX_OPS;
}

/*
 * Untimed ops before the measuring starts, in every driver alike: the
 * steady state of a process that holds its handle or pool (a toolstack
 * does), without first-use costs (page faults on the mapping, a handle's
 * one-time scan of loop devices at its first destroy, the first page of
 * UUIDs) in a callgrind run of a few hundred ops.
 */
#define WARMUP_OPS 16u

/* qsort() order of uint64_t latencies. */
static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#endif /* XP_BENCH_COMMON_H */
