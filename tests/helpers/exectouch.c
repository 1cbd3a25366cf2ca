// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * exectouch FILE SECONDS: map FILE with PROT_READ|PROT_EXEC (a VM_EXEC
 * mapping, like a shared library's text) and read one byte of every page,
 * pass after pass, for SECONDS.  Prints one line per pass (wall time in ms
 * and major faults) so a test can see the thrash, and a summary at the end.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long major_faults(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return r.ru_majflt;
}

int main(int argc, char **argv)
{
	volatile const unsigned char *map;
	unsigned long sum = 0;
	double end, t0, total_ms = 0;
	struct stat st;
	long pages_touched = 0;
	int fd, passes = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE SECONDS\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	end = now() + atof(argv[2]);
	while ((t0 = now()) < end) {
		long mf = major_faults();
		double ms;

		for (off_t off = 0; off < st.st_size; off += 4096, pages_touched++)
			sum += map[off];
		ms = (now() - t0) * 1000;
		total_ms += ms;
		passes++;
		printf("pass %d ms=%.1f majflt=%ld\n", passes, ms, major_faults() - mf);
		usleep(100000);
	}
	printf("SUMMARY passes=%d avg_ms=%.1f pages=%ld (sum %lu)\n", passes,
	       passes ? total_ms / passes : 0.0, pages_touched, sum);
	return 0;
}
