#!/usr/bin/env python3
"""kguard against a real kube-apiserver (see cluster.py): loads examples/ with
the real kubectl, then

 (a) scans as a client-certificate admin and checks the findings against the
     offline scan of a `kubectl get -o json` dump of the same kinds (equal),
     against the applied files (equal up to the documented differences
     below), and against `kguard scan` of a `kguard snapshot` (equal);
 (b) scans as a ServiceAccount that RBAC limits to two namespaces and checks
     that the coverage section lists exactly the lists the API server refused
     (from the audit log) and that RBAC policy implies;
 (c) exercises every credential form: client certificate file and inline
     data, token, tokenFile, CA file and data, an exec plugin, proxy-url
     through a real CONNECT proxy, insecure-skip-tls-verify, a merged
     multi-file KUBECONFIG and the in-cluster service account. Each form
     uses its own identity, and the audit log proves the server saw it.

Usage: cluster_e2e.py KGUARD SOURCE_DIR [KUBE_CLIENT_PROBE]
"""
import base64
import http.client
import http.server
import json
import os
import pty
import re
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, b64, free_port, log, yaml  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(sys.argv[2])
PROBE = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
FAILURES = []
SECRETS = []  # tokens and key material that must never appear in output


def check(cond, what):
    if cond:
        log(f"ok   {what}")
    else:
        log(f"FAIL {what}")
        FAILURES.append(what)


def kguard(*args, env=None, expect=(0, 1)):
    e = dict(os.environ)
    e.pop("KUBECONFIG", None)
    e.update(env or {})
    r = subprocess.run([KGUARD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=e)
    for s in SECRETS:
        if s and (s in r.stdout or s in r.stderr):
            FAILURES.append(f"a credential appeared in the output of kguard {' '.join(args)}")
    if expect is not None and r.returncode not in expect:
        raise RuntimeError(f"kguard {' '.join(args)} exited {r.returncode}:\n{r.stderr}")
    return r


def report(path):
    with open(path) as f:
        data = f.read()
    for s in SECRETS:
        if s and s in data:
            FAILURES.append(f"a credential appeared in {path}")
    return json.loads(data) if path.endswith(".json") else data


def key(f):
    # The field path without the position of the object in a List
    # ("items[12].spec..." in a snapshot or dump, "spec..." in a manifest).
    path = re.sub(r"^items\[\d+\]\.?", "", f["location"]["path"])
    return (f["rule"], f["kind"], f.get("namespace", ""), f["name"], f.get("container", ""), path, f["message"])


# The escalation-path and credential-hygiene findings (engines/rbac) depend on
# everything the input holds (a cluster's default ServiceAccounts, its pods, its
# bootstrap bindings), so files and a cluster differ there by design; they are
# compared cluster against files in rbac_paths_e2e.py.
RBAC_ENGINE_RULES = ("rbac-path-", "rbac-token-secret-", "rbac-binding-dangling-subject")


def keys(rep, exclude_rules=()):
    return {key(f) for f in rep["findings"]
            if f["result"] == "fail" and f["rule"] not in exclude_rules and not f["rule"].startswith(RBAC_ENGINE_RULES)}


def show(title, items):
    log(f"{title}: {len(items)}")
    for i in sorted(items)[:40]:
        log("    " + " | ".join(str(x) for x in i))


# ---- a real HTTP CONNECT proxy on loopback (for proxy-url) ----------------
class ConnectProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.tunnels = []
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode("latin-1").strip()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        method, target, _ = line.split(" ", 2)
        if method != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            return
        host, port = target.rsplit(":", 1)
        self.server.tunnels.append(target)
        upstream = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 30)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is self.connection else self.connection).sendall(data)
        finally:
            upstream.close()


# ---- a fault-injecting TLS reverse proxy in front of the real API server -----
class FlakyFront(http.server.ThreadingHTTPServer):
    """Answers the first request for every path with 429 (Retry-After: 1) or
    503, alternately, and forwards every later one (with its bearer token)
    to the real API server: kguard must retry and still read everything."""
    daemon_threads = True

    def __init__(self, upstream_port, ca, cert, key):
        super().__init__(("127.0.0.1", 0), FlakyHandler)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.upstream_port = upstream_port
        self.upstream_ctx = ssl.create_default_context(cafile=ca)
        self.lock = threading.Lock()
        self.refused = {}  # path -> status sent
        self.forwarded = []


class FlakyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            first = self.path not in self.server.refused
            if first:
                status = 429 if len(self.server.refused) % 2 == 0 else 503
                self.server.refused[self.path] = status
        if first:
            body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests"}'
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.upstream_port,
                                           context=self.server.upstream_ctx, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
        conn.request("GET", self.path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        with self.server.lock:
            self.server.forwarded.append(self.path)
        self.send_response(r.status)
        self.send_header("Content-Type", r.getheader("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ---- loading examples/ ----------------------------------------------------
def prepare_manifests(work):
    """examples/insecure as is (namespace shopfront) and examples/hardened in
    namespace shopfront-hardened, so both variants live in one cluster."""
    out = os.path.join(work, "manifests")
    shutil.copytree(os.path.join(SOURCE, "examples", "insecure"), os.path.join(out, "insecure"))
    shutil.copytree(os.path.join(SOURCE, "examples", "hardened"), os.path.join(out, "hardened"))
    for name in os.listdir(os.path.join(out, "hardened")):
        path = os.path.join(out, "hardened", name)
        with open(path) as f:
            text = f.read()
        text = re.sub(r"(namespace: )shopfront\b(?!-)", r"\1shopfront-hardened", text)
        if name == "namespace.yaml":
            text = re.sub(r"(\n  name: )shopfront\n", r"\1shopfront-hardened\n", text, count=1)
        with open(path, "w") as f:
            f.write(text)
    return out


def file_objects(manifests):
    objs = set()
    for root, _, files in os.walk(manifests):
        for n in files:
            with open(os.path.join(root, n)) as f:
                for d in yaml.safe_load_all(f):
                    if d:
                        objs.add((d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]))
    return objs


# Findings that differ between the cluster scan and the offline scan of the
# applied files, and why. Each entry is (rule, kind, namespace, name, side):
# side "cluster" = only the cluster scan has this finding (as keyed by rule,
# object, container, field and message), "files" = only the file scan has it.
#
# Fields the API server fills in by default (imagePullPolicy, restartPolicy,
# protocol, strategy, ...) cause no difference: the rules already resolve API
# defaults. What differs is RBAC resolution: the files bind the built-in
# ClusterRole cluster-admin without defining it, so offline kguard knows it
# only by name (full control, */*/*); the cluster has the API server's
# bootstrap copy, so the same finding lists every dangerous permission it
# grants. Same rule, same object, a longer message. (The binding's own
# dangerous-permissions finding is folded into rbac-cluster-admin-binding,
# which owns that risk, so it no longer differs.)
CLUSTER_ADMIN_RESOLVED = "cluster-admin is resolved from the API server's bootstrap ClusterRole"
EXPECTED_FILE_DIFFERENCES = {
    ("workload-service-account-privileged", "Deployment", "shopfront", "api", "cluster"):
        CLUSTER_ADMIN_RESOLVED,
    ("workload-service-account-privileged", "Deployment", "shopfront", "api", "files"):
        CLUSTER_ADMIN_RESOLVED,
}


def cluster_options(work):
    """Contract C4: the default control plane (with its audit log, which (b) and (c) read)."""
    return {}


def main(cluster=None):
    """Runs on `cluster` when given (a shared control plane: what it creates is deleted at the
    end), else starts one."""
    work = tempfile.mkdtemp(prefix="kguard-e2e-")
    started = time.time()
    try:
        if cluster is not None:
            try:
                run(cluster.view(work), work)  # kubeconfigs beside the files that name them
            finally:
                clean_up(cluster)
        else:
            with Cluster(work) as c:
                run(c, work)
    except BaseException:
        FAILURES.append("the test stopped on an exception (see above)")
        raise
    finally:
        if FAILURES:
            log(f"work directory kept for inspection: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.time() - started:.0f}s")
    if FAILURES:
        log(f"{len(FAILURES)} check(s) failed:")
        for f in FAILURES:
            log("  - " + f)
        return 1
    return 0


def clean_up(c):
    """What run() creates outside its namespaces, then its namespaces (the shared control plane
    runs the namespace controller: they go away with their contents)."""
    for sa in CREDENTIAL_SERVICE_ACCOUNTS:
        c.kubectl("delete", "clusterrolebinding", sa, "--ignore-not-found", check=False)
        c.kubectl("delete", "serviceaccount", sa, "-n", "default", "--ignore-not-found", check=False)
    c.kubectl("delete", "clusterrole", "kguard-e2e-reader", "--ignore-not-found", check=False)
    c.kubectl("delete", "clusterrolebinding", "shopfront-api-admin", "--ignore-not-found", check=False)  # examples/
    c.kubectl("delete", "namespace", "shopfront", "shopfront-hardened", "kguard-watched", "--ignore-not-found",
              "--timeout=300s", check=False)


def run(c, work):
    manifests = prepare_manifests(work)
    for variant in ("insecure", "hardened"):
        c.kubectl("apply", "-f", os.path.join(manifests, variant, "namespace.yaml"))
        c.kubectl("apply", "-f", os.path.join(manifests, variant))
    log("examples/ applied with kubectl")
    # A Secret: kguard may read its metadata, never keep or print its value.
    c.kubectl("create", "secret", "generic", "kguard-e2e-secret", "-n", "shopfront",
              "--from-literal=password=e2e-secret-value-123")
    SECRETS.extend(["e2e-secret-value-123", base64.b64encode(b"e2e-secret-value-123").decode()])
    SECRETS.extend([open(c.admin_key).read().strip().splitlines()[1]])

    # ---- (a) admin with a client certificate (files) ----------------------
    cluster_json = os.path.join(work, "cluster.json")
    r = kguard("scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-o", f"json={cluster_json}")
    check("kguard: listed" in r.stderr and "\r" not in r.stderr,
          "progress on a non-TTY stderr is plain lines")
    rep = report(cluster_json)
    info = rep.get("cluster", {})
    check(rep["source"]["type"] == "cluster", "the report says it read a cluster")
    check(info.get("serverVersion") == "v1.37.2", f"server version v1.37.2 ({info.get('serverVersion')})")
    namespaces = json.loads(c.kubectl("get", "namespaces", "-o", "json"))["items"]
    check(info.get("namespaceCount") == len(namespaces),
          f"namespace count {info.get('namespaceCount')} == {len(namespaces)}")
    check(info.get("pods") == 0 and info.get("nodes") == 0,
          "no controller manager or kubelet: 0 pods, 0 nodes")
    check(rep["coverage"] == [], "the admin reads everything: no coverage gaps")
    cluster_keys = keys(rep)
    check(len(cluster_keys) > 100, f"the cluster scan reports findings ({len(cluster_keys)})")

    # On a terminal the progress is one bar redrawn in place.
    main_fd, tty_fd = pty.openpty()
    p = subprocess.Popen([KGUARD, "scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-o",
                          "json=/dev/null"], stderr=tty_fd, stdout=subprocess.DEVNULL)
    os.close(tty_fd)
    tty_out = b""
    while True:  # read while it runs: a full pty buffer would block it
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO once the child has exited and closed the tty
            break
        if not chunk:
            break
        tty_out += chunk
    os.close(main_fd)
    p.wait()
    check(p.returncode in (0, 1) and b"\r\x1b[K[" in tty_out and b"#" in tty_out
          and b"kguard: listed" not in tty_out, "progress on a TTY is a bar redrawn in place")

    quiet = kguard("scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-q", "-o", "json")
    check(quiet.stderr == "", "--quiet prints nothing on stderr")
    check(keys(json.loads(quiet.stdout)) == cluster_keys, "a second scan gives the same findings")

    # Pagination: two objects per page gives the same findings, and the
    # server saw continue tokens.
    paged = kguard("scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-q", "-o", "json",
                   "--chunk-size", "2", "--list-parallel", "8")
    check(keys(json.loads(paged.stdout)) == cluster_keys, "--chunk-size 2 gives the same findings")
    check(any("continue=" in e.get("requestURI", "") and e["user"].get("username") == "kguard-admin"
              for e in c.audit_events()), "lists were paginated (limit/continue in the audit log)")

    # Snapshot: written once, scanned offline, same result.
    snap = os.path.join(work, "snapshot.json")
    kguard("snapshot", "--kubeconfig", c.admin_kubeconfig, "-o", snap, "-q", expect=(0,))
    snap_json = os.path.join(work, "snapshot-scan.json")
    kguard("scan", snap, "-q", "-o", f"json={snap_json}")
    srep = report(snap_json)
    check(keys(srep) == cluster_keys, "scanning the snapshot offline gives the cluster scan's findings")
    sinfo = dict(srep.get("cluster", {}))
    cinfo = dict(info)
    sinfo.pop("readAt", None)
    cinfo.pop("readAt", None)
    # The same kinds; a snapshot lists them in the order of every rule's plan, a scan in its own.
    for d in (sinfo, cinfo):
        d["kindsNotServed"] = sorted(d.get("kindsNotServed", []))
    if sinfo != cinfo or srep["coverage"] != rep["coverage"]:
        log("snapshot cluster facts:", json.dumps(sinfo, sort_keys=True), "coverage:", json.dumps(srep["coverage"]))
        log("live cluster facts:", json.dumps(cinfo, sort_keys=True), "coverage:", json.dumps(rep["coverage"]))
    check(sinfo == cinfo and srep["coverage"] == rep["coverage"],
          "the snapshot carries the cluster facts and coverage")
    snapshot = report(snap)  # also checks that no credential or Secret value is in it
    check(snapshot["kind"] == "List" and len(snapshot["items"]) > 50, "the snapshot is one kind: List")
    check(all("managedFields" not in i["metadata"] for i in snapshot["items"]),
          "managedFields are dropped from the snapshot")
    secret = [i for i in snapshot["items"] if i["kind"] == "Secret" and i["metadata"]["name"] == "kguard-e2e-secret"]
    check(len(secret) == 1 and secret[0]["data"] == {"password": ""},
          "Secrets are in the snapshot with their keys and blank values")

    # The same objects dumped by kubectl and scanned offline: identical.
    kinds = sorted({i["kind"] for i in snapshot["items"]})
    dump = os.path.join(work, "kubectl-dump.json")
    with open(dump, "w") as f:
        f.write(c.kubectl("get", ",".join(kinds), "-A", "-o", "json"))
    dump_json = os.path.join(work, "dump-scan.json")
    kguard("scan", dump, "-q", "--target-version", "1.37", "-o", f"json={dump_json}")
    dump_keys = keys(report(dump_json))
    # The cluster's own facts (its version) are not in a kubectl dump.
    cluster_only_rules = ("kubernetes-version-support",)
    a, b = keys(rep, cluster_only_rules), dump_keys
    show("only in the cluster scan (vs kubectl dump)", a - b)
    show("only in the kubectl dump scan", b - a)
    check(a == b, f"cluster scan == offline scan of `kubectl get -o json` ({len(a)} findings)")

    # Against the applied files: the same except what the API server adds.
    files_json = os.path.join(work, "files-scan.json")
    kguard("scan", manifests, "-q", "--target-version", "1.37", "-o", f"json={files_json}")
    objs = file_objects(manifests)
    on_files = {k for k in keys(rep) if (k[1], k[2], k[3]) in objs}
    file_keys = keys(report(files_json))
    diff = {(k[0], k[1], k[2], k[3], "cluster") for k in on_files - file_keys}
    diff |= {(k[0], k[1], k[2], k[3], "files") for k in file_keys - on_files}
    show("cluster vs files: differences", diff)
    unexpected = diff - set(EXPECTED_FILE_DIFFERENCES)
    missing = set(EXPECTED_FILE_DIFFERENCES) - diff
    show("unexplained differences", unexpected)
    show("documented differences that did not occur", missing)
    check(not unexpected and not missing,
          f"cluster scan == file scan up to {len(EXPECTED_FILE_DIFFERENCES)} documented differences "
          f"({len(on_files & file_keys)} findings equal)")
    same_objects = {(k[0], k[1], k[2], k[3]) for k in on_files} == {(k[0], k[1], k[2], k[3]) for k in file_keys}
    check(same_objects, "every rule fails on the same objects in the cluster and in the files")
    extra_objects = {(k[1], k[2], k[3]) for k in keys(rep)} - objs
    log(f"findings on objects the API server created itself (bootstrap RBAC, namespaces): "
        f"{len(extra_objects)} objects")

    # ---- (b) a ServiceAccount limited by RBAC to two namespaces -----------
    rbac = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: kguard-reader, namespace: shopfront}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kguard-read-all, namespace: shopfront}
rules:
  - {apiGroups: ["*"], resources: ["*"], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kguard-reader, namespace: shopfront}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kguard-read-all}
subjects: [{kind: ServiceAccount, name: kguard-reader, namespace: shopfront}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kguard-read-workloads, namespace: shopfront-hardened}
rules:
  - {apiGroups: [""], resources: [pods, services, configmaps, serviceaccounts], verbs: [get, list]}
  - {apiGroups: [apps], resources: [deployments, statefulsets, daemonsets, replicasets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kguard-reader, namespace: shopfront-hardened}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kguard-read-workloads}
subjects: [{kind: ServiceAccount, name: kguard-reader, namespace: shopfront}]
"""
    c.kubectl("apply", "-f", "-", input=rbac)
    allowed_hardened = {"pods", "services", "configmaps", "serviceaccounts", "deployments",
                        "statefulsets", "daemonsets", "replicasets"}
    token = c.kubectl("create", "token", "kguard-reader", "-n", "shopfront", "--duration", "2h").strip()
    SECRETS.append(token)
    sa_kubeconfig = c.write_kubeconfig("sa.kubeconfig", cluster={"certificate-authority-data": b64(c.ca)},
                                       user={"token": token})
    before = len(c.audit_events())
    sa_json = os.path.join(work, "sa.json")
    kguard("scan", "--cluster", "--kubeconfig", sa_kubeconfig, "-n", "shopfront,shopfront-hardened",
           "-q", "-o", f"json={sa_json}", "-o", f"text={work}/sa.txt", "-o", f"html={work}/sa.html")
    sarep = report(sa_json)
    user = "system:serviceaccount:shopfront:kguard-reader"
    tried, refused = set(), set()
    for e in c.audit_events()[before:]:
        ref = e.get("objectRef") or {}
        if e["user"].get("username") != user or e["verb"] not in ("list", "get") or "resource" not in ref:
            continue
        ns = ref.get("name", "") if ref["resource"] == "namespaces" else ref.get("namespace", "")
        tried.add((ref["resource"], ns))
        if e["responseStatus"]["code"] == 403:
            refused.add((ref["resource"], ns))
    gaps = {(g["resource"], g["namespace"]) for g in sarep["coverage"]}
    show("coverage gaps reported", gaps)
    check(gaps == refused, "coverage gaps == the lists the API server refused (audit log)")
    # A Role may grant access to its own Namespace object (GET namespaces/NAME
    # is authorized in namespace NAME): the "*" Role in shopfront does, the
    # one in shopfront-hardened does not name namespaces.
    implied = {(res, ns) for (res, ns) in tried
               if ns == "" or (ns == "shopfront-hardened" and res not in allowed_hardened)}
    check(gaps == implied, "coverage gaps == what the RBAC policy implies "
                           "(cluster-scoped kinds, and kinds not granted in shopfront-hardened)")
    check(("clusterroles", "") in gaps and ("networkpolicies", "shopfront-hardened") in gaps
          and ("namespaces", "shopfront-hardened") in gaps and not any(ns == "shopfront" for _, ns in gaps),
          "expected gaps present; nothing in shopfront is missing")
    check(all(g["reason"] == "Forbidden" and "forbidden" in g["message"] for g in sarep["coverage"]),
          "every gap says Forbidden with the server's message")
    np_gap = [g for g in sarep["coverage"] if g["kind"] == "NetworkPolicy"]
    check(bool(np_gap) and len(np_gap[0]["rules"]) > 0, "a gap names the rules it leaves unevaluated")
    text = report(os.path.join(work, "sa.txt"))
    html = report(os.path.join(work, "sa.html"))
    check("Coverage" in text and "NetworkPolicy (networking.k8s.io/v1) in namespace shopfront-hardened" in text,
          "the text report has the coverage section")
    check(f'data-count="{len(gaps)}"' in html, "the HTML report has the coverage section")
    check(sarep["cluster"]["namespaceCount"] is None and sarep["cluster"]["nodes"] is None,
          "counts the identity cannot read are unknown, not zero")
    sa_objects = {(f["kind"], f.get("namespace", "")) for f in sarep["findings"]}
    check(("Deployment", "shopfront") in sa_objects and ("Deployment", "shopfront-hardened") in sa_objects,
          "the limited identity still scans what it can read in both namespaces")

    # ---- (c) every credential form ----------------------------------------
    credential_forms(c, work)

    # ---- (d) the client library's get, paginated list and watch ------------
    if PROBE:
        n = len(json.loads(c.kubectl("get", "namespaces", "-o", "json"))["items"])
        p = subprocess.Popen([PROBE, c.admin_kubeconfig, "kguard-watched"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            lines = [p.stdout.readline().strip() for _ in range(3)]  # version, listed, first event
            check(lines[0] == "version ok" and lines[1] == f"listed {n} namespaces",
                  f"client library: get and a list paginated one by one ({lines[:2]}, {n} expected)")
            c.kubectl("create", "namespace", "kguard-watched")
            rc = p.wait(timeout=60)
            rest = p.stdout.read()
            check(rc == 0 and "ADDED kguard-watched" in rest, "client library: watch sees a new Namespace")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def identity_used(c, user, since):
    return any(e["user"].get("username") == user for e in c.audit_events()[since:])


def snapshot_as(c, work, name, kubeconfig=None, env=None, user=None, expect=(0,)):
    out = os.path.join(work, f"snap-{name}.json")
    args = ["snapshot", "-o", out, "-q"]
    if kubeconfig:
        args += ["--kubeconfig", kubeconfig]
    since = len(c.audit_events())
    r = kguard(*args, env=env, expect=None)
    ok = r.returncode in expect
    if r.returncode == 0:
        with open(out) as f:
            ok = ok and len(json.load(f)["items"]) > 0
    if user:
        ok = ok and identity_used(c, user, since)
    check(ok, f"credential form: {name}" + (f" (server saw {user})" if user else "")
          + ("" if ok else f" rc={r.returncode} {r.stderr.strip()}"))
    return r


CREDENTIAL_SERVICE_ACCOUNTS = ["kguard-tokenfile", "kguard-exec", "kguard-merge", "kguard-incluster"]


def credential_forms(c, work):
    ca_data = b64(c.ca)
    # Identities: certificates in system:masters, and ServiceAccounts that
    # may view the cluster.
    # (The built-in "view" role is aggregated by the controller manager, which
    # this control plane does not run, so the test grants its own.)
    sa_users = CREDENTIAL_SERVICE_ACCOUNTS
    c.kubectl("create", "clusterrole", "kguard-e2e-reader", "--verb=get,list", "--resource=*.*")
    for sa in sa_users:
        c.kubectl("create", "serviceaccount", sa, "-n", "default")
        c.kubectl("create", "clusterrolebinding", sa, "--clusterrole", "kguard-e2e-reader",
                  f"--serviceaccount=default:{sa}")
    tokens = {sa: c.kubectl("create", "token", sa, "-n", "default", "--duration", "2h").strip()
              for sa in sa_users}
    SECRETS.extend(tokens.values())

    # Client certificate and key as inline data, CA as data.
    cert, key_ = c.make_cert("inline", "/O=system:masters/CN=kguard-inline", "clientAuth")
    SECRETS.append(open(key_).read().strip().splitlines()[1])
    kc = c.write_kubeconfig("inline.kubeconfig", cluster={"certificate-authority-data": ca_data},
                            user={"client-certificate-data": b64(cert), "client-key-data": b64(key_)})
    snapshot_as(c, work, "client certificate and key as inline data, CA as data", kc, user="kguard-inline")
    # Client certificate files and CA file (relative to the kubeconfig).
    snapshot_as(c, work, "client certificate files, CA file", c.admin_kubeconfig, user="kguard-admin")
    rel = c.write_kubeconfig("relative.kubeconfig", cluster={"certificate-authority": "pki/ca.crt"},
                             user={"client-certificate": "pki/inline.crt", "client-key": "pki/inline.key"})
    snapshot_as(c, work, "paths relative to the kubeconfig", rel, user="kguard-inline")

    # tokenFile.
    token_file = os.path.join(work, "token")
    with open(token_file, "w") as f:
        f.write(tokens["kguard-tokenfile"] + "\n")
    kc = c.write_kubeconfig("tokenfile.kubeconfig", cluster={"certificate-authority": c.ca},
                            user={"tokenFile": token_file})
    snapshot_as(c, work, "tokenFile", kc, user="system:serviceaccount:default:kguard-tokenfile")
    # token (inline).
    kc = c.write_kubeconfig("token.kubeconfig", cluster={"certificate-authority": c.ca},
                            user={"token": tokens["kguard-tokenfile"]})
    snapshot_as(c, work, "token", kc, user="system:serviceaccount:default:kguard-tokenfile")

    # Exec credential plugin with args and env.
    plugin = os.path.join(work, "exec-plugin.sh")
    marker = os.path.join(work, "exec-plugin.ran")
    with open(plugin, "w") as f:
        f.write(f"""#!/bin/sh
# A client.authentication.k8s.io/v1 exec plugin: prints an ExecCredential
# with the token from $E2E_TOKEN_FILE, and records how it was called.
printf '%s\\n' "$*" "$KUBERNETES_EXEC_INFO" > {marker}
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}\\n' "$(cat "$E2E_TOKEN_FILE")"
""")
    os.chmod(plugin, 0o755)
    exec_token = os.path.join(work, "exec-token")
    with open(exec_token, "w") as f:
        f.write(tokens["kguard-exec"])
    kc = c.write_kubeconfig("exec.kubeconfig", cluster={"certificate-authority": c.ca}, user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": "./exec-plugin.sh",
        "args": ["--audience", "e2e"], "env": [{"name": "E2E_TOKEN_FILE", "value": exec_token}],
        "interactiveMode": "Never"}})
    snapshot_as(c, work, "exec plugin (v1, args, env)", kc, user="system:serviceaccount:default:kguard-exec")
    with open(marker) as f:
        ran = f.read()
    check(ran.startswith("--audience e2e\n") and '"kind":"ExecCredential"' in ran,
          "the exec plugin got its args and KUBERNETES_EXEC_INFO")

    # Expired credentials: the plugin's first token is rejected (401); kguard
    # runs the plugin again, as kubectl does, and carries on.
    rotating = os.path.join(work, "rotating-plugin.sh")
    counter = os.path.join(work, "rotating-plugin.count")
    with open(rotating, "w") as f:
        f.write(f"""#!/bin/sh
n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}
if [ "$n" -eq 1 ]; then token=expired-token; else token=$(cat "$E2E_TOKEN_FILE"); fi
printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"%s"}}}}\n' "$token"
""")
    os.chmod(rotating, 0o755)
    kc = c.write_kubeconfig("rotating.kubeconfig", cluster={"certificate-authority": c.ca}, user={"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": rotating,
        "env": [{"name": "E2E_TOKEN_FILE", "value": exec_token}]}})
    snapshot_as(c, work, "exec plugin re-run after a 401", kc, user="system:serviceaccount:default:kguard-exec")
    with open(counter) as f:
        runs = f.read().strip()
    check(runs == "2", f"the plugin ran twice: the rejected token was refreshed once ({runs} runs)")

    # proxy-url through a real CONNECT proxy.
    proxy = ConnectProxy()
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        cert, key_ = c.make_cert("proxied", "/O=system:masters/CN=kguard-via-proxy", "clientAuth")
        kc = c.write_kubeconfig("proxy.kubeconfig", cluster={
            "certificate-authority": c.ca, "proxy-url": f"http://127.0.0.1:{proxy.server_address[1]}"},
            user={"client-certificate": cert, "client-key": key_})
        snapshot_as(c, work, "proxy-url", kc, user="kguard-via-proxy")
        check(f"127.0.0.1:{c.port}" in proxy.tunnels, f"requests went through the proxy ({len(proxy.tunnels)} tunnels)")
    finally:
        proxy.shutdown()
        proxy.server_close()

    # insecure-skip-tls-verify only when the kubeconfig says so.
    kc = c.write_kubeconfig("insecure.kubeconfig", cluster={"insecure-skip-tls-verify": True},
                            user={"client-certificate": c.admin_cert, "client-key": c.admin_key})
    snapshot_as(c, work, "insecure-skip-tls-verify: true", kc, user="kguard-admin")
    kc = c.write_kubeconfig("unverified.kubeconfig", cluster={},
                            user={"client-certificate": c.admin_cert, "client-key": c.admin_key})
    r = snapshot_as(c, work, "no CA and no insecure-skip-tls-verify is refused", kc, expect=(2,))
    check("certificate" in r.stderr, "the refusal names the certificate problem")

    # KUBECONFIG with several files, merged like kubectl: the first file to
    # define a name (or current-context) wins; missing files are skipped.
    d = os.path.join(work, "merge")
    os.makedirs(d)
    def write(name, doc):
        with open(os.path.join(d, name), "w") as f:
            yaml.safe_dump(doc, f)
        return os.path.join(d, name)
    one = write("1-contexts", {"apiVersion": "v1", "kind": "Config", "current-context": "merged",
                               "contexts": [{"name": "merged", "context": {"cluster": "c", "user": "u"}}]})
    two = write("2-cluster-user", {"apiVersion": "v1", "kind": "Config",
                                   "clusters": [{"name": "c", "cluster": {"server": c.server,
                                                                           "certificate-authority-data": ca_data}}],
                                   "users": [{"name": "u", "user": {"token": tokens["kguard-merge"]}}]})
    three = write("3-decoys", {"apiVersion": "v1", "kind": "Config", "current-context": "decoy",
                               "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}},
                                            {"name": "dead", "cluster": {"server": "https://127.0.0.1:1"}}],
                               "users": [{"name": "u", "user": {"token": "not-a-valid-token"}}],
                               "contexts": [{"name": "decoy", "context": {"cluster": "dead", "user": "u"}}]})
    env = {"KUBECONFIG": ":".join([one, os.path.join(d, "missing"), two, three])}
    snapshot_as(c, work, "KUBECONFIG merged from several files", env=env,
                user="system:serviceaccount:default:kguard-merge")
    r = kguard("snapshot", "-q", "-o", os.path.join(work, "x.json"), "--context", "decoy", env=env, expect=(2,))
    check("cannot reach" in r.stderr, "--context picks another context of the merged files")

    # In-cluster service account (token, ca.crt, namespace).
    sa_dir = os.path.join(work, "serviceaccount")
    os.makedirs(sa_dir)
    shutil.copy(c.ca, os.path.join(sa_dir, "ca.crt"))
    with open(os.path.join(sa_dir, "token"), "w") as f:
        f.write(tokens["kguard-incluster"])
    with open(os.path.join(sa_dir, "namespace"), "w") as f:
        f.write("default")
    home = os.path.join(work, "home")
    os.makedirs(home)
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(c.port),
           "KGUARD_SERVICEACCOUNT_DIR": sa_dir, "HOME": home}
    snapshot_as(c, work, "in-cluster service account", env=env,
                user="system:serviceaccount:default:kguard-incluster")

    # 429 and 5xx are retried with backoff (Retry-After honoured).
    cert, key_ = c.make_cert("front", "/CN=flaky-front", "serverAuth", "IP:127.0.0.1")
    front = FlakyFront(c.port, c.ca, cert, key_)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    try:
        direct = kguard("scan", "--cluster", "--kubeconfig", os.path.join(work, "token.kubeconfig"),
                        "-q", "-o", "json")
        kc = c.write_kubeconfig("flaky.kubeconfig", cluster={
            "certificate-authority": c.ca, "server": f"https://127.0.0.1:{front.server_address[1]}"},
            user={"token": tokens["kguard-tokenfile"]})
        t0 = time.time()
        flaky = kguard("scan", "--cluster", "--kubeconfig", kc, "-q", "-o", "json")
        refused = front.refused
        check(keys(json.loads(flaky.stdout)) == keys(json.loads(direct.stdout))
              and json.loads(flaky.stdout)["coverage"] == json.loads(direct.stdout)["coverage"],
              f"every first request refused with 429/503 ({len(refused)} paths, "
              f"{sum(1 for v in refused.values() if v == 429)} x 429): same report after retries "
              f"({time.time() - t0:.1f}s)")
        check(set(front.forwarded) == set(refused), "each refused request was retried and then served")
    finally:
        front.shutdown()
        front.server_close()

    # Failures are clear.
    dead = c.write_kubeconfig("dead.kubeconfig", cluster={"certificate-authority": c.ca,
                                                          "server": f"https://127.0.0.1:{free_port()}"},
                              user={"client-certificate": c.admin_cert, "client-key": c.admin_key})
    t0 = time.time()
    r = kguard("scan", "--cluster", "--kubeconfig", dead, expect=(2,))
    check("cannot reach https://127.0.0.1:" in r.stderr and time.time() - t0 < 30,
          f"an unreachable server is a clear error after retries ({time.time() - t0:.1f}s)")
    bad = os.path.join(work, "bad.kubeconfig")
    with open(bad, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n  - name: c\n    cluster:\n"
                "      server: https://127.0.0.1:1\n      certificate-authority-data: '%%%'\n"
                "users: []\ncontexts:\n  - name: x\n    context: {cluster: c}\ncurrent-context: x\n")
    r = kguard("scan", "--cluster", "--kubeconfig", bad, expect=(2,))
    check(f"{bad}:7:" in r.stderr and "certificate-authority-data is not valid base64" in r.stderr,
          "a bad kubeconfig is reported with file:line and the field")
    r = kguard("scan", "--cluster", "--kubeconfig", sa_kubeconfig_bad_token(c), expect=(2,))
    check("401" in r.stderr or "Unauthorized" in r.stderr, "a rejected token is a clear error")


def sa_kubeconfig_bad_token(c):
    return c.write_kubeconfig("badtoken.kubeconfig", cluster={"certificate-authority": c.ca},
                              user={"token": "not-a-valid-token"})


if __name__ == "__main__":
    sys.exit(main())
