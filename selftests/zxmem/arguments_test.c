// SPDX-License-Identifier: GPL-2.0
/*
 * The arguments, step 2 of Documentation/zxmem.rst: flags and reserved
 * must be 0, buffer not 0, buffer_size from 1 to 64 MiB (64 MiB itself is
 * allowed), and all of it is judged before the handle is.  Each refusal
 * is ZX_ERR_INVALID_ARGS through status, with actual left alone and the
 * target unchanged.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZXMEM_TWINS
#include "area.h"

static const bool directions[] = { true, false };

/*
 * A request of each of @sizes from @buf, both ways, is refused at step 2,
 * with actual untouched and the target unchanged.
 */
static void assert_sizes_refused(struct __test_metadata *_metadata, int dev,
				 struct target *t, void *buf,
				 const uint64_t *sizes, unsigned int count)
{
	size_t page = page_size();
	unsigned int i, d;
	int64_t addr;

	addr = target_region(_metadata, t, true, page, SEED_OLD);
	for (i = 0; i < count; i++)
		for (d = 0; d < ARRAY_SIZE(directions); d++)
			ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
				       raw_call(dev, directions[d], t->pidfd,
						addr, buf, sizes[i]));
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_OLD));
}

/* The size is refused before the buffer is looked at: it is a good one. */
#define ASSERT_SIZES_REFUSED(...) do {					\
	const uint64_t _sizes[] = { __VA_ARGS__ };			\
									\
	assert_sizes_refused(_metadata, self->dev, &self->target,	\
			     pattern_buffer(_metadata, page_size(),	\
					    SEED_NEW),			\
			     _sizes, ARRAY_SIZE(_sizes));		\
} while (0)

TEST_F(child, null_buffer_is_invalid_args)
{
	const uint64_t size = page_size();

	assert_sizes_refused(_metadata, self->dev, &self->target, NULL,
			     &size, 1);
}

TEST_F(child, zero_size_is_invalid_args)
{
	ASSERT_SIZES_REFUSED(0);
}

TEST_F(child, size_above_64_mib_is_invalid_args)
{
	ASSERT_SIZES_REFUSED(ZXMEM_MAX_TRANSFER + 1, SIZE_MAX);
}

/* A kernel that kept buffer_size in 32 bits would see one page here. */
TEST_F(child, size_wider_than_32_bits_is_invalid_args)
{
	ASSERT_SIZES_REFUSED((1ULL << 32) + page_size(), 1ULL << 63);
}

/* Each bit of flags (@reserved false) or of reserved, alone, is refused. */
static void assert_each_bit_refused(struct __test_metadata *_metadata,
				    int dev, struct target *t, bool reserved)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	const char *field = reserved ? "reserved" : "flags";
	size_t page = page_size();
	struct zxmem_io io;
	unsigned int i, bit;
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, t, true, page, SEED_OLD);
	buf = pattern_buffer(_metadata, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (bit = 0; bit < 32; bit++) {
			io = raw_request(t->pidfd, addr, buf, page);
			if (reserved)
				io.reserved = 1U << bit;
			else
				io.flags = 1U << bit;
			ASSERT_EQ(0, ioctl(dev, cmds[i], &io));
			ASSERT_EQ(ZX_ERR_INVALID_ARGS, io.status) {
				TH_LOG("%s bit %u: got %s", field, bit,
				       zx_status_get_string(io.status));
			}
			ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
		}
	}
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_OLD));

	/* The same request with the field 0 goes through. */
	io = raw_request(t->pidfd, addr, buf, page);
	ASSERT_EQ(0, ioctl(dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_STATUS(ZX_OK, io.status);
}

TEST_F(child, nonzero_flags_are_invalid_args)
{
	assert_each_bit_refused(_metadata, self->dev, &self->target, false);
}

TEST_F(child, nonzero_reserved_is_invalid_args)
{
	assert_each_bit_refused(_metadata, self->dev, &self->target, true);
}

TEST_F(child, invalid_args_are_reported_before_bad_handle)
{
	int handle = closed_fd();
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(directions); i++)
		ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
			       raw_call(self->dev, directions[i], handle, 0,
					NULL, 1));
}

TEST_F_TIMEOUT(call, of_64_mib_copies_every_byte, 180)
{
	struct transfer done;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true,
			     ZXMEM_MAX_TRANSFER, SEED_OLD);

	done = twin_call(_metadata, self->dev, variant->write,
			 self->target.pidfd, addr, ZXMEM_MAX_TRANSFER);
	ASSERT_COPIED(ZXMEM_MAX_TRANSFER, done);
	ASSERT_EQ(0, twin_mismatches(&self->target, variant->write, &done,
				     addr, ZXMEM_MAX_TRANSFER));
}

TEST_HARNESS_MAIN
