/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the library tests (tests/lib): the minimal case runner
 * of tests/unit (ends with "N passed, M failed", exits non-zero on any
 * failure), plus in-memory namespace images and a media wrapper that
 * records every write the library makes, so a test can assert "nothing
 * was written" or "exactly one 128-byte record copy was written"; check
 * findings (with their fix commands), metadata snapshots, and editing of
 * format 2.0 record copies (payload scattered over tagged words).
 */
#ifndef XP_LIB_TEST_H
#define XP_LIB_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "xp_internal.h"

/* ---- case runner: tests/unit/xp_test.h, plus the library's checks ------ */

#include "xp_test.h"

/* Return codes: print both and the library's last error. */
#define CHECK_RC(got, want)                                                  \
	do {                                                                 \
		int xt_g_ = (got), xt_w_ = (want);                           \
		CHECK_MSG(xt_g_ == xt_w_, "rc %d (%s), want %d (%s); last error: %s", \
			  xt_g_, xt_g_ < 0 ? strerror(-xt_g_) : "-", xt_w_,  \
			  xt_w_ < 0 ? strerror(-xt_w_) : "-", xp_last_error()); \
	} while (0)

#define CHECK_CONTAINS(hay, needle)                                          \
	do {                                                                 \
		const char *xt_h_ = (hay), *xt_n_ = (needle);                \
		CHECK_MSG(xt_h_ && strstr(xt_h_, xt_n_),                     \
			  "\"%s\" does not contain \"%s\"",                  \
			  xt_h_ ? xt_h_ : "(null)", xt_n_);                  \
	} while (0)


/* xt_init, and the host's environment must not inject bad blocks. */
static void lib_test_init(int argc, char **argv)
{
	xt_init(argc, argv);
	unsetenv("XENPMEM_BADBLOCKS_FILE");
}


#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)

/* ---- images ---------------------------------------------------------------
 * Anonymous, lazily backed mappings: a 4 GiB image costs only the pages the
 * library (or the test) touches; untouched pages read as zero.
 */
__attribute__((unused))
static uint8_t *img_new(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

__attribute__((unused))
static void img_free(uint8_t *img, uint64_t size)
{
	if (img)
		munmap(img, size);
}

/* ---- a media that records writes ---------------------------------------- */

struct tm_write {
	uint64_t off, len;
	int zero;		/* through ops->zero (wipe) */
};

struct tmedia {
	struct xp_media m;	/* first: the library sees only this */
	const struct xp_media_ops *inner;
	struct tm_write log[64];
	unsigned nwrites;	/* total, may exceed the log */
	unsigned nflush, ndrain;
	/* Faults (tm_fail_*): the drain with this ndrain fails with EIO, as
	 * a failed fdatasync does; reads touching [bad_off, bad_off +
	 * bad_len) fail with bad_err, as a read of poison does. */
	unsigned fail_drain;
	uint64_t bad_off, bad_len;
	int bad_err;
};

static const struct xp_media_ops *tm_mem_ops(void)
{
	static const struct xp_media_ops *ops;

	if (!ops) {
		static uint8_t dummy[8];
		struct xp_media *m = xp_media_mem_new(dummy, sizeof(dummy));

		ops = m->ops;
		xp_media_close(m);
	}
	return ops;
}

static struct tmedia *tm_of(struct xp_media *m)
{
	return (struct tmedia *)m;
}

static void tm_log(struct tmedia *t, uint64_t off, uint64_t len, int zero)
{
	if (t->nwrites < sizeof(t->log) / sizeof(t->log[0]))
		t->log[t->nwrites] = (struct tm_write){off, len, zero};
	t->nwrites++;
}

static int tm_read(struct xp_media *m, uint64_t off, void *buf, size_t len)
{
	struct tmedia *t = tm_of(m);

	if (t->bad_len && off < t->bad_off + t->bad_len &&
	    t->bad_off < off + len)
		return xp_err(t->bad_err, m->target, "read at %#" PRIx64 ": %s",
			      off, strerror(t->bad_err));
	return t->inner->read(m, off, buf, len);
}

static int tm_write_op(struct xp_media *m, uint64_t off, const void *buf,
		       size_t len)
{
	tm_log(tm_of(m), off, len, 0);
	return tm_of(m)->inner->write(m, off, buf, len);
}

static int tm_flush(struct xp_media *m, uint64_t off, size_t len)
{
	tm_of(m)->nflush++;
	return tm_of(m)->inner->flush(m, off, len);
}

static int tm_drain(struct xp_media *m)
{
	struct tmedia *t = tm_of(m);

	if (++t->ndrain == t->fail_drain)
		return xp_err(EIO, m->target, "fdatasync: %s", strerror(EIO));
	return t->inner->drain(m);
}

static int tm_zero(struct xp_media *m, uint64_t off, uint64_t len,
		   xp_progress_fn progress, void *arg)
{
	tm_log(tm_of(m), off, len, 1);
	return tm_of(m)->inner->zero(m, off, len, progress, arg);
}

static void tm_close(struct xp_media *m)
{
	free(tm_of(m));
}

static const struct xp_media_ops tm_ops = {
	.read = tm_read,
	.write = tm_write_op,
	.flush = tm_flush,
	.drain = tm_drain,
	.zero = tm_zero,
	.close = tm_close,
};

/* A media over @img (the mem backend underneath) that logs writes. */
__attribute__((unused))
static struct xp_media *tm_new(uint8_t *img, uint64_t size, int phys_known,
			       uint64_t phys_base)
{
	struct tmedia *t = calloc(1, sizeof(*t));

	if (!t)
		exit(2);
	t->inner = tm_mem_ops();
	t->m.ops = &tm_ops;
	t->m.kind = XP_BACKEND_FILE;
	t->m.size = size;
	t->m.fd = -1;
	t->m.writable = 1;
	t->m.priv = img;
	strcpy(t->m.path, "(memory)");
	strcpy(t->m.target, "(memory)");
	t->m.phys_known = phys_known;
	t->m.phys_base = phys_base;
	return &t->m;
}

/* The @n-th fence from now fails with EIO (0: none does). */
__attribute__((unused))
static void tm_fail_drain(struct xp_media *m, unsigned n)
{
	struct tmedia *t = tm_of(m);

	t->fail_drain = n ? t->ndrain + n : 0;
}

/* Reads touching [@off, @off + @len) fail with @err (0 len: none). */
__attribute__((unused))
static void tm_fail_reads(struct xp_media *m, uint64_t off, uint64_t len,
			  int err)
{
	struct tmedia *t = tm_of(m);

	t->bad_off = off;
	t->bad_len = len;
	t->bad_err = err;
}

/* Bytes [@from, @to) of @img are all zero; the first that is not fails. */
__attribute__((unused))
static void lt_expect_zero(const uint8_t *img, uint64_t from, uint64_t to)
{
	for (uint64_t i = from; i < to; i++)
		if (img[i]) {
			CHECK_MSG(0, "byte %#" PRIx64 " is %#x", i, img[i]);
			break;
		}
}

/* A fresh image of @size initialised with @o, behind a recording media
 * with no physical address, opened for writing. */
__attribute__((unused))
static int lt_fresh_ns(uint64_t size, struct xp_init_opts *o, uint8_t **img,
		       struct xp_media **m, struct xp_ns **ns)
{
	int rc;

	*img = img_new(size);
	*m = tm_new(*img, size, 0, 0);
	rc = xp_ns_init_media(*m, o, NULL);
	return rc ?: xp_ns_open_media(*m, XP_OPEN_WRITE, ns);
}

__attribute__((unused))
static void tm_reset(struct xp_media *m)
{
	struct tmedia *t = tm_of(m);

	t->nwrites = t->nflush = t->ndrain = 0;
}

__attribute__((unused))
static unsigned tm_writes(struct xp_media *m)
{
	return tm_of(m)->nwrites;
}

__attribute__((unused))
static const struct tm_write *tm_write_at(struct xp_media *m, unsigned i)
{
	return &tm_of(m)->log[i];
}

/*
 * Since the last tm_reset(): at least one write, every one of them (none a
 * zero-fill) inside [lo, hi), and the last one the whole 128-byte copy at
 * @copy_off. A repair over a copy that is not whole may store the new
 * seq word first, behind its own fence; nothing else may be written.
 */
__attribute__((unused))
static bool tm_rewrote_copy(struct xp_media *m, uint64_t lo, uint64_t hi,
			    uint64_t copy_off)
{
	struct tmedia *t = tm_of(m);
	unsigned n = t->nwrites, logged = n < 64 ? n : 64;

	if (!n || n > logged)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (t->log[i].zero || t->log[i].off < lo ||
		    t->log[i].off + t->log[i].len > hi)
			return false;
	return t->log[n - 1].off == copy_off && t->log[n - 1].len == XP_REC_SIZE;
}

/* ---- findings of check ---------------------------------------------------- */

struct findings {
	unsigned n;
	struct {
		enum xp_severity sev;
		char object[64];
		char text[200];
		char fix[160];
	} f[64];
};

__attribute__((unused))
static void findings_cb(const struct xp_finding *f, void *arg)
{
	struct findings *fs = arg;

	if (fs->n < sizeof(fs->f) / sizeof(fs->f[0])) {
		fs->f[fs->n].sev = f->severity;
		snprintf(fs->f[fs->n].object, sizeof(fs->f[fs->n].object), "%s",
			 f->object ? f->object : "(null)");
		snprintf(fs->f[fs->n].text, sizeof(fs->f[fs->n].text), "%s",
			 f->text);
		snprintf(fs->f[fs->n].fix, sizeof(fs->f[fs->n].fix), "%s",
			 f->fix);
	}
	fs->n++;
}

__attribute__((unused))
static unsigned findings_count(const struct findings *fs, enum xp_severity sev)
{
	unsigned c = 0;

	for (unsigned i = 0; i < fs->n && i < 64; i++)
		c += fs->f[i].sev == sev;
	return c;
}

/* Index of the first finding of @sev on @object, -1 if none. */
__attribute__((unused))
static int findings_find(const struct findings *fs, enum xp_severity sev,
			 const char *object)
{
	for (unsigned i = 0; i < fs->n && i < 64; i++)
		if (fs->f[i].sev == sev && !strcmp(fs->f[i].object, object))
			return (int)i;
	return -1;
}

/* Index of the first finding of @sev on @object whose text contains
 * @needle (any text when NULL), -1 if none. */
__attribute__((unused))
static int findings_find_text(const struct findings *fs, enum xp_severity sev,
			      const char *object, const char *needle)
{
	for (unsigned i = 0; i < fs->n && i < 64; i++)
		if (fs->f[i].sev == sev && !strcmp(fs->f[i].object, object) &&
		    (!needle || strstr(fs->f[i].text, needle)))
			return (int)i;
	return -1;
}

/* Every error finding carries a fix that is a full xenpmem command on the
 * namespace (the in-memory media's target is "(memory)"); except the
 * ones about media no command can mend (@allow_bare, e.g. "moved"). */
__attribute__((unused))
static unsigned findings_errors_without_fix(const struct findings *fs,
					    const char *allow_bare)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < fs->n && i < 64; i++) {
		const char *fix = fs->f[i].fix;
		size_t n = strlen(fix);

		if (fs->f[i].sev != XP_SEV_ERROR)
			continue;
		if (allow_bare && strstr(fs->f[i].text, allow_bare))
			continue;
		if (strncmp(fix, "xenpmem ", 8) || n < 9 ||
		    strcmp(fix + n - 9, " (memory)"))
			bad++;
	}
	return bad;
}

__attribute__((unused))
static void findings_dump(const struct findings *fs)
{
	static const char *sev[] = {"note", "error", "fixed"};

	for (unsigned i = 0; i < fs->n && i < 64; i++)
		fprintf(stderr, "    finding %s [%s] %s%s%s\n",
			sev[fs->f[i].sev], fs->f[i].object, fs->f[i].text,
			fs->f[i].fix[0] ? " | fix: " : "", fs->f[i].fix);
}

__attribute__((unused))
static int run_check(struct xp_media *m, unsigned flags, struct findings *fs)
{
	memset(fs, 0, sizeof(*fs));
	return xp_check_media(m, flags, findings_cb, fs);
}

/* ---- UUIDs ---------------------------------------------------------------- */

static const uint8_t uuid_nil[16];

/* A fixed, valid (v4) UUID numbered @n (0..15): owners in tests. The
 * pointer stays valid and its bytes the same for the whole run. */
__attribute__((unused))
static const uint8_t *uuid_n(unsigned n)
{
	static uint8_t tab[16][16];
	uint8_t *u = tab[n % 16];

	for (unsigned i = 0; i < 16; i++)
		u[i] = (uint8_t)(0x11 * (i + 1) + n % 16);
	u[6] = (uint8_t)(0x40 | (u[6] & 0x0f));
	u[8] = (uint8_t)(0x80 | (u[8] & 0x3f));
	return u;
}

/* ---- metadata snapshots ----------------------------------------------------
 * The bytes the library may write: [0, hlen) (superblock, zero area,
 * table, management area up to the data area) and the backup superblock's
 * block. With the write log (tm_writes() == 0) they prove "nothing
 * changed"; the data area of the images is never touched by refusals.
 */
struct meta {
	uint8_t *head;
	uint64_t hlen, size;
	uint8_t tail[XP_SB_BLOCK];
};

__attribute__((unused))
static void meta_take(struct meta *s, const uint8_t *img, uint64_t size,
		      uint64_t hlen)
{
	s->head = malloc(hlen);
	if (!s->head)
		exit(2);
	s->hlen = hlen;
	s->size = size;
	memcpy(s->head, img, hlen);
	memcpy(s->tail, img + size - XP_SB_BLOCK, XP_SB_BLOCK);
}

__attribute__((unused))
static bool meta_same(const struct meta *s, const uint8_t *img)
{
	return !memcmp(s->head, img, s->hlen) &&
	       !memcmp(s->tail, img + s->size - XP_SB_BLOCK, XP_SB_BLOCK);
}

__attribute__((unused))
static void meta_put(const struct meta *s, uint8_t *img)
{
	memcpy(img, s->head, s->hlen);
	memcpy(img + s->size - XP_SB_BLOCK, s->tail, XP_SB_BLOCK);
}

__attribute__((unused))
static void meta_free(struct meta *s)
{
	free(s->head);
	s->head = NULL;
}

/* ---- record copies ----------------------------------------------------------
 * A copy is 16 words; byte 7 of each is the tag, bytes 0..6 carry the
 * payload. These edit the payload (logical offsets of struct
 * xp_rec_payload) and seal it again with a valid checksum.
 */
#define PL_SEQ 0u
#define PL_MAGIC 8u
#define PL_TYPE 12u
#define PL_ALIGN 13u
#define PL_FLAGS 14u
#define PL_OFFSET 16u
#define PL_SIZE 24u
#define PL_LABEL 32u
#define PL_UUID 40u
#define PL_OWNER 56u
#define PL_NAME 72u
#define PL_CHECKSUM 104u

/* Where payload byte @i sits in a copy. */
__attribute__((unused))
static unsigned pl_pos(unsigned i)
{
	return (i / XP_REC_WORD_PAYLOAD) * 8 + i % XP_REC_WORD_PAYLOAD;
}

__attribute__((unused))
static bool is_tag_byte(unsigned byte)
{
	return byte % 8 == 7;
}

__attribute__((unused))
static void le_put(uint8_t *p, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

__attribute__((unused))
static uint64_t le_get(const uint8_t *p, unsigned len)
{
	uint64_t v = 0;

	for (unsigned i = len; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* Checksum @pl for @slot of the namespace @ns_uuid and scatter it into
 * @copy with @tag on every word. */
__attribute__((unused))
static void rec_seal(const uint8_t ns_uuid[16], uint32_t slot,
		     uint8_t pl[XP_REC_PAYLOAD], uint8_t tag, uint8_t *copy)
{
	le_put(pl + PL_CHECKSUM, 8, xp_rec_checksum(ns_uuid, slot, pl));
	xp_rec_scatter(pl, tag, copy);
}

/* Set a little-endian payload field of @copy and re-seal it, keeping the
 * copy's tag (that of word 0). */
__attribute__((unused))
static void rec_set(const uint8_t ns_uuid[16], uint32_t slot, uint8_t *copy,
		    unsigned off, unsigned len, uint64_t v)
{
	uint8_t pl[XP_REC_PAYLOAD];

	xp_rec_gather(copy, pl);
	le_put(pl + off, len, v);
	rec_seal(ns_uuid, slot, pl, copy[7], copy);
}

/* ---- listings ---------------------------------------------------------------- */

struct listing {
	uint32_t n, ng;
	struct xp_extent x[32];
	struct xp_gap g[33];
};

__attribute__((unused))
static void list_take(struct xp_ns *ns, struct listing *l)
{
	memset(l, 0, sizeof(*l));
	l->n = xp_ns_extent_count(ns);
	l->ng = xp_ns_gap_count(ns);
	for (uint32_t i = 0; i < l->n && i < 32; i++)
		xp_ns_extent_get(ns, i, &l->x[i]);
	for (uint32_t i = 0; i < l->ng && i < 33; i++)
		xp_ns_gap_get(ns, i, &l->g[i]);
}

/* The listed extent in @slot, or NULL. */
__attribute__((unused))
static const struct xp_extent *list_slot(const struct listing *l,
					 uint32_t slot)
{
	for (uint32_t i = 0; i < l->n && i < 32; i++)
		if (l->x[i].slot == slot)
			return &l->x[i];
	return NULL;
}

/* Two extents describe the same thing (the sequence number apart). */
__attribute__((unused))
static bool extent_same(const struct xp_extent *a, const struct xp_extent *b)
{
	return !strcmp(a->name, b->name) && !memcmp(a->uuid, b->uuid, 16) &&
	       a->slot == b->slot && a->state == b->state &&
	       a->offset == b->offset && a->size == b->size &&
	       a->align == b->align && a->label_size == b->label_size &&
	       a->assigned == b->assigned && !memcmp(a->owner, b->owner, 16) &&
	       a->violation == b->violation;
}

/* ---- namespaces ---------------------------------------------------------------- */

/* Create @name (@size, the namespace's alignment, unassigned unless
 * @owner) on a writable handle. */
__attribute__((unused))
static int ns_mk(struct xp_ns *ns, const char *name, uint64_t size,
		 const uint8_t *owner, uint64_t align)
{
	struct xp_create_opts o = {.name = name, .size = size, .align = align};

	if (owner)
		memcpy(o.owner, owner, 16);
	return xp_extent_create(ns, &o, NULL);
}

#endif /* XP_LIB_TEST_H */
