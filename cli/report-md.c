// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report as Markdown (GitHub flavour): the same facts as the HTML
 * page, as tables, with the refault-time distribution as a text histogram.
 * Every name is escaped with cli_put_md, which also makes '|' safe inside
 * table cells.
 */
#include <string.h>
#include "report.h"

#define HIST_WIDTH 50

static void put_bytes(FILE *f, int64_t b)
{
	char buf[32];

	if (b < 0) {
		fputs("?", f);
		return;
	}
	cli_format_bytes(buf, sizeof(buf), (double)b);
	fputs(buf, f);
}

static void cell_pages(FILE *f, int64_t pages)
{
	fputs(" | ", f);
	put_bytes(f, pages * 4096);
	fprintf(f, " (%lld page%s)", (long long)pages, pages == 1 ? "" : "s");
}

static void put_time(FILE *f, int64_t ts)
{
	char buf[32];

	cli_format_time(buf, sizeof(buf), ts);
	fputs(buf, f);
}

static void put_ms(FILE *f, double ms)
{
	char buf[32];

	if (ms < 0) {
		fputs("–", f);
		return;
	}
	cli_format_ms(buf, sizeof(buf), ms);
	fputs(buf, f);
}

static void put_cgroup(FILE *f, const struct rep_cgroup *cg)
{
	char buf[64];

	if (!cg->id) {
		fputs("none", f);
		return;
	}
	cli_put_md(f, rep_cgroup_name(cg, buf, sizeof(buf)));
	if (rep_cgroup_has_k8s(cg)) {
		fputs(" (", f);
		cli_put_md(f, cg->ns ? cg->ns : "?");
		fputs(" / ", f);
		cli_put_md(f, cg->pod ? cg->pod : "?");
		if (cg->container) {
			fputs(" / ", f);
			cli_put_md(f, cg->container);
		}
		fputs(")", f);
	}
}

/* Start a table row: "| node " when several nodes, else "|". */
static void row_start(const struct report *r, FILE *f, size_t node)
{
	fputs("|", f);
	if (r->multi) {
		fputc(' ', f);
		cli_put_md(f, r->nodes[node].label);
		fputs(" |", f);
	}
	fputc(' ', f);
}

static void table_head(const struct report *r, FILE *f, const char *cols, int ncols)
{
	fprintf(f, "\n|%s %s |\n|", r->multi ? " node |" : "", cols);
	for (int i = 0; i < ncols + r->multi; i++)
		fputs("---|", f);
	fputc('\n', f);
}

static void header(const struct report *r, FILE *f)
{
	fputs("# cachewatch report: page cache lost by memory cgroups\n\nWindow: ", f);
	if (r->since_set)
		put_time(f, r->since);
	else
		fputs("start of the data", f);
	fputs(" .. ", f);
	if (r->until_set)
		put_time(f, r->until);
	else
		fputs("end of the data", f);
	fputs(" UTC", f);
	if (r->have_data) {
		fputs("; data from ", f);
		put_time(f, r->first_ts);
		fputs(" to ", f);
		put_time(f, r->last_ts);
		fputs(" UTC", f);
	}
	fputs(". Generated ", f);
	put_time(f, r->generated);
	fputs(" UTC by cachewatch " PACKAGE_VERSION ".\n\n| node | database | kernel | intervals | every | lost events |\n"
	      "|---|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];

		fputs("| ", f);
		cli_put_md(f, n->label);
		fputs(" | ", f);
		cli_put_md(f, n->path);
		fputs(" | ", f);
		cli_put_md(f, n->kernel ? n->kernel : "?");
		fprintf(f, " | %lld | %lld s | %lld |\n", (long long)n->intervals,
			(long long)n->interval_s, (long long)rep_lost_total(n));
	}
}

static void victims(const struct report *r, FILE *f)
{
	fputs("\n## 1. Victims: executable pages lost and refaulted\n", f);
	if (!r->nvictims) {
		fputs("\nNo executable page was evicted in this window.\n", f);
	} else {
		table_head(r, f, "victim | file | evicted | refaulted | median refault | cause | "
				 "reclaim root | pressure (grew most under the root) | first .. last", 9);
		for (size_t i = 0; i < r->nvictims; i++) {
			const struct rep_victim *v = &r->victims[i];

			row_start(r, f, v->node);
			put_cgroup(f, &v->victim);
			fputs(" | ", f);
			cli_put_md(f, v->file ? v->file : "(path unknown)");
			if (v->container_file) {
				fputs(" (in the container: ", f);
				cli_put_md(f, v->container_file);
				fputs(")", f);
			}
			cell_pages(f, v->evicted);
			cell_pages(f, v->refaulted);
			fputs(" | ", f);
			put_ms(f, v->median_ms);
			fputs(" | ", f);
			cli_put_md(f, v->cause ? v->cause : "?");
			fputs(" | ", f);
			put_cgroup(f, &v->root);
			fputs(" | ", f);
			if (v->pressure.id) {
				put_cgroup(f, &v->pressure);
				fputs(", grew by ", f);
				put_bytes(f, v->pressure_growth);
			}
			fputs(" | ", f);
			put_time(f, v->first_ts);
			fputs(" .. ", f);
			put_time(f, v->last_ts);
			fputs(" |\n", f);
		}
	}
	fputs("\n### All page cache lost, by victim, cause and reclaim root\n", f);
	if (!r->nlosses) {
		fputs("\nNo page was evicted in this window.\n", f);
		return;
	}
	table_head(r, f, "victim | cause | reclaim root | evicted | of which executable | refaulted", 6);
	for (size_t i = 0; i < r->nlosses; i++) {
		const struct rep_loss *l = &r->losses[i];

		row_start(r, f, l->node);
		put_cgroup(f, &l->victim);
		fputs(" | ", f);
		cli_put_md(f, l->cause);
		fputs(" | ", f);
		put_cgroup(f, &l->root);
		cell_pages(f, l->pages);
		cell_pages(f, l->exec_pages);
		cell_pages(f, l->refaulted);
		fputs(" |\n", f);
	}
}

static void pressure(const struct report *r, FILE *f)
{
	bool any = false;

	fputs("\n## 2. Pressure: who held the memory under each reclaim root\n\n"
	      "While a root reclaimed: each cgroup's own anonymous and file memory at its highest, "
	      "and how far it grew above what it held before (from memory.stat).\n", f);
	for (size_t i = 0; i < r->nroots; i++) {
		const struct rep_root *o = &r->roots[i];
		bool head = false;

		for (size_t j = 0; j < r->npressure; j++) {
			const struct rep_pressure *p = &r->pressure[j];

			if (p->node != o->node || p->root_id != o->cg.id)
				continue;
			if (!head) {
				fputs("\n### Under ", f);
				if (r->multi) {
					cli_put_md(f, r->nodes[o->node].label);
					fputs(": ", f);
				}
				put_cgroup(f, &o->cg);
				fputs("\n\n| cgroup | anon (peak) | file (peak) | grew by | |\n"
				      "|---|---|---|---|---|\n", f);
				head = any = true;
			}
			fputs("| ", f);
			put_cgroup(f, &p->cg);
			fputs(" | ", f);
			put_bytes(f, p->peak_anon);
			fputs(" | ", f);
			put_bytes(f, p->peak_file);
			fputs(" | ", f);
			put_bytes(f, p->growth > 0 ? p->growth : 0);
			fprintf(f, " | %s |\n", p->is_victim ? "victim" : "");
		}
	}
	if (!any)
		fputs("\nNo memory cgroup limit reclaimed in this window.\n", f);
}

static void hist_line(FILE *f, const struct report *r, int b, int64_t pages, int64_t max,
		      const char *what)
{
	char lo[24], hi[24];
	int n = max ? (int)((double)pages * HIST_WIDTH / (double)max + 0.5) : 0;

	cli_format_ms(lo, sizeof(lo), r->bucket_lower[b]);
	cli_format_ms(hi, sizeof(hi), r->bucket_upper[b]);
	fprintf(f, "%9s - %-9s %-5s %10lld ", lo, hi, what, (long long)pages);
	for (int i = 0; i < n; i++)
		fputs("#", f);
	fputc('\n', f);
}

static void refault_times(const struct report *r, FILE *f)
{
	int64_t max = 0, exec = 0, other = 0;

	fputs("\n## 3. How fast evicted pages came back\n", f);
	for (int b = 0; b < REP_BUCKETS; b++) {
		max = r->hist_exec[b] > max ? r->hist_exec[b] : max;
		max = r->hist_other[b] > max ? r->hist_other[b] : max;
		exec += r->hist_exec[b];
		other += r->hist_other[b];
	}
	if (!max) {
		fputs("\nNo refault was recorded in this window.\n", f);
		return;
	}
	fputs("\nExecutable pages: ", f);
	put_bytes(f, exec * 4096);
	fputs(", median ", f);
	put_ms(f, rep_median_ms(r, r->hist_exec));
	fputs("; other pages: ", f);
	put_bytes(f, other * 4096);
	fputs(", median ", f);
	put_ms(f, rep_median_ms(r, r->hist_other));
	fputs(".\n\nEviction → refault time, pages per bucket:\n\n```text\n", f);
	for (int b = 0; b < REP_BUCKETS; b++) {
		if (r->hist_exec[b])
			hist_line(f, r, b, r->hist_exec[b], max, "exec");
		if (r->hist_other[b])
			hist_line(f, r, b, r->hist_other[b], max, "other");
	}
	fputs("```\n", f);
}

static void peak(FILE *f, const struct rep_timeline *t, double rate, size_t bin)
{
	if (rate <= 0) {
		fputs(" | –", f);
		return;
	}
	fprintf(f, " | %.0f pages/s at ", rate);
	put_time(f, t->start + (int64_t)(bin + 1) * t->bin_s);
}

static void timeline(const struct report *r, FILE *f)
{
	const struct rep_timeline *t = &r->timeline;

	fputs("\n## 4. Evictions and refaults over time, per cgroup\n", f);
	if (!t->n) {
		fputs("\nNo eviction in this window.\n", f);
		return;
	}
	fprintf(f, "\nThe cgroups that lost the most page cache, with their busiest %lld s "
		   "(pages per second).\n", (long long)t->bin_s);
	table_head(r, f, "cgroup | evicted | refaulted | peak eviction | peak refault", 5);
	for (size_t i = 0; i < t->n; i++) {
		const struct rep_series *s = &t->s[i];
		size_t pe = 0, pr = 0;

		for (size_t b = 1; b < t->nbins; b++) {
			pe = s->evict[b] > s->evict[pe] ? b : pe;
			pr = s->refault[b] > s->refault[pr] ? b : pr;
		}
		row_start(r, f, s->node);
		put_cgroup(f, &s->cg);
		cell_pages(f, s->evicted);
		cell_pages(f, s->refaulted);
		peak(f, t, s->evict[pe], pe);
		peak(f, t, s->refault[pr], pr);
		fputs(" |\n", f);
	}
}

static void limits(const struct report *r, FILE *f)
{
	fputs("\n## 5. Limits and usage of the reclaim roots\n", f);
	if (!r->nroots) {
		fputs("\nNo memory cgroup limit reclaimed in this window.\n", f);
		return;
	}
	table_head(r, f, "reclaim root | limit | usage (peak) | page cache (peak) | limit hit (failcnt) | "
			 "evicted | of which executable | refaulted | victims", 9);
	for (size_t i = 0; i < r->nroots; i++) {
		const struct rep_root *o = &r->roots[i];

		row_start(r, f, o->node);
		put_cgroup(f, &o->cg);
		fputs(" | ", f);
		if (!o->have_stat) {
			fputs("?", f);
		} else if (o->limit_max < 0) {
			fputs("unlimited", f);
		} else if (o->limit_min != o->limit_max) {
			put_bytes(f, o->limit_min);
			fputs(" .. ", f);
			put_bytes(f, o->limit_max);
		} else {
			put_bytes(f, o->limit_max);
		}
		fputs(" | ", f);
		put_bytes(f, o->usage_max);
		fputs(" | ", f);
		put_bytes(f, o->file_max);
		if (o->failcnt >= 0)
			fprintf(f, " | %lld", (long long)o->failcnt);
		else
			fputs(" | ?", f);
		cell_pages(f, o->pages);
		cell_pages(f, o->exec_pages);
		cell_pages(f, o->refaulted);
		fprintf(f, " | %lld |\n", (long long)o->victims);
	}
}

static void kernel_check(const struct report *r, FILE *f)
{
	fputs("\n## 6. cachewatch next to the kernel's own counters\n\n"
	      "The kernel's hierarchical refault counter between its first and last snapshot in the "
	      "window, and the refaults cachewatch counted under the same cgroup over the same "
	      "intervals.\n", f);
	if (!r->nchecks) {
		fputs("\nNo cgroup to compare in this window.\n", f);
		return;
	}
	table_head(r, f, "cgroup | from .. to | kernel | cachewatch | difference", 5);
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct rep_check *c = &r->checks[i];

		row_start(r, f, c->node);
		put_cgroup(f, &c->cg);
		if (!c->known) {
			fputs(" | fewer than two snapshots | | | |\n", f);
			continue;
		}
		fputs(" | ", f);
		put_time(f, c->from_ts);
		fputs(" .. ", f);
		put_time(f, c->to_ts);
		cell_pages(f, c->kernel);
		cell_pages(f, c->cachewatch);
		fprintf(f, " | %+lld pages", (long long)(c->cachewatch - c->kernel));
		if (c->kernel > 0)
			fprintf(f, " (%+.1f %%)", 100.0 * (double)(c->cachewatch - c->kernel) / (double)c->kernel);
		fputs(" |\n", f);
	}
}

static void lost(const struct report *r, FILE *f)
{
	fputs("\n## 7. What cachewatch could not record\n\n"
	      "| node | lost events | evictions forgotten before their refault | names dropped | "
	      "refault sampling | reclaim root from |\n|---|---|---|---|---|---|\n", f);
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];
		bool any = false;

		fputs("| ", f);
		cli_put_md(f, n->label);
		fprintf(f, " | %lld", (long long)rep_lost_total(n));
		for (int k = 0; k < LOST_KINDS; k++)
			if (n->lost[k]) {
				fprintf(f, "%s%lld %s", any ? ", " : " (", (long long)n->lost[k],
					rep_lost_names[k]);
				any = true;
			}
		fprintf(f, "%s | %lld | %lld | ", any ? ")" : "", (long long)n->shadow_displaced,
			(long long)n->dropped_names);
		if (n->refault_sample > 1)
			fprintf(f, "1 in %lld (non-executable refaults are estimates)",
				(long long)n->refault_sample);
		else
			fputs("none (every refault counted)", f);
		fprintf(f, " | %s |\n", n->brackets ? "inferred (vmscan brackets)" : "scan_control");
	}
}

static void steps(const struct report *r, FILE *f)
{
	fputs("\n## 8. Next steps\n\n", f);
	if (!r->nsteps) {
		fputs("Nothing to do: no executable page cache came back after eviction in this window, "
		      "and nothing was lost by cachewatch.\n", f);
		return;
	}
	for (size_t i = 0; i < r->nsteps; i++) {
		fprintf(f, "%zu. ", i + 1);
		for (size_t j = 0; j < r->steps[i].n; j++) {
			/* Our own text holds no markup; names are escaped. */
			if (r->steps[i].part[j].name) {
				fputs("**", f);
				cli_put_md(f, r->steps[i].part[j].s);
				fputs("**", f);
			} else {
				fputs(r->steps[i].part[j].s, f);
			}
		}
		fputc('\n', f);
	}
}

bool report_md(const struct report *r, FILE *f)
{
	header(r, f);
	if (!r->have_data) {
		fputs("\n**No data**: no interval was recorded in this window. Check --since and --until, "
		      "or whether cachewatchd was running.\n", f);
	} else {
		victims(r, f);
		pressure(r, f);
		refault_times(r, f);
		timeline(r, f);
		limits(r, f);
		kernel_check(r, f);
		lost(r, f);
		steps(r, f);
	}
	fputs("\nSizes are 4 KiB pages shown in bytes. Times are UTC. See cachewatch-report(1).\n", f);
	return !ferror(f);
}
