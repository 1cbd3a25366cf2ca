/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The facts of a cachewatch report, gathered from every database before a
 * byte is written, then rendered as HTML or Markdown.  Names (cgroups,
 * files, Kubernetes names, hostnames) are untrusted: renderers escape them.
 */
#ifndef CACHEWATCH_REPORT_H
#define CACHEWATCH_REPORT_H

#include "cli.h"

#define REP_BUCKETS 64      /* refault_buckets rows */
#define REP_SERIES 6        /* cgroups in the timeline (one colour each) */
#define REP_MAX_BINS 240    /* timeline points */
#define REP_PRESSURE_PER_ROOT 5
#define REP_STEP_PARTS 24

enum rep_lost {
	LOST_EVICT, LOST_ADD, LOST_REFAULT, LOST_SHADOW, LOST_RINGBUF, LOST_EXEC, LOST_USER,
	LOST_KINDS
};

extern const char *const rep_lost_names[LOST_KINDS];

/* A memory cgroup as the report names it. */
struct rep_cgroup {
	int64_t id;
	char *path;             /* NULL: never resolved */
	char *ns, *pod, *container;
};

/* One database: one node. */
struct rep_node {
	const char *path;
	sqlite3 *db;
	sqlite3_stmt *cgroup_stmt; /* name lookup, prepared once */
	char *hostname, *kernel;
	char *label;            /* what the node column shows */
	int64_t first_ts, last_ts, intervals; /* intervals written in the window */
	int64_t interval_s;
	int64_t refault_sample; /* the largest 1-in-N sampling of runs in the window */
	bool brackets;          /* a run inferred reclaim roots (no scan_control) */
	bool cgroup_v1;
	int64_t lost[LOST_KINDS];
	int64_t shadow_displaced, dropped_names;
	int64_t refaulted;      /* pages cachewatch saw come back in the window */
};

/* Executable pages of one file lost by one victim. */
struct rep_victim {
	size_t node;
	struct rep_cgroup victim, root; /* root.id 0: no reclaim root */
	char *file, *container_file;
	int64_t dev, ino;
	int64_t evicted, refaulted, first_ts, last_ts;
	double median_ms;       /* < 0: no refault timed */
	char *cause;
	struct rep_cgroup pressure; /* grew the most under root (id 0: none known) */
	int64_t pressure_growth;
	int64_t file_peak;      /* the victim's own page cache at its largest, -1 unknown */
	int64_t hist[REP_BUCKETS];
};

/* All page cache lost by a victim to one cause under one reclaim root. */
struct rep_loss {
	size_t node;
	struct rep_cgroup victim, root;
	char *cause;
	int64_t pages, exec_pages, refaulted;
};

/* A cgroup under a reclaim root while the root reclaimed. */
struct rep_pressure {
	size_t node;
	int64_t root_id;
	struct rep_cgroup cg;
	int64_t peak_anon, peak_file, growth;
	bool is_victim;         /* lost executable pages itself */
};

/* A reclaim root that evicted in the window, with its limit and usage. */
struct rep_root {
	size_t node;
	struct rep_cgroup cg;
	int64_t pages, exec_pages, refaulted, victims;
	bool have_stat;
	int64_t limit_min, limit_max; /* -1: unlimited */
	int64_t usage_max, failcnt;   /* failcnt: increase in the window */
	int64_t file_max;             /* total_file_bytes at its highest */
};

/* The kernel's refault counter of a cgroup next to cachewatch's count. */
struct rep_check {
	size_t node;
	struct rep_cgroup cg;
	bool known;             /* two snapshots of the counter in the window */
	int64_t from_ts, to_ts; /* the counter's increase is over (from, to] */
	int64_t kernel, cachewatch;
};

/* Evictions and refaults of one cgroup over time, pages per second per bin. */
struct rep_series {
	size_t node;
	struct rep_cgroup cg;
	double evict[REP_MAX_BINS], refault[REP_MAX_BINS];
	int64_t evicted, refaulted;
};

struct rep_timeline {
	int64_t start, bin_s;
	size_t nbins, n;
	struct rep_series s[REP_SERIES];
};

/* A next step: trusted text with untrusted names between. */
struct rep_step {
	size_t n;
	struct {
		char *s;
		bool name;
	} part[REP_STEP_PARTS];
};

struct report {
	int64_t since, until;   /* the window asked for (INT64_MIN/MAX: open) */
	bool since_set, until_set;
	int64_t first_ts, last_ts; /* data actually found in it */
	bool have_data;
	size_t top;
	bool multi;             /* several nodes: show the node column */
	int64_t generated;
	bool oom;

	struct rep_node nodes[CLI_MAX_DBS];
	size_t nnodes;

	struct rep_victim *victims;
	size_t nvictims, cvictims;
	struct rep_loss *losses;
	size_t nlosses, closses;
	struct rep_root *roots;
	size_t nroots, croots;
	struct rep_pressure *pressure;
	size_t npressure, cpressure;
	struct rep_check *checks;
	size_t nchecks, cchecks;
	struct rep_step *steps;
	size_t nsteps, csteps;

	/* refault times: pages per bucket, executable and other */
	int64_t hist_exec[REP_BUCKETS], hist_other[REP_BUCKETS];
	double bucket_lower[REP_BUCKETS], bucket_upper[REP_BUCKETS], bucket_mid[REP_BUCKETS];
	bool have_buckets;

	struct rep_timeline timeline;

	/* Each node's victims that lost the most, for the timeline to choose from. */
	struct rep_candidate {
		size_t node;
		int64_t id, pages;
	} cand[CLI_MAX_DBS * REP_SERIES];
	size_t ncand;
};

/* report-data.c: fill r from its nodes (already open); CLI_OK or CLI_FAIL after a message. */
int report_gather(struct report *r);
void report_free(struct report *r);

/* report-steps.c: add the next steps of the gathered facts to r->steps (r->oom on failure). */
void report_steps(struct report *r);

/*
 * Shared by report-data.c and report-steps.c.  rep_grow: a zeroed element
 * at index n of *arr (the caller counts it); NULL and r->oom when out of memory.
 */
void *rep_grow(struct report *r, void **arr, size_t *cap, size_t n, size_t elem);
/* The cgroup other than the victim that grew the most under a root; NULL if none grew. */
const struct rep_pressure *rep_top_pressure(const struct report *r, size_t node, int64_t root,
					    int64_t victim);

/* Shared by the renderers. */
const char *rep_cgroup_name(const struct rep_cgroup *cg, char *buf, size_t len);
bool rep_cgroup_has_k8s(const struct rep_cgroup *cg);
double rep_median_ms(const struct report *r, const int64_t *hist);
int64_t rep_lost_total(const struct rep_node *n);

/* Renderers: write the whole report to f; false on an error (message printed). */
bool report_html(const struct report *r, FILE *f);
bool report_md(const struct report *r, FILE *f);

#endif
