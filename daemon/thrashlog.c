// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Journal warnings for executable page-cache thrash; see thrashlog.h.
 */
#include <stdio.h>
#include <string.h>
#include "cgroups.h"
#include "log.h"
#include "thrashlog.h"

/* 1 MiB of executable pages evicted in one interval is worth a line. */
#define DEFAULT_MIN_PAGES 256
#define DEFAULT_QUIET_SECONDS 300

struct victim_sum {
	uint64_t exec_pages;
	uint64_t refaulted_pages;
	uint64_t by_cause[CW_CAUSE_MAX];
	uint64_t root;       /* reclaim root of the victim's first exec rows */
	uint64_t root_pages; /* (in a limit thrash there is only one root) */
};

static const char *const cause_names[CW_CAUSE_MAX] = {
	"other", "limit", "limit_shrink", "high", "proactive", "pageout",
	"kswapd", "direct", "drop_caches", "invalidate", "truncate",
};

void thrashlog_init(struct thrashlog *t)
{
	hashtab_init(&t->last_logged, sizeof(uint64_t), sizeof(int64_t));
	t->min_pages = DEFAULT_MIN_PAGES;
	t->quiet_seconds = DEFAULT_QUIET_SECONDS;
}

void thrashlog_done(struct thrashlog *t)
{
	hashtab_done(&t->last_logged);
}

static const char *path_of(struct cgroups *cgs, uint64_t id, char *buf, size_t len)
{
	struct cgroup_info *cg = id ? cgroups_get(cgs, id) : NULL;

	if (cg && cg->path)
		return cg->path;
	snprintf(buf, len, id ? "(cgroup %llu)" : "(none)", (unsigned long long)id);
	return buf;
}

static void warn(struct cgroups *cgs, uint64_t victim, const struct victim_sum *v)
{
	char f_cg[4200], f_cause[64], f_root[4200], f_exec[48], f_ref[48], f_pod[600];
	char vb[32], rb[32];
	const char *fields[7] = { f_cg, f_cause, f_root, f_exec, f_ref, NULL, NULL };
	struct cgroup_info *cg = cgroups_get(cgs, victim);
	int top = 0;

	for (int c = 1; c < CW_CAUSE_MAX; c++)
		if (v->by_cause[c] > v->by_cause[top])
			top = c;
	snprintf(f_cg, sizeof(f_cg), "CACHEWATCH_CGROUP=%s", path_of(cgs, victim, vb, sizeof(vb)));
	snprintf(f_cause, sizeof(f_cause), "CACHEWATCH_CAUSE=%s", cause_names[top]);
	snprintf(f_root, sizeof(f_root), "CACHEWATCH_RECLAIM_ROOT=%s",
		 path_of(cgs, v->root, rb, sizeof(rb)));
	snprintf(f_exec, sizeof(f_exec), "CACHEWATCH_EXEC_PAGES=%llu",
		 (unsigned long long)v->exec_pages);
	snprintf(f_ref, sizeof(f_ref), "CACHEWATCH_REFAULTED_PAGES=%llu",
		 (unsigned long long)v->refaulted_pages);
	if (cg && cg->names_known && cg->names.pod[0]) {
		snprintf(f_pod, sizeof(f_pod), "CACHEWATCH_POD=%s/%s", cg->names.namespace,
			 cg->names.pod);
		fields[5] = f_pod;
	}
	log_fields(LOG_WARNING, fields,
		   "%s lost %llu executable pages in one interval (cause %s, reclaim root %s), "
		   "%llu pages came back: its code is being re-read from disk",
		   f_cg + strlen("CACHEWATCH_CGROUP="), (unsigned long long)v->exec_pages,
		   cause_names[top], f_root + strlen("CACHEWATCH_RECLAIM_ROOT="),
		   (unsigned long long)v->refaulted_pages);
}

void thrashlog_interval(struct thrashlog *t, const struct batch *b, struct cgroups *cg, int64_t ts)
{
	struct hashtab sums;
	struct victim_sum *v;
	uint64_t *victim;
	size_t pos = 0;

	hashtab_init(&sums, sizeof(uint64_t), sizeof(struct victim_sum));
	for (size_t i = 0; i < b->n_ev; i++) {
		const struct evict_row *e = &b->ev[i];

		if (!(e->key.flags & CW_FLAG_EXEC) || e->key.cause >= CW_CAUSE_MAX)
			continue;
		v = hashtab_put(&sums, &e->key.victim, NULL);
		if (!v)
			break;
		v->exec_pages += e->c.pages;
		v->by_cause[e->key.cause] += e->c.pages;
		if (e->key.root == v->root || !v->root_pages) {
			v->root = e->key.root;
			v->root_pages += e->c.pages;
		}
	}
	for (size_t i = 0; i < b->n_rf; i++) {
		const struct refault_row *f = &b->rf[i];

		if ((f->key.flags & CW_FLAG_EXEC) && (v = hashtab_get(&sums, &f->key.victim)))
			v->refaulted_pages += f->v.pages;
	}
	while (hashtab_next(&sums, &pos, (void **)&victim, (void **)&v)) {
		int64_t *last;

		if (v->exec_pages < t->min_pages || !v->refaulted_pages)
			continue;
		last = hashtab_put(&t->last_logged, victim, NULL);
		if (!last || (*last && ts - *last < t->quiet_seconds))
			continue;
		*last = ts;
		warn(cg, *victim, v);
	}
	hashtab_done(&sums);
}
