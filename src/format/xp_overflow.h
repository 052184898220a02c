/* SPDX-License-Identifier: MIT */
/*
 * Overflow-checked arithmetic for values read from media. Every sum or
 * product of on-media numbers goes through these; each returns true when
 * the exact result does not fit.
 */
#ifndef XP_OVERFLOW_H
#define XP_OVERFLOW_H

#include <stdbool.h>
#include <stdint.h>

static inline bool xp_add_ovf(uint64_t a, uint64_t b, uint64_t *res)
{
	return __builtin_add_overflow(a, b, res);
}

static inline bool xp_mul_ovf(uint64_t a, uint64_t b, uint64_t *res)
{
	return __builtin_mul_overflow(a, b, res);
}

/* 1 << shift, or 0 when the shift is not below 64. */
static inline uint64_t xp_shl1(uint32_t shift)
{
	return shift < 64 ? 1ull << shift : 0;
}

/* Round @x up to a multiple of the power of two @a; true on overflow. */
static inline bool xp_align_up_ovf(uint64_t x, uint64_t a, uint64_t *res)
{
	uint64_t t;

	if (xp_add_ovf(x, a - 1, &t))
		return true;
	*res = t & ~(a - 1);
	return false;
}

static inline bool xp_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

#endif /* XP_OVERFLOW_H */
