#!/usr/bin/env python3
"""kguard admit against a real kube-apiserver (see cluster.py).

kguard runs on loopback, reads namespace labels through a watch of the API
server (--namespace-labels api), and is registered as the webhook with
deploy/gen-certs.sh --url. Then, through the real kubectl:

 - Pods are admitted, denied (with kguard's rule ids and fixes) and warned
   exactly as the namespace labels say, for PSS labels and a kguard profile;
 - a Deployment whose pods would be refused is admitted with warnings;
 - a namespace label change reaches kguard through the watch;
 - the API server is restarted: kguard reconnects and keeps following labels;
 - the API server's own PodSecurity plugin is disabled, so kguard alone
   enforces the PSS labels;
 - kguard's audit log holds each decision, and the API server's audit log
   holds kguard's audit annotations;
 - with the image registry fixture (REGISTRY_STATE_DIR …): the vulnerability
   gate on the same control plane — a Pod running the vulnerable Debian image
   from the loopback registry is denied (ids, digest, policy in kubectl's
   error), a clean one admitted, an ignored vulnerability admitted with a
   warning, namespaces chosen by a label selector over the watched labels;
   and the signature gate: an image signed by kguard is admitted, an unsigned
   one, one signed by another key and one whose tag was moved to an unsigned
   digest are denied (digest and reason in kubectl's error), each in the
   audit log;
 - the whole pipeline: a second docker-registry over the fixture's storage
   notifies a running `kguard registry-hook` (--state-dir); skopeo pushes the
   clean Alpine image and the vulnerable Debian image to it; the hook scans
   both, signs and attests (SBOM + scan) the clean one with its key and
   rejects the other; a Pod of each, in a namespace whose signature policy
   requires the hook's key and the vuln (maxSeverity: high) and CycloneDX
   attestations, is admitted / denied by the real API server through kguard
   admit; the hook's signing record and kguard's audit log hold each step.

Usage: admit_e2e.py KGUARD SOURCE_DIR [REGISTRY_STATE_DIR APP_IMAGES_SCRIPT CORPORA]
"""
import contextlib
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, free_port, log, yaml  # noqa: E402
from e2e_support import wait_until  # noqa: E402

KGUARD, SOURCE = sys.argv[1:3]
# The vulnerability gate's part needs the loopback registry (ctest fixture image_registry).
GATE = sys.argv[3:6] if len(sys.argv) >= 6 else None
if GATE:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    import vuln_feed  # noqa: E402
    with open(os.path.join(GATE[0], "state.json")) as _f:
        REGISTRY = json.load(_f)
    VULNERABLE = f"{REGISTRY['host']}/example/test:1.0"
    CLEAN = f"{REGISTRY['host']}/example/clean:3.11"

SIGNED = {}  # the signature gate's images: name -> manifest digest

CONFIG = """
admission:
  profiles:
    images: {rules: [image-tag-not-pinned]}
"""


def push_small_image(repo, tag, seed):
    """A one-layer image with bytes from `seed` pushed to the fixture registry; its manifest digest."""
    import base64
    import hashlib
    auth = "Basic " + base64.b64encode(f"{REGISTRY['user']}:{REGISTRY['password']}".encode()).decode()
    ctx = ssl.create_default_context(cafile=REGISTRY["ca"])

    def call(method, path, body=b"", headers=None):
        url = path if path.startswith("https://") else f"https://{REGISTRY['host']}{path}"
        req = urllib.request.Request(url, data=body, method=method, headers={"Authorization": auth, **(headers or {})})
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return dict(r.headers)

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        loc = call("POST", f"/v2/{repo}/blobs/uploads/")["Location"]
        call("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + digest, data,
             {"Content-Type": "application/octet-stream"})
        return digest
    layer = f"layer {seed}\n".encode() * 8
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": blob(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": blob(layer), "size": len(layer)}]}).encode()
    call("PUT", f"/v2/{repo}/manifests/{tag}", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


class Pipeline:
    """The push -> scan -> sign + attest half of the chain: a docker-registry with `notifications:` over
    the fixture's storage (TLS with the fixture's certificate, htpasswd) and `kguard registry-hook`
    (its certificate from the fixture's CA, which the registry trusts through SSL_CERT_FILE)."""

    def __init__(self, work, docker_cfg, db, env):
        self.dir = os.path.join(work, "pipeline")
        os.makedirs(self.dir)
        fixture = GATE[0]
        d = self.dir
        subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-keyout", f"{d}/hook.key", "-out", f"{d}/hook.csr"], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", f"{d}/hook.csr", "-CA", f"{fixture}/ca.crt", "-CAkey",
                        f"{fixture}/ca.key", "-CAcreateserial", "-CAserial", f"{d}/ca.srl", "-days", "2",
                        "-extfile", f"{fixture}/san.ext", "-out", f"{d}/hook.crt"], check=True, capture_output=True)
        with open(f"{d}/policy.yaml", "w") as f:
            f.write("failOn: high\n")
        self.hook_port, self.port = free_port(), free_port()
        self.host = f"127.0.0.1:{self.port}"
        # The hook reads and writes through the notifying registry: its credentials join the config.
        with open(docker_cfg) as f:
            cfg = json.load(f)
        cfg["auths"][self.host] = cfg["auths"][REGISTRY["host"]]
        with open(docker_cfg, "w") as f:
            json.dump(cfg, f)
        self.procs = []
        self.hook_out = open(f"{d}/hook.out", "w")
        self.hook_err = open(f"{d}/hook.err", "w")
        self.procs.append(subprocess.Popen(
            [KGUARD, "registry-hook", "--listen", f"127.0.0.1:{self.hook_port}", "--tls-cert", f"{d}/hook.crt",
             "--tls-key", f"{d}/hook.key", "--key", os.path.join(work, "sig", "pipeline.key"),
             "--config", f"{d}/policy.yaml", "--vuln-db", db, "--registry-ca", REGISTRY["ca"],
             "--docker-config", docker_cfg, "--state-dir", f"{d}/state"],
            stdout=self.hook_out, stderr=self.hook_err, env=env, start_new_session=True))
        with open(f"{d}/registry.yml", "w") as f:
            f.write(f"""version: 0.1
log: {{level: warn}}
storage: {{filesystem: {{rootdirectory: {REGISTRY['data']}}}}}
http: {{addr: "{self.host}", tls: {{certificate: {fixture}/server.crt, key: {fixture}/server.key}}}}
auth: {{htpasswd: {{realm: kguard-test, path: {fixture}/htpasswd}}}}
notifications:
  endpoints:
    - name: kguard-hook
      url: https://127.0.0.1:{self.hook_port}/events
      timeout: 5s
      threshold: 3
      backoff: 1s
""")
        self.reg_log = open(f"{d}/registry.log", "w")
        self.procs.append(subprocess.Popen(["docker-registry", "serve", f"{d}/registry.yml"], stdout=self.reg_log,
                                           stderr=subprocess.STDOUT, env=dict(os.environ, SSL_CERT_FILE=REGISTRY["ca"]),
                                           start_new_session=True))
        ctx = ssl.create_default_context(cafile=REGISTRY["ca"])
        for url in (f"https://127.0.0.1:{self.hook_port}/healthz", f"https://{self.host}/v2/"):
            def up(u=url):
                try:
                    urllib.request.urlopen(u, context=ctx, timeout=2)
                    return True
                except urllib.error.HTTPError:
                    return True  # the registry's 401: it is up
                except OSError:
                    return False
            wait_until(url, up, 30)

    def push(self, src, repo_tag):
        """skopeo copy to the notifying registry; the manifest digest."""
        import hashlib
        creds = f"{REGISTRY['user']}:{REGISTRY['password']}"
        ref = f"docker://{self.host}/{repo_tag}"
        subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", "--dest-creds", creds, src, ref], check=True)
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", creds, ref], check=True,
                             capture_output=True).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def records(self):
        path = os.path.join(self.dir, "state", "records.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.startswith("{")]

    def decision(self, digest, timeout=300):
        found = []
        wait_until("the hook's decision on " + digest,
                   lambda: found.extend(r for r in self.records() if r["digest"] == digest) or bool(found), timeout)
        return found[0]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
        for f in (self.hook_out, self.hook_err, self.reg_log):
            f.close()


def pod(name, ns, privileged=False, image="registry.example.com/app:1.0@sha256:" + "a" * 64, restricted=True):
    container = {"name": "app", "image": image}
    spec = {"containers": [container]}
    if restricted:
        spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        container["securityContext"] = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    if privileged:
        container["securityContext"] = {"privileged": True}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def apply(c, obj):
    """kubectl create: (ok, stderr)."""
    r = subprocess.run([os.path.join(c.bin, "kubectl"), "--kubeconfig", c.admin_kubeconfig, "create", "-f", "-"],
                       input=json.dumps(obj), capture_output=True, text=True)
    return r.returncode == 0, r.stderr


# kguard is the only Pod Security enforcer here: the built-in plugin would refuse the same pods
# first (same semantics, other message).
NO_POD_SECURITY = "--disable-admission-plugins=PodSecurity"
NAMESPACES = ["strict", "base", "images", "open", "vulns", "vulns-ok", "sigs", "pipeline"]


def cluster_options(work):
    """Contract C4: the API server without its PodSecurity admission plugin."""
    return {"apiserver_args": [NO_POD_SECURITY]}


def main(cluster=None):
    """Runs on `cluster` when given (built with cluster_options; the webhook configuration and the
    namespaces are deleted at the end, also on failure), else starts one."""
    work = tempfile.mkdtemp(prefix="kguard-admit-e2e-")
    hook_yaml = os.path.join(work, "kg", "webhook.yaml")
    kguard = None
    pipeline = None
    failures = []
    checks = [0]

    def check(cond, msg):
        checks[0] += 1
        if not cond:
            failures.append(msg)
            log("FAIL:", msg)

    try:
        with (contextlib.nullcontext(cluster) if cluster else
              Cluster(os.path.join(work, "cluster"), **cluster_options(work))) as c:
            restart_apiserver = c.restart_apiserver
            if NO_POD_SECURITY not in next(p for n, p in c.procs if n == "kube-apiserver").args:
                raise RuntimeError(f"admit_e2e needs a kube-apiserver started with {NO_POD_SECURITY}")
            port = free_port()
            certs = os.path.join(work, "kg")
            subprocess.run([os.path.join(SOURCE, "deploy", "gen-certs.sh"), "--out", certs, "--url",
                            f"https://127.0.0.1:{port}/validate"], check=True, capture_output=True)
            cfg = os.path.join(work, "kguard.yaml")
            gate_args = []
            config = CONFIG
            if GATE:
                # Namespaces labelled vuln-gate=enforce|accepted (through the watch) get the gate.
                config += f"""  vulnerabilities:
    - name: accepted
      namespaceSelector: {{matchLabels: {{vuln-gate: accepted}}}}
      failOn: critical
      ignores:
        - {{id: {vuln_feed.OPENSSL}, reason: "not reachable here (SEC-42)"}}
      budget: 15s
    - name: loopback
      registries: ["{REGISTRY['host']}/*"]
      namespaceSelector: {{matchLabels: {{vuln-gate: enforce}}}}
      failOn: high
      budget: 15s
"""
                # The signature gate (docs/signing.md "Admission"): namespaces labelled sig-gate=enforce
                # run only images under signed/ signed by release.pub (relative to the config file).
                config += f"""  signatures:
    - name: signed-only
      registries: ["{REGISTRY['host']}/signed/*"]
      namespaceSelector: {{matchLabels: {{sig-gate: enforce}}}}
      keys: [sig/release.pub]
      budget: 15s
"""
                # The pipeline's policy: only what the registry hook signed with its key, with a scan
                # (no vulnerability above high, younger than a day) and an SBOM attested by it.
                pipeline_policy = """    - name: pipeline
      namespaceSelector: {matchLabels: {sig-gate: pipeline}}
      keys: [sig/pipeline.pub]
      attestations:
        - {type: vuln, maxSeverity: high, maxAge: 1d}
        - cyclonedx
      budget: 15s
"""
                config += pipeline_policy
                vuln_feed.push_clean(REGISTRY, GATE[1], GATE[2], CLEAN)
                docker_cfg = vuln_feed.docker_config(REGISTRY, os.path.join(work, "docker"))
                sig_env = dict(os.environ, COSIGN_PASSWORD="e2e-password")
                os.makedirs(os.path.join(work, "sig"), exist_ok=True)
                for name in ("release", "other", "pipeline"):
                    subprocess.run([KGUARD, "keygen", "--output-key-prefix", os.path.join(work, "sig", name)],
                                   check=True, capture_output=True, env=sig_env)

                def kg_sign(key, image):
                    subprocess.run([KGUARD, "sign", "--key", os.path.join(work, "sig", key + ".key"),
                                    "--registry-ca", REGISTRY["ca"], "--docker-config", docker_cfg, image],
                                   check=True, capture_output=True, env=sig_env)
                host = REGISTRY["host"]
                SIGNED["signed"] = push_small_image("signed/app", "v1", "e2e-signed")
                kg_sign("release", f"{host}/signed/app:v1")
                SIGNED["unsigned"] = push_small_image("signed/unsigned", "v1", "e2e-unsigned")
                SIGNED["wrong"] = push_small_image("signed/wrong", "v1", "e2e-wrong")
                kg_sign("other", f"{host}/signed/wrong:v1")
                SIGNED["moved-a"] = push_small_image("signed/moved", "v1", "e2e-moved-a")
                kg_sign("release", f"{host}/signed/moved:v1")
                db = vuln_feed.build_db(KGUARD, os.path.join(work, "vulndb"))
                # Push -> scan -> sign + attest, before kguard admit starts: the hook's own run.
                pipeline = Pipeline(work, docker_cfg, db, sig_env)
                apps = subprocess.run([GATE[1], GATE[2]], check=True, capture_output=True, text=True).stdout.strip()
                SIGNED["pipeline-clean"] = pipeline.push(f"oci:{apps}/oci:alpine", "pipeline/clean:1")
                SIGNED["pipeline-vulnerable"] = pipeline.push(f"oci:{REGISTRY['cache']}/oci:test", "pipeline/vulnerable:1")
                gate_args = ["--vuln-db", db,
                             "--image-cache", os.path.join(work, "image-cache"),
                             # Tags asked every time: the moved tag below is seen at once.
                             "--tag-ttl", "0s",
                             "--registry-ca", REGISTRY["ca"],
                             "--docker-config", docker_cfg]
            with open(cfg, "w") as f:
                f.write(config)
            audit = os.path.join(work, "audit.jsonl")
            logf = open(os.path.join(work, "kguard.log"), "w")
            kguard = subprocess.Popen([KGUARD, "admit", "--listen", f"127.0.0.1:{port}",
                                       "--tls-cert", os.path.join(certs, "tls.crt"),
                                       "--tls-key", os.path.join(certs, "tls.key"), "--config", cfg,
                                       "--audit-log", audit, "--namespace-labels", "api",
                                       "--kubeconfig", c.admin_kubeconfig, "--resync", "5s", *gate_args],
                                      stdout=subprocess.DEVNULL, stderr=logf)
            ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.crt"))

            def ready():
                try:
                    with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=ctx, timeout=2) as r:
                        return r.status == 200
                except Exception:
                    return False

            wait_until("kguard ready (namespaces synced)", ready, 60)
            for ns, labels in [("strict", {"pod-security.kubernetes.io/enforce": "restricted"}),
                               ("base", {"pod-security.kubernetes.io/enforce": "baseline",
                                         "pod-security.kubernetes.io/warn": "restricted"}),
                               ("images", {"kguard.io/enforce": "images"}),
                               ("open", {})] + ([("vulns", {"vuln-gate": "enforce"}),
                                                 ("vulns-ok", {"vuln-gate": "accepted"}),
                                                 ("sigs", {"sig-gate": "enforce"}),
                                                 ("pipeline", {"sig-gate": "pipeline"})] if GATE else []):
                c.kubectl("create", "namespace", ns)
                # No controller-manager here: make the ServiceAccount it would.
                c.kubectl("create", "serviceaccount", "default", "-n", ns)
                if labels:
                    c.kubectl("label", "namespace", ns, *[f"{k}={v}" for k, v in labels.items()])
            if GATE:
                # A cold scan (read the image through the registry, match it) takes seconds on this
                # machine: the Pod webhook's API-server timeout is raised so the budget decides.
                with open(hook_yaml) as f:
                    text = f.read()
                with open(hook_yaml, "w") as f:
                    f.write(text.replace("timeoutSeconds: 5", "timeoutSeconds: 20"))
            c.kubectl("apply", "-f", hook_yaml)
            time.sleep(2)  # webhook configuration and namespace events propagate

            ok, err = apply(c, pod("good", "strict"))
            check(ok, "restricted pod in strict admitted: " + err)
            ok, err = apply(c, pod("bad", "strict", privileged=True))
            check(not ok and 'admission webhook "pods.kguard.io" denied the request' in err
                  and "pss-privileged (" in err and "fix: " in err,
                  "privileged pod in strict denied by kguard with rule and fix: " + err)
            ok, err = apply(c, pod("plain", "base", restricted=False))
            check(ok and "[restricted:latest] pss-" in err, "baseline pod in base warned: " + err)
            ok, err = apply(c, pod("tagged", "images", image="nginx:latest"))
            check(not ok and 'violates kguard profile "images"' in err and "image-tag-not-pinned" in err,
                  "kguard profile denies a :latest image: " + err)
            ok, err = apply(c, pod("tagged2", "open", image="nginx:latest", privileged=True))
            check(ok, "unlabelled namespace admits anything: " + err)
            dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "strict"},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                            "template": {"metadata": {"labels": {"app": "web"}},
                                         "spec": pod("x", "strict", privileged=True)["spec"]}}}
            ok, err = apply(c, dep)
            check(ok and "pss-privileged" in err, "Deployment admitted with warnings (PSA split): " + err)

            if GATE:
                # The vulnerability gate, through kubectl and the API server's webhook call.
                ok, err = apply(c, pod("vuln", "vulns", image=VULNERABLE, restricted=False))
                check(not ok and 'admission webhook "pods.kguard.io" denied the request' in err
                      and vuln_feed.OPENSSL in err and vuln_feed.GZIP in err
                      and REGISTRY["skopeo_digest"]["1.0"] in err
                      and 'vulnerability policy "loopback" (failOn: high)' in err
                      and "fixed in " + vuln_feed.OPENSSL_FIXED in err,
                      "vulnerable image denied with ids, digest, fix and policy: " + err)
                ok, err = apply(c, pod("clean", "vulns", image=CLEAN, restricted=False))
                check(ok and "Warning" not in err, "clean image admitted: " + err)
                ok, err = apply(c, pod("accepted", "vulns-ok", image=VULNERABLE, restricted=False))
                check(ok and vuln_feed.OPENSSL in err and "ignored: not reachable here (SEC-42)" in err,
                      "ignored vulnerability admitted with a warning: " + err)
                ok, err = apply(c, pod("elsewhere", "open", image=VULNERABLE, restricted=False))
                check(ok, "a namespace the selectors do not pick is not gated: " + err)

                # The signature gate, through kubectl and the API server's webhook call.
                host = REGISTRY["host"]
                ok, err = apply(c, pod("signed", "sigs", image=f"{host}/signed/app:v1", restricted=False))
                check(ok, "signed image admitted: " + err)
                ok, err = apply(c, pod("unsigned", "sigs", image=f"{host}/signed/unsigned:v1", restricted=False))
                check(not ok and 'admission webhook "pods.kguard.io" denied the request' in err
                      and SIGNED["unsigned"] in err and 'signature policy "signed-only"' in err
                      and "no cosign signature found" in err, "unsigned image denied: " + err)
                ok, err = apply(c, pod("wrongkey", "sigs", image=f"{host}/signed/wrong:v1", restricted=False))
                check(not ok and SIGNED["wrong"] in err and "none verified" in err,
                      "image signed by another key denied: " + err)
                ok, err = apply(c, pod("moved1", "sigs", image=f"{host}/signed/moved:v1", restricted=False))
                check(ok, "signed image (before its tag moves) admitted: " + err)
                SIGNED["moved-b"] = push_small_image("signed/moved", "v1", "e2e-moved-b")
                ok, err = apply(c, pod("moved2", "sigs", image=f"{host}/signed/moved:v1", restricted=False))
                check(not ok and SIGNED["moved-b"] in err and "no cosign signature found" in err,
                      "tag moved to an unsigned digest denied: " + err)

                # kguard sign report on the live cluster (docs/signing.md "Which images does a key
                # sign?"): the Pods admitted in sigs, grouped per key, with release.pub revoked.
                r = subprocess.run([KGUARD, "sign", "report", "--cluster", "--kubeconfig", c.admin_kubeconfig,
                                    "-n", "sigs", "--key", "other=" + os.path.join(work, "sig", "other.pub"),
                                    "--revoked", os.path.join(work, "sig", "release.pub"), "-o", "json",
                                    "--registry-ca", REGISTRY["ca"], "--docker-config", docker_cfg],
                                   capture_output=True, text=True, timeout=120)
                try:
                    rep = {i["reference"]: i for i in json.loads(r.stdout)["images"]}
                except ValueError:
                    rep = {}
                app, moved = rep.get(f"{host}/signed/app:v1", {}), rep.get(f"{host}/signed/moved:v1", {})
                check(r.returncode == 1 and app.get("status") == "revoked-only" and app.get("digest") == SIGNED["signed"]
                      and app.get("usedBy", [{}])[0].get("name") == "signed"
                      and moved.get("status") == "unsigned" and moved.get("digest") == SIGNED["moved-b"],
                      "sign report on the cluster: %d %s %s" % (r.returncode, r.stdout[:2000], r.stderr[-2000:]))

            if GATE:
                # The pipeline's end: what the hook signed and attested runs, what it rejected does not.
                clean_rec = pipeline.decision(SIGNED["pipeline-clean"])
                vuln_rec = pipeline.decision(SIGNED["pipeline-vulnerable"])
                log("hook record (clean):", json.dumps(clean_rec)[:400])
                log("hook record (vulnerable):", json.dumps(vuln_rec)[:400])
                check(clean_rec["verdict"] == "signed" and clean_rec["tag"] == "1"
                      and clean_rec["repository"] == f"{pipeline.host}/pipeline/clean"
                      and [a["predicateType"] for a in clean_rec["signed"][0]["attestations"]]
                      == ["https://cyclonedx.org/bom", "https://cosign.sigstore.dev/attestation/vuln/v1"],
                      "hook record: clean image signed and attested: %r" % clean_rec)
                check(vuln_rec["verdict"] == "rejected" and vuln_rec["signed"] == []
                      and vuln_feed.OPENSSL in vuln_rec["reason"] and vuln_rec["scan"]["manifests"][0]["counts"]["critical"] >= 1,
                      "hook record: vulnerable image rejected with the scan's reason: %r" % vuln_rec)
                clean_image = f"{pipeline.host}/pipeline/clean:1"
                ok, err = apply(c, pod("piped", "pipeline", image=clean_image, restricted=False))
                check(ok, "the image the hook signed and attested is admitted: " + err)
                ok, err = apply(c, pod("piped-vuln", "pipeline", image=f"{pipeline.host}/pipeline/vulnerable:1",
                                       restricted=False))
                check(not ok and 'admission webhook "pods.kguard.io" denied the request' in err
                      and SIGNED["pipeline-vulnerable"] in err and 'signature policy "pipeline"' in err
                      and "no cosign signature found" in err
                      and "lacks the attestation https://cosign.sigstore.dev/attestation/vuln/v1" in err,
                      "the image the hook rejected is denied (no signature, no scan attestation): " + err)

            # A label change reaches kguard through the watch.
            c.kubectl("label", "namespace", "open", "kguard.io/enforce=images")
            time.sleep(2)
            ok, err = apply(c, pod("tagged3", "open", image="nginx:latest"))
            check(not ok and "image-tag-not-pinned" in err, "label change followed: " + err)

            # Restart the API server: kguard reconnects and follows later changes.
            restart_apiserver()
            c.kubectl("label", "namespace", "open", "kguard.io/enforce-")
            deadline = time.time() + 40
            while True:
                ok, err = apply(c, pod("tagged4-%d" % int(time.time() * 10), "open", image="nginx:latest"))
                if ok or time.time() > deadline:
                    break
                time.sleep(1)
            check(ok, "after an API server restart the removed label is followed: " + err)

            # Audit: kguard's own log and the API server's.
            time.sleep(1)
            with open(audit) as f:
                records = [json.loads(line) for line in f if line.strip()]
            by_name = {}
            for r in records:
                by_name.setdefault((r["object"]["namespace"], r["object"]["name"]), []).append(r)
            check(any(r["verdict"] == "deny" and "pss-privileged" in r["rulesHit"] for r in by_name.get(("strict", "bad"), [])),
                  "audit log: strict/bad denied")
            check(any(r["verdict"] == "allow" for r in by_name.get(("strict", "good"), [])), "audit log: strict/good allowed")
            check(any(r["verdict"] == "warn" for r in by_name.get(("base", "plain"), [])), "audit log: base/plain warned")
            check(all(r["user"] for r in records), "audit log: every record names the user")
            if GATE:
                gated = [r for r in by_name.get(("vulns", "vuln"), []) if r.get("images")]
                check(gated and gated[-1]["verdict"] == "deny"
                      and gated[-1]["images"][0]["digest"] == REGISTRY["skopeo_digest"]["1.0"]
                      and gated[-1]["images"][0]["policy"] == "loopback"
                      and gated[-1]["images"][0]["violations"][:2] == [vuln_feed.OPENSSL, vuln_feed.GZIP],
                      "audit log: the gate's denial with digest, policy and ids: %r" % gated)
                acc = [r for r in by_name.get(("vulns-ok", "accepted"), []) if r.get("images")]
                check(acc and acc[-1]["verdict"] == "warn" and acc[-1]["images"][0]["ignored"] == [vuln_feed.OPENSSL],
                      "audit log: the ignored vulnerability: %r" % acc)
                for name, verdict, outcome, digest in [("signed", "allow", "verified", SIGNED["signed"]),
                                                       ("unsigned", "deny", "unverified", SIGNED["unsigned"]),
                                                       ("wrongkey", "deny", "unverified", SIGNED["wrong"]),
                                                       ("moved1", "allow", "verified", SIGNED["moved-a"]),
                                                       ("moved2", "deny", "unverified", SIGNED["moved-b"])]:
                    recs = [r for r in by_name.get(("sigs", name), []) if r.get("signatures")]
                    check(recs and recs[-1]["verdict"] == verdict and recs[-1]["signatures"][0]["outcome"] == outcome
                          and recs[-1]["signatures"][0]["digest"] == digest
                          and recs[-1]["signatures"][0]["policy"] == "signed-only",
                          "audit log: sigs/%s %s (%s, %s): %r" % (name, verdict, outcome, digest, recs))
                for name, verdict, digest, atts in [("piped", "allow", SIGNED["pipeline-clean"], ["verified", "verified"]),
                                                    ("piped-vuln", "deny", SIGNED["pipeline-vulnerable"],
                                                     ["missing", "missing"])]:
                    recs = [r for r in by_name.get(("pipeline", name), []) if r.get("signatures")]
                    sig = recs[-1]["signatures"][0] if recs else {}
                    check(recs and recs[-1]["verdict"] == verdict and sig["digest"] == digest
                          and sig["policy"] == "pipeline"
                          and [a["outcome"] for a in sig.get("attestations", [])] == atts,
                          "audit log: pipeline/%s %s with attestations %s: %r" % (name, verdict, atts, recs))
                if recs_ok := [r for r in by_name.get(("pipeline", "piped"), []) if r.get("signatures")]:
                    # The key that admitted it is the key the hook's record says signed it.
                    check(recs_ok[-1]["signatures"][0]["signedBy"] == [clean_rec["key"][:7 + 16]],
                          "the admitting key is the hook's: %r vs %s" % (recs_ok[-1]["signatures"][0], clean_rec["key"]))
            events = c.audit_events()
            annotated = [e for e in events if any(k.startswith("pods.kguard.io/") for k in e.get("annotations", {}))]
            check(annotated, "API server audit log carries kguard's audit annotations")
            with open(os.path.join(work, "kguard.log")) as f:
                klog = f.read()
            check(klog.count("namespace labels synced") >= 1, "kguard logged the sync")
            log(f"kguard audit records: {len(records)}; API server events with kguard annotations: {len(annotated)}")
    finally:
        if cluster is not None:  # the control plane is shared: no webhook pointing at a stopped kguard
            if os.path.exists(hook_yaml):
                cluster.kubectl("delete", "-f", hook_yaml, "--ignore-not-found", check=False)
            cluster.kubectl("delete", "namespace", *NAMESPACES, "--ignore-not-found", "--timeout=300s", check=False)
        if pipeline:
            pipeline.stop()
        if kguard and kguard.poll() is None:
            kguard.send_signal(signal.SIGTERM)
            try:
                code = kguard.wait(30)
                if code != 0:
                    failures.append(f"kguard admit exited {code}")
            except subprocess.TimeoutExpired:
                kguard.kill()
                failures.append("kguard admit did not drain")
        if failures:
            print(open(os.path.join(work, "kguard.log")).read()[-4000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (checks[0] - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
