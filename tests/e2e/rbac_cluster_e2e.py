"""`kguard rbac --cluster` against a real kube-apiserver (tests/e2e/cluster.py):
RBAC objects (wildcards, `*/subresource`, resourceNames, non-resource URL
prefixes, RoleBindings to ClusterRoles, ServiceAccount subjects with and
without a namespace, a binding to a missing role) are applied with kubectl;
then every question of a grid of identities × requests is asked to the API
server as a SubjectAccessReview and to `kguard rbac check --cluster --batch`,
and every answer must agree. Also `who-can --cluster` against the same
SubjectAccessReviews.

The harness runs no kube-controller-manager, so aggregated ClusterRoles
(admin, edit, view) stay empty in it: no question here goes through one (the
differential test with the controller added covers aggregation).

usage: rbac_cluster_e2e.py KGUARD
"""
import itertools
import json
import os
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


def main():
    failures = []
    work = tempfile.mkdtemp(prefix="kguard-rbac-e2e-")
    with Cluster(work, audit=False) as c:
        c.kubectl("apply", "-f", "-", input=OBJECTS)
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
