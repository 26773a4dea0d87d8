// SPDX-License-Identifier: GPL-2.0
/*
 * The target's memory, steps 8 to 11 and 14 of Documentation/zxmem.rst:
 * no write into [vdso] or [vvar] (8); the first byte must be mapped (9),
 * cacheable (10) and, for a write, forceable (11); a copy runs across
 * adjacent mappings and stops at the first page that is a hole or one
 * that step 10 or 11 would refuse, with actual saying how far it got.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZXMEM_TWINS
#include "area.h"

/* Write and read at @vaddr must both answer ZX_ERR_NO_MEMORY. */
static void assert_no_memory_at(struct __test_metadata *_metadata, int dev,
				struct target *t, uint64_t vaddr)
{
	size_t page = page_size();
	struct transfer w, r;

	w = write_pattern(_metadata, dev, t->pidfd, vaddr, page, SEED_NEW);
	ASSERT_EQ(ZX_ERR_NO_MEMORY, w.status) {
		TH_LOG("write at %#llx: %s", (unsigned long long)vaddr,
		       zx_status_get_string(w.status));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, dev, t->pidfd, vaddr, page, SEED_OLD);
	ASSERT_EQ(ZX_ERR_NO_MEMORY, r.status) {
		TH_LOG("read at %#llx: %s", (unsigned long long)vaddr,
		       zx_status_get_string(r.status));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/* Trace @t, and make a page-long file of SEED_OLD, named in @path. */
static int traced_file(struct __test_metadata *_metadata, struct target *t,
		       char path[64])
{
	int fd;

	ASSERT_EQ(0, target_trace(t));
	fd = make_pattern_file(path, 64, page_size(), SEED_OLD);
	ASSERT_LE(0, fd);
	return fd;
}

TEST_F(child, unmapped_address_is_no_memory)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	ASSERT_EQ(0, target_unmap(&self->target, addr, page));

	assert_no_memory_at(_metadata, self->dev, &self->target, addr);
	/* A forced write must not have mapped anything there. */
	ASSERT_EQ(0, is_mapped(self->target.pid, addr));
}

TEST_F(child, address_zero_is_no_memory)
{
	ASSERT_EQ(0, target_trace(&self->target));
	assert_no_memory_at(_metadata, self->dev, &self->target, 0);
}

TEST_F(child, kernel_address_is_no_memory)
{
	uint64_t addrs[] = {
		KERNEL_ADDRESS,
		-(uint64_t)page_size(),	/* the last page: vaddr + size wraps */
		1ULL << 63,		/* not canonical */
	};
	unsigned int i;

	ASSERT_EQ(0, target_trace(&self->target));
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		assert_no_memory_at(_metadata, self->dev, &self->target,
				    addrs[i]);
}

/* A debugger's write: a few bytes, unaligned, across a page boundary. */
TEST_F(child, unaligned_write_changes_exactly_those_bytes)
{
	static const uint8_t patch[] = { 0xcc, 0x90, 0x0f, 0x0b, 0xc3 };
	size_t page = page_size(), at = page - 2;
	uint8_t *expected, *seen;
	struct transfer w;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, 2 * page, SEED_OLD);
	expected = map_buffer(_metadata, 2 * page);
	seen = map_buffer(_metadata, 2 * page);
	fill_pattern(expected, 2 * page, SEED_OLD);
	memcpy(expected + at, patch, sizeof(patch));

	w = raw_call(self->dev, true, self->target.pidfd, addr + at,
		     (void *)patch, sizeof(patch));
	ASSERT_COPIED(sizeof(patch), w);
	ASSERT_EQ(0, target_copy_out(&self->target, addr, 2 * page, seen));
	ASSERT_EQ(0, memcmp(expected, seen, 2 * page));
}

TEST_F(child, unaligned_read_returns_exactly_those_bytes)
{
	size_t page = page_size(), at = page - 3, len = 7;
	uint8_t expected[7], seen[7];
	struct transfer r;
	uint8_t *whole;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, 2 * page, SEED_OLD);
	whole = pattern_buffer(_metadata, 2 * page, SEED_OLD);
	memcpy(expected, whole + at, len);
	memset(seen, 0, sizeof(seen));

	r = raw_call(self->dev, false, self->target.pidfd, addr + at, seen,
		     len);
	ASSERT_COPIED(len, r);
	ASSERT_EQ(0, memcmp(expected, seen, len));
}

TEST_F(call, stops_at_hole_with_partial_actual)
{
	size_t page = page_size();
	struct transfer done;
	int64_t addr;

	ASSERT_EQ(0, target_trace(&self->target));
	/* Two pages, the second of them a hole. */
	addr = target_region(_metadata, &self->target, false, 2 * page, SEED_OLD);
	ASSERT_EQ(0, target_unmap(&self->target, addr + page, page));

	done = twin_call(_metadata, self->dev, variant->write,
			 self->target.pidfd, addr, 2 * page);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, twin_mismatches(&self->target, variant->write, &done,
				     addr, page));
	ASSERT_EQ(0, is_mapped(self->target.pid, addr + page));
}

/*
 * A mapping that runs past the end of its file: the page beyond the end
 * has nothing behind it (an access there is SIGBUS), so the checks let
 * the copy run through the whole mapping and the copy stops at the end
 * of the file.  actual is what was copied, not what the checks allowed.
 */
TEST_F(call, stops_at_the_end_of_the_file_behind_a_mapping)
{
	size_t page = page_size();
	struct transfer done;
	char path[64];
	int64_t addr;
	int fd;

	fd = traced_file(_metadata, &self->target, path);
	addr = target_map_file(&self->target, path, O_RDONLY,
			       PROT_READ | PROT_WRITE, MAP_PRIVATE, 2 * page);
	unlink(path);
	ASSERT_LT(0, addr);

	done = twin_call(_metadata, self->dev, variant->write,
			 self->target.pidfd, addr, 2 * page);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, twin_mismatches(&self->target, variant->write, &done,
				     addr, page));
	/* A private mapping: the file keeps its bytes. */
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

TEST_F(child, write_runs_across_adjacent_mappings)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, 2 * page, SEED_OLD);
	/* Two VMAs now: read-write, then read-only. */
	ASSERT_EQ(0, target_protect(&self->target, addr + page, page,
				    PROT_READ));

	w = write_pattern(_metadata, self->dev, self->target.pidfd, addr,
			  2 * page, SEED_NEW);
	ASSERT_COPIED(2 * page, w);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, 2 * page,
				       SEED_NEW));
}

TEST_F(child, write_stops_before_shared_readonly_mapping)
{
	struct child_request map_file = {
		.op = CHILD_MAP,
		.prot = PROT_READ,
		.flags = MAP_SHARED | MAP_FIXED,
		.open_flags = O_RDONLY,
	};
	size_t page = page_size();
	struct transfer w;
	char path[64];
	int64_t addr;
	int fd;

	fd = traced_file(_metadata, &self->target, path);
	addr = target_region(_metadata, &self->target, false, 2 * page, SEED_OLD);
	map_file.addr = addr + page;
	map_file.len = page;
	snprintf(map_file.path, sizeof(map_file.path), "%s", path);
	ASSERT_EQ(addr + (int64_t)page, target_ask(&self->target, &map_file));
	unlink(path);

	w = write_pattern(_metadata, self->dev, self->target.pidfd, addr,
			  2 * page, SEED_NEW);
	ASSERT_COPIED(page, w);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(0, target_mismatches(&self->target, addr + page, page,
				       SEED_OLD));
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

/* Map a private page with pattern SEED_OLD, then give it protection @prot. */
static int64_t target_map_protected(struct target *t, int prot)
{
	size_t page = page_size();
	int64_t addr = target_map_anon(t, page, SEED_OLD);

	if (addr < 0)
		return addr;
	if (target_protect(t, addr, page, prot))
		return -1;
	return addr;
}

/* A forced write into a private page the child may not write itself. */
static void assert_write_is_forced(struct __test_metadata *_metadata, int dev,
				   struct target *t, int prot)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	ASSERT_EQ(0, target_trace(t));
	addr = target_map_protected(t, prot);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, dev, t->pidfd, addr, page, SEED_NEW);
	ASSERT_COPIED(page, w);
	/* Let the child look: PROT_EXEC alone may not be readable. */
	ASSERT_EQ(0, target_protect(t, addr, page, PROT_READ));
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_NEW));
}

TEST_F(child, write_to_readonly_private_anonymous_is_forced)
{
	assert_write_is_forced(_metadata, self->dev, &self->target, PROT_READ);
}

TEST_F(child, write_to_exec_only_mapping_is_forced)
{
	assert_write_is_forced(_metadata, self->dev, &self->target, PROT_EXEC);
}

TEST_F(child, write_to_prot_none_mapping_is_forced)
{
	assert_write_is_forced(_metadata, self->dev, &self->target, PROT_NONE);
}

TEST_F(child, read_from_prot_none_mapping_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_protected(&self->target, PROT_NONE);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			 SEED_OLD);
	ASSERT_COPIED(page, r);
	ASSERT_EQ(0, r.mismatches);
}

/*
 * A write into a read-only mapping (@flags) of a file: @expected, and the
 * file unchanged either way; forced (ZX_OK), the mapping's copy changes.
 */
static void assert_file_mapping_write(struct __test_metadata *_metadata,
				      int dev, struct target *t, int flags,
				      zx_status_t expected)
{
	size_t page = page_size();
	struct transfer w;
	char path[64];
	int64_t addr;
	int fd;

	fd = traced_file(_metadata, t, path);
	addr = target_map_file(t, path, O_RDONLY, PROT_READ, flags, page);
	unlink(path);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, dev, t->pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(expected, w.status);
	ASSERT_EQ(expected == ZX_OK ? page : ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, target_mismatches(t, addr, page, expected == ZX_OK ?
				       SEED_NEW : SEED_OLD));
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

TEST_F(child, write_to_readonly_private_file_mapping_leaves_file_unchanged)
{
	assert_file_mapping_write(_metadata, self->dev, &self->target,
				  MAP_PRIVATE, ZX_OK);
}

TEST_F(child, write_to_shared_readonly_file_mapping_is_access_denied)
{
	assert_file_mapping_write(_metadata, self->dev, &self->target,
				  MAP_SHARED, ZX_ERR_ACCESS_DENIED);
}

/*
 * Trace @t and find its [vdso]: its length, with its bytes as the child
 * itself sends them (not through zxmem) in @bytes; 0 if it has no vDSO.
 */
static size_t traced_vdso(struct __test_metadata *_metadata,
			  struct target *t, struct mapping *vdso,
			  uint8_t bytes[COPY_OUT_MAX])
{
	size_t len;

	ASSERT_EQ(0, target_trace(t));
	if (find_mapping(t->pid, "[vdso]", vdso))
		return 0;
	len = vdso->end - vdso->start;
	ASSERT_GE(COPY_OUT_MAX, len);
	ASSERT_EQ(0, target_copy_out(t, vdso->start, len, bytes));
	return len;
}

/*
 * Step 8: no write reaches the vDSO, not even forced, whether it covers
 * all of it or one byte in the middle; a read gets its bytes.
 */
TEST_F(call, vdso_is_access_denied_to_writes_and_read_as_it_is)
{
	uint8_t before[COPY_OUT_MAX], after[COPY_OUT_MAX];
	struct mapping vdso;
	size_t len;

	len = traced_vdso(_metadata, &self->target, &vdso, before);
	if (!len)
		SKIP(return, "the child has no [vdso] mapping");

	if (variant->write) {
		assert_call_refused(_metadata, self->dev, true,
				    self->target.pidfd, vdso.start, len,
				    ZX_ERR_ACCESS_DENIED);
		assert_call_refused(_metadata, self->dev, true,
				    self->target.pidfd, vdso.start + len / 2,
				    1, ZX_ERR_ACCESS_DENIED);
	} else {
		ASSERT_COPIED(len, raw_call(self->dev, false,
					    self->target.pidfd, vdso.start,
					    after, len));
		ASSERT_EQ(0, memcmp(before, after, len));
	}
	ASSERT_EQ(0, target_copy_out(&self->target, vdso.start, len, after));
	ASSERT_EQ(0, memcmp(before, after, len));
}

/*
 * [vvar] is the vDSO's data: a write is refused as the vDSO is (step 8),
 * before a read is refused as not cacheable (step 10).
 */
TEST_F(call, vvar_is_access_denied_to_writes_and_bad_state_to_reads)
{
	struct mapping vvar;

	ASSERT_EQ(0, target_trace(&self->target));
	if (find_mapping(self->target.pid, "[vvar]", &vvar))
		SKIP(return, "the child has no [vvar] mapping");

	assert_call_refused(_metadata, self->dev, variant->write,
			    self->target.pidfd, vvar.start, page_size(),
			    variant->write ? ZX_ERR_ACCESS_DENIED :
			    ZX_ERR_BAD_STATE);
}

/*
 * Step 8 looks at the whole range, before step 9 looks at its first byte:
 * a write from the page below the vDSO into it is refused whatever that
 * page is.  It is a hole where the vDSO lands a distance above the stack
 * (5.10, 6.1; step 9 alone would answer ZX_ERR_NO_MEMORY), and mapped
 * where that distance is none, or on 6.12 and 7.x (step 9 alone would let
 * the write start): either way nothing may be written.
 */
TEST_F(child, write_from_below_into_vvar_is_access_denied)
{
	size_t page = page_size();
	uint8_t before[2][64], after[2][64];
	struct mapping vvar, vdso;
	struct transfer w;
	uint64_t below, at[2];
	unsigned int i;
	bool readable;
	int mapped;

	ASSERT_EQ(0, target_trace(&self->target));
	if (find_mapping(self->target.pid, "[vvar]", &vvar))
		SKIP(return, "the child has no [vvar] mapping");
	if (find_mapping(self->target.pid, "[vdso]", &vdso))
		SKIP(return, "the child has no [vdso] mapping");
	/* [vdso] sits below [vvar] on some kernels: start below both. */
	below = (vdso.start < vvar.start ? vdso.start : vvar.start) - page;
	/* Where the write would begin, and the bytes next to the vDSO. */
	at[0] = below;
	at[1] = below + page - sizeof(before[1]);
	mapped = is_mapped(self->target.pid, below);
	ASSERT_LE(0, mapped);
	readable = mapped == 1;
	for (i = 0; i < 2 && readable; i++)
		readable = !target_copy_out(&self->target, at[i],
					    sizeof(before[i]), before[i]);

	w = write_pattern(_metadata, self->dev, self->target.pidfd, below,
			  2 * page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	/* A hole stays a hole, a mapping a mapping ... */
	ASSERT_EQ(mapped, is_mapped(self->target.pid, below));
	if (!readable)
		return;
	/* ... and what could be read is unchanged. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, target_copy_out(&self->target, at[i],
					     sizeof(after[i]), after[i]));
		ASSERT_EQ(0, memcmp(before[i], after[i], sizeof(before[i])));
	}
}

TEST_F(call, io_mapping_is_bad_state)
{
	uint8_t before[64], after[64];
	size_t page = page_size();
	int64_t addr;

	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_io(&self->target, 0, page);
	if (addr < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-addr));
	ASSERT_EQ(0, target_copy_out(&self->target, addr, sizeof(before),
				     before));

	assert_call_refused(_metadata, self->dev, variant->write,
			    self->target.pidfd, addr, sizeof(before),
			    ZX_ERR_BAD_STATE);
	ASSERT_EQ(0, target_copy_out(&self->target, addr, sizeof(after),
				     after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
}

/*
 * An ordinary page with the BIOS area mapped right after it.  A copy that
 * ran on into it would go through the mapping's ->access() (physical
 * memory), so it must stop at the boundary.
 */
TEST_F(call, stops_before_io_mapping)
{
	uint8_t before[64], after[64];
	size_t page = page_size();
	struct transfer done;
	int64_t addr, io;

	addr = target_region(_metadata, &self->target, true, 2 * page, SEED_OLD);
	io = target_map_io(&self->target, addr + page, page);
	if (io < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-io));
	ASSERT_EQ(addr + (int64_t)page, io);
	ASSERT_EQ(0, target_copy_out(&self->target, io, sizeof(before),
				     before));

	done = twin_call(_metadata, self->dev, variant->write,
			 self->target.pidfd, addr, 2 * page);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, twin_mismatches(&self->target, variant->write, &done,
				     addr, page));
	ASSERT_EQ(0, target_copy_out(&self->target, io, sizeof(after), after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
}

TEST_HARNESS_MAIN
