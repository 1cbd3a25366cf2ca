// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The next steps of a report, derived from the facts already gathered: for
 * the worst victims, what to change about their reclaim root, its limit or
 * the cgroup that grew under it; then lost events and refault counts that
 * disagree with the kernel's.  Steps are our own text with the untrusted
 * names kept apart, for the renderers to escape.
 */
#include <stdarg.h>
#include <string.h>
#include "report.h"

static struct rep_step *step_new(struct report *r)
{
	return rep_grow(r, (void **)&r->steps, &r->csteps, r->nsteps, sizeof(struct rep_step)) ?
		       &r->steps[r->nsteps++] : NULL;
}

static void step_part(struct report *r, struct rep_step *s, bool name, const char *text)
{
	if (!s || s->n >= REP_STEP_PARTS)
		return;
	s->part[s->n].s = strdup(text ? text : "");
	s->part[s->n].name = name;
	if (!s->part[s->n].s)
		r->oom = true;
	else
		s->n++;
}

static void step_text(struct report *r, struct rep_step *s, const char *fmt, ...) _printf_(3, 4);

static void step_text(struct report *r, struct rep_step *s, const char *fmt, ...)
{
	_cleanup_free_ char *t = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&t, fmt, ap);
	va_end(ap);
	if (len < 0) {
		r->oom = true;
		t = NULL;
		return;
	}
	step_part(r, s, false, t);
}

static void step_cgroup(struct report *r, struct rep_step *s, const struct rep_cgroup *cg)
{
	char buf[64];

	step_part(r, s, true, rep_cgroup_name(cg, buf, sizeof(buf)));
	if (cg->pod) {
		step_text(r, s, " (pod ");
		step_part(r, s, true, cg->ns ? cg->ns : "?");
		step_text(r, s, "/");
		step_part(r, s, true, cg->pod);
		step_text(r, s, ")");
	}
}

static void step_node(struct report *r, struct rep_step *s, size_t node)
{
	if (!r->multi)
		return;
	step_text(r, s, "On ");
	step_part(r, s, true, r->nodes[node].label);
	step_text(r, s, ": ");
}

static const struct rep_root *find_root(const struct report *r, size_t node, int64_t id)
{
	for (size_t i = 0; i < r->nroots; i++)
		if (r->roots[i].node == node && r->roots[i].cg.id == id)
			return &r->roots[i];
	return NULL;
}

static void fmt_bytes(char *buf, size_t len, int64_t b)
{
	cli_format_bytes(buf, len, (double)b);
}

static void steps_for_limit(struct report *r, const struct rep_victim *v)
{
	const struct rep_root *root = find_root(r, v->node, v->root.id);
	const struct rep_pressure *hog = rep_top_pressure(r, v->node, v->root.id, v->victim.id);
	char a[32], b[32], c[32];
	struct rep_step *s;

	if (hog) {
		s = step_new(r);
		step_node(r, s, v->node);
		step_text(r, s, "Move ");
		step_cgroup(r, s, &hog->cg);
		step_text(r, s, " out of reclaim root ");
		step_cgroup(r, s, &v->root);
		fmt_bytes(a, sizeof(a), hog->growth);
		step_text(r, s, ", or give it a limit of its own: it grew by %s there while the root's "
				"limit evicted the executable pages of ", a);
		step_cgroup(r, s, &v->victim);
		step_text(r, s, ".");
	}
	s = step_new(r);
	step_node(r, s, v->node);
	if (root && root->have_stat && root->limit_max > 0) {
		fmt_bytes(a, sizeof(a), root->limit_max);
		fmt_bytes(b, sizeof(b), root->limit_max + (hog ? hog->growth : v->file_peak > 0 ? v->file_peak : 0));
		step_text(r, s, "Raise the limit of ");
		step_cgroup(r, s, &v->root);
		step_text(r, s, " from %s to at least %s", a, b);
		if (root->usage_max >= 0) {
			fmt_bytes(c, sizeof(c), root->usage_max);
			step_text(r, s, " (usage peaked at %s", c);
			if (root->failcnt > 0)
				step_text(r, s, ", limit hit %lld times", (long long)root->failcnt);
			step_text(r, s, ")");
		}
		step_text(r, s, ", or split it so that ");
	} else {
		step_text(r, s, "Raise the limit of ");
		step_cgroup(r, s, &v->root);
		step_text(r, s, ", or split it so that ");
	}
	step_cgroup(r, s, &v->victim);
	if (hog) {
		step_text(r, s, " and ");
		step_cgroup(r, s, &hog->cg);
		step_text(r, s, " are limited separately.");
	} else {
		step_text(r, s, " has a limit of its own.");
	}

	s = step_new(r);
	step_node(r, s, v->node);
	step_text(r, s, "Protect ");
	step_cgroup(r, s, &v->victim);
	if (v->file_peak > 0) {
		fmt_bytes(a, sizeof(a), v->file_peak);
		step_text(r, s, " with memory.min (or memory.low) of at least %s, its page cache at its "
				"largest, so reclaim under its root spares its executable pages", a);
	} else {
		step_text(r, s, " with memory.min (or memory.low) covering its executable files, so "
				"reclaim under its root spares them");
	}
	if (r->nodes[v->node].cgroup_v1)
		step_text(r, s, " (cgroup v2; this node runs v1, which has no memory.min: give it a "
				"limit of its own outside the shared root instead)");
	step_text(r, s, ".");
}

static void steps_for_victim(struct report *r, const struct rep_victim *v)
{
	const char *cause = v->cause ? v->cause : "other";
	struct rep_step *s;

	if (v->root.id && (!strcmp(cause, "limit") || !strcmp(cause, "limit_shrink") ||
			   !strcmp(cause, "high") || !strcmp(cause, "proactive"))) {
		if (!strcmp(cause, "limit_shrink")) {
			s = step_new(r);
			step_node(r, s, v->node);
			step_text(r, s, "Find who lowered the limit of ");
			step_cgroup(r, s, &v->root);
			step_text(r, s, ": shrinking it evicted the executable pages of ");
			step_cgroup(r, s, &v->victim);
			step_text(r, s, ".");
		} else if (!strcmp(cause, "high")) {
			s = step_new(r);
			step_node(r, s, v->node);
			step_text(r, s, "Raise memory.high of ");
			step_cgroup(r, s, &v->root);
			step_text(r, s, ": its reclaim took the executable pages of ");
			step_cgroup(r, s, &v->victim);
			step_text(r, s, ".");
		} else if (!strcmp(cause, "proactive")) {
			s = step_new(r);
			step_node(r, s, v->node);
			step_text(r, s, "Make proactive reclaim (memory.reclaim) of ");
			step_cgroup(r, s, &v->root);
			step_text(r, s, " gentler or exclude ");
			step_cgroup(r, s, &v->victim);
			step_text(r, s, ": it evicts executable pages that come straight back.");
		}
		steps_for_limit(r, v);
		return;
	}
	s = step_new(r);
	step_node(r, s, v->node);
	if (!strcmp(cause, "kswapd") || !strcmp(cause, "direct")) {
		step_text(r, s, "The node itself is short of memory (global reclaim, %s): protect ", cause);
		step_cgroup(r, s, &v->victim);
		step_text(r, s, " with memory.low, and find the largest consumers of the node.");
	} else if (!strcmp(cause, "pageout")) {
		step_text(r, s, "DAMON or MADV_PAGEOUT evicted the executable file ");
		step_part(r, s, true, v->file ? v->file : "(unnamed file)");
		step_text(r, s, " of ");
		step_cgroup(r, s, &v->victim);
		step_text(r, s, ": exclude it from the pageout scheme or raise the scheme's minimum age.");
	} else if (!strcmp(cause, "drop_caches")) {
		step_text(r, s, "Stop the writes to /proc/sys/vm/drop_caches: they evicted the executable "
				"pages of ");
		step_cgroup(r, s, &v->victim);
		step_text(r, s, ".");
	} else if (!strcmp(cause, "truncate") || !strcmp(cause, "invalidate")) {
		step_text(r, s, "The executable file ");
		step_part(r, s, true, v->file ? v->file : "(unnamed file)");
		step_text(r, s, " of ");
		step_cgroup(r, s, &v->victim);
		step_text(r, s, " was %s while in use: find the writer (a deployment replacing it in "
				"place, fadvise DONTNEED or O_DIRECT).",
			  !strcmp(cause, "truncate") ? "truncated or replaced" : "invalidated");
	} else {
		step_text(r, s, "Look at the evictions of ");
		step_cgroup(r, s, &v->victim);
		step_text(r, s, " (cause %s) with cachewatch query on v_evictions.", cause);
	}
}

static bool same_problem(const struct rep_victim *a, const struct rep_victim *b)
{
	return a->node == b->node && a->victim.id == b->victim.id && a->root.id == b->root.id &&
	       !strcmp(a->cause ? a->cause : "", b->cause ? b->cause : "");
}

void report_steps(struct report *r)
{
	size_t done = 0;

	/* One set of steps per (victim, root, cause), worst first; small losses are noise. */
	for (size_t i = 0; i < r->nvictims && done < 3; i++) {
		const struct rep_victim *v = &r->victims[i];
		bool seen = false;

		if (v->refaulted < 256)
			continue;
		for (size_t j = 0; j < i; j++)
			seen = seen || (same_problem(&r->victims[j], v) && r->victims[j].refaulted >= 256);
		if (seen)
			continue;
		steps_for_victim(r, v);
		done++;
	}
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];
		struct rep_step *s;

		if (n->lost[LOST_EVICT] || n->lost[LOST_ADD] || n->lost[LOST_REFAULT] ||
		    n->lost[LOST_EXEC] || n->lost[LOST_USER] || n->lost[LOST_RINGBUF]) {
			s = step_new(r);
			step_node(r, s, i);
			step_text(r, s, "cachewatchd lost %lld events: raise its map sizes (--evict-entries, "
					"--add-entries, --refault-entries, --exec-entries) or --max-cgroups / "
					"--max-files; the figures above are lower bounds.",
				  (long long)rep_lost_total(n));
		}
		/* A few forgotten evictions among many refaults change nothing. */
		if (n->shadow_displaced > 0 && n->shadow_displaced * 100 > n->refaulted) {
			s = step_new(r);
			step_node(r, s, i);
			step_text(r, s, "%lld evictions were forgotten before their page came back: raise "
					"cachewatchd --shadow-entries so that refaults are not undercounted.",
				  (long long)n->shadow_displaced);
		}
	}
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct rep_check *c = &r->checks[i];
		struct rep_step *s;
		int64_t d = c->cachewatch - c->kernel;

		/* Small counts differ by chance (shadow slots, interval edges): 100 MiB at least. */
		if (!c->known || c->kernel < 25600 || (d < 0 ? -d : d) * 10 <= c->kernel)
			continue;
		s = step_new(r);
		step_node(r, s, c->node);
		step_text(r, s, "Refaults under ");
		step_cgroup(r, s, &c->cg);
		step_text(r, s, " differ from the kernel's count by more than 10%%: check lost events, "
				"--refault-sample and --shadow-entries before trusting the refault figures.");
		break;
	}
}
