/* SPDX-License-Identifier: MIT */
/*
 * check and repair. Check only reads. Repair writes only copies that are
 * invalid, from the copy that is valid, so a crash during repair leaves
 * either the state before it or the state after it; it never touches the
 * last valid copy of anything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

struct checker {
	struct xp_ns *ns;
	unsigned flags;
	xp_finding_fn fn;
	void *arg;
	int errors;
	bool sb_unresolved;	/* two valid superblocks disagree */
};

__attribute__((format(printf, 4, 5)))
static void report(struct checker *c, enum xp_severity sev, const char *obj,
		   const char *fmt, ...)
{
	struct xp_finding f = {.severity = sev, .object = obj};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.text, sizeof(f.text), fmt, ap);
	va_end(ap);
	if (sev == XP_ERROR)
		c->errors++;
	if (c->fn)
		c->fn(&f, c->arg);
}

static bool repairing(const struct checker *c)
{
	return c->flags & XP_CHECK_REPAIR;
}

static const char *field_text(const char *field)
{
	return field ? field : "";
}

static void check_superblocks(struct checker *c)
{
	struct xp_ns *ns = c->ns;
	struct xp_media *m = ns->media;
	static const char *const obj[2] = {"superblock.primary",
					   "superblock.backup"};
	bool ok[2] = {ns->primary_ok, ns->backup_ok};
	enum xp_fmt_status st[2] = {ns->primary_st, ns->backup_st};
	const char *field[2] = {ns->primary_field, ns->backup_field};
	uint64_t where[2] = {0, m->size - XP_SB_BLOCK};
	int src = ns->sb_from_backup;	/* the copy in use */
	uint8_t blk[XP_SB_BLOCK];
	bool bad[2];

	for (int i = 0; i < 2; i++) {
		bad[i] = !ok[i];
		if (bad[i])
			report(c, XP_ERROR, obj[i], "%s%s%s", xp_fmt_strstatus(st[i]),
			       field[i] ? " in " : "", field_text(field[i]));
	}
	if (ns->sb_mismatch) {
		struct xp_sb other;
		const char *f;

		xp_sb_decode(ns->sb_raw[!src], XP_SB_BLOCK, m->size, src == 0,
			     &other, &f);
		report(c, XP_ERROR, obj[!src],
		       "differs from the %s copy (generations %llu and %llu)",
		       src ? "backup" : "primary",
		       (unsigned long long)other.generation,
		       (unsigned long long)ns->sb.generation);
		/*
		 * A lower generation is a copy an interrupted rewrite did not
		 * reach: stale by the protocol. Two valid copies of the same
		 * generation that differ were not written by xenpmem, and
		 * nothing tells which is right: leave both to a human.
		 */
		if (other.generation < ns->sb.generation)
			bad[!src] = true;
		else
			c->sb_unresolved = true;
		if (!bad[!src] && repairing(c))
			report(c, XP_NOTE, "superblock",
			       "not repaired: both copies are valid with the same generation but differ; nothing tells which is right");
	}
	if (!repairing(c) || !(ok[0] || ok[1]))
		return;
	for (int i = 0; i < 2; i++) {
		if (!bad[i] || i == src)
			continue;
		/* Copy the valid block byte for byte: fields of a newer minor
		 * version survive; only the location bit and sum change. */
		memcpy(blk, ns->sb_raw[src], XP_SB_BLOCK);
		xp_sb_relocate(blk, i == 1);
		if (xp_media_persist(m, where[i], blk, XP_SB_BLOCK)) {
			report(c, XP_ERROR, obj[i], "repair failed: %s",
			       xp_last_error());
			continue;
		}
		memcpy(ns->sb_raw[i], blk, XP_SB_BLOCK);
		c->errors--;
		report(c, XP_FIXED, obj[i], "rewritten from the %s copy",
		       src ? "backup" : "primary");
	}
}

static void check_zero_area(struct checker *c)
{
	struct xp_media *m = c->ns->media;
	uint8_t buf[XP_SB_BLOCK];
	static const uint8_t zeroes[XP_SB_BLOCK];

	if (m->ops->read(m, XP_ZERO_OFFSET, buf, sizeof(buf)))
		return;
	if (!memcmp(buf, zeroes, sizeof(buf)))
		return;
	report(c, XP_ERROR, "zero area",
	       "bytes 4 KiB..8 KiB are not zero (Linux may take the namespace for fsdax/devdax/sector)");
	if (!repairing(c))
		return;
	if (xp_media_persist(m, XP_ZERO_OFFSET, zeroes, sizeof(zeroes))) {
		report(c, XP_ERROR, "zero area", "repair failed: %s",
		       xp_last_error());
		return;
	}
	c->errors--;
	report(c, XP_FIXED, "zero area", "zeroed");
}

/*
 * Make a slot with no valid copy free: one free record over copy 0, with a
 * sequence above any copy that passes its checksum, so it wins whatever
 * copy 1 holds. Torn, it leaves the slot as corrupt as before.
 */
static int clear_slot(struct checker *c, uint32_t i)
{
	struct xp_slot *s = &c->ns->slots[i];
	uint8_t raw[XP_SLOT_SIZE], buf[XP_REC_SIZE];
	struct xp_rec rec = {0}, r;
	const char *f;
	int rc;

	rc = c->ns->media->ops->read(c->ns->media, xp_slot_offset(i), raw,
				     sizeof(raw));
	if (rc)
		return rc;
	rec.seq = 1;
	for (int k = 0; k < 2; k++)
		if (xp_rec_decode(&c->ns->sb, i, raw + k * XP_REC_SIZE, &r, &f) ==
			    XP_OK &&
		    r.seq >= rec.seq)
			rec.seq = r.seq + 1;
	xp_rec_encode(&c->ns->sb, i, &rec, buf);
	rc = xp_media_persist(c->ns->media, xp_slot_offset(i), buf, sizeof(buf));
	if (rc)
		return rc;
	memcpy(raw, buf, sizeof(buf));
	xp_slot_decode(&c->ns->sb, i, raw, s);
	return 0;
}

static void check_slots(struct checker *c)
{
	struct xp_ns *ns = c->ns;
	char obj[32];

	for (uint32_t i = 0; i < ns->sb.slot_count; i++) {
		struct xp_slot *s = &ns->slots[i];

		snprintf(obj, sizeof(obj), "slot %u", i);
		if (s->state == XP_SLOT_CORRUPT &&
		    s->copy_status[0] == XP_OK && s->copy_status[1] == XP_OK) {
			report(c, XP_ERROR, obj,
			       "both copies are valid with the same seq, which no update writes");
		} else if (s->state == XP_SLOT_CORRUPT) {
			report(c, XP_ERROR, obj,
			       "no valid copy (copy 0: %s%s%s; copy 1: %s%s%s)",
			       xp_fmt_strstatus(s->copy_status[0]),
			       s->copy_field[0] ? " in " : "",
			       field_text(s->copy_field[0]),
			       xp_fmt_strstatus(s->copy_status[1]),
			       s->copy_field[1] ? " in " : "",
			       field_text(s->copy_field[1]));
		}
		if (s->state == XP_SLOT_CORRUPT) {
			if (!repairing(c))
				continue;
			if (!(c->flags & XP_CHECK_FORCE) || c->sb_unresolved) {
				report(c, XP_NOTE, obj,
				       "not repaired: nothing valid to restore; --repair --force clears the slot and frees the range it described");
				continue;
			}
			if (clear_slot(c, i)) {
				report(c, XP_ERROR, obj, "repair failed: %s",
				       xp_last_error());
				continue;
			}
			c->errors--;
			report(c, XP_FIXED, obj, "cleared (it had no valid copy)");
			continue;
		}
		for (int k = 0; k < 2 && s->active >= 0; k++) {
			if (k == s->active || s->copy_status[k] == XP_E_BLANK ||
			    s->copy_status[k] == XP_OK)
				continue;
			/*
			 * Exactly what an interrupted update leaves behind; the
			 * next update of the slot overwrites it.
			 */
			report(c, XP_NOTE, obj,
			       "copy %d is %s%s%s; the slot uses copy %d (seq %llu)",
			       k, xp_fmt_strstatus(s->copy_status[k]),
			       s->copy_field[k] ? " in " : "",
			       field_text(s->copy_field[k]), s->active,
			       (unsigned long long)s->rec.seq);
		}
	}
	ns->table_st = xp_table_check(ns->slots, ns->sb.slot_count, ns->order,
				      &ns->table_a, &ns->table_b, &ns->table_why);
	xp_ns_rebuild(ns);
	if (ns->table_st != XP_OK) {
		snprintf(obj, sizeof(obj), "slots %u,%u", ns->table_a, ns->table_b);
		report(c, XP_ERROR, obj, "%s ('%s' and '%s'); not repaired automatically: destroy or rename one",
		       ns->table_why, ns->slots[ns->table_a].rec.name,
		       ns->slots[ns->table_b].rec.name);
	}
}

static void check_badblocks(struct checker *c)
{
	struct xp_ns *ns = c->ns;
	char obj[XP_NAME_MAX + 16];
	uint64_t n;

	if (xp_badblocks_in(ns, 0, ns->sb.mgmt_offset) ||
	    xp_badblocks_in(ns, ns->media->size - XP_SB_BLOCK, XP_SB_BLOCK))
		report(c, XP_ERROR, "metadata", "bad blocks inside the superblocks or extent table");
	for (uint32_t i = 0; i < ns->nused; i++) {
		const struct xp_rec *r = &ns->slots[ns->order[i]].rec;

		n = xp_badblocks_in(ns, r->offset, r->size);
		if (!n)
			continue;
		snprintf(obj, sizeof(obj), "extent %s", r->name);
		report(c, XP_ERROR, obj, "contains %llu bad 512-byte sectors",
		       (unsigned long long)n);
	}
}

int xp_check_media(struct xp_media *m, unsigned flags, xp_finding_fn fn,
		   void *arg)
{
	struct checker c = {.flags = flags, .fn = fn, .arg = arg};
	struct xp_ns *ns;
	int rc;

	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return xp_err(ENOMEM, m->target, "out of memory");
	ns->media = m;
	c.ns = ns;
	rc = xp_ns_load_sb(ns);
	if (rc)
		goto out;
	if (!ns->primary_ok && !ns->backup_ok) {
		rc = xp_ns_sb_error(ns);
		if (rc == -ENODATA)
			goto out;
		/* Ours, but nothing valid is left to check or restore from. */
		check_superblocks(&c);
		if (repairing(&c))
			report(&c, XP_NOTE, "superblock",
			       "not repaired: neither copy is valid");
		rc = c.errors;
		goto out;
	}
	check_superblocks(&c);
	if (xp_ns_moved(ns))
		report(&c, XP_ERROR, "superblock",
		       "moved: starts at physical %#llx, at init %#llx; extent alignment no longer holds and exported guest frames are stale",
		       (unsigned long long)m->phys_base,
		       (unsigned long long)ns->sb.phys_base);
	check_zero_area(&c);
	rc = xp_ns_load_table(ns);
	rc = rc ?: xp_badblocks_load(ns);
	if (rc)
		goto out;
	check_slots(&c);
	check_badblocks(&c);
	rc = c.errors;
out:
	free(ns->slots);
	free(ns->order);
	free(ns->gaps);
	free(ns->bad);
	free(ns);
	return rc;
}

int xp_check(const char *target, unsigned flags, xp_finding_fn fn, void *arg)
{
	bool repair = flags & XP_CHECK_REPAIR;
	struct xp_media *m;
	int rc;

	xp_err_clear();
	rc = xp_media_open(target, repair, &m);
	if (rc)
		return rc;
	rc = xp_media_lock(m, repair);
	rc = rc ?: xp_check_media(m, flags, fn, arg);
	xp_media_close(m);
	return rc;
}
