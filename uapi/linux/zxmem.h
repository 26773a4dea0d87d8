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

#define ZXMEM_IOC_MAGIC		0xBA

/* zx_process_write_memory(): needs enable_debugging_syscalls=1 */
#define ZXMEM_IOC_WRITE_MEMORY	_IOWR(ZXMEM_IOC_MAGIC, 0x00, struct zxmem_io)
/* zx_process_read_memory(): always available */
#define ZXMEM_IOC_READ_MEMORY	_IOWR(ZXMEM_IOC_MAGIC, 0x01, struct zxmem_io)

#endif /* _UAPI_LINUX_ZXMEM_H */
