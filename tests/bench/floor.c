// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * floor: loader of the benchmark's floor programs (floor.bpf.c).  Opens,
 * loads and attaches them, prints "ready" once they are live, waits for
 * SIGTERM or SIGINT, then prints what they counted on one line:
 *
 *   floor add_events=N add_pages=N delete_events=N delete_pages=N
 *
 * and exits 0.  bench.py runs it as the "floor" configuration, and with
 * --keyed (the programs that also update a hash keyed by memcg and inode)
 * as "floor-keyed".
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

/* Same layout as in floor.bpf.c. */
enum { FLOOR_ADD = 0, FLOOR_DELETE = 1 };

struct floor_count {
	__u64 events;
	__u64 pages;
};

_Static_assert(sizeof(struct floor_count) == 16, "floor_count must match floor.bpf.c");

/* Sum one hook's per-CPU slots into *total; 0 or -errno. */
static int read_counts(struct floor_bpf *skel, __u32 hook, struct floor_count *total)
{
	int ncpu = libbpf_num_possible_cpus();
	struct floor_count *per_cpu;
	int err;

	if (ncpu < 0)
		return ncpu;
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	err = bpf_map__lookup_elem(skel->maps.counts, &hook, sizeof(hook), per_cpu,
				   (size_t)ncpu * sizeof(*per_cpu), 0);
	if (!err) {
		memset(total, 0, sizeof(*total));
		for (int i = 0; i < ncpu; i++) {
			total->events += per_cpu[i].events;
			total->pages += per_cpu[i].pages;
		}
	}
	free(per_cpu);
	return err;
}

/* Block SIGTERM and SIGINT now, so sigwait() can take them later. */
static int block_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	return 0;
}

/* Open and load either the plain pair or the keyed pair. */
static struct floor_bpf *open_and_load(bool keyed)
{
	struct floor_bpf *skel = floor_bpf__open();

	if (!skel)
		return NULL;
	bpf_program__set_autoload(skel->progs.cwb_floor_add, !keyed);
	bpf_program__set_autoload(skel->progs.cwb_floor_del, !keyed);
	bpf_program__set_autoload(skel->progs.cwb_key_add, keyed);
	bpf_program__set_autoload(skel->progs.cwb_key_del, keyed);
	if (floor_bpf__load(skel)) {
		floor_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

int main(int argc, char **argv)
{
	struct floor_count add, del;
	struct floor_bpf *skel;
	sigset_t stop_set;
	bool keyed = false;
	int err, sig;

	if (argc == 2 && !strcmp(argv[1], "--keyed")) {
		keyed = true;
	} else if (argc != 1) {
		fprintf(stderr, "usage: floor [--keyed]\n");
		return 2;
	}

	err = block_stop_signals(&stop_set);
	if (err) {
		fprintf(stderr, "floor: sigprocmask: %s\n", strerror(-err));
		return 1;
	}
	skel = open_and_load(keyed);
	if (!skel) {
		fprintf(stderr, "floor: cannot load the BPF programs: %s\n", strerror(errno));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: cannot attach: %s\n", strerror(-err));
		goto cleanup;
	}
	printf("ready\n");
	fflush(stdout);

	err = -sigwait(&stop_set, &sig);
	if (err) {
		fprintf(stderr, "floor: sigwait: %s\n", strerror(-err));
		goto cleanup;
	}
	err = read_counts(skel, FLOOR_ADD, &add);
	if (!err)
		err = read_counts(skel, FLOOR_DELETE, &del);
	if (err) {
		fprintf(stderr, "floor: cannot read the counters: %s\n", strerror(-err));
		goto cleanup;
	}
	printf("floor add_events=%llu add_pages=%llu delete_events=%llu delete_pages=%llu\n",
	       (unsigned long long)add.events, (unsigned long long)add.pages,
	       (unsigned long long)del.events, (unsigned long long)del.pages);

cleanup:
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
