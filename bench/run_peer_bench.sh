#!/usr/bin/env bash
# Peer benchmark: `kguard scan` side by side with other Kubernetes manifest scanners on the same
# files.  See ../../shared/design/PERFORMANCE.md ("Scan"): target ≥ 20× faster than the fastest
# peer available on the machine.
#
# Usage: bench/run_peer_bench.sh [KGUARD]
#   KGUARD  kguard binary (default: build/release/kguard)
# Environment:
#   REPS=3                   timed runs per tool and corpus (medians are reported)
#   CHECKOV_ONE_RUN_S=300    a checkov check run slower than this is timed once, not REPS times
#   FULL_SNAPSHOT_LIMIT_S=300  kube-score on the whole 50,000-object snapshot is timed only if its
#                            check run finishes within this many seconds
#   SLICE_OBJECTS=5000       documents taken from the head of the snapshot for the slice corpus
#   KGUARD_BENCH_CACHE=DIR   snapshot cache, shared with run_scan_bench.sh
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/kguard-bench)
#   PEERS_DIR=DIR            where the peers are installed (default $KGUARD_BENCH_CACHE/peers)
#   SKIP_PEERS="a b"         peers neither installed nor run this time (e.g. one still building)
#   RETRY_PEERS=1            ask the registries again for peers that were unavailable before (a
#                            failed install is remembered for a week, so that repeated runs do not
#                            keep asking for names the registry does not serve)
#   REAL_WORLD=DIR           real-world corpus (default ../shared/corpora/real-world beside the checkout)
#   RESULTS=FILE             Markdown output (default bench/results/peers.md)
#
# Peers, pinned (override with the variables below):
#   kube-score   KUBE_SCORE_VERSION=v1.20.0   Go module proxy: github.com/zegl/kube-score/cmd/kube-score
#   checkov      CHECKOV_VERSION=3.3.30       PyPI, into a venv
#   Trivy        TRIVY_VERSION=v0.74.0        Go module proxy: github.com/aquasecurity/trivy/cmd/trivy
#                (built with GOEXPERIMENT=jsonv2, as its release builds are; a large build: it runs
#                at nice 19 with GOFLAGS=-p=1 and may take TRIVY_BUILD_TIMEOUT_S=7200 seconds)
#   kube-linter  KUBE_LINTER_VERSION=latest   Go module proxy: golang.stackrox.io/kube-linter/cmd/kube-linter
#   Polaris      POLARIS_VERSION=latest       Go module proxy: github.com/fairwindsops/polaris
# kube-linter and Polaris were not served by the module proxy on the machine this script was
# written on, so their versions are not pinned and the way they are run and checked below
# (command_for, check_report) has not been exercised; a peer that does not install is reported
# as unavailable and the benchmark goes on without it.
#
# Builds nothing of kguard: build it first (cmake --build build/release --target kguard).
# Before timing anything, every tool runs once on every corpus and its report is checked (kguard:
# object count; kube-score: one scored object per distinct object of the kinds it scores;
# checkov: its resource count and no parsing errors).  A tool whose check fails is not timed on
# that corpus.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
KGUARD=${1:-$ROOT/build/release/kguard}
REPS=${REPS:-3}
CHECKOV_ONE_RUN_S=${CHECKOV_ONE_RUN_S:-300}
FULL_SNAPSHOT_LIMIT_S=${FULL_SNAPSHOT_LIMIT_S:-300}
SLICE_OBJECTS=${SLICE_OBJECTS:-5000}
CACHE=${KGUARD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-bench}
PEERS_DIR=${PEERS_DIR:-$CACHE/peers}
RETRY_PEERS=${RETRY_PEERS:-0}
REAL_WORLD=${REAL_WORLD:-$ROOT/../shared/corpora/real-world}
[ -d "$REAL_WORLD" ] || { echo "$(basename "$0"): real-world corpus not found at $REAL_WORLD; set REAL_WORLD=DIR" >&2; exit 2; }
# Paths as the results file shows them: relative to the checkout, or under ~.
shown_path() { local p; p=$(realpath -m "$1"); case "$p" in "$(realpath -m "$ROOT/..")"/*) echo "../${p#"$(realpath -m "$ROOT/..")"/}" ;; "$HOME"/*) echo "~/${p#"$HOME"/}" ;; *) echo "$p" ;; esac; }
RESULTS=${RESULTS:-$BENCH_DIR/results/peers.md}
KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
KUBE_LINTER_VERSION=${KUBE_LINTER_VERSION:-latest}
TRIVY_VERSION=${TRIVY_VERSION:-v0.74.0}
TRIVY_BUILD_TIMEOUT_S=${TRIVY_BUILD_TIMEOUT_S:-7200}
POLARIS_VERSION=${POLARIS_VERSION:-latest}
SNAPSHOT_OBJECTS=50000
REAL_WORLD_MIN_OBJECTS=440
# The kinds kube-score scores; it parses everything else but leaves it out of its report.
KUBE_SCORE_KINDS=Pod,Deployment,StatefulSet,DaemonSet,Job,CronJob,Service,NetworkPolicy,PodDisruptionBudget,HorizontalPodAutoscaler,Ingress

die() { echo "run_peer_bench: $*" >&2; exit 1; }
log() { echo "== $*" >&2; }

[[ -x $KGUARD ]] || die "kguard binary not found: $KGUARD (build it: cmake --build build/release --target kguard)"
TIME_BIN=/usr/bin/time
[[ -x $TIME_BIN ]] || die "$TIME_BIN missing: install GNU time (apt-get install time)"
time_probe=$("$TIME_BIN" -v true 2>&1 || true)
grep -q 'Maximum resident set size' <<<"$time_probe" || die "$TIME_BIN is not GNU time"
command -v python3 >/dev/null || die "python3 is required"
[[ -d $REAL_WORLD ]] || die "real-world corpus not found: $REAL_WORLD"

workdir=$(mktemp -d "${TMPDIR:-/tmp}/kguard-peer-bench.XXXXXX")
trap 'rm -rf "$workdir"' EXIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Peers: installed once into PEERS_DIR, reused afterwards
# ---------------------------------------------------------------------------------------------
mkdir -p "$PEERS_DIR"
declare -A PEER_BIN PEER_VERSION PEER_STATUS

# A failed install leaves PEERS_DIR/NAME.unavailable (the reason); it is honoured for a week.
remembered_unavailable() {
  local marker=$PEERS_DIR/$1.unavailable
  [[ $RETRY_PEERS != 1 && -f $marker && -n $(find "$marker" -mtime -7 2>/dev/null) ]]
}

# go install MODULE_PATH@VERSION into DIR.  Args: NAME PACKAGE VERSION DIR
# GO_INSTALL_ENV (an array of VAR=value, may be empty) and GO_INSTALL_TIMEOUT_S shape the build.
GO_INSTALL_ENV=()
GO_INSTALL_TIMEOUT_S=600
go_install() {
  local name=$1 pkg=$2 version=$3 dir=$4
  command -v go >/dev/null || { echo "the go command is not installed" >"$PEERS_DIR/$name.unavailable"; return 1; }
  mkdir -p "$dir"
  log "installing $name: go install $pkg@$version"
  if ! env GOBIN="$dir" GOFLAGS=-mod=mod "${GO_INSTALL_ENV[@]}" timeout "$GO_INSTALL_TIMEOUT_S" \
      go install "$pkg@$version" >"$workdir/go-install.log" 2>&1; then
    # First line: what was tried, when, and the go command's last error line; then its output.
    { echo "\`go install $pkg@$version\` failed on $(date -u +%Y-%m-%d): $(grep -v '^go: downloading' \
        "$workdir/go-install.log" | tail -1 | sed -E 's#https?://[^ ]*#(proxy URL)#g' | tr -s ' \t' ' ' | cut -c1-240)"; cat "$workdir/go-install.log"; } \
      >"$PEERS_DIR/$name.unavailable"
    rm -rf "$dir"
    return 1
  fi
  rm -f "$PEERS_DIR/$name.unavailable"
}

# The module version a Go binary was built from (go version -m), or the requested one.
go_module_version() {
  local v
  v=$(go version -m "$1" 2>/dev/null | awk '$1 == "mod" {print $3; exit}')
  echo "${v:-$2}"
}

# Args: NAME PACKAGE VERSION BINARY_NAME
setup_go_peer() {
  local name=$1 pkg=$2 version=$3 bin=$4
  if [[ " ${SKIP_PEERS:-} " == *" $name "* ]]; then
    PEER_STATUS[$name]="skipped in this run (SKIP_PEERS)"
    return 0
  fi
  local dir=$PEERS_DIR/$name-$version
  if [[ ! -x $dir/$bin ]]; then
    if remembered_unavailable "$name"; then
      PEER_STATUS[$name]="not available: $(head -1 "$PEERS_DIR/$name.unavailable") (remembered; RETRY_PEERS=1 asks again)"
      return 0
    fi
    if ! go_install "$name" "$pkg" "$version" "$dir"; then
      PEER_STATUS[$name]="not available: $(head -1 "$PEERS_DIR/$name.unavailable")"
      log "$name: ${PEER_STATUS[$name]}"
      return 0
    fi
  fi
  PEER_BIN[$name]=$dir/$bin
  PEER_VERSION[$name]=$(go_module_version "$dir/$bin" "$version")
  PEER_STATUS[$name]=ok
}

setup_checkov() {
  local dir=$PEERS_DIR/checkov-$CHECKOV_VERSION
  if [[ ! -x $dir/bin/checkov ]]; then
    if remembered_unavailable checkov; then
      PEER_STATUS[checkov]="not available: $(head -1 "$PEERS_DIR/checkov.unavailable") (remembered; RETRY_PEERS=1 asks again)"
      return 0
    fi
    log "installing checkov $CHECKOV_VERSION into a venv (PyPI)"
    rm -rf "$dir"
    if ! { python3 -m venv "$dir" && "$dir/bin/pip" install -q "checkov==$CHECKOV_VERSION"; } >"$workdir/pip.log" 2>&1; then
      { echo "\`pip install checkov==$CHECKOV_VERSION\` failed on $(date -u +%Y-%m-%d): $(tail -1 "$workdir/pip.log" | sed -E 's#https?://[^ ]*#(index URL)#g' | cut -c1-240)"
      cat "$workdir/pip.log"; } \
        >"$PEERS_DIR/checkov.unavailable"
      rm -rf "$dir"
      PEER_STATUS[checkov]="not available: $(head -1 "$PEERS_DIR/checkov.unavailable")"
      return 0
    fi
    rm -f "$PEERS_DIR/checkov.unavailable"
  fi
  PEER_BIN[checkov]=$dir/bin/checkov
  PEER_VERSION[checkov]=$(CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$dir/bin/checkov" --version 2>/dev/null | tail -1)
  [[ ${PEER_VERSION[checkov]} == "$CHECKOV_VERSION" ]] ||
    die "checkov in $dir reports version '${PEER_VERSION[checkov]}', expected $CHECKOV_VERSION (delete $dir to reinstall)"
  PEER_STATUS[checkov]=ok
}

setup_go_peer kube-score github.com/zegl/kube-score/cmd/kube-score "$KUBE_SCORE_VERSION" kube-score
setup_checkov
setup_go_peer kube-linter golang.stackrox.io/kube-linter/cmd/kube-linter "$KUBE_LINTER_VERSION" kube-linter
setup_go_peer polaris github.com/fairwindsops/polaris "$POLARIS_VERSION" polaris
# Trivy needs encoding/json/v2 (GOEXPERIMENT=jsonv2); its build is the heaviest by far.
GO_INSTALL_ENV=(GOEXPERIMENT=jsonv2 GOFLAGS="-mod=mod -p=1" nice -n 19)
GO_INSTALL_TIMEOUT_S=$TRIVY_BUILD_TIMEOUT_S
setup_go_peer trivy github.com/aquasecurity/trivy/cmd/trivy "$TRIVY_VERSION" trivy
GO_INSTALL_ENV=()
GO_INSTALL_TIMEOUT_S=600
PEERS_ALL=(kube-score checkov kube-linter polaris trivy)
PEERS=()
for p in "${PEERS_ALL[@]}"; do [[ ${PEER_STATUS[$p]} == ok ]] && PEERS+=("$p"); done
log "peers available: ${PEERS[*]:-none}"

# ---------------------------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------------------------
GEN=$BENCH_DIR/gen_snapshot.py
GEN_HASH=$(sha256sum "$GEN" | cut -d' ' -f1)
SNAP_YAML=$CACHE/snapshot.yaml
# Same cache as run_scan_bench.sh: (re)generated when missing or when the generator changed.  Only
# the YAML file is needed here; the JSON and split files are left to run_scan_bench.sh.
if [[ ! -f $SNAP_YAML || ! -f $CACHE/generator.sha256 || $(cat "$CACHE/generator.sha256") != "$GEN_HASH" ]]; then
  log "generating snapshot into $CACHE"
  mkdir -p "$CACHE"
  rm -f "$CACHE/generator.sha256"
  python3 "$GEN" "$CACHE" >&2
  # generator.sha256 is left unwritten: run_scan_bench.sh also needs the files it derives
  # (kinds, split) and regenerates everything when the hash is missing.
fi

# The first SLICE_OBJECTS documents of the snapshot (every document starts with a `---` line;
# block scalars are indented, so no other line is exactly `---`).
SLICE=$workdir/snapshot-head-$SLICE_OBJECTS.yaml
awk -v n="$SLICE_OBJECTS" '/^---$/ {docs++} docs > n {exit} {print}' "$SNAP_YAML" >"$SLICE"
slice_docs=$(grep -c '^---$' "$SLICE" || true)
((slice_docs == SLICE_OBJECTS)) || die "slice holds $slice_docs documents, expected $SLICE_OBJECTS"

mapfile -t RW_FILES < <(find "$REAL_WORLD" -type f -name '*.yaml' | LC_ALL=C sort)
((${#RW_FILES[@]} > 0)) || die "no .yaml files under $REAL_WORLD"
# checkov -f and Polaris read the files from a directory of their own holding exactly this set.
RW_DIR=$workdir/real-world
mkdir -p "$RW_DIR"
for f in "${RW_FILES[@]}"; do
  rel=${f#"$REAL_WORLD"/}
  mkdir -p "$RW_DIR/$(dirname "$rel")"
  ln -s "$f" "$RW_DIR/$rel"
done
# Trivy scans one directory and does not follow links to files: a copy of exactly this set, and
# the slice in a directory of its own.
RW_COPY=$workdir/real-world-copy
for f in "${RW_FILES[@]}"; do
  rel=${f#"$REAL_WORLD"/}
  mkdir -p "$RW_COPY/$(dirname "$rel")"
  cp "$f" "$RW_COPY/$rel"
done
SLICE_DIR=$workdir/slice-dir
mkdir -p "$SLICE_DIR"
ln "$SLICE" "$SLICE_DIR/" 2>/dev/null || cp "$SLICE" "$SLICE_DIR/"
FULL_DIR=$workdir/full-dir
mkdir -p "$FULL_DIR"
ln "$SNAP_YAML" "$FULL_DIR/" 2>/dev/null || cp "$SNAP_YAML" "$FULL_DIR/"

# ---------------------------------------------------------------------------------------------
# Running and checking each tool
# ---------------------------------------------------------------------------------------------
# Sets CMD (the command line), CMD_OUT (where its stdout goes) and CMD_MAX_OK (the highest exit
# status that still means "ran and reported": 1 = findings for all of them; kguard also uses 2 for
# input errors, which its report check looks at).  Args: TOOL REPORT FILES...
command_for() {
  local tool=$1 report=$2; shift 2
  CMD_OUT=$report
  CMD_MAX_OK=1
  case $tool in
    kguard|kguard-all)
      local jobs=1
      [[ $tool == kguard-all ]] && jobs=$(nproc)
      CMD=("$KGUARD" scan --no-config --jobs "$jobs" -o "json=$report" "$@")
      CMD_OUT=/dev/null
      CMD_MAX_OK=2 ;;
    kube-score)
      CMD=("${PEER_BIN[kube-score]}" score --color never -o json "$@") ;;
    checkov)
      # --skip-download and no API key: the open-source checks only, no platform round trips;
      # CKV_SKIP_PACKAGE_UPDATE_CHECK: no PyPI version check at every start.  --quiet leaves the
      # passed checks out of the report (they are still evaluated, and counted in its summary).
      CMD=(env CKV_SKIP_PACKAGE_UPDATE_CHECK=true "${PEER_BIN[checkov]}" -f "$@" --framework kubernetes
           --skip-download -o json --quiet) ;;
    kube-linter)
      CMD=("${PEER_BIN[kube-linter]}" lint --format json "$@") ;;
    polaris)
      # Polaris audits one path: the real-world corpus is given as a directory of links holding
      # exactly its files.
      local path=$1
      (($# > 1)) && path=$RW_DIR
      CMD=("${PEER_BIN[polaris]}" audit --audit-path "$path" --format json) ;;
    trivy)
      # Offline: the checks bundle embedded in the binary (--skip-check-update), no version check
      # or telemetry, a fresh cache; only the Kubernetes misconfiguration scanner.
      local path=$RW_COPY
      (($# == 1)) && path=$SLICE_DIR
      [[ $1 == "$SNAP_YAML" ]] && path=$FULL_DIR
      CMD=("${PEER_BIN[trivy]}" config --format json --quiet --skip-check-update --skip-version-check
           --disable-telemetry --misconfig-scanners kubernetes --cache-dir "$workdir/trivy-cache" "$path") ;;
    *) die "unknown tool $tool" ;;
  esac
}

# Runs a tool once.  Args: TOOL REPORT FILES...  Returns nonzero if it did not run properly.
# PREFIX (an array, may be empty) goes in front of the command: GNU time, timeout.
run_tool() {
  local tool=$1 rc=0
  command_for "$@"
  "${PREFIX[@]}" "${CMD[@]}" >"$CMD_OUT" 2>"$workdir/stderr" || rc=$?
  if ((rc > CMD_MAX_OK)); then
    head -c 2000 "$workdir/stderr" >&2
    echo "$tool exited with status $rc" >&2
    return 1
  fi
}

# Checks a tool's report.  Args: TOOL REPORT KGUARD_REPORT EXPECTED_MODE EXPECTED_OBJECTS
# For kguard, the object count; for the peers, the count they report against kguard's per-kind
# counts of the same files (kguard's report is checked first).  Prints a short summary.
check_report() {
  python3 - "$@" "$KUBE_SCORE_KINDS" <<'EOF'
import json, sys
tool, report, kguard_report, mode, expected, ks_kinds = sys.argv[1:7]
expected = int(expected)
def load(path):
    try:
        return json.load(open(path))
    except Exception as e:
        sys.exit(f"check {tool}: cannot read JSON report {path}: {e}")
r = load(report)
if tool in ("kguard", "kguard-all"):
    try:
        total = sum(int(x["count"]) for x in r["overview"]["resources"])
    except Exception as e:
        sys.exit(f"check kguard: report has no usable overview.resources: {e!r}")
    if (mode == "exact" and total != expected) or (mode == "min" and total < expected):
        sys.exit(f"check kguard: {total} objects, expected {'' if mode == 'exact' else 'at least '}{expected}")
    print(f"{total} objects, {len(r.get('checks', []))} rules evaluated, {len(r.get('findings', []))} findings, "
          f"{len(r.get('errors', []))} input errors")
    sys.exit(0)
kinds = {x["kind"]: int(x["count"]) for x in load(kguard_report)["overview"]["resources"]}
objects = sum(kinds.values())
if tool == "kube-score":
    scored = set(ks_kinds.split(","))
    want = sum(n for k, n in kinds.items() if k in scored)
    if r is None:  # nothing of a kind it scores
        r = []
    if not isinstance(r, list):
        sys.exit("check kube-score: the JSON report is not a list of scored objects")
    got = len(r)
    checks = sum(len(o.get("checks") or []) for o in r)
    # kube-score reports objects with the same kind, apiVersion, namespace and name once.  The
    # snapshot's names are unique, so there every object must be there; the real-world corpus
    # holds variants of the same install (argo-cd, ingress-nginx three times each): 174 objects
    # of the kinds it scores, 110 distinct ones (counted with PyYAML when this was written).
    if mode == "exact":
        ok, how = got == want, f"all {want} of the kinds it scores"
    else:
        ok, how = want // 2 <= got <= want, (f"kguard counts {want} of those kinds; kube-score lists objects "
                                           f"with the same kind/apiVersion/namespace/name once")
    if not ok or (want > 0 and checks == 0):
        sys.exit(f"check kube-score: {got} scored objects, {checks} check results; kguard counts {want} "
                 f"objects of the kinds kube-score scores ({ks_kinds})")
    print(f"{got} scored objects ({how}), {checks} check results")
elif tool == "checkov":
    reports = r if isinstance(r, list) else [r]
    k8s = [x for x in reports if x.get("check_type") == "kubernetes"]
    if len(k8s) == 1:
        s = k8s[0]["summary"]
    elif isinstance(r, dict) and "resource_count" in r:  # its output when no check applied
        s = r
    else:
        sys.exit(f"check checkov: no kubernetes report in its output (keys: {list(r) if isinstance(r, dict) else '-'})")
    evaluated = s["passed"] + s["failed"]
    # Its resource count is the vertices of its graph: every object, plus entries it spreads
    # out of some objects, so it is at least kguard's object count.
    if s["parsing_errors"] != 0 or s["resource_count"] < objects or evaluated == 0:
        sys.exit(f"check checkov: summary {s}; kguard counts {objects} objects")
    print(f"{s['resource_count']} resources, {evaluated} check results ({s['failed']} failed), no parsing errors")
elif tool == "kube-linter":
    if not isinstance(r, dict) or "Reports" not in r or "Summary" not in r:
        sys.exit("check kube-linter: no Reports/Summary in its JSON output")
    print(f"{len(r['Reports'] or [])} reports, status {r['Summary'].get('ChecksStatus')}")
elif tool == "trivy":
    res = r.get("Results") if isinstance(r, dict) else None
    if res is None:
        sys.exit("check trivy: no Results in its JSON output")
    k8s = [x for x in res if x.get("Type") == "kubernetes"]
    ok = sum((x.get("MisconfSummary") or {}).get("Successes", 0) for x in k8s)
    failed = sum((x.get("MisconfSummary") or {}).get("Failures", 0) for x in k8s)
    if not k8s or ok + failed == 0:
        sys.exit(f"check trivy: no Kubernetes results (kguard counts {objects} objects)")
    print(f"{len(k8s)} files scanned as Kubernetes, {ok + failed} check results ({failed} failed)")
elif tool == "polaris":
    res = r.get("Results") if isinstance(r, dict) else None
    if res is None:
        sys.exit("check polaris: no Results in its JSON output")
    if not res:
        sys.exit(f"check polaris: no audited objects (kguard counts {objects} objects)")
    print(f"{len(res)} audited objects")
else:
    sys.exit(f"check: unknown tool {tool}")
EOF
}

# Runs TOOL once (untimed, within LIMIT_S seconds) and checks its report.
# Args: TOOL CORPUS_KEY MODE EXPECTED LIMIT_S FILES...
# Sets CHECK_S (wall seconds of that run) and CHECK_SUMMARY; returns nonzero if the check failed.
check_tool() {
  local tool=$1 key=$2 mode=$3 expect=$4 limit=$5; shift 5
  local report=$workdir/$key.$tool.json t0 t1
  rm -f "$report"
  PREFIX=(timeout "$limit")
  t0=$(date +%s%N)
  run_tool "$tool" "$report" "$@" || return 1
  t1=$(date +%s%N)
  CHECK_S=$(python3 -c "print(($t1 - $t0) / 1e9)")
  CHECK_SUMMARY=$(check_report "$tool" "$report" "$workdir/$key.kguard.json" "$mode" "$expect") || return 1
}

# One timed run, report to /dev/null.  Args: TOOL FILES...  Prints "WALL_S CPU_S MAX_RSS_KIB".
time_once() {
  local tool=$1 t0 t1; shift
  PREFIX=("$TIME_BIN" -v -o "$workdir/time.txt")
  t0=$(date +%s%N)
  run_tool "$tool" /dev/null "$@" || return 1
  t1=$(date +%s%N)
  python3 - "$t0" "$t1" "$workdir/time.txt" <<'PY'
import re, sys
t0, t1, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
text = open(path).read()
get = lambda key: float(re.search(key + r": *([0-9.]+)", text).group(1))
print((t1 - t0) / 1e9, get(r"User time \(seconds\)") + get(r"System time \(seconds\)"),
      int(get(r"Maximum resident set size \(kbytes\)")))
PY
}

median() { python3 -c 'import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
fmt() { python3 -c "import sys; print(format(float(sys.argv[1]), sys.argv[2]))" "$1" "$2"; }

# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
CORPORA=(real-world slice full)
declare -A LABEL TOOLS WALL CPU RSS RUNS CHECKS
NOTES=()
# A generous bound on each check run, so that a hung tool cannot stall the benchmark.
CHECK_LIMIT_S=3600
for key in "${CORPORA[@]}"; do
  case $key in
    real-world) files=("${RW_FILES[@]}"); mode=min; expect=$REAL_WORLD_MIN_OBJECTS
                LABEL[$key]="real-world (${#RW_FILES[@]} files, $(cat "${RW_FILES[@]}" | wc -c) bytes)"
                tools=(kguard kguard-all "${PEERS[@]}") ;;
    slice)      files=("$SLICE"); mode=exact; expect=$SLICE_OBJECTS
                LABEL[$key]="snapshot, first $SLICE_OBJECTS objects (1 file, $(wc -c <"$SLICE") bytes)"
                tools=(kguard kguard-all "${PEERS[@]}") ;;
    full)       files=("$SNAP_YAML"); mode=exact; expect=$SNAPSHOT_OBJECTS
                LABEL[$key]="snapshot, all $SNAPSHOT_OBJECTS objects (1 file, $(wc -c <"$SNAP_YAML") bytes)"
                tools=(kguard kguard-all)
                # checkov would take far too long (see below).
                for p in kube-score trivy; do
                  if [[ ${PEER_STATUS[$p]} == ok ]]; then tools+=("$p"); fi
                done ;;
  esac

  # Checks, kguard first (the peers' checks compare with its per-kind counts).
  timed=()
  for tool in "${tools[@]}"; do
    limit=$CHECK_LIMIT_S
    # On the whole snapshot, kube-score is timed only if it is reasonably quick.
    [[ $key == full ]] && limit=$FULL_SNAPSHOT_LIMIT_S
    log "$key: checking $tool's report"
    if ! check_tool "$tool" "$key" "$mode" "$expect" "$limit" "${files[@]}"; then
      [[ $tool == kguard* ]] && die "$key: kguard's report failed the check"
      echo "run_peer_bench: $key: $tool failed, took over $limit s, or its report failed the check; not timed" >&2
      NOTES+=("$tool on ${LABEL[$key]}: failed, took over $limit s, or its report failed the check (see the script's stderr); not timed.")
      continue
    fi
    CHECKS[$key.$tool]=$CHECK_SUMMARY
    log "$key: $tool: $CHECK_SUMMARY ($(fmt "$CHECK_S" .2f) s)"
    reps=$REPS
    if [[ $tool == checkov ]] && python3 -c "import sys; sys.exit(0 if $CHECK_S > $CHECKOV_ONE_RUN_S else 1)"; then
      reps=1
      NOTES+=("checkov on ${LABEL[$key]}: its check run took $(fmt "$CHECK_S" .0f) s (> ${CHECKOV_ONE_RUN_S} s), so it was timed once.")
    fi
    RUNS[$key.$tool]=$reps
    timed+=("$tool")
  done
  TOOLS[$key]="${timed[*]}"

  # Timed rounds: every tool once per round, kguard first, so that all see the same load.
  maxreps=0
  for tool in "${timed[@]}"; do
    if ((RUNS[$key.$tool] > maxreps)); then maxreps=${RUNS[$key.$tool]}; fi
  done
  declare -A w_list=() c_list=() r_max=()
  for ((i = 0; i < maxreps; i++)); do
    for tool in "${timed[@]}"; do
      ((i < RUNS[$key.$tool])) || continue
      log "$key: round $((i + 1))/$maxreps: $tool"
      out=$(time_once "$tool" "${files[@]}") || die "$key: timing $tool failed"
      read -r w c r <<<"$out"
      w_list[$tool]+=" $w"
      c_list[$tool]+=" $c"
      if ((r > ${r_max[$tool]:-0})); then r_max[$tool]=$r; fi
    done
  done
  for tool in "${timed[@]}"; do
    # shellcheck disable=SC2086
    WALL[$key.$tool]=$(median ${w_list[$tool]})
    # shellcheck disable=SC2086
    CPU[$key.$tool]=$(median ${c_list[$tool]})
    RSS[$key.$tool]=${r_max[$tool]}
  done
  unset w_list c_list r_max
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------
NPROC=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
[[ -n $CPU_MODEL ]] || CPU_MODEL=$(uname -m)
KGUARD_VERSION=$("$KGUARD" --version 2>/dev/null | head -1 || true)
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -1) ]]; then GIT_REV="$GIT_REV (dirty)"; fi
# How many checks each peer has, for the rule-count context in the report.
PEER_CHECKS_KUBE_SCORE=""
if [[ ${PEER_STATUS[kube-score]} == ok ]]; then
  PEER_CHECKS_KUBE_SCORE=$("${PEER_BIN[kube-score]}" list 2>/dev/null |
    awk -F, '$NF == "default" {d++} $NF == "optional" {o++} END {printf "%d default checks (%d optional ones off)", d, o}' || true)
fi
PEER_CHECKS_CHECKOV=""
if [[ ${PEER_STATUS[checkov]} == ok ]]; then
  PEER_CHECKS_CHECKOV=$(CKV_SKIP_PACKAGE_UPDATE_CHECK=true "${PEER_BIN[checkov]}" --list --framework kubernetes \
    --skip-download 2>/dev/null | awk -F'|' '$3 ~ /CKV/ {gsub(/ /, "", $3); ids[$3] = 1}
      END {n = 0; for (i in ids) n++; printf "%d Kubernetes check ids in `checkov --list`", n}' || true)
fi
RULES=$("$KGUARD" rules list -o json 2>/dev/null | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' || true)

{
  echo "# Peer benchmark: kguard scan against other manifest scanners"
  echo
  echo "- Date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- Machine: \`nproc\` = $NPROC, CPU: $CPU_MODEL"
  echo "- Load average (1/5/15 min) at start: $LOAD_START; at end: $LOAD_END"
  echo "- kguard: ${KGUARD_VERSION:-unknown}, tree: $GIT_REV — \`kguard scan --no-config --jobs 1 -o json=FILE FILES...\`;" \
       "kguard-all: the same with \`--jobs $(nproc)\` (its default: every core; a large file is cut into pieces for the workers)"
  for p in "${PEERS_ALL[@]}"; do
    case $p in
      kube-score)  how="Go module proxy, \`github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION\`; run as \`kube-score score --color never -o json FILES...\`" ;;
      checkov)     how="PyPI, \`checkov==$CHECKOV_VERSION\` in a venv; run as \`checkov -f FILES... --framework kubernetes --skip-download -o json --quiet\` with \`CKV_SKIP_PACKAGE_UPDATE_CHECK=true\`, no API key" ;;
      kube-linter) how="Go module proxy, \`golang.stackrox.io/kube-linter/cmd/kube-linter@$KUBE_LINTER_VERSION\`; run as \`kube-linter lint --format json FILES...\`" ;;
      polaris)     how="Go module proxy, \`github.com/fairwindsops/polaris@$POLARIS_VERSION\`; run as \`polaris audit --audit-path PATH --format json\`" ;;
      trivy)       how="Go module proxy, \`github.com/aquasecurity/trivy/cmd/trivy@$TRIVY_VERSION\` built with GOEXPERIMENT=jsonv2; run offline as \`trivy config --format json --quiet --skip-check-update --skip-version-check --disable-telemetry --misconfig-scanners kubernetes --cache-dir FRESH DIR\` (the checks bundle embedded in the binary; DIR holds exactly the corpus' files)" ;;
    esac
    if [[ ${PEER_STATUS[$p]} == ok ]]; then
      echo "- $p ${PEER_VERSION[$p]}: $how"
    else
      echo "- $p: tried, ${PEER_STATUS[$p]} — not benchmarked ($how)"
    fi
  done
  echo "- Corpora: real-world = the ${#RW_FILES[@]} \`.yaml\` files under \`$(shown_path "$REAL_WORLD")\`, passed as the same file list to every tool;" \
       "slice = the first $SLICE_OBJECTS documents of the synthetic snapshot (\`bench/gen_snapshot.py\`, cached in \`$(shown_path "$CACHE")\`) as one file;" \
       "full = the whole $SNAPSHOT_OBJECTS-object snapshot, without checkov (it would take far too long)." \
       "Trivy scans a directory (and does not follow links to files): it gets a directory holding exactly the same files."
  echo "- Method: every tool first runs once on every corpus and its report is checked (kguard: object count;" \
       "kube-score: one scored object per distinct object (kind/apiVersion/namespace/name) of the kinds it scores; checkov: resource count ≥ kguard's object count," \
       "checks evaluated, no parsing errors). Then $REPS timed rounds per corpus, each running every tool once, kguard first," \
       "so that all see the same load; reports go to /dev/null. Wall = median wall time end to end (process start," \
       "file reads, report); CPU = median user + system time of the whole process tree (GNU time);" \
       "peak RSS = maximum over the runs (GNU time). Speed-up = the tool's wall time / kguard's wall time in the same rounds."
  echo "- What each runs: kguard every rule that is on by default (no config file; the catalog has ${RULES:-?} rules" \
       "in \`kguard rules list\`, a few of them opt-in), single-threaded; \"rules evaluated\" = rules that applied to at least one object;" \
       "kube-score its ${PEER_CHECKS_KUBE_SCORE:-default checks}, only on the kinds it scores ($KUBE_SCORE_KINDS), after parsing everything;" \
       "checkov its built-in Kubernetes resource and graph checks (${PEER_CHECKS_CHECKOV:-count unknown}) on every object." \
       "A peer could use more than one thread or process (Go's garbage collector, Python workers), so CPU time is shown next to wall time."
  echo
  echo "| Corpus | Tool | Runs | Wall s | CPU s | Peak RSS MiB | kguard speed-up (wall) | Report check |"
  echo "|---|---|---:|---:|---:|---:|---:|---|"
  TARGET_LINES=()
  for key in "${CORPORA[@]}"; do
    kg=${WALL[$key.kguard]:-}
    fastest="" fastest_w=""
    for tool in ${TOOLS[$key]}; do
      w=${WALL[$key.$tool]}
      speed=-
      if [[ $tool != kguard* ]]; then
        speed="**$(fmt "$(python3 -c "print($w / $kg)")" .1f)×**"
        if [[ -z $fastest ]] || python3 -c "import sys; sys.exit(0 if $w < $fastest_w else 1)"; then
          fastest=$tool fastest_w=$w
        fi
      fi
      echo "| ${LABEL[$key]} | $tool | ${RUNS[$key.$tool]} | $(fmt "$w" .3f) | $(fmt "${CPU[$key.$tool]}" .2f) |" \
           "$(fmt "$(python3 -c "print(${RSS[$key.$tool]} / 1024)")" .1f) | $speed | ${CHECKS[$key.$tool]} |"
    done
    if [[ -n $fastest ]]; then
      ratio=$(python3 -c "print($fastest_w / $kg)")
      mark=$(python3 -c "print('met' if $ratio >= 20 else 'NOT met')")
      all=""
      if [[ -n ${WALL[$key.kguard-all]:-} ]]; then
        ratio_all=$(python3 -c "print($fastest_w / ${WALL[$key.kguard-all]})")
        all="; with every core (kguard-all, $(fmt "${WALL[$key.kguard-all]}" .3f) s) **$(fmt "$ratio_all" .1f)×** — $(python3 -c "print('met' if $ratio_all >= 20 else 'NOT met')")"
      fi
      TARGET_LINES+=("- ${LABEL[$key]}: fastest peer $fastest ($(fmt "$fastest_w" .3f) s) vs kguard --jobs 1 ($(fmt "$kg" .3f) s) = **$(fmt "$ratio" .1f)×** — ≥ 20× target $mark$all.")
    fi
  done
  if [[ -n ${WALL[slice.checkov]:-} ]]; then
    echo
    echo "checkov is left out of the whole snapshot: at its pace on the slice ($(fmt "${WALL[slice.checkov]}" .0f) s for" \
         "$SLICE_OBJECTS objects) one run would take about $(fmt "$(python3 -c "print(${WALL[slice.checkov]} * $SNAPSHOT_OBJECTS / $SLICE_OBJECTS / 60)")" .0f) minutes."
  fi
  echo
  echo "Target (shared/design/PERFORMANCE.md): kguard ≥ 20× faster than the fastest peer on the same files."
  printf '%s\n' "${TARGET_LINES[@]}"
  if ((${#NOTES[@]})); then
    echo
    echo "Notes:"
    printf -- '- %s\n' "${NOTES[@]}"
  fi
} >"$workdir/peers.md"

cat "$workdir/peers.md"
mkdir -p "$(dirname "$RESULTS")"
cp "$workdir/peers.md" "$RESULTS"
log "wrote $RESULTS"
