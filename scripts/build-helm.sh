#!/usr/bin/env bash
# Builds helm from the Go module proxy (it is not a Debian package in
# bookworm) into a cache outside the tree, once; prints its path. Used by the
# deploy test to render deploy/helm/kguard.
set -euo pipefail
version="${KGUARD_HELM_VERSION:-v3.22.0}"
cache="${KGUARD_HELM_CACHE:-$HOME/.cache/kguard-helm}"
bin="$cache/bin/helm"
# Tests running at once (ctest -j) build it once: the second waits for the first.
mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
# helm built by go install reports only major.minor, so the build leaves a stamp.
if [ -x "$bin" ] && [ "$(cat "$cache/bin/helm.version" 2>/dev/null)" = "$version" ]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "build-helm.sh: go is needed to build helm" >&2; exit 77; }
mkdir -p "$cache"
echo "build-helm.sh: building helm $version from the Go module proxy into $cache (once)" >&2
GOBIN="$cache/bin" GOFLAGS=-mod=mod nice go install "helm.sh/helm/v3/cmd/helm@$version" >&2
echo "$version" > "$cache/bin/helm.version"
echo "$bin"
