/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zxmem's own batched calls, beside the Zircon API of <zircon/syscalls.h>:
 * many ranges of one target process in one call, and for writes the
 * option to get back the bytes each range replaced (a breakpoint install
 * that reports the original instructions).  Zircon has no such call; the
 * names say so.
 *
 * Header-only, like <zircon/syscalls.h>, whose process-wide /dev/zxmem
 * descriptor it shares: build with "-I uapi", nothing to link.  The
 * semantics, the bounds and what an exchange guarantees are in
 * Documentation/zxmem.rst, "Batched calls".
 */
#ifndef _UAPI_ZXMEM_VEC_H
#define _UAPI_ZXMEM_VEC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/zxmem.h>
#include <zircon/syscalls.h>

/**
 * zxmem_vec_call() - issue one batched zxmem ioctl
 * @cmd: %ZXMEM_IOC_WRITE_MEMORY_VEC or %ZXMEM_IOC_READ_MEMORY_VEC.
 * @handle: pidfd of the target process.
 * @segments: the array of segments, read and updated by the kernel.
 * @count: the number of segments.
 * @flags: %ZXMEM_VEC_EXCHANGE, %ZXMEM_VEC_STOP, or 0.
 * @done: where to store the number of segments that hold a status, or
 *	NULL.
 *
 * Shared body of zxmem_process_write_memory_vec() and
 * zxmem_process_read_memory_vec().  Thread-safe: the request lives on the
 * caller's stack and the device descriptor is zxmem_device_fd()'s.  errno
 * is the same on return as on entry.
 *
 * Return: the status of the call.
 */
static inline zx_status_t zxmem_vec_call(unsigned long cmd,
					 zx_handle_t handle,
					 struct zxmem_segment *segments,
					 size_t count, __u32 flags,
					 size_t *done)
{
	int saved_errno = errno;
	struct zxmem_vec vec;
	zx_status_t status;
	int fd;

	if (done)
		*done = 0;
	/* A count the __u32 field cannot hold is not cut to its low bits. */
	if (count != (size_t)(__u32)count)
		return ZX_ERR_INVALID_ARGS;

	fd = zxmem_device_fd();
	if (fd < 0) {
		errno = saved_errno;
		return (zx_status_t)fd;
	}

	memset(&vec, 0, sizeof(vec));
	vec.segments = (__u64)(uintptr_t)segments;
	vec.count = (__u32)count;
	vec.handle = (__u32)handle;
	vec.flags = (__u32)flags;
	vec.status = ZX_ERR_INTERNAL;

	if (ioctl(fd, cmd, &vec) == 0) {
		status = (zx_status_t)vec.status;
		if (status == ZX_OK && done)
			*done = (size_t)vec.done;
	} else {
		/* ENOTTY, EINVAL: no batched calls in this module. */
		status = zxmem_errno_status(errno);
	}

	errno = saved_errno;
	return status;
}

/**
 * zxmem_process_write_memory_vec() - write many ranges of another process
 * @handle: pidfd of the target process.
 * @segments: @count segments: each names @vaddr in the target, @buffer
 *	(the bytes to write), @size (1 to 64 MiB), @old (with
 *	%ZXMEM_VEC_EXCHANGE, where the bytes the write replaced go, not
 *	overlapping @buffer's bytes; otherwise 0) and @reserved (0).  The
 *	kernel stores each segment's @status and, on %ZX_OK, its @actual,
 *	and writes nothing else.
 * @count: 1 to %ZXMEM_MAX_SEGMENTS (1024).
 * @flags: %ZXMEM_VEC_EXCHANGE: each segment's old bytes are read and
 *	replaced in one atomic step per aligned machine word, and stored in
 *	its @old buffer (@actual bytes of it).  %ZXMEM_VEC_STOP: stop after
 *	the first segment whose status is not %ZX_OK.
 * @done: on %ZX_OK, how many segments, from the first, hold a status
 *	(@count unless %ZXMEM_VEC_STOP stopped the call or it was cut short);
 *	0 otherwise.  May be NULL.
 *
 * The segments' sizes (of those whose own fields are valid) together may
 * not exceed 64 MiB.  Needs the module parameter enable_debugging_syscalls=1
 * and the right zx_process_write_memory() needs; the handle, the right and
 * the target's memory are judged once for the whole call.  Each segment's
 * status is then what zx_process_write_memory() with that range would
 * answer, and a bad segment does not stop the others unless
 * %ZXMEM_VEC_STOP is set.  errno is preserved.
 *
 * Return: %ZX_OK when the call was carried out, segment by segment (each
 * segment then holds its own status); otherwise why it was refused as a
 * whole, before any byte was written: %ZX_ERR_NOT_SUPPORTED when writes are
 * disabled or the module has no batched calls; %ZX_ERR_INVALID_ARGS for
 * unknown @flags, a @count of 0 or above 1024, a total above 64 MiB, or
 * @segments not readable and writable; %ZX_ERR_BAD_HANDLE or
 * %ZX_ERR_WRONG_TYPE for a bad @handle; %ZX_ERR_ACCESS_DENIED without the
 * right; %ZX_ERR_BAD_STATE when the target is exiting.
 */
static inline zx_status_t
zxmem_process_write_memory_vec(zx_handle_t handle,
			       struct zxmem_segment *segments, size_t count,
			       __u32 flags, size_t *done)
{
	return zxmem_vec_call(ZXMEM_IOC_WRITE_MEMORY_VEC, handle, segments,
			      count, flags, done);
}

/**
 * zxmem_process_read_memory_vec() - read many ranges of another process
 * @handle: pidfd of the target process.
 * @segments: @count segments, as for zxmem_process_write_memory_vec(); each
 *	@buffer is written, @old must be 0.
 * @count: 1 to %ZXMEM_MAX_SEGMENTS (1024).
 * @flags: %ZXMEM_VEC_STOP or 0; %ZXMEM_VEC_EXCHANGE is refused.
 * @done: on %ZX_OK, how many segments hold a status; 0 otherwise.  May be
 *	NULL.
 *
 * Always available (no module parameter), with the right
 * zx_process_read_memory() needs.  Each segment's status is what
 * zx_process_read_memory() with that range would answer; on an error the
 * contents of that segment's buffer are undefined.  errno is preserved.
 *
 * Return: as zxmem_process_write_memory_vec(), without the gate:
 * %ZX_ERR_INVALID_ARGS also for %ZXMEM_VEC_EXCHANGE.
 */
static inline zx_status_t
zxmem_process_read_memory_vec(zx_handle_t handle,
			      struct zxmem_segment *segments, size_t count,
			      __u32 flags, size_t *done)
{
	return zxmem_vec_call(ZXMEM_IOC_READ_MEMORY_VEC, handle, segments,
			      count, flags, done);
}

#endif /* _UAPI_ZXMEM_VEC_H */
