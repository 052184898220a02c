/* SPDX-License-Identifier: MIT */
/*
 * Encode, decode and validate the xenpmem on-media structures (format 2.0).
 * Freestanding: no libc, no allocation. Validation order follows the Linux
 * nvdimm info blocks: signature, checksum, version, then every field.
 */
#include "xp_format.h"
#include "xp_overflow.h"

/*
 * Little-endian loads and stores spelled as byte shifts: correct on any
 * host, and GCC and clang fold each into one move on a little-endian one.
 */
static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static inline void st64(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
	p[4] = (uint8_t)(v >> 32);
	p[5] = (uint8_t)(v >> 40);
	p[6] = (uint8_t)(v >> 48);
	p[7] = (uint8_t)(v >> 56);
}

/*
 * The byte-range helpers go a word at a time (opening a namespace runs
 * them over every slot: all_zero as a byte loop was most of an open of a
 * 65,536-slot table); the tail, if any, a byte at a time.
 */
static bool all_zero(const uint8_t *p, size_t len)
{
	size_t i = 0;

	/* Out at the first nonzero word: a written record copy is nonzero
	 * in its first. */
	for (; i + 8 <= len; i += 8)
		if (ld64(p + i))
			return false;
	for (; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void bytes_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		st64(dst + i, ld64(src + i));
	for (; i < len; i++)
		dst[i] = src[i];
}

static void bytes_zero(uint8_t *dst, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		st64(dst + i, 0);
	for (; i < len; i++)
		dst[i] = 0;
}

static bool bytes_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8)
		if (ld64(a + i) != ld64(b + i))
			return false;
	for (; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

const char *xp_fmt_strstatus(enum xp_fmt_status st)
{
	switch (st) {
	case XP_OK: return "valid";
	case XP_E_BLANK: return "blank";
	case XP_E_SIGNATURE: return "bad signature";
	case XP_E_CHECKSUM: return "checksum mismatch";
	case XP_E_VERSION: return "unsupported version";
	case XP_E_FIELD: return "field out of bounds";
	case XP_E_LAYOUT: return "inconsistent layout";
	case XP_E_TOO_SMALL: return "namespace too small";
	case XP_E_INVAL: return "invalid parameters";
	case XP_E_TORN: return "torn by an interrupted write";
	}
	return "unknown status";
}

static inline __attribute__((__always_inline__)) uint64_t
fletcher64(uint64_t state, const uint8_t *p, size_t len)
{
	uint32_t lo = (uint32_t)state;
	uint32_t hi = (uint32_t)(state >> 32);
	size_t i = 0;

	/*
	 * Four words at a time: after words a, b, c, d the sums are
	 * lo + (a + b + c + d) and hi + 4 lo + 4a + 3b + 2c + d, which breaks
	 * the chain of dependent adds (everything is modulo 2^32, so the
	 * result is the word-by-word one exactly).
	 */
	for (; i + 16 <= len; i += 16) {
		uint32_t a = ld32(p + i), b = ld32(p + i + 4);
		uint32_t c = ld32(p + i + 8), d = ld32(p + i + 12);

		hi += 4 * lo + 4 * a + 3 * b + 2 * c + d;
		lo += a + b + c + d;
	}
	for (; i + 4 <= len; i += 4) {
		lo += ld32(p + i);
		hi += lo;
	}
	return (uint64_t)hi << 32 | lo;
}

uint64_t xp_fletcher64(uint64_t state, const void *buf, size_t len)
{
	return fletcher64(state, buf, len);
}

bool xp_uuid_is_nil(const uint8_t uuid[16])
{
	return all_zero(uuid, 16);
}

bool xp_align_shift_ok(uint32_t shift)
{
	return shift == XP_ALIGN_2M_SHIFT || shift == XP_ALIGN_1G_SHIFT;
}

/*
 * Alignment is physical: phys_base + off must be a multiple of 1 << shift.
 * Callers keep phys_base + off below XP_PHYS_LIMIT, so the sum is exact.
 */
bool xp_phys_aligned(uint64_t phys_base, uint64_t off, uint32_t shift)
{
	uint64_t a = xp_shl1(shift);

	return a && !((phys_base + off) & (a - 1));
}

/* Smallest o >= off with phys_base + o aligned; false if out of range. */
static bool phys_align_up(uint64_t phys_base, uint64_t off, uint64_t a,
			  uint64_t *res)
{
	uint64_t p;

	if (xp_align_up_ovf(phys_base + off, a, &p))
		return false;
	*res = p - phys_base;
	return true;
}

/* Largest o <= off with phys_base + o aligned; false if none. */
static bool phys_align_down(uint64_t phys_base, uint64_t off, uint64_t a,
			    uint64_t *res)
{
	uint64_t p = (phys_base + off) & ~(a - 1);

	if (p < phys_base)
		return false;
	*res = p - phys_base;
	return true;
}

void xp_mgmt_geom_xen(struct xp_mgmt_geom *g, bool compat_m2p)
{
	g->chunk_shift = XP_CHUNK_SHIFT;
	g->ft_entry = XP_XEN_FT_ENTRY;
	g->m2p_entry = XP_XEN_M2P_ENTRY;
	g->compat_entry = compat_m2p ? XP_XEN_COMPAT_ENTRY : 0;
	g->compat_limit_shift = compat_m2p ? XP_XEN_COMPAT_LIMIT_SHIFT : 0;
}

bool xp_mgmt_geom_none(const struct xp_mgmt_geom *g)
{
	return !g->chunk_shift && !g->ft_entry && !g->m2p_entry &&
	       !g->compat_entry && !g->compat_limit_shift;
}

/* 2.0 knows exactly three geometries: none, and Xen with or without the
 * compat M2P. Anything else is refused rather than guessed at. */
static bool geom_valid(const struct xp_mgmt_geom *g)
{
	struct xp_mgmt_geom x;

	if (xp_mgmt_geom_none(g))
		return true;
	xp_mgmt_geom_xen(&x, g->compat_entry != 0);
	return g->chunk_shift == x.chunk_shift && g->ft_entry == x.ft_entry &&
	       g->m2p_entry == x.m2p_entry &&
	       g->compat_entry == x.compat_entry &&
	       g->compat_limit_shift == x.compat_limit_shift;
}

/* Naturally aligned groups of @gsize bytes that [start, end) touches. */
static uint32_t groups(uint64_t start, uint64_t end, uint64_t gsize)
{
	if (end <= start)
		return 0;
	return (uint32_t)((end - 1) / gsize - start / gsize + 1);
}

void xp_mgmt_chunks(const struct xp_mgmt_geom *g, uint64_t start,
		    uint64_t end, struct xp_mgmt_chunks *out)
{
	uint64_t chunk, limit;

	out->ft = out->m2p = out->compat = 0;
	if (xp_mgmt_geom_none(g) || !geom_valid(g))
		return;
	/* One chunk holds chunk / entry entries, one per 4 KiB frame. */
	chunk = xp_shl1(g->chunk_shift);
	out->ft = groups(start, end, chunk / g->ft_entry * XP_PAGE_SIZE);
	out->m2p = groups(start, end, chunk / g->m2p_entry * XP_PAGE_SIZE);
	if (!g->compat_entry)
		return;
	limit = xp_shl1(g->compat_limit_shift);
	if (start < limit)
		out->compat = groups(start, end < limit ? end : limit,
				     chunk / g->compat_entry * XP_PAGE_SIZE);
}

static uint64_t chunk_bytes(const struct xp_mgmt_geom *g,
			    const struct xp_mgmt_chunks *c)
{
	/* At most 3 * 2^30 chunks of 2^21: below 2^53. */
	return ((uint64_t)c->ft + c->m2p + c->compat) << g->chunk_shift;
}

enum xp_fmt_status xp_layout_solve(const struct xp_layout_params *p,
				   struct xp_layout *out, const char **why)
{
	uint64_t a, table_end, mgmt_off, data_end, d0, lo, hi, top;
	struct xp_mgmt_chunks c;
	bool none = xp_mgmt_geom_none(&p->geom);

	*why = NULL;
	if (!xp_align_shift_ok(p->align_shift)) {
		*why = "align_shift";
		return XP_E_INVAL;
	}
	if (p->slot_count < XP_MIN_SLOTS || p->slot_count > XP_MAX_SLOTS) {
		*why = "slot_count";
		return XP_E_INVAL;
	}
	if (!geom_valid(&p->geom)) {
		*why = "management geometry";
		return XP_E_INVAL;
	}
	if (p->ns_size & (XP_PAGE_SIZE - 1)) {
		*why = "ns_size";
		return XP_E_INVAL;
	}
	if (p->phys_base & (XP_PAGE_SIZE - 1) || p->phys_base > XP_PHYS_LIMIT ||
	    p->ns_size > XP_PHYS_LIMIT - p->phys_base) {
		*why = "phys_base";
		return XP_E_INVAL;
	}

	a = xp_shl1(p->align_shift);
	table_end = XP_TABLE_OFFSET + (uint64_t)p->slot_count * XP_SLOT_SIZE;
	/* Chunks are mapped as superpages: the area starts 2 MiB aligned. */
	if (none)
		mgmt_off = (table_end + XP_PAGE_SIZE - 1) & ~(XP_PAGE_SIZE - 1);
	else if (!phys_align_up(p->phys_base, table_end,
				xp_shl1(p->geom.chunk_shift), &mgmt_off))
		mgmt_off = UINT64_MAX;
	if (mgmt_off > p->ns_size || p->ns_size - mgmt_off < XP_SB_BLOCK) {
		*why = "extent table and superblocks";
		return XP_E_TOO_SMALL;
	}
	out->table_offset = XP_TABLE_OFFSET;
	out->table_size = table_end - XP_TABLE_OFFSET;
	out->mgmt_offset = mgmt_off;
	out->backup_offset = p->ns_size - XP_SB_BLOCK;

	if (!phys_align_up(p->phys_base, mgmt_off, a, &d0) ||
	    !phys_align_down(p->phys_base, out->backup_offset, a, &data_end) ||
	    data_end <= d0) {
		*why = "data area";
		return XP_E_TOO_SMALL;
	}

	/*
	 * Candidate data offsets are d0 + k * a for k in [0, top]. Moving the
	 * data area up never adds a frame group, so "the management area fits
	 * in front of d" is monotone in k: binary search the smallest k where
	 * it holds. k == top (no data) always holds.
	 */
	top = (data_end - d0) >> p->align_shift;
	lo = 0;
	hi = top;
	while (lo < hi) {
		uint64_t k = lo + (hi - lo) / 2;
		uint64_t d = d0 + (k << p->align_shift);

		xp_mgmt_chunks(&p->geom, p->phys_base + d,
			       p->phys_base + data_end, &c);
		if (mgmt_off + chunk_bytes(&p->geom, &c) <= d)
			hi = k;
		else
			lo = k + 1;
	}
	if (lo == top) {
		*why = "management area leaves no data area";
		return XP_E_TOO_SMALL;
	}
	out->data_offset = d0 + (lo << p->align_shift);
	out->data_size = data_end - out->data_offset;
	xp_mgmt_chunks(&p->geom, p->phys_base + out->data_offset,
		       p->phys_base + data_end, &out->chunks);
	out->mgmt_size = chunk_bytes(&p->geom, &out->chunks);
	return XP_OK;
}

uint64_t xp_sb_checksum(const void *buf, uint32_t header_size)
{
	const uint8_t *p = buf;
	const size_t sum_off = offsetof(struct xp_sb_disk, checksum);
	static const uint8_t zero8[8];
	uint64_t st;

	st = xp_fletcher64(0, p, sum_off);
	st = xp_fletcher64(st, zero8, sizeof(zero8));
	return xp_fletcher64(st, p + sum_off + 8, header_size - sum_off - 8);
}

#define FIELD_FAIL(name)              \
	do {                          \
		*field = (name);      \
		return XP_E_FIELD;    \
	} while (0)

static bool header_size_ok(uint32_t hsz)
{
	return hsz >= XP_SB_SIZE && hsz <= XP_SB_BLOCK && !(hsz % 4);
}

enum xp_fmt_status xp_sb_decode(const void *buf, size_t len, uint64_t dev_size,
				bool is_backup, struct xp_sb *out,
				const char **field)
{
	const struct xp_sb_disk *d = buf;
	const uint8_t *raw = buf;
	struct xp_layout_params lp;
	struct xp_layout lay;
	const char *why;
	uint32_t hsz;

	*field = NULL;
	if (len < XP_SB_BLOCK)
		return XP_E_INVAL;
	if (all_zero(raw, XP_SB_BLOCK))
		return XP_E_BLANK;
	if (!bytes_equal(d->signature, (const uint8_t *)XP_SB_SIGNATURE, 16)) {
		*field = "signature";
		return XP_E_SIGNATURE;
	}
	hsz = xp_get32(d->header_size);
	if (!header_size_ok(hsz)) {
		*field = "header_size";
		return XP_E_CHECKSUM;
	}
	if (xp_sb_checksum(raw, hsz) != xp_get64(d->checksum)) {
		*field = "checksum";
		return XP_E_CHECKSUM;
	}
	out->major = xp_get16(d->major);
	out->minor = xp_get16(d->minor);
	out->incompat = xp_get32(d->incompat);
	if (out->major != XP_FMT_MAJOR) {
		*field = "major";
		return XP_E_VERSION;
	}
	if (out->incompat & ~XP_SB_INCOMPAT_KNOWN) {
		*field = "incompat";
		return XP_E_VERSION;
	}
	out->header_size = hsz;
	out->compat = xp_get32(d->compat);
	out->ro_compat = xp_get32(d->ro_compat);
	bytes_copy(out->ns_uuid, d->ns_uuid, 16);
	out->generation = xp_get64(d->generation);
	out->ns_size = xp_get64(d->ns_size);
	out->phys_base = xp_get64(d->phys_base);
	out->init_time = xp_get64(d->init_time);
	out->table_offset = xp_get64(d->table_offset);
	out->slot_count = xp_get32(d->slot_count);
	out->slot_size = xp_get32(d->slot_size);
	out->rec_size = xp_get32(d->rec_size);
	out->page_shift = xp_get32(d->page_shift);
	out->align_shift = xp_get32(d->align_shift);
	out->geom.chunk_shift = xp_get32(d->chunk_shift);
	out->geom.ft_entry = xp_get32(d->ft_entry);
	out->geom.m2p_entry = xp_get32(d->m2p_entry);
	out->geom.compat_entry = xp_get32(d->compat_entry);
	out->geom.compat_limit_shift = xp_get32(d->compat_limit_shift);
	out->chunks.ft = xp_get32(d->ft_chunks);
	out->chunks.m2p = xp_get32(d->m2p_chunks);
	out->chunks.compat = xp_get32(d->compat_chunks);
	out->mgmt_offset = xp_get64(d->mgmt_offset);
	out->mgmt_size = xp_get64(d->mgmt_size);
	out->data_offset = xp_get64(d->data_offset);
	out->data_size = xp_get64(d->data_size);

	if (!!(out->compat & XP_SB_F_BACKUP) != is_backup)
		FIELD_FAIL("compat.backup");
	if (all_zero(out->ns_uuid, 16))
		FIELD_FAIL("ns_uuid");
	if (out->generation == 0)
		FIELD_FAIL("generation");
	if (out->ns_size != dev_size)
		FIELD_FAIL("ns_size");
	if (out->page_shift != XP_PAGE_SHIFT)
		FIELD_FAIL("page_shift");
	if (out->rec_size != XP_REC_SIZE)
		FIELD_FAIL("rec_size");
	if (out->slot_size != XP_SLOT_SIZE)
		FIELD_FAIL("slot_size");
	if (out->table_offset != XP_TABLE_OFFSET)
		FIELD_FAIL("table_offset");
	if (out->slot_count < XP_MIN_SLOTS || out->slot_count > XP_MAX_SLOTS)
		FIELD_FAIL("slot_count");
	if (!xp_align_shift_ok(out->align_shift))
		FIELD_FAIL("align_shift");
	if (!geom_valid(&out->geom))
		FIELD_FAIL("management geometry");
	if (out->phys_base & (XP_PAGE_SIZE - 1) ||
	    out->phys_base > XP_PHYS_LIMIT ||
	    out->ns_size > XP_PHYS_LIMIT - out->phys_base)
		FIELD_FAIL("phys_base");
	if (!(out->compat & XP_SB_F_PHYS_KNOWN) && out->phys_base)
		FIELD_FAIL("phys_base");

	/*
	 * The layout is a pure function of the parameters above: recompute it
	 * and demand every offset, size and chunk count match, so no
	 * hand-made or tampered superblock can point the hypervisor anywhere
	 * else.
	 */
	lp.ns_size = out->ns_size;
	lp.phys_base = out->phys_base;
	lp.slot_count = out->slot_count;
	lp.align_shift = out->align_shift;
	lp.geom = out->geom;
	if (xp_layout_solve(&lp, &lay, &why) != XP_OK)
		FIELD_FAIL("ns_size");
	if (out->mgmt_offset != lay.mgmt_offset)
		FIELD_FAIL("mgmt_offset");
	if (out->chunks.ft != lay.chunks.ft)
		FIELD_FAIL("ft_chunks");
	if (out->chunks.m2p != lay.chunks.m2p)
		FIELD_FAIL("m2p_chunks");
	if (out->chunks.compat != lay.chunks.compat)
		FIELD_FAIL("compat_chunks");
	if (out->mgmt_size != lay.mgmt_size)
		FIELD_FAIL("mgmt_size");
	if (out->data_offset != lay.data_offset)
		FIELD_FAIL("data_offset");
	if (out->data_size != lay.data_size)
		FIELD_FAIL("data_size");
	/* A newer minor may have given these bytes a meaning. */
	if (out->minor <= XP_FMT_MINOR &&
	    (!all_zero(d->reserved, sizeof(d->reserved)) ||
	     !all_zero(d->reserved0.b, 4) || !all_zero(d->reserved1.b, 4)))
		FIELD_FAIL("reserved");
	/* Outside the checksum, so it must carry nothing at all. */
	if (!all_zero(raw + hsz, XP_SB_BLOCK - hsz))
		FIELD_FAIL("block tail");
	return XP_OK;
}

bool xp_sb_writable(const struct xp_sb *sb, const char **why)
{
	*why = NULL;
	if (sb->minor > XP_FMT_MINOR)
		*why = "written by a newer minor version";
	else if (sb->ro_compat & ~XP_SB_RO_COMPAT_KNOWN)
		*why = "unknown read-only-compatible feature";
	return !*why;
}

enum xp_fmt_status xp_sb_relocate(void *buf, bool to_backup,
				  uint64_t generation)
{
	struct xp_sb_disk *d = buf;
	uint32_t hsz = xp_get32(d->header_size);
	uint32_t compat = xp_get32(d->compat);

	if (!header_size_ok(hsz) || !generation)
		return XP_E_INVAL;
	compat = to_backup ? compat | XP_SB_F_BACKUP : compat & ~XP_SB_F_BACKUP;
	d->compat = xp_put32(compat);
	d->generation = xp_put64(generation);
	d->checksum = xp_put64(xp_sb_checksum(buf, hsz));
	return XP_OK;
}

bool xp_sb_same_but_generation(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	const size_t compat = offsetof(struct xp_sb_disk, compat);
	const size_t gen = offsetof(struct xp_sb_disk, generation);
	const size_t sum = offsetof(struct xp_sb_disk, checksum);

	for (size_t i = 0; i < XP_SB_BLOCK; i++) {
		uint8_t u = x[i], v = y[i];

		if ((i >= gen && i < gen + 8) || (i >= sum && i < sum + 8))
			continue;
		if (i == compat) {	/* XP_SB_F_BACKUP is bit 0 */
			u &= (uint8_t)~XP_SB_F_BACKUP;
			v &= (uint8_t)~XP_SB_F_BACKUP;
		}
		if (u != v)
			return false;
	}
	return true;
}

void xp_sb_encode(const struct xp_sb *sb, bool is_backup, void *buf)
{
	struct xp_sb_disk *d = buf;
	uint32_t compat = sb->compat & ~XP_SB_F_BACKUP;

	if (is_backup)
		compat |= XP_SB_F_BACKUP;
	bytes_zero(buf, XP_SB_BLOCK);
	bytes_copy(d->signature, (const uint8_t *)XP_SB_SIGNATURE, 16);
	d->major = xp_put16(XP_FMT_MAJOR);
	d->minor = xp_put16(XP_FMT_MINOR);
	d->header_size = xp_put32(XP_SB_SIZE);
	d->compat = xp_put32(compat);
	d->ro_compat = xp_put32(sb->ro_compat);
	d->incompat = xp_put32(sb->incompat);
	bytes_copy(d->ns_uuid, sb->ns_uuid, 16);
	d->generation = xp_put64(sb->generation);
	d->ns_size = xp_put64(sb->ns_size);
	d->phys_base = xp_put64(sb->phys_base);
	d->init_time = xp_put64(sb->init_time);
	d->table_offset = xp_put64(XP_TABLE_OFFSET);
	d->slot_count = xp_put32(sb->slot_count);
	d->slot_size = xp_put32(XP_SLOT_SIZE);
	d->rec_size = xp_put32(XP_REC_SIZE);
	d->page_shift = xp_put32(XP_PAGE_SHIFT);
	d->align_shift = xp_put32(sb->align_shift);
	d->chunk_shift = xp_put32(sb->geom.chunk_shift);
	d->ft_entry = xp_put32(sb->geom.ft_entry);
	d->m2p_entry = xp_put32(sb->geom.m2p_entry);
	d->compat_entry = xp_put32(sb->geom.compat_entry);
	d->compat_limit_shift = xp_put32(sb->geom.compat_limit_shift);
	d->ft_chunks = xp_put32(sb->chunks.ft);
	d->m2p_chunks = xp_put32(sb->chunks.m2p);
	d->compat_chunks = xp_put32(sb->chunks.compat);
	d->mgmt_offset = xp_put64(sb->mgmt_offset);
	d->mgmt_size = xp_put64(sb->mgmt_size);
	d->data_offset = xp_put64(sb->data_offset);
	d->data_size = xp_put64(sb->data_size);
	d->checksum = xp_put64(xp_sb_checksum(buf, XP_SB_SIZE));
}

/*
 * A record word is 7 payload bytes and the tag in byte 7, so word k is the
 * 8 payload bytes from 7k with the last replaced by the tag; the last word
 * would read one past the payload, so it takes its 7 bytes one by one.
 */
#define WORD_LOW 0x00ffffffffffffffull
_Static_assert(XP_REC_WORD_PAYLOAD == 7, "seven payload bytes a word");

void xp_rec_gather(const void *copy, uint8_t payload[XP_REC_PAYLOAD])
{
	const uint8_t *w = copy;
	uint32_t k;

	/* Each store's eighth byte is overwritten by the next word's first. */
	for (k = 0; k + 1 < XP_REC_WORDS; k++)
		st64(payload + k * 7, ld64(w + k * 8));
	for (uint32_t j = 0; j < 7; j++)
		payload[k * 7 + j] = w[k * 8 + j];
}

void xp_rec_scatter(const uint8_t payload[XP_REC_PAYLOAD], uint8_t tag,
		    void *copy)
{
	const uint64_t t = (uint64_t)tag << 56;
	uint8_t *w = copy;
	uint32_t k;

	for (k = 0; k + 1 < XP_REC_WORDS; k++)
		st64(w + k * 8, (ld64(payload + k * 7) & WORD_LOW) | t);
	for (uint32_t j = 0; j < 7; j++)
		w[k * 8 + j] = payload[k * 7 + j];
	w[k * 8 + 7] = tag;
}


static bool tags_uniform(const uint8_t *copy)
{
	uint64_t w0 = ld64(copy), diff = 0;

	/* Byte 7 of every word against word 0's: one OR a word. */
	for (uint32_t k = 1; k < XP_REC_WORDS; k++)
		diff |= ld64(copy + k * 8) ^ w0;
	return !(diff >> 56);
}

/*
 * What each byte value may be in a name: 1 for [A-Za-z0-9_+:-], 2 for
 * '.', 0 for anything else. A load a character, where the range compares
 * were a dozen instructions (a rename validates its new name).
 */
#define NAME_CH 1u
#define NAME_DOT 2u
static const uint8_t name_chars[256] = {
	['a' ... 'z'] = NAME_CH, ['A' ... 'Z'] = NAME_CH,
	['0' ... '9'] = NAME_CH, ['_'] = NAME_CH, ['-'] = NAME_CH,
	['+'] = NAME_CH, [':'] = NAME_CH, ['.'] = NAME_DOT,
};

bool xp_name_valid(const char *name, size_t maxlen)
{
	unsigned seen = 0;
	size_t n = 0;

	if (!name)
		return false;
	while (n < maxlen && name[n]) {
		unsigned k = name_chars[(uint8_t)name[n]];

		if (!k)
			return false;
		seen |= k;
		n++;
	}
	if (n == 0 || n > XP_NAME_MAX || (n == maxlen) || name[0] == '-')
		return false;
	/* "." and ".." name no device node (/dev/mapper/NAME): a name needs
	 * one character that is not a dot. */
	return seen & NAME_CH;
}

enum xp_fmt_status xp_rec_decode(const struct xp_sb *sb, uint32_t slot,
				 const void *buf, struct xp_rec *out,
				 const char **field)
{
	const uint8_t *raw = buf;
	uint8_t pl[XP_REC_PAYLOAD];
	const struct xp_rec_payload *d = (const struct xp_rec_payload *)pl;
	uint64_t end, data_end, a;
	size_t n;

	*field = NULL;
	out->seq = 0;
	if (all_zero(raw, XP_REC_SIZE))
		return XP_E_BLANK;
	xp_rec_gather(raw, pl);
	if (xp_rec_checksum(sb->ns_uuid, slot, pl) != xp_get64(d->checksum)) {
		/* Mixed tags: words of two writes, i.e. a write cut short. */
		return tags_uniform(raw) ? XP_E_CHECKSUM : XP_E_TORN;
	}
	out->seq = xp_get64(d->seq);
	if (xp_get32(d->magic) != XP_REC_MAGIC) {
		*field = "magic";
		return XP_E_SIGNATURE;
	}
	out->type = d->type;
	out->align_shift = d->align_shift;
	out->flags = xp_get16(d->flags);
	out->offset = xp_get64(d->offset);
	out->size = xp_get64(d->size);
	out->label_size = xp_get64(d->label_size);
	bytes_copy(out->uuid, d->uuid, 16);
	bytes_copy(out->owner, d->owner, 16);
	bytes_copy((uint8_t *)out->name, d->name, XP_NAME_MAX);
	out->name[XP_NAME_MAX] = 0;

	if (out->seq == 0)
		FIELD_FAIL("seq");
	/* Any new meaning comes with an incompat bit: an unknown flag or
	 * type here is damage, never something to skip over. */
	if (out->flags)
		FIELD_FAIL("flags");
	if (out->type > XP_REC_LENT_RAM)
		FIELD_FAIL("type");
	if (!xp_rec_used(out)) {
		/* A free record carries nothing but its sequence. */
		if (!all_zero(pl + 12, offsetof(struct xp_rec_payload, checksum) - 12))
			FIELD_FAIL("free record payload");
		return XP_OK;
	}
	if (!xp_align_shift_ok(out->align_shift))
		FIELD_FAIL("align_shift");
	a = xp_shl1(out->align_shift);
	if (out->size == 0 || out->size & (a - 1))
		FIELD_FAIL("size");
	data_end = sb->data_offset + sb->data_size; /* validated sb: exact */
	if (out->offset < sb->data_offset || out->offset >= data_end ||
	    !xp_phys_aligned(sb->phys_base, out->offset, out->align_shift))
		FIELD_FAIL("offset");
	if (xp_add_ovf(out->offset, out->size, &end) || end > data_end)
		FIELD_FAIL("size");
	if (out->label_size & (XP_PAGE_SIZE - 1) ||
	    out->label_size >= out->size)
		FIELD_FAIL("label_size");
	if (all_zero(out->uuid, 16))
		FIELD_FAIL("uuid");
	/* Lent to the hypervisor as RAM: no guest owns it. */
	if (out->type == XP_REC_LENT_RAM && !all_zero(out->owner, 16))
		FIELD_FAIL("owner");
	if (!xp_name_valid((const char *)d->name, sizeof(d->name)))
		FIELD_FAIL("name");
	for (n = 0; d->name[n]; n++)
		;
	if (!all_zero(d->name + n, sizeof(d->name) - n))
		FIELD_FAIL("name");
	return XP_OK;
}

/* The bytes of @v below its first zero byte (all of @v when it has none). */
static inline uint64_t below_first_zero(uint64_t v, bool *had_zero)
{
	const uint64_t ones = 0x0101010101010101ull;
	/* The lowest set bit marks the first zero byte exactly; bits above
	 * it may be false alarms, which the lowest-bit mask ignores. */
	uint64_t z = (v - ones) & ~v & (ones << 7);

	*had_zero = z != 0;
	return z ? v & ((z & -z) / 0x80 - 1) : v;
}

/*
 * Fletcher-64 (xp_fletcher64()) of a stream of 32-bit words fed 16 bytes
 * at a time, as four lanes: with S the lane-wise sum of the blocks so far
 * and T the lane-wise sum of S before each block, a stream of K blocks
 * has lo = S0 + S1 + S2 + S3 and hi = 4 (T0 + T1 + T2 + T3) + 4 S0 +
 * 3 S1 + 2 S2 + S3 (word 4k + l weighs 4 (K - k) - l in hi, as in the
 * word-at-a-time definition). Everything is modulo 2^32, so the order of
 * the sums does not matter and the result is exact. Two vector adds a
 * block where the scalar loop took ~16 instructions; where the compiler
 * has no vector unit (the hypervisor builds without SSE) it lowers the
 * same code to scalar adds.
 */
typedef uint32_t fl_lanes __attribute__((__vector_size__(16)));

struct fl_state {
	fl_lanes s, t;
};

typedef uint64_t fl_pair __attribute__((__vector_size__(16)));

static inline __attribute__((__always_inline__)) void
fl_block(struct fl_state *f, uint64_t a, uint64_t b)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* Lanes are laid out as in memory: a's low half is lane 0. */
	fl_pair q = {a, b};
	fl_lanes v = (fl_lanes)q;
#else
	fl_lanes v = {(uint32_t)a, (uint32_t)(a >> 32), (uint32_t)b,
		      (uint32_t)(b >> 32)};
#endif

	f->t += f->s;
	f->s += v;
}

/*
 * One 8-byte store of @v as little-endian: GCC's store merging gave up on
 * st64()'s eight byte stores for some of the encoder's words (30
 * instructions for one word).
 */
static inline void st64_word(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__builtin_memcpy(p, &v, sizeof(v));
#else
	st64(p, v);
#endif
}

static inline __attribute__((__always_inline__)) uint64_t
fl_finish(const struct fl_state *f)
{
	uint32_t lo = f->s[0] + f->s[1] + f->s[2] + f->s[3];
	uint32_t hi = 4 * (f->t[0] + f->t[1] + f->t[2] + f->t[3]) +
		      4 * f->s[0] + 3 * f->s[1] + 2 * f->s[2] + f->s[3];

	return (uint64_t)hi << 32 | lo;
}

/*
 * Word k of a copy: payload bytes 7k..7k+6 (payload bit 56k on), from the
 * payload's 64-bit words @p, with the tag @t in byte 7. Every shift is a
 * constant once the caller's k is.
 */
#define REC_WORD(p, k, t)                                                    \
	(((((p)[(7 * (k)) / 8] >> (8 * ((7 * (k)) % 8))) |                    \
	  (8 * ((7 * (k)) % 8) > 8 ?                                         \
		   (p)[(7 * (k)) / 8 + 1] << ((64 - 8 * ((7 * (k)) % 8)) % 64) \
		   : 0)) & WORD_LOW) | (t))

/* The payload in 64-bit words, as the encoder and the checksum use it. */
_Static_assert(offsetof(struct xp_rec_payload, checksum) == 104 &&
	       XP_REC_PAYLOAD % 8 == 0, "13 payload words, then the checksum");
_Static_assert(offsetof(struct xp_rec_payload, uuid) == 40 &&
	       offsetof(struct xp_rec_payload, name) == 72, "payload words");

/*
 * xp_rec_checksum() over payload words @p (the 13 before the checksum, as
 * little-endian values): the namespace UUID, the slot as le64, the
 * payload before the checksum, then eight zero bytes: 34 words. In blocks
 * of four that is 8 blocks and a half; the ninth block, zero, adds two
 * zero words more, which leave lo as it is and add 2 lo to hi: taken off
 * at the end.
 */
static inline __attribute__((__always_inline__)) uint64_t
rec_checksum_words(const uint8_t ns_uuid[16], uint32_t slot,
		   const uint64_t p[13])
{
	struct fl_state f = {{0, 0, 0, 0}, {0, 0, 0, 0}};
	uint64_t sum;

	fl_block(&f, ld64(ns_uuid), ld64(ns_uuid + 8));
	fl_block(&f, slot, p[0]);
	fl_block(&f, p[1], p[2]);
	fl_block(&f, p[3], p[4]);
	fl_block(&f, p[5], p[6]);
	fl_block(&f, p[7], p[8]);
	fl_block(&f, p[9], p[10]);
	fl_block(&f, p[11], p[12]);
	fl_block(&f, 0, 0);
	sum = fl_finish(&f);
	return sum - ((uint64_t)(2 * (uint32_t)sum) << 32);
}

uint64_t xp_rec_checksum(const uint8_t ns_uuid[16], uint32_t slot,
			 const uint8_t payload[XP_REC_PAYLOAD])
{
	uint64_t p[13];

	for (int i = 0; i < 13; i++)
		p[i] = ld64(payload + 8 * i);
	return rec_checksum_words(ns_uuid, slot, p);
}

/*
 * What xp_rec_scatter() of the payload with xp_rec_checksum() stored in
 * it gives, built in 64-bit words: an update encodes one record, and the
 * byte-wise payload, its checksum pass and the scatter were most of an
 * update's CPU time. tests/unit/test_format.c holds the two equal.
 */
void xp_rec_encode(const struct xp_sb *sb, uint32_t slot,
		   const struct xp_rec *rec, void *buf)
{

	const size_t sum_word = offsetof(struct xp_rec_payload, checksum) / 8;
	const uint64_t t = (uint64_t)xp_rec_tag(rec->seq) << 56;
	/* One word more than the payload: REC_WORD names p[k + 1] even
	 * where it does not use it. */
	uint64_t p[XP_REC_PAYLOAD / 8 + 1];
	uint8_t *out = buf;
	size_t i;

	p[0] = rec->seq;
	p[1] = XP_REC_MAGIC;
	/* Each word set once (zeroing the array first was a rep stos). */
	if (xp_rec_used(rec)) {
		bool ended = false;

		p[1] |= (uint64_t)rec->type << 32 |
			(uint64_t)rec->align_shift << 40 |
			(uint64_t)rec->flags << 48;
		p[2] = rec->offset;
		p[3] = rec->size;
		p[4] = rec->label_size;
		p[5] = ld64(rec->uuid);
		p[6] = ld64(rec->uuid + 8);
		p[7] = ld64(rec->owner);
		p[8] = ld64(rec->owner + 8);
		/* The name up to its NUL and at most XP_NAME_MAX bytes,
		 * NUL-padded, as the byte loop it replaces copied it. */
		for (i = 0; i < 4; i++) {
			uint64_t w = ld64((const uint8_t *)rec->name + 8 * i);

			p[9 + i] = ended ? 0 : below_first_zero(w, &ended);
		}
		p[12] &= WORD_LOW;
	} else {
		for (i = 2; i < sum_word; i++)
			p[i] = 0;
	}
	p[XP_REC_PAYLOAD / 8] = 0;
	p[sum_word] = rec_checksum_words(sb->ns_uuid, slot, p);

	st64_word(out + 0, REC_WORD(p, 0, t));
	st64_word(out + 8, REC_WORD(p, 1, t));
	st64_word(out + 16, REC_WORD(p, 2, t));
	st64_word(out + 24, REC_WORD(p, 3, t));
	st64_word(out + 32, REC_WORD(p, 4, t));
	st64_word(out + 40, REC_WORD(p, 5, t));
	st64_word(out + 48, REC_WORD(p, 6, t));
	st64_word(out + 56, REC_WORD(p, 7, t));
	st64_word(out + 64, REC_WORD(p, 8, t));
	st64_word(out + 72, REC_WORD(p, 9, t));
	st64_word(out + 80, REC_WORD(p, 10, t));
	st64_word(out + 88, REC_WORD(p, 11, t));
	st64_word(out + 96, REC_WORD(p, 12, t));
	st64_word(out + 104, REC_WORD(p, 13, t));
	st64_word(out + 112, REC_WORD(p, 14, t));
	st64_word(out + 120, REC_WORD(p, 15, t));
}

static void tag_mask_of(const uint8_t *copy, bool uniform, uint32_t mask[8])
{
	for (int i = 0; i < 8; i++)
		mask[i] = 0;
	/* Uniform tags, as a whole write leaves them: one bit. */
	if (uniform) {
		mask[copy[7] / 32] = 1u << (copy[7] % 32);
		return;
	}
	for (uint32_t k = 0; k < XP_REC_WORDS; k++) {
		uint8_t t = copy[k * 8 + 7];

		mask[t / 32] |= 1u << (t % 32);
	}
}

/*
 * Is the damaged copy @y newer than the valid copy with seq @xseq? A copy
 * with a valid checksum tells its seq; a damaged one only its (uniform)
 * tag, the low byte of its seq. The two copies of a slot hold consecutive
 * updates, whose seqs differ by far less than 128, so the tag's distance
 * modulo 256 decides. Equal cannot come from the protocol: not older.
 */
static bool damaged_is_newer(enum xp_fmt_status st, const uint8_t *ycopy,
			     const struct xp_rec *y, uint64_t xseq)
{
	uint8_t dist;

	if (st != XP_E_CHECKSUM)
		return y->seq >= xseq;
	dist = (uint8_t)(ycopy[7] - xp_rec_tag(xseq));
	return dist < 128;
}

void xp_slot_decode(const struct xp_sb *sb, uint32_t slot, const void *buf,
		    struct xp_slot *out)
{
	const uint8_t *raw = buf;
	struct xp_rec r[2];
	bool ok[2], uniform[2];
	int x, y;

	for (int c = 0; c < 2; c++) {
		out->copy_status[c] = xp_rec_decode(sb, slot, raw + c * XP_REC_SIZE,
						    &r[c], &out->copy_field[c]);
		ok[c] = out->copy_status[c] == XP_OK;
		uniform[c] = tags_uniform(raw + c * XP_REC_SIZE);
		tag_mask_of(raw + c * XP_REC_SIZE, uniform[c], out->tag_mask[c]);
	}
	out->active = -1;
	out->fallback = -1;
	out->stale_damaged = false;
	out->mixed_tags = false;
	out->state = XP_SLOT_CORRUPT;
	if (ok[0] && ok[1]) {
		if (r[0].seq == r[1].seq) {
			out->copy_field[0] = out->copy_field[1] = "seq";
			return;
		}
		out->active = r[1].seq > r[0].seq;
	} else if (ok[0] || ok[1]) {
		x = ok[0] ? 0 : 1;
		y = !x;
		switch (out->copy_status[y]) {
		case XP_E_BLANK:	/* never written */
		case XP_E_TORN:		/* an update cut short: roll back */
			out->active = x;
			break;
		default:
			/*
			 * Written whole and damaged since. Only if it is the
			 * older copy may the slot go on without it; a damaged
			 * current copy never rolls the slot back.
			 */
			if (damaged_is_newer(out->copy_status[y],
					     raw + y * XP_REC_SIZE, &r[y],
					     r[x].seq)) {
				out->fallback = x;
				out->fallback_rec = r[x];
				return;
			}
			out->active = x;
			out->stale_damaged = true;
			break;
		}
	} else {
		return;
	}
	out->rec = r[out->active];
	out->state = xp_rec_used(&out->rec) ? XP_SLOT_USED : XP_SLOT_FREE;
	out->mixed_tags = !uniform[out->active];
}

void xp_slot_set(struct xp_slot *s, int copy, const struct xp_rec *rec)
{
	uint8_t t = xp_rec_tag(rec->seq);

	s->active = copy;
	s->rec = *rec;
	s->copy_status[copy] = XP_OK;
	s->copy_field[copy] = NULL;
	for (int i = 0; i < 8; i++)
		s->tag_mask[copy][i] = 0;
	s->tag_mask[copy][t / 32] = 1u << (t % 32);
	s->stale_damaged = false;
	s->mixed_tags = false;
	s->fallback = -1;
	s->state = xp_rec_used(rec) ? XP_SLOT_USED : XP_SLOT_FREE;
}

void xp_slot_init(const struct xp_sb *sb, uint32_t slot, void *buf)
{
	struct xp_rec free_rec = {.seq = 1};

	bytes_zero(buf, XP_SLOT_SIZE);
	xp_rec_encode(sb, slot, &free_rec, buf);
}

bool xp_slot_pristine(const struct xp_sb *sb, uint32_t slot, const void *buf)
{
	const uint8_t *raw = buf;
	uint8_t want[XP_REC_SIZE];
	struct xp_rec free_rec;

	/* Copy 1 first: any slot ever updated fails there in a word or two. */
	if (!all_zero(raw + XP_REC_SIZE, XP_REC_SIZE))
		return false;
	bytes_zero((uint8_t *)&free_rec, sizeof(free_rec));
	free_rec.seq = 1;
	xp_rec_encode(sb, slot, &free_rec, want);
	return bytes_equal(raw, want, XP_REC_SIZE);
}

int xp_slot_next_copy(const struct xp_slot *s, uint64_t *seq)
{
	int target;
	uint64_t n;

	/*
	 * A slot with no trusted copy has no "other" copy to write: whatever
	 * seq we chose, a copy we cannot read might outrank it.
	 */
	if (s->active < 0)
		return -1;
	target = !s->active;
	/*
	 * The new copy's tag must differ from every tag the target copy's
	 * words carry now, so that any mix of old and new words shows mixed
	 * tags. 16 words carry at most 16 tags: one of 17 candidates is free.
	 */
	for (n = 1; n <= XP_REC_WORDS + 1; n++) {
		uint8_t t;

		if (s->rec.seq > UINT64_MAX - n)
			return -1;
		t = xp_rec_tag(s->rec.seq + n);
		if (!(s->tag_mask[target][t / 32] & (1u << (t % 32)))) {
			*seq = s->rec.seq + n;
			return target;
		}
	}
	return -1;
}

void xp_sort_idx(uint32_t *idx, uint32_t n,
		 int (*cmp)(uint32_t x, uint32_t y, const void *ctx),
		 const void *ctx)
{
	/* Heap sort: O(n log n), no recursion, no allocation. */
	for (uint32_t start = n / 2; start-- > 0;) {
		uint32_t root = start;

		for (;;) {
			uint32_t child = 2 * root + 1, tmp;

			if (child >= n)
				break;
			if (child + 1 < n && cmp(idx[child], idx[child + 1], ctx) < 0)
				child++;
			if (cmp(idx[root], idx[child], ctx) >= 0)
				break;
			tmp = idx[root];
			idx[root] = idx[child];
			idx[child] = tmp;
			root = child;
		}
	}
	for (uint32_t end = n; end-- > 1;) {
		uint32_t tmp = idx[0], root = 0;

		idx[0] = idx[end];
		idx[end] = tmp;
		for (;;) {
			uint32_t child = 2 * root + 1;

			if (child >= end)
				break;
			if (child + 1 < end &&
			    cmp(idx[child], idx[child + 1], ctx) < 0)
				child++;
			if (cmp(idx[root], idx[child], ctx) >= 0)
				break;
			tmp = idx[root];
			idx[root] = idx[child];
			idx[child] = tmp;
			root = child;
		}
	}
}

static int cmp_offset(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xp_slot *s = ctx;
	uint64_t a = s[x].rec.offset, b = s[y].rec.offset;

	return a < b ? -1 : a > b;
}

static int cmp_name(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xp_slot *s = ctx;
	const char *a = s[x].rec.name, *b = s[y].rec.name;

	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_uuid(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xp_slot *s = ctx;

	for (int i = 0; i < 16; i++)
		if (s[x].rec.uuid[i] != s[y].rec.uuid[i])
			return s[x].rec.uuid[i] - s[y].rec.uuid[i];
	return 0;
}

enum xp_fmt_status xp_table_check(const struct xp_slot *slots, uint32_t n,
				  uint32_t *scratch, uint32_t *a, uint32_t *b,
				  const char **why)
{
	uint32_t m = 0;

	*why = NULL;
	for (uint32_t i = 0; i < n; i++)
		if (slots[i].state == XP_SLOT_USED)
			scratch[m++] = i;

	xp_sort_idx(scratch, m, cmp_offset, slots);
	for (uint32_t i = 1; i < m; i++) {
		const struct xp_rec *p = &slots[scratch[i - 1]].rec;
		const struct xp_rec *q = &slots[scratch[i]].rec;

		/* Decoded records end inside the data area: no overflow. */
		if (p->offset + p->size > q->offset) {
			*a = scratch[i - 1];
			*b = scratch[i];
			*why = "extents overlap";
			return XP_E_LAYOUT;
		}
	}
	xp_sort_idx(scratch, m, cmp_name, slots);
	for (uint32_t i = 1; i < m; i++) {
		if (!cmp_name(scratch[i - 1], scratch[i], slots)) {
			*a = scratch[i - 1];
			*b = scratch[i];
			*why = "duplicate name";
			return XP_E_LAYOUT;
		}
	}
	xp_sort_idx(scratch, m, cmp_uuid, slots);
	for (uint32_t i = 1; i < m; i++) {
		if (!cmp_uuid(scratch[i - 1], scratch[i], slots)) {
			*a = scratch[i - 1];
			*b = scratch[i];
			*why = "duplicate uuid";
			return XP_E_LAYOUT;
		}
	}
	return XP_OK;
}

uint32_t xp_table_violations(const struct xp_slot *slots, uint32_t n,
			     uint32_t *scratch, xp_violation_fn fn, void *arg)
{
	uint32_t m = 0, pairs = 0;

	for (uint32_t i = 0; i < n; i++)
		if (slots[i].state == XP_SLOT_USED)
			scratch[m++] = i;

	/* Overlap: against the extent reaching furthest so far. */
	xp_sort_idx(scratch, m, cmp_offset, slots);
	for (uint32_t i = 1, far = 0; i < m; i++) {
		const struct xp_rec *p = &slots[scratch[far]].rec;
		const struct xp_rec *q = &slots[scratch[i]].rec;

		/* Decoded records end inside the data area: no overflow. */
		if (p->offset + p->size > q->offset) {
			pairs++;
			if (fn)
				fn(scratch[far], scratch[i], "extents overlap",
				   arg);
		}
		if (q->offset + q->size > p->offset + p->size)
			far = i;
	}
	xp_sort_idx(scratch, m, cmp_name, slots);
	for (uint32_t i = 1; i < m; i++) {
		if (cmp_name(scratch[i - 1], scratch[i], slots))
			continue;
		pairs++;
		if (fn)
			fn(scratch[i - 1], scratch[i], "duplicate name", arg);
	}
	xp_sort_idx(scratch, m, cmp_uuid, slots);
	for (uint32_t i = 1; i < m; i++) {
		if (cmp_uuid(scratch[i - 1], scratch[i], slots))
			continue;
		pairs++;
		if (fn)
			fn(scratch[i - 1], scratch[i], "duplicate uuid", arg);
	}
	return pairs;
}
