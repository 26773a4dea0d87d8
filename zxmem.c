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

#include <linux/file.h>
#include <linux/highmem.h>
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
 * Bounds on what one call holds, whatever the request's size: pinned
 * target pages per mmap lock round trip (their pointers live on the
 * stack), and the bounce buffer of writes into executable mappings.
 */
#define ZXMEM_PIN_BATCH		32
#define ZXMEM_STACK_BOUNCE	64
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
	bool exec;		/* those bytes touch an executable mapping */
	struct zxmem_retries retries;	/* of faults on the caller's buffer */
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

	/* The caller's own memory needs nothing more than the relation. */
	if (!caller->same_group)
		zxmem_read_dumpability(call->target, call->mm,
				       &caller->dumpable, &caller->capable);

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
		call->exec |= !!(vma->vm_flags & VM_EXEC);
		reach = vma->vm_end;
	}
	call->len = min(reach, end) - start;
unlock:
	mmap_read_unlock(call->mm);
	return status;
}

/*
 * The caller's own buffer faulted @offset bytes in.  A uaccess fails the
 * same way for an address that is not mapped and for a page the kernel
 * could not allocate; get_user_pages_fast() on that page tells the two
 * apart (-EFAULT, -ENOMEM), and faults the page in if it can.  (So would
 * fixup_user_fault(), under the caller's mmap lock.)  A uaccess may report
 * fewer bytes done than it managed (include/linux/uaccess.h), so the page
 * after the one @offset names is asked about too.
 *
 * Return: ZX_OK if the copy may go on from @offset: the fault moved past
 * every earlier one, or this is one of ZXMEM_BUFFER_RETRIES retries since
 * it last did.  ZX_ERR_NO_MEMORY if the kernel has no page for the
 * buffer, else ZX_ERR_INVALID_ARGS.
 */
static int zxmem_buffer_fault(struct zxmem_call *call, size_t offset)
{
	unsigned long addr = (unsigned long)call->buffer + offset;
	unsigned long end = (unsigned long)call->buffer + call->len;
	/* A read writes the buffer: it must be writable, as for the uaccess. */
	unsigned int gup_flags = call->write ? 0 : FOLL_WRITE;
	struct page *page;
	int i, ret;

	for (i = 0; i < 2 && addr < end; i++) {
		ret = get_user_pages_fast(addr, 1, gup_flags, &page);
		if (ret == -ENOMEM)
			return ZX_ERR_NO_MEMORY;
		if (ret != 1)
			return ZX_ERR_INVALID_ARGS;
		put_page(page);
		addr = PAGE_ALIGN(addr + 1);
	}

	return zxmem_may_retry(&call->retries, offset) ? ZX_OK :
							 ZX_ERR_INVALID_ARGS;
}

static int zxmem_check_buffer(struct zxmem_call *call, u64 size)
{
	size_t left, done = 0;
	int status;

	if (!access_ok(call->buffer, size))
		return ZX_ERR_INVALID_ARGS;
	if (!call->write)
		return ZX_OK;
	/*
	 * A write copies straight into the target's pages, so a buffer that
	 * is bad from the start must be refused before the first byte: fault
	 * it all in now.
	 */
	while ((left = fault_in_readable(call->buffer + done,
					 call->len - done))) {
		done = call->len - left;
		status = zxmem_buffer_fault(call, done);
		if (status != ZX_OK)
			return status;
	}
	/* The copy keeps its own count. */
	call->retries = (struct zxmem_retries){ 0 };
	return ZX_OK;
}

/* Should the copy stop after this step? */
static bool zxmem_copy_interrupted(const struct zxmem_call *call)
{
	/*
	 * Stop once an exec or exit has replaced the mm that the checks
	 * passed: what follows would not be what the caller asked for.
	 */
	return fatal_signal_pending(current) ||
	       READ_ONCE(call->target->mm) != call->mm;
}

/*
 * Copy between the caller's buffer and @nr pinned pages of the target,
 * starting @offset bytes into the first page.  Returns the bytes moved;
 * sets @buffer_fault if the caller's buffer faulted.
 */
static size_t zxmem_copy_pages(struct zxmem_call *call, struct page **pages,
			       long nr, size_t offset, size_t len, size_t done,
			       bool *buffer_fault)
{
	size_t moved = 0;
	long i;

	for (i = 0; i < nr && moved < len; i++, offset = 0) {
		size_t step = min_t(size_t, PAGE_SIZE - offset, len - moved);
		void __user *user = call->buffer + done + moved;
		void *kaddr = kmap_local_page(pages[i]);
		unsigned long left;

		if (call->write) {
			/*
			 * Not copy_from_user(): it zeroes what it could not
			 * copy, and this is the target's page, not a kernel
			 * buffer.  access_ok() covered the whole buffer.
			 */
			left = __copy_from_user(kaddr + offset, user, step);
			flush_dcache_page(pages[i]);
		} else {
			left = copy_to_user(user, kaddr + offset, step);
		}
		kunmap_local(kaddr);

		moved += step - left;
		if (left) {
			*buffer_fault = true;
			break;
		}
	}
	return moved;
}

/*
 * The data path: pin a batch of the target's pages and copy straight
 * between them and the caller's buffer, one copy, no kernel buffer, no
 * mmap lock held while copying (the shape of process_vm_rw()).
 */
static size_t zxmem_copy_pinned(struct zxmem_call *call, bool *buffer_fault)
{
	unsigned int gup_flags = FOLL_FORCE | (call->write ? FOLL_WRITE : 0);
	struct page *pages[ZXMEM_PIN_BATCH];
	size_t done = 0;

	while (done < call->len) {
		unsigned long addr = call->vaddr + done;
		size_t offset = offset_in_page(addr);
		size_t want = zxmem_chunk_len(done, call->len,
					      ZXMEM_PIN_BATCH * PAGE_SIZE - offset);
		int locked = 1;
		size_t moved;
		long pinned;
		int status;

		if (mmap_read_lock_killable(call->mm))
			break;
		pinned = zxmem_pin_user_pages_remote(call->mm, addr - offset,
						     zxmem_pages_spanned(offset, want),
						     gup_flags, pages, &locked);
		if (locked)
			mmap_read_unlock(call->mm);
		if (pinned <= 0)
			break;

		moved = zxmem_copy_pages(call, pages, pinned, offset, want, done,
					 buffer_fault);
		unpin_user_pages_dirty_lock(pages, pinned, call->write);
		done += moved;
		if (zxmem_copy_interrupted(call))
			break;
		if (*buffer_fault) {
			/* A bad buffer stops the copy with its status. */
			status = zxmem_buffer_fault(call, done);
			*buffer_fault = status == ZX_ERR_INVALID_ARGS;
			if (status != ZX_OK)
				break;
		} else if (moved < want) {
			break;
		}
	}
	return done;
}

/*
 * Writes into executable mappings go through access_process_vm(): its
 * copy_to_user_page() does the instruction-cache maintenance that some
 * architectures need before a patched instruction (a breakpoint) runs.
 * Such writes are small, so they bounce through a kernel buffer: on the
 * stack up to ZXMEM_STACK_BOUNCE bytes, else at most ZXMEM_CHUNK_SIZE.
 */
static int zxmem_copy_bounced(struct zxmem_call *call, size_t *done,
			      bool *buffer_fault)
{
	unsigned int gup_flags = FOLL_FORCE | FOLL_WRITE;
	size_t bounce_size = min_t(size_t, call->len, ZXMEM_CHUNK_SIZE);
	u8 stack_bounce[ZXMEM_STACK_BOUNCE];
	void *bounce = stack_bounce;

	if (bounce_size > sizeof(stack_bounce)) {
		bounce = kmalloc(bounce_size, GFP_KERNEL);
		if (!bounce)
			return ZX_ERR_NO_MEMORY;
	}

	while (*done < call->len) {
		size_t chunk = zxmem_chunk_len(*done, call->len, bounce_size);
		unsigned long left;
		int copied, status;

		left = copy_from_user(bounce, call->buffer + *done, chunk);
		if (left) {
			status = zxmem_buffer_fault(call, *done + chunk - left);
			*buffer_fault = status == ZX_ERR_INVALID_ARGS;
			if (status != ZX_OK || zxmem_copy_interrupted(call))
				break;
			continue;
		}
		copied = access_process_vm(call->target, call->vaddr + *done,
					   bounce, chunk, gup_flags);
		if (copied <= 0)
			break;
		*done += copied;
		if (copied < chunk || zxmem_copy_interrupted(call))
			break;
	}

	if (bounce != stack_bounce)
		kfree(bounce);
	return ZX_OK;
}

static int zxmem_copy(struct zxmem_call *call, u64 *actual)
{
	bool buffer_fault = false;
	size_t done = 0;
	int status;

	if (call->write && call->exec) {
		status = zxmem_copy_bounced(call, &done, &buffer_fault);
		if (status != ZX_OK)
			return status;
	} else {
		done = zxmem_copy_pinned(call, &buffer_fault);
	}

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
