#!/usr/bin/env bash
# Hostile-input benchmark: each shape from bench/gen_hostile.py, /dev/zero and a big stdin, timed
# with /usr/bin/time -v (wall time, peak RSS), each run capped by `timeout`.
#
# Usage: bench/run_hostile_bench.sh [KGUARD...]
#   KGUARD  kguard binaries to compare (default: build/release/kguard); each gets its columns
# Environment:
#   TIMEOUT=60     seconds before a run is killed (shown as ">60 s (killed)")
#   GEN_DIR=DIR    where the shapes are generated (default ${XDG_CACHE_HOME:-$HOME/.cache}/kguard-hostile)
#   STDIN_MB=300   size of the big stdin input (realistic manifests repeated)
#   ONLY=REGEX     run only the shapes whose name matches
#   RESULTS=FILE   Markdown table output (default: stdout only)
#   SHAPES=0       skip the hostile shapes (e.g. to run only the honest part)
#   HONEST_MB="10 50"  also scan large honest inputs of these sizes (gen_hostile.py --honest) into
#                  all eight formats: one row per size and binary with time, peak RSS, the number
#                  of findings and each report's size
# Prints one Markdown row per shape: size, then per binary: wall time, peak RSS, exit code,
# number of input errors in the JSON report and the report's size.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
TIMEOUT=${TIMEOUT:-60}
GEN_DIR=${GEN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-hostile}
STDIN_MB=${STDIN_MB:-300}
ONLY=${ONLY:-.}
BINS=("$@")
[[ ${#BINS[@]} -gt 0 ]] || BINS=("$ROOT/build/release/kguard")
command -v /usr/bin/time >/dev/null || { echo "run_hostile_bench: needs /usr/bin/time (GNU time)" >&2; exit 1; }

stamp=$GEN_DIR/.generator-$(sha1sum "$BENCH_DIR/gen_hostile.py" | cut -c1-12)
if [[ ! -f $stamp ]]; then
  rm -rf "$GEN_DIR"; mkdir -p "$GEN_DIR"
  python3 "$BENCH_DIR/gen_hostile.py" "$GEN_DIR" >&2 || exit 1
  # Realistic manifests (the real-world corpus) repeated up to STDIN_MB for the stdin case.
  real=$(find "${REAL_WORLD:-$ROOT/../shared/corpora/real-world}" -name '*.yaml' 2>/dev/null | sort | head -200)
  if [[ -n $real ]]; then
    while [[ $(stat -c %s "$GEN_DIR/stdin.src" 2>/dev/null || echo 0) -lt $((STDIN_MB << 20)) ]]; do
      for f in $real; do cat "$f"; printf '\n---\n'; done >> "$GEN_DIR/stdin.src"
    done
    truncate -s $((STDIN_MB << 20)) "$GEN_DIR/stdin.src"
  fi
  touch "$stamp"
fi

human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b/1048576; else if (b >= 1024) printf "%.0f KiB", b/1024; else printf "%d B", b }'; }

# run BIN NAME INPUT: prints "wall | rss | exit | errors | report"
run() {
  local bin=$1 input=$2 out tlog rc wall rss errs size
  out=$(mktemp); tlog=$(mktemp)
  if [[ $input == stdin:* ]]; then
    /usr/bin/time -v -o "$tlog" timeout "$TIMEOUT" "$bin" scan -q --no-config -j 1 -o "json=$out" - < "${input#stdin:}" >/dev/null 2>&1
  elif [[ $input == pipe:* ]]; then
    cat "${input#pipe:}" | /usr/bin/time -v -o "$tlog" timeout "$TIMEOUT" "$bin" scan -q --no-config -j 1 -o "json=$out" - >/dev/null 2>&1
  else
    /usr/bin/time -v -o "$tlog" timeout "$TIMEOUT" "$bin" scan -q --no-config -j 1 -o "json=$out" "$input" >/dev/null 2>&1
  fi
  rc=$(awk -F': ' '/Exit status/ {print $2}' "$tlog")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tlog" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tlog")
  size=$(stat -c %s "$out" 2>/dev/null || echo 0)
  errs=$(python3 -c 'import json,sys
try: print(len(json.load(open(sys.argv[1]))["errors"]))
except Exception: print("-")' "$out" 2>/dev/null)
  if [[ $rc == 124 ]]; then wall=">$TIMEOUT s (killed)"; else wall=$(printf '%.2f s' "$wall"); fi
  printf '%s | %s | %s | %s | %s' "$wall" "$(human $((rss * 1024)))" "$rc" "$errs" "$(human "$size")"
  rm -f "$out" "$tlog"
}

header="| shape | input |"
sep="|---|---|"
for b in "${BINS[@]}"; do
  tag=$b
  header+=" $tag: time | peak RSS | exit | errors | JSON report |"
  sep+="---|---|---|---|---|"
done
rows=("$header" "$sep")
echo "$header"; echo "$sep"

shapes=()
for f in $(ls "$GEN_DIR" | sort -V); do [[ $f == stdin.src ]] || shapes+=("$GEN_DIR/$f"); done
shapes+=("/dev/zero")
[[ -f $GEN_DIR/stdin.src ]] && shapes+=("stdin:$GEN_DIR/stdin.src" "pipe:$GEN_DIR/stdin.src")
[[ ${SHAPES:-1} == 0 ]] && shapes=()
for s in "${shapes[@]}"; do
  name=$(basename "${s#*:}")
  [[ $s == stdin:* ]] && name="stdin redirected from a file ($STDIN_MB MiB of real-world manifests)"
  [[ $s == pipe:* ]] && name="stdin through a pipe ($STDIN_MB MiB of real-world manifests)"
  [[ $name =~ $ONLY ]] || continue
  if [[ $s == /dev/zero ]]; then bytes="endless"; else bytes=$(human "$(stat -c %s "${s#*:}")"); fi
  row="| $name | $bytes |"
  for b in "${BINS[@]}"; do row+=" $(run "$b" "$s") |"; done
  echo "$row"
  rows+=("$row")
done
if [[ -n ${RESULTS:-} ]]; then printf '%s\n' "${rows[@]}" > "$RESULTS"; fi

# Large honest inputs: every finding written in all eight formats.
formats=(json sarif csv junit policyreport text markdown html)
if [[ -n ${HONEST_MB:-} ]]; then
  header="| input | findings | binary | time | user CPU | peak RSS | budget |"
  sep="|---|--:|---|--:|--:|--:|--:|"
  for f in "${formats[@]}"; do header+=" $f |"; sep+="--:|"; done
  echo; echo "$header"; echo "$sep"
  rows+=("" "$header" "$sep")
  for mb in $HONEST_MB; do
    input=$GEN_DIR/honest-$mb.yaml
    [[ -f $input ]] || python3 "$BENCH_DIR/gen_hostile.py" --honest "$input" "$mb" || exit 1
    bytes=$(stat -c %s "$input")
    for b in "${BINS[@]}"; do
      out=$(mktemp -d); tlog=$(mktemp)
      args=()
      for f in "${formats[@]}"; do args+=(-o "$f=$out/$f"); done
      /usr/bin/time -v -o "$tlog" timeout "$TIMEOUT" "$b" scan -q --no-config -j 1 "${args[@]}" "$input" >/dev/null 2>&1
      rc=$(awk -F': ' '/Exit status/ {print $2}' "$tlog")
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tlog" | awk -F: '{ if (NF == 3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
      user=$(awk -F': ' '/User time/ {print $2}' "$tlog")
      rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tlog")
      if [[ $rc == 124 ]]; then wall=">$TIMEOUT s (killed)"; else wall=$(printf '%.1f s' "$wall"); fi
      findings=$(python3 -c 'import csv, sys
n = -1
try:
    with open(sys.argv[1], newline="") as f: n = sum(1 for _ in csv.reader(f)) - 1
except OSError: pass
print(n if n >= 0 else "-")' "$out/csv")
      row="| $(human "$bytes") | $findings | $b | $wall | $(printf '%.1f s' "$user") | $(human $((rss * 1024))) | $(human $((2 * bytes + (32 << 20)))) |"
      for f in "${formats[@]}"; do row+=" $(human "$(stat -c %s "$out/$f" 2>/dev/null || echo 0)") |"; done
      echo "$row"
      rows+=("$row")
      rm -rf "$out" "$tlog"
    done
  done
  if [[ -n ${RESULTS:-} ]]; then printf '%s\n' "${rows[@]}" > "$RESULTS"; fi
fi
