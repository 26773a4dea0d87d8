// SPDX-License-Identifier: GPL-2.0
/*
 * Build from the repository root, KSFT = tools/testing/selftests of a kernel:
 * gcc -static -O2 -Wall -Wextra -Werror -I$KSFT -Iuapi -o api_test selftests/zxmem/api_test.c
 *
 * Tests <zircon/syscalls.h> on its own: status values and names, how the
 * calls behave when /dev/zxmem is absent, and how they turn what the
 * kernel answers (status, actual, an errno) into their return values.
 * No module is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/zxmem.h>

/*
 * The API is tested on its own, against a kernel this file plays: the
 * header's ioctl() calls reach fake_ioctl(), which records the request
 * and answers what the test set up.  What the real module answers is the
 * other programs' business, through the raw ioctl.
 */
struct fake_kernel {
	int fd;			/* the descriptor the call used */
	unsigned long cmd;	/* the command */
	struct zxmem_io seen;	/* the request as it arrived */
	int calls;
	int error;		/* 0: write back status and actual */
	__s32 status;
	__u64 actual;
};

static struct fake_kernel fake;

static int fake_ioctl(int fd, unsigned long cmd, ...)
{
	struct zxmem_io *io;
	va_list ap;

	va_start(ap, cmd);
	io = va_arg(ap, struct zxmem_io *);
	va_end(ap);
	fake.fd = fd;
	fake.cmd = cmd;
	fake.seen = *io;
	fake.calls++;
	/* Like the kernel, the call may clobber errno on success too. */
	errno = fake.error ? fake.error : EAGAIN;
	if (fake.error)
		return -1;
	io->status = fake.status;
	io->actual = fake.actual;
	return 0;
}

#define ioctl fake_ioctl
#include <zircon/syscalls.h>
#undef ioctl

/*
 * The wrappers TEST() generates, and the harness's timeout handler, leave
 * parameters unused; keep -Wextra -Werror usable for the code below.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

struct zx_status_entry {
	zx_status_t status;	/* the macro from <zircon/errors.h> */
	const char *name;	/* its spelling */
	long zircon_value;	/* the number Fuchsia gives it */
};

#define ZX_STATUS_ENTRY(macro, value) { macro, #macro, value }

/* Every Zircon status, with Fuchsia's numbers written out by hand. */
static const struct zx_status_entry zx_statuses[] = {
	ZX_STATUS_ENTRY(ZX_OK, 0),
	ZX_STATUS_ENTRY(ZX_ERR_INTERNAL, -1),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_SUPPORTED, -2),
	ZX_STATUS_ENTRY(ZX_ERR_NO_RESOURCES, -3),
	ZX_STATUS_ENTRY(ZX_ERR_NO_MEMORY, -4),
	ZX_STATUS_ENTRY(ZX_ERR_INTERNAL_INTR_RETRY, -6),
	ZX_STATUS_ENTRY(ZX_ERR_INVALID_ARGS, -10),
	ZX_STATUS_ENTRY(ZX_ERR_BAD_HANDLE, -11),
	ZX_STATUS_ENTRY(ZX_ERR_WRONG_TYPE, -12),
	ZX_STATUS_ENTRY(ZX_ERR_BAD_SYSCALL, -13),
	ZX_STATUS_ENTRY(ZX_ERR_OUT_OF_RANGE, -14),
	ZX_STATUS_ENTRY(ZX_ERR_BUFFER_TOO_SMALL, -15),
	ZX_STATUS_ENTRY(ZX_ERR_BAD_STATE, -20),
	ZX_STATUS_ENTRY(ZX_ERR_TIMED_OUT, -21),
	ZX_STATUS_ENTRY(ZX_ERR_SHOULD_WAIT, -22),
	ZX_STATUS_ENTRY(ZX_ERR_CANCELED, -23),
	ZX_STATUS_ENTRY(ZX_ERR_PEER_CLOSED, -24),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_FOUND, -25),
	ZX_STATUS_ENTRY(ZX_ERR_ALREADY_EXISTS, -26),
	ZX_STATUS_ENTRY(ZX_ERR_ALREADY_BOUND, -27),
	ZX_STATUS_ENTRY(ZX_ERR_UNAVAILABLE, -28),
	ZX_STATUS_ENTRY(ZX_ERR_ACCESS_DENIED, -30),
	ZX_STATUS_ENTRY(ZX_ERR_IO, -40),
	ZX_STATUS_ENTRY(ZX_ERR_IO_REFUSED, -41),
	ZX_STATUS_ENTRY(ZX_ERR_IO_DATA_INTEGRITY, -42),
	ZX_STATUS_ENTRY(ZX_ERR_IO_DATA_LOSS, -43),
	ZX_STATUS_ENTRY(ZX_ERR_IO_NOT_PRESENT, -44),
	ZX_STATUS_ENTRY(ZX_ERR_IO_OVERRUN, -45),
	ZX_STATUS_ENTRY(ZX_ERR_IO_MISSED_DEADLINE, -46),
	ZX_STATUS_ENTRY(ZX_ERR_IO_INVALID, -47),
	ZX_STATUS_ENTRY(ZX_ERR_BAD_PATH, -50),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_DIR, -51),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_FILE, -52),
	ZX_STATUS_ENTRY(ZX_ERR_FILE_BIG, -53),
	ZX_STATUS_ENTRY(ZX_ERR_NO_SPACE, -54),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_EMPTY, -55),
	ZX_STATUS_ENTRY(ZX_ERR_STOP, -60),
	ZX_STATUS_ENTRY(ZX_ERR_NEXT, -61),
	ZX_STATUS_ENTRY(ZX_ERR_ASYNC, -62),
	ZX_STATUS_ENTRY(ZX_ERR_PROTOCOL_NOT_SUPPORTED, -70),
	ZX_STATUS_ENTRY(ZX_ERR_ADDRESS_UNREACHABLE, -71),
	ZX_STATUS_ENTRY(ZX_ERR_ADDRESS_IN_USE, -72),
	ZX_STATUS_ENTRY(ZX_ERR_NOT_CONNECTED, -73),
	ZX_STATUS_ENTRY(ZX_ERR_CONNECTION_REFUSED, -74),
	ZX_STATUS_ENTRY(ZX_ERR_CONNECTION_RESET, -75),
	ZX_STATUS_ENTRY(ZX_ERR_CONNECTION_ABORTED, -76),
	ZX_STATUS_ENTRY(ZX_ERR_INTERNAL_INTR_KILLED, -502),
};

/* Zircon has 47 status codes, ZX_OK included. */
#define ZX_STATUS_COUNT	((size_t)47)

static int is_zircon_status(long value)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(zx_statuses); i++) {
		if (zx_statuses[i].zircon_value == value)
			return 1;
	}
	return 0;
}

TEST(status_values_match_zircon)
{
	size_t i, j;

	ASSERT_EQ(ZX_STATUS_COUNT, ARRAY_SIZE(zx_statuses));
	for (i = 0; i < ARRAY_SIZE(zx_statuses); i++) {
		const struct zx_status_entry *e = &zx_statuses[i];

		EXPECT_EQ(e->zircon_value, (long)e->status) {
			TH_LOG("%s is %d, Zircon says %ld", e->name,
			       (int)e->status, e->zircon_value);
		}
		/* No two codes may share a value. */
		for (j = i + 1; j < ARRAY_SIZE(zx_statuses); j++)
			EXPECT_NE(e->status, zx_statuses[j].status);
	}
}

TEST(status_names_match_zircon)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(zx_statuses); i++) {
		const struct zx_status_entry *e = &zx_statuses[i];

		EXPECT_STREQ(e->name, zx_status_get_string(e->status));
		/* The name must not depend on how the value was spelled. */
		EXPECT_STREQ(e->name,
			     zx_status_get_string((zx_status_t)e->zircon_value));
	}
}

TEST(unknown_status_is_named_unknown)
{
	static const long edges[] = {
		INT_MIN, INT_MIN + 1, -1000, -503, -501, -100, INT_MAX, 1, 2,
	};
	size_t i;
	long v;

	/* Every gap around and between the known codes. */
	for (v = -600; v <= 100; v++) {
		if (is_zircon_status(v))
			continue;
		EXPECT_STREQ("(UNKNOWN)", zx_status_get_string((zx_status_t)v)) {
			TH_LOG("status %ld", v);
		}
	}
	for (i = 0; i < ARRAY_SIZE(edges); i++)
		EXPECT_STREQ("(UNKNOWN)",
			     zx_status_get_string((zx_status_t)edges[i]));
}

#define ACTUAL_SENTINEL	((size_t)0x5a5a5a5a)
#define ERRNO_SENTINEL	4242

TEST(missing_device_returns_not_supported)
{
	static const char src[] = "zxmem";
	char buf[sizeof(src)];
	size_t actual = ACTUAL_SENTINEL;
	zx_handle_t self;
	zx_status_t status;
	int pass;

	if (access(ZXMEM_DEVICE_PATH, F_OK) == 0 || errno != ENOENT)
		SKIP(return, "%s exists; this test needs it absent",
		     ZXMEM_DEVICE_PATH);

	/* Any handle will do: the device is missing before it matters. */
	self = 0;

	/* Twice each: a missing device must not be remembered. */
	for (pass = 0; pass < 4; pass++) {
		errno = ERRNO_SENTINEL;
		if (pass % 2)
			status = zx_process_write_memory(self, (zx_vaddr_t)buf,
							 src, sizeof(src),
							 &actual);
		else
			status = zx_process_read_memory(self, (zx_vaddr_t)src,
							buf, sizeof(buf),
							&actual);
		EXPECT_EQ(ZX_ERR_NOT_SUPPORTED, status);
		EXPECT_EQ(ACTUAL_SENTINEL, actual);
		EXPECT_EQ(ERRNO_SENTINEL, errno);

		/* A NULL actual is allowed. */
		status = zx_process_read_memory(self, (zx_vaddr_t)src, buf,
						sizeof(buf), NULL);
		EXPECT_EQ(ZX_ERR_NOT_SUPPORTED, status);
		status = zx_process_write_memory(self, (zx_vaddr_t)buf, src,
						 sizeof(src), NULL);
		EXPECT_EQ(ZX_ERR_NOT_SUPPORTED, status);

		EXPECT_EQ(0, zxmem_device_fd_plus_one);
	}
}

/*
 * Point the API's process-wide descriptor at /dev/null, as if /dev/zxmem
 * had been opened: the calls then reach fake_ioctl().  Each test runs in
 * a process of its own, so nothing leaks into the next.
 */
static int fake_device(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		zxmem_device_fd_plus_one = fd + 1;
	return fd;
}

/* The fake's @nth call was @cmd on @fd, with exactly these fields. */
static void expect_request(struct __test_metadata *_metadata, int nth,
			   int fd, unsigned long cmd, uint32_t handle,
			   uint64_t vaddr, const void *buffer, size_t size)
{
	EXPECT_EQ(nth, fake.calls);
	EXPECT_EQ(fd, fake.fd);
	EXPECT_EQ(cmd, fake.cmd);
	EXPECT_EQ(handle, fake.seen.handle);
	EXPECT_EQ(vaddr, fake.seen.vaddr);
	EXPECT_EQ((uintptr_t)buffer, fake.seen.buffer);
	EXPECT_EQ(size, fake.seen.buffer_size);
	EXPECT_EQ(0u, fake.seen.flags);
	EXPECT_EQ(0u, fake.seen.reserved);
}

TEST(api_passes_the_request_to_the_kernel_unchanged)
{
	static const char src[] = "breakpoint";
	char dst[sizeof(src)];
	int fd = fake_device();

	ASSERT_LE(0, fd);
	fake.status = ZX_OK;
	fake.actual = sizeof(src);

	ASSERT_EQ(ZX_OK, zx_process_write_memory(0x1234, 0x7f0000001000ULL,
						 src, sizeof(src), NULL));
	expect_request(_metadata, 1, fd, ZXMEM_IOC_WRITE_MEMORY, 0x1234,
		       0x7f0000001000ULL, src, sizeof(src));
	ASSERT_EQ(ZX_OK, zx_process_read_memory(0x4321, 0x1000, dst,
						sizeof(dst), NULL));
	expect_request(_metadata, 2, fd, ZXMEM_IOC_READ_MEMORY, 0x4321,
		       0x1000, dst, sizeof(dst));
	close(fd);
}

/* What the kernel answers, and what the API must return for it. */
FIXTURE(answer) {
	int fd;
};

FIXTURE_VARIANT(answer) {
	int error;		/* ioctl(2) fails with this errno, or 0 */
	zx_status_t status;	/* else the status the kernel writes back */
	zx_status_t want;	/* what zx_process_*_memory() returns */
};

/* The kernel's status passes through untouched, whatever it is. */
FIXTURE_VARIANT_ADD(answer, ok) {
	.status = ZX_OK, .want = ZX_OK,
};
FIXTURE_VARIANT_ADD(answer, not_supported) {
	.status = ZX_ERR_NOT_SUPPORTED, .want = ZX_ERR_NOT_SUPPORTED,
};
FIXTURE_VARIANT_ADD(answer, invalid_args) {
	.status = ZX_ERR_INVALID_ARGS, .want = ZX_ERR_INVALID_ARGS,
};
FIXTURE_VARIANT_ADD(answer, bad_handle) {
	.status = ZX_ERR_BAD_HANDLE, .want = ZX_ERR_BAD_HANDLE,
};
FIXTURE_VARIANT_ADD(answer, wrong_type) {
	.status = ZX_ERR_WRONG_TYPE, .want = ZX_ERR_WRONG_TYPE,
};
FIXTURE_VARIANT_ADD(answer, access_denied) {
	.status = ZX_ERR_ACCESS_DENIED, .want = ZX_ERR_ACCESS_DENIED,
};
FIXTURE_VARIANT_ADD(answer, bad_state) {
	.status = ZX_ERR_BAD_STATE, .want = ZX_ERR_BAD_STATE,
};
FIXTURE_VARIANT_ADD(answer, no_memory) {
	.status = ZX_ERR_NO_MEMORY, .want = ZX_ERR_NO_MEMORY,
};
FIXTURE_VARIANT_ADD(answer, unknown_status) {
	.status = -12345, .want = -12345,
};
/* An errno: not a zxmem device, or one of another ABI. */
FIXTURE_VARIANT_ADD(answer, enotty_is_not_supported) {
	.error = ENOTTY, .want = ZX_ERR_NOT_SUPPORTED,
};
FIXTURE_VARIANT_ADD(answer, einval_is_not_supported) {
	.error = EINVAL, .want = ZX_ERR_NOT_SUPPORTED,
};
/* The API's own struct is on its stack: EFAULT means a bad address. */
FIXTURE_VARIANT_ADD(answer, efault_is_invalid_args) {
	.error = EFAULT, .want = ZX_ERR_INVALID_ARGS,
};
FIXTURE_VARIANT_ADD(answer, ebadf_is_internal) {
	.error = EBADF, .want = ZX_ERR_INTERNAL,
};
FIXTURE_VARIANT_ADD(answer, eperm_is_internal) {
	.error = EPERM, .want = ZX_ERR_INTERNAL,
};
FIXTURE_VARIANT_ADD(answer, eio_is_internal) {
	.error = EIO, .want = ZX_ERR_INTERNAL,
};

FIXTURE_SETUP(answer)
{
	self->fd = fake_device();
	ASSERT_LE(0, self->fd);
	fake.error = variant->error;
	fake.status = variant->status;
	fake.actual = 4096;
}

FIXTURE_TEARDOWN(answer)
{
	close(self->fd);
}

/* Status as mapped, actual only on ZX_OK, errno as it was, both calls. */
TEST_F(answer, reaches_the_caller_as_documented)
{
	char buf[16] = "";
	size_t actual;
	int call;

	for (call = 0; call < 2; call++) {
		zx_status_t got;

		actual = ACTUAL_SENTINEL;
		errno = ERRNO_SENTINEL;
		got = call ? zx_process_read_memory(7, 0x1000, buf,
						    sizeof(buf), &actual) :
			     zx_process_write_memory(7, 0x1000, buf,
						     sizeof(buf), &actual);
		EXPECT_EQ(variant->want, got) {
			TH_LOG("%s", call ? "read" : "write");
		}
		EXPECT_EQ(got == ZX_OK ? 4096 : ACTUAL_SENTINEL, actual);
		EXPECT_EQ(ERRNO_SENTINEL, errno);

		/* A NULL actual is never written through. */
		errno = ERRNO_SENTINEL;
		got = call ? zx_process_read_memory(7, 0x1000, buf,
						    sizeof(buf), NULL) :
			     zx_process_write_memory(7, 0x1000, buf,
						     sizeof(buf), NULL);
		EXPECT_EQ(variant->want, got);
		EXPECT_EQ(ERRNO_SENTINEL, errno);
	}
	EXPECT_EQ(4, fake.calls);
}

TEST_HARNESS_MAIN
