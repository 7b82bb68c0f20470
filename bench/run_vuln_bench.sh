#!/usr/bin/env bash
# The vulnerability benchmark against a peer (issue 15 item 8; bench/results/vulns.md):
# one generated dataset of >= 500,000 records in formats both kguard and Trivy read
# (bench/gen_vuln_bench_data.py: the vuln-list-debian tracker, GHSA advisories as OSV, Alpine
# secdb and its vuln-list split), naming the real packages of three images with known answers.
# Measured, best of RUNS (default 3) under /usr/bin/time: the database build (kguard db build vs
# trivy-db build), each image scanned end to end (kguard image vs trivy image), matching alone
# (an SBOM of the large image; and the match bench's 1,000 packages), and peak RSS against the
# database's size. bench/vuln_bench_report.py then compares the findings with the expected
# answers and with each other and writes the results file.
#
# Usage: bench/run_vuln_bench.sh [BUILD_DIR] [OUT_MD]
#   (default build/release, bench/results/vulns.md; RUNS=N (3), DB_RUNS=N (RUNS), RECORDS=N)
# Peers come from the Go module proxy through bench/image_peers.py (installed once, cached).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${1:-$ROOT/build/release}
OUT_MD=${2:-$ROOT/bench/results/vulns.md}
RUNS=${RUNS:-3}
DB_RUNS=${DB_RUNS:-$RUNS}   # the builds take minutes each on a loaded machine
RECORDS=${RECORDS:-500000}
CORPORA=${KGUARD_CORPORA_DIR:-/work/shared/corpora}
CACHE=${KGUARD_BENCH_CACHE:-$HOME/.cache/kguard-bench}/vulns
KGUARD=$BUILD/kguard
[ -x "$KGUARD" ] || { echo "run_vuln_bench: $KGUARD missing (ninja -C $BUILD kguard)" >&2; exit 1; }
mkdir -p "$CACHE"
# The last run's databases, outputs and timings stay in $CACHE/run (vuln_bench_report.py can be rerun on it).
WORK=$CACHE/run
rm -rf "$WORK" && mkdir -p "$WORK"
RES=$WORK/results.tsv   # step, tool, run, wall s, user s, sys s, peak KiB
: > "$RES"

TRIVY=$(python3 "$HERE/image_peers.py" path trivy)
TRIVY_DB=$(python3 "$HERE/image_peers.py" path trivy-db)
TRIVY_DB_VERSION=$(go version -m "$TRIVY_DB" 2>/dev/null | awk '$1=="mod"{print $3; exit}')
GRYPE_STATUS=$(python3 "$HERE/image_peers.py" status grype)
# Grype needs a database built by grype-db; ask the proxy for it once (remembered a week).
GRYPE_DB_NOTE=$CACHE/grype-db.unavailable
if [ ! -f "$GRYPE_DB_NOTE" ] || [ "${RETRY_PEERS:-0}" = 1 ]; then
  if GOBIN=$WORK/gobin GOFLAGS=-mod=mod timeout 600 go install github.com/anchore/grype-db/cmd/grype-db@latest \
      > "$WORK/grype-db.log" 2>&1; then
    echo "installable (not used: see the results file)" > "$GRYPE_DB_NOTE"
  else
    grep -v '^go: downloading' "$WORK/grype-db.log" | sed -E 's#https?://[^ ]*#(proxy URL)#g' | tr '\n' ' ' \
      | cut -c1-400 > "$GRYPE_DB_NOTE"
  fi
fi

# ---- images: one docker archive each, read by both tools ----
LARGE=$("$HERE/build_large_image.sh")
APPS=$("$ROOT/tests/images/build_app_images.sh" "$CORPORA")
ALPINE_SRC=$CORPORA/supply-chain/alpine/aquasecurity/trivy/pkg/fanal/test/testdata/alpine-310.tar.gz
[ -f "$CACHE/large.tar" ] || skopeo copy --quiet "oci:$LARGE/oci:large" "docker-archive:$CACHE/large.tar:kguard/large:1"
[ -f "$CACHE/app.tar" ] || skopeo copy --quiet "oci:$APPS/oci:app" "docker-archive:$CACHE/app.tar:kguard/app:1"
cp -f "$ALPINE_SRC" "$CACHE/alpine-310.tar.gz"
IMAGES="large:$CACHE/large.tar app:$CACHE/app.tar alpine:$CACHE/alpine-310.tar.gz"
for spec in $IMAGES; do
  name=${spec%%:*}; archive=${spec#*:}
  [ -s "$CACHE/$name.inv.json" ] || "$KGUARD" image --no-lint -o "json=$CACHE/$name.inv.json" "docker-archive:$archive" >/dev/null
done

# ---- the dataset (cached: deterministic for the same inventories and RECORDS) ----
DATA=$CACHE/data
STAMP="records=$RECORDS $(cat "$CACHE"/*.inv.json "$HERE/gen_vuln_bench_data.py" | sha256sum | cut -c1-16)"
if [ "$(cat "$DATA/.stamp" 2>/dev/null)" != "$STAMP" ]; then
  echo "== generating $RECORDS records" >&2
  rm -rf "$DATA" "$DATA.tmp"
  python3 "$HERE/gen_vuln_bench_data.py" "$DATA.tmp" --records "$RECORDS" \
    --image "large=$CACHE/large.inv.json" --image "app=$CACHE/app.inv.json" --image "alpine=$CACHE/alpine.inv.json" >&2
  echo "$STAMP" > "$DATA.tmp/.stamp"
  mv "$DATA.tmp" "$DATA"
fi

# timed STEP TOOL RUN CMD...: one run under /usr/bin/time, a line in $RES; stdout/stderr to files.
timed() {
  local step=$1 tool=$2 run=$3; shift 3
  local t=$WORK/time.$$
  if ! /usr/bin/time -o "$t" -f '%e\t%U\t%S\t%M' "$@" > "$WORK/$step.$tool.out" 2> "$WORK/$step.$tool.err"; then
    echo "run_vuln_bench: $step/$tool failed:" >&2; tail -5 "$WORK/$step.$tool.err" >&2; exit 1
  fi
  printf '%s\t%s\t%s\t%s\n' "$step" "$tool" "$run" "$(tail -1 "$t")" >> "$RES"
}

# Offline: no database, Java index or version check downloads. `trivy sbom` takes the same minus
# --skip-check-update and --skip-files.
TRIVY_SBOM_FLAGS=(--skip-db-update --skip-java-db-update --offline-scan --disable-telemetry
                  --cache-backend memory --scanners vuln --list-all-pkgs --format json -q)
TRIVY_FLAGS=("${TRIVY_SBOM_FLAGS[@]}" --skip-check-update --skip-files '**/*.jar')

# ---- database builds ----
for run in $(seq "$DB_RUNS"); do
  echo "== db build, run $run" >&2
  rm -f "$WORK/kguard.db"
  timed db-build kguard "$run" "$KGUARD" db build --db "$WORK/kguard.db" \
    --debian-tracker "$DATA/vuln-list-debian" --alpine-secdb "$DATA/secdb" --osv "$DATA/ghsa"
  rm -rf "$WORK/trivy"
  # trivy-db walks vuln-list/alpine, vuln-list-debian/tracker and ghsa/advisories/github-reviewed
  # under --cache-dir, and writes trivy.db and metadata.json (schema 2) to --output-dir.
  (cd "$WORK" && timed db-build trivy-db "$run" "$TRIVY_DB" build --cache-dir "$DATA" \
    --output-dir "$WORK/trivy/db" --only-update alpine --only-update debian --only-update ghsa)
done
"$KGUARD" db status --db "$WORK/kguard.db" -o json > "$WORK/kguard-db-status.json"
stat -c '%s' "$WORK/kguard.db" > "$WORK/kguard.db.size"
stat -c '%s' "$WORK/trivy/db/trivy.db" > "$WORK/trivy.db.size"

# ---- image scans, end to end (the Trivy layer cache in memory: every run reads the image) ----
for run in $(seq "$RUNS"); do
  for spec in $IMAGES; do
    name=${spec%%:*}; archive=${spec#*:}
    echo "== scan $name, run $run" >&2
    timed "scan-$name" kguard "$run" "$KGUARD" image --db "$WORK/kguard.db" --no-lint \
      -o "json=$WORK/kguard-$name.json" "docker-archive:$archive"
    timed "scan-$name" trivy "$run" "$TRIVY" image --input "$archive" --cache-dir "$WORK/trivy" \
      "${TRIVY_FLAGS[@]}" -o "$WORK/trivy-$name.json"
  done
done

# ---- matching alone: the large image's packages as an SBOM (no layers to read) ----
# Each tool reads its own CycloneDX of the image: each carries the source package names its
# matcher needs in its own properties (Trivy's aquasecurity:trivy:SrcName; kguard's purl upstream=).
"$KGUARD" image --no-lint --no-vulns -o "cyclonedx=$WORK/large.cdx.json" "docker-archive:$CACHE/large.tar" >/dev/null
"$TRIVY" image --input "$CACHE/large.tar" --cache-dir "$WORK/trivy" "${TRIVY_FLAGS[@]/json/cyclonedx}" \
  -o "$WORK/large.trivy.cdx.json"
for run in $(seq "$RUNS"); do
  echo "== sbom match, run $run" >&2
  timed match-sbom kguard "$run" "$KGUARD" image --db "$WORK/kguard.db" --no-lint \
    -o "json=$WORK/kguard-sbom.json" "sbom:$WORK/large.cdx.json"
  timed match-sbom trivy "$run" "$TRIVY" sbom "$WORK/large.trivy.cdx.json" --cache-dir "$WORK/trivy" \
    "${TRIVY_SBOM_FLAGS[@]}" -o "$WORK/trivy-sbom.json"
done
# The match bench: 1,000 packages against its own 500,000-record database (in-process timing).
if [ -x "$BUILD/bench/vuln_match_bench" ]; then
  "$BUILD/bench/vuln_match_bench" --runs 20 > "$WORK/match-bench.txt" 2>&1 || true
fi

uptime > "$WORK/load.txt"
nproc >> "$WORK/load.txt"
python3 "$HERE/vuln_bench_report.py" --work "$WORK" --data "$DATA" --out "$OUT_MD" \
  --kguard-rev "$(git -C "$ROOT" rev-parse --short HEAD)" --trivy "$TRIVY" \
  --trivy-version "$(python3 "$HERE/image_peers.py" status trivy | awk '{print $3}')" --trivy-db-version "${TRIVY_DB_VERSION:-unknown}" \
  --grype "$GRYPE_STATUS" --grype-db "$(cat "$GRYPE_DB_NOTE")" --runs "$RUNS" --db-runs "$DB_RUNS"
echo "$OUT_MD"
