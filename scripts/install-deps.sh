#!/usr/bin/env bash
# Installs the Debian packages kguard needs to build and test, if missing.
# Used by `make demo` and `make test`; safe to run repeatedly.
set -euo pipefail

packages=(g++ make cmake ninja-build pkg-config libyaml-dev libgtest-dev python3 time
          libcurl4-openssl-dev openssl  # kguard scan --cluster; e2e certificates
          libssl-dev wrk curl           # kguard admit (TLS), its tests and bench/
          clang libfuzzer-14-dev libclang-rt-14-dev
          python3-jsonschema python3-yaml  # tests/integration/formats_test.py
          chromium nodejs)                 # tests/integration/html_test.mjs
# npm too, unless node already brings it (NodeSource's nodejs provides npm and
# conflicts with Debian's package).
command -v npm >/dev/null || packages+=(npm)
if [ "${1:-}" = "--demo" ]; then
  packages=(g++ make cmake ninja-build pkg-config libyaml-dev libgtest-dev python3 libcurl4-openssl-dev libssl-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "kguard: installing missing Debian packages: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q || echo "kguard: apt-get update failed; trying the cached package lists" >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
