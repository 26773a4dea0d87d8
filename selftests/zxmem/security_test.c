// SPDX-License-Identifier: GPL-2.0
/*
 * Who holds the right, under every interleaving of ptrace and exec.
 *
 * The rule (Documentation/zxmem.rst, "The right to write or read"): the
 * caller's own process, or a process one of whose threads the calling
 * thread traces, with the image's dumpability respected.  These tests
 * race that rule against what the kernel does to a ptrace link and an mm
 * meanwhile: another tracer attaching and detaching, an exec into an image
 * the tracer may not touch while a call is in flight, the mm and its
 * dumpability changing together.  They also check the ways a debugger
 * legitimately gets the right (PTRACE_SEIZE, PTRACE_ATTACH, PTRACE_TRACEME,
 * a tracer in a user namespace, a tracer of one thread), the thread-group
 * rules (a zombie leader, thread pidfds) and force_override.
 *
 * Every call is a raw ioctl, so the status and actual checked are the
 * kernel's.  Run as root with zxmem.ko loaded: a missing /dev/zxmem fails.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
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

#define UFFD_SYSCTL	"/proc/sys/vm/unprivileged_userfaultfd"

/*
 * The bytes the exec tests aim at.  The test binary is static and not
 * PIE, so they sit at the same address in every image made from a copy
 * of it; a copy whose marker is patched tells its image apart.
 */
static volatile char marker[32] = "zxmem-marker-public-image------";
#define SECRET_MARKER	"zxmem-marker-SECRET-image------"

__attribute__((noinline, used, aligned(64))) static void victim_text(void)
{
	__asm__ volatile("nop; nop; nop; nop; nop; nop; nop; nop");
}

/*
 * One raw request: its status, 1000 + errno if ioctl() failed, or 2000
 * if the kernel wrote actual on an error.
 */
static int zx(int dev, bool write, int pidfd, uint64_t vaddr, void *buf,
	      uint64_t size, uint64_t *actual)
{
	struct transfer t = raw_call(dev, write, pidfd, vaddr, buf, size);

	if (t.ret)
		return 1000 + t.err;
	if (t.status != ZX_OK && t.actual != ACTUAL_UNTOUCHED)
		return 2000;
	if (actual)
		*actual = t.actual;
	return t.status;
}

static int open_dev(void)
{
	return open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
}

/* In a forked caller: become nobody, or end with 90. */
static void become_nobody(void)
{
	if (drop_to_nobody())
		_exit(90);
}

/*
 * A target process (common.h's protocol) and two pages of its memory,
 * mapped before the fork so the caller knows their addresses: rw
 * writable, ro private read-only, both full of 'o'.
 */
struct victim {
	struct target t;
	uint8_t *rw;
	uint8_t *ro;
};

/*
 * @thread: a second thread too (its tid in t.tid); @leader_exits: it
 * serves the requests and the main thread leaves.
 */
static int victim_start(struct victim *v, bool thread, bool leader_exits)
{
	size_t page = page_size();
	int64_t tid;

	v->t = TARGET_NONE;
	v->rw = mmap(NULL, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v->ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->rw == MAP_FAILED || v->ro == MAP_FAILED)
		return -1;
	memset(v->rw, 'o', page);
	memset(v->ro, 'o', page);
	if (mprotect(v->ro, page, PROT_READ) || target_spawn(&v->t))
		return -1;
	if (!thread)
		return 0;
	tid = target_simple(&v->t, leader_exits ? CHILD_LEADER_EXIT :
			    CHILD_THREAD);
	if (tid <= 0)
		return -1;
	v->t.tid = tid;
	return 0;
}

static void victim_stop(struct victim *v)
{
	size_t page = page_size();

	target_kill(&v->t);
	if (v->rw && v->rw != MAP_FAILED)
		munmap(v->rw, page);
	if (v->ro && v->ro != MAP_FAILED)
		munmap(v->ro, page);
	v->rw = NULL;
	v->ro = NULL;
}

/* Wait until @tid (a thread of @pid) is in a ptrace stop. */
static int wait_stopped(pid_t tid)
{
	int status;

	if (waitpid(tid, &status, __WALL) != tid)
		return -1;
	return WIFSTOPPED(status) ? 0 : -1;
}

/* What every test holds: the device, writes on, force_override saved. */
struct common {
	int dev;
	int old_param;
	char old_force[16];
};

static void common_setup(struct __test_metadata *_metadata, struct common *z)
{
	memset(z, 0, sizeof(*z));
	ASSERT_EQ(0, (int)getuid()) TH_LOG("run as root");
	z->dev = open_dev();
	ASSERT_LE(0, z->dev) TH_LOG("/dev/zxmem: %s", strerror(errno));
	z->old_param = zxmem_param_get();
	ASSERT_LE(0, z->old_param);
	ASSERT_EQ(0, zxmem_param_set(1));
	ASSERT_EQ(0, read_text(FORCE_PATH, z->old_force,
			       sizeof(z->old_force)));
	ASSERT_EQ(0, write_text(FORCE_PATH, 0, "always"));
}

static void common_teardown(struct common *z)
{
	zxmem_param_set(z->old_param);
	write_text(FORCE_PATH, 0, z->old_force);
	close(z->dev);
}

FIXTURE(zx)
{
	int dev;
	struct common z;
	struct victim target;
};

FIXTURE_SETUP(zx)
{
	common_setup(_metadata, &self->z);
	self->dev = self->z.dev;
	self->target = (struct victim){ .t = TARGET_NONE };
}

FIXTURE_TEARDOWN(zx)
{
	victim_stop(&self->target);
	common_teardown(&self->z);
}

/* Write 8 bytes of @c and read them back through the process pidfd. */
static int write_read(int dev, struct victim *t, char c)
{
	char out[8], in[8];
	uint64_t actual = 0;
	int status;

	memset(out, c, sizeof(out));
	status = zx(dev, true, t->t.pidfd, (uintptr_t)t->rw, out, 8, &actual);
	if (status != ZX_OK)
		return status;
	if (actual != 8)
		return 3000;
	status = zx(dev, false, t->t.pidfd, (uintptr_t)t->rw, in, 8, &actual);
	if (status != ZX_OK)
		return status;
	return actual == 8 && !memcmp(in, out, 8) ? ZX_OK : 3001;
}

/* The ways a debugger gets the right, each then judged per call. */

TEST_F(zx, tracer_by_ptrace_seize)
{
	ASSERT_EQ(0, victim_start(&self->target, false, false));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, &self->target, 's'));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->target.t.pid, 0, 0));
	ASSERT_EQ(ZX_OK, write_read(self->dev, &self->target, 's'));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, self->target.t.pid, 0, 0));
	ASSERT_EQ(0, wait_stopped(self->target.t.pid));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, self->target.t.pid, 0, 0));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, &self->target, 't'));
}

TEST_F(zx, tracer_by_ptrace_attach)
{
	ASSERT_EQ(0, victim_start(&self->target, false, false));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, self->target.t.pid, 0, 0));
	ASSERT_EQ(0, wait_stopped(self->target.t.pid));
	ASSERT_EQ(ZX_OK, write_read(self->dev, &self->target, 'a'));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, self->target.t.pid, 0, 0));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, &self->target, 'b'));
}

/*
 * How gdb starts a program: the child asks to be traced.  The kernel
 * records the tracee's cred, not the tracer's, so this is the path that
 * confirms the link across a grace period.
 */
TEST_F(zx, parent_of_a_traceme_child)
{
	struct child_request traceme = { .op = CHILD_TRACEME };
	struct victim *t = &self->target;
	struct rusage before, after;
	int i;

	ASSERT_EQ(0, victim_start(t, false, false));
	/* It answers once continued: here, once detached. */
	ASSERT_EQ(0, target_send(&t->t, &traceme));
	ASSERT_EQ(0, wait_stopped(t->t.pid));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'm'));

	/*
	 * The grace period is paid once per link, not per call: it sleeps,
	 * so 400 more calls that each waited for one would each switch out.
	 */
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &before));
	for (i = 0; i < 200; i++)
		ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'a' + i % 26));
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &after));
	TH_LOG("400 calls, %ld voluntary context switches",
	       after.ru_nvcsw - before.ru_nvcsw);
	ASSERT_GT(40, after.ru_nvcsw - before.ru_nvcsw);

	ASSERT_EQ(0, ptrace(PTRACE_DETACH, t->t.pid, 0, 0));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, t, 'n'));
}

/* A tracer whose creds changed after it attached keeps its tracee. */
TEST_F(zx, tracer_whose_creds_changed_since_attaching)
{
	gid_t groups[] = { 4242 };
	pid_t tracer;
	int status;

	ASSERT_EQ(0, victim_start(&self->target, false, false));
	tracer = fork();
	ASSERT_LE(0, tracer);
	if (tracer == 0) {
		if (ptrace(PTRACE_SEIZE, self->target.t.pid, 0, 0))
			_exit(1);
		/* commit_creds(): a new cred object, not the recorded one */
		if (setgroups(1, groups))
			_exit(2);
		_exit(write_read(self->dev, &self->target, 'c') == ZX_OK ? 0 : 3);
	}
	ASSERT_EQ(tracer, waitpid(tracer, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* A tracer in a user namespace of its own, over a child it forked there. */
TEST_F(zx, tracer_in_a_child_user_namespace)
{
	pid_t tracer;
	int status;

	tracer = fork();
	ASSERT_LE(0, tracer);
	if (tracer == 0) {
		struct victim t;
		int dev = self->dev, ok;

		become_nobody();
		if (unshare(CLONE_NEWUSER))
			_exit(4);	/* no user namespaces: reported below */
		if (victim_start(&t, false, false))
			_exit(1);
		if (ptrace(PTRACE_SEIZE, t.t.pid, 0, 0))
			_exit(2);
		ok = write_read(dev, &t, 'u') == ZX_OK;
		victim_stop(&t);
		_exit(ok ? 0 : 3);
	}
	ASSERT_EQ(tracer, waitpid(tracer, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 4)
		SKIP(return, "no user namespaces on this kernel");
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* A process is its thread group: any thread's tracer holds the right. */
TEST_F(zx, tracer_of_a_non_leader_thread)
{
	struct victim *t = &self->target;

	ASSERT_EQ(0, victim_start(t, true, false));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, t, 'x'));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.tid, 0, 0));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'x'));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, t->t.tid, 0, 0));
	ASSERT_EQ(0, wait_stopped(t->t.tid));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, t->t.tid, 0, 0));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, t, 'y'));
}

struct sibling_call {
	int dev;
	struct victim *t;
	int status;
};

static void *call_from_sibling(void *arg)
{
	struct sibling_call *c = arg;

	c->status = write_read(c->dev, c->t, 'z');
	return NULL;
}

/* The right is the tracing thread's, not its whole process's. */
TEST_F(zx, sibling_of_the_tracing_thread_is_refused)
{
	struct sibling_call c = { .dev = self->dev, .t = &self->target };
	pthread_t th;

	ASSERT_EQ(0, victim_start(&self->target, false, false));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, self->target.t.pid, 0, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, call_from_sibling, &c));
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, c.status);
	ASSERT_EQ(ZX_OK, write_read(self->dev, &self->target, 'z'));
}

/*
 * A process whose main thread has exited is alive while another thread
 * runs (the leader stays a zombie until the group ends): its memory is
 * reached through its process pidfd, under the same rule.
 */
TEST_F(zx, zombie_leader_with_a_live_thread_is_alive)
{
	struct victim *t = &self->target;
	int i;

	ASSERT_EQ(0, victim_start(t, true, true));
	for (i = 0; i < 1000 && task_state(t->t.pid, t->t.pid) != 'Z'; i++)
		usleep(1000);
	ASSERT_EQ('Z', task_state(t->t.pid, t->t.pid));
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, t, 'l'));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.tid, 0, 0));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'l'));
}

/* A traced thread that has exited gives no right, as ptrace gives none. */
TEST_F(zx, tracer_of_an_exited_leader_only_is_refused)
{
	struct victim *t = &self->target;
	int64_t tid;
	int i;

	ASSERT_EQ(0, victim_start(t, false, false));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.pid, 0, 0));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'e'));
	/* Traced, leave only a second thread. */
	tid = target_simple(&t->t, CHILD_LEADER_EXIT);
	ASSERT_LT(0, tid);
	t->t.tid = tid;
	for (i = 0; i < 2000 && task_state(t->t.pid, t->t.pid) != 'Z'; i++)
		usleep(1000);
	ASSERT_EQ('Z', task_state(t->t.pid, t->t.pid));
	/* The traced leader is a zombie; the live thread is not traced. */
	ASSERT_EQ(ZX_ERR_ACCESS_DENIED, write_read(self->dev, t, 'f'));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.tid, 0, 0));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'f'));
}

/*
 * An exec waits, in de_thread(), for its killed threads to be released,
 * and a traced one is released only when its tracer reaps it, while the
 * exec holds cred_guard_mutex.  A tracer that calls zxmem then must not
 * wait for that mutex: the call answers (ZX_ERR_BAD_STATE, mid-exec) and
 * the tracer can reap, and the exec ends.
 */
TEST_F_TIMEOUT(zx, tracer_call_during_an_exec_that_waits_for_it, 60)
{
	struct child_request exec = { .op = CHILD_EXEC };
	struct victim *t = &self->target;
	int dev, i, status;
	uint64_t actual;
	char c;

	ASSERT_EQ(0, victim_start(t, true, false));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.pid, 0, 0));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.tid, 0, 0));
	/* A new file: no link of it is confirmed yet. */
	dev = open_dev();
	ASSERT_LE(0, dev);

	/* The main thread execs the same image, which answers when it runs. */
	ASSERT_EQ(0, target_send(&t->t, &exec));
	for (i = 0; i < 5000 && task_state(t->t.pid, t->t.tid) != 'Z'; i++)
		usleep(1000);
	ASSERT_GT(5000, i) TH_LOG("the killed thread never became a zombie");
	status = zx(dev, false, t->t.pidfd, (uintptr_t)t->rw, &c, 1, &actual);
	ASSERT_EQ(ZX_ERR_BAD_STATE, status);
	/* Reap it: the exec goes on, and the new image reports. */
	ASSERT_EQ(t->t.tid, waitpid(t->t.tid, NULL, __WALL));
	t->t.tid = 0;
	ASSERT_EQ((int64_t)(uintptr_t)landing_page, target_answer(&t->t));
	close(dev);
}

/* A thread pidfd names a thread: Zircon's wrong handle type. */
TEST_F(zx, thread_pidfd_of_a_traced_thread_is_wrong_type)
{
	struct victim *t = &self->target;
	char buf[8] = { 0 };
	int fd;

	ASSERT_EQ(0, victim_start(t, true, false));
	fd = syscall(SYS_pidfd_open, t->t.tid, PIDFD_THREAD);
	if (fd < 0) {
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "no PIDFD_THREAD on this kernel");
	}
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.tid, 0, 0));
	ASSERT_EQ(ZX_ERR_WRONG_TYPE,
		  zx(self->dev, true, fd, (uintptr_t)t->rw, buf, 8, NULL));
	ASSERT_EQ(ZX_ERR_WRONG_TYPE,
		  zx(self->dev, false, fd, (uintptr_t)t->rw, buf, 8, NULL));
	close(fd);
	ASSERT_EQ(0, proc_mem_read(t->t.pid, (uintptr_t)t->rw, buf, 8));
	ASSERT_EQ(0, memcmp(buf, "oooooooo", 8));
}

/*
 * force_override: always lets any write copy-on-write into a mapping
 * without write permission, ptrace only a tracer's, never nobody's.
 * Reads and writes into writable memory never change.
 */
FIXTURE(force)
{
	int dev;
	struct common z;
	struct victim target;
};

FIXTURE_VARIANT(force)
{
	const char *force;
	bool self_forced;
	bool tracer_forced;
};

FIXTURE_VARIANT_ADD(force, always)
{
	.force = "always", .self_forced = true, .tracer_forced = true,
};

FIXTURE_VARIANT_ADD(force, ptrace)
{
	.force = "ptrace", .self_forced = false, .tracer_forced = true,
};

FIXTURE_VARIANT_ADD(force, never)
{
	.force = "never", .self_forced = false, .tracer_forced = false,
};

FIXTURE_SETUP(force)
{
	common_setup(_metadata, &self->z);
	self->dev = self->z.dev;
	self->target = (struct victim){ .t = TARGET_NONE };
}

FIXTURE_TEARDOWN(force)
{
	victim_stop(&self->target);
	common_teardown(&self->z);
}

TEST_F(force, writes_without_write_permission)
{
	long page = sysconf(_SC_PAGESIZE);
	struct victim *t = &self->target;
	char value[16], buf[8], self_bytes[8], tracer_bytes[8];
	uint8_t *mine;
	int me, status;

	ASSERT_EQ(0, write_text(FORCE_PATH, 0, variant->force));
	ASSERT_EQ(0, read_text(FORCE_PATH, value, sizeof(value)));
	ASSERT_STREQ(variant->force, value);
	ASSERT_NE(0, write_text(FORCE_PATH, 0, "sometimes"));
	ASSERT_EQ(0, read_text(FORCE_PATH, value, sizeof(value)));
	ASSERT_STREQ(variant->force, value);

	/* The process into its own read-only page. */
	mine = mmap(NULL, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mine);
	memset(mine, 'o', page);
	ASSERT_EQ(0, mprotect(mine, page, PROT_READ));
	me = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, me);
	memset(self_bytes, 'f', sizeof(self_bytes));
	memset(tracer_bytes, 't', sizeof(tracer_bytes));
	status = zx(self->dev, true, me, (uintptr_t)mine, self_bytes, 8, NULL);
	ASSERT_EQ(variant->self_forced ? ZX_OK : ZX_ERR_ACCESS_DENIED, status);
	ASSERT_EQ(variant->self_forced ? 'f' : 'o', mine[0]);
	ASSERT_EQ(ZX_OK, zx(self->dev, false, me, (uintptr_t)mine, buf, 8, NULL));
	ASSERT_EQ(0, memcmp(buf, mine, 8));
	close(me);
	munmap(mine, page);

	/* A tracer into its tracee's read-only page, and a writable one. */
	ASSERT_EQ(0, victim_start(t, false, false));
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, t->t.pid, 0, 0));
	status = zx(self->dev, true, t->t.pidfd, (uintptr_t)t->ro, tracer_bytes,
		    8, NULL);
	ASSERT_EQ(variant->tracer_forced ? ZX_OK : ZX_ERR_ACCESS_DENIED, status);
	ASSERT_EQ(0, proc_mem_read(t->t.pid, (uintptr_t)t->ro, buf, 8));
	ASSERT_EQ(0, memcmp(buf, variant->tracer_forced ? "tttttttt" :
			    "oooooooo", 8));
	ASSERT_EQ(ZX_OK, zx(self->dev, false, t->t.pidfd, (uintptr_t)t->ro, buf,
			    8, NULL));
	ASSERT_EQ(ZX_OK, write_read(self->dev, t, 'w'));
}

/*
 * The real parent of a root process gains nothing while a privileged
 * tracer attaches and detaches: in those windows the kernel leaves
 * ptrace set with parent == real_parent.  R (uid 65534) forks C, which
 * stays root and dumpable; R reads C's secret and writes C's flag in a
 * loop while this process (root) cycles a ptrace link on C a fixed number
 * of times.  One ZX_OK is a failure.
 */
struct race_stats {
	long calls;
	long granted;
	long denied;
	long other;
	int last_other;
	volatile int stop;
};

#define RACE_SECRET	"root-child-secret"

static void race_child_c(volatile char *flag)
{
	(void)flag;
	for (;;)
		pause();
}

static void race_parent_r(int dev, pid_t c, uintptr_t secret, uintptr_t flag,
			  struct race_stats *stats)
{
	char buf[32], pwned[8] = "PWNED";
	int pidfd = zxmem_pidfd_open(c);
	int status;

	if (pidfd < 0)
		_exit(94);
	become_nobody();
	while (!stats->stop) {
		if (stats->calls & 1)
			status = zx(dev, true, pidfd, flag, pwned, 5, NULL);
		else
			status = zx(dev, false, pidfd, secret, buf,
				    sizeof(RACE_SECRET), NULL);
		stats->calls++;
		if (status == ZX_OK)
			stats->granted++;
		else if (status == ZX_ERR_ACCESS_DENIED)
			stats->denied++;
		else
			stats->other++, stats->last_other = status;
	}
	_exit(0);
}

enum cycle { SEIZE_DETACH, ATTACH_DETACH, TRACER_EXITS };

static int cycle_once(pid_t c, enum cycle how)
{
	pid_t tracer;
	int status;

	switch (how) {
	case SEIZE_DETACH:
		if (ptrace(PTRACE_SEIZE, c, 0, 0))
			return -1;
		if (ptrace(PTRACE_INTERRUPT, c, 0, 0) || wait_stopped(c))
			return -1;
		return ptrace(PTRACE_DETACH, c, 0, 0);
	case ATTACH_DETACH:
		if (ptrace(PTRACE_ATTACH, c, 0, 0) || wait_stopped(c))
			return -1;
		return ptrace(PTRACE_DETACH, c, 0, 0);
	case TRACER_EXITS:
		/* The link ends in exit_ptrace() of a tracer that exits. */
		tracer = fork();
		if (tracer < 0)
			return -1;
		if (tracer == 0)
			_exit(ptrace(PTRACE_SEIZE, c, 0, 0) ? 1 : 0);
		if (waitpid(tracer, &status, 0) != tracer || !WIFEXITED(status))
			return -1;
		return WEXITSTATUS(status) ? -1 : 0;
	}
	return -1;
}

/*
 * Each race runs @cycles cycles, or as many as RACE_BUDGET seconds allow,
 * and fails below a tenth of them: on a machine loaded 6 times over, the
 * KASAN kernel under TCG ran 1000 tracer exits past the harness's 240 s.
 */
#define RACE_BUDGET	120

/*
 * ZXMEM_RACE_CYCLES_DIVISOR=N (1 to 100) runs an Nth of each race's
 * cycles.  check-debug.sh sets it on the KCSAN kernel, where KCSAN
 * watches the same interleavings at a tenth of the speed or less: there
 * the races are for the detector, and a few hundred cycles walk every
 * path of the attach, detach and exit.  The strength of the regression
 * test is the functional kernels' and the KASAN kernel's, where nothing
 * divides it.  Any other value is ignored.
 */
static int race_cycles(int cycles)
{
	const char *env = getenv("ZXMEM_RACE_CYCLES_DIVISOR");
	char *end;
	long div;

	if (!env)
		return cycles;
	div = strtol(env, &end, 10);
	if (*env == '\0' || *end != '\0' || div < 1 || div > 100)
		return cycles;
	return cycles / div;
}

static double seconds_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec + now.tv_nsec / 1e9;
}

static void real_parent_race(struct __test_metadata *_metadata, int dev,
			     enum cycle how, int cycles)
{
	double deadline;
	static char secret[32] = RACE_SECRET;
	static char flag[8] = "clean";
	struct race_stats *stats;
	int p[2], i, failed = 0;
	pid_t r, c = 0;
	char seen[8];

	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, pipe(p));
	r = fork();
	ASSERT_LE(0, r);
	if (r == 0) {
		c = fork();
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			race_child_c(flag);
		}
		if (write(p[1], &c, sizeof(c)) != sizeof(c))
			_exit(95);
		race_parent_r(dev, c, (uintptr_t)secret, (uintptr_t)flag,
			      stats);
	}
	ASSERT_EQ((ssize_t)sizeof(c), read(p[0], &c, sizeof(c)));
	while (stats->calls < 100)
		usleep(1000);
	cycles = race_cycles(cycles);
	deadline = seconds_now() + RACE_BUDGET;
	for (i = 0; i < cycles && seconds_now() < deadline; i++)
		failed += cycle_once(c, how) != 0;
	stats->stop = 1;
	ASSERT_EQ(r, waitpid(r, NULL, 0));
	ASSERT_EQ(0, proc_mem_read(c, (uintptr_t)flag, seen, sizeof(seen)));
	kill(c, SIGKILL);
	waitpid(c, NULL, __WALL);
	TH_LOG("%d of %d cycles (%d failed), %ld calls: %ld granted, %ld denied, %ld other (last %d)",
	       i, cycles, failed, stats->calls, stats->granted, stats->denied,
	       stats->other, stats->last_other);
	EXPECT_LE(cycles / 10, i);
	EXPECT_EQ(0, failed);
	EXPECT_EQ(0, stats->granted);
	EXPECT_EQ(0, stats->other);
	EXPECT_LE(1000, stats->calls);
	EXPECT_EQ(0, memcmp(seen, "clean", 6));
	munmap(stats, sizeof(*stats));
}

TEST_F_TIMEOUT(zx, real_parent_gains_nothing_while_a_tracer_seizes_and_detaches, 240)
{
	real_parent_race(_metadata, self->dev, SEIZE_DETACH, 3000);
}

TEST_F_TIMEOUT(zx, real_parent_gains_nothing_while_a_tracer_attaches_and_detaches, 240)
{
	real_parent_race(_metadata, self->dev, ATTACH_DETACH, 3000);
}

TEST_F_TIMEOUT(zx, real_parent_gains_nothing_while_tracers_attach_and_exit, 240)
{
	real_parent_race(_metadata, self->dev, TRACER_EXITS, 1000);
}

/*
 * Copies of this binary for the exec tests: "public" readable, "secret"
 * mode 0111 with the marker patched.  Exec'ing an unreadable binary makes
 * the image non-dumpable (would_dump()), so an unprivileged tracer may
 * touch nothing of it: PTRACE_PEEKDATA, /proc/PID/mem and zxmem refuse.
 */
static int copy_self(const char *path, mode_t mode, bool secret)
{
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), out;
	char public_marker[sizeof(marker)];
	struct stat st;
	char *image, *at;
	int ret = -1;

	/* The needle from memory: the literal is in the file only once. */
	memcpy(public_marker, (const char *)marker, sizeof(public_marker));
	if (in < 0 || fstat(in, &st))
		return -1;
	image = malloc(st.st_size);
	if (!image || read(in, image, st.st_size) != st.st_size)
		goto out;
	if (secret) {
		at = memmem(image, st.st_size, public_marker,
			    sizeof(public_marker));
		if (!at)
			goto out;
		memcpy(at, SECRET_MARKER, sizeof(public_marker));
	}
	unlink(path);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	if (out < 0)
		goto out;
	if (write(out, image, st.st_size) == st.st_size &&
	    !fchmod(out, mode))
		ret = 0;
	close(out);
out:
	free(image);
	close(in);
	return ret;
}

/*
 * What an exec'd copy runs: report the victim bytes and the marker over
 * fd @fd, then wait to be killed, or (loop) exec the other copy again.
 */
static int victim_main(int argc, char **argv)
{
	int fd = atoi(argv[2]);
	char bytes[8];

	memcpy(bytes, (void *)victim_text, sizeof(bytes));
	if (write(fd, bytes, sizeof(bytes)) != sizeof(bytes))
		return 1;
	/* --zxmem-loop FD NEXT OTHER: exec NEXT, which execs OTHER, ... */
	if (argc > 4)
		execl(argv[3], argv[3], "--zxmem-loop", argv[2], argv[4],
		      argv[3], (char *)NULL);
	for (;;)
		pause();
}

struct uffd_window {
	int uffd;
	pid_t tracee;
	int go;			/* tells the tracee to exec */
	int exec_status;
	const char *bytes;
};

/*
 * The other thread of the tracer: once the call blocks on the buffer's
 * userfaultfd page (after every check), let the tracee exec, wait for
 * the exec to finish, then supply the page.
 */
static void *hold_window(void *arg)
{
	struct uffd_window *w = arg;
	struct pollfd pfd = { .fd = w->uffd, .events = POLLIN };
	struct uffdio_copy copy;
	struct uffd_msg msg;
	long page = sysconf(_SC_PAGESIZE);
	char *src;
	int status;

	w->exec_status = -1;
	if (poll(&pfd, 1, 20000) != 1 ||
	    read(w->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT)
		return NULL;
	if (write(w->go, "x", 1) != 1)
		return NULL;
	/* PTRACE_O_TRACEEXEC: the tracee stops once the new image exists. */
	if (waitpid(w->tracee, &status, __WALL) == w->tracee &&
	    status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
		w->exec_status = 0;
	src = aligned_alloc(page, page);
	memset(src, 0, page);
	memcpy(src, w->bytes, 8);
	copy = (struct uffdio_copy){
		.dst = msg.arg.pagefault.address & ~(page - 1),
		.src = (uintptr_t)src,
		.len = page,
	};
	ioctl(w->uffd, UFFDIO_COPY, &copy);
	free(src);
	return NULL;
}

/*
 * A write into code that is in flight while the tracee execs an image
 * the tracer may not touch: every byte goes to the mm the checks judged,
 * none into the new image.  userfaultfd holds the call, deterministically,
 * between its checks and its copy.
 */
TEST_F_TIMEOUT(zx, exec_during_a_write_leaves_the_new_image_untouched, 120)
{
	char xonly[64], uffd_old[8] = "0", fdarg[16], seen[8];
	struct uffd_window w = { .bytes = "ZXMEMPWN" };
	int report[2], go[2], status, dev = self->dev;
	pid_t tracer;

	snprintf(xonly, sizeof(xonly), "/tmp/zxmem_xonly.%d", getpid());
	ASSERT_EQ(0, copy_self(xonly, 0111, false));
	read_text(UFFD_SYSCTL, uffd_old, sizeof(uffd_old));
	if (write_text(UFFD_SYSCTL, 0, "1")) {
		unlink(xonly);
		SKIP(return, "no userfaultfd on this kernel");
	}
	ASSERT_EQ(0, pipe(report));
	ASSERT_EQ(0, pipe(go));

	tracer = fork();
	ASSERT_LE(0, tracer);
	if (tracer == 0) {
		long page = sysconf(_SC_PAGESIZE);
		struct uffdio_api api = { .api = UFFD_API };
		struct uffdio_register reg;
		uint64_t actual;
		pthread_t th;
		char *buf, c;
		int result;

		become_nobody();
		w.tracee = fork();
		if (w.tracee == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (read(go[0], &c, 1) != 1)
				_exit(96);
			snprintf(fdarg, sizeof(fdarg), "%d", report[1]);
			execl(xonly, xonly, "--zxmem-victim", fdarg,
			      (char *)NULL);
			_exit(97);
		}
		if (ptrace(PTRACE_SEIZE, w.tracee, 0, PTRACE_O_TRACEEXEC))
			_exit(10);
		w.go = go[1];
		w.uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
		if (w.uffd < 0 || ioctl(w.uffd, UFFDIO_API, &api))
			_exit(11);
		buf = mmap(NULL, page, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		reg = (struct uffdio_register){
			.range = { .start = (uintptr_t)buf, .len = page },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		if (buf == MAP_FAILED || ioctl(w.uffd, UFFDIO_REGISTER, &reg))
			_exit(12);
		if (pthread_create(&th, NULL, hold_window, &w))
			_exit(13);
		result = zx(dev, true, zxmem_pidfd_open(w.tracee),
			    (uintptr_t)victim_text, buf, 8, &actual);
		pthread_join(th, NULL);
		if (w.exec_status)
			_exit(14);
		/* The new image is not the tracer's to read either. */
		if (zx(dev, false, zxmem_pidfd_open(w.tracee),
		       (uintptr_t)victim_text, &c, 1, NULL) !=
		    ZX_ERR_ACCESS_DENIED)
			_exit(15);
		ptrace(PTRACE_DETACH, w.tracee, 0, 0);
		fprintf(stderr, "# write in flight across the exec: %d\n",
			result);
		/* What the new image's code holds, as its first act says. */
		if (read(report[0], seen, sizeof(seen)) != sizeof(seen))
			_exit(16);
		kill(w.tracee, SIGKILL);
		if (!memcmp(seen, "ZXMEMPWN", 8))
			_exit(17);
		_exit(memcmp(seen, (void *)victim_text, 8) ? 18 : 0);
	}
	close(go[0]);
	close(go[1]);
	close(report[1]);
	ASSERT_EQ(tracer, waitpid(tracer, &status, 0));
	write_text(UFFD_SYSCTL, 0, uffd_old);
	unlink(xonly);
	ASSERT_TRUE(WIFEXITED(status));
	/* 17: the bytes reached the image the tracer may not touch. */
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/*
 * The mm and its dumpability are one snapshot: a tracee alternating
 * between a readable image and an unreadable one (same addresses, other
 * marker) while its unprivileged tracer reads the marker.  A read gives
 * the public marker or is refused; the secret one never reaches it.
 * A bounded stress: a clean run is evidence, not proof.
 */
TEST_F_TIMEOUT(zx, mm_and_dumpability_come_from_one_image, 120)
{
	char pub[64], sec[64], fdarg[16];
	struct race_stats *stats;
	int report[2], status, dev = self->dev;
	uint64_t end;
	pid_t tracer;

	snprintf(pub, sizeof(pub), "/tmp/zxmem_pub.%d", getpid());
	snprintf(sec, sizeof(sec), "/tmp/zxmem_sec.%d", getpid());
	ASSERT_EQ(0, copy_self(pub, 0755, false));
	ASSERT_EQ(0, copy_self(sec, 0111, true));
	ASSERT_EQ(0, pipe(report));
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);

	tracer = fork();
	ASSERT_LE(0, tracer);
	if (tracer == 0) {
		char buf[sizeof(marker)];
		pid_t tracee;
		int pidfd, status;

		become_nobody();
		tracee = fork();
		if (tracee == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			snprintf(fdarg, sizeof(fdarg), "%d", report[1]);
			execl(pub, pub, "--zxmem-loop", fdarg, sec, pub,
			      (char *)NULL);
			_exit(97);
		}
		if (ptrace(PTRACE_SEIZE, tracee, 0, PTRACE_O_TRACEEXEC))
			_exit(10);
		pidfd = zxmem_pidfd_open(tracee);
		end = now_ms() + 8000;
		while (now_ms() < end) {
			/* Each exec stops the tracee: let it go on. */
			if (waitpid(tracee, &status, __WALL | WNOHANG) ==
			    tracee && WIFSTOPPED(status))
				ptrace(PTRACE_CONT, tracee, 0, 0);
			memset(buf, 0, sizeof(buf));
			status = zx(dev, false, pidfd, (uintptr_t)marker, buf,
				    sizeof(buf), NULL);
			stats->calls++;
			if (status == ZX_OK && !memcmp(buf, SECRET_MARKER, 20))
				stats->granted++;
			else if (status == ZX_OK)
				stats->denied++;	/* public bytes */
			else if (status != ZX_ERR_ACCESS_DENIED &&
				 status != ZX_ERR_BAD_STATE &&
				 status != ZX_ERR_NO_MEMORY)
				stats->other++, stats->last_other = status;
		}
		kill(tracee, SIGKILL);
		_exit(0);
	}
	close(report[1]);
	/* Drain the images' reports so the loop never blocks on the pipe. */
	while (waitpid(tracer, &status, WNOHANG) == 0) {
		char bytes[64];

		if (read(report[0], bytes, sizeof(bytes)) <= 0)
			usleep(1000);
	}
	unlink(pub);
	unlink(sec);
	TH_LOG("%ld reads: %ld of the unreadable image, %ld public, %ld unexpected (last %d)",
	       stats->calls, stats->granted, stats->denied, stats->other,
	       stats->last_other);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, stats->granted);
	EXPECT_EQ(0, stats->other);
	EXPECT_LT(0, stats->denied);
	munmap(stats, sizeof(*stats));
}

int main(int argc, char **argv)
{
	if (argc >= 3 && (!strcmp(argv[1], "--zxmem-victim") ||
			  !strcmp(argv[1], "--zxmem-loop")))
		return victim_main(argc, argv);
	return test_harness_run(argc, argv);
}
