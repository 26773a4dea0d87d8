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
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* Bytes of the child's region, through /proc/PID/mem, not equal to @byte. */
static int64_t child_mismatches(pid_t pid, uint8_t byte)
{
	static uint8_t seen[LEN];
	char path[32];
	int64_t bad = 0;
	unsigned int i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread64(fd, seen, LEN, (uintptr_t)region) != LEN)
		bad = -1;
	close(fd);
	for (i = 0; bad >= 0 && i < LEN; i++)
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

TEST_F(compat, untraced_child_is_access_denied)
{
	struct zxmem_io io;

	if (self->skipped)
		return;
	memset(self->buf, NEW, LEN);
	io = request(self->pidfd, (uintptr_t)region, (uintptr_t)self->buf,
		     LEN);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
}

/*
 * A 32-bit process has nothing mapped above 4 GiB: with the upper half
 * kept, the buffer is not a user range of this process, and the address
 * is not mapped in the target.  Dropped, both would be valid.
 */
TEST_F(compat, upper_half_of_buffer_is_kept)
{
	struct zxmem_io io;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	memset(self->buf, NEW, LEN);
	io = request(self->pidfd, (uintptr_t)region,
		     HIGH_BIT | (uintptr_t)self->buf, LEN);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_EQ(ZX_ERR_INVALID_ARGS, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
}

TEST_F(compat, upper_half_of_vaddr_is_kept)
{
	struct zxmem_io io;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	memset(self->buf, NEW, LEN);
	io = request(self->pidfd, HIGH_BIT | (uintptr_t)region,
		     (uintptr_t)self->buf, LEN);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_EQ(ZX_ERR_NO_MEMORY, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
}

TEST_F(compat, upper_half_of_size_is_kept)
{
	struct zxmem_io io;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	memset(self->buf, NEW, LEN);
	io = request(self->pidfd, (uintptr_t)region, (uintptr_t)self->buf,
		     HIGH_BIT | 16);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_EQ(ZX_ERR_INVALID_ARGS, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
}

TEST_F(compat, write_with_parameter_off_is_not_supported)
{
	size_t actual = (size_t)ACTUAL_UNTOUCHED;

	if (self->skipped)
		return;
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->child, NULL, NULL));
	ASSERT_EQ(0, zxmem_param_set(0));
	memset(self->buf, NEW, LEN);
	ASSERT_EQ(ZX_ERR_NOT_SUPPORTED,
		  zx_process_write_memory(self->pidfd, (uintptr_t)region,
					  self->buf, LEN, &actual));
	ASSERT_EQ((size_t)ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, child_mismatches(self->child, OLD));
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

TEST_HARNESS_MAIN
