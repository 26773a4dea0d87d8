// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for zxmem from a 32-bit (i386) process on a 64-bit kernel:
 * the ioctls go through compat_ptr_ioctl(), and struct zxmem_io must mean
 * the same as for a 64-bit caller.  The __u64 fields carry 64-bit values
 * from a process whose pointers are 32 bits wide; a kernel that dropped
 * their upper halves would reach memory the caller never named.
 *
 * Built with -m32; run as root with zxmem.ko loaded, on a kernel with
 * CONFIG_IA32_EMULATION.  The fixture switches enable_debugging_syscalls
 * on and restores it afterwards.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/zxmem.h>
#include <zircon/syscalls.h>

/* The 6.1 harness has an unused parameter; -Wextra -Werror would stop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "zxmem_selftest.h"

#define LEN		(64u * 1024)
#define OLD		0x11
#define NEW		0xee
#define ACTUAL_UNTOUCHED	0x5a5a5a5a5a5a5a5aULL
#define STATUS_UNTOUCHED	((__s32)0x5a5a5a5a)
#define HIGH_BIT	(1ULL << 32)

_Static_assert(sizeof(void *) == 4, "build this test with -m32");

/* The child's copy of this array, after fork(), is the target. */
static uint8_t region[LEN] __attribute__((aligned(4096)));

/* The child's region, through /proc/PID/mem (not zxmem); 0 or -1. */
static int child_region(pid_t pid, uint8_t *out)
{
	char path[32];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = pread64(fd, out, LEN, (uintptr_t)region) == LEN ? 0 : -1;
	close(fd);
	return ret;
}

/* Bytes of the child's region not equal to @byte; -1 if unreadable. */
static int64_t child_mismatches(pid_t pid, uint8_t byte)
{
	static uint8_t seen[LEN];
	int64_t bad = 0;
	unsigned int i;

	if (child_region(pid, seen))
		return -1;
	for (i = 0; i < LEN; i++)
		bad += seen[i] != byte;
	return bad;
}

static struct zxmem_io request(int pidfd, uint64_t vaddr, uint64_t buffer,
			       uint64_t size)
{
	struct zxmem_io io = {
		.vaddr = vaddr,
		.buffer = buffer,
		.buffer_size = size,
		.actual = ACTUAL_UNTOUCHED,
		.handle = pidfd,
		.status = STATUS_UNTOUCHED,
	};

	return io;
}

FIXTURE(compat)
{
	bool skipped;		/* SKIP() in setup does not stop the test */
	int saved_param;
	int dev;
	pid_t child;
	int pidfd;
	uint8_t buf[LEN];
};

FIXTURE_SETUP(compat)
{
	self->child = -1;
	self->pidfd = -1;
	self->saved_param = -1;
	self->dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (self->dev < 0) {
		self->skipped = true;
		SKIP(return, "%s: %s (zxmem.ko loaded? root?)",
		     ZXMEM_DEVICE_PATH, strerror(errno));
	}

	memset(region, OLD, LEN);
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		/* Don't outlive a test that died. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	self->pidfd = zxmem_pidfd_open(self->child);
	ASSERT_LE(0, self->pidfd);
	/* Last: the teardown that restores it runs only after this. */
	self->saved_param = zxmem_param_get();
	ASSERT_LE(0, self->saved_param);
	ASSERT_EQ(0, zxmem_param_set(1));
}

FIXTURE_TEARDOWN(compat)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->pidfd >= 0)
		close(self->pidfd);
	if (self->dev >= 0)
		close(self->dev);
	if (self->saved_param >= 0)
		EXPECT_EQ(0, zxmem_param_set(self->saved_param));
}

/* The numbers and offsets a 64-bit caller uses, unchanged. */
TEST_F(compat, layout_is_the_64bit_one)
{
	if (self->skipped)
		return;
	ASSERT_EQ(48u, sizeof(struct zxmem_io));
	ASSERT_EQ(0u, offsetof(struct zxmem_io, vaddr));
	ASSERT_EQ(8u, offsetof(struct zxmem_io, buffer));
	ASSERT_EQ(16u, offsetof(struct zxmem_io, buffer_size));
	ASSERT_EQ(24u, offsetof(struct zxmem_io, actual));
	ASSERT_EQ(32u, offsetof(struct zxmem_io, handle));
	ASSERT_EQ(36u, offsetof(struct zxmem_io, flags));
	ASSERT_EQ(40u, offsetof(struct zxmem_io, status));
	ASSERT_EQ(44u, offsetof(struct zxmem_io, reserved));
	ASSERT_EQ(0xc030ba00u, ZXMEM_IOC_WRITE_MEMORY);
	ASSERT_EQ(0xc030ba01u, ZXMEM_IOC_READ_MEMORY);
}

TEST_F(compat, tracer_writes_and_reads_64_kib)
{
	size_t actual = 0;
	unsigned int i;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	memset(self->buf, NEW, LEN);
	ASSERT_EQ(ZX_OK, zx_process_write_memory(self->pidfd,
						 (uintptr_t)region, self->buf,
						 LEN, &actual));
	ASSERT_EQ((size_t)LEN, actual);
	ASSERT_EQ(0, child_mismatches(self->child, NEW));

	memset(self->buf, 0, LEN);
	actual = 0;
	ASSERT_EQ(ZX_OK, zx_process_read_memory(self->pidfd,
						(uintptr_t)region, self->buf,
						LEN, &actual));
	ASSERT_EQ((size_t)LEN, actual);
	for (i = 0; i < LEN; i++)
		ASSERT_EQ(NEW, self->buf[i]);
}

TEST_F(compat, own_process_writes_and_reads_itself)
{
	static uint8_t mine[4096];
	int me = zxmem_pidfd_open(getpid());
	size_t actual = 0;

	if (self->skipped)
		return;
	ASSERT_LE(0, me);
	memset(self->buf, NEW, sizeof(mine));
	ASSERT_EQ(ZX_OK, zx_process_write_memory(me, (uintptr_t)mine,
						 self->buf, sizeof(mine),
						 &actual));
	ASSERT_EQ(sizeof(mine), actual);
	ASSERT_EQ(NEW, mine[0]);
	ASSERT_EQ(NEW, mine[sizeof(mine) - 1]);
	ASSERT_EQ(ZX_OK, zx_process_read_memory(me, (uintptr_t)region,
						self->buf, 16, &actual));
	ASSERT_EQ(16u, actual);
	ASSERT_EQ(OLD, self->buf[15]);
	close(me);
}

/* A raw write that must be refused with @want, changing nothing. */
static void assert_write_refused(struct __test_metadata *_metadata,
				 FIXTURE_DATA(compat) *self, uint64_t vaddr,
				 uint64_t buffer, uint64_t size,
				 zx_status_t want)
{
	struct zxmem_io io = request(self->pidfd, vaddr, buffer, size);

	memset(self->buf, NEW, LEN);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_EQ(want, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
}

TEST_F(compat, untraced_child_is_access_denied)
{
	if (self->skipped)
		return;
	assert_write_refused(_metadata, self, (uintptr_t)region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_ACCESS_DENIED);
}

/*
 * A 32-bit process has nothing mapped above 4 GiB: with the upper half
 * kept, the buffer is not a user range of this process, and the address
 * is not mapped in the target.  Dropped, both would be valid.
 */
TEST_F(compat, upper_half_of_buffer_is_kept)
{
	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	assert_write_refused(_metadata, self, (uintptr_t)region,
			     HIGH_BIT | (uintptr_t)self->buf, LEN,
			     ZX_ERR_INVALID_ARGS);
}

TEST_F(compat, upper_half_of_vaddr_is_kept)
{
	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	assert_write_refused(_metadata, self, HIGH_BIT | (uintptr_t)region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_NO_MEMORY);
}

TEST_F(compat, upper_half_of_size_is_kept)
{
	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	assert_write_refused(_metadata, self, (uintptr_t)region,
			     (uintptr_t)self->buf, HIGH_BIT | 16,
			     ZX_ERR_INVALID_ARGS);
}

TEST_F(compat, write_with_parameter_off_is_not_supported)
{
	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	ASSERT_EQ(0, zxmem_param_set(0));
	assert_write_refused(_metadata, self, (uintptr_t)region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_NOT_SUPPORTED);
}

TEST_F(compat, bad_struct_is_efault_and_unknown_command_enotty)
{
	struct zxmem_io io = request(self->pidfd, (uintptr_t)region,
				     (uintptr_t)self->buf, 1);

	if (self->skipped)
		return;
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY, NULL));
	ASSERT_EQ(EFAULT, errno);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, _IOWR(0xBA, 0x02, struct zxmem_io),
			    &io));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(STATUS_UNTOUCHED, io.status);
}

/*
 * Random requests from a 32-bit caller, seeded: every field at random or
 * at a boundary (addresses with their upper halves set, sizes around
 * 64 MiB and above 4 GiB, bad handles, flag and reserved bits, unknown
 * commands of this driver).  Each call's status and actual are predicted
 * from Documentation/zxmem.rst's table, the child's mappings (its smaps,
 * read once: the child only sleeps) and ours; the call must give exactly
 * that answer, write back only status (and actual on ZX_OK), and the
 * child's region must hold exactly what the calls reported writing.
 */
#define FUZZ_SEED	0x32b17c0de5eedULL
#define FUZZ_CALLS	20000
#define FUZZ_SECONDS	60.0
#define MAX_VMAS	64

static uint64_t rng = FUZZ_SEED;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static uint64_t pick_vaddr(void)
{
	uint64_t base = (uintptr_t)region;

	switch (rnd_below(8)) {
	case 0:
		return rnd();
	case 1:
		return (uint32_t)rnd();
	case 2:
		return 0;
	case 3:
		return HIGH_BIT | (base + rnd_below(LEN));
	case 4:		/* near the end: runs out of the region */
		return base + LEN - 1 - rnd_below(64);
	default:
		return base + rnd_below(LEN);
	}
}

/* @room: LEN bytes of ours, followed by a PROT_NONE page. */
static uint64_t pick_buffer(uint8_t *room)
{
	switch (rnd_below(10)) {
	case 0:
		return rnd();
	case 1:
		return (uint32_t)rnd();
	case 2:
		return 0;
	case 3:
		return HIGH_BIT | (uintptr_t)room;
	case 4:		/* runs into the PROT_NONE page */
		return (uintptr_t)room + LEN - 1 - rnd_below(64);
	default:
		return (uintptr_t)room + rnd_below(LEN);
	}
}

static uint64_t pick_size(void)
{
	static const uint64_t edges[] = {
		0, 1, LEN, ZXMEM_MAX_TRANSFER, ZXMEM_MAX_TRANSFER + 1,
		HIGH_BIT | 16, UINT64_MAX,
	};

	if (rnd_below(3))
		return 1 + rnd_below(rnd_below(2) ? 64 : LEN);
	return rnd_below(8) == 7 ? rnd() : edges[rnd_below(7)];
}

static uint32_t pick_bits(void)
{
	return rnd_below(10) ? 0 : 1u << rnd_below(32);
}

/* An unknown command of this driver: type 0xBA, any other nr or size. */
static unsigned long pick_bad_command(void)
{
	unsigned long cmd;

	do {
		cmd = ((uint32_t)rnd() & ~0xff00u) | 0xba00u;
	} while (cmd == ZXMEM_IOC_WRITE_MEMORY || cmd == ZXMEM_IOC_READ_MEMORY);
	return cmd;
}

/* One mapping, as /proc/PID/smaps shows it. */
struct vma {
	uint64_t start, end;
	bool read, write, shared, mayread, maywrite;
	bool uncached;		/* VM_IO or VM_PFNMAP */
	bool vdso;		/* "[vdso]" or "[vvar...]": never written */
	bool special;		/* any other "[name]" but [heap] and [stack] */
};

struct space {
	struct vma vma[MAX_VMAS];
	unsigned int count;
	/* Where the stack may grow to, down from its end, when touched. */
	uint64_t stack_floor, stack_end;
};

static bool has_flag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);
	const char *at;

	for (at = strstr(flags, flag); at; at = strstr(at + 1, flag))
		if ((at == flags || at[-1] == ' ') &&
		    (at[len] == ' ' || at[len] == '\n' || !at[len]))
			return true;
	return false;
}

/* The mappings of @pid from its smaps, in address order; 0 or -1. */
static int read_space(pid_t pid, struct space *space)
{
	char path[32], line[512];
	struct vma *vma = NULL;
	int stack_vma = -1;
	struct rlimit stack;
	FILE *smaps;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	smaps = fopen(path, "re");
	if (!smaps)
		return -1;
	space->count = 0;
	while (fgets(line, sizeof(line), smaps)) {
		unsigned long long start, end;
		char perms[8], name[128] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %127s", &start,
			   &end, perms, name) >= 3) {
			if (space->count == MAX_VMAS)
				break;
			vma = &space->vma[space->count++];
			memset(vma, 0, sizeof(*vma));
			vma->start = start;
			vma->end = end;
			vma->read = perms[0] == 'r';
			vma->write = perms[1] == 'w';
			vma->shared = perms[3] == 's';
			vma->vdso = !strcmp(name, "[vdso]") ||
				    !strncmp(name, "[vvar", 5);
			vma->special = name[0] == '[' && strcmp(name, "[heap]") &&
				       strcmp(name, "[stack]");
			if (!strcmp(name, "[stack]"))
				stack_vma = space->count - 1;
		} else if (vma && !strncmp(line, "VmFlags:", 8)) {
			vma->mayread = has_flag(line + 8, "mr");
			vma->maywrite = has_flag(line + 8, "mw");
			vma->uncached = has_flag(line + 8, "io") ||
					has_flag(line + 8, "pf");
		}
	}
	fclose(smaps);
	if (!space->count || space->count == MAX_VMAS || stack_vma < 1 ||
	    getrlimit(RLIMIT_STACK, &stack))
		return -1;
	/*
	 * A fault below the stack grows it (up to the limit, not into the
	 * mapping below), for the kernel's own accesses to the buffer too.
	 */
	space->stack_end = space->vma[stack_vma].end;
	space->stack_floor = space->vma[stack_vma - 1].end;
	if (stack.rlim_cur != RLIM_INFINITY &&
	    space->stack_end - stack.rlim_cur > space->stack_floor)
		space->stack_floor = space->stack_end - stack.rlim_cur;
	return 0;
}

/* Step 10 and 11 of the table for one mapping (force_override=always). */
static zx_status_t vma_status(const struct vma *vma, bool write)
{
	if (vma->uncached)
		return ZX_ERR_BAD_STATE;
	if (write && !vma->write && (vma->shared || !vma->maywrite))
		return ZX_ERR_ACCESS_DENIED;
	if (!write && !vma->read && !vma->mayread)
		return ZX_ERR_ACCESS_DENIED;
	return ZX_OK;
}

/*
 * Steps 8 to 11 in the target: the status of the region and, on ZX_OK,
 * in @len how far the copy runs through adjacent mappings it may use.
 */
static zx_status_t predict_region(const struct space *target, bool write,
				  uint64_t start, uint64_t size, uint64_t *len)
{
	uint64_t end = start + size < start ? UINT64_MAX : start + size;
	zx_status_t status = ZX_ERR_NO_MEMORY;
	uint64_t reach = start;
	bool stopped = false;
	unsigned int i;

	for (i = 0; i < target->count; i++) {
		const struct vma *vma = &target->vma[i];
		zx_status_t one;

		if (vma->end <= start)
			continue;
		if (vma->start >= end)
			break;
		if (write && vma->vdso)
			return ZX_ERR_ACCESS_DENIED;
		if (stopped || vma->start > reach) {
			stopped = true;
			continue;
		}
		one = vma_status(vma, write);
		if (reach == start)
			status = one;
		if (one != ZX_OK) {
			stopped = true;
			continue;
		}
		reach = vma->end;
		if (reach >= end)
			break;
	}
	*len = (reach < end ? reach : end) - start;
	return status;
}

enum buffer_verdict { BUFFER_GOOD, BUFFER_BAD, BUFFER_UNKNOWN };

/*
 * Step 12: is [@buffer, @buffer + @len) of ours readable (a write reads
 * it) or writable (a read fills it)?  The kernel's access goes up from
 * @buffer and stops at the first byte it cannot use.  Unknown where the
 * bytes before that involve one of our special mappings ([vvar] pages may
 * fault whatever they show), writable memory of ours other than @room (a
 * read would write into the test's own data), or the hole below the
 * stack, which a fault grows the stack into.
 */
static enum buffer_verdict judge_buffer(const struct space *own,
					const uint8_t *room, bool write,
					uint64_t buffer, uint64_t len)
{
	uint64_t room_start = (uintptr_t)room, room_end = room_start + LEN;
	uint64_t end = buffer + len, at = buffer;
	unsigned int i;

	if (end < buffer)
		return BUFFER_BAD;
	for (i = 0; i < own->count && at < end; i++) {
		const struct vma *vma = &own->vma[i];
		uint64_t upto = vma->end < end ? vma->end : end;

		if (vma->end <= at)
			continue;
		if (vma->start > at)
			break;		/* a hole at @at */
		if (vma->special)
			return BUFFER_UNKNOWN;
		if (!(write ? vma->read : vma->write))
			return BUFFER_BAD;
		if (!write && (at < room_start || upto > room_end))
			return BUFFER_UNKNOWN;
		at = upto;
	}
	if (at >= end)
		return BUFFER_GOOD;
	if (at >= own->stack_floor && at < own->stack_end)
		return BUFFER_UNKNOWN;
	return BUFFER_BAD;
}

enum handle_kind { HANDLE_TARGET, HANDLE_CLOSED, HANDLE_OTHER_FILE,
		   HANDLE_OTHER_PIDFD };

static enum handle_kind judge_handle(int fd, int target)
{
	if (fd == target)
		return HANDLE_TARGET;
	if (fcntl(fd, F_GETFD) < 0)
		return HANDLE_CLOSED;
	/* Signal 0 through a pidfd checks it; any other fd is EBADF. */
	if (syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 ||
	    errno != EBADF)
		return HANDLE_OTHER_PIDFD;
	return HANDLE_OTHER_FILE;
}

/*
 * The answer to @io from a caller that traces the child, with the
 * parameter on: the table of Documentation/zxmem.rst, step by step.
 * Returns false when the answer depends on something this test does not
 * model (another process's pidfd, a special mapping of ours), so the
 * request is drawn again.
 */
/* Out of line: the harness's setjmp() would clobber its locals. */
static __attribute__((noinline)) bool
predict(const struct space *target, const struct space *own,
	const uint8_t *room, int pidfd, bool write, const struct zxmem_io *io,
	zx_status_t *status, uint64_t *actual)
{
	uint64_t len = 0;

	*actual = 0;
	if (io->flags || io->reserved || !io->buffer || !io->buffer_size ||
	    io->buffer_size > ZXMEM_MAX_TRANSFER) {
		*status = ZX_ERR_INVALID_ARGS;
		return true;
	}
	switch (judge_handle((int)io->handle, pidfd)) {
	case HANDLE_CLOSED:
		*status = ZX_ERR_BAD_HANDLE;
		return true;
	case HANDLE_OTHER_FILE:
		*status = ZX_ERR_WRONG_TYPE;
		return true;
	case HANDLE_OTHER_PIDFD:
		return false;
	case HANDLE_TARGET:
		break;
	}
	*status = predict_region(target, write, io->vaddr, io->buffer_size,
				 &len);
	if (*status != ZX_OK)
		return true;
	switch (judge_buffer(own, room, write, io->buffer, len)) {
	case BUFFER_UNKNOWN:
		return false;
	case BUFFER_BAD:
		*status = ZX_ERR_INVALID_ARGS;
		return true;
	case BUFFER_GOOD:
		break;
	}
	*actual = len;
	return true;
}

/* [a, a + alen) and [b, b + blen) overlap in [*from, *to). */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen,
		    uint64_t *from, uint64_t *to)
{
	*from = a;
	if (b > *from)
		*from = b;
	*to = a + alen;
	if (b + blen < *to)
		*to = b + blen;
	return *from < *to;
}

TEST_F_TIMEOUT(compat, random_requests_give_the_predicted_answers, 120)
{
	static uint8_t shadow[LEN], seen[LEN];
	static struct space target, own;
	unsigned long calls, ok = 0, bad_commands = 0, compares = 0;
	unsigned long redrawn = 0, wrong = 0, counts[64] = { 0 };
	uint64_t base = (uintptr_t)region;
	int handles[4];
	struct timespec t0, t;
	uint8_t *room;
	unsigned int i;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	room = mmap(NULL, LEN + 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(room != MAP_FAILED);
	ASSERT_EQ(0, mprotect(room + LEN, 4096, PROT_NONE));
	memset(shadow, OLD, LEN);
	/* Fault every page of room in: the map below must stay true. */
	memset(room, 0, LEN);
	ASSERT_EQ(0, read_space(self->child, &target));
	ASSERT_EQ(0, read_space(getpid(), &own));
	handles[0] = self->pidfd;
	handles[1] = -1;
	handles[2] = self->dev;
	handles[3] = 1000;	/* not open */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	TH_LOG("seed %#llx", (unsigned long long)FUZZ_SEED);

	for (calls = 0; calls < FUZZ_CALLS; calls++) {
		bool bad_cmd = !rnd_below(20), write = rnd_below(2);
		unsigned long cmd = write ? ZXMEM_IOC_WRITE_MEMORY :
					    ZXMEM_IOC_READ_MEMORY;
		struct zxmem_io io, before;
		zx_status_t want_status;
		uint64_t want_actual, from, to;
		int ret, err;

		if (calls % 256 == 0)
			for (i = 0; i < LEN; i++)
				room[i] = rnd();
		if (bad_cmd)
			cmd = pick_bad_command();
		io = request(rnd_below(4) ? handles[0] :
			     rnd_below(2) ? handles[1 + rnd_below(3)] :
			     (int)rnd_below(64),
			     pick_vaddr(), pick_buffer(room), pick_size());
		io.flags = pick_bits();
		io.reserved = pick_bits();
		if (!bad_cmd && !predict(&target, &own, room, self->pidfd,
					 write, &io, &want_status,
					 &want_actual)) {
			redrawn++;
			continue;
		}
		before = io;

		errno = 0;
		ret = ioctl(self->dev, cmd, &io);
		err = errno;
		if (bad_cmd) {
			bad_commands++;
			ASSERT_EQ(-1, ret);
			ASSERT_EQ(ENOTTY, err);
			ASSERT_EQ(0, memcmp(&io, &before, sizeof(io)));
			continue;
		}
		ASSERT_EQ(0, ret) {
			TH_LOG("call %lu: %s", calls, strerror(err));
		}
		ASSERT_EQ(want_status, io.status) {
			TH_LOG("call %lu: %s handle %u vaddr %#llx buffer %#llx size %#llx flags %#x reserved %#x",
			       calls, write ? "write" : "read", io.handle,
			       (unsigned long long)io.vaddr,
			       (unsigned long long)io.buffer,
			       (unsigned long long)io.buffer_size, io.flags,
			       io.reserved);
		}
		counts[-io.status & 63]++;
		/* Only status, and actual on ZX_OK, come back. */
		before.status = io.status;
		if (io.status == ZX_OK)
			before.actual = io.actual;
		ASSERT_EQ(0, memcmp(&io, &before, sizeof(io)));
		if (io.status != ZX_OK)
			continue;
		ok++;
		ASSERT_EQ(want_actual, io.actual) {
			TH_LOG("call %lu: vaddr %#llx size %#llx", calls,
			       (unsigned long long)io.vaddr,
			       (unsigned long long)io.buffer_size);
		}
		if (!overlap(io.vaddr, io.actual, base, LEN, &from, &to))
			continue;
		if (write) {
			memcpy(shadow + (from - base),
			       (uint8_t *)(uintptr_t)(io.buffer + (from - io.vaddr)),
			       to - from);
		} else {
			wrong += memcmp(shadow + (from - base),
					(uint8_t *)(uintptr_t)(io.buffer +
							       (from - io.vaddr)),
					to - from) != 0;
		}
		if (ok % 128 == 0) {
			ASSERT_EQ(0, child_region(self->child, seen));
			wrong += memcmp(shadow, seen, LEN) != 0;
			compares++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > FUZZ_SECONDS)
			break;
	}
	ASSERT_EQ(0, child_region(self->child, seen));
	wrong += memcmp(shadow, seen, LEN) != 0;
	compares++;
	TH_LOG("%lu calls: %lu ZX_OK, %lu INVALID_ARGS, %lu BAD_HANDLE, %lu WRONG_TYPE, %lu NO_MEMORY, %lu ACCESS_DENIED, %lu BAD_STATE, %lu unknown commands, %lu drawn again; %lu memory compares",
	       calls, ok, counts[-ZX_ERR_INVALID_ARGS & 63],
	       counts[-ZX_ERR_BAD_HANDLE & 63], counts[-ZX_ERR_WRONG_TYPE & 63],
	       counts[-ZX_ERR_NO_MEMORY & 63],
	       counts[-ZX_ERR_ACCESS_DENIED & 63],
	       counts[-ZX_ERR_BAD_STATE & 63], bad_commands, redrawn,
	       compares);
	ASSERT_EQ(0ul, wrong);
	/* Enough of each kind to have tested something. */
	ASSERT_LT(1000ul, ok);
	ASSERT_LT(100ul, counts[-ZX_ERR_INVALID_ARGS & 63]);
	ASSERT_LT(100ul, counts[-ZX_ERR_NO_MEMORY & 63]);
	ASSERT_LT(20ul, counts[-ZX_ERR_BAD_HANDLE & 63]);
	ASSERT_LT(20ul, counts[-ZX_ERR_WRONG_TYPE & 63]);
	/* What the model leaves out is rare, or the test tests little. */
	ASSERT_GT(calls / 50, redrawn);
	munmap(room, LEN + 4096);
}

TEST_HARNESS_MAIN
