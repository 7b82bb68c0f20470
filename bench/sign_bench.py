#!/usr/bin/env python3
"""Signing and verification benchmark (issue 16, item 7), driven by bench/run_sign_bench.sh.
Writes bench/results/signing.md.

Everything runs against real parts: the Debian docker-registry on loopback with TLS (a test CA) and
htpasswd auth, started as the signing tests start it (tests/sign/sign_support.py); SoftHSM2 for the
PKCS#11 key; the real cosign built from the Go module proxy (tests/sign/build_cosign.sh, cached).

(a) verification latency per image:
    - `kguard verify` and `cosign verify` of the same images, cold (a new process each time: tag
      resolution skipped with a pinned digest, the signature manifest / referrers read, the key
      checked), legacy .sig and bundle v0.3 (the registry has no referrers API: tag fallback);
    - `kguard admit` with an `admission.signatures` policy, AdmissionReviews posted over TLS by
      bench/admit_load: cache hits at 1,000 and 5,000 requests/s and at saturation, against the same
      webhook with no signature policy in the same run; cache misses (--signature-ttl 0s: every
      request verifies through the registry) one at a time and closed-loop over distinct images.
(b) signing throughput: bench/sign_throughput (the engine's Signer::sign in a loop: ECDSA P-256 and
    Ed25519 key files, SoftHSM2 over PKCS#11) and whole `kguard sign` / `cosign sign` processes over
    N fresh images each round.
(c) peak RSS of every process measured (wait4's ru_maxrss; VmHWM of the webhook).

The machine is shared: each figure is the best (or the median of per-image bests) of ROUNDS rounds,
CPU time is shown beside wall time, and the load average is recorded at each section.

usage: sign_bench.py KGUARD ADMIT_LOAD SIGN_THROUGHPUT COSIGN
environment: N (images per round, 10), ROUNDS (3), SECONDS (admit_load runs, 10), MISS_N (60),
             RESULTS (bench/results/signing.md)
"""
import json
import re
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(ROOT, "tests", "sign"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import sign_support as S  # noqa: E402
from admit_support import Webhook, restricted_pod, review_for  # noqa: E402

KGUARD, LOAD, THROUGHPUT, COSIGN = (os.path.abspath(a) for a in sys.argv[1:5])
N = int(os.environ.get("N", "10"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS", "10"))
MISS_N = int(os.environ.get("MISS_N", "60"))
RESULTS = os.environ.get("RESULTS", os.path.join(BENCH, "results", "signing.md"))
PASSWORD = "bench-password"
COSIGN_PKCS11 = open(os.path.join(os.path.dirname(COSIGN), "pkcs11")).read().strip() == "yes" \
    if os.path.exists(os.path.join(os.path.dirname(COSIGN), "pkcs11")) else False


def log(*a):
    print("sign-bench:", *a, file=sys.stderr, flush=True)


def loadavg():
    return "%.2f %.2f %.2f" % os.getloadavg()


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Run:
    def __init__(self, code, wall, cpu, rss_mib, out, err):
        self.code, self.wall, self.cpu, self.rss_mib, self.out, self.err = code, wall, cpu, rss_mib, out, err


def timed(cmd, env, timeout=300):
    """One process: exit code, wall s, CPU s (user + system of that process), peak RSS MiB."""
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        t = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        o.seek(0)
        e.seek(0)
        return Run(p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024,
                   o.read().decode(errors="replace"), e.read().decode(errors="replace"))


def proc_cpu(pid):
    """user + system seconds of a running process (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (p.stdout + p.stderr).strip()
    except OSError as e:
        return str(e)


class Bench:
    def __init__(self):
        self.reg = S.Registry()
        self.hsm = S.SoftHsm()
        self.work = tempfile.mkdtemp(prefix="kguard-sign-bench-")
        self.hooks = []
        self.seed = 0
        self.tag_of = {}  # pinned reference -> the same image by tag
        self.sections = {}
        with open(self.path("trusted_root.json"), "w") as f:
            # cosign requires a trusted root for bundles; a key needs no authority in it.
            f.write('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')
        for prefix, alg in (("ec", "ecdsa-p256"), ("ed", "ed25519")):
            r = timed([KGUARD, "keygen", "--output-key-prefix", self.path(prefix), "--algorithm", alg], self.env())
            assert r.code == 0, r.err
        with open(self.path("hsm.pub"), "w") as f:
            f.write(self.hsm.public_pem())

    def path(self, name):
        return os.path.join(self.work, name)

    def env(self):
        e = self.hsm.env(self.reg.env())
        e["COSIGN_PASSWORD"] = PASSWORD
        e["HOME"] = self.work  # cosign's TUF cache and config stay here
        return e

    def reg_flags(self):
        return ["--registry-ca", self.reg.ca, "--docker-config", self.reg.docker_config + "/config.json"]

    def fresh_images(self, repo, n):
        """n distinct unsigned images in repo, as pinned references."""
        out = []
        for _ in range(n):
            self.seed += 1
            digest = self.reg.push_image(repo, f"i{self.seed}", f"bench-{self.seed}")
            out.append(f"{self.reg.host}/{repo}@{digest}")
            self.tag_of[out[-1]] = f"{self.reg.host}/{repo}:i{self.seed}"
        return out

    def registry_cpu(self):
        """user + system seconds of the registry processes so far (the TLS + htpasswd one serves every run)."""
        return sum(proc_cpu(p.pid) for p in self.reg.procs if p.poll() is None)

    def stop(self):
        for h in self.hooks:
            h.stop()
        self.reg.stop()
        self.hsm.stop()
        subprocess.run(["rm", "-rf", self.work], check=False)

    # ---- (b) signing ----
    def sign_cmd(self, tool, key, fmt, image):
        if tool == "kguard":
            return [KGUARD, "sign", "--key", key, *self.reg_flags(), "--format", fmt, image]
        extra = ["--new-bundle-format"] if fmt == "bundle" else []
        return [COSIGN, "sign", "--key", key, "--tlog-upload=false", "-y", *extra, image]

    def keys(self):
        """(label, signing key, verifying key) of each key kind."""
        return [("ECDSA P-256 key file", self.path("ec.key"), self.path("ec.pub")),
                ("Ed25519 key file", self.path("ed.key"), self.path("ed.pub")),
                ("PKCS#11 (SoftHSM2, ECDSA P-256)", self.hsm.uri(), self.hsm.uri(pin=False))]

    def signing(self):
        load0 = loadavg()
        r = subprocess.run([THROUGHPUT, "--key-file", self.path("ec.key"), "--key-file", self.path("ed.key"),
                            "--pkcs11", self.hsm.uri(), "--seconds", "2", "--rounds", str(ROUNDS)],
                           capture_output=True, text=True, env=self.env(), check=True)
        loop = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
        for row, (label, _, _) in zip(loop, self.keys()):
            row["label"] = label
        log("in-process", loop)
        rows = []
        self.signed = {}  # (tool, key label, format) -> the images of round 0
        for tool in ("kguard", "cosign"):
            for label, key, _ in self.keys():
                for fmt in ("legacy", "bundle"):
                    if tool == "cosign" and label.startswith("PKCS#11") and not COSIGN_PKCS11:
                        rows.append((tool, label, fmt, None, "cosign was built without PKCS#11"))
                        continue
                    best = None
                    note = ""
                    for rnd in range(ROUNDS):
                        repo = f"bench/{tool}-{label.split()[0].lower().replace('#', '')}-{fmt}-r{rnd}"
                        images = self.fresh_images(repo, N)
                        runs = []
                        reg0 = self.registry_cpu()
                        for img in images:
                            x = timed(self.sign_cmd(tool, key, fmt, img), self.env())
                            if x.code != 0:
                                note = x.err.strip().splitlines()[-1] if x.err.strip() else f"exit {x.code}"
                                break
                            runs.append(x)
                        if note:
                            break
                        total = sum(x.wall for x in runs)
                        if best is None or total < best["wall"]:
                            best = {"wall": total, "cpu": sum(x.cpu for x in runs), "rss": max(x.rss_mib for x in runs),
                                    "registry_cpu": self.registry_cpu() - reg0,
                                    "per_image": [x.wall for x in runs]}
                        if rnd == 0:
                            self.signed[(tool, label, fmt)] = images
                    log("sign", tool, label, fmt, best and f"{best['wall']:.2f}s for {N}", note)
                    rows.append((tool, label, fmt, best, note))
        self.sections["signing"] = {"loop": loop, "rows": rows, "load": (load0, loadavg())}

    # ---- (a) kguard verify / cosign verify, cold ----
    def verify_cmd(self, tool, key, fmt, image):
        if tool == "kguard":
            return [KGUARD, "verify", "--key", key, *self.reg_flags(), "--format", fmt, image]
        extra = ["--trusted-root", self.path("trusted_root.json")] if fmt == "bundle" else []
        if key == self.hsm.uri(pin=False):
            key = self.hsm.uri()  # cosign logs in to the token even to read its public key
        return [COSIGN, "verify", "--key", key, "--insecure-ignore-tlog", *extra, image]

    def verifying(self):
        load0 = loadavg()
        rows = []
        for label, _, pub in self.keys():
            for fmt in ("legacy", "bundle"):
                for signer in ("kguard", "cosign"):
                    images = self.signed.get((signer, label, fmt))
                    if not images:
                        continue
                    for tool in ("kguard", "cosign"):
                        if tool == "cosign" and label.startswith("PKCS#11") and not COSIGN_PKCS11:
                            continue
                        best = {}  # image -> best Run
                        failed = ""
                        reg0 = self.registry_cpu()
                        for _ in range(ROUNDS):
                            for img in images:
                                x = timed(self.verify_cmd(tool, pub, fmt, img), self.env())
                                if x.code != 0:
                                    failed = (x.err.strip().splitlines() or [f"exit {x.code}"])[-1]
                                    break
                                if img not in best or x.wall < best[img].wall:
                                    best[img] = x
                            if failed:
                                break
                        if failed:
                            rows.append((label, fmt, signer, tool, None, failed))
                            log("verify", label, fmt, signer, tool, "FAILED", failed)
                            continue
                        reg_ms = (self.registry_cpu() - reg0) * 1000 / (ROUNDS * len(images))
                        walls = [x.wall for x in best.values()]
                        cpus = [x.cpu for x in best.values()]
                        rows.append((label, fmt, signer, tool,
                                     {"p50": statistics.median(walls), "max": max(walls),
                                      "cpu": statistics.median(cpus), "rss": max(x.rss_mib for x in best.values()),
                                      "registry_cpu_ms": reg_ms}, ""))
                        log("verify", label, fmt, signer, tool, f"{statistics.median(walls) * 1000:.0f} ms")
        self.sections["verify"] = {"rows": rows, "load": (load0, loadavg())}

    # ---- (a) admission ----
    def webhook(self, name, config, extra=()):
        h = Webhook(KGUARD, self.path(name), config_text=config,
                    extra_args=["--workers", "2", *self.reg_flags(), *extra])
        self.hooks.append(h)
        return h

    def body(self, image, name):
        p = self.path(f"review-{name}.json")
        with open(p, "w") as f:
            json.dump(review_for(restricted_pod(name="bench", namespace="shop", image=image)), f)
        return p

    def load(self, hook, bodies, rate, connections, seconds=None):
        cpu0 = proc_cpu(hook.proc.pid)
        out = subprocess.run([LOAD, "--port", str(hook.port), "--ca", hook.ca_crt, *sum((["--body", b] for b in bodies), []),
                              "--rate", str(rate), "--duration", str(seconds or SECONDS), "--connections",
                              str(connections), "--expect", '"allowed":true', "--json"], capture_output=True, text=True)
        cpu = proc_cpu(hook.proc.pid) - cpu0
        r = json.loads(out.stdout)
        r["server_cpu_us"] = cpu * 1e6 / max(r["ok"], 1)
        r["load"] = os.getloadavg()[0]
        if r["errors"]:
            log("admit_load errors:", out.stderr.strip())
        return r

    def admission(self):
        load0 = loadavg()
        legacy = self.signed[("kguard", "ECDSA P-256 key file", "legacy")]
        bundle = self.signed[("kguard", "ECDSA P-256 key file", "bundle")]
        tag_image = self.tag_of[legacy[0]]
        policy = f"""admission:
  signatures:
    - name: release
      registries: ["{self.reg.host}/*"]
      keys: ["{self.path('ec.pub')}"]
"""
        base = self.webhook("baseline", "admission: {}\n")
        hit = self.webhook("hit", policy)
        for img in legacy + bundle + [tag_image]:
            resp = hit.review(review_for(restricted_pod(name="bench", namespace="shop", image=img)), timeout="30s")
            assert resp["allowed"], resp
        assert all(r["signatures"][0]["outcome"] == "verified" for r in hit.audit_records() if r.get("signatures"))
        pinned_body = self.body(legacy[0], "pinned")
        tag_body = self.body(tag_image, "tag")
        hit_rows = []
        for rate, conns, label in ((1000, 32, "1,000 req/s"), (5000, 64, "5,000 req/s"), (0, 32, "saturation")):
            for name, hook, body in (("no signature policy (baseline)", base, pinned_body),
                                     ("signature gate, pinned digest, cache hit", hit, pinned_body),
                                     ("signature gate, tag within --tag-ttl, cache hit", hit, tag_body)):
                r = self.load(hook, [body], rate, conns)
                log("hit", label, name, r)
                hit_rows.append((label, name, conns, r))
        cached = sum(1 for r in hit.audit_records() if r.get("signatures") and r["signatures"][0]["cache"] == "hit")
        hwm = {"baseline": proc_hwm_mib(base.proc.pid), "hit": proc_hwm_mib(hit.proc.pid)}

        # Misses: nothing cached, every request verifies through the registry.
        miss = self.webhook("miss", policy, ["--signature-ttl", "0s", "--unsigned-ttl", "0s"])
        miss_tag = self.webhook("misstag", policy, ["--signature-ttl", "0s", "--unsigned-ttl", "0s", "--tag-ttl", "0s"])
        seq_rows = []
        for name, hook, images in (("legacy .sig, pinned digest", miss, legacy),
                                   ("bundle v0.3 (tag fallback), pinned digest", miss, bundle),
                                   ("legacy .sig, tag resolved every request", miss_tag,
                                    [self.tag_of[x] for x in legacy])):
            before = len(hook.audit_records())
            reg0 = self.registry_cpu()
            conn = hook.connection(timeout=60)
            client = []
            for i in range(MISS_N):
                img = images[i % len(images)]
                t = time.perf_counter()
                resp = hook.review(review_for(restricted_pod(name="bench", namespace="shop", image=img)), conn=conn,
                                   timeout="30s")
                client.append((time.perf_counter() - t) * 1000)
                assert resp["allowed"], resp
            conn.close()
            recs = [r for r in hook.audit_records()[before:] if r.get("signatures")]
            assert all(r["signatures"][0]["cache"] == "verify" for r in recs), "every miss must verify"
            server = [r["latencySeconds"] * 1000 for r in recs]
            verify = [r["signatures"][0]["verifyMs"] for r in recs]
            reg_ms = (self.registry_cpu() - reg0) * 1000 / len(client)
            seq_rows.append((name, len(client), client, server, verify, reg_ms, os.getloadavg()[0]))
            log("miss", name, f"p50 {pct(client, 50):.1f} ms")
        bodies = [self.body(img, f"miss{i}") for i, img in enumerate(legacy)]
        closed = []
        for conns in (1, 4):
            r = self.load(miss, bodies, 0, conns)
            log("miss closed loop", conns, r)
            closed.append((conns, r))
        hwm["miss"] = proc_hwm_mib(miss.proc.pid)
        self.sections["admission"] = {"hit": hit_rows, "cached": cached, "seq": seq_rows, "closed": closed, "hwm": hwm,
                                      "load": (load0, loadavg())}


def short_reason(text):
    """The failure without the pinned reference kguard names it with."""
    return re.sub(r"^kguard verify: \S+@sha256:[0-9a-f]{64}: ", "kguard: ", re.sub(r"^error during command execution: ", "cosign: ", text))[:140]


def fmt_ms(s):
    return f"{s * 1000:.0f}"


def summary(b):
    """What the tables say, with this run's figures (the same lines go to PERFORMANCE.md's peers)."""
    v = {(r[0], r[1], r[2], r[3]): r[4] for r in b.sections["verify"]["rows"]}
    ec = "ECDSA P-256 key file"
    lines = ["## What it says", ""]
    for fmt in ("legacy", "bundle"):
        k, c = v.get((ec, fmt, "kguard", "kguard")), v.get((ec, fmt, "kguard", "cosign"))
        if k and c:
            lines.append(f"- Cold verification, {fmt}, ECDSA P-256: kguard verify {k['p50'] * 1000:.0f} ms "
                         f"({k['cpu'] * 1000:.0f} ms CPU, {k['rss']:.0f} MiB) against cosign verify "
                         f"{c['p50'] * 1000:.0f} ms ({c['cpu'] * 1000:.0f} ms CPU, {c['rss']:.0f} MiB): "
                         f"{c['p50'] / k['p50']:.1f}x the wall time, {c['cpu'] / k['cpu']:.1f}x the CPU. The registry "
                         f"spent {k['registry_cpu_ms']:.0f} ms of CPU per kguard verification (TLS handshakes, an "
                         "htpasswd bcrypt check per request).")
    failed = [r for r in b.sections["verify"]["rows"] if r[4] is None]
    if any(r[2] == "cosign" and r[0].startswith("Ed25519") for r in failed):
        lines.append("- cosign v2.6.5 signs with an Ed25519 key file without an error, but what it writes verifies in "
                     "neither cosign verify nor kguard verify with the matching public key, in both formats; the "
                     "Ed25519 signatures kguard writes verify in both tools (the rows above).")
    a = b.sections["admission"]
    hit = {(r[0], r[1]): r[3] for r in a["hit"]}
    base, gate = hit.get(("5,000 req/s", "no signature policy (baseline)")), \
        hit.get(("5,000 req/s", "signature gate, pinned digest, cache hit"))
    sat_b, sat_g = hit.get(("saturation", "no signature policy (baseline)")), \
        hit.get(("saturation", "signature gate, pinned digest, cache hit"))
    if base and gate and sat_b and sat_g:
        lines.append(f"- Admission, cache hit: at 5,000 req/s p50 {gate['p50_us']:.0f} µs against {base['p50_us']:.0f} µs "
                     f"without the gate, p99 {gate['p99_us'] / 1000:.1f} ms against {base['p99_us'] / 1000:.1f} ms (the "
                     f"load average was {gate['load']:.0f} on 2 cores: the tails are the machine's); at saturation "
                     f"{sat_g['throughput_rps']:,.0f} against {sat_b['throughput_rps']:,.0f} req/s, "
                     f"{sat_g['server_cpu_us']:.0f} against {sat_b['server_cpu_us']:.0f} µs of server CPU per request. "
                     "A perf profile of a hit run puts the gate's own code (policy selection, the digest-keyed "
                     "verdict lookup) under 1% of the webhook's samples; the difference is the audit record, which "
                     "carries the signature entry (about 610 bytes against 290) and is written per decision.")
    seq = {r[0]: r for r in a["seq"]}
    leg = seq.get("legacy .sig, pinned digest")
    if leg:
        closed = dict(a["closed"])
        lines.append(f"- Admission, cache miss: {pct(leg[2], 50):.0f} ms p50 per image ({pct(leg[4], 50):.0f} ms in "
                     f"verification), of which the registry spends {leg[5]:.0f} ms of CPU; closed loop, "
                     + ", ".join(f"{c} connection(s) {r['throughput_rps']:.0f} req/s" for c, r in closed.items())
                     + ". A miss is bound by the registry's round trips and, on this machine, by the registry's "
                     "CPU, which is why verdicts are held by digest (`--signature-ttl`) and a request waits at most "
                     "the policy's `budget`.")
    loop = {r["label"]: r for r in b.sections["signing"]["loop"]}
    rows = {(r[0], r[1], r[2]): r[3] for r in b.sections["signing"]["rows"]}
    e, d, h = loop.get(ec), loop.get("Ed25519 key file"), loop.get("PKCS#11 (SoftHSM2, ECDSA P-256)")
    if e and d and h:
        lines.append(f"- Signing in process: {e['sign_per_s']:,.0f} ECDSA P-256, {d['sign_per_s']:,.0f} Ed25519 and "
                     f"{h['sign_per_s']:,.0f} SoftHSM2 signatures per wall second on one thread of the loaded "
                     f"machine; per CPU second, which the load disturbs less, {1e6 / e['sign_cpu_us']:,.0f}, "
                     f"{1e6 / d['sign_cpu_us']:,.0f} and {1e6 / h['sign_cpu_us']:,.0f}.")
    kf, cf = rows.get(("kguard", ec, "legacy")), rows.get(("cosign", ec, "legacy"))
    kp, cp = rows.get(("kguard", "PKCS#11 (SoftHSM2, ECDSA P-256)", "legacy")), \
        rows.get(("cosign", "PKCS#11 (SoftHSM2, ECDSA P-256)", "legacy"))
    if kf and cf:
        lines.append(f"- Whole `sign` runs with a key file cost {kf['cpu'] * 1000 / N:.0f} ms CPU per image in kguard and "
                     f"{cf['cpu'] * 1000 / N:.0f} ms in cosign, nearly all of it scrypt (N=2^16, 64 MiB: the key file "
                     f"format's deliberate cost, {e['load_cpu_ms']:.0f} ms in process); peak RSS {kf['rss']:.0f} against "
                     f"{cf['rss']:.0f} MiB." if e else "")
    if kp and cp:
        lines.append(f"- With the key in SoftHSM2: {kp['cpu'] * 1000 / N:.0f} ms CPU per image in kguard against "
                     f"{cp['cpu'] * 1000 / N:.0f} ms in cosign, {kp['rss']:.0f} against {cp['rss']:.0f} MiB; the wall "
                     "time is the registry's (pushing the signature: blob uploads and a manifest PUT).")
    return lines[:2] + [x for x in lines[2:] if x]


def write(b, started):
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    cosign_v = next((line.split(":", 1)[1].strip() for line in version([COSIGN, "version"]).splitlines()
                     if line.startswith("GitVersion")), "?")
    reg_v = version(["docker-registry", "--version"]).split("\n")[0]
    hsm_v = version(["softhsm2-util", "--version"]).split("\n")[0]
    out = [
        "# Signing and verification: kguard against cosign, and the admission signature gate",
        "",
        f"`bench/run_sign_bench.sh` at {commit}, {started} – {time.strftime('%H:%M UTC', time.gmtime())}; "
        f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; shared with other work: the "
        "load average (1/5/15 min) is given for each section.",
        "",
        f"Registry: Debian `docker-registry` ({reg_v}) on loopback, TLS with a test CA and htpasswd basic auth "
        "(tests/sign/sign_support.py); it has no referrers API, so bundles go through the referrers tag fallback "
        f"(`sha256-<hex>` index) on both tools. cosign {cosign_v} built from the Go module proxy by "
        f"tests/sign/build_cosign.sh (PKCS#11 support: {'yes' if COSIGN_PKCS11 else 'no'}), run with "
        "`--tlog-upload=false` / `--insecure-ignore-tlog` (and `--trusted-root` of an empty trusted root for "
        f"bundles). SoftHSM2 {hsm_v}. Key files: `kguard keygen` (cosign's format, scrypt N=2^16); both tools "
        "sign with the same key files and verify with the same public keys.",
        "",
    ]
    # ---- verification ----
    v = b.sections["verify"]
    out += [
        "## Verification of one image, cold (a new process per image)",
        "",
        f"`kguard verify --key PUB --format F IMAGE@DIGEST` and `cosign verify --key PUB IMAGE@DIGEST` over the "
        f"same {N} images, each signed once by the tool in the *signed by* column; {ROUNDS} rounds, each image's "
        "best round kept; wall p50 is the median over the images of that best, CPU the median user+system time "
        "of the process, RSS the largest peak. Every run had to exit 0 (a valid signature found). Load average "
        f"{v['load'][0]} at the start, {v['load'][1]} at the end.",
        "",
        "| key | format | signed by | verifier | wall p50 ms | wall max ms | CPU ms | registry CPU ms | peak RSS MiB |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for label, fmt, signer, tool, r, failed in v["rows"]:
        if r is None:
            out.append(f"| {label} | {fmt} | {signer} | {tool} | failed ({short_reason(failed)}) | | | | |")
        else:
            out.append(f"| {label} | {fmt} | {signer} | {tool} | {fmt_ms(r['p50'])} | {fmt_ms(r['max'])} | "
                       f"{fmt_ms(r['cpu'])} | {r['registry_cpu_ms']:.0f} | {r['rss']:.1f} |")
    # ---- admission ----
    a = b.sections["admission"]
    out += [
        "",
        "## Admission: `kguard admit` with an `admission.signatures` policy",
        "",
        "AdmissionReviews of a Pod (PSS restricted, so every answer is `allowed: true`) posted over TLS with "
        "keep-alive by bench/admit_load (open loop: latency from the scheduled send; rate 0 = closed loop, "
        f"saturation), {SECONDS} s per row, kguard admit `--workers 2`, the generator on the same 2 cores. The "
        "baseline is a second webhook in the same run with the same config minus the signature policy; the "
        "signature policy names one ECDSA P-256 public key for the loopback registry. Server CPU is the "
        "webhook's user+system time over the row divided by the requests answered. Load average "
        f"{a['load'][0]} at the start, {a['load'][1]} at the end. bench/results/admit.md has the webhook alone "
        "measured on a quiet machine (load average under 2); the figures to compare these rows with are the "
        "baseline rows of the same run, under the same load.",
        "",
        "### Cache hits (verdict held by digest, `--signature-ttl` 5m)",
        "",
        "| load | request | conns | answered | errors | req/s | p50 µs | p95 µs | p99 µs | p99.9 µs | server CPU µs/req | load avg |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, conns, r in a["hit"]:
        out.append(f"| {label} | {name} | {conns} | {r['ok']:,} | {r['errors']} | {r['throughput_rps']:,.0f} | "
                   f"{r['p50_us']:,.0f} | {r['p95_us']:,.0f} | {r['p99_us']:,.0f} | {r['p999_us']:,.0f} | "
                   f"{r['server_cpu_us']:.0f} | {r['load']:.1f} |")
    out += [
        "",
        f"The hit webhook's audit log holds {a['cached']:,} decisions answered from the cache.",
        "",
        "### Cache misses (`--signature-ttl 0s --unsigned-ttl 0s`: every request verifies through the registry)",
        "",
        f"One request at a time on one connection, cycling over {N} distinct signed images ({MISS_N} requests per "
        "row). Client: the round trip; server: the audit log's review time; verify: the audit log's `verifyMs` "
        "(reading the image manifest, the signatures and checking them). Every decision in these rows was "
        "checked in the audit log to be a miss (`cache: verify`).",
        "",
        "| images | requests | client p50 ms | client p95 ms | client p99 ms | server p50 ms | server p99 ms | verify p50 ms | registry CPU ms/req | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n, client, server, verify, reg_ms, la in a["seq"]:
        out.append(f"| {name} | {n} | {pct(client, 50):.1f} | {pct(client, 95):.1f} | {pct(client, 99):.1f} | "
                   f"{pct(server, 50):.1f} | {pct(server, 99):.1f} | {pct(verify, 50):.1f} | {reg_ms:.1f} | {la:.1f} |")
    out += [
        "",
        f"Closed loop over the same {N} legacy-signed images (misses; a request may share a verification of the "
        "same digest already in flight):",
        "",
        "| conns | answered | errors | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for conns, r in a["closed"]:
        out.append(f"| {conns} | {r['ok']:,} | {r['errors']} | {r['throughput_rps']:,.1f} | {r['p50_us'] / 1000:.1f} | "
                   f"{r['p95_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['server_cpu_us'] / 1000:.2f} | "
                   f"{r['load']:.1f} |")
    out += [
        "",
        f"Webhook peak RSS (VmHWM): baseline {a['hwm']['baseline']:.1f} MiB, signature gate with hits "
        f"{a['hwm']['hit']:.1f} MiB, with misses {a['hwm']['miss']:.1f} MiB.",
        "",
    ]
    # ---- signing ----
    s = b.sections["signing"]
    out += [
        "## Signing throughput",
        "",
        f"In process (bench/sign_throughput): the engine's `Signer::sign` over the {s['loop'][0]['payload_bytes']}-byte "
        "simple-signing payload `kguard sign` signs, in a loop for 2 s, best of "
        f"{ROUNDS} rounds; then `PublicKey::verify` the same way. CPU µs per operation is the process's "
        "user+system time (SoftHSM2 runs inside the process). Key load: reading the key (scrypt for a key file, "
        f"C_Initialize + login + find for the token). Load average {s['load'][0]} at the start.",
        "",
        "| key | signatures/s | CPU µs/signature | verifications/s | CPU µs/verification | key load ms (CPU ms) | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in s["loop"]:
        out.append(f"| {r['label']} | {r['sign_per_s']:,.0f} | {r['sign_cpu_us']:.1f} | {r['verify_per_s']:,.0f} | "
                   f"{r['verify_cpu_us']:.1f} | {r['load_ms']:.0f} ({r['load_cpu_ms']:.0f}) | {r['peak_rss_kib'] / 1024:.1f} |")
    out += [
        "",
        f"Whole processes: `kguard sign --key K --format F IMAGE@DIGEST` and `cosign sign --key K [--new-bundle-format] "
        f"IMAGE@DIGEST`, one process per image, over {N} fresh unsigned images per round ({ROUNDS} rounds, best "
        "round kept). Each process decrypts the key file (scrypt) or opens the token, reads the image manifest and "
        f"writes the signature to the registry. Load average {s['load'][0]} at the start, {s['load'][1]} at the end.",
        "",
        "| signer | key | format | images/s | wall ms/image | CPU ms/image | registry CPU ms/image | peak RSS MiB |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for tool, label, fmt, best, note in s["rows"]:
        if best is None:
            out.append(f"| {tool} | {label} | {fmt} | not measured ({short_reason(note)}) | | | | |")
        else:
            out.append(f"| {tool} | {label} | {fmt} | {N / best['wall']:.2f} | {best['wall'] * 1000 / N:.0f} | "
                       f"{best['cpu'] * 1000 / N:.0f} | {best['registry_cpu'] * 1000 / N:.0f} | {best['rss']:.1f} |")
    out += ["", *summary(b), ""]
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write("\n".join(out))
    log("wrote", RESULTS)


def main():
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    b = Bench()
    try:
        b.signing()
        b.verifying()
        b.admission()
        write(b, started)
    finally:
        b.stop()


if __name__ == "__main__":
    main()
