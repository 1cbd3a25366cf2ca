// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Capability checks with the raw capget(2) system call (no libcap needed).
 * Required: loading tracing programs (CAP_BPF + CAP_PERFMON, or the older
 * catch-all CAP_SYS_ADMIN).  Optional: CAP_DAC_READ_SEARCH for
 * open_by_handle_at (file paths) and CAP_SYS_PTRACE for other processes'
 * /proc/PID/maps; without them cachewatch records but names fewer files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "privileges.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define BIT(c) (1ULL << (c))

int caps_effective(uint64_t *ret)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	*ret = (uint64_t)d[1].effective << 32 | d[0].effective;
	return 0;
}

int caps_check_required(uint64_t eff, char *err, size_t errlen)
{
	bool bpf = eff & BIT(CAP_BPF), perfmon = eff & BIT(CAP_PERFMON);

	if ((bpf && perfmon) || (eff & BIT(CAP_SYS_ADMIN)))
		return 0;
	snprintf(err, errlen,
		 "missing capabilit%s %s%s%s: loading tracing BPF programs needs CAP_BPF and "
		 "CAP_PERFMON (or CAP_SYS_ADMIN); run as root",
		 bpf || perfmon ? "y" : "ies", bpf ? "" : "CAP_BPF",
		 !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
	return -EPERM;
}

void caps_describe_optional(uint64_t eff, char *buf, size_t len)
{
	buf[0] = 0;
	if (!(eff & BIT(CAP_DAC_READ_SEARCH)))
		snprintf(buf, len, "CAP_DAC_READ_SEARCH (file paths by handle)");
	if (!(eff & BIT(CAP_SYS_PTRACE))) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "%sCAP_SYS_PTRACE (other processes' maps)",
			 n ? ", " : "");
	}
}
