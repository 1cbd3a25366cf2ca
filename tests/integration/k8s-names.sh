#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kubernetes names, as an operator thinks of them.  Real v1 memory cgroups
# named exactly as kubelet names them, with both cgroup drivers (cgroupfs:
# kubepods/burstable/pod<uid>/<id>; systemd: kubepods.slice/.../
# cri-containerd-<id>.scope), placed under a test prefix so a real kubelet's
# cgroups are never touched; a fixture /var/log/pods tree names them.  The
# limit is on the pod; the "app" container maps an executable file, the
# "sidecar" grows anonymous memory.  v_exec_thrash must name the app
# container as the victim, the pod as the reclaim root and the sidecar as
# the top pressure.
. "$srcdir/tests/lib/integration.sh"
require_root

LOGS=$TEST_TMP/log
UID1=3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b
UID2=7e8f9a0b-1c2d-4e3f-9a5b-6c7d8e9f0a1b
APP_ID=$(printf '%064x' 0xa11ce)
CAR_ID=$(printf '%064x' 0x5ecca)
APP2_ID=$(printf '%064x' 0xa22ce)
CAR2_ID=$(printf '%064x' 0x5ecc2)

# kubelet's log layout: pods/<ns>_<pod>_<uid>/<container>/ and
# containers/<pod>_<ns>_<container>-<id>.log
fixture_pod() { # NS POD UID APP_ID SIDECAR_ID
	mkdir -p "$LOGS/pods/$1_$2_$3/app" "$LOGS/pods/$1_$2_$3/log-shipper" "$LOGS/containers"
	touch "$LOGS/pods/$1_$2_$3/app/0.log" "$LOGS/pods/$1_$2_$3/log-shipper/0.log"
	ln -s "../pods/$1_$2_$3/app/0.log" "$LOGS/containers/$2_$1_app-$4.log"
	ln -s "../pods/$1_$2_$3/log-shipper/0.log" "$LOGS/containers/$2_$1_log-shipper-$5.log"
}
fixture_pod payments payments-api-7d9f "$UID1" "$APP_ID" "$CAR_ID"
fixture_pod shop cart-5b6c "$UID2" "$APP2_ID" "$CAR2_ID"

DB=$TEST_TMP/cachewatch.db
EXEC=$(exec_file)
PFX=$CG_PREFIX
cg_make "$PFX" "$PFX/kubepods" "$PFX/kubepods/burstable" "$PFX/kubepods.slice" \
	"$PFX/kubepods.slice/kubepods-burstable.slice" "$PFX/system.slice" \
	"$PFX/system.slice/cwtest.service"
start_daemon "$DB" --interval 2 --pod-logs "$LOGS/pods"

# thrash POD_CGROUP APP_CGROUP SIDECAR_CGROUP: the incident inside one pod.
thrash() {
	cg_make "$1" "$2" "$3"
	cg_limit "$1" $((96 << 20))
	"$HELPERS/fadv" "$EXEC"
	cg_run "$2" "$HELPERS/exectouch" "$EXEC" 15 > /dev/null
	local toucher=$!
	sleep 3
	cg_run "$3" "$HELPERS/memhog" 72 9
	wait "$toucher"
}

POD1=$PFX/kubepods/burstable/pod$UID1
thrash "$POD1" "$POD1/$APP_ID" "$POD1/$CAR_ID"
POD2=$PFX/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID2//-/_}.slice
thrash "$POD2" "$POD2/cri-containerd-$APP2_ID.scope" "$POD2/cri-containerd-$CAR2_ID.scope"
sleep 3
stop_daemon

row() { # row POD COLUMNS: the v_exec_thrash row of the exec file in that pod
	sql "$DB" "SELECT $2 FROM v_exec_thrash WHERE file = '$EXEC' AND victim_pod = '$1'"
}
for pod in payments-api-7d9f cart-5b6c; do
	check "$pod: the exec file's victim is the app container" \
		eq "$(row $pod "victim_namespace || '/' || victim_pod || '/' || victim_container")" \
		"$( [ $pod = cart-5b6c ] && echo shop || echo payments)/$pod/app"
	check "$pod: the top cause is the limit" eq "$(row $pod top_cause)" limit
	check "$pod: the sidecar is the top pressure" eq "$(row $pod top_pressure_container)" log-shipper
	check "$pod: more than 50000 exec pages evicted" gt "$(row $pod evicted_pages)" 50000
done
check "cgroupfs driver: reclaim root is the pod cgroup" \
	eq "$(row payments-api-7d9f top_reclaim_root)" "/$POD1"
check "systemd driver: reclaim root is the pod slice" eq "$(row cart-5b6c top_reclaim_root)" "/$POD2"
check "cgroupfs driver: pod UID, QoS and container id parsed" \
	eq "$(sql "$DB" "SELECT pod_uid || ',' || qos || ',' || container_id || ',' || COALESCE(runtime, '-') FROM v_cgroups WHERE path = '/$POD1/$APP_ID'")" \
	"$UID1,burstable,$APP_ID,-"
check "systemd driver: pod UID, QoS, container id and runtime parsed" \
	eq "$(sql "$DB" "SELECT pod_uid || ',' || qos || ',' || container_id || ',' || runtime FROM v_cgroups WHERE path = '/$POD2/cri-containerd-$APP2_ID.scope'")" \
	"$UID2,burstable,$APP2_ID,containerd"
check "the pod-level cgroup has the pod's names but no container" \
	eq "$(sql "$DB" "SELECT namespace || '/' || pod || '/' || COALESCE(container, '-') FROM v_cgroups WHERE path = '/$POD1'")" \
	"payments/payments-api-7d9f/-"
check "systemd units are named" \
	eq "$(sql "$DB" "SELECT unit FROM v_cgroups WHERE path = '/$PFX/system.slice/cwtest.service'")" cwtest.service
pass_or_fail
