#!/usr/bin/env python3
"""Seeded random clusters for the network policy differential test (random_test.py).

Each case is a handful of namespaces and workloads and a handful of policies, drawn from small
vocabularies so that selectors often match, overlap and miss; every semantic choice of
analysis.md §2.2 is exercised: missing vs empty podSelector/from/to/ports/ingress/egress,
policyTypes given or defaulted (including `egress: []` without policyTypes, which the API server
does NOT default to Egress), pod+namespace selectors in one peer (AND) and in two peers (OR),
matchExpressions of every operator, the namespace name label, ipBlock with except, protocols
defaulted or given, numeric ports, endPort ranges, named ports that resolve to different numbers on
different pods (or to nothing), hostNetwork pods, and the cluster tiers: AdminNetworkPolicy +
BaselineAdminNetworkPolicy (v1alpha1) or ClusterNetworkPolicy (v1alpha2, Admin and Baseline
tiers) with priorities, rule order and Allow/Accept/Deny/Pass.

What it never makes, because the answer is implementation-defined or the API rejects it: two
admin policies with the same priority, ANP v1alpha1 and ClusterNetworkPolicy in one case,
an invalid object (endPort with a
named port, except outside cidr, a peer with nothing in it), IPv6.

Usage: gen_random.py SEED [OUT.yaml]   (one case; random_test.py imports generate()).
"""

import random
import sys

import yaml

NAMESPACE_POOL = ["alpha", "beta", "gamma", "delta"]
NAMESPACE_LABELS = {"team": ["red", "blue"], "env": ["prod", "dev"]}
POD_LABELS = {"app": ["web", "db", "api", "cache"], "tier": ["front", "back"], "role": ["x", "y"]}
KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
         "ReplicationController"]
PORT_NAMES = ["http", "metrics", "dns", "grpc"]
PORT_NUMBERS = [53, 80, 443, 8080, 8443, 9090, 5432]
PROTOCOLS = ["TCP", "UDP", "SCTP"]
# CIDRs that nest and overlap, with excepts inside them.
IP_BLOCKS = [
    ("10.0.0.0/8", ["10.1.0.0/16", "10.2.3.0/24"]),
    ("10.1.0.0/16", ["10.1.2.0/24"]),
    ("192.168.0.0/16", []),
    ("0.0.0.0/0", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    ("172.16.5.0/24", ["172.16.5.128/25"]),
    ("8.8.8.8/32", []),
    ("203.0.113.0/24", ["203.0.113.7/32"]),
]
NETWORKS = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "172.16.5.0/24", "8.8.8.8/32", "203.0.113.0/24"]


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.namespaces = []

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, seq):
        return self.rng.choice(seq)

    # --- selectors ------------------------------------------------------------------------
    def labels(self, vocabulary, count_max=2):
        keys = self.rng.sample(sorted(vocabulary), self.rng.randint(0, min(count_max, len(vocabulary))))
        return {k: self.pick(vocabulary[k]) for k in keys}

    def selector(self, vocabulary, namespace_names=False):
        """A LabelSelector: often {}, else matchLabels and/or matchExpressions."""
        if self.chance(0.25):
            return {}
        selector = {}
        if self.chance(0.7):
            if namespace_names and self.chance(0.4):
                selector["matchLabels"] = {"kubernetes.io/metadata.name": self.pick(self.namespaces)}
            else:
                selector["matchLabels"] = self.labels(vocabulary, 2) or {"x-never": "matches"}
        if not selector or self.chance(0.3):
            expressions = []
            for _ in range(self.rng.randint(1, 2)):
                if namespace_names and self.chance(0.3):
                    key, values = "kubernetes.io/metadata.name", self.namespaces
                else:
                    key = self.pick(sorted(vocabulary))
                    values = vocabulary[key]
                operator = self.pick(["In", "NotIn", "Exists", "DoesNotExist"])
                expression = {"key": key, "operator": operator}
                if operator in ("In", "NotIn"):
                    expression["values"] = self.rng.sample(values, self.rng.randint(1, min(2, len(values))))
                expressions.append(expression)
            selector["matchExpressions"] = expressions
        return selector

    def pod_selector(self):
        return self.selector(POD_LABELS)

    def namespace_selector(self):
        return self.selector(NAMESPACE_LABELS, namespace_names=True)

    # --- cluster --------------------------------------------------------------------------
    def namespace_objects(self):
        count = self.rng.randint(2, 4)
        self.namespaces = self.rng.sample(NAMESPACE_POOL, count)
        documents = []
        for name in self.namespaces:
            if self.chance(0.15):
                continue  # no Namespace object: only the name label is known
            metadata = {"name": name}
            labels = self.labels(NAMESPACE_LABELS, 2)
            if labels:
                metadata["labels"] = labels
            documents.append({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
        return documents

    def container_ports(self):
        ports = []
        for _ in range(self.rng.randint(0, 3)):
            port = {"containerPort": self.pick(PORT_NUMBERS) if self.chance(0.8) else self.rng.randint(1, 65535)}
            if self.chance(0.7):
                port["name"] = self.pick(PORT_NAMES)
            protocol = self.pick(PROTOCOLS + ["TCP", None])
            if protocol:
                port["protocol"] = protocol
            # A name may appear once per pod (the API rejects duplicates).
            if "name" in port and any(p.get("name") == port["name"] for p in ports):
                del port["name"]
            ports.append(port)
        return ports

    def workload(self, index):
        kind = self.pick(KINDS)
        namespace = self.pick(self.namespaces)
        name = f"w{index}"
        labels = self.labels(POD_LABELS, 3)
        containers = [{"name": "main", "image": "registry.example/app:1"}]
        ports = self.container_ports()
        if ports:
            containers[0]["ports"] = ports
        if self.chance(0.2):
            sidecar_ports = self.container_ports()
            names = {p.get("name") for p in ports}
            sidecar_ports = [p for p in sidecar_ports if p.get("name") is None or p.get("name") not in names]
            sidecar = {"name": "sidecar", "image": "registry.example/side:1"}
            if sidecar_ports:
                sidecar["ports"] = sidecar_ports
            containers.append(sidecar)
        pod_spec = {"containers": containers}
        if self.chance(0.05):
            pod_spec["hostNetwork"] = True
        template = {"metadata": {"labels": labels} if labels else {}, "spec": pod_spec}
        metadata = {"name": name, "namespace": namespace}
        if kind == "Pod":
            metadata.update(template["metadata"])
            return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": pod_spec}
        api = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1",
               "Job": "batch/v1", "CronJob": "batch/v1", "ReplicationController": "v1"}[kind]
        selector = {"matchLabels": labels} if labels else {}
        if kind == "CronJob":
            spec = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
        elif kind == "ReplicationController":
            spec = {"selector": labels, "template": template}
        elif kind == "Job":
            spec = {"template": template}
        else:
            spec = {"selector": selector, "template": template}
        if kind in ("Job", "CronJob"):
            pod_spec["restartPolicy"] = "Never"
        return {"apiVersion": api, "kind": kind, "metadata": metadata, "spec": spec}

    # --- NetworkPolicy ----------------------------------------------------------------------
    def np_peer(self):
        choice = self.rng.random()
        if choice < 0.2:
            cidr, excepts = self.pick(IP_BLOCKS)
            block = {"cidr": cidr}
            if excepts and self.chance(0.6):
                block["except"] = self.rng.sample(excepts, self.rng.randint(1, len(excepts)))
            return {"ipBlock": block}
        if choice < 0.5:
            return {"podSelector": self.pod_selector()}
        if choice < 0.75:
            return {"namespaceSelector": self.namespace_selector()}
        return {"podSelector": self.pod_selector(), "namespaceSelector": self.namespace_selector()}

    def np_port(self):
        port = {}
        protocol = self.pick(PROTOCOLS + [None, None])
        if protocol:
            port["protocol"] = protocol
        choice = self.rng.random()
        if choice < 0.2:
            if not port:
                port["protocol"] = self.pick(PROTOCOLS)
            return port  # every port of the protocol
        if choice < 0.45:
            port["port"] = self.pick(PORT_NAMES + ["nosuchport"])
            return port
        number = self.pick(PORT_NUMBERS) if self.chance(0.7) else self.rng.randint(1, 65000)
        port["port"] = number
        if self.chance(0.3):
            port["endPort"] = min(65535, number + self.pick([0, 1, 10, 100, 1000, 30000]))
        return port

    def np_rule(self, peers_key):
        rule = {}
        choice = self.rng.random()
        if choice < 0.15:
            rule[peers_key] = []
        elif choice < 0.75:
            rule[peers_key] = [self.np_peer() for _ in range(self.rng.randint(1, 3))]
        choice = self.rng.random()
        if choice < 0.1:
            rule["ports"] = []
        elif choice < 0.6:
            rule["ports"] = [self.np_port() for _ in range(self.rng.randint(1, 3))]
        return rule

    def np_rules(self, peers_key):
        choice = self.rng.random()
        if choice < 0.2:
            return None  # missing
        if choice < 0.35:
            return []
        return [self.np_rule(peers_key) for _ in range(self.rng.randint(1, 3))]

    def network_policy(self, index):
        spec = {}
        if self.chance(0.9):
            spec["podSelector"] = self.pod_selector()
        ingress = self.np_rules("from")
        egress = self.np_rules("to")
        if ingress is not None:
            spec["ingress"] = ingress
        if egress is not None:
            spec["egress"] = egress
        choice = self.rng.random()
        if choice < 0.35:
            pass  # defaulted
        elif choice < 0.4:
            spec["policyTypes"] = []
        else:
            spec["policyTypes"] = self.pick([["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Egress", "Ingress"]])
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": f"np{index}", "namespace": self.pick(self.namespaces)}, "spec": spec}

    # --- cluster tiers ----------------------------------------------------------------------
    def subject(self):
        if self.chance(0.5):
            return {"namespaces": self.namespace_selector()}
        return {"pods": {"namespaceSelector": self.namespace_selector(), "podSelector": self.pod_selector()}}

    def tier_peer(self, egress, allow_networks):
        choice = self.rng.random()
        if egress and allow_networks and choice < 0.2:
            return {"networks": self.rng.sample(NETWORKS, self.rng.randint(1, 2))}
        if choice < 0.55:
            return {"namespaces": self.namespace_selector()}
        return {"pods": {"namespaceSelector": self.namespace_selector(), "podSelector": self.pod_selector()}}

    def anp_ports(self):
        ports = []
        for _ in range(self.rng.randint(1, 2)):
            choice = self.rng.random()
            if choice < 0.45:
                ports.append({"portNumber": {"protocol": self.pick(PROTOCOLS), "port": self.pick(PORT_NUMBERS)}})
            elif choice < 0.75:
                start = self.pick(PORT_NUMBERS)
                ports.append({"portRange": {"protocol": self.pick(PROTOCOLS), "start": start,
                                            "end": min(65535, start + self.pick([1, 100, 5000]))}})
            else:
                ports.append({"namedPort": self.pick(PORT_NAMES)})
        return ports

    def cnp_protocols(self):
        protocols = []
        for _ in range(self.rng.randint(1, 2)):
            if self.chance(0.25):
                protocols.append({"destinationNamedPort": self.pick(PORT_NAMES)})
                continue
            key = self.pick(["tcp", "udp", "sctp"])
            if self.chance(0.5):
                destination = {"number": self.pick(PORT_NUMBERS)}
            else:
                start = self.pick(PORT_NUMBERS)
                destination = {"range": {"start": start, "end": min(65535, start + self.pick([1, 100, 5000]))}}
            protocols.append({key: {"destinationPort": destination}})
        return protocols

    def tier_rule(self, egress, actions, dialect, index):
        action = self.pick(actions)
        peers_key = "to" if egress else "from"
        # Named ports cannot go with networks peers (the API rejects the pair).
        with_ports = self.chance(0.5)
        named_ok = True
        rule = {"name": f"r{index}", "action": action}
        peers = [self.tier_peer(egress, allow_networks=True) for _ in range(self.rng.randint(1, 2))]
        rule[peers_key] = peers
        if any("networks" in p for p in peers):
            named_ok = False
        if with_ports:
            if dialect == "v1alpha1":
                ports = self.anp_ports()
                if not named_ok:
                    ports = [p for p in ports if "namedPort" not in p] or [
                        {"portNumber": {"protocol": "TCP", "port": 80}}]
                rule["ports"] = ports
            else:
                protocols = self.cnp_protocols()
                if not named_ok:
                    protocols = [p for p in protocols if "destinationNamedPort" not in p] or [
                        {"tcp": {"destinationPort": {"number": 80}}}]
                rule["protocols"] = protocols
        return rule

    def tier_spec(self, actions, dialect):
        spec = {"subject": self.subject()}
        for key in ("ingress", "egress"):
            if self.chance(0.7):
                spec[key] = [self.tier_rule(key == "egress", actions, dialect, i)
                             for i in range(self.rng.randint(1, 3))]
        return spec

    def admin_policies(self, dialect):
        documents = []
        priorities = self.rng.sample(range(0, 50), self.rng.randint(1, 3))
        for index, priority in enumerate(priorities):
            if dialect == "v1alpha1":
                spec = self.tier_spec(["Allow", "Deny", "Pass"], dialect)
                spec["priority"] = priority
                documents.append({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
                                  "metadata": {"name": f"anp{index}"}, "spec": spec})
            else:
                spec = {"tier": "Admin", "priority": priority}
                spec.update(self.tier_spec(["Accept", "Deny", "Pass"], dialect))
                documents.append({"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
                                  "metadata": {"name": f"admin{index}"}, "spec": spec})
        if self.chance(0.7):
            if dialect == "v1alpha1":
                documents.append({"apiVersion": "policy.networking.k8s.io/v1alpha1",
                                  "kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"},
                                  "spec": self.tier_spec(["Allow", "Deny"], dialect)})
            else:
                for index, priority in enumerate(self.rng.sample(range(0, 50), self.rng.randint(1, 2))):
                    spec = {"tier": "Baseline", "priority": priority}
                    spec.update(self.tier_spec(["Accept", "Deny", "Accept", "Deny", "Pass"], dialect))
                    documents.append({"apiVersion": "policy.networking.k8s.io/v1alpha2",
                                      "kind": "ClusterNetworkPolicy", "metadata": {"name": f"baseline{index}"},
                                      "spec": spec})
        return documents

    def case(self):
        documents = self.namespace_objects()
        documents += [self.workload(i) for i in range(self.rng.randint(2, 7))]
        documents += [self.network_policy(i) for i in range(self.rng.randint(0, 5))]
        choice = self.rng.random()
        if choice < 0.25:
            documents += self.admin_policies("v1alpha1")
        elif choice < 0.5:
            documents += self.admin_policies("v1alpha2")
        self.rng.shuffle(documents)
        return documents


def generate_documents(seed):
    """The objects of case `seed` (an int or str)."""
    return Generator(seed).case()


def generate(seed):
    """The YAML text of case `seed`."""
    return to_yaml(generate_documents(seed))


class InputDumper(yaml.SafeDumper):
    """Writes the objects a tool reads: no aliases, and strings that YAML 1.1 readers (Go's yaml
    libraries, so kubectl and netpol-analyzer) would take for booleans are quoted — a label value
    `y`, the e2e model's namespace `y`."""

    def ignore_aliases(self, data):
        return True


def _quoted_if_ambiguous(dumper, data):
    style = "'" if data.lower() in ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


InputDumper.add_representer(str, _quoted_if_ambiguous)


def to_yaml(documents):
    return yaml.dump_all(documents, Dumper=InputDumper, sort_keys=False, default_flow_style=False)


def main(argv):
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    text = generate(argv[0])
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
