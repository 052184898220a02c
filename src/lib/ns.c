/* SPDX-License-Identifier: MIT */
/*
 * Namespace handles: open (pick the valid superblock, decode the table),
 * init, and the read-only views built from the table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "xp_internal.h"

static int cmp_slot_offset(uint32_t x, uint32_t y, const void *ctx)
{
	const struct xp_slot *s = ctx;
	uint64_t a = s[x].rec.offset, b = s[y].rec.offset;

	return a < b ? -1 : a > b;
}

int xp_ns_rebuild(struct xp_ns *ns)
{
	uint64_t cursor = ns->sb.data_offset;
	uint64_t data_end = ns->sb.data_offset + ns->sb.data_size;
	uint32_t n = 0;

	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		if (ns->slots[i].state == XP_SLOT_USED)
			ns->order[n++] = i;
	xp_sort_idx(ns->order, n, cmp_slot_offset, ns->slots);
	ns->nused = n;

	/*
	 * Gaps between extents; overlapping extents (a broken table read for
	 * inspection) simply leave no gap between them. A corrupt slot may
	 * describe an extent anywhere: then nothing is known to be free.
	 */
	ns->ngaps = 0;
	for (uint32_t i = 0; !ns->ncorrupt && i <= n; i++) {
		uint64_t start = i < n ? ns->slots[ns->order[i]].rec.offset :
					 data_end;

		if (start > cursor) {
			ns->gaps[ns->ngaps].offset = cursor;
			ns->gaps[ns->ngaps].size = start - cursor;
			ns->ngaps++;
		}
		if (i < n) {
			const struct xp_rec *r = &ns->slots[ns->order[i]].rec;

			if (r->offset + r->size > cursor)
				cursor = r->offset + r->size;
		}
	}
	xp_ns_index_build(ns, ns->order, n);
	ns->views_current = true;
	return 0;
}

/* The last error's text without the "TARGET: " every media error has. */
static void save_read_error(const struct xp_ns *ns, char *buf, size_t len)
{
	const char *e = xp_last_error(), *t = ns->media->target;
	size_t n = strlen(t);

	if (!strncmp(e, t, n) && !strncmp(e + n, ": ", 2))
		e += n + 2;
	snprintf(buf, len, "%s", e);
}

static int read_sb_copy(struct xp_ns *ns, int copy, uint8_t *blk)
{
	struct xp_media *m = ns->media;
	int rc = m->ops->read(m, copy ? m->size - XP_SB_BLOCK : 0, blk,
			      XP_SB_BLOCK);

	ns->sb_read_error[copy][0] = 0;
	if (rc) {
		save_read_error(ns, ns->sb_read_error[copy],
				sizeof(ns->sb_read_error[copy]));
		memset(blk, 0, XP_SB_BLOCK);
	}
	return rc;
}

const char *xp_ns_sb_status(const struct xp_ns *ns, int copy, char *buf,
			    size_t len)
{
	const char *field = copy ? ns->backup_field : ns->primary_field;

	if (ns->sb_read_error[copy][0])
		snprintf(buf, len, "unreadable (%s)", ns->sb_read_error[copy]);
	else
		snprintf(buf, len, "%s%s%s",
			 xp_fmt_strstatus(copy ? ns->backup_st : ns->primary_st),
			 field ? " in " : "", field ? field : "");
	return buf;
}

int xp_ns_load_sb(struct xp_ns *ns)
{
	struct xp_media *m = ns->media;
	uint8_t *prim = ns->sb_raw[0], *back = ns->sb_raw[1];
	struct xp_sb p = {0}, k = {0};
	int rc;

	ns->primary_ok = ns->backup_ok = false;
	ns->sb_mismatch = ns->sb_unresolved = false;
	ns->sb_from_backup = false;
	if (m->size < 2 * XP_SB_BLOCK || m->size % XP_PAGE_SIZE) {
		ns->primary_st = ns->backup_st = XP_E_TOO_SMALL;
		ns->primary_field = ns->backup_field = "ns_size";
		return 0;
	}
	/*
	 * A copy that cannot be read is a bad copy, as a damaged one is:
	 * the other one serves, and check --repair rewrites it. Only when
	 * neither reads is the namespace unreadable.
	 */
	rc = read_sb_copy(ns, 0, prim);
	if (read_sb_copy(ns, 1, back) && rc)
		return rc;
	ns->primary_st = xp_sb_decode(prim, XP_SB_BLOCK, m->size, false, &p,
				      &ns->primary_field);
	ns->backup_st = xp_sb_decode(back, XP_SB_BLOCK, m->size, true, &k,
				     &ns->backup_field);
	for (int i = 0; i < 2; i++) {
		if (!ns->sb_read_error[i][0])
			continue;
		/* Not blank (which says "never written"): damaged. */
		*(i ? &ns->backup_st : &ns->primary_st) = XP_E_CHECKSUM;
		*(i ? &ns->backup_field : &ns->primary_field) = NULL;
	}
	ns->primary_ok = ns->primary_st == XP_OK;
	ns->backup_ok = ns->backup_st == XP_OK;
	ns->sbs[0] = p;
	ns->sbs[1] = k;
	if (ns->primary_ok && ns->backup_ok) {
		ns->sb_mismatch = p.generation != k.generation ||
				  !xp_sb_same_but_generation(prim, back);
		/*
		 * Copies that differ only in generation are what an
		 * interrupted repair leaves: the newer one is right. Anything
		 * else no protocol step wrote; xp_ns_load_table() reads
		 * through the copy the table agrees with.
		 */
		ns->sb_unresolved = !xp_sb_same_but_generation(prim, back);
		ns->sb_from_backup = k.generation > p.generation;
		ns->sb = ns->sb_from_backup ? k : p;
	} else if (ns->primary_ok) {
		ns->sb = p;
	} else if (ns->backup_ok) {
		ns->sb_from_backup = true;
		ns->sb = k;
	}
	return 0;
}

static bool sb_has_signature(enum xp_fmt_status st)
{
	return st != XP_E_BLANK && st != XP_E_SIGNATURE && st != XP_E_TOO_SMALL &&
	       st != XP_E_INVAL;
}

bool xp_ns_size_changed(const struct xp_ns *ns, uint64_t *was)
{
	for (int i = 0; i < 2; i++) {
		enum xp_fmt_status st = i ? ns->backup_st : ns->primary_st;
		const char *f = i ? ns->backup_field : ns->primary_field;

		/* A superblock that holds up but for its size: the
		 * namespace, not the metadata, changed. */
		if (st != XP_E_FIELD || !f || strcmp(f, "ns_size") ||
		    !ns->sbs[i].ns_size || ns->sbs[i].ns_size == ns->media->size)
			continue;
		*was = ns->sbs[i].ns_size;
		return true;
	}
	return false;
}

int xp_ns_sb_error(struct xp_ns *ns)
{
	const char *t = ns->media->target;
	char st[2][200];
	uint64_t was;

	if (ns->primary_ok || ns->backup_ok)
		return 0;
	/*
	 * init would throw every extent away; the extents are all there,
	 * only the namespace around them is not the size they were laid
	 * out in.
	 */
	if (xp_ns_size_changed(ns, &was))
		return xp_err(EUCLEAN, t,
			      "its size changed since init: it is %llu bytes now, the superblock written at init says %llu; give the namespace its size of %llu bytes back to reach its extents",
			      (unsigned long long)ns->media->size,
			      (unsigned long long)was, (unsigned long long)was);
	if (!sb_has_signature(ns->primary_st) && !sb_has_signature(ns->backup_st))
		return xp_err(ENODATA, t,
			      "not a xenpmem namespace (no superblock at the start or end); run 'xenpmem init'");
	return xp_err(EUCLEAN, t,
		      "no valid superblock (primary: %s; backup: %s); run 'xenpmem check' for details",
		      xp_ns_sb_status(ns, 0, st[0], sizeof(st[0])),
		      xp_ns_sb_status(ns, 1, st[1], sizeof(st[1])));
}

/* A decode of the table so far: a table may be decoded a chunk at a time. */
struct decoding {
	/* What every slot init left as it was decodes to: the first one's
	 * decode, copied (a table is mostly such slots). */
	struct xp_slot pristine;
	bool have_pristine;
	uint32_t bad;
};

/* Slots [@from, @to), @raw holding slot @from's bytes first. */
static void decode_slots(struct xp_ns *ns, const uint8_t *raw,
			 const struct xp_sb *sb, uint32_t from, uint32_t to,
			 struct decoding *d)
{
	for (uint32_t i = from; i < to; i++) {
		const uint8_t *buf = raw + (size_t)(i - from) * XP_SLOT_SIZE;

		if (xp_slot_pristine(sb, i, buf)) {
			if (!d->have_pristine) {
				memset(&d->pristine, 0, sizeof(d->pristine));
				xp_slot_decode(sb, i, buf, &d->pristine);
				d->have_pristine = true;
			}
			ns->slots[i] = d->pristine;
		} else {
			xp_slot_decode(sb, i, buf, &ns->slots[i]);
		}
		/* Unknown is not free: nothing may be placed over what an
		 * unreadable record may describe. */
		if (ns->unreadable[i]) {
			ns->slots[i].state = XP_SLOT_CORRUPT;
			ns->slots[i].active = -1;
			ns->slots[i].fallback = -1;
			ns->slots[i].mixed_tags = false;
		}
		d->bad += ns->slots[i].state == XP_SLOT_CORRUPT;
		ns->nmixed += ns->slots[i].mixed_tags;
	}
}

/* The whole table from @raw under @sb: how many slots are corrupt. */
static uint32_t decode_table(struct xp_ns *ns, const uint8_t *raw,
			     const struct xp_sb *sb)
{
	struct decoding d;

	memset(&d, 0, sizeof(d));
	ns->nmixed = 0;
	decode_slots(ns, raw, sb, 0, sb->slot_count, &d);
	return d.bad;
}

int xp_ns_table_write(struct xp_ns *ns, uint64_t off, const void *buf,
		      size_t len)
{
	uint64_t at = off - XP_TABLE_OFFSET;
	int rc = xp_media_write_old(ns->media, off, buf, len,
				    xp_ns_raw_old(ns, at));

	if (!rc && ns->raw)
		memcpy(ns->raw + at, buf, len);
	return rc;
}

int xp_ns_even_tags(struct xp_ns *ns, int64_t skip)
{
	struct xp_media *m = ns->media;
	uint8_t copy[XP_REC_SIZE];
	int rc;

	for (uint32_t i = 0; ns->nmixed && i < ns->sb.slot_count; i++) {
		struct xp_slot *s = &ns->slots[i];
		uint64_t off;

		if (!s->mixed_tags || (int64_t)i == skip)
			continue;
		off = xp_slot_offset(i) + (uint64_t)s->active * XP_REC_SIZE;
		/* A slot with mixed tags was read, so ns->raw holds it. */
		if (ns->raw)
			memcpy(copy, ns->raw + (off - XP_TABLE_OFFSET),
			       sizeof(copy));
		else if ((rc = m->ops->read(m, off, copy, sizeof(copy))))
			return rc;
		for (uint32_t w = 0; w < XP_REC_WORDS; w++)
			copy[w * 8 + 7] = xp_rec_tag(s->rec.seq);
		rc = xp_ns_table_write(ns, off, copy, sizeof(copy));
		rc = rc ?: xp_media_flush(m, off, sizeof(copy));
		if (rc)
			return rc;
		memset(s->tag_mask[s->active], 0, sizeof(s->tag_mask[0]));
		s->tag_mask[s->active][xp_rec_tag(s->rec.seq) / 32] =
			1u << (xp_rec_tag(s->rec.seq) % 32);
		s->mixed_tags = false;
		ns->nmixed--;
	}
	return 0;
}

static void note_pair(uint32_t a, uint32_t b, const char *rule, void *arg)
{
	struct xp_ns *ns = arg;

	if (!ns->npairs++) {
		ns->table_a = a;
		ns->table_b = b;
		ns->table_why = rule;
	}
	ns->violation[a] = ns->violation[b] = true;
}

void xp_ns_check_rules(struct xp_ns *ns)
{
	uint32_t n = ns->sb.slot_count;

	ns->npairs = 0;
	ns->table_why = NULL;
	ns->views_current = false;	/* @order is the rules' scratch */
	memset(ns->violation, 0, n * sizeof(*ns->violation));
	xp_table_violations(ns->slots, n, ns->order, note_pair, ns);
}

/* Physical alignment the layout promised, checked at @phys. */
static bool layout_holds_at(const struct xp_ns *ns, uint64_t phys)
{
	const struct xp_sb *sb = &ns->sb;
	struct xp_mgmt_chunks need;

	if (!xp_phys_aligned(phys, sb->data_offset, sb->align_shift))
		return false;
	if (!xp_mgmt_geom_none(&sb->geom)) {
		if (!xp_phys_aligned(phys, sb->mgmt_offset, sb->geom.chunk_shift))
			return false;
		xp_mgmt_chunks(&sb->geom, phys + sb->data_offset,
			       phys + sb->data_offset + sb->data_size, &need);
		if (need.ft > sb->chunks.ft || need.m2p > sb->chunks.m2p ||
		    need.compat > sb->chunks.compat)
			return false;
	}
	for (uint32_t i = 0; i < sb->slot_count; i++) {
		const struct xp_slot *s = &ns->slots[i];

		if (s->state == XP_SLOT_USED &&
		    !xp_phys_aligned(phys, s->rec.offset, s->rec.align_shift))
			return false;
	}
	return true;
}

static bool compute_moved(const struct xp_ns *ns)
{
	const struct xp_media *m = ns->media;

	if (!m->phys_known)
		return false;
	if (ns->sb.compat & XP_SB_F_PHYS_KNOWN)
		return m->phys_base != ns->sb.phys_base;
	/* Laid out while the address was unknown: moved if it now sits
	 * where what the layout promised does not hold. */
	return !layout_holds_at(ns, m->phys_base);
}

void xp_ns_free_tables(struct xp_ns *ns)
{
	free(ns->slots);
	free(ns->order);
	free(ns->gaps);
	free(ns->violation);
	free(ns->bad);
	free(ns->unreadable);
	free(ns->raw);
	xp_ns_index_free(&ns->index);
	ns->unreadable = NULL;
	ns->raw = NULL;
	ns->slots = NULL;
	ns->order = NULL;
	ns->gaps = NULL;
	ns->violation = NULL;
	ns->bad = NULL;
}

/*
 * The table is read a chunk at a time (a read a page was 4,096 system
 * calls for a 65,536-slot table), and a chunk that cannot be read page by
 * page: a page that cannot be read (a bad block) costs the slots on it,
 * which read as corrupt and check names, not the namespace.
 */
#define TABLE_CHUNK (1ull << 20)

/* Table bytes [@from, @end) into @buf, a page at a time. */
static void read_pages(struct xp_ns *ns, uint8_t *buf, uint64_t from,
		       uint64_t end)
{
	struct xp_media *m = ns->media;

	for (uint64_t done = from; done < end; done += XP_PAGE_SIZE) {
		uint64_t len = end - done < XP_PAGE_SIZE ? end - done :
							   XP_PAGE_SIZE;
		uint8_t *dst = buf + (done - from);

		if (!m->ops->read(m, XP_TABLE_OFFSET + done, dst, (size_t)len))
			continue;
		if (!ns->table_read_error[0])
			save_read_error(ns, ns->table_read_error,
					sizeof(ns->table_read_error));
		memset(dst, 0, (size_t)len);
		for (uint64_t i = done / XP_SLOT_SIZE;
		     i < (done + len) / XP_SLOT_SIZE; i++)
			ns->unreadable[i] = true;
	}
}

/* Table bytes [@from, @end) into @buf: one read, else page by page. */
static void read_chunk(struct xp_ns *ns, uint8_t *buf, uint64_t from,
		       uint64_t end)
{
	struct xp_media *m = ns->media;

	if (m->ops->read(m, XP_TABLE_OFFSET + from, buf, (size_t)(end - from)))
		read_pages(ns, buf, from, end);
}

int xp_ns_load_table(struct xp_ns *ns)
{
	struct xp_media *m = ns->media;
	uint32_t n = ns->sb.slot_count, max = n;
	struct decoding d;
	uint64_t total;
	uint8_t *raw;
	/*
	 * A writer keeps the bytes as the old bytes of its stores. Not over
	 * the hypervisor: it folds the 8-byte seq pre-write into the record
	 * write that follows (media_hv.c), so there a store that returned
	 * is not on the media yet, and only the hypervisor's copy is exact.
	 * Two valid superblocks that disagree decode the bytes twice (below).
	 * Everyone else decodes a chunk at a time through one chunk's
	 * buffer: for a 65,536-slot table, 16 MiB less to fault in and zero.
	 */
	bool keep = (ns->flags & XP_OPEN_WRITE) && m->kind != XP_BACKEND_HV;
	bool whole = keep || ns->sb_unresolved;

	/* Two disagreeing copies may not agree on the table's size. */
	if (ns->sb_unresolved && ns->sbs[!ns->sb_from_backup].slot_count > max)
		max = ns->sbs[!ns->sb_from_backup].slot_count;
	total = (uint64_t)max * XP_SLOT_SIZE;
	ns->slots = calloc(max, sizeof(*ns->slots));
	ns->order = calloc(max, sizeof(*ns->order));
	ns->violation = calloc(max, sizeof(*ns->violation));
	ns->gaps = calloc((size_t)max + 1, sizeof(*ns->gaps));
	ns->unreadable = calloc(max, sizeof(*ns->unreadable));
	raw = malloc(whole || total < TABLE_CHUNK ? (size_t)total :
						      (size_t)TABLE_CHUNK);
	if (!ns->slots || !ns->order || !ns->gaps || !ns->violation ||
	    !ns->unreadable || !raw || xp_ns_index_alloc(&ns->index, max)) {
		free(raw);
		return xp_err(ENOMEM, m->target, "out of memory");
	}
	ns->table_read_error[0] = 0;
	memset(&d, 0, sizeof(d));
	ns->nmixed = 0;
	/* Chunks hold whole slots: TABLE_CHUNK is a multiple of a slot. The
	 * first decode is under the superblock read through (@n slots). */
	_Static_assert(TABLE_CHUNK % XP_SLOT_SIZE == 0, "whole slots a chunk");
	for (uint64_t at = 0; at < total; at += TABLE_CHUNK) {
		uint64_t end = total - at < TABLE_CHUNK ? total : at + TABLE_CHUNK;
		uint32_t from = (uint32_t)(at / XP_SLOT_SIZE);
		uint32_t to = (uint32_t)(end / XP_SLOT_SIZE);
		uint8_t *buf = whole ? raw + at : raw;

		read_chunk(ns, buf, at, end);
		if (from < n)
			decode_slots(ns, buf, &ns->sb, from, to < n ? to : n, &d);
	}
	ns->ncorrupt = d.bad;
	/*
	 * Two valid superblocks that differ in more than the generation: no
	 * protocol step wrote them, and nothing says which is right. Read
	 * through the one under which fewer slots are corrupt (records are
	 * bound to ns_uuid and the layout); ties go to the newer generation,
	 * then to the primary. Nothing is written until a human settles it.
	 */
	if (ns->sb_unresolved) {
		int cur = ns->sb_from_backup, alt = !cur;
		uint32_t other = decode_table(ns, raw, &ns->sbs[alt]);

		if (other < ns->ncorrupt ||
		    (other == ns->ncorrupt &&
		     (ns->sbs[alt].generation > ns->sbs[cur].generation ||
		      (ns->sbs[alt].generation == ns->sbs[cur].generation &&
		       alt == 0)))) {
			ns->sb_from_backup = alt;
			ns->sb = ns->sbs[alt];
			ns->ncorrupt = other;
		} else {
			decode_table(ns, raw, &ns->sb);
		}
	}
	free(ns->raw);
	ns->raw = NULL;
	if (keep)
		ns->raw = raw;
	else
		free(raw);
	xp_ns_check_rules(ns);
	ns->moved = compute_moved(ns);
	return xp_ns_rebuild(ns);
}

/* Refuse to change a namespace whose metadata is not whole. Table-rule
 * violations are left to each operation (some remove them). */
static int writable_check(struct xp_ns *ns)
{
	const char *t = ns->media->target, *why;
	char st[200];

	if (!ns->primary_ok || !ns->backup_ok)
		return xp_err(EUCLEAN, t,
			      "superblock %s copy is invalid (%s); run 'xenpmem check --repair'",
			      ns->primary_ok ? "backup" : "primary",
			      xp_ns_sb_status(ns, ns->primary_ok, st, sizeof(st)));
	if (ns->sb_mismatch)
		return xp_err(EUCLEAN, t,
			      "superblock copies differ; run 'xenpmem check'");
	if (!xp_sb_writable(&ns->sb, &why))
		return xp_err(EROFS, t,
			      "format %u.%u: %s; this xenpmem (format %u.%u) may read but not change it",
			      ns->sb.major, ns->sb.minor, why, XP_FMT_MAJOR,
			      XP_FMT_MINOR);
	if (ns->ncorrupt)
		return xp_err(EUCLEAN, t,
			      "%u extent table slot%s corrupt; run 'xenpmem check'",
			      ns->ncorrupt, ns->ncorrupt == 1 ? " is" : "s are");
	if (ns->moved)
		return xp_err(EUCLEAN, t,
			      "namespace moved: it starts at physical %#llx, where the alignment promised at init does not hold; run 'xenpmem check'",
			      (unsigned long long)ns->media->phys_base);
	return 0;
}

static void ns_free(struct xp_ns *ns)
{
	if (!ns)
		return;
	xp_ns_free_tables(ns);
	xp_loop_cache_drop(ns);
	xp_uuid_pool_drop(&ns->uuids);
	if (ns->own_media)
		xp_media_close(ns->media);
	free(ns);
}

int xp_ns_open_media(struct xp_media *m, unsigned flags, struct xp_ns **nsp)
{
	struct xp_ns *ns;
	int rc;

	*nsp = NULL;
	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return xp_err(ENOMEM, m->target, "out of memory");
	ns->media = m;
	ns->flags = flags;
	rc = xp_ns_load_sb(ns);
	rc = rc ?: xp_ns_sb_error(ns);
	rc = rc ?: xp_ns_load_table(ns);
	rc = rc ?: xp_badblocks_load(ns);
	if (!rc && (flags & (XP_OPEN_WRITE | XP_OPEN_WIPE)))
		rc = writable_check(ns);
	if (rc) {
		ns_free(ns);
		return rc;
	}
	*nsp = ns;
	return 0;
}

/*
 * Whether a lock on @st's inode that conflicts with the one wanted is held
 * by this very process (another handle it still has open): /proc/locks
 * names the holder of every flock. Lines of waiters ("->") do not hold.
 */
static bool held_by_self(const struct stat *st, bool exclusive)
{
	char line[256], kind[16], mode[16], type[16];
	unsigned maj, min;
	unsigned long long ino;
	long pid;
	bool self = false;
	FILE *f = fopen("/proc/locks", "re");

	if (!f)
		return false;
	while (!self && fgets(line, sizeof(line), f)) {
		const char *p = strchr(line, ':');

		if (!p || strstr(line, "->"))
			continue;
		if (sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%llu", kind, mode,
			   type, &pid, &maj, &min, &ino) != 7)
			continue;
		self = !strcmp(kind, "FLOCK") && pid == (long)getpid() &&
		       maj == major(st->st_dev) && min == minor(st->st_dev) &&
		       ino == (unsigned long long)st->st_ino &&
		       (exclusive || !strcmp(type, "WRITE"));
	}
	fclose(f);
	return self;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int xp_media_lock(struct xp_media *m, bool exclusive, unsigned flags)
{
	unsigned wait_s = flags >> 16 ? flags >> 16 : XP_LOCK_WAIT_DEFAULT;
	uint64_t deadline = 0;
	unsigned pause_ms = 1;
	struct stat st;

	if (m->fd < 0)
		return 0;
	/*
	 * flock(2) cannot give up after a while by itself (only a signal
	 * would interrupt it, and a library has none of its own), so a
	 * bounded wait asks without blocking and sleeps between tries.
	 */
	for (;;) {
		if (!flock(m->fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return xp_err(errno, m->target, "cannot lock: %s",
				      strerror(errno));
		if (!fstat(m->fd, &st) && held_by_self(&st, exclusive))
			return xp_err(EDEADLK, m->target,
				      "busy, held by this process (another handle of this namespace is open; close it first)");
		if (flags & XP_NOWAIT)
			return xp_err(EBUSY, m->target,
				      "busy, held by another process");
		if (!deadline) {
			xp_log_info("%s: locked by another process; waiting up to %u s",
				    m->target, wait_s);
			deadline = monotonic_ms() + wait_s * 1000ull;
		}
		else if (monotonic_ms() >= deadline)
			return xp_err(EBUSY, m->target,
				      "busy, held by another process (waited %u s)",
				      wait_s);
		/* Quick for a short update, gentle for a long one. */
		nanosleep(&(struct timespec){.tv_nsec = pause_ms * 1000000l},
			  NULL);
		if (pause_ms < 50)
			pause_ms *= 2;
	}
}

int xp_ns_open(const char *target, unsigned flags, struct xp_ns **nsp)
{
	struct xp_media *m;
	int rc;

	xp_err_clear();
	*nsp = NULL;
	rc = xp_flags_known(flags, XP_OPEN_WRITE | XP_OPEN_WIPE | XP_WAIT_FLAGS,
			    target, "open");
	if (rc)
		return rc;
	rc = xp_media_open(target, !!(flags & (XP_OPEN_WRITE | XP_OPEN_WIPE)),
			   &m);
	if (rc)
		return rc;
	/* The lock is taken before anything is read: every read-modify-write
	 * of this handle sees the latest table. */
	rc = xp_media_lock(m, flags & XP_OPEN_WRITE, flags);
	rc = rc ?: xp_ns_open_media(m, flags, nsp);
	if (rc) {
		xp_media_close(m);
		return rc;
	}
	(*nsp)->own_media = true;
	return 0;
}

void xp_ns_close(struct xp_ns *ns)
{
	ns_free(ns);
}

int xp_ns_get_info(struct xp_ns *ns, struct xp_info *info)
{
	const struct xp_sb *sb = &ns->sb;
	uint64_t chunk = 1ull << XP_CHUNK_SHIFT;

	memset(info, 0, sizeof(*info));
	info->target = ns->media->path;
	info->backend = ns->media->kind;
	info->major = sb->major;
	info->minor = sb->minor;
	info->compat = sb->compat;
	info->ro_compat = sb->ro_compat;
	info->incompat = sb->incompat;
	memcpy(info->uuid, sb->ns_uuid, 16);
	info->generation = sb->generation;
	info->ns_size = sb->ns_size;
	info->phys_known = xp_ns_phys(ns, &info->phys_base);
	info->table_offset = sb->table_offset;
	info->table_size = (uint64_t)sb->slot_count * XP_SLOT_SIZE;
	info->slot_count = sb->slot_count;
	info->mgmt = xp_mgmt_geom_none(&sb->geom) ? XP_MGMT_NONE : XP_MGMT_XEN;
	info->compat_m2p = sb->geom.compat_entry != 0;
	info->mgmt_offset = sb->mgmt_offset;
	info->mgmt_size = sb->mgmt_size;
	info->ft_chunks = sb->chunks.ft;
	info->m2p_chunks = sb->chunks.m2p;
	info->compat_chunks = sb->chunks.compat;
	info->ft_offset = sb->mgmt_offset;
	info->m2p_offset = info->ft_offset + sb->chunks.ft * chunk;
	info->compat_offset = info->m2p_offset + sb->chunks.m2p * chunk;
	info->data_offset = sb->data_offset;
	info->data_size = sb->data_size;
	info->align = 1ull << sb->align_shift;
	info->init_time = sb->init_time;
	info->extent_count = ns->nused;
	xp_ns_index_space(ns, &info->used_bytes, &info->free_bytes,
			  &info->largest_free);
	info->primary_ok = ns->primary_ok;
	info->backup_ok = ns->backup_ok;
	info->corrupt_slots = ns->ncorrupt;
	info->violations = ns->npairs;
	info->moved = ns->moved;
	info->sb_unresolved = ns->sb_unresolved;
	return 0;
}

uint32_t xp_ns_extent_count(struct xp_ns *ns)
{
	return ns->nused;
}

bool xp_ns_phys(const struct xp_ns *ns, uint64_t *phys)
{
	/* Machine frames are where the namespace is now, as the host says. */
	if (ns->media->phys_known) {
		*phys = ns->media->phys_base;
		return true;
	}
	*phys = ns->sb.phys_base;
	return ns->sb.compat & XP_SB_F_PHYS_KNOWN;
}

bool xp_ns_moved(const struct xp_ns *ns)
{
	return ns->moved;
}

const char *xp_extent_state_name(enum xp_extent_state st)
{
	switch (st) {
	case XP_EXTENT_DATA: return "data";
	case XP_EXTENT_LENT_RAM: return "lent-ram";
	}
	return "unknown";
}

void xp_extent_fill(const struct xp_ns *ns, uint32_t slot,
		    struct xp_extent *ext)
{
	const struct xp_rec *r = &ns->slots[slot].rec;
	uint64_t phys;

	memset(ext, 0, sizeof(*ext));
	memcpy(ext->name, r->name, sizeof(ext->name));
	memcpy(ext->uuid, r->uuid, 16);
	ext->slot = slot;
	ext->seq = r->seq;
	ext->state = r->type == XP_REC_LENT_RAM ? XP_EXTENT_LENT_RAM :
						  XP_EXTENT_DATA;
	ext->offset = r->offset;
	ext->size = r->size;
	ext->align = 1ull << r->align_shift;
	ext->label_size = r->label_size;
	ext->assigned = !xp_uuid_is_nil(r->owner);
	memcpy(ext->owner, r->owner, 16);
	ext->violation = ns->violation[slot];
	ext->phys_known = xp_ns_phys(ns, &phys);
	ext->first_mfn = (phys + r->offset) >> XP_PAGE_SHIFT;
	ext->nr_frames = r->size >> XP_PAGE_SHIFT;
	ext->badblocks = xp_badblocks_in(ns, r->offset, r->size);
}

int xp_ns_extent_get(struct xp_ns *ns, uint32_t idx, struct xp_extent *ext)
{
	if (idx >= ns->nused)
		return -ERANGE;
	xp_extent_fill(ns, ns->views_current ? ns->order[idx] :
					       xp_ns_index_extent_at(ns, idx),
		       ext);
	return 0;
}

bool xp_extent_slot_selector(const char *sel, uint32_t *slot)
{
	uint64_t v = 0;

	if (!sel || sel[0] != '@' || !sel[1])
		return false;
	for (const char *p = sel + 1; *p; p++) {
		if (*p < '0' || *p > '9' || v > XP_MAX_SLOTS)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v >= XP_MAX_SLOTS)
		return false;
	*slot = (uint32_t)v;
	return true;
}

int xp_ns_find_slot(struct xp_ns *ns, const char *name)
{
	uint32_t slot;

	if (xp_extent_slot_selector(name, &slot))
		return slot < ns->sb.slot_count &&
			       ns->slots[slot].state == XP_SLOT_USED ?
		       (int)slot : -ENOENT;
	return xp_ns_index_find_name(ns, name);
}

/* The error for a failed xp_ns_find_slot(). */
int xp_ns_find_error(struct xp_ns *ns, const char *name, int rc)
{
	const char *t = ns->media->target;

	if (rc == -EUCLEAN)
		return xp_err(EUCLEAN, t,
			      "extent name '%s' is not unique (a table-rule violation); name the extent by its slot, as '@N' (see 'xenpmem list')",
			      name);
	if (name[0] == '@')
		return xp_err(ENOENT, t, "no extent in slot %s", name + 1);
	return xp_err(ENOENT, t, "no extent named '%s'", name);
}

int xp_ns_extent_find(struct xp_ns *ns, const char *name,
		      struct xp_extent *ext)
{
	int slot = xp_ns_find_slot(ns, name);

	if (slot < 0)
		return xp_ns_find_error(ns, name, slot);
	xp_extent_fill(ns, (uint32_t)slot, ext);
	return 0;
}

/* Names of the extents of the first @max violations, for one line. */
static void violation_names(const struct xp_ns *ns, char *buf, size_t len)
{
	size_t n = 0;
	uint32_t shown = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < ns->nused && n + 1 < len; i++) {
		uint32_t s = xp_ns_index_extent_at(ns, i);

		if (!ns->violation[s])
			continue;
		if (shown++ == 6) {
			snprintf(buf + n, len - n, ", ...");
			return;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s'%s' (@%u)",
				      shown > 1 ? ", " : "",
				      ns->slots[s].rec.name, s);
		if (n >= len)
			return;
	}
}

/* "slot 3" or "slots 3, 7, 12", at most 6 of them, for one line. */
static void corrupt_slot_names(const struct xp_ns *ns, char *buf, size_t len)
{
	size_t n =
	    (size_t)snprintf(buf, len, "slot%s", ns->ncorrupt == 1 ? "" : "s");
	uint32_t shown = 0;

	for (uint32_t i = 0; i < ns->sb.slot_count && n < len; i++) {
		if (ns->slots[i].state != XP_SLOT_CORRUPT)
			continue;
		if (shown++ == 6) {
			snprintf(buf + n, len - n, ", ...");
			return;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%u",
				      shown > 1 ? ", " : " ", i);
	}
}

const char *xp_ns_damage(struct xp_ns *ns)
{
	char *d = ns->damage, names[200];
	size_t len = sizeof(ns->damage), n = 0;

#define DAMAGE(...)                                                        \
	do {                                                               \
		if (n < len)                                               \
			n += (size_t)snprintf(d + n, len - n, "%s",        \
					      n ? "; " : "");              \
		if (n < len)                                               \
			n += (size_t)snprintf(d + n, len - n, __VA_ARGS__); \
	} while (0)

	d[0] = 0;
	if (ns->sb_unresolved)
		DAMAGE("the superblock copies disagree");
	if (ns->ncorrupt) {
		corrupt_slot_names(ns, names, sizeof(names));
		DAMAGE("%u extent table slot%s corrupt (%s)", ns->ncorrupt,
		       ns->ncorrupt == 1 ? " is" : "s are", names);
	}
	if (ns->npairs) {
		violation_names(ns, names, sizeof(names));
		DAMAGE("table rules are broken by %s", names);
	}
	if (ns->moved)
		DAMAGE("the namespace moved (physical %#llx)",
		       (unsigned long long)ns->media->phys_base);
#undef DAMAGE
	if (!n)
		return NULL;
	if (n < len)
		snprintf(d + n, len - n, "; run 'xenpmem check'");
	return d;
}

int xp_extent_exportable(struct xp_ns *ns, const struct xp_extent *ext)
{
	const char *t = ns->media->target;

	if (ns->moved || ns->ncorrupt || ns->sb_unresolved)
		return xp_err(EUCLEAN, t,
			      "extent '%s' is not exported: %s", ext->name,
			      xp_ns_damage(ns));
	if (ext->violation) {
		char names[200];

		violation_names(ns, names, sizeof(names));
		return xp_err(EUCLEAN, t,
			      "extent '%s' is not exported: it breaks a table rule (extents involved: %s); run 'xenpmem check'",
			      ext->name, names);
	}
	if (ext->state == XP_EXTENT_LENT_RAM)
		return xp_err(EINVAL, t,
			      "extent '%s' is lent to the hypervisor as RAM, not guest data",
			      ext->name);
	return 0;
}

uint32_t xp_ns_gap_count(struct xp_ns *ns)
{
	return xp_ns_index_gap_count(ns);
}

int xp_ns_gap_get(struct xp_ns *ns, uint32_t idx, struct xp_gap *gap)
{
	if (!ns->views_current)
		return xp_ns_index_gap_at(ns, idx, gap) ? 0 : -ERANGE;
	if (idx >= ns->ngaps)
		return -ERANGE;
	*gap = ns->gaps[idx];
	return 0;
}
