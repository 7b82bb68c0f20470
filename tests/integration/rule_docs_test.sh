#!/usr/bin/env bash
# docs/rules/ must be what `kguard rules docs` generates from the catalog.
# Fix a failure with: kguard rules docs docs/rules
set -euo pipefail
kguard=$1 source=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$kguard" rules docs "$out"
if ! diff -ru "$source/docs/rules" "$out"; then
  echo "docs/rules is stale: run \`kguard rules docs docs/rules\` and commit the result" >&2
  exit 1
fi
