#!/usr/bin/env bash
# Makes a CA and a serving certificate for kguard admit, and the manifests
# that carry them: a kubernetes.io/tls Secret and the
# ValidatingWebhookConfiguration with its caBundle filled in.
#
#   deploy/gen-certs.sh --out DIR [--namespace kguard] [--service kguard] [--days 365]
#   deploy/gen-certs.sh --out DIR --url https://127.0.0.1:8443/validate
#
# With --url the webhook calls that URL instead of the in-cluster Service
# (kguard running outside the cluster, e.g. next to a test API server); the
# certificate then names the URL's host. Then:
#   kubectl apply -f deploy/manifests/ -f DIR/kguard-tls-secret.yaml -f DIR/webhook.yaml
# DIR holds private keys: keep it out of version control.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="" namespace="kguard" service="kguard" days=365 url=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --service) service="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --url) url="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "gen-certs.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || { echo "gen-certs.sh: --out DIR is required" >&2; exit 2; }
command -v openssl >/dev/null || { echo "gen-certs.sh: openssl is needed" >&2; exit 2; }
mkdir -p "$out"
umask 077

if [ -n "$url" ]; then
  host="${url#https://}"; host="${host%%/*}"; host="${host%:*}"; host="${host#[}"; host="${host%]}"
  if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then san="IP:$host"; else san="DNS:$host"; fi
  cn="$host"
else
  svc="$service.$namespace.svc"
  san="DNS:$service,DNS:$service.$namespace,DNS:$svc,DNS:$svc.cluster.local"
  cn="$svc"
fi

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -keyout "$out/ca.key" -out "$out/ca.crt" -days "$days" -subj "/CN=kguard-webhook-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -keyout "$out/tls.key" -out "$out/tls.csr" -subj "/CN=$cn" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n' \
  "$san" > "$out/tls.ext"
openssl x509 -req -sha256 -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
  -CAcreateserial -out "$out/tls.crt" -days "$days" -extfile "$out/tls.ext" 2>/dev/null
rm -f "$out/tls.csr" "$out/tls.ext" "$out/ca.srl"

b64() { base64 -w0 < "$1"; }
cat > "$out/kguard-tls-secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: kguard-tls
  namespace: $namespace
  labels:
    app.kubernetes.io/name: kguard
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
YAML

ca_bundle="$(b64 "$out/ca.crt")"
if [ -n "$url" ]; then
  client="      url: \"$url\""
else
  client="      service: {namespace: $namespace, name: $service, path: /validate, port: 443}"
fi
while IFS= read -r line; do
  case "$line" in
    "      caBundle: \"\"") printf '      caBundle: %s\n' "$ca_bundle" ;;
    "      service: {"*) printf '%s\n' "$client" ;;
    *"values: [kube-system, kguard]"*) printf '%s\n' "${line/kguard]/$namespace]}" ;;
    *) printf '%s\n' "$line" ;;
  esac
done < "$here/manifests/70-webhook.yaml" > "$out/webhook.yaml"
chmod 0644 "$out/ca.crt" "$out/tls.crt" "$out/webhook.yaml"
echo "kguard: wrote $out/{ca.crt,tls.crt,tls.key,kguard-tls-secret.yaml,webhook.yaml} (certificate for $san)" >&2
