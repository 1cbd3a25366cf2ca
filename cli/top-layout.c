// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The text layout of cachewatch top, shared by the --once snapshot and the
 * live view: the header, the cgroup and reclaim-root tables in fixed
 * columns, and untrusted names escaped and cut to what is left of the width.
 */
#include <stdarg.h>
#include "cli.h"
#include "top-layout.h"

/* As cachewatch status: silent for this many intervals means not recording. */
#define STALE_INTERVALS 3

/* Column widths; the name column comes last and takes what is left. */
#define W_BYTES 8
#define W_TIME 7
#define W_CAUSES 12
#define W_GROWTH 9 /* a sign and a size */
#define PAGE_BYTES 4096.0

static size_t rest_of(const struct top_layout *l, size_t used)
{
	if (!l->width)
		return 0; /* unlimited */
	return l->width > used ? l->width - used : 1;
}

/* A whole line of our own text holding untrusted parts: escaped, cut at the width. */
static void _printf_(2, 3) put_line(const struct top_layout *l, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	if (l->width)
		cli_put_term_cut(l->f, line, l->width);
	else
		cli_put_term(l->f, line);
	fputc('\n', l->f);
	free(line);
}

static void put_alert_mark(const struct top_layout *l)
{
	if (l->live)
		fputc(TOP_MARK_ALERT, l->f);
}

static void put_heading(const struct top_layout *l, const char *text)
{
	if (l->live)
		fputc(TOP_MARK_HEADING, l->f);
	put_line(l, "%s", text);
}

/*
 * An untrusted name in the last column: escaped, and when too long its
 * start replaced by "…", since the end of a path says the most.  Our own
 * descriptions of what has no name, "(...)", keep their start instead.
 * width 0: no limit.
 */
static void put_name(FILE *f, const char *s, size_t width)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	if (!width || cli_term_width((const char *)p) <= width) {
		cli_put_term(f, (const char *)p);
		return;
	}
	if (*p == '(') {
		cli_put_term_cut(f, (const char *)p, width);
		return;
	}
	while (*p && cli_term_width((const char *)p) > width - 1) {
		/* Step a whole character, so the rest escapes as it did in the full name. */
		p++;
		while ((*p & 0xc0) == 0x80)
			p++;
	}
	fputs("…", f);
	cli_put_term(f, (const char *)p);
}

/* An untrusted text in a column of its own: cut at the end, padded to width. */
static void put_cell(FILE *f, const char *s, size_t width)
{
	size_t w = cli_term_width(s);

	cli_put_term_cut(f, s, width);
	if (w < width)
		fprintf(f, "%*s", (int)(width - w), "");
}

static void format_pages(char *buf, size_t len, int64_t pages)
{
	if (pages == 0)
		snprintf(buf, len, "-");
	else
		cli_format_bytes(buf, len, (double)pages * PAGE_BYTES);
}

static void format_growth(char *buf, size_t len, int64_t bytes)
{
	if (bytes > 0 && len > 1) {
		/* A sign on growth, as a shrink has its minus. */
		buf[0] = '+';
		cli_format_bytes(buf + 1, len - 1, (double)bytes);
	} else {
		cli_format_bytes(buf, len, (double)bytes);
	}
}

static void format_span(char *buf, size_t len, int64_t s)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%lld d", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lld h", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%lld min", (long long)(s / 60));
	else
		snprintf(buf, len, "%lld s", (long long)s);
}

/*
 * When something happened: the date in a snapshot, which must not depend
 * on the clock; how long ago in the live view, where the date is known.
 */
static void format_when(char *buf, size_t len, const struct top_layout *l, int64_t ts)
{
	int64_t ago = l->now > ts ? l->now - ts : 0;

	if (!l->live) {
		char when[32];

		cli_format_time(when, sizeof(when), ts);
		snprintf(buf, len, "at %s UTC", when);
	} else if (ago < 120) {
		snprintf(buf, len, "%lld s ago", (long long)ago);
	} else if (ago < 120 * 60) {
		snprintf(buf, len, "%lld min ago", (long long)(ago / 60));
	} else if (ago < 48 * 3600) {
		snprintf(buf, len, "%lld h ago", (long long)(ago / 3600));
	} else {
		snprintf(buf, len, "%lld days ago", (long long)(ago / 86400));
	}
}

static void put_daemon_state(const struct top_layout *l, const struct top_snapshot *s)
{
	const char *host = s->run_host ? s->run_host : "?";
	char when[48];

	if (!s->have_run) {
		put_line(l, "daemon never ran on this database");
	} else if (s->run_stopped >= 0) {
		format_when(when, sizeof(when), l, s->run_stopped);
		put_line(l, "daemon stopped %s (run %lld on %s, every %lld s)", when,
			 (long long)s->run_id, host, (long long)s->run_interval_s);
	} else if (s->run_last_flush >= 0 &&
		   l->now - s->run_last_flush <= STALE_INTERVALS * s->run_interval_s) {
		put_line(l, "daemon recording every %lld s (run %lld on %s)",
			 (long long)s->run_interval_s, (long long)s->run_id, host);
	} else {
		format_when(when, sizeof(when), l,
			    s->run_last_flush >= 0 ? s->run_last_flush : s->run_started);
		put_alert_mark(l);
		put_line(l, "daemon NOT RECORDING: run %lld on %s last wrote %s", (long long)s->run_id,
			 host, when);
	}
}

void top_put_header(const struct top_layout *l, const struct top_snapshot *s)
{
	char when[48], span[32];

	put_line(l, "cachewatch top: %s", l->db_path);
	put_daemon_state(l, s);
	if (!s->have_intervals) {
		put_line(l, "no interval written yet");
		return;
	}
	format_when(when, sizeof(when), l, s->newest_ts);
	format_span(span, sizeof(span), l->q->window_s);
	put_line(l, "window %s to the newest interval, %s (%lld interval%s)", span, when,
		 (long long)s->window_intervals, s->window_intervals == 1 ? "" : "s");
	if (s->lost_window || s->lost_run)
		put_alert_mark(l);
	put_line(l, "%s %lld event%s in the window, %lld in run %lld%s",
		 s->lost_window || s->lost_run ? "LOST" : "lost", (long long)s->lost_window,
		 s->lost_window == 1 ? "" : "s", (long long)s->lost_run, (long long)s->run_id,
		 s->lost_window || s->lost_run ? ": figures are low" : "");
	if (l->q->filter)
		put_line(l, "%lld cgroup%s matching \"%s\" lost page cache; sorted by %s",
			 (long long)s->matching_cgroups, s->matching_cgroups == 1 ? "" : "s",
			 l->q->filter, top_sort_name(l->q->sort));
	else
		put_line(l, "%lld cgroup%s lost page cache; sorted by %s", (long long)s->matching_cgroups,
			 s->matching_cgroups == 1 ? "" : "s", top_sort_name(l->q->sort));
}

#define FIGURES_WIDTH(causes_width) (3 * (W_BYTES + 1) + W_TIME + 2 + (causes_width) + 2)

/* The columns of a cgroup or a file row, up to the name: FIGURES_WIDTH columns. */
static void put_figures(const struct top_layout *l, const struct top_figures *fig, size_t causes_width)
{
	char evicted[32], exec[32], refaulted[32], median[32];

	format_pages(evicted, sizeof(evicted), fig->evicted);
	format_pages(exec, sizeof(exec), fig->exec);
	format_pages(refaulted, sizeof(refaulted), fig->refaulted);
	if (fig->median_refault_ms < 0)
		snprintf(median, sizeof(median), "-");
	else
		cli_format_ms(median, sizeof(median), fig->median_refault_ms);
	fprintf(l->f, "%*s %*s %*s %*s  ", W_BYTES, evicted, W_BYTES, exec, W_BYTES, refaulted,
		W_TIME, median);
	put_cell(l->f, fig->causes ? fig->causes : "", causes_width);
	fputs("  ", l->f);
}

/* The causes column: fixed, except that an unlimited width shows every cause. */
static size_t causes_width(const struct top_layout *l, const struct top_snapshot *s)
{
	size_t w = W_CAUSES;

	if (l->width)
		return w;
	for (size_t i = 0; i < s->n_cgroups; i++) {
		const struct top_cgroup *cg = &s->cgroups[i];

		if (cli_term_width(cg->fig.causes) > w)
			w = cli_term_width(cg->fig.causes);
		for (size_t j = 0; j < cg->n_files; j++)
			if (cli_term_width(cg->files[j].fig.causes) > w)
				w = cli_term_width(cg->files[j].fig.causes);
	}
	return w;
}

static void put_cgroups(const struct top_layout *l, const struct top_snapshot *s)
{
	size_t cw = causes_width(l, s);
	char *heading = NULL;

	if (asprintf(&heading, "%*s %*s %*s %*s  %-*s  %s", W_BYTES, "EVICTED", W_BYTES, "EXEC",
		     W_BYTES, "REFAULTS", W_TIME, "RF TIME", (int)cw, "CAUSES",
		     l->q->files ? "CGROUP / FILE" : "CGROUP") < 0)
		return;
	put_heading(l, heading);
	free(heading);
	if (!s->n_cgroups)
		put_line(l, l->q->filter ? "no cgroup matching the filter lost page cache in the window"
					 : "no page cache lost in the window");
	for (size_t i = 0; i < s->n_cgroups; i++) {
		const struct top_cgroup *cg = &s->cgroups[i];

		put_figures(l, &cg->fig, cw);
		put_name(l->f, cg->name, rest_of(l, FIGURES_WIDTH(cw)));
		fputc('\n', l->f);
		for (size_t j = 0; j < cg->n_files; j++) {
			put_figures(l, &cg->files[j].fig, cw);
			fputs("  ", l->f);
			put_name(l->f, cg->files[j].name, rest_of(l, FIGURES_WIDTH(cw) + 2));
			fputc('\n', l->f);
		}
	}
}

/* Five columns and their spaces, then the name indented under its root's line. */
#define PRESSURE_WIDTH (5 * (W_GROWTH + 1) - 1 + 2 + 2)

static void put_pressure(const struct top_layout *l, const struct top_pressure *p)
{
	char grew[32], anon_grew[32], file_grew[32], anon[32], file[32];

	format_growth(grew, sizeof(grew), p->grew);
	format_growth(anon_grew, sizeof(anon_grew), p->anon_grew);
	format_growth(file_grew, sizeof(file_grew), p->file_grew);
	cli_format_bytes(anon, sizeof(anon), (double)p->anon);
	cli_format_bytes(file, sizeof(file), (double)p->file);
	fprintf(l->f, "%*s %*s %*s %*s %*s    ", W_GROWTH, grew, W_GROWTH, anon_grew, W_GROWTH,
		file_grew, W_GROWTH, anon, W_GROWTH, file);
	put_name(l->f, p->name, rest_of(l, PRESSURE_WIDTH));
	fputc('\n', l->f);
}

static void put_roots(const struct top_layout *l, const struct top_snapshot *s)
{
	char heading[128];

	snprintf(heading, sizeof(heading), "%*s %*s %*s %*s %*s  %s", W_GROWTH, "GREW", W_GROWTH,
		 "ANON+", W_GROWTH, "FILE+", W_GROWTH, "ANON", W_GROWTH, "FILE",
		 "RECLAIM ROOT / UNDER IT");
	put_heading(l, heading);
	if (!s->n_roots)
		put_line(l, "no cgroup limit reclaimed in the window");
	for (size_t i = 0; i < s->n_roots; i++) {
		const struct top_root *root = &s->roots[i];
		char reclaimed[32], lead[96];
		int n;

		format_pages(reclaimed, sizeof(reclaimed), root->reclaimed);
		n = snprintf(lead, sizeof(lead), "reclaimed %s from %lld cgroup%s: root ", reclaimed,
			     (long long)root->victims, root->victims == 1 ? "" : "s");
		fputs(lead, l->f);
		put_name(l->f, root->name, rest_of(l, n > 0 ? (size_t)n : 0));
		fputc('\n', l->f);
		for (size_t j = 0; j < root->n_pressure; j++)
			put_pressure(l, &root->pressure[j]);
	}
}

void top_put_table(const struct top_layout *l, const struct top_snapshot *s)
{
	if (!s->have_intervals)
		return;
	fputc('\n', l->f);
	put_cgroups(l, s);
}

void top_put_roots_table(const struct top_layout *l, const struct top_snapshot *s)
{
	if (!s->have_intervals)
		return;
	fputc('\n', l->f);
	put_roots(l, s);
}
