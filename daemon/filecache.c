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
	free(fc->pending);
	fc->pending = NULL;
	fc->n_pending = fc->cap_pending = 0;
}

static void add_pending(struct filecache *fc, const struct file_key *key)
{
	if (fc->n_pending == fc->cap_pending) {
		size_t ncap = fc->cap_pending ? fc->cap_pending * 2 : 64;
		void *n = realloc(fc->pending, ncap * sizeof(*fc->pending));

		if (!n)
			return; /* stays unnamed; counted nowhere worse than unknown */
		fc->pending = n;
		fc->cap_pending = ncap;
	}
	fc->pending[fc->n_pending++] = *key;
}

struct file_entry *filecache_touch(struct filecache *fc, const struct file_key *key, int64_t now)
{
	struct file_key k = *key;
	struct file_entry *e;
	bool is_new;

	e = hashtab_put(&fc->tab, &k, &is_new);
	if (!e)
		return NULL;
	if (is_new) {
		e->dirty = true;
		add_pending(fc, &k);
	}
	if (now > e->last_seen)
		e->last_seen = now;
	return e;
}

void filecache_recheck(struct filecache *fc, const struct file_key *key)
{
	struct file_entry *e = hashtab_get(&fc->tab, key);

	if (!e || !e->final || e->deleted)
		return;
	e->final = false;
	e->tries = 0;
	add_pending(fc, key);
}

void filecache_forget_tx(struct filecache *fc, uint64_t tx)
{
	struct file_entry *e;
	size_t pos = 0;

	while (hashtab_next(&fc->tab, &pos, NULL, (void **)&e))
		if (e->db_id && e->written_tx == tx) {
			e->db_id = 0;
			e->dirty = true;
		}
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
	struct file_entry **waiting = NULL;
	size_t n = 0, kept = 0;

	if (fc->n_pending) {
		queries = calloc(fc->n_pending, sizeof(*queries));
		waiting = calloc(fc->n_pending, sizeof(*waiting));
		if (!queries || !waiting)
			goto out;
	}
	for (size_t i = 0; i < fc->n_pending; i++) {
		struct file_key *k = &fc->pending[i];
		struct file_entry *e = hashtab_get(&fc->tab, k);
		char *path = NULL;
		bool deleted = false;
		int r;

		if (!e || e->final)
			continue;
		e->tries++;
		if (k->kind == FILE_KIND_BDEV) {
			set_path(e, bdev_path(sys_dir, k->dev), "bdev", false);
			continue;
		}
		r = resolver ? file_resolver_by_handle(resolver, k->dev, k->ino, k->gen, &path,
						       &deleted)
			     : -ENODEV;
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
		queries[n] = (struct file_query){ .dev = k->dev, .ino = k->ino };
		waiting[n++] = e;
		fc->pending[kept++] = *k; /* retried next time unless named below */
	}
	if (n > 0 && resolver && file_resolver_scan_maps(resolver, queries, n) >= 0) {
		for (size_t i = 0; i < n; i++)
			if (queries[i].path) {
				set_path(waiting[i], queries[i].path, "maps", queries[i].deleted);
				queries[i].path = NULL;
			}
	}
	for (size_t i = 0; i < n; i++)
		if (!waiting[i]->final && waiting[i]->tries >= FILECACHE_MAX_TRIES)
			waiting[i]->final = true;
	/* Keep only what is still unnamed and has tries left. */
	{
		size_t j = 0;

		for (size_t i = 0; i < kept; i++) {
			struct file_entry *e = hashtab_get(&fc->tab, &fc->pending[i]);

			if (e && !e->final)
				fc->pending[j++] = fc->pending[i];
		}
		fc->n_pending = j;
	}
	if (resolver)
		file_resolver_close_mounts(resolver);
	file_query_clear(queries, n);
out:
	free(queries);
	free(waiting);
}
