#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# make check: feed every committed seed and every past crash of each fuzz
# target to the target once, built without libFuzzer (tests/fuzz/fuzz.am).
set -u
status=0
for t in cgpath config memstat; do
	dirs="$srcdir/tests/fuzz/corpus/$t"
	[ -d "$srcdir/tests/fuzz/regressions/$t" ] && dirs="$dirs $srcdir/tests/fuzz/regressions/$t"
	# shellcheck disable=SC2086
	out=$("$builddir/tests/fuzz/replay-$t" $dirs 2>&1) || { echo "replay-$t: FAILED: $out"; status=1; continue; }
	echo "replay-$t: $out"
done
exit $status
