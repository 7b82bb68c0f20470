"""`kguard rbac --cluster` against a real kube-apiserver (tests/e2e/cluster.py):
RBAC objects (wildcards, `*/subresource`, resourceNames, non-resource URL
prefixes, RoleBindings to ClusterRoles, ServiceAccount subjects with and
without a namespace, a binding to a missing role) and a fixed-seed random set
(34 roles, 30 bindings) are applied with kubectl; then each of 2,092
questions (a grid of identities × requests, and 1,500 random ones) is asked
to the API server as a SubjectAccessReview and to `kguard rbac check
--cluster --batch`, and every answer must agree. Also `who-can --cluster`.

The harness runs no kube-controller-manager, so aggregated ClusterRoles
(admin, edit, view) stay empty in it: no question here goes through one (the
differential test with the controller added covers aggregation).

usage: rbac_cluster_e2e.py KGUARD
"""
import itertools
import json
import os
import random
import ssl
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster import Cluster, log  # noqa: E402

KGUARD = os.path.abspath(sys.argv[1])

OBJECTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-mixed}
rules:
- {apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}
- {apiGroups: ["*"], resources: ["*/scale"], verbs: [update]}
- {apiGroups: [""], resources: [configmaps], resourceNames: [app-config], verbs: [get, update]}
- {apiGroups: [apps], resources: ["*"], verbs: [watch]}
- {nonResourceURLs: ["/logs/*", "/metrics"], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-secrets}
rules:
- {apiGroups: [""], resources: [secrets], verbs: ["*"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: e2e-exec, namespace: team-a}
rules:
- {apiGroups: [""], resources: [pods/exec], verbs: [create]}
- {apiGroups: [batch], resources: [jobs], verbs: [create, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-mixed}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: robot, namespace: team-b}
roleRef: {kind: ClusterRole, name: e2e-mixed, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e2e-secrets, namespace: team-a}
subjects:
- {kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}
- {kind: ServiceAccount, name: robot}
roleRef: {kind: ClusterRole, name: e2e-secrets, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e2e-exec, namespace: team-a}
subjects:
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: "system:serviceaccounts:team-b", apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: e2e-exec, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: e2e-dangling, namespace: team-b}
subjects:
- {kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: ClusterRole, name: e2e-does-not-exist, apiGroup: rbac.authorization.k8s.io}
"""

IDENTITIES = [
    ("alice", ["system:authenticated"]),
    ("bob", ["system:authenticated"]),
    ("carol", ["system:authenticated"]),
    ("dave", ["devs", "system:authenticated"]),
    ("system:serviceaccount:team-b:robot",
     ["system:serviceaccounts", "system:serviceaccounts:team-b", "system:authenticated"]),
    ("system:serviceaccount:team-a:robot", []),
    ("system:anonymous", ["system:unauthenticated"]),
    ("root", ["system:masters"]),
]
RESOURCES = [("get", "", "pods", ""), ("get", "", "pods", "log"), ("create", "", "pods", "exec"),
             ("update", "apps", "deployments", "scale"), ("update", "", "replicationcontrollers", "scale"),
             ("watch", "apps", "statefulsets", ""), ("delete", "", "secrets", ""), ("create", "batch", "jobs", ""),
             ("update", "", "configmaps", ""), ("list", "", "nodes", "")]
NAMESPACES = ["", "team-a", "team-b"]
NAMES = ["", "app-config"]
PATHS = ["/metrics", "/logs/kube-apiserver.log", "/logs", "/healthz", "/version", "/apis/apps/v1", "/debug"]


def random_objects(rng):
    """A fixed-seed set of valid random roles and bindings (no aggregation: the
    harness has no controller manager) and the identities they name."""
    verbs = ["get", "list", "watch", "create", "update", "patch", "delete", "escalate", "bind", "impersonate"]
    groups = ["", "apps", "batch", "example.com", "rbac.authorization.k8s.io"]
    resources = ["pods", "pods/log", "pods/exec", "deployments", "deployments/scale", "secrets", "roles",
                 "widgets", "widgets/status", "jobs", "users", "groups"]
    urls = ["/healthz", "/healthz/*", "/metrics", "/logs*", "/apis/*", "/version"]
    namespaces = ["team-a", "team-b", "team-c"]
    users = [f"u{i}" for i in range(6)]
    groups_ = [f"g{i}" for i in range(4)]
    sas = [("team-a", "s0"), ("team-b", "s1"), ("team-c", "s2")]
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: team-c}\n"]

    def rule(cluster):
        if cluster and rng.random() < 0.15:
            return {"nonResourceURLs": rng.sample(urls, rng.randint(1, 2)), "verbs": rng.sample(["get", "post", "*"], 1)}
        r = {"apiGroups": ["*"] if rng.random() < 0.15 else rng.sample(groups, rng.randint(1, 2)),
             "resources": ["*"] if rng.random() < 0.1 else
             (["*/" + rng.choice(["log", "scale", "status", "exec"])] if rng.random() < 0.15 else
              rng.sample(resources, rng.randint(1, 3))),
             "verbs": ["*"] if rng.random() < 0.1 else rng.sample(verbs, rng.randint(1, 3))}
        if rng.random() < 0.2:
            r["resourceNames"] = rng.sample(["x", "y", "app"], rng.randint(1, 2))
        return r

    def subjects(ns):
        out = []
        for _ in range(rng.randint(1, 3)):
            k = rng.random()
            if k < 0.4:
                out.append({"kind": "User", "name": rng.choice(users), "apiGroup": "rbac.authorization.k8s.io"})
            elif k < 0.7:
                out.append({"kind": "Group", "name": rng.choice(groups_ + ["system:serviceaccounts:team-b"]),
                            "apiGroup": "rbac.authorization.k8s.io"})
            else:
                sa_ns, sa = rng.choice(sas)
                s = {"kind": "ServiceAccount", "name": sa}
                if ns is None or rng.random() < 0.5:
                    s["namespace"] = sa_ns
                out.append(s)
        return out

    for i in range(12):
        docs.append(json.dumps({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                "metadata": {"name": f"rnd-c{i}"},
                                "rules": [rule(True) for _ in range(rng.randint(1, 4))]}))
    for i in range(12):
        docs.append(json.dumps({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                "metadata": {"name": f"rnd-r{i}", "namespace": namespaces[i % 3]},
                                "rules": [rule(False) for _ in range(rng.randint(1, 4))]}))
    for i in range(10):
        docs.append(json.dumps({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                                "metadata": {"name": f"rnd-crb{i}"}, "subjects": subjects(None),
                                "roleRef": {"kind": "ClusterRole", "name": f"rnd-c{rng.randrange(13)}",
                                            "apiGroup": "rbac.authorization.k8s.io"}}))
    for i in range(20):
        ns = rng.choice(namespaces)
        same_ns_roles = [j for j in range(12) if namespaces[j % 3] == ns]
        ref = ({"kind": "Role", "name": f"rnd-r{rng.choice(same_ns_roles)}"} if rng.random() < 0.5
               else {"kind": "ClusterRole", "name": f"rnd-c{rng.randrange(12)}"})
        docs.append(json.dumps({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                                "metadata": {"name": f"rnd-rb{i}", "namespace": ns}, "subjects": subjects(ns),
                                "roleRef": {**ref, "apiGroup": "rbac.authorization.k8s.io"}}))
    identities = [(u, rng.sample(groups_, rng.randint(0, 2))) for u in users]
    identities += [(f"system:serviceaccount:{ns}:{n}", ["system:serviceaccounts", f"system:serviceaccounts:{ns}"])
                   for ns, n in sas]
    questions = []
    for _ in range(1500):
        user, grps = rng.choice(identities)
        if rng.random() < 0.15:
            questions.append({"user": user, "groups": grps, "verb": rng.choice(["get", "post"]),
                              "path": rng.choice(urls + ["/healthz/etcd", "/logs/x", "/apis", "/apis/apps"])
                              .rstrip("*")})
            continue
        res = rng.choice(resources + ["nodes", "configmaps"])
        resource, _, sub = res.partition("/")
        questions.append({"user": user, "groups": grps, "verb": rng.choice(verbs),
                          "apiGroup": rng.choice(groups), "resource": resource, "subresource": sub,
                          "namespace": rng.choice(namespaces + [""]), "name": rng.choice(["", "x", "app", "z"])})
    return "\n---\n".join(docs) + "\n", questions


def main():
    failures = []
    work = tempfile.mkdtemp(prefix="kguard-rbac-e2e-")
    with Cluster(work, audit=False) as c:
        c.kubectl("apply", "-f", "-", input=OBJECTS)
        # A random set on top (fixed seed): roles, bindings and 1,500 questions. Everything is
        # applied before the first question, so every answer is about the same objects.
        rnd_objects, rnd_questions = random_objects(random.Random(20261205))
        c.kubectl("apply", "-f", "-", input=rnd_objects)
        ctx = ssl.create_default_context(cafile=c.ca)
        ctx.load_cert_chain(c.admin_cert, c.admin_key)

        def sar(user, groups, attrs):
            body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                    "spec": {"user": user, "groups": groups, **attrs}}
            req = urllib.request.Request(f"{c.server}/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                return json.load(r)["status"].get("allowed", False)

        questions, expected = [], []
        for (user, groups), (verb, group, resource, sub), ns, name in itertools.product(
                IDENTITIES, RESOURCES, NAMESPACES, NAMES):
            attrs = {"verb": verb, "group": group, "resource": resource, "subresource": sub, "namespace": ns,
                     "name": name}
            questions.append({"user": user, "groups": groups, "verb": verb, "apiGroup": group,
                              "resource": resource, "subresource": sub, "namespace": ns, "name": name,
                              "path": None})
            expected.append(sar(user, groups, {"resourceAttributes": attrs}))
        for (user, groups), path, verb in itertools.product(IDENTITIES, PATHS, ["get", "post"]):
            questions.append({"user": user, "groups": groups, "verb": verb, "path": path})
            expected.append(sar(user, groups, {"nonResourceAttributes": {"path": path, "verb": verb}}))
        for q in rnd_questions:
            questions.append(q)
            if "path" in q:
                attrs = {"nonResourceAttributes": {"path": q["path"], "verb": q["verb"]}}
            else:
                attrs = {"resourceAttributes": {"verb": q["verb"], "group": q["apiGroup"], "resource": q["resource"],
                                                "subresource": q["subresource"], "namespace": q["namespace"],
                                                "name": q["name"]}}
            expected.append(sar(q["user"], q["groups"], attrs))
        log(f"{len(questions)} SubjectAccessReviews asked, {sum(expected)} allowed")

        batch = os.path.join(work, "questions.jsonl")
        with open(batch, "w") as f:
            f.write("".join(json.dumps(q) + "\n" for q in questions))
        r = subprocess.run([KGUARD, "rbac", "check", "--cluster", "--kubeconfig", c.admin_kubeconfig, "--batch",
                            batch, "-q"], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            failures.append(f"kguard rbac check --batch exited {r.returncode}: {r.stderr}")
        answers = [json.loads(line) for line in r.stdout.splitlines()]
        if len(answers) != len(questions):
            failures.append(f"{len(answers)} answers for {len(questions)} questions")
        for q, want, got in zip(questions, expected, answers):
            if got.get("allowed") != want:
                failures.append(f"{json.dumps(q)}: API server {want}, kguard {got}")

        # who-can lists exactly the named subjects the API server allows, for one question.
        r = subprocess.run([KGUARD, "rbac", "who-can", "get", "secrets", "-n", "team-a", "--cluster",
                            "--kubeconfig", c.admin_kubeconfig, "-q", "-o", "json"], capture_output=True, text=True)
        found = {(s["kind"], s["name"]) for s in json.loads(r.stdout)["subjects"]}
        for kind, name in [("Group", "devs"), ("ServiceAccount", "robot")]:
            if (kind, name) not in found:
                failures.append(f"who-can get secrets -n team-a misses {kind} {name}")
        if ("User", "alice") in found:
            failures.append("who-can get secrets -n team-a lists alice")
    if failures:
        log(f"work directory kept: {work}")
        for f in failures[:50]:
            log("FAIL " + f)
        log(f"{len(failures)} failure(s)")
        sys.exit(1)
    log(f"all {len(questions)} answers agree with the API server")


if __name__ == "__main__":
    main()
