#!/usr/bin/env bash
# kguard image against the decompression floor on the real Debian image of the tests
# (tests/images/build_images.sh, cached): per source, the best of RUNS wall times and the peak RSS
# of `kguard image`, next to the floor — each layer blob decompressed and its tar listed
# (`zcat|zstdcat BLOB | tar -t`), what any reader has to do — measured in the same run.
#
# Usage: bench/run_image_bench.sh [KGUARD]     (default build/release/kguard)
# Environment: RUNS=3, RESULTS=FILE (Markdown table; default stdout only)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
KGUARD=${1:-$ROOT/build/release/kguard}
RUNS=${RUNS:-3}
CACHE=$("$ROOT/tests/images/build_images.sh")

best() {  # best wall time (s), its CPU time (user+sys, s) and peak RSS (KiB) of RUNS runs of "$@"
  local t u s m bt=999999 bc=0 bm=0 i tf
  tf=$(mktemp)
  for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || { echo "run_image_bench: $* failed" >&2; exit 1; }
    read -r t u s m < "$tf"
    if awk -v a="$t" -v b="$bt" 'BEGIN{exit !(a<b)}'; then
      bt=$t; bm=$m; bc=$(awk -v u="$u" -v s="$s" 'BEGIN{printf "%.2f", u+s}')
    fi
  done
  rm -f "$tf"
  echo "$bt $bc $bm"
}

floor_cmd() {  # the floor script of an OCI layout (decompress each layer, list its tar)
  local layout=$1 tool=$2
  python3 - "$layout" "$tool" <<'PY'
import json, sys
layout, tool = sys.argv[1], sys.argv[2]
idx = json.load(open(f"{layout}/index.json"))
m = json.load(open(f"{layout}/blobs/sha256/{idx['manifests'][0]['digest'][7:]}"))
for l in m["layers"]:
    print(f"{tool} {layout}/blobs/sha256/{l['digest'][7:]} | tar -t >/dev/null")
PY
}

gz_floor=$(mktemp) && zst_floor=$(mktemp) && trap 'rm -f "$gz_floor" "$zst_floor"' EXIT
floor_cmd "$CACHE/oci" "zcat" > "$gz_floor"
floor_cmd "$CACHE/oci-zstd" "zstdcat" > "$zst_floor"

rows=()
row() {  # name, kguard ref, floor script
  local name=$1 ref=$2 floor=$3
  read -r kt kc km < <(best "$KGUARD" image "$ref")
  read -r ft fc fm < <(best bash "$floor")
  rows+=("| $name | $kt s | $kc s | $((km / 1024)) MiB | $ft s | $fc s | $(awk -v a="$kt" -v b="$ft" 'BEGIN{printf "%.2f", a/b}')× | $(awk -v a="$kc" -v b="$fc" 'BEGIN{printf "%.2f", a/b}')× |")
}
tar_floor=$(mktemp)
echo "cat $CACHE/test-docker.tar | tar -t >/dev/null" > "$tar_floor"  # every byte read, as a digest check must
targz_floor=$(mktemp)
echo "zcat $CACHE/test-docker.tar.gz | tar -t >/dev/null" > "$targz_floor"
trap 'rm -f "$gz_floor" "$zst_floor" "$tar_floor" "$targz_floor"' EXIT
row "OCI layout, gzip layers" "oci:$CACHE/oci:test" "$gz_floor"
row "OCI layout, zstd layers" "oci:$CACHE/oci-zstd:test" "$zst_floor"
row "oci-archive (gzip layers)" "oci-archive:$CACHE/test-oci.tar" "$gz_floor"
row "docker-archive (plain tar layers)" "docker-archive:$CACHE/test-docker.tar" "$tar_floor"
row "docker-archive, gzip-compressed" "docker-archive:$CACHE/test-docker.tar.gz" "$targz_floor"

out="| source | kguard wall | kguard CPU | kguard peak RSS | floor wall | floor CPU | wall ratio | CPU ratio |
|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do out+=$'\n'"$r"; done
echo "$out"
if [[ -n ${RESULTS:-} ]]; then
  {
    echo "# kguard image against the decompression floor"
    echo
    echo "Debian 12 minbase image of the tests (tests/images/build_images.sh: 4 layers, 65 MiB gzip,"
    echo "172 MiB uncompressed, 9,565 tar entries). kguard image reads every layer (digest check,"
    echo "decompression, tar walk, whiteouts, symlink resolution, OS); the floor decompresses each layer"
    echo "and lists its tar (\`zcat|zstdcat BLOB | tar -t\`; the docker archives: \`tar -t\` of the archive,"
    echo "through \`zcat\` when compressed). Best wall time of $RUNS runs and that run's CPU time (user + sys"
    echo "of the whole pipeline), $(nproc) cores shared with other jobs (load $(cut -d' ' -f1 /proc/loadavg) at the end),"
    echo "$(date -u +%Y-%m-%d); \`bench/run_image_bench.sh\`."
    echo
    echo "$out"
    cat <<'TXT'

Reading the table:
- The floor does no digest check. kguard hashes a compressed layer twice (SHA-256 of the blob as
  stored, and of the uncompressed tar for the config's `diff_ids`) and a plain layer once (its
  digest is its diff_id): about 0.1 s of CPU per 172 MB each with OpenSSL's SHA-NI code on the
  test machine (`openssl speed -evp sha256`: 2.0 GB/s). That is most of the gap on the plain
  docker-archive (the floor only reads the bytes) and on zstd layers, whose decompression is cheap.
- A gzip-compressed docker-archive is decompressed twice: once to index the archive (its
  `manifest.json` comes last, so which members are layers is only known at the end) and once more
  to read the layers, in one forward pass. Reading layers during the index pass is the next
  optimisation for this shape.
- On a loaded machine single-threaded kguard gets a smaller share of the cores than the
  two-process floor pipeline (wall well above CPU), so the CPU ratio is the figure to read. Peak
  RSS stays at 15–23 MiB whatever the source: one chunk per stream, the small JSON blobs and the
  path index (9,546 paths).
TXT
  } > "$RESULTS"
fi
