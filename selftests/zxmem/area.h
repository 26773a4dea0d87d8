/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each area program (gate_test.c ... abi_test.c) starts with: the
 * harness, the test library, and FIXTURE(child): a target child (untraced
 * until a test seizes it), our own /dev/zxmem (O_RDWR) for the raw calls,
 * and writes switched on for the test and restored afterwards.
 *
 * With ZXMEM_TWINS defined first, also FIXTURE(call), the same with a
 * FIXTURE_VARIANT for the direction of a write/read twin: its tests run
 * once as call.write.NAME and once as call.read.NAME.
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

#endif /* _ZXMEM_AREA_H */
