/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a cgroup path says about its owner: Kubernetes pod UID, QoS class,
 * container id and runtime (kubelet's cgroupfs and systemd drivers;
 * containerd, CRI-O and docker), or the systemd unit.  Pure string work on
 * the path, no file system access.
 */
#ifndef CACHEWATCH_CGPATH_H
#define CACHEWATCH_CGPATH_H

#include <stdbool.h>

struct cgroup_owner {
	char pod_uid[64];      /* with dashes, as the API server has it; "" if none */
	char qos[16];          /* "guaranteed", "burstable", "besteffort" or "" */
	char container_id[72]; /* 64 hex digits, or "" for a pod-level cgroup */
	char runtime[16];      /* "containerd", "cri-o", "docker" or "" */
	char unit[256];        /* deepest systemd unit (foo.service, bar.scope) or "" */
};

/*
 * Fill owner from a cgroup path relative to its hierarchy root.  Returns
 * true when the path is a Kubernetes pod or container cgroup.  Paths the
 * parser cannot place leave the fields empty; it never fails otherwise.
 * crio-conmon-<id>.scope (CRI-O's monitor process) is not a container.
 */
bool cgroup_owner_parse(const char *path, struct cgroup_owner *owner);

#endif
