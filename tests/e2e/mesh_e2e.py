#!/usr/bin/env python3
"""Service-mesh posture against a real kube-apiserver (cluster.py): installs
minimal CustomResourceDefinitions for Istio's and Linkerd's policy kinds
(schemas preserve unknown fields: the server stores what the fixtures say),
applies tests/mesh/mixed with the real kubectl, then checks that

 (a) `kguard scan --cluster` reports the same mesh findings and the same
     east-west rows for this module's namespaces as the files do (the two
     AuthorizationPolicy kinds, Istio's and Linkerd's, are both listed, and
     Linkerd's kinds of different versions in one group are all read);
 (b) before the CRDs exist, the mesh kinds are reported as not served (a
     coverage statement, not an error) and the scan still succeeds.

Contract C4 (CONTRACTS.md): cluster_options(work) and main(cluster=None);
it uses the mesh-* namespaces (and istio-system, created when absent) and
deletes what it created.

Usage: mesh_e2e.py KGUARD SOURCE_DIR
"""
import contextlib
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster  # noqa: E402
from e2e_support import Checks, run_kguard  # noqa: E402

MESH_RULES = {
    "istio-mtls-not-strict", "istio-authorization-default-deny-missing", "istio-sidecar-injection-disabled",
    "istio-authorization-allow-all", "istio-destination-rule-tls-disabled", "mesh-policy-selects-no-workload",
    "linkerd-default-inbound-unauthenticated", "linkerd-proxy-injection-disabled",
    "linkerd-authorization-unauthenticated",
}

# (group, kind, plural, versions: the first is the storage version)
CRDS = [
    ("security.istio.io", "PeerAuthentication", "peerauthentications", ["v1", "v1beta1"]),
    ("security.istio.io", "AuthorizationPolicy", "authorizationpolicies", ["v1", "v1beta1"]),
    ("networking.istio.io", "DestinationRule", "destinationrules", ["v1", "v1beta1"]),
    ("policy.linkerd.io", "Server", "servers", ["v1beta3"]),
    ("policy.linkerd.io", "AuthorizationPolicy", "authorizationpolicies", ["v1alpha1"]),
    ("policy.linkerd.io", "MeshTLSAuthentication", "meshtlsauthentications", ["v1alpha1"]),
    ("policy.linkerd.io", "ServerAuthorization", "serverauthorizations", ["v1beta1"]),
]


def crd_manifest():
    docs = []
    for group, kind, plural, versions in CRDS:
        docs.append({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
                "versions": [{"name": v, "served": True, "storage": i == 0,
                              "schema": {"openAPIV3Schema": {"type": "object",
                                                             "x-kubernetes-preserve-unknown-fields": True}}}
                             for i, v in enumerate(versions)],
            },
        })
    return "\n".join(json.dumps(d) for d in docs)  # kubectl reads a stream of JSON objects


def cluster_options(work):
    """Nothing beyond the default control plane: CRDs are applied at run time."""
    return {}


kguard = run_kguard  # kguard(binary, *argv)


def mine(report, names):
    """The mesh findings and the east-west rows of this module's namespaces."""
    findings = sorted((f["rule"], f["kind"], f.get("namespace", ""), f["name"], f["message"])
                      for f in report["findings"]
                      if f["rule"] in MESH_RULES and f["result"] == "fail"
                      and (f.get("namespace", "") in names or (f["kind"] == "Namespace" and f["name"] in names)))
    rows = [r for r in report.get("eastWest", {}).get("namespaces", []) if r["namespace"] in names]
    return findings, rows


def main(cluster=None):
    """Runs on `cluster` when given (a shared control plane), else starts one."""
    binary = os.path.abspath(sys.argv[1])
    source = os.path.abspath(sys.argv[2])
    mixed = os.path.join(source, "tests", "mesh", "mixed")
    with open(os.path.join(mixed, "expected.json")) as f:
        expected = json.load(f)
    names = {r["namespace"] for r in expected["namespaces"]}
    work = tempfile.mkdtemp(prefix="kguard-mesh-e2e-")
    check = Checks()

    created_root = False
    try:
        crds = os.path.join(work, "crds.json")
        with open(crds, "w") as f:
            f.write(crd_manifest())
        with (contextlib.nullcontext(cluster) if cluster else Cluster(work)) as c:
            kc = ["--kubeconfig", c.admin_kubeconfig, "-q", "--no-config"]
            # (b) No mesh CRDs yet: the kinds are not served, the scan runs.
            code, out, err = kguard(binary, "scan", "--cluster", *kc, "-o", "json")
            check(code in (0, 1) and out, f"scan --cluster without mesh CRDs runs ({code}: {err.strip()[:300]})")
            if out:
                report = json.loads(out)
                missing = set(report["cluster"]["kindsNotServed"])
                check({"PeerAuthentication", "AuthorizationPolicy", "Server", "DestinationRule"} <= missing,
                      f"the mesh kinds are listed as not served ({sorted(missing)})")
                check("eastWest" in report, "the report has the east-west table without a mesh")
            # (a) The CRDs, then the fixtures.
            c.kubectl("apply", "-f", crds)
            for group, kind, plural, _ in CRDS:
                c.kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{plural}.{group}")
            if c.kubectl("get", "namespace", "istio-system", "--ignore-not-found", "-o", "name").strip() == "":
                c.kubectl("create", "namespace", "istio-system")
                created_root = True
            # Namespaces first: the namespaced objects of a file need them.
            for name in ("istio.yaml", "linkerd.yaml", "plain.yaml"):
                c.kubectl("apply", "-f", os.path.join(mixed, name))
            code, live, err = kguard(binary, "scan", "--cluster", *kc, "-o", "json")
            check(code in (0, 1) and live, f"scan --cluster runs ({code}: {err.strip()[:300]})")
            code, files, err = kguard(binary, "scan", mixed, "--no-config", "-o", "json")
            check(code in (0, 1) and files, f"scan FILES runs ({code}: {err.strip()[:300]})")
            if live and files:
                live_report, file_report = json.loads(live), json.loads(files)
                live_findings, live_rows = mine(live_report, names)
                file_findings, file_rows = mine(file_report, names)
                check(file_rows == expected["namespaces"], "the files' east-west rows are expected.json's")
                check(live_rows == file_rows, f"the cluster's east-west rows equal the files' ({live_rows})")
                check(set(live_report["eastWest"]["meshes"]) == {"istio", "linkerd"},
                      f"the cluster shows both meshes ({live_report['eastWest']['meshes']})")
                # Messages name objects as ns/name in both; only the files' locations differ.
                check(live_findings == file_findings,
                      "the cluster's mesh findings equal the files' "
                      f"(only live: {sorted(set(live_findings) - set(file_findings))[:5]}, "
                      f"only files: {sorted(set(file_findings) - set(live_findings))[:5]})")
                check(any(f[0] == "linkerd-authorization-unauthenticated" for f in live_findings),
                      "Linkerd's AuthorizationPolicy (v1alpha1 beside Server v1beta3) is read from the cluster")
                check(any(f[0] == "istio-authorization-default-deny-missing" for f in live_findings),
                      "Istio's AuthorizationPolicy is read beside Linkerd's")
            # Clean up what this module created.
            for name in ("istio.yaml", "linkerd.yaml", "plain.yaml"):
                c.kubectl("delete", "-f", os.path.join(mixed, name), "--ignore-not-found", "--wait=false")
            if created_root:
                c.kubectl("delete", "namespace", "istio-system", "--ignore-not-found", "--wait=false")
            c.kubectl("delete", "-f", crds, "--ignore-not-found", "--wait=false")
    finally:
        check.keep_or_remove(work)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())
