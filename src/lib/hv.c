/* SPDX-License-Identifier: MIT */
/*
 * Dom0's side of the hand-off: register a namespace with the hypervisor,
 * map its extents into guests, and reach its metadata afterwards, through
 * one of two backends speaking hv/xphv_abi.h:
 *
 *   model:PATH  xenpmem-modelhv listening on the unix socket PATH
 *               (src/modelhv/modelhv.h: how requests travel there);
 *   xen         Xen with the xen/patches series, through libxencall
 *               (/dev/xen/privcmd): REGISTER, QUERY, UNREGISTER and the
 *               metadata commands are the sysctl XPHV_XEN_SYSCTL, MAP and
 *               UNMAP the memory op XPHV_XEN_MEMOP. The request and its
 *               payload live in one hypercall buffer; `buf` fields hold
 *               the payload's address. A Xen without the series answers
 *               -ENOSYS, and Dom0 names the iomem= export that works on
 *               any Xen.
 *
 * Dom0 sends only where to look and what it expects to find (UUID,
 * generation, extent UUID, domain id): the hypervisor re-reads the media
 * and decides. Its refusal comes back as a reason code with a slot and
 * two numbers, rendered here into the usual one-line error.
 */
/* <xen/sysctl.h> is the tools' interface: XEN_SYSCTL_INTERFACE_VERSION. */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xencall.h>
#include <xentoollog.h>
/*
 * Xen's public headers use GNU C's anonymous unions, and xen/hvm/save.h
 * refuses strict ISO C outright; the rest of this file is C11.
 */
#ifdef __STRICT_ANSI__
#undef __STRICT_ANSI__
#define XP_STRICT_ANSI_WAS_ON
#endif
#include <xen/xen.h>
#include <xen/sysctl.h>
#ifdef XP_STRICT_ANSI_WAS_ON
#define __STRICT_ANSI__ 1
#undef XP_STRICT_ANSI_WAS_ON
#endif

#include "modelhv.h"
#include "xp_internal.h"
#include "xphv.h"
#include "xphv_abi.h"

#define PRIVCMD "/dev/xen/privcmd"

enum hv_kind {
	HV_XEN,
	HV_MODEL,
};

/* libxencall's messages, kept for our one-line error instead of
 * printed. */
struct quiet_logger {
	xentoollog_logger vtable;
	char last[200];
};

struct xp_hv {
	enum hv_kind kind;
	int fd;			/* model: the connection */
	xencall_handle *xc;	/* xen */
	struct quiet_logger log;
	char name[160];		/* "xen", "model:PATH": names it in errors */
	/* What the request at hand is about, for the message a Xen
	 * without xenpmem support gets: the target and the extent. */
	char ctx_target[256];
	char ctx_extent[XP_NAME_MAX + 1];	/* "" when none */
};

/* Extent names by slot, taken before the namespace is handed over, to
 * name the slot a refusal is about. */
struct slot_names {
	uint32_t n;
	struct {
		uint32_t slot;
		char name[XP_NAME_MAX + 1];
	} *v;
};

static void names_take(struct xp_ns *ns, struct slot_names *sn)
{
	uint32_t n = xp_ns_extent_count(ns);
	struct xp_extent e;

	sn->n = 0;
	sn->v = calloc(n ? n : 1, sizeof(*sn->v));
	for (uint32_t i = 0; sn->v && i < n; i++) {
		if (xp_ns_extent_get(ns, i, &e))
			continue;
		sn->v[sn->n].slot = e.slot;
		snprintf(sn->v[sn->n].name, sizeof(sn->v[sn->n].name), "%s",
			 e.name);
		sn->n++;
	}
}

static const char *names_find(const struct slot_names *sn, uint32_t slot)
{
	for (uint32_t i = 0; sn && sn->v && i < sn->n; i++)
		if (sn->v[i].slot == slot)
			return sn->v[i].name;
	return NULL;
}

/* ---- rendering a refusal ------------------------------------------------- */

static const char *abi_field(uint64_t off)
{
	switch (off) {
	case offsetof(struct xphv_abi_op, magic): return "magic";
	case offsetof(struct xphv_abi_op, version): return "version";
	case offsetof(struct xphv_abi_op, cmd): return "command";
	case offsetof(struct xphv_abi_op, flags): return "flags";
	}
	return "a reserved field";
}

static const char *status_name(uint64_t st)
{
	return st <= XP_E_TORN ? xp_fmt_strstatus((enum xp_fmt_status)st) :
				 "?";
}

/*
 * "REASON (DETAIL)": the reason's text, and its slot and numbers as the
 * reason defines them (hv/xphv.h), with the slot's extent named when
 * Dom0 knows it.
 */
static void render(const struct xphv_abi_reply *r, uint32_t cmd,
		   const struct slot_names *sn, char *buf, size_t len)
{
	const uint64_t a = r->a, b = r->b;
	const char *name = r->slot != XPHV_NO_SLOT ? names_find(sn, r->slot) :
						     NULL;
	char d[200] = "";
	size_t n = 0;

#define ADD(...)                                                             \
	do {                                                                 \
		if (n < sizeof(d))                                           \
			n += (size_t)snprintf(d + n, sizeof(d) - n,          \
					      __VA_ARGS__);                  \
	} while (0)

	if (r->slot != XPHV_NO_SLOT) {
		ADD("slot %u", r->slot);
		if (name)
			ADD(" '%s'", name);
	}
	if (n)
		ADD(": ");
	switch (r->reason) {
	case XPHV_R_NO_DOMAIN:
		if (a != XPHV_NO_DOMID)
			ADD("d%" PRIu64, a);
		break;
	case XPHV_R_ARGS:
		if (r->err == -EEXIST)
			ADD("d%" PRIu64 " exists", a);
		break;
	case XPHV_R_RANGE:
		ADD("physical start 0x%" PRIx64 ", length 0x%" PRIx64, a, b);
		break;
	case XPHV_R_SB_INVALID:
		ADD("%s copy, field %" PRIu64, a ? "backup" : "primary", b);
		break;
	case XPHV_R_GENERATION:
		ADD("generation %" PRIu64 " on media, %" PRIu64 " expected", a,
		    b);
		break;
	case XPHV_R_SIZE:
		ADD("%" PRIu64 " bytes on media, %" PRIu64 " given", a, b);
		break;
	case XPHV_R_MOVED:
		ADD("laid out for physical 0x%" PRIx64 ", now at 0x%" PRIx64,
		    a, b);
		break;
	case XPHV_R_ZERO_BLOCK:
		ADD("first non-zero byte at offset %" PRIu64, a);
		break;
	case XPHV_R_SLOT_CORRUPT:
		ADD("copies: %s, %s", status_name(a), status_name(b));
		break;
	case XPHV_R_EXTENT_OUTSIDE:
		ADD("offset 0x%" PRIx64 ", size 0x%" PRIx64, a, b);
		break;
	case XPHV_R_EXTENT_ALIGN:
	case XPHV_R_ALIGN:
		ADD("physical 0x%" PRIx64 ", needs alignment 0x%" PRIx64, a, b);
		break;
	case XPHV_R_OVERLAP:
	case XPHV_R_DUP_UUID:
	case XPHV_R_DUP_NAME:
		ADD("and slot %" PRIu64, a);
		if (a <= UINT32_MAX && names_find(sn, (uint32_t)a))
			ADD(" '%s'", names_find(sn, (uint32_t)a));
		break;
	case XPHV_R_PDX:
	case XPHV_R_LIMIT:
		ADD("mfn 0x%" PRIx64, a);
		break;
	case XPHV_R_MGMT_SMALL:
		ADD("%" PRIu64 " chunks needed, %" PRIu64 " reserved", a, b);
		break;
	case XPHV_R_COMPAT:
		ADD("%" PRIu64 " compat M2P chunks needed", a);
		break;
	case XPHV_R_RAM_OVERLAP:
		ADD("host RAM [0x%" PRIx64 ", 0x%" PRIx64 ")", a, b);
		break;
	case XPHV_R_NS_OVERLAP:
		ADD("registered namespace at [0x%" PRIx64 ", 0x%" PRIx64 ")",
		    a, b);
		break;
	case XPHV_R_BUSY:
		/* UNMAP: the guest still maps a frame (a), which the
		 * hypervisor holds b references to. */
		if (cmd == XPHV_CMD_UNMAP)
			ADD("the domain still maps mfn 0x%" PRIx64
			    " (%" PRIu64 " references); it must unmap it first",
			    a, b);
		else
			ADD("%" PRIu64 " extent%s mapped", a, a == 1 ? "" : "s");
		break;
	case XPHV_R_LENT:
		ADD("%" PRIu64 " extent%s lent", a, a == 1 ? "" : "s");
		break;
	case XPHV_R_NOT_OWNER:
		ADD("not d%" PRIu64 "'s", a);
		break;
	case XPHV_R_MAPPED:
		ADD("mapped into d%" PRIu64, a);
		break;
	case XPHV_R_FRAME_MAPPED:
		ADD("mfn 0x%" PRIx64 " is mapped into d%" PRIu64, a, b);
		break;
	case XPHV_R_NOT_MAPPED:
		ADD("d%" PRIu64, a);
		break;
	case XPHV_R_GFN:
		ADD("gfn 0x%" PRIx64 ", %" PRIu64 " frames", a, b);
		break;
	case XPHV_R_P2M:
		ADD("at gfn 0x%" PRIx64 ": %s", a, strerror((int)-(int64_t)b));
		break;
	case XPHV_R_CHANGED:
		ADD("seq %" PRIu64 " when registered, %" PRIu64 " on media", a,
		    b);
		break;
	case XPHV_R_META_RANGE:
		ADD("offset 0x%" PRIx64 ", %" PRIu64 " bytes", a, b);
		break;
	case XPHV_R_META_RECORD:
		ADD("%s", status_name(a));
		break;
	case XPHV_R_META_SEQ:
		ADD("seq %" PRIu64 " is not above %" PRIu64, a, b);
		break;
	case XPHV_R_META_COPY:
		ADD("copy %" PRIu64, a);
		break;
	case XPHV_R_HEAP:
		ADD("mfn 0x%" PRIx64 ", %" PRIu64 " frames", a, b);
		break;
	case XPHV_R_ABI:
		ADD("%s (request byte %" PRIu64 ") holds 0x%" PRIx64,
		    abi_field(a), a, b);
		break;
	default:
		if (a || b)
			ADD("0x%" PRIx64 ", 0x%" PRIx64, a, b);
		break;
	}
#undef ADD
	/* A detail that is only "slot N: " drops its separator. */
	n = strlen(d);
	if (n >= 2 && !strcmp(d + n - 2, ": "))
		d[n - 2] = 0;
	snprintf(buf, len, "%s%s%s%s", xphv_strreason(r->reason),
		 *d ? " (" : "", d, *d ? ")" : "");
}

/* ---- transport ----------------------------------------------------------- */

static int io_all(struct xp_hv *hv, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = wr ? send(hv->fd, p, len, MSG_NOSIGNAL) :
				 read(hv->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return xp_err(n < 0 ? errno : ECONNRESET, hv->name,
				      "the hypervisor went away mid-request "
				      "(restarted?): the request may or may "
				      "not have been carried out");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int drain(struct xp_hv *hv, size_t len)
{
	uint8_t junk[512];

	while (len) {
		size_t n = len < sizeof(junk) ? len : sizeof(junk);
		int rc = io_all(hv, junk, n, false);

		if (rc)
			return rc;
		len -= n;
	}
	return 0;
}

/* One request over the model's socket (see call()). */
static int model_call(struct xp_hv *hv, struct xphv_abi_op *op,
		      const void *in, size_t in_len, void *out, size_t cap,
		      size_t *got)
{
	const uint32_t cmd = op->cmd;
	size_t more = 0;
	int rc;

	if (got)
		*got = 0;
	op->magic = XPHV_ABI_MAGIC;
	op->version = XPHV_ABI_VERSION;
	memset(&op->reply, 0, sizeof(op->reply));
	rc = io_all(hv, op, sizeof(*op), true);
	rc = rc ?: in_len ? io_all(hv, (void *)in, in_len, true) : 0;
	rc = rc ?: io_all(hv, op, sizeof(*op), false);
	if (rc)
		return rc;
	if (op->magic != XPHV_ABI_MAGIC || op->cmd != cmd)
		return xp_err(EPROTO, hv->name,
			      "the hypervisor's reply is not one to this "
			      "request");
	if (cmd == XPHV_CMD_QUERY)
		more = (size_t)op->u.query.nr * sizeof(struct xphv_abi_region);
	else if (cmd == XPHV_CMD_META_READ && !op->reply.err)
		more = op->u.meta.len;
	if (more > cap) {
		drain(hv, more);
		return xp_err(EPROTO, hv->name,
			      "the hypervisor answered %zu bytes where %zu "
			      "were asked for", more, cap);
	}
	rc = more ? io_all(hv, out, more, false) : 0;
	if (!rc && got)
		*got = more;
	return rc;
}

/* ---- Xen ------------------------------------------------------------------ */

/*
 * Xen without the xenpmem patches: one line, and the way that works on
 * any Xen.
 */
static int xen_unsupported(const char *target, const char *extent)
{
	return xp_err(EOPNOTSUPP, target,
		      "this Xen has no xenpmem support (the xen/patches series "
		      "is not applied); hand the extent to the guest with "
		      "'xenpmem export %s --format xl-iomem' (an iomem= line) "
		      "instead", extent ? extent : "NAME");
}

static bool sysctl_cmd(uint32_t cmd)
{
	return cmd != XPHV_CMD_MAP && cmd != XPHV_CMD_UNMAP;
}

/* A reason no hypervisor sends: tells whether it wrote the reply. */
#define REPLY_UNSET 0xffffffffu

/* Why Xen did not answer @cmd: the hypercall's own error @err. */
static int xen_failed(struct xp_hv *hv, uint32_t cmd, int err)
{
	const char *t = hv->ctx_target[0] ? hv->ctx_target : hv->name;

	switch (err) {
	case ENOSYS:
		return xen_unsupported(t, hv->ctx_extent[0] ? hv->ctx_extent :
							    NULL);
	case EACCES:
		if (sysctl_cmd(cmd))
			return xp_err(EPROTO, t,
				      "Xen refused the sysctl's interface "
				      "version %#x: this xenpmem was built "
				      "against another Xen's headers "
				      "(libxen-dev); rebuild it against the "
				      "running Xen's",
				      (unsigned)XEN_SYSCTL_INTERFACE_VERSION);
		break;
	case EPERM:
		return xp_err(EPERM, t,
			      "Xen refused the request: only Dom0 (root, with "
			      "the XSM policy's permission) may issue it");
	}
	return xp_err(err, t, "the %s hypercall failed: %s",
		      sysctl_cmd(cmd) ? "xenpmem sysctl" : "xenpmem memory op",
		      strerror(err));
}

/*
 * One request to Xen: the sysctl (or memory op) and the request in one
 * hypercall buffer, the payload (@in, or room for what QUERY and
 * META_READ return) right behind it, with `buf` holding its address.
 * Same contract as model_call().
 */
static int xen_call(struct xp_hv *hv, struct xphv_abi_op *op, const void *in,
		    size_t in_len, void *out, size_t cap, size_t *got)
{
	const size_t hdr = (sizeof(struct xen_sysctl) + 63) & ~(size_t)63;
	const uint32_t cmd = op->cmd;
	struct xen_sysctl *sc;
	struct xphv_abi_op *xop;
	struct xphv_xen_sysctl xs;
	size_t payload = in_len, more = 0;
	uint8_t *buf, *data;
	int rc, err;

	if (got)
		*got = 0;
	if (cmd == XPHV_CMD_QUERY)
		payload = (size_t)op->u.query.nr * sizeof(struct xphv_abi_region);
	else if (cmd == XPHV_CMD_META_READ)
		payload = op->u.meta.len;
	if (payload > cap && !in_len)
		return xp_err(EINVAL, hv->name, "answer buffer too small");
	buf = xencall_alloc_buffer(hv->xc, hdr + sizeof(*op) + payload);
	if (!buf)
		return xp_err(ENOMEM, hv->name,
			      "no hypercall buffer of %zu bytes: %s",
			      hdr + sizeof(*op) + payload, strerror(errno));
	sc = (struct xen_sysctl *)buf;
	xop = (struct xphv_abi_op *)(buf + hdr);
	data = buf + hdr + sizeof(*op);
	memset(buf, 0, hdr + sizeof(*op) + payload);

	op->magic = XPHV_ABI_MAGIC;
	op->version = XPHV_ABI_VERSION;
	memset(&op->reply, 0, sizeof(op->reply));
	memcpy(xop, op, sizeof(*op));
	xop->reply.reason = REPLY_UNSET;
	if (in_len)
		memcpy(data, in, in_len);
	if (cmd == XPHV_CMD_QUERY)
		xop->u.query.buf = (uint64_t)(uintptr_t)data;
	else if (cmd == XPHV_CMD_META_READ || cmd == XPHV_CMD_META_WRITE)
		xop->u.meta.buf = (uint64_t)(uintptr_t)data;

	if (sysctl_cmd(cmd)) {
		sc->cmd = XPHV_XEN_SYSCTL;
		sc->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
		xs.op = (uint64_t)(uintptr_t)xop;
		memcpy(&sc->u, &xs, sizeof(xs));
		rc = xencall1(hv->xc, __HYPERVISOR_sysctl,
			      (uint64_t)(uintptr_t)sc);
	} else {
		rc = xencall2(hv->xc, __HYPERVISOR_memory_op, XPHV_XEN_MEMOP,
			      (uint64_t)(uintptr_t)xop);
	}
	err = rc < 0 ? errno : 0;

	/*
	 * The hypervisor answered when it wrote the reply, whatever the
	 * hypercall returned (0, or the reply's own error).
	 */
	if (xop->reply.reason == REPLY_UNSET) {
		xencall_free_buffer(hv->xc, buf);
		if (err)
			return xen_failed(hv, cmd, err);
		return xp_err(EPROTO, hv->name,
			      "Xen returned from the xenpmem hypercall without "
			      "a reply");
	}
	/* The payload handles are ours, not part of the answer. */
	if (cmd == XPHV_CMD_QUERY)
		xop->u.query.buf = op->u.query.buf;
	else if (cmd == XPHV_CMD_META_READ || cmd == XPHV_CMD_META_WRITE)
		xop->u.meta.buf = op->u.meta.buf;
	memcpy(op, xop, sizeof(*op));
	if (cmd == XPHV_CMD_QUERY) {
		more = (size_t)op->u.query.nr * sizeof(struct xphv_abi_region);
		if (more > payload)
			more = SIZE_MAX;
	} else if (cmd == XPHV_CMD_META_READ && !op->reply.err) {
		more = payload;
	}
	if (op->magic != XPHV_ABI_MAGIC || op->cmd != cmd || more > cap) {
		xencall_free_buffer(hv->xc, buf);
		return xp_err(EPROTO, hv->name,
			      "Xen's reply is not one to this request");
	}
	if (more)
		memcpy(out, data, more);
	if (got)
		*got = more;
	xencall_free_buffer(hv->xc, buf);
	return 0;
}

/*
 * One request: @op (+ @in), answered in @op (+ up to @cap bytes into
 * @out, *@got of them). Returns 0 when the hypervisor answered (op->reply
 * says how), or a negative errno with the error set when it could not be
 * asked.
 */
static int call(struct xp_hv *hv, struct xphv_abi_op *op, const void *in,
		size_t in_len, void *out, size_t cap, size_t *got)
{
	int rc;

	if (hv->kind == HV_XEN)
		rc = xen_call(hv, op, in, in_len, out, cap, got);
	else
		rc = model_call(hv, op, in, in_len, out, cap, got);
	xp_log_dbg("%s: op %u (%zu bytes in) for %s: %d", xp_hv_name(hv),
		   (unsigned)op->cmd, in_len,
		   hv->ctx_target[0] ? hv->ctx_target : "-", rc);
	return rc;
}

/* Name what the next requests are about in Xen's "no support" message. */
static void hv_ctx(struct xp_hv *hv, const char *target, const char *extent)
{
	snprintf(hv->ctx_target, sizeof(hv->ctx_target), "%s",
		 target ? target : "");
	snprintf(hv->ctx_extent, sizeof(hv->ctx_extent), "%s",
		 extent ? extent : "");
}

/* ---- handles ------------------------------------------------------------- */

static const char *privcmd_path(void)
{
#ifdef XP_TEST_HOOKS
	/* Test hook: stands in for the node a Xen Dom0 kernel provides. */
	const char *p = getenv("XENPMEM_XEN_PRIVCMD");

	if (p && *p)
		return p;
#endif
	return PRIVCMD;
}

static void quiet_vmessage(struct xentoollog_logger *l,
			   xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
	__attribute__((format(printf, 5, 0)));

static void quiet_vmessage(struct xentoollog_logger *l,
			   xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	struct quiet_logger *q = (struct quiet_logger *)l;
	int n;

	(void)context;
	if (level < XTL_ERROR)
		return;
	n = vsnprintf(q->last, sizeof(q->last), format, al);
	if (n >= 0 && (size_t)n < sizeof(q->last) && errnoval > 0)
		snprintf(q->last + n, sizeof(q->last) - (size_t)n, ": %s",
			 strerror(errnoval));
}

static void quiet_progress(struct xentoollog_logger *l, const char *context,
			   const char *doing_what, int percent,
			   unsigned long done, unsigned long total)
{
	(void)l, (void)context, (void)doing_what, (void)percent, (void)done;
	(void)total;
}

static void quiet_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

int xp_hv_open(const char *spec, struct xp_hv **hvp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct xp_hv *hv;
	const char *path;

	*hvp = NULL;
	if (!spec || !*spec)
		spec = getenv("XENPMEM_HV");
	if (!spec || !*spec)
		spec = "xen";
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return xp_err(ENOMEM, spec, "out of memory");
	hv->fd = -1;
	snprintf(hv->name, sizeof(hv->name), "%s", spec);

	if (!strcmp(spec, "xen")) {
		hv->kind = HV_XEN;
		if (access(privcmd_path(), F_OK)) {
			free(hv);
			return xp_err(ENODEV, "xen",
				      "not running on Xen (no %s); for the "
				      "model hypervisor give --hv "
				      "model:SOCKET or XENPMEM_HV",
				      privcmd_path());
		}
		hv->log.vtable.vmessage = quiet_vmessage;
		hv->log.vtable.progress = quiet_progress;
		hv->log.vtable.destroy = quiet_destroy;
		hv->xc = xencall_open(&hv->log.vtable, 0);
		if (!hv->xc) {
			int err = errno ? errno : ENODEV;

			xp_err(err, "xen",
			       "cannot open Xen's hypercall interface: %s",
			       hv->log.last[0] ? hv->log.last : strerror(err));
			free(hv);
			return -err;
		}
		*hvp = hv;
		return 0;
	}
	if (strncmp(spec, "model:", 6) || !spec[6]) {
		free(hv);
		return xp_err(EINVAL, "--hv",
			      "'%.64s' is not a hypervisor: use 'xen' or "
			      "'model:SOCKET'", spec);
	}
	path = spec + 6;
	hv->kind = HV_MODEL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		free(hv);
		return xp_err(ENAMETOOLONG, spec, "socket path too long");
	}
	strcpy(sa.sun_path, path);
	hv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (hv->fd < 0 ||
	    connect(hv->fd, (const struct sockaddr *)&sa, sizeof(sa))) {
		int err = errno;

		if (hv->fd >= 0)
			close(hv->fd);
		free(hv);
		return xp_err(err, spec,
			      "no model hypervisor listening there (%s); "
			      "start xenpmem-modelhv --socket %s",
			      strerror(err), path);
	}
	*hvp = hv;
	return 0;
}

void xp_hv_close(struct xp_hv *hv)
{
	if (!hv)
		return;
	if (hv->fd >= 0)
		close(hv->fd);
	if (hv->xc)
		xencall_close(hv->xc);
	free(hv);
}

const char *xp_hv_name(const struct xp_hv *hv)
{
	return hv->name;
}

/* The refusal in @op as this library's error. */
static int refused(const struct xp_hv *hv, const char *target,
		   const char *what, const struct xphv_abi_op *op,
		   const struct slot_names *sn)
{
	char text[400];
	int err = -op->reply.err;

	render(&op->reply, op->cmd, sn, text, sizeof(text));
	if (err <= 0)
		err = EINVAL;
	return xp_err(err, target, "%s: refused by the hypervisor (%s): %s",
		      what, hv->name, text);
}

/* Whether Xen speaks the xenpmem ABI at all: an empty QUERY. */
static int xen_probe(struct xp_hv *hv)
{
	struct xphv_abi_op op = {.cmd = XPHV_CMD_QUERY};
	int rc = call(hv, &op, NULL, 0, NULL, 0, NULL);

	if (!rc && op.reply.err)
		rc = refused(hv, hv->ctx_target[0] ? hv->ctx_target : hv->name,
			     "query", &op, NULL);
	return rc;
}

/* ---- namespace ----------------------------------------------------------- */

/* What Dom0 reads before it hands @target over. */
struct ns_view {
	uint8_t uuid[16];
	uint64_t generation;
	uint64_t phys, size;
	bool phys_known;
	struct slot_names names;
};

static int view(struct xp_hv *hv, const char *target, unsigned flags,
		struct ns_view *v, const char *extent, struct xp_extent *ext)
{
	struct xp_info info;
	struct xp_ns *ns;
	int rc;

	memset(v, 0, sizeof(*v));
	/* After the hand-off ("hv:UUID") Dom0 reads through this very
	 * hypervisor. */
	rc = xp_media_is_hv(target) ? xp_ns_open_hv(hv, target, 0, &ns) :
				      xp_ns_open(target, flags & XP_WAIT_FLAGS,
						 &ns);
	if (rc)
		return rc;
	rc = xp_ns_get_info(ns, &info);
	if (!rc && extent)
		rc = xp_ns_extent_find(ns, extent, ext);
	if (!rc) {
		memcpy(v->uuid, info.uuid, 16);
		v->generation = info.generation;
		/* Where the host says it is now, never what the media
		 * claims: the hypervisor compares the two. */
		v->phys_known = ns->media->phys_known;
		v->phys = ns->media->phys_base;
		v->size = ns->media->size;
		names_take(ns, &v->names);
	}
	/* Dom0 gives up its own mapping before the hand-off. */
	xp_ns_close(ns);
	return rc;
}

static void view_free(struct ns_view *v)
{
	free(v->names.v);
	v->names.v = NULL;
}

int xp_hv_register(struct xp_hv *hv, const char *target, unsigned flags,
		   struct xp_hv_ns *out)
{
	struct xphv_abi_op op = {.cmd = XPHV_CMD_REGISTER};
	struct xphv_abi_register *rq = &op.u.reg;
	bool disabled = false;
	struct ns_view v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = xp_flags_known(flags, XP_HV_DRY_RUN | XP_WAIT_FLAGS, target,
			    "register");
	rc = rc ?: view(hv, target, flags, &v, NULL, NULL);
	if (rc)
		return rc;
	if (!v.phys_known) {
		view_free(&v);
		return xp_err(EINVAL, target,
			      "the host does not say where this namespace "
			      "is in physical memory (a file has no physical "
			      "address), so there is nothing to tell the "
			      "hypervisor");
	}
	memcpy(out->uuid, v.uuid, 16);
	out->generation = v.generation;
	out->phys_start = v.phys;
	out->size = v.size;
	hv_ctx(hv, target, NULL);

	/*
	 * The hand-off (docs/hypervisor-abi.md): Linux gives the namespace
	 * up before the hypervisor adopts it, since Xen cannot revoke the
	 * mappings a PV Dom0 holds. Put back if the hypervisor refuses.
	 */
	if (!(flags & XP_HV_DRY_RUN)) {
		rc = xp_ndctl_set_enabled(v.phys, v.size, false, out->linux_ns,
					  sizeof(out->linux_ns));
		disabled = rc == 0;
		if (rc < 0 && rc != -ENOENT) {
			view_free(&v);
			return xp_err(-rc, target,
				      "cannot disable %s in Linux before the hand-off (%s): is it mounted or open?",
				      out->linux_ns, strerror(-rc));
		}
	}

	rq->spa_start = v.phys;
	rq->spa_len = v.size;
	memcpy(rq->ns_uuid, v.uuid, 16);
	rq->generation = v.generation;
	op.flags = flags & XP_HV_DRY_RUN ? XPHV_F_DRY_RUN : 0;
	rc = call(hv, &op, NULL, 0, NULL, 0, NULL);
	if (!rc && op.reply.err)
		rc = refused(hv, target, flags & XP_HV_DRY_RUN ?
				 "register (dry run)" : "register",
			     &op, &v.names);
	view_free(&v);
	if (rc && disabled)
		(void)xp_ndctl_set_enabled(out->phys_start, out->size, true,
					   NULL, 0);
	if (rc)
		return rc;
	out->linux_disabled = disabled;
	out->ns_id = rq->ns_id;
	out->extents = rq->nextents;
	out->data_start_mfn = rq->data_start_mfn;
	out->data_end_mfn = rq->data_end_mfn;
	out->mgmt_frames = rq->mgmt_used;
	out->ram_frames = rq->ram_frames;
	return 0;
}

int xp_hv_unregister(struct xp_hv *hv, const char *target, unsigned flags,
		     struct xp_hv_ns *out)
{
	struct xphv_abi_op op = {.cmd = XPHV_CMD_UNREGISTER};
	struct ns_view v;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = xp_flags_known(flags, XP_WAIT_FLAGS, target, "unregister");
	rc = rc ?: view(hv, target, flags, &v, NULL, NULL);
	if (rc)
		return rc;
	memcpy(out->uuid, v.uuid, 16);
	out->generation = v.generation;
	out->phys_start = v.phys;
	out->size = v.size;
	hv_ctx(hv, target, NULL);
	memcpy(op.u.ns.ns_uuid, v.uuid, 16);
	rc = call(hv, &op, NULL, 0, NULL, 0, NULL);
	if (!rc && op.reply.err)
		rc = refused(hv, target, "unregister", &op, &v.names);
	view_free(&v);
	if (rc)
		return rc;
	/* The namespace is Dom0's again: Linux may take it back. */
	rc = xp_ndctl_set_enabled(out->phys_start, out->size, true,
				  out->linux_ns, sizeof(out->linux_ns));
	if (rc < 0 && rc != -ENOENT)
		return xp_err(-rc, target,
			      "unregistered, but enabling %s in Linux again failed (%s); run 'ndctl enable-namespace %s'",
			      out->linux_ns, strerror(-rc), out->linux_ns);
	out->linux_enabled = rc == 0;
	return 0;
}

int xp_hv_query(struct xp_hv *hv, struct xp_hv_region **regions,
		uint32_t *count)
{
	struct xphv_abi_region *page = NULL;
	struct xp_hv_region *all = NULL;
	uint32_t n = 0, total = 1;
	int rc = 0;

	*regions = NULL;
	*count = 0;
	hv_ctx(hv, hv->name, NULL);
	page = malloc(MODELHV_QUERY_MAX * sizeof(*page));
	if (!page)
		return xp_err(ENOMEM, hv->name, "out of memory");
	/* Pages of regions until the total is in; a registry that changes
	 * meanwhile (another Dom0 process) shows as a short answer. */
	while (n < total) {
		struct xphv_abi_op op = {.cmd = XPHV_CMD_QUERY};
		struct xp_hv_region *grown;
		size_t got;

		op.u.query.start = n;
		op.u.query.nr = MODELHV_QUERY_MAX;
		rc = call(hv, &op, NULL, 0, page,
			  MODELHV_QUERY_MAX * sizeof(*page), &got);
		if (!rc && op.reply.err)
			rc = refused(hv, hv->name, "query", &op, NULL);
		if (rc)
			break;
		total = op.u.query.total;
		if (!op.u.query.nr)
			break;
		grown = realloc(all, (n + op.u.query.nr) * sizeof(*all));
		if (!grown) {
			rc = xp_err(ENOMEM, hv->name, "out of memory");
			break;
		}
		all = grown;
		for (uint32_t i = 0; i < op.u.query.nr; i++) {
			struct xp_hv_region *r = &all[n + i];

			r->start_mfn = page[i].start_mfn;
			r->end_mfn = page[i].end_mfn;
			r->type = (enum xp_hv_region_type)page[i].type;
			r->ns_id = page[i].ns_id;
			memcpy(r->ns_uuid, page[i].ns_uuid, 16);
		}
		n += op.u.query.nr;
	}
	free(page);
	if (rc) {
		free(all);
		return rc;
	}
	*regions = all;
	*count = n;
	return 0;
}

const char *xp_hv_region_type_name(enum xp_hv_region_type t)
{
	switch (t) {
	case XP_HV_REGION_META: return "meta";
	case XP_HV_REGION_MGMT: return "mgmt";
	case XP_HV_REGION_DATA: return "data";
	case XP_HV_REGION_RAM: return "ram";
	}
	return "unknown";
}

/* ---- domains and mappings ------------------------------------------------ */

/*
 * The id under which the hypervisor knows the domain with handle @uuid
 * now: Xen's toolstack keeps it in xenstore; the model's domains live in
 * the model. The hypervisor checks the handle it knows for that id
 * against the owner on media, so a stale answer here is refused there.
 */
static int domain_id(struct xp_hv *hv, const uint8_t uuid[16],
		     uint16_t *domid)
{
	struct xphv_abi_op op = {.cmd = MODELHV_CMD_DOMAIN_FIND};
	char u[XP_UUID_STR_LEN];
	uint32_t id;
	int rc;

	xp_uuid_format(uuid, u);
	if (hv->kind == HV_XEN) {
		if (xp_owner_lookup(uuid, NULL, 0, &id))
			return xp_err(ESRCH, u, "no running domain has this "
				      "UUID");
		*domid = (uint16_t)id;
		return 0;
	}
	memcpy(op.u.dom.uuid, uuid, 16);
	rc = call(hv, &op, NULL, 0, NULL, 0, NULL);
	if (rc)
		return rc;
	if (op.reply.err)
		return xp_err(ESRCH, u,
			      "no domain of the model hypervisor (%s) has "
			      "this UUID (xenpmem-modelhv domain-create)",
			      hv->name);
	*domid = op.u.dom.domid;
	return 0;
}

static int map_or_unmap(struct xp_hv *hv, const char *target,
			const char *name, const uint8_t domain[16],
			uint64_t gfn, unsigned flags,
			struct xp_hv_mapping *out, bool map)
{
	struct xphv_abi_op op = {.cmd = map ? XPHV_CMD_MAP : XPHV_CMD_UNMAP};
	struct xphv_abi_map *rq = &op.u.map;
	struct xp_extent ext;
	struct ns_view v;
	char what[160], owner[XP_UUID_STR_LEN];
	uint16_t domid = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (xp_uuid_is_nil(domain))
		return xp_err(EINVAL, target, "the nil UUID is Dom0's handle: "
			      "no extent is mapped into Dom0 this way");
	rc = xp_flags_known(flags, XP_WAIT_FLAGS, target,
			    map ? "map" : "unmap");
	rc = rc ?: view(hv, target, flags, &v, name, &ext);
	if (rc)
		return rc;
	snprintf(out->name, sizeof(out->name), "%s", ext.name);
	memcpy(out->extent_uuid, ext.uuid, 16);
	memcpy(out->domain, domain, 16);
	hv_ctx(hv, target, ext.name);
	/* A Xen without xenpmem support says so before the domain is
	 * looked up. */
	rc = hv->kind == HV_XEN ? xen_probe(hv) : 0;
	rc = rc ?: domain_id(hv, domain, &domid);
	if (rc) {
		view_free(&v);
		return rc;
	}
	out->domid = domid;
	memcpy(rq->ns_uuid, v.uuid, 16);
	memcpy(rq->extent_uuid, ext.uuid, 16);
	rq->domid = domid;
	if (map && gfn == XP_HV_GFN_MFN) {
		if (!ext.phys_known) {
			view_free(&v);
			return xp_err(EINVAL, target, "extent '%s': the "
				      "namespace's physical address is "
				      "unknown, so there is no first frame "
				      "to map at: give --gfn", ext.name);
		}
		gfn = ext.first_mfn;
	}
	rq->gfn = map ? gfn : 0;
	rc = call(hv, &op, NULL, 0, NULL, 0, NULL);
	if (!rc && op.reply.err) {
		snprintf(what, sizeof(what), "%s of extent '%s' %s d%u",
			 map ? "map" : "unmap", ext.name, map ? "into" : "from",
			 domid);
		/* Not the owner: say whom Dom0's own read of the table names,
		 * so the fix (assign) is obvious. */
		if (op.reply.reason == XPHV_R_NOT_OWNER) {
			if (ext.assigned)
				xp_uuid_format(ext.owner, owner);
			snprintf(what + strlen(what),
				 sizeof(what) - strlen(what),
				 " (the table names %s)",
				 ext.assigned ? owner : "no owner");
		}
		rc = refused(hv, target, what, &op, &v.names);
	}
	view_free(&v);
	if (rc)
		return rc;
	out->gfn = rq->gfn;
	out->first_mfn = rq->mfn;
	out->nr_frames = rq->nr;
	out->superpages = map ? rq->superpages : 0;
	return 0;
}

int xp_hv_map(struct xp_hv *hv, const char *target, const char *name,
	      const uint8_t domain[16], uint64_t gfn, unsigned flags,
	      struct xp_hv_mapping *out)
{
	return map_or_unmap(hv, target, name, domain, gfn, flags, out, true);
}

int xp_hv_unmap(struct xp_hv *hv, const char *target, const char *name,
		const uint8_t domain[16], unsigned flags,
		struct xp_hv_mapping *out)
{
	return map_or_unmap(hv, target, name, domain, 0, flags, out, false);
}

/* ---- metadata after the hand-off ----------------------------------------- */

int xp_hv_meta_read(struct xp_hv *hv, const uint8_t ns_uuid[16],
		    uint64_t offset, void *buf, uint32_t len)
{
	struct xphv_abi_op op = {.cmd = XPHV_CMD_META_READ};
	char u[XP_UUID_STR_LEN];
	size_t got;
	int rc;

	xp_uuid_format(ns_uuid, u);
	if (!len || len > XPHV_META_MAX)
		return xp_err(EINVAL, u, "metadata reads take 1 to %u bytes",
			      XPHV_META_MAX);
	hv_ctx(hv, u, NULL);
	memcpy(op.u.meta.ns_uuid, ns_uuid, 16);
	op.u.meta.offset = offset;
	op.u.meta.len = len;
	rc = call(hv, &op, NULL, 0, buf, len, &got);
	if (!rc && op.reply.err)
		return refused(hv, u, "metadata read", &op, NULL);
	if (!rc && got != len)
		return xp_err(EPROTO, hv->name, "short metadata read");
	return rc;
}

int xp_hv_meta_write(struct xp_hv *hv, const uint8_t ns_uuid[16],
		     uint32_t slot, uint32_t copy, const void *rec)
{
	struct xphv_abi_op op = {.cmd = XPHV_CMD_META_WRITE};
	char u[XP_UUID_STR_LEN];
	int rc;

	xp_uuid_format(ns_uuid, u);
	if (copy > 1)
		return xp_err(EINVAL, u, "a slot has copies 0 and 1");
	hv_ctx(hv, u, NULL);
	memcpy(op.u.meta.ns_uuid, ns_uuid, 16);
	op.u.meta.offset = xp_slot_offset(slot) + (uint64_t)copy * XP_REC_SIZE;
	op.u.meta.len = XP_REC_SIZE;
	op.u.meta.slot = slot;
	op.u.meta.copy = copy;
	rc = call(hv, &op, rec, XP_REC_SIZE, NULL, 0, NULL);
	if (!rc && op.reply.err)
		return refused(hv, u, "record write", &op, NULL);
	return rc;
}
