// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for zxmem, on a kernel with CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC (make check-debug).
 *
 * failslab and fail_page_alloc are set to fail at random, for tasks that
 * asked for it only; this process asks (/proc/thread-self/make-it-fail)
 * just around its zxmem calls, so every allocation the module's path makes
 * may fail, and nothing else of the test does.  The calls go through both
 * copy paths: pinned pages (anonymous memory) and access_process_vm() with
 * a kmalloc()'d bounce buffer (an executable mapping).  Every other read
 * lands in a buffer whose pages were just dropped, so that the kernel must
 * allocate them, and may fail to, while it copies into the caller's own
 * memory.  Every call must answer ZX_OK with the right bytes, or
 * ZX_ERR_NO_MEMORY with the target unchanged (ZX_ERR_INVALID_ARGS would
 * blame the caller's buffer for the kernel's failed allocation); kmemleak,
 * run after, shows that nothing leaked.
 *
 * Usage: faults [CALLS]   (default 2000)
 */

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <zircon/syscalls.h>

#include "zxmem_selftest.h"

#define DEBUGFS		"/sys/kernel/debug"
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define REGION		(256 * 1024)

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(value);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, value, len) == len;
	if (!ok && !errno)
		errno = EIO;
	close(fd);
	return ok ? 0 : -1;
}

/* Fail about one allocation in three, for tasks that asked, forever. */
static int arm(const char *attr)
{
	static const char *const knobs[][2] = {
		{ "probability", "30" },
		{ "interval", "1" },
		{ "times", "-1" },
		{ "verbose", "0" },
		{ "task-filter", "Y" },
	};
	char path[256];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), DEBUGFS "/%s/%s", attr,
			 knobs[i][0]);
		if (write_file(path, knobs[i][1]))
			return -1;
	}
	/*
	 * By default both spare allocations that may sleep, and
	 * fail_page_alloc spares order 0 and user pages (__GFP_HIGHMEM):
	 * the module's, and the faults its copies take, are exactly those.
	 * failslab has neither of the last two knobs.
	 */
	snprintf(path, sizeof(path), DEBUGFS "/%s/ignore-gfp-wait", attr);
	if (write_file(path, "N"))
		return -1;
	snprintf(path, sizeof(path), DEBUGFS "/%s/min-order", attr);
	write_file(path, "0");
	snprintf(path, sizeof(path), DEBUGFS "/%s/ignore-gfp-highmem", attr);
	write_file(path, "N");
	return 0;
}

/*
 * Switching it off is itself a write to /proc that may be failed while it
 * is on: retry until it goes through.
 */
static void make_it_fail(int on)
{
	int tries;

	for (tries = 0; tries < 10000; tries++) {
		if (!write_file("/proc/thread-self/make-it-fail",
				on ? "1" : "0"))
			return;
		if (errno != ENOMEM)
			break;
	}
	perror("make-it-fail");
	exit(2);
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7);
}

int main(int argc, char **argv)
{
	unsigned long calls = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	unsigned long ok = 0, no_memory = 0, other = 0, wrong = 0, n;
	uint8_t *data, *code, *buf, *shadow;
	zx_handle_t self;

	if (access(DEBUGFS "/failslab", F_OK) ||
	    access(DEBUGFS "/fail_page_alloc", F_OK)) {
		printf("1..1\nok 1 fault_injection # SKIP no failslab or fail_page_alloc\n");
		return 0;
	}
	if (arm("failslab") || arm("fail_page_alloc")) {
		perror("arming fault injection");
		return 2;
	}

	self = zxmem_pidfd_open(getpid());
	data = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code = mmap(NULL, REGION, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shadow = malloc(REGION);
	if ((int)self < 0 || data == MAP_FAILED || code == MAP_FAILED ||
	    buf == MAP_FAILED || !shadow) {
		perror("setup");
		return 2;
	}

	/* Open /dev/zxmem before any fault is armed for us. */
	if (zx_process_read_memory(self, (uintptr_t)data, buf, 8, NULL)) {
		fprintf(stderr, "zxmem does not answer\n");
		return 2;
	}

	for (n = 0; n < calls; n++) {
		uint8_t *target = n & 1 ? code : data;
		size_t len = (size_t[]){ 8, 100, 4096, 5000, 65536,
					 REGION }[n % 6];
		size_t actual = 0;
		zx_status_t status;

		memcpy(shadow, target, len);
		fill(buf, len, n);
		if (n % 6 == 5 && madvise(buf, REGION, MADV_DONTNEED)) {
			perror("madvise");
			return 2;
		}

		make_it_fail(1);
		if (n % 3 == 2)
			status = zx_process_read_memory(self,
							(uintptr_t)target,
							buf, len, &actual);
		else
			status = zx_process_write_memory(self,
							 (uintptr_t)target,
							 buf, len, &actual);
		make_it_fail(0);

		if (status == ZX_OK && actual <= len) {
			bool read = n % 3 == 2;

			/* [0, actual) moved; the rest of the target as it was */
			ok++;
			if (memcmp(buf, target, actual) ||
			    memcmp(shadow + actual, target + actual,
				   len - actual) ||
			    (read && memcmp(shadow, target, actual)))
				wrong++;
		} else if (status == ZX_ERR_NO_MEMORY) {
			no_memory++;
			if (memcmp(shadow, target, len))
				wrong++;
		} else {
			other++;
			printf("# call %lu: %s, actual %zu of %zu\n", n,
			       zx_status_get_string(status), actual, len);
		}
	}

	printf("# %lu calls with faults injected: %lu ZX_OK, %lu ZX_ERR_NO_MEMORY, %lu other, %lu with wrong bytes\n",
	       calls, ok, no_memory, other, wrong);
	printf("1..3\n");
	printf("%s 1 faults_give_ok_or_no_memory\n", other ? "not ok" : "ok");
	printf("%s 2 faults_leave_memory_consistent\n", wrong ? "not ok" : "ok");
	/* a run where nothing failed tested nothing */
	printf("%s 3 faults_were_injected\n", no_memory ? "ok" : "not ok");
	return other || wrong || !no_memory;
}
