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

static void args_size_bounds(struct kunit *test)
{
	static const struct {
		u64 size;
		int status;
	} cases[] = {
		{ 0, ZX_ERR_INVALID_ARGS },
		{ 1, ZX_OK },
		{ SZ_64M - 1, ZX_OK },
		{ SZ_64M, ZX_OK },
		{ SZ_64M + 1ULL, ZX_ERR_INVALID_ARGS },
		{ U32_MAX + 1ULL, ZX_ERR_INVALID_ARGS },
		{ U64_MAX, ZX_ERR_INVALID_ARGS },
	};
	struct zxmem_io io = zxmem_valid_io();
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		io.buffer_size = cases[i].size;
		KUNIT_EXPECT_EQ_MSG(test, zxmem_check_args(&io), cases[i].status,
				    "buffer_size %llu", cases[i].size);
	}
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

static void relation_decision_table(struct kunit *test)
{
	static const struct {
		bool fd_writable, same_group, tracer, write;
		int status;
	} cases[] = {
		/* fd_writable, same_group, tracer, write */
		{ true,  true,  false, true,  ZX_OK },
		{ true,  false, true,  true,  ZX_OK },
		{ true,  true,  true,  true,  ZX_OK },
		{ true,  false, false, true,  ZX_ERR_ACCESS_DENIED },
		{ true,  false, false, false, ZX_ERR_ACCESS_DENIED },
		{ false, true,  false, true,  ZX_ERR_ACCESS_DENIED },
		{ false, false, true,  true,  ZX_ERR_ACCESS_DENIED },
		{ false, true,  false, false, ZX_OK },
		{ false, false, true,  false, ZX_OK },
		{ false, false, false, false, ZX_ERR_ACCESS_DENIED },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct zxmem_caller caller = {
			.fd_writable = cases[i].fd_writable,
			.same_group = cases[i].same_group,
			.tracer = cases[i].tracer,
		};

		KUNIT_EXPECT_EQ_MSG(test,
				    zxmem_decide_relation(&caller, cases[i].write),
				    cases[i].status, "case %d", i);
	}
}

static void mm_access_decision_table(struct kunit *test)
{
	static const struct {
		bool same_group, dumpable, capable;
		int status;
	} cases[] = {
		/* same_group, dumpable, capable */
		{ true,  false, false, ZX_OK },	/* self, even non-dumpable */
		{ false, true,  false, ZX_OK },	/* tracer of a dumpable mm */
		{ false, false, true,  ZX_OK },	/* CAP_SYS_PTRACE */
		{ false, true,  true,  ZX_OK },
		{ false, false, false, ZX_ERR_ACCESS_DENIED },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct zxmem_caller caller = {
			.tracer = !cases[i].same_group,
			.same_group = cases[i].same_group,
			.dumpable = cases[i].dumpable,
			.capable = cases[i].capable,
		};

		KUNIT_EXPECT_EQ_MSG(test, zxmem_decide_mm_access(&caller),
				    cases[i].status, "case %d", i);
	}
}

static void vdso_names(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, zxmem_is_vdso_name("[vdso]"));
	KUNIT_EXPECT_TRUE(test, zxmem_is_vdso_name("[vvar]"));
	KUNIT_EXPECT_TRUE(test, zxmem_is_vdso_name("[vvar_vclock]"));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name(NULL));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name("[stack]"));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name("[heap]"));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name("[vsyscall]"));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name("[vdso"));
	KUNIT_EXPECT_FALSE(test, zxmem_is_vdso_name(""));
}

static void vma_status_table(struct kunit *test)
{
	static const struct {
		vm_flags_t flags;
		bool write;
		int status;
	} cases[] = {
		/* private read-only code: forced through copy-on-write */
		{ VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC,
		  true, ZX_OK },
		/* execute-only and PROT_NONE private mappings */
		{ VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC, true, ZX_OK },
		{ VM_MAYREAD | VM_MAYWRITE, true, ZX_OK },
		{ VM_MAYREAD | VM_MAYWRITE, false, ZX_OK },
		/* writable shared mapping */
		{ VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE |
		  VM_MAYSHARE, true, ZX_OK },
		/* shared read-only file mapping cannot be forced */
		{ VM_READ | VM_MAYREAD | VM_MAYSHARE, true,
		  ZX_ERR_ACCESS_DENIED },
		{ VM_READ | VM_MAYREAD | VM_MAYSHARE, false, ZX_OK },
		/* shared, writable once, now read-only: still not COW */
		{ VM_READ | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE,
		  true, ZX_ERR_ACCESS_DENIED },
		/* hugetlb: whether GUP forces it depends on the kernel */
		{ VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_HUGETLB, true,
		  ZX_OK },
		{ VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_HUGETLB,
		  true, ZX_OK },
		/* not cacheable, either way */
		{ VM_READ | VM_WRITE | VM_IO | VM_MAYREAD | VM_MAYWRITE, true,
		  ZX_ERR_BAD_STATE },
		{ VM_READ | VM_PFNMAP | VM_MAYREAD, false, ZX_ERR_BAD_STATE },
		{ VM_READ | VM_IO | VM_PFNMAP | VM_MAYREAD, true,
		  ZX_ERR_BAD_STATE },
		/* nothing may ever read it */
		{ 0, false, ZX_ERR_ACCESS_DENIED },
	};
	int i, unforced;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		KUNIT_EXPECT_EQ_MSG(test, zxmem_vma_status(cases[i].flags,
							   cases[i].write,
							   true),
				    cases[i].status, "case %d", i);
		/* Without force only VM_WRITE takes a write. */
		unforced = cases[i].status;
		if (cases[i].write && !(cases[i].flags & VM_WRITE) &&
		    unforced == ZX_OK)
			unforced = ZX_ERR_ACCESS_DENIED;
		KUNIT_EXPECT_EQ_MSG(test, zxmem_vma_status(cases[i].flags,
							   cases[i].write,
							   false),
				    unforced, "case %d, no force", i);
	}
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

static void chunks_cover_the_range_exactly(struct kunit *test)
{
	static const size_t lens[] = { 1, 4095, 4096, 4097, SZ_16K - 1,
				       SZ_16K, SZ_16K + 1, SZ_64M };
	int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		size_t done = 0, steps = 0, chunk;

		while ((chunk = zxmem_chunk_len(done, lens[i], SZ_16K))) {
			KUNIT_ASSERT_LE(test, chunk, (size_t)SZ_16K);
			done += chunk;
			steps++;
		}
		KUNIT_EXPECT_EQ(test, done, lens[i]);
		KUNIT_EXPECT_EQ(test, steps, DIV_ROUND_UP(lens[i], SZ_16K));
	}
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

static void copy_status_mapping(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(1, false, 0, false), ZX_OK);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(SZ_64M, false, 0, false), ZX_OK);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(0, false, 0, false),
			ZX_ERR_NO_MEMORY);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(0, true, 0, false),
			ZX_ERR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(4096, true, 0, false),
			ZX_ERR_INVALID_ARGS);
	/* A kernel whose GUP refuses to force hugetlb */
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(0, false, -EFAULT, true),
			ZX_ERR_ACCESS_DENIED);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(0, false, -EFAULT, false),
			ZX_ERR_NO_MEMORY);
	KUNIT_EXPECT_EQ(test, zxmem_copy_status(0, false, -ENOMEM, true),
			ZX_ERR_NO_MEMORY);
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

static void status_values_match_zircon(struct kunit *test)
{
	/* user space compares against these numbers: they are ABI */
	KUNIT_EXPECT_EQ(test, ZX_OK, 0);
	KUNIT_EXPECT_EQ(test, ZX_ERR_NOT_SUPPORTED, -2);
	KUNIT_EXPECT_EQ(test, ZX_ERR_NO_MEMORY, -4);
	KUNIT_EXPECT_EQ(test, ZX_ERR_INVALID_ARGS, -10);
	KUNIT_EXPECT_EQ(test, ZX_ERR_BAD_HANDLE, -11);
	KUNIT_EXPECT_EQ(test, ZX_ERR_WRONG_TYPE, -12);
	KUNIT_EXPECT_EQ(test, ZX_ERR_BAD_STATE, -20);
	KUNIT_EXPECT_EQ(test, ZX_ERR_ACCESS_DENIED, -30);
}

static void abi_layout_is_fixed(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct zxmem_io), (size_t)48);
	KUNIT_EXPECT_EQ(test, offsetof(struct zxmem_io, actual), (size_t)24);
	KUNIT_EXPECT_EQ(test, offsetof(struct zxmem_io, handle), (size_t)32);
	KUNIT_EXPECT_EQ(test, offsetof(struct zxmem_io, status), (size_t)40);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(ZXMEM_IOC_WRITE_MEMORY), 48);
	KUNIT_EXPECT_NE(test, ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY);
}

static struct kunit_case zxmem_test_cases[] = {
	KUNIT_CASE(args_valid_request_passes),
	KUNIT_CASE(args_size_bounds),
	KUNIT_CASE(args_null_buffer_is_invalid),
	KUNIT_CASE(args_every_flag_and_reserved_bit_is_invalid),
	KUNIT_CASE(args_ignore_handle_vaddr_and_outputs),
	KUNIT_CASE(relation_decision_table),
	KUNIT_CASE(mm_access_decision_table),
	KUNIT_CASE(vdso_names),
	KUNIT_CASE(vma_status_table),
	KUNIT_CASE(force_override_modes),
	KUNIT_CASE(page_bits_cover_the_touched_pages),
	KUNIT_CASE(range_end_clamps_instead_of_wrapping),
	KUNIT_CASE(overlaps_is_half_open),
	KUNIT_CASE(chunks_cover_the_range_exactly),
	KUNIT_CASE(pages_spanned_counts_partial_pages),
	KUNIT_CASE(copy_status_mapping),
	KUNIT_CASE(retries_end_unless_the_faults_move_on),
	KUNIT_CASE(status_values_match_zircon),
	KUNIT_CASE(abi_layout_is_fixed),
	{}
};

static struct kunit_suite zxmem_test_suite = {
	.name = "zxmem",
	.test_cases = zxmem_test_cases,
};

kunit_test_suite(zxmem_test_suite);

MODULE_DESCRIPTION("KUnit tests for zxmem's decisions");
MODULE_LICENSE("GPL");
