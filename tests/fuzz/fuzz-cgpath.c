// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz target: the cgroup path parser (daemon/cgpath.c) on any bytes.
 * Besides memory errors (ASan, UBSan), it checks what the parser promises:
 * every field NUL-terminated within its array, a container id only with a
 * pod, and the same answer twice (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cgpath.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgroup_owner a, b;
	char *path = fuzz_cstring(data, size);
	bool pod_a, pod_b;

	if (!path)
		return 0;
	memset(&a, 0x5a, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	pod_a = cgroup_owner_parse(path, &a);
	pod_b = cgroup_owner_parse(path, &b);
	FUZZ_ASSERT(pod_a == pod_b);
	FUZZ_ASSERT(memchr(a.pod_uid, 0, sizeof(a.pod_uid)));
	FUZZ_ASSERT(memchr(a.qos, 0, sizeof(a.qos)));
	FUZZ_ASSERT(memchr(a.container_id, 0, sizeof(a.container_id)));
	FUZZ_ASSERT(memchr(a.runtime, 0, sizeof(a.runtime)));
	FUZZ_ASSERT(memchr(a.unit, 0, sizeof(a.unit)));
	FUZZ_ASSERT(!strcmp(a.pod_uid, b.pod_uid) && !strcmp(a.container_id, b.container_id) &&
		    !strcmp(a.unit, b.unit) && !strcmp(a.qos, b.qos));
	FUZZ_ASSERT(!a.container_id[0] || a.pod_uid[0]);
	FUZZ_ASSERT(pod_a == (a.pod_uid[0] != 0));
	free(path);
	return 0;
}
