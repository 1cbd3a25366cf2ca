/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one logging sink of cachewatchd: the journal when stderr is connected
 * to it (systemd sets JOURNAL_STREAM), stderr otherwise.  Only top-level
 * code logs; library code returns -errno and lets its caller decide.
 */
#ifndef CACHEWATCH_LOG_H
#define CACHEWATCH_LOG_H

#include <stdbool.h>
#include <syslog.h>
#include "util.h"

void log_setup(const char *ident, bool verbose);
bool log_to_journal(void);
void log_msg(int priority, const char *fmt, ...) _printf_(2, 3);

/*
 * A message with structured fields ("CACHEWATCH_CGROUP=/kubepods/...",
 * NULL-terminated): in the journal they are fields of the entry, on stderr
 * only the message is written.  Field values may hold any byte but NUL.
 */
void log_fields(int priority, const char *const *fields, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
