/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What zxmem's selftest programs share: the module parameter, read and
 * switched through sysfs, pidfd_open(2), which older C libraries lack, and
 * the fault-injection counter the fuzzer and faults read.
 */
#ifndef _ZXMEM_SELFTEST_H
#define _ZXMEM_SELFTEST_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define ZXMEM_PARAM_PATH \
	"/sys/module/zxmem/parameters/enable_debugging_syscalls"

/* enable_debugging_syscalls: 1, 0, or -1 if it cannot be read. */
static inline int zxmem_param_get(void)
{
	int fd = open(ZXMEM_PARAM_PATH, O_RDONLY | O_CLOEXEC);
	char value = 0;

	if (fd < 0)
		return -1;
	if (read(fd, &value, 1) != 1)
		value = 0;
	close(fd);
	if (value == 'Y' || value == '1')
		return 1;
	if (value == 'N' || value == '0')
		return 0;
	return -1;
}

/* Switch enable_debugging_syscalls; 0, or -1 with errno set. */
static inline int zxmem_param_set(int on)
{
	int fd = open(ZXMEM_PARAM_PATH, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, on ? "1" : "0", 1);
	close(fd);
	return n == 1 ? 0 : -1;
}

static inline int zxmem_pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/*
 * How many failures the fault-injection attribute @attr ("failslab",
 * "fail_page_alloc") may still inject (its "times"); -1 if unknown.
 * debugfs attributes cannot be pread(): each read opens the file anew.
 */
static inline long zxmem_fault_times_left(const char *attr)
{
	char path[128], text[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/times", attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	return strtol(text, NULL, 10);
}

#endif /* _ZXMEM_SELFTEST_H */
