/* SPDX-License-Identifier: MIT */
/* Error reporting, size parsing and small helpers shared by the library. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "xp_internal.h"

static _Thread_local char last_error[512];

const char *xp_last_error(void)
{
	return last_error;
}

void xp_err_clear(void)
{
	last_error[0] = 0;
}

int xp_err(int err, const char *target, const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;

	if (target && *target)
		n = (size_t)snprintf(last_error, sizeof(last_error), "%s: ",
				     target);
	if (n >= sizeof(last_error))
		n = sizeof(last_error) - 1;
	va_start(ap, fmt);
	vsnprintf(last_error + n, sizeof(last_error) - n, fmt, ap);
	va_end(ap);
	/* One line, always: media-supplied text must not break it. */
	for (char *p = last_error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return -err;
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

void xp_uuid_generate(uint8_t out[16])
{
	uuid_generate_random(out);
}

void xp_uuid_format(const uint8_t uuid[16], char out[XP_UUID_STR_LEN])
{
	uuid_unparse_lower(uuid, out);
}

int xp_uuid_parse(const char *s, uint8_t uuid[16])
{
	/* libuuid takes exactly the 36-character form. */
	if (!s || strlen(s) != 36 || uuid_parse(s, uuid))
		return -EINVAL;
	return 0;
}
