#!/bin/sh
# The NetworkPolicy engine's benchmark (bench/results/netpol.md): generates
# 10,000 pods / 1,000 namespaces / 10,000 policies (cached) and runs
# netpol_bench RUNS times; CPU time is what a shared machine distorts least.
# usage: bench/run_netpol_bench.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build/release}
runs=${2:-3}
cache=${KGUARD_BENCH_CACHE:-$HOME/.cache/kguard-bench}
mkdir -p "$cache"
input="$cache/netpol-10k.yaml"
[ -s "$input" ] || python3 "$(dirname "$0")/gen_netpol.py" "$input"
echo "input: $input ($(wc -c < "$input") bytes), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$runs" ]; do
  "$build/bench/netpol_bench" "$input"
  i=$((i + 1))
done
