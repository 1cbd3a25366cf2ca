// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Exec-mapping records and the process's own view of a mapped file.  The
 * iterator gives (file, pid, vm_start) for each executable file it sees
 * first; the matching /proc/PID/maps line gives the path as that process
 * sees it (kernel: file_user_path(), so an overlayfs file shows its overlay
 * path, not the layer's), and /proc/PID/ns/mnt whether that is our view.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "execmaps.h"
#include "files.h"
#include "util.h"

int exec_iter_read(int fd, exec_vma_fn fn, void *ctx)
{
	struct cw_exec_vma rec;
	size_t have = 0;
	int count = 0;

	for (;;) {
		ssize_t n = read(fd, (char *)&rec + have, sizeof(rec) - have);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == sizeof(rec)) {
			fn(ctx, &rec);
			count++;
			have = 0;
		}
	}
	return count;
}

static int mnt_ns_ino(const char *proc_dir, const char *who, ino_t *ret)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/ns/mnt", proc_dir, who);
	if (stat(path, &st) < 0)
		return -errno;
	*ret = st.st_ino;
	return 0;
}

int proc_mapping_path(const char *proc_dir, uint32_t tgid, uint64_t start, char **ret_path,
		      bool *ret_deleted, bool *ret_other_ns)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	char path[256], pid[16];
	ino_t ours = 0, theirs = 0;
	size_t cap = 0;
	ssize_t n;

	snprintf(pid, sizeof(pid), "%" PRIu32, tgid);
	snprintf(path, sizeof(path), "%s/%s/maps", proc_dir, pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *name;
		uint64_t dev, ino, s;
		size_t len;

		if (sscanf(line, "%" SCNx64 "-", &s) != 1 || s != start)
			continue;
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (maps_parse_line(line, &dev, &ino, &name) != 1 || !*name)
			return -ENOENT;
		len = strlen(name);
		*ret_deleted = len > 10 && strcmp(name + len - 10, " (deleted)") == 0;
		if (*ret_deleted)
			len -= 10;
		*ret_path = strndup(name, len);
		if (!*ret_path)
			return -ENOMEM;
		/* An unreadable namespace link: assume a container (the safe side). */
		*ret_other_ns = mnt_ns_ino(proc_dir, "self", &ours) < 0 ||
				mnt_ns_ino(proc_dir, pid, &theirs) < 0 || ours != theirs;
		return 0;
	}
	return -ENOENT;
}
