// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The live view of cachewatch top: an ncurses screen redrawn from a fresh
 * snapshot every refresh, the header and the reclaim roots pinned, the
 * cgroup table scrolled in between, and the keys that sort, filter,
 * scroll and quit.
 */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include "cli.h"
#include "top-layout.h"
#include "top-live.h"

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

	if (*p == TOP_MARK_HEADING || *p == TOP_MARK_ALERT)
		attr |= *p++ == TOP_MARK_HEADING ? A_REVERSE : A_BOLD;
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
static void render_block(struct top_layout *l, const struct top_snapshot *s,
			 void (*put)(const struct top_layout *, const struct top_snapshot *), struct block *b)
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
	struct top_layout l = { .width = COLS, .db_path = v->o->db, .q = &v->o->q, .now = time(NULL),
			    .live = true };
	struct block head = { 0 }, table = { 0 }, roots = { 0 };
	size_t rows, table_rows, roots_rows, pinned, y = 0;

	erase();
	if (v->have_snap) {
		render_block(&l, &v->snap, top_put_header, &head);
		render_block(&l, &v->snap, top_put_table, &table);
		render_block(&l, &v->snap, top_put_roots_table, &roots);
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
		q->files = q->files ? 0 : (v->files_shown ? v->files_shown : TOP_DEFAULT_FILES);
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

int top_run_live(sqlite3 *db, struct top_options *o)
{
	struct live v = { .db = db, .o = o,
			  .refresh_ms = (o->refresh_s ? o->refresh_s : TOP_DEFAULT_REFRESH_S) * 1000 };
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
