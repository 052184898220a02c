/* SPDX-License-Identifier: MIT */
/*
 * The floor's 128-byte record (bench/floor.c, bench/fence_overlap.c): a
 * file on tmpfs mapped through libpmem2 with
 * PMEM2_FORCE_GRANULARITY=CACHE_LINE, as the library's backend maps a
 * namespace, and one durable write of the record: plain stores, a flush
 * of its two lines and a fence, or (@nt) non-temporal stores and a fence.
 */
#ifndef XP_BENCH_FLOOR_TARGET_H
#define XP_BENCH_FLOOR_TARGET_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libpmem2.h>

#define FLOOR_FILE_SIZE (2u << 20)

struct floor_target {
	int fd;
	struct pmem2_source *src;
	struct pmem2_config *cfg;
	struct pmem2_map *map;
	uint8_t *rec;
	pmem2_memcpy_fn memcpy_fn;
	pmem2_persist_fn persist_fn;
	pmem2_drain_fn drain_fn;
	bool nt;
};

static inline void floor_persist(const struct floor_target *t,
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

static inline void floor_fail(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, pmem2_errormsg());
	exit(1);
}

/* Create @path and map it; on failure one line naming @prog, and exit. */
static inline void floor_map(struct floor_target *t, const char *prog,
			     const char *path, bool nt)
{
	setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 0);
	t->nt = nt;
	t->fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (t->fd < 0 || ftruncate(t->fd, FLOOR_FILE_SIZE) < 0) {
		perror(path);
		exit(1);
	}
	if (pmem2_source_from_fd(&t->src, t->fd))
		floor_fail(prog, "source");
	if (pmem2_config_new(&t->cfg) ||
	    pmem2_config_set_required_store_granularity(t->cfg,
							PMEM2_GRANULARITY_PAGE))
		floor_fail(prog, "config");
	if (pmem2_map_new(&t->map, t->cfg, t->src))
		floor_fail(prog, "map");
	if (pmem2_map_get_store_granularity(t->map) !=
	    PMEM2_GRANULARITY_CACHE_LINE) {
		fprintf(stderr, "%s: the mapping is not cache-line granular (PMEM2_FORCE_GRANULARITY)\n",
			prog);
		exit(1);
	}
	/* A slot-sized, cache-line-aligned record, as the table's are. */
	t->rec = (uint8_t *)pmem2_map_get_address(t->map) + 8192;
	t->memcpy_fn = pmem2_get_memcpy_fn(t->map);
	t->persist_fn = pmem2_get_persist_fn(t->map);
	t->drain_fn = pmem2_get_drain_fn(t->map);
}

static inline void floor_unmap(struct floor_target *t, const char *path)
{
	pmem2_map_delete(&t->map);
	pmem2_config_delete(&t->cfg);
	pmem2_source_delete(&t->src);
	close(t->fd);
	unlink(path);
}

#endif /* XP_BENCH_FLOOR_TARGET_H */
