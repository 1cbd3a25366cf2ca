// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Gathering the rows of `cachewatch top` for one window; see top-data.h.
 * Every value is bound; the only SQL assembled at run time is an ORDER BY
 * picked from the constant table below.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "top-data.h"

static const struct {
	const char *name;
	const char *alias;
	const char *order_by; /* over the columns pages, exec_pages, refaulted, median_ms, name */
} sorts[TOP_SORT_COUNT] = {
	[TOP_SORT_EVICTED] = { "evicted", NULL, "pages DESC" },
	[TOP_SORT_EXEC] = { "exec", NULL, "exec_pages DESC, pages DESC" },
	[TOP_SORT_REFAULTED] = { "refaulted", NULL, "refaulted DESC, pages DESC" },
	[TOP_SORT_TIME] = { "time", "refault-time", "median_ms IS NULL, median_ms, refaulted DESC" },
	[TOP_SORT_CGROUP] = { "cgroup", "name", "name" },
};

const char *top_sort_name(enum top_sort sort)
{
	return sort < TOP_SORT_COUNT ? sorts[sort].name : "?";
}

int top_sort_parse(const char *s, enum top_sort *ret)
{
	for (int i = 0; i < TOP_SORT_COUNT; i++)
		if (!strcmp(s, sorts[i].name) || (sorts[i].alias && !strcmp(s, sorts[i].alias))) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

/* How a cgroup is shown: Kubernetes names when known, else its path. */
#define CGROUP_NAME(c, id)                                                                      \
	"CASE WHEN " c ".pod IS NOT NULL THEN COALESCE(" c ".namespace, '?') || '/' || " c       \
	".pod || COALESCE('/' || " c ".container, '/' || substr(" c ".container_id, 1, 12), '') " \
	"WHEN " c ".path IS NOT NULL THEN " c ".path ELSE '(cgroup ' || " id " || ')' END"

/* Does cgroup c pass the filter ?3 (NULL: every cgroup)?  Plain substring, no wildcards. */
#define FILTER_MATCH(c)                                                                  \
	"(?3 IS NULL OR instr(" c ".path, ?3) OR instr(" c ".namespace, ?3) OR instr(" c \
	".pod, ?3) OR instr(" c ".container, ?3) OR instr(" c ".namespace || '/' || " c  \
	".pod || COALESCE('/' || " c ".container, ''), ?3))"

/* Weighted median bucket of refault_hist rows of the window, per KEY. */
#define MEDIAN_CTES(where, key)                                                                  \
	"hist AS (SELECT " key ", bucket, SUM(pages) AS pages FROM refault_hist "                 \
	"	WHERE ts > ?1 AND ts <= ?2 " where " GROUP BY " key ", bucket), "                 \
	"cum AS (SELECT " key ", bucket, SUM(pages) OVER (PARTITION BY " key " ORDER BY bucket) " \
	"	AS cum, SUM(pages) OVER (PARTITION BY " key ") AS total FROM hist), "             \
	"med AS (SELECT " key ", MIN(bucket) AS bucket FROM cum WHERE 2 * cum >= total "        \
	"	GROUP BY " key ") "

static const char cgroups_sql[] =
	"WITH ev AS (SELECT victim, SUM(pages) AS pages, "
	"	SUM(CASE WHEN exec != 0 THEN pages ELSE 0 END) AS exec_pages, "
	"	SUM(refaulted_pages) AS refaulted "
	"	FROM evictions WHERE ts > ?1 AND ts <= ?2 GROUP BY victim), "
	MEDIAN_CTES("", "victim")
	"SELECT ev.victim, " CGROUP_NAME("c", "ev.victim") " AS name, ev.pages, ev.exec_pages, "
	"	ev.refaulted, b.mid_ms AS median_ms, COUNT(*) OVER () AS matching "
	"FROM ev LEFT JOIN cgroups c ON c.id = ev.victim "
	"LEFT JOIN med ON med.victim = ev.victim "
	"LEFT JOIN refault_buckets b ON b.bucket = med.bucket "
	"WHERE " FILTER_MATCH("c") " "
	"ORDER BY %s, pages DESC, name, ev.victim LIMIT ?4";

static const char files_sql[] =
	"WITH ev AS (SELECT file, SUM(pages) AS pages, "
	"	SUM(CASE WHEN exec != 0 THEN pages ELSE 0 END) AS exec_pages, "
	"	SUM(refaulted_pages) AS refaulted "
	"	FROM evictions WHERE ts > ?1 AND ts <= ?2 AND victim = ?3 GROUP BY file), "
	MEDIAN_CTES("AND victim = ?3", "file")
	"SELECT ev.file, f.path, f.container_path, f.path_note, f.dev, f.ino, f.deleted, "
	"	ev.pages, ev.exec_pages, ev.refaulted, b.mid_ms AS median_ms, f.path AS name "
	"FROM ev JOIN files f ON f.id = ev.file "
	"LEFT JOIN med ON med.file = ev.file "
	"LEFT JOIN refault_buckets b ON b.bucket = med.bucket "
	"ORDER BY %s, pages DESC, name, ev.file LIMIT ?4";

/* ?4: one file, or NULL for every file of the victim. */
static const char causes_sql[] =
	"SELECT c.name, SUM(e.pages) AS pages FROM evictions e JOIN causes c ON c.id = e.cause "
	"WHERE e.ts > ?1 AND e.ts <= ?2 AND e.victim = ?3 AND (?4 IS NULL OR e.file = ?4) "
	"GROUP BY e.cause ORDER BY pages DESC, c.name";

static const char roots_sql[] =
	"SELECT e.root, c.path, " CGROUP_NAME("c", "e.root") ", SUM(e.pages) AS pages, "
	"	COUNT(DISTINCT e.victim) "
	"FROM evictions e LEFT JOIN cgroups c ON c.id = e.root "
	"WHERE e.ts > ?1 AND e.ts <= ?2 AND e.root != 0 "
	"	AND (?3 IS NULL OR e.victim IN (SELECT id FROM cgroups v WHERE " FILTER_MATCH("v") ")) "
	"GROUP BY e.root ORDER BY pages DESC, c.path, e.root LIMIT ?4";

/*
 * Every cgroup under the root path ?3 (itself included) with memory.stat
 * samples in the window: the most its own memory rose above what it held
 * just before the window (the sample minus its delta), and what it held at
 * its last sample.  Peak rather than net growth, so a hog that grew and
 * was killed still shows.
 */
static const char pressure_sql[] =
	"WITH m AS (SELECT m.cgroup, m.ts, "
	"	COALESCE(m.anon_bytes, 0) AS anon, COALESCE(m.file_bytes, 0) AS file, "
	"	COALESCE(m.anon_bytes, 0) - COALESCE(m.anon_delta, 0) AS anon_before, "
	"	COALESCE(m.file_bytes, 0) - COALESCE(m.file_delta, 0) AS file_before "
	"	FROM memstat m JOIN cgroups c ON c.id = m.cgroup "
	"	WHERE m.ts > ?1 AND m.ts <= ?2 AND (?3 = '/' OR c.path = ?3 "
	"		OR substr(c.path, 1, length(?3) + 1) = ?3 || '/')), "
	"w AS (SELECT cgroup, anon, file, "
	"	FIRST_VALUE(anon_before) OVER (PARTITION BY cgroup ORDER BY ts) AS anon_base, "
	"	FIRST_VALUE(file_before) OVER (PARTITION BY cgroup ORDER BY ts) AS file_base, "
	"	ROW_NUMBER() OVER (PARTITION BY cgroup ORDER BY ts DESC) AS newest "
	"	FROM m), "
	"g AS (SELECT cgroup, MAX(anon + file - anon_base - file_base) AS grew, "
	"	MAX(anon - anon_base) AS anon_grew, MAX(file - file_base) AS file_grew, "
	"	MAX(CASE WHEN newest = 1 THEN anon END) AS anon, "
	"	MAX(CASE WHEN newest = 1 THEN file END) AS file "
	"	FROM w GROUP BY cgroup) "
	"SELECT " CGROUP_NAME("c", "g.cgroup") ", g.grew, g.anon_grew, g.file_grew, g.anon, g.file "
	"FROM g JOIN cgroups c ON c.id = g.cgroup "
	"ORDER BY g.grew DESC, c.path LIMIT ?4";

#define LOST_SUM                                                                           \
	"COALESCE(SUM(lost_evict + lost_add + lost_refault + lost_shadow + lost_ringbuf " \
	"+ lost_exec + lost_user), 0)"

struct gather {
	sqlite3 *db;
	const struct top_query *q;
	int64_t from, to; /* the window: from < ts <= to */
	char *err;
	size_t errlen;
};

static int failed(struct gather *g, const char *what)
{
	snprintf(g->err, g->errlen, "%s: %s", what, sqlite3_errmsg(g->db));
	return -1;
}

static int out_of_memory(struct gather *g)
{
	snprintf(g->err, g->errlen, "out of memory");
	return -1;
}

/* Prepare sql and bind the window as ?1 and ?2 (and the filter as ?3 when it is used). */
static int prepare(struct gather *g, const char *sql, bool with_filter, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(g->db, sql, -1, st, NULL) != SQLITE_OK)
		return failed(g, "cannot prepare a query");
	if (sqlite3_bind_int64(*st, 1, g->from) != SQLITE_OK ||
	    sqlite3_bind_int64(*st, 2, g->to) != SQLITE_OK) {
		sqlite3_finalize(*st);
		return failed(g, "cannot bind the window");
	}
	if (with_filter && sqlite3_bind_text(*st, 3, g->q->filter, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(*st);
		return failed(g, "cannot bind the filter");
	}
	return 0;
}

/* A copy of a text column; NULL stays NULL (*oom tells the two apart). */
static char *column_dup(sqlite3_stmt *st, int col, bool *oom)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	char *copy;

	if (!s)
		return NULL;
	copy = strdup((const char *)s);
	if (!copy)
		*oom = true;
	return copy;
}

static double column_ms(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
}

static int64_t column_int_or(sqlite3_stmt *st, int col, int64_t null_value)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? null_value : sqlite3_column_int64(st, col);
}

/* ---------------------------------------------------------------- header */

static int gather_header(struct gather *g, struct top_snapshot *snap)
{
	sqlite3_stmt *st;
	bool oom = false;
	int r = SQLITE_DONE;

	if (sqlite3_prepare_v2(g->db, "SELECT MAX(ts) FROM intervals", -1, &st, NULL) != SQLITE_OK)
		return failed(g, "cannot read the intervals");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		snap->have_intervals = true;
		snap->newest_ts = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return failed(g, "cannot read the intervals");
	g->to = snap->newest_ts;
	g->from = snap->newest_ts - g->q->window_s;

	if (prepare(g, "SELECT COUNT(*), " LOST_SUM " FROM intervals WHERE ts > ?1 AND ts <= ?2",
		    false, &st) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return failed(g, "cannot read the intervals");
	}
	snap->window_intervals = sqlite3_column_int64(st, 0);
	snap->lost_window = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(g->db,
			       "SELECT id, started, stopped, last_flush, interval_s, hostname, "
			       "(SELECT " LOST_SUM " FROM intervals i WHERE i.run = r.id) "
			       "FROM runs r ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return failed(g, "cannot read the runs");
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snap->have_run = true;
		snap->run_id = sqlite3_column_int64(st, 0);
		snap->run_started = sqlite3_column_int64(st, 1);
		snap->run_stopped = column_int_or(st, 2, -1);
		snap->run_last_flush = column_int_or(st, 3, -1);
		snap->run_interval_s = sqlite3_column_int64(st, 4);
		snap->run_host = column_dup(st, 5, &oom);
		snap->lost_run = sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return failed(g, "cannot read the runs");
	return oom ? out_of_memory(g) : 0;
}

/* ---------------------------------------------------------------- causes */

/* "limit" alone, else "limit 98%, pageout 2%" (shares of the pages). */
static int causes_text(struct gather *g, sqlite3_stmt *st, int64_t total, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = 0, r;

	if (!f)
		return out_of_memory(g);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		int64_t pages = sqlite3_column_int64(st, 1);
		int64_t pct = total > 0 ? (pages * 100 + total / 2) / total : 0;

		if (n++)
			fputs(", ", f);
		fputs(name ? name : "?", f);
		/* Only a cause that did it all says 100%: a rounded share never does. */
		if (pages < total) {
			if (pct == 0)
				fputs(" <1%", f);
			else
				fprintf(f, " %lld%%", (long long)(pct < 100 ? pct : 99));
		}
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		return out_of_memory(g);
	}
	if (r != SQLITE_DONE) {
		free(buf);
		return failed(g, "cannot read the causes");
	}
	*ret = buf;
	return 0;
}

static int gather_causes(struct gather *g, int64_t victim, int64_t file, struct top_figures *fig)
{
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	if (prepare(g, causes_sql, false, &st) < 0)
		return -1;
	if (sqlite3_bind_int64(st, 3, victim) != SQLITE_OK ||
	    (file >= 0 ? sqlite3_bind_int64(st, 4, file) : sqlite3_bind_null(st, 4)) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(g, "cannot bind a cgroup");
	}
	r = causes_text(g, st, fig->evicted, &fig->causes);
	sqlite3_finalize(st);
	return r;
}

/* ---------------------------------------------------------------- rows */

static void read_figures(sqlite3_stmt *st, int first, struct top_figures *fig)
{
	fig->evicted = sqlite3_column_int64(st, first);
	fig->exec = sqlite3_column_int64(st, first + 1);
	fig->refaulted = sqlite3_column_int64(st, first + 2);
	fig->median_refault_ms = column_ms(st, first + 3);
}

/* The path a file is shown by: the host path, else the container's, else what is known. */
static char *file_name(sqlite3_stmt *st)
{
	const char *path = (const char *)sqlite3_column_text(st, 1);
	const char *container_path = (const char *)sqlite3_column_text(st, 2);
	const char *note = (const char *)sqlite3_column_text(st, 3);
	long long dev = sqlite3_column_int64(st, 4), ino = sqlite3_column_int64(st, 5);
	bool deleted = sqlite3_column_int64(st, 6) != 0;
	char *name = NULL;
	int r;

	if (path || container_path)
		r = asprintf(&name, "%s%s", path ? path : container_path, deleted ? " (deleted)" : "");
	else
		r = asprintf(&name, "(unnamed: dev %lld ino %lld%s%s)", dev, ino, note ? ", " : "",
			     note ? note : "");
	return r < 0 ? NULL : name;
}

static int gather_files(struct gather *g, struct top_cgroup *cg)
{
	enum top_sort sort = g->q->sort == TOP_SORT_CGROUP ? TOP_SORT_EVICTED : g->q->sort;
	char sql[sizeof(files_sql) + 128];
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	if (g->q->files <= 0)
		return 0;
	cg->files = calloc(g->q->files, sizeof(*cg->files));
	if (!cg->files)
		return out_of_memory(g);
	snprintf(sql, sizeof(sql), files_sql, sorts[sort].order_by);
	if (prepare(g, sql, false, &st) < 0)
		return -1;
	if (sqlite3_bind_int64(st, 3, cg->id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 4, g->q->files) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(g, "cannot bind a cgroup");
	}
	while (cg->n_files < (size_t)g->q->files && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_file *file = &cg->files[cg->n_files++];
		int64_t file_id = sqlite3_column_int64(st, 0);

		read_figures(st, 7, &file->fig);
		file->name = file_name(st);
		if (!file->name) {
			sqlite3_finalize(st);
			return out_of_memory(g);
		}
		if (gather_causes(g, cg->id, file_id, &file->fig) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return failed(g, "cannot read the files");
	return 0;
}

static int gather_cgroups(struct gather *g, struct top_snapshot *snap)
{
	char sql[sizeof(cgroups_sql) + 128];
	bool oom = false;
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	snap->cgroups = calloc(g->q->limit, sizeof(*snap->cgroups));
	if (!snap->cgroups)
		return out_of_memory(g);
	snprintf(sql, sizeof(sql), cgroups_sql, sorts[g->q->sort].order_by);
	if (prepare(g, sql, true, &st) < 0)
		return -1;
	if (sqlite3_bind_int(st, 4, g->q->limit) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(g, "cannot bind the limit");
	}
	while (snap->n_cgroups < (size_t)g->q->limit && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_cgroup *cg = &snap->cgroups[snap->n_cgroups++];

		cg->id = sqlite3_column_int64(st, 0);
		cg->name = column_dup(st, 1, &oom);
		read_figures(st, 2, &cg->fig);
		snap->matching_cgroups = sqlite3_column_int64(st, 6);
		if (oom) {
			sqlite3_finalize(st);
			return out_of_memory(g);
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return failed(g, "cannot read the cgroups");
	for (size_t i = 0; i < snap->n_cgroups; i++)
		if (gather_causes(g, snap->cgroups[i].id, -1, &snap->cgroups[i].fig) < 0 ||
		    gather_files(g, &snap->cgroups[i]) < 0)
			return -1;
	return 0;
}

/* ---------------------------------------------------------------- roots */

static int gather_pressure(struct gather *g, const char *root_path, struct top_root *root)
{
	bool oom = false;
	sqlite3_stmt *st;
	int r = SQLITE_DONE;

	if (!root_path || g->q->pressure <= 0)
		return 0;
	root->pressure = calloc(g->q->pressure, sizeof(*root->pressure));
	if (!root->pressure)
		return out_of_memory(g);
	if (prepare(g, pressure_sql, false, &st) < 0)
		return -1;
	if (sqlite3_bind_text(st, 3, root_path, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int(st, 4, g->q->pressure) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(g, "cannot bind a reclaim root");
	}
	while (root->n_pressure < (size_t)g->q->pressure && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_pressure *p = &root->pressure[root->n_pressure++];

		p->name = column_dup(st, 0, &oom);
		p->grew = sqlite3_column_int64(st, 1);
		p->anon_grew = sqlite3_column_int64(st, 2);
		p->file_grew = sqlite3_column_int64(st, 3);
		p->anon = sqlite3_column_int64(st, 4);
		p->file = sqlite3_column_int64(st, 5);
		if (oom)
			break;
	}
	sqlite3_finalize(st);
	if (oom)
		return out_of_memory(g);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return failed(g, "cannot read the pressure under a reclaim root");
	return 0;
}

static int gather_roots(struct gather *g, struct top_snapshot *snap)
{
	sqlite3_stmt *st;
	bool oom = false;
	int r = SQLITE_DONE;

	if (g->q->roots <= 0)
		return 0;
	snap->roots = calloc(g->q->roots, sizeof(*snap->roots));
	if (!snap->roots)
		return out_of_memory(g);
	if (prepare(g, roots_sql, true, &st) < 0)
		return -1;
	if (sqlite3_bind_int(st, 4, g->q->roots) != SQLITE_OK) {
		sqlite3_finalize(st);
		return failed(g, "cannot bind the limit");
	}
	while (snap->n_roots < (size_t)g->q->roots && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct top_root *root = &snap->roots[snap->n_roots++];
		_cleanup_free_ char *path = column_dup(st, 1, &oom);

		root->id = sqlite3_column_int64(st, 0);
		root->name = column_dup(st, 2, &oom);
		root->reclaimed = sqlite3_column_int64(st, 3);
		root->victims = sqlite3_column_int64(st, 4);
		if (oom) {
			sqlite3_finalize(st);
			return out_of_memory(g);
		}
		if (gather_pressure(g, path, root) < 0) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return failed(g, "cannot read the reclaim roots");
	return 0;
}

/* ---------------------------------------------------------------- all */

int top_gather(sqlite3 *db, const struct top_query *q, struct top_snapshot *snap, char *err,
	       size_t errlen)
{
	struct gather g = { .db = db, .q = q, .err = err, .errlen = errlen };
	int r;

	memset(snap, 0, sizeof(*snap));
	/* One snapshot of the database for all the queries, ended right after. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return failed(&g, "cannot start a read transaction");
	r = gather_header(&g, snap);
	if (r == 0 && snap->have_intervals)
		r = gather_cgroups(&g, snap);
	if (r == 0 && snap->have_intervals)
		r = gather_roots(&g, snap);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		/* A read transaction cannot fail to commit, but never leave it open. */
		if (r == 0)
			r = failed(&g, "cannot end the read transaction");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (r < 0)
		top_snapshot_free(snap);
	return r;
}

static void free_figures(struct top_figures *fig)
{
	free(fig->causes);
}

void top_snapshot_free(struct top_snapshot *snap)
{
	for (size_t i = 0; i < snap->n_cgroups; i++) {
		struct top_cgroup *cg = &snap->cgroups[i];

		for (size_t j = 0; j < cg->n_files; j++) {
			free(cg->files[j].name);
			free_figures(&cg->files[j].fig);
		}
		free(cg->files);
		free(cg->name);
		free_figures(&cg->fig);
	}
	free(snap->cgroups);
	for (size_t i = 0; i < snap->n_roots; i++) {
		for (size_t j = 0; j < snap->roots[i].n_pressure; j++)
			free(snap->roots[i].pressure[j].name);
		free(snap->roots[i].pressure);
		free(snap->roots[i].name);
	}
	free(snap->roots);
	free(snap->run_host);
	memset(snap, 0, sizeof(*snap));
}
