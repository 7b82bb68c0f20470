#!/usr/bin/env bash
# RBAC benchmark (issue 17 item 6): kguard rbac who-can / check / can / paths over 10,000 Roles and
# ClusterRoles and 20,000 bindings (bench/gen_rbac_bench.py), offline and against a real
# kube-apiserver (tests/e2e/cluster.py), beside kubectl-who-can on the same objects. The timing
# and the report are bench/rbac_peers_bench.py; this script builds the peer first.
#
# Usage: bench/run_rbac_bench.sh [KGUARD]
#   KGUARD  kguard binary (default: build/release/kguard)
# Environment:
#   REPS=5            runs per command; the best wall and the best CPU time are reported
#   BATCH=10000       questions in the large `rbac check --batch` run
#   SKIP_CLUSTER=1    offline rows only (no API server, no peer)
#   SKIP_PEERS=1      no kubectl-who-can
#   PEERS_DIR=DIR     where peers are built (default ~/.cache/kguard-bench/peers)
#   RESULTS=FILE      Markdown output (default bench/results/rbac-peers.md)
#
# Peers, pinned:
#   kubectl-who-can  WHO_CAN_VERSION=v0.4.0  Go module proxy: github.com/aquasecurity/kubectl-who-can
#                    (the proxy serves this version but not the module's version list, so it is
#                    built from a small module that requires it, not with `go install pkg@v`,
#                    which asks for the list to look for deprecations)
#   rbac-tool        not served by the Go module proxy here (github.com/alcideio/rbac-tool: 403
#                    for the list, v1.19.0 and v1.20.0), so not built.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
KGUARD="$(realpath "${1:-$root/build/release/kguard}")"
[[ -x $KGUARD ]] || { echo "run_rbac_bench: $KGUARD is not built" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "run_rbac_bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
PEERS_DIR="${PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-bench/peers}"
WHO_CAN_VERSION="${WHO_CAN_VERSION:-v0.4.0}"
RESULTS="${RESULTS:-$here/results/rbac-peers.md}"

build_who_can() {
  local out="$PEERS_DIR/kubectl-who-can-$WHO_CAN_VERSION"
  if [[ -x $out ]]; then echo "$out"; return 0; fi
  command -v go >/dev/null || { echo "run_rbac_bench: no Go toolchain: kubectl-who-can skipped" >&2; return 1; }
  local src="$PEERS_DIR/src-who-can-$WHO_CAN_VERSION"
  mkdir -p "$src"
  cat > "$src/go.mod" <<EOF
module kguard.io/bench-peer-who-can

go 1.22

require github.com/aquasecurity/kubectl-who-can $WHO_CAN_VERSION
EOF
  cat > "$src/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/aquasecurity/kubectl-who-can/cmd/kubectl-who-can"
EOF
  echo "run_rbac_bench: building kubectl-who-can $WHO_CAN_VERSION" >&2
  if ! (cd "$src" && export GOFLAGS=-mod=mod CGO_ENABLED=0 GOCACHE="$PEERS_DIR/go-build" &&
        go mod tidy >&2 &&
        go build -p 2 -trimpath -o "$out.tmp" github.com/aquasecurity/kubectl-who-can/cmd/kubectl-who-can >&2); then
    echo "run_rbac_bench: kubectl-who-can did not build" >&2
    return 1
  fi
  mv "$out.tmp" "$out"
  echo "$out"
}

who_can="-"
if [[ ${SKIP_PEERS:-} != 1 && ${SKIP_CLUSTER:-} != 1 ]]; then
  who_can="$(build_who_can)" || who_can="-"
fi
echo "run_rbac_bench: load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec python3 "$here/rbac_peers_bench.py" "$KGUARD" "$who_can" "$RESULTS"
