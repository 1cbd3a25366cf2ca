// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fadv FILE...: write back and drop each file's page cache with
 * posix_fadvise(POSIX_FADV_DONTNEED), so the next reader charges the pages
 * to its own memory cgroup (pages stay charged to whoever read them first).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY), r;

		if (fd < 0) {
			perror(argv[i]);
			return 1;
		}
		fdatasync(fd);
		r = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
		if (r) {
			fprintf(stderr, "%s: posix_fadvise: %s\n", argv[i], strerror(r));
			return 1;
		}
	}
	return 0;
}
