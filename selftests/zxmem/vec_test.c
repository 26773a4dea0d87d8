// SPDX-License-Identifier: GPL-2.0
/*
 * The batched calls of Documentation/zxmem.rst, "Batched calls":
 * ZXMEM_IOC_WRITE_MEMORY_VEC and ZXMEM_IOC_READ_MEMORY_VEC, through the
 * raw ioctl (and <zxmem/vec.h> where a test says so).
 *
 * - The call: the gate, then the header (flags, reserved, EXCHANGE on a
 *   read, count 1..1024, segments), then the array read once (EFAULT if
 *   it cannot be), the total of the valid segments (64 MiB at most), then
 *   handle, right and state once for the call.  A refusal there is the
 *   call's status, with done 0 and no segment touched.
 * - Each segment: its status (and actual iff ZX_OK) is what a single
 *   call with its range answers; its own field errors refuse it alone;
 *   ZXMEM_VEC_STOP ends the call after the first failing one.
 * - EXCHANGE: the old bytes of each segment, exactly, even against a
 *   thread of the target that increments the word being replaced.
 * - Only the segments' status and actual and the call's status, done and
 *   actual are ever written back.
 * - 1,024 breakpoints in one call trap when executed, and the same call
 *   with the old bytes removes them.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define ZXMEM_TWINS
#define ZXMEM_STATUSES
#include "area.h"

#include <zxmem/vec.h>

/* The call's done before the kernel writes it. */
#define DONE_UNTOUCHED		((__u32)0x5a5a5a5a)
#define MIB			((size_t)1 << 20)
#define MAX_TOTAL		((size_t)ZXMEM_MAX_TRANSFER)

/* What one raw batched call gave back: ioctl()'s answer and the struct. */
struct vcall {
	int ret;
	int err;
	struct zxmem_vec vec;
};

static void seg_reset_out(struct zxmem_segment *s, unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		s[i].actual = ACTUAL_UNTOUCHED;
		s[i].status = STATUS_UNTOUCHED;
	}
}

static struct zxmem_vec vec_request(int pidfd, struct zxmem_segment *segs,
				    uint32_t count, uint32_t flags)
{
	struct zxmem_vec vec = {
		.segments = (uintptr_t)segs,
		.count = count,
		.handle = pidfd,
		.flags = flags,
		.status = STATUS_UNTOUCHED,
		.done = DONE_UNTOUCHED,
		.actual = ACTUAL_UNTOUCHED,
	};

	return vec;
}

static struct vcall vec_issue(int dev, bool write, struct zxmem_vec vec)
{
	struct vcall c = { .vec = vec };

	c.ret = ioctl(dev, write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
		      ZXMEM_IOC_READ_MEMORY_VEC, &c.vec);
	c.err = c.ret ? errno : 0;
	return c;
}

static struct vcall vec_call(int dev, bool write, int pidfd,
			     struct zxmem_segment *segs, uint32_t count,
			     uint32_t flags)
{
	return vec_issue(dev, write, vec_request(pidfd, segs, count, flags));
}

/* Segments [from, to) hold no status and no actual. */
static void assert_segs_untouched(struct __test_metadata *_metadata,
				  const struct zxmem_segment *s,
				  unsigned int from, unsigned int to)
{
	unsigned int i;

	for (i = from; i < to; i++) {
		ASSERT_EQ(STATUS_UNTOUCHED, s[i].status) {
			TH_LOG("segment %u got %s", i,
			       zx_status_get_string(s[i].status));
		}
		ASSERT_EQ(ACTUAL_UNTOUCHED, s[i].actual) {
			TH_LOG("segment %u: actual written", i);
		}
	}
}

/* The call was refused as a whole with @want: done 0, no segment touched. */
static void assert_vec_refused(struct __test_metadata *_metadata,
			       zx_status_t want, const struct vcall *c,
			       const struct zxmem_segment *s,
			       unsigned int count)
{
	ASSERT_EQ(0, c->ret) {
		TH_LOG("ioctl() failed: %s", strerror(c->err));
	}
	ASSERT_STATUS(want, c->vec.status);
	ASSERT_EQ(0u, c->vec.done);
	ASSERT_EQ(ACTUAL_UNTOUCHED, c->vec.actual);
	assert_segs_untouched(_metadata, s, 0, count);
}

/*
 * The call was carried out: ZX_OK, @done segments with a status, each
 * with actual iff ZX_OK, and the call's actual their sum.
 */
static void assert_vec_done(struct __test_metadata *_metadata,
			    const struct vcall *c,
			    const struct zxmem_segment *s, unsigned int done)
{
	uint64_t sum = 0;
	unsigned int i;

	ASSERT_EQ(0, c->ret) {
		TH_LOG("ioctl() failed: %s", strerror(c->err));
	}
	ASSERT_STATUS(ZX_OK, c->vec.status);
	ASSERT_EQ(done, c->vec.done);
	for (i = 0; i < done; i++) {
		ASSERT_NE(STATUS_UNTOUCHED, s[i].status) {
			TH_LOG("segment %u has no status", i);
		}
		if (s[i].status == ZX_OK) {
			ASSERT_GE(s[i].size, s[i].actual);
			ASSERT_LT(0u, s[i].actual);
			sum += s[i].actual;
		} else {
			ASSERT_EQ(ACTUAL_UNTOUCHED, s[i].actual) {
				TH_LOG("segment %u: actual written on %s", i,
				       zx_status_get_string(s[i].status));
			}
		}
	}
	ASSERT_EQ(sum, c->vec.actual);
}

/*
 * Bytes of [@addr + @off, + @len) in @t that are not the pattern for @seed
 * of the region that starts at @addr (target_fill() patterns a region
 * from its start); -1 if they cannot be read.
 */
static int64_t region_mismatches(struct target *t, uint64_t addr, size_t off,
				 size_t len, uint8_t seed)
{
	uint8_t *bytes = malloc(COPY_OUT_MAX);
	int64_t bad = 0;
	size_t done, n, j;

	if (!bytes)
		return -1;
	for (done = 0; done < len; done += n) {
		n = len - done < COPY_OUT_MAX ? len - done : COPY_OUT_MAX;
		if (target_copy_out(t, addr + off + done, n, bytes)) {
			bad = -1;
			break;
		}
		for (j = 0; j < n; j++)
			bad += bytes[j] != pattern_byte(seed, off + done + j);
	}
	free(bytes);
	return bad;
}

/* The same for @len bytes of ours that hold a region's from @off on. */
static int64_t bytes_mismatches(const uint8_t *bytes, size_t off, size_t len,
				uint8_t seed)
{
	int64_t bad = 0;
	size_t j;

	for (j = 0; j < len; j++)
		bad += bytes[j] != pattern_byte(seed, off + j);
	return bad;
}

#define ASSERT_SEG(want_status, want_actual, seg) do {			\
	const struct zxmem_segment *_s = &(seg);			\
	ASSERT_STATUS(want_status, _s->status);				\
	ASSERT_EQ((want_status) == ZX_OK ? (__u64)(want_actual) :	\
		  ACTUAL_UNTOUCHED, _s->actual);			\
} while (0)

/* The ABI is the same for every caller: sizes, offsets and numbers. */
TEST(layout_of_the_batched_abi)
{
	ASSERT_VEC_LAYOUT();
}

/*
 * Every status of the table, provoked as for a single call, in a batched
 * call beside a good segment on another page: the statuses the handle,
 * the right and the state give refuse the whole call; the others are the
 * provoked segment's alone.  Either way the answer is the one a single
 * call with that request gives (issued after, to compare).
 */
TEST_F(status, a_segment_or_the_call_answers_what_one_call_answers)
{
	zx_status_t expected = variant->expected;
	size_t page = page_size();
	struct zxmem_segment segs[2];
	struct zxmem_io single;
	struct provoked call;
	uint8_t *src, *dst[2];
	bool per_segment;
	uint8_t seed;
	struct vcall c;
	int64_t other;
	zx_status_t want;

	other = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, other);
	src = pattern_buffer(_metadata, page, SEED_NEW);
	dst[0] = map_buffer(_metadata, page);
	dst[1] = map_buffer(_metadata, page);
	provoke_status(_metadata, &self->target, expected, &call);

	/* The write. */
	per_segment = expected == ZX_OK || expected == ZX_ERR_INVALID_ARGS ||
		      expected == ZX_ERR_NO_MEMORY;
	seg_set(&segs[0], call.request.vaddr,
		(void *)(uintptr_t)call.request.buffer, page);
	segs[0].reserved = call.request.flags;	/* the invalid_args row */
	seg_set(&segs[1], other, src, page);
	c = vec_call(self->dev, true, call.request.handle, segs, 2, 0);
	single = call.request;
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &single));
	ASSERT_STATUS(expected, single.status);
	if (per_segment) {
		assert_vec_done(_metadata, &c, segs, 2);
		ASSERT_SEG(single.status, single.actual, segs[0]);
		ASSERT_SEG(ZX_OK, page, segs[1]);
	} else {
		assert_vec_refused(_metadata, single.status, &c, segs, 2);
	}
	if (self->target.pid) {
		ASSERT_EQ(0, target_mismatches(&self->target, other, page,
					       per_segment ? SEED_NEW :
					       SEED_OLD));
		if (call.alive)
			ASSERT_EQ(0, target_mismatches(&self->target,
						       call.addr, page,
						       expected == ZX_OK ?
						       SEED_NEW : SEED_OLD));
	}

	/* The read of the same ranges, into buffers of our own. */
	want = call.read_expected;
	per_segment = want == ZX_OK || want == ZX_ERR_INVALID_ARGS ||
		      want == ZX_ERR_NO_MEMORY;
	seg_set(&segs[0], call.request.vaddr, dst[0], page);
	segs[0].reserved = call.request.flags;
	seg_set(&segs[1], other, dst[1], page);
	c = vec_call(self->dev, false, call.request.handle, segs, 2, 0);
	single = call.request;
	single.buffer = (uintptr_t)map_buffer(_metadata, page);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY, &single));
	ASSERT_STATUS(want, single.status);
	if (per_segment) {
		assert_vec_done(_metadata, &c, segs, 2);
		ASSERT_SEG(single.status, single.actual, segs[0]);
		ASSERT_SEG(ZX_OK, page, segs[1]);
		seed = expected == ZX_OK || expected == ZX_ERR_INVALID_ARGS ||
		       expected == ZX_ERR_NO_MEMORY ? SEED_NEW : SEED_OLD;
		ASSERT_EQ(0, count_mismatches(dst[1], page, seed));
		if (want == ZX_OK)
			ASSERT_EQ(0, count_mismatches(dst[0], page,
						      expected == ZX_OK ?
						      SEED_NEW : SEED_OLD));
	} else {
		assert_vec_refused(_metadata, single.status, &c, segs, 2);
	}
}

/* One row of the region and buffer steps, as one segment. */
struct row {
	const char *name;
	uint64_t vaddr;
	const void *buffer;	/* NULL: a page-aligned buffer of the row's */
	uint64_t size;
	zx_status_t want;
	uint64_t actual;	/* on ZX_OK */
	int check_seed;		/* read OK: the buffer holds it; -1: no check */
};

#define MAX_ROWS	20

static void add_row(struct row *rows, unsigned int *n, const char *name,
		    uint64_t vaddr, const void *buffer, uint64_t size,
		    zx_status_t want, uint64_t actual, int check_seed)
{
	struct row r = {
		.name = name, .vaddr = vaddr, .buffer = buffer, .size = size,
		.want = want, .actual = actual, .check_seed = check_seed,
	};

	if (*n < MAX_ROWS)
		rows[(*n)++] = r;
}

/* A page-long file of SEED_OLD mapped by @t with @prot and @flags, twice as long. */
static int64_t map_pattern_file(struct __test_metadata *_metadata,
				struct target *t, int prot, int flags,
				size_t len)
{
	char path[64];
	int64_t addr;
	int fd;

	fd = make_pattern_file(path, sizeof(path), page_size(), SEED_OLD);
	ASSERT_LE(0, fd);
	addr = target_map_file(t, path, O_RDONLY, prot, flags, len);
	unlink(path);
	close(fd);
	ASSERT_LT(0, addr);
	return addr;
}

/*
 * Steps 8 to 14 of the table, each row a segment of one call: no memory,
 * a short copy, the vDSO and [vvar], an I/O mapping, shared and private
 * read-only files, the end of a file, PROT_NONE, and bad buffers.  Each
 * segment's status and actual are the table's, and those of a single
 * call with its range, issued after the batch.
 */
TEST_F_TIMEOUT(call, every_region_and_buffer_row_per_segment, 120)
{
	bool write = variant->write;
	struct target *t = &self->target;
	size_t page = page_size();
	struct zxmem_segment segs[MAX_ROWS];
	struct row rows[MAX_ROWS];
	struct mapping vdso, vvar;
	uint8_t *src, *dsts, *ro_buf, *half_buf;
	int64_t region, hole, shortr, shared, priv, past_eof, none, io;
	unsigned int n = 0, i;
	struct transfer single;
	struct vcall c;

	ASSERT_EQ(0, target_trace(t));
	region = target_map_anon(t, 2 * page, SEED_OLD);
	hole = target_map_anon(t, page, SEED_OLD);
	shortr = target_map_anon(t, 2 * page, SEED_OLD);
	none = target_map_anon(t, page, SEED_OLD);
	ASSERT_LT(0, region);
	ASSERT_LT(0, hole);
	ASSERT_LT(0, shortr);
	ASSERT_LT(0, none);
	ASSERT_EQ(0, target_protect(t, none, page, PROT_NONE));
	shared = map_pattern_file(_metadata, t, PROT_READ, MAP_SHARED, page);
	priv = map_pattern_file(_metadata, t, PROT_READ, MAP_PRIVATE, page);
	past_eof = map_pattern_file(_metadata, t, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE, 2 * page);
	io = target_map_io(t, 0, page);
	/* The holes last: no mapping above may land in them. */
	ASSERT_EQ(0, target_unmap(t, hole, page));
	ASSERT_EQ(0, target_unmap(t, shortr + page, page));

	src = pattern_buffer(_metadata, 2 * page, SEED_NEW);
	dsts = map_buffer(_metadata, MAX_ROWS * 2 * page);
	ro_buf = pattern_buffer(_metadata, page, SEED_NEW);
	ASSERT_EQ(0, mprotect(ro_buf, page, PROT_READ));
	half_buf = pattern_buffer(_metadata, 2 * page, SEED_NEW);
	ASSERT_EQ(0, munmap(half_buf + page, page));

	add_row(rows, &n, "plain", region, NULL, 2 * page, ZX_OK, 2 * page,
		SEED_OLD);
	add_row(rows, &n, "hole", hole, NULL, page, ZX_ERR_NO_MEMORY, 0, -1);
	add_row(rows, &n, "short_copy_at_a_hole", shortr, NULL, 2 * page, ZX_OK,
		page, SEED_OLD);
	add_row(rows, &n, "kernel_address", KERNEL_ADDRESS, NULL, page,
		ZX_ERR_NO_MEMORY, 0, -1);
	/* Every kernel of the matrix has them (region_test skips none). */
	ASSERT_EQ(0, find_mapping(t->pid, "[vdso]", &vdso));
	add_row(rows, &n, "vdso", vdso.start, NULL, page,
		write ? ZX_ERR_ACCESS_DENIED : ZX_OK, page, -1);
	ASSERT_EQ(0, find_mapping(t->pid, "[vvar]", &vvar));
	add_row(rows, &n, "vvar", vvar.start, NULL, page,
		write ? ZX_ERR_ACCESS_DENIED : ZX_ERR_BAD_STATE, 0, -1);
	ASSERT_LT(0, io) {
		TH_LOG("cannot map /dev/mem: %s", strerror(-io));
	}
	add_row(rows, &n, "io_mapping", io, NULL, 64, ZX_ERR_BAD_STATE, 0, -1);
	add_row(rows, &n, "shared_readonly_file", shared, NULL, page,
		write ? ZX_ERR_ACCESS_DENIED : ZX_OK, page, SEED_OLD);
	add_row(rows, &n, "private_readonly_file", priv, NULL, page, ZX_OK,
		page, SEED_OLD);
	add_row(rows, &n, "past_the_end_of_the_file", past_eof + page, NULL,
		page, ZX_ERR_NO_MEMORY, 0, -1);
	add_row(rows, &n, "prot_none", none, NULL, page, ZX_OK, page, SEED_OLD);
	add_row(rows, &n, "unmapped_buffer", region, unmapped_buffer(_metadata),
		page, ZX_ERR_INVALID_ARGS, 0, -1);
	add_row(rows, &n, "kernel_buffer", region,
		(void *)(uintptr_t)KERNEL_ADDRESS, page, ZX_ERR_INVALID_ARGS, 0,
		-1);
	add_row(rows, &n, "readonly_buffer", region, ro_buf, page,
		write ? ZX_OK : ZX_ERR_INVALID_ARGS, page, -1);
	add_row(rows, &n, "buffer_unmapped_halfway", region, half_buf, 2 * page,
		ZX_ERR_INVALID_ARGS, 0, -1);

	ASSERT_EQ(15u, n);
	for (i = 0; i < n; i++) {
		const void *buf = rows[i].buffer;

		if (!buf)
			buf = write ? src : dsts + i * 2 * page;
		seg_set(&segs[i], rows[i].vaddr, buf, rows[i].size);
	}
	c = vec_call(self->dev, write, t->pidfd, segs, n, 0);
	assert_vec_done(_metadata, &c, segs, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(rows[i].want, segs[i].status) {
			TH_LOG("row %s: %s, want %s", rows[i].name,
			       zx_status_get_string(segs[i].status),
			       zx_status_get_string(rows[i].want));
		}
		if (rows[i].want == ZX_OK)
			ASSERT_EQ(rows[i].actual, segs[i].actual) {
				TH_LOG("row %s", rows[i].name);
			}
		if (!write && rows[i].want == ZX_OK && rows[i].check_seed >= 0)
			ASSERT_EQ(0, count_mismatches(dsts + i * 2 * page,
						      segs[i].actual,
						      rows[i].check_seed)) {
				TH_LOG("row %s read other bytes",
				       rows[i].name);
			}
	}

	/* What the writes did, and did not do, in the target. */
	ASSERT_EQ(0, target_mismatches(t, region, 2 * page,
				       write ? SEED_NEW : SEED_OLD));
	ASSERT_EQ(0, target_mismatches(t, shortr, page,
				       write ? SEED_NEW : SEED_OLD));
	ASSERT_EQ(0, target_mismatches(t, shared, page, SEED_OLD));
	ASSERT_EQ(0, target_mismatches(t, priv, page,
				       write ? SEED_NEW : SEED_OLD));
	ASSERT_EQ(0, is_mapped(t->pid, hole));
	ASSERT_EQ(0, is_mapped(t->pid, shortr + page));
	ASSERT_EQ(0, target_protect(t, none, page, PROT_READ));
	ASSERT_EQ(0, target_mismatches(t, none, page,
				       write ? SEED_NEW : SEED_OLD));
	ASSERT_EQ(0, target_protect(t, none, page, PROT_NONE));

	/* Each row again, alone: the same answer. */
	for (i = 0; i < n; i++) {
		single = raw_call(self->dev, write, t->pidfd, segs[i].vaddr,
				  (void *)(uintptr_t)segs[i].buffer,
				  segs[i].size);
		ASSERT_EQ(0, single.ret);
		ASSERT_EQ(single.status, segs[i].status) {
			TH_LOG("row %s: a single call answers %s",
			       rows[i].name,
			       zx_status_get_string(single.status));
		}
		ASSERT_EQ(single.actual, segs[i].actual) {
			TH_LOG("row %s: a single call copies %llu",
			       rows[i].name,
			       (unsigned long long)single.actual);
		}
	}
}

/*
 * A segment's own fields: reserved, buffer 0, size 0 or above 64 MiB, old
 * without EXCHANGE.  Each refuses that segment alone, between good ones,
 * and changes nothing where it points.
 */
TEST_F(call, field_errors_refuse_only_their_segment)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment segs[7];
	uint8_t *buf, *old;
	int64_t region;
	unsigned int i;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, 7 * page,
			       SEED_OLD);
	buf = write ? pattern_buffer(_metadata, 7 * page, SEED_NEW) :
		      map_buffer(_metadata, 7 * page);
	old = map_buffer(_metadata, page);
	for (i = 0; i < 7; i++)
		seg_set(&segs[i], region + i * page, buf + i * page, page);
	segs[1].reserved = 1;
	segs[2].buffer = 0;
	segs[3].size = 0;
	segs[4].size = ZXMEM_MAX_TRANSFER + 1;
	segs[5].old = (uintptr_t)old;

	c = vec_call(self->dev, write, self->target.pidfd, segs, 7, 0);
	assert_vec_done(_metadata, &c, segs, 7);
	ASSERT_SEG(ZX_OK, page, segs[0]);
	for (i = 1; i <= 5; i++)
		ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[i]);
	ASSERT_SEG(ZX_OK, page, segs[6]);
	ASSERT_EQ(2 * page, c.vec.actual);
	for (i = 0; i < 7; i++) {
		uint8_t seed = (i == 0 || i == 6) && write ? SEED_NEW :
			       SEED_OLD;

		ASSERT_EQ(0, region_mismatches(&self->target, region,
					       i * page, page, seed)) {
			TH_LOG("page %u", i);
		}
	}
	if (!write) {
		ASSERT_EQ(0, count_mismatches(buf, page, SEED_OLD));
		ASSERT_EQ(0, bytes_mismatches(buf + 6 * page, 6 * page, page,
					      SEED_OLD));
		ASSERT_EQ(0, count_nonzero(buf + page, 5 * page));
		return;
	}

	/* With EXCHANGE, a segment without an old buffer is the bad one. */
	for (i = 1; i < 4; i++) {
		seg_set(&segs[i], region + i * page, buf + i * page, page);
		segs[i].old = (uintptr_t)(old + (i - 1) * 1024);
		segs[i].size = 1024;
	}
	segs[2].old = 0;
	c = vec_call(self->dev, true, self->target.pidfd, segs + 1, 3,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs + 1, 3);
	ASSERT_SEG(ZX_OK, 1024, segs[1]);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[2]);
	ASSERT_SEG(ZX_OK, 1024, segs[3]);
	ASSERT_EQ(0, bytes_mismatches(old, page, 1024, SEED_OLD));
	ASSERT_EQ(0, count_nonzero(old + 1024, 1024));
	ASSERT_EQ(0, bytes_mismatches(old + 2048, 3 * page, 1024, SEED_OLD));
	ASSERT_EQ(0, region_mismatches(&self->target, region, page, 1024,
				       SEED_NEW));
	ASSERT_EQ(0, region_mismatches(&self->target, region, 2 * page, page,
				       SEED_OLD));
	ASSERT_EQ(0, region_mismatches(&self->target, region, 3 * page, 1024,
				       SEED_NEW));
}

/*
 * ZXMEM_VEC_STOP: the call ends after the first segment that is not
 * ZX_OK (a short copy is ZX_OK), done says how far it got, and the later
 * segments are neither carried out nor written.
 */
TEST_F(call, stop_ends_the_call_at_the_first_failing_segment)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment segs[4];
	int64_t region, hole;
	uint8_t *buf;
	struct vcall c;
	unsigned int i;

	region = target_region(_metadata, &self->target, true, 4 * page,
			       SEED_OLD);
	hole = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, hole);
	ASSERT_EQ(0, target_unmap(&self->target, hole, page));
	buf = write ? pattern_buffer(_metadata, 4 * page, SEED_NEW) :
		      map_buffer(_metadata, 4 * page);

	/* good, no memory, good: stops after the second. */
	seg_set(&segs[0], region, buf, page);
	seg_set(&segs[1], hole, buf + page, page);
	seg_set(&segs[2], region + 2 * page, buf + 2 * page, page);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 3,
		     ZXMEM_VEC_STOP);
	assert_vec_done(_metadata, &c, segs, 2);
	ASSERT_SEG(ZX_OK, page, segs[0]);
	ASSERT_SEG(ZX_ERR_NO_MEMORY, 0, segs[1]);
	assert_segs_untouched(_metadata, segs, 2, 3);
	ASSERT_EQ(0, region_mismatches(&self->target, region, 2 * page, page,
				       SEED_OLD));
	if (!write)
		ASSERT_EQ(0, count_nonzero(buf + 2 * page, page));

	/* Without STOP the third is done too. */
	seg_reset_out(segs, 3);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 3, 0);
	assert_vec_done(_metadata, &c, segs, 3);
	ASSERT_SEG(ZX_ERR_NO_MEMORY, 0, segs[1]);
	ASSERT_SEG(ZX_OK, page, segs[2]);

	/* A field error of the first segment: done 1, nothing copied. */
	for (i = 0; i < 3; i++)
		seg_set(&segs[i], region + 3 * page, buf + 3 * page, page);
	segs[0].reserved = 1;
	c = vec_call(self->dev, write, self->target.pidfd, segs, 3,
		     ZXMEM_VEC_STOP);
	assert_vec_done(_metadata, &c, segs, 1);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[0]);
	assert_segs_untouched(_metadata, segs, 1, 3);
	ASSERT_EQ(0u, c.vec.actual);
	ASSERT_EQ(0, region_mismatches(&self->target, region, 3 * page, page,
				       SEED_OLD));

	/* A short copy is ZX_OK: it does not stop the call. */
	ASSERT_EQ(0, target_unmap(&self->target, region + 2 * page, page));
	seg_set(&segs[0], region + page, buf, 2 * page);
	seg_set(&segs[1], region + 3 * page, buf + 3 * page, page);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 2,
		     ZXMEM_VEC_STOP);
	assert_vec_done(_metadata, &c, segs, 2);
	ASSERT_SEG(ZX_OK, page, segs[0]);
	ASSERT_SEG(ZX_OK, page, segs[1]);
	ASSERT_EQ(2 * page, c.vec.actual);
}

/* Offsets and sizes of scattered exchanges in two pages: odd ones included. */
static const struct {
	unsigned int at, len;
} scatter[] = {
	{ 0, 1 }, { 9, 3 }, { 16, 8 }, { 37, 13 }, { 128, 64 }, { 301, 1 },
	{ 4096 - 5, 11 }, { 4096 + 700, 100 }, { 8192 - 8, 8 },
};

/*
 * EXCHANGE: each segment's old buffer gets exactly the bytes the write
 * replaced, and the same call with those bytes puts everything back.
 */
TEST_F(child, exchange_returns_the_replaced_bytes_and_restores_them)
{
	const unsigned int n = ARRAY_SIZE(scatter);
	size_t page = page_size(), len = 2 * page;
	uint8_t *newb, *old, *old2, *expected, *seen;
	struct zxmem_segment segs[ARRAY_SIZE(scatter)];
	int64_t region;
	unsigned int i;
	struct vcall c;

	ASSERT_EQ(4096u, page);
	region = target_region(_metadata, &self->target, true, len, SEED_OLD);
	newb = pattern_buffer(_metadata, len, SEED_NEW);
	old = map_buffer(_metadata, len);
	old2 = map_buffer(_metadata, len);
	expected = pattern_buffer(_metadata, len, SEED_OLD);
	seen = map_buffer(_metadata, len);

	for (i = 0; i < n; i++) {
		seg_set(&segs[i], region + scatter[i].at,
			newb + scatter[i].at, scatter[i].len);
		segs[i].old = (uintptr_t)(old + scatter[i].at);
		memcpy(expected + scatter[i].at, newb + scatter[i].at,
		       scatter[i].len);
	}
	c = vec_call(self->dev, true, self->target.pidfd, segs, n,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs, n);
	for (i = 0; i < n; i++)
		ASSERT_SEG(ZX_OK, scatter[i].len, segs[i]);
	/* The old bytes are the pattern that was there, byte for byte. */
	for (i = 0; i < n; i++) {
		unsigned int j;

		for (j = 0; j < scatter[i].len; j++)
			ASSERT_EQ(pattern_byte(SEED_OLD, scatter[i].at + j),
				  old[scatter[i].at + j]) {
				TH_LOG("segment %u, byte %u", i, j);
			}
	}
	ASSERT_EQ(0, target_copy_out(&self->target, region, len, seen));
	ASSERT_EQ(0, memcmp(expected, seen, len));

	/* The removal: the old bytes written back, the new ones returned. */
	for (i = 0; i < n; i++) {
		seg_set(&segs[i], region + scatter[i].at,
			old + scatter[i].at, scatter[i].len);
		segs[i].old = (uintptr_t)(old2 + scatter[i].at);
	}
	c = vec_call(self->dev, true, self->target.pidfd, segs, n,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs, n);
	for (i = 0; i < n; i++) {
		ASSERT_SEG(ZX_OK, scatter[i].len, segs[i]);
		ASSERT_EQ(0, memcmp(newb + scatter[i].at,
				    old2 + scatter[i].at, scatter[i].len)) {
			TH_LOG("segment %u did not return the new bytes", i);
		}
	}
	ASSERT_EQ(0, target_mismatches(&self->target, region, len, SEED_OLD));
}

/* An old buffer we cannot write refuses its segment and leaves its target. */
TEST_F(child, exchange_with_a_bad_old_buffer_refuses_that_segment_only)
{
	size_t page = page_size();
	struct zxmem_segment segs[4];
	uint8_t *newb, *old, *ro;
	int64_t region;
	unsigned int i;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, 4 * page,
			       SEED_OLD);
	newb = pattern_buffer(_metadata, 4 * page, SEED_NEW);
	old = map_buffer(_metadata, 4 * page);
	ro = map_buffer(_metadata, page);
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	for (i = 0; i < 4; i++) {
		seg_set(&segs[i], region + i * page, newb + i * page, page);
		segs[i].old = (uintptr_t)(old + i * page);
	}
	segs[1].old = (uintptr_t)unmapped_buffer(_metadata);
	segs[2].old = (uintptr_t)ro;

	c = vec_call(self->dev, true, self->target.pidfd, segs, 4,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs, 4);
	ASSERT_SEG(ZX_OK, page, segs[0]);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[1]);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[2]);
	ASSERT_SEG(ZX_OK, page, segs[3]);
	ASSERT_EQ(0, count_mismatches(old, page, SEED_OLD));
	ASSERT_EQ(0, count_nonzero(ro, page));
	ASSERT_EQ(0, target_mismatches(&self->target, region, page,
				       SEED_NEW));
	ASSERT_EQ(0, region_mismatches(&self->target, region, page, 2 * page,
				       SEED_OLD));
	ASSERT_EQ(0, region_mismatches(&self->target, region, 3 * page, page,
				       SEED_NEW));
}

/*
 * An exchange whose old bytes would land on its own new bytes -- the same
 * address, one byte on, one byte short of the end -- is refused, that
 * segment alone, before anything is touched: its target page and its
 * buffer keep their bytes.  Old bytes right next to the new ones, on
 * either side, are no overlap.
 */
TEST_F(child, exchange_with_old_overlapping_buffer_refuses_that_segment)
{
	const size_t len = 64;
	size_t page = page_size();
	struct zxmem_segment segs[6];
	uint8_t *newb, *old;
	int64_t region;
	unsigned int i;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, 6 * page,
			       SEED_OLD);
	newb = pattern_buffer(_metadata, 6 * page, SEED_NEW);
	old = map_buffer(_metadata, page);
	for (i = 0; i < 6; i++)
		seg_set(&segs[i], region + i * page, newb + i * page, len);
	segs[0].old = (uintptr_t)old;
	segs[1].old = segs[1].buffer;
	segs[2].old = segs[2].buffer + 1;
	segs[3].old = segs[3].buffer - (len - 1);
	segs[4].old = segs[4].buffer + len;
	segs[5].old = segs[5].buffer - len;

	c = vec_call(self->dev, true, self->target.pidfd, segs, 6,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs, 6);
	ASSERT_SEG(ZX_OK, len, segs[0]);
	for (i = 1; i <= 3; i++)
		ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[i]);
	ASSERT_SEG(ZX_OK, len, segs[4]);
	ASSERT_SEG(ZX_OK, len, segs[5]);

	/* The refused pages of the target, and our buffer around them. */
	ASSERT_EQ(0, region_mismatches(&self->target, region, page, 3 * page,
				       SEED_OLD));
	ASSERT_EQ(0, count_mismatches(newb, 4 * page, SEED_NEW));
	for (i = 0; i < 6; i++) {
		if (i >= 1 && i <= 3)
			continue;
		ASSERT_EQ(0, region_mismatches(&self->target, region,
					       i * page, len, SEED_NEW));
	}
	/* The accepted ones' old bytes, beside the new ones. */
	ASSERT_EQ(0, bytes_mismatches(old, 0, len, SEED_OLD));
	ASSERT_EQ(0, bytes_mismatches(newb + 4 * page + len, 4 * page, len,
				      SEED_OLD));
	ASSERT_EQ(0, bytes_mismatches(newb + 5 * page - len, 5 * page, len,
				      SEED_OLD));
}

/*
 * A thread of the target increments a word with an atomic add, as fast as
 * it can; we exchange the word for tagged values (k << 40), four segments
 * a call.  Each old value must carry the tag of the value written just
 * before it (it is one the writer stored over that one), and the
 * increments seen -- between each value written and the next old value,
 * and after the last -- must add up to those the writer made: an exchange
 * whose read and write were two steps would lose the ones in between.
 */
static _Alignas(64) uint64_t race_word;
static uint32_t race_stop;
static uint64_t race_count;
static uint32_t race_stopped;

static void *race_increment(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	while (!__atomic_load_n(&race_stop, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&race_word, 1, __ATOMIC_SEQ_CST);
		n++;
	}
	__atomic_store_n(&race_count, n, __ATOMIC_RELEASE);
	__atomic_store_n(&race_stopped, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int start_incrementer(void *arg)
{
	pthread_t thread;

	(void)arg;
	return pthread_create(&thread, NULL, race_increment, NULL);
}

#define RACE_TAG_SHIFT	40
#define RACE_SEGS	4
#define RACE_SECONDS	2.0
#define RACE_CALLS	20000

TEST_F_TIMEOUT(child, exchange_is_atomic_against_an_incrementing_thread, 60)
{
	struct zxmem_segment segs[RACE_SEGS];
	uint64_t news[RACE_SEGS], olds[RACE_SEGS];
	uint64_t seen = 0, count = 0, last = 0, word, k = 0, moved = 0;
	struct target *racer = &self->target;
	double deadline;
	unsigned int j;
	uint32_t stopped = 0;
	size_t done;

	/*
	 * The fixture's target, started again with the writer: the
	 * teardown ends it even after a failure (a second target would
	 * hold the first one's socket open, and the teardown would wait).
	 */
	target_kill(racer);
	ASSERT_EQ(0, target_spawn_prepared(racer, start_incrementer, NULL));
	ASSERT_EQ(0, target_trace(racer));
	deadline = now_s() + RACE_SECONDS;
	while (k < RACE_CALLS && now_s() < deadline) {
		for (j = 0; j < RACE_SEGS; j++) {
			news[j] = (k * RACE_SEGS + j + 1) << RACE_TAG_SHIFT;
			seg_set(&segs[j], (uintptr_t)&race_word, &news[j], 8);
			segs[j].old = (uintptr_t)&olds[j];
		}
		ASSERT_STATUS(ZX_OK, zxmem_process_write_memory_vec(
				racer->pidfd, segs, RACE_SEGS,
				ZXMEM_VEC_EXCHANGE, &done));
		ASSERT_EQ((size_t)RACE_SEGS, done);
		for (j = 0; j < RACE_SEGS; j++) {
			ASSERT_SEG(ZX_OK, 8, segs[j]);
			/* Stored over the value written just before. */
			ASSERT_EQ(last >> RACE_TAG_SHIFT,
				  olds[j] >> RACE_TAG_SHIFT) {
				TH_LOG("call %llu segment %u: old %#llx after writing %#llx",
				       (unsigned long long)k, j,
				       (unsigned long long)olds[j],
				       (unsigned long long)last);
			}
			ASSERT_LE(last, olds[j]);
			seen += olds[j] - last;
			moved += olds[j] != last;
			last = news[j];
		}
		k++;
	}

	/* Stop the writer; its count, and where it left the word. */
	ASSERT_EQ(0, target_memset(racer, (uintptr_t)&race_stop,
				   sizeof(race_stop), 1));
	deadline = now_s() + 10;
	while (!stopped && now_s() < deadline)
		ASSERT_EQ(0, target_copy_out(racer, (uintptr_t)&race_stopped,
					     sizeof(stopped), &stopped));
	ASSERT_EQ(1u, stopped);
	ASSERT_EQ(0, target_copy_out(racer, (uintptr_t)&race_count,
				     sizeof(count), &count));
	ASSERT_EQ(0, target_copy_out(racer, (uintptr_t)&race_word,
				     sizeof(word), &word));
	ASSERT_EQ(last >> RACE_TAG_SHIFT, word >> RACE_TAG_SHIFT);
	seen += word - last;
	TH_LOG("%llu calls, %llu exchanges saw the writer move, %llu increments",
	       (unsigned long long)k, (unsigned long long)moved,
	       (unsigned long long)count);
	ASSERT_EQ(count, seen) {
		TH_LOG("%lld increments lost", (long long)(count - seen));
	}
	/* The race ran: the writer moved the word between exchanges. */
	ASSERT_LT(0u, moved);
	ASSERT_LT(100u, k);
}

/*
 * Segments across a page boundary and across two mappings (read-write
 * then read-only, and back), and in a second mapping far away: each
 * copied whole, and with EXCHANGE the old bytes are those of both sides.
 */
TEST_F(child, segments_across_pages_and_mappings)
{
	size_t page = page_size(), len = 3 * page;
	uint8_t *newb, *old, *expected, *seen;
	struct zxmem_segment segs[4];
	int64_t region, far;
	unsigned int i;
	struct vcall c;
	static const struct {
		size_t at, len;
	} cross[] = { { 4096 - 6, 12 }, { 8192 - 3, 9 } };

	ASSERT_EQ(4096u, page);
	region = target_region(_metadata, &self->target, true, len, SEED_OLD);
	ASSERT_EQ(0, target_protect(&self->target, region + page, page,
				    PROT_READ));
	far = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, far);
	newb = pattern_buffer(_metadata, len, SEED_NEW);
	old = map_buffer(_metadata, len + page);
	expected = pattern_buffer(_metadata, len, SEED_OLD);
	seen = map_buffer(_metadata, len);

	/* Across rw -> ro, across ro -> rw, and in the far mapping. */
	for (i = 0; i < 2; i++) {
		seg_set(&segs[i], region + cross[i].at, newb + cross[i].at,
			cross[i].len);
		segs[i].old = (uintptr_t)(old + cross[i].at);
		memcpy(expected + cross[i].at, newb + cross[i].at,
		       cross[i].len);
	}
	seg_set(&segs[2], far + 10, newb, 20);
	segs[2].old = (uintptr_t)(old + len);
	c = vec_call(self->dev, true, self->target.pidfd, segs, 3,
		     ZXMEM_VEC_EXCHANGE);
	assert_vec_done(_metadata, &c, segs, 3);
	for (i = 0; i < 2; i++)
		ASSERT_SEG(ZX_OK, cross[i].len, segs[i]);
	ASSERT_SEG(ZX_OK, 20, segs[2]);
	for (i = 0; i < 2; i++) {
		size_t j;

		for (j = 0; j < cross[i].len; j++)
			ASSERT_EQ(pattern_byte(SEED_OLD, cross[i].at + j),
				  old[cross[i].at + j]);
	}
	for (i = 0; i < 20; i++)
		ASSERT_EQ(pattern_byte(SEED_OLD, 10 + i), old[len + i]);
	ASSERT_EQ(0, target_copy_out(&self->target, region, len, seen));
	ASSERT_EQ(0, memcmp(expected, seen, len));

	/* Read back: one segment over all three pages, one across the far one. */
	memset(seen, 0, len);
	seg_set(&segs[0], region, seen, len);
	seg_set(&segs[1], far + 10, old, 20);
	c = vec_call(self->dev, false, self->target.pidfd, segs, 2, 0);
	assert_vec_done(_metadata, &c, segs, 2);
	ASSERT_SEG(ZX_OK, len, segs[0]);
	ASSERT_SEG(ZX_OK, 20, segs[1]);
	ASSERT_EQ(0, memcmp(expected, seen, len));
	ASSERT_EQ(0, memcmp(newb, old, 20));

	/* A plain write over the three pages: runs across both boundaries. */
	seg_set(&segs[0], region, newb, len);
	c = vec_call(self->dev, true, self->target.pidfd, segs, 1, 0);
	assert_vec_done(_metadata, &c, segs, 1);
	ASSERT_SEG(ZX_OK, len, segs[0]);
	ASSERT_EQ(0, target_mismatches(&self->target, region, len, SEED_NEW));
	ASSERT_EQ(0, target_mismatches(&self->target, far, 10, SEED_OLD));
}

/*
 * Many segments in two pages, in a private r-x file mapping (forced) and
 * in anonymous memory: breakpoints close together, overlapping ones,
 * one inside another, some across the page boundary, more than one
 * kernel batch of them.  The call takes them in order, as single calls
 * would: each segment's old bytes are what the ones before it left, and
 * the target ends as they leave it.  (Segments whose pages an earlier one
 * of the same lock hold pinned copy through those pins.)
 */
#define CLOSE_SEGS	72

TEST_F(child, close_segments_take_effect_in_order)
{
	size_t page = page_size(), len = 2 * page;
	struct zxmem_segment segs[CLOSE_SEGS];
	uint8_t *newb, *old, *model, *seen;
	uint64_t rng = 0x5eed;
	unsigned int kind, i;
	struct vcall c;

	ASSERT_EQ(4096u, page);
	ASSERT_EQ(0, target_trace(&self->target));
	newb = map_buffer(_metadata, CLOSE_SEGS * 16);
	old = map_buffer(_metadata, CLOSE_SEGS * 16);
	model = map_buffer(_metadata, len);
	seen = map_buffer(_metadata, len);

	for (kind = 0; kind < 2; kind++) {
		char path[64];
		int64_t region;
		int fd = -1;

		if (kind) {
			region = target_map_anon(&self->target, len, SEED_OLD);
		} else {
			fd = make_pattern_file(path, sizeof(path), len,
					       SEED_OLD);
			ASSERT_LE(0, fd);
			region = target_map_file(&self->target, path, O_RDONLY,
						 PROT_READ | PROT_EXEC,
						 MAP_PRIVATE, len);
			unlink(path);
			close(fd);
		}
		ASSERT_LT(0, region);
		for (i = 0; i < len; i++)
			model[i] = pattern_byte(SEED_OLD, i);

		for (i = 0; i < CLOSE_SEGS; i++) {
			size_t size = 1 + rng_below(&rng, 16);
			size_t at;

			/* Every eighth at the boundary, the rest anywhere. */
			if (i % 8 == 7)
				at = page - 1 - rng_below(&rng, size);
			else
				at = rng_below(&rng, len - size + 1);
			fill_random(newb + i * 16, size, rng_next(&rng));
			seg_init(&segs[i], region + at, (uintptr_t)(newb + i * 16),
				 (uintptr_t)(old + i * 16), size);
		}
		memset(old, 0, CLOSE_SEGS * 16);
		c = vec_call(self->dev, true, self->target.pidfd, segs,
			     CLOSE_SEGS, ZXMEM_VEC_EXCHANGE);
		assert_vec_done(_metadata, &c, segs, CLOSE_SEGS);
		for (i = 0; i < CLOSE_SEGS; i++) {
			size_t at = segs[i].vaddr - region;

			ASSERT_SEG(ZX_OK, segs[i].size, segs[i]);
			ASSERT_EQ(0, memcmp(model + at, old + i * 16,
					    segs[i].size)) {
				TH_LOG("%s: segment %u at %zu: old bytes not what the segments before left",
				       kind ? "anon" : "text", i, at);
			}
			memcpy(model + at, newb + i * 16, segs[i].size);
		}
		ASSERT_EQ(0, target_copy_out(&self->target, region, len, seen));
		ASSERT_EQ(0, memcmp(model, seen, len)) {
			TH_LOG("%s: the target is not what the segments left",
			       kind ? "anon" : "text");
		}

		/* Read back through the same segments, one batched read. */
		memset(old, 0, CLOSE_SEGS * 16);
		for (i = 0; i < CLOSE_SEGS; i++)
			segs[i].buffer = (uintptr_t)(old + i * 16);
		for (i = 0; i < CLOSE_SEGS; i++)
			segs[i].old = 0;
		c = vec_call(self->dev, false, self->target.pidfd, segs,
			     CLOSE_SEGS, 0);
		assert_vec_done(_metadata, &c, segs, CLOSE_SEGS);
		for (i = 0; i < CLOSE_SEGS; i++) {
			size_t at = segs[i].vaddr - region;

			ASSERT_SEG(ZX_OK, segs[i].size, segs[i]);
			ASSERT_EQ(0, memcmp(model + at, old + i * 16,
					    segs[i].size));
		}
	}
}

/*
 * Breakpoints in pages that follow each other are pinned together; a
 * page that cannot be pinned (past the end of the file its mapping maps)
 * must cost only its own segment, answered as a single call answers it,
 * while the pages before and after it, and segments sharing them, are
 * written.  The file has two pages; its r-x private mapping has four.
 */
TEST_F(child, a_page_that_cannot_be_pinned_costs_only_its_segment)
{
	static const struct {
		unsigned int page, at;
	} order[] = {
		{ 0, 10 }, { 1, 20 }, { 2, 30 }, { 1, 40 }, { 3, 50 },
		{ 0, 60 }, { 1, 70 }, { 0, 80 },
	};
	const unsigned int n = ARRAY_SIZE(order);
	size_t page = page_size(), len = 4 * page;
	struct zxmem_segment segs[ARRAY_SIZE(order)];
	uint8_t newb[ARRAY_SIZE(order)], old[ARRAY_SIZE(order)];
	uint8_t seen[2 * 4096];
	zx_status_t past_end;
	struct transfer one;
	unsigned int i;
	char path[64];
	int64_t region;
	struct vcall c;
	int fd, x;

	ASSERT_EQ(4096u, page);
	ASSERT_EQ(0, target_trace(&self->target));
	fd = make_pattern_file(path, sizeof(path), 2 * page, SEED_OLD);
	ASSERT_LE(0, fd);
	region = target_map_file(&self->target, path, O_RDONLY,
				 PROT_READ | PROT_EXEC, MAP_PRIVATE, len);
	unlink(path);
	close(fd);
	ASSERT_LT(0, region);
	/* What a single call answers past the end: the segment's answer. */
	one = raw_call(self->dev, true, self->target.pidfd, region + 2 * page,
		       newb, 1);
	ASSERT_EQ(0, one.ret);
	past_end = one.status;
	ASSERT_NE(ZX_OK, past_end);

	for (x = 0; x < 2; x++) {
		memset(old, 0, sizeof(old));
		for (i = 0; i < n; i++) {
			newb[i] = 0xc0 + i;
			seg_init(&segs[i],
				 region + order[i].page * page + order[i].at,
				 (uintptr_t)&newb[i],
				 x ? (uintptr_t)&old[i] : 0, 1);
		}
		c = vec_call(self->dev, true, self->target.pidfd, segs, n,
			     x ? ZXMEM_VEC_EXCHANGE : 0);
		assert_vec_done(_metadata, &c, segs, n);
		for (i = 0; i < n; i++) {
			if (order[i].page >= 2) {
				ASSERT_SEG(past_end, 0, segs[i]);
				continue;
			}
			ASSERT_EQ(ZX_OK, segs[i].status) {
				TH_LOG("segment %u, page %u: %s", i,
				       order[i].page,
				       zx_status_get_string(segs[i].status));
			}
			ASSERT_EQ(1u, segs[i].actual);
			/* The second time, each old byte is the first time's. */
			if (x)
				ASSERT_EQ(newb[i], old[i]);
		}
		ASSERT_EQ(0, target_copy_out(&self->target, region, 2 * page,
					     seen));
		for (i = 0; i < 2 * page; i++) {
			uint8_t want = pattern_byte(SEED_OLD, i);
			unsigned int k;

			for (k = 0; k < n; k++)
				if (order[k].page * page + order[k].at == i)
					want = newb[k];
			ASSERT_EQ(want, seen[i]) {
				TH_LOG("byte %u of the file's pages", i);
			}
		}
	}
}

/* 0 and 1,025 segments are refused whole; 1,024 are carried out. */
TEST_F(call, count_is_one_to_1024_segments)
{
	const unsigned int max = ZXMEM_MAX_SEGMENTS;
	bool write = variant->write;
	size_t page = page_size(), len = 4 * page;
	struct zxmem_segment *segs;
	uint8_t *buf;
	int64_t region;
	unsigned int i;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, len, SEED_OLD);
	buf = write ? pattern_buffer(_metadata, len, SEED_NEW) :
		      map_buffer(_metadata, len);
	segs = map_buffer(_metadata, (max + 1) * sizeof(*segs));
	/* Every sixteenth byte of the four pages, one segment each. */
	ASSERT_EQ(len, 16 * max);
	for (i = 0; i <= max; i++)
		seg_set(&segs[i], region + 16 * (i % max),
			buf + 16 * (i % max), 1);

	c = vec_call(self->dev, write, self->target.pidfd, segs, max + 1, 0);
	assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs, max + 1);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 0, 0);
	assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs, max + 1);
	ASSERT_EQ(0, target_mismatches(&self->target, region, len, SEED_OLD));
	if (!write)
		ASSERT_EQ(0, count_nonzero(buf, len));

	c = vec_call(self->dev, write, self->target.pidfd, segs, max, 0);
	assert_vec_done(_metadata, &c, segs, max);
	for (i = 0; i < max; i++)
		ASSERT_SEG(ZX_OK, 1, segs[i]);
	assert_segs_untouched(_metadata, segs, max, max + 1);
	ASSERT_EQ((__u64)max, c.vec.actual);
	for (i = 0; !write && i < len; i++)
		ASSERT_EQ(i % 16 ? 0 : pattern_byte(SEED_OLD, i), buf[i]);
	if (write) {
		uint8_t *expected = pattern_buffer(_metadata, len, SEED_OLD);
		uint8_t *seen = map_buffer(_metadata, len);

		for (i = 0; i < len; i += 16)
			expected[i] = pattern_byte(SEED_NEW, i);
		ASSERT_EQ(0, target_copy_out(&self->target, region, len,
					     seen));
		ASSERT_EQ(0, memcmp(expected, seen, len));
	}
}

/*
 * The total: the sizes of the segments whose own fields are valid may
 * add up to 64 MiB, not one byte more (refused whole, nothing copied);
 * an invalid segment's size does not count.
 */
TEST_F_TIMEOUT(call, total_is_at_most_64_mib_of_valid_segments, 180)
{
	const unsigned int n = MAX_TOTAL / MIB;
	bool write = variant->write;
	struct zxmem_segment segs[MAX_TOTAL / MIB + 2];
	uint8_t *buf, one = 0;
	int64_t region;
	unsigned int i;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, MIB, SEED_OLD);
	buf = write ? pattern_buffer(_metadata, MIB, SEED_NEW) :
		      map_buffer(_metadata, MIB);
	for (i = 0; i < n; i++)
		seg_set(&segs[i], region, buf, MIB);
	seg_set(&segs[n], region, &one, 1);

	/* 64 MiB + 1. */
	c = vec_call(self->dev, write, self->target.pidfd, segs, n + 1, 0);
	assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs, n + 1);
	ASSERT_EQ(0, target_mismatches(&self->target, region, MIB, SEED_OLD));
	if (!write)
		ASSERT_EQ(0, count_nonzero(buf, MIB));

	/* A bad segment of 1 MiB among them: 64 MiB of valid ones. */
	seg_set(&segs[n + 1], region, buf, MIB);
	segs[n + 1].reserved = 1;
	segs[n].size = 0;
	c = vec_call(self->dev, write, self->target.pidfd, segs, n + 2, 0);
	assert_vec_done(_metadata, &c, segs, n + 2);
	for (i = 0; i < n; i++)
		ASSERT_SEG(ZX_OK, MIB, segs[i]);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[n]);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[n + 1]);
	ASSERT_EQ((__u64)MAX_TOTAL, c.vec.actual);
	if (write) {
		ASSERT_EQ(0, target_mismatches(&self->target, region, MIB,
					       SEED_NEW));
	} else {
		ASSERT_EQ(0, count_mismatches(buf, MIB, SEED_OLD));
	}

	/* One segment above 64 MiB is that segment's error, not the call's. */
	seg_set(&segs[0], region, buf, MAX_TOTAL + 1);
	seg_set(&segs[1], region, buf, 16);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 2, 0);
	assert_vec_done(_metadata, &c, segs, 2);
	ASSERT_SEG(ZX_ERR_INVALID_ARGS, 0, segs[0]);
	ASSERT_SEG(ZX_OK, 16, segs[1]);
}

/*
 * The write-back rule: the call sits in a page of 0xa5 bytes, its
 * segments in another; after it, only the segments' status (and actual
 * where ZX_OK) and the call's status, done (and actual on ZX_OK) differ.
 */
static void assert_vec_writes_back_only_out_fields(
	struct __test_metadata *_metadata, int dev, bool write, int handle,
	const struct zxmem_segment *model, unsigned int count, uint32_t flags,
	zx_status_t want, unsigned int want_done)
{
	size_t page = page_size(), at = 200, i;
	uint8_t *before, *after, *sbefore, *safter;
	struct zxmem_segment *segs;
	struct zxmem_vec *vec;
	unsigned int done;

	before = map_buffer(_metadata, page);
	after = map_buffer(_metadata, page);
	sbefore = map_buffer(_metadata, 2 * page);
	safter = map_buffer(_metadata, 2 * page);
	memset(after, 0xa5, page);
	memset(safter, 0xa5, 2 * page);
	segs = (struct zxmem_segment *)(safter + at);
	ASSERT_GE(2 * page, at + count * sizeof(*segs));
	for (i = 0; i < count; i++) {
		segs[i].vaddr = model[i].vaddr;
		segs[i].buffer = model[i].buffer;
		segs[i].old = model[i].old;
		segs[i].size = model[i].size;
		segs[i].reserved = model[i].reserved;
	}
	vec = (struct zxmem_vec *)(after + at);
	vec->segments = (uintptr_t)segs;
	vec->count = count;
	vec->handle = handle;
	vec->flags = flags;
	vec->reserved = 0;
	memcpy(before, after, page);
	memcpy(sbefore, safter, 2 * page);

	ASSERT_EQ(0, ioctl(dev, write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
			   ZXMEM_IOC_READ_MEMORY_VEC, vec)) {
		TH_LOG("ioctl() failed: %s", strerror(errno));
	}
	ASSERT_STATUS(want, vec->status);
	done = vec->done;
	ASSERT_EQ(want_done, done);

	/* Put back the bytes the kernel may write; nothing else may differ. */
#define PUT_BACK(base, from, obj, field)				\
	memcpy((uint8_t *)&(obj)->field, (from) + ((uint8_t *)&(obj)->field - \
	       (base)), sizeof((obj)->field))
	for (i = 0; i < done; i++) {
		ASSERT_NE(0xa5a5a5a5u, (uint32_t)segs[i].status) {
			TH_LOG("segment %zu has no status", i);
		}
		if (segs[i].status == ZX_OK)
			PUT_BACK(safter, sbefore, &segs[i], actual);
		PUT_BACK(safter, sbefore, &segs[i], status);
	}
	ASSERT_EQ(0, memcmp(sbefore, safter, 2 * page)) {
		TH_LOG("bytes of the array written besides status and actual");
	}
	if (want == ZX_OK)
		PUT_BACK(after, before, vec, actual);
	PUT_BACK(after, before, vec, status);
	PUT_BACK(after, before, vec, done);
#undef PUT_BACK
	ASSERT_EQ(0, memcmp(before, after, page)) {
		TH_LOG("bytes of the call written besides status, done, actual");
	}
}

TEST_F(call, writes_back_only_status_actual_and_done)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment model[5];
	int64_t region, hole;
	uint8_t *buf;

	region = target_region(_metadata, &self->target, true, 4 * page,
			       SEED_OLD);
	hole = region + 3 * page;
	ASSERT_EQ(0, target_unmap(&self->target, hole, page));
	buf = write ? pattern_buffer(_metadata, 4 * page, SEED_NEW) :
		      map_buffer(_metadata, 4 * page);

	/* ZX_OK, no memory, a field error, a short copy, ZX_OK. */
	seg_set(&model[0], region, buf, page);
	seg_set(&model[1], hole, buf, page);
	seg_set(&model[2], region, buf, page);
	model[2].reserved = 1;
	seg_set(&model[3], region + 2 * page, buf, 2 * page);
	seg_set(&model[4], region + page, buf + page, page);
	assert_vec_writes_back_only_out_fields(_metadata, self->dev, write,
					       self->target.pidfd, model, 5,
					       0, ZX_OK, 5);
	/* STOP: the segments after the hole keep every byte. */
	assert_vec_writes_back_only_out_fields(_metadata, self->dev, write,
					       self->target.pidfd, model, 5,
					       ZXMEM_VEC_STOP, ZX_OK, 2);
	/* Refused whole: the bad handle, and a header error. */
	assert_vec_writes_back_only_out_fields(_metadata, self->dev, write,
					       closed_fd(), model, 5, 0,
					       ZX_ERR_BAD_HANDLE, 0);
	assert_vec_writes_back_only_out_fields(_metadata, self->dev, write,
					       self->target.pidfd, model, 5,
					       1u << 7, ZX_ERR_INVALID_ARGS, 0);
}

/*
 * The header: unknown flags, reserved, EXCHANGE on a read, a count of 0
 * or above 1024, no array.  Each refuses the call, with done 0 and no
 * segment touched; with writes off, a write is refused by the gate first.
 */
TEST_F(call, header_errors_refuse_the_whole_call)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment segs[2];
	struct zxmem_vec vec;
	uint8_t *buf, *old;
	int64_t region;
	struct vcall c;
	unsigned int i;
	struct {
		const char *name;
		uint32_t flags, reserved, count;
		bool no_array;
	} bad[] = {
		{ "flag 1 << 2", 1u << 2, 0, 2, false },
		{ "flag 1 << 31", 1u << 31, 0, 2, false },
		{ "reserved", 0, 1, 2, false },
		{ "count 0", 0, 0, 0, false },
		{ "count 1025", 0, 0, ZXMEM_MAX_SEGMENTS + 1, false },
		{ "segments 0", 0, 0, 2, true },
		{ "exchange on a read", ZXMEM_VEC_EXCHANGE, 0, 2, false },
	};

	region = target_region(_metadata, &self->target, true, 2 * page,
			       SEED_OLD);
	buf = write ? pattern_buffer(_metadata, 2 * page, SEED_NEW) :
		      map_buffer(_metadata, 2 * page);
	old = map_buffer(_metadata, 2 * page);
	seg_set(&segs[0], region, buf, page);
	seg_set(&segs[1], region + page, buf + page, page);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (write && bad[i].flags == ZXMEM_VEC_EXCHANGE)
			continue;
		vec = vec_request(self->target.pidfd,
				  bad[i].no_array ? NULL : segs, bad[i].count,
				  bad[i].flags);
		vec.reserved = bad[i].reserved;
		if (bad[i].flags == ZXMEM_VEC_EXCHANGE) {
			segs[0].old = (uintptr_t)old;
			segs[1].old = (uintptr_t)(old + page);
		}
		c = vec_issue(self->dev, write, vec);
		segs[0].old = segs[1].old = 0;
		assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs,
				   2);
		ASSERT_EQ(0, target_mismatches(&self->target, region, 2 * page,
					       SEED_OLD)) {
			TH_LOG("%s", bad[i].name);
		}
	}
	if (!write)
		ASSERT_EQ(0, count_nonzero(old, 2 * page));

	/* The gate comes before everything for writes, and not for reads. */
	set_debugging_syscalls(_metadata, 0);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 2, 1u << 5);
	assert_vec_refused(_metadata, write ? ZX_ERR_NOT_SUPPORTED :
			   ZX_ERR_INVALID_ARGS, &c, segs, 2);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 0, 0);
	assert_vec_refused(_metadata, write ? ZX_ERR_NOT_SUPPORTED :
			   ZX_ERR_INVALID_ARGS, &c, segs, 2);
	c = vec_call(self->dev, write, self->target.pidfd, segs, 2, 0);
	if (write) {
		assert_vec_refused(_metadata, ZX_ERR_NOT_SUPPORTED, &c, segs,
				   2);
		ASSERT_EQ(0, target_mismatches(&self->target, region,
					       2 * page, SEED_OLD));
	} else {
		assert_vec_done(_metadata, &c, segs, 2);
		ASSERT_EQ(0, count_mismatches(buf, 2 * page, SEED_OLD));
	}
}

/*
 * The order of the call's steps: the header and the total come before the
 * handle, the array is read before the handle is judged, and the handle,
 * the right and the state before any segment.
 */
TEST_F(call, header_then_array_then_handle_right_state)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment segs[MAX_TOTAL / MIB + 1];
	struct zxmem_segment *cut;
	uint8_t *buf, *two;
	int64_t region;
	unsigned int i;
	struct vcall c;
	int bad = closed_fd();

	region = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, region);
	buf = write ? pattern_buffer(_metadata, page, SEED_NEW) :
		      map_buffer(_metadata, page);
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		seg_set(&segs[i], region, buf, MIB);

	/* Untraced: the right is judged once, before any segment. */
	segs[0].size = page;
	segs[1].reserved = 1;
	c = vec_call(self->dev, write, self->target.pidfd, segs, 2, 0);
	assert_vec_refused(_metadata, ZX_ERR_ACCESS_DENIED, &c, segs, 2);
	segs[1].reserved = 0;
	segs[0].size = MIB;

	/* A bad handle: the header, then the total, decide first. */
	c = vec_call(self->dev, write, bad, segs, 2, 1u << 3);
	assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs, 2);
	c = vec_call(self->dev, write, bad, segs, ARRAY_SIZE(segs), 0);
	assert_vec_refused(_metadata, ZX_ERR_INVALID_ARGS, &c, segs,
			   ARRAY_SIZE(segs));
	c = vec_call(self->dev, write, bad, segs, 2, 0);
	assert_vec_refused(_metadata, ZX_ERR_BAD_HANDLE, &c, segs, 2);

	/* The array is read before the handle is judged. */
	two = map_buffer(_metadata, 2 * page);
	cut = (struct zxmem_segment *)(two + page) - 1;
	seg_set(cut, region, buf, 16);
	ASSERT_EQ(0, munmap(two + page, page));
	c = vec_call(self->dev, write, bad, cut, 2, 0);
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EFAULT, c.err);
	ASSERT_EQ(0, target_mismatches(&self->target, region, page, SEED_OLD));
}

/*
 * An array or call struct the kernel cannot read or write: ioctl() fails
 * with EFAULT.  The array is read whole before any segment is carried
 * out, so an array that ends in an unmapped page writes nothing.
 */
TEST_F(call, unreadable_array_or_struct_is_efault)
{
	bool write = variant->write;
	size_t page = page_size();
	struct zxmem_segment *segs;
	uint8_t *two, *buf;
	int64_t region;
	unsigned int i, n;
	struct vcall c;

	region = target_region(_metadata, &self->target, true, page, SEED_OLD);
	buf = write ? pattern_buffer(_metadata, page, SEED_NEW) :
		      map_buffer(_metadata, page);

	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
			    ZXMEM_IOC_READ_MEMORY_VEC, NULL));
	ASSERT_EQ(EFAULT, errno);
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, write ? ZXMEM_IOC_WRITE_MEMORY_VEC :
			    ZXMEM_IOC_READ_MEMORY_VEC,
			    unmapped_buffer(_metadata)));
	ASSERT_EQ(EFAULT, errno);

	c = vec_call(self->dev, write, self->target.pidfd,
		     unmapped_buffer(_metadata), 1, 0);
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EFAULT, c.err);

	/* Good segments, then the rest of the array in a hole. */
	two = map_buffer(_metadata, 2 * page);
	n = page / sizeof(*segs);
	segs = (struct zxmem_segment *)(two + page) - n;
	for (i = 0; i < n; i++)
		seg_set(&segs[i], region, buf, page);
	ASSERT_EQ(0, munmap(two + page, page));
	c = vec_call(self->dev, write, self->target.pidfd, segs, n + 1, 0);
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EFAULT, c.err);
	assert_segs_untouched(_metadata, segs, 0, n);
	ASSERT_EQ(0, target_mismatches(&self->target, region, page, SEED_OLD));
	if (!write)
		ASSERT_EQ(0, count_nonzero(buf, page));
	c = vec_call(self->dev, write, self->target.pidfd, segs, n, 0);
	assert_vec_done(_metadata, &c, segs, n);

	/* Readable, not writable: a read, so that nothing changes either way. */
	if (!write) {
		seg_reset_out(segs, n);
		ASSERT_EQ(0, mprotect(two, page, PROT_READ));
		c = vec_call(self->dev, false, self->target.pidfd, segs, 1, 0);
		ASSERT_EQ(-1, c.ret);
		ASSERT_EQ(EFAULT, c.err);
	}
}

/*
 * <zxmem/vec.h>: the status of the call, done only on ZX_OK (else 0),
 * EFAULT turned into ZX_ERR_INVALID_ARGS and ENOTTY (a device without the
 * calls) into ZX_ERR_NOT_SUPPORTED, a count beyond 32 bits refused rather
 * than cut, and errno as it was.
 */
TEST_F(child, c_api_answers_as_documented)
{
	size_t page = page_size(), done;
	struct zxmem_segment segs[2];
	uint8_t *buf;
	int64_t region;

	region = target_region(_metadata, &self->target, true, 2 * page,
			       SEED_OLD);
	buf = pattern_buffer(_metadata, 2 * page, SEED_NEW);
	seg_set(&segs[0], region, buf, page);
	seg_set(&segs[1], region + page, buf + page, page);

	errno = 1234;
	done = 77;
	ASSERT_STATUS(ZX_OK, zxmem_process_write_memory_vec(
			self->target.pidfd, segs, 2, 0, &done));
	ASSERT_EQ(1234, errno);
	ASSERT_EQ(2u, done);
	ASSERT_SEG(ZX_OK, page, segs[0]);
	ASSERT_SEG(ZX_OK, page, segs[1]);
	ASSERT_EQ(0, target_mismatches(&self->target, region, 2 * page,
				       SEED_NEW));

	seg_reset_out(segs, 2);
	segs[0].buffer = (uintptr_t)map_buffer(_metadata, 2 * page);
	segs[1].buffer = segs[0].buffer + page;
	ASSERT_STATUS(ZX_OK, zxmem_process_read_memory_vec(
			self->target.pidfd, segs, 2, ZXMEM_VEC_STOP, NULL));
	ASSERT_EQ(0, count_mismatches((void *)(uintptr_t)segs[0].buffer,
				      2 * page, SEED_NEW));

	done = 77;
	ASSERT_STATUS(ZX_ERR_BAD_HANDLE, zxmem_process_write_memory_vec(
			closed_fd(), segs, 2, 0, &done));
	ASSERT_EQ(0u, done);
	done = 77;
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, zxmem_process_read_memory_vec(
			self->target.pidfd, segs, 2, ZXMEM_VEC_EXCHANGE,
			&done));
	ASSERT_EQ(0u, done);
	done = 77;
	errno = 4321;
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, zxmem_process_write_memory_vec(
			self->target.pidfd, unmapped_buffer(_metadata), 1, 0,
			&done));
	ASSERT_EQ(4321, errno);
	ASSERT_EQ(0u, done);
#if SIZE_MAX > 0xffffffffu
	/* 2^32 + 1 is not 1. */
	seg_reset_out(segs, 2);
	segs[0].buffer = (uintptr_t)pattern_buffer(_metadata, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS, zxmem_process_write_memory_vec(
			self->target.pidfd, segs, ((size_t)1 << 32) + 1, 0,
			&done));
	assert_segs_untouched(_metadata, segs, 0, 2);
	ASSERT_EQ(0, target_mismatches(&self->target, region, page, SEED_NEW));
#endif

	/* A descriptor that is no zxmem device: ENOTTY, not supported. */
	seg_reset_out(segs, 2);
	zxmem_device_fd_plus_one = open("/dev/null", O_RDWR | O_CLOEXEC) + 1;
	ASSERT_LT(0, zxmem_device_fd_plus_one);
	errno = 99;
	done = 77;
	ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED, zxmem_process_write_memory_vec(
			self->target.pidfd, segs, 2, 0, &done));
	ASSERT_EQ(99, errno);
	ASSERT_EQ(0u, done);
	assert_segs_untouched(_metadata, segs, 0, 2);
	close(zxmem_device_fd_plus_one - 1);
	zxmem_device_fd_plus_one = 0;
}

/*
 * 1,024 breakpoints.  zxmem_bp_slots: 1,024 functions of one ret each,
 * 64 bytes apart over 16 pages of our text, which a forked target shares
 * until a forced write copies a page.  A thread of the target started
 * before it serves runs every slot on request, catching SIGTRAP, and
 * answers how many trapped.
 */
#define BP_SLOTS	1024
#define BP_STRIDE	64

asm(".pushsection .text\n"
	".balign 4096\n"
	".globl zxmem_bp_slots\n"
	"zxmem_bp_slots:\n"
	".rept 1024\n"
	"ret\n"
	".balign 64\n"
	".endr\n"
	".popsection\n");
extern const uint8_t zxmem_bp_slots[];

struct bp_runner {
	int cmd[2];		/* the test writes a byte: run the slots */
	int answer[2];		/* the runner writes how many trapped */
};

static sigjmp_buf bp_jump;

static void bp_trapped(int sig)
{
	(void)sig;
	siglongjmp(bp_jump, 1);
}

static void *bp_run(void *arg)
{
	struct bp_runner *r = arg;
	/* volatile: changed between sigsetjmp() and siglongjmp(). */
	volatile uint32_t trapped;
	volatile unsigned int i;
	char go;

	while (read(r->cmd[0], &go, 1) == 1) {
		trapped = 0;
		for (i = 0; i < BP_SLOTS; i++) {
			void (*slot)(void) = (void (*)(void))(uintptr_t)
				(zxmem_bp_slots + i * BP_STRIDE);

			if (sigsetjmp(bp_jump, 1)) {
				trapped++;
				continue;
			}
			slot();
		}
		if (write(r->answer[1], (const void *)&trapped,
			  sizeof(trapped)) != sizeof(trapped))
			_exit(92);
	}
	return NULL;
}

static int start_bp_runner(void *arg)
{
	struct sigaction sa = { .sa_handler = bp_trapped };
	pthread_t thread;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTRAP, &sa, NULL))
		return -1;
	return pthread_create(&thread, NULL, bp_run, arg);
}

static int64_t bp_trapped_slots(struct bp_runner *r)
{
	uint32_t trapped;

	if (write(r->cmd[1], "r", 1) != 1 ||
	    read(r->answer[0], &trapped, sizeof(trapped)) != sizeof(trapped))
		return -1;
	return trapped;
}

static const uint8_t bp_insn[] = BP_INSN;
static const uint8_t ret_insn[] = RET_INSN;
#define BP_LEN		sizeof(bp_insn)

/* The fixture's target again, with the runner (see the race above). */
static int bp_target(struct target *bp, struct bp_runner *r)
{
	target_kill(bp);
	if (pipe(r->cmd) || pipe(r->answer) ||
	    target_spawn_prepared(bp, start_bp_runner, r) || target_trace(bp))
		return -1;
	return 0;
}

TEST_F_TIMEOUT(child, a_thousand_breakpoints_in_one_call, 120)
{
	static struct zxmem_segment segs[BP_SLOTS];
	static uint8_t olds[BP_SLOTS][BP_LEN], olds2[BP_SLOTS][BP_LEN];
	static uint8_t text[BP_SLOTS * BP_STRIDE];
	/* Static: the target's runner thread uses its copy of it. */
	static struct bp_runner r;
	struct target *bp = &self->target;
	uint64_t base = (uintptr_t)zxmem_bp_slots;
	unsigned int i;
	size_t done;

	ASSERT_EQ(0, bp_target(bp, &r));
	/* Untouched, every slot returns. */
	ASSERT_EQ(0, bp_trapped_slots(&r));

	for (i = 0; i < BP_SLOTS; i++) {
		seg_set(&segs[i], base + i * BP_STRIDE, bp_insn, BP_LEN);
		segs[i].old = (uintptr_t)olds[i];
	}
	ASSERT_STATUS(ZX_OK, zxmem_process_write_memory_vec(
			bp->pidfd, segs, BP_SLOTS, ZXMEM_VEC_EXCHANGE, &done));
	ASSERT_EQ((size_t)BP_SLOTS, done);
	for (i = 0; i < BP_SLOTS; i++) {
		ASSERT_SEG(ZX_OK, BP_LEN, segs[i]);
		/* The original instruction, as our own copy has it. */
		ASSERT_EQ(0, memcmp(zxmem_bp_slots + i * BP_STRIDE, olds[i],
				    BP_LEN));
		ASSERT_EQ(0, memcmp(ret_insn, olds[i], BP_LEN));
	}
	ASSERT_EQ(BP_SLOTS, bp_trapped_slots(&r));
	/* Ours stays as it was: the target's text pages were copied. */
	ASSERT_EQ(0, memcmp(ret_insn, zxmem_bp_slots, BP_LEN));

	/* The removal: the same call with the old bytes. */
	for (i = 0; i < BP_SLOTS; i++) {
		seg_set(&segs[i], base + i * BP_STRIDE, olds[i], BP_LEN);
		segs[i].old = (uintptr_t)olds2[i];
	}
	ASSERT_STATUS(ZX_OK, zxmem_process_write_memory_vec(
			bp->pidfd, segs, BP_SLOTS, ZXMEM_VEC_EXCHANGE, &done));
	ASSERT_EQ((size_t)BP_SLOTS, done);
	for (i = 0; i < BP_SLOTS; i++) {
		ASSERT_SEG(ZX_OK, BP_LEN, segs[i]);
		ASSERT_EQ(0, memcmp(bp_insn, olds2[i], BP_LEN));
	}
	ASSERT_EQ(0, bp_trapped_slots(&r));
	ASSERT_EQ(0, target_copy_out(bp, base, sizeof(text), text));
	ASSERT_EQ(0, memcmp(zxmem_bp_slots, text, sizeof(text)));
}

/*
 * The single call sets a breakpoint the same way: into code the target
 * has run already (so a stale copy of the old instruction could be in
 * its instruction cache), in the first and the last page of the slots.
 * Each slot traps once set and returns once restored.
 */
TEST_F(child, breakpoints_by_single_calls_trap_and_come_out)
{
	static const unsigned int slots[] = { 0, 1, BP_SLOTS - 1 };
	static struct bp_runner r;
	static uint8_t text[BP_SLOTS * BP_STRIDE];
	struct target *bp = &self->target;
	uint64_t base = (uintptr_t)zxmem_bp_slots;
	const unsigned int n = ARRAY_SIZE(slots);
	size_t actual;
	unsigned int i;

	ASSERT_EQ(0, bp_target(bp, &r));
	ASSERT_EQ(0, bp_trapped_slots(&r));
	/* Set each in turn, then restore each: the traps count up, then down. */
	for (i = 0; i < 2 * n; i++) {
		bool set = i < n;
		int64_t trapping = set ? i + 1 : 2 * n - 1 - i;

		actual = 0;
		ASSERT_STATUS(ZX_OK, zx_process_write_memory(
				bp->pidfd, base + slots[i % n] * BP_STRIDE,
				set ? bp_insn : ret_insn, BP_LEN, &actual));
		ASSERT_EQ(BP_LEN, actual);
		ASSERT_EQ(trapping, bp_trapped_slots(&r));
	}
	ASSERT_EQ(0, target_copy_out(bp, base, sizeof(text), text));
	ASSERT_EQ(0, memcmp(zxmem_bp_slots, text, sizeof(text)));
}

TEST_HARNESS_MAIN
