/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cachewatchd's settings: defaults, command-line flags and the --config
 * file, which takes the same names as the long flags ("interval = 5").
 * Flags on the command line override the file.
 */
#ifndef CACHEWATCH_CONFIG_H
#define CACHEWATCH_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum reclaim_ctx_mode {
	RECLAIM_CTX_AUTO = 0,
	RECLAIM_CTX_SCAN_CONTROL,
	RECLAIM_CTX_BRACKETS,
};

struct config {
	char *db_path;
	char *btf_path;
	char *config_path;
	char *pod_logs;
	char *metrics_addr; /* NULL: no metrics endpoint */
	uint32_t interval_s;
	uint32_t duration_s;
	uint32_t shadow_entries;
	uint32_t refault_sample;
	uint32_t evict_entries;
	uint32_t add_entries;
	uint32_t refault_entries;
	uint32_t exec_entries;
	uint32_t max_cgroups;
	uint32_t max_files;
	uint32_t file_detail_pages;
	uint32_t raw_minutes;
	uint32_t rollup_minutes;
	uint32_t keep_days;
	enum reclaim_ctx_mode reclaim_ctx;
	bool verbose;
	bool help;
	bool version;
};

void config_init(struct config *c);
void config_done(struct config *c);

/* Set one option by its long name; -EINVAL with a message in err on bad input. */
int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen);

/* Apply a config file; -errno with a message naming file and line. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Parse argv (loads --config first, then applies the flags over it). */
int config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen);

const char *config_usage(void);

#endif
