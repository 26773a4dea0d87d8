// SPDX-License-Identifier: GPL-2.0
/*
 * zxmem(1): read and write another process's memory from the shell, through
 * the Zircon C API of <zircon/syscalls.h> and the zxmem module's /dev/zxmem.
 *
 *   zxmem read PID ADDR LEN [--raw] [-o FILE]
 *   zxmem write PID ADDR HEX... | -f FILE | -
 *   zxmem maps PID
 *   zxmem status
 *
 * Every argument is judged before the module is called; exit status 0 when
 * the whole transfer was done, 1 on a Zircon error or a short transfer, 2 on
 * a usage error.  The manual is man/zxmem.1.in.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zircon/syscalls.h>

#ifndef ZXMEM_VERSION
#error "ZXMEM_VERSION is not defined: build with make tools/zxmem (it comes from the file VERSION)"
#endif

#define EXIT_ZX		1	/* a Zircon error, a short transfer, a failure */
#define EXIT_USAGE	2	/* a bad command line, nothing done */

#define SYS_MODULE	"/sys/module/zxmem"
#define SYS_PARAM	SYS_MODULE "/parameters/"

static const char *progname = "zxmem";
static bool no_attach;
static pid_t attached;		/* the process we seized, or 0 */

static void print_help(FILE *out)
{
	fprintf(out,
		"Usage: zxmem read PID ADDR LEN [--raw] [-o FILE]\n"
		"       zxmem write PID ADDR HEX...\n"
		"       zxmem write PID ADDR -f FILE\n"
		"       zxmem write PID ADDR -\n"
		"       zxmem maps PID\n"
		"       zxmem status\n"
		"\n"
		"Read or write the memory of process PID through /dev/zxmem\n"
		"(zx_process_read_memory(), zx_process_write_memory()).\n"
		"\n"
		"ADDR is a number (0x... hex, or decimal) or NAME+OFFSET, NAME a\n"
		"mapping of PID as /proc/PID/maps names it (a file's basename or\n"
		"path, [heap], [stack]) and OFFSET from its lowest address.\n"
		"LEN is 1 to 64 MiB.  HEX is bytes in hex: cc, 90 90, deadbeef.\n"
		"\n"
		"  -r, --raw         read: the bytes alone on stdout, no hexdump\n"
		"  -o, --output FILE read: the bytes into FILE\n"
		"  -f, --file FILE   write: the bytes of FILE (- for stdin)\n"
		"  -n, --no-attach   do not PTRACE_SEIZE the target for the right\n"
		"  -h, --help        this text\n"
		"  -V, --version     the version\n"
		"\n"
		"Exit status: 0 the whole transfer was done; 1 a Zircon error or\n"
		"a short transfer (said on stderr); 2 a usage error.  See zxmem(1).\n");
}

/* A message on stderr, then exit: fprintf() checks the formats. */
#define usage_error(...) do {						\
	fprintf(stderr, "%s: ", progname);				\
	fprintf(stderr, __VA_ARGS__);					\
	fprintf(stderr, "\nTry '%s --help' for more information.\n",	\
		progname);						\
	exit(EXIT_USAGE);						\
} while (0)

#define fail(...) do {							\
	fprintf(stderr, "%s: ", progname);				\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(EXIT_ZX);							\
} while (0)

/*
 * A number: 0x or 0X and hex digits, or decimal digits; nothing else (no
 * sign, no space, no octal).  False when malformed or above ULLONG_MAX.
 */
static bool parse_number(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	int base = 10, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return false;
		if (v > (ULLONG_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static pid_t parse_pid(const char *s)
{
	unsigned long long v;
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isdigit((unsigned char)s[i]))
			usage_error("'%s' is not a process id", s);
	if (!parse_number(s, &v) || v == 0 || v > INT_MAX)
		usage_error("'%s' is not a process id", s);
	return (pid_t)v;
}

/* ---- the target's mappings ------------------------------------------- */

struct mapping {
	unsigned long long start, end;
	char perms[5];
	char *path;		/* "" for an anonymous mapping */
	bool flags_known;	/* VmFlags read from smaps */
	bool io, pfnmap, hugetlb;
};

struct maps {
	struct mapping *map;
	size_t n;
};

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p)
		fail("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		fail("out of memory");
	return p;
}

/* Does this smaps line start a mapping ("START-END PERMS ...")? */
static bool parse_map_line(const char *line, struct mapping *m)
{
	unsigned long long off, inode;
	char dev[32];
	int n = 0;
	const char *path;
	size_t len;

	if (sscanf(line, "%llx-%llx %4s %llx %31s %llu %n", &m->start,
		   &m->end, m->perms, &off, dev, &inode, &n) < 6 || !n)
		return false;
	path = line + n;
	len = strlen(path);
	while (len && (path[len - 1] == '\n' || path[len - 1] == ' '))
		len--;
	m->path = xstrdup(path);
	m->path[len] = '\0';
	m->flags_known = false;
	m->io = false;
	m->pfnmap = false;
	m->hugetlb = false;
	return true;
}

static bool has_flag(const char *vmflags, const char *flag)
{
	const char *p = vmflags;
	size_t len = strlen(flag);

	while ((p = strstr(p, flag))) {
		if ((p == vmflags || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

/*
 * The target's mappings, from /proc/PID/smaps (for VmFlags: io, pf, ht),
 * or /proc/PID/maps where there is no smaps.  Exits when neither can be
 * read: the process is gone, or the caller may not look at it.
 */
static void read_maps(pid_t pid, struct maps *maps)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	struct mapping m;
	FILE *f;
	bool smaps = true;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		smaps = false;
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
		f = fopen(path, "re");
	}
	if (!f) {
		if (errno == ENOENT)
			fail("no process %d", (int)pid);
		fail("cannot read %s: %s", path, strerror(errno));
	}
	maps->map = NULL;
	maps->n = 0;
	while (getline(&line, &cap, f) > 0) {
		if (parse_map_line(line, &m)) {
			m.flags_known = !smaps;
			maps->map = xrealloc(maps->map,
					     (maps->n + 1) * sizeof(m));
			maps->map[maps->n++] = m;
		} else if (smaps && maps->n && !strncmp(line, "VmFlags:", 8)) {
			struct mapping *last = &maps->map[maps->n - 1];

			last->flags_known = true;
			last->io = has_flag(line + 8, "io");
			last->pfnmap = has_flag(line + 8, "pf");
			last->hugetlb = has_flag(line + 8, "ht");
		}
	}
	if (ferror(f))
		fail("cannot read %s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	if (!smaps)
		for (size_t i = 0; i < maps->n; i++)
			maps->map[i].flags_known = false;
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Does mapping path @path answer to @name (basename, path, [heap])? */
static bool name_matches(const char *path, const char *name)
{
	static const char deleted[] = " (deleted)";
	size_t plen = strlen(path), dlen = sizeof(deleted) - 1;
	const char *base;
	size_t blen;

	if (!*path)
		return false;
	if (!strcmp(path, name))
		return true;
	if (path[0] != '/')
		return false;
	if (plen > dlen && !strcmp(path + plen - dlen, deleted))
		plen -= dlen;
	base = basename_of(path);
	blen = plen - (size_t)(base - path);
	if (name[0] == '/')
		return strlen(name) == plen && !strncmp(path, name, plen);
	return strlen(name) == blen && !strncmp(base, name, blen);
}

static const struct mapping *find_mapping(const struct maps *maps,
					  unsigned long long addr)
{
	for (size_t i = 0; i < maps->n; i++)
		if (addr >= maps->map[i].start && addr < maps->map[i].end)
			return &maps->map[i];
	return NULL;
}

/* ---- addresses ------------------------------------------------------- */

struct address {
	const char *text;	/* as given */
	char *name;		/* NAME of NAME+OFFSET, or NULL for a number */
	unsigned long long value;	/* the number, or OFFSET */
};

/*
 * ADDR: a number, or NAME[+OFFSET].  Judged here, before anything is
 * looked up: a string that starts with a digit is a number and nothing
 * else; NAME is non-empty, printable and without spaces; after the last
 * '+' comes OFFSET when it starts with a digit (so "libstdc++.so.6" is a
 * name), and a trailing '+' is malformed.
 */
static void parse_address(const char *s, struct address *a)
{
	const char *plus = strrchr(s, '+');
	size_t namelen, i;

	a->text = s;
	a->name = NULL;
	if (!*s)
		usage_error("empty address");
	if (isdigit((unsigned char)s[0])) {
		if (!parse_number(s, &a->value))
			usage_error("'%s' is not an address: 0x... hex, decimal or NAME+OFFSET",
				    s);
		return;
	}
	a->value = 0;
	namelen = strlen(s);
	if (plus && !plus[1])
		usage_error("'%s' is not an address: no offset after '+'", s);
	if (plus && isdigit((unsigned char)plus[1])) {
		if (!parse_number(plus + 1, &a->value))
			usage_error("'%s' is not an address: '%s' is not an offset",
				    s, plus + 1);
		namelen = (size_t)(plus - s);
	}
	if (!namelen)
		usage_error("'%s' is not an address: no mapping name before '+'",
			    s);
	for (i = 0; i < namelen; i++)
		if (!isgraph((unsigned char)s[i]))
			usage_error("'%s' is not an address: spaces in the name",
				    s);
	a->name = xrealloc(NULL, namelen + 1);
	memcpy(a->name, s, namelen);
	a->name[namelen] = '\0';
}

/*
 * The address @a stands for in process @pid: NAME's lowest address plus
 * OFFSET.  Exits (1) on an unknown or ambiguous name.
 */
static unsigned long long resolve_address(pid_t pid, const struct address *a)
{
	const char *found = NULL;
	unsigned long long low = ULLONG_MAX;
	struct maps maps;

	if (!a->name)
		return a->value;
	read_maps(pid, &maps);
	for (size_t i = 0; i < maps.n; i++) {
		const struct mapping *m = &maps.map[i];

		if (!name_matches(m->path, a->name))
			continue;
		if (found && strcmp(found, m->path))
			fail("'%s' is ambiguous in process %d: %s and %s; give the path",
			     a->name, (int)pid, found, m->path);
		found = m->path;
		if (m->start < low)
			low = m->start;
	}
	if (!found)
		fail("process %d has no mapping named '%s' (see zxmem maps %d)",
		     (int)pid, a->name, (int)pid);
	if (a->value > ULLONG_MAX - low)
		usage_error("'%s' is past the end of the address space", a->text);
	return low + a->value;
}

/* ---- the module's state --------------------------------------------- */

/* A sysfs file's first line, without the newline, or NULL. */
static char *read_line(const char *path)
{
	char buf[256];
	FILE *f = fopen(path, "re");
	size_t len;

	if (!f)
		return NULL;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	len = strlen(buf);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return xstrdup(buf);
}

static bool module_loaded(void)
{
	struct stat st;

	return !stat(SYS_MODULE, &st);
}

/* enable_debugging_syscalls: 1, 0, or -1 when it cannot be read. */
static int writes_enabled(void)
{
	char *v = read_line(SYS_PARAM "enable_debugging_syscalls");
	int on;

	if (!v)
		return -1;
	on = v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
	free(v);
	return on;
}

/* force_override: "always", "ptrace", "never", or NULL. */
static char *force_override(void)
{
	return read_line(SYS_PARAM "force_override");
}

/*
 * What a write into @m answers, the rules of Documentation/zxmem.rst
 * steps 8, 10, 11 and 13 (the right and the gate are the caller's), and
 * the same for a read.  @force is force_override's value, or NULL.
 */
static const char *write_verdict(const struct mapping *m, const char *force)
{
	const char *name = m->path;

	if (!strcmp(name, "[vdso]") || !strncmp(name, "[vvar", 5))
		return "refused: vDSO (ZX_ERR_ACCESS_DENIED)";
	if (!strcmp(name, "[vsyscall]"))
		return "refused: not a VMA (ZX_ERR_NO_MEMORY)";
	if (m->io || m->pfnmap)
		return "refused: I/O memory (ZX_ERR_BAD_STATE)";
	if (m->perms[1] == 'w')
		return "written";
	if (m->perms[3] == 's')
		return "refused: shared read-only (ZX_ERR_ACCESS_DENIED)";
	if (force && !strcmp(force, "never"))
		return "refused: force_override=never (ZX_ERR_ACCESS_DENIED)";
	if (m->hugetlb)
		return "forced copy-on-write (hugetlb: refused on 6.1)";
	if (force && !strcmp(force, "ptrace"))
		return "forced copy-on-write, for a tracer only";
	return "forced copy-on-write";
}

static const char *read_verdict(const struct mapping *m)
{
	if (!strncmp(m->path, "[vvar", 5) || m->io || m->pfnmap)
		return "ZX_ERR_BAD_STATE";
	if (!strcmp(m->path, "[vsyscall]"))
		return "ZX_ERR_NO_MEMORY";
	return "read";
}

/* ---- the right: PTRACE_SEIZE ---------------------------------------- */

/* TracerPid of process @pid: 0 when untraced, -1 when unknown. */
static pid_t tracer_of(pid_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	pid_t tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		int t;

		if (sscanf(line, "TracerPid: %d", &t) == 1) {
			tracer = t;
			break;
		}
	}
	free(line);
	fclose(f);
	return tracer;
}

static void comm_of(pid_t pid, char *buf, size_t size)
{
	char path[64];
	char *comm;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	comm = read_line(path);
	snprintf(buf, size, "%s", comm ? comm : "?");
	free(comm);
}

/*
 * Stop the seized target for a moment (PTRACE_INTERRUPT: PTRACE_DETACH
 * needs a stopped tracee), then detach, handing back a signal it was
 * about to take.  Run at exit; a tracer's exit would detach too.
 */
static void detach_target(void)
{
	pid_t pid = attached;
	int status, sig = 0;
	pid_t w;

	if (!pid)
		return;
	attached = 0;
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0))
		return;
	do {
		w = waitpid(pid, &status, __WALL);
	} while (w < 0 && errno == EINTR);
	if (w != pid || !WIFSTOPPED(status))
		return;
	if ((status >> 16) != PTRACE_EVENT_STOP)
		sig = WSTOPSIG(status);
	ptrace(PTRACE_DETACH, pid, 0, (void *)(long)sig);
}

/*
 * The right over @pid (Documentation/zxmem.rst): a process is its own, or
 * its tracer's.  Attach with PTRACE_SEIZE, which leaves it running, unless
 * --no-attach or it is this process.  Exits when another tracer holds it.
 */
static void attach_target(pid_t pid, const char *what)
{
	char comm[64], *scope;
	pid_t tracer;
	int err;

	if (no_attach || pid == getpid())
		return;
	if (!ptrace(PTRACE_SEIZE, pid, 0, 0)) {
		attached = pid;
		atexit(detach_target);
		return;
	}
	err = errno;
	tracer = tracer_of(pid);
	if (tracer > 0) {
		comm_of(tracer, comm, sizeof(comm));
		fprintf(stderr, "%s: process %d is traced by process %d (%s)\n",
			progname, (int)pid, (int)tracer, comm);
		fail("a process has one tracer: run the %s from that debugger, or detach it",
		     what);
	}
	if (err == ESRCH)
		fail("no process %d", (int)pid);
	scope = read_line("/proc/sys/kernel/yama/ptrace_scope");
	if (err == EPERM && scope && strcmp(scope, "0")) {
		fprintf(stderr, "%s: cannot attach to process %d: %s\n", progname,
			(int)pid, strerror(err));
		fail("kernel.yama.ptrace_scope is %s: only a parent or CAP_SYS_PTRACE may attach",
		     scope);
	}
	fail("cannot attach to process %d: %s (zxmem must trace it: same user, dumpable)",
	     (int)pid, strerror(err));
}

static int open_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0) {
		if (errno == ESRCH)
			fail("no process %d", (int)pid);
		if (errno == EINVAL)
			fail("%d is a thread: give its process (Tgid in /proc/%d/status)",
			     (int)pid, (int)pid);
		fail("pidfd_open(%d): %s", (int)pid, strerror(errno));
	}
	return fd;
}

/* ---- the call and its explanation --------------------------------- */

/* /dev/zxmem, opened as the API will use it; exits with the reason. */
static int device_fd(void)
{
	int fd = zxmem_device_fd();

	if (fd >= 0)
		return fd;
	if (fd == ZX_ERR_NOT_SUPPORTED)
		fail("%s: the zxmem module is not loaded (no %s): modprobe zxmem",
		     zx_status_get_string(fd), ZXMEM_DEVICE_PATH);
	if (fd == ZX_ERR_ACCESS_DENIED)
		fail("%s: you may not open %s (its owner and mode: zxmem status)",
		     zx_status_get_string(fd), ZXMEM_DEVICE_PATH);
	fail("%s: cannot open %s", zx_status_get_string(fd),
	     ZXMEM_DEVICE_PATH);
}

/* One line on why a call answered @status; the caller prints it. */
static void explain(bool write, zx_status_t status, pid_t pid,
		    unsigned long long addr)
{
	const char *why = "an unexpected status for this call";
	const struct mapping *m;
	struct maps maps;
	char buf[160];
	char *force;

	switch (status) {
	case ZX_ERR_NOT_SUPPORTED:
		if (write && writes_enabled() == 0)
			why = "writes are disabled (enable_debugging_syscalls=0)";
		else
			why = "the device does not answer zxmem's ioctls";
		break;
	case ZX_ERR_ACCESS_DENIED:
		if (write && (fcntl(zxmem_device_fd(), F_GETFL) & O_ACCMODE) ==
		    O_RDONLY) {
			why = ZXMEM_DEVICE_PATH " is readable but not writable for you: no writes";
			break;
		}
		if (no_attach && pid != getpid())
			why = "no right: not this process, and not traced (--no-attach)";
		else
			why = "no right: its memory is not dumpable and you lack CAP_SYS_PTRACE";
		if (!write)
			break;
		read_maps(pid, &maps);
		force = force_override();
		m = find_mapping(&maps, addr);
		if (m && !strncmp(write_verdict(m, force), "refused", 7)) {
			snprintf(buf, sizeof(buf), "the mapping is %s: %s",
				 *m->path ? m->path : "anonymous",
				 write_verdict(m, force));
			why = buf;
		} else if (m && force && !strcmp(force, "ptrace") &&
			   m->perms[1] != 'w') {
			why = "force_override=ptrace: only a tracer may write a read-only mapping";
		}
		free(force);
		break;
	case ZX_ERR_NO_MEMORY:
		why = "nothing is mapped at that address (see zxmem maps)";
		break;
	case ZX_ERR_BAD_STATE:
		why = "the process is exiting or a zombie, or the memory is not cacheable (I/O)";
		break;
	case ZX_ERR_INVALID_ARGS:
		why = "the module refused the request's arguments";
		break;
	case ZX_ERR_BAD_HANDLE:
	case ZX_ERR_WRONG_TYPE:
		why = "the module refused zxmem's pidfd";
		break;
	}
	fprintf(stderr, "%s: %s %d at 0x%llx: %s: %s\n", progname,
		write ? "write into process" : "read of process", (int)pid,
		addr, zx_status_get_string(status), why);
}

/* ---- read ------------------------------------------------------------ */

static void hexdump(FILE *out, unsigned long long addr,
		    const unsigned char *buf, size_t len)
{
	for (size_t row = 0; row < len; row += 16) {
		size_t i;

		fprintf(out, "%016llx ", addr + row);
		for (i = 0; i < 16; i++) {
			if (i == 8)
				fputc(' ', out);
			if (row + i < len)
				fprintf(out, " %02x", buf[row + i]);
			else
				fputs("   ", out);
		}
		fputs("  |", out);
		for (i = 0; i < 16 && row + i < len; i++)
			fputc(isprint(buf[row + i]) ? buf[row + i] : '.', out);
		fputs("|\n", out);
	}
}

static int cmd_read(char **argv, int argc, bool raw, const char *output)
{
	struct address a;
	unsigned long long len, addr;
	unsigned char *buf;
	size_t actual = 0;
	zx_status_t status;
	FILE *out = stdout;
	pid_t pid;
	int pidfd, outfd = -1;

	if (argc != 3)
		usage_error("read takes PID ADDR LEN");
	pid = parse_pid(argv[0]);
	parse_address(argv[1], &a);
	if (!parse_number(argv[2], &len))
		usage_error("'%s' is not a length: 0x and hex digits, or decimal digits",
			    argv[2]);
	if (len == 0 || len > ZXMEM_MAX_TRANSFER)
		usage_error("a length is 1 to %lu bytes (64 MiB), not %s",
			    ZXMEM_MAX_TRANSFER, argv[2]);
	if (!a.name && a.value > ULLONG_MAX - len + 1)
		usage_error("%s + %s runs past the end of the address space",
			    argv[1], argv[2]);

	pidfd = open_pidfd(pid);
	addr = resolve_address(pid, &a);
	if (addr > ULLONG_MAX - len + 1)
		usage_error("%s + %s runs past the end of the address space",
			    argv[1], argv[2]);
	buf = malloc(len);
	if (!buf)
		fail("out of memory for %llu bytes", len);
	if (output) {
		/* Judged now; emptied only once there is something to put. */
		outfd = open(output, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		out = outfd < 0 ? NULL : fdopen(outfd, "w");
		if (!out)
			usage_error("cannot write %s: %s", output,
				    strerror(errno));
	}
	device_fd();
	attach_target(pid, "read");
	status = zx_process_read_memory(pidfd, addr, buf, len, &actual);
	detach_target();
	if (status != ZX_OK) {
		explain(false, status, pid, addr);
		return EXIT_ZX;
	}
	if (output && ftruncate(outfd, 0))
		fail("cannot write %s: %s", output, strerror(errno));
	if (raw || output)
		fwrite(buf, 1, actual, out);
	else
		hexdump(out, addr, buf, actual);
	if (fflush(out) || ferror(out) || (output && fclose(out)))
		fail("cannot write %s: %s", output ? output : "the output",
		     strerror(errno));
	if (actual < len) {
		fprintf(stderr,
			"%s: read %zu of %llu bytes at 0x%llx: the rest runs into unmapped memory or a mapping the module refuses\n",
			progname, actual, len, addr);
		return EXIT_ZX;
	}
	return 0;
}

/* ---- write ----------------------------------------------------------- */

static int hex_digit(char c)
{
	if (isdigit((unsigned char)c))
		return c - '0';
	if (isxdigit((unsigned char)c))
		return tolower((unsigned char)c) - 'a' + 10;
	return -1;
}

/* The bytes of the HEX... arguments, each an even number of hex digits. */
static unsigned char *parse_hex(char **args, int n, size_t *len)
{
	unsigned char *buf;
	size_t total = 0, k = 0;
	int i;

	for (i = 0; i < n; i++) {
		const char *s = args[i];
		size_t digits;

		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		digits = strlen(s);
		if (!digits)
			usage_error("'%s' has no hex digits", args[i]);
		for (size_t j = 0; j < digits; j++)
			if (hex_digit(s[j]) < 0)
				usage_error("'%s' is not hex bytes: '%c' is not a hex digit",
					    args[i], s[j]);
		if (digits % 2)
			usage_error("'%s' is not hex bytes: an odd number of hex digits",
				    args[i]);
		total += digits / 2;
		if (total > ZXMEM_MAX_TRANSFER)
			usage_error("more than %lu bytes (64 MiB) to write",
				    ZXMEM_MAX_TRANSFER);
	}
	buf = xrealloc(NULL, total);
	for (i = 0; i < n; i++) {
		const char *s = args[i];

		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		for (; *s; s += 2)
			buf[k++] = (unsigned char)(hex_digit(s[0]) << 4 |
						   hex_digit(s[1]));
	}
	*len = total;
	return buf;
}

/* All of @path ("-": stdin), 1 to 64 MiB of it. */
static unsigned char *read_input(const char *path, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	const char *name = fd ? path : "stdin";
	unsigned char *buf = NULL;
	size_t size = 0, cap = 0;
	ssize_t n;

	if (fd < 0)
		usage_error("cannot read %s: %s", path, strerror(errno));
	for (;;) {
		if (size == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			usage_error("cannot read %s: %s", name,
				    strerror(errno));
		if (!n)
			break;
		size += (size_t)n;
		if (size > ZXMEM_MAX_TRANSFER)
			usage_error("%s holds more than %lu bytes (64 MiB)",
				    name, ZXMEM_MAX_TRANSFER);
	}
	if (fd)
		close(fd);
	if (!size)
		usage_error("%s is empty: nothing to write", name);
	*len = size;
	return buf;
}

static int cmd_write(char **argv, int argc, const char *file)
{
	struct address a;
	unsigned long long addr;
	unsigned char *buf;
	size_t len, actual = 0;
	zx_status_t status;
	pid_t pid;
	int pidfd;

	if (argc < 2)
		usage_error("write takes PID ADDR and HEX..., -f FILE or -");
	pid = parse_pid(argv[0]);
	parse_address(argv[1], &a);
	if (file && argc > 2)
		usage_error("write takes either -f FILE or bytes, not both");
	if (!file && argc == 2)
		usage_error("write needs bytes: HEX..., -f FILE or - for stdin");
	if (!file && argc == 3 && !strcmp(argv[2], "-"))
		file = "-";
	if (file)
		buf = read_input(file, &len);
	else
		buf = parse_hex(argv + 2, argc - 2, &len);
	if (!a.name && a.value > ULLONG_MAX - len + 1)
		usage_error("%s + %zu bytes runs past the end of the address space",
			    argv[1], len);

	pidfd = open_pidfd(pid);
	addr = resolve_address(pid, &a);
	if (addr > ULLONG_MAX - len + 1)
		usage_error("%s + %zu bytes runs past the end of the address space",
			    argv[1], len);
	device_fd();
	attach_target(pid, "write");
	status = zx_process_write_memory(pidfd, addr, buf, len, &actual);
	detach_target();
	if (status != ZX_OK) {
		explain(true, status, pid, addr);
		return EXIT_ZX;
	}
	if (actual < len) {
		fprintf(stderr,
			"%s: wrote %zu of %zu bytes at 0x%llx: the rest runs into unmapped memory or a mapping the module refuses\n",
			progname, actual, len, addr);
		return EXIT_ZX;
	}
	return 0;
}

/* ---- maps ------------------------------------------------------------ */

static int cmd_maps(char **argv, int argc)
{
	struct maps maps;
	char *force;
	int on;
	pid_t pid;

	if (argc != 1)
		usage_error("maps takes PID");
	pid = parse_pid(argv[0]);
	read_maps(pid, &maps);
	force = force_override();
	on = writes_enabled();
	if (on < 0)
		printf("# zxmem is not loaded: every call answers ZX_ERR_NOT_SUPPORTED\n");
	else if (!on)
		printf("%s\n",
		       "# writes are disabled (enable_debugging_syscalls=0): every write answers ZX_ERR_NOT_SUPPORTED");
	if (force)
		printf("# force_override=%s\n", force);
	printf("%-33s  %-4s  %-16s  %-52s  %s\n", "# address range", "perm",
	       "read", "write", "mapping");
	for (size_t i = 0; i < maps.n; i++) {
		const struct mapping *m = &maps.map[i];

		printf("%016llx-%016llx  %-4s  %-16s  %-52s  %s%s\n", m->start,
		       m->end, m->perms, read_verdict(m),
		       write_verdict(m, force),
		       *m->path ? m->path : "(anonymous)",
		       m->flags_known ? "" : " (VmFlags unknown)");
	}
	free(force);
	if (fflush(stdout) || ferror(stdout))
		fail("cannot write the output: %s", strerror(errno));
	return 0;
}

/* ---- status ---------------------------------------------------------- */

/* The name of uid or gid @id in /etc/passwd or /etc/group, or NULL. */
static char *id_name(const char *file, unsigned int id)
{
	char *line = NULL, *name = NULL;
	size_t cap = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		return NULL;
	while (!name && getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *field;
		unsigned int v;

		if (!colon)
			continue;
		field = strchr(colon + 1, ':');
		if (field && sscanf(field + 1, "%u", &v) == 1 && v == id) {
			*colon = '\0';
			name = xstrdup(line);
		}
	}
	free(line);
	fclose(f);
	return name;
}

static int cmd_status(int argc)
{
	char *version, *force, *user, *group;
	struct stat st;
	int fd, on, rc = 0;

	if (argc)
		usage_error("status takes no arguments");
	printf("command:        zxmem %s\n", ZXMEM_VERSION);
	if (!module_loaded()) {
		printf("module:         not loaded (no %s): modprobe zxmem\n",
		       SYS_MODULE);
		rc = EXIT_ZX;
	} else {
		version = read_line(SYS_MODULE "/version");
		printf("module:         loaded, version %s%s\n",
		       version ? version : "unknown",
		       version && strcmp(version, ZXMEM_VERSION) ?
		       " (not this command's)" : "");
		free(version);
		on = writes_enabled();
		if (on > 0)
			printf("writes:         enabled (enable_debugging_syscalls=1)\n");
		else if (on == 0)
			printf("%s\n",
			       "writes:         disabled (enable_debugging_syscalls=0): every write answers ZX_ERR_NOT_SUPPORTED");
		else
			printf("writes:         unknown (no enable_debugging_syscalls)\n");
		force = force_override();
		printf("force_override: %s\n", force ? force : "unknown");
		free(force);
	}
	if (stat(ZXMEM_DEVICE_PATH, &st)) {
		printf("device:         no %s\n", ZXMEM_DEVICE_PATH);
		return EXIT_ZX;
	}
	user = id_name("/etc/passwd", st.st_uid);
	group = id_name("/etc/group", st.st_gid);
	printf("device:         %s, %s %u:%u, owner %s, group %s, mode %04o\n",
	       ZXMEM_DEVICE_PATH, S_ISCHR(st.st_mode) ? "char" : "not a char device",
	       major(st.st_rdev), minor(st.st_rdev), user ? user : "?",
	       group ? group : "?", (unsigned int)(st.st_mode & 07777));
	free(user);
	free(group);
	fd = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		printf("you (uid %u):   may open it read-write: reads and writes\n",
		       (unsigned int)getuid());
	} else {
		fd = open(ZXMEM_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			printf("you (uid %u):   may open it read-only: reads, no writes\n",
			       (unsigned int)getuid());
		else
			printf("you (uid %u):   may not open it: %s\n",
			       (unsigned int)getuid(), strerror(errno));
	}
	if (fd < 0)
		rc = EXIT_ZX;
	else
		close(fd);
	if (fflush(stdout) || ferror(stdout))
		fail("cannot write the output: %s", strerror(errno));
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "file", required_argument, NULL, 'f' },
		{ "no-attach", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *file = NULL, *cmd;
	bool raw = false;
	int c;

	while ((c = getopt_long(argc, argv, "ro:f:nhV", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			raw = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			no_attach = true;
			break;
		case 'h':
			print_help(stdout);
			return 0;
		case 'V':
			printf("zxmem %s\n", ZXMEM_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n",
				progname);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		usage_error("no command: read, write, maps or status");
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "read") && (raw || output))
		usage_error("--raw and -o are for read");
	if (strcmp(cmd, "write") && file)
		usage_error("-f is for write");
	if (!strcmp(cmd, "read"))
		return cmd_read(argv, argc, raw, output);
	if (!strcmp(cmd, "write"))
		return cmd_write(argv, argc, file);
	if (!strcmp(cmd, "maps"))
		return cmd_maps(argv, argc);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc);
	usage_error("unknown command '%s': read, write, maps or status", cmd);
}
