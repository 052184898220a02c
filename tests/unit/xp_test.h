/* SPDX-License-Identifier: MIT */
/*
 * A minimal test harness: no dependencies, exits non-zero on any failure,
 * and ends with "N passed, M failed" (N/M count test cases). Every CHECK
 * failure prints file:line and the expression and marks the running case
 * failed; the case continues so one run reports everything.
 */
#ifndef XP_TEST_H
#define XP_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long xt_checks;		/* assertions evaluated */
static unsigned xt_case_failures;	/* failures in the running case */
static unsigned xt_passed, xt_failed;
static const char *xt_case;
static const char *xt_only;		/* run only cases containing this */

#define XT_FAILMSG_MAX 20		/* per case, then stay quiet */

#define CHECK_MSG(cond, ...)                                                 \
	do {                                                                 \
		xt_checks++;                                                 \
		if (!(cond)) {                                               \
			if (xt_case_failures++ < XT_FAILMSG_MAX) {           \
				fprintf(stderr, "%s:%d: [%s] CHECK(%s) ",    \
					__FILE__, __LINE__, xt_case, #cond); \
				fprintf(stderr, __VA_ARGS__);                \
				fputc('\n', stderr);                         \
			}                                                    \
		}                                                            \
	} while (0)

#define CHECK(cond) CHECK_MSG(cond, "failed")

#define CHECK_EQ_U64(a, b)                                                   \
	do {                                                                 \
		uint64_t xt_a_ = (uint64_t)(a), xt_b_ = (uint64_t)(b);       \
		CHECK_MSG(xt_a_ == xt_b_, "%s=%#" PRIx64 " %s=%#" PRIx64, #a, \
			  xt_a_, #b, xt_b_);                                 \
	} while (0)

/* Status checks print the status names. */
#define CHECK_ST(got, want)                                                  \
	do {                                                                 \
		enum xp_fmt_status xt_g_ = (got), xt_w_ = (want);            \
		CHECK_MSG(xt_g_ == xt_w_, "got %d (%s), want %d (%s)",       \
			  (int)xt_g_, xp_fmt_strstatus(xt_g_), (int)xt_w_,     \
			  xp_fmt_strstatus(xt_w_));                          \
	} while (0)

#define CHECK_STR(got, want)                                                 \
	do {                                                                 \
		const char *xt_g_ = (got), *xt_w_ = (want);                  \
		CHECK_MSG(xt_g_ && xt_w_ && !strcmp(xt_g_, xt_w_),           \
			  "got \"%s\", want \"%s\"", xt_g_ ? xt_g_ : "(null)", \
			  xt_w_ ? xt_w_ : "(null)");                         \
	} while (0)

static void xt_run(const char *name, void (*fn)(void))
{
	if (xt_only && !strstr(name, xt_only))
		return;
	xt_case = name;
	xt_case_failures = 0;
	fn();
	if (xt_case_failures) {
		xt_failed++;
		printf("FAIL %s (%u failed checks)\n", name, xt_case_failures);
	} else {
		xt_passed++;
		printf("ok   %s\n", name);
	}
	fflush(stdout);
}

#define RUN(fn) xt_run(#fn, fn)

/* argv[1], when given, selects the cases whose name contains it. */
static void xt_init(int argc, char **argv)
{
	if (argc > 1)
		xt_only = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static int xt_finish(void)
{
	printf("%lu checks\n", xt_checks);
	printf("%u passed, %u failed\n", xt_passed, xt_failed);
	return xt_failed ? 1 : 0;
}

/* Deterministic PRNG (xorshift64*), fixed seed per program. */
static uint64_t xt_rng_state = 0x9e3779b97f4a7c15ull;

static inline uint64_t xt_rand(void)
{
	uint64_t x = xt_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	xt_rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi] (inclusive); hi - lo must be < 2^64 - 1. */
static inline uint64_t xt_range(uint64_t lo, uint64_t hi)
{
	return lo + xt_rand() % (hi - lo + 1);
}

#endif /* XP_TEST_H */
