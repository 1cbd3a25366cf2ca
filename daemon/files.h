/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File-path resolver: turns the (dev, ino, generation) triple that the BPF
 * side reports for a page-cache file into a path.  The primary method opens
 * the inode by file handle (open_by_handle_at, FILEID_INO32_GEN) through a
 * cached fd of one of its mounts and asks the kernel for the path (host
 * view); the fallback scans /proc/PID/maps of live processes for many files
 * at once (the mapping process's view).  Library code: never logs.
 */
#ifndef CACHEWATCH_FILES_H
#define CACHEWATCH_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum file_path_source {
	FILE_PATH_NONE = 0,      /* not resolved */
	FILE_PATH_HANDLE = 1,    /* open_by_handle_at */
	FILE_PATH_PROC_MAPS = 2, /* /proc/PID/maps of a live process */
};

struct file_resolver;

/*
 * proc_dir is normally "/proc"; tests pass a fixture dir containing
 * self/mountinfo and <pid>/maps files.  Reads proc_dir/self/mountinfo
 * at once, so a missing or unreadable one fails here.
 */
int file_resolver_new(const char *proc_dir, struct file_resolver **ret);

/* Closes the cached mount fds.  NULL-safe, returns NULL. */
struct file_resolver *file_resolver_free(struct file_resolver *r);

/* For _cleanup_(file_resolver_freep). */
static inline void file_resolver_freep(struct file_resolver **r)
{
	file_resolver_free(*r);
}

/*
 * Resolve by handle.  0 and *ret_path (malloc'd) on success; *ret_deleted
 * is true when the inode is unlinked (the " (deleted)" suffix the kernel
 * appends is stripped).  A path that is not deleted has been checked with
 * lstat() to name exactly (dev, ino) from this process's root.  On error
 * *ret_path and *ret_deleted are left alone.
 *
 * -ESTALE: generation mismatch, or the inode is gone (its number may have
 *	been reused: the other file's path is never returned).  gen == 0 is
 *	checked here, because ext2/3/4 treat a zero generation as "any".
 * -ENODEV: no mount of dev in mountinfo (reloaded once on a miss), or none
 *	of its mount points can be opened on that dev (all over-mounted).
 * -EOPNOTSUPP: the filesystem does not take an INO32_GEN handle (only
 *	ext2/ext3/ext4/xfs are tried), or ino does not fit 32 bits.
 * -EPERM: lacking CAP_DAC_READ_SEARCH (in the initial user namespace),
 *	from open_by_handle_at() or as a mount point we may not open.
 * -ENOENT: the inode lives but the kernel cannot name it from our root:
 *	a disconnected dentry (inode cached without its dentry), a path that
 *	escapes the bind mount used, an over-mounted path, or a rename race.
 *	Worth retrying later or through file_resolver_scan_maps().
 * Other negative errno values come straight from the system calls.
 */
int file_resolver_by_handle(struct file_resolver *r, uint64_t dev,
			    uint64_t ino, uint32_t gen, char **ret_path,
			    bool *ret_deleted);

/*
 * Fallback for many files at once.  path is NULL on entry for every query
 * still to be resolved; queries whose path is already set are left alone.
 * One pass over proc_dir/[0-9]+/maps fills path (malloc'd, " (deleted)"
 * stripped) and deleted for each query whose (dev, ino) appears in some
 * process's maps; the first match wins and the pass stops as soon as every
 * query has a path.  The path is as the mapping process sees it (its mount
 * namespace and root), and files mapped through overlayfs show the overlay
 * dev, not the dev of the layer that holds the page cache.
 * Returns the number of queries resolved by this call, or -errno; on error
 * no query is changed.  Processes that vanish or hide their maps (ENOENT,
 * ESRCH, EACCES, EPERM) are skipped.
 */
struct file_query {
	uint64_t dev;
	uint64_t ino;
	char *path;
	bool deleted;
};
int file_resolver_scan_maps(struct file_resolver *r, struct file_query *q,
			    size_t n);

/* Free every q[i].path and reset the queries to unresolved. */
void file_query_clear(struct file_query *q, size_t n);

/*
 * Re-read proc_dir/self/mountinfo now (file_resolver_by_handle only does it
 * on a miss).  Cached fds of mounts still present are kept; the others are
 * closed, which lets a lazily unmounted filesystem go away.  On error the
 * old table stays.
 */
int file_resolver_reload_mounts(struct file_resolver *r);

/*
 * Close the cached mount fds (file_resolver_by_handle reopens them when
 * needed).  Each one keeps its filesystem busy: umount(8) fails with EBUSY
 * while the resolver holds it, so a long-running caller should call this
 * after each batch of lookups.
 */
void file_resolver_close_mounts(struct file_resolver *r);

/*
 * The mount that file_resolver_by_handle() tries first for dev: a mount
 * whose root is "/" with the shortest mount point, else the one with the
 * shortest mount point.  Strings are decoded (no \040 escapes) and stay
 * valid until the next reload or file_resolver_free().  -ENODEV when dev
 * has no mount; never reloads.
 */
struct file_mount {
	uint64_t dev;
	int mount_id;
	const char *root;
	const char *mount_point;
	const char *fstype;
};
int file_resolver_find_mount(struct file_resolver *r, uint64_t dev,
			     struct file_mount *ret);

/* Work counters, cumulative since file_resolver_new(). */
struct file_resolver_stats {
	uint64_t mountinfo_loads; /* times mountinfo was parsed */
	uint64_t handle_opens;    /* open_by_handle_at() calls */
	uint64_t maps_files;      /* maps files opened by scans */
	uint64_t maps_lines;      /* maps lines parsed by scans */
};
void file_resolver_get_stats(const struct file_resolver *r,
			     struct file_resolver_stats *ret);

/*
 * Parse one /proc/PID/maps line (without its trailing newline):
 *	start-end perms offset MM:mm inode   pathname
 * MM:mm are the hex major:minor of the file's st_dev; *dev gets the
 * user-space (makedev) form.  Returns 1 for a file mapping, with
 * *path_start pointing into line at the pathname (possibly "", possibly
 * ending in " (deleted)"; only a newline is escaped by the kernel, as
 * \012, and it is left as is); 0 for a line without a file (inode 0:
 * anonymous, [heap], [stack] ...); -EINVAL for a malformed line.
 */
int maps_parse_line(const char *line, uint64_t *dev, uint64_t *ino,
		    const char **path_start);

#endif
