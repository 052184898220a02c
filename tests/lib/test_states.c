/* SPDX-License-Identifier: MIT */
/*
 * Extent states (issue 8, item 4): guest data, and lent to the hypervisor
 * as RAM (record type 2, never with an owner, content garbage after a
 * reboot). xp_extent_set_state round trips; lending an assigned extent,
 * assigning a lent one and exporting a lent one are refused and write
 * nothing.
 */
#include "lib_test.h"

#define NS_SIZE (64 * MiB)

static struct {
	uint8_t *img;
	struct xp_media *m;
	uint64_t D;
} fx;

static int setup(void)
{
	struct xp_init_opts o = {.max_extents = 8, .mgmt = XP_MGMT_NONE,
				 .align = 2 * MiB};
	struct xp_ns *ns;
	int rc;

	if (!fx.img)
		fx.img = img_new(NS_SIZE);
	memset(fx.img, 0, 8 * MiB);
	memset(fx.img + NS_SIZE - XP_SB_BLOCK, 0, XP_SB_BLOCK);
	if (!fx.m)
		fx.m = tm_new(fx.img, NS_SIZE, 0, 0);
	rc = xp_ns_init_media(fx.m, &o, NULL);
	rc = rc ?: xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns);
	if (rc)
		return rc;
	fx.D = ns->sb.data_offset;
	rc = ns_mk(ns, "x", 2 * MiB, NULL, 0);
	rc = rc ?: ns_mk(ns, "y", 2 * MiB, uuid_n(1), 0);
	xp_ns_close(ns);
	tm_reset(fx.m);
	return rc;
}

/* The type byte of @slot's current record on media. */
static unsigned type_on_media(struct xp_ns *ns, uint32_t slot)
{
	const struct xp_slot *s = &ns->slots[slot];
	uint8_t pl[XP_REC_PAYLOAD];

	xp_rec_gather(fx.img + xp_slot_offset(slot) +
			      (uint64_t)s->active * XP_REC_SIZE,
		      pl);
	return pl[PL_TYPE];
}

static struct xp_ns *open_w(void)
{
	struct xp_ns *ns = NULL;

	CHECK_RC(xp_ns_open_media(fx.m, XP_OPEN_WRITE, &ns), 0);
	return ns;
}

/* A refused call: @want, and not one byte written. */
#define REFUSED(call, want, needle)                                           \
	do {                                                                  \
		struct meta b_;                                               \
		int r_;                                                       \
		meta_take(&b_, fx.img, NS_SIZE, fx.D);                        \
		tm_reset(fx.m);                                               \
		r_ = (call);                                                  \
		CHECK_MSG(r_ == (want), "%s: %d (%s)", #call, r_,             \
			  xp_last_error());                                   \
		CHECK_CONTAINS(xp_last_error(), needle);                      \
		CHECK(tm_writes(fx.m) == 0 && meta_same(&b_, fx.img));        \
		meta_free(&b_);                                               \
	} while (0)

static void t_round_trip(void)
{
	struct xp_ns *ns;
	struct xp_extent x, before;
	struct findings fs;

	if (setup() || !(ns = open_w()))
		return;
	CHECK_RC(xp_ns_extent_find(ns, "x", &before), 0);
	CHECK_EQ_U64(before.state, XP_EXTENT_DATA);
	CHECK_STR(xp_extent_state_name(XP_EXTENT_DATA), "data");
	CHECK_STR(xp_extent_state_name(XP_EXTENT_LENT_RAM), "lent-ram");
	CHECK_EQ_U64(type_on_media(ns, before.slot), XP_REC_DATA);
	CHECK_RC(xp_extent_exportable(ns, &before), 0);
	tm_reset(fx.m);
	CHECK_RC(xp_extent_set_state(ns, "x", XP_EXTENT_LENT_RAM), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 1);
	CHECK_RC(xp_ns_extent_find(ns, "x", &x), 0);
	CHECK_EQ_U64(x.state, XP_EXTENT_LENT_RAM);
	CHECK_EQ_U64(type_on_media(ns, x.slot), XP_REC_LENT_RAM);
	/* Nothing else about it changed. */
	CHECK_EQ_U64(x.offset, before.offset);
	CHECK_EQ_U64(x.size, before.size);
	CHECK(!memcmp(x.uuid, before.uuid, 16));
	CHECK_STR(x.name, before.name);
	/* Again: a no-op. */
	tm_reset(fx.m);
	CHECK_RC(xp_extent_set_state(ns, "x", XP_EXTENT_LENT_RAM), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	xp_ns_close(ns);
	/* Reopened read-only: still lent, not exported, check clean. */
	CHECK_RC(xp_ns_open_media(fx.m, 0, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_extent_find(ns, "x", &x), 0);
		CHECK_EQ_U64(x.state, XP_EXTENT_LENT_RAM);
		CHECK_RC(xp_extent_exportable(ns, &x), -EINVAL);
		CHECK_CONTAINS(xp_last_error(), "lent to the hypervisor");
		CHECK_CONTAINS(xp_last_error(), "'x'");
		CHECK(!xp_ns_damage(ns));
		/* The other extent is exported as ever. */
		CHECK_RC(xp_ns_extent_find(ns, "y", &x), 0);
		CHECK_RC(xp_extent_exportable(ns, &x), 0);
		xp_ns_close(ns);
	}
	CHECK_RC(run_check(fx.m, 0, &fs), 0);
	CHECK_EQ_U64(fs.n, 0);
	/* Back to data: exported again. */
	if (!(ns = open_w()))
		return;
	CHECK_RC(xp_extent_set_state(ns, "x", XP_EXTENT_DATA), 0);
	CHECK_RC(xp_ns_extent_find(ns, "x", &x), 0);
	CHECK_EQ_U64(x.state, XP_EXTENT_DATA);
	CHECK_EQ_U64(type_on_media(ns, x.slot), XP_REC_DATA);
	CHECK_RC(xp_extent_exportable(ns, &x), 0);
	CHECK_EQ_U64(x.seq, before.seq + 2);
	xp_ns_close(ns);
}

static void t_refusals(void)
{
	struct xp_ns *ns;
	struct xp_extent x;

	if (setup() || !(ns = open_w()))
		return;
	/* An assigned extent is not lent. */
	REFUSED(xp_extent_set_state(ns, "y", XP_EXTENT_LENT_RAM), -EBUSY,
		"unassign");
	/* A lent extent is not assigned (unassigning is a no-op). */
	CHECK_RC(xp_extent_set_state(ns, "x", XP_EXTENT_LENT_RAM), 0);
	REFUSED(xp_extent_assign(ns, "x", uuid_n(2)), -EBUSY, "lent");
	tm_reset(fx.m);
	CHECK_RC(xp_extent_assign(ns, "x", NULL), 0);
	CHECK_RC(xp_extent_assign(ns, "x", uuid_nil), 0);
	CHECK_EQ_U64(tm_writes(fx.m), 0);
	/* Unknown states. */
	REFUSED(xp_extent_set_state(ns, "x", (enum xp_extent_state)0), -EINVAL,
		"state");
	REFUSED(xp_extent_set_state(ns, "x", (enum xp_extent_state)3), -EINVAL,
		"state");
	REFUSED(xp_extent_set_state(ns, "nope", XP_EXTENT_LENT_RAM), -ENOENT,
		"nope");
	/* Export of the lent extent, on the writable handle too. */
	CHECK_RC(xp_ns_extent_find(ns, "x", &x), 0);
	CHECK_RC(xp_extent_exportable(ns, &x), -EINVAL);
	/* Unassigned, so destroyed without force. */
	CHECK_RC(xp_extent_destroy(ns, "x", 0), 0);
	/* Create never makes a lent extent; taken back, then assigned. */
	CHECK_RC(ns_mk(ns, "z", 2 * MiB, NULL, 0), 0);
	CHECK_RC(xp_ns_extent_find(ns, "z", &x), 0);
	CHECK_EQ_U64(x.state, XP_EXTENT_DATA);
	CHECK_RC(xp_extent_set_state(ns, "z", XP_EXTENT_LENT_RAM), 0);
	CHECK_RC(xp_extent_set_state(ns, "z", XP_EXTENT_DATA), 0);
	CHECK_RC(xp_extent_assign(ns, "z", uuid_n(2)), 0);
	CHECK_RC(xp_ns_extent_find(ns, "z", &x), 0);
	CHECK(x.assigned && x.state == XP_EXTENT_DATA);
	xp_ns_close(ns);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	RUN(t_round_trip);
	RUN(t_refusals);
	xp_media_close(fx.m);
	img_free(fx.img, NS_SIZE);
	return xt_finish();
}
