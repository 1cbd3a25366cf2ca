// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit test of the metrics module (daemon/metrics.c, metrics-http.c):
 * --metrics address forms (loopback by default, IPv4, [IPv6], bad ports
 * and hosts refused), counters accumulated over intervals, per-cgroup
 * series labelled with path and pod names and never per file, label values
 * escaped (quote, backslash, newline, control and non-UTF-8 bytes), series
 * of pruned cgroups dropped, and the loss counters by reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cgroups.h"
#include "metrics.h"
#include "test.h"

static void test_addr(void)
{
	struct sockaddr_storage ss;
	char err[256], text[64];
	socklen_t len;

	ASSERT_OK(metrics_parse_addr("9464", &ss, &len, err, sizeof(err)), "port alone");
	metrics_addr_text(&ss, text, sizeof(text));
	ASSERT_TRUE(!strcmp(text, "127.0.0.1:9464"), "port alone binds loopback");
	ASSERT_OK(metrics_parse_addr(":9464", &ss, &len, err, sizeof(err)), ":port");
	metrics_addr_text(&ss, text, sizeof(text));
	ASSERT_TRUE(!strcmp(text, "127.0.0.1:9464"), ":port binds loopback");
	ASSERT_OK(metrics_parse_addr("0.0.0.0:80", &ss, &len, err, sizeof(err)), "any");
	metrics_addr_text(&ss, text, sizeof(text));
	ASSERT_TRUE(!strcmp(text, "0.0.0.0:80"), "0.0.0.0");
	ASSERT_OK(metrics_parse_addr("localhost:9", &ss, &len, err, sizeof(err)), "localhost");
	ASSERT_OK(metrics_parse_addr("[::1]:9464", &ss, &len, err, sizeof(err)), "ipv6");
	metrics_addr_text(&ss, text, sizeof(text));
	ASSERT_TRUE(!strcmp(text, "[::1]:9464"), "ipv6 text");
	ASSERT_EQ(len, sizeof(struct sockaddr_in6), "ipv6 length");

	ASSERT_ERR(metrics_parse_addr("0", &ss, &len, err, sizeof(err)), -EINVAL, "port 0");
	ASSERT_ERR(metrics_parse_addr("65536", &ss, &len, err, sizeof(err)), -EINVAL, "port too big");
	ASSERT_ERR(metrics_parse_addr("1.2.3.4:", &ss, &len, err, sizeof(err)), -EINVAL, "no port");
	ASSERT_ERR(metrics_parse_addr("1.2.3:80", &ss, &len, err, sizeof(err)), -EINVAL, "bad ipv4");
	ASSERT_ERR(metrics_parse_addr("example.com:80", &ss, &len, err, sizeof(err)), -EINVAL,
		   "host names other than localhost");
	ASSERT_ERR(metrics_parse_addr("::1:80", &ss, &len, err, sizeof(err)), -EINVAL,
		   "ipv6 without brackets");
	ASSERT_ERR(metrics_parse_addr("[::1:80", &ss, &len, err, sizeof(err)), -EINVAL, "open bracket");
	ASSERT_ERR(metrics_parse_addr("x:-1", &ss, &len, err, sizeof(err)), -EINVAL, "negative port");
	ASSERT_TRUE(strstr(err, "port") != NULL, "the message names the port");
}

static struct batch one_interval(uint64_t victim, uint64_t pages)
{
	struct batch b = { 0 };

	b.ev = calloc(2, sizeof(*b.ev));
	b.n_ev = 2;
	b.ev[0].key = (struct cw_evict_key){ .victim = victim, .cause = CW_CAUSE_LIMIT,
					     .flags = CW_FLAG_EXEC, .ino = 1 };
	b.ev[0].c.pages = pages;
	/* A second file of the same victim, cause and exec: one series. */
	b.ev[1].key = b.ev[0].key;
	b.ev[1].key.ino = 2;
	b.ev[1].c.pages = 1;
	b.rf = calloc(1, sizeof(*b.rf));
	b.n_rf = 1;
	b.rf[0].key = (struct cw_refault_key){ .memcg = victim, .victim = victim,
					       .flags = CW_FLAG_EXEC };
	b.rf[0].v.pages = pages / 2;
	b.lost[CW_LOST_RINGBUF] = 3;
	return b;
}

static void test_render(void)
{
	struct cgroups *cgs = cgroups_new_table("/sys/fs/cgroup/memory", false, 4);
	struct metrics_bpf bpf = { .prog_name = { "cw_page_cache_add", "cw_page_cache_delete" },
				   .capacity = { 16384, 16384, 8192 }, .shadow_entries = 262144 };
	struct metrics_state m;
	struct cgroup_info *cg;
	struct batch b;
	char *text;

	metrics_state_init(&m);
	cg = cgroups_learn(cgs, 100, "/kubepods/pod1/app", 1000);
	cg->names_known = true;
	strcpy(cg->names.namespace, "payments");
	strcpy(cg->names.pod, "api-7d9f");
	strcpy(cg->names.container, "app");
	cg = cgroups_learn(cgs, 200, "/we\"ird\\na\nme\x1b[31m\xff", 1000);
	cg->dirty = false; /* as if written: prunable once removed */

	b = one_interval(100, 10);
	metrics_observe(&m, &b, 1010, 0.25);
	batch_done(&b);
	b = one_interval(100, 20);
	metrics_observe(&m, &b, 1020, 0.5);
	batch_done(&b);
	b = one_interval(200, 4);
	metrics_observe(&m, &b, 1030, 0.25);
	batch_done(&b);

	text = metrics_render(&m, cgs, &bpf, "/nonexistent/cachewatch.db");
	if (!ASSERT_TRUE(text != NULL, "rendered"))
		return;
	ASSERT_TRUE(strstr(text, "cachewatch_evicted_bytes_total{cgroup=\"/kubepods/pod1/app\","
				 "namespace=\"payments\",pod=\"api-7d9f\",container=\"app\","
				 "cause=\"limit\",exec=\"true\"} 131072\n") != NULL,
		    "victim's series: (10+1+20+1) pages = 131072 bytes, with pod labels");
	ASSERT_TRUE(strstr(text, "cachewatch_refaulted_bytes_total{cgroup=\"/kubepods/pod1/app\","
				 "namespace=\"payments\",pod=\"api-7d9f\",container=\"app\"} 61440\n") != NULL,
		    "refaults: (5+10) pages");
	ASSERT_TRUE(strstr(text, "cgroup=\"/we\\\"ird\\\\na\\nme\\\\x1b[31m\\\\xff\"") != NULL,
		    "label value escaped");
	ASSERT_TRUE(strstr(text, "cachewatch_lost_events_total{reason=\"ringbuf_full\"} 9\n") != NULL,
		    "losses by reason, summed");
	ASSERT_TRUE(strstr(text, "cachewatch_interval_flush_seconds_count 3\n") != NULL, "count");
	ASSERT_TRUE(strstr(text, "cachewatch_interval_flush_seconds_sum 1.000000\n") != NULL, "sum");
	ASSERT_TRUE(strstr(text, "cachewatch_map_capacity_entries{map=\"shadow\"} 262144\n") != NULL,
		    "shadow capacity");
	ASSERT_TRUE(strstr(text, "ino") == NULL && strstr(text, "file=") == NULL, "no per-file series");
	free(text);

	/* The second cgroup is forgotten by the name table: its series go. */
	cgroups_mark_removed(cgs, 200, NULL, 1040);
	cgroups_get(cgs, 200)->dirty = false; /* the removal was written */
	ASSERT_EQ(cgroups_prune(cgs, 1040 + 600, 16), 1, "the name table forgets it");
	metrics_prune(&m, cgs);
	text = metrics_render(&m, cgs, &bpf, "/nonexistent/cachewatch.db");
	ASSERT_TRUE(text && !strstr(text, "we\\\"ird"), "pruned cgroup's series dropped");
	ASSERT_TRUE(text && strstr(text, "/kubepods/pod1/app"), "live cgroup's series kept");
	free(text);
	metrics_state_done(&m);
	cgroups_free(cgs);
}

int main(void)
{
	test_addr();
	test_render();
	printf("%d checks, %d failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}
