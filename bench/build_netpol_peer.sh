#!/usr/bin/env bash
# Builds np-guard's netpol-analyzer (the `netpolicy` command) from the Go module proxy into
# ~/.cache/kguard-bench/peers/netpol-analyzer-$VERSION/netpolicy, for tests/netpol/peer_test.py
# and bench/run_netpol_peer_bench.sh.  `go install module@version` is not used: it asks the proxy for
# the module's version list (for deprecation notices), which the proxy refuses here; a throwaway
# module that requires the pinned version builds the same binary.  The module's own files (its
# tests/ corpus and test_outputs/) land in the Go module cache, where peer_test.py reads them.
#
# Usage: bench/build_netpol_peer.sh            (NETPOL_ANALYZER_VERSION=v1.4.2 by default)
set -euo pipefail
VERSION=${NETPOL_ANALYZER_VERSION:-v1.4.2}
CACHE=${KGUARD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kguard-bench}
OUT=$CACHE/peers/netpol-analyzer-$VERSION
if [ -x "$OUT/netpolicy" ]; then echo "$OUT/netpolicy"; exit 0; fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/go.mod" <<MOD
module kguardpeer

go 1.24

require github.com/np-guard/netpol-analyzer $VERSION
MOD
printf '//go:build tools\n\npackage kguardpeer\n\nimport _ "github.com/np-guard/netpol-analyzer/cmd/netpolicy"\n' > "$WORK/tools.go"
mkdir -p "$OUT"
(cd "$WORK" && GOFLAGS="-mod=mod -buildvcs=false" nice go build -p 2 -o "$OUT/netpolicy" \
   github.com/np-guard/netpol-analyzer/cmd/netpolicy)
echo "$OUT/netpolicy"
