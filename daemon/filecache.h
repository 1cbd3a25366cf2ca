/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files cachewatch has seen, keyed by (dev, ino, generation, kind):
 * their database row id and what is known of their path.  New files are
 * resolved once when first seen (by handle, then in one /proc/PID/maps pass
 * for the ones a handle cannot name), retried a few intervals, then left
 * with the path unknown.
 */
#ifndef CACHEWATCH_FILECACHE_H
#define CACHEWATCH_FILECACHE_H

#include <stdbool.h>
#include <stdint.h>
#include "hashtab.h"
#include "files.h"

enum file_kind {
	FILE_KIND_FILE = 0,
	FILE_KIND_BDEV = 1, /* block-device page: dev is the disk, ino 0 */
	FILE_KIND_OTHER = 2, /* small files of an interval, summed (dev CW_DEV_OTHER) */
};

struct file_key {
	uint64_t dev; /* user-space dev_t */
	uint64_t ino;
	uint32_t gen;
	uint32_t kind;
};

struct file_entry {
	int64_t db_id;     /* 0 until written */
	uint64_t written_tx; /* transaction that wrote db_id (see filecache_forget_tx) */
	char *path;        /* host path; NULL while unknown */
	const char *source; /* "handle", "maps", "dpath", "bdev" or NULL */
	char *container_path; /* as a process in another mount namespace sees it */
	char *mapped_path; /* as a process in our namespace maps it (a fallback) */
	char *note;        /* why path is unknown, once resolution gave up */
	int64_t last_seen;
	int64_t written_seen; /* last_seen value last written */
	uint8_t tries;     /* resolution attempts so far */
	bool deleted;
	bool final;        /* no more attempts */
	bool dirty;        /* path or flags changed since written */
};

#define FILECACHE_MAX_TRIES 3

struct filecache {
	struct hashtab tab;        /* struct file_key -> struct file_entry */
	struct file_key *pending;  /* entries still to be named */
	size_t n_pending, cap_pending;
};

void filecache_init(struct filecache *fc);
void filecache_entry_free(struct file_entry *e);
void filecache_done(struct filecache *fc);

/* Entry for key, created if absent; marks it seen at now. NULL on ENOMEM. */
struct file_entry *filecache_touch(struct filecache *fc, const struct file_key *key, int64_t now);

/*
 * What a mapping process sees: from our mount namespace (host_view), the
 * fallback path when the file cannot be opened by handle; from another
 * namespace, the container's path, stored beside the host path.
 */
void filecache_learn_mapping(struct filecache *fc, const struct file_key *key, const char *path,
			     bool host_view, int64_t now);

/* Name the file again at the next resolve (it was just truncated or unlinked). */
void filecache_recheck(struct filecache *fc, const struct file_key *key);

/* A transaction failed: ids it handed out do not exist. */
void filecache_forget_tx(struct filecache *fc, uint64_t tx);

/*
 * Try to name every pending entry: by handle, then one maps scan for the
 * rest.  resolver may be NULL (names only block devices).
 */
void filecache_resolve(struct filecache *fc, struct file_resolver *resolver, const char *sys_dir);

/*
 * Forget entries to stay within max: written ones unseen for 10 minutes
 * first, then the least recently seen written ones (seen again, a file is
 * found in the database by its identity and named anew).  Returns how many
 * were dropped.
 */
size_t filecache_prune(struct filecache *fc, int64_t now, size_t max);

/* "/dev/NAME" for a block device via sys_dir/dev/block/MAJ:MIN; NULL if unknown. */
char *bdev_path(const char *sys_dir, uint64_t dev);

#endif
