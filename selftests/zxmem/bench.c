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
 * The ratios zxmem / peer of the median times per call are checked
 * against the targets (zxmem / proc_mem <= 1.0, zxmem / process_vm <= 1.2),
 * one TAP line each to $ZXMEM_RESULT.  A breakpoint section times the
 * write a debugger makes most, one byte into the stopped tracee's code
 * and into its .rodata, against /proc/PID/mem and the PTRACE_PEEKTEXT +
 * PTRACE_POKETEXT pair a ptrace debugger needs for it (zxmem / peer <=
 * 1.0, one TAP line each).  A last section times 1, 2 and 4 writer
 * threads, each on its own traced target, to show that callers on
 * different targets do not serialise.
 *
 * The target's region and the bench's buffers are 2 MiB-aligned, so
 * transparent huge pages back them, or not, the same way in every run:
 * by the kernel's policy, or as "--thp=on" or "--thp=off" asks.  The
 * header shows the policy and how much of the target THP covers.
 *
 * Output: the human tables, "bench-data:" lines for scripts/bench-plot.sh,
 * "bench-concurrency:" lines, and "bench: N of M ratio targets met" last.
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
#define SAMPLE_NS	(20 * NSEC_PER_MSEC)
/* The warm-up estimates the time of one call over at least this long. */
#define CALIBRATE_NS	(10 * NSEC_PER_MSEC)
#define MAX_SAMPLES	32

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
	{ 8, "8B", 31 },
	{ 4 * KIB, "4KiB", 31 },
	{ 64 * KIB, "64KiB", 31 },
	{ 1 * MIB, "1MiB", 31 },
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

/* The targets: zxmem / peer, time per call, median. */
static const struct {
	unsigned int peer;
	double max_ratio;
} ratio_targets[] = {
	{ M_PROCMEM, 1.0 },
	{ M_PVM, 1.2 },
};

#define NR_RATIO_TARGETS	ARRAY_SIZE(ratio_targets)

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

/* How many calls make a sample of at least SAMPLE_NS. */
static unsigned int calibrate(unsigned int m, enum dir dir,
			      const struct tracee *t, void *buf, size_t len)
{
	uint64_t start = now_ns(), elapsed;
	unsigned long calls = 0;
	double per_call;

	do {
		transfer(m, dir, t, buf, len);
		calls++;
		elapsed = now_ns() - start;
	} while (elapsed < CALIBRATE_NS);

	per_call = (double)elapsed / calls;
	if (per_call >= SAMPLE_NS)
		return 1;
	return (unsigned int)(SAMPLE_NS / per_call) + 1;
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

/* One ratio target, checked: the TAP line goes to @tap. */
struct verdict {
	char line[160];
	int met;
};

/* The breakpoint section's sites, and the peers it is measured against. */
enum { SITE_TEXT, SITE_RODATA, NR_SITES };
enum { BP_ZXMEM, BP_PROCMEM, BP_PTRACE, NR_BP_METHODS };
#define BP_SAMPLES	21

static struct verdict verdicts[NR_SIZES * NR_DIRS * NR_RATIO_TARGETS +
			       NR_SITES * (NR_BP_METHODS - 1)];

/*
 * zxmem / peer of the medians (what the target is about), and the p10-p90
 * of the per-round ratios, which pair samples taken side by side.
 */
static unsigned int print_ratios(void)
{
	unsigned int s, d, i, r, v = 0, met = 0;

	printf("Ratio targets: zxmem's median time per call / the peer's\n"
	       "(PASS when <= the target); in brackets the p10-p90 of the\n"
	       "per-round ratios (samples taken side by side).\n");
	printf("%-6s %-5s", "size", "dir");
	for (i = 0; i < NR_RATIO_TARGETS; i++) {
		char head[64];

		snprintf(head, sizeof(head), "zxmem/%s <= %.1f",
			 methods[ratio_targets[i].peer].name,
			 ratio_targets[i].max_ratio);
		printf("  %-32s", head);
	}
	printf("\n");

	for (s = 0; s < NR_SIZES; s++) {
		for (d = 0; d < NR_DIRS; d++) {
			const struct cell *z = &cells[s][d][M_ZXMEM];

			printf("%-6s %-5s", sizes[s].name, dir_name[d]);
			for (i = 0; i < NR_RATIO_TARGETS; i++) {
				unsigned int peer = ratio_targets[i].peer;
				const struct cell *p = &cells[s][d][peer];
				double limit = ratio_targets[i].max_ratio;
				double per_round[MAX_SAMPLES], ratio;
				char col[64];
				int ok;

				for (r = 0; r < z->n; r++)
					per_round[r] = z->ns[r] / p->ns[r];
				ratio = z->median / p->median;
				ok = ratio <= limit;
				snprintf(col, sizeof(col),
					 "%.3f %s [%.2f-%.2f]", ratio,
					 ok ? "PASS" : "FAIL",
					 quantile(per_round, z->n, 0.1),
					 quantile(per_round, z->n, 0.9));
				printf("  %-32s", col);

				snprintf(verdicts[v].line,
					 sizeof(verdicts[v].line),
					 "zxmem/%s %s %s ratio %.3f <= %.1f",
					 methods[peer].name, dir_name[d],
					 sizes[s].name, ratio, limit);
				verdicts[v].met = ok;
				met += ok;
				v++;
			}
			printf("\n");
		}
	}
	printf("\n");
	return met;
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

static void write_tap(unsigned int nr)
{
	const char *path = getenv("ZXMEM_RESULT");
	unsigned int v;
	FILE *tap;

	if (!path || !*path)
		return;
	tap = fopen(path, "a");
	if (!tap)
		die("open %s: %s", path, strerror(errno));
	fprintf(tap, "1..%u\n", nr);
	for (v = 0; v < nr; v++)
		fprintf(tap, "%s %u %s\n", verdicts[v].met ? "ok" : "not ok",
			v + 1, verdicts[v].line);
	if (fclose(tap))
		die("write %s: %s", path, strerror(errno));
}

/* ---------------------------------------------------------------- */
/* Breakpoints: one byte into code and into .rodata                  */
/* ---------------------------------------------------------------- */

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

/* Set (@on) or clear the breakpoint byte at @addr, one way or another. */
static void bp_write(unsigned int m, const struct tracee *t, uintptr_t addr,
		     int on)
{
	unsigned char byte = on ? 0xcc : 0x90;
	uintptr_t word_addr = addr & ~(uintptr_t)(sizeof(long) - 1);
	size_t actual = 0;
	zx_status_t status;
	long word;

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
		/* What a ptrace debugger does: read the word, patch a byte. */
		errno = 0;
		word = ptrace(PTRACE_PEEKTEXT, t->proc.pid, (void *)word_addr, NULL);
		if (word == -1 && errno)
			die("PTRACE_PEEKTEXT: %s", strerror(errno));
		((unsigned char *)&word)[addr - word_addr] = byte;
		if (ptrace(PTRACE_POKETEXT, t->proc.pid, (void *)word_addr,
			   (void *)word))
			die("PTRACE_POKETEXT: %s", strerror(errno));
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
			uint64_t start = now_ns();
			unsigned int calls = 0;

			/* Each method's byte must land: check it once. */
			bp_write(m, t, addr, 1);
			if (pread(t->memfd, &seen, 1, addr) != 1 || seen != 0xcc)
				die("%s at %s: the byte did not land",
				    bp_name[m], site_name[site]);
			bp_write(m, t, addr, 0);
			while (now_ns() - start < CALIBRATE_NS) {
				bp_write(m, t, addr, calls & 1);
				calls++;
			}
			k[m] = SAMPLE_NS / ((double)(now_ns() - start) /
					    calls) + 1;
			k[m] += k[m] & 1;	/* end on the original byte */
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

/* The breakpoint table; its verdicts go after @v's.  Returns those met. */
static unsigned int print_breakpoints(unsigned int v)
{
	unsigned int site, m, r, met = 0;

	printf("Breakpoints: one byte into the stopped tracee's code and\n"
	       ".rodata (copy-on-write, as a debugger's int3), median ns per\n"
	       "breakpoint; ratio zxmem / peer, in brackets the p10-p90 of\n"
	       "the per-round ratios.\n");
	for (site = 0; site < NR_SITES; site++) {
		printf("%-7s", site_name[site]);
		for (m = 0; m < NR_BP_METHODS; m++)
			printf("  %s %8.0f", bp_name[m], bp_median[site][m]);
		printf("\n");
		for (m = 1; m < NR_BP_METHODS; m++) {
			double per_round[BP_SAMPLES];
			double ratio = bp_median[site][BP_ZXMEM] /
				       bp_median[site][m];

			for (r = 0; r < BP_SAMPLES; r++)
				per_round[r] = bp_ns[site][BP_ZXMEM][r] /
					       bp_ns[site][m][r];
			printf("        zxmem/%-9s %.3f %s [%.2f-%.2f]\n",
			       bp_name[m], ratio, ratio <= 1.0 ? "PASS" : "FAIL",
			       quantile(per_round, BP_SAMPLES, 0.1),
			       quantile(per_round, BP_SAMPLES, 0.9));
			snprintf(verdicts[v].line, sizeof(verdicts[v].line),
				 "zxmem/%s breakpoint %s ratio %.3f <= 1.0",
				 bp_name[m], site_name[site], ratio);
			verdicts[v].met = ratio <= 1.0;
			met += verdicts[v].met;
			v++;
		}
	}
	printf("\n");
	return met;
}

static void print_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--thp=policy|on|off] [--aligned-buffers]\n"
		"  --thp=policy  the kernel's transparent hugepage policy (default)\n"
		"  --thp=on      MADV_HUGEPAGE on the target and the buffers\n"
		"  --thp=off     MADV_NOHUGEPAGE on them\n"
		"  --aligned-buffers  the caller's buffers at the target's 2 MiB\n"
		"                offsets, as the TCG worst case\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	struct tracee main_target;
	unsigned int s, d, i, met, seed = 0;
	unsigned int nr = ARRAY_SIZE(verdicts);
	uint64_t start = now_ns();
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
		else
			print_usage(argv[0]);
	}
	for (s = 0; s < NR_SIZES; s++)
		if (sizes[s].samples > MAX_SAMPLES)
			die("%s: more than %d samples", sizes[s].name,
			    MAX_SAMPLES);
	printf("bench: zxmem against process_vm, /proc/PID/mem and ptrace\n");

	/* Fork every target before the big buffers exist: no COW sharing. */
	spawn_target(&main_target, REGION_SIZE);
	for (i = 0; i < NR_WRITERS; i++)
		spawn_target(&writers[i].target, WRITER_REGION);
	attach_target(&main_target);
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
	measure_concurrency();

	print_data();
	print_header(&main_target);
	print_table();
	met = print_ratios();
	met += print_breakpoints(NR_SIZES * NR_DIRS * NR_RATIO_TARGETS);
	print_concurrency();
	printf("bench: took %.0f s\n", (now_ns() - start) / 1e9);
	printf("bench: %u of %u ratio targets met\n", met, nr);
	write_tap(nr);

	kill_target(&main_target);
	for (i = 0; i < NR_WRITERS; i++)
		kill_target(&writers[i].target);
	return 0;
}
