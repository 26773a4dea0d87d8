/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * A header-only subset of Fuchsia's Zircon C API for Linux:
 * zx_process_write_memory(), zx_process_read_memory() and
 * zx_status_get_string(), on top of the zxmem module's /dev/zxmem ioctls.
 *
 * Build with "-I uapi"; there is no library to link.  A zx_handle_t here is
 * a pidfd, from pidfd_open(2) or clone3(CLONE_PIDFD).  The statuses and the
 * rule for who may write or read another process are in
 * Documentation/zxmem.rst.
 */
#ifndef _UAPI_ZIRCON_SYSCALLS_H
#define _UAPI_ZIRCON_SYSCALLS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/zxmem.h>
#include <zircon/errors.h>

/**
 * typedef zx_status_t - result of a Zircon call
 *
 * ZX_OK (0) on success, otherwise one of the negative ZX_ERR_* values from
 * <zircon/errors.h>.
 */
typedef __s32 zx_status_t;

/**
 * typedef zx_handle_t - names the target process
 *
 * On Linux this holds a pidfd.  It carries no rights of its own; see
 * "The right to write or read" in Documentation/zxmem.rst.
 */
typedef __u32 zx_handle_t;

/**
 * typedef zx_vaddr_t - an address in the target process
 */
typedef uintptr_t zx_vaddr_t;

/**
 * typedef zx_rights_t - a set of ZX_RIGHT_* bits
 */
typedef __u32 zx_rights_t;

/**
 * define ZX_RIGHT_READ - the right zx_process_read_memory() needs
 *
 * For documentation only: a pidfd cannot carry it.  zxmem grants it to the
 * target's own thread group and to its ptrace tracer.
 */
#define ZX_RIGHT_READ	((zx_rights_t)1u << 2)

/**
 * define ZX_RIGHT_WRITE - the right zx_process_write_memory() needs
 *
 * For documentation only, granted like %ZX_RIGHT_READ, and never through a
 * /dev/zxmem opened read-only.
 */
#define ZX_RIGHT_WRITE	((zx_rights_t)1u << 3)

/**
 * define ZXMEM_DEVICE_PATH - the device the calls below go through
 */
#define ZXMEM_DEVICE_PATH	"/dev/zxmem"

/*
 * The process-wide /dev/zxmem descriptor plus one; 0 means not opened yet.
 * Every translation unit that includes this header defines it weakly, so
 * the linker keeps one copy.  Only zxmem_device_fd() touches it.
 */
extern int zxmem_device_fd_plus_one;
#pragma weak zxmem_device_fd_plus_one
int zxmem_device_fd_plus_one;

/**
 * zx_status_get_string() - name a status code
 * @status: a zx_status_t.
 *
 * Return: the macro name of @status as a string, such as "ZX_OK" or
 * "ZX_ERR_ACCESS_DENIED", or "(UNKNOWN)" for a value that is not a Zircon
 * status.  The string is static and must not be freed.
 */
static inline const char *zx_status_get_string(zx_status_t status)
{
	switch (status) {
	case ZX_OK:
		return "ZX_OK";
	case ZX_ERR_INTERNAL:
		return "ZX_ERR_INTERNAL";
	case ZX_ERR_NOT_SUPPORTED:
		return "ZX_ERR_NOT_SUPPORTED";
	case ZX_ERR_NO_RESOURCES:
		return "ZX_ERR_NO_RESOURCES";
	case ZX_ERR_NO_MEMORY:
		return "ZX_ERR_NO_MEMORY";
	case ZX_ERR_INTERNAL_INTR_RETRY:
		return "ZX_ERR_INTERNAL_INTR_RETRY";
	case ZX_ERR_INVALID_ARGS:
		return "ZX_ERR_INVALID_ARGS";
	case ZX_ERR_BAD_HANDLE:
		return "ZX_ERR_BAD_HANDLE";
	case ZX_ERR_WRONG_TYPE:
		return "ZX_ERR_WRONG_TYPE";
	case ZX_ERR_BAD_SYSCALL:
		return "ZX_ERR_BAD_SYSCALL";
	case ZX_ERR_OUT_OF_RANGE:
		return "ZX_ERR_OUT_OF_RANGE";
	case ZX_ERR_BUFFER_TOO_SMALL:
		return "ZX_ERR_BUFFER_TOO_SMALL";
	case ZX_ERR_BAD_STATE:
		return "ZX_ERR_BAD_STATE";
	case ZX_ERR_TIMED_OUT:
		return "ZX_ERR_TIMED_OUT";
	case ZX_ERR_SHOULD_WAIT:
		return "ZX_ERR_SHOULD_WAIT";
	case ZX_ERR_CANCELED:
		return "ZX_ERR_CANCELED";
	case ZX_ERR_PEER_CLOSED:
		return "ZX_ERR_PEER_CLOSED";
	case ZX_ERR_NOT_FOUND:
		return "ZX_ERR_NOT_FOUND";
	case ZX_ERR_ALREADY_EXISTS:
		return "ZX_ERR_ALREADY_EXISTS";
	case ZX_ERR_ALREADY_BOUND:
		return "ZX_ERR_ALREADY_BOUND";
	case ZX_ERR_UNAVAILABLE:
		return "ZX_ERR_UNAVAILABLE";
	case ZX_ERR_ACCESS_DENIED:
		return "ZX_ERR_ACCESS_DENIED";
	case ZX_ERR_IO:
		return "ZX_ERR_IO";
	case ZX_ERR_IO_REFUSED:
		return "ZX_ERR_IO_REFUSED";
	case ZX_ERR_IO_DATA_INTEGRITY:
		return "ZX_ERR_IO_DATA_INTEGRITY";
	case ZX_ERR_IO_DATA_LOSS:
		return "ZX_ERR_IO_DATA_LOSS";
	case ZX_ERR_IO_NOT_PRESENT:
		return "ZX_ERR_IO_NOT_PRESENT";
	case ZX_ERR_IO_OVERRUN:
		return "ZX_ERR_IO_OVERRUN";
	case ZX_ERR_IO_MISSED_DEADLINE:
		return "ZX_ERR_IO_MISSED_DEADLINE";
	case ZX_ERR_IO_INVALID:
		return "ZX_ERR_IO_INVALID";
	case ZX_ERR_BAD_PATH:
		return "ZX_ERR_BAD_PATH";
	case ZX_ERR_NOT_DIR:
		return "ZX_ERR_NOT_DIR";
	case ZX_ERR_NOT_FILE:
		return "ZX_ERR_NOT_FILE";
	case ZX_ERR_FILE_BIG:
		return "ZX_ERR_FILE_BIG";
	case ZX_ERR_NO_SPACE:
		return "ZX_ERR_NO_SPACE";
	case ZX_ERR_NOT_EMPTY:
		return "ZX_ERR_NOT_EMPTY";
	case ZX_ERR_STOP:
		return "ZX_ERR_STOP";
	case ZX_ERR_NEXT:
		return "ZX_ERR_NEXT";
	case ZX_ERR_ASYNC:
		return "ZX_ERR_ASYNC";
	case ZX_ERR_PROTOCOL_NOT_SUPPORTED:
		return "ZX_ERR_PROTOCOL_NOT_SUPPORTED";
	case ZX_ERR_ADDRESS_UNREACHABLE:
		return "ZX_ERR_ADDRESS_UNREACHABLE";
	case ZX_ERR_ADDRESS_IN_USE:
		return "ZX_ERR_ADDRESS_IN_USE";
	case ZX_ERR_NOT_CONNECTED:
		return "ZX_ERR_NOT_CONNECTED";
	case ZX_ERR_CONNECTION_REFUSED:
		return "ZX_ERR_CONNECTION_REFUSED";
	case ZX_ERR_CONNECTION_RESET:
		return "ZX_ERR_CONNECTION_RESET";
	case ZX_ERR_CONNECTION_ABORTED:
		return "ZX_ERR_CONNECTION_ABORTED";
	case ZX_ERR_INTERNAL_INTR_KILLED:
		return "ZX_ERR_INTERNAL_INTR_KILLED";
	default:
		return "(UNKNOWN)";
	}
}

/*
 * glibc hides O_CLOEXEC under strict -std=c99 but always defines the
 * underlying __O_CLOEXEC.
 */
#if defined(O_CLOEXEC)
#define ZXMEM_O_CLOEXEC	O_CLOEXEC
#elif defined(__O_CLOEXEC)
#define ZXMEM_O_CLOEXEC	__O_CLOEXEC
#else
#error "zircon/syscalls.h needs O_CLOEXEC"
#endif

/**
 * zxmem_open_device() - open /dev/zxmem, read-write if allowed
 *
 * Falls back to read-only when read-write is refused, so reads keep working;
 * writes through that descriptor then answer %ZX_ERR_ACCESS_DENIED.  May
 * change errno.
 *
 * Return: the new descriptor, or a negative zx_status_t: %ZX_ERR_NOT_SUPPORTED
 * when the device does not exist, %ZX_ERR_ACCESS_DENIED when it may not be
 * opened at all, %ZX_ERR_NO_RESOURCES or %ZX_ERR_NO_MEMORY when out of
 * descriptors or memory, %ZX_ERR_INTERNAL otherwise.
 */
static inline int zxmem_open_device(void)
{
	int fd;

	do {
		fd = open(ZXMEM_DEVICE_PATH, O_RDWR | ZXMEM_O_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		do {
			fd = open(ZXMEM_DEVICE_PATH,
				  O_RDONLY | ZXMEM_O_CLOEXEC);
		} while (fd < 0 && errno == EINTR);
	}
	if (fd >= 0)
		return fd;

	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return ZX_ERR_NOT_SUPPORTED;
	case EACCES:
	case EPERM:
		return ZX_ERR_ACCESS_DENIED;
	case EMFILE:
	case ENFILE:
		return ZX_ERR_NO_RESOURCES;
	case ENOMEM:
		return ZX_ERR_NO_MEMORY;
	default:
		return ZX_ERR_INTERNAL;
	}
}

/**
 * zxmem_device_fd() - the process-wide /dev/zxmem descriptor
 *
 * Opens the device on first use and keeps it open for the life of the
 * process (close-on-exec).  When threads race on the first use, one
 * descriptor wins and the others are closed.  A failure is not remembered,
 * so loading the module later makes later calls work.  May change errno.
 *
 * Return: the descriptor, or a negative zx_status_t from
 * zxmem_open_device().
 */
static inline int zxmem_device_fd(void)
{
	int cur = __atomic_load_n(&zxmem_device_fd_plus_one, __ATOMIC_ACQUIRE);
	int fd;

	if (cur > 0)
		return cur - 1;

	fd = zxmem_open_device();
	if (fd < 0)
		return fd;

	cur = 0;
	if (!__atomic_compare_exchange_n(&zxmem_device_fd_plus_one, &cur,
					 fd + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		/* Another thread got there first: use its descriptor. */
		close(fd);
		return cur - 1;
	}
	return fd;
}

/**
 * zxmem_errno_status() - the status of a zxmem ioctl that failed
 * @err: the errno it failed with.
 *
 * ENOTTY and EINVAL come from a descriptor that is not a zxmem device, or
 * from a module with another ABI; EFAULT from a request, or a part of it,
 * that is not the caller's to read and write.  Shared by every call of
 * this API.
 *
 * Return: %ZX_ERR_NOT_SUPPORTED, %ZX_ERR_INVALID_ARGS or %ZX_ERR_INTERNAL.
 */
static inline zx_status_t zxmem_errno_status(int err)
{
	switch (err) {
	case ENOTTY:
	case EINVAL:
		return ZX_ERR_NOT_SUPPORTED;
	case EFAULT:
		return ZX_ERR_INVALID_ARGS;
	default:
		return ZX_ERR_INTERNAL;
	}
}

/**
 * zxmem_call() - issue one zxmem ioctl
 * @cmd: %ZXMEM_IOC_WRITE_MEMORY or %ZXMEM_IOC_READ_MEMORY.
 * @handle: pidfd of the target process.
 * @vaddr: address in the target.
 * @buffer: the caller's buffer.
 * @buffer_size: bytes to transfer.
 * @actual: where to store the bytes transferred on %ZX_OK, or NULL.
 *
 * Shared body of zx_process_write_memory() and zx_process_read_memory().
 * errno is the same on return as on entry.
 *
 * Return: the status of the call.
 */
static inline zx_status_t zxmem_call(unsigned long cmd, zx_handle_t handle,
				     zx_vaddr_t vaddr, uintptr_t buffer,
				     size_t buffer_size, size_t *actual)
{
	int saved_errno = errno;
	struct zxmem_io io;
	zx_status_t status;
	int fd;

	fd = zxmem_device_fd();
	if (fd < 0) {
		errno = saved_errno;
		return (zx_status_t)fd;
	}

	memset(&io, 0, sizeof(io));
	io.vaddr = (__u64)vaddr;
	io.buffer = (__u64)buffer;
	io.buffer_size = (__u64)buffer_size;
	io.handle = (__u32)handle;
	io.status = ZX_ERR_INTERNAL;

	if (ioctl(fd, cmd, &io) == 0) {
		status = (zx_status_t)io.status;
		if (status == ZX_OK && actual)
			*actual = (size_t)io.actual;
	} else {
		status = zxmem_errno_status(errno);
	}

	errno = saved_errno;
	return status;
}

/**
 * zx_process_write_memory() - write into another process's memory
 * @handle: pidfd of the target process.
 * @vaddr: address in the target where writing starts.
 * @buffer: bytes to write.
 * @buffer_size: number of bytes, 1 to 64 MiB.
 * @actual: on %ZX_OK, the number of bytes written; may be NULL.  Left
 *	untouched on error.
 *
 * Needs the module parameter enable_debugging_syscalls=1 and, over the
 * target, the rights of its ptrace tracer or its own thread group.
 * Read-only private mappings are written through copy-on-write.  Fewer
 * bytes than asked may be written when the range runs into unmapped
 * memory.  errno is preserved.  See Documentation/zxmem.rst.
 *
 * Return: %ZX_OK on success; %ZX_ERR_NOT_SUPPORTED when writes are disabled
 * or /dev/zxmem is missing; %ZX_ERR_INVALID_ARGS for a bad @buffer or
 * @buffer_size; %ZX_ERR_BAD_HANDLE or %ZX_ERR_WRONG_TYPE for a bad @handle;
 * %ZX_ERR_ACCESS_DENIED without the right, or for the vDSO;
 * %ZX_ERR_BAD_STATE when the target is exiting or the memory is not
 * cacheable; %ZX_ERR_NO_MEMORY when nothing is mapped at @vaddr.
 */
static inline zx_status_t zx_process_write_memory(zx_handle_t handle,
						  zx_vaddr_t vaddr,
						  const void *buffer,
						  size_t buffer_size,
						  size_t *actual)
{
	return zxmem_call(ZXMEM_IOC_WRITE_MEMORY, handle, vaddr,
			  (uintptr_t)buffer, buffer_size, actual);
}

/**
 * zx_process_read_memory() - read another process's memory
 * @handle: pidfd of the target process.
 * @vaddr: address in the target where reading starts.
 * @buffer: where to store the bytes read.
 * @buffer_size: number of bytes, 1 to 64 MiB.
 * @actual: on %ZX_OK, the number of bytes read; may be NULL.  Left
 *	untouched on error.
 *
 * Always available (no module parameter), with the same rights rule as
 * zx_process_write_memory().  Fewer bytes than asked may be read when the
 * range runs into unmapped memory.  On error the contents of @buffer are
 * undefined.  errno is preserved.  See Documentation/zxmem.rst.
 *
 * Return: %ZX_OK on success; %ZX_ERR_NOT_SUPPORTED when /dev/zxmem is
 * missing; %ZX_ERR_INVALID_ARGS for a bad @buffer or @buffer_size;
 * %ZX_ERR_BAD_HANDLE or %ZX_ERR_WRONG_TYPE for a bad @handle;
 * %ZX_ERR_ACCESS_DENIED without the right; %ZX_ERR_BAD_STATE when the
 * target is exiting or the memory is not cacheable; %ZX_ERR_NO_MEMORY when
 * nothing is mapped at @vaddr.
 */
static inline zx_status_t zx_process_read_memory(zx_handle_t handle,
						 zx_vaddr_t vaddr,
						 void *buffer,
						 size_t buffer_size,
						 size_t *actual)
{
	return zxmem_call(ZXMEM_IOC_READ_MEMORY, handle, vaddr,
			  (uintptr_t)buffer, buffer_size, actual);
}

#endif /* _UAPI_ZIRCON_SYSCALLS_H */
