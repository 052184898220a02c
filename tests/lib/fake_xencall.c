/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for libxencall, preloaded (LD_PRELOAD) under the tests of
 * the Xen backend (src/lib/hv.c): no Xen runs here, so this plays the
 * hypervisor's side of the hypercalls xenpmem issues, and checks them the
 * way Xen would read them.
 *
 * $XENPMEM_FAKE_XEN says which Xen it is:
 *   unset       no Xen: xencall_open() fails as libxencall does without
 *               /dev/xen/privcmd;
 *   enosys      a Xen without the xen/patches series: the sysctl and the
 *               memory op are unknown (-ENOSYS);
 *   eacces      a Xen whose sysctl interface version differs (-EACCES);
 *   eperm       a caller XSM does not let through (-EPERM);
 *   model:SOCK  a Xen with the series: every request goes on to the model
 *               hypervisor on SOCK, as the patched Xen would act on it.
 *               Like xen/patches, the hypercall returns the reply's error
 *               too; with $XENPMEM_FAKE_XEN_RC=0 it returns 0 (Dom0 reads
 *               the reply either way).
 *
 * What it checks, as Xen does: the sysctl's cmd and interface_version,
 * the memory op's number, and that the sysctl, the request and every
 * payload lie inside buffers xencall_alloc_buffer() handed out (Xen
 * copies from guest handles; the kernel wants hypercall-safe pages).
 * Anything else answers -EFAULT or -EINVAL and is logged on stderr.
 */
#define __XEN_TOOLS__ 1

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xencall.h>
#include <xentoollog.h>
#include <xen/xen.h>
#include <xen/sysctl.h>

#include "xphv_abi.h"

#define MAX_BUFS 64

struct xencall_handle {
	int fd;			/* the model, once connected */
	struct {
		uint8_t *p;
		size_t len;
	} bufs[MAX_BUFS];
};

static const char *mode(void)
{
	const char *m = getenv("XENPMEM_FAKE_XEN");

	return m ? m : "";
}

static void say(const char *what)
{
	fprintf(stderr, "fake_xencall: %s\n", what);
}

xencall_handle *xencall_open(struct xentoollog_logger *logger,
			     unsigned open_flags)
{
	xencall_handle *xc;

	(void)open_flags;
	if (!*mode()) {
		if (logger)
			xtl_log(logger, XTL_ERROR, ENOENT, "xencall",
				"Could not obtain handle on privileged "
				"command interface");
		errno = ENOENT;
		return NULL;
	}
	xc = calloc(1, sizeof(*xc));
	if (xc)
		xc->fd = -1;
	return xc;
}

int xencall_close(xencall_handle *xc)
{
	if (!xc)
		return 0;
	if (xc->fd >= 0)
		close(xc->fd);
	for (int i = 0; i < MAX_BUFS; i++)
		free(xc->bufs[i].p);
	free(xc);
	return 0;
}

void *xencall_alloc_buffer(xencall_handle *xc, size_t size)
{
	for (int i = 0; i < MAX_BUFS; i++) {
		if (xc->bufs[i].p)
			continue;
		xc->bufs[i].p = calloc(1, size ? size : 1);
		xc->bufs[i].len = size;
		return xc->bufs[i].p;
	}
	errno = ENOMEM;
	return NULL;
}

void xencall_free_buffer(xencall_handle *xc, void *p)
{
	for (int i = 0; p && i < MAX_BUFS; i++) {
		if (xc->bufs[i].p != p)
			continue;
		free(p);
		xc->bufs[i].p = NULL;
		return;
	}
	if (p)
		say("free of a buffer xencall_alloc_buffer did not hand out");
}

/* Whether [addr, addr + len) lies in one hypercall buffer. */
static bool in_buffer(xencall_handle *xc, uint64_t addr, size_t len)
{
	for (int i = 0; i < MAX_BUFS; i++) {
		uint64_t p = (uint64_t)(uintptr_t)xc->bufs[i].p;

		if (xc->bufs[i].p && addr >= p &&
		    addr - p <= xc->bufs[i].len &&
		    len <= xc->bufs[i].len - (addr - p))
			return true;
	}
	return false;
}

static int fail(int err, const char *why)
{
	if (why)
		say(why);
	errno = err;
	return -1;
}

static bool io_all(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) :
				 read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The patched Xen acting on @op: here, the model does. */
static int forward(xencall_handle *xc, uint64_t addr)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct xphv_abi_op *op, rq;
	uint64_t buf = 0;
	size_t in = 0, more = 0;

	if (!in_buffer(xc, addr, sizeof(*op)))
		return fail(EFAULT, "the request is not in a hypercall buffer");
	op = (struct xphv_abi_op *)(uintptr_t)addr;
	rq = *op;
	if (rq.cmd == XPHV_CMD_QUERY) {
		buf = rq.u.query.buf;
		more = (size_t)rq.u.query.nr * sizeof(struct xphv_abi_region);
	} else if (rq.cmd == XPHV_CMD_META_READ) {
		buf = rq.u.meta.buf;
		more = rq.u.meta.len;
	} else if (rq.cmd == XPHV_CMD_META_WRITE) {
		buf = rq.u.meta.buf;
		in = rq.u.meta.len;
	}
	if ((in || more) && !in_buffer(xc, buf, in + more))
		return fail(EFAULT, "a payload is not in a hypercall buffer");
	/* The model ignores `buf`; Xen would copy through it. */
	if (xc->fd < 0) {
		const char *sock = mode() + strlen("model:");

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		xc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (xc->fd < 0 ||
		    connect(xc->fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fail(EIO, "no model hypervisor on the socket");
	}
	if (!io_all(xc->fd, &rq, sizeof(rq), true) ||
	    (in && !io_all(xc->fd, (void *)(uintptr_t)buf, in, true)) ||
	    !io_all(xc->fd, &rq, sizeof(rq), false))
		return fail(EIO, "the model went away");
	if (rq.cmd == XPHV_CMD_QUERY) {
		size_t got = (size_t)rq.u.query.nr *
			     sizeof(struct xphv_abi_region);

		if (got > more)
			return fail(EIO, "the model answered too many regions");
		more = got;
		rq.u.query.buf = buf;
	} else if (rq.cmd == XPHV_CMD_META_READ) {
		if (rq.reply.err)
			more = 0;
		rq.u.meta.buf = buf;
	} else if (rq.cmd == XPHV_CMD_META_WRITE) {
		rq.u.meta.buf = buf;
	}
	if (more && !io_all(xc->fd, (void *)(uintptr_t)buf, more, false))
		return fail(EIO, "the model went away");
	*op = rq;
	if (rq.reply.err && !(getenv("XENPMEM_FAKE_XEN_RC") &&
			      !strcmp(getenv("XENPMEM_FAKE_XEN_RC"), "0")))
		return fail(-rq.reply.err, NULL);
	return 0;
}

static int common_mode(void)
{
	if (!strcmp(mode(), "enosys"))
		return fail(ENOSYS, NULL);
	if (!strcmp(mode(), "eperm"))
		return fail(EPERM, NULL);
	return 0;
}

int xencall1(xencall_handle *xc, unsigned int op, uint64_t arg1)
{
	struct xen_sysctl *sc;
	struct xphv_xen_sysctl xs;

	if (op != __HYPERVISOR_sysctl)
		return fail(ENOSYS, "xencall1 of an unexpected hypercall");
	if (!in_buffer(xc, arg1, sizeof(*sc)))
		return fail(EFAULT, "the sysctl is not in a hypercall buffer");
	sc = (struct xen_sysctl *)(uintptr_t)arg1;
	if (!strcmp(mode(), "eacces") ||
	    sc->interface_version != XEN_SYSCTL_INTERFACE_VERSION)
		return fail(EACCES, NULL);
	if (common_mode())
		return -1;
	if (sc->cmd != XPHV_XEN_SYSCTL)
		return fail(ENOSYS, "an unknown sysctl");
	memcpy(&xs, &sc->u, sizeof(xs));
	return forward(xc, xs.op);
}

int xencall2(xencall_handle *xc, unsigned int op, uint64_t arg1,
	     uint64_t arg2)
{
	if (op != __HYPERVISOR_memory_op)
		return fail(ENOSYS, "xencall2 of an unexpected hypercall");
	if (common_mode())
		return -1;
	if (arg1 != XPHV_XEN_MEMOP)
		return fail(ENOSYS, "an unknown memory op");
	return forward(xc, arg2);
}
