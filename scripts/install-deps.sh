#!/usr/bin/env bash
# Installs the Debian packages kguard needs to build and test, if missing.
# Used by `make demo` and `make test`; safe to run repeatedly.
set -euo pipefail

packages=(g++ make cmake ninja-build pkg-config libyaml-dev libgtest-dev python3 time
          libcurl4-openssl-dev openssl  # kguard scan --cluster; e2e certificates
          libssl-dev wrk curl           # kguard admit (TLS), its tests and bench/
          libsodium-dev libp11-kit-dev  # kguard keygen/sign/verify: cosign key files (secretbox), PKCS#11 header
          softhsm2 opensc               # tests: a PKCS#11 token (SoftHSM2) and pkcs11-tool
          libnghttp2-dev                # kguard kms serve (KMS v2: gRPC over HTTP/2)
          libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # tests, bench: the reference gRPC client of kguard kms
          zlib1g-dev libzstd-dev libsqlite3-dev  # kguard image: gzip/zstd layers, JARs, cargo-auditable data, rpmdb.sqlite
          skopeo umoci mmdebstrap docker-registry apache2-utils  # real test images (tests/images)
          rpm db5.3-util sqlite3        # tests: real rpm databases (rpm --initdb; BerkeleyDB from db_load)
          clang clang-tidy                 # the second compiler, libFuzzer, the linter
          python3-jsonschema python3-yaml  # tests/integration/formats_test.py
          chromium nodejs)                 # tests/integration/html_test.mjs
# npm too, unless node already brings it (NodeSource's nodejs provides npm and
# conflicts with Debian's package).
command -v npm >/dev/null || packages+=(npm)
# tests/images/build_app_images.sh: a Go program (Go module proxy) and a wheel (pip download), unless
# the machine has its own Go or pip already.
command -v go >/dev/null || packages+=(golang-go)
command -v pip3 >/dev/null || packages+=(python3-pip)
if [ "${1:-}" = "--demo" ]; then
  packages=(g++ make cmake ninja-build pkg-config libyaml-dev libgtest-dev python3 libcurl4-openssl-dev libssl-dev
            zlib1g-dev libzstd-dev libsqlite3-dev libsodium-dev libp11-kit-dev libnghttp2-dev)
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=0
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "kguard: installing missing Debian packages: ${missing[*]}" >&2
  if [ $updated -eq 0 ]; then
    $sudo apt-get update -q || echo "kguard: apt-get update failed; trying the cached package lists" >&2
    updated=1
  fi
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
install_missing "${packages[@]}"

# libFuzzer and the sanitizer runtimes are versioned with clang itself: take the ones that match
# the clang the distribution installed, whatever its major version.
if [ "${1:-}" != "--demo" ]; then
  clang_major=$(clang --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -n1)
  [ -n "$clang_major" ] || { echo "kguard: cannot tell clang's version" >&2; exit 1; }
  install_missing "libfuzzer-$clang_major-dev" "libclang-rt-$clang_major-dev"
fi
