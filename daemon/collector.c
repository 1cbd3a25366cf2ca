// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Map draining.  The maps drained here are the idle half of the double
 * buffer: the BPF programs write the other half, so lookup-and-delete in
 * batches sees a quiescent map and no increment can be lost to a race
 * with the delete.  A per-CPU map returns one value per possible CPU, each
 * rounded up to 8 bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "collector.h"
#include "util.h"

_Static_assert(sizeof(struct cw_evict_key) == 48, "cw_evict_key ABI");
_Static_assert(sizeof(struct cw_add_key) == 24, "cw_add_key ABI");
_Static_assert(sizeof(struct cw_counts) == 16, "cw_counts ABI");
_Static_assert(sizeof(struct cw_refault_key) == 56, "cw_refault_key ABI");
_Static_assert(sizeof(struct cw_refault_val) == 16 + 4 * CW_HIST_BUCKETS, "cw_refault_val ABI");
_Static_assert(sizeof(struct cw_shadow) == 32, "cw_shadow ABI");
_Static_assert(sizeof(struct cw_shadow_set) == 64, "cw_shadow_set ABI: one cache line");
_Static_assert(sizeof(struct cw_exec_vma) == 40, "cw_exec_vma ABI");
_Static_assert(sizeof(struct cw_cgroup_event) == 24 + CW_CGROUP_PATH_MAX, "cw_cgroup_event ABI");

#define ROUND8(n) (((n) + 7) & ~(size_t)7)
#define DRAIN_CHUNK 4096

void batch_reset(struct batch *b)
{
	b->n_ev = b->n_add = b->n_rf = 0;
	memset(b->lost, 0, sizeof(b->lost));
	b->lost_user = 0;
}

void batch_done(struct batch *b)
{
	free(b->ev);
	free(b->add);
	free(b->rf);
	memset(b, 0, sizeof(*b));
}

void sum_percpu_counts(const void *values, int ncpus, struct cw_counts *out)
{
	const unsigned char *p = values;

	out->events = out->pages = 0;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		const struct cw_counts *c = (const void *)(p + cpu * ROUND8(sizeof(*c)));

		out->events += c->events;
		out->pages += c->pages;
	}
}

typedef int (*take_fn)(struct batch *b, const void *key, const void *value, int ncpus);

static int take_evict(struct batch *b, const void *key, const void *value, int ncpus)
{
	struct evict_row *r;

	if (grow_array((void **)&b->ev, &b->cap_ev, b->n_ev + 1, sizeof(*b->ev)) < 0)
		return -ENOMEM;
	r = &b->ev[b->n_ev++];
	memcpy(&r->key, key, sizeof(r->key));
	sum_percpu_counts(value, ncpus, &r->c);
	return 0;
}

static int take_add(struct batch *b, const void *key, const void *value, int ncpus)
{
	struct add_row *r;

	if (grow_array((void **)&b->add, &b->cap_add, b->n_add + 1, sizeof(*b->add)) < 0)
		return -ENOMEM;
	r = &b->add[b->n_add++];
	memcpy(&r->key, key, sizeof(r->key));
	sum_percpu_counts(value, ncpus, &r->c);
	return 0;
}

static int take_refault(struct batch *b, const void *key, const void *value, int ncpus)
{
	struct refault_row *r;

	(void)ncpus;
	if (grow_array((void **)&b->rf, &b->cap_rf, b->n_rf + 1, sizeof(*b->rf)) < 0)
		return -ENOMEM;
	r = &b->rf[b->n_rf++];
	memcpy(&r->key, key, sizeof(r->key));
	memcpy(&r->v, value, sizeof(r->v));
	return 0;
}

/*
 * Empty one map with BPF_MAP_LOOKUP_AND_DELETE_BATCH.  ENOSPC means one
 * hash bucket holds more entries than the chunk: retry with a bigger one.
 */
static int drain(struct batch *b, int fd, size_t key_size, size_t value_size, int ncpus,
		 take_fn take)
{
	size_t chunk = DRAIN_CHUNK, vsize = ROUND8(value_size) * (size_t)ncpus;
	unsigned char *keys = NULL, *vals = NULL;
	__u64 in_batch = 0, out_batch = 0;
	bool first = true;
	int r = 0;

	keys = malloc(chunk * key_size);
	vals = malloc(chunk * vsize);
	if (!keys || !vals) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		LIBBPF_OPTS(bpf_map_batch_opts, opts);
		__u32 count = (__u32)chunk;
		int err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in_batch, &out_batch,
							  keys, vals, &count, &opts);
		int e = err < 0 ? errno : 0;

		if (err < 0 && e == ENOSPC && count == 0) {
			void *nk, *nv;

			chunk *= 2;
			nk = realloc(keys, chunk * key_size);
			if (nk)
				keys = nk;
			nv = nk ? realloc(vals, chunk * vsize) : NULL;
			if (!nv) {
				r = -ENOMEM;
				goto out;
			}
			vals = nv;
			continue;
		}
		/* count is only meaningful on success or at the end (ENOENT). */
		if (err < 0 && e != ENOENT) {
			r = -e;
			break;
		}
		for (__u32 i = 0; i < count; i++) {
			if (take(b, keys + i * key_size, vals + i * vsize, ncpus) < 0)
				b->lost_user++;
		}
		if (err < 0)
			break;
		in_batch = out_batch;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return r;
}

int collect_maps(struct batch *b, int evict_fd, int add_fd, int refault_fd, int ncpus)
{
	int r;

	r = drain(b, evict_fd, sizeof(struct cw_evict_key), sizeof(struct cw_counts), ncpus,
		  take_evict);
	if (r < 0)
		return r;
	r = drain(b, add_fd, sizeof(struct cw_add_key), sizeof(struct cw_counts), ncpus, take_add);
	if (r < 0)
		return r;
	return drain(b, refault_fd, sizeof(struct cw_refault_key), sizeof(struct cw_refault_val),
		     1, take_refault);
}

int collect_lost(struct batch *b, int lost_fd, int ncpus, uint64_t prev[CW_COUNTER_MAX])
{
	__u64 *vals = calloc((size_t)ncpus, sizeof(__u64));

	if (!vals)
		return -ENOMEM;
	for (__u32 i = 0; i < CW_COUNTER_MAX; i++) {
		uint64_t total = 0;

		if (bpf_map_lookup_elem(lost_fd, &i, vals) < 0) {
			free(vals);
			return -errno;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			total += vals[cpu];
		/* Added, not assigned: an interval that could not be written
		 * carries its losses into the next one. */
		b->lost[i] += total >= prev[i] ? total - prev[i] : total;
		prev[i] = total;
	}
	free(vals);
	return 0;
}
