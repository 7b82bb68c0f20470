#!/bin/sh
# `kguard audit serve` under a sustained webhook stream (bench/results/audit.md): EventList
# batches of 400 realistic events (from a generated log) posted closed-loop over keep-alive TLS
# by bench/admit_load for SECONDS, the server's RSS sampled every 5 s.
#   bench/audit_webhook_stream.sh BUILD_DIR LOG [SECONDS] [CONNECTIONS]
set -eu
build=${1:?build dir}; log=${2:?log}; seconds=${3:-60}; conns=${4:-4}
d=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$d"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 1 -subj /CN=bench-ca 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:kguard.kguard.svc\nextendedKeyUsage=serverAuth\n' > "$d/ext"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/tls.key" -out "$d/tls.csr" -subj /CN=127.0.0.1 2>/dev/null
openssl x509 -req -in "$d/tls.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/tls.crt" -days 1 -extfile "$d/ext" 2>/dev/null
head -n 40000 "$log" | python3 -c '
import sys
lines = [l.rstrip("\n") for l in sys.stdin]
for b in range(0, len(lines), 400):
    with open(sys.argv[1] + "/batch-%03d.json" % (b // 400), "w") as f:
        f.write("{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},\"items\":[" + ",".join(lines[b:b + 400]) + "]}")
' "$d"
"$build/kguard" audit serve --listen 127.0.0.1:0 --tls-cert "$d/tls.crt" --tls-key "$d/tls.key" --alerts "$d/alerts.jsonl" 2> "$d/serve.log" &
server=$!
for _ in $(seq 50); do grep -q listening "$d/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*"address":"127.0.0.1:\([0-9]*\)".*/\1/p' "$d/serve.log" | head -1)
bodies=""; for f in "$d"/batch-*.json; do bodies="$bodies --body $f"; done
( for t in $(seq 5 5 "$seconds"); do sleep 5; printf '| %s | %s |\n' "$t" "$(awk '/VmRSS/{print int($2/1024)}' /proc/$server/status)"; done ) &
sampler=$!
echo "| t (s) | server RSS (MiB) |"; echo "|---:|---:|"
# shellcheck disable=SC2086
"$build/bench/admit_load" --port "$port" --ca "$d/ca.crt" --path /audit $bodies --rate 0 --duration "$seconds" \
  --connections "$conns" --expect '{}' > "$d/load.txt"
wait $sampler
cat "$d/load.txt"
echo "events per request: 400"
curl -sk "https://127.0.0.1:$port/metrics" | grep -E '^kguard_audit_(events_total|open_groups|parse_errors_total|batches_total)'
