#!/usr/bin/env python3
"""Generates the NetworkPolicy benchmark input (bench/results/netpol.md): PODS
bare Pods in NAMESPACES namespaces with POLICIES NetworkPolicies (default
deny, DNS, tier-to-tier, same-team namespaces, monitoring, ipBlocks with
per-namespace excepts, named ports), plus a few AdminNetworkPolicies and the
BaselineAdminNetworkPolicy. Deterministic (seeded).

usage: gen_netpol.py OUT.yaml [--namespaces 1000] [--pods 10000] [--policies 10000]
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--namespaces", type=int, default=1000)
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--policies", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=18)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    tiers = ["web", "api", "db"]
    docs = []
    nss = ["ns-%04d" % i for i in range(a.namespaces)]
    for i, ns in enumerate(nss):
        env = "prod" if i % 3 else "dev"
        docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels: {{team: t{i % 50}, env: {env}}}\n")
    docs.append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n")
    docs.append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n  labels: {purpose: monitoring}\n")
    docs.append("apiVersion: v1\nkind: Pod\nmetadata:\n  name: coredns\n  namespace: kube-system\n  labels: {k8s-app: kube-dns}\n"
                "spec:\n  containers:\n  - name: c\n    image: i\n    ports: [{name: dns, containerPort: 53, protocol: UDP}, {name: dns-tcp, containerPort: 53}]\n")
    docs.append("apiVersion: v1\nkind: Pod\nmetadata:\n  name: prometheus\n  namespace: monitoring\n  labels: {app: prometheus}\n"
                "spec:\n  containers: [{name: c, image: i}]\n")
    per_ns = max(1, a.pods // a.namespaces)
    for i, ns in enumerate(nss):
        for j in range(per_ns):
            tier = tiers[j % 3]
            http = [8080, 8081, 9090][rnd.randrange(3)]
            docs.append(
                f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {tier}-{j}\n  namespace: {ns}\n"
                f"  labels: {{app: svc{j}, tier: {tier}, version: v{rnd.randrange(3)}}}\n"
                f"spec:\n  containers:\n  - name: c\n    image: i\n"
                f"    ports: [{{name: http, containerPort: {http}}}, {{name: metrics, containerPort: 9100}}]\n")
    per_ns_pol = max(1, a.policies // a.namespaces)
    templates = [
        "  podSelector: {}\n  policyTypes: [Ingress, Egress]",
        "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]\n    ports: [{port: 53, protocol: UDP}, {port: 53}]",
        "  podSelector: {matchLabels: {tier: web}}\n  ingress: [{ports: [{port: http}]}]",
        "  podSelector: {matchLabels: {tier: api}}\n  ingress: [{from: [{podSelector: {matchLabels: {tier: web}}}], ports: [{port: 8080}, {port: 9090}]}]",
        "  podSelector: {matchLabels: {tier: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {tier: api}}}], ports: [{port: 5432}]}]",
        "  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {purpose: monitoring}}}], ports: [{port: metrics}]}]",
        "  podSelector: {matchLabels: {tier: web}}\n  policyTypes: [Egress]\n  egress: [{to: [{podSelector: {matchLabels: {tier: api}}}], ports: [{port: http}]}]",
        "  podSelector: {matchLabels: {tier: api}}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.%d.0.0/16]}}], ports: [{port: 443}]}]",
        "  podSelector: {matchLabels: {tier: api}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: t%d}}, podSelector: {matchLabels: {tier: web}}}], ports: [{port: http}]}]",
        "  podSelector: {matchLabels: {tier: web}}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]}}], ports: [{port: 443}, {port: 80}]}]",
    ]
    for i, ns in enumerate(nss):
        for k in range(per_ns_pol):
            t = templates[k % len(templates)]
            if "%d" in t:
                t = t % (i % 256 if "10.%d" in t else i % 50)
            docs.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p{k}\n  namespace: {ns}\nspec:\n{t}\n")
    docs.append("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: dev-not-to-prod\nspec:\n"
                "  priority: 10\n  subject: {namespaces: {matchLabels: {env: prod}}}\n"
                "  ingress: [{name: no-dev, action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}]}]\n")
    docs.append("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: monitoring\nspec:\n"
                "  priority: 5\n  subject: {namespaces: {}}\n"
                "  ingress: [{name: scrape, action: Allow, from: [{namespaces: {matchLabels: {purpose: monitoring}}}], ports: [{namedPort: metrics}]}]\n")
    docs.append("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n"
                "  subject: {namespaces: {}}\n"
                "  ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]\n")
    with open(a.out, "w") as f:
        f.write("---\n".join(docs))


if __name__ == "__main__":
    main()
