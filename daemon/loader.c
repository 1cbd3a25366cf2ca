// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loads cachewatch.bpf.o through its generated skeleton.  The kernel is
 * probed before loading: struct scan_control in the BTF decides the
 * reclaim-context mode (the bracket programs are only loaded when it is
 * missing or when asked for), and each program is attached on its own so
 * the log can say exactly which hooks are live.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include "cachewatch.skel.h"
#include "cachewatch.h"
#include "loader.h"

struct hook {
	const char *name; /* as logged and stored in runs.hooks */
	bool required;
	size_t prog_off;  /* of the program pointer in the skeleton */
	size_t link_off;  /* of its link pointer */
};

#define HOOK(n, req, field)                                                    \
	{ n, req, offsetof(struct cachewatch_bpf, progs.field),                \
	  offsetof(struct cachewatch_bpf, links.field) }

static const struct hook hooks[] = {
	HOOK("filemap_delete", true, cw_page_cache_delete),
	HOOK("filemap_add", true, cw_page_cache_add),
	HOOK("cgroup_mkdir", false, cw_cgroup_mkdir),
	HOOK("cgroup_rmdir", false, cw_cgroup_rmdir),
	HOOK("memcg_reclaim_begin", false, cw_memcg_reclaim_begin),
	HOOK("memcg_reclaim_end", false, cw_memcg_reclaim_end),
	HOOK("direct_reclaim_begin", false, cw_direct_reclaim_begin),
	HOOK("direct_reclaim_end", false, cw_direct_reclaim_end),
	HOOK("node_reclaim_begin", false, cw_node_reclaim_begin),
	HOOK("node_reclaim_end", false, cw_node_reclaim_end),
	HOOK("task_vma_iter", false, cw_seed_exec_inodes),
};

/* Does the BTF have struct name with every listed member? */
static bool btf_has_members(const char *path, const char *name, const char *const *members,
			    int *ret_err)
{
	/* The caller reports a bad file in one line: keep libbpf quiet meanwhile. */
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	struct btf *btf = btf__parse(path, NULL);
	const struct btf_type *t;
	bool found = true;
	int id;

	libbpf_set_print(print);
	if (!btf) {
		*ret_err = -errno;
		return false;
	}
	*ret_err = 0;
	id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	if (id < 0) {
		btf__free(btf);
		return false;
	}
	t = btf__type_by_id(btf, id);
	for (; found && *members; members++) {
		const struct btf_member *m = btf_members(t);

		found = false;
		for (int i = 0; i < btf_vlen(t); i++, m++)
			if (strcmp(btf__name_by_offset(btf, m->name_off), *members) == 0)
				found = true;
	}
	btf__free(btf);
	return found;
}

static struct bpf_program *hook_prog(struct cachewatch_bpf *s, const struct hook *h)
{
	return *(struct bpf_program **)((char *)s + h->prog_off);
}

static bool is_bracket_prog(const struct bpf_program *p)
{
	return strstr(bpf_program__section_name(p), "_reclaim_") != NULL;
}

static void append(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n, "%s%s", n ? "," : "", s);
}

/*
 * The program the verifier refused in the load under way, from libbpf's
 * message "prog 'NAME': BPF program load failed: ..." (libbpf gives no other
 * way to tell which one it was).  From that message on, libbpf's messages of
 * this load (the verifier log, "failed to load object" ...) are shown with
 * --verbose only: the loader's own line names the program.
 */
static libbpf_print_fn_t outer_print;
static char refused_prog[64];

static int watch_refusals(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[256], name[64];
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(msg, sizeof(msg), fmt, copy);
	va_end(copy);
	/* sscanf counts conversions only: the text after the name is checked apart. */
	if (!refused_prog[0] && strstr(msg, "': BPF program load failed") &&
	    sscanf(msg, "libbpf: prog '%63[^']'", name) == 1)
		snprintf(refused_prog, sizeof(refused_prog), "%s", name);
	if (refused_prog[0])
		level = LIBBPF_INFO;
	return outer_print ? outer_print(level, fmt, ap) : 0;
}

static const struct hook *hook_of(struct cachewatch_bpf *s, const char *prog_name)
{
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		if (strcmp(bpf_program__name(hook_prog(s, &hooks[i])), prog_name) == 0)
			return &hooks[i];
	}
	return NULL;
}

/* Open the object, size it for o, and load it without the hooks in skip. */
static int load_object(struct loader *l, const struct loader_opts *o, const bool *skip)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	struct cachewatch_bpf *s;
	struct bpf_program *p;
	__u32 shadow;
	int r;

	if (strcmp(o->btf_path, "/sys/kernel/btf/vmlinux") != 0)
		open_opts.btf_custom_path = o->btf_path;
	s = cachewatch_bpf__open_opts(&open_opts);
	if (!s)
		return -errno;
	l->skel = s;
	s->rodata->reclaim_ctx = l->brackets ? CW_RECLAIM_BRACKETS : CW_RECLAIM_SCAN_CONTROL;
	s->rodata->memcg_hierarchy_id = o->memcg_hierarchy_id;
	s->rodata->page_shift = __builtin_ctz((unsigned)sysconf(_SC_PAGESIZE));
	/* Fault injection for the degraded-load test: the verifier refuses the iterator. */
	s->rodata->iter_refused_for_test = getenv("CACHEWATCH_TEST_REFUSE_ITER") != NULL;
	/* The shadow table is indexed by a hash mask: a power of two of sets. */
	shadow = 512;
	while (shadow * CW_SHADOW_WAYS < o->shadow_entries)
		shadow <<= 1;
	bpf_map__set_max_entries(s->maps.shadow, shadow);
	s->rodata->shadow_mask = shadow - 1;
	s->rodata->sample_shift = __builtin_ctz(o->refault_sample ? o->refault_sample : 1);
	bpf_map__set_max_entries(s->maps.evict_0, o->evict_entries);
	bpf_map__set_max_entries(s->maps.evict_1, o->evict_entries);
	bpf_map__set_max_entries(s->maps.add_0, o->add_entries);
	bpf_map__set_max_entries(s->maps.add_1, o->add_entries);
	bpf_map__set_max_entries(s->maps.refault_0, o->refault_entries);
	bpf_map__set_max_entries(s->maps.refault_1, o->refault_entries);
	bpf_map__set_max_entries(s->maps.exec_inodes, o->exec_entries);
	bpf_object__for_each_program(p, s->obj)
		if (is_bracket_prog(p))
			bpf_program__set_autoload(p, l->brackets);
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (skip[i])
			bpf_program__set_autoload(hook_prog(s, &hooks[i]), false);

	refused_prog[0] = 0;
	outer_print = libbpf_set_print(watch_refusals);
	r = cachewatch_bpf__load(s);
	libbpf_set_print(outer_print);
	return r;
}

/*
 * Load, and when the verifier refuses an optional hook's program (a kernel
 * newer or stricter than the ones tested), load again without it: the
 * page-cache hooks are what matters.
 */
static int load_degrading(struct loader *l, const struct loader_opts *o, char *err, size_t errlen)
{
	bool skip[sizeof(hooks) / sizeof(hooks[0])] = { false };
	int r;

	for (;;) {
		const struct hook *h;
		char why[160];

		r = load_object(l, o, skip);
		if (r == 0)
			return 0;
		if (!l->skel) {
			snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-r));
			return r;
		}
		h = refused_prog[0] ? hook_of(l->skel, refused_prog) : NULL;
		cachewatch_bpf__destroy(l->skel);
		l->skel = NULL;
		if (!h || h->required || skip[h - hooks]) {
			snprintf(err, errlen, "cannot load the BPF programs: %s%s%s (--verbose "
				 "shows libbpf's messages and the verifier's log)", strerror(-r),
				 refused_prog[0] ? "; the kernel's verifier refused " : "",
				 refused_prog);
			return r;
		}
		skip[h - hooks] = true;
		snprintf(why, sizeof(why), "%s (refused by the kernel's verifier)", h->name);
		append(l->missing, sizeof(l->missing), why);
	}
}

int loader_open(struct loader **ret, const struct loader_opts *o, char *err, size_t errlen)
{
	struct cachewatch_bpf *s;
	struct loader *l;
	bool has_sc;
	int r;

	static const char *const sc_members[] = { "reclaim_state", "target_mem_cgroup", NULL };

	/* struct scan_control is private to mm/vmscan.c: probe before relying on it. */
	has_sc = btf_has_members(o->btf_path, "scan_control", sc_members, &r);
	if (r < 0) {
		char why[128];

		libbpf_strerror(r, why, sizeof(why));
		snprintf(err, errlen, "cannot read kernel BTF %s: %s (the kernel needs "
			 "CONFIG_DEBUG_INFO_BTF=y, or give --btf a BTF file)", o->btf_path, why);
		return r;
	}
	if (o->reclaim_ctx == RECLAIM_CTX_SCAN_CONTROL && !has_sc) {
		snprintf(err, errlen, "--reclaim-context=scan-control: struct scan_control (with "
			 "reclaim_state and target_mem_cgroup) is not in %s; use auto or brackets",
			 o->btf_path);
		return -EOPNOTSUPP;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->brackets = o->reclaim_ctx == RECLAIM_CTX_BRACKETS || !has_sc;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		snprintf(err, errlen, "cannot count possible CPUs");
		free(l);
		return -EIO;
	}
	r = load_degrading(l, o, err, errlen);
	if (r < 0) {
		free(l);
		return r;
	}
	s = l->skel;

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		const struct hook *h = &hooks[i];
		struct bpf_program *prog = hook_prog(s, h);
		struct bpf_link *link;
		char why[160];

		if (!bpf_program__autoload(prog))
			continue;
		link = bpf_program__attach(prog);
		if (!link) {
			r = -errno;
			if (h->required) {
				snprintf(err, errlen, "cannot attach required hook %s: %s", h->name,
					 strerror(-r));
				loader_free(l);
				return r;
			}
			snprintf(why, sizeof(why), "%s (%s)", h->name, strerror(-r));
			append(l->missing, sizeof(l->missing), why);
			continue;
		}
		*(struct bpf_link **)((char *)s + h->link_off) = link;
		append(l->hooks, sizeof(l->hooks), h->name);
		if (prog == s->progs.cw_seed_exec_inodes)
			l->exec_iter = true;
	}
	*ret = l;
	return 0;
}

struct loader *loader_free(struct loader *l)
{
	if (!l)
		return NULL;
	cachewatch_bpf__destroy(l->skel);
	free(l);
	return NULL;
}

int loader_exec_iter_fd(struct loader *l)
{
	int fd;

	if (!l->exec_iter)
		return -EOPNOTSUPP;
	fd = bpf_iter_create(bpf_link__fd(l->skel->links.cw_seed_exec_inodes));
	return fd < 0 ? -errno : fd;
}

volatile uint32_t *loader_interval_seq(struct loader *l)
{
	return &l->skel->bss->interval_seq;
}

int loader_evict_fd(struct loader *l, int which)
{
	return bpf_map__fd(which ? l->skel->maps.evict_1 : l->skel->maps.evict_0);
}

int loader_add_fd(struct loader *l, int which)
{
	return bpf_map__fd(which ? l->skel->maps.add_1 : l->skel->maps.add_0);
}

int loader_refault_fd(struct loader *l, int which)
{
	return bpf_map__fd(which ? l->skel->maps.refault_1 : l->skel->maps.refault_0);
}

int loader_lost_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.counters);
}

int loader_events_fd(struct loader *l)
{
	return bpf_map__fd(l->skel->maps.events);
}

uint64_t loader_recursion_misses(struct loader *l)
{
	uint64_t time_ns[2], cnt[2], misses[2];
	const char *name[2];

	loader_prog_stats(l, name, time_ns, cnt, misses);
	return misses[0] + misses[1];
}

void loader_prog_stats(struct loader *l, const char *name[2], uint64_t run_time_ns[2],
		       uint64_t run_cnt[2], uint64_t recursion_misses[2])
{
	struct bpf_program *progs[] = { l->skel->progs.cw_page_cache_add,
					l->skel->progs.cw_page_cache_delete };

	for (size_t i = 0; i < 2; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		name[i] = bpf_program__name(progs[i]);
		run_time_ns[i] = run_cnt[i] = recursion_misses[i] = 0;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len) == 0) {
			run_time_ns[i] = info.run_time_ns;
			run_cnt[i] = info.run_cnt;
			recursion_misses[i] = info.recursion_misses;
		}
	}
}
