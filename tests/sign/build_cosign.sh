#!/usr/bin/env bash
# Builds the real cosign the signing interoperability tests run against, from the Go module proxy
# (no binary downloads), and caches it outside the build tree like tests/e2e/build_cluster_binaries.sh,
# so only the first run pays for the build. Prints the path of the cosign binary on stdout.
#
# cosign's PKCS#11 support sits behind the build tag `pkcs11key` and needs cgo (it loads the module
# through github.com/miekg/pkcs11); the build tries that first and falls back to a plain build, and
# records which one it made in `$OUT/pkcs11` ("yes" or "no") for the tests to read.
set -euo pipefail

COSIGN_VERSION="${KGUARD_COSIGN_VERSION:-v2.6.5}"
CACHE_ROOT="${KGUARD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-e2e}"
OUT="$CACHE_ROOT/cosign-$COSIGN_VERSION"
major="${COSIGN_VERSION%%.*}"
module="github.com/sigstore/cosign/$major"
[ "$major" = "v1" ] && module="github.com/sigstore/cosign"

if [[ -x "$OUT/cosign" && -f "$OUT/pkcs11" ]]; then
  echo "$OUT/cosign"
  exit 0
fi
command -v go >/dev/null || { echo "build_cosign: Go toolchain not found" >&2; exit 1; }
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export GOFLAGS="-buildvcs=false"
export GOCACHE="${KGUARD_E2E_GOCACHE:-$work/go-build}"
export GOBIN="$work/bin"
ldflags="-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION"
echo "build_cosign: building $module/cmd/cosign@$COSIGN_VERSION with PKCS#11 (cgo, -tags pkcs11key)" >&2
if CGO_ENABLED=1 nice -n 19 go install -p 2 -trimpath -tags pkcs11key -ldflags "$ldflags" \
     "$module/cmd/cosign@$COSIGN_VERSION" >&2; then
  echo yes > "$OUT/pkcs11.tmp"
else
  echo "build_cosign: the PKCS#11 build failed; building without it" >&2
  CGO_ENABLED=0 nice -n 19 go install -p 2 -trimpath -ldflags "$ldflags" "$module/cmd/cosign@$COSIGN_VERSION" >&2
  echo no > "$OUT/pkcs11.tmp"
fi
mv "$GOBIN/cosign" "$OUT/cosign"
mv "$OUT/pkcs11.tmp" "$OUT/pkcs11"
echo "$OUT/cosign"
