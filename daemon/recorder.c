// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The per-interval pipeline.
 *
 * Flip: bump interval_seq so the programs switch to the other half of the
 * aggregate maps, then membarrier(MEMBARRIER_CMD_GLOBAL), which waits for an
 * RCU grace period; BPF tracing programs run inside rcu_read_lock(), so
 * after it no program is still writing the half about to be drained.
 *
 * Refaults carry the sequence number of the interval in which their page
 * was evicted; seq_ts maps it to the ts its eviction rows were written
 * with, so the refault can be credited to exactly that row.
 *
 * An interval whose transaction fails is not dropped: its rows, losses and
 * sequence numbers stay in the batch and are written with the next
 * interval that commits (rows of the same key add up in the database).
 *
 * Nothing here logs; errors are returned, with recorder_error() for text.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "recorder.h"
#include "retention.h"
#include "util.h"

#define SEQ_RING 65536
#define PENDING_MAX 4096        /* unwritten intervals carried at most */
#define CARRY_ROWS_MAX (1 << 21) /* rows carried across failed writes at most */
#define ROOT_CACHE_MAX 65536     /* inferred reclaim roots remembered (brackets) */

struct root_key {
	int64_t evict_ts;
	uint64_t victim;
};

struct recorder {
	struct recorder_opts opts;
	struct retention retention;
	struct podlogs *podlogs;
	uint64_t dropped_names;    /* since the last interval written */
	struct loader *loader;
	struct cgroups *cgroups;
	struct store *store;
	struct file_resolver *resolver; /* NULL: paths only from /sys for bdevs */
	struct filecache files;
	struct ring_buffer *rb;
	struct batch batch;
	struct hashtab relevant;   /* cgroup ids whose memory.stat is stored */
	struct hashtab roots;      /* struct root_key -> inferred root (brackets) */
	int64_t run_id;
	int64_t event_now;         /* ts for ring-buffer events being consumed */
	int64_t prev_ts;           /* ts of the last interval written (or start) */
	uint64_t lost_prev[CW_COUNTER_MAX];
	uint64_t recursion_prev;
	uint64_t tx;               /* number of the current write transaction */
	uint32_t pending[PENDING_MAX]; /* seqs in the batch, not yet written */
	size_t n_pending;
	int64_t seq_ts[SEQ_RING];
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct cw_cgroup_event *e = data;
	struct recorder *r = ctx;
	char path[CW_CGROUP_PATH_MAX];

	if (size < sizeof(*e))
		return 0;
	/* The ring is mapped read-only: copy before terminating. */
	memcpy(path, e->path, sizeof(path));
	path[sizeof(path) - 1] = 0;
	if (e->type == CW_EVENT_CGROUP_MKDIR)
		cgroups_learn(r->cgroups, e->id, path[0] ? path : NULL, r->event_now);
	else if (e->type == CW_EVENT_CGROUP_RMDIR)
		cgroups_mark_removed(r->cgroups, e->id, path[0] ? path : NULL, r->event_now);
	return 0;
}

int recorder_new(struct recorder **ret, const struct recorder_opts *o, struct loader *loader,
		 struct cgroups *cgroups, struct store *store, int64_t run_id)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->opts = *o;
	r->retention = (struct retention){
		.raw_seconds = o->raw_seconds,
		.bucket_seconds = o->rollup_seconds,
		.keep_seconds = o->keep_seconds,
	};
	retention_load(&r->retention, store_db(store));
	if (podlogs_new(o->pod_logs, &r->podlogs) < 0)
		r->podlogs = NULL;
	r->loader = loader;
	r->cgroups = cgroups;
	r->store = store;
	r->run_id = run_id;
	r->prev_ts = now_s();
	filecache_init(&r->files);
	hashtab_init(&r->relevant, sizeof(uint64_t), 1);
	hashtab_init(&r->roots, sizeof(struct root_key), sizeof(uint64_t));
	/* Without CAP_DAC_READ_SEARCH or /proc the resolver may fail: degrade. */
	if (file_resolver_new("/proc", &r->resolver) < 0)
		r->resolver = NULL;
	r->rb = ring_buffer__new(loader_events_fd(loader), on_event, r, NULL);
	if (!r->rb) {
		int e = -errno;

		recorder_free(r);
		return e;
	}
	*ret = r;
	return 0;
}

struct recorder *recorder_free(struct recorder *r)
{
	if (!r)
		return NULL;
	ring_buffer__free(r->rb);
	podlogs_free(r->podlogs);
	file_resolver_free(r->resolver);
	filecache_done(&r->files);
	hashtab_done(&r->relevant);
	hashtab_done(&r->roots);
	batch_done(&r->batch);
	free(r);
	return NULL;
}

const struct batch *recorder_last_batch(struct recorder *r)
{
	return &r->batch;
}

const char *recorder_error(struct recorder *r)
{
	return store_errmsg(r->store);
}

int recorder_events_fd(struct recorder *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

void recorder_consume_events(struct recorder *r)
{
	r->event_now = now_s();
	ring_buffer__consume(r->rb);
}

/* One process's view of a file first seen mapped executable. */
static void on_exec_vma(void *ctx, const struct cw_exec_vma *rec)
{
	struct recorder *r = ctx;
	struct file_key k = {
		.dev = kdev_to_dev(rec->dev),
		.ino = rec->ino,
		.gen = rec->gen,
		.kind = FILE_KIND_FILE,
	};
	bool deleted, other_ns;
	char *path = NULL;

	/* A process gone since the iterator saw it leaves the other namers to try. */
	if (proc_mapping_path("/proc", rec->tgid, rec->start, &path, &deleted, &other_ns) == 0) {
		filecache_learn_mapping(&r->files, &k, path, !other_ns, r->event_now);
		free(path);
	}
}

/* Refresh the exec-inode set and learn the paths of newly mapped files. */
static void seed_exec(struct recorder *r, int64_t now)
{
	int fd = loader_exec_iter_fd(r->loader);

	if (fd < 0)
		return;
	r->event_now = now;
	exec_iter_read(fd, on_exec_vma, r);
	close(fd);
}

int recorder_prime(struct recorder *r)
{
	int64_t now = now_s();

	seed_exec(r, now);
	r->recursion_prev = loader_recursion_misses(r->loader);
	return cgroups_walk(r->cgroups, now);
}

/* Kubernetes names for pod cgroups, retried for a few minutes after creation. */
#define NAME_TRIES 30

static void name_pods(struct recorder *r)
{
	struct cgroup_info **v;
	size_t pos = 0;
	bool refreshed = false;

	if (!r->podlogs)
		return;
	while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v)) {
		struct cgroup_info *cg = *v;

		if (!cg->is_pod || cg->names_known || cg->name_tries >= NAME_TRIES || cg->removed)
			continue;
		if (!refreshed) {
			if (podlogs_refresh(r->podlogs) < 0)
				return; /* no log directory on this node */
			refreshed = true;
		}
		cg->name_tries++;
		if (podlogs_lookup(r->podlogs, cg->owner.pod_uid, cg->owner.container_id,
				   &cg->names) &&
		    (cg->names.container[0] || !cg->owner.container_id[0])) {
			cg->names_known = true;
			cg->dirty = true;
		}
	}
}

/* Wait until no BPF program can still be using the previous buffer. */
static void wait_for_programs(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0) {
		/* nohz_full refuses it: programs run for microseconds, wait long. */
		struct timespec t = { 0, 100 * 1000 * 1000 };

		nanosleep(&t, NULL);
	}
}

static bool is_pending(const struct recorder *r, uint32_t seq)
{
	for (size_t i = 0; i < r->n_pending; i++)
		if (r->pending[i] == seq)
			return true;
	return false;
}

/*
 * ts of the eviction rows of the interval whose seq ends in the low bits
 * the shadow table kept: ts for this write, 0 if unknown.
 */
static int64_t evict_ts_of(const struct recorder *r, uint32_t low, uint32_t now_seq, int64_t ts)
{
	uint32_t seq = (now_seq & ~CW_SEQ_MASK) | (low & CW_SEQ_MASK);

	if (seq > now_seq)
		seq -= CW_SEQ_MASK + 1;
	if (is_pending(r, seq))
		return ts;
	if (seq <= now_seq && now_seq - seq < SEQ_RING)
		return r->seq_ts[seq % SEQ_RING];
	return 0;
}

/* Block-device pages come with ino 0 (no file has inode 0), see folio_file(). */
static struct file_key file_key_of(uint32_t kdev, uint64_t ino, uint32_t gen)
{
	if (kdev == CW_DEV_OTHER)
		return (struct file_key){ .dev = 0, .ino = 0, .gen = 0, .kind = FILE_KIND_OTHER };
	return (struct file_key){
		.dev = kdev_to_dev(kdev),
		.ino = ino,
		.gen = gen,
		.kind = ino == 0 ? FILE_KIND_BDEV : FILE_KIND_FILE,
	};
}

static const char *kind_name(uint32_t kdev, uint64_t ino)
{
	return kdev == CW_DEV_OTHER ? "other" : ino == 0 ? "bdev" : "file";
}

/* ---------------------------------------------------------------- folding */

#define FOLD_TOP_FILES 100

struct fold_key {
	uint64_t ino;
	uint32_t dev, gen;
};

struct fold_total {
	uint64_t pages;
	bool keep;
};

static void fold_count(struct hashtab *t, uint32_t dev, uint64_t ino, uint32_t gen,
		       uint64_t pages, bool keep)
{
	struct fold_key k = { ino, dev, gen };
	struct fold_total *v = hashtab_put(t, &k, NULL);

	if (v) {
		v->pages += pages;
		v->keep |= keep;
	}
}

static bool fold_kept(struct hashtab *t, __u32 *dev, __u64 *ino, __u32 *gen)
{
	struct fold_key k = { *ino, *dev, *gen };
	struct fold_total *v = hashtab_get(t, &k);

	if (!v || v->keep)
		return true;
	*dev = CW_DEV_OTHER;
	*ino = 0;
	*gen = 0;
	return false;
}

static int by_pages_desc(const void *a, const void *b)
{
	uint64_t x = (*(struct fold_total *const *)a)->pages;
	uint64_t y = (*(struct fold_total *const *)b)->pages;

	return x < y ? 1 : x > y;
}

/*
 * Per-file detail for the files that matter in this interval: every
 * executable row, every file with at least detail_pages pages evicted,
 * added or refaulted, and the FOLD_TOP_FILES busiest; the rest (the
 * thousands of small files a build or a log rotation churns through) are
 * summed per key into one "(other files)" file, so neither the database
 * nor the name tables grow with them.
 */
static void fold_small_files(struct recorder *r)
{
	struct batch *b = &r->batch;
	struct fold_total **all = NULL, *v;
	struct hashtab t;
	size_t pos = 0, n = 0;

	if (!r->opts.detail_pages)
		return;
	hashtab_init(&t, sizeof(struct fold_key), sizeof(struct fold_total));
	for (size_t i = 0; i < b->n_ev; i++)
		fold_count(&t, b->ev[i].key.dev, b->ev[i].key.ino, b->ev[i].key.gen,
			   b->ev[i].c.pages,
			   (b->ev[i].key.flags & (CW_FLAG_EXEC | CW_FLAG_BDEV)) != 0);
	for (size_t i = 0; i < b->n_add; i++)
		fold_count(&t, b->add[i].key.dev, b->add[i].key.ino, b->add[i].key.gen,
			   b->add[i].c.pages, b->add[i].key.ino == 0);
	for (size_t i = 0; i < b->n_rf; i++)
		fold_count(&t, b->rf[i].key.dev, b->rf[i].key.ino, b->rf[i].key.gen,
			   b->rf[i].v.pages, (b->rf[i].key.flags & CW_FLAG_EXEC) != 0);
	if (t.count <= FOLD_TOP_FILES) {
		hashtab_done(&t);
		return;
	}
	all = malloc(t.count * sizeof(*all));
	if (all) {
		while (hashtab_next(&t, &pos, NULL, (void **)&v)) {
			if (v->pages >= r->opts.detail_pages)
				v->keep = true;
			all[n++] = v;
		}
		qsort(all, n, sizeof(*all), by_pages_desc);
		for (size_t i = 0; i < n && i < FOLD_TOP_FILES; i++)
			all[i]->keep = true;
		for (size_t i = 0; i < b->n_ev; i++) {
			struct cw_evict_key *k = &b->ev[i].key;

			if (!(k->flags & (CW_FLAG_EXEC | CW_FLAG_BDEV)))
				fold_kept(&t, &k->dev, &k->ino, &k->gen);
		}
		for (size_t i = 0; i < b->n_add; i++)
			fold_kept(&t, &b->add[i].key.dev, &b->add[i].key.ino, &b->add[i].key.gen);
		for (size_t i = 0; i < b->n_rf; i++)
			if (!(b->rf[i].key.flags & CW_FLAG_EXEC))
				fold_kept(&t, &b->rf[i].key.dev, &b->rf[i].key.ino, &b->rf[i].key.gen);
	}
	free(all);
	hashtab_done(&t);
}

static struct file_entry *file_of(struct recorder *r, uint32_t kdev, uint64_t ino, uint32_t gen,
				  int64_t now)
{
	struct file_key k = file_key_of(kdev, ino, gen);

	return filecache_touch(&r->files, &k, now);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* Make sure the cgroup is in the table, even if it was never seen by name. */
static void touch_cgroup(struct recorder *r, uint64_t id, int64_t now)
{
	if (!id)
		return;
	cgroups_learn(r->cgroups, id, NULL, now);
	hashtab_put(&r->relevant, &id, NULL);
}

/*
 * Bracket mode knows that a memcg limit was being enforced but not whose:
 * take the nearest limited ancestor-or-self of the victim, preferring one
 * whose limit was hit (failcnt grew) since the last walk.
 */
static uint64_t infer_root(struct recorder *r, uint64_t victim)
{
	for (int pass = 0; pass < 2; pass++) {
		uint64_t id = victim;

		for (int depth = 0; id && depth < 64; depth++) {
			struct cgroup_info *cg = cgroups_get(r->cgroups, id);

			if (!cg)
				break;
			if (cg->have_stat && cg->stat.limit >= 0 &&
			    (pass == 1 || (cg->have_prev && cg->stat.failcnt > cg->prev.failcnt)))
				return id;
			id = cg->parent;
		}
	}
	return 0;
}

static bool needs_root(uint8_t cause, uint64_t root)
{
	return !root && (cause == CW_CAUSE_LIMIT || cause == CW_CAUSE_HIGH);
}

/*
 * Fill in the reclaim roots bracket mode could not see.  A refault reuses
 * the root given to its eviction row (remembered by eviction ts and
 * victim), so that it is credited to that row.
 */
static void fill_roots(struct recorder *r, int64_t ts, uint32_t seq)
{
	struct batch *b = &r->batch;

	if (r->roots.count > ROOT_CACHE_MAX)
		hashtab_done(&r->roots); /* forget old inferences; refaults then infer anew */
	for (size_t i = 0; i < b->n_ev; i++) {
		struct cw_evict_key *k = &b->ev[i].key;
		struct root_key rk = { .evict_ts = ts, .victim = k->victim };
		uint64_t *root;

		if (!needs_root(k->cause, k->root))
			continue;
		root = hashtab_get(&r->roots, &rk);
		if (!root && (root = hashtab_put(&r->roots, &rk, NULL)))
			*root = infer_root(r, k->victim);
		k->root = root ? *root : infer_root(r, k->victim);
	}
	for (size_t i = 0; i < b->n_rf; i++) {
		struct cw_refault_key *k = &b->rf[i].key;
		struct root_key rk = {
			.evict_ts = evict_ts_of(r, k->evict_seq, seq, ts),
			.victim = k->victim,
		};
		uint64_t *root;

		if (!needs_root(k->cause, k->root))
			continue;
		root = hashtab_get(&r->roots, &rk);
		k->root = root ? *root : infer_root(r, k->victim);
	}
}

/* Mark every cgroup at or below one of the batch's reclaim roots. */
static void mark_pressure_suspects(struct recorder *r)
{
	struct batch *b = &r->batch;
	struct hashtab roots;
	struct cgroup_info **v;
	size_t pos = 0;

	hashtab_init(&roots, sizeof(uint64_t), 1);
	for (size_t i = 0; i < b->n_ev; i++)
		if (b->ev[i].key.root)
			hashtab_put(&roots, &b->ev[i].key.root, NULL);
	if (roots.count) {
		while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v)) {
			uint64_t id = (*v)->id;

			if ((*v)->removed)
				continue;
			for (int depth = 0; id && depth < 64; depth++) {
				struct cgroup_info *cg;

				if (hashtab_get(&roots, &id)) {
					hashtab_put(&r->relevant, &(*v)->id, NULL);
					break;
				}
				cg = cgroups_get(r->cgroups, id);
				id = cg ? cg->parent : 0;
			}
		}
	}
	hashtab_done(&roots);
}

/* Learn every cgroup and file the batch mentions; files being truncated
 * are named again (they may have been unlinked). */
static void learn_batch(struct recorder *r, int64_t now)
{
	struct batch *b = &r->batch;

	for (size_t i = 0; i < b->n_ev; i++) {
		struct cw_evict_key *k = &b->ev[i].key;

		touch_cgroup(r, k->victim, now);
		touch_cgroup(r, k->root, now);
		touch_cgroup(r, k->reclaimer, now);
		file_of(r, k->dev, k->ino, k->gen, now);
		if (k->cause == CW_CAUSE_TRUNCATE) {
			struct file_key fk = file_key_of(k->dev, k->ino, k->gen);

			filecache_recheck(&r->files, &fk);
		}
	}
	for (size_t i = 0; i < b->n_add; i++) {
		struct cw_add_key *k = &b->add[i].key;

		touch_cgroup(r, k->memcg, now);
		file_of(r, k->dev, k->ino, k->gen, now);
	}
	for (size_t i = 0; i < b->n_rf; i++) {
		struct cw_refault_key *k = &b->rf[i].key;

		touch_cgroup(r, k->memcg, now);
		touch_cgroup(r, k->victim, now);
		touch_cgroup(r, k->root, now);
		touch_cgroup(r, k->reclaimer, now);
		file_of(r, k->dev, k->ino, k->gen, now);
	}
	mark_pressure_suspects(r);
}

/* File row id for the database, writing the row when new or changed. */
static int file_id(struct recorder *r, uint32_t kdev, uint64_t ino, uint32_t gen, int64_t now,
		   int64_t *ret)
{
	struct file_entry *e = file_of(r, kdev, ino, gen, now);
	int err;

	if (!e)
		return -ENOMEM;
	if (!e->db_id || e->dirty || e->last_seen - e->written_seen >= 60) {
		err = store_file(r->store, &(struct file_row){
			.dev = kdev_to_dev(kdev),
			.ino = ino,
			.gen = gen,
			.kind = kind_name(kdev, ino),
			.path = e->path,
			.path_source = e->source,
			.container_path = e->container_path,
			.path_note = e->path ? NULL : e->note,
			.deleted = e->deleted,
		}, now, &e->db_id);
		if (err < 0)
			return err;
		e->written_tx = r->tx;
		e->dirty = false;
		e->written_seen = e->last_seen;
	}
	*ret = e->db_id;
	return 0;
}

static int64_t delta(const struct cgroup_info *cg, int64_t cur, int64_t prev, int64_t prev_ts)
{
	if (cur < 0)
		return INT64_MIN;
	if (cg->have_prev && prev >= 0)
		return cur - prev;
	if (cg->first_seen > prev_ts) /* born this interval: grew from nothing */
		return cur;
	return INT64_MIN;
}

static int write_rows(struct recorder *r, int64_t ts, uint32_t seq, struct interval_summary *sum)
{
	struct batch *b = &r->batch;
	struct cgroup_info **v;
	uint64_t *id;
	size_t pos = 0;
	int err;

	while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v)) {
		struct cgroup_info *cg = *v;

		if (!cg->dirty)
			continue;
		err = store_cgroup(r->store, &(struct cgroup_row){
			.id = cg->id,
			.path = cg->path,
			.first_seen = cg->first_seen,
			.last_seen = cg->last_seen,
			.removed = cg->removed,
			.pod_uid = nonempty(cg->owner.pod_uid),
			.container_id = nonempty(cg->owner.container_id),
			.qos = nonempty(cg->owner.qos),
			.runtime = nonempty(cg->owner.runtime),
			.unit = nonempty(cg->owner.unit),
			.namespace = cg->names_known ? nonempty(cg->names.namespace) : NULL,
			.pod = cg->names_known ? nonempty(cg->names.pod) : NULL,
			.container = cg->names_known ? nonempty(cg->names.container) : NULL,
		});
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < b->n_ev; i++) {
		struct evict_row *e = &b->ev[i];
		int64_t fid;

		err = file_id(r, e->key.dev, e->key.ino, e->key.gen, ts, &fid);
		if (!err)
			err = store_eviction(r->store, ts, e->key.victim, e->key.root,
					     e->key.reclaimer, e->key.cause, fid,
					     e->key.flags & CW_FLAG_EXEC, e->c.events, e->c.pages);
		if (err < 0)
			return err;
		sum->evicted_pages += e->c.pages;
		if (e->key.flags & CW_FLAG_EXEC)
			sum->exec_evicted_pages += e->c.pages;
	}
	for (size_t i = 0; i < b->n_add; i++) {
		struct add_row *a = &b->add[i];
		int64_t fid;

		err = file_id(r, a->key.dev, a->key.ino, a->key.gen, ts, &fid);
		if (!err)
			err = store_addition(r->store, ts, a->key.memcg, fid, a->c.events, a->c.pages);
		if (err < 0)
			return err;
		sum->added_pages += a->c.pages;
	}
	for (size_t i = 0; i < b->n_rf; i++) {
		struct refault_row *f = &b->rf[i];
		struct cw_refault_key *k = &f->key;
		bool exec = k->flags & CW_FLAG_EXEC;
		int64_t fid, evict_ts = evict_ts_of(r, k->evict_seq, seq, ts);

		err = file_id(r, k->dev, k->ino, k->gen, ts, &fid);
		/* An eviction older than the raw window now lives in its roll-up row. */
		if (!err && evict_ts)
			err = store_credit_refault(r->store, retention_ts_of(&r->retention, evict_ts),
						   k->victim, k->root, k->reclaimer, k->cause, fid,
						   exec, f->v.pages);
		for (int bk = 0; !err && bk < CW_HIST_BUCKETS; bk++)
			if (f->v.hist[bk])
				err = store_refault_hist(r->store, ts, k->memcg, k->victim, fid,
							 k->cause, exec, bk, f->v.hist[bk]);
		if (err < 0)
			return err;
		sum->refaulted_pages += f->v.pages;
	}
	pos = 0;
	while (hashtab_next(&r->relevant, &pos, (void **)&id, NULL)) {
		struct cgroup_info *cg = cgroups_get(r->cgroups, *id);

		if (!cg || !cg->have_stat)
			continue;
		err = store_memstat(r->store, ts, cg->id, &cg->stat,
				    delta(cg, cg->stat.anon, cg->prev.anon, r->prev_ts),
				    delta(cg, cg->stat.file, cg->prev.file, r->prev_ts));
		if (err < 0)
			return err;
	}
	return 0;
}

/* Bytes held, with "not reported" as nothing. */
static int64_t held_bytes(int64_t v)
{
	return v < 0 ? 0 : v;
}

/* Growth in the interval (negative: shrank), unknown as none. */
static int64_t growth(int64_t d)
{
	return d == INT64_MIN ? 0 : d;
}

/*
 * For each (victim, reclaim root) whose executable pages were evicted in
 * this batch, what every cgroup under the root holds now: the database
 * keeps its level before the episode and its peak (v_exec_thrash's
 * top_pressure).
 */
static int write_pressure_peaks(struct recorder *r)
{
	struct batch *b = &r->batch;
	struct hashtab pairs;
	uint64_t *pair;
	size_t pos = 0;
	int err = 0;

	hashtab_init(&pairs, 2 * sizeof(uint64_t), 1);
	for (size_t i = 0; i < b->n_ev; i++) {
		uint64_t k[2] = { b->ev[i].key.victim, b->ev[i].key.root };

		if (k[1] && (b->ev[i].key.flags & CW_FLAG_EXEC))
			hashtab_put(&pairs, k, NULL);
	}
	while (!err && hashtab_next(&pairs, &pos, (void **)&pair, NULL)) {
		struct cgroup_info **v;
		size_t cpos = 0;

		while (!err && hashtab_next(&r->cgroups->by_id, &cpos, NULL, (void **)&v)) {
			struct cgroup_info *cg = *v;
			int64_t held, grew;

			if (cg->removed || !cg->have_stat || !cgroups_is_under(r->cgroups, cg->id, pair[1]))
				continue;
			held = held_bytes(cg->stat.anon) + held_bytes(cg->stat.file);
			grew = growth(delta(cg, cg->stat.anon, cg->prev.anon, r->prev_ts)) +
			       growth(delta(cg, cg->stat.file, cg->prev.file, r->prev_ts));
			err = store_pressure_peak(r->store, pair[0], pair[1], cg->id, held, grew);
		}
	}
	hashtab_done(&pairs);
	return err;
}

/* One intervals row per sequence number written now; losses on the last. */
static int write_intervals(struct recorder *r, int64_t ts, int64_t duration_ms,
			   struct interval_summary *sum)
{
	struct batch *b = &r->batch;
	int err;

	for (size_t i = 0; i < r->n_pending; i++) {
		bool last = i + 1 == r->n_pending;
		struct interval_info ii = {
			.run = r->run_id,
			.seq = r->pending[i],
			.ts = ts,
			.duration_ms = duration_ms,
		};

		if (last) {
			ii.lost_evict = b->lost[CW_LOST_EVICT_MAP_FULL];
			ii.lost_add = b->lost[CW_LOST_ADD_MAP_FULL];
			ii.lost_refault = b->lost[CW_LOST_REFAULT_MAP_FULL];
			ii.lost_shadow = b->lost[CW_LOST_SHADOW_UPDATE];
			ii.lost_ringbuf = b->lost[CW_LOST_RINGBUF];
			ii.lost_exec = b->lost[CW_LOST_EXEC_SET];
			ii.lost_user = b->lost_user; /* incl. skipped program runs */
			ii.dropped_names = r->dropped_names;
			ii.shadow_displaced = b->lost[CW_COUNT_SHADOW_DISPLACED];
			sum->dropped_names = r->dropped_names;
			sum->lost = ii.lost_evict + ii.lost_add + ii.lost_refault + ii.lost_shadow +
				    ii.lost_ringbuf + ii.lost_exec + ii.lost_user;
		}
		err = store_interval(r->store, &ii);
		if (err < 0)
			return err;
	}
	return 0;
}

static size_t batch_rows(const struct batch *b)
{
	return b->n_ev + b->n_add + b->n_rf;
}

/* Drain the buffer the programs just left into the batch. */
static int collect(struct recorder *r, uint32_t seq)
{
	struct batch *b = &r->batch;
	size_t n_ev = b->n_ev, n_add = b->n_add, n_rf = b->n_rf;
	uint64_t misses;
	int err;

	err = collect_maps(b, loader_evict_fd(r->loader, seq & 1), loader_add_fd(r->loader, seq & 1),
			   loader_refault_fd(r->loader, seq & 1), r->loader->ncpus);
	if (err < 0)
		return err;
	err = collect_lost(b, loader_lost_fd(r->loader), r->loader->ncpus, r->lost_prev);
	if (err < 0)
		return err;
	misses = loader_recursion_misses(r->loader);
	b->lost_user += misses - r->recursion_prev;
	r->recursion_prev = misses;
	/* Carried across failed writes for too long: keep the old rows, drop
	 * (and count) the new ones rather than grow without bound. */
	if (r->n_pending && batch_rows(b) > CARRY_ROWS_MAX) {
		b->lost_user += batch_rows(b) - (n_ev + n_add + n_rf);
		b->n_ev = n_ev;
		b->n_add = n_add;
		b->n_rf = n_rf;
	}
	if (r->n_pending < PENDING_MAX)
		r->pending[r->n_pending++] = seq;
	return 0;
}

int recorder_interval(struct recorder *r, struct interval_summary *sum)
{
	volatile uint32_t *seqp = loader_interval_seq(r->loader);
	uint32_t seq = *seqp;
	int64_t t0 = mono_ms(), ts;
	struct cgroup_info **v;
	size_t pos = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (!r->n_pending)
		batch_reset(&r->batch);
	hashtab_done(&r->relevant);

	*seqp = seq + 1;
	wait_for_programs();
	ts = now_s();
	err = collect(r, seq);
	if (err < 0)
		return err;

	fold_small_files(r);
	r->event_now = ts;
	ring_buffer__consume(r->rb);
	seed_exec(r, ts);
	cgroups_walk(r->cgroups, ts);
	if (r->loader->brackets)
		fill_roots(r, ts, seq);
	learn_batch(r, ts);
	name_pods(r);
	filecache_resolve(&r->files, r->resolver, "/sys");

	r->tx++;
	err = store_begin(r->store);
	if (!err)
		err = write_rows(r, ts, seq, sum);
	if (!err)
		err = write_pressure_peaks(r);
	if (!err)
		err = write_intervals(r, ts, mono_ms() - t0, sum);
	if (!err)
		err = store_commit(r->store);
	if (err < 0) {
		store_rollback(r->store);
		filecache_forget_tx(&r->files, r->tx);
		return err; /* the batch stays for the next interval */
	}
	for (size_t i = 0; i < r->n_pending; i++)
		r->seq_ts[r->pending[i] % SEQ_RING] = ts;
	r->n_pending = 0;
	while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v))
		if ((*v)->dirty) {
			(*v)->dirty = false;
			(*v)->written_seen = (*v)->last_seen;
		}
	r->prev_ts = ts;
	/* Written: now the name tables may forget what they must. */
	r->dropped_names = cgroups_prune(r->cgroups, ts, r->opts.max_cgroups) +
			   filecache_prune(&r->files, ts, r->opts.max_files);
	/* Roll-ups are their own transactions; a failure retries next time. */
	sum->rolled_up = retention_run(&r->retention, store_db(r->store), ts, 4);

	sum->seq = seq;
	sum->ts = ts;
	sum->rows = batch_rows(&r->batch);
	sum->duration_ms = mono_ms() - t0;
	return 0;
}
