// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the decisions in zxmem_ioctl.h.
 *
 * A KUnit test runs in a kernel thread without an mm, so these cover the
 * logic on fabricated inputs; selftests/zxmem/ covers the whole path in a
 * real process.  Run with "make kunit" (see README).
 */

#include <kunit/test.h>

#include "zxmem_ioctl.h"

static struct zxmem_io zxmem_valid_io(void)
{
	struct zxmem_io io = {
		.vaddr = 0x10000,
		.buffer = 0x20000,
		.buffer_size = 1,
		.handle = 3,
	};

	return io;
}

static void args_valid_request_passes(struct kunit *test)
{
	struct zxmem_io io = zxmem_valid_io();

	KUNIT_EXPECT_EQ(test, zxmem_check_args(&io), ZX_OK);
}

/* Each table case names itself, so a failure says which one it was. */
#define ZXMEM_CASE_DESC(type)						\
static void type##_desc(const struct type *c, char *desc)		\
{									\
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);			\
}

struct size_case {
	u64 size;
	int status;
	const char *desc;
};

static const struct size_case size_cases[] = {
	{ 0, ZX_ERR_INVALID_ARGS, "size 0" },
	{ 1, ZX_OK, "size 1" },
	{ SZ_64M - 1, ZX_OK, "size 64 MiB - 1" },
	{ SZ_64M, ZX_OK, "size 64 MiB, the largest" },
	{ SZ_64M + 1ULL, ZX_ERR_INVALID_ARGS, "size 64 MiB + 1" },
	{ U32_MAX + 1ULL, ZX_ERR_INVALID_ARGS, "size 4 GiB" },
	{ U64_MAX, ZX_ERR_INVALID_ARGS, "size U64_MAX" },
};

ZXMEM_CASE_DESC(size_case)
KUNIT_ARRAY_PARAM(size, size_cases, size_case_desc);

static void args_size_bounds(struct kunit *test)
{
	const struct size_case *c = test->param_value;
	struct zxmem_io io = zxmem_valid_io();

	io.buffer_size = c->size;
	KUNIT_EXPECT_EQ(test, zxmem_check_args(&io), c->status);
}

static void args_null_buffer_is_invalid(struct kunit *test)
{
	struct zxmem_io io = zxmem_valid_io();

	io.buffer = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_args(&io), ZX_ERR_INVALID_ARGS);
}

static void args_every_flag_and_reserved_bit_is_invalid(struct kunit *test)
{
	struct zxmem_io io;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		io = zxmem_valid_io();
		io.flags = BIT(bit);
		KUNIT_EXPECT_EQ_MSG(test, zxmem_check_args(&io),
				    ZX_ERR_INVALID_ARGS, "flags bit %d", bit);
		io = zxmem_valid_io();
		io.reserved = BIT(bit);
		KUNIT_EXPECT_EQ_MSG(test, zxmem_check_args(&io),
				    ZX_ERR_INVALID_ARGS, "reserved bit %d", bit);
	}
}

static void args_ignore_handle_vaddr_and_outputs(struct kunit *test)
{
	struct zxmem_io io = zxmem_valid_io();

	/* These are judged by later steps, or are outputs. */
	io.handle = U32_MAX;
	io.vaddr = U64_MAX;
	io.actual = U64_MAX;
	io.status = -1;
	KUNIT_EXPECT_EQ(test, zxmem_check_args(&io), ZX_OK);
}

struct relation_case {
	bool fd_writable, same_group, tracer, write;
	int status;
	const char *desc;
};

static const struct relation_case relation_cases[] = {
	/* fd_writable, same_group, tracer, write */
	{ true,  true,  false, true,  ZX_OK, "write own group" },
	{ true,  false, true,  true,  ZX_OK, "write tracee" },
	{ true,  true,  true,  true,  ZX_OK, "write own group, traced too" },
	{ true,  false, false, true,  ZX_ERR_ACCESS_DENIED,
	  "write a stranger" },
	{ true,  false, false, false, ZX_ERR_ACCESS_DENIED,
	  "read a stranger" },
	{ false, true,  false, true,  ZX_ERR_ACCESS_DENIED,
	  "write own group, fd read-only" },
	{ false, false, true,  true,  ZX_ERR_ACCESS_DENIED,
	  "write tracee, fd read-only" },
	{ false, true,  false, false, ZX_OK, "read own group, fd read-only" },
	{ false, false, true,  false, ZX_OK, "read tracee, fd read-only" },
	{ false, false, false, false, ZX_ERR_ACCESS_DENIED,
	  "read a stranger, fd read-only" },
};

ZXMEM_CASE_DESC(relation_case)
KUNIT_ARRAY_PARAM(relation, relation_cases, relation_case_desc);

static void relation_decision_table(struct kunit *test)
{
	const struct relation_case *c = test->param_value;
	struct zxmem_caller caller = {
		.fd_writable = c->fd_writable,
		.same_group = c->same_group,
		.tracer = c->tracer,
	};

	KUNIT_EXPECT_EQ(test, zxmem_decide_relation(&caller, c->write),
			c->status);
}

struct mm_access_case {
	bool same_group, dumpable, capable;
	int status;
	const char *desc;
};

static const struct mm_access_case mm_access_cases[] = {
	/* same_group, dumpable, capable */
	{ true,  false, false, ZX_OK, "self, even non-dumpable" },
	{ false, true,  false, ZX_OK, "tracer of a dumpable mm" },
	{ false, false, true,  ZX_OK, "tracer with CAP_SYS_PTRACE" },
	{ false, true,  true,  ZX_OK, "dumpable and CAP_SYS_PTRACE" },
	{ false, false, false, ZX_ERR_ACCESS_DENIED,
	  "tracer of a non-dumpable mm" },
};

ZXMEM_CASE_DESC(mm_access_case)
KUNIT_ARRAY_PARAM(mm_access, mm_access_cases, mm_access_case_desc);

static void mm_access_decision_table(struct kunit *test)
{
	const struct mm_access_case *c = test->param_value;
	struct zxmem_caller caller = {
		.tracer = !c->same_group,
		.same_group = c->same_group,
		.dumpable = c->dumpable,
		.capable = c->capable,
	};

	KUNIT_EXPECT_EQ(test, zxmem_decide_mm_access(&caller), c->status);
}

struct vdso_case {
	const char *name;
	bool vdso;
	const char *desc;
};

static const struct vdso_case vdso_cases[] = {
	{ "[vdso]", true, "[vdso]" },
	{ "[vvar]", true, "[vvar]" },
	{ "[vvar_vclock]", true, "[vvar_vclock]" },
	{ NULL, false, "no name" },
	{ "[stack]", false, "[stack]" },
	{ "[heap]", false, "[heap]" },
	{ "[vsyscall]", false, "[vsyscall]" },
	{ "[vdso", false, "[vdso without the bracket" },
	{ "", false, "empty name" },
};

ZXMEM_CASE_DESC(vdso_case)
KUNIT_ARRAY_PARAM(vdso, vdso_cases, vdso_case_desc);

static void vdso_names(struct kunit *test)
{
	const struct vdso_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, zxmem_is_vdso_name(c->name), c->vdso);
}

struct vma_case {
	vm_flags_t flags;
	bool write;
	int status;
	const char *desc;
};

static const struct vma_case vma_cases[] = {
	{ VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
	  true, ZX_OK, "write private read-only code (COW)" },
	{ VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, true, ZX_OK,
	  "write private execute-only" },
	{ VM_MAYREAD | VM_MAYWRITE, true, ZX_OK, "write private PROT_NONE" },
	{ VM_MAYREAD | VM_MAYWRITE, false, ZX_OK, "read private PROT_NONE" },
	{ VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE |
	  VM_MAYSHARE, true, ZX_OK, "write writable shared" },
	{ VM_READ | VM_MAYREAD | VM_MAYSHARE, true, ZX_ERR_ACCESS_DENIED,
	  "write shared read-only file (no COW)" },
	{ VM_READ | VM_MAYREAD | VM_MAYSHARE, false, ZX_OK,
	  "read shared read-only file" },
	{ VM_READ | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE,
	  true, ZX_ERR_ACCESS_DENIED,
	  "write shared, once writable, now read-only" },
	/* whether GUP forces hugetlb depends on the kernel */
	{ VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_HUGETLB, true, ZX_OK,
	  "write private read-only hugetlb" },
	{ VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_HUGETLB,
	  true, ZX_OK, "write private writable hugetlb" },
	{ VM_READ | VM_WRITE | VM_IO | VM_MAYREAD | VM_MAYWRITE, true,
	  ZX_ERR_BAD_STATE, "write VM_IO" },
	{ VM_READ | VM_PFNMAP | VM_MAYREAD, false, ZX_ERR_BAD_STATE,
	  "read VM_PFNMAP" },
	{ VM_READ | VM_IO | VM_PFNMAP | VM_MAYREAD, true, ZX_ERR_BAD_STATE,
	  "write VM_IO | VM_PFNMAP" },
	{ 0, false, ZX_ERR_ACCESS_DENIED, "read a mapping nothing may read" },
};

ZXMEM_CASE_DESC(vma_case)
KUNIT_ARRAY_PARAM(vma, vma_cases, vma_case_desc);

static void vma_status_table(struct kunit *test)
{
	const struct vma_case *c = test->param_value;
	int unforced;

	KUNIT_EXPECT_EQ_MSG(test, zxmem_vma_status(c->flags, c->write, true),
			    c->status, "may force");
	/* Without force only VM_WRITE takes a write. */
	unforced = c->status;
	if (c->write && !(c->flags & VM_WRITE) && unforced == ZX_OK)
		unforced = ZX_ERR_ACCESS_DENIED;
	KUNIT_EXPECT_EQ_MSG(test, zxmem_vma_status(c->flags, c->write, false),
			    unforced, "may not force");
}

static void force_override_modes(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, zxmem_force_allowed(ZXMEM_FORCE_ALWAYS, true));
	KUNIT_EXPECT_TRUE(test, zxmem_force_allowed(ZXMEM_FORCE_ALWAYS, false));
	KUNIT_EXPECT_FALSE(test, zxmem_force_allowed(ZXMEM_FORCE_PTRACE, true));
	KUNIT_EXPECT_TRUE(test, zxmem_force_allowed(ZXMEM_FORCE_PTRACE, false));
	KUNIT_EXPECT_FALSE(test, zxmem_force_allowed(ZXMEM_FORCE_NEVER, true));
	KUNIT_EXPECT_FALSE(test, zxmem_force_allowed(ZXMEM_FORCE_NEVER, false));

	/* Reads always force; writes only when allowed. */
	KUNIT_EXPECT_EQ(test, zxmem_gup_flags(false, false), (unsigned int)FOLL_FORCE);
	KUNIT_EXPECT_EQ(test, zxmem_gup_flags(false, true), (unsigned int)FOLL_FORCE);
	KUNIT_EXPECT_EQ(test, zxmem_gup_flags(true, false), (unsigned int)FOLL_WRITE);
	KUNIT_EXPECT_EQ(test, zxmem_gup_flags(true, true),
			(unsigned int)(FOLL_WRITE | FOLL_FORCE));
}

static void page_bits_cover_the_touched_pages(struct kunit *test)
{
	unsigned long first = 16 * PAGE_SIZE;

	KUNIT_EXPECT_EQ(test, zxmem_page_bits(first, first, first + 1), 1UL);
	KUNIT_EXPECT_EQ(test, zxmem_page_bits(first, first + PAGE_SIZE - 1,
					      first + PAGE_SIZE + 1), 3UL);
	KUNIT_EXPECT_EQ(test, zxmem_page_bits(first, first + 2 * PAGE_SIZE,
					      first + 3 * PAGE_SIZE), 4UL);
	KUNIT_EXPECT_EQ(test, zxmem_page_bits(first, first,
					      first + 32 * PAGE_SIZE),
			0xffffffffUL);
}

static void range_end_clamps_instead_of_wrapping(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, zxmem_range_end(0x1000, 0x1000), 0x2000UL);
	KUNIT_EXPECT_EQ(test, zxmem_range_end(0, SZ_64M), (unsigned long)SZ_64M);
	KUNIT_EXPECT_EQ(test, zxmem_range_end(ULONG_MAX - 1, 1), ULONG_MAX);
	KUNIT_EXPECT_EQ(test, zxmem_range_end(ULONG_MAX - 1, 2), ULONG_MAX);
	KUNIT_EXPECT_EQ(test, zxmem_range_end(ULONG_MAX, SZ_64M), ULONG_MAX);
	KUNIT_EXPECT_EQ(test, zxmem_range_end(ULONG_MAX - SZ_64M + 1, SZ_64M),
			ULONG_MAX);
}

static void overlaps_is_half_open(struct kunit *test)
{
	/* [0x2000, 0x3000) against a mapping [0x3000, 0x4000) */
	KUNIT_EXPECT_FALSE(test, zxmem_overlaps(0x2000, 0x3000, 0x3000, 0x4000));
	KUNIT_EXPECT_TRUE(test, zxmem_overlaps(0x2000, 0x3001, 0x3000, 0x4000));
	KUNIT_EXPECT_TRUE(test, zxmem_overlaps(0x3fff, 0x5000, 0x3000, 0x4000));
	KUNIT_EXPECT_FALSE(test, zxmem_overlaps(0x4000, 0x5000, 0x3000, 0x4000));
	/* a range inside the mapping, and a mapping inside the range */
	KUNIT_EXPECT_TRUE(test, zxmem_overlaps(0x3100, 0x3200, 0x3000, 0x4000));
	KUNIT_EXPECT_TRUE(test, zxmem_overlaps(0x1000, 0x9000, 0x3000, 0x4000));
}

struct chunk_case {
	size_t len;
	const char *desc;
};

static const struct chunk_case chunk_cases[] = {
	{ 1, "1 byte" },
	{ 4095, "4095 bytes" },
	{ 4096, "4096 bytes" },
	{ 4097, "4097 bytes" },
	{ SZ_16K - 1, "one chunk - 1" },
	{ SZ_16K, "one chunk" },
	{ SZ_16K + 1, "one chunk + 1" },
	{ SZ_64M, "64 MiB" },
};

ZXMEM_CASE_DESC(chunk_case)
KUNIT_ARRAY_PARAM(chunk, chunk_cases, chunk_case_desc);

static void chunks_cover_the_range_exactly(struct kunit *test)
{
	const struct chunk_case *c = test->param_value;
	size_t done = 0, steps = 0, chunk;

	while ((chunk = zxmem_chunk_len(done, c->len, SZ_16K))) {
		KUNIT_ASSERT_LE(test, chunk, (size_t)SZ_16K);
		done += chunk;
		steps++;
	}
	KUNIT_EXPECT_EQ(test, done, c->len);
	KUNIT_EXPECT_EQ(test, steps, DIV_ROUND_UP(c->len, SZ_16K));
}

static void pages_spanned_counts_partial_pages(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(0, 1), 1UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(0, PAGE_SIZE), 1UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(0, PAGE_SIZE + 1), 2UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(PAGE_SIZE - 1, 1), 1UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(PAGE_SIZE - 1, 2), 2UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(8, 32 * PAGE_SIZE - 8), 32UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(8, 32 * PAGE_SIZE), 33UL);
	KUNIT_EXPECT_EQ(test, zxmem_pages_spanned(0, SZ_64M),
			(unsigned long)(SZ_64M / PAGE_SIZE));
}

/* A segment shares a hold's pins only if every page it touches is pinned. */
static void pool_index_needs_every_page(struct kunit *test)
{
	const unsigned long run = 0x10 * PAGE_SIZE;

	/* One page pinned: bytes in it share it, at index 0. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run, 1, run, 1), 0L);
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + PAGE_SIZE - 1, 1, run, 1),
			0L);
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run, PAGE_SIZE, run, 1), 0L);
	/* Running into the next page, which is not pinned. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + PAGE_SIZE - 1, 2, run, 1),
			(long)-EBUSY);
	/* Starting in the page before the run. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run - 1, 2, run, 3),
			(long)-EBUSY);
	/* Wholly beside the run, on either side. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run - 1, 1, run, 3),
			(long)-ENOENT);
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + 3 * PAGE_SIZE, 1, run, 3),
			(long)-ENOENT);
	/* Inside a run of three: the index of its first page. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + PAGE_SIZE + 5, 1, run, 3),
			1L);
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + PAGE_SIZE + 5,
					       2 * PAGE_SIZE - 5, run, 3), 1L);
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run + PAGE_SIZE + 5,
					       2 * PAGE_SIZE - 4, run, 3),
			(long)-EBUSY);
	/* A size that would wrap ends at the top: never inside a run. */
	KUNIT_EXPECT_EQ(test, zxmem_pool_index(run, U64_MAX, run, 3),
			(long)-EBUSY);
}

struct copy_status_case {
	size_t done;
	bool buffer_fault;
	long pin_error;
	bool forced_hugetlb;
	int status;
	const char *desc;
};

static const struct copy_status_case copy_status_cases[] = {
	{ 1, false, 0, false, ZX_OK, "1 byte copied" },
	{ SZ_64M, false, 0, false, ZX_OK, "64 MiB copied" },
	{ 0, false, 0, false, ZX_ERR_NO_MEMORY, "nothing copied" },
	{ 0, true, 0, false, ZX_ERR_INVALID_ARGS,
	  "bad buffer, nothing copied" },
	{ 4096, true, 0, false, ZX_ERR_INVALID_ARGS,
	  "bad buffer after a page" },
	/* a kernel whose GUP refuses to force hugetlb */
	{ 0, false, -EFAULT, true, ZX_ERR_ACCESS_DENIED,
	  "forced hugetlb write refused" },
	{ 0, false, -EFAULT, false, ZX_ERR_NO_MEMORY,
	  "EFAULT, not hugetlb" },
	{ 0, false, -ENOMEM, true, ZX_ERR_NO_MEMORY,
	  "ENOMEM on forced hugetlb" },
};

ZXMEM_CASE_DESC(copy_status_case)
KUNIT_ARRAY_PARAM(copy_status, copy_status_cases, copy_status_case_desc);

static void copy_status_mapping(struct kunit *test)
{
	const struct copy_status_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, zxmem_copy_status(c->done, c->buffer_fault,
						c->pin_error,
						c->forced_hugetlb),
			c->status);
}

static void retries_end_unless_the_faults_move_on(struct kunit *test)
{
	struct zxmem_retries r = { 0 };
	size_t offset;
	int i;

	/* Without progress: ZXMEM_BUFFER_RETRIES retries, then no more. */
	for (i = 0; i < ZXMEM_BUFFER_RETRIES; i++)
		KUNIT_EXPECT_TRUE(test, zxmem_may_retry(&r, 0));
	KUNIT_EXPECT_FALSE(test, zxmem_may_retry(&r, 0));

	/* Progress resets the count ... */
	r = (struct zxmem_retries){ 0 };
	for (offset = 1; offset < 64; offset++)
		KUNIT_EXPECT_TRUE(test, zxmem_may_retry(&r, offset * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, r.furthest, 63 * PAGE_SIZE);

	/* ... but going back does not: two pages in turn run out too. */
	r = (struct zxmem_retries){ 0 };
	KUNIT_EXPECT_TRUE(test, zxmem_may_retry(&r, PAGE_SIZE));
	for (i = 0; i < ZXMEM_BUFFER_RETRIES - 1; i++)
		KUNIT_EXPECT_TRUE(test, zxmem_may_retry(&r, i & 1 ? PAGE_SIZE : 0));
	KUNIT_EXPECT_FALSE(test, zxmem_may_retry(&r, 0));
	KUNIT_EXPECT_FALSE(test, zxmem_may_retry(&r, PAGE_SIZE));
}

static void vec_header_checks(struct kunit *test)
{
	struct zxmem_vec vec = {
		.segments = 0x30000,
		.count = 1,
		.handle = 3,
	};

	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true), ZX_OK);
	vec.count = ZXMEM_MAX_SEGMENTS;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, false), ZX_OK);
	vec.flags = ZXMEM_VEC_EXCHANGE | ZXMEM_VEC_STOP;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true), ZX_OK);
	/* An exchange reads and writes: a read may not ask for one. */
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, false),
			ZX_ERR_INVALID_ARGS);
	vec.flags = ZXMEM_VEC_STOP;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, false), ZX_OK);
	vec.count = ZXMEM_MAX_SEGMENTS + 1;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true),
			ZX_ERR_INVALID_ARGS);
	vec.count = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true),
			ZX_ERR_INVALID_ARGS);
	vec.count = 1;
	vec.segments = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true),
			ZX_ERR_INVALID_ARGS);
	vec.segments = 0x30000;
	vec.reserved = 1;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true),
			ZX_ERR_INVALID_ARGS);
	vec.reserved = 0;
	vec.flags = ZXMEM_VEC_STOP << 1;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true),
			ZX_ERR_INVALID_ARGS);
	/* The outputs are not inputs. */
	vec.flags = 0;
	vec.status = -1;
	vec.done = 7;
	vec.actual = 9;
	KUNIT_EXPECT_EQ(test, zxmem_check_vec(&vec, true), ZX_OK);
}

static void segment_field_checks(struct kunit *test)
{
	struct zxmem_segment seg = {
		.vaddr = 0x10000,
		.buffer = 0x20000,
		.size = 1,
	};

	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, false), ZX_OK);
	/* old is given exactly when the call exchanges. */
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	/* Far enough from the buffer for the largest size (no overlap). */
	seg.old = 0x20000 + 2 * ZXMEM_MAX_TRANSFER;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true), ZX_OK);
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, false),
			ZX_ERR_INVALID_ARGS);
	seg.size = ZXMEM_MAX_TRANSFER;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true), ZX_OK);
	seg.size = ZXMEM_MAX_TRANSFER + 1;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.size = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.size = 1;
	seg.buffer = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.buffer = 0x20000;
	seg.reserved = 0x80000000;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.reserved = 0;
	seg.status = -5;
	seg.actual = 3;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true), ZX_OK);
}

/* An exchange's old bytes must not overlap its new ones, by one byte. */
static void segment_old_apart_from_buffer(struct kunit *test)
{
	struct zxmem_segment seg = {
		.vaddr = 0x10000,
		.buffer = 0x20000,
		.old = 0x20000,
		.size = 16,
	};

	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.old = seg.buffer + 15;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.old = seg.buffer + 16;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true), ZX_OK);
	seg.old = seg.buffer - 15;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.old = seg.buffer - 16;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true), ZX_OK);
	/* Without EXCHANGE there is no old buffer, and no overlap. */
	seg.old = 0;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, false), ZX_OK);
	/* Ranges that wrap past 2^64 meet where they wrap. */
	seg.buffer = U64_MAX - 7;
	seg.old = 4;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			ZX_ERR_INVALID_ARGS);
	seg.old = 8;
	KUNIT_EXPECT_EQ(test, zxmem_check_segment(&seg, true),
			BITS_PER_LONG == 32 ? ZX_ERR_INVALID_ARGS : ZX_OK);
}

/*
 * Every start and length within three words: the bytes in range are
 * replaced and handed back, the bytes around them are untouched, whatever
 * the alignment.
 */
static void exchange_replaces_exactly_the_range(struct kunit *test)
{
	union {
		unsigned long words[4];
		u8 bytes[4 * sizeof(unsigned long)];
	} page;
	u8 new[3 * sizeof(unsigned long)], old[sizeof(new) + 1];
	size_t start, len, i;

	for (i = 0; i < sizeof(new); i++)
		new[i] = 0x80 + i;
	for (start = 0; start < sizeof(unsigned long); start++) {
		for (len = 1; len <= sizeof(new); len++) {
			for (i = 0; i < sizeof(page.bytes); i++)
				page.bytes[i] = i;
			memset(old, 0xee, sizeof(old));
			KUNIT_EXPECT_EQ(test, zxmem_exchange(page.bytes + start,
							     new, old, len),
					len);
			for (i = 0; i < sizeof(page.bytes); i++)
				KUNIT_EXPECT_EQ(test, page.bytes[i],
						i >= start && i < start + len ?
						new[i - start] : (u8)i);
			for (i = 0; i < len; i++)
				KUNIT_EXPECT_EQ(test, old[i], (u8)(start + i));
			KUNIT_EXPECT_EQ(test, old[len], 0xee);
		}
	}
}

static struct kunit_case zxmem_test_cases[] = {
	KUNIT_CASE(args_valid_request_passes),
	KUNIT_CASE_PARAM(args_size_bounds, size_gen_params),
	KUNIT_CASE(args_null_buffer_is_invalid),
	KUNIT_CASE(args_every_flag_and_reserved_bit_is_invalid),
	KUNIT_CASE(args_ignore_handle_vaddr_and_outputs),
	KUNIT_CASE_PARAM(relation_decision_table, relation_gen_params),
	KUNIT_CASE_PARAM(mm_access_decision_table, mm_access_gen_params),
	KUNIT_CASE_PARAM(vdso_names, vdso_gen_params),
	KUNIT_CASE_PARAM(vma_status_table, vma_gen_params),
	KUNIT_CASE(force_override_modes),
	KUNIT_CASE(page_bits_cover_the_touched_pages),
	KUNIT_CASE(range_end_clamps_instead_of_wrapping),
	KUNIT_CASE(overlaps_is_half_open),
	KUNIT_CASE_PARAM(chunks_cover_the_range_exactly, chunk_gen_params),
	KUNIT_CASE(pages_spanned_counts_partial_pages),
	KUNIT_CASE(pool_index_needs_every_page),
	KUNIT_CASE_PARAM(copy_status_mapping, copy_status_gen_params),
	KUNIT_CASE(retries_end_unless_the_faults_move_on),
	KUNIT_CASE(vec_header_checks),
	KUNIT_CASE(segment_field_checks),
	KUNIT_CASE(segment_old_apart_from_buffer),
	KUNIT_CASE(exchange_replaces_exactly_the_range),
	{}
};

static struct kunit_suite zxmem_test_suite = {
	.name = "zxmem",
	.test_cases = zxmem_test_cases,
};

kunit_test_suite(zxmem_test_suite);

MODULE_DESCRIPTION("KUnit tests for zxmem's decisions");
MODULE_LICENSE("GPL");
