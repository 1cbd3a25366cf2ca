#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A kernel whose verifier refuses an optional program still gets recorded.
# CACHEWATCH_TEST_REFUSE_ITER makes the exec-mapping iterator return 2,
# which the real verifier refuses for an iterator (it must return 0 or 1),
# as a stricter kernel refused its bpf_d_path() call once.  The daemon must
# load again without it, say so in one line naming the hook, leave it out of
# runs.hooks, and record page-cache evictions as usual.
. "$srcdir/tests/lib/integration.sh"
require_root

C=$CG_PREFIX
F=$TEST_TMP/data.bin
cg_make "$C"
head -c $((4 << 20)) /dev/urandom > "$F"
"$HELPERS/fadv" "$F"

CACHEWATCH_TEST_REFUSE_ITER=1 start_daemon "$TEST_TMP/d.db" --interval 1
cg_run "$C" cat "$F" > /dev/null
wait $!
"$HELPERS/fadv" "$F"
sleep 2.5
stop_daemon

log=$TEST_TMP/daemon.log
check "the refusal is logged in one line naming the hook" \
	eq "$(grep -c 'hooks not available: task_vma_iter (refused by the kernel.s verifier)' "$log")" 1
check "and nothing else of the refusal without --verbose (no libbpf lines)" \
	eq "$(grep -c 'libbpf:' "$log")" 0
hooks=$(sql "$TEST_TMP/d.db" "SELECT hooks FROM runs")
check "runs.hooks lists the page-cache hooks" eq "${hooks:0:26}" "filemap_delete,filemap_add"
check "runs.hooks leaves the iterator out" eq "${hooks/task_vma_iter/}" "$hooks"
check "the file's 1024 pages are recorded as invalidated from the cgroup" \
	eq "$(sql "$TEST_TMP/d.db" "SELECT SUM(pages) FROM v_evictions WHERE file = '$F' AND victim = '/$C' AND cause = 'invalidate'")" 1024

# Without the fault the iterator is live: the test above is not vacuous.
start_daemon "$TEST_TMP/n.db" --interval 1
stop_daemon
check "without the fault the iterator is live" \
	eq "$(sql "$TEST_TMP/n.db" "SELECT instr(hooks, 'task_vma_iter') > 0 FROM runs")" 1
pass_or_fail
