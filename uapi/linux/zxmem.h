/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * zxmem: Fuchsia's zx_process_write_memory() and zx_process_read_memory()
 * for Linux, as ioctls on /dev/zxmem.
 *
 * The Zircon C API in <zircon/syscalls.h> wraps these; most programs should
 * use it rather than the raw ioctls.
 */
#ifndef _UAPI_LINUX_ZXMEM_H
#define _UAPI_LINUX_ZXMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The largest buffer_size one call accepts: 64 MiB, as in Zircon. */
#define ZXMEM_MAX_TRANSFER	(64UL << 20)

/**
 * struct zxmem_io - one zx_process_{write,read}_memory() request
 * @vaddr: address in the target process where the transfer starts.
 * @buffer: the caller's buffer, a user pointer cast to __u64.  It is read
 *	for ZXMEM_IOC_WRITE_MEMORY and written for ZXMEM_IOC_READ_MEMORY.
 * @buffer_size: bytes to transfer, 1 to %ZXMEM_MAX_TRANSFER.
 * @actual: out: bytes transferred.  Written only when @status is ZX_OK;
 *	otherwise the kernel leaves it as the caller set it.
 * @handle: a pidfd naming the target process.
 * @flags: must be 0.
 * @status: out: the zx_status_t of the call (ZX_OK or a ZX_ERR_* value),
 *	written whenever the ioctl returns 0.
 * @reserved: must be 0.
 *
 * The ioctl itself returns 0 whenever it could read the request and store
 * @status; the outcome of the call is then in @status alone.  It fails with
 * -1 only when the request could not be exchanged: errno %EFAULT when the
 * struct cannot be read or written, %ENOTTY for an unknown command.
 *
 * A later version adds fields at the end and a flag that announces them;
 * a kernel that does not know a flag answers ZX_ERR_INVALID_ARGS.
 */
struct zxmem_io {
	__u64 vaddr;
	__u64 buffer;
	__u64 buffer_size;
	__u64 actual;
	__u32 handle;
	__u32 flags;
	__s32 status;
	__u32 reserved;
};

/* The most segments one ZXMEM_IOC_*_MEMORY_VEC call takes. */
#define ZXMEM_MAX_SEGMENTS	1024

/**
 * struct zxmem_segment - one range of a batched call
 * @vaddr: address in the target process where the segment starts.
 * @buffer: the caller's buffer for it, a user pointer cast to __u64: read
 *	for a write, written for a read.
 * @old: with %ZXMEM_VEC_EXCHANGE, where the bytes the write replaced are
 *	stored (@size bytes, apart from @buffer's: overlapping ones refuse
 *	the segment); otherwise must be 0.
 * @size: bytes to transfer, 1 to %ZXMEM_MAX_TRANSFER.
 * @actual: out: bytes transferred.  Written only when @status is ZX_OK.
 * @status: out: what a single ZXMEM_IOC_WRITE_MEMORY or
 *	ZXMEM_IOC_READ_MEMORY call with this range would have answered.
 * @reserved: must be 0.
 */
struct zxmem_segment {
	__u64 vaddr;
	__u64 buffer;
	__u64 old;
	__u64 size;
	__u64 actual;
	__s32 status;
	__u32 reserved;
};

/*
 * Flags of struct zxmem_vec.  EXCHANGE (writes only): each segment's old
 * bytes are read and replaced in one atomic step per aligned machine word
 * of the target's page, and returned in its @old buffer.  STOP: the call
 * stops after the first segment whose status is not ZX_OK.
 */
#define ZXMEM_VEC_EXCHANGE	0x1U
#define ZXMEM_VEC_STOP		0x2U

/**
 * struct zxmem_vec - one batched request: many ranges of one target
 * @segments: an array of @count struct zxmem_segment, a user pointer cast
 *	to __u64.  The kernel reads it and writes each segment's @status
 *	and @actual, nothing else.
 * @count: segments in the array, 1 to %ZXMEM_MAX_SEGMENTS.
 * @handle: a pidfd naming the target process, as in struct zxmem_io.
 * @flags: %ZXMEM_VEC_EXCHANGE, %ZXMEM_VEC_STOP, or 0.
 * @status: out: ZX_OK if the call was carried out, segment by segment (each
 *	segment then holds its own status); otherwise the reason the whole
 *	call was refused, before any byte was transferred.  Written whenever
 *	the ioctl returns 0.
 * @done: out: the segments, from the first, that hold a status; @count
 *	unless %ZXMEM_VEC_STOP stopped the call or it was interrupted (the
 *	caller got a fatal signal, or the target left the memory the call
 *	judged).  0 when @status is not ZX_OK.
 * @reserved: must be 0.
 * @actual: out: the sum of the segments' @actual.  Written only when
 *	@status is ZX_OK.
 *
 * The sizes of the segments whose fields are valid may not together exceed
 * %ZXMEM_MAX_TRANSFER.  The ioctl fails with -1 and errno %EFAULT when the
 * struct or the array cannot be read or written.
 */
struct zxmem_vec {
	__u64 segments;
	__u32 count;
	__u32 handle;
	__u32 flags;
	__s32 status;
	__u32 done;
	__u32 reserved;
	__u64 actual;
};

#define ZXMEM_IOC_MAGIC		0xBA

/* zx_process_write_memory(): needs enable_debugging_syscalls=1 */
#define ZXMEM_IOC_WRITE_MEMORY	_IOWR(ZXMEM_IOC_MAGIC, 0x00, struct zxmem_io)
/* zx_process_read_memory(): always available */
#define ZXMEM_IOC_READ_MEMORY	_IOWR(ZXMEM_IOC_MAGIC, 0x01, struct zxmem_io)
/* Many ranges of one target in one call: needs enable_debugging_syscalls=1 */
#define ZXMEM_IOC_WRITE_MEMORY_VEC	_IOWR(ZXMEM_IOC_MAGIC, 0x02, struct zxmem_vec)
/* The same for reads: always available */
#define ZXMEM_IOC_READ_MEMORY_VEC	_IOWR(ZXMEM_IOC_MAGIC, 0x03, struct zxmem_vec)

#endif /* _UAPI_LINUX_ZXMEM_H */
