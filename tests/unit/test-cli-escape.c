// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of what the CLI does to untrusted names and time arguments
 * (cli/common.c): terminal escaping (control bytes, escape sequences, C1
 * controls, invalid and overlong UTF-8 become \xNN; printable UTF-8 stays;
 * widths match the output; cutting never splits an escape), HTML,
 * Markdown, JSON and CSV escaping, and every accepted and refused form of
 * --since/--until.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "test.h"

static char out[1024];

/* Run put(f, s) into a memory stream and return what it wrote. */
static const char *render(void (*put)(FILE *, const char *), const char *s)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	put(f, s);
	fclose(f);
	return out;
}

static const char *render_cut(const char *s, size_t width)
{
	FILE *f = fmemopen(out, sizeof(out), "w");

	cli_put_term_cut(f, s, width);
	fclose(f);
	return out;
}

#define ASSERT_STR(got, want, name)                                                            \
	({                                                                                     \
		const char *_g = (got), *_w = (want);                                         \
		test_checks++;                                                                 \
		strcmp(_g, _w) ? TEST_FAIL_("%s: got \"%s\", expected \"%s\"", name, _g, _w) : true; \
	})

static void test_term(void)
{
	ASSERT_STR(render(cli_put_term, "/kubepods/pod1/app"), "/kubepods/pod1/app", "plain");
	ASSERT_STR(render(cli_put_term, "a\x1b[31mred"), "a\\x1b[31mred", "escape sequence");
	ASSERT_STR(render(cli_put_term, "two\nlines\r"), "two\\x0alines\\x0d", "newline, CR");
	ASSERT_STR(render(cli_put_term, "back\\slash"), "back\\\\slash", "backslash doubled");
	ASSERT_STR(render(cli_put_term, "caf\xc3\xa9"), "caf\xc3\xa9", "UTF-8 kept");
	ASSERT_STR(render(cli_put_term, "\xe2\x82\xac\xf0\x9f\x98\x80"), "\xe2\x82\xac\xf0\x9f\x98\x80",
		   "3- and 4-byte UTF-8 kept");
	ASSERT_STR(render(cli_put_term, "c1\xc2\x9b" "2J"), "c1\\xc2\\x9b2J", "C1 CSI escaped");
	ASSERT_STR(render(cli_put_term, "bad\xff\xc3"), "bad\\xff\\xc3", "invalid, truncated");
	ASSERT_STR(render(cli_put_term, "over\xc0\xaf"), "over\\xc0\\xaf", "overlong");
	ASSERT_STR(render(cli_put_term, "sur\xed\xa0\x80"), "sur\\xed\\xa0\\x80", "surrogate");
	ASSERT_STR(render(cli_put_term, "del\x7f"), "del\\x7f", "DEL");

	ASSERT_EQ(cli_term_width("abc"), 3, "width ascii");
	ASSERT_EQ(cli_term_width("a\x1b"), 5, "width escape");
	ASSERT_EQ(cli_term_width("caf\xc3\xa9"), 4, "width UTF-8");
	ASSERT_EQ(cli_term_width("a\\b"), 4, "width backslash");
	ASSERT_EQ(cli_term_width(NULL), 0, "width NULL");

	ASSERT_STR(render_cut("abcdef", 6), "abcdef", "fits");
	ASSERT_STR(render_cut("abcdefg", 6), "abcde…", "cut");
	/* The escape does not fit whole: it is left out and padded instead. */
	ASSERT_STR(render_cut("abc\x1b" "def", 6), "abc…  ", "escape not split (padded to 6 columns)");
	ASSERT_STR(render_cut("caf\xc3\xa9s", 4), "caf…", "UTF-8 not split");
}

static void test_html_md(void)
{
	ASSERT_STR(render(cli_put_html, "<b>&\"'x"), "&lt;b&gt;&amp;&quot;&#39;x", "html");
	ASSERT_STR(render(cli_put_html, "a\x1b[1m"), "a\\x1b[1m", "html control byte");
	ASSERT_STR(render(cli_put_md, "a|b*c_d<e>`[x](y)"),
		   "a\\|b\\*c\\_d&lt;e&gt;\\`\\[x\\]\\(y\\)", "markdown");
	ASSERT_STR(render(cli_put_md, "l\nm"), "l\\\\x0am", "markdown newline");
}

static void test_json_csv(void)
{
	ASSERT_STR(render(cli_put_json, "q\"b\\n\n\x1b"), "\"q\\\"b\\\\n\\u000a\\u001b\"", "json");
	ASSERT_STR(render(cli_put_json, "caf\xc3\xa9"), "\"caf\xc3\xa9\"", "json UTF-8");
	ASSERT_STR(render(cli_put_json, "x\xff"), "\"x\\\\xff\"", "json invalid byte");
	ASSERT_STR(render(cli_put_json, "\xc2\x85"), "\"\\u0085\"", "json C1");
	ASSERT_STR(render(cli_put_json, NULL), "\"\"", "json NULL");
	ASSERT_STR(render(cli_put_csv, "plain"), "plain", "csv plain");
	ASSERT_STR(render(cli_put_csv, "a,\"b\"\n"), "\"a,\"\"b\"\"\n\"", "csv quoted");
}

static void test_time(void)
{
	const int64_t now = 1763794448; /* 2025-11-22 06:54:08 UTC */
	int64_t t = 0;

	ASSERT_OK(cli_parse_time("1763794000", now, &t), "unix");
	ASSERT_EQ(t, 1763794000, "unix value");
	ASSERT_OK(cli_parse_time("2h", now, &t), "span");
	ASSERT_EQ(t, now - 7200, "span value");
	ASSERT_OK(cli_parse_time("-15m", now, &t), "negative span");
	ASSERT_EQ(t, now - 900, "negative span value");
	ASSERT_OK(cli_parse_time("7d", now, &t), "days");
	ASSERT_EQ(t, now - 7 * 86400, "days value");
	ASSERT_OK(cli_parse_time("2025-11-22 06:54:08", now, &t), "date time");
	ASSERT_EQ(t, now, "date time value");
	ASSERT_OK(cli_parse_time("2025-11-22T06:54:08", now, &t), "ISO T");
	ASSERT_EQ(t, now, "ISO T value");
	ASSERT_OK(cli_parse_time("2025-11-22 06:54", now, &t), "minutes");
	ASSERT_EQ(t, now - 8, "minutes value");
	ASSERT_OK(cli_parse_time("2025-11-22", now, &t), "date");
	ASSERT_EQ(t, now - (6 * 3600 + 54 * 60 + 8), "date value");

	ASSERT_ERR(cli_parse_time("", now, &t), -EINVAL, "empty");
	ASSERT_ERR(cli_parse_time("yesterday", now, &t), -EINVAL, "word");
	ASSERT_ERR(cli_parse_time("2h30", now, &t), -EINVAL, "trailing");
	ASSERT_ERR(cli_parse_time("5x", now, &t), -EINVAL, "bad unit");
	ASSERT_ERR(cli_parse_time("-5", now, &t), -EINVAL, "negative number");
	ASSERT_ERR(cli_parse_time("2025-13-40", now, &t), -EINVAL, "bad date");
	ASSERT_ERR(cli_parse_time("99999999999999999999d", now, &t), -EINVAL, "overflow");
	ASSERT_ERR(cli_parse_time("2025-11-22 06:54:08junk", now, &t), -EINVAL, "date junk");
}

static void test_format(void)
{
	char b[32];

	cli_format_bytes(b, sizeof(b), 512);
	ASSERT_STR(b, "512 B", "bytes");
	cli_format_bytes(b, sizeof(b), 96 << 20);
	ASSERT_STR(b, "96.0 MiB", "MiB");
	cli_format_bytes(b, sizeof(b), 1.5 * (1 << 30));
	ASSERT_STR(b, "1.50 GiB", "GiB");
	cli_format_ms(b, sizeof(b), 0.25);
	ASSERT_STR(b, "250 us", "us");
	cli_format_ms(b, sizeof(b), 81.92);
	ASSERT_STR(b, "81.9 ms", "ms");
	cli_format_ms(b, sizeof(b), 5242.88);
	ASSERT_STR(b, "5.2 s", "s");
	cli_format_time(b, sizeof(b), 1763794448);
	ASSERT_STR(b, "2025-11-22 06:54:08", "time");
}

int main(void)
{
	test_term();
	test_html_md();
	test_json_csv();
	test_time();
	test_format();
	printf("%d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}
