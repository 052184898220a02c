/* SPDX-License-Identifier: MIT */
/* Error reporting, size parsing and small helpers shared by the library. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <syslog.h>
#include <stdio.h>
#include <string.h>

#include "xp_internal.h"

static _Thread_local char last_error[512];

uint32_t xp_version(void)
{
	return XP_VERSION_CODE(XP_VERSION_MAJOR, XP_VERSION_MINOR,
			       XP_VERSION_MICRO);
}

#define XP_STR(x) #x
#define XP_XSTR(x) XP_STR(x)

const char *xp_version_string(void)
{
	return XP_XSTR(XP_VERSION_MAJOR) "." XP_XSTR(XP_VERSION_MINOR) "."
	       XP_XSTR(XP_VERSION_MICRO);
}

/*
 * The log hook is the one piece of process-wide state: a toolstack sets
 * it once for every thread, as ndctl's context does. The mutex makes the
 * function and its argument change together; the hook itself runs
 * outside it. The priority is read without it, on every would-be message
 * (a slot update logs at LOG_DEBUG), so an idle log costs one load.
 */
#define LOG_UNSET (-2)		/* $XENPMEM_LOG not read yet */
#define LOG_OFF (-1)

static struct {
	pthread_mutex_t lock;
	xp_log_fn fn;
	void *arg;
	_Atomic int priority;
} xp_log_state = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, LOG_UNSET };

static int priority_from_env(void)
{
	const char *env = getenv("XENPMEM_LOG");
	char *end;
	long v;

	if (!env || !*env)
		return LOG_OFF;
	if (!strcmp(env, "err"))
		return LOG_ERR;
	if (!strcmp(env, "info"))
		return LOG_INFO;
	if (!strcmp(env, "debug"))
		return LOG_DEBUG;
	v = strtol(env, &end, 10);
	return *end || v < 0 || v > LOG_DEBUG ? LOG_OFF : (int)v;
}

/* The priority, reading $XENPMEM_LOG the first time. */
static int log_priority(void)
{
	int prio = atomic_load_explicit(&xp_log_state.priority,
					memory_order_relaxed);
	int unset = LOG_UNSET;

	if (prio != LOG_UNSET)
		return prio;
	/* Whoever comes first sets it; a xp_set_log_priority() in between
	 * wins over the environment. */
	prio = priority_from_env();
	if (!atomic_compare_exchange_strong(&xp_log_state.priority, &unset,
					    prio))
		prio = unset;
	return prio;
}

bool xp_log_wanted(int priority)
{
	return priority <= log_priority();
}

void xp_set_log_fn(xp_log_fn fn, void *arg)
{
	pthread_mutex_lock(&xp_log_state.lock);
	xp_log_state.fn = fn;
	xp_log_state.arg = arg;
	pthread_mutex_unlock(&xp_log_state.lock);
}

void xp_set_log_priority(int priority)
{
	atomic_store(&xp_log_state.priority, priority < 0 ? LOG_OFF : priority);
}

int xp_get_log_priority(void)
{
	return log_priority();
}

static void log_text(int priority, const char *file, int line,
		     const char *fn, const char *msg)
{
	xp_log_fn hook;
	void *arg;

	if (priority > log_priority())
		return;
	pthread_mutex_lock(&xp_log_state.lock);
	hook = xp_log_state.fn;
	arg = xp_log_state.arg;
	pthread_mutex_unlock(&xp_log_state.lock);
	if (hook)
		hook(priority, file, line, fn, msg, arg);
	else
		fprintf(stderr, "libxenpmem: %s: %s\n", fn, msg);
}

void xp_log_at(int priority, const char *file, int line, const char *fn,
	       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	/* The macros asked xp_log_wanted() already; log_text() asks again. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_text(priority, file, line, fn, msg);
}

const char *xp_last_error(void)
{
	return last_error;
}

void xp_err_clear(void)
{
	last_error[0] = 0;
}

int xp_err_at(const char *file, int line, const char *fn, int err,
	      const char *target, const char *fmt, ...)
{
	const size_t cap = sizeof(last_error);
	size_t n = 0;
	va_list ap;
	int len;

	if (target && *target)
		n = (size_t)snprintf(last_error, cap, "%s: ", target);
	if (n >= cap)
		n = cap - 1;
	va_start(ap, fmt);
	len = vsnprintf(last_error + n, cap - n, fmt, ap);
	va_end(ap);
	/* Cut, it says so: "..." rather than a line that just stops. */
	if (len >= 0 && n + (size_t)len >= cap)
		memcpy(last_error + cap - 4, "...", 4);
	/* One line, always: media-supplied text must not break it. */
	for (char *p = last_error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (LOG_ERR <= log_priority())
		log_text(LOG_ERR, file, line, fn, last_error);
	return -err;
}

int xp_flags_known(unsigned flags, unsigned known, const char *target,
		   const char *call)
{
	if (!(flags & ~known))
		return 0;
	return xp_err(EINVAL, target,
		      "%s: unknown flags 0x%x (this is libxenpmem %s)", call,
		      flags & ~known, xp_version_string());
}

int xp_reserved_zero(const uint64_t *words, size_t n, const char *target,
		     const char *what)
{
	for (size_t i = 0; i < n; i++)
		if (words[i])
			return xp_err(EINVAL, target,
				      "%s: reserved field set (a newer header than libxenpmem %s)",
				      what, xp_version_string());
	return 0;
}

int xp_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -ERANGE;
	}
	switch (toupper((unsigned char)*p)) {
	case 'K': mul = 1ull << 10; break;
	case 'M': mul = 1ull << 20; break;
	case 'G': mul = 1ull << 30; break;
	case 'T': mul = 1ull << 40; break;
	case 'P': mul = 1ull << 50; break;
	case 0: break;
	default: return -EINVAL;
	}
	if (*p) {
		p++;
		/* "64M", "64MiB" and "64MB" all mean 64 MiB, as in ndctl. */
		if (!strcmp(p, "iB") || !strcmp(p, "B"))
			p += strlen(p);
		if (*p)
			return -EINVAL;
	}
	if (__builtin_mul_overflow(v, mul, &v))
		return -ERANGE;
	*out = v;
	return 0;
}

const char *xp_backend_name(enum xp_backend b)
{
	switch (b) {
	case XP_BACKEND_FILE: return "file";
	case XP_BACKEND_DEVDAX: return "devdax";
	case XP_BACKEND_BLOCK: return "block";
	case XP_BACKEND_HV: return "hypervisor";
	}
	return "unknown";
}
