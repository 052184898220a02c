/* SPDX-License-Identifier: MIT */
/*
 * In-memory namespace images for the tests of the hv library (unit tests,
 * the isolation property test and the hv fuzzers), made by the format
 * encoder the way Dom0 makes them: xp_layout_solve() + xp_sb_encode() for
 * both superblocks, xp_slot_init() for every slot, and the update
 * protocol (xp_slot_next_copy() + xp_rec_encode()) for every change.
 *
 * The image is one lazily backed anonymous mapping, so a namespace of
 * gigabytes costs only the pages the test touches (superblocks, table).
 *
 * Its struct xphv_media is a checking one: a read outside [0, size) and
 * a write where the test does not allow one are violations. They fail the
 * access and are counted, the first one described in @why, so a test (or
 * a fuzzer) asserts that there were none.
 *
 * The checking p2m (struct hvp) shadows every frame of the data area:
 * which domain has it, at which gfn, for which extent. A map of a frame
 * outside the data area, of lent RAM, a frame mapped already, or one the
 * media does not give to that domain at map time (owner, type DATA, label
 * area excluded, the extent asked for, one gfn base) is a violation; so
 * is an unmap of anything not mapped exactly so. The oracle is the image
 * itself, decoded here with xp_slot_decode(), never the library's cache;
 * hvp_begin() also says (cur_soft) whether the table breaks a rule or
 * holds a corrupt slot elsewhere, which the library may not see.
 *
 * The ops recorder (struct hvo) keeps every ft_init_chunk and heap_add
 * call, and can make one fail.
 */
#ifndef HV_IMAGE_H
#define HV_IMAGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xp_format.h"
#include "xphv.h"

#define HVI_MiB (1ull << 20)
#define HVI_GiB (1ull << 30)
#define HVI_TiB (1ull << 40)
#define HVI_CHUNK (2 * HVI_MiB)
#define HVI_FRAMES_2M 512ull

/* Management area modes of hvi_spec.mgmt. */
enum { HVI_MGMT_NONE = 0, HVI_MGMT_XEN = 1, HVI_MGMT_XEN_NOCOMPAT = 2 };

/* What a write may touch (struct hvi.wmode). */
enum {
	HVI_W_NONE = 0,		/* no write at all */
	HVI_W_WINDOWS = 1,	/* only inside the allowed windows */
	HVI_W_ANY = 2,		/* anything inside the image */
};

#define HVI_MAX_WIN 16u
#define HVI_MAX_LOG 64u

struct hvi_spec {
	uint64_t ns_size;	/* bytes */
	uint64_t phys;		/* physical address of byte 0 */
	bool phys_known;	/* PHYS_KNOWN and phys_base = phys */
	uint32_t slots;
	uint32_t align_shift;	/* 21 or 30 */
	int mgmt;		/* HVI_MGMT_* */
	uint64_t generation;	/* 0: 1 */
	uint8_t uuid[16];	/* all zero: a fixed one */
};

struct hvi {
	uint8_t *buf;
	uint64_t size;		/* the namespace's bytes */
	size_t map_len;
	uint64_t phys;		/* where the test says it sits */
	struct xp_sb sb;	/* the superblock it was made with */

	/* media checks */
	int wmode;
	struct {
		uint64_t lo, hi;
	} win[HVI_MAX_WIN];
	unsigned nwin;
	unsigned long reads, writes, violations;
	char why[256];		/* first violation */
	long fail_read_in;	/* > 0: that many reads from now fails */
	long fail_write_in;
	struct {
		uint64_t off, len;
	} wlog[HVI_MAX_LOG];	/* the writes, first HVI_MAX_LOG */
	unsigned nwlog;
	struct xphv_media m;
};

static const uint8_t hvi_default_uuid[16] = {0x6a, 0x1c, 0x0e, 0x93, 0x2f, 0x44,
					     0x4b, 0x71, 0x9d, 0x10, 0xc3, 0x58,
					     0x0b, 0xe2, 0x7f, 0x26};

/* The name of a refusal reason (enum xphv_reason), for messages. */
static inline const char *hvi_rname(uint32_t r)
{
	static const char *const n[] = {
		"OK", "IO", "ARGS", "RANGE", "SB_NONE", "SB_DIFFER",
		"SB_INVALID", "VERSION", "UUID", "GENERATION", "SIZE",
		"MOVED", "ZERO_BLOCK", "SLOT_CORRUPT", "EXTENT_OUTSIDE",
		"EXTENT_ALIGN", "OVERLAP", "DUP_UUID", "DUP_NAME", "NO_MGMT",
		"GEOMETRY", "ALIGN", "PDX", "LIMIT", "MGMT_SMALL",
		"LENT_ALIGN", "RAM_OVERLAP", "NS_OVERLAP", "FULL", "BUSY",
		"LENT", "NOT_REGISTERED", "NO_EXTENT", "NOT_OWNER",
		"NOT_DATA", "MAPPED", "NOT_MAPPED", "GFN", "P2M", "CHANGED",
		"META_RANGE", "META_RECORD", "META_SEQ", "META_COPY",
		"META_MAPPED", "HEAP", "LABEL", "ABI", "TABLE", "COMPAT",
		"NO_DOMAIN", "FRAME_MAPPED",
	};

	return r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

static inline void hvi_violation(struct hvi *im, const char *fmt, ...)
{
	va_list ap;

	if (!im->violations++) {
		va_start(ap, fmt);
		vsnprintf(im->why, sizeof(im->why), fmt, ap);
		va_end(ap);
	}
}

static inline int hvi_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
	struct hvi *im = ctx;

	im->reads++;
	if (im->fail_read_in > 0 && --im->fail_read_in == 0)
		return -5;
	if (off > im->size || len > im->size - off) {
		hvi_violation(im, "read [%#llx, +%#llx) outside the %#llx bytes",
			      (unsigned long long)off, (unsigned long long)len,
			      (unsigned long long)im->size);
		return -5;
	}
	memcpy(buf, im->buf + off, len);
	return 0;
}

static inline bool hvi_write_allowed(const struct hvi *im, uint64_t off,
				     uint64_t len)
{
	if (im->wmode == HVI_W_ANY)
		return true;
	if (im->wmode == HVI_W_NONE)
		return false;
	for (unsigned i = 0; i < im->nwin; i++)
		if (off >= im->win[i].lo && off + len <= im->win[i].hi)
			return true;
	return false;
}

static inline int hvi_write(void *ctx, uint64_t off, const void *buf,
			    uint64_t len)
{
	struct hvi *im = ctx;

	im->writes++;
	if (im->fail_write_in > 0 && --im->fail_write_in == 0)
		return -5;
	if (off > im->size || len > im->size - off) {
		hvi_violation(im, "write [%#llx, +%#llx) outside the %#llx bytes",
			      (unsigned long long)off, (unsigned long long)len,
			      (unsigned long long)im->size);
		return -5;
	}
	if (!hvi_write_allowed(im, off, len)) {
		hvi_violation(im, "write [%#llx, +%#llx) not allowed (mode %d)",
			      (unsigned long long)off, (unsigned long long)len,
			      im->wmode);
		return -5;
	}
	if (im->nwlog < HVI_MAX_LOG) {
		im->wlog[im->nwlog].off = off;
		im->wlog[im->nwlog].len = len;
		im->nwlog++;
	}
	memcpy(im->buf + off, buf, len);
	return 0;
}

static inline void hvi_allow(struct hvi *im, uint64_t lo, uint64_t hi)
{
	if (im->nwin < HVI_MAX_WIN) {
		im->win[im->nwin].lo = lo;
		im->win[im->nwin].hi = hi;
		im->nwin++;
	}
}

/* Only the management area may be written (what register and map may do). */
static inline void hvi_allow_mgmt(struct hvi *im)
{
	im->wmode = HVI_W_WINDOWS;
	im->nwin = 0;
	hvi_allow(im, im->sb.mgmt_offset, im->sb.mgmt_offset + im->sb.mgmt_size);
}

/* The superblock a spec determines; XP_OK or why not. */
static inline enum xp_fmt_status hvi_make_sb(const struct hvi_spec *s,
					     struct xp_sb *sb)
{
	struct xp_layout_params p;
	struct xp_layout l;
	const char *why;
	enum xp_fmt_status st;

	memset(&p, 0, sizeof(p));
	p.ns_size = s->ns_size;
	p.phys_base = s->phys_known ? s->phys : 0;
	p.slot_count = s->slots;
	p.align_shift = s->align_shift;
	if (s->mgmt != HVI_MGMT_NONE)
		xp_mgmt_geom_xen(&p.geom, s->mgmt == HVI_MGMT_XEN);
	memset(sb, 0, sizeof(*sb));
	st = xp_layout_solve(&p, &l, &why);
	if (st != XP_OK)
		return st;
	sb->major = XP_FMT_MAJOR;
	sb->minor = XP_FMT_MINOR;
	sb->header_size = XP_SB_SIZE;
	sb->compat = s->phys_known ? XP_SB_F_PHYS_KNOWN : 0;
	if (xp_uuid_is_nil(s->uuid))
		memcpy(sb->ns_uuid, hvi_default_uuid, 16);
	else
		memcpy(sb->ns_uuid, s->uuid, 16);
	sb->generation = s->generation ? s->generation : 1;
	sb->ns_size = s->ns_size;
	sb->phys_base = p.phys_base;
	sb->init_time = 1700000000000000000ull;
	sb->table_offset = XP_TABLE_OFFSET;
	sb->slot_count = s->slots;
	sb->slot_size = XP_SLOT_SIZE;
	sb->rec_size = XP_REC_SIZE;
	sb->page_shift = XP_PAGE_SHIFT;
	sb->align_shift = s->align_shift;
	sb->geom = p.geom;
	sb->chunks = l.chunks;
	sb->mgmt_offset = l.mgmt_offset;
	sb->mgmt_size = l.mgmt_size;
	sb->data_offset = l.data_offset;
	sb->data_size = l.data_size;
	return XP_OK;
}

static inline uint8_t *hvi_slot(struct hvi *im, uint32_t slot)
{
	return im->buf + xp_slot_offset(slot);
}

/* Write both superblock copies from im->sb (as init and repair do). */
static inline void hvi_write_sbs(struct hvi *im)
{
	xp_sb_encode(&im->sb, true, im->buf + im->size - XP_SB_BLOCK);
	xp_sb_encode(&im->sb, false, im->buf);
}

static inline void hvi_attach_media(struct hvi *im)
{
	im->m.read = hvi_read;
	im->m.write = hvi_write;
	im->m.ctx = im;
}

/* An empty namespace as init leaves it; 0, or -1 when @s does not solve. */
static inline int hvi_init(struct hvi *im, const struct hvi_spec *s)
{
	void *p;

	memset(im, 0, sizeof(*im));
	if (hvi_make_sb(s, &im->sb) != XP_OK)
		return -1;
	im->size = s->ns_size;
	im->phys = s->phys;
	im->map_len = (size_t)s->ns_size;
	p = mmap(NULL, im->map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	im->buf = p;
	for (uint32_t i = 0; i < s->slots; i++)
		xp_slot_init(&im->sb, i, hvi_slot(im, i));
	hvi_write_sbs(im);
	hvi_attach_media(im);
	return 0;
}

static inline void hvi_free(struct hvi *im)
{
	if (im->buf)
		munmap(im->buf, im->map_len);
	im->buf = NULL;
}

static inline void hvi_reset_checks(struct hvi *im)
{
	im->reads = im->writes = im->violations = 0;
	im->why[0] = 0;
	im->nwlog = 0;
	im->fail_read_in = im->fail_write_in = 0;
}

static inline void hvi_decode(const struct hvi *im, uint32_t slot,
			      struct xp_slot *s)
{
	xp_slot_decode(&im->sb, slot, im->buf + xp_slot_offset(slot), s);
}

/*
 * Dom0's update of one slot, by the protocol: the copy that is not
 * current gets the next seq whose tag no word of it carries. A copy
 * neither valid nor blank first gets its word 0 alone (docs/format.md,
 * "Update protocol"). Returns the copy written, -1 for a corrupt slot.
 */
static inline int hvi_update(struct hvi *im, uint32_t slot,
			     const struct xp_rec *rec)
{
	struct xp_slot s;
	struct xp_rec r = *rec;
	uint8_t nc[XP_REC_SIZE];
	uint8_t *dst;
	uint64_t seq;
	int c;

	hvi_decode(im, slot, &s);
	c = xp_slot_next_copy(&s, &seq);
	if (c < 0)
		return -1;
	r.seq = seq;
	xp_rec_encode(&im->sb, slot, &r, nc);
	dst = hvi_slot(im, slot) + c * XP_REC_SIZE;
	memcpy(dst, nc, XP_REC_SIZE);
	return c;
}

/* Like hvi_update(), but only the words in @mask land (a crash). */
static inline int hvi_update_torn(struct hvi *im, uint32_t slot,
				  const struct xp_rec *rec, uint32_t mask)
{
	struct xp_slot s;
	struct xp_rec r = *rec;
	uint8_t nc[XP_REC_SIZE];
	uint64_t seq;
	int c;

	hvi_decode(im, slot, &s);
	c = xp_slot_next_copy(&s, &seq);
	if (c < 0)
		return -1;
	r.seq = seq;
	xp_rec_encode(&im->sb, slot, &r, nc);
	for (uint32_t k = 0; k < XP_REC_WORDS; k++)
		if (mask >> k & 1)
			memcpy(hvi_slot(im, slot) + c * XP_REC_SIZE + k * 8,
			       nc + k * 8, 8);
	return c;
}

/* The record copy an update of @slot to @rec would write, and where. */
static inline int hvi_next_copy(const struct hvi *im, uint32_t slot,
				const struct xp_rec *rec, uint8_t *copy)
{
	struct xp_slot s;
	struct xp_rec r = *rec;
	uint64_t seq;
	int c;

	hvi_decode(im, slot, &s);
	c = xp_slot_next_copy(&s, &seq);
	if (c < 0)
		return -1;
	r.seq = seq;
	xp_rec_encode(&im->sb, slot, &r, copy);
	return c;
}

/* A uuid from a small number (distinct numbers, distinct uuids). */
static inline void hvi_uuid(uint8_t u[16], uint32_t n, uint8_t kind)
{
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)(kind + 7 * i);
	u[0] = kind;
	u[12] = (uint8_t)n;
	u[13] = (uint8_t)(n >> 8);
	u[14] = (uint8_t)(n >> 16);
	u[15] = (uint8_t)(n >> 24 | 0x80);
}

/*
 * A data extent: 2 MiB units [@unit, @unit + @units) of the data area,
 * named "x<id>", uuid from @id, owned by @owner (NULL: nobody).
 */
static inline struct xp_rec hvi_rec(const struct hvi *im, uint64_t unit,
				    uint64_t units, uint32_t id,
				    const uint8_t *owner, uint64_t label)
{
	struct xp_rec r;

	memset(&r, 0, sizeof(r));
	r.type = XP_REC_DATA;
	r.align_shift = XP_ALIGN_2M_SHIFT;
	r.offset = im->sb.data_offset + unit * HVI_CHUNK;
	r.size = units * HVI_CHUNK;
	r.label_size = label;
	hvi_uuid(r.uuid, id, 0xe0);
	if (owner)
		memcpy(r.owner, owner, 16);
	snprintf(r.name, sizeof(r.name), "x%u", id);
	return r;
}

static inline uint64_t hvi_data_units(const struct hvi *im)
{
	return im->sb.data_size / HVI_CHUNK;
}

static inline uint64_t hvi_mfn(const struct hvi *im, uint64_t off)
{
	return (im->phys + off) >> XP_PAGE_SHIFT;
}

/*
 * Probe + validate into caller-sized storage (malloc'ed here; freed by
 * hvi_ns_free). Returns 0 or -1 with @why.
 */
struct hvi_ns {
	struct xphv_ns ns;
	struct xphv_need need;
	struct xphv_storage st;
};

static inline int hvi_validate(struct hvi *im, struct hvi_ns *h,
			       const struct xphv_expect *exp,
			       const struct xphv_geom *g, uint32_t lent_cap,
			       struct xphv_refusal *why)
{
	struct xphv_expect none;

	memset(h, 0, sizeof(*h));
	if (!exp) {
		memset(&none, 0, sizeof(none));
		exp = &none;
	}
	if (xphv_probe(&h->ns, &im->m, im->phys, im->size, &h->need, why))
		return -1;
	h->st.ext = calloc(h->need.slot_count + 1, sizeof(*h->st.ext));
	h->st.scratch = calloc(h->need.slot_count + 1, sizeof(*h->st.scratch));
	h->st.ft_ready = calloc(h->need.ft_ready_words + 1,
				sizeof(*h->st.ft_ready));
	h->st.lent_cap = lent_cap;
	h->st.lent = calloc(lent_cap + 1, sizeof(*h->st.lent));
	if (!h->st.ext || !h->st.scratch || !h->st.ft_ready || !h->st.lent)
		abort();
	return xphv_validate(&h->ns, exp, g, &h->st, why);
}

static inline void hvi_ns_free(struct hvi_ns *h)
{
	free(h->st.ext);
	free(h->st.scratch);
	free(h->st.ft_ready);
	free(h->st.lent);
	memset(&h->st, 0, sizeof(h->st));
}

/* ---- A PDX translation with one hole (a non-identity pfn_to_pdx) ------- */

struct hvi_pdx {
	uint64_t lo, hi;	/* MFNs [lo, hi) are the hole */
	bool keep;		/* PDXs above the hole not compressed */
	unsigned long calls;
};

static inline uint64_t hvi_pdx_fn(void *ctx, uint64_t mfn)
{
	struct hvi_pdx *p = ctx;

	p->calls++;
	if (mfn < p->lo)
		return mfn;
	if (mfn < p->hi)
		return XPHV_INVALID_PDX;
	return p->keep ? mfn : mfn - (p->hi - p->lo);
}

/* ---- The ops callbacks, recorded --------------------------------------- */

#define HVO_MAX_INIT 4096u

struct hvo {
	struct {
		uint64_t chunk, backing, mfn, nr;
	} init[HVO_MAX_INIT];
	unsigned ninit;
	bool init_overflow;
	struct {
		uint64_t mfn, nr;
	} heap[64];
	unsigned nheap;
	long fail_init_in, fail_heap_in;
	struct xphv_ops ops;
};

static inline int hvo_ft_init(void *ctx, uint64_t chunk, uint64_t backing,
			      uint64_t mfn, uint64_t nr)
{
	struct hvo *o = ctx;

	if (o->fail_init_in > 0 && --o->fail_init_in == 0)
		return -5;
	if (o->ninit == HVO_MAX_INIT) {
		o->init_overflow = true;
		return 0;
	}
	o->init[o->ninit].chunk = chunk;
	o->init[o->ninit].backing = backing;
	o->init[o->ninit].mfn = mfn;
	o->init[o->ninit].nr = nr;
	o->ninit++;
	return 0;
}

static inline int hvo_heap_add(void *ctx, uint64_t mfn, uint64_t nr)
{
	struct hvo *o = ctx;

	if (o->fail_heap_in > 0 && --o->fail_heap_in == 0)
		return -12;
	if (o->nheap < 64) {
		o->heap[o->nheap].mfn = mfn;
		o->heap[o->nheap].nr = nr;
		o->nheap++;
	}
	return 0;
}

static inline void hvo_init(struct hvo *o)
{
	memset(o, 0, sizeof(*o));
	o->ops.ft_init_chunk = hvo_ft_init;
	o->ops.heap_add = hvo_heap_add;
	o->ops.ctx = o;
}

/* How often frame-table chunk @chunk was initialised. */
static inline unsigned hvo_inits_of(const struct hvo *o, uint64_t chunk)
{
	unsigned n = 0;

	for (unsigned i = 0; i < o->ninit; i++)
		n += o->init[i].chunk == chunk;
	return n;
}

/* ---- The checking p2m -------------------------------------------------- */

#define HVP_MAX_DOMS 64u
#define HVP_MAX_NS 4u
#define HVP_MAX_EXT 4096u
#define HVP_MAX_MATCH 8u
#define HVP_MAX_RAM 16u

struct hvp_frame {
	uint16_t dom;		/* 0: not mapped (tests never use domid 0) */
	uint16_t ext;		/* hvp_ext_id() of the extent asked for */
	uint32_t pad;
	uint64_t gfn;
};

struct hvp {
	/* the images (one per namespace registered) */
	struct hvi *img[HVP_MAX_NS];
	uint64_t lo_mfn[HVP_MAX_NS];	/* data area frames of each */
	uint64_t nfr[HVP_MAX_NS];
	struct hvp_frame *fr[HVP_MAX_NS];
	unsigned nimg;

	/* frames lent to the hypervisor as RAM: never a guest's */
	struct {
		uint64_t lo, hi;
	} ram[HVP_MAX_RAM];
	unsigned nram;

	/* extent uuids seen, for hvp_frame.ext */
	uint8_t ext_uuid[HVP_MAX_EXT][16];
	unsigned next;

	/* domains: domid -> uuid as the test made them */
	uint8_t dom_uuid[HVP_MAX_DOMS][16];
	bool dom_alive[HVP_MAX_DOMS];

	/* the call in flight, set by hvp_begin() */
	int cur_img;
	uint16_t cur_dom;
	uint8_t cur_ext[16];
	uint16_t cur_ext_id;
	uint64_t cur_gfn;	/* gfn the test asked for */
	/* the used slots holding that uuid on media at map time */
	uint32_t ncur;
	uint32_t cur_slot[HVP_MAX_MATCH];
	struct xp_rec cur_rec[HVP_MAX_MATCH];
	/* the media allows the map only in a way the hv cannot see from the
	 * slot alone: another slot corrupt, or a table rule broken */
	bool cur_soft;
	int cur_match;		/* the record the first frame fell in */

	/* counters */
	unsigned long maps, unmaps, frames_mapped, frames_unmapped, orders9;
	unsigned long violations;
	char why[256];
	long fail_map_in;	/* > 0: that many map calls from now fails */
	struct xphv_p2m p2m;
};

static inline void hvp_violation(struct hvp *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->violations++) {
		va_start(ap, fmt);
		vsnprintf(p->why, sizeof(p->why), fmt, ap);
		va_end(ap);
	}
}

/* Which image holds @mfn in its data area; -1 when none. */
static inline int hvp_img_of(const struct hvp *p, uint64_t mfn)
{
	for (unsigned i = 0; i < p->nimg; i++)
		if (p->img[i] && mfn >= p->lo_mfn[i] &&
		    mfn - p->lo_mfn[i] < p->nfr[i])
			return (int)i;
	return -1;
}

/* A small number for an extent uuid, 1.. (0 when the table is full). */
static inline uint16_t hvp_ext_id(struct hvp *p, const uint8_t uuid[16])
{
	for (unsigned i = 0; i < p->next; i++)
		if (!memcmp(p->ext_uuid[i], uuid, 16))
			return (uint16_t)(i + 1);
	if (p->next == HVP_MAX_EXT)
		return 0;
	memcpy(p->ext_uuid[p->next++], uuid, 16);
	return (uint16_t)p->next;
}

static inline struct hvp_frame *hvp_frame(struct hvp *p, int i, uint64_t mfn)
{
	return &p->fr[i][mfn - p->lo_mfn[i]];
}

static inline bool hvp_rules(const struct xp_rec *x, const struct xp_rec *y)
{
	return (x->offset < y->offset + y->size &&
		y->offset < x->offset + x->size) ||
	       !memcmp(x->uuid, y->uuid, 16) || !strcmp(x->name, y->name);
}

/* Does record @r give frame @mfn of image @im to @domid? */
static inline bool hvp_gives(const struct hvp *p, const struct hvi *im,
			     const struct xp_rec *r, uint16_t domid,
			     uint64_t mfn)
{
	uint64_t lo = (im->phys + r->offset) >> XP_PAGE_SHIFT;
	uint64_t hi = lo + ((r->size - r->label_size) >> XP_PAGE_SHIFT);

	return r->type == XP_REC_DATA && mfn >= lo && mfn < hi &&
	       domid < HVP_MAX_DOMS && p->dom_alive[domid] &&
	       !memcmp(r->owner, p->dom_uuid[domid], 16);
}

static inline int hvp_map(void *ctx, uint16_t domid, uint64_t gfn,
			  uint64_t mfn, uint32_t order)
{
	struct hvp *p = ctx;
	uint64_t n = 1ull << order;
	int i = p->cur_img;
	struct hvi *im;

	p->maps++;
	if (p->fail_map_in > 0 && --p->fail_map_in == 0)
		return -12;
	if (order != 0 && order != 9) {
		hvp_violation(p, "map order %u", order);
		return -22;
	}
	if (order == 9) {
		p->orders9++;
		if ((gfn | mfn) & (HVI_FRAMES_2M - 1))
			hvp_violation(p, "2M map of gfn %#llx mfn %#llx unaligned",
				      (unsigned long long)gfn,
				      (unsigned long long)mfn);
	}
	if (i < 0 || (unsigned)i >= p->nimg || !p->img[i]) {
		hvp_violation(p, "map outside a call (dom %u mfn %#llx)", domid,
			      (unsigned long long)mfn);
		return -22;
	}
	im = p->img[i];
	if (domid != p->cur_dom)
		hvp_violation(p, "map for dom %u during a map for dom %u",
			      domid, p->cur_dom);
	if (!p->ncur) {
		hvp_violation(p, "dom %u: mfn %#llx mapped, the extent is on no slot at map time",
			      domid, (unsigned long long)mfn);
		return -22;
	}
	for (uint64_t k = 0; k < n; k++) {
		struct hvp_frame *f;
		int j = hvp_img_of(p, mfn + k);
		bool ok = false;

		for (uint32_t m = 0; m < p->ncur && !ok; m++) {
			const struct xp_rec *r = &p->cur_rec[m];
			uint64_t lo = (im->phys + r->offset) >> XP_PAGE_SHIFT;

			if (!hvp_gives(p, im, r, domid, mfn + k))
				continue;
			if (p->cur_match < 0)
				p->cur_match = (int)m;
			/* one extent, one gfn base */
			ok = gfn + k - p->cur_gfn == mfn + k - lo &&
			     p->cur_match == (int)m;
		}
		if (!ok)
			hvp_violation(p, "dom %u: mfn %#llx at gfn %#llx: not a data frame the media gives it at map time (slot %u, base gfn %#llx)",
				      domid, (unsigned long long)(mfn + k),
				      (unsigned long long)(gfn + k),
				      p->cur_slot[0],
				      (unsigned long long)p->cur_gfn);
		for (unsigned r = 0; r < p->nram; r++)
			if (mfn + k >= p->ram[r].lo && mfn + k < p->ram[r].hi)
				hvp_violation(p, "dom %u: mfn %#llx is lent RAM",
					      domid,
					      (unsigned long long)(mfn + k));
		if (j < 0) {
			hvp_violation(p, "dom %u: mfn %#llx is in no data area",
				      domid, (unsigned long long)(mfn + k));
			continue;
		}
		f = hvp_frame(p, j, mfn + k);
		if (f->dom) {
			hvp_violation(p, "mfn %#llx mapped twice (dom %u, then dom %u)",
				      (unsigned long long)(mfn + k), f->dom,
				      domid);
			continue;
		}
		f->dom = domid;
		f->gfn = gfn + k;
		f->ext = p->cur_ext_id;
		p->frames_mapped++;
	}
	return 0;
}

static inline int hvp_unmap(void *ctx, uint16_t domid, uint64_t gfn,
			    uint64_t mfn, uint32_t order)
{
	struct hvp *p = ctx;
	uint64_t n = 1ull << order;

	p->unmaps++;
	if (order != 0 && order != 9)
		hvp_violation(p, "unmap order %u", order);
	for (uint64_t k = 0; k < n; k++) {
		struct hvp_frame *f;
		int j = hvp_img_of(p, mfn + k);

		if (j < 0) {
			hvp_violation(p, "unmap of mfn %#llx, in no data area",
				      (unsigned long long)(mfn + k));
			continue;
		}
		f = hvp_frame(p, j, mfn + k);
		if (f->dom != domid || f->gfn != gfn + k) {
			hvp_violation(p, "unmap dom %u gfn %#llx mfn %#llx: shadow has dom %u gfn %#llx",
				      domid, (unsigned long long)(gfn + k),
				      (unsigned long long)(mfn + k), f->dom,
				      (unsigned long long)f->gfn);
			continue;
		}
		f->dom = 0;
		f->gfn = 0;
		f->ext = 0;
		p->frames_unmapped++;
	}
	return 0;
}

static inline void hvp_init(struct hvp *p)
{
	memset(p, 0, sizeof(*p));
	p->cur_img = -1;
	p->p2m.map = hvp_map;
	p->p2m.unmap = hvp_unmap;
	p->p2m.ctx = p;
}

/* Shadow the data area of @im as image @i (its frames all unmapped). */
static inline void hvp_add_img(struct hvp *p, unsigned i, struct hvi *im)
{
	p->img[i] = im;
	p->lo_mfn[i] = hvi_mfn(im, im->sb.data_offset);
	p->nfr[i] = im->sb.data_size >> XP_PAGE_SHIFT;
	free(p->fr[i]);
	p->fr[i] = calloc(p->nfr[i] + 1, sizeof(struct hvp_frame));
	if (!p->fr[i])
		abort();
	if (i >= p->nimg)
		p->nimg = i + 1;
}

static inline void hvp_fini(struct hvp *p)
{
	for (unsigned i = 0; i < HVP_MAX_NS; i++)
		free(p->fr[i]);
	memset(p->fr, 0, sizeof(p->fr));
}

static inline void hvp_domain(struct hvp *p, uint16_t domid,
			      const uint8_t uuid[16])
{
	memcpy(p->dom_uuid[domid], uuid, 16);
	p->dom_alive[domid] = true;
}

static inline void hvp_add_ram(struct hvp *p, uint64_t lo, uint64_t hi)
{
	if (p->nram < HVP_MAX_RAM) {
		p->ram[p->nram].lo = lo;
		p->ram[p->nram].hi = hi;
		p->nram++;
	}
}

/*
 * Before an xphv_map of @ext for @domid at @gfn on image @i: what the
 * media says at map time. Returns whether a slot holding @ext gives its
 * data frames to @domid (owner, type DATA); p->cur_soft says whether the
 * table also breaks a rule or holds a corrupt slot (the library checks
 * the slot it maps against what it cached, not the whole table).
 */
static inline bool hvp_begin(struct hvp *p, unsigned i, uint16_t domid,
			     const uint8_t ext[16], uint64_t gfn)
{
	struct hvi *im = p->img[i];
	uint32_t n = im->sb.slot_count;
	bool any = false;
	struct xp_slot s, t;

	p->cur_img = (int)i;
	p->cur_dom = domid;
	memcpy(p->cur_ext, ext, 16);
	p->cur_gfn = gfn;
	p->cur_ext_id = hvp_ext_id(p, ext);
	p->ncur = 0;
	p->cur_soft = false;
	p->cur_match = -1;
	for (uint32_t k = 0; k < n; k++) {
		hvi_decode(im, k, &s);
		if (s.state == XP_SLOT_CORRUPT)
			p->cur_soft = true;
		if (s.state != XP_SLOT_USED || memcmp(s.rec.uuid, ext, 16) ||
		    p->ncur == HVP_MAX_MATCH)
			continue;
		p->cur_slot[p->ncur] = k;
		p->cur_rec[p->ncur++] = s.rec;
		for (uint32_t j = 0; j < n; j++) {
			if (j == k)
				continue;
			hvi_decode(im, j, &t);
			if (t.state == XP_SLOT_USED && hvp_rules(&s.rec, &t.rec))
				p->cur_soft = true;
		}
		if (s.rec.type == XP_REC_DATA && domid < HVP_MAX_DOMS &&
		    p->dom_alive[domid] &&
		    !memcmp(s.rec.owner, p->dom_uuid[domid], 16))
			any = true;
	}
	return any;
}

static inline void hvp_end(struct hvp *p)
{
	p->cur_img = -1;
	p->ncur = 0;
}

/* Frames of image @i mapped to @domid (0: to anyone), of extent @ext
 * (NULL: of any). */
static inline uint64_t hvp_count(struct hvp *p, unsigned i, uint16_t domid,
				 const uint8_t *ext)
{
	uint16_t id = ext ? hvp_ext_id(p, ext) : 0;
	uint64_t c = 0;

	for (uint64_t k = 0; k < p->nfr[i]; k++) {
		const struct hvp_frame *f = &p->fr[i][k];

		if (!f->dom || (domid && f->dom != domid) || (id && f->ext != id))
			continue;
		c++;
	}
	return c;
}

#endif /* HV_IMAGE_H */
