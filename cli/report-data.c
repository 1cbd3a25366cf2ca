// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Gathering a report: every figure comes out of the databases here, with
 * the window bound as parameters and each query a range scan on a ts
 * index (no per-row subquery over the history) and merged across nodes;
 * report-steps.c then turns it into next steps.  Nothing is written until
 * all of it succeeded.
 */
#include <string.h>
#include "report.h"

const char *const rep_lost_names[LOST_KINDS] = {
	"eviction map full", "addition map full", "refault map full", "shadow update failed",
	"ring buffer full", "exec set full", "user-space tables full",
};

/* ---------------------------------------------------------------- helpers */

static sqlite3_stmt *prepare(struct rep_node *n, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(n->db, sql, -1, &st, NULL) != SQLITE_OK) {
		cli_error("report", "%s: %s", n->path, sqlite3_errmsg(n->db));
		return NULL;
	}
	return st;
}

/* ?1 and ?2 of every query are the window. */
static void bind_window(sqlite3_stmt *st, const struct report *r)
{
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
}

/* After the last sqlite3_step: SQLITE_DONE or an error to report. */
static bool finish(struct rep_node *n, sqlite3_stmt *st, int rc)
{
	if (rc != SQLITE_DONE) {
		cli_error("report", "%s: %s", n->path, sqlite3_errmsg(n->db));
		sqlite3_finalize(st);
		return false;
	}
	sqlite3_finalize(st);
	return true;
}

static char *col_str(struct report *r, sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	char *d;

	if (!s)
		return NULL;
	d = strdup((const char *)s);
	if (!d)
		r->oom = true;
	return d;
}

static int64_t col_int(sqlite3_stmt *st, int i, int64_t null)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? null : sqlite3_column_int64(st, i);
}

void *rep_grow(struct report *r, void **arr, size_t *cap, size_t n, size_t elem)
{
	if (grow_array(arr, cap, n + 1, elem) < 0) {
		r->oom = true;
		return NULL;
	}
	memset((char *)*arr + n * elem, 0, elem);
	return (char *)*arr + n * elem;
}

static void cgroup_free(struct rep_cgroup *cg)
{
	free(cg->path);
	free(cg->ns);
	free(cg->pod);
	free(cg->container);
	memset(cg, 0, sizeof(*cg));
}

static bool cgroup_copy(struct report *r, struct rep_cgroup *dst, const struct rep_cgroup *src);

/* The path and Kubernetes names of cgroup id (unknown ids keep NULLs). */
static bool load_cgroup(struct report *r, struct rep_node *n, int64_t id, struct rep_cgroup *cg)
{
	sqlite3_stmt *st = n->cgroup_stmt;
	int rc;

	cg->id = id;
	if (!st) {
		st = n->cgroup_stmt = prepare(n, "SELECT path, namespace, pod, container "
					      "FROM cgroups WHERE id = ?");
		if (!st)
			return false;
	}
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cg->path = col_str(r, st, 0);
		cg->ns = col_str(r, st, 1);
		cg->pod = col_str(r, st, 2);
		cg->container = col_str(r, st, 3);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		cli_error("report", "%s: %s", n->path, sqlite3_errmsg(n->db));
		return false;
	}
	return true;
}

const char *rep_cgroup_name(const struct rep_cgroup *cg, char *buf, size_t len)
{
	if (cg->path)
		return cg->path;
	snprintf(buf, len, "(cgroup id %lld, name unknown)", (long long)cg->id);
	return buf;
}

bool rep_cgroup_has_k8s(const struct rep_cgroup *cg)
{
	return cg->ns || cg->pod || cg->container;
}

int64_t rep_lost_total(const struct rep_node *n)
{
	int64_t t = 0;

	for (int i = 0; i < LOST_KINDS; i++)
		t += n->lost[i];
	return t;
}

/* Weighted median of a refault-time histogram: middle of the bucket where half is reached. */
double rep_median_ms(const struct report *r, const int64_t *hist)
{
	int64_t total = 0, cum = 0;

	for (int b = 0; b < REP_BUCKETS; b++)
		total += hist[b];
	if (!total || !r->have_buckets)
		return -1;
	for (int b = 0; b < REP_BUCKETS; b++) {
		cum += hist[b];
		if (2 * cum >= total)
			return r->bucket_mid[b];
	}
	return -1;
}

/* A JSON array of ids, bound to json_each() to select a set without formatting SQL. */
static char *id_list(struct report *r, const int64_t *ids, size_t n)
{
	size_t len = 2 + n * 21;
	char *s = malloc(len), *p;

	if (!s) {
		r->oom = true;
		return NULL;
	}
	p = s;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, len - (size_t)(p - s), "%s%lld", i ? "," : "", (long long)ids[i]);
	*p++ = ']';
	*p = 0;
	return s;
}

/* ---------------------------------------------------------------- nodes */

static bool gather_node(struct report *r, struct rep_node *n)
{
	sqlite3_stmt *st;
	int rc;

	st = prepare(n, "SELECT MIN(ts), MAX(ts), COUNT(*), "
			"TOTAL(lost_evict), TOTAL(lost_add), TOTAL(lost_refault), TOTAL(lost_shadow), "
			"TOTAL(lost_ringbuf), TOTAL(lost_exec), TOTAL(lost_user), "
			"TOTAL(shadow_displaced), TOTAL(dropped_names) "
			"FROM intervals WHERE ts BETWEEN ?1 AND ?2");
	if (!st)
		return false;
	bind_window(st, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n->first_ts = col_int(st, 0, 0);
		n->last_ts = col_int(st, 1, 0);
		n->intervals = col_int(st, 2, 0);
		for (int i = 0; i < LOST_KINDS; i++)
			n->lost[i] = col_int(st, 3 + i, 0);
		n->shadow_displaced = col_int(st, 10, 0);
		n->dropped_names = col_int(st, 11, 0);
		rc = sqlite3_step(st);
	}
	if (!finish(n, st, rc))
		return false;

	/* The host of the newest run that wrote in the window, else of the newest run. */
	st = prepare(n, "SELECT hostname, kernel, interval_s FROM runs "
			"ORDER BY EXISTS (SELECT 1 FROM intervals i WHERE i.run = runs.id "
			"AND i.ts BETWEEN ?1 AND ?2) DESC, id DESC LIMIT 1");
	if (!st)
		return false;
	bind_window(st, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n->hostname = col_str(r, st, 0);
		n->kernel = col_str(r, st, 1);
		n->interval_s = col_int(st, 2, 10);
		rc = sqlite3_step(st);
	}
	if (!finish(n, st, rc))
		return false;

	st = prepare(n, "SELECT MAX(refault_sample), MAX(reclaim_context = 'brackets') FROM runs "
			"WHERE id IN (SELECT DISTINCT run FROM intervals WHERE ts BETWEEN ?1 AND ?2)");
	if (!st)
		return false;
	bind_window(st, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n->refault_sample = col_int(st, 0, 1);
		n->brackets = col_int(st, 1, 0) > 0;
		rc = sqlite3_step(st);
	}
	if (!finish(n, st, rc))
		return false;

	/* Only v1 has a cgroup's own refault counter besides the hierarchical one. */
	st = prepare(n, "SELECT EXISTS (SELECT 1 FROM memstat WHERE ts BETWEEN ?1 AND ?2 "
			"AND workingset_refault_file IS NOT NULL)");
	if (!st)
		return false;
	bind_window(st, r);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n->cgroup_v1 = col_int(st, 0, 0) > 0;
		rc = sqlite3_step(st);
	}
	return finish(n, st, rc);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* The hostname, or the database's file name when hostnames clash (copies, clones). */
static bool label_nodes(struct report *r)
{
	for (size_t i = 0; i < r->nnodes; i++) {
		struct rep_node *n = &r->nodes[i];
		bool host_clash = !n->hostname || !*n->hostname, file_clash = false;
		const char *file = base_name(n->path);

		for (size_t j = 0; j < r->nnodes; j++) {
			if (j == i)
				continue;
			if (n->hostname && r->nodes[j].hostname && !strcmp(n->hostname, r->nodes[j].hostname))
				host_clash = true;
			if (!strcmp(file, base_name(r->nodes[j].path)))
				file_clash = true;
		}
		if (!host_clash)
			n->label = strdup(n->hostname);
		else if (asprintf(&n->label, "%s%s%s", n->hostname && *n->hostname ? n->hostname : "",
				  n->hostname && *n->hostname ? ":" : "", file_clash ? n->path : file) < 0)
			n->label = NULL;
		if (!n->label) {
			r->oom = true;
			return false;
		}
	}
	return true;
}

static bool gather_buckets(struct report *r, struct rep_node *n)
{
	sqlite3_stmt *st = prepare(n, "SELECT bucket, lower_ms, upper_ms, mid_ms FROM refault_buckets");
	int rc;

	if (!st)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(st, 0);

		if (b < 0 || b >= REP_BUCKETS)
			continue;
		r->bucket_lower[b] = sqlite3_column_double(st, 1);
		r->bucket_upper[b] = sqlite3_column_double(st, 2);
		r->bucket_mid[b] = sqlite3_column_double(st, 3);
		r->have_buckets = true;
	}
	return finish(n, st, rc);
}

/* ---------------------------------------------------------------- victims */

/* Executable files losing pages, per victim, with the cause and root that took the most. */
static bool gather_victims(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	sqlite3_stmt *st;
	int rc;

	st = prepare(n,
		     "WITH k AS MATERIALIZED ("
		     " SELECT victim, file, cause, root, SUM(pages) AS pages,"
		     "  SUM(refaulted_pages) AS refaulted, MIN(ts) AS first_ts, MAX(ts) AS last_ts"
		     " FROM evictions WHERE ts BETWEEN ?1 AND ?2 AND exec = 1"
		     " GROUP BY victim, file, cause, root"
		     "), t AS ("
		     " SELECT victim, file, SUM(pages) AS pages, SUM(refaulted) AS refaulted,"
		     "  MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts"
		     " FROM k GROUP BY victim, file ORDER BY refaulted DESC, pages DESC LIMIT ?3"
		     ")"
		     "SELECT t.victim, t.file, t.pages, t.refaulted, t.first_ts, t.last_ts,"
		     " (SELECT c.name FROM k JOIN causes c ON c.id = k.cause"
		     "  WHERE k.victim = t.victim AND k.file = t.file"
		     "  GROUP BY k.cause ORDER BY SUM(k.pages) DESC, k.cause LIMIT 1),"
		     " (SELECT k.root FROM k WHERE k.victim = t.victim AND k.file = t.file"
		     "  GROUP BY k.root ORDER BY SUM(k.pages) DESC, k.root LIMIT 1),"
		     " f.path, f.container_path, f.dev, f.ino,"
		     " (SELECT MAX(m.file_bytes) FROM memstat m"
		     "  WHERE m.cgroup = t.victim AND m.ts BETWEEN ?1 AND ?2)"
		     "FROM t JOIN files f ON f.id = t.file "
		     "ORDER BY t.refaulted DESC, t.pages DESC");
	if (!st)
		return false;
	bind_window(st, r);
	sqlite3_bind_int64(st, 3, (int64_t)r->top);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rep_victim *v = rep_grow(r, (void **)&r->victims, &r->cvictims, r->nvictims,
						sizeof(*v));

		if (!v)
			break;
		r->nvictims++;
		v->node = ni;
		v->evicted = col_int(st, 2, 0);
		v->refaulted = col_int(st, 3, 0);
		v->first_ts = col_int(st, 4, 0);
		v->last_ts = col_int(st, 5, 0);
		v->cause = col_str(r, st, 6);
		v->file = col_str(r, st, 8);
		v->container_file = col_str(r, st, 9);
		/* Another mount namespace that sees the same path says nothing new. */
		if (v->container_file && v->file && !strcmp(v->container_file, v->file)) {
			free(v->container_file);
			v->container_file = NULL;
		}
		v->dev = col_int(st, 10, 0);
		v->ino = col_int(st, 11, 0);
		v->file_peak = col_int(st, 12, -1);
		v->median_ms = -1;
		if (!load_cgroup(r, n, col_int(st, 0, 0), &v->victim))
			break;
		v->root.id = col_int(st, 7, 0);
		if (v->root.id && !load_cgroup(r, n, v->root.id, &v->root))
			break;
	}
	return finish(n, st, rc);
}

/* Refault times: the report's histogram, and each listed victim's median. */
static bool gather_hist(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	sqlite3_stmt *st;
	int rc;

	st = prepare(n, "SELECT h.victim, f.dev, f.ino, h.exec, h.bucket, SUM(h.pages) "
			"FROM refault_hist h JOIN files f ON f.id = h.file "
			"WHERE h.ts BETWEEN ?1 AND ?2 GROUP BY h.victim, h.file, h.exec, h.bucket");
	if (!st)
		return false;
	bind_window(st, r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t victim = sqlite3_column_int64(st, 0), dev = sqlite3_column_int64(st, 1);
		int64_t ino = sqlite3_column_int64(st, 2), b = sqlite3_column_int64(st, 4);
		int64_t pages = sqlite3_column_int64(st, 5);
		bool exec = sqlite3_column_int64(st, 3) != 0;

		if (b < 0 || b >= REP_BUCKETS)
			continue;
		(exec ? r->hist_exec : r->hist_other)[b] += pages;
		n->refaulted += pages;
		if (!exec)
			continue;
		for (size_t i = 0; i < r->nvictims; i++) {
			struct rep_victim *v = &r->victims[i];

			if (v->node == ni && v->victim.id == victim && v->dev == dev && v->ino == ino)
				v->hist[b] += pages;
		}
	}
	if (!finish(n, st, rc))
		return false;
	for (size_t i = 0; i < r->nvictims; i++)
		if (r->victims[i].node == ni)
			r->victims[i].median_ms = rep_median_ms(r, r->victims[i].hist);
	return true;
}

static int by_pages_desc(const void *a, const void *b)
{
	const struct rep_candidate *x = a, *y = b;

	return (x->pages < y->pages) - (x->pages > y->pages);
}

/* One (victim, cause, reclaim root) group of the window's evictions. */
struct group {
	int64_t victim, root, pages, exec_pages, refaulted;
	char *cause;
};

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->pages < y->pages) - (x->pages > y->pages);
}

static struct rep_root *root_of(struct report *r, size_t ni, size_t first, int64_t id)
{
	struct rep_root *o;

	for (size_t i = first; i < r->nroots; i++)
		if (r->roots[i].cg.id == id)
			return &r->roots[i];
	o = rep_grow(r, (void **)&r->roots, &r->croots, r->nroots, sizeof(*o));
	if (!o)
		return NULL;
	r->nroots++;
	o->node = ni;
	o->cg.id = id;
	return o;
}

/* Add a group to the losses, and its pages to its root and to its victim's total. */
static bool add_group(struct report *r, size_t ni, size_t first_root, const struct group *g,
		      bool listed, struct rep_candidate *victims, size_t *nvictims, size_t cap)
{
	struct rep_root *o;
	size_t v;

	if (listed) {
		struct rep_loss *l = rep_grow(r, (void **)&r->losses, &r->closses, r->nlosses,
					      sizeof(*l));

		if (!l)
			return false;
		r->nlosses++;
		l->node = ni;
		l->cause = strdup(g->cause ? g->cause : "?");
		if (!l->cause)
			r->oom = true;
		l->pages = g->pages;
		l->exec_pages = g->exec_pages;
		l->refaulted = g->refaulted;
		l->victim.id = g->victim;
		l->root.id = g->root;
	}
	for (v = 0; v < *nvictims && victims[v].id != g->victim; v++)
		;
	if (v == *nvictims && v < cap)
		victims[(*nvictims)++] = (struct rep_candidate){ ni, g->victim, 0 };
	if (v < *nvictims)
		victims[v].pages += g->pages;
	if (!g->root)
		return !r->oom;
	o = root_of(r, ni, first_root, g->root);
	if (!o)
		return false;
	o->pages += g->pages;
	o->exec_pages += g->exec_pages;
	o->refaulted += g->refaulted;
	return !r->oom;
}

/*
 * One pass over the window's evictions, grouped by (victim, cause, root):
 * the biggest groups are the losses table, their sums per root the roots
 * table, their sums per victim the timeline's candidates.
 */
static bool gather_totals(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	_cleanup_free_ struct group *groups = NULL;
	_cleanup_free_ struct rep_candidate *victims = NULL;
	size_t ngroups = 0, cgroups = 0, nvictims = 0, first_root = r->nroots;
	sqlite3_stmt *st;
	bool ok = true;
	int rc;

	st = prepare(n, "SELECT g.victim, c.name, g.root, g.pages, g.exec_pages, g.refaulted FROM ("
			" SELECT victim, cause, root, SUM(pages) AS pages,"
			"  SUM(CASE WHEN exec THEN pages ELSE 0 END) AS exec_pages,"
			"  SUM(refaulted_pages) AS refaulted"
			" FROM evictions WHERE ts BETWEEN ?1 AND ?2 GROUP BY victim, cause, root"
			") g JOIN causes c ON c.id = g.cause");
	if (!st)
		return false;
	bind_window(st, r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow_array((void **)&groups, &cgroups, ngroups + 1, sizeof(*groups)) < 0) {
			r->oom = true;
			break;
		}
		groups[ngroups++] = (struct group){
			.victim = sqlite3_column_int64(st, 0), .cause = col_str(r, st, 1),
			.root = sqlite3_column_int64(st, 2), .pages = sqlite3_column_int64(st, 3),
			.exec_pages = sqlite3_column_int64(st, 4), .refaulted = sqlite3_column_int64(st, 5),
		};
	}
	ok = finish(n, st, rc) && !r->oom;
	qsort(groups, ngroups, sizeof(*groups), group_cmp);
	victims = calloc(ngroups + 1, sizeof(*victims));
	if (!victims) {
		r->oom = true;
		ok = false;
	}
	for (size_t i = 0; ok && i < ngroups; i++)
		ok = add_group(r, ni, first_root, &groups[i], i < r->top, victims, &nvictims, ngroups);
	for (size_t i = 0; i < ngroups; i++)
		free(groups[i].cause);
	if (!ok)
		return false;

	/* Distinct victims per root: a victim has one group per cause under a root. */
	for (size_t i = first_root; i < r->nroots; i++) {
		struct rep_root *o = &r->roots[i];

		for (size_t j = 0; j < ngroups; j++) {
			bool seen = false;

			if (groups[j].root != o->cg.id)
				continue;
			for (size_t k = 0; k < j && !seen; k++)
				seen = groups[k].root == o->cg.id && groups[k].victim == groups[j].victim;
			o->victims += !seen;
		}
	}
	qsort(victims, nvictims, sizeof(*victims), by_pages_desc);
	for (size_t i = 0; i < nvictims && i < REP_SERIES && r->ncand < ARRAY_SIZE(r->cand); i++)
		r->cand[r->ncand++] = victims[i];
	return true;
}

/* Names of the listed losses of node ni. */
static bool name_losses(struct report *r, size_t ni)
{
	for (size_t i = 0; i < r->nlosses; i++) {
		struct rep_loss *l = &r->losses[i];

		if (l->node != ni)
			continue;
		if (!load_cgroup(r, &r->nodes[ni], l->victim.id, &l->victim) ||
		    (l->root.id && !load_cgroup(r, &r->nodes[ni], l->root.id, &l->root)))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- reclaim roots */

/* A counter's increase over the window: from the last snapshot before it (else the first in it). */
static bool counter_span(struct rep_node *n, const struct report *r, int64_t cgroup, int col,
			 int64_t *from_ts, int64_t *from, int64_t *to_ts, int64_t *to)
{
	static const char *const sql[] = {
		"SELECT ts, failcnt, total_workingset_refault_file FROM memstat "
		"WHERE cgroup = ?3 AND ts < ?1 ORDER BY ts DESC LIMIT 1",
		"SELECT ts, failcnt, total_workingset_refault_file FROM memstat "
		"WHERE cgroup = ?3 AND ts BETWEEN ?1 AND ?2 ORDER BY ts LIMIT 1",
		"SELECT ts, failcnt, total_workingset_refault_file FROM memstat "
		"WHERE cgroup = ?3 AND ts BETWEEN ?1 AND ?2 ORDER BY ts DESC LIMIT 1",
	};
	int64_t ts[3] = { -1, -1, -1 }, v[3] = { -1, -1, -1 };

	for (int q = 0; q < 3; q++) {
		sqlite3_stmt *st;
		int rc;

		if (q == 1 && ts[0] >= 0)
			continue;
		st = prepare(n, sql[q]);
		if (!st)
			return false;
		bind_window(st, r);
		sqlite3_bind_int64(st, 3, cgroup);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			ts[q] = col_int(st, 0, -1);
			v[q] = col_int(st, col, -1);
			rc = sqlite3_step(st);
		}
		if (!finish(n, st, rc))
			return false;
	}
	*from_ts = ts[0] >= 0 ? ts[0] : ts[1];
	*from = ts[0] >= 0 ? v[0] : v[1];
	*to_ts = ts[2];
	*to = v[2];
	return true;
}

/* Limit, usage and limit hits of the listed roots of node ni, and their names. */
static bool gather_root_stats(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < r->nroots; i++) {
		struct rep_root *o = &r->roots[i];
		int64_t from_ts, from, to_ts, to;

		if (o->node != ni)
			continue;
		if (!load_cgroup(r, n, o->cg.id, &o->cg))
			return false;

		st = prepare(n, "SELECT COUNT(*), COUNT(limit_bytes), MIN(limit_bytes), MAX(limit_bytes), "
				"MAX(usage_bytes), MAX(total_file_bytes) FROM memstat "
				"WHERE cgroup = ?3 AND ts BETWEEN ?1 AND ?2");
		if (!st)
			return false;
		bind_window(st, r);
		sqlite3_bind_int64(st, 3, o->cg.id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t rows = col_int(st, 0, 0), limited = col_int(st, 1, 0);

			o->have_stat = rows > 0;
			o->limit_min = limited ? col_int(st, 2, -1) : -1;
			/* Unlimited for part of the window counts as unlimited at most. */
			o->limit_max = limited == rows ? col_int(st, 3, -1) : -1;
			o->usage_max = col_int(st, 4, -1);
			o->file_max = col_int(st, 5, -1);
			rc = sqlite3_step(st);
		}
		if (!finish(n, st, rc))
			return false;
		o->failcnt = -1;
		if (!counter_span(n, r, o->cg.id, 1, &from_ts, &from, &to_ts, &to))
			return false;
		if (from >= 0 && to >= from && to_ts > from_ts)
			o->failcnt = to - from;
		else if (from >= 0 && to_ts == from_ts)
			o->failcnt = 0;
	}
	return true;
}

/* Per-root accumulator of one cgroup's memory while the root reclaimed. */
struct held {
	int64_t root, cgroup, base, peak, peak_anon, peak_file;
};

static void keep_pressure(struct report *r, size_t ni, const struct held *h)
{
	struct rep_pressure *p = NULL;
	size_t count = 0, worst = SIZE_MAX;
	int64_t growth = h->peak - h->base;

	/* Keep the REP_PRESSURE_PER_ROOT cgroups that grew the most under each root. */
	for (size_t i = 0; i < r->npressure; i++) {
		struct rep_pressure *q = &r->pressure[i];

		if (q->node != ni || q->root_id != h->root)
			continue;
		count++;
		if (worst == SIZE_MAX || q->growth < r->pressure[worst].growth)
			worst = i;
	}
	if (count >= REP_PRESSURE_PER_ROOT) {
		if (growth <= r->pressure[worst].growth)
			return;
		p = &r->pressure[worst];
		cgroup_free(&p->cg);
	} else {
		p = rep_grow(r, (void **)&r->pressure, &r->cpressure, r->npressure, sizeof(*p));
		if (!p)
			return;
		r->npressure++;
	}
	memset(p, 0, sizeof(*p));
	p->node = ni;
	p->root_id = h->root;
	p->cg.id = h->cgroup;
	p->peak_anon = h->peak_anon;
	p->peak_file = h->peak_file;
	p->growth = growth;
}

/* By node and root as listed, then the biggest growth first. */
static int pressure_cmp(const void *a, const void *b)
{
	const struct rep_pressure *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->root_id != y->root_id)
		return x->root_id < y->root_id ? -1 : 1;
	return (x->growth < y->growth) - (x->growth > y->growth);
}

/*
 * Who held the memory under each listed root in the intervals it reclaimed:
 * growth is the highest the cgroup's own anon + file got above what it held
 * before the first of them (as v_exec_thrash's top_pressure).
 */
static bool gather_pressure(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	int64_t ids[256];
	size_t nids = 0;
	_cleanup_free_ char *list = NULL;
	struct held h = { .root = -1 };
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < r->nroots && nids < ARRAY_SIZE(ids); i++)
		if (r->roots[i].node == ni)
			ids[nids++] = r->roots[i].cg.id;
	if (!nids)
		return true;
	list = id_list(r, ids, nids);
	if (!list)
		return false;
	/* Subtree members first, then a direct (ts, cgroup) lookup per reclaiming interval. */
	st = prepare(n,
		     "WITH ids AS (SELECT value AS id FROM json_each(?3)), "
		     "roots AS MATERIALIZED (SELECT DISTINCT ts, root FROM evictions"
		     " WHERE ts BETWEEN ?1 AND ?2 AND root IN ids), "
		     "sub AS MATERIALIZED (SELECT rc.id AS root, c.id AS cgroup"
		     " FROM cgroups rc JOIN cgroups c ON rc.path = '/' OR c.id = rc.id"
		     "  OR substr(c.path, 1, length(rc.path) + 1) = rc.path || '/'"
		     " WHERE rc.id IN ids) "
		     "SELECT r.root, m.cgroup, m.anon_bytes, m.file_bytes, m.anon_delta, m.file_delta "
		     "FROM roots r JOIN sub s ON s.root = r.root "
		     "JOIN memstat m ON m.ts = r.ts AND m.cgroup = s.cgroup "
		     "ORDER BY r.root, m.cgroup, m.ts");
	if (!st)
		return false;
	bind_window(st, r);
	sqlite3_bind_text(st, 3, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t root = sqlite3_column_int64(st, 0), cg = sqlite3_column_int64(st, 1);
		int64_t anon = col_int(st, 2, 0), file = col_int(st, 3, 0);
		int64_t held = anon + file;

		if (root != h.root || cg != h.cgroup) {
			if (h.root >= 0)
				keep_pressure(r, ni, &h);
			h = (struct held){ .root = root, .cgroup = cg, .peak = held,
					   .base = held - col_int(st, 4, 0) - col_int(st, 5, 0) };
		}
		if (held > h.peak)
			h.peak = held;
		if (anon > h.peak_anon)
			h.peak_anon = anon;
		if (file > h.peak_file)
			h.peak_file = file;
	}
	if (h.root >= 0 && rc == SQLITE_DONE)
		keep_pressure(r, ni, &h);
	if (!finish(n, st, rc))
		return false;
	/* Every pressure row of this node was made above, with its id only. */
	for (size_t i = 0; i < r->npressure; i++) {
		struct rep_pressure *p = &r->pressure[i];

		if (p->node != ni)
			continue;
		if (!load_cgroup(r, n, p->cg.id, &p->cg))
			return false;
		for (size_t j = 0; j < r->nvictims; j++)
			if (r->victims[j].node == ni && r->victims[j].victim.id == p->cg.id)
				p->is_victim = true;
	}
	qsort(r->pressure, r->npressure, sizeof(*r->pressure), pressure_cmp);
	return true;
}

/* ---------------------------------------------------------------- kernel cross-check */

static bool add_check(struct report *r, size_t ni, const struct rep_cgroup *cg)
{
	struct rep_check *c;

	for (size_t i = 0; i < r->nchecks; i++)
		if (r->checks[i].node == ni && r->checks[i].cg.id == cg->id)
			return true;
	c = rep_grow(r, (void **)&r->checks, &r->cchecks, r->nchecks, sizeof(*c));
	if (!c)
		return false;
	r->nchecks++;
	c->node = ni;
	return cgroup_copy(r, &c->cg, cg);
}

/* Refaults cachewatch counted per interval and cgroup, read once per node. */
struct refault_row {
	int64_t ts, cgroup, pages;
};

static bool in_subtree(const char *path, const char *root)
{
	size_t n;

	if (!path || !root)
		return false;
	if (!strcmp(root, "/"))
		return true;
	n = strlen(root);
	return !strncmp(path, root, n) && (path[n] == 0 || path[n] == '/');
}

/*
 * For every reclaim root and listed victim: the kernel's hierarchical
 * refault counter over the snapshots it has in the window, and what
 * cachewatch counted under that cgroup over exactly the same intervals.
 */
static bool gather_checks(struct report *r, size_t ni)
{
	struct rep_node *n = &r->nodes[ni];
	_cleanup_free_ struct refault_row *rows = NULL;
	_cleanup_free_ struct rep_cgroup *names = NULL;
	size_t nrows = 0, crows = 0, nnames = 0, cnames = 0, first = r->nchecks;
	sqlite3_stmt *st;
	bool ok = true;
	int rc;

	for (size_t i = 0; i < r->nroots; i++)
		if (r->roots[i].node == ni && !add_check(r, ni, &r->roots[i].cg))
			return false;
	for (size_t i = 0; i < r->nvictims; i++)
		if (r->victims[i].node == ni && !add_check(r, ni, &r->victims[i].victim))
			return false;
	if (first == r->nchecks)
		return true;

	st = prepare(n, "SELECT ts, cgroup, SUM(pages) FROM refault_hist "
			"WHERE ts BETWEEN ?1 AND ?2 GROUP BY ts, cgroup");
	if (!st)
		return false;
	bind_window(st, r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow_array((void **)&rows, &crows, nrows + 1, sizeof(*rows)) < 0) {
			r->oom = true;
			break;
		}
		rows[nrows++] = (struct refault_row){ sqlite3_column_int64(st, 0),
						      sqlite3_column_int64(st, 1),
						      sqlite3_column_int64(st, 2) };
	}
	if (!finish(n, st, rc) || r->oom)
		return false;

	/* The paths of the cgroups that refaulted, to place them under each checked cgroup. */
	st = prepare(n, "SELECT id, path FROM cgroups WHERE id IN "
			"(SELECT DISTINCT cgroup FROM refault_hist WHERE ts BETWEEN ?1 AND ?2)");
	if (!st)
		return false;
	bind_window(st, r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (grow_array((void **)&names, &cnames, nnames + 1, sizeof(*names)) < 0) {
			r->oom = true;
			break;
		}
		names[nnames] = (struct rep_cgroup){ .id = sqlite3_column_int64(st, 0),
						     .path = col_str(r, st, 1) };
		nnames++;
	}
	ok = finish(n, st, rc) && !r->oom;

	for (size_t i = first; ok && i < r->nchecks; i++) {
		struct rep_check *c = &r->checks[i];
		int64_t from, to;

		if (!counter_span(n, r, c->cg.id, 2, &c->from_ts, &from, &c->to_ts, &to)) {
			ok = false;
			break;
		}
		c->known = from >= 0 && to >= 0 && c->to_ts > c->from_ts;
		if (!c->known)
			continue;
		c->kernel = to - from;
		for (size_t k = 0; k < nrows; k++) {
			bool under = rows[k].cgroup == c->cg.id;

			if (rows[k].ts <= c->from_ts || rows[k].ts > c->to_ts)
				continue;
			for (size_t j = 0; !under && j < nnames; j++)
				under = names[j].id == rows[k].cgroup && in_subtree(names[j].path, c->cg.path);
			if (under)
				c->cachewatch += rows[k].pages;
		}
	}
	for (size_t j = 0; j < nnames; j++)
		free(names[j].path);
	return ok;
}

/* ---------------------------------------------------------------- timeline */

/* The REP_SERIES victims that lost the most, over all nodes. */
static bool pick_series(struct report *r)
{
	qsort(r->cand, r->ncand, sizeof(*r->cand), by_pages_desc);
	for (size_t i = 0; i < r->ncand && i < REP_SERIES; i++) {
		struct rep_series *s = &r->timeline.s[r->timeline.n++];

		s->node = r->cand[i].node;
		if (!load_cgroup(r, &r->nodes[s->node], r->cand[i].id, &s->cg))
			return false;
	}
	return true;
}

/* Add pages per (ts, victim) rows of one query to the series of node ni. */
static bool fill_series(struct report *r, size_t ni, const char *sql, bool refault)
{
	struct rep_node *n = &r->nodes[ni];
	struct rep_timeline *t = &r->timeline;
	int64_t ids[REP_SERIES];
	size_t nids = 0;
	_cleanup_free_ char *list = NULL;
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].node == ni)
			ids[nids++] = t->s[i].cg.id;
	if (!nids)
		return true;
	list = id_list(r, ids, nids);
	if (!list)
		return false;
	st = prepare(n, sql);
	if (!st)
		return false;
	bind_window(st, r);
	sqlite3_bind_text(st, 3, list, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(st, 0), id = sqlite3_column_int64(st, 1);
		int64_t pages = sqlite3_column_int64(st, 2), bin = (ts - t->start) / t->bin_s;

		if (bin < 0 || (size_t)bin >= t->nbins)
			continue;
		for (size_t i = 0; i < t->n; i++) {
			struct rep_series *s = &t->s[i];

			if (s->node != ni || s->cg.id != id)
				continue;
			if (refault) {
				s->refault[bin] += (double)pages / (double)t->bin_s;
				s->refaulted += pages;
			} else {
				s->evict[bin] += (double)pages / (double)t->bin_s;
				s->evicted += pages;
			}
		}
	}
	return finish(n, st, rc);
}

static bool gather_timeline(struct report *r)
{
	struct rep_timeline *t = &r->timeline;
	int64_t span = r->last_ts - r->first_ts, step = INT64_MAX;

	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].intervals && r->nodes[i].interval_s > 0 && r->nodes[i].interval_s < step)
			step = r->nodes[i].interval_s;
	if (step == INT64_MAX)
		step = 10;
	/* Whole intervals per bin, few enough bins to draw. */
	t->bin_s = step * ((span + step) / step / (REP_MAX_BINS - 1) + 1);
	t->nbins = (size_t)((span + step) / t->bin_s) + 1;
	/* A ts ends its interval: the first bin starts one interval before the first ts. */
	t->start = r->first_ts - step;
	if (!pick_series(r))
		return false;
	for (size_t ni = 0; ni < r->nnodes; ni++) {
		if (!fill_series(r, ni,
				 "SELECT ts, victim, SUM(pages) FROM evictions WHERE ts BETWEEN ?1 AND ?2 "
				 "AND victim IN (SELECT value FROM json_each(?3)) GROUP BY ts, victim",
				 false) ||
		    !fill_series(r, ni,
				 "SELECT ts, victim, SUM(pages) FROM refault_hist WHERE ts BETWEEN ?1 AND ?2 "
				 "AND victim IN (SELECT value FROM json_each(?3)) GROUP BY ts, victim",
				 true))
			return false;
	}
	return true;
}

/* ---------------------------------------------------------------- merging nodes */

static int victim_cmp(const void *a, const void *b)
{
	const struct rep_victim *x = a, *y = b;

	if (x->refaulted != y->refaulted)
		return x->refaulted < y->refaulted ? 1 : -1;
	return (x->evicted < y->evicted) - (x->evicted > y->evicted);
}

static int loss_cmp(const void *a, const void *b)
{
	const struct rep_loss *x = a, *y = b;

	return (x->pages < y->pages) - (x->pages > y->pages);
}

static int root_cmp(const void *a, const void *b)
{
	const struct rep_root *x = a, *y = b;

	if (x->exec_pages != y->exec_pages)
		return x->exec_pages < y->exec_pages ? 1 : -1;
	return (x->pages < y->pages) - (x->pages > y->pages);
}

static void victim_free(struct rep_victim *v)
{
	cgroup_free(&v->victim);
	cgroup_free(&v->root);
	cgroup_free(&v->pressure);
	free(v->file);
	free(v->container_file);
	free(v->cause);
}

static void loss_free(struct rep_loss *l)
{
	cgroup_free(&l->victim);
	cgroup_free(&l->root);
	free(l->cause);
}

/* Each node gave its top N: keep the top N of all of them. */
static void merge_top(struct report *r)
{
	qsort(r->victims, r->nvictims, sizeof(*r->victims), victim_cmp);
	while (r->nvictims > r->top)
		victim_free(&r->victims[--r->nvictims]);
	qsort(r->losses, r->nlosses, sizeof(*r->losses), loss_cmp);
	while (r->nlosses > r->top)
		loss_free(&r->losses[--r->nlosses]);
	qsort(r->roots, r->nroots, sizeof(*r->roots), root_cmp);
	while (r->nroots > r->top)
		cgroup_free(&r->roots[--r->nroots].cg);
}

static bool cgroup_copy(struct report *r, struct rep_cgroup *dst, const struct rep_cgroup *src)
{
	*dst = (struct rep_cgroup){ .id = src->id };
	if ((src->path && !(dst->path = strdup(src->path))) ||
	    (src->ns && !(dst->ns = strdup(src->ns))) || (src->pod && !(dst->pod = strdup(src->pod))) ||
	    (src->container && !(dst->container = strdup(src->container)))) {
		r->oom = true;
		return false;
	}
	return true;
}

/* The cgroup other than the victim that grew the most under a root. */
const struct rep_pressure *rep_top_pressure(const struct report *r, size_t node, int64_t root,
					    int64_t victim)
{
	const struct rep_pressure *best = NULL;

	for (size_t i = 0; i < r->npressure; i++) {
		const struct rep_pressure *p = &r->pressure[i];

		if (p->node != node || p->root_id != root || p->cg.id == victim || p->growth <= 0)
			continue;
		if (!best || p->growth > best->growth)
			best = p;
	}
	return best;
}

/* Name each victim's pressure: what grew the most under its reclaim root. */
static void victims_pressure(struct report *r)
{
	for (size_t i = 0; i < r->nvictims; i++) {
		struct rep_victim *v = &r->victims[i];
		const struct rep_pressure *p;

		if (!v->root.id)
			continue;
		p = rep_top_pressure(r, v->node, v->root.id, v->victim.id);
		if (p && cgroup_copy(r, &v->pressure, &p->cg))
			v->pressure_growth = p->growth;
	}
}

/* ---------------------------------------------------------------- entry */

int report_gather(struct report *r)
{
	for (size_t i = 0; i < r->nnodes; i++)
		if (!gather_node(r, &r->nodes[i]))
			return CLI_FAIL;
	r->first_ts = INT64_MAX;
	r->last_ts = INT64_MIN;
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct rep_node *n = &r->nodes[i];

		if (!n->intervals)
			continue;
		r->have_data = true;
		if (n->first_ts < r->first_ts)
			r->first_ts = n->first_ts;
		if (n->last_ts > r->last_ts)
			r->last_ts = n->last_ts;
	}
	r->multi = r->nnodes > 1;
	if (!label_nodes(r) || !gather_buckets(r, &r->nodes[0]))
		goto fail;
	if (!r->have_data)
		return r->oom ? CLI_FAIL : CLI_OK;

	for (size_t i = 0; i < r->nnodes; i++)
		if (!gather_victims(r, i) || !gather_totals(r, i))
			goto fail;
	merge_top(r);
	for (size_t i = 0; i < r->nnodes; i++)
		if (!name_losses(r, i) || !gather_root_stats(r, i) || !gather_hist(r, i) ||
		    !gather_pressure(r, i) || !gather_checks(r, i))
			goto fail;
	victims_pressure(r);
	if (!gather_timeline(r))
		goto fail;
	report_steps(r);
	if (r->oom)
		goto fail;
	return CLI_OK;
fail:
	if (r->oom)
		cli_error("report", "out of memory");
	return CLI_FAIL;
}

void report_free(struct report *r)
{
	for (size_t i = 0; i < r->nnodes; i++) {
		struct rep_node *n = &r->nodes[i];

		sqlite3_finalize(n->cgroup_stmt);
		if (n->db)
			sqlite3_close(n->db);
		free(n->hostname);
		free(n->kernel);
		free(n->label);
	}
	for (size_t i = 0; i < r->nvictims; i++)
		victim_free(&r->victims[i]);
	for (size_t i = 0; i < r->nlosses; i++)
		loss_free(&r->losses[i]);
	for (size_t i = 0; i < r->nroots; i++)
		cgroup_free(&r->roots[i].cg);
	for (size_t i = 0; i < r->npressure; i++)
		cgroup_free(&r->pressure[i].cg);
	for (size_t i = 0; i < r->nchecks; i++)
		cgroup_free(&r->checks[i].cg);
	for (size_t i = 0; i < r->timeline.n; i++)
		cgroup_free(&r->timeline.s[i].cg);
	for (size_t i = 0; i < r->nsteps; i++)
		for (size_t j = 0; j < r->steps[i].n; j++)
			free(r->steps[i].part[j].s);
	free(r->victims);
	free(r->losses);
	free(r->roots);
	free(r->pressure);
	free(r->checks);
	free(r->steps);
	memset(r, 0, sizeof(*r));
}
