#!/usr/bin/env bash
# Runs html_test.mjs (the HTML report in headless Chromium). The first run
# installs playwright-core, pinned by package-lock.json, with `npm ci` into
# BUILD_DIR/html-test, so the source tree stays clean and build dirs don't race.
# Usage: run_html_test.sh KGUARD SOURCE_DIR BUILD_DIR
# Exits 77 (ctest: skipped) when node, npm or Chromium is not installed
# (scripts/install-deps.sh installs them).
set -euo pipefail
kguard=$1 source_dir=$2 build_dir=$3
here=$(cd "$(dirname "$0")" && pwd)
chromium=${KGUARD_CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo chromium)}

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "html_test: SKIPPED, $tool is not installed"; exit 77; }
done
[ -x "$chromium" ] || { echo "html_test: SKIPPED, Chromium not found (install Debian's chromium or set KGUARD_CHROMIUM)"; exit 77; }

deps="$build_dir/html-test"
if [ ! -d "$deps/node_modules/playwright-core" ] || ! cmp -s "$here/package-lock.json" "$deps/package-lock.json"; then
  mkdir -p "$deps"
  cp "$here/package.json" "$here/package-lock.json" "$deps/"
  (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
fi

exec node "$here/html_test.mjs" --kguard "$kguard" --source "$source_dir" --build "$build_dir" \
  --modules "$deps/node_modules" --chromium "$chromium"
