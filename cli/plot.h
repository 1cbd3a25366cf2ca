/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Charts as SVG, drawn by gnuplot.  Only numbers and the caller's fixed
 * labels reach gnuplot's script, and plot_svg refuses any label holding a
 * character outside a small safe set, so no name from the kernel (a file or
 * cgroup name can hold any byte) can ever be read as gnuplot syntax: series
 * are told apart by colour and named by the caller, outside the chart.
 */
#ifndef CACHEWATCH_PLOT_H
#define CACHEWATCH_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#define PLOT_MAX_SERIES 8
#define PLOT_MAX_TICS 32

enum plot_kind {
	PLOT_LINES,             /* x is Unix time */
	PLOT_BARS,              /* x is a category index; series side by side */
};

struct plot_series {
	const double *y;        /* npoints values */
	const char *color;      /* "#rrggbb" */
};

struct plot {
	enum plot_kind kind;
	int width, height;
	const char *ylabel;     /* fixed text: letters, digits, " .,:/()%-" */
	const double *x;
	size_t npoints;
	struct plot_series series[PLOT_MAX_SERIES];
	size_t nseries;
	/* PLOT_BARS: labelled tics at category positions (same safe set). */
	const char *tic_label[PLOT_MAX_TICS];
	double tic_pos[PLOT_MAX_TICS];
	size_t ntics;
	bool log_y;
};

/*
 * Draw p as an SVG document (the <svg> element only, no XML prolog) into
 * *svg (malloc'ed).  0 on success; -ENOENT when gnuplot is not installed;
 * -EINVAL for an unsafe label; another negative errno when gnuplot failed,
 * with a one-line reason in err.
 */
int plot_svg(const struct plot *p, char **svg, char *err, size_t errlen);

/* The gnuplot that plot_svg runs: $CACHEWATCH_GNUPLOT, else gnuplot in $PATH; NULL if none. */
const char *plot_gnuplot_path(void);

#endif
