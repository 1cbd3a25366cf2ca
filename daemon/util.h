/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by the daemon, the CLI and the tests: scope-bound
 * cleanup attributes (systemd style), array sizes and the conversion between
 * the kernel's internal dev_t encoding and the user-space one.
 */
#ifndef CACHEWATCH_UTIL_H
#define CACHEWATCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>
#include <sys/sysmacros.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

/*
 * Make room for need elements of size elem in *arr (capacity *cap,
 * doubling from 64).  -ENOMEM leaves the array as it was.
 */
static inline int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

/*
 * Inside the kernel a dev_t is MAJOR << 20 | MINOR (what BPF reads from
 * i_sb->s_dev); user space (stat, /proc/PID/maps after makedev) uses glibc's
 * encoding.  Everything stored or shown by cachewatch is the user-space form.
 */
static inline uint64_t kdev_to_dev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

#endif
