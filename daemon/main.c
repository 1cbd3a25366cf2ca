// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachewatchd: parse options, check everything that can be checked before
 * touching anything (privileges, BTF, the database file), load and attach
 * the BPF programs, then write one interval every --interval seconds until
 * --duration elapses or SIGTERM/SIGINT arrives, which writes the last
 * interval first.  Exit status: 0 done, 1 runtime error, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include "config.h"
#include "cgroups.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "privileges.h"
#include "recorder.h"
#include "store.h"
#include "thrashlog.h"

#define EXIT_USAGE 2

/* libbpf's messages, line by line: a verifier log is one message of many lines. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int priority = level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG;
	char *buf = NULL, *line, *save = NULL;

	if (level == LIBBPF_DEBUG || vasprintf(&buf, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		log_msg(priority, "libbpf: %s", line);
	free(buf);
	return 0;
}

/*
 * The database must be writable before anything is loaded; an existing
 * file must be ours and not newer.  Nothing is created here.
 */
static int check_database(const char *path, bool is_default, char *err, size_t errlen)
{
	char *copy = strdup(path), *dir;
	struct stat st;
	int version, r;

	if (!copy)
		return -ENOMEM;
	r = db_probe(path, &version, err, errlen);
	if (r == 0) {
		if (access(path, W_OK) < 0) {
			r = -errno;
			snprintf(err, errlen, "database %s is not writable: %s", path, strerror(-r));
		} else if (version > 0) {
			r = db_check_intact(path, err, errlen);
		}
		goto out;
	}
	if (r != -ENOENT)
		goto out;
	dir = dirname(copy);
	if (stat(dir, &st) < 0 && errno == ENOENT && is_default) {
		/* The default location is ours to create (as systemd's StateDirectory would). */
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(-r));
			goto out;
		}
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = -ENOENT;
		snprintf(err, errlen, "cannot create database %s: directory %s does not exist",
			 path, dir);
	} else if (access(dir, W_OK | X_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create database %s: directory %s is not writable (%s)",
			 path, dir, strerror(-r));
	} else {
		r = 0;
	}
out:
	free(copy);
	return r;
}

/*
 * SIGTERM/SIGINT are blocked from the start and read from a signalfd once
 * recording: one that arrives while starting up waits, and then ends the
 * run cleanly like any other.
 */
static void block_stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigprocmask(SIG_BLOCK, mask, NULL);
}

static int setup_fds(uint32_t interval_s, int *ret_timer, int *ret_signal)
{
	struct itimerspec its = { .it_interval = { interval_s, 0 }, .it_value = { interval_s, 0 } };
	sigset_t mask;
	int tfd, sfd;

	block_stop_signals(&mask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
		int e = -errno;

		close(sfd);
		if (tfd >= 0)
			close(tfd);
		return e;
	}
	*ret_timer = tfd;
	*ret_signal = sfd;
	return 0;
}

/*
 * The node's name for runs.hostname: in a Kubernetes pod uname gives the
 * pod's name, so the DaemonSet passes the node's as NODE_NAME.
 */
static const char *node_name(const struct utsname *uts)
{
	const char *n = getenv("NODE_NAME");

	return n && *n ? n : uts->nodename;
}

static void report(const struct interval_summary *s)
{
	sd_notifyf(0, "STATUS=interval %u: %llu pages evicted (%llu exec), %llu refaulted, "
		      "%llu lost", s->seq, (unsigned long long)s->evicted_pages,
		   (unsigned long long)s->exec_evicted_pages,
		   (unsigned long long)s->refaulted_pages, (unsigned long long)s->lost);
	log_debug("interval %u: %llu pages evicted (%llu exec), %llu refaulted, %llu added, "
		  "%llu rows, %llu lost, %lld ms",
		  s->seq, (unsigned long long)s->evicted_pages,
		  (unsigned long long)s->exec_evicted_pages,
		  (unsigned long long)s->refaulted_pages, (unsigned long long)s->added_pages,
		  (unsigned long long)s->rows, (unsigned long long)s->lost,
		  (long long)s->duration_ms);
	if (s->lost)
		log_warn("interval %u: %llu events lost (see v_runs / intervals)", s->seq,
			 (unsigned long long)s->lost);
	if (s->rolled_up < 0)
		log_warn("interval %u: rolling up old rows failed (%s); retrying later", s->seq,
			 strerror(-s->rolled_up));
	if (s->dropped_names)
		log_debug("interval %u: forgot %llu in-memory names to stay within bounds", s->seq,
			  (unsigned long long)s->dropped_names);
}

/* What the recording loop feeds besides the database. */
struct outputs {
	struct loader *loader;
	struct cgroups *cgroups;
	const struct config *cfg;
	struct metrics_server *server; /* NULL: --metrics not given */
	struct metrics_state metrics;
	struct thrashlog thrash;
	uint64_t watchdog_usec;        /* 0: no systemd watchdog */
	int64_t last_ping_ms, last_written_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * WATCHDOG=1 only while intervals are being drained and written: a write
 * proves both (the drain comes first).  A loop that is alive but whose
 * writes fail, or that is stuck, stops pinging and systemd restarts it.
 */
static void watchdog_maybe_ping(struct outputs *o)
{
	int64_t now = now_ms(), allowed = 2 * (int64_t)o->cfg->interval_s * 1000 + 1000;

	if (!o->watchdog_usec || now - o->last_ping_ms < (int64_t)(o->watchdog_usec / 2000))
		return;
	if (now - o->last_written_ms > allowed)
		return;
	sd_notify(0, "WATCHDOG=1");
	o->last_ping_ms = now;
}

static void publish_metrics(struct outputs *o)
{
	struct metrics_bpf bpf = {
		.capacity = { o->cfg->evict_entries, o->cfg->add_entries, o->cfg->refault_entries },
		.shadow_entries = o->cfg->shadow_entries,
	};
	char *text;

	if (!o->server)
		return;
	loader_prog_stats(o->loader, bpf.prog_name, bpf.run_time_ns, bpf.run_cnt,
			  bpf.recursion_misses);
	text = metrics_render(&o->metrics, o->cgroups, &bpf, o->cfg->db_path);
	if (text)
		metrics_server_publish(o->server, text);
}

static void interval_written(struct outputs *o, struct recorder *rec,
			     const struct interval_summary *sum)
{
	const struct batch *b = recorder_last_batch(rec);

	o->last_written_ms = now_ms();
	metrics_observe(&o->metrics, b, sum->ts, (double)sum->duration_ms / 1000);
	metrics_prune(&o->metrics, o->cgroups);
	thrashlog_interval(&o->thrash, b, o->cgroups, sum->ts);
	publish_metrics(o);
}

/* Record until the duration elapses or a signal arrives; 0 or -errno. */
static int record(struct recorder *rec, struct outputs *o)
{
	const struct config *cfg = o->cfg;
	struct interval_summary sum;
	int tfd = -1, sfd = -1, r, failures = 0;
	time_t end = cfg->duration_s ? time(NULL) + cfg->duration_s : 0;
	bool stop = false;

	r = setup_fds(cfg->interval_s, &tfd, &sfd);
	if (r < 0) {
		log_error("cannot set up timer and signals: %s", strerror(-r));
		return r;
	}
	while (!stop) {
		struct pollfd p[3] = { { .fd = tfd, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN },
				       { .fd = recorder_events_fd(rec), .events = POLLIN } };
		int timeout = -1;

		if (end) {
			time_t left = end - time(NULL);

			timeout = left > 0 ? (int)left * 1000 : 0;
		}
		if (o->watchdog_usec) {
			int half = (int)(o->watchdog_usec / 2000);

			timeout = timeout < 0 || timeout > half ? half : timeout;
		}
		r = poll(p, 3, timeout);
		if (r < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		watchdog_maybe_ping(o);
		if (p[2].revents & POLLIN)
			recorder_consume_events(rec);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				log_info("%s: writing the last interval and stopping",
					 strsignal((int)si.ssi_signo));
			stop = true;
		}
		if (p[0].revents & POLLIN) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0)
				continue;
		} else if (!stop && !(end && time(NULL) >= end)) {
			continue;
		}
		if (end && time(NULL) >= end)
			stop = true;
		/* On the way out, give a failing write a few more chances. */
		for (int attempt = 0;; attempt++) {
			r = recorder_interval(rec, &sum);
			if (r == 0 || !stop || attempt >= 2)
				break;
			sleep(1);
		}
		if (r < 0) {
			/* The rows are kept and written with the next interval. */
			if (failures++ == 0)
				log_error("cannot write interval: %s (%s); keeping its data for the "
					  "next one", strerror(-r), recorder_error(rec));
			sd_notifyf(0, "STATUS=cannot write to the database (%d failed intervals): %s",
				   failures, recorder_error(rec));
			metrics_observe_failure(&o->metrics);
			publish_metrics(o);
			continue;
		}
		if (failures)
			log_info("writing again after %d failed interval(s)", failures);
		failures = 0;
		interval_written(o, rec, &sum);
		watchdog_maybe_ping(o);
		report(&sum);
	}
	close(tfd);
	close(sfd);
	return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
	struct loader_opts lopts = {};
	struct recorder *rec = NULL;
	struct cgroups *cgroups = NULL;
	struct loader *loader = NULL;
	struct store *store = NULL;
	struct run_info ri = {};
	struct outputs out = {};
	struct sockaddr_storage metrics_addr;
	socklen_t metrics_len;
	struct utsname uts;
	struct config cfg;
	sqlite3 *db = NULL;
	char err[1024] = "", optional[256];
	bool created = false, is_default;
	int64_t run_id = 0;
	uint64_t caps;
	int r, status = EXIT_FAILURE;

	config_init(&cfg);
	log_setup("cachewatchd", false);
	r = config_parse_args(&cfg, argc, argv, err, sizeof(err));
	if (r < 0) {
		log_error("%s (try --help)", err);
		config_done(&cfg);
		return EXIT_USAGE;
	}
	if (cfg.refault_sample & (cfg.refault_sample - 1)) {
		log_error("--refault-sample: %u is not a power of two (try --help)", cfg.refault_sample);
		config_done(&cfg);
		return EXIT_USAGE;
	}
	if (cfg.metrics_addr &&
	    metrics_parse_addr(cfg.metrics_addr, &metrics_addr, &metrics_len, err, sizeof(err)) < 0) {
		log_error("%s (try --help)", err);
		config_done(&cfg);
		return EXIT_USAGE;
	}
	if (cfg.help) {
		fputs(config_usage(), stdout);
		config_done(&cfg);
		return EXIT_SUCCESS;
	}
	if (cfg.version) {
		printf("cachewatchd %s\n", PACKAGE_VERSION);
		config_done(&cfg);
		return EXIT_SUCCESS;
	}
	log_setup("cachewatchd", cfg.verbose);
	libbpf_set_print(libbpf_log);
	block_stop_signals(&(sigset_t){ 0 });

	/* Everything that can fail without side effects, first. */
	if (caps_effective(&caps) < 0 || caps_check_required(caps, err, sizeof(err)) < 0) {
		log_error("%s", err[0] ? err : "cannot read capabilities");
		goto out;
	}
	if (access(cfg.btf_path, R_OK) < 0) {
		log_error("kernel BTF %s is not readable (%s): cachewatch needs a kernel built with "
			  "CONFIG_DEBUG_INFO_BTF=y, or --btf FILE", cfg.btf_path, strerror(errno));
		goto out;
	}
	is_default = strcmp(cfg.db_path, CW_DEFAULT_DB) == 0;
	if (check_database(cfg.db_path, is_default, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (cgroups_open(&cgroups, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	caps_describe_optional(caps, optional, sizeof(optional));
	if (optional[0])
		log_warn("running without %s: fewer file paths will be known", optional);

	lopts = (struct loader_opts){
		.btf_path = cfg.btf_path,
		.reclaim_ctx = cfg.reclaim_ctx,
		.shadow_entries = cfg.shadow_entries,
		.refault_sample = cfg.refault_sample,
		.evict_entries = cfg.evict_entries,
		.add_entries = cfg.add_entries,
		.refault_entries = cfg.refault_entries,
		.exec_entries = cfg.exec_entries,
		.memcg_hierarchy_id = cgroups->hierarchy_id,
	};
	if (loader_open(&loader, &lopts, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	log_info("hooks live: %s", loader->hooks);
	if (loader->missing[0])
		log_warn("hooks not available: %s", loader->missing);
	log_info("reclaim context from %s; memory cgroups at %s (cgroup %s)",
		 loader->brackets ? "reclaim begin/end brackets (no reclaim root)"
				  : "struct scan_control",
		 cgroups->mount, cgroups->v2 ? "v2" : "v1");

	if (db_open_writer(cfg.db_path, &db, &created, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (created)
		log_info("created database %s", cfg.db_path);
	r = store_open(&store, db);
	db = NULL;
	if (r < 0) {
		log_error("cannot prepare database statements: %s", store_errmsg(store));
		goto out;
	}
	/* Attached and open: from here on only paths and maps are read.  Before
	 * the run row, which is what tests and operators see as "started". */
	r = caps_drop_after_start(&caps);
	if (r < 0) {
		log_error("cannot drop capabilities: %s", strerror(-r));
		goto out;
	}
	log_debug("capabilities left: 0x%llx", (unsigned long long)caps);

	uname(&uts);
	ri = (struct run_info){
		.started = (int64_t)time(NULL),
		.hostname = node_name(&uts),
		.kernel = uts.release,
		.version = PACKAGE_VERSION,
		.hooks = loader->hooks,
		.reclaim_context = loader->brackets ? "brackets" : "scan_control",
		.interval_s = cfg.interval_s,
		.refault_sample = cfg.refault_sample,
	};
	if (store_run_start(store, &ri, &run_id) < 0) {
		log_error("cannot write to database %s: %s", cfg.db_path, store_errmsg(store));
		goto out;
	}
	r = recorder_new(&rec,
			 &(struct recorder_opts){ .pod_logs = cfg.pod_logs,
						  .max_cgroups = cfg.max_cgroups,
						  .max_files = cfg.max_files,
						  .detail_pages = cfg.file_detail_pages,
						  .raw_seconds = (int64_t)cfg.raw_minutes * 60,
						  .rollup_seconds = (int64_t)cfg.rollup_minutes * 60,
						  .keep_seconds = (int64_t)cfg.keep_days * 86400 },
			 loader, cgroups, store, run_id);
	if (r < 0) {
		log_error("cannot set up the recorder: %s", strerror(-r));
		goto out;
	}
	recorder_prime(rec);


	out = (struct outputs){ .loader = loader, .cgroups = cgroups, .cfg = &cfg };
	metrics_state_init(&out.metrics);
	thrashlog_init(&out.thrash);
	if (cfg.metrics_addr) {
		if (metrics_server_start(&out.server, &metrics_addr, err, sizeof(err)) < 0) {
			log_error("%s", err);
			goto out;
		}
		publish_metrics(&out);
		metrics_addr_text(&metrics_addr, err, sizeof(err));
		log_info("metrics on http://%s/metrics", err);
	}
	if (sd_watchdog_enabled(0, &out.watchdog_usec) <= 0)
		out.watchdog_usec = 0;
	out.last_written_ms = now_ms(); /* the first interval is due one interval from now */

	log_info("recording into %s every %u s", cfg.db_path, cfg.interval_s);
	sd_notify(0, "READY=1\nSTATUS=recording, no interval written yet");

	r = record(rec, &out);
	sd_notify(0, "STOPPING=1");
	if (store_run_stop(store, run_id, (int64_t)time(NULL)) < 0)
		log_warn("cannot mark the run stopped: %s", store_errmsg(store));
	status = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	out.server = metrics_server_stop(out.server);
	if (out.cfg) {
		metrics_state_done(&out.metrics);
		thrashlog_done(&out.thrash);
	}
	recorder_free(rec);
	store_free(store);
	sqlite3_close(db);
	loader_free(loader);
	cgroups_free(cgroups);
	config_done(&cfg);
	return status;
}
