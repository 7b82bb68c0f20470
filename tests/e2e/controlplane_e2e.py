#!/usr/bin/env python3
"""The control-plane rules (rules/security/{apiserver,controller-manager,scheduler,etcd}-*,
template component-flag) against a real control plane's flags (issue 21).

From the harness' RUNNING kube-apiserver and etcd (their argv as started: Cluster.procs; and
kube-controller-manager's when a composed suite runs it) it writes a kubeadm-style manifest set:
static Pods in /etc/kubernetes/manifests form carrying the real argv, and a kubeadm
ClusterConfiguration (v1beta4, extraArgs as a list; and v1beta3, a map) with the same flags.
Then:
  1. kguard scans the set; the rules that fire on each object are exactly the ones an
     independent reading of the same argv predicts (ORACLE below: a flag map and a predicate per
     rule, kubeadm's own flags under the ClusterConfiguration's; the same ClusterConfiguration as text
     in a kube-system/kubeadm-config ConfigMap fires the same rules). The harness' known weaknesses
     (anonymous auth, profiling, etcd over plain HTTP...) must be among them.
  2. Known-bad and known-good variants of each flag, generated from the real manifest by flipping
     that one flag: the bad one fails exactly its rule's verdict, the good one passes it.
  3. The same Pod created in kube-system (as the mirror Pod of a static Pod would be) is read by
     `kguard scan --cluster` with the same findings as the file.
  4. A kube-system/kubeadm-config ConfigMap created on the API server with known-bad extraArgs:
     `kguard scan --cluster` unpacks its ClusterConfiguration and the rules fire on it.

    controlplane_e2e.py KGUARD SOURCE_DIR

C4: cluster_options(work) adds nothing to the control plane (it judges the flags others chose,
whatever they are); main(cluster=None) builds its own Cluster when None.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log, yaml  # noqa: E402

KGUARD = sys.argv[1] if len(sys.argv) > 1 else "build/release/kguard"
SOURCE = sys.argv[2] if len(sys.argv) > 2 else "."
NAMESPACE = "kube-system"
SA = "kguard-controlplane-e2e"

# ---------------------------------------------------------------------------------------------
# An independent reading of the flags (the oracle): pflag/Go flag as far as the harness uses them.
BOOL = {"kube-apiserver": {"anonymous-auth", "profiling", "allow-privileged", "enable-priority-and-fairness",
                           "service-account-lookup", "kubelet-https", "service-account-extend-token-expiration",
                           "enable-bootstrap-token-auth", "enable-aggregator-routing"},
        "kube-controller-manager": {"profiling", "leader-elect", "use-service-account-credentials"},
        "kube-scheduler": {"profiling", "leader-elect"},
        "etcd": {"client-cert-auth", "peer-client-cert-auth", "auto-tls", "peer-auto-tls", "unsafe-no-fsync",
                 "enable-pprof"}}
SLICE = {"enable-admission-plugins", "disable-admission-plugins", "authorization-mode", "tls-cipher-suites",
         "service-account-key-file", "api-audiences", "service-account-issuer"}


def flag_map(component, args):
    """argv after the binary → {name: value}: last wins, slices accumulate."""
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "--":
            break
        name, eq, value = a.lstrip("-").partition("=")
        if component != "etcd":
            name = name.replace("_", "-")
        if not eq:
            if name in BOOL[component]:
                value = "true"
            else:
                value, i = args[i], i + 1
        if component != "etcd" and name in SLICE and name in out:
            out[name] += "," + value
        elif component != "etcd" and name == "feature-gates" and name in out:
            out[name] += "," + value
        else:
            out[name] = value
    return out


def is_true(v):
    return v in ("1", "t", "T", "TRUE", "true", "True")


def is_false(v):
    return v in ("0", "f", "F", "FALSE", "false", "False")


def items(v):
    return [x.strip() for x in (v or "").split(",") if x.strip()]


def admission(a):
    on = items(a["admission-control"]) if "admission-control" in a else ["NamespaceLifecycle", "ServiceAccount", "PodSecurity"]
    on = on + items(a.get("enable-admission-plugins"))
    return set(on) - set(items(a.get("disable-admission-plugins")))


def gate(a, name, default):
    v = default
    for item in items(a.get("feature-gates")):
        k, _, val = item.partition("=")
        if k.strip() == name:
            v = val.strip()
    return v


STRONG = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"}


def unset(a, *names):
    return any(not a.get(n) for n in names)


API, CM, SCH, ETCD = "kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd"


def go_seconds(v):
    """Go's time.ParseDuration in seconds (None when Go refuses it), read independently of kguard."""
    m = re.fullmatch(r"([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+", v) if v != "0" else None
    if v in ("0", "-0", "+0"):
        return 0.0
    if not m:
        return None
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = sum(float(n) * scale[u] for n, u in re.findall(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)", v))
    return -total if v.startswith("-") else total


def bad_timeout(v):
    t = go_seconds(v)
    return t is None or t < 1 or t > 300

# rule id → (component, fires(flags), bad variant, good variant); a variant maps flags to a new
# value (None removes it, a list repeats it).
ORACLE = {
    "apiserver-anonymous-auth-enabled": (API, lambda a: "authentication-config" not in a and not is_false(a.get("anonymous-auth", "true")),
                                         {"anonymous-auth": "true"}, {"anonymous-auth": "false"}),
    "apiserver-token-auth-file": (API, lambda a: "token-auth-file" in a, {"token-auth-file": "/etc/kubernetes/tokens.csv"}, {"token-auth-file": None}),
    "apiserver-deny-service-external-ips-missing": (API, lambda a: "DenyServiceExternalIPs" not in admission(a),
                                                    {"disable-admission-plugins": "DenyServiceExternalIPs"},
                                                    {"enable-admission-plugins": "NodeRestriction,DenyServiceExternalIPs"}),
    "apiserver-kubelet-client-cert-missing": (API, lambda a: unset(a, "kubelet-client-certificate", "kubelet-client-key"),
                                              {"kubelet-client-key": None}, {"kubelet-client-certificate": "/pki/kc.crt", "kubelet-client-key": "/pki/kc.key"}),
    "apiserver-kubelet-ca-missing": (API, lambda a: unset(a, "kubelet-certificate-authority"),
                                     {"kubelet-certificate-authority": None}, {"kubelet-certificate-authority": "/pki/ca.crt"}),
    "apiserver-authorization-always-allow": (API, lambda a: "authorization-config" not in a and "AlwaysAllow" in items(a.get("authorization-mode", "AlwaysAllow")),
                                             {"authorization-mode": None}, {"authorization-mode": "Node,RBAC"}),
    "apiserver-authorization-node-missing": (API, lambda a: "authorization-config" not in a and "Node" not in items(a.get("authorization-mode", "AlwaysAllow")),
                                             {"authorization-mode": "RBAC"}, {"authorization-mode": "Node,RBAC"}),
    "apiserver-authorization-rbac-missing": (API, lambda a: "authorization-config" not in a and "RBAC" not in items(a.get("authorization-mode", "AlwaysAllow")),
                                             {"authorization-mode": "Node"}, {"authorization-mode": "Node,RBAC"}),
    "apiserver-event-rate-limit-missing": (API, lambda a: "EventRateLimit" not in admission(a),
                                           {"enable-admission-plugins": "NodeRestriction"}, {"enable-admission-plugins": "NodeRestriction,EventRateLimit"}),
    "apiserver-always-admit-enabled": (API, lambda a: "AlwaysAdmit" in admission(a),
                                       {"enable-admission-plugins": ["NodeRestriction", "AlwaysAdmit"]}, {"enable-admission-plugins": "NodeRestriction"}),
    "apiserver-always-pull-images-missing": (API, lambda a: "AlwaysPullImages" not in admission(a),
                                             {"enable-admission-plugins": None}, {"enable-admission-plugins": "AlwaysPullImages"}),
    "apiserver-pod-security-admission-disabled": (API, lambda a: "PodSecurity" not in admission(a),
                                                  {"disable-admission-plugins": "PodSecurity"}, {"disable-admission-plugins": None}),
    "apiserver-service-account-admission-disabled": (API, lambda a: "ServiceAccount" not in admission(a),
                                                     {"disable-admission-plugins": "ServiceAccount"}, {"disable-admission-plugins": None}),
    "apiserver-namespace-lifecycle-disabled": (API, lambda a: "NamespaceLifecycle" not in admission(a),
                                               {"admission-control": "ServiceAccount"}, {"admission-control": None}),
    "apiserver-node-restriction-missing": (API, lambda a: "NodeRestriction" not in admission(a),
                                           {"enable-admission-plugins": None}, {"enable-admission-plugins": "NodeRestriction"}),
    "apiserver-insecure-bind-address": (API, lambda a: "insecure-bind-address" in a, {"insecure-bind-address": "0.0.0.0"}, {"insecure-bind-address": None}),
    "apiserver-insecure-port-enabled": (API, lambda a: a.get("insecure-port", "0") != "0", {"insecure-port": "8080"}, {"insecure-port": "0"}),
    "apiserver-secure-port-disabled": (API, lambda a: a.get("secure-port", "6443") == "0", {"secure-port": "0"}, {"secure-port": "6443"}),
    "apiserver-profiling-enabled": (API, lambda a: not is_false(a.get("profiling", "true")), {"profiling": "true"}, {"profiling": "false"}),
    "apiserver-request-timeout-invalid": (API, lambda a: bad_timeout(a.get("request-timeout", "1m0s")),
                                          {"request-timeout": "0"}, {"request-timeout": "2m30s"}),
    "apiserver-service-account-lookup-disabled": (API, lambda a: not is_true(a.get("service-account-lookup", "true")),
                                                  {"service-account-lookup": "false"}, {"service-account-lookup": None}),
    "apiserver-service-account-key-file-missing": (API, lambda a: unset(a, "service-account-key-file"),
                                                   {"service-account-key-file": None}, {"service-account-key-file": "/pki/sa.pub"}),
    "apiserver-etcd-client-cert-missing": (API, lambda a: unset(a, "etcd-certfile", "etcd-keyfile"),
                                           {"etcd-certfile": None}, {"etcd-certfile": "/pki/ec.crt", "etcd-keyfile": "/pki/ec.key"}),
    "apiserver-tls-cert-missing": (API, lambda a: unset(a, "tls-cert-file", "tls-private-key-file"),
                                   {"tls-private-key-file": None}, {"tls-cert-file": "/pki/s.crt", "tls-private-key-file": "/pki/s.key"}),
    "apiserver-client-ca-missing": (API, lambda a: unset(a, "client-ca-file"), {"client-ca-file": None}, {"client-ca-file": "/pki/ca.crt"}),
    "apiserver-etcd-ca-missing": (API, lambda a: unset(a, "etcd-cafile"), {"etcd-cafile": None}, {"etcd-cafile": "/pki/etcd-ca.crt"}),
    "apiserver-weak-tls-ciphers": (API, lambda a: not items(a.get("tls-cipher-suites")) or not set(items(a.get("tls-cipher-suites"))) <= STRONG,
                                   {"tls-cipher-suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA"},
                                   {"tls-cipher-suites": "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}),
    "apiserver-service-account-token-extension": (API, lambda a: not is_false(a.get("service-account-extend-token-expiration", "true")),
                                                  {"service-account-extend-token-expiration": None}, {"service-account-extend-token-expiration": "false"}),
    "apiserver-kubelet-https-disabled": (API, lambda a: is_false(a.get("kubelet-https", "true")), {"kubelet-https": "false"}, {"kubelet-https": None}),
    "apiserver-basic-auth-file": (API, lambda a: "basic-auth-file" in a, {"basic-auth-file": "/etc/kubernetes/pw.csv"}, {"basic-auth-file": None}),
    "controller-manager-pod-gc-threshold-unset": (CM, lambda a: unset(a, "terminated-pod-gc-threshold"),
                                                  {"terminated-pod-gc-threshold": None}, {"terminated-pod-gc-threshold": "100"}),
    "controller-manager-profiling-enabled": (CM, lambda a: not is_false(a.get("profiling", "true")), {"profiling": None}, {"profiling": "false"}),
    "controller-manager-shared-credentials": (CM, lambda a: not is_true(a.get("use-service-account-credentials", "false")),
                                              {"use-service-account-credentials": "false"}, {"use-service-account-credentials": "true"}),
    "controller-manager-sa-private-key-missing": (CM, lambda a: unset(a, "service-account-private-key-file"),
                                                  {"service-account-private-key-file": None}, {"service-account-private-key-file": "/pki/sa.key"}),
    "controller-manager-root-ca-missing": (CM, lambda a: unset(a, "root-ca-file"), {"root-ca-file": None}, {"root-ca-file": "/pki/ca.crt"}),
    "controller-manager-kubelet-server-cert-rotation-disabled": (CM, lambda a: not is_true(gate(a, "RotateKubeletServerCertificate", "true")),
                                                                 {"feature-gates": "RotateKubeletServerCertificate=false"}, {"feature-gates": None}),
    "controller-manager-bind-address-exposed": (CM, lambda a: a.get("bind-address", "0.0.0.0") not in ("127.0.0.1", "::1"),
                                                {"bind-address": "0.0.0.0"}, {"bind-address": "127.0.0.1"}),
    "scheduler-profiling-enabled": (SCH, lambda a: not is_false(a.get("profiling", "true")), {"profiling": "true"}, {"profiling": "false"}),
    "scheduler-bind-address-exposed": (SCH, lambda a: a.get("bind-address", "0.0.0.0") not in ("127.0.0.1", "::1"),
                                       {"bind-address": None}, {"bind-address": "::1"}),
    "etcd-tls-cert-missing": (ETCD, lambda a: unset(a, "cert-file", "key-file"), {"cert-file": None}, {"cert-file": "/pki/e.crt", "key-file": "/pki/e.key"}),
    "etcd-client-cert-auth-disabled": (ETCD, lambda a: not is_true(a.get("client-cert-auth", "false")), {"client-cert-auth": "false"}, {"client-cert-auth": "true"}),
    "etcd-auto-tls-enabled": (ETCD, lambda a: is_true(a.get("auto-tls", "false")), {"auto-tls": "true"}, {"auto-tls": None}),
    "etcd-peer-tls-cert-missing": (ETCD, lambda a: unset(a, "peer-cert-file", "peer-key-file"),
                                   {"peer-key-file": None}, {"peer-cert-file": "/pki/p.crt", "peer-key-file": "/pki/p.key"}),
    "etcd-peer-client-cert-auth-disabled": (ETCD, lambda a: not is_true(a.get("peer-client-cert-auth", "false")),
                                            {"peer-client-cert-auth": None}, {"peer-client-cert-auth": "true"}),
    "etcd-peer-auto-tls-enabled": (ETCD, lambda a: is_true(a.get("peer-auto-tls", "false")), {"peer-auto-tls": "true"}, {"peer-auto-tls": "false"}),
}
# What the harness' own flags are known to lack (cluster.py): these must fire on its kube-apiserver
# and etcd, whatever the oracle says, or the test proves nothing.
KNOWN_WEAK = {"apiserver-anonymous-auth-enabled", "apiserver-profiling-enabled", "apiserver-kubelet-ca-missing",
              "apiserver-etcd-client-cert-missing", "apiserver-etcd-ca-missing", "apiserver-node-restriction-missing",
              "etcd-client-cert-auth-disabled", "etcd-tls-cert-missing", "etcd-peer-tls-cert-missing"}
KNOWN_GOOD = {"apiserver-authorization-always-allow", "apiserver-authorization-rbac-missing", "apiserver-client-ca-missing",
              "apiserver-tls-cert-missing", "apiserver-token-auth-file", "etcd-auto-tls-enabled"}

# The flags kubeadm writes (cmd/kubeadm/app/phases/controlplane, etcd/local.go): the values a
# ClusterConfiguration's extraArgs override.
KUBEADM = {
    API: {"enable-admission-plugins": "NodeRestriction", "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
          "client-ca-file": "/etc/kubernetes/pki/ca.crt", "tls-cert-file": "/etc/kubernetes/pki/apiserver.crt",
          "tls-private-key-file": "/etc/kubernetes/pki/apiserver.key",
          "kubelet-client-certificate": "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
          "kubelet-client-key": "/etc/kubernetes/pki/apiserver-kubelet-client.key", "secure-port": "6443",
          "authorization-mode": "Node,RBAC", "etcd-cafile": "/etc/kubernetes/pki/etcd/ca.crt",
          "etcd-certfile": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
          "etcd-keyfile": "/etc/kubernetes/pki/apiserver-etcd-client.key"},
    CM: {"bind-address": "127.0.0.1", "root-ca-file": "/etc/kubernetes/pki/ca.crt",
         "service-account-private-key-file": "/etc/kubernetes/pki/sa.key", "use-service-account-credentials": "true"},
    SCH: {"bind-address": "127.0.0.1"},
    ETCD: {"cert-file": "/etc/kubernetes/pki/etcd/server.crt", "key-file": "/etc/kubernetes/pki/etcd/server.key",
           "client-cert-auth": "true", "peer-cert-file": "/etc/kubernetes/pki/etcd/peer.crt",
           "peer-key-file": "/etc/kubernetes/pki/etcd/peer.key", "peer-client-cert-auth": "true"},
}


# ---------------------------------------------------------------------------------------------
def cluster_options(work):
    return {}


def version_of(binary):
    out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    for word in out.split():
        if word.startswith("v1."):
            return word
    return "v1.37.2"


def static_pod(component, argv, image, name=None):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name or f"{component}-cp1", "namespace": NAMESPACE,
                         "labels": {"component": component, "tier": "control-plane"}},
            "spec": {"hostNetwork": True, "priorityClassName": "system-node-critical",
                     "containers": [{"name": component, "image": image, "command": list(argv)}]}}


def to_args(flags):
    """Back to `--name=value` arguments (a list value repeats the flag)."""
    out = []
    for k, v in flags:
        for x in (v if isinstance(v, list) else [v]):
            out.append(f"--{k}={x}")
    return out


def pairs(component, args):
    """argv after the binary → [(name, value)] in order (as written, repeats kept)."""
    out, i = [], 0
    while i < len(args):
        name, eq, value = args[i].lstrip("-").partition("=")
        i += 1
        if not eq:
            if name in BOOL[component]:
                value = "true"
            else:
                value, i = args[i], i + 1
        out.append((name, value))
    return out


def variant(component, args, change):
    """The real argv with some flags replaced, removed or repeated (one `--k=v` form for each)."""
    flags = pairs(component, args)
    for k, v in change.items():
        flags = [(n, x) for n, x in flags if n != k]
        if v is not None:
            flags.append((k, v))
    return to_args(flags)


def scan(paths, extra=()):
    r = subprocess.run([KGUARD, "scan", *paths, "--only", "control-plane", "-o", "json", "-q", *extra],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode not in (0, 1):
        raise RuntimeError(f"kguard scan failed ({r.returncode}): {r.stderr}")
    report = json.loads(r.stdout)
    if report["errors"]:
        raise RuntimeError(f"kguard scan errors: {report['errors']}")
    fired = {}
    for f in report["findings"]:
        key = (f["kind"], f.get("namespace", ""), f.get("name", ""), os.path.basename(f["location"]["file"]))
        fired.setdefault(key, {}).setdefault(f["rule"], []).append(f)
    return report, fired


def judge_flags(argv, version, out, check, standalone=True):
    """Steps 1 and 2 over `argv` ({component: [binary, flags...]}): writes the manifest set into
    `out` and scans it; returns what the live step compares with (the kube-apiserver Pod's findings)."""
    images = {API: f"registry.k8s.io/kube-apiserver:{version}", CM: f"registry.k8s.io/kube-controller-manager:{version}",
              ETCD: "registry.k8s.io/etcd:3.6.5-0"}
    manifests = os.path.join(out, "etc/kubernetes/manifests")
    os.makedirs(manifests, exist_ok=True)

    # 1. The real flags as a kubeadm manifest set and a ClusterConfiguration.
    expected = {}
    for name, av in argv.items():
        with open(os.path.join(manifests, f"{name}.yaml"), "w") as f:
            yaml.safe_dump(static_pod(name, av, images[name]), f, sort_keys=False)
        flags = flag_map(name, av[1:])
        expected[("Pod", NAMESPACE, f"{name}-cp1", f"{name}.yaml")] = {
            rid for rid, (comp, fires, _, _) in ORACLE.items() if comp == name and fires(flags)}
    # v1beta4 (extraArgs a list of {name, value}, repeats kept) and v1beta3 (a map).
    sections = {API: ("apiServer",), CM: ("controllerManager",), ETCD: ("etcd", "local")}
    for version_name in ("v1beta4", "v1beta3"):
        doc = {"apiVersion": f"kubeadm.k8s.io/{version_name}", "kind": "ClusterConfiguration",
               "kubernetesVersion": version}
        merged_all = {}
        for name, av in argv.items():
            ps = pairs(name, av[1:])
            if version_name == "v1beta3":
                ps = list(dict(ps).items())  # a map: one value per name
            extra = ([{"name": k, "value": v} for k, v in ps] if version_name == "v1beta4" else dict(ps))
            node = doc
            for key in sections[name]:
                node = node.setdefault(key, {})
            node["extraArgs"] = extra
            merged = dict(KUBEADM[name])
            merged.update(flag_map(name, to_args(ps)))
            merged_all[name] = merged
        # kubeadm also runs the components the harness does not (scheduler, controller-manager).
        for name in (CM, SCH):
            merged_all.setdefault(name, dict(KUBEADM[name]))
        fname = f"kubeadm-{version_name}.yaml"
        with open(os.path.join(out, fname), "w") as f:
            yaml.safe_dump(doc, f, sort_keys=False)
        expected[("ClusterConfiguration", "", "", fname)] = {
            rid for rid, (comp, fires, _, _) in ORACLE.items()
            if comp in merged_all and fires(merged_all[comp])}
    _, fired = scan([manifests, os.path.join(out, "kubeadm-v1beta4.yaml"), os.path.join(out, "kubeadm-v1beta3.yaml")])
    for key, rules in sorted(expected.items()):
        got = set(fired.get(key, {})) & ORACLE.keys()  # other branches' control-plane rules aside
        check(got == rules, f"{key}: fired {sorted(got)}, expected {sorted(rules)} "
                            f"(missing {sorted(rules - got)}, extra {sorted(got - rules)})")
    api_key = ("Pod", NAMESPACE, f"{API}-cp1", f"{API}.yaml")
    etcd_key = ("Pod", NAMESPACE, f"{ETCD}-cp1", f"{ETCD}.yaml")
    on_harness = (set(fired.get(api_key, {})) | set(fired.get(etcd_key, {}))) & ORACLE.keys()
    if standalone:  # composed with other suites, their flags may change these
        check(KNOWN_WEAK <= on_harness, f"the harness' known weaknesses not all reported: {sorted(KNOWN_WEAK - on_harness)}")
        check(not (KNOWN_GOOD & on_harness), f"the harness' strong settings reported: {sorted(KNOWN_GOOD & on_harness)}")
    # Each finding names the flag and points at the argument or the command list.
    api_flags = flag_map(API, argv[API][1:])
    for f in fired.get(api_key, {}).get("apiserver-profiling-enabled", []) if "profiling" not in api_flags else []:
        check(f["message"] == "kube-apiserver: --profiling not set (default true), must be false", f"message: {f['message']}")
        check(f["location"]["path"] == "spec.containers[0].command", f"path: {f['location']['path']}")
    # The same v1beta4 ClusterConfiguration as kubeadm stores it: text in kube-system/kubeadm-config.
    with open(os.path.join(out, "kubeadm-v1beta4.yaml")) as f:
        cc_text = f.read()
    # (Beside `out`, not in it: `out` is the manifest set KGUARD_KEEP_CONTROLPLANE keeps for the peer bench.)
    cm_dir = tempfile.mkdtemp(prefix="kguard-kubeadm-config-")
    cm_path = os.path.join(cm_dir, "kubeadm-config-configmap.yaml")
    with open(cm_path, "w") as f:
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "kubeadm-config", "namespace": NAMESPACE},
                        "data": {"ClusterConfiguration": cc_text}}, f, sort_keys=False, default_style=None)
    _, cm_fired = scan([cm_path])
    from_cm = cm_fired.get(("ClusterConfiguration", NAMESPACE, "kubeadm-config", os.path.basename(cm_path)), {})
    from_file = fired.get(("ClusterConfiguration", "", "", "kubeadm-v1beta4.yaml"), {})
    check(set(from_cm) == set(from_file) and from_file,
          f"kubeadm-config ConfigMap: fired {sorted(from_cm)}, the file {sorted(from_file)}")
    for rid, fs in from_cm.items():
        check([x["message"] for x in fs] == [x["message"] for x in from_file[rid]], f"kubeadm-config {rid}: messages differ")
        check(all(x["location"]["path"].startswith("data.ClusterConfiguration.") for x in fs),
              f"kubeadm-config {rid}: paths {[x['location']['path'] for x in fs]}")
    # Malformed text: an error naming the ConfigMap and the field; the rest of the input is still judged.
    bad_cm = os.path.join(cm_dir, "kubeadm-config-broken.yaml")
    with open(bad_cm, "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kubeadm-config, namespace: kube-system}\n"
                "data:\n  ClusterConfiguration: \"apiServer: [unclosed\"\n---\n")
        yaml.safe_dump(static_pod(API, [argv[API][0], "--profiling=true"], images[API], "after-broken"), f, sort_keys=False)
    r = subprocess.run([KGUARD, "scan", bad_cm, "--only", "control-plane", "-o", "json", "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    broken = json.loads(r.stdout) if r.stdout.strip() else {"errors": [], "findings": []}
    check(any("ConfigMap kube-system/kubeadm-config data.ClusterConfiguration" in e["message"]
              and e["file"] == bad_cm and e["line"] == 5 for e in broken["errors"]),
          f"malformed kubeadm-config: errors {broken['errors']}")
    check(any(x["rule"] == "apiserver-profiling-enabled" and x["name"] == "after-broken" for x in broken["findings"]),
          "malformed kubeadm-config: the next object was not judged")
    shutil.rmtree(cm_dir, ignore_errors=True)
    log(f"real flags: {len(on_harness)} rules fire on the harness' kube-apiserver and etcd; "
        f"{sum(len(v) for v in expected.values())} verdicts as the oracle predicts")

    # 2. One flag flipped at a time, bad then good, from the real argv.
    vdir = os.path.join(out, "variants")
    os.makedirs(vdir, exist_ok=True)
    wanted = {}
    for rid, (comp, fires, bad, good) in ORACLE.items():
        base = argv.get(comp) or [comp]  # scheduler/controller-manager: the binary alone when not running
        for label, change, should_fire in (("bad", bad, True), ("good", good, False)):
            av = [base[0]] + variant(comp, base[1:], change)
            check(fires(flag_map(comp, av[1:])) == should_fire, f"oracle disagrees with its own {label} variant of {rid}")
            pod_name = f"{rid}-{label}"
            with open(os.path.join(vdir, f"{pod_name}.yaml"), "w") as f:
                yaml.safe_dump(static_pod(comp, av, images.get(comp, f"registry.k8s.io/{comp}:{version}"), pod_name),
                               f, sort_keys=False)
            wanted[("Pod", NAMESPACE, pod_name, f"{pod_name}.yaml")] = (rid, should_fire)
    _, vfired = scan([vdir])
    for key, (rid, should_fire) in sorted(wanted.items()):
        got = rid in vfired.get(key, {})
        check(got == should_fire, f"{key[2]}: rule {rid} {'did not fire' if should_fire else 'fired'}")
    log(f"variants: {len(wanted)} one-flag variants judged as flipped")
    return {rid: [f["message"] for f in fs] for rid, fs in fired.get(api_key, {}).items()}


def argv_from_manifests(manifests):
    """{component: argv} from static Pod manifests (e.g. the committed tests/controlplane/harness)."""
    argv = {}
    for path in sorted(glob.glob(os.path.join(manifests, "*.yaml"))):
        with open(path) as f:
            pod = yaml.safe_load(f)
        name = pod["metadata"]["labels"]["component"]
        argv[name] = pod["spec"]["containers"][0]["command"]
    return argv


def main(cluster=None):
    if cluster is None:
        with tempfile.TemporaryDirectory(prefix="kguard-controlplane-e2e-") as work:
            with Cluster(os.path.join(work, "cluster"), **cluster_options(work)) as c:
                return main(cluster=c)
    c = cluster
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            log("FAIL: " + what)

    procs = {name: p for name, p in c.procs}
    argv = {name: list(procs[name].args) for name in (API, ETCD, CM) if name in procs}
    for name in argv:
        check(os.path.basename(argv[name][0]) == name, f"{name} runs as {argv[name][0]}")
    version = version_of(argv[API][0])
    out = os.path.join(c.work, "controlplane")
    file_msgs = judge_flags(argv, version, out, check, standalone=not c.apiserver_args)
    keep = os.environ.get("KGUARD_KEEP_CONTROLPLANE")
    if keep:  # the manifest set, e.g. for bench/controlplane_peers.py --real or tests/controlplane/harness
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(out, keep)
    images = {API: f"registry.k8s.io/kube-apiserver:{version}"}

    # 3. The same Pod in kube-system, read live (a control-plane Pod as a cluster shows it).
    live_name = f"{API}-kguard-e2e"
    pod = static_pod(API, argv[API], images[API], live_name)
    pod["spec"].update({"nodeName": "kguard-e2e-no-such-node", "serviceAccountName": SA,
                        "automountServiceAccountToken": False})
    c.kubectl("create", "serviceaccount", SA, "-n", NAMESPACE)
    try:
        c.kubectl("apply", "-f", "-", input=json.dumps(pod))
        r = subprocess.run([KGUARD, "scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-n", NAMESPACE,
                            "--only", "control-plane", "-o", "json", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(r.returncode in (0, 1), f"scan --cluster exit {r.returncode}: {r.stderr}")
        live = {}
        for f in json.loads(r.stdout)["findings"] if r.returncode in (0, 1) else []:
            if f["name"] == live_name:
                live.setdefault(f["rule"], []).append(f["message"])
        check(live == file_msgs, f"live Pod findings differ from the file's: live {sorted(live)} file {sorted(file_msgs)}")
        log(f"live: {len(live)} rules fire on {NAMESPACE}/{live_name}, as on the file")
    finally:
        c.kubectl("delete", "pod", live_name, "-n", NAMESPACE, "--grace-period=0", "--force", check=False)
        c.kubectl("delete", "serviceaccount", SA, "-n", NAMESPACE, check=False)

    # 4. kubeadm's ClusterConfiguration as a live cluster keeps it: text in kube-system/kubeadm-config,
    #    here with a known-bad extraArg; the scan unpacks it and the rule fires on it.
    cc = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration", "kubernetesVersion": version,
          "apiServer": {"extraArgs": [{"name": "profiling", "value": "true"}, {"name": "request-timeout", "value": "1h"}]}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kubeadm-config", "namespace": NAMESPACE},
          "data": {"ClusterConfiguration": yaml.safe_dump(cc, sort_keys=False)}}
    try:
        c.kubectl("create", "-f", "-", input=json.dumps(cm))
        r = subprocess.run([KGUARD, "scan", "--cluster", "--kubeconfig", c.admin_kubeconfig, "-n", NAMESPACE,
                            "--only", "apiserver-profiling-enabled,apiserver-request-timeout-invalid", "-o", "json", "-q"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        doc = json.loads(r.stdout) if r.stdout.strip() else {"findings": [], "coverage": []}
        # A cluster read is one List: paths start at its item (items[N].data.ClusterConfiguration...).
        got = {(f["rule"], f["message"], re.sub(r"^items\[\d+\]\.", "", f["location"]["path"])) for f in doc["findings"]
               if (f["kind"], f.get("namespace"), f.get("name")) == ("ClusterConfiguration", NAMESPACE, "kubeadm-config")}
        check(got == {("apiserver-profiling-enabled", "kube-apiserver: --profiling=true, must be false",
                       "data.ClusterConfiguration.apiServer.extraArgs[0]"),
                      ("apiserver-request-timeout-invalid", "kube-apiserver: --request-timeout=1h, must be between 1s and 5m",
                       "data.ClusterConfiguration.apiServer.extraArgs[1]")},
              f"live kubeadm-config: {sorted(got)} ({r.returncode}: {r.stderr[:300]})")
        check("ClusterConfiguration" not in doc.get("cluster", {}).get("kindsNotServed", ["ClusterConfiguration"]) and
              "ClusterConfiguration" not in json.dumps(doc.get("coverage", [])),
              "ClusterConfiguration is read, not listed as unserved")
        log(f"live kubeadm-config: {len(got)} findings on the unpacked ClusterConfiguration")
    finally:
        c.kubectl("delete", "configmap", "kubeadm-config", "-n", NAMESPACE, "--ignore-not-found", check=False)

    if failures:
        log(f"controlplane_e2e: {len(failures)} failures")
        return 1
    log("controlplane_e2e: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
