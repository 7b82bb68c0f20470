#!/bin/sh
# The vulnerability database benchmark (bench/results/vulndb.md): 500,000 OSV
# records in six all.zip dumps (bench/gen_vuln_db.py, cached), `kguard db
# build` over them under /usr/bin/time -v, lookups through the index
# (vuln_db_lookup), and the bundle's export and import.
# Usage: bench/run_vuln_db_bench.sh [BUILD_DIR]   (default build/release)
set -eu
BUILD=${1:-build/release}
CACHE=${KGUARD_BENCH_CACHE:-$HOME/.cache/kguard-bench}/vulndb
OSV=$CACHE/osv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
[ -f "$OSV/Maven/all.zip" ] || python3 "$(dirname "$0")/gen_vuln_db.py" "$OSV" --records 500000
set --
for eco in Debian Alpine npm PyPI Go Maven; do set -- "$@" --osv "$OSV/$eco/all.zip"; done
echo "== build"
/usr/bin/time -v "$BUILD/kguard" db build --db "$WORK/vuln.db" "$@" 2>&1 |
  grep -E 'kguard db build|User time|System time|Elapsed|Maximum resident'
ls -l "$WORK/vuln.db" | awk '{print "database bytes", $5}'
echo "== lookups (1,000 and 10,000 packages; 1 in 4 a miss)"
"$BUILD/bench/vuln_db_lookup" "$WORK/vuln.db" 1000
"$BUILD/bench/vuln_db_lookup" "$WORK/vuln.db" 1000 records-only
"$BUILD/bench/vuln_db_lookup" "$WORK/vuln.db" 10000
echo "== bundle"
/usr/bin/time -v "$BUILD/kguard" db export --db "$WORK/vuln.db" --out "$WORK/bundle.tar.gz" 2>&1 |
  grep -E 'User time|Elapsed|Maximum resident'
ls -l "$WORK/bundle.tar.gz" | awk '{print "bundle bytes", $5}'
/usr/bin/time -v "$BUILD/kguard" db import --db "$WORK/imported.db" "$WORK/bundle.tar.gz" 2>&1 |
  grep -E 'User time|Elapsed|Maximum resident'
echo "== load"
uptime
