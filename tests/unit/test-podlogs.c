// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Kubernetes names from a fixture copy of kubelet's log directories
 * (tests/fixtures/podlogs/{pods,containers}): a two-container pod named
 * through the containers links, a single-container pod without links, a
 * container id nobody knows, a pod UID nobody knows, malformed names.
 */
#include <stdlib.h>
#include <string.h>
#include "podlogs.h"
#include "test.h"

#define U1 "8a3b1c2d-1111-4222-8333-944455556666"
#define U2 "0f0e0d0c-aaaa-4bbb-8ccc-ddddeeeeffff"
#define C1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define C2 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

int main(void)
{
	const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
	char dir[4096], ns[128], pod[256], uid[64];
	struct podlogs *p = NULL;
	struct pod_names n;

	ASSERT_TRUE(podlogs_parse_pod_dir("payments_api-7d9f_" U1, ns, sizeof(ns), pod, sizeof(pod),
					  uid, sizeof(uid)), "pod dir splits");
	ASSERT_STREQ(ns, "payments", "namespace");
	ASSERT_STREQ(pod, "api-7d9f", "pod");
	ASSERT_STREQ(uid, U1, "uid");
	ASSERT_FALSE(podlogs_parse_pod_dir("a_b", ns, sizeof(ns), pod, sizeof(pod), uid, sizeof(uid)),
		     "two parts");
	ASSERT_FALSE(podlogs_parse_pod_dir("a_b_c_d", ns, sizeof(ns), pod, sizeof(pod), uid,
					   sizeof(uid)), "four parts");
	ASSERT_FALSE(podlogs_parse_pod_dir("_b_c", ns, sizeof(ns), pod, sizeof(pod), uid,
					   sizeof(uid)), "empty namespace");

	snprintf(dir, sizeof(dir), "%s/tests/fixtures/podlogs/pods", srcdir);
	if (!ASSERT_OK(podlogs_new(dir, &p), "podlogs_new"))
		return test_exit();
	ASSERT_OK(podlogs_refresh(p), "refresh");

	ASSERT_TRUE(podlogs_lookup(p, U1, C1, &n), "pod 1 found");
	ASSERT_STREQ(n.namespace, "payments", "pod 1 namespace");
	ASSERT_STREQ(n.pod, "payments-api-7d9f", "pod 1 name");
	ASSERT_STREQ(n.container, "app", "container by id from the containers links");
	ASSERT_TRUE(podlogs_lookup(p, U1, C2, &n), "pod 1 again");
	ASSERT_STREQ(n.container, "log-shipper", "second container, name with a dash");
	ASSERT_TRUE(podlogs_lookup(p, U1, "", &n), "pod-level cgroup");
	ASSERT_STREQ(n.container, "", "pod-level: no container");
	ASSERT_TRUE(podlogs_lookup(p, U1, "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
				   &n), "unknown container id");
	ASSERT_STREQ(n.container, "", "two containers and no link: unknown, not guessed");

	ASSERT_TRUE(podlogs_lookup(p, U2, C1, &n), "pod 2 found");
	ASSERT_STREQ(n.namespace, "kube-system", "pod 2 namespace");
	ASSERT_STREQ(n.container, "coredns", "single container directory names it");

	ASSERT_FALSE(podlogs_lookup(p, "00000000-0000-0000-0000-000000000000", C1, &n),
		     "unknown pod");
	ASSERT_STREQ(n.pod, "", "unknown pod leaves names empty");
	p = podlogs_free(p);

	/* A missing directory is an error on refresh, and lookups find nothing. */
	ASSERT_OK(podlogs_new("/nonexistent/var/log/pods", &p), "new on a missing dir");
	ASSERT_TRUE(podlogs_refresh(p) < 0, "refresh of a missing dir fails");
	ASSERT_FALSE(podlogs_lookup(p, U1, C1, &n), "nothing found");
	podlogs_free(p);
	return test_exit();
}
