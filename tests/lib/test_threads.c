/* SPDX-License-Identifier: MIT */
/*
 * Threads (issue 12, item 5): the library keeps no state outside its
 * handles, so two threads initialising two namespaces at once each get
 * exactly their own table. A buffer shared between calls (write_table's
 * static batch buffer, once) hands one thread's slots, bound to its
 * namespace UUID, to the other, while both report success.
 *
 * Each thread checks its own image after every init, byte for byte
 * against the table the format says that superblock starts with; the
 * case runner's counters are touched by the main thread only.
 */
#include <pthread.h>

#include "lib_test.h"

#define NS_SIZE (256 * MiB)
#define ROUNDS 200

struct worker {
	uint32_t slots;
	uint8_t *img;
	uint8_t *want;
	int rc;			/* first failing init's return */
	unsigned bad_rounds;	/* rounds whose table differed */
	uint32_t first_bad_slot;
	char error[256];
};

static bool table_is_own(struct worker *w)
{
	const uint8_t *table = w->img + XP_TABLE_OFFSET;
	const char *field = NULL;
	struct xp_sb sb;

	if (xp_sb_decode(w->img, XP_SB_BLOCK, NS_SIZE, false, &sb, &field) !=
	    XP_OK || sb.slot_count != w->slots) {
		w->first_bad_slot = UINT32_MAX;
		return false;
	}
	for (uint32_t i = 0; i < sb.slot_count; i++)
		xp_slot_init(&sb, i, w->want + (size_t)i * XP_SLOT_SIZE);
	for (uint32_t i = 0; i < sb.slot_count; i++) {
		if (memcmp(table + (size_t)i * XP_SLOT_SIZE,
			   w->want + (size_t)i * XP_SLOT_SIZE, XP_SLOT_SIZE)) {
			w->first_bad_slot = i;
			return false;
		}
	}
	return true;
}

static void *init_loop(void *arg)
{
	struct worker *w = arg;
	struct xp_media *m = xp_media_mem_new(w->img, NS_SIZE);

	for (int r = 0; m && r < ROUNDS && !w->rc; r++) {
		struct xp_init_opts o = {.max_extents = w->slots,
					 .align = 2 * MiB, .force = true};

		w->rc = xp_ns_init_media(m, &o, NULL);
		if (w->rc)
			snprintf(w->error, sizeof(w->error), "%s",
				 xp_last_error());
		else if (!table_is_own(w))
			w->bad_rounds++;
	}
	if (!m)
		w->rc = -ENOMEM;
	xp_media_close(m);
	return NULL;
}

static void t_two_inits(void)
{
	struct worker w[2] = {{.slots = 1024}, {.slots = 600}};
	pthread_t th[2];

	for (int i = 0; i < 2; i++) {
		w[i].img = img_new(NS_SIZE);
		w[i].want = malloc((size_t)w[i].slots * XP_SLOT_SIZE);
		CHECK(w[i].want != NULL);
	}
	for (int i = 0; i < 2; i++)
		CHECK(!pthread_create(&th[i], NULL, init_loop, &w[i]));
	for (int i = 0; i < 2; i++)
		CHECK(!pthread_join(th[i], NULL));
	for (int i = 0; i < 2; i++) {
		CHECK_MSG(!w[i].rc, "thread %d: init failed (%d): %s", i,
			  w[i].rc, w[i].error);
		CHECK_MSG(!w[i].bad_rounds,
			  "thread %d: %u of %d inits left a table that is not "
			  "its own (first wrong slot %u)",
			  i, w[i].bad_rounds, ROUNDS, w[i].first_bad_slot);
		free(w[i].want);
		img_free(w[i].img, NS_SIZE);
	}
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_two_inits);
	return xt_finish();
}
