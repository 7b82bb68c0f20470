#!/usr/bin/env python3
"""The network policy benchmark's input (issue 18 item 5): NAMESPACES application namespaces of
ten workloads and ten NetworkPolicies each — 10,000 pods in 1,000 namespaces with 10,000 policies
at the default size, Antrea's published scale case (antrea-io/antrea#2333) — plus the three
system namespaces the policies point at (kube-system's DNS, ingress-nginx, monitoring).

Shapes are the ones real clusters use (research §2.2 item 8, the Kubernetes docs' recipes):
every application namespace is ingress-isolated (default-deny-ingress) and then opens paths one
hop at a time — frontend from the ingress controller's namespace on its named port, api from
frontend, auth from api OR frontend tier, orders from api (gRPC), payments from orders AND from
the team's other namespaces (namespaceSelector on a team label), db from every backend
(matchExpressions In), cache and queue from backends on two ports, metrics from Prometheus in
monitoring (namespaceSelector AND podSelector) — and one namespace in three is also
egress-isolated with DNS to kube-dns (UDP and TCP 53), the namespace itself, and HTTPS to the
internet except private ranges (ipBlock with except); elsewhere the worker alone is
egress-restricted (DNS, HTTPS out, a partner CIDR). Workloads are Deployments, StatefulSets
(db, queue) and a CronJob, with named container ports that differ per role, so named ports
resolve per destination.

Usage: gen_netpol_bench.py OUT.yaml [--namespaces N]   (N=1000 by default)
"""

import argparse
import sys

import yaml

TEAMS = [f"team-{i:02d}" for i in range(20)]
ENVS = ["prod", "staging", "dev"]
PARTNER_CIDRS = [f"203.0.{i}.0/24" for i in range(113, 121)]
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

# role -> (kind, tier, [(port name, number, protocol)])
ROLES = {
    "frontend": ("Deployment", "fe", [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]),
    "api": ("Deployment", "be", [("http", 8000, "TCP"), ("metrics", 9090, "TCP")]),
    "auth": ("Deployment", "be", [("http", 8081, "TCP"), ("metrics", 9091, "TCP")]),
    "orders": ("Deployment", "be", [("grpc", 9000, "TCP"), ("metrics", 9090, "TCP")]),
    "payments": ("Deployment", "be", [("https", 8443, "TCP"), ("metrics", 9090, "TCP")]),
    "worker": ("Deployment", "be", [("metrics", 9102, "TCP")]),
    "cache": ("Deployment", "data", [("redis", 6379, "TCP")]),
    "db": ("StatefulSet", "data", [("postgres", 5432, "TCP"), ("metrics", 9187, "TCP")]),
    "queue": ("StatefulSet", "data", [("amqp", 5672, "TCP"), ("metrics", 15692, "TCP")]),
    "cron": ("CronJob", "be", []),
}


def workload(namespace, role, team):
    kind, tier, ports = ROLES[role]
    labels = {"app": role, "tier": tier, "team": team}
    container = {"name": role, "image": f"registry.example/{role}:1.0"}
    if ports:
        container["ports"] = [{"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports]
    template = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
    metadata = {"name": role, "namespace": namespace}
    if kind == "CronJob":
        template["spec"]["restartPolicy"] = "OnFailure"
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata,
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    spec = {"replicas": 1, "selector": {"matchLabels": {"app": role}}, "template": template}
    if kind == "StatefulSet":
        spec["serviceName"] = role
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": metadata, "spec": spec}


def policy(namespace, name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def app(role):
    return {"matchLabels": {"app": role}}


def ns_name(name):
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


DNS_EGRESS = {"to": [{"namespaceSelector": ns_name("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
              "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}
HTTPS_OUT = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE}}], "ports": [{"protocol": "TCP", "port": 443}]}


def namespace_policies(namespace, index, team):
    policies = [
        policy(namespace, "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}),
        policy(namespace, "frontend-from-ingress", {
            "podSelector": app("frontend"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": ns_name("ingress-nginx")}], "ports": [{"port": "http"}]}]}),
        policy(namespace, "api-from-frontend", {
            "podSelector": app("api"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": app("frontend")}], "ports": [{"port": "http"}]}]}),
        policy(namespace, "auth-from-api-or-frontend", {
            "podSelector": app("auth"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": app("api")}, {"podSelector": {"matchLabels": {"tier": "fe"}}}],
                         "ports": [{"port": "http"}]}]}),
        policy(namespace, "orders-from-api", {
            "podSelector": app("orders"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": app("api")}], "ports": [{"port": 9000}]}]}),
        policy(namespace, "payments-from-orders-and-team", {
            "podSelector": app("payments"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": app("orders")},
                                  {"namespaceSelector": {"matchLabels": {"team": team}}, "podSelector": app("orders")}],
                         "ports": [{"port": "https"}]}]}),
        policy(namespace, "db-from-backends", {
            "podSelector": app("db"), "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["be"]}]}}],
                         "ports": [{"port": 5432}]}]}),
        policy(namespace, "cache-and-queue-from-backends", {
            "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["cache", "queue"]}]},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "be"}}}],
                         "ports": [{"port": 6379}, {"port": 5672, "endPort": 5673}]}]}),
        policy(namespace, "metrics-from-prometheus", {
            "podSelector": {}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": ns_name("monitoring"), "podSelector": app("prometheus")}],
                         "ports": [{"port": "metrics"}]}]}),
    ]
    if index % 3 == 0:
        policies.append(policy(namespace, "default-deny-egress-but-dns-namespace-https", {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [DNS_EGRESS, {"to": [{"podSelector": {}}]}, HTTPS_OUT]}))
    else:
        partner = PARTNER_CIDRS[index % len(PARTNER_CIDRS)]
        policies.append(policy(namespace, "worker-egress", {
            "podSelector": app("worker"), "policyTypes": ["Egress"],
            "egress": [DNS_EGRESS, HTTPS_OUT,
                       {"to": [{"ipBlock": {"cidr": partner}}], "ports": [{"protocol": "TCP", "port": 8443}]}]}))
    return policies


def system_objects():
    documents = []
    for name in ("kube-system", "ingress-nginx", "monitoring"):
        documents.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    documents.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
                      "spec": {"selector": {"matchLabels": {"k8s-app": "kube-dns"}},
                               "template": {"metadata": {"labels": {"k8s-app": "kube-dns"}},
                                            "spec": {"containers": [{"name": "coredns", "image": "coredns:1.11",
                                                                     "ports": [{"name": "dns", "containerPort": 53, "protocol": "UDP"},
                                                                               {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"}]}]}}}})
    documents.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ingress-nginx-controller", "namespace": "ingress-nginx"},
                      "spec": {"selector": {"matchLabels": {"app": "ingress-nginx"}},
                               "template": {"metadata": {"labels": {"app": "ingress-nginx"}},
                                            "spec": {"containers": [{"name": "controller", "image": "ingress-nginx:1.10",
                                                                     "ports": [{"name": "https", "containerPort": 443}]}]}}}})
    documents.append({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "prometheus", "namespace": "monitoring"},
                      "spec": {"serviceName": "prometheus", "selector": {"matchLabels": {"app": "prometheus"}},
                               "template": {"metadata": {"labels": {"app": "prometheus"}},
                                            "spec": {"containers": [{"name": "prometheus", "image": "prometheus:2.53",
                                                                     "ports": [{"name": "web", "containerPort": 9090}]}]}}}})
    return documents


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--namespaces", type=int, default=1000)
    args = parser.parse_args(argv)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    workloads = policies = 0
    with open(args.out, "w", encoding="utf-8") as out:
        documents = system_objects()
        for index in range(args.namespaces):
            namespace = f"ns-{index:04d}"
            team = TEAMS[index % len(TEAMS)]
            documents.append({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": namespace, "labels": {"team": team, "env": ENVS[index % len(ENVS)]}}})
            for role in ROLES:
                documents.append(workload(namespace, role, team))
                workloads += 1
            for document in namespace_policies(namespace, index, team):
                documents.append(document)
                policies += 1
            if len(documents) > 2000:
                yaml.dump_all(documents, out, Dumper=dumper, sort_keys=False, explicit_start=True)
                documents = []
        yaml.dump_all(documents, out, Dumper=dumper, sort_keys=False, explicit_start=True)
    print(f"{args.out}: {args.namespaces} namespaces, {workloads} workloads, {policies} NetworkPolicies "
          f"(+3 system namespaces with 3 workloads)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
