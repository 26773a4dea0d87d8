// SPDX-License-Identifier: GPL-2.0
/*
 * The test library of zxmem's selftest programs: see common.h.  No harness
 * here (kselftest_harness.h is one program's, not a library's), so every
 * function answers with a value and the caller asserts.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

size_t page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint8_t pattern_byte(uint8_t seed, uint64_t offset)
{
	return seed ^ (uint8_t)(offset ^ (offset >> 8) ^ (offset >> 16) ^
				(offset >> 24));
}

void fill_pattern(void *buf, size_t len, uint8_t seed)
{
	uint8_t *bytes = buf;
	size_t i;

	for (i = 0; i < len; i++)
		bytes[i] = pattern_byte(seed, i);
}

int64_t count_mismatches(const void *buf, size_t len, uint8_t seed)
{
	const uint8_t *bytes = buf;
	int64_t mismatches = 0;
	size_t i;

	for (i = 0; i < len; i++)
		mismatches += bytes[i] != pattern_byte(seed, i);
	return mismatches;
}

int64_t count_nonzero(const void *buf, size_t len)
{
	const uint8_t *bytes = buf;
	int64_t nonzero = 0;
	size_t i;

	for (i = 0; i < len; i++)
		nonzero += bytes[i] != 0;
	return nonzero;
}

uint64_t count_outside(const void *buf, size_t len, const uint8_t *set,
		       int nr)
{
	const uint8_t *bytes = buf;
	bool allowed[256] = { false };
	uint64_t words[8], bad = 0;
	size_t i = 0;
	int j;

	if (nr > 8)
		nr = 8;
	for (j = 0; j < nr; j++) {
		allowed[set[j]] = true;
		words[j] = set[j] * 0x0101010101010101ULL;
	}
	/* A word of one allowed byte, the common case, at a time. */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, bytes + i, 8);
		for (j = 0; j < nr && w != words[j]; j++)
			;
		if (j < nr)
			continue;
		for (j = 0; j < 8; j++)
			bad += !allowed[bytes[i + j]];
	}
	for (; i < len; i++)
		bad += !allowed[bytes[i]];
	return bad;
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return n ? rng_next(state) % n : 0;
}

void fill_random(void *buf, size_t len, uint64_t seed)
{
	uint64_t *words = buf, state = seed;
	size_t i;

	for (i = 0; i < len / sizeof(*words); i++)
		words[i] = rng_next(&state);
}

void *map_filled(uint64_t at, size_t len, size_t align, int advice, int byte)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	size_t span = len + align;
	uint8_t *reserve, *addr, *end;

	if (at) {
		addr = mmap((void *)(uintptr_t)at, len, PROT_READ | PROT_WRITE,
			    flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (addr == MAP_FAILED)
			return NULL;
	} else {
		/* Reserve more than needed, keep the aligned part. */
		reserve = mmap(NULL, span, PROT_NONE, flags | MAP_NORESERVE,
			       -1, 0);
		if (reserve == MAP_FAILED)
			return NULL;
		addr = reserve;
		if (align)
			addr = (uint8_t *)(((uintptr_t)reserve + align - 1) &
					   ~(uintptr_t)(align - 1));
		end = addr + len;
		if (mmap(addr, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED,
			 -1, 0) == MAP_FAILED)
			return NULL;
		if (addr > reserve)
			munmap(reserve, addr - reserve);
		if (reserve + span > end)
			munmap(end, reserve + span - end);
	}
	if (advice && madvise(addr, len, advice))
		return NULL;
	memset(addr, byte, len);
	return addr;
}

void *map_skewed(size_t len, size_t skew, int advice, int byte)
{
	uint8_t *p = map_filled(0, len + skew, HUGE_ALIGN, advice, byte);

	return p ? p + skew : NULL;
}

const char *const status_class_name[ST_NR] = {
	[ST_OK] = "ZX_OK",
	[ST_NOT_SUPPORTED] = "NOT_SUPPORTED",
	[ST_INVALID_ARGS] = "INVALID_ARGS",
	[ST_BAD_HANDLE] = "BAD_HANDLE",
	[ST_WRONG_TYPE] = "WRONG_TYPE",
	[ST_BAD_STATE] = "BAD_STATE",
	[ST_ACCESS_DENIED] = "ACCESS_DENIED",
	[ST_NO_MEMORY] = "NO_MEMORY",
	[ST_ENOTTY] = "ioctl:ENOTTY",
	[ST_EFAULT] = "ioctl:EFAULT",
	[ST_OTHER] = "other",
};

enum status_class status_class_of(zx_status_t status)
{
	switch (status) {
	case ZX_OK:
		return ST_OK;
	case ZX_ERR_NOT_SUPPORTED:
		return ST_NOT_SUPPORTED;
	case ZX_ERR_INVALID_ARGS:
		return ST_INVALID_ARGS;
	case ZX_ERR_BAD_HANDLE:
		return ST_BAD_HANDLE;
	case ZX_ERR_WRONG_TYPE:
		return ST_WRONG_TYPE;
	case ZX_ERR_BAD_STATE:
		return ST_BAD_STATE;
	case ZX_ERR_ACCESS_DENIED:
		return ST_ACCESS_DENIED;
	case ZX_ERR_NO_MEMORY:
		return ST_NO_MEMORY;
	}
	return ST_OTHER;
}

enum status_class answer_class(int ret, int err, zx_status_t status)
{
	if (ret == 0)
		return status_class_of(status);
	if (ret == -1 && err == ENOTTY)
		return ST_ENOTTY;
	if (ret == -1 && err == EFAULT)
		return ST_EFAULT;
	return ST_OTHER;
}

int write_text(const char *path, int flags, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	ssize_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	if (n >= 0 && n != len)
		errno = EIO;
	close(fd);
	return n == len ? 0 : -1;
}

/* Read @path into @value, without its trailing newline. */
int read_text(const char *path, char *value, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, value, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	value[n] = 0;
	if (n && value[n - 1] == '\n')
		value[n - 1] = 0;
	return 0;
}

/* A /tmp file of @len bytes of the pattern for @seed; its name in @path. */
int make_pattern_file(char *path, size_t path_size, size_t len, uint8_t seed)
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
int64_t file_mismatches(int fd, size_t len, uint8_t seed)
{
	void *bytes = malloc(len);
	int64_t mismatches = -1;

	if (bytes && pread(fd, bytes, len, 0) == (ssize_t)len)
		mismatches = count_mismatches(bytes, len, seed);
	free(bytes);
	return mismatches;
}

/*
 * The first mapping of /proc/@pid/maps whose line ends in @name and that
 * holds *@addr (either may be NULL: any): 1 and *@found, 0 if there is
 * none, -1 if the maps cannot be read.
 */
static int scan_maps(pid_t pid, const char *name, const uint64_t *addr,
		     struct mapping *found)
{
	size_t name_len = name ? strlen(name) : 0;
	unsigned long long start, end;
	char path[64], line[512];
	int ret = 0;
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "re");
	if (!maps)
		return -1;
	while (!ret && fgets(line, sizeof(line), maps)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		if (len < name_len || strcmp(line + len - name_len, name ?: ""))
			continue;
		if (sscanf(line, "%llx-%llx", &start, &end) != 2 ||
		    (addr && (*addr < start || *addr >= end)))
			continue;
		found->start = start;
		found->end = end;
		ret = 1;
	}
	fclose(maps);
	return ret;
}

int find_mapping(pid_t pid, const char *name, struct mapping *found)
{
	return scan_maps(pid, name, NULL, found) == 1 ? 0 : -1;
}

int is_mapped(pid_t pid, uint64_t addr)
{
	struct mapping found;

	return scan_maps(pid, NULL, &addr, &found);
}

long proc_field(pid_t pid, const char *file, const char *key)
{
	size_t key_len = strlen(key);
	char path[64], line[256];
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (value < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, key_len) && line[key_len] == ':')
			value = strtol(line + key_len + 1, NULL, 10);
	fclose(f);
	return value;
}

char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[256], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (read_text(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] ? p[2] : 0;
}

ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (uint8_t *)buf + done, len - done, off + done);
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)done;
		done += n;
	}
	return done;
}

int proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread_full(fd, buf, len, addr);
		close(fd);
	}
	return n == (ssize_t)len ? 0 : -1;
}

int drop_to_nobody(void)
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

int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int high;

	/* High, so that no open() in between can reuse it. */
	high = fcntl(fd, F_DUPFD, 1000);
	close(fd);
	close(high);
	return high;
}

struct zxmem_io raw_request(int pidfd, uint64_t vaddr, const void *buf,
			    uint64_t len)
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

struct transfer raw_call(int dev, bool write, int pidfd, uint64_t vaddr,
			 const void *buf, uint64_t len)
{
	struct zxmem_io io = raw_request(pidfd, vaddr, buf, len);
	struct transfer t = { .mismatches = -1 };

	t.ret = ioctl(dev, write ? ZXMEM_IOC_WRITE_MEMORY :
		      ZXMEM_IOC_READ_MEMORY, &io);
	t.err = t.ret ? errno : 0;
	t.status = io.status;
	t.actual = io.actual;
	return t;
}

/* The child's side. */

uint8_t landing_page[4096];

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

/* One random step of CHURN_* on pages of the range; 0 or -errno. */
static int churn_step(const struct child_request *req, unsigned int how,
		      uint64_t *rng)
{
	static const int prots[] = {
		PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE,
		PROT_READ | PROT_EXEC,
	};
	size_t page = page_size(), pages = req->len / page;
	uint64_t first = rng_below(rng, pages);
	uint64_t count = 1 + rng_below(rng, rng_below(rng, 2) ? 16 :
				       pages - first);
	void *at = (void *)(uintptr_t)(req->addr + first * page);
	size_t len;

	count = count > pages - first ? pages - first : count;
	len = count * page;
	switch (how) {
	case CHURN_UNMAP:
		if (munmap(at, len))
			return -errno;
		sched_yield();
		if (mmap(at, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) != at)
			return -errno;
		return 0;
	case CHURN_PROTECT:
		return mprotect(at, len, prots[rng_below(rng, 4)]) ? -errno : 0;
	default:
		return madvise(at, len, MADV_DONTNEED) ? -errno : 0;
	}
}

/* CHURN_* steps for .arg ms; the answer is how many. */
static int64_t churn_randomly(const struct child_request *req)
{
	static const unsigned int kinds[] = {
		CHURN_UNMAP, CHURN_PROTECT, CHURN_DONTNEED,
	};
	uint64_t deadline = now_ms() + req->arg, rng = req->seed;
	unsigned int allowed[3], nr = 0, i;
	int64_t steps = 0;
	int err;

	for (i = 0; i < 3; i++)
		if (req->mode & kinds[i])
			allowed[nr++] = kinds[i];
	if (!nr || req->mode & ~(CHURN_UNMAP | CHURN_PROTECT | CHURN_DONTNEED))
		return -EINVAL;
	while (now_ms() < deadline) {
		err = churn_step(req, allowed[rng_below(&rng, nr)], &rng);
		if (err)
			return err;
		steps++;
		sched_yield();
	}
	if (mprotect((void *)(uintptr_t)req->addr, req->len,
		     PROT_READ | PROT_WRITE))
		return -errno;
	return steps;
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

	if (req->mode)
		return churn_randomly(req);
	if (pthread_create(&thread, NULL, churn_mapping, &churn))
		return -EAGAIN;
	if (pthread_join(thread, &failed))
		return -EINVAL;
	return failed ? -EFAULT : 0;
}

void sleep_us(uint64_t us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A thread of the child that writes its own landing page, call after call. */
struct self_writer {
	int dev;
	int pidfd;
	bool wrote;		/* one call has answered ZX_OK */
	zx_status_t failed;	/* the first other answer */
};

static void *write_self(void *arg)
{
	struct self_writer *w = arg;
	static uint8_t bytes[sizeof(landing_page)];
	struct transfer t;

	fill_pattern(bytes, sizeof(bytes), SEED_NEW);
	/* Until de_thread() kills this thread for the exec. */
	for (;;) {
		t = raw_call(w->dev, true, w->pidfd, (uintptr_t)landing_page,
			     bytes, sizeof(bytes));
		if (t.ret)
			t.status = ZX_ERR_INTERNAL;
		if (t.status != ZX_OK && !__atomic_load_n(&w->failed,
							  __ATOMIC_ACQUIRE))
			__atomic_store_n(&w->failed, t.status,
					 __ATOMIC_RELEASE);
		if (t.status == ZX_OK)
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
	char *const argv[] = { "zxmem_target", NULL };
	struct self_writer w = { .pidfd = -1 };
	char *envp[2], resume[64];
	pthread_t thread;

	snprintf(resume, sizeof(resume), "%s=%d", RESUME_FD_ENV, sk);
	envp[0] = resume;
	envp[1] = NULL;
	if (req->arg == EXEC_WHILE_WRITING_SELF) {
		w.dev = req->dev ? req->dev :
			open(ZXMEM_DEVICE_PATH, O_RDWR | O_CLOEXEC);
		if (w.dev < 0)
			return -errno;
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

static void *sleep_forever(void *arg)
{
	int fd = (intptr_t)arg;
	int64_t tid = gettid();

	if (send(fd, &tid, sizeof(tid), MSG_NOSIGNAL) != sizeof(tid))
		_exit(91);
	for (;;)
		pause();
	return NULL;
}

/* A second thread; the main thread sends its tid, as CHILD_THREAD's answer. */
static int64_t child_thread(void)
{
	int pair[2];
	pthread_t thread;
	int64_t tid = -EAGAIN;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair))
		return -errno;
	if (!pthread_create(&thread, NULL, sleep_forever,
			    (void *)(intptr_t)pair[1]) &&
	    recv(pair[0], &tid, sizeof(tid), 0) != sizeof(tid))
		tid = -EPIPE;
	close(pair[0]);
	close(pair[1]);
	return tid;
}

static int child_serve(int sk, int64_t hello);

static void *serve_instead(void *arg)
{
	_exit(child_serve((intptr_t)arg, gettid()));
	return NULL;
}

static bool child_may(const struct child_request *req);
static int64_t child_handle(int sk, const struct child_request *req);

/* Serve requests on @sk until it closes; @hello is the first answer. */
static int child_serve(int sk, int64_t hello)
{
	struct child_request req;
	pthread_t thread;
	int64_t answer;
	ssize_t n;

	/* Don't outlive a test that died. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		return 1;
	if (send(sk, &hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello))
		return 1;

	while ((n = recv(sk, &req, sizeof(req), 0)) == sizeof(req)) {
		if (req.op == CHILD_LEADER_EXIT && child_may(&req)) {
			/* The new thread answers, with its tid. */
			if (pthread_create(&thread, NULL, serve_instead,
					   (void *)(intptr_t)sk))
				return 1;
			syscall(SYS_exit, 0);
		}
		if (req.op == CHILD_EXEC && req.arg == EXEC_ANSWER_FIRST &&
		    child_may(&req)) {
			/* The new image answers again; -errno if none. */
			answer = 0;
			if (send(sk, &answer, sizeof(answer), MSG_NOSIGNAL) !=
			    sizeof(answer))
				return 1;
			sleep_us(req.delay_us);
		}
		answer = child_handle(sk, &req);
		if (send(sk, &answer, sizeof(answer), MSG_NOSIGNAL) !=
		    sizeof(answer))
			return 1;
		if (req.op == CHILD_COPY_OUT && answer > 0 &&
		    send(sk, (void *)(uintptr_t)req.addr, answer,
			 MSG_NOSIGNAL) != answer)
			return 1;
		if (req.op == CHILD_EXIT) {
			sleep_us(req.delay_us);
			_exit(0);
		}
	}
	return n == 0 ? 0 : 1;
}

/*
 * What a setuid-root image of a test binary (the setuid tests) still
 * does: nothing that would hand root's powers (opening, mapping, writing
 * or exec'ing any file) to whoever holds the socket, and it shows nothing
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
	case CHILD_MAP_FILLED:
		addr = map_filled(req->addr, req->len, req->align, req->advice,
				  req->arg);
		return addr ? (int64_t)(uintptr_t)addr : -errno;
	case CHILD_MEMSET:
		memset(addr, req->arg, req->len);
		return 0;
	case CHILD_OUTSIDE:
		return count_outside(addr, req->len, req->set, req->nset);
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
	case CHILD_THREAD:
		return child_thread();
	case CHILD_TRACEME:
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			return -errno;
		return raise(SIGSTOP) ? -errno : 0;
	}
	return -EINVAL;
}

/* After CHILD_EXEC, the new image serves the same socket. */
static void __attribute__((constructor)) resume_after_exec(void)
{
	const char *sk = getenv(RESUME_FD_ENV);

	if (sk)
		_exit(child_serve(atoi(sk), (int64_t)(uintptr_t)landing_page));
}

/* The parent's side. */

int target_spawn(struct target *t)
{
	return target_spawn_prepared(t, NULL, NULL);
}

int target_spawn_prepared(struct target *t, int (*prepare)(void *arg),
			  void *arg)
{
	int64_t hello;
	int sk[2];

	*t = TARGET_NONE;
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
		if (prctl(PR_SET_PDEATHSIG, SIGKILL))
			_exit(1);
		if (prepare && prepare(arg))
			_exit(1);
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

int target_reap(struct target *t)
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

void target_kill(struct target *t)
{
	pid_t reaped;
	int i;

	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		/* A traced thread is ours to reap before its leader is. */
		for (i = 0; i < 5000; i++) {
			reaped = waitpid(-1, NULL, __WALL | WNOHANG);
			if (reaped == t->pid)
				break;
			if (reaped <= 0)
				usleep(1000);
		}
		t->pid = 0;
	}
	target_reap(t);
}

int target_trace(struct target *t)
{
	return ptrace(PTRACE_SEIZE, t->pid, NULL, NULL);
}

int target_trace_thread(struct target *t, pid_t tid)
{
	return ptrace(PTRACE_SEIZE, tid ? tid : t->pid, NULL, NULL);
}

int target_detach(struct target *t, pid_t tid)
{
	int status;

	if (!tid)
		tid = t->pid;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ||
	    waitpid(tid, &status, __WALL) != tid || !WIFSTOPPED(status))
		return -1;
	return ptrace(PTRACE_DETACH, tid, NULL, NULL);
}

int target_send(struct target *t, const struct child_request *req)
{
	if (send(t->sk, req, sizeof(*req), MSG_NOSIGNAL) != sizeof(*req))
		return -EPIPE;
	return 0;
}

int64_t target_answer(struct target *t)
{
	int64_t answer;

	if (recv(t->sk, &answer, sizeof(answer), 0) != sizeof(answer))
		return -EPIPE;
	return answer;
}

bool target_answered(struct target *t)
{
	struct pollfd answer = { .fd = t->sk, .events = POLLIN };

	return poll(&answer, 1, 0) == 1;
}

int64_t target_ask(struct target *t, const struct child_request *req)
{
	int err = target_send(t, req);

	return err ? err : target_answer(t);
}

int64_t target_simple(struct target *t, enum child_op op)
{
	struct child_request req = { .op = op };

	return target_ask(t, &req);
}

int64_t target_map_anon(struct target *t, size_t len, uint8_t seed)
{
	struct child_request map = {
		.op = CHILD_MAP,
		.len = len,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_PRIVATE | MAP_ANONYMOUS,
	};
	int64_t addr = target_ask(t, &map);
	int64_t err;

	if (addr < 0)
		return addr;
	err = target_fill(t, addr, len, seed);
	return err ? err : addr;
}

int64_t target_map_file(struct target *t, const char *path, int open_flags,
			int prot, int flags, size_t len)
{
	struct child_request map = {
		.op = CHILD_MAP, .len = len, .prot = prot, .flags = flags,
		.open_flags = open_flags,
	};

	snprintf(map.path, sizeof(map.path), "%s", path);
	return target_ask(t, &map);
}

int64_t target_map_io(struct target *t, uint64_t addr, size_t len)
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

/* A request @op on [addr, addr + len) with @arg. */
static int64_t ask_range(struct target *t, enum child_op op, uint64_t addr,
			 size_t len, uint64_t arg)
{
	struct child_request req = {
		.op = op, .addr = addr, .len = len, .arg = arg,
	};

	return target_ask(t, &req);
}

int64_t target_unmap(struct target *t, uint64_t addr, size_t len)
{
	return ask_range(t, CHILD_UNMAP, addr, len, 0);
}

int64_t target_protect(struct target *t, uint64_t addr, size_t len, int prot)
{
	struct child_request req = {
		.op = CHILD_PROTECT, .addr = addr, .len = len, .prot = prot,
	};

	return target_ask(t, &req);
}

int64_t target_fill(struct target *t, uint64_t addr, size_t len, uint8_t seed)
{
	return ask_range(t, CHILD_FILL, addr, len, seed);
}

int64_t target_map_filled(struct target *t, uint64_t at, size_t len,
			  size_t align, int advice, uint8_t byte)
{
	struct child_request req = {
		.op = CHILD_MAP_FILLED, .addr = at, .len = len, .align = align,
		.advice = advice, .arg = byte,
	};

	return target_ask(t, &req);
}

int64_t target_memset(struct target *t, uint64_t addr, size_t len,
		      uint8_t byte)
{
	return ask_range(t, CHILD_MEMSET, addr, len, byte);
}

int64_t target_outside(struct target *t, uint64_t addr, size_t len,
		       const uint8_t *set, int nr)
{
	struct child_request req = {
		.op = CHILD_OUTSIDE, .addr = addr, .len = len,
		.nset = nr < 0 ? 0 : nr > 8 ? 8 : nr,
	};

	memcpy(req.set, set, req.nset);
	return target_ask(t, &req);
}

int64_t target_mismatches(struct target *t, uint64_t addr, size_t len,
			  uint8_t seed)
{
	return ask_range(t, CHILD_MISMATCHES, addr, len, seed);
}

int target_copy_out(struct target *t, uint64_t addr, size_t len, void *out)
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

int target_exit_unreaped(struct target *t)
{
	siginfo_t info;

	if (target_simple(t, CHILD_EXIT))
		return -1;
	return waitid(P_PID, t->pid, &info, WEXITED | WNOWAIT);
}

int64_t twin_mismatches(struct target *t, bool write,
			const struct transfer *done, uint64_t addr, size_t len)
{
	if (write)
		return target_mismatches(t, addr, len, SEED_NEW);
	return done->mismatches;
}
