// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memory.stat reader for cgroup v1 and v2.  The two versions name the same
 * quantities differently (v1 "cache"/"rss" per cgroup plus "total_*" for the
 * subtree; v2 "file"/"anon" for the subtree only): the tables below map each
 * name to one field of struct memstat.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memstat.h"
#include "util.h"

struct key_map {
	const char *key;
	size_t offset;
};

#define F(x) offsetof(struct memstat, x)

static const struct key_map v1_keys[] = {
	{ "cache", F(file) },
	{ "rss", F(anon) },
	{ "total_cache", F(total_file) },
	{ "total_rss", F(total_anon) },
	{ "total_mapped_file", F(mapped_file) },
	{ "total_active_file", F(active_file) },
	{ "total_inactive_file", F(inactive_file) },
	{ "workingset_refault_file", F(refault_file) },
	{ "total_workingset_refault_file", F(total_refault_file) },
	{ "total_pgmajfault", F(pgmajfault) },
};

static const struct key_map v2_keys[] = {
	{ "file", F(total_file) },
	{ "anon", F(total_anon) },
	{ "file_mapped", F(mapped_file) },
	{ "active_file", F(active_file) },
	{ "inactive_file", F(inactive_file) },
	{ "workingset_refault_file", F(total_refault_file) },
	{ "pgmajfault", F(pgmajfault) },
};

void memstat_init(struct memstat *m)
{
	int64_t *f = (int64_t *)m;

	for (size_t i = 0; i < sizeof(*m) / sizeof(int64_t); i++)
		f[i] = -1;
}

void memstat_apply(struct memstat *m, bool v2, const char *key, int64_t value)
{
	const struct key_map *map = v2 ? v2_keys : v1_keys;
	size_t n = v2 ? ARRAY_SIZE(v2_keys) : ARRAY_SIZE(v1_keys);

	for (size_t i = 0; i < n; i++)
		if (strcmp(map[i].key, key) == 0) {
			*(int64_t *)((char *)m + map[i].offset) = value;
			return;
		}
}

void memstat_parse(struct memstat *m, bool v2, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char key[64];
		long long v;

		if (len < 128 && sscanf(p, "%63s %lld", key, &v) == 2)
			memstat_apply(m, v2, key, v);
		p += len;
		if (*p)
			p++;
	}
}

/* Read a small file relative to dirfd into buf; -errno on failure. */
static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -errno;
	while (off + 1 < size) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = 0;
	return 0;
}

static int64_t read_number(int dirfd, const char *name, bool max_is_unlimited)
{
	char buf[64];
	long long v;

	if (read_small(dirfd, name, buf, sizeof(buf)) < 0)
		return -1;
	if (max_is_unlimited && strncmp(buf, "max", 3) == 0)
		return -1;
	if (sscanf(buf, "%lld", &v) != 1)
		return -1;
	/* v1 reports "unlimited" as PAGE_COUNTER_MAX pages in bytes. */
	if (max_is_unlimited && v >= (1LL << 62))
		return -1;
	return v;
}

/* v2 memory.events: the "max" line counts limit hits. */
static int64_t read_events_max(int dirfd)
{
	char buf[1024], *p;
	long long v;

	if (read_small(dirfd, "memory.events", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (sscanf(p, "max %lld", &v) == 1)
			return v;
	return -1;
}

int memstat_read(struct memstat *m, int dirfd, bool v2)
{
	char buf[8192];
	int r;

	memstat_init(m);
	r = read_small(dirfd, "memory.stat", buf, sizeof(buf));
	if (r < 0)
		return r;
	memstat_parse(m, v2, buf);
	if (v2) {
		m->usage = read_number(dirfd, "memory.current", false);
		m->limit = read_number(dirfd, "memory.max", true);
		m->failcnt = read_events_max(dirfd);
	} else {
		m->usage = read_number(dirfd, "memory.usage_in_bytes", false);
		m->limit = read_number(dirfd, "memory.limit_in_bytes", true);
		m->failcnt = read_number(dirfd, "memory.failcnt", false);
	}
	return 0;
}
