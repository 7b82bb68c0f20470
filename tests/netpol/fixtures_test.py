#!/usr/bin/env python3
"""Expected reachability matrices (tests/netpol/cases/*.yaml) checked against kguard and against
the reference evaluator.

Usage: fixtures_test.py KGUARD [CASE.yaml ...]     check (every case when none is named)
       fixtures_test.py --render CASE.yaml ...     (re)write each probe's matrix from its ops

A case file:
  source: where the case comes from (repository, file, test name) — upstream's words, translated
  model: xyz            the Kubernetes e2e model: namespaces x, y, z (labelled only with
                        kubernetes.io/metadata.name, plus `namespace_labels`), pods a, b, c in
                        each (label pod=<name>), each serving 80 and 81 over TCP, UDP and SCTP on
                        container ports named serve-<port>-<protocol> (test/e2e/network/netpol/model.go)
         | custom       `objects` holds every object; `peers` names the rows/columns
  objects: the policies (and, for custom, everything else), as YAML text
  peers:  (custom) row/column names: "ns/name[Kind]" workloads or "ip:ADDRESS" external addresses
  probes: one per (protocol, port) probed:
    - probe: TCP/80
      ops: upstream's expectations, in its order, on a matrix that starts all allowed
           ([FROM, TO, allowed?], FROM/TO = "*", "x/*", "*/a", "x/a" or a peer name); they mirror
           NewReachability(..., true) + ExpectPeer / Expect / ExpectAllIngress / ExpectAllEgress
      matrix: the truth table those ops give (rows from, columns to; "." allowed, "X" blocked,
              "-" a peer to itself, which no tool reports); --render writes it, the check reads it
              and requires it to still equal the ops.

kguard's answer for a cell is whether `kguard netpol list -o json` lists the pair with the probe's
port in the probe's protocol; an ip: peer is looked up in the kguard entry whose range holds it.
"""

import fnmatch
import glob
import os
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_random  # noqa: E402
import netpol_compare  # noqa: E402
import reference  # noqa: E402

XYZ_NAMESPACES = ("x", "y", "z")
XYZ_PODS = ("a", "b", "c")


def xyz_objects(namespace_labels, pod_labels):
    documents = []
    for namespace in XYZ_NAMESPACES:
        labels = dict(namespace_labels.get(namespace, {}))
        metadata = {"name": namespace}
        if labels:
            metadata["labels"] = labels
        documents.append({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    for namespace in XYZ_NAMESPACES:
        for pod in XYZ_PODS:
            containers = []
            for port in (80, 81):
                for protocol in ("TCP", "UDP", "SCTP"):
                    containers.append({
                        "name": f"cont-{port}-{protocol.lower()}",
                        "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                        "ports": [{"containerPort": port, "name": f"serve-{port}-{protocol.lower()}",
                                   "protocol": protocol}]})
            labels = {"pod": pod}
            labels.update(pod_labels.get(f"{namespace}/{pod}", {}))
            documents.append({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": pod, "namespace": namespace, "labels": labels},
                              "spec": {"containers": containers}})
    return documents


def case_peers(case):
    """[(short name, id kguard prints)]."""
    if case.get("model") == "xyz":
        return [(f"{n}/{p}", f"{n}/{p}[Pod]") for n in XYZ_NAMESPACES for p in XYZ_PODS]
    peers = []
    for name in case["peers"]:
        short = name if name.startswith("ip:") else name.split("[", 1)[0]
        peers.append((short, name))
    return peers


def case_documents(case):
    documents = [d for d in yaml.safe_load_all(case.get("objects") or "") if d]
    if case.get("model") == "xyz":
        documents = xyz_objects(case.get("namespace_labels") or {}, case.get("pod_labels") or {}) + documents
    return documents


def write_documents(documents, path):
    with open(path, "w", encoding="utf-8") as out:
        out.write(gen_random.to_yaml(documents))


def matches(pattern, name):
    return fnmatch.fnmatchcase(name, pattern)


def matrix_from_ops(peers, ops):
    names = [short for short, _ in peers]
    allowed = {(a, b): True for a in names for b in names}
    for source, destination, value in ops:
        hit = False
        for a in names:
            for b in names:
                if matches(source, a) and matches(destination, b):
                    allowed[(a, b)] = bool(value)
                    hit = True
        if not hit:
            raise ValueError(f"op {source} -> {destination} matches no cell")
    return allowed


def render(peers, allowed):
    names = [short for short, _ in peers]
    width = max(len(n) for n in names)
    lines = ["from\\to".ljust(width) + " " + " ".join(n.ljust(width) for n in names)]
    for a in names:
        cells = ["-" if a == b else ("." if allowed[(a, b)] else "X") for b in names]
        lines.append(a.ljust(width) + " " + " ".join(c.ljust(width) for c in cells))
    return "\n".join(line.rstrip() for line in lines) + "\n"


def parse_matrix(text, peers):
    names = [short for short, _ in peers]
    rows = [line.split() for line in text.strip().splitlines()]
    header = rows[0][1:]
    if header != names:
        raise ValueError(f"matrix columns {header} are not the peers {names}")
    allowed = {}
    for row in rows[1:]:
        source, cells = row[0], row[1:]
        for destination, cell in zip(header, cells):
            if cell != "-":
                allowed[(source, destination)] = cell == "."
    return allowed


def probe_parts(probe):
    protocol, port = probe.split("/")
    return protocol, int(port)


def lookup(answer, source_id, destination_id, protocol, port):
    """Is (source, destination, protocol, port) allowed in `answer` (a netpol_compare.Answer)?"""
    def in_ranges(ports):
        return any(low <= port <= high for low, high in ports[protocol])

    if source_id.startswith("ip:") or destination_id.startswith("ip:"):
        ip_side, workload, table = ((destination_id, source_id, answer.egress_ip) if destination_id.startswith("ip:")
                                    else (source_id, destination_id, answer.ingress_ip))
        (low, _), = netpol_compare.parse_ip_peer(ip_side)
        return any(span_low <= low <= span_high and in_ranges(ports)
                   for (span_low, span_high), ports in table.get(workload, []))
    ports = answer.pairs.get((source_id, destination_id))
    return bool(ports) and in_ranges(ports)


def check_case(kguard, path, workdir):
    with open(path, encoding="utf-8") as stream:
        case = yaml.safe_load(stream)
    peers = case_peers(case)
    ids = dict(peers)
    input_path = os.path.join(workdir, os.path.basename(path))
    write_documents(case_documents(case), input_path)
    cluster = reference.build_cluster(reference.load_documents([input_path]))
    expected_reference = netpol_compare.answer_from_reference(reference.connections(cluster))
    actual, error = (netpol_compare.run_kguard_list(kguard, [input_path]) if kguard else (None, "not run"))
    problems = []
    if kguard and actual is None:
        problems.append(f"kguard failed: {error}")
    if actual is not None:
        problems += [f"kguard's list: {w}" for w in actual.warnings[:5]]
    for probe in case["probes"]:
        protocol, port = probe_parts(probe["probe"])
        want = parse_matrix(probe["matrix"], peers)
        if want != {k: v for k, v in matrix_from_ops(peers, probe["ops"]).items() if k[0] != k[1]}:
            problems.append(f"{probe['probe']}: the matrix is not what the ops give (run --render)")
        for (a, b), allowed in sorted(want.items()):
            if a.startswith("ip:") and b.startswith("ip:"):
                continue
            got_reference = lookup(expected_reference, ids[a], ids[b], protocol, port)
            if got_reference != allowed:
                problems.append(f"{probe['probe']} {a} -> {b}: expected {'allowed' if allowed else 'blocked'}, "
                                f"reference says {'allowed' if got_reference else 'blocked'}")
            if actual is not None:
                got = lookup(actual, ids[a], ids[b], protocol, port)
                if got != allowed:
                    problems.append(f"{probe['probe']} {a} -> {b}: expected {'allowed' if allowed else 'blocked'}, "
                                    f"kguard says {'allowed' if got else 'blocked'}")
    return problems


def render_files(paths):
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        case = yaml.safe_load(text)
        peers = case_peers(case)
        for probe in case["probes"]:
            probe["matrix"] = render(peers, matrix_from_ops(peers, probe["ops"]))
        with open(path, "w", encoding="utf-8") as out:
            out.write(dump_case(case))


class _Literal(str):
    pass


def _literal_representer(dumper, data):
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")


yaml.SafeDumper.add_representer(_Literal, _literal_representer)


def dump_case(case):
    ordered = {}
    for key in ("source", "case", "model", "namespace_labels", "pod_labels", "peers", "objects", "probes"):
        if key in case:
            ordered[key] = case[key]
    if "objects" in ordered:
        ordered["objects"] = _Literal(ordered["objects"])
    for probe in ordered["probes"]:
        probe["matrix"] = _Literal(probe["matrix"])
        probe["ops"] = [list(op) for op in probe["ops"]]
    return yaml.safe_dump(ordered, sort_keys=False, width=120, default_flow_style=None)


def main(argv):
    if argv and argv[0] == "--render":
        render_files(argv[1:])
        return 0
    kguard = argv[0] if argv and argv[0] != "--reference-only" else None
    paths = argv[1:] or sorted(glob.glob(os.path.join(HERE, "cases", "*.yaml")))
    failed = 0
    cells = 0
    with tempfile.TemporaryDirectory(prefix="kguard-netpol-cases-") as workdir:
        for path in paths:
            problems = check_case(kguard, path, workdir)
            with open(path, encoding="utf-8") as stream:
                case = yaml.safe_load(stream)
            peers = len(case_peers(case))
            cells += len(case["probes"]) * peers * (peers - 1)
            name = os.path.relpath(path, HERE)
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for line in problems[:30]:
                    print(f"  {line}")
                if len(problems) > 30:
                    print(f"  ... and {len(problems) - 30} more")
            else:
                print(f"ok   {name}")
    print(f"{len(paths) - failed} passed, {failed} failed ({cells} matrix cells)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
