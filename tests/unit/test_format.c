/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the on-media format (src/format): superblock and record
 * encode/decode/validate at every field's bounds, checksum coverage, slot
 * copy selection and the update protocol, table-wide checks, the index
 * sort, Fletcher-64 and the endian accessors.
 */
#include "xp_format.h"
#include "xp_overflow.h"
#include "xp_test.h"

#include <stdbool.h>

static const uint8_t NSU[16] = {0x6b, 0x1e, 0x44, 0x02, 0x9a, 0x3c, 0x4f, 0x11,
				0x80, 0x42, 0xd1, 0x5e, 0x07, 0x7a, 0x33, 0xc9};
static const uint8_t NSU2[16] = {0x6b, 0x1e, 0x44, 0x02, 0x9a, 0x3c, 0x4f,
				 0x11, 0x80, 0x42, 0xd1, 0x5e, 0x07, 0x7a,
				 0x33, 0xca};

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

/* ---- helpers ----------------------------------------------------------- */

static enum xp_fmt_status mk_sb(struct xp_sb *sb, uint64_t ns, uint64_t phys,
				uint32_t slots, uint32_t pp, uint32_t shift)
{
	struct xp_layout_params p = {ns, phys, slots, pp, shift};
	struct xp_layout l;
	const char *why;
	enum xp_fmt_status st = xp_layout_solve(&p, &l, &why);

	memset(sb, 0, sizeof(*sb));
	if (st != XP_OK)
		return st;
	sb->major = XP_FMT_MAJOR;
	sb->minor = XP_FMT_MINOR;
	sb->header_size = XP_SB_SIZE;
	sb->compat = phys ? XP_SB_F_PHYS_KNOWN : 0;
	memcpy(sb->ns_uuid, NSU, 16);
	sb->generation = 1;
	sb->ns_size = ns;
	sb->phys_base = phys;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->mgmt_offset = l.mgmt_offset;
	sb->mgmt_size = l.mgmt_size;
	sb->data_offset = l.data_offset;
	sb->data_size = l.data_size;
	sb->per_page = pp;
	sb->align_shift = shift;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->rec_size = XP_REC_SIZE;
	sb->init_time = 1700000000123456789ull;
	return XP_OK;
}

/* A default valid superblock: 1 GiB, 64 slots, 40 B/page, 2 MiB. */
static void def_sb(struct xp_sb *sb)
{
	enum xp_fmt_status st = mk_sb(sb, GiB, 0, 64, 40, XP_ALIGN_2M_SHIFT);

	CHECK_ST(st, XP_OK);
}

static bool sb_equal(const struct xp_sb *a, const struct xp_sb *b)
{
	return a->major == b->major && a->minor == b->minor &&
	       a->header_size == b->header_size && a->compat == b->compat &&
	       a->incompat == b->incompat &&
	       !memcmp(a->ns_uuid, b->ns_uuid, 16) &&
	       a->generation == b->generation && a->ns_size == b->ns_size &&
	       a->phys_base == b->phys_base &&
	       a->table_offset == b->table_offset &&
	       a->slot_count == b->slot_count &&
	       a->slot_size == b->slot_size &&
	       a->mgmt_offset == b->mgmt_offset &&
	       a->mgmt_size == b->mgmt_size &&
	       a->data_offset == b->data_offset &&
	       a->data_size == b->data_size && a->per_page == b->per_page &&
	       a->align_shift == b->align_shift &&
	       a->page_shift == b->page_shift && a->rec_size == b->rec_size &&
	       a->init_time == b->init_time;
}

/* Encode @sb, decode it back, and require the same fields. */
static void check_sb_roundtrip(const struct xp_sb *sb, bool backup)
{
	static uint8_t buf[XP_SB_BLOCK];
	struct xp_sb out, want = *sb;
	const char *field = "unset";
	enum xp_fmt_status st;

	xp_sb_encode(sb, backup, buf);
	memset(&out, 0xa5, sizeof(out));
	st = xp_sb_decode(buf, sizeof(buf), sb->ns_size, backup, &out, &field);
	CHECK_MSG(st == XP_OK, "ns=%#" PRIx64 " phys=%#" PRIx64
		  " slots=%u pp=%u shift=%u: %s (%s)", sb->ns_size,
		  sb->phys_base, sb->slot_count, sb->per_page, sb->align_shift,
		  xp_fmt_strstatus(st), field ? field : "-");
	CHECK(field == NULL);
	if (backup)
		want.compat |= XP_SB_F_BACKUP;
	if (st == XP_OK)
		CHECK(sb_equal(&out, &want));
}

static void sb_fix(uint8_t *buf)
{
	struct xp_sb_disk *d = (struct xp_sb_disk *)buf;

	d->checksum = xp_put64(xp_sb_checksum(buf, xp_get32(d->header_size)));
}

static enum xp_fmt_status sb_dec(const uint8_t *buf, uint64_t dev, bool backup,
				 const char **field)
{
	struct xp_sb out;

	return xp_sb_decode(buf, XP_SB_BLOCK, dev, backup, &out, field);
}

/* Encode @sb, run @patch-style 32/64-bit overwrite at @off, fix the sum. */
static enum xp_fmt_status sb_patched(const struct xp_sb *sb, size_t off,
				     uint64_t val, int width,
				     const char **field)
{
	static uint8_t buf[XP_SB_BLOCK];

	xp_sb_encode(sb, false, buf);
	for (int i = 0; i < width; i++)
		buf[off + i] = (uint8_t)(val >> (8 * i));
	sb_fix(buf);
	return sb_dec(buf, sb->ns_size, false, field);
}

static void mk_uuid(uint8_t u[16], uint32_t n)
{
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)(0x40 + i + n * 7 + (n >> 8));
	u[0] = (uint8_t)n;
	u[1] = (uint8_t)(n >> 8);
	u[2] = (uint8_t)(n >> 16);
	u[15] = 0x5a;
}

static struct xp_rec mk_rec(const struct xp_sb *sb, uint64_t seq, uint64_t off,
			    uint64_t size, const char *name)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.flags = XP_REC_F_USED;
	r.offset = off;
	r.size = size;
	r.owner = XP_OWNER_NONE;
	r.align_shift = sb->align_shift;
	r.label_size = 0;
	mk_uuid(r.uuid, (uint32_t)(off >> 12) ^ (uint32_t)seq);
	strncpy(r.name, name, XP_NAME_MAX);
	return r;
}

static struct xp_rec mk_free(uint64_t seq)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	return r;
}

static enum xp_fmt_status rec_rt(const struct xp_sb *sb, uint32_t slot,
				 const struct xp_rec *r, struct xp_rec *out,
				 const char **field)
{
	uint8_t buf[XP_REC_SIZE];

	xp_rec_encode(sb, slot, r, buf);
	memset(out, 0x5a, sizeof(*out));
	return xp_rec_decode(sb, slot, buf, out, field);
}

static bool rec_equal(const struct xp_rec *a, const struct xp_rec *b)
{
	return a->seq == b->seq && a->flags == b->flags &&
	       a->offset == b->offset && a->size == b->size &&
	       a->owner == b->owner && a->align_shift == b->align_shift &&
	       a->label_size == b->label_size &&
	       !memcmp(a->uuid, b->uuid, 16) && !strcmp(a->name, b->name);
}

static void rec_fix(const struct xp_sb *sb, uint32_t slot, uint8_t *buf)
{
	struct xp_rec_disk *d = (struct xp_rec_disk *)buf;

	d->checksum = xp_put64(xp_rec_checksum(sb->ns_uuid, slot, buf));
}

/* Decode with the record field error expected. */
#define CHECK_REC_FIELD(sb, r, want_field)                                   \
	do {                                                                 \
		struct xp_rec o_;                                            \
		const char *f_;                                              \
		CHECK_ST(rec_rt((sb), 0, (r), &o_, &f_), XP_E_FIELD);        \
		CHECK_STR(f_, (want_field));                                 \
	} while (0)

#define CHECK_REC_OK(sb, r)                                                  \
	do {                                                                 \
		struct xp_rec o_;                                            \
		const char *f_ = "unset";                                    \
		enum xp_fmt_status s_ = rec_rt((sb), 0, (r), &o_, &f_);      \
		CHECK_MSG(s_ == XP_OK, "%s (%s)", xp_fmt_strstatus(s_),      \
			  f_ ? f_ : "-");                                    \
		if (s_ == XP_OK)                                             \
			CHECK(rec_equal(&o_, (r)));                          \
	} while (0)

/* ---- endian accessors, Fletcher-64 ----------------------------------- */

static void test_endian(void)
{
	xp_le16 a = xp_put16(0x1234);
	xp_le32 b = xp_put32(0x11223344u);
	xp_le64 c = xp_put64(0x0102030405060708ull);

	CHECK(a.b[0] == 0x34 && a.b[1] == 0x12);
	CHECK(b.b[0] == 0x44 && b.b[1] == 0x33 && b.b[2] == 0x22 &&
	      b.b[3] == 0x11);
	for (int i = 0; i < 8; i++)
		CHECK(c.b[i] == 8 - i);
	for (int i = 0; i < 100000; i++) {
		uint64_t x = xt_rand();

		CHECK_EQ_U64(xp_get16(xp_put16((uint16_t)x)), (uint16_t)x);
		CHECK_EQ_U64(xp_get32(xp_put32((uint32_t)x)), (uint32_t)x);
		CHECK_EQ_U64(xp_get64(xp_put64(x)), x);
	}
	CHECK_EQ_U64(xp_get16(xp_put16(0xffff)), 0xffff);
	CHECK_EQ_U64(xp_get32(xp_put32(0xffffffffu)), 0xffffffffu);
	CHECK_EQ_U64(xp_get64(xp_put64(UINT64_MAX)), UINT64_MAX);
	CHECK_EQ_U64(xp_get64(xp_put64(0)), 0);
}

/* Reference: the textbook definition, with explicit modulo 2^32 sums. */
static uint64_t ref_fletcher64(const uint8_t *p, size_t len)
{
	uint64_t lo = 0, hi = 0;

	for (size_t i = 0; i + 4 <= len; i += 4) {
		uint64_t w = p[i] | (uint64_t)p[i + 1] << 8 |
			     (uint64_t)p[i + 2] << 16 |
			     (uint64_t)p[i + 3] << 24;
		lo = (lo + w) % (1ull << 32);
		hi = (hi + lo) % (1ull << 32);
	}
	return hi << 32 | lo;
}

static void test_fletcher(void)
{
	static uint8_t buf[8192];
	uint8_t ff[64];

	CHECK_EQ_U64(xp_fletcher64(0, buf, 0), 0);
	CHECK_EQ_U64(xp_fletcher64(0x1234567890abcdefull, buf, 0),
		     0x1234567890abcdefull);
	/* Known value: one word 1 -> lo 1, hi 1; two words 1,2 -> lo 3 hi 4. */
	{
		uint8_t w[8] = {1, 0, 0, 0, 2, 0, 0, 0};

		CHECK_EQ_U64(xp_fletcher64(0, w, 4), 0x0000000100000001ull);
		CHECK_EQ_U64(xp_fletcher64(0, w, 8), 0x0000000400000003ull);
	}
	/* Wraparound of both halves. */
	memset(ff, 0xff, sizeof(ff));
	CHECK_EQ_U64(xp_fletcher64(0, ff, sizeof(ff)),
		     ref_fletcher64(ff, sizeof(ff)));

	for (int iter = 0; iter < 2000; iter++) {
		size_t len = (size_t)xt_range(0, sizeof(buf) / 4) * 4;
		uint64_t one, st = 0;
		size_t pos = 0;

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)xt_rand();
		if (iter % 3 == 0)
			memset(buf, 0xff, len);
		one = xp_fletcher64(0, buf, len);
		CHECK_EQ_U64(one, ref_fletcher64(buf, len));
		/* Stream it in random word-multiple pieces (including 0). */
		while (pos < len) {
			size_t n = (size_t)xt_range(0, (len - pos) / 4) * 4;

			if (xt_rand() % 4 == 0)
				n = (len - pos);
			st = xp_fletcher64(st, buf + pos, n);
			pos += n;
		}
		CHECK_EQ_U64(st, one);
	}
	/* A trailing partial word is ignored, as documented (len % 4). */
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)(i + 1);
	CHECK_EQ_U64(xp_fletcher64(0, buf, 7), xp_fletcher64(0, buf, 4));
}

/* ---- small helpers in the header -------------------------------------- */

static void test_helpers(void)
{
	uint64_t r;

	for (uint32_t s = 0; s < 70; s++)
		CHECK(xp_align_shift_ok(s) == (s == 12 || s == 21 || s == 30));
	CHECK(!xp_align_shift_ok(0xffffffffu));
	CHECK(xp_phys_aligned(0, 0, 21));
	CHECK(xp_phys_aligned(4096, 2 * MiB - 4096, 21));
	CHECK(!xp_phys_aligned(4096, 2 * MiB, 21));
	CHECK(!xp_phys_aligned(0, 0, 64));
	CHECK(xp_phys_aligned(GiB, 0, 30));
	CHECK(!xp_phys_aligned(GiB + 4096, 0, 30));
	CHECK_EQ_U64(xp_mgmt_bytes(0, 64 * TiB), 0);
	CHECK_EQ_U64(xp_mgmt_bytes(40, 0), 0);
	CHECK_EQ_U64(xp_mgmt_bytes(40, 4096), 4096);
	CHECK_EQ_U64(xp_mgmt_bytes(40, 102 * 4096), 4096);
	CHECK_EQ_U64(xp_mgmt_bytes(40, 103 * 4096), 8192);
	CHECK_EQ_U64(xp_mgmt_bytes(256, 64 * TiB), 64 * TiB / 16);
	CHECK_EQ_U64(xp_mgmt_bytes(40, GiB), 10 * MiB);
	/* Partial pages of data do not count. */
	CHECK_EQ_U64(xp_mgmt_bytes(256, 4095), 0);

	CHECK(xp_add_ovf(UINT64_MAX, 1, &r));
	CHECK(!xp_add_ovf(UINT64_MAX - 1, 1, &r) && r == UINT64_MAX);
	CHECK(xp_mul_ovf(1ull << 32, 1ull << 32, &r));
	CHECK(!xp_mul_ovf(1ull << 31, 1ull << 32, &r) && r == 1ull << 63);
	CHECK_EQ_U64(xp_shl1(63), 1ull << 63);
	CHECK_EQ_U64(xp_shl1(64), 0);
	CHECK_EQ_U64(xp_shl1(0xffffffffu), 0);
	CHECK(!xp_align_up_ovf(4097, 4096, &r) && r == 8192);
	CHECK(!xp_align_up_ovf(8192, 4096, &r) && r == 8192);
	CHECK(xp_align_up_ovf(UINT64_MAX - 10, 4096, &r));
	CHECK(xp_is_pow2(1) && xp_is_pow2(1ull << 63) && !xp_is_pow2(0) &&
	      !xp_is_pow2(3));
}

static void test_strstatus(void)
{
	const char *seen[XP_E_INVAL + 1];

	for (int s = XP_OK; s <= XP_E_INVAL; s++) {
		seen[s] = xp_fmt_strstatus((enum xp_fmt_status)s);
		CHECK(seen[s] && *seen[s]);
		CHECK(strcmp(seen[s], "unknown status") != 0);
		for (int t = 0; t < s; t++)
			CHECK(strcmp(seen[s], seen[t]) != 0);
	}
	CHECK_STR(xp_fmt_strstatus((enum xp_fmt_status)99), "unknown status");
}

/* ---- superblock --------------------------------------------------------- */

static void test_sb_roundtrip_bounds(void)
{
	static const uint32_t shifts[] = {12, 21, 30};
	static const uint32_t pps[] = {0, 1, 40, 64, 255, 256};
	static const uint32_t slotss[] = {1, 2, 15, 16, 17, 1024, 65535, 65536};
	struct xp_sb sb;

	for (size_t a = 0; a < 3; a++)
		for (size_t p = 0; p < sizeof(pps) / sizeof(pps[0]); p++)
			for (size_t s = 0; s < sizeof(slotss) / sizeof(slotss[0]);
			     s++) {
				uint64_t ns = 4 * GiB + 4096 * (s + 1);

				CHECK_ST(mk_sb(&sb, ns, 0, slotss[s], pps[p],
					       shifts[a]), XP_OK);
				check_sb_roundtrip(&sb, false);
				check_sb_roundtrip(&sb, true);
			}

	/* generation, init_time, compat unknown bits, uuid extremes */
	def_sb(&sb);
	sb.generation = UINT64_MAX;
	sb.init_time = 0;
	check_sb_roundtrip(&sb, false);
	sb.init_time = UINT64_MAX;
	memset(sb.ns_uuid, 0xff, 16);
	check_sb_roundtrip(&sb, true);
	def_sb(&sb);
	sb.compat |= 1u << 7 | 1u << 31;	/* unknown compat: ignored */
	check_sb_roundtrip(&sb, false);
	sb.compat |= XP_SB_F_PHYS_KNOWN;	/* known, with phys_base 0 */
	check_sb_roundtrip(&sb, false);
}

static void test_sb_phys_base(void)
{
	static const uint32_t shifts[] = {12, 21, 30};
	const uint64_t bases[] = {
		0, 4096, 3 * 4096, 2 * MiB + 4096, GiB - 4096, GiB,
		7 * GiB + 2 * MiB + 4096, 1ull << 40, (1ull << 56) + 4096,
		XP_PHYS_LIMIT - 64 * TiB,
	};
	struct xp_sb sb;
	const char *f;

	for (size_t a = 0; a < 3; a++) {
		for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
			uint64_t ns = i + 1 == sizeof(bases) / sizeof(bases[0]) ?
					      64 * TiB : 8 * GiB;

			CHECK_ST(mk_sb(&sb, ns, bases[i], 1024, 40, shifts[a]),
				 XP_OK);
			CHECK(xp_phys_aligned(sb.phys_base, sb.data_offset,
					      sb.align_shift));
			check_sb_roundtrip(&sb, false);
			check_sb_roundtrip(&sb, true);
		}
	}

	/* Out of range or unaligned phys_base. */
	CHECK_ST(mk_sb(&sb, 64 * TiB, XP_PHYS_LIMIT - 64 * TiB + 4096, 1024, 40,
		       21), XP_E_INVAL);
	def_sb(&sb);
	CHECK_ST(sb_patched(&sb, 64, 2048, 8, &f), XP_E_FIELD);
	CHECK_STR(f, "phys_base");
	CHECK_ST(sb_patched(&sb, 64, XP_PHYS_LIMIT, 8, &f), XP_E_FIELD);
	CHECK_STR(f, "phys_base");
	CHECK_ST(sb_patched(&sb, 64, UINT64_MAX & ~4095ull, 8, &f), XP_E_FIELD);
	CHECK_STR(f, "phys_base");
	CHECK_ST(sb_patched(&sb, 64, XP_PHYS_LIMIT - sb.ns_size + 4096, 8, &f),
		 XP_E_FIELD);
	CHECK_STR(f, "phys_base");

	/* A non-zero phys_base needs the PHYS_KNOWN compat flag. */
	CHECK_ST(mk_sb(&sb, 8 * GiB, 2 * MiB, 16, 40, 21), XP_OK);
	sb.compat &= ~XP_SB_F_PHYS_KNOWN;
	{
		static uint8_t buf[XP_SB_BLOCK];

		xp_sb_encode(&sb, false, buf);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
		CHECK_STR(f, "phys_base");
	}
}

/* Smallest 4K multiple the solver accepts (feasibility is monotone). */
static uint64_t min_ns(uint64_t phys, uint32_t slots, uint32_t pp,
		       uint32_t shift)
{
	uint64_t lo = 1, hi = 1ull << 36; /* in pages */

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		struct xp_layout_params p = {mid << 12, phys, slots, pp, shift};
		struct xp_layout l;
		const char *why;

		if (xp_layout_solve(&p, &l, &why) == XP_OK)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo << 12;
}

static void test_sb_ns_size(void)
{
	static const uint32_t shifts[] = {12, 21, 30};
	struct xp_sb sb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];

	for (size_t a = 0; a < 3; a++)
		for (uint32_t pp = 0; pp <= 256; pp += 64)
			for (uint32_t slots = 1; slots <= 65536; slots *= 16) {
				uint64_t m = min_ns(0, slots, pp, shifts[a]);

				CHECK_ST(mk_sb(&sb, m, 0, slots, pp, shifts[a]),
					 XP_OK);
				check_sb_roundtrip(&sb, false);
				CHECK_EQ_U64(sb.data_size,
					     1ull << shifts[a]);
				CHECK_ST(mk_sb(&sb, m - 4096, 0, slots, pp,
					       shifts[a]), XP_E_TOO_SMALL);
				/* Every smaller size is too small, too. */
				for (uint64_t s = m - 4096; s > 0 && s + 64 * 4096 > m;
				     s -= 4096)
					CHECK_ST(mk_sb(&sb, s, 0, slots, pp,
						       shifts[a]),
						 XP_E_TOO_SMALL);
			}
	/* Known minimum: 1 slot, 0 B/page, 4K: sb, zero, table, data, backup */
	CHECK_EQ_U64(min_ns(0, 1, 0, 12), 5 * 4096);
	CHECK_EQ_U64(min_ns(0, 1, 40, 12), 6 * 4096);

	/* 64 TiB, every alignment */
	for (size_t a = 0; a < 3; a++) {
		CHECK_ST(mk_sb(&sb, 64 * TiB, 0, 65536, 256, shifts[a]), XP_OK);
		check_sb_roundtrip(&sb, true);
		CHECK(sb.mgmt_size >= 256 * (sb.data_size >> 12));
	}

	/* The reader's device size must match. */
	def_sb(&sb);
	xp_sb_encode(&sb, false, buf);
	CHECK_ST(sb_dec(buf, sb.ns_size + 4096, false, &f), XP_E_FIELD);
	CHECK_STR(f, "ns_size");
	CHECK_ST(sb_dec(buf, sb.ns_size - 4096, false, &f), XP_E_FIELD);
	CHECK_STR(f, "ns_size");
	CHECK_ST(sb_dec(buf, 0, false, &f), XP_E_FIELD);
	/* ns_size not a page multiple (device agrees): layout rejects it. */
	CHECK_ST(sb_patched(&sb, 56, sb.ns_size + 512, 8, &f), XP_E_FIELD);
	/* ns_size too small for its own table (device agrees). */
	{
		struct xp_sb s2 = sb;

		s2.ns_size = 16384;
		xp_sb_encode(&s2, false, buf);
		CHECK_ST(sb_dec(buf, 16384, false, &f), XP_E_FIELD);
		CHECK_STR(f, "ns_size");
	}
}

static void test_sb_fields_rejected(void)
{
	struct xp_sb sb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];

	def_sb(&sb);

	/* slot_count 0 and 65537 */
	CHECK_ST(sb_patched(&sb, 80, 0, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "slot_count");
	CHECK_ST(sb_patched(&sb, 80, 65537, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "slot_count");
	CHECK_ST(sb_patched(&sb, 80, 0xffffffffu, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "slot_count");
	/* per_page 257.. */
	CHECK_ST(sb_patched(&sb, 120, 257, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "per_page");
	CHECK_ST(sb_patched(&sb, 120, 0xffffffffu, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "per_page");
	/* align_shift */
	for (uint32_t s = 0; s < 70; s++) {
		if (xp_align_shift_ok(s))
			continue;
		CHECK_ST(sb_patched(&sb, 124, s, 4, &f), XP_E_FIELD);
		CHECK_STR(f, "align_shift");
	}
	CHECK_ST(sb_patched(&sb, 124, 0xffffffffu, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "align_shift");
	/* constant fields */
	CHECK_ST(sb_patched(&sb, 128, 13, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "page_shift");
	CHECK_ST(sb_patched(&sb, 132, 64, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "rec_size");
	CHECK_ST(sb_patched(&sb, 84, 128, 4, &f), XP_E_FIELD);
	CHECK_STR(f, "slot_size");
	CHECK_ST(sb_patched(&sb, 72, 4096, 8, &f), XP_E_FIELD);
	CHECK_STR(f, "table_offset");
	CHECK_ST(sb_patched(&sb, 72, 8192 + (1ull << 32), 8, &f), XP_E_FIELD);
	CHECK_STR(f, "table_offset");
	/* generation 0, zero uuid */
	CHECK_ST(sb_patched(&sb, 48, 0, 8, &f), XP_E_FIELD);
	CHECK_STR(f, "generation");
	{
		struct xp_sb s2 = sb;

		memset(s2.ns_uuid, 0, 16);
		xp_sb_encode(&s2, false, buf);
		CHECK_ST(sb_dec(buf, s2.ns_size, false, &f), XP_E_FIELD);
		CHECK_STR(f, "ns_uuid");
	}
	/* Each layout field, one unit and one byte off. */
	{
		static const struct {
			size_t off;
			const char *name;
		} lf[] = {{88, "mgmt_offset"}, {96, "mgmt_size"},
			  {104, "data_offset"}, {112, "data_size"}};
		const uint64_t val[] = {sb.mgmt_offset, sb.mgmt_size,
					sb.data_offset, sb.data_size};
		const uint64_t deltas[] = {1, 4096, 2 * MiB, 1ull << 63};

		for (size_t i = 0; i < 4; i++)
			for (size_t k = 0; k < 4; k++) {
				CHECK_ST(sb_patched(&sb, lf[i].off,
						    val[i] + deltas[k], 8, &f),
					 XP_E_FIELD);
				CHECK_STR(f, lf[i].name);
				CHECK_ST(sb_patched(&sb, lf[i].off,
						    val[i] - deltas[k], 8, &f),
					 XP_E_FIELD);
				CHECK_STR(f, lf[i].name);
			}
	}
}

static void test_sb_version_flags(void)
{
	struct xp_sb sb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];

	def_sb(&sb);
	/* major */
	CHECK_ST(sb_patched(&sb, 16, 2, 2, &f), XP_E_VERSION);
	CHECK_STR(f, "major");
	CHECK_ST(sb_patched(&sb, 16, 0, 2, &f), XP_E_VERSION);
	CHECK_ST(sb_patched(&sb, 16, 0xffff, 2, &f), XP_E_VERSION);
	/* minor: any accepted */
	CHECK_ST(sb_patched(&sb, 18, 1, 2, &f), XP_OK);
	CHECK_ST(sb_patched(&sb, 18, 0xffff, 2, &f), XP_OK);
	/* every incompat bit */
	for (int b = 0; b < 32; b++) {
		CHECK_ST(sb_patched(&sb, 28, 1ull << b, 4, &f), XP_E_VERSION);
		CHECK_STR(f, "incompat");
	}
	/* every unknown compat bit is ignored */
	for (int b = 0; b < 32; b++) {
		if ((1u << b) & XP_SB_COMPAT_KNOWN)
			continue;
		CHECK_ST(sb_patched(&sb, 24, 1ull << b, 4, &f), XP_OK);
	}
	/* reserved: zero up to the reader's minor (1.1), may be used after */
	xp_sb_encode(&sb, false, buf);
	buf[144] = 1;
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "reserved");
	buf[144] = 0;
	buf[503] = 0x80;
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "reserved");
	buf[18] = XP_FMT_MINOR; /* still this version: reserved */
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	buf[18] = XP_FMT_MINOR + 1; /* a newer minor */
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);

	/* backup flag must match the location */
	xp_sb_encode(&sb, true, buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "compat.backup");
	CHECK_ST(sb_dec(buf, sb.ns_size, true, &f), XP_OK);
	xp_sb_encode(&sb, false, buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, true, &f), XP_E_FIELD);
	CHECK_STR(f, "compat.backup");
	/* encode ignores a stray backup bit in sb->compat for the primary */
	sb.compat |= XP_SB_F_BACKUP;
	xp_sb_encode(&sb, false, buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
}

static void test_sb_header_size(void)
{
	struct xp_sb sb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];
	static const uint32_t bad[] = {0, 4, 508, 511, 513, 514, 4097, 8192,
				       0xffffffffu};

	def_sb(&sb);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xp_sb_encode(&sb, false, buf);
		*(xp_le32 *)(buf + 20) = xp_put32(bad[i]);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_CHECKSUM);
		CHECK_STR(f, "header_size");
	}
	/* Larger headers (future minors) are covered by the sum. */
	for (uint32_t h = 516; h <= 4096; h += 4 * 97) {
		xp_sb_encode(&sb, false, buf);
		*(xp_le32 *)(buf + 20) = xp_put32(h);
		sb_fix(buf);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
		buf[h - 1] ^= 1; /* inside the sum now */
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_CHECKSUM);
	}
	xp_sb_encode(&sb, false, buf);
	*(xp_le32 *)(buf + 20) = xp_put32(4096);
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
	buf[4095] = 0x11;
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_CHECKSUM);
}

static void test_sb_bitflips(void)
{
	struct xp_sb sb;
	static uint8_t buf[XP_SB_BLOCK];
	const char *f;

	CHECK_ST(mk_sb(&sb, 3 * GiB + 4096 * 5, 2 * MiB + 4096, 4096, 40, 21),
		 XP_OK);
	for (int backup = 0; backup < 2; backup++) {
		xp_sb_encode(&sb, backup, buf);
		CHECK_ST(sb_dec(buf, sb.ns_size, backup, &f), XP_OK);
		for (size_t bit = 0; bit < XP_SB_SIZE * 8; bit++) {
			enum xp_fmt_status st;

			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			st = sb_dec(buf, sb.ns_size, backup, &f);
			if (bit / 8 < 16)
				CHECK_ST(st, XP_E_SIGNATURE);
			else
				CHECK_MSG(st == XP_E_CHECKSUM,
					  "bit %zu: %s (%s)", bit,
					  xp_fmt_strstatus(st), f ? f : "-");
			buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		CHECK_ST(sb_dec(buf, sb.ns_size, backup, &f), XP_OK);
	}
}

static void test_sb_blank_signature_len(void)
{
	static uint8_t buf[XP_SB_BLOCK];
	struct xp_sb sb, out;
	const char *f = "unset";

	memset(buf, 0, sizeof(buf));
	CHECK_ST(sb_dec(buf, GiB, false, &f), XP_E_BLANK);
	CHECK_ST(sb_dec(buf, GiB, true, &f), XP_E_BLANK);
	/* Any non-zero byte, anywhere in the block, is not blank. */
	buf[4095] = 1;
	CHECK_ST(sb_dec(buf, GiB, false, &f), XP_E_SIGNATURE);
	CHECK_STR(f, "signature");
	buf[4095] = 0;
	def_sb(&sb);
	xp_sb_encode(&sb, false, buf);
	buf[0] = 'x';
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_SIGNATURE);
	memset(buf, 0xff, sizeof(buf));
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_SIGNATURE);
	/* Short buffers are a caller error. */
	xp_sb_encode(&sb, false, buf);
	CHECK_ST(xp_sb_decode(buf, XP_SB_BLOCK - 1, sb.ns_size, false, &out, &f),
		 XP_E_INVAL);
	CHECK_ST(xp_sb_decode(buf, XP_SB_SIZE, sb.ns_size, false, &out, &f),
		 XP_E_INVAL);
	/* Encode zeroes the rest of the block. */
	memset(buf, 0xee, sizeof(buf));
	xp_sb_encode(&sb, false, buf);
	for (size_t i = XP_SB_SIZE; i < XP_SB_BLOCK; i++)
		if (buf[i]) {
			CHECK_MSG(0, "byte %zu not zeroed", i);
			break;
		}
	for (size_t i = 144; i < 504; i++)
		if (buf[i]) {
			CHECK_MSG(0, "reserved byte %zu not zeroed", i);
			break;
		}
	CHECK(!memcmp(buf, XP_SB_SIGNATURE, 16));
}

/* Bytes between header_size and 4 KiB are outside the sum: must be zero. */
static void test_sb_block_tail(void)
{
	struct xp_sb sb;
	static uint8_t buf[XP_SB_BLOCK];
	const char *f;
	size_t n = 0;

	def_sb(&sb);
	for (size_t i = XP_SB_SIZE; i < XP_SB_BLOCK; i++) {
		xp_sb_encode(&sb, false, buf);
		buf[i] = (uint8_t)(1u << (i % 8));
		if (sb_dec(buf, sb.ns_size, false, &f) != XP_OK)
			n++;
	}
	CHECK_EQ_U64(n, XP_SB_BLOCK - XP_SB_SIZE);
	xp_sb_encode(&sb, false, buf);
	buf[XP_SB_BLOCK - 1] = 0xff;
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "block tail");
	/* A longer header moves the tail's start. */
	xp_sb_encode(&sb, false, buf);
	*(xp_le32 *)(buf + 20) = xp_put32(1024);
	buf[1023] = 0x33;
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
	buf[1024] = 0x33;
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "block tail");
}

static void test_sb_relocate(void)
{
	struct xp_sb sb, out;
	static uint8_t buf[XP_SB_BLOCK], orig[XP_SB_BLOCK];
	const char *f;

	CHECK_ST(mk_sb(&sb, 4 * GiB, 2 * MiB + 4096, 512, 64, 21), XP_OK);
	/* primary -> backup -> primary is the identity */
	xp_sb_encode(&sb, false, orig);
	memcpy(buf, orig, sizeof(buf));
	CHECK_ST(xp_sb_relocate(buf, true), XP_OK);
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, true, &out, &f),
		 XP_OK);
	CHECK(out.compat == (sb.compat | XP_SB_F_BACKUP));
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, false, &out, &f),
		 XP_E_FIELD);
	{
		uint8_t enc[XP_SB_BLOCK];

		xp_sb_encode(&sb, true, enc);
		CHECK(!memcmp(enc, buf, sizeof(buf)));
	}
	CHECK_ST(xp_sb_relocate(buf, false), XP_OK);
	CHECK(!memcmp(buf, orig, sizeof(buf)));
	/* idempotent */
	CHECK_ST(xp_sb_relocate(buf, false), XP_OK);
	CHECK(!memcmp(buf, orig, sizeof(buf)));

	/* A newer minor's fields survive, byte for byte. */
	xp_sb_encode(&sb, false, orig);
	orig[18] = 3;				/* minor 3 */
	*(xp_le32 *)(orig + 20) = xp_put32(768);
	orig[300] = 0xab;			/* reserved in 1.0 */
	orig[700] = 0xcd;			/* beyond 512, inside the sum */
	orig[24] |= 0x80;			/* unknown compat bit */
	sb_fix(orig);
	CHECK_ST(sb_dec(orig, sb.ns_size, false, &f), XP_OK);
	memcpy(buf, orig, sizeof(buf));
	CHECK_ST(xp_sb_relocate(buf, true), XP_OK);
	CHECK_ST(sb_dec(buf, sb.ns_size, true, &f), XP_OK);
	for (size_t i = 0; i < XP_SB_BLOCK; i++)
		if (i != 24 && (i < 504 || i >= 512) && buf[i] != orig[i]) {
			CHECK_MSG(0, "byte %zu changed", i);
			break;
		}
	CHECK(buf[24] == (orig[24] | XP_SB_F_BACKUP));
	CHECK(buf[700] == 0xcd && buf[300] == 0xab && buf[18] == 3);

	/* Invalid header sizes are refused, the block left alone. */
	{
		static const uint32_t bad[] = {0, 511, 514, 4100};

		for (size_t i = 0; i < 4; i++) {
			xp_sb_encode(&sb, false, buf);
			*(xp_le32 *)(buf + 20) = xp_put32(bad[i]);
			memcpy(orig, buf, sizeof(buf));
			CHECK_ST(xp_sb_relocate(buf, true), XP_E_INVAL);
			CHECK(!memcmp(buf, orig, sizeof(buf)));
		}
	}
}

/* ---- records ------------------------------------------------------------ */

static void test_rec_roundtrip_bounds(void)
{
	static const uint32_t owners_ok[] = {0, 1, 32751, XP_OWNER_NONE};
	static const uint32_t owners_bad[] = {32752, 32753, 32767, 65535,
					      0x10000, 0xfffffffe};
	struct xp_sb sb;
	struct xp_rec r, o;
	const char *f;
	uint64_t a = 2 * MiB, dend;

	def_sb(&sb);
	dend = sb.data_offset + sb.data_size;

	/* offsets and sizes at the data area's bounds */
	r = mk_rec(&sb, 1, sb.data_offset, a, "a");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset, sb.data_size, "whole");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, dend - a, a, "last");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, UINT64_MAX, dend - a, a, "seqmax");
	CHECK_REC_OK(&sb, &r);

	r = mk_rec(&sb, 1, sb.data_offset - a, a, "below");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r = mk_rec(&sb, 1, 0, a, "zero");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r = mk_rec(&sb, 1, dend, a, "atend");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r = mk_rec(&sb, 1, dend - a, 2 * a, "past");
	CHECK_REC_FIELD(&sb, &r, "size");
	r = mk_rec(&sb, 1, sb.data_offset, sb.data_size + a, "toobig");
	CHECK_REC_FIELD(&sb, &r, "size");
	r = mk_rec(&sb, 1, sb.data_offset, 0, "empty");
	CHECK_REC_FIELD(&sb, &r, "size");
	r = mk_rec(&sb, 1, sb.data_offset, a + 4096, "unaligned");
	CHECK_REC_FIELD(&sb, &r, "size");
	/* offset + size wraps around 2^64 */
	r = mk_rec(&sb, 1, sb.data_offset, 0 - a, "wrap");
	CHECK_REC_FIELD(&sb, &r, "size");
	r = mk_rec(&sb, 1, dend - a, 0 - (dend - a), "wrap2");
	CHECK_REC_FIELD(&sb, &r, "size");
	r = mk_rec(&sb, 1, sb.data_offset + 4096, a, "misaligned");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r = mk_rec(&sb, 1, UINT64_MAX - 4095, a, "huge");
	CHECK_REC_FIELD(&sb, &r, "offset");

	/* extent alignment: 4K extents in a 2M data area are fine */
	r = mk_rec(&sb, 1, sb.data_offset + 4096, 4096, "small");
	r.align_shift = 12;
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset, GiB, "gig");
	r.align_shift = 30;
	/* data_offset of a 1 GiB namespace is not 1G aligned */
	CHECK_REC_FIELD(&sb, &r, "offset");
	for (uint32_t s = 0; s < 64; s++) {
		if (xp_align_shift_ok(s))
			continue;
		r = mk_rec(&sb, 1, sb.data_offset, a, "badshift");
		r.align_shift = s;
		CHECK_REC_FIELD(&sb, &r, "align_shift");
	}

	/* seq */
	r = mk_rec(&sb, 0, sb.data_offset, a, "seq0");
	CHECK_REC_FIELD(&sb, &r, "seq");
	{
		struct xp_rec fr = mk_free(0);

		CHECK_REC_FIELD(&sb, &fr, "seq");
	}

	/* owner */
	for (size_t i = 0; i < sizeof(owners_ok) / sizeof(owners_ok[0]); i++) {
		r = mk_rec(&sb, 1, sb.data_offset, a, "own");
		r.owner = owners_ok[i];
		CHECK_REC_OK(&sb, &r);
	}
	for (size_t i = 0; i < sizeof(owners_bad) / sizeof(owners_bad[0]); i++) {
		r = mk_rec(&sb, 1, sb.data_offset, a, "own");
		r.owner = owners_bad[i];
		CHECK_REC_FIELD(&sb, &r, "owner");
	}

	/* label_size */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * a, "lbl");
	r.label_size = 0;
	CHECK_REC_OK(&sb, &r);
	r.label_size = 4096;
	CHECK_REC_OK(&sb, &r);
	r.label_size = 2 * a - 4096;
	CHECK_REC_OK(&sb, &r);
	r.label_size = 2 * a;
	CHECK_REC_FIELD(&sb, &r, "label_size");
	r.label_size = 2 * a + 4096;
	CHECK_REC_FIELD(&sb, &r, "label_size");
	r.label_size = 2048;
	CHECK_REC_FIELD(&sb, &r, "label_size");
	r.label_size = 1;
	CHECK_REC_FIELD(&sb, &r, "label_size");
	r.label_size = UINT64_MAX & ~4095ull;
	CHECK_REC_FIELD(&sb, &r, "label_size");

	/* uuid */
	r = mk_rec(&sb, 1, sb.data_offset, a, "nouuid");
	memset(r.uuid, 0, 16);
	CHECK_REC_FIELD(&sb, &r, "uuid");
	r.uuid[15] = 1;
	CHECK_REC_OK(&sb, &r);

	/* flags: every unknown bit, used and free */
	for (int b = 1; b < 32; b++) {
		struct xp_rec fr = mk_free(3);

		r = mk_rec(&sb, 1, sb.data_offset, a, "flags");
		r.flags |= 1u << b;
		CHECK_REC_FIELD(&sb, &r, "flags");
		fr.flags = 1u << b;
		CHECK_REC_FIELD(&sb, &fr, "flags");
	}

	/* A free record decodes as free and carries only its sequence. */
	{
		struct xp_rec fr = mk_free(7);

		CHECK_ST(rec_rt(&sb, 0, &fr, &o, &f), XP_OK);
		CHECK(!xp_rec_used(&o) && o.seq == 7);
	}
}

static void test_rec_free_payload(void)
{
	struct xp_sb sb;
	uint8_t buf[XP_REC_SIZE];
	struct xp_rec o, fr = mk_free(9);
	const char *f;

	def_sb(&sb);
	/* encode drops a used-only payload from a free record */
	fr.offset = sb.data_offset;
	fr.size = 2 * MiB;
	fr.owner = 3;
	strcpy(fr.name, "ghost");
	fr.uuid[0] = 1;
	CHECK_ST(rec_rt(&sb, 0, &fr, &o, &f), XP_OK);
	CHECK(o.offset == 0 && o.size == 0 && o.name[0] == 0);

	for (size_t i = 16; i < 120; i++) {
		for (int v = 0; v < 2; v++) {
			xp_rec_encode(&sb, 5, &fr, buf);
			buf[i] = v ? 0x80 : 0x01;
			rec_fix(&sb, 5, buf);
			CHECK_ST(xp_rec_decode(&sb, 5, buf, &o, &f), XP_E_FIELD);
			CHECK_STR(f, "free record payload");
		}
	}
}

static bool ref_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
	       c == '+' || c == ':';
}

static void test_rec_names(void)
{
	struct xp_sb sb;
	struct xp_rec r, o;
	uint8_t buf[XP_REC_SIZE];
	const char *f;
	char name[64];
	int nallowed = 0;

	def_sb(&sb);

	/* Lengths 1 and 55 are fine; 56 cannot be NUL-terminated. */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "x");
	CHECK_REC_OK(&sb, &r);
	memset(name, 'n', 55);
	name[55] = 0;
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
	CHECK_REC_OK(&sb, &r);
	CHECK_ST(rec_rt(&sb, 0, &r, &o, &f), XP_OK);
	CHECK(strlen(o.name) == 55);
	xp_rec_encode(&sb, 0, &r, buf);
	buf[64 + 55] = 'n'; /* 56 characters, no NUL */
	rec_fix(&sb, 0, buf);
	CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);
	CHECK_STR(f, "name");
	/* Empty name */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "");
	CHECK_REC_FIELD(&sb, &r, "name");
	/* Garbage after the NUL */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "ab");
	for (size_t i = 3; i < 56; i += 13) {
		xp_rec_encode(&sb, 0, &r, buf);
		buf[64 + i] = 'z';
		rec_fix(&sb, 0, buf);
		CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);
		CHECK_STR(f, "name");
	}
	xp_rec_encode(&sb, 0, &r, buf);
	buf[64 + 55] = 1;
	rec_fix(&sb, 0, buf);
	CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);

	/* Every byte value, alone, in the middle, at the end. */
	for (int c = 1; c < 256; c++) {
		bool ok = ref_name_char(c);

		nallowed += ok;
		name[0] = (char)c;
		name[1] = 0;
		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
		if (ok && c != '-' && c != '.')
			CHECK_REC_OK(&sb, &r);
		else
			CHECK_REC_FIELD(&sb, &r, "name");
		CHECK(xp_name_valid(name, 56) == (ok && c != '-' && c != '.'));

		snprintf(name, sizeof(name), "a%cb", c);
		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
		if (ok)
			CHECK_REC_OK(&sb, &r);
		else
			CHECK_REC_FIELD(&sb, &r, "name");
		CHECK(xp_name_valid(name, 56) == ok);

		memset(name, 'q', 54);
		name[54] = (char)c;
		name[55] = 0;
		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
		if (ok)
			CHECK_REC_OK(&sb, &r);
		else
			CHECK_REC_FIELD(&sb, &r, "name");
	}
	CHECK(nallowed == 26 + 26 + 10 + 5);

	/* xp_name_valid's own bounds */
	CHECK(!xp_name_valid(NULL, 56));
	CHECK(!xp_name_valid("", 56));
	CHECK(!xp_name_valid("abc", 3));	/* no NUL within maxlen */
	CHECK(xp_name_valid("abc", 4));
	CHECK(!xp_name_valid("-abc", 56));
	CHECK(xp_name_valid("a-bc", 56));
	CHECK(xp_name_valid("A.b_c+d:e-f0", 56));
	/* dots alone name no device node */
	CHECK(!xp_name_valid(".", 56));
	CHECK(!xp_name_valid("..", 56));
	CHECK(!xp_name_valid("...", 56));
	CHECK(xp_name_valid(".a", 56));
	CHECK(xp_name_valid("a.", 56));
	memset(name, 'n', 60);
	name[56] = 0;
	CHECK(!xp_name_valid(name, 60));	/* 56 > XP_NAME_MAX */
	name[55] = 0;
	CHECK(xp_name_valid(name, 60));
}

static void test_rec_bitflips_binding(void)
{
	struct xp_sb sb, sb2;
	struct xp_rec r, o;
	uint8_t buf[XP_REC_SIZE], fbuf[XP_REC_SIZE];
	const char *f;

	def_sb(&sb);
	r = mk_rec(&sb, 42, sb.data_offset + 4 * MiB, 8 * MiB, "guest-1.disk");
	r.owner = 7;
	r.label_size = 128 * 1024;
	xp_rec_encode(&sb, 3, &r, buf);
	xp_rec_encode(&sb, 3, &(struct xp_rec){.seq = 5}, fbuf);
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_OK);
	CHECK_ST(xp_rec_decode(&sb, 3, fbuf, &o, &f), XP_OK);

	for (size_t bit = 0; bit < XP_REC_SIZE * 8; bit++) {
		uint8_t *bufs[2] = {buf, fbuf};

		for (int k = 0; k < 2; k++) {
			uint8_t *b = bufs[k];
			enum xp_fmt_status st;

			b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			st = xp_rec_decode(&sb, 3, b, &o, &f);
			if (bit / 8 >= 8 && bit / 8 < 12)
				CHECK_ST(st, XP_E_SIGNATURE);
			else
				CHECK_MSG(st == XP_E_CHECKSUM, "bit %zu: %s",
					  bit, xp_fmt_strstatus(st));
			b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_OK);

	/* Copied to another slot: the slot number is in the sum. */
	for (uint32_t s = 0; s < 70000; s += 997)
		if (s != 3) {
			CHECK_ST(xp_rec_decode(&sb, s, buf, &o, &f),
				 XP_E_CHECKSUM);
			CHECK_ST(xp_rec_decode(&sb, s, fbuf, &o, &f),
				 XP_E_CHECKSUM);
		}
	CHECK_ST(xp_rec_decode(&sb, 4, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_ST(xp_rec_decode(&sb, 2, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_STR(f, "checksum");
	/* Checksummed with another namespace UUID. */
	sb2 = sb;
	memcpy(sb2.ns_uuid, NSU2, 16);
	CHECK_ST(xp_rec_decode(&sb2, 3, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_ST(xp_rec_decode(&sb2, 3, fbuf, &o, &f), XP_E_CHECKSUM);
	xp_rec_encode(&sb2, 3, &r, buf);
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_ST(xp_rec_decode(&sb2, 3, buf, &o, &f), XP_OK);

	/* Blank and bad magic */
	memset(buf, 0, sizeof(buf));
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_E_BLANK);
	buf[127] = 1;
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_E_SIGNATURE);
	CHECK_STR(f, "magic");
	memset(buf, 0xff, sizeof(buf));
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_E_SIGNATURE);
}

/* Physical alignment with a phys_base that is only 4K aligned. */
static void test_rec_phys_alignment(void)
{
	struct xp_sb sb;
	struct xp_rec r;
	uint64_t phys = 3 * 4096;

	CHECK_ST(mk_sb(&sb, 8 * GiB, phys, 64, 40, 21), XP_OK);
	CHECK((phys + sb.data_offset) % (2 * MiB) == 0);
	CHECK(sb.data_offset % (2 * MiB) != 0);
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "p");
	CHECK_REC_OK(&sb, &r);
	/* Virtually 2M aligned, physically not. */
	r = mk_rec(&sb, 1, (sb.data_offset + 2 * MiB) & ~(2 * MiB - 1),
		   2 * MiB, "v");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r.align_shift = 12;
	CHECK_REC_OK(&sb, &r);

	CHECK_ST(mk_sb(&sb, 8 * GiB, GiB - 4096, 64, 40, 30), XP_OK);
	CHECK((sb.phys_base + sb.data_offset) % GiB == 0);
	r = mk_rec(&sb, 1, sb.data_offset, GiB, "g");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset + GiB, GiB, "g2");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset + 2 * MiB, GiB, "g3");
	CHECK_REC_FIELD(&sb, &r, "offset");
}

/* ---- slots -------------------------------------------------------------- */

struct slotbuf {
	uint8_t b[XP_SLOT_SIZE];
};

static void put_copy(const struct xp_sb *sb, uint32_t slot, struct slotbuf *s,
		     int c, const struct xp_rec *r)
{
	xp_rec_encode(sb, slot, r, s->b + c * XP_REC_SIZE);
}

static void test_slot_decode(void)
{
	struct xp_sb sb;
	struct slotbuf s;
	struct xp_slot d;
	struct xp_rec r5, r6;

	def_sb(&sb);
	r5 = mk_rec(&sb, 5, sb.data_offset, 2 * MiB, "five");
	r6 = mk_rec(&sb, 6, sb.data_offset, 4 * MiB, "six");

	/* both blank: init gives every slot a record, so this is corrupt */
	memset(&s, 0, sizeof(s));
	xp_slot_decode(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);
	CHECK(d.copy_status[0] == XP_E_BLANK && d.copy_status[1] == XP_E_BLANK);

	/* one copy, either position */
	for (int c = 0; c < 2; c++) {
		memset(&s, 0, sizeof(s));
		put_copy(&sb, 9, &s, c, &r5);
		xp_slot_decode(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c);
		CHECK(rec_equal(&d.rec, &r5));
		CHECK(d.copy_status[c] == XP_OK &&
		      d.copy_status[!c] == XP_E_BLANK);
	}

	/* higher seq wins, in either position */
	for (int c = 0; c < 2; c++) {
		memset(&s, 0, sizeof(s));
		put_copy(&sb, 9, &s, c, &r5);
		put_copy(&sb, 9, &s, !c, &r6);
		xp_slot_decode(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == !c);
		CHECK(rec_equal(&d.rec, &r6));
		/* the newer copy torn: fall back to the older */
		s.b[!c * XP_REC_SIZE + 70] ^= 0x10;
		xp_slot_decode(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c);
		CHECK(rec_equal(&d.rec, &r5));
		CHECK(d.copy_status[!c] == XP_E_CHECKSUM);
		/* newer copy half-written (tail still zero) */
		memset(s.b + !c * XP_REC_SIZE + 64, 0, 64);
		xp_slot_decode(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c);
		/* newer copy valid but with a bad field: fall back too */
		{
			struct xp_rec bad = r6;

			bad.owner = 40000;
			put_copy(&sb, 9, &s, !c, &bad);
			xp_slot_decode(&sb, 9, s.b, &d);
			CHECK(d.state == XP_SLOT_USED && d.active == c);
			CHECK(d.copy_status[!c] == XP_E_FIELD);
			CHECK_STR(d.copy_field[!c], "owner");
		}
	}

	/* newest is a free record: the slot is free */
	{
		struct xp_rec f7 = mk_free(7);

		memset(&s, 0, sizeof(s));
		put_copy(&sb, 9, &s, 0, &r6);
		put_copy(&sb, 9, &s, 1, &f7);
		xp_slot_decode(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_FREE && d.active == 1 &&
		      d.rec.seq == 7);
	}

	/* equal sequences cannot come from the protocol */
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 9, &s, 0, &r5);
	{
		struct xp_rec r5b = r5;

		r5b.size = 6 * MiB;
		put_copy(&sb, 9, &s, 1, &r5b);
	}
	xp_slot_decode(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);
	/* even when identical */
	put_copy(&sb, 9, &s, 1, &r5);
	xp_slot_decode(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);

	/* two invalid, non-blank copies */
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 9, &s, 0, &r5);
	put_copy(&sb, 9, &s, 1, &r6);
	s.b[20] ^= 1;
	s.b[XP_REC_SIZE + 20] ^= 1;
	xp_slot_decode(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);
	CHECK(d.copy_status[0] == XP_E_CHECKSUM &&
	      d.copy_status[1] == XP_E_CHECKSUM);
	/* one blank, one invalid */
	memset(s.b, 0, XP_REC_SIZE);
	xp_slot_decode(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);
	/* wrong slot number: both copies fail the sum */
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 9, &s, 0, &r5);
	xp_slot_decode(&sb, 10, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT);
}

/* The update protocol: write next_copy with seq, then read back. */
static void apply_update(const struct xp_sb *sb, uint32_t slot,
			 struct slotbuf *s, const struct xp_rec *want,
			 int *copy_out, uint64_t *seq_out, bool torn)
{
	struct xp_slot d;
	struct xp_rec r = *want;
	uint64_t seq = 0;
	int c;

	xp_slot_decode(sb, slot, s->b, &d);
	c = xp_slot_next_copy(&d, &seq);
	*copy_out = c;
	*seq_out = seq;
	if (c < 0)
		return;
	r.seq = seq;
	if (!torn) {
		put_copy(sb, slot, s, c, &r);
	} else {
		uint8_t tmp[XP_REC_SIZE];

		/* Only the first cache-line half reached the media. */
		xp_rec_encode(sb, slot, &r, tmp);
		memcpy(s->b + c * XP_REC_SIZE, tmp, 64);
	}
}

static void test_slot_next_copy(void)
{
	struct xp_sb sb;
	struct slotbuf s;
	struct xp_slot d, prev;
	int c, last = -1;
	uint64_t seq;

	def_sb(&sb);
	/* blank: no valid copy, nothing may be written */
	memset(&s, 0, sizeof(s));
	xp_slot_decode(&sb, 1, s.b, &d);
	CHECK(xp_slot_next_copy(&d, &seq) == -1);
	/* as init leaves it: a free record in copy 0 with seq 1 */
	xp_slot_init(&sb, 1, s.b);
	xp_slot_decode(&sb, 1, s.b, &d);
	CHECK(d.state == XP_SLOT_FREE && d.active == 0 && d.rec.seq == 1);
	CHECK(!memcmp(s.b + XP_REC_SIZE, (uint8_t[XP_REC_SIZE]){0}, XP_REC_SIZE));
	CHECK(xp_slot_next_copy(&d, &seq) == 1 && seq == 2);

	for (int i = 0; i < 200; i++) {
		struct xp_rec want;
		char nm[32];
		bool torn = i % 7 == 3;

		snprintf(nm, sizeof(nm), "ext%d", i);
		if (i % 5 == 4)
			want = mk_free(0);
		else
			want = mk_rec(&sb, 0, sb.data_offset + (uint64_t)(i % 9) * 2 * MiB,
				      2 * MiB, nm);
		xp_slot_decode(&sb, 1, s.b, &prev);
		apply_update(&sb, 1, &s, &want, &c, &seq, torn);
		xp_slot_decode(&sb, 1, s.b, &d);
		if (torn) {
			/* A torn write leaves the old state. */
			CHECK(d.state == prev.state && d.active == prev.active);
			if (prev.active >= 0)
				CHECK(rec_equal(&d.rec, &prev.rec));
			continue;
		}
		CHECK(c == (prev.active < 0 ? 0 : !prev.active));
		CHECK(c != last);
		last = c;
		CHECK_EQ_U64(seq, prev.active < 0 ? 1 : prev.rec.seq + 1);
		CHECK(d.active == c && d.rec.seq == seq);
		CHECK(d.state == (xp_rec_used(&want) ? XP_SLOT_USED :
						       XP_SLOT_FREE));
	}

	/* sequence exhausted */
	memset(&d, 0, sizeof(d));
	d.state = XP_SLOT_USED;
	d.active = 1;
	d.rec.seq = UINT64_MAX;
	CHECK(xp_slot_next_copy(&d, &seq) == -1);
	d.rec.seq = UINT64_MAX - 1;
	CHECK(xp_slot_next_copy(&d, &seq) == 0 && seq == UINT64_MAX);

	/* Newer copy corrupt: the update overwrites the corrupt one. */
	memset(&s, 0, sizeof(s));
	{
		struct xp_rec a = mk_rec(&sb, 4, sb.data_offset, 2 * MiB, "a");
		struct xp_rec b = mk_rec(&sb, 5, sb.data_offset, 2 * MiB, "b");

		put_copy(&sb, 1, &s, 0, &a);
		put_copy(&sb, 1, &s, 1, &b);
		s.b[XP_REC_SIZE + 90] ^= 4;
		xp_slot_decode(&sb, 1, s.b, &d);
		CHECK(d.active == 0);
		CHECK(xp_slot_next_copy(&d, &seq) == 1 && seq == 5);
	}
}

/*
 * Whatever a slot holds, an update written where xp_slot_next_copy() says,
 * with the sequence it says, must become the slot's state: otherwise the
 * update is silently lost (or a stale record revived) on the next open.
 * Covers the slot states a crash, a bit flip or a hostile image can leave.
 *
 * A slot with no valid copy (blank, torn, equal seqs) has no copy an
 * update could safely take: xp_slot_next_copy() refuses it.
 */
static void test_slot_update_wins_everywhere(void)
{
	struct xp_sb sb;
	struct xp_rec r3, r9, r9b, bad;
	struct {
		const char *what;
		int k0, k1;	/* 0 blank, 1 r3, 2 r9, 3 r9b, 4 garbage, 5 bad */
		bool corrupt;	/* no valid copy: the update is refused */
	} cases[] = {
		{"blank", 0, 0, true},		 {"one copy", 1, 0, false},
		{"one copy (1)", 0, 1, false},	 {"newer 1", 1, 2, false},
		{"newer 0", 2, 1, false},	 {"older torn", 4, 2, false},
		{"newer torn", 1, 4, false},	 {"both torn", 4, 4, true},
		{"invalid field", 5, 1, false},	 {"invalid field 1", 1, 5, false},
		{"equal seq, same", 2, 2, true}, {"equal seq, differ", 2, 3, true},
	};

	def_sb(&sb);
	r3 = mk_rec(&sb, 3, sb.data_offset, 2 * MiB, "three");
	r9 = mk_rec(&sb, 9, sb.data_offset, 4 * MiB, "nine");
	r9b = mk_rec(&sb, 9, sb.data_offset + 8 * MiB, 2 * MiB, "nine-b");
	bad = mk_rec(&sb, 20, sb.data_offset, 2 * MiB, "bad");
	bad.label_size = 2 * MiB; /* invalid: label fills the extent */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct slotbuf s;
		struct xp_slot d;
		struct xp_rec want = mk_free(0);
		int c;
		uint64_t seq;
		int kinds[2] = {cases[i].k0, cases[i].k1};

		memset(&s, 0, sizeof(s));
		for (int k = 0; k < 2; k++) {
			switch (kinds[k]) {
			case 1: put_copy(&sb, 2, &s, k, &r3); break;
			case 2: put_copy(&sb, 2, &s, k, &r9); break;
			case 3: put_copy(&sb, 2, &s, k, &r9b); break;
			case 4:
				for (int j = 0; j < (int)XP_REC_SIZE; j++)
					s.b[k * XP_REC_SIZE + j] = (uint8_t)(j * 37 + 1);
				break;
			case 5: put_copy(&sb, 2, &s, k, &bad); break;
			}
		}
		xp_slot_decode(&sb, 2, s.b, &d);
		if (cases[i].corrupt) {
			CHECK_MSG(d.state == XP_SLOT_CORRUPT &&
					  xp_slot_next_copy(&d, &seq) == -1,
				  "%s: a corrupt slot took an update", cases[i].what);
			continue;
		}
		apply_update(&sb, 2, &s, &want, &c, &seq, false);
		CHECK_MSG(c >= 0, "%s: no copy to write", cases[i].what);
		xp_slot_decode(&sb, 2, s.b, &d);
		CHECK_MSG(d.state == XP_SLOT_FREE && d.active == c &&
				  d.rec.seq == seq,
			  "%s: wrote copy %d seq %" PRIu64
			  ", slot now state %d active %d seq %" PRIu64
			  " (update lost)",
			  cases[i].what, c, seq, (int)d.state, d.active,
			  d.active >= 0 ? d.rec.seq : 0);
	}
}

/* ---- table -------------------------------------------------------------- */

static struct xp_slot used_slot(uint64_t off, uint64_t size, const char *name,
				uint32_t uuidn)
{
	struct xp_slot s;

	memset(&s, 0, sizeof(s));
	s.state = XP_SLOT_USED;
	s.active = 0;
	s.rec.seq = 1;
	s.rec.flags = XP_REC_F_USED;
	s.rec.offset = off;
	s.rec.size = size;
	s.rec.owner = XP_OWNER_NONE;
	s.rec.align_shift = 12;
	mk_uuid(s.rec.uuid, uuidn);
	strncpy(s.rec.name, name, XP_NAME_MAX);
	return s;
}

static enum xp_fmt_status tcheck(const struct xp_slot *s, uint32_t n,
				 uint32_t *a, uint32_t *b, const char **why)
{
	uint32_t scratch[512];

	*a = *b = 0xdead;
	return xp_table_check(s, n, scratch, a, b, why);
}

static void test_table_check(void)
{
	struct xp_slot s[8];
	uint32_t a, b;
	const char *why;

	memset(s, 0, sizeof(s));
	CHECK_ST(tcheck(s, 0, &a, &b, &why), XP_OK);
	CHECK(why == NULL);

	s[0] = used_slot(1 * MiB, MiB, "a", 1);
	s[1] = used_slot(3 * MiB, MiB, "b", 2);
	s[2] = used_slot(2 * MiB, MiB, "c", 3);	/* adjacent on both sides */
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_OK);
	CHECK(why == NULL);

	/* one byte of overlap */
	s[2].rec.size = MiB + 4096;
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "extents overlap");
	CHECK((a == 2 && b == 1) || (a == 1 && b == 2));
	/* containment, and identical extents */
	s[2] = used_slot(MiB + 4096, 4096, "c", 3);
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "extents overlap");
	CHECK((a == 0 && b == 2) || (a == 2 && b == 0));
	s[2] = used_slot(3 * MiB, MiB, "c", 3);
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK((a == 1 && b == 2) || (a == 2 && b == 1));
	/* a big extent covering a later one that is not its neighbour */
	s[0] = used_slot(MiB, 10 * MiB, "a", 1);
	s[1] = used_slot(3 * MiB, MiB, "b", 2);
	s[2] = used_slot(20 * MiB, MiB, "c", 3);
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "extents overlap");

	/* overlaps with slots that are not used do not count */
	s[0] = used_slot(MiB, MiB, "a", 1);
	s[1] = used_slot(MiB, MiB, "a", 1);
	s[1].state = XP_SLOT_FREE;
	s[2] = used_slot(MiB, MiB, "a", 1);
	s[2].state = XP_SLOT_CORRUPT;
	s[3] = used_slot(MiB, MiB, "a", 1);
	s[3].state = XP_SLOT_FREE;
	s[4] = used_slot(2 * MiB, MiB, "b", 2);
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_OK);

	/* duplicate names; prefixes are not duplicates */
	s[0] = used_slot(MiB, MiB, "disk", 1);
	s[1] = used_slot(2 * MiB, MiB, "disk0", 2);
	s[2] = used_slot(3 * MiB, MiB, "dis", 3);
	s[3] = used_slot(4 * MiB, MiB, "Disk", 4);
	CHECK_ST(tcheck(s, 4, &a, &b, &why), XP_OK);
	s[4] = used_slot(5 * MiB, MiB, "disk0", 5);
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "duplicate name");
	CHECK((a == 1 && b == 4) || (a == 4 && b == 1));

	/* duplicate uuids */
	s[4] = used_slot(5 * MiB, MiB, "other", 3);
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "duplicate uuid");
	CHECK((a == 2 && b == 4) || (a == 4 && b == 2));
	/* uuids differing only in the last byte, or the first */
	s[4].rec.uuid[15] ^= 1;
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_OK);
	s[4].rec.uuid[15] ^= 1;
	s[4].rec.uuid[0] ^= 0x80;
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_OK);
}

/* Brute-force reference for the table rules. */
static int ref_table(const struct xp_slot *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++) {
			const struct xp_rec *p = &s[i].rec, *q = &s[j].rec;

			if (s[i].state != XP_SLOT_USED ||
			    s[j].state != XP_SLOT_USED)
				continue;
			if (p->offset < q->offset + q->size &&
			    q->offset < p->offset + p->size)
				return 1;
			if (!strcmp(p->name, q->name))
				return 2;
			if (!memcmp(p->uuid, q->uuid, 16))
				return 3;
		}
	return 0;
}

static void test_table_random(void)
{
	static struct xp_slot s[400];
	uint32_t scratch[400];

	for (int iter = 0; iter < 3000; iter++) {
		uint32_t n = (uint32_t)xt_range(0, iter < 2900 ? 40 : 400);
		uint64_t off = 0;
		uint32_t a, b;
		const char *why;
		enum xp_fmt_status st;
		int ref, kind = (int)xt_range(0, 3);

		/* A valid table, in shuffled slot order. */
		for (uint32_t i = 0; i < n; i++) {
			char nm[16];
			uint64_t size = xt_range(1, 8) * 4096;

			off += xt_range(0, 2) * 4096;
			snprintf(nm, sizeof(nm), "e%u", i);
			s[i] = used_slot(off, size, nm, i + 1);
			off += size;
			if (xt_rand() % 8 == 0)
				s[i].state = (enum xp_slot_state)xt_range(0, 3);
		}
		for (uint32_t i = n; i > 1; i--) {
			uint32_t j = (uint32_t)xt_range(0, i - 1);
			struct xp_slot t = s[i - 1];

			s[i - 1] = s[j];
			s[j] = t;
		}
		/* Maybe break one rule between two random slots. */
		if (n >= 2 && kind) {
			uint32_t i = (uint32_t)xt_range(0, n - 1);
			uint32_t j = (uint32_t)xt_range(0, n - 1);

			if (i != j) {
				if (kind == 1)
					s[j].rec.offset = s[i].rec.offset +
							  xt_range(0, s[i].rec.size / 4096 - 1) * 4096;
				else if (kind == 2)
					strcpy(s[j].rec.name, s[i].rec.name);
				else
					memcpy(s[j].rec.uuid, s[i].rec.uuid, 16);
			}
		}
		ref = ref_table(s, n);
		st = xp_table_check(s, n, scratch, &a, &b, &why);
		CHECK_MSG((st == XP_OK) == (ref == 0), "iter %d: st %d ref %d",
			  iter, (int)st, ref);
		if (st != XP_OK) {
			CHECK(a < n && b < n && a != b);
			CHECK(s[a].state == XP_SLOT_USED &&
			      s[b].state == XP_SLOT_USED);
			if (!strcmp(why, "extents overlap"))
				CHECK(s[a].rec.offset < s[b].rec.offset + s[b].rec.size &&
				      s[b].rec.offset < s[a].rec.offset + s[a].rec.size);
			else if (!strcmp(why, "duplicate name"))
				CHECK(!strcmp(s[a].rec.name, s[b].rec.name));
			else if (!strcmp(why, "duplicate uuid"))
				CHECK(!memcmp(s[a].rec.uuid, s[b].rec.uuid, 16));
			else
				CHECK_MSG(0, "unknown why %s", why);
		}
	}
}

/* ---- sort --------------------------------------------------------------- */

static uint64_t *sort_keys;

static int cmp_idx(uint32_t x, uint32_t y, const void *ctx)
{
	const uint64_t *k = ctx;

	return k[x] < k[y] ? -1 : k[x] > k[y];
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

static void test_sort_idx(void)
{
	enum { MAXN = 20000 };
	static uint64_t keys[MAXN], ref[MAXN];
	static uint32_t idx[MAXN];
	static uint8_t seen[MAXN];

	sort_keys = keys;
	for (int iter = 0; iter < 600; iter++) {
		uint32_t n = iter < 300 ? (uint32_t)iter % 70 :
					  (uint32_t)xt_range(0, iter < 590 ? 2000 : MAXN);
		int dist = iter % 4;

		for (uint32_t i = 0; i < n; i++) {
			switch (dist) {
			case 0: keys[i] = xt_rand(); break;
			case 1: keys[i] = xt_rand() % 5; break;	/* many dups */
			case 2: keys[i] = i; break;		/* sorted */
			default: keys[i] = n - i; break;	/* reversed */
			}
			ref[i] = keys[i];
			idx[i] = i;
		}
		xp_sort_idx(idx, n, cmp_idx, keys);
		qsort(ref, n, sizeof(ref[0]), cmp_u64);
		memset(seen, 0, n);
		for (uint32_t i = 0; i < n; i++) {
			if (idx[i] >= n || seen[idx[i]]) {
				CHECK_MSG(0, "n=%u: not a permutation at %u", n, i);
				break;
			}
			seen[idx[i]] = 1;
			if (keys[idx[i]] != ref[i]) {
				CHECK_MSG(0, "n=%u: position %u differs from qsort",
					  n, i);
				break;
			}
		}
		xt_checks++;
	}
}

int main(int argc, char **argv)
{
	xt_init(argc, argv);
	RUN(test_endian);
	RUN(test_fletcher);
	RUN(test_helpers);
	RUN(test_strstatus);
	RUN(test_sb_roundtrip_bounds);
	RUN(test_sb_phys_base);
	RUN(test_sb_ns_size);
	RUN(test_sb_fields_rejected);
	RUN(test_sb_version_flags);
	RUN(test_sb_header_size);
	RUN(test_sb_bitflips);
	RUN(test_sb_blank_signature_len);
	RUN(test_sb_block_tail);
	RUN(test_sb_relocate);
	RUN(test_rec_roundtrip_bounds);
	RUN(test_rec_free_payload);
	RUN(test_rec_names);
	RUN(test_rec_bitflips_binding);
	RUN(test_rec_phys_alignment);
	RUN(test_slot_decode);
	RUN(test_slot_next_copy);
	RUN(test_slot_update_wins_everywhere);
	RUN(test_table_check);
	RUN(test_table_random);
	RUN(test_sort_idx);
	return xt_finish();
}
