// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Query results as a table, CSV or JSON; see table.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "table.h"

/* A text table: every cell kept as text until the widths are known. */
struct cells {
	char **v;      /* rows x cols, NULL for SQL NULL */
	bool *numeric; /* per cell: right-aligned */
	size_t n, cap;
};

static int cells_add(struct cells *c, const char *text, bool numeric)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		char **v = realloc(c->v, cap * sizeof(*v));
		bool *num;

		if (!v)
			return -1;
		c->v = v;
		num = realloc(c->numeric, cap * sizeof(*num));
		if (!num)
			return -1;
		c->numeric = num;
		c->cap = cap;
	}
	c->v[c->n] = text ? strdup(text) : NULL;
	if (text && !c->v[c->n])
		return -1;
	c->numeric[c->n++] = numeric;
	return 0;
}

static void cells_free(struct cells *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	free(c->numeric);
}

static void put_padded(FILE *f, const char *s, size_t width, bool right, bool last)
{
	size_t w = cli_term_width(s);

	if (right)
		fprintf(f, "%*s", (int)(width - w), "");
	cli_put_term(f, s);
	if (!right && !last)
		fprintf(f, "%*s", (int)(width - w), "");
}

static int print_text(FILE *f, sqlite3_stmt *st, bool headers)
{
	int ncol = sqlite3_column_count(st), r;
	struct cells c = { 0 };
	size_t *width = calloc(ncol ? ncol : 1, sizeof(*width));

	if (!width)
		return SQLITE_NOMEM;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			int type = sqlite3_column_type(st, i);
			const char *t = (const char *)sqlite3_column_text(st, i);

			if (cells_add(&c, type == SQLITE_NULL ? NULL : t,
				      type == SQLITE_INTEGER || type == SQLITE_FLOAT) < 0) {
				r = SQLITE_NOMEM;
				goto out;
			}
		}
	}
	if (r != SQLITE_DONE)
		goto out;
	for (int i = 0; i < ncol; i++) {
		if (headers)
			width[i] = cli_term_width(sqlite3_column_name(st, i));
		for (size_t row = 0; row * ncol < c.n; row++) {
			size_t w = cli_term_width(c.v[row * ncol + i]);

			if (w > width[i])
				width[i] = w;
		}
	}
	if (headers) {
		for (int i = 0; i < ncol; i++) {
			put_padded(f, sqlite3_column_name(st, i), width[i], false, i == ncol - 1);
			fputs(i == ncol - 1 ? "\n" : "  ", f);
		}
		for (int i = 0; i < ncol; i++) {
			for (size_t k = 0; k < width[i]; k++)
				fputc('-', f);
			fputs(i == ncol - 1 ? "\n" : "  ", f);
		}
	}
	for (size_t k = 0; k < c.n; k++) {
		int i = k % ncol;

		put_padded(f, c.v[k] ? c.v[k] : "", width[i], c.numeric[k], i == ncol - 1);
		fputs(i == ncol - 1 ? "\n" : "  ", f);
	}
out:
	cells_free(&c);
	free(width);
	return r;
}

static int print_csv(FILE *f, sqlite3_stmt *st, bool headers)
{
	int ncol = sqlite3_column_count(st), r;

	if (headers) {
		for (int i = 0; i < ncol; i++) {
			cli_put_csv(f, sqlite3_column_name(st, i));
			fputs(i == ncol - 1 ? "\r\n" : ",", f);
		}
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < ncol; i++) {
			cli_put_csv(f, (const char *)sqlite3_column_text(st, i));
			fputs(i == ncol - 1 ? "\r\n" : ",", f);
		}
	}
	return r;
}

static void json_value(FILE *f, sqlite3_stmt *st, int i)
{
	double d;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		fputs("null", f);
		break;
	case SQLITE_INTEGER:
		fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		if (isfinite(d))
			fprintf(f, "%.17g", d);
		else
			fputs("null", f);
		break;
	case SQLITE_BLOB: {
		const unsigned char *b = sqlite3_column_blob(st, i);
		int n = sqlite3_column_bytes(st, i);

		/* A blob as a hex string: JSON has no bytes type. */
		fputc('"', f);
		for (int k = 0; k < n; k++)
			fprintf(f, "%02x", b[k]);
		fputc('"', f);
		break;
	}
	default:
		cli_put_json(f, (const char *)sqlite3_column_text(st, i));
	}
}

static int print_json(FILE *f, sqlite3_stmt *st)
{
	int ncol = sqlite3_column_count(st), r;
	bool first = true;

	fputc('[', f);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		fputs(first ? "\n  {" : ",\n  {", f);
		first = false;
		for (int i = 0; i < ncol; i++) {
			cli_put_json(f, sqlite3_column_name(st, i));
			fputs(": ", f);
			json_value(f, st, i);
			if (i < ncol - 1)
				fputs(", ", f);
		}
		fputc('}', f);
	}
	fputs(first ? "]\n" : "\n]\n", f);
	return r;
}

int table_print(FILE *f, sqlite3_stmt *st, enum table_format fmt, bool headers)
{
	switch (fmt) {
	case TABLE_CSV:
		return print_csv(f, st, headers);
	case TABLE_JSON:
		return print_json(f, st);
	default:
		return print_text(f, st, headers);
	}
}
