#!/usr/bin/env bash
# Admission webhook benchmark (../../shared/design/PERFORMANCE.md, "Admission
# webhook"): kguard admit over TLS on loopback, a real Pod and Deployment
# AdmissionReview, policy = every PSS restricted rule (enforce, audit, warn)
# plus the image rules (audit). Writes bench/results/admit.md.
#
# Usage: bench/run_admit_bench.sh [KGUARD] [ADMIT_LOAD]
# Environment:
#   RUN_SECONDS=30     length of each fixed-rate run
#   SOAK_SECONDS=600   soak length at SOAK_RATE (0 skips the soak)
#   SOAK_RATE=1000
#   RESULTS=FILE       Markdown output (default bench/results/admit.md)
#
# Runs, each checked (every answer must be HTTP 200 with "allowed":true):
#   1,000 and 5,000 req/s open loop (latency from the scheduled send time),
#   saturation closed loop (admit_load and wrk), 1,000 req/s next to 1,000
#   idle TLS connections, 2,000 req/s while the certificate is replaced and
#   reloaded every second (connections re-handshake every 50 requests), and
#   the soak with RSS sampled every 10 s.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
KGUARD=${1:-$ROOT/build/release/kguard}
LOAD=${2:-$ROOT/build/release/bench/admit_load}
RUN_SECONDS=${RUN_SECONDS:-30}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RATE=${SOAK_RATE:-1000}
RESULTS=${RESULTS:-$BENCH_DIR/results/admit.md}
POD=$BENCH_DIR/admit/pod-review.json
DEP=$BENCH_DIR/admit/deployment-review.json

work=$(mktemp -d /tmp/kguard-admit-bench.XXXXXX)
server_pid=""
idle_pid=""
cleanup() {
  [ -n "$idle_pid" ] && kill "$idle_pid" 2>/dev/null || true
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$ROOT/deploy/gen-certs.sh" --out "$work/certs" --url https://127.0.0.1:8443/validate 2>/dev/null
cp "$BENCH_DIR/admit/config.yaml" "$work/config.yaml"
"$KGUARD" admit --listen 127.0.0.1:0 --tls-cert "$work/certs/tls.crt" --tls-key "$work/certs/tls.key" \
  --config "$work/config.yaml" --audit-log "$work/audit.jsonl" --workers 2 --watch-interval 200ms \
  2> "$work/server.log" &
server_pid=$!
for _ in $(seq 50); do grep -q '"listening"' "$work/server.log" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '"address":"127.0.0.1:[0-9]*"' "$work/server.log" | grep -o '[0-9]*"$' | tr -d '"')
[ -n "$port" ] || { cat "$work/server.log" >&2; exit 1; }

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server_pid/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
tick=$(getconf CLK_TCK)

# load NAME ARGS...: one admit_load run; appends a table row.
metrics() { curl -s --cacert "$work/certs/ca.crt" "https://127.0.0.1:$port/metrics"; }
rows=""
load() {
  local name=$1; shift
  local before after ok
  metrics > "$work/metrics.before"
  before=$(cpu_ticks)
  out=$("$LOAD" --port "$port" --ca "$work/certs/ca.crt" --body "$POD" --body "$DEP" \
        --expect '"allowed":true' --json "$@") || true
  after=$(cpu_ticks)
  metrics > "$work/metrics.after"
  echo "$name: $out" >&2
  row=$(python3 - "$name" "$out" "$((after - before))" "$tick" "$(rss_kib)" "$(cut -d' ' -f1 /proc/loadavg)" \
        "$work/metrics.before" "$work/metrics.after" <<'PY'
import json, re, sys
name, out, ticks, hz, rss, load, m0, m1 = sys.argv[1:]
r = json.loads(out)
cpu_us = int(ticks) / int(hz) * 1e6 / max(1, r["ok"])
def buckets(path):
    b = {}
    for line in open(path):
        m = re.match(r'kguard_admission_review_duration_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
        if m:
            b[m.group(1)] = int(m.group(2))
    return b
b0, b1 = buckets(m0), buckets(m1)
delta = [(float("inf") if k == "+Inf" else float(k), b1[k] - b0.get(k, 0)) for k in b1]
delta.sort()
total = delta[-1][1] if delta else 0
def server_p(p):
    # Upper bound of the histogram bucket holding the p-th percentile (server time:
    # first byte of the request to its response, measured by kguard itself).
    for le, n in delta:
        if total and n >= p / 100 * total:
            return "≤%g" % (le * 1e6) if le != float("inf") else ">10s"
    return "-"
print("| %s | %s | %d | %d | %s | %s | %s | %s | %s | %s / %s | %.0f | %.1f | %s |" % (
    name, "%d" % r["target_rate"] if r["target_rate"] else "max", r["connections"], r["throughput_rps"],
    "%d (%d of %d answered)" % (r["errors"], r["ok"], r["scheduled"]) if r.get("scheduled") else r["errors"],
    r["p50_us"], r["p99_us"], r["p999_us"], r["max_us"], server_p(50), server_p(99),
    cpu_us, int(rss) / 1024, load))
PY
)
  rows+="$row"$'\n'
}

echo "warm-up" >&2
"$LOAD" --port "$port" --ca "$work/certs/ca.crt" --body "$POD" --body "$DEP" --rate 1000 --duration 3 \
  --connections 16 --expect '"allowed":true' >/dev/null

load "1,000 req/s" --rate 1000 --duration "$RUN_SECONDS" --connections 32
load "5,000 req/s" --rate 5000 --duration "$RUN_SECONDS" --connections 64
load "saturation" --rate 0 --duration 15 --connections 32

# wrk (closed loop, its own HTTP client) as a cross-check of saturation.
wrk_out=$(KGUARD_BENCH_BODY=$POD wrk -t1 -c32 -d10s --latency -s "$BENCH_DIR/admit/post.lua" \
          "https://127.0.0.1:$port/validate?timeout=10s" 2>&1 || true)
echo "$wrk_out" >&2

# 1,000 idle TLS connections held open next to the measured client.
python3 - "$port" "$work/certs/ca.crt" > "$work/idle.log" 2>&1 <<'PY' &
import resource, socket, ssl, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
ctx = ssl.create_default_context(cafile=sys.argv[2])
held = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="127.0.0.1")
        for _ in range(1000)]
print("holding", len(held), flush=True)
time.sleep(120)
PY
idle_pid=$!
for _ in $(seq 300); do grep -q holding "$work/idle.log" 2>/dev/null && break; sleep 0.1; done
grep -q holding "$work/idle.log" || { cat "$work/idle.log" >&2; exit 1; }
load "1,000 req/s + 1,000 idle conns" --rate 1000 --duration 15 --connections 32
kill "$idle_pid" 2>/dev/null || true; wait "$idle_pid" 2>/dev/null || true; idle_pid=""

# Certificate replaced and reloaded (SIGHUP and file change, alternately)
# every second while connections keep re-handshaking.
reload_seconds=20
(
  for i in $(seq "$reload_seconds"); do
    sleep 1
    "$ROOT/deploy/gen-certs.sh" --out "$work/next" --url https://127.0.0.1:8443/validate 2>/dev/null
    # Same CA for the client: re-sign the new key with the first CA.
    openssl req -new -key "$work/next/tls.key" -subj /CN=127.0.0.1 -out "$work/next/tls.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\n' > "$work/next/ext"
    openssl x509 -req -in "$work/next/tls.csr" -CA "$work/certs/ca.crt" -CAkey "$work/certs/ca.key" \
      -CAcreateserial -out "$work/next/tls.crt" -days 1 -extfile "$work/next/ext" 2>/dev/null
    cat "$work/next/tls.key" > "$work/certs/tls.key.new" && cat "$work/next/tls.crt" > "$work/certs/tls.crt.new"
    mv "$work/certs/tls.key.new" "$work/certs/tls.key"; mv "$work/certs/tls.crt.new" "$work/certs/tls.crt"
    if [ $((i % 2)) -eq 0 ]; then kill -HUP "$server_pid"; fi
  done
) &
reloader=$!
load "2,000 req/s, cert reload every 1 s" --rate 2000 --duration "$reload_seconds" --connections 32 --reconnect-every 50
wait "$reloader"
reloads=$(grep -c '"TLS certificate reloaded"' "$work/server.log" || true)
reload_failures=$(grep -c '"TLS reload failed' "$work/server.log" || true)

soak_table=""
if [ "$SOAK_SECONDS" -gt 0 ]; then
  echo "soak: $SOAK_SECONDS s at $SOAK_RATE req/s" >&2
  soak_rss=()
  "$LOAD" --port "$port" --ca "$work/certs/ca.crt" --body "$POD" --body "$DEP" --rate "$SOAK_RATE" \
    --duration "$SOAK_SECONDS" --connections 32 --expect '"allowed":true' --json > "$work/soak.json" &
  soak_pid=$!
  while kill -0 "$soak_pid" 2>/dev/null; do
    soak_rss+=("$(rss_kib)")
    sleep 10
  done
  wait "$soak_pid" || true
  soak=$(cat "$work/soak.json")
  soak_table=$(python3 - "$soak" "${soak_rss[@]}" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); rss = [int(x) for x in sys.argv[2:]]
n = len(rss); q = max(1, n // 4)
first, last = sum(rss[:q]) / q / 1024, sum(rss[-q:]) / q / 1024
print("| %d s at %d req/s | %d | %d | %s | %s | %.1f | %.1f | %.1f | %+.1f |" % (
    r["duration_s"], r["target_rate"], r["ok"], r["errors"], r["p99_us"], r["p999_us"],
    first, last, max(rss) / 1024, last - first))
PY
)
fi

wrk_summary=$(echo "$wrk_out" | awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx|Socket errors/ {err=err" "$0} END {printf "%s req/s, p50 %s, p99 %s%s", rps, p50, p99, (err==""?", no errors":";"err)}')

{
  echo "# kguard admit benchmark"
  echo
  echo "Generated by \`bench/run_admit_bench.sh\` on $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores"
  echo "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with other jobs —"
  echo "the load average column shows how busy the machine was. kguard admit runs 2 worker threads; the"
  echo "load generator (bench/admit_load.cpp, open loop: latency counts from the *scheduled* send time) runs on"
  echo "the same 2 cores. Requests alternate a Pod and a Deployment AdmissionReview (bench/admit/); policy"
  echo "bench/admit/config.yaml: every PSS restricted rule enforced, audited and warned, image rules audited."
  echo "Every answer is checked (HTTP 200, \"allowed\":true). Latencies in microseconds, seen by the client"
  echo "from the scheduled send time; \"server-side\" is kguard's own histogram (first request byte to"
  echo "response), as the upper bound of the bucket holding the percentile."
  echo
  echo "| run | target req/s | conns | achieved req/s | errors | p50 | p99 | p99.9 | max | server-side p50 / p99 | server CPU µs/req | RSS MiB | load avg |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s' "$rows"
  echo
  echo "wrk 4.1 cross-check (closed loop, 1 thread, 32 connections, 10 s, Pod review): $wrk_summary."
  echo
  echo "Certificate reload under load: $reloads reloads (SIGHUP and file change alternately), $reload_failures failed;"
  echo "errors in that run are in its row above (connections re-handshake every 50 requests, so new"
  echo "handshakes meet each new certificate)."
  echo
  if [ -n "$soak_table" ]; then
    echo "## Soak"
    echo
    echo "| soak | ok | errors | p99 | p99.9 | RSS first quarter MiB | RSS last quarter MiB | RSS max MiB | growth MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
    echo "$soak_table"
    echo
  fi
  echo "Peak RSS (VmHWM) over the whole benchmark: $(( $(hwm_kib) / 1024 )) MiB."
} > "$RESULTS"
cat "$RESULTS"
