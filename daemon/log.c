// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Logging sink: journal or stderr, chosen once at start-up.  Under systemd
 * stderr is a stream to journald whose device and inode are in
 * JOURNAL_STREAM; then messages go through sd_journal_send with a
 * priority, otherwise they are written to stderr as "ident: message".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include "log.h"

static const char *log_ident = "cachewatch";
static bool log_verbose;
static bool log_journal;

static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(const char *ident, bool verbose)
{
	log_ident = ident;
	log_verbose = verbose;
	log_journal = stderr_is_journal();
}

bool log_to_journal(void)
{
	return log_journal;
}

void log_msg(int priority, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (priority >= LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_journal) {
		sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", priority,
				"SYSLOG_IDENTIFIER=%s", log_ident, NULL);
		return;
	}
	fprintf(stderr, "%s: %s\n", log_ident, buf);
}

void log_fields(int priority, const char *const *fields, const char *fmt, ...)
{
	char buf[2048], prio[16], ident[64];
	struct iovec iov[32];
	size_t n = 0;
	va_list ap;

	if (priority >= LOG_DEBUG && !log_verbose)
		return;
	memcpy(buf, "MESSAGE=", 8);
	va_start(ap, fmt);
	vsnprintf(buf + 8, sizeof(buf) - 8, fmt, ap);
	va_end(ap);
	if (!log_journal) {
		fprintf(stderr, "%s: %s\n", log_ident, buf + 8);
		return;
	}
	snprintf(prio, sizeof(prio), "PRIORITY=%d", priority);
	snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n++] = (struct iovec){ buf, strlen(buf) };
	iov[n++] = (struct iovec){ prio, strlen(prio) };
	iov[n++] = (struct iovec){ ident, strlen(ident) };
	for (size_t i = 0; fields && fields[i] && n < ARRAY_SIZE(iov); i++)
		iov[n++] = (struct iovec){ (void *)fields[i], strlen(fields[i]) };
	sd_journal_sendv(iov, (int)n);
}
