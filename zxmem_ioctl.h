/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The decisions behind the zxmem ioctls, as pure functions of their inputs.
 *
 * zxmem.c gathers facts from the kernel (the file, the task, the VMAs) and
 * these functions turn them into a zx_status_t.  They touch no kernel state,
 * so KUnit can drive every branch with fabricated inputs.  The order of the
 * steps and the status each one answers are in Documentation/zxmem.rst.
 */
#ifndef _ZXMEM_IOCTL_H
#define _ZXMEM_IOCTL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/kernel.h>

#include "uapi/linux/zxmem.h"
#include "uapi/zircon/errors.h"

/**
 * zxmem_check_args() - validate a request before any object is looked up
 * @io: the request as copied from user space
 *
 * Return: ZX_OK, or ZX_ERR_INVALID_ARGS for unknown flags, a non-zero
 * reserved field, a NULL buffer, a size of 0 or above 64 MiB, or (on a
 * 32-bit kernel) an address or buffer above 4 GiB.
 */
static inline int zxmem_check_args(const struct zxmem_io *io)
{
	/* Unknown bits must fail now, so they can get a meaning later. */
	if (io->flags || io->reserved)
		return ZX_ERR_INVALID_ARGS;
	if (!io->buffer)
		return ZX_ERR_INVALID_ARGS;
	if (!io->buffer_size || io->buffer_size > ZXMEM_MAX_TRANSFER)
		return ZX_ERR_INVALID_ARGS;
	/* A 32-bit kernel must not cut an address down to its low half. */
	if (BITS_PER_LONG == 32 && upper_32_bits(io->vaddr | io->buffer))
		return ZX_ERR_INVALID_ARGS;
	return ZX_OK;
}

/* The flags a batched call may carry. */
#define ZXMEM_VEC_FLAGS		(ZXMEM_VEC_EXCHANGE | ZXMEM_VEC_STOP)

/**
 * zxmem_check_vec() - validate a batched request's own fields
 * @vec: the request as copied from user space
 * @write: the request writes
 *
 * Return: ZX_OK, or ZX_ERR_INVALID_ARGS for unknown flags, an exchange
 * that does not write, a non-zero reserved field, no array, a count of 0
 * or above %ZXMEM_MAX_SEGMENTS, or (on a 32-bit kernel) an array above
 * 4 GiB.
 */
static inline int zxmem_check_vec(const struct zxmem_vec *vec, bool write)
{
	if ((vec->flags & ~ZXMEM_VEC_FLAGS) || vec->reserved)
		return ZX_ERR_INVALID_ARGS;
	if ((vec->flags & ZXMEM_VEC_EXCHANGE) && !write)
		return ZX_ERR_INVALID_ARGS;
	if (!vec->segments || !vec->count || vec->count > ZXMEM_MAX_SEGMENTS)
		return ZX_ERR_INVALID_ARGS;
	if (BITS_PER_LONG == 32 && upper_32_bits(vec->segments))
		return ZX_ERR_INVALID_ARGS;
	return ZX_OK;
}

/**
 * zxmem_check_segment() - validate one segment's fields
 * @seg: the segment as copied from user space
 * @exchange: the call has %ZXMEM_VEC_EXCHANGE
 *
 * The checks of zxmem_check_args() for the segment's range, and @old given
 * exactly when the call exchanges, its @size bytes apart from @buffer's.
 * Overlapping, the exchange would store old bytes over the new ones it is
 * still reading, and what reaches the target would depend on the order of
 * the copy; such a segment is refused before anything is touched.  The
 * distances are taken modulo 2^64, so a range that wraps counts as
 * overlapping too (none lies in user space: access_ok() refuses it anyway).
 *
 * Return: ZX_OK or ZX_ERR_INVALID_ARGS.
 */
static inline int zxmem_check_segment(const struct zxmem_segment *seg,
				      bool exchange)
{
	if (seg->reserved || !seg->buffer || exchange != !!seg->old)
		return ZX_ERR_INVALID_ARGS;
	if (!seg->size || seg->size > ZXMEM_MAX_TRANSFER)
		return ZX_ERR_INVALID_ARGS;
	if (exchange && (seg->old - seg->buffer < seg->size ||
			 seg->buffer - seg->old < seg->size))
		return ZX_ERR_INVALID_ARGS;
	if (BITS_PER_LONG == 32 &&
	    upper_32_bits(seg->vaddr | seg->buffer | seg->old))
		return ZX_ERR_INVALID_ARGS;
	return ZX_OK;
}

/*
 * One machine word of a page, seen as its bytes, so that merging bytes
 * into it does not depend on the byte order.
 */
union zxmem_word {
	unsigned long word;
	u8 bytes[sizeof(unsigned long)];
};

/*
 * Failed cmpxchg()es of one word, each a store by someone else in
 * between, after which zxmem_exchange() lets others run and gives up if
 * the caller is being killed.
 */
#define ZXMEM_EXCHANGE_SPINS	64

/**
 * zxmem_exchange() - replace bytes, returning the ones replaced
 * @dst: the bytes to replace (in a kernel mapping of the target's page)
 * @new: the bytes to store
 * @old: out: the bytes each store replaced
 * @len: how many
 *
 * Word by word: each aligned machine word that [@dst, @dst + @len) touches
 * is read and replaced by one cmpxchg(), retried until no other store to
 * the word came between, so each byte of @old is the value the store of
 * the byte replaced.  A concurrent store by anyone (a thread of the target,
 * GUP, another zxmem call) to those bytes lands wholly before or wholly
 * after ours: it is in @old, or it overwrites the new byte, never lost in
 * between.  Segments longer than a word are exchanged one word at a time,
 * not in one step.  A word another CPU keeps storing to cannot hold the
 * caller forever: every ZXMEM_EXCHANGE_SPINS failures it reschedules, and
 * stops if it has a fatal signal.
 *
 * Return: the bytes exchanged, @len unless the caller is being killed.
 */
static inline size_t zxmem_exchange(u8 *dst, const u8 *new, u8 *old,
				    size_t len)
{
	size_t done = 0;

	while (done < len) {
		size_t first = (uintptr_t)(dst + done) % sizeof(unsigned long);
		unsigned long *word = (unsigned long *)(dst + done - first);
		size_t n = min(sizeof(unsigned long) - first, len - done);
		union zxmem_word cur, next;
		unsigned int spins = 0;
		unsigned long seen;

		cur.word = READ_ONCE(*word);
		for (;;) {
			next = cur;
			memcpy(next.bytes + first, new + done, n);
			seen = cmpxchg(word, cur.word, next.word);
			if (seen == cur.word)
				break;
			cur.word = seen;
			if (++spins % ZXMEM_EXCHANGE_SPINS)
				continue;
			cond_resched();
			if (fatal_signal_pending(current))
				return done;
		}
		memcpy(old + done, cur.bytes + first, n);
		done += n;
	}
	return done;
}

/**
 * struct zxmem_caller - what the access rule knows about the caller
 * @fd_writable: /dev/zxmem was opened for writing
 * @same_group: the target is in the caller's thread group
 * @tracer: the caller is the target's active ptrace tracer
 * @dumpable: the target's mm is dumpable (SUID_DUMP_USER)
 * @capable: the caller has CAP_SYS_PTRACE in the mm's user namespace
 *
 * @dumpable and @capable are known only once the mm has been taken; until
 * then zxmem_decide_relation() looks at the first three alone.
 */
struct zxmem_caller {
	bool fd_writable;
	bool same_group;
	bool tracer;
	bool dumpable;
	bool capable;
};

/**
 * zxmem_decide_relation() - the first half of the right: who the caller is
 * @caller: facts about the caller and the target
 * @write: the request writes
 *
 * A pidfd carries no rights, so the right is the caller's relation to the
 * target: its own thread group, or a tracee of the calling thread.  A
 * tracer has passed ptrace_may_access() and the LSM hooks when it attached;
 * a module cannot call them itself.
 *
 * Return: ZX_OK or ZX_ERR_ACCESS_DENIED.
 */
static inline int zxmem_decide_relation(const struct zxmem_caller *caller,
					bool write)
{
	if (write && !caller->fd_writable)
		return ZX_ERR_ACCESS_DENIED;
	if (caller->same_group || caller->tracer)
		return ZX_OK;
	return ZX_ERR_ACCESS_DENIED;
}

/**
 * zxmem_decide_mm_access() - the second half: may a tracer touch this mm
 * @caller: facts about the caller, with @dumpable and @capable filled in
 *
 * The rule PTRACE_POKEDATA applies: a tracee whose mm is not dumpable (it
 * ran a setuid program, or asked with PR_SET_DUMPABLE) is reachable only
 * with CAP_SYS_PTRACE over the mm's user namespace.
 *
 * Return: ZX_OK or ZX_ERR_ACCESS_DENIED.
 */
static inline int zxmem_decide_mm_access(const struct zxmem_caller *caller)
{
	if (caller->same_group || caller->dumpable || caller->capable)
		return ZX_OK;
	return ZX_ERR_ACCESS_DENIED;
}

/**
 * zxmem_is_vdso_name() - is this the name of the vDSO or its data pages
 * @name: the special mapping's name, or NULL for a mapping without one
 *
 * Covers "[vdso]", "[vvar]" and the "[vvar_vclock]" of newer kernels.
 *
 * Return: true if writes must not reach the mapping.
 */
static inline bool zxmem_is_vdso_name(const char *name)
{
	if (!name)
		return false;
	return !strcmp(name, "[vdso]") || !strncmp(name, "[vvar", 5);
}

/**
 * enum zxmem_force - the values of the force_override module parameter
 * @ZXMEM_FORCE_ALWAYS: writes may copy-on-write into any private mapping
 *	(Zircon's behaviour, the default)
 * @ZXMEM_FORCE_PTRACE: only a tracer may; a process never into itself
 * @ZXMEM_FORCE_NEVER: no write goes where the mapping has no VM_WRITE
 *
 * The kernel's proc_mem.force_override has the same three, for
 * /proc/PID/mem.
 */
enum zxmem_force {
	ZXMEM_FORCE_ALWAYS,
	ZXMEM_FORCE_PTRACE,
	ZXMEM_FORCE_NEVER,
};

/**
 * zxmem_force_allowed() - may this caller force a write
 * @mode: an enum zxmem_force value
 * @same_group: the caller writes its own process (else it is a tracer)
 *
 * Return: true if writes into mappings without VM_WRITE are allowed.
 */
static inline bool zxmem_force_allowed(int mode, bool same_group)
{
	switch (mode) {
	case ZXMEM_FORCE_ALWAYS:
		return true;
	case ZXMEM_FORCE_PTRACE:
		return !same_group;
	default:
		return false;
	}
}

/**
 * zxmem_gup_flags() - the FOLL_* flags for pinning the target's pages
 * @write: the request writes
 * @may_force: zxmem_force_allowed() said yes
 *
 * Return: FOLL_FORCE for every read; for a write FOLL_WRITE, and
 * FOLL_FORCE only if forcing is allowed.
 */
static inline unsigned int zxmem_gup_flags(bool write, bool may_force)
{
	if (!write)
		return FOLL_FORCE;
	return FOLL_WRITE | (may_force ? FOLL_FORCE : 0);
}

/**
 * zxmem_vma_status() - may the copy run through a mapping with these flags
 * @vm_flags: the VMA's flags
 * @write: the request writes
 * @may_force: a write may go where the mapping has no VM_WRITE
 *
 * Mirrors what get_user_pages() accepts, so that a refusal is reported
 * before anything is copied: I/O and PFN mappings have no struct page to
 * copy through, and a forced write needs a private (copy-on-write)
 * mapping unless the mapping is writable already.  Whether GUP forces a
 * write into a private hugetlb mapping depends on the kernel (6.1 refuses,
 * 7.x accepts), so that is left to GUP (zxmem_copy_status()).
 *
 * Return: ZX_OK, ZX_ERR_BAD_STATE for memory that is not cacheable, or
 * ZX_ERR_ACCESS_DENIED for a mapping that cannot (or may not) be forced.
 */
static inline int zxmem_vma_status(vm_flags_t vm_flags, bool write,
				   bool may_force)
{
	bool cow = (vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;

	if (vm_flags & (VM_IO | VM_PFNMAP))
		return ZX_ERR_BAD_STATE;
	if (write && !(vm_flags & VM_WRITE) && (!may_force || !cow))
		return ZX_ERR_ACCESS_DENIED;
	if (!write && !(vm_flags & (VM_READ | VM_MAYREAD)))
		return ZX_ERR_ACCESS_DENIED;
	return ZX_OK;
}

/**
 * zxmem_page_bits() - the pages of a batch that a range covers
 * @first: page-aligned address of the batch's first page
 * @start: first byte of the range, >= @first
 * @end: end of the range, > @start, within BITS_PER_LONG pages of @first
 *
 * Return: bit n set for each n-th page of the batch that [@start, @end)
 * touches.
 */
static inline unsigned long zxmem_page_bits(unsigned long first,
					    unsigned long start,
					    unsigned long end)
{
	return GENMASK((end - 1 - first) >> PAGE_SHIFT,
		       (start - first) >> PAGE_SHIFT);
}

/**
 * zxmem_range_end() - the end of [@vaddr, @vaddr + @size)
 * @vaddr: start of the range
 * @size: its length
 *
 * Return: @vaddr + @size, or ULONG_MAX where the sum would wrap.  A range
 * that wraps lies past the end of user space, so no mapping is lost.
 */
static inline unsigned long zxmem_range_end(unsigned long vaddr, u64 size)
{
	unsigned long end;

	if (check_add_overflow(vaddr, (unsigned long)size, &end) ||
	    size > ULONG_MAX)
		return ULONG_MAX;
	return end;
}

/**
 * zxmem_overlaps() - do [@start, @end) and [@vm_start, @vm_end) intersect
 * @start: start of the requested range
 * @end: its end, exclusive
 * @vm_start: start of a mapping
 * @vm_end: its end, exclusive
 *
 * Return: true if at least one byte is in both.
 */
static inline bool zxmem_overlaps(unsigned long start, unsigned long end,
				  unsigned long vm_start, unsigned long vm_end)
{
	return start < vm_end && vm_start < end;
}

/**
 * zxmem_chunk_len() - how much the next step of the copy moves
 * @done: bytes already copied
 * @len: bytes to copy in all, at least @done
 * @chunk: the bounce buffer's size
 *
 * Return: the bytes for the next step, at most @chunk; 0 when done.
 */
static inline size_t zxmem_chunk_len(size_t done, size_t len, size_t chunk)
{
	return min(len - done, chunk);
}

/**
 * zxmem_pages_spanned() - how many pages a run of bytes touches
 * @offset: where the run starts within its first page
 * @len: its length, at least 1
 *
 * Return: the number of pages from the first byte's to the last byte's.
 */
static inline unsigned long zxmem_pages_spanned(size_t offset, size_t len)
{
	return DIV_ROUND_UP(offset + len, PAGE_SIZE);
}

/**
 * zxmem_pool_index() - where a range's pages lie in a run of pinned pages
 * @vaddr: the range's first byte
 * @size: its length, at least 1
 * @run: the address of the run's first page
 * @pages: how many pages the run holds
 *
 * Return: the index in the run of the range's first page if every page
 * the range touches is in the run; -ENOENT if it touches none of them;
 * -EBUSY if it touches some of them and pages outside the run.
 */
static inline long zxmem_pool_index(unsigned long vaddr, u64 size,
				    unsigned long run, unsigned long pages)
{
	unsigned long start = vaddr & PAGE_MASK;
	unsigned long end = zxmem_range_end(vaddr, size);
	unsigned long run_end = run + pages * PAGE_SIZE;

	if (!zxmem_overlaps(start, end, run, run_end))
		return -ENOENT;
	if (start >= run && end <= run_end)
		return (start - run) >> PAGE_SHIFT;
	return -EBUSY;
}

/*
 * Times a copy goes on without getting further after the caller's buffer
 * faulted and was faulted in again.
 */
#define ZXMEM_BUFFER_RETRIES	2

/**
 * struct zxmem_retries - how a call's copy has fared with its buffer faults
 * @furthest: the furthest offset into the buffer that has faulted
 * @since: retries since the faults last moved past @furthest
 *
 * A member added here needs its line in zxmem_seg_start() (zxmem.c),
 * which sets each one by name.
 */
struct zxmem_retries {
	size_t furthest;
	unsigned int since;
};

/**
 * zxmem_may_retry() - may the copy go on after a fault it recovered from
 * @r: the call's count, updated
 * @offset: where the buffer faulted, the page now present
 *
 * Only progress resets the count, so the retries of a call are bounded
 * (by ZXMEM_BUFFER_RETRIES + 1 per faulting offset, which only grows),
 * even when another thread keeps remapping the buffer.
 *
 * Return: true if the copy may retry from @offset.
 */
static inline bool zxmem_may_retry(struct zxmem_retries *r, size_t offset)
{
	if (offset > r->furthest) {
		r->furthest = offset;
		r->since = 0;
	}
	return r->since++ < ZXMEM_BUFFER_RETRIES;
}

/**
 * zxmem_copy_status() - the status of a copy that has stopped
 * @done: bytes copied into (or out of) the target
 * @buffer_fault: the caller's own buffer faulted and is bad (not just
 *	short of memory: that only stops the copy)
 * @pin_error: what pinning the first page answered, if it failed
 * @forced_hugetlb: the write forces its way into a hugetlb mapping
 *
 * Return: ZX_ERR_INVALID_ARGS if the caller's buffer is bad (the seed's
 * "invalid pointer"); ZX_ERR_ACCESS_DENIED if nothing was copied because
 * this kernel's GUP refuses to force a write into hugetlb (-EFAULT);
 * ZX_ERR_NO_MEMORY if not one byte of the target could be reached; else
 * ZX_OK: a short copy is a success that reports @done.
 */
static inline int zxmem_copy_status(size_t done, bool buffer_fault,
				    long pin_error, bool forced_hugetlb)
{
	if (buffer_fault)
		return ZX_ERR_INVALID_ARGS;
	if (!done && forced_hugetlb && pin_error == -EFAULT)
		return ZX_ERR_ACCESS_DENIED;
	if (!done)
		return ZX_ERR_NO_MEMORY;
	return ZX_OK;
}
#endif /* _ZXMEM_IOCTL_H */
