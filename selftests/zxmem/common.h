/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test library of zxmem's selftest programs (with common.c, linked into
 * each of them).
 *
 * - The target-process protocol: target_spawn() forks a child that serves
 *   requests (struct child_request, one int64_t answer each) over a
 *   socketpair: map, fill, compare, copy out, start a thread, exec, ... .
 *   A test that needs the right to it PTRACE_SEIZEs it (target_trace()).
 * - Raw requests: raw_request() presets the two out fields with the
 *   "untouched" sentinels, raw_call() issues one and keeps everything the
 *   kernel answered: ioctl()'s result and errno, status, actual.  Tests
 *   check the kernel's answer through these, never through the C API of
 *   <zircon/syscalls.h>, which copies actual only on ZX_OK and remaps
 *   EINVAL and EFAULT.
 * - The status model: the classes of an answer (a status, or ioctl()'s
 *   ENOTTY or EFAULT) and their names, which the fuzzer and the race tests
 *   count and check against.
 * - Patterns of bytes, the RNG, memory of our own, files, /proc helpers
 *   and constants.
 * - After kselftest_harness.h: assertion helpers, and fixture_start() and
 *   fixture_stop() for the fixture every area program declares.
 *
 * Nothing here keeps state across tests but landing_page and the RNG the
 * caller owns.
 */
#ifndef _ZXMEM_COMMON_H
#define _ZXMEM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/zxmem.h>
#include <zircon/syscalls.h>

#include "zxmem_selftest.h"

#define NOBODY			65534
#define KERNEL_ADDRESS		0xffffffff81000000ULL
#define BIOS_AREA		0xf0000
#define FORCE_PATH		"/sys/module/zxmem/parameters/force_override"

/* A request's out fields before a call: an error must leave actual. */
#define ACTUAL_UNTOUCHED	((__u64)0x5a5a5a5a5a5a5a5aULL)
#define STATUS_UNTOUCHED	((__s32)0x5a5a5a5a)

/* Patterns: the bytes a region starts with, and the ones a test writes. */
#define SEED_OLD		0x11
#define SEED_NEW		0xee

/* Far from anything a fresh static image maps: gone after exec. */
#define BEFORE_EXEC_ADDRESS	0x300000000000ULL
#define RESUME_FD_ENV		"ZXMEM_TEST_RESUME_FD"

/*
 * Under QEMU's TCG a copy between two addresses at the same offset within
 * 2 MiB runs about ten times slower (Documentation/zxmem.rst): buffers
 * that move much sit this far past a HUGE_ALIGN boundary.
 */
#define HUGE_ALIGN		((size_t)2 << 20)
#define BUFFER_SKEW		((size_t)4096 + 64)

/* The most CHILD_COPY_OUT sends back in one message. */
#define COPY_OUT_MAX		((size_t)64 << 10)

#ifndef PIDFD_THREAD
#define PIDFD_THREAD		O_EXCL
#endif

/*
 * What a debugger writes to set a breakpoint, and the return instruction
 * the breakpoint tests' code slots hold, as bytes in memory order.  The
 * target runs into the breakpoint and takes SIGTRAP; on arm64 the
 * instruction cache must be made to see the write first (Documentation/
 * zxmem.rst, "The data path").
 */
#if defined(__x86_64__) || defined(__i386__)
#define BP_INSN			{ 0xcc }			/* int3 */
#define RET_INSN		{ 0xc3 }			/* ret */
#elif defined(__aarch64__)
#define BP_INSN			{ 0x00, 0x00, 0x20, 0xd4 }	/* brk #0 */
#define RET_INSN		{ 0xc0, 0x03, 0x5f, 0xd6 }	/* ret */
#else
#error "no breakpoint instruction known for this architecture"
#endif

size_t page_size(void);
uint64_t now_ms(void);
/* CLOCK_MONOTONIC in seconds, for rates and budgets. */
double now_s(void);
void sleep_us(uint64_t us);

/* Byte @offset of the pattern for @seed: two seeds differ in every byte. */
uint8_t pattern_byte(uint8_t seed, uint64_t offset);
void fill_pattern(void *buf, size_t len, uint8_t seed);
/* How many of the @len bytes at @buf are not the pattern for @seed. */
int64_t count_mismatches(const void *buf, size_t len, uint8_t seed);
int64_t count_nonzero(const void *buf, size_t len);
/* How many of the @len bytes at @buf are none of the @nr (<= 8) in @set. */
uint64_t count_outside(const void *buf, size_t len, const uint8_t *set,
		       int nr);

/*
 * splitmix64 over a state the caller owns (a global, or a __thread one
 * for threads that draw on their own): a seed replays a run exactly.
 */
uint64_t rng_next(uint64_t *state);
uint64_t rng_below(uint64_t *state, uint64_t n);
/* @len bytes (whole words) of rng_next() over a state seeded with @seed. */
void fill_random(void *buf, size_t len, uint64_t seed);

/*
 * @len bytes of private anonymous memory, all @byte, at @at
 * (MAP_FIXED_NOREPLACE) or, if @at is 0, anywhere, starting at a multiple
 * of @align (0: of a page).  madvise(@advice) comes before the first
 * touch (0: none), so that MADV_HUGEPAGE or MADV_NOHUGEPAGE decides how
 * the pages are backed.  NULL with errno set on failure.
 */
void *map_filled(uint64_t at, size_t len, size_t align, int advice, int byte);
/* @len bytes of @byte starting @skew bytes past a HUGE_ALIGN boundary. */
void *map_skewed(size_t len, size_t skew, int advice, int byte);

/*
 * The status model: what one call answered, as one of a few classes.
 * ST_ENOTTY and ST_EFAULT are ioctl() failing with that errno (the only
 * two the ABI has); ST_OTHER is any other errno or an unknown status.
 */
enum status_class {
	ST_OK,
	ST_NOT_SUPPORTED,
	ST_INVALID_ARGS,
	ST_BAD_HANDLE,
	ST_WRONG_TYPE,
	ST_BAD_STATE,
	ST_ACCESS_DENIED,
	ST_NO_MEMORY,
	ST_ENOTTY,
	ST_EFAULT,
	ST_OTHER,
	ST_NR,
};

/* A set of classes, as the statuses the spec allows for a call. */
#define ST_BIT(st)		(1u << (st))

extern const char *const status_class_name[ST_NR];
/* The class of a status the kernel wrote; ST_OTHER if it is none of ours. */
enum status_class status_class_of(zx_status_t status);
/* The class of an answer: ioctl()'s @ret and @err, else @status. */
enum status_class answer_class(int ret, int err, zx_status_t status);

/* Files and /proc. */
int write_text(const char *path, int flags, const char *text);
int read_text(const char *path, char *value, size_t size);
int make_pattern_file(char *path, size_t path_size, size_t len, uint8_t seed);
int64_t file_mismatches(int fd, size_t len, uint8_t seed);

struct mapping {
	uint64_t start;
	uint64_t end;
};

/* Find the mapping called @name ("[vdso]") in /proc/@pid/maps. */
int find_mapping(pid_t pid, const char *name, struct mapping *found);
/* Is @addr inside any mapping of @pid?  -1 if the maps cannot be read. */
int is_mapped(pid_t pid, uint64_t addr);
/* The number after "@key:" in /proc/@pid/@file ("status"); -1 if none. */
long proc_field(pid_t pid, const char *file, const char *key);
/* The state letter of task @tid ('Z', ...), 0 if unknown. */
char task_state(pid_t pid, pid_t tid);
/* pread() until @len bytes came, or end of file (fewer), or -1. */
ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off);
/* As root, through /proc/@pid/mem. */
int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);
/* setresuid() to nobody, groups dropped, dumpable again; 0 or -1. */
int drop_to_nobody(void);
/* An fd number that is certainly not open. */
int closed_fd(void);

/* Raw requests. */
struct zxmem_io raw_request(int pidfd, uint64_t vaddr, const void *buf,
			    uint64_t len);

/* What one raw call gave back. */
struct transfer {
	int ret;		/* of ioctl() */
	int err;		/* errno if ret is -1, else 0 */
	zx_status_t status;	/* STATUS_UNTOUCHED unless the kernel wrote it */
	__u64 actual;		/* ACTUAL_UNTOUCHED unless the kernel wrote it */
	int64_t mismatches;	/* read of a pattern: bytes that are not it */
};

struct transfer raw_call(int dev, bool write, int pidfd, uint64_t vaddr,
			 const void *buf, uint64_t len);

/*
 * The target process.  Every request is answered with one int64_t: a
 * result, or -errno.
 */
enum child_op {
	CHILD_PING,
	CHILD_MAP,		/* mmap(); the answer is the address */
	CHILD_UNMAP,
	CHILD_PROTECT,
	CHILD_FILL,		/* write the pattern for .arg */
	CHILD_MISMATCHES,	/* count the bytes that are not pattern .arg */
	CHILD_MAP_FILLED,	/* map_filled(.addr, .len, .align, .advice,
				 * .arg); the answer is the address
				 */
	CHILD_MEMSET,		/* every byte .arg */
	CHILD_OUTSIDE,		/* count the bytes none of .set[.nset] */
	CHILD_COPY_OUT,		/* answer .len, then send the bytes */
	CHILD_SET_NONDUMPABLE,
	CHILD_CHURN,		/* change a range for .arg ms, as .mode says */
	CHILD_EXEC,		/* the new image answers with its landing page */
	CHILD_EXIT,		/* answer, wait .delay_us, then exit */
	CHILD_EUID,		/* answer geteuid() */
	CHILD_AT_SECURE,	/* answer getauxval(AT_SECURE) */
	CHILD_THREAD,		/* start a thread that sleeps; answer its tid */
	CHILD_LEADER_EXIT,	/* a new thread serves (its tid the answer),
				 * the main thread exits
				 */
	CHILD_TRACEME,		/* PTRACE_TRACEME, then stop; answer once
				 * continued
				 */
};

struct child_request {
	uint32_t op;
	int32_t prot;
	int32_t flags;		/* mmap() flags */
	int32_t open_flags;	/* for a mapping of .path */
	uint64_t addr;		/* mmap() hint, or the range to act on */
	uint64_t len;
	uint64_t offset;	/* file offset of a mapping */
	uint64_t arg;		/* pattern seed, byte, milliseconds, exec mode */
	int32_t dev;		/* CHILD_EXEC: an inherited /dev/zxmem fd, or 0 */
	int32_t advice;		/* CHILD_MAP_FILLED: madvise() before the fill */
	uint64_t align;		/* CHILD_MAP_FILLED: of the address, or 0 */
	uint32_t mode;		/* CHILD_CHURN: 0, or CHURN_* */
	uint32_t nset;		/* CHILD_OUTSIDE: bytes in .set */
	uint64_t seed;		/* CHILD_CHURN: of its random choices */
	uint64_t delay_us;	/* CHILD_EXIT, EXEC_ANSWER_FIRST: wait first */
	uint8_t set[8];		/* CHILD_OUTSIDE: the bytes that may be there */
	char path[64];		/* file to map or exec; "" for anonymous memory */
};

/*
 * CHILD_CHURN's .mode: 0 unmaps and remaps the whole range, over and
 * over; else each step picks random pages of it and one of these, until
 * .arg ms have passed, makes it all PROT_READ | PROT_WRITE again and
 * answers how many steps it took.  An unmapped range comes back empty
 * (zero); a PROT_NONE or read-only one keeps its bytes.
 */
#define CHURN_UNMAP		0x1	/* munmap(), then map it again */
#define CHURN_PROTECT		0x2	/* mprotect() to a random protection */
#define CHURN_DONTNEED		0x4	/* madvise(MADV_DONTNEED) */

/*
 * CHILD_EXEC's .arg: keep writing our own landing page until the exec,
 * through .dev (a child that is not root cannot open /dev/zxmem itself).
 */
#define EXEC_WHILE_WRITING_SELF	1
/*
 * Or: answer 0 at once, wait .delay_us, then exec; the new image's
 * landing page, the second answer, says that the exec is done.
 */
#define EXEC_ANSWER_FIRST	2

/* A page the exec'd image offers, to show that writes reach the new mm. */
extern uint8_t landing_page[4096];

/* The parent's side of a child. */
struct target {
	pid_t pid;		/* 0 once reaped */
	pid_t tid;		/* a second thread, once asked for */
	int pidfd;
	int sk;
};

#define TARGET_NONE ((struct target){ .pidfd = -1, .sk = -1 })

int target_spawn(struct target *t);
/*
 * The same, with @prepare(@arg) run in the child before it serves: it
 * maps what the child must hold.  A non-zero answer of it fails the spawn
 * (the child exits).
 */
int target_spawn_prepared(struct target *t, int (*prepare)(void *arg),
			  void *arg);
/* Close our ends and reap the child; return its exit status. */
int target_reap(struct target *t);
/* SIGKILL it and reap it, and every thread of it that we trace. */
void target_kill(struct target *t);
/* Become @tid's tracer (0: the main thread); this thread gets the right. */
int target_trace(struct target *t);
int target_trace_thread(struct target *t, pid_t tid);
/* Stop a PTRACE_SEIZEd tracee thread @tid and let it go. */
int target_detach(struct target *t, pid_t tid);
int target_send(struct target *t, const struct child_request *req);
int64_t target_answer(struct target *t);
/* Has an answer arrived that target_answer() would return at once? */
bool target_answered(struct target *t);
int64_t target_ask(struct target *t, const struct child_request *req);
int64_t target_simple(struct target *t, enum child_op op);
/* Map @len private read-write bytes holding the pattern for @seed. */
int64_t target_map_anon(struct target *t, size_t len, uint8_t seed);
int64_t target_map_file(struct target *t, const char *path, int open_flags,
			int prot, int flags, size_t len);
/* The BIOS area through /dev/mem (VM_IO | VM_PFNMAP), at @addr if not 0. */
int64_t target_map_io(struct target *t, uint64_t addr, size_t len);
int64_t target_unmap(struct target *t, uint64_t addr, size_t len);
int64_t target_protect(struct target *t, uint64_t addr, size_t len, int prot);
int64_t target_fill(struct target *t, uint64_t addr, size_t len, uint8_t seed);
/* map_filled() in the child; the answer is the address. */
int64_t target_map_filled(struct target *t, uint64_t at, size_t len,
			  size_t align, int advice, uint8_t byte);
int64_t target_memset(struct target *t, uint64_t addr, size_t len,
		      uint8_t byte);
/* What the child sees: bytes of [addr, addr + len) none of @set[@nr]. */
int64_t target_outside(struct target *t, uint64_t addr, size_t len,
		       const uint8_t *set, int nr);
/* What the child itself sees: bytes of [addr, addr + len) not pattern @seed. */
int64_t target_mismatches(struct target *t, uint64_t addr, size_t len,
			  uint8_t seed);
int target_copy_out(struct target *t, uint64_t addr, size_t len, void *out);
/* Have the child exit, and wait until it is a zombie; don't reap it. */
int target_exit_unreaped(struct target *t);
/*
 * After a twin's call that copied @len bytes at @addr: the bytes that did
 * not land, in the target (a write: SEED_NEW) or in what was read.
 */
int64_t twin_mismatches(struct target *t, bool write,
			const struct transfer *done, uint64_t addr, size_t len);

#ifdef __KSELFTEST_HARNESS_H
/*
 * For the harness programs.  A helper that may SKIP returns false after
 * SKIP(), and its caller returns: the 6.1 harness goes on with the body
 * after a SKIP() that did not return from it, and a later failure would
 * then be reported as a skip.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#define ASSERT_STATUS(expected, seen) do {				\
	zx_status_t _want = (expected), _status = (seen);		\
	ASSERT_EQ(_want, _status)					\
		TH_LOG("got %s, want %s", zx_status_get_string(_status), \
		       zx_status_get_string(_want));			\
} while (0)

/* The kernel answered through status, not through ioctl()'s errno. */
#define ASSERT_ANSWERED(t) do {						\
	struct transfer _t = (t);					\
	ASSERT_EQ(0, _t.ret)						\
		TH_LOG("ioctl() failed: %s", strerror(_t.err));	\
} while (0)

/* A refusal as the ABI states it: status, and actual left as it was. */
#define ASSERT_REFUSED(expected, t) do {				\
	struct transfer _r = (t);					\
	ASSERT_ANSWERED(_r);						\
	ASSERT_STATUS(expected, _r.status);				\
	ASSERT_EQ(ACTUAL_UNTOUCHED, _r.actual);				\
} while (0)

/* A success as the ABI states it: ZX_OK, and actual is @len bytes. */
#define ASSERT_COPIED(len, t) do {					\
	struct transfer _c = (t);					\
	ASSERT_ANSWERED(_c);						\
	ASSERT_STATUS(ZX_OK, _c.status);				\
	ASSERT_EQ((__u64)(len), _c.actual);				\
} while (0)

static inline void set_debugging_syscalls(struct __test_metadata *_metadata,
					  int on)
{
	ASSERT_EQ(0, zxmem_param_set(on)) {
		TH_LOG("cannot write %s: %s", ZXMEM_PARAM_PATH,
		       strerror(errno));
	}
	ASSERT_EQ(on, zxmem_param_get());
}

static inline void *map_buffer(struct __test_metadata *_metadata, size_t len)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	/* Not ASSERT_NE(): the harness prints pointers as integers of 64 bits. */
	ASSERT_TRUE(buf != MAP_FAILED);
	return buf;
}

/* @len bytes of ours holding the pattern for @seed. */
static inline void *pattern_buffer(struct __test_metadata *_metadata,
				   size_t len, uint8_t seed)
{
	void *buf = map_buffer(_metadata, len);

	fill_pattern(buf, len, seed);
	return buf;
}

/* A page of ours that is no longer mapped. */
static inline void *unmapped_buffer(struct __test_metadata *_metadata)
{
	void *buf = map_buffer(_metadata, page_size());

	ASSERT_EQ(0, munmap(buf, page_size()));
	return buf;
}

/*
 * Write @len bytes of the pattern for @seed to @vaddr, or read @len bytes
 * there and count those that are not the pattern for @seed.  The ioctl()
 * must answer through status: errno is only for EFAULT and ENOTTY.
 */
static inline struct transfer pattern_call(struct __test_metadata *_metadata,
					   int dev, bool write, int pidfd,
					   uint64_t vaddr, size_t len,
					   uint8_t seed)
{
	void *buf = map_buffer(_metadata, len);
	struct transfer t;

	if (write)
		fill_pattern(buf, len, seed);
	t = raw_call(dev, write, pidfd, vaddr, buf, len);
	if (!write && t.ret == 0 && t.status == ZX_OK && t.actual <= len)
		t.mismatches = count_mismatches(buf, t.actual, seed);
	munmap(buf, len);
	ASSERT_ANSWERED(t);
	return t;
}

#define write_pattern(_metadata, dev, pidfd, vaddr, len, seed) \
	pattern_call(_metadata, dev, true, pidfd, vaddr, len, seed)
#define read_pattern(_metadata, dev, pidfd, vaddr, len, seed) \
	pattern_call(_metadata, dev, false, pidfd, vaddr, len, seed)

/*
 * One call of a write/read twin: a write of the pattern SEED_NEW (over a
 * region that holds SEED_OLD), or a read that expects SEED_OLD.
 */
static inline struct transfer twin_call(struct __test_metadata *_metadata,
					int dev, bool write, int pidfd,
					uint64_t vaddr, size_t len)
{
	return pattern_call(_metadata, dev, write, pidfd, vaddr, len,
			    write ? SEED_NEW : SEED_OLD);
}

/*
 * A twin's call (@write: of SEED_NEW; else a read) at @vaddr that the
 * kernel refuses with @expected, leaving actual as it was.
 */
static inline void assert_call_refused(struct __test_metadata *_metadata,
				       int dev, bool write, int pidfd,
				       uint64_t vaddr, size_t len,
				       zx_status_t expected)
{
	struct transfer done = twin_call(_metadata, dev, write, pidfd, vaddr,
					 len);

	ASSERT_EQ(expected, done.status) {
		TH_LOG("a %s: got %s, want %s", write ? "write" : "read",
		       zx_status_get_string(done.status),
		       zx_status_get_string(expected));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, done.actual);
}

/* The same for a write and then a read. */
static inline void assert_both_refused(struct __test_metadata *_metadata,
				       int dev, int pidfd, uint64_t vaddr,
				       size_t len, zx_status_t expected)
{
	assert_call_refused(_metadata, dev, true, pidfd, vaddr, len, expected);
	assert_call_refused(_metadata, dev, false, pidfd, vaddr, len,
			    expected);
}

/* @len bytes of the pattern for @seed in @t, traced first if @trace. */
static inline int64_t target_region(struct __test_metadata *_metadata,
				    struct target *t, bool trace, size_t len,
				    uint8_t seed)
{
	int64_t addr;

	if (trace)
		ASSERT_EQ(0, target_trace(t));
	addr = target_map_anon(t, len, seed);
	ASSERT_LT(0, addr);
	return addr;
}

static inline void fixture_start(struct __test_metadata *_metadata,
				 struct target *target, int *dev,
				 int *saved_param)
{
	*target = TARGET_NONE;
	*dev = -1;
	*saved_param = -1;
	/* run.sh has loaded zxmem.ko: a missing device is a failure. */
	*dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *dev) {
		TH_LOG("open %s: %s", ZXMEM_DEVICE_PATH, strerror(errno));
	}
	ASSERT_EQ(0, target_spawn(target)) {
		TH_LOG("cannot start the child: %s", strerror(errno));
	}
	*saved_param = zxmem_param_get();
	ASSERT_LE(0, *saved_param) {
		TH_LOG("cannot read %s", ZXMEM_PARAM_PATH);
	}
	/* Most tests write; the tests of the gate switch it off again. */
	set_debugging_syscalls(_metadata, 1);
}

static inline void fixture_stop(struct __test_metadata *_metadata,
				struct target *target, int dev,
				int saved_param)
{
	if (saved_param >= 0)
		EXPECT_EQ(0, zxmem_param_set(saved_param));
	if (dev >= 0)
		close(dev);
	/* The child exits 0 when its socket closes; anything else is a crash. */
	EXPECT_EQ(0, target_reap(target));
}

/*
 * Segment @s of a batched call: @size bytes at @vaddr from or to the
 * caller's @buffer (@old: an exchange's), its out fields preset.  The
 * addresses are the ABI's 64-bit fields as given: a 32-bit caller can
 * set their upper halves.
 */
static inline void seg_init(struct zxmem_segment *s, uint64_t vaddr,
			    uint64_t buffer, uint64_t old, uint64_t size)
{
	memset(s, 0, sizeof(*s));
	s->vaddr = vaddr;
	s->buffer = buffer;
	s->old = old;
	s->size = size;
	s->actual = ACTUAL_UNTOUCHED;
	s->status = STATUS_UNTOUCHED;
}

static inline void seg_set(struct zxmem_segment *s, uint64_t vaddr,
			   const void *buf, uint64_t size)
{
	seg_init(s, vaddr, (uintptr_t)buf, 0, size);
}

/*
 * The batched ABI's layout, the same for 32- and 64-bit callers: every
 * size, offset and ioctl number (vec_test checks it 64-bit, compat_test
 * 32-bit).
 */
#define ASSERT_VEC_LAYOUT() do {					\
	ASSERT_EQ(48u, sizeof(struct zxmem_segment));			\
	ASSERT_EQ(0u, offsetof(struct zxmem_segment, vaddr));		\
	ASSERT_EQ(8u, offsetof(struct zxmem_segment, buffer));		\
	ASSERT_EQ(16u, offsetof(struct zxmem_segment, old));		\
	ASSERT_EQ(24u, offsetof(struct zxmem_segment, size));		\
	ASSERT_EQ(32u, offsetof(struct zxmem_segment, actual));		\
	ASSERT_EQ(40u, offsetof(struct zxmem_segment, status));		\
	ASSERT_EQ(44u, offsetof(struct zxmem_segment, reserved));	\
	ASSERT_EQ(40u, sizeof(struct zxmem_vec));			\
	ASSERT_EQ(0u, offsetof(struct zxmem_vec, segments));		\
	ASSERT_EQ(8u, offsetof(struct zxmem_vec, count));		\
	ASSERT_EQ(12u, offsetof(struct zxmem_vec, handle));		\
	ASSERT_EQ(16u, offsetof(struct zxmem_vec, flags));		\
	ASSERT_EQ(20u, offsetof(struct zxmem_vec, status));		\
	ASSERT_EQ(24u, offsetof(struct zxmem_vec, done));		\
	ASSERT_EQ(28u, offsetof(struct zxmem_vec, reserved));		\
	ASSERT_EQ(32u, offsetof(struct zxmem_vec, actual));		\
	ASSERT_EQ(0xc028ba02u, ZXMEM_IOC_WRITE_MEMORY_VEC);		\
	ASSERT_EQ(0xc028ba03u, ZXMEM_IOC_READ_MEMORY_VEC);		\
	ASSERT_EQ(1024, ZXMEM_MAX_SEGMENTS);				\
} while (0)

#endif /* __KSELFTEST_HARNESS_H */

#endif /* _ZXMEM_COMMON_H */
