// SPDX-License-Identifier: GPL-2.0
/*
 * The right, steps 5 and 7 of Documentation/zxmem.rst: the caller's own
 * process, or a process the calling thread traces; a tracee that is not
 * dumpable only with CAP_SYS_PTRACE over it.  Root is no exception, a
 * setuid exec hands no right across, and a write needs /dev/zxmem open
 * for writing.  security_test.c races the same rule against ptrace and
 * exec.
 *
 * Unprivileged callers run in a helper process that drops to nobody and
 * reports back through a pipe: the test process stays root, to restore
 * the module parameter.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define ZXMEM_TWINS
#include "area.h"

TEST_F(call, untraced_child_is_access_denied)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);

	/* Root, CAP_SYS_PTRACE and all: not tracing it is what counts. */
	assert_call_refused(_metadata, self->dev, variant->write,
			    self->target.pidfd, addr, page,
			    ZX_ERR_ACCESS_DENIED);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(call, traced_child_succeeds)
{
	size_t page = page_size();
	struct transfer done;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);

	done = twin_call(_metadata, self->dev, variant->write,
			 self->target.pidfd, addr, page);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, twin_mismatches(&self->target, variant->write, &done,
				     addr, page));
}

TEST_F(call, own_process_succeeds)
{
	size_t page = page_size();
	struct transfer done;
	uint8_t *mine;
	int self_pidfd;

	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	mine = pattern_buffer(_metadata, page, SEED_OLD);

	done = twin_call(_metadata, self->dev, variant->write, self_pidfd,
			 (uintptr_t)mine, page);
	ASSERT_COPIED(page, done);
	ASSERT_EQ(0, variant->write ? count_mismatches(mine, page, SEED_NEW) :
		  done.mismatches);
	close(self_pidfd);
}

struct thread_write {
	int dev;
	int handle;
	uint64_t vaddr;
	void *buf;
	size_t len;
	struct transfer done;
};

static void *write_from_thread(void *arg)
{
	struct thread_write *call = arg;

	call->done = raw_call(call->dev, true, call->handle, call->vaddr,
			      call->buf, call->len);
	return NULL;
}

/* ptrace_parent() is the thread that attached, not its thread group. */
TEST_F(child, write_from_thread_that_did_not_attach_is_access_denied)
{
	size_t page = page_size();
	struct thread_write call;
	pthread_t thread;
	struct transfer w;
	uint8_t *buf;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	buf = pattern_buffer(_metadata, page, SEED_NEW);

	call = (struct thread_write){
		.dev = self->dev,
		.handle = self->target.pidfd,
		.vaddr = addr,
		.buf = buf,
		.len = page,
	};
	ASSERT_EQ(0, pthread_create(&thread, NULL, write_from_thread, &call));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, call.done);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));

	/* The attaching thread itself may. */
	w = write_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
}

/* How a helper's own setup went: where it failed (0 if not), and why. */
struct helper_setup {
	int failed_line;
	int failed_errno;
};

/* True, with the line and errno kept, if @ok is false. */
static bool helper_failed(struct helper_setup *setup, bool ok, int line)
{
	if (!ok && !setup->failed_line) {
		setup->failed_line = line;
		setup->failed_errno = errno;
	}
	return !ok;
}

#define HELPER_FAILED(setup, ok) helper_failed(setup, ok, __LINE__)

enum unprivileged_case {
	TRACE_OWN_CHILD,		/* nobody traces a child of its own */
	TRACE_NONDUMPABLE_CHILD,	/* ... that then becomes non-dumpable */
	PROBE_GIVEN_TARGET,		/* nobody, not tracing the given pidfd */
};

struct unprivileged_report {
	struct helper_setup setup;
	struct transfer read;		/* of SEED_OLD */
	struct transfer write;		/* of SEED_NEW */
	int64_t old_mismatches;	/* target bytes not SEED_OLD afterwards */
	int64_t new_mismatches;	/* target bytes not SEED_NEW afterwards */
};

/* A raw call that answered ZX_OK, for the helpers' own checks. */
static bool answered_ok(struct transfer t)
{
	return t.ret == 0 && t.status == ZX_OK;
}

static void unprivileged_helper(int report_fd, enum unprivileged_case which,
				int pidfd, uint64_t addr)
{
	struct unprivileged_report report = {
		.old_mismatches = -1,
		.new_mismatches = -1,
	};
	struct target own = TARGET_NONE;
	size_t page = page_size();
	uint8_t probe = 1, copy = 0;
	struct transfer probe_call;
	uint8_t *buf = NULL;
	int self_pidfd, dev;
	int64_t mapped;

	/* Open /dev/zxmem while still root: it is mode 0600. */
	dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (HELPER_FAILED(&report.setup, dev >= 0))
		goto out;
	self_pidfd = zxmem_pidfd_open(getpid());
	if (HELPER_FAILED(&report.setup, self_pidfd >= 0))
		goto out;
	if (HELPER_FAILED(&report.setup, drop_to_nobody() == 0))
		goto out;
	/* Still usable: an answer below is not just a closed device. */
	probe_call = raw_call(dev, false, self_pidfd, (uintptr_t)&probe, &copy,
			      1);
	if (HELPER_FAILED(&report.setup, answered_ok(probe_call)))
		goto out;
	if (HELPER_FAILED(&report.setup, copy == probe))
		goto out;

	if (which != PROBE_GIVEN_TARGET) {
		if (HELPER_FAILED(&report.setup, target_spawn(&own) == 0))
			goto out;
		if (HELPER_FAILED(&report.setup, target_trace(&own) == 0))
			goto out;
		mapped = target_map_anon(&own, page, SEED_OLD);
		if (HELPER_FAILED(&report.setup, mapped > 0))
			goto out;
		addr = mapped;
		pidfd = own.pidfd;
	}
	/* After the attach: a non-dumpable process cannot be attached to. */
	if (which == TRACE_NONDUMPABLE_CHILD)
		if (HELPER_FAILED(&report.setup,
				  target_simple(&own, CHILD_SET_NONDUMPABLE) == 0))
			goto out;

	buf = malloc(page);
	if (HELPER_FAILED(&report.setup, buf))
		goto out;
	report.read = raw_call(dev, false, pidfd, addr, buf, page);
	if (answered_ok(report.read))
		report.read.mismatches = count_mismatches(buf, page, SEED_OLD);
	fill_pattern(buf, page, SEED_NEW);
	report.write = raw_call(dev, true, pidfd, addr, buf, page);
	if (which != PROBE_GIVEN_TARGET) {
		report.old_mismatches = target_mismatches(&own, addr, page,
							  SEED_OLD);
		report.new_mismatches = target_mismatches(&own, addr, page,
							  SEED_NEW);
	}
out:
	free(buf);
	if (own.pid > 0 && target_reap(&own) && !report.setup.failed_line)
		report.setup.failed_line = __LINE__;
	if (write(report_fd, &report, sizeof(report)) != sizeof(report))
		_exit(1);
	_exit(0);
}

/*
 * A helper process reports through a pipe: helper_fork() returns 0 in the
 * helper, with *report_fd its end of the pipe, and the helper's pid in
 * the test, with *report_fd ours.
 */
static pid_t helper_fork(struct __test_metadata *_metadata, int *report_fd)
{
	int pipefd[2];
	pid_t helper;

	ASSERT_EQ(0, pipe(pipefd));
	helper = fork();
	ASSERT_LE(0, helper);
	close(pipefd[helper ? 1 : 0]);
	*report_fd = pipefd[helper ? 0 : 1];
	return helper;
}

/* Read the helper's report, reap it, and check that its setup went well. */
static void helper_collect(struct __test_metadata *_metadata, pid_t helper,
			   int report_fd, void *report, size_t size,
			   const struct helper_setup *setup)
{
	ssize_t got = read(report_fd, report, size);
	int status;

	close(report_fd);
	ASSERT_EQ(helper, waitpid(helper, &status, 0));
	ASSERT_EQ((ssize_t)size, got);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, setup->failed_line) {
		TH_LOG("the unprivileged helper failed at line %d: %s",
		       setup->failed_line, strerror(setup->failed_errno));
	}
}

static void run_unprivileged(struct __test_metadata *_metadata,
			     enum unprivileged_case which, int pidfd,
			     uint64_t addr, struct unprivileged_report *report)
{
	int report_fd;
	pid_t helper;

	helper = helper_fork(_metadata, &report_fd);
	if (helper == 0)
		unprivileged_helper(report_fd, which, pidfd, addr);
	helper_collect(_metadata, helper, report_fd, report, sizeof(*report),
		       &report->setup);
}

TEST_F(child, unprivileged_tracer_writes_and_reads_its_tracee)
{
	struct unprivileged_report report;
	size_t page = page_size();

	if (geteuid() != 0)
		SKIP(return, "needs root, to become nobody");
	run_unprivileged(_metadata, TRACE_OWN_CHILD, -1, 0, &report);

	ASSERT_COPIED(page, report.read);
	ASSERT_EQ(0, report.read.mismatches);
	ASSERT_COPIED(page, report.write);
	ASSERT_EQ(0, report.new_mismatches);
}

TEST_F(child, unprivileged_tracer_of_nondumpable_tracee_is_access_denied)
{
	struct unprivileged_report report;

	if (geteuid() != 0)
		SKIP(return, "needs root, to become nobody");
	run_unprivileged(_metadata, TRACE_NONDUMPABLE_CHILD, -1, 0, &report);

	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.read);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.write);
	ASSERT_EQ(0, report.old_mismatches);
}

TEST_F(child, unprivileged_non_tracer_of_root_process_is_access_denied)
{
	struct unprivileged_report report;
	size_t page = page_size();
	int64_t addr;

	if (geteuid() != 0)
		SKIP(return, "needs root, to become nobody");
	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);
	run_unprivileged(_metadata, PROBE_GIVEN_TARGET, self->target.pidfd,
			 addr, &report);

	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.read);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.write);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, root_tracer_of_nondumpable_tracee_succeeds)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	ASSERT_EQ(0, target_simple(&self->target, CHILD_SET_NONDUMPABLE));

	/* CAP_SYS_PTRACE stands in for dumpability. */
	r = read_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			 SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(0, r.mismatches);
	w = write_pattern(_metadata, self->dev, self->target.pidfd, addr, page,
			  SEED_NEW);
	ASSERT_COPIED(page, w);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
}

/*
 * Setuid exec: a process of nobody's execs a copy of this binary that is
 * setuid root.  What nobody may do to it afterwards depends on how it got
 * there; in no case does a right nobody held before the exec reach the
 * privileged image.
 */
enum setuid_case {
	SETUID_UNDER_TRACER,	/* nobody traces it across the exec */
	SETUID_AFTER_DETACH,	/* nobody wrote it, detached, then it execs */
	SETUID_DURING_SELF_WRITES, /* its own thread writes it until the exec */
};

struct setuid_report {
	struct helper_setup setup;
	struct transfer before;	/* nobody's write before the exec */
	int64_t euid;		/* the target's, after the exec */
	int64_t at_secure;	/* 1: the kernel saw a setuid exec */
	struct transfer read;
	struct transfer write;
	int reattach_errno;	/* of PTRACE_SEIZE after the exec; 0: attached */
	int64_t new_mismatches;	/* landing page bytes not SEED_NEW after */
	int64_t nonzero;	/* landing page bytes that are not 0 after */
};

static void setuid_helper(int report_fd, enum setuid_case which,
			  const char *setuid_path)
{
	struct setuid_report report = {
		.before = { .status = ZX_OK },
		.new_mismatches = -1,
		.nonzero = -1,
	};
	struct child_request exec = { .op = CHILD_EXEC };
	struct target own = TARGET_NONE;
	const size_t len = sizeof(landing_page);
	uint64_t landing = (uintptr_t)landing_page;
	static uint8_t buf[sizeof(landing_page)];
	int64_t answer;
	int dev;

	/* /dev/zxmem, opened while still root (mode 0600). */
	dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (HELPER_FAILED(&report.setup, dev >= 0))
		goto out;
	if (HELPER_FAILED(&report.setup, drop_to_nobody() == 0))
		goto out;
	/* After the drop, which clears it: don't outlive a killed test. */
	if (HELPER_FAILED(&report.setup, prctl(PR_SET_PDEATHSIG, SIGKILL) == 0))
		goto out;
	if (HELPER_FAILED(&report.setup, target_spawn(&own) == 0))
		goto out;
	if (which != SETUID_DURING_SELF_WRITES)
		if (HELPER_FAILED(&report.setup, target_trace(&own) == 0))
			goto out;
	if (which == SETUID_AFTER_DETACH) {
		fill_pattern(buf, len, SEED_NEW);
		report.before = raw_call(dev, true, own.pidfd, landing, buf,
					 len);
		if (HELPER_FAILED(&report.setup, target_detach(&own, 0) == 0))
			goto out;
	}

	snprintf(exec.path, sizeof(exec.path), "%s", setuid_path);
	if (which == SETUID_DURING_SELF_WRITES) {
		exec.arg = EXEC_WHILE_WRITING_SELF;
		exec.dev = dev;	/* the child inherited it */
	}
	answer = target_ask(&own, &exec);
	errno = answer < 0 ? -answer : 0;
	/* Non-PIE: the new image's landing page is where the old one was. */
	if (HELPER_FAILED(&report.setup, answer == (int64_t)landing))
		goto out;
	report.euid = target_simple(&own, CHILD_EUID);
	report.at_secure = target_simple(&own, CHILD_AT_SECURE);

	report.read = raw_call(dev, false, own.pidfd, landing, buf, len);
	fill_pattern(buf, len, SEED_NEW);
	report.write = raw_call(dev, true, own.pidfd, landing, buf, len);
	if (which != SETUID_UNDER_TRACER)
		report.reattach_errno = target_trace(&own) ? errno : 0;
	report.new_mismatches = target_mismatches(&own, landing, len,
						  SEED_NEW);
	if (HELPER_FAILED(&report.setup,
			  target_copy_out(&own, landing, len, buf) == 0))
		goto out;
	report.nonzero = count_nonzero(buf, len);
out:
	if (own.pid > 0 && target_reap(&own) && !report.setup.failed_line)
		report.setup.failed_line = __LINE__;
	if (write(report_fd, &report, sizeof(report)) != sizeof(report))
		_exit(1);
	_exit(0);
}

/*
 * A root-owned setuid copy of this binary, with no name anywhere (an
 * O_TMPFILE file): no other user can run it.  Returns a read-only fd of
 * it, since the kernel refuses to exec a file that is open for writing;
 * the copy goes away with the last fd.
 */
static int make_setuid_copy(void)
{
	int in, out, ro = -1;
	char chunk[65536], path[64];
	ssize_t n = -1;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	out = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0700);
	if (in >= 0 && out >= 0) {
		while ((n = read(in, chunk, sizeof(chunk))) > 0)
			if (write(out, chunk, n) != n)
				break;
	}
	/* chmod after chown: chown clears the setuid bit. */
	if (n == 0 && !fchown(out, 0, 0) && !fchmod(out, 04755)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", out);
		ro = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ro;
}

/*
 * Run the case in a helper and fill @report.  False if the test was
 * skipped: the caller returns, asserting nothing on @report.
 */
static bool run_setuid_case(struct __test_metadata *_metadata,
			    enum setuid_case which,
			    struct setuid_report *report)
{
	int report_fd, copy;
	struct statvfs fs;
	char path[64];
	pid_t helper;

	if (geteuid() != 0)
		SKIP(return false, "needs root, to become nobody");
	copy = make_setuid_copy();
	ASSERT_LE(0, copy) {
		TH_LOG("cannot make a setuid copy in /tmp: %s",
		       strerror(errno));
	}
	if (!fstatvfs(copy, &fs) && fs.f_flag & ST_NOSUID) {
		close(copy);
		SKIP(return false, "/tmp is mounted nosuid");
	}
	/* The child, fork()ed from the helper, execs it by this name. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", copy);
	/* An aborted test takes the copy with it: it has no name. */
	helper = helper_fork(_metadata, &report_fd);
	if (helper == 0)
		setuid_helper(report_fd, which, path);
	close(copy);
	helper_collect(_metadata, helper, report_fd, report, sizeof(*report),
		       &report->setup);
	/* The kernel saw a setuid exec, whatever it made of it. */
	EXPECT_EQ(1, report->at_secure);
	return report->at_secure == 1;
}

/* The kernel runs it unprivileged: the tracer keeps a harmless right. */
TEST_F(child, setuid_exec_under_unprivileged_tracer_gains_no_privilege)
{
	struct setuid_report report;

	if (!run_setuid_case(_metadata, SETUID_UNDER_TRACER, &report))
		return;

	ASSERT_EQ(NOBODY, report.euid);
	ASSERT_COPIED(sizeof(landing_page), report.read);
	ASSERT_COPIED(sizeof(landing_page), report.write);
	ASSERT_EQ(0, report.new_mismatches);
}

TEST_F(child, setuid_exec_after_detach_is_access_denied)
{
	struct setuid_report report;

	if (!run_setuid_case(_metadata, SETUID_AFTER_DETACH, &report))
		return;

	/* The right was there before: the pidfd is the same. */
	ASSERT_ANSWERED(report.before);
	ASSERT_STATUS(ZX_OK, report.before.status);
	ASSERT_EQ(0, report.euid);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.read);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.write);
	/* Nor can nobody become its tracer again. */
	ASSERT_EQ(EPERM, report.reattach_errno);
	ASSERT_EQ(0, report.nonzero);
}

TEST_F(child, self_writes_do_not_reach_the_setuid_image)
{
	struct setuid_report report;

	if (!run_setuid_case(_metadata, SETUID_DURING_SELF_WRITES, &report))
		return;

	ASSERT_EQ(0, report.euid);
	/*
	 * Its writer thread died in the exec (the kernel's de_thread() waits
	 * for it to leave the module before the new mm exists): the setuid
	 * image is untouched, and its pidfd now names a root process that
	 * nobody may not reach.
	 */
	ASSERT_EQ(0, report.nonzero);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.read);
	ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, report.write);
	ASSERT_EQ(EPERM, report.reattach_errno);
}

/* A /dev/zxmem opened O_RDONLY reads, and refuses every write (step 5). */
TEST_F(call, through_readonly_device_fd_only_reads_are_allowed)
{
	size_t page = page_size();
	struct transfer done;
	int64_t addr;
	int dev;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	dev = open(ZXMEM_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);

	done = twin_call(_metadata, dev, variant->write, self->target.pidfd,
			 addr, page);
	close(dev);
	if (variant->write) {
		ASSERT_REFUSED(ZX_ERR_ACCESS_DENIED, done);
	} else {
		ASSERT_COPIED(page, done);
		ASSERT_EQ(0, done.mismatches);
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_HARNESS_MAIN
