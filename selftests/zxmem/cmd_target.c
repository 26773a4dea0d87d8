// SPDX-License-Identifier: GPL-2.0
/*
 * The running program cmd_test.sh points the zxmem command at.  It prints
 * one line of addresses, then every 20 ms a line made from its read-only
 * greeting, through beat(), until killed:
 *
 *   cmd_target: pid=N tick=0x.. greeting=0x.. heap=0x.. stack=0x..
 *               edge=0x.. shared=0x.. io=0x..
 *   tick 1: hello from cmd_target
 *
 * heap and stack hold "heap bytes" and "stack bytes" (in [heap] and
 * [stack]); edge is 8 bytes of 'E' before an unmapped page; shared is a
 * shared read-only file mapping; io a page of /dev/mem (VM_IO), 0 when
 * there is none; tick is beat(), the function that prints.  A breakpoint
 * (int3 on x86, brk on arm64) written into beat() makes it print
 * "cmd_target: breakpoint in beat()" and exit 42.
 *
 * "cmd_target traced" forks the target and traces it (PTRACE_SEIZE) for
 * good, as a debugger would; the child prints the lines above.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

static const char greeting[] = "hello from cmd_target";

/* Built with -fno-inline: beat() keeps a body of its own to break in. */
static void beat(int n)
{
	printf("tick %d: %s\n", n, greeting);
	fflush(stdout);
}

static void on_trap(int sig, siginfo_t *info, void *uc)
{
	static const char msg[] = "cmd_target: breakpoint in beat()\n";

	(void)sig;
	(void)info;
	(void)uc;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(42);
}

/* Trace the child for good, passing its signals on; exit when it does. */
static int tracer(pid_t child)
{
	int status, sig;

	if (ptrace(PTRACE_SEIZE, child, 0, 0)) {
		perror("cmd_target: PTRACE_SEIZE");
		return 1;
	}
	for (;;) {
		if (waitpid(child, &status, __WALL) < 0)
			return 1;
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return 0;
		sig = WSTOPSIG(status);
		if ((status >> 16) == PTRACE_EVENT_STOP || sig == SIGTRAP)
			sig = 0;
		ptrace(PTRACE_CONT, child, 0, (void *)(long)sig);
	}
}

int main(int argc, char **argv)
{
	char stack[32] = "stack bytes";
	struct sigaction sa;
	long page = sysconf(_SC_PAGESIZE);
	char *heap, *edge, *shared, *io = NULL;
	int fd, n = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "traced")) {
		pid_t child = fork();

		if (child < 0)
			return 1;
		if (child > 0)
			return tracer(child);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);

	heap = malloc(32);
	edge = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/proc/self/exe", O_RDONLY);
	shared = fd < 0 ? MAP_FAILED :
		mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	if (!heap || edge == MAP_FAILED || shared == MAP_FAILED ||
	    munmap(edge + page, page)) {
		perror("cmd_target");
		return 1;
	}
	strcpy(heap, "heap bytes");
	memset(edge, 'E', page);
	edge += page - 8;
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd >= 0) {
		io = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			  0xf0000);
		if (io == MAP_FAILED)
			io = NULL;
	}

	printf("cmd_target: pid=%d tick=%p greeting=%p heap=%p stack=%p edge=%p shared=%p io=%p\n",
	       (int)getpid(), (void *)beat, (void *)greeting, (void *)heap,
	       (void *)stack, (void *)edge, (void *)shared, (void *)io);
	for (;;) {
		beat(++n);
		usleep(20000);
	}
}
