#!/usr/bin/env python3
"""Finds the files that do not compile in a unity batch (cmake/Unity.cmake) in minutes: clang's front
end (-fsyntax-only) over every Unity/unity_N_cxx.cxx of a clang build configured with
-DCMAKE_UNITY_BUILD=ON, then prints the source files that report errors (add them to
KGUARD_UNITY_SKIP; repeat until it prints none, since skipping a file shifts the batches).

  CXX=clang++ cmake -S . -B build/clang-unity -G Ninja -DCMAKE_UNITY_BUILD=ON
  ninja -C build/clang-unity generated/catalog_data.cpp   # and the other generated sources
  scripts/unity-check.py build/clang-unity [JOBS]
"""
import json, re, shlex, subprocess, sys, concurrent.futures as cf
build = sys.argv[1]
cc = json.load(open(f"{build}/compile_commands.json"))
jobs = []
for e in cc:
    if "/Unity/unity_" in e["file"]:
        a = shlex.split(e["command"])
        i = a.index("-o"); del a[i:i+2]
        a = [x for x in a if x not in ("-MD", "-c")]
        for flag in ("-MT", "-MF"):
            if flag in a:
                j = a.index(flag); del a[j:j+2]
        jobs.append((e["file"], a + ["-fsyntax-only", "-ferror-limit=0"], e["directory"]))
def run(j):
    f, a, d = j
    p = subprocess.run(["nice"] + a, cwd=d, capture_output=True, text=True)
    return f, p.returncode, p.stderr
bad = set()
failed = 0
with cf.ThreadPoolExecutor(int(sys.argv[2]) if len(sys.argv) > 2 else 2) as ex:
    for f, rc, err in ex.map(run, jobs):
        if rc:
            failed += 1
            files = set(re.findall(r"^(/\S+?\.(?:cpp|cc)):\d+:\d+: error", err, re.M))
            print("BATCH", f, file=sys.stderr)
            for x in sorted(files): print("   ", x, file=sys.stderr)
            if not files: print(err[:2000], file=sys.stderr)
            bad |= files
print(len(jobs), "batches", file=sys.stderr)
for b in sorted(bad):
    print(b)
sys.exit(1 if bad or failed else 0)  # a failure naming no source: a missing generated header
