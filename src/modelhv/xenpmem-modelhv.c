// SPDX-License-Identifier: MIT
/*
 * xenpmem-modelhv: the hv library (hv/) in a process of its own, standing
 * in for a hypervisor that has the xenpmem patches.
 *
 * It is told, as Xen is by the firmware, which physical ranges are host
 * RAM (--ram) and which hold persistent memory (--namespace SPA=FILE: the
 * file is the memory at SPA). Dom0 reaches it over a unix socket with the
 * requests of hv/xphv_abi.h (src/modelhv/modelhv.h says how they travel);
 * it answers them with the library, exactly as Xen's sysctl and memory-op
 * handlers would, and keeps what Xen keeps: the registry, each domain's
 * p2m, and page_info records in the namespace's management area.
 *
 * Its state lives in memory and dies with the process: kill -9 is a
 * reboot. Requests are served one at a time, each only once it has
 * arrived whole, so a client dying mid-request changes nothing; a request
 * acted on stands even when its reply cannot be delivered.
 *
 * The same binary is the model's toolstack: "domain-create", "domain-
 * destroy" and "p2m" talk to a running model (what xl create/destroy and
 * xen-hvmctx would be on a real host).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "modelhv.h"
#include "xphv.h"
#include "xphv_abi.h"

#define PROG "xenpmem-modelhv"

#define MAX_NS 16		/* --namespace options */
#define MAX_RAM 64		/* --ram options */
#define REG_CAP 4096		/* registry regions */
#define MAP_CAP 4096		/* guest mappings */
#define MAX_DOMAINS 256
#define MAX_CLIENTS 16
#define DOMID_FIRST_RESERVED 0x7ff0u
#define SUPER_ORDER 9u

/* ---- state --------------------------------------------------------------- */

struct mns;

/* One registration: the library's namespace and the storage it was given. */
struct mreg {
	struct xphv_ns ns;
	struct xphv_storage st;
	struct xphv_ops ops;
	struct mns *m;
};

/* A --namespace: physical range [spa, spa + size) and the file behind it. */
struct mns {
	uint64_t spa, size;
	const char *path;
	int fd;
	struct xphv_media media;
	struct mreg *reg;	/* when registered */
};

struct p2m_ent {
	uint64_t gfn, mfn;
	uint32_t order;
};

struct dom {
	uint16_t domid;
	uint8_t uuid[16];
	struct p2m_ent *e;	/* sorted by gfn, disjoint */
	size_t n, cap;
};

/* A mapped frame range, in the model's own index by mfn: the p2m refuses
 * a frame that is mapped anywhere, whatever the library says. */
struct mfn_ent {
	uint64_t gfn, mfn;	/* sorted by mfn; gfn unused */
	uint32_t order;
	uint16_t domid;
};

/* page_info changes of the request being served, written when it ends. */
struct pi_run {
	struct mreg *r;
	uint64_t mfn, nr, gfn;
	uint16_t owner;
	bool mapped;
};

static struct {
	struct mns ns[MAX_NS];
	unsigned nns;
	struct xphv_range ram[MAX_RAM];
	unsigned nram;
	bool pv32;

	struct xphv_registry reg;
	struct xphv_ns *ns_ptrs[MAX_NS];
	struct xphv_region regions[REG_CAP];
	struct xphv_mapping maps[MAP_CAP];

	struct dom doms[MAX_DOMAINS];
	size_t ndoms;
	struct mfn_ent *mfns;
	size_t nmfns, mfns_cap;
	struct pi_run *runs;
	size_t nruns, runs_cap;
	bool runs_oom;
	uint64_t heap_frames;	/* RAM received from lent extents */
} M;

/* ---- log ----------------------------------------------------------------- */

/* One line per event, as `xl dmesg` shows the hypervisor's. */
static void hvlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void hvlog(const char *fmt, ...)
{
	va_list ap;

	fputs("xenpmem: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						      noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void fmt_uuid(const uint8_t u[16], char out[37])
{
	uuid_unparse_lower(u, out);
}

static const char *cmd_name(uint32_t cmd)
{
	switch (cmd) {
	case XPHV_CMD_REGISTER: return "register";
	case XPHV_CMD_QUERY: return "query";
	case XPHV_CMD_UNREGISTER: return "unregister";
	case XPHV_CMD_MAP: return "map";
	case XPHV_CMD_UNMAP: return "unmap";
	case XPHV_CMD_META_READ: return "meta-read";
	case XPHV_CMD_META_WRITE: return "meta-write";
	case XPHV_CMD_MODEL_DOMAIN_CREATE: return "domain-create";
	case XPHV_CMD_MODEL_DOMAIN_DESTROY: return "domain-destroy";
	case XPHV_CMD_MODEL_P2M: return "p2m";
	case MODELHV_CMD_DOMAIN_FIND: return "domain-find";
	}
	return "unknown";
}


/* ---- media: the file behind a physical range ----------------------------- */

static int media_read(void *ctx, uint64_t off, void *buf, uint64_t len)
{
	struct mns *m = ctx;
	uint8_t *p = buf;

	if (off > m->size || len > m->size - off)
		return -EIO;
	while (len) {
		ssize_t n = pread(m->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, uint64_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* The library's writes (record copies, Dom0's metadata) are durable when
 * the callback returns, as a flush and fence make them on pmem. */
static int media_write(void *ctx, uint64_t off, const void *buf, uint64_t len)
{
	struct mns *m = ctx;
	int rc;

	if (off > m->size || len > m->size - off)
		return -EIO;
	rc = pwrite_all(m->fd, buf, len, off);
	if (!rc && fdatasync(m->fd))
		rc = -errno;
	return rc;
}

/* ---- page_info records --------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void encode_pi(uint8_t *p, uint64_t count_info, uint16_t owner,
		      uint64_t mfn, uint64_t gfn)
{
	memset(p, 0, sizeof(struct modelhv_page_info));
	put_le(p + offsetof(struct modelhv_page_info, count_info), count_info,
	       8);
	put_le(p + offsetof(struct modelhv_page_info, owner), owner, 2);
	put_le(p + offsetof(struct modelhv_page_info, mfn), mfn, 8);
	put_le(p + offsetof(struct modelhv_page_info, gfn), gfn, 8);
}

static bool in_lent(const struct mreg *r, uint64_t mfn)
{
	for (uint32_t i = 0; i < r->ns.nlent; i++) {
		const struct xphv_lent *l = &r->st.lent[i];

		if (mfn >= l->start_mfn && mfn - l->start_mfn < l->nr)
			return true;
	}
	return false;
}

/* Where the management frame @backing_mfn sits in the file. */
static bool backing_off(const struct mreg *r, uint64_t backing_mfn,
			uint64_t byte, uint64_t len, uint64_t *off)
{
	uint64_t a = backing_mfn << 12;

	if (a < r->m->spa)
		return false;
	*off = a - r->m->spa + byte;
	return *off <= r->m->size && len <= r->m->size - *off;
}

/*
 * ops.ft_init_chunk: the records of frames [@mfn, @mfn + @nr) of virtual
 * frame-table chunk @chunk, backed by the 512 frames from @backing_mfn.
 * One write per chunk. The model's PDX is the MFN.
 */
static int ft_init_chunk(void *ctx, uint64_t chunk, uint64_t backing_mfn,
			 uint64_t mfn, uint64_t nr)
{
	struct mreg *r = ctx;
	const uint64_t per = r->ns.plan.entries_per_ft_chunk;
	const uint32_t sz = sizeof(struct modelhv_page_info);
	uint64_t off;
	uint8_t *buf;
	char u[37];
	int rc;

	if (!per || !nr || mfn / per != chunk ||
	    (mfn + nr - 1) / per != chunk ||
	    !backing_off(r, backing_mfn, (mfn % per) * sz, nr * sz, &off)) {
		hvlog("BUG: frame-table chunk %" PRIu64 " at mfn %#" PRIx64
		      " cannot hold frames [%#" PRIx64 ", %#" PRIx64 ")",
		      chunk, backing_mfn, mfn, mfn + nr);
		return -EINVAL;
	}
	buf = malloc(nr * sz);
	if (!buf)
		return -ENOMEM;
	for (uint64_t i = 0; i < nr; i++) {
		bool lent = in_lent(r, mfn + i);

		encode_pi(buf + i * sz,
			  (lent ? MODELHV_PGC_HEAP : MODELHV_PGC_PMEM) |
				  MODELHV_PGC_FREE,
			  MODELHV_DOMID_INVALID, mfn + i, MODELHV_GFN_INVALID);
	}
	rc = pwrite_all(r->m->fd, buf, nr * sz, off);
	free(buf);
	fmt_uuid(r->ns.sb.ns_uuid, u);
	hvlog("ns %s: frame-table chunk %#" PRIx64 " at mfn %#" PRIx64
	      ": %" PRIu64 " page_info records for [mfn %#" PRIx64 ", %#" PRIx64
	      ")%s", u, chunk, backing_mfn, nr, mfn, mfn + nr,
	      rc ? ": write failed" : "");
	return rc;
}

/* ops.heap_add: frames of a lent extent become the heap's RAM. */
static int heap_add(void *ctx, uint64_t mfn, uint64_t nr)
{
	struct mreg *r = ctx;
	char u[37];

	fmt_uuid(r->ns.sb.ns_uuid, u);
	M.heap_frames += nr;
	hvlog("ns %s: heap: %" PRIu64 " frames at [mfn %#" PRIx64 ", %#" PRIx64
	      ") added as RAM (%" PRIu64 " lent frames in the heap)",
	      u, nr, mfn, mfn + nr, M.heap_frames);
	return 0;
}

static struct mreg *reg_of_mfn(uint64_t mfn, uint64_t *backing,
			       uint32_t *offset)
{
	for (unsigned i = 0; i < M.nns; i++) {
		struct mreg *r = M.ns[i].reg;

		if (r && !xphv_ft_slot(&r->ns, mfn, backing, offset))
			return r;
	}
	return NULL;
}

/* Queue the page_info change of [@mfn, @mfn + @nr): runs that continue
 * the previous one join it, so a mapping costs one write per chunk. */
static int queue_pi(uint64_t mfn, uint64_t nr, uint16_t owner, uint64_t gfn,
		    bool mapped)
{
	struct pi_run *l = M.nruns ? &M.runs[M.nruns - 1] : NULL;
	uint64_t backing;
	uint32_t offset;
	struct mreg *r = reg_of_mfn(mfn, &backing, &offset);

	if (!r) {
		hvlog("BUG: mfn %#" PRIx64 " has no page_info record", mfn);
		return -EINVAL;
	}
	if (l && l->r == r && l->mapped == mapped && l->owner == owner &&
	    l->mfn + l->nr == mfn && (!mapped || l->gfn + l->nr == gfn)) {
		l->nr += nr;
		return 0;
	}
	if (M.nruns == M.runs_cap) {
		size_t cap = M.runs_cap ? 2 * M.runs_cap : 64;
		struct pi_run *n = realloc(M.runs, cap * sizeof(*n));

		if (!n) {
			M.runs_oom = true;
			return -ENOMEM;
		}
		M.runs = n;
		M.runs_cap = cap;
	}
	M.runs[M.nruns++] = (struct pi_run){r, mfn, nr, gfn, owner, mapped};
	return 0;
}

/* Write the queued records: one pwrite per run and frame-table chunk. */
static void flush_pi(void)
{
	const uint32_t sz = sizeof(struct modelhv_page_info);

	for (size_t i = 0; i < M.nruns; i++) {
		struct pi_run *run = &M.runs[i];
		const uint64_t per = run->r->ns.plan.entries_per_ft_chunk;

		for (uint64_t done = 0; done < run->nr;) {
			uint64_t mfn = run->mfn + done, backing, off;
			uint64_t n = per - mfn % per;
			uint32_t offset;
			uint8_t *buf;

			if (n > run->nr - done)
				n = run->nr - done;
			if (xphv_ft_slot(&run->r->ns, mfn, &backing,
					 &offset) ||
			    !backing_off(run->r, backing, offset, n * sz,
					 &off) ||
			    !(buf = malloc(n * sz))) {
				hvlog("BUG: page_info of [mfn %#" PRIx64
				      ", %#" PRIx64 ") not written", mfn,
				      mfn + n);
				break;
			}
			for (uint64_t j = 0; j < n; j++) {
				if (run->mapped)
					encode_pi(buf + j * sz,
						  MODELHV_PGC_ALLOCATED |
							  MODELHV_PGC_PMEM |
							  MODELHV_PGC_INUSE | 1,
						  run->owner, mfn + j,
						  run->gfn + done + j);
				else
					encode_pi(buf + j * sz,
						  MODELHV_PGC_PMEM |
							  MODELHV_PGC_FREE,
						  MODELHV_DOMID_INVALID,
						  mfn + j, MODELHV_GFN_INVALID);
			}
			if (pwrite_all(run->r->m->fd, buf, n * sz, off))
				hvlog("page_info of [mfn %#" PRIx64
				      ", %#" PRIx64 ") not written: %s", mfn,
				      mfn + n, strerror(errno));
			free(buf);
			done += n;
		}
	}
	if (M.runs_oom)
		hvlog("BUG: out of memory: some page_info records are stale");
	M.nruns = 0;
	M.runs_oom = false;
}

/* ---- domains and their p2m ----------------------------------------------- */

static struct dom *find_dom(uint16_t domid)
{
	for (size_t i = 0; i < M.ndoms; i++)
		if (M.doms[i].domid == domid)
			return &M.doms[i];
	return NULL;
}

static uint64_t frames(uint32_t order)
{
	return 1ull << order;
}

/* First entry of sorted @e whose key (gfn or mfn at @koff) is >= @k. */
static size_t lower_bound(const void *base, size_t n, size_t size,
			  size_t koff, uint64_t k)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * size + koff, sizeof(v));
		if (v < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does [k, k + nr) meet an entry of a sorted, disjoint array? Sets *at to
 * where an entry for k goes. */
static bool overlaps(const void *base, size_t n, size_t size, size_t koff,
		     size_t ooff, uint64_t k, uint64_t nr, size_t *at)
{
	size_t i = lower_bound(base, n, size, koff, k);
	uint64_t v;
	uint32_t o;

	*at = i;
	if (i < n) {
		memcpy(&v, (const char *)base + i * size + koff, sizeof(v));
		if (v < k + nr)
			return true;
	}
	if (i > 0) {
		const char *prev = (const char *)base + (i - 1) * size;

		memcpy(&v, prev + koff, sizeof(v));
		memcpy(&o, prev + ooff, sizeof(o));
		if (v + frames(o) > k)
			return true;
	}
	return false;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 64;
	void *q;

	if (n < *cap)
		return 0;
	q = realloc(*p, c * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* p2m.map: 1 << @order frames at @gfn, refused when any gfn of the range
 * is mapped already, or (a library bug) any frame is mapped anywhere. */
static int p2m_map(void *ctx, uint16_t domid, uint64_t gfn, uint64_t mfn,
		   uint32_t order)
{
	struct dom *d = find_dom(domid);
	size_t gi, mi;

	(void)ctx;
	if (!d)
		return -ESRCH;
	if (overlaps(d->e, d->n, sizeof(*d->e), offsetof(struct p2m_ent, gfn),
		     offsetof(struct p2m_ent, order), gfn, frames(order),
		     &gi)) {
		hvlog("p2m d%u: gfn range [%#" PRIx64 ", %#" PRIx64
		      ") is mapped already", domid, gfn, gfn + frames(order));
		return -EEXIST;
	}
	if (overlaps(M.mfns, M.nmfns, sizeof(*M.mfns),
		     offsetof(struct mfn_ent, mfn),
		     offsetof(struct mfn_ent, order), mfn, frames(order),
		     &mi)) {
		hvlog("BUG: p2m d%u: mfn range [%#" PRIx64 ", %#" PRIx64
		      ") is mapped already", domid, mfn, mfn + frames(order));
		return -EBUSY;
	}
	if (grow((void **)&d->e, &d->cap, d->n, sizeof(*d->e)) ||
	    grow((void **)&M.mfns, &M.mfns_cap, M.nmfns, sizeof(*M.mfns)))
		return -ENOMEM;
	memmove(&d->e[gi + 1], &d->e[gi], (d->n - gi) * sizeof(*d->e));
	d->e[gi] = (struct p2m_ent){gfn, mfn, order};
	d->n++;
	memmove(&M.mfns[mi + 1], &M.mfns[mi], (M.nmfns - mi) * sizeof(*M.mfns));
	M.mfns[mi] = (struct mfn_ent){gfn, mfn, order, domid};
	M.nmfns++;
	/* A failed queue leaves the records stale, not the p2m wrong. */
	(void)queue_pi(mfn, frames(order), domid, gfn, true);
	return 0;
}

static int p2m_unmap(void *ctx, uint16_t domid, uint64_t gfn, uint64_t mfn,
		     uint32_t order)
{
	struct dom *d = find_dom(domid);
	size_t gi, mi;

	(void)ctx;
	gi = d ? lower_bound(d->e, d->n, sizeof(*d->e),
			     offsetof(struct p2m_ent, gfn), gfn) : 0;
	mi = lower_bound(M.mfns, M.nmfns, sizeof(*M.mfns),
			 offsetof(struct mfn_ent, mfn), mfn);
	if (!d || gi >= d->n || d->e[gi].gfn != gfn || d->e[gi].mfn != mfn ||
	    d->e[gi].order != order || mi >= M.nmfns ||
	    M.mfns[mi].mfn != mfn || M.mfns[mi].domid != domid) {
		hvlog("BUG: p2m d%u: no entry gfn %#" PRIx64 " -> mfn %#" PRIx64
		      " order %u to remove", domid, gfn, mfn, order);
		return -ENOENT;
	}
	memmove(&d->e[gi], &d->e[gi + 1], (d->n - gi - 1) * sizeof(*d->e));
	d->n--;
	memmove(&M.mfns[mi], &M.mfns[mi + 1],
		(M.nmfns - mi - 1) * sizeof(*M.mfns));
	M.nmfns--;
	(void)queue_pi(mfn, frames(order), domid, gfn, false);
	return 0;
}

static const struct xphv_p2m P2M = {p2m_map, p2m_unmap, NULL};

/* ---- requests ------------------------------------------------------------ */

/* What one request produces: the reply structure and its payload. */
struct answer {
	struct xphv_abi_op op;
	void *payload;
	size_t len;
	bool close;		/* framing lost: close after the reply */
};

static void refuse(struct answer *a, const struct xphv_refusal *why)
{
	a->op.reply.err = -xphv_errno(why->reason);
	a->op.reply.reason = why->reason;
	a->op.reply.slot = why->slot;
	a->op.reply.a = why->a;
	a->op.reply.b = why->b;
}

static void refuse_err(struct answer *a, int err, uint32_t reason,
		       uint64_t x, uint64_t y)
{
	struct xphv_refusal why = {reason, XPHV_NO_SLOT, x, y};

	refuse(a, &why);
	a->op.reply.err = -err;
}

static void log_refusal(const struct answer *a, const char *what)
{
	const struct xphv_abi_reply *r = &a->op.reply;
	char slot[32] = "";

	if (r->slot != XPHV_NO_SLOT)
		snprintf(slot, sizeof(slot), " slot %u", r->slot);
	hvlog("%s refused: %s (%s;%s a=%#" PRIx64 " b=%#" PRIx64 ")",
	      what, xphv_strreason(r->reason), strerror(-r->err), slot,
	      r->a, r->b);
}

static const struct xphv_extent *ext_of(const struct xphv_ns *ns,
					uint32_t slot)
{
	for (uint32_t i = 0; i < ns->next; i++)
		if (ns->st.ext[i].slot == slot)
			return &ns->st.ext[i];
	return NULL;
}

static struct mreg *mreg_of(const struct xphv_ns *ns)
{
	return (struct mreg *)((char *)ns - offsetof(struct mreg, ns));
}

static void free_mreg(struct mreg *r)
{
	if (!r)
		return;
	free(r->st.ext);
	free(r->st.scratch);
	free(r->st.ft_ready);
	free(r->st.lent);
	free(r);
}

static void do_register(const struct xphv_abi_op *in, struct answer *a)
{
	const struct xphv_abi_register *rq = &in->u.reg;
	struct xphv_abi_register *out = &a->op.u.reg;
	const bool dry = in->flags & XPHV_F_DRY_RUN;
	struct xphv_refusal why = {0};
	struct xphv_expect exp = {0};
	struct xphv_need need = {0};
	struct xphv_geom g;
	struct mns *m = NULL;
	struct mreg *r = NULL;
	uint64_t ram = 0, s = rq->spa_start, e;
	char u[37], what[160];

	snprintf(what, sizeof(what), "%sregister of [mfn %#" PRIx64 ", %#"
		 PRIx64 ")", dry ? "dry-run " : "", s >> 12,
		 (s + rq->spa_len) >> 12);
	for (unsigned i = 0; i < M.nns && !m; i++)
		if (M.ns[i].spa == s)
			m = &M.ns[i];
	/* Xen knows its physical memory: nothing is pmem it was not told. */
	if (!m || !rq->spa_len || rq->spa_len > m->size ||
	    (s | rq->spa_len) & 4095) {
		refuse_err(a, ERANGE, XPHV_R_RANGE, s, rq->spa_len);
		goto refused;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		refuse_err(a, ENOMEM, XPHV_R_FULL, 0, 0);
		goto refused;
	}
	r->m = m;
	if (xphv_probe(&r->ns, &m->media, s, rq->spa_len, &need, &why))
		goto lib_refused;
	r->st.ext = calloc(need.slot_count ? need.slot_count : 1,
			   sizeof(*r->st.ext));
	r->st.scratch = calloc(need.slot_count ? need.slot_count : 1,
			       sizeof(*r->st.scratch));
	r->st.ft_ready = calloc(need.ft_ready_words ? need.ft_ready_words : 1,
				sizeof(*r->st.ft_ready));
	r->st.lent = calloc(need.slot_count ? need.slot_count : 1,
			    sizeof(*r->st.lent));
	r->st.lent_cap = need.slot_count;
	if (!r->st.ext || !r->st.scratch || !r->st.ft_ready || !r->st.lent) {
		refuse_err(a, ENOMEM, XPHV_R_FULL, 0, 0);
		goto refused;
	}
	memcpy(exp.ns_uuid, rq->ns_uuid, 16);
	exp.generation = rq->generation;
	/* A flag can only make the check stricter than the host's setting. */
	xphv_geom_xen_x86(&g, M.pv32 || (in->flags & XPHV_F_PV32));
	if (xphv_validate(&r->ns, &exp, &g, &r->st, &why))
		goto lib_refused;
	r->ops = (struct xphv_ops){ft_init_chunk, heap_add, r};
	if (xphv_register(&M.reg, &r->ns, &r->ops, dry, &why)) {
		/* Lending is one-way: a namespace whose heap refused frames
		 * stays registered; the refusal still goes back. */
		if (r->ns.id) {
			m->reg = r;
			r = NULL;
		}
		goto lib_refused;
	}

	for (uint32_t i = 0; i < r->ns.nlent; i++)
		ram += r->st.lent[i].nr;
	out->ns_id = r->ns.id;
	out->nextents = r->ns.next;
	out->data_start_mfn = (s + r->ns.sb.data_offset) >> 12;
	out->data_end_mfn =
		(s + r->ns.sb.data_offset + r->ns.sb.data_size) >> 12;
	out->mgmt_used = r->ns.plan.mgmt_used;
	out->ram_frames = ram;
	e = s + rq->spa_len;
	fmt_uuid(r->ns.sb.ns_uuid, u);
	hvlog("%s ns %s at [mfn %#" PRIx64 ", %#" PRIx64 "): %u extents, "
	      "mgmt %" PRIu64 " frames%s", dry ? "dry run: would register" :
	      "registered", u, s >> 12, e >> 12, r->ns.next,
	      r->ns.plan.mgmt_used, ram ? ", RAM lent" : "");
	if (dry) {
		free_mreg(r);
		return;
	}
	hvlog("ns %s is ns_id %u: data [mfn %#" PRIx64 ", %#" PRIx64
	      "), frame table %" PRIu64 " chunks, M2P %" PRIu64
	      " chunks, compat M2P %" PRIu64 " chunks", u, r->ns.id,
	      out->data_start_mfn, out->data_end_mfn, r->ns.plan.ft.count,
	      r->ns.plan.m2p.count, r->ns.plan.compat.count);
	m->reg = r;
	return;

lib_refused:
	refuse(a, &why);
refused:
	free_mreg(r);
	log_refusal(a, what);
}

static void do_unregister(const struct xphv_abi_op *in, struct answer *a)
{
	struct xphv_ns *ns = xphv_lookup_uuid(&M.reg, in->u.ns.ns_uuid);
	struct xphv_refusal why = {0};
	struct mreg *r;
	char u[37], what[80];

	fmt_uuid(in->u.ns.ns_uuid, u);
	snprintf(what, sizeof(what), "unregister of ns %s", u);
	if (!ns) {
		refuse_err(a, ENOENT, XPHV_R_NOT_REGISTERED, 0, 0);
		log_refusal(a, what);
		return;
	}
	r = mreg_of(ns);
	if (xphv_unregister(&M.reg, ns->id, &why)) {
		refuse(a, &why);
		log_refusal(a, what);
		return;
	}
	r->m->reg = NULL;
	free_mreg(r);
	hvlog("unregistered ns %s", u);
}

static void do_query(const struct xphv_abi_op *in, struct answer *a)
{
	const struct xphv_abi_query *q = &in->u.query;
	struct xphv_abi_query *out = &a->op.u.query;
	struct xphv_abi_region *regs;
	uint32_t n = 0, total = M.reg.nreg;

	if (q->start <= total)
		n = total - q->start;
	if (n > q->nr)
		n = q->nr;
	if (n > MODELHV_QUERY_MAX)
		n = MODELHV_QUERY_MAX;
	regs = calloc(n ? n : 1, sizeof(*regs));
	if (!regs) {
		refuse_err(a, ENOMEM, XPHV_R_FULL, 0, 0);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct xphv_region *r = &M.reg.reg[q->start + i];
		const struct xphv_ns *ns = xphv_lookup(&M.reg, r->ns_id);

		regs[i].start_mfn = r->start_mfn;
		regs[i].end_mfn = r->end_mfn;
		regs[i].type = r->type;
		regs[i].ns_id = r->ns_id;
		if (ns)
			memcpy(regs[i].ns_uuid, ns->sb.ns_uuid, 16);
	}
	out->nr = n;
	out->total = total;
	a->payload = regs;
	a->len = n * sizeof(*regs);
}

static void do_map(const struct xphv_abi_op *in, struct answer *a, bool map)
{
	const struct xphv_abi_map *rq = &in->u.map;
	struct xphv_abi_map *out = &a->op.u.map;
	struct xphv_ns *ns = xphv_lookup_uuid(&M.reg, rq->ns_uuid);
	struct dom *d = find_dom(rq->domid);
	struct xphv_refusal why = {0};
	const struct xphv_mapping *mp = NULL;
	const struct xphv_extent *e;
	struct xphv_mapping saved = {0};
	char u[37], what[128];
	int rc;

	fmt_uuid(rq->extent_uuid, u);
	snprintf(what, sizeof(what), "%s of extent %s %s d%u", map ? "map" :
		 "unmap", u, map ? "into" : "from", rq->domid);
	if (!ns) {
		refuse_err(a, ENOENT, XPHV_R_NOT_REGISTERED, 0, 0);
		log_refusal(a, what);
		return;
	}
	/* The domain is the one the hypervisor knows by that id: the owner
	 * on media is checked against its handle, never against Dom0's. */
	if (map && !d) {
		refuse_err(a, ESRCH, XPHV_R_NO_DOMAIN, rq->domid, 0);
		log_refusal(a, what);
		return;
	}
	for (uint32_t i = 0; i < M.reg.nmap; i++) {
		const struct xphv_mapping *x = &M.reg.map[i];

		if (x->ns_id == ns->id && x->domid == rq->domid &&
		    !memcmp(x->extent_uuid, rq->extent_uuid, 16))
			mp = x;
	}
	if (!map && mp)
		saved = *mp;
	if (map) {
		struct xphv_domain dom = {.domid = rq->domid};

		memcpy(dom.uuid, d->uuid, 16);
		rc = xphv_map(&M.reg, ns->id, &dom, rq->extent_uuid, rq->gfn,
			      &P2M, &why);
	} else {
		rc = xphv_unmap(&M.reg, ns->id, rq->domid, rq->extent_uuid,
				&P2M, &why);
	}
	flush_pi();
	if (rc) {
		refuse(a, &why);
		log_refusal(a, what);
		return;
	}
	if (map) {
		for (uint32_t i = 0; i < M.reg.nmap; i++) {
			const struct xphv_mapping *x = &M.reg.map[i];

			if (x->ns_id == ns->id && x->domid == rq->domid &&
			    !memcmp(x->extent_uuid, rq->extent_uuid, 16))
				saved = *x;
		}
		out->superpages = why.b;
	}
	out->gfn = saved.gfn;
	out->mfn = saved.mfn;
	out->nr = saved.nr;
	e = ext_of(ns, saved.slot);
	if (map)
		hvlog("mapped extent %s (%s) into d%u at gfn %#" PRIx64
		      ": %" PRIu64 " frames, %" PRIu64 " superpages, mfn %#"
		      PRIx64, e ? e->name : "?", u, rq->domid, saved.gfn,
		      saved.nr, out->superpages, saved.mfn);
	else
		hvlog("unmapped extent %s (%s) from d%u at gfn %#" PRIx64
		      ": %" PRIu64 " frames", e ? e->name : "?", u, rq->domid,
		      saved.gfn, saved.nr);
}

static void do_meta(const struct xphv_abi_op *in, const uint8_t *payload,
		    struct answer *a, bool write)
{
	const struct xphv_abi_meta *rq = &in->u.meta;
	struct xphv_ns *ns = xphv_lookup_uuid(&M.reg, rq->ns_uuid);
	struct xphv_refusal why = {0};
	char u[37], what[128];
	void *buf;

	fmt_uuid(rq->ns_uuid, u);
	snprintf(what, sizeof(what), "meta-%s of ns %s at %#" PRIx64
		 " (%u bytes)", write ? "write" : "read", u, rq->offset,
		 rq->len);
	if (!ns) {
		refuse_err(a, ENOENT, XPHV_R_NOT_REGISTERED, 0, 0);
		goto refused;
	}
	if (write) {
		/* One record copy: its place is given twice, and must agree. */
		if (rq->len != XP_REC_SIZE || rq->slot >= ns->sb.slot_count ||
		    rq->copy > 1 ||
		    rq->offset != xp_slot_offset(rq->slot) +
					  (uint64_t)rq->copy * XP_REC_SIZE) {
			refuse_err(a, EINVAL, XPHV_R_META_RANGE, rq->offset,
				   rq->len);
			goto refused;
		}
		if (xphv_meta_write(&M.reg, ns, rq->slot, rq->copy, payload,
				    &why))
			goto lib_refused;
		hvlog("ns %s: Dom0 wrote slot %u copy %u", u, rq->slot,
		      rq->copy);
		return;
	}
	buf = malloc(rq->len ? rq->len : 1);
	if (!buf) {
		refuse_err(a, ENOMEM, XPHV_R_FULL, 0, 0);
		goto refused;
	}
	if (xphv_meta_read(ns, rq->offset, buf, rq->len, &why)) {
		free(buf);
		goto lib_refused;
	}
	a->payload = buf;
	a->len = rq->len;
	return;

lib_refused:
	refuse(a, &why);
refused:
	log_refusal(a, what);
}

static void do_domain(const struct xphv_abi_op *in, struct answer *a)
{
	const struct xphv_abi_domain *rq = &in->u.dom;
	struct dom *d = find_dom(rq->domid);
	char u[37], what[64];

	fmt_uuid(rq->uuid, u);
	snprintf(what, sizeof(what), "%s d%u", cmd_name(in->cmd), rq->domid);
	switch (in->cmd) {
	case XPHV_CMD_MODEL_DOMAIN_CREATE:
		if (d || rq->domid >= DOMID_FIRST_RESERVED) {
			refuse_err(a, d ? EEXIST : EINVAL, XPHV_R_ARGS,
				   rq->domid, 0);
			break;
		}
		for (size_t i = 0; i < M.ndoms; i++)
			if (!memcmp(M.doms[i].uuid, rq->uuid, 16)) {
				/* A handle names one domain. */
				refuse_err(a, EEXIST, XPHV_R_ARGS,
					   M.doms[i].domid, 1);
				goto refused;
			}
		if (M.ndoms == MAX_DOMAINS) {
			refuse_err(a, ENOSPC, XPHV_R_FULL, M.ndoms,
				   MAX_DOMAINS);
			break;
		}
		d = &M.doms[M.ndoms++];
		*d = (struct dom){.domid = rq->domid};
		memcpy(d->uuid, rq->uuid, 16);
		hvlog("d%u created, handle %s", rq->domid, u);
		return;
	case XPHV_CMD_MODEL_DOMAIN_DESTROY: {
		uint32_t n;

		if (!d) {
			refuse_err(a, ESRCH, XPHV_R_NO_DOMAIN, rq->domid, 0);
			break;
		}
		/* Relinquish: every mapping goes, the frames become free
		 * pmem again; never scrubbed, never given to the heap. */
		n = xphv_domain_destroy(&M.reg, rq->domid, &P2M);
		flush_pi();
		if (d->n)
			hvlog("BUG: d%u still has %zu p2m entries after "
			      "destroy", rq->domid, d->n);
		free(d->e);
		*d = M.doms[--M.ndoms];
		a->op.reply.a = n;
		hvlog("d%u destroyed: %u mappings released", rq->domid, n);
		return;
	}
	case XPHV_CMD_MODEL_P2M: {
		struct xphv_abi_p2m_entry *e;

		if (!d) {
			refuse_err(a, ESRCH, XPHV_R_NO_DOMAIN, rq->domid, 0);
			break;
		}
		e = calloc(d->n ? d->n : 1, sizeof(*e));
		if (!e) {
			refuse_err(a, ENOMEM, XPHV_R_FULL, 0, 0);
			break;
		}
		for (size_t i = 0; i < d->n; i++) {
			e[i].gfn = d->e[i].gfn;
			e[i].mfn = d->e[i].mfn;
			e[i].order = d->e[i].order;
		}
		a->op.reply.a = d->n;
		a->payload = e;
		a->len = d->n * sizeof(*e);
		return;
	}
	case MODELHV_CMD_DOMAIN_FIND:
		for (size_t i = 0; i < M.ndoms; i++)
			if (!memcmp(M.doms[i].uuid, rq->uuid, 16)) {
				a->op.u.dom.domid = M.doms[i].domid;
				return;
			}
		refuse_err(a, ESRCH, XPHV_R_NO_DOMAIN, XPHV_NO_DOMID, 0);
		/* Not an event: Dom0 asks before it maps. */
		return;
	}
refused:
	log_refusal(a, what);
}

/* ---- ABI checks ---------------------------------------------------------- */

/* Offset in the request of its first non-zero byte in [@from, @to). */
static bool nonzero(const struct xphv_abi_op *op, size_t from, size_t to,
		    size_t *at)
{
	const uint8_t *p = (const uint8_t *)op;

	for (size_t i = from; i < to; i++)
		if (p[i]) {
			*at = i;
			return true;
		}
	return false;
}

#define U_OFF(field) offsetof(struct xphv_abi_op, u.field)
#define U_END(field) (U_OFF(field) + sizeof(((struct xphv_abi_op *)0)->u.field))

/*
 * Every reserved byte is zero, every flag known, or the request is refused
 * with XPHV_R_ABI: a = the byte offset of the offending field in struct
 * xphv_abi_op, b = its value. OUT fields are not looked at.
 */
static bool abi_ok(const struct xphv_abi_op *op, struct answer *a)
{
	const size_t u0 = offsetof(struct xphv_abi_op, u);
	size_t rz[3][2] = {{0, 0}, {0, 0}, {0, 0}}, end = u0, at;
	uint32_t flags = 0;
	uint64_t v = 0;

	if (op->magic != XPHV_ABI_MAGIC) {
		refuse_err(a, EPROTO, XPHV_R_ABI, 0, op->magic);
		a->close = true;
		return false;
	}
	if (op->version != XPHV_ABI_VERSION) {
		refuse_err(a, EPROTO, XPHV_R_ABI,
			   offsetof(struct xphv_abi_op, version), op->version);
		return false;
	}
	switch (op->cmd) {
	case XPHV_CMD_REGISTER:
		flags = XPHV_F_DRY_RUN | XPHV_F_PV32;
		rz[0][0] = U_OFF(reg.rsvd);
		rz[0][1] = U_OFF(reg.rsvd) + 4;
		end = U_END(reg);
		break;
	case XPHV_CMD_QUERY:
		rz[0][0] = U_OFF(query.rsvd);
		rz[0][1] = U_OFF(query.rsvd) + 4;
		end = U_END(query);
		break;
	case XPHV_CMD_UNREGISTER:
		rz[0][0] = U_OFF(ns.rsvd);
		rz[0][1] = U_OFF(ns.rsvd) + 8;
		end = U_END(ns);
		break;
	case XPHV_CMD_MAP:
	case XPHV_CMD_UNMAP:
		rz[0][0] = U_OFF(map.rsvd0);
		rz[0][1] = U_OFF(map.rsvd0) + 6;
		end = U_END(map);
		break;
	case XPHV_CMD_META_READ:
		/* slot and copy are the write's */
		rz[1][0] = U_OFF(meta.slot);
		rz[1][1] = U_OFF(meta.copy) + 4;
		/* fall through */
	case XPHV_CMD_META_WRITE:
		rz[0][0] = U_OFF(meta.rsvd);
		rz[0][1] = U_OFF(meta.rsvd) + 4;
		end = U_END(meta);
		break;
	case XPHV_CMD_MODEL_DOMAIN_DESTROY:
	case XPHV_CMD_MODEL_P2M:
		/* only the domid goes in */
		rz[1][0] = U_OFF(dom.uuid);
		rz[1][1] = U_OFF(dom.uuid) + 16;
		/* fall through */
	case XPHV_CMD_MODEL_DOMAIN_CREATE:
	case MODELHV_CMD_DOMAIN_FIND:
		rz[0][0] = U_OFF(dom.rsvd0);
		rz[0][1] = U_OFF(dom.rsvd0) + 6;
		end = U_END(dom);
		break;
	default:
		refuse_err(a, EOPNOTSUPP, XPHV_R_ABI,
			   offsetof(struct xphv_abi_op, cmd), op->cmd);
		return false;
	}
	if (op->flags & ~flags) {
		refuse_err(a, EPROTO, XPHV_R_ABI,
			   offsetof(struct xphv_abi_op, flags), op->flags);
		return false;
	}
	rz[2][0] = end;
	rz[2][1] = sizeof(*op);
	for (int i = 0; i < 3; i++) {
		if (nonzero(op, rz[i][0], rz[i][1], &at)) {
			memcpy(&v, (const uint8_t *)op + at,
			       sizeof(*op) - at < 8 ? sizeof(*op) - at : 8);
			refuse_err(a, EPROTO, XPHV_R_ABI, at, v);
			return false;
		}
	}
	return true;
}

static void serve_request(const struct xphv_abi_op *in, const uint8_t *payload,
			  struct answer *a)
{
	memset(a, 0, sizeof(*a));
	a->op = *in;
	memset(&a->op.reply, 0, sizeof(a->op.reply));
	a->op.reply.slot = XPHV_NO_SLOT;
	if (!abi_ok(in, a)) {
		log_refusal(a, "request");
		return;
	}
	switch (in->cmd) {
	case XPHV_CMD_REGISTER: do_register(in, a); break;
	case XPHV_CMD_QUERY: do_query(in, a); break;
	case XPHV_CMD_UNREGISTER: do_unregister(in, a); break;
	case XPHV_CMD_MAP: do_map(in, a, true); break;
	case XPHV_CMD_UNMAP: do_map(in, a, false); break;
	case XPHV_CMD_META_READ: do_meta(in, payload, a, false); break;
	case XPHV_CMD_META_WRITE: do_meta(in, payload, a, true); break;
	default: do_domain(in, a); break;
	}
}

/* ---- the socket ---------------------------------------------------------- */

struct client {
	int fd;
	uint8_t *in;		/* request + payload */
	size_t have, need;
	uint8_t *out;		/* reply + payload */
	size_t out_len, out_off;
	bool close_after;
};

static struct client clients[MAX_CLIENTS];
static size_t nclients;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void drop_client(size_t i, const char *why)
{
	struct client *c = &clients[i];

	if (why)
		hvlog("%s", why);
	close(c->fd);
	free(c->in);
	free(c->out);
	clients[i] = clients[--nclients];
}

/* A request has arrived whole: act on it and queue the reply. */
static int complete(struct client *c)
{
	struct xphv_abi_op op;
	struct answer a;

	memcpy(&op, c->in, sizeof(op));
	serve_request(&op, c->in + sizeof(op), &a);
	c->out = malloc(sizeof(a.op) + a.len);
	if (!c->out) {
		free(a.payload);
		return -ENOMEM;
	}
	memcpy(c->out, &a.op, sizeof(a.op));
	if (a.len)
		memcpy(c->out + sizeof(a.op), a.payload, a.len);
	free(a.payload);
	c->out_len = sizeof(a.op) + a.len;
	c->out_off = 0;
	c->close_after = a.close;
	c->have = 0;
	c->need = sizeof(struct xphv_abi_op);
	return 0;
}

/* Read what is there; false when the client is gone. */
static bool client_read(size_t i)
{
	struct client *c = &clients[i];
	char msg[160];
	ssize_t n;

	n = read(c->fd, c->in + c->have, c->need - c->have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		if (c->have) {
			snprintf(msg, sizeof(msg),
				 "client went away mid-request (%zu of %zu "
				 "bytes): request dropped, nothing done",
				 c->have, c->need);
			drop_client(i, msg);
		} else {
			drop_client(i, NULL);
		}
		return false;
	}
	c->have += (size_t)n;
	if (c->have == sizeof(struct xphv_abi_op) && c->need == c->have) {
		const struct xphv_abi_op *op = (const void *)c->in;

		/* META_WRITE carries its record after the structure; a
		 * length past the limit loses the framing: answer, close. */
		if (op->magic == XPHV_ABI_MAGIC &&
		    op->cmd == XPHV_CMD_META_WRITE && op->u.meta.len) {
			if (op->u.meta.len > XPHV_META_MAX) {
				struct answer a = {.op = *op};

				memset(&a.op.reply, 0, sizeof(a.op.reply));
				a.op.reply.slot = XPHV_NO_SLOT;
				refuse_err(&a, EMSGSIZE, XPHV_R_ABI,
					   U_OFF(meta.len), op->u.meta.len);
				log_refusal(&a, "meta-write");
				c->out = malloc(sizeof(a.op));
				if (!c->out) {
					drop_client(i, NULL);
					return false;
				}
				memcpy(c->out, &a.op, sizeof(a.op));
				c->out_len = sizeof(a.op);
				c->out_off = 0;
				c->close_after = true;
				c->have = 0;
				return true;
			}
			c->need += op->u.meta.len;
		}
	}
	if (c->have == c->need && complete(c)) {
		drop_client(i, "out of memory: client dropped");
		return false;
	}
	return true;
}

static bool client_write(size_t i)
{
	struct client *c = &clients[i];
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n < 0) {
		drop_client(i, "reply not delivered: the client went away; "
			       "what it asked for stands");
		return false;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		if (c->close_after) {
			drop_client(i, NULL);
			return false;
		}
	}
	return true;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			die("%s exists and is not a socket", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("%s: another model hypervisor is listening there",
			    path);
		if (fd >= 0)
			close(fd);
		/* Left behind by one that was killed: a reboot. */
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* Dom0 only: the socket's mode is the privilege check. */
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		die("%s: %s", path, strerror(errno));
	return fd;
}

static void serve(int lfd, const char *path)
{
	struct pollfd pfd[MAX_CLIENTS + 1];
	sigset_t block, orig;
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	while (!stop_signal) {
		bool listening = nclients < MAX_CLIENTS;
		size_t n = 0;
		int rc;

		/* One request at a time: a client with a reply pending is
		 * not read until it has taken it. */
		for (size_t i = 0; i < nclients; i++)
			pfd[n++] = (struct pollfd){clients[i].fd,
				clients[i].out ? POLLOUT : POLLIN, 0};
		if (listening)
			pfd[n++] = (struct pollfd){lfd, POLLIN, 0};
		rc = ppoll(pfd, n, NULL, &orig);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		/* Clients first, from the back: dropping one moves the last
		 * into its place. */
		for (size_t i = nclients; i-- > 0;) {
			if (!pfd[i].revents)
				continue;
			if (clients[i].out)
				client_write(i);
			else
				client_read(i);
		}
		if (listening && (pfd[n - 1].revents & POLLIN) &&
		    nclients < MAX_CLIENTS) {
			int cfd = accept4(lfd, NULL, NULL,
					  SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (cfd >= 0) {
				struct client *c = &clients[nclients];

				*c = (struct client){.fd = cfd,
					.need = sizeof(struct xphv_abi_op)};
				c->in = malloc(sizeof(struct xphv_abi_op) +
					       XPHV_META_MAX);
				if (!c->in)
					close(cfd);
				else
					nclients++;
			}
		}
	}
	hvlog("stopping on signal %d: the registry goes with it", stop_signal);
	unlink(path);
}

/* ---- command line -------------------------------------------------------- */

static bool parse_num(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end || (shift && v > (~0ull >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " --socket PATH [--namespace SPA=FILE]... [--ram START-END]...\n"
"                       [--pv32] [--foreground]\n"
"       " PROG " --socket PATH domain-create DOMID UUID\n"
"       " PROG " --socket PATH domain-destroy DOMID\n"
"       " PROG " --socket PATH p2m DOMID\n"
"\n"
"The xenpmem hypervisor library in a process of its own: a stand-in for a\n"
"Xen with the xenpmem patches, serving Dom0's requests (xenpmem register,\n"
"map, ...; XENPMEM_HV=model:PATH) on a unix socket. Its state lives in\n"
"memory: killing it is a reboot.\n"
"\n"
"options:\n"
"  -s, --socket=PATH          the unix socket (mode 0600: Dom0 only)\n"
"  -n, --namespace=SPA=FILE   persistent memory at physical address SPA,\n"
"                             held by FILE (its size is the range's);\n"
"                             repeatable\n"
"  -r, --ram=START-END        host RAM [START, END), bytes; repeatable\n"
"      --pv32                 32-bit PV guests are on: namespaces need a\n"
"                             compat M2P\n"
"  -f, --foreground           stay in the foreground (default: detach once\n"
"                             the socket listens)\n"
"  -h, --help                 show this help\n"
"\n"
"Numbers are decimal or 0x hex, with an optional K/M/G/T suffix. The log\n"
"(one line per event, like xl dmesg) goes to stdout.\n"
"\n"
"toolstack commands (talk to a running model):\n"
"  domain-create DOMID UUID   a domain with that id and handle\n"
"  domain-destroy DOMID       destroy it: its mappings are released\n"
"  p2m DOMID                  its p2m entries, as JSON\n");
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see '" PROG " --help'\n", stderr);
	return 2;
}

static int add_namespace(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char spa[64];
	struct mns *m;
	struct stat st;

	if (!eq || (size_t)(eq - arg) >= sizeof(spa) || !eq[1])
		return usage_error("--namespace '%s': expected SPA=FILE", arg);
	memcpy(spa, arg, (size_t)(eq - arg));
	spa[eq - arg] = 0;
	if (M.nns == MAX_NS)
		return usage_error("more than %d --namespace options", MAX_NS);
	m = &M.ns[M.nns];
	if (!parse_num(spa, &m->spa) || m->spa & 4095)
		return usage_error("--namespace '%s': SPA is not a "
				   "page-aligned address", arg);
	m->path = eq + 1;
	m->fd = open(m->path, O_RDWR | O_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st))
		die("%s: %s", m->path, strerror(errno));
	if (!S_ISREG(st.st_mode) || !st.st_size)
		die("%s: not a regular file with data", m->path);
	m->size = (uint64_t)st.st_size & ~4095ull;
	for (unsigned i = 0; i < M.nns; i++)
		if (m->spa < M.ns[i].spa + M.ns[i].size &&
		    M.ns[i].spa < m->spa + m->size)
			die("--namespace %s overlaps %s", arg, M.ns[i].path);
	m->media = (struct xphv_media){media_read, media_write, m};
	M.nns++;
	return 0;
}

static int add_ram(const char *arg)
{
	const char *dash = strchr(arg, '-');
	char start[64];
	struct xphv_range *r;

	if (!dash || (size_t)(dash - arg) >= sizeof(start))
		return usage_error("--ram '%s': expected START-END", arg);
	memcpy(start, arg, (size_t)(dash - arg));
	start[dash - arg] = 0;
	if (M.nram == MAX_RAM)
		return usage_error("more than %d --ram options", MAX_RAM);
	r = &M.ram[M.nram];
	if (!parse_num(start, &r->start) || !parse_num(dash + 1, &r->end) ||
	    r->end <= r->start)
		return usage_error("--ram '%s': expected START-END with "
				   "START < END", arg);
	M.nram++;
	return 0;
}

/* ---- toolstack client ---------------------------------------------------- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		die("socket path '%s' is too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("%s: no model hypervisor listening: %s", path,
		    strerror(errno));
	return fd;
}

static void io_all(int fd, void *buf, size_t len, bool wr, const char *path)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) :
				 read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: the model hypervisor went away", path);
		p += n;
		len -= (size_t)n;
	}
}

static int client(const char *path, int argc, char **argv)
{
	struct xphv_abi_op op = {.magic = XPHV_ABI_MAGIC,
				 .version = XPHV_ABI_VERSION};
	const char *cmd = argv[0];
	uint64_t domid;
	int fd;

	if (!strcmp(cmd, "domain-create") && argc == 3)
		op.cmd = XPHV_CMD_MODEL_DOMAIN_CREATE;
	else if (!strcmp(cmd, "domain-destroy") && argc == 2)
		op.cmd = XPHV_CMD_MODEL_DOMAIN_DESTROY;
	else if (!strcmp(cmd, "p2m") && argc == 2)
		op.cmd = XPHV_CMD_MODEL_P2M;
	else
		return usage_error("unknown command or wrong arguments: '%s'",
				   cmd);
	if (!parse_num(argv[1], &domid) || domid >= DOMID_FIRST_RESERVED)
		return usage_error("'%s' is not a domain id (0-%u)", argv[1],
				   DOMID_FIRST_RESERVED - 1);
	op.u.dom.domid = (uint16_t)domid;
	if (argc == 3 && (strlen(argv[2]) != 36 ||
			  uuid_parse(argv[2], op.u.dom.uuid)))
		return usage_error("'%s' is not a UUID", argv[2]);

	fd = connect_to(path);
	io_all(fd, &op, sizeof(op), true, path);
	io_all(fd, &op, sizeof(op), false, path);
	if (op.reply.err) {
		const char *why = xphv_strreason(op.reply.reason);

		if (op.reply.reason == XPHV_R_ARGS)
			why = op.reply.err == -EEXIST ?
				      (op.reply.b ? "that handle belongs to "
						    "another domain" :
						    "the domain exists") :
				      "not a domain id a guest can have";
		fprintf(stderr, PROG ": %s d%" PRIu64 ": %s\n", cmd, domid,
			why);
		close(fd);
		return 1;
	}
	if (op.cmd == XPHV_CMD_MODEL_DOMAIN_CREATE) {
		printf("{\n  \"domid\": %" PRIu64 ",\n  \"uuid\": \"%s\"\n}\n",
		       domid, argv[2]);
	} else if (op.cmd == XPHV_CMD_MODEL_DOMAIN_DESTROY) {
		printf("{\n  \"domid\": %" PRIu64 ",\n  \"released\": %" PRIu64
		       "\n}\n", domid, op.reply.a);
	} else {
		uint64_t n = op.reply.a;

		if (n > (1u << 24))
			die("%s: implausible p2m size %" PRIu64, path, n);
		printf("[");
		for (uint64_t i = 0; i < n; i++) {
			struct xphv_abi_p2m_entry e;

			io_all(fd, &e, sizeof(e), false, path);
			printf("%s\n  { \"gfn\": %" PRIu64 ", \"mfn\": %" PRIu64
			       ", \"order\": %u }", i ? "," : "", e.gfn, e.mfn,
			       e.order);
		}
		printf("%s]\n", n ? "\n" : "");
	}
	close(fd);
	return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"namespace", required_argument, NULL, 'n'},
		{"ram", required_argument, NULL, 'r'},
		{"pv32", no_argument, NULL, 'p'},
		{"foreground", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool fg = false;
	int c, lfd, rc;

	opterr = 0;
	/* '+': the toolstack command's words are not options. */
	while ((c = getopt_long(argc, argv, "+:s:n:r:fh", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'n':
			if ((rc = add_namespace(optarg)))
				return rc;
			break;
		case 'r':
			if ((rc = add_ram(optarg)))
				return rc;
			break;
		case 'p': M.pv32 = true; break;
		case 'f': fg = true; break;
		case 'h': usage(stdout); return 0;
		case ':': return usage_error("option '%s' needs a value",
					     argv[optind - 1]);
		default: return usage_error("unknown option '%s'",
					    argv[optind - 1]);
		}
	}
	if (!path)
		return usage_error("--socket is required");
	if (optind < argc)
		return client(path, argc - optind, argv + optind);

	xphv_registry_init(&M.reg, M.ram, M.nram, M.ns_ptrs, MAX_NS,
			   M.regions, REG_CAP, M.maps, MAP_CAP);
	lfd = listen_on(path);
	if (!fg) {
		pid_t pid = fork();
		int null;

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid > 0)
			_exit(0);	/* the socket listens already */
		setsid();
		null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf(PROG ": listening on %s (pid %ld): %u namespace%s, %u RAM "
	       "range%s%s\n", path, (long)getpid(), M.nns,
	       M.nns == 1 ? "" : "s", M.nram, M.nram == 1 ? "" : "s",
	       M.pv32 ? ", 32-bit PV on" : "");
	for (unsigned i = 0; i < M.nns; i++)
		printf(PROG ": pmem [mfn %#" PRIx64 ", %#" PRIx64 ") is %s\n",
		       M.ns[i].spa >> 12, (M.ns[i].spa + M.ns[i].size) >> 12,
		       M.ns[i].path);
	fflush(stdout);
	serve(lfd, path);
	return 0;
}
