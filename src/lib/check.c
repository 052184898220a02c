/* SPDX-License-Identifier: MIT */
/*
 * check and repair. Check only reads. Repair writes only copies that are
 * invalid, from the copy that is valid, so a crash during repair leaves
 * either the state before it or the state after it; it never touches the
 * last valid copy of anything. Every error finding names the command that
 * resolves it while keeping the other extents.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xp_internal.h"

/* A fix: "xenpmem", a command of its own (< 200 bytes) and the target
 * (< 256). */
#define XP_FIX_MAX 512

struct checker {
	struct xp_ns *ns;
	unsigned flags;
	xp_finding_fn fn;
	void *arg;
	int errors;
};

__attribute__((format(printf, 5, 6)))
static void report(struct checker *c, enum xp_severity sev, const char *obj,
		   const char *fix, const char *fmt, ...)
{
	struct xp_finding f = {.severity = sev, .object = obj,
			       .fix = fix ? fix : ""};
	char *text = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	/* A finding is never dropped, even without memory for its text. */
	f.text = text ? text : "(out of memory formatting this finding)";
	if (sev == XP_SEV_ERROR)
		c->errors++;
	xp_log_info("%s: %s: %s%s%s", c->ns->media->target, obj, f.text,
		    *f.fix ? "; fix: " : "", f.fix);
	if (c->fn)
		c->fn(&f, c->arg);
	free(text);
}

/* "xenpmem ARGS TARGET", for a finding's fix. */
__attribute__((format(printf, 4, 5)))
static const char *fix_cmd(const struct checker *c, char *buf, size_t len,
			   const char *fmt, ...)
{
	va_list ap;
	size_t n;

	n = (size_t)snprintf(buf, len, "xenpmem ");
	va_start(ap, fmt);
	n += (size_t)vsnprintf(buf + n, n < len ? len - n : 0, fmt, ap);
	va_end(ap);
	/* The buffers are XP_FIX_MAX: a command and a target path of up to
	 * 255 bytes always fit. */
	n = strlen(buf);
	if (n + 1 < len) {
		const char *t = c->ns->media->target;

		buf[n++] = ' ';
		while (*t && n + 1 < len)
			buf[n++] = *t++;
		buf[n] = 0;
	}
	return buf;
}

static bool repairing(const struct checker *c)
{
	return c->flags & XP_CHECK_REPAIR;
}

static const char *field_text(const char *field)
{
	return field ? field : "";
}

/* Repair is a write: the superblock in use must allow it. */
static bool may_write(struct checker *c)
{
	const char *why;

	if (xp_sb_writable(&c->ns->sb, &why))
		return true;
	report(c, XP_SEV_NOTE, "superblock", NULL, "not repaired: %s", why);
	return false;
}

/* Returns true when it rewrote the superblocks. */
static bool check_superblocks(struct checker *c)
{
	struct xp_ns *ns = c->ns;
	struct xp_media *m = ns->media;
	static const char *const obj[2] = {"superblock.primary",
					   "superblock.backup"};
	static const char *const copy_name[2] = {"primary", "backup"};
	bool ok[2] = {ns->primary_ok, ns->backup_ok};
	enum xp_fmt_status st[2] = {ns->primary_st, ns->backup_st};
	const char *field[2] = {ns->primary_field, ns->backup_field};
	uint64_t where[2] = {0, m->size - XP_SB_BLOCK};
	uint64_t gen;
	int src = ns->sb_from_backup;	/* the copy in use */
	uint8_t blk[XP_SB_BLOCK];
	bool bad[2], counted[2];	/* rewrite it; it was reported an error */
	char fix[XP_FIX_MAX];
	uint64_t was;

	if (!ok[0] && !ok[1] && xp_ns_size_changed(ns, &was)) {
		/* Not damage to repair: the namespace around it changed. */
		report(c, XP_SEV_ERROR, "superblock", NULL,
		       "size changed since init: %llu bytes now, %llu at init; give the namespace its size back",
		       (unsigned long long)m->size, (unsigned long long)was);
		return false;
	}
	for (int i = 0; i < 2; i++) {
		bad[i] = counted[i] = !ok[i];
		if (bad[i] && ns->sb_read_error[i][0])
			report(c, XP_SEV_ERROR, obj[i],
			       ok[!i] ? fix_cmd(c, fix, sizeof(fix),
						"check --repair") : NULL,
			       "unreadable (%s)", ns->sb_read_error[i]);
		else if (bad[i] && (ok[0] || ok[1]))
			report(c, XP_SEV_ERROR, obj[i],
			       fix_cmd(c, fix, sizeof(fix), "check --repair"),
			       "%s%s%s", xp_fmt_strstatus(st[i]),
			       field[i] ? " in " : "", field_text(field[i]));
		else if (bad[i])
			report(c, XP_SEV_ERROR, obj[i], NULL, "%s%s%s",
			       xp_fmt_strstatus(st[i]), field[i] ? " in " : "",
			       field_text(field[i]));
	}
	if (ns->sb_mismatch && !ns->sb_unresolved) {
		/* Only the generation differs: an interrupted repair. */
		int old = ns->sbs[0].generation < ns->sbs[1].generation ? 0 : 1;

		report(c, XP_SEV_ERROR, obj[old],
		       fix_cmd(c, fix, sizeof(fix), "check --repair"),
		       "generation %llu is older than the %s copy's %llu (an interrupted rewrite)",
		       (unsigned long long)ns->sbs[old].generation,
		       copy_name[!old],
		       (unsigned long long)ns->sbs[!old].generation);
		bad[old] = counted[old] = true;
	} else if (ns->sb_unresolved) {
		/*
		 * Two valid copies that say different things were not written
		 * by xenpmem, and nothing tells which is right: the reader
		 * went with the one the table agrees with; a human decides.
		 */
		if (c->flags & (XP_CHECK_USE_PRIMARY | XP_CHECK_USE_BACKUP)) {
			src = (c->flags & XP_CHECK_USE_BACKUP) ? 1 : 0;
			bad[!src] = true;
		}
		report(c, XP_SEV_ERROR, "superblock",
		       fix_cmd(c, fix, sizeof(fix),
			       "check --repair --use-superblock %s",
			       copy_name[ns->sb_from_backup]),
		       "the copies disagree (generations %llu and %llu); the table agrees with the %s copy, in use now",
		       (unsigned long long)ns->sbs[0].generation,
		       (unsigned long long)ns->sbs[1].generation,
		       copy_name[ns->sb_from_backup]);
		if (repairing(c) && !bad[!src])
			report(c, XP_SEV_NOTE, "superblock", NULL,
			       "not repaired: pick the copy to keep with --use-superblock primary|backup");
	}
	if (!repairing(c) || !ok[src] || !(bad[0] || bad[1]) || !may_write(c))
		return false;
	/*
	 * Every rewrite raises the generation. The bad copy is written first;
	 * then the good one, so the two end up the same. In between they
	 * differ only in generation, which the next open settles.
	 */
	gen = ns->sbs[src].generation;
	if (ok[!src] && ns->sbs[!src].generation > gen)
		gen = ns->sbs[!src].generation;
	if (gen == UINT64_MAX) {
		report(c, XP_SEV_ERROR, "superblock", NULL,
		       "not repaired: the generation is exhausted (2^64 - 1); only 'xenpmem init --force' can start the namespace afresh");
		return false;
	}
	gen++;
	for (int pass = 0; pass < 2; pass++) {
		int i = pass == 0 ? !src : src;

		memcpy(blk, ns->sb_raw[src], XP_SB_BLOCK);
		xp_sb_relocate(blk, i == 1, gen);
		if (xp_media_persist(m, where[i], blk, XP_SB_BLOCK)) {
			report(c, XP_SEV_ERROR, obj[i], NULL, "repair failed: %s",
			       xp_last_error());
			return pass > 0;
		}
	}
	/* The caller reads the namespace again from what is on the media. */
	for (int i = 0; i < 2; i++) {
		if (!bad[i])
			continue;
		if (counted[i])
			c->errors--;
		report(c, XP_SEV_FIXED, obj[i], NULL,
		       "rewritten from the %s copy (generation %llu)",
		       copy_name[src], (unsigned long long)gen);
	}
	if (ns->sb_unresolved)
		c->errors--;
	return true;
}

static void check_zero_area(struct checker *c)
{
	struct xp_media *m = c->ns->media;
	uint8_t buf[XP_SB_BLOCK];
	static const uint8_t zeroes[XP_SB_BLOCK];
	char fix[XP_FIX_MAX];

	/* Unreadable is not zero: Linux's probe would fail on it too, and
	 * storing zeroes over a bad block is what clears it on pmem. */
	if (m->ops->read(m, XP_ZERO_OFFSET, buf, sizeof(buf)))
		report(c, XP_SEV_ERROR, "zero area",
		       fix_cmd(c, fix, sizeof(fix), "check --repair"),
		       "bytes 4 KiB..8 KiB cannot be read (%s)",
		       xp_last_error());
	else if (!memcmp(buf, zeroes, sizeof(buf)))
		return;
	else
		report(c, XP_SEV_ERROR, "zero area",
		       fix_cmd(c, fix, sizeof(fix), "check --repair"),
		       "bytes 4 KiB..8 KiB are not zero (Linux may take the namespace for fsdax/devdax/sector)");
	if (!repairing(c) || !may_write(c))
		return;
	if (xp_media_persist(m, XP_ZERO_OFFSET, zeroes, sizeof(zeroes))) {
		report(c, XP_SEV_ERROR, "zero area", NULL, "repair failed: %s",
		       xp_last_error());
		return;
	}
	c->errors--;
	report(c, XP_SEV_FIXED, "zero area", NULL, "zeroed");
}

static bool tag_in(const uint8_t *copy, uint8_t tag)
{
	for (uint32_t w = 0; w < XP_REC_WORDS; w++)
		if (copy[w * 8 + 7] == tag)
			return true;
	return false;
}

/*
 * Write @rec as the slot's current record over copy @copy, then decode the
 * slot again from the media. The new seq is above every seq either copy
 * shows; its tag is not one the target copy carries (so a torn repair
 * shows as torn), and, when the copy left alone is damaged, sits more than
 * half the tag space past that copy's tag, so that copy reads as the older.
 */
static int rewrite_slot(struct checker *c, uint32_t i, int copy,
			struct xp_rec *rec)
{
	struct xp_media *m = c->ns->media;
	struct xp_slot *s = &c->ns->slots[i];
	uint8_t raw[XP_SLOT_SIZE], buf[XP_REC_SIZE];
	const uint8_t *target = raw + copy * XP_REC_SIZE;
	const uint8_t *kept = raw + !copy * XP_REC_SIZE;
	enum xp_fmt_status kept_st, target_st;
	struct xp_rec r;
	const char *f;
	uint64_t seq = 0;
	int rc;

	/*
	 * A slot that cannot be read is rewritten whole, the copy left
	 * alone as zeroes (a blank copy): storing over a bad block is what
	 * clears it, and nothing readable is lost.
	 */
	rc = m->ops->read(m, xp_slot_offset(i), raw, sizeof(raw));
	if (rc) {
		if (!c->ns->unreadable[i])
			return rc;
		memset(raw, 0, sizeof(raw));
		rec->seq = 1;
		xp_rec_encode(&c->ns->sb, i, rec, raw + copy * XP_REC_SIZE);
		rc = xp_media_persist(m, xp_slot_offset(i), raw, sizeof(raw));
		if (rc)
			return rc;
		c->ns->unreadable[i] = false;
		xp_slot_decode(&c->ns->sb, i, raw, s);
		return 0;
	}
	target_st = xp_rec_decode(&c->ns->sb, i, target, &r, &f);
	seq = r.seq;
	kept_st = xp_rec_decode(&c->ns->sb, i, kept, &r, &f);
	if (r.seq > seq)
		seq = r.seq;
	for (int n = 0;; n++) {
		if (n > 512 || seq == UINT64_MAX)
			return xp_err(EOVERFLOW, m->target,
				      "slot %u: sequence number exhausted", i);
		seq++;
		if (tag_in(target, xp_rec_tag(seq)))
			continue;
		if (kept_st == XP_E_CHECKSUM &&
		    (uint8_t)(kept[7] - xp_rec_tag(seq)) < 128)
			continue;
		break;
	}
	rec->seq = seq;
	xp_rec_encode(&c->ns->sb, i, rec, buf);
	/* Seq word first over a copy that is not whole (see slot_commit()). */
	if (target_st != XP_OK && target_st != XP_E_BLANK)
		rc = xp_media_persist(m, xp_slot_offset(i) +
					      (uint64_t)copy * XP_REC_SIZE,
				      buf, 8);
	rc = rc ?: xp_media_persist(m, xp_slot_offset(i) +
						(uint64_t)copy * XP_REC_SIZE,
				    buf, sizeof(buf));
	if (rc)
		return rc;
	memcpy(raw + copy * XP_REC_SIZE, buf, sizeof(buf));
	xp_slot_decode(&c->ns->sb, i, raw, s);
	return 0;
}

static void report_corrupt(struct checker *c, uint32_t i, const char *obj)
{
	struct xp_slot *s = &c->ns->slots[i];
	char fix[XP_FIX_MAX];

	fix_cmd(c, fix, sizeof(fix), "check --repair --force");
	if (c->ns->unreadable[i]) {
		report(c, XP_SEV_ERROR, obj, fix,
		       "its table page cannot be read (%s); --repair --force frees the slot",
		       c->ns->table_read_error);
	} else if (s->copy_status[0] == XP_OK && s->copy_status[1] == XP_OK) {
		report(c, XP_SEV_ERROR, obj, fix,
		       "both copies are valid with the same seq, which no update writes; --repair --force frees the slot");
	} else if (s->fallback >= 0) {
		report(c, XP_SEV_ERROR, obj, fix,
		       "its newer copy %d is damaged (%s%s%s, not an interrupted update); the older copy %d (seq %llu) holds %s%s%s; --repair --force restores that",
		       !s->fallback, xp_fmt_strstatus(s->copy_status[!s->fallback]),
		       s->copy_field[!s->fallback] ? " in " : "",
		       field_text(s->copy_field[!s->fallback]), s->fallback,
		       (unsigned long long)s->fallback_rec.seq,
		       xp_rec_used(&s->fallback_rec) ? "extent '" : "a free record",
		       xp_rec_used(&s->fallback_rec) ? s->fallback_rec.name : "",
		       xp_rec_used(&s->fallback_rec) ? "'" : "");
	} else {
		report(c, XP_SEV_ERROR, obj, fix,
		       "no valid copy (copy 0: %s%s%s; copy 1: %s%s%s); --repair --force frees the slot",
		       xp_fmt_strstatus(s->copy_status[0]),
		       s->copy_field[0] ? " in " : "", field_text(s->copy_field[0]),
		       xp_fmt_strstatus(s->copy_status[1]),
		       s->copy_field[1] ? " in " : "", field_text(s->copy_field[1]));
	}
}

static void repair_corrupt(struct checker *c, uint32_t i, const char *obj)
{
	struct xp_slot *s = &c->ns->slots[i];
	struct xp_rec rec = {0};
	bool restore = s->fallback >= 0;
	int copy = restore ? !s->fallback : 0;

	if (!(c->flags & XP_CHECK_FORCE) || c->ns->sb_unresolved) {
		report(c, XP_SEV_NOTE, obj, NULL,
		       "not repaired: nothing certain to restore; --repair --force %s",
		       restore ? "restores the older copy" :
				 "frees the slot and the range it described");
		return;
	}
	if (restore)
		rec = s->fallback_rec;
	if (rewrite_slot(c, i, copy, &rec)) {
		report(c, XP_SEV_ERROR, obj, NULL, "repair failed: %s",
		       xp_last_error());
		return;
	}
	c->errors--;
	if (restore && xp_rec_used(&rec))
		report(c, XP_SEV_FIXED, obj, NULL,
		       "restored its older copy: extent '%s'", rec.name);
	else
		report(c, XP_SEV_FIXED, obj, NULL, "%s",
		       restore ? "restored its older copy: free" :
				 "freed (it had no valid copy)");
}

static void check_slot(struct checker *c, uint32_t i)
{
	struct xp_slot *s = &c->ns->slots[i];
	char obj[32], fix[XP_FIX_MAX];

	snprintf(obj, sizeof(obj), "slot %u", i);
	if (s->state == XP_SLOT_CORRUPT) {
		report_corrupt(c, i, obj);
		if (repairing(c) && may_write(c))
			repair_corrupt(c, i, obj);
		if (s->state == XP_SLOT_CORRUPT)
			return;
	}
	if (s->mixed_tags)
		report(c, XP_SEV_NOTE, obj, NULL,
		       "the current copy's tags differ (an update cut short after its last change landed): a damaged byte there would read as a tear; the next update or --repair evens them");
	for (int k = 0; k < 2; k++) {
		if (k == s->active || s->copy_status[k] == XP_E_BLANK ||
		    s->copy_status[k] == XP_OK)
			continue;
		if (s->stale_damaged) {
			report(c, XP_SEV_ERROR, obj,
			       fix_cmd(c, fix, sizeof(fix), "check --repair"),
			       "older copy %d is damaged (%s%s%s, not an interrupted update); the slot uses copy %d (seq %llu)",
			       k, xp_fmt_strstatus(s->copy_status[k]),
			       s->copy_field[k] ? " in " : "",
			       field_text(s->copy_field[k]), s->active,
			       (unsigned long long)s->rec.seq);
			continue;
		}
		/* What an interrupted update leaves; the next update of the
		 * slot overwrites it. */
		report(c, XP_SEV_NOTE, obj, NULL,
		       "copy %d is %s%s%s; the slot uses copy %d (seq %llu)", k,
		       xp_fmt_strstatus(s->copy_status[k]),
		       s->copy_field[k] ? " in " : "",
		       field_text(s->copy_field[k]), s->active,
		       (unsigned long long)s->rec.seq);
	}
	if (s->stale_damaged && repairing(c) && may_write(c)) {
		struct xp_rec rec = s->rec;

		/* Write the current record again over the damaged copy. */
		if (rewrite_slot(c, i, !s->active, &rec)) {
			report(c, XP_SEV_ERROR, obj, NULL, "repair failed: %s",
			       xp_last_error());
			return;
		}
		c->errors--;
		report(c, XP_SEV_FIXED, obj, NULL,
		       "older copy rewritten from the current one");
	}
}

static void report_pair(uint32_t a, uint32_t b, const char *rule, void *arg)
{
	struct checker *c = arg;
	const struct xp_rec *ra = &c->ns->slots[a].rec;
	const struct xp_rec *rb = &c->ns->slots[b].rec;
	char obj[32], fix[XP_FIX_MAX];

	snprintf(obj, sizeof(obj), "slots %u,%u", a, b);
	/* Nothing says which of the two is the rightful one: the fix names
	 * one and the text says the other will do as well. */
	if (!strcmp(rule, "duplicate name"))
		fix_cmd(c, fix, sizeof(fix), "rename --force @%u NEWNAME", b);
	else
		fix_cmd(c, fix, sizeof(fix), "destroy --force @%u", b);
	report(c, XP_SEV_ERROR, obj, fix,
	       "%s: '%s' (@%u) and '%s' (@%u); neither is exported until one of them is %s with --force (by slot: @%u or @%u, whichever does not hold the data you keep)",
	       rule, ra->name, a, rb->name, b,
	       strcmp(rule, "duplicate name") ? "destroyed" : "renamed", b, a);
}

static void check_slots(struct checker *c)
{
	struct xp_ns *ns = c->ns;

	for (uint32_t i = 0; i < ns->sb.slot_count; i++)
		check_slot(c, i);
	ns->ncorrupt = ns->nmixed = 0;
	for (uint32_t i = 0; i < ns->sb.slot_count; i++) {
		ns->ncorrupt += ns->slots[i].state == XP_SLOT_CORRUPT;
		ns->nmixed += ns->slots[i].mixed_tags;
	}
	if (ns->nmixed && repairing(c) && may_write(c)) {
		uint32_t n = ns->nmixed;

		if (xp_ns_even_tags(ns, -1) || xp_media_drain(ns->media))
			report(c, XP_SEV_ERROR, "table", NULL, "repair failed: %s",
			       xp_last_error());
		else
			report(c, XP_SEV_FIXED, "table", NULL,
			       "evened the tags of %u current cop%s", n,
			       n == 1 ? "y" : "ies");
	}
	xp_ns_check_rules(ns);
	xp_ns_rebuild(ns);
	xp_table_violations(ns->slots, ns->sb.slot_count, ns->order,
			    report_pair, c);
	xp_ns_rebuild(ns);
}

static void check_badblocks(struct checker *c)
{
	struct xp_ns *ns = c->ns;
	char obj[XP_NAME_MAX + 16], fix[XP_FIX_MAX];
	uint64_t n;

	if (xp_badblocks_in(ns, 0, ns->sb.mgmt_offset) ||
	    xp_badblocks_in(ns, ns->media->size - XP_SB_BLOCK, XP_SB_BLOCK))
		report(c, XP_SEV_ERROR, "metadata", NULL,
		       "bad blocks inside the superblocks or extent table");
	if (xp_badblocks_in(ns, ns->sb.mgmt_offset, ns->sb.mgmt_size))
		report(c, XP_SEV_ERROR, "management area", NULL,
		       "bad blocks where the hypervisor keeps its frame table and M2P");
	for (uint32_t i = 0; i < ns->nused; i++) {
		const struct xp_rec *r = &ns->slots[ns->order[i]].rec;

		n = xp_badblocks_in(ns, r->offset, r->size);
		if (!n)
			continue;
		snprintf(obj, sizeof(obj), "extent %s", r->name);
		report(c, XP_SEV_ERROR, obj,
		       fix_cmd(c, fix, sizeof(fix), "wipe --force @%u",
			       ns->order[i]),
		       "contains %llu bad 512-byte sectors (a wipe writes zeroes over them, which clears the poison; the data there is lost)",
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
		(void)check_superblocks(&c);
		if (repairing(&c))
			report(&c, XP_SEV_NOTE, "superblock", NULL,
			       "not repaired: neither copy is valid");
		rc = c.errors;
		goto out;
	}
	/* The table decides which of two disagreeing copies is read. */
	rc = xp_ns_load_table(ns);
	rc = rc ?: xp_badblocks_load(ns);
	if (rc)
		goto out;
	if (check_superblocks(&c)) {
		/* Read everything again through what is on the media now:
		 * the copy kept may not be the one the table was read with. */
		xp_ns_free_tables(ns);
		rc = xp_ns_load_sb(ns);
		rc = rc ?: xp_ns_sb_error(ns);
		rc = rc ?: xp_ns_load_table(ns);
		rc = rc ?: xp_badblocks_load(ns);
		if (rc)
			goto out;
	}
	if (ns->moved)
		report(&c, XP_SEV_ERROR, "superblock", NULL,
		       "moved: the namespace starts at physical %#llx, where what init laid out (at %#llx%s) no longer holds: extent alignment and exported guest frames are stale; put the namespace back where it was",
		       (unsigned long long)m->phys_base,
		       (unsigned long long)ns->sb.phys_base,
		       ns->sb.compat & XP_SB_F_PHYS_KNOWN ? "" :
							    ", address unknown");
	check_zero_area(&c);
	check_slots(&c);
	check_badblocks(&c);
	rc = c.errors;
out:
	xp_ns_free_tables(ns);
	free(ns);
	return rc;
}

int xp_check(const char *target, unsigned flags, xp_finding_fn fn, void *arg)
{
	bool repair = flags & XP_CHECK_REPAIR;
	struct xp_media *m;
	int rc;

	xp_err_clear();
	rc = xp_flags_known(flags, XP_CHECK_REPAIR | XP_CHECK_FORCE |
				   XP_CHECK_USE_PRIMARY | XP_CHECK_USE_BACKUP |
				   XP_WAIT_FLAGS, target, "check");
	if (rc)
		return rc;
	rc = xp_media_open(target, repair, &m);
	if (rc)
		return rc;
	rc = xp_media_lock(m, repair, flags);
	rc = rc ?: xp_check_media(m, flags, fn, arg);
	xp_media_close(m);
	return rc;
}
