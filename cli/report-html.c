// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The report as one self-contained HTML page: inline CSS, charts drawn by
 * gnuplot inlined as SVG, no script and nothing fetched (a Content Security
 * Policy says so too).  Every name is escaped with cli_put_html; charts
 * carry numbers only and their colour keys are HTML.
 */
#include <errno.h>
#include <string.h>
#include "plot.h"
#include "report.h"

static const char *const palette[REP_SERIES] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
};

#define COLOR_EXEC "#d62728"
#define COLOR_OTHER "#1f77b4"

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
	"max-width:1180px;margin:24px auto;padding:0 16px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
	"border-bottom:1px solid #ddd;padding-bottom:4px}"
	".meta{color:#555}"
	"table{border-collapse:collapse;margin:8px 0;font-size:13px}"
	"th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}"
	"th{background:#f4f4f4}td.n{text-align:right;white-space:nowrap}"
	"code,.name{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;"
	"word-break:break-all}"
	".k8s{color:#666;font-size:12px}"
	".note{background:#fff8e1;border:1px solid #f0d98c;padding:6px 10px;margin:8px 0}"
	".empty{color:#777;font-style:italic}"
	".key{display:inline-block;margin:2px 14px 2px 0}"
	".sw{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}"
	".finding{background:#f3f7fb;border-left:4px solid #1f77b4;padding:8px 12px}"
	".chart svg{max-width:100%;height:auto}"
	"ol.steps li{margin:6px 0}";

struct html {
	const struct report *r;
	FILE *f;
	bool charts_warned;
};

/* ---------------------------------------------------------------- pieces */

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

/* Pages as bytes, with the page count below. */
static void td_pages(FILE *f, int64_t pages)
{
	fputs("<td class=\"n\">", f);
	put_bytes(f, pages * 4096);
	fprintf(f, "<br><span class=\"k8s\">%lld page%s</span></td>", (long long)pages,
		pages == 1 ? "" : "s");
}

static void td_bytes(FILE *f, int64_t b)
{
	fputs("<td class=\"n\">", f);
	put_bytes(f, b);
	fputs("</td>", f);
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

	fputs("<span class=\"name\">", f);
	cli_put_html(f, rep_cgroup_name(cg, buf, sizeof(buf)));
	fputs("</span>", f);
	if (rep_cgroup_has_k8s(cg)) {
		fputs("<br><span class=\"k8s\">", f);
		cli_put_html(f, cg->ns ? cg->ns : "?");
		fputs(" / ", f);
		cli_put_html(f, cg->pod ? cg->pod : "?");
		if (cg->container) {
			fputs(" / ", f);
			cli_put_html(f, cg->container);
		}
		fputs("</span>", f);
	}
}

static void td_cgroup(FILE *f, const struct rep_cgroup *cg)
{
	fputs("<td>", f);
	if (cg->id)
		put_cgroup(f, cg);
	else
		fputs("<span class=\"empty\">none (not limit reclaim)</span>", f);
	fputs("</td>", f);
}

static void td_node(const struct html *h, size_t node)
{
	if (!h->r->multi)
		return;
	fputs("<td class=\"name\">", h->f);
	cli_put_html(h->f, h->r->nodes[node].label);
	fputs("</td>", h->f);
}

static void th_node(const struct html *h)
{
	if (h->r->multi)
		fputs("<th>node</th>", h->f);
}

static void empty(FILE *f, const char *what)
{
	fprintf(f, "<p class=\"empty\">%s</p>\n", what);
}

static void key(FILE *f, const char *color)
{
	fprintf(f, "<span class=\"key\"><span class=\"sw\" style=\"background:%s\"></span>", color);
}

/* Draw and inline a chart, or say why there is none. */
static void chart(struct html *h, const struct plot *p, const char *label)
{
	char err[256];
	_cleanup_free_ char *svg = NULL;
	int r = plot_svg(p, &svg, err, sizeof(err));

	if (r < 0) {
		fputs("<p class=\"note\">Chart not drawn: ", h->f);
		cli_put_html(h->f, err);
		if (r == -ENOENT)
			fputs(" (install gnuplot-nox to get charts; the figures are in the tables)", h->f);
		fputs(".</p>\n", h->f);
		if (!h->charts_warned)
			cli_error("report", "charts left out: %s", err);
		h->charts_warned = true;
		return;
	}
	fprintf(h->f, "<div class=\"chart\" role=\"img\" aria-label=\"%s\">\n%s</div>\n", label, svg);
}

/* ---------------------------------------------------------------- header */

static void header(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>cachewatch report</title>\n<style>", f);
	fputs(style, f);
	fputs("</style>\n</head>\n<body>\n<h1>cachewatch report: page cache lost by memory cgroups</h1>\n",
	      f);
	fputs("<p class=\"meta\">Window: ", f);
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
	fputs(" UTC by cachewatch " PACKAGE_VERSION ".</p>\n", f);

	fputs("<table>\n<tr><th>node</th><th>database</th><th>kernel</th><th>intervals</th>"
	      "<th>every</th><th>lost events</th></tr>\n", f);
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];

		fputs("<tr><td class=\"name\">", f);
		cli_put_html(f, n->label);
		fputs("</td><td class=\"name\">", f);
		cli_put_html(f, n->path);
		fputs("</td><td class=\"name\">", f);
		cli_put_html(f, n->kernel ? n->kernel : "?");
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld s</td><td class=\"n\">%lld</td></tr>\n",
			(long long)n->intervals, (long long)n->interval_s, (long long)rep_lost_total(n));
	}
	fputs("</table>\n", f);
}

static void finding(struct html *h)
{
	const struct report *r = h->r;
	const struct rep_victim *v = r->nvictims ? &r->victims[0] : NULL;
	FILE *f = h->f;

	if (!v || !v->evicted)
		return;
	fputs("<p class=\"finding\"><b>Worst case:</b> ", f);
	if (r->multi) {
		fputs("on ", f);
		cli_put_html(f, r->nodes[v->node].label);
		fputs(", ", f);
	}
	put_cgroup(f, &v->victim);
	fputs(" lost ", f);
	put_bytes(f, v->evicted * 4096);
	fputs(" of executable page cache of <span class=\"name\">", f);
	cli_put_html(f, v->file ? v->file : "(unnamed file)");
	fputs("</span>; ", f);
	put_bytes(f, v->refaulted * 4096);
	fputs(" came back, half of it within ", f);
	put_ms(f, v->median_ms);
	fputs(". Cause: <b>", f);
	cli_put_html(f, v->cause ? v->cause : "?");
	fputs("</b>", f);
	if (v->root.id) {
		fputs(", reclaim root ", f);
		put_cgroup(f, &v->root);
	}
	if (v->pressure.id) {
		fputs("; under it ", f);
		put_cgroup(f, &v->pressure);
		fputs(" grew by ", f);
		put_bytes(f, v->pressure_growth);
	}
	fputs(".</p>\n", f);
}

/* ---------------------------------------------------------------- sections */

static void victims(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<h2 id=\"victims\">1. Victims: executable pages lost and refaulted</h2>\n", f);
	if (!r->nvictims) {
		empty(f, "No executable page was evicted in this window.");
	} else {
		fputs("<table>\n<tr>", f);
		th_node(h);
		fputs("<th>victim</th><th>file</th><th>evicted</th><th>refaulted</th>"
		      "<th>median refault</th><th>cause</th><th>reclaim root</th><th>pressure (grew most "
		      "under the root)</th><th>first .. last</th></tr>\n",
		      f);
		for (size_t i = 0; i < r->nvictims; i++) {
			const struct rep_victim *v = &r->victims[i];

			fputs("<tr>", f);
			td_node(h, v->node);
			td_cgroup(f, &v->victim);
			fputs("<td><span class=\"name\">", f);
			cli_put_html(f, v->file ? v->file : "(path unknown)");
			fputs("</span>", f);
			if (v->container_file) {
				fputs("<br><span class=\"k8s\">in the container: ", f);
				cli_put_html(f, v->container_file);
				fputs("</span>", f);
			}
			fputs("</td>", f);
			td_pages(f, v->evicted);
			td_pages(f, v->refaulted);
			fputs("<td class=\"n\">", f);
			put_ms(f, v->median_ms);
			fputs("</td><td>", f);
			cli_put_html(f, v->cause ? v->cause : "?");
			fputs("</td>", f);
			td_cgroup(f, &v->root);
			fputs("<td>", f);
			if (v->pressure.id) {
				put_cgroup(f, &v->pressure);
				fputs("<br><span class=\"k8s\">grew by ", f);
				put_bytes(f, v->pressure_growth);
				fputs("</span>", f);
			}
			fputs("</td><td class=\"n\">", f);
			put_time(f, v->first_ts);
			fputs("<br>", f);
			put_time(f, v->last_ts);
			fputs("</td></tr>\n", f);
		}
		fputs("</table>\n", f);
	}

	fputs("<h3>All page cache lost, by victim, cause and reclaim root</h3>\n", f);
	if (!r->nlosses) {
		empty(f, "No page was evicted in this window.");
		return;
	}
	fputs("<table>\n<tr>", f);
	th_node(h);
	fputs("<th>victim</th><th>cause</th><th>reclaim root</th><th>evicted</th>"
	      "<th>of which executable</th><th>refaulted</th></tr>\n", f);
	for (size_t i = 0; i < r->nlosses; i++) {
		const struct rep_loss *l = &r->losses[i];

		fputs("<tr>", f);
		td_node(h, l->node);
		td_cgroup(f, &l->victim);
		fputs("<td>", f);
		cli_put_html(f, l->cause);
		fputs("</td>", f);
		td_cgroup(f, &l->root);
		td_pages(f, l->pages);
		td_pages(f, l->exec_pages);
		td_pages(f, l->refaulted);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void pressure(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;
	bool any = false;

	fputs("<h2 id=\"pressure\">2. Pressure: who held the memory under each reclaim root</h2>\n"
	      "<p>While a root reclaimed: each cgroup's own anonymous and file memory at its "
	      "highest, and how far it grew above what it held before (from memory.stat). "
	      "The cgroup that grew most is the one to look at first.</p>\n", f);
	for (size_t i = 0; i < r->nroots; i++) {
		const struct rep_root *o = &r->roots[i];
		bool header_done = false;

		for (size_t j = 0; j < r->npressure; j++) {
			const struct rep_pressure *p = &r->pressure[j];

			if (p->node != o->node || p->root_id != o->cg.id)
				continue;
			if (!header_done) {
				fputs("<h3>Under ", f);
				if (r->multi) {
					cli_put_html(f, r->nodes[o->node].label);
					fputs(": ", f);
				}
				put_cgroup(f, &o->cg);
				fputs("</h3>\n<table>\n<tr><th>cgroup</th><th>anon (peak)</th>"
				      "<th>file (peak)</th><th>grew by</th><th></th></tr>\n", f);
				header_done = any = true;
			}
			fputs("<tr>", f);
			td_cgroup(f, &p->cg);
			td_bytes(f, p->peak_anon);
			td_bytes(f, p->peak_file);
			td_bytes(f, p->growth > 0 ? p->growth : 0);
			fprintf(f, "<td>%s</td></tr>\n", p->is_victim ? "victim" : "");
		}
		if (header_done)
			fputs("</table>\n", f);
	}
	if (!any)
		empty(f, "No memory cgroup limit reclaimed in this window (no reclaim root), or no "
			 "memory.stat was recorded under one.");
}

/* Buckets that hold refaults, widened by one on each side. */
static bool bucket_range(const struct report *r, int *lo, int *hi)
{
	*lo = REP_BUCKETS;
	*hi = -1;
	for (int b = 0; b < REP_BUCKETS; b++) {
		if (!r->hist_exec[b] && !r->hist_other[b])
			continue;
		if (b < *lo)
			*lo = b;
		*hi = b;
	}
	if (*hi < 0)
		return false;
	*lo = *lo > 0 ? *lo - 1 : 0;
	*hi = *hi + 1 < REP_BUCKETS ? *hi + 1 : *hi;
	return true;
}

static void refault_times(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;
	double x[REP_BUCKETS], ye[REP_BUCKETS], yo[REP_BUCKETS];
	char labels[PLOT_MAX_TICS][24];
	struct plot p = { .kind = PLOT_BARS, .width = 900, .height = 300,
			  .ylabel = "pages (4 KiB)", .x = x };
	int lo, hi, step;
	int64_t exec = 0, other = 0;

	fputs("<h2 id=\"refault-times\">3. How fast evicted pages came back</h2>\n", f);
	if (!bucket_range(r, &lo, &hi)) {
		empty(f, "No refault was recorded in this window.");
		return;
	}
	for (int b = lo; b <= hi; b++) {
		x[p.npoints] = b;
		ye[p.npoints] = (double)r->hist_exec[b];
		yo[p.npoints] = (double)r->hist_other[b];
		exec += r->hist_exec[b];
		other += r->hist_other[b];
		p.npoints++;
	}
	p.series[p.nseries++] = (struct plot_series){ ye, COLOR_EXEC };
	p.series[p.nseries++] = (struct plot_series){ yo, COLOR_OTHER };
	step = hi - lo > 40 ? 6 : hi - lo > 20 ? 4 : 2;
	for (int b = lo + (lo % 2); b <= hi && p.ntics < PLOT_MAX_TICS; b += step) {
		cli_format_ms(labels[p.ntics], sizeof(labels[0]), r->bucket_lower[b]);
		p.tic_label[p.ntics] = labels[p.ntics];
		p.tic_pos[p.ntics] = b - 0.5;
		p.ntics++;
	}
	fputs("<p>Eviction → refault time, pages per bucket (two buckets per doubling; the x "
	      "axis gives each bucket's lower bound).</p>\n", f);
	chart(h, &p, "refault time histogram");
	fputs("<p>", f);
	key(f, COLOR_EXEC);
	fputs("executable pages: ", f);
	put_bytes(f, exec * 4096);
	fputs(", median ", f);
	put_ms(f, rep_median_ms(r, r->hist_exec));
	fputs("</span>", f);
	key(f, COLOR_OTHER);
	fputs("other pages: ", f);
	put_bytes(f, other * 4096);
	fputs(", median ", f);
	put_ms(f, rep_median_ms(r, r->hist_other));
	fputs("</span></p>\n", f);
}

static void timeline(struct html *h)
{
	const struct report *r = h->r;
	const struct rep_timeline *t = &r->timeline;
	FILE *f = h->f;
	double x[REP_MAX_BINS];
	struct plot ev = { .kind = PLOT_LINES, .width = 900, .height = 260,
			   .ylabel = "evicted pages/s", .x = x, .npoints = t->nbins };
	struct plot rf = ev;

	fputs("<h2 id=\"timeline\">4. Evictions and refaults over time, per cgroup</h2>\n", f);
	if (!t->n || t->nbins < 2) {
		empty(f, "No eviction in this window.");
		return;
	}
	for (size_t b = 0; b < t->nbins; b++)
		x[b] = (double)(t->start + (int64_t)(b + 1) * t->bin_s);
	rf.ylabel = "refaulted pages/s";
	for (size_t i = 0; i < t->n; i++) {
		ev.series[ev.nseries++] = (struct plot_series){ t->s[i].evict, palette[i] };
		rf.series[rf.nseries++] = (struct plot_series){ t->s[i].refault, palette[i] };
	}
	fprintf(f, "<p>The %zu cgroups that lost the most page cache; pages per second, averaged "
		   "over %lld s. Refaults are counted for the cgroup the pages were evicted from.</p>\n",
		t->n, (long long)t->bin_s);
	chart(h, &ev, "evictions over time");
	chart(h, &rf, "refaults over time");
	fputs("<table>\n<tr><th>colour</th>", f);
	th_node(h);
	fputs("<th>cgroup</th><th>evicted</th><th>refaulted</th></tr>\n", f);
	for (size_t i = 0; i < t->n; i++) {
		fprintf(f, "<tr><td><span class=\"sw\" style=\"background:%s\"></span></td>", palette[i]);
		td_node(h, t->s[i].node);
		td_cgroup(f, &t->s[i].cg);
		td_pages(f, t->s[i].evicted);
		td_pages(f, t->s[i].refaulted);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void limits(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<h2 id=\"limits\">5. Limits and usage of the reclaim roots</h2>\n", f);
	if (!r->nroots) {
		empty(f, "No memory cgroup limit reclaimed in this window.");
		return;
	}
	fputs("<table>\n<tr>", f);
	th_node(h);
	fputs("<th>reclaim root</th><th>limit</th><th>usage (peak)</th><th>page cache (peak)</th>"
	      "<th>limit hit (failcnt)</th><th>evicted</th><th>of which executable</th>"
	      "<th>refaulted</th><th>victims</th></tr>\n", f);
	for (size_t i = 0; i < r->nroots; i++) {
		const struct rep_root *o = &r->roots[i];

		fputs("<tr>", f);
		td_node(h, o->node);
		td_cgroup(f, &o->cg);
		fputs("<td class=\"n\">", f);
		if (!o->have_stat)
			fputs("?", f);
		else if (o->limit_max < 0)
			fputs("unlimited", f);
		else if (o->limit_min != o->limit_max) {
			put_bytes(f, o->limit_min);
			fputs(" .. ", f);
			put_bytes(f, o->limit_max);
		} else
			put_bytes(f, o->limit_max);
		fputs("</td>", f);
		td_bytes(f, o->usage_max);
		td_bytes(f, o->file_max);
		if (o->failcnt >= 0)
			fprintf(f, "<td class=\"n\">%lld</td>", (long long)o->failcnt);
		else
			fputs("<td class=\"n\">?</td>", f);
		td_pages(f, o->pages);
		td_pages(f, o->exec_pages);
		td_pages(f, o->refaulted);
		fprintf(f, "<td class=\"n\">%lld</td></tr>\n", (long long)o->victims);
	}
	fputs("</table>\n", f);
}

static void kernel_check(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<h2 id=\"kernel\">6. cachewatch next to the kernel's own counters</h2>\n"
	      "<p>The kernel's hierarchical refault counter (total_workingset_refault_file, "
	      "workingset_refault_file on cgroup v2) between its first and last snapshot, "
	      "and the refaults cachewatch counted under the same cgroup over the same intervals.</p>\n",
	      f);
	if (!r->nchecks) {
		empty(f, "No cgroup to compare in this window.");
		return;
	}
	fputs("<table>\n<tr>", f);
	th_node(h);
	fputs("<th>cgroup</th><th>from .. to</th><th>kernel</th><th>cachewatch</th>"
	      "<th>difference</th></tr>\n", f);
	for (size_t i = 0; i < r->nchecks; i++) {
		const struct rep_check *c = &r->checks[i];

		fputs("<tr>", f);
		td_node(h, c->node);
		td_cgroup(f, &c->cg);
		if (!c->known) {
			fputs("<td colspan=\"4\" class=\"empty\">fewer than two snapshots of its "
			      "memory.stat in the window</td></tr>\n", f);
			continue;
		}
		fputs("<td class=\"n\">", f);
		put_time(f, c->from_ts);
		fputs("<br>", f);
		put_time(f, c->to_ts);
		fputs("</td>", f);
		td_pages(f, c->kernel);
		td_pages(f, c->cachewatch);
		fprintf(f, "<td class=\"n\">%+lld pages", (long long)(c->cachewatch - c->kernel));
		if (c->kernel > 0)
			fprintf(f, "<br>%+.1f %%", 100.0 * (double)(c->cachewatch - c->kernel) /
							   (double)c->kernel);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].refault_sample > 1) {
			fputs("<p class=\"note\">", f);
			if (r->multi) {
				cli_put_html(f, r->nodes[i].label);
				fputs(": ", f);
			}
			fprintf(f, "refaults of non-executable pages were sampled 1 in %lld: their "
				   "counts are estimates (executable pages are always counted).</p>\n",
				(long long)r->nodes[i].refault_sample);
		}
}

static void lost(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<h2 id=\"lost\">7. What cachewatch could not record</h2>\n<table>\n<tr><th>node</th>"
	      "<th>lost events</th><th>evictions forgotten before their refault</th>"
	      "<th>names dropped</th><th>refault sampling</th><th>reclaim root from</th></tr>\n", f);
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];
		bool any = false;

		fputs("<tr><td class=\"name\">", f);
		cli_put_html(f, n->label);
		fprintf(f, "</td><td>%lld", (long long)rep_lost_total(n));
		for (int k = 0; k < LOST_KINDS; k++)
			if (n->lost[k]) {
				fprintf(f, "%s%lld %s", any ? ", " : " (", (long long)n->lost[k],
					rep_lost_names[k]);
				any = true;
			}
		fprintf(f, "%s</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>", any ? ")" : "",
			(long long)n->shadow_displaced, (long long)n->dropped_names);
		if (n->refault_sample > 1)
			fprintf(f, "<td>1 in %lld (non-executable refaults are estimates)</td>",
				(long long)n->refault_sample);
		else
			fputs("<td>none (every refault counted)</td>", f);
		fprintf(f, "<td>%s</td></tr>\n", n->brackets ? "inferred (vmscan brackets: the nearest "
							      "limited ancestor that hit its limit)"
							    : "the reclaimer's scan_control");
	}
	fputs("</table>\n", f);
}

static void steps(struct html *h)
{
	const struct report *r = h->r;
	FILE *f = h->f;

	fputs("<h2 id=\"next-steps\">8. Next steps</h2>\n", f);
	if (!r->nsteps) {
		empty(f, "Nothing to do: no executable page cache came back after eviction in this "
			 "window, and nothing was lost by cachewatch.");
		return;
	}
	fputs("<ol class=\"steps\">\n", f);
	for (size_t i = 0; i < r->nsteps; i++) {
		fputs("<li>", f);
		for (size_t j = 0; j < r->steps[i].n; j++) {
			if (r->steps[i].part[j].name)
				fputs("<span class=\"name\">", f);
			cli_put_html(f, r->steps[i].part[j].s);
			if (r->steps[i].part[j].name)
				fputs("</span>", f);
		}
		fputs("</li>\n", f);
	}
	fputs("</ol>\n", f);
}

bool report_html(const struct report *r, FILE *f)
{
	struct html h = { .r = r, .f = f };

	header(&h);
	if (!r->have_data) {
		fputs("<p class=\"note\"><b>No data</b>: no interval was recorded in this window.", f);
		fputs(" Check --since and --until, or whether cachewatchd was running.</p>\n", f);
	} else {
		finding(&h);
		victims(&h);
		pressure(&h);
		refault_times(&h);
		timeline(&h);
		limits(&h);
		kernel_check(&h);
		lost(&h);
		steps(&h);
	}
	fputs("<p class=\"meta\">Sizes are 4 KiB pages shown in bytes. Times are UTC. "
	      "See cachewatch-report(1).</p>\n</body>\n</html>\n", f);
	return !ferror(f);
}
