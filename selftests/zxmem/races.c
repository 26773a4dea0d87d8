// SPDX-License-Identifier: GPL-2.0
/*
 * Race tests for zxmem: calls that run while their world changes under
 * them.  The target exits, execs, unmaps or reprotects its memory; another
 * thread unmaps the caller's buffer, closes and reuses the pidfd's number,
 * writes the same memory, or tries to unload the module; the tracer dies,
 * detaches and reattaches.  Each test runs a fixed number of rounds (cut
 * short if a slow kernel would take much longer than 25 s, counted from
 * the first round, after the test's own setup), asserts that every status
 * is one Documentation/zxmem.rst gives for that race, that actual is left
 * alone on errors and is at most the size on ZX_OK, and that memory never
 * holds a byte nobody wrote.  A test that ran fewer rounds than its floor,
 * or hit the race it is about fewer times than its floor (calls that
 * overlapped the exit, the exec, the unmap...; each test says what it
 * counts), fails: a race test that never raced tested nothing.  The floors
 * are a fraction of what make check-debug measures on its KASAN kernel
 * under TCG.  The kernel must not splat; that is for the console to show.
 *
 * Patterns: a target's memory starts as SEED_OLD (0x11) bytes, writers write
 * SEED_NEW (0xee) or their own byte; a fresh anonymous page reads as 0.
 *
 * Run as root with zxmem.ko loaded; the fixture switches
 * enable_debugging_syscalls on and restores it afterwards.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The 6.1 harness has an unused parameter; -Wextra -Werror would stop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "common.h"

#define PAGE		4096UL
#define XFER		(64UL << 20)	/* the largest transfer */
#define SEED_OLD		0x11
#define SEED_NEW		0xee

/* Fixed homes, far from what the kernel places by itself. */
#define REGION		0x200000000000UL	/* the target's 64 MiB */
#define SELF_REGION	0x210000000000UL	/* ours, for self-pidfd calls */
#define BUF_ADDR	0x220000000000UL	/* a buffer that comes and goes */
#define EXEC_REGION	0x230000000000UL	/* ours, executable */

/*
 * Seconds a test may spend on rounds.  Measured under TCG with KASAN on a
 * loaded machine (rounds / race windows hit, floors in the tests): exits
 * 5 / 4 overlapping calls; exec 7 / 7 cut short; churn 6 / 21; buffer
 * 8 / 2 partial, 5 untouched, 17 failed reads (before the 16-round plan);
 * dying tracer 4 / 4 (1 round once its call took 7 s: the measurement
 * of that is setup now); detach 20 / 359749; fd reuse 200 / 53 (in 4 s);
 * writers 4 writes each / 17 contended, 3 / 11; rmmod 200 / 192.
 */
#define BUDGET		25.0

/* Flags one thread (or process) sets and another polls. */
static bool flag_get(const bool *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

static void flag_set(bool *flag, bool value)
{
	__atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

/* Something the re-executed image has at the same address (non-PIE). */
static const char exec_marker[64] = "zxmem races: the image after exec";

/* Random numbers for delays and ranges, each thread its own. */
static __thread uint64_t rng = 0x853c49e6748fea9bULL;

/* Statuses, counted per caller (assertions only in the test's thread). */
struct tally {
	unsigned long calls;
	unsigned long n[ST_NR];
	unsigned long short_ok;		/* ZX_OK with 0 < actual < size */
	unsigned long undocumented;
	unsigned long bad_actual;
	unsigned long bad_bytes;
	int first_bad_ret;
	int first_bad_errno;
	zx_status_t first_bad;
};

static void tally_add(struct tally *t, const struct transfer *r,
		      unsigned int allowed, uint64_t len)
{
	enum status_class i = answer_class(r->ret, r->err, r->status);

	t->calls++;
	t->n[i]++;
	/* No race is answered through errno. */
	if (r->ret) {
		if (!t->undocumented++) {
			t->first_bad_ret = r->ret;
			t->first_bad_errno = r->err;
		}
		return;
	}
	if (!(allowed & ST_BIT(i)) && !t->undocumented++)
		t->first_bad = r->status;
	if (r->status == ZX_OK) {
		if (!r->actual || r->actual > len)
			t->bad_actual++;
		else if (r->actual < len)
			t->short_ok++;
	} else if (r->actual != ACTUAL_UNTOUCHED) {
		t->bad_actual++;
	}
}

static void tally_merge(struct tally *into, const struct tally *from)
{
	int i;

	into->calls += from->calls;
	for (i = 0; i < ST_NR; i++)
		into->n[i] += from->n[i];
	into->short_ok += from->short_ok;
	into->bad_actual += from->bad_actual;
	into->bad_bytes += from->bad_bytes;
	if (from->undocumented && !into->undocumented) {
		into->first_bad = from->first_bad;
		into->first_bad_ret = from->first_bad_ret;
		into->first_bad_errno = from->first_bad_errno;
	}
	into->undocumented += from->undocumented;
}

static void tally_print(const char *who, const struct tally *t)
{
	char line[512];
	int i, at;

	at = snprintf(line, sizeof(line), "# %s: %lu calls:", who, t->calls);
	for (i = 0; i < ST_NR; i++)
		if (t->n[i] && at < (int)sizeof(line))
			at += snprintf(line + at, sizeof(line) - at, " %s=%lu",
				       status_class_name[i], t->n[i]);
	if (at < (int)sizeof(line))
		snprintf(line + at, sizeof(line) - at, " (short ZX_OK=%lu)",
			 t->short_ok);
	/* stderr: the harness's test process ends with _exit(). */
	fprintf(stderr, "%s\n", line);
}

#define ASSERT_TALLY_CLEAN(t) do {					\
	ASSERT_EQ(0UL, (t)->undocumented) {				\
		TH_LOG("undocumented answer: ret=%d errno=%d status=%d (%s)", \
		       (t)->first_bad_ret, (t)->first_bad_errno,	\
		       (t)->first_bad,					\
		       zx_status_get_string((t)->first_bad));		\
	}								\
	ASSERT_EQ(0UL, (t)->bad_actual)				\
		TH_LOG("actual set on an error, or 0 or above the size"); \
	ASSERT_EQ(0UL, (t)->bad_bytes)				\
		TH_LOG("memory held bytes nobody wrote");		\
} while (0)

/* Memory of our own */

/*
 * @len bytes of @byte at @at (0: anywhere), in huge pages where the
 * kernel allows, left out of the targets we fork.
 */
static uint8_t *own_region(uint64_t at, size_t len, int byte)
{
	uint8_t *p = map_filled(at, len, 0, MADV_HUGEPAGE, byte);

	if (p)
		madvise(p, len, MADV_DONTFORK);
	return p;
}

/*
 * A caller's buffer of @len bytes of @byte, BUFFER_SKEW bytes off the
 * regions' 2 MiB alignment: under TCG a copy between addresses at the
 * same offset within 2 MiB runs ten times slower.
 */
static uint8_t *skewed_buffer(size_t len, int byte)
{
	uint8_t *p = map_skewed(len, BUFFER_SKEW, MADV_HUGEPAGE, byte);

	if (p)
		madvise(p - BUFFER_SKEW, len + BUFFER_SKEW, MADV_DONTFORK);
	return p;
}

/* A write's XFER bytes of SEED_NEW and a read's XFER zero bytes. */
static bool xfer_buffers(uint8_t **src, uint8_t **dst)
{
	*src = skewed_buffer(XFER, SEED_NEW);
	*dst = skewed_buffer(XFER, 0);
	return *src && *dst;
}

/* The target's region at @at: @len bytes of SEED_OLD, in huge pages. */
static int64_t target_region_at(struct target *t, uint64_t at, size_t len)
{
	return target_map_filled(t, at, len, 0, MADV_HUGEPAGE, SEED_OLD);
}

/* How long one 64 MiB write from @src into @c's region takes, in us. */
static uint64_t time_one_call(int dev, struct target *c, const void *src)
{
	double t0 = now_s();

	raw_call(dev, true, c->pidfd, REGION, src, XFER);
	return (uint64_t)((now_s() - t0) * 1e6) + 1;
}

FIXTURE(races)
{
	int dev;
	int saved_param;
	bool skip;
	double start;
};

/*
 * SKIP() in FIXTURE_SETUP ends only the setup in the 6.1 harness, which
 * then runs the body: each body starts with this.
 */
#define RETURN_IF_SKIPPED() do {	\
	if (self->skip)			\
		return;			\
} while (0)

FIXTURE_SETUP(races)
{
	self->dev = -1;
	self->saved_param = -1;
	self->start = now_s();
	rng ^= (uint64_t)getpid() << 17;
	if (access(ZXMEM_DEVICE_PATH, F_OK)) {
		self->skip = true;
		SKIP(return, "%s is missing: zxmem.ko is not loaded",
		     ZXMEM_DEVICE_PATH);
	}
	self->dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->saved_param = zxmem_param_get();
	ASSERT_LE(0, self->saved_param);
	ASSERT_EQ(0, zxmem_param_set(1));
}

FIXTURE_TEARDOWN(races)
{
	if (self->saved_param >= 0)
		EXPECT_EQ(0, zxmem_param_set(self->saved_param));
	if (self->dev >= 0)
		close(self->dev);
}

/* The budget counts from here: call it once the test's setup is done. */
static void start_rounds(FIXTURE_DATA(races) *self)
{
	self->start = now_s();
}

static bool over_budget(FIXTURE_DATA(races) *self)
{
	return now_s() - self->start > BUDGET;
}

/* At least @floor of the @planned rounds ran, or the test fails. */
#define ASSERT_ROUNDS(done, planned, floor) do {			\
	long __done = (done), __planned = (planned), __floor = (floor); \
									\
	TH_LOG("%ld of %ld rounds (floor %ld)%s", __done, __planned,	\
	       __floor, __done < __planned ?				\
	       ": the time budget ran out" : "");			\
	ASSERT_LE(__floor, __done)					\
		TH_LOG("too few rounds to have tested anything");	\
} while (0)

/* The race happened at least @floor times, or the test fails. */
#define ASSERT_WINDOWS(hit, floor, what) do {				\
	unsigned long __hit = (hit), __floor = (floor);			\
	const char *__what = (what);					\
									\
	TH_LOG("race windows hit: %lu %s (floor %lu)", __hit, __what,	\
	       __floor);						\
	ASSERT_LE(__floor, __hit)					\
		TH_LOG("the race was not hit often enough: %s", __what); \
} while (0)

/* Has the process behind @pidfd exited (readable pidfd)? */
static bool pidfd_exited(int pidfd)
{
	struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1;
}

/* 1. The target exits, by itself or killed and reaped, mid-transfer. */

struct killer {
	pid_t pid;
	uint64_t delay_us;
};

static void *kill_and_reap(void *arg)
{
	struct killer *k = arg;

	sleep_us(k->delay_us);
	kill(k->pid, SIGKILL);
	/* Any thread of the tracer may reap its tracee. */
	waitpid(k->pid, NULL, __WALL);
	return NULL;
}

TEST_F_TIMEOUT(races, target_exits_during_64mib_transfers, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	const int planned = 12, min_rounds = 2;
	/* calls the exit overlapped: alive when they began, gone at the end */
	const unsigned long min_overlapped = 1;
	unsigned long overlapped = 0;
	uint8_t *src, *dst;
	uint64_t call_us = 0;
	struct tally all = { 0 };
	int round;

	RETURN_IF_SKIPPED();
	ASSERT_TRUE(xfer_buffers(&src, &dst));
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		bool killed = round & 1;
		unsigned int allowed = ST_BIT(ST_OK) | ST_BIT(ST_BAD_STATE) |
				       ST_BIT(ST_NO_MEMORY);
		struct killer k;
		pthread_t killer;
		struct target c;
		int failures = 0, i;

		ASSERT_EQ(0, target_spawn(&c));
		ASSERT_EQ(0, target_trace(&c));
		ASSERT_EQ((int64_t)REGION, target_region_at(&c, REGION, XFER));
		if (!call_us)
			call_us = time_one_call(self->dev, &c, src);

		k.pid = c.pid;
		k.delay_us = rng_below(&rng, 2 * call_us);
		if (killed) {
			/* Between unlink and release, no tracer, no zombie. */
			allowed |= ST_BIT(ST_ACCESS_DENIED);
			ASSERT_EQ(0, pthread_create(&killer, NULL,
						    kill_and_reap, &k));
		} else {
			struct child_request req = {
				.op = CHILD_EXIT, .delay_us = k.delay_us,
			};

			ASSERT_EQ(0, target_ask(&c, &req));
		}

		for (i = 0; i < 40 && failures < 2; i++) {
			bool write = !(i & 1);
			bool alive = !pidfd_exited(c.pidfd);
			struct transfer r = raw_call(self->dev, write, c.pidfd, REGION,
						     write ? src : dst, XFER);

			overlapped += alive && pidfd_exited(c.pidfd);
			tally_add(&all, &r, allowed, XFER);
			failures = r.ret || r.status != ZX_OK ? failures + 1 : 0;
			if (!write && !r.ret && r.status == ZX_OK &&
			    r.actual <= XFER)
				all.bad_bytes += count_outside(dst, r.actual,
							       seen, 2);
		}
		if (killed) {
			ASSERT_EQ(0, pthread_join(killer, NULL));
			c.pid = 0;
		}
		target_kill(&c);
		ASSERT_TALLY_CLEAN(&all);
	}
	tally_print("exits", &all);
	TH_LOG("one 64 MiB write takes %" PRIu64 " us; %lu calls cut short",
	       call_us, all.short_ok);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(overlapped, min_overlapped,
		       "calls that the target's exit overlapped");
}

/* 2. The target execs mid-transfer. */

TEST_F_TIMEOUT(races, target_execs_mid_transfer, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	const int planned = 10, min_rounds = 2;
	/*
	 * Calls begun before the new image reported that saw the exec: cut
	 * short, or refused, or finding the region gone.
	 */
	const unsigned long min_saw_exec = 2;
	/* ... of which cut short mid-copy (ZX_OK, fewer bytes) */
	const unsigned long min_cut_short = 2;
	unsigned long saw_exec = 0;
	uint8_t *src, *dst;
	uint64_t call_us = 0;
	struct tally before = { 0 }, after = { 0 };
	int round;

	RETURN_IF_SKIPPED();
	ASSERT_TRUE(xfer_buffers(&src, &dst));
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		struct child_request req = {
			.op = CHILD_EXEC, .arg = EXEC_ANSWER_FIRST,
		};
		char marker[sizeof(exec_marker)];
		int i, extra = 0;
		double deadline;
		struct target c;
		struct transfer r;

		ASSERT_EQ(0, target_spawn(&c));
		ASSERT_EQ(0, target_trace(&c));
		ASSERT_EQ((int64_t)REGION, target_region_at(&c, REGION, XFER));
		if (!call_us)
			call_us = time_one_call(self->dev, &c, src);

		/* It answers, waits, execs; the new image answers again. */
		req.delay_us = rng_below(&rng, 2 * call_us);
		ASSERT_EQ(0, target_ask(&c, &req));

		/*
		 * Between the switch to the new mm and the new image's first
		 * instructions, calls answer fast: bound this by time.
		 */
		deadline = now_s() + 20;
		for (i = 0; extra < 2 && now_s() < deadline; i++) {
			bool write = !(i & 1);
			bool execed = target_answered(&c);

			r = raw_call(self->dev, write, c.pidfd, REGION,
				     write ? src : dst, XFER);
			if (execed) {
				/* Started after the exec: the region is gone. */
				tally_add(&after, &r, ST_BIT(ST_NO_MEMORY), XFER);
				extra++;
			} else {
				tally_add(&before, &r, ST_BIT(ST_OK) |
					  ST_BIT(ST_NO_MEMORY) | ST_BIT(ST_BAD_STATE),
					  XFER);
				saw_exec += r.ret || r.status != ZX_OK ||
					    r.actual != XFER;
			}
			if (!write && !r.ret && r.status == ZX_OK &&
			    r.actual <= XFER)
				before.bad_bytes += count_outside(dst, r.actual,
								  seen, 2);
		}
		ASSERT_EQ(2, extra) TH_LOG("the exec did not complete");
		/* The new image's first answer: its landing page, like ours. */
		ASSERT_EQ((int64_t)(uintptr_t)landing_page, target_answer(&c));

		/* Still the tracer of the new image, which is reachable. */
		memset(marker, 0, sizeof(marker));
		r = raw_call(self->dev, false, c.pidfd, (uintptr_t)exec_marker,
			     marker, sizeof(marker));
		ASSERT_EQ(0, r.ret);
		ASSERT_EQ(ZX_OK, r.status);
		ASSERT_EQ(sizeof(marker), r.actual);
		ASSERT_EQ(0, memcmp(marker, exec_marker, sizeof(marker)));

		target_kill(&c);
		ASSERT_TALLY_CLEAN(&before);
		ASSERT_TALLY_CLEAN(&after);
	}
	tally_print("before exec", &before);
	tally_print("after exec", &after);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(saw_exec, min_saw_exec,
		       "calls begun before the exec reported that saw it");
	ASSERT_WINDOWS(before.short_ok, min_cut_short,
		       "calls that the exec cut short mid-copy");
}

/* 3. The target unmaps, reprotects and drops its memory mid-transfer. */

TEST_F_TIMEOUT(races, target_unmaps_mprotects_madvises_during_transfers, 120)
{
	static const unsigned int mixes[] = {
		CHURN_UNMAP, CHURN_PROTECT, CHURN_DONTNEED,
		CHURN_UNMAP | CHURN_PROTECT | CHURN_DONTNEED,
	};
	const uint8_t seen[] = { 0, SEED_OLD, SEED_NEW };
	const int planned = 8, min_rounds = 2;
	/* calls that ran into the churn: stopped short, or at a hole */
	const unsigned long min_stopped = 5;
	uint8_t *src, *dst;
	struct tally all = { 0 };
	int64_t ops = 0, outside;
	struct target c;
	int round;

	RETURN_IF_SKIPPED();
	ASSERT_TRUE(xfer_buffers(&src, &dst));
	ASSERT_EQ(0, target_spawn(&c));
	ASSERT_EQ(0, target_trace(&c));
	ASSERT_EQ((int64_t)REGION, target_region_at(&c, REGION, XFER));
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		struct child_request churn = {
			.op = CHILD_CHURN,
			.addr = REGION,
			.len = XFER,
			.mode = mixes[round % 4],
			.arg = 3000,
			.seed = rng_next(&rng),
		};
		int64_t answer = 0;
		int i;

		ASSERT_EQ(0, target_send(&c, &churn));
		for (i = 0; !target_answered(&c); i++) {
			bool write = !(i & 1);
			/* Private mappings: RO and PROT_NONE are forced. */
			struct transfer r = raw_call(self->dev, write, c.pidfd, REGION,
						     write ? src : dst, XFER);

			tally_add(&all, &r, ST_BIT(ST_OK) | ST_BIT(ST_NO_MEMORY),
				  XFER);
			if (!write && !r.ret && r.status == ZX_OK &&
			    r.actual <= XFER)
				all.bad_bytes += count_outside(dst, r.actual,
							       seen, 3);
		}
		answer = target_answer(&c);
		ASSERT_NE(-EPIPE, answer) TH_LOG("the target did not answer");
		ASSERT_LE(0, answer) TH_LOG("churn: %s", strerror(-answer));
		ops += answer;
		ASSERT_TALLY_CLEAN(&all);
	}
	outside = target_outside(&c, REGION, XFER, seen, 3);
	ASSERT_EQ(0, outside);
	target_kill(&c);
	tally_print("churn", &all);
	TH_LOG("%" PRId64 " munmap/mprotect/madvise calls in the target", ops);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(all.short_ok + all.n[ST_NO_MEMORY], min_stopped,
		       "calls cut short or refused by the churn");
}

/* 4. Another thread unmaps and reprotects the caller's buffer. */

/*
 * Two buffers that come and go, one to write from, one to read into, each
 * a mapping of its half of one memfd, so that what they hold survives.
 */
/*
 * 8 MiB, not 64: still 64 batches of pinned pages, and under TCG with
 * KASAN enough calls in the budget for the buffer to go away during some.
 */
#define BUF_XFER	(8UL << 20)
#define BUF_LEN		(BUF_XFER + 2 * PAGE)
#define WBUF		BUF_ADDR
#define RBUF		(BUF_ADDR + (1UL << 30))

struct buffer_churn {
	int memfd;
	uint64_t pause_us;	/* about one call's time */
	uint64_t last_us;	/* how long the last call took */
	bool stop;
	int in_call;		/* 0, or the buffer the running call uses: 1 write, 2 read */
	unsigned long ops;
	int error;
};

/* Wait (at most @us) until in_call is @want, or at least not 0 (@want < 0). */
static void wait_call(struct buffer_churn *b, int want, uint64_t us)
{
	double end = now_s() + us / 1e6;
	int got;

	do {
		got = __atomic_load_n(&b->in_call, __ATOMIC_ACQUIRE);
		if (want < 0 ? got != 0 : got == want)
			return;
		sleep_us(200);
	} while (!flag_get(&b->stop) && now_s() < end);
}

/* Take pages [first, first + count) of the buffer @which away, or give them back. */
static void disturb(struct buffer_churn *b, int which, int how, uint64_t first,
		    uint64_t count, bool away)
{
	void *at = (void *)((which == 2 ? RBUF : WBUF) + first * PAGE);
	size_t len = count * PAGE;

	switch (how) {
	case 0:
		/* Gone, then back: the same memfd pages. */
		if (away)
			munmap(at, len);
		else if (mmap(at, len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_FIXED_NOREPLACE, b->memfd,
			      (which == 2 ? BUF_LEN : 0) + first * PAGE) != at)
			b->error = errno;
		break;
	case 1:
		mprotect(at, len, away ? PROT_NONE : PROT_READ | PROT_WRITE);
		break;
	default:
		/* Only a read (which writes the buffer) minds this one. */
		mprotect(at, len, away ? PROT_READ : PROT_READ | PROT_WRITE);
		break;
	}
}

/*
 * Take part of the caller's buffers away, in step with the calls (under
 * TCG a call is a small part of each round, so random timing would miss
 * them): one time in four from before a call begins until it ends (the
 * call finds its buffer bad from the start); otherwise from a random
 * moment of a running call until it ends.  The part runs from a random
 * page to the end of the buffer half the time, else it is up to 16 or
 * 4096 pages: a call that has not got that far yet meets it.
 */
static void *churn_buffer(void *arg)
{
	struct buffer_churn *b = arg;
	const size_t pages = BUF_LEN / PAGE;

	rng ^= 0x1234;
	while (!flag_get(&b->stop) && !b->error) {
		uint64_t first = rng_below(&rng, pages);
		uint64_t count = rng_below(&rng, 2) ? pages - first :
				 1 + rng_below(&rng, rng_below(&rng, 2) ? 16 : 4096);
		int how = rng_below(&rng, 3), which;
		uint64_t last;

		count = count > pages - first ? pages - first : count;
		if (rng_below(&rng, 4) == 0) {
			/* Before the next call, whichever buffer it uses. */
			wait_call(b, 0, 4 * b->pause_us);
			disturb(b, 1, how, first, count, true);
			disturb(b, 2, how, first, count, true);
			wait_call(b, -1, 4 * b->pause_us);
			wait_call(b, 0, 4 * b->pause_us);
			disturb(b, 1, how, first, count, false);
			disturb(b, 2, how, first, count, false);
		} else {
			wait_call(b, -1, 4 * b->pause_us);
			last = __atomic_load_n(&b->last_us, __ATOMIC_ACQUIRE);
			which = __atomic_load_n(&b->in_call, __ATOMIC_ACQUIRE);
			if (!which)
				continue;
			/* A write reads its buffer: PROT_READ stops nothing. */
			if (which == 1)
				how = rng_below(&rng, 2);
			/*
			 * From 1/8 to 3/4 into a call as long as the last:
			 * mostly after a write has faulted its buffer in.
			 */
			sleep_us(last / 8 + rng_below(&rng, last * 5 / 8));
			disturb(b, which, how, first, count, true);
			wait_call(b, 0, 4 * b->pause_us);
			disturb(b, which, how, first, count, false);
		}
		b->ops++;
	}
	return NULL;
}

TEST_F_TIMEOUT(races, caller_buffer_unmapped_mid_call, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	const uint8_t old[] = { SEED_OLD }, new[] = { SEED_NEW };
	const int planned = 16, min_rounds = 3;
	/*
	 * Failed writes that wrote a prefix first (the buffer went away
	 * mid-call, after the module had faulted it all in) and that wrote
	 * nothing (it was gone when the call began); failed reads.
	 */
	const unsigned long min_partial = 1, min_untouched = 1;
	const unsigned long min_failed_reads = 4;
	struct buffer_churn b = { 0 };
	struct tally writes = { 0 }, reads = { 0 };
	unsigned long partial = 0, untouched = 0;
	uint8_t *alias, *wbuf, *rbuf;
	struct target c;
	double t0;
	int round;

	RETURN_IF_SKIPPED();
	b.memfd = memfd_create("zxmem-races", MFD_CLOEXEC);
	ASSERT_LE(0, b.memfd);
	ASSERT_EQ(0, ftruncate(b.memfd, 2 * BUF_LEN));
	/* An alias that stays put, to look at what the buffers hold. */
	alias = mmap(NULL, 2 * BUF_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		     b.memfd, 0);
	ASSERT_NE(MAP_FAILED, alias);
	memset(alias, SEED_NEW, BUF_LEN);
	ASSERT_EQ((void *)WBUF, mmap((void *)WBUF, BUF_LEN,
				     PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_FIXED_NOREPLACE,
				     b.memfd, 0));
	ASSERT_EQ((void *)RBUF, mmap((void *)RBUF, BUF_LEN,
				     PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_FIXED_NOREPLACE,
				     b.memfd, BUF_LEN));
	wbuf = (uint8_t *)WBUF + BUFFER_SKEW;
	rbuf = (uint8_t *)RBUF + BUFFER_SKEW;

	ASSERT_EQ(0, target_spawn(&c));
	ASSERT_EQ(0, target_trace(&c));
	ASSERT_EQ((int64_t)REGION, target_region_at(&c, REGION, BUF_XFER));
	/* How long a call takes, for the disturbances to time themselves. */
	ASSERT_EQ(ZX_OK, raw_call(self->dev, false, c.pidfd, REGION, rbuf,
				  BUF_XFER).status);
	t0 = now_s();
	ASSERT_EQ(ZX_OK, raw_call(self->dev, true, c.pidfd, REGION, wbuf,
				  BUF_XFER).status);
	b.pause_us = (uint64_t)((now_s() - t0) * 1e6) + 1;
	b.last_us = b.pause_us;
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		pthread_t thread;
		double end = now_s() + 2.5;
		int i;

		flag_set(&b.stop, false);
		ASSERT_EQ(0, pthread_create(&thread, NULL, churn_buffer, &b));
		/* A write and a read at least, however slow they are. */
		for (i = 0; i < 2 || now_s() < end; i++) {
			bool write = !(i & 1);
			int64_t done;
			struct transfer r;
			double t1;

			if (write)
				ASSERT_EQ(0, target_memset(&c, REGION, BUF_XFER, SEED_OLD));
			t1 = now_s();
			__atomic_store_n(&b.in_call, write ? 1 : 2,
					 __ATOMIC_RELEASE);
			r = raw_call(self->dev, write, c.pidfd, REGION,
				     write ? wbuf : rbuf, BUF_XFER);
			__atomic_store_n(&b.in_call, 0, __ATOMIC_RELEASE);
			__atomic_store_n(&b.last_us,
					 (uint64_t)((now_s() - t1) * 1e6) + 1,
					 __ATOMIC_RELEASE);
			/*
			 * A write whose buffer goes away mid-call keeps what
			 * it wrote and says ZX_ERR_INVALID_ARGS (the
			 * documented exception); a read likewise.
			 */
			tally_add(write ? &writes : &reads, &r,
				  ST_BIT(ST_OK) | ST_BIT(ST_INVALID_ARGS), BUF_XFER);
			if (!write) {
				if (!r.ret && r.status == ZX_OK &&
				    r.actual <= BUF_XFER)
					reads.bad_bytes +=
						count_outside(alias + BUF_LEN +
							      BUFFER_SKEW, r.actual,
							      seen, 2);
				continue;
			}
			/* What was written is a prefix: all of it on ZX_OK. */
			done = target_outside(&c, REGION, BUF_XFER, old, 1);
			ASSERT_LE(0, done);
			if (!r.ret && r.status == ZX_OK)
				writes.bad_bytes += done != (int64_t)r.actual;
			else if (done)
				partial++;
			else
				untouched++;
			writes.bad_bytes += target_outside(&c, REGION, done, new, 1);
		}
		flag_set(&b.stop, true);
		ASSERT_EQ(0, pthread_join(thread, NULL));
		ASSERT_EQ(0, b.error) TH_LOG("remap: %s", strerror(b.error));
		ASSERT_TALLY_CLEAN(&writes);
		ASSERT_TALLY_CLEAN(&reads);
	}
	ASSERT_EQ(0, target_outside(&c, REGION, BUF_XFER, seen, 2));
	ASSERT_EQ(0ULL, count_outside(alias, BUF_LEN, new, 1));
	ASSERT_EQ(0ULL, count_outside(alias + BUF_LEN + BUFFER_SKEW, BUF_XFER,
				      seen, 2));
	target_kill(&c);
	tally_print("writes", &writes);
	tally_print("reads", &reads);
	TH_LOG("failed writes: %lu wrote a prefix first, %lu nothing; %lu disturbances of the buffers",
	       partial, untouched, b.ops);
	/*
	 * The documented reasons for a short ZX_OK (an unmapped or refused
	 * target page, an exec or exit, a fatal signal) are absent here: a
	 * buffer that goes away fails the call.
	 */
	EXPECT_EQ(0UL, writes.short_ok);
	EXPECT_EQ(0UL, reads.short_ok);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(partial, min_partial,
		       "writes whose buffer went away mid-call");
	ASSERT_WINDOWS(untouched, min_untouched,
		       "writes whose buffer was gone at the start");
	ASSERT_WINDOWS(reads.n[ST_INVALID_ARGS], min_failed_reads,
		       "reads whose buffer went away");
}

/* 5. The tracer dies mid-call; the kernel detaches it. */

struct tracer_share {
	struct tally t;
	bool in_call;		/* the tracer is inside the ioctl */
};

static void tracer_main(int dev, struct target *x, int ready,
			struct tracer_share *share, const uint8_t *src,
			uint8_t *dst)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	char c = 'r';
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ptrace(PTRACE_SEIZE, x->pid, NULL, NULL))
		_exit(1);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	for (i = 0;; i++) {
		bool write = !(i & 1);
		struct transfer r;

		flag_set(&share->in_call, true);
		r = raw_call(dev, write, x->pidfd, REGION, write ? src : dst, XFER);
		flag_set(&share->in_call, false);
		/* Cut short by SIGKILL: the status never gets here. */
		tally_add(&share->t, &r, ST_BIT(ST_OK), XFER);
		if (!write && !r.ret && r.status == ZX_OK && r.actual <= XFER)
			share->t.bad_bytes += count_outside(dst, r.actual,
							    seen, 2);
	}
}

TEST_F_TIMEOUT(races, tracer_killed_mid_call_detaches, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	const int planned = 10, min_rounds = 2;
	/* tracers killed while inside a call */
	const int min_mid_call = 1;
	struct tracer_share *shared;
	struct tally mine = { 0 };
	int mid_call = 0;
	uint64_t call_us = 0;
	uint8_t *src, *dst;
	struct target x;
	int round;

	RETURN_IF_SKIPPED();
	ASSERT_EQ(0, target_spawn(&x));
	ASSERT_EQ((int64_t)REGION, target_region_at(&x, REGION, XFER));
	/* Shared with the tracers we fork: no copy, and their counts. */
	shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, XFER + 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, XFER + 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(shared != MAP_FAILED && src != MAP_FAILED &&
		    dst != MAP_FAILED);
	src += BUFFER_SKEW;
	dst += BUFFER_SKEW;
	memset(src, SEED_NEW, XFER);
	memset(shared, 0, PAGE);
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		int ready[2], status;
		pid_t tracer;
		struct transfer r;
		char c;

		ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
		tracer = fork();
		ASSERT_LE(0, tracer);
		if (tracer == 0) {
			close(ready[0]);
			tracer_main(self->dev, &x, ready[1], shared, src, dst);
		}
		close(ready[1]);
		ASSERT_EQ(1, read(ready[0], &c, 1));
		close(ready[0]);
		if (!call_us) {
			double t0 = now_s();
			uint64_t calls = shared->t.calls;

			while (shared->t.calls < calls + 2)
				sleep_us(1000);
			call_us = (uint64_t)((now_s() - t0) * 1e6 / 2) + 1;
			/* Measuring is setup: the rounds' budget starts now. */
			start_rounds(self);
		}
		/* Its calls follow each other: most moments are mid-call. */
		sleep_us(rng_below(&rng, call_us));
		mid_call += flag_get(&shared->in_call);
		ASSERT_EQ(0, kill(tracer, SIGKILL));
		ASSERT_EQ(tracer, waitpid(tracer, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status));

		/* The tracer's death detached it: the target runs on. */
		ASSERT_EQ(0, proc_field(x.pid, "status", "TracerPid"));
		ASSERT_EQ(0, target_simple(&x, CHILD_PING));
		/* And nobody holds the right any more. */
		r = raw_call(self->dev, true, x.pidfd, REGION, src, PAGE);
		tally_add(&mine, &r, ST_BIT(ST_ACCESS_DENIED), PAGE);
		ASSERT_TALLY_CLEAN(&shared->t);
		ASSERT_TALLY_CLEAN(&mine);
	}
	ASSERT_EQ(0, target_outside(&x, REGION, XFER, seen, 2));
	target_kill(&x);
	tally_print("dying tracers", &shared->t);
	TH_LOG("one 64 MiB call takes about %" PRIu64 " us", call_us);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(mid_call, min_mid_call,
		       "tracers killed inside a call");
}

/*
 * 6. The tracer attaches and detaches while other threads of its process
 * call.  ptrace is per thread: only the thread that attached holds the
 * tracer's right and only it may detach, so it cannot detach in the middle
 * of its own call.  What races is the relation check of the other
 * threads' calls against the link coming and going (and the tracer's own
 * calls against its tracee stopping and resuming).
 */

struct denied_caller {
	int dev;
	int pidfd;
	const uint8_t *src;
	uint8_t *dst;
	bool *stop;
	bool *attached;		/* our tracer thread is attached */
	unsigned long while_attached;	/* calls made wholly while it was */
	struct tally t;
};

static void *call_untraced(void *arg)
{
	struct denied_caller *d = arg;
	int i;

	for (i = 0; !flag_get(d->stop); i++) {
		bool write = !(i & 1);
		uint64_t len = i & 2 ? XFER : PAGE;
		bool attached = flag_get(d->attached);
		struct transfer r = raw_call(d->dev, write, d->pidfd, REGION,
					     write ? (const void *)d->src : d->dst, len);

		d->while_attached += attached && flag_get(d->attached);
		tally_add(&d->t, &r, ST_BIT(ST_ACCESS_DENIED), len);
	}
	return NULL;
}

TEST_F_TIMEOUT(races, tracer_detach_and_reattach_race_other_threads, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW };
	const int planned = 40, min_rounds = 6;
	/* the other threads' calls made while this thread was attached */
	const unsigned long min_while_attached = 1000;
	struct denied_caller others[2];
	pthread_t threads[2];
	struct tally attached = { 0 }, detached = { 0 }, denied = { 0 };
	bool stop = false, is_attached = false;
	unsigned long while_attached = 0;
	uint8_t *src, *dst;
	struct target x;
	int round, i;

	RETURN_IF_SKIPPED();
	ASSERT_TRUE(xfer_buffers(&src, &dst));
	ASSERT_EQ(0, target_spawn(&x));
	ASSERT_EQ((int64_t)REGION, target_region_at(&x, REGION, XFER));
	for (i = 0; i < 2; i++) {
		others[i] = (struct denied_caller){
			.dev = self->dev, .pidfd = x.pidfd, .src = src,
			.dst = dst, .stop = &stop, .attached = &is_attached,
		};
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, call_untraced,
					    &others[i]));
	}
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		int status;
		struct transfer r;

		ASSERT_EQ(0, target_trace(&x));
		flag_set(&is_attached, true);
		r = raw_call(self->dev, true, x.pidfd, REGION, src,
			     round & 1 ? XFER : PAGE);
		tally_add(&attached, &r, ST_BIT(ST_OK), round & 1 ? XFER : PAGE);
		ASSERT_EQ(round & 1 ? XFER : PAGE, r.actual);
		r = raw_call(self->dev, false, x.pidfd, REGION, dst, PAGE);
		tally_add(&attached, &r, ST_BIT(ST_OK), PAGE);
		attached.bad_bytes += count_outside(dst, PAGE, seen, 2);

		ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, x.pid, NULL, NULL));
		ASSERT_EQ(x.pid, waitpid(x.pid, &status, __WALL));
		ASSERT_TRUE(WIFSTOPPED(status));
		/* Stopped under us: calls work all the same. */
		r = raw_call(self->dev, false, x.pidfd, REGION, dst, PAGE);
		tally_add(&attached, &r, ST_BIT(ST_OK), PAGE);
		flag_set(&is_attached, false);
		ASSERT_EQ(0, ptrace(PTRACE_DETACH, x.pid, NULL, NULL));

		r = raw_call(self->dev, round & 1, x.pidfd, REGION,
			     round & 1 ? (void *)src : dst, PAGE);
		tally_add(&detached, &r, ST_BIT(ST_ACCESS_DENIED), PAGE);
		ASSERT_TALLY_CLEAN(&attached);
		ASSERT_TALLY_CLEAN(&detached);
	}
	flag_set(&stop, true);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		tally_merge(&denied, &others[i].t);
		while_attached += others[i].while_attached;
	}
	ASSERT_TALLY_CLEAN(&denied);
	ASSERT_EQ(0, target_outside(&x, REGION, XFER, seen, 2));
	ASSERT_EQ(0, target_simple(&x, CHILD_PING));
	target_kill(&x);
	tally_print("tracer, attached", &attached);
	tally_print("tracer, detached", &detached);
	tally_print("other threads", &denied);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(while_attached, min_while_attached,
		       "other threads' calls denied while this thread was attached");
}

/* 7. The pidfd is closed, and its number reused, by another thread. */

#define JUGGLED_FD	600
/*
 * Each call moves this much.  What the test needs is calls during which
 * the number changes, and the juggler changes it every few milliseconds,
 * so a call of this size (tens of ms under KASAN) spans several changes.
 * At XFER a successful call took about half a second, and on a loaded
 * host the budget ran out after 13 of the tracer thread's 48 calls (CI,
 * 7.2-debug, one TCG thread for both vCPUs), below the floor of 16.  At
 * this size, with the host's two cores kept busy beside the VM: 200
 * rounds in 4 to 9 s, and 53 to 142 calls saw the number change.
 */
#define FD_XFER	(4UL << 20)

struct juggler {
	int choices[5];		/* what the number may become; -1: closed */
	bool stop;
	unsigned long swaps;
	int error;
};

static void *juggle(void *arg)
{
	struct juggler *j = arg;

	rng ^= 0x5678;
	while (!flag_get(&j->stop)) {
		int fd = j->choices[rng_below(&rng, 6) % 5];

		if (rng_below(&rng, 6) == 5 || fd < 0)
			close(JUGGLED_FD);
		else if (dup2(fd, JUGGLED_FD) != JUGGLED_FD)
			j->error = errno;
		__atomic_fetch_add(&j->swaps, 1, __ATOMIC_RELEASE);
		sleep_us(rng_below(&rng, 50));
	}
	return NULL;
}

struct juggled_caller {
	int dev;
	uint8_t byte;		/* what this caller writes */
	const uint8_t *src;
	uint8_t *dst;
	const uint8_t *seen;
	int nr_seen;
	bool *stop;
	unsigned long max_calls;
	const unsigned long *swaps;	/* the juggler's count */
	unsigned long swapped;	/* calls during which the number moved */
	struct tally t;
};

static void *call_juggled(void *arg)
{
	struct juggled_caller *c = arg;
	unsigned long i;

	for (i = 0; i < c->max_calls && !flag_get(c->stop); i++) {
		bool write = !(c->t.calls & 1);
		unsigned long swaps = __atomic_load_n(c->swaps, __ATOMIC_ACQUIRE);
		struct transfer r = raw_call(c->dev, write, JUGGLED_FD, SELF_REGION,
					     write ? (const void *)c->src : c->dst,
					     FD_XFER);

		c->swapped += __atomic_load_n(c->swaps, __ATOMIC_ACQUIRE) != swaps;
		/* Own process, tracee, untraced child, not a pidfd, closed. */
		tally_add(&c->t, &r, ST_BIT(ST_OK) | ST_BIT(ST_ACCESS_DENIED) |
			  ST_BIT(ST_WRONG_TYPE) | ST_BIT(ST_BAD_HANDLE), FD_XFER);
		if (!write && !r.ret && r.status == ZX_OK && r.actual <= FD_XFER)
			c->t.bad_bytes += count_outside(c->dst, r.actual,
							c->seen, c->nr_seen);
		/* Let the juggler move between the calls too. */
		sleep_us(rng_below(&rng, 200));
	}
	return NULL;
}

TEST_F_TIMEOUT(races, pidfd_closed_and_reused_mid_call, 120)
{
	const uint8_t seen[] = { SEED_OLD, SEED_NEW, SEED_NEW - 1 };
	const unsigned long planned = 200, min_rounds = 50;
	/* calls (of both threads) during which the fd number changed */
	const unsigned long min_swapped = 6;
	struct juggled_caller me, other;
	struct juggler j = { .stop = false };
	bool stop = false;
	pthread_t juggler, caller;
	uint8_t *region;
	struct target x, y;
	int self_pidfd, null_fd, event_fd;
	double t0;

	RETURN_IF_SKIPPED();
	/* Three processes with the region at the same address. */
	ASSERT_EQ(0, target_spawn(&x));
	ASSERT_EQ(0, target_spawn(&y));
	ASSERT_EQ((int64_t)SELF_REGION, target_region_at(&x, SELF_REGION, FD_XFER));
	ASSERT_EQ((int64_t)SELF_REGION, target_region_at(&y, SELF_REGION, FD_XFER));
	region = own_region(SELF_REGION, FD_XFER, SEED_OLD);
	ASSERT_NE(NULL, region);
	ASSERT_EQ(0, target_trace(&x));
	self_pidfd = zxmem_pidfd_open(getpid());
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	event_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_TRUE(self_pidfd >= 0 && null_fd >= 0 && event_fd >= 0);
	ASSERT_EQ(JUGGLED_FD, dup2(self_pidfd, JUGGLED_FD));

	j.choices[0] = self_pidfd;
	j.choices[1] = x.pidfd;
	j.choices[2] = y.pidfd;
	j.choices[3] = null_fd;
	j.choices[4] = event_fd;
	/* This thread is the tracer; the other thread holds no right to x. */
	me = (struct juggled_caller){
		.dev = self->dev, .byte = SEED_NEW,
		.src = skewed_buffer(FD_XFER, SEED_NEW),
		.dst = skewed_buffer(FD_XFER, 0),
		.seen = seen, .nr_seen = 3, .stop = &stop, .swaps = &j.swaps,
	};
	other = (struct juggled_caller){
		.dev = self->dev, .byte = SEED_NEW - 1,
		.src = skewed_buffer(FD_XFER, SEED_NEW - 1),
		.dst = skewed_buffer(FD_XFER, 0),
		.seen = seen, .nr_seen = 3, .stop = &stop,
		.max_calls = ~0UL, .swaps = &j.swaps,
	};
	ASSERT_TRUE(me.src && me.dst && other.src && other.dst);
	start_rounds(self);
	t0 = now_s();
	ASSERT_EQ(0, pthread_create(&juggler, NULL, juggle, &j));
	ASSERT_EQ(0, pthread_create(&caller, NULL, call_juggled, &other));

	while (me.t.calls < planned && !over_budget(self)) {
		me.max_calls = 1;
		call_juggled(&me);
	}
	flag_set(&stop, true);
	ASSERT_EQ(0, pthread_join(caller, NULL));
	flag_set(&j.stop, true);
	ASSERT_EQ(0, pthread_join(juggler, NULL));
	ASSERT_EQ(0, j.error) TH_LOG("dup2: %s", strerror(j.error));
	ASSERT_TALLY_CLEAN(&me.t);
	ASSERT_TALLY_CLEAN(&other.t);

	/* Ours: anyone's bytes; the tracee's: this thread's; the other's: none. */
	ASSERT_EQ(0ULL, count_outside(region, FD_XFER, seen, 3));
	ASSERT_EQ(0, target_outside(&x, SELF_REGION, FD_XFER, seen, 2));
	ASSERT_EQ(0, target_outside(&y, SELF_REGION, FD_XFER, seen, 1));
	target_kill(&x);
	target_kill(&y);
	tally_print("tracer thread", &me.t);
	tally_print("other thread", &other.t);
	TH_LOG("%lu swaps of fd %d in %.1f s", j.swaps, JUGGLED_FD, now_s() - t0);
	ASSERT_ROUNDS(me.t.calls, planned, min_rounds);
	ASSERT_WINDOWS(me.swapped + other.swapped, min_swapped,
		       "calls during which the fd number was closed or reused");
}

/* 8. Several threads write the same memory: their own process. */

#define WRITERS		4
#define WRITES		12
#define EXEC_LEN	(64 * 1024)

struct span {
	uint64_t start;
	uint64_t end;
	double t0, t1;		/* when the call began and ended */
};

struct writer {
	int dev;
	int pidfd;
	uint8_t byte;
	uint8_t *src;
	uint8_t *dst;
	const uint8_t *seen;
	double deadline;
	struct span spans[WRITES];	/* what it wrote into the region */
	struct span exec_spans[WRITES];	/* ... and into the exec region */
	int nr_spans;
	struct tally t;
};

static void *write_same(void *arg)
{
	struct writer *w = arg;
	int i;

	rng ^= (uint64_t)w->byte << 32;
	for (i = 0; i < WRITES && now_s() < w->deadline; i++) {
		uint64_t off = i & 1 ? 0 : rng_below(&rng, XFER);
		uint64_t len = i & 1 ? XFER : 1 + rng_below(&rng, XFER - off);
		uint64_t eoff = rng_below(&rng, EXEC_LEN);
		uint64_t elen = 1 + rng_below(&rng, EXEC_LEN - eoff);
		struct transfer r;

		double t0 = now_s();

		/* Anonymous memory, then an executable mapping. */
		r = raw_call(w->dev, true, w->pidfd, SELF_REGION + off, w->src,
			     len);
		tally_add(&w->t, &r, ST_BIT(ST_OK), len);
		w->t.bad_actual += !r.ret && r.actual != len;
		w->spans[i] = (struct span){ off, off + len, t0, now_s() };
		t0 = now_s();
		r = raw_call(w->dev, true, w->pidfd, EXEC_REGION + eoff, w->src,
			     elen);
		tally_add(&w->t, &r, ST_BIT(ST_OK), elen);
		w->t.bad_actual += !r.ret && r.actual != elen;
		w->exec_spans[i] = (struct span){ eoff, eoff + elen, t0, now_s() };
		w->nr_spans = i + 1;

		r = raw_call(w->dev, false, w->pidfd, SELF_REGION, w->dst, XFER);
		tally_add(&w->t, &r, ST_BIT(ST_OK), XFER);
		if (!r.ret && r.status == ZX_OK && r.actual <= XFER)
			w->t.bad_bytes += count_outside(w->dst, r.actual,
							w->seen, WRITERS + 1);
	}
	return NULL;
}

/*
 * After the writers: each byte holds the byte of one of the writers whose
 * writes covered it, or SEED_OLD where none did.
 */
static uint64_t check_coverage(const uint8_t *mem, uint64_t len,
			       struct writer *w, bool exec)
{
	uint64_t cuts[2 * WRITERS * WRITES + 2], bad = 0;
	int nr = 0, i, k, a, b;

	cuts[nr++] = 0;
	cuts[nr++] = len;
	for (i = 0; i < WRITERS; i++)
		for (k = 0; k < w[i].nr_spans; k++) {
			const struct span *s = exec ? &w[i].exec_spans[k] :
						      &w[i].spans[k];

			cuts[nr++] = s->start;
			cuts[nr++] = s->end;
		}
	for (a = 1; a < nr; a++)	/* insertion sort, a few hundred */
		for (b = a; b > 0 && cuts[b - 1] > cuts[b]; b--) {
			uint64_t tmp = cuts[b];

			cuts[b] = cuts[b - 1];
			cuts[b - 1] = tmp;
		}
	for (a = 0; a + 1 < nr; a++) {
		uint64_t from = cuts[a], to = cuts[a + 1];
		uint8_t set[WRITERS];
		int n = 0;

		if (from >= to)
			continue;
		for (i = 0; i < WRITERS; i++)
			for (k = 0; k < w[i].nr_spans; k++) {
				const struct span *s = exec ?
					&w[i].exec_spans[k] : &w[i].spans[k];

				if (s->start <= from && to <= s->end) {
					set[n++] = w[i].byte;
					break;
				}
			}
		if (!n)
			set[n++] = SEED_OLD;
		bad += count_outside(mem + from, to - from, set, n);
	}
	return bad;
}

/* Writes that overlapped another writer's write, in time and in bytes. */
static unsigned long count_contended(const struct writer *w, bool exec)
{
	unsigned long contended = 0;
	int i, k, m, n;

	for (i = 0; i < WRITERS; i++)
		for (k = 0; k < w[i].nr_spans; k++) {
			const struct span *a = exec ? &w[i].exec_spans[k] :
						      &w[i].spans[k];
			bool hit = false;

			for (m = 0; m < WRITERS && !hit; m++)
				for (n = 0; m != i && n < w[m].nr_spans; n++) {
					const struct span *b = exec ?
						&w[m].exec_spans[n] :
						&w[m].spans[n];

					if (a->start < b->end &&
					    b->start < a->end &&
					    a->t0 < b->t1 && b->t0 < a->t1) {
						hit = true;
						break;
					}
				}
			contended += hit;
		}
	return contended;
}

TEST_F_TIMEOUT(races, several_threads_write_the_same_target, 120)
{
	/* writes by each writer, of WRITES; and writes another one overlapped */
	const int min_writes = 1;
	const unsigned long min_contended = 4;
	unsigned long contended;
	int fewest;
	const uint8_t seen[WRITERS + 1] = { SEED_OLD, 0xa1, 0xb2, 0xc3, 0xd4 };
	struct writer writers[WRITERS];
	pthread_t threads[WRITERS];
	struct tally all = { 0 };
	uint8_t *region, *code;
	int pidfd, i, writes = 0;

	RETURN_IF_SKIPPED();
	region = own_region(SELF_REGION, XFER, SEED_OLD);
	ASSERT_NE(NULL, region);
	code = own_region(EXEC_REGION, EXEC_LEN, SEED_OLD);
	ASSERT_NE(NULL, code);
	ASSERT_EQ(0, mprotect(code, EXEC_LEN, PROT_READ | PROT_EXEC));
	pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, pidfd);

	for (i = 0; i < WRITERS; i++) {
		writers[i] = (struct writer){
			.dev = self->dev, .pidfd = pidfd, .byte = seen[i + 1],
			.src = skewed_buffer(XFER, seen[i + 1]),
			.dst = skewed_buffer(XFER, 0), .seen = seen,
		};
		ASSERT_TRUE(writers[i].src && writers[i].dst);
	}
	start_rounds(self);
	for (i = 0; i < WRITERS; i++) {
		writers[i].deadline = self->start + BUDGET;
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, write_same,
					    &writers[i]));
	}
	for (i = 0; i < WRITERS; i++) {
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
		tally_merge(&all, &writers[i].t);
		writes += writers[i].nr_spans;
	}
	ASSERT_TALLY_CLEAN(&all);
	/* No writer may have done (next to) nothing: "all SEED_OLD" proves nothing. */
	fewest = WRITES;
	for (i = 0; i < WRITERS; i++)
		fewest = writers[i].nr_spans < fewest ? writers[i].nr_spans :
							fewest;
	ASSERT_LE(min_writes, fewest)
		TH_LOG("a writer made only %d of %d writes", fewest, WRITES);
	ASSERT_EQ(0ULL, check_coverage(region, XFER, writers, false));
	ASSERT_EQ(0ULL, check_coverage(code, EXEC_LEN, writers, true));
	tally_print("writers", &all);
	ASSERT_ROUNDS(fewest, WRITES, min_writes);
	TH_LOG("%d writes in all", writes);
	contended = count_contended(writers, false) +
		    count_contended(writers, true);
	ASSERT_WINDOWS(contended, min_contended,
		       "writes that another writer's write overlapped");
}

/* 9. rmmod while the device is open and calls run. */

struct busy_caller {
	int dev;
	int pidfd;
	uint8_t *buf;
	uint8_t *region;
	bool *stop;
	int *in_call;		/* callers inside an ioctl now */
	unsigned long opens;
	int open_errno;
	struct tally t;
};

static void *keep_calling(void *arg)
{
	struct busy_caller *c = arg;
	int i;

	for (i = 0; !flag_get(c->stop); i++) {
		uint64_t len = i & 2 ? XFER : PAGE;
		struct transfer r;

		__atomic_fetch_add(c->in_call, 1, __ATOMIC_ACQ_REL);
		r = raw_call(c->dev, i & 1, c->pidfd, (uintptr_t)c->region,
			     c->buf, len);
		__atomic_fetch_sub(c->in_call, 1, __ATOMIC_ACQ_REL);
		tally_add(&c->t, &r, ST_BIT(ST_OK), len);
	}
	return NULL;
}

static void *keep_opening(void *arg)
{
	struct busy_caller *c = arg;
	int fd;

	while (!flag_get(c->stop)) {
		fd = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			c->open_errno = errno;
			break;
		}
		close(fd);
		c->opens++;
	}
	return NULL;
}

/* If an unload got through after all, put the module back. */
static void reload_module(int param)
{
	char options[64];
	int fd = open("zxmem.ko", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	snprintf(options, sizeof(options), "enable_debugging_syscalls=%d",
		 param);
	syscall(SYS_finit_module, fd, options, 0);
	close(fd);
}

/*
 * A module in use is refused with EWOULDBLOCK (kernel/module/main.c,
 * try_stop_module(); the same number as EAGAIN on Linux), as
 * Documentation/zxmem.rst says; EBUSY would mean the module is already
 * going or cannot be unloaded at all, and fails the test like any other
 * answer.
 */
TEST_F_TIMEOUT(races, rmmod_during_calls_is_refused, 120)
{
	const int planned = 200, min_rounds = 60;
	/* delete_module() tried while a call was running */
	const unsigned long min_during_call = 50;
	struct busy_caller callers[2], opener;
	pthread_t threads[3];
	bool stop = false;
	int in_call = 0;
	unsigned long ewouldblock = 0, unloaded = 0, other = 0;
	unsigned long rmmod_runs = 0, rmmod_refused = 0, during_call = 0;
	struct tally all = { 0 };
	int pidfd, round, i, last_errno = 0;

	RETURN_IF_SKIPPED();
	pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, pidfd);
	for (i = 0; i < 2; i++) {
		callers[i] = (struct busy_caller){
			.dev = self->dev, .pidfd = pidfd,
			.buf = skewed_buffer(XFER, SEED_NEW),
			.region = own_region(0, XFER, SEED_OLD),
			.stop = &stop, .in_call = &in_call,
		};
		ASSERT_TRUE(callers[i].buf && callers[i].region);
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, keep_calling,
					    &callers[i]));
	}
	opener = (struct busy_caller){ .stop = &stop };
	ASSERT_EQ(0, pthread_create(&threads[2], NULL, keep_opening, &opener));
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		bool busy;
		long ret;

		if (round % 25 == 24) {
			/* The command line way, too. */
			int status = system("rmmod zxmem >/dev/null 2>&1");

			rmmod_runs++;
			if (status != 0)
				rmmod_refused++;
			else
				unloaded++;
			continue;
		}
		busy = __atomic_load_n(&in_call, __ATOMIC_ACQUIRE) > 0;
		ret = syscall(SYS_delete_module, "zxmem", O_NONBLOCK);
		busy &= __atomic_load_n(&in_call, __ATOMIC_ACQUIRE) > 0;
		during_call += busy;
		if (ret == 0) {
			unloaded++;
		} else if (errno == EWOULDBLOCK) {
			ewouldblock++;
		} else {
			other++;
			last_errno = errno;
		}
		if (unloaded)
			break;
		sleep_us(rng_below(&rng, 20000));
	}
	flag_set(&stop, true);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	if (unloaded)
		reload_module(1);
	for (i = 0; i < 2; i++)
		tally_merge(&all, &callers[i].t);
	tally_print("callers", &all);
	TH_LOG("delete_module: %lu EWOULDBLOCK, %lu other; rmmod refused %lu of %lu; %lu opens",
	       ewouldblock, other, rmmod_refused, rmmod_runs, opener.opens);
	ASSERT_EQ(0UL, unloaded) TH_LOG("the module was unloaded while in use");
	ASSERT_EQ(0UL, other)
		TH_LOG("delete_module: errno %d (%s), not EWOULDBLOCK",
		       last_errno, strerror(last_errno));
	ASSERT_EQ(0, opener.open_errno);
	ASSERT_TALLY_CLEAN(&all);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(during_call, min_during_call,
		       "unload attempts while a call ran");
}

/*
 * 10. A batched call whose array another thread rewrites while it runs.
 * An array of more than one batch (32 segments) is read twice, once for
 * the total and once for the copy; a segment that grew in between must
 * not move more than the total the call judged.  Segment VEC_FLIPPED of
 * VEC_COUNT flips between 1 byte and 64 MiB: the call is refused as a
 * whole (the first read saw 64 MiB), or carried out with that segment
 * copying its 1 byte, or with one segment refused ZX_ERR_INVALID_ARGS
 * (the second read saw 64 MiB, more than the 1 byte the total kept).
 * The segments read this process's own memory, so only reads are needed.
 */
#define VEC_COUNT	40
#define VEC_FLIPPED	35

struct size_flipper {
	__u64 *size;
	bool *stop;
	unsigned long flips;
};

static void *flip_size(void *arg)
{
	struct size_flipper *f = arg;

	while (!flag_get(f->stop)) {
		__atomic_store_n(f->size, f->flips++ & 1 ?
				 ZXMEM_MAX_TRANSFER : 1, __ATOMIC_RELAXED);
		sched_yield();
	}
	return NULL;
}

TEST_F_TIMEOUT(races, batched_array_rewritten_mid_call_keeps_the_total, 120)
{
	const int planned = 3000, min_rounds = 300;
	/* calls whose two reads of the array saw different sizes */
	const unsigned long min_changed = 1;
	struct zxmem_segment segs[VEC_COUNT];
	unsigned long refused = 0, one_byte = 0, changed = 0, bad = 0;
	struct size_flipper f = { 0 };
	uint8_t *from, *to;
	bool stop = false;
	pthread_t flipper;
	int pidfd, round, i;

	RETURN_IF_SKIPPED();
	pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, pidfd);
	/* Room for 64 MiB both ways, should the total not hold. */
	from = mmap(NULL, ZXMEM_MAX_TRANSFER, PROT_READ,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	to = mmap(NULL, ZXMEM_MAX_TRANSFER, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(from != MAP_FAILED && to != MAP_FAILED);
	for (i = 0; i < VEC_COUNT; i++)
		segs[i] = (struct zxmem_segment){
			.vaddr = (uintptr_t)from + i * PAGE,
			.buffer = (uintptr_t)to + (i == VEC_FLIPPED ? 0 :
						   (i + 1) * PAGE),
			.size = 1,
		};
	f.size = &segs[VEC_FLIPPED].size;
	f.stop = &stop;
	ASSERT_EQ(0, pthread_create(&flipper, NULL, flip_size, &f));
	start_rounds(self);

	for (round = 0; round < planned && !over_budget(self); round++) {
		struct zxmem_vec vec = {
			.segments = (uintptr_t)segs,
			.count = VEC_COUNT,
			.handle = pidfd,
		};
		unsigned int ok_segs = 0, refused_segs = 0;

		for (i = 0; i < VEC_COUNT; i++)
			segs[i].status = STATUS_UNTOUCHED;
		if (ioctl(self->dev, ZXMEM_IOC_READ_MEMORY_VEC, &vec)) {
			bad++;
			continue;
		}
		if (vec.status == ZX_ERR_INVALID_ARGS && !vec.done) {
			refused++;
			continue;
		}
		/*
		 * The array is copied bytewise, so a read can also catch the
		 * size half rewritten (0, or above 64 MiB: invalid).  Then the
		 * first read counts that segment out, and the second, seeing 1
		 * byte, leaves the budget one short for a later one.  Either
		 * way: one segment refused at most, and none moves more.
		 */
		for (i = 0; i < VEC_COUNT; i++) {
			ok_segs += segs[i].status == ZX_OK &&
				   segs[i].actual == 1;
			refused_segs += segs[i].status == ZX_ERR_INVALID_ARGS;
		}
		if (vec.status == ZX_OK && vec.done == VEC_COUNT &&
		    ok_segs + refused_segs == VEC_COUNT && refused_segs <= 1 &&
		    vec.actual == ok_segs) {
			one_byte += !refused_segs;
			changed += refused_segs;
			continue;
		}
		if (bad++)
			continue;
		TH_LOG("call: %s, done %u, %llu bytes", zx_status_get_string(vec.status),
		       vec.done, (unsigned long long)vec.actual);
		for (i = 0; i < VEC_COUNT; i++)
			if (segs[i].status != ZX_OK || segs[i].actual != 1)
				TH_LOG("segment %d: %s, %llu bytes", i,
				       zx_status_get_string(segs[i].status),
				       (unsigned long long)segs[i].actual);
	}
	flag_set(&stop, true);
	ASSERT_EQ(0, pthread_join(flipper, NULL));
	close(pidfd);
	TH_LOG("%d calls: %lu refused, %lu with every byte, %lu with a segment refused, %lu wrong; %lu flips",
	       round, refused, one_byte, changed, bad, f.flips);
	ASSERT_EQ(0UL, bad);
	ASSERT_ROUNDS(round, planned, min_rounds);
	ASSERT_WINDOWS(changed, min_changed,
		       "calls that read the array twice and saw it change");
}

TEST_HARNESS_MAIN
