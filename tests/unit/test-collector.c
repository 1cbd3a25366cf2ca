// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the map drain (daemon/collector.c): per-CPU sums over
 * buffers laid out like the kernel's batch output for 1, 2 and 64 CPUs,
 * batch_reset/batch_done, and, where the process may create BPF maps
 * (CAP_BPF; skipped otherwise, the rest still runs), collect_maps against
 * real PERCPU_HASH and HASH maps filled from user space with more keys than
 * one batch holds, and collect_lost deltas from a PERCPU_ARRAY.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cachewatch.h"
#include "collector.h"
#include "test.h"
#include "util.h"

/*
 * Under valgrind: memcheck (3.19) does not know BPF_MAP_LOOKUP_AND_DELETE_BATCH,
 * so what the kernel writes into the drain buffers looks uninitialised, and
 * libbpf's one-time feature probe inside bpf_map_create passes a partly
 * initialised bpf_attr.  Tell memcheck about the first, hide the second
 * (only around those libbpf calls).
 */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_DISABLE_ERROR_REPORTING
#define VALGRIND_ENABLE_ERROR_REPORTING
#endif

#define N_EVICT 5000   /* more than one 4096-key batch */
#define N_ADD 4500
#define N_REFAULT 4300
#define MAP_ENTRIES 8192

/* Per-CPU value of key i on cpu c, for each map. */
static struct cw_counts evict_val(uint32_t i, int c)
{
	return (struct cw_counts){ .events = i + 1 + (uint64_t)c * 100000,
				   .pages = (uint64_t)(i + 1) * 8 + (uint64_t)c };
}

static struct cw_counts add_val(uint32_t i, int c)
{
	return (struct cw_counts){ .events = 3 * (uint64_t)i + (uint64_t)c + 1,
				   .pages = (1ULL << 33) + i + (uint64_t)c };
}

static struct cw_evict_key evict_key(uint32_t i)
{
	struct cw_evict_key k;

	memset(&k, 0, sizeof(k));
	k.victim = 1000 + i; /* identifies the key */
	k.root = i % 3 ? 0 : 77;
	k.reclaimer = 5 + i % 11;
	k.ino = 0x100000000ULL + (uint64_t)i * 13;
	k.dev = 0x800001;
	k.gen = i * 7;
	k.cause = (__u8)(i % CW_CAUSE_MAX);
	k.flags = (__u8)(i & (CW_FLAG_EXEC | CW_FLAG_BDEV));
	return k;
}

static struct cw_add_key add_key(uint32_t i)
{
	struct cw_add_key k;

	memset(&k, 0, sizeof(k));
	k.memcg = 2000 + i;
	k.ino = 0x200000000ULL + i;
	k.dev = 0x800002;
	k.gen = ~i;
	return k;
}

static struct cw_refault_key refault_key(uint32_t i)
{
	struct cw_refault_key k;

	memset(&k, 0, sizeof(k));
	k.memcg = 3000 + i;
	k.victim = 4000 + i % 17;
	k.root = i % 5;
	k.reclaimer = i % 7;
	k.ino = 0x300000000ULL + i;
	k.dev = 0x800003;
	k.gen = i;
	k.evict_seq = i / 10;
	k.cause = (__u8)(i % CW_CAUSE_MAX);
	k.flags = (__u8)(i & 1);
	return k;
}

static struct cw_refault_val refault_val(uint32_t i)
{
	struct cw_refault_val v;

	memset(&v, 0, sizeof(v));
	v.events = i + 1;
	v.pages = 2 * (uint64_t)(i + 1);
	for (int b = 0; b < CW_HIST_BUCKETS; b++)
		v.hist[b] = i * CW_HIST_BUCKETS + (uint32_t)b;
	return v;
}

static void check_sum(int ncpus)
{
	/* ncpus copies plus one sentinel that must not be summed */
	struct cw_counts *buf = calloc((size_t)ncpus + 1, sizeof(*buf));
	struct cw_counts out;
	uint64_t events = 0, pages = 0;
	char name[64];

	if (!ASSERT_NOT_NULL(buf, "calloc"))
		return;
	for (int c = 0; c < ncpus; c++) {
		buf[c].events = (1ULL << 40) + (uint64_t)c * 3 + 1;
		buf[c].pages = (uint64_t)(c + 1) * 4096 + 7;
		events += buf[c].events;
		pages += buf[c].pages;
	}
	buf[ncpus].events = buf[ncpus].pages = 0x5555555555555555ULL;
	memset(&out, 0xff, sizeof(out));
	sum_percpu_counts(buf, ncpus, &out);
	snprintf(name, sizeof(name), "events summed over %d CPUs", ncpus);
	ASSERT_EQ(out.events, events, name);
	snprintf(name, sizeof(name), "pages summed over %d CPUs", ncpus);
	ASSERT_EQ(out.pages, pages, name);
	free(buf);
}

static void test_sum(void)
{
	struct cw_counts one = { .events = 5, .pages = 40 }, out;

	/* Each per-CPU copy is 16 bytes: already a multiple of 8. */
	ASSERT_EQ(sizeof(struct cw_counts), 16, "cw_counts size");
	check_sum(1);
	check_sum(2);
	check_sum(64);
	check_sum(libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1);

	memset(&out, 0xff, sizeof(out));
	sum_percpu_counts(&one, 0, &out);
	ASSERT_EQ(out.events, 0, "no CPUs: events 0");
	ASSERT_EQ(out.pages, 0, "no CPUs: pages 0");
	sum_percpu_counts(&one, 1, &out);
	ASSERT_EQ(out.events, 5, "one CPU: events");
	ASSERT_EQ(out.pages, 40, "one CPU: pages");
}

static void test_batch(void)
{
	struct batch b;
	struct evict_row *ev;

	memset(&b, 0, sizeof(b));
	batch_done(&b); /* on an empty batch */
	b.ev = ev = calloc(8, sizeof(*b.ev));
	b.add = calloc(8, sizeof(*b.add));
	b.rf = calloc(8, sizeof(*b.rf));
	if (!ASSERT_TRUE(b.ev && b.add && b.rf, "calloc")) {
		batch_done(&b);
		return;
	}
	b.cap_ev = b.cap_add = b.cap_rf = 8;
	b.n_ev = 3;
	b.n_add = 4;
	b.n_rf = 5;
	for (int i = 0; i < CW_COUNTER_MAX; i++)
		b.lost[i] = (uint64_t)i + 10;
	b.lost_user = 9;

	batch_reset(&b);
	ASSERT_EQ(b.n_ev, 0, "reset n_ev");
	ASSERT_EQ(b.n_add, 0, "reset n_add");
	ASSERT_EQ(b.n_rf, 0, "reset n_rf");
	ASSERT_EQ(b.lost_user, 0, "reset lost_user");
	for (int i = 0; i < CW_COUNTER_MAX; i++)
		ASSERT_EQ(b.lost[i], 0, "reset lost[]");
	ASSERT_TRUE(b.ev == ev, "reset keeps the row arrays");
	ASSERT_EQ(b.cap_ev, 8, "reset keeps the capacity");

	batch_done(&b);
	ASSERT_NULL(b.ev, "done frees ev");
	ASSERT_NULL(b.add, "done frees add");
	ASSERT_NULL(b.rf, "done frees rf");
	ASSERT_EQ(b.cap_ev + b.cap_add + b.cap_rf, 0, "done clears capacities");
	batch_done(&b);
}

/* Drain errors must not append rows (collect_maps on bad descriptors). */
static void test_bad_fds(int ncpus)
{
	char what[256];
	struct batch b;
	int r;

	memset(&b, 0, sizeof(b));
	r = collect_maps(&b, -1, -1, -1, ncpus);
	ASSERT_TRUE(r < 0, "collect_maps on bad fds fails");
	ASSERT_TRUE(r == -EBADF || r == -EPERM,
		    "collect_maps on bad fds: -EBADF (-EPERM when unprivileged)");
	snprintf(what, sizeof(what),
		 "collect_maps(&b, -1, -1, -1, ncpus) returns %d yet appends %zu eviction rows "
		 "of uninitialised memory: drain() uses count after a failed batch call",
		 r, b.n_ev);
	ASSERT_TRUE(b.n_ev == 0 && b.n_add == 0 && b.n_rf == 0, what);
	batch_done(&b);

	memset(&b, 0, sizeof(b));
	r = collect_lost(&b, -1, ncpus, (uint64_t[CW_COUNTER_MAX]){ 0 });
	ASSERT_TRUE(r < 0, "collect_lost on a bad fd fails");
	batch_done(&b);
}

static int create_map(enum bpf_map_type type, const char *name, size_t key, size_t value,
		      uint32_t entries)
{
	int fd;

	VALGRIND_DISABLE_ERROR_REPORTING;
	fd = bpf_map_create(type, name, (__u32)key, (__u32)value, entries, NULL);
	if (fd < 0)
		fd = -errno;
	VALGRIND_ENABLE_ERROR_REPORTING;
	return fd;
}

/* The rows came from buffers the kernel filled (see above). */
static void mark_rows_defined(const struct batch *b)
{
	VALGRIND_MAKE_MEM_DEFINED(b->ev, b->n_ev * sizeof(*b->ev));
	VALGRIND_MAKE_MEM_DEFINED(b->add, b->n_add * sizeof(*b->add));
	VALGRIND_MAKE_MEM_DEFINED(b->rf, b->n_rf * sizeof(*b->rf));
}

static bool fill_maps(int ev_fd, int add_fd, int rf_fd, int ncpus, uint32_t n_ev,
		      uint32_t n_add, uint32_t n_rf)
{
	struct cw_counts *vals = calloc((size_t)ncpus, sizeof(*vals));
	bool ok = true;

	if (!vals)
		return TEST_FAIL_("calloc");
	for (uint32_t i = 0; i < n_ev && ok; i++) {
		struct cw_evict_key k = evict_key(i);

		for (int c = 0; c < ncpus; c++)
			vals[c] = evict_val(i, c);
		if (bpf_map_update_elem(ev_fd, &k, vals, BPF_NOEXIST) < 0)
			ok = TEST_FAIL_("update evict key %u: %m", i);
	}
	for (uint32_t i = 0; i < n_add && ok; i++) {
		struct cw_add_key k = add_key(i);

		for (int c = 0; c < ncpus; c++)
			vals[c] = add_val(i, c);
		if (bpf_map_update_elem(add_fd, &k, vals, BPF_NOEXIST) < 0)
			ok = TEST_FAIL_("update add key %u: %m", i);
	}
	for (uint32_t i = 0; i < n_rf && ok; i++) {
		struct cw_refault_key k = refault_key(i);
		struct cw_refault_val v = refault_val(i);

		if (bpf_map_update_elem(rf_fd, &k, &v, BPF_NOEXIST) < 0)
			ok = TEST_FAIL_("update refault key %u: %m", i);
	}
	free(vals);
	return ok;
}

static bool map_empty(int fd, size_t key_size, const char *name)
{
	unsigned char key[64];
	int r;

	if (key_size > sizeof(key))
		return TEST_FAIL_("key too big");
	/* memcheck misreads BPF_MAP_GET_NEXT_KEY's attr (NULL key, flags). */
	VALGRIND_DISABLE_ERROR_REPORTING;
	r = bpf_map_get_next_key(fd, NULL, key);
	if (r < 0)
		r = -errno;
	VALGRIND_ENABLE_ERROR_REPORTING;
	test_checks++;
	if (r == -ENOENT)
		return true;
	return TEST_FAIL_("%s: map not empty after collect_maps", name);
}

/* The batch holds every key exactly once with its per-CPU sum. */
static void check_batch(const struct batch *b, int ncpus, uint32_t n_ev, uint32_t n_add,
			uint32_t n_rf)
{
	bool *seen = calloc(N_EVICT + N_ADD + N_REFAULT, sizeof(*seen));
	bool ok = true;

	if (!ASSERT_NOT_NULL(seen, "calloc"))
		return;
	ASSERT_EQ(b->n_ev, n_ev, "eviction rows");
	ASSERT_EQ(b->n_add, n_add, "addition rows");
	ASSERT_EQ(b->n_rf, n_rf, "refault rows");
	ASSERT_EQ(b->lost_user, 0, "nothing lost in user space");

	for (size_t r = 0; r < b->n_ev && ok; r++) {
		const struct evict_row *row = &b->ev[r];
		uint64_t i = row->key.victim - 1000, events = 0, pages = 0;
		struct cw_evict_key k;

		if (row->key.victim < 1000 || i >= n_ev) {
			ok = TEST_FAIL_("eviction row %zu: unknown key (victim %llu)", r,
					(unsigned long long)row->key.victim);
			break;
		}
		k = evict_key((uint32_t)i);
		for (int c = 0; c < ncpus; c++) {
			events += evict_val((uint32_t)i, c).events;
			pages += evict_val((uint32_t)i, c).pages;
		}
		if (seen[i])
			ok = TEST_FAIL_("eviction key %llu drained twice", (unsigned long long)i);
		else if (memcmp(&row->key, &k, sizeof(k)) != 0)
			ok = TEST_FAIL_("eviction key %llu garbled", (unsigned long long)i);
		else if (row->c.events != events || row->c.pages != pages)
			ok = TEST_FAIL_("eviction key %llu: %llu/%llu, expected %llu/%llu",
					(unsigned long long)i,
					(unsigned long long)row->c.events,
					(unsigned long long)row->c.pages,
					(unsigned long long)events, (unsigned long long)pages);
		seen[i] = true;
	}
	test_checks++;
	ASSERT_TRUE(ok, "eviction rows: every key once, per-CPU values summed");

	ok = true;
	memset(seen, 0, (N_EVICT + N_ADD + N_REFAULT) * sizeof(*seen));
	for (size_t r = 0; r < b->n_add && ok; r++) {
		const struct add_row *row = &b->add[r];
		uint64_t i = row->key.memcg - 2000, events = 0, pages = 0;
		struct cw_add_key k;

		if (row->key.memcg < 2000 || i >= n_add) {
			ok = TEST_FAIL_("addition row %zu: unknown key", r);
			break;
		}
		k = add_key((uint32_t)i);
		for (int c = 0; c < ncpus; c++) {
			events += add_val((uint32_t)i, c).events;
			pages += add_val((uint32_t)i, c).pages;
		}
		if (seen[i] || memcmp(&row->key, &k, sizeof(k)) != 0 || row->c.events != events ||
		    row->c.pages != pages)
			ok = TEST_FAIL_("addition key %llu wrong or twice", (unsigned long long)i);
		seen[i] = true;
	}
	test_checks++;
	ASSERT_TRUE(ok, "addition rows: every key once, per-CPU values summed");

	ok = true;
	memset(seen, 0, (N_EVICT + N_ADD + N_REFAULT) * sizeof(*seen));
	for (size_t r = 0; r < b->n_rf && ok; r++) {
		const struct refault_row *row = &b->rf[r];
		uint64_t i = row->key.memcg - 3000;
		struct cw_refault_key k;
		struct cw_refault_val v;

		if (row->key.memcg < 3000 || i >= n_rf) {
			ok = TEST_FAIL_("refault row %zu: unknown key", r);
			break;
		}
		k = refault_key((uint32_t)i);
		v = refault_val((uint32_t)i);
		if (seen[i] || memcmp(&row->key, &k, sizeof(k)) != 0 ||
		    memcmp(&row->v, &v, sizeof(v)) != 0)
			ok = TEST_FAIL_("refault key %llu wrong or twice", (unsigned long long)i);
		seen[i] = true;
	}
	test_checks++;
	ASSERT_TRUE(ok, "refault rows: every key once, histogram intact");
	free(seen);
}

static void test_collect_maps(int ncpus, int ev_fd, int add_fd, int rf_fd)
{
	struct batch b;
	int r;

	memset(&b, 0, sizeof(b));
	if (!fill_maps(ev_fd, add_fd, rf_fd, ncpus, N_EVICT, N_ADD, N_REFAULT))
		return;
	r = collect_maps(&b, ev_fd, add_fd, rf_fd, ncpus);
	mark_rows_defined(&b);
	if (ASSERT_EQ(r, 0, "collect_maps")) {
		check_batch(&b, ncpus, N_EVICT, N_ADD, N_REFAULT);
		map_empty(ev_fd, sizeof(struct cw_evict_key), "evict");
		map_empty(add_fd, sizeof(struct cw_add_key), "add");
		map_empty(rf_fd, sizeof(struct cw_refault_key), "refault");
	}

	/* Empty maps: nothing appended. */
	ASSERT_EQ(collect_maps(&b, ev_fd, add_fd, rf_fd, ncpus), 0, "collect_maps on empty maps");
	ASSERT_EQ(b.n_ev, N_EVICT, "empty drain appends no evictions");
	ASSERT_EQ(b.n_add, N_ADD, "empty drain appends no additions");
	ASSERT_EQ(b.n_rf, N_REFAULT, "empty drain appends no refaults");

	/* The next interval after batch_reset: a few keys, appended from 0. */
	batch_reset(&b);
	if (fill_maps(ev_fd, add_fd, rf_fd, ncpus, 10, 3, 1)) {
		ASSERT_EQ(collect_maps(&b, ev_fd, add_fd, rf_fd, ncpus), 0,
			  "collect_maps after reset");
		mark_rows_defined(&b);
		check_batch(&b, ncpus, 10, 3, 1);
	}
	batch_done(&b);
}

static bool set_lost(int fd, int ncpus, uint64_t base, uint64_t step)
{
	__u64 *vals = calloc((size_t)ncpus, sizeof(*vals));
	bool ok = true;

	if (!vals)
		return TEST_FAIL_("calloc");
	for (__u32 i = 0; i < CW_COUNTER_MAX && ok; i++) {
		for (int c = 0; c < ncpus; c++)
			vals[c] = base * (i + 1) + step * i + (uint64_t)c;
		if (bpf_map_update_elem(fd, &i, vals, BPF_ANY) < 0)
			ok = TEST_FAIL_("update lost[%u]: %m", i);
	}
	free(vals);
	return ok;
}

/* Sum over CPUs of what set_lost stored at index i. */
static uint64_t lost_total(int ncpus, uint32_t i, uint64_t base, uint64_t step)
{
	uint64_t t = 0;

	for (int c = 0; c < ncpus; c++)
		t += base * (i + 1) + step * i + (uint64_t)c;
	return t;
}

static void test_collect_lost(int ncpus, int fd)
{
	uint64_t prev[CW_COUNTER_MAX] = { 0 };
	struct batch b;

	memset(&b, 0, sizeof(b));
	/* First reading: the deltas are the totals. */
	if (!set_lost(fd, ncpus, 10, 0))
		return;
	if (!ASSERT_EQ(collect_lost(&b, fd, ncpus, prev), 0, "collect_lost first"))
		return;
	for (uint32_t i = 0; i < CW_COUNTER_MAX; i++) {
		ASSERT_EQ(b.lost[i], lost_total(ncpus, i, 10, 0), "first delta is the total");
		ASSERT_EQ(prev[i], lost_total(ncpus, i, 10, 0), "prev holds the total");
	}

	/* Second: counters grew by step * i per CPU (index 0 did not move). */
	if (!set_lost(fd, ncpus, 10, 5))
		return;
	batch_reset(&b);
	ASSERT_EQ(collect_lost(&b, fd, ncpus, prev), 0, "collect_lost second");
	for (uint32_t i = 0; i < CW_COUNTER_MAX; i++) {
		ASSERT_EQ(b.lost[i], (uint64_t)ncpus * 5 * i, "second delta");
		ASSERT_EQ(prev[i], lost_total(ncpus, i, 10, 5), "prev after second");
	}

	/* Unchanged counters without a reset: the batch keeps what it had
	 * (an unwritten interval carries its losses), nothing is added. */
	ASSERT_EQ(collect_lost(&b, fd, ncpus, prev), 0, "collect_lost unchanged");
	for (uint32_t i = 0; i < CW_COUNTER_MAX; i++)
		ASSERT_EQ(b.lost[i], (uint64_t)ncpus * 5 * i, "unchanged counters add nothing");
	batch_reset(&b);
	ASSERT_EQ(collect_lost(&b, fd, ncpus, prev), 0, "collect_lost unchanged after reset");
	for (uint32_t i = 0; i < CW_COUNTER_MAX; i++)
		ASSERT_EQ(b.lost[i], 0, "delta of unchanged counters");

	/* Counters went back (map recreated): the new totals count. */
	if (!set_lost(fd, ncpus, 1, 0))
		return;
	ASSERT_EQ(collect_lost(&b, fd, ncpus, prev), 0, "collect_lost after a reset");
	for (uint32_t i = 0; i < CW_COUNTER_MAX; i++)
		ASSERT_EQ(b.lost[i], lost_total(ncpus, i, 1, 0), "delta after counter reset");
}

int main(void)
{
	int ncpus = libbpf_num_possible_cpus();
	int ev_fd, add_fd, rf_fd, lost_fd;

	if (ncpus <= 0) {
		fprintf(stderr, "libbpf_num_possible_cpus: %d\n", ncpus);
		return TEST_HARD_ERROR;
	}
	test_sum();
	test_batch();
	test_bad_fds(ncpus);

	ev_fd = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cw_t_evict", sizeof(struct cw_evict_key),
			   sizeof(struct cw_counts), MAP_ENTRIES);
	if (ev_fd == -EPERM || ev_fd == -EACCES) {
		fprintf(stderr, "SKIP: collect_maps/collect_lost need CAP_BPF to create maps "
				"(%s); the rest passed\n",
			strerror(-ev_fd));
		return test_exit();
	}
	add_fd = create_map(BPF_MAP_TYPE_PERCPU_HASH, "cw_t_add", sizeof(struct cw_add_key),
			    sizeof(struct cw_counts), MAP_ENTRIES);
	rf_fd = create_map(BPF_MAP_TYPE_HASH, "cw_t_refault", sizeof(struct cw_refault_key),
			   sizeof(struct cw_refault_val), MAP_ENTRIES);
	lost_fd = create_map(BPF_MAP_TYPE_PERCPU_ARRAY, "cw_t_lost", sizeof(__u32),
			     sizeof(__u64), CW_COUNTER_MAX);
	if (ASSERT_TRUE(ev_fd >= 0 && add_fd >= 0 && rf_fd >= 0 && lost_fd >= 0,
			"bpf_map_create")) {
		test_collect_maps(ncpus, ev_fd, add_fd, rf_fd);
		test_collect_lost(ncpus, lost_fd);
	}
	if (ev_fd >= 0)
		close(ev_fd);
	if (add_fd >= 0)
		close(add_fd);
	if (rf_fd >= 0)
		close(rf_fd);
	if (lost_fd >= 0)
		close(lost_fd);
	return test_exit();
}
