#!/usr/bin/env python3
"""A deliberately simple reference evaluator of Kubernetes network policy, for tests only.

It is written straight from the semantics in shared/research/analysis.md §2.2 (and the API types'
doc comments), with no indexes and no cleverness, so that it can be read and checked by eye and
then used to judge kguard's engine (src/engines/netpol) on thousands of random cases
(random_test.py) and on the conformance fixtures (cases/).

The question it answers, for every ordered pair (src, dst) of workloads (and of workloads and
external IP addresses), every protocol (TCP, UDP, SCTP) and every port 1..65535: is a connection
allowed?  It asks that question literally, once per point.  To stay fast enough for thousands of
cases it asks it once per *elementary interval* rather than once per port: every predicate below
compares the port with numbers written in the input (a rule's port/endPort/range, a container's
port), so the answer is constant between two consecutive such numbers (`port_boundaries`).  The
same holds for IP addresses and the CIDRs written in the input (`ip_boundaries`).
`connections(..., exhaustive=True)` asks at every port instead, and random_test.py runs a few
cases that way to check that argument.

Semantics (analysis.md §2.2), in the order the code applies them:
* Workloads stand for their pods: a Pod, or any pod-template kind (Deployment, ReplicaSet,
  StatefulSet, DaemonSet, Job, CronJob, ReplicationController) with its template's labels and
  container ports.  Namespace labels come from Namespace objects, plus
  `kubernetes.io/metadata.name: <name>`, which the API server always sets.
* Pods and IP addresses are disjoint peers: selectors match only pods, ipBlock/networks match
  only external addresses (what static analyzers do; analysis.md §2.2 item 5).
* hostNetwork pods are outside policy (item 7): no policy selects them, so their own end never
  restricts anything; as a peer of another pod, no selector matches them (the network-policy-api
  types say so for its peers; NetworkPolicy leaves it undefined), only a rule that names no peer
  at all (missing/empty from/to) does.  An admin `networks` entry of 0.0.0.0/0 also matches every
  pod: ClusterNetworkPolicy's doc comment says cluster-internal traffic is checked against
  `networks` too, and only the whole IPv4 space certainly holds every pod address.
* A connection is allowed iff egress is allowed at the source (when the source is a pod) and
  ingress is allowed at the destination (when the destination is a pod).
* One direction at one pod: Admin tier (ANP v1alpha1 and ClusterNetworkPolicy tier Admin; lower
  priority number first, then rule order; first matching rule decides: Allow/Accept allows, Deny
  denies, Pass skips the rest of the tier) -> NetworkPolicy (if any policy selecting the pod has
  this direction in its effective policyTypes, the union of their rules decides, finally) ->
  Baseline tier (BANP "default", ClusterNetworkPolicy tier Baseline by priority; first match) ->
  allowed.
* NetworkPolicy: policyTypes defaults to [Ingress] plus Egress iff `egress` has rules (the API
  server's defaulting: `len(spec.egress) != 0`); missing/empty from/to = every peer; missing/empty
  ports = every port; a peer with podSelector only = pods of the policy's namespace, with
  namespaceSelector only = every pod of those namespaces, with both = AND; ipBlock = cidr minus
  except; protocol defaults to TCP; a port without number = every port of that protocol; endPort
  makes [port, endPort]; a named port is resolved on the destination pod (name and protocol), per
  pod, and never matches an IP address.

Usage: reference.py FILE... [-o json]   (prints the connections in kguard's `netpol list -o json`
shape: {"connections": [{"src", "dst", "TCP", "UDP", "SCTP"}]}).
"""

import ipaddress
import json
import sys

import yaml

PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535
IPV4_END = 2**32  # one past the last IPv4 address

# Where each pod-bearing kind keeps its pod template (the path to the template object).
POD_TEMPLATE_PATHS = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


# ---------------------------------------------------------------------------------------------
# The cluster: namespaces, workloads, policies.

class Workload:
    def __init__(self, kind, namespace, name, labels, ports, host_network):
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.ports = ports  # list of (name or None, number, protocol)
        self.host_network = host_network

    @property
    def ident(self):
        return f"{self.namespace}/{self.name}[{self.kind}]"


class Cluster:
    def __init__(self):
        self.namespace_labels = {}  # name -> labels
        self.workloads = []
        self.network_policies = []  # (namespace, name, spec)
        self.admin_policies = []  # (priority, name, spec, dialect), in evaluation order
        self.baseline_policies = []
        self.selection_memo = {}  # which policies select which pod: asked once per pod, not per port

    def remembered(self, key, compute):
        if key not in self.selection_memo:
            self.selection_memo[key] = compute()
        return self.selection_memo[key]


def load_documents(paths):
    objects = []
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            for doc in yaml.load_all(stream, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
                    objects.extend(item for item in doc["items"] if isinstance(item, dict))
                else:
                    objects.append(doc)
    return objects


def dig(obj, path):
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def build_cluster(objects):
    cluster = Cluster()
    for obj in objects:
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        namespace = meta.get("namespace") or "default"
        if kind == "Namespace":
            labels = dict(meta.get("labels") or {})
            labels[NAMESPACE_NAME_LABEL] = name
            cluster.namespace_labels[name] = labels
        elif kind in POD_TEMPLATE_PATHS:
            template = dig(obj, POD_TEMPLATE_PATHS[kind]) or {}
            labels = dict(dig(template, ("metadata", "labels")) or {})
            spec = template.get("spec") or {}
            ports = []
            for container in (spec.get("containers") or []) + (spec.get("initContainers") or []):
                for port in container.get("ports") or []:
                    ports.append((port.get("name"), int(port["containerPort"]), port.get("protocol") or "TCP"))
            cluster.workloads.append(
                Workload(kind, namespace, name, labels, ports, bool(spec.get("hostNetwork"))))
        elif kind == "NetworkPolicy":
            cluster.network_policies.append((namespace, name, obj.get("spec") or {}))
        elif kind == "AdminNetworkPolicy":
            spec = obj.get("spec") or {}
            cluster.admin_policies.append((int(spec.get("priority", 0)), name, spec, "v1alpha1"))
        elif kind == "BaselineAdminNetworkPolicy":
            # A singleton: only the one named "default" is in force.
            if name == "default":
                cluster.baseline_policies.append((0, name, obj.get("spec") or {}, "v1alpha1"))
        elif kind == "ClusterNetworkPolicy":
            spec = obj.get("spec") or {}
            entry = (int(spec.get("priority", 0)), name, spec, "v1alpha2")
            if spec.get("tier") == "Admin":
                cluster.admin_policies.append(entry)
            elif spec.get("tier") == "Baseline":
                cluster.baseline_policies.append(entry)
    for workload in cluster.workloads:
        cluster.namespace_labels.setdefault(workload.namespace, {NAMESPACE_NAME_LABEL: workload.namespace})
    for namespace, _, _ in cluster.network_policies:
        cluster.namespace_labels.setdefault(namespace, {NAMESPACE_NAME_LABEL: namespace})
    # Lower priority number first; a name breaks ties so that the order is at least deterministic
    # (same-priority overlaps are implementation-defined; the random generator never makes them).
    cluster.admin_policies.sort(key=lambda entry: (entry[0], entry[1]))
    cluster.baseline_policies.sort(key=lambda entry: (entry[0], entry[1]))
    return cluster


# ---------------------------------------------------------------------------------------------
# Peers.  A peer is ("pod", Workload) or ("ip", integer IPv4 address).

def selector_matches(selector, labels):
    """metav1.LabelSelector: every matchLabels pair and every matchExpressions requirement."""
    if selector is None:
        selector = {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for requirement in selector.get("matchExpressions") or []:
        key = requirement["key"]
        operator = requirement["operator"]
        values = [str(v) for v in requirement.get("values") or []]
        if operator == "In" and not (key in labels and labels[key] in values):
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def cidr_contains(cidr, address):
    network = ipaddress.ip_network(cidr, strict=False)
    if network.version != 4:
        return False
    return int(network.network_address) <= address <= int(network.broadcast_address)


def namespace_matches(cluster, selector, workload):
    return selector_matches(selector, cluster.namespace_labels.get(workload.namespace, {}))


def named_port_matches(destination, port_name, protocol, port):
    """A named port is resolved on the destination pod; an IP address has no named ports."""
    kind, target = destination
    if kind != "pod":
        return False
    return any(name == port_name and proto == protocol and number == port
               for name, number, proto in target.ports)


# ---------------------------------------------------------------------------------------------
# NetworkPolicy v1.

def policy_types(spec):
    types = spec.get("policyTypes")
    if types:
        return set(types)
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


def np_peer_matches(cluster, policy_namespace, item, peer):
    kind, target = peer
    if "ipBlock" in item:
        block = item["ipBlock"]
        return (kind == "ip" and cidr_contains(block["cidr"], target)
                and not any(cidr_contains(c, target) for c in block.get("except") or []))
    if kind != "pod" or target.host_network:
        return False
    pod_selector = item.get("podSelector")
    namespace_selector = item.get("namespaceSelector")
    if namespace_selector is None:
        namespace_ok = target.namespace == policy_namespace
    else:
        namespace_ok = namespace_matches(cluster, namespace_selector, target)
    pod_ok = pod_selector is None or selector_matches(pod_selector, target.labels)
    return namespace_ok and pod_ok


def np_port_matches(item, protocol, port, destination):
    if (item.get("protocol") or "TCP") != protocol:
        return False
    number = item.get("port")
    if number is None:
        return True
    if isinstance(number, str):
        return named_port_matches(destination, number, protocol, port)
    return int(number) <= port <= int(item.get("endPort", number))


def np_rule_matches(cluster, policy_namespace, rule, peers_key, peer, protocol, port, destination):
    peers = rule.get(peers_key) or []
    if peers and not any(np_peer_matches(cluster, policy_namespace, item, peer) for item in peers):
        return False
    ports = rule.get("ports") or []
    if ports and not any(np_port_matches(item, protocol, port, destination) for item in ports):
        return False
    return True


def np_verdict(cluster, direction, pod, peer, protocol, port, destination):
    """None when no NetworkPolicy isolates `pod` in this direction, else allowed or not."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolating = cluster.remembered(("np", direction, id(pod)), lambda: [
        (namespace, spec) for namespace, _, spec in cluster.network_policies
        if namespace == pod.namespace and selector_matches(spec.get("podSelector"), pod.labels)
        and direction in policy_types(spec)])
    for namespace, spec in isolating:
        for rule in spec.get(rules_key) or []:
            if np_rule_matches(cluster, namespace, rule or {}, peers_key, peer, protocol, port, destination):
                return True
    return False if isolating else None


# ---------------------------------------------------------------------------------------------
# AdminNetworkPolicy / BaselineAdminNetworkPolicy v1alpha1 and ClusterNetworkPolicy v1alpha2.

def subject_selects(cluster, subject, pod):
    if "namespaces" in subject:
        return namespace_matches(cluster, subject["namespaces"], pod)
    if "pods" in subject:
        pods = subject["pods"] or {}
        return (namespace_matches(cluster, pods.get("namespaceSelector"), pod)
                and selector_matches(pods.get("podSelector"), pod.labels))
    return False


def covers_every_address(cidr):
    network = ipaddress.ip_network(cidr, strict=False)
    return network.version == 4 and network.prefixlen == 0


def tier_peer_matches(cluster, item, peer):
    kind, target = peer
    if "networks" in item:
        if kind == "pod":
            return any(covers_every_address(c) for c in item["networks"] or [])
        return any(cidr_contains(c, target) for c in item["networks"] or [])
    if kind != "pod" or target.host_network:
        return False  # nodes and domainNames never match a pod or a modelled IP address
    if "namespaces" in item:
        return namespace_matches(cluster, item["namespaces"], target)
    if "pods" in item:
        pods = item["pods"] or {}
        return (namespace_matches(cluster, pods.get("namespaceSelector"), target)
                and selector_matches(pods.get("podSelector"), target.labels))
    return False


def anp_port_matches(item, protocol, port, destination):
    """v1alpha1 `ports`: portNumber, namedPort or portRange."""
    if "portNumber" in item:
        entry = item["portNumber"]
        return (entry.get("protocol") or "TCP") == protocol and int(entry["port"]) == port
    if "portRange" in item:
        entry = item["portRange"]
        return (entry.get("protocol") or "TCP") == protocol and int(entry["start"]) <= port <= int(entry["end"])
    if "namedPort" in item:
        return named_port_matches(destination, item["namedPort"], protocol, port)
    return False


def cnp_protocol_matches(item, protocol, port, destination):
    """v1alpha2 `protocols`: tcp/udp/sctp with destinationPort number or range, or a named port."""
    if "destinationNamedPort" in item:
        return named_port_matches(destination, item["destinationNamedPort"], protocol, port)
    for key, name in (("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")):
        if key in item:
            if protocol != name:
                return False
            destination_port = (item[key] or {}).get("destinationPort")
            if not destination_port:
                return True
            if "number" in destination_port:
                return int(destination_port["number"]) == port
            bounds = destination_port["range"]
            return int(bounds["start"]) <= port <= int(bounds["end"])
    return False


def tier_rule_matches(cluster, rule, peers_key, peer, protocol, port, destination, dialect):
    if not any(tier_peer_matches(cluster, item, peer) for item in rule.get(peers_key) or []):
        return False
    if dialect == "v1alpha1":
        ports = rule.get("ports")
        return not ports or any(anp_port_matches(p, protocol, port, destination) for p in ports)
    protocols = rule.get("protocols")
    return not protocols or any(cnp_protocol_matches(p, protocol, port, destination) for p in protocols)


def tier_verdict(cluster, policies, direction, pod, peer, protocol, port, destination):
    """True/False for the first matching Allow/Accept or Deny rule; None for Pass or no match."""
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    selecting = cluster.remembered(("tier", id(policies), id(pod)), lambda: [
        (spec, dialect) for _, _, spec, dialect in policies
        if subject_selects(cluster, spec.get("subject") or {}, pod)])
    for spec, dialect in selecting:
        for rule in spec.get(rules_key) or []:
            if tier_rule_matches(cluster, rule, peers_key, peer, protocol, port, destination, dialect):
                action = rule.get("action")
                if action in ("Allow", "Accept"):
                    return True
                if action == "Deny":
                    return False
                return None  # Pass: the rest of this tier is skipped
    return None


# ---------------------------------------------------------------------------------------------
# One connection.

def direction_allowed(cluster, direction, pod, peer, protocol, port, destination):
    if pod.host_network:
        return True  # no policy selects a host-network pod
    verdict = tier_verdict(cluster, cluster.admin_policies, direction, pod, peer, protocol, port, destination)
    if verdict is not None:
        return verdict
    verdict = np_verdict(cluster, direction, pod, peer, protocol, port, destination)
    if verdict is not None:
        return verdict
    verdict = tier_verdict(cluster, cluster.baseline_policies, direction, pod, peer, protocol, port, destination)
    if verdict is not None:
        return verdict
    return True


def connection_allowed(cluster, source, destination, protocol, port):
    """source/destination: ("pod", Workload) or ("ip", address)."""
    if source[0] == "pod" and not direction_allowed(cluster, "Egress", source[1], destination, protocol, port,
                                                    destination):
        return False
    if destination[0] == "pod" and not direction_allowed(cluster, "Ingress", destination[1], source, protocol,
                                                         port, destination):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Every pair, every protocol, every port (by elementary interval).

def numbers_in_input(cluster):
    """Every port number written anywhere in the input, as interval starts (n and n+1 for a
    single number, start and end+1 for a range)."""
    starts = {1, MAX_PORT + 1}

    def add_range(low, high):
        starts.add(int(low))
        starts.add(int(high) + 1)

    for workload in cluster.workloads:
        for _, number, _ in workload.ports:
            add_range(number, number)
    for _, _, spec in cluster.network_policies:
        for key in ("ingress", "egress"):
            for rule in spec.get(key) or []:
                for item in (rule or {}).get("ports") or []:
                    number = item.get("port")
                    if isinstance(number, int):
                        add_range(number, item.get("endPort", number))
    for _, _, spec, _ in cluster.admin_policies + cluster.baseline_policies:
        for key in ("ingress", "egress"):
            for rule in spec.get(key) or []:
                for item in rule.get("ports") or []:
                    if "portNumber" in item:
                        add_range(item["portNumber"]["port"], item["portNumber"]["port"])
                    if "portRange" in item:
                        add_range(item["portRange"]["start"], item["portRange"]["end"])
                for item in rule.get("protocols") or []:
                    for proto in ("tcp", "udp", "sctp"):
                        destination_port = (item.get(proto) or {}).get("destinationPort") or {}
                        if "number" in destination_port:
                            add_range(destination_port["number"], destination_port["number"])
                        if "range" in destination_port:
                            add_range(destination_port["range"]["start"], destination_port["range"]["end"])
    return sorted(s for s in starts if 1 <= s <= MAX_PORT + 1)


def cidrs_in_input(cluster):
    cidrs = []
    for _, _, spec in cluster.network_policies:
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(key) or []:
                for item in (rule or {}).get(peers_key) or []:
                    block = item.get("ipBlock")
                    if block:
                        cidrs.append(block["cidr"])
                        cidrs.extend(block.get("except") or [])
    for _, _, spec, _ in cluster.admin_policies + cluster.baseline_policies:
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in spec.get(key) or []:
                for item in rule.get(peers_key) or []:
                    cidrs.extend(item.get("networks") or [])
    return cidrs


def ip_boundaries(cidrs):
    starts = {0, IPV4_END}
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr, strict=False)
        if network.version == 4:
            starts.add(int(network.network_address))
            starts.add(int(network.broadcast_address) + 1)
    return sorted(starts)


def intervals(starts):
    return [(starts[i], starts[i + 1] - 1) for i in range(len(starts) - 1)]


def allowed_ports(cluster, source, destination, port_intervals, exhaustive):
    """{protocol: [(low, high), ...]} merged, for one ordered pair."""
    result = {}
    for protocol in PROTOCOLS:
        ranges = []
        if exhaustive:
            candidates = [(p, p) for p in range(1, MAX_PORT + 1)]
        else:
            candidates = port_intervals
        for low, high in candidates:
            if connection_allowed(cluster, source, destination, protocol, low):
                if ranges and ranges[-1][1] + 1 == low:
                    ranges[-1] = (ranges[-1][0], high)
                else:
                    ranges.append((low, high))
        result[protocol] = ranges
    return result


def connections(cluster, exhaustive=False):
    """{(src_id, dst_id): {protocol: ranges}} for every ordered pair of distinct workloads, and
    {(workload_id, (low, high)) / ((low, high), workload_id)} for each elementary IPv4 interval.
    Pairs with nothing allowed are left out, as in kguard's output."""
    port_intervals = intervals(numbers_in_input(cluster))
    ip_intervals = intervals(ip_boundaries(cidrs_in_input(cluster)))
    result = {}

    def record(key, ports):
        if any(ports[p] for p in PROTOCOLS):
            result[key] = ports

    for source in cluster.workloads:
        for destination in cluster.workloads:
            if source is destination:
                continue
            record((source.ident, destination.ident),
                   allowed_ports(cluster, ("pod", source), ("pod", destination), port_intervals, exhaustive))
    for workload in cluster.workloads:
        for low, high in ip_intervals:
            record((workload.ident, ("ip", low, high)),
                   allowed_ports(cluster, ("pod", workload), ("ip", low), port_intervals, exhaustive))
            record((("ip", low, high), workload.ident),
                   allowed_ports(cluster, ("ip", low), ("pod", workload), port_intervals, exhaustive))
    return result


# ---------------------------------------------------------------------------------------------
# Notation shared with kguard's JSON.

def format_ranges(ranges):
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


def parse_ranges(text):
    ranges = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        ranges.append((int(low), int(high or low)))
    return merge_ranges(ranges)


def merge_ranges(ranges):
    merged = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def format_peer(peer):
    if isinstance(peer, tuple):
        _, low, high = peer
        return "ip:" + (str(ipaddress.IPv4Address(low)) if low == high
                        else f"{ipaddress.IPv4Address(low)}-{ipaddress.IPv4Address(high)}")
    return peer


def to_json(result):
    entries = []
    for (source, destination), ports in sorted(result.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))):
        entry = {"src": format_peer(source), "dst": format_peer(destination)}
        entry.update({p: format_ranges(ports[p]) for p in PROTOCOLS})
        entries.append(entry)
    return {"connections": entries}


def main(argv):
    paths = [a for a in argv if not a.startswith("-") and a != "json"]
    if not paths:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    cluster = build_cluster(load_documents(paths))
    json.dump(to_json(connections(cluster)), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
