/* SPDX-License-Identifier: MIT */
/*
 * UUIDs: random (version 4) ones for namespaces and extents, and the
 * text form through libuuid.
 *
 * Not libuuid for generating: util-linux 2.38's uuid_generate_random()
 * seeds random() again with srandom() on every call and mixes jrand48()
 * into the bytes it reads from getrandom(2), about 11,000 instructions
 * and a system call per UUID (callgrind, Debian 12), which was half of
 * what creating and destroying an extent cost. The kernel's bytes alone
 * are what RFC 9562 asks of a version 4 UUID.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "xp_internal.h"

/*
 * UUIDs a pool draws with one getrandom(2): as many as its page holds.
 * With 64 a refill came every 64 creates, 1.6 % of them, and set the p99
 * of a create + destroy pair (3.6 us against 0.9 us without it).
 */
#define POOL_UUIDS 255

/*
 * A page of its own, marked MADV_WIPEONFORK: a child of fork(2) finds it
 * all zeroes, @left 0, and draws its own bytes, so parent and child can
 * never hand out the same UUIDs from one inherited pool. A field outside
 * the page would survive the fork, which is why @left lives in it.
 */
struct xp_uuid_page {
	uint32_t left;			/* uuid[0 .. left) not handed out */
	uint8_t uuid[POOL_UUIDS][16];
};

_Static_assert(sizeof(struct xp_uuid_page) <= 4096,
	       "the UUID pool fits the smallest page");

/* @len random bytes from the kernel: 0, or -errno. */
static int random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* Above 256 bytes getrandom(2) may return fewer, or EINTR. */
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* RFC 9562 section 5.4: version 4, variant 10. */
static void mark_v4(uint8_t u[16])
{
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
}

void xp_uuid_generate(uint8_t out[16])
{
	/* A kernel without getrandom(2) (before 3.17): libuuid finds
	 * another source. */
	if (random_bytes(out, 16)) {
		uuid_generate_random(out);
		return;
	}
	mark_v4(out);
}

static bool pool_map(struct xp_uuid_pool *pool)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (page < (long)sizeof(struct xp_uuid_page))
		page = sizeof(struct xp_uuid_page);
	p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	/* Linux 4.14 and later; without it, no pool (see above). */
	if (madvise(p, (size_t)page, MADV_WIPEONFORK)) {
		munmap(p, (size_t)page);
		return false;
	}
	pool->page = p;
	pool->page_size = (size_t)page;
	return true;
}

void xp_uuid_pool_take(struct xp_uuid_pool *pool, uint8_t out[16])
{
	struct xp_uuid_page *pg;

	if (!pool->page && (pool->unavailable || !pool_map(pool))) {
		pool->unavailable = true;
		xp_uuid_generate(out);
		return;
	}
	pg = pool->page;
	if (!pg->left) {
		if (random_bytes(pg->uuid, sizeof(pg->uuid))) {
			xp_uuid_generate(out);
			return;
		}
		pg->left = POOL_UUIDS;
	}
	pg->left--;
	memcpy(out, pg->uuid[pg->left], 16);
	/* Only bytes nobody has been given stay in the page. */
	memset(pg->uuid[pg->left], 0, 16);
	mark_v4(out);
}

void xp_uuid_pool_drop(struct xp_uuid_pool *pool)
{
	if (pool->page)
		munmap(pool->page, pool->page_size);
	memset(pool, 0, sizeof(*pool));
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
