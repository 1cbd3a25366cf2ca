/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kubernetes names without a Kubernetes client: kubelet writes every pod's
 * logs under <pods dir>/<namespace>_<pod>_<uid>/<container>/ and links
 * each container's log as <containers dir>/<pod>_<namespace>_<container>-
 * <container id>.log, so a pod UID and a container id found in a cgroup
 * path name the namespace, pod and container.
 */
#ifndef CACHEWATCH_PODLOGS_H
#define CACHEWATCH_PODLOGS_H

#include <stdbool.h>
#include <stddef.h>

struct pod_names {
	char namespace[128];
	char pod[256];
	char container[256]; /* "" when unknown */
};

struct podlogs;

/*
 * pods_dir is normally /var/log/pods; the containers directory is its
 * sibling "containers".  Neither has to exist (lookups then find nothing).
 */
int podlogs_new(const char *pods_dir, struct podlogs **ret);
struct podlogs *podlogs_free(struct podlogs *p);

/* Re-read both directories (a few readdir calls); -errno if pods_dir is unreadable. */
int podlogs_refresh(struct podlogs *p);

/*
 * Names for a pod UID and, if container_id is not empty, its container.
 * Returns true when the pod was found.  The container name comes from the
 * containers directory, or, when the pod has a single container directory,
 * from that.
 */
bool podlogs_lookup(const struct podlogs *p, const char *pod_uid, const char *container_id,
		    struct pod_names *out);

/* Split "<namespace>_<pod>_<uid>"; false if the name has another shape. */
bool podlogs_parse_pod_dir(const char *name, char *ns, size_t ns_len, char *pod, size_t pod_len,
			   char *uid, size_t uid_len);

#endif
