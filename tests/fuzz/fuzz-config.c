// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: cachewatchd's option parsing (daemon/config.c).  The input
 * is used twice: as a config file ("name = value" lines), and split at
 * NUL bytes into an argv.  Any outcome is fine except a memory error, a
 * leak, a value outside its documented range after success, or a failure
 * without a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "daemon/config.h" /* plain "config.h" is autoconf's */
#include "fuzz.h"

static void check_ranges(const struct config *c)
{
	FUZZ_ASSERT(c->interval_s >= 1 && c->interval_s <= 3600);
	FUZZ_ASSERT(c->refault_sample >= 1 && c->refault_sample <= 256);
	FUZZ_ASSERT(c->shadow_entries >= 1024);
	FUZZ_ASSERT(c->db_path && c->db_path[0]);
	FUZZ_ASSERT(c->btf_path && c->btf_path[0]);
	FUZZ_ASSERT(c->reclaim_ctx <= RECLAIM_CTX_BRACKETS);
}

static void as_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("cachewatch-fuzz.conf", MFD_CLOEXEC);
	char path[64], err[512] = "";
	struct config c;
	int r;

	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	config_init(&c);
	r = config_load_file(&c, path, err, sizeof(err));
	if (r == 0)
		check_ranges(&c);
	else
		FUZZ_ASSERT(err[0]);
	config_done(&c);
	close(fd);
}

static void as_argv(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[66], err[512] = "";
	struct config c;
	int argc = 0, r;

	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[argc++] = (char *)"cachewatchd";
	for (size_t i = 0; i <= size && argc < 65;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	config_init(&c);
	r = config_parse_args(&c, argc, argv, err, sizeof(err));
	if (r == 0 && !c.help && !c.version)
		check_ranges(&c);
	else if (r < 0)
		FUZZ_ASSERT(err[0]);
	config_done(&c);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_file(data, size);
	as_argv(data, size);
	return 0;
}
