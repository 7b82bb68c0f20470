#!/usr/bin/env bash
# Builds kustomize from the Go module proxy into a cache outside the tree,
# keyed by version, once; prints its path. Used by tests/integration/render_test.py when no kustomize is given.
set -euo pipefail
version="${KGUARD_KUSTOMIZE_VERSION:-v5.8.1}"
cache="${KGUARD_KUSTOMIZE_CACHE:-$HOME/.cache/kguard-kustomize}/$version"
bin="$cache/kustomize"
# Tests running at once (ctest -j) build it once: the second waits for the first.
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "build-kustomize.sh: go is needed to build kustomize" >&2; exit 77; }
echo "build-kustomize.sh: building kustomize $version from the Go module proxy into $cache (once)" >&2
# GOTOOLCHAIN=local: the machine's Go builds this version; never fetch another.
GOTOOLCHAIN=local GOBIN="$cache" GOFLAGS=-mod=mod nice go install "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
echo "$bin"
