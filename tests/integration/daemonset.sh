#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Kubernetes DaemonSet, without Kubernetes: cachewatchd started the way
# deploy/kubernetes/cachewatch.yaml starts it, and the exec-thrash scenario
# must still be recorded correctly.  The "container" is built here:
#   - a new mount (and UTS) namespace, host PID namespace (hostPID: true);
#   - a read-only root that is not the host's: a tmpfs holding only the
#     daemon and its libraries (the image), remounted read-only
#     (readOnlyRootFilesystem), fresh /proc, read-only sysfs;
#   - the manifest's host paths at the same places: /sys/fs/cgroup,
#     /var/log/pods and /var/log/containers read-only (recursively), and a
#     test directory, writable, at /var/lib/cachewatch;
#   - uid 0 with only the manifest's added capabilities (bounding set,
#     hence permitted and effective), no_new_privs
#     (allowPrivilegeEscalation: false);
#   - the manifest's command, args and env; NODE_NAME as the downward API
#     would set it.
# The capabilities, args and env are read from the manifest
# (scripts/check-manifests --print), so the test and the manifest cannot
# drift.  Then each capability is removed in turn: the daemon must refuse to
# start naming it, or something observable must be lost without it (a
# capability that changes nothing does not belong in the minimal set).
# The daemon runs in its own memory cgroup: its peak memory and CPU time are
# printed (the manifest's resources come from them).
# Not reproduced: seccomp RuntimeDefault, AppArmor, the image's own files.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root

for t in unshare setpriv chroot ldd curl; do
	command -v "$t" > /dev/null || skip "needs $t"
done
# A python3 that uid 65534 can run (not one under /root).
PY=
for p in /usr/bin/python3 "$(command -v python3)"; do
	if setpriv --reuid=65534 --regid=65534 --clear-groups "$p" -c 'import mmap' 2> /dev/null; then
		PY=$p
		break
	fi
done
[ -n "$PY" ] || skip "needs a python3 that uid 65534 can run"
MANIFESTS=$srcdir/deploy/kubernetes
for what in caps args env; do
	"$srcdir/scripts/check-manifests" --print "$what" "$MANIFESTS" > "$TEST_TMP/manifest.$what" ||
		hard_error "cannot read the $what of $MANIFESTS/cachewatch.yaml"
done
mapfile -t CAPS < "$TEST_TMP/manifest.caps"
mapfile -t ARGV < "$TEST_TMP/manifest.args"
{ [ ${#CAPS[@]} -gt 0 ] && [ ${#ARGV[@]} -gt 0 ]; } || hard_error "manifest has no capabilities or command"
say "manifest: capabilities ${CAPS[*]}; command ${ARGV[*]}"

# The daemon listens on a free local port instead of the manifest's
# 0.0.0.0:9464 (other tests share the machine).
METRICS_PORT=$((20000 + $$ % 20000))

# ---------------------------------------------------------------- image
# The "image": the daemon at the manifest's command path, its libraries, and
# setpriv (only to drop capabilities inside the root; not part of a real
# image).  Built once, copied into a private tmpfs for each run.
IMAGE=$TEST_TMP/image
image_add() { # FILE [DEST]
	local f=$1 dest=${2:-$1} lib
	mkdir -p "$IMAGE/$(dirname "$dest")"
	cp -L "$f" "$IMAGE/$dest"
	for lib in $(ldd "$f" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }'); do
		[ -e "$IMAGE/$lib" ] || { mkdir -p "$IMAGE/$(dirname "$lib")"; cp -L "$lib" "$IMAGE/$lib"; }
	done
}
image_add "$CACHEWATCHD" "${ARGV[0]}"
image_add "$(command -v setpriv)" /.test/setpriv
# Merged /usr: the loader is looked up as /lib64/ld-linux-*.so.2.
for d in lib lib64 bin sbin; do
	[ -e "$IMAGE/$d" ] || [ ! -d "$IMAGE/usr/$d" ] || ln -s "usr/$d" "$IMAGE/$d"
done
mkdir -p "$IMAGE"/{proc,sys,dev,etc,tmp,var/lib/cachewatch,var/log/pods,var/log/containers}
echo 'root:x:0:0:root:/:/nonexistent' > "$IMAGE/etc/passwd"

# kubelet's log directories (empty: no pods here), as the node has them.
mkdir -p "$TEST_TMP/node/pods" "$TEST_TMP/node/containers"

# ---------------------------------------------------------------- sandbox
# $TEST_TMP/container: the daemon's stand-in for CACHEWATCHD.  start_daemon
# runs it as `container --db $TEST_TMP/NAME ARGS...`; it sets up the
# namespace and execs (same PID, so SIGTERM and the exit status are the
# daemon's).  Environment: CW_CAPS (space-separated, manifest spelling),
# CW_CGROUP (memory cgroup to run in, relative), CW_STATE (host directory
# mounted at /var/lib/cachewatch).
cat > "$TEST_TMP/container" << 'EOF'
#!/bin/bash
set -eu
if [ "${1:-}" != --inside ]; then
	exec unshare --mount --uts -- "$0" --inside "$@"
fi
shift
R=$CW_ROOT
mount --make-rprivate /
mount -t tmpfs -o mode=0755,size=64m cwroot "$R"
cp -a "$CW_IMAGE/." "$R/"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=0755,size=1m,nosuid dev "$R/dev"
for d in null zero full random urandom; do
	touch "$R/dev/$d"
	mount --bind "/dev/$d" "$R/dev/$d"
done
# hostPath readOnly: true, recursively (every cgroup hierarchy below).
ro_rbind() { # SRC DST
	local m
	mount --rbind "$1" "$2"
	findmnt -R -n -r -o TARGET "$2" | while read -r m; do
		mount -o remount,bind,ro "$(printf '%b' "$m")"
	done
}
ro_rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
ro_rbind "$CW_NODE/pods" "$R/var/log/pods"
ro_rbind "$CW_NODE/containers" "$R/var/log/containers"
mount --bind "$CW_STATE" "$R/var/lib/cachewatch"
mount -o remount,ro "$R"
hostname "$CW_POD_NAME"

# The manifest's args, then the test's (--db moved into /var/lib/cachewatch).
args=()
while IFS= read -r a; do args+=("$a"); done < <(tail -n +2 "$CW_MANIFEST_ARGS")
# Without CW_METRICS this daemon has no --metrics yet: leave it out;
# with it, listen on the test's local port.
kept=()
for ((i = 0; i < ${#args[@]}; i++)); do
	case ${args[$i]} in
	--metrics)
		i=$((i + 1))
		[ -z "${CW_METRICS:-}" ] || kept+=(--metrics "127.0.0.1:$CW_METRICS")
		;;
	--metrics=*) [ -z "${CW_METRICS:-}" ] || kept+=("--metrics=127.0.0.1:$CW_METRICS") ;;
	*) kept+=("${args[$i]}") ;;
	esac
done
args=("${kept[@]}")
while [ $# -gt 0 ]; do
	if [ "$1" = --db ]; then
		args+=(--db "/var/lib/cachewatch/$(basename "$2")")
		shift 2
	else
		args+=("$1")
		shift
	fi
done
bset=-all
for c in $CW_CAPS; do bset=$bset,+$(echo "$c" | tr 'A-Z' 'a-z'); done
envs=(PATH=/usr/sbin:/usr/bin "NODE_NAME=$CW_NODE_NAME")
while IFS= read -r e; do envs+=("$e"); done < "$CW_MANIFEST_ENV"
[ -z "${CW_CGROUP:-}" ] || echo $$ > "$CW_CG_ROOT/$CW_CGROUP/cgroup.procs"
exec env -i "${envs[@]}" chroot "$R" /.test/setpriv --bounding-set="$bset" \
	--inh-caps=-all --ambient-caps=-all --no-new-privs \
	"$(head -1 "$CW_MANIFEST_ARGS")" "${args[@]}"
EOF
chmod +x "$TEST_TMP/container"
mkdir -p "$TEST_TMP/root"
export CW_IMAGE=$IMAGE CW_ROOT=$TEST_TMP/root CW_NODE=$TEST_TMP/node CW_CG_ROOT=$CG_ROOT
export CW_MANIFEST_ARGS=$TEST_TMP/manifest.args CW_MANIFEST_ENV=$TEST_TMP/manifest.env
CW_NODE_NAME=$(hostname)
export CW_POD_NAME=cachewatch-x7k2p CW_NODE_NAME CW_METRICS=$METRICS_PORT
CACHEWATCHD=$TEST_TMP/container
BASE_TMP=$TEST_TMP
BASE_PREFIX=$CG_PREFIX
trap 'TEST_TMP=$BASE_TMP; cleanup' EXIT

# cap_mask CAP...: the capability bit mask, as /proc/PID/status prints it.
cap_mask() {
	local m=0 c n
	for c in "$@"; do
		n=$(awk -v c="CAP_$c" '$2 == c { print $3 }' /usr/include/linux/capability.h 2> /dev/null)
		case $c in BPF) n=39 ;; PERFMON) n=38 ;; esac
		[ -n "$n" ] || hard_error "unknown capability $c"
		m=$((m | (1 << n)))
	done
	printf '%016x' "$m"
}

# ---------------------------------------------------------------- runs
# scenario NAME CAP...: the exec-thrash scenario (sibling mode) with the
# daemon in the sandbox holding CAP...; sets DB, EXEC, P, VICTIM as
# run_exec_thrash does, and PEAK (bytes), CPU_MS (user+system) of the daemon.
scenario() {
	local name=$1 stat hz
	shift
	TEST_TMP=$BASE_TMP/$name
	CG_PREFIX=${BASE_PREFIX}_$name
	mkdir -p "$TEST_TMP"
	export CW_CAPS="$*" CW_STATE=$TEST_TMP CW_CGROUP=${CG_PREFIX}_daemon
	cg_make "$CW_CGROUP"
	# The daemon's PID is only known inside start_daemon: sample its status
	# and CPU time while it runs (SIGTERM below stops it).
	hz=$(getconf CLK_TCK)
	(
		while sleep 0.5; do
			p=$(head -1 "$CG_ROOT/$CW_CGROUP/cgroup.procs" 2> /dev/null)
			[ -n "$p" ] || continue
			stat=$(cut -d' ' -f14,15 "/proc/$p/stat" 2> /dev/null) || continue
			grep -E '^Cap(Bnd|Eff)' "/proc/$p/status" > "$TEST_TMP/caps.tmp" 2> /dev/null &&
				mv "$TEST_TMP/caps.tmp" "$TEST_TMP/caps"
			echo "$stat" > "$TEST_TMP/cpu"
			if [ -n "$METRICS_PORT" ] && [ ! -s "$TEST_TMP/metrics" ]; then
				curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" > "$TEST_TMP/metrics.tmp" 2> /dev/null &&
					mv "$TEST_TMP/metrics.tmp" "$TEST_TMP/metrics"
			fi
		done
	) &
	bg_pids+=($!)
	local sampler=$!
	# Two files only one capability can name, evicted while the daemon runs:
	# a container log under /var/log/pods (a mount the pod has: named by
	# handle, CAP_DAC_READ_SEARCH) and a file outside the pod's mounts that
	# only a process of another uid maps, as in a container running as
	# non-root (named from that process's /proc/PID/maps: CAP_SYS_PTRACE, or
	# on recent kernels CAP_PERFMON).
	LOGFILE=$CW_NODE/pods/shop_cart-5b6c_$name/app/0.log
	MAPPED=$BASE_TMP/$name-mapped.bin
	mkdir -p "$(dirname "$LOGFILE")"
	head -c $((4 << 20)) /dev/urandom > "$LOGFILE"
	head -c $((4 << 20)) /dev/urandom > "$MAPPED"
	(
		sleep 4
		cat "$LOGFILE" "$MAPPED" > /dev/null
		# As a container process running as non-root: uid 65534.
		setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
			"$PY" -c 'import mmap, time
m = mmap.mmap(3, 0, prot=mmap.PROT_READ)
time.sleep(30)' 3< "$MAPPED" &
		sleep 1
		"$HELPERS/fadv" "$LOGFILE" "$MAPPED"
		wait
	) &
	bg_pids+=($!)
	# The exec file outside the state directory: the pod cannot see it.
	EXEC_NAME=$BASE_TMP/$name-app.bin run_exec_thrash sibling
	kill "$sampler" 2> /dev/null
	wait "$sampler" 2> /dev/null || true
	PEAK=$(cat "$CG_ROOT/$CW_CGROUP/memory.max_usage_in_bytes")
	KMEM_PEAK=$(cat "$CG_ROOT/$CW_CGROUP/memory.kmem.max_usage_in_bytes" 2> /dev/null || echo 0)
	CPU_MS=$(awk -v hz="$hz" '{ print int(($1 + $2) * 1000 / hz) }' "$TEST_TMP/cpu" 2> /dev/null)
	say "$name: daemon peak memory $((PEAK >> 20)) MiB (memory.max_usage_in_bytes; kernel memory, BPF maps included: $((KMEM_PEAK >> 20)) MiB), CPU ${CPU_MS:-?} ms"
}

# named_files: files with a host path, files with only a container path.
named_files() {
	sql "$DB" "SELECT count(path), count(CASE WHEN path IS NULL THEN container_path END) FROM files WHERE kind = 'file'"
}
# file_name FILE: path (path_source) of FILE in the files table.
file_name() {
	sql "$DB" "SELECT ifnull(path, 'NULL') || ' (' || ifnull(path_source, '-') || ')'
	           FROM files WHERE kind = 'file' AND ino = $(stat -c %i "$1") ORDER BY last_seen DESC LIMIT 1"
}
# path_sources: how the files were named (source:count ...).
path_sources() {
	sql "$DB" "SELECT group_concat(s || ':' || n, ' ') FROM (SELECT ifnull(path_source, 'none') AS s, count(*) AS n
	           FROM files WHERE kind = 'file' GROUP BY 1)"
}
exec_names() {
	sql "$DB" "SELECT ifnull(path, 'NULL') || ' (' || ifnull(path_source, '-') || '), container: ' ||
	             ifnull(container_path, 'NULL') || ', note: ' || ifnull(path_note, '-')
	           FROM files WHERE ino = $(stat -c %i "$EXEC")"
}

# 1. Exactly the manifest's capabilities.
scenario all "${CAPS[@]}"
ALL_PEAK=$PEAK ALL_CPU=$CPU_MS ALL_NAMED=$(named_files)
check "daemon's bounding set is the manifest's capabilities" \
	eq "$(awk '$1 == "CapBnd:" { print $2 }' "$TEST_TMP/caps")" "$(cap_mask "${CAPS[@]}")"
check "v_exec_thrash has the exec file with victim /$P/app" eq "$(exec_thrash_row 'count(*)')" 1
check "top_cause is limit" eq "$(exec_thrash_row top_cause)" limit
check "top_reclaim_root is the parent /$P" eq "$(exec_thrash_row top_reclaim_root)" "/$P"
check "more than 100000 exec pages evicted" gt "$(exec_thrash_row evicted_pages)" 100000
check "refaulted pages within 2% of memory.stat" within "$(exec_thrash_row refaulted_pages)" "$REFAULTS" 2
check "database written through the /var/lib/cachewatch mount" \
	eq "$(sql "$DB" 'SELECT count(*) FROM runs WHERE stopped IS NOT NULL')" 1
say "exec file: $(exec_names)"
say "files named: host path, container path only: $ALL_NAMED; by source: $(path_sources)"
LOG_IN_POD=/var/log/pods/${LOGFILE#"$CW_NODE/pods/"}
check "container log named by handle at its /var/log/pods path" eq "$(file_name "$LOGFILE")" "$LOG_IN_POD (handle)"
check "file mapped by another uid's process named from its maps (no CAP_SYS_PTRACE needed)" eq "$(file_name "$MAPPED")" "$MAPPED (maps)"
check "GET /metrics answers (the probes' endpoint)" test -s "$TEST_TMP/metrics"
check "runs.hostname is the node's name (NODE_NAME), not the pod's" eq \
	"$(sql "$DB" 'SELECT hostname FROM runs')" "$CW_NODE_NAME"
grep -iE 'warn|error' "$TEST_TMP/daemon.log" | sed "s/^/$TEST_NAME: daemon: /" >&2 || true

# 2. Each capability removed in turn.
for cap in "${CAPS[@]}"; do
	rest=()
	for c in "${CAPS[@]}"; do [ "$c" = "$cap" ] || rest+=("$c"); done
	case $cap in
	BPF | PERFMON)
		# Required: refuse to start, naming the capability.
		TEST_TMP=$BASE_TMP/no-$cap
		mkdir -p "$TEST_TMP"
		rc=0
		CW_CAPS="${rest[*]}" CW_STATE=$TEST_TMP CW_CGROUP="" \
			timeout 60 "$CACHEWATCHD" --db "$TEST_TMP/cachewatch.db" --duration 5 \
			2> "$TEST_TMP/daemon.log" || rc=$?
		check "without CAP_$cap the daemon fails to start" test "$rc" != 0 -a "$rc" != 124
		check "without CAP_$cap the message names CAP_$cap" grep -q "CAP_$cap" "$TEST_TMP/daemon.log"
		say "without CAP_$cap: exit $rc: $(grep -m1 "CAP_$cap" "$TEST_TMP/daemon.log")"
		;;
	*)
		# Optional: it starts; something observable must be lost.
		scenario "no-$cap" "${rest[@]}"
		named=$(named_files)
		say "without CAP_$cap: exec file: $(exec_names)"
		say "without CAP_$cap: files named (host path, container path only): $named (all caps: $ALL_NAMED); by source: $(path_sources)"
		check "without CAP_$cap the exec thrash is still recorded" gt "$(sql "$DB" "SELECT SUM(pages) FROM v_evictions WHERE victim = '/$VICTIM'")" 100000
		case $cap in
		DAC_READ_SEARCH)
			check "without CAP_$cap the container log is not named" \
				eq "$(file_name "$LOGFILE")" "NULL (-)"
			;;
		SYS_PTRACE)
			check "without CAP_$cap the file only another uid maps is not named" \
				eq "$(file_name "$MAPPED")" "NULL (-)"
			;;
		*)
			say "no probe for CAP_$cap: does anything observable depend on it?"
			check "CAP_$cap has a probe (else it is not shown to be needed)" false
			;;
		esac
		;;
	esac
done
TEST_TMP=$BASE_TMP
say "footprint with the manifest's capabilities: peak $((ALL_PEAK >> 20)) MiB, CPU ${ALL_CPU:-?} ms in the ~20 s scenario"
pass_or_fail
