/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each area program (gate_test.c ... abi_test.c) starts with: the
 * harness, the test library, and FIXTURE(child): a target child (untraced
 * until a test seizes it), our own /dev/zxmem (O_RDWR) for the raw calls,
 * and writes switched on for the test and restored afterwards.
 *
 * With ZXMEM_TWINS defined first, also FIXTURE(call), the same with a
 * FIXTURE_VARIANT for the direction of a write/read twin: its tests run
 * once as call.write.NAME and once as call.read.NAME.  With
 * ZXMEM_STATUSES, FIXTURE(status), with a variant for each status a call
 * can answer and provoke_status() to get it.
 *
 * Include it once, from the program's one .c: the harness keeps its list
 * of tests per translation unit.
 */
#ifndef _ZXMEM_AREA_H
#define _ZXMEM_AREA_H

/* The 6.1 harness has an unused parameter; -Wextra -Werror would stop. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include "common.h"

FIXTURE(child) {
	struct target target;
	int dev;
	int saved_param;
};

FIXTURE_SETUP(child)
{
	fixture_start(_metadata, &self->target, &self->dev,
		      &self->saved_param);
}

FIXTURE_TEARDOWN(child)
{
	fixture_stop(_metadata, &self->target, self->dev, self->saved_param);
}

#ifdef ZXMEM_TWINS
FIXTURE(call) {
	struct target target;
	int dev;
	int saved_param;
};

FIXTURE_VARIANT(call) {
	bool write;
};

FIXTURE_VARIANT_ADD(call, write) {
	.write = true,
};

FIXTURE_VARIANT_ADD(call, read) {
	.write = false,
};

FIXTURE_SETUP(call)
{
	fixture_start(_metadata, &self->target, &self->dev,
		      &self->saved_param);
}

FIXTURE_TEARDOWN(call)
{
	fixture_stop(_metadata, &self->target, self->dev, self->saved_param);
}
#endif /* ZXMEM_TWINS */

#ifdef ZXMEM_STATUSES
#include <fcntl.h>
#include <sys/wait.h>

/*
 * With ZXMEM_STATUSES defined first, also FIXTURE(status): the same, with
 * a FIXTURE_VARIANT for each status a call can answer, and
 * provoke_status(), which builds the request that gets it.
 */
FIXTURE(status) {
	struct target target;	/* untraced until a test seizes it */
	int dev;		/* our own /dev/zxmem, O_RDWR */
	int saved_param;	/* enable_debugging_syscalls before the test */
};

FIXTURE_SETUP(status)
{
	fixture_start(_metadata, &self->target, &self->dev,
		      &self->saved_param);
}

FIXTURE_TEARDOWN(status)
{
	fixture_stop(_metadata, &self->target, self->dev, self->saved_param);
}

FIXTURE_VARIANT(status) {
	zx_status_t expected;
};

FIXTURE_VARIANT_ADD(status, ok) {
	.expected = ZX_OK,
};

FIXTURE_VARIANT_ADD(status, not_supported) {
	.expected = ZX_ERR_NOT_SUPPORTED,
};

FIXTURE_VARIANT_ADD(status, invalid_args) {
	.expected = ZX_ERR_INVALID_ARGS,
};

FIXTURE_VARIANT_ADD(status, bad_handle) {
	.expected = ZX_ERR_BAD_HANDLE,
};

FIXTURE_VARIANT_ADD(status, wrong_type) {
	.expected = ZX_ERR_WRONG_TYPE,
};

FIXTURE_VARIANT_ADD(status, bad_state) {
	.expected = ZX_ERR_BAD_STATE,
};

FIXTURE_VARIANT_ADD(status, access_denied) {
	.expected = ZX_ERR_ACCESS_DENIED,
};

FIXTURE_VARIANT_ADD(status, no_memory) {
	.expected = ZX_ERR_NO_MEMORY,
};

/* A request that provoke_status() made, and what it provokes. */
struct provoked {
	struct zxmem_io request;	/* a write of SEED_NEW over SEED_OLD */
	zx_status_t read_expected;	/* the same request as a read */
	int64_t addr;			/* the target's page */
	bool alive;			/* the page is still there to check */
	bool named;			/* the handle named the target */
};

/*
 * A write request of one page of @t, for which every step passes but the
 * one that answers @expected: the writes switched off, a flag set, a
 * closed fd or /dev/null as the handle, a reaped target, @t left
 * untraced, the page unmapped.  Reads are not gated: a read of the same
 * request answers ZX_OK where the write answers ZX_ERR_NOT_SUPPORTED.
 */
static inline void provoke_status(struct __test_metadata *_metadata,
				  struct target *t, zx_status_t expected,
				  struct provoked *p)
{
	size_t page = page_size();
	void *buf;
	int status;

	p->addr = target_region(_metadata, t,
				expected != ZX_ERR_ACCESS_DENIED, page,
				SEED_OLD);
	buf = pattern_buffer(_metadata, page, SEED_NEW);
	p->request = raw_request(t->pidfd, p->addr, buf, page);
	p->read_expected = expected == ZX_ERR_NOT_SUPPORTED ? ZX_OK : expected;
	p->alive = true;
	p->named = true;

	switch (expected) {
	case ZX_ERR_NOT_SUPPORTED:
		set_debugging_syscalls(_metadata, 0);
		break;
	case ZX_ERR_INVALID_ARGS:
		p->request.flags = 1;
		p->named = false;
		break;
	case ZX_ERR_BAD_HANDLE:
		p->request.handle = closed_fd();
		p->named = false;
		break;
	case ZX_ERR_WRONG_TYPE:
		p->request.handle = open("/dev/null", O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, (int)p->request.handle);
		p->named = false;
		break;
	case ZX_ERR_BAD_STATE:
		/* Reaped: its memory is gone, its pidfd stays. */
		ASSERT_EQ(0, target_simple(t, CHILD_EXIT));
		ASSERT_EQ(t->pid, waitpid(t->pid, &status, 0));
		t->pid = 0;
		p->alive = false;
		p->named = false;
		break;
	case ZX_ERR_NO_MEMORY:
		ASSERT_EQ(0, target_unmap(t, p->addr, page));
		p->alive = false;
		break;
	}
}
#endif /* ZXMEM_STATUSES */

#endif /* _ZXMEM_AREA_H */
