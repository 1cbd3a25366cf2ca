/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit test of the file-path resolver (daemon/files.c): mountinfo parsing
 * and mount choice, /proc/PID/maps line parsing and the batch maps scan run
 * against the fixture proc dir in tests/fixtures/files/proc; resolution by
 * handle of a real file under /var/tmp when the process has
 * CAP_DAC_READ_SEARCH (that part alone is skipped otherwise).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/fs.h>

#include "files.h"
#include "test.h"
#include "util.h"

/* $srcdir/tests/fixtures/files/<rel>; automake sets srcdir. */
static char *fixture(const char *rel)
{
	const char *srcdir = getenv("srcdir");
	char *path;

	if (!srcdir || !*srcdir)
		srcdir = ".";
	if (asprintf(&path, "%s/tests/fixtures/files/%s", srcdir, rel) < 0)
		return NULL;
	return path;
}

static long count_lines(const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	return n;
}

static void check_mount(struct file_resolver *r, uint64_t dev, int id,
			const char *root, const char *mount_point,
			const char *fstype)
{
	struct file_mount m;
	char name[64];

	snprintf(name, sizeof(name), "mount of %u:%u", major(dev), minor(dev));
	if (!ASSERT_OK(file_resolver_find_mount(r, dev, &m), name))
		return;
	ASSERT_EQ(m.mount_id, id, name);
	ASSERT_STREQ(m.root, root, name);
	ASSERT_STREQ(m.mount_point, mount_point, name);
	ASSERT_STREQ(m.fstype, fstype, name);
}

/* 1. mountinfo: which mount is chosen per dev, escapes, odd lines. */
static void test_mountinfo(void)
{
	_cleanup_(file_resolver_freep) struct file_resolver *r = NULL;
	_cleanup_free_ char *proc = fixture("proc");
	struct file_resolver_stats st;
	struct file_mount m;
	char *path = NULL;
	bool deleted = false;

	if (!ASSERT_NOT_NULL(proc, "fixture path"))
		return;
	if (!ASSERT_OK(file_resolver_new(proc, &r), "file_resolver_new"))
		return;

	check_mount(r, makedev(253, 0), 1, "/", "/", "ext4");
	/* "/"-rooted beats the shorter /sub bind mount; shortest wins. */
	check_mount(r, makedev(8, 1), 31, "/", "/d", "ext4");
	/* Only subtree mounts: shortest; \040 decoded in root and point. */
	check_mount(r, makedev(8, 16), 40, "/vol one", "/data/my vol", "xfs");
	check_mount(r, makedev(8, 48), 42, "/", "/mnt/tab\tand\\back", "ext4");
	/* Several optional fields before "-". */
	check_mount(r, makedev(0, 45), 50, "/",
		    "/var/lib/docker/overlay2/3f2a/merged", "overlay");
	/* The line after a garbage line is still read. */
	check_mount(r, makedev(8, 32), 60, "/", "/mnt/bt", "btrfs");
	ASSERT_ERR(file_resolver_find_mount(r, makedev(9, 9), &m), -ENODEV,
		   "unknown dev");

	/* Refused before any system call: wrong fs type, 64-bit inode. */
	ASSERT_ERR(file_resolver_by_handle(r, makedev(0, 45), 12, 1, &path,
					   &deleted),
		   -EOPNOTSUPP, "overlay");
	ASSERT_ERR(file_resolver_by_handle(r, makedev(8, 32), 256, 1, &path,
					   &deleted),
		   -EOPNOTSUPP, "btrfs");
	ASSERT_ERR(file_resolver_by_handle(r, makedev(253, 0),
					   (uint64_t)UINT32_MAX + 1, 1, &path,
					   &deleted),
		   -EOPNOTSUPP, "ino > UINT32_MAX");
	file_resolver_get_stats(r, &st);
	ASSERT_EQ(st.handle_opens, 0, "no open_by_handle_at yet");
	ASSERT_EQ(st.mountinfo_loads, 1, "loaded once");

	/* A miss reloads mountinfo, once per call. */
	ASSERT_ERR(file_resolver_by_handle(r, makedev(9, 9), 12, 1, &path,
					   &deleted),
		   -ENODEV, "no mount");
	file_resolver_get_stats(r, &st);
	ASSERT_EQ(st.mountinfo_loads, 2, "reloaded on the miss");
	ASSERT_ERR(file_resolver_by_handle(r, makedev(9, 9), 12, 1, &path,
					   &deleted),
		   -ENODEV, "no mount again");
	file_resolver_get_stats(r, &st);
	ASSERT_EQ(st.mountinfo_loads, 3, "one reload per call");
	ASSERT_NULL(path, "no path on errors");

	ASSERT_OK(file_resolver_reload_mounts(r), "explicit reload");
	check_mount(r, makedev(8, 1), 31, "/", "/d", "ext4");
	ASSERT_NULL(file_resolver_free(NULL), "free(NULL)");
}

/* 2. maps_parse_line */
static void test_maps_parse_line(void)
{
	const char *path = NULL;
	uint64_t dev = 0, ino = 0;
	int ret;

	ret = maps_parse_line("56267c875000-56267c87a000 r-xp 00002000 fe:00 "
			      "247134                     /usr/bin/cat",
			      &dev, &ino, &path);
	ASSERT_EQ(ret, 1, "normal line");
	ASSERT_EQ(dev, makedev(254, 0), "normal dev");
	ASSERT_EQ(ino, 247134, "normal ino");
	ASSERT_STREQ(path, "/usr/bin/cat", "normal path");

	ret = maps_parse_line("7f1e2a200000-7f1e2a228000 r--s 00000000 08:01 "
			      "4242 /srv/a  b/My Documents/x y.pdf",
			      &dev, &ino, &path);
	ASSERT_EQ(ret, 1, "spaces");
	ASSERT_EQ(dev, makedev(8, 1), "spaces dev");
	ASSERT_EQ(ino, 4242, "spaces ino");
	ASSERT_STREQ(path, "/srv/a  b/My Documents/x y.pdf", "spaces path");

	/* Minor numbers above 0xff are printed with more digits. */
	ret = maps_parse_line("1000-2000 r--p 00000000 103:1a3 77 "
			      "/tmp/x (deleted)",
			      &dev, &ino, &path);
	ASSERT_EQ(ret, 1, "deleted");
	ASSERT_EQ(dev, makedev(0x103, 0x1a3), "wide dev");
	ASSERT_STREQ(path, "/tmp/x (deleted)", "suffix left to the caller");

	ret = maps_parse_line("562698e9b000-562698ebc000 rw-p 00000000 00:00 0"
			      "                          [heap]",
			      &dev, &ino, &path);
	ASSERT_EQ(ret, 0, "heap");
	ASSERT_EQ(ino, 0, "heap ino");
	ret = maps_parse_line("7fbf2de70000-7fbf2df34000 rw-p 00000000 "
			      "00:00 0 ", &dev, &ino, &path);
	ASSERT_EQ(ret, 0, "anonymous");
	ret = maps_parse_line("7fbf2de70000-7fbf2df34000 rw-p 00000000 00:00 0",
			      &dev, &ino, &path);
	ASSERT_EQ(ret, 0, "anonymous without blank");

	ret = maps_parse_line("1000-2000 r--p 00000000 08:01 12", &dev, &ino,
			      &path);
	ASSERT_EQ(ret, 1, "file without a name");
	ASSERT_STREQ(path, "", "empty name");

	static const char *const bad[] = {
		"",
		"garbage",
		"1000 r--p 00000000 08:01 12 /x",
		"1000-2000 r--p 00000000 08:01 /x",
		"1000-2000 r--p 00000000 0801 12 /x",
		"1000-2000 rwz 00000000 08:01 12 /x",
		"1000-2000 r--q 00000000 08:01 12 /x",
		"1000-2000 r--p 0000000g 08:01 12 /x",
		"1000-2000 r--p 00000000 08:01 12x /x",
		"1000-2000 r--p 00000000 08:01 -12 /x",
		"2000-1000 r--p 00000000 08:01 12 /x",
		"1000-2000  r--p 00000000 08:01 12 /x",
		"1000-2000 r--p 00000000 08:01 99999999999999999999999 /x",
		"1000-2000 r--p",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char name[80];

		snprintf(name, sizeof(name), "malformed \"%s\"", bad[i]);
		ASSERT_ERR(maps_parse_line(bad[i], &dev, &ino, &path), -EINVAL,
			   name);
	}
}

/* 3. the batch maps scan over the fixture proc dir */
static void test_scan_maps(void)
{
	_cleanup_(file_resolver_freep) struct file_resolver *r = NULL;
	_cleanup_free_ char *proc = fixture("proc");
	_cleanup_free_ char *maps123 = fixture("proc/123/maps");
	_cleanup_free_ char *maps456 = fixture("proc/456/maps");
	_cleanup_free_ char *keep = strdup("/already/known");
	struct file_resolver_stats before, after;
	struct file_query q[] = {
		{ makedev(253, 0), 1311, NULL, false },
		{ makedev(8, 1), 4242, NULL, false },
		{ makedev(8, 1), 5151, NULL, false },
		{ makedev(8, 16), 99, NULL, false },
		{ makedev(253, 0), 999999, NULL, false }, /* in self/ only */
		{ makedev(8, 2), 4242, NULL, false }, /* no such dev */
		{ makedev(253, 0), 1311, NULL, false }, /* same as q[0] */
		{ makedev(8, 1), 77, NULL, false }, /* path preset */
		{ makedev(0, 0), 0, NULL, false }, /* anonymous */
		{ makedev(8, 1), 1311, NULL, false }, /* q[0]'s ino */
	};
	struct file_query one[] = { { makedev(253, 0), 1311, NULL, false } };
	long total_lines;
	int ret;

	if (!ASSERT_NOT_NULL(proc, "fixture path") ||
	    !ASSERT_NOT_NULL(keep, "strdup"))
		return;
	if (!ASSERT_OK(file_resolver_new(proc, &r), "file_resolver_new"))
		return;

	q[7].path = TAKE_PTR(keep);
	ret = file_resolver_scan_maps(r, q, ARRAY_SIZE(q));
	ASSERT_EQ(ret, 6, "resolved");
	ASSERT_STREQ(q[0].path, "/usr/bin/cat", "q0");
	ASSERT_FALSE(q[0].deleted, "q0 deleted");
	ASSERT_STREQ(q[1].path, "/srv/data disk/My Documents/report 2024.pdf",
		     "q1 spaces");
	ASSERT_FALSE(q[1].deleted, "q1 deleted");
	ASSERT_STREQ(q[2].path, "/srv/data disk/tmp/scratch.db", "q2 deleted");
	ASSERT_TRUE(q[2].deleted, "q2 deleted");
	ASSERT_STREQ(q[3].path, "/data/my vol/lib.so", "q3 second process");
	ASSERT_NULL(q[4].path, "q4 only in self/maps");
	ASSERT_NULL(q[5].path, "q5 other dev");
	ASSERT_STREQ(q[6].path, "/usr/bin/cat", "q6 duplicate");
	ASSERT_STREQ(q[7].path, "/already/known", "q7 untouched");
	ASSERT_NULL(q[8].path, "q8 anonymous");
	ASSERT_STREQ(q[9].path, "/other/dev/same/ino", "q9 same ino");
	file_query_clear(q, ARRAY_SIZE(q));
	ASSERT_NULL(q[0].path, "cleared");

	/* Nothing to do: no file is opened. */
	q[0].path = strdup("/x");
	file_resolver_get_stats(r, &before);
	ASSERT_EQ(file_resolver_scan_maps(r, q, 1), 0, "nothing to resolve");
	ASSERT_EQ(file_resolver_scan_maps(r, NULL, 0), 0, "no queries");
	file_resolver_get_stats(r, &after);
	ASSERT_EQ(after.maps_files, before.maps_files, "no maps opened");
	file_query_clear(q, 1);

	/*
	 * Early stop: the file is on the first line of 123/maps and in
	 * 456/maps, so whatever order readdir gives, the scan ends before it
	 * has read every line.
	 */
	total_lines = count_lines(maps123) + count_lines(maps456);
	file_resolver_get_stats(r, &before);
	ret = file_resolver_scan_maps(r, one, 1);
	file_resolver_get_stats(r, &after);
	ASSERT_EQ(ret, 1, "one resolved");
	ASSERT_STREQ(one[0].path, "/usr/bin/cat", "one path");
	ASSERT_TRUE(after.maps_lines - before.maps_lines <
			    (uint64_t)total_lines,
		    "stopped early");
	file_query_clear(one, 1);
}

static int write_file(const char *path, const char *text)
{
	_cleanup_fclose_ FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0)
		return -errno;
	return fflush(f) == 0 ? 0 : -errno;
}

/* A read error mid-scan rolls back whatever the scan had filled. */
static void test_scan_maps_error(void)
{
	_cleanup_(file_resolver_freep) struct file_resolver *r = NULL;
	char dir[] = "/tmp/cw-files-proc-XXXXXX";
	char path[PATH_MAX];
	struct file_query q[] = {
		{ makedev(8, 1), 10, NULL, false },
		{ makedev(8, 1), 11, NULL, false },
	};

	if (!ASSERT_NOT_NULL(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/self", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/self/mountinfo", dir);
	write_file(path, "");
	/* 1/maps is a directory: reading it fails with EISDIR. */
	snprintf(path, sizeof(path), "%s/1", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/1/maps", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/2", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/2/maps", dir);
	write_file(path, "1000-2000 r--p 00000000 08:01 10 /found\n");

	if (ASSERT_OK(file_resolver_new(dir, &r), "new on empty mountinfo")) {
		ASSERT_ERR(file_resolver_scan_maps(r, q, ARRAY_SIZE(q)),
			   -EISDIR, "read error");
		ASSERT_NULL(q[0].path, "rolled back");
		ASSERT_NULL(q[1].path, "untouched");
	}

	snprintf(path, sizeof(path), "%s/2/maps", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/2", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/1/maps", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/1", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/self/mountinfo", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/self", dir);
	rmdir(path);
	ASSERT_OK(rmdir(dir) < 0 ? -errno : 0, "temp proc dir removed");
}

static bool have_cap_dac_read_search(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	unsigned long long caps = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	return caps & (1ULL << CAP_DAC_READ_SEARCH);
}

/* The handle cases that need the capability and ext2/3/4 or xfs. */
static void test_handle_root(struct file_resolver *r, const char *dir,
			     const char *file, uint64_t dev, uint64_t ino,
			     uint32_t gen)
{
	_cleanup_free_ char *path = NULL, *real = NULL;
	char other[PATH_MAX];
	struct file_resolver_stats st0, st1;
	uint32_t bad_gen = gen ^ 0x5a5a5a5au;
	bool deleted = true;
	int ret, fd;

	real = realpath(file, NULL);
	if (!ASSERT_NOT_NULL(real, "realpath"))
		return;

	ret = file_resolver_by_handle(r, dev, ino, gen, &path, &deleted);
	if (ret == -EOPNOTSUPP) {
		printf("skip: handle tests need ext2/3/4 or xfs under %s\n",
		       dir);
		return;
	}
	if (ret == -EPERM) {
		printf("skip: CAP_DAC_READ_SEARCH is not effective here "
		       "(user namespace?)\n");
		return;
	}
	if (!ASSERT_OK(ret, "by_handle"))
		return;
	ASSERT_STREQ(path, real, "by_handle path");
	ASSERT_FALSE(deleted, "by_handle not deleted");
	free(TAKE_PTR(path));

	/* The mount fd is cached: no reload, one syscall per lookup. */
	file_resolver_get_stats(r, &st0);
	ret = file_resolver_by_handle(r, dev, ino, gen, &path, &deleted);
	file_resolver_get_stats(r, &st1);
	ASSERT_OK(ret, "by_handle again");
	ASSERT_EQ(st1.mountinfo_loads, st0.mountinfo_loads, "no reload");
	ASSERT_EQ(st1.handle_opens, st0.handle_opens + 1, "one open");
	free(TAKE_PTR(path));

	/* Closed mount fds are opened again on demand. */
	file_resolver_close_mounts(r);
	ret = file_resolver_by_handle(r, dev, ino, gen, &path, &deleted);
	ASSERT_OK(ret, "by_handle after close_mounts");
	ASSERT_STREQ(path, real, "path after close_mounts");
	free(TAKE_PTR(path));

	if (bad_gen == 0)
		bad_gen = 1;
	ASSERT_ERR(file_resolver_by_handle(r, dev, ino, bad_gen, &path,
					   &deleted),
		   -ESTALE, "wrong generation");
	ASSERT_NULL(path, "no path for a wrong generation");
	/* The kernel lets generation 0 through; the resolver must not. */
	if (gen != 0) {
		ASSERT_ERR(file_resolver_by_handle(r, dev, ino, 0, &path,
						   &deleted),
			   -ESTALE, "generation 0");
		ASSERT_NULL(path, "no path for generation 0");
	}

	/* Unlinked while open: the name without " (deleted)". */
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (!ASSERT_TRUE(fd >= 0, "open"))
		return;
	ASSERT_OK(unlink(file) < 0 ? -errno : 0, "unlink");
	ret = file_resolver_by_handle(r, dev, ino, gen, &path, &deleted);
	ASSERT_OK(ret, "by_handle deleted");
	ASSERT_STREQ(path, real, "deleted path");
	ASSERT_TRUE(deleted, "deleted flag");
	free(TAKE_PTR(path));
	close(fd);

	/*
	 * Now the inode is freed; new files may get its number.  Either
	 * way the old handle must be stale, never the new file's name.
	 */
	for (int i = 0; i < 16; i++) {
		struct stat s;

		snprintf(other, sizeof(other), "%s/new-%d", dir, i);
		if (write_file(other, "other\n") == 0 &&
		    stat(other, &s) == 0 && s.st_ino == ino)
			printf("info: inode %" PRIu64 " reused by %s\n", ino,
			       other);
	}
	ASSERT_ERR(file_resolver_by_handle(r, dev, ino, gen, &path, &deleted),
		   -ESTALE, "inode gone");
	ASSERT_NULL(path, "no path for a gone inode");
	for (int i = 0; i < 16; i++) {
		snprintf(other, sizeof(other), "%s/new-%d", dir, i);
		unlink(other);
	}
}

/* 4. resolution by handle of a real file */
static void test_handle(void)
{
	_cleanup_(file_resolver_freep) struct file_resolver *r = NULL;
	char dir[] = "/var/tmp/cw-files-XXXXXX";
	char file[PATH_MAX];
	char *path = NULL;
	bool deleted = false;
	struct stat st;
	unsigned int gen = 0;
	int fd, ret;

	if (!ASSERT_OK(file_resolver_new("/proc", &r), "new on /proc"))
		return;

	/* Checks that need no privilege. */
	if (ASSERT_OK(stat("/proc", &st) < 0 ? -errno : 0, "stat /proc"))
		ASSERT_ERR(file_resolver_by_handle(r, st.st_dev, 1, 1, &path,
						   &deleted),
			   -EOPNOTSUPP, "procfs");
	ASSERT_ERR(file_resolver_by_handle(r, makedev(4095, 1048575), 12, 1,
					   &path, &deleted),
		   -ENODEV, "dev without a mount");

	if (!ASSERT_NOT_NULL(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(file, sizeof(file), "%s/file with spaces", dir);
	ASSERT_OK(write_file(file, "cachewatch\n"), "write");
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (!ASSERT_TRUE(fd >= 0, "open"))
		goto out;
	ret = fstat(fd, &st) < 0 ? -errno : 0;
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) < 0) {
		printf("skip: %s has no inode generations (%s)\n", dir,
		       strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (!ASSERT_OK(ret, "fstat"))
		goto out;

	if (!have_cap_dac_read_search()) {
		ret = file_resolver_by_handle(r, st.st_dev, st.st_ino, gen,
					      &path, &deleted);
		ASSERT_TRUE(ret == -EPERM || ret == -EOPNOTSUPP,
			    "refused without the capability");
		ASSERT_NULL(path, "no path without the capability");
		printf("skip: handle tests need root\n");
		goto out;
	}
	test_handle_root(r, dir, file, st.st_dev, st.st_ino, gen);

out:
	free(path);
	unlink(file);
	ASSERT_OK(rmdir(dir) < 0 ? -errno : 0, "temp dir removed");
}

int main(void)
{
	test_mountinfo();
	test_maps_parse_line();
	test_scan_maps();
	test_scan_maps_error();
	test_handle();
	return test_exit();
}
