#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The operators' commands over a real recording: the sibling exec-thrash
# scenario, with an exec file and a hog cgroup whose names hold HTML, shell
# and Markdown metacharacters, read back with cachewatch query, status,
# report and top.  The checks of each command are in cli-*.inc.
. "$srcdir/tests/lib/integration.sh"
. "$srcdir/tests/integration/exec-thrash.inc"
require_root
CACHEWATCH=${CACHEWATCH:-$builddir/cachewatch}

# Untrusted names: every character here means something to a shell, HTML
# or Markdown, and the file name carries a terminal escape sequence and a
# newline.
WEIRD_FILE_BASE=$'lib<b>x<script>&amp;"q\'$(id)`;|*_[1](u)\e[31m\nline2.so'
HOG_NAME=$'hog<i>&"\'$x;|'
EXEC_NAME=$TEST_TMP/$WEIRD_FILE_BASE

run_exec_thrash sibling
HOG=/$P/$HOG_NAME

. "$srcdir/tests/integration/cli-query.inc"
. "$srcdir/tests/integration/cli-report.inc"
. "$srcdir/tests/integration/cli-top.inc"
pass_or_fail
