// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch top: which memory cgroups are losing the most page cache
 * right now, for what cause, how much of it executable, how much came back
 * and how soon, the files behind it, and who grew under each reclaim root.
 * A live ncurses view re-queried every interval, or one plain-text
 * snapshot (--once, or when stdout is not a terminal).  The rows come from
 * top-data.c; this file holds the options, the layout and the terminal.
 */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <wchar.h>
#include "cli.h"
#include "top-data.h"

#define DEFAULT_WINDOW_S 60
#define DEFAULT_REFRESH_S 10
#define DEFAULT_LIMIT 10
#define DEFAULT_FILES 3
#define MAX_ROOTS 5
#define MAX_PRESSURE 3
#define TEXT_WIDTH 80
/* As cachewatch status: silent for this many intervals means not recording. */
#define STALE_INTERVALS 3

/* Column widths; the name column comes last and takes what is left. */
#define W_BYTES 8
#define W_TIME 7
#define W_CAUSES 12
#define W_GROWTH 9 /* a sign and a size */
#define PAGE_BYTES 4096.0

/*
 * Marks at the start of a line for the live view: a heading (drawn
 * reversed) and an alert (bold).  Never part of a name, which is escaped.
 */
#define MARK_HEADING '\001'
#define MARK_ALERT '\002'

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cachewatch top [OPTIONS]\n"
		"\n"
		"Show the memory cgroups losing the most page cache in the recent window:\n"
		"pages evicted, executable pages among them, pages that came back (refaulted)\n"
		"and the median time until they did, the causes, the files behind them, and\n"
		"for each reclaim root (the cgroup whose limit was enforced) the cgroups\n"
		"under it that grew the most.  The window ends at the newest interval in the\n"
		"database, not at the current time, so a stopped recording still shows.\n"
		"\n"
		"On a terminal the view is live and re-read every refresh; with --once, or\n"
		"when stdout is not a terminal, one plain-text snapshot is printed.\n"
		"\n"
		"Options:\n"
		"  --db PATH           database (default $CACHEWATCH_DB, else\n"
		"                      %s)\n"
		"  --once              print one snapshot and exit\n"
		"  --interval SECONDS  refresh period, 1 to 3600 (default: the recording's\n"
		"                      interval, else %d)\n"
		"  --window SPAN       how far back from the newest interval: 90s, 5m, 2h, 1d or\n"
		"                      plain seconds, up to 366d (default %ds)\n"
		"  --sort KEY          evicted (default), exec, refaulted, time (median refault\n"
		"                      time, shortest first) or cgroup (name)\n"
		"  --filter TEXT       only cgroups whose path, namespace, pod or container\n"
		"                      (or namespace/pod/container) contains TEXT\n"
		"  --limit N           cgroups shown, 1 to 1000 (default %d)\n"
		"  --files N           files shown under each cgroup, 0 to 100 (default %d)\n"
		"  --width N           columns of the snapshot when stdout is not a terminal\n"
		"                      (default %d; 0: never cut)\n"
		"  --help              show this help\n"
		"\n"
		"Keys: q quit; e x r t c sort by evicted, exec, refaulted, time, cgroup;\n"
		"s next sort; / filter (empty clears); f files on/off; arrows, PgUp, PgDn\n"
		"scroll; space refresh now.\n"
		"\n"
		"Sizes are in bytes of 4 KiB pages.  Names are escaped: control bytes and\n"
		"invalid UTF-8 as \\xNN, a backslash as \\\\; a name too long for its column\n"
		"keeps its end, after an ellipsis.\n"
		"\n"
		"Exit status: 0 success, 1 database error (e.g. no such database),\n"
		"2 bad usage.  See cachewatch-top(1).\n",
		cli_default_db(), DEFAULT_REFRESH_S, DEFAULT_WINDOW_S, DEFAULT_LIMIT,
		DEFAULT_FILES, TEXT_WIDTH);
}

/* ---------------------------------------------------------------- options */

static bool parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* "90s", "5m", "2h", "1d" or plain seconds. */
static bool parse_window(const char *s, int64_t *ret)
{
	static const struct {
		char suffix;
		long seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char digits[32];
	size_t n = strlen(s);
	long unit = 1, v;

	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, s, n + 1);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (digits[n - 1] == units[i].suffix) {
			unit = units[i].seconds;
			digits[n - 1] = '\0';
		}
	if (!parse_long(digits, 1, 366L * 86400 / unit, &v))
		return false;
	*ret = (int64_t)v * unit;
	return true;
}

#define PROCEED (-1)

struct top_options {
	const char *db;
	bool once;
	long refresh_s; /* 0: the recording's interval */
	long width;     /* -1: the default */
	char filter[256];
	struct top_query q;
};

/* PROCEED when parsed; else the exit code: CLI_OK after --help, CLI_USAGE on a bad argument (reported). */
static int parse_options(int argc, char **argv, struct top_options *o)
{
	const char *dbs[CLI_MAX_DBS];
	size_t ndbs = 0;
	bool bad = false;
	long v;

	*o = (struct top_options){
		.width = -1,
		.q = { .window_s = DEFAULT_WINDOW_S, .sort = TOP_SORT_EVICTED, .limit = DEFAULT_LIMIT,
		       .files = DEFAULT_FILES, .roots = MAX_ROOTS, .pressure = MAX_PRESSURE },
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return CLI_OK;
		} else if (cli_take_db("top", argc, argv, &i, dbs, &ndbs, &bad)) {
			if (bad)
				return CLI_USAGE;
		} else if (!strcmp(a, "--once")) {
			o->once = true;
		} else if ((val = cli_take_value("top", "--interval", argc, argv, &i, &bad))) {
			if (!parse_long(val, 1, 3600, &o->refresh_s)) {
				cli_error("top", "--interval: '%s' is not a number of seconds from 1 to 3600", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--window", argc, argv, &i, &bad))) {
			if (!parse_window(val, &o->q.window_s)) {
				cli_error("top", "--window: '%s' is not a span such as 90s, 5m, 2h or 1d (at most 366d)", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--sort", argc, argv, &i, &bad))) {
			if (top_sort_parse(val, &o->q.sort) < 0) {
				cli_error("top", "--sort: unknown key '%s' (evicted, exec, refaulted, time or cgroup)", val);
				return CLI_USAGE;
			}
		} else if ((val = cli_take_value("top", "--filter", argc, argv, &i, &bad))) {
			if (strlen(val) >= sizeof(o->filter)) {
				cli_error("top", "--filter: longer than %zu bytes", sizeof(o->filter) - 1);
				return CLI_USAGE;
			}
			strcpy(o->filter, val);
		} else if ((val = cli_take_value("top", "--limit", argc, argv, &i, &bad))) {
			if (!parse_long(val, 1, 1000, &v)) {
				cli_error("top", "--limit: '%s' is not a number from 1 to 1000", val);
				return CLI_USAGE;
			}
			o->q.limit = (int)v;
		} else if ((val = cli_take_value("top", "--files", argc, argv, &i, &bad))) {
			if (!parse_long(val, 0, 100, &v)) {
				cli_error("top", "--files: '%s' is not a number from 0 to 100", val);
				return CLI_USAGE;
			}
			o->q.files = (int)v;
		} else if ((val = cli_take_value("top", "--width", argc, argv, &i, &bad))) {
			if (!parse_long(val, 0, 10000, &o->width) || (o->width > 0 && o->width < 40)) {
				cli_error("top", "--width: '%s' is not 0 or a number of columns from 40 to 10000", val);
				return CLI_USAGE;
			}
		} else if (bad) {
			return CLI_USAGE;
		} else if (a[0] == '-') {
			cli_error("top", "unknown option '%s' (see cachewatch top --help)", a);
			return CLI_USAGE;
		} else {
			cli_error("top", "unexpected argument '%s' (see cachewatch top --help)", a);
			return CLI_USAGE;
		}
	}
	if (ndbs > 1) {
		cli_error("top", "one --db at a time");
		return CLI_USAGE;
	}
	o->db = ndbs ? dbs[0] : cli_default_db();
	o->q.filter = o->filter[0] ? o->filter : NULL;
	return PROCEED;
}

/* ---------------------------------------------------------------- layout */

/* How a snapshot is laid out: in `width` columns (0: unlimited). */
struct layout {
	FILE *f;
	size_t width;
	const char *db_path;
	const struct top_query *q;
	int64_t now;     /* wall clock, for the daemon's state */
	bool live;       /* say how long ago; mark headings */
};

static size_t rest_of(const struct layout *l, size_t used)
{
	if (!l->width)
		return 0; /* unlimited */
	return l->width > used ? l->width - used : 1;
}

/* A whole line of our own text holding untrusted parts: escaped, cut at the width. */
static void _printf_(2, 3) put_line(const struct layout *l, const char *fmt, ...)
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

static void put_alert_mark(const struct layout *l)
{
	if (l->live)
		fputc(MARK_ALERT, l->f);
}

static void put_heading(const struct layout *l, const char *text)
{
	if (l->live)
		fputc(MARK_HEADING, l->f);
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
static void format_when(char *buf, size_t len, const struct layout *l, int64_t ts)
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

static void put_daemon_state(const struct layout *l, const struct top_snapshot *s)
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

static void put_header(const struct layout *l, const struct top_snapshot *s)
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
static void put_figures(const struct layout *l, const struct top_figures *fig, size_t causes_width)
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
static size_t causes_width(const struct layout *l, const struct top_snapshot *s)
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

static void put_cgroups(const struct layout *l, const struct top_snapshot *s)
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

static void put_pressure(const struct layout *l, const struct top_pressure *p)
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

static void put_roots(const struct layout *l, const struct top_snapshot *s)
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

/* The two tables, each after a blank line, once there is data. */
static void put_table(const struct layout *l, const struct top_snapshot *s)
{
	if (!s->have_intervals)
		return;
	fputc('\n', l->f);
	put_cgroups(l, s);
}

static void put_roots_table(const struct layout *l, const struct top_snapshot *s)
{
	if (!s->have_intervals)
		return;
	fputc('\n', l->f);
	put_roots(l, s);
}

static void put_body(const struct layout *l, const struct top_snapshot *s)
{
	put_table(l, s);
	put_roots_table(l, s);
}

/* ---------------------------------------------------------------- --once */

static size_t snapshot_width(long width_option)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return width_option >= 0 ? (size_t)width_option : TEXT_WIDTH;
}

static int run_once(sqlite3 *db, const struct top_options *o)
{
	struct layout l = { .f = stdout, .width = snapshot_width(o->width), .db_path = o->db,
			    .q = &o->q, .now = time(NULL) };
	struct top_snapshot snap;
	char err[512];

	if (top_gather(db, &o->q, &snap, err, sizeof(err)) < 0) {
		cli_error("top", "%s", err);
		return CLI_FAIL;
	}
	put_header(&l, &snap);
	put_body(&l, &snap);
	top_snapshot_free(&snap);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("top", "cannot write the output");
		return CLI_FAIL;
	}
	return CLI_OK;
}

/* ---------------------------------------------------------------- live view */

struct live {
	sqlite3 *db;
	struct top_options *o;
	struct top_snapshot snap;
	bool have_snap;
	char error[512];   /* of the last refresh, shown until one succeeds */
	int files_shown;   /* what 'f' brings back */
	size_t scroll;     /* first body line shown */
	int64_t refresh_ms;
};

/* Ctrl-C and SIGTERM quit like 'q' does: the terminal restored, exit 0. */
static volatile sig_atomic_t quit_requested;

static void request_quit(int sig)
{
	quit_requested = 1;
}

static int catch_quit_signals(void)
{
	/* No SA_RESTART: getch() returns at once.  Installed before ncurses, so it keeps its hands off. */
	struct sigaction sa = { .sa_handler = request_quit };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		cli_error("top", "cannot catch SIGINT: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void refresh_snapshot(struct live *v)
{
	struct top_snapshot fresh;

	if (top_gather(v->db, &v->o->q, &fresh, v->error, sizeof(v->error)) < 0)
		return; /* keep showing the last good one, with the error */
	if (v->have_snap)
		top_snapshot_free(&v->snap);
	v->snap = fresh;
	v->have_snap = true;
	v->error[0] = '\0';
	if (!v->o->refresh_s && fresh.have_run && fresh.run_interval_s > 0)
		v->refresh_ms = fresh.run_interval_s * 1000;
}

/* Draw one rendered line at row y, cut at the screen's width by display columns. */
static void draw_line(int y, const char *s, attr_t attr)
{
	mbstate_t mb = { 0 };
	const char *p = s;
	int cols = 0;

	if (*p == MARK_HEADING || *p == MARK_ALERT)
		attr |= *p++ == MARK_HEADING ? A_REVERSE : A_BOLD;
	s = p;
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &mb);
		int w;

		if (n == 0 || n == (size_t)-1 || n == (size_t)-2)
			break;
		w = wcwidth(wc);
		if (cols + (w > 0 ? w : 0) > COLS)
			break;
		cols += w > 0 ? w : 0;
		p += n;
	}
	move(y, 0);
	clrtoeol();
	attrset(attr);
	addnstr(s, (int)(p - s));
	if (attr & A_REVERSE)
		hline(' ', COLS - cols); /* the heading bar runs across the screen */
	attrset(A_NORMAL);
}

/* A part of the screen rendered into lines. */
struct block {
	char *text;
	size_t text_len;
	char **lines;
	size_t n, cap;
};

static void block_free(struct block *b)
{
	free(b->text);
	free(b->lines);
	*b = (struct block){ 0 };
}

/* Render with put(), then split the text into lines in place. */
static void render_block(struct layout *l, const struct top_snapshot *s,
			 void (*put)(const struct layout *, const struct top_snapshot *), struct block *b)
{
	l->f = open_memstream(&b->text, &b->text_len);
	if (!l->f)
		return;
	put(l, s);
	if (fclose(l->f) != 0 || !b->text)
		return;
	for (char *p = b->text; *p;) {
		char *nl = strchr(p, '\n');

		if (grow_array((void **)&b->lines, &b->cap, b->n + 1, sizeof(*b->lines)) < 0)
			return;
		b->lines[b->n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
}

static void draw_status(const struct live *v, const char *prompt, size_t first, size_t shown,
			size_t total)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	if (prompt) {
		fputs("filter: ", f);
		cli_put_term(f, prompt);
	} else if (v->error[0]) {
		fputs("error: ", f);
		cli_put_term(f, v->error);
	} else {
		fprintf(f, "q quit  e x r t c sort  / filter  f files  every %lld s",
			(long long)(v->refresh_ms / 1000));
		if (shown < total)
			fprintf(f, "  arrows: rows %zu-%zu of %zu", first + 1, first + shown, total);
	}
	if (fclose(f) == 0 && buf)
		draw_line(LINES - 1, buf, prompt || v->error[0] ? A_BOLD : A_DIM);
	free(buf);
}

/*
 * Render the snapshot at the screen's width and draw it: the header at the
 * top, the reclaim roots at the bottom (at least a third of the rows when
 * everything does not fit) and the cgroup table, scrolled, in between.
 */
static void draw(struct live *v, const char *prompt)
{
	struct layout l = { .width = COLS, .db_path = v->o->db, .q = &v->o->q, .now = time(NULL),
			    .live = true };
	struct block head = { 0 }, table = { 0 }, roots = { 0 };
	size_t rows, table_rows, roots_rows, pinned, y = 0;

	erase();
	if (v->have_snap) {
		render_block(&l, &v->snap, put_header, &head);
		render_block(&l, &v->snap, put_table, &table);
		render_block(&l, &v->snap, put_roots_table, &roots);
	}
	for (size_t i = 0; i < head.n && y + 1 < (size_t)LINES; i++)
		draw_line(y++, head.lines[i], A_NORMAL);
	rows = (size_t)LINES - 1 - y;
	roots_rows = roots.n;
	if (table.n + roots.n > rows) {
		size_t least = rows / 3;

		if (rows > table.n && rows - table.n > least)
			least = rows - table.n;

		roots_rows = roots.n < least ? roots.n : least;
	}
	table_rows = rows - roots_rows;
	if (table_rows > table.n)
		table_rows = table.n;
	/* The blank line and the column heading stay; the rows under them scroll. */
	pinned = table_rows < 2 ? table_rows : 2;
	for (size_t i = 0; i < pinned; i++)
		draw_line(y++, table.lines[i], A_NORMAL);
	if (v->scroll + table_rows > table.n)
		v->scroll = table.n - table_rows;
	for (size_t i = pinned; i < table_rows; i++)
		draw_line(y++, table.lines[v->scroll + i], A_NORMAL);
	for (size_t i = 0; i < roots_rows; i++)
		draw_line(y++, roots.lines[i], A_NORMAL);
	draw_status(v, prompt, v->scroll, table_rows - pinned, table.n - pinned);
	block_free(&head);
	block_free(&table);
	block_free(&roots);
	refresh();
}

/* Edit the filter on the status line; Enter applies it, Escape keeps the old one. */
static bool prompt_filter(struct live *v, char *out, size_t size)
{
	char buf[sizeof(v->o->filter)];
	size_t len;
	bool done = false, applied = false;

	snprintf(buf, sizeof(buf), "%s", v->o->filter);
	len = strlen(buf);
	timeout(-1);
	while (!done) {
		int ch;

		draw(v, buf[0] ? buf : "");
		ch = getch();
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			done = applied = true;
		} else if (ch == 27 || ch == ERR) {
			done = true;
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			/* Remove a whole UTF-8 character. */
			while (len > 0 && ((unsigned char)buf[--len] & 0xc0) == 0x80)
				;
			buf[len] = '\0';
		} else if (ch == 21) { /* ^U */
			len = 0;
			buf[0] = '\0';
		} else if (ch >= 0x20 && ch <= 0xff && ch != 0x7f && len + 1 < sizeof(buf)) {
			buf[len++] = (char)ch;
			buf[len] = '\0';
		}
	}
	if (applied)
		snprintf(out, size, "%s", buf);
	return applied;
}

static const int sort_keys[TOP_SORT_COUNT] = {
	[TOP_SORT_EVICTED] = 'e', [TOP_SORT_EXEC] = 'x', [TOP_SORT_REFAULTED] = 'r',
	[TOP_SORT_TIME] = 't',    [TOP_SORT_CGROUP] = 'c',
};

/* Act on a key; false to quit.  *requery when the rows must be read again. */
static bool handle_key(struct live *v, int ch, bool *requery)
{
	struct top_query *q = &v->o->q;
	size_t page = LINES > 8 ? (size_t)LINES - 8 : 1;

	for (int s = 0; s < TOP_SORT_COUNT; s++)
		if (ch == sort_keys[s]) {
			q->sort = s;
			*requery = true;
			return true;
		}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 's':
		q->sort = (q->sort + 1) % TOP_SORT_COUNT;
		*requery = true;
		break;
	case '/':
		if (prompt_filter(v, v->o->filter, sizeof(v->o->filter))) {
			q->filter = v->o->filter[0] ? v->o->filter : NULL;
			v->scroll = 0;
			*requery = true;
		}
		break;
	case 'f':
		if (q->files)
			v->files_shown = q->files;
		q->files = q->files ? 0 : (v->files_shown ? v->files_shown : DEFAULT_FILES);
		*requery = true;
		break;
	case ' ':
	case 12: /* ^L */
		clearok(curscr, TRUE);
		*requery = true;
		break;
	case KEY_DOWN:
	case 'j':
		v->scroll++;
		break;
	case KEY_UP:
	case 'k':
		v->scroll = v->scroll ? v->scroll - 1 : 0;
		break;
	case KEY_NPAGE:
		v->scroll += page;
		break;
	case KEY_PPAGE:
		v->scroll = v->scroll > page ? v->scroll - page : 0;
		break;
	case KEY_HOME:
	case 'g':
		v->scroll = 0;
		break;
	}
	return true;
}

static int run_live(sqlite3 *db, struct top_options *o)
{
	struct live v = { .db = db, .o = o,
			  .refresh_ms = (o->refresh_s ? o->refresh_s : DEFAULT_REFRESH_S) * 1000 };
	bool requery = true;
	int64_t next = 0;
	SCREEN *screen;

	if (catch_quit_signals() < 0)
		return CLI_FAIL;
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		cli_error("top", "cannot drive this terminal (TERM=%s); try --once",
			  getenv("TERM") ? getenv("TERM") : "");
		return CLI_FAIL;
	}
	set_escdelay(25);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	while (!quit_requested) {
		int64_t now = monotonic_ms();
		int ch;

		if (requery || now >= next) {
			refresh_snapshot(&v);
			next = monotonic_ms() + v.refresh_ms;
			requery = false;
		}
		draw(&v, NULL);
		now = monotonic_ms();
		timeout(next > now ? (int)(next - now) : 0);
		ch = getch();
		if (ch == ERR || ch == KEY_RESIZE) /* a timeout, a signal, a new size */
			continue;
		if (!handle_key(&v, ch, &requery))
			break;
	}
	endwin();
	delscreen(screen);
	if (v.have_snap)
		top_snapshot_free(&v.snap);
	return CLI_OK;
}

/* ---------------------------------------------------------------- main */

int cmd_top(int argc, char **argv)
{
	struct top_options o;
	sqlite3 *db;
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc != PROCEED)
		return rc;
	db = cli_open_db("top", o.db);
	if (!db)
		return CLI_FAIL;
	if (o.once || !isatty(STDOUT_FILENO))
		rc = run_once(db, &o);
	else
		rc = run_live(db, &o);
	sqlite3_close(db);
	return rc;
}
