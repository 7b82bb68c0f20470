#!/usr/bin/env python3
"""kguard rbac paths on tests/rbac/paths/<kind>/: finds.yaml must give the
identity named by its `# from:` line a shortest path with a step of <kind>,
clean.yaml (the near miss) must not. Then: the bootstrap policy alone reports
nobody, known controllers (built-in and .kguard.yaml rbac.knownControllers)
are not attackers, and credential hygiene finds token Secrets and dangling
subjects.

Usage: paths_test.py KGUARD SOURCE_DIR"""
import json
import os
import subprocess
import sys
import tempfile

KGUARD, SRC = sys.argv[1], sys.argv[2]
FIXTURES = os.path.join(SRC, "tests", "rbac", "paths")
failures = []


def run(*args):
    p = subprocess.run([KGUARD, "rbac", "paths", "-q", "-o", "json", *args], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit(f"kguard rbac paths {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return json.loads(p.stdout)


def kinds(report):
    return {step["kind"] for path in report["paths"] for step in path["path"]}


for kind in sorted(os.listdir(FIXTURES)):
    folder = os.path.join(FIXTURES, kind)
    if not os.path.isdir(folder):
        continue
    with open(os.path.join(folder, "finds.yaml")) as f:
        subject = next(l.split(":", 1)[1].strip() for l in f if l.startswith("# from:"))
    finds = run("--from", subject, "--config", os.devnull, os.path.join(folder, "finds.yaml"))
    clean = run("--from", subject, "--config", os.devnull, os.path.join(folder, "clean.yaml"))
    if kind not in kinds(finds):
        failures.append(f"{kind}/finds.yaml: no {kind} step from {subject}; steps: {sorted(kinds(finds))}")
    if kind in kinds(clean):
        failures.append(f"{kind}/clean.yaml: a {kind} step from {subject}: " +
                        "; ".join(p["text"] for p in clean["paths"]))
    # The all-identities pass reports the attacker of every finds.yaml.
    if not any(p["from"].get("name") == subject.split(":")[-1] for p in run("--config", os.devnull,
                                                                             os.path.join(folder, "finds.yaml"))["paths"]):
        failures.append(f"{kind}/finds.yaml: the all-identities pass does not report {subject}")

with tempfile.TemporaryDirectory() as tmp:
    # The bootstrap policy alone (every system: role and binding) reports nobody.
    empty = os.path.join(tmp, "ns.yaml")
    with open(empty, "w") as f:
        f.write("apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n")
    report = run("--config", os.devnull, empty)
    if report["paths"]:
        failures.append("bootstrap policy alone: " + "; ".join(p["text"] for p in report["paths"]))

    # Known controllers: built in (kube-system/deployment-controller) and configured.
    rbac = "rbac.authorization.k8s.io"
    ctl = os.path.join(tmp, "controllers.yaml")
    with open(ctl, "w") as f:
        for name in ("deployment-controller", "my-operator"):
            f.write(f"---\napiVersion: {rbac}/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {name}}}\n"
                    f"roleRef: {{apiGroup: {rbac}, kind: ClusterRole, name: cluster-admin}}\n"
                    f"subjects: [{{kind: ServiceAccount, name: {name}, namespace: kube-system}}]\n")
    named = {p["from"]["name"] for p in run("--config", os.devnull, ctl)["paths"]}
    if named != {"my-operator"}:
        failures.append(f"known controllers: expected only my-operator reported, got {sorted(named)}")
    config = os.path.join(tmp, ".kguard.yaml")
    with open(config, "w") as f:
        f.write("rbac:\n  knownControllers: ['sa:kube-system:my-*']\n")
    if run("--config", config, ctl)["paths"]:
        failures.append("rbac.knownControllers sa:kube-system:my-* did not recognise my-operator")
    if run("--known-controller", "sa:kube-system:my-operator", "--config", os.devnull, ctl)["paths"]:
        failures.append("--known-controller did not recognise my-operator")

    # Hygiene: a token Secret of a cluster-admin ServiceAccount with its age;
    # a RoleBinding to a ServiceAccount missing from a namespace the input shows.
    hyg = os.path.join(tmp, "hygiene.yaml")
    with open(hyg, "w") as f:
        f.write(open(os.path.join(FIXTURES, "token-secret-read", "finds.yaml")).read())
        f.write(f"---\napiVersion: {rbac}/v1\nkind: RoleBinding\nmetadata: {{name: ghost, namespace: dev}}\n"
                f"roleRef: {{apiGroup: {rbac}, kind: ClusterRole, name: view}}\n"
                f"subjects: [{{kind: ServiceAccount, name: ghost}}, {{kind: ServiceAccount, name: bot}},"
                f" {{kind: ServiceAccount, name: x, namespace: elsewhere}}]\n")
    h = run("--config", os.devnull, hyg)["hygiene"]
    tokens = h["tokenSecrets"]
    if len(tokens) != 1 or tokens[0].get("reaches") != "cluster-admin" or tokens[0].get("ageDays", 0) < 300:
        failures.append(f"hygiene: token Secret dev/bot-token: {tokens}")
    dangling = [d["serviceAccount"] for d in h["danglingSubjects"]]
    if dangling != ["dev/ghost"]:
        failures.append(f"hygiene: dangling subjects {dangling}, expected only dev/ghost (elsewhere is not covered)")

    # A snapshot (kguard snapshot's envelope): the token's age as of readAt.
    items = []
    text = open(os.path.join(FIXTURES, "token-secret-read", "finds.yaml")).read()
    for doc in text.split("\n---\n")[1:]:
        items.append({k: json.loads(v) for k, v in (l.split(": ", 1) for l in doc.strip().splitlines())})
    snap = os.path.join(tmp, "snapshot.json")
    with open(snap, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items,
                   "kguardSnapshot": {"server": "https://127.0.0.1:6443", "context": "test", "serverVersion": "v1.37.0",
                                      "readAt": "2024-03-01T00:00:00Z"}}, f)
    s = run("--from", "user:attacker", "--config", os.devnull, snap)
    if "token-secret-read" not in kinds(s):
        failures.append(f"snapshot: no token-secret-read step: {sorted(kinds(s))}")
    ages = [t.get("ageDays") for t in s["hygiene"]["tokenSecrets"]]
    if ages != [60]:
        failures.append(f"snapshot: token age as of readAt 2024-03-01 should be 60 days, got {ages}")

for failure in failures:
    print("FAIL:", failure)
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
