#!/usr/bin/env python3
"""A seeded RBAC data set for bench/run_rbac_bench.sh (issue 17 item 6): by default 10,000 Roles
and ClusterRoles and 20,000 bindings over 100 namespaces.

  4,000 ClusterRoles (40 of them aggregated over a label that 20% of the others carry, 3% with
        nonResourceURLs) and 6,000 Roles (60 a namespace), 1-6 rules each: the resources and verbs
        of real controllers and operators, with apiGroup and resource wildcards, `res/sub` and
        `*/sub`, and resourceNames in a tenth;
  18,000 RoleBindings (180 a namespace; 60% to a Role of the namespace, 40% to a ClusterRole) and
        2,000 ClusterRoleBindings, 1-3 subjects each out of 2,000 users, 200 groups and 3,000
        ServiceAccounts (30 a namespace).

Written as YAML files of at most 2,500 objects (so they load into an API server in parallel):
OUT/00-namespaces.yaml, OUT/cluster-roles.yaml, OUT/roles-NN.yaml, OUT/bindings-NN.yaml.

Usage: gen_rbac_bench.py OUT [--roles N] [--bindings N] [--seed S]
"""
import argparse
import json
import os
import random

RBAC = "rbac.authorization.k8s.io"
# (apiGroup, resource, subresources) of a cluster with the usual add-ons.
RESOURCES = [
    ("", "pods", ["log", "exec", "attach", "portforward", "status", "eviction"]),
    ("", "secrets", []), ("", "configmaps", []), ("", "services", ["status", "proxy"]),
    ("", "serviceaccounts", ["token"]), ("", "endpoints", []), ("", "events", []),
    ("", "persistentvolumeclaims", ["status"]), ("", "nodes", ["proxy", "status"]),
    ("", "namespaces", ["status"]), ("", "persistentvolumes", []),
    ("apps", "deployments", ["scale", "status"]), ("apps", "statefulsets", ["scale", "status"]),
    ("apps", "daemonsets", ["status"]), ("apps", "replicasets", ["scale"]),
    ("batch", "jobs", ["status"]), ("batch", "cronjobs", ["status"]),
    (RBAC, "roles", []), (RBAC, "rolebindings", []), (RBAC, "clusterroles", []),
    (RBAC, "clusterrolebindings", []),
    ("networking.k8s.io", "networkpolicies", []), ("networking.k8s.io", "ingresses", ["status"]),
    ("coordination.k8s.io", "leases", []), ("policy", "poddisruptionbudgets", ["status"]),
    ("autoscaling", "horizontalpodautoscalers", ["status"]),
    ("storage.k8s.io", "storageclasses", []), ("discovery.k8s.io", "endpointslices", []),
    ("monitoring.coreos.com", "prometheuses", ["status"]),
    ("monitoring.coreos.com", "servicemonitors", []),
    ("argoproj.io", "applications", []), ("cert-manager.io", "certificates", ["status"]),
]
READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
NONRES = ["/metrics", "/healthz", "/healthz/*", "/apis/*", "/version", "/logs/*"]


def rule(rng):
    g, r, subs = rng.choice(RESOURCES)
    roll = rng.random()
    groups = ["*"] if roll < 0.03 else [g]
    resources = [r]
    if subs and rng.random() < 0.25:
        resources.append(f"{r}/{rng.choice(subs)}")
    if rng.random() < 0.03:
        resources = ["*"]
    elif rng.random() < 0.03:
        resources.append("*/scale")
    v = rng.random()
    verbs = ["*"] if v < 0.05 else READ if v < 0.55 else READ + WRITE if v < 0.8 else \
        sorted(rng.sample(READ + WRITE, rng.randint(1, 4)))
    out = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if rng.random() < 0.1:
        out["resourceNames"] = [f"{r}-{rng.randint(0, 99)}" for _ in range(rng.randint(1, 3))]
    return out


def subjects(rng, ns, sas_per_ns, namespaces, users, groups):
    out = []
    for _ in range(rng.randint(1, 3)):
        k = rng.random()
        if k < 0.4:
            out.append({"kind": "User", "apiGroup": RBAC, "name": f"user-{rng.randrange(users):04d}"})
        elif k < 0.6:
            out.append({"kind": "Group", "apiGroup": RBAC, "name": f"group-{rng.randrange(groups):03d}"})
        else:
            sa_ns = ns if ns and rng.random() < 0.8 else rng.choice(namespaces)
            out.append({"kind": "ServiceAccount", "name": f"sa-{rng.randrange(sas_per_ns):02d}",
                        "namespace": sa_ns})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--roles", type=int, default=10_000)
    ap.add_argument("--bindings", type=int, default=20_000)
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--seed", type=int, default=17)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    namespaces = [f"bench-ns-{i:03d}" for i in range(a.namespaces)]
    n_cluster_roles = a.roles * 2 // 5
    n_roles_per_ns = (a.roles - n_cluster_roles) // a.namespaces
    n_crb = a.bindings // 10
    n_rb_per_ns = (a.bindings - n_crb) // a.namespaces
    users, groups, sas_per_ns = 2000, 200, 30
    n_agg = max(1, n_cluster_roles // 100)

    def dump(name, objs):
        # JSON is valid YAML: one document per object, quick to write and to read.
        with open(os.path.join(a.out, name), "w") as f:
            for o in objs:
                f.write("---\n")
                f.write(json.dumps(o, separators=(",", ":")))
                f.write("\n")

    dump("00-namespaces.yaml", [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                                for n in namespaces])
    cluster_roles = []
    for i in range(n_cluster_roles):
        meta = {"name": f"bench-cr-{i:04d}"}
        if i < n_agg:
            cluster_roles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta,
                                  "aggregationRule": {"clusterRoleSelectors": [
                                      {"matchLabels": {"bench/agg": str(i)}}]}, "rules": []})
            continue
        if rng.random() < 0.2:
            meta["labels"] = {"bench/agg": str(rng.randrange(n_agg))}
        rules = [rule(rng) for _ in range(rng.randint(1, 6))]
        if rng.random() < 0.03:
            rules.append({"nonResourceURLs": rng.sample(NONRES, 2), "verbs": ["get"]})
        cluster_roles.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": meta,
                              "rules": rules})
    dump("cluster-roles.yaml", cluster_roles)
    chunk = 2500
    roles = [{"apiVersion": f"{RBAC}/v1", "kind": "Role",
              "metadata": {"name": f"bench-role-{j:02d}", "namespace": ns},
              "rules": [rule(rng) for _ in range(rng.randint(1, 6))]}
             for ns in namespaces for j in range(n_roles_per_ns)]
    for k in range(0, len(roles), chunk):
        dump(f"roles-{k // chunk:02d}.yaml", roles[k:k + chunk])
    bindings = []
    for ns in namespaces:
        for j in range(n_rb_per_ns):
            if rng.random() < 0.6:
                ref = {"apiGroup": RBAC, "kind": "Role", "name": f"bench-role-{rng.randrange(n_roles_per_ns):02d}"}
            else:
                ref = {"apiGroup": RBAC, "kind": "ClusterRole", "name": f"bench-cr-{rng.randrange(n_cluster_roles):04d}"}
            bindings.append({"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
                             "metadata": {"name": f"bench-rb-{j:03d}", "namespace": ns},
                             "roleRef": ref,
                             "subjects": subjects(rng, ns, sas_per_ns, namespaces, users, groups)})
    for j in range(n_crb):
        bindings.append({"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
                         "metadata": {"name": f"bench-crb-{j:04d}"},
                         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole",
                                     "name": f"bench-cr-{rng.randrange(n_cluster_roles):04d}"},
                         "subjects": subjects(rng, None, sas_per_ns, namespaces, users, groups)})
    for k in range(0, len(bindings), chunk):
        dump(f"bindings-{k // chunk:02d}.yaml", bindings[k:k + chunk])
    print(json.dumps({"namespaces": len(namespaces), "clusterRoles": len(cluster_roles),
                      "aggregated": n_agg, "roles": len(roles),
                      "roleBindings": n_rb_per_ns * len(namespaces), "clusterRoleBindings": n_crb}))


if __name__ == "__main__":
    main()
