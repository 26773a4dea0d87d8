/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels zxmem builds for, behind small helpers,
 * so that zxmem.c reads as if written for one kernel.
 */
#ifndef _ZXMEM_COMPAT_H
#define _ZXMEM_COMPAT_H

#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/string.h>

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
 * zxmem_pin_user_pages_remote() - pin_user_pages_remote() without @vmas
 * @mm: the target's mm, with its mmap lock held for reading
 * @start: first page's address
 * @nr_pages: pages to pin
 * @gup_flags: FOLL_* flags
 * @pages: where the pinned pages go
 * @locked: as for pin_user_pages_remote()
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

#endif /* _ZXMEM_COMPAT_H */
