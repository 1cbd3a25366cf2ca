// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pod and container names from kubelet's log directories.  Namespace and
 * pod names are DNS labels/subdomains and cannot contain '_', so
 * "<namespace>_<pod>_<uid>" splits unambiguously; container names are DNS
 * labels too, and "<pod>_<namespace>_<container>-<64 hex>.log" ends with
 * the id.  The directories are listed on refresh and kept in memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "podlogs.h"
#include "util.h"

struct pod_entry {
	char uid[64];
	char ns[128];
	char pod[256];
	char only_container[256]; /* the single container directory, or "" */
};

struct container_entry {
	char id[72];
	char ns[128];
	char pod[256];
	char name[256];
};

struct podlogs {
	char *pods_dir;
	char *containers_dir;
	struct pod_entry *pods;
	size_t n_pods, cap_pods;
	struct container_entry *containers;
	size_t n_containers, cap_containers;
};

static bool split_copy(const char *s, size_t n, char *dst, size_t cap)
{
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = 0;
	return true;
}

bool podlogs_parse_pod_dir(const char *name, char *ns, size_t ns_len, char *pod, size_t pod_len,
			   char *uid, size_t uid_len)
{
	const char *a = strchr(name, '_'), *b = a ? strchr(a + 1, '_') : NULL;

	if (!a || !b || strchr(b + 1, '_'))
		return false;
	return split_copy(name, (size_t)(a - name), ns, ns_len) &&
	       split_copy(a + 1, (size_t)(b - a - 1), pod, pod_len) &&
	       split_copy(b + 1, strlen(b + 1), uid, uid_len);
}

int podlogs_new(const char *pods_dir, struct podlogs **ret)
{
	struct podlogs *p = calloc(1, sizeof(*p));
	_cleanup_free_ char *parent = NULL;
	const char *slash;

	if (!p)
		return -ENOMEM;
	slash = strrchr(pods_dir, '/');
	parent = slash ? strndup(pods_dir, (size_t)(slash - pods_dir)) : strdup(".");
	p->pods_dir = strdup(pods_dir);
	if (!parent || !p->pods_dir ||
	    asprintf(&p->containers_dir, "%s/containers", parent) < 0) {
		p->containers_dir = NULL;
		podlogs_free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

struct podlogs *podlogs_free(struct podlogs *p)
{
	if (!p)
		return NULL;
	free(p->pods_dir);
	free(p->containers_dir);
	free(p->pods);
	free(p->containers);
	free(p);
	return NULL;
}

/* The single container directory of a pod directory, if there is one. */
static void only_container(int dirfd, const char *name, char *out, size_t cap)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd, count = 0;

	out[0] = 0;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (++count > 1) {
			out[0] = 0;
			return;
		}
		snprintf(out, cap, "%s", de->d_name);
	}
}

static int read_pods(struct podlogs *p)
{
	_cleanup_closedir_ DIR *d = opendir(p->pods_dir);
	struct dirent *de;

	p->n_pods = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct pod_entry e;

		if (!podlogs_parse_pod_dir(de->d_name, e.ns, sizeof(e.ns), e.pod, sizeof(e.pod),
					   e.uid, sizeof(e.uid)))
			continue;
		only_container(dirfd(d), de->d_name, e.only_container, sizeof(e.only_container));
		if (grow_array((void **)&p->pods, &p->cap_pods, p->n_pods + 1, sizeof(e)) < 0)
			return -ENOMEM;
		p->pods[p->n_pods++] = e;
	}
	return 0;
}

/* "<pod>_<namespace>_<container>-<64 hex>.log" -> its parts. */
static bool parse_container_link(const char *name, struct container_entry *e)
{
	size_t n = strlen(name);
	const char *first, *second, *dash;

	if (n < 4 + 1 + 64 || strcmp(name + n - 4, ".log") != 0)
		return false;
	n -= 4;
	dash = name + n - 65;
	if (*dash != '-')
		return false;
	first = strchr(name, '_');
	second = first ? strchr(first + 1, '_') : NULL;
	if (!second || second >= dash)
		return false;
	return split_copy(name, (size_t)(first - name), e->pod, sizeof(e->pod)) &&
	       split_copy(first + 1, (size_t)(second - first - 1), e->ns, sizeof(e->ns)) &&
	       split_copy(dash + 1, 64, e->id, sizeof(e->id)) &&
	       split_copy(second + 1, (size_t)(dash - second - 1), e->name, sizeof(e->name));
}

static int read_containers(struct podlogs *p)
{
	_cleanup_closedir_ DIR *d = opendir(p->containers_dir);
	struct dirent *de;

	p->n_containers = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct container_entry e;

		if (!parse_container_link(de->d_name, &e))
			continue;
		if (grow_array((void **)&p->containers, &p->cap_containers, p->n_containers + 1,
			       sizeof(e)) < 0)
			return -ENOMEM;
		p->containers[p->n_containers++] = e;
	}
	return 0;
}

int podlogs_refresh(struct podlogs *p)
{
	int r = read_pods(p);

	read_containers(p); /* optional: without it only single-container pods are named */
	return r;
}

bool podlogs_lookup(const struct podlogs *p, const char *pod_uid, const char *container_id,
		    struct pod_names *out)
{
	const struct pod_entry *pod = NULL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < p->n_pods; i++)
		if (strcmp(p->pods[i].uid, pod_uid) == 0) {
			pod = &p->pods[i];
			break;
		}
	if (!pod)
		return false;
	snprintf(out->namespace, sizeof(out->namespace), "%s", pod->ns);
	snprintf(out->pod, sizeof(out->pod), "%s", pod->pod);
	if (!container_id || !container_id[0])
		return true;
	for (size_t i = 0; i < p->n_containers; i++)
		if (strcmp(p->containers[i].id, container_id) == 0 &&
		    strcmp(p->containers[i].pod, pod->pod) == 0 &&
		    strcmp(p->containers[i].ns, pod->ns) == 0) {
			snprintf(out->container, sizeof(out->container), "%s",
				 p->containers[i].name);
			return true;
		}
	snprintf(out->container, sizeof(out->container), "%s", pod->only_container);
	return true;
}
