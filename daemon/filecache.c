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

void filecache_entry_free(struct file_entry *e)
{
	free(e->path);
	free(e->container_path);
	free(e->mapped_path);
	free(e->note);
}

void filecache_init(struct filecache *fc)
{
	hashtab_init(&fc->tab, sizeof(struct file_key), sizeof(struct file_entry));
}

void filecache_done(struct filecache *fc)
{
	struct file_entry *e;
	size_t pos = 0;

	while (hashtab_next(&fc->tab, &pos, NULL, (void **)&e))
		filecache_entry_free(e);
	hashtab_done(&fc->tab);
	free(fc->pending);
	fc->pending = NULL;
	fc->n_pending = fc->cap_pending = 0;
}

static void add_pending(struct filecache *fc, const struct file_key *key)
{
	/* Out of memory: the file just stays unnamed. */
	if (grow_array((void **)&fc->pending, &fc->cap_pending, fc->n_pending + 1,
		       sizeof(*key)) == 0)
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

static void replace(char **field, const char *value)
{
	char *copy;

	if (*field && value && strcmp(*field, value) == 0)
		return;
	copy = value ? strdup(value) : NULL;
	if (value && !copy)
		return;
	free(*field);
	*field = copy;
}

void filecache_learn_mapping(struct filecache *fc, const struct file_key *key, const char *path,
			     bool host_view, int64_t now)
{
	struct file_entry *e = filecache_touch(fc, key, now);
	char *before;

	if (!e)
		return;
	if (host_view) {
		replace(&e->mapped_path, path);
		return;
	}
	before = e->container_path;
	if (!before || strcmp(before, path) != 0) {
		replace(&e->container_path, path);
		e->dirty = true;
	}
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
	e->source = path ? source : NULL;
	e->deleted = deleted;
	e->final = true;
	e->dirty = true;
	free(e->note);
	e->note = NULL;
}

/* Why a file could not be named by handle (kept if the maps scan fails too). */
static void set_note(struct file_entry *e, struct file_resolver *resolver,
		     const struct file_key *k, int err)
{
	struct file_mount m;
	char buf[256];

	switch (err) {
	case -EOPNOTSUPP:
		snprintf(buf, sizeof(buf),
			 "%s takes no inode handles and no process maps the file",
			 resolver && file_resolver_find_mount(resolver, k->dev, &m) == 0 ? m.fstype
										  : "the filesystem");
		break;
	case -ENODEV:
		snprintf(buf, sizeof(buf), "no mount of device %u:%u is visible", major(k->dev),
			 minor(k->dev));
		break;
	case -EPERM:
		snprintf(buf, sizeof(buf), "no permission to open files by handle "
					   "(CAP_DAC_READ_SEARCH)");
		break;
	case -ENOENT:
		snprintf(buf, sizeof(buf), "the kernel cannot name the inode (no cached name) "
					   "and no process maps it");
		break;
	default:
		snprintf(buf, sizeof(buf), "open_by_handle_at: %s", strerror(-err));
	}
	replace(&e->note, buf);
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
		if (k->kind == FILE_KIND_OTHER) {
			set_path(e, strdup("(other files)"), "summed", false);
			continue;
		}
		if (!resolver && !e->mapped_path) {
			set_note(e, NULL, k, -EPERM);
			if (e->tries >= FILECACHE_MAX_TRIES)
				e->final = true;
			else
				fc->pending[kept++] = *k;
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
			replace(&e->note, e->deleted ? "the file no longer exists"
						     : "filesystem metadata inode");
			e->final = true;
			e->dirty = true;
			continue;
		}
		if (e->mapped_path) { /* a process of ours maps it: its path will do */
			set_path(e, strdup(e->mapped_path), "maps", false);
			continue;
		}
		set_note(e, resolver, k, r);
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

struct prune_candidate {
	struct file_key key;
	int64_t last_seen;
};

static int by_age(const void *a, const void *b)
{
	const struct prune_candidate *x = a, *y = b;

	return x->last_seen < y->last_seen ? -1 : x->last_seen > y->last_seen;
}

size_t filecache_prune(struct filecache *fc, int64_t now, size_t max)
{
	struct prune_candidate *cand;
	struct file_key *k;
	struct file_entry *e;
	size_t pos = 0, n = 0, dropped = 0;

	if (fc->tab.count <= max / 2 + 1)
		return 0; /* nothing old enough to matter yet: skip the scan */
	cand = malloc(fc->tab.count * sizeof(*cand) + 1);
	if (!cand)
		return 0;
	while (hashtab_next(&fc->tab, &pos, (void **)&k, (void **)&e))
		if (e->db_id && !e->dirty && e->final)
			cand[n++] = (struct prune_candidate){ *k, e->last_seen };
	qsort(cand, n, sizeof(*cand), by_age);
	for (size_t i = 0; i < n; i++) {
		if (now - cand[i].last_seen < 600 && fc->tab.count <= max)
			break;
		e = hashtab_get(&fc->tab, &cand[i].key);
		if (!e)
			continue;
		filecache_entry_free(e);
		hashtab_del(&fc->tab, &cand[i].key);
		dropped++;
	}
	free(cand);
	return dropped;
}
