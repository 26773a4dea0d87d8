/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Zircon status codes (zx_status_t values), with the numbers Fuchsia uses.
 *
 * Only macros live here, so both user space and the zxmem kernel module can
 * include this file.  zx_status_get_string() in <zircon/syscalls.h> names
 * each of them.  See Documentation/zxmem.rst for which ones zxmem returns.
 */
#ifndef _UAPI_ZIRCON_ERRORS_H
#define _UAPI_ZIRCON_ERRORS_H

/* Success. */
#define ZX_OK				(0)

/* Generic failures. */
#define ZX_ERR_INTERNAL			(-1)	/* a bug or broken invariant */
#define ZX_ERR_NOT_SUPPORTED		(-2)	/* not available or not enabled */
#define ZX_ERR_NO_RESOURCES		(-3)	/* out of a non-memory resource */
#define ZX_ERR_NO_MEMORY		(-4)	/* out of memory, or none mapped */
/* Reserved for the kernel: a syscall must be restarted. */
#define ZX_ERR_INTERNAL_INTR_RETRY	(-6)

/* The arguments were wrong. */
#define ZX_ERR_INVALID_ARGS		(-10)	/* bad argument or pointer */
#define ZX_ERR_BAD_HANDLE		(-11)	/* not a valid handle */
#define ZX_ERR_WRONG_TYPE		(-12)	/* handle of the wrong kind */
#define ZX_ERR_BAD_SYSCALL		(-13)	/* no such syscall */
#define ZX_ERR_OUT_OF_RANGE		(-14)	/* argument outside its range */
#define ZX_ERR_BUFFER_TOO_SMALL		(-15)	/* caller's buffer is short */

/* The object or the system is in a state that forbids the call. */
#define ZX_ERR_BAD_STATE		(-20)	/* wrong state for this call */
#define ZX_ERR_TIMED_OUT		(-21)	/* deadline passed */
#define ZX_ERR_SHOULD_WAIT		(-22)	/* try again after waiting */
#define ZX_ERR_CANCELED			(-23)	/* the operation was cancelled */
#define ZX_ERR_PEER_CLOSED		(-24)	/* the other end went away */
#define ZX_ERR_NOT_FOUND		(-25)	/* no such object */
#define ZX_ERR_ALREADY_EXISTS		(-26)	/* the object exists already */
#define ZX_ERR_ALREADY_BOUND		(-27)	/* name or port is taken */
#define ZX_ERR_UNAVAILABLE		(-28)	/* not available right now */

/* Permission. */
#define ZX_ERR_ACCESS_DENIED		(-30)	/* caller lacks the right */

/* Input/output. */
#define ZX_ERR_IO			(-40)	/* generic I/O failure */
#define ZX_ERR_IO_REFUSED		(-41)	/* the device said no */
#define ZX_ERR_IO_DATA_INTEGRITY	(-42)	/* data failed its check */
#define ZX_ERR_IO_DATA_LOSS		(-43)	/* data is gone */
#define ZX_ERR_IO_NOT_PRESENT		(-44)	/* the device is absent */
#define ZX_ERR_IO_OVERRUN		(-45)	/* too much data, too fast */
#define ZX_ERR_IO_MISSED_DEADLINE	(-46)	/* I/O finished too late */
#define ZX_ERR_IO_INVALID		(-47)	/* malformed I/O request */

/* Filesystem. */
#define ZX_ERR_BAD_PATH			(-50)	/* path is malformed */
#define ZX_ERR_NOT_DIR			(-51)	/* expected a directory */
#define ZX_ERR_NOT_FILE			(-52)	/* expected a regular file */
#define ZX_ERR_FILE_BIG			(-53)	/* file would be too large */
#define ZX_ERR_NO_SPACE			(-54)	/* storage is full */
#define ZX_ERR_NOT_EMPTY		(-55)	/* directory is not empty */

/* Flow control for callbacks; not errors as such. */
#define ZX_ERR_STOP			(-60)	/* stop iterating */
#define ZX_ERR_NEXT			(-61)	/* go on to the next item */
#define ZX_ERR_ASYNC			(-62)	/* completion comes later */

/* Networking. */
#define ZX_ERR_PROTOCOL_NOT_SUPPORTED	(-70)	/* unknown protocol */
#define ZX_ERR_ADDRESS_UNREACHABLE	(-71)	/* no route to the address */
#define ZX_ERR_ADDRESS_IN_USE		(-72)	/* address is taken */
#define ZX_ERR_NOT_CONNECTED		(-73)	/* no connection */
#define ZX_ERR_CONNECTION_REFUSED	(-74)	/* peer refused */
#define ZX_ERR_CONNECTION_RESET		(-75)	/* peer reset */
#define ZX_ERR_CONNECTION_ABORTED	(-76)	/* aborted locally */

/* Reserved for the kernel: the calling thread is being killed. */
#define ZX_ERR_INTERNAL_INTR_KILLED	(-502)

#endif /* _UAPI_ZIRCON_ERRORS_H */
