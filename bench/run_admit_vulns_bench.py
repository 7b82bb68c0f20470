#!/usr/bin/env python3
"""The admission gate's latency (issue 15, item 8): kguard admit judging a Pod's
image against the vulnerability database, with a warm cache (the image's scan
result held by digest) and a cold one (each request scans: read the image
through the registry, match it), p50/p99. Writes bench/results/admit-vulns.md.

Everything is real: the loopback TLS registry with htpasswd auth
(tests/images/registry_fixture.py: Debian's docker-registry) holding the Debian 12
test image (99 packages, 65 MB as gzip layers; the same image with zstd layers as
a second digest), the Alpine and distroless images of
tests/images/build_app_images.sh; the database built by `kguard db build` from
an OSV all.zip in the real schema: the gate tests' records
(tests/integration/vuln_feed.py) plus generated records — RECORDS in all, with
RELATED for each source package the Debian image contains (evaluated on every
match: fixed below the installed version), the rest for other package names.

Warm runs use bench/admit_load (open loop over TLS keep-alive, latency from the
scheduled send time); cold runs are sequential requests on one connection to an
admit whose cache holds one entry while the requests alternate between two
digests, so every request is a miss. The server's own review time is read from
its audit log (latencySeconds) beside the client's round trip.

usage: bench/run_admit_vulns_bench.py [KGUARD [ADMIT_LOAD]]
environment: RECORDS (default 200000), RELATED (default 20), WARM_RATE (500), WARM_SECONDS (10),
             COLD_N (30), RESULTS (default bench/results/admit-vulns.md), CORPORA (../shared/corpora
             style corpora folder, for build_app_images.sh)
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import vuln_feed  # noqa: E402
from admit_support import Webhook, review_for  # noqa: E402

KGUARD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/release/kguard")
LOAD = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build/release/bench/admit_load")
RECORDS = int(os.environ.get("RECORDS", "200000"))
RELATED = int(os.environ.get("RELATED", "20"))
WARM_RATE = int(os.environ.get("WARM_RATE", "500"))
WARM_SECONDS = int(os.environ.get("WARM_SECONDS", "10"))
COLD_N = int(os.environ.get("COLD_N", "30"))
RESULTS = os.environ.get("RESULTS", os.path.join(BENCH, "results", "admit-vulns.md"))
CORPORA = os.environ.get("CORPORA")
if not CORPORA:
    sys.exit("set CORPORA to the shared corpora folder (build_app_images.sh reads it)")


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def generated_records(image_sources):
    """OSV Debian:12 records in the real schema: RELATED per source package of the image
    (fixed below what it has: evaluated, never affected), the rest for other names."""
    n = 0
    for src, version in sorted(image_sources.items()):
        for i in range(RELATED):
            n += 1
            yield {"schema_version": "1.6.0", "id": f"KGBENCH-{n:07d}", "modified": "2026-01-01T00:00:00Z",
                   "published": "2026-01-01T00:00:00Z", "summary": f"{src}: an old issue fixed long ago",
                   "affected": [{"package": {"ecosystem": "Debian:12", "name": src},
                                 "ranges": [{"type": "ECOSYSTEM",
                                             "events": [{"introduced": "0"}, {"fixed": f"0.{i}-1"}]}]}]}
    while n < RECORDS:
        n += 1
        yield {"schema_version": "1.6.0", "id": f"KGBENCH-{n:07d}", "modified": "2026-01-01T00:00:00Z",
               "published": "2026-01-01T00:00:00Z", "summary": "a record for another package",
               "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
               "affected": [{"package": {"ecosystem": "Debian:12", "name": f"kgbench-{n % 50000:05d}"},
                             "ranges": [{"type": "ECOSYSTEM",
                                         "events": [{"introduced": "0"}, {"fixed": f"1.{n % 97}-1"}]}]}]}


def image_sources(ref_oci):
    out = subprocess.run([KGUARD, "image", ref_oci, "-o", "json", "--no-lint"], check=True, capture_output=True,
                         text=True).stdout
    sources = {}
    for p in json.loads(out)["packages"]:
        if p.get("type") == "deb":
            sources[p.get("source") or p["name"]] = p["version"]
    return sources


def main():
    work = tempfile.mkdtemp(prefix="kguard-admit-vulns-bench-")
    state_dir = os.path.join(work, "registry")
    fixture = os.path.join(ROOT, "tests", "images", "registry_fixture.py")
    subprocess.run([sys.executable, fixture, "start", state_dir], check=True, stdout=subprocess.DEVNULL)
    hooks = []
    try:
        with open(os.path.join(state_dir, "state.json")) as f:
            state = json.load(f)
        host = state["host"]
        app_images = os.path.join(ROOT, "tests", "images", "build_app_images.sh")
        apps = subprocess.run([app_images, CORPORA], check=True, capture_output=True, text=True).stdout.strip()
        creds = f"{state['user']}:{state['password']}"
        for tag in ("alpine", "distroless"):
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", creds,
                            f"oci:{apps}/oci:{tag}", f"docker://{host}/bench/{tag}:1"], check=True)

        def digest_of(ref):
            raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds,
                                  f"docker://{ref}"], check=True, capture_output=True).stdout
            import hashlib
            return "sha256:" + hashlib.sha256(raw).hexdigest()

        images = {
            "debian": f"{host}/example/test:1.0", "debian-zstd": f"{host}/example/test:zstd",
            "alpine": f"{host}/bench/alpine:1", "distroless": f"{host}/bench/distroless:1",
        }
        pinned = {k: f"{v.rsplit(':', 1)[0]}@{digest_of(v)}" for k, v in images.items()}

        # The database: the gate's records plus generated ones, as one OSV all.zip.
        sources = image_sources(f"oci:{state['cache']}/oci:test")
        feed_dir = os.path.join(work, "feed")
        os.makedirs(feed_dir)
        zpath = os.path.join(feed_dir, "all.zip")
        t0 = time.time()
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:
            for r in vuln_feed.records():
                z.writestr(r["id"] + ".json", json.dumps(r))
            for r in generated_records(sources):
                z.writestr(r["id"] + ".json", json.dumps(r))
        log(f"feed: {RECORDS} generated records + {len(vuln_feed.records())} in {time.time() - t0:.1f}s")
        db = os.path.join(work, "vuln.db")
        t0 = time.time()
        subprocess.run([KGUARD, "db", "build", "--db", db, "--osv", zpath], check=True, capture_output=True)
        build_s = time.time() - t0
        db_bytes = os.path.getsize(db)
        log(f"db build: {build_s:.1f}s, {db_bytes / 1e6:.1f} MB")

        config = f"""admission:
  vulnerabilities:
    - name: bench
      registries: ["{host}/*"]
      failOn: high
      budget: 60s
"""
        registry_args = ["--registry-ca", state["ca"],
                         "--docker-config", vuln_feed.docker_config(state, os.path.join(work, "docker")),
                         "--vuln-db", db, "--no-image-cache"]  # cold means cold: no inventory from disk
        rows_warm, rows_cold = [], []

        # Warm: one admit, every image scanned once before the runs.
        warm = Webhook(KGUARD, os.path.join(work, "warm"), config, extra_args=[*registry_args, "--workers", "2"])
        hooks.append(warm)
        for ref in list(images.values()) + list(pinned.values()):
            warm.review(review_for(pod(ref)), timeout="30s")

        def admit_load(hook, ref, rate, seconds, expect):
            body = os.path.join(work, "body.json")
            with open(body, "w") as f:
                json.dump(review_for(pod(ref)), f)
            out = subprocess.run([LOAD, "--port", str(hook.port), "--ca", hook.ca_crt, "--body", body,
                                  "--rate", str(rate), "--duration", str(seconds), "--connections", "16",
                                  "--expect", expect, "--json"], capture_output=True, text=True)
            r = json.loads(out.stdout)
            if r["errors"]:
                raise SystemExit(f"admit_load errors on {ref}: {out.stderr}")
            return r

        for name, ref, expect in (("baseline: an image no policy covers (no gate)", "quay.io/other/app:1", '"allowed":true'),
                                  ("debian, pinned digest (deny)", pinned["debian"], '"allowed":false'),
                                  ("debian, tag within --tag-ttl (deny)", images["debian"], '"allowed":false'),
                                  ("alpine, tag within --tag-ttl (allow)", images["alpine"], '"allowed":true')):
            r = admit_load(warm, ref, WARM_RATE, WARM_SECONDS, expect)
            log("warm", name, r)
            rows_warm.append((name, f"{WARM_RATE}/s open loop, {WARM_SECONDS} s", r["ok"], r["p50_us"] / 1000,
                              r["p99_us"] / 1000, r["max_us"] / 1000))
        # A tag asked of the registry every time (--tag-ttl 0s): the resolution's round trips.
        fresh = Webhook(KGUARD, os.path.join(work, "fresh"), config,
                        extra_args=[*registry_args, "--tag-ttl", "0s"])
        hooks.append(fresh)
        fresh.review(review_for(pod(images["debian"])), timeout="30s")
        # One at a time: each request pays a resolution (ping + HEAD, each its own TLS
        # connection); an open-loop rate would measure the resolver threads' queue instead.
        conn = fresh.connection(timeout=60)
        seq = []
        for _ in range(100):
            t = time.perf_counter()
            fresh.review(review_for(pod(images["debian"])), conn=conn, timeout="30s")
            seq.append((time.perf_counter() - t) * 1000)
        conn.close()
        log("warm, tag resolved each time", f"p50 {pct(seq, 50):.1f} ms")
        rows_warm.append(("debian, tag resolved every request (--tag-ttl 0s)", "one at a time, 100 requests",
                          len(seq), pct(seq, 50), pct(seq, 99), max(seq)))

        # Cold: a cache of one entry, requests alternating between two digests.
        def cold(name, a, b, tags):
            hook = Webhook(KGUARD, os.path.join(work, "cold-" + name.split()[0]), config,
                           extra_args=[*registry_args, "--scan-cache-entries", "1",
                                       *(["--tag-ttl", "0s"] if tags else [])])
            hooks.append(hook)
            conn = hook.connection(timeout=120)
            client = []
            for i in range(COLD_N):
                ref = a if i % 2 == 0 else b
                t = time.perf_counter()
                hook.review(review_for(pod(ref)), conn=conn, timeout="30s")
                client.append((time.perf_counter() - t) * 1000)
            conn.close()
            recs = [x for x in hook.audit_records() if x.get("images")]
            server = [x["latencySeconds"] * 1000 for x in recs]
            scan = [x["images"][0]["scanMs"] for x in recs]
            assert all(x["images"][0]["cache"] == "scan" for x in recs), "every cold request must scan"
            log("cold", name, f"client p50 {pct(client, 50):.0f} ms")
            rows_cold.append((name, len(client), pct(client, 50), pct(client, 99), pct(server, 50), pct(server, 99),
                              pct(scan, 50)))
            hook.stop()

        cold("debian 12 (99 packages, gzip and zstd digests), pinned", pinned["debian"], pinned["debian-zstd"], False)
        cold("debian 12, tags resolved through the registry", images["debian"], images["debian-zstd"], True)
        cold("alpine 3.11 / distroless (small), pinned", pinned["alpine"], pinned["distroless"], False)

        write(rows_warm, rows_cold, build_s, db_bytes, len(sources))
    finally:
        for h in hooks:
            h.stop()
        subprocess.run([sys.executable, fixture, "stop", state_dir], check=False)
        subprocess.run(["rm", "-rf", work], check=False)


def pod(image):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": image}]}}


def write(rows_warm, rows_cold, build_s, db_bytes, n_sources):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    out = [
        "# Admission gate latency: vulnerability policy with a warm and a cold cache",
        "",
        f"`bench/run_admit_vulns_bench.py` at {commit}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, "
        f"load average at the end {os.getloadavg()[0]:.2f} (other work shares this machine).",
        "",
        f"Database: `kguard db build` from one OSV all.zip in the real schema, {RECORDS + 3:,} records "
        f"({RELATED} for each of the Debian image's {n_sources} source packages, evaluated on every match; the rest "
        f"other names), built in {build_s:.1f} s, {db_bytes / 1e6:.1f} MB. Policy: enforce, `failOn: high` for the "
        "loopback registry. The registry: Debian's docker-registry over TLS with htpasswd auth on loopback.",
        "",
        "## Warm cache (the image's scan result held by digest)",
        "",
        "kguard admit --workers 2; bench/admit_load, 16 TLS keep-alive connections, latency from the scheduled send.",
        "",
        "| request | load | answered | p50 ms | p99 ms | max ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, load, ok, p50, p99, mx in rows_warm:
        out.append(f"| {name} | {load} | {ok:,} | {p50:.2f} | {p99:.2f} | {mx:.2f} |")
    out += [
        "",
        "## Cold cache (every request scans on the miss)",
        "",
        f"`--scan-cache-entries 1`, requests alternating between two digests, one at a time on one connection "
        f"({COLD_N} each). Client: round trip; server: the audit log's review time; scan: reading the image through "
        "the registry and matching it (the audit log's scanMs).",
        "",
        "| images | requests | client p50 ms | client p99 ms | server p50 ms | server p99 ms | scan p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, c50, c99, s50, s99, scan in rows_cold:
        out.append(f"| {name} | {n} | {c50:.0f} | {c99:.0f} | {s50:.0f} | {s99:.0f} | {scan:.0f} |")
    out += [
        "",
        "What it says: a cache hit costs what the rest of the review costs (the digest is held for the tag's TTL, "
        "or read off a pinned reference); asking the registry for the tag's digest each time adds its round trips; "
        "a miss is dominated by reading the image's layers (decompress and walk), which is why the gate answers "
        "from the digest cache, scans each digest once however many requests wait for it, and bounds a request's "
        "wait by the policy's `budget` (then fails closed, the scan going on for the retry).",
        "",
    ]
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write("\n".join(out))
    log("wrote", RESULTS)


if __name__ == "__main__":
    main()
