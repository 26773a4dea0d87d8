// SPDX-License-Identifier: GPL-2.0
/*
 * The state of the target, steps 4 and 6 of Documentation/zxmem.rst: a
 * reaped process is ZX_ERR_BAD_STATE before the right is judged, a zombie
 * after it; and what a call meets while the target's mm changes under it:
 * an exec (the call reaches only the new image), munmap (ZX_OK with the
 * bytes there were, or ZX_ERR_NO_MEMORY), other callers.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "area.h"

TEST_F(child, traced_zombie_is_bad_state)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, true, page, SEED_OLD);
	ASSERT_EQ(0, target_exit_unreaped(&self->target));

	assert_both_refused(_metadata, self->dev, self->target.pidfd, addr,
			    page, ZX_ERR_BAD_STATE);
}

/* The right (step 5) is checked before the state (step 6). */
TEST_F(child, untraced_zombie_is_access_denied)
{
	size_t page = page_size();
	int64_t addr;

	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);
	ASSERT_EQ(0, target_exit_unreaped(&self->target));

	assert_both_refused(_metadata, self->dev, self->target.pidfd, addr,
			    page, ZX_ERR_ACCESS_DENIED);
}

/* Reaped (step 4) comes before the right (step 5): no trace needed. */
TEST_F(child, reaped_process_is_bad_state)
{
	size_t page = page_size();
	int64_t addr;
	int status;

	addr = target_region(_metadata, &self->target, false, page, SEED_OLD);
	ASSERT_EQ(0, target_simple(&self->target, CHILD_EXIT));
	ASSERT_EQ(self->target.pid, waitpid(self->target.pid, &status, 0));
	self->target.pid = 0;

	assert_both_refused(_metadata, self->dev, self->target.pidfd, addr,
			    page, ZX_ERR_BAD_STATE);
}

#define WRITERS		4
#define WRITER_ROUNDS	16

struct writer {
	pthread_barrier_t *start;
	int dev;
	int handle;
	uint8_t *dst;
	uint8_t *src;
	size_t len;
	struct transfer done;
};

static void *write_region(void *arg)
{
	struct writer *w = arg;
	int round;

	pthread_barrier_wait(w->start);
	for (round = 0; round < WRITER_ROUNDS; round++) {
		w->done = raw_call(w->dev, true, w->handle, (uintptr_t)w->dst,
				   w->src, w->len);
		if (w->done.ret || w->done.status != ZX_OK ||
		    w->done.actual != w->len)
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

	self_pidfd = zxmem_pidfd_open(getpid());
	ASSERT_LE(0, self_pidfd);
	region = map_buffer(_metadata, WRITERS * len);
	memset(region, 0, WRITERS * len);
	ASSERT_EQ(0, pthread_barrier_init(&start, NULL, WRITERS));

	for (i = 0; i < WRITERS; i++) {
		writers[i] = (struct writer){
			.start = &start,
			.dev = self->dev,
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
		ASSERT_ANSWERED(writers[i].done);
		ASSERT_STATUS(ZX_OK, writers[i].done.status);
		ASSERT_EQ(len, writers[i].done.actual);
		ASSERT_EQ(0, count_mismatches(writers[i].dst, len,
					      SEED_NEW + i)) {
			TH_LOG("region %d", i);
		}
	}
	pthread_barrier_destroy(&start);
	close(self_pidfd);
}

/*
 * What one page of a read under munmap may hold: all of it what the last
 * write left (SEED_NEW), a fresh page (0), or, not yet replaced nor
 * written, SEED_OLD.  Anything else came from somewhere else.
 */
static bool page_is_whole(const uint8_t *bytes, uint64_t offset, size_t len)
{
	bool zero = true, old = true, new = true;
	size_t i;

	for (i = 0; i < len; i++) {
		zero &= bytes[i] == 0;
		old &= bytes[i] == pattern_byte(SEED_OLD, offset + i);
		new &= bytes[i] == pattern_byte(SEED_NEW, offset + i);
	}
	return zero || old || new;
}

/* The number of pages of the first @actual bytes at @buf that are not whole. */
static int torn_pages(const uint8_t *buf, uint64_t actual)
{
	size_t page = page_size();
	uint64_t at;
	int torn = 0;

	for (at = 0; at < actual; at += page)
		torn += !page_is_whole(buf + at, at,
				       actual - at < page ? actual - at : page);
	return torn;
}

/* Enough calls to have met the race, and both answers seen. */
#define MUNMAP_RACE_MIN_CALLS	20

TEST_F_TIMEOUT(child, access_racing_with_munmap_is_ok_or_no_memory, 60)
{
	struct child_request churn = {
		.op = CHILD_CHURN,
		.arg = 1000,
	};
	size_t len = 16 * page_size();
	int ok = 0, no_memory = 0, torn = 0;
	struct transfer done[2];
	struct pollfd answer;
	uint8_t *src, *dst;
	int64_t addr;
	int i;

	addr = target_region(_metadata, &self->target, true, len, SEED_OLD);
	src = map_buffer(_metadata, len);
	dst = map_buffer(_metadata, len);
	fill_pattern(src, len, SEED_NEW);
	churn.addr = addr;
	churn.len = len;
	ASSERT_EQ(0, target_send(&self->target, &churn));

	answer = (struct pollfd){ .fd = self->target.sk, .events = POLLIN };
	while (poll(&answer, 1, 0) == 0) {
		memset(dst, 0xa5, len);
		done[0] = raw_call(self->dev, true, self->target.pidfd, addr,
				   src, len);
		done[1] = raw_call(self->dev, false, self->target.pidfd, addr,
				   dst, len);
		for (i = 0; i < 2; i++) {
			ASSERT_ANSWERED(done[i]);
			ASSERT_TRUE(done[i].status == ZX_OK ||
				    done[i].status == ZX_ERR_NO_MEMORY) {
				TH_LOG("%s: %s", i ? "read" : "write",
				       zx_status_get_string(done[i].status));
			}
			if (done[i].status == ZX_OK) {
				/* No byte copied is ZX_ERR_NO_MEMORY. */
				ASSERT_LT(0, (int64_t)done[i].actual);
				ASSERT_GE(len, done[i].actual);
				ok++;
			} else {
				ASSERT_EQ(ACTUAL_UNTOUCHED, done[i].actual);
				no_memory++;
			}
		}
		if (done[1].status == ZX_OK)
			torn += torn_pages(dst, done[1].actual);
	}
	ASSERT_EQ(0, target_answer(&self->target));
	TH_LOG("%d ZX_OK, %d ZX_ERR_NO_MEMORY, %d torn pages", ok, no_memory,
	       torn);
	ASSERT_EQ(0, torn);
	ASSERT_LE(MUNMAP_RACE_MIN_CALLS, ok + no_memory);
	/* The race was met: both answers came. */
	ASSERT_LT(0, ok);
	ASSERT_LT(0, no_memory);
	/* Still alive, and still answering. */
	ASSERT_EQ(0, target_simple(&self->target, CHILD_PING));
}

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
	struct transfer w;
	int64_t landing;

	ASSERT_EQ(0, target_trace(&self->target));
	ASSERT_EQ((int64_t)BEFORE_EXEC_ADDRESS,
		  target_ask(&self->target, &map));
	ASSERT_EQ(0, target_fill(&self->target, BEFORE_EXEC_ADDRESS, page,
				 SEED_OLD));
	w = write_pattern(_metadata, self->dev, self->target.pidfd,
			  BEFORE_EXEC_ADDRESS, page, SEED_NEW);
	ASSERT_STATUS(ZX_OK, w.status);

	/* The new image answers once it runs: the exec is complete. */
	landing = target_simple(&self->target, CHILD_EXEC);
	ASSERT_LT(0, landing) {
		TH_LOG("exec failed: %s", strerror(-landing));
	}

	w = write_pattern(_metadata, self->dev, self->target.pidfd,
			  BEFORE_EXEC_ADDRESS, page, SEED_NEW);
	ASSERT_STATUS(ZX_ERR_NO_MEMORY, w.status);
	ASSERT_EQ(ACTUAL_UNTOUCHED, w.actual);
	ASSERT_EQ(0, is_mapped(self->target.pid, BEFORE_EXEC_ADDRESS));

	w = write_pattern(_metadata, self->dev, self->target.pidfd, landing,
			  sizeof(landing_page), SEED_NEW);
	ASSERT_COPIED(sizeof(landing_page), w);
	ASSERT_EQ(0, target_mismatches(&self->target, landing,
				       sizeof(landing_page), SEED_NEW));
}

TEST_HARNESS_MAIN
