// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of cachewatchd's settings (daemon/config.c): the defaults, every
 * numeric range at and beyond its bounds, the command-line syntax (--name
 * value, --name=value, short flags, unknown and stray arguments), the
 * --config file syntax with file:line error messages, and the rule that
 * command-line flags win over the file wherever --config appears.  Runs
 * clean under valgrind: config_done must free everything.
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h" /* plain "config.h" is autoconf's */
#include "test.h"
#include "util.h"

#define ARGV_MAX 16

static char tmpdir[] = "/tmp/cw-test-config.XXXXXX";

/*
 * Run config_parse_args on a fresh config with argv[0] = "cachewatchd" and
 * the NULL-terminated list of arguments that follows.
 */
static int parse(struct config *c, char *err, size_t errlen, ...)
{
	char *argv[ARGV_MAX + 1] = { "cachewatchd" };
	int argc = 1;
	va_list ap;
	char *arg;

	va_start(ap, errlen);
	while ((arg = va_arg(ap, char *)) && argc < ARGV_MAX)
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = 0;
	return config_parse_args(c, argc, argv, err, errlen);
}

static bool contains(const char *haystack, const char *needle, const char *name)
{
	test_checks++;
	if (strstr(haystack, needle))
		return true;
	return TEST_FAIL_("%s: message \"%s\" does not contain \"%s\"", name, haystack, needle);
}

/* Write text to tmpdir/name; the path is returned in path. */
static bool write_file(const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "we");
	if (!ASSERT_NOT_NULL(f, path))
		return false;
	fputs(text, f);
	return ASSERT_EQ(fclose(f), 0, path);
}

static void test_defaults(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	ASSERT_STREQ(c.db_path, CW_DEFAULT_DB, "default db");
	ASSERT_STREQ(c.btf_path, "/sys/kernel/btf/vmlinux", "default btf");
	ASSERT_NULL(c.config_path, "no config file by default");
	ASSERT_EQ(c.interval_s, 10, "default interval");
	ASSERT_EQ(c.duration_s, 0, "default duration");
	ASSERT_EQ(c.shadow_entries, 262144, "default shadow entries");
	ASSERT_EQ(c.evict_entries, 16384, "default evict entries");
	ASSERT_EQ(c.add_entries, 16384, "default add entries");
	ASSERT_EQ(c.refault_entries, 8192, "default refault entries");
	ASSERT_EQ(c.exec_entries, 65536, "default exec entries");
	ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_AUTO, "default reclaim context");
	ASSERT_FALSE(c.verbose, "not verbose by default");
	ASSERT_FALSE(c.help, "no help by default");
	ASSERT_FALSE(c.version, "no version by default");

	/* No arguments at all changes nothing. */
	ASSERT_EQ(parse(&c, err, sizeof(err), NULL), 0, "no arguments");
	ASSERT_STREQ(c.db_path, CW_DEFAULT_DB, "db after no arguments");
	ASSERT_EQ(c.interval_s, 10, "interval after no arguments");
	ASSERT_NULL(c.config_path, "config path after no arguments");

	/* The help text states the configured default database. */
	contains(config_usage(), CW_DEFAULT_DB, "usage names the default db");
	contains(config_usage(), "--reclaim-context", "usage lists --reclaim-context");

	config_done(&c);
	ASSERT_NULL(c.db_path, "config_done clears db_path");
	ASSERT_NULL(c.btf_path, "config_done clears btf_path");
	ASSERT_NULL(c.config_path, "config_done clears config_path");
	/* config_done on a finished config is harmless. */
	config_done(&c);
}

static void test_interval_syntax(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval", "5", NULL), 0, "--interval 5");
	ASSERT_EQ(c.interval_s, 5, "--interval 5");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval=7", NULL), 0, "--interval=7");
	ASSERT_EQ(c.interval_s, 7, "--interval=7");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval=5", NULL), 0, "--interval=5");
	ASSERT_EQ(c.interval_s, 5, "--interval=5");
	/* The last one given wins. */
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval", "2", "--interval=3", NULL), 0,
		  "--interval twice");
	ASSERT_EQ(c.interval_s, 3, "last --interval wins");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval", "1", NULL), 0, "interval 1");
	ASSERT_EQ(c.interval_s, 1, "interval lower bound");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval", "3600", NULL), 0, "interval 3600");
	ASSERT_EQ(c.interval_s, 3600, "interval upper bound");
	config_done(&c);
}

/* Each value must be refused with -EINVAL, a message naming the option, and
 * the setting left as it was. */
static void check_u32_rejected(const char *option, const char *value)
{
	char flag[64], joined[128], name[160], quoted[80], err[256];
	struct config c, ref;

	snprintf(flag, sizeof(flag), "--%s", option);
	snprintf(quoted, sizeof(quoted), "\"%s\"", value);

	/* "--name value" */
	snprintf(name, sizeof(name), "%s '%s'", flag, value);
	config_init(&c);
	config_init(&ref);
	ASSERT_ERR(parse(&c, err, sizeof(err), flag, value, NULL), -EINVAL, name);
	contains(err, flag, name);
	contains(err, quoted, name);
	ASSERT_EQ(c.interval_s, ref.interval_s, name);
	ASSERT_EQ(c.duration_s, ref.duration_s, name);
	ASSERT_EQ(c.shadow_entries, ref.shadow_entries, name);
	ASSERT_EQ(c.evict_entries, ref.evict_entries, name);
	ASSERT_EQ(c.add_entries, ref.add_entries, name);
	ASSERT_EQ(c.refault_entries, ref.refault_entries, name);
	ASSERT_EQ(c.exec_entries, ref.exec_entries, name);
	config_done(&c);

	/* "--name=value" */
	snprintf(joined, sizeof(joined), "%s=%s", flag, value);
	snprintf(name, sizeof(name), "'%s'", joined);
	config_init(&c);
	ASSERT_ERR(parse(&c, err, sizeof(err), joined, NULL), -EINVAL, name);
	contains(err, flag, name);
	contains(err, quoted, name);
	ASSERT_EQ(c.interval_s, ref.interval_s, name);
	config_done(&c);

	/* config_set, as the file uses it */
	snprintf(name, sizeof(name), "config_set(%s, '%s')", option, value);
	config_init(&c);
	err[0] = 0;
	ASSERT_ERR(config_set(&c, option, value, err, sizeof(err)), -EINVAL, name);
	contains(err, flag, name);
	config_done(&c);
	config_done(&ref);
}

static void check_u32_accepted(const char *option, const char *value, uint32_t expected,
			       size_t offset)
{
	char flag[64], name[160], err[256];
	struct config c;

	snprintf(flag, sizeof(flag), "--%s", option);
	snprintf(name, sizeof(name), "%s %s", flag, value);
	config_init(&c);
	if (ASSERT_EQ(parse(&c, err, sizeof(err), flag, value, NULL), 0, name))
		ASSERT_EQ(*(uint32_t *)((char *)&c + offset), expected, name);
	else
		fprintf(stderr, "  message: %s\n", err);
	config_done(&c);
}

static void test_numeric_ranges(void)
{
	static const char *const bad_interval[] = {
		"0", "3601", "abc", "", "-1", "99999999999", "5x", " 5", "5 ", "+5",
		"0x10", "4294967297", "18446744073709551617", "1e3", "5.0",
	};
	static const struct {
		const char *option;
		size_t offset;
		uint32_t min, max;
	} ranges[] = {
		{ "interval", offsetof(struct config, interval_s), 1, 3600 },
		{ "duration", offsetof(struct config, duration_s), 0, UINT32_MAX },
		{ "shadow-entries", offsetof(struct config, shadow_entries), 1024, 1U << 24 },
		{ "evict-entries", offsetof(struct config, evict_entries), 16, 1U << 22 },
		{ "add-entries", offsetof(struct config, add_entries), 16, 1U << 22 },
		{ "refault-entries", offsetof(struct config, refault_entries), 16, 1U << 22 },
		{ "exec-entries", offsetof(struct config, exec_entries), 16, 1U << 22 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad_interval); i++)
		check_u32_rejected("interval", bad_interval[i]);

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		char v[32];

		snprintf(v, sizeof(v), "%u", ranges[i].min);
		check_u32_accepted(ranges[i].option, v, ranges[i].min, ranges[i].offset);
		snprintf(v, sizeof(v), "%u", ranges[i].max);
		check_u32_accepted(ranges[i].option, v, ranges[i].max, ranges[i].offset);
		if (ranges[i].min > 0) {
			snprintf(v, sizeof(v), "%u", ranges[i].min - 1);
			check_u32_rejected(ranges[i].option, v);
		}
		snprintf(v, sizeof(v), "%llu", (unsigned long long)ranges[i].max + 1);
		check_u32_rejected(ranges[i].option, v);
		check_u32_rejected(ranges[i].option, "-1");
		check_u32_rejected(ranges[i].option, "");
	}
	/* Leading zeros are still decimal. */
	check_u32_accepted("interval", "0010", 10, offsetof(struct config, interval_s));
}

static void test_strings(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "--db", "/tmp/a.db", "--btf=/tmp/vmlinux", NULL),
		  0, "--db and --btf");
	ASSERT_STREQ(c.db_path, "/tmp/a.db", "--db value");
	ASSERT_STREQ(c.btf_path, "/tmp/vmlinux", "--btf= value");
	/* Replacing a string frees the old one (valgrind checks). */
	ASSERT_EQ(parse(&c, err, sizeof(err), "--db=/tmp/b.db", "--db", "/tmp/c.db", NULL), 0,
		  "--db twice");
	ASSERT_STREQ(c.db_path, "/tmp/c.db", "last --db wins");
	/* A value may start with '-' and contain '='. */
	ASSERT_EQ(parse(&c, err, sizeof(err), "--db", "-odd=name", NULL), 0, "--db -odd=name");
	ASSERT_STREQ(c.db_path, "-odd=name", "--db takes the next argument verbatim");

	ASSERT_ERR(parse(&c, err, sizeof(err), "--db=", NULL), -EINVAL, "--db=");
	contains(err, "--db", "--db= message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--db", "", NULL), -EINVAL, "--db ''");
	contains(err, "--db", "--db '' message");
	ASSERT_STREQ(c.db_path, "-odd=name", "db kept after a refused value");
	config_done(&c);
}

static void test_bad_arguments(void)
{
	char err[512], longname[200];
	struct config c;

	config_init(&c);
	ASSERT_ERR(parse(&c, err, sizeof(err), "--frobnicate", NULL), -EINVAL, "unknown option");
	contains(err, "--frobnicate", "unknown option message");
	contains(err, "unknown option", "unknown option message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--frobnicate=3", NULL), -EINVAL,
		   "unknown option with value");
	contains(err, "--frobnicate", "unknown option with value message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "-x", NULL), -EINVAL, "unknown short option");
	contains(err, "-x", "unknown short option message");
	/* Prefixes of option names are not abbreviations. */
	ASSERT_ERR(parse(&c, err, sizeof(err), "--int", "5", NULL), -EINVAL, "--int");
	contains(err, "--int", "--int message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--intervalx=5", NULL), -EINVAL, "--intervalx");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--INTERVAL", "5", NULL), -EINVAL, "--INTERVAL");
	/* A very long name is refused, not truncated into a known one. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memcpy(longname, "--interval", strlen("--interval"));
	ASSERT_ERR(parse(&c, err, sizeof(err), longname, "5", NULL), -EINVAL,
		   "very long option name");
	longname[64 + 2] = 0;
	ASSERT_ERR(parse(&c, err, sizeof(err), longname, "5", NULL), -EINVAL,
		   "64-character option name");

	ASSERT_ERR(parse(&c, err, sizeof(err), "stray", NULL), -EINVAL, "stray argument");
	contains(err, "stray", "stray argument message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "-v", "stray", NULL), -EINVAL,
		   "stray argument after a flag");
	contains(err, "\"stray\"", "stray argument after a flag message");
	/* "--interval 5 6": the 6 is a stray argument. */
	ASSERT_ERR(parse(&c, err, sizeof(err), "--interval", "5", "6", NULL), -EINVAL,
		   "extra value");
	contains(err, "\"6\"", "extra value message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "-", NULL), -EINVAL, "lone dash");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--", NULL), -EINVAL, "lone double dash");

	/* Missing values. */
	ASSERT_ERR(parse(&c, err, sizeof(err), "--interval", NULL), -EINVAL, "--interval at end");
	contains(err, "--interval", "missing value message");
	contains(err, "needs a value", "missing value message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "-v", "--db", NULL), -EINVAL, "--db at end");
	contains(err, "--db", "--db missing value message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--reclaim-context", NULL), -EINVAL,
		   "--reclaim-context at end");
	contains(err, "--reclaim-context", "--reclaim-context missing value message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--config", NULL), -EINVAL, "--config at end");
	contains(err, "--config", "--config missing value message");

	ASSERT_EQ(c.interval_s, 10, "interval untouched by refused command lines");
	ASSERT_STREQ(c.db_path, CW_DEFAULT_DB, "db untouched by refused command lines");
	ASSERT_NULL(c.config_path, "no config path from refused command lines");
	config_done(&c);
}

static void test_flags(void)
{
	struct config c;
	char err[256];

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "-v", NULL), 0, "-v");
	ASSERT_TRUE(c.verbose, "-v sets verbose");
	ASSERT_FALSE(c.help, "-v leaves help");
	ASSERT_FALSE(c.version, "-v leaves version");
	config_done(&c);

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "-h", NULL), 0, "-h");
	ASSERT_TRUE(c.help, "-h sets help");
	ASSERT_FALSE(c.verbose, "-h leaves verbose");
	config_done(&c);

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "-V", NULL), 0, "-V");
	ASSERT_TRUE(c.version, "-V sets version");
	ASSERT_FALSE(c.help, "-V leaves help");
	config_done(&c);

	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "--verbose", "--help", "--version", NULL), 0,
		  "long flags");
	ASSERT_TRUE(c.verbose && c.help && c.version, "long flags set all three");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--verbose=no", NULL), 0, "--verbose=no");
	ASSERT_FALSE(c.verbose, "--verbose=no clears verbose");
	ASSERT_EQ(parse(&c, err, sizeof(err), "--verbose=yes", NULL), 0, "--verbose=yes");
	ASSERT_TRUE(c.verbose, "--verbose=yes sets verbose");
	ASSERT_EQ(parse(&c, err, sizeof(err), "-v", "--verbose=off", NULL), 0, "-v --verbose=off");
	ASSERT_FALSE(c.verbose, "later --verbose=off wins over -v");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--verbose=maybe", NULL), -EINVAL,
		   "--verbose=maybe");
	contains(err, "--verbose", "--verbose=maybe message");
	contains(err, "maybe", "--verbose=maybe message");
	ASSERT_ERR(parse(&c, err, sizeof(err), "--verbose=", NULL), -EINVAL, "--verbose=");
	contains(err, "--verbose", "--verbose= message");
	/* A flag does not swallow the next argument as its value. */
	ASSERT_ERR(parse(&c, err, sizeof(err), "--verbose", "no", NULL), -EINVAL,
		   "--verbose no");
	contains(err, "\"no\"", "--verbose no message");
	/* Short flags cannot be bundled or take values. */
	ASSERT_ERR(parse(&c, err, sizeof(err), "-vV", NULL), -EINVAL, "-vV");
	config_done(&c);
}

static void test_reclaim_context(void)
{
	static const struct {
		const char *value;
		enum reclaim_ctx_mode mode;
	} good[] = {
		{ "scan-control", RECLAIM_CTX_SCAN_CONTROL },
		{ "auto", RECLAIM_CTX_AUTO },
		{ "brackets", RECLAIM_CTX_BRACKETS },
	};
	static const char *const bad[] = { "", "Auto", "scan_control", "bracket", "1", "none" };
	struct config c;
	char err[256], arg[64];

	config_init(&c);
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		ASSERT_EQ(parse(&c, err, sizeof(err), "--reclaim-context", good[i].value, NULL), 0,
			  good[i].value);
		ASSERT_EQ(c.reclaim_ctx, good[i].mode, good[i].value);
	}
	ASSERT_EQ(parse(&c, err, sizeof(err), "--reclaim-context=brackets", NULL), 0,
		  "--reclaim-context=brackets");
	ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_BRACKETS, "--reclaim-context=brackets");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(arg, sizeof(arg), "--reclaim-context=%s", bad[i]);
		ASSERT_ERR(parse(&c, err, sizeof(err), arg, NULL), -EINVAL, arg);
		contains(err, "--reclaim-context", arg);
		contains(err, "scan-control", arg);
		ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_BRACKETS, "mode kept after a bad value");
	}
	config_done(&c);
}

static void test_config_file(void)
{
	char path[512], err[512];
	struct config c;

	/* Every accepted spelling, comments, blank lines, CRLF. */
	if (!write_file("good.conf",
			"# cachewatchd test configuration\n"
			"\n"
			"   # an indented comment\n"
			"interval = 7\n"
			"duration 120\n"
			"  db=/tmp/from-file.db  \n"
			"btf\t=\t/tmp/vmlinux-file\n"
			"shadow-entries   =2048\n"
			"evict-entries= 32\n"
			"add-entries 64\r\n"
			"refault-entries\t128\n"
			"exec-entries = 256\n"
			"reclaim-context = scan-control\n"
			"\t\n"
			"verbose\n",
			path, sizeof(path)))
		return;
	config_init(&c);
	err[0] = 0;
	if (ASSERT_EQ(config_load_file(&c, path, err, sizeof(err)), 0, "good config file")) {
		ASSERT_EQ(c.interval_s, 7, "file interval");
		ASSERT_EQ(c.duration_s, 120, "file duration (space separated)");
		ASSERT_STREQ(c.db_path, "/tmp/from-file.db", "file db (no spaces, trimmed)");
		ASSERT_STREQ(c.btf_path, "/tmp/vmlinux-file", "file btf (tabs)");
		ASSERT_EQ(c.shadow_entries, 2048, "file shadow-entries");
		ASSERT_EQ(c.evict_entries, 32, "file evict-entries");
		ASSERT_EQ(c.add_entries, 64, "file add-entries (CRLF)");
		ASSERT_EQ(c.refault_entries, 128, "file refault-entries (tab)");
		ASSERT_EQ(c.exec_entries, 256, "file exec-entries");
		ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_SCAN_CONTROL, "file reclaim-context");
		ASSERT_TRUE(c.verbose, "bare verbose in a file");
	} else {
		fprintf(stderr, "  message: %s\n", err);
	}
	ASSERT_NULL(c.config_path, "loading a file does not set config_path");
	config_done(&c);

	/* "verbose = no" after "verbose"; an empty file changes nothing. */
	if (write_file("flags.conf", "verbose\nverbose = no\n", path, sizeof(path))) {
		config_init(&c);
		c.verbose = true;
		ASSERT_EQ(config_load_file(&c, path, err, sizeof(err)), 0, "verbose = no");
		ASSERT_FALSE(c.verbose, "verbose = no clears verbose");
		config_done(&c);
	}
	if (write_file("empty.conf", "", path, sizeof(path))) {
		config_init(&c);
		ASSERT_EQ(config_load_file(&c, path, err, sizeof(err)), 0, "empty file");
		ASSERT_EQ(c.interval_s, 10, "empty file keeps the defaults");
		ASSERT_STREQ(c.db_path, CW_DEFAULT_DB, "empty file keeps the default db");
		config_done(&c);
	}
}

/* A file whose line `line` is wrong: -EINVAL, "path:line:" and the needles. */
static void check_bad_file(const char *name, const char *text, unsigned line,
			   const char *needle1, const char *needle2)
{
	char path[512], err[512], prefix[600];
	struct config c;

	if (!write_file(name, text, path, sizeof(path)))
		return;
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	config_init(&c);
	err[0] = 0;
	ASSERT_ERR(config_load_file(&c, path, err, sizeof(err)), -EINVAL, name);
	test_checks++;
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		TEST_FAIL_("%s: message \"%s\" does not start with \"%s\"", name, err, prefix);
	if (needle1)
		contains(err, needle1, name);
	if (needle2)
		contains(err, needle2, name);
	config_done(&c);
}

static void test_config_file_errors(void)
{
	char path[512], err[512];
	struct config c;

	check_bad_file("unknown.conf", "# comment\n\nfrobnicate = 1\n", 3, "frobnicate",
		       "unknown option");
	check_bad_file("badvalue.conf", "interval = 5\n\n\n# x\ninterval = 0\n", 5, "--interval",
		       "\"0\"");
	check_bad_file("badrange.conf", "evict-entries = 15\n", 1, "--evict-entries", "\"15\"");
	check_bad_file("help.conf", "interval 5\nhelp\n", 2, "help", NULL);
	check_bad_file("version.conf", "version = yes\n", 1, "version", NULL);
	check_bad_file("config.conf", "\nconfig = /etc/other.conf\n", 2, "config", NULL);
	check_bad_file("novalue.conf", "interval\n", 1, "interval", "needs a value");
	check_bad_file("novalue2.conf", "db =\n", 1, "db", "needs a value");
	check_bad_file("badflag.conf", "verbose = perhaps\n", 1, "--verbose", "perhaps");
	check_bad_file("badctx.conf", "reclaim-context = sometimes\n", 1, "--reclaim-context",
		       "sometimes");
	check_bad_file("dashes.conf", "--interval = 5\n", 1, "--interval", "unknown option");
	check_bad_file("emptyflag.conf", "verbose =\n", 1, "verbose", "needs a value");

	/* A missing file: -ENOENT and the path in the message. */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpdir);
	config_init(&c);
	err[0] = 0;
	ASSERT_ERR(config_load_file(&c, path, err, sizeof(err)), -ENOENT, "missing config file");
	contains(err, path, "missing config file message");
	err[0] = 0;
	ASSERT_ERR(parse(&c, err, sizeof(err), "--config", path, NULL), -ENOENT,
		   "--config missing file");
	contains(err, path, "--config missing file message");
	/* A directory opens but cannot be read. */
	err[0] = 0;
	ASSERT_TRUE(config_load_file(&c, tmpdir, err, sizeof(err)) < 0, "directory as config file");
	contains(err, tmpdir, "directory as config file message");
	config_done(&c);
}

/* Command-line flags override the file whatever their position. */
static void test_override(void)
{
	char path[512], arg[600], err[512];
	struct config c;

	if (!write_file("override.conf",
			"interval = 7\nduration = 120\ndb = /tmp/file.db\nverbose\n"
			"reclaim-context = brackets\n",
			path, sizeof(path)))
		return;

	/* The file alone. */
	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "--config", path, NULL), 0, "--config alone");
	ASSERT_STREQ(c.config_path, path, "config_path set");
	ASSERT_EQ(c.interval_s, 7, "file interval applies");
	ASSERT_STREQ(c.db_path, "/tmp/file.db", "file db applies");
	ASSERT_TRUE(c.verbose, "file verbose applies");
	config_done(&c);

	/* Flags before --config. */
	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), "--interval", "3", "--db=/tmp/cli.db",
			"--verbose=no", "--reclaim-context", "auto", "--config", path, NULL),
		  0, "flags before --config");
	ASSERT_EQ(c.interval_s, 3, "flag before --config wins (interval)");
	ASSERT_STREQ(c.db_path, "/tmp/cli.db", "flag before --config wins (db)");
	ASSERT_FALSE(c.verbose, "flag before --config wins (verbose)");
	ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_AUTO, "flag before --config wins (reclaim)");
	ASSERT_EQ(c.duration_s, 120, "file value not given on the command line applies");
	config_done(&c);

	/* Flags after --config=FILE. */
	snprintf(arg, sizeof(arg), "--config=%s", path);
	config_init(&c);
	ASSERT_EQ(parse(&c, err, sizeof(err), arg, "--interval=4", "--db", "/tmp/cli2.db",
			"--verbose=0", "--reclaim-context=scan-control", NULL),
		  0, "flags after --config");
	ASSERT_EQ(c.interval_s, 4, "flag after --config wins (interval)");
	ASSERT_STREQ(c.db_path, "/tmp/cli2.db", "flag after --config wins (db)");
	ASSERT_FALSE(c.verbose, "flag after --config wins (verbose)");
	ASSERT_EQ(c.reclaim_ctx, RECLAIM_CTX_SCAN_CONTROL, "flag after --config wins (reclaim)");
	ASSERT_EQ(c.duration_s, 120, "file duration applies");
	ASSERT_STREQ(c.config_path, path, "config_path from --config=");
	config_done(&c);

	/* An error in the file is reported even when flags are fine. */
	if (write_file("broken.conf", "interval = 9000\n", path, sizeof(path))) {
		char prefix[600];

		snprintf(prefix, sizeof(prefix), "%s:1: ", path);
		config_init(&c);
		ASSERT_ERR(parse(&c, err, sizeof(err), "--interval", "3", "--config", path, NULL),
			   -EINVAL, "broken file with good flags");
		contains(err, prefix, "broken file message has file:line");
		config_done(&c);
	}
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -errno : 0;
}

static int remove_tmpdir(void)
{
	return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return TEST_HARD_ERROR;
	}
	test_defaults();
	test_interval_syntax();
	test_numeric_ranges();
	test_strings();
	test_bad_arguments();
	test_flags();
	test_reclaim_context();
	test_config_file();
	test_config_file_errors();
	test_override();
	if (remove_tmpdir() != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	return test_exit();
}
