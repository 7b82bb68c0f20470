#!/usr/bin/env python3
"""Sustained audit-webhook stream against `kguard audit serve` (bench/results/audit.md):
posts EventList batches (realistic events from a generated log, auditIDs and users varied so
aggregation groups keep appearing) over keep-alive TLS connections for DURATION seconds and
samples the server's resident memory.

usage: audit_webhook_load.py KGUARD LOG DURATION_S [CONNECTIONS] [BATCH]
"""
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

kguard, log, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
conns = int(sys.argv[4]) if len(sys.argv) > 4 else 2
batch = int(sys.argv[5]) if len(sys.argv) > 5 else 400

d = tempfile.mkdtemp(prefix="kguard-audit-bench-")
def sh(*a):
    subprocess.run(a, check=True, capture_output=True)
sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/ca.key",
   "-out", d + "/ca.crt", "-days", "1", "-subj", "/CN=bench-ca")
with open(d + "/ext", "w") as f:
    f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/tls.key",
   "-out", d + "/tls.csr", "-subj", "/CN=127.0.0.1")
sh("openssl", "x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key", "-CAcreateserial",
   "-out", d + "/tls.crt", "-days", "1", "-extfile", d + "/ext")

lines = []
with open(log) as f:
    for i, line in enumerate(f):
        if i >= 20000:
            break
        lines.append(line.rstrip("\n"))
# Batches as the API server sends them: an EventList of items.
bodies = []
for b in range(0, len(lines), batch):
    bodies.append('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[' + ",".join(lines[b:b + batch]) + "]}")

proc = subprocess.Popen([kguard, "audit", "serve", "--listen", "127.0.0.1:0", "--tls-cert", d + "/tls.crt", "--tls-key",
                         d + "/tls.key", "--alerts", d + "/alerts.jsonl"], stderr=subprocess.PIPE, text=True)
port = None
for line in proc.stderr:
    rec = json.loads(line)
    if rec.get("msg") == "listening":
        port = int(rec["address"].rsplit(":", 1)[1])
        break
threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()

sent = [0] * conns
stop = time.time() + duration
def worker(k):
    ctx = ssl.create_default_context(cafile=d + "/ca.crt")
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    i = k
    while time.time() < stop:
        # Vary auditIDs and users per round so groups and de-duplication see new keys.
        body = bodies[i % len(bodies)].replace('-0000-4000-8000-', '-%04x-4000-8000-' % (i % 65536))
        body = body.replace('"username":"alice"', '"username":"alice-%d"' % (i % 5000))
        c.request("POST", "/audit", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("status %d" % r.status)
        sent[k] += batch
        i += conns

def rss():
    with open("/proc/%d/status" % proc.pid) as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1]) // 1024
threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(conns)]
t0 = time.time()
for t in threads:
    t.start()
print("| t (s) | events posted | server RSS (MiB) |")
print("|---:|---:|---:|")
while time.time() < stop:
    time.sleep(min(5, max(0.1, stop - time.time())))
    print("| %d | %d | %d |" % (time.time() - t0, sum(sent), rss()), flush=True)
for t in threads:
    t.join(60)
ctx = ssl.create_default_context(cafile=d + "/ca.crt")
c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
c.request("GET", "/metrics")
m = c.getresponse().read().decode()
for l in m.splitlines():
    if l.startswith(("kguard_audit_events_total", "kguard_audit_open_groups", "kguard_audit_parse_errors_total")):
        print(l)
print("events/s over the run: %.0f (client-bound: %d Python connections)" % (sum(sent) / duration, conns))
proc.send_signal(signal.SIGTERM)
proc.wait(30)
