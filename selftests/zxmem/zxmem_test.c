// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for zxmem: zx_process_write_memory() and zx_process_read_memory()
 * on /dev/zxmem.
 *
 * Documentation/zxmem.rst lists the checks in order, each with the status it
 * answers.  Every status has a test here that provokes exactly it, and every
 * error test also checks that nothing changed: the target's bytes, and the
 * caller's *actual.
 *
 * Most tests use FIXTURE(child): a forked child that maps memory on request
 * and reports what it sees, over a socketpair (child_serve()).  A test that
 * needs the right to the child PTRACE_SEIZEs it first.  Run as root with
 * zxmem.ko loaded; the fixture switches enable_debugging_syscalls on and
 * restores it afterwards.  Without /dev/zxmem every test is skipped.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/zxmem.h>
#include <zircon/syscalls.h>

/* The 6.1 harness has an unused parameter; -Wextra -Werror would stop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "zxmem_selftest.h"


#define NOBODY			65534
#define KERNEL_ADDRESS		0xffffffff81000000ULL
#define BIOS_AREA		0xf0000

/* What the caller's actual holds before a call: an error must leave it. */
#define ACTUAL_UNTOUCHED	((size_t)0x5a5a5a5a5a5a5a5aULL)
#define STATUS_UNTOUCHED	((__s32)0x5a5a5a5a)

/* Patterns: the bytes a region starts with, and the ones a test writes. */
#define SEED_OLD		0x11
#define SEED_NEW		0xee

/* Far from anything a fresh static image maps: gone after exec. */
#define BEFORE_EXEC_ADDRESS	0x300000000000ULL
#define RESUME_FD_ENV		"ZXMEM_TEST_RESUME_FD"

/* The most CHILD_COPY_OUT sends back in one message. */
#define COPY_OUT_MAX		((size_t)64 << 10)

static size_t page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* Byte @offset of the pattern for @seed: two seeds differ in every byte. */
static uint8_t pattern_byte(uint8_t seed, uint64_t offset)
{
	return seed ^ (uint8_t)(offset ^ (offset >> 8) ^ (offset >> 16) ^
				(offset >> 24));
}

static void fill_pattern(void *buf, size_t len, uint8_t seed)
{
	uint8_t *bytes = buf;
	size_t i;

	for (i = 0; i < len; i++)
		bytes[i] = pattern_byte(seed, i);
}

/* How many of the @len bytes at @buf are not the pattern for @seed. */
static int64_t count_mismatches(const void *buf, size_t len, uint8_t seed)
{
	const uint8_t *bytes = buf;
	int64_t mismatches = 0;
	size_t i;

	for (i = 0; i < len; i++)
		mismatches += bytes[i] != pattern_byte(seed, i);
	return mismatches;
}

/*
 * The child: it does what the test asks, in its own address space, and
 * answers each request with one int64_t (a result, or -errno).
 */
enum child_op {
	CHILD_PING,
	CHILD_MAP,		/* mmap(); the answer is the address */
	CHILD_UNMAP,
	CHILD_PROTECT,
	CHILD_FILL,		/* write the pattern for .arg */
	CHILD_MISMATCHES,	/* count the bytes that are not pattern .arg */
	CHILD_COPY_OUT,		/* answer .len, then send the bytes */
	CHILD_SET_NONDUMPABLE,
	CHILD_CHURN,		/* unmap and remap a range for .arg ms */
	CHILD_EXEC,		/* the new image answers with its landing page */
	CHILD_EXIT,		/* answer, then exit */
	CHILD_EUID,		/* answer geteuid() */
	CHILD_AT_SECURE,	/* answer getauxval(AT_SECURE) */
};

struct child_request {
	uint32_t op;
	int32_t prot;
	int32_t flags;		/* mmap() flags */
	int32_t open_flags;	/* for a mapping of .path */
	uint64_t addr;		/* mmap() hint, or the range to act on */
	uint64_t len;
	uint64_t offset;	/* file offset of a mapping */
	uint64_t arg;		/* pattern seed, milliseconds, or exec mode */
	char path[64];		/* file to map or exec; "" for anonymous memory */
};

/* CHILD_EXEC's .arg: keep writing our own landing page until the exec. */
#define EXEC_WHILE_WRITING_SELF	1

/* A page the exec'd image offers, to show that writes reach the new mm. */
static uint8_t landing_page[4096] __attribute__((aligned(4096)));

static int64_t child_map(const struct child_request *req)
{
	void *addr;
	int fd = -1, err;

	if (req->path[0]) {
		fd = open(req->path, req->open_flags);
		if (fd < 0)
			return -errno;
	}
	addr = mmap((void *)(uintptr_t)req->addr, req->len, req->prot,
		    req->flags, fd, req->offset);
	err = errno;
	if (fd >= 0)
		close(fd);
	return addr == MAP_FAILED ? -err : (int64_t)(uintptr_t)addr;
}

struct churn {
	void *addr;
	size_t len;
	uint64_t ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Thread of the child: take the range away and give it back, over and over. */
static void *churn_mapping(void *arg)
{
	struct churn *churn = arg;
	uint64_t deadline = now_ms() + churn->ms;

	while (now_ms() < deadline) {
		if (munmap(churn->addr, churn->len))
			return (void *)1;
		sched_yield();
		if (mmap(churn->addr, churn->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			return (void *)1;
		sched_yield();
	}
	return NULL;
}

static int64_t child_churn(const struct child_request *req)
{
	struct churn churn = {
		.addr = (void *)(uintptr_t)req->addr,
		.len = req->len,
		.ms = req->arg,
	};
	pthread_t thread;
	void *failed;

	if (pthread_create(&thread, NULL, churn_mapping, &churn))
		return -EAGAIN;
	if (pthread_join(thread, &failed))
		return -EINVAL;
	return failed ? -EFAULT : 0;
}

/* A thread of the child that writes its own landing page, call after call. */
struct self_writer {
	int pidfd;
	bool wrote;		/* one call has answered ZX_OK */
	zx_status_t failed;	/* the first other answer */
};

static void *write_self(void *arg)
{
	struct self_writer *w = arg;
	static uint8_t bytes[sizeof(landing_page)];
	zx_status_t status;

	fill_pattern(bytes, sizeof(bytes), SEED_NEW);
	/* Until de_thread() kills this thread for the exec. */
	for (;;) {
		status = zx_process_write_memory(w->pidfd,
						 (uintptr_t)landing_page, bytes,
						 sizeof(bytes), NULL);
		if (status != ZX_OK && !__atomic_load_n(&w->failed,
							__ATOMIC_ACQUIRE))
			__atomic_store_n(&w->failed, status, __ATOMIC_RELEASE);
		if (status == ZX_OK)
			__atomic_store_n(&w->wrote, true, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * Exec req->path (our own image if ""), which resumes serving @sk.  With
 * EXEC_WHILE_WRITING_SELF a thread writes our landing page through a
 * pidfd of our own, with the right a process has over itself, until the
 * exec kills it.
 */
static int64_t child_exec(int sk, const struct child_request *req)
{
	const char *path = req->path[0] ? req->path : "/proc/self/exe";
	char *argv[] = { "zxmem_test", NULL };
	struct self_writer w = { .pidfd = -1 };
	char *envp[2], resume[64];
	pthread_t thread;

	snprintf(resume, sizeof(resume), "%s=%d", RESUME_FD_ENV, sk);
	envp[0] = resume;
	envp[1] = NULL;
	if (req->arg == EXEC_WHILE_WRITING_SELF) {
		w.pidfd = zxmem_pidfd_open(getpid());
		if (w.pidfd < 0)
			return -errno;
		if (pthread_create(&thread, NULL, write_self, &w))
			return -EAGAIN;
		while (!__atomic_load_n(&w.wrote, __ATOMIC_ACQUIRE) &&
		       !__atomic_load_n(&w.failed, __ATOMIC_ACQUIRE))
			sched_yield();
		if (!__atomic_load_n(&w.wrote, __ATOMIC_ACQUIRE))
			_exit(3);	/* the thread cannot be stopped */
	}
	execve(path, argv, envp);
	if (req->arg == EXEC_WHILE_WRITING_SELF)
		_exit(4);
	return -errno;
}

/*
 * What a setuid-root image of this binary (the setuid tests) still does:
 * nothing that would hand root's powers (opening, mapping, writing or
 * exec'ing any file) to whoever holds the socket, and it shows nothing
 * of its memory but its landing page.
 */
static bool child_may(const struct child_request *req)
{
	uint64_t page = (uintptr_t)landing_page;

	if (!getauxval(AT_SECURE))
		return true;
	switch (req->op) {
	case CHILD_PING:
	case CHILD_EXIT:
	case CHILD_EUID:
	case CHILD_AT_SECURE:
		return true;
	case CHILD_MISMATCHES:
	case CHILD_COPY_OUT:
		return req->addr >= page && req->len <= sizeof(landing_page) &&
		       req->addr - page <= sizeof(landing_page) - req->len;
	}
	return false;
}

static int64_t child_handle(int sk, const struct child_request *req)
{
	void *addr = (void *)(uintptr_t)req->addr;

	if (!child_may(req))
		return -EPERM;
	switch (req->op) {
	case CHILD_PING:
	case CHILD_EXIT:
		return 0;
	case CHILD_MAP:
		return child_map(req);
	case CHILD_UNMAP:
		return munmap(addr, req->len) ? -errno : 0;
	case CHILD_PROTECT:
		return mprotect(addr, req->len, req->prot) ? -errno : 0;
	case CHILD_FILL:
		fill_pattern(addr, req->len, req->arg);
		return 0;
	case CHILD_MISMATCHES:
		return count_mismatches(addr, req->len, req->arg);
	case CHILD_COPY_OUT:
		return req->len <= COPY_OUT_MAX ? (int64_t)req->len : -EINVAL;
	case CHILD_SET_NONDUMPABLE:
		return prctl(PR_SET_DUMPABLE, 0) ? -errno : 0;
	case CHILD_CHURN:
		return child_churn(req);
	case CHILD_EXEC:
		return child_exec(sk, req);
	case CHILD_EUID:
		return geteuid();
	case CHILD_AT_SECURE:
		return getauxval(AT_SECURE);
	}
	return -EINVAL;
}

/* Serve requests on @sk until it closes; @hello is the first answer. */
static int child_serve(int sk, int64_t hello)
{
	struct child_request req;
	int64_t answer;
	ssize_t n;

	/* Don't outlive a test that died. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return 1;
	if (send(sk, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello))
		return 1;

	while ((n = recv(sk, &req, sizeof(req), 0)) == sizeof(req)) {
		answer = child_handle(sk, &req);
		if (send(sk, &answer, sizeof(answer), MSG_NOSIGNAL) !=
		    sizeof(answer))
			return 1;
		if (req.op == CHILD_COPY_OUT && answer > 0 &&
		    send(sk, (void *)(uintptr_t)req.addr, answer,
			 MSG_NOSIGNAL) != answer)
			return 1;
		if (req.op == CHILD_EXIT)
			_exit(0);
	}
	return n == 0 ? 0 : 1;
}

/* After CHILD_EXEC, the new image serves the same socket. */
static void __attribute__((constructor)) resume_after_exec(void)
{
	const char *sk = getenv(RESUME_FD_ENV);

	if (sk)
		_exit(child_serve(atoi(sk), (int64_t)(uintptr_t)landing_page));
}

/* The parent's side of a child. */
struct target {
	pid_t pid;		/* 0 once reaped */
	int pidfd;
	int sk;
};

static int target_spawn(struct target *t)
{
	int64_t hello;
	int sk[2];

	t->pid = 0;
	t->pidfd = -1;
	t->sk = -1;
	/* No SOCK_CLOEXEC: the child's end must survive CHILD_EXEC. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sk))
		return -1;
	t->pid = fork();
	if (t->pid < 0) {
		t->pid = 0;
		close(sk[0]);
		close(sk[1]);
		return -1;
	}
	if (t->pid == 0) {
		close(sk[0]);
		_exit(child_serve(sk[1], 0));
	}
	close(sk[1]);
	t->sk = sk[0];
	t->pidfd = zxmem_pidfd_open(t->pid);
	if (t->pidfd < 0)
		return -1;
	if (recv(t->sk, &hello, sizeof(hello), 0) != sizeof(hello))
		return -1;
	return 0;
}

/* Close our ends and reap the child; return its exit status. */
static int target_reap(struct target *t)
{
	int status;

	if (t->pidfd >= 0)
		close(t->pidfd);
	if (t->sk >= 0)
		close(t->sk);
	t->pidfd = -1;
	t->sk = -1;
	if (t->pid <= 0)
		return 0;
	if (waitpid(t->pid, &status, 0) != t->pid)
		return -1;
	t->pid = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Become the child's tracer: this thread, and only it, gets the right. */
static int target_trace(struct target *t)
{
	return ptrace(PTRACE_SEIZE, t->pid, NULL, NULL);
}

static int target_send(struct target *t, const struct child_request *req)
{
	if (send(t->sk, req, sizeof(*req), MSG_NOSIGNAL) != sizeof(*req))
		return -EPIPE;
	return 0;
}

static int64_t target_answer(struct target *t)
{
	int64_t answer;

	if (recv(t->sk, &answer, sizeof(answer), 0) != sizeof(answer))
		return -EPIPE;
	return answer;
}

static int64_t target_ask(struct target *t, const struct child_request *req)
{
	int err = target_send(t, req);

	return err ? err : target_answer(t);
}

/* Map @len private read-write bytes holding the pattern for @seed. */
static int64_t target_map_anon(struct target *t, size_t len, uint8_t seed)
{
	struct child_request map = {
		.op = CHILD_MAP,
		.len = len,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_PRIVATE | MAP_ANONYMOUS,
	};
	struct child_request fill = { .op = CHILD_FILL, .len = len, .arg = seed };
	int64_t addr = target_ask(t, &map);
	int64_t err;

	if (addr < 0)
		return addr;
	fill.addr = addr;
	err = target_ask(t, &fill);
	return err ? err : addr;
}

static int64_t target_map_file(struct target *t, const char *path,
			       int open_flags, int prot, int flags, size_t len)
{
	struct child_request map = {
		.op = CHILD_MAP,
		.len = len,
		.prot = prot,
		.flags = flags,
		.open_flags = open_flags,
	};

	snprintf(map.path, sizeof(map.path), "%s", path);
	return target_ask(t, &map);
}

static int64_t target_unmap(struct target *t, uint64_t addr, size_t len)
{
	struct child_request req = {
		.op = CHILD_UNMAP, .addr = addr, .len = len,
	};

	return target_ask(t, &req);
}

static int64_t target_protect(struct target *t, uint64_t addr, size_t len,
			      int prot)
{
	struct child_request req = {
		.op = CHILD_PROTECT, .addr = addr, .len = len, .prot = prot,
	};

	return target_ask(t, &req);
}

static int64_t target_fill(struct target *t, uint64_t addr, size_t len,
			   uint8_t seed)
{
	struct child_request req = {
		.op = CHILD_FILL, .addr = addr, .len = len, .arg = seed,
	};

	return target_ask(t, &req);
}

/* What the child itself sees: bytes of [addr, addr + len) not pattern @seed. */
static int64_t target_mismatches(struct target *t, uint64_t addr, size_t len,
				 uint8_t seed)
{
	struct child_request req = {
		.op = CHILD_MISMATCHES, .addr = addr, .len = len, .arg = seed,
	};

	return target_ask(t, &req);
}

static int target_copy_out(struct target *t, uint64_t addr, size_t len,
			   void *out)
{
	struct child_request req = {
		.op = CHILD_COPY_OUT, .addr = addr, .len = len,
	};

	if (target_ask(t, &req) != (int64_t)len)
		return -1;
	if (recv(t->sk, out, len, 0) != (ssize_t)len)
		return -1;
	return 0;
}

static int64_t target_simple(struct target *t, enum child_op op)
{
	struct child_request req = { .op = op };

	return target_ask(t, &req);
}

/* Have the child exit, and wait until it is a zombie; don't reap it. */
static int target_exit_unreaped(struct target *t)
{
	siginfo_t info;

	if (target_simple(t, CHILD_EXIT))
		return -1;
	return waitid(P_PID, t->pid, &info, WEXITED | WNOWAIT);
}

struct mapping {
	uint64_t start;
	uint64_t end;
};

/* Find the mapping called @name ("[vdso]") in /proc/@pid/maps. */
static int find_mapping(pid_t pid, const char *name, struct mapping *found)
{
	char path[64], line[512];
	size_t name_len = strlen(name);
	int ret = -1;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	if (!maps)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		if (len < name_len || strcmp(line + len - name_len, name))
			continue;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &found->start,
			   &found->end) == 2)
			ret = 0;
		break;
	}
	fclose(maps);
	return ret;
}

/* Is @addr inside any mapping of @pid?  -1 if the maps cannot be read. */
static int is_mapped(pid_t pid, uint64_t addr)
{
	char path[64], line[512];
	struct mapping m;
	int ret = 0;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	if (!maps)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &m.start, &m.end) == 2 &&
		    addr >= m.start && addr < m.end) {
			ret = 1;
			break;
		}
	}
	fclose(maps);
	return ret;
}

/* A /tmp file of @len bytes of the pattern for @seed; its name in @path. */
static int make_pattern_file(char *path, size_t path_size, size_t len,
			     uint8_t seed)
{
	void *bytes = malloc(len);
	int fd;

	if (!bytes)
		return -1;
	snprintf(path, path_size, "/tmp/zxmem_test.XXXXXX");
	fd = mkstemp(path);
	if (fd >= 0) {
		fill_pattern(bytes, len, seed);
		if (pwrite(fd, bytes, len, 0) != (ssize_t)len) {
			close(fd);
			unlink(path);
			fd = -1;
		}
	}
	free(bytes);
	return fd;
}

/* Bytes of the file at @fd that are not the pattern for @seed. */
static int64_t file_mismatches(int fd, size_t len, uint8_t seed)
{
	void *bytes = malloc(len);
	int64_t mismatches = -1;

	if (bytes && pread(fd, bytes, len, 0) == (ssize_t)len)
		mismatches = count_mismatches(bytes, len, seed);
	free(bytes);
	return mismatches;
}

static void set_debugging_syscalls(struct __test_metadata *_metadata, int on)
{
	ASSERT_EQ(0, zxmem_param_set(on)) {
		TH_LOG("cannot write %s: %s", ZXMEM_PARAM_PATH, strerror(errno));
	}
	ASSERT_EQ(on, zxmem_param_get());
}

#define ASSERT_STATUS(expected, seen) do {				\
	zx_status_t _status = (seen);					\
	ASSERT_EQ(expected, _status)					\
		TH_LOG("got %s, want %s", zx_status_get_string(_status), \
		       zx_status_get_string(expected));			\
} while (0)

static void *map_buffer(struct __test_metadata *_metadata, size_t len)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	return buf;
}

/* What one zx_process_{write,read}_memory() call gave back. */
struct transfer {
	zx_status_t status;
	size_t actual;		/* ACTUAL_UNTOUCHED unless the call set it */
	int64_t mismatches;	/* read: bytes read that are not the pattern */
};

/* Write @len bytes of the pattern for @seed to @vaddr. */
static struct transfer write_pattern(struct __test_metadata *_metadata,
				     zx_handle_t handle, uint64_t vaddr,
				     size_t len, uint8_t seed)
{
	struct transfer result = { .actual = ACTUAL_UNTOUCHED };
	void *buf = map_buffer(_metadata, len);

	fill_pattern(buf, len, seed);
	result.status = zx_process_write_memory(handle, vaddr, buf, len,
						&result.actual);
	munmap(buf, len);
	return result;
}

/* Read @len bytes at @vaddr and compare what arrived with pattern @seed. */
static struct transfer read_pattern(struct __test_metadata *_metadata,
				    zx_handle_t handle, uint64_t vaddr,
				    size_t len, uint8_t seed)
{
	struct transfer result = { .actual = ACTUAL_UNTOUCHED, .mismatches = -1 };
	void *buf = map_buffer(_metadata, len);

	result.status = zx_process_read_memory(handle, vaddr, buf, len,
					       &result.actual);
	if (result.status == ZX_OK && result.actual <= len)
		result.mismatches = count_mismatches(buf, result.actual, seed);
	munmap(buf, len);
	return result;
}

/* A raw request, valid in every field, with the out fields preset. */
static struct zxmem_io raw_request(int pidfd, uint64_t vaddr, const void *buf,
				   size_t len)
{
	struct zxmem_io io = {
		.vaddr = vaddr,
		.buffer = (uintptr_t)buf,
		.buffer_size = len,
		.actual = ACTUAL_UNTOUCHED,
		.handle = pidfd,
		.status = STATUS_UNTOUCHED,
	};

	return io;
}

/* An fd number that is certainly not open. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int high;

	/* High, so no open() in between (the header's own) can reuse it. */
	high = fcntl(fd, F_DUPFD, 1000);
	close(fd);
	close(high);
	return high;
}

FIXTURE(child)
{
	struct target target;	/* untraced until a test seizes it */
	int dev;		/* our own /dev/zxmem, O_RDWR, for raw ioctls */
	int saved_param;	/* enable_debugging_syscalls before the test */
	bool no_zxmem;		/* setup skipped: zxmem.ko is not loaded */
};

/*
 * SKIP() in FIXTURE_SETUP ends only the setup: the 6.1 harness goes on to
 * run the test body, later harnesses do not.  Each body starts with this.
 */
#define RETURN_IF_SETUP_SKIPPED() do {		\
	if (self->no_zxmem)			\
		return;				\
} while (0)

FIXTURE_SETUP(child)
{
	self->target.pid = 0;
	self->target.pidfd = -1;
	self->target.sk = -1;
	self->dev = -1;
	self->saved_param = -1;

	if (access(ZXMEM_DEVICE_PATH, F_OK)) {
		self->no_zxmem = true;
		SKIP(return, "%s is missing: zxmem.ko is not loaded",
		     ZXMEM_DEVICE_PATH);
	}

	self->dev = open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev) {
		TH_LOG("open %s: %s", ZXMEM_DEVICE_PATH, strerror(errno));
	}
	ASSERT_EQ(0, target_spawn(&self->target)) {
		TH_LOG("cannot start the child: %s", strerror(errno));
	}
	self->saved_param = zxmem_param_get();
	ASSERT_LE(0, self->saved_param) {
		TH_LOG("cannot read %s", ZXMEM_PARAM_PATH);
	}
	/* Most tests write; the tests of the gate switch it off again. */
	set_debugging_syscalls(_metadata, 1);
}

FIXTURE_TEARDOWN(child)
{
	if (self->no_zxmem)
		return;
	if (self->saved_param >= 0)
		EXPECT_EQ(0, zxmem_param_set(self->saved_param));
	if (self->dev >= 0)
		close(self->dev);
	/* The child exits 0 when its socket closes; anything else is a crash. */
	EXPECT_EQ(0, target_reap(&self->target));
}

/* Gate: step 1 */

TEST_F(child, write_with_parameter_off_is_not_supported)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	set_debugging_syscalls(_metadata, 0);

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, write_with_parameter_off_is_not_supported_before_any_check)
{
	size_t page = page_size();
	zx_handle_t handles[3];
	uint8_t byte = 0;
	size_t actual;
	int64_t addr;
	unsigned int i;

	RETURN_IF_SETUP_SKIPPED();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	handles[0] = closed_fd();
	handles[1] = (zx_handle_t)-1;
	handles[2] = self->target.pidfd;	/* untraced: no right either */
	set_debugging_syscalls(_metadata, 0);

	for (i = 0; i < ARRAY_SIZE(handles); i++) {
		actual = ACTUAL_UNTOUCHED;
		ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED,
			      zx_process_write_memory(handles[i], addr, NULL,
						      1, &actual));
		ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED,
			      zx_process_write_memory(handles[i], addr, &byte,
						      0, &actual));
		ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED,
			      zx_process_write_memory(handles[i], addr, &byte,
						      ZXMEM_MAX_TRANSFER + 1,
						      &actual));
		ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED,
			      zx_process_write_memory(handles[i], 0, &byte,
						      1, &actual));
		ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/*
 * Kprobes (tracefs kprobe events, in a trace instance of our own, for this
 * thread only) on what a write does once past the gate: take the target's
 * mm, fault in the caller's buffer, pin the target's pages.
 */
#define TRACEFS		"/sys/kernel/tracing"
#define GATE_INSTANCE	TRACEFS "/instances/zxmem_gate"

static const char *const gate_functions[] = {
	"get_task_mm", "fault_in_readable", "pin_user_pages_remote",
};

static int write_text(const char *path, int flags, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	ssize_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	close(fd);
	return n == len ? 0 : -1;
}

static int gate_event_write(const char *fn, const char *file,
			    const char *text)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/events/zxmem_gate/%s/%s",
		 GATE_INSTANCE, fn, file);
	return write_text(path, 0, text);
}

static bool gate_mounted_tracefs;

/* Remove the probes; unmount tracefs too if we mounted it (@unmount). */
static void gate_probes_remove(bool unmount)
{
	char line[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(gate_functions); i++)
		gate_event_write(gate_functions[i], "enable", "0");
	rmdir(GATE_INSTANCE);
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		snprintf(line, sizeof(line), "-:zxmem_gate/%s\n",
			 gate_functions[i]);
		write_text(TRACEFS "/kprobe_events", O_APPEND, line);
	}
	if (unmount && gate_mounted_tracefs && !umount(TRACEFS))
		gate_mounted_tracefs = false;
}

/*
 * Make the probes fire for this thread.  Returns 0, 1 if the kernel has no
 * kprobe events (a reason to skip), or -1 with @step naming what failed.
 */
static int gate_probes_add(const char **step)
{
	char line[128];
	unsigned int i;

	if (access(TRACEFS "/kprobe_events", F_OK) &&
	    !mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		gate_mounted_tracefs = true;
	if (access(TRACEFS "/kprobe_events", F_OK))
		return 1;
	gate_probes_remove(false);	/* what an aborted run left */
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		*step = gate_functions[i];
		snprintf(line, sizeof(line), "p:zxmem_gate/%s %s\n",
			 gate_functions[i], gate_functions[i]);
		if (write_text(TRACEFS "/kprobe_events", O_APPEND, line))
			return -1;
	}
	*step = GATE_INSTANCE;
	if (mkdir(GATE_INSTANCE, 0700) && errno != EEXIST)
		return -1;
	snprintf(line, sizeof(line), "common_pid == %d", gettid());
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		*step = gate_functions[i];
		if (gate_event_write(gate_functions[i], "filter", line) ||
		    gate_event_write(gate_functions[i], "enable", "1"))
			return -1;
	}
	*step = GATE_INSTANCE "/trace";
	return write_text(GATE_INSTANCE "/trace", O_TRUNC, "");
}

/* Hits of each of gate_functions[] since the last call; -1 on error. */
static int gate_hits(int64_t *hits)
{
	char line[512], event[64];
	unsigned int i;
	FILE *trace;

	for (i = 0; i < ARRAY_SIZE(gate_functions); i++)
		hits[i] = 0;
	trace = fopen(GATE_INSTANCE "/trace", "re");
	if (!trace)
		return -1;
	while (fgets(line, sizeof(line), trace)) {
		if (line[0] == '#')
			continue;
		for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
			snprintf(event, sizeof(event), " %s: (",
				 gate_functions[i]);
			hits[i] += !!strstr(line, event);
		}
	}
	fclose(trace);
	return write_text(GATE_INSTANCE "/trace", O_TRUNC, "");
}

TEST_F(child, write_with_parameter_off_reaches_no_copy_function)
{
	int64_t off_hits[ARRAY_SIZE(gate_functions)];
	int64_t on_hits[ARRAY_SIZE(gate_functions)];
	zx_status_t off[2], on[2];
	size_t page = page_size();
	const char *step = "";
	int64_t addr[2];
	int probes, err;
	unsigned int i;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	/* Pinned pages, of plain and of executable memory. */
	addr[0] = target_map_anon(&self->target, page, SEED_OLD);
	addr[1] = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr[0]);
	ASSERT_LT(0, addr[1]);
	ASSERT_EQ(0, target_protect(&self->target, addr[1], page,
				    PROT_READ | PROT_EXEC));

	/* No ASSERT between adding the probes and removing them. */
	probes = gate_probes_add(&step);
	if (probes > 0) {
		gate_probes_remove(true);
		SKIP(return, "no kprobe events in %s (CONFIG_KPROBE_EVENTS)",
		     TRACEFS);
	}
	if (!probes) {
		step = ZXMEM_PARAM_PATH;
		probes = zxmem_param_set(0);
	}
	for (i = 0; i < 2 && !probes; i++)
		off[i] = write_pattern(_metadata, self->target.pidfd, addr[i],
				       page, SEED_NEW).status;
	if (!probes) {
		step = "reading the trace";
		probes = gate_hits(off_hits);
	}
	if (!probes) {
		step = ZXMEM_PARAM_PATH;
		probes = zxmem_param_set(1);
	}
	for (i = 0; i < 2 && !probes; i++)
		on[i] = write_pattern(_metadata, self->target.pidfd, addr[i],
				      page, SEED_NEW).status;
	if (!probes) {
		step = "reading the trace";
		probes = gate_hits(on_hits);
	}
	err = probes ? errno : 0;
	gate_probes_remove(true);
	ASSERT_EQ(0, probes) {
		TH_LOG("%s: %s", step, strerror(err));
	}

	for (i = 0; i < 2; i++) {
		ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED, off[i]);
		ASSERT_STATUS(ZX_OK, on[i]);
	}
	for (i = 0; i < ARRAY_SIZE(gate_functions); i++) {
		/* The probes see these calls once writes are on ... */
		EXPECT_LE(1, on_hits[i]) {
			TH_LOG("%s: no hit with the parameter on",
			       gate_functions[i]);
		}
		/* ... and no write got that far while it was off. */
		EXPECT_EQ(0, off_hits[i]) {
			TH_LOG("%s: reached with the parameter off",
			       gate_functions[i]);
		}
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, target_mismatches(&self->target, addr[i], page,
					       SEED_NEW));
}

TEST_F(child, read_with_parameter_off_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	set_debugging_syscalls(_metadata, 0);

	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_succeeds_once_parameter_is_back_on)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	set_debugging_syscalls(_metadata, 0);
	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_NOT_SUPPORTED, w.status);
	set_debugging_syscalls(_metadata, 1);
	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
}

/* Arguments: step 2 */

TEST_F(child, null_buffer_is_invalid_args)
{
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(self->target.pidfd, addr, NULL,
					      page, &actual));
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(self->target.pidfd, addr, NULL,
					     page, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, zero_size_is_invalid_args)
{
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t byte = SEED_NEW;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(self->target.pidfd, addr, &byte,
					      0, &actual));
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(self->target.pidfd, addr, &byte,
					     0, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, size_above_64_mib_is_invalid_args)
{
	size_t sizes[] = { ZXMEM_MAX_TRANSFER + 1, SIZE_MAX };
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t *buf;
	int64_t addr;
	unsigned int i;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	/* The size is refused before the buffer is looked at. */
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
			      zx_process_write_memory(self->target.pidfd, addr,
						      buf, sizes[i], &actual));
		ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
			      zx_process_read_memory(self->target.pidfd, addr,
						     buf, sizes[i], &actual));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/* A kernel that kept buffer_size in 32 bits would see one page here. */
TEST_F(child, size_wider_than_32_bits_is_invalid_args)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	size_t page = page_size();
	struct zxmem_io io;
	unsigned int i;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		io = raw_request(self->target.pidfd, addr, buf, page);
		io.buffer_size = (1ULL << 32) + page;
		ASSERT_EQ(0, ioctl(self->dev, cmds[i], &io));
		ASSERT_STATUS(ZX_ERR_INVALID_ARGS, io.status);
		ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);

		io = raw_request(self->target.pidfd, addr, buf, page);
		io.buffer_size = 1ULL << 63;
		ASSERT_EQ(0, ioctl(self->dev, cmds[i], &io));
		ASSERT_STATUS(ZX_ERR_INVALID_ARGS, io.status);
		ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, nonzero_flags_are_invalid_args)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	size_t page = page_size();
	struct zxmem_io io;
	unsigned int i, bit;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (bit = 0; bit < 32; bit++) {
			io = raw_request(self->target.pidfd, addr, buf, page);
			io.flags = 1U << bit;
			ASSERT_EQ(0, ioctl(self->dev, cmds[i], &io));
			ASSERT_EQ(ZX_ERR_INVALID_ARGS, io.status) {
				TH_LOG("flags bit %u: got %s", bit,
				       zx_status_get_string(io.status));
			}
			ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
		}
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));

	/* The same request with flags 0 goes through. */
	io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_STATUS(ZX_OK, io.status);
}

TEST_F(child, nonzero_reserved_is_invalid_args)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	size_t page = page_size();
	struct zxmem_io io;
	unsigned int i, bit;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (bit = 0; bit < 32; bit++) {
			io = raw_request(self->target.pidfd, addr, buf, page);
			io.reserved = 1U << bit;
			ASSERT_EQ(0, ioctl(self->dev, cmds[i], &io));
			ASSERT_EQ(ZX_ERR_INVALID_ARGS, io.status) {
				TH_LOG("reserved bit %u: got %s", bit,
				       zx_status_get_string(io.status));
			}
			ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
		}
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));

	/* The same request with reserved 0 goes through. */
	io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, ioctl(self->dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_STATUS(ZX_OK, io.status);
}

TEST_F(child, invalid_args_are_reported_before_bad_handle)
{
	size_t actual = ACTUAL_UNTOUCHED;
	zx_handle_t handle;

	RETURN_IF_SETUP_SKIPPED();
	handle = closed_fd();
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(handle, 0, NULL, 1, &actual));
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(handle, 0, NULL, 1, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
}

TEST_F_TIMEOUT(child, write_of_64_mib_copies_every_byte, 180)
{
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, ZXMEM_MAX_TRANSFER, SEED_OLD);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, self->target.pidfd, addr,
			  ZXMEM_MAX_TRANSFER, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(ZXMEM_MAX_TRANSFER, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, ZXMEM_MAX_TRANSFER,
				       SEED_NEW));
}

TEST_F_TIMEOUT(child, read_of_64_mib_copies_every_byte, 180)
{
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, ZXMEM_MAX_TRANSFER, SEED_NEW);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->target.pidfd, addr,
			 ZXMEM_MAX_TRANSFER, SEED_NEW);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(ZXMEM_MAX_TRANSFER, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

/* A debugger's write: a few bytes, unaligned, across a page boundary. */
TEST_F(child, unaligned_write_changes_exactly_those_bytes)
{
	static const uint8_t patch[] = { 0xcc, 0x90, 0x0f, 0x0b, 0xc3 };
	size_t page = page_size(), at = page - 2;
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t *expected, *seen;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, 2 * page, SEED_OLD);
	ASSERT_LT(0, addr);
	expected = map_buffer(_metadata, 2 * page);
	seen = map_buffer(_metadata, 2 * page);
	fill_pattern(expected, 2 * page, SEED_OLD);
	memcpy(expected + at, patch, sizeof(patch));

	ASSERT_STATUS(ZX_OK, zx_process_write_memory(self->target.pidfd,
						     addr + at, patch,
						     sizeof(patch), &actual));
	ASSERT_EQ(sizeof(patch), actual);
	ASSERT_EQ(0, target_copy_out(&self->target, addr, 2 * page, seen));
	ASSERT_EQ(0, memcmp(expected, seen, 2 * page));
}

TEST_F(child, unaligned_read_returns_exactly_those_bytes)
{
	size_t page = page_size(), at = page - 3, len = 7;
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t expected[7], seen[7];
	uint8_t *whole;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, 2 * page, SEED_OLD);
	ASSERT_LT(0, addr);
	whole = map_buffer(_metadata, 2 * page);
	fill_pattern(whole, 2 * page, SEED_OLD);
	memcpy(expected, whole + at, len);
	memset(seen, 0, sizeof(seen));

	ASSERT_STATUS(ZX_OK, zx_process_read_memory(self->target.pidfd,
						    addr + at, seen, len,
						    &actual));
	ASSERT_EQ(len, actual);
	ASSERT_EQ(0, memcmp(expected, seen, len));
}

/* Handle: step 3 */

/* Try write and read through @handle; both must answer @expected. */
static void assert_handle_refused(struct __test_metadata *_metadata,
				  struct target *t, zx_handle_t handle,
				  zx_status_t expected)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;

	ASSERT_EQ(0, target_trace(t));
	addr = target_map_anon(t, page, SEED_OLD);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, handle, addr, page, SEED_NEW);
	ASSERT_STATUS(expected, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, handle, addr, page, SEED_OLD);
	ASSERT_STATUS(expected, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_OLD));
}

TEST_F(child, closed_fd_is_bad_handle)
{
	RETURN_IF_SETUP_SKIPPED();
	assert_handle_refused(_metadata, &self->target, closed_fd(),
			      ZX_ERR_BAD_HANDLE);
}

TEST_F(child, handle_minus_one_is_bad_handle)
{
	RETURN_IF_SETUP_SKIPPED();
	assert_handle_refused(_metadata, &self->target, (zx_handle_t)-1,
			      ZX_ERR_BAD_HANDLE);
}

TEST_F(child, dev_null_fd_is_wrong_type)
{
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	fd = open("/dev/null", O_RDWR);
	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, &self->target, fd, ZX_ERR_WRONG_TYPE);
	close(fd);
}

TEST_F(child, regular_file_fd_is_wrong_type)
{
	char path[64];
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	fd = make_pattern_file(path, sizeof(path), page_size(), SEED_OLD);
	ASSERT_LE(0, fd);
	unlink(path);
	assert_handle_refused(_metadata, &self->target, fd, ZX_ERR_WRONG_TYPE);
	close(fd);
}

TEST_F(child, socket_fd_is_wrong_type)
{
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, &self->target, fd, ZX_ERR_WRONG_TYPE);
	close(fd);
}

/* Another anon_inode file: only "[pidfd]" names a process. */
TEST_F(child, eventfd_is_wrong_type)
{
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	fd = eventfd(0, 0);
	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, &self->target, fd, ZX_ERR_WRONG_TYPE);
	close(fd);
}

/* An O_PATH fd is open too, just not a pidfd. */
TEST_F(child, o_path_fd_is_wrong_type)
{
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	fd = open("/tmp", O_PATH);
	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, &self->target, fd, ZX_ERR_WRONG_TYPE);
	close(fd);
}

/* The right: step 5, and step 7 for a tracee that is not dumpable */

TEST_F(child, write_to_untraced_child_is_access_denied)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	/* Root, CAP_SYS_PTRACE and all: not tracing it is what counts. */
	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, read_from_untraced_child_is_access_denied)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

TEST_F(child, write_to_traced_child_succeeds)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
}

TEST_F(child, read_from_traced_child_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_to_own_process_succeeds)
{
	size_t page = page_size();
	struct transfer w;
	uint8_t *mine;
	int self_pidfd;

	RETURN_IF_SETUP_SKIPPED();
	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	mine = map_buffer(_metadata, page);
	fill_pattern(mine, page, SEED_OLD);

	w = write_pattern(_metadata, self_pidfd, (uintptr_t)mine, page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, count_mismatches(mine, page, SEED_NEW));
	close(self_pidfd);
}

TEST_F(child, read_from_own_process_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	uint8_t *mine;
	int self_pidfd;

	RETURN_IF_SETUP_SKIPPED();
	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	mine = map_buffer(_metadata, page);
	fill_pattern(mine, page, SEED_OLD);

	r = read_pattern(_metadata, self_pidfd, (uintptr_t)mine, page,
			 SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
	close(self_pidfd);
}

/*
 * pidfs (6.9+) and thread pidfds (PIDFD_THREAD, 6.9+): what changes there
 * is where the pid behind a pidfd is found, so these run the same calls
 * through such handles.  On a kernel without them they are skipped.
 */
#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC		0x50494446
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD		O_EXCL
#endif

TEST_F(child, pidfd_on_pidfs_is_a_process_handle)
{
	size_t page = page_size();
	struct statfs fs;
	struct transfer w;
	uint8_t *mine;
	int self_pidfd;

	RETURN_IF_SETUP_SKIPPED();
	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	ASSERT_EQ(0, fstatfs(self_pidfd, &fs));
	if (fs.f_type != PID_FS_MAGIC) {
		close(self_pidfd);
		SKIP(return, "pidfds are anon_inode files on this kernel");
	}
	mine = map_buffer(_metadata, page);
	fill_pattern(mine, page, SEED_OLD);

	w = write_pattern(_metadata, self_pidfd, (uintptr_t)mine, page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, count_mismatches(mine, page, SEED_NEW));
	close(self_pidfd);
}

struct parked_thread {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t tid;
	bool release;
};

static void *park(void *arg)
{
	struct parked_thread *parked = arg;

	pthread_mutex_lock(&parked->lock);
	parked->tid = gettid();
	pthread_cond_broadcast(&parked->cond);
	while (!parked->release)
		pthread_cond_wait(&parked->cond, &parked->lock);
	pthread_mutex_unlock(&parked->lock);
	return NULL;
}

/*
 * A PIDFD_THREAD pidfd names a thread, and Zircon answers a thread handle
 * passed to zx_process_write_memory() with ZX_ERR_WRONG_TYPE: so does
 * zxmem, even for a thread of the caller's own process, before any right
 * is judged, and nothing is written.
 */
TEST_F(child, thread_pidfd_of_own_thread_is_wrong_type)
{
	struct parked_thread parked = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	size_t page = page_size();
	struct transfer w, r;
	pthread_t thread;
	int thread_pidfd;
	uint8_t *mine;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, pthread_create(&thread, NULL, park, &parked));
	pthread_mutex_lock(&parked.lock);
	while (!parked.tid)
		pthread_cond_wait(&parked.cond, &parked.lock);
	pthread_mutex_unlock(&parked.lock);

	thread_pidfd = syscall(SYS_pidfd_open, parked.tid, PIDFD_THREAD);
	if (thread_pidfd < 0) {
		pthread_mutex_lock(&parked.lock);
		parked.release = true;
		pthread_cond_broadcast(&parked.cond);
		pthread_mutex_unlock(&parked.lock);
		pthread_join(thread, NULL);
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "no PIDFD_THREAD on this kernel");
	}
	mine = map_buffer(_metadata, page);
	fill_pattern(mine, page, SEED_OLD);

	w = write_pattern(_metadata, thread_pidfd, (uintptr_t)mine, page,
			  SEED_NEW);
	r = read_pattern(_metadata, thread_pidfd, (uintptr_t)mine, page,
			 SEED_OLD);

	pthread_mutex_lock(&parked.lock);
	parked.release = true;
	pthread_cond_broadcast(&parked.cond);
	pthread_mutex_unlock(&parked.lock);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	close(thread_pidfd);

	ASSERT_STATUS(ZX_ERR_WRONG_TYPE, w.status);
	ASSERT_EQ(0, count_mismatches(mine, page, SEED_OLD));
	ASSERT_STATUS(ZX_ERR_WRONG_TYPE, r.status);
}

TEST_F(child, thread_pidfd_of_a_tracee_is_wrong_type)
{
	size_t page = page_size();
	int thread_pidfd;
	struct transfer w, r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	thread_pidfd = syscall(SYS_pidfd_open, self->target.pid, PIDFD_THREAD);
	if (thread_pidfd < 0) {
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "no PIDFD_THREAD on this kernel");
	}
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	/* Traced or not, the handle is of the wrong type. */
	w = write_pattern(_metadata, thread_pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_WRONG_TYPE, w.status);
	ASSERT_EQ(0, target_trace(&self->target));
	w = write_pattern(_metadata, thread_pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_WRONG_TYPE, w.status);
	r = read_pattern(_metadata, thread_pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_WRONG_TYPE, r.status);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
	close(thread_pidfd);
}

struct thread_write {
	zx_handle_t handle;
	uint64_t vaddr;
	const void *buf;
	size_t len;
	zx_status_t status;
	size_t actual;
};

static void *write_from_thread(void *arg)
{
	struct thread_write *call = arg;

	call->actual = ACTUAL_UNTOUCHED;
	call->status = zx_process_write_memory(call->handle, call->vaddr,
					       call->buf, call->len,
					       &call->actual);
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

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	call = (struct thread_write){
		.handle = self->target.pidfd,
		.vaddr = addr,
		.buf = buf,
		.len = page,
	};
	ASSERT_EQ(0, pthread_create(&thread, NULL, write_from_thread, &call));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, call.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, call.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));

	/* The attaching thread itself may. */
	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
}

/*
 * Unprivileged callers run in a helper process that drops to nobody and
 * reports back through a pipe: the test process stays root, to restore
 * the module parameter.
 */
#define SKIP_UNLESS_ROOT() do {					\
	if (geteuid() != 0)					\
		SKIP(return, "needs root, to become nobody");	\
} while (0)

enum unprivileged_case {
	TRACE_OWN_CHILD,		/* nobody traces a child of its own */
	TRACE_NONDUMPABLE_CHILD,	/* ... that then becomes non-dumpable */
	PROBE_GIVEN_TARGET,		/* nobody, not tracing the given pidfd */
};

struct unprivileged_report {
	int failed_line;	/* the helper's setup failed here; 0 if not */
	int failed_errno;
	zx_status_t read_status;
	size_t read_actual;
	int64_t read_mismatches;	/* bytes read that are not SEED_OLD */
	zx_status_t write_status;	/* of SEED_NEW */
	size_t write_actual;
	int64_t old_mismatches;	/* target bytes not SEED_OLD afterwards */
	int64_t new_mismatches;	/* target bytes not SEED_NEW afterwards */
};

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	/*
	 * Changing uid made us non-dumpable, and children inherit that: we
	 * could not attach to our own child without CAP_SYS_PTRACE.
	 */
	return prctl(PR_SET_DUMPABLE, 1);
}

#define HELPER_CHECK(report, cond) do {			\
	if (!(cond)) {					\
		(report)->failed_line = __LINE__;	\
		(report)->failed_errno = errno;		\
		goto out;				\
	}						\
} while (0)

static void unprivileged_helper(int report_fd, enum unprivileged_case which,
				int pidfd, uint64_t addr)
{
	struct unprivileged_report report = {
		.read_actual = ACTUAL_UNTOUCHED,
		.write_actual = ACTUAL_UNTOUCHED,
		.read_mismatches = -1,
		.old_mismatches = -1,
		.new_mismatches = -1,
	};
	struct target own = { .pid = 0, .pidfd = -1, .sk = -1 };
	size_t page = page_size();
	uint8_t probe = 1, copy = 0;
	uint8_t *buf = NULL;
	int self_pidfd;
	int64_t mapped;

	/* Open the header's /dev/zxmem while still root: it is mode 0600. */
	self_pidfd = zxmem_pidfd_open(getpid());
	HELPER_CHECK(&report, self_pidfd >= 0);
	HELPER_CHECK(&report, zx_process_read_memory(self_pidfd,
						     (uintptr_t)&probe, &copy,
						     1, NULL) == ZX_OK);
	HELPER_CHECK(&report, drop_to_nobody() == 0);
	/* Still usable: an answer below is not just a closed device. */
	copy = 0;
	HELPER_CHECK(&report, zx_process_read_memory(self_pidfd,
						     (uintptr_t)&probe, &copy,
						     1, NULL) == ZX_OK);
	HELPER_CHECK(&report, copy == probe);

	if (which != PROBE_GIVEN_TARGET) {
		HELPER_CHECK(&report, target_spawn(&own) == 0);
		HELPER_CHECK(&report, target_trace(&own) == 0);
		mapped = target_map_anon(&own, page, SEED_OLD);
		HELPER_CHECK(&report, mapped > 0);
		addr = mapped;
		pidfd = own.pidfd;
	}
	/* After the attach: a non-dumpable process cannot be attached to. */
	if (which == TRACE_NONDUMPABLE_CHILD)
		HELPER_CHECK(&report, target_simple(&own, CHILD_SET_NONDUMPABLE) == 0);

	buf = malloc(page);
	HELPER_CHECK(&report, buf);
	report.read_status = zx_process_read_memory(pidfd, addr, buf, page,
						    &report.read_actual);
	if (report.read_status == ZX_OK)
		report.read_mismatches = count_mismatches(buf, page, SEED_OLD);
	fill_pattern(buf, page, SEED_NEW);
	report.write_status = zx_process_write_memory(pidfd, addr, buf, page,
						      &report.write_actual);
	if (which != PROBE_GIVEN_TARGET) {
		report.old_mismatches = target_mismatches(&own, addr, page,
							  SEED_OLD);
		report.new_mismatches = target_mismatches(&own, addr, page,
							  SEED_NEW);
	}
out:
	free(buf);
	if (own.pid > 0 && target_reap(&own) && !report.failed_line)
		report.failed_line = __LINE__;
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
			   const int *failed_line, const int *failed_errno)
{
	ssize_t got = read(report_fd, report, size);
	int status;

	close(report_fd);
	ASSERT_EQ(helper, waitpid(helper, &status, 0));
	ASSERT_EQ((ssize_t)size, got);
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, *failed_line) {
		TH_LOG("the unprivileged helper failed at line %d: %s",
		       *failed_line, strerror(*failed_errno));
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
		       &report->failed_line, &report->failed_errno);
}

TEST_F(child, unprivileged_tracer_writes_and_reads_its_tracee)
{
	struct unprivileged_report report;
	size_t page = page_size();

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	run_unprivileged(_metadata, TRACE_OWN_CHILD, -1, 0, &report);

	ASSERT_STATUS(ZX_OK, report.read_status);
	ASSERT_EQ(page, report.read_actual);
	ASSERT_EQ(0, report.read_mismatches);
	ASSERT_STATUS(ZX_OK, report.write_status);
	ASSERT_EQ(page, report.write_actual);
	ASSERT_EQ(0, report.new_mismatches);
}

TEST_F(child, unprivileged_tracer_of_nondumpable_tracee_is_access_denied)
{
	struct unprivileged_report report;

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	run_unprivileged(_metadata, TRACE_NONDUMPABLE_CHILD, -1, 0, &report);

	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.read_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.read_actual);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.write_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.write_actual);
	ASSERT_EQ(0, report.old_mismatches);
}

TEST_F(child, unprivileged_non_tracer_of_root_process_is_access_denied)
{
	struct unprivileged_report report;
	size_t page = page_size();
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	run_unprivileged(_metadata, PROBE_GIVEN_TARGET, self->target.pidfd,
			 addr, &report);

	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.read_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.read_actual);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.write_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.write_actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, root_tracer_of_nondumpable_tracee_succeeds)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	ASSERT_EQ(0, target_simple(&self->target, CHILD_SET_NONDUMPABLE));

	/* CAP_SYS_PTRACE stands in for dumpability. */
	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(0, r.mismatches);
	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
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
	int failed_line;	/* the helper's setup failed here; 0 if not */
	int failed_errno;
	zx_status_t before_status;	/* nobody's write before the exec */
	int64_t euid;		/* the target's, after the exec */
	int64_t at_secure;	/* 1: the kernel saw a setuid exec */
	zx_status_t read_status;
	size_t read_actual;
	zx_status_t write_status;
	size_t write_actual;
	int reattach_errno;	/* of PTRACE_SEIZE after the exec; 0: attached */
	int64_t new_mismatches;	/* landing page bytes not SEED_NEW after */
	int64_t nonzero;	/* landing page bytes that are not 0 after */
};

/* Stop a PTRACE_SEIZEd tracee and let it go. */
static int target_detach(struct target *t)
{
	int status;

	if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) ||
	    waitpid(t->pid, &status, __WALL) != t->pid || !WIFSTOPPED(status))
		return -1;
	return ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
}

static int64_t count_nonzero(const uint8_t *bytes, size_t len)
{
	int64_t nonzero = 0;
	size_t i;

	for (i = 0; i < len; i++)
		nonzero += bytes[i] != 0;
	return nonzero;
}

static void setuid_helper(int report_fd, enum setuid_case which,
			  const char *setuid_path)
{
	struct setuid_report report = {
		.before_status = ZX_OK,
		.read_actual = ACTUAL_UNTOUCHED,
		.write_actual = ACTUAL_UNTOUCHED,
		.new_mismatches = -1,
		.nonzero = -1,
	};
	struct child_request exec = { .op = CHILD_EXEC };
	struct target own = { .pid = 0, .pidfd = -1, .sk = -1 };
	const size_t len = sizeof(landing_page);
	uint64_t landing = (uintptr_t)landing_page;
	static uint8_t buf[sizeof(landing_page)];
	int64_t answer;
	int self_pidfd;

	/* The header's /dev/zxmem, opened while still root (mode 0600). */
	self_pidfd = zxmem_pidfd_open(getpid());
	HELPER_CHECK(&report, self_pidfd >= 0);
	HELPER_CHECK(&report, zx_process_read_memory(self_pidfd, landing, buf,
						     1, NULL) == ZX_OK);
	close(self_pidfd);
	HELPER_CHECK(&report, drop_to_nobody() == 0);
	/* After the drop, which clears it: don't outlive a killed test. */
	HELPER_CHECK(&report, prctl(PR_SET_PDEATHSIG, SIGKILL) == 0);
	HELPER_CHECK(&report, target_spawn(&own) == 0);
	if (which != SETUID_DURING_SELF_WRITES)
		HELPER_CHECK(&report, target_trace(&own) == 0);
	if (which == SETUID_AFTER_DETACH) {
		fill_pattern(buf, len, SEED_NEW);
		report.before_status = zx_process_write_memory(own.pidfd,
							       landing, buf,
							       len, NULL);
		HELPER_CHECK(&report, target_detach(&own) == 0);
	}

	snprintf(exec.path, sizeof(exec.path), "%s", setuid_path);
	if (which == SETUID_DURING_SELF_WRITES)
		exec.arg = EXEC_WHILE_WRITING_SELF;
	answer = target_ask(&own, &exec);
	errno = answer < 0 ? -answer : 0;
	/* Non-PIE: the new image's landing page is where the old one was. */
	HELPER_CHECK(&report, answer == (int64_t)landing);
	report.euid = target_simple(&own, CHILD_EUID);
	report.at_secure = target_simple(&own, CHILD_AT_SECURE);

	report.read_status = zx_process_read_memory(own.pidfd, landing, buf,
						    len, &report.read_actual);
	fill_pattern(buf, len, SEED_NEW);
	report.write_status = zx_process_write_memory(own.pidfd, landing, buf,
						      len,
						      &report.write_actual);
	if (which != SETUID_UNDER_TRACER)
		report.reattach_errno = target_trace(&own) ? errno : 0;
	report.new_mismatches = target_mismatches(&own, landing, len,
						  SEED_NEW);
	HELPER_CHECK(&report, target_copy_out(&own, landing, len, buf) == 0);
	report.nonzero = count_nonzero(buf, len);
out:
	if (own.pid > 0 && target_reap(&own) && !report.failed_line)
		report.failed_line = __LINE__;
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

static void run_setuid_case(struct __test_metadata *_metadata,
			    enum setuid_case which,
			    struct setuid_report *report)
{
	int report_fd, copy;
	struct statvfs fs;
	char path[64];
	pid_t helper;

	copy = make_setuid_copy();
	ASSERT_LE(0, copy) {
		TH_LOG("cannot make a setuid copy in /tmp: %s",
		       strerror(errno));
	}
	if (!fstatvfs(copy, &fs) && fs.f_flag & ST_NOSUID) {
		close(copy);
		SKIP(return, "/tmp is mounted nosuid");
	}
	/* The child, fork()ed from the helper, execs it by this name. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", copy);
	/* An aborted test takes the copy with it: it has no name. */
	helper = helper_fork(_metadata, &report_fd);
	if (helper == 0)
		setuid_helper(report_fd, which, path);
	close(copy);
	helper_collect(_metadata, helper, report_fd, report, sizeof(*report),
		       &report->failed_line, &report->failed_errno);
	/* The kernel saw a setuid exec, whatever it made of it. */
	ASSERT_EQ(1, report->at_secure);
}

/* The kernel runs it unprivileged: the tracer keeps a harmless right. */
TEST_F(child, setuid_exec_under_unprivileged_tracer_gains_no_privilege)
{
	struct setuid_report report;

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	run_setuid_case(_metadata, SETUID_UNDER_TRACER, &report);

	ASSERT_EQ(NOBODY, report.euid);
	ASSERT_STATUS(ZX_OK, report.read_status);
	ASSERT_EQ(sizeof(landing_page), report.read_actual);
	ASSERT_STATUS(ZX_OK, report.write_status);
	ASSERT_EQ(sizeof(landing_page), report.write_actual);
	ASSERT_EQ(0, report.new_mismatches);
}

TEST_F(child, setuid_exec_after_detach_is_access_denied)
{
	struct setuid_report report;

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	run_setuid_case(_metadata, SETUID_AFTER_DETACH, &report);

	/* The right was there before: the pidfd is the same. */
	ASSERT_STATUS(ZX_OK, report.before_status);
	ASSERT_EQ(0, report.euid);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.read_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.read_actual);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.write_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.write_actual);
	/* Nor can nobody become its tracer again. */
	ASSERT_EQ(EPERM, report.reattach_errno);
	ASSERT_EQ(0, report.nonzero);
}

TEST_F(child, self_writes_do_not_reach_the_setuid_image)
{
	struct setuid_report report;

	RETURN_IF_SETUP_SKIPPED();
	SKIP_UNLESS_ROOT();
	run_setuid_case(_metadata, SETUID_DURING_SELF_WRITES, &report);

	ASSERT_EQ(0, report.euid);
	/*
	 * Its writer thread died in the exec (the kernel's de_thread() waits
	 * for it to leave the module before the new mm exists): the setuid
	 * image is untouched, and its pidfd now names a root process that
	 * nobody may not reach.
	 */
	ASSERT_EQ(0, report.nonzero);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.read_status);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, report.write_status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, report.write_actual);
	ASSERT_EQ(EPERM, report.reattach_errno);
}

TEST_F(child, write_through_readonly_device_fd_is_access_denied)
{
	size_t page = page_size();
	struct zxmem_io io;
	uint8_t *buf;
	int64_t addr;
	int dev;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);
	dev = open(ZXMEM_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);

	io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, ioctl(dev, ZXMEM_IOC_WRITE_MEMORY, &io));
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, io.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, io.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
	close(dev);
}

TEST_F(child, read_through_readonly_device_fd_succeeds)
{
	size_t page = page_size();
	struct zxmem_io io;
	uint8_t *buf;
	int64_t addr;
	int dev;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	dev = open(ZXMEM_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, dev);

	io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, ioctl(dev, ZXMEM_IOC_READ_MEMORY, &io));
	ASSERT_STATUS(ZX_OK, io.status);
	ASSERT_EQ(page, io.actual);
	ASSERT_EQ(0, count_mismatches(buf, page, SEED_OLD));
	close(dev);
}

/* State: step 4 (reaped) and step 6 (zombie) */

TEST_F(child, traced_zombie_is_bad_state)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	ASSERT_EQ(0, target_exit_unreaped(&self->target));

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/* The right (step 5) is checked before the state (step 6). */
TEST_F(child, untraced_zombie_is_access_denied)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	ASSERT_EQ(0, target_exit_unreaped(&self->target));

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/* Reaped (step 4) comes before the right (step 5): no trace needed. */
TEST_F(child, reaped_process_is_bad_state)
{
	size_t page = page_size();
	struct transfer w, r;
	int64_t addr;
	int status;

	RETURN_IF_SETUP_SKIPPED();
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	ASSERT_EQ(0, target_simple(&self->target, CHILD_EXIT));
	ASSERT_EQ(self->target.pid, waitpid(self->target.pid, &status, 0));
	self->target.pid = 0;

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/* Memory: steps 8 to 11, and partial copies */

/* Write and read at @vaddr must both answer ZX_ERR_NO_MEMORY. */
static void assert_no_memory_at(struct __test_metadata *_metadata,
				struct target *t, uint64_t vaddr)
{
	size_t page = page_size();
	struct transfer w, r;

	w = write_pattern(_metadata, t->pidfd, vaddr, page, SEED_NEW);
	ASSERT_EQ(ZX_ERR_NO_MEMORY, w.status) {
		TH_LOG("write at %#" PRIx64 ": %s", vaddr,
		       zx_status_get_string(w.status));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	r = read_pattern(_metadata, t->pidfd, vaddr, page, SEED_OLD);
	ASSERT_EQ(ZX_ERR_NO_MEMORY, r.status) {
		TH_LOG("read at %#" PRIx64 ": %s", vaddr,
		       zx_status_get_string(r.status));
	}
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

TEST_F(child, unmapped_address_is_no_memory)
{
	size_t page = page_size();
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	ASSERT_EQ(0, target_unmap(&self->target, addr, page));

	assert_no_memory_at(_metadata, &self->target, addr);
	/* A forced write must not have mapped anything there. */
	ASSERT_EQ(0, is_mapped(self->target.pid, addr));
}

TEST_F(child, address_zero_is_no_memory)
{
	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	assert_no_memory_at(_metadata, &self->target, 0);
}

TEST_F(child, kernel_address_is_no_memory)
{
	uint64_t addrs[] = {
		KERNEL_ADDRESS,
		-(uint64_t)page_size(),	/* the last page: vaddr + size wraps */
		1ULL << 63,		/* not canonical */
	};
	unsigned int i;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	for (i = 0; i < ARRAY_SIZE(addrs); i++)
		assert_no_memory_at(_metadata, &self->target, addrs[i]);
}

/* Map two pages, the second of them a hole; return the first. */
static int64_t target_map_page_before_hole(struct target *t)
{
	size_t page = page_size();
	int64_t addr = target_map_anon(t, 2 * page, SEED_OLD);

	if (addr < 0)
		return addr;
	if (target_unmap(t, addr + page, page))
		return -1;
	return addr;
}

TEST_F(child, write_stops_at_hole_with_partial_actual)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_page_before_hole(&self->target);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(0, is_mapped(self->target.pid, addr + page));
}

TEST_F(child, read_stops_at_hole_with_partial_actual)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_page_before_hole(&self->target);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			 SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_runs_across_adjacent_mappings)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, 2 * page, SEED_OLD);
	ASSERT_LT(0, addr);
	/* Two VMAs now: read-write, then read-only. */
	ASSERT_EQ(0, target_protect(&self->target, addr + page, page,
				    PROT_READ));

	w = write_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(2 * page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, 2 * page,
				       SEED_NEW));
}

TEST_F(child, write_stops_before_shared_readonly_mapping)
{
	struct child_request map_file = {
		.op = CHILD_MAP,
		.prot = PROT_READ,
		.flags = MAP_SHARED | MAP_FIXED,
		.open_flags = O_RDONLY,
	};
	size_t page = page_size();
	struct transfer w;
	char path[64];
	int64_t addr;
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	fd = make_pattern_file(path, sizeof(path), page, SEED_OLD);
	ASSERT_LE(0, fd);
	addr = target_map_anon(&self->target, 2 * page, SEED_OLD);
	ASSERT_LT(0, addr);
	map_file.addr = addr + page;
	map_file.len = page;
	snprintf(map_file.path, sizeof(map_file.path), "%s", path);
	ASSERT_EQ(addr + (int64_t)page, target_ask(&self->target, &map_file));
	unlink(path);

	w = write_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(0, target_mismatches(&self->target, addr + page, page,
				       SEED_OLD));
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

/* Map a private page with pattern SEED_OLD, then give it protection @prot. */
static int64_t target_map_protected(struct target *t, int prot)
{
	size_t page = page_size();
	int64_t addr = target_map_anon(t, page, SEED_OLD);

	if (addr < 0)
		return addr;
	if (target_protect(t, addr, page, prot))
		return -1;
	return addr;
}

/* A forced write into a private page the child may not write itself. */
static void assert_write_is_forced(struct __test_metadata *_metadata,
				   struct target *t, int prot)
{
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	ASSERT_EQ(0, target_trace(t));
	addr = target_map_protected(t, prot);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, t->pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	/* Let the child look: PROT_EXEC alone may not be readable. */
	ASSERT_EQ(0, target_protect(t, addr, page, PROT_READ));
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_NEW));
}

TEST_F(child, write_to_readonly_private_anonymous_is_forced)
{
	RETURN_IF_SETUP_SKIPPED();
	assert_write_is_forced(_metadata, &self->target, PROT_READ);
}

TEST_F(child, write_to_exec_only_mapping_is_forced)
{
	RETURN_IF_SETUP_SKIPPED();
	assert_write_is_forced(_metadata, &self->target, PROT_EXEC);
}

TEST_F(child, write_to_prot_none_mapping_is_forced)
{
	RETURN_IF_SETUP_SKIPPED();
	assert_write_is_forced(_metadata, &self->target, PROT_NONE);
}

TEST_F(child, read_from_prot_none_mapping_succeeds)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_protected(&self->target, PROT_NONE);
	ASSERT_LT(0, addr);

	r = read_pattern(_metadata, self->target.pidfd, addr, page, SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_to_readonly_private_file_mapping_leaves_file_unchanged)
{
	size_t page = page_size();
	struct transfer w;
	char path[64];
	int64_t addr;
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	fd = make_pattern_file(path, sizeof(path), page, SEED_OLD);
	ASSERT_LE(0, fd);
	addr = target_map_file(&self->target, path, O_RDONLY, PROT_READ,
			       MAP_PRIVATE, page);
	unlink(path);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

TEST_F(child, write_to_shared_readonly_file_mapping_is_access_denied)
{
	size_t page = page_size();
	struct transfer w;
	char path[64];
	int64_t addr;
	int fd;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	fd = make_pattern_file(path, sizeof(path), page, SEED_OLD);
	ASSERT_LE(0, fd);
	addr = target_map_file(&self->target, path, O_RDONLY, PROT_READ,
			       MAP_SHARED, page);
	unlink(path);
	ASSERT_LT(0, addr);

	w = write_pattern(_metadata, self->target.pidfd, addr, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
	ASSERT_EQ(0, file_mismatches(fd, page, SEED_OLD));
	close(fd);
}

/* Find the child's @name mapping, or skip the test. */
#define FIND_MAPPING_OR_SKIP(pid, name, found) do {			\
	if (find_mapping(pid, name, found))				\
		SKIP(return, "the child has no %s mapping", name);	\
} while (0)

TEST_F(child, write_to_vdso_is_access_denied)
{
	uint8_t before[COPY_OUT_MAX], after[COPY_OUT_MAX];
	struct mapping vdso;
	struct transfer w;
	size_t len;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vdso]", &vdso);
	len = vdso.end - vdso.start;
	ASSERT_GE(COPY_OUT_MAX, len);
	ASSERT_EQ(0, target_copy_out(&self->target, vdso.start, len, before));

	w = write_pattern(_metadata, self->target.pidfd, vdso.start, len,
			  SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	/* One byte into the middle is refused just the same. */
	w = write_pattern(_metadata, self->target.pidfd, vdso.start + len / 2,
			  1, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(0, target_copy_out(&self->target, vdso.start, len, after));
	ASSERT_EQ(0, memcmp(before, after, len));
}

TEST_F(child, read_from_vdso_returns_its_bytes)
{
	uint8_t theirs[COPY_OUT_MAX], read_back[COPY_OUT_MAX];
	size_t actual = ACTUAL_UNTOUCHED;
	struct mapping vdso;
	size_t len;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vdso]", &vdso);
	len = vdso.end - vdso.start;
	ASSERT_GE(COPY_OUT_MAX, len);
	ASSERT_EQ(0, target_copy_out(&self->target, vdso.start, len, theirs));

	ASSERT_STATUS(ZX_OK, zx_process_read_memory(self->target.pidfd,
						    vdso.start, read_back,
						    len, &actual));
	ASSERT_EQ(len, actual);
	ASSERT_EQ(0, memcmp(theirs, read_back, len));
}

/* Step 8 (the vDSO) comes before step 10 (not cacheable). */
TEST_F(child, write_to_vvar_is_access_denied)
{
	struct mapping vvar;
	struct transfer w;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vvar]", &vvar);

	w = write_pattern(_metadata, self->target.pidfd, vvar.start,
			  page_size(), SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
}

TEST_F(child, read_from_vvar_is_bad_state)
{
	struct mapping vvar;
	struct transfer r;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vvar]", &vvar);

	r = read_pattern(_metadata, self->target.pidfd, vvar.start,
			 page_size(), SEED_OLD);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/* Step 8 looks at the whole range, before step 9 looks at its first byte. */
TEST_F(child, write_from_hole_into_vvar_is_access_denied)
{
	size_t page = page_size();
	struct mapping vvar, vdso;
	struct transfer w;
	uint64_t below;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vvar]", &vvar);
	FIND_MAPPING_OR_SKIP(self->target.pid, "[vdso]", &vdso);
	/* [vdso] sits below [vvar] on some kernels: start below both. */
	below = (vdso.start < vvar.start ? vdso.start : vvar.start) - page;
	if (is_mapped(self->target.pid, below))
		SKIP(return, "the page below [vvar] and [vdso] is mapped");

	w = write_pattern(_metadata, self->target.pidfd, below, 2 * page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_ERR_ACCESS_DENIED, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, is_mapped(self->target.pid, below));
}

/*
 * Map the BIOS area through /dev/mem, at @addr if not 0: VM_IO | VM_PFNMAP,
 * memory that is not cacheable.
 */
static int64_t target_map_io(struct target *t, uint64_t addr, size_t len)
{
	struct child_request map = {
		.op = CHILD_MAP,
		.addr = addr,
		.len = len,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | (addr ? MAP_FIXED : 0),
		.open_flags = O_RDWR | O_SYNC,
		.offset = BIOS_AREA,
		.path = "/dev/mem",
	};

	return target_ask(t, &map);
}

TEST_F(child, write_to_io_mapping_is_bad_state)
{
	uint8_t before[64], after[64];
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_io(&self->target, 0, page);
	if (addr < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-addr));
	ASSERT_EQ(0, target_copy_out(&self->target, addr, sizeof(before),
				     before));

	w = write_pattern(_metadata, self->target.pidfd, addr, sizeof(before),
			  SEED_NEW);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, target_copy_out(&self->target, addr, sizeof(after),
				     after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
}

TEST_F(child, read_from_io_mapping_is_bad_state)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_io(&self->target, 0, page);
	if (addr < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-addr));

	r = read_pattern(_metadata, self->target.pidfd, addr, 64, SEED_OLD);
	ASSERT_STATUS(ZX_ERR_BAD_STATE, r.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, r.actual);
}

/*
 * An ordinary page with the BIOS area mapped right after it.  A copy that
 * ran on into it would go through the mapping's ->access() (physical
 * memory), so it must stop at the boundary.
 */
static int64_t target_map_page_before_io(struct target *t)
{
	size_t page = page_size();
	int64_t addr = target_map_anon(t, 2 * page, SEED_OLD);
	int64_t io;

	if (addr < 0)
		return addr;
	io = target_map_io(t, addr + page, page);
	if (io < 0)
		return io;
	return io == addr + (int64_t)page ? addr : -EEXIST;
}

TEST_F(child, read_stops_before_io_mapping)
{
	size_t page = page_size();
	struct transfer r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_page_before_io(&self->target);
	if (addr < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-addr));

	r = read_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			 SEED_OLD);
	ASSERT_STATUS(ZX_OK, r.status);
	ASSERT_EQ(page, r.actual);
	ASSERT_EQ(0, r.mismatches);
}

TEST_F(child, write_stops_before_io_mapping)
{
	uint8_t before[64], after[64];
	size_t page = page_size();
	struct transfer w;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_page_before_io(&self->target);
	if (addr < 0)
		SKIP(return, "cannot map /dev/mem: %s", strerror(-addr));
	ASSERT_EQ(0, target_copy_out(&self->target, addr + page,
				     sizeof(before), before));

	w = write_pattern(_metadata, self->target.pidfd, addr, 2 * page,
			  SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(page, w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_NEW));
	ASSERT_EQ(0, target_copy_out(&self->target, addr + page,
				     sizeof(after), after));
	ASSERT_EQ(0, memcmp(before, after, sizeof(before)));
}

/* The caller's buffer: step 12 */

/* A page of ours that is no longer mapped. */
static void *unmapped_buffer(struct __test_metadata *_metadata)
{
	void *buf = map_buffer(_metadata, page_size());

	ASSERT_EQ(0, munmap(buf, page_size()));
	return buf;
}

TEST_F(child, write_from_unmapped_buffer_is_invalid_args)
{
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(self->target.pidfd, addr,
					      unmapped_buffer(_metadata), page,
					      &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, read_into_unmapped_buffer_is_invalid_args)
{
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(self->target.pidfd, addr,
					     unmapped_buffer(_metadata), page,
					     &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, kernel_address_buffer_is_invalid_args)
{
	void *kernel_buf = (void *)(uintptr_t)KERNEL_ADDRESS;
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(self->target.pidfd, addr,
					      kernel_buf, page, &actual));
	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(self->target.pidfd, addr,
					     kernel_buf, page, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/* A buffer bad from the start is refused before the first chunk is written. */
TEST_F(child, multi_chunk_write_with_unmapped_last_page_writes_nothing)
{
	size_t len = 1 << 20, page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, len, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, len);
	fill_pattern(buf, len, SEED_NEW);
	ASSERT_EQ(0, munmap(buf + len - page, page));

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_write_memory(self->target.pidfd, addr, buf,
					      len, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, len, SEED_OLD));
}

TEST_F(child, read_into_readonly_buffer_is_invalid_args)
{
	size_t page = page_size();
	size_t actual = ACTUAL_UNTOUCHED;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_NEW);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_OLD);
	ASSERT_EQ(0, mprotect(buf, page, PROT_READ));

	ASSERT_STATUS(ZX_ERR_INVALID_ARGS,
		      zx_process_read_memory(self->target.pidfd, addr, buf,
					     page, &actual));
	ASSERT_EQ(ACTUAL_UNTOUCHED, actual);
	ASSERT_EQ(0, count_mismatches(buf, page, SEED_OLD));
}

/* The raw ioctl ABI */

TEST_F(child, unknown_ioctl_command_is_enotty)
{
	unsigned long cmds[] = {
		_IOWR(ZXMEM_IOC_MAGIC, 0x02, struct zxmem_io),
		_IOWR(ZXMEM_IOC_MAGIC + 1, 0x00, struct zxmem_io),
		_IOWR(ZXMEM_IOC_MAGIC, 0x00, __u64[5]),	/* a smaller struct */
		_IOWR(ZXMEM_IOC_MAGIC, 0x01, __u64[7]),	/* a larger one */
		_IOR(ZXMEM_IOC_MAGIC, 0x01, struct zxmem_io),
		_IO(ZXMEM_IOC_MAGIC, 0x00),
	};
	size_t page = page_size();
	struct zxmem_io io, sent;
	unsigned int i;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		sent = raw_request(self->target.pidfd, addr, buf, page);
		io = sent;
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], &io)) {
			TH_LOG("command %#lx was accepted", cmds[i]);
		}
		ASSERT_EQ(ENOTTY, errno);
		ASSERT_EQ(0, memcmp(&sent, &io, sizeof(io)));
	}
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

TEST_F(child, unreadable_struct_is_efault)
{
	unsigned long cmds[] = { ZXMEM_IOC_WRITE_MEMORY, ZXMEM_IOC_READ_MEMORY };
	unsigned int i;
	void *nowhere;

	RETURN_IF_SETUP_SKIPPED();
	nowhere = unmapped_buffer(_metadata);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], NULL));
		ASSERT_EQ(EFAULT, errno);
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->dev, cmds[i], nowhere));
		ASSERT_EQ(EFAULT, errno);
	}
}

/* The request can be read, the status cannot be written back. */
TEST_F(child, unwritable_struct_is_efault)
{
	size_t page = page_size();
	struct zxmem_io *io;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	io = map_buffer(_metadata, page);
	*io = raw_request(self->target.pidfd, addr, buf, page);
	ASSERT_EQ(0, mprotect(io, page, PROT_READ));

	/* A read, so that nothing of the target changes either way. */
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->dev, ZXMEM_IOC_READ_MEMORY, io));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/*
 * Issue @cmd on a request that sits in a page of 0xa5 bytes and check that
 * the kernel wrote status, actual only on ZX_OK, and not one byte more.
 */
static void assert_writes_back_only_status(struct __test_metadata *_metadata,
					   int dev, unsigned long cmd,
					   const struct zxmem_io *request,
					   zx_status_t expected)
{
	size_t page = page_size(), at = 128;
	uint8_t *before, *after;
	struct zxmem_io *io;

	before = map_buffer(_metadata, page);
	after = map_buffer(_metadata, page);
	memset(after, 0xa5, page);
	io = (struct zxmem_io *)(after + at);
	memcpy(io, request, sizeof(*io));
	memset(&io->actual, 0xa5, sizeof(io->actual));
	memset(&io->status, 0xa5, sizeof(io->status));
	memcpy(before, after, page);

	ASSERT_EQ(0, ioctl(dev, cmd, io));
	ASSERT_STATUS(expected, io->status);
	if (expected == ZX_OK)
		ASSERT_EQ(request->buffer_size, io->actual);

	/* Everything but the two out fields is as it was, in and around. */
	memcpy(after + at + offsetof(struct zxmem_io, status),
	       before + at + offsetof(struct zxmem_io, status),
	       sizeof(io->status));
	if (expected == ZX_OK)
		memcpy(after + at + offsetof(struct zxmem_io, actual),
		       before + at + offsetof(struct zxmem_io, actual),
		       sizeof(io->actual));
	ASSERT_EQ(0, memcmp(before, after, page));
	munmap(before, page);
	munmap(after, page);
}

TEST_F(child, success_writes_back_only_status_and_actual)
{
	size_t page = page_size();
	struct zxmem_io request;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	fill_pattern(buf, page, SEED_NEW);
	request = raw_request(self->target.pidfd, addr, buf, page);

	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_WRITE_MEMORY, &request, ZX_OK);
	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_READ_MEMORY, &request, ZX_OK);
}

TEST_F(child, error_writes_back_only_status)
{
	size_t page = page_size();
	struct zxmem_io request;
	uint8_t *buf;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	/* Every field valid, but the child is not traced. */
	addr = target_map_anon(&self->target, page, SEED_OLD);
	ASSERT_LT(0, addr);
	buf = map_buffer(_metadata, page);
	request = raw_request(self->target.pidfd, addr, buf, page);

	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_WRITE_MEMORY, &request,
				       ZX_ERR_ACCESS_DENIED);
	assert_writes_back_only_status(_metadata, self->dev,
				       ZXMEM_IOC_READ_MEMORY, &request,
				       ZX_ERR_ACCESS_DENIED);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
}

/* Concurrency */

#define WRITERS		4
#define WRITER_ROUNDS	16

struct writer {
	pthread_barrier_t *start;
	zx_handle_t handle;
	uint8_t *dst;
	uint8_t *src;
	size_t len;
	zx_status_t status;
	size_t actual;
};

static void *write_region(void *arg)
{
	struct writer *w = arg;
	int round;

	pthread_barrier_wait(w->start);
	for (round = 0; round < WRITER_ROUNDS; round++) {
		w->actual = ACTUAL_UNTOUCHED;
		w->status = zx_process_write_memory(w->handle,
						    (uintptr_t)w->dst, w->src,
						    w->len, &w->actual);
		if (w->status != ZX_OK || w->actual != w->len)
			break;
	}
	return NULL;
}

/*
 * Four threads, one target.  Only the thread that attached holds a tracer's
 * right, so the target every thread may write is their own process.
 */
TEST_F_TIMEOUT(child, concurrent_writes_to_disjoint_regions_all_land, 120)
{
	size_t len = 1 << 20;
	struct writer writers[WRITERS];
	pthread_t threads[WRITERS];
	pthread_barrier_t start;
	uint8_t *region;
	int self_pidfd;
	int i;

	RETURN_IF_SETUP_SKIPPED();
	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	region = map_buffer(_metadata, WRITERS * len);
	memset(region, 0, WRITERS * len);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, WRITERS));

	for (i = 0; i < WRITERS; i++) {
		writers[i] = (struct writer){
			.start = &start,
			.handle = self_pidfd,
			.dst = region + i * len,
			.src = map_buffer(_metadata, len),
			.len = len,
		};
		fill_pattern(writers[i].src, len, SEED_NEW + i);
	}
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, write_region,
					    &writers[i]));
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));

	for (i = 0; i < WRITERS; i++) {
		ASSERT_STATUS(ZX_OK, writers[i].status);
		ASSERT_EQ(len, writers[i].actual);
		ASSERT_EQ(0, count_mismatches(writers[i].dst, len,
					      SEED_NEW + i)) {
			TH_LOG("region %d", i);
		}
	}
	pthread_barrier_destroy(&start);
	close(self_pidfd);
}

TEST_F_TIMEOUT(child, access_racing_with_munmap_is_ok_or_no_memory, 60)
{
	struct child_request churn = {
		.op = CHILD_CHURN,
		.arg = 1000,
	};
	size_t len = 16 * page_size();
	struct pollfd answer;
	unsigned int ok = 0, no_memory = 0;
	struct transfer w, r;
	int64_t addr;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	addr = target_map_anon(&self->target, len, SEED_OLD);
	ASSERT_LT(0, addr);
	churn.addr = addr;
	churn.len = len;
	ASSERT_EQ(0, target_send(&self->target, &churn));

	answer = (struct pollfd){ .fd = self->target.sk, .events = POLLIN };
	while (poll(&answer, 1, 0) == 0) {
		w = write_pattern(_metadata, self->target.pidfd, addr, len,
				  SEED_NEW);
		r = read_pattern(_metadata, self->target.pidfd, addr, len,
				 SEED_NEW);
		ASSERT_TRUE(w.status == ZX_OK || w.status == ZX_ERR_NO_MEMORY) {
			TH_LOG("write: %s", zx_status_get_string(w.status));
		}
		ASSERT_TRUE(r.status == ZX_OK || r.status == ZX_ERR_NO_MEMORY) {
			TH_LOG("read: %s", zx_status_get_string(r.status));
		}
		if (w.status == ZX_OK)
			ASSERT_GE(len, w.actual);
		if (r.status == ZX_OK)
			ASSERT_GE(len, r.actual);
		ok += (w.status == ZX_OK) + (r.status == ZX_OK);
		no_memory += (w.status != ZX_OK) + (r.status != ZX_OK);
	}
	ASSERT_EQ(0, target_answer(&self->target));
	TH_LOG("%u ZX_OK, %u ZX_ERR_NO_MEMORY", ok, no_memory);
	/* Still alive, and still answering. */
	ASSERT_EQ(0, target_simple(&self->target, CHILD_PING));
}

/* Exec */

TEST_F(child, write_after_exec_reaches_only_the_new_image)
{
	struct child_request map = {
		.op = CHILD_MAP,
		.addr = BEFORE_EXEC_ADDRESS,
		.len = page_size(),
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
	};
	size_t page = page_size();
	int64_t landing;
	struct transfer w;

	RETURN_IF_SETUP_SKIPPED();
	ASSERT_EQ(0, target_trace(&self->target));
	ASSERT_EQ((int64_t)BEFORE_EXEC_ADDRESS,
		  target_ask(&self->target, &map));
	ASSERT_EQ(0, target_fill(&self->target, BEFORE_EXEC_ADDRESS, page,
				 SEED_OLD));
	w = write_pattern(_metadata, self->target.pidfd, BEFORE_EXEC_ADDRESS,
			  page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);

	/* The new image answers once it runs: the exec is complete. */
	landing = target_simple(&self->target, CHILD_EXEC);
	ASSERT_LT(0, landing) {
		TH_LOG("exec failed: %s", strerror(-landing));
	}

	w = write_pattern(_metadata, self->target.pidfd, BEFORE_EXEC_ADDRESS,
			  page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_NO_MEMORY, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, is_mapped(self->target.pid, BEFORE_EXEC_ADDRESS));

	w = write_pattern(_metadata, self->target.pidfd, landing,
			  sizeof(landing_page), SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);
	ASSERT_EQ(sizeof(landing_page), w.actual);
	ASSERT_EQ(0, target_mismatches(&self->target, landing,
				       sizeof(landing_page), SEED_NEW));
}

TEST_HARNESS_MAIN
