// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of Documentation/zxmem.rst, "The ioctl ABI": ioctl()
 * fails only with EFAULT (the struct cannot be exchanged) or ENOTTY (an
 * unknown command); otherwise the call's status is in status, which the
 * kernel always writes, actual is written only on ZX_OK, and no other
 * byte of the struct or around it changes.  Checked for every status
 * class the module answers, through the raw ioctl: <zircon/syscalls.h>
 * would hide what the kernel wrote.
 */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZXMEM_STATUSES
#include "area.h"

TEST_F(child, unknown_ioctl_command_is_enotty)
{
	unsigned long cmds[] = {
		_IOWR(ZXMEM_IOC_MAGIC, 0x02, struct zxmem_io),
		_IOWR(ZXMEM_IOC_MAGIC + 1, 0x00, struct zxmem_io),
		_IOWR(ZXMEM_IOC_MAGIC, 0x00, __u64[5]),	/* a smaller struct */
		_IOWR(ZXMEM_IOC_MAGIC, 0x01, __u64[7]),	/* a larger one */
		_IOR(ZXMEM_IOC_MAGIC, 0x01, struct zxmem_io),
		_IO(ZXMEM_IOC_MAGIC, 0x00),
	};
	size_t page = page_size();
	struct zxmem_io io, sent;
	unsigned int i;
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	buf = pattern_buffer(_metadata, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		sent = raw_request(self->target.pidfd, addr, buf, page);
		io = sent;
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], &io)) {
			TH_LOG("command %#lx was accepted", cmds[i]);
		}
		ASSERT_EQ(ENOTTY, errno);
		ASSERT_EQ(0, memcmp(&sent, &io, sizeof(io)));
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, unreadable_struct_is_efault)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	unsigned int i;
	void *nowhere;

	nowhere = unmapped_buffer(_metadata);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], NULL));
		ASSERT_EQ(EFAULT, errno);
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], nowhere));
		ASSERT_EQ(EFAULT, errno);
	}
}

/* The request can be read, the status cannot be written back. */
TEST_F(child, unwritable_struct_is_efault)
{
	size_t page = page_size();
	struct zxmem_io *io;
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	buf = map_buffer(_metadata, page);
	io = map_buffer(_metadata, page);
	*io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, mprotect(io, page, PROT_READ));

	/* A read, so that nothing of the target changes either way. */
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY, io));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/*
 * Issue @cmd on a request that sits in a page of 0xa5 bytes and check that
 * the kernel wrote status, actual only on ZX_OK, and not one byte more.
 */
static void assert_writes_back_only_status(struct __test_metadata *_metadata,
					   int dev, unsigned long cmd,
					   const struct zxmem_io *request,
					   zx_status_t expected)
{
	size_t page = page_size(), at = 128;
	uint8_t *before, *after;
	struct zxmem_io *io;

	before = map_buffer(_metadata, page);
	after = map_buffer(_metadata, page);
	memset(after, 0xa5, page);
	io = (struct zxmem_io *)(after + at);
	memcpy(io, request, sizeof(*io));
	memset(&io->actual, 0xa5, sizeof(io->actual));
	memset(&io->status, 0xa5, sizeof(io->status));
	memcpy(before, after, page);

	ASSERT_EQ(0, ioctl(dev, cmd, io)) {
		TH_LOG("ioctl() failed: %s", strerror(errno));
	}
	ASSERT_STATUS(expected, io->status);
	if (expected == ZX_OK)
		ASSERT_EQ(request->buffer_size, io->actual);

	/* Everything but the two out fields is as it was, in and around. */
	memcpy(after + at + offsetof(struct zxmem_io, status),
	       before + at + offsetof(struct zxmem_io, status),
	       sizeof(io->status));
	if (expected == ZX_OK)
		memcpy(after + at + offsetof(struct zxmem_io, actual),
		       before + at + offsetof(struct zxmem_io, actual),
		       sizeof(io->actual));
	ASSERT_EQ(0, memcmp(before, after, page)) {
		if (expected != ZX_OK &&
		    memcmp(&io->actual, before + at +
			   offsetof(struct zxmem_io, actual),
			   sizeof(io->actual)))
			TH_LOG("actual written on %s",
			       zx_status_get_string(expected));
	}
	munmap(before, page);
	munmap(after, page);
}

/*
 * The same rules for every status a call can answer, each provoked by
 * the step of the pipeline that gives it, for a write and for a read
 * (status.ok and status.access_denied are the success and the error of
 * an ordinary request).
 */
TEST_F(status, writes_back_status_always_and_actual_only_on_zx_ok)
{
	zx_status_t expected = variant->expected;
	struct provoked call;

	provoke_status(_metadata, &self->target, expected, &call);
	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_WRITE_MEMORY, &call.request,
				       expected);
	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_READ_MEMORY, &call.request,
				       call.read_expected);
	if (call.alive)
		ASSERT_EQ(0, target_mismatches(&self->target, call.addr,
					       page_size(),
					       expected == ZX_OK ? SEED_NEW :
					       SEED_OLD));
}

TEST_HARNESS_MAIN
