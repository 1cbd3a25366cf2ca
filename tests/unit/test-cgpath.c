// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cgroup path -> Kubernetes / systemd owner: both kubelet cgroup drivers,
 * every QoS class, the three runtimes, CRI-O's conmon scope, nodes nested
 * in a container (kind), systemd units, and paths that merely look alike.
 */
#include <string.h>
#include "cgpath.h"
#include "test.h"

#define UID "0b5f0e3c-6f6c-4d4e-9a51-1f2e3d4c5b6a"
#define UIDU "0b5f0e3c_6f6c_4d4e_9a51_1f2e3d4c5b6a"
#define CID "4c2d8e7f1a3b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"

struct expect {
	const char *path;
	bool pod;
	const char *uid, *qos, *cid, *runtime, *unit;
};

static const struct expect cases[] = {
	/* cgroupfs driver */
	{ "/kubepods/burstable/pod" UID "/" CID, true, UID, "burstable", CID, "", "" },
	{ "/kubepods/besteffort/pod" UID "/" CID, true, UID, "besteffort", CID, "", "" },
	{ "/kubepods/pod" UID "/" CID, true, UID, "guaranteed", CID, "", "" },
	{ "/kubepods/burstable/pod" UID, true, UID, "burstable", "", "", "" },
	{ "/kubepods/pod" UID, true, UID, "guaranteed", "", "", "" },
	{ "/kubepods/burstable/pod" UID "/crio-" CID, true, UID, "burstable", CID, "cri-o", "" },
	{ "/kubepods", false, "", "", "", "", "" },
	{ "/kubepods/burstable", false, "", "", "", "", "" },
	/* systemd driver */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/cri-containerd-" CID ".scope",
	  true, UID, "burstable", CID, "containerd", "cri-containerd-" CID ".scope" },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
	  ".slice/crio-" CID ".scope",
	  true, UID, "besteffort", CID, "cri-o", "crio-" CID ".scope" },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice/docker-" CID ".scope",
	  true, UID, "guaranteed", CID, "docker", "docker-" CID ".scope" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice",
	  true, UID, "burstable", "", "", "" },
	/* CRI-O's monitor is not a container: the pod, without an id */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/crio-conmon-" CID ".scope",
	  true, UID, "burstable", "", "", "crio-conmon-" CID ".scope" },
	/* a node running inside a container (kind) */
	{ "/system.slice/docker-" CID ".scope/kubepods/burstable/pod" UID "/" CID,
	  true, UID, "burstable", CID, "", "docker-" CID ".scope" },
	/* systemd units */
	{ "/system.slice/nginx.service", false, "", "", "", "", "nginx.service" },
	{ "/user.slice/user-1000.slice/session-3.scope", false, "", "", "", "", "session-3.scope" },
	{ "/system.slice", false, "", "", "", "", "" },
	{ "/", false, "", "", "", "", "" },
	{ "", false, "", "", "", "", "" },
	/* look-alikes */
	{ "/kubepodsx/burstable/pod" UID "/" CID, false, "", "", "", "", "" },
	{ "/kubepods/burstable/podnot-a-uid/" CID, false, "", "", "", "", "" },
	{ "/kubepods/burstable/pod0b5f0e3c-6f6c-4d4e-9a51-1f2e3d4c5bzz/" CID, false, "", "", "", "",
	  "" },
	{ "/kubepods/burstable/pod" UID "/" "abc123", true, UID, "burstable", "", "", "" },
	{ "/kubepods/burstable/pod" UID "/" CID "ff", true, UID, "burstable", "", "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podxyz.slice", false, "",
	  "", "", "", "" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/cri-containerd-" CID "/extra",
	  true, UID, "burstable", CID, "containerd", "" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct expect *e = &cases[i];
		struct cgroup_owner o;
		bool pod;
		char what[128];

		memset(&o, 0x5a, sizeof(o)); /* garbage must be overwritten */
		pod = cgroup_owner_parse(e->path, &o);
		snprintf(what, sizeof(what), "case %zu", i);
		if (!ASSERT_EQ(pod, e->pod, what))
			fprintf(stderr, "  path %s\n", e->path);
		ASSERT_STREQ(o.pod_uid, e->uid, what);
		ASSERT_STREQ(o.qos, e->qos, what);
		ASSERT_STREQ(o.container_id, e->cid, what);
		ASSERT_STREQ(o.runtime, e->runtime, what);
		ASSERT_STREQ(o.unit, e->unit, what);
	}
	return test_exit();
}
