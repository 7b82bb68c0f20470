#!/usr/bin/env bash
# kguard image against the decompression floor on the real Debian image of the tests
# (tests/images/build_images.sh, cached): per source, the best of RUNS wall times and the peak RSS
# of `kguard image`, next to the floor — each layer blob decompressed and its tar listed
# (`zcat|zstdcat BLOB | tar -t`), what any reader has to do — measured in the same run.
#
# Then the large image (bench/build_large_image.sh: Debian standard + desktop + toolchain, thousands
# of dpkg packages, over 1 GB uncompressed): kguard against the floor and against Syft
# (`syft oci-dir:DIR -o json`, offline; installed from the Go module proxy by bench/image_peers.py,
# skipped with a note when unavailable), wall, CPU and peak RSS of each, best of RUNS.
#
# Usage: bench/run_image_bench.sh [KGUARD]     (default build/release/kguard)
# Environment: RUNS=3, RESULTS=FILE (Markdown table; default stdout only), LARGE=0 skips the
#   large image (its first build downloads ~1 GB of packages and takes a while)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
KGUARD=${1:-$ROOT/build/release/kguard}
RUNS=${RUNS:-3}
CACHE=$("$ROOT/tests/images/build_images.sh")
LARGE=${LARGE:-1}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

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

large_out=""
if [[ $LARGE == 1 ]]; then
  LCACHE=$("$BENCH_DIR/build_large_image.sh")
  lfloor=$(mktemp)
  floor_cmd "$LCACHE/oci" "zcat" > "$lfloor"
  kdoc=$(mktemp)
  "$KGUARD" image -o json "oci:$LCACHE/oci:large" > "$kdoc"
  read -r lpk lentries lbytes llayers < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["packages"]), d["entries"], d["uncompressedBytes"], len(d["layers"]))' "$kdoc")
  lgz=$(python3 -c '
import json, sys
l = sys.argv[1]
idx = json.load(open(f"{l}/index.json"))
d = idx["manifests"][0]["digest"][7:]
m = json.load(open(l + "/blobs/sha256/" + d))
print(sum(x["size"] for x in m["layers"]))' "$LCACHE/oci")
  read -r kt kc km < <(best "$KGUARD" image "oci:$LCACHE/oci:large")
  read -r ft fc fm < <(best bash "$lfloor")
  # The same floor with zlib's inflate (kguard's), not GNU gzip's slower one: python3's zlib module.
  zfloor=$(mktemp)
  sed -E 's#^zcat (\S+)#python3 -c "import sys, zlib; d = zlib.decompressobj(31); f = open(sys.argv[1], \x27rb\x27); o = sys.stdout.buffer; [o.write(d.decompress(b)) for b in iter(lambda: f.read(1 << 20), b\x27\x27)]; o.write(d.flush())" \1#' "$lfloor" > "$zfloor"
  read -r zt zc zm < <(best bash "$zfloor")
  rm -f "$zfloor"
  lrows=("| kguard image | $kt s | $kc s | $((km / 1024)) MiB | $lpk |" "| floor (zcat + tar -t) | $ft s | $fc s | $((fm / 1024)) MiB | – |"
    "| floor with zlib (python3 zlib + tar -t) | $zt s | $zc s | $((zm / 1024)) MiB | – |")
  syft_note=""
  if SYFT=$(python3 "$BENCH_DIR/image_peers.py" path syft 2>"$kdoc.err"); then
    export SYFT_CHECK_FOR_APP_UPDATE=false
    spk=$("$SYFT" "oci-dir:$LCACHE/oci" -o json -q | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["artifacts"]))')
    read -r st sc sm < <(best "$SYFT" "oci-dir:$LCACHE/oci" -o json -q)
    lrows+=("| Syft $(basename "$(dirname "$SYFT")" | sed 's/^syft-//') (\`oci-dir: -o json\`) | $st s | $sc s | $((sm / 1024)) MiB | $spk |")
    syft_note="kguard against Syft: wall $(awk -v a="$kt" -v b="$st" 'BEGIN{printf "%.2f", a/b}')×, CPU $(awk -v a="$kc" -v b="$sc" 'BEGIN{printf "%.2f", a/b}')×, peak RSS $(awk -v a="$km" -v b="$sm" 'BEGIN{printf "%.2f", a/b}')×."
  else
    syft_note="Syft not available, so not timed: $(cat "$kdoc.err")"
  fi
  rm -f "$lfloor" "$kdoc" "$kdoc.err"
  large_out="Large image \`oci:$(basename "$LCACHE")/oci:large\` ($llayers layers, $((lgz / 1048576)) MiB gzip, $((lbytes / 1048576)) MiB uncompressed, $lentries tar entries, $lpk packages found by kguard).

| tool | wall | CPU (user+sys) | peak RSS | packages |
|---|---|---|---|---|"
  for r in "${lrows[@]}"; do large_out+=$'\n'"$r"; done
  large_out+="

kguard against the floor: wall $(awk -v a="$kt" -v b="$ft" 'BEGIN{printf "%.2f", a/b}')×, CPU $(awk -v a="$kc" -v b="$fc" 'BEGIN{printf "%.2f", a/b}')×; against the zlib floor: wall $(awk -v a="$kt" -v b="$zt" 'BEGIN{printf "%.2f", a/b}')×, CPU $(awk -v a="$kc" -v b="$zc" 'BEGIN{printf "%.2f", a/b}')×. $syft_note"
  echo "$large_out"
fi

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
    echo "of the whole pipeline), $(nproc) cores shared with other jobs (load average $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end),"
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
    if [[ -n $large_out ]]; then
      echo
      echo "## Large image (issue 14 item 9)"
      echo
      echo "$large_out"
      echo
      cat <<'TXT'
Reading the large-image table (targets of issue 14 item 9: ≤ 1.3× the floor, peak RSS ≤ 100 MiB,
ahead of Syft):
- The floor's `zcat` is GNU gzip's own inflate, slower than zlib's, which kguard uses: kguard can
  come in under that floor while doing more (two SHA-256 digests, whiteouts, cataloguing). The zlib
  floor (python3's zlib module, the same library, piped to `tar -t`) is the stricter comparison.
- Where kguard's time goes (timing splits on this image, measured apart): zlib inflate of 2.9 GB
  is about three quarters of its CPU (python3's zlib inflate alone, no tar: 9.4 s user), the two
  SHA-256 passes most of the rest (`openssl dgst -sha256`: 0.7 s user for the 1.1 GB blob, 2.6 s
  for the 2.9 GB tar), the tar walk and the catalogers the small remainder. A
  read-ahead thread (blob read + hash + inflate on one core, tar hash + walk on the other) was
  tried and did not measurably change the wall time on this shared 2-core machine, so it was not
  kept: the consumer side is too small a share to hide.
- Peak RSS: one chunk per stream plus the path index of the image (every path, for whiteouts and
  symlink resolution) — ~53 MiB for 110,000 paths against 16 MiB for 9,500. It grows with the
  number of paths, not with bytes: about 0.35 KiB per path, so an image of ~250,000 files would
  reach the 100 MiB target. Compacting the index (interned directory prefixes) is what is left if
  larger images matter.
- Syft (stereoscope) unpacks each layer into a temporary directory before cataloguing, so it
  writes the whole 2.9 GB to disk and holds over 1 GB resident.
- Package counts: Syft lists one more, the Java archive
  /usr/share/ca-certificates-java/ca-certificates-java.jar, with version `UNKNOWN` and a group
  guessed from its Main-Class (no pom.properties, no Implementation-Version, no version in its
  name). kguard lists only Java archives it can version (an unversioned purl matches no advisory);
  the file belongs to the deb `ca-certificates-java`, which both list. Everything else (998 debs,
  40 Python, 2 Java) is the same set by purl type, name and version.
TXT
    fi
  } > "$RESULTS"
fi
