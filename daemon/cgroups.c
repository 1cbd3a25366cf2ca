// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Memory cgroup table and hierarchy walk.
 *
 * ids are kernfs ids, the inode numbers of the cgroup directories, which is
 * what the BPF programs read from memcg->css.cgroup->kn->id.  The walk uses
 * libcgroup (cgroup_walk_tree_*, pre-order, directories only) and stat()s
 * every directory for its id.  On cgroup v2 memory.stat counts the whole
 * subtree; a cgroup's own anon/file are then its totals minus its
 * children's, so pressure is never counted twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <libcgroup.h>
#include "cgroups.h"
#include "util.h"

#define WALK_DEPTH_MAX 64

struct cgroups *cgroups_new_table(const char *mount, bool v2, int hierarchy_id)
{
	struct cgroups *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->mount = strdup(mount);
	if (!c->mount) {
		free(c);
		return NULL;
	}
	c->v2 = v2;
	c->hierarchy_id = hierarchy_id;
	hashtab_init(&c->by_id, sizeof(uint64_t), sizeof(struct cgroup_info *));
	return c;
}

struct cgroups *cgroups_free(struct cgroups *c)
{
	struct cgroup_info **v;
	size_t pos = 0;

	if (!c)
		return NULL;
	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v)) {
		free((*v)->path);
		free(*v);
	}
	hashtab_done(&c->by_id);
	free(c->mount);
	free(c);
	return NULL;
}

int cgroups_parse_hierarchy_id(const char *text, const char *controller)
{
	const char *p = text;

	while (p && *p) {
		char name[64];
		int id, num, enabled;

		if (*p != '#' && sscanf(p, "%63s %d %d %d", name, &id, &num, &enabled) == 4 &&
		    strcmp(name, controller) == 0)
			return enabled ? id : -ENOENT;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

char *cgroups_relative_path(const char *mount, const char *full_path)
{
	size_t n = strlen(mount), len;
	const char *rel;
	char *out;

	while (n > 0 && mount[n - 1] == '/')
		n--; /* "/" itself becomes "": every absolute path is under it */
	if (strncmp(full_path, mount, n) != 0 || (full_path[n] && full_path[n] != '/'))
		return NULL;
	rel = full_path + n;
	len = strlen(rel);
	while (len > 1 && rel[len - 1] == '/')
		len--;
	if (len == 0 || (len == 1 && rel[0] == '/'))
		return strdup("/");
	out = malloc(len + 1);
	if (!out)
		return NULL;
	memcpy(out, rel, len);
	out[len] = 0;
	return out;
}

int cgroups_open(struct cgroups **ret, char *err, size_t errlen)
{
	_cleanup_free_ char *proc = NULL;
	char *mount = NULL;
	struct statfs sfs;
	struct cgroups *c;
	size_t cap = 0;
	FILE *f;
	bool v2;
	int r, id;

	r = cgroup_init();
	if (r != 0) {
		snprintf(err, errlen,
			 "no cgroup hierarchy is mounted (libcgroup: %s): cachewatch needs the "
			 "memory controller mounted (v1 /sys/fs/cgroup/memory or cgroup2)",
			 cgroup_strerror(r));
		return -ENOENT;
	}
	r = cgroup_get_subsys_mount_point("memory", &mount);
	if (r != 0 || !mount) {
		snprintf(err, errlen,
			 "the memory cgroup controller is not mounted (libcgroup: %s)",
			 cgroup_strerror(r));
		return -ENOENT;
	}
	if (statfs(mount, &sfs) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot stat memory cgroup mount %s: %s", mount,
			 strerror(-r));
		free(mount);
		return r;
	}
	v2 = sfs.f_type == CGROUP2_SUPER_MAGIC;
	id = 0;
	if (!v2) {
		f = fopen("/proc/cgroups", "re");
		if (f) {
			ssize_t n = getdelim(&proc, &cap, 0, f);

			fclose(f);
			if (n > 0)
				id = cgroups_parse_hierarchy_id(proc, "memory");
		}
		if (id <= 0) {
			snprintf(err, errlen,
				 "cannot find the memory controller's hierarchy in /proc/cgroups");
			free(mount);
			return -ENOENT;
		}
	}
	c = cgroups_new_table(mount, v2, id);
	free(mount);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

struct cgroup_info *cgroups_get(struct cgroups *c, uint64_t id)
{
	struct cgroup_info **v = hashtab_get(&c->by_id, &id);

	return v ? *v : NULL;
}

struct cgroup_info *cgroups_learn(struct cgroups *c, uint64_t id, const char *path, int64_t now)
{
	struct cgroup_info **v, *cg = cgroups_get(c, id);
	bool is_new;

	if (!cg) {
		cg = calloc(1, sizeof(*cg));
		if (!cg)
			return NULL;
		v = hashtab_put(&c->by_id, &id, &is_new);
		if (!v) {
			free(cg);
			return NULL;
		}
		*v = cg;
		cg->id = id;
		cg->first_seen = now;
		memstat_init(&cg->stat);
		memstat_init(&cg->prev);
		cg->dirty = true;
	}
	if (path && (!cg->path || strcmp(cg->path, path) != 0)) {
		char *copy = strdup(path);

		if (copy) {
			free(cg->path);
			cg->path = copy;
			cg->dirty = true;
			cg->is_pod = cgroup_owner_parse(path, &cg->owner);
			cg->names_known = false;
			cg->name_tries = 0;
		}
	}
	if (now > cg->last_seen) {
		cg->last_seen = now;
		/* Every walk sees every cgroup: refresh last_seen rows once a minute. */
		if (now - cg->written_seen >= 60)
			cg->dirty = true;
	}
	return cg;
}

void cgroups_mark_removed(struct cgroups *c, uint64_t id, const char *path, int64_t now)
{
	struct cgroup_info *cg = cgroups_learn(c, id, path, now);

	if (cg && !cg->removed) {
		cg->removed = now;
		cg->have_stat = cg->have_prev = false;
		cg->dirty = true;
	}
}

static int by_last_seen(const void *a, const void *b)
{
	const struct cgroup_info *x = *(struct cgroup_info *const *)a;
	const struct cgroup_info *y = *(struct cgroup_info *const *)b;

	/* Removed ones first, then the least recently seen. */
	if (!!x->removed != !!y->removed)
		return x->removed ? -1 : 1;
	return x->last_seen < y->last_seen ? -1 : x->last_seen > y->last_seen;
}

static void drop(struct cgroups *c, struct cgroup_info *cg)
{
	uint64_t id = cg->id;

	hashtab_del(&c->by_id, &id);
	free(cg->path);
	free(cg);
}

size_t cgroups_prune(struct cgroups *c, int64_t now, size_t max)
{
	struct cgroup_info **v, **cand;
	size_t pos = 0, n = 0, dropped = 0;

	cand = malloc(c->by_id.count * sizeof(*cand) + 1);
	if (!cand)
		return 0;
	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v))
		if (!(*v)->dirty)
			cand[n++] = *v;
	qsort(cand, n, sizeof(*cand), by_last_seen);
	for (size_t i = 0; i < n; i++) {
		bool stale = cand[i]->removed && now - cand[i]->removed >= 600;

		if (!stale && c->by_id.count <= max)
			continue;
		drop(c, cand[i]);
		dropped++;
	}
	free(cand);
	return dropped;
}

bool cgroups_is_under(struct cgroups *c, uint64_t id, uint64_t ancestor_id)
{
	for (int depth = 0; id && depth < WALK_DEPTH_MAX; depth++) {
		struct cgroup_info *cg;

		if (id == ancestor_id)
			return true;
		cg = cgroups_get(c, id);
		if (!cg)
			return false;
		id = cg->parent;
	}
	return false;
}

static void read_stat(struct cgroups *c, struct cgroup_info *cg, const char *full_path)
{
	_cleanup_close_ int dfd = open(full_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct memstat m;

	cg->prev = cg->stat;
	cg->have_prev = cg->have_stat;
	cg->have_stat = false;
	if (dfd >= 0 && memstat_read(&m, dfd, c->v2) == 0) {
		cg->stat = m;
		cg->have_stat = true;
	}
}

/*
 * v2: own = subtree total minus the children's subtree totals.  Parent and
 * child are read at slightly different moments, so the difference can dip
 * below zero: it is clamped to 0, never to -1 (which means "not reported").
 */
void cgroups_derive_own(struct cgroups *c)
{
	struct cgroup_info **v, *parent;
	size_t pos = 0;

	if (!c->v2)
		return;
	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v))
		if ((*v)->have_stat) {
			(*v)->stat.anon = (*v)->stat.total_anon;
			(*v)->stat.file = (*v)->stat.total_file;
		}
	pos = 0;
	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v)) {
		struct cgroup_info *cg = *v;

		if (!cg->have_stat || !cg->parent || cg->walk_gen != c->walk_gen)
			continue;
		parent = cgroups_get(c, cg->parent);
		if (!parent || !parent->have_stat)
			continue;
		if (cg->stat.total_anon > 0 && parent->stat.total_anon >= 0)
			parent->stat.anon -= cg->stat.total_anon;
		if (cg->stat.total_file > 0 && parent->stat.total_file >= 0)
			parent->stat.file -= cg->stat.total_file;
	}
	pos = 0;
	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v)) {
		struct cgroup_info *cg = *v;

		if (!cg->have_stat)
			continue;
		if (cg->stat.total_anon >= 0 && cg->stat.anon < 0)
			cg->stat.anon = 0;
		if (cg->stat.total_file >= 0 && cg->stat.file < 0)
			cg->stat.file = 0;
	}
}

int cgroups_walk(struct cgroups *c, int64_t now)
{
	uint64_t stack[WALK_DEPTH_MAX + 1] = { 0 };
	struct cgroup_file_info info;
	struct cgroup_info **v;
	void *handle = NULL;
	int base, r, ret = 0;
	size_t pos = 0;

	c->walk_gen++;
	r = cgroup_walk_tree_begin("memory", "/", 0, &handle, &info, &base);
	if (r == 0)
		cgroup_walk_tree_set_flags(&handle, CGROUP_WALK_TYPE_PRE_DIR);
	else
		ret = -EIO; /* nothing visited: every reading below becomes stale */
	while (r == 0) {
		struct stat st;

		if (info.type == CGROUP_FILE_TYPE_DIR && info.depth >= 0 &&
		    info.depth <= WALK_DEPTH_MAX && stat(info.full_path, &st) == 0) {
			_cleanup_free_ char *rel = cgroups_relative_path(c->mount, info.full_path);
			struct cgroup_info *cg = cgroups_learn(c, st.st_ino, rel, now);

			stack[info.depth] = st.st_ino;
			if (cg) {
				cg->parent = info.depth > 0 ? stack[info.depth - 1] : 0;
				cg->walk_gen = c->walk_gen;
				cg->removed = 0;
				read_stat(c, cg, info.full_path);
			}
		}
		r = cgroup_walk_tree_next(0, &handle, &info, base);
	}
	if (handle)
		cgroup_walk_tree_end(&handle);

	while (hashtab_next(&c->by_id, &pos, NULL, (void **)&v)) {
		struct cgroup_info *cg = *v;
		char full[4096];

		if (cg->walk_gen == c->walk_gen)
			continue;
		/* Not read in this walk: its old reading must not be stored again. */
		cg->have_stat = cg->have_prev = false;
		/* Gone without an rmdir event (or the event was lost)? */
		if (cg->removed || !cg->path || ret < 0)
			continue;
		snprintf(full, sizeof(full), "%s%s", c->mount, cg->path);
		if (access(full, F_OK) < 0 && errno == ENOENT) {
			cg->removed = now;
			cg->have_stat = cg->have_prev = false;
			cg->dirty = true;
		}
	}
	cgroups_derive_own(c);
	return ret;
}
