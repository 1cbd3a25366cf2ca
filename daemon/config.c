// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option table and parsers for cachewatchd.  One table describes every
 * option once: its name, whether it takes a value, its range and where it
 * is stored, so the command line and the config file cannot disagree.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "config.h"
#include "util.h"

#ifndef CW_DEFAULT_DB
#define CW_DEFAULT_DB "/var/lib/cachewatch/cachewatch.db"
#endif

enum opt_kind { OPT_STRING, OPT_U32, OPT_FLAG, OPT_RECLAIM_CTX };

struct option_def {
	const char *name;
	char short_name;
	enum opt_kind kind;
	size_t offset;
	uint32_t min, max; /* OPT_U32 */
	bool file_ok;      /* allowed in the config file */
};

#define OFF(f) offsetof(struct config, f)

static const struct option_def options[] = {
	{ "db", 0, OPT_STRING, OFF(db_path), 0, 0, true },
	{ "interval", 0, OPT_U32, OFF(interval_s), 1, 3600, true },
	{ "duration", 0, OPT_U32, OFF(duration_s), 0, UINT32_MAX, true },
	{ "config", 0, OPT_STRING, OFF(config_path), 0, 0, false },
	{ "btf", 0, OPT_STRING, OFF(btf_path), 0, 0, true },
	{ "shadow-entries", 0, OPT_U32, OFF(shadow_entries), 1024, 1U << 24, true },
	{ "refault-sample", 0, OPT_U32, OFF(refault_sample), 1, 256, true },
	{ "evict-entries", 0, OPT_U32, OFF(evict_entries), 16, 1U << 22, true },
	{ "add-entries", 0, OPT_U32, OFF(add_entries), 16, 1U << 22, true },
	{ "refault-entries", 0, OPT_U32, OFF(refault_entries), 16, 1U << 22, true },
	{ "exec-entries", 0, OPT_U32, OFF(exec_entries), 16, 1U << 22, true },
	{ "max-cgroups", 0, OPT_U32, OFF(max_cgroups), 64, 1U << 22, true },
	{ "max-files", 0, OPT_U32, OFF(max_files), 256, 1U << 24, true },
	{ "pod-logs", 0, OPT_STRING, OFF(pod_logs), 0, 0, true },
	{ "metrics", 0, OPT_STRING, OFF(metrics_addr), 0, 0, true },
	{ "file-detail-pages", 0, OPT_U32, OFF(file_detail_pages), 0, 1U << 30, true },
	{ "raw-minutes", 0, OPT_U32, OFF(raw_minutes), 1, 10080, true },
	{ "rollup-minutes", 0, OPT_U32, OFF(rollup_minutes), 1, 1440, true },
	{ "keep-days", 0, OPT_U32, OFF(keep_days), 0, 3650, true },
	{ "reclaim-context", 0, OPT_RECLAIM_CTX, OFF(reclaim_ctx), 0, 0, true },
	{ "verbose", 'v', OPT_FLAG, OFF(verbose), 0, 0, true },
	{ "help", 'h', OPT_FLAG, OFF(help), 0, 0, false },
	{ "version", 'V', OPT_FLAG, OFF(version), 0, 0, false },
};

const char *config_usage(void)
{
	return "Usage: cachewatchd [OPTIONS]\n"
	       "Record page-cache evictions and refaults per memory cgroup, file and cause\n"
	       "into an SQLite database (see cachewatchd(8)).\n"
	       "\n"
	       "  --db PATH               database to write (default " CW_DEFAULT_DB ")\n"
	       "  --interval SECONDS      length of one interval, 1-3600 (default 10)\n"
	       "  --duration SECONDS      stop after this long; 0 = run until SIGTERM (default 0)\n"
	       "  --config FILE           read options from FILE: one \"name = value\" per line,\n"
	       "                          names as the long options; flags given here win\n"
	       "  --btf FILE              kernel BTF (default /sys/kernel/btf/vmlinux)\n"
	       "  --shadow-entries N      recent evictions remembered to detect refaults, rounded\n"
	       "                          up to a power of two (default 262144, 32 bytes each;\n"
	       "                          a refault is missed when its entry was given to a\n"
	       "                          newer eviction first: intervals.shadow_displaced)\n"
	       "  --refault-sample N      remember one in N evicted pages that are not executable\n"
	       "                          (a power of two, default 1: every page); their refault\n"
	       "                          figures become estimates, at a fraction of the cost\n"
	       "  --evict-entries N       eviction keys per interval (default 16384)\n"
	       "  --add-entries N         addition keys per interval (default 16384)\n"
	       "  --refault-entries N     refault keys per interval (default 8192)\n"
	       "  --exec-entries N        executable files remembered (default 65536)\n"
	       "  --max-cgroups N         cgroups kept in memory (default 16384)\n"
	       "  --max-files N           files kept in memory (default 65536); older entries\n"
	       "                          are forgotten (the database keeps them) and counted\n"
	       "  --file-detail-pages N   in each interval, files with fewer pages evicted, added\n"
	       "                          or refaulted are summed into one \"(other files)\" row,\n"
	       "                          except executable files and the 100 busiest\n"
	       "                          (default 64; 0 keeps every file)\n"
	       "  --pod-logs DIR          kubelet's pod log directory, for pod and container\n"
	       "                          names (default /var/log/pods)\n"
	       "  --metrics ADDR:PORT     serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	       "                          (default off; PORT or :PORT alone binds 127.0.0.1;\n"
	       "                          [ADDR6]:PORT for IPv6)\n"
	       "  --raw-minutes N         keep rows of every interval this long (default 60),\n"
	       "  --rollup-minutes N      then sum them into rows this long (default 5),\n"
	       "  --keep-days N           and delete them after this long (default 7; 0: never)\n"
	       "  --reclaim-context MODE  auto, scan-control or brackets: how the reclaim root and\n"
	       "                          kind are read (default auto: scan-control when the\n"
	       "                          kernel's BTF has struct scan_control)\n"
	       "  -v, --verbose           log every interval\n"
	       "  -h, --help              show this help\n"
	       "  -V, --version           show the version\n"
	       "\n"
	       "Exit status: 0 on success and after SIGTERM/SIGINT (the last interval is\n"
	       "written first), 1 on a runtime error, 2 on bad usage.\n";
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->db_path = strdup(CW_DEFAULT_DB);
	c->btf_path = strdup("/sys/kernel/btf/vmlinux");
	c->interval_s = 10;
	c->shadow_entries = 262144;
	c->refault_sample = 1;
	c->evict_entries = 16384;
	c->add_entries = 16384;
	c->refault_entries = 8192;
	c->exec_entries = 65536;
	c->max_cgroups = 16384;
	c->max_files = 65536;
	c->file_detail_pages = 64;
	c->raw_minutes = 60;
	c->rollup_minutes = 5;
	c->keep_days = 7;
	c->pod_logs = strdup("/var/log/pods");
	c->reclaim_ctx = RECLAIM_CTX_AUTO;
}

void config_done(struct config *c)
{
	free(c->db_path);
	free(c->btf_path);
	free(c->config_path);
	free(c->pod_logs);
	free(c->metrics_addr);
	memset(c, 0, sizeof(*c));
}

static const struct option_def *find_option(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static int parse_u32(const char *s, uint32_t *ret)
{
	unsigned long long v;
	char *end;

	if (!*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on"))
		*ret = true;
	else if (!strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

static int set_option(struct config *c, const struct option_def *o, const char *value,
		      char *err, size_t errlen)
{
	void *field = (char *)c + o->offset;
	uint32_t u;

	switch (o->kind) {
	case OPT_STRING: {
		char *copy;

		if (!value || !*value) {
			snprintf(err, errlen, "--%s needs a non-empty value", o->name);
			return -EINVAL;
		}
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	case OPT_U32:
		if (!value || parse_u32(value, &u) < 0 || u < o->min || u > o->max) {
			snprintf(err, errlen, "--%s: \"%s\" is not a whole number from %u to %u",
				 o->name, value ? value : "", o->min, o->max);
			return -EINVAL;
		}
		*(uint32_t *)field = u;
		return 0;
	case OPT_FLAG:
		if (!value) {
			*(bool *)field = true;
			return 0;
		}
		if (parse_bool(value, (bool *)field) < 0) {
			snprintf(err, errlen, "--%s: \"%s\" is not yes or no", o->name, value);
			return -EINVAL;
		}
		return 0;
	case OPT_RECLAIM_CTX:
		if (value && !strcmp(value, "auto"))
			*(enum reclaim_ctx_mode *)field = RECLAIM_CTX_AUTO;
		else if (value && !strcmp(value, "scan-control"))
			*(enum reclaim_ctx_mode *)field = RECLAIM_CTX_SCAN_CONTROL;
		else if (value && !strcmp(value, "brackets"))
			*(enum reclaim_ctx_mode *)field = RECLAIM_CTX_BRACKETS;
		else {
			snprintf(err, errlen,
				 "--%s: \"%s\" is not one of auto, scan-control, brackets",
				 o->name, value ? value : "");
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
	const struct option_def *o = find_option(key);

	if (!o) {
		snprintf(err, errlen, "unknown option \"%s\"", key);
		return -EINVAL;
	}
	return set_option(c, o, value, err, errlen);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(e));
		return -e;
	}
	while (getline(&line, &cap, f) >= 0) {
		const struct option_def *o;
		char *key, *value, *sep;
		char sub[512];
		bool had_eq;

		lineno++;
		key = trim(line);
		if (!*key || *key == '#')
			continue;
		sep = strpbrk(key, "= \t");
		value = NULL;
		had_eq = false;
		if (sep) {
			had_eq = *sep == '=';
			*sep = 0;
			value = trim(sep + 1);
			if (!had_eq && *value == '=') {
				had_eq = true;
				value = trim(value + 1);
			}
			key = trim(key);
		}
		o = find_option(key);
		if (!o || !o->file_ok) {
			snprintf(err, errlen, "%s:%u: unknown option \"%s\"", path, lineno, key);
			return -EINVAL;
		}
		/* A bare flag name means yes; "name =" with nothing after is an error. */
		if ((o->kind != OPT_FLAG || had_eq) && (!value || !*value)) {
			snprintf(err, errlen, "%s:%u: option \"%s\" needs a value", path, lineno,
				 key);
			return -EINVAL;
		}
		if (set_option(c, o, value && *value ? value : NULL, sub, sizeof(sub)) < 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, sub);
			return -EINVAL;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read config file %s", path);
		return -EIO;
	}
	return 0;
}

/*
 * Walk argv calling fn(option, value) for each option; handles "--name
 * value", "--name=value" and single-letter flags.
 */
typedef int (*arg_fn)(struct config *c, const struct option_def *o, const char *value,
		      char *err, size_t errlen);

static int walk_args(struct config *c, int argc, char **argv, arg_fn fn, char *err,
		     size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		const struct option_def *o = NULL;
		char name[64];
		int r;

		if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
			const char *eq = strchr(arg + 2, '=');
			size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);

			if (len < sizeof(name)) {
				memcpy(name, arg + 2, len);
				name[len] = 0;
				o = find_option(name);
			}
			if (o && eq)
				value = eq + 1;
		} else if (arg[0] == '-' && arg[1] && !arg[2]) {
			for (size_t k = 0; k < ARRAY_SIZE(options); k++)
				if (options[k].short_name == arg[1])
					o = &options[k];
		} else {
			snprintf(err, errlen, "unexpected argument \"%s\"", arg);
			return -EINVAL;
		}
		if (!o) {
			snprintf(err, errlen, "unknown option \"%s\"", arg);
			return -EINVAL;
		}
		if (o->kind == OPT_FLAG) {
			if (value && !*value) {
				snprintf(err, errlen, "--%s: empty value", o->name);
				return -EINVAL;
			}
		} else if (!value) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "--%s needs a value", o->name);
				return -EINVAL;
			}
			value = argv[++i];
		}
		r = fn(c, o, value, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

static int only_config(struct config *c, const struct option_def *o, const char *value,
		       char *err, size_t errlen)
{
	if (strcmp(o->name, "config") != 0)
		return 0;
	return set_option(c, o, value, err, errlen);
}

int config_parse_args(struct config *c, int argc, char **argv, char *err, size_t errlen)
{
	int r;

	r = walk_args(c, argc, argv, only_config, err, errlen);
	if (r < 0)
		return r;
	if (c->config_path) {
		r = config_load_file(c, c->config_path, err, errlen);
		if (r < 0)
			return r;
	}
	return walk_args(c, argc, argv, set_option, err, errlen);
}
