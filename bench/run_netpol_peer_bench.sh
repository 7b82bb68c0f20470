#!/usr/bin/env bash
# Network policy benchmark against the peer (issue 18 item 5; bench/run_netpol_bench.sh times the
# engine alone in more detail): kguard netpol against np-guard's netpol-analyzer on
# the same generated cluster (bench/gen_netpol_bench.py: ten workloads and ten NetworkPolicies per
# namespace).  Target: the full connectivity of 10,000 pods / 1,000 namespaces / 10,000 policies in
# under 1 s on one core (Antrea's controller took 1.9–25 s on that case, antrea-io/antrea#2333).
#
# Usage: bench/run_netpol_peer_bench.sh [KGUARD]
# Environment:
#   SCALES="100 1000"        namespaces per input (x10 workloads, x10 policies)
#   REPS=3                   timed kguard runs per measurement; the best is reported
#   PEER_REPS=1              timed peer runs per measurement (it is slow); the best is reported
#   PEER_MAX_NAMESPACES=100  the peer runs only on inputs this small or smaller ...
#   PEER_TIMEOUT_S=900       ... and the full-size one is tried once with this limit (0: never)
#   KGUARD_BENCH_CACHE=DIR   inputs and the peer (default ~/.cache/kguard-bench)
#   RESULTS=FILE             Markdown output (default bench/results/netpol-peer.md)
# The peer is built by bench/build_netpol_peer.sh when missing (Go module proxy); without it the
# table has kguard alone.  kguard runs single-threaded (the engine has no threads).
#
# Measured, per input: `kguard netpol list FILE -o json` (the full connectivity, written to
# /dev/null), `kguard netpol explain SRC DST FILE` (one explanation), the engine alone phase by
# phase (bench/netpol_engine_bench.cpp, built with kguard: no output formatting), and the peer's
# `netpolicy list --dirpath DIR -f OUT` (its connlist text, written to a file that is then compared
# with kguard's) and `netpolicy eval` for the same pair.  Wall, CPU
# (user+system) and peak RSS come from GNU time; the best of the runs is kept (the machine is
# shared: the load average at start and end is written down).  On the inputs both analyse, the two
# connection lists are compared line by line (kguard's -o netpol-analyzer against the peer's text).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
KGUARD=${1:-$ROOT/build/release/kguard}
SCALES=${SCALES:-"100 1000"}
REPS=${REPS:-3}
PEER_REPS=${PEER_REPS:-1}
PEER_MAX_NAMESPACES=${PEER_MAX_NAMESPACES:-100}
PEER_TIMEOUT_S=${PEER_TIMEOUT_S:-900}
CACHE=${KGUARD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-bench}
RESULTS=${RESULTS:-$BENCH_DIR/results/netpol-peer.md}
PEER_VERSION=${NETPOL_ANALYZER_VERSION:-v1.4.2}
PEER=$CACHE/peers/netpol-analyzer-$PEER_VERSION/netpolicy
ENGINE_BENCH=${ENGINE_BENCH:-$(dirname "$KGUARD")/bench/netpol_engine_bench}
[ -x "$KGUARD" ] || { echo "$(basename "$0"): no kguard at $KGUARD (build it first)" >&2; exit 2; }
if [ ! -x "$PEER" ]; then
  "$BENCH_DIR/build_netpol_peer.sh" >&2 || echo "$(basename "$0"): netpol-analyzer did not build; kguard alone" >&2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# measure RUNS LIMIT_S CMD... -> "wall cpu rss_mib" of the fastest run, or "timeout"/"failed"
measure() {
  local runs=$1 limit=$2; shift 2
  local best="" i line wall user sys rss code
  for ((i = 0; i < runs; i++)); do
    set +e
    if [ "$limit" -gt 0 ]; then
      /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" timeout "$limit" "$@" > /dev/null 2> "$TMP/stderr"
    else
      /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$@" > /dev/null 2> "$TMP/stderr"
    fi
    code=$?
    set -e
    if [ "$code" = 124 ]; then echo "timeout"; return; fi
    if [ "$code" != 0 ] && [ "$code" != 1 ]; then echo "failed"; tail -3 "$TMP/stderr" >&2; return; fi
    read -r wall user sys rss < <(tail -1 "$TMP/time")
    line=$(awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN { printf "%.3f %.2f %.1f", w, u + s, r / 1024 }')
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then best=$line; fi
  done
  echo "$best"
}

row() {  # row SCALE WHAT TOOL RESULT NOTE
  local scale=$1 what=$2 tool=$3 result=$4 note=$5 wall cpu rss
  case "$result" in
    timeout) echo "| $scale | $what | $tool | > limit | - | - | did not finish in ${PEER_TIMEOUT_S} s; $note |" ;;
    failed) echo "| $scale | $what | $tool | failed | - | - | $note |" ;;
    *) read -r wall cpu rss <<< "$result"; echo "| $scale | $what | $tool | $wall | $cpu | $rss | $note |" ;;
  esac
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
ROWS=()
NOTES=()
for ns in $SCALES; do
  dir=$CACHE/netpol/ns-$ns
  mkdir -p "$dir"
  input=$dir/input.yaml
  if [ ! -s "$input" ] || [ "$BENCH_DIR/gen_netpol_bench.py" -nt "$input" ]; then
    python3 "$BENCH_DIR/gen_netpol_bench.py" "$input" --namespaces "$ns"
  fi
  workloads=$((ns * 10 + 3)); policies=$((ns * 10))
  scale="$ns ns, $workloads workloads, $policies policies"
  # Check the answer once before timing it: the JSON parses and holds every workload.
  "$KGUARD" netpol list "$input" -o json > "$TMP/list.json"
  summary=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["workloads"]), len(d["ipRanges"]), len(d["connections"]))' "$TMP/list.json")
  read -r got_workloads ranges connections <<< "$summary"
  [ "$got_workloads" = "$workloads" ] || { echo "kguard saw $got_workloads workloads, expected $workloads" >&2; exit 1; }
  src="ns-0000/api[Deployment]"; dst="ns-0000/orders[Deployment]"
  ROWS+=("$(row "$scale" "list (full connectivity)" kguard "$(measure "$REPS" 0 "$KGUARD" netpol list "$input" -o json)" "$connections connections, $ranges external ranges")")
  ROWS+=("$(row "$scale" "explain $src → $dst" kguard "$(measure "$REPS" 0 "$KGUARD" netpol explain "$src" "$dst" "$input")" "every protocol and port run, with the rules")")
  if [ -x "$ENGINE_BENCH" ]; then
    # The engine alone, phase by phase (no output formatting): what the 1 s target is about.
    /usr/bin/time -f "%M" -o "$TMP/engine_rss" "$ENGINE_BENCH" "$input" "$REPS" "$src" "$dst" > "$TMP/engine.txt"
    engine_rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$TMP/engine_rss")
    for phase in load analysis connectivity totals explain; do
      read -r cpu wall <<< "$(awk -v p="$phase" '$1 == p { print $3, $5 }' "$TMP/engine.txt")"
      case $phase in
        load) what="engine: read + parse + load (once)" ;;
        analysis) what="engine: Analysis (selection, rule chains)" ;;
        connectivity) what="engine: every ordered pair's connections" ;;
        totals) what="engine: totals only (pairs, allowed, all)" ;;
        explain) what="engine: one explain" ;;
      esac
      ROWS+=("| $scale | $what | netpol_engine_bench | $wall | $cpu | $engine_rss | $(awk -v p="$phase" '$1 == p { $1 = $2 = $3 = $4 = $5 = ""; print }' "$TMP/engine.txt" | sed 's/^ *//') |")
    done
  fi
  if [ -x "$PEER" ]; then
    limit=0; reps=$PEER_REPS
    if [ "$ns" -gt "$PEER_MAX_NAMESPACES" ]; then limit=$PEER_TIMEOUT_S; reps=1; fi
    if [ "$ns" -le "$PEER_MAX_NAMESPACES" ] || [ "$PEER_TIMEOUT_S" -gt 0 ]; then
      rm -f "$TMP/peer.txt"
      result=$(measure "$reps" "$limit" "$PEER" list --dirpath "$dir" -q -f "$TMP/peer.txt")
      note=""
      if [ "$ns" -le "$PEER_MAX_NAMESPACES" ] && [ -s "$TMP/peer.txt" ]; then
        "$KGUARD" netpol list "$input" -o netpol-analyzer > "$TMP/kguard.txt"
        same=$(comm -12 <(sort "$TMP/peer.txt") <(sort "$TMP/kguard.txt") | wc -l)
        note="$(wc -l < "$TMP/peer.txt") lines, $same identical to kguard's -o netpol-analyzer ($(wc -l < "$TMP/kguard.txt") lines)"
        NOTES+=("- $scale: the lines that differ: $(comm -3 <(sort "$TMP/peer.txt") <(sort "$TMP/kguard.txt") | wc -l); the peer cuts the external address space per direction and per workload (\`0.0.0.0-255.255.255.255 => kube-system/coredns\` where no ipBlock limits that ingress), kguard at every boundary of the whole input (\`0.0.0.0-9.255.255.255 => kube-system/coredns\` ...) — the same connectivity (tests/netpol/peer_test.py compares by meaning).")
      fi
      ROWS+=("$(row "$scale" "list (full connectivity)" "netpol-analyzer $PEER_VERSION" "$result" "$note")")
      ROWS+=("$(row "$scale" "eval api → orders TCP 9000" "netpol-analyzer $PEER_VERSION" "$(measure "$reps" "$limit" "$PEER" eval --dirpath "$dir" -q -n ns-0000 -s api --destination-namespace ns-0000 -d orders -p 9000)" "one port only (the peer has no per-port explanation of a pair)")")
    fi
  fi
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "# Network policy benchmark: kguard netpol against netpol-analyzer"
  echo
  echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- Machine: \`nproc\` = $(nproc), CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); shared with other work"
  echo "- Load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END"
  echo "- kguard: $("$KGUARD" --version 2>/dev/null | head -1), tree: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown); single-threaded"
  if [ -x "$PEER" ]; then
    echo "- netpol-analyzer $PEER_VERSION: Go module proxy, \`github.com/np-guard/netpol-analyzer/cmd/netpolicy@$PEER_VERSION\` (bench/build_netpol_peer.sh); \`netpolicy list --dirpath DIR -q -f FILE\`, \`netpolicy eval\`"
  else
    echo "- netpol-analyzer: not available (bench/build_netpol_peer.sh failed)"
  fi
  echo "- Input: bench/gen_netpol_bench.py — per namespace 10 workloads (Deployments, StatefulSets, a CronJob; named ports) and 10 NetworkPolicies (default-deny-ingress, one-hop allows by pod, namespace and namespace+pod selectors, matchExpressions, named and numeric ports, an endPort range, metrics from monitoring, egress with DNS/HTTPS-except-private/partner CIDRs); plus kube-system, ingress-nginx, monitoring. One YAML file per size (cached under \`~/.cache/kguard-bench/netpol\`)."
  echo "- Method: best of $REPS runs for kguard, of $PEER_REPS for the peer; the peer is timed on the full size once, with a ${PEER_TIMEOUT_S} s limit. Wall = elapsed; CPU = user + system of the process; peak RSS from GNU time. Output to /dev/null."
  echo
  echo "| Input | Measurement | Tool | Wall s | CPU s | Peak RSS MiB | Notes |"
  echo "|---|---|---|---:|---:|---:|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Target: the full computation on 10,000 pods / 1,000 namespaces / 10,000 policies in under 1 s on one core."
  printf '%s\n' "${NOTES[@]}"
} > "$RESULTS"
cat "$RESULTS"
