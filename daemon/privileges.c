// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Capability checks with the raw capget(2) system call (no libcap needed).
 * Required: loading tracing programs (CAP_BPF + CAP_PERFMON, or the older
 * catch-all CAP_SYS_ADMIN).  Optional: CAP_DAC_READ_SEARCH for
 * open_by_handle_at (file paths).  Other users' /proc/PID/maps need
 * CAP_PERFMON or CAP_SYS_PTRACE (measured on 6.18: either lets root read
 * them); CAP_PERFMON is held anyway, so CAP_SYS_PTRACE is not needed.
 * Once the programs are attached, caps_drop_after_start() keeps only what
 * naming files uses and gives up everything else (maps and links are used
 * through file descriptors, which need no capability).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
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
	if (!(eff & (BIT(CAP_PERFMON) | BIT(CAP_SYS_PTRACE)))) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, "%sCAP_PERFMON or CAP_SYS_PTRACE (other users' maps)",
			 n ? ", " : "");
	}
}

uint64_t caps_kept_after_start(uint64_t eff)
{
	/* CAP_SYS_PTRACE only stands in for CAP_PERFMON (e.g. with CAP_SYS_ADMIN). */
	uint64_t maps = eff & BIT(CAP_PERFMON) ? BIT(CAP_PERFMON) : BIT(CAP_SYS_PTRACE);

	return (BIT(CAP_DAC_READ_SEARCH) | maps) & eff;
}

int caps_drop_after_start(uint64_t *ret_left)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	uint64_t keep, eff;
	int last_cap = 63, r;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	eff = (uint64_t)d[1].effective << 32 | d[0].effective;
	keep = caps_kept_after_start(eff);
	/* The bounding set first, while CAP_SETPCAP may still be held, so no
	 * later execve can get the rest back; without CAP_SETPCAP it stays. */
	if (eff & BIT(CAP_SETPCAP)) {
		for (int c = 0; c <= last_cap; c++) {
			if (keep & BIT(c))
				continue;
			r = prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
			if (r < 0 && errno == EINVAL) /* past the kernel's last capability */
				break;
			if (r < 0)
				return -errno;
		}
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		d[i].effective &= k;
		d[i].permitted &= k;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return ret_left ? caps_effective(ret_left) : 0;
}
