// SPDX-License-Identifier: GPL-2.0
/*
 * The caller's buffer, step 12 of Documentation/zxmem.rst: it must be a
 * readable (write) or writable (read) user range, judged whole before the
 * first byte is copied, or the call is ZX_ERR_INVALID_ARGS through status;
 * never an EFAULT from ioctl().
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZXMEM_TWINS
#include "area.h"

TEST_F(call, unmapped_buffer_is_invalid_args)
{
	size_t page = page_size();
	struct transfer done;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);

	done = raw_call(self->dev, variant->write, self->target.pidfd, addr,
			unmapped_buffer(_metadata), page);
	ASSERT_REFUSED(ZX_ERR_INVALID_ARGS, done);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, kernel_address_buffer_is_invalid_args)
{
	void *kernel_buf = (void *)(uintptr_t)KERNEL_ADDRESS;
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);

	ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
		       raw_call(self->dev, true, self->target.pidfd, addr,
				kernel_buf, page));
	ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
		       raw_call(self->dev, false, self->target.pidfd, addr,
				kernel_buf, page));
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/* A buffer bad from the start is refused before the first chunk is written. */
TEST_F(child, multi_chunk_write_with_unmapped_last_page_writes_nothing)
{
	size_t len = 1 << 20, page = page_size();
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, len, SEED_OLD);
	buf = pattern_buffer(_metadata, len, SEED_NEW);
	ASSERT_EQ(0, munmap(buf + len - page, page));

	ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
		       raw_call(self->dev, true, self->target.pidfd, addr, buf,
				len));
	ASSERT_EQ(0, target_mismatches(&self->target, addr, len, SEED_OLD));
}

TEST_F(child, read_into_readonly_buffer_is_invalid_args)
{
	size_t page = page_size();
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_NEW);
	buf = pattern_buffer(_metadata, page, SEED_OLD);
	ASSERT_EQ(0, mprotect(buf, page, PROT_READ));

	ASSERT_REFUSED(ZX_ERR_INVALID_ARGS,
		       raw_call(self->dev, false, self->target.pidfd, addr,
				buf, page));
	ASSERT_EQ(0, count_mismatches(buf, page, SEED_OLD));
}

TEST_HARNESS_MAIN
