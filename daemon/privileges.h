/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which capabilities cachewatchd needs, and a check that names the missing
 * ones before anything is created or loaded.
 */
#ifndef CACHEWATCH_PRIVILEGES_H
#define CACHEWATCH_PRIVILEGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Effective capability set of this process (bit n = capability n). */
int caps_effective(uint64_t *ret);

/*
 * 0 when the effective set allows loading and attaching the tracing
 * programs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); otherwise -EPERM
 * with the missing capabilities named in err.
 */
int caps_check_required(uint64_t eff, char *err, size_t errlen);

/* Names of wanted-but-optional capabilities that are missing ("" if none). */
void caps_describe_optional(uint64_t eff, char *buf, size_t len);

/*
 * Of the effective set eff, the capabilities still used once the programs
 * are attached: CAP_DAC_READ_SEARCH (open_by_handle_at) and CAP_PERFMON
 * (other users' /proc/PID/maps), or CAP_SYS_PTRACE for the latter when
 * CAP_PERFMON is not held.
 */
uint64_t caps_kept_after_start(uint64_t eff);

/*
 * Give up every capability but those (effective, permitted, inheritable,
 * ambient and, with CAP_SETPCAP, the bounding set), for this thread and
 * the threads it starts later.  *ret_left: the effective set afterwards.
 */
int caps_drop_after_start(uint64_t *ret_left);

#endif
