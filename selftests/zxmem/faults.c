// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for zxmem, on a kernel with CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC (make check-debug).
 *
 * failslab and fail_page_alloc are set to fail at random, for tasks that
 * asked for it only; this process asks (/proc/thread-self/make-it-fail)
 * just around its zxmem calls, so every allocation the module's path makes
 * may fail, and nothing else of the test does.  Every knob must take its
 * value (a fail_page_alloc that still spares order-0 or user pages would
 * fail only what the module never asks for): a write that does not is a
 * failure.  Their "times" is a finite count, which the kernel decrements
 * once per injected failure, so reading it around a call says how many
 * failures that call met.  The calls write and read anonymous memory and
 * an executable mapping (whose writes sync the instruction cache); every
 * sixth call's buffer has just been dropped, so that the kernel must
 * allocate its pages, and may fail to, while it copies into the caller's
 * own memory.
 *
 * Every fourth call is batched (ZXMEM_IOC_*_MEMORY_VEC): its range in
 * up to four segments, and for a write EXCHANGE, whose old bytes land in
 * a buffer dropped with the others.  Each segment is judged as a single
 * call, its old bytes against what the target held; the call as a whole
 * may answer ZX_ERR_NO_MEMORY only with nothing changed.
 *
 * A call that met no failure must copy all of its bytes.  One that met
 * some must answer ZX_OK with 1 to all of its bytes, right (the spec's
 * step 14: ZX_ERR_NO_MEMORY, not ZX_OK, when not one byte could be
 * copied), or ZX_ERR_NO_MEMORY with the target unchanged
 * (ZX_ERR_INVALID_ARGS would blame the caller's buffer for the kernel's
 * failed allocation).  Fewer than MIN_INJECTED failures of either kind,
 * or fewer than MIN_NO_MEMORY answers ZX_ERR_NO_MEMORY, fail
 * faults_were_injected.  kmemleak, run after, shows that nothing leaked.
 *
 * Usage: faults [CALLS [MIN_INJECTED [MIN_NO_MEMORY]]]
 * (defaults 3000, 300, 20: make check-debug measured, in 3000 calls,
 * 9804 failslab and 1952 fail_page_alloc failures and 75 answers
 * ZX_ERR_NO_MEMORY)
 */

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <zircon/syscalls.h>

#include "common.h"

#define DEBUGFS		"/sys/kernel/debug"
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define REGION		(256 * 1024)

#define TIMES		1000000000L	/* failures left to inject */

static const char *const attrs[2] = { "failslab", "fail_page_alloc" };

/*
 * Fail about one allocation in three, for tasks that asked.  By default
 * both spare allocations that may sleep, and fail_page_alloc spares
 * order 0 and user pages (__GFP_HIGHMEM): the module's, and the faults
 * its copies take, are exactly those.  failslab has neither of the last
 * two knobs.  Returns the knob that could not be set, or NULL.
 */
static const char *arm(const char *attr, bool page_alloc)
{
	/* The filter first, the probability last: nobody else may fail. */
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" },
		{ "interval", "1" },
		{ "times", "1000000000" },	/* TIMES */
		{ "space", "0" },
		{ "verbose", "0" },
		{ "ignore-gfp-wait", "N" },
		{ "probability", "30" },
		/* fail_page_alloc only */
		{ "min-order", "0" },
		{ "ignore-gfp-highmem", "N" },
	};
	static char path[256];
	unsigned int i, nr = ARRAY_SIZE(knobs) - (page_alloc ? 0 : 2);

	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr,
			 knobs[i][0]);
		if (write_text(path, 0, knobs[i][1]))
			return path;
	}
	return NULL;
}

static void disarm(const char *attr)
{
	char path[256];

	snprintf(path, sizeof(path), DEBUGFS "/%s/probability", attr);
	write_text(path, 0, "0");
	snprintf(path, sizeof(path), DEBUGFS "/%s/task-filter", attr);
	write_text(path, 0, "N");
}

/* Failures attrs[@i] may still inject (its "times"), or -1. */
static long left(int i)
{
	return zxmem_fault_times_left(attrs[i]);
}

/*
 * Switching it off is itself a write to /proc that may be failed while it
 * is on: retry until it goes through.
 */
static void make_it_fail(int on)
{
	int tries;

	for (tries = 0; tries < 10000; tries++) {
		if (!write_text("/proc/thread-self/make-it-fail", 0,
				on ? "1" : "0"))
			return;
		if (errno != ENOMEM)
			break;
	}
	perror("make-it-fail");
	exit(2);
}

/* The answers of calls and segments, and how many were wrong. */
struct tally {
	unsigned long ok, short_ok, no_memory, other, wrong;
};

/*
 * One range's answer: ZX_OK with all its bytes (with 1 or more when a
 * failure was injected), the bytes where they belong and, for an
 * exchange, the target's old ones in @old; or ZX_ERR_NO_MEMORY after a
 * failure, with the range unchanged.
 */
static void judge_range(struct tally *t, zx_status_t status, size_t actual,
			size_t len, long hits, bool read, const uint8_t *target,
			const uint8_t *buf, const uint8_t *shadow,
			const uint8_t *old)
{
	if (status == ZX_OK && actual >= 1 && actual <= len &&
	    (hits || actual == len)) {
		/* [0, actual) moved; the rest of the target as it was */
		t->ok++;
		t->short_ok += actual < len;
		if (memcmp(buf, target, actual) ||
		    memcmp(shadow + actual, target + actual, len - actual) ||
		    (read && memcmp(shadow, target, actual)) ||
		    (old && memcmp(old, shadow, actual)))
			t->wrong++;
	} else if (status == ZX_ERR_NO_MEMORY && hits) {
		t->no_memory++;
		if (memcmp(shadow, target, len))
			t->wrong++;
	} else {
		if (++t->other <= 20)
			printf("# %s: %s, actual %zu of %zu, after %ld injected failures\n",
			       read ? "read" : "write",
			       zx_status_get_string(status), actual, len,
			       hits);
	}
}

/*
 * One batched call over [@target, @target + @len): up to four segments,
 * a write exchanging into @old.  Returns the call's status, and in @nr
 * the segments that hold one of their own.
 */
static zx_status_t batched_call(zx_handle_t self, bool read, uint8_t *target,
				uint8_t *buf, uint8_t *old, size_t len,
				struct zxmem_segment *segs, unsigned int *nr)
{
	struct zxmem_vec vec = {
		.segments = (uintptr_t)segs,
		.handle = self,
		.flags = read ? 0 : ZXMEM_VEC_EXCHANGE,
		.status = ZX_ERR_INTERNAL,
	};
	size_t piece;
	unsigned int k;

	*nr = len >= 4 ? 4 : 1;
	piece = len / *nr;
	for (k = 0; k < *nr; k++) {
		segs[k] = (struct zxmem_segment){
			.vaddr = (uintptr_t)target + k * piece,
			.buffer = (uintptr_t)buf + k * piece,
			.old = read ? 0 : (uintptr_t)old + k * piece,
			.size = k + 1 < *nr ? piece : len - k * piece,
		};
	}
	vec.count = *nr;
	if (ioctl(zxmem_device_fd(), read ? ZXMEM_IOC_READ_MEMORY_VEC :
					    ZXMEM_IOC_WRITE_MEMORY_VEC, &vec))
		return ZX_ERR_INTERNAL;
	/* A call refused as a whole says so with done 0. */
	if (vec.status == ZX_OK && vec.done != *nr)
		return ZX_ERR_INTERNAL;
	*nr = vec.status == ZX_OK ? *nr : 0;
	return vec.status;
}

/*
 * A regression test, for a batched read whose first segment was pinned
 * only in part and then retried after a fault on its buffer: the retry
 * pinned into the pool's first entries, where the next segment's pages
 * were, so that segment copied from the first one's pages (unpinned by
 * then) and unpinned them again (a freed page still mapped, with more
 * mappings).  Exactly two page allocations fail, the next ones the call
 * makes: the page table of the first segment's second page (its mapping
 * straddles a 2 MiB boundary there), so its pin stops after one page,
 * and then the first page of its buffer, untouched till then.  The second
 * segment must come back with its own bytes.  Each try maps its own
 * range, at a boundary of its own, so the page table is always new.
 */
static bool retry_keeps_its_pages_once(zx_handle_t self)
{
	static const char *const knobs[][2] = {
		{ "task-filter", "Y" }, { "interval", "1" }, { "space", "0" },
		{ "verbose", "0" }, { "ignore-gfp-wait", "N" },
		{ "min-order", "0" }, { "ignore-gfp-highmem", "N" },
		{ "times", "2" }, { "probability", "100" },
	};
	const size_t page = 4096;
	uint8_t *file_map, *own, *buf0, *buf1, *hint, *fill;
	struct zxmem_segment segs[2], warm[2];
	struct zxmem_vec vec = { .count = 2, .handle = self };
	char path[256];
	uintptr_t edge;
	unsigned int i;
	int memfd, ret;
	bool ok;

	memfd = memfd_create("zxmem-retry", 0);
	hint = mmap(NULL, 8 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (memfd < 0 || ftruncate(memfd, 4 * page) || hint == MAP_FAILED)
		return false;
	/* The file's pages cached, the mapping's first page present. */
	fill = malloc(4 * page);
	if (!fill)
		return false;
	memset(fill, 'R', 4 * page);
	ret = pwrite(memfd, fill, 4 * page, 0) != (ssize_t)(4 * page);
	free(fill);
	if (ret)
		return false;
	/* Inside a reservation of its own: no other mapping shares its tables. */
	edge = ((uintptr_t)hint + (4 << 20)) & ~((2UL << 20) - 1);
	file_map = mmap((void *)(edge - page), 4 * page, PROT_READ,
			MAP_SHARED | MAP_FIXED, memfd, 0);
	own = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf1 = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf0 = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (file_map == MAP_FAILED || own == MAP_FAILED ||
	    buf1 == MAP_FAILED || buf0 == MAP_FAILED)
		return false;
	(void)*(volatile uint8_t *)file_map;
	memset(own, 'Q', 3 * page);
	buf0[5 * page] = 1;	/* its page table, not its first page */

	segs[0] = (struct zxmem_segment){ .vaddr = (uintptr_t)file_map,
		.buffer = (uintptr_t)buf0, .size = 4 * page };
	segs[1] = (struct zxmem_segment){ .vaddr = (uintptr_t)own,
		.buffer = (uintptr_t)buf1, .size = 3 * page };
	/*
	 * Once without faults, the second segment twice: what else a call
	 * of two segments allocates is in place.
	 */
	warm[0] = segs[1];
	warm[1] = segs[1];
	vec.segments = (uintptr_t)warm;
	if (ioctl(zxmem_device_fd(), ZXMEM_IOC_READ_MEMORY_VEC, &vec) ||
	    vec.status != ZX_OK)
		return false;
	memset(buf1, 0xee, 3 * page);
	vec.segments = (uintptr_t)segs;

	disarm(attrs[0]);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attrs[1],
			 knobs[i][0]);
		if (write_text(path, 0, knobs[i][1]))
			return false;
	}
	make_it_fail(1);
	ret = ioctl(zxmem_device_fd(), ZXMEM_IOC_READ_MEMORY_VEC, &vec);
	make_it_fail(0);
	disarm(attrs[1]);

	ok = !ret && vec.status == ZX_OK && vec.done == 2 &&
	     segs[1].status == ZX_OK && segs[1].actual == 3 * page;
	for (i = 0; ok && i < 3 * page; i++)
		ok = buf1[i] == 'Q';
	printf("# retried segment: %s, %llu bytes; the next one: %s, %llu bytes, %s\n",
	       zx_status_get_string(segs[0].status),
	       (unsigned long long)segs[0].actual,
	       zx_status_get_string(segs[1].status),
	       (unsigned long long)segs[1].actual,
	       ok ? "its own bytes" : "NOT its own bytes");
	munmap(hint, 8 << 20);
	munmap(own, 3 * page);
	munmap(buf1, 3 * page);
	munmap(buf0, 8 * page);
	close(memfd);
	return ok;
}

/* The two failures do not always land where they must: four tries. */
static bool retry_keeps_its_pages(zx_handle_t self)
{
	bool ok = true;
	int i;

	for (i = 0; i < 4; i++)
		ok &= retry_keeps_its_pages_once(self);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned long calls = argc > 1 ? strtoul(argv[1], NULL, 0) : 3000;
	unsigned long min_injected = argc > 2 ? strtoul(argv[2], NULL, 0) : 300;
	unsigned long min_no_memory = argc > 3 ? strtoul(argv[3], NULL, 0) : 20;
	unsigned long met = 0, injected[2] = { 0, 0 }, batched = 0, n;
	uint8_t *data, *code, *buf, *old, *shadow;
	struct zxmem_segment segs[4];
	struct tally t = { 0 };
	const char *knob;
	bool retry_ok;
	zx_handle_t self;
	int i;

	printf("1..4\n");
	for (i = 0; i < 2; i++) {
		knob = arm(attrs[i], i == 1);
		if (knob) {
			printf("# cannot set %s: %s\n", knob, strerror(errno));
			printf("not ok 1 faults_give_ok_or_no_memory # fault injection cannot be set up\n"
			       "not ok 2 faults_leave_memory_consistent # fault injection cannot be set up\n"
			       "not ok 3 faults_were_injected # fault injection cannot be set up\n"
			       "not ok 4 batched_retry_keeps_its_own_pages # fault injection cannot be set up\n");
			return 1;
		}
		if (left(i) != TIMES) {
			printf("Bail out! %s/%s/times does not read back %ld\n",
			       DEBUGFS, attrs[i], TIMES);
			return 1;
		}
	}

	self = zxmem_pidfd_open(getpid());
	data = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code = mmap(NULL, REGION, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	old = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shadow = malloc(REGION);
	if ((int)self < 0 || data == MAP_FAILED || code == MAP_FAILED ||
	    buf == MAP_FAILED || old == MAP_FAILED || !shadow) {
		printf("Bail out! setup: %s\n", strerror(errno));
		return 1;
	}

	/* Open /dev/zxmem before any fault is armed for us. */
	if (zx_process_read_memory(self, (uintptr_t)data, buf, 8, NULL)) {
		printf("Bail out! zxmem does not answer\n");
		return 1;
	}

	for (n = 0; n < calls; n++) {
		uint8_t *target = n & 1 ? code : data;
		size_t len = (size_t[]){ 8, 100, 4096, 5000, 65536,
					 REGION }[n % 6];
		bool read = n % 3 == 2, vec = n % 4 == 3;
		size_t actual = 0;
		zx_status_t status;
		long before[2], hits = 0;
		unsigned int nr = 0, k;

		memcpy(shadow, target, len);
		fill_pattern(buf, len, n);
		if (n % 6 == 5 && (madvise(buf, REGION, MADV_DONTNEED) ||
				   madvise(old, REGION, MADV_DONTNEED))) {
			printf("Bail out! madvise: %s\n", strerror(errno));
			return 1;
		}

		for (i = 0; i < 2; i++)
			before[i] = left(i);
		make_it_fail(1);
		if (vec)
			status = batched_call(self, read, target, buf, old, len,
					      segs, &nr);
		else if (read)
			status = zx_process_read_memory(self,
							(uintptr_t)target,
							buf, len, &actual);
		else
			status = zx_process_write_memory(self,
							 (uintptr_t)target,
							 buf, len, &actual);
		make_it_fail(0);
		for (i = 0; i < 2; i++) {
			long after = left(i);

			if (before[i] <= 0 || after < 0 || after > before[i]) {
				printf("Bail out! %s/times reads %ld, then %ld\n",
				       attrs[i], before[i], after);
				return 1;
			}
			injected[i] += before[i] - after;
			hits += before[i] - after;
		}
		met += hits > 0;

		if (!vec) {
			judge_range(&t, status, actual, len, hits, read, target,
				    buf, shadow, NULL);
			continue;
		}
		batched++;
		/* Refused as a whole: its state could not be allocated. */
		if (status != ZX_OK)
			judge_range(&t, status, 0, len, hits, read, target, buf,
				    shadow, NULL);
		for (k = 0; k < nr; k++) {
			size_t at = segs[k].vaddr - (uintptr_t)target;

			judge_range(&t, segs[k].status, segs[k].actual,
				    segs[k].size, hits, read, target + at,
				    buf + at, shadow + at,
				    read ? NULL : old + at);
		}
	}
	for (i = 0; i < 2; i++)
		disarm(attrs[i]);

	printf("# %lu calls, %lu of them met injected failures (failslab %lu, fail_page_alloc %lu; floor %lu each)\n",
	       calls, met, injected[0], injected[1], min_injected);
	printf("# %lu of the calls batched; answers of calls and segments: %lu ZX_OK (%lu short), %lu ZX_ERR_NO_MEMORY (floor %lu), %lu other, %lu with wrong bytes\n",
	       batched, t.ok, t.short_ok, t.no_memory, min_no_memory, t.other,
	       t.wrong);
	printf("%s 1 faults_give_ok_or_no_memory\n", t.other ? "not ok" : "ok");
	printf("%s 2 faults_leave_memory_consistent\n",
	       t.wrong ? "not ok" : "ok");
	/* a run where nothing failed tested nothing */
	n = injected[0] >= min_injected && injected[1] >= min_injected &&
	    t.no_memory >= min_no_memory;
	printf("%s 3 faults_were_injected\n", n ? "ok" : "not ok");
	retry_ok = retry_keeps_its_pages(self);
	printf("%s 4 batched_retry_keeps_its_own_pages\n",
	       retry_ok ? "ok" : "not ok");
	return t.other || t.wrong || !n || !retry_ok;
}
