// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * memhog MIB SECONDS: allocate MIB MiB of anonymous memory, touch every
 * page every 200 ms and hold it for SECONDS.  Without swap this memory
 * cannot be reclaimed, so in a limited memory cgroup it squeezes the page
 * cache of everything else charged there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t len;
	time_t end;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MIB SECONDS\n", argv[0]);
		return 2;
	}
	len = (size_t)atol(argv[1]) << 20;
	end = time(NULL) + atol(argv[2]);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	do {
		for (size_t off = 0; off < len; off += 4096)
			p[off]++;
		usleep(200000);
	} while (time(NULL) < end);
	return 0;
}
