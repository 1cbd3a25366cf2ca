// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cumulative totals for the Prometheus endpoint and their rendering in
 * the text exposition format (version 0.0.4); see metrics.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroups.h"
#include "metrics.h"
#include "util.h"

#define PAGE_BYTES 4096ULL

struct evicted_key {
	uint64_t cgroup;
	uint8_t cause;
	uint8_t exec;
	uint8_t pad[6];
};

struct cgroup_totals {
	uint64_t refaulted_pages;
	uint64_t added_pages;
};

static const char *const cause_names[CW_CAUSE_MAX] = {
	[CW_CAUSE_OTHER] = "other",	      [CW_CAUSE_LIMIT] = "limit",
	[CW_CAUSE_LIMIT_SHRINK] = "limit_shrink", [CW_CAUSE_HIGH] = "high",
	[CW_CAUSE_PROACTIVE] = "proactive",     [CW_CAUSE_PAGEOUT] = "pageout",
	[CW_CAUSE_KSWAPD] = "kswapd",	      [CW_CAUSE_DIRECT] = "direct",
	[CW_CAUSE_DROP_CACHES] = "drop_caches", [CW_CAUSE_INVALIDATE] = "invalidate",
	[CW_CAUSE_TRUNCATE] = "truncate",
};

static const char *const lost_reasons[CW_LOST_MAX] = {
	[CW_LOST_EVICT_MAP_FULL] = "evict_map_full",
	[CW_LOST_ADD_MAP_FULL] = "add_map_full",
	[CW_LOST_REFAULT_MAP_FULL] = "refault_map_full",
	[CW_LOST_SHADOW_UPDATE] = "shadow_update_failed",
	[CW_LOST_RINGBUF] = "ringbuf_full",
	[CW_LOST_EXEC_SET] = "exec_set_full",
};

static const char *const map_names[3] = { "evict", "add", "refault" };

void metrics_state_init(struct metrics_state *m)
{
	memset(m, 0, sizeof(*m));
	hashtab_init(&m->evicted, sizeof(struct evicted_key), sizeof(uint64_t));
	hashtab_init(&m->per_cgroup, sizeof(uint64_t), sizeof(struct cgroup_totals));
}

void metrics_state_done(struct metrics_state *m)
{
	hashtab_done(&m->evicted);
	hashtab_done(&m->per_cgroup);
}

static struct cgroup_totals *totals_of(struct metrics_state *m, uint64_t id)
{
	return hashtab_put(&m->per_cgroup, &id, NULL);
}

void metrics_observe(struct metrics_state *m, const struct batch *b, int64_t ts,
		     double flush_seconds)
{
	for (size_t i = 0; i < b->n_ev; i++) {
		const struct evict_row *e = &b->ev[i];
		struct evicted_key k = { .cgroup = e->key.victim,
					 .cause = e->key.cause < CW_CAUSE_MAX ? e->key.cause : 0,
					 .exec = !!(e->key.flags & CW_FLAG_EXEC) };
		uint64_t *v = hashtab_put(&m->evicted, &k, NULL);

		if (v)
			*v += e->c.pages;
		totals_of(m, e->key.victim); /* every victim gets its refault series */
	}
	for (size_t i = 0; i < b->n_add; i++) {
		struct cgroup_totals *t = totals_of(m, b->add[i].key.memcg);

		if (t)
			t->added_pages += b->add[i].c.pages;
	}
	for (size_t i = 0; i < b->n_rf; i++) {
		struct cgroup_totals *t = totals_of(m, b->rf[i].key.victim);

		if (t)
			t->refaulted_pages += b->rf[i].v.pages;
	}
	for (int i = 0; i < CW_COUNTER_MAX; i++)
		m->lost[i] += b->lost[i];
	m->lost_user += b->lost_user;
	m->intervals++;
	m->flush_seconds_sum += flush_seconds;
	m->last_flush_seconds = flush_seconds;
	m->last_rows[0] = b->n_ev;
	m->last_rows[1] = b->n_add;
	m->last_rows[2] = b->n_rf;
	m->last_interval_ts = ts;
}

void metrics_observe_failure(struct metrics_state *m)
{
	m->failed_writes++;
}

void metrics_prune(struct metrics_state *m, struct cgroups *cg)
{
	struct evicted_key *ek;
	uint64_t *id;
	size_t pos = 0;

	/* Deleting shifts entries back: restart from the same slot after each. */
	while (hashtab_next(&m->evicted, &pos, (void **)&ek, NULL)) {
		if (!cgroups_get(cg, ek->cgroup)) {
			struct evicted_key k = *ek;

			hashtab_del(&m->evicted, &k);
			pos--;
		}
	}
	pos = 0;
	while (hashtab_next(&m->per_cgroup, &pos, (void **)&id, NULL)) {
		if (!cgroups_get(cg, *id)) {
			uint64_t k = *id;

			hashtab_del(&m->per_cgroup, &k);
			pos--;
		}
	}
}

/* ---------------------------------------------------------------- rendering */

/*
 * A label value: backslash, quote and newline escaped as the format
 * wants; other control bytes and bytes that are not UTF-8 written as the
 * text \xNN (with the backslash escaped), so the output is valid UTF-8.
 */
static void put_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = 0;

		if (*p == '\\' || *p == '"') {
			fprintf(f, "\\%c", *p);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p >= 0x20 && *p < 0x7f) {
			fputc(*p, f);
		} else if (*p >= 0xc2 && *p <= 0xf4) {
			n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			for (size_t i = 1; i < n; i++)
				if ((p[i] & 0xc0) != 0x80)
					n = 0;
			if (n) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
			fprintf(f, "\\\\x%02x", *p);
		} else {
			fprintf(f, "\\\\x%02x", *p);
		}
		p++;
	}
}

static void put_label(FILE *f, bool *first, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	fprintf(f, "%s%s=\"", *first ? "" : ",", name);
	put_label_value(f, value);
	fputc('"', f);
	*first = false;
}

/* The labels that name a cgroup: its path and, where known, its pod. */
static void put_cgroup_labels(FILE *f, bool *first, struct cgroups *cgs, uint64_t id)
{
	struct cgroup_info *cg = cgroups_get(cgs, id);
	char fallback[32];

	if (!cg || !cg->path) {
		snprintf(fallback, sizeof(fallback), "id:%llu", (unsigned long long)id);
		put_label(f, first, "cgroup", fallback);
		return;
	}
	put_label(f, first, "cgroup", cg->path);
	if (cg->names_known) {
		put_label(f, first, "namespace", cg->names.namespace);
		put_label(f, first, "pod", cg->names.pod);
		put_label(f, first, "container", cg->names.container);
	}
	put_label(f, first, "pod_uid", cg->owner.pod_uid);
	put_label(f, first, "container_id", cg->owner.container_id);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_cgroups(FILE *f, const struct metrics_state *m, struct cgroups *cgs)
{
	struct evicted_key *ek;
	struct cgroup_totals *t;
	uint64_t *v, *id;
	size_t pos = 0;

	header(f, "cachewatch_evicted_bytes_total", "counter",
	       "Page cache removed from the cgroup's charge, by cause; exec=\"true\" for "
	       "executable pages.");
	while (hashtab_next(&m->evicted, &pos, (void **)&ek, (void **)&v)) {
		bool first = true;

		fputs("cachewatch_evicted_bytes_total{", f);
		put_cgroup_labels(f, &first, cgs, ek->cgroup);
		put_label(f, &first, "cause", cause_names[ek->cause]);
		put_label(f, &first, "exec", ek->exec ? "true" : "false");
		fprintf(f, "} %llu\n", (unsigned long long)(*v * PAGE_BYTES));
	}
	header(f, "cachewatch_refaulted_bytes_total", "counter",
	       "Evicted page cache of the cgroup that was read back in (refaults).");
	pos = 0;
	while (hashtab_next(&m->per_cgroup, &pos, (void **)&id, (void **)&t)) {
		bool first = true;

		fputs("cachewatch_refaulted_bytes_total{", f);
		put_cgroup_labels(f, &first, cgs, *id);
		fprintf(f, "} %llu\n", (unsigned long long)(t->refaulted_pages * PAGE_BYTES));
	}
	header(f, "cachewatch_added_bytes_total", "counter",
	       "Page cache added and charged to the cgroup.");
	pos = 0;
	while (hashtab_next(&m->per_cgroup, &pos, (void **)&id, (void **)&t)) {
		bool first = true;

		fputs("cachewatch_added_bytes_total{", f);
		put_cgroup_labels(f, &first, cgs, *id);
		fprintf(f, "} %llu\n", (unsigned long long)(t->added_pages * PAGE_BYTES));
	}
}

static int64_t file_size(const char *path, const char *suffix)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

static void render_self(FILE *f, const struct metrics_state *m, const struct metrics_bpf *bpf,
			const char *db_path)
{
	header(f, "cachewatch_lost_events_total", "counter",
	       "Events the daemon could not record, by reason.");
	for (int i = 0; i < CW_LOST_MAX; i++)
		fprintf(f, "cachewatch_lost_events_total{reason=\"%s\"} %llu\n", lost_reasons[i],
			(unsigned long long)m->lost[i]);
	fprintf(f, "cachewatch_lost_events_total{reason=\"user_space\"} %llu\n",
		(unsigned long long)m->lost_user);
	header(f, "cachewatch_shadow_displaced_total", "counter",
	       "Remembered evictions overwritten before their page came back (refaults that "
	       "may go unseen).");
	fprintf(f, "cachewatch_shadow_displaced_total %llu\n",
		(unsigned long long)m->lost[CW_COUNT_SHADOW_DISPLACED]);

	header(f, "cachewatch_map_entries", "gauge",
	       "Keys drained from each aggregate map in the last interval.");
	for (int i = 0; i < 3; i++)
		fprintf(f, "cachewatch_map_entries{map=\"%s\"} %llu\n", map_names[i],
			(unsigned long long)m->last_rows[i]);
	header(f, "cachewatch_map_capacity_entries", "gauge",
	       "Capacity of each map, in keys (shadow: remembered evictions).");
	for (int i = 0; i < 3; i++)
		fprintf(f, "cachewatch_map_capacity_entries{map=\"%s\"} %u\n", map_names[i],
			bpf->capacity[i]);
	fprintf(f, "cachewatch_map_capacity_entries{map=\"shadow\"} %u\n", bpf->shadow_entries);

	header(f, "cachewatch_bpf_run_seconds_total", "counter",
	       "Time spent in each BPF program (counted only while kernel.bpf_stats_enabled=1).");
	for (int i = 0; i < 2; i++)
		fprintf(f, "cachewatch_bpf_run_seconds_total{program=\"%s\"} %.9f\n",
			bpf->prog_name[i], (double)bpf->run_time_ns[i] / 1e9);
	header(f, "cachewatch_bpf_runs_total", "counter",
	       "Runs of each BPF program (counted only while kernel.bpf_stats_enabled=1).");
	for (int i = 0; i < 2; i++)
		fprintf(f, "cachewatch_bpf_runs_total{program=\"%s\"} %llu\n", bpf->prog_name[i],
			(unsigned long long)bpf->run_cnt[i]);
	header(f, "cachewatch_bpf_recursion_misses_total", "counter",
	       "Runs of each BPF program the kernel skipped (events lost).");
	for (int i = 0; i < 2; i++)
		fprintf(f, "cachewatch_bpf_recursion_misses_total{program=\"%s\"} %llu\n",
			bpf->prog_name[i], (unsigned long long)bpf->recursion_misses[i]);

	header(f, "cachewatch_interval_flush_seconds", "summary",
	       "Time to drain, name and write one interval.");
	fprintf(f, "cachewatch_interval_flush_seconds_sum %.6f\n", m->flush_seconds_sum);
	fprintf(f, "cachewatch_interval_flush_seconds_count %llu\n",
		(unsigned long long)m->intervals);
	header(f, "cachewatch_last_interval_flush_seconds", "gauge",
	       "Time to drain, name and write the last interval.");
	fprintf(f, "cachewatch_last_interval_flush_seconds %.6f\n", m->last_flush_seconds);
	header(f, "cachewatch_last_interval_timestamp_seconds", "gauge",
	       "Unix time of the end of the last interval written.");
	fprintf(f, "cachewatch_last_interval_timestamp_seconds %lld\n",
		(long long)m->last_interval_ts);
	header(f, "cachewatch_interval_write_failures_total", "counter",
	       "Interval writes that failed (their rows are kept and written with the next).");
	fprintf(f, "cachewatch_interval_write_failures_total %llu\n",
		(unsigned long long)m->failed_writes);

	header(f, "cachewatch_database_size_bytes", "gauge", "Size of the SQLite database file.");
	fprintf(f, "cachewatch_database_size_bytes %lld\n", (long long)file_size(db_path, ""));
	header(f, "cachewatch_database_wal_size_bytes", "gauge",
	       "Size of the database's write-ahead log.");
	fprintf(f, "cachewatch_database_wal_size_bytes %lld\n",
		(long long)file_size(db_path, "-wal"));
	header(f, "cachewatch_build_info", "gauge", "Version of cachewatchd; always 1.");
	fprintf(f, "cachewatch_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
}

char *metrics_render(const struct metrics_state *m, struct cgroups *cgs,
		     const struct metrics_bpf *bpf, const char *db_path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	render_cgroups(f, m, cgs);
	render_self(f, m, bpf, db_path);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
