#!/bin/sh
# The audit-log detection benchmark (bench/results/audit.md): a generated log of N realistic
# events, kguard's throughput on one core against the core JSON loader floor, then memory of
# `kguard audit serve` under a sustained webhook stream.
#   bench/run_audit_bench.sh BUILD_DIR [EVENTS] [SECONDS]
set -eu
build=${1:?build dir}
events=${2:-1000000}
seconds=${3:-60}
log=${TMPDIR:-/tmp}/kguard-audit-bench-$events.log
[ -s "$log" ] || "$build/bench/audit_bench" generate "$events" "$log"
taskset -c 0 "$build/bench/audit_bench" run "$log" 3
"$(dirname "$0")/audit_webhook_stream.sh" "$build" "$log" "$seconds"
python3 "$(dirname "$0")/audit_webhook_load.py" "$build/kguard" "$log" 30  # group churn: users and auditIDs varied
