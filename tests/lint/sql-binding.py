#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every SQL statement cachewatch runs takes its values as bound parameters.

Scans the C sources of the daemon, the CLI and the helpers for calls of the
printf family (snprintf, asprintf, fprintf, sqlite3_mprintf, ...) whose
format string looks like SQL (a statement keyword) and has a conversion
(%s, %d, ...): that is SQL built by formatting, which a name from the
kernel could break or inject into.  A call may be exempted only with a
comment "sql-format-ok: <reason>" on its line or the line before (e.g. a
PRAGMA, which cannot take parameters, given integer constants).  Also
refuses sqlite3_mprintf and friends outright unless exempted the same way.
Exit 0 when clean, 1 listing each offending call.
"""
import os
import re
import sys

# SQL here is written in capitals: a statement keyword opening the format,
# or the pairs that only SQL has.
SQL_WORD = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|DROP|ALTER|ATTACH|"
                      r"REPLACE|WITH|BEGIN|VACUUM)\s|\bSELECT\b.*\bFROM\b|\bINSERT\s+INTO\b|"
                      r"\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b|\bWHERE\s+\w+\s*(=|IN|LIKE)")
CONVERSION = re.compile(r"%[-+ #0-9.*]*(?:hh|h|ll|l|j|z|t|L)?[diouxXeEfgGcsqQwp]")
CALL = re.compile(r"\b(v?s?n?printf|v?asprintf|v?fprintf|v?dprintf|sqlite3_v?mprintf|"
                  r"sqlite3_v?snprintf|sd_\w*printf\w*)\s*\(")
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def call_args(text, start):
    """The text of a call's arguments, from the '(' at start to its match."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def scan(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    lines = text.splitlines()
    problems = []
    for m in CALL.finditer(text):
        line_no = text.count("\n", 0, m.start()) + 1
        context = "\n".join(lines[max(0, line_no - 2):line_no])
        if "sql-format-ok:" in context:
            continue
        fmt = "".join(STRING.findall(call_args(text, m.end() - 1)))
        if m.group(1).startswith("sqlite3_"):
            problems.append((line_no, "%s builds SQL by formatting" % m.group(1)))
        elif SQL_WORD.search(fmt) and CONVERSION.search(fmt):
            problems.append((line_no, "SQL formatted with %s: %.70s" % (m.group(1), fmt)))
    return problems


def main():
    top = os.environ.get("srcdir") or os.path.join(os.path.dirname(__file__), "..", "..")
    dirs = ["daemon", "cli", "tests/helpers", "tests/bench"]
    found, files = 0, 0
    for d in dirs:
        base = os.path.join(top, d)
        for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
            if not name.endswith(".c"):
                continue
            files += 1
            for line_no, what in scan(os.path.join(base, name)):
                print("%s/%s:%d: %s" % (d, name, line_no, what))
                found += 1
    print("sql-binding: %d C files scanned, %d problems" % (files, found))
    return 1 if found or files == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
