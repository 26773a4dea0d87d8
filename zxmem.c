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
 * must be in the target's thread group or trace one of its threads, and
 * writes need the module parameter enable_debugging_syscalls.  The check order,
 * the ABI and the security model are in Documentation/zxmem.rst.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/pidfd.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "zxmem_compat.h"
#include "zxmem_ioctl.h"

#define CREATE_TRACE_POINTS
#include "zxmem_trace.h"

static bool enable_debugging_syscalls;
module_param(enable_debugging_syscalls, bool, 0644);
MODULE_PARM_DESC(enable_debugging_syscalls,
		 "Allow zx_process_write_memory(), as Zircon's kernel.enable-debugging-syscalls (default: off)");

/*
 * force_override: may a write go into a mapping without write permission
 * (the FOLL_FORCE copy-on-write a breakpoint needs)?  The values and their
 * meaning are those of the kernel's proc_mem.force_override for
 * /proc/PID/mem; reads are never affected.
 */
static int force_override = ZXMEM_FORCE_ALWAYS;
static const char *const zxmem_force_names[] = {
	[ZXMEM_FORCE_ALWAYS] = "always",
	[ZXMEM_FORCE_PTRACE] = "ptrace",
	[ZXMEM_FORCE_NEVER] = "never",
};

static int zxmem_force_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(zxmem_force_names, val);

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(*(int *)kp->arg, i);
	return 0;
}

static int zxmem_force_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n",
			  zxmem_force_names[READ_ONCE(*(int *)kp->arg)]);
}

static const struct kernel_param_ops zxmem_force_ops = {
	.set = zxmem_force_set,
	.get = zxmem_force_get,
};
module_param_cb(force_override, &zxmem_force_ops, &force_override, 0644);
MODULE_PARM_DESC(force_override,
		 "Writes into mappings without write permission: always (default), ptrace (only by a tracer) or never, as proc_mem.force_override");

/*
 * What one call holds, whatever the request's size: pinned target pages
 * per mmap lock round trip, their pointers on the stack.  At most one bit
 * per page in an unsigned long says which of them are executable.
 */
#define ZXMEM_PIN_BATCH		32

/*
 * Links zxmem_confirm_tracer() has confirmed, kept per open file so that a
 * debugger pays its grace period once per tracee, not once per call: who
 * traces which thread, and the cred the link recorded.  All three are
 * pinned, so a pointer seen later cannot be a new object at the same
 * address.  A few suffice: a debugger's tracees are found by their first
 * traced thread, and an entry falls out after ZXMEM_LINKS newer ones.
 */
#define ZXMEM_LINKS		8

struct zxmem_link {
	struct task_struct *tracer;
	struct task_struct *thread;
	const struct cred *cred;
};

struct zxmem_file {
	spinlock_t lock;	/* writers of the links */
	seqcount_spinlock_t seq;	/* lets readers go without the lock */
	unsigned int next;	/* the link to replace next */
	struct zxmem_link links[ZXMEM_LINKS];
};

/*
 * One range of a call: the single call's, or one segment of a batched one.
 * It copies through @slots entries of call->pages from @pages on.  Either
 * all its pages are in the hold's pool (@pooled): pinned for it
 * (zxmem_prepin(), or zxmem_vec_pin() at the end of a batched call's
 * hold) or, for a segment whose pages an earlier range of the same hold
 * has, those very entries (zxmem_vec_walk()).  The pool, not the range,
 * holds those pins, and lets go of them after the hold's last copy
 * (zxmem_pool_release()), so every batch of the range's copy, the retries
 * after a fault on the caller's buffer included, uses these pages and
 * pins nothing.  Or the range takes the general path, which pins and
 * unpins batch by batch into the whole array, and runs only while the
 * pool is empty.  zxmem_seg_start() sets each member by name: a new one
 * needs its line there.
 */
struct zxmem_range {
	unsigned long vaddr;
	void __user *buffer;
	void __user *old;	/* an exchange's: where replaced bytes go */
	size_t len;		/* bytes the checks allow, <= the size */
	long pin_error;		/* the first batch's GUP error, if any */
	bool buffer_ready;	/* one batch's request, its buffer faulted in */
	bool forced_hugetlb;	/* the first mapping: a forced hugetlb write */
	unsigned long pooled;	/* its pages in the pool: its whole span */
	unsigned long pooled_exec;	/* which of them are executable */
	bool reserved;		/* its own entries, pinned at the hold's end */
	struct page **pages;	/* its entries of call->pages */
	unsigned long slots;	/* how many */
	struct zxmem_retries retries;	/* of faults on the caller's buffer */
};

/* Everything one call holds; zxmem_release() lets go of it. */
struct zxmem_call {
	struct zxmem_file *file;
	bool write;
	bool exchange;		/* a batched write with ZXMEM_VEC_EXCHANGE */
	bool may_force;		/* a write may go where VM_WRITE is not */
	struct zxmem_caller caller;
	struct task_struct *target;	/* the thread group's leader */
	struct mm_struct *mm;
	unsigned long pool_used;	/* pages[] the hold's walks took */
	unsigned long pool_dirty;	/* which of them a write copied into */
	struct page *old_page;	/* an exchange's: the old buffer's page */
	unsigned long old_base;	/* its address in the caller's memory */
	/*
	 * One batch of the copy.  Last, and not zeroed by
	 * zxmem_call_init(): an entry is read only once a pin has stored
	 * it (pin_user_pages_remote() fills the entries it counts, and
	 * every reader stays below that count or below pool_used).
	 */
	struct page *pages[ZXMEM_PIN_BATCH];
};

/*
 * Start a call: every field zero except pages[], which is left as it is.
 * Zeroing its 256 bytes on every call would cost a string store that
 * QEMU's TCG runs a word per step, for entries no one reads before a pin
 * writes them.
 */
static void zxmem_call_init(struct zxmem_call *call, struct file *dev,
			    bool write)
{
	memset(call, 0, offsetof(struct zxmem_call, pages));
	call->file = dev->private_data;
	call->write = write;
}

static int zxmem_resolve_pidfd(struct zxmem_call *call, u32 handle)
{
	struct file *file;
	struct pid *pid;
	bool thread;

	/* _raw: an O_PATH fd is an open fd too, just not a pidfd. */
	file = fget_raw(handle);
	if (!file)
		return ZX_ERR_BAD_HANDLE;
	pid = zxmem_pidfd_pid(file);
	/*
	 * A PIDFD_THREAD pidfd names one thread, not a process: Zircon
	 * answers a thread handle with ZX_ERR_WRONG_TYPE too.
	 */
	thread = pid && zxmem_pidfd_is_thread(file);
	if (pid && !thread) {
		call->target = get_pid_task(pid, PIDTYPE_TGID);
		/*
		 * A pidfs file reopened through /proc/self/fd loses the
		 * PIDFD_THREAD flag; its pid still names a live thread that
		 * leads no thread group.
		 */
		rcu_read_lock();
		thread = !call->target && pid_task(pid, PIDTYPE_PID);
		rcu_read_unlock();
	}
	fput(file);

	if (!pid || thread)
		return ZX_ERR_WRONG_TYPE;
	/* The pid outlives its process: every thread has been reaped. */
	if (!call->target)
		return ZX_ERR_BAD_STATE;
	return ZX_OK;
}

/*
 * Does current trace @thread?  Read without tasklist_lock, which modules
 * cannot take, so the answer has three values.  The ptrace link is written
 * only under write_lock_irq(&tasklist_lock), in kernel/ptrace.c:
 *
 *   ptrace_attach():   ptrace = flags; parent = tracer; ptracer_cred = cred
 *   __ptrace_unlink(): parent = real_parent; ptracer_cred = NULL; ptrace = 0
 *
 * Inside either section a lockless reader can see ptrace set while parent
 * is still (or already) real_parent, so "ptrace_parent() == current" is
 * also true for the real parent of a task that another tracer is attaching
 * or detaching.  That is why ptrace_parent() alone is never trusted here.
 *
 * ZXMEM_TRACED_YES needs, besides the link, ptracer_cred == current_cred()
 * and a real parent other than current.  The cred: an attach records the
 * attaching thread's cred object, and only threads of current's thread
 * group hold current's (a fork allocates new creds; only CLONE_THREAD
 * shares them).  But PTRACE_TRACEME records the tracee's own cred, and a
 * child forked under ptrace inherits its forker's link, cred included
 * (ptrace_init_task()): a tracer R of current's process can trace current's
 * child with current's cred recorded.  That child's real parent is
 * current, and every false window shows parent == real_parent, so a real
 * parent other than current rules them all out.  The reads are ordered as
 * the stores are undone (smp_rmb() between), so a value seen is no older
 * than the ptrace value seen first: a stale cred of an episode that has
 * ended cannot be combined with the ptrace of a newer one, and real_parent
 * only changes when its thread exits, which current is not doing.  So YES
 * means the thread is traced by current, or by another thread of current's
 * process in the middle of its own attach or detach: a right that process
 * holds.
 *
 * ZXMEM_TRACED_MAYBE (the link, but another cred, as after PTRACE_TRACEME
 * or a change of the tracer's creds, or current is the real parent) is
 * settled by zxmem_confirm_tracer(), and is YES from then on while the
 * link shows the cred it recorded (zxmem_link_known()).
 */
enum zxmem_traced { ZXMEM_TRACED_NO, ZXMEM_TRACED_MAYBE, ZXMEM_TRACED_YES };

static void zxmem_link_forget(struct zxmem_link *link)
{
	if (link->cred)
		put_cred(link->cred);
	if (link->thread)
		put_task_struct(link->thread);
	if (link->tracer)
		put_task_struct(link->tracer);
}

/*
 * Has current's link to @thread, recording @cred, been confirmed?  Why a
 * confirmed link stays true while @thread->ptracer_cred shows @cred: the
 * cred is pinned, so only a link that recorded that very object can show
 * it again, and such a link is current's process's.  A link records its
 * tracer's cred (held only by the tracer's thread group: current's, for
 * the link confirmed), or at PTRACE_TRACEME the tracee's own, which links
 * the tracee to its real parent (a window of which shows parent == current
 * only if that parent is current), or at fork the forker's tracer's, for a
 * new thread, never for @thread again.  An attach by a holder of the
 * tracee's cred would be an attach from within @thread's own process,
 * which ptrace_attach() refuses.
 */
static bool zxmem_link_known(struct zxmem_file *file,
			     struct task_struct *thread,
			     const struct cred *cred)
{
	unsigned int seq;
	bool known;
	int i;

	/* Pointers compared, never followed: a torn read only retries. */
	do {
		seq = read_seqcount_begin(&file->seq);
		known = false;
		for (i = 0; i < ZXMEM_LINKS && !known; i++)
			known = file->links[i].tracer == current &&
				file->links[i].thread == thread &&
				file->links[i].cred == cred;
	} while (read_seqcount_retry(&file->seq, seq));
	return known;
}

/* Remember current's confirmed link to @thread, if it still records a cred. */
static void zxmem_link_remember(struct zxmem_file *file,
				struct task_struct *thread)
{
	struct zxmem_link link = { }, old;
	const struct cred *cred;

	rcu_read_lock();
	cred = get_cred_rcu(rcu_dereference(thread->ptracer_cred));
	rcu_read_unlock();
	if (!cred)
		return;
	link.tracer = get_task_struct(current);
	link.thread = get_task_struct(thread);
	link.cred = cred;

	spin_lock(&file->lock);
	write_seqcount_begin(&file->seq);
	old = file->links[file->next];
	file->links[file->next] = link;
	file->next = (file->next + 1) % ZXMEM_LINKS;
	write_seqcount_end(&file->seq);
	spin_unlock(&file->lock);
	zxmem_link_forget(&old);
}

static enum zxmem_traced zxmem_thread_traced(struct zxmem_file *file,
					     struct task_struct *thread)
{
	const struct cred *cred;

	if (!READ_ONCE(thread->ptrace))
		return ZXMEM_TRACED_NO;
	/* The parent, no older than that ptrace value; pairs with the lock. */
	smp_rmb();
	if (rcu_access_pointer(thread->parent) != current)
		return ZXMEM_TRACED_NO;
	/* The cred, no older than that parent. */
	smp_rmb();
	cred = rcu_access_pointer(thread->ptracer_cred);
	/* The real parent, no older than that cred. */
	smp_rmb();
	if (cred == current_cred() &&
	    rcu_access_pointer(thread->real_parent) != current)
		return ZXMEM_TRACED_YES;
	if (zxmem_link_known(file, thread, cred))
		return ZXMEM_TRACED_YES;
	return ZXMEM_TRACED_MAYBE;
}

/*
 * Settle ZXMEM_TRACED_MAYBE for @thread.  Both windows described above lie
 * inside a write_lock_irq(&tasklist_lock) section, which runs with
 * interrupts off (and, on PREEMPT_RT, inside rcu_read_lock()), so it is an
 * RCU read-side critical section: synchronize_rcu() returns only after
 * every such section that had begun has ended, with its stores visible.
 *
 * So: hold cred_guard_mutex, which ptrace_attach() holds across its
 * tasklist_lock section (6.1 to 7.x), so no attach to any thread of the
 * process can begin; see the link; wait for a grace period; see it again.
 * A second sighting in an attach window is ruled out by the mutex.  One in
 * a detach window would need the thread traced, by someone other than
 * current, when the grace period began; then the first sighting was
 * itself inside a detach window (outside one, parent is that tracer), and
 * that detach ended before the grace period did, leaving the thread
 * untraced; with no attach possible it can only have become traced again
 * by PTRACE_TRACEME, which links it to its real parent, current.  Once
 * confirmed, only current (by detaching or exiting) or the thread's death
 * ends the link, so it holds for the rest of the call.
 *
 * The mutex is not waited for while the process execs: exec holds it
 * from prepare_bprm_creds() on, and de_thread() may wait for the caller,
 * as the tracer, to reap a traced thread that the exec killed, so blocking
 * on it could hang both.  The lock is tried, and while it is held the
 * caller polls, once a jiffy, until it gets it, until de_thread() has begun
 * (zxmem_exec_in_progress(): ZX_ERR_BAD_STATE, the image is being
 * replaced) or until a fatal signal.
 *
 * Return: ZX_OK if current traces @thread, ZX_ERR_ACCESS_DENIED if not,
 * ZX_ERR_BAD_STATE if the process is in the middle of an exec.
 */
static int zxmem_confirm_tracer(struct zxmem_file *file,
				struct task_struct *thread)
{
	struct signal_struct *signal = thread->signal;
	bool traced = false;

	while (!mutex_trylock(&signal->cred_guard_mutex)) {
		if (zxmem_exec_in_progress(signal))
			return ZX_ERR_BAD_STATE;
		if (fatal_signal_pending(current))
			return ZX_ERR_ACCESS_DENIED;
		schedule_timeout_killable(1);
	}
	if (zxmem_thread_traced(file, thread) != ZXMEM_TRACED_NO) {
		synchronize_rcu();
		traced = zxmem_thread_traced(file, thread) != ZXMEM_TRACED_NO;
	}
	if (traced)
		zxmem_link_remember(file, thread);
	mutex_unlock(&signal->cred_guard_mutex);
	return traced ? ZX_OK : ZX_ERR_ACCESS_DENIED;
}

/*
 * The tracer of any live thread of the target's thread group holds the
 * right over the process: PTRACE_POKEDATA through that thread reaches the
 * same memory.  A thread that is exiting or a zombie gives no right, as
 * ptrace itself gives none through it; if it is the caller's tracee and
 * no thread of the process is alive any more, the process is dead
 * (ZX_ERR_BAD_STATE, what zxmem_take_mm() would find), not forbidden.
 * Threads appear on the list only once their ptrace link is made
 * (copy_process() publishes them with list_add_tail_rcu() after
 * ptrace_init_task()), so a new thread is never seen half linked.  Only
 * the first thread that needs confirming is confirmed: a second candidate
 * would need another tracer to be attaching or detaching a thread of the
 * same process at that moment.
 *
 * Return: ZX_OK, ZX_ERR_ACCESS_DENIED, or ZX_ERR_BAD_STATE from
 * zxmem_confirm_tracer().
 */
static int zxmem_check_tracer(struct zxmem_file *file,
			      struct task_struct *target)
{
	struct task_struct *thread, *maybe = NULL;
	enum zxmem_traced traced = ZXMEM_TRACED_NO;
	int status = ZX_ERR_ACCESS_DENIED;
	bool alive = false, dead_tracee = false;

	rcu_read_lock();
	for_each_thread(target, thread) {
		if (READ_ONCE(thread->exit_state) ||
		    (READ_ONCE(thread->flags) & PF_EXITING)) {
			dead_tracee |= zxmem_thread_traced(file, thread) !=
				       ZXMEM_TRACED_NO;
			continue;
		}
		alive = true;
		traced = zxmem_thread_traced(file, thread);
		if (traced == ZXMEM_TRACED_YES)
			break;
		if (traced == ZXMEM_TRACED_MAYBE && !maybe)
			maybe = get_task_struct(thread);
	}
	rcu_read_unlock();

	if (traced == ZXMEM_TRACED_YES)
		status = ZX_OK;
	else if (maybe)
		status = zxmem_confirm_tracer(file, maybe);
	else if (dead_tracee && !alive)
		status = ZX_ERR_BAD_STATE;
	if (maybe)
		put_task_struct(maybe);
	return status;
}

static int zxmem_check_relation(struct zxmem_call *call, struct file *dev)
{
	struct zxmem_caller *caller = &call->caller;

	int status = ZX_ERR_ACCESS_DENIED;

	caller->fd_writable = dev->f_mode & FMODE_WRITE;
	/* A task never leaves its thread group, so this cannot go stale. */
	caller->same_group = same_thread_group(call->target, current);
	if (!caller->same_group)
		status = zxmem_check_tracer(call->file, call->target);
	caller->tracer = status == ZX_OK;
	/* Mid-exec: the image the right would be judged on is going away. */
	if (status == ZX_ERR_BAD_STATE && !(call->write && !caller->fd_writable))
		return ZX_ERR_BAD_STATE;

	return zxmem_decide_relation(caller, call->write);
}

/*
 * The process's mm, from any thread that still has it: a leader that has
 * exited stays a zombie while its threads run.  exec_update_lock, held
 * for reading as mm_access() holds it, keeps an exec from swapping the mm
 * and the dumpability it is judged by (the mm's flags up to 6.x, the
 * task's exec_state on 7.x) between the two reads below: exec_mmap()
 * changes both with it held for writing.  The mm taken is the one every
 * byte of the copy goes to; an exec after this replaces the process's mm
 * but not this one.
 */
static int zxmem_take_mm(struct zxmem_call *call)
{
	struct zxmem_caller *caller = &call->caller;
	struct task_struct *thread;
	int status = ZX_ERR_BAD_STATE;

	if (down_read_killable(&call->target->signal->exec_update_lock))
		return ZX_ERR_BAD_STATE;

	rcu_read_lock();
	for_each_thread(call->target, thread) {
		/* A thread that is exiting is about to drop its mm. */
		if (READ_ONCE(thread->flags) & PF_EXITING)
			continue;
		call->mm = get_task_mm(thread);
		if (!call->mm)
			continue;
		/*
		 * The caller's own memory needs nothing more.  Read under RCU,
		 * while @thread is sure to exist; the capability check does not
		 * sleep (the kernel's ptracer_capable() makes it under RCU too).
		 */
		if (!caller->same_group)
			zxmem_read_dumpability(thread, call->mm,
					       &caller->dumpable,
					       &caller->capable);
		status = ZX_OK;
		break;
	}
	rcu_read_unlock();
	up_read(&call->target->signal->exec_update_lock);
	return status;
}

static int zxmem_check_mm_access(struct zxmem_call *call)
{
	return zxmem_decide_mm_access(&call->caller);
}

/* May this write copy-on-write where the mapping has no VM_WRITE? */
static void zxmem_decide_force(struct zxmem_call *call)
{
	call->may_force = zxmem_force_allowed(READ_ONCE(force_override),
					      call->caller.same_group);
}

static bool zxmem_vma_is_vdso(struct vm_area_struct *vma)
{
	const char *name = NULL;

	/* Special mappings name themselves: "[vdso]", "[vvar]". */
	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	return zxmem_is_vdso_name(name);
}

/* What zxmem_vma_status() says of a mapping for this call. */
static int zxmem_call_vma_status(const struct zxmem_call *call,
				 struct vm_area_struct *vma)
{
	vm_flags_t vm_flags = zxmem_vma_flags(vma);
	int status = zxmem_vma_status(vm_flags, call->write, call->may_force);

	/* An exchange reads the bytes it replaces: a read's rule, too. */
	if (status == ZX_OK && call->exchange)
		status = zxmem_vma_status(vm_flags, false, call->may_force);
	return status;
}

/* Pin @nr pages from @start into @pages, mmap lock held: all, or none. */
static bool zxmem_pin_whole(struct zxmem_call *call, unsigned long start,
			    unsigned long nr, struct page **pages)
{
	unsigned int gup_flags = zxmem_gup_flags(call->write, call->may_force);
	long pinned;

	/* No @locked: the lock stays held, and so do the VMAs judged. */
	pinned = zxmem_pin_user_pages_remote(call->mm, start, nr, gup_flags,
					     pages, NULL);
	if (pinned == nr)
		return true;
	if (pinned > 0)
		unpin_user_pages(pages, pinned);
	return false;
}

/*
 * Pin a single call's range, its one batch, into the pool, under the
 * lock hold of its walk (zxmem_check_region()).
 */
static void zxmem_prepin(struct zxmem_call *call, struct zxmem_range *r,
			 unsigned long exec)
{
	unsigned long nr = zxmem_pages_spanned(offset_in_page(r->vaddr),
					       r->len);
	struct page **pages = call->pages + call->pool_used;

	/*
	 * All of them, or the range takes the general path: its entries are
	 * its whole span, so no batch of its copy needs a page outside them.
	 */
	if (zxmem_pin_whole(call, r->vaddr & PAGE_MASK, nr, pages)) {
		r->pages = pages;
		r->slots = nr;
		r->pooled = nr;
		r->pooled_exec = exec;
		call->pool_used += nr;
	}
}

/*
 * Let go of the hold's pins, once no range copies through them any more:
 * dirty the pages of each batch a write copied through (as the general
 * path dirties each batch it pinned), not those no copy reached.
 */
static void zxmem_pool_release(struct zxmem_call *call)
{
	unsigned long i, n;

	for (i = 0; i < call->pool_used; i += n) {
		bool dirty = call->pool_dirty & BIT(i);

		for (n = 1; i + n < call->pool_used &&
		     !(call->pool_dirty & BIT(i + n)) == !dirty; n++)
			;
		unpin_user_pages_dirty_lock(call->pages + i, n, dirty);
	}
	call->pool_used = 0;
	call->pool_dirty = 0;
}

/* The bits of call->pool_dirty for @nr entries of the pool from @pages. */
static unsigned long zxmem_pool_bits(struct zxmem_call *call,
				     struct page **pages, long nr)
{
	return GENMASK(nr - 1, 0) << (pages - call->pages);
}

/*
 * Fault in an exchange's @old buffer for writing, as get_user_pages_fast()
 * does it: without storing to it (fault_in_writeable() stores zeroes), so
 * a call refused later leaves it as it was.
 *
 * Return: ZX_OK, ZX_ERR_NO_MEMORY if the kernel has no page for it, else
 * ZX_ERR_INVALID_ARGS.
 */
static int zxmem_fault_in_old(struct zxmem_range *r, size_t from, size_t len)
{
	unsigned long addr = (unsigned long)r->old + from;
	unsigned long end = addr + len;
	struct page *page;
	int ret;

	for (addr &= PAGE_MASK; addr < end; addr += PAGE_SIZE) {
		ret = get_user_pages_fast(addr, 1, FOLL_WRITE, &page);
		if (ret == -ENOMEM)
			return ZX_ERR_NO_MEMORY;
		if (ret != 1)
			return ZX_ERR_INVALID_ARGS;
		put_page(page);
	}
	return ZX_OK;
}

/*
 * Small requests, one batch: is the caller's buffer usable as it stands
 * (accessible; for a write, readable now; for an exchange, its old buffer
 * writable now)?  Then the hold that walks its region may pin it and
 * zxmem_check_buffer() has nothing left to find.  The answer changes
 * nothing, in the target or in the status: a buffer that is not ready
 * takes the general path, which judges it after the region, as the table
 * orders it.
 */
static void zxmem_ready_buffer(struct zxmem_call *call, struct zxmem_range *r,
			       u64 size)
{
	r->buffer_ready = false;
	if (zxmem_pages_spanned(offset_in_page(r->vaddr), size) >
	    ZXMEM_PIN_BATCH)
		return;
	if (!access_ok(r->buffer, size))
		return;
	if (call->write && zxmem_fault_in_readable(r->buffer, size))
		return;
	/*
	 * An old buffer of one page is pinned before its first byte is
	 * exchanged (zxmem_exchange_step()); a longer one is faulted in whole
	 * first, so a bad page of it refuses the range before any byte.
	 */
	if (call->exchange) {
		if (!access_ok(r->old, size))
			return;
		if (zxmem_pages_spanned(offset_in_page((unsigned long)r->old),
					size) > 1 &&
		    zxmem_fault_in_old(r, 0, size))
			return;
	}
	r->buffer_ready = true;
}

/*
 * One walk over the VMAs a range touches, under the mmap lock: refuse a
 * write that touches the vDSO, find the mapping of the first byte and how
 * far the copy can run through adjacent usable mappings (r->len).  This
 * decides the status; each batch of the copy decides again, on the VMAs
 * of the pages it pins (zxmem_batch_reach()).  For a range whose buffer
 * is ready, @exec_bits gets which of its pages are executable: the
 * caller may pin it under this same hold (zxmem_check_region(),
 * zxmem_vec_walk()), and the walk is then the batch's.  @hint, if set,
 * is the mapping of the first byte of the hold's last range walked, or
 * NULL: the same lock hold, so the mapping still exists, and if it holds
 * this range's first byte it is the one find_vma() would find (mappings
 * do not overlap).
 */
static int zxmem_walk_region(struct zxmem_call *call, struct zxmem_range *r,
			     u64 size, struct vm_area_struct **hint,
			     unsigned long *exec_bits)
{
	unsigned long start = r->vaddr;
	unsigned long end = zxmem_range_end(start, size);
	unsigned long reach = start, exec = 0;
	struct vm_area_struct *vma;
	bool stopped = false;
	int status = ZX_ERR_NO_MEMORY;	/* until the first byte is found */

	vma = hint && *hint && (*hint)->vm_start <= start &&
	      start < (*hint)->vm_end ? *hint : find_vma(call->mm, start);
	if (hint)
		*hint = vma && vma->vm_start <= start ? vma : NULL;
	for (; vma && zxmem_overlaps(start, end, vma->vm_start, vma->vm_end);
	     vma = find_vma(call->mm, vma->vm_end)) {
		int vma_status;

		if (call->write && zxmem_vma_is_vdso(vma))
			return ZX_ERR_ACCESS_DENIED;
		/* Past a hole or a refused mapping: only the vDSO matters. */
		if (stopped || vma->vm_start > reach) {
			stopped = true;
			continue;
		}
		vma_status = zxmem_call_vma_status(call, vma);
		if (reach == start) {
			status = vma_status;
			r->forced_hugetlb = call->write &&
				(vma->vm_flags & (VM_HUGETLB | VM_WRITE)) ==
				VM_HUGETLB;
		}
		if (vma_status != ZX_OK) {
			stopped = true;
			continue;
		}
		if (r->buffer_ready && (vma->vm_flags & VM_EXEC))
			exec |= zxmem_page_bits(start & PAGE_MASK,
						max(vma->vm_start, start),
						min(vma->vm_end, end));
		reach = vma->vm_end;
		/* This mapping covers the rest: no vDSO can lie beyond. */
		if (reach >= end)
			break;
	}
	r->len = min(reach, end) - start;
	*exec_bits = exec;
	return status;
}

static int zxmem_check_region(struct zxmem_call *call, struct zxmem_range *r,
			      u64 size)
{
	unsigned long exec;
	int status;

	if (mmap_read_lock_killable(call->mm))
		return ZX_ERR_BAD_STATE;
	status = zxmem_walk_region(call, r, size, NULL, &exec);
	/* A range of one batch whose buffer is ready: pinned in this hold. */
	if (status == ZX_OK && r->buffer_ready)
		zxmem_prepin(call, r, exec);
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
 * after the one @offset names is asked about too.  An exchange has two
 * buffers, and either may have faulted: both are asked about.
 *
 * Return: ZX_OK if the copy may go on from @offset: the fault moved past
 * every earlier one, or this is one of ZXMEM_BUFFER_RETRIES retries since
 * it last did.  ZX_ERR_NO_MEMORY if the kernel has no page for the
 * buffer, else ZX_ERR_INVALID_ARGS.
 */
static int zxmem_buffer_fault(struct zxmem_call *call, struct zxmem_range *r,
			      size_t offset)
{
	unsigned long addr = (unsigned long)r->buffer + offset;
	unsigned long end = (unsigned long)r->buffer + r->len;
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
	/* Where the copy stopped, as for the buffer: one or two pages. */
	if (call->exchange && offset < r->len) {
		size_t near = min_t(size_t, r->len - offset, PAGE_SIZE + 1);

		ret = zxmem_fault_in_old(r, offset, near);
		if (ret != ZX_OK)
			return ret;
	}

	return zxmem_may_retry(&r->retries, offset) ? ZX_OK :
						      ZX_ERR_INVALID_ARGS;
}

static int zxmem_check_buffer(struct zxmem_call *call, struct zxmem_range *r,
			      u64 size)
{
	size_t left, done = 0;
	int status;

	if (!access_ok(r->buffer, size))
		return ZX_ERR_INVALID_ARGS;
	if (!call->write)
		return ZX_OK;
	/*
	 * A write copies straight into the target's pages, so a buffer that
	 * is bad from the start must be refused before the first byte: fault
	 * it all in now.
	 */
	while ((left = zxmem_fault_in_readable(r->buffer + done,
					       r->len - done))) {
		done = r->len - left;
		status = zxmem_buffer_fault(call, r, done);
		if (status != ZX_OK)
			return status;
	}
	/* An exchange's old bytes must have somewhere to go, as well. */
	if (call->exchange) {
		if (!access_ok(r->old, size))
			return ZX_ERR_INVALID_ARGS;
		status = zxmem_fault_in_old(r, 0, r->len);
		if (status != ZX_OK)
			return status;
	}
	/* The copy keeps its own count. */
	r->retries = (struct zxmem_retries){ 0 };
	return ZX_OK;
}

/* Should the copy stop after this step? */
static bool zxmem_copy_interrupted(const struct zxmem_call *call)
{
	/*
	 * Stop once every thread has left the mm that the checks passed (by
	 * an exec or by exiting; each thread holds an mm_users reference,
	 * this call the last): the bytes would still go to that mm, never to
	 * a new image, but no process would see them.
	 */
	return fatal_signal_pending(current) ||
	       atomic_read(&call->mm->mm_users) <= 1;
}

/*
 * Under the mmap lock, before a batch is pinned: how many of the @want
 * bytes at @addr the batch may cover, walking the VMAs that the pages
 * will be pinned from (the lock is not dropped in between, so these are
 * the pinned pages' VMAs, not an earlier walk's), and which of the
 * batch's pages are executable, in @exec (bit n: the n-th page).
 */
static size_t zxmem_batch_reach(struct zxmem_call *call, unsigned long addr,
				size_t want, unsigned long *exec)
{
	unsigned long first = addr & PAGE_MASK;
	unsigned long end = addr + want;
	unsigned long reach = addr;
	struct vm_area_struct *vma;

	*exec = 0;
	for (vma = find_vma(call->mm, addr);
	     vma && vma->vm_start <= reach;
	     vma = find_vma(call->mm, vma->vm_end)) {
		if (call->write && zxmem_vma_is_vdso(vma))
			break;
		if (zxmem_call_vma_status(call, vma) != ZX_OK)
			break;
		if (vma->vm_flags & VM_EXEC)
			*exec |= zxmem_page_bits(first, max(vma->vm_start, addr),
						 min(vma->vm_end, end));
		reach = vma->vm_end;
		if (reach >= end)
			break;
	}
	return min(reach, end) - addr;
}

/*
 * User copies for the data path, as the kernel's own page copies make them
 * (lib/iov_iter.c's copyin() and copyout(), which process_vm_rw() copies
 * through): with their fault injection and their KASAN/KCSAN/KMSAN hooks,
 * but without the object check of hardened usercopy that copy_to_user()
 * and __copy_from_user() make on every call (CONFIG_HARDENED_USERCOPY),
 * which looks for the slab object or stack frame that a copy of a length
 * computed at run time could overrun.  Their kernel side is the mapping
 * of a pinned target page, which is neither, and which the copy never
 * leaves (zxmem_copy_pages() steps page by page), or an exchange's stage,
 * which no step overruns (zxmem_exchange_step()).  The user side is the
 * caller's buffer, which access_ok() has covered whole
 * (zxmem_ready_buffer(), zxmem_check_buffer()).
 *
 * Return: the bytes not copied, as for copy_to_user().
 */
static size_t zxmem_copy_in(void *to, const void __user *from, size_t len)
{
	size_t left;

	might_fault();
	if (should_fail_usercopy())
		return len;
	zxmem_instrument_copy_from_user_before(to, from, len);
	left = raw_copy_from_user(to, from, len);
	zxmem_instrument_copy_from_user_after(to, from, len, left);
	return left;
}

static size_t zxmem_copy_out(void __user *to, const void *from, size_t len)
{
	might_fault();
	if (should_fail_usercopy())
		return len;
	instrument_copy_to_user(to, from, len);
	return raw_copy_to_user(to, from, len);
}

/*
 * Bytes an exchange reads from the caller per step, before the target's
 * words are touched: no fault of the caller's can fall between the read
 * and the write of a word, both one cmpxchg() (zxmem_exchange()).
 */
#define ZXMEM_STAGE		64

/*
 * The caller's old buffer page for @old, pinned for writing: the call
 * keeps the last one, for the next segment's old bytes are mostly in the
 * same page (an array of saved instructions), and lets go of it in
 * zxmem_release().  A caller that unmaps it meanwhile, from another
 * thread, gets the bytes in the page it had.
 *
 * Return: the page, or NULL if it cannot be pinned.
 */
static struct page *zxmem_old_page(struct zxmem_call *call, unsigned long old)
{
	if (call->old_page && call->old_base == (old & PAGE_MASK))
		return call->old_page;
	if (call->old_page)
		unpin_user_pages_dirty_lock(&call->old_page, 1, true);
	call->old_page = NULL;
	if (pin_user_pages_fast(old & PAGE_MASK, 1, FOLL_WRITE,
				&call->old_page) != 1) {
		call->old_page = NULL;
		return NULL;
	}
	call->old_base = old & PAGE_MASK;
	return call->old_page;
}

/*
 * Exchange @len bytes at @kaddr (a kernel mapping of a pinned target page)
 * with the caller's buffer @done bytes into the range.  The replaced bytes
 * go straight into the caller's old buffer, through its own page, pinned
 * for writing before any word of the target is touched: handing them back
 * cannot fault, so the target never keeps a byte whose original the
 * caller did not get, and nothing is to be undone.  Returns the bytes
 * exchanged; sets @buffer_fault if a buffer of the caller's faulted (its
 * new bytes could not be read, or its old page could not be pinned).
 */
static size_t zxmem_exchange_step(struct zxmem_call *call,
				  struct zxmem_range *r, u8 *kaddr,
				  size_t len, size_t done, bool *buffer_fault)
{
	/*
	 * Not zeroed (CONFIG_INIT_STACK_ALL_ZERO would, a string store per
	 * step, which TCG runs a word at a time): zxmem_exchange() reads only
	 * the @got bytes that zxmem_copy_in() stored.
	 */
	u8 new[ZXMEM_STAGE] __uninitialized;
	size_t moved = 0;

	while (moved < len) {
		unsigned long old = (unsigned long)r->old + done + moved;
		size_t n = min3(len - moved, (size_t)ZXMEM_STAGE,
				(size_t)(PAGE_SIZE - offset_in_page(old)));
		struct page *old_page = zxmem_old_page(call, old);
		size_t got, swapped;
		u8 *old_kaddr;

		if (!old_page) {
			*buffer_fault = true;
			break;
		}
		/* n <= sizeof(new), which is ZXMEM_STAGE. */
		got = n - zxmem_copy_in(new, r->buffer + done + moved, n);
		old_kaddr = zxmem_kmap(old_page);
		swapped = zxmem_exchange(kaddr + moved, new,
					 old_kaddr + offset_in_page(old), got);
		zxmem_kunmap(old_kaddr);
		moved += swapped;
		if (swapped < got)
			break;	/* a fatal signal: zxmem_copy_interrupted() */
		if (got < n) {
			*buffer_fault = true;
			break;
		}
	}
	return moved;
}

/*
 * Copy between the caller's buffer and @nr pinned pages of the target,
 * starting @offset bytes into the first page.  Returns the bytes moved;
 * sets @buffer_fault if the caller's buffer faulted.
 */
static size_t zxmem_copy_pages(struct zxmem_call *call, struct zxmem_range *r,
			       struct page **pages, long nr, unsigned long exec,
			       size_t offset, size_t len, size_t done,
			       bool *buffer_fault)
{
	size_t moved = 0;
	long i;

	for (i = 0; i < nr && moved < len; i++, offset = 0) {
		size_t step = min_t(size_t, PAGE_SIZE - offset, len - moved);
		void __user *user = r->buffer + done + moved;
		u8 *kaddr = zxmem_kmap(pages[i]);
		size_t stepped;

		if (call->exchange) {
			stepped = zxmem_exchange_step(call, r, kaddr + offset,
						      step, done + moved,
						      buffer_fault);
		} else if (call->write) {
			/*
			 * Not copy_from_user(): it zeroes what it could not
			 * copy, and this is the target's page, not a kernel
			 * buffer.  data_race(), here and below: the page is the
			 * target's memory, which its threads and any other
			 * writer (another call, ptrace, process_vm_writev())
			 * may touch during the copy with no lock of the
			 * kernel's between them.  Such a race is the
			 * target's, as KCSAN would otherwise report of two
			 * calls copying into one page (Documentation/zxmem.rst,
			 * "Data races").  KASAN still checks the copy.  The
			 * price: KCSAN also skips the kernel's accesses in a
			 * fault taken on the caller's buffer during the copy.
			 */
			stepped = step - data_race(zxmem_copy_in(kaddr + offset,
								 user, step));
		} else {
			/* data_race(): the target's memory, as above. */
			stepped = step - data_race(zxmem_copy_out(user,
								  kaddr + offset,
								  step));
		}
		if (call->write) {
			flush_dcache_page(pages[i]);
			/* A breakpoint must be fetched, not a stale line. */
			if (exec & BIT(i))
				zxmem_sync_icache(kaddr + offset, stepped);
		}
		zxmem_kunmap(kaddr);

		moved += stepped;
		if (stepped < step) {
			*buffer_fault = true;
			break;
		}
	}
	return moved;
}

/*
 * The data path: pin a batch of the target's pages and copy straight
 * between them and the caller's buffer, one copy, no kernel buffer, no
 * mmap lock held while copying (the shape of process_vm_rw()).  Every
 * page comes from call->mm, the mm the checks judged: a concurrent exec
 * cannot redirect a byte into the new image.
 */
static size_t zxmem_copy_pinned(struct zxmem_call *call, struct zxmem_range *r,
				bool *buffer_fault)
{
	unsigned int gup_flags = zxmem_gup_flags(call->write, call->may_force);
	size_t done = 0;

	BUILD_BUG_ON(ZXMEM_PIN_BATCH > BITS_PER_LONG);
	while (done < r->len) {
		unsigned long addr = r->vaddr + done;
		size_t offset = offset_in_page(addr);
		size_t want = zxmem_chunk_len(done, r->len,
					      r->slots * PAGE_SIZE - offset);
		struct page **pages = r->pages;
		unsigned long exec;
		size_t moved;
		long pinned;
		int status;

		if (r->pooled) {
			/*
			 * The checks' walk found the whole range pinned: from
			 * the page that holds @addr on, for a retry.
			 */
			unsigned long first = (addr >> PAGE_SHIFT) -
					      (r->vaddr >> PAGE_SHIFT);

			pages += first;
			pinned = r->pooled - first;
			exec = r->pooled_exec >> first;
			want = r->len - done;
		} else {
			if (mmap_read_lock_killable(call->mm))
				break;
			want = zxmem_batch_reach(call, addr, want, &exec);
			/* No @locked: the lock stays held, the VMAs stay. */
			pinned = want ? zxmem_pin_user_pages_remote(call->mm,
						addr - offset,
						zxmem_pages_spanned(offset, want),
						gup_flags, pages, NULL) : 0;
			mmap_read_unlock(call->mm);
		}
		if (pinned <= 0) {
			if (!done)
				r->pin_error = pinned;
			break;
		}

		moved = zxmem_copy_pages(call, r, pages, pinned, exec, offset,
					 want, done, buffer_fault);
		if (!r->pooled)
			unpin_user_pages_dirty_lock(pages, pinned, call->write);
		else if (call->write)
			call->pool_dirty |= zxmem_pool_bits(call, pages, pinned);
		done += moved;
		if (zxmem_copy_interrupted(call))
			break;
		if (*buffer_fault) {
			/* A bad buffer stops the copy with its status. */
			status = zxmem_buffer_fault(call, r, done);
			*buffer_fault = status == ZX_ERR_INVALID_ARGS;
			if (status != ZX_OK)
				break;
		} else if (moved < want) {
			break;
		}
	}
	return done;
}

static int zxmem_copy(struct zxmem_call *call, struct zxmem_range *r,
		      u64 *actual)
{
	bool buffer_fault = false;
	size_t done;
	int status;

	done = zxmem_copy_pinned(call, r, &buffer_fault);

	status = zxmem_copy_status(done, buffer_fault, r->pin_error,
				   r->forced_hugetlb);
	if (status == ZX_OK)
		*actual = done;
	return status;
}

static void zxmem_release(struct zxmem_call *call)
{
	zxmem_pool_release(call);
	if (call->old_page)
		unpin_user_pages_dirty_lock(&call->old_page, 1, true);
	if (call->mm)
		mmput(call->mm);
	if (call->target)
		put_task_struct(call->target);
}

/*
 * The steps a call takes once for its target, whatever its ranges, in the
 * order of the table in Documentation/zxmem.rst: the handle, the right,
 * the state, and (for a write) whether it may force.
 */
static int zxmem_judge_target(struct zxmem_call *call, struct file *dev,
			      u32 handle)
{
	int status;

	status = zxmem_resolve_pidfd(call, handle);
	if (status == ZX_OK)
		status = zxmem_check_relation(call, dev);
	if (status == ZX_OK)
		status = zxmem_take_mm(call);
	if (status == ZX_OK)
		status = zxmem_check_mm_access(call);
	if (status == ZX_OK && call->write)
		zxmem_decide_force(call);
	return status;
}

/* The steps of one range, once its target is judged: region, buffer, copy. */
static int zxmem_range_steps(struct zxmem_call *call, struct zxmem_range *r,
			     u64 size, u64 *actual)
{
	int status;

	zxmem_ready_buffer(call, r, size);
	status = zxmem_check_region(call, r, size);
	if (status == ZX_OK && !r->pooled)
		status = zxmem_check_buffer(call, r, size);
	if (status == ZX_OK)
		status = zxmem_copy(call, r, actual);
	zxmem_pool_release(call);
	return status;
}

/* The whole single call, one step per function, in the table's order. */
static int zxmem_steps(struct zxmem_call *call, struct file *dev,
		       const struct zxmem_io *io, u64 *actual)
{
	struct zxmem_range r = {
		.vaddr = io->vaddr,
		.buffer = u64_to_user_ptr(io->buffer),
		.pages = call->pages,
		.slots = ZXMEM_PIN_BATCH,
	};
	int status;

	if (call->write && !READ_ONCE(enable_debugging_syscalls))
		return ZX_ERR_NOT_SUPPORTED;
	status = zxmem_check_args(io);
	if (status == ZX_OK)
		status = zxmem_judge_target(call, dev, io->handle);
	if (status == ZX_OK)
		status = zxmem_range_steps(call, &r, io->buffer_size, actual);
	return status;
}

static void zxmem_trace(bool write, u32 handle, u64 vaddr, u64 size,
			u32 segments, struct task_struct *target, int status,
			u64 actual)
{
	if (write)
		trace_zxmem_write(handle, vaddr, size, segments, target, status,
				  actual);
	else
		trace_zxmem_read(handle, vaddr, size, segments, target, status,
				 actual);
}

/*
 * One call, and its one trace record: written after the copy, while the
 * target is still held (its tgid is read only if the event is enabled),
 * for every answer, the gate's included.
 */
static int zxmem_transfer(struct file *dev, const struct zxmem_io *io,
			  bool write, u64 *actual)
{
	/*
	 * __uninitialized: with CONFIG_INIT_STACK_ALL_ZERO the compiler
	 * would zero pages[] anyway; zxmem_call_init() sets the rest.
	 */
	struct zxmem_call call __uninitialized;
	int status;

	zxmem_call_init(&call, dev, write);
	status = zxmem_steps(&call, dev, io, actual);

	zxmem_trace(write, io->handle, io->vaddr, io->buffer_size, 1,
		    call.target, status, *actual);
	zxmem_release(&call);
	return status;
}

/*
 * Segments a batched call holds in the kernel at once: as many as one
 * mmap lock hold can pin a page each for.  Their state is allocated once
 * per call, for no more than this, whatever the count; the array is read
 * a batch at a time.
 */
#define ZXMEM_SEG_BATCH		ZXMEM_PIN_BATCH

/*
 * A segment of the batch in hand, as zxmem_vec_batch() works on it; each
 * member is set by zxmem_seg_start().
 */
struct zxmem_seg {
	struct zxmem_range r;
	int status;
	u64 actual;
	bool pending;		/* its fields passed, its region is next */
	bool judged;		/* its region passed, its copy is next */
	bool walked;		/* its status is its region walk's */
	bool readied;		/* zxmem_ready_buffer() has judged it */
};

/* Everything a batched call holds besides its zxmem_call. */
struct zxmem_vec_call {
	struct zxmem_call call;
	struct zxmem_segment __user *array;
	u32 count;
	bool stop;		/* ZXMEM_VEC_STOP */
	bool stopped;		/* by STOP, or zxmem_copy_interrupted() */
	bool loaded;		/* user[] holds the whole array, read once */
	u64 first_vaddr;	/* for the trace record */
	u64 total;		/* the valid segments' sizes, added up */
	u64 budget;		/* what they may still move */
	u32 done;		/* segments that hold a status */
	u64 actual;		/* the bytes they moved */
	u32 batch;		/* segments user[] and seg[] hold */
	struct zxmem_segment *user;	/* a batch of the array, as read */
	struct zxmem_seg *seg;		/* and the state of each */
};

/*
 * Read @n segments of the array, from index @base on, into v->user: the
 * fields the kernel reads (@vaddr, @buffer, @old, @size, @reserved), one
 * load each, in one user access for the batch.  @actual and @status are
 * the kernel's to write: never read, and left unset in v->user, where
 * nothing reads them.  (The whole 48-byte segments, copied, would cost a
 * string copy per batch, which QEMU's TCG runs a byte per step.)
 *
 * Return: 0, or -EFAULT if the array cannot be read.
 */
static int zxmem_vec_read(struct zxmem_vec_call *v, u32 base, u32 n)
{
	const struct zxmem_segment __user *seg = v->array + base;
	struct zxmem_segment *user = v->user;
	u32 i;

	if (!user_read_access_begin(seg, n * sizeof(*seg)))
		return -EFAULT;
	for (i = 0; i < n; i++, seg++, user++) {
		unsafe_get_user(user->vaddr, &seg->vaddr, fault);
		unsafe_get_user(user->buffer, &seg->buffer, fault);
		unsafe_get_user(user->old, &seg->old, fault);
		unsafe_get_user(user->size, &seg->size, fault);
		unsafe_get_user(user->reserved, &seg->reserved, fault);
	}
	user_read_access_end();
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

/*
 * Read the array once, a batch at a time, and add up the sizes of the
 * segments whose own fields are valid: the total bound is judged before
 * any byte moves.  The array is the caller's and may change after this
 * pass; zxmem_vec_fields() keeps the bound again on what it reads then.
 *
 * Return: 0, or -EFAULT if the array cannot be read.
 */
static int zxmem_vec_total(struct zxmem_vec_call *v)
{
	u32 base, i, n;

	for (base = 0; base < v->count; base += n) {
		n = min(v->count - base, v->batch);
		if (zxmem_vec_read(v, base, n))
			return -EFAULT;
		if (!base)
			v->first_vaddr = v->user[0].vaddr;
		for (i = 0; i < n; i++)
			if (zxmem_check_segment(&v->user[i],
						v->call.exchange) == ZX_OK)
				v->total += v->user[i].size;
	}
	v->loaded = v->count <= v->batch;
	return 0;
}

/*
 * Start @s at the fields @user read: every member of it set, one store
 * each.  A compound literal would zero the whole of it first, a string
 * store per segment, which QEMU's TCG runs a word per step.  A member
 * added to struct zxmem_seg or struct zxmem_range needs its line here.
 */
static void zxmem_seg_start(struct zxmem_seg *s,
			    const struct zxmem_segment *user,
			    struct page **pages)
{
	struct zxmem_range *r = &s->r;

	r->vaddr = user->vaddr;
	r->buffer = u64_to_user_ptr(user->buffer);
	r->old = u64_to_user_ptr(user->old);
	r->len = 0;
	r->pin_error = 0;
	r->buffer_ready = false;
	r->forced_hugetlb = false;
	r->pooled = 0;
	r->pooled_exec = 0;
	r->reserved = false;
	r->pages = pages;
	r->slots = ZXMEM_PIN_BATCH;
	r->retries.furthest = 0;
	r->retries.since = 0;
	s->status = ZX_OK;
	s->actual = 0;
	s->pending = false;
	s->judged = false;
	s->walked = false;
	s->readied = false;
}

/* The fields of the batch's @n segments: each one's status so far. */
static void zxmem_vec_fields(struct zxmem_vec_call *v, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		const struct zxmem_segment *user = &v->user[i];
		struct zxmem_seg *s = &v->seg[i];

		zxmem_seg_start(s, user, v->call.pages);
		s->status = zxmem_check_segment(user, v->call.exchange);
		/* Only an array changed under the call gets past the total. */
		if (s->status == ZX_OK && user->size > v->budget)
			s->status = ZX_ERR_INVALID_ARGS;
		if (s->status == ZX_OK)
			v->budget -= user->size;
		s->pending = s->status == ZX_OK;
	}
}

/*
 * Are segment @i's pages in the pool already, a range of this hold from
 * @first on having reserved them (zxmem_vec_pool(); they are pinned
 * before any copy, zxmem_vec_pin())?  [@lo, @hi) bounds the pages the
 * hold has reserved.  The ranges are looked at from the latest back, for
 * breakpoints come sorted: the one before is mostly in the same page.
 * Return: their entries in the pool, if a range's span holds all of them;
 * ERR_PTR(-EBUSY) if a write touches one of them without that (the next
 * hold serves it); NULL if it touches none (for a read: or shares none
 * whole).
 *
 * Sharing is what lets several breakpoints in one page take one pin and
 * one hold.  It is sound because the entries are the pages @i's own walk
 * judges: pinned under this hold, whose lock is not dropped before @i's
 * walk, from the VMAs that walk sees, with the same GUP flags; and the
 * pool holds the pins until the hold's last copy (zxmem_vec_batch()).
 * (Like every pinned batch, they are the pages as mapped at the pin: a
 * target that discards them meanwhile loses what is copied into them.)
 * A write must never pin a page twice at once: a forced write into a page
 * without write permission has GUP break copy-on-write, and a kernel that
 * judges a page shared by its reference count (5.10 does; 6.x trusts an
 * exclusive anonymous page) copies the page the first pin holds, whose
 * bytes (written after the hold) would then land in a page the target no
 * longer maps.  Sharing pins nothing; a write that would need a second pin
 * of a page waits for the next hold, after this one has let go.
 */
static struct page **zxmem_vec_pooled(struct zxmem_vec_call *v, u32 first,
				      u32 i, u64 size, unsigned long lo,
				      unsigned long hi)
{
	unsigned long vaddr = v->seg[i].r.vaddr;
	bool busy = false;
	u32 j;

	if (!zxmem_overlaps(vaddr & PAGE_MASK, zxmem_range_end(vaddr, size),
			    lo, hi))
		return NULL;
	for (j = i; j-- > first;) {
		const struct zxmem_range *r = &v->seg[j].r;
		long index;

		if (!r->pooled)
			continue;
		index = zxmem_pool_index(vaddr, size, r->vaddr & PAGE_MASK,
					 r->pooled);
		if (index >= 0)
			return r->pages + index;
		busy |= index == -EBUSY;
	}
	return busy && v->call.write ? ERR_PTR(-EBUSY) : NULL;
}

/*
 * Give @r, judged by its walk in this hold with its buffer ready, the
 * @nr pool entries of its pages: @shared ones an earlier range of the
 * hold pinned (zxmem_vec_pooled()), or the next free ones, to be pinned
 * before the hold ends (zxmem_vec_pin()).
 */
static void zxmem_vec_pool(struct zxmem_call *call, struct zxmem_range *r,
			   struct page **shared, unsigned long nr,
			   unsigned long exec)
{
	r->reserved = !shared;
	r->pages = shared ?: call->pages + call->pool_used;
	r->slots = nr;
	r->pooled = nr;
	r->pooled_exec = exec;
	if (!shared)
		call->pool_used += nr;
}

/* Take back what zxmem_vec_pool() gave: the general path's whole array. */
static void zxmem_vec_unpool(struct zxmem_call *call, struct zxmem_range *r)
{
	r->reserved = false;
	r->pages = call->pages;
	r->slots = ZXMEM_PIN_BATCH;
	r->pooled = 0;
}

/*
 * Pin the entries the hold's walk reserved, for the segments from @first
 * to before @end, still under the walk's lock hold, so the pages are
 * those of the VMAs the walks judged.  Reserved ranges follow each other
 * in the pool in the segments' order; those whose pages follow each other
 * in the target as well are pinned by one GUP call (1,024 breakpoints one
 * to a page in sorted order take 32 calls, not 1,024).  A run that cannot
 * be pinned whole is let go of and pinned range by range, each whole or
 * not at all, as a single call pins it.
 *
 * Return: @end, or the first segment whose range could not be pinned:
 * it takes the general path, and the hold ends with it (zxmem_vec_walk()).
 */
static u32 zxmem_vec_pin(struct zxmem_vec_call *v, u32 first, u32 end)
{
	struct zxmem_call *call = &v->call;
	u32 i = first, j, last;
	unsigned long start, nr;

	while (i < end) {
		struct zxmem_range *r = &v->seg[i].r;

		if (!r->reserved) {
			i++;
			continue;
		}
		start = r->vaddr & PAGE_MASK;
		nr = r->pooled;
		for (last = i, j = i + 1; j < end; j++) {
			const struct zxmem_range *q = &v->seg[j].r;

			if (!q->reserved)
				continue;
			if ((q->vaddr & PAGE_MASK) != start + nr * PAGE_SIZE)
				break;
			nr += q->pooled;
			last = j;
		}
		if (!zxmem_pin_whole(call, start, nr, r->pages)) {
			/* Range by range, each whole or not at all. */
			for (j = i; j <= last; j++) {
				const struct zxmem_range *q = &v->seg[j].r;

				if (q->reserved &&
				    !zxmem_pin_whole(call, q->vaddr & PAGE_MASK,
						     q->pooled, q->pages))
					return j;
			}
		}
		i = last + 1;
	}
	return end;
}

/*
 * One mmap lock hold for as many of the batch's segments, from @first on,
 * as it can serve: each one's region is judged and, when it is small and
 * its buffer ready, given its pages' entries of call->pages until the
 * pool is full (zxmem_vec_pool()); before the hold ends, the entries are
 * pinned (zxmem_vec_pin()).  A segment that needs the general path
 * (zxmem_copy_pinned() pins batches of its own, into call->pages) ends
 * the hold, as does one that STOP stops at, or one whose pages cannot be
 * pinned (it then takes the general path, and the segments walked after
 * it are walked again by the next hold).
 *
 * Return: the segment after the last one the hold served; @first if it
 * served none, because the caller is being killed (the call stops).
 */
static u32 zxmem_vec_walk(struct zxmem_vec_call *v, u32 first, u32 n)
{
	struct zxmem_call *call = &v->call;
	struct vm_area_struct *hint = NULL;	/* only for this hold */
	unsigned long lo = ULONG_MAX, hi = 0;	/* the pages it reserved */
	u32 i, end, cut;

	/* The caller's buffers are faulted in with no lock held, once. */
	for (i = first; i < n; i++) {
		if (v->seg[i].pending && !v->seg[i].readied)
			zxmem_ready_buffer(call, &v->seg[i].r, v->user[i].size);
		v->seg[i].readied = true;
	}

	/* A fatal signal: the call is interrupted before this segment. */
	if (mmap_read_lock_killable(call->mm)) {
		v->stopped = true;
		return first;
	}
	for (i = first; i < n; i++) {
		struct zxmem_seg *s = &v->seg[i];
		u64 size = v->user[i].size;
		unsigned long room = ZXMEM_PIN_BATCH - call->pool_used;
		struct page **shared = NULL;
		unsigned long exec;

		if (!s->pending) {
			if (v->stop && s->status != ZX_OK)
				break;
			continue;
		}
		/*
		 * Its pages pinned by an earlier range of the hold, or room
		 * for them, or the next hold will do it.
		 */
		if (s->r.buffer_ready && i > first) {
			shared = zxmem_vec_pooled(v, first, i, size, lo, hi);
			if (IS_ERR(shared) ||
			    (!shared &&
			     zxmem_pages_spanned(offset_in_page(s->r.vaddr),
						 size) > room)) {
				end = i;
				goto pin;
			}
		}
		s->pending = false;
		s->walked = true;
		s->status = zxmem_walk_region(call, &s->r, size, &hint, &exec);
		if (s->status != ZX_OK) {
			if (v->stop)
				break;
			continue;
		}
		s->judged = true;
		if (!s->r.buffer_ready)
			break;
		zxmem_vec_pool(call, &s->r, shared,
			       zxmem_pages_spanned(offset_in_page(s->r.vaddr),
						   s->r.len), exec);
		lo = min(lo, s->r.vaddr & PAGE_MASK);
		hi = max(hi, (s->r.vaddr & PAGE_MASK) + s->r.pooled * PAGE_SIZE);
	}
	/* It served the segment it stopped at, if it stopped. */
	end = min(i + 1, n);
pin:
	cut = zxmem_vec_pin(v, first, end);
	if (cut < end) {
		/*
		 * The segment not pinned takes the general path, with the
		 * pool's entries from its own on given back (none of them is
		 * pinned).  Every segment walked after it is walked again by
		 * the next hold, after that copy, refused ones too: a status
		 * judged before the copy of a segment before it is not what
		 * single calls in their order would answer.
		 */
		call->pool_used = v->seg[cut].r.pages - call->pages;
		zxmem_vec_unpool(call, &v->seg[cut].r);
		for (i = cut + 1; i < end; i++) {
			struct zxmem_seg *s = &v->seg[i];

			if (!s->walked)
				continue;
			s->walked = false;
			s->judged = false;
			s->pending = true;
			s->status = ZX_OK;
			zxmem_vec_unpool(call, &s->r);
		}
		end = cut + 1;
	}
	mmap_read_unlock(call->mm);
	return end;
}

/*
 * The batch's @n segments, array index @base on: their fields, then
 * rounds of one mmap lock hold (zxmem_vec_walk()) and the copies it
 * judged, in the segments' order, then their statuses back to the caller.
 *
 * Return: 0, or -EFAULT if the array cannot be read or written.
 */
static int zxmem_vec_batch(struct zxmem_vec_call *v, u32 base, u32 n)
{
	struct zxmem_call *call = &v->call;
	u32 i = 0, end, done = 0;

	if (!v->loaded && zxmem_vec_read(v, base, n))
		return -EFAULT;
	zxmem_vec_fields(v, n);

	while (i < n && !v->stopped) {
		end = zxmem_vec_walk(v, i, n);
		for (; i < end; i++) {
			struct zxmem_seg *s = &v->seg[i];

			if (v->stopped)
				continue;
			/*
			 * The general path pins into the whole array: the
			 * hold's pins go first.  Such a segment ends its hold
			 * (zxmem_vec_walk()), so no range still needs them.
			 */
			if (s->judged && !s->r.pooled) {
				zxmem_pool_release(call);
				s->status = zxmem_check_buffer(call, &s->r,
							       v->user[i].size);
			}
			if (s->judged && s->status == ZX_OK)
				s->status = zxmem_copy(call, &s->r, &s->actual);
			done = i + 1;
			if (s->status == ZX_OK)
				v->actual += s->actual;
			v->stopped = (v->stop && s->status != ZX_OK) ||
				     zxmem_copy_interrupted(call);
		}
		/* The hold's last copy is done, or will not be made. */
		zxmem_pool_release(call);
	}

	/*
	 * Only each segment's status, and its actual on ZX_OK, go back: one
	 * user access for the batch, as it was read.
	 */
	if (done && !user_write_access_begin(v->array + base,
					     done * sizeof(*v->array)))
		return -EFAULT;
	for (i = 0; i < done; i++) {
		struct zxmem_segment __user *seg = v->array + base + i;

		unsafe_put_user(v->seg[i].status, &seg->status, fault);
		if (v->seg[i].status == ZX_OK)
			unsafe_put_user(v->seg[i].actual, &seg->actual, fault);
	}
	if (done)
		user_write_access_end();
	v->done = base + done;
	return 0;
fault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * The batched call past its gate and own fields: the total, which reads
 * the array; the target, judged once (zxmem_judge_target()); then
 * each segment, whose status is what the single call with its range would
 * answer, because it takes the same steps (zxmem_walk_region(),
 * zxmem_check_buffer(), zxmem_copy()) on the same judged mm.
 *
 * Return: 0 with the call's status in @status, or -EFAULT.
 */
static int zxmem_vec_steps(struct zxmem_vec_call *v, struct file *dev,
			   const struct zxmem_vec *vec, int *status)
{
	u32 base;
	int ret;

	ret = zxmem_vec_total(v);
	if (ret)
		return ret;
	if (v->total > ZXMEM_MAX_TRANSFER) {
		*status = ZX_ERR_INVALID_ARGS;
		return 0;
	}
	v->budget = v->total;

	*status = zxmem_judge_target(&v->call, dev, vec->handle);
	for (base = 0; *status == ZX_OK && base < v->count && !v->stopped;
	     base += v->batch) {
		ret = zxmem_vec_batch(v, base, min(v->count - base, v->batch));
		if (ret)
			return ret;
	}
	return 0;
}

/* The batched call's header, as zxmem_io_read() reads a single call's. */
static int zxmem_vec_header_read(struct zxmem_vec *vec,
				 const struct zxmem_vec __user *uvec)
{
	if (!user_read_access_begin(uvec, sizeof(*uvec)))
		return -EFAULT;
	unsafe_get_user(vec->segments, &uvec->segments, fault);
	unsafe_get_user(vec->count, &uvec->count, fault);
	unsafe_get_user(vec->handle, &uvec->handle, fault);
	unsafe_get_user(vec->flags, &uvec->flags, fault);
	unsafe_get_user(vec->status, &uvec->status, fault);
	unsafe_get_user(vec->done, &uvec->done, fault);
	unsafe_get_user(vec->reserved, &uvec->reserved, fault);
	unsafe_get_user(vec->actual, &uvec->actual, fault);
	user_read_access_end();
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

static long zxmem_ioctl_vec(struct file *file, struct zxmem_vec __user *uvec,
			    bool write)
{
	struct zxmem_vec_call *v = NULL;
	struct zxmem_vec vec;
	u64 actual = 0;
	u32 done = 0, batch;
	int status;
	int ret = 0;

	if (zxmem_vec_header_read(&vec, uvec))
		return -EFAULT;

	/* The gate and the header, before anything is allocated. */
	status = ZX_ERR_NOT_SUPPORTED;
	if (!write || READ_ONCE(enable_debugging_syscalls))
		status = zxmem_check_vec(&vec, write);
	if (status == ZX_OK) {
		/*
		 * At most a batch, whatever the count, and no more than the
		 * count: a call of few segments allocates (and the kernel may
		 * zero, init_on_alloc) little.
		 */
		batch = min_t(u32, vec.count, ZXMEM_SEG_BATCH);
		v = kmalloc(sizeof(*v) + batch * (sizeof(*v->user) +
						  sizeof(*v->seg)),
			    GFP_KERNEL);
		status = ZX_ERR_NO_MEMORY;
	}
	if (v) {
		*v = (struct zxmem_vec_call){
			.call.file = file->private_data,
			.call.write = write,
			.call.exchange = vec.flags & ZXMEM_VEC_EXCHANGE,
			.array = u64_to_user_ptr(vec.segments),
			.count = vec.count,
			.stop = vec.flags & ZXMEM_VEC_STOP,
			.batch = batch,
			.user = (struct zxmem_segment *)(v + 1),
		};
		v->seg = (struct zxmem_seg *)(v->user + batch);
		ret = zxmem_vec_steps(v, file, &vec, &status);
		/* A call refused as a whole leaves no segment's status. */
		if (status == ZX_OK) {
			done = v->done;
			actual = v->actual;
		}
	}
	/* Every call that was judged leaves its record; no EFAULT before. */
	if (!ret || (v && v->call.target))
		zxmem_trace(write, vec.handle, v ? v->first_vaddr : 0,
			    v ? v->total : 0, vec.count,
			    v ? v->call.target : NULL, status, actual);
	if (v) {
		zxmem_release(&v->call);
		kfree(v);
	}
	if (ret)
		return ret;

	/* Only these three fields go back: no other byte is ever written. */
	if (!user_write_access_begin(uvec, sizeof(*uvec)))
		return -EFAULT;
	unsafe_put_user(status, &uvec->status, fault);
	unsafe_put_user(done, &uvec->done, fault);
	if (status == ZX_OK)
		unsafe_put_user(actual, &uvec->actual, fault);
	user_write_access_end();
	return 0;
fault:
	user_write_access_end();
	return -EFAULT;
}

/*
 * The ABI (uapi/linux/zxmem.h, uapi/zircon/errors.h): one layout for 32-
 * and 64-bit callers, and Zircon's status numbers.
 */
static_assert(sizeof(struct zxmem_io) == 48);
static_assert(offsetof(struct zxmem_io, vaddr) == 0);
static_assert(offsetof(struct zxmem_io, buffer) == 8);
static_assert(offsetof(struct zxmem_io, buffer_size) == 16);
static_assert(offsetof(struct zxmem_io, actual) == 24);
static_assert(offsetof(struct zxmem_io, handle) == 32);
static_assert(offsetof(struct zxmem_io, flags) == 36);
static_assert(offsetof(struct zxmem_io, status) == 40);
static_assert(offsetof(struct zxmem_io, reserved) == 44);
static_assert(sizeof(struct zxmem_segment) == 48);
static_assert(offsetof(struct zxmem_segment, old) == 16);
static_assert(offsetof(struct zxmem_segment, size) == 24);
static_assert(offsetof(struct zxmem_segment, actual) == 32);
static_assert(offsetof(struct zxmem_segment, status) == 40);
static_assert(offsetof(struct zxmem_segment, reserved) == 44);
static_assert(sizeof(struct zxmem_vec) == 40);
static_assert(offsetof(struct zxmem_vec, count) == 8);
static_assert(offsetof(struct zxmem_vec, handle) == 12);
static_assert(offsetof(struct zxmem_vec, flags) == 16);
static_assert(offsetof(struct zxmem_vec, status) == 20);
static_assert(offsetof(struct zxmem_vec, done) == 24);
static_assert(offsetof(struct zxmem_vec, reserved) == 28);
static_assert(offsetof(struct zxmem_vec, actual) == 32);
static_assert(ZX_OK == 0 && ZX_ERR_NOT_SUPPORTED == -2 &&
	      ZX_ERR_NO_MEMORY == -4 && ZX_ERR_INVALID_ARGS == -10 &&
	      ZX_ERR_BAD_HANDLE == -11 && ZX_ERR_WRONG_TYPE == -12 &&
	      ZX_ERR_BAD_STATE == -20 && ZX_ERR_ACCESS_DENIED == -30);

/*
 * Read a request into @io, every field one load, in one user access.  The
 * fields cover every byte (the layout's static_assert()s above leave no
 * padding), so these are the bytes copy_from_user() would read, and the
 * same requests fault.  A string copy of the struct would cost more under
 * QEMU's TCG, which runs it a byte per step (see zxmem_vec_read()).
 *
 * Return: 0, or -EFAULT if the request cannot be read.
 */
static int zxmem_io_read(struct zxmem_io *io,
			 const struct zxmem_io __user *uio)
{
	if (!user_read_access_begin(uio, sizeof(*uio)))
		return -EFAULT;
	unsafe_get_user(io->vaddr, &uio->vaddr, fault);
	unsafe_get_user(io->buffer, &uio->buffer, fault);
	unsafe_get_user(io->buffer_size, &uio->buffer_size, fault);
	unsafe_get_user(io->actual, &uio->actual, fault);
	unsafe_get_user(io->handle, &uio->handle, fault);
	unsafe_get_user(io->flags, &uio->flags, fault);
	unsafe_get_user(io->status, &uio->status, fault);
	unsafe_get_user(io->reserved, &uio->reserved, fault);
	user_read_access_end();
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

static long zxmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct zxmem_io __user *uio = (struct zxmem_io __user *)arg;
	/* Not zeroed first: zxmem_io_read() sets every byte, or fails. */
	struct zxmem_io io __uninitialized;
	u64 actual = 0;
	bool write;
	int status;

	/*
	 * The commands carry the struct's size; _IOC() is no integer
	 * constant expression for clang, so not static_assert() above.
	 */
	BUILD_BUG_ON(_IOC_SIZE(ZXMEM_IOC_WRITE_MEMORY) != sizeof(io));
	BUILD_BUG_ON(_IOC_SIZE(ZXMEM_IOC_READ_MEMORY) != sizeof(io));
	BUILD_BUG_ON(ZXMEM_IOC_WRITE_MEMORY == ZXMEM_IOC_READ_MEMORY);
	BUILD_BUG_ON(_IOC_SIZE(ZXMEM_IOC_WRITE_MEMORY_VEC) !=
		     sizeof(struct zxmem_vec));
	BUILD_BUG_ON(_IOC_SIZE(ZXMEM_IOC_READ_MEMORY_VEC) !=
		     sizeof(struct zxmem_vec));

	switch (cmd) {
	case ZXMEM_IOC_WRITE_MEMORY_VEC:
	case ZXMEM_IOC_READ_MEMORY_VEC:
		return zxmem_ioctl_vec(file, (struct zxmem_vec __user *)arg,
				       cmd == ZXMEM_IOC_WRITE_MEMORY_VEC);
	case ZXMEM_IOC_WRITE_MEMORY:
		write = true;
		break;
	case ZXMEM_IOC_READ_MEMORY:
		write = false;
		break;
	default:
		return -ENOTTY;
	}

	if (zxmem_io_read(&io, uio))
		return -EFAULT;

	status = zxmem_transfer(file, &io, write, &actual);

	/* Only these two fields go back: no other byte is ever written. */
	if (!user_write_access_begin(uio, sizeof(*uio)))
		return -EFAULT;
	unsafe_put_user(status, &uio->status, fault);
	if (status == ZX_OK)
		unsafe_put_user(actual, &uio->actual, fault);
	user_write_access_end();
	return 0;
fault:
	user_write_access_end();
	return -EFAULT;
}

static int zxmem_open(struct inode *inode, struct file *file)
{
	struct zxmem_file *zfile = kzalloc(sizeof(*zfile), GFP_KERNEL);

	if (!zfile)
		return -ENOMEM;
	spin_lock_init(&zfile->lock);
	seqcount_spinlock_init(&zfile->seq, &zfile->lock);
	file->private_data = zfile;
	return 0;
}

static int zxmem_release_file(struct inode *inode, struct file *file)
{
	struct zxmem_file *zfile = file->private_data;
	int i;

	for (i = 0; i < ZXMEM_LINKS; i++)
		zxmem_link_forget(&zfile->links[i]);
	kfree(zfile);
	return 0;
}

static const struct file_operations zxmem_fops = {
	.owner = THIS_MODULE,
	.open = zxmem_open,
	.release = zxmem_release_file,
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
MODULE_AUTHOR("zxmem developers");
MODULE_VERSION(ZXMEM_VERSION);
