#!/usr/bin/env python3
"""HACKING.md promises no global mutable state in src/ except the lazily built
immutable builtin catalog: no thread_local, no mutable static variables, no
mutable namespace-scope globals. Per-scan state lives in an EvalContext (one
per scan worker or admission request) or in the objects a scan owns.

Usage: global_state_test.py SOURCE_DIR
"""
import pathlib
import re
import sys

# Guards of resources that are process-wide whatever kguard does (stderr,
# libcurl's global initialisation), each with the reason it stays.
ALLOWED = {
    ("src/core/log.cpp", "static std::mutex mu;"): "one JSON log line at a time on stderr",
    ("src/sources/kube/client.cpp", "std::once_flag curl_init;"): "curl_global_init runs once per process",
}

THREAD_LOCAL = re.compile(r"\bthread_local\b")
# `static T name;`, `static T name = ...`, `static T name{...};` that is not
# const/constexpr (function declarations carry parentheses before the name's end).
STATIC_VAR = re.compile(
    r"^\s*(?:inline\s+)?static\s+(?!const\b|constexpr\b|inline\b)[\w:<>,\s*&]+?\s+\**\w+\s*(?:;|=|\{.*\};?\s*(?://.*)?$)")
# Namespace-scope synchronisation or atomics declared at column 0.
GLOBAL_SYNC = re.compile(r"^(?:std::)?(?:mutex|once_flag|atomic(?:<[^>]*>)?|shared_mutex)\s+\w+")


def strip_comment(line):
    return line.split("//", 1)[0] if "//" in line and '"' not in line.split("//", 1)[0] else line


def main():
    root = pathlib.Path(sys.argv[1])
    problems = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h", ".cc"):
            continue
        rel = path.relative_to(root).as_posix()
        for n, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            line = strip_comment(raw)
            if line.lstrip().startswith(("//", "*")):
                continue
            hit = THREAD_LOCAL.search(line) or STATIC_VAR.search(line) or GLOBAL_SYNC.search(line)
            if hit and (rel, raw.strip()) not in ALLOWED:
                problems.append(f"{rel}:{n}: global mutable state: {raw.strip()}")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} global mutable variable(s): keep per-scan state in an EvalContext "
              "(src/catalog/eval_context.hpp) or an object the scan owns", file=sys.stderr)
        return 1
    print("no global mutable state")
    return 0


if __name__ == "__main__":
    sys.exit(main())
