// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kubernetes and systemd names in cgroup paths.
 *
 *   cgroupfs driver:  /kubepods/burstable/pod<uid>/<id>
 *                     /kubepods/pod<uid>/<id>               (Guaranteed)
 *   systemd driver:   /kubepods.slice/kubepods-burstable.slice/
 *                        kubepods-burstable-pod<uid_with_underscores>.slice/
 *                        cri-containerd-<id>.scope           (crio-, docker-)
 *                     /kubepods.slice/kubepods-pod<uid>.slice/...   (Guaranteed)
 *
 * The kubepods component may sit below other cgroups (a node inside a
 * container, e.g. kind), so it is searched for, not expected first.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "cgpath.h"

#define ID_LEN 64

struct runtime_prefix {
	const char *prefix;
	const char *runtime;
};

static const struct runtime_prefix runtimes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
};

/* Copy component [s, s+n) into dst (size cap), truncating safely. */
static void copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* A pod UID: hex digits and dashes (systemd: underscores), 32 to 36 long. */
static bool parse_uid(const char *s, size_t n, char *uid, size_t cap)
{
	if (n < 32 || n > 36 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '_')
			c = '-';
		if (!isxdigit((unsigned char)c) && c != '-') {
			uid[0] = 0;
			return false;
		}
		uid[i] = (char)tolower((unsigned char)c);
	}
	uid[n] = 0;
	return true;
}

/*
 * A container component: [runtime-]<64 hex>[.scope].  Returns false for
 * anything else, including crio-conmon-<id>.scope.
 */
static bool parse_container(const char *s, size_t n, struct cgroup_owner *o)
{
	const char *runtime = "";

	if (starts_with(s, n, "crio-conmon-"))
		return false;
	if (ends_with(s, n, ".scope"))
		n -= strlen(".scope");
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++) {
		size_t k = strlen(runtimes[i].prefix);

		if (starts_with(s, n, runtimes[i].prefix)) {
			s += k;
			n -= k;
			runtime = runtimes[i].runtime;
			break;
		}
	}
	if (n != ID_LEN || !all_hex(s, n))
		return false;
	copy(o->container_id, sizeof(o->container_id), s, n);
	copy(o->runtime, sizeof(o->runtime), runtime, strlen(runtime));
	return true;
}

/* QoS class from "burstable", "kubepods-besteffort.slice", ... */
static const char *parse_qos(const char *s, size_t n)
{
	static const char *const classes[] = { "burstable", "besteffort" };

	for (size_t i = 0; i < 2; i++) {
		char slice[64];

		if (n == strlen(classes[i]) && memcmp(s, classes[i], n) == 0)
			return classes[i];
		snprintf(slice, sizeof(slice), "kubepods-%s.slice", classes[i]);
		if (n == strlen(slice) && memcmp(s, slice, n) == 0)
			return classes[i];
	}
	return NULL;
}

/* "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid>.slice" (systemd). */
static bool parse_pod(const char *s, size_t n, bool systemd, struct cgroup_owner *o)
{
	const char *p;

	if (!systemd)
		return starts_with(s, n, "pod") &&
		       parse_uid(s + 3, n - 3, o->pod_uid, sizeof(o->pod_uid));
	if (!ends_with(s, n, ".slice") || !starts_with(s, n, "kubepods-"))
		return false;
	n -= strlen(".slice");
	p = memmem(s, n, "-pod", 4);
	if (!p)
		return false;
	p += 4;
	return parse_uid(p, n - (size_t)(p - s), o->pod_uid, sizeof(o->pod_uid));
}

bool cgroup_owner_parse(const char *path, struct cgroup_owner *o)
{
	const char *comp[64];
	size_t len[64], n = 0, k;
	const char *qos;
	bool systemd = false;

	memset(o, 0, sizeof(*o));
	for (const char *p = path; *p && n < 64;) {
		const char *e;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		comp[n] = p;
		len[n] = e ? (size_t)(e - p) : strlen(p);
		n++;
		p += len[n - 1];
	}

	/* Deepest systemd unit, for everything (pods under systemd too). */
	for (k = n; k-- > 0;)
		if (ends_with(comp[k], len[k], ".service") || ends_with(comp[k], len[k], ".scope")) {
			copy(o->unit, sizeof(o->unit), comp[k], len[k]);
			break;
		}

	for (k = 0; k < n; k++) {
		if (len[k] == 8 && memcmp(comp[k], "kubepods", 8) == 0)
			break;
		if (len[k] == 14 && memcmp(comp[k], "kubepods.slice", 14) == 0) {
			systemd = true;
			break;
		}
	}
	if (k >= n || ++k >= n)
		return false;

	qos = parse_qos(comp[k], len[k]);
	if (qos && ++k >= n)
		return false;
	if (!parse_pod(comp[k], len[k], systemd, o))
		return false;
	if (!qos)
		qos = "guaranteed"; /* Guaranteed pods sit right under kubepods */
	copy(o->qos, sizeof(o->qos), qos, strlen(qos));
	if (++k < n && !parse_container(comp[k], len[k], o)) {
		/* Something under the pod that is no container (conmon): pod only. */
		o->container_id[0] = o->runtime[0] = 0;
	}
	return true;
}
