// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for zxmem from a 32-bit (i386) process on a 64-bit kernel:
 * the ioctls go through compat_ptr_ioctl(), and struct zxmem_io must mean
 * the same as for a 64-bit caller.  The __u64 fields carry 64-bit values
 * from a process whose pointers are 32 bits wide; a kernel that dropped
 * their upper halves would reach memory the caller never named.
 *
 * Built with -m32, with the test library (common.c) built the same way:
 * the target is the library's child, itself a 32-bit process.  Run as
 * root with zxmem.ko loaded, on a kernel with CONFIG_IA32_EMULATION.  The
 * fixture switches enable_debugging_syscalls on and restores it
 * afterwards.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/zxmem.h>
#include <zircon/syscalls.h>
#include <zxmem/vec.h>

/* The 6.1 harness has an unused parameter; -Wextra -Werror would stop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "common.h"

#define LEN		(64u * 1024)
#define HIGH_BIT	(1ULL << 32)

_Static_assert(sizeof(void *) == 4, "build this test with -m32");
_Static_assert(LEN <= COPY_OUT_MAX, "the region is read back in one piece");

/*
 * A 32-bit request: unlike raw_request(), @buffer is a 64-bit value, and
 * may hold what no pointer of ours can.
 */
static struct zxmem_io request(int pidfd, uint64_t vaddr, uint64_t buffer,
			       uint64_t size)
{
	struct zxmem_io io = raw_request(pidfd, vaddr, NULL, size);

	io.buffer = buffer;
	return io;
}

FIXTURE(compat) {
	struct target target;
	int dev;
	int saved_param;
	uint64_t region;	/* LEN bytes of the target, SEED_OLD */
	uint8_t buf[LEN];
};

FIXTURE_SETUP(compat)
{
	fixture_start(_metadata, &self->target, &self->dev,
		      &self->saved_param);
	self->region = target_region(_metadata, &self->target, false, LEN,
				     SEED_OLD);
}

FIXTURE_TEARDOWN(compat)
{
	fixture_stop(_metadata, &self->target, self->dev, self->saved_param);
}

/* The numbers and offsets a 64-bit caller uses, unchanged. */
TEST_F(compat, layout_is_the_64bit_one)
{
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

	ASSERT_EQ(0, target_trace(&self->target));
	fill_pattern(self->buf, LEN, SEED_NEW);
	ASSERT_EQ(ZX_OK, zx_process_write_memory(self->target.pidfd,
						 self->region, self->buf,
						 LEN, &actual));
	ASSERT_EQ((size_t)LEN, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, self->region, LEN,
				       SEED_NEW));

	memset(self->buf, 0, LEN);
	actual = 0;
	ASSERT_EQ(ZX_OK, zx_process_read_memory(self->target.pidfd,
						self->region, self->buf,
						LEN, &actual));
	ASSERT_EQ((size_t)LEN, actual);
	ASSERT_EQ(0, count_mismatches(self->buf, LEN, SEED_NEW));
}

TEST_F(compat, own_process_writes_and_reads_itself)
{
	static uint8_t mine[4096], back[16];
	int me = zxmem_pidfd_open(getpid());
	size_t actual = 0;

	ASSERT_LE(0, me);
	fill_pattern(mine, sizeof(mine), SEED_OLD);
	fill_pattern(self->buf, sizeof(mine), SEED_NEW);
	ASSERT_EQ(ZX_OK, zx_process_write_memory(me, (uintptr_t)mine,
						 self->buf, sizeof(mine),
						 &actual));
	ASSERT_EQ(sizeof(mine), actual);
	ASSERT_EQ(0, count_mismatches(mine, sizeof(mine), SEED_NEW));
	ASSERT_EQ(ZX_OK, zx_process_read_memory(me, (uintptr_t)mine, back,
						sizeof(back), &actual));
	ASSERT_EQ(sizeof(back), actual);
	ASSERT_EQ(0, count_mismatches(back, sizeof(back), SEED_NEW));
	close(me);
}

/* A raw write that must be refused with @want, changing nothing. */
static void assert_write_refused(struct __test_metadata *_metadata,
				 FIXTURE_DATA(compat) *self, uint64_t vaddr,
				 uint64_t buffer, uint64_t size,
				 zx_status_t want)
{
	struct zxmem_io io = request(self->target.pidfd, vaddr, buffer, size);

	fill_pattern(self->buf, LEN, SEED_NEW);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_STATUS(want, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, self->region, LEN,
				       SEED_OLD));
}

TEST_F(compat, untraced_child_is_access_denied)
{
	assert_write_refused(_metadata, self, self->region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_ACCESS_DENIED);
}

/*
 * A 32-bit process has nothing mapped above 4 GiB: with the upper half
 * kept, the buffer is not a user range of this process, and the address
 * is not mapped in the target.  Dropped, both would be valid.
 */
TEST_F(compat, upper_half_of_buffer_is_kept)
{
	ASSERT_EQ(0, target_trace(&self->target));
	assert_write_refused(_metadata, self, self->region,
			     HIGH_BIT | (uintptr_t)self->buf, LEN,
			     ZX_ERR_INVALID_ARGS);
}

TEST_F(compat, upper_half_of_vaddr_is_kept)
{
	ASSERT_EQ(0, target_trace(&self->target));
	assert_write_refused(_metadata, self, HIGH_BIT | self->region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_NO_MEMORY);
}

TEST_F(compat, upper_half_of_size_is_kept)
{
	ASSERT_EQ(0, target_trace(&self->target));
	assert_write_refused(_metadata, self, self->region,
			     (uintptr_t)self->buf, HIGH_BIT | 16,
			     ZX_ERR_INVALID_ARGS);
}

TEST_F(compat, write_with_parameter_off_is_not_supported)
{
	ASSERT_EQ(0, target_trace(&self->target));
	ASSERT_EQ(0, zxmem_param_set(0));
	assert_write_refused(_metadata, self, self->region,
			     (uintptr_t)self->buf, LEN, ZX_ERR_NOT_SUPPORTED);
}

TEST_F(compat, bad_struct_is_efault_and_unknown_command_enotty)
{
	struct zxmem_io io = request(self->target.pidfd, self->region,
				     (uintptr_t)self->buf, 1);

	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY, NULL));
	ASSERT_EQ(EFAULT, errno);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, _IOWR(0xBA, 0x02, struct zxmem_io),
			    &io));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(STATUS_UNTOUCHED, io.status);
}

/* The batched calls' structs and numbers are the 64-bit ones too. */
TEST_F(compat, vec_layout_is_the_64bit_one)
{
	ASSERT_VEC_LAYOUT();
}

/*
 * A batched exchange and read from a 32-bit caller: the old bytes come
 * back, a segment whose buffer has its upper half set is refused alone
 * (the half is kept), and an array pointer with it set cannot be read.
 */
TEST_F(compat, vec_exchange_and_read_keep_upper_halves)
{
	static uint8_t old[2 * 64], back[2 * 64];
	struct zxmem_segment segs[3];
	struct zxmem_vec vec;
	size_t done = 0;
	unsigned int i;

	ASSERT_EQ(0, target_trace(&self->target));
	fill_pattern(self->buf, LEN, SEED_NEW);
	seg_init(&segs[0], self->region, (uintptr_t)self->buf,
		   (uintptr_t)old, 64);
	seg_init(&segs[1], self->region + 4096,
		   HIGH_BIT | (uintptr_t)self->buf, (uintptr_t)(old + 64), 64);
	seg_init(&segs[2], self->region + 8192 - 3, (uintptr_t)self->buf,
		   (uintptr_t)(old + 64), 64);
	ASSERT_EQ(ZX_OK, zxmem_process_write_memory_vec(self->target.pidfd,
							segs, 3,
							ZXMEM_VEC_EXCHANGE,
							&done));
	ASSERT_EQ(3u, done);
	ASSERT_STATUS(ZX_OK, segs[0].status);
	ASSERT_EQ(64u, segs[0].actual);
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, segs[1].status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, segs[1].actual);
	ASSERT_STATUS(ZX_OK, segs[2].status);
	ASSERT_EQ(64u, segs[2].actual);
	ASSERT_EQ(0, count_mismatches(old, 64, SEED_OLD));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(pattern_byte(SEED_OLD, 8192 - 3 + i), old[64 + i]);
	/* The refused segment's range keeps the region's own bytes. */
	ASSERT_EQ(0, target_copy_out(&self->target, self->region + 4096, 64,
				     back));
	for (i = 0; i < 64; i++)
		ASSERT_EQ(pattern_byte(SEED_OLD, 4096 + i), back[i]);

	seg_init(&segs[0], self->region, (uintptr_t)back, 0, 64);
	seg_init(&segs[1], self->region + 8192 - 3,
		   (uintptr_t)(back + 64), 0, 64);
	ASSERT_EQ(ZX_OK, zxmem_process_read_memory_vec(self->target.pidfd,
						       segs, 2, 0, &done));
	ASSERT_EQ(2u, done);
	ASSERT_EQ(0, count_mismatches(back, 64, SEED_NEW));
	ASSERT_EQ(0, count_mismatches(back + 64, 64, SEED_NEW));

	memset(&vec, 0, sizeof(vec));
	vec.segments = HIGH_BIT | (uintptr_t)segs;
	vec.count = 2;
	vec.handle = self->target.pidfd;
	vec.status = STATUS_UNTOUCHED;
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY_VEC, &vec));
	ASSERT_EQ(EFAULT, errno);
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

/* The run's RNG: FUZZ_SEED replays it. */
static uint64_t rng = FUZZ_SEED;

static uint64_t rnd(void)
{
	return rng_next(&rng);
}

static uint64_t rnd_below(uint64_t n)
{
	return rng_below(&rng, n);
}

/*
 * An address for a request about the LEN bytes at @base (the target's
 * region, or our buffer, followed by a PROT_NONE page): inside it, one
 * that runs off its end, or the same with the upper half set, or anything
 * in 64 or 32 bits.  @in_weight: out of how many draws the usual cases are
 * taken.
 */
static uint64_t pick_address(uint64_t base, unsigned int in_weight)
{
	switch (rnd_below(in_weight)) {
	case 0:
		return rnd();
	case 1:
		return (uint32_t)rnd();
	case 2:
		return 0;
	case 3:
		return HIGH_BIT | (base + rnd_below(LEN));
	case 4:		/* near the end: runs out of it */
		return base + LEN - 1 - rnd_below(64);
	default:
		return base + rnd_below(LEN);
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
	uint64_t base = self->region;
	int handles[4];
	struct timespec t0, t;
	uint8_t *room;
	unsigned int i;

	ASSERT_EQ(0, target_trace(&self->target));
	room = mmap(NULL, LEN + 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(room != MAP_FAILED);
	ASSERT_EQ(0, mprotect(room + LEN, 4096, PROT_NONE));
	fill_pattern(shadow, LEN, SEED_OLD);
	/* Fault every page of room in: the map below must stay true. */
	memset(room, 0, LEN);
	/*
	 * A random write lands wherever the model lets it, and the harness
	 * shares pages (MAP_SHARED) with every process it forks: the target
	 * drops its shared mappings first, and at the end it is killed, not
	 * asked to exit.
	 */
	ASSERT_EQ(0, read_space(self->target.pid, &target));
	for (i = 0; i < target.count; i++)
		if (target.vma[i].shared)
			ASSERT_EQ(0, target_unmap(&self->target,
						  target.vma[i].start,
						  target.vma[i].end -
						  target.vma[i].start));
	ASSERT_EQ(0, read_space(self->target.pid, &target));
	for (i = 0; i < target.count; i++)
		ASSERT_FALSE(target.vma[i].shared);
	ASSERT_EQ(0, read_space(getpid(), &own));
	handles[0] = self->target.pidfd;
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
		uint64_t want_actual, from, to, vaddr, buffer;
		zx_status_t want_status;
		int handle, ret, err;

		if (calls % 256 == 0)
			for (i = 0; i < LEN; i++)
				room[i] = rnd();
		if (bad_cmd)
			cmd = pick_bad_command();
		/* One draw after another: argument order is unspecified. */
		handle = rnd_below(4) ? handles[0] :
			 rnd_below(2) ? handles[1 + rnd_below(3)] :
			 (int)rnd_below(64);
		vaddr = pick_address(base, 8);
		buffer = pick_address((uintptr_t)room, 10);
		io = request(handle, vaddr, buffer, pick_size());
		io.flags = pick_bits();
		io.reserved = pick_bits();
		if (!bad_cmd && !predict(&target, &own, room, self->target.pidfd,
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
			ASSERT_EQ(0, proc_mem_read(self->target.pid, base, seen, LEN));
			wrong += memcmp(shadow, seen, LEN) != 0;
			compares++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > FUZZ_SECONDS)
			break;
	}
	ASSERT_EQ(0, proc_mem_read(self->target.pid, base, seen, LEN));
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
	target_kill(&self->target);
}

TEST_HARNESS_MAIN
