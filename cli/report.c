// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatch report: the command line of the investigation report.  Reads
 * the options, opens every database read-only, gathers all the figures,
 * renders the whole report in memory and only then writes it: to stdout,
 * or to a temporary file renamed over --output, so that a failure leaves
 * nothing half-written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "report.h"

#define DEFAULT_TOP 10
#define MAX_TOP 1000

enum format { FORMAT_HTML, FORMAT_MD };

struct options {
	const char *dbs[CLI_MAX_DBS];
	size_t ndbs;
	const char *since, *until, *output;
	enum format format;
	size_t top;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cachewatch report [OPTIONS]\n"
		"\n"
		"Write an investigation report of a time window: which memory cgroups lost\n"
		"executable page cache and how fast it came back, to which cause and under\n"
		"which reclaim root; who held the memory under that root; the refault-time\n"
		"distribution; evictions and refaults over time; the roots' limits and\n"
		"usage; cachewatch's refault counts beside the kernel's own; what could not\n"
		"be recorded; and next steps naming the cgroups involved.\n"
		"\n"
		"HTML (the default) is one self-contained page with inline SVG charts drawn by\n"
		"gnuplot; it loads nothing from the network.  Without gnuplot the report is\n"
		"written without charts, with a note saying so.  Markdown has the same facts\n"
		"as tables.\n"
		"\n"
		"Options:\n"
		"  --db PATH        database (default $CACHEWATCH_DB, else %s);\n"
		"                   give it several times for a cross-node report: each\n"
		"                   database is a node, named by its hostname, or by its file\n"
		"                   name when hostnames clash\n"
		"  --since TIME     start of the window (default: the oldest data)\n"
		"  --until TIME     end of the window (default: the newest data)\n"
		"  --format FORMAT  html (default) or md\n"
		"  --output FILE    write to FILE (replaced only when the report is complete;\n"
		"  -o FILE          default: standard output)\n"
		"  --top N          victims, files and reclaim roots to list (default %d)\n"
		"  --help           show this help\n"
		"\n"
		"TIME is Unix seconds (1763794448), a UTC date and time (2026-11-22,\n"
		"\"2026-11-22 06:54\", 2026-11-22T06:54:08) or a span before now (30m, 2h, 7d).\n"
		"\n"
		"Environment: CACHEWATCH_GNUPLOT names the gnuplot to run (default: gnuplot\n"
		"in $PATH); TMPDIR where its private working directory goes.\n"
		"\n"
		"Exit status: 0 success (also when the window holds no data: the report says\n"
		"so), 1 runtime error (no such database, not a cachewatch database, cannot\n"
		"write the output), 2 bad usage.\n"
		"\n"
		"Example: cachewatch report --since 2h --output incident.html\n",
		cli_default_db(), DEFAULT_TOP);
}

static bool parse_top(const char *s, size_t *top)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 1 || n > MAX_TOP)
		return false;
	*top = (size_t)n;
	return true;
}

/* CLI_OK, or CLI_USAGE after a message; *help when --help was asked for. */
static int parse_args(int argc, char **argv, struct options *o, bool *help)
{
	bool bad = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = true;
			return CLI_OK;
		} else if (cli_take_db("report", argc, argv, &i, o->dbs, &o->ndbs, &bad)) {
			if (bad)
				return CLI_USAGE;
		} else if ((v = cli_take_value("report", "--since", argc, argv, &i, &bad))) {
			o->since = v;
		} else if (!bad && (v = cli_take_value("report", "--until", argc, argv, &i, &bad))) {
			o->until = v;
		} else if (!bad && ((v = cli_take_value("report", "--output", argc, argv, &i, &bad)) ||
				    (!bad && (v = cli_take_value("report", "-o", argc, argv, &i, &bad))))) {
			if (!*v) {
				cli_error("report", "--output needs a file name");
				return CLI_USAGE;
			}
			o->output = v;
		} else if (!bad && (v = cli_take_value("report", "--format", argc, argv, &i, &bad))) {
			if (!strcmp(v, "html")) {
				o->format = FORMAT_HTML;
			} else if (!strcmp(v, "md") || !strcmp(v, "markdown")) {
				o->format = FORMAT_MD;
			} else {
				cli_error("report", "unknown format '%s' (use html or md)", v);
				return CLI_USAGE;
			}
		} else if (!bad && (v = cli_take_value("report", "--top", argc, argv, &i, &bad))) {
			if (!parse_top(v, &o->top)) {
				cli_error("report", "--top needs a number from 1 to %d, not '%s'", MAX_TOP, v);
				return CLI_USAGE;
			}
		} else if (!bad) {
			cli_error("report", "unknown argument '%s' (see cachewatch report --help)", a);
			return CLI_USAGE;
		}
		if (bad)
			return CLI_USAGE;
	}
	return CLI_OK;
}

static int parse_window(const struct options *o, struct report *r)
{
	r->since = INT64_MIN;
	r->until = INT64_MAX;
	if (o->since) {
		if (cli_parse_time(o->since, r->generated, &r->since) < 0) {
			cli_error("report", "--since: cannot read '%s' as a time (e.g. 2h, 1763794448, "
					    "\"2026-11-22 06:54\")", o->since);
			return CLI_USAGE;
		}
		r->since_set = true;
	}
	if (o->until) {
		if (cli_parse_time(o->until, r->generated, &r->until) < 0) {
			cli_error("report", "--until: cannot read '%s' as a time (e.g. 2h, 1763794448, "
					    "\"2026-11-22 06:54\")", o->until);
			return CLI_USAGE;
		}
		r->until_set = true;
	}
	if (r->since > r->until) {
		cli_error("report", "--since is after --until");
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* Write buf to path through a temporary file in the same directory, renamed over it. */
static int write_file(const char *path, const char *buf, size_t len)
{
	_cleanup_free_ char *tmp = NULL;
	mode_t mask;
	size_t done = 0;
	int fd;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		tmp = NULL;
		cli_error("report", "out of memory");
		return CLI_FAIL;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		cli_error("report", "cannot create a file next to %s: %m", path);
		return CLI_FAIL;
	}
	/* Permissions of a plain new file, as the umask allows, not mkstemp's 0600. */
	mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return CLI_OK;
fail:
	cli_error("report", "cannot write %s: %m", path);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return CLI_FAIL;
}

static int write_stdout(const char *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
		cli_error("report", "cannot write the report to standard output: %m");
		return CLI_FAIL;
	}
	return CLI_OK;
}

static int render(const struct report *r, const struct options *o)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	bool ok;

	if (!f) {
		cli_error("report", "out of memory");
		return CLI_FAIL;
	}
	ok = o->format == FORMAT_MD ? report_md(r, f) : report_html(r, f);
	if (fclose(f) != 0 || !ok) {
		cli_error("report", "out of memory while rendering the report");
		return CLI_FAIL;
	}
	return o->output ? write_file(o->output, buf, len) : write_stdout(buf, len);
}

int cmd_report(int argc, char **argv)
{
	struct options o = { .top = DEFAULT_TOP };
	struct report r = { 0 };
	bool help = false;
	int rc;

	rc = parse_args(argc, argv, &o, &help);
	if (rc != CLI_OK)
		return rc;
	if (help) {
		usage(stdout);
		return CLI_OK;
	}
	r.generated = time(NULL);
	r.top = o.top;
	rc = parse_window(&o, &r);
	if (rc != CLI_OK)
		return rc;
	if (!o.ndbs)
		o.dbs[o.ndbs++] = cli_default_db();

	for (size_t i = 0; i < o.ndbs; i++) {
		struct rep_node *n = &r.nodes[r.nnodes];

		n->path = o.dbs[i];
		n->db = cli_open_db("report", o.dbs[i]);
		if (!n->db) {
			report_free(&r);
			return CLI_FAIL;
		}
		r.nnodes++;
	}
	rc = report_gather(&r);
	if (rc == CLI_OK)
		rc = render(&r, &o);
	report_free(&r);
	return rc;
}
