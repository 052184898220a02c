/* SPDX-License-Identifier: MIT */
/*
 * Dom0's hypervisor API (xp_hv_*, src/lib/hv.c) against a real
 * xenpmem-modelhv ($XENPMEM_MODELHV) serving a namespace file: handle
 * specs, register, query, and the metadata path after the hand-off
 * (reads limited to superblocks and table; record writes validated by the
 * hypervisor, refused for mapped extents except a rename). The CLI side
 * of the same is tests/cli/modelhv.sh.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib_test.h"
#include "modelhv.h"
#include "xphv_abi.h"

#define BASE 0x1000000000ull
#define NS_SIZE (128 * MiB)

static char dir[64], ns_path[128], sock[96], hv_spec[128], log_path[96];
static pid_t hv_pid = -1;
static const char *modelhv;

static void stop_hv(void)
{
	if (hv_pid > 0) {
		kill(hv_pid, SIGKILL);
		waitpid(hv_pid, NULL, 0);
		hv_pid = -1;
	}
}

static bool connectable(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void start_hv(void)
{
	char ns_arg[160];

	snprintf(ns_arg, sizeof(ns_arg), "%#llx=%s", (unsigned long long)BASE,
		 ns_path);
	hv_pid = fork();
	if (hv_pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(modelhv, modelhv, "--socket", sock, "--namespace", ns_arg,
		      "--foreground", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 400 && !connectable(); i++)
		usleep(10000);
	if (!connectable()) {
		fprintf(stderr, "the model hypervisor did not start\n");
		exit(2);
	}
}

/* The model's own toolstack command (domain-create ...). */
static int hv_tool(const char *args)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "'%s' --socket '%s' %s >/dev/null", modelhv,
		 sock, args);
	return system(cmd);
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(ns_path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, (off_t)off) != (ssize_t)len) {
		perror(ns_path);
		exit(2);
	}
	close(fd);
}

/* A fresh namespace with extents a (owner 1) and b (owner 2), registered
 * with a fresh model; its UUID in @uuid. */
static struct xp_hv *fresh(uint8_t uuid[16])
{
	struct xp_init_opts o = {.align = 2 * MiB};
	struct xp_create_opts c = {.size = 4 * MiB};
	struct xp_hv_ns r;
	struct xp_info info;
	struct xp_hv *hv;
	struct xp_ns *ns;
	int fd;

	stop_hv();
	unlink(ns_path);
	fd = open(ns_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, NS_SIZE)) {
		perror(ns_path);
		exit(2);
	}
	close(fd);
	CHECK_RC(xp_ns_init(ns_path, &o, NULL), 0);
	CHECK_RC(xp_ns_open(ns_path, XP_OPEN_WRITE, &ns), 0);
	c.name = "a";
	memcpy(c.owner, uuid_n(1), 16);
	CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
	c.name = "b";
	memcpy(c.owner, uuid_n(2), 16);
	CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
	CHECK_RC(xp_ns_get_info(ns, &info), 0);
	memcpy(uuid, info.uuid, 16);
	xp_ns_close(ns);

	start_hv();
	CHECK_RC(xp_hv_open(hv_spec, &hv), 0);
	CHECK_RC(xp_hv_register(hv, ns_path, 0, &r), 0);
	CHECK(r.ns_id == 1 && r.extents == 2);
	CHECK(!memcmp(r.uuid, uuid, 16) && r.phys_start == BASE &&
	      r.size == NS_SIZE);
	return hv;
}

/* Whether tests/lib/fake_xencall.c stands in for libxencall. */
static bool fake_xen(void)
{
	const char *p = getenv("LD_PRELOAD");

	if (p && strstr(p, "fake_xencall"))
		return true;
	fprintf(stderr, "(no fake libxencall preloaded: Xen cases skipped)\n");
	return false;
}

static void t_open_specs(void)
{
	struct xp_hv *hv = NULL;
	char missing[128];

	setenv("XENPMEM_XEN_PRIVCMD", "/nonexistent/privcmd", 1);
	unsetenv("XENPMEM_HV");
	CHECK_RC(xp_hv_open(NULL, &hv), -ENODEV);
	CHECK_CONTAINS(xp_last_error(), "xen: not running on Xen");
	CHECK(hv == NULL);
	setenv("XENPMEM_HV", "model:", 1);
	CHECK_RC(xp_hv_open(NULL, &hv), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "'model:' is not a hypervisor");
	CHECK_RC(xp_hv_open("vmware", &hv), -EINVAL);
	snprintf(missing, sizeof(missing), "model:%s/none.sock", dir);
	CHECK_RC(xp_hv_open(missing, &hv), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "no model hypervisor listening");
	unsetenv("XENPMEM_HV");

	/*
	 * A Xen Dom0 (privcmd is there). The Xen answers come from
	 * tests/lib/fake_xencall.c, preloaded in place of libxencall.
	 */
	setenv("XENPMEM_XEN_PRIVCMD", dir, 1);
	if (!fake_xen()) {
		unsetenv("XENPMEM_XEN_PRIVCMD");
		return;
	}
	unsetenv("XENPMEM_FAKE_XEN");
	CHECK_RC(xp_hv_open("xen", &hv), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "xen: cannot open Xen's hypercall "
			"interface: Could not obtain handle");
	/* A Xen without the series. */
	setenv("XENPMEM_FAKE_XEN", "enosys", 1);
	CHECK_RC(xp_hv_open("xen", &hv), 0);
	if (hv) {
		struct xp_hv_region *regs;
		uint8_t buf[16];
		uint32_t n;

		CHECK_STR(xp_hv_name(hv), "xen");
		CHECK_RC(xp_hv_query(hv, &regs, &n), -EOPNOTSUPP);
		CHECK_STR(xp_last_error(), "xen: this Xen has no xenpmem "
			  "support (the xen/patches series is not applied); "
			  "hand the extent to the guest with 'xenpmem export "
			  "NAME --format xl-iomem' (an iomem= line) instead");
		CHECK_RC(xp_hv_meta_read(hv, uuid_n(3), 0, buf, sizeof(buf)),
			 -EOPNOTSUPP);
		CHECK_CONTAINS(xp_last_error(), "--format xl");
		xp_hv_close(hv);
	}
	setenv("XENPMEM_FAKE_XEN", "eperm", 1);
	CHECK_RC(xp_hv_open("xen", &hv), 0);
	if (hv) {
		struct xp_hv_region *regs;
		uint32_t n;

		CHECK_RC(xp_hv_query(hv, &regs, &n), -EPERM);
		CHECK_CONTAINS(xp_last_error(), "only Dom0");
		xp_hv_close(hv);
	}
	unsetenv("XENPMEM_FAKE_XEN");
	unsetenv("XENPMEM_XEN_PRIVCMD");
}

static void t_query_and_dry_run(void)
{
	struct xp_hv_region *regs = NULL;
	struct xp_hv_ns r;
	uint8_t uuid[16];
	struct xp_hv *hv = fresh(uuid);
	uint32_t n = 0;

	if (!hv)
		return;
	CHECK_RC(xp_hv_query(hv, &regs, &n), 0);
	CHECK(n == 4);
	for (uint32_t i = 0; regs && i < n; i++) {
		CHECK(regs[i].ns_id == 1 && !memcmp(regs[i].ns_uuid, uuid, 16));
		if (i)
			CHECK(regs[i].start_mfn == regs[i - 1].end_mfn);
	}
	if (regs && n == 4) {
		CHECK(regs[0].type == XP_HV_REGION_META &&
		      regs[1].type == XP_HV_REGION_MGMT &&
		      regs[2].type == XP_HV_REGION_DATA &&
		      regs[3].type == XP_HV_REGION_META);
		CHECK_EQ_U64(regs[0].start_mfn, BASE >> 12);
		CHECK_EQ_U64(regs[3].end_mfn, (BASE + NS_SIZE) >> 12);
		CHECK_STR(xp_hv_region_type_name(regs[1].type), "mgmt");
	}
	free(regs);
	/* Registered already: even a dry run says so. */
	CHECK_RC(xp_hv_register(hv, ns_path, XP_HV_DRY_RUN, &r), -EEXIST);
	CHECK_CONTAINS(xp_last_error(), "register (dry run): refused by the hypervisor");
	CHECK_RC(xp_hv_unregister(hv, ns_path, 0, &r), 0);
	CHECK_RC(xp_hv_register(hv, ns_path, XP_HV_DRY_RUN, &r), 0);
	CHECK(r.ns_id == 0 && r.extents == 2);
	CHECK_RC(xp_hv_query(hv, &regs, &n), 0);
	CHECK(n == 0);
	free(regs);
	xp_hv_close(hv);
}

static void t_meta_read(void)
{
	static uint8_t got[XPHV_META_MAX + 1], want[XPHV_META_MAX];
	uint8_t uuid[16];
	struct xp_hv *hv = fresh(uuid);
	struct xp_info info;
	struct xp_ns *ns;

	if (!hv)
		return;
	CHECK_RC(xp_hv_meta_read(hv, uuid, 0, got, 4096), 0);
	file_read(0, want, 4096);
	CHECK(!memcmp(got, want, 4096));
	CHECK_RC(xp_hv_meta_read(hv, uuid, XP_TABLE_OFFSET, got, XPHV_META_MAX),
		 0);
	file_read(XP_TABLE_OFFSET, want, XPHV_META_MAX);
	CHECK(!memcmp(got, want, XPHV_META_MAX));
	CHECK_RC(xp_hv_meta_read(hv, uuid, NS_SIZE - 4096, got, 4096), 0);
	file_read(NS_SIZE - 4096, want, 4096);
	CHECK(!memcmp(got, want, 4096));

	/* Never the management area, never an extent. */
	CHECK_RC(xp_ns_open(ns_path, 0, &ns), 0);
	CHECK_RC(xp_ns_get_info(ns, &info), 0);
	xp_ns_close(ns);
	CHECK_RC(xp_hv_meta_read(hv, uuid, info.mgmt_offset, got, 4096),
		 -EACCES);
	CHECK_CONTAINS(xp_last_error(), "metadata access outside the superblocks");
	CHECK_RC(xp_hv_meta_read(hv, uuid, info.data_offset, got, 64), -EACCES);
	CHECK_RC(xp_hv_meta_read(hv, uuid, NS_SIZE - 8192, got, 8192),
		 -EACCES);
	CHECK_RC(xp_hv_meta_read(hv, uuid, 0, got, 0), -EINVAL);
	CHECK_RC(xp_hv_meta_read(hv, uuid, 0, got, XPHV_META_MAX + 1), -EINVAL);
	CHECK_RC(xp_hv_meta_read(hv, uuid_n(9), 0, got, 16), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "namespace is not registered");
	xp_hv_close(hv);
}

/* Slot @slot as on media, and the copy and seq the next update uses. */
static void slot_now(uint32_t slot, struct xp_sb *sb, struct xp_slot *s,
		     int *next, uint64_t *seq)
{
	uint8_t blk[XP_SB_BLOCK], raw[XP_SLOT_SIZE];
	const char *field;

	file_read(0, blk, sizeof(blk));
	CHECK_ST(xp_sb_decode(blk, sizeof(blk), NS_SIZE, false, sb, &field),
		 XP_OK);
	file_read(xp_slot_offset(slot), raw, sizeof(raw));
	xp_slot_decode(sb, slot, raw, s);
	*next = xp_slot_next_copy(s, seq);
	CHECK(*next >= 0);
}

static int find_slot(const char *name)
{
	struct xp_extent e;
	struct xp_ns *ns;
	int rc;

	rc = xp_ns_open(ns_path, 0, &ns);
	if (rc)
		return -1;
	rc = xp_ns_extent_find(ns, name, &e);
	xp_ns_close(ns);
	return rc ? -1 : (int)e.slot;
}

static void t_meta_write(void)
{
	uint8_t uuid[16], copy[XP_REC_SIZE], cur[XP_REC_SIZE];
	struct xp_hv *hv = fresh(uuid);
	struct xp_hv_mapping m;
	struct xp_slot s;
	struct xp_sb sb;
	struct xp_rec rec;
	uint64_t seq;
	int next, slot = find_slot("a");
	char args[128];

	if (!hv || slot < 0)
		return;

	/* A rename, as Dom0 writes it: the other copy, a newer seq. */
	slot_now((uint32_t)slot, &sb, &s, &next, &seq);
	rec = s.rec;
	rec.seq = seq;
	snprintf(rec.name, sizeof(rec.name), "renamed");
	xp_rec_encode(&sb, (uint32_t)slot, &rec, copy);
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), 0);
	CHECK(find_slot("renamed") == slot && find_slot("a") < 0);
	/* The same record again: its seq is no longer above the current. */
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot,
				  (uint32_t)(1 - next), copy), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "sequence");
	/* The current copy with another payload. */
	rec.seq = seq;
	snprintf(rec.name, sizeof(rec.name), "other");
	xp_rec_encode(&sb, (uint32_t)slot, &rec, copy);
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "current copy");
	/* A damaged record. */
	slot_now((uint32_t)slot, &sb, &s, &next, &seq);
	rec = s.rec;
	rec.seq = seq;
	xp_rec_encode(&sb, (uint32_t)slot, &rec, copy);
	copy[20] ^= 0x40;
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "new record copy is invalid");
	file_read(xp_slot_offset((uint32_t)slot) + (uint64_t)next * XP_REC_SIZE,
		  cur, sizeof(cur));
	CHECK(memcmp(cur, copy, sizeof(cur)));

	/* Mapped into its owner: a rename goes through, a new owner not. */
	{
		char u[XP_UUID_STR_LEN];

		xp_uuid_format(uuid_n(1), u);
		snprintf(args, sizeof(args), "domain-create 3 %s", u);
		CHECK(hv_tool(args) == 0);
	}
	CHECK_RC(xp_hv_map(hv, ns_path, "renamed", uuid_n(1), 0x80000, 0, &m), 0);
	CHECK(m.domid == 3 && m.nr_frames == 1024 && m.superpages == 2);
	CHECK_RC(xp_hv_map(hv, ns_path, "b", uuid_n(1), 0x90000, 0, &m), -EACCES);
	CHECK_CONTAINS(xp_last_error(), "not the extent's owner");
	slot_now((uint32_t)slot, &sb, &s, &next, &seq);
	rec = s.rec;
	rec.seq = seq;
	memcpy(rec.owner, uuid_n(2), 16);
	xp_rec_encode(&sb, (uint32_t)slot, &rec, copy);
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), -EBUSY);
	CHECK_CONTAINS(xp_last_error(), "mapped or lent extent");
	rec = s.rec;
	rec.seq = seq;
	snprintf(rec.name, sizeof(rec.name), "again");
	xp_rec_encode(&sb, (uint32_t)slot, &rec, copy);
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), 0);
	CHECK(find_slot("again") == slot);
	/* Unregister waits for the unmap. */
	{
		struct xp_hv_ns r;

		CHECK_RC(xp_hv_unregister(hv, ns_path, 0, &r), -EBUSY);
		CHECK_CONTAINS(xp_last_error(), "1 extent mapped");
		CHECK_RC(xp_hv_unmap(hv, ns_path, "again", uuid_n(1), 0, &m), 0);
		CHECK(m.gfn == 0x80000 && m.nr_frames == 1024);
		CHECK_RC(xp_hv_unregister(hv, ns_path, 0, &r), 0);
	}
	/* Not registered any more: no metadata path either. */
	CHECK_RC(xp_hv_meta_write(hv, uuid, (uint32_t)slot, (uint32_t)next,
				  copy), -ENOENT);
	xp_hv_close(hv);
}

/*
 * An extent lent as RAM: at register its first frames become its own
 * frame table (records marked as the heap's), the rest the heap's; it is
 * a RAM region, never mapped, and keeps the namespace registered.
 */
static void t_lent_ram(void)
{
	struct xp_init_opts o = {.align = GiB};
	struct xp_create_opts c = {.name = "ram", .size = GiB, .align = GiB};
	const uint64_t size = 3 * GiB;
	struct xp_hv_region *regs = NULL;
	struct xp_hv_mapping m;
	struct xp_extent e;
	struct xp_hv_ns r;
	struct xp_hv *hv;
	struct xp_ns *ns;
	uint8_t rec[32];
	uint32_t n = 0;
	char args[128], u[XP_UUID_STR_LEN];
	int fd;

	stop_hv();
	unlink(ns_path);
	fd = open(ns_path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(ns_path);
		exit(2);
	}
	close(fd);
	CHECK_RC(xp_ns_init(ns_path, &o, NULL), 0);
	CHECK_RC(xp_ns_open(ns_path, XP_OPEN_WRITE, &ns), 0);
	CHECK_RC(xp_extent_create(ns, &c, &e), 0);
	CHECK_RC(xp_extent_set_state(ns, "ram", XP_EXTENT_LENT_RAM), 0);
	xp_ns_close(ns);

	start_hv();
	CHECK_RC(xp_hv_open(hv_spec, &hv), 0);
	if (!hv)
		return;
	CHECK_RC(xp_hv_register(hv, ns_path, 0, &r), 0);
	CHECK_EQ_U64(r.ram_frames, GiB >> 12);
	CHECK_RC(xp_hv_query(hv, &regs, &n), 0);
	for (uint32_t i = 0; i < n; i++)
		if (regs[i].type == XP_HV_REGION_RAM) {
			CHECK_EQ_U64(regs[i].start_mfn, e.first_mfn);
			CHECK_EQ_U64(regs[i].end_mfn, e.first_mfn + e.nr_frames);
		}
	CHECK(n == 4 && regs[2].type == XP_HV_REGION_RAM);
	free(regs);

	/* Frame mfn's record sits in the extent's own first chunks. */
	for (uint64_t k = 0; k < e.nr_frames; k += e.nr_frames / 8 - 1) {
		uint64_t mfn = e.first_mfn + k, ci, pi_mfn;

		file_read(e.offset + k * 32, rec, sizeof(rec));
		memcpy(&ci, rec, 8);
		memcpy(&pi_mfn, rec + 16, 8);
		CHECK_EQ_U64(pi_mfn, mfn);
		CHECK_EQ_U64(ci, MODELHV_PGC_HEAP | MODELHV_PGC_FREE);
	}

	xp_uuid_format(uuid_n(1), u);
	snprintf(args, sizeof(args), "domain-create 3 %s", u);
	CHECK(hv_tool(args) == 0);
	CHECK_RC(xp_hv_map(hv, ns_path, "ram", uuid_n(1), 0, 0, &m), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "lent to the hypervisor as RAM");
	CHECK_RC(xp_hv_unregister(hv, ns_path, 0, &r), -EBUSY);
	CHECK_CONTAINS(xp_last_error(), "one-way until reboot");
	xp_hv_close(hv);
}

/* The model restarted under an open handle: the request fails, one line. */
static void t_hv_goes_away(void)
{
	struct xp_hv_region *regs;
	uint8_t uuid[16];
	struct xp_hv *hv = fresh(uuid);
	uint32_t n;

	if (!hv)
		return;
	stop_hv();
	CHECK(xp_hv_query(hv, &regs, &n) < 0);
	CHECK_CONTAINS(xp_last_error(), "went away");
	CHECK(!strchr(xp_last_error(), '\n'));
	xp_hv_close(hv);
}

/*
 * The Xen backend end to end: libxencall's hypercalls (the fake passes
 * them on to the model as the patched Xen would act on them) for
 * register, query, metadata, map and unmap. Both conventions of the
 * hypercall's return value (the reply's error, as xen/patches does, or 0)
 * give the same answer.
 */
static void t_xen_backend(void)
{
	static uint8_t got[8192], want[8192];
	char fake[160], doms[128], u[XP_UUID_STR_LEN], args[128];
	struct xp_hv_region *regs = NULL;
	struct xp_hv_mapping m;
	struct xp_hv_ns r;
	uint8_t uuid[16];
	struct xp_hv *model = fresh(uuid), *xen = NULL;
	uint32_t n = 0;
	FILE *f;

	if (!model || !fake_xen()) {
		xp_hv_close(model);
		return;
	}
	CHECK_RC(xp_hv_unregister(model, ns_path, 0, &r), 0);
	setenv("XENPMEM_XEN_PRIVCMD", dir, 1);
	/* A Xen without the series, one with another sysctl version. */
	setenv("XENPMEM_FAKE_XEN", "enosys", 1);
	CHECK_RC(xp_hv_open("xen", &xen), 0);
	if (xen) {
		CHECK_RC(xp_hv_register(xen, ns_path, 0, &r), -EOPNOTSUPP);
		CHECK_CONTAINS(xp_last_error(), "'xenpmem export NAME --format xl-iomem'");
		/* map says so before it looks for the domain */
		CHECK_RC(xp_hv_map(xen, ns_path, "a", uuid_n(1), 0, 0, &m),
			 -EOPNOTSUPP);
		CHECK_CONTAINS(xp_last_error(), "'xenpmem export a --format xl-iomem'");
		xp_hv_close(xen);
		xen = NULL;
	}
	setenv("XENPMEM_FAKE_XEN", "eacces", 1);
	CHECK_RC(xp_hv_open("xen", &xen), 0);
	if (xen) {
		CHECK_RC(xp_hv_register(xen, ns_path, 0, &r), -EPROTO);
		CHECK_CONTAINS(xp_last_error(), "interface version 0x15");
		xp_hv_close(xen);
		xen = NULL;
	}
	snprintf(fake, sizeof(fake), "model:%s", sock);
	setenv("XENPMEM_FAKE_XEN", fake, 1);
	CHECK_RC(xp_hv_open("xen", &xen), 0);
	if (!xen)
		goto out;
	CHECK_RC(xp_hv_register(xen, ns_path, XP_HV_DRY_RUN, &r), 0);
	CHECK_RC(xp_hv_register(xen, ns_path, 0, &r), 0);
	CHECK(r.ns_id >= 1 && r.extents == 2);
	CHECK_RC(xp_hv_query(xen, &regs, &n), 0);
	CHECK(n == 4 && regs && !memcmp(regs[0].ns_uuid, uuid, 16));
	free(regs);
	CHECK_RC(xp_hv_meta_read(xen, uuid, XP_TABLE_OFFSET, got, sizeof(got)),
		 0);
	file_read(XP_TABLE_OFFSET, want, sizeof(want));
	CHECK(!memcmp(got, want, sizeof(want)));

	/* The domain's id comes from xenstore (its file stand-in here). */
	xp_uuid_format(uuid_n(1), u);
	snprintf(args, sizeof(args), "domain-create 4 %s", u);
	CHECK(hv_tool(args) == 0);
	snprintf(doms, sizeof(doms), "%s/domains", dir);
	f = fopen(doms, "w");
	if (f) {
		fprintf(f, "0 Domain-0 00000000-0000-0000-0000-000000000000\n"
			   "4 guest %s\n", u);
		fclose(f);
	}
	setenv("XENPMEM_XEN_DOMAINS", doms, 1);
	CHECK_RC(xp_hv_map(xen, ns_path, "a", uuid_n(1), 0x80000, 0, &m), 0);
	CHECK(m.domid == 4 && m.nr_frames == 1024 && m.superpages == 2);
	/* A refusal, both ways Xen may return it. */
	CHECK_RC(xp_hv_map(xen, ns_path, "a", uuid_n(1), 0x90000, 0, &m), -EEXIST);
	CHECK_CONTAINS(xp_last_error(), "map of extent 'a' into d4: refused by "
			"the hypervisor (xen)");
	setenv("XENPMEM_FAKE_XEN_RC", "0", 1);
	CHECK_RC(xp_hv_map(xen, ns_path, "a", uuid_n(1), 0x90000, 0, &m), -EEXIST);
	CHECK_CONTAINS(xp_last_error(), "map of extent 'a' into d4: refused by "
			"the hypervisor (xen)");
	CHECK_RC(xp_hv_meta_read(xen, uuid, 0, got, 0), -EINVAL);
	CHECK_RC(xp_hv_meta_read(xen, uuid_n(9), 0, got, 16), -ENOENT);
	CHECK_CONTAINS(xp_last_error(), "namespace is not registered");
	unsetenv("XENPMEM_FAKE_XEN_RC");
	/* The handed-over namespace through Xen. */
	{
		char target[64];
		struct xp_ns *ns;
		struct xp_extent e;

		snprintf(target, sizeof(target), "hv:");
		xp_uuid_format(uuid, target + 3);
		CHECK_RC(xp_ns_open_hv(xen, target, XP_OPEN_WRITE, &ns), 0);
		if (ns) {
			CHECK_RC(xp_extent_rename(ns, "a", "a2", 0), 0);
			CHECK_RC(xp_extent_assign(ns, "a2", uuid_n(2)), -EBUSY);
			CHECK_CONTAINS(xp_last_error(), "mapped or lent extent");
			xp_ns_close(ns);
		}
		CHECK(find_slot("a2") >= 0);
		CHECK_RC(xp_hv_unmap(xen, target, "a2", uuid_n(1), 0, &m), 0);
		CHECK(m.gfn == 0x80000);
		CHECK_RC(xp_ns_open(ns_path, 0, &ns), 0);
		if (ns) {
			CHECK_RC(xp_ns_extent_find(ns, "a2", &e), 0);
			CHECK(!memcmp(e.owner, uuid_n(1), 16));
			xp_ns_close(ns);
		}
	}
	CHECK_RC(xp_hv_unregister(xen, ns_path, 0, &r), 0);
	xp_hv_close(xen);
out:
	xp_hv_close(model);
	unsetenv("XENPMEM_XEN_DOMAINS");
	unsetenv("XENPMEM_FAKE_XEN");
	unsetenv("XENPMEM_XEN_PRIVCMD");
}

static void table_read(uint8_t *buf, size_t len)
{
	file_read(XP_TABLE_OFFSET, buf, len);
}

/*
 * The media backend over the hypervisor (src/lib/media_hv.c): "hv:UUID"
 * opens the registered namespace through META_READ/META_WRITE. Every
 * mutation keeps the library's protocol, and the hypervisor has the last
 * word: a change of a mapped extent is refused and the media is left as
 * it was. The namespace file is renamed away first, so nothing can reach
 * it but the hypervisor (which keeps it open).
 */
static void t_media_hv(void)
{
	static uint8_t before[16384], after[16384];
	struct xp_create_opts c = {.name = "c", .size = 4 * MiB};
	char target[64], moved[128], args[128], u[XP_UUID_STR_LEN];
	struct xp_hv_mapping m;
	struct xp_extent e;
	struct xp_info info;
	struct xp_ns *ns = NULL;
	uint8_t uuid[16];
	struct xp_hv *hv = fresh(uuid);
	char saved[sizeof(ns_path)];
	int slot;

	if (!hv)
		return;
	snprintf(target, sizeof(target), "hv:");
	xp_uuid_format(uuid, target + 3);
	xp_uuid_format(uuid_n(1), u);
	snprintf(args, sizeof(args), "domain-create 5 %s", u);
	CHECK(hv_tool(args) == 0);
	CHECK_RC(xp_hv_map(hv, ns_path, "a", uuid_n(1), 0x80000, 0, &m), 0);
	snprintf(moved, sizeof(moved), "%s/handed-over.img", dir);
	CHECK(rename(ns_path, moved) == 0);
	/* file_read() reads the test's view of the media from there now. */
	memcpy(saved, ns_path, sizeof(saved));
	snprintf(ns_path, sizeof(ns_path), "%s", moved);

	/* xp_ns_open of hv:UUID asks $XENPMEM_HV. */
	unsetenv("XENPMEM_HV");
	setenv("XENPMEM_XEN_PRIVCMD", "/nonexistent/privcmd", 1);
	CHECK_RC(xp_ns_open(target, 0, &ns), -ENODEV);
	CHECK_CONTAINS(xp_last_error(), "not running on Xen");
	unsetenv("XENPMEM_XEN_PRIVCMD");
	setenv("XENPMEM_HV", hv_spec, 1);
	CHECK_RC(xp_ns_open("hv:not-a-uuid", 0, &ns), -EINVAL);
	CHECK_CONTAINS(xp_last_error(), "'hv:' takes the UUID");
	{
		char other[64] = "hv:";

		xp_uuid_format(uuid_n(9), other + 3);
		CHECK_RC(xp_ns_open(other, 0, &ns), -ENOENT);
		CHECK_CONTAINS(xp_last_error(), "no namespace with this UUID "
				"is registered");
	}
	CHECK_RC(xp_ns_open(target, 0, &ns), 0);
	if (ns) {
		CHECK_RC(xp_ns_get_info(ns, &info), 0);
		CHECK(!memcmp(info.uuid, uuid, 16) && info.extent_count == 2);
		CHECK_EQ_U64(info.ns_size, NS_SIZE);
		CHECK(info.phys_known && info.phys_base == BASE);
		CHECK_STR(xp_backend_name(info.backend), "hypervisor");
		CHECK_STR(info.target, target);
		/* read-only handle: no write */
		CHECK_RC(xp_extent_rename(ns, "b", "x", 0), -EBADF);
		xp_ns_close(ns);
	}

	/* create, assign, destroy while "a" is mapped */
	CHECK_RC(xp_ns_open(target, XP_OPEN_WRITE, &ns), 0);
	if (!ns)
		goto out;
	/* Zeroing is extent data, which the hypervisor does not serve. */
	file_read(XP_TABLE_OFFSET, before, sizeof(before));
	CHECK_RC(xp_extent_create(ns, &c, &e), -EROFS);
	CHECK_CONTAINS(xp_last_error(), "its new range cannot be zeroed");
	CHECK_CONTAINS(xp_last_error(), "--no-zero");
	table_read(after, sizeof(after));
	CHECK(!memcmp(before, after, sizeof(before)));
	c.flags = XP_NO_ZERO;
	CHECK_RC(xp_extent_create(ns, &c, &e), 0);
	CHECK_RC(xp_extent_assign(ns, "c", uuid_n(3)), 0);
	CHECK_RC(xp_extent_resize(ns, "c", 2 * MiB, XP_FORCE | XP_NO_ZERO, NULL,
				  NULL), 0);
	CHECK_RC(xp_extent_rename(ns, "a", "a-renamed", 0), 0);
	CHECK_RC(xp_extent_destroy(ns, "c", XP_FORCE), 0);
	/* The library's own rules first: nothing reaches the hypervisor. */
	c.name = "b";
	CHECK_RC(xp_extent_create(ns, &c, NULL), -EEXIST);
	c.name = "huge";
	c.size = NS_SIZE;
	CHECK_RC(xp_extent_create(ns, &c, NULL), -ENOSPC);

	/* The hypervisor's validation: a mapped extent keeps its owner. */
	file_read(XP_TABLE_OFFSET, before, sizeof(before));
	CHECK_RC(xp_extent_assign(ns, "a-renamed", uuid_n(2)), -EBUSY);
	CHECK_CONTAINS(xp_last_error(), "record write: refused by the "
			"hypervisor");
	CHECK_CONTAINS(xp_last_error(), "mapped or lent extent");
	CHECK_RC(xp_extent_destroy(ns, "a-renamed", XP_FORCE), -EBUSY);
	CHECK_RC(xp_extent_resize(ns, "a-renamed", 2 * MiB,
				  XP_FORCE | XP_NO_ZERO, NULL, NULL), -EBUSY);
	table_read(after, sizeof(after));
	CHECK(!memcmp(before, after, sizeof(before)));

	/* What needs the namespace unregistered. */
	c.name = "spare";
	c.size = 2 * MiB;
	CHECK_RC(xp_extent_create(ns, &c, NULL), 0);
	CHECK_RC(xp_extent_wipe(ns, "spare", XP_FORCE, NULL, NULL), -EROFS);
	CHECK_CONTAINS(xp_last_error(), "registered with the hypervisor");
	CHECK_CONTAINS(xp_last_error(), "'xenpmem unregister'");
	CHECK_RC(ns->media->ops->write(ns->media, 0, before, 64), -EROFS);
	CHECK_CONTAINS(xp_last_error(), "changing a superblock needs it "
			"unregistered first");
	CHECK_RC(ns->media->ops->write(ns->media, XP_TABLE_OFFSET, before, 64),
		 -EROFS);
	CHECK_RC(ns->media->ops->write(ns->media, XP_TABLE_OFFSET + 8, before,
				       8), -EROFS);
	xp_ns_close(ns);
	{
		struct xp_init_opts o = {.align = 2 * MiB};

		CHECK(xp_ns_init(target, &o, NULL) < 0);
		CHECK_CONTAINS(xp_last_error(), "registered with the hypervisor");
	}

	/*
	 * A torn copy under the next update: slot_commit's seq word goes
	 * first behind its own fence; META_WRITE does that step itself, so
	 * the backend absorbs it and sends the whole copy.
	 */
	CHECK_RC(xp_ns_open(target, XP_OPEN_WRITE, &ns), 0);
	if (!ns)
		goto out;
	slot = xp_ns_find_slot(ns, "b");
	CHECK(slot >= 0);
	if (slot >= 0) {
		struct xp_slot *s = &ns->slots[slot];
		int other = s->active >= 0 ? 1 - s->active : 0;
		uint8_t junk[XP_REC_SIZE];
		int fd = open(moved, O_WRONLY);

		/* Dom0 cannot reach the file after the hand-off; the test
		 * tears the copy behind everyone's back. */
		memset(junk, 0x5a, sizeof(junk));
		CHECK(fd >= 0 && pwrite(fd, junk, 40, (off_t)(xp_slot_offset(
			(uint32_t)slot) + (uint64_t)other * XP_REC_SIZE)) == 40);
		if (fd >= 0)
			close(fd);
		xp_ns_close(ns);
		CHECK_RC(xp_ns_open(target, XP_OPEN_WRITE, &ns), 0);
		if (ns) {
			CHECK(ns->slots[slot].copy_status[other] != XP_OK &&
			      ns->slots[slot].copy_status[other] != XP_E_BLANK);
			CHECK_RC(xp_extent_rename(ns, "b", "b2", 0), 0);
			xp_ns_close(ns);
		}
		CHECK_RC(xp_ns_open(target, 0, &ns), 0);
		if (ns) {
			CHECK_RC(xp_ns_extent_find(ns, "b2", &e), 0);
			CHECK(ns->slots[slot].active == other);
			CHECK(ns->slots[slot].copy_status[other] == XP_OK);
		}
	}
	xp_ns_close(ns);
	ns = NULL;
out:
	CHECK_RC(xp_hv_unmap(hv, target, "a-renamed", uuid_n(1), 0, &m), 0);
	{
		struct xp_hv_ns r;

		CHECK_RC(xp_hv_unregister(hv, target, 0, &r), 0);
	}
	xp_hv_close(hv);
	unsetenv("XENPMEM_HV");
	memcpy(ns_path, saved, sizeof(saved));
	rename(moved, ns_path);
}

int main(int argc, char **argv)
{
	lib_test_init(argc, argv);
	modelhv = getenv("XENPMEM_MODELHV");
	if (!modelhv || access(modelhv, X_OK)) {
		fprintf(stderr, "XENPMEM_MODELHV must name xenpmem-modelhv\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/xenpmem-hv.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(ns_path, sizeof(ns_path), "%s/ns.img", dir);
	snprintf(sock, sizeof(sock), "%s/hv.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/hv.log", dir);
	snprintf(hv_spec, sizeof(hv_spec), "model:%s", sock);
	setenv("XENPMEM_FILE_PHYS_BASE", "0x1000000000", 1);
	signal(SIGPIPE, SIG_IGN);

	RUN(t_open_specs);
	RUN(t_query_and_dry_run);
	RUN(t_meta_read);
	RUN(t_meta_write);
	RUN(t_lent_ram);
	RUN(t_hv_goes_away);
	RUN(t_xen_backend);
	RUN(t_media_hv);

	stop_hv();
	unlink(ns_path);
	unlink(sock);
	unlink(log_path);
	rmdir(dir);
	return xt_finish();
}
