#!/usr/bin/env python3
"""kguard audit on a real kube-apiserver (see cluster.py): the API server runs with an audit Policy
that records what the detection rules need (AUDIT_POLICY below, shown in docs/audit.md), its log
backend (the file cluster.py configures) and its webhook backend posting EventList batches over TLS
to `kguard audit serve` (started before the API server, with a baseline of who reads the
production Secrets; its certificate comes from the cluster's CA). A scripted session then plays an
attacker and a few ordinary users:

 - exec into a Pod of a production namespace. There is no kubelet here: the Pod has no node, so the
   API server authorizes the request, records it (pods/exec, ResponseStarted and ResponseComplete,
   code 400 "does not have a host assigned") and refuses it. kubectl first tries a WebSocket (GET)
   and falls back to SPDY (POST = create) on the failed upgrade: two audited attempts. Falco's
   "Attach/Exec Pod" wants verb create at ResponseStarted with any code (so it sees the POST only);
   kguard's exec rules take get (WebSocket) and create, any code: an attempt is an alert whether or
   not a kubelet answers 101 -- which is what this harness relies on;
 - ServiceAccounts (tokens from `kubectl create token`) read a Secret: one the baseline knows,
   one it does not;
 - a privileged Pod is created; cluster-admin is bound to a user;
 - anonymous requests (no credentials; --anonymous-auth is on by default): /version (allowed), a
   Secret list (refused), and health checks (which must not alert);
 - a burst of refused requests from a user with no rights, and a burst of unauthenticated (401)
   requests with a bad token (the API server records these at ResponseStarted only);
 - benign traffic (lists, a watch, ConfigMap reads by a user and a ServiceAccount, an ordinary Pod,
   health checks) that must raise nothing beyond the per-user "disallowed user" alert.

The alerts `kguard audit serve` writes live (drained by SIGTERM, the lines of one group added up)
must be EXACTLY the expected ones (rule id and key fields, EXPECTED below) and no others; replaying
the API server's own log file through `kguard audit detect FILE` must give the same alerts (rule,
user, source IPs, verb, object, auditID, count). The API server's log must also record each step
(RECORDED), which proves the Policy keeps what the rules need. Only this session's alerts are judged
(the control plane may be shared: cluster_options(work) gives the Cluster's options, main(cluster)
runs on it): an alert is this session's when its user is one of the session's identities
(audite2e-*, ServiceAccounts of its namespaces), its object lies in one of its namespaces, or its
source IPs carry the session's marker address (the X-Forwarded-For header its anonymous and
unauthenticated requests send; the API server records it as the first source IP). It deletes its
namespaces (they stay Terminating: no namespace controller here) and ClusterRoleBinding at the end
and stops its kguard audit serve. Two alerts group beyond the session by the rules' design, which a
shared control plane must leave alone: audit-anonymous-allowed groups every anonymous request by
verb and object (another suite's anonymous GET /version before this one would own the group), and
the burst by source address counts every refused request from 127.0.0.1 within 60 s (the expected
count is the session's own refusals in the log).

    audit_e2e.py KGUARD SOURCE_DIR
"""
import contextlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, free_port, log  # noqa: E402
from e2e_support import Checks  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
SOURCE = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None

PREFIX = "audite2e-"
PROD = "audite2e-prod"      # the production namespace: exec and Secret reads happen here
DEV = "audite2e-dev"        # where developers work: the Pods
NAMESPACES = (PROD, DEV)
MARKER_IP = "192.0.2.19"    # TEST-NET-1: the session's unauthenticated requests say they come from here

# What the detection rules need (rules/audit/*/rule.yaml `needs:`), first match wins:
# Secrets, ConfigMaps, TokenReviews and token requests at Metadata (never bodies); exec, attach and
# port-forward at Metadata with ResponseStarted kept (only RequestReceived is omitted); Pods, RBAC,
# admission webhooks, Services, Namespaces, ServiceAccounts, Nodes, workloads and Ingresses with
# their bodies; the rest (non-resource URLs included) at Metadata.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: [secrets, configmaps, serviceaccounts/token]
      - group: authentication.k8s.io
        resources: [tokenreviews]
  - level: Metadata
    resources:
      - group: ""
        resources: [pods/exec, pods/attach, pods/portforward, pods/proxy, services/proxy, nodes/proxy]
  - level: RequestResponse
    resources:
      - group: ""
        resources: [pods, pods/ephemeralcontainers, services, namespaces, serviceaccounts, nodes]
      - group: rbac.authorization.k8s.io
      - group: admissionregistration.k8s.io
      - group: apps
      - group: batch
      - group: networking.k8s.io
        resources: [ingresses]
  - level: Metadata
"""


class Serve:
    """`kguard audit serve` for one cluster: its port, files and process."""

    def __init__(self, work):
        self.dir = os.path.join(os.path.abspath(work), "audit-serve")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}/audit"
        self.kubeconfig = os.path.join(self.dir, "webhook.kubeconfig")
        self.alerts = os.path.join(self.dir, "alerts.jsonl")
        self.baseline = os.path.join(self.dir, "baseline.jsonl")
        self.proc = None
        self.ca = None

    def start(self, c):
        """before_apiserver: certificates from the cluster's CA, the webhook kubeconfig, the server."""
        if not KGUARD:
            raise RuntimeError("audit_e2e: the kguard binary is the first argument")
        cert, key = c.make_cert("audit-serve", "/CN=kguard-audit-serve", "serverAuth", "IP:127.0.0.1")
        # Mutual TLS: the API server presents a client certificate of the cluster's CA, which
        # kguard requires (--client-ca); every event reaching the alerts proves the pair works.
        client_cert, client_key = c.make_cert("audit-webhook-client", "/CN=kube-apiserver-audit-webhook",
                                              "clientAuth")
        self.ca = c.ca
        self.client = (client_cert, client_key)
        c.write_kubeconfig(os.path.relpath(self.kubeconfig, c.work),
                           cluster={"server": self.url, "certificate-authority": c.ca},
                           user={"client-certificate": client_cert, "client-key": client_key})
        write_baseline(self.baseline)
        self.proc = c.start("kguard-audit-serve", [
            KGUARD, "audit", "serve", "--listen", f"127.0.0.1:{self.port}", "--tls-cert", cert,
            "--tls-key", key, "--client-ca", c.ca, "--alerts", self.alerts, "--baseline", self.baseline])
        deadline = time.time() + 30
        while True:
            try:
                if self.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"kguard audit serve did not come up; see {c.work}/kguard-audit-serve.log")
            time.sleep(0.2)
        try:  # without a client certificate: refused in the handshake
            self.get("/healthz", client=False)
            raise RuntimeError("kguard audit serve --client-ca served a client without a certificate")
        except (ssl.SSLError, ConnectionResetError, urllib.error.URLError):
            pass
        c.audite2e = self  # main(cluster) finds the server through the cluster it is given

    def get(self, path, client=True):
        ctx = ssl.create_default_context(cafile=self.ca)
        if client:
            ctx.load_cert_chain(*self.client)
        with urllib.request.urlopen(f"https://127.0.0.1:{self.port}{path}", context=ctx, timeout=5) as r:
            return r.status, r.read().decode()

    def metric(self, name):
        total = 0.0
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(name) and line[len(name):len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        """SIGTERM: kguard audit serve drains and emits the alerts still aggregating."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)
        return self.proc.returncode if self.proc else None


def write_baseline(path):
    """A known-good window (earlier, in another audit log): the backup ServiceAccount reads the
    production Secrets. audit-secret-read-unexpected learns from it who reads Secrets."""
    events = []
    for i, (verb, name) in enumerate((("list", None), ("get", "db-password"))):
        uri = f"/api/v1/namespaces/{PROD}/secrets" + (f"/{name}" if name else "")
        ref = {"resource": "secrets", "namespace": PROD, "apiVersion": "v1"}
        if name:
            ref["name"] = name
        ts = f"2026-01-01T02:00:0{i}.000000Z"
        events.append({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
                       "auditID": f"00000000-0000-4000-8000-00000000b00{i}", "stage": "ResponseComplete",
                       "requestURI": uri, "verb": verb,
                       "user": {"username": f"system:serviceaccount:{PROD}:backup",
                                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{PROD}",
                                           "system:authenticated"]},
                       "sourceIPs": ["10.0.0.7"], "objectRef": ref, "responseStatus": {"metadata": {}, "code": 200},
                       "requestReceivedTimestamp": ts, "stageTimestamp": ts,
                       "annotations": {"authorization.k8s.io/decision": "allow"}})
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")


def cluster_options(work):
    """Contract C4: the Cluster kwargs this suite needs (the lead may merge them with others')."""
    serve = Serve(work)
    return {
        "audit_policy": AUDIT_POLICY,
        "apiserver_args": [
            f"--audit-webhook-config-file={serve.kubeconfig}",
            "--audit-webhook-mode=batch",
            "--audit-webhook-batch-max-wait=1s",
            "--audit-webhook-initial-backoff=1s",
        ],
        "before_apiserver": serve.start,
        "binaries": [],
    }


SETUP = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {PROD}}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: {DEV}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: reader, namespace: {PROD}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: backup, namespace: {PROD}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: web, namespace: {PROD}}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: app, namespace: {DEV}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: db-password, namespace: {PROD}}}
stringData: {{password: correct-horse-battery-staple}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: app-config, namespace: {DEV}}}
data: {{mode: production}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: secret-reader, namespace: {PROD}}}
rules:
  - {{apiGroups: [""], resources: [secrets], verbs: [get, list]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: reader-reads-secrets, namespace: {PROD}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}}
subjects:
  - {{kind: ServiceAccount, name: reader, namespace: {PROD}}}
  - {{kind: ServiceAccount, name: backup, namespace: {PROD}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: developer, namespace: {DEV}}}
rules:
  - {{apiGroups: [""], resources: [pods, configmaps], verbs: [get, list, watch, create, delete]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: developer, namespace: {DEV}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: developer}}
subjects:
  - {{kind: User, name: {PREFIX}dev, apiGroup: rbac.authorization.k8s.io}}
  - {{kind: ServiceAccount, name: app, namespace: {DEV}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: debugger, namespace: {PROD}}}
rules:
  - {{apiGroups: [""], resources: [pods], verbs: [get, list]}}
  - {{apiGroups: [""], resources: [pods/exec], verbs: [get, create]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: debugger, namespace: {PROD}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: debugger}}
subjects: [{{kind: User, name: {PREFIX}dev, apiGroup: rbac.authorization.k8s.io}}]
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {PROD}}}
spec:
  serviceAccountName: web  # no service-account controller here: no "default" ServiceAccount
  containers: [{{name: web, image: "registry.example.com/shop/web:1.4.2"}}]
"""

PRIVILEGED_POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: debug-root, namespace: {DEV}}}
spec:
  serviceAccountName: app
  containers:
    - name: shell
      image: "registry.example.com/tools/shell:2.1"
      securityContext: {{privileged: true}}
"""

ORDINARY_POD = f"""
apiVersion: v1
kind: Pod
metadata: {{name: worker, namespace: {DEV}}}
spec:
  serviceAccountName: app
  containers:
    - name: worker
      image: "registry.example.com/shop/worker:1.4.2"
      securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000}}
"""

BACKDOOR = f"""
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {{name: {PREFIX}backdoor}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects: [{{kind: User, name: {PREFIX}contractor, apiGroup: rbac.authorization.k8s.io}}]
"""


class Session:
    """The identities of the scripted session and the ways it talks to the API server."""

    def __init__(self, c, work):
        self.c = c
        self.work = work
        self.kubeconfigs = {}
        for who, subject in (("admin", f"/O=system:masters/CN={PREFIX}admin"),
                             ("dev", f"/CN={PREFIX}dev"), ("intruder", f"/CN={PREFIX}intruder")):
            cert, key = c.make_cert(f"{PREFIX}{who}", subject, "clientAuth")
            self.kubeconfigs[who] = c.write_kubeconfig(
                f"{PREFIX}{who}.kubeconfig", cluster={"certificate-authority": c.ca},
                user={"client-certificate": cert, "client-key": key})

    def kubectl(self, who, *args, input=None, check=True, token=None):
        """kubectl as `who` (admin, dev, intruder) or, with `token`, as that token's bearer."""
        argv = [os.path.join(self.c.bin, "kubectl"), "--cache-dir", os.path.join(self.work, "kubectl-cache")]
        if token:
            kc = self.c.write_kubeconfig(f"{PREFIX}token.kubeconfig", cluster={"certificate-authority": self.c.ca},
                                         user={"token": token})
            argv += ["--kubeconfig", kc]
        else:
            argv += ["--kubeconfig", self.kubeconfigs[who]]
        r = subprocess.run(argv + list(args), input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"kubectl ({who}) {' '.join(args)} failed: {r.stderr}")
        return r

    def raw(self, path, headers=None, method="GET"):
        """A request with no client certificate from the marker address (X-Forwarded-For): its status."""
        ctx = ssl.create_default_context(cafile=self.c.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", self.c.port, context=ctx, timeout=10)
        try:
            conn.request(method, path, headers={"X-Forwarded-For": MARKER_IP, **(headers or {})})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()


def run_session(s, check):
    """The scripted session. Returns nothing; `check` records what each step saw from the API server."""
    # Setup by the session's administrator (its own identity, so that its events are the session's).
    s.kubectl("admin", "apply", "-f", "-", input=SETUP)

    # Benign background traffic: reads, a watch, an ordinary Pod, health checks. Must not alert.
    s.kubectl("admin", "get", "pods", "-A")
    s.kubectl("admin", "get", "namespaces")
    s.kubectl("dev", "get", "pods", "-n", DEV)
    s.kubectl("dev", "get", "configmap", "app-config", "-n", DEV, "-o", "name")
    s.kubectl("dev", "apply", "-f", "-", input=ORDINARY_POD)
    s.kubectl("dev", "get", "pods", "-n", DEV, "--watch", "--request-timeout=2s", check=False)
    app_token = s.kubectl("admin", "create", "token", "app", "-n", DEV).stdout.strip()
    s.kubectl(None, "get", "configmap", "app-config", "-n", DEV, "-o", "name", token=app_token)
    for path in ("/healthz", "/readyz", "/livez"):
        check(s.raw(path) == 200, f"anonymous GET {path} is allowed (a health check)")

    # 1. exec into a Pod of the production namespace. No kubelet: the API server authorizes the
    #    request, audits it (pods/exec, ResponseStarted and ResponseComplete) and answers 400.
    r = s.kubectl("dev", "exec", "-n", PROD, "web", "--", "cat", "/etc/shadow", check=False)
    check(r.returncode != 0 and "does not have a host assigned" in r.stderr,
          f"kubectl exec reaches the API server, which finds no node for the Pod ({r.stderr.strip()[:160]})")

    # 2. a ServiceAccount reads a Secret (token from kubectl create token); the backup
    #    ServiceAccount, which the baseline knows as a reader of these Secrets, reads it too.
    for sa in ("reader", "backup"):
        token = s.kubectl("admin", "create", "token", sa, "-n", PROD).stdout.strip()
        r = s.kubectl(None, "get", "secret", "db-password", "-n", PROD, "-o", "jsonpath={.data.password}",
                      token=token)
        check(r.stdout.strip() != "", f"the ServiceAccount {sa} read the Secret db-password")

    # 3. a privileged Pod.
    s.kubectl("dev", "apply", "-f", "-", input=PRIVILEGED_POD)

    # 4. cluster-admin bound to a user.
    s.kubectl("admin", "apply", "-f", "-", input=BACKDOOR)

    # 5. anonymous requests beyond the health endpoints: one allowed, one forbidden.
    check(s.raw("/version") == 200, "anonymous GET /version is allowed (system:public-info-viewer)")
    check(s.raw(f"/api/v1/namespaces/{PROD}/secrets") == 403, "anonymous list of Secrets is forbidden")

    # 6. repeated forbidden requests from a user with no rights, and unauthenticated ones (bad token).
    statuses = [s.kubectl("intruder", "get", "secret", "db-password", "-n", PROD, check=False).returncode
                for _ in range(FORBIDDEN_BURST)]
    check(all(code != 0 for code in statuses), f"{FORBIDDEN_BURST} Secret reads by {PREFIX}intruder are refused")
    codes = [s.raw(f"/api/v1/namespaces/{PROD}/secrets/db-password", {"Authorization": "Bearer stolen-or-guessed"})
             for _ in range(UNAUTHORIZED_BURST)]
    check(codes == [401] * UNAUTHORIZED_BURST, f"{UNAUTHORIZED_BURST} requests with a bad token get 401 ({set(codes)})")


FORBIDDEN_BURST = 12
UNAUTHORIZED_BURST = 12


def mine(alert):
    """Is this alert about the session's own events (contract C4)?"""
    user = alert.get("user") or ""
    ns = (alert.get("object") or {}).get("namespace") or ""
    return (user.startswith(PREFIX) or user.startswith("system:serviceaccount:" + PREFIX)
            or ns in NAMESPACES or MARKER_IP in (alert.get("sourceIPs") or []))


def session_events(events):
    """The audit events of the session (same test as mine(), on events)."""
    out = []
    for e in events:
        user = (e.get("user") or {}).get("username") or ""
        ns = (e.get("objectRef") or {}).get("namespace") or ""
        if (user.startswith(PREFIX) or user.startswith("system:serviceaccount:" + PREFIX) or ns in NAMESPACES
                or MARKER_IP in (e.get("sourceIPs") or [])):
            out.append(e)
    return out


# The events the policy must record for the rules to see them (checked in the API server's own log,
# independently of kguard): (what, predicate).
def _ev(verb=None, resource=None, sub=None, ns=None, stage="ResponseComplete", code=None, user=None, uri=None,
        level=None, body=False):
    def pred(e):
        ref = e.get("objectRef") or {}
        return ((verb is None or e.get("verb") == verb) and (resource is None or ref.get("resource") == resource)
                and (sub is None or ref.get("subresource") == sub) and (ns is None or ref.get("namespace") == ns)
                and e.get("stage") == stage
                and (code is None or (e.get("responseStatus") or {}).get("code") == code)
                and (user is None or (e.get("user") or {}).get("username") == user)
                and (uri is None or (e.get("requestURI") or "").split("?")[0] == uri)
                and (level is None or e.get("level") == level)
                and (not body or "requestObject" in e))
    return pred


RECORDED = [
    ("pods/exec by audite2e-dev at ResponseStarted (code 400: no node)",
     _ev(resource="pods", sub="exec", ns=PROD, stage="ResponseStarted", code=400, user=PREFIX + "dev",
         level="Metadata")),
    ("Secret get by the ServiceAccount reader at Metadata (200)",
     _ev("get", "secrets", ns=PROD, code=200, user=f"system:serviceaccount:{PROD}:reader", level="Metadata")),
    ("the privileged Pod's create with its body",
     _ev("create", "pods", ns=DEV, code=201, user=PREFIX + "dev", level="RequestResponse", body=True)),
    ("the cluster-admin ClusterRoleBinding's create with its body",
     _ev("create", "clusterrolebindings", code=201, user=PREFIX + "admin", level="RequestResponse", body=True)),
    ("anonymous GET /version (200)", _ev("get", uri="/version", code=200, user="system:anonymous")),
    ("anonymous list of Secrets (403)", _ev("list", "secrets", ns=PROD, code=403, user="system:anonymous")),
    ("the intruder's Secret get (403)", _ev("get", "secrets", ns=PROD, code=403, user=PREFIX + "intruder")),
    ("a bad token's request (401, ResponseStarted only)", _ev(stage="ResponseStarted", code=401,
                                                              uri=f"/api/v1/namespaces/{PROD}/secrets/db-password")),
    ("the token request for reader at Metadata",
     _ev("create", "serviceaccounts", sub="token", ns=PROD, code=201, level="Metadata")),
]


def read_jsonl(path):
    out = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
    return out


def merge(alerts):
    """One alert per aggregation group: the lines a group emitted over time (the first 10 s after its
    first event, then the rest at drain), their counts added; the auditID is the first period's."""
    out = {}
    for a in alerts:
        k = key(dict(a, count=None, auditID=None))
        if k in out:
            m = out[k]
            m["count"] += a["count"]
            if a["first"] < m["first"]:
                m["first"], m["auditID"] = a["first"], a["auditID"]
            m["last"] = max(m["last"], a["last"])
        else:
            out[k] = dict(a)
    return list(out.values())


def key(alert):
    """What must be equal between the live and the replayed alert."""
    obj = alert.get("object") or {}
    return json.dumps({"rule": alert.get("rule"), "severity": alert.get("severity"), "user": alert.get("user"),
                       "sourceIPs": alert.get("sourceIPs"), "verb": alert.get("verb"),
                       "object": {k: obj.get(k) or "" for k in ("apiGroup", "resource", "subresource", "namespace",
                                                                 "name")},
                       "auditID": alert.get("auditID"), "count": alert.get("count")}, sort_keys=True)


def matches(alert, want):
    for k, v in want.items():
        got = alert.get(k) if k != "object" else None
        if k == "object":
            obj = alert.get("object") or {}
            if any((obj.get(f) or "") != x for f, x in v.items()):
                return False
        elif k == "sourceIPs":
            if v not in (got or []):
                return False
        elif got != v:
            return False
    return True


def refusals_from(events, ip):
    """The session's refused requests (401/403; each auditID once, whatever stages record it) whose
    first source address is `ip`, counted in the API server's log: what the burst by source address
    must count."""
    return len({e.get("auditID") for e in events
                if e.get("stage") in ("ResponseStarted", "ResponseComplete")
                and (e.get("responseStatus") or {}).get("code") in (401, 403)
                and (e.get("sourceIPs") or [""])[0] == ip})


def shared_address(alert):
    """On a shared control plane every suite's client is 127.0.0.1: the burst by that address is
    grouped with whichever suite was refused there first (cluster_e2e's limited identity is, dozens
    of times), so it is no session's to judge. The marker address's burst checks the same rule."""
    return alert.get("rule") == "audit-auth-failure-burst-source" and (
        (alert.get("sourceIPs") or [""])[0] == "127.0.0.1" if isinstance(alert.get("sourceIPs"), list)
        else alert.get("sourceIPs") == "127.0.0.1")


def judge(alerts, check, where, refusals, shared=False):
    """Exactly EXPECTED among the session's alerts, and no others. `refusals`: address -> count.
    `shared`: the control plane is shared (see shared_address())."""
    rest = [a for a in alerts if mine(a) and not (shared and shared_address(a))]
    for want in EXPECTED:
        if shared and shared_address(want):
            log(f"{where}: the burst from 127.0.0.1 is not judged on a shared control plane")
            continue
        if want["rule"] == "audit-auth-failure-burst-source":
            want = dict(want, count=refusals[want["sourceIPs"]])
        hits = [a for a in rest if matches(a, want)]
        check(len(hits) == 1, f"{where}: one alert {json.dumps(want, sort_keys=True)} (got {len(hits)})")
        if hits:
            rest.remove(hits[0])
    check(not rest, f"{where}: no other alert of the session ({[json.loads(key(a)) for a in rest]})")


def wait_delivered(serve, c, timeout=60, lost=0):
    """Until the webhook has delivered every event the log backend wrote (batches wait up to 1 s),
    but the `lost` ones (see undelivered())."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        want = len(c.audit_events()) - lost
        got = serve.metric("kguard_audit_events_total")
        if got >= want:
            return True
        time.sleep(0.5)
    return False


def undelivered(serve, c):
    """On a shared control plane whose kube-apiserver another suite restarted, the webhook backend
    lost the events of the old server's last moments (it shuts down before the log backend's last
    writes): how many the log holds beyond what kguard audit serve got, once deliveries settle."""
    last, stable = None, 0
    deadline = time.time() + 30
    while stable < 3 and time.time() < deadline:
        now = (len(c.audit_events()), serve.metric("kguard_audit_events_total"))
        stable = stable + 1 if now == last else 0
        last = now
        time.sleep(1)
    return max(0, int(last[0] - last[1]))


def main(cluster=None):
    """Runs on `cluster` when given (its options came from cluster_options()), else starts one."""
    started = time.time()
    work = tempfile.mkdtemp(prefix="kguard-audit-e2e-")
    check = Checks()
    failures = check.failures

    if SOURCE:  # docs/audit.md shows this suite's Policy: it must be this one
        with open(os.path.join(SOURCE, "docs", "audit.md")) as f:
            doc = f.read()
        shown = doc.split("The e2e suite's policy:\n\n```yaml\n", 1)[-1].split("```", 1)[0]
        check(shown == AUDIT_POLICY, "docs/audit.md shows the Policy this suite runs")
    try:
        with (contextlib.nullcontext(cluster) if cluster else Cluster(os.path.join(work, "cluster"),
                                                                       **cluster_options(work))) as c:
            serve = getattr(c, "audite2e", None)
            if serve is None:
                raise RuntimeError("audit_e2e: the cluster was not built with audit_e2e.cluster_options()")
            lost = 0
            if cluster is not None:
                lost = undelivered(serve, c)
                if lost:
                    log(f"{lost} audit events of an earlier kube-apiserver never reached the webhook (restarted)")
            s = Session(c, work)
            run_session(s, check)

            check(wait_delivered(serve, c, lost=lost),
                  "the webhook backend delivered every audit event to kguard audit serve")
            events = c.audit_events()
            mine_events = session_events(events)
            log(f"{len(events)} audit events in the API server's log, {len(mine_events)} of this session")
            for what, pred in RECORDED:
                check(any(pred(e) for e in mine_events), f"the API server's log records {what}")
            refusals = {ip: refusals_from(mine_events, ip) for ip in ("127.0.0.1", MARKER_IP)}
            check(refusals["127.0.0.1"] >= FORBIDDEN_BURST and refusals[MARKER_IP] >= UNAUTHORIZED_BURST,
                  f"the log records the session's refused requests by address: {refusals}")

            # SIGTERM: serve drains and emits what is still aggregating. An alert already emitted
            # once (10 s after its first event) comes again with the count since then: add them up.
            check(serve.stop() == 0, "kguard audit serve drains and exits 0 on SIGTERM")
            live = merge(read_jsonl(serve.alerts))
            log(f"live: {len(live)} alerts ({sum(1 for a in live if mine(a))} of this session)")
            for a in sorted(live, key=key):
                if mine(a):
                    log("  live  " + key(a))
            judge(live, check, "live (kguard audit serve)", refusals, shared=cluster is not None)

            replay_file = os.path.join(work, "audit.log")
            with open(c.audit_log) as src, open(replay_file, "w") as dst:
                dst.write(src.read())
            sarif = os.path.join(work, "replay.sarif")
            r = subprocess.run([KGUARD, "audit", "detect", "--baseline", serve.baseline, "-o", "alerts",
                                "-o", f"sarif={sarif}", replay_file], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            check(r.returncode == 1, f"kguard audit detect exits 1 (alerts) on the replayed log ({r.returncode}: "
                  f"{r.stderr.strip()[:300]})")
            replayed = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
            log(f"replayed: {len(replayed)} alerts ({sum(1 for a in replayed if mine(a))} of this session)")
            judge(replayed, check, "replayed (kguard audit detect FILE)", refusals, shared=cluster is not None)
            judged = lambda a: mine(a) and not (cluster is not None and shared_address(a))  # noqa: E731
            live_keys = sorted(key(a) for a in live if judged(a))
            replay_keys = sorted(key(a) for a in replayed if judged(a))
            check(live_keys == replay_keys, "the replayed alerts equal the live ones (rule, user, source IPs, verb, "
                  f"object, auditID, count) ({sorted(set(live_keys) ^ set(replay_keys))})")
            if cluster is None:  # alone on its control plane: every alert, not only the session's
                check(sorted(map(key, live)) == sorted(map(key, replayed)),
                      f"alone on the control plane, all {len(live)} live alerts equal the {len(replayed)} replayed")
            with open(sarif) as f:
                results = json.load(f)["runs"][0]["results"]
            check(len([x for x in results if x.get("kind", "fail") == "fail"]) == len(replayed),
                  f"the SARIF report has one result per alert ({len(results)} for {len(replayed)})")

            # Leave the shared control plane as found.
            s.kubectl("admin", "delete", "clusterrolebinding", f"{PREFIX}backdoor", "--ignore-not-found")
            s.kubectl("admin", "delete", "namespace", PROD, DEV, "--wait=false")
    except Exception as e:  # a broken harness is a failure, with its reason
        failures.append(f"{type(e).__name__}: {e}")
        log(f"FAIL {type(e).__name__}: {e}")
    log(f"audit e2e: {time.time() - started:.0f}s")
    if failures:
        log(f"{len(failures)} failure(s); work dir kept: {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    log("audit e2e: every expected alert, live and replayed, and no other")
    return 0


ADMIN, DEV_USER, INTRUDER = PREFIX + "admin", PREFIX + "dev", PREFIX + "intruder"
READER, BACKUP = f"system:serviceaccount:{PROD}:reader", f"system:serviceaccount:{PROD}:backup"
RBAC = "rbac.authorization.k8s.io"


def _a(rule, user, verb=None, count=None, source=None, **obj):
    want = {"rule": rule, "user": user}
    if verb is not None:
        want["verb"] = verb
    if count is not None:
        want["count"] = count
    if source is not None:
        want["sourceIPs"] = source
    if obj:
        want["object"] = obj
    return want


# Every alert the session must raise (rules/audit), and nothing else of the session's. Aggregation
# (rule.yaml aggregateBy) makes one alert per group, with a count where it is fixed by the script.
EXPECTED = [
    # Falco's "Disallowed K8s User": every user outside its allowed list, one alert per user.
    _a("audit-disallowed-user", ADMIN),
    _a("audit-disallowed-user", DEV_USER),
    _a("audit-disallowed-user", INTRUDER),
    # The administrator's setup: Falco's informational create rules (one per user, verb, resource,
    # namespace), the RBAC changes (one per object) and what the Roles grant.
    _a("audit-namespace-created", ADMIN, "create", 2, resource="namespaces"),
    _a("audit-namespace-disallowed", ADMIN, "create", 1, resource="namespaces", name=PROD),
    _a("audit-namespace-disallowed", ADMIN, "create", 1, resource="namespaces", name=DEV),
    _a("audit-serviceaccount-created", ADMIN, "create", 3, resource="serviceaccounts", namespace=PROD),
    _a("audit-serviceaccount-created", ADMIN, "create", 1, resource="serviceaccounts", namespace=DEV),
    _a("audit-secret-created", ADMIN, "create", 1, resource="secrets", namespace=PROD, name="db-password"),
    # kubectl apply reads each object before creating it: its GET of the Secret is a 404, which
    # Falco's "K8s Secret Get Unsuccessfully Tried" (any non-2xx) reports.
    _a("audit-secret-get-failed", ADMIN, "get", 1, resource="secrets", namespace=PROD, name="db-password"),
    _a("audit-configmap-created", ADMIN, "create", 1, resource="configmaps", namespace=DEV),
    _a("audit-role-created", ADMIN, "create", 2, resource="roles", namespace=PROD),
    _a("audit-role-created", ADMIN, "create", 1, resource="roles", namespace=DEV),
    _a("audit-rolebinding-created", ADMIN, "create", 2, resource="rolebindings", namespace=PROD),
    _a("audit-rolebinding-created", ADMIN, "create", 1, resource="rolebindings", namespace=DEV),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="roles", namespace=PROD,
       name="secret-reader"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="roles", namespace=PROD, name="debugger"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="roles", namespace=DEV, name="developer"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="rolebindings", namespace=PROD,
       name="reader-reads-secrets"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="rolebindings", namespace=PROD,
       name="debugger"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="rolebindings", namespace=DEV,
       name="developer"),
    _a("audit-role-write", ADMIN, "create", 1, resource="roles", namespace=DEV, name="developer"),
    _a("audit-role-write", ADMIN, "create", 1, resource="roles", namespace=PROD, name="debugger"),
    _a("audit-role-pod-exec", ADMIN, "create", 1, resource="roles", namespace=PROD, name="debugger"),
    # 1. exec into the production Pod: kubectl tries a WebSocket (GET) and falls back to SPDY
    #    (POST = create) when the upgrade fails, so one `kubectl exec` is two requests here.
    _a("audit-exec-pod", DEV_USER, "get", 1, resource="pods", subresource="exec", namespace=PROD, name="web"),
    _a("audit-exec-pod", DEV_USER, "create", 1, resource="pods", subresource="exec", namespace=PROD, name="web"),
    _a("audit-exec-production", DEV_USER, "get", 1, resource="pods", subresource="exec", namespace=PROD,
       name="web"),
    _a("audit-exec-production", DEV_USER, "create", 1, resource="pods", subresource="exec", namespace=PROD,
       name="web"),
    # 2. Secret reads: Falco's "K8s Secret Get Successfully" for both, and the reader is not among
    #    the identities the baseline saw reading these Secrets (the backup ServiceAccount is).
    _a("audit-secret-get", READER, "get", 1, resource="secrets", namespace=PROD, name="db-password"),
    _a("audit-secret-get", BACKUP, "get", 1, resource="secrets", namespace=PROD, name="db-password"),
    _a("audit-secret-read-unexpected", READER, "get", 1, resource="secrets", namespace=PROD, name="db-password"),
    # 3. the privileged Pod.
    _a("audit-privileged-pod-created", DEV_USER, "create", 1, resource="pods", namespace=DEV, name="debug-root"),
    # 4. cluster-admin bound.
    _a("audit-clusterrolebinding-created", ADMIN, "create", 1, resource="clusterrolebindings"),
    _a("audit-rbac-changed", ADMIN, "create", 1, apiGroup=RBAC, resource="clusterrolebindings",
       name=PREFIX + "backdoor"),
    _a("audit-cluster-admin-binding", ADMIN, "create", 1, resource="clusterrolebindings", name=PREFIX + "backdoor"),
    # 5. anonymous: /version allowed (the health endpoints are not alerts), the Secret list refused.
    _a("audit-anonymous-allowed", "system:anonymous", "get", 1, source=MARKER_IP),
    _a("audit-anonymous-refused", "system:anonymous", "list", 1, source=MARKER_IP, resource="secrets",
       namespace=PROD),
    # 6. the intruder's refused Secret reads: each one, the burst by user and by source address, and
    #    the burst of 401s from the marker address (bad token: no user; the API server records a
    #    failed authentication at ResponseStarted only). On loopback every user's address is
    #    127.0.0.1: the burst by source counts every 401/403 from there in its window -- the
    #    intruder's and the developer's two refused reads of its Namespace (kubectl apply reads it);
    #    from the marker address, the 401s and the anonymous refused list. The counts are taken from
    #    the API server's log (None here, see judge() and refusals_from()).
    _a("audit-secret-get-failed", INTRUDER, "get", FORBIDDEN_BURST, resource="secrets", namespace=PROD,
       name="db-password"),
    _a("audit-auth-failure-burst-user", INTRUDER, "get", FORBIDDEN_BURST, resource="secrets", namespace=PROD),
    _a("audit-auth-failure-burst-source", INTRUDER, "get", None, source="127.0.0.1",
       resource="secrets", namespace=PROD),
    _a("audit-auth-failure-burst-source", "", "get", None, source=MARKER_IP, resource="secrets",
       namespace=PROD),
]


if __name__ == "__main__":
    sys.exit(main())
