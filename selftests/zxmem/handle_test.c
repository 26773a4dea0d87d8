// SPDX-License-Identifier: GPL-2.0
/*
 * The handle, step 3 of Documentation/zxmem.rst: a handle that is not an
 * open fd is ZX_ERR_BAD_HANDLE; an open fd that is not a process pidfd
 * (any other file, or a PIDFD_THREAD pidfd, which names a thread as a
 * Zircon thread handle does) is ZX_ERR_WRONG_TYPE.  A pidfd on pidfs
 * (6.9+) is a process handle like the anon_inode one.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "area.h"

#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC		0x50494446
#endif

/* Try write and read through @handle; both must answer @expected. */
static void assert_handle_refused(struct __test_metadata *_metadata, int dev,
				  struct target *t, int handle,
				  zx_status_t expected)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, t, true, page, SEED_OLD);
	assert_both_refused(_metadata, dev, handle, addr, page, expected);
	ASSERT_EQ(0, target_mismatches(t, addr, page, SEED_OLD));
}

TEST_F(child, closed_fd_is_bad_handle)
{
	assert_handle_refused(_metadata, self->dev, &self->target, closed_fd(),
			      ZX_ERR_BAD_HANDLE);
}

TEST_F(child, handle_minus_one_is_bad_handle)
{
	assert_handle_refused(_metadata, self->dev, &self->target, -1,
			      ZX_ERR_BAD_HANDLE);
}

TEST_F(child, dev_null_fd_is_wrong_type)
{
	int fd = open("/dev/null", O_RDWR);

	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, self->dev, &self->target, fd,
			      ZX_ERR_WRONG_TYPE);
	close(fd);
}

TEST_F(child, regular_file_fd_is_wrong_type)
{
	char path[64];
	int fd;

	fd = make_pattern_file(path, sizeof(path), page_size(), SEED_OLD);
	ASSERT_LE(0, fd);
	unlink(path);
	assert_handle_refused(_metadata, self->dev, &self->target, fd,
			      ZX_ERR_WRONG_TYPE);
	close(fd);
}

TEST_F(child, socket_fd_is_wrong_type)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, self->dev, &self->target, fd,
			      ZX_ERR_WRONG_TYPE);
	close(fd);
}

/* Another anon_inode file: only "[pidfd]" names a process. */
TEST_F(child, eventfd_is_wrong_type)
{
	int fd = eventfd(0, 0);

	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, self->dev, &self->target, fd,
			      ZX_ERR_WRONG_TYPE);
	close(fd);
}

/* An O_PATH fd is open too, just not a pidfd. */
TEST_F(child, o_path_fd_is_wrong_type)
{
	int fd = open("/tmp", O_PATH);

	ASSERT_LE(0, fd);
	assert_handle_refused(_metadata, self->dev, &self->target, fd,
			      ZX_ERR_WRONG_TYPE);
	close(fd);
}

/*
 * pidfs (6.9+) and thread pidfds (PIDFD_THREAD, 6.9+): what changes there
 * is where the pid behind a pidfd is found, so these run the same calls
 * through such handles.  On a kernel without them they are skipped.
 */
TEST_F(child, pidfd_on_pidfs_is_a_process_handle)
{
	size_t page = page_size();
	struct statfs fs;
	struct transfer w;
	uint8_t *mine;
	int self_pidfd;

	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	ASSERT_EQ(0, fstatfs(self_pidfd, &fs));
	if (fs.f_type != PID_FS_MAGIC) {
		close(self_pidfd);
		SKIP(return, "pidfds are anon_inode files on this kernel");
	}
	mine = pattern_buffer(_metadata, page, SEED_OLD);

	w = write_pattern(_metadata, self->dev, self_pidfd, (uintptr_t)mine,
			  page, SEED_NEW);
	ASSERT_COPIED(page, w);
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

static void unpark(struct parked_thread *parked)
{
	pthread_mutex_lock(&parked->lock);
	parked->release = true;
	pthread_cond_broadcast(&parked->cond);
	pthread_mutex_unlock(&parked->lock);
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
	uint8_t *mine, *buf;
	pthread_t thread;
	int thread_pidfd;

	mine = pattern_buffer(_metadata, page, SEED_OLD);
	buf = pattern_buffer(_metadata, page, SEED_NEW);
	ASSERT_EQ(0, pthread_create(&thread, NULL, park, &parked));
	pthread_mutex_lock(&parked.lock);
	while (!parked.tid)
		pthread_cond_wait(&parked.cond, &parked.lock);
	pthread_mutex_unlock(&parked.lock);

	thread_pidfd = syscall(SYS_pidfd_open, parked.tid, PIDFD_THREAD);
	if (thread_pidfd < 0) {
		unpark(&parked);
		pthread_join(thread, NULL);
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "no PIDFD_THREAD on this kernel");
	}
	/* No ASSERT while the thread is parked: it must be let go first. */
	w = raw_call(self->dev, true, thread_pidfd, (uintptr_t)mine, buf,
		     page);
	r = raw_call(self->dev, false, thread_pidfd, (uintptr_t)mine, buf,
		     page);

	unpark(&parked);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	close(thread_pidfd);

	ASSERT_REFUSED(ZX_ERR_WRONG_TYPE, w);
	ASSERT_EQ(0, count_mismatches(mine, page, SEED_OLD));
	ASSERT_REFUSED(ZX_ERR_WRONG_TYPE, r);
}

TEST_F(child, thread_pidfd_of_a_tracee_is_wrong_type)
{
	size_t page = page_size();
	struct transfer w, r;
	int thread_pidfd;
	int64_t addr;

	thread_pidfd = syscall(SYS_pidfd_open, self->target.pid, PIDFD_THREAD);
	if (thread_pidfd < 0) {
		ASSERT_EQ(EINVAL, errno);
		SKIP(return, "no PIDFD_THREAD on this kernel");
	}
	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);

	/* Traced or not, the handle is of the wrong type. */
	w = write_pattern(_metadata, self->dev, thread_pidfd, addr, page,
			  SEED_NEW);
	ASSERT_REFUSED(ZX_ERR_WRONG_TYPE, w);
	ASSERT_EQ(0, target_trace(&self->target));
	w = write_pattern(_metadata, self->dev, thread_pidfd, addr, page,
			  SEED_NEW);
	ASSERT_REFUSED(ZX_ERR_WRONG_TYPE, w);
	r = read_pattern(_metadata, self->dev, thread_pidfd, addr, page,
			 SEED_OLD);
	ASSERT_REFUSED(ZX_ERR_WRONG_TYPE, r);
	ASSERT_EQ(0, target_mismatches(&self->target, addr, page, SEED_OLD));
	close(thread_pidfd);
}

TEST_HARNESS_MAIN
