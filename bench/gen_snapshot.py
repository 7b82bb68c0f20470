#!/usr/bin/env python3
"""Deterministic synthetic Kubernetes cluster snapshot for kguard's scan benchmark.

Usage:
    gen_snapshot.py OUTDIR                  write OUTDIR/snapshot.yaml and OUTDIR/snapshot.json
    gen_snapshot.py OUTDIR --split DIR N    ... and the same YAML split into DIR/part-NN.yaml
    gen_snapshot.py --split DIR N           only the split YAML

The snapshot holds exactly TOTAL_OBJECTS (50,000) objects in realistic proportions, looking like
`kubectl get -o yaml` output of a live cluster (status included, managedFields stripped): cluster-
scoped objects first, then every namespace's objects.  Everything derives from a fixed seed, so the
output is byte-identical across runs and machines (Python >= 3.7, stdlib only).

The YAML is written by a small hand-rolled block-style emitter (no PyYAML) that quotes every string
a YAML 1.1 or 1.2 parser could read as something other than the same string.
"""

import base64
import json
import os
import random
import re
import sys
import time
import uuid

SEED = 20240611
TOTAL_OBJECTS = 50_000
NUM_NAMESPACES = 500
NUM_NODES = 12
BASE_EPOCH = 1_700_000_000  # 2023-11-14T22:13:20Z

# --------------------------------------------------------------------------------------------
# YAML emitter
# --------------------------------------------------------------------------------------------

_YAML_SPECIAL_WORDS = {
    "", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "=", "<<",
    ".inf", "-.inf", "+.inf", ".nan",
}
_NUMBER_RE = re.compile(
    r"""^(?:
        [-+]?(?:0|[1-9][0-9_]*)                              # decimal int (1.2) / with _ (1.1)
      | [-+]?0[0-7_]+ | 0o[0-7]+                             # octal (1.1 / 1.2)
      | [-+]?0x[0-9a-fA-F_]+ | [-+]?0b[01_]+                 # hex, binary
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?     # sexagesimal (1.1)
      | [-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?  # float
      | [-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+       # float with exponent
      | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    )$""",
    re.VERBOSE,
)
_TIMESTAMP_RE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_PLAIN_OK_RE = re.compile(r"^[A-Za-z0-9_./(][A-Za-z0-9 _./:@%+=,;()<>$^~*'\"\[\]{}!?&|`\\-]*$")
_INDICATOR_START = set("-?:,[]{}#&*!|>'\"%@`")


def _needs_quotes(s):
    if s.lower() in _YAML_SPECIAL_WORDS:
        return True
    if not _PLAIN_OK_RE.match(s):
        return True  # empty, leading/odd characters, control characters, non-ASCII, newlines
    if s[0] in _INDICATOR_START or s[-1] in " :":
        return True
    if ": " in s or " #" in s or "\t" in s:
        return True
    if _NUMBER_RE.match(s) or _TIMESTAMP_RE.match(s):
        return True
    return False


def _quote(s):
    # JSON string syntax (ASCII only) is valid YAML double-quoted scalar syntax.
    return json.dumps(s, ensure_ascii=True)


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return _quote(v) if _needs_quotes(v) else v
    raise TypeError(type(v))


def _literal_ok(s):
    """A multi-line string that can be written as a `|` or `|-` literal block scalar."""
    if "\n" not in s or s.endswith("\n\n") or not s.strip():
        return False
    if not all(32 <= ord(c) < 127 or c == "\n" for c in s):
        return False
    lines = s[:-1].split("\n") if s.endswith("\n") else s.split("\n")
    if lines[0].startswith(" "):
        return False  # would need an indentation indicator
    for ln in lines:
        if ln.strip() == "" and ln != "":
            return False  # whitespace-only lines are ambiguous
    return True


def _emit_value_after_key(out, v, indent):
    """Emit the value of `key:` (the key and ':' already written, no trailing space)."""
    pad = " " * indent
    if isinstance(v, dict):
        if not v:
            out.append(" {}\n")
        else:
            out.append("\n")
            _emit_map(out, v, indent)
    elif isinstance(v, list):
        if not v:
            out.append(" []\n")
        else:
            out.append("\n")
            _emit_seq(out, v, indent - 2 if indent >= 2 else 0)  # kubectl style: "- " at key level
    elif isinstance(v, str) and "\n" in v and _literal_ok(v):
        chomp = "" if v.endswith("\n") else "-"
        body = v[:-1] if v.endswith("\n") else v
        out.append(" |" + chomp + "\n")
        for ln in body.split("\n"):
            out.append((pad + ln + "\n") if ln else "\n")
    else:
        out.append(" " + _scalar(v) + "\n")


def _emit_map(out, m, indent, first_prefix=None):
    pad = " " * indent
    first = True
    for k, v in m.items():
        prefix = first_prefix if (first and first_prefix is not None) else pad
        first = False
        out.append(prefix + _scalar(str(k)) + ":")
        _emit_value_after_key(out, v, indent + 2)


def _emit_seq(out, seq, indent, first_prefix=None):
    pad = " " * indent
    first = True
    for item in seq:
        prefix = first_prefix if (first and first_prefix is not None) else pad
        first = False
        if isinstance(item, dict) and item:
            _emit_map(out, item, indent + 2, first_prefix=prefix + "- ")
        elif isinstance(item, list) and item:
            _emit_seq(out, item, indent + 2, first_prefix=prefix + "- ")
        elif isinstance(item, dict):
            out.append(prefix + "- {}\n")
        elif isinstance(item, list):
            out.append(prefix + "- []\n")
        elif isinstance(item, str) and "\n" in item and _literal_ok(item):
            out.append(prefix + "-")
            _emit_value_after_key(out, item, indent + 2)
        else:
            out.append(prefix + "- " + _scalar(item) + "\n")


def to_yaml(doc):
    out = []
    _emit_map(out, doc, 0)
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Generator
# --------------------------------------------------------------------------------------------

WORDS = (
    "alpha beta gamma delta api web worker frontend backend cache redis postgres mysql kafka "
    "zookeeper nginx envoy gateway auth billing payments orders catalog search indexer "
    "notifications email scheduler cron metrics logging tracing grafana prometheus loki tempo "
    "ingest export report analytics ml inference trainer feature store session cart checkout "
    "shipping inventory pricing recommend profile user admin portal dashboard sync webhook "
    "queue stream batch etl ledger audit identity vault config discovery proxy edge"
).split()
TEAMS = "platform payments growth data ml search identity infra sre storefront mobile core".split()
ENVS = ["prod", "staging", "dev", "qa"]
REGISTRIES = [
    "registry.example.com", "gcr.io/acme-prod", "docker.io/library", "quay.io/acme",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ghcr.io/acme-corp",
]
SYSTEM_NAMESPACES = [
    "kube-system", "kube-public", "kube-node-lease", "default", "monitoring", "logging",
    "ingress-nginx", "cert-manager", "argocd", "istio-system", "gatekeeper-system", "velero",
]
VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
RESOURCES = [
    ("", "pods"), ("", "services"), ("", "configmaps"), ("", "secrets"), ("", "endpoints"),
    ("", "events"), ("", "persistentvolumeclaims"), ("", "serviceaccounts"), ("", "pods/log"),
    ("apps", "deployments"), ("apps", "statefulsets"), ("apps", "replicasets"),
    ("batch", "jobs"), ("batch", "cronjobs"), ("networking.k8s.io", "ingresses"),
    ("coordination.k8s.io", "leases"), ("autoscaling", "horizontalpodautoscalers"),
]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.rv = 1000

    # ---- small helpers ----------------------------------------------------------------------
    def uid(self):
        return str(uuid.UUID(int=self.r.getrandbits(128), version=4))

    def ts(self, lo=0, hi=200 * 86400):
        t = BASE_EPOCH + self.r.randint(lo, hi)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    def resource_version(self):
        self.rv += self.r.randint(1, 97)
        return str(self.rv)

    def hexs(self, n):
        return format(self.r.getrandbits(4 * n), f"0{n}x")

    def alnum(self, n):
        return "".join(self.r.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))

    def b64(self, nbytes):
        return base64.b64encode(self.r.randbytes(nbytes)).decode()

    def pick(self, seq):
        return self.r.choice(seq)

    def chance(self, p):
        return self.r.random() < p

    def meta(self, name, ns=None, labels=None, annotations=None, owner=None, generation=None,
             created=None):
        m = {}
        if annotations:
            m["annotations"] = annotations
        m["creationTimestamp"] = created or self.ts()
        if generation is not None:
            m["generation"] = generation
        if labels:
            m["labels"] = labels
        m["name"] = name
        if ns is not None:
            m["namespace"] = ns
        if owner:
            m["ownerReferences"] = [owner]
        m["resourceVersion"] = self.resource_version()
        m["uid"] = self.uid()
        return m

    @staticmethod
    def owner_ref(obj, controller=True):
        ref = {
            "apiVersion": obj["apiVersion"],
            "blockOwnerDeletion": True,
            "controller": controller,
            "kind": obj["kind"],
            "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"],
        }
        return ref

    def last_applied(self, obj):
        """kubectl.kubernetes.io/last-applied-configuration: a compact JSON of the applied spec."""
        applied = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "metadata": {k: v for k, v in obj["metadata"].items()
                         if k in ("name", "namespace", "labels")},
        }
        for k in ("spec", "data", "type"):
            if k in obj:
                applied[k] = obj[k]
        return json.dumps(applied, separators=(",", ":"), sort_keys=True) + "\n"

    # ---- containers -------------------------------------------------------------------------
    def image(self, app):
        reg = self.pick(REGISTRIES)
        if self.chance(0.08):
            return f"{reg}/{app}:latest"
        if self.chance(0.05):
            return f"{reg}/{app}"
        if self.chance(0.15):
            return f"{reg}/{app}@sha256:{self.hexs(64)}"
        return f"{reg}/{app}:v{self.r.randint(0, 4)}.{self.r.randint(0, 30)}.{self.r.randint(0, 12)}"

    def security_context(self, profile):
        if profile == "restricted":
            return {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": self.pick([1000, 10001, 65532, 65534]),
                "seccompProfile": {"type": "RuntimeDefault"},
            }
        if profile == "baseline":
            sc = {"allowPrivilegeEscalation": self.chance(0.3)}
            if self.chance(0.5):
                sc["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
            if self.chance(0.5):
                sc["runAsNonRoot"] = True
            return sc
        if profile == "privileged":
            sc = {"privileged": True}
            if self.chance(0.5):
                sc["runAsUser"] = 0
            if self.chance(0.4):
                sc["capabilities"] = {"add": self.r.sample(
                    ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "NET_RAW", "SYS_MODULE"],
                    self.r.randint(1, 3))}
            return sc
        if profile == "root":
            return {"runAsUser": 0, "runAsGroup": 0, "allowPrivilegeEscalation": True}
        return None  # "none": no securityContext at all

    def env(self, app, ns, n):
        out = []
        for i in range(n):
            k = self.r.random()
            if k < 0.55:
                name = self.pick(["LOG_LEVEL", "PORT", "ENVIRONMENT", "REGION", "FEATURE_FLAGS",
                                  "JAVA_OPTS", "GOMAXPROCS", "OTEL_EXPORTER_OTLP_ENDPOINT",
                                  "CACHE_TTL", "WORKERS", "TZ", "HTTP_PROXY", "NO_PROXY"])
                val = self.pick(["info", "8080", "production", "eu-west-1", "true", "false",
                                 "-Xms512m -Xmx1g -XX:+UseG1GC", "2",
                                 "http://otel-collector.monitoring:4317", "300", "16", "UTC",
                                 "http://proxy.corp:3128", "10.0.0.0/8,.svc,.cluster.local",
                                 "1.0", "0755", "yes", "null", "", "a: b", "#hash"])
                out.append({"name": f"{name}_{i}" if i else name, "value": val})
            elif k < 0.75:
                out.append({"name": f"DB_PASSWORD_{i}", "valueFrom": {"secretKeyRef": {
                    "key": "password", "name": f"{app}-db-credentials"}}})
            elif k < 0.85:
                out.append({"name": f"CONFIG_{i}", "valueFrom": {"configMapKeyRef": {
                    "key": "config.yaml", "name": f"{app}-config", "optional": True}}})
            elif k < 0.93:
                out.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.name"}}})
            else:
                out.append({"name": "API_TOKEN", "value": "sk_live_" + self.alnum(24)})
        return out

    def probe(self, port):
        kind = self.r.random()
        if kind < 0.6:
            h = {"httpGet": {"path": self.pick(["/healthz", "/readyz", "/livez", "/health",
                                                 "/actuator/health"]),
                             "port": port, "scheme": "HTTP"}}
        elif kind < 0.85:
            h = {"tcpSocket": {"port": port}}
        else:
            h = {"exec": {"command": ["/bin/sh", "-c", "pg_isready -U postgres -h 127.0.0.1"]}}
        h.update({"failureThreshold": 3, "initialDelaySeconds": self.pick([0, 5, 10, 30]),
                  "periodSeconds": self.pick([5, 10, 15]), "successThreshold": 1,
                  "timeoutSeconds": self.pick([1, 2, 5])})
        return h

    def container(self, app, ns, profile, idx, init=False):
        cname = app if idx == 0 else self.pick(
            ["sidecar", "envoy", "log-shipper", "metrics-exporter", "oauth-proxy", "cloudsql-proxy"])
        if init:
            cname = self.pick(["init-db", "migrate", "wait-for-deps", "fix-perms", "init-config"])
        port = self.pick([80, 443, 3000, 5432, 6379, 8080, 8443, 9090, 9100])
        c = {}
        if init or self.chance(0.4):
            c["args"] = self.pick([
                ["--config=/etc/app/config.yaml", "--v=2"],
                ["--port", str(port), "--metrics-bind-address=:9100"],
                ["-c", "until nc -z db 5432; do echo waiting; sleep 2; done"],
            ])
        if init or self.chance(0.2):
            c["command"] = self.pick([["/bin/sh"], ["/app/server"], ["python", "-m", "app"],
                                      ["java", "-jar", "/app.jar"]])
        if self.chance(0.7):
            c["env"] = self.env(app, ns, self.r.choices([1, 2, 3, 5], weights=[35, 30, 20, 15])[0])
        if self.chance(0.1):
            c["envFrom"] = [{"configMapRef": {"name": f"{app}-env"}}]
        c["image"] = self.image(cname if idx or init else app)
        c["imagePullPolicy"] = self.pick(["IfNotPresent", "Always", "IfNotPresent"])
        if not init and self.chance(0.75):
            c["livenessProbe"] = self.probe(port)
        c["name"] = cname if not (idx and cname == app) else f"{cname}-{idx}"
        if not init:
            c["ports"] = [{"containerPort": port, "name": "http", "protocol": "TCP"}]
            if self.chance(0.3):
                c["ports"].append({"containerPort": 9100, "name": "metrics", "protocol": "TCP"})
            if self.chance(0.03):
                c["ports"][0]["hostPort"] = port
            if self.chance(0.7):
                c["readinessProbe"] = self.probe(port)
        rk = self.r.random()
        if rk < 0.55:
            c["resources"] = {
                "limits": {"cpu": self.pick(["500m", "1", "2", "250m"]),
                           "memory": self.pick(["256Mi", "512Mi", "1Gi", "2Gi"])},
                "requests": {"cpu": self.pick(["50m", "100m", "250m", "0.5"]),
                             "memory": self.pick(["64Mi", "128Mi", "256Mi", "512Mi"])}}
        elif rk < 0.8:
            c["resources"] = {"requests": {"cpu": "100m", "memory": "128Mi"}}
        else:
            c["resources"] = {}
        sc = self.security_context(profile)
        if sc is not None:
            c["securityContext"] = sc
        c["terminationMessagePath"] = "/dev/termination-log"
        c["terminationMessagePolicy"] = "File"
        mounts = []
        if self.chance(0.6):
            mounts.append({"mountPath": "/etc/app", "name": "config", "readOnly": True})
        if self.chance(0.3):
            mounts.append({"mountPath": "/tmp", "name": "tmp"})
        if profile == "privileged" and self.chance(0.5):
            mounts.append({"mountPath": "/host", "name": "host-root"})
        if mounts:
            c["volumeMounts"] = mounts
        return c

    def pod_spec(self, app, ns, profile, sa):
        spec = {}
        if self.chance(0.15):
            spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": app}},
                                    "topologyKey": "kubernetes.io/hostname"},
                "weight": 100}]}}
        if sa is None:
            spec["automountServiceAccountToken"] = self.chance(0.3)
        ncont = self.r.choices([1, 2, 3], weights=[70, 22, 8])[0]
        spec["containers"] = [self.container(app, ns, profile, i) for i in range(ncont)]
        spec["dnsPolicy"] = "ClusterFirst"
        if profile == "privileged":
            if self.chance(0.6):
                spec["hostNetwork"] = True
            if self.chance(0.3):
                spec["hostPID"] = True
            if self.chance(0.1):
                spec["hostIPC"] = True
        if self.chance(0.25):
            spec["imagePullSecrets"] = [{"name": "regcred"}]
        if self.chance(0.12):
            spec["initContainers"] = [self.container(app, ns, profile, 0, init=True)
                                      for _ in range(self.r.randint(1, 2))]
        if self.chance(0.2):
            spec["nodeSelector"] = {"kubernetes.io/os": "linux",
                                    "node.kubernetes.io/instance-type": self.pick(
                                        ["m5.xlarge", "c5.2xlarge", "r5.large"])}
        if self.chance(0.1):
            spec["priorityClassName"] = self.pick(["system-cluster-critical", "high-priority"])
        spec["restartPolicy"] = "Always"
        spec["schedulerName"] = "default-scheduler"
        psc = {}
        if profile == "restricted":
            psc = {"fsGroup": 2000, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
        elif profile == "baseline" and self.chance(0.5):
            psc = {"fsGroup": 1000}
        spec["securityContext"] = psc
        if sa is not None:
            spec["serviceAccount"] = sa
            spec["serviceAccountName"] = sa
        spec["terminationGracePeriodSeconds"] = self.pick([30, 30, 60, 10])
        if self.chance(0.15):
            spec["tolerations"] = [{"effect": "NoSchedule", "key": "dedicated",
                                    "operator": "Equal", "value": self.pick(TEAMS)}]
        vols = [{"configMap": {"defaultMode": 420, "name": f"{app}-config"}, "name": "config"},
                {"emptyDir": {}, "name": "tmp"}]
        if profile == "privileged":
            vols.append({"hostPath": {"path": self.pick(["/", "/var/run/docker.sock", "/var/log",
                                                         "/proc", "/etc"]),
                                      "type": ""}, "name": "host-root"})
        if self.chance(0.2):
            vols.append({"name": "certs", "secret": {"defaultMode": 420,
                                                      "secretName": f"{app}-tls"}})
        if self.chance(0.1):
            vols.append({"name": "data", "persistentVolumeClaim": {"claimName": f"{app}-data"}})
        spec["volumes"] = vols
        return spec

    def app_labels(self, app, team, env, version=True):
        labels = {"app": app, "app.kubernetes.io/name": app,
                  "app.kubernetes.io/part-of": f"{team}-platform",
                  "app.kubernetes.io/managed-by": self.pick(["Helm", "kustomize", "argocd"]),
                  "team": team, "env": env}
        if version:
            labels["app.kubernetes.io/version"] = f"{self.r.randint(1, 5)}.{self.r.randint(0, 20)}.0"
        if self.chance(0.2):
            labels["helm.sh/chart"] = f"{app}-{self.r.randint(0, 9)}.{self.r.randint(0, 30)}.{self.r.randint(0, 9)}"
        return labels

    def workload_annotations(self):
        a = {}
        if self.chance(0.5):
            a["deployment.kubernetes.io/revision"] = str(self.r.randint(1, 40))
        if self.chance(0.3):
            a["meta.helm.sh/release-name"] = self.pick(WORDS)
            a["meta.helm.sh/release-namespace"] = self.pick(WORDS)
        if self.chance(0.2):
            a["description"] = "Serves the " + self.pick(WORDS) + " API: reads, writes # and caches"
        return a

    def pod_template(self, app, labels, ns, profile, sa, hash_label=None):
        tlabels = {"app": app, "app.kubernetes.io/name": app}
        if hash_label:
            tlabels["pod-template-hash"] = hash_label
        annotations = {}
        if self.chance(0.4):
            annotations["prometheus.io/scrape"] = "true"
            annotations["prometheus.io/port"] = "9100"
        if self.chance(0.1):
            annotations["container.apparmor.security.beta.kubernetes.io/" + app] = "unconfined"
        meta = {"creationTimestamp": None, "labels": tlabels}
        if annotations:
            meta = {"annotations": annotations, **meta}
        return {"metadata": meta, "spec": self.pod_spec(app, ns, profile, sa)}

    # ---- objects ----------------------------------------------------------------------------
    def profile(self, ns_kind):
        if ns_kind == "system":
            return self.r.choices(["restricted", "baseline", "privileged", "root", "none"],
                                  weights=[20, 25, 35, 10, 10])[0]
        return self.r.choices(["restricted", "baseline", "privileged", "root", "none"],
                              weights=[35, 30, 4, 6, 25])[0]

    def pod_from_template(self, tmpl, name, ns, owner, node, phase="Running"):
        spec = json.loads(json.dumps(tmpl["spec"]))  # deep copy
        spec["nodeName"] = node
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec["priority"] = 0
        spec["enableServiceLinks"] = True
        spec["tolerations"] = spec.get("tolerations", []) + [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "tolerationSeconds": 300}]
        spec["volumes"] = spec["volumes"] + [{"name": "kube-api-access-" + self.alnum(5), "projected": {
            "defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                               "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1",
                                                         "fieldPath": "metadata.namespace"},
                                            "path": "namespace"}]}}]}}]
        started = self.ts()
        meta = self.meta(name, ns, labels=dict(tmpl["metadata"]["labels"]),
                         annotations=tmpl["metadata"].get("annotations"),
                         owner=owner, created=started)
        meta["generateName"] = name.rsplit("-", 1)[0] + "-"
        statuses = []
        for c in spec["containers"]:
            statuses.append({
                "containerID": "containerd://" + self.hexs(64),
                "image": c["image"], "imageID": c["image"].split("@")[0].split(":")[0] + "@sha256:" + self.hexs(64),
                "lastState": {}, "name": c["name"], "ready": phase == "Running",
                "restartCount": self.r.choices([0, 1, 3, 17], weights=[80, 12, 5, 3])[0],
                "started": phase == "Running",
                "state": ({"running": {"startedAt": started}} if phase == "Running" else
                          {"terminated": {"containerID": "containerd://" + self.hexs(64),
                                          "exitCode": 0, "finishedAt": started,
                                          "reason": "Completed", "startedAt": started}})})
        ip = f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        status = {
            "conditions": [{"lastProbeTime": None, "lastTransitionTime": started, "status": "True",
                            "type": t} for t in ("Initialized", "Ready", "ContainersReady",
                                                 "PodScheduled")],
            "containerStatuses": statuses,
            "hostIP": f"172.20.{self.r.randint(0, 15)}.{self.r.randint(1, 254)}",
            "phase": phase, "podIP": ip, "podIPs": [{"ip": ip}],
            "qosClass": self.pick(["Burstable", "BestEffort", "Guaranteed"]),
            "startTime": started}
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}

    def deployment(self, ns, ns_kind, team, env, app, sas, objs):
        profile = self.profile(ns_kind)
        labels = self.app_labels(app, team, env)
        replicas = self.r.choices([1, 2, 3], weights=[50, 35, 15])[0]
        sa = self.pick(sas) if sas and self.chance(0.7) else None
        hash_label = self.alnum(10)
        tmpl = self.pod_template(app, labels, ns, profile, sa, None)
        d = {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": self.meta(app, ns, labels, self.workload_annotations(), generation=self.r.randint(1, 40)),
             "spec": {"progressDeadlineSeconds": 600, "replicas": replicas,
                      "revisionHistoryLimit": 10,
                      "selector": {"matchLabels": {"app": app, "app.kubernetes.io/name": app}},
                      "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                                   "type": "RollingUpdate"},
                      "template": tmpl},
             "status": {"availableReplicas": replicas, "observedGeneration": 1,
                        "readyReplicas": replicas, "replicas": replicas,
                        "updatedReplicas": replicas,
                        "conditions": [{"lastTransitionTime": self.ts(), "lastUpdateTime": self.ts(),
                                        "message": f'ReplicaSet "{app}-{hash_label}" has successfully progressed.',
                                        "reason": "NewReplicaSetAvailable", "status": "True",
                                        "type": "Progressing"}]}}
        if self.chance(0.12):
            d["metadata"].setdefault("annotations", {})[
                "kubectl.kubernetes.io/last-applied-configuration"] = self.last_applied(d)
        objs.append(d)
        # Current ReplicaSet plus 0-2 old, scaled-down ones.
        for rev in range(self.r.choices([1, 2, 3], weights=[55, 35, 10])[0]):
            h = hash_label if rev == 0 else self.alnum(10)
            rs_tmpl = json.loads(json.dumps(tmpl))
            rs_tmpl["metadata"]["labels"]["pod-template-hash"] = h
            n = replicas if rev == 0 else 0
            rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
                  "metadata": self.meta(f"{app}-{h}", ns, dict(rs_tmpl["metadata"]["labels"]),
                                        {"deployment.kubernetes.io/desired-replicas": str(replicas),
                                         "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                         "deployment.kubernetes.io/revision": str(10 - rev)},
                                        owner=self.owner_ref(d), generation=1),
                  "spec": {"replicas": n,
                           "selector": {"matchLabels": {"app": app, "app.kubernetes.io/name": app,
                                                        "pod-template-hash": h}},
                           "template": rs_tmpl},
                  "status": {"observedGeneration": 1, "replicas": n,
                             **({"availableReplicas": n, "fullyLabeledReplicas": n,
                                 "readyReplicas": n} if n else {})}}
            objs.append(rs)
            for _ in range(n):
                objs.append(self.pod_from_template(rs_tmpl, f"{app}-{h}-{self.alnum(5)}", ns,
                                                   self.owner_ref(rs),
                                                   f"ip-172-20-{self.r.randint(0, NUM_NODES - 1)}.ec2.internal"))
        return d

    def statefulset(self, ns, ns_kind, team, env, app, sas, objs):
        profile = self.profile(ns_kind)
        labels = self.app_labels(app, team, env)
        replicas = self.r.choice([1, 3])
        sa = self.pick(sas) if sas and self.chance(0.7) else None
        tmpl = self.pod_template(app, labels, ns, profile, sa)
        s = {"apiVersion": "apps/v1", "kind": "StatefulSet",
             "metadata": self.meta(app, ns, labels, self.workload_annotations(), generation=1),
             "spec": {"podManagementPolicy": "OrderedReady", "replicas": replicas,
                      "revisionHistoryLimit": 10,
                      "selector": {"matchLabels": {"app": app, "app.kubernetes.io/name": app}},
                      "serviceName": f"{app}-headless", "template": tmpl,
                      "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                      "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                                "metadata": {"creationTimestamp": None, "name": "data"},
                                                "spec": {"accessModes": ["ReadWriteOnce"],
                                                         "resources": {"requests": {"storage": self.pick(["10Gi", "50Gi", "200Gi"])}},
                                                         "storageClassName": "gp3",
                                                         "volumeMode": "Filesystem"},
                                                "status": {"phase": "Pending"}}]},
             "status": {"availableReplicas": replicas, "collisionCount": 0,
                        "currentReplicas": replicas, "currentRevision": f"{app}-{self.alnum(10)}",
                        "observedGeneration": 1, "readyReplicas": replicas, "replicas": replicas}}
        objs.append(s)
        for i in range(replicas):
            p = self.pod_from_template(tmpl, f"{app}-{i}", ns, self.owner_ref(s),
                                       f"ip-172-20-{self.r.randint(0, NUM_NODES - 1)}.ec2.internal")
            p["metadata"]["generateName"] = f"{app}-"
            objs.append(p)

    def daemonset(self, ns, team, env, app, objs):
        profile = self.r.choices(["privileged", "root", "baseline", "restricted"], weights=[50, 15, 20, 15])[0]
        labels = self.app_labels(app, team, env)
        tmpl = self.pod_template(app, labels, ns, profile, app)
        tmpl["spec"]["tolerations"] = [{"operator": "Exists"}]
        ds = {"apiVersion": "apps/v1", "kind": "DaemonSet",
              "metadata": self.meta(app, ns, labels, self.workload_annotations(), generation=1),
              "spec": {"revisionHistoryLimit": 10,
                       "selector": {"matchLabels": {"app": app, "app.kubernetes.io/name": app}},
                       "template": tmpl,
                       "updateStrategy": {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                                          "type": "RollingUpdate"}},
              "status": {"currentNumberScheduled": NUM_NODES, "desiredNumberScheduled": NUM_NODES,
                         "numberAvailable": NUM_NODES, "numberMisscheduled": 0,
                         "numberReady": NUM_NODES, "observedGeneration": 1,
                         "updatedNumberScheduled": NUM_NODES}}
        objs.append(ds)
        for node in range(NUM_NODES):
            objs.append(self.pod_from_template(tmpl, f"{app}-{self.alnum(5)}", ns, self.owner_ref(ds),
                                               f"ip-172-20-{node}.ec2.internal"))

    def job_spec(self, app, ns, ns_kind, sa):
        tmpl = self.pod_template(app, {}, ns, self.profile(ns_kind), sa)
        tmpl["spec"]["restartPolicy"] = self.pick(["OnFailure", "Never"])
        for c in tmpl["spec"]["containers"]:
            c.pop("livenessProbe", None)
            c.pop("readinessProbe", None)
        return {"backoffLimit": 6, "completionMode": "NonIndexed", "completions": 1,
                "parallelism": 1, "suspend": False, "template": tmpl,
                **({"ttlSecondsAfterFinished": 86400} if self.chance(0.5) else {})}

    def job(self, ns, ns_kind, team, env, app, sas, objs, owner=None):
        name = f"{app}-{self.r.randint(28000000, 28999999)}" if owner else f"{app}-migrate-{self.alnum(5)}"
        spec = self.job_spec(app, ns, ns_kind, self.pick(sas) if sas else None)
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": self.uid()}}
        j = {"apiVersion": "batch/v1", "kind": "Job",
             "metadata": self.meta(name, ns, self.app_labels(app, team, env, version=False),
                                   owner=owner, generation=1),
             "spec": spec,
             "status": {"completionTime": self.ts(), "conditions": [{
                 "lastProbeTime": self.ts(), "lastTransitionTime": self.ts(),
                 "status": "True", "type": "Complete"}], "startTime": self.ts(), "succeeded": 1}}
        objs.append(j)
        if self.chance(0.5):
            objs.append(self.pod_from_template(spec["template"], f"{name}-{self.alnum(5)}", ns,
                                               self.owner_ref(j),
                                               f"ip-172-20-{self.r.randint(0, NUM_NODES - 1)}.ec2.internal",
                                               phase="Succeeded"))

    def cronjob(self, ns, ns_kind, team, env, app, sas, objs):
        spec = self.job_spec(app, ns, ns_kind, self.pick(sas) if sas else None)
        cj = {"apiVersion": "batch/v1", "kind": "CronJob",
              "metadata": self.meta(f"{app}-cron", ns, self.app_labels(app, team, env, version=False),
                                    self.workload_annotations(), generation=1),
              "spec": {"concurrencyPolicy": self.pick(["Forbid", "Allow", "Replace"]),
                       "failedJobsHistoryLimit": 1,
                       "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": spec},
                       "schedule": self.pick(["*/5 * * * *", "0 3 * * *", "@hourly", "30 1 * * 0",
                                              "0 */6 * * *"]),
                       "successfulJobsHistoryLimit": 3, "suspend": self.chance(0.1)},
              "status": {"lastScheduleTime": self.ts(), "lastSuccessfulTime": self.ts()}}
        objs.append(cj)
        if self.chance(0.5):
            self.job(ns, ns_kind, team, env, app, sas, objs, owner=self.owner_ref(cj))

    def service(self, ns, app, labels, objs, headless=False):
        port = self.pick([80, 443, 8080, 9090])
        stype = "ClusterIP" if headless else self.r.choices(
            ["ClusterIP", "NodePort", "LoadBalancer"], weights=[85, 8, 7])[0]
        ip = "None" if headless else f"172.{self.r.randint(16, 31)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"
        spec = {"clusterIP": ip, "clusterIPs": [ip], "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": self.pick([8080, "http"])}],
                "selector": {"app": app, "app.kubernetes.io/name": app},
                "sessionAffinity": "None", "type": stype}
        if self.chance(0.3):
            spec["ports"].append({"name": "metrics", "port": 9100, "protocol": "TCP", "targetPort": 9100})
        if stype == "NodePort":
            for p in spec["ports"]:
                p["nodePort"] = self.r.randint(30000, 32767)
            spec["externalTrafficPolicy"] = "Cluster"
        status = {"loadBalancer": {}}
        ann = {}
        if stype == "LoadBalancer":
            for p in spec["ports"]:
                p["nodePort"] = self.r.randint(30000, 32767)
            spec["allocateLoadBalancerNodePorts"] = True
            spec["externalTrafficPolicy"] = self.pick(["Cluster", "Local"])
            ann["service.beta.kubernetes.io/aws-load-balancer-type"] = "nlb"
            if self.chance(0.5):
                ann["service.beta.kubernetes.io/aws-load-balancer-internal"] = "true"
            status = {"loadBalancer": {"ingress": [{"hostname": f"a{self.hexs(32)}-{self.r.randint(100000000, 999999999)}.elb.eu-west-1.amazonaws.com"}]}}
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": self.meta(f"{app}-headless" if headless else app, ns, labels, ann or None),
               "spec": spec, "status": status}
        if self.chance(0.15):
            svc["metadata"].setdefault("annotations", {})[
                "kubectl.kubernetes.io/last-applied-configuration"] = self.last_applied(svc)
        objs.append(svc)

    def configmap(self, ns, name, labels, objs):
        data = {}
        k = self.r.random()
        if k < 0.35:
            lines = ["server:", f"  port: {self.pick([8080, 9090])}", "  timeouts:",
                     "    read: 30s", "    write: 30s", "database:",
                     f"  host: {self.pick(WORDS)}-db.{ns}.svc.cluster.local", "  pool: 20",
                     "features:"]
            lines += [f"  {self.pick(WORDS)}_{i}: {self.pick(['true', 'false'])}"
                      for i in range(self.r.randint(2, 12))]
            data["config.yaml"] = "\n".join(lines) + "\n"
        elif k < 0.5:
            blocks = [f"[{self.pick(WORDS)}]\nenabled = true\nthreshold = {self.r.randint(1, 99)}\n"
                      for _ in range(self.r.randint(1, 5))]
            data["app.toml"] = "\n".join(blocks)
        elif k < 0.6:
            data["nginx.conf"] = (
                "worker_processes auto;\nevents {\n  worker_connections 1024;\n}\nhttp {\n"
                "  server {\n    listen 8080;\n    location / {\n      proxy_pass http://backend:8080;\n"
                "      proxy_set_header Host $host;\n    }\n  }\n}")
        elif k < 0.7:
            data["ca.crt"] = ("-----BEGIN CERTIFICATE-----\n" +
                              "\n".join(self.b64(48) for _ in range(self.r.randint(8, 14))) +
                              "\n-----END CERTIFICATE-----\n")
        elif k < 0.8:
            data["application.properties"] = "\n".join(
                f"{self.pick(WORDS)}.{self.pick(WORDS)}.{self.pick(WORDS)}={self.pick(['true', '42', 'on', 'http://x:80/a', ''])}"
                for _ in range(self.r.randint(3, 15))) + "\n"
        else:
            for i in range(self.r.randint(1, 12)):
                data[self.pick(WORDS).upper() + f"_{i}"] = self.pick(
                    ["true", "1", "0.5", "yes", "off", "~", "debug", "- item", "key: value",
                     "https://api.example.com/v1", "0x1F", "1e3", "2024-01-01", "", "{a: 1}",
                     "with 'single' and \"double\" quotes", "trailing space ", " leading"])
        cm = {"apiVersion": "v1", "data": data, "kind": "ConfigMap",
              "metadata": self.meta(name, ns, labels)}
        if self.chance(0.2):
            cm["metadata"]["annotations"] = {
                "kubectl.kubernetes.io/last-applied-configuration": self.last_applied(cm)}
        objs.append(cm)

    def secret(self, ns, name, stype, objs):
        if stype == "kubernetes.io/tls":
            data = {"tls.crt": self.b64(self.r.randint(700, 1100)), "tls.key": self.b64(227)}
        elif stype == "kubernetes.io/dockerconfigjson":
            data = {".dockerconfigjson": self.b64(self.r.randint(120, 300))}
        elif stype == "kubernetes.io/service-account-token":
            data = {"ca.crt": self.b64(1066), "namespace": self.b64(len(ns)), "token": self.b64(700)}
        elif stype == "helm.sh/release.v1":
            data = {"release": self.b64(self.r.randint(200, 700))}
        else:
            data = {k: self.b64(self.r.randint(8, 48)) for k in
                    self.r.sample(["username", "password", "api-key", "url", "client-secret",
                                   "connection-string", "token"], self.r.randint(1, 4))}
        s = {"apiVersion": "v1", "data": data, "kind": "Secret",
             "metadata": self.meta(name, ns), "type": stype}
        objs.append(s)

    def rbac(self, ns, app, sa, objs):
        rules = []
        for _ in range(self.r.randint(1, 4)):
            group, res = self.pick(RESOURCES)
            rules.append({"apiGroups": [group], "resources": [res],
                          "verbs": self.r.sample(VERBS, self.r.randint(1, len(VERBS)))})
        if self.chance(0.05):
            rules.append({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
        if self.chance(0.1):
            rules.append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]})
        role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": self.meta(f"{app}-role", ns), "rules": rules}
        objs.append(role)
        subjects = [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]
        if self.chance(0.1):
            subjects.append({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": self.pick(["system:authenticated", "developers", "system:serviceaccounts"])})
        objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                     "metadata": self.meta(f"{app}-rolebinding", ns),
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                 "name": f"{app}-role"},
                     "subjects": subjects})
        if self.chance(0.4):
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                         "metadata": self.meta(f"{app}-view", ns),
                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": self.pick(["view", "edit", "admin", "cluster-admin"])},
                         "subjects": subjects[:1]})

    def network_policy(self, ns, app, objs):
        if app is None:
            np = {"podSelector": {}, "policyTypes": ["Ingress"]}
            name = "default-deny"
        else:
            name = f"{app}-allow"
            np = {"ingress": [{"from": [{"podSelector": {"matchLabels": {"app": self.pick(WORDS)}}},
                                        {"namespaceSelector": {"matchLabels": {
                                            "kubernetes.io/metadata.name": self.pick(SYSTEM_NAMESPACES)}}}],
                               "ports": [{"port": 8080, "protocol": "TCP"}]}],
                  "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"]}
            if self.chance(0.4):
                np["egress"] = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]
                np["policyTypes"].append("Egress")
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": self.meta(name, ns, generation=1),
                     "spec": np})

    def pdb(self, ns, app, objs):
        spec = {"selector": {"matchLabels": {"app": app}}}
        if self.chance(0.5):
            spec["minAvailable"] = self.pick([1, "50%"])
        else:
            spec["maxUnavailable"] = self.pick([1, "25%", 0])
        objs.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": self.meta(f"{app}-pdb", ns, generation=1), "spec": spec,
                     "status": {"currentHealthy": 2, "desiredHealthy": 1, "disruptionsAllowed": 1,
                                "expectedPods": 2, "observedGeneration": 1}})

    def ingress(self, ns, app, objs):
        host = f"{app}.{self.pick(['example.com', 'acme.io', 'internal.corp'])}"
        ann = {"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
        if self.chance(0.3):
            ann["nginx.ingress.kubernetes.io/configuration-snippet"] = (
                "more_set_headers \"X-Frame-Options: DENY\";\nadd_header X-Debug $request_id;\n")
        if self.chance(0.3):
            ann["nginx.ingress.kubernetes.io/ssl-redirect"] = "false"
        spec = {"ingressClassName": "nginx",
                "rules": [{"host": host, "http": {"paths": [{"backend": {"service": {
                    "name": app, "port": {"number": 80}}}, "path": "/", "pathType": "Prefix"}]}}]}
        if self.chance(0.7):
            spec["tls"] = [{"hosts": [host], "secretName": f"{app}-tls"}]
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                     "metadata": self.meta(app, ns, annotations=ann, generation=1), "spec": spec,
                     "status": {"loadBalancer": {"ingress": [{"ip": f"34.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"}]}}})

    def hpa(self, ns, app, objs):
        objs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                     "metadata": self.meta(app, ns),
                     "spec": {"maxReplicas": self.pick([5, 10, 20]),
                              "metrics": [{"resource": {"name": "cpu", "target": {
                                  "averageUtilization": self.pick([60, 70, 80]), "type": "Utilization"}},
                                  "type": "Resource"}],
                              "minReplicas": self.pick([1, 2, 3]),
                              "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app}},
                     "status": {"currentReplicas": 2, "desiredReplicas": 2,
                                "currentMetrics": [{"resource": {"current": {"averageUtilization": 41,
                                                                             "averageValue": "205m"},
                                                                 "name": "cpu"}, "type": "Resource"}]}})

    # ---- namespace --------------------------------------------------------------------------
    def namespace(self, ns, ns_kind):
        team = self.pick(TEAMS)
        env = self.pick(ENVS)
        objs = []
        labels = {"kubernetes.io/metadata.name": ns}
        if ns_kind == "app":
            labels.update({"team": team, "env": env})
            if self.chance(0.4):
                labels["pod-security.kubernetes.io/enforce"] = self.pick(["restricted", "baseline", "privileged"])
        ns_obj = {"apiVersion": "v1", "kind": "Namespace",
                  "metadata": self.meta(ns, None, labels),
                  "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

        # default SA + kube-root-ca.crt exist in every namespace
        sas = []
        objs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": self.meta("default", ns)})
        self.configmap_root_ca(ns, objs)
        n_apps = max(1, int(self.r.lognormvariate(1.2, 0.6)))
        apps = []
        for i in range(n_apps):
            app = f"{self.pick(WORDS)}-{self.pick(WORDS)}" if i else self.pick(WORDS)
            while app in apps:
                app = f"{app}-{i}"
            apps.append(app)
        if self.chance(0.5):
            self.network_policy(ns, None, objs)  # namespace-wide default deny
        for _ in range(self.r.randint(1, 4)):  # team access bindings
            group = f"{team}-{self.pick(['devs', 'oncall', 'readers', 'admins'])}"
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                         "metadata": self.meta(f"{group}-{self.alnum(4)}", ns),
                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": self.pick(["view", "edit", "admin"])},
                         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                       "name": group}]})
        for app in apps:
            labels = self.app_labels(app, team, env)
            sa = app if self.chance(0.8) else None
            if sa:
                sa_obj = {"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": self.meta(sa, ns, {"app": app})}
                if self.chance(0.3):
                    sa_obj["automountServiceAccountToken"] = False
                if self.chance(0.2):
                    sa_obj["metadata"]["annotations"] = {
                        "eks.amazonaws.com/role-arn": f"arn:aws:iam::123456789012:role/{ns}-{app}"}
                objs.append(sa_obj)
                sas.append(sa)
            kind = self.r.choices(["deploy", "sts", "job", "cron"], weights=[78, 10, 5, 7])[0]
            if kind == "deploy":
                self.deployment(ns, ns_kind, team, env, app, [sa] if sa else [], objs)
                if self.chance(0.35):
                    self.hpa(ns, app, objs)
                if self.chance(0.35):
                    self.pdb(ns, app, objs)
                if self.chance(0.25):
                    self.ingress(ns, app, objs)
            elif kind == "sts":
                self.statefulset(ns, ns_kind, team, env, app, [sa] if sa else [], objs)
                self.service(ns, app, labels, objs, headless=True)
                if self.chance(0.6):
                    self.pdb(ns, app, objs)
            elif kind == "job":
                self.job(ns, ns_kind, team, env, app, [sa] if sa else [], objs)
            else:
                self.cronjob(ns, ns_kind, team, env, app, [sa] if sa else [], objs)
            if kind in ("deploy", "sts"):
                self.service(ns, app, labels, objs)
                if self.chance(0.3):
                    self.service(ns, app + "-metrics", labels, objs)
            for _ in range(self.r.choices([0, 1, 2, 3, 4, 6], weights=[5, 15, 25, 20, 20, 15])[0]):
                self.configmap(ns, f"{app}-{self.pick(['config', 'env', 'scripts', 'rules', 'dashboards'])}-{self.alnum(4)}",
                               {"app": app}, objs)
            for st in self.r.sample(["Opaque", "Opaque", "kubernetes.io/tls", "Opaque",
                                     "kubernetes.io/dockerconfigjson"], self.r.randint(0, 3)):
                self.secret(ns, f"{app}-{st.split('/')[-1].replace('.', '-').lower()}-{self.alnum(5)}", st, objs)
            if labels["app.kubernetes.io/managed-by"] == "Helm" or self.chance(0.4):
                # Helm keeps one Secret per release revision (--history-max 10 by default)
                last = self.r.randint(1, 40)
                for rev in range(max(1, last - self.r.choice([3, 6, 9, 9, 9])), last + 1):
                    self.secret(ns, f"sh.helm.release.v1.{app}.v{rev}", "helm.sh/release.v1", objs)
            if sa and self.chance(0.6):
                self.rbac(ns, app, sa, objs)
            if self.chance(0.5):
                self.network_policy(ns, app, objs)
        # Clutter that accumulates in every namespace: leader-election ConfigMaps, generated
        # config, CI tokens, registry credentials, extra ServiceAccounts and bindings.
        for _ in range(int(n_apps * self.r.uniform(6.0, 12.0))):
            app = self.pick(apps)
            k = self.r.choices(["cm", "secret", "sa", "rb", "svc", "np"], weights=[38, 30, 10, 12, 5, 5])[0]
            if k == "cm":
                self.configmap(ns, f"{app}-{self.pick(['leader', 'generated', 'dashboards', 'rules', 'scripts', 'ca-bundle'])}-{self.alnum(5)}",
                               {"app": app}, objs)
            elif k == "secret":
                st = self.r.choices(["Opaque", "kubernetes.io/dockerconfigjson", "kubernetes.io/tls"],
                                    weights=[75, 15, 10])[0]
                self.secret(ns, f"{app}-{self.pick(['creds', 'token', 'regcred', 'cert', 'webhook'])}-{self.alnum(5)}", st, objs)
            elif k == "sa":
                objs.append({"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": self.meta(f"{self.pick(['ci', 'deployer', 'builder', 'backup', 'reader'])}-{self.alnum(5)}", ns)})
            elif k == "rb":
                objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                             "metadata": self.meta(f"{app}-{self.pick(['view', 'deployer', 'ci'])}-{self.alnum(5)}", ns),
                             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                         "name": self.pick(["view", "edit", "admin", "cluster-admin"])},
                             "subjects": [{"kind": "ServiceAccount", "name": self.pick(sas) if sas else "default",
                                           "namespace": ns}]})
            elif k == "svc":
                self.service(ns, f"{app}-{self.pick(['internal', 'grpc', 'admin', 'canary'])}-{self.alnum(3)}",
                             {"app": app}, objs)
            else:
                self.network_policy(ns, app + "-" + self.alnum(3), objs)
        if ns_kind == "system" and self.chance(0.8):
            for _ in range(self.r.randint(1, 5)):
                app = f"{self.pick(['node', 'log', 'csi', 'cni', 'security'])}-{self.pick(WORDS)}-agent"
                self.daemonset(ns, team, env, app, objs)
        return ns_obj, objs

    def configmap_root_ca(self, ns, objs):
        objs.append({"apiVersion": "v1", "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n" +
                                                  "\n".join(["MIIC/jCCAeagAwIBAgIBADANBgkqhkiG9w0BAQsFADAVMRMwEQYDVQQDEwprdWJl"] * 16) +
                                                  "\n-----END CERTIFICATE-----\n"},
                     "kind": "ConfigMap",
                     "metadata": self.meta("kube-root-ca.crt", ns, annotations={
                         "kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."})})

    def cluster_scoped(self, n_roles, n_bindings):
        objs = []
        names = set()
        for i in range(n_roles):
            name = self.pick(["system:", "", "", "acme:"]) + f"{self.pick(WORDS)}-{self.pick(WORDS)}-{i}"
            names.add(name)
            rules = []
            for _ in range(self.r.randint(1, 6)):
                group, res = self.pick(RESOURCES)
                rules.append({"apiGroups": [group], "resources": [res],
                              "verbs": self.r.sample(VERBS, self.r.randint(1, len(VERBS)))})
            if self.chance(0.03):
                rules.append({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]})
            if self.chance(0.05):
                rules.append({"nonResourceURLs": ["/metrics", "/healthz"], "verbs": ["get"]})
            if self.chance(0.04):
                rules.append({"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]})
            labels = {"kubernetes.io/bootstrapping": "rbac-defaults"} if name.startswith("system:") else \
                {"app.kubernetes.io/managed-by": "Helm"}
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                         "metadata": self.meta(name, None, labels,
                                               {"rbac.authorization.kubernetes.io/autoupdate": "true"}),
                         "rules": rules})
        names = sorted(names) + ["cluster-admin", "view", "edit", "admin"]
        for i in range(n_bindings):
            subj = self.r.choices(["sa", "group", "user"], weights=[80, 12, 8])[0]
            if subj == "sa":
                s = {"kind": "ServiceAccount", "name": self.pick(WORDS), "namespace": self.pick(SYSTEM_NAMESPACES)}
            elif subj == "group":
                s = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                     "name": self.pick(["system:masters", "system:authenticated", "oncall", "system:unauthenticated"])}
            else:
                s = {"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                     "name": f"{self.pick(WORDS)}@example.com"}
            objs.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                         "metadata": self.meta(f"{self.pick(WORDS)}-binding-{i}", None),
                         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                     "name": self.pick(names)},
                         "subjects": [s]})
        return objs


def generate(total_objects=TOTAL_OBJECTS):
    """All objects; pads with ConfigMaps up to total_objects (None: no padding, for tuning)."""
    g = Gen(SEED)
    ns_names = list(SYSTEM_NAMESPACES)
    while len(ns_names) < NUM_NAMESPACES:
        n = f"{g.pick(TEAMS)}-{g.pick(WORDS)}-{g.pick(ENVS)}"
        if n not in ns_names:
            ns_names.append(n)
    ns_objs, per_ns = [], []
    for ns in ns_names:
        kind = "system" if ns in SYSTEM_NAMESPACES else "app"
        o, objs = g.namespace(ns, kind)
        ns_objs.append(o)
        per_ns.append(objs)
    cluster = ns_objs + g.cluster_scoped(700, 600)
    total = len(cluster) + sum(len(x) for x in per_ns)
    if total_objects is None:
        return cluster + [o for objs in per_ns for o in objs]
    if total > total_objects:
        raise SystemExit(f"generator produced {total} > {total_objects} objects; retune")
    # Pad to exactly TOTAL_OBJECTS with ConfigMaps spread over the namespaces.
    i = 0
    while total < total_objects:
        ns = ns_names[i % len(ns_names)]
        g.configmap(ns, f"extra-{g.pick(WORDS)}-{g.alnum(6)}", {"app": g.pick(WORDS)}, per_ns[i % len(per_ns)])
        total += 1
        i += 1
    items = cluster + [o for objs in per_ns for o in objs]
    assert len(items) == total_objects
    return items


def write_yaml_docs(path, docs):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("".join(docs))


def main(argv):
    outdir = None
    split = None
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--split":
            if len(args) < 2:
                raise SystemExit("--split needs DIR N")
            split = (args.pop(0), int(args.pop(0)))
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif outdir is None and not a.startswith("-"):
            outdir = a
        else:
            raise SystemExit(f"unexpected argument {a!r}\n{__doc__}")
    if outdir is None and split is None:
        raise SystemExit(__doc__)

    items = generate()
    docs = ["---\n" + to_yaml(o) for o in items]
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        write_yaml_docs(os.path.join(outdir, "snapshot.yaml"), docs)
        with open(os.path.join(outdir, "snapshot.json"), "w", encoding="ascii", newline="\n") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items,
                       "metadata": {"resourceVersion": ""}}, f, indent=1, ensure_ascii=True)
            f.write("\n")
    if split:
        sdir, n = split
        if n < 1:
            raise SystemExit("--split N must be >= 1")
        os.makedirs(sdir, exist_ok=True)
        for old in os.listdir(sdir):
            if old.startswith("part-") and old.endswith(".yaml"):
                os.remove(os.path.join(sdir, old))
        # Contiguous chunks with about the same number of bytes each.
        total = sum(len(d) for d in docs)
        start, acc, part = 0, 0, 0
        width = max(2, len(str(n - 1)))
        for idx, d in enumerate(docs):
            acc += len(d)
            remaining_parts = n - part - 1
            if (acc >= total * (part + 1) / n and remaining_parts > 0
                    and len(docs) - idx - 1 >= remaining_parts) or idx == len(docs) - 1:
                write_yaml_docs(os.path.join(sdir, f"part-{part:0{width}d}.yaml"), docs[start:idx + 1])
                start, part = idx + 1, part + 1
        assert part == n, (part, n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
