// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared parts of the cachewatch subcommands; see cli.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "migrate.h"

#ifndef CW_DEFAULT_DB
#define CW_DEFAULT_DB "/var/lib/cachewatch/cachewatch.db"
#endif

void cli_error(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cachewatch%s%s: ", sub ? " " : "", sub ? sub : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_default_db(void)
{
	const char *env = getenv("CACHEWATCH_DB");

	return env && *env ? env : CW_DEFAULT_DB;
}

sqlite3 *cli_open_db(const char *sub, const char *path)
{
	char err[512];
	sqlite3 *db = NULL;

	if (db_open_reader(path, &db, err, sizeof(err)) < 0) {
		cli_error(sub, "%s", err);
		return NULL;
	}
	/* Belt and braces: the connection is read-only already. */
	sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	return db;
}

/* ---------------------------------------------------------------- time */

static int parse_span(const char *s, int64_t *ret)
{
	char *end;
	long long n;
	int64_t unit;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n < 0)
		return -EINVAL;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -EINVAL;
	}
	if (end[1] || n > INT64_MAX / unit / 2)
		return -EINVAL;
	*ret = n * unit;
	return 0;
}

int cli_parse_time(const char *s, int64_t now, int64_t *ret)
{
	static const char *const formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
					       "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d" };
	int64_t span;
	char *end;
	long long n;

	if (!s || !*s)
		return -EINVAL;
	if (parse_span(s[0] == '-' ? s + 1 : s, &span) == 0) {
		*ret = now - span;
		return 0;
	}
	if (s[0] != '-') {
		errno = 0;
		n = strtoll(s, &end, 10);
		if (!errno && !*end && n >= 0) {
			*ret = n;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++) {
		struct tm tm = { 0 };
		const char *rest = strptime(s, formats[i], &tm);

		if (rest && !*rest) {
			*ret = timegm(&tm);
			return 0;
		}
	}
	return -EINVAL;
}

void cli_format_time(char *buf, size_t len, int64_t ts)
{
	time_t t = (time_t)ts;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%lld", (long long)ts);
}

void cli_format_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes < 0 ? -bytes : bytes;
	size_t u = 0;

	if (v < 1024) {
		snprintf(buf, len, "%.0f B", bytes);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%s%.*f %s", bytes < 0 ? "-" : "", v < 10 ? 2 : v < 100 ? 1 : 0, v,
		 units[u]);
}

void cli_format_ms(char *buf, size_t len, double ms)
{
	if (ms < 1)
		snprintf(buf, len, "%.0f us", ms * 1000);
	else if (ms < 1000)
		snprintf(buf, len, "%.*f ms", ms < 10 ? 2 : ms < 100 ? 1 : 0, ms);
	else if (ms < 120000)
		snprintf(buf, len, "%.1f s", ms / 1000);
	else
		snprintf(buf, len, "%.1f min", ms / 60000);
}

/* ---------------------------------------------------------------- escaping */

/*
 * Length of the valid, printable UTF-8 sequence at s (2 to 4 bytes), or 0:
 * invalid, overlong, a surrogate, beyond U+10FFFF, or a C1 control.
 */
static size_t utf8_printable(const unsigned char *s)
{
	unsigned cp;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/*
 * Walk the terminal-escaped form of s: calls emit(piece, len, ctx) for
 * each output unit (one column each) until emit returns false.
 */
static void term_walk(const char *s, bool (*emit)(const char *, size_t, void *), void *ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	char hex[5];

	while (*p) {
		size_t n = 1;

		if (*p == '\\') {
			if (!emit("\\\\", 2, ctx))
				return;
		} else if (*p >= 0x20 && *p < 0x7f) {
			if (!emit((const char *)p, 1, ctx))
				return;
		} else if (*p >= 0x80 && (n = utf8_printable(p))) {
			if (!emit((const char *)p, n, ctx))
				return;
		} else {
			n = 1;
			snprintf(hex, sizeof(hex), "\\x%02x", *p);
			if (!emit(hex, 4, ctx))
				return;
		}
		p += n;
	}
}

static bool emit_file(const char *piece, size_t len, void *ctx)
{
	fwrite(piece, 1, len, ctx);
	return true;
}

static bool emit_count(const char *piece, size_t len, void *ctx)
{
	/* An escape like "\x1b" takes 4 columns, "\\" 2, a code point 1. */
	*(size_t *)ctx += piece[0] == '\\' ? len : 1;
	return true;
}

void cli_put_term(FILE *f, const char *s)
{
	term_walk(s ? s : "", emit_file, f);
}

size_t cli_term_width(const char *s)
{
	size_t w = 0;

	term_walk(s ? s : "", emit_count, &w);
	return w;
}

struct cut_ctx {
	FILE *f;
	size_t left;
};

static bool emit_cut(const char *piece, size_t len, void *ctx)
{
	struct cut_ctx *c = ctx;
	size_t cols = piece[0] == '\\' ? len : 1;

	if (cols > c->left)
		return false;
	fwrite(piece, 1, len, c->f);
	c->left -= cols;
	return true;
}

void cli_put_term_cut(FILE *f, const char *s, size_t width)
{
	struct cut_ctx c = { f, width ? width - 1 : 0 };

	if (cli_term_width(s) <= width) {
		cli_put_term(f, s);
		return;
	}
	if (!width)
		return;
	term_walk(s ? s : "", emit_cut, &c);
	fputs("…", f);
	/* Pad what a cut escape left unused so columns stay aligned. */
	fprintf(f, "%*s", (int)c.left, "");
}

void cli_put_html(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control bytes would be invalid in HTML: show them as text. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
	}
}

void cli_put_md(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (strchr("\\`*_{}[]()#+-.!|~", *p))
			fprintf(f, "\\%c", *p);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

void cli_put_json(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		size_t n;

		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p);
		} else if (*p < 0x80) {
			fputc(*p, f);
		} else if ((n = utf8_printable(p))) {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* A valid C1 control: keep the character, escaped. */
			fprintf(f, "\\u%04x", p[1]);
			p += 2;
			continue;
		} else {
			/* Not UTF-8: JSON cannot hold the byte, keep it visible. */
			fprintf(f, "\\\\x%02x", *p);
		}
		p++;
	}
	fputc('"', f);
}

void cli_put_csv(FILE *f, const char *s)
{
	s = s ? s : "";
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* ---------------------------------------------------------------- options */

const char *cli_take_value(const char *sub, const char *name, int argc, char **argv, int *i,
			   bool *bad)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n])
		return NULL;
	if (*i + 1 >= argc) {
		cli_error(sub, "%s needs a value", name);
		*bad = true;
		return NULL;
	}
	return argv[++*i];
}

bool cli_take_db(const char *sub, int argc, char **argv, int *i, const char **dbs, size_t *ndbs,
		 bool *bad)
{
	const char *v = cli_take_value(sub, "--db", argc, argv, i, bad);

	if (!v)
		return *bad;
	if (!*v) {
		cli_error(sub, "--db needs a path");
		*bad = true;
	} else if (*ndbs >= CLI_MAX_DBS) {
		cli_error(sub, "at most %d --db options", CLI_MAX_DBS);
		*bad = true;
	} else {
		dbs[(*ndbs)++] = v;
	}
	return true;
}
