/* SPDX-License-Identifier: MIT */
/*
 * Crash-consistency simulator (format 2.0).
 *
 * Drives libxenpmem through the recording backend (recmedia.c) with a
 * randomized workload of extent mutations (create, destroy, resize, rename,
 * assign, unassign, set-state) and repairs (superblock copies, the zero
 * area, a damaged older record copy, a damaged current record copy under
 * check --repair --force). At every crash point of every operation (after
 * each store, after each fence) it builds the images a power failure could
 * leave:
 *
 *   - the persisted image plus every subset of the dirty lines (flushed or
 *     not: a flushed line may or may not have reached the media before the
 *     fence, an unflushed one may have been evicted): exhaustive up to 12
 *     lines, 1,000 random subsets plus the structured ones beyond;
 *   - pmem model: 8-byte word tears (persistent memory stores an aligned
 *     8-byte word atomically, nothing larger). Every subset of the changed
 *     words when at most --word-exhaustive of them changed; when the
 *     changed words all lie in one extent table slot (a record update
 *     changes all 16 words of the copy it writes, since every word carries
 *     the new tag) every subset of them, up to --slot-exhaustive words,
 *     each decoded as a slot and opened in full whenever the slot decodes
 *     differently from every image already opened at that crash point;
 *     otherwise each line torn alone, combined with the others;
 *   - block model: 512-byte sectors instead of lines.
 *
 * Each image is opened through the normal path (xp_media_mem_new +
 * xp_ns_open_media, read-only) and must show exactly the extent set of the
 * reference model before or after the operation, satisfy the invariants
 * (no overlap, inside the data area, unique names, management area bytes
 * untouched), never show a slot as corrupt or a record copy as damaged
 * (rather than torn) that was not so before (issue 8, item 6: no false
 * "corrupt"), and check no worse than the state before the operation (for
 * repairs: check exactly as before or as after; an interrupted superblock
 * rewrite may also leave the two copies one generation apart, which a
 * second check --repair must settle into the after-state).
 *
 * Some pmem updates are left interrupted on purpose (--interrupt): the
 * record copy stays torn on media and the workload goes on from there, so
 * later updates write over torn copies whose words carry two tags.
 *
 * Output: per-model counts, a COUNTS line, then "N passed, M failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "recmedia.h"
#include "xp_internal.h"

#define MAXSLOTS 64u
#define NNAMES 40
#define PAGE 4096ull
#define MIB (1ull << 20)
#define A2M (2ull << 20)
#define A1G (1ull << 30)
#define NOWNERS 6
#define MAXD 4096		/* dirty lines at one crash point, at most */
#define EXHAUSTIVE_MAX 12	/* dirty lines enumerated exhaustively */
#define RANDOM_SUBSETS 1000	/* random subsets beyond that */
#define TORN_SAMPLES 16		/* word subsets per line beyond that */
#define MAX_OBJ 32
#define MAX_KEYS 64		/* distinct slot decodings per crash point */
#define KEY_MAX 512		/* bytes of one decoded-slot key */
#define NREFUSE 6

/* ---------------------------------------------------------------- rng -- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned pct)
{
	return rnd_below(100) < pct;
}

/* -------------------------------------------------------------- model -- */

static const uint8_t nil_uuid[16];

/* Owner k of a small pool of domain UUIDs (random-looking, version 4). */
static void owner_uuid(unsigned k, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++)
		out[i] = (uint8_t)(0x9d * (k + 1) + 0x31 * i + (i * i * k));
	out[6] = (uint8_t)(0x40 | (out[6] & 0x0f));
	out[8] = (uint8_t)(0x80 | (out[8] & 0x3f));
}

struct mext {
	char name[XP_NAME_MAX + 1];
	uint64_t off, size, label;
	uint32_t shift;		/* alignment */
	uint8_t owner[16];	/* nil: unassigned */
	int state;		/* XP_EXTENT_DATA / XP_EXTENT_LENT_RAM */
	uint8_t uuid[16];
	uint32_t slot;		/* learned from the library; not compared */
	bool uuid_pending;	/* created by the running op: not known yet */
};

struct mstate {
	struct mext e[MAXSLOTS];
	unsigned n;		/* sorted by offset */
};

/* By name, or "@N" for the extent in slot N (as the library reads it). */
static int mfind(const struct mstate *st, const char *name)
{
	uint32_t slot;

	if (xp_extent_slot_selector(name, &slot)) {
		for (unsigned i = 0; i < st->n; i++)
			if (st->e[i].slot == slot)
				return (int)i;
		return -1;
	}
	for (unsigned i = 0; i < st->n; i++)
		if (!strcmp(st->e[i].name, name))
			return (int)i;
	return -1;
}

static void msort(struct mstate *st)
{
	for (unsigned i = 1; i < st->n; i++)
		for (unsigned j = i; j > 0 && st->e[j - 1].off > st->e[j].off; j--) {
			struct mext t = st->e[j];

			st->e[j] = st->e[j - 1];
			st->e[j - 1] = t;
		}
}

static void mext_from_rec(struct mext *e, const struct xp_rec *r,
			  uint32_t slot)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->name, r->name, sizeof(e->name));
	e->off = r->offset;
	e->size = r->size;
	e->label = r->label_size;
	e->shift = r->align_shift;
	memcpy(e->owner, r->owner, 16);
	e->state = r->type == XP_REC_LENT_RAM ? XP_EXTENT_LENT_RAM :
						XP_EXTENT_DATA;
	memcpy(e->uuid, r->uuid, 16);
	e->slot = slot;
}

/* ------------------------------------------------------------- checks -- */

struct chkres {
	int rc;			/* xp_check_media(): errors or -errno */
	unsigned nobj;
	char obj[MAX_OBJ][48];	/* objects of XP_SEV_ERROR findings, sorted */
	char first[256];	/* first error, for messages */
};

static void chk_cb(const struct xp_finding *f, void *arg)
{
	struct chkres *r = arg;
	unsigned i;

	if (f->severity != XP_SEV_ERROR)
		return;
	if (!r->first[0])
		snprintf(r->first, sizeof(r->first), "%s: %s", f->object, f->text);
	for (i = 0; i < r->nobj; i++)
		if (!strcmp(r->obj[i], f->object))
			return;
	if (r->nobj == MAX_OBJ)
		return;
	/* insertion, sorted */
	for (i = r->nobj; i > 0 && strcmp(r->obj[i - 1], f->object) > 0; i--)
		memcpy(r->obj[i], r->obj[i - 1], sizeof(r->obj[i]));
	snprintf(r->obj[i], sizeof(r->obj[i]), "%s", f->object);
	r->nobj++;
}

static void run_check(struct xp_media *m, struct chkres *r)
{
	memset(r, 0, sizeof(*r));
	r->rc = xp_check_media(m, 0, chk_cb, r);
}

static bool chk_equal(const struct chkres *a, const struct chkres *b)
{
	if (a->rc != b->rc || a->nobj != b->nobj)
		return false;
	for (unsigned i = 0; i < a->nobj; i++)
		if (strcmp(a->obj[i], b->obj[i]))
			return false;
	return true;
}

/* Every error object of @a is one @b had too. */
static bool chk_subset(const struct chkres *a, const struct chkres *b)
{
	if (a->rc < 0)
		return false;
	for (unsigned i = 0; i < a->nobj; i++) {
		bool found = false;

		for (unsigned j = 0; j < b->nobj && !found; j++)
			found = !strcmp(a->obj[i], b->obj[j]);
		if (!found)
			return false;
	}
	return true;
}

/* Errors only about the superblock copies (and at least one). */
static bool chk_sb_only(const struct chkres *a)
{
	if (a->rc <= 0 || !a->nobj)
		return false;
	for (unsigned i = 0; i < a->nobj; i++)
		if (strncmp(a->obj[i], "superblock", 10))
			return false;
	return true;
}

static void chk_str(const struct chkres *r, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "rc %d errors [", r->rc);

	for (unsigned i = 0; i < r->nobj && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
				      r->obj[i]);
	if (n < len)
		snprintf(buf + n, len - n, "]%s%s", r->first[0] ? " first: " : "",
			 r->first);
}

/* A copy written whole and damaged since (not blank, torn or valid). */
static bool copy_damaged(enum xp_fmt_status st)
{
	return st != XP_OK && st != XP_E_BLANK && st != XP_E_TORN;
}

/* ---------------------------------------------------------- simulator -- */

enum opkind {
	OP_CREATE, OP_DESTROY, OP_RESIZE, OP_RENAME, OP_ASSIGN, OP_UNASSIGN,
	OP_SET_STATE, OP_REPAIR, OP__N
};
static const char *const opname[OP__N] = {
	"create", "destroy", "resize", "rename", "assign", "unassign",
	"set-state", "repair",
};

enum repair_variant {
	RV_FLIP,	/* one byte of a superblock header flipped */
	RV_ZERO,	/* whole superblock copy zeroed */
	RV_GARBAGE,	/* whole 4K superblock copy random */
	RV_STALE,	/* superblock copy valid, one generation behind */
	RV_ZEROAREA,	/* bytes in 4K..8K */
	RV_OLDCOPY,	/* a slot's older record copy damaged */
	RV_CURRENT,	/* a slot's current copy damaged: --repair --force */
	RV__N
};
static const char *const rvname[RV__N] = {
	"flip-byte", "zeroed", "garbage", "stale-copy", "zero-area",
	"damaged-older-copy", "damaged-current-copy",
};

static bool rv_superblock(enum repair_variant rv)
{
	return rv <= RV_STALE;
}

static bool rv_slot(enum repair_variant rv)
{
	return rv == RV_OLDCOPY || rv == RV_CURRENT;
}

struct op {
	enum opkind kind;
	/* Names may be invalid or too long on purpose (refused). */
	char name[48], name2[48];
	uint64_t size, label, align;
	uint8_t owner[16];
	bool owner_null;	/* assign: pass NULL rather than the nil UUID */
	bool force;
	int state;		/* set-state */
	enum repair_variant rv;
	int which;		/* repair: superblock copy, or slot */
	bool interrupt;		/* leave the record torn afterwards (pmem) */
};

struct fail_kind {
	char key[112];
	uint64_t count;
};

struct sim {
	struct recmedia *rm;
	enum rec_model model;
	uint64_t size;
	uint32_t nslots;
	bool mgmt_xen;
	struct xp_info info;
	uint64_t backup_off;
	uint64_t table_end;
	uint8_t *mgmt_pat;	/* the management area as filled */

	struct mstate cur;	/* the model */

	/* the running operation */
	unsigned opno;
	struct op op;
	char desc[240];
	struct mstate before, after;
	struct chkres cbefore, cafter;
	bool seen_uuid_set, uuid_conflict;
	uint8_t seen_uuid[16];
	/* what the image before the operation shows per slot */
	bool bcorrupt[MAXSLOTS];
	bool bdamaged[MAXSLOTS][2];
	uint8_t table_before[MAXSLOTS * XP_SLOT_SIZE];
	char retarget[XP_NAME_MAX + 1];	/* extent of an interrupted update */
	int fix_force;		/* repair runs with XP_CHECK_FORCE */

	/* crash point scratch */
	uint64_t *dl;
	uint8_t *saved;		/* persisted bytes of the dirty lines */
	uint8_t *sel;
	unsigned point_no;
	uint8_t (*keys)[KEY_MAX];
	size_t *keylen;
	unsigned nkeys;

	/* counters */
	uint64_t ops, ops_written, ops_refused, interrupted;
	uint64_t points, images, full_images, equiv_images, passed, failed;
	uint64_t op_failures, slot_points, slot_eligible, sb_midway;
	uint64_t slot_checks, seq_first, torn_whole, evened;
	uint64_t kind_ops[OP__N], kind_images[OP__N], kind_fail[OP__N];
	uint64_t rv_ops[RV__N];
	uint64_t refused[NREFUSE];	/* no-op, EINVAL, ENOENT, EEXIST, ... */
	struct fail_kind fk[64];
	unsigned nfk;
	unsigned max_report, reported, dumped, max_dump;
	const char *dump_dir;
	bool verbose;
};

static unsigned word_exhaustive_max = 14;
static unsigned slot_exhaustive_max = 16;
static unsigned slot_exhaustive_every = 1;
static unsigned interrupt_pct = 8;
static enum rec_inject inject;

static const char *model_name(enum rec_model m)
{
	return m == REC_PMEM ? "pmem" : "block";
}

static void note_failure(struct sim *s, const char *reason)
{
	char key[112];

	snprintf(key, sizeof(key), "%s/%s: %s", model_name(s->model),
		 opname[s->op.kind], reason);
	for (unsigned i = 0; i < s->nfk; i++)
		if (!strcmp(s->fk[i].key, key)) {
			s->fk[i].count++;
			return;
		}
	if (s->nfk < 64) {
		snprintf(s->fk[s->nfk].key, sizeof(s->fk[s->nfk].key), "%s", key);
		s->fk[s->nfk++].count = 1;
	}
}

__attribute__((format(printf, 3, 4)))
static void op_fail(struct sim *s, const char *reason, const char *fmt, ...)
{
	va_list ap;

	s->op_failures++;
	s->kind_fail[s->op.kind]++;
	note_failure(s, reason);
	if (s->reported++ >= s->max_report)
		return;
	fprintf(stderr, "FAIL [%s] op #%u %s: %s: ", model_name(s->model),
		s->opno, s->desc, reason);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool in_mgmt(const struct sim *s, uint64_t off, uint64_t len)
{
	uint64_t a = s->info.mgmt_offset, b = a + s->info.mgmt_size;

	return off < b && off + len > a;
}

static bool mgmt_intact(const struct sim *s, const uint8_t *img)
{
	return !memcmp(img + s->info.mgmt_offset, s->mgmt_pat,
		       s->info.mgmt_size);
}

/* The extents a media shows, as a model state; -errno if it won't open. */
static int read_state(struct xp_media *m, struct mstate *st, struct xp_ns **nsp,
		      char *err, size_t errlen)
{
	struct xp_ns *ns;
	int rc = xp_ns_open_media(m, 0, &ns);

	memset(st, 0, sizeof(*st));
	if (rc) {
		snprintf(err, errlen, "open failed (%d): %s", rc, xp_last_error());
		return rc;
	}
	st->n = xp_ns_extent_count(ns);
	if (st->n > MAXSLOTS) {
		snprintf(err, errlen, "%u extents in a %u-slot table", st->n,
			 MAXSLOTS);
		xp_ns_close(ns);
		return -ERANGE;
	}
	for (unsigned i = 0; i < st->n; i++) {
		struct xp_extent e;
		struct mext *x = &st->e[i];

		xp_ns_extent_get(ns, i, &e);
		memcpy(x->name, e.name, sizeof(x->name));
		x->off = e.offset;
		x->size = e.size;
		x->label = e.label_size;
		x->shift = (uint32_t)__builtin_ctzll(e.align);
		memcpy(x->owner, e.owner, 16);
		if (e.assigned == xp_uuid_is_nil(e.owner)) {
			snprintf(err, errlen, "extent '%s': assigned says %d, owner %s nil",
				 e.name, e.assigned, e.assigned ? "is" : "is not");
			xp_ns_close(ns);
			return -EPROTO;
		}
		x->state = e.state;
		memcpy(x->uuid, e.uuid, 16);
		x->slot = e.slot;
	}
	if (nsp)
		*nsp = ns;
	else
		xp_ns_close(ns);
	return 0;
}

static bool mext_equal(const struct mext *a, const struct mext *b)
{
	return !strcmp(a->name, b->name) && a->off == b->off &&
	       a->size == b->size && a->label == b->label &&
	       a->shift == b->shift && !memcmp(a->owner, b->owner, 16) &&
	       a->state == b->state;
}

/* Exact equality with a model state; the pending uuid is learned. */
static bool state_equal(struct sim *s, const struct mstate *got,
			const struct mstate *want, bool learn)
{
	const struct mext *pend = NULL;

	if (got->n != want->n)
		return false;
	for (unsigned i = 0; i < got->n; i++) {
		const struct mext *a = &got->e[i], *b = &want->e[i];

		if (!mext_equal(a, b))
			return false;
		if (b->uuid_pending)
			pend = a;
		else if (memcmp(a->uuid, b->uuid, 16))
			return false;
	}
	if (pend && learn) {
		if (!s->seen_uuid_set) {
			memcpy(s->seen_uuid, pend->uuid, 16);
			s->seen_uuid_set = true;
		} else if (memcmp(s->seen_uuid, pend->uuid, 16)) {
			s->uuid_conflict = true;
		}
	}
	return true;
}

static void state_str(const struct mstate *st, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < st->n && n + 1 < len; i++) {
		const struct mext *e = &st->e[i];

		n += (size_t)snprintf(buf + n, len - n, "%s%s@%#" PRIx64 "+%#" PRIx64,
				      i ? " " : "", e->name, e->off, e->size);
		if (e->label && n + 1 < len)
			n += (size_t)snprintf(buf + n, len - n, "/l%#" PRIx64,
					      e->label);
		if (e->shift != XP_ALIGN_2M_SHIFT && n + 1 < len)
			n += (size_t)snprintf(buf + n, len - n, "/a%u", e->shift);
		if (!xp_uuid_is_nil(e->owner) && n + 1 < len)
			n += (size_t)snprintf(buf + n, len - n, "/o%02x%02x",
					      e->owner[0], e->owner[1]);
		if (e->state == XP_EXTENT_LENT_RAM && n + 1 < len)
			n += (size_t)snprintf(buf + n, len - n, "/lent");
	}
	if (!st->n)
		snprintf(buf, len, "(none)");
}

/* Invariants that hold whatever the model says. */
static const char *invariants(const struct sim *s, const struct mstate *st)
{
	uint64_t lo = s->info.data_offset, hi = lo + s->info.data_size;

	for (unsigned i = 0; i < st->n; i++) {
		const struct mext *e = &st->e[i];

		if (!e->size || e->off < lo || e->off + e->size > hi ||
		    e->off + e->size < e->off)
			return "extent outside the data area";
		if (e->off & ((1ull << e->shift) - 1) ||
		    e->size & ((1ull << e->shift) - 1))
			return "extent not aligned";
		if (e->state == XP_EXTENT_LENT_RAM && !xp_uuid_is_nil(e->owner))
			return "extent lent as RAM has an owner";
		if (i + 1 < st->n && e->off + e->size > st->e[i + 1].off)
			return "overlapping extents";
		for (unsigned j = i + 1; j < st->n; j++)
			if (!strcmp(e->name, st->e[j].name))
				return "duplicate names";
	}
	return NULL;
}

static void dump_image(struct sim *s, const uint8_t *img, const char *tag)
{
	char path[512];
	int fd;

	if (!s->dump_dir || s->dumped >= s->max_dump)
		return;
	snprintf(path, sizeof(path), "%s/crash-%s-op%u-%s.img", s->dump_dir,
		 model_name(s->model), s->opno, tag);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (ftruncate(fd, (off_t)s->size) == 0) {
		static const uint8_t z[PAGE];

		for (uint64_t o = 0; o < s->size; o += PAGE)
			if (memcmp(img + o, z, PAGE) &&
			    pwrite(fd, img + o, PAGE, (off_t)o) != (ssize_t)PAGE)
				break;
	}
	close(fd);
	s->dumped++;
	fprintf(stderr, "     image written to %s\n", path);
}

/*
 * Issue 8, item 6: a crash never makes a slot corrupt, nor a record copy
 * read as damaged (rather than torn), unless it already was before.
 */
static const char *false_damage(struct sim *s, const struct xp_ns *ns,
				char *err, size_t errlen)
{
	for (uint32_t i = 0; i < ns->sb.slot_count && i < MAXSLOTS; i++) {
		const struct xp_slot *sl = &ns->slots[i];

		s->slot_checks++;
		if (sl->state == XP_SLOT_CORRUPT && !s->bcorrupt[i]) {
			snprintf(err, errlen,
				 "slot %u: copy 0 %s%s%s, copy 1 %s%s%s", i,
				 xp_fmt_strstatus(sl->copy_status[0]),
				 sl->copy_field[0] ? " in " : "",
				 sl->copy_field[0] ? sl->copy_field[0] : "",
				 xp_fmt_strstatus(sl->copy_status[1]),
				 sl->copy_field[1] ? " in " : "",
				 sl->copy_field[1] ? sl->copy_field[1] : "");
			return "false corrupt: a crash left a slot corrupt";
		}
		for (int c = 0; c < 2; c++) {
			if (!copy_damaged(sl->copy_status[c]) || s->bdamaged[i][c])
				continue;
			snprintf(err, errlen, "slot %u copy %d: %s%s%s", i, c,
				 xp_fmt_strstatus(sl->copy_status[c]),
				 sl->copy_field[c] ? " in " : "",
				 sl->copy_field[c] ? sl->copy_field[c] : "");
			return "a crash left a record copy damaged, not torn";
		}
	}
	return NULL;
}

/* Remember what the image before the operation shows per slot. */
static int note_before(struct sim *s, struct xp_media *m)
{
	struct xp_ns *ns;
	int rc = xp_ns_open_media(m, 0, &ns);

	memset(s->bcorrupt, 0, sizeof(s->bcorrupt));
	memset(s->bdamaged, 0, sizeof(s->bdamaged));
	if (rc)
		return rc;
	for (uint32_t i = 0; i < ns->sb.slot_count && i < MAXSLOTS; i++) {
		s->bcorrupt[i] = ns->slots[i].state == XP_SLOT_CORRUPT;
		for (int c = 0; c < 2; c++)
			s->bdamaged[i][c] =
				copy_damaged(ns->slots[i].copy_status[c]);
	}
	xp_ns_close(ns);
	return 0;
}

/*
 * An interrupted superblock rewrite (repair writes the bad copy, then the
 * good one, both one generation up): the image may hold two copies one
 * generation apart, or the good one torn. A second check --repair must
 * settle it into the after-state. Runs on s->rm->per in place and puts
 * back everything repair may write.
 */
static bool rerepair_settles(struct sim *s, char *err, size_t errlen)
{
	uint8_t *per = s->rm->per;
	uint64_t head = s->table_end;
	uint8_t *save = malloc(head + XP_SB_BLOCK);
	struct xp_media *m = xp_media_mem_new(per, s->size);
	struct chkres cr;
	struct mstate got;
	bool ok = false;

	if (!save || !m) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	snprintf(m->target, sizeof(m->target), "(crash image, repaired)");
	memcpy(save, per, head);
	memcpy(save + head, per + s->backup_off, XP_SB_BLOCK);
	xp_check_media(m, XP_CHECK_REPAIR, NULL, NULL);
	run_check(m, &cr);
	if (cr.rc) {
		chk_str(&cr, err, errlen);
	} else if (read_state(m, &got, NULL, err, errlen)) {
		;
	} else if (!state_equal(s, &got, &s->after, false)) {
		snprintf(err, errlen, "a second repair left another extent set");
	} else {
		ok = true;
	}
	memcpy(per, save, head);
	memcpy(per + s->backup_off, save + head, XP_SB_BLOCK);
	xp_media_close(m);
	free(save);
	return ok;
}

/*
 * Verify the image now in s->rm->per. @what describes how it was built.
 * Returns true when it passed.
 */
static bool verify_image(struct sim *s, const char *what, bool delta_in_mgmt)
{
	struct xp_media *m = xp_media_mem_new(s->rm->per, s->size);
	struct mstate got;
	struct chkres cr;
	struct xp_ns *ns = NULL;
	char err[320] = "", a[700], b[700], c[700];
	const char *reason = NULL;
	bool eb, ea, opened = false;

	if (!m) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	m->writable = 0;
	snprintf(m->target, sizeof(m->target), "(crash image)");
	s->images++;
	s->full_images++;
	s->kind_images[s->op.kind]++;

	if (read_state(m, &got, &ns, err, sizeof(err))) {
		reason = "image does not open";
		goto fail;
	}
	opened = true;
	reason = false_damage(s, ns, err, sizeof(err));
	xp_ns_close(ns);
	if (reason)
		goto fail;
	eb = state_equal(s, &got, &s->before, false);
	ea = state_equal(s, &got, &s->after, true);
	if (!eb && !ea) {
		reason = "extent set is neither the before- nor the after-state";
		goto fail;
	}
	if ((reason = invariants(s, &got)))
		goto fail;
	if (delta_in_mgmt && !mgmt_intact(s, s->rm->per)) {
		reason = "management area bytes changed";
		goto fail;
	}
	run_check(m, &cr);
	if (s->op.kind == OP_REPAIR) {
		if (chk_equal(&cr, &s->cbefore) || chk_equal(&cr, &s->cafter)) {
			;
		} else if (rv_superblock(s->op.rv) && chk_sb_only(&cr) &&
			   rerepair_settles(s, err, sizeof(err))) {
			s->sb_midway++;
		} else {
			reason = "check result is neither the before- nor the after-state's";
			goto fail;
		}
	} else if (!chk_subset(&cr, &s->cbefore)) {
		reason = "check reports errors the before-state did not have";
		goto fail;
	}
	xp_media_close(m);
	s->passed++;
	return true;

fail:
	s->failed++;
	s->kind_fail[s->op.kind]++;
	note_failure(s, reason);
	if (s->reported++ < s->max_report) {
		fprintf(stderr, "FAIL [%s] op #%u %s\n  crash image: %s\n  %s\n",
			model_name(s->model), s->opno, s->desc, what, reason);
		if (err[0])
			fprintf(stderr, "  %s\n", err);
		state_str(&s->before, a, sizeof(a));
		state_str(&s->after, b, sizeof(b));
		state_str(&got, c, sizeof(c));
		fprintf(stderr, "  expected extents: before {%s}\n"
				"                 or after  {%s}\n"
				"  actual extents:           {%s}\n", a, b,
			opened ? c : "(none: open failed)");
		if (opened) {
			run_check(m, &cr);
			chk_str(&s->cbefore, a, sizeof(a));
			chk_str(&cr, c, sizeof(c));
			fprintf(stderr, "  check before: %s\n  check image:  %s\n",
				a, c);
			if (s->op.kind == OP_REPAIR) {
				chk_str(&s->cafter, b, sizeof(b));
				fprintf(stderr, "  check after:  %s\n", b);
			}
		}
		dump_image(s, s->rm->per, "fail");
	}
	xp_media_close(m);
	return false;
}

/* Words of line @l whose volatile and persisted bytes differ (8-byte). */
static uint64_t changed_words(const struct sim *s, uint64_t l)
{
	const struct recmedia *rm = s->rm;
	uint64_t mask = 0;

	for (unsigned w = 0; w < rm->line / 8 && w < 64; w++)
		if (memcmp(rm->vol + l * rm->line + 8 * w,
			   rm->per + l * rm->line + 8 * w, 8))
			mask |= 1ull << w;
	return mask;
}

/*
 * Build one image: persisted + the selected dirty lines (s->sel[i] = 1),
 * + line @torn (index into dl, -1 none) with only the 8-byte words of
 * @words, verify it, restore.
 */
static void try_image(struct sim *s, unsigned n, int torn, unsigned words,
		      const char *point)
{
	struct recmedia *rm = s->rm;
	uint32_t L = rm->line;
	bool mg = false;
	char what[512];

	for (unsigned i = 0; i < n; i++) {
		uint64_t off = s->dl[i] * L;

		if ((int)i == torn) {
			for (unsigned w = 0; w < L / 8; w++)
				if (words & (1u << w))
					memcpy(rm->per + off + 8 * w,
					       rm->vol + off + 8 * w, 8);
		} else if (s->sel[i]) {
			memcpy(rm->per + off, rm->vol + off, L);
		} else {
			continue;
		}
		mg |= in_mgmt(s, off, L);
	}
	if (s->reported < s->max_report) {
		size_t k = (size_t)snprintf(what, sizeof(what), "%s; %u dirty %s",
					    point, n, L == 64 ? "lines" : "sectors");

		for (unsigned i = 0; i < n && i < 12 && k < sizeof(what); i++)
			k += (size_t)snprintf(what + k, sizeof(what) - k,
					      "%s%#" PRIx64 ":%s", i ? ", " : " [",
					      s->dl[i] * L,
					      (int)i == torn ? "torn" :
					      s->sel[i] ? "new" : "old");
		if (k < sizeof(what))
			snprintf(what + k, sizeof(what) - k, "%s",
				 n ? (n > 12 ? ", ...]" : "]") : "");
		if (torn >= 0) {
			k = strlen(what);
			snprintf(what + k, sizeof(what) - k,
				 "; torn line %#" PRIx64 " keeps new words mask %#x",
				 s->dl[torn] * L, words);
		}
	} else {
		what[0] = 0;
	}
	verify_image(s, what, mg);
	for (unsigned i = 0; i < n; i++)
		if ((int)i == torn || s->sel[i])
			memcpy(rm->per + s->dl[i] * L, s->saved + (size_t)i * L, L);
}

static void sel_mask(struct sim *s, unsigned n, uint64_t mask)
{
	for (unsigned i = 0; i < n; i++)
		s->sel[i] = (mask >> i) & 1;
}

static void sel_all(struct sim *s, unsigned n, uint8_t v)
{
	memset(s->sel, v, n);
}

static void sel_random(struct sim *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		s->sel[i] = rnd() & 1;
}

/*
 * Every subset of the @total changed words of the @n dirty lines, except
 * those that only combine whole lines (already checked).
 */
static void torn_all_words(struct sim *s, unsigned n, unsigned total,
			   const char *point)
{
	struct recmedia *rm = s->rm;
	uint32_t L = rm->line;
	unsigned cw[EXHAUSTIVE_MAX], shift[EXHAUSTIVE_MAX + 1];
	char what[512];

	shift[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		cw[i] = (unsigned)changed_words(s, s->dl[i]);
		shift[i + 1] = shift[i] + (unsigned)__builtin_popcount(cw[i]);
	}
	for (uint64_t sub = 0; sub < (1ull << total); sub++) {
		bool partial = false, mg = false;
		size_t k = 0;

		/* skip whole-line combinations: every line all or nothing */
		for (unsigned i = 0; i < n; i++) {
			unsigned c = shift[i + 1] - shift[i];
			uint64_t part = (sub >> shift[i]) & ((1ull << c) - 1);

			if (part && part != (1ull << c) - 1)
				partial = true;
		}
		if (!partial)
			continue;
		if (s->reported < s->max_report)
			k = (size_t)snprintf(what, sizeof(what),
					     "%s; word-level tear of %u dirty lines:",
					     point, n);
		for (unsigned i = 0; i < n; i++) {
			uint64_t off = s->dl[i] * L;
			unsigned b = shift[i], words = 0;

			for (unsigned w = 0; w < L / 8; w++) {
				if (!(cw[i] & (1u << w)))
					continue;
				if (sub & (1ull << b))
					words |= 1u << w;
				b++;
			}
			for (unsigned w = 0; w < L / 8; w++)
				if (words & (1u << w))
					memcpy(rm->per + off + 8 * w,
					       rm->vol + off + 8 * w, 8);
			if (words)
				mg |= in_mgmt(s, off, L);
			if (s->reported < s->max_report && k < sizeof(what))
				k += (size_t)snprintf(what + k, sizeof(what) - k,
						      " %#" PRIx64 " new words %#x/%#x",
						      off, words, cw[i]);
		}
		if (s->reported >= s->max_report)
			what[0] = 0;
		verify_image(s, what, mg);
		for (unsigned i = 0; i < n; i++)
			memcpy(rm->per + s->dl[i] * L, s->saved + (size_t)i * L, L);
	}
}

/* ------------------------------------------- slot-level word tears -- */

static size_t rec_key(const struct xp_rec *r, uint8_t *k)
{
	size_t n = 0;

#define PUT(x)                                       \
	do {                                         \
		memcpy(k + n, &(x), sizeof(x));      \
		n += sizeof(x);                      \
	} while (0)
	PUT(r->seq);
	PUT(r->type);
	PUT(r->align_shift);
	PUT(r->flags);
	PUT(r->offset);
	PUT(r->size);
	PUT(r->label_size);
	PUT(r->uuid);
	PUT(r->owner);
	PUT(r->name);
	return n;
}

/*
 * Everything of a decoded slot the library's open, list and check look
 * at (all but the tag masks, which only the next update uses).
 */
static size_t slot_key(const struct xp_slot *sl, uint8_t *k)
{
	size_t n = 0;

	PUT(sl->state);
	PUT(sl->active);
	PUT(sl->copy_status);
	PUT(sl->copy_field);
	PUT(sl->stale_damaged);
	PUT(sl->fallback);
	if (sl->active >= 0)
		n += rec_key(&sl->rec, k + n);
	if (sl->fallback >= 0)
		n += rec_key(&sl->fallback_rec, k + n);
	return n;
#undef PUT
}

/* True when @key was not seen at this crash point yet (and adds it). */
static bool key_new(struct sim *s, const uint8_t *key, size_t len)
{
	for (unsigned i = 0; i < s->nkeys; i++)
		if (s->keylen[i] == len && !memcmp(s->keys[i], key, len))
			return false;
	if (s->nkeys < MAX_KEYS) {
		memcpy(s->keys[s->nkeys], key, len);
		s->keylen[s->nkeys++] = len;
	}
	return true;
}

/*
 * The slot all @n dirty lines lie in, if they lie in a single extent table
 * slot (what a record update or a record repair stores); -1 otherwise.
 */
static int dirty_slot(const struct sim *s, unsigned n)
{
	uint32_t L = s->rm->line;
	int slot = -1;

	for (unsigned i = 0; i < n; i++) {
		uint64_t off = s->dl[i] * L;
		int sl;

		if (off < XP_TABLE_OFFSET || off + L > s->table_end ||
		    L > XP_SLOT_SIZE)
			return -1;
		sl = (int)((off - XP_TABLE_OFFSET) / XP_SLOT_SIZE);
		if (slot >= 0 && sl != slot)
			return -1;
		slot = sl;
	}
	return slot;
}

/*
 * Every subset of the @total changed words of the dirty lines of slot
 * @slot, walked in Gray-code order (one word changes per step). Each image
 * is decoded as a slot with xp_slot_decode(), the code the library reads
 * slots with; an image whose decoded slot differs from every one already
 * seen at this crash point is opened and verified in full, the others are
 * the same image to the library and pass with it.
 */
static void torn_slot_words(struct sim *s, unsigned n, unsigned total,
			    int slot, const char *point)
{
	struct recmedia *rm = s->rm;
	uint32_t L = rm->line;
	uint64_t *pos = malloc(total * sizeof(*pos));
	const uint8_t **oldw = malloc(total * sizeof(*oldw));
	uint64_t sub = 0;
	struct xp_slot sl;
	struct xp_sb sb;
	const char *field;
	uint8_t key[KEY_MAX];
	char what[320];
	unsigned k = 0;

	if (!pos || !oldw) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	if (xp_sb_decode(rm->per, XP_SB_BLOCK, s->size, false, &sb, &field) &&
	    xp_sb_decode(rm->per + s->backup_off, XP_SB_BLOCK, s->size, true,
			 &sb, &field)) {
		free(pos);
		free(oldw);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t cw = changed_words(s, s->dl[i]);

		for (unsigned w = 0; w < L / 8; w++)
			if (cw & (1ull << w)) {
				pos[k] = s->dl[i] * L + 8 * w;
				oldw[k] = s->saved + (size_t)i * L + 8 * w;
				k++;
			}
	}
	s->slot_points++;
	s->nkeys = 0;
	for (uint64_t g = 0; g < (1ull << total); g++) {
		size_t len;

		if (g) {
			unsigned b = (unsigned)__builtin_ctzll(g);

			sub ^= 1ull << b;
			memcpy(rm->per + pos[b],
			       (sub >> b) & 1 ? rm->vol + pos[b] : oldw[b], 8);
		}
		xp_slot_decode(&sb, (uint32_t)slot,
			       rm->per + xp_slot_offset((uint32_t)slot), &sl);
		len = slot_key(&sl, key);
		if (!key_new(s, key, len)) {
			s->images++;
			s->equiv_images++;
			s->kind_images[s->op.kind]++;
			s->passed++;
			continue;
		}
		if (s->reported < s->max_report)
			snprintf(what, sizeof(what),
				 "%s; word-level tear of slot %d: new words %#" PRIx64
				 " of %u changed (in offset order)",
				 point, slot, sub, total);
		else
			what[0] = 0;
		verify_image(s, what, false);
	}
	for (unsigned i = 0; i < n; i++)
		memcpy(rm->per + s->dl[i] * L, s->saved + (size_t)i * L, L);
	free(pos);
	free(oldw);
}

/* Enumerate crash images at one crash point. */
static void crash_point(struct recmedia *rm, enum rec_ev_kind kind, void *arg)
{
	struct sim *s = arg;
	uint32_t L = rm->line;
	char point[96];
	size_t nd = rec_dirty_lines(rm, s->dl, MAXD);
	unsigned n = nd > MAXD ? MAXD : (unsigned)nd, total = 0;
	int slot;

	s->points++;
	s->point_no++;
	snprintf(point, sizeof(point), "crash point %u, after %s #%zu of the op",
		 s->point_no, kind == REC_EV_STORE ? "store" : "fence",
		 rm->nlog);
	for (unsigned i = 0; i < n; i++) {
		memcpy(s->saved + (size_t)i * L, rm->per + s->dl[i] * L, L);
		if (in_mgmt(s, s->dl[i] * L, L))
			op_fail(s, "management area bytes changed",
				"dirty line %#" PRIx64 " at %s", s->dl[i] * L,
				point);
	}

	/* Whole lines (sectors). */
	if (n <= EXHAUSTIVE_MAX) {
		for (uint64_t mask = 0; mask < (1ull << n); mask++) {
			sel_mask(s, n, mask);
			try_image(s, n, -1, 0, point);
		}
	} else {
		sel_all(s, n, 0);
		try_image(s, n, -1, 0, point);
		sel_all(s, n, 1);
		try_image(s, n, -1, 0, point);
		for (unsigned i = 0; i < n; i++) {
			sel_all(s, n, 0);
			s->sel[i] = 1;
			try_image(s, n, -1, 0, point);
			sel_all(s, n, 1);
			s->sel[i] = 0;
			try_image(s, n, -1, 0, point);
		}
		for (unsigned r = 0; r < RANDOM_SUBSETS; r++) {
			sel_random(s, n);
			try_image(s, n, -1, 0, point);
		}
	}
	if (s->model != REC_PMEM)
		return;

	/*
	 * Torn stores, at 8-byte word granularity. When the changed words all
	 * lie in one slot, every subset of them through the slot decoder;
	 * when few words changed, every subset of all of them across every
	 * dirty line at once, each opened (the whole space of word-level
	 * tears); otherwise each line torn alone, combined with the others.
	 */
	for (unsigned i = 0; i < n; i++)
		total += (unsigned)__builtin_popcountll(changed_words(s, s->dl[i]));
	slot = dirty_slot(s, n);
	if (slot >= 0 && total <= slot_exhaustive_max && slot_exhaustive_every &&
	    s->slot_eligible++ % slot_exhaustive_every == 0) {
		torn_slot_words(s, n, total, slot, point);
		return;
	}
	if (n <= EXHAUSTIVE_MAX && total <= word_exhaustive_max) {
		torn_all_words(s, n, total, point);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned cw = (unsigned)changed_words(s, s->dl[i]), bits[8], k = 0;
		uint32_t nsub;

		for (unsigned w = 0; w < 8; w++)
			if (cw & (1u << w))
				bits[k++] = w;
		if (k < 2)
			continue;	/* nothing between old and new */
		nsub = 1u << k;
		for (uint32_t t = 1; t + 1 < nsub; t++) {
			uint32_t sub = t;
			unsigned words = 0;

			if (n > EXHAUSTIVE_MAX) {
				if (t > TORN_SAMPLES)
					break;
				sub = 1 + (uint32_t)rnd_below(nsub - 2);
			}
			for (unsigned b = 0; b < k; b++)
				if (sub & (1u << b))
					words |= 1u << bits[b];
			sel_all(s, n, 0);
			try_image(s, n, (int)i, words, point);
			if (n > 1) {
				sel_all(s, n, 1);
				try_image(s, n, (int)i, words, point);
			}
			if (n > 2) {
				sel_random(s, n);
				try_image(s, n, (int)i, words, point);
			}
		}
	}
}

/* ------------------------------------------------------------ workload -- */

static void pool_name(char *buf, size_t len, unsigned i)
{
	if (i < 30) {
		snprintf(buf, len, "vm%02u", i);
		return;
	}
	/* The longest names: XP_NAME_MAX bytes. */
	snprintf(buf, len, "guest-%02u.", i);
	for (size_t k = strlen(buf); k < XP_NAME_MAX; k++)
		buf[k] = (char)('a' + k % 26);
	buf[XP_NAME_MAX] = 0;
}

/* A name the library must refuse (EINVAL). */
static void bad_name(char *buf, size_t len)
{
	switch (rnd_below(3)) {
	case 0:		/* one byte too long */
		for (size_t k = 0; k <= XP_NAME_MAX && k + 1 < len; k++)
			buf[k] = (char)('a' + k % 26);
		buf[XP_NAME_MAX + 1] = 0;
		break;
	case 1:
		snprintf(buf, len, "-vm");
		break;
	default:
		snprintf(buf, len, "vm/1");
		break;
	}
}

static uint64_t rand_size(void)
{
	unsigned r = (unsigned)rnd_below(100);

	if (r < 50)
		return A2M;
	if (r < 80)
		return A2M * (2 + rnd_below(3));		/* ..8M */
	if (r < 95)
		return A2M * (5 + rnd_below(8));		/* ..24M */
	if (r < 98)
		return A2M * (1 + rnd_below(4)) + PAGE * (1 + rnd_below(8));
	return A1G;						/* too big */
}

static void pick_owner(struct op *op)
{
	if (chance(15))
		memset(op->owner, 0, 16);
	else
		owner_uuid((unsigned)rnd_below(NOWNERS), op->owner);
}

/* A name for an existing extent: mostly its name, sometimes "@slot". */
static void existing_name(const struct sim *s, char *buf, size_t len)
{
	const struct mext *e = &s->cur.e[rnd_below(s->cur.n)];

	if (chance(10))
		snprintf(buf, len, "@%u", e->slot);
	else
		snprintf(buf, len, "%s", e->name);
}

/* A pool name, mostly one no extent has (a real change, not EEXIST). */
static void fresh_name(const struct sim *s, char *buf, size_t len)
{
	for (int t = 0; t < 8; t++) {
		pool_name(buf, len, (unsigned)rnd_below(NNAMES));
		if (mfind(&s->cur, buf) < 0 || chance(10))
			return;
	}
}

static void gen_op(struct sim *s, struct op *op)
{
	unsigned n = s->cur.n, r = (unsigned)rnd_below(100);
	unsigned create_pct = n < 4 ? 55 : n > 10 ? 15 : 30;
	char retarget[XP_NAME_MAX + 1] = "";

	memset(op, 0, sizeof(*op));
	/* After an interrupted update: often the same extent again. */
	if (s->retarget[0] && mfind(&s->cur, s->retarget) >= 0 && chance(70))
		memcpy(retarget, s->retarget, sizeof(retarget));
	s->retarget[0] = 0;
	if (r < 7 && !retarget[0]) {
		op->kind = OP_REPAIR;
	} else if (!retarget[0] && (r < 7 + create_pct || !n)) {
		op->kind = OP_CREATE;
	} else {
		static const enum opkind k[] = {
			OP_DESTROY, OP_DESTROY, OP_RESIZE, OP_RESIZE, OP_RESIZE,
			OP_RENAME, OP_RENAME, OP_ASSIGN, OP_ASSIGN, OP_UNASSIGN,
			OP_SET_STATE, OP_SET_STATE,
		};
		op->kind = k[rnd_below(sizeof(k) / sizeof(k[0]))];
	}

	/* Mostly existing names; sometimes a missing or invalid one. */
	if (retarget[0])
		memcpy(op->name, retarget, sizeof(retarget));
	else if (n && (op->kind != OP_CREATE ? chance(92) : chance(4)))
		existing_name(s, op->name, sizeof(op->name));
	else if (chance(3))
		bad_name(op->name, sizeof(op->name));
	else if (op->kind != OP_CREATE && chance(10))
		snprintf(op->name, sizeof(op->name), "@%u",
			 (unsigned)rnd_below(MAXSLOTS + 2));
	else
		fresh_name(s, op->name, sizeof(op->name));
	/* Unassign mostly what is assigned. */
	if (op->kind == OP_UNASSIGN && !retarget[0] && chance(80)) {
		unsigned start = (unsigned)rnd_below(n ? n : 1);

		for (unsigned t = 0; t < n; t++) {
			const struct mext *e = &s->cur.e[(start + t) % n];

			if (!xp_uuid_is_nil(e->owner)) {
				snprintf(op->name, sizeof(op->name), "%s", e->name);
				break;
			}
		}
	}

	switch (op->kind) {
	case OP_CREATE:
		op->size = rand_size();
		r = (unsigned)rnd_below(100);
		op->align = r < 85 ? 0 : r < 93 ? A2M : r < 97 ? A1G : PAGE;
		if (op->align == A1G && chance(50))
			op->size = A1G;
		if (chance(12))
			op->label = PAGE * (1 + rnd_below(64));
		else if (chance(3))
			op->label = op->size;
		if (chance(25))
			pick_owner(op);
		break;
	case OP_DESTROY:
		op->force = chance(60);
		break;
	case OP_RESIZE: {
		int i = mfind(&s->cur, op->name);

		/* Mostly a new size; 5% the same one (a no-op). */
		op->size = rand_size();
		for (int t = 0; t < 4 && i >= 0 && op->size == s->cur.e[i].size; t++)
			op->size = rand_size();
		if (chance(5) && i >= 0)
			op->size = s->cur.e[i].size;
		break;
	}
	case OP_RENAME:
		if (chance(3))
			bad_name(op->name2, sizeof(op->name2));
		else
			fresh_name(s, op->name2, sizeof(op->name2));
		if (chance(3) && mfind(&s->cur, op->name) >= 0)
			snprintf(op->name2, sizeof(op->name2), "%s",
				 s->cur.e[mfind(&s->cur, op->name)].name);
		op->force = chance(30);
		break;
	case OP_ASSIGN:
		pick_owner(op);
		break;
	case OP_UNASSIGN:
		op->owner_null = chance(50);
		break;
	case OP_SET_STATE:
		/* Mostly the other state (a change), sometimes the same. */
		op->state = chance(50) ? XP_EXTENT_LENT_RAM : XP_EXTENT_DATA;
		if (mfind(&s->cur, op->name) >= 0 && chance(80))
			op->state = s->cur.e[mfind(&s->cur, op->name)].state ==
						    XP_EXTENT_DATA ?
					    XP_EXTENT_LENT_RAM :
					    XP_EXTENT_DATA;
		break;
	case OP_REPAIR:
		op->rv = (enum repair_variant)rnd_below(RV__N);
		op->which = (int)rnd_below(2);
		break;
	default:
		break;
	}
	op->interrupt = s->model == REC_PMEM && op->kind != OP_REPAIR &&
			chance(interrupt_pct);
}

static void describe(struct sim *s)
{
	const struct op *op = &s->op;
	char o[40] = "";
	size_t k;

	if (!xp_uuid_is_nil(op->owner))
		xp_uuid_format(op->owner, o);
	switch (op->kind) {
	case OP_CREATE:
		k = (size_t)snprintf(s->desc, sizeof(s->desc),
				     "create %s --size %" PRIu64 "K", op->name,
				     op->size / 1024);
		if (op->align)
			k += (size_t)snprintf(s->desc + k, sizeof(s->desc) - k,
					      " --align %" PRIu64 "K",
					      op->align / 1024);
		if (op->label)
			k += (size_t)snprintf(s->desc + k, sizeof(s->desc) - k,
					      " --label-size %" PRIu64 "K",
					      op->label / 1024);
		if (o[0])
			snprintf(s->desc + k, sizeof(s->desc) - k,
				 " --owner %s", o);
		break;
	case OP_DESTROY:
		snprintf(s->desc, sizeof(s->desc), "destroy %s%s", op->name,
			 op->force ? " --force" : "");
		break;
	case OP_RESIZE:
		snprintf(s->desc, sizeof(s->desc), "resize %s --size %" PRIu64 "K",
			 op->name, op->size / 1024);
		break;
	case OP_RENAME:
		snprintf(s->desc, sizeof(s->desc), "rename %s%s %s",
			 op->force ? "--force " : "", op->name, op->name2);
		break;
	case OP_ASSIGN:
		snprintf(s->desc, sizeof(s->desc), "assign %s --owner %s",
			 op->name, o[0] ? o : "(nil)");
		break;
	case OP_UNASSIGN:
		snprintf(s->desc, sizeof(s->desc), "unassign %s (%s)", op->name,
			 op->owner_null ? "NULL" : "nil UUID");
		break;
	case OP_SET_STATE:
		snprintf(s->desc, sizeof(s->desc), "set-state %s %s", op->name,
			 xp_extent_state_name(op->state));
		break;
	case OP_REPAIR:
		if (rv_slot(op->rv))
			snprintf(s->desc, sizeof(s->desc),
				 "check --repair%s after damaging slot %d (%s)",
				 op->rv == RV_CURRENT ? " --force" : "",
				 op->which, rvname[op->rv]);
		else
			snprintf(s->desc, sizeof(s->desc),
				 "check --repair after corrupting the %s (%s)",
				 op->rv == RV_ZEROAREA ? "zero area" :
				 op->which ? "backup superblock" :
					     "primary superblock",
				 rvname[op->rv]);
		break;
	default:
		break;
	}
	if (op->interrupt) {
		k = strlen(s->desc);
		snprintf(s->desc + k, sizeof(s->desc) - k, " [then torn]");
	}
}

/* First fit, lowest address first, aligned to 1 << @shift (phys_base 0). */
static bool model_place(const struct sim *s, const struct mstate *st,
			uint64_t size, uint32_t shift, uint64_t *off)
{
	uint64_t a = 1ull << shift, cursor = s->info.data_offset;
	uint64_t end = s->info.data_offset + s->info.data_size;

	for (unsigned i = 0; i <= st->n; i++) {
		uint64_t start = i < st->n ? st->e[i].off : end;
		uint64_t al = (cursor + a - 1) & ~(a - 1);

		if (start > cursor && al < start && start - al >= size) {
			*off = al;
			return true;
		}
		if (i < st->n && st->e[i].off + st->e[i].size > cursor)
			cursor = st->e[i].off + st->e[i].size;
	}
	return false;
}

/* A name the library accepted (at most XP_NAME_MAX bytes). */
static void set_name(char dst[XP_NAME_MAX + 1], const char *src)
{
	memset(dst, 0, XP_NAME_MAX + 1);
	memcpy(dst, src, strnlen(src, XP_NAME_MAX));
}

/* The library's size checks (check_size() in extent.c), in its order. */
static int size_rc(const struct sim *s, uint64_t size, uint32_t shift,
		   uint64_t label)
{
	if (!size || size & ((1ull << shift) - 1))
		return -EINVAL;
	if (size > s->info.data_size)
		return -ENOSPC;
	if (label & (PAGE - 1) || label >= size)
		return -EINVAL;
	return 0;
}

/*
 * What the operation must do: the expected return code, and s->after.
 * Returns true when it must write (a real change).
 */
static bool model_predict(struct sim *s, int *want_rc)
{
	const struct op *op = &s->op;
	struct mstate *a = &s->after;
	struct mext *e;
	uint32_t shift = XP_ALIGN_2M_SHIFT;
	int i;

	*a = s->cur;
	i = op->kind == OP_REPAIR ? -1 : mfind(a, op->name);
	e = i >= 0 ? &a->e[i] : NULL;
	*want_rc = 0;
	switch (op->kind) {
	case OP_CREATE: {
		uint64_t off = 0;

		if (!xp_extent_name_valid(op->name))
			*want_rc = -EINVAL;
		else if (op->align == A1G)
			shift = XP_ALIGN_1G_SHIFT;
		else if (op->align && op->align != A2M)
			*want_rc = -EINVAL;
		if (!*want_rc)
			*want_rc = size_rc(s, op->size, shift, op->label);
		if (*want_rc)
			return false;
		if (i >= 0)
			*want_rc = -EEXIST;
		else if (a->n >= s->nslots)
			*want_rc = -ENOSPC;
		else if (!model_place(s, a, op->size, shift, &off))
			*want_rc = -ENOSPC;
		if (*want_rc)
			return false;
		e = &a->e[a->n++];
		memset(e, 0, sizeof(*e));
		set_name(e->name, op->name);
		e->off = off;
		e->size = op->size;
		e->label = op->label;
		e->shift = shift;
		memcpy(e->owner, op->owner, 16);
		e->state = XP_EXTENT_DATA;
		e->uuid_pending = true;
		msort(a);
		return true;
	}
	case OP_DESTROY:
		if (!e)
			*want_rc = -ENOENT;
		else if (!xp_uuid_is_nil(e->owner) && !op->force)
			*want_rc = -EBUSY;
		if (*want_rc)
			return false;
		memmove(e, e + 1, (a->n - (unsigned)i - 1) * sizeof(*e));
		a->n--;
		return true;
	case OP_RESIZE: {
		uint64_t limit;

		if (!e) {
			*want_rc = -ENOENT;
			return false;
		}
		*want_rc = size_rc(s, op->size, e->shift, e->label);
		if (*want_rc)
			return false;
		limit = (unsigned)i + 1 < a->n ? a->e[i + 1].off :
			s->info.data_offset + s->info.data_size;
		if (e->off + op->size > limit) {
			*want_rc = -ENOSPC;
			return false;
		}
		if (op->size == e->size)
			return false;
		/* The label area would be copied over itself. */
		if (e->label && (op->size > e->size ? op->size - e->size :
						      e->size - op->size) <
					e->label) {
			*want_rc = -EINVAL;
			return false;
		}
		e->size = op->size;
		return true;
	}
	case OP_RENAME:
		if (!xp_extent_name_valid(op->name2)) {
			*want_rc = -EINVAL;
			return false;
		}
		if (!e) {
			*want_rc = -ENOENT;
			return false;
		}
		if (!strcmp(e->name, op->name2))
			return false;
		if (mfind(a, op->name2) >= 0) {
			*want_rc = -EEXIST;
			return false;
		}
		set_name(e->name, op->name2);
		return true;
	case OP_ASSIGN:
	case OP_UNASSIGN:
		if (!e) {
			*want_rc = -ENOENT;
			return false;
		}
		if (!memcmp(e->owner, op->owner, 16))
			return false;
		if (e->state == XP_EXTENT_LENT_RAM && !xp_uuid_is_nil(op->owner)) {
			*want_rc = -EBUSY;
			return false;
		}
		memcpy(e->owner, op->owner, 16);
		return true;
	case OP_SET_STATE:
		if (!e) {
			*want_rc = -ENOENT;
			return false;
		}
		if (e->state == op->state)
			return false;
		if (op->state == XP_EXTENT_LENT_RAM && !xp_uuid_is_nil(e->owner)) {
			*want_rc = -EBUSY;
			return false;
		}
		e->state = op->state;
		return true;
	case OP_REPAIR:
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------- damage -- */

static int decode_sb(const struct sim *s, struct xp_sb *sb)
{
	const char *field;

	if (xp_sb_decode(s->rm->per, XP_SB_BLOCK, s->size, false, sb, &field) ==
	    XP_OK)
		return 0;
	return xp_sb_decode(s->rm->per + s->backup_off, XP_SB_BLOCK, s->size,
			    true, sb, &field) == XP_OK ? 0 : -EINVAL;
}

/* A whole copy as written: every word carries the same tag. */
static bool tags_uniform(const uint8_t *copy)
{
	for (unsigned w = 1; w < XP_REC_WORDS; w++)
		if (copy[8 * w + 7] != copy[7])
			return false;
	return true;
}

static const uint8_t *copy_at(const struct sim *s, uint32_t slot, int copy)
{
	return s->rm->per + xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
}

/*
 * Damage record copy @copy of @slot the way media damage does, not a
 * tear: a flipped payload byte (tags stay uniform, the checksum fails), or
 * an invalid field under a valid checksum (bad magic, an unknown flag).
 */
static void damage_copy(struct sim *s, uint32_t slot, int copy)
{
	uint64_t off = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
	uint8_t raw[XP_REC_SIZE], pl[XP_REC_PAYLOAD];
	struct xp_rec_payload *d = (struct xp_rec_payload *)pl;

	memcpy(raw, s->rm->per + off, sizeof(raw));
	if (chance(60)) {
		unsigned p = (unsigned)rnd_below(XP_REC_PAYLOAD);

		raw[(p / XP_REC_WORD_PAYLOAD) * 8 + p % XP_REC_WORD_PAYLOAD] ^=
			(uint8_t)(1 + rnd_below(255));
	} else {
		xp_rec_gather(raw, pl);
		if (chance(50))
			d->magic.b[rnd_below(4)] ^= (uint8_t)(1 + rnd_below(255));
		else
			d->flags = xp_put16((uint16_t)(1u << rnd_below(16)));
		d->checksum = xp_put64(xp_rec_checksum(s->info.uuid, slot, pl));
		xp_rec_scatter(pl, raw[7], raw);
	}
	rec_poke(s->rm, off, raw, sizeof(raw));
}

/*
 * RV_OLDCOPY: a slot whose older copy is valid gets it damaged; check
 * reports it, --repair rewrites it from the current copy. No extent
 * changes. False when no slot qualifies.
 */
static bool damage_older(struct sim *s)
{
	uint32_t cand[MAXSLOTS], nc = 0;
	struct xp_slot sl;
	struct xp_sb sb;

	if (decode_sb(s, &sb))
		return false;
	for (uint32_t i = 0; i < s->nslots; i++) {
		xp_slot_decode(&sb, i, s->rm->per + xp_slot_offset(i), &sl);
		/*
		 * A valid copy with mixed tags (a tear whose words happened to
		 * make up a whole record) reads as torn once damaged: not a
		 * finding, nothing to repair.
		 */
		if (sl.active >= 0 && sl.copy_status[!sl.active] == XP_OK &&
		    tags_uniform(copy_at(s, i, !sl.active)))
			cand[nc++] = i;
	}
	if (!nc)
		return false;
	s->op.which = (int)cand[rnd_below(nc)];
	xp_slot_decode(&sb, (uint32_t)s->op.which,
		       s->rm->per + xp_slot_offset((uint32_t)s->op.which), &sl);
	damage_copy(s, (uint32_t)s->op.which, !sl.active);
	return true;
}

/*
 * RV_CURRENT: the current copy of an extent's slot gets damaged. The slot
 * is then corrupt and its extent is not listed (the before-state);
 * check --repair --force restores the older copy if it is valid, else
 * frees the slot (the after-state). Only slots whose older copy fits the
 * table rules next to the other extents qualify. False when none does.
 */
static bool damage_current(struct sim *s, struct mext *fb, bool *fb_used)
{
	unsigned n = s->cur.n, start = (unsigned)rnd_below(n ? n : 1);
	struct xp_sb sb;

	if (!n || decode_sb(s, &sb))
		return false;
	for (unsigned t = 0; t < n; t++) {
		unsigned i = (start + t) % n;
		uint32_t slot = s->cur.e[i].slot;
		struct xp_slot sl;
		struct xp_rec r;
		const char *field;
		struct mstate after = s->cur;
		int o;

		xp_slot_decode(&sb, slot, s->rm->per + xp_slot_offset(slot), &sl);
		/* Mixed tags: see damage_older(); the damage would read as a
		 * tear and roll the slot back (reported as a residual risk). */
		if (sl.state != XP_SLOT_USED ||
		    !tags_uniform(copy_at(s, slot, sl.active)))
			continue;
		o = !sl.active;
		memmove(&after.e[i], &after.e[i + 1],
			(after.n - i - 1) * sizeof(after.e[0]));
		after.n--;
		*fb_used = false;
		if (xp_rec_decode(&sb, slot,
				  s->rm->per + xp_slot_offset(slot) +
					  (uint64_t)o * XP_REC_SIZE,
				  &r, &field) == XP_OK &&
		    xp_rec_used(&r)) {
			mext_from_rec(fb, &r, slot);
			after.e[after.n++] = *fb;
			msort(&after);
			if (invariants(s, &after))
				continue;
			for (unsigned j = 0; j < after.n; j++)
				if (after.e[j].slot != slot &&
				    !memcmp(after.e[j].uuid, fb->uuid, 16))
					goto next;
			*fb_used = true;
		}
		s->op.which = (int)slot;
		damage_copy(s, slot, sl.active);
		/* The model before the repair: the extent is not listed. */
		memmove(&s->cur.e[i], &s->cur.e[i + 1],
			(s->cur.n - i - 1) * sizeof(s->cur.e[0]));
		s->cur.n--;
		return true;
next:;
	}
	return false;
}

/* Damage the persisted state as the repair variant says (setup). */
static void corrupt(struct sim *s, struct mext *fb, bool *fb_used)
{
	struct recmedia *rm = s->rm;
	uint64_t where = s->op.which ? s->backup_off : 0;
	uint8_t blk[XP_SB_BLOCK];

	*fb_used = false;
	s->fix_force = 0;
	if (s->op.rv == RV_OLDCOPY && !damage_older(s))
		s->op.rv = RV_ZEROAREA;
	if (s->op.rv == RV_CURRENT) {
		if (damage_current(s, fb, fb_used))
			s->fix_force = XP_CHECK_FORCE;
		else
			s->op.rv = RV_ZEROAREA;
	}
	memcpy(blk, rm->per + where, sizeof(blk));
	switch (s->op.rv) {
	case RV_FLIP:
		blk[rnd_below(XP_SB_SIZE)] ^= (uint8_t)(1 + rnd_below(255));
		break;
	case RV_ZERO:
		memset(blk, 0, sizeof(blk));
		break;
	case RV_GARBAGE:
		for (size_t i = 0; i < sizeof(blk); i++)
			blk[i] = (uint8_t)rnd();
		break;
	case RV_STALE: {
		/*
		 * What an interrupted superblock rewrite leaves: the other
		 * copy is one generation ahead, this one is valid but stale.
		 */
		uint64_t other = s->op.which ? 0 : s->backup_off;
		uint8_t ob[XP_SB_BLOCK];
		struct xp_sb sb;
		const char *field;

		memcpy(ob, rm->per + other, sizeof(ob));
		if (xp_sb_decode(ob, sizeof(ob), s->size, !s->op.which, &sb,
				 &field) != XP_OK)
			return;
		sb.generation++;
		xp_sb_encode(&sb, !s->op.which, ob);
		rec_poke(rm, other, ob, sizeof(ob));
		return;
	}
	case RV_ZEROAREA: {
		uint8_t junk[64];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(rnd() | 1);
		rec_poke(rm, XP_ZERO_OFFSET + 64 * rnd_below(XP_SB_BLOCK / 64),
			 junk, sizeof(junk));
		return;
	}
	default:
		return;
	}
	rec_poke(rm, where, blk, sizeof(blk));
}

/*
 * Data the library writes before a record commits: the zeroing of the
 * range create or a growing resize hands out, and the copy of a label
 * area to an extent's new end. It lies in the data area, and is durable
 * behind fences of its own before the record's store.
 */
static bool data_event(const struct sim *s, const struct rec_event *e)
{
	uint64_t lo = s->info.data_offset, hi = lo + s->info.data_size;

	if (s->op.kind != OP_CREATE && s->op.kind != OP_RESIZE)
		return false;
	if (e->kind == REC_EV_STORE && s->op.kind != OP_RESIZE)
		return false;
	return e->off >= lo && e->off <= hi && e->len <= hi - e->off;
}

static bool store_allowed(const struct sim *s, const struct rec_event *e)
{
	uint64_t tlo = XP_TABLE_OFFSET, thi = s->table_end;

	if (s->op.kind != OP_REPAIR)
		return e->off >= tlo && e->off + e->len <= thi;
	if (rv_slot(s->op.rv)) {
		tlo = xp_slot_offset((uint32_t)s->op.which);
		return e->off >= tlo && e->off + e->len <= tlo + XP_SLOT_SIZE;
	}
	/* superblock copies and the zero area only */
	return e->off + e->len <= XP_TABLE_OFFSET ||
	       (e->off >= s->backup_off && e->off + e->len <= s->size);
}

/*
 * Leave the update that just completed interrupted instead: its record
 * copy keeps a random mix of old and new 8-byte words (at least one of
 * each), as a power failure during the store would. The slot must read
 * as before (or, if the mix happens to be the new record, as after), and
 * the workload goes on from that torn copy.
 */
static void interrupt_op(struct sim *s)
{
	struct recmedia *rm = s->rm;
	const struct rec_event *e = NULL;
	uint8_t torn[XP_REC_SIZE];
	const uint8_t *old;
	struct mstate got;
	struct xp_media *m;
	struct xp_ns *ns = NULL;
	char err[320] = "";
	const char *reason = NULL;
	uint32_t mask;
	int i;

	for (size_t k = 0; k < rm->nlog; k++)
		if (rm->log[k].kind == REC_EV_STORE)
			e = &rm->log[k];
	if (!e || e->len != XP_REC_SIZE || e->off < XP_TABLE_OFFSET ||
	    e->off + e->len > s->table_end)
		return;
	old = s->table_before + (e->off - XP_TABLE_OFFSET);
	mask = 1 + (uint32_t)rnd_below((1u << XP_REC_WORDS) - 2);
	for (unsigned w = 0; w < XP_REC_WORDS; w++)
		memcpy(torn + 8 * w, (mask >> w) & 1 ? e->data + 8 * w : old + 8 * w,
		       8);
	rec_poke(rm, e->off, torn, sizeof(torn));
	s->interrupted++;

	m = xp_media_mem_new(rm->per, s->size);
	if (read_state(m, &got, &ns, err, sizeof(err))) {
		reason = "interrupted update: image does not open";
	} else {
		reason = false_damage(s, ns, err, sizeof(err));
		xp_ns_close(ns);
	}
	if (!reason && !state_equal(s, &got, &s->before, false)) {
		if (state_equal(s, &got, &s->after, false))
			s->torn_whole++;	/* valid, with mixed tags */
		else
			reason = "interrupted update: neither the before- nor the after-state";
	}
	xp_media_close(m);
	if (reason) {
		op_fail(s, reason, "record at %#" PRIx64 " keeps new words %#x%s%s",
			e->off, mask, err[0] ? ": " : "", err);
		return;
	}
	s->cur = got;
	/* The admin runs a command on the same extent again. */
	i = mfind(&s->before, s->op.name);
	s->retarget[0] = 0;
	if (i >= 0 && s->op.kind != OP_CREATE)
		snprintf(s->retarget, sizeof(s->retarget), "%s",
			 s->before.e[i].name);
}

/*
 * A store that only evens the tags of a current copy an interrupted update
 * left with mixed tags: same payload as before, uniform tags now.
 */
static bool evens_tags(const struct sim *s, const struct rec_event *e)
{
	uint8_t a[XP_REC_PAYLOAD], b[XP_REC_PAYLOAD];
	const uint8_t *old;

	if (e->len != XP_REC_SIZE || e->off < XP_TABLE_OFFSET ||
	    (e->off - XP_TABLE_OFFSET) % XP_REC_SIZE ||
	    e->off - XP_TABLE_OFFSET >= sizeof(s->table_before))
		return false;
	old = s->table_before + (e->off - XP_TABLE_OFFSET);
	xp_rec_gather(e->data, a);
	xp_rec_gather(old, b);
	if (memcmp(a, b, sizeof(a)))
		return false;
	for (uint32_t w = 1; w < XP_REC_WORDS; w++)
		if (e->data[w * 8 + 7] != e->data[7])
			return false;
	return true;
}

/* After an update no current copy may keep mixed tags: the library evens
 * them under the update's fence. */
static void check_even_tags(struct sim *s)
{
	struct xp_slot slot;
	struct xp_sb sb;

	if (decode_sb(s, &sb))
		return;
	for (uint32_t i = 0; i < sb.slot_count; i++) {
		xp_slot_decode(&sb, i, s->rm->per + xp_slot_offset(i), &slot);
		if (slot.mixed_tags) {
			op_fail(s, "a current copy keeps mixed tags after an update",
				"slot %u", i);
			return;
		}
	}
}

/*
 * An extent update is one store of a record copy and one fence. Over a
 * copy that is neither valid nor blank (torn by an interrupted update, or
 * damaged) the copy's seq word goes first, behind a fence of its own.
 * Stores that only even the tags of other slots' current copies ride on
 * the update's fence.
 */
static void check_fences(struct sim *s)
{
	struct recmedia *rm = s->rm;
	const struct rec_event *st[2] = {NULL, NULL};
	unsigned nst = 0;
	enum xp_fmt_status target = XP_OK;
	struct xp_rec r;
	struct xp_sb sb;
	const char *field;
	uint64_t fences = rm->nfences;
	bool data = false;

	for (size_t i = 0; i < rm->nlog; i++) {
		if (rm->log[i].kind != REC_EV_STORE)
			continue;
		if (data_event(s, &rm->log[i])) {
			data = true;
			continue;
		}
		if (evens_tags(s, &rm->log[i])) {
			s->evened++;
			continue;
		}
		if (nst++ < 2)
			st[nst - 1] = &rm->log[i];
	}
	/* The label copy's own fence, before the record's. */
	if (data && fences)
		fences--;
	check_even_tags(s);
	if (!nst)
		return;
	if (st[nst > 1]->len == XP_REC_SIZE && !decode_sb(s, &sb)) {
		uint64_t off = st[nst > 1]->off;

		target = xp_rec_decode(&sb, (uint32_t)((off - XP_TABLE_OFFSET) /
						       XP_SLOT_SIZE),
				       s->table_before + (off - XP_TABLE_OFFSET),
				       &r, &field);
	}
	if (target == XP_OK || target == XP_E_BLANK) {
		if (nst != 1 || fences != 1)
			op_fail(s, "not a single-fence update",
				"%u stores, %" PRIu64 " fences over a %s copy", nst,
				fences, xp_fmt_strstatus(target));
		return;
	}
	s->seq_first++;
	if (nst != 2 || fences != 2 || st[0]->len != 8 ||
	    st[0]->off != st[1]->off || st[1]->len != XP_REC_SIZE ||
	    memcmp(st[0]->data, st[1]->data, 8))
		op_fail(s, "update over a torn copy does not store its seq word first",
			"%u stores, %" PRIu64 " fences, first store %#" PRIx64
			"+%" PRIu64 " over a %s copy",
			nst, fences, st[0]->off, st[0]->len,
			xp_fmt_strstatus(target));
}

static void run_op(struct sim *s)
{
	struct recmedia *rm = s->rm;
	struct xp_media *m = rec_media(rm);
	struct mstate got;
	struct xp_ns *ns = NULL;
	struct xp_extent created;
	struct chkres rep;
	struct mext fb;
	bool fb_used = false;
	char err[320];
	int want_rc, rc;
	bool writes;

	s->ops++;
	s->kind_ops[s->op.kind]++;
	if (s->op.kind == OP_REPAIR) {
		corrupt(s, &fb, &fb_used);
		s->rv_ops[s->op.rv]++;
	}
	describe(s);
	writes = model_predict(s, &want_rc);
	if (fb_used) {
		s->after.e[s->after.n++] = fb;
		msort(&s->after);
	}
	s->before = s->cur;
	s->seen_uuid_set = s->uuid_conflict = false;
	s->point_no = 0;
	memcpy(s->table_before, rm->per + XP_TABLE_OFFSET,
	       (size_t)s->nslots * XP_SLOT_SIZE);

	/* The before-state: what check says, and the image itself. */
	{
		struct xp_media *pm = xp_media_mem_new(rm->per, s->size);

		run_check(pm, &s->cbefore);
		if (note_before(s, pm))
			op_fail(s, "image before the operation does not open",
				"%s", xp_last_error());
		xp_media_close(pm);
	}
	memset(&s->cafter, 0, sizeof(s->cafter));	/* clean */
	if (s->op.kind != OP_REPAIR)
		s->cafter = s->cbefore;
	if (s->verbose)
		fprintf(stderr, "op #%u %s\n", s->opno, s->desc);
	verify_image(s, "before the operation", true);

	rec_log_reset(rm);
	memset(&created, 0, sizeof(created));
	rm->point = crash_point;
	rm->point_arg = s;
	if (s->op.kind == OP_REPAIR) {
		memset(&rep, 0, sizeof(rep));
		rc = xp_check_media(m, XP_CHECK_REPAIR | s->fix_force, chk_cb,
				    &rep);
		want_rc = 0;
	} else {
		rc = xp_ns_open_media(m, XP_OPEN_WRITE, &ns);
		if (rc) {
			rm->point = NULL;
			op_fail(s, "cannot open for writing", "%s", xp_last_error());
			s->cur = s->before;
			return;
		}
		switch (s->op.kind) {
		case OP_CREATE: {
			struct xp_create_opts o = {
				.name = s->op.name, .size = s->op.size,
				.align = s->op.align, .label_size = s->op.label,
			};
			memcpy(o.owner, s->op.owner, 16);
			rc = xp_extent_create(ns, &o, &created);
			break;
		}
		case OP_DESTROY:
			rc = xp_extent_destroy(ns, s->op.name,
					       s->op.force ? XP_FORCE : 0);
			break;
		case OP_RESIZE:
			rc = xp_extent_resize(ns, s->op.name, s->op.size,
					      XP_FORCE, NULL, NULL);
			break;
		case OP_RENAME:
			rc = xp_extent_rename(ns, s->op.name, s->op.name2,
					      s->op.force ? XP_FORCE : 0);
			break;
		case OP_ASSIGN:
			rc = xp_extent_assign(ns, s->op.name, s->op.owner);
			break;
		case OP_UNASSIGN:
			rc = xp_extent_assign(ns, s->op.name,
					      s->op.owner_null ? NULL : nil_uuid);
			break;
		case OP_SET_STATE:
			rc = xp_extent_set_state(ns, s->op.name,
						 (enum xp_extent_state)s->op.state);
			break;
		default:
			rc = -EINVAL;
		}
		xp_ns_close(ns);
	}
	rm->point = NULL;

	if (!writes && s->op.kind != OP_REPAIR) {
		static const int codes[NREFUSE] = {0, EINVAL, ENOENT, EEXIST,
						   ENOSPC, EBUSY};

		for (int k = 0; k < NREFUSE; k++)
			if (-want_rc == codes[k])
				s->refused[k]++;
	}
	if (rc != want_rc)
		op_fail(s, "unexpected return code", "returned %d (%s), model expects %d",
			rc, rc ? xp_last_error() : "ok", want_rc);
	if (rm->nstores)
		s->ops_written++;
	else
		s->ops_refused++;
	if (!writes && rm->nstores)
		op_fail(s, "refused or no-op operation wrote", "%" PRIu64 " stores",
			rm->nstores);
	if (writes && !rm->nstores && !rc)
		op_fail(s, "operation wrote nothing", "model expects a change");
	for (size_t i = 0; i < rm->nlog; i++) {
		const struct rec_event *e = &rm->log[i];

		if (data_event(s, e))
			continue;
		if ((e->kind == REC_EV_STORE && !store_allowed(s, e)) ||
		    e->kind == REC_EV_ZERO)
			op_fail(s, "store outside the metadata it may change",
				"event %zu: %s at %#" PRIx64 "+%#" PRIx64, i,
				e->kind == REC_EV_ZERO ? "zero" : "store", e->off,
				e->len);
	}
	if (rec_pending(rm))
		op_fail(s, "not durable when the operation returned",
			"%zu lines stored but not flushed and fenced",
			rec_pending(rm));
	if (rm->nstores && s->op.kind != OP_REPAIR)
		check_fences(s);

	/* What the library now says (volatile view) is the after-state. */
	{
		struct xp_media *vm = xp_media_mem_new(rm->vol, s->size);

		if (read_state(vm, &got, NULL, err, sizeof(err))) {
			op_fail(s, "namespace does not open after the operation",
				"%s", err);
			got = s->cur;
		} else {
			if (s->op.kind == OP_CREATE && !rc) {
				int k = mfind(&s->after, s->op.name);

				if (k >= 0) {
					memcpy(s->after.e[k].uuid, created.uuid, 16);
					s->after.e[k].uuid_pending = false;
				}
				if (s->seen_uuid_set &&
				    memcmp(s->seen_uuid, created.uuid, 16))
					op_fail(s, "crash image showed another uuid",
						"for the created extent");
				if (s->uuid_conflict)
					op_fail(s, "crash images disagree on the new uuid",
						"%s", s->op.name);
			}
			if (!state_equal(s, &got, rc == want_rc ? &s->after : &s->before,
					 false)) {
				char a[700], b[700];

				state_str(&s->after, a, sizeof(a));
				state_str(&got, b, sizeof(b));
				op_fail(s, "state after the operation differs from the model",
					"model {%s} library {%s}", a, b);
			}
			if (s->op.kind == OP_REPAIR) {
				struct chkres after;

				run_check(vm, &after);
				if (after.rc != 0) {
					char a[700];

					chk_str(&after, a, sizeof(a));
					op_fail(s, "repair left errors", "%s", a);
				}
			}
		}
		xp_media_close(vm);
	}
	/* Continue from what is really there, so one bug does not cascade. */
	s->cur = got;
	for (unsigned i = 0; i < s->cur.n; i++)
		s->cur.e[i].uuid_pending = false;
	if (s->op.interrupt && !rc && writes && rm->nstores == 1)
		interrupt_op(s);
	if (s->op.kind == OP_REPAIR || s->opno % 64 == 0) {
		/* make sure the next operation starts clean */
		struct xp_media *pm = xp_media_mem_new(rm->per, s->size);
		struct chkres c;

		run_check(pm, &c);
		xp_media_close(pm);
		if (c.rc) {
			rec_log_reset(rm);
			xp_check_media(m, XP_CHECK_REPAIR | XP_CHECK_FORCE, NULL,
				       NULL);
		}
		if (!mgmt_intact(s, rm->per) || !mgmt_intact(s, rm->vol))
			op_fail(s, "management area bytes changed",
				"after the operation");
	}
	rec_log_reset(rm);
}

/* -------------------------------------------------------------- setup -- */

static int setup(struct sim *s, uint64_t size)
{
	struct xp_init_opts o = {
		.max_extents = s->nslots,
		.mgmt = s->mgmt_xen ? XP_MGMT_XEN : XP_MGMT_NONE,
		.align = A2M,
	};
	struct xp_ns *ns;
	uint8_t *data;
	int rc;

	s->size = size;
	s->rm = rec_new(size, s->model);
	if (!s->rm)
		return -ENOMEM;
	rc = xp_ns_init_media(rec_media(s->rm), &o, NULL);
	if (rc) {
		fprintf(stderr, "init failed: %s\n", xp_last_error());
		return rc;
	}
	if (rec_pending(s->rm)) {
		fprintf(stderr, "FAIL init: %zu lines not durable after init\n",
			rec_pending(s->rm));
		s->op_failures++;
	}
	rec_log_reset(s->rm);
	s->rm->inject = inject;	/* after init: only the workload is broken */
	rc = xp_ns_open_media(rec_media(s->rm), 0, &ns);
	if (rc) {
		fprintf(stderr, "open after init failed: %s\n", xp_last_error());
		return rc;
	}
	xp_ns_get_info(ns, &s->info);
	xp_ns_close(ns);
	if (s->info.major != 2 || s->info.align != A2M ||
	    s->info.slot_count != s->nslots ||
	    (s->info.mgmt == XP_MGMT_XEN) != s->mgmt_xen) {
		fprintf(stderr, "init wrote format %u.%u, align %" PRIu64
			", %u slots, mgmt %d: not what was asked\n",
			s->info.major, s->info.minor, s->info.align,
			s->info.slot_count, (int)s->info.mgmt);
		return -EPROTO;
	}
	s->backup_off = size - XP_SB_BLOCK;
	s->table_end = XP_TABLE_OFFSET + (uint64_t)s->nslots * XP_SLOT_SIZE;

	/* The hypervisor's area and the guests' data hold patterns. */
	s->mgmt_pat = malloc(s->info.mgmt_size ? s->info.mgmt_size : 1);
	data = malloc(1 << 16);
	if (!s->mgmt_pat || !data)
		return -ENOMEM;
	for (uint64_t i = 0; i < s->info.mgmt_size; i++)
		s->mgmt_pat[i] = (uint8_t)(0xa5 ^ (i * 131 + (i >> 12)));
	rec_poke(s->rm, s->info.mgmt_offset, s->mgmt_pat, s->info.mgmt_size);
	for (uint64_t o2 = 0; o2 < s->info.data_size; o2 += 1 << 16) {
		uint64_t len = s->info.data_size - o2 < (1 << 16) ?
				       s->info.data_size - o2 : (1 << 16);

		for (uint64_t i = 0; i < len; i++)
			data[i] = (uint8_t)(0x3c + ((o2 + i) >> 9));
		rec_poke(s->rm, s->info.data_offset + o2, data, len);
	}
	free(data);

	s->dl = malloc(MAXD * sizeof(*s->dl));
	s->saved = malloc((size_t)MAXD * s->rm->line);
	s->sel = malloc(MAXD);
	s->keys = malloc(MAX_KEYS * sizeof(*s->keys));
	s->keylen = malloc(MAX_KEYS * sizeof(*s->keylen));
	if (!s->dl || !s->saved || !s->sel || !s->keys || !s->keylen)
		return -ENOMEM;
	return 0;
}

static void teardown(struct sim *s)
{
	rec_free(s->rm);
	free(s->mgmt_pat);
	free(s->dl);
	free(s->saved);
	free(s->sel);
	free(s->keys);
	free(s->keylen);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct totals {
	uint64_t ops, images, full, equiv, passed, failed, op_failures, points;
	uint64_t interrupted, slot_points, sb_midway, slot_checks, injected;
	char reasons[4096];
};

struct runcfg {
	uint64_t seed, size;
	uint32_t nslots;
	const char *mgmt;	/* xen, none, or mixed (pmem xen, block none) */
	unsigned max_report;
	const char *dump_dir;
	bool verbose;
	double time_limit;
};

static int run_model(enum rec_model model, unsigned nops,
		     const struct runcfg *cfg, struct totals *tot)
{
	struct sim *s = calloc(1, sizeof(*s));
	double t0 = now(), last = t0;
	int rc;

	if (!s)
		return -ENOMEM;
	s->model = model;
	s->nslots = cfg->nslots;
	s->mgmt_xen = !strcmp(cfg->mgmt, "xen") ||
		      (!strcmp(cfg->mgmt, "mixed") && model == REC_PMEM);
	s->max_report = cfg->max_report;
	s->max_dump = 5;
	s->dump_dir = cfg->dump_dir;
	s->verbose = cfg->verbose;
	rng_state = cfg->seed ^ (model == REC_PMEM ? 0 : 0x5bd1e995ull);
	rc = setup(s, cfg->size);
	if (rc) {
		teardown(s);
		free(s);
		return rc;
	}
	printf("[%s] seed %" PRIu64 ", format %u.%u, image %" PRIu64
	       " MiB, %u slots, align 2M, mgmt %s (%" PRIu32 "+%" PRIu32
	       "+%" PRIu32 " chunks) %#" PRIx64 "+%#" PRIx64 ", data %#" PRIx64
	       "+%#" PRIx64 ", line %u bytes\n",
	       model_name(model), cfg->seed, s->info.major, s->info.minor,
	       cfg->size >> 20, s->nslots, s->mgmt_xen ? "xen" : "none",
	       s->info.ft_chunks, s->info.m2p_chunks, s->info.compat_chunks,
	       s->info.mgmt_offset, s->info.mgmt_size, s->info.data_offset,
	       s->info.data_size, s->rm->line);
	fflush(stdout);
	for (s->opno = 1; s->opno <= nops || !nops; s->opno++) {
		gen_op(s, &s->op);
		run_op(s);
		if (now() - last > 60) {
			last = now();
			printf("[%s] ... %" PRIu64 " operations, %" PRIu64
			       " images, %" PRIu64 " failures (%.0f s)\n",
			       model_name(model), s->ops, s->images,
			       s->failed + s->op_failures, last - t0);
			fflush(stdout);
		}
		if (cfg->time_limit > 0 && now() - t0 > cfg->time_limit)
			break;
	}
	printf("[%s] operations: %" PRIu64 " (%" PRIu64 " wrote, %" PRIu64
	       " refused or no-op), %" PRIu64 " left interrupted (torn; %" PRIu64
	       " of them still a whole new record), %" PRIu64
	       " updates over a torn copy (seq word first), %" PRIu64
	       " current copies' mixed tags evened\n",
	       model_name(model), s->ops, s->ops_written, s->ops_refused,
	       s->interrupted, s->torn_whole, s->seq_first, s->evened);
	for (int k = 0; k < OP__N; k++)
		printf("[%s]   %-9s %6" PRIu64 " ops %10" PRIu64 " images %8" PRIu64
		       " failures\n",
		       model_name(model), opname[k], s->kind_ops[k],
		       s->kind_images[k], s->kind_fail[k]);
	printf("[%s]   refused: no-op %" PRIu64 ", EINVAL %" PRIu64
	       ", ENOENT %" PRIu64 ", EEXIST %" PRIu64 ", ENOSPC %" PRIu64
	       ", EBUSY %" PRIu64 "\n",
	       model_name(model), s->refused[0], s->refused[1], s->refused[2],
	       s->refused[3], s->refused[4], s->refused[5]);
	printf("[%s]   repairs:", model_name(model));
	for (int k = 0; k < RV__N; k++)
		printf(" %s %" PRIu64, rvname[k], s->rv_ops[k]);
	printf("\n[%s] crash points: %" PRIu64 ", crash images checked: %" PRIu64
	       " (opened in full %" PRIu64 ", same decoded slot as an opened one %"
	       PRIu64 "; slot-level tear points %" PRIu64
	       "), image failures: %" PRIu64 ", operation failures: %" PRIu64
	       " (%.1f s)\n",
	       model_name(model), s->points, s->images, s->full_images,
	       s->equiv_images, s->slot_points, s->failed, s->op_failures,
	       now() - t0);
	for (unsigned i = 0; i < s->nfk; i++) {
		size_t k = strlen(tot->reasons);

		printf("[%s] failure kind: %" PRIu64 " x %s\n", model_name(model),
		       s->fk[i].count, s->fk[i].key);
		snprintf(tot->reasons + k, sizeof(tot->reasons) - k, "%s\n",
			 s->fk[i].key);
	}
	fflush(stdout);
	tot->ops += s->ops;
	tot->images += s->images;
	tot->full += s->full_images;
	tot->equiv += s->equiv_images;
	tot->passed += s->passed;
	tot->failed += s->failed;
	tot->op_failures += s->op_failures;
	tot->points += s->points;
	tot->interrupted += s->interrupted;
	tot->slot_points += s->slot_points;
	tot->sb_midway += s->sb_midway;
	tot->slot_checks += s->slot_checks;
	tot->injected += s->rm->injected;
	teardown(s);
	free(s);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crashsim [--seed N] [--ops N] [--block-ops N] [--model pmem|block|both]\n"
		"                [--size MiB] [--slots N] [--mgmt xen|none|mixed]\n"
		"                [--time SECONDS] [--max-report N] [--dump-dir DIR]\n"
		"                [--word-exhaustive BITS] [--slot-exhaustive BITS]\n"
		"                [--slot-exhaustive-every N] [--interrupt PCT] [--verbose]\n"
		"                [--inject swap-copy|drop-flush|tag-reuse]\n"
		"                [--expect-fail] [--expect-reason TEXT]\n"
		"  --slot-exhaustive: when the changed words all lie in one table\n"
		"    slot, walk every subset of up to BITS of them through the slot\n"
		"    decoder, opening each distinct decoding (default 16: a whole\n"
		"    record copy; max 24); --slot-exhaustive-every N does that at\n"
		"    every Nth such crash point only (default 1; 0 = never).\n"
		"  --word-exhaustive: otherwise open every word-level tear when at\n"
		"    most BITS 8-byte words changed at a crash point (default 14,\n"
		"    max 24; with --slot-exhaustive 0 also for record stores).\n"
		"  --interrupt: percent of pmem updates left torn afterwards (default 8).\n"
		"  --mgmt: management area (default mixed: xen for pmem, none for block).\n"
		"  --ops 0 runs until --time expires (long mode).\n"
		"  --inject breaks the persistence protocol on purpose (in the\n"
		"    recorder, not the library) to show the simulator catches it:\n"
		"    the run must then fail; --expect-fail inverts the exit status,\n"
		"    --expect-reason also demands a failure kind containing TEXT.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"seed", required_argument, NULL, 's'},
		{"ops", required_argument, NULL, 'n'},
		{"block-ops", required_argument, NULL, 'b'},
		{"model", required_argument, NULL, 'm'},
		{"size", required_argument, NULL, 'S'},
		{"slots", required_argument, NULL, 'e'},
		{"mgmt", required_argument, NULL, 'g'},
		{"time", required_argument, NULL, 't'},
		{"max-report", required_argument, NULL, 'r'},
		{"dump-dir", required_argument, NULL, 'd'},
		{"word-exhaustive", required_argument, NULL, 'w'},
		{"slot-exhaustive", required_argument, NULL, 'W'},
		{"slot-exhaustive-every", required_argument, NULL, 'E'},
		{"interrupt", required_argument, NULL, 'I'},
		{"inject", required_argument, NULL, 'i'},
		{"expect-fail", no_argument, NULL, 'F'},
		{"expect-reason", required_argument, NULL, 'R'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct runcfg cfg = {
		.seed = 20240601, .size = 64 << 20, .nslots = 16,
		.mgmt = "mixed", .max_report = 20,
	};
	uint64_t size_mib = 64;
	long nops = 1000, bops = -1;
	const char *model = "both", *expect_reason = NULL;
	double t0 = now();
	bool expect_fail = false, caught;
	struct totals tot = {0};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:b:m:S:e:g:t:r:d:w:W:E:I:i:FR:vh",
				lo, NULL)) != -1) {
		switch (c) {
		case 's': cfg.seed = strtoull(optarg, NULL, 0); break;
		case 'n': nops = strtol(optarg, NULL, 0); break;
		case 'b': bops = strtol(optarg, NULL, 0); break;
		case 'm': model = optarg; break;
		case 'S': size_mib = strtoull(optarg, NULL, 0); break;
		case 'e': cfg.nslots = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'g': cfg.mgmt = optarg; break;
		case 't': cfg.time_limit = strtod(optarg, NULL); break;
		case 'r': cfg.max_report = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': cfg.dump_dir = optarg; break;
		case 'w':
			word_exhaustive_max = (unsigned)strtoul(optarg, NULL, 0);
			if (word_exhaustive_max > 24)
				word_exhaustive_max = 24;
			break;
		case 'W':
			slot_exhaustive_max = (unsigned)strtoul(optarg, NULL, 0);
			if (slot_exhaustive_max > 24)
				slot_exhaustive_max = 24;
			break;
		case 'E':
			slot_exhaustive_every = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'I': interrupt_pct = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'i':
			if (!strcmp(optarg, "swap-copy"))
				inject = REC_INJ_SWAP_COPY;
			else if (!strcmp(optarg, "drop-flush"))
				inject = REC_INJ_DROP_FLUSH;
			else if (!strcmp(optarg, "tag-reuse"))
				inject = REC_INJ_TAG_REUSE;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'F': expect_fail = true; break;
		case 'R': expect_reason = optarg; expect_fail = true; break;
		case 'v': cfg.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || nops < 0 || size_mib < 16 || size_mib > 4096 ||
	    cfg.nslots < 1 || cfg.nslots > MAXSLOTS || interrupt_pct > 100 ||
	    (strcmp(cfg.mgmt, "xen") && strcmp(cfg.mgmt, "none") &&
	     strcmp(cfg.mgmt, "mixed")) ||
	    (strcmp(model, "pmem") && strcmp(model, "block") &&
	     strcmp(model, "both"))) {
		usage(stderr);
		return 2;
	}
	cfg.size = size_mib << 20;
	if (bops < 0)
		bops = nops;
	if (strcmp(model, "block") && run_model(REC_PMEM, (unsigned)nops, &cfg, &tot))
		return 2;
	if (strcmp(model, "pmem") && run_model(REC_BLOCK, (unsigned)bops, &cfg, &tot))
		return 2;
	printf("COUNTS: operations %" PRIu64 ", crash points %" PRIu64
	       ", crash images checked %" PRIu64 ", opened in full %" PRIu64
	       ", same decoded slot %" PRIu64 ", image failures %" PRIu64
	       ", operation failures %" PRIu64 ", interrupted updates %" PRIu64
	       ", slot-level tear points %" PRIu64
	       ", interrupted superblock rewrites settled %" PRIu64
	       ", slot decodings checked for false corrupt %" PRIu64
	       ", wall %.1f s\n",
	       tot.ops, tot.points, tot.images, tot.full, tot.equiv, tot.failed,
	       tot.op_failures, tot.interrupted, tot.slot_points, tot.sb_midway,
	       tot.slot_checks, now() - t0);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", tot.passed,
	       tot.failed + tot.op_failures);
	if (expect_fail) {
		/* self-test: failures must have been found (of that kind) */
		caught = tot.failed || tot.op_failures;
		if (expect_reason && !strstr(tot.reasons, expect_reason))
			caught = false;
		printf("self-test: the recorder changed %" PRIu64
		       " stores; the simulator %s the injected violation%s%s%s\n",
		       tot.injected, caught ? "caught" : "MISSED",
		       expect_reason ? " (failure kind \"" : "",
		       expect_reason ? expect_reason : "",
		       expect_reason ? "\")" : "");
		return caught ? 0 : 1;
	}
	return tot.failed || tot.op_failures ? 1 : 0;
}
