#!/usr/bin/env python3
"""Encryption at rest on a real kube-apiserver and etcd (cluster.py) with `kguard kms serve`
as its KMS v2 plugin, the key-encryption key (KEK) in SoftHSM through PKCS#11 only:

 1. SoftHSM token in a private SOFTHSM2_CONF; `kguard kms init` makes KEK v1 in the token
    (pkcs11-tool shows it sensitive and never extractable); the plugin serves before the API
    server starts; the EncryptionConfiguration names it (kms apiVersion v2) for Secrets.
 2. Secrets are created; etcd is read directly (etcdctl of the same build): every Secret value
    starts with `k8s:enc:kms:v2:kguard:`, carries v1's key_id, and no plaintext value is
    anywhere in etcd.
 3. `kguard kms rotate`: the API server picks up the new key_id from Status (polled), new writes
    carry it; `kubectl get secrets -A -o json | kubectl replace -f -` rewrites every Secret, and
    then every Secret in etcd carries the new key_id; `kguard kms retire 1` refuses while the
    old version may still be needed.
 4. The API server restarts (its DEK cache is gone): every Secret reads back identical;
    `kguard kms retire 1 --since <restart>` is then accepted.
 5. The plugin stops: the API server reports the provider unhealthy (/healthz/kms-providers,
    and /livez, which is why a liveness probe must exclude kms-providers) while reads keep
    working from its cache; the plugin returns: healthy again, new writes work, nothing lost.
 6. kguard's encryption rules against the harness' own API server: a kubeadm-style static Pod
    manifest written from the real argv, the same Pod in kube-system read by `scan --cluster`,
    and the real EncryptionConfiguration file; known-bad variants fire the right rules.

Contract C4: cluster_options(work) and main(cluster=None).

Usage: kms_e2e.py KGUARD SOURCE_DIR
"""
import base64
import json
import os
import secrets as pysecrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log, yaml  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "kguard"
NS = "kms-e2e"
PROVIDER = "kguard"
PIN = "4711"
TOKEN = "kguard-kms-e2e"
KEK = "kek"
SOFTHSM_MODULES = ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                   "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"]
# The kguard rules this suite asserts on (rules/security/...).
FLAG_RULES = ["apiserver-encryption-provider-config", "apiserver-encryption-automatic-reload",
              "apiserver-encryption-liveness-probe"]
CONFIG_RULES = ["encryption-secrets-not-covered", "encryption-identity-first", "encryption-identity-fallback",
                "encryption-key-in-config", "encryption-weak-provider", "encryption-kms-v1", "encryption-kms-timeout"]


class Kms:
    """The SoftHSM token, the plugin's state and socket, and the plugin process."""

    def __init__(self, work):
        self.work = os.path.abspath(work)
        self.dir = os.path.join(self.work, "kms")
        self.module = next((m for m in SOFTHSM_MODULES if os.path.exists(m)), None)
        if not self.module:
            raise RuntimeError("SoftHSM2 (libsofthsm2.so) is not installed: scripts/install-deps.sh")
        self.conf = os.path.join(self.dir, "softhsm2.conf")
        self.state = os.path.join(self.dir, "state")
        self.audit = os.path.join(self.dir, "audit.jsonl")
        self.socket = os.path.join(self.dir, "kms.sock")
        self.config = os.path.join(self.dir, "encryption-config.yaml")
        self.pin_file = os.path.join(self.dir, "pin")
        self.backend = f"pkcs11:token={TOKEN};object={KEK}?module-path={self.module}&pin-source=file:{self.pin_file}"
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        self.proc = None
        self.cluster = None

    def prepare(self):
        tokens = os.path.join(self.dir, "tokens")
        os.makedirs(tokens, exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
        with open(self.pin_file, "w") as f:
            f.write(PIN + "\n")
        os.chmod(self.pin_file, 0o600)
        run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", PIN + "0"],
            env=self.env)
        self.kguard("kms", "init")
        with open(self.config, "w") as f:
            f.write(encryption_config(self.socket))

    def kguard(self, *args, check=True):
        argv = [KGUARD, *args, "--state", self.state]
        if args[1] in ("init", "rotate", "retire"):
            argv += ["--audit-log", self.audit]
        if args[1] in ("init", "rotate"):
            argv += ["--backend", self.backend]
        return run(argv, env=self.env, check=check)

    def status(self):
        return json.loads(self.kguard("kms", "status", "-o", "json").stdout)

    def start(self):
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        logf = open(os.path.join(self.dir, "serve.log"), "ab")
        self.proc = subprocess.Popen([KGUARD, "kms", "serve", "--socket", self.socket, "--backend", self.backend,
                                      "--state", self.state, "--audit-log", self.audit],
                                     stdout=logf, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.time() + 30
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"kguard kms serve did not come up; see {self.dir}/serve.log")
            time.sleep(0.1)
        if self.cluster is not None:  # the cluster stops it with everything else
            self.cluster.procs.append(("kguard-kms", self.proc))

    def stop(self):
        if self.proc is None:
            return
        if self.cluster is not None:
            self.cluster.procs = [(n, p) for n, p in self.cluster.procs if p is not self.proc]
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


def encryption_config(socket):
    return f"""apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - kms:
          apiVersion: v2
          name: {PROVIDER}
          endpoint: unix://{socket}
          timeout: 3s
"""


def run(argv, env=None, check=True, input=None):
    r = subprocess.run(argv, env=env, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({r.returncode}): {r.stderr.strip()}")
    return r


def cluster_options(work):
    """Cluster kwargs (contract C4): the plugin starts before kube-apiserver, which is pointed at it."""
    kms = Kms(work)

    def before(cluster):
        kms.cluster = cluster
        cluster.kms = kms
        kms.prepare()
        kms.start()

    return {"apiserver_args": [f"--encryption-provider-config={kms.config}"], "before_apiserver": before,
            "binaries": ["etcdctl"]}


# ---- etcd, read directly --------------------------------------------------
def etcd_values(cluster, prefix):
    out = run([os.path.join(cluster.bin, "etcdctl"), f"--endpoints={cluster.etcd_endpoint}", "get", "--prefix",
               prefix, "-w", "json"], env=dict(os.environ, ETCDCTL_API="3")).stdout
    kvs = json.loads(out).get("kvs") or []
    return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")) for kv in kvs}


def read_varint(b, i):
    shift = value = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def encrypted_object(value):
    """(providerName, keyID, encryptedDEKSourceType) of a KMS v2 etcd value, or None when it is not one.
    k8s:enc:kms:v2:<provider>:<EncryptedObject protobuf> (kmsv2/v2/api.proto: encryptedData=1,
    keyID=2, encryptedDEKSource=3, annotations=4, encryptedDEKSourceType=5)."""
    prefix = b"k8s:enc:kms:v2:"
    if not value.startswith(prefix):
        return None
    rest = value[len(prefix):]
    colon = rest.index(b":")
    provider, body = rest[:colon].decode(), rest[colon + 1:]
    key_id, source_type, i = None, 0, 0
    while i < len(body):
        tag, i = read_varint(body, i)
        field, wire = tag >> 3, tag & 7
        if wire == 2:
            n, i = read_varint(body, i)
            if field == 2:
                key_id = body[i:i + n].decode()
            i += n
        elif wire == 0:
            v, i = read_varint(body, i)
            if field == 5:
                source_type = v
        else:
            raise ValueError(f"unexpected wire type {wire} in EncryptedObject")
    return provider, key_id, source_type


# ---- the API server's health endpoints ------------------------------------
def health(cluster, path):
    ctx = ssl.create_default_context(cafile=cluster.ca)
    ctx.load_cert_chain(cluster.admin_cert, cluster.admin_key)
    try:
        with urllib.request.urlopen(cluster.server + path, context=ctx, timeout=10) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def wait(cond, what, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(2)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


# ---- the flow -------------------------------------------------------------
class Run:
    def __init__(self, cluster, kms):
        self.c = cluster
        self.kms = kms
        self.failures = []
        self.data = {}  # name -> {key: bytes}

    def check(self, ok, what):
        log(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)
        return ok

    def secret_doc(self, name, data):
        return json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS},
                           "type": "Opaque",
                           "data": {k: base64.b64encode(v).decode() for k, v in data.items()}})

    def create(self, name, data, tries=1):
        for i in range(tries):  # right after an outage the API server may still refuse writes briefly
            r = subprocess.run([os.path.join(self.c.bin, "kubectl"), "--kubeconfig", self.c.admin_kubeconfig,
                                "create", "-f", "-"], input=self.secret_doc(name, data), capture_output=True, text=True)
            if r.returncode == 0:
                break
            if i + 1 == tries:
                raise RuntimeError(f"kubectl create secret {name} failed: {r.stderr.strip()}")
            log(f"create {name}: {r.stderr.strip()[:160]}; retrying")
            time.sleep(5)
        self.data[name] = data

    def read_back(self, what):
        got = json.loads(self.c.kubectl("get", "secrets", "-n", NS, "-o", "json"))["items"]
        by_name = {s["metadata"]["name"]: {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
                   for s in got}
        bad = [n for n, d in self.data.items() if by_name.get(n) != d]
        return self.check(not bad, f"{what}: all {len(self.data)} Secrets read back identical"
                                   + (f" (differ: {bad[:5]})" if bad else ""))

    def etcd_secrets(self, key_id, what, whole=False):
        prefix = "/registry/secrets/" if whole else f"/registry/secrets/{NS}/"
        values = etcd_values(self.c, prefix)
        wrong = {}
        for k, v in values.items():
            eo = encrypted_object(v)
            if eo is None or eo[0] != PROVIDER or eo[1] != key_id:
                wrong[k] = eo if eo else v[:24]
        self.check(values and not wrong,
                   f"{what}: {len(values)} Secrets in etcd under {prefix} are k8s:enc:kms:v2:{PROVIDER}: "
                   f"with key_id {key_id}" + (f" (not: {dict(list(wrong.items())[:3])})" if wrong else ""))
        return values

    def no_plaintext(self, what):
        everything = etcd_values(self.c, "/")
        leaks = []
        for name, data in self.data.items():
            for v in data.values():
                needle = v[:48]
                if len(needle) >= 16 and any(needle in val or base64.b64encode(needle)[:40] in val
                                             for val in everything.values()):
                    leaks.append(name)
        self.check(not leaks, f"{what}: no Secret value in plaintext (or base64) anywhere in etcd "
                              f"({len(everything)} keys)" + (f"; leaked: {leaks}" if leaks else ""))

    def flow(self):
        c, kms = self.c, self.kms
        c.kubectl("create", "namespace", NS)
        out = run(["pkcs11-tool", "--module", kms.module, "--login", "--pin", PIN, "--token-label", TOKEN,
                   "--list-objects", "--type", "secrkey"], env=kms.env, check=False)
        self.check(out.returncode == 0 and "AES length 32" in out.stdout and f"label:      {KEK}-v1" in out.stdout
                   and "never extractable" in out.stdout
                   and "sensitive" in out.stdout,
                   "the KEK is an AES key in the SoftHSM token, sensitive and never extractable")
        st = kms.status()
        v1 = next(v for v in st["versions"] if v["current"])["key_id"]

        # 2. Secrets, encrypted in etcd.
        for i in range(20):
            self.create(f"s{i:02d}", {"password": pysecrets.token_hex(24).encode(),
                                       "note": f"kms-e2e plaintext marker {pysecrets.token_hex(12)}".encode()})
        self.create("big", {"blob": os.urandom(256 * 1024), "text": ("kms-e2e " * 4096).encode()})
        self.create("binary", {"k": bytes(range(256)) * 4})
        self.read_back("after create")
        self.etcd_secrets(v1, "after create")
        self.no_plaintext("after create")
        # The same search finds what is not encrypted: a ConfigMap's value is in etcd as written.
        marker = f"kms-e2e-configmap-{pysecrets.token_hex(12)}"
        c.kubectl("create", "configmap", "plain", "-n", NS, f"--from-literal=v={marker}")
        self.check(any(marker.encode() in v for v in etcd_values(c, "/").values()),
                   "control: a ConfigMap value (not encrypted) is found in etcd by the same search")

        # 3. Rotation without restart, migration.
        kms.kguard("kms", "rotate")
        st = kms.status()
        v2 = next(v for v in st["versions"] if v["current"])["key_id"]
        self.check(v2 != v1 and st["current"] == 2, f"kguard kms rotate: version 2 current, key_id {v2}")
        n = [0]

        def canary_has_new_key():
            n[0] += 1
            c.kubectl("create", "secret", "generic", f"canary-{n[0]}", "-n", NS, f"--from-literal=n={n[0]}")
            self.data[f"canary-{n[0]}"] = {"n": str(n[0]).encode()}
            v = etcd_values(c, f"/registry/secrets/{NS}/canary-{n[0]}")
            eo = encrypted_object(next(iter(v.values()))) if v else None
            return eo is not None and eo[1] == v2
        started = time.time()
        wait(canary_has_new_key, "the API server to write with the rotated KEK (Status is polled)", 240)
        self.check(True, f"the API server writes with key_id {v2} {time.time() - started:.0f}s after rotate, "
                         "no restart")
        everything = c.kubectl("get", "secrets", "-A", "-o", "json")
        c.kubectl("replace", "-f", "-", input=everything)
        self.etcd_secrets(v2, "after kubectl replace of every Secret", whole=True)
        self.no_plaintext("after migration")
        refused = kms.kguard("kms", "retire", "1", check=False)
        self.check(refused.returncode != 0, "kguard kms retire 1 refuses while version 1 may still be needed: "
                                            + refused.stderr.strip()[:160])

        # 4. Restart: the DEK cache is gone, every Secret is decrypted again.
        restart = datetime.now(timezone.utc).replace(microsecond=0)
        time.sleep(1)
        c.restart_apiserver()
        self.read_back("after kube-apiserver restart")
        time.sleep(2)
        retire = kms.kguard("kms", "retire", "1", "--since", restart.strftime("%Y-%m-%dT%H:%M:%SZ"), check=False)
        self.check(retire.returncode == 0, "kguard kms retire 1 --since <restart> accepted after migration "
                                           "and restart" + (": " + retire.stderr.strip() if retire.returncode else ""))
        self.read_back("after retiring version 1")

        # 5. The plugin goes away, then comes back.
        self.check(health(c, "/healthz/kms-providers")[0] == 200, "/healthz/kms-providers ok with the plugin up")
        kms.stop()
        started = time.time()
        wait(lambda: health(c, "/healthz/kms-providers")[0] != 200,
             "/healthz/kms-providers to report the stopped plugin", 180)
        code, body = health(c, "/healthz/kms-providers")
        self.check(code != 200, f"plugin stopped: /healthz/kms-providers says {code} after "
                                f"{time.time() - started:.0f}s ({body.strip()[:120]})")
        verbose = health(c, "/healthz?verbose")[1]
        failing = [l[3:].split(" ")[0] for l in verbose.splitlines() if l.startswith("[-]")]
        self.check(failing and all(n.startswith("kms-provider") for n in failing),
                   f"plugin stopped: the failing /healthz checks are the KMS ones: {failing}")
        excluded = "/healthz?" + "&".join(f"exclude={n}" for n in failing)
        self.check(health(c, excluded)[0] == 200, f"plugin stopped: {excluded} is ok")
        self.check(health(c, "/readyz")[0] != 200, "plugin stopped: /readyz fails (no traffic to a server that "
                                                   "cannot encrypt)")
        # Since Kubernetes 1.29 (kubernetes/kubernetes#120583) /livez leaves KMS out: a liveness probe
        # on /livez no longer restarts the API server for a plugin outage; one on /healthz does.
        self.check(health(c, "/livez")[0] == 200, "plugin stopped: /livez stays ok (no KMS check in /livez "
                                                  "since 1.29), so apiserver-encryption-liveness-probe judges "
                                                  "/livez by release")
        self.read_back("plugin stopped (reads served from the DEK cache)")
        kms.start()
        wait(lambda: health(c, "/healthz/kms-providers")[0] == 200, "/healthz/kms-providers to recover", 180)
        self.check(True, "plugin back: /healthz/kms-providers ok")
        self.create("after-outage", {"v": pysecrets.token_hex(16).encode()}, tries=12)
        self.read_back("plugin back")
        self.etcd_secrets(v2, "plugin back", whole=True)
        self.no_plaintext("at the end")

        # 6. kguard's encryption rules against this API server.
        self.rules()

    # ---- the rules against the harness' real flags ------------------------
    def apiserver_argv(self):
        proc = next(p for n, p in self.c.procs if n == "kube-apiserver")
        return list(proc.args)

    def static_pod(self, argv, probe_path="/livez", name="kube-apiserver", namespace="kube-system"):
        port = next(a.split("=", 1)[1] for a in argv if a.startswith("--secure-port="))
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace,
                             "labels": {"component": "kube-apiserver", "tier": "control-plane"}},
                "spec": {"hostNetwork": True, "priorityClassName": "system-node-critical",
                         "containers": [{
                             "name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.37.2",
                             "command": ["kube-apiserver", *argv[1:]],
                             "livenessProbe": {"httpGet": {"host": "127.0.0.1", "path": probe_path,
                                                           "port": int(port), "scheme": "HTTPS"},
                                               "initialDelaySeconds": 10, "periodSeconds": 10,
                                               "timeoutSeconds": 15, "failureThreshold": 8},
                             "readinessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/readyz",
                                                            "port": int(port), "scheme": "HTTPS"}}}]}}

    def scan(self, paths_or_cluster, rules):
        argv = [KGUARD, "scan", "--no-config", "-q", "-o", "json", "--only", ",".join(rules), *paths_or_cluster]
        r = run(argv, check=False)
        if r.returncode not in (0, 1):
            raise RuntimeError(f"kguard scan failed ({r.returncode}): {r.stderr.strip()}")
        report = json.loads(r.stdout)
        return report, {(f["rule"], f.get("name", "")) for f in report.get("findings", [])
                        if f.get("result", "fail") == "fail"}

    def expect(self, what, fired, expected, rules, name=None):
        got = {r for r, n in fired if r in rules and (name is None or n == name)}
        self.check(got == set(expected), f"{what}: fires {sorted(got)}, expected {sorted(expected)}")

    def rules(self):
        argv = self.apiserver_argv()
        d = os.path.join(self.kms.dir, "rules")
        os.makedirs(d, exist_ok=True)

        def write(name, doc):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
            return path

        # The harness as a kubeadm control plane would run it: /livez probe, no automatic reload.
        real = write("kube-apiserver.yaml", self.static_pod(argv))
        _, fired = self.scan([real], FLAG_RULES)
        self.expect("static Pod from the harness' real argv (v1.37, /livez)", fired,
                    ["apiserver-encryption-automatic-reload"], FLAG_RULES)
        healthz = write("kube-apiserver-healthz.yaml", self.static_pod(argv, "/healthz"))
        _, fired = self.scan([healthz], FLAG_RULES)
        self.expect("the same with a liveness probe on /healthz", fired,
                    ["apiserver-encryption-automatic-reload", "apiserver-encryption-liveness-probe"], FLAG_RULES)
        tuned = write("kube-apiserver-tuned.yaml", self.static_pod(
            argv + ["--encryption-provider-config-automatic-reload=true"], "/healthz?exclude=kms-providers"))
        _, fired = self.scan([tuned], FLAG_RULES)
        self.expect("real argv + automatic reload + /healthz?exclude=kms-providers", fired, [], FLAG_RULES)
        plain = write("kube-apiserver-plain.yaml", self.static_pod(
            [a for a in argv if not a.startswith("--encryption-provider-config")]))
        _, fired = self.scan([plain], FLAG_RULES)
        self.expect("real argv without --encryption-provider-config", fired,
                    ["apiserver-encryption-provider-config"], FLAG_RULES)

        # The same Pod in a live cluster's kube-system (no kubelet here: it stays Pending).
        live = self.static_pod(argv, "/healthz", name="kube-apiserver-kms-e2e")
        live["spec"].update(nodeName="kms-e2e-no-such-node", serviceAccountName="kms-e2e",
                            automountServiceAccountToken=False)
        # No service-account controller here: the admission plugin wants the ServiceAccount to exist.
        self.c.kubectl("create", "serviceaccount", "kms-e2e", "-n", "kube-system")
        self.c.kubectl("apply", "-f", "-", input=json.dumps(live))
        try:
            kubeconfig = self.c.admin_kubeconfig
            _, fired = self.scan(["--cluster", "--kubeconfig", kubeconfig, "--namespace", "kube-system"], FLAG_RULES)
            self.expect("scan --cluster: the kube-apiserver Pod in kube-system", fired,
                        ["apiserver-encryption-automatic-reload", "apiserver-encryption-liveness-probe"],
                        FLAG_RULES, name="kube-apiserver-kms-e2e")
        finally:
            self.c.kubectl("delete", "pod", "-n", "kube-system", "kube-apiserver-kms-e2e", "--ignore-not-found",
                           "--grace-period=0", "--force", check=False)
            self.c.kubectl("delete", "serviceaccount", "-n", "kube-system", "kms-e2e", "--ignore-not-found",
                           check=False)

        # The EncryptionConfiguration the API server really runs with, and known-bad variants.
        _, fired = self.scan([self.kms.config], CONFIG_RULES)
        self.expect("the harness' EncryptionConfiguration", fired, [], CONFIG_RULES)
        with open(self.kms.config) as f:
            cfg = yaml.safe_load(f)
        bad = json.loads(json.dumps(cfg))
        kms_provider = bad["resources"][0]["providers"][0]
        bad["resources"][0]["providers"] = [{"identity": {}},
                                            {"aescbc": {"keys": [{"name": "k1", "secret": base64.b64encode(
                                                os.urandom(32)).decode()}]}},
                                            {"kms": {k: v for k, v in kms_provider["kms"].items()
                                                     if k not in ("apiVersion", "timeout")}}]
        _, fired = self.scan([write("encryption-bad.yaml", bad)], CONFIG_RULES)
        self.expect("identity first, an aescbc key, KMS v1 without timeout", fired,
                    ["encryption-identity-first", "encryption-key-in-config", "encryption-kms-v1",
                     "encryption-kms-timeout"], CONFIG_RULES)
        other = json.loads(json.dumps(cfg))
        other["resources"][0]["resources"] = ["configmaps"]
        _, fired = self.scan([write("encryption-configmaps.yaml", other)], CONFIG_RULES)
        self.expect("only configmaps encrypted", fired, ["encryption-secrets-not-covered"], CONFIG_RULES)


def main(cluster=None):
    if cluster is None:
        with tempfile.TemporaryDirectory(prefix="kguard-kms-e2e-") as work:
            with Cluster(os.path.join(work, "cluster"), audit=False, **cluster_options(work)) as c:
                return main(c)
    kms = getattr(cluster, "kms", None)
    if kms is None:
        raise RuntimeError("kms_e2e needs a Cluster built with kms_e2e.cluster_options(work)")
    r = Run(cluster, kms)
    try:
        r.flow()
    except Exception as e:  # a step that cannot go on: report it with what failed before
        r.check(False, f"{type(e).__name__}: {e}")
    finally:
        cluster.kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false", check=False)
        if kms.proc is None:  # left stopped by a failure: others on this control plane need it
            try:
                kms.start()
            except Exception as e:  # noqa: BLE001
                log(f"could not restart the plugin: {e}")
    if r.failures:
        log(f"kms_e2e: {len(r.failures)} failed:\n  " + "\n  ".join(r.failures))
        return 1
    log("kms_e2e: all checks passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    if not shutil.which("softhsm2-util"):
        log("softhsm2-util missing: scripts/install-deps.sh installs softhsm2 and opensc")
        sys.exit(1)
    sys.exit(main())
