/* SPDX-License-Identifier: MIT */
/*
 * A media wrapper that counts what the library asks of the backend below
 * it: bytes stored, flushes, cache lines flushed and fences. The numbers
 * are the protocol's cost, whatever the backend then does with them.
 */
#ifndef XP_BENCH_COUNTING_H
#define XP_BENCH_COUNTING_H

#include "xp_internal.h"

struct counting {
	struct xp_media m;
	struct xp_media *inner;
	/* Ours, offering the one-step store only where @inner does: the
	 * library takes the same path as on the bare backend. */
	struct xp_media_ops ops;
	uint64_t bytes_written, writes, flushes, lines_flushed, fences;
};

/* Wrap @inner, which the wrapper then owns (closed with it). */
struct counting *counting_wrap(struct xp_media *inner);
void counting_reset(struct counting *c);

#endif /* XP_BENCH_COUNTING_H */
