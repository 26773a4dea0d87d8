/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zxmem's trace events: zxmem:zxmem_write and zxmem:zxmem_read, one
 * record for each request the module judged (Documentation/zxmem.rst,
 * "Trace events").  They are an audit trail of every forced write for
 * perf trace, trace-cmd or bpftrace, and cost one static branch per call
 * while disabled: nothing on the hot path logs.
 *
 * Process ids are those of the initial pid namespace, as in the
 * scheduler's events; target is 0 when the call was refused before its
 * handle named a process.  A batched call leaves one record too: its
 * segment count, the first segment's address, the sizes of its valid
 * segments added up, and the bytes all of them moved.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM zxmem

#if !defined(_ZXMEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ZXMEM_TRACE_H

#include <linux/sched.h>
#include <linux/tracepoint.h>

#include "uapi/zircon/errors.h"

#define zxmem_show_status(status)					\
	__print_symbolic(status,					\
			 { ZX_OK, "ZX_OK" },				\
			 { ZX_ERR_NOT_SUPPORTED, "ZX_ERR_NOT_SUPPORTED" }, \
			 { ZX_ERR_NO_MEMORY, "ZX_ERR_NO_MEMORY" },	\
			 { ZX_ERR_INVALID_ARGS, "ZX_ERR_INVALID_ARGS" }, \
			 { ZX_ERR_BAD_HANDLE, "ZX_ERR_BAD_HANDLE" },	\
			 { ZX_ERR_WRONG_TYPE, "ZX_ERR_WRONG_TYPE" },	\
			 { ZX_ERR_BAD_STATE, "ZX_ERR_BAD_STATE" },	\
			 { ZX_ERR_ACCESS_DENIED, "ZX_ERR_ACCESS_DENIED" })

DECLARE_EVENT_CLASS(zxmem_call,
		    TP_PROTO(u32 handle, u64 vaddr, u64 size, u32 segments,
			     struct task_struct *target, int status,
			     u64 actual),
		    TP_ARGS(handle, vaddr, size, segments, target, status,
			    actual),
		    TP_STRUCT__entry(__field(pid_t, caller_tgid)
				     __field(pid_t, caller_tid)
				     __field(pid_t, target_tgid)
				     __field(u32, handle)
				     __field(u64, vaddr)
				     __field(u64, size)
				     __field(u32, segments)
				     __field(int, status)
				     __field(u64, actual)),
		    TP_fast_assign(__entry->caller_tgid = task_tgid_nr(current);
				   __entry->caller_tid = task_pid_nr(current);
				   __entry->target_tgid = target ?
					task_tgid_nr(target) : 0;
				   __entry->handle = handle;
				   __entry->vaddr = vaddr;
				   __entry->size = size;
				   __entry->segments = segments;
				   __entry->status = status;
				   __entry->actual = status == ZX_OK ?
					actual : 0;),
		    TP_printk("caller=%d/%d target=%d handle=%u vaddr=0x%llx size=%llu segments=%u status=%s actual=%llu",
			      __entry->caller_tgid, __entry->caller_tid,
			      __entry->target_tgid, __entry->handle,
			      __entry->vaddr, __entry->size,
			      __entry->segments,
			      zxmem_show_status(__entry->status),
			      __entry->actual)
);

DEFINE_EVENT(zxmem_call, zxmem_write,
	     TP_PROTO(u32 handle, u64 vaddr, u64 size, u32 segments,
		      struct task_struct *target, int status, u64 actual),
	     TP_ARGS(handle, vaddr, size, segments, target, status, actual)
);

DEFINE_EVENT(zxmem_call, zxmem_read,
	     TP_PROTO(u32 handle, u64 vaddr, u64 size, u32 segments,
		      struct task_struct *target, int status, u64 actual),
	     TP_ARGS(handle, vaddr, size, segments, target, status, actual)
);

#endif /* _ZXMEM_TRACE_H */

/* Outside the guard: define_trace.h reads this header again. */
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE zxmem_trace
#include <trace/define_trace.h>
