/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels zxmem builds for, behind small helpers,
 * so that zxmem.c reads as if written for one kernel.
 */
#ifndef _ZXMEM_COMPAT_H
#define _ZXMEM_COMPAT_H

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/instrumented.h>
#include <linux/magic.h>
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pidfd.h>
#include <asm/cacheflush.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#ifdef ZXMEM_HAVE_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif

/**
 * zxmem_pidfd_pid() - the struct pid behind a pidfd
 * @file: any open file
 *
 * pidfd_pid() is not exported to modules, so recognise a pidfd by where it
 * lives.  From 6.9 (with CONFIG_FS_PID) pidfds are the files of pidfs,
 * which has no other files, and the inode's i_private is the pid.  Before
 * that a pidfd is an anon_inode file named "[pidfd]" whose private_data is
 * the pid; no other anon_inode user takes that name, and user space cannot
 * name an anon_inode file at all.  Both are tested, not the version: a
 * 6.9+ kernel built without pidfs still makes anon_inode pidfds.
 *
 * Return: the pid (no reference taken: it lives as long as @file), or NULL
 * if @file is not a pidfd.
 */
static inline struct pid *zxmem_pidfd_pid(struct file *file)
{
	struct inode *inode = file_inode(file);

#ifdef PID_FS_MAGIC
	if (inode->i_sb->s_magic == PID_FS_MAGIC)
		return inode->i_private;
#endif
	if (inode->i_sb->s_magic != ANON_INODE_FS_MAGIC)
		return NULL;
	if (strcmp(file->f_path.dentry->d_name.name, "[pidfd]"))
		return NULL;
	return file->private_data;
}

/**
 * zxmem_pidfd_is_thread() - does a pidfd name a thread rather than a process
 * @file: a pidfd
 *
 * 6.9 added PIDFD_THREAD (pidfd_open() flag, and CLONE_PIDFD of a
 * CLONE_THREAD child); such a pidfd keeps it in f_flags.  Before 6.9 every
 * pidfd names a thread-group leader, as a process.
 *
 * Return: true for a thread pidfd.
 */
static inline bool zxmem_pidfd_is_thread(struct file *file)
{
#ifdef PIDFD_THREAD
	return file->f_flags & PIDFD_THREAD;
#else
	return false;
#endif
}

/**
 * zxmem_sync_icache() - make freshly written instructions visible to fetch
 * @kaddr: the kernel mapping of the bytes written into a user page
 * @len: how many
 *
 * The kernel's own ptrace path does this in copy_to_user_page(), which
 * arm64 does not export.  arm64: clean the data cache to the point of
 * unification for the written range and invalidate the instruction
 * cache, all of it, which is right for aliasing (VIPT) and non-aliasing
 * instruction caches alike, as sync_icache_aliases() is; the target's
 * next exception return is its context synchronisation.  x86 keeps the
 * caches coherent and this is a no-op, like asm-generic's
 * flush_icache_range().  Other architectures get flush_icache_range() on
 * the kernel mapping, which suffices where the instruction cache is
 * physically indexed.  zxmem is built and tested on x86-64 and arm64;
 * under TCG the arm64 tests pass without this too (Documentation/
 * zxmem.rst, "The data path").
 */
static inline void zxmem_sync_icache(void *kaddr, size_t len)
{
	unsigned long start = (unsigned long)kaddr;

	if (!len)
		return;
#ifdef CONFIG_ARM64
	caches_clean_inval_pou(start, start + len);
	icache_inval_all_pou();
#else
	flush_icache_range(start, start + len);
#endif
}

/**
 * zxmem_vma_flags() - a VMA's flags, as zxmem_vma_status() judges them
 * @vma: a mapping of the target, its mmap lock held
 *
 * The vDSO's data pages, "[vvar]", are VM_IO (with VM_PFNMAP or
 * VM_MIXEDMAP) up to 7.2.  7.3 maps them from struct pages, VM_MIXEDMAP
 * alone, and its fault handler refuses remote faults: GUP would fail on
 * a page the target has not touched and copy one it has.  They are the
 * kernel's data either way, so they keep the VM_IO of older kernels and a
 * read answers ZX_ERR_BAD_STATE on every kernel.  Tested by name, not
 * version: on older kernels the flag is there already.
 *
 * Return: @vma's flags, with VM_IO for "[vvar]" and "[vvar_vclock]".
 */
static inline vm_flags_t zxmem_vma_flags(struct vm_area_struct *vma)
{
	const char *name = NULL;

	if (vma->vm_ops && vma->vm_ops->name)
		name = vma->vm_ops->name(vma);
	if (name && !strncmp(name, "[vvar", 5))
		return vma->vm_flags | VM_IO;
	return vma->vm_flags;
}

/**
 * zxmem_pin_user_pages_remote() - pin_user_pages_remote() without @vmas
 * @mm: the target's mm, with its mmap lock held for reading
 * @start: first page's address
 * @nr_pages: pages to pin
 * @gup_flags: FOLL_* flags
 * @pages: where the pinned pages go
 * @locked: as for pin_user_pages_remote(); NULL keeps the lock held
 *
 * 6.5 dropped the @vmas argument; Kbuild finds out which form the headers
 * declare and sets ZXMEM_GUP_HAS_VMAS for the old one.
 *
 * Return: pages pinned, or a negative errno.
 */
static inline long zxmem_pin_user_pages_remote(struct mm_struct *mm,
					       unsigned long start,
					       unsigned long nr_pages,
					       unsigned int gup_flags,
					       struct page **pages,
					       int *locked)
{
#ifdef ZXMEM_GUP_HAS_VMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     locked);
#endif
}

/**
 * zxmem_read_dumpability() - what PTRACE_POKEDATA asks of a tracer
 * @task: the target
 * @mm: its mm, as taken for the call
 * @dumpable: set if the target's memory is dumpable by its owner
 * @capable: set if it is not, but the caller has CAP_SYS_PTRACE in the
 *	user namespace that owns it
 *
 * Up to 6.x the mm holds both facts.  7.x keeps them in the task's
 * exec_state, which has no exported accessor; it is RCU-protected, and the
 * kernel's own per-access ptrace check reads it the same way, asking for
 * the capability without an audit record, under RCU.  Kbuild sets
 * ZXMEM_HAVE_EXEC_STATE when the headers have it.
 */
static inline void zxmem_read_dumpability(struct task_struct *task,
					  struct mm_struct *mm,
					  bool *dumpable, bool *capable)
{
#ifdef ZXMEM_HAVE_EXEC_STATE
	const struct task_exec_state *state;

	rcu_read_lock();
	state = rcu_dereference(task->exec_state);
	*dumpable = READ_ONCE(state->dumpable) == TASK_DUMPABLE_OWNER;
	*capable = !*dumpable &&
		   ns_capable_noaudit(state->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
#else
	*dumpable = get_dumpable(mm) == SUID_DUMP_USER;
	*capable = !*dumpable &&
		   ns_capable_noaudit(mm->user_ns, CAP_SYS_PTRACE);
#endif
}

/**
 * zxmem_exec_in_progress() - has an exec of @signal's process begun to
 *	kill the other threads
 * @signal: the target's signal_struct
 *
 * de_thread() points signal->group_exec_task (5.17 on; group_exit_task
 * before) at the exec'ing thread while it waits for the others to die.
 * Before 5.17 a core dump sets group_exit_task too: the process is dying
 * then, which the caller answers the same way.  Kbuild sets
 * ZXMEM_HAVE_GROUP_EXEC_TASK when the headers have the new name.
 *
 * Return: true while such an exec (or, before 5.17, a core dump) runs.
 */
static inline bool zxmem_exec_in_progress(struct signal_struct *signal)
{
#ifdef ZXMEM_HAVE_GROUP_EXEC_TASK
	return READ_ONCE(signal->group_exec_task);
#else
	return READ_ONCE(signal->group_exit_task);
#endif
}

/**
 * zxmem_fault_in_readable() - fault in a user buffer for reading
 * @uaddr: its start, already checked with access_ok()
 * @size: its length
 *
 * fault_in_readable() came in 5.16.  Before, the same walk: one byte of
 * every page the buffer spans, the first one from @uaddr itself.
 *
 * Return: how many bytes, from the first page that could not be faulted
 * in to the end, are left; 0 if all of it is readable now.
 */
static inline size_t zxmem_fault_in_readable(const char __user *uaddr,
					     size_t size)
{
#ifdef ZXMEM_HAVE_FAULT_IN_READABLE
	return fault_in_readable(uaddr, size);
#else
	unsigned long addr = (unsigned long)uaddr, end = addr + size;
	char byte;

	while (addr < end) {
		if (__get_user(byte, (const char __user *)addr))
			return end - addr;
		addr = (addr | ~PAGE_MASK) + 1;
	}
	(void)byte;	/* only the fault matters */
	return 0;
#endif
}

/*
 * The sanitizers' hooks around a user copy into kernel memory: split in
 * two (before, and after with the bytes left) in 5.16, for KMSAN, which
 * must know what the copy wrote.  Before, one hook, called before the
 * copy.  Kbuild sets ZXMEM_HAVE_INSTRUMENT_BEFORE for the split form.
 */
#ifdef ZXMEM_HAVE_INSTRUMENT_BEFORE
#define zxmem_instrument_copy_from_user_before(to, from, n) \
	instrument_copy_from_user_before(to, from, n)
#define zxmem_instrument_copy_from_user_after(to, from, n, left) \
	instrument_copy_from_user_after(to, from, n, left)
#else
#define zxmem_instrument_copy_from_user_before(to, from, n) \
	instrument_copy_from_user(to, from, n)
#define zxmem_instrument_copy_from_user_after(to, from, n, left) \
	do { } while (0)
#endif

/*
 * kmap_local_page() and kunmap_local() came in 5.11.  Before, a kernel
 * without highmem (every 64-bit one zxmem is built for) maps every page
 * at page_address(), and the copy under it may fault and sleep as it
 * does under kmap_local_page().
 */
#ifdef ZXMEM_HAVE_KMAP_LOCAL
static inline void *zxmem_kmap(struct page *page)
{
	return kmap_local_page(page);
}

static inline void zxmem_kunmap(void *kaddr)
{
	kunmap_local(kaddr);
}
#elif !defined(CONFIG_HIGHMEM)
static inline void *zxmem_kmap(struct page *page)
{
	return page_address(page);
}

static inline void zxmem_kunmap(void *kaddr)
{
}
#else
#error "zxmem needs kmap_local_page() (Linux 5.11) on a kernel with CONFIG_HIGHMEM"
#endif

#endif /* _ZXMEM_COMPAT_H */
