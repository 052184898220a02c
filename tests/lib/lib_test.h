/* SPDX-License-Identifier: MIT */
/*
 * Shared harness of the library tests (tests/lib): the minimal case runner
 * of tests/unit (ends with "N passed, M failed", exits non-zero on any
 * failure), plus in-memory namespace images and a media wrapper that
 * records every write the library makes, so a test can assert "nothing
 * was written" or "exactly one 128-byte record copy was written".
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
	xp_ns_set_badblocks_file(NULL);
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
	return tm_of(m)->inner->read(m, off, buf, len);
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
	tm_of(m)->ndrain++;
	return tm_of(m)->inner->drain(m);
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

/* ---- findings of check ---------------------------------------------------- */

struct findings {
	unsigned n;
	struct {
		enum xp_severity sev;
		char object[64];
		char text[200];
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

__attribute__((unused))
static void findings_dump(const struct findings *fs)
{
	static const char *sev[] = {"note", "error", "fixed"};

	for (unsigned i = 0; i < fs->n && i < 64; i++)
		fprintf(stderr, "    finding %s [%s] %s\n", sev[fs->f[i].sev],
			fs->f[i].object, fs->f[i].text);
}

__attribute__((unused))
static int run_check(struct xp_media *m, unsigned flags, struct findings *fs)
{
	memset(fs, 0, sizeof(*fs));
	return xp_check_media(m, flags, findings_cb, fs);
}

#endif /* XP_LIB_TEST_H */
