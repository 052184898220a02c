// SPDX-License-Identifier: MIT
/*
 * The QEMU and libvirt exports: a memory-backend-file plus an nvdimm
 * device over the extent. Both describe the same backend, picked once.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "export.h"
#include "util.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

extern char **environ;

bool export_parse_qemu_version(const char *s, unsigned *out)
{
	unsigned long major, minor;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	major = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	minor = strtoul(end + 1, &end, 10);
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		strtoul(end + 1, &end, 10);
	if (*end || major > 999 || minor > 99)
		return false;
	*out = (unsigned)(major * 100 + minor);
	return true;
}

unsigned export_probe_qemu_version(void)
{
	const char *qemu = getenv("XENPMEM_QEMU");
	char *argv[] = {NULL, "--version", NULL};
	posix_spawn_file_actions_t fa;
	char buf[256], *v;
	unsigned version = 0;
	int pipefd[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	argv[0] = (char *)(qemu && *qemu ? qemu : "qemu-system-x86_64");
	if (pipe2(pipefd, O_CLOEXEC))
		return 0;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ))
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	while (pid > 0 && (size_t)got < sizeof(buf) - 1) {
		n = read(pipefd[0], buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(pipefd[0]);
	if (pid <= 0)
		return 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	buf[got] = '\0';
	/* "QEMU emulator version 7.2.22 (Debian ...)" */
	v = strstr(buf, "version ");
	if (v && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		char word[32];

		if (sscanf(v + 8, "%31[0-9.]", word) == 1 &&
		    !export_parse_qemu_version(word, &version))
			version = 0;
	}
	return version;
}

void export_qemu_id(const char *prefix, const char *name, char *out,
		    size_t len)
{
	size_t n = (size_t)snprintf(out, len, "%s", prefix);

	for (; *name && n + 3 < len; name++) {
		switch (*name) {
		case '_':
			out[n++] = '_';
			out[n++] = '_';
			break;
		case '+':
			out[n++] = '_';
			out[n++] = 'p';
			break;
		case ':':
			out[n++] = '_';
			out[n++] = 'c';
			break;
		default:	/* the rest of the name rule: A-Za-z0-9 . - */
			out[n++] = *name;
		}
	}
	out[n] = '\0';
}

/*
 * Whether @path maps with MAP_SYNC, as QEMU's pmem=on asks: only DAX
 * (device DAX, a file on a DAX filesystem) does. A block device, even a
 * DAX-capable dm device over pmem, maps through the page cache.
 */
static bool maps_sync(const char *path, uint64_t offset, uint64_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	void *p;

	if (fd < 0)
		return false;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd,
		 (off_t)offset);
	close(fd);
	if (p == MAP_FAILED)
		return false;
	munmap(p, len);
	return true;
}

static void set_path(struct export_backend *be, const char *path)
{
	snprintf(be->path, sizeof(be->path), "%s", path);
}

int export_backend_pick(const struct export_ctx *c, bool offset_ok,
			struct export_backend *be)
{
	const struct xp_extent *e = c->ext;
	const struct xp_info *in = c->info;
	bool ns_mappable = in->backend == XP_BACKEND_FILE ||
			   in->backend == XP_BACKEND_DEVDAX;
	bool active = c->act.kind != XP_ACT_NONE;

	memset(be, 0, sizeof(*be));
	if (e->label_size && e->label_size < EXPORT_QEMU_MIN_LABEL)
		return cli_fail(c->cmd,
				"extent '%s': its label area of %llu KiB is smaller than QEMU's minimum nvdimm label-size of 128 KiB (MIN_NAMESPACE_LABEL_SIZE)",
				e->name,
				(unsigned long long)(e->label_size >> 10));
	/* A loop device deactivated while in use goes at its last close. */
	if (active && c->act.detaching)
		return cli_fail(c->cmd,
				"extent '%s': %s is detaching (deactivated while in use): run 'xenpmem activate %s %s' to keep it",
				e->name, c->act.device, e->name, in->target);
	/*
	 * QEMU keeps the guest's label area in the last label-size bytes of
	 * the backend and gives the guest the rest: the whole extent, [data |
	 * label area], is exactly that layout. An activation covering all of
	 * it, or offset= into the namespace, gives the guest both.
	 */
	if (active && c->act.offset == e->offset && c->act.size == e->size) {
		set_path(be, c->act.device);
		be->size = e->size;
		be->label_size = e->label_size;
	} else if (offset_ok && ns_mappable && (!active || e->label_size)) {
		set_path(be, in->target);
		be->use_offset = true;
		be->offset = e->offset;
		be->size = e->size;
		be->label_size = e->label_size;
	} else if (active && c->act.offset == e->offset &&
		   c->act.size == c->data_size) {
		/*
		 * The device covers the data only: the guest gets its data
		 * and no label area, rather than a backend whose last bytes
		 * QEMU would take from the data for labels.
		 */
		set_path(be, c->act.device);
		be->size = c->data_size;
		if (e->label_size)
			cli_notice(c->cmd,
				   "extent '%s': the guest gets no label area: %s covers the data only (%s); 'activate --with-label' covers both",
				   e->name, c->act.device,
				   offset_ok ? "no offset= into this namespace" :
					       c->no_offset_why);
	} else if (active) {
		return cli_fail(c->cmd,
				"extent '%s': %s covers namespace bytes %llu+%llu, not the extent's: run 'xenpmem deactivate %s %s' and activate it again",
				e->name, c->act.device,
				(unsigned long long)c->act.offset,
				(unsigned long long)c->act.size, e->name,
				in->target);
	} else if (in->backend == XP_BACKEND_BLOCK) {
		return cli_fail(c->cmd,
				"extent '%s': %s is not handed to a guest as it is (QEMU would map it through the page cache, and the guest could reach past the extent): run 'xenpmem activate %s %s' first",
				e->name, in->target, e->name, in->target);
	} else if (in->backend == XP_BACKEND_HV) {
		return cli_fail(c->cmd,
				"extent '%s': the namespace is registered with the hypervisor, so Dom0 cannot map it: use --format xl",
				e->name);
	} else if (in->backend == XP_BACKEND_DEVDAX) {
		return cli_fail(c->cmd,
				"extent '%s': device DAX cannot be activated, and %s",
				e->name, c->no_offset_why);
	} else {
		return cli_fail(c->cmd,
				"extent '%s' is not active (%s): run 'xenpmem activate %s %s' first",
				e->name, c->no_offset_why, e->name,
				in->target);
	}
	be->pmem = maps_sync(be->path, be->offset, e->align);
	return 0;
}

/*
 * The QEMU line is pasted into a shell: a word with anything but plain
 * characters gets single quotes.
 */
static void put_shell_word(const char *s)
{
	const char *safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789,._+:=/@%-";

	if (s[strspn(s, safe)] == '\0') {
		fputs(s, stdout);
		return;
	}
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

/* QEMU option values end at a comma; a literal comma is written twice. */
static void append_qemu_value(char *buf, size_t len, const char *v)
{
	size_t n = strlen(buf);

	for (; *v && n + 2 < len; v++) {
		buf[n++] = *v;
		if (*v == ',')
			buf[n++] = ',';
	}
	buf[n] = '\0';
}

int export_print_qemu(const struct export_ctx *c)
{
	const struct xp_extent *e = c->ext;
	char obj[1024], dev[256], mem_id[80], nv_id[80];
	struct export_backend be;
	size_t n;
	int rc;

	rc = export_backend_pick(c, c->qemu_version >= 801, &be);
	if (rc)
		return rc;
	export_qemu_id("xp-", e->name, mem_id, sizeof(mem_id));
	export_qemu_id("nv-", e->name, nv_id, sizeof(nv_id));
	snprintf(obj, sizeof(obj), "memory-backend-file,id=%s,mem-path=",
		 mem_id);
	append_qemu_value(obj, sizeof(obj), be.path);
	n = strlen(obj);
	if (be.use_offset)
		n += (size_t)snprintf(obj + n, sizeof(obj) - n, ",offset=%llu",
				      (unsigned long long)be.offset);
	snprintf(obj + n, sizeof(obj) - n, ",size=%llu,share=on,align=%llu%s",
		 (unsigned long long)be.size, (unsigned long long)e->align,
		 be.pmem ? ",pmem=on" : "");
	n = (size_t)snprintf(dev, sizeof(dev), "nvdimm,id=%s,memdev=%s",
			     nv_id, mem_id);
	if (be.label_size)
		snprintf(dev + n, sizeof(dev) - n, ",label-size=%llu",
			 (unsigned long long)be.label_size);

	fputs("-object ", stdout);
	put_shell_word(obj);
	fputs(" -device ", stdout);
	put_shell_word(dev);
	putchar('\n');
	return CLI_EXIT_OK;
}

static void put_xml_text(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", stdout);
			break;
		case '<':
			fputs("&lt;", stdout);
			break;
		case '>':
			fputs("&gt;", stdout);
			break;
		case '\'':
			fputs("&apos;", stdout);
			break;
		case '"':
			fputs("&quot;", stdout);
			break;
		default:
			putchar(*s);
		}
	}
}

/*
 * libvirt's <memory model='nvdimm'>: the same backend as QEMU's without
 * offset= (libvirt has none for it). Its target size counts the label
 * area too, as QEMU's backend size does.
 */
int export_print_libvirt(const struct export_ctx *c)
{
	const struct xp_extent *e = c->ext;
	struct export_backend be;
	int rc;

	rc = export_backend_pick(c, false, &be);
	if (rc)
		return rc;
	printf("<memory model='nvdimm' access='shared'>\n");
	printf("  <source>\n");
	printf("    <path>");
	put_xml_text(be.path);
	printf("</path>\n");
	printf("    <alignsize unit='KiB'>%llu</alignsize>\n",
	       (unsigned long long)(e->align >> 10));
	if (be.pmem)
		printf("    <pmem/>\n");
	printf("  </source>\n");
	printf("  <target>\n");
	printf("    <size unit='KiB'>%llu</size>\n",
	       (unsigned long long)(be.size >> 10));
	printf("    <node>0</node>\n");
	if (be.label_size) {
		printf("    <label>\n");
		printf("      <size unit='KiB'>%llu</size>\n",
		       (unsigned long long)(be.label_size >> 10));
		printf("    </label>\n");
	}
	printf("  </target>\n");
	printf("</memory>\n");
	return CLI_EXIT_OK;
}
