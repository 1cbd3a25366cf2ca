// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the memory.stat reader (daemon/memstat.c): every field mapped
 * from a real cgroup v1 memory.stat (tests/fixtures/memstat/v1-memory.stat,
 * copied from a v1 host) and a full cgroup v2 one (v2-memory.stat), the
 * fields that must stay -1, and memstat_read on temporary directories laid
 * out like a v1 and a v2 cgroup (usage, limit with v1's "unlimited" value and
 * v2's "max", limit hits from memory.failcnt or memory.events).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memstat.h"
#include "test.h"
#include "util.h"

static char tmpdir[] = "/tmp/cw-test-memstat.XXXXXX";

#define NFIELDS (sizeof(struct memstat) / sizeof(int64_t))

/* $srcdir/tests/fixtures/memstat/<name>, read whole; NULL on error. */
static char *read_fixture(const char *name)
{
	const char *srcdir = getenv("srcdir");
	_cleanup_fclose_ FILE *f = NULL;
	char path[4096], *text = NULL;
	size_t cap = 0;

	if (!srcdir || !*srcdir)
		srcdir = ".";
	snprintf(path, sizeof(path), "%s/tests/fixtures/memstat/%s", srcdir, name);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "cannot read fixture %s: %m\n", path);
		return NULL;
	}
	if (getdelim(&text, &cap, 0, f) < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static bool write_at(int dirfd, const char *name, const char *text)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
					0644);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		return TEST_FAIL_("cannot write %s: %m", name);
	return true;
}

/* Make tmpdir/name and return an O_DIRECTORY fd on it. */
static int make_dir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if (mkdir(path, 0755) < 0)
		return -errno;
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Field names, for messages, in struct order. */
static const char *const field_names[] = {
	"anon",        "file",          "total_anon",   "total_file",         "mapped_file",
	"active_file", "inactive_file", "refault_file", "total_refault_file", "pgmajfault",
	"usage",       "limit",         "failcnt",
};

_Static_assert(sizeof(field_names) / sizeof(field_names[0]) == NFIELDS, "field list");

/* Compare every field of m with expected, naming the ones that differ. */
static bool check_fields(const struct memstat *m, const struct memstat *expected,
			 const char *what)
{
	const int64_t *a = (const int64_t *)m, *e = (const int64_t *)expected;
	bool ok = true;

	for (size_t i = 0; i < NFIELDS; i++) {
		test_checks++;
		if (a[i] != e[i])
			ok = TEST_FAIL_("%s: %s = %" PRId64 ", expected %" PRId64, what,
					field_names[i], a[i], e[i]);
	}
	return ok;
}

/* What the v1 fixture must give: the total_* keys, never the per-cgroup
 * mapped_file/active_file/inactive_file/pgmajfault that precede them. */
static void v1_expected(struct memstat *e)
{
	memstat_init(e);
	e->file = 9240576;                /* cache */
	e->anon = 4202496;                /* rss */
	e->total_file = 329428992;        /* total_cache */
	e->total_anon = 11284480;         /* total_rss */
	e->mapped_file = 66191360;        /* total_mapped_file, not mapped_file 7581696 */
	e->active_file = 153866240;       /* total_active_file, not active_file 143360 */
	e->inactive_file = 166473728;     /* total_inactive_file, not inactive_file 12288 */
	e->refault_file = 1556;           /* workingset_refault_file */
	e->total_refault_file = 3884650;  /* total_workingset_refault_file */
	e->pgmajfault = 4942;             /* total_pgmajfault, not pgmajfault 0 */
}

/* The v2 fixture: hierarchical values only, own anon/file left to the caller. */
static void v2_expected(struct memstat *e)
{
	memstat_init(e);
	e->total_file = 2734800896;       /* file */
	e->total_anon = 1459982336;       /* anon */
	e->mapped_file = 412241920;       /* file_mapped */
	e->active_file = 872525824;
	e->inactive_file = 1850216448;
	e->total_refault_file = 382714;   /* workingset_refault_file */
	e->pgmajfault = 18237;
}

static void test_init(void)
{
	struct memstat m;
	const int64_t *f = (const int64_t *)&m;
	bool ok = true;

	memset(&m, 0x5a, sizeof(m));
	memstat_init(&m);
	for (size_t i = 0; i < NFIELDS; i++)
		if (f[i] != -1)
			ok = TEST_FAIL_("memstat_init: %s = %" PRId64, field_names[i], f[i]);
	test_checks++;
	ASSERT_TRUE(ok, "memstat_init sets every field to -1");
}

static void test_parse_fixtures(void)
{
	_cleanup_free_ char *v1 = read_fixture("v1-memory.stat");
	_cleanup_free_ char *v2 = read_fixture("v2-memory.stat");
	struct memstat m, e;

	if (!ASSERT_NOT_NULL(v1, "v1 fixture") || !ASSERT_NOT_NULL(v2, "v2 fixture"))
		return;

	memstat_init(&m);
	memstat_parse(&m, false, v1);
	v1_expected(&e);
	check_fields(&m, &e, "v1 fixture");

	memstat_init(&m);
	memstat_parse(&m, true, v2);
	v2_expected(&e);
	check_fields(&m, &e, "v2 fixture");

	/* Parsing adds to what is there: fields the text lacks keep their value. */
	memstat_init(&m);
	m.usage = 123;
	m.anon = 77;
	memstat_parse(&m, true, v2);
	ASSERT_EQ(m.usage, 123, "parse leaves usage alone");
	ASSERT_EQ(m.anon, 77, "v2 parse leaves own anon alone");
}

static void test_apply(void)
{
	struct memstat m, e;

	/* v1 names in v2 mode and v2 names in v1 mode are ignored. */
	memstat_init(&m);
	memstat_apply(&m, true, "cache", 1);
	memstat_apply(&m, true, "rss", 2);
	memstat_apply(&m, true, "total_cache", 3);
	memstat_apply(&m, true, "total_rss", 4);
	memstat_apply(&m, true, "total_mapped_file", 5);
	memstat_apply(&m, true, "total_pgmajfault", 6);
	memstat_apply(&m, false, "file", 7);
	memstat_apply(&m, false, "anon", 8);
	memstat_apply(&m, false, "file_mapped", 9);
	memstat_apply(&m, false, "active_file", 10);
	memstat_apply(&m, false, "inactive_file", 11);
	memstat_apply(&m, false, "mapped_file", 12);
	memstat_apply(&m, false, "pgmajfault", 13);
	memstat_apply(&m, false, "unknown_key", 14);
	memstat_apply(&m, true, "unknown_key", 15);
	memstat_apply(&m, true, "", 16);
	memstat_apply(&m, true, "fil", 17);
	memstat_apply(&m, true, "files", 18);
	memstat_init(&e);
	check_fields(&m, &e, "names of the other version are ignored");

	/* Each v1 name sets exactly its one field. */
	{
		static const struct {
			const char *key;
			size_t field;
		} v1[] = {
			{ "cache", 1 },
			{ "rss", 0 },
			{ "total_cache", 3 },
			{ "total_rss", 2 },
			{ "total_mapped_file", 4 },
			{ "total_active_file", 5 },
			{ "total_inactive_file", 6 },
			{ "workingset_refault_file", 7 },
			{ "total_workingset_refault_file", 8 },
			{ "total_pgmajfault", 9 },
		}, v2[] = {
			{ "anon", 2 },
			{ "file", 3 },
			{ "file_mapped", 4 },
			{ "active_file", 5 },
			{ "inactive_file", 6 },
			{ "workingset_refault_file", 8 },
			{ "pgmajfault", 9 },
		};

		for (size_t i = 0; i < ARRAY_SIZE(v1); i++) {
			memstat_init(&m);
			memstat_init(&e);
			memstat_apply(&m, false, v1[i].key, 1000 + (int64_t)i);
			((int64_t *)&e)[v1[i].field] = 1000 + (int64_t)i;
			check_fields(&m, &e, v1[i].key);
		}
		for (size_t i = 0; i < ARRAY_SIZE(v2); i++) {
			memstat_init(&m);
			memstat_init(&e);
			memstat_apply(&m, true, v2[i].key, 2000 + (int64_t)i);
			((int64_t *)&e)[v2[i].field] = 2000 + (int64_t)i;
			check_fields(&m, &e, v2[i].key);
		}
	}

	/* Large values survive (64-bit). */
	memstat_init(&m);
	memstat_parse(&m, true, "file 9007199254740993\n");
	ASSERT_EQ(m.total_file, 9007199254740993LL, "64-bit value");
}

static void test_parse_edges(void)
{
	char longline[300];
	_cleanup_free_ char *text = NULL;
	struct memstat m;

	/* No trailing newline; key without value; garbage; blank lines. */
	memstat_init(&m);
	memstat_parse(&m, false, "cache 5\n\nrss\ntotal_rss x\ngarbage line here\ntotal_cache 9");
	ASSERT_EQ(m.file, 5, "first line");
	ASSERT_EQ(m.anon, -1, "key without value");
	ASSERT_EQ(m.total_anon, -1, "non-numeric value");
	ASSERT_EQ(m.total_file, 9, "last line without newline");

	memstat_init(&m);
	memstat_parse(&m, true, "");
	ASSERT_EQ(m.total_file, -1, "empty text");

	/* An over-long line is skipped, the next one still read. */
	memset(longline, 'k', sizeof(longline));
	memcpy(longline + sizeof(longline) - 4, " 42", 4);
	if (asprintf(&text, "anon 11\n%s\nfile 22\n", longline) > 0) {
		memstat_init(&m);
		memstat_parse(&m, true, text);
		ASSERT_EQ(m.total_anon, 11, "line before a long line");
		ASSERT_EQ(m.total_file, 22, "line after a long line");
	}
}

static void test_read_v1(void)
{
	_cleanup_free_ char *v1 = read_fixture("v1-memory.stat");
	_cleanup_close_ int dfd = make_dir("v1"), dfd2 = make_dir("v1-limited"),
			    dfd3 = make_dir("v1-bare");
	struct memstat m, e;

	if (!ASSERT_NOT_NULL(v1, "v1 fixture") || !ASSERT_TRUE(dfd >= 0, "v1 dir") ||
	    !ASSERT_TRUE(dfd2 >= 0, "v1-limited dir") || !ASSERT_TRUE(dfd3 >= 0, "v1-bare dir"))
		return;

	/* Unlimited: PAGE_COUNTER_MAX pages in bytes on 4 KiB pages. */
	if (write_at(dfd, "memory.stat", v1) &&
	    write_at(dfd, "memory.usage_in_bytes", "104857600\n") &&
	    write_at(dfd, "memory.limit_in_bytes", "9223372036854771712\n") &&
	    write_at(dfd, "memory.failcnt", "17\n") &&
	    /* v2 names in a v1 directory must not be read */
	    write_at(dfd, "memory.current", "1\n") && write_at(dfd, "memory.max", "2\n") &&
	    write_at(dfd, "memory.events", "low 0\nhigh 0\nmax 3\noom 0\n")) {
		memset(&m, 0, sizeof(m));
		ASSERT_EQ(memstat_read(&m, dfd, false), 0, "memstat_read v1");
		v1_expected(&e);
		e.usage = 104857600;
		e.limit = -1;
		e.failcnt = 17;
		check_fields(&m, &e, "memstat_read v1 unlimited");
	}

	if (write_at(dfd2, "memory.stat", v1) &&
	    write_at(dfd2, "memory.usage_in_bytes", "536866816\n") &&
	    write_at(dfd2, "memory.limit_in_bytes", "536870912\n") &&
	    write_at(dfd2, "memory.failcnt", "0\n")) {
		ASSERT_EQ(memstat_read(&m, dfd2, false), 0, "memstat_read v1 limited");
		v1_expected(&e);
		e.usage = 536866816;
		e.limit = 536870912;
		e.failcnt = 0;
		check_fields(&m, &e, "memstat_read v1 with a limit");
	}

	/* Only memory.stat: the rest is "not reported", not an error. */
	if (write_at(dfd3, "memory.stat", "cache 4096\nrss 8192\n")) {
		memset(&m, 0, sizeof(m));
		ASSERT_EQ(memstat_read(&m, dfd3, false), 0, "memstat_read v1 bare");
		memstat_init(&e);
		e.file = 4096;
		e.anon = 8192;
		check_fields(&m, &e, "memstat_read v1 without limit files");
	}
}

static void test_read_v2(void)
{
	_cleanup_free_ char *v2 = read_fixture("v2-memory.stat");
	_cleanup_close_ int dfd = make_dir("v2"), dfd2 = make_dir("v2-limited"),
			    dfd3 = make_dir("v2-noevents");
	struct memstat m, e;

	if (!ASSERT_NOT_NULL(v2, "v2 fixture") || !ASSERT_TRUE(dfd >= 0, "v2 dir") ||
	    !ASSERT_TRUE(dfd2 >= 0, "v2-limited dir") || !ASSERT_TRUE(dfd3 >= 0, "v2-noevents dir"))
		return;

	if (write_at(dfd, "memory.stat", v2) && write_at(dfd, "memory.current", "4294967296\n") &&
	    write_at(dfd, "memory.max", "max\n") &&
	    write_at(dfd, "memory.events",
		     "low 0\nhigh 12\nmax 34\noom 2\noom_kill 1\noom_group_kill 0\n") &&
	    /* v1 names in a v2 directory must not be read */
	    write_at(dfd, "memory.usage_in_bytes", "1\n") &&
	    write_at(dfd, "memory.limit_in_bytes", "2\n") &&
	    write_at(dfd, "memory.failcnt", "3\n")) {
		memset(&m, 0, sizeof(m));
		ASSERT_EQ(memstat_read(&m, dfd, true), 0, "memstat_read v2");
		v2_expected(&e);
		e.usage = 4294967296;
		e.limit = -1;
		e.failcnt = 34;
		check_fields(&m, &e, "memstat_read v2 max");
	}

	if (write_at(dfd2, "memory.stat", v2) && write_at(dfd2, "memory.current", "0\n") &&
	    write_at(dfd2, "memory.max", "1073741824\n") &&
	    write_at(dfd2, "memory.events",
		     "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")) {
		ASSERT_EQ(memstat_read(&m, dfd2, true), 0, "memstat_read v2 limited");
		v2_expected(&e);
		e.usage = 0;
		e.limit = 1073741824;
		e.failcnt = 0;
		check_fields(&m, &e, "memstat_read v2 with a limit");
	}

	/* memory.events without a max line; no memory.current. */
	if (write_at(dfd3, "memory.stat", "anon 4096\nfile 8192\n") &&
	    write_at(dfd3, "memory.max", "max\n") &&
	    write_at(dfd3, "memory.events", "low 0\nhigh 5\noom 0\n")) {
		ASSERT_EQ(memstat_read(&m, dfd3, true), 0, "memstat_read v2 without max events");
		memstat_init(&e);
		e.total_anon = 4096;
		e.total_file = 8192;
		check_fields(&m, &e, "memstat_read v2 without a max line");
	}
}

static void test_read_missing(void)
{
	_cleanup_close_ int dfd = make_dir("empty");
	struct memstat m;

	if (!ASSERT_TRUE(dfd >= 0, "empty dir"))
		return;
	/* Limit files alone do not make a cgroup. */
	write_at(dfd, "memory.current", "4096\n");
	memset(&m, 0, sizeof(m));
	ASSERT_ERR(memstat_read(&m, dfd, true), -ENOENT, "v2 dir without memory.stat");
	ASSERT_ERR(memstat_read(&m, dfd, false), -ENOENT, "v1 dir without memory.stat");
	ASSERT_EQ(m.total_file, -1, "fields reset when memory.stat is missing");
	ASSERT_EQ(m.usage, -1, "usage not read when memory.stat is missing");
	ASSERT_ERR(memstat_read(&m, -1, true), -EBADF, "bad dirfd");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path) < 0 ? -errno : 0;
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return TEST_HARD_ERROR;
	}
	test_init();
	test_parse_fixtures();
	test_apply();
	test_parse_edges();
	test_read_v1();
	test_read_v2();
	test_read_missing();
	if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	return test_exit();
}
