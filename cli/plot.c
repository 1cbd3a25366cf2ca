// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Drawing a chart with gnuplot: numbers and checked fixed labels go into a
 * private temporary directory, gnuplot runs there without a shell (fork and
 * exec, no init files, a time limit), its SVG is read back and the
 * directory removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"

/* gnuplot gets this long before it is killed (SIGALRM survives exec). */
#define PLOT_TIMEOUT_S 30

static const char *const plot_files[] = { "data", "plot.gp", "out.svg", "err.txt" };

const char *plot_gnuplot_path(void)
{
	static char found[4096];
	const char *env = getenv("CACHEWATCH_GNUPLOT"), *path = getenv("PATH");

	if (env)
		return *env && access(env, X_OK) == 0 ? env : NULL;
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (len && len + sizeof("/gnuplot") <= sizeof(found)) {
			snprintf(found, sizeof(found), "%.*s/gnuplot", (int)len, path);
			if (access(found, X_OK) == 0)
				return found;
		}
		path += len + (path[len] == ':');
	}
	return NULL;
}

/*
 * The only characters a label may hold: no quote, backslash, newline,
 * backtick or enhanced-text markup can reach gnuplot's parser.
 */
static bool safe_label(const char *s)
{
	if (!s)
		return true;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(" .,:/()%-", *s)))
			return false;
	return true;
}

static bool safe_color(const char *s)
{
	if (!s || s[0] != '#' || strlen(s) != 7)
		return false;
	for (int i = 1; i < 7; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

static FILE *create_in(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

static int close_checked(FILE *f)
{
	bool bad = ferror(f);

	if (fclose(f) != 0 || bad)
		return -EIO;
	return 0;
}

static int write_data(int dirfd, const struct plot *p)
{
	FILE *f = create_in(dirfd, "data");

	if (!f)
		return -errno;
	for (size_t i = 0; i < p->npoints; i++) {
		fprintf(f, "%.17g", p->x[i]);
		for (size_t s = 0; s < p->nseries; s++)
			fprintf(f, " %.17g", p->series[s].y[i]);
		fputc('\n', f);
	}
	return close_checked(f);
}

static void script_lines(FILE *f, const struct plot *p)
{
	double span = p->npoints ? p->x[p->npoints - 1] - p->x[0] : 0;

	fprintf(f, "set xdata time\nset timefmt \"%%s\"\n");
	fprintf(f, "set format x \"%s\"\n", span > 2 * 86400 ? "%m-%d %H:%M" :
					    span > 600 ? "%H:%M" : "%H:%M:%S");
	fprintf(f, "set xlabel \"time (UTC)\"\n");
	fprintf(f, "plot ");
	for (size_t s = 0; s < p->nseries; s++)
		fprintf(f, "%s\"data\" using 1:%zu with lines lw 1.6 lc rgb \"%s\"", s ? ", " : "",
			s + 2, p->series[s].color);
	fputc('\n', f);
}

static void script_bars(FILE *f, const struct plot *p)
{
	double w = 0.8 / (double)(p->nseries ? p->nseries : 1);

	fprintf(f, "set boxwidth %.3f absolute\nset style fill solid 0.9 noborder\n", w);
	if (p->npoints)
		fprintf(f, "set xrange [%.17g:%.17g]\n", p->x[0] - 0.5, p->x[p->npoints - 1] + 0.5);
	fprintf(f, "set xtics (");
	for (size_t i = 0; i < p->ntics; i++)
		fprintf(f, "%s\"%s\" %.17g", i ? ", " : "", p->tic_label[i], p->tic_pos[i]);
	fprintf(f, ")\n");
	fprintf(f, "plot ");
	for (size_t s = 0; s < p->nseries; s++)
		fprintf(f, "%s\"data\" using ($1%+.3f):%zu with boxes lc rgb \"%s\"", s ? ", " : "",
			((double)s - ((double)p->nseries - 1) / 2) * w, s + 2, p->series[s].color);
	fputc('\n', f);
}

static int write_script(int dirfd, const struct plot *p)
{
	FILE *f = create_in(dirfd, "plot.gp");

	if (!f)
		return -errno;
	fprintf(f, "set terminal svg size %d,%d font \"sans,11\" background \"#ffffff\" noenhanced\n",
		p->width, p->height);
	fprintf(f, "set encoding utf8\nunset key\nset border 3 lc rgb \"#777777\"\n"
		   "set tics nomirror\nset grid ytics lc rgb \"#e4e4e4\"\n"
		   "set yrange [0:*]\nset format y \"%%g\"\n");
	if (p->log_y)
		fprintf(f, "set logscale y\nset yrange [0.8:*]\n");
	if (p->ylabel)
		fprintf(f, "set ylabel \"%s\"\n", p->ylabel);
	if (p->kind == PLOT_LINES)
		script_lines(f, p);
	else
		script_bars(f, p);
	return close_checked(f);
}

/* First line of gnuplot's complaint, for the message. */
static void read_error(int dirfd, char *err, size_t errlen, const char *fallback)
{
	int fd = openat(dirfd, "err.txt", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, err, errlen - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "%s", fallback);
		return;
	}
	err[n] = 0;
	err[strcspn(err, "\n")] = 0;
	if (!err[strspn(err, " \t")])
		snprintf(err, errlen, "%s", fallback);
}

static int run_gnuplot(const char *gnuplot, const char *dir, int dirfd, char *err, size_t errlen)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY), out, errfd;

		if (chdir(dir) < 0 || in < 0)
			_exit(126);
		out = open("out.svg", O_WRONLY | O_CREAT | O_EXCL, 0600);
		errfd = open("err.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (out < 0 || errfd < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
			_exit(126);
		alarm(PLOT_TIMEOUT_S);
		execl(gnuplot, "gnuplot", "-d", "plot.gp", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		snprintf(err, errlen, "gnuplot took longer than %d s", PLOT_TIMEOUT_S);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(err, errlen, "cannot run %s", gnuplot);
	else
		read_error(dirfd, err, errlen, "gnuplot failed");
	return -EIO;
}

/* The <svg> element of gnuplot's output, without the XML prolog before it. */
static int read_svg(int dirfd, char **svg)
{
	int fd = openat(dirfd, "out.svg", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	const char *start;
	ssize_t n;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (grow_array((void **)&buf, &cap, len + 65536, 1) < 0) {
			close(fd);
			return -ENOMEM;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	buf[len] = 0;
	start = strstr(buf, "<svg");
	if (!start || !strstr(start, "</svg>"))
		return -EIO;
	*svg = strdup(start);
	return *svg ? 0 : -ENOMEM;
}

static void remove_dir(int dirfd, const char *dir)
{
	for (size_t i = 0; i < ARRAY_SIZE(plot_files); i++)
		unlinkat(dirfd, plot_files[i], 0);
	close(dirfd);
	rmdir(dir);
}

int plot_svg(const struct plot *p, char **svg, char *err, size_t errlen)
{
	const char *gnuplot = plot_gnuplot_path(), *tmp = getenv("TMPDIR");
	char dir[4096];
	int dirfd, r;

	*svg = NULL;
	err[0] = 0;
	if (!gnuplot) {
		snprintf(err, errlen, "gnuplot is not installed");
		return -ENOENT;
	}
	if (!safe_label(p->ylabel) || p->nseries > PLOT_MAX_SERIES || p->ntics > PLOT_MAX_TICS) {
		snprintf(err, errlen, "refusing an unsafe chart label");
		return -EINVAL;
	}
	for (size_t i = 0; i < p->ntics; i++)
		if (!safe_label(p->tic_label[i])) {
			snprintf(err, errlen, "refusing an unsafe chart label");
			return -EINVAL;
		}
	for (size_t i = 0; i < p->nseries; i++)
		if (!safe_color(p->series[i].color)) {
			snprintf(err, errlen, "refusing an unsafe chart colour");
			return -EINVAL;
		}
	snprintf(dir, sizeof(dir), "%s/cachewatch-plot.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		r = -errno;
		snprintf(err, errlen, "cannot create a temporary directory: %s", strerror(-r));
		return r;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r = -errno;
		rmdir(dir);
		snprintf(err, errlen, "cannot open %s: %s", dir, strerror(-r));
		return r;
	}
	r = write_data(dirfd, p);
	if (r >= 0)
		r = write_script(dirfd, p);
	if (r < 0)
		snprintf(err, errlen, "cannot write the chart's data: %s", strerror(-r));
	else if ((r = run_gnuplot(gnuplot, dir, dirfd, err, errlen)) >= 0 && (r = read_svg(dirfd, svg)) < 0)
		snprintf(err, errlen, "gnuplot wrote no SVG");
	remove_dir(dirfd, dir);
	return r < 0 ? r : 0;
}
