// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * churn [-t SECONDS] [-n COUNT] DIR: the benchmark's small-file churn
 * workload.  Over and over: create a file in DIR, write 16 KiB as four
 * 4 KiB writes, close it, unlink it.  Each file adds four pages to the page
 * cache and the unlink truncates them again, so the page-cache tracepoints
 * fire eight times per file with no disk I/O.  Stops after SECONDS
 * (default 8) or COUNT files, whichever comes first, and prints one line:
 *
 *   churn files=N seconds=S files_per_s=R
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		4096
#define CHUNKS_PER_FILE 4

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One file's life: create, write CHUNKS_PER_FILE chunks, close, unlink. */
static int churn_one(const char *path, const char *buf)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	int err = 0;

	if (fd < 0)
		return -errno;
	for (int i = 0; i < CHUNKS_PER_FILE && !err; i++) {
		ssize_t n = write(fd, buf, CHUNK);

		if (n < 0)
			err = -errno;
		else if (n != CHUNK)
			err = -EIO;
	}
	if (close(fd) < 0 && !err)
		err = -errno;
	if (unlink(path) < 0 && !err)
		err = -errno;
	return err;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-t SECONDS] [-n COUNT] DIR\n", prog);
}

int main(int argc, char **argv)
{
	char path[PATH_MAX], buf[CHUNK];
	double seconds = 8, start, elapsed;
	long max_files = -1, files = 0;
	int opt, err = 0;

	while ((opt = getopt(argc, argv, "t:n:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_files = atol(optarg);
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (optind != argc - 1 || seconds <= 0) {
		usage(argv[0]);
		return 2;
	}
	if (snprintf(path, sizeof(path), "%s/churn.%ld", argv[optind], (long)getpid()) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "churn: directory name too long\n");
		return 2;
	}
	memset(buf, 'c', sizeof(buf));

	start = now();
	while (max_files < 0 || files < max_files) {
		err = churn_one(path, buf);
		if (err)
			break;
		files++;
		if (now() - start >= seconds)
			break;
	}
	elapsed = now() - start;
	if (err) {
		fprintf(stderr, "churn: %s: %s\n", path, strerror(-err));
		return 1;
	}
	printf("churn files=%ld seconds=%.3f files_per_s=%.1f\n", files, elapsed,
	       elapsed > 0 ? (double)files / elapsed : 0.0);
	return 0;
}
