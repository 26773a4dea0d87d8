// SPDX-License-Identifier: GPL-2.0
/*
 * zxmem - Fuchsia's zx_process_write_memory() and zx_process_read_memory()
 * for Linux, on the misc device /dev/zxmem.
 *
 * A debugger names its target with a pidfd and gets a zx_status_t back:
 *
 *	int dev = open("/dev/zxmem", O_RDWR | O_CLOEXEC);
 *	int pidfd = syscall(SYS_pidfd_open, pid, 0);
 *	unsigned char int3 = 0xcc;
 *	struct zxmem_io io = {
 *		.vaddr = breakpoint_addr,
 *		.buffer = (__u64)(uintptr_t)&int3,
 *		.buffer_size = 1,
 *		.handle = pidfd,
 *	};
 *
 *	ioctl(dev, ZXMEM_IOC_WRITE_MEMORY, &io);
 *	// io.status: ZX_OK or a ZX_ERR_* value; io.actual: bytes written
 *
 * <zircon/syscalls.h> wraps this in Zircon's own signatures.  The caller
 * must be in the target's thread group or be its ptrace tracer, and writes
 * need the module parameter enable_debugging_syscalls.  The check order,
 * the ABI and the security model are in Documentation/zxmem.rst.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zxmem_compat.h"
#include "zxmem_ioctl.h"

static bool enable_debugging_syscalls;
module_param(enable_debugging_syscalls, bool, 0644);
MODULE_PARM_DESC(enable_debugging_syscalls,
		 "Allow zx_process_write_memory(), as Zircon's kernel.enable-debugging-syscalls (default: off)");

/*
 * The most one access_process_vm() call moves, and so the most kernel
 * memory one call allocates, whatever the request's size.
 */
#define ZXMEM_CHUNK_SIZE	SZ_16K

/* Everything one call holds; zxmem_release() lets go of it. */
struct zxmem_call {
	bool write;
	struct zxmem_caller caller;
	struct task_struct *target;
	struct mm_struct *mm;
	unsigned long vaddr;
	void __user *buffer;
	size_t len;		/* bytes the checks allow, <= buffer_size */
};

static int zxmem_resolve_pidfd(struct zxmem_call *call, u32 handle)
{
	struct file *file;
	struct pid *pid;

	/* _raw: an O_PATH fd is an open fd too, just not a pidfd. */
	file = fget_raw(handle);
	if (!file)
		return ZX_ERR_BAD_HANDLE;
	pid = zxmem_pidfd_pid(file);
	if (pid)
		call->target = get_pid_task(pid, PIDTYPE_PID);
	fput(file);

	if (!pid)
		return ZX_ERR_WRONG_TYPE;
	/* The pid outlives its task: the process has been reaped. */
	if (!call->target)
		return ZX_ERR_BAD_STATE;
	return ZX_OK;
}

static int zxmem_check_relation(struct zxmem_call *call, struct file *dev)
{
	struct zxmem_caller *caller = &call->caller;

	caller->fd_writable = dev->f_mode & FMODE_WRITE;
	caller->same_group = same_thread_group(call->target, current);
	rcu_read_lock();
	caller->tracer = ptrace_parent(call->target) == current;
	rcu_read_unlock();

	return zxmem_decide_relation(caller, call->write);
}

static int zxmem_take_mm(struct zxmem_call *call)
{
	/* An exiting task is about to drop its mm; don't race exit_mm(). */
	if (call->target->flags & PF_EXITING)
		return ZX_ERR_BAD_STATE;
	call->mm = get_task_mm(call->target);
	if (!call->mm)
		return ZX_ERR_BAD_STATE;
	return ZX_OK;
}

static int zxmem_check_mm_access(struct zxmem_call *call)
{
	struct zxmem_caller *caller = &call->caller;

	caller->dumpable = get_dumpable(call->mm) == SUID_DUMP_USER;
	/* Ask for the capability only when it decides: ns_capable() audits. */
	if (!caller->same_group && !caller->dumpable)
		caller->capable = ns_capable(call->mm->user_ns, CAP_SYS_PTRACE);

	return zxmem_decide_mm_access(caller);
}

static bool zxmem_vma_is_vdso(struct vm_area_struct *vma)
{
	const char *name = NULL;

	/* Special mappings name themselves: "[vdso]", "[vvar]". */
	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	return zxmem_is_vdso_name(name);
}

/*
 * One walk over the VMAs the request touches, under the mmap lock:
 * refuse a write that touches the vDSO, find the mapping of the first byte
 * and how far the copy can run through adjacent usable mappings.
 */
static int zxmem_check_region(struct zxmem_call *call, u64 size)
{
	unsigned long start = call->vaddr;
	unsigned long end = zxmem_range_end(start, size);
	unsigned long reach = start;
	struct vm_area_struct *vma;
	bool stopped = false;
	int status = ZX_ERR_NO_MEMORY;	/* until the first byte is found */

	mmap_read_lock(call->mm);
	for (vma = find_vma(call->mm, start);
	     vma && zxmem_overlaps(start, end, vma->vm_start, vma->vm_end);
	     vma = find_vma(call->mm, vma->vm_end)) {
		int vma_status;

		if (call->write && zxmem_vma_is_vdso(vma)) {
			status = ZX_ERR_ACCESS_DENIED;
			goto unlock;
		}
		/* Past a hole or a refused mapping: only the vDSO matters. */
		if (stopped || vma->vm_start > reach) {
			stopped = true;
			continue;
		}
		vma_status = zxmem_vma_status(vma->vm_flags, call->write);
		if (reach == start)
			status = vma_status;
		if (vma_status != ZX_OK) {
			stopped = true;
			continue;
		}
		reach = vma->vm_end;
	}
	call->len = min(reach, end) - start;
unlock:
	mmap_read_unlock(call->mm);
	return status;
}

static int zxmem_check_buffer(struct zxmem_call *call, u64 size)
{
	if (!access_ok(call->buffer, size))
		return ZX_ERR_INVALID_ARGS;
	/*
	 * A write of several chunks must not stop half-way on a buffer that
	 * was bad from the start: fault it all in before the first chunk.
	 * One chunk needs no check, its copy_from_user() comes first.
	 */
	if (call->write && call->len > ZXMEM_CHUNK_SIZE &&
	    fault_in_readable(call->buffer, call->len))
		return ZX_ERR_INVALID_ARGS;
	return ZX_OK;
}

/* Should the copy stop after this chunk? */
static bool zxmem_copy_interrupted(const struct zxmem_call *call)
{
	/*
	 * access_process_vm() looks the mm up again for every chunk: stop
	 * once an exec or exit has replaced the mm that the checks passed.
	 */
	return fatal_signal_pending(current) ||
	       READ_ONCE(call->target->mm) != call->mm;
}

static int zxmem_copy(struct zxmem_call *call, u64 *actual)
{
	unsigned int gup_flags = FOLL_FORCE | (call->write ? FOLL_WRITE : 0);
	size_t bounce_size = min_t(size_t, call->len, ZXMEM_CHUNK_SIZE);
	bool buffer_fault = false;
	size_t done = 0;
	void *bounce;
	int status;

	bounce = kmalloc(bounce_size, GFP_KERNEL);
	if (!bounce)
		return ZX_ERR_NO_MEMORY;

	while (done < call->len) {
		size_t chunk = zxmem_chunk_len(done, call->len, bounce_size);
		int copied;

		if (call->write &&
		    copy_from_user(bounce, call->buffer + done, chunk)) {
			buffer_fault = true;
			break;
		}
		copied = access_process_vm(call->target, call->vaddr + done,
					   bounce, chunk, gup_flags);
		if (copied <= 0)
			break;
		if (!call->write &&
		    copy_to_user(call->buffer + done, bounce, copied)) {
			buffer_fault = true;
			break;
		}
		done += copied;
		if (copied < chunk || zxmem_copy_interrupted(call))
			break;
	}
	kfree(bounce);

	status = zxmem_copy_status(done, buffer_fault);
	if (status == ZX_OK)
		*actual = done;
	return status;
}

static void zxmem_release(struct zxmem_call *call)
{
	if (call->mm)
		mmput(call->mm);
	if (call->target)
		put_task_struct(call->target);
}

/*
 * The whole call, one step per function, in the order of the table in
 * Documentation/zxmem.rst.
 */
static int zxmem_transfer(struct file *dev, const struct zxmem_io *io,
			  bool write, u64 *actual)
{
	struct zxmem_call call = {
		.write = write,
		.vaddr = io->vaddr,
		.buffer = u64_to_user_ptr(io->buffer),
	};
	int status;

	if (write && !READ_ONCE(enable_debugging_syscalls))
		return ZX_ERR_NOT_SUPPORTED;
	status = zxmem_check_args(io);
	if (status != ZX_OK)
		return status;

	status = zxmem_resolve_pidfd(&call, io->handle);
	if (status == ZX_OK)
		status = zxmem_check_relation(&call, dev);
	if (status == ZX_OK)
		status = zxmem_take_mm(&call);
	if (status == ZX_OK)
		status = zxmem_check_mm_access(&call);
	if (status == ZX_OK)
		status = zxmem_check_region(&call, io->buffer_size);
	if (status == ZX_OK)
		status = zxmem_check_buffer(&call, io->buffer_size);
	if (status == ZX_OK)
		status = zxmem_copy(&call, actual);

	zxmem_release(&call);
	return status;
}

static long zxmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zxmem_io __user *uio = (struct zxmem_io __user *)arg;
	struct zxmem_io io;
	u64 actual = 0;
	bool write;
	int status;

	switch (cmd) {
	case ZXMEM_IOC_WRITE_MEMORY:
		write = true;
		break;
	case ZXMEM_IOC_READ_MEMORY:
		write = false;
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&io, uio, sizeof(io)))
		return -EFAULT;

	status = zxmem_transfer(file, &io, write, &actual);

	/* Only these two fields go back: no other byte is ever written. */
	if (put_user(status, &uio->status))
		return -EFAULT;
	if (status == ZX_OK && put_user(actual, &uio->actual))
		return -EFAULT;
	return 0;
}

static const struct file_operations zxmem_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = zxmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice zxmem_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "zxmem",
	.fops = &zxmem_fops,
	.mode = 0600,
};
module_misc_device(zxmem_misc);

MODULE_DESCRIPTION("Zircon's zx_process_write_memory() and zx_process_read_memory() on /dev/zxmem");
MODULE_LICENSE("GPL");
