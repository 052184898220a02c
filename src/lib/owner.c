/* SPDX-License-Identifier: MIT */
/*
 * Extent owners are domain UUIDs. On a Xen host a running domain can also
 * be named by its name or domid: xenstore keeps, for domain N,
 * /local/domain/N/name and /local/domain/N/vm ("/vm/UUID", the domain
 * handle libxl set from xl.cfg uuid=).
 *
 * Test hook: XENPMEM_XEN_DOMAINS names a file of "DOMID NAME UUID" lines
 * that stands in for xenstore (the e2e run uses the real one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <xenstore.h>

#include "xp_internal.h"

#define OWNER_TARGET "--owner"

struct domain {
	uint32_t domid;
	/* "" when xenstore's name does not fit: matched by id or UUID only. */
	char name[256];
	bool has_uuid;
	uint8_t uuid[16];
};

/* Called per running domain; non-zero stops the walk. */
typedef int (*domain_fn)(const struct domain *d, void *arg);

/* The UUID of a "/vm/UUID" path, as libxl writes it. */
static bool uuid_of_vm_path(const char *vm, uint8_t uuid[16])
{
	const char *p = vm ? strrchr(vm, '/') : NULL;

	return p && !xp_uuid_parse(p + 1, uuid);
}

#ifdef XP_TEST_HOOKS
static int walk_file(const char *path, domain_fn fn, void *arg)
{
	char line[512], uuid[64];
	struct domain d;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		memset(&d, 0, sizeof(d));
		if (sscanf(line, "%u %255s %63s", &d.domid, d.name, uuid) != 3)
			continue;
		d.has_uuid = !xp_uuid_parse(uuid, d.uuid);
		rc = fn(&d, arg);
	}
	fclose(f);
	return rc;
}
#endif

static char *xs_read_str(struct xs_handle *xs, const char *fmt, const char *n)
{
	char path[128];
	unsigned int len;

	snprintf(path, sizeof(path), fmt, n);
	return xs_read(xs, XBT_NULL, path, &len);
}

/*
 * Whether a xenstored answers on this host's daemon socket. Without one,
 * xs_open() falls back to /dev/xen/xenbus, which a Dom0 kernel provides
 * even while no xenstored runs (early boot, no toolstack): every request
 * on it then blocks for good, and a plain 'xenpmem list' with one
 * assigned extent would hang. A Dom0 whose xenstored lives in a stub
 * domain loses name resolution here; a UUID still works.
 */
static bool xenstored_socket_up(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = xs_daemon_socket();
	bool up;
	int fd;

	if (!path || strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	up = !connect(fd, (const struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return up;
}

static int walk_xenstore(domain_fn fn, void *arg)
{
	struct xs_handle *xs;
	unsigned int num = 0;
	char **ids;
	int rc = 0;

	if (!xenstored_socket_up())
		return -ENOTSUP;
	xs = xs_open(0);
	if (!xs)
		return -ENOTSUP;
	ids = xs_directory(xs, XBT_NULL, "/local/domain", &num);
	if (!ids) {
		xs_close(xs);
		return -ENOTSUP;
	}
	for (unsigned int i = 0; !rc && i < num; i++) {
		struct domain d = {0};
		char *name = xs_read_str(xs, "/local/domain/%s/name", ids[i]);
		char *vm = xs_read_str(xs, "/local/domain/%s/vm", ids[i]);
		char *end;

		d.domid = (uint32_t)strtoul(ids[i], &end, 10);
		if (*end == '\0' && name) {
			if (strlen(name) < sizeof(d.name))
				strcpy(d.name, name);
			d.has_uuid = uuid_of_vm_path(vm, d.uuid);
			/* Dom0's handle is the nil UUID; libxl may not
			 * write a vm path for it at all. */
			if (!vm && d.domid == 0)
				d.has_uuid = true;
			rc = fn(&d, arg);
		}
		free(name);
		free(vm);
	}
	free(ids);
	xs_close(xs);
	return rc;
}

/* -ENOTSUP when this is not a Xen host (no xenstore to ask). */
static int walk_domains(domain_fn fn, void *arg)
{
#ifdef XP_TEST_HOOKS
	/* Test hook: running domains from a file, "DOMID NAME UUID" lines. */
	const char *file = getenv("XENPMEM_XEN_DOMAINS");

	if (file && *file)
		return walk_file(file, fn, arg);
#endif
	return walk_xenstore(fn, arg);
}

struct match {
	const char *spec;
	const uint8_t *uuid;
	bool by_id;
	uint32_t domid;
	struct domain found;
	int hits;
};

static int match_spec(const struct domain *d, void *arg)
{
	struct match *m = arg;

	if (m->by_id ? d->domid == m->domid :
		       d->name[0] && !strcmp(d->name, m->spec)) {
		m->found = *d;
		m->hits++;
	}
	return 0;
}

static int match_uuid(const struct domain *d, void *arg)
{
	struct match *m = arg;

	if (d->has_uuid && !memcmp(d->uuid, m->uuid, 16)) {
		m->found = *d;
		m->hits++;
		return 1;
	}
	return 0;
}

static bool parse_domid(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0x7fef)
		return false;
	*id = (uint32_t)v;
	return true;
}

int xp_owner_resolve(const char *spec, uint8_t uuid[16])
{
	struct match m = {.spec = spec};
	int rc;

	if (!spec || !*spec)
		return xp_err(EINVAL, OWNER_TARGET, "an owner is needed");
	if (!xp_uuid_parse(spec, uuid)) {
		if (xp_uuid_is_nil(uuid))
			return xp_err(EINVAL, OWNER_TARGET,
				      "the nil UUID is Dom0's handle and means 'unassigned'; it cannot own an extent");
		return 0;
	}
	m.by_id = parse_domid(spec, &m.domid);
	rc = walk_domains(match_spec, &m);
	if (rc == -ENOTSUP)
		return xp_err(EINVAL, OWNER_TARGET,
			      "'%s' is not a UUID, and only a UUID is possible here: a domain name or id needs a Xen host (xenstore is not reachable)",
			      spec);
	if (rc < 0)
		return xp_err(-rc, OWNER_TARGET,
			      "cannot read the running domains: %s",
			      strerror(-rc));
	if (!m.hits)
		return xp_err(ENOENT, OWNER_TARGET,
			      "no running domain has the %s '%s' (a stopped guest is named by its UUID)",
			      m.by_id ? "id" : "name", spec);
	if (m.hits > 1)
		return xp_err(EINVAL, OWNER_TARGET,
			      "%d running domains are named '%s'; give the UUID",
			      m.hits, spec);
	if (!m.found.has_uuid)
		return xp_err(EINVAL, OWNER_TARGET,
			      "domain %u ('%s') has no UUID in xenstore",
			      m.found.domid, m.found.name);
	if (xp_uuid_is_nil(m.found.uuid))
		return xp_err(EINVAL, OWNER_TARGET,
			      "domain %u ('%s') has the nil UUID (Dom0's handle), which cannot own an extent",
			      m.found.domid, m.found.name);
	memcpy(uuid, m.found.uuid, 16);
	return 0;
}

int xp_owner_lookup(const uint8_t uuid[16], char *name, size_t len,
		    uint32_t *domid)
{
	struct match m = {.uuid = uuid};

	if (xp_uuid_is_nil(uuid))
		return -ENOENT;
	if (walk_domains(match_uuid, &m) < 0 || !m.hits)
		return -ENOENT;
	if (name && strlen(m.found.name) >= len)
		return -ERANGE;
	if (name)
		strcpy(name, m.found.name);
	if (domid)
		*domid = m.found.domid;
	return 0;
}
