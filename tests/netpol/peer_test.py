#!/usr/bin/env python3
"""kguard against np-guard's netpol-analyzer, line by line, on the peer's own test corpus and on
our fixtures.

Usage: peer_test.py KGUARD [--peer BIN] [--module DIR] [--subject kguard|reference] [--report FILE]

The peer is built from the Go module proxy by bench/build_netpol_peer.sh into
~/.cache/kguard-bench/peers/netpol-analyzer-v1.4.2/netpolicy; its module (with its tests/ folders
and test_outputs/) is read from the Go module cache.  Without them the test is skipped (exit 77)
and says how to get them.

Inputs: every folder tests/<case> of the peer's module that has a plain connlist golden output
(test_outputs/connlist/<case>_connlist_output.txt, i.e. the peer's own "good path" cases), and
every fixture of tests/netpol/cases (written to a folder each).  On each, the peer's
`netpolicy list --dirpath DIR` and kguard's `kguard netpol list DIR -o netpol-analyzer` are run
and their lines compared; a case whose lines differ is then compared by meaning
(netpol_compare.py: per pair, protocol, port and address), which tells a difference of notation
(how IP ranges are cut, how a pod owned by a ReplicaSet is named) from one of connectivity.

`--subject reference` puts reference.py in kguard's place (by meaning only; it has no text form):
the peer is then a third opinion on the reference itself.

A case listed in tests/netpol/peer_differences.txt (case name, then the reason) may differ; any
other difference fails the test, and so does a listed case that no longer differs (the list must
be kept true).  --report writes the per-case table (bench/results/netpol.md includes it).
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fixtures_test  # noqa: E402
import netpol_compare  # noqa: E402
import reference  # noqa: E402

PEER_VERSION = "v1.4.2"
DEFAULT_PEER = os.path.expanduser(f"~/.cache/kguard-bench/peers/netpol-analyzer-{PEER_VERSION}/netpolicy")
DEFAULT_MODULE = os.path.expanduser(f"~/go/pkg/mod/github.com/np-guard/netpol-analyzer@{PEER_VERSION}")
ALL_PORTS = [(1, reference.MAX_PORT)]
CONN_PART = re.compile(r"(TCP|UDP|SCTP) ([0-9,\-]+?)(?=,(?:TCP|UDP|SCTP) |$)")


def parse_conn(text):
    text = text.strip()
    if text == "All Connections":
        return {p: list(ALL_PORTS) for p in reference.PROTOCOLS}
    ports = {p: [] for p in reference.PROTOCOLS}
    if text == "No Connections":
        return ports
    for protocol, ranges in CONN_PART.findall(text):
        ports[protocol] = reference.merge_ranges(ports[protocol] + reference.parse_ranges(ranges))
    return ports


def peer_name(text):
    """The peer's notation to ours: IP ranges get the "ip:" prefix; "[External]" is dropped."""
    text = text.strip()
    if text.endswith("[External]"):
        text = text[: -len("[External]")]
    if "[" not in text and not text.startswith("{"):
        return "ip:" + text
    return text


def answer_from_connlist(lines):
    answer = netpol_compare.Answer()
    for line in lines:
        if " => " not in line or " : " not in line:
            continue
        pair, conn = line.rsplit(" : ", 1)
        source, destination = (peer_name(p) for p in pair.split(" => ", 1))
        if source.startswith("{") or destination.startswith("{"):
            continue  # {ingress-controller}: not a peer kguard's list models
        answer.add(source, destination, parse_conn(conn))
    return answer


def owner_names(folder):
    """netpol-analyzer names a Pod whose controller is not in the input by that controller
    ("ns/owner[ReplicaSet]"); kguard names it as itself ("ns/pod[Pod]").  The map between the two,
    read from the folder's Pods."""
    files = sorted(glob.glob(os.path.join(folder, "*.yaml")) + glob.glob(os.path.join(folder, "*.yml"))
                   + glob.glob(os.path.join(folder, "*.json")))
    names = {}
    for path in files:
        try:
            documents = reference.load_documents([path])
        except Exception:  # a file the peer's corpus holds on purpose broken
            continue
        for doc in documents:
            if doc.get("kind") != "Pod":
                continue
            meta = doc.get("metadata") or {}
            for owner in meta.get("ownerReferences") or []:
                if owner.get("controller"):
                    namespace = meta.get("namespace") or "default"
                    names[f"{namespace}/{meta.get('name')}[Pod]"] = f"{namespace}/{owner.get('name')}[{owner.get('kind') or 'Pod'}]"
    return names


def renamed(answer, names):
    """`answer` with pods named by their controllers; pairs that fall together are united, a pair
    that becomes a workload to itself is dropped."""
    result = netpol_compare.Answer()
    for (src, dst), ports in answer.pairs.items():
        src, dst = names.get(src, src), names.get(dst, dst)
        if src != dst:
            result.add(src, dst, ports)
    for attribute in ("egress_ip", "ingress_ip"):
        table = getattr(result, attribute)
        for workload, entries in getattr(answer, attribute).items():
            table.setdefault(names.get(workload, workload), []).extend(entries)
    result.workloads = {names.get(w, w) for w in answer.workloads}
    return result


def run(command, timeout=300):
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def peer_cases(module):
    outputs = os.path.join(module, "test_outputs", "connlist")
    cases = []
    for path in sorted(glob.glob(os.path.join(outputs, "*_connlist_output.txt"))):
        name = os.path.basename(path)[: -len("_connlist_output.txt")]
        folder = os.path.join(module, "tests", name)
        if os.path.isdir(folder):
            cases.append((f"peer:{name}", folder))
    return cases


def fixture_cases(workdir):
    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases", "*.yaml"))):
        with open(path, encoding="utf-8") as stream:
            case = yaml.safe_load(stream)
        name = os.path.basename(path)[: -len(".yaml")]
        folder = os.path.join(workdir, name)
        os.makedirs(folder)
        fixtures_test.write_documents(fixtures_test.case_documents(case), os.path.join(folder, "input.yaml"))
        cases.append((f"fixture:{name}", folder))
    return cases


def load_known(path):
    known = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                line = line.strip()
                if line and not line.startswith("#"):
                    name, _, reason = line.partition(" ")
                    known[name] = reason.strip()
    return known


def subject_answer(subject, kguard, folder):
    """(lines or None, Answer or None, error)."""
    if subject == "reference":
        files = sorted(glob.glob(os.path.join(folder, "*.yaml")) + glob.glob(os.path.join(folder, "*.yml"))
                       + glob.glob(os.path.join(folder, "*.json")))
        try:
            cluster = reference.build_cluster(reference.load_documents(files))
            return None, netpol_compare.answer_from_reference(reference.connections(cluster)), ""
        except Exception as error:  # the peer's corpus holds files the reference does not read
            return None, None, f"reference: {type(error).__name__}: {error}"
    code, out, err = run([kguard, "netpol", "list", folder, "-o", "netpol-analyzer"])
    if code != 0:
        return None, None, f"kguard exit {code}: {err.strip()[:300]}"
    lines = [line for line in out.splitlines() if line.strip()]
    return lines, answer_from_connlist(lines), ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kguard")
    parser.add_argument("--peer", default=DEFAULT_PEER)
    parser.add_argument("--module", default=DEFAULT_MODULE)
    parser.add_argument("--subject", choices=("kguard", "reference"), default="kguard")
    parser.add_argument("--report")
    parser.add_argument("--known", default=os.path.join(HERE, "peer_differences.txt"))
    parser.add_argument("--only", help="a regular expression on case names")
    args = parser.parse_args()

    if not os.access(args.peer, os.X_OK) or not os.path.isdir(os.path.join(args.module, "tests")):
        print(f"SKIP: netpol-analyzer {PEER_VERSION} is not cached ({args.peer}, {args.module}); "
              f"build it with bench/build_netpol_peer.sh (Go module proxy)")
        return 77

    known = load_known(args.known) if args.subject == "kguard" else {}
    rows = []
    unexpected = []
    with tempfile.TemporaryDirectory(prefix="kguard-netpol-peer-") as workdir:
        cases = peer_cases(args.module) + fixture_cases(workdir)
        if args.only:
            cases = [c for c in cases if re.search(args.only, c[0])]
        for name, folder in cases:
            code, out, err = run([args.peer, "list", "--dirpath", folder, "-q"])
            if code != 0:
                rows.append((name, "peer error", 0, 0, 0, err.strip().splitlines()[-1:] if err.strip() else []))
                continue
            peer_lines = [line for line in out.splitlines() if " => " in line]
            lines, answer, error = subject_answer(args.subject, args.kguard, folder)
            if answer is None:
                rows.append((name, "subject error", len(peer_lines), 0, 0, [error]))
                if name not in known:
                    unexpected.append(name)
                continue
            if lines is not None:
                common = len(set(peer_lines) & set(lines))
                only_peer = sorted(set(peer_lines) - set(lines))
                only_subject = sorted(set(lines) - set(peer_lines))
            else:
                common, only_peer, only_subject = 0, [], []
            problems = netpol_compare.compare(answer_from_connlist(peer_lines), answer,
                                              expected_name="peer", actual_name=args.subject)
            if problems:
                names = owner_names(folder)
                if names and not netpol_compare.compare(answer_from_connlist(peer_lines), renamed(answer, names)):
                    problems = []
                    verdict_when_same = "same meaning, pods named by owner"
                else:
                    verdict_when_same = None
            else:
                verdict_when_same = "same meaning" if lines is not None else "agree"
            if lines is not None and not only_peer and not only_subject:
                verdict = "identical"
            elif not problems:
                verdict = verdict_when_same
            else:
                verdict = "differ"
            details = problems[:8] + [f"peer only: {line}" for line in only_peer[:4]] + \
                [f"{args.subject} only: {line}" for line in only_subject[:4]]
            rows.append((name, verdict, len(peer_lines), common, len(problems), details if verdict != "identical" else []))
            if verdict == "differ" and name not in known:
                unexpected.append(name)

    counts = {}
    for row in rows:
        counts[row[1]] = counts.get(row[1], 0) + 1
    print(f"{len(rows)} cases vs netpol-analyzer {PEER_VERSION} ({args.subject}): "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    for name, verdict, peer_count, common, problem_count, details in rows:
        if verdict in ("differ", "peer error", "subject error"):
            reason = known.get(name, "NOT EXPLAINED")
            print(f"\n{verdict.upper()} {name}: peer {peer_count} lines, {common} identical, {problem_count} "
                  f"pair(s) differ in meaning — {reason}")
            for line in details:
                print(f"    {line}")
    ran = {r[0] for r in rows}
    stale = [name for name in known
             if name in ran and not any(r[0] == name and r[1] in ("differ", "subject error", "peer error") for r in rows)]
    if args.report:
        with open(args.report, "w", encoding="utf-8") as out:
            out.write(f"| case | verdict | peer lines | identical lines | pairs differing in meaning |\n|---|---|---|---|---|\n")
            for name, verdict, peer_count, common, problem_count, _ in rows:
                out.write(f"| {name} | {verdict} | {peer_count} | {common} | {problem_count} |\n")
    if args.subject == "kguard" and stale:
        print(f"\nlisted in {os.path.basename(args.known)} but no longer differing: {' '.join(stale)}")
    if unexpected:
        print(f"\n{len(unexpected)} unexplained difference(s): {' '.join(unexpected)}")
        return 1
    return 1 if (args.subject == "kguard" and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
