/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the exec-mapping iterator reports, and the path a mapping process
 * sees for a file: read from /proc/PID/maps (which shows overlayfs files by
 * their overlay path, as the process knows them) together with whether that
 * process lives in another mount namespace than ours (a container).
 */
#ifndef CACHEWATCH_EXECMAPS_H
#define CACHEWATCH_EXECMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "cachewatch.h"

typedef void (*exec_vma_fn)(void *ctx, const struct cw_exec_vma *rec);

/* Read fixed-size records from an iterator fd until EOF; count or -errno. */
int exec_iter_read(int fd, exec_vma_fn fn, void *ctx);

/*
 * The path of the mapping starting at start in proc_dir/tgid/maps
 * (malloc'd; " (deleted)" stripped and reported), and whether tgid's
 * mount namespace differs from ours.  -ENOENT when the process or the
 * mapping is gone.
 */
int proc_mapping_path(const char *proc_dir, uint32_t tgid, uint64_t start, char **ret_path,
		      bool *ret_deleted, bool *ret_other_ns);

#endif
