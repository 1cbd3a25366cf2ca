/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus metrics of cachewatchd.  The main thread keeps cumulative
 * totals (per cgroup, cause and exec; never per file: cardinality), renders
 * the text exposition after every interval written and publishes it; a
 * libmicrohttpd thread serves the last published text on /metrics.  The
 * two threads share only that text, under a mutex.
 */
#ifndef CACHEWATCH_METRICS_H
#define CACHEWATCH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "collector.h"
#include "hashtab.h"

struct cgroups;

/*
 * "PORT", ":PORT" (loopback), "ADDR:PORT" (IPv4 or a host name that is
 * "localhost"), "[ADDR6]:PORT".  0, or -EINVAL with the reason in err.
 */
int metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
		       size_t errlen);

/* "127.0.0.1:9464", "[::1]:9464". */
void metrics_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len);

/* The HTTP side. */
struct metrics_server;
int metrics_server_start(struct metrics_server **ret, const struct sockaddr_storage *ss,
			 char *err, size_t errlen);
/* Replace the text served (takes ownership of text, a malloc'ed string). */
void metrics_server_publish(struct metrics_server *s, char *text);
struct metrics_server *metrics_server_stop(struct metrics_server *s);

/* What the main thread accumulates between renders. */
struct metrics_state {
	struct hashtab evicted;   /* struct evicted_key -> uint64_t pages */
	struct hashtab per_cgroup; /* uint64_t cgroup id -> struct cgroup_totals */
	uint64_t lost[CW_COUNTER_MAX];
	uint64_t lost_user;
	uint64_t intervals, failed_writes;
	double flush_seconds_sum, last_flush_seconds;
	uint64_t last_rows[3]; /* eviction, addition, refault keys of the last interval */
	int64_t last_interval_ts;
};

/* Per-program BPF statistics and map sizing, filled by the caller. */
struct metrics_bpf {
	const char *prog_name[2];
	uint64_t run_time_ns[2], run_cnt[2], recursion_misses[2];
	uint32_t capacity[3]; /* eviction, addition, refault maps */
	uint32_t shadow_entries;
};

void metrics_state_init(struct metrics_state *m);
void metrics_state_done(struct metrics_state *m);

/* Account an interval just written (b holds exactly its rows). */
void metrics_observe(struct metrics_state *m, const struct batch *b, int64_t ts,
		     double flush_seconds);
void metrics_observe_failure(struct metrics_state *m);

/*
 * Forget the totals of cgroups the name table no longer holds (it prunes
 * removed cgroups), so series do not grow without bound.
 */
void metrics_prune(struct metrics_state *m, struct cgroups *cg);

/* The exposition text (malloc'ed), or NULL on ENOMEM. */
char *metrics_render(const struct metrics_state *m, struct cgroups *cg,
		     const struct metrics_bpf *bpf, const char *db_path);

#endif
