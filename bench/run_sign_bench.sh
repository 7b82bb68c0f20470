#!/usr/bin/env bash
# Signing and verification benchmark (issue 16 item 7; ../../shared/design/PERFORMANCE.md): kguard
# verify and the admission signature gate (cache hit and miss) against the loopback Debian
# docker-registry with TLS + auth, signing throughput with key files and SoftHSM2 (in process and
# whole `kguard sign` runs), and the real cosign signing and verifying the same images.
# Writes bench/results/signing.md (bench/sign_bench.py does the work).
#
# Usage: bench/run_sign_bench.sh [BUILD_DIR]        (default build/release)
# Environment: N=10 images per round, ROUNDS=3, SECONDS=10 per admit_load row, MISS_N=60 sequential
#   misses per row, RESULTS=FILE. cosign is built once from the Go module proxy and cached
#   (tests/sign/build_cosign.sh, ~/.cache/kguard-e2e).
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BUILD=${1:-$ROOT/build/release}
for bin in "$BUILD/kguard" "$BUILD/bench/admit_load" "$BUILD/bench/sign_throughput"; do
  [[ -x $bin ]] || { echo "run_sign_bench: $bin is missing (ninja -C $BUILD kguard admit_load sign_throughput)" >&2; exit 1; }
done
for tool in docker-registry softhsm2-util pkcs11-tool htpasswd openssl; do
  command -v "$tool" >/dev/null || { echo "run_sign_bench: $tool is not installed" >&2; exit 1; }
done
COSIGN=$("$ROOT/tests/sign/build_cosign.sh")
exec python3 "$BENCH_DIR/sign_bench.py" "$BUILD/kguard" "$BUILD/bench/admit_load" "$BUILD/bench/sign_throughput" "$COSIGN"
