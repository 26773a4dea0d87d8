// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded, bounded fuzzer for the zxmem ioctls.
 *
 *   fuzz [--seed N] [--calls N] [--time SECONDS] [--min-calls N]
 *        [--fault-injection [--min-injected N] [--min-degraded N]]
 *   fuzz [SEED [CALLS [SECONDS]]]
 *
 * Defaults: seed 1, 100000 calls, at most 300 s.  The wall-clock cap only
 * stops the run: fewer calls than --min-calls (default: all of --calls)
 * fail call_count_reached, whether or not the cap was hit.  Every call
 * gets random and boundary values in every field of struct zxmem_io: a handle from a
 * fixed cast (pidfds of a traced child, an untraced child, a traced and an
 * untraced zombie, a reaped child and this process; fds that are not
 * pidfds; closed and huge fd numbers), addresses in and around every
 * mapping of the target and far outside user space, sizes from 0 to ~0,
 * good and bad buffers, flags and reserved bits.  Now and then the command
 * is wrong, the struct pointer is bad or the struct only half writable, the
 * /dev/zxmem fd is read-only, and enable_debugging_syscalls flips.  One
 * call in VEC_ONE_IN is batched (ZXMEM_IOC_*_MEMORY_VEC), modelled segment
 * by segment ("Batched calls" below).
 *
 * The oracle is a model of the module: the check order of
 * Documentation/zxmem.rst applied to the targets' memory maps, which do not
 * change while the fuzzer runs (the children, the test library's target
 * processes, wait in recv() for a request that never comes; this process
 * writes only into regions it keeps for the purpose).  It predicts the
 * ioctl's return, the status and actual of every call.  The exception is
 * this process's own map outside those regions (its binary, heap, stack
 * and what malloc() maps), which can change between calls: a call of
 * ours that touches it ("loose") is predicted from /proc/self/maps read
 * again just before it, with nothing allocated in between, so it too is
 * predicted exactly.  What cannot be checked there is the bytes a read
 * returns from writable memory of ours outside the shadows (a heap or a
 * stack is never still); bytes of read-only mappings are compared with
 * the memory itself.  Loose calls are counted, and more than
 * LOOSE_MAX_PERCENT of the calls fail loose_calls_are_bounded.  Shadow
 * copies of the targets' memory (the whole traced child, this process's own fuzzed
 * regions) follow every write the module reports and are compared with
 * the real memory (through /proc/PID/mem) every few thousand calls and at
 * the end; every successful read is compared with the shadow too.
 *
 * --fault-injection: the caller (check-debug.sh) has set up failslab and
 * fail_page_alloc with task-filter and a finite "times", which the kernel
 * counts down by one per injected failure; this process then marks itself
 * in /proc/self/make-it-fail just around three calls in four, so that
 * every allocation made for those calls fails, and reads both "times"
 * before and after the run to know how many failures were injected (per
 * call would cost four debugfs opens, which under TCG and KASAN slow the
 * run thirtyfold).  A call made so may answer otherwise than predicted
 * only where the module allocates (Documentation/zxmem.rst, "When the kernel cannot allocate
 * memory"), which is after step 11: a status of steps 1 to 11 stands.
 * Where ZX_OK is predicted: ZX_ERR_NO_MEMORY, or ZX_OK with fewer bytes;
 * never ZX_ERR_INVALID_ARGS (the caller's good buffer is not to blame).
 * Where step 12 predicts ZX_ERR_INVALID_ARGS: nothing else if access_ok()
 * refuses the buffer (no allocation comes first); for a write,
 * ZX_ERR_NO_MEMORY only if the buffer's first byte is good (the module
 * faults in the buffer from there and meets the bad byte only after the
 * good ones); for a read, which pins target pages before it fills the
 * buffer, ZX_ERR_NO_MEMORY, or ZX_OK with no more than the buffer's good
 * prefix.  Memory must still match the shadows.  The run fails
 * faults_were_injected if fewer than --min-injected failures of each kind
 * (slab, page) were injected or fewer than --min-degraded calls answered
 * otherwise than predicted.
 *
 * x86-64 only (the user address space ends at 0x7ffffffff000).  Run as
 * root with zxmem.ko loaded.  Output is TAP.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#ifndef __x86_64__
#error "fuzz.c models the x86-64 address space"
#endif

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))

#define PAGE		4096UL
#define KIB		1024UL
#define MIB		(1024UL * 1024)
#define TASK_TOP	0x7ffffffff000UL	/* TASK_SIZE_MAX, 4-level paging */
#define MAX_XFER	((uint64_t)ZXMEM_MAX_TRANSFER)
#define DEBUGFS		"/sys/kernel/debug"

/* At most this share of the calls may be loose (predicted from a fresh map). */
#define LOOSE_MAX_PERCENT	10

/* Fixed homes, far from anything the kernel places by itself. */
#define SELF_BASE	0x100000000000UL
#define CHILD_BASE	0x200000000000UL
#define ARENA_BASE	0x300000000000UL

/* The fuzzed regions: one layout in the children, one in this process. */
enum seg_kind {
	SEG_RW,			/* private anonymous, read-write */
	SEG_RO,			/* private anonymous, read-only */
	SEG_NONE,		/* private anonymous, PROT_NONE */
	SEG_RX,			/* private anonymous, read+exec: bounced writes */
	SEG_FILE_RO,		/* private mapping of a file, read-only */
	SEG_SHARED_RO,		/* shared mapping of a read-only file */
	SEG_SHARED_RW,		/* shared memfd mapping, read-write */
	SEG_IO,			/* /dev/mem: VM_IO | VM_PFNMAP */
	SEG_THP,		/* 2 MiB aligned, MADV_HUGEPAGE */
};

struct seg {
	unsigned long off;
	unsigned long len;
	enum seg_kind kind;
};

/*
 * The children's regions.  Most are adjacent, so that copies run across
 * mappings and stop where a mapping refuses; holes separate the runs.
 */
static const struct seg child_layout[] = {
	{ 0x001000, 512 * KIB, SEG_RW },
	{ 0x081000, 64 * KIB, SEG_RO },
	{ 0x091000, 64 * KIB, SEG_NONE },
	{ 0x0a1000, 16 * KIB, SEG_RX },
	{ 0x0a5000, 64 * KIB, SEG_FILE_RO },
	{ 0x0b5000, 64 * KIB, SEG_SHARED_RO },	/* writes stop here */
	{ 0x0c5000, 64 * KIB, SEG_RW },
	/* hole */
	{ 0x0d6000, 64 * KIB, SEG_SHARED_RW },
	{ 0x0e6000, 4 * KIB, SEG_IO },		/* copies stop here */
	{ 0x0e7000, 4 * KIB, SEG_RW },
	/* hole */
	{ 0x0e9000, 8 * KIB, SEG_RX },
	/* hole up to 2 MiB */
	{ 0x200000, 4 * MIB, SEG_THP },
	/* hole */
};

/* This process's own regions, written through a pidfd of itself. */
static const struct seg self_layout[] = {
	{ 0x01000, 256 * KIB, SEG_RW },
	{ 0x41000, 64 * KIB, SEG_RO },
	{ 0x51000, 64 * KIB, SEG_NONE },
	{ 0x61000, 16 * KIB, SEG_RX },
	/* hole */
	{ 0x66000, 64 * KIB, SEG_SHARED_RW },
	{ 0x76000, 64 * KIB, SEG_RW },
	/* hole */
};

#define SELF_SPAN	0x88000UL	/* the regions and the holes around */

#define FILE_LEN	(64 * KIB)

/*
 * The caller's side, in this process: the buffers (a write reads SRC, a
 * read fills DST), a read-only and a PROT_NONE buffer, and two pages for
 * struct zxmem_io placed across a page boundary, one followed by a hole,
 * one by a read-only page.  Every area is followed by a hole.
 */
#define XFER_LEN	(8 * MIB + 64 * KIB)
#define SRC		(ARENA_BASE + PAGE)
#define DST		(SRC + XFER_LEN + PAGE)
#define RO_BUF		(DST + XFER_LEN + PAGE)
#define NONE_BUF	(RO_BUF + 64 * KIB + PAGE)
#define SMALL_LEN	(64 * KIB)
#define STRUCT_HOLE	(NONE_BUF + SMALL_LEN + PAGE)	/* RW, then a hole */
#define STRUCT_RO	(STRUCT_HOLE + 2 * PAGE)	/* RW, then RO */
#define ARENA_END	(STRUCT_RO + 3 * PAGE)

struct area {
	uint64_t start;
	uint64_t end;
	bool readable;
	bool writable;
};

static const struct area arena[] = {
	{ SRC, SRC + XFER_LEN, true, true },
	{ DST, DST + XFER_LEN, true, true },
	{ RO_BUF, RO_BUF + SMALL_LEN, true, false },
	{ NONE_BUF, NONE_BUF + SMALL_LEN, false, false },
	{ STRUCT_HOLE, STRUCT_HOLE + PAGE, true, true },
	{ STRUCT_RO, STRUCT_RO + PAGE, true, true },
	{ STRUCT_RO + PAGE, STRUCT_RO + 2 * PAGE, true, false },
};

/*
 * Random numbers: the library's rng_next() over this state, seeded from
 * --seed, so that a seed replays a run exactly.  Every draw of the run
 * comes from it; the bytes the regions start with are fill_random() of
 * seeds drawn from it.
 */
static uint64_t rng;

static bool one_in(uint64_t n)
{
	return rng_below(&rng, n) == 0;
}

/* A model of one target's address space, from /proc/PID/maps. */
#define V_R		0x01
#define V_W		0x02
#define V_X		0x04
#define V_SHARED	0x08	/* 's': VM_MAYSHARE */
#define V_VDSO		0x10	/* [vdso], [vvar*]: never written */
#define V_IO		0x20	/* VM_IO or VM_PFNMAP: [vvar*], /dev/mem */
#define V_STABLE	0x40	/* stays as it is while the fuzzer runs */

struct vma {
	uint64_t start;
	uint64_t end;
	unsigned int flags;
	uint8_t *shadow;	/* what the memory should hold, or NULL */
	char name[48];
};

enum hkind {
	H_TRACED,		/* child, PTRACE_SEIZEd by this thread */
	H_UNTRACED,		/* child, not traced */
	H_TZOMBIE,		/* traced child that exited, not reaped */
	H_UZOMBIE,		/* untraced child that exited, not reaped */
	H_REAPED,		/* child that exited and was reaped */
	H_SELF,			/* this process */
	H_OTHER_FD,		/* an open fd that is not a pidfd */
	H_CLOSED,		/* not an open fd */
	H_NR,
};

static const char *const hkind_name[H_NR] = {
	"traced", "untraced", "traced-zombie", "untraced-zombie", "reaped",
	"self", "not-a-pidfd", "closed",
};

/* A process the fuzzer calls on, and its model. */
struct subject {
	enum hkind kind;
	struct target proc;	/* a child's end of the library's protocol */
	pid_t pid;
	int pidfd;
	int mem;		/* /proc/PID/mem, or -1 */
	bool exact;		/* every address of it is modelled */
	struct vma *vmas;
	int nr_vmas;
};

static struct subject targets[H_SELF + 1];
#define TRACED		(&targets[H_TRACED])
#define UNTRACED	(&targets[H_UNTRACED])
#define SELF		(&targets[H_SELF])

/* The handle values the fuzzer draws from, each with what it is. */
struct handle {
	uint32_t value;
	enum hkind kind;
	const char *what;
};

static struct handle handles[64];
static int nr_handles;
static int fd_limit;		/* fds below it are classified in fd_kind[] */
static enum hkind fd_kind[256];

/* Run-wide state. */
static int dev_rw = -1, dev_ro = -1;
static int param = -1;		/* enable_debugging_syscalls as last set */
static int saved_param = -1;
static bool top_is_free;	/* nothing of ours within 16 MiB of TASK_TOP */
static bool fault_injection;
static int make_it_fail = -1;
/* DEBUGFS/{failslab,fail_page_alloc}/times: failures still to inject */
static const char *const fi_attr[2] = { "failslab", "fail_page_alloc" };
static int file_fd = -1;	/* the file behind SEG_FILE_RO, SEG_SHARED_RO */
static char file_path[64];
static uint8_t file_bytes[FILE_LEN];

struct stats {
	unsigned long calls;
	unsigned long by_status[ST_NR];
	unsigned long by_handle[H_NR];
	unsigned long writes, reads, bad_cmds, bad_structs, ro_dev;
	unsigned long param_flips, param_off_calls;
	unsigned long ok_bytes, short_copies, loose, loose_unchecked;
	unsigned long loose_checked_bytes;
	unsigned long compares;
	unsigned long fi_calls, fi_degraded;
	unsigned long fi_injected[2];	/* failslab, fail_page_alloc */
	/* failures, one counter per TAP test */
	unsigned long bad_documented, bad_predicted, bad_struct;
	unsigned long bad_read_bytes, bad_memory;
	unsigned long vec_calls, vec_segments, vec_exchanges;
	unsigned long vec_by_status[ST_NR];	/* of the segments */
};

static struct stats st;
static unsigned long reports;

/* One call: what is sent, and how. */
enum place {
	PL_NORMAL,		/* a struct in ordinary memory */
	PL_NULL,
	PL_UNMAPPED,
	PL_KERNEL,
	PL_TO_HOLE,		/* the struct runs off its page into a hole */
	PL_TO_RO,		/* ... into a read-only page */
	PL_RO,			/* all of it read-only */
};

static const char *const place_name[] = {
	"normal", "NULL", "unmapped", "kernel", "to-hole", "to-ro", "ro",
};

struct call {
	unsigned long n;
	unsigned long cmd;
	bool cmd_valid;
	bool write;
	bool ro_dev;
	bool fi;
	const struct handle *h;
	struct subject *t;	/* for pidfds of a target, else NULL */
	enum place place;
	unsigned int k;		/* PL_TO_*: bytes of the struct before the edge */
	struct zxmem_io io;
};

struct outcome {
	int ret;		/* of ioctl() */
	int err;		/* errno when ret is -1 */
	bool ran;		/* the request was read and the call made */
	zx_status_t status;
	uint64_t actual;
	bool late;		/* status decided at step 12 or later */
	bool loose;		/* predicted from a fresh map of this process */
	bool acc;		/* late: access_ok() accepts the buffer */
	uint64_t pre;		/* late: its usable prefix, of the region's len */
	bool status_seen;	/* the status landed where it can be read */
};

static void vreport(const struct call *c, const char *what, const char *fmt,
		    va_list ap)
{
	if (++reports > 40)
		return;
	printf("# FAIL %s: call %lu: cmd=%#lx %s dev=%s handle=%u (%s) vaddr=%#llx size=%#llx buffer=%#llx flags=%#x reserved=%#x struct=%s/%u param=%d fi=%d: ",
	       what, c->n, c->cmd, c->write ? "write" : "read",
	       c->ro_dev ? "ro" : "rw", c->io.handle, c->h->what,
	       (unsigned long long)c->io.vaddr,
	       (unsigned long long)c->io.buffer_size,
	       (unsigned long long)c->io.buffer, c->io.flags, c->io.reserved,
	       place_name[c->place], c->k, param, c->fi);
	vprintf(fmt, ap);
	printf("\n");
}

static void __attribute__((format(printf, 3, 4)))
report(const struct call *c, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, what, fmt, ap);
	va_end(ap);
}

/* enable_debugging_syscalls */

/* Switch it, and keep the model's copy in step. */
static int param_write(int on)
{
	int ret = zxmem_param_set(on);

	if (!ret)
		param = on;
	return ret;
}

/* Mapping the regions */

static int map_seg(unsigned long base, const struct seg *s, uint64_t seed)
{
	void *want = (void *)(base + s->off);
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	int prot = PROT_READ | PROT_WRITE, final = -1, fd = -1;
	off_t offset = 0;
	void *got;

	switch (s->kind) {
	case SEG_RW:
	case SEG_THP:
		break;
	case SEG_RO:
		final = PROT_READ;
		break;
	case SEG_NONE:
		final = PROT_NONE;
		break;
	case SEG_RX:
		final = PROT_READ | PROT_EXEC;
		break;
	case SEG_FILE_RO:
	case SEG_SHARED_RO:
		/* file_fd is O_RDONLY: a shared mapping loses VM_MAYWRITE */
		prot = PROT_READ;
		flags = (s->kind == SEG_FILE_RO ? MAP_PRIVATE : MAP_SHARED) |
			MAP_FIXED_NOREPLACE;
		fd = file_fd;
		break;
	case SEG_SHARED_RW:
		fd = memfd_create("zxmem-fuzz", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, s->len))
			return -errno;
		flags = MAP_SHARED | MAP_FIXED_NOREPLACE;
		break;
	case SEG_IO:
		fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
		if (fd < 0)
			return 0;	/* no /dev/mem: a hole instead */
		flags = MAP_SHARED | MAP_FIXED_NOREPLACE;
		offset = BIOS_AREA;
		break;
	}

	got = mmap(want, s->len, prot, flags, fd, offset);
	if (s->kind == SEG_SHARED_RW || s->kind == SEG_IO)
		close(fd);
	if (got == MAP_FAILED)
		return s->kind == SEG_IO ? 0 : -errno;
	if (got != want)
		return -EEXIST;
	if (s->kind == SEG_THP)
		madvise(want, s->len, MADV_HUGEPAGE);
	if ((prot & PROT_WRITE) && s->kind != SEG_IO)
		fill_random(want, s->len, seed ^ s->off);
	if (final >= 0 && mprotect(want, s->len, final))
		return -errno;
	return 0;
}

static int map_layout(unsigned long base, const struct seg *segs, size_t nr,
		      uint64_t seed)
{
	size_t i;
	int err;

	for (i = 0; i < nr; i++) {
		err = map_seg(base, &segs[i], seed + i);
		if (err)
			return err;
	}
	return 0;
}

static int map_arena(void)
{
	size_t i;

	if (mmap((void *)ARENA_BASE, ARENA_END - ARENA_BASE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 MAP_FIXED_NOREPLACE, -1, 0) != (void *)ARENA_BASE)
		return -1;
	/* Everything that is no area becomes a hole. */
	if (munmap((void *)ARENA_BASE, ARENA_END - ARENA_BASE))
		return -1;
	for (i = 0; i < ARRAY_SIZE(arena); i++) {
		const struct area *a = &arena[i];
		size_t len = a->end - a->start;
		int prot = (a->readable ? PROT_READ : 0) |
			   (a->writable ? PROT_WRITE : 0);

		if (mmap((void *)a->start, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) != (void *)a->start)
			return -1;
		if (a->start == SRC || a->start == RO_BUF)
			fill_random((void *)a->start, len, rng_next(&rng));
		if (prot != (PROT_READ | PROT_WRITE) &&
		    mprotect((void *)a->start, len, prot))
			return -1;
	}
	return 0;
}

/* The bytes at @b, of @len, before the first not in a readable (or writable) area. */
static uint64_t arena_prefix(uint64_t b, uint64_t len, bool need_write)
{
	uint64_t pos = b, end = b + len < b ? UINT64_MAX : b + len;
	size_t i;

	while (pos < end) {
		for (i = 0; i < ARRAY_SIZE(arena); i++) {
			const struct area *a = &arena[i];

			if (pos >= a->start && pos < a->end &&
			    (need_write ? a->writable : a->readable))
				break;
		}
		if (i == ARRAY_SIZE(arena))
			break;
		pos = arena[i].end;
	}
	return MIN(pos, end) - b;
}

/* Targets */

static bool in_self_span(uint64_t addr)
{
	return addr >= SELF_BASE && addr < SELF_BASE + SELF_SPAN;
}

static bool in_arena(uint64_t addr)
{
	return addr >= ARENA_BASE && addr < ARENA_END;
}

/* One line of /proc/PID/maps into @v; false if it is no VMA. */
static bool parse_vma(const struct subject *t, char *line, struct vma *v)
{
	unsigned long long start, end;
	char perms[8] = "";
	int name_at = 0;
	char *name;

	if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end,
		   perms, &name_at) < 3 || !name_at)
		return false;
	name = line + name_at;
	name[strcspn(name, "\n")] = '\0';
	/* Not a VMA: the kernel's gate page. */
	if (!strcmp(name, "[vsyscall]"))
		return false;
	memset(v, 0, sizeof(*v));
	v->start = start;
	v->end = end;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->flags |= perms[0] == 'r' ? V_R : 0;
	v->flags |= perms[1] == 'w' ? V_W : 0;
	v->flags |= perms[2] == 'x' ? V_X : 0;
	v->flags |= perms[3] == 's' ? V_SHARED : 0;
	if (!strcmp(name, "[vdso]") || !strncmp(name, "[vvar", 5))
		v->flags |= V_VDSO;
	if (!strncmp(name, "[vvar", 5) || !strcmp(name, "/dev/mem"))
		v->flags |= V_IO;
	if (t->exact || in_self_span(start) || in_arena(start) ||
	    (v->flags & V_VDSO))
		v->flags |= V_STABLE;
	return true;
}

static int read_maps(struct subject *t)
{
	char path[64], line[512];
	FILE *maps;
	int cap = 64;

	snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
	maps = fopen(path, "re");
	if (!maps)
		return -1;
	t->vmas = calloc(cap, sizeof(*t->vmas));
	t->nr_vmas = 0;
	while (t->vmas && fgets(line, sizeof(line), maps)) {
		if (t->nr_vmas == cap) {
			cap *= 2;
			t->vmas = realloc(t->vmas, cap * sizeof(*t->vmas));
			if (!t->vmas)
				break;
		}
		t->nr_vmas += parse_vma(t, line, &t->vmas[t->nr_vmas]);
	}
	fclose(maps);
	return t->vmas ? 0 : -1;
}

/*
 * This process's map as it is now, for a loose call: read into static
 * storage with no malloc() (which may map, or grow the heap), so that it
 * still holds when the call is made.  Every mapping in it is exact.
 */
static struct vma fresh_vmas[512];
static struct subject fresh_self;
static char maps_text[256 * KIB];

static void refresh_self(void)
{
	struct subject *t = &fresh_self;
	size_t got = 0;
	char *line, *next;
	ssize_t n = 0;
	int fd;

	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < sizeof(maps_text) - 1 &&
	       (n = read(fd, maps_text + got,
			 sizeof(maps_text) - 1 - got)) > 0)
		got += n;
	if (fd < 0 || n < 0 || got >= sizeof(maps_text) - 1) {
		printf("Bail out! cannot read /proc/self/maps\n");
		exit(1);
	}
	close(fd);
	maps_text[got] = '\0';
	t->kind = H_SELF;
	t->exact = true;
	t->vmas = fresh_vmas;
	t->nr_vmas = 0;
	for (line = maps_text; *line && t->nr_vmas < (int)ARRAY_SIZE(fresh_vmas);
	     line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		t->nr_vmas += parse_vma(t, line, &fresh_vmas[t->nr_vmas]);
	}
}

static bool shadowed(const struct subject *t, const struct vma *v)
{
	if (v->flags & V_IO)
		return false;
	return t->exact || in_self_span(v->start);
}

static int take_shadows(struct subject *t)
{
	int i;

	for (i = 0; i < t->nr_vmas; i++) {
		struct vma *v = &t->vmas[i];
		size_t len = v->end - v->start;

		if (!shadowed(t, v))
			continue;
		v->shadow = malloc(len);
		if (!v->shadow)
			return -1;
		if (pread_full(t->mem, v->shadow, len, v->start) !=
		    (ssize_t)len) {
			printf("# note: %s: cannot read %s at %#llx, not shadowed\n",
			       hkind_name[t->kind], v->name,
			       (unsigned long long)v->start);
			free(v->shadow);
			v->shadow = NULL;
		}
	}
	return 0;
}

static const struct vma *find_vma_at(const struct subject *t, uint64_t addr)
{
	int i;

	for (i = 0; i < t->nr_vmas; i++)
		if (addr >= t->vmas[i].start && addr < t->vmas[i].end)
			return &t->vmas[i];
	return NULL;
}

/* Compare every shadowed mapping of @t with its memory; 0 if all match. */
static int compare_target(struct subject *t, const char *when)
{
	static uint8_t *now_bytes;
	static size_t now_cap;
	int i, bad = 0;

	st.compares++;
	for (i = 0; i < t->nr_vmas; i++) {
		struct vma *v = &t->vmas[i];
		size_t len = v->end - v->start, j, first = 0, diff = 0;

		if (!v->shadow)
			continue;
		if (len > now_cap) {
			free(now_bytes);
			now_bytes = malloc(len);
			now_cap = now_bytes ? len : 0;
			if (!now_bytes)
				return -1;
		}
		if (pread_full(t->mem, now_bytes, len, v->start) !=
		    (ssize_t)len) {
			printf("# FAIL memory: %s: %s at %#llx can no longer be read\n",
			       hkind_name[t->kind], v->name,
			       (unsigned long long)v->start);
			bad++;
			continue;
		}
		if (!memcmp(now_bytes, v->shadow, len))
			continue;
		for (j = 0; j < len; j++) {
			if (now_bytes[j] == v->shadow[j])
				continue;
			if (!diff++)
				first = j;
		}
		printf("# FAIL memory (%s): %s: %zu bytes of %s [%#llx, %#llx) differ from the shadow, first at %#llx (now %#x, shadow %#x)\n",
		       when, hkind_name[t->kind], diff, v->name,
		       (unsigned long long)v->start,
		       (unsigned long long)v->end,
		       (unsigned long long)(v->start + first),
		       now_bytes[first], v->shadow[first]);
		/* Report each difference once. */
		memcpy(v->shadow, now_bytes, len);
		bad++;
	}
	st.bad_memory += bad;
	return bad;
}

/* In the child, before it serves: the fuzzed regions. */
static int build_child_layout(void *unused)
{
	(void)unused;
	return map_layout(CHILD_BASE, child_layout, ARRAY_SIZE(child_layout),
			  rng_next(&rng));
}

/*
 * A target child of the library's (target_spawn_prepared()), which holds
 * the layout or not, traced or not, and which exits or waits in recv()
 * for requests that never come: its map does not change.
 */
static int setup_target(struct subject *t, enum hkind kind)
{
	bool layout = kind == H_TRACED || kind == H_UNTRACED;
	bool traced = kind == H_TRACED || kind == H_TZOMBIE;
	bool dies = kind == H_TZOMBIE || kind == H_UZOMBIE || kind == H_REAPED;
	char path[64];
	siginfo_t info;

	t->kind = kind;
	t->mem = -1;
	t->exact = true;
	if (target_spawn_prepared(&t->proc, layout ? build_child_layout : NULL,
				  NULL))
		return -1;
	t->pid = t->proc.pid;
	t->pidfd = t->proc.pidfd;
	if (traced && target_trace(&t->proc))
		return -1;
	if (dies) {
		if (target_simple(&t->proc, CHILD_EXIT))
			return -1;
		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, t->pid, &info,
			   WEXITED | (kind == H_REAPED ? 0 : WNOWAIT)))
			return -1;
		if (kind == H_REAPED) {
			t->pid = 0;
			t->proc.pid = 0;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
	t->mem = open(path, O_RDONLY | O_CLOEXEC);
	if (t->mem < 0 || read_maps(t))
		return -1;
	return take_shadows(t);
}

static int setup_self(void)
{
	struct subject *t = SELF;

	t->kind = H_SELF;
	t->pid = getpid();
	t->exact = false;
	t->pidfd = zxmem_pidfd_open(t->pid);
	t->mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (t->pidfd < 0 || t->mem < 0 || read_maps(t))
		return -1;
	return take_shadows(t);
}

static int make_file(void)
{
	int fd;

	snprintf(file_path, sizeof(file_path), "/tmp/zxmem-fuzz.XXXXXX");
	fd = mkstemp(file_path);
	if (fd < 0)
		return -1;
	fill_random(file_bytes, sizeof(file_bytes), rng_next(&rng));
	if (pwrite(fd, file_bytes, sizeof(file_bytes), 0) !=
	    (ssize_t)sizeof(file_bytes)) {
		close(fd);
		return -1;
	}
	close(fd);
	file_fd = open(file_path, O_RDONLY | O_CLOEXEC);
	return file_fd < 0 ? -1 : 0;
}

static void add_handle(uint32_t value, enum hkind kind, const char *what)
{
	if (nr_handles < (int)ARRAY_SIZE(handles))
		handles[nr_handles++] = (struct handle){ value, kind, what };
}

/* Open the fds that are not pidfds, and list every handle value. */
static int setup_handles(void)
{
	int sv[2], pipefd[2], fd, i, max_fd = 0;
	struct stat sb;

	add_handle(TRACED->pidfd, H_TRACED, "traced child's pidfd");
	add_handle(UNTRACED->pidfd, H_UNTRACED, "untraced child's pidfd");
	add_handle(targets[H_TZOMBIE].pidfd, H_TZOMBIE, "traced zombie's pidfd");
	add_handle(targets[H_UZOMBIE].pidfd, H_UZOMBIE,
		   "untraced zombie's pidfd");
	add_handle(targets[H_REAPED].pidfd, H_REAPED, "reaped child's pidfd");
	add_handle(SELF->pidfd, H_SELF, "own pidfd");

	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	add_handle(fd, H_OTHER_FD, "/dev/null");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	add_handle(sv[0], H_OTHER_FD, "socket");
	fd = eventfd(0, EFD_CLOEXEC);
	add_handle(fd, H_OTHER_FD, "eventfd");
	add_handle(file_fd, H_OTHER_FD, "regular file");
	fd = open("/tmp", O_PATH | O_CLOEXEC);
	add_handle(fd, H_OTHER_FD, "O_PATH fd");
	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	add_handle(pipefd[0], H_OTHER_FD, "pipe");
	fd = memfd_create("zxmem-fuzz-handle", MFD_CLOEXEC);
	add_handle(fd, H_OTHER_FD, "memfd");
	add_handle(dev_rw, H_OTHER_FD, "/dev/zxmem");
	add_handle(TRACED->mem, H_OTHER_FD, "/proc/PID/mem");
	if (make_it_fail >= 0)
		add_handle(make_it_fail, H_OTHER_FD, "make-it-fail");

	for (i = 0; i < nr_handles; i++) {
		if ((int)handles[i].value < 0)
			return -1;
		max_fd = MAX(max_fd, (int)handles[i].value);
	}
	/* Closed: one past the last fd (nothing else is opened during a
	 * call), and numbers far above it.
	 */
	add_handle(max_fd + 1, H_CLOSED, "closed fd");
	add_handle(max_fd + 7, H_CLOSED, "closed fd");
	add_handle(255, H_CLOSED, "closed fd 255");
	add_handle(1023, H_CLOSED, "closed fd 1023");
	add_handle(1u << 20, H_CLOSED, "fd 1<<20");
	add_handle(0x7fffffff, H_CLOSED, "fd INT_MAX");
	add_handle(0x80000000u, H_CLOSED, "fd 1<<31");
	add_handle(0xfffffffeu, H_CLOSED, "fd -2");
	add_handle(0xffffffffu, H_CLOSED, "fd -1");

	/* Every small number, as what it is now. */
	fd_limit = MIN(max_fd + 8, (int)ARRAY_SIZE(fd_kind));
	for (fd = 0; fd < fd_limit; fd++) {
		fd_kind[fd] = fstat(fd, &sb) && errno == EBADF ? H_CLOSED :
							       H_OTHER_FD;
		for (i = 0; i < nr_handles; i++)
			if (handles[i].value == (uint32_t)fd &&
			    handles[i].kind <= H_SELF)
				fd_kind[fd] = handles[i].kind;
	}
	return 0;
}

/* The model */

static int vma_status(const struct vma *v, bool write)
{
	if (v->flags & V_IO)
		return ZX_ERR_BAD_STATE;
	if (write && !(v->flags & V_W) && (v->flags & V_SHARED))
		return ZX_ERR_ACCESS_DENIED;
	/* Every mapping a program can make has VM_MAYREAD. */
	return ZX_OK;
}

/*
 * Steps 8 to 11.  A write to a range that touches the vDSO anywhere is
 * refused; else the copy runs from @vaddr through the adjacent mappings
 * that allow it, and the first mapping's answer is the status.
 */
static int predict_region(const struct subject *t, bool write, uint64_t vaddr,
			  uint64_t size, uint64_t *len, bool *loose)
{
	uint64_t end = vaddr + size < vaddr ? UINT64_MAX : vaddr + size;
	uint64_t reach = vaddr;
	int status = ZX_ERR_NO_MEMORY;
	const struct vma *v;
	int i;

	for (i = 0; i < t->nr_vmas; i++) {
		v = &t->vmas[i];
		if (!(vaddr < v->end && v->start < end))
			continue;
		if (!(v->flags & V_STABLE))
			*loose = true;
		if (write && (v->flags & V_VDSO))
			return ZX_ERR_ACCESS_DENIED;
	}
	while (reach < end && (v = find_vma_at(t, reach))) {
		int vs = vma_status(v, write);

		if (reach == vaddr)
			status = vs;
		if (vs != ZX_OK)
			break;
		reach = v->end;
	}
	*len = MIN(reach, end) - vaddr;
	return status;
}

/* The first byte of a self call lies where the map cannot change. */
static bool self_stable(uint64_t vaddr)
{
	const struct vma *v = find_vma_at(SELF, vaddr);

	if (v)
		return v->flags & V_STABLE;
	return vaddr < 0x10000 || vaddr >= TASK_TOP || in_self_span(vaddr) ||
	       in_arena(vaddr);
}

/*
 * access_ok() of x86-64: b + size, not wrapping, at most TASK_SIZE_MAX
 * (7.2's __access_ok() for a size not known at build time; 6.1 differs
 * only where the buffer is unmapped anyway).  TASK_SIZE_MAX is that of
 * 5-level paging when the CPU and kernel use it (QEMU's "-cpu max" has
 * LA57), which user space sees as an mmap() hint above 47 bits being
 * honoured: user_top.  No mapping of ours lies above TASK_TOP either way,
 * so only degraded_ok() can tell the difference.
 */
static uint64_t user_top = TASK_TOP;

static void find_user_top(void)
{
	void *want = (void *)(1UL << 52);
	void *p = mmap(want, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return;
	if ((uint64_t)(uintptr_t)p >= TASK_TOP)
		user_top = (1ULL << 56) - PAGE;
	munmap(p, PAGE);
}

static bool access_ok_model(uint64_t b, uint64_t size)
{
	return size <= user_top && b <= user_top - size;
}

/* Steps 3 to 7, the handle's: the same for single and batched calls. */
static zx_status_t model_handle(const struct call *c)
{
	switch (c->h->kind) {
	case H_CLOSED:
		return ZX_ERR_BAD_HANDLE;
	case H_OTHER_FD:
		return ZX_ERR_WRONG_TYPE;
	case H_REAPED:
		return ZX_ERR_BAD_STATE;
	case H_UNTRACED:
	case H_UZOMBIE:
		return ZX_ERR_ACCESS_DENIED;
	case H_TZOMBIE:
		return c->write && c->ro_dev ? ZX_ERR_ACCESS_DENIED :
					       ZX_ERR_BAD_STATE;
	default:
		break;
	}
	if (c->write && c->ro_dev)
		return ZX_ERR_ACCESS_DENIED;
	return ZX_OK;
}

static zx_status_t model(const struct call *c, struct outcome *o)
{
	const struct zxmem_io *io = &c->io;
	enum hkind kind = c->h->kind;
	uint64_t len = 0;
	int status;

	if (c->write && !param)
		return ZX_ERR_NOT_SUPPORTED;
	if (io->flags || io->reserved || !io->buffer || !io->buffer_size ||
	    io->buffer_size > MAX_XFER)
		return ZX_ERR_INVALID_ARGS;
	status = model_handle(c);
	if (status != ZX_OK)
		return status;
	if (kind == H_SELF && !self_stable(io->vaddr))
		o->loose = true;
	status = predict_region(c->t, c->write, io->vaddr, io->buffer_size,
				&len, &o->loose);
	if (o->loose) {
		/* Our map as it is for this call: nothing allocates till then. */
		bool unused = false;

		refresh_self();
		status = predict_region(&fresh_self, c->write, io->vaddr,
					io->buffer_size, &len, &unused);
	}
	if (status != ZX_OK)
		return status;
	o->late = true;
	o->acc = access_ok_model(io->buffer, io->buffer_size);
	o->pre = o->acc ? arena_prefix(io->buffer, len, !c->write) : 0;
	if (o->pre < len)
		return ZX_ERR_INVALID_ARGS;
	o->actual = len;
	return ZX_OK;
}

#define STATUS_OFF	offsetof(struct zxmem_io, status)
#define ACTUAL_OFF	offsetof(struct zxmem_io, actual)

static void predict(const struct call *c, struct outcome *o)
{
	bool status_w = true, actual_w = true;

	memset(o, 0, sizeof(*o));
	o->ret = -1;
	if (!c->cmd_valid) {
		o->err = ENOTTY;
		return;
	}
	switch (c->place) {
	case PL_NULL:
	case PL_UNMAPPED:
	case PL_KERNEL:
	case PL_TO_HOLE:
		o->err = EFAULT;
		return;
	case PL_TO_RO:
		status_w = c->k >= STATUS_OFF + sizeof(c->io.status);
		actual_w = c->k >= ACTUAL_OFF + sizeof(c->io.actual);
		break;
	case PL_RO:
		status_w = false;
		actual_w = false;
		break;
	default:
		break;
	}
	o->ran = true;
	o->status = model(c, o);
	o->status_seen = status_w;
	if (!status_w || (o->status == ZX_OK && !actual_w)) {
		o->err = EFAULT;
		return;
	}
	o->ret = 0;
}

/* Drawing a call */

static uint64_t pick_size(void)
{
	static const uint64_t fixed[] = {
		0, 1, 2, 3, 7, 8, 63, 64, 65, PAGE - 1, PAGE, PAGE + 1,
		2 * PAGE - 1, 2 * PAGE + 1, 16 * KIB, 16 * KIB + 1, 64 * KIB,
		MIB, MAX_XFER - 1, MAX_XFER, MAX_XFER + 1, 1ULL << 32,
		(1ULL << 32) + 1, 1ULL << 63, ~0ULL, ~0ULL - PAGE + 1,
	};

	switch (rng_below(&rng, 16)) {
	case 0 ... 4:
		return 1 + rng_below(&rng, 64);
	case 5 ... 7:
		return 1 + rng_below(&rng, 2 * PAGE);
	case 8 ... 9:
		return 1 + rng_below(&rng, 64 * KIB);
	case 10:
		return 1 + rng_below(&rng, MAX_XFER);
	case 11 ... 13:
		return fixed[rng_below(&rng, ARRAY_SIZE(fixed))];
	default:
		return rng_next(&rng) >> rng_below(&rng, 64);
	}
}

static const struct vma *pick_vma(const struct subject *t, bool self_write)
{
	const struct vma *v;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		v = &t->vmas[rng_below(&rng, t->nr_vmas)];
		if (!self_write || in_self_span(v->start) ||
		    (v->flags & V_VDSO))
			return v;
	}
	return find_vma_at(t, SELF_BASE + self_layout[0].off);
}

static uint64_t pick_kernel_address(void)
{
	static const uint64_t fixed[] = {
		0xffff800000000000ULL, 0xffff888000000000ULL,
		0xffffffff81000000ULL, 0xffffffffff600000ULL,
		0xfffffffffffff000ULL, ~0ULL, 1ULL << 63, (1ULL << 63) - 1,
		1ULL << 47, (1ULL << 47) + PAGE, 1ULL << 56,
	};

	if (one_in(4))
		return rng_next(&rng) | (1ULL << 63);
	return fixed[rng_below(&rng, ARRAY_SIZE(fixed))] - rng_below(&rng, 2) * PAGE;
}

static uint64_t pick_vaddr(const struct subject *t, bool self_write)
{
	const struct vma *v;
	uint64_t len;
	int i;

	switch (rng_below(&rng, 20)) {
	case 0 ... 11:		/* in a mapping, or at its edge */
		v = pick_vma(t, self_write);
		len = v->end - v->start;
		switch (rng_below(&rng, 8)) {
		case 0:
			return v->start;
		case 1:
			return v->end - 1;
		case 2:
			return v->end - 1 - rng_below(&rng, MIN(len, 64));
		case 3:
			if (self_write && (v->flags & V_VDSO))
				return v->start;
			return v->end + rng_below(&rng, 2) * (PAGE - 1);
		case 4:
			if (self_write && (v->flags & V_VDSO))
				return v->end - PAGE;
			return v->start - 1 - rng_below(&rng, 64);
		default:
			return v->start + rng_below(&rng, len);
		}
	case 12:		/* low */
		return one_in(2) ? rng_below(&rng, 0x10000) : rng_below(&rng, 3) * (PAGE - 1);
	case 13:		/* at the top of user space, or just past it */
		if (self_write || one_in(2))
			return TASK_TOP + rng_below(&rng, 3) * PAGE - rng_below(&rng, 2) +
			       (self_write ? 1 : 0);
		return TASK_TOP - rng_below(&rng, 4) * PAGE - rng_below(&rng, 64);
	case 14 ... 15:
		return pick_kernel_address();
	case 16 ... 17:		/* a hole between mappings */
		for (i = 0; i < 100 && t->nr_vmas > 1; i++) {
			int at = rng_below(&rng, t->nr_vmas - 1);
			uint64_t gap = t->vmas[at + 1].start - t->vmas[at].end;

			if (!gap || (self_write && !in_self_span(t->vmas[at].end)))
				continue;
			return t->vmas[at].end + rng_below(&rng, MIN(gap, 16 * MIB));
		}
		return SELF_BASE + rng_below(&rng, PAGE);
	default:		/* anywhere */
		if (self_write)
			return SELF_BASE + rng_below(&rng, SELF_SPAN);
		return one_in(2) ? rng_below(&rng, TASK_TOP) : rng_next(&rng);
	}
}

static uint64_t pick_offset(void)
{
	switch (rng_below(&rng, 8)) {
	case 0 ... 2:
		return 0;
	case 3 ... 4:
		return rng_below(&rng, 64);
	case 5 ... 6:
		return rng_below(&rng, PAGE);
	default:
		return rng_below(&rng, 64 * KIB);
	}
}

static uint64_t pick_buffer(bool write)
{
	uint64_t mine = write ? SRC : DST, other = write ? DST : SRC;
	const struct area *a;

	switch (rng_below(&rng, 40)) {
	case 0 ... 27:
		return mine + pick_offset();
	case 28 ... 29:
		return other + pick_offset();
	case 30:		/* runs off the end */
		return mine + XFER_LEN - 1 - rng_below(&rng, 2 * PAGE);
	case 31:
		return RO_BUF + rng_below(&rng, SMALL_LEN);
	case 32:
		return NONE_BUF + rng_below(&rng, SMALL_LEN);
	case 33:
		return 0;
	case 34:
		return rng_below(&rng, 0x10000);
	case 35:		/* the hole in front of an area */
		a = &arena[rng_below(&rng, 4)];
		return a->start - 1 - rng_below(&rng, PAGE - 1);
	case 36:
		if (top_is_free)
			return TASK_TOP - 1 - rng_below(&rng, 2 * PAGE);
		return TASK_TOP + rng_below(&rng, PAGE);
	case 37 ... 38:
		return pick_kernel_address();
	default:
		return ~0ULL - rng_below(&rng, 64);
	}
}

static uint32_t pick_u32_field(void)
{
	switch (rng_below(&rng, 32)) {
	case 0:
		return 1u << rng_below(&rng, 32);
	case 1:
		return (uint32_t)rng_next(&rng);
	case 2:
		return ~0u;
	default:
		return 0;
	}
}

static const struct handle *pick_handle(void)
{
	/* Percent of the calls, cumulated, for each kind of handle. */
	static const struct {
		unsigned int upto;
		enum hkind kind;
	} mix[] = {
		{ 38, H_TRACED }, { 58, H_SELF }, { 66, H_UNTRACED },
		{ 70, H_TZOMBIE }, { 73, H_UZOMBIE }, { 77, H_REAPED },
		{ 85, H_OTHER_FD }, { 94, H_CLOSED },
	};
	static struct handle dyn;
	uint64_t r = rng_below(&rng, 100);
	enum hkind want = H_NR;
	size_t m;
	int i, tries;

	for (m = 0; m < ARRAY_SIZE(mix) && want == H_NR; m++)
		if (r < mix[m].upto)
			want = mix[m].kind;
	if (want == H_NR) {
		/* any small number, as whatever it is */
		dyn.value = rng_below(&rng, fd_limit);
		dyn.kind = fd_kind[dyn.value];
		dyn.what = "small fd number";
		return &dyn;
	}
	if (want == H_CLOSED && one_in(4)) {
		dyn.value = (uint32_t)rng_next(&rng) | 0x40000000u;
		dyn.kind = H_CLOSED;
		dyn.what = "random huge fd";
		return &dyn;
	}
	for (tries = 0; tries < 1000; tries++) {
		i = rng_below(&rng, nr_handles);
		if (handles[i].kind == want)
			return &handles[i];
	}
	return &handles[0];
}

/* An ioctl type byte that the VFS does not handle itself. */
static unsigned int pick_foreign_type(void)
{
	static const uint8_t vfs[] = { 0x00, 0x15, 0x54, 0x58, 0x66, 0x94 };
	unsigned int type;
	size_t i;

again:
	type = rng_below(&rng, 256);
	if (type == ZXMEM_IOC_MAGIC)
		goto again;
	for (i = 0; i < sizeof(vfs); i++)
		if (type == vfs[i])
			goto again;
	return type;
}

static void pick_cmd(struct call *c)
{
	unsigned int dir = _IOC_READ | _IOC_WRITE;
	unsigned int size = sizeof(struct zxmem_io);
	unsigned int nr = rng_below(&rng, 2), type = ZXMEM_IOC_MAGIC;

	c->write = one_in(2);
	c->cmd_valid = true;
	c->cmd = c->write ? ZXMEM_IOC_WRITE_MEMORY : ZXMEM_IOC_READ_MEMORY;
	switch (rng_below(&rng, 64)) {
	case 0:
		nr = 2 + rng_below(&rng, 254);
		break;
	case 1:
		type = pick_foreign_type();
		break;
	case 2:
		do
			size = rng_below(&rng, 1u << _IOC_SIZEBITS);
		while (size == sizeof(struct zxmem_io));
		break;
	case 3:
		dir = rng_below(&rng, 3);	/* _IOC_NONE, _IOC_WRITE, _IOC_READ */
		break;
	case 4:
		/* ioctl(2) takes an unsigned int: the upper half is lost. */
		c->cmd |= (rng_next(&rng) | 1) << 32;
		return;
	default:
		return;
	}
	c->cmd = _IOC(dir, type, nr, size);
	c->cmd_valid = c->cmd == ZXMEM_IOC_WRITE_MEMORY ||
		       c->cmd == ZXMEM_IOC_READ_MEMORY;
	c->write = c->cmd == ZXMEM_IOC_WRITE_MEMORY;
}

static bool self_write_safe(uint64_t vaddr)
{
	const struct vma *v = find_vma_at(SELF, vaddr);

	if (v && (v->flags & V_VDSO))
		return true;
	return vaddr < 0x10000 || vaddr >= TASK_TOP || in_self_span(vaddr);
}

static void pick_call(struct call *c)
{
	struct zxmem_io *io = &c->io;
	bool self_write;

	memset(c, 0, sizeof(*c));
	c->n = st.calls;
	pick_cmd(c);
	c->ro_dev = one_in(32);
	c->h = pick_handle();
	if (c->h->kind <= H_SELF)
		c->t = &targets[c->h->kind];

	/* This process writes itself only where it can take it. */
	self_write = c->write && c->h->kind == H_SELF;
	if (c->t && c->t->vmas)
		io->vaddr = pick_vaddr(c->t, self_write);
	else
		io->vaddr = pick_vaddr(TRACED, false);
	if (self_write && !self_write_safe(io->vaddr))
		io->vaddr = SELF_BASE + self_layout[0].off;
	io->buffer_size = pick_size();
	io->buffer = pick_buffer(c->write);
	io->handle = c->h->value;
	io->flags = pick_u32_field();
	io->reserved = pick_u32_field();
	io->actual = one_in(4) ? rng_next(&rng) : ACTUAL_UNTOUCHED;
	io->status = one_in(4) ? (__s32)rng_next(&rng) : STATUS_UNTOUCHED;

	switch (rng_below(&rng, 96)) {
	case 0:
		c->place = PL_NULL;
		break;
	case 1:
		c->place = PL_UNMAPPED;
		break;
	case 2:
		c->place = PL_KERNEL;
		break;
	case 3:
		c->place = PL_TO_HOLE;
		c->k = 1 + rng_below(&rng, sizeof(*io) - 1);
		break;
	case 4:
	case 5:
		c->place = PL_TO_RO;
		c->k = 1 + rng_below(&rng, sizeof(*io) - 1);
		break;
	case 6:
		c->place = PL_RO;
		break;
	default:
		c->place = PL_NORMAL;
	}
	/*
	 * A write whose status cannot come back still writes; the shadow
	 * then follows the model.  Not under fault injection, where the
	 * model cannot tell how far such a write got.
	 */
	if (c->write && (c->place == PL_TO_RO || c->place == PL_RO) &&
	    fault_injection)
		c->place = PL_NORMAL;
	c->fi = fault_injection && !one_in(4);
}

/* Running it */


static long fuzz_ioctl(int dev, struct call *c, void *arg)
{
	long ret;
	int err;

	/*
	 * Between the two writes nothing may fault in user space: a page
	 * fault that cannot allocate would loop.  Everything touched here
	 * has been touched before.
	 */
	if (c->fi && write(make_it_fail, "1", 1) != 1)
		return -2;
	ret = syscall(SYS_ioctl, dev, c->cmd, arg);
	err = errno;
	if (c->fi && write(make_it_fail, "0", 1) != 1)
		abort();
	errno = err;
	return ret;
}

static void set_ro_page(bool ro)
{
	if (mprotect((void *)(STRUCT_RO + PAGE), PAGE,
		     ro ? PROT_READ : PROT_READ | PROT_WRITE))
		abort();
}

static void run_call(struct call *c, struct outcome *got, struct zxmem_io *after)
{
	struct zxmem_io local = c->io;
	uint8_t *arg = (uint8_t *)&local;
	long ret;

	switch (c->place) {
	case PL_NULL:
		arg = NULL;
		break;
	case PL_UNMAPPED:
		arg = (uint8_t *)(ARENA_BASE + rng_below(&rng, PAGE - sizeof(local)));
		break;
	case PL_KERNEL:
		arg = (uint8_t *)(uintptr_t)pick_kernel_address();
		break;
	case PL_TO_HOLE:
		arg = (uint8_t *)(STRUCT_HOLE + PAGE - c->k);
		memcpy(arg, &local, c->k);
		break;
	case PL_TO_RO:
	case PL_RO:
		arg = (uint8_t *)(c->place == PL_RO ?
				  STRUCT_RO + PAGE + rng_below(&rng, PAGE - sizeof(local)) :
				  STRUCT_RO + PAGE - c->k);
		set_ro_page(false);
		memcpy(arg, &local, sizeof(local));
		set_ro_page(true);
		break;
	default:
		break;
	}

	ret = fuzz_ioctl(c->ro_dev ? dev_ro : dev_rw, c, arg);
	if (ret == -2) {
		printf("Bail out! cannot write /proc/self/make-it-fail\n");
		exit(1);
	}
	memset(got, 0, sizeof(*got));
	got->ret = ret;
	got->err = ret ? errno : 0;
	memcpy(after, &c->io, sizeof(*after));
	if (c->place == PL_NORMAL || c->place == PL_TO_RO ||
	    c->place == PL_RO)
		memcpy(after, arg, sizeof(*after));
	got->status = after->status;
	got->actual = after->actual;
}

/* Write a reported write into the shadows: [vaddr, vaddr + actual). */
static void shadow_apply(struct subject *t, uint64_t vaddr, uint64_t buffer,
			 uint64_t actual)
{
	uint64_t end = vaddr + actual;
	int i;

	for (i = 0; i < t->nr_vmas; i++) {
		struct vma *v = &t->vmas[i];
		uint64_t from = MAX(vaddr, v->start), to = MIN(end, v->end);

		if (!v->shadow || from >= to)
			continue;
		memcpy(v->shadow + (from - v->start),
		       (void *)(uintptr_t)(buffer + (from - vaddr)), to - from);
	}
}

/* A successful read must return what the shadows hold. */
static bool shadow_matches(const struct subject *t, uint64_t vaddr,
			   uint64_t buffer, uint64_t actual, uint64_t *where)
{
	uint64_t end = vaddr + actual;
	int i;

	for (i = 0; i < t->nr_vmas; i++) {
		const struct vma *v = &t->vmas[i];
		uint64_t from = MAX(vaddr, v->start), to = MIN(end, v->end);
		const uint8_t *got;
		uint64_t j;

		if (!v->shadow || from >= to)
			continue;
		got = (const uint8_t *)(uintptr_t)(buffer + (from - vaddr));
		if (!memcmp(v->shadow + (from - v->start), got, to - from))
			continue;
		for (j = 0; j < to - from; j++)
			if (got[j] != v->shadow[from - v->start + j])
				break;
		*where = from + j;
		return false;
	}
	return true;
}

/* The statuses Documentation/zxmem.rst allows for this kind of call. */
static unsigned int documented(const struct call *c)
{
	unsigned int set = ST_BIT(ST_INVALID_ARGS);

	if (c->write)
		set |= ST_BIT(ST_NOT_SUPPORTED);
	switch (c->h->kind) {
	case H_CLOSED:
		return set | ST_BIT(ST_BAD_HANDLE);
	case H_OTHER_FD:
		return set | ST_BIT(ST_WRONG_TYPE);
	case H_REAPED:
		return set | ST_BIT(ST_BAD_STATE);
	case H_UNTRACED:
	case H_UZOMBIE:
		return set | ST_BIT(ST_ACCESS_DENIED);
	case H_TZOMBIE:
		return set | ST_BIT(ST_ACCESS_DENIED) | ST_BIT(ST_BAD_STATE);
	default:
		return set | ST_BIT(ST_OK) | ST_BIT(ST_ACCESS_DENIED) |
		       ST_BIT(ST_BAD_STATE) | ST_BIT(ST_NO_MEMORY);
	}
}

/*
 * May @got stand for the predicted @want, in a call made while every
 * allocation fails?  Only where the module allocates
 * (the header comment): after step 11, when it faults in or fills the
 * caller's buffer and pins the target's pages.
 */
static bool degraded_ok(const struct call *c, const struct outcome *want,
			const struct outcome *got)
{
	if (!c->fi || !want->late)
		return false;
	if (want->status == ZX_OK)
		return got->status == ZX_ERR_NO_MEMORY ||
		       (got->status == ZX_OK && got->actual &&
			got->actual < want->actual);
	/*
	 * ZX_ERR_INVALID_ARGS at step 12.  access_ok() refuses before any
	 * allocation.  A write faults its buffer in from the first byte,
	 * and is refused without allocating if that byte is bad.  A read
	 * pins target pages before it touches its buffer, and fills the
	 * usable prefix before it reaches the bad byte.
	 */
	if (want->status != ZX_ERR_INVALID_ARGS || !want->acc)
		return false;
	if (c->write)
		return want->pre && got->status == ZX_ERR_NO_MEMORY;
	return got->status == ZX_ERR_NO_MEMORY ||
	       (got->status == ZX_OK && got->actual &&
		got->actual <= want->pre);
}

/*
 * A loose read's bytes: those of our read-only mappings must be what the
 * memory holds (nothing writes them); those of writable ones outside the
 * shadows (heap, stack, data) cannot be checked: false if there were any.
 * The shadowed part is shadow_matches()'s.
 */
static bool loose_read_checked(const struct call *c, uint64_t actual,
			       uint64_t *where, bool *bad)
{
	static uint8_t now_bytes[64 * KIB];
	uint64_t vaddr = c->io.vaddr, end = vaddr + actual;
	bool all = true;
	int i;

	*bad = false;
	for (i = 0; i < fresh_self.nr_vmas && !*bad; i++) {
		const struct vma *v = &fresh_self.vmas[i];
		uint64_t from = MAX(vaddr, v->start), to = MIN(end, v->end);

		if (from >= to || in_self_span(v->start))
			continue;
		if (v->flags & (V_W | V_IO)) {
			all = false;
			continue;
		}
		while (from < to && !*bad) {
			size_t step = MIN(to - from, sizeof(now_bytes));
			const uint8_t *got = (const uint8_t *)(uintptr_t)
					     (c->io.buffer + (from - vaddr));
			size_t j;

			if (pread_full(SELF->mem, now_bytes, step, from) !=
			    (ssize_t)step) {
				*where = from;
				*bad = true;
				break;
			}
			for (j = 0; j < step; j++)
				if (got[j] != now_bytes[j])
					break;
			if (j < step) {
				*where = from + j;
				*bad = true;
			}
			st.loose_checked_bytes += j;
			from += step;
		}
	}
	return all;
}

static void check_call(struct call *c)
{
	struct outcome want, got;
	struct zxmem_io after;
	unsigned int doc = documented(c);
	int idx;

	predict(c, &want);
	run_call(c, &got, &after);

	st.calls++;
	st.by_handle[c->h->kind]++;
	st.writes += c->write;
	st.reads += c->cmd_valid && !c->write;
	st.bad_cmds += !c->cmd_valid;
	st.bad_structs += c->place != PL_NORMAL;
	st.ro_dev += c->ro_dev;
	st.param_off_calls += !param;
	st.fi_calls += c->fi;
	st.loose += want.loose;

	idx = answer_class(got.ret, got.err, got.status);
	st.by_status[idx]++;

	/* 1: documented */
	if (!c->cmd_valid) {
		if (idx != ST_ENOTTY) {
			st.bad_documented++;
			report(c, "documented", "unknown command answered ret=%d errno=%d status=%d",
			       got.ret, got.err, got.status);
		}
	} else if (idx == ST_ENOTTY || idx == ST_OTHER ||
		   (idx < ST_ENOTTY && !(doc & ST_BIT(idx))) ||
		   (idx == ST_EFAULT && c->place == PL_NORMAL)) {
		st.bad_documented++;
		report(c, "documented", "ret=%d errno=%d status=%d (%s) is not documented here",
		       got.ret, got.err, got.status,
		       zx_status_get_string(got.status));
	}

	/* 2: predicted */
	if (got.ret != want.ret || (got.ret && got.err != want.err)) {
		st.bad_predicted++;
		report(c, "predicted", "ioctl ret=%d errno=%d, want ret=%d errno=%d (model status %s)",
		       got.ret, got.err, want.ret, want.err,
		       zx_status_get_string(want.status));
	} else if (got.ret == 0 &&
		   (got.status != want.status ||
		    (got.status == ZX_OK && got.actual != want.actual))) {
		if (degraded_ok(c, &want, &got)) {
			st.fi_degraded++;
		} else {
			st.bad_predicted++;
			report(c, "predicted", "got %s actual=%#llx, want %s actual=%#llx",
			       zx_status_get_string(got.status),
			       (unsigned long long)got.actual,
			       zx_status_get_string(want.status),
			       (unsigned long long)want.actual);
		}
	}

	/* 3: the struct: status always, actual on ZX_OK, nothing else */
	if (c->place == PL_NORMAL) {
		struct zxmem_io expect = c->io;

		if (got.ret == 0) {
			expect.status = got.status;
			if (got.status == ZX_OK)
				expect.actual = got.actual;
		}
		if (memcmp(&expect, &after, sizeof(after))) {
			st.bad_struct++;
			report(c, "struct", "ret=%d: the kernel wrote more than status%s (actual now %#llx)",
			       got.ret, got.status == ZX_OK ? " and actual" : "",
			       (unsigned long long)after.actual);
		}
	}
	if (got.ret == 0 && got.status == ZX_OK &&
	    (got.actual > c->io.buffer_size || !got.actual)) {
		st.bad_struct++;
		report(c, "struct", "actual %#llx is 0 or above the size",
		       (unsigned long long)got.actual);
	}

	/* 4: memory */
	if (!c->t || !want.ran)
		return;
	if (got.ret == 0 && got.status == ZX_OK) {
		st.ok_bytes += got.actual;
		st.short_copies += got.actual < c->io.buffer_size;
		if (c->write) {
			shadow_apply(c->t, c->io.vaddr, c->io.buffer,
				     got.actual);
		} else {
			uint64_t where = 0;
			bool bad = false;

			if (!shadow_matches(c->t, c->io.vaddr, c->io.buffer,
					    got.actual, &where)) {
				st.bad_read_bytes++;
				report(c, "read", "byte at %#llx differs from the shadow",
				       (unsigned long long)where);
			}
			if (want.loose &&
			    !loose_read_checked(c, got.actual, &where, &bad))
				st.loose_unchecked++;
			if (bad) {
				st.bad_read_bytes++;
				report(c, "read", "byte at %#llx differs from our read-only memory",
				       (unsigned long long)where);
			}
		}
	} else if (got.ret == -1 && got.err == EFAULT && want.ran &&
		   !want.status_seen && c->write && want.status == ZX_OK) {
		/* Ran, but could not say so: the model says what it wrote. */
		shadow_apply(c->t, c->io.vaddr, c->io.buffer, want.actual);
	}
}

/*
 * Batched calls.  One call in VEC_ONE_IN is a ZXMEM_IOC_*_MEMORY_VEC call
 * on one handle, with 1 to VEC_MAX_DRAWN segments drawn as the single
 * calls' ranges are, and now and then a bad header, a count out of
 * bounds, sizes over the total, an array the kernel cannot read, STOP or
 * EXCHANGE.  The model is the single call's, segment by segment: the
 * header, the total and the handle decide the call; each segment's fields,
 * region and buffers decide its own status.  Reads and exchanges return
 * bytes into slots of DST that no other segment of the call uses, so each
 * segment's bytes are checked against the shadow as it was when the
 * segment ran: after the earlier segments' writes, before its own.
 */
#define VEC_ONE_IN	8
#define VEC_MAX_DRAWN	40	/* past one kernel batch of 32 */

struct vcall {
	struct call c;		/* the handle, the direction, the device */
	struct zxmem_vec vec;
	struct zxmem_segment *segs;	/* where the kernel finds them */
	unsigned int nr;	/* segments drawn */
	bool array_bad;		/* vec.segments points at nothing */
	bool slotted[VEC_MAX_DRAWN];	/* its bytes land in a slot of its own */
};

static struct zxmem_segment vec_array[ZXMEM_MAX_SEGMENTS + 1];
static struct zxmem_segment vec_sent[ZXMEM_MAX_SEGMENTS + 1];

/* The fields alone; an exchange's old bytes apart from its new ones. */
static bool vec_fields_ok(const struct zxmem_segment *s, bool exchange)
{
	bool overlap = s->old - s->buffer < s->size ||
		       s->buffer - s->old < s->size;

	return !s->reserved && s->buffer && exchange == !!s->old &&
	       s->size && s->size <= MAX_XFER && !(exchange && overlap);
}

/*
 * A segment of a call that passed its target: the single call's steps on
 * its range, then, for an exchange, the old buffer as a second destination.
 */
static zx_status_t model_segment(const struct vcall *v,
				 const struct zxmem_segment *s,
				 struct outcome *o)
{
	bool exchange = v->vec.flags & ZXMEM_VEC_EXCHANGE, loose = false;
	uint64_t len = 0;
	int status;

	memset(o, 0, sizeof(*o));
	if (!vec_fields_ok(s, exchange))
		return ZX_ERR_INVALID_ARGS;
	status = predict_region(v->c.t, v->c.write, s->vaddr, s->size, &len,
				&loose);
	if (status != ZX_OK)
		return status;
	o->late = true;
	o->acc = access_ok_model(s->buffer, s->size);
	o->pre = o->acc ? arena_prefix(s->buffer, len, !v->c.write) : 0;
	if (o->pre < len)
		return ZX_ERR_INVALID_ARGS;
	if (exchange && (!access_ok_model(s->old, s->size) ||
			 arena_prefix(s->old, len, true) < len)) {
		o->loose = true;	/* here: the old buffer is to blame */
		return ZX_ERR_INVALID_ARGS;
	}
	o->actual = len;
	return ZX_OK;
}

/* A range of this call's target whose map cannot change under it. */
static uint64_t vec_vaddr(const struct vcall *v, uint64_t size)
{
	bool self_write = v->c.write && v->c.h->kind == H_SELF;
	struct subject *t = v->c.t ? v->c.t : TRACED;
	uint64_t vaddr, len;
	bool loose = false;

	if (!t->vmas)
		t = TRACED;
	vaddr = pick_vaddr(t, self_write);
	if (self_write && !self_write_safe(vaddr))
		vaddr = SELF_BASE + self_layout[0].off;
	if (v->c.h->kind == H_SELF) {
		predict_region(SELF, v->c.write, vaddr, size, &len, &loose);
		if (loose || !self_stable(vaddr))
			vaddr = SELF_BASE + self_layout[0].off;
	}
	return vaddr;
}

static uint64_t vec_size(void)
{
	switch (rng_below(&rng, 16)) {
	case 0 ... 7:
		return 1 + rng_below(&rng, 16);
	case 8 ... 11:
		return 1 + rng_below(&rng, 2 * PAGE);
	case 12 ... 13:
		return 1 + rng_below(&rng, 64 * KIB);
	default:
		return pick_size();
	}
}

/* A destination no other segment of the call writes, or a bad one. */
static uint64_t vec_slot(uint64_t *cursor, uint64_t size, bool *slotted)
{
	*slotted = false;
	switch (rng_below(&rng, 24)) {
	case 0:
		return 0;
	case 1:
		return RO_BUF + rng_below(&rng, SMALL_LEN);
	case 2:
		return NONE_BUF + rng_below(&rng, SMALL_LEN);
	case 3:
		return pick_kernel_address();
	case 4:		/* runs off the end of DST */
		return DST + XFER_LEN - 1 - rng_below(&rng, 2 * PAGE);
	default:
		break;
	}
	/* Clear of the bad destination that runs off the end. */
	if (size > XFER_LEN || *cursor + size > XFER_LEN - 3 * PAGE)
		return RO_BUF;
	*slotted = true;
	*cursor += size + rng_below(&rng, 64);
	return DST + *cursor - size;
}

static void pick_vec_call(struct vcall *v)
{
	uint64_t cursor = 0;
	bool exchange;
	unsigned int i;

	memset(v, 0, sizeof(*v));
	v->c.n = st.calls;
	v->c.write = one_in(2);
	v->c.cmd_valid = true;
	v->c.cmd = v->c.write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
				ZXMEM_IOC_READ_MEMORY_VEC;
	v->c.ro_dev = one_in(32);
	v->c.h = pick_handle();
	if (v->c.h->kind <= H_SELF)
		v->c.t = &targets[v->c.h->kind];
	v->c.fi = fault_injection && !one_in(4);

	switch (rng_below(&rng, 8)) {
	case 0 ... 2:
		v->nr = 1 + rng_below(&rng, 4);
		break;
	case 3 ... 5:
		v->nr = 1 + rng_below(&rng, 16);
		break;
	default:
		v->nr = 1 + rng_below(&rng, VEC_MAX_DRAWN);
	}
	v->vec.count = v->nr;
	v->vec.handle = v->c.h->value;
	if (v->c.write && !one_in(3))
		v->vec.flags |= ZXMEM_VEC_EXCHANGE;
	/* Under fault injection a segment may fail that the model passes. */
	if (one_in(4) && !fault_injection)
		v->vec.flags |= ZXMEM_VEC_STOP;
	if (one_in(64))
		v->vec.flags |= pick_u32_field();
	if (one_in(64))
		v->vec.reserved = pick_u32_field();
	if (!v->c.write && one_in(64))
		v->vec.flags |= ZXMEM_VEC_EXCHANGE;
	v->vec.status = STATUS_UNTOUCHED;
	v->vec.done = (uint32_t)STATUS_UNTOUCHED;
	v->vec.actual = ACTUAL_UNTOUCHED;
	exchange = v->vec.flags & ZXMEM_VEC_EXCHANGE;

	for (i = 0; i < v->nr; i++) {
		struct zxmem_segment *s = &vec_sent[i];
		bool slotted = false;

		memset(s, 0, sizeof(*s));
		s->size = vec_size();
		s->vaddr = vec_vaddr(v, s->size);
		if (v->c.write) {
			s->buffer = pick_buffer(true);
			/* DST holds the slots: a source there could change. */
			if (s->buffer >= DST && s->buffer < DST + XFER_LEN)
				s->buffer = SRC + pick_offset();
			if (exchange && one_in(64))
				/* Over its own new bytes: refused untouched. */
				s->old = s->buffer + rng_below(&rng, s->size);
			else if (exchange)
				s->old = vec_slot(&cursor, s->size, &slotted);
			else if (one_in(64))
				s->old = SRC;
		} else {
			s->buffer = vec_slot(&cursor, s->size, &slotted);
		}
		v->slotted[i] = slotted;
		if (one_in(64))
			s->reserved = pick_u32_field();
		s->actual = ACTUAL_UNTOUCHED;
		s->status = STATUS_UNTOUCHED;
	}
	/*
	 * Over the total: two valid segments that together pass 64 MiB, so
	 * that the call is refused whatever the others are (their buffers
	 * are no slots: nothing may reach them).
	 */
	if (v->nr >= 2 && one_in(48)) {
		for (i = 0; i < 2; i++) {
			vec_sent[i].size = MAX_XFER / 2 + !i *
					   (1 + rng_below(&rng, PAGE));
			vec_sent[i].buffer = SRC;
			/* Apart from the buffer, or no valid segment. */
			vec_sent[i].old = exchange ? SRC + MAX_XFER : 0;
			vec_sent[i].reserved = 0;
			v->slotted[i] = false;
		}
	}
	switch (rng_below(&rng, 64)) {
	case 0:
		v->vec.count = 0;
		break;
	case 1:
		v->vec.count = ZXMEM_MAX_SEGMENTS + 1 + rng_below(&rng, 4);
		break;
	case 2:
		v->array_bad = true;
		break;
	default:
		break;
	}
}

static zx_status_t model_vec(const struct vcall *v, uint64_t *total)
{
	bool exchange = v->vec.flags & ZXMEM_VEC_EXCHANGE;
	unsigned int i;

	*total = 0;
	if (v->c.write && !param)
		return ZX_ERR_NOT_SUPPORTED;
	if ((v->vec.flags & ~(ZXMEM_VEC_EXCHANGE | ZXMEM_VEC_STOP)) ||
	    v->vec.reserved || (exchange && !v->c.write) || !v->vec.count ||
	    v->vec.count > ZXMEM_MAX_SEGMENTS || !v->vec.segments)
		return ZX_ERR_INVALID_ARGS;
	for (i = 0; i < v->nr; i++)
		if (vec_fields_ok(&vec_sent[i], exchange))
			*total += vec_sent[i].size;
	if (*total > MAX_XFER)
		return ZX_ERR_INVALID_ARGS;
	return model_handle(&v->c);
}

/* Under fault injection: the single call's rule, and the old buffer's. */
static bool vec_degraded_ok(const struct vcall *v, const struct outcome *want,
			    zx_status_t status, uint64_t actual)
{
	struct outcome got = { .status = status, .actual = actual };

	if (degraded_ok(&v->c, want, &got))
		return true;
	/* The old buffer is faulted in by GUP, which can run out of memory. */
	return v->c.fi && want->loose && status == ZX_ERR_NO_MEMORY;
}

static void check_vec_call(void)
{
	static struct outcome want[VEC_MAX_DRAWN];
	bool exchange, ok_call, header_ok;
	struct zxmem_vec after;
	uint64_t total, sum = 0;
	zx_status_t call_status;
	unsigned int i, done;
	struct vcall v;
	long ret;
	int err;

	pick_vec_call(&v);
	exchange = v.vec.flags & ZXMEM_VEC_EXCHANGE;
	memcpy(vec_array, vec_sent, sizeof(vec_array));
	v.vec.segments = v.array_bad ? ARENA_BASE : (uintptr_t)vec_array;
	call_status = model_vec(&v, &total);
	header_ok = call_status != ZX_ERR_NOT_SUPPORTED &&
		    !(call_status == ZX_ERR_INVALID_ARGS && total <= MAX_XFER);
	ok_call = call_status == ZX_OK && !v.array_bad;
	done = 0;
	for (i = 0; ok_call && i < v.nr; i++) {
		vec_sent[i].status = model_segment(&v, &vec_sent[i], &want[i]);
		done = i + 1;
		if ((v.vec.flags & ZXMEM_VEC_STOP) &&
		    vec_sent[i].status != ZX_OK)
			break;
	}

	after = v.vec;
	ret = fuzz_ioctl(v.c.ro_dev ? dev_ro : dev_rw, &v.c, &after);
	err = errno;
	st.calls++;
	st.vec_calls++;
	st.vec_segments += v.nr;
	st.vec_exchanges += exchange;
	st.by_handle[v.c.h->kind]++;
	st.fi_calls += v.c.fi;
	st.by_status[answer_class(ret, ret ? err : 0, after.status)]++;

	/* The call as a whole; its header gets status, done, actual only. */
	if (after.segments != v.vec.segments || after.count != v.vec.count ||
	    after.handle != v.vec.handle || after.flags != v.vec.flags ||
	    after.reserved != v.vec.reserved) {
		st.bad_struct++;
		report(&v.c, "struct", "a batched call changed its header's inputs");
	}
	if (v.array_bad && header_ok && call_status != ZX_ERR_NOT_SUPPORTED &&
	    !(v.c.fi && ret == 0 && after.status == ZX_ERR_NO_MEMORY)) {
		if (ret != -1 || err != EFAULT) {
			st.bad_predicted++;
			report(&v.c, "predicted", "batched call with an unreadable array: ret=%ld errno=%d, want EFAULT",
			       ret, err);
		}
		return;
	}
	if (ret != 0) {
		st.bad_predicted++;
		report(&v.c, "predicted", "batched call: ret=%ld errno=%d", ret,
		       err);
		return;
	}
	if (v.c.fi && header_ok && call_status == ZX_OK &&
	    after.status == ZX_ERR_NO_MEMORY && after.done == 0) {
		/* The call's own state could not be allocated. */
		st.fi_degraded++;
		return;
	}
	if (after.status != call_status) {
		if (v.c.fi && header_ok && after.status == ZX_ERR_NO_MEMORY) {
			st.fi_degraded++;
		} else {
			st.bad_predicted++;
			report(&v.c, "predicted", "batched call (%u segments, flags %#x): got %s, want %s",
			       v.nr, v.vec.flags,
			       zx_status_get_string(after.status),
			       zx_status_get_string(call_status));
		}
		return;
	}
	if (call_status != ZX_OK) {
		if (after.done || after.actual != ACTUAL_UNTOUCHED ||
		    memcmp(vec_array, vec_sent, v.nr * sizeof(vec_sent[0]))) {
			st.bad_struct++;
			report(&v.c, "struct", "a refused batched call wrote done=%u or a segment",
			       after.done);
		}
		return;
	}
	if (after.done != done) {
		st.bad_predicted++;
		report(&v.c, "predicted", "batched call: done=%u, want %u",
		       after.done, done);
		return;
	}

	/* Each segment, in order, against the shadows as it found them. */
	for (i = 0; i < v.nr; i++) {
		struct zxmem_segment *got = &vec_array[i], *s = &vec_sent[i];
		struct zxmem_segment expect = *s;
		uint64_t where = 0;

		expect.status = STATUS_UNTOUCHED;
		if (i < done) {
			expect.status = got->status;
			if (got->status == ZX_OK)
				expect.actual = got->actual;
		}
		if (memcmp(&expect, got, sizeof(expect))) {
			st.bad_struct++;
			report(&v.c, "struct", "segment %u: the kernel wrote more than its status and actual",
			       i);
		}
		if (i >= done)
			continue;
		if (got->status != s->status ||
		    (got->status == ZX_OK && got->actual != want[i].actual)) {
			if (vec_degraded_ok(&v, &want[i], got->status,
					    got->actual)) {
				st.fi_degraded++;
			} else {
				st.bad_predicted++;
				report(&v.c, "predicted", "segment %u of %u (vaddr %#llx size %#llx): got %s actual=%#llx, want %s actual=%#llx",
				       i, v.nr, (unsigned long long)s->vaddr,
				       (unsigned long long)s->size,
				       zx_status_get_string(got->status),
				       (unsigned long long)got->actual,
				       zx_status_get_string(s->status),
				       (unsigned long long)want[i].actual);
			}
		}
		st.vec_by_status[status_class_of(got->status)]++;
		if (got->status != ZX_OK)
			continue;
		sum += got->actual;
		st.ok_bytes += got->actual;
		if (v.c.write && exchange && v.slotted[i] &&
		    !shadow_matches(v.c.t, s->vaddr, s->old, got->actual,
				    &where)) {
			st.bad_read_bytes++;
			report(&v.c, "read", "segment %u: the exchange's old byte for %#llx is not what it replaced",
			       i, (unsigned long long)where);
		}
		if (v.c.write)
			shadow_apply(v.c.t, s->vaddr, s->buffer, got->actual);
		else if (v.slotted[i] &&
			 !shadow_matches(v.c.t, s->vaddr, s->buffer,
					 got->actual, &where)) {
			st.bad_read_bytes++;
			report(&v.c, "read", "segment %u: byte at %#llx differs from the shadow",
			       i, (unsigned long long)where);
		}
	}
	if (after.actual != sum) {
		st.bad_struct++;
		report(&v.c, "struct", "batched call: actual %#llx is not the segments' sum %#llx",
		       (unsigned long long)after.actual,
		       (unsigned long long)sum);
	}
}

/*
 * Under fault injection, calls that find every page in place allocate
 * nothing.  Now and then drop the read buffer and this process's private
 * regions (their shadows become zeros, as the memory does), so that the
 * calls must fault pages in again, and fail to.
 */
static void drop_pages(void)
{
	size_t i;
	int j;

	madvise((void *)DST, XFER_LEN, MADV_DONTNEED);
	for (i = 0; i < ARRAY_SIZE(self_layout); i++) {
		const struct seg *g = &self_layout[i];
		uint64_t start = SELF_BASE + g->off;

		if (g->kind != SEG_RW && g->kind != SEG_RO &&
		    g->kind != SEG_NONE && g->kind != SEG_RX)
			continue;
		if (madvise((void *)start, g->len, MADV_DONTNEED))
			continue;
		for (j = 0; j < SELF->nr_vmas; j++) {
			struct vma *v = &SELF->vmas[j];

			if (v->shadow && v->start <= start &&
			    start + g->len <= v->end)
				memset(v->shadow + (start - v->start), 0,
				       g->len);
		}
	}
}

/* Main */

static void die_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--seed N] [--calls N] [--time SECONDS] [--min-calls N]\n"
			"       [--fault-injection [--min-injected N] [--min-degraded N]]\n"
			"       %s [SEED [CALLS [SECONDS]]]\n", argv0, argv0);
	exit(2);
}

static const char *const tap_names[] = {
	"statuses_are_documented",
	"statuses_match_the_model",
	"struct_gets_only_status_and_actual",
	"reads_return_the_shadow",
	"memory_matches_shadow",
	"call_count_reached",
	"loose_calls_are_bounded",
	"batched_calls_were_made",
	"faults_were_injected",		/* --fault-injection only */
};

static bool tap(int n, bool ok, const char *prefix)
{
	printf("%s %d %s%s\n", ok ? "ok" : "not ok", n, prefix,
	       tap_names[n - 1]);
	return ok;
}

static void cleanup(void)
{
	int i;

	for (i = 0; i <= H_SELF; i++) {
		struct subject *t = &targets[i];

		if (i == H_SELF)
			continue;
		if (t->proc.pid > 0)
			kill(t->proc.pid, SIGKILL);
		target_reap(&t->proc);
		t->pid = 0;
	}
	if (file_path[0])
		unlink(file_path);
	if (saved_param >= 0)
		param_write(saved_param);
}

int main(int argc, char **argv)
{
	unsigned long max_calls = 100000, positional = 0, min_calls = ~0UL;
	unsigned long min_injected = 1, min_degraded = 1;
	long fi_before[2] = { 0, 0 }, fi_after;
	unsigned long long seed = 1;
	double cap = 300, start, elapsed;
	const char *prefix = "fuzz_";
	unsigned long next_compare = 4096, next_progress = 10000;
	uint8_t check[FILE_LEN];
	bool cap_hit = false, all_ok = true;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--fault-injection"))
			fault_injection = true;
		else if (!strncmp(a, "--seed=", 7))
			seed = strtoull(a + 7, NULL, 0);
		else if (!strcmp(a, "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strncmp(a, "--calls=", 8))
			max_calls = strtoul(a + 8, NULL, 0);
		else if (!strcmp(a, "--calls") && i + 1 < argc)
			max_calls = strtoul(argv[++i], NULL, 0);
		else if (!strncmp(a, "--time=", 7))
			cap = strtod(a + 7, NULL);
		else if (!strcmp(a, "--time") && i + 1 < argc)
			cap = strtod(argv[++i], NULL);
		else if (!strcmp(a, "--min-calls") && i + 1 < argc)
			min_calls = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--min-injected") && i + 1 < argc)
			min_injected = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(a, "--min-degraded") && i + 1 < argc)
			min_degraded = strtoul(argv[++i], NULL, 0);
		else if (a[0] < '0' || a[0] > '9' || positional > 2)
			die_usage(argv[0]);
		else if (positional++ == 0)
			seed = strtoull(a, NULL, 0);
		else if (positional == 2)
			max_calls = strtoul(a, NULL, 0);
		else
			cap = strtod(a, NULL);
	}
	if (min_calls > max_calls)
		min_calls = max_calls;
	setvbuf(stdout, NULL, _IOLBF, 0);
	rng = seed;
	if (fault_injection)
		prefix = "fuzz_fault_injection_";

	printf("TAP version 13\n");
	printf("# fuzz: seed=%llu calls=%lu cap=%.0fs min-calls=%lu%s (replay: %s --seed %llu --calls %lu%s)\n",
	       seed, max_calls, cap, min_calls,
	       fault_injection ? " fault-injection" : "",
	       argv[0], seed, max_calls,
	       fault_injection ? " --fault-injection" : "");
	if (access(ZXMEM_DEVICE_PATH, F_OK)) {
		printf("1..1\nok 1 %sfuzz # SKIP %s is missing\n", prefix,
		       ZXMEM_DEVICE_PATH);
		return 0;
	}
	if (fault_injection) {
		/* Asked for, so not having it is a failure, not a skip. */
		make_it_fail = open("/proc/self/make-it-fail",
				    O_WRONLY | O_CLOEXEC);
		if (make_it_fail < 0) {
			printf("1..1\nnot ok 1 %ssetup # no /proc/self/make-it-fail (CONFIG_FAULT_INJECTION)\n",
			       prefix);
			return 1;
		}
		for (i = 0; i < 2; i++) {
			fi_before[i] = zxmem_fault_times_left(fi_attr[i]);
			if (fi_before[i] <= 0) {
				printf("1..1\nnot ok 1 %ssetup # %s/%s/times must hold a positive count (it counts the injected failures down)\n",
				       prefix, DEBUGFS, fi_attr[i]);
				return 1;
			}
		}
	}
	printf("1..%zu\n", ARRAY_SIZE(tap_names) - !fault_injection);

	saved_param = zxmem_param_get();
	dev_rw = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	dev_ro = open(ZXMEM_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (saved_param < 0 || dev_rw < 0 || dev_ro < 0 || param_write(1)) {
		printf("Bail out! cannot open %s or set %s: %s\n",
		       ZXMEM_DEVICE_PATH, ZXMEM_PARAM_PATH, strerror(errno));
		return 1;
	}

	/* The children first, while this process is small. */
	for (i = 0; i < H_SELF; i++)
		targets[i].proc = TARGET_NONE;
	if (make_file() ||
	    setup_target(TRACED, H_TRACED) ||
	    setup_target(UNTRACED, H_UNTRACED) ||
	    setup_target(&targets[H_TZOMBIE], H_TZOMBIE) ||
	    setup_target(&targets[H_UZOMBIE], H_UZOMBIE) ||
	    setup_target(&targets[H_REAPED], H_REAPED) ||
	    map_arena() ||
	    map_layout(SELF_BASE, self_layout, ARRAY_SIZE(self_layout),
		       rng_next(&rng)) ||
	    setup_self() || setup_handles()) {
		printf("Bail out! setup failed: %s\n", strerror(errno));
		cleanup();
		return 1;
	}
	find_user_top();
	top_is_free = true;
	for (i = 0; i < SELF->nr_vmas; i++)
		if (SELF->vmas[i].end > TASK_TOP - 16 * MIB &&
		    SELF->vmas[i].start < TASK_TOP)
			top_is_free = false;
	printf("# traced child %d: %d mappings; untraced child %d; own mappings %d; handles %d; user space ends at %#llx for access_ok()\n",
	       TRACED->pid, TRACED->nr_vmas, UNTRACED->pid, SELF->nr_vmas,
	       nr_handles, (unsigned long long)user_top);

	start = now_s();
	while (st.calls < max_calls) {
		struct call c;

		elapsed = now_s() - start;
		if (elapsed >= cap) {
			cap_hit = true;
			break;
		}
		if (one_in(param ? 400 : 40)) {
			if (param_write(!param) == 0)
				st.param_flips++;
		}
		if (fault_injection && st.calls % 256 == 0)
			drop_pages();
		if (one_in(VEC_ONE_IN)) {
			check_vec_call();
		} else {
			pick_call(&c);
			check_call(&c);
		}
		if (st.calls >= next_compare) {
			compare_target(TRACED, "periodic");
			compare_target(SELF, "periodic");
			next_compare += 4096;
		}
		if (st.calls >= next_progress) {
			printf("# %lu calls, %.0f s\n", st.calls, now_s() - start);
			next_progress += 10000;
		}
	}
	elapsed = now_s() - start;
	for (i = 0; fault_injection && i < 2; i++) {
		fi_after = zxmem_fault_times_left(fi_attr[i]);
		if (fi_after < 0 || fi_after > fi_before[i])
			printf("# %s/%s/times read %ld, then %ld: no count of the injected failures\n",
			       DEBUGFS, fi_attr[i], fi_before[i], fi_after);
		else
			st.fi_injected[i] = fi_before[i] - fi_after;
	}

	compare_target(TRACED, "final");
	compare_target(SELF, "final");
	compare_target(UNTRACED, "final");
	if (pread_full(file_fd, check, sizeof(check), 0) != sizeof(check) ||
	    memcmp(check, file_bytes, sizeof(check))) {
		printf("# FAIL memory: the file behind the private and shared read-only mappings changed\n");
		st.bad_memory++;
	}

	printf("# calls=%lu in %.1f s (%.0f/s): writes=%lu reads=%lu bad-commands=%lu bad-struct-pointers=%lu read-only-dev=%lu param-flips=%lu calls-with-param-off=%lu\n",
	       st.calls, elapsed, st.calls / (elapsed > 0 ? elapsed : 1),
	       st.writes, st.reads, st.bad_cmds, st.bad_structs, st.ro_dev,
	       st.param_flips, st.param_off_calls);
	printf("# batched calls=%lu with %lu segments, %lu exchanging; segments by status:",
	       st.vec_calls, st.vec_segments, st.vec_exchanges);
	for (i = 0; i < ST_NR; i++)
		printf(" %s=%lu", status_class_name[i], st.vec_by_status[i]);
	printf("\n");
	printf("# by status:");
	for (i = 0; i < ST_NR; i++)
		printf(" %s=%lu", status_class_name[i], st.by_status[i]);
	printf("\n# by handle:");
	for (i = 0; i < H_NR; i++)
		printf(" %s=%lu", hkind_name[i], st.by_handle[i]);
	printf("\n# bytes copied on ZX_OK=%lu, short copies=%lu, shadow compares=%lu\n",
	       st.ok_bytes, st.short_copies, st.compares);
	printf("# loose (predicted from a fresh map of our own): %lu calls (%.1f%%, at most %d%%), %lu reads with bytes of our writable memory unchecked, %lu bytes of our read-only memory checked\n",
	       st.loose, 100.0 * st.loose / (st.calls ? st.calls : 1),
	       LOOSE_MAX_PERCENT, st.loose_unchecked, st.loose_checked_bytes);
	if (fault_injection)
		printf("# fault injection: %lu calls ran with make-it-fail, %lu failures were injected (failslab %lu, fail_page_alloc %lu), %lu calls answered otherwise than predicted (ZX_ERR_NO_MEMORY or fewer bytes); floors: %lu failures of each kind, %lu answers\n",
		       st.fi_calls, st.fi_injected[0] + st.fi_injected[1],
		       st.fi_injected[0], st.fi_injected[1], st.fi_degraded,
		       min_injected, min_degraded);
	if (cap_hit)
		printf("# the wall-clock cap of %.0f s stopped the run after %lu of %lu calls (floor %lu)\n",
		       cap, st.calls, max_calls, min_calls);

	all_ok &= tap(1, !st.bad_documented, prefix);
	all_ok &= tap(2, !st.bad_predicted, prefix);
	all_ok &= tap(3, !st.bad_struct, prefix);
	all_ok &= tap(4, !st.bad_read_bytes, prefix);
	all_ok &= tap(5, !st.bad_memory, prefix);
	all_ok &= tap(6, st.calls >= min_calls, prefix);
	all_ok &= tap(7, st.loose * 100 <= st.calls * LOOSE_MAX_PERCENT,
		      prefix);
	/* At least half the share drawn, and exchanges among them. */
	all_ok &= tap(8, st.vec_calls * VEC_ONE_IN * 2 >= st.calls &&
			 st.vec_exchanges, prefix);
	if (fault_injection)
		all_ok &= tap(9, st.fi_injected[0] >= min_injected &&
				 st.fi_injected[1] >= min_injected &&
				 st.fi_degraded >= min_degraded, prefix);

	cleanup();
	return !all_ok;
}
