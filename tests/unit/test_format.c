/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the on-media format 2.0 (src/format): superblock encode,
 * decode and every field's bounds, feature words and who may write, the
 * generation and relocation of copies; record copies (tagged words,
 * payload, checksum binding, torn versus damaged); slot decoding against
 * the rules written out independently, and the update protocol driven
 * through real update sequences with every single-byte damage and every
 * word-level tear; the table rules against a brute-force oracle; the index
 * sort, Fletcher-64 and the endian accessors.
 */
#include "xp_format.h"
#include "xp_overflow.h"
#include "slot_model.h"
#include "slot_same.h"
#include "xp_test.h"

#include <stdbool.h>
#include <stddef.h>

static const uint8_t NSU[16] = {0x6b, 0x1e, 0x44, 0x02, 0x9a, 0x3c, 0x4f, 0x11,
				0x80, 0x42, 0xd1, 0x5e, 0x07, 0x7a, 0x33, 0xc9};
static const uint8_t NSU2[16] = {0x6b, 0x1e, 0x44, 0x02, 0x9a, 0x3c, 0x4f,
				 0x11, 0x80, 0x42, 0xd1, 0x5e, 0x07, 0x7a,
				 0x33, 0xca};
static const uint8_t OWNER[16] = {0xd0, 0x4a, 0x1f, 0x33, 0x5b, 0x2e, 0x41,
				  0x0c, 0x9e, 0x77, 0x10, 0x02, 0xfa, 0xce,
				  0x00, 0x01};

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define TiB (1ull << 40)

#define SBO(f) offsetof(struct xp_sb_disk, f)
#define PLO(f) offsetof(struct xp_rec_payload, f)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum mg { MG_NONE, MG_XEN, MG_XEN_NOCOMPAT };

/* ---- helpers ----------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int width)
{
	for (int i = 0; i < width; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int width)
{
	uint64_t v = 0;

	for (int i = width - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static enum xp_fmt_status mk_sb(struct xp_sb *sb, uint64_t ns, uint64_t phys,
				uint32_t slots, uint32_t shift, enum mg m)
{
	struct xp_layout_params p;
	struct xp_layout l;
	const char *why;
	enum xp_fmt_status st;

	memset(&p, 0, sizeof(p));
	p.ns_size = ns;
	p.phys_base = phys;
	p.slot_count = slots;
	p.align_shift = shift;
	if (m != MG_NONE)
		xp_mgmt_geom_xen(&p.geom, m == MG_XEN);
	st = xp_layout_solve(&p, &l, &why);
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
	sb->init_time = 1700000000123456789ull;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->rec_size = XP_REC_SIZE;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->align_shift = shift;
	sb->geom = p.geom;
	sb->chunks = l.chunks;
	sb->mgmt_offset = l.mgmt_offset;
	sb->mgmt_size = l.mgmt_size;
	sb->data_offset = l.data_offset;
	sb->data_size = l.data_size;
	return XP_OK;
}

/* Default: 1 GiB, 64 slots, 2 MiB alignment, Xen with compat M2P. */
static void def_sb(struct xp_sb *sb)
{
	CHECK_ST(mk_sb(sb, GiB, 0, 64, XP_ALIGN_2M_SHIFT, MG_XEN), XP_OK);
}

/* 1 GiB alignment: data area [1 GiB, 4 GiB). */
static void big_sb(struct xp_sb *sb)
{
	CHECK_ST(mk_sb(sb, 4 * GiB + 4096, 0, 64, XP_ALIGN_1G_SHIFT, MG_XEN),
		 XP_OK);
	CHECK_EQ_U64(sb->data_offset, GiB);
	CHECK_EQ_U64(sb->data_size, 3 * GiB);
}

static bool sb_equal(const struct xp_sb *a, const struct xp_sb *b)
{
	return a->major == b->major && a->minor == b->minor &&
	       a->header_size == b->header_size && a->compat == b->compat &&
	       a->ro_compat == b->ro_compat && a->incompat == b->incompat &&
	       !memcmp(a->ns_uuid, b->ns_uuid, 16) &&
	       a->generation == b->generation && a->ns_size == b->ns_size &&
	       a->phys_base == b->phys_base && a->init_time == b->init_time &&
	       a->table_offset == b->table_offset &&
	       a->slot_count == b->slot_count &&
	       a->slot_size == b->slot_size && a->rec_size == b->rec_size &&
	       a->page_shift == b->page_shift &&
	       a->align_shift == b->align_shift &&
	       a->geom.chunk_shift == b->geom.chunk_shift &&
	       a->geom.ft_entry == b->geom.ft_entry &&
	       a->geom.m2p_entry == b->geom.m2p_entry &&
	       a->geom.compat_entry == b->geom.compat_entry &&
	       a->geom.compat_limit_shift == b->geom.compat_limit_shift &&
	       a->chunks.ft == b->chunks.ft && a->chunks.m2p == b->chunks.m2p &&
	       a->chunks.compat == b->chunks.compat &&
	       a->mgmt_offset == b->mgmt_offset &&
	       a->mgmt_size == b->mgmt_size &&
	       a->data_offset == b->data_offset && a->data_size == b->data_size;
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
		  " slots=%u shift=%u chunk_shift=%u compat=%u: %s (%s)",
		  sb->ns_size, sb->phys_base, sb->slot_count, sb->align_shift,
		  sb->geom.chunk_shift, sb->geom.compat_entry,
		  xp_fmt_strstatus(st), field ? field : "-");
	CHECK(field == NULL);
	want.compat = backup ? want.compat | XP_SB_F_BACKUP :
			       want.compat & ~XP_SB_F_BACKUP;
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

/* Encode @sb, overwrite @width bytes at @off with @val, fix the sum. */
static enum xp_fmt_status sb_patched(const struct xp_sb *sb, size_t off,
				     uint64_t val, int width,
				     const char **field)
{
	static uint8_t buf[XP_SB_BLOCK];

	xp_sb_encode(sb, false, buf);
	put_le(buf + off, val, width);
	sb_fix(buf);
	return sb_dec(buf, sb->ns_size, false, field);
}

#define CHECK_SB_FIELD(sb, off, val, width, want)                            \
	do {                                                                 \
		const char *f_ = NULL;                                       \
		CHECK_ST(sb_patched((sb), (off), (val), (width), &f_),       \
			 XP_E_FIELD);                                        \
		CHECK_STR(f_, (want));                                       \
	} while (0)

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
	r.type = XP_REC_DATA;
	r.offset = off;
	r.size = size;
	r.align_shift = (uint8_t)sb->align_shift;
	r.label_size = 0;
	mk_uuid(r.uuid, (uint32_t)(off >> 21) ^ (uint32_t)seq);
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
	return a->seq == b->seq && a->type == b->type &&
	       a->align_shift == b->align_shift && a->flags == b->flags &&
	       a->offset == b->offset && a->size == b->size &&
	       a->label_size == b->label_size &&
	       !memcmp(a->uuid, b->uuid, 16) &&
	       !memcmp(a->owner, b->owner, 16) && !strcmp(a->name, b->name);
}

/*
 * Overwrite @width payload bytes at payload offset @poff of the copy at
 * @buf, optionally recomputing the checksum; the tags stay what word 0
 * carried (uniform).
 */
static void rec_patch(const struct xp_sb *sb, uint32_t slot, uint8_t *buf,
		      size_t poff, uint64_t val, int width, bool fix)
{
	uint8_t pl[XP_REC_PAYLOAD];

	xp_rec_gather(buf, pl);
	put_le(pl + poff, val, width);
	if (fix)
		put_le(pl + PLO(checksum),
		       xp_rec_checksum(sb->ns_uuid, slot, pl), 8);
	xp_rec_scatter(pl, buf[7], buf);
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

static bool tag_on_media(const uint8_t *copy, uint8_t tag)
{
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (copy[k * 8 + 7] == tag)
			return true;
	return false;
}

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
	uint8_t u[16];
	uint64_t r;

	for (uint32_t s = 0; s < 70; s++)
		CHECK(xp_align_shift_ok(s) == (s == 21 || s == 30));
	CHECK(!xp_align_shift_ok(XP_PAGE_SHIFT));	/* 4K is gone */
	CHECK(!xp_align_shift_ok(0xffffffffu));
	CHECK(xp_phys_aligned(0, 0, 21));
	CHECK(xp_phys_aligned(4096, 2 * MiB - 4096, 21));
	CHECK(!xp_phys_aligned(4096, 2 * MiB, 21));
	CHECK(!xp_phys_aligned(0, 0, 64));
	CHECK(xp_phys_aligned(GiB, 0, 30));
	CHECK(!xp_phys_aligned(GiB + 4096, 0, 30));
	CHECK(xp_phys_aligned(GiB - 2 * MiB, 2 * MiB, 30));

	memset(u, 0, sizeof(u));
	CHECK(xp_uuid_is_nil(u));
	for (int i = 0; i < 16; i++) {
		u[i] = 0x80;
		CHECK(!xp_uuid_is_nil(u));
		u[i] = 0;
	}
	CHECK_EQ_U64(xp_rec_tag(0x1234), 0x34);
	CHECK_EQ_U64(xp_rec_tag(256), 0);
	CHECK_EQ_U64(xp_rec_tag(UINT64_MAX), 0xff);
	CHECK_EQ_U64(xp_slot_offset(0), XP_TABLE_OFFSET);
	CHECK_EQ_U64(xp_slot_offset(65535), XP_TABLE_OFFSET + 65535ull * 256);

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
	const char *seen[XP_E_TORN + 1];

	for (int s = XP_OK; s <= XP_E_TORN; s++) {
		seen[s] = xp_fmt_strstatus((enum xp_fmt_status)s);
		CHECK(seen[s] && *seen[s]);
		CHECK(strcmp(seen[s], "unknown status") != 0);
		for (int t = 0; t < s; t++)
			CHECK(strcmp(seen[s], seen[t]) != 0);
	}
	CHECK_STR(xp_fmt_strstatus((enum xp_fmt_status)99), "unknown status");
}

/* ---- superblock --------------------------------------------------------- */

/* Where encode puts each field: the byte offsets docs/format.md gives. */
static void test_sb_encoding(void)
{
	static uint8_t buf[XP_SB_BLOCK];
	struct xp_sb sb;
	uint8_t tmp[XP_SB_SIZE];

	CHECK_ST(mk_sb(&sb, 8 * GiB, 2 * MiB + 4096, 100, 21, MG_XEN), XP_OK);
	sb.generation = 0x0102030405060708ull;
	sb.ro_compat = 0x40;
	sb.compat |= 0x100;
	memset(buf, 0xee, sizeof(buf));
	xp_sb_encode(&sb, true, buf);
	CHECK(!memcmp(buf, "XENPMEM-SUPERBLK", 16));
	CHECK_EQ_U64(get_le(buf + 16, 2), 2);
	CHECK_EQ_U64(get_le(buf + 18, 2), 0);
	CHECK_EQ_U64(get_le(buf + 20, 4), 512);
	CHECK_EQ_U64(get_le(buf + 24, 4),
		     0x100 | XP_SB_F_PHYS_KNOWN | XP_SB_F_BACKUP);
	CHECK_EQ_U64(XP_SB_F_BACKUP, 1);
	CHECK_EQ_U64(XP_SB_F_PHYS_KNOWN, 2);
	CHECK_EQ_U64(get_le(buf + 28, 4), 0x40);
	CHECK_EQ_U64(get_le(buf + 32, 4), 0);
	CHECK_EQ_U64(get_le(buf + 36, 4), 0);
	CHECK(!memcmp(buf + 40, NSU, 16));
	CHECK_EQ_U64(get_le(buf + 56, 8), 0x0102030405060708ull);
	CHECK_EQ_U64(get_le(buf + 64, 8), 8 * GiB);
	CHECK_EQ_U64(get_le(buf + 72, 8), 2 * MiB + 4096);
	CHECK_EQ_U64(get_le(buf + 80, 8), sb.init_time);
	CHECK_EQ_U64(get_le(buf + 88, 8), 8192);
	CHECK_EQ_U64(get_le(buf + 96, 4), 100);
	CHECK_EQ_U64(get_le(buf + 100, 4), 256);
	CHECK_EQ_U64(get_le(buf + 104, 4), 128);
	CHECK_EQ_U64(get_le(buf + 108, 4), 12);
	CHECK_EQ_U64(get_le(buf + 112, 4), 21);
	CHECK_EQ_U64(get_le(buf + 116, 4), 21);
	CHECK_EQ_U64(get_le(buf + 120, 4), 32);
	CHECK_EQ_U64(get_le(buf + 124, 4), 8);
	CHECK_EQ_U64(get_le(buf + 128, 4), 4);
	CHECK_EQ_U64(get_le(buf + 132, 4), 40);
	CHECK_EQ_U64(get_le(buf + 136, 4), sb.chunks.ft);
	CHECK_EQ_U64(get_le(buf + 140, 4), sb.chunks.m2p);
	CHECK_EQ_U64(get_le(buf + 144, 4), sb.chunks.compat);
	CHECK_EQ_U64(get_le(buf + 148, 4), 0);
	CHECK_EQ_U64(get_le(buf + 152, 8), sb.mgmt_offset);
	CHECK_EQ_U64(get_le(buf + 160, 8), sb.mgmt_size);
	CHECK_EQ_U64(get_le(buf + 168, 8), sb.data_offset);
	CHECK_EQ_U64(get_le(buf + 176, 8), sb.data_size);
	/* 8 GiB at 2 MiB + 4 KiB: frames below 1 TiB, all sub-arrays */
	CHECK(sb.chunks.ft >= 32 && sb.chunks.m2p >= 8 && sb.chunks.compat >= 4);
	for (size_t i = 184; i < 504; i++)
		if (buf[i]) {
			CHECK_MSG(0, "reserved byte %zu not zeroed", i);
			break;
		}
	for (size_t i = XP_SB_SIZE; i < XP_SB_BLOCK; i++)
		if (buf[i]) {
			CHECK_MSG(0, "byte %zu of the block tail not zeroed", i);
			break;
		}
	/* The checksum: Fletcher-64 of the header with the sum zeroed. */
	memcpy(tmp, buf, sizeof(tmp));
	memset(tmp + 504, 0, 8);
	CHECK_EQ_U64(get_le(buf + 504, 8), ref_fletcher64(tmp, sizeof(tmp)));
	CHECK_EQ_U64(xp_sb_checksum(buf, XP_SB_SIZE),
		     ref_fletcher64(tmp, sizeof(tmp)));
	/* The reader gets it all back. */
	check_sb_roundtrip(&sb, true);
	check_sb_roundtrip(&sb, false);
}

static void test_sb_roundtrip_bounds(void)
{
	static const uint32_t shifts[] = {21, 30};
	static const uint32_t slotss[] = {1, 2, 15, 16, 17, 1024, 65535, 65536};
	struct xp_sb sb;

	for (size_t a = 0; a < 2; a++)
		for (int m = MG_NONE; m <= MG_XEN_NOCOMPAT; m++)
			for (size_t s = 0; s < ARRAY_SIZE(slotss); s++) {
				uint64_t ns = 4 * GiB + 4096 * (s + 1);

				CHECK_ST(mk_sb(&sb, ns, 0, slotss[s], shifts[a],
					       (enum mg)m), XP_OK);
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
	sb.ro_compat = 0x80000001u;		/* the reader keeps them */
	check_sb_roundtrip(&sb, true);
}

static void test_sb_phys_base(void)
{
	static const uint32_t shifts[] = {21, 30};
	const uint64_t bases[] = {
		0, 4096, 3 * 4096, 2 * MiB + 4096, GiB - 4096, GiB,
		7 * GiB + 2 * MiB + 4096, TiB - 3 * GiB, TiB - 4096, TiB,
		(1ull << 56) + 4096, XP_PHYS_LIMIT - 64 * TiB,
	};
	struct xp_sb sb;
	const char *f;

	for (size_t a = 0; a < 2; a++)
		for (int m = MG_NONE; m <= MG_XEN_NOCOMPAT; m++)
			for (size_t i = 0; i < ARRAY_SIZE(bases); i++) {
				uint64_t ns = i + 1 == ARRAY_SIZE(bases) ?
						      64 * TiB :
						      8 * GiB;

				CHECK_ST(mk_sb(&sb, ns, bases[i], 1024, shifts[a],
					       (enum mg)m), XP_OK);
				CHECK(xp_phys_aligned(sb.phys_base,
						      sb.data_offset,
						      sb.align_shift));
				if (m != MG_NONE)
					CHECK(xp_phys_aligned(sb.phys_base,
							      sb.mgmt_offset,
							      21));
				check_sb_roundtrip(&sb, false);
				check_sb_roundtrip(&sb, true);
			}

	/* Out of range or unaligned phys_base. */
	CHECK_ST(mk_sb(&sb, 64 * TiB, XP_PHYS_LIMIT - 64 * TiB + 4096, 1024,
		       21, MG_XEN), XP_E_INVAL);
	CHECK_ST(mk_sb(&sb, 8 * GiB, 2 * MiB, 16, 21, MG_XEN), XP_OK);
	CHECK_SB_FIELD(&sb, SBO(phys_base), 2 * MiB + 2048, 8, "phys_base");
	CHECK_SB_FIELD(&sb, SBO(phys_base), XP_PHYS_LIMIT, 8, "phys_base");
	CHECK_SB_FIELD(&sb, SBO(phys_base), UINT64_MAX & ~4095ull, 8,
		       "phys_base");
	CHECK_SB_FIELD(&sb, SBO(phys_base), XP_PHYS_LIMIT - sb.ns_size + 4096,
		       8, "phys_base");
	/* Another base whose layout differs is another layout. */
	CHECK_ST(sb_patched(&sb, SBO(phys_base), 2 * MiB + 4096, 8, &f),
		 XP_E_FIELD);

	/* A non-zero phys_base needs the PHYS_KNOWN compat flag. */
	sb.compat &= ~XP_SB_F_PHYS_KNOWN;
	{
		static uint8_t buf[XP_SB_BLOCK];

		xp_sb_encode(&sb, false, buf);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
		CHECK_STR(f, "phys_base");
	}
}

/* Smallest 4K multiple the solver accepts (feasibility is monotone). */
static uint64_t min_ns(uint64_t phys, uint32_t slots, uint32_t shift,
		       enum mg m)
{
	uint64_t lo = 1, hi = 1ull << 30; /* in pages */
	struct xp_sb sb;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (mk_sb(&sb, mid << 12, phys, slots, shift, m) == XP_OK)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo << 12;
}

static void test_sb_ns_size(void)
{
	static const uint32_t shifts[] = {21, 30};
	struct xp_sb sb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];

	for (size_t a = 0; a < 2; a++)
		for (int m = MG_NONE; m <= MG_XEN_NOCOMPAT; m++)
			for (uint32_t slots = 1; slots <= 65536; slots *= 16) {
				uint64_t mn = min_ns(0, slots, shifts[a], (enum mg)m);

				CHECK_ST(mk_sb(&sb, mn, 0, slots, shifts[a],
					       (enum mg)m), XP_OK);
				check_sb_roundtrip(&sb, false);
				CHECK_EQ_U64(sb.data_size, 1ull << shifts[a]);
				/* Every smaller size is too small. */
				for (uint64_t s = mn - 4096; s > 0 && s + 64 * 4096 > mn;
				     s -= 4096)
					CHECK_ST(mk_sb(&sb, s, 0, slots, shifts[a],
						       (enum mg)m),
						 XP_E_TOO_SMALL);
			}
	/* Realistic minima: 2M alignment, a few MiB of management area. */
	CHECK_EQ_U64(min_ns(0, 1024, 21, MG_XEN), 10 * MiB + 4096);
	CHECK_EQ_U64(min_ns(0, 1024, 30, MG_XEN), 2 * GiB + 4096);

	/* 64 TiB, every alignment and geometry */
	for (size_t a = 0; a < 2; a++)
		for (int m = MG_NONE; m <= MG_XEN_NOCOMPAT; m++) {
			CHECK_ST(mk_sb(&sb, 64 * TiB, 0, 65536, shifts[a],
				       (enum mg)m), XP_OK);
			check_sb_roundtrip(&sb, true);
			if (m != MG_NONE)
				CHECK_EQ_U64(sb.chunks.ft,
					     (sb.data_offset + sb.data_size - 1) /
							     (256 * MiB) -
						     sb.data_offset / (256 * MiB) + 1);
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
	xp_sb_encode(&sb, false, buf);
	put_le(buf + SBO(ns_size), sb.ns_size + 512, 8);
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size + 512, false, &f), XP_E_FIELD);
	CHECK_STR(f, "ns_size");
	/* ns_size too small for its own table (device agrees). */
	{
		struct xp_sb s2 = sb;

		s2.ns_size = 4 * MiB;
		xp_sb_encode(&s2, false, buf);
		CHECK_ST(sb_dec(buf, 4 * MiB, false, &f), XP_E_FIELD);
		CHECK_STR(f, "ns_size");
	}
}

static void test_sb_fields_rejected(void)
{
	struct xp_sb sb, nb;
	const char *f;
	static uint8_t buf[XP_SB_BLOCK];

	def_sb(&sb);

	CHECK_SB_FIELD(&sb, SBO(slot_count), 0, 4, "slot_count");
	CHECK_SB_FIELD(&sb, SBO(slot_count), 65537, 4, "slot_count");
	CHECK_SB_FIELD(&sb, SBO(slot_count), 0xffffffffu, 4, "slot_count");
	/* another valid slot count is another layout: the area moves */
	CHECK_ST(sb_patched(&sb, SBO(slot_count), 65536, 4, &f), XP_E_FIELD);
	for (uint32_t s = 0; s < 70; s++) {
		if (s == 21 || s == 30)
			continue;
		CHECK_SB_FIELD(&sb, SBO(align_shift), s, 4, "align_shift");
	}
	CHECK_SB_FIELD(&sb, SBO(align_shift), 0xffffffffu, 4, "align_shift");
	/* constant fields */
	CHECK_SB_FIELD(&sb, SBO(page_shift), 13, 4, "page_shift");
	CHECK_SB_FIELD(&sb, SBO(rec_size), 64, 4, "rec_size");
	CHECK_SB_FIELD(&sb, SBO(rec_size), 256, 4, "rec_size");
	CHECK_SB_FIELD(&sb, SBO(slot_size), 128, 4, "slot_size");
	CHECK_SB_FIELD(&sb, SBO(table_offset), 4096, 8, "table_offset");
	CHECK_SB_FIELD(&sb, SBO(table_offset), 8192 + (1ull << 32), 8,
		       "table_offset");
	CHECK_SB_FIELD(&sb, SBO(generation), 0, 8, "generation");
	{
		struct xp_sb s2 = sb;

		memset(s2.ns_uuid, 0, 16);
		xp_sb_encode(&s2, false, buf);
		CHECK_ST(sb_dec(buf, s2.ns_size, false, &f), XP_E_FIELD);
		CHECK_STR(f, "ns_uuid");
	}

	/* The geometry: exactly none, Xen, or Xen without compat M2P. */
	{
		static const size_t gf[] = {SBO(chunk_shift), SBO(ft_entry),
					    SBO(m2p_entry), SBO(compat_entry),
					    SBO(compat_limit_shift)};
		const uint32_t gv[] = {21, 32, 8, 4, 40};

		for (size_t i = 0; i < ARRAY_SIZE(gf); i++) {
			const uint32_t bad[] = {0, gv[i] - 1, gv[i] + 1,
						gv[i] * 2, 0xffffffffu};

			for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
				CHECK_SB_FIELD(&sb, gf[i], bad[k], 4,
					       "management geometry");
		}
		/* "none" with one field set */
		CHECK_ST(mk_sb(&nb, GiB, 0, 64, 21, MG_NONE), XP_OK);
		for (size_t i = 0; i < ARRAY_SIZE(gf); i++)
			CHECK_SB_FIELD(&nb, gf[i], gv[i], 4,
				       "management geometry");
		/* Xen without compat, given a compat limit */
		CHECK_ST(mk_sb(&nb, GiB, 0, 64, 21, MG_XEN_NOCOMPAT), XP_OK);
		CHECK_SB_FIELD(&nb, SBO(compat_limit_shift), 40, 4,
			       "management geometry");
		CHECK_SB_FIELD(&nb, SBO(compat_entry), 4, 4,
			       "management geometry");
	}
	/* A whole other (valid) geometry is another layout. */
	xp_sb_encode(&sb, false, buf);
	memset(buf + SBO(chunk_shift), 0, 20);
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "mgmt_offset");
	xp_sb_encode(&sb, false, buf);
	memset(buf + SBO(compat_entry), 0, 8);
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "compat_chunks");

	/* Each layout field and chunk count, one byte and one unit off. */
	{
		static const struct {
			size_t off;
			int width;
			const char *name;
		} lf[] = {{SBO(ft_chunks), 4, "ft_chunks"},
			  {SBO(m2p_chunks), 4, "m2p_chunks"},
			  {SBO(compat_chunks), 4, "compat_chunks"},
			  {SBO(mgmt_offset), 8, "mgmt_offset"},
			  {SBO(mgmt_size), 8, "mgmt_size"},
			  {SBO(data_offset), 8, "data_offset"},
			  {SBO(data_size), 8, "data_size"}};
		const uint64_t val[] = {sb.chunks.ft, sb.chunks.m2p,
					sb.chunks.compat, sb.mgmt_offset,
					sb.mgmt_size, sb.data_offset,
					sb.data_size};
		const uint64_t deltas[] = {1, 4096, 2 * MiB, 1ull << 31,
					   1ull << 63};

		for (size_t i = 0; i < ARRAY_SIZE(lf); i++)
			for (size_t k = 0; k < ARRAY_SIZE(deltas); k++) {
				/* a 32-bit field cannot be off by 2^63 */
				if (lf[i].width == 4 && !(uint32_t)deltas[k])
					continue;
				CHECK_SB_FIELD(&sb, lf[i].off, val[i] + deltas[k],
					       lf[i].width, lf[i].name);
				CHECK_SB_FIELD(&sb, lf[i].off, val[i] - deltas[k],
					       lf[i].width, lf[i].name);
			}
	}
}

/* Feature words, versions, and who may write (format 2.0 rules). */
static void test_sb_features(void)
{
	struct xp_sb sb, out;
	const char *f, *why;
	static uint8_t buf[XP_SB_BLOCK];

	def_sb(&sb);
	CHECK(xp_sb_writable(&sb, &why));
	CHECK(why == NULL);

	/* ro_compat: every unknown bit is read, and refused for writing. */
	CHECK_EQ_U64(XP_SB_RO_COMPAT_KNOWN, 0);
	for (int b = 0; b < 32; b++) {
		xp_sb_encode(&sb, false, buf);
		put_le(buf + SBO(ro_compat), 1ull << b, 4);
		sb_fix(buf);
		CHECK_ST(xp_sb_decode(buf, XP_SB_BLOCK, sb.ns_size, false, &out,
				      &f), XP_OK);
		CHECK_EQ_U64(out.ro_compat, 1ull << b);
		why = NULL;
		CHECK(!xp_sb_writable(&out, &why));
		CHECK_STR(why, "unknown read-only-compatible feature");
	}
	/* minor: a newer one is read, and refused for writing. */
	for (uint32_t minor = 1; minor <= 0xffff; minor = minor * 3 + 1) {
		xp_sb_encode(&sb, false, buf);
		put_le(buf + SBO(minor), minor, 2);
		sb_fix(buf);
		CHECK_ST(xp_sb_decode(buf, XP_SB_BLOCK, sb.ns_size, false, &out,
				      &f), XP_OK);
		CHECK_EQ_U64(out.minor, minor);
		why = NULL;
		CHECK(!xp_sb_writable(&out, &why));
		CHECK_STR(why, "written by a newer minor version");
	}
	{
		struct xp_sb w = sb;

		w.minor = 0xffff;
		CHECK(!xp_sb_writable(&w, &why) && why);
		w.minor = XP_FMT_MINOR;
		w.ro_compat = 0x80000000u;
		CHECK(!xp_sb_writable(&w, &why) && why);
		w.ro_compat = 0;
		w.compat = 0xfffffffcu;		/* unknown compat: harmless */
		CHECK(xp_sb_writable(&w, &why) && !why);
	}
	/* incompat: every bit refused by everyone */
	CHECK_EQ_U64(XP_SB_INCOMPAT_KNOWN, 0);
	for (int b = 0; b < 32; b++) {
		CHECK_ST(sb_patched(&sb, SBO(incompat), 1ull << b, 4, &f),
			 XP_E_VERSION);
		CHECK_STR(f, "incompat");
	}
	/* major: only 2 (1.x superblocks carry the same signature) */
	{
		static const uint32_t majors[] = {0, 1, 3, 0x100, 0xffff};

		for (size_t i = 0; i < ARRAY_SIZE(majors); i++) {
			CHECK_ST(sb_patched(&sb, SBO(major), majors[i], 2, &f),
				 XP_E_VERSION);
			CHECK_STR(f, "major");
		}
	}
	/* every unknown compat bit is ignored by readers and writers */
	for (int b = 0; b < 32; b++) {
		if ((1u << b) & XP_SB_COMPAT_KNOWN)
			continue;
		xp_sb_encode(&sb, false, buf);
		put_le(buf + SBO(compat), 1ull << b, 4);
		sb_fix(buf);
		CHECK_ST(xp_sb_decode(buf, XP_SB_BLOCK, sb.ns_size, false, &out,
				      &f), XP_OK);
		CHECK(xp_sb_writable(&out, &why));
	}

	/* reserved bytes: zero up to this minor, a newer one may use them */
	{
		size_t offs[400], n = 0;

		for (size_t i = 0; i < 4; i++)
			offs[n++] = SBO(reserved0) + i;
		for (size_t i = 0; i < 4; i++)
			offs[n++] = SBO(reserved1) + i;
		for (size_t i = 0; i < 320; i++)
			offs[n++] = SBO(reserved) + i;
		CHECK_EQ_U64(SBO(reserved0), 36);
		CHECK_EQ_U64(SBO(reserved1), 148);
		CHECK_EQ_U64(SBO(reserved), 184);
		for (size_t i = 0; i < n; i++)
			for (int v = 0; v < 2; v++) {
				xp_sb_encode(&sb, false, buf);
				buf[offs[i]] = v ? 0x80 : 0x01;
				sb_fix(buf);
				CHECK_ST(sb_dec(buf, sb.ns_size, false, &f),
					 XP_E_FIELD);
				CHECK_STR(f, "reserved");
				put_le(buf + SBO(minor), XP_FMT_MINOR + 1, 2);
				sb_fix(buf);
				CHECK_ST(xp_sb_decode(buf, XP_SB_BLOCK,
						      sb.ns_size, false, &out,
						      &f), XP_OK);
				CHECK(!xp_sb_writable(&out, &why));
			}
	}

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
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		xp_sb_encode(&sb, false, buf);
		put_le(buf + SBO(header_size), bad[i], 4);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_CHECKSUM);
		CHECK_STR(f, "header_size");
	}
	/* Larger headers (future minors) are covered by the sum. */
	for (uint32_t h = 516; h <= 4096; h += 4 * 97) {
		xp_sb_encode(&sb, false, buf);
		put_le(buf + SBO(header_size), h, 4);
		sb_fix(buf);
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
		buf[h - 1] ^= 1; /* inside the sum now */
		CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_CHECKSUM);
	}
	xp_sb_encode(&sb, false, buf);
	put_le(buf + SBO(header_size), 4096, 4);
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

	CHECK_ST(mk_sb(&sb, 3 * GiB + 4096 * 5, 2 * MiB + 4096, 4096, 21,
		       MG_XEN), XP_OK);
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
		if (sb_dec(buf, sb.ns_size, false, &f) == XP_E_FIELD &&
		    f && !strcmp(f, "block tail"))
			n++;
	}
	CHECK_EQ_U64(n, XP_SB_BLOCK - XP_SB_SIZE);
	/* A longer header moves the tail's start. */
	xp_sb_encode(&sb, false, buf);
	put_le(buf + SBO(header_size), 1024, 4);
	buf[1023] = 0x33;
	put_le(buf + SBO(minor), 1, 2);	/* bytes past 512 belong to 2.1+ */
	sb_fix(buf);
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_OK);
	buf[1024] = 0x33;
	CHECK_ST(sb_dec(buf, sb.ns_size, false, &f), XP_E_FIELD);
	CHECK_STR(f, "block tail");
}

static void test_sb_relocate(void)
{
	struct xp_sb sb, g7, out;
	static uint8_t buf[XP_SB_BLOCK], orig[XP_SB_BLOCK], enc[XP_SB_BLOCK];
	const char *f;

	CHECK_ST(mk_sb(&sb, 4 * GiB, 2 * MiB + 4096, 512, 21, MG_XEN), XP_OK);
	g7 = sb;
	g7.generation = 7;
	/* primary -> backup, with a new generation: what encode writes */
	xp_sb_encode(&sb, false, orig);
	memcpy(buf, orig, sizeof(buf));
	CHECK_ST(xp_sb_relocate(buf, true, 7), XP_OK);
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, true, &out, &f),
		 XP_OK);
	CHECK_EQ_U64(out.generation, 7);
	CHECK(out.compat == (sb.compat | XP_SB_F_BACKUP));
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, false, &out, &f),
		 XP_E_FIELD);
	xp_sb_encode(&g7, true, enc);
	CHECK(!memcmp(enc, buf, sizeof(buf)));
	/* and back */
	CHECK_ST(xp_sb_relocate(buf, false, 7), XP_OK);
	xp_sb_encode(&g7, false, enc);
	CHECK(!memcmp(enc, buf, sizeof(buf)));
	/* same location, new generation only */
	CHECK_ST(xp_sb_relocate(buf, false, 9), XP_OK);
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, false, &out, &f),
		 XP_OK);
	CHECK_EQ_U64(out.generation, 9);
	CHECK_ST(xp_sb_relocate(buf, true, UINT64_MAX), XP_OK);
	CHECK_ST(xp_sb_decode(buf, sizeof(buf), sb.ns_size, true, &out, &f),
		 XP_OK);
	CHECK_EQ_U64(out.generation, UINT64_MAX);
	/* generation 0 does not exist: refused, block untouched */
	memcpy(enc, buf, sizeof(buf));
	CHECK_ST(xp_sb_relocate(buf, false, 0), XP_E_INVAL);
	CHECK(!memcmp(enc, buf, sizeof(buf)));

	/* A newer minor's fields survive, byte for byte. */
	xp_sb_encode(&sb, false, orig);
	put_le(orig + SBO(minor), 3, 2);
	put_le(orig + SBO(header_size), 768, 4);
	orig[300] = 0xab;			/* reserved in 2.0 */
	orig[700] = 0xcd;			/* beyond 512, inside the sum */
	orig[SBO(compat)] |= 0x80;		/* unknown compat bit */
	orig[SBO(ro_compat)] |= 0x04;		/* unknown ro_compat bit */
	sb_fix(orig);
	CHECK_ST(sb_dec(orig, sb.ns_size, false, &f), XP_OK);
	memcpy(buf, orig, sizeof(buf));
	CHECK_ST(xp_sb_relocate(buf, true, 12), XP_OK);
	CHECK_ST(sb_dec(buf, sb.ns_size, true, &f), XP_OK);
	for (size_t i = 0; i < XP_SB_BLOCK; i++) {
		bool may = i == SBO(compat) ||
			   (i >= SBO(generation) && i < SBO(generation) + 8) ||
			   (i >= SBO(checksum) && i < SBO(checksum) + 8);

		if (!may && buf[i] != orig[i]) {
			CHECK_MSG(0, "byte %zu changed", i);
			break;
		}
	}
	CHECK(buf[SBO(compat)] == (orig[SBO(compat)] | XP_SB_F_BACKUP));
	CHECK_EQ_U64(get_le(buf + SBO(generation), 8), 12);
	CHECK(buf[700] == 0xcd && buf[300] == 0xab && buf[SBO(minor)] == 3);

	/* Invalid header sizes are refused, the block left alone. */
	{
		static const uint32_t bad[] = {0, 511, 514, 4100};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			xp_sb_encode(&sb, false, buf);
			put_le(buf + SBO(header_size), bad[i], 4);
			memcpy(orig, buf, sizeof(buf));
			CHECK_ST(xp_sb_relocate(buf, true, 2), XP_E_INVAL);
			CHECK(!memcmp(buf, orig, sizeof(buf)));
		}
	}
}

/*
 * Two copies "say the same thing" when they differ only in generation, the
 * backup bit and the checksum: any other byte of the block counts.
 */
static void test_sb_same_but_generation(void)
{
	struct xp_sb sb, s2;
	static uint8_t a[XP_SB_BLOCK], b[XP_SB_BLOCK];
	static const uint8_t vals[] = {0x01, 0x02, 0x80, 0xff};
	unsigned long n_true = 0;

	CHECK_ST(mk_sb(&sb, 4 * GiB, 2 * MiB + 4096, 512, 21, MG_XEN), XP_OK);
	xp_sb_encode(&sb, false, a);
	CHECK(xp_sb_same_but_generation(a, a));
	memcpy(b, a, sizeof(b));
	CHECK_ST(xp_sb_relocate(b, true, 99), XP_OK);
	CHECK(xp_sb_same_but_generation(a, b));
	CHECK(xp_sb_same_but_generation(b, a));
	CHECK_ST(xp_sb_relocate(b, false, 5), XP_OK);
	CHECK(xp_sb_same_but_generation(a, b));

	for (size_t i = 0; i < XP_SB_BLOCK; i++)
		for (size_t v = 0; v < ARRAY_SIZE(vals); v++) {
			bool want = (i >= SBO(generation) &&
				     i < SBO(generation) + 8) ||
				    (i >= SBO(checksum) &&
				     i < SBO(checksum) + 8) ||
				    (i == SBO(compat) &&
				     vals[v] == XP_SB_F_BACKUP);

			memcpy(b, a, sizeof(b));
			b[i] ^= vals[v];
			n_true += want;
			CHECK_MSG(xp_sb_same_but_generation(a, b) == want &&
					  xp_sb_same_but_generation(b, a) == want,
				  "byte %zu ^ %#x: want %d", i, vals[v], want);
		}
	CHECK_EQ_U64(n_true, 16 * ARRAY_SIZE(vals) + 1);

	/* several allowed differences at once; then one more byte */
	for (int iter = 0; iter < 2000; iter++) {
		size_t out = (size_t)xt_range(0, XP_SB_BLOCK - 1);

		memcpy(b, a, sizeof(b));
		for (int k = 0; k < 8; k++) {
			b[SBO(generation) + xt_range(0, 7)] = (uint8_t)xt_rand();
			b[SBO(checksum) + xt_range(0, 7)] = (uint8_t)xt_rand();
		}
		b[SBO(compat)] ^= (uint8_t)(xt_rand() & XP_SB_F_BACKUP);
		CHECK(xp_sb_same_but_generation(a, b));
		if ((out >= SBO(generation) && out < SBO(generation) + 8) ||
		    (out >= SBO(checksum) && out < SBO(checksum) + 8) ||
		    out == SBO(compat))
			continue;
		b[out] ^= (uint8_t)xt_range(1, 255);
		CHECK_MSG(!xp_sb_same_but_generation(a, b), "byte %zu", out);
	}
	/* two different namespaces' superblocks */
	s2 = sb;
	s2.init_time++;
	xp_sb_encode(&s2, false, b);
	CHECK(!xp_sb_same_but_generation(a, b));
	s2 = sb;
	s2.ns_uuid[15] ^= 1;
	xp_sb_encode(&s2, true, b);
	CHECK(!xp_sb_same_but_generation(a, b));
}

/* ---- records ------------------------------------------------------------ */

/* Payload byte i sits in word i / 7 at byte i % 7; byte 7 is the tag. */
static void test_rec_gather_scatter(void)
{
	uint8_t pl[XP_REC_PAYLOAD], back[XP_REC_PAYLOAD];
	uint8_t copy[XP_REC_SIZE], c2[XP_REC_SIZE];

	CHECK_EQ_U64(XP_REC_PAYLOAD, 112);
	CHECK_EQ_U64(XP_REC_WORDS * 8, XP_REC_SIZE);
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t tag = (uint8_t)xt_rand();

		for (size_t i = 0; i < sizeof(pl); i++)
			pl[i] = (uint8_t)xt_rand();
		for (size_t i = 0; i < sizeof(copy); i++)
			copy[i] = (uint8_t)xt_rand();
		xp_rec_scatter(pl, tag, copy);
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			CHECK(copy[k * 8 + 7] == tag);
		for (size_t i = 0; i < sizeof(pl); i++)
			if (copy[(i / 7) * 8 + i % 7] != pl[i]) {
				CHECK_MSG(0, "payload byte %zu misplaced", i);
				break;
			}
		memset(back, 0xee, sizeof(back));
		xp_rec_gather(copy, back);
		CHECK(!memcmp(back, pl, sizeof(pl)));

		/* gather ignores the tags: any mix gathers the same */
		for (size_t i = 0; i < sizeof(copy); i++)
			copy[i] = (uint8_t)xt_rand();
		xp_rec_gather(copy, pl);
		xp_rec_scatter(pl, copy[7], c2);
		for (size_t i = 0; i < sizeof(copy); i++)
			if (c2[i] != (i % 8 == 7 ? copy[7] : copy[i])) {
				CHECK_MSG(0, "byte %zu differs", i);
				break;
			}
	}
}

/* Encode writes the documented payload, tags tag(seq), and the checksum
 * over ns_uuid || slot (le64) || payload, tags excluded. */
static void test_rec_encoding(void)
{
	static const uint64_t seqs[] = {1, 2, 127, 128, 255, 256, 257,
					0x1234567890abcdefull, UINT64_MAX};
	struct xp_sb sb;
	struct xp_rec r, fr, o;
	uint8_t buf[XP_REC_SIZE], pl[XP_REC_PAYLOAD], ref[136];
	const char *f;

	def_sb(&sb);
	for (size_t i = 0; i < ARRAY_SIZE(seqs); i++) {
		uint32_t slot = (uint32_t)(i * 7919) % 64;

		r = mk_rec(&sb, seqs[i], sb.data_offset + 4 * MiB, 8 * MiB,
			   "guest-1.disk");
		r.type = i % 2 ? XP_REC_DATA : XP_REC_LENT_RAM;
		if (r.type == XP_REC_DATA)
			memcpy(r.owner, OWNER, 16);
		r.label_size = 128 * 1024;
		xp_rec_encode(&sb, slot, &r, buf);
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			CHECK(buf[k * 8 + 7] == (uint8_t)seqs[i]);
		xp_rec_gather(buf, pl);
		CHECK_EQ_U64(get_le(pl + 0, 8), seqs[i]);
		CHECK(!memcmp(pl + 8, "XPEX", 4));
		CHECK_EQ_U64(get_le(pl + 8, 4), XP_REC_MAGIC);
		CHECK(pl[12] == r.type);
		CHECK(pl[13] == 21);
		CHECK_EQ_U64(get_le(pl + 14, 2), 0);
		CHECK_EQ_U64(get_le(pl + 16, 8), r.offset);
		CHECK_EQ_U64(get_le(pl + 24, 8), 8 * MiB);
		CHECK_EQ_U64(get_le(pl + 32, 8), 128 * 1024);
		CHECK(!memcmp(pl + 40, r.uuid, 16));
		CHECK(!memcmp(pl + 56, r.owner, 16));
		CHECK(!memcmp(pl + 72, "guest-1.disk", 13));
		for (size_t k = 72 + 13; k < 104; k++)
			CHECK(pl[k] == 0);
		/* the checksum, from its definition */
		memcpy(ref, NSU, 16);
		put_le(ref + 16, slot, 8);
		memcpy(ref + 24, pl, 104);
		memset(ref + 128, 0, 8);
		CHECK_EQ_U64(get_le(pl + 104, 8), ref_fletcher64(ref, sizeof(ref)));
		CHECK_EQ_U64(xp_rec_checksum(NSU, slot, pl),
			     ref_fletcher64(ref, sizeof(ref)));
		CHECK_ST(xp_rec_decode(&sb, slot, buf, &o, &f), XP_OK);
		CHECK(rec_equal(&o, &r));
	}
	/* A free record: seq, magic and checksum, nothing else. */
	fr = mk_free(300);
	xp_rec_encode(&sb, 3, &fr, buf);
	xp_rec_gather(buf, pl);
	CHECK_EQ_U64(get_le(pl, 8), 300);
	CHECK_EQ_U64(get_le(pl + 8, 4), XP_REC_MAGIC);
	for (size_t k = 12; k < 104; k++)
		CHECK(pl[k] == 0);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		CHECK(buf[k * 8 + 7] == 300 % 256);
	/* xp_slot_init: that free record, seq 1, in copy 0; copy 1 blank */
	{
		uint8_t s[XP_SLOT_SIZE];

		memset(s, 0xee, sizeof(s));
		xp_slot_init(&sb, 3, s);
		fr = mk_free(1);
		xp_rec_encode(&sb, 3, &fr, buf);
		CHECK(!memcmp(s, buf, XP_REC_SIZE));
		for (size_t k = XP_REC_SIZE; k < XP_SLOT_SIZE; k++)
			CHECK(s[k] == 0);
	}
}

/*
 * The encoder builds a copy in 64-bit words; here the same copy is built
 * byte by byte from docs/format.md (payload, checksum over ns_uuid ||
 * slot || payload || 8 zero bytes, bytes 0..6 of each word, tag in byte
 * 7), for random records: every field value, names of every length with
 * bytes after their NUL (which the copy must not carry), 31 bytes with no
 * NUL, free records with junk in their unused fields.
 */
static void ref_encode(const struct xp_sb *sb, uint32_t slot,
		       const struct xp_rec *r, uint8_t *copy)
{
	uint8_t pl[XP_REC_PAYLOAD], ref[136];

	memset(pl, 0, sizeof(pl));
	put_le(pl + 0, r->seq, 8);
	put_le(pl + 8, XP_REC_MAGIC, 4);
	if (r->type != XP_REC_FREE) {
		pl[12] = r->type;
		pl[13] = r->align_shift;
		put_le(pl + 14, r->flags, 2);
		put_le(pl + 16, r->offset, 8);
		put_le(pl + 24, r->size, 8);
		put_le(pl + 32, r->label_size, 8);
		memcpy(pl + 40, r->uuid, 16);
		memcpy(pl + 56, r->owner, 16);
		for (size_t i = 0; i < XP_NAME_MAX && r->name[i]; i++)
			pl[72 + i] = (uint8_t)r->name[i];
	}
	memcpy(ref, sb->ns_uuid, 16);
	put_le(ref + 16, slot, 8);
	memcpy(ref + 24, pl, 104);
	memset(ref + 128, 0, 8);
	put_le(pl + 104, ref_fletcher64(ref, sizeof(ref)), 8);
	for (size_t i = 0; i < XP_REC_PAYLOAD; i++)
		copy[(i / 7) * 8 + i % 7] = pl[i];
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		copy[k * 8 + 7] = (uint8_t)r->seq;
}

static void test_rec_encode_words(void)
{
	struct xp_sb sb;
	uint8_t got[XP_REC_SIZE], want[XP_REC_SIZE];

	def_sb(&sb);
	for (int iter = 0; iter < 20000; iter++) {
		struct xp_rec r;
		uint32_t slot = (uint32_t)xt_rand() % XP_MAX_SLOTS;
		size_t len = (size_t)xt_rand() % 33;

		for (size_t i = 0; i < sizeof(r); i++)
			((uint8_t *)&r)[i] = (uint8_t)xt_rand();
		r.seq = (uint64_t)xt_rand() << 32 ^ (uint64_t)xt_rand();
		r.type = (uint8_t)(xt_rand() % 4);
		/* A name of @len non-NUL bytes (32: no NUL anywhere), then
		 * whatever random bytes were there. */
		for (size_t i = 0; i < len && i < sizeof(r.name); i++)
			r.name[i] = (char)(1 + xt_rand() % 255);
		if (len < sizeof(r.name))
			r.name[len] = 0;
		for (size_t i = 0; i < sizeof(sb.ns_uuid); i++)
			sb.ns_uuid[i] = (uint8_t)xt_rand();
		memset(got, 0xee, sizeof(got));
		xp_rec_encode(&sb, slot, &r, got);
		ref_encode(&sb, slot, &r, want);
		if (memcmp(got, want, sizeof(got))) {
			for (size_t i = 0; i < sizeof(got); i++)
				if (got[i] != want[i]) {
					CHECK_MSG(0, "iteration %d: byte %zu is %#x, want %#x (name length %zu, type %u)",
						  iter, i, got[i], want[i], len,
						  r.type);
					break;
				}
			break;
		}
	}
}

static void test_rec_roundtrip_bounds(void)
{
	struct xp_sb sb, bg;
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
	r = mk_rec(&sb, 1, sb.mgmt_offset, a, "in-mgmt");
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

	/* extent alignment: 2M or 1G only; 4K is gone */
	for (uint32_t s = 0; s < 256; s++) {
		if (s == 21 || s == 30)
			continue;
		r = mk_rec(&sb, 1, sb.data_offset, a, "badshift");
		r.align_shift = (uint8_t)s;
		CHECK_REC_FIELD(&sb, &r, "align_shift");
	}
	r = mk_rec(&sb, 1, sb.data_offset, GiB, "gig");
	r.align_shift = 30;
	/* the data area of a 1 GiB namespace holds no 1G aligned offset */
	CHECK_REC_FIELD(&sb, &r, "offset");
	/* in a 1G data area: 1G and 2M extents */
	big_sb(&bg);
	r = mk_rec(&bg, 1, GiB, GiB, "g");
	CHECK_REC_OK(&bg, &r);
	r = mk_rec(&bg, 1, 3 * GiB, GiB, "g-last");
	CHECK_REC_OK(&bg, &r);
	r = mk_rec(&bg, 1, 2 * GiB + 2 * MiB, GiB, "g-off");
	CHECK_REC_FIELD(&bg, &r, "offset");
	r = mk_rec(&bg, 1, 2 * GiB, GiB + 2 * MiB, "g-size");
	CHECK_REC_FIELD(&bg, &r, "size");
	r = mk_rec(&bg, 1, 2 * GiB + 2 * MiB, 4 * MiB, "m");
	r.align_shift = 21;
	CHECK_REC_OK(&bg, &r);

	/* seq */
	r = mk_rec(&sb, 0, sb.data_offset, a, "seq0");
	CHECK_REC_FIELD(&sb, &r, "seq");
	{
		struct xp_rec fr = mk_free(0);

		CHECK_REC_FIELD(&sb, &fr, "seq");
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

	/* A free record decodes as free and carries only its sequence. */
	{
		struct xp_rec fr = mk_free(7);

		CHECK_ST(rec_rt(&sb, 0, &fr, &o, &f), XP_OK);
		CHECK(!xp_rec_used(&o) && o.seq == 7 && o.type == XP_REC_FREE);
	}
}

static void test_rec_type_flags_owner(void)
{
	struct xp_sb sb;
	struct xp_rec r, o;
	uint8_t buf[XP_REC_SIZE];
	const char *f;

	def_sb(&sb);
	CHECK_EQ_U64(XP_REC_FREE, 0);
	CHECK_EQ_U64(XP_REC_DATA, 1);
	CHECK_EQ_U64(XP_REC_LENT_RAM, 2);

	/* types: data and lent-ram are used, anything else is damage */
	r = mk_rec(&sb, 5, sb.data_offset, 2 * MiB, "t");
	CHECK_REC_OK(&sb, &r);
	CHECK(xp_rec_used(&r));
	r.type = XP_REC_LENT_RAM;
	CHECK_REC_OK(&sb, &r);
	CHECK(xp_rec_used(&r));
	for (int t = 3; t < 256; t++) {
		r.type = (uint8_t)t;
		CHECK_REC_FIELD(&sb, &r, "type");
	}

	/* flags: every bit, used and free, is damage */
	for (int b = 0; b < 16; b++) {
		struct xp_rec fr = mk_free(3);

		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "flags");
		r.flags = (uint16_t)(1u << b);
		CHECK_REC_FIELD(&sb, &r, "flags");
		xp_rec_encode(&sb, 0, &fr, buf);
		rec_patch(&sb, 0, buf, PLO(flags), 1u << b, 2, true);
		CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);
		CHECK_STR(f, "flags");
		CHECK_EQ_U64(o.seq, 3);	/* the checksum held: seq is known */
	}

	/* owners: any UUID for data; lent-ram extents have none */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "own");
	memcpy(r.owner, OWNER, 16);
	CHECK_REC_OK(&sb, &r);
	memset(r.owner, 0xff, 16);
	CHECK_REC_OK(&sb, &r);
	r.type = XP_REC_LENT_RAM;
	memset(r.owner, 0, 16);
	CHECK_REC_OK(&sb, &r);
	for (int i = 0; i < 16; i++) {
		memset(r.owner, 0, 16);
		r.owner[i] = (uint8_t)(1u << (i % 8));
		CHECK_REC_FIELD(&sb, &r, "owner");
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
	memcpy(fr.owner, OWNER, 16);
	strcpy(fr.name, "ghost");
	fr.uuid[0] = 1;
	fr.label_size = 4096;
	fr.align_shift = 21;
	fr.flags = 4;
	CHECK_ST(rec_rt(&sb, 0, &fr, &o, &f), XP_OK);
	CHECK(o.offset == 0 && o.size == 0 && o.name[0] == 0 &&
	      xp_uuid_is_nil(o.owner) && xp_uuid_is_nil(o.uuid) &&
	      o.flags == 0 && o.align_shift == 0 && o.label_size == 0);

	/* anything in it, with a good checksum, is damage */
	for (size_t i = PLO(align_shift); i < PLO(checksum); i++) {
		for (int v = 0; v < 2; v++) {
			xp_rec_encode(&sb, 5, &fr, buf);
			rec_patch(&sb, 5, buf, i, v ? 0x80 : 0x01, 1, true);
			CHECK_ST(xp_rec_decode(&sb, 5, buf, &o, &f), XP_E_FIELD);
			CHECK_STR(f, i == 14 || i == 15 ? "flags" :
							  "free record payload");
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
	CHECK_EQ_U64(XP_NAME_MAX, 31);

	/* Lengths 1 and 31 are fine; 32 cannot be NUL-terminated. */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "x");
	CHECK_REC_OK(&sb, &r);
	memset(name, 'n', 31);
	name[31] = 0;
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
	CHECK_REC_OK(&sb, &r);
	CHECK_ST(rec_rt(&sb, 0, &r, &o, &f), XP_OK);
	CHECK(strlen(o.name) == 31);
	xp_rec_encode(&sb, 0, &r, buf);
	rec_patch(&sb, 0, buf, PLO(name) + 31, 'n', 1, true); /* 32 chars */
	CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);
	CHECK_STR(f, "name");
	/* encode cuts a longer name at 31 */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "x");
	memset(r.name, 'm', sizeof(r.name));
	xp_rec_encode(&sb, 0, &r, buf);
	CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_OK);
	CHECK(strlen(o.name) == 31);
	/* Empty name */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "");
	CHECK_REC_FIELD(&sb, &r, "name");
	/* Garbage after the NUL */
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "ab");
	for (size_t i = 3; i < 32; i++) {
		xp_rec_encode(&sb, 0, &r, buf);
		rec_patch(&sb, 0, buf, PLO(name) + i, 'z', 1, true);
		CHECK_ST(xp_rec_decode(&sb, 0, buf, &o, &f), XP_E_FIELD);
		CHECK_STR(f, "name");
	}

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
		CHECK(xp_name_valid(name, 32) == (ok && c != '-' && c != '.'));

		snprintf(name, sizeof(name), "a%cb", c);
		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
		if (ok)
			CHECK_REC_OK(&sb, &r);
		else
			CHECK_REC_FIELD(&sb, &r, "name");
		CHECK(xp_name_valid(name, 32) == ok);

		memset(name, 'q', 30);
		name[30] = (char)c;
		name[31] = 0;
		r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, name);
		if (ok)
			CHECK_REC_OK(&sb, &r);
		else
			CHECK_REC_FIELD(&sb, &r, "name");
	}
	CHECK(nallowed == 26 + 26 + 10 + 5);

	/* xp_name_valid's own bounds */
	CHECK(!xp_name_valid(NULL, 32));
	CHECK(!xp_name_valid("", 32));
	CHECK(!xp_name_valid("abc", 3));	/* no NUL within maxlen */
	CHECK(xp_name_valid("abc", 4));
	CHECK(!xp_name_valid("-abc", 32));
	CHECK(xp_name_valid("a-bc", 32));
	CHECK(xp_name_valid("A.b_c+d:e-f0", 32));
	/* dots alone name no device node */
	CHECK(!xp_name_valid(".", 32));
	CHECK(!xp_name_valid("..", 32));
	CHECK(!xp_name_valid("...", 32));
	CHECK(xp_name_valid(".a", 32));
	CHECK(xp_name_valid("a.", 32));
	memset(name, 'n', 60);
	name[32] = 0;
	CHECK(!xp_name_valid(name, 60));	/* 32 > XP_NAME_MAX */
	name[31] = 0;
	CHECK(xp_name_valid(name, 60));
	CHECK(!xp_name_valid(name, 31));
}

/*
 * Any single-byte change of a valid copy: in a tag byte it stays valid (the
 * tags are outside the checksum); in a payload byte it is damage
 * (XP_E_CHECKSUM: the tags still agree), never XP_E_TORN.
 */
static void test_rec_single_byte(void)
{
	struct xp_sb sb;
	struct xp_rec rs[8], o;
	uint8_t buf[XP_REC_SIZE], orig[XP_REC_SIZE];
	const char *f;
	char nm[32];
	unsigned long n_tag = 0, n_sum = 0;

	def_sb(&sb);
	memset(nm, 'k', 31);
	nm[31] = 0;
	rs[0] = mk_rec(&sb, 42, sb.data_offset + 4 * MiB, 8 * MiB, nm);
	memcpy(rs[0].owner, OWNER, 16);
	rs[0].label_size = 128 * 1024;
	rs[1] = mk_rec(&sb, 256, sb.data_offset, 2 * MiB, "tag-zero");
	rs[1].type = XP_REC_LENT_RAM;
	rs[2] = mk_free(1);
	rs[3] = mk_free(255);
	rs[4] = mk_rec(&sb, 0x80, sb.data_offset, sb.data_size, "w");
	rs[5] = mk_rec(&sb, UINT64_MAX, sb.data_offset, 2 * MiB, "max");
	rs[6] = mk_rec(&sb, 0x1ff, sb.data_offset + 2 * MiB, 2 * MiB, "b");
	memset(rs[6].owner, 0xff, 16);
	memset(rs[6].uuid, 0xff, 16);
	rs[7] = mk_free(0x7f00);

	for (size_t i = 0; i < ARRAY_SIZE(rs); i++) {
		uint32_t slot = (uint32_t)(i * 5 + 1);

		xp_rec_encode(&sb, slot, &rs[i], orig);
		CHECK_ST(xp_rec_decode(&sb, slot, orig, &o, &f), XP_OK);
		for (size_t pos = 0; pos < XP_REC_SIZE; pos++)
			for (int v = 0; v < 256; v++) {
				enum xp_fmt_status st;

				if (v == orig[pos])
					continue;
				memcpy(buf, orig, sizeof(buf));
				buf[pos] = (uint8_t)v;
				memset(&o, 0x5a, sizeof(o));
				st = xp_rec_decode(&sb, slot, buf, &o, &f);
				if (pos % 8 == 7) {
					n_tag++;
					CHECK_MSG(st == XP_OK && rec_equal(&o, &rs[i]),
						  "rec %zu tag byte %zu = %#x: %s",
						  i, pos, v, xp_fmt_strstatus(st));
				} else {
					n_sum++;
					CHECK_MSG(st == XP_E_CHECKSUM && o.seq == 0 &&
							  f == NULL,
						  "rec %zu byte %zu = %#x: %s", i,
						  pos, v, xp_fmt_strstatus(st));
				}
			}
	}
	printf("     %lu tag-byte and %lu payload-byte changes\n", n_tag, n_sum);
}

/* Mixed tags and a bad checksum: torn; uniform tags: damaged. */
static void test_rec_torn_vs_damaged(void)
{
	struct xp_sb sb;
	struct xp_rec r = mk_free(1), o;
	uint8_t buf[XP_REC_SIZE], orig[XP_REC_SIZE];
	const char *f;

	def_sb(&sb);
	r = mk_rec(&sb, 77, sb.data_offset, 2 * MiB, "tv");
	xp_rec_encode(&sb, 1, &r, orig);
	for (int iter = 0; iter < 5000; iter++) {
		uint32_t w = (uint32_t)xt_range(0, XP_REC_WORDS - 1);
		uint32_t p = (uint32_t)xt_range(0, 6);

		memcpy(buf, orig, sizeof(buf));
		/* damage a payload byte; then maybe break the tag agreement */
		buf[w * 8 + p] ^= (uint8_t)xt_range(1, 255);
		CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_CHECKSUM);
		w = (uint32_t)xt_range(0, XP_REC_WORDS - 1);
		buf[w * 8 + 7] ^= (uint8_t)xt_range(1, 255);
		CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_TORN);
		CHECK(f == NULL);
		CHECK_EQ_U64(o.seq, 0);
	}
	/* all 0xff: uniform tags, bad checksum */
	memset(buf, 0xff, sizeof(buf));
	CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_CHECKSUM);
	/* one word written over a blank copy: torn */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 40, orig + 40, 8);
	CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_TORN);
	/* blank */
	memset(buf, 0, sizeof(buf));
	CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_BLANK);
	/* a valid checksum over mixed tags is still valid */
	memcpy(buf, orig, sizeof(buf));
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		buf[k * 8 + 7] = (uint8_t)k;
	CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_OK);
	CHECK(rec_equal(&o, &r));
	/* checksum fine, magic wrong: a foreign structure */
	memcpy(buf, orig, sizeof(buf));
	rec_patch(&sb, 1, buf, PLO(magic), 0x58455059u, 4, true);
	CHECK_ST(xp_rec_decode(&sb, 1, buf, &o, &f), XP_E_SIGNATURE);
	CHECK_STR(f, "magic");
	CHECK_EQ_U64(o.seq, 77);
}

/*
 * Every mix of the 8-byte words of the copy an update overwrites and the
 * copy it writes (seq as xp_slot_next_copy() picks it) is torn, or one of
 * the two copies whole: never "damaged", which would block the slot.
 */
static void mix_check(const struct xp_sb *sb, uint32_t slot,
		      const uint8_t *a, const uint8_t *b, bool every,
		      unsigned long counts[4])
{
	struct xp_rec ra, rb, o;
	enum xp_fmt_status sa;
	uint8_t m[XP_REC_SIZE];
	const char *f;

	sa = xp_rec_decode(sb, slot, a, &ra, &f);
	CHECK(sa == XP_OK || sa == XP_E_BLANK);
	CHECK_ST(xp_rec_decode(sb, slot, b, &rb, &f), XP_OK);
	CHECK(!tag_on_media(a, b[7]));
	for (uint32_t mask = 0; mask < (1u << XP_REC_WORDS); mask++) {
		enum xp_fmt_status st;

		if (!every && mask && mask != 0xffff && xt_rand() % 64)
			continue;
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			memcpy(m + k * 8, (mask >> k & 1 ? b : a) + k * 8, 8);
		st = xp_rec_decode(sb, slot, m, &o, &f);
		if (mask == 0) {
			CHECK_ST(st, sa);
		} else if (mask == 0xffff) {
			CHECK(st == XP_OK && rec_equal(&o, &rb));
		} else if (st == XP_OK) {
			counts[1]++;
			CHECK_MSG((sa == XP_OK && rec_equal(&o, &ra)) ||
					  rec_equal(&o, &rb),
				  "mask %#x: valid but neither copy", mask);
		} else {
			counts[st == XP_E_TORN ? 0 : 2]++;
			CHECK_MSG(st == XP_E_TORN, "mask %#x: %s", mask,
				  xp_fmt_strstatus(st));
		}
	}
}

static void test_rec_tear_mix(void)
{
	struct xp_sb sb;
	struct xp_slot s;
	uint8_t raw[XP_SLOT_SIZE], nc[XP_REC_SIZE];
	unsigned long counts[4] = {0, 0, 0, 0};
	const uint32_t slot = 11;

	def_sb(&sb);
	xp_slot_init(&sb, slot, raw);
	for (int step = 0; step < 40; step++) {
		struct xp_rec want;
		uint64_t seq;
		int c;

		xp_slot_decode(&sb, slot, raw, &s);
		switch (step % 4) {
		case 0:
			want = mk_rec(&sb, 0, sb.data_offset + 2 * MiB * (uint64_t)step,
				      2 * MiB, "tear");
			break;
		case 1: /* the same extent again: only seq and sum differ */
			want = s.rec;
			break;
		case 2:
			want = s.rec;
			want.type = XP_REC_LENT_RAM;
			memset(want.owner, 0, 16);
			break;
		default:
			want = mk_free(0);
			break;
		}
		c = xp_slot_next_copy(&s, &seq);
		CHECK(c >= 0);
		if (c < 0)
			return;
		want.seq = seq;
		xp_rec_encode(&sb, slot, &want, nc);
		mix_check(&sb, slot, raw + c * XP_REC_SIZE, nc, step < 6, counts);
		memcpy(raw + c * XP_REC_SIZE, nc, XP_REC_SIZE);
	}
	CHECK_EQ_U64(counts[2], 0);
	printf("     mixes: %lu torn, %lu whole copies by coincidence\n",
	       counts[0], counts[1]);
}

static void test_rec_binding(void)
{
	struct xp_sb sb, sb2;
	struct xp_rec r, o;
	uint8_t buf[XP_REC_SIZE], fbuf[XP_REC_SIZE];
	const char *f;

	def_sb(&sb);
	r = mk_rec(&sb, 42, sb.data_offset + 4 * MiB, 8 * MiB, "guest-1.disk");
	memcpy(r.owner, OWNER, 16);
	xp_rec_encode(&sb, 3, &r, buf);
	xp_rec_encode(&sb, 3, &(struct xp_rec){.seq = 5}, fbuf);
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_OK);
	CHECK_ST(xp_rec_decode(&sb, 3, fbuf, &o, &f), XP_OK);

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
	CHECK(f == NULL);
	/* Checksummed with another namespace UUID. */
	sb2 = sb;
	memcpy(sb2.ns_uuid, NSU2, 16);
	CHECK_ST(xp_rec_decode(&sb2, 3, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_ST(xp_rec_decode(&sb2, 3, fbuf, &o, &f), XP_E_CHECKSUM);
	xp_rec_encode(&sb2, 3, &r, buf);
	CHECK_ST(xp_rec_decode(&sb, 3, buf, &o, &f), XP_E_CHECKSUM);
	CHECK_ST(xp_rec_decode(&sb2, 3, buf, &o, &f), XP_OK);
}

/* Physical alignment with a phys_base that is only 4K aligned. */
static void test_rec_phys_alignment(void)
{
	struct xp_sb sb;
	struct xp_rec r;
	uint64_t phys = 3 * 4096;

	CHECK_ST(mk_sb(&sb, 8 * GiB, phys, 64, 21, MG_XEN), XP_OK);
	CHECK((phys + sb.data_offset) % (2 * MiB) == 0);
	CHECK(sb.data_offset % (2 * MiB) != 0);
	r = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "p");
	CHECK_REC_OK(&sb, &r);
	/* Virtually 2M aligned, physically not. */
	r = mk_rec(&sb, 1, (sb.data_offset + 2 * MiB) & ~(2 * MiB - 1),
		   2 * MiB, "v");
	CHECK_REC_FIELD(&sb, &r, "offset");

	CHECK_ST(mk_sb(&sb, 8 * GiB, GiB - 4096, 64, 30, MG_XEN), XP_OK);
	CHECK((sb.phys_base + sb.data_offset) % GiB == 0);
	r = mk_rec(&sb, 1, sb.data_offset, GiB, "g");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset + GiB, GiB, "g2");
	CHECK_REC_OK(&sb, &r);
	r = mk_rec(&sb, 1, sb.data_offset + 2 * MiB, GiB, "g3");
	CHECK_REC_FIELD(&sb, &r, "offset");
	r.align_shift = 21;
	CHECK_REC_OK(&sb, &r);
}

/* ---- slots -------------------------------------------------------------- */

static bool mask_matches_media(const uint32_t mask[8], const uint8_t *copy)
{
	uint32_t m[8] = {0, 0, 0, 0, 0, 0, 0, 0};

	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		m[copy[k * 8 + 7] / 32] |= 1u << (copy[k * 8 + 7] % 32);
	return !memcmp(m, mask, sizeof(m));
}

/* xp_slot_decode() of @raw agrees with the oracle in every output. */
static bool check_slot_vs_ref(const struct xp_sb *sb, uint32_t slot,
			      const uint8_t *raw, struct xp_slot *d)
{
	struct ref_slot r = ref_slot_decode(sb, slot, raw);
	bool ok;

	memset(d, 0x5a, sizeof(*d));
	xp_slot_decode(sb, slot, raw, d);
	ok = d->state == r.state && d->active == r.active &&
	     d->fallback == r.fallback &&
	     (r.active < 0 || d->stale_damaged == r.stale) &&
	     d->copy_status[0] == r.st[0] && d->copy_status[1] == r.st[1] &&
	     mask_matches_media(d->tag_mask[0], raw) &&
	     mask_matches_media(d->tag_mask[1], raw + XP_REC_SIZE);
	if (ok && r.active >= 0)
		ok = rec_equal(&d->rec, &r.rec[r.active]);
	if (ok && r.fallback >= 0)
		ok = rec_equal(&d->fallback_rec, &r.rec[r.fallback]);
	CHECK_MSG(ok, "slot %u: state %d/%d active %d/%d fallback %d/%d "
		  "stale %d/%d status %d,%d/%d,%d (got/oracle)",
		  slot, d->state, r.state, d->active, r.active, d->fallback,
		  r.fallback, d->stale_damaged, r.stale, d->copy_status[0],
		  d->copy_status[1], r.st[0], r.st[1]);
	return ok;
}

struct slotbuf {
	uint8_t b[XP_SLOT_SIZE];
};

static void put_copy(const struct xp_sb *sb, uint32_t slot, struct slotbuf *s,
		     int c, const struct xp_rec *r)
{
	xp_rec_encode(sb, slot, r, s->b + c * XP_REC_SIZE);
}

/* Damage a payload byte of copy @c: the tags still agree. */
static void damage(struct slotbuf *s, int c, size_t word)
{
	s->b[c * XP_REC_SIZE + word * 8 + 3] ^= 0x10;
}

static void test_slot_decode(void)
{
	struct xp_sb sb;
	struct slotbuf s;
	struct xp_slot d;
	struct xp_rec r5, r6, bad;

	def_sb(&sb);
	r5 = mk_rec(&sb, 5, sb.data_offset, 2 * MiB, "five");
	r6 = mk_rec(&sb, 6, sb.data_offset, 4 * MiB, "six");

	/* both blank: init gives every slot a record, so this is corrupt */
	memset(&s, 0, sizeof(s));
	check_slot_vs_ref(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1 && d.fallback == -1);
	CHECK(d.copy_status[0] == XP_E_BLANK && d.copy_status[1] == XP_E_BLANK);

	for (int c = 0; c < 2; c++) {
		/* one copy, either position */
		memset(&s, 0, sizeof(s));
		put_copy(&sb, 9, &s, c, &r5);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c &&
		      !d.stale_damaged && d.fallback == -1);
		CHECK(rec_equal(&d.rec, &r5));

		/* higher seq wins */
		put_copy(&sb, 9, &s, !c, &r6);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == !c);
		CHECK(rec_equal(&d.rec, &r6));

		/* the newer copy torn (mixed tags): roll back, quietly */
		s.b[!c * XP_REC_SIZE + 70] ^= 0x10;
		s.b[!c * XP_REC_SIZE + 7 + 8 * 9] ^= 0x01;
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c &&
		      !d.stale_damaged && d.fallback == -1);
		CHECK(d.copy_status[!c] == XP_E_TORN);
		CHECK(rec_equal(&d.rec, &r5));
		/* newer copy half-written over a blank one: torn too */
		put_copy(&sb, 9, &s, !c, &r6);
		memset(s.b + !c * XP_REC_SIZE + 64, 0, 64);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c);

		/* the newer copy damaged (tags agree): corrupt, fallback */
		put_copy(&sb, 9, &s, !c, &r6);
		damage(&s, !c, 4);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1 &&
		      d.fallback == c);
		CHECK(rec_equal(&d.fallback_rec, &r5));
		CHECK(d.copy_status[!c] == XP_E_CHECKSUM);

		/* the older copy damaged: current stays, repair is due */
		put_copy(&sb, 9, &s, !c, &r6);
		damage(&s, c, 11);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == !c &&
		      d.stale_damaged && d.fallback == -1);
		CHECK(rec_equal(&d.rec, &r6));

		/* checksum fine, a field bad: its seq decides */
		bad = r6;
		bad.label_size = bad.size;	/* invalid */
		put_copy(&sb, 9, &s, c, &r5);
		put_copy(&sb, 9, &s, !c, &bad);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_CORRUPT && d.fallback == c);
		CHECK(d.copy_status[!c] == XP_E_FIELD);
		CHECK_STR(d.copy_field[!c], "label_size");
		bad.seq = 5;			/* same seq as the valid one */
		put_copy(&sb, 9, &s, !c, &bad);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_CORRUPT && d.fallback == c);
		bad.seq = 4;			/* older */
		put_copy(&sb, 9, &s, !c, &bad);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_USED && d.active == c &&
		      d.stale_damaged);
		/* an unknown type is a bad field too */
		bad = r6;
		bad.type = 9;
		put_copy(&sb, 9, &s, !c, &bad);
		check_slot_vs_ref(&sb, 9, s.b, &d);
		CHECK(d.state == XP_SLOT_CORRUPT && d.fallback == c);
	}

	/* newest is a free record: the slot is free */
	{
		struct xp_rec f7 = mk_free(7);

		memset(&s, 0, sizeof(s));
		put_copy(&sb, 9, &s, 0, &r6);
		put_copy(&sb, 9, &s, 1, &f7);
		check_slot_vs_ref(&sb, 9, s.b, &d);
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
	check_slot_vs_ref(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1 && d.fallback == -1);
	CHECK_STR(d.copy_field[0], "seq");
	/* even when identical */
	put_copy(&sb, 9, &s, 1, &r5);
	check_slot_vs_ref(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);

	/* two damaged copies */
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 9, &s, 0, &r5);
	put_copy(&sb, 9, &s, 1, &r6);
	damage(&s, 0, 2);
	damage(&s, 1, 2);
	check_slot_vs_ref(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1 && d.fallback == -1);
	CHECK(d.copy_status[0] == XP_E_CHECKSUM &&
	      d.copy_status[1] == XP_E_CHECKSUM);
	/* one blank, one damaged */
	memset(s.b, 0, XP_REC_SIZE);
	check_slot_vs_ref(&sb, 9, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.active == -1);
	/* wrong slot number: both copies fail the sum */
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 9, &s, 0, &r5);
	check_slot_vs_ref(&sb, 10, s.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT);
}

/*
 * A damaged copy tells only its tag: newer than the valid copy when the
 * tag is less than 128 ahead of the valid copy's (modulo 256).
 */
/*
 * xp_slot_pristine(): true exactly for what xp_slot_init() writes for that
 * slot under that superblock, and every such slot decodes alike (a reader
 * decodes one and copies it to the rest).
 */
static void test_slot_pristine(void)
{
	struct xp_sb sb, other;
	struct slotbuf s;
	struct xp_slot first, d;
	struct xp_rec fr = mk_free(2);
	uint32_t slots[] = {0, 1, 2, 7, 1023, 4096, 65535, XP_MAX_SLOTS - 1};

	def_sb(&sb);
	other = sb;
	other.ns_uuid[5] ^= 1;
	xp_slot_init(&sb, 0, s.b);
	xp_slot_decode(&sb, 0, s.b, &first);
	CHECK(first.state == XP_SLOT_FREE && first.active == 0 &&
	      first.rec.seq == 1);
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		uint32_t n = slots[i];

		xp_slot_init(&sb, n, s.b);
		CHECK_MSG(xp_slot_pristine(&sb, n, s.b), "slot %u", n);
		xp_slot_decode(&sb, n, s.b, &d);
		CHECK_MSG(slot_same(&d, &first), "slot %u", n);
		/* Bound to its slot and its namespace, as the checksum is. */
		CHECK(!xp_slot_pristine(&sb, n + 1, s.b));
		CHECK(!xp_slot_pristine(&other, n, s.b));
	}
	for (int i = 0; i < 300; i++) {
		uint32_t n = (uint32_t)xt_range(0, XP_MAX_SLOTS - 1);

		xp_slot_init(&sb, n, s.b);
		xp_slot_decode(&sb, n, s.b, &d);
		CHECK(xp_slot_pristine(&sb, n, s.b) &&
		      slot_same(&d, &first));
	}
	/* Any bit of the 256 bytes changed: not pristine. */
	xp_slot_init(&sb, 9, s.b);
	for (size_t bit = 0; bit < XP_SLOT_SIZE * 8; bit++) {
		s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_MSG(!xp_slot_pristine(&sb, 9, s.b), "bit %zu", bit);
		s.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	CHECK(xp_slot_pristine(&sb, 9, s.b));
	/* Updated once (a free record, seq 2, in copy 1): not pristine. */
	put_copy(&sb, 9, &s, 1, &fr);
	CHECK(!xp_slot_pristine(&sb, 9, s.b));
}

static void test_slot_tag_distance(void)
{
	struct xp_sb sb;
	struct slotbuf s;
	struct xp_slot d;
	const uint64_t bases[] = {1, 100, 1000, 255, 256, 0x10000, 1ull << 40};

	def_sb(&sb);
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++)
		for (int64_t dd = -300; dd <= 300; dd++) {
			uint64_t sx = bases[i] + 300, sy = sx + (uint64_t)dd;
			struct xp_rec x = mk_rec(&sb, sx, sb.data_offset,
						 2 * MiB, "x");
			struct xp_rec y = mk_rec(&sb, sy, sb.data_offset,
						 4 * MiB, "y");
			bool newer = (uint8_t)dd < 128;
			int c = (int)(dd & 1);

			memset(&s, 0, sizeof(s));
			put_copy(&sb, 2, &s, c, &x);
			put_copy(&sb, 2, &s, !c, &y);
			damage(&s, !c, (size_t)(dd & 15));
			check_slot_vs_ref(&sb, 2, s.b, &d);
			if (newer)
				CHECK_MSG(d.state == XP_SLOT_CORRUPT &&
						  d.fallback == c,
					  "distance %" PRId64 ": not corrupt", dd);
			else
				CHECK_MSG(d.state == XP_SLOT_USED &&
						  d.active == c && d.stale_damaged,
					  "distance %" PRId64 ": not current", dd);
			/* with a good checksum but a bad field: the seq */
			y.label_size = y.size;
			put_copy(&sb, 2, &s, !c, &y);
			check_slot_vs_ref(&sb, 2, s.b, &d);
			CHECK(d.state == (dd >= 0 ? XP_SLOT_CORRUPT : XP_SLOT_USED));
		}
}

/* The next copy's seq: the first of cur+1.. whose tag the target lacks. */
static void check_next(const struct xp_slot *d, const uint8_t *raw)
{
	uint64_t seq = 0;
	int c = xp_slot_next_copy(d, &seq);
	const uint8_t *t;

	if (d->active < 0) {
		CHECK(c == -1);
		return;
	}
	CHECK(c == !d->active);
	if (c < 0)
		return;
	t = raw + c * XP_REC_SIZE;
	CHECK_MSG(seq > d->rec.seq && seq <= d->rec.seq + XP_REC_WORDS + 1,
		  "seq %" PRIu64 " after %" PRIu64, seq, d->rec.seq);
	CHECK_MSG(!tag_on_media(t, xp_rec_tag(seq)),
		  "seq %" PRIu64 ": tag %#x is on the target copy", seq,
		  xp_rec_tag(seq));
	for (uint64_t q = d->rec.seq + 1; q < seq; q++)
		CHECK_MSG(tag_on_media(t, xp_rec_tag(q)),
			  "seq %" PRIu64 " skipped though its tag is free", q);
}

static void test_slot_next_copy(void)
{
	struct xp_sb sb;
	struct slotbuf s;
	struct xp_slot d;
	struct xp_rec r;
	uint64_t seq;

	def_sb(&sb);
	/* blank: no valid copy, nothing may be written */
	memset(&s, 0, sizeof(s));
	xp_slot_decode(&sb, 1, s.b, &d);
	CHECK(xp_slot_next_copy(&d, &seq) == -1);
	/* as init leaves it: a free record in copy 0 with seq 1 */
	xp_slot_init(&sb, 1, s.b);
	check_slot_vs_ref(&sb, 1, s.b, &d);
	CHECK(d.state == XP_SLOT_FREE && d.active == 0 && d.rec.seq == 1);
	CHECK(xp_slot_next_copy(&d, &seq) == 1 && seq == 2);

	/* a target copy full of garbage tags: cur+1..cur+16 all taken */
	for (uint64_t cur = 1; cur < 1000; cur += 37) {
		r = mk_rec(&sb, cur, sb.data_offset, 2 * MiB, "g");
		memset(&s, 0, sizeof(s));
		put_copy(&sb, 1, &s, 0, &r);
		for (uint32_t k = 0; k < XP_REC_WORDS; k++) {
			for (int b = 0; b < 7; b++)
				s.b[XP_REC_SIZE + k * 8 + b] = (uint8_t)xt_rand();
			s.b[XP_REC_SIZE + k * 8 + 7] =
				xp_rec_tag(cur + 1 + (k * 7) % XP_REC_WORDS);
		}
		check_slot_vs_ref(&sb, 1, s.b, &d);
		CHECK(d.active == 0);
		CHECK(xp_slot_next_copy(&d, &seq) == 1);
		CHECK_EQ_U64(seq, cur + 17);
		check_next(&d, s.b);
		/* every word tagged cur+1 */
		for (uint32_t k = 0; k < XP_REC_WORDS; k++)
			s.b[XP_REC_SIZE + k * 8 + 7] = xp_rec_tag(cur + 1);
		xp_slot_decode(&sb, 1, s.b, &d);
		/* (uniform tags, bad sum: damaged and newer: corrupt) */
		CHECK(d.state == XP_SLOT_CORRUPT && d.fallback == 0);
		CHECK(xp_slot_next_copy(&d, &seq) == -1);
		s.b[XP_REC_SIZE + 7] = xp_rec_tag(cur + 3);
		xp_slot_decode(&sb, 1, s.b, &d);
		CHECK(d.active == 0);
		CHECK(xp_slot_next_copy(&d, &seq) == 1 && seq == cur + 2);
		check_next(&d, s.b);
	}
	/* random garbage in the target copy, current copy either one */
	for (int iter = 0; iter < 20000; iter++) {
		int c = iter & 1;
		uint64_t cur = xt_range(1, 1ull << 40);

		r = mk_rec(&sb, cur, sb.data_offset, 2 * MiB, "rg");
		for (size_t i = 0; i < XP_REC_SIZE; i++)
			s.b[!c * XP_REC_SIZE + i] = (uint8_t)xt_rand();
		/* tags close to the current seq, sometimes */
		if (iter % 3)
			for (uint32_t k = 0; k < XP_REC_WORDS; k++)
				s.b[!c * XP_REC_SIZE + k * 8 + 7] =
					xp_rec_tag(cur + xt_range(0, 20));
		put_copy(&sb, 1, &s, c, &r);
		check_slot_vs_ref(&sb, 1, s.b, &d);
		check_next(&d, s.b);
	}

	/* sequence exhausted */
	memset(&d, 0, sizeof(d));
	d.state = XP_SLOT_USED;
	d.active = 1;
	d.rec.seq = UINT64_MAX;
	CHECK(xp_slot_next_copy(&d, &seq) == -1);
	d.rec.seq = UINT64_MAX - 1;
	CHECK(xp_slot_next_copy(&d, &seq) == 0 && seq == UINT64_MAX);
	d.tag_mask[0][7] = 0x80000000u;		/* tag 0xff taken */
	CHECK(xp_slot_next_copy(&d, &seq) == -1);
	d.rec.seq = UINT64_MAX - 2;
	CHECK(xp_slot_next_copy(&d, &seq) == 0 && seq == UINT64_MAX - 1);
	/* corrupt: refused */
	d.active = -1;
	d.state = XP_SLOT_CORRUPT;
	CHECK(xp_slot_next_copy(&d, &seq) == -1);

	/* xp_slot_set records exactly one tag for the copy written */
	xp_slot_init(&sb, 1, s.b);
	xp_slot_decode(&sb, 1, s.b, &d);
	r = mk_rec(&sb, 0x1234, sb.data_offset, 2 * MiB, "set");
	xp_slot_set(&d, 1, &r);
	CHECK(d.active == 1 && d.state == XP_SLOT_USED && !d.stale_damaged &&
	      d.fallback == -1 && d.copy_status[1] == XP_OK);
	CHECK(rec_equal(&d.rec, &r));
	for (int t = 0; t < 256; t++)
		CHECK(!!(d.tag_mask[1][t / 32] & (1u << (t % 32))) == (t == 0x34));
	CHECK(mask_matches_media(d.tag_mask[0], s.b));
	r = mk_free(0x1235);
	xp_slot_set(&d, 0, &r);
	CHECK(d.active == 0 && d.state == XP_SLOT_FREE);
}

/*
 * A slot as a writer keeps it: the media bytes and the in-memory state
 * xp_slot_set() maintains, driven through the update protocol.
 */
struct sim {
	const struct xp_sb *sb;
	uint32_t slot;
	uint8_t b[XP_SLOT_SIZE];
	struct xp_slot s;
	unsigned long skipped;	/* updates whose seq skipped a taken tag */
	/* interrupted updates since the last whole one */
	struct xp_rec tried[8];
	int ntried;
	/*
	 * Write order "words 1..15, fence, then word 0": a crash can leave
	 * word 0 unwritten with any subset of the rest, or all of the rest.
	 */
	bool two_phase;
};

/* The words a crash can leave written, for a protocol's write order. */
static uint32_t crash_words(const struct sim *m, uint32_t words)
{
	if (m->two_phase && (words & 0xfffe) != 0xfffe)
		words &= ~1u;
	return words;
}

static bool copy_tags_uniform(const uint8_t *copy)
{
	for (uint32_t k = 1; k < XP_REC_WORDS; k++)
		if (copy[k * 8 + 7] != copy[7])
			return false;
	return true;
}

static void sim_init(struct sim *m, const struct xp_sb *sb, uint32_t slot)
{
	memset(m, 0, sizeof(*m));
	m->sb = sb;
	m->slot = slot;
	xp_slot_init(sb, slot, m->b);
	xp_slot_decode(sb, slot, m->b, &m->s);
	CHECK(m->s.state == XP_SLOT_FREE && m->s.active == 0);
}

/* The new copy the next update of @m to @want would write; its index. */
static int sim_prepare(struct sim *m, struct xp_rec *want,
		       uint8_t nc[XP_REC_SIZE])
{
	uint64_t seq = 0;
	int c;

	check_next(&m->s, m->b);
	c = xp_slot_next_copy(&m->s, &seq);
	CHECK(c >= 0);
	if (c < 0)
		return -1;
	if (seq > m->s.rec.seq + 1)
		m->skipped++;
	want->seq = seq;
	xp_rec_encode(m->sb, m->slot, want, nc);
	return c;
}

/* Write words @words (bit k: word k) of the next update to @want. A whole
 * write is committed; a partial one is a crash: the slot is read back. */
static int sim_update(struct sim *m, struct xp_rec *want, uint32_t words)
{
	uint8_t nc[XP_REC_SIZE];
	int c = sim_prepare(m, want, nc);

	if (c < 0)
		return -1;
	words = crash_words(m, words);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (words >> k & 1)
			memcpy(m->b + c * XP_REC_SIZE + k * 8, nc + k * 8, 8);
	if (words == 0xffff) {
		xp_slot_set(&m->s, c, want);
		m->ntried = 0;
	} else {
		xp_slot_decode(m->sb, m->slot, m->b, &m->s);
		if (m->ntried < (int)ARRAY_SIZE(m->tried))
			m->tried[m->ntried++] = *want;
	}
	return c;
}

/* What a writer holds in memory is what a reader decodes. */
static void sim_verify(struct sim *m)
{
	struct xp_slot d;

	check_slot_vs_ref(m->sb, m->slot, m->b, &d);
	CHECK(d.state == m->s.state && d.active == m->s.active);
	if (d.active >= 0 && m->s.active >= 0)
		CHECK(rec_equal(&d.rec, &m->s.rec));
	CHECK(mask_matches_media(m->s.tag_mask[0], m->b));
	CHECK(mask_matches_media(m->s.tag_mask[1], m->b + XP_REC_SIZE));
}

static const uint8_t damage_vals[] = {0x01, 0x80, 0xff, 0x10, 0x7f, 0x55};

/*
 * The values a byte is changed to: all 255, or a handful, the first four
 * being the most telling (a low and a high bit; the tags of the first and
 * last word, which can make a torn copy's tags agree).
 */
static int change_to(const uint8_t *copy, size_t pos, int k, bool every)
{
	uint8_t o = copy[pos];

	if (every)
		return k == o ? -1 : k;
	switch (k) {
	case 0: return o ^ 0x01;
	case 1: return o ^ 0x80;
	case 2: return copy[7] == o ? -1 : copy[7];
	case 3: return copy[XP_REC_SIZE - 1] == o ? -1 : copy[XP_REC_SIZE - 1];
	case 4: return o ? 0 : -1;
	case 5: return (uint8_t)(o + 1);
	default:
		if (k - 6 < (int)ARRAY_SIZE(damage_vals))
			return o ^ damage_vals[k - 6];
		return -1;
	}
}

struct prop_counts {
	unsigned long cur_kept, cur_corrupt, old_kept, tears, tear_new,
		torn_old_corrupt, torn_old_completed, tear_revived,
		tear_new_mixed, mixed_current, mixed_damage, mixed_rollback;
};

/*
 * The key property: a single changed byte in the current copy never rolls
 * the slot back (the copy stays current, or the slot is corrupt with the
 * older copy as fallback); a single changed byte in the older copy never
 * changes the slot's state.
 */
static void prop_damage(struct sim *m, bool every, bool older,
			struct prop_counts *pc)
{
	const int x = m->s.active, y = !x;
	struct xp_rec cur = m->s.rec, old;
	const char *f;
	bool old_valid;
	uint8_t raw[XP_SLOT_SIZE];
	struct xp_slot d;

	CHECK(x >= 0);
	if (x < 0)
		return;
	old_valid = xp_rec_decode(m->sb, m->slot, m->b + y * XP_REC_SIZE, &old,
				  &f) == XP_OK;
	if (old_valid)
		CHECK(old.seq < cur.seq);
	for (size_t pos = 0; pos < XP_REC_SIZE; pos++)
		for (int k = 0; k < (every ? 256 : 4); k++) {
			int v = change_to(m->b + x * XP_REC_SIZE, pos, k, every);

			if (v < 0)
				continue;
			/* the current copy */
			memcpy(raw, m->b, sizeof(raw));
			raw[x * XP_REC_SIZE + pos] = (uint8_t)v;
			check_slot_vs_ref(m->sb, m->slot, raw, &d);
			CHECK_MSG(d.active != y,
				  "slot %u seq %" PRIu64 ": byte %zu of the current copy = %#x rolled it back to seq %" PRIu64,
				  m->slot, cur.seq, pos, v, old.seq);
			if (pos % 8 == 7) {
				pc->cur_kept++;
				CHECK(d.active == x && rec_equal(&d.rec, &cur));
			} else {
				pc->cur_corrupt++;
				CHECK(d.state == XP_SLOT_CORRUPT);
				CHECK(d.fallback == (old_valid ? y : -1));
				if (old_valid && d.fallback == y)
					CHECK(rec_equal(&d.fallback_rec, &old));
			}
		}
	for (size_t pos = 0; older && pos < XP_REC_SIZE; pos++)
		for (int k = 0; k < (every ? 256 : 4); k++) {
			int v = change_to(m->b + y * XP_REC_SIZE, pos, k, every);

			if (v < 0)
				continue;
			/* the older copy */
			memcpy(raw, m->b, sizeof(raw));
			raw[y * XP_REC_SIZE + pos] = (uint8_t)v;
			check_slot_vs_ref(m->sb, m->slot, raw, &d);
			pc->old_kept++;
			CHECK_MSG(d.active == x && rec_equal(&d.rec, &cur) &&
					  d.state == m->s.state,
				  "slot %u seq %" PRIu64 ": byte %zu of the older copy = %#x: state %d active %d",
				  m->slot, cur.seq, pos, v, d.state, d.active);
		}
}

/*
 * An older copy that is itself torn can, by one more changed byte, look
 * like a whole copy damaged later (a tag byte made to agree), or become
 * the whole copy of the interrupted update (the one byte it missed). The
 * slot must never be read as anything else: it stays current, is corrupt
 * with the current copy as fallback, or holds the interrupted update.
 */
static void prop_damage_torn_older(struct sim *m, struct prop_counts *pc)
{
	const int x = m->s.active, y = !x;
	uint8_t raw[XP_SLOT_SIZE];
	struct xp_slot d;

	for (size_t pos = 0; pos < XP_REC_SIZE; pos++)
		for (int k = 0; k < 16; k++) {
			int v = change_to(m->b + y * XP_REC_SIZE, pos, k, false);
			bool tried = false;

			if (v < 0)
				continue;
			memcpy(raw, m->b, sizeof(raw));
			raw[y * XP_REC_SIZE + pos] = (uint8_t)v;
			check_slot_vs_ref(m->sb, m->slot, raw, &d);
			if (d.state == XP_SLOT_CORRUPT) {
				pc->torn_old_corrupt++;
				CHECK(d.fallback == x &&
				      rec_equal(&d.fallback_rec, &m->s.rec));
				continue;
			}
			for (int t = 0; t < m->ntried; t++)
				tried |= d.active == y &&
					 rec_equal(&d.rec, &m->tried[t]);
			pc->torn_old_completed += tried;
			CHECK_MSG((d.active == x && rec_equal(&d.rec, &m->s.rec)) ||
					  tried,
				  "slot %u seq %" PRIu64 ": byte %zu of the torn older copy = %#x: state %d active %d seq %" PRIu64,
				  m->slot, m->s.rec.seq, pos, v, d.state,
				  d.active, d.rec.seq);
		}
}

/* Did the tear revive one of the slot's interrupted updates? */
static bool revived(const struct sim *m, const struct xp_slot *d, int c)
{
	for (int t = 0; t < m->ntried; t++)
		if (d->active == c && rec_equal(&d->rec, &m->tried[t]))
			return true;
	return false;
}

/*
 * Every word-level tear of the next update: the old record or the new.
 *
 * With the single-fence write that holds when the copy the update
 * overwrites is a whole copy (or blank). When it is the torn leftover of an
 * interrupted update R1, the words the new update stores can complete R1's
 * payload (where the two records agree and R1's missing words differ), and
 * R1, never committed, becomes the slot's state: an interrupted "destroy
 * --force" followed by an interrupted "unassign" can leave the slot free.
 * That is counted (revived), not failed. Two writer-side orders are
 * modelled that close it, and there every tear must be old or new: word 0
 * stored (fenced) first when the target is torn (phase 1 below), and the
 * two-phase order "words 1..15, fence, word 0" (m->two_phase).
 */
static void prop_tear(struct sim *m, const struct xp_rec *next, bool every,
		      struct prop_counts *pc)
{
	struct xp_rec want = *next, cur = m->s.rec, o;
	uint8_t nc[XP_REC_SIZE], raw[XP_SLOT_SIZE], base[XP_SLOT_SIZE];
	const int x = m->s.active;
	struct xp_slot d;
	const char *f;
	int c = sim_prepare(m, &want, nc);
	bool strict;

	if (c < 0)
		return;
	strict = m->two_phase ||
		 xp_rec_decode(m->sb, m->slot, m->b + c * XP_REC_SIZE, &o, &f) !=
			 XP_E_TORN;
	memcpy(base, m->b, sizeof(base));
	for (int phase = 0; phase < (strict ? 1 : 2); phase++) {
		if (phase == 1) {
			/* word 0 first, fenced (alone: still old) */
			memcpy(base + c * XP_REC_SIZE, nc, 8);
			xp_slot_decode(m->sb, m->slot, base, &d);
			CHECK(d.active == x && rec_equal(&d.rec, &cur));
			strict = true;
		}
		for (uint32_t mask = 0; mask <= 0xffff; mask++) {
			uint32_t words = mask;
			bool is_old, is_new, rev;

			if (!every && mask && mask != 0xffff && xt_rand() % 128)
				continue;
			if (phase == 0 && crash_words(m, mask) != mask)
				continue;	/* not a state this order leaves */
			memcpy(raw, base, sizeof(raw));
			for (uint32_t k = 0; k < XP_REC_WORDS; k++)
				if (words >> k & 1)
					memcpy(raw + c * XP_REC_SIZE + k * 8,
					       nc + k * 8, 8);
			xp_slot_decode(m->sb, m->slot, raw, &d);
			is_old = d.active == x && rec_equal(&d.rec, &cur);
			is_new = d.active == c && rec_equal(&d.rec, &want);
			rev = !strict && revived(m, &d, c);
			pc->tears++;
			pc->tear_new += is_new;
			pc->tear_revived += rev;
			if (is_new && mask != 0xffff)
				pc->tear_new_mixed++;
			CHECK_MSG(is_old || is_new || rev,
				  "slot %u seq %" PRIu64 " -> %" PRIu64 ", words %#x written%s: state %d active %d",
				  m->slot, cur.seq, want.seq, mask,
				  phase ? " after word 0" : "", d.state, d.active);
			/* two-phase: nothing but the whole copy is new */
			if (m->two_phase)
				CHECK_MSG(!is_new || mask == 0xffff,
					  "two-phase: words %#x already new", mask);
			if (mask == 0xffff)
				CHECK(is_new);
			if (mask == 0 && phase == 0)
				CHECK(is_old);
		}
	}
}

/*
 * A torn update can complete by coincidence: every word that differs
 * reached the media, and the words that did not carry the same payload
 * under the old tag. That copy is current, with mixed tags; one damaged
 * payload byte then reads as torn and rolls the slot back. Counted for the
 * single-fence write; the two-phase order never leaves such a copy.
 */
static void prop_mixed_current(struct sim *m, struct prop_counts *pc)
{
	const int x = m->s.active, y = !x;
	uint8_t raw[XP_SLOT_SIZE];
	struct xp_slot d;

	if (x < 0 || copy_tags_uniform(m->b + x * XP_REC_SIZE))
		return;
	CHECK_MSG(!m->two_phase, "two-phase: current copy with mixed tags");
	pc->mixed_current++;
	for (size_t pos = 0; pos < XP_REC_SIZE; pos++) {
		if (pos % 8 == 7)
			continue;
		memcpy(raw, m->b, sizeof(raw));
		raw[x * XP_REC_SIZE + pos] ^= 0x01;
		xp_slot_decode(m->sb, m->slot, raw, &d);
		pc->mixed_damage++;
		pc->mixed_rollback += d.active == y;
	}
}

/* The record an update sequence writes at step @i. */
static struct xp_rec step_rec(const struct sim *m, int i)
{
	const struct xp_sb *sb = m->sb;
	struct xp_rec r = m->s.rec;
	char nm[32];

	switch (i % 6) {
	case 0:
		snprintf(nm, sizeof(nm), "ext-%d", i);
		r = mk_rec(sb, 0, sb->data_offset + 2 * MiB * (uint64_t)(i % 40),
			   2 * MiB * (uint64_t)(1 + i % 3), nm);
		break;
	case 1: /* rename, to 31 characters */
		memset(r.name, 0, sizeof(r.name));
		memset(r.name, 'a' + i % 26, 31);
		break;
	case 2: /* assign */
		memcpy(r.owner, OWNER, 16);
		r.owner[0] = (uint8_t)i;
		break;
	case 3: /* unassign and lend as RAM */
		memset(r.owner, 0, 16);
		r.type = XP_REC_LENT_RAM;
		break;
	case 4: /* take back, grow */
		r.type = XP_REC_DATA;
		r.size += 2 * MiB;
		break;
	default:
		r = mk_free(0);
		break;
	}
	return r;
}

/*
 * Runs of real update sequences: 0 plain (some states exhaustively), 1
 * with interrupted attempts, 2 with garbage carrying the next seqs' tags
 * over the older copy, both of which make updates skip seqs; 3 and 4 the
 * same as 0 and 1 with the two-phase write order.
 */
static void test_slot_protocol(void)
{
	struct xp_sb sb;
	struct prop_counts pc;
	unsigned long skipped = 0, states = 0, torn_states = 0;

	memset(&pc, 0, sizeof(pc));
	def_sb(&sb);
	for (int run = 0; run < 5; run++) {
		struct sim m;
		const int steps = run == 0 || run == 3 ? 60 : 200;
		const bool interrupted = run == 1 || run == 4;

		sim_init(&m, &sb, (uint32_t)(run * 17 + 3));
		m.two_phase = run >= 3;
		/* init state: copy 0 free seq 1, copy 1 blank */
		prop_damage(&m, run == 0, true, &pc);
		for (int i = 0; i < steps; i++) {
			struct xp_rec want = step_rec(&m, i);
			bool heavy = (run == 0 || run == 3) && (i < 2 || i == 40);
			int torn = 0;

			if (interrupted && i % 3 == 1)
				torn = (int)xt_range(1, 3);
			for (int t = 0; t < torn; t++) {
				struct xp_rec w2 = step_rec(&m, i + 1);
				uint32_t one = 1u << xt_range(0, 15);
				/* any cut; one word missing; one word written */
				uint32_t words = t == 0 ? 0xffff & ~one :
						 t == 1 ? one :
							  (uint32_t)xt_range(1, 0xfffe);

				sim_update(&m, &w2, words);
				sim_verify(&m);
				torn_states++;
				prop_mixed_current(&m, &pc);
				if (m.two_phase)
					prop_damage(&m, false, false, &pc);
				prop_damage_torn_older(&m, &pc);
				prop_tear(&m, &want, false, &pc);
			}
			if (run == 2 && i % 4 == 2) {
				uint8_t *g = m.b + !m.s.active * XP_REC_SIZE;

				for (uint32_t k = 0; k < XP_REC_WORDS; k++) {
					for (int b = 0; b < 7; b++)
						g[k * 8 + b] = (uint8_t)xt_rand();
					g[k * 8 + 7] = xp_rec_tag(
						m.s.rec.seq + 1 +
						xt_range(0, XP_REC_WORDS - 1));
				}
				xp_slot_decode(&sb, m.slot, m.b, &m.s);
				sim_verify(&m);
				if (m.s.active < 0)	/* uniform tags: damaged */
					break;
				torn_states++;
				prop_damage_torn_older(&m, &pc);
				prop_tear(&m, &want, false, &pc);
			}

			prop_tear(&m, &want, heavy, &pc);
			CHECK(sim_update(&m, &want, 0xffff) >= 0);
			sim_verify(&m);
			states++;
			prop_damage(&m, heavy, true, &pc);
		}
		skipped += m.skipped;
	}
	CHECK(skipped > 0);
	printf("     %lu states (+%lu torn), %lu skipping updates\n"
	       "     current-copy changes: %lu kept, %lu corrupt; older-copy changes: %lu kept\n"
	       "     %lu tears: %lu new (%lu completed before the last word), %lu revived an interrupted update\n"
	       "     torn older copy changed: %lu corrupt, %lu completed\n"
	       "     single fence: %lu current copies with mixed tags; %lu of %lu damaged bytes there roll back\n",
	       states, torn_states, skipped, pc.cur_kept, pc.cur_corrupt,
	       pc.old_kept, pc.tears, pc.tear_new, pc.tear_new_mixed,
	       pc.tear_revived, pc.torn_old_corrupt, pc.torn_old_completed,
	       pc.mixed_current, pc.mixed_rollback, pc.mixed_damage);
}

/*
 * The two cases test_slot_protocol() counts for the single-fence write,
 * spelled out; the plain outcome is printed, the two-phase order ("words
 * 1..15, fence, then word 0") is checked.
 *
 * 1. Revival: vm1 (assigned) is current in copy 1, an older vm1 in copy 0.
 *    "destroy --force" (a free record) is interrupted before words 8 and 9
 *    (the owner bytes) reach copy 0: torn, vm1 stays. "unassign vm1" then
 *    goes to copy 0 and is interrupted after storing words 8 and 9, which
 *    are zero as in the free record: the free record is whole again.
 * 2. Completion by coincidence: copy 0 holds vm1 unassigned, copy 1 vm1
 *    assigned (current). "unassign" differs from copy 0 only in words 0,
 *    14 and 15; once those landed, copy 0 is current with mixed tags, and
 *    one damaged payload byte makes it read as torn: back to "assigned".
 */
static void test_slot_single_fence_hazards(void)
{
	struct xp_sb sb;
	struct slotbuf s, t;
	struct xp_slot d;
	struct xp_rec a, fr = mk_free(0), un;
	uint8_t nc[XP_REC_SIZE];
	uint64_t seq;
	int c;

	def_sb(&sb);
	/* 1. revival */
	a = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "vm1");
	memcpy(a.owner, OWNER, 16);
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 0, &s, 0, &a);
	a.seq = 2;
	put_copy(&sb, 0, &s, 1, &a);
	xp_slot_decode(&sb, 0, s.b, &d);
	c = xp_slot_next_copy(&d, &seq);
	CHECK(c == 0 && seq == 3);
	fr.seq = seq;
	xp_rec_encode(&sb, 0, &fr, nc);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (k != 8 && k != 9)
			memcpy(s.b + k * 8, nc + k * 8, 8);
	t = s;	/* the same crash in the two-phase order: see below */
	check_slot_vs_ref(&sb, 0, s.b, &d);
	CHECK(d.active == 1 && d.copy_status[0] == XP_E_TORN);
	un = d.rec;
	memset(un.owner, 0, 16);
	c = xp_slot_next_copy(&d, &seq);
	CHECK(c == 0 && seq == 4);
	un.seq = seq;
	xp_rec_encode(&sb, 0, &un, nc);
	memcpy(s.b + 64, nc + 64, 16);
	check_slot_vs_ref(&sb, 0, s.b, &d);
	printf("     single fence, revival: the slot reads %s seq %" PRIu64
	       " (old: vm1 seq 2, new: vm1 seq 4)\n",
	       d.state == XP_SLOT_FREE ? "free" : d.rec.name, d.rec.seq);
	CHECK(d.state != XP_SLOT_CORRUPT);
	/* two-phase: copy 0's word 0 is still the old record's */
	{
		struct xp_rec old0 = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "vm1");
		uint8_t o0[XP_REC_SIZE];

		memcpy(old0.owner, OWNER, 16);
		xp_rec_encode(&sb, 0, &old0, o0);
		memcpy(t.b, o0, 8);
	}
	xp_slot_decode(&sb, 0, t.b, &d);
	CHECK(d.active == 1 && d.copy_status[0] == XP_E_TORN);
	un.seq = 0;
	c = xp_slot_next_copy(&d, &seq);
	CHECK(c == 0);
	un.seq = seq;
	xp_rec_encode(&sb, 0, &un, nc);
	memcpy(t.b + 64, nc + 64, 16);
	check_slot_vs_ref(&sb, 0, t.b, &d);
	CHECK(d.active == 1 && d.rec.seq == 2 && !xp_uuid_is_nil(d.rec.owner));

	/* 2. completion by coincidence */
	a = mk_rec(&sb, 1, sb.data_offset, 2 * MiB, "vm1");
	memset(&s, 0, sizeof(s));
	put_copy(&sb, 0, &s, 0, &a);
	a.seq = 2;
	memcpy(a.owner, OWNER, 16);
	put_copy(&sb, 0, &s, 1, &a);
	xp_slot_decode(&sb, 0, s.b, &d);
	un = d.rec;
	memset(un.owner, 0, 16);
	c = xp_slot_next_copy(&d, &seq);
	CHECK(c == 0 && seq == 3);
	un.seq = seq;
	xp_rec_encode(&sb, 0, &un, nc);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		CHECK((memcmp(nc + k * 8, s.b + k * 8, 7) != 0) ==
		      (k == 0 || k == 14 || k == 15));
	t = s;
	memcpy(s.b, nc, 8);
	memcpy(s.b + 112, nc + 112, 16);
	check_slot_vs_ref(&sb, 0, s.b, &d);
	CHECK(d.active == 0 && d.rec.seq == 3);	/* new, with mixed tags */
	s.b[40] ^= 0x04;
	check_slot_vs_ref(&sb, 0, s.b, &d);
	printf("     single fence, completed by coincidence, then one byte: the slot reads seq %" PRIu64
	       " (%s)\n", d.rec.seq,
	       d.state == XP_SLOT_CORRUPT ? "corrupt" :
	       xp_uuid_is_nil(d.rec.owner) ? "unassigned" : "assigned");
	/* two-phase: words 14, 15 first; alone they leave the old record */
	memcpy(t.b + 112, nc + 112, 16);
	check_slot_vs_ref(&sb, 0, t.b, &d);
	CHECK(d.active == 1 && d.rec.seq == 2);
	/* all of words 1..15, then word 0: uniform tags, and one damaged
	 * byte makes the slot corrupt with the old record as fallback */
	memcpy(t.b + 8, nc + 8, XP_REC_SIZE - 8);
	check_slot_vs_ref(&sb, 0, t.b, &d);
	CHECK(d.active == 1 && d.rec.seq == 2);
	memcpy(t.b, nc, 8);
	check_slot_vs_ref(&sb, 0, t.b, &d);
	CHECK(d.active == 0 && d.rec.seq == 3);
	t.b[40] ^= 0x04;
	check_slot_vs_ref(&sb, 0, t.b, &d);
	CHECK(d.state == XP_SLOT_CORRUPT && d.fallback == 1);
}

/*
 * Whatever a slot holds, an update written where xp_slot_next_copy() says,
 * with the sequence it says, must become the slot's state: otherwise the
 * update is silently lost (or a stale record revived) on the next open.
 * A corrupt slot takes no update at all.
 */
static void test_slot_update_wins_everywhere(void)
{
	enum { K_BLANK, K_R3, K_R9, K_R9B, K_TORN, K_DMG3, K_DMG9, K_BAD2,
	       K_BAD20, K_MAGIC5, K_COUNT };
	struct xp_sb sb;
	struct xp_rec r3, r9, r9b, bad;
	unsigned long n_corrupt = 0, n_updated = 0;

	def_sb(&sb);
	r3 = mk_rec(&sb, 3, sb.data_offset, 2 * MiB, "three");
	r9 = mk_rec(&sb, 9, sb.data_offset, 4 * MiB, "nine");
	r9b = mk_rec(&sb, 9, sb.data_offset + 8 * MiB, 2 * MiB, "nine-b");
	bad = mk_rec(&sb, 2, sb.data_offset, 2 * MiB, "bad");
	bad.label_size = 2 * MiB; /* invalid: label fills the extent */

	for (int k0 = 0; k0 < K_COUNT; k0++)
		for (int k1 = 0; k1 < K_COUNT; k1++) {
			struct slotbuf s;
			struct xp_slot d;
			struct xp_rec want = mk_free(0);
			int kinds[2] = {k0, k1}, c;
			uint64_t seq;

			memset(&s, 0, sizeof(s));
			for (int k = 0; k < 2; k++) {
				uint8_t *p = s.b + k * XP_REC_SIZE;

				switch (kinds[k]) {
				case K_R3: put_copy(&sb, 2, &s, k, &r3); break;
				case K_R9: put_copy(&sb, 2, &s, k, &r9); break;
				case K_R9B: put_copy(&sb, 2, &s, k, &r9b); break;
				case K_TORN:
					for (int j = 0; j < (int)XP_REC_SIZE; j++)
						p[j] = (uint8_t)(j * 37 + 1);
					break;
				case K_DMG3:
					put_copy(&sb, 2, &s, k, &r3);
					damage(&s, k, 5);
					break;
				case K_DMG9:
					put_copy(&sb, 2, &s, k, &r9);
					damage(&s, k, 5);
					break;
				case K_BAD2:
					put_copy(&sb, 2, &s, k, &bad);
					break;
				case K_BAD20:
					bad.seq = 20;
					put_copy(&sb, 2, &s, k, &bad);
					bad.seq = 2;
					break;
				case K_MAGIC5:
					put_copy(&sb, 2, &s, k, &r3);
					rec_patch(&sb, 2, p, PLO(seq), 5, 8, false);
					rec_patch(&sb, 2, p, PLO(magic), 1, 4, true);
					break;
				}
			}
			check_slot_vs_ref(&sb, 2, s.b, &d);
			if (d.state == XP_SLOT_CORRUPT) {
				n_corrupt++;
				CHECK_MSG(xp_slot_next_copy(&d, &seq) == -1,
					  "kinds %d,%d: a corrupt slot took an update",
					  k0, k1);
				continue;
			}
			check_next(&d, s.b);
			c = xp_slot_next_copy(&d, &seq);
			CHECK_MSG(c >= 0, "kinds %d,%d: no copy to write", k0, k1);
			if (c < 0)
				continue;
			want.seq = seq;
			put_copy(&sb, 2, &s, c, &want);
			check_slot_vs_ref(&sb, 2, s.b, &d);
			n_updated++;
			CHECK_MSG(d.state == XP_SLOT_FREE && d.active == c &&
					  d.rec.seq == seq && !d.stale_damaged,
				  "kinds %d,%d: wrote copy %d seq %" PRIu64
				  ", slot now state %d active %d (update lost)",
				  k0, k1, c, seq, (int)d.state, d.active);
		}
	printf("     %lu corrupt, %lu updated\n", n_corrupt, n_updated);
}

/* ---- table -------------------------------------------------------------- */

static struct xp_slot used_slot(uint64_t off, uint64_t size, const char *name,
				uint32_t uuidn)
{
	struct xp_slot s;

	memset(&s, 0, sizeof(s));
	s.state = XP_SLOT_USED;
	s.active = 0;
	s.fallback = -1;
	s.rec.seq = 1;
	s.rec.type = XP_REC_DATA;
	s.rec.offset = off;
	s.rec.size = size;
	s.rec.align_shift = 21;
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

	s[0] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[1] = used_slot(6 * MiB, 2 * MiB, "b", 2);
	s[2] = used_slot(4 * MiB, 2 * MiB, "c", 3); /* adjacent on both sides */
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_OK);
	CHECK(why == NULL);

	/* one byte of overlap */
	s[2].rec.size = 2 * MiB + 1;
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "extents overlap");
	CHECK((a == 2 && b == 1) || (a == 1 && b == 2));
	/* containment, and identical extents */
	s[2] = used_slot(2 * MiB + 4096, 4096, "c", 3);
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "extents overlap");
	CHECK((a == 0 && b == 2) || (a == 2 && b == 0));
	s[2] = used_slot(6 * MiB, 2 * MiB, "c", 3);
	CHECK_ST(tcheck(s, 3, &a, &b, &why), XP_E_LAYOUT);
	CHECK((a == 1 && b == 2) || (a == 2 && b == 1));

	/* overlaps with slots that are not used do not count */
	s[0] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[1] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[1].state = XP_SLOT_FREE;
	s[2] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[2].state = XP_SLOT_CORRUPT;
	s[3] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[3].state = XP_SLOT_FREE;
	s[4] = used_slot(4 * MiB, 2 * MiB, "b", 2);
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_OK);

	/* duplicate names; prefixes are not duplicates */
	s[0] = used_slot(2 * MiB, 2 * MiB, "disk", 1);
	s[1] = used_slot(4 * MiB, 2 * MiB, "disk0", 2);
	s[2] = used_slot(6 * MiB, 2 * MiB, "dis", 3);
	s[3] = used_slot(8 * MiB, 2 * MiB, "Disk", 4);
	CHECK_ST(tcheck(s, 4, &a, &b, &why), XP_OK);
	s[4] = used_slot(10 * MiB, 2 * MiB, "disk0", 5);
	CHECK_ST(tcheck(s, 5, &a, &b, &why), XP_E_LAYOUT);
	CHECK_STR(why, "duplicate name");
	CHECK((a == 1 && b == 4) || (a == 4 && b == 1));

	/* duplicate uuids */
	s[4] = used_slot(10 * MiB, 2 * MiB, "other", 3);
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

/* The brute-force oracle: which slots break which rule. */
enum { R_OVERLAP, R_NAME, R_UUID, R_COUNT };

static const char *const rule_name[R_COUNT] = {
	"extents overlap", "duplicate name", "duplicate uuid"};

static bool rule_broken(const struct xp_slot *s, uint32_t i, uint32_t j,
			int rule)
{
	const struct xp_rec *p = &s[i].rec, *q = &s[j].rec;

	if (i == j || s[i].state != XP_SLOT_USED || s[j].state != XP_SLOT_USED)
		return false;
	switch (rule) {
	case R_OVERLAP:
		return p->offset < q->offset + q->size &&
		       q->offset < p->offset + p->size;
	case R_NAME:
		return !strcmp(p->name, q->name);
	default:
		return !memcmp(p->uuid, q->uuid, 16);
	}
}

#define TMAX 400u

struct vio {
	uint32_t calls, bad_pairs;
	bool seen[R_COUNT][TMAX];
};

static void note_vio(uint32_t a, uint32_t b, const char *rule, void *arg)
{
	struct vio *v = arg;
	int r = -1;

	v->calls++;
	for (int k = 0; k < R_COUNT; k++)
		if (!strcmp(rule, rule_name[k]))
			r = k;
	if (r < 0 || a >= TMAX || b >= TMAX) {
		v->bad_pairs++;
		return;
	}
	v->seen[r][a] = v->seen[r][b] = true;
}

/*
 * xp_table_violations() against the oracle: every reported pair breaks
 * the rule it names, and every slot that breaks a rule with any other is
 * reported for that rule. Returns the number of slots involved.
 */
static uint32_t check_violations(const struct xp_slot *s, uint32_t n,
				 const char *what)
{
	static struct vio v;
	static uint32_t scratch[TMAX];
	static bool want[R_COUNT][TMAX];
	uint32_t ret, ret2, involved = 0, a, b;
	bool any = false, pair_ok = true;
	const char *why;
	enum xp_fmt_status st;

	memset(&v, 0, sizeof(v));
	memset(want, 0, sizeof(want));
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			for (int r = 0; r < R_COUNT; r++)
				if (rule_broken(s, i, j, r))
					want[r][i] = want[r][j] = any = true;
	ret = xp_table_violations(s, n, scratch, note_vio, &v);
	CHECK_EQ_U64(ret, v.calls);
	CHECK_EQ_U64(v.bad_pairs, 0);
	CHECK_MSG((ret > 0) == any, "%s: %u pairs reported, oracle %d", what,
		  ret, any);
	for (int r = 0; r < R_COUNT; r++)
		for (uint32_t i = 0; i < n; i++) {
			involved += want[r][i];
			if (v.seen[r][i] != want[r][i]) {
				CHECK_MSG(0, "%s: slot %u %s %s", what, i,
					  want[r][i] ? "not reported for" :
						       "wrongly reported for",
					  rule_name[r]);
				return involved;
			}
		}
	/* without a callback: the same count */
	ret2 = xp_table_violations(s, n, scratch, NULL, NULL);
	CHECK_EQ_U64(ret2, ret);
	/* xp_table_check agrees, and names one real pair */
	st = xp_table_check(s, n, scratch, &a, &b, &why);
	CHECK((st == XP_OK) == !any);
	if (st != XP_OK) {
		int r = -1;

		for (int k = 0; k < R_COUNT; k++)
			if (why && !strcmp(why, rule_name[k]))
				r = k;
		pair_ok = r >= 0 && a < n && b < n && rule_broken(s, a, b, r);
		CHECK_MSG(pair_ok, "%s: table_check pair %u,%u (%s)", what, a,
			  b, why ? why : "-");
	}
	return involved;
}

/* Each pair reported breaks its rule. */
struct pair_check {
	const struct xp_slot *s;
	uint32_t n, wrong;
};

static void check_pair(uint32_t a, uint32_t b, const char *rule, void *arg)
{
	struct pair_check *pc = arg;
	int r = -1;

	for (int k = 0; k < R_COUNT; k++)
		if (!strcmp(rule, rule_name[k]))
			r = k;
	if (r < 0 || a >= pc->n || b >= pc->n || !rule_broken(pc->s, a, b, r))
		pc->wrong++;
}

static void check_pairs_genuine(const struct xp_slot *s, uint32_t n)
{
	static uint32_t scratch[TMAX];
	struct pair_check pc = {s, n, 0};

	xp_table_violations(s, n, scratch, check_pair, &pc);
	CHECK_EQ_U64(pc.wrong, 0);
}

static void test_table_violations(void)
{
	static struct xp_slot s[16];
	uint32_t scratch[16];

	memset(s, 0, sizeof(s));
	CHECK_EQ_U64(xp_table_violations(s, 16, scratch, NULL, NULL), 0);
	CHECK_EQ_U64(check_violations(s, 16, "empty"), 0);

	/*
	 * A chain: a big extent covering two small ones that do not touch
	 * each other. Sorted by offset the second small one is not adjacent
	 * to the big one, and the extent reaching farthest is not its
	 * neighbour.
	 */
	s[0] = used_slot(100 * MiB, 2 * MiB, "far-later", 1);
	s[1] = used_slot(0, 100 * MiB, "big", 2);
	s[2] = used_slot(10 * MiB, 2 * MiB, "small-1", 3);
	s[3] = used_slot(30 * MiB, 2 * MiB, "small-2", 4);
	s[4] = used_slot(98 * MiB, 2 * MiB, "small-3", 5);
	CHECK_EQ_U64(check_violations(s, 5, "chain"), 4);
	check_pairs_genuine(s, 5);
	/* the small ones between themselves do not overlap */
	CHECK(!rule_broken(s, 2, 3, R_OVERLAP) && !rule_broken(s, 3, 4, R_OVERLAP));

	/* two long extents, staggered, each covering later small ones */
	memset(s, 0, sizeof(s));
	s[5] = used_slot(0, 50 * MiB, "l1", 1);
	s[6] = used_slot(2 * MiB, 80 * MiB, "l2", 2);
	s[7] = used_slot(60 * MiB, 2 * MiB, "s1", 3);	/* only under l2 */
	s[8] = used_slot(90 * MiB, 2 * MiB, "s2", 4);	/* alone */
	s[9] = used_slot(40 * MiB, 2 * MiB, "s3", 5);	/* under both */
	CHECK_EQ_U64(check_violations(s, 10, "staggered"), 4);
	check_pairs_genuine(s, 10);

	/* three identical extents, names and uuids */
	memset(s, 0, sizeof(s));
	for (int i = 0; i < 3; i++)
		s[i * 2] = used_slot(8 * MiB, 2 * MiB, "same", 7);
	CHECK_EQ_U64(check_violations(s, 6, "identical"), 9);
	check_pairs_genuine(s, 6);

	/* unused and corrupt slots take no part */
	s[2].state = XP_SLOT_CORRUPT;
	s[4].state = XP_SLOT_FREE;
	CHECK_EQ_U64(check_violations(s, 6, "one left"), 0);
	CHECK_EQ_U64(xp_table_violations(s, 6, scratch, NULL, NULL), 0);

	/* adjacent extents are no overlap; names differing in case differ */
	memset(s, 0, sizeof(s));
	s[0] = used_slot(2 * MiB, 2 * MiB, "a", 1);
	s[1] = used_slot(4 * MiB, 2 * MiB, "A", 2);
	s[2] = used_slot(0, 2 * MiB, "a.", 3);
	CHECK_EQ_U64(check_violations(s, 3, "adjacent"), 0);
}

static void test_table_random(void)
{
	static struct xp_slot s[TMAX];
	unsigned long involved = 0, tables_bad = 0;

	for (int iter = 0; iter < 4000; iter++) {
		uint32_t n = (uint32_t)xt_range(0, iter < 3900 ? 40 : TMAX);
		uint64_t off = 0;
		int kind = (int)xt_range(0, 4);
		uint32_t got;

		/* A valid table, in shuffled slot order. */
		for (uint32_t i = 0; i < n; i++) {
			char nm[16];
			uint64_t size = xt_range(1, 8) * 2 * MiB;

			off += xt_range(0, 2) * 2 * MiB;
			snprintf(nm, sizeof(nm), "e%u", i);
			s[i] = used_slot(off, size, nm, i + 1);
			off += size;
			if (xt_rand() % 8 == 0)
				s[i].state = (enum xp_slot_state)xt_range(0, 2);
		}
		for (uint32_t i = n; i > 1; i--) {
			uint32_t j = (uint32_t)xt_range(0, i - 1);
			struct xp_slot t = s[i - 1];

			s[i - 1] = s[j];
			s[j] = t;
		}
		/* Break rules between random slots, sometimes many times. */
		for (int k = 0; n >= 2 && kind && k < (kind == 4 ? 6 : 1); k++) {
			uint32_t i = (uint32_t)xt_range(0, n - 1);
			uint32_t j = (uint32_t)xt_range(0, n - 1);

			if (i == j)
				continue;
			switch (kind == 4 ? (int)xt_range(1, 3) : kind) {
			case 1: /* overlap: start inside, or cover a range */
				if (xt_rand() % 2)
					s[j].rec.offset = s[i].rec.offset +
							  xt_range(0, s[i].rec.size / (2 * MiB) - 1) * 2 * MiB;
				else
					s[j].rec.size += xt_range(1, 40) * 2 * MiB;
				break;
			case 2:
				strcpy(s[j].rec.name, s[i].rec.name);
				break;
			default:
				memcpy(s[j].rec.uuid, s[i].rec.uuid, 16);
				break;
			}
		}
		got = check_violations(s, n, "random");
		involved += got;
		tables_bad += got > 0;
		if (got)
			check_pairs_genuine(s, n);
	}
	printf("     %lu tables broke a rule, %lu slot-rule involvements\n",
	       tables_bad, involved);
}

/* ---- sort --------------------------------------------------------------- */

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
	RUN(test_sb_encoding);
	RUN(test_sb_roundtrip_bounds);
	RUN(test_sb_phys_base);
	RUN(test_sb_ns_size);
	RUN(test_sb_fields_rejected);
	RUN(test_sb_features);
	RUN(test_sb_header_size);
	RUN(test_sb_bitflips);
	RUN(test_sb_blank_signature_len);
	RUN(test_sb_block_tail);
	RUN(test_sb_relocate);
	RUN(test_sb_same_but_generation);
	RUN(test_rec_gather_scatter);
	RUN(test_rec_encoding);
	RUN(test_rec_encode_words);
	RUN(test_rec_roundtrip_bounds);
	RUN(test_rec_type_flags_owner);
	RUN(test_rec_free_payload);
	RUN(test_rec_names);
	RUN(test_rec_single_byte);
	RUN(test_rec_torn_vs_damaged);
	RUN(test_rec_tear_mix);
	RUN(test_rec_binding);
	RUN(test_rec_phys_alignment);
	RUN(test_slot_decode);
	RUN(test_slot_pristine);
	RUN(test_slot_tag_distance);
	RUN(test_slot_next_copy);
	RUN(test_slot_protocol);
	RUN(test_slot_single_fence_hazards);
	RUN(test_slot_update_wins_everywhere);
	RUN(test_table_check);
	RUN(test_table_violations);
	RUN(test_table_random);
	RUN(test_sort_idx);
	return xt_finish();
}
