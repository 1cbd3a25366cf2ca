// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * File identity cache.  A file's identity includes its inode generation,
 * so when an inode number is reused the new file gets a new entry and can
 * never inherit the old path.  Resolution failures are sorted: a stale
 * handle means the inode is gone (the file was deleted), a filesystem
 * without usable handles or a dentry the kernel cannot name goes to the
 * /proc/PID/maps pass, and after FILECACHE_MAX_TRIES the path stays NULL.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysmacros.h>
#include "filecache.h"
#include "util.h"

void filecache_init(struct filecache *fc)
{
	hashtab_init(&fc->tab, sizeof(struct file_key), sizeof(struct file_entry));
}

void filecache_done(struct filecache *fc)
{
	struct file_entry *e;
	size_t pos = 0;

	while (hashtab_next(&fc->tab, &pos, NULL, (void **)&e))
		free(e->path);
	hashtab_done(&fc->tab);
}

struct file_entry *filecache_touch(struct filecache *fc, const struct file_key *key, int64_t now)
{
	struct file_key k = *key;
	struct file_entry *e;
	bool is_new;

	e = hashtab_put(&fc->tab, &k, &is_new);
	if (!e)
		return NULL;
	if (is_new)
		e->dirty = true;
	if (now > e->last_seen)
		e->last_seen = now;
	return e;
}

char *bdev_path(const char *sys_dir, uint64_t dev)
{
	char link[PATH_MAX], target[PATH_MAX], *name, *out;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sys_dir, major(dev), minor(dev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = 0;
	name = strrchr(target, '/');
	name = name ? name + 1 : target;
	if (asprintf(&out, "/dev/%s", name) < 0)
		return NULL;
	return out;
}

static void set_path(struct file_entry *e, char *path, const char *source, bool deleted)
{
	free(e->path);
	e->path = path;
	e->source = source;
	e->deleted = deleted;
	e->final = true;
	e->dirty = true;
}

void filecache_resolve(struct filecache *fc, struct file_resolver *resolver, const char *sys_dir)
{
	struct file_query *queries = NULL;
	struct file_entry **pending = NULL;
	size_t n = 0, cap = 0, pos = 0;
	struct file_key *k;
	struct file_entry *e;

	while (hashtab_next(&fc->tab, &pos, (void **)&k, (void **)&e)) {
		char *path = NULL;
		bool deleted = false;
		int r;

		if (e->final)
			continue;
		e->tries++;
		if (k->kind == FILE_KIND_BDEV) {
			set_path(e, bdev_path(sys_dir, k->dev), "bdev", false);
			continue;
		}
		if (!resolver) {
			e->final = e->tries >= FILECACHE_MAX_TRIES;
			continue;
		}
		r = file_resolver_by_handle(resolver, k->dev, k->ino, k->gen, &path, &deleted);
		if (r == 0) {
			set_path(e, path, "handle", deleted);
			continue;
		}
		if (r == -ESTALE) {
			/* The inode is gone (deleted; its number may be reused), except
			 * for ext2/3/4's reserved inodes below 11 (journal, resize ...),
			 * which refuse handles but are no files anyone deleted. */
			e->deleted = k->ino >= 11;
			e->final = true;
			e->dirty = true;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *q = realloc(queries, ncap * sizeof(*queries));
			void *p = q ? realloc(pending, ncap * sizeof(*pending)) : NULL;

			if (q)
				queries = q;
			if (!p)
				break;
			pending = p;
			cap = ncap;
		}
		queries[n] = (struct file_query){ .dev = k->dev, .ino = k->ino };
		pending[n++] = e;
	}
	if (n > 0 && file_resolver_scan_maps(resolver, queries, n) >= 0) {
		for (size_t i = 0; i < n; i++) {
			if (queries[i].path) {
				set_path(pending[i], queries[i].path, "maps", queries[i].deleted);
				queries[i].path = NULL;
			} else if (pending[i]->tries >= FILECACHE_MAX_TRIES) {
				pending[i]->final = true;
			}
		}
	}
	if (resolver)
		file_resolver_close_mounts(resolver);
	file_query_clear(queries, n);
	free(queries);
	free(pending);
}
