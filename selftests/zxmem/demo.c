// SPDX-License-Identifier: GPL-2.0
/*
 * Build from the repository root:
 * gcc -static -O2 -Wall -Wextra -Werror -Iuapi -o demo selftests/zxmem/demo.c
 *
 * The demo for "make demo": one program, two processes.  The target prints
 * a greeting kept in read-only .rodata every 300 ms.  The debugger, its
 * parent, attaches with PTRACE_SEIZE (zxmem lets a ptrace tracer write its
 * tracee), reads the greeting with zx_process_read_memory() and overwrites
 * it with zx_process_write_memory(), and the target's output changes.
 *
 * Run it as root with the module loaded with enable_debugging_syscalls=1.
 * Exit status 0 only if the write returned ZX_OK and the target's later
 * lines show the new text.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <zircon/syscalls.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434	/* the same number on every architecture */
#endif

#define TARGET_LINES	12
#define TARGET_PERIOD_MS	300
/* Lines the debugger lets through before it acts. */
#define LINES_BEFORE_PATCH	2

/* In .rodata: the target itself could not write it. */
static const char greeting[] = "hello from the target";
/* Shorter than the greeting; its NUL goes along. */
static const char patch[] = "patched by zxmem!!!!";

/* ---------------------------------------------------------------- */
/* The target                                                        */
/* ---------------------------------------------------------------- */

/*
 * Copy the greeting out of .rodata.  The empty asm hides where src points,
 * so the compiler cannot fold the constant string into the code: every
 * line really reads the bytes the debugger may have changed.
 */
static void load_greeting(char *out, size_t size)
{
	const char *src = greeting;

	__asm__ __volatile__("" : "+r" (src) : : "memory");
	snprintf(out, size, "%s", src);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Runs in the child, with stdout going into the pipe the debugger reads. */
static int run_target(void)
{
	char text[sizeof(greeting)];
	int i;

	/* Do not outlive the debugger. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	for (i = 1; i <= TARGET_LINES; i++) {
		load_greeting(text, sizeof(text));
		printf("[target] %s (%d/%d)\n", text, i, TARGET_LINES);
		fflush(stdout);
		sleep_ms(TARGET_PERIOD_MS);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The debugger                                                      */
/* ---------------------------------------------------------------- */

struct session {
	pid_t pid;		/* the target */
	FILE *out;		/* the target's stdout */
	int pidfd;		/* zx_handle_t for the target, or -1 */
	int seized;		/* we are its ptrace tracer */
	int patched;		/* the write returned ZX_OK */
	int seen_patched;	/* a later line showed the patch */
	int stale_after_patch;	/* the old text came back after that */
};

/*
 * Copy one line of the target's output to our stdout.  After the write,
 * also check which text the line carries.  Returns 0 at end of output.
 */
static int echo_target_line(struct session *s)
{
	char line[256];

	if (!fgets(line, sizeof(line), s->out))
		return 0;
	fputs(line, stdout);
	fflush(stdout);

	if (!s->patched)
		return 1;
	if (strstr(line, patch)) {
		s->seen_patched = 1;
	} else if (strstr(line, greeting) && s->seen_patched) {
		/* Lines already in the pipe may be old; later ones not. */
		s->stale_after_patch = 1;
	}
	return 1;
}

/* Print the permissions of the target's mapping that holds @addr. */
static void show_mapping(pid_t pid, const void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	char path[64], line[512], perms[8];
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "r");
	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3)
			continue;
		if (a >= start && a < end) {
			printf("[debugger] %p is in the target's %s mapping %lx-%lx\n",
			       addr, perms, start, end);
			break;
		}
	}
	fclose(maps);
}

static int attach(struct session *s)
{
	if (ptrace(PTRACE_SEIZE, s->pid, NULL, NULL) != 0) {
		printf("[debugger] PTRACE_SEIZE(%d): %s\n", (int)s->pid,
		       strerror(errno));
		return -1;
	}
	s->seized = 1;
	printf("[debugger] PTRACE_SEIZE(%d): we are now its tracer\n",
	       (int)s->pid);

	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	if (s->pidfd < 0) {
		printf("[debugger] pidfd_open(%d): %s\n", (int)s->pid,
		       strerror(errno));
		return -1;
	}
	printf("[debugger] pidfd_open(%d) = %d, our zx_handle_t\n",
	       (int)s->pid, s->pidfd);
	return 0;
}

/* PTRACE_DETACH needs a stopped tracee: interrupt it first. */
static void detach(struct session *s)
{
	int wstatus;

	if (!s->seized)
		return;
	s->seized = 0;
	if (ptrace(PTRACE_INTERRUPT, s->pid, NULL, NULL) != 0)
		return;
	if (waitpid(s->pid, &wstatus, __WALL) != s->pid ||
	    !WIFSTOPPED(wstatus))
		return;
	if (ptrace(PTRACE_DETACH, s->pid, NULL, NULL) == 0)
		printf("[debugger] detached; the target runs on\n");
}

static int read_greeting(struct session *s)
{
	char buf[sizeof(greeting)];
	size_t actual = 0;
	zx_status_t status;

	memset(buf, 0, sizeof(buf));
	status = zx_process_read_memory((zx_handle_t)s->pidfd,
					(zx_vaddr_t)greeting, buf,
					sizeof(buf), &actual);
	printf("[debugger] zx_process_read_memory(%p, %zu) = %s",
	       (const void *)greeting, sizeof(buf),
	       zx_status_get_string(status));
	if (status != ZX_OK) {
		printf("\n");
		if (status == ZX_ERR_NOT_SUPPORTED)
			printf("[debugger] is the zxmem module loaded (/dev/zxmem)?\n");
		return -1;
	}
	buf[sizeof(buf) - 1] = '\0';
	printf(", actual %zu: \"%s\"\n", actual, buf);
	if (actual != sizeof(buf) || strcmp(buf, greeting) != 0) {
		printf("[debugger] that is not the greeting\n");
		return -1;
	}
	return 0;
}

static int write_patch(struct session *s)
{
	size_t actual = 0;
	zx_status_t status;

	show_mapping(s->pid, greeting);
	printf("[debugger] a plain store, *(char *)%p = 'x', would fault\n",
	       (const void *)greeting);
	printf("[debugger] zxmem writes the page through copy-on-write\n");

	status = zx_process_write_memory((zx_handle_t)s->pidfd,
					 (zx_vaddr_t)greeting, patch,
					 sizeof(patch), &actual);
	printf("[debugger] zx_process_write_memory(%p, \"%s\", %zu) = %s",
	       (const void *)greeting, patch, sizeof(patch),
	       zx_status_get_string(status));
	if (status != ZX_OK) {
		printf("\n");
		if (status == ZX_ERR_NOT_SUPPORTED)
			printf("[debugger] load zxmem with enable_debugging_syscalls=1\n");
		return -1;
	}
	printf(", actual %zu\n", actual);
	if (actual != sizeof(patch))
		return -1;
	s->patched = 1;

	/* Our own copy of the page was not touched. */
	printf("[debugger] our own greeting still reads \"%s\"\n", greeting);
	return 0;
}

/* Kill the target if it is still there and collect it. */
static int finish(struct session *s, int ok)
{
	int wstatus = 0;

	if (!ok)
		kill(s->pid, SIGKILL);
	detach(s);
	while (echo_target_line(s))
		;
	fclose(s->out);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (waitpid(s->pid, &wstatus, 0) != s->pid)
		return 0;
	return ok && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

static int run_debugger(pid_t pid, FILE *target_out)
{
	struct session s = {
		.pid = pid,
		.out = target_out,
		.pidfd = -1,
	};
	int i, ok;

	printf("[debugger] target is pid %d, greeting at %p\n", (int)pid,
	       (const void *)greeting);
	for (i = 0; i < LINES_BEFORE_PATCH; i++) {
		if (!echo_target_line(&s))
			break;
	}

	ok = attach(&s) == 0 && read_greeting(&s) == 0 &&
	     write_patch(&s) == 0;
	if (!finish(&s, ok))
		ok = 0;

	if (ok && (!s.seen_patched || s.stale_after_patch)) {
		printf("[debugger] the target's output did not switch to the patch\n");
		ok = 0;
	}
	printf("[debugger] %s\n", ok ? "PASS: the target printed the patched text" :
	       "FAIL");
	return ok ? 0 : 1;
}

int main(void)
{
	FILE *target_out;
	int pipefd[2];
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(pipefd) != 0) {
		perror("[debugger] pipe");
		return 1;
	}
	fflush(stdout);

	pid = fork();
	if (pid < 0) {
		perror("[debugger] fork");
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		if (dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(1);
		close(pipefd[1]);
		exit(run_target());
	}

	close(pipefd[1]);
	target_out = fdopen(pipefd[0], "r");
	if (!target_out) {
		perror("[debugger] fdopen");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	return run_debugger(pid, target_out);
}
