#!/usr/bin/env bash
# Builds the real kube-apiserver, kubectl and etcd the end-to-end tests run against, from the Go
# module proxy (no binary downloads), and caches them outside the build tree so that only the
# first run pays for the build (see README: about 26 minutes on a shared 2-core machine, ~5 GB of
# disk while building, 1.3 GB kept: the Go module cache and the binaries). Prints the cache directory on stdout.
#
# k8s.io/kubernetes is not meant to be a library: its go.mod requires every staging module
# (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and replaces them with ./staging paths. A small
# module that requires k8s.io/kubernetes and replaces each staging module with its published
# v0.<minor>.<patch> tag builds the same binaries.
#
# Arguments name extra binaries to have as well (today: kube-controller-manager, which the RBAC
# differential test needs for ClusterRole aggregation; etcdctl, at the etcd server's own version, with
# which the KMS test reads etcd directly). Only binaries missing from the cache are
# built: adding one never rebuilds the others.
set -euo pipefail

K8S_VERSION="${KGUARD_E2E_K8S_VERSION:-v1.37.2}"
CACHE_ROOT="${KGUARD_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-e2e}"
OUT="$CACHE_ROOT/$K8S_VERSION"
staging_version="v0.${K8S_VERSION#v1.}"

wanted=(kube-apiserver kubectl etcd)
for extra in "$@"; do
  case "$extra" in
    kube-controller-manager|etcdctl) wanted+=("$extra") ;;
    *) echo "build_cluster_binaries: unknown binary $extra" >&2; exit 2 ;;
  esac
done
missing=()
for b in "${wanted[@]}"; do
  [[ -x "$OUT/$b" ]] || missing+=("$b")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$OUT"
  exit 0
fi
# A build from nothing makes kube-controller-manager too: with the compile cache of the others it
# costs a fraction of building it alone later (which the RBAC differential test would ask for).
if [[ ! -x "$OUT/kube-controller-manager" && " ${missing[*]} " != *" kube-controller-manager "* ]]; then
  missing+=(kube-controller-manager)
fi

command -v go >/dev/null || { echo "build_cluster_binaries: Go toolchain not found" >&2; exit 1; }
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# The module proxy Go itself is configured with (GOPROXY, else go env's default).
proxy="${GOPROXY:-$(go env GOPROXY)}"
proxy="${proxy%%,*}"
case "$proxy" in
  http://*|https://*) ;;
  *) echo "build_cluster_binaries: GOPROXY ($proxy) names no module proxy URL" >&2; exit 1 ;;
esac
curl -fsS --retry 3 "$proxy/k8s.io/kubernetes/@v/$K8S_VERSION.mod" -o kubernetes.mod
go_version="$(awk '/^go /{print $2; exit}' kubernetes.mod)"

{
  echo "module kguard.io/e2e-cluster-binaries"
  echo
  echo "go $go_version"
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  grep -E '^\s+k8s\.io/[^ ]+ v0\.0\.0$' kubernetes.mod | awk -v v="$staging_version" \
    '{print "replace " $1 " => " $1 " " v}'
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

export GOFLAGS="-mod=mod -buildvcs=false"
# The compile cache (~3.7 GB) is only useful for this one build: keep it in the
# work directory so it is deleted with it. The module cache stays (~1.1 GB).
export GOCACHE="${KGUARD_E2E_GOCACHE:-$work/go-build}"
export CGO_ENABLED=0
echo "build_cluster_binaries: resolving modules for kubernetes $K8S_VERSION" >&2
go mod tidy >&2
# -p 2: this machine has 2 cores and the linker of kube-apiserver alone wants ~2 GB.
echo "build_cluster_binaries: building ${missing[*]} into $OUT" >&2
k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
for b in "${missing[@]}"; do
  case "$b" in
    etcdctl) continue ;;  # below: its module is added after the others are built
    etcd) go build -p 2 -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3 ;;
    *) go build -p 2 -trimpath -ldflags "$k8s_ldflags" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b" ;;
  esac
done
if [[ " ${missing[*]} " == *" etcdctl "* ]]; then
  etcd_version="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  go get "go.etcd.io/etcd/etcdctl/v3@$etcd_version" >&2
  go build -p 2 -trimpath -ldflags "-s -w" -o "$OUT/etcdctl.tmp" go.etcd.io/etcd/etcdctl/v3
fi
for b in "${missing[@]}"; do mv "$OUT/$b.tmp" "$OUT/$b"; done
echo "$OUT"
