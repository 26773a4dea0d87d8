// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark behind "make bench": zxmem against every Linux interface
 * that writes or reads another process's memory.
 *
 * Build from the repository root (make bench does):
 * gcc -static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I uapi \
 *	-o selftests/zxmem/bench selftests/zxmem/bench.c \
 *	selftests/zxmem/common.c -lpthread
 *
 * Run as root with zxmem.ko loaded with enable_debugging_syscalls=1.  The
 * bench starts a target process of the test library (common.c), has it
 * map 64 MiB of anonymous memory, attaches it
 * with PTRACE_SEIZE and stops it with PTRACE_INTERRUPT, so every method
 * sees the same stopped tracee.  Then, for each size and for write and
 * read, it times
 *
 *	zxmem		zx_process_write_memory() / zx_process_read_memory()
 *	process_vm	process_vm_writev() / process_vm_readv()
 *	proc_mem	pwrite() / pread() on /proc/PID/mem
 *	ptrace		PTRACE_POKEDATA / PTRACE_PEEKDATA, word by word
 *			(up to 64 KiB only)
 *
 * One (size, direction) at a time: a warm-up round first (each method is
 * checked once, the bytes read back through another method, and its calls
 * per sample are calibrated), then rounds in which every method takes one
 * sample in turn, the starting method rotating from round to round, so
 * machine noise hits all methods alike.  A sample is the time of k
 * back-to-back calls divided by k, k chosen so one sample lasts at least
 * SAMPLE_NS.  Each cell reports the median and the p10-p90 spread of its
 * samples.
 *
 * A breakpoint section times the write a debugger makes most, one byte
 * into the stopped tracee's code and into its .rodata, against
 * /proc/PID/mem and the PTRACE_PEEKTEXT + PTRACE_POKETEXT pair a ptrace
 * debugger needs for it.  A batched section times n = 1, 16, 256 and
 * 1,024 breakpoints, one byte on each of n pages of a file the target
 * maps MAP_PRIVATE r-x: one ZXMEM_IOC_WRITE_MEMORY_VEC call with
 * ZXMEM_VEC_EXCHANGE (and one without), against one process_vm_writev()
 * with n iovecs into a read-write private mapping of the same file (the
 * peer cannot force a write), n single zx_process_write_memory() calls
 * and n PEEKTEXT + POKETEXT pairs; then the same for 1,024 breakpoints
 * sixteen to a page, in 64 pages (the dense batch).  A last section
 * times 1, 2 and 4 writer threads, each on its own traced target, to
 * show that callers on different targets do not serialise.
 *
 * The goals table (print_goals()) then gives, for each goal of the
 * issue, zxmem / peer of the median times per call of samples taken side
 * by side, the p10-p90 of the per-round ratios, the goal and "met" or
 * "NOT MET"; the targets of the earlier bench (zxmem / proc_mem <= 1.0
 * at every size, the .rodata breakpoint <= 1.0) and the 1,024-breakpoint
 * goals again for the dense batch follow.  Each goal is
 * one TAP line to $ZXMEM_RESULT, "not ok" when it is not met.
 *
 * The target's region and the bench's buffers are 2 MiB-aligned, so
 * transparent huge pages back them, or not, the same way in every run:
 * by the kernel's policy, or as "--thp=on" or "--thp=off" asks.  The
 * header shows the policy and how much of the target THP covers.
 *
 * Output: "bench-data:" (sizes) and "bench-vec:" (segment counts) lines
 * for scripts/bench-plot.sh, the human tables, "bench-concurrency:" lines,
 * the goals table, and "bench: N of M ratio targets met" last.
 * Exit status 0 whether or not the targets are met; 2 on an error (a
 * method failed or moved the wrong bytes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define KIB		((size_t)1 << 10)
#define MIB		((size_t)1 << 20)
#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL

/* The target's region: as large as the largest size measured. */
#define REGION_SIZE	(64 * MIB)
/* PTRACE_POKEDATA/PEEKDATA move a word per call: only up to this size. */
#define PTRACE_MAX	(64 * KIB)
/* A sample lasts at least this long (k calls, k >= 1). */
#define SAMPLE_NS	(10 * NSEC_PER_MSEC)
/* The warm-up estimates the time of one call over at least this long. */
#define CALIBRATE_NS	(10 * NSEC_PER_MSEC)
#define MAX_SAMPLES	64

/* The concurrency section: writer threads, each with its own target. */
#define NR_WRITERS		4
#define WRITER_REGION		MIB
#define CONC_PHASE_MSEC		700
#define CONC_REPEATS		3

enum dir { DIR_WRITE, DIR_READ, NR_DIRS };

static const char *const dir_name[NR_DIRS] = { "write", "read" };

/* The sizes, and how many samples each gets: fewer for the slow ones. */
static const struct {
	size_t len;
	const char *name;
	unsigned int samples;
} sizes[] = {
	{ 8, "8B", 61 },
	{ 512, "512B", 61 },
	{ 4 * KIB, "4KiB", 61 },
	{ 64 * KIB, "64KiB", 61 },
	{ 1 * MIB, "1MiB", 61 },
	{ 16 * MIB, "16MiB", 21 },
	{ 64 * MIB, "64MiB", 11 },
};

#define NR_SIZES	ARRAY_SIZE(sizes)

/* A process whose memory is written and read, stopped under ptrace. */
struct tracee {
	struct target proc;	/* the library's target: pid, pidfd (zxmem's
				 * handle)
				 */
	int memfd;		/* /proc/PID/mem, read-write */
	uintptr_t addr;		/* its region */
	size_t len;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * NSEC_PER_MSEC,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------------------------------------------------------------- */
/* The methods: one function per interface and direction             */
/* ---------------------------------------------------------------- */

static void zxmem_write(const struct tracee *t, const void *buf, size_t len)
{
	size_t actual = 0;
	zx_status_t status;

	status = zx_process_write_memory(t->proc.pidfd, t->addr, buf, len, &actual);
	if (status != ZX_OK || actual != len)
		die("zx_process_write_memory(%zu bytes): %s, actual %zu%s",
		    len, zx_status_get_string(status), actual,
		    status == ZX_ERR_NOT_SUPPORTED ?
		    " (is zxmem.ko loaded with enable_debugging_syscalls=1?)" :
		    "");
}

static void zxmem_read(const struct tracee *t, void *buf, size_t len)
{
	size_t actual = 0;
	zx_status_t status;

	status = zx_process_read_memory(t->proc.pidfd, t->addr, buf, len, &actual);
	if (status != ZX_OK || actual != len)
		die("zx_process_read_memory(%zu bytes): %s, actual %zu",
		    len, zx_status_get_string(status), actual);
}

/* process_vm_writev() or process_vm_readv(), until all @len bytes moved. */
static void pvm_move(const struct tracee *t, void *buf, size_t len, bool write)
{
	size_t done = 0;

	while (done < len) {
		struct iovec local = {
			.iov_base = (char *)buf + done,
			.iov_len = len - done,
		};
		struct iovec remote = {
			.iov_base = (void *)(t->addr + done),
			.iov_len = len - done,
		};
		ssize_t n = write ?
			process_vm_writev(t->proc.pid, &local, 1, &remote, 1, 0) :
			process_vm_readv(t->proc.pid, &local, 1, &remote, 1, 0);

		if (n <= 0)
			die("process_vm_%s(%zu bytes): %s",
			    write ? "writev" : "readv", len,
			    n ? strerror(errno) : "no progress");
		done += n;
	}
}

static void pvm_write(const struct tracee *t, const void *buf, size_t len)
{
	pvm_move(t, (void *)buf, len, true);
}

static void pvm_read(const struct tracee *t, void *buf, size_t len)
{
	pvm_move(t, buf, len, false);
}

static void procmem_write(const struct tracee *t, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(t->memfd, (const char *)buf + done,
				   len - done, (off_t)(t->addr + done));

		if (n <= 0)
			die("pwrite(/proc/%d/mem, %zu bytes): %s", t->proc.pid, len,
			    n ? strerror(errno) : "no progress");
		done += n;
	}
}

static void procmem_read(const struct tracee *t, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(t->memfd, (char *)buf + done, len - done,
				  (off_t)(t->addr + done));

		if (n <= 0)
			die("pread(/proc/%d/mem, %zu bytes): %s", t->proc.pid, len,
			    n ? strerror(errno) : "no progress");
		done += n;
	}
}

static void poke_write(const struct tracee *t, const void *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += sizeof(long)) {
		long word;

		memcpy(&word, (const char *)buf + off, sizeof(word));
		if (ptrace(PTRACE_POKEDATA, t->proc.pid, (void *)(t->addr + off),
			   (void *)word))
			die("PTRACE_POKEDATA at +%zu: %s", off, strerror(errno));
	}
}

static void peek_read(const struct tracee *t, void *buf, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += sizeof(long)) {
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, t->proc.pid, (void *)(t->addr + off),
			      NULL);
		if (word == -1 && errno)
			die("PTRACE_PEEKDATA at +%zu: %s", off, strerror(errno));
		memcpy((char *)buf + off, &word, sizeof(word));
	}
}

struct method {
	const char *name;	/* one word, for bench-data: and the plot */
	const char *api;	/* what it calls, for the tables */
	size_t max_len;
	void (*write)(const struct tracee *t, const void *buf, size_t len);
	void (*read)(const struct tracee *t, void *buf, size_t len);
};

enum { M_ZXMEM, M_PVM, M_PROCMEM, M_PTRACE, NR_METHODS };

static const struct method methods[NR_METHODS] = {
	[M_ZXMEM] = { "zxmem", "zx_process_{write,read}_memory",
		      REGION_SIZE, zxmem_write, zxmem_read },
	[M_PVM] = { "process_vm", "process_vm_{writev,readv}",
		    REGION_SIZE, pvm_write, pvm_read },
	[M_PROCMEM] = { "proc_mem", "p{write,read} /proc/PID/mem",
			REGION_SIZE, procmem_write, procmem_read },
	[M_PTRACE] = { "ptrace", "PTRACE_{POKE,PEEK}DATA",
		       PTRACE_MAX, poke_write, peek_read },
};

static void transfer(unsigned int m, enum dir dir, const struct tracee *t,
		     void *buf, size_t len)
{
	if (dir == DIR_WRITE)
		methods[m].write(t, buf, len);
	else
		methods[m].read(t, buf, len);
}

/* The time of one call, averaged over @k back-to-back calls. */
static double time_calls(unsigned int m, enum dir dir, const struct tracee *t,
			 void *buf, size_t len, unsigned int k)
{
	uint64_t start = now_ns();
	unsigned int i;

	for (i = 0; i < k; i++)
		transfer(m, dir, t, buf, len);
	return (double)(now_ns() - start) / k;
}

static double quantile(const double *values, unsigned int n, double q);

/*
 * Calls per sample, from the median time of the calls in the last
 * CALIBRATE_NS (one timed call at a time): a stall of the VM during the
 * warm-up does not shorten this method's samples against the others'.
 */
static unsigned int calls_per_sample(const double *ns, unsigned long calls)
{
	unsigned int n = calls < MAX_SAMPLES ? calls : MAX_SAMPLES;
	double per_call = quantile(ns, n, 0.5);

	if (per_call >= SAMPLE_NS)
		return 1;
	return (unsigned int)(SAMPLE_NS / per_call) + 1;
}

/* How many calls make a sample of at least SAMPLE_NS. */
static unsigned int calibrate(unsigned int m, enum dir dir,
			      const struct tracee *t, void *buf, size_t len)
{
	uint64_t start = now_ns(), before, after;
	double ns[MAX_SAMPLES];
	unsigned long calls = 0;

	do {
		before = now_ns();
		transfer(m, dir, t, buf, len);
		after = now_ns();
		ns[calls++ % MAX_SAMPLES] = after - before;
	} while (after - start < CALIBRATE_NS);
	return calls_per_sample(ns, calls);
}

/* ---------------------------------------------------------------- */
/* Checking that the bytes really move                               */
/* ---------------------------------------------------------------- */

/*
 * Move a fresh pattern with method @m and check it through another method
 * (process_vm, or proc_mem when @m is process_vm): a write must land in
 * the target, a read must bring back what the target holds.
 */
static void verify(unsigned int m, enum dir dir, const struct tracee *t,
		   void *src, void *dst, size_t len, unsigned int seed)
{
	unsigned int other = m == M_PVM ? M_PROCMEM : M_PVM;

	/* The library's pattern: consecutive seeds differ in every byte. */
	fill_pattern(src, len, seed);
	memset(dst, 0, len);
	if (dir == DIR_WRITE) {
		methods[m].write(t, src, len);
		methods[other].read(t, dst, len);
	} else {
		methods[other].write(t, src, len);
		methods[m].read(t, dst, len);
	}
	if (memcmp(src, dst, len))
		die("%s %s of %zu bytes moved the wrong bytes (checked with %s)",
		    methods[m].name, dir_name[dir], len, methods[other].name);
}

/* ---------------------------------------------------------------- */
/* Targets                                                           */
/* ---------------------------------------------------------------- */

/*
 * Transparent huge pages matter: pinning a THP-backed target's pages can
 * cost far more per page than /proc/PID/mem's path.  --thp picks the
 * advice the bench's regions get; 0 keeps the kernel's policy.
 */
static int thp_advice;

/*
 * A target process of the test library, which maps @len bytes of
 * anonymous private memory filled with 0x5a (map_filled(): every page
 * populated) and then waits for requests.  The start is aligned to
 * HUGE_ALIGN, so that transparent huge pages, where the policy (and
 * thp_advice, given before the first fault) allows them, cover the
 * region the same way in every run, whatever address ASLR picks.  It dies
 * with us.
 */
static void spawn_target(struct tracee *t, size_t len)
{
	int64_t addr;

	fflush(stdout);
	if (target_spawn(&t->proc))
		die("cannot start a target: %s", strerror(errno));
	addr = target_map_filled(&t->proc, 0, len, HUGE_ALIGN, thp_advice,
				 0x5a);
	if (addr <= 0)
		die("target %d could not map %zu bytes: %s", t->proc.pid, len,
		    strerror(addr < 0 ? -addr : 0));
	t->addr = addr;
	t->len = len;
	t->memfd = -1;
}

/*
 * PTRACE_SEIZE and PTRACE_INTERRUPT @t from the calling thread (zxmem's
 * right belongs to the thread that attached), wait for the stop, and
 * open the handles the methods use.
 */
static void attach_target(struct tracee *t)
{
	char path[64];
	int status;

	if (ptrace(PTRACE_SEIZE, t->proc.pid, NULL, NULL))
		die("PTRACE_SEIZE %d: %s", t->proc.pid, strerror(errno));
	if (ptrace(PTRACE_INTERRUPT, t->proc.pid, NULL, NULL))
		die("PTRACE_INTERRUPT %d: %s", t->proc.pid, strerror(errno));
	if (waitpid(t->proc.pid, &status, __WALL) != t->proc.pid)
		die("waitpid %d: %s", t->proc.pid, strerror(errno));
	if (!WIFSTOPPED(status) || status >> 16 != PTRACE_EVENT_STOP)
		die("target %d did not stop (status %#x)", t->proc.pid, status);

	snprintf(path, sizeof(path), "/proc/%d/mem", t->proc.pid);
	t->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (t->memfd < 0)
		die("open %s: %s", path, strerror(errno));
}

static void kill_target(struct tracee *t)
{
	if (t->memfd >= 0)
		close(t->memfd);
	target_kill(&t->proc);
}

/*
 * The caller's buffers start buffer_skew bytes past a 2 MiB boundary.
 * With the target's region 2 MiB-aligned too, a buffer at the same offset
 * within its huge page makes every direct copy (zxmem's and
 * process_vm_rw()'s alike, never /proc/PID/mem's bounce page) about 9x
 * slower under QEMU's TCG: source and destination pages then alias in the
 * emulator's software TLB.  A real CPU has no such effect, so the default
 * skew (the library's BUFFER_SKEW) keeps them apart; --aligned-buffers
 * measures the aliased case.
 */
static size_t buffer_skew = BUFFER_SKEW;

static void *map_buffer(size_t len)
{
	void *buf = map_skewed(len, buffer_skew, thp_advice, 0xa5);

	if (!buf)
		die("cannot map %zu bytes: %s", len, strerror(errno));
	return buf;
}

/* ---------------------------------------------------------------- */
/* Statistics                                                        */
/* ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The @q quantile of @n values, interpolating between ranks. */
static double quantile(const double *values, unsigned int n, double q)
{
	double sorted[MAX_SAMPLES], pos, frac;
	unsigned int lo;

	memcpy(sorted, values, n * sizeof(*values));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	pos = q * (n - 1);
	lo = (unsigned int)pos;
	frac = pos - lo;
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

/* One (size, direction, method): its samples, in ns per call. */
struct cell {
	unsigned int k;		/* calls per sample */
	unsigned int n;		/* samples, one per round */
	double ns[MAX_SAMPLES];
	double median, p10, p90;
};

static struct cell cells[NR_SIZES][NR_DIRS][NR_METHODS];

static int applies(unsigned int m, unsigned int s)
{
	return sizes[s].len <= methods[m].max_len;
}

static double mbps(size_t len, double ns)
{
	return len * 1e3 / ns;	/* 10^6 bytes per second */
}

/* ---------------------------------------------------------------- */
/* The main measurement                                              */
/* ---------------------------------------------------------------- */

/*
 * One size and direction: the warm-up round (check, calibrate), then
 * rounds of one sample per method, the first method rotating.
 */
static void measure(unsigned int s, enum dir dir, const struct tracee *t,
		    void *src, void *dst, unsigned int *seed)
{
	size_t len = sizes[s].len;
	void *buf = dir == DIR_WRITE ? src : dst;
	unsigned int order[NR_METHODS], nr = 0, m, r, j;

	for (m = 0; m < NR_METHODS; m++) {
		if (!applies(m, s))
			continue;
		order[nr++] = m;
		verify(m, dir, t, src, dst, len, ++*seed);
		cells[s][dir][m].k = calibrate(m, dir, t, buf, len);
	}

	for (r = 0; r < sizes[s].samples; r++) {
		for (j = 0; j < nr; j++) {
			struct cell *c;

			m = order[(r + j) % nr];
			c = &cells[s][dir][m];
			c->ns[c->n++] = time_calls(m, dir, t, buf, len, c->k);
		}
	}

	for (m = 0; m < NR_METHODS; m++) {
		struct cell *c = &cells[s][dir][m];

		if (!c->n)
			continue;
		c->median = quantile(c->ns, c->n, 0.5);
		c->p10 = quantile(c->ns, c->n, 0.1);
		c->p90 = quantile(c->ns, c->n, 0.9);
	}
}

/* ---------------------------------------------------------------- */
/* Concurrency: writer threads on their own targets                   */
/* ---------------------------------------------------------------- */

struct writer {
	pthread_t thread;
	unsigned int id;
	struct tracee target;
	void *buf;
	unsigned long calls;
};

static struct writer writers[NR_WRITERS];
static pthread_barrier_t phase_start, phase_end;

/* What the next phase asks of the writers; set while they wait. */
static struct {
	unsigned int active;	/* writers 0 .. active-1 run */
	unsigned int method;
	size_t len;
	int quit;
} phase;
static int phase_stop;

/*
 * The baseline: the same bytes copied within the caller, no system call.
 * It shows how far the VM's CPUs let any work scale.
 */
#define CONC_MEMCPY	NR_METHODS

static void local_copy(void *buf, size_t len)
{
	memcpy((char *)buf + WRITER_REGION / 2, buf, len);
	__asm__ __volatile__("" : : "r" (buf) : "memory");
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	/* ptrace is per thread: this thread must be the tracer. */
	attach_target(&w->target);
	w->buf = map_buffer(WRITER_REGION);
	pthread_barrier_wait(&phase_end);

	for (;;) {
		unsigned long calls = 0;

		pthread_barrier_wait(&phase_start);
		if (phase.quit)
			break;
		while (w->id < phase.active &&
		       !__atomic_load_n(&phase_stop, __ATOMIC_RELAXED)) {
			if (phase.method == CONC_MEMCPY)
				local_copy(w->buf, phase.len);
			else
				transfer(phase.method, DIR_WRITE, &w->target,
					 w->buf, phase.len);
			calls++;
		}
		w->calls = calls;
		pthread_barrier_wait(&phase_end);
	}
	return NULL;
}

/* Aggregate calls per second of @active writers for CONC_PHASE_MSEC. */
static double run_phase(unsigned int active, unsigned int method, size_t len)
{
	unsigned long calls = 0;
	uint64_t start;
	unsigned int i;

	phase.active = active;
	phase.method = method;
	phase.len = len;
	__atomic_store_n(&phase_stop, 0, __ATOMIC_RELAXED);

	pthread_barrier_wait(&phase_start);
	start = now_ns();
	sleep_ms(CONC_PHASE_MSEC);
	__atomic_store_n(&phase_stop, 1, __ATOMIC_RELAXED);
	pthread_barrier_wait(&phase_end);

	for (i = 0; i < active; i++)
		calls += writers[i].calls;
	return calls * (double)NSEC_PER_SEC / (now_ns() - start);
}

static const unsigned int conc_threads[] = { 1, 2, 4 };
static const size_t conc_sizes[] = { 64 * KIB, 8 };
static const unsigned int conc_methods[] = { M_ZXMEM, M_PVM, CONC_MEMCPY };

#define NR_CONC_THREADS	ARRAY_SIZE(conc_threads)
#define NR_CONC_SIZES	ARRAY_SIZE(conc_sizes)
#define NR_CONC_METHODS	ARRAY_SIZE(conc_methods)

/* Median aggregate calls/s per size, method and thread count. */
static double conc_rate[NR_CONC_SIZES][NR_CONC_METHODS][NR_CONC_THREADS];

static void measure_concurrency(void)
{
	double rates[NR_CONC_SIZES][NR_CONC_METHODS][NR_CONC_THREADS]
		    [CONC_REPEATS];
	unsigned int i, s, m, n, r;
	int err;

	if (pthread_barrier_init(&phase_start, NULL, NR_WRITERS + 1) ||
	    pthread_barrier_init(&phase_end, NULL, NR_WRITERS + 1))
		die("pthread_barrier_init failed");
	for (i = 0; i < NR_WRITERS; i++) {
		writers[i].id = i;
		err = pthread_create(&writers[i].thread, NULL, writer_main,
				     &writers[i]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	pthread_barrier_wait(&phase_end);	/* all attached */

	for (s = 0; s < NR_CONC_SIZES; s++) {
		for (m = 0; m < NR_CONC_METHODS; m++)
			run_phase(NR_WRITERS, conc_methods[m], conc_sizes[s]);
	}

	/* Repeats outermost, so drift of the machine hits every cell. */
	for (r = 0; r < CONC_REPEATS; r++) {
		printf("bench: concurrency, round %u of %u\n", r + 1,
		       CONC_REPEATS);
		for (s = 0; s < NR_CONC_SIZES; s++)
			for (m = 0; m < NR_CONC_METHODS; m++)
				for (n = 0; n < NR_CONC_THREADS; n++)
					rates[s][m][n][r] =
						run_phase(conc_threads[n],
							  conc_methods[m],
							  conc_sizes[s]);
	}

	phase.quit = 1;
	pthread_barrier_wait(&phase_start);
	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(writers[i].thread, NULL);

	for (s = 0; s < NR_CONC_SIZES; s++)
		for (m = 0; m < NR_CONC_METHODS; m++)
			for (n = 0; n < NR_CONC_THREADS; n++)
				conc_rate[s][m][n] =
					quantile(rates[s][m][n], CONC_REPEATS,
						 0.5);
}

/* ---------------------------------------------------------------- */
/* Reports                                                           */
/* ---------------------------------------------------------------- */

static const char *size_name(size_t len)
{
	unsigned int s;

	for (s = 0; s < NR_SIZES; s++)
		if (sizes[s].len == len)
			return sizes[s].name;
	return "?";
}

static void print_header(const struct tracee *t)
{
	char thp[128] = "unknown";
	struct utsname uts;
	FILE *f;

	uname(&uts);
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (fgets(thp, sizeof(thp), f))
			thp[strcspn(thp, "\n")] = '\0';
		fclose(f);
	}
	printf("bench: results\n");
	printf("kernel %s %s, %ld CPUs online, transparent hugepages: %s, bench's advice: %s\n",
	       uts.release, uts.machine, sysconf(_SC_NPROCESSORS_ONLN), thp,
	       thp_advice == MADV_HUGEPAGE ? "MADV_HUGEPAGE" :
	       thp_advice == MADV_NOHUGEPAGE ? "MADV_NOHUGEPAGE" : "none");
	printf("target: %zu MiB at %#lx, %ld kB of the process in transparent huge pages\n",
	       t->len / MIB, (unsigned long)t->addr,
	       proc_field(t->proc.pid, "smaps_rollup", "AnonHugePages"));
	printf("caller's buffers: %zu bytes past a 2 MiB boundary%s\n",
	       buffer_skew, buffer_skew ? "" : " (--aligned-buffers)");
	printf("Target: a stopped tracee (PTRACE_SEIZE + PTRACE_INTERRUPT),\n"
	       "anonymous private memory, 2 MiB-aligned.  Each sample = time of\n"
	       "k back-to-back calls / k (a sample lasts >= %llu ms); the\n"
	       "methods take turns within each round; median and p10-p90 over\n"
	       "the rounds (n).  MB = 10^6 bytes.\n\n",
	       SAMPLE_NS / NSEC_PER_MSEC);
}

static void print_row(unsigned int s, unsigned int d, unsigned int m)
{
	const struct cell *c = &cells[s][d][m];
	char spread[32];

	snprintf(spread, sizeof(spread), "%.2f-%.2f", c->p10 / 1e3,
		 c->p90 / 1e3);
	printf("%-6s %-5s %-11s %-30s %7u %4u %13.2f %23s %10.1f\n",
	       sizes[s].name, dir_name[d], methods[m].name, methods[m].api,
	       c->k, c->n, c->median / 1e3, spread,
	       mbps(sizes[s].len, c->median));
}

static void print_table(void)
{
	unsigned int s, d, m;

	printf("%-6s %-5s %-11s %-30s %7s %4s %13s %23s %10s\n", "size",
	       "dir", "method", "interface", "k", "n", "median us",
	       "p10-p90 us", "MB/s");
	for (s = 0; s < NR_SIZES; s++) {
		for (d = 0; d < NR_DIRS; d++) {
			for (m = 0; m < NR_METHODS; m++)
				if (cells[s][d][m].n)
					print_row(s, d, m);
		}
	}
	printf("\n");
}

static void print_data(void)
{
	unsigned int s, d, m;

	for (s = 0; s < NR_SIZES; s++)
		for (d = 0; d < NR_DIRS; d++)
			for (m = 0; m < NR_METHODS; m++) {
				const struct cell *c = &cells[s][d][m];

				if (!c->n)
					continue;
				printf("bench-data: %zu %s %s %.0f %.0f %.0f %.3f\n",
				       sizes[s].len, dir_name[d],
				       methods[m].name, c->median, c->p10,
				       c->p90, mbps(sizes[s].len, c->median));
			}
}

static void print_concurrency(void)
{
	unsigned int s, m, n;

	printf("Concurrency: 1, 2 and 4 writer threads, each writing into\n"
	       "its own target that it traced itself (%u targets); aggregate\n"
	       "calls/s, median of %u runs of %u ms; x = vs 1 thread.\n"
	       "memcpy: the same bytes copied within the caller, no system\n"
	       "call: how far this VM lets any work scale.\n",
	       NR_WRITERS, CONC_REPEATS, CONC_PHASE_MSEC);
	for (s = 0; s < NR_CONC_SIZES; s++) {
		for (m = 0; m < NR_CONC_METHODS; m++) {
			const double *rate = conc_rate[s][m];

			unsigned int cm = conc_methods[m];

			printf("bench-concurrency: %-5s %-10s",
			       size_name(conc_sizes[s]),
			       cm == CONC_MEMCPY ? "memcpy" : methods[cm].name);
			for (n = 0; n < NR_CONC_THREADS; n++)
				printf("  %u thr %9.0f/s (x%.2f)",
				       conc_threads[n], rate[n],
				       rate[n] / rate[0]);
			printf("\n");
		}
	}
	printf("\n");
}

/* ---------------------------------------------------------------- */
/* Breakpoints: one byte into code and into .rodata                  */
/* ---------------------------------------------------------------- */

/* The breakpoint section's sites, and the peers it is measured against. */
enum { SITE_TEXT, SITE_RODATA, NR_SITES };
enum { BP_ZXMEM, BP_PROCMEM, BP_PTRACE, NR_BP_METHODS };
#define BP_SAMPLES	61

/* The sites, in the target too (it is a fork of the bench).  Never run. */
__attribute__((noinline, used, aligned(4096))) static void bp_text(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
}

static const unsigned char bp_rodata[4096] __attribute__((aligned(4096))) = {
	0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
};

static const char *const site_name[NR_SITES] = { "text", "rodata" };
static const char *const bp_name[NR_BP_METHODS] = {
	"zxmem", "proc_mem", "peek+poke",
};

static uintptr_t bp_site(unsigned int site)
{
	return site == SITE_TEXT ? (uintptr_t)bp_text + 3 :
				   (uintptr_t)bp_rodata + 3;
}

/*
 * What a ptrace debugger does for a breakpoint: read the word holding
 * @addr, patch the byte, write the word back.
 */
static void ptrace_byte(const struct tracee *t, uintptr_t addr, uint8_t byte)
{
	uintptr_t word_addr = addr & ~(uintptr_t)(sizeof(long) - 1);
	long word;

	errno = 0;
	word = ptrace(PTRACE_PEEKTEXT, t->proc.pid, (void *)word_addr, NULL);
	if (word == -1 && errno)
		die("PTRACE_PEEKTEXT: %s", strerror(errno));
	((unsigned char *)&word)[addr - word_addr] = byte;
	if (ptrace(PTRACE_POKETEXT, t->proc.pid, (void *)word_addr,
		   (void *)word))
		die("PTRACE_POKETEXT: %s", strerror(errno));
}

/* Set (@on) or clear the breakpoint byte at @addr, one way or another. */
static void bp_write(unsigned int m, const struct tracee *t, uintptr_t addr,
		     int on)
{
	unsigned char byte = on ? 0xcc : 0x90;
	size_t actual = 0;
	zx_status_t status;

	switch (m) {
	case BP_ZXMEM:
		status = zx_process_write_memory(t->proc.pidfd, addr, &byte, 1,
						 &actual);
		if (status != ZX_OK || actual != 1)
			die("breakpoint at %#lx: %s", (unsigned long)addr,
			    zx_status_get_string(status));
		break;
	case BP_PROCMEM:
		if (pwrite(t->memfd, &byte, 1, addr) != 1)
			die("breakpoint via /proc/PID/mem: %s", strerror(errno));
		break;
	case BP_PTRACE:
		ptrace_byte(t, addr, byte);
		break;
	}
}

static double bp_time(unsigned int m, const struct tracee *t, uintptr_t addr,
		      unsigned int k)
{
	uint64_t start = now_ns();
	unsigned int i;

	for (i = 0; i < k; i++)
		bp_write(m, t, addr, i & 1);
	return (double)(now_ns() - start) / k;
}

static double bp_ns[NR_SITES][NR_BP_METHODS][BP_SAMPLES];
static double bp_median[NR_SITES][NR_BP_METHODS];

static void measure_breakpoints(const struct tracee *t)
{
	unsigned int site, m, r, k[NR_BP_METHODS];
	unsigned char seen;

	for (site = 0; site < NR_SITES; site++) {
		uintptr_t addr = bp_site(site);

		for (m = 0; m < NR_BP_METHODS; m++) {
			uint64_t start = now_ns(), before, after;
			double ns[MAX_SAMPLES];
			unsigned long calls = 0;

			/* Each method's byte must land: check it once. */
			bp_write(m, t, addr, 1);
			if (pread(t->memfd, &seen, 1, addr) != 1 || seen != 0xcc)
				die("%s at %s: the byte did not land",
				    bp_name[m], site_name[site]);
			bp_write(m, t, addr, 0);
			do {
				before = now_ns();
				bp_write(m, t, addr, calls & 1);
				after = now_ns();
				ns[calls++ % MAX_SAMPLES] = after - before;
			} while (after - start < CALIBRATE_NS);
			k[m] = calls_per_sample(ns, calls);
			k[m] += k[m] & 1;	/* an even number of writes */
		}
		for (r = 0; r < BP_SAMPLES; r++)
			for (m = 0; m < NR_BP_METHODS; m++) {
				unsigned int mm = (m + r) % NR_BP_METHODS;

				bp_ns[site][mm][r] = bp_time(mm, t, addr, k[mm]);
			}
		for (m = 0; m < NR_BP_METHODS; m++)
			bp_median[site][m] = quantile(bp_ns[site][m],
						      BP_SAMPLES, 0.5);
	}
}

/* The breakpoint table: median ns per breakpoint (goals: print_goals()). */
static void print_breakpoints(void)
{
	unsigned int site, m;

	printf("Breakpoints: one byte into the stopped tracee's code and\n"
	       ".rodata (copy-on-write, as a debugger's int3), median ns per\n"
	       "breakpoint over %u rounds, the methods taking turns.\n",
	       BP_SAMPLES);
	for (site = 0; site < NR_SITES; site++) {
		printf("%-7s", site_name[site]);
		for (m = 0; m < NR_BP_METHODS; m++)
			printf("  %s %8.0f", bp_name[m], bp_median[site][m]);
		printf("\n");
	}
	printf("\n");
}

/* ---------------------------------------------------------------- */
/* Batched breakpoints: many one-byte writes into text pages         */
/* ---------------------------------------------------------------- */

/*
 * The target maps a file of BPS_PAGES pages twice, MAP_PRIVATE: read and
 * execute (text, where a debugger's breakpoints go: every write is forced)
 * and read-write (where process_vm_writev(), which cannot force, writes
 * the same bytes at the same offsets).  Site i is one byte at a random
 * offset within page i.  A batch of n sites takes every (NR_BPS / n)th,
 * so that even a small batch spreads over the whole mapping; it writes
 * int3 (install) or the file's byte back (removal), alternately.  The
 * dense batch puts DENSE_PER_PAGE sites into each of NR_BPS /
 * DENSE_PER_PAGE pages, in order, as the breakpoints of a few functions
 * are: site j of page i at the j-th of DENSE_PER_PAGE equal parts of it.
 */
#define NR_BPS		ZXMEM_MAX_SEGMENTS
#define BPS_PAGE	4096
#define BPS_LEN		((size_t)NR_BPS * BPS_PAGE)
#define BPS_SEED	0x3c
#define VEC_SAMPLES	41
#define INT3		0xcc
#define DENSE_PER_PAGE	16

enum { INSTALL, REMOVE, NR_PHASES };

static const unsigned int vec_counts[] = { 1, 16, 256, 1024 };

#define NR_VEC_COUNTS	ARRAY_SIZE(vec_counts)

enum { V_XCHG, V_PLAIN, V_PVM, V_SINGLE, V_PTRACE, NR_VEC_METHODS };

static const struct {
	const char *name;	/* one word, for bench-vec: and the plot */
	const char *api;
} vec_methods[NR_VEC_METHODS] = {
	[V_XCHG] = { "vec_xchg", "1 WRITE_MEMORY_VEC, EXCHANGE (text)" },
	[V_PLAIN] = { "vec", "1 WRITE_MEMORY_VEC (text)" },
	[V_PVM] = { "process_vm", "1 process_vm_writev, n iovecs (rw)" },
	[V_SINGLE] = { "single", "n zx_process_write_memory (text)" },
	[V_PTRACE] = { "peek+poke", "n PEEKTEXT+POKETEXT pairs (text)" },
};

/* The sites, and one batch's requests, prepared before it is timed. */
static struct {
	uintptr_t text, data;	/* the two mappings in the target */
	size_t site[NR_BPS];	/* offset of site i in either */

	unsigned int n;		/* sites in the batch */
	uintptr_t addr[NR_BPS];	/* in text */
	unsigned char bytes[NR_PHASES][NR_BPS];	/* what each phase writes */
	unsigned char old[NR_PHASES][NR_BPS];	/* what the exchange returned */
	struct zxmem_segment seg[2][NR_PHASES][NR_BPS];	/* [exchange] */
	struct iovec local[NR_PHASES][NR_BPS], remote[NR_BPS];
} bps;

static int zxmem_fd;

static void open_device(void)
{
	zxmem_fd = zxmem_device_fd();
	if (zxmem_fd < 0)
		die("cannot open %s: %s", ZXMEM_DEVICE_PATH,
		    zx_status_get_string(zxmem_fd));
}

/* Map the file twice into @t, which must still serve requests. */
static void map_bps(struct tracee *t)
{
	char path[64];
	uint64_t rng = BPS_SEED;
	int64_t text, data;
	unsigned int i;
	int fd;

	fd = make_pattern_file(path, sizeof(path), BPS_LEN, BPS_SEED);
	if (fd < 0)
		die("cannot make a %zu-byte file: %s", BPS_LEN, strerror(errno));
	text = target_map_file(&t->proc, path, O_RDONLY, PROT_READ | PROT_EXEC,
			       MAP_PRIVATE, BPS_LEN);
	data = target_map_file(&t->proc, path, O_RDONLY,
			       PROT_READ | PROT_WRITE, MAP_PRIVATE, BPS_LEN);
	if (text <= 0 || data <= 0)
		die("target %d could not map %s: %s", t->proc.pid, path,
		    strerror(text < 0 ? -text : data < 0 ? -data : 0));
	unlink(path);
	close(fd);
	bps.text = text;
	bps.data = data;
	for (i = 0; i < NR_BPS; i++)
		bps.site[i] = (size_t)i * BPS_PAGE + rng_below(&rng, BPS_PAGE);
}

/* The requests of a batch of @n sites, @per_page to a page. */
static void prepare_bps(unsigned int n, unsigned int per_page)
{
	const size_t part = BPS_PAGE / per_page;
	unsigned int i, p, x;

	bps.n = n;
	for (i = 0; i < n; i++) {
		size_t at = bps.site[i * (NR_BPS / n)];

		if (per_page > 1)
			at = (size_t)(i / per_page) * BPS_PAGE +
			     (i % per_page) * part + bps.site[i] % part;
		bps.addr[i] = bps.text + at;
		bps.bytes[INSTALL][i] = INT3;
		bps.bytes[REMOVE][i] = pattern_byte(BPS_SEED, at);
		bps.remote[i] = (struct iovec){
			.iov_base = (void *)(bps.data + at),
			.iov_len = 1,
		};
		for (p = 0; p < NR_PHASES; p++) {
			bps.local[p][i] = (struct iovec){
				.iov_base = &bps.bytes[p][i], .iov_len = 1,
			};
			for (x = 0; x < 2; x++)
				bps.seg[x][p][i] = (struct zxmem_segment){
					.vaddr = bps.addr[i],
					.buffer = (uintptr_t)&bps.bytes[p][i],
					.old = x ? (uintptr_t)&bps.old[p][i] : 0,
					.size = 1,
				};
		}
	}
}

static void vec_write(const struct tracee *t, struct zxmem_segment *seg,
		      unsigned int n, unsigned int flags)
{
	struct zxmem_vec vec = {
		.segments = (uintptr_t)seg,
		.count = n,
		.handle = t->proc.pidfd,
		.flags = flags,
		.status = STATUS_UNTOUCHED,
	};

	if (ioctl(zxmem_fd, ZXMEM_IOC_WRITE_MEMORY_VEC, &vec))
		die("ZXMEM_IOC_WRITE_MEMORY_VEC: %s%s", strerror(errno),
		    errno == ENOTTY ? " (a zxmem.ko without batched calls?)" :
		    "");
	/* actual is the sum of the segments' actual, of those that are ZX_OK. */
	if (vec.status != ZX_OK || vec.done != n || vec.actual != n)
		die("ZXMEM_IOC_WRITE_MEMORY_VEC of %u segments: %s, done %u, actual %llu",
		    n, zx_status_get_string(vec.status), vec.done,
		    (unsigned long long)vec.actual);
}

/* One batch of method @m: phase @p at every site of the batch. */
static void bps_call(unsigned int m, const struct tracee *t, unsigned int p)
{
	unsigned int i, n = bps.n;
	size_t actual;
	ssize_t done;

	switch (m) {
	case V_XCHG:
		vec_write(t, bps.seg[1][p], n, ZXMEM_VEC_EXCHANGE);
		break;
	case V_PLAIN:
		vec_write(t, bps.seg[0][p], n, 0);
		break;
	case V_PVM:
		done = process_vm_writev(t->proc.pid, bps.local[p], n,
					 bps.remote, n, 0);
		if (done != (ssize_t)n)
			die("process_vm_writev of %u iovecs: %zd, %s", n, done,
			    strerror(errno));
		break;
	case V_SINGLE:
		for (i = 0; i < n; i++) {
			zx_status_t status;

			actual = 0;
			status = zx_process_write_memory(t->proc.pidfd,
							 bps.addr[i],
							 &bps.bytes[p][i], 1,
							 &actual);
			if (status != ZX_OK || actual != 1)
				die("zx_process_write_memory(1 byte at %#lx): %s",
				    (unsigned long)bps.addr[i],
				    zx_status_get_string(status));
		}
		break;
	case V_PTRACE:
		for (i = 0; i < n; i++)
			ptrace_byte(t, bps.addr[i], bps.bytes[p][i]);
		break;
	}
}

/* The byte at @addr in the target, through /proc/PID/mem. */
static unsigned char target_byte(const struct tracee *t, uintptr_t addr)
{
	unsigned char byte;

	if (pread(t->memfd, &byte, 1, addr) != 1)
		die("pread(/proc/%d/mem) at %#lx: %s", t->proc.pid,
		    (unsigned long)addr, strerror(errno));
	return byte;
}

/*
 * Install and remove once with @m, and check every site's byte in the
 * target after each, and what the exchange gave back.
 */
static void check_bps(unsigned int m, const struct tracee *t)
{
	unsigned int i, p;

	for (p = 0; p < NR_PHASES; p++) {
		memset(bps.old[p], 0, bps.n);
		bps_call(m, t, p);
		for (i = 0; i < bps.n; i++) {
			uintptr_t at = m == V_PVM ?
				(uintptr_t)bps.remote[i].iov_base : bps.addr[i];
			unsigned char want_old = bps.bytes[!p][i];

			if (target_byte(t, at) != bps.bytes[p][i])
				die("%s, %u sites: site %u holds %#x, not %#x",
				    vec_methods[m].name, bps.n, i,
				    target_byte(t, at), bps.bytes[p][i]);
			if (m == V_XCHG && bps.old[p][i] != want_old)
				die("%s, %u sites: site %u's old byte %#x, not %#x",
				    vec_methods[m].name, bps.n, i,
				    bps.old[p][i], want_old);
		}
	}
}

/* The time of one batch, over @k batches (even: install, remove, ...). */
static double bps_time(unsigned int m, const struct tracee *t,
		       unsigned int k)
{
	uint64_t start = now_ns();
	unsigned int i;

	for (i = 0; i < k; i++)
		bps_call(m, t, i & 1);
	return (double)(now_ns() - start) / k;
}

static unsigned int bps_calibrate(unsigned int m, const struct tracee *t)
{
	uint64_t start = now_ns(), before, after;
	double ns[MAX_SAMPLES];
	unsigned long calls = 0;
	unsigned int k;

	do {
		before = now_ns();
		bps_call(m, t, INSTALL);
		bps_call(m, t, REMOVE);
		after = now_ns();
		ns[calls++ % MAX_SAMPLES] = (after - before) / 2.0;
	} while (after - start < CALIBRATE_NS);
	k = calls_per_sample(ns, calls);
	return k + (k & 1);	/* end on the file's bytes */
}

static struct cell vec_cells[NR_VEC_COUNTS][NR_VEC_METHODS];
static struct cell dense_cells[NR_VEC_METHODS];

/* Every method on the batch prepare_bps() made, taking turns. */
static void measure_bps(const struct tracee *t, struct cell *row)
{
	unsigned int m, r;

	for (m = 0; m < NR_VEC_METHODS; m++) {
		check_bps(m, t);
		row[m].k = bps_calibrate(m, t);
	}
	for (r = 0; r < VEC_SAMPLES; r++)
		for (m = 0; m < NR_VEC_METHODS; m++) {
			unsigned int mm = (m + r) % NR_VEC_METHODS;
			struct cell *cl = &row[mm];

			cl->ns[cl->n++] = bps_time(mm, t, cl->k);
		}
	for (m = 0; m < NR_VEC_METHODS; m++) {
		struct cell *cl = &row[m];

		cl->median = quantile(cl->ns, cl->n, 0.5);
		cl->p10 = quantile(cl->ns, cl->n, 0.1);
		cl->p90 = quantile(cl->ns, cl->n, 0.9);
	}
}

static void measure_vec(const struct tracee *t)
{
	unsigned int c;

	for (c = 0; c < NR_VEC_COUNTS; c++) {
		prepare_bps(vec_counts[c], 1);
		measure_bps(t, vec_cells[c]);
	}
	prepare_bps(NR_BPS, DENSE_PER_PAGE);
	measure_bps(t, dense_cells);
}

/*
 * --loop=METHOD,SECONDS, for make profile: the batch of every site, one to
 * a page, with one method of the batched section for SECONDS, so that a
 * profiler sampling the run sees that method alone (the target maps one
 * page besides the file, for the setup to take no time).  The median of
 * its last MAX_SAMPLES samples, per batch and per site, goes to
 * "bench-loop:".
 */
static void loop_method(const struct tracee *t, unsigned int m,
			double seconds)
{
	static double ns[MAX_SAMPLES];
	unsigned int k, n = 0;
	uint64_t start;
	double median;

	prepare_bps(NR_BPS, 1);
	check_bps(m, t);
	k = bps_calibrate(m, t);
	start = now_ns();
	do
		ns[n++ % MAX_SAMPLES] = bps_time(m, t, k);
	while (now_ns() - start < seconds * NSEC_PER_SEC);
	median = quantile(ns, n < MAX_SAMPLES ? n : MAX_SAMPLES, 0.5);
	printf("bench-loop: %s %u sites: %.0f ns per batch, %.1f ns per site, %u samples of %u batches\n",
	       vec_methods[m].name, bps.n, median, median / bps.n, n, k);
}

/* METHOD,SECONDS of --loop=: the method's index, or -1. */
static int parse_loop(const char *arg, double *seconds)
{
	const char *comma = strchr(arg, ',');
	char *end;
	unsigned int m;

	if (!comma)
		return -1;
	*seconds = strtod(comma + 1, &end);
	if (*end || !(*seconds > 0))
		return -1;
	for (m = 0; m < NR_VEC_METHODS; m++)
		if (strlen(vec_methods[m].name) == (size_t)(comma - arg) &&
		    !strncmp(arg, vec_methods[m].name, comma - arg))
			return m;
	return -1;
}

static void print_vec_data(void)
{
	unsigned int c, m;

	for (c = 0; c < NR_VEC_COUNTS; c++)
		for (m = 0; m < NR_VEC_METHODS; m++) {
			const struct cell *cl = &vec_cells[c][m];

			printf("bench-vec: %u %s %.0f %.0f %.0f\n",
			       vec_counts[c], vec_methods[m].name, cl->median,
			       cl->p10, cl->p90);
		}
	for (m = 0; m < NR_VEC_METHODS; m++)
		printf("bench-vec-dense: %u %u %s %.0f %.0f %.0f\n", NR_BPS,
		       DENSE_PER_PAGE, vec_methods[m].name,
		       dense_cells[m].median, dense_cells[m].p10,
		       dense_cells[m].p90);
}

static void print_vec_row(const char *n, unsigned int count, unsigned int m,
			  const struct cell *cl)
{
	char spread[32];

	snprintf(spread, sizeof(spread), "%.2f-%.2f", cl->p10 / 1e3,
		 cl->p90 / 1e3);
	printf("%-7s %-11s %-36s %7u %4u %12.2f %21s %12.3f\n", n,
	       vec_methods[m].name, vec_methods[m].api, cl->k, cl->n,
	       cl->median / 1e3, spread, cl->median / 1e3 / count);
}

static void print_vec(void)
{
	unsigned int c, m;
	char n[16];

	printf("Batched breakpoints: n one-byte writes (int3, then the old\n"
	       "byte back, alternately), one per page of a %zu MiB file mapped\n"
	       "MAP_PRIVATE r-x (text) and, for process_vm_writev, which cannot\n"
	       "force a write, read-write; median us per call of the batch, its\n"
	       "p10-p90, and us per segment (site).  n/%u: the dense batch,\n"
	       "%u sites to a page.\n",
	       BPS_LEN / MIB, DENSE_PER_PAGE, DENSE_PER_PAGE);
	printf("%-7s %-11s %-36s %7s %4s %12s %21s %12s\n", "n", "method",
	       "interface", "k", "n", "median us", "p10-p90 us", "us/segment");
	for (c = 0; c < NR_VEC_COUNTS; c++)
		for (m = 0; m < NR_VEC_METHODS; m++) {
			snprintf(n, sizeof(n), "%u", vec_counts[c]);
			print_vec_row(n, vec_counts[c], m, &vec_cells[c][m]);
		}
	snprintf(n, sizeof(n), "%u/%u", NR_BPS, DENSE_PER_PAGE);
	for (m = 0; m < NR_VEC_METHODS; m++)
		print_vec_row(n, NR_BPS, m, &dense_cells[m]);
	printf("\n");
}

/*
 * The goals: each a ratio zxmem / peer of the median times per call of
 * samples taken side by side in this run, met when it is at most @limit.
 * A goal phrased as "N x faster" has @limit 1/N.
 */
struct goal {
	char what[64];		/* the case */
	char peer[40];		/* what zxmem is compared with */
	double zxmem_ns, peer_ns;	/* medians, per call */
	double ratio;		/* zxmem_ns / peer_ns */
	double p10, p90;	/* of the per-round ratios */
	double limit;
	bool faster;		/* print the goal as ">= 1/limit x faster" */
	bool kept;		/* a target of the earlier bench, not the issue's */
	bool met;
};

#define MAX_GOALS	48

static struct goal goals[MAX_GOALS];
static unsigned int nr_goals;

/*
 * A goal from @n rounds of samples (ns per call), @zx[r] and @peer[r]
 * taken in the same round.
 */
static void add_goal(const char *what, const char *peer, const double *zx,
		     const double *pr, unsigned int n, double limit,
		     bool faster, bool kept)
{
	double per_round[MAX_SAMPLES];
	struct goal *g;
	unsigned int r;

	if (nr_goals == MAX_GOALS)
		die("more than %d goals", MAX_GOALS);
	if (!n || n > MAX_SAMPLES)
		die("%s: %u samples", what, n);
	g = &goals[nr_goals++];
	snprintf(g->what, sizeof(g->what), "%s", what);
	snprintf(g->peer, sizeof(g->peer), "%s", peer);
	for (r = 0; r < n; r++)
		per_round[r] = zx[r] / pr[r];
	g->zxmem_ns = quantile(zx, n, 0.5);
	g->peer_ns = quantile(pr, n, 0.5);
	g->ratio = g->zxmem_ns / g->peer_ns;
	g->p10 = quantile(per_round, n, 0.1);
	g->p90 = quantile(per_round, n, 0.9);
	g->limit = limit;
	g->faster = faster;
	g->kept = kept;
	g->met = g->ratio <= limit;
}

static void goal_text(const struct goal *g, char *buf, size_t size)
{
	if (g->faster)
		snprintf(buf, size, "<= %.3f (>= %.0fx faster)", g->limit,
			 1 / g->limit);
	else
		snprintf(buf, size, "<= %.2f", g->limit);
}

static void print_goal(const struct goal *g)
{
	char ratio[32], goal[32], spread[24];

	if (g->faster)
		snprintf(ratio, sizeof(ratio), "%.3f (%.1fx)", g->ratio,
			 1 / g->ratio);
	else
		snprintf(ratio, sizeof(ratio), "%.3f", g->ratio);
	goal_text(g, goal, sizeof(goal));
	snprintf(spread, sizeof(spread), "[%.2f-%.2f]", g->p10, g->p90);
	printf("%-24s %-30s %10.2f %10.2f  %-14s %-25s %-13s %s\n", g->what,
	       g->peer, g->zxmem_ns / 1e3, g->peer_ns / 1e3, ratio, goal,
	       spread, g->met ? "met" : "NOT MET");
}

/* The goals table; returns how many are met. */
static unsigned int print_goals(void)
{
	unsigned int i, met = 0, kept;

	printf("Goals: zxmem's median time per call / the peer's, every pair\n"
	       "measured side by side in this run (the methods take turns in\n"
	       "each round); [p10-p90] of the per-round ratios.  A goal is met\n"
	       "when the ratio is at most its bound.\n");
	printf("%-24s %-30s %10s %10s  %-14s %-25s %-13s %s\n", "case",
	       "peer", "zxmem us", "peer us", "zxmem/peer", "goal",
	       "p10-p90", "verdict");
	for (kept = 0; kept < 2; kept++) {
		if (kept)
			printf("-- not the issue's: the earlier bench's targets, and 16 breakpoints to a page --\n");
		for (i = 0; i < nr_goals; i++) {
			if (goals[i].kept != kept)
				continue;
			print_goal(&goals[i]);
			met += goals[i].met;
		}
	}
	printf("\n");
	return met;
}

/* The goals of the 1,024-site batch. */
static void add_vec_goals(void)
{
	const unsigned int c = NR_VEC_COUNTS - 1;
	const struct cell *z = &vec_cells[c][V_XCHG];

	if (vec_counts[c] != NR_BPS)
		die("the last batch must have %d sites", NR_BPS);
	add_goal("1024 bps, 1 vec+xchg", "process_vm_writev 1024 iov",
		 z->ns, vec_cells[c][V_PVM].ns, z->n, 1.0, false, false);
	add_goal("1024 bps, 1 vec+xchg", "1024 single zxmem calls",
		 z->ns, vec_cells[c][V_SINGLE].ns, z->n, 1.0 / 10, true, false);
	add_goal("1024 bps, 1 vec+xchg", "1024 PEEKTEXT+POKETEXT",
		 z->ns, vec_cells[c][V_PTRACE].ns, z->n, 1.0 / 20, true,
		 false);
	/* Not the issue's: the same goals, 16 breakpoints to a page. */
	z = &dense_cells[V_XCHG];
	add_goal("1024 bps 16/pg, vec+xchg", "process_vm_writev 1024 iov",
		 z->ns, dense_cells[V_PVM].ns, z->n, 1.0, false, true);
	add_goal("1024 bps 16/pg, vec+xchg", "1024 single zxmem calls",
		 z->ns, dense_cells[V_SINGLE].ns, z->n, 1.0 / 10, true, true);
	add_goal("1024 bps 16/pg, vec+xchg", "1024 PEEKTEXT+POKETEXT",
		 z->ns, dense_cells[V_PTRACE].ns, z->n, 1.0 / 20, true, true);
}

/* Every goal the run measured, in the order of the table. */
static void collect_goals(void)
{
	static const char *const pvm_name[NR_DIRS] = {
		"process_vm_writev", "process_vm_readv",
	};
	static const char *const ptrace_name[NR_DIRS] = {
		"PTRACE_POKEDATA", "PTRACE_PEEKDATA",
	};
	static const char *const procmem_name[NR_DIRS] = {
		"pwrite /proc/PID/mem", "pread /proc/PID/mem",
	};
	unsigned int s, d;
	char what[64];

	for (d = 0; d < NR_DIRS; d++)
		for (s = 0; s < NR_SIZES; s++) {
			const struct cell *z = &cells[s][d][M_ZXMEM];
			const struct cell *p = &cells[s][d][M_PVM];

			snprintf(what, sizeof(what), "%s %s", dir_name[d],
				 sizes[s].name);
			add_goal(what, pvm_name[d], z->ns, p->ns, z->n, 1.0,
				 false, false);
		}
	for (d = 0; d < NR_DIRS; d++) {
		const struct cell *z = &cells[0][d][M_ZXMEM];
		const struct cell *p = &cells[0][d][M_PTRACE];

		if (sizes[0].len != sizeof(long) || p->n != z->n)
			die("the first size must be one word, for ptrace");
		snprintf(what, sizeof(what), "%s %s, stopped", dir_name[d],
			 sizes[0].name);
		add_goal(what, ptrace_name[d], z->ns, p->ns, z->n, 1.0, false,
			 false);
	}
	add_goal("1 byte into text", "PEEKTEXT+POKETEXT",
		 bp_ns[SITE_TEXT][BP_ZXMEM], bp_ns[SITE_TEXT][BP_PTRACE],
		 BP_SAMPLES, 0.5, false, false);
	add_goal("1 byte into text", "pwrite /proc/PID/mem",
		 bp_ns[SITE_TEXT][BP_ZXMEM], bp_ns[SITE_TEXT][BP_PROCMEM],
		 BP_SAMPLES, 0.25, false, false);
	add_vec_goals();

	for (d = 0; d < NR_DIRS; d++)
		for (s = 0; s < NR_SIZES; s++) {
			const struct cell *z = &cells[s][d][M_ZXMEM];
			const struct cell *p = &cells[s][d][M_PROCMEM];

			snprintf(what, sizeof(what), "%s %s", dir_name[d],
				 sizes[s].name);
			add_goal(what, procmem_name[d], z->ns, p->ns, z->n,
				 1.0, false, true);
		}
	add_goal("1 byte into .rodata", "PEEKTEXT+POKETEXT",
		 bp_ns[SITE_RODATA][BP_ZXMEM], bp_ns[SITE_RODATA][BP_PTRACE],
		 BP_SAMPLES, 1.0, false, true);
	add_goal("1 byte into .rodata", "pwrite /proc/PID/mem",
		 bp_ns[SITE_RODATA][BP_ZXMEM], bp_ns[SITE_RODATA][BP_PROCMEM],
		 BP_SAMPLES, 1.0, false, true);
}

static void write_tap(void)
{
	const char *path = getenv("ZXMEM_RESULT");
	unsigned int i;
	FILE *tap;

	if (!path || !*path)
		return;
	tap = fopen(path, "a");
	if (!tap)
		die("open %s: %s", path, strerror(errno));
	fprintf(tap, "1..%u\n", nr_goals);
	for (i = 0; i < nr_goals; i++) {
		const struct goal *g = &goals[i];
		char goal[32];

		goal_text(g, goal, sizeof(goal));
		fprintf(tap, "%s %u %s%s vs %s: ratio %.3f, goal %s\n",
			g->met ? "ok" : "not ok", i + 1,
			g->kept ? "earlier target: " : "", g->what, g->peer,
			g->ratio, goal);
	}
	if (fclose(tap))
		die("write %s: %s", path, strerror(errno));
}

static void print_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--thp=policy|on|off] [--aligned-buffers]\n"
		"       %s --loop=METHOD,SECONDS\n"
		"  --thp=policy  the kernel's transparent hugepage policy (default)\n"
		"  --thp=on      MADV_HUGEPAGE on the target and the buffers\n"
		"  --thp=off     MADV_NOHUGEPAGE on them\n"
		"  --aligned-buffers  the caller's buffers at the target's 2 MiB\n"
		"                offsets, as the TCG worst case\n"
		"  --loop=METHOD,SECONDS  only the batch of %u sites, one to a\n"
		"                page, with METHOD (vec_xchg, vec, process_vm,\n"
		"                single, peek+poke) for SECONDS\n",
		argv0, argv0, NR_BPS);
	exit(2);
}

int main(int argc, char **argv)
{
	struct tracee main_target;
	unsigned int s, d, i, met, seed = 0;
	uint64_t start = now_ns();
	double loop_seconds = 0;
	int loop = -1;
	void *src, *dst;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--thp=policy"))
			thp_advice = 0;
		else if (!strcmp(argv[i], "--thp=on"))
			thp_advice = MADV_HUGEPAGE;
		else if (!strcmp(argv[i], "--thp=off"))
			thp_advice = MADV_NOHUGEPAGE;
		else if (!strcmp(argv[i], "--aligned-buffers"))
			buffer_skew = 0;
		else if (strncmp(argv[i], "--loop=", 7) ||
			 (loop = parse_loop(argv[i] + 7, &loop_seconds)) < 0)
			print_usage(argv[0]);
	}
	if (loop >= 0) {
		spawn_target(&main_target, BPS_PAGE);
		map_bps(&main_target);
		attach_target(&main_target);
		open_device();
		loop_method(&main_target, loop, loop_seconds);
		kill_target(&main_target);
		return 0;
	}
	for (s = 0; s < NR_SIZES; s++)
		if (sizes[s].samples > MAX_SAMPLES)
			die("%s: more than %d samples", sizes[s].name,
			    MAX_SAMPLES);
	printf("bench: zxmem against process_vm, /proc/PID/mem and ptrace\n");

	/* Fork every target before the big buffers exist: no COW sharing. */
	spawn_target(&main_target, REGION_SIZE);
	map_bps(&main_target);
	for (i = 0; i < NR_WRITERS; i++)
		spawn_target(&writers[i].target, WRITER_REGION);
	attach_target(&main_target);
	open_device();
	src = map_buffer(REGION_SIZE);
	dst = map_buffer(REGION_SIZE);

	for (s = 0; s < NR_SIZES; s++) {
		for (d = 0; d < NR_DIRS; d++) {
			printf("bench: measuring %s %s (%.0f s so far)\n",
			       sizes[s].name, dir_name[d],
			       (now_ns() - start) / 1e9);
			measure(s, d, &main_target, src, dst, &seed);
		}
	}
	printf("bench: measuring breakpoints (%.0f s so far)\n",
	       (now_ns() - start) / 1e9);
	measure_breakpoints(&main_target);
	printf("bench: measuring batched breakpoints (%.0f s so far)\n",
	       (now_ns() - start) / 1e9);
	measure_vec(&main_target);
	measure_concurrency();
	collect_goals();

	print_data();
	print_vec_data();
	print_header(&main_target);
	print_table();
	print_breakpoints();
	print_vec();
	print_concurrency();
	met = print_goals();
	printf("bench: took %.0f s\n", (now_ns() - start) / 1e9);
	printf("bench: %u of %u ratio targets met\n", met, nr_goals);
	write_tap();

	kill_target(&main_target);
	for (i = 0; i < NR_WRITERS; i++)
		kill_target(&writers[i].target);
	return 0;
}
