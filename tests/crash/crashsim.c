/* SPDX-License-Identifier: MIT */
/*
 * Crash-consistency simulator.
 *
 * Drives libxenpmem through the recording backend (recmedia.c) with a
 * randomized workload of extent mutations and superblock repairs. At every
 * crash point of every operation (after each store, after each fence) it
 * builds the images a power failure could leave:
 *
 *   - the persisted image at each fence (every prefix of fenced epochs);
 *   - the persisted image plus every subset of the dirty lines (flushed or
 *     not: a flushed line may or may not have reached the media before the
 *     fence, an unflushed one may have been evicted): exhaustive up to 12
 *     lines, 1,000 random subsets plus the structured ones beyond;
 *   - pmem model: torn lines, every subset of the changed 8-byte words of
 *     a line (sampled when more than 12 lines are dirty), combined with the
 *     other dirty lines none / all / a random subset;
 *   - block model: 512-byte sectors instead of lines, so the subsets are
 *     the torn-sector images.
 *
 * Each image is opened through the normal path (xp_media_mem_new +
 * xp_ns_open_media, read-only) and must show exactly the extent set of the
 * reference model before or after the operation, satisfy the invariants
 * (no overlap, inside the data area, unique names, management area bytes
 * untouched) and check no worse than the state before the operation (for
 * repairs: check exactly as before or as after).
 *
 * Output: per-model counts, then "N passed, M failed" (crash images).
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

#define NSLOTS 64u
#define NNAMES 80
#define PAGE 4096ull
#define MAXD 4096		/* dirty lines at one crash point, at most */
#define EXHAUSTIVE_MAX 12	/* dirty lines enumerated exhaustively */
#define RANDOM_SUBSETS 1000	/* random subsets beyond that */
#define TORN_SAMPLES 16		/* word subsets per line beyond that */
#define MAX_OBJ 32

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

struct mext {
	char name[XP_NAME_MAX + 1];
	uint64_t off, size;
	uint32_t owner;
	uint8_t uuid[16];
	bool uuid_pending;	/* created by the running op: not known yet */
};

struct mstate {
	struct mext e[NSLOTS];
	unsigned n;		/* sorted by offset */
};

static int mfind(const struct mstate *st, const char *name)
{
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

/* ------------------------------------------------------------- checks -- */

struct chkres {
	int rc;			/* xp_check_media(): errors or -errno */
	unsigned nobj;
	char obj[MAX_OBJ][48];	/* objects of XP_ERROR findings, sorted */
	char first[256];	/* first error, for messages */
};

static void chk_cb(const struct xp_finding *f, void *arg)
{
	struct chkres *r = arg;
	unsigned i;

	if (f->severity != XP_ERROR)
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

/* ---------------------------------------------------------- simulator -- */

enum opkind {
	OP_CREATE, OP_DESTROY, OP_RESIZE, OP_RENAME, OP_ASSIGN, OP_UNASSIGN,
	OP_REPAIR, OP__N
};
static const char *const opname[OP__N] = {
	"create", "destroy", "resize", "rename", "assign", "unassign", "repair",
};

enum repair_variant {
	RV_FLIP,	/* one byte of a header flipped */
	RV_ZERO,	/* whole copy zeroed */
	RV_GARBAGE,	/* whole 4K copy random */
	RV_STALE,	/* valid but different (mismatch) */
	RV_ZEROAREA,	/* bytes in 4K..8K */
	RV__N
};
static const char *const rvname[RV__N] = {
	"flip-byte", "zeroed", "garbage", "stale-copy", "zero-area",
};

struct op {
	enum opkind kind;
	char name[XP_NAME_MAX + 1], name2[XP_NAME_MAX + 1];
	uint64_t size;
	uint32_t owner;
	bool force;
	enum repair_variant rv;
	int which;		/* repair: 0 primary, 1 backup */
};

struct fail_kind {
	char key[96];
	uint64_t count;
};

struct sim {
	struct recmedia *rm;
	enum rec_model model;
	uint64_t size;
	struct xp_info info;
	uint64_t meta_end;	/* mgmt_offset: metadata lives below */
	uint64_t backup_off;
	uint8_t *mgmt_pat;	/* the management area as filled */

	struct mstate cur;	/* the model */

	/* the running operation */
	unsigned opno;
	struct op op;
	char desc[200];
	struct mstate before, after;
	struct chkres cbefore, cafter;
	bool seen_uuid_set, uuid_conflict;
	uint8_t seen_uuid[16];

	/* crash point scratch */
	uint64_t *dl;
	uint8_t *saved;		/* persisted bytes of the dirty lines */
	uint8_t *sel;
	unsigned point_no;

	/* counters */
	uint64_t ops, ops_written, ops_refused;
	uint64_t points, images, passed, failed, op_failures;
	uint64_t kind_ops[OP__N], kind_images[OP__N], kind_fail[OP__N];
	struct fail_kind fk[64];
	unsigned nfk;
	unsigned max_report, reported, dumped, max_dump;
	const char *dump_dir;
	bool verbose;
};

static const char *model_name(enum rec_model m)
{
	return m == REC_PMEM ? "pmem" : "block";
}

static void note_failure(struct sim *s, const char *reason)
{
	char key[96];

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
	if (st->n > NSLOTS) {
		snprintf(err, errlen, "%u extents in a %u-slot table", st->n,
			 NSLOTS);
		xp_ns_close(ns);
		return -ERANGE;
	}
	for (unsigned i = 0; i < st->n; i++) {
		struct xp_extent e;

		xp_ns_extent_get(ns, i, &e);
		memcpy(st->e[i].name, e.name, sizeof(st->e[i].name));
		st->e[i].off = e.offset;
		st->e[i].size = e.size;
		st->e[i].owner = e.owner;
		memcpy(st->e[i].uuid, e.uuid, 16);
	}
	if (nsp)
		*nsp = ns;
	else
		xp_ns_close(ns);
	return 0;
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

		if (strcmp(a->name, b->name) || a->off != b->off ||
		    a->size != b->size || a->owner != b->owner)
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
		if (e->owner != XP_OWNER_NONE && n + 1 < len)
			n += (size_t)snprintf(buf + n, len - n, "/d%u", e->owner);
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
 * Verify the image now in s->rm->per. @what describes how it was built.
 * Returns true when it passed.
 */
static bool verify_image(struct sim *s, const char *what, bool delta_in_mgmt)
{
	struct xp_media *m = xp_media_mem_new(s->rm->per, s->size);
	struct mstate got;
	struct chkres cr;
	char err[256] = "", a[600], b[600], c[600];
	const char *reason = NULL;
	bool eb, ea;

	if (!m) {
		fprintf(stderr, "out of memory\n");
		exit(2);
	}
	m->writable = 0;
	snprintf(m->target, sizeof(m->target), "(crash image)");
	s->images++;
	s->kind_images[s->op.kind]++;

	if (read_state(m, &got, NULL, err, sizeof(err))) {
		reason = "image does not open";
		goto fail;
	}
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
		if (!chk_equal(&cr, &s->cbefore) && !chk_equal(&cr, &s->cafter)) {
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
			err[0] ? "(none: open failed)" : c);
		if (!err[0]) {
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
static unsigned changed_words(const struct sim *s, uint64_t l)
{
	const struct recmedia *rm = s->rm;
	unsigned mask = 0;

	for (unsigned w = 0; w < rm->line / 8; w++)
		if (memcmp(rm->vol + l * rm->line + 8 * w,
			   rm->per + l * rm->line + 8 * w, 8))
			mask |= 1u << w;
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

static unsigned word_exhaustive_max = 14;
static enum rec_inject inject;

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
		cw[i] = changed_words(s, s->dl[i]);
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

/* Enumerate crash images at one crash point. */
static void crash_point(struct recmedia *rm, enum rec_ev_kind kind, void *arg)
{
	struct sim *s = arg;
	uint32_t L = rm->line;
	char point[96];
	size_t nd = rec_dirty_lines(rm, s->dl, MAXD);
	unsigned n = nd > MAXD ? MAXD : (unsigned)nd;

	s->points++;
	s->point_no++;
	snprintf(point, sizeof(point), "crash point %u, after %s #%zu of the op",
		 s->point_no, kind == REC_EV_STORE ? "store" : "fence",
		 rm->nlog);
	for (unsigned i = 0; i < n; i++)
		memcpy(s->saved + (size_t)i * L, rm->per + s->dl[i] * L, L);
	if (!mgmt_intact(s, rm->per))
		op_fail(s, "management area bytes changed",
			"persisted image at %s", point);

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
	 * Torn stores. When few 8-byte words changed, every subset of all of
	 * them across every dirty line at once (the whole space of word-level
	 * tears); otherwise each line torn alone, combined with the others.
	 */
	if (n <= EXHAUSTIVE_MAX) {
		unsigned total = 0;

		for (unsigned i = 0; i < n; i++)
			total += (unsigned)__builtin_popcount(changed_words(s, s->dl[i]));
		if (total <= word_exhaustive_max) {
			torn_all_words(s, n, total, point);
			return;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned cw = changed_words(s, s->dl[i]), bits[8], k = 0;
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

static void pool_name(char *buf, unsigned i)
{
	snprintf(buf, XP_NAME_MAX + 1, "vm%02u", i);
}

static uint64_t rand_size(void)
{
	unsigned r = (unsigned)rnd_below(100);

	if (r < 55)
		return PAGE * (1 + rnd_below(64));		/* 4K..256K */
	if (r < 90)
		return PAGE * (64 + rnd_below(960));		/* ..4M */
	if (r < 98)
		return PAGE * (1024 + rnd_below(7168));		/* ..32M */
	return PAGE * (16384 + rnd_below(16384));		/* 64M..128M */
}

static void gen_op(struct sim *s, struct op *op)
{
	unsigned n = s->cur.n, r = (unsigned)rnd_below(100);
	unsigned create_pct = n < 8 ? 55 : n > 40 ? 15 : 30;

	memset(op, 0, sizeof(*op));
	op->owner = XP_OWNER_NONE;
	if (r < 6) {
		op->kind = OP_REPAIR;
	} else if (r < 6 + create_pct || !n) {
		op->kind = OP_CREATE;
	} else {
		static const enum opkind k[] = {
			OP_DESTROY, OP_DESTROY, OP_DESTROY, OP_RESIZE, OP_RESIZE,
			OP_RESIZE, OP_RENAME, OP_RENAME, OP_ASSIGN, OP_UNASSIGN,
		};
		op->kind = k[rnd_below(sizeof(k) / sizeof(k[0]))];
	}

	/* Mostly existing names; sometimes a missing one (refused). */
	if (n && (op->kind != OP_CREATE ? chance(94) : chance(4)))
		snprintf(op->name, sizeof(op->name), "%s",
			 s->cur.e[rnd_below(n)].name);
	else
		pool_name(op->name, (unsigned)rnd_below(NNAMES));

	switch (op->kind) {
	case OP_CREATE:
		op->size = rand_size();
		if (chance(20))
			op->owner = (uint32_t)(1 + rnd_below(200));
		break;
	case OP_DESTROY:
		op->force = chance(60);
		break;
	case OP_RESIZE:
		op->size = chance(50) ? rand_size() : PAGE * (1 + rnd_below(256));
		if (chance(5) && mfind(&s->cur, op->name) >= 0)
			op->size = s->cur.e[mfind(&s->cur, op->name)].size;
		break;
	case OP_RENAME:
		pool_name(op->name2, (unsigned)rnd_below(NNAMES));
		if (chance(3))
			snprintf(op->name2, sizeof(op->name2), "%s", op->name);
		break;
	case OP_ASSIGN:
		op->owner = (uint32_t)rnd_below(300);
		break;
	case OP_UNASSIGN:
		op->owner = XP_OWNER_NONE;
		break;
	case OP_REPAIR:
		op->rv = (enum repair_variant)rnd_below(RV__N);
		op->which = (int)rnd_below(2);
		break;
	default:
		break;
	}
}

static void describe(struct sim *s)
{
	const struct op *op = &s->op;

	switch (op->kind) {
	case OP_CREATE:
		snprintf(s->desc, sizeof(s->desc), "create %s --size %" PRIu64 "K%s",
			 op->name, op->size / 1024,
			 op->owner != XP_OWNER_NONE ? " --owner" : "");
		if (op->owner != XP_OWNER_NONE) {
			size_t k = strlen(s->desc);

			snprintf(s->desc + k, sizeof(s->desc) - k, " %u", op->owner);
		}
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
		snprintf(s->desc, sizeof(s->desc), "rename %s %s", op->name,
			 op->name2);
		break;
	case OP_ASSIGN:
		snprintf(s->desc, sizeof(s->desc), "assign %s --owner %u",
			 op->name, op->owner);
		break;
	case OP_UNASSIGN:
		snprintf(s->desc, sizeof(s->desc), "unassign %s", op->name);
		break;
	case OP_REPAIR:
		snprintf(s->desc, sizeof(s->desc),
			 "check --repair after corrupting the %s superblock (%s)",
			 op->rv == RV_ZEROAREA ? "(no)" :
			 op->which ? "backup" : "primary", rvname[op->rv]);
		break;
	default:
		break;
	}
}

/* First fit, lowest address first, 4K aligned (phys_base 0). */
static bool model_place(const struct sim *s, const struct mstate *st,
			uint64_t size, uint64_t *off)
{
	uint64_t cursor = s->info.data_offset;
	uint64_t end = s->info.data_offset + s->info.data_size;

	for (unsigned i = 0; i <= st->n; i++) {
		uint64_t start = i < st->n ? st->e[i].off : end;

		if (start > cursor && start - cursor >= size) {
			*off = cursor;
			return true;
		}
		if (i < st->n && st->e[i].off + st->e[i].size > cursor)
			cursor = st->e[i].off + st->e[i].size;
	}
	return false;
}

/*
 * What the operation must do: the expected return code, and s->after.
 * Returns true when it must write (a real change).
 */
static bool model_predict(struct sim *s, int *want_rc)
{
	const struct op *op = &s->op;
	struct mstate *a = &s->after;
	int i;

	*a = s->cur;
	i = op->kind == OP_REPAIR ? -1 : mfind(a, op->name);
	*want_rc = 0;
	switch (op->kind) {
	case OP_CREATE: {
		uint64_t off;

		if (op->size > s->info.data_size)
			*want_rc = -ENOSPC;
		else if (i >= 0)
			*want_rc = -EEXIST;
		else if (a->n >= NSLOTS)
			*want_rc = -ENOSPC;
		else if (!model_place(s, a, op->size, &off))
			*want_rc = -ENOSPC;
		if (*want_rc)
			return false;
		memset(&a->e[a->n], 0, sizeof(a->e[a->n]));
		snprintf(a->e[a->n].name, sizeof(a->e[a->n].name), "%s", op->name);
		a->e[a->n].off = off;
		a->e[a->n].size = op->size;
		a->e[a->n].owner = op->owner;
		a->e[a->n].uuid_pending = true;
		a->n++;
		msort(a);
		return true;
	}
	case OP_DESTROY:
		if (i < 0)
			*want_rc = -ENOENT;
		else if (a->e[i].owner != XP_OWNER_NONE && !op->force)
			*want_rc = -EBUSY;
		if (*want_rc)
			return false;
		memmove(&a->e[i], &a->e[i + 1], (a->n - (unsigned)i - 1) *
							sizeof(a->e[0]));
		a->n--;
		return true;
	case OP_RESIZE: {
		uint64_t limit;

		if (i < 0) {
			*want_rc = -ENOENT;
			return false;
		}
		if (op->size > s->info.data_size) {
			*want_rc = -ENOSPC;
			return false;
		}
		limit = (unsigned)i + 1 < a->n ? a->e[i + 1].off :
			s->info.data_offset + s->info.data_size;
		if (a->e[i].off + op->size > limit) {
			*want_rc = -ENOSPC;
			return false;
		}
		if (op->size == a->e[i].size)
			return false;
		a->e[i].size = op->size;
		return true;
	}
	case OP_RENAME:
		if (i < 0) {
			*want_rc = -ENOENT;
			return false;
		}
		if (!strcmp(op->name, op->name2))
			return false;
		if (mfind(a, op->name2) >= 0) {
			*want_rc = -EEXIST;
			return false;
		}
		snprintf(a->e[i].name, sizeof(a->e[i].name), "%s", op->name2);
		return true;
	case OP_ASSIGN:
	case OP_UNASSIGN:
		if (i < 0) {
			*want_rc = -ENOENT;
			return false;
		}
		if (a->e[i].owner == op->owner)
			return false;
		a->e[i].owner = op->owner;
		return true;
	case OP_REPAIR:
		return true;
	default:
		return false;
	}
}

/* Damage the persisted state as the repair variant says (setup). */
static void corrupt(struct sim *s)
{
	struct recmedia *rm = s->rm;
	uint64_t where = s->op.which ? s->backup_off : 0;
	uint8_t blk[XP_SB_BLOCK];

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
			break;
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
		break;
	}
	rec_poke(rm, where, blk, sizeof(blk));
}

static bool store_allowed(const struct sim *s, const struct rec_event *e)
{
	uint64_t tlo = XP_TABLE_OFFSET, thi = tlo + (uint64_t)NSLOTS * XP_SLOT_SIZE;

	if (s->op.kind != OP_REPAIR)
		return e->off >= tlo && e->off + e->len <= thi;
	/* repair: superblock copies and the zero area only */
	return e->off + e->len <= XP_TABLE_OFFSET ||
	       (e->off >= s->backup_off && e->off + e->len <= s->size);
}

static void run_op(struct sim *s)
{
	struct recmedia *rm = s->rm;
	struct xp_media *m = rec_media(rm);
	struct mstate got;
	struct xp_ns *ns = NULL;
	struct xp_extent created;
	struct chkres rep;
	char err[256];
	int want_rc, rc;
	bool writes;

	describe(s);
	s->ops++;
	s->kind_ops[s->op.kind]++;
	if (s->op.kind == OP_REPAIR)
		corrupt(s);
	writes = model_predict(s, &want_rc);
	s->before = s->cur;
	s->seen_uuid_set = s->uuid_conflict = false;
	s->point_no = 0;

	/* The before-state: what check says, and the image itself. */
	{
		struct xp_media *pm = xp_media_mem_new(rm->per, s->size);

		run_check(pm, &s->cbefore);
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
		rc = xp_check_media(m, XP_CHECK_REPAIR, chk_cb, &rep);
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
				.owner = s->op.owner,
			};
			rc = xp_extent_create(ns, &o, &created);
			break;
		}
		case OP_DESTROY:
			rc = xp_extent_destroy(ns, s->op.name,
					       s->op.force ? XP_FORCE : 0);
			break;
		case OP_RESIZE:
			rc = xp_extent_resize(ns, s->op.name, s->op.size);
			break;
		case OP_RENAME:
			rc = xp_extent_rename(ns, s->op.name, s->op.name2);
			break;
		case OP_ASSIGN:
		case OP_UNASSIGN:
			rc = xp_extent_assign(ns, s->op.name, s->op.owner);
			break;
		default:
			rc = -EINVAL;
		}
		xp_ns_close(ns);
	}
	rm->point = NULL;

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
	if (rm->nstores && s->op.kind != OP_REPAIR && rm->nfences != 1)
		op_fail(s, "not a single-fence update", "%" PRIu64 " fences",
			rm->nfences);

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
				char a[600], b[600];

				state_str(&s->after, a, sizeof(a));
				state_str(&got, b, sizeof(b));
				op_fail(s, "state after the operation differs from the model",
					"model {%s} library {%s}", a, b);
			}
			if (s->op.kind == OP_REPAIR) {
				struct chkres after;

				run_check(vm, &after);
				if (after.rc != 0) {
					char a[600];

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
	if (s->op.kind == OP_REPAIR) {
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
	}
	rec_log_reset(rm);
}

/* -------------------------------------------------------------- setup -- */

static int setup(struct sim *s, uint64_t size)
{
	struct xp_init_opts o = {.max_extents = NSLOTS, .per_page = 40,
				 .align = PAGE};
	struct xp_ns *ns;
	uint8_t *data;
	int rc;

	s->size = size;
	s->rm = rec_new(size, s->model);
	if (!s->rm)
		return -ENOMEM;
	rc = xp_ns_init_media(rec_media(s->rm), &o);
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
	s->backup_off = size - XP_SB_BLOCK;
	s->meta_end = s->info.mgmt_offset;

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
	if (!s->dl || !s->saved || !s->sel)
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
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct totals {
	uint64_t ops, images, passed, failed, op_failures, points;
};

static int run_model(enum rec_model model, uint64_t seed, unsigned nops,
		     uint64_t size, unsigned max_report, const char *dump_dir,
		     bool verbose, double time_limit, struct totals *tot)
{
	struct sim *s = calloc(1, sizeof(*s));
	double t0 = now(), last = t0;
	int rc;

	if (!s)
		return -ENOMEM;
	s->model = model;
	s->max_report = max_report;
	s->max_dump = 5;
	s->dump_dir = dump_dir;
	s->verbose = verbose;
	rng_state = seed ^ (model == REC_PMEM ? 0 : 0x5bd1e995ull);
	rc = setup(s, size);
	if (rc) {
		teardown(s);
		free(s);
		return rc;
	}
	printf("[%s] seed %" PRIu64 ", image %" PRIu64 " MiB, %u slots, "
	       "data %#" PRIx64 "+%#" PRIx64 ", mgmt %#" PRIx64 "+%#" PRIx64
	       ", line %u bytes\n",
	       model_name(model), seed, size >> 20, NSLOTS, s->info.data_offset,
	       s->info.data_size, s->info.mgmt_offset, s->info.mgmt_size,
	       s->rm->line);
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
		if (time_limit > 0 && now() - t0 > time_limit)
			break;
	}
	printf("[%s] operations: %" PRIu64 " (%" PRIu64 " wrote, %" PRIu64
	       " refused or no-op)\n",
	       model_name(model), s->ops, s->ops_written, s->ops_refused);
	for (int k = 0; k < OP__N; k++)
		printf("[%s]   %-9s %6" PRIu64 " ops %10" PRIu64 " images %8" PRIu64
		       " failures\n",
		       model_name(model), opname[k], s->kind_ops[k],
		       s->kind_images[k], s->kind_fail[k]);
	printf("[%s] crash points: %" PRIu64 ", crash images checked: %" PRIu64
	       ", image failures: %" PRIu64 ", operation failures: %" PRIu64
	       " (%.1f s)\n",
	       model_name(model), s->points, s->images, s->failed,
	       s->op_failures, now() - t0);
	for (unsigned i = 0; i < s->nfk; i++)
		printf("[%s] failure kind: %" PRIu64 " x %s\n", model_name(model),
		       s->fk[i].count, s->fk[i].key);
	fflush(stdout);
	tot->ops += s->ops;
	tot->images += s->images;
	tot->passed += s->passed;
	tot->failed += s->failed;
	tot->op_failures += s->op_failures;
	tot->points += s->points;
	teardown(s);
	free(s);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crashsim [--seed N] [--ops N] [--block-ops N] [--model pmem|block|both]\n"
		"                [--size MiB] [--time SECONDS] [--max-report N]\n"
		"                [--dump-dir DIR] [--word-exhaustive BITS] [--verbose]\n"
		"  --word-exhaustive: enumerate every word-level tear when at most\n"
		"    BITS 8-byte words changed at a crash point (default 14, max 24).\n"
		"                [--inject swap-copy|drop-flush]\n"
		"  --ops 0 runs until --time expires (long mode).\n"
		"  --inject breaks the persistence protocol on purpose (in the\n"
		"    recorder, not the library) to show the simulator catches it:\n"
		"    the run must then fail; --expect-fail inverts the exit status.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"seed", required_argument, NULL, 's'},
		{"ops", required_argument, NULL, 'n'},
		{"block-ops", required_argument, NULL, 'b'},
		{"model", required_argument, NULL, 'm'},
		{"size", required_argument, NULL, 'S'},
		{"time", required_argument, NULL, 't'},
		{"max-report", required_argument, NULL, 'r'},
		{"dump-dir", required_argument, NULL, 'd'},
		{"word-exhaustive", required_argument, NULL, 'w'},
		{"inject", required_argument, NULL, 'i'},
		{"expect-fail", no_argument, NULL, 'F'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t seed = 20240601, size_mib = 64;
	long nops = 1000, bops = -1;
	const char *model = "both", *dump = NULL;
	unsigned max_report = 20;
	double tlimit = 0, t0 = now();
	bool verbose = false, expect_fail = false;
	struct totals tot = {0};
	int c;

	while ((c = getopt_long(argc, argv, "s:n:b:m:S:t:r:d:w:i:Fvh", lo, NULL)) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': nops = strtol(optarg, NULL, 0); break;
		case 'b': bops = strtol(optarg, NULL, 0); break;
		case 'm': model = optarg; break;
		case 'S': size_mib = strtoull(optarg, NULL, 0); break;
		case 't': tlimit = strtod(optarg, NULL); break;
		case 'r': max_report = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'd': dump = optarg; break;
		case 'w':
			word_exhaustive_max = (unsigned)strtoul(optarg, NULL, 0);
			if (word_exhaustive_max > 24)
				word_exhaustive_max = 24;
			break;
		case 'i':
			if (!strcmp(optarg, "swap-copy"))
				inject = REC_INJ_SWAP_COPY;
			else if (!strcmp(optarg, "drop-flush"))
				inject = REC_INJ_DROP_FLUSH;
			else {
				usage(stderr);
				return 2;
			}
			break;
		case 'F': expect_fail = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || nops < 0 || size_mib < 16 ||
	    (strcmp(model, "pmem") && strcmp(model, "block") &&
	     strcmp(model, "both"))) {
		usage(stderr);
		return 2;
	}
	if (bops < 0)
		bops = nops;
	if (strcmp(model, "block") &&
	    run_model(REC_PMEM, seed, (unsigned)nops, size_mib << 20, max_report,
		      dump, verbose, tlimit, &tot))
		return 2;
	if (strcmp(model, "pmem") &&
	    run_model(REC_BLOCK, seed, (unsigned)bops, size_mib << 20,
		      max_report, dump, verbose, tlimit, &tot))
		return 2;
	printf("COUNTS: operations %" PRIu64 ", crash points %" PRIu64
	       ", crash images checked %" PRIu64 ", image failures %" PRIu64
	       ", operation failures %" PRIu64 ", wall %.1f s\n",
	       tot.ops, tot.points, tot.images, tot.failed, tot.op_failures,
	       now() - t0);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", tot.passed,
	       tot.failed + tot.op_failures);
	if (expect_fail) {
		/* self-test: failures must have been found */
		printf("self-test: the simulator %s the injected violation\n",
		       tot.failed || tot.op_failures ? "caught" : "MISSED");
		return tot.failed || tot.op_failures ? 0 : 1;
	}
	return tot.failed || tot.op_failures ? 1 : 0;
}
