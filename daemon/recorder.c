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
 * was evicted; seq_ts maps it to that interval's ts so the refault can be
 * credited to its eviction row.
 *
 * Nothing here logs except through the summary; errors are returned.
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
#include "util.h"

#define SEQ_RING 65536

struct recorder {
	struct loader *loader;
	struct cgroups *cgroups;
	struct store *store;
	struct file_resolver *resolver; /* NULL: paths only from /sys for bdevs */
	struct filecache files;
	struct ring_buffer *rb;
	struct batch batch;
	struct hashtab relevant; /* cgroup ids whose memory.stat is stored */
	int64_t run_id;
	int64_t event_now;       /* ts for ring-buffer events being consumed */
	int64_t prev_ts;         /* ts of the previous interval (or start) */
	uint64_t lost_prev[CW_LOST_MAX];
	uint64_t recursion_prev;
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

int recorder_new(struct recorder **ret, struct loader *loader, struct cgroups *cgroups,
		 struct store *store, int64_t run_id)
{
	struct recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->loader = loader;
	r->cgroups = cgroups;
	r->store = store;
	r->run_id = run_id;
	r->prev_ts = now_s();
	filecache_init(&r->files);
	hashtab_init(&r->relevant, sizeof(uint64_t), 1);
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
	file_resolver_free(r->resolver);
	filecache_done(&r->files);
	hashtab_done(&r->relevant);
	batch_done(&r->batch);
	free(r);
	return NULL;
}

int recorder_prime(struct recorder *r)
{
	int64_t now = now_s();

	loader_seed_exec(r->loader);
	r->recursion_prev = loader_recursion_misses(r->loader);
	return cgroups_walk(r->cgroups, now);
}

/* Wait until no BPF program can still be using the previous buffer. */
static void wait_for_programs(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) < 0) {
		struct timespec t = { 0, 20 * 1000 * 1000 };

		nanosleep(&t, NULL);
	}
}

static void mark_relevant(struct recorder *r, uint64_t id)
{
	if (id)
		hashtab_put(&r->relevant, &id, NULL);
}

/* Block-device pages come with ino 0 (no file has inode 0), see folio_file(). */
static struct file_entry *file_of(struct recorder *r, uint32_t kdev, uint64_t ino, uint32_t gen,
				  int64_t now)
{
	struct file_key k = {
		.dev = kdev_to_dev(kdev),
		.ino = ino,
		.gen = gen,
		.kind = ino == 0 ? FILE_KIND_BDEV : FILE_KIND_FILE,
	};

	return filecache_touch(&r->files, &k, now);
}

/* Make sure the cgroup is in the table, even if it was never seen by name. */
static void touch_cgroup(struct recorder *r, uint64_t id, int64_t now)
{
	if (id)
		cgroups_learn(r->cgroups, id, NULL, now);
	mark_relevant(r, id);
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

/* First pass over the batch: learn every cgroup and file it mentions. */
static void learn_batch(struct recorder *r, int64_t now)
{
	struct batch *b = &r->batch;

	if (r->loader->brackets) {
		for (size_t i = 0; i < b->n_ev; i++)
			if (needs_root(b->ev[i].key.cause, b->ev[i].key.root))
				b->ev[i].key.root = infer_root(r, b->ev[i].key.victim);
		for (size_t i = 0; i < b->n_rf; i++)
			if (needs_root(b->rf[i].key.cause, b->rf[i].key.root))
				b->rf[i].key.root = infer_root(r, b->rf[i].key.victim);
	}

	for (size_t i = 0; i < b->n_ev; i++) {
		struct cw_evict_key *k = &b->ev[i].key;

		touch_cgroup(r, k->victim, now);
		touch_cgroup(r, k->root, now);
		touch_cgroup(r, k->reclaimer, now);
		file_of(r, k->dev, k->ino, k->gen, now);
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
	/* Everything under a reclaim root is a suspect of the pressure. */
	for (size_t i = 0; i < b->n_ev; i++) {
		uint64_t root = b->ev[i].key.root;
		struct cgroup_info **v;
		size_t pos = 0;

		if (!root)
			continue;
		while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v))
			if (!(*v)->removed && cgroups_is_under(r->cgroups, (*v)->id, root))
				mark_relevant(r, (*v)->id);
	}
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
		err = store_file(r->store, kdev_to_dev(kdev), ino, gen, ino == 0 ? "bdev" : "file",
				 e->path, e->source, e->deleted, now, &e->db_id);
		if (err < 0)
			return err;
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
		err = store_cgroup(r->store, cg->id, cg->path, cg->first_seen, cg->last_seen,
				   cg->removed);
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
	r->seq_ts[seq % SEQ_RING] = ts;
	for (size_t i = 0; i < b->n_rf; i++) {
		struct refault_row *f = &b->rf[i];
		struct cw_refault_key *k = &f->key;
		bool exec = k->flags & CW_FLAG_EXEC;
		int64_t fid, evict_ts = 0;

		if (k->evict_seq <= seq && seq - k->evict_seq < SEQ_RING)
			evict_ts = r->seq_ts[k->evict_seq % SEQ_RING];
		err = file_id(r, k->dev, k->ino, k->gen, ts, &fid);
		if (!err)
			err = store_refault(r->store, ts, k->memcg, k->victim, k->root, k->reclaimer,
					    k->cause, fid, exec, evict_ts, f->v.events, f->v.pages);
		if (!err && evict_ts)
			err = store_credit_refault(r->store, evict_ts, k->victim, k->root,
						   k->reclaimer, k->cause, fid, exec, f->v.pages);
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

/* After a failed transaction nothing written in it exists: forget the ids. */
static void forget_unwritten(struct recorder *r)
{
	struct file_entry *e;
	size_t pos = 0;

	while (hashtab_next(&r->files.tab, &pos, NULL, (void **)&e))
		if (e->written_seen == e->last_seen && e->last_seen >= r->prev_ts) {
			e->db_id = 0;
			e->dirty = true;
		}
}

int recorder_interval(struct recorder *r, struct interval_summary *sum)
{
	volatile uint32_t *seqp = loader_interval_seq(r->loader);
	struct batch *b = &r->batch;
	uint32_t seq = *seqp;
	int64_t t0 = mono_ms(), ts;
	struct interval_info ii;
	uint64_t misses;
	struct cgroup_info **v;
	size_t pos = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	batch_reset(b);
	hashtab_done(&r->relevant);

	*seqp = seq + 1;
	wait_for_programs();
	ts = now_s();
	err = collect_maps(b, loader_evict_fd(r->loader, seq & 1),
			   loader_add_fd(r->loader, seq & 1),
			   loader_refault_fd(r->loader, seq & 1), r->loader->ncpus);
	if (err < 0)
		return err;
	err = collect_lost(b, loader_lost_fd(r->loader), r->loader->ncpus, r->lost_prev);
	if (err < 0)
		return err;
	misses = loader_recursion_misses(r->loader);

	r->event_now = ts;
	ring_buffer__consume(r->rb);
	loader_seed_exec(r->loader);
	cgroups_walk(r->cgroups, ts);
	learn_batch(r, ts);
	filecache_resolve(&r->files, r->resolver, "/sys");

	err = store_begin(r->store);
	if (!err)
		err = write_rows(r, ts, seq, sum);
	if (!err) {
		ii = (struct interval_info){
			.run = r->run_id,
			.seq = seq,
			.ts = ts,
			.duration_ms = mono_ms() - t0,
			.lost_evict = b->lost[CW_LOST_EVICT_MAP_FULL],
			.lost_add = b->lost[CW_LOST_ADD_MAP_FULL],
			.lost_refault = b->lost[CW_LOST_REFAULT_MAP_FULL],
			.lost_shadow = b->lost[CW_LOST_SHADOW_UPDATE],
			.lost_ringbuf = b->lost[CW_LOST_RINGBUF],
			.lost_exec = b->lost[CW_LOST_EXEC_SET],
			/* recursion misses: the kernel skipped the program */
			.lost_user = b->lost_user + (misses - r->recursion_prev),
		};
		err = store_interval(r->store, &ii);
	}
	if (!err)
		err = store_commit(r->store);
	if (err < 0) {
		store_rollback(r->store);
		forget_unwritten(r);
		return err;
	}
	while (hashtab_next(&r->cgroups->by_id, &pos, NULL, (void **)&v))
		if ((*v)->dirty) {
			(*v)->dirty = false;
			(*v)->written_seen = (*v)->last_seen;
		}
	r->recursion_prev = misses;
	r->prev_ts = ts;

	sum->seq = seq;
	sum->ts = ts;
	sum->rows = b->n_ev + b->n_add + b->n_rf;
	sum->lost = ii.lost_evict + ii.lost_add + ii.lost_refault + ii.lost_shadow +
		    ii.lost_ringbuf + ii.lost_exec + ii.lost_user;
	sum->duration_ms = mono_ms() - t0;
	return 0;
}
