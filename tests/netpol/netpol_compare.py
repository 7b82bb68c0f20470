"""Comparing two answers to "who can reach whom on which ports": kguard's `netpol list -o json`
and the reference evaluator's (reference.py), for the random differential test and the fixtures.

Workload pairs are compared as they are.  External peers are compared per address: both sides'
IP peers ("ip:CIDR", "ip:A-B", "ip:A") are cut at every boundary either side wrote, and each piece
is looked up on both sides, so the two need not group addresses the same way.  Only IPv4 is
compared (the generator writes no IPv6; an IPv6 peer kguard prints is ignored).
"""

import ipaddress
import json
import subprocess

from reference import PROTOCOLS, merge_ranges, parse_ranges, format_ranges, IPV4_END


def parse_ip_peer(text):
    """'ip:10.0.0.0/8' | 'ip:1.2.3.4-5.6.7.8' | 'ip:1.2.3.4' -> [(low, high)] (IPv4 only)."""
    spans = []
    for part in text[len("ip:"):].split(","):
        part = part.strip()
        if not part:
            continue
        if "/" in part:
            network = ipaddress.ip_network(part, strict=False)
            if network.version == 4:
                spans.append((int(network.network_address), int(network.broadcast_address)))
        elif "-" in part:
            low, high = (ipaddress.ip_address(p.strip()) for p in part.split("-", 1))
            if low.version == 4:
                spans.append((int(low), int(high)))
        else:
            address = ipaddress.ip_address(part)
            if address.version == 4:
                spans.append((int(address), int(address)))
    return spans


class Answer:
    """One side's connections: pod pairs, and (workload, IP span) both ways."""

    def __init__(self):
        self.pairs = {}  # (src, dst) -> {protocol: ranges}
        self.egress_ip = {}  # workload -> [((low, high), ports)]
        self.ingress_ip = {}  # workload -> [((low, high), ports)]
        self.workloads = set()
        self.warnings = []

    def add(self, src, dst, ports):
        src_ip = src.startswith("ip:")
        dst_ip = dst.startswith("ip:")
        if src_ip and dst_ip:
            return
        if not src_ip and not dst_ip:
            self.workloads.update((src, dst))
            if src == dst:
                self.warnings.append(f"a workload listed as reaching itself: {src} -> {dst}")
            if (src, dst) in self.pairs:
                self.warnings.append(f"pair {src} -> {dst} listed twice")
                ports = {p: merge_ranges(self.pairs[(src, dst)][p] + ports[p]) for p in PROTOCOLS}
            self.pairs[(src, dst)] = ports
            return
        workload, peer, table = (src, dst, self.egress_ip) if dst_ip else (dst, src, self.ingress_ip)
        self.workloads.add(workload)
        for span in parse_ip_peer(peer):
            table.setdefault(workload, []).append((span, ports))


def answer_from_json(document):
    answer = Answer()
    for entry in document.get("connections", []):
        ports = {p: parse_ranges(entry.get(p, "")) for p in PROTOCOLS}
        answer.add(entry["src"], entry["dst"], ports)
    return answer


def answer_from_reference(result):
    from reference import format_peer
    answer = Answer()
    for (src, dst), ports in result.items():
        answer.add(format_peer(src), format_peer(dst), ports)
    return answer


EMPTY = {p: [] for p in PROTOCOLS}


def describe(ports):
    return ", ".join(f"{p} {format_ranges(ports[p]) or '-'}" for p in PROTOCOLS)


def ip_text(low, high):
    a, b = ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)
    return f"ip:{a}" if low == high else f"ip:{a}-{b}"


def ports_at(entries, low, high):
    """Union of the ports of every span that covers [low, high] (spans are cut so that each
    covers a piece wholly or not at all)."""
    found = {p: [] for p in PROTOCOLS}
    for (span_low, span_high), ports in entries:
        if span_low <= low and high <= span_high:
            for p in PROTOCOLS:
                found[p] = merge_ranges(found[p] + ports[p])
    return found


def compare(expected, actual, expected_name="reference", actual_name="kguard"):
    """A list of disagreements, each a one-line string naming the pair, the protocol's ports on
    both sides."""
    problems = []
    for key in sorted(set(expected.pairs) | set(actual.pairs)):
        want = expected.pairs.get(key, EMPTY)
        got = actual.pairs.get(key, EMPTY)
        if want != got:
            problems.append(f"{key[0]} -> {key[1]}: {expected_name} [{describe(want)}] "
                            f"{actual_name} [{describe(got)}]")
    for direction, attribute in (("egress", "egress_ip"), ("ingress", "ingress_ip")):
        want_table = getattr(expected, attribute)
        got_table = getattr(actual, attribute)
        for workload in sorted(set(want_table) | set(got_table) | expected.workloads):
            want_entries = want_table.get(workload, [])
            got_entries = got_table.get(workload, [])
            starts = {0, IPV4_END}
            for (low, high), _ in want_entries + got_entries:
                starts.update((low, high + 1))
            starts = sorted(starts)
            last = None
            for low, next_start in zip(starts, starts[1:]):
                high = next_start - 1
                want = ports_at(want_entries, low, high)
                got = ports_at(got_entries, low, high)
                if want != got:
                    # Adjacent pieces with the same disagreement are reported once.
                    if last and last[2] == (want, got) and last[1] + 1 == low:
                        last[1] = high
                        continue
                    last = [low, high, (want, got)]
                    problems.append(last)
                    last.append((workload, direction))
            # Render the IP disagreements now that their spans are final.
            for i, problem in enumerate(problems):
                if isinstance(problem, list):
                    low, high, (want, got), (who, way) = problem
                    peer = ip_text(low, high)
                    src, dst = (who, peer) if way == "egress" else (peer, who)
                    problems[i] = (f"{src} -> {dst}: {expected_name} [{describe(want)}] "
                                   f"{actual_name} [{describe(got)}]")
    return problems


def run_kguard_list(kguard, paths, timeout=120):
    """kguard netpol list PATHS -o json -> (Answer or None, error text)."""
    proc = subprocess.run([kguard, "netpol", "list", *paths, "-o", "json"], capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode not in (0,):
        return None, f"exit {proc.returncode}: {proc.stderr.strip()[:2000]}"
    try:
        return answer_from_json(json.loads(proc.stdout)), proc.stderr
    except (ValueError, KeyError) as error:
        return None, f"unreadable JSON ({error}): {proc.stdout[:500]}"
