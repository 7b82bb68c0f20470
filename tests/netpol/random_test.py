#!/usr/bin/env python3
"""kguard's network policy engine against the reference evaluator on random clusters.

Usage: random_test.py KGUARD [--cases N] [--seed S] [--seconds T] [--jobs J]

Each case i is generated from the seed f"{S}-{i}" (gen_random.py), written to a file, given to
`kguard netpol list FILE -o json`, and evaluated by reference.py in this process; the two answers
must agree on every pair, protocol and port (netpol_compare.py).  The seed is printed first, so a
failure can be replayed with --seed S (and one case with `gen_random.py S-i`); the first
disagreeing case is printed in full (its YAML and every differing pair with both answers), the
others are counted.  The run stops after N cases or T seconds, whichever comes first, and fails
when fewer than --min-cases ran (a machine so loaded that it proves nothing).

Every 50th case also checks the reference's own shortcut (one evaluation per elementary port
interval): a random interior port and the last port of every interval must give the same answer
as its first.

KGUARD_NETPOL_SEED in the environment overrides the default seed (the current time).
"""

import argparse
import concurrent.futures
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_random  # noqa: E402
import netpol_compare  # noqa: E402
import reference  # noqa: E402


def check_interval_shortcut(cluster, rng):
    """The reference answers once per elementary port interval; check that the answer really is
    constant across each interval for a sample of pairs."""
    starts = reference.numbers_in_input(cluster)
    spans = reference.intervals(starts)
    peers = [("pod", w) for w in cluster.workloads] + [("ip", 0), ("ip", 0x0A010203), ("ip", 0x08080808)]
    problems = []
    for _ in range(6):
        source, destination = rng.sample(peers, 2)
        if source[0] == "ip" and destination[0] == "ip":
            continue
        for protocol in reference.PROTOCOLS:
            for low, high in spans:
                first = reference.connection_allowed(cluster, source, destination, protocol, low)
                for probe in {high, rng.randint(low, high)}:
                    if reference.connection_allowed(cluster, source, destination, protocol, probe) != first:
                        problems.append(f"reference shortcut: {protocol} {low}-{high} differs at {probe}")
    return problems


def run_case(kguard, seed, workdir, self_check):
    documents = gen_random.generate_documents(seed)
    text = gen_random.to_yaml(documents)
    path = os.path.join(workdir, f"case-{seed}.yaml")
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    actual, error = netpol_compare.run_kguard_list(kguard, [path])
    cluster = reference.build_cluster(documents)
    expected = netpol_compare.answer_from_reference(reference.connections(cluster))
    problems = []
    if self_check:
        problems += check_interval_shortcut(cluster, random.Random(seed))
    if actual is None:
        problems.append(f"kguard failed: {error}")
    else:
        problems += netpol_compare.compare(expected, actual)
    os.unlink(path)
    return seed, text, problems, len(cluster.workloads)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kguard")
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=100)
    parser.add_argument("--min-cases", type=int, default=300)
    parser.add_argument("--seed", default=os.environ.get("KGUARD_NETPOL_SEED", str(int(time.time()))))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    print(f"seed {args.seed} (replay: random_test.py KGUARD --seed {args.seed}; one case: "
          f"gen_random.py {args.seed}-I)", flush=True)
    started = time.monotonic()
    ran = failed = pairs = 0
    first_failure = None
    failures = []
    with tempfile.TemporaryDirectory(prefix="kguard-netpol-random-") as workdir, \
            concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        # Threads suffice: each case spends most of its time waiting on a kguard process.
        pending = set()
        index = 0
        while True:
            while len(pending) < args.jobs * 2 and index < args.cases \
                    and time.monotonic() - started < args.seconds:
                pending.add(pool.submit(run_case, args.kguard, f"{args.seed}-{index}", workdir, index % 50 == 0))
                index += 1
            if not pending:
                break
            done, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                seed, text, problems, workloads = future.result()
                ran += 1
                pairs += workloads * (workloads - 1)
                if problems:
                    failed += 1
                    failures.append(f"{seed} ({problems[0]})")
                    if first_failure is None:
                        first_failure = (seed, text, problems)

    elapsed = time.monotonic() - started
    print(f"{ran} random cases ({pairs} workload pairs, plus external IP ranges) in {elapsed:.1f} s; "
          f"{failed} disagree with the reference")
    if first_failure:
        seed, text, problems = first_failure
        print(f"\nFIRST DISAGREEMENT: case {seed} (gen_random.py {seed} > case.yaml; "
              f"kguard netpol list case.yaml -o json; reference.py case.yaml)")
        print("----- case.yaml -----")
        print(text.rstrip())
        print(f"----- {len(problems)} differing pair(s) -----")
        for line in problems[:40]:
            print(line)
        if len(problems) > 40:
            print(f"... and {len(problems) - 40} more")
        if len(failures) > 1:
            print("\nother disagreeing cases, with their first differing pair:")
            for line in failures[1:30]:
                print(f"  {line}")
            if len(failures) > 30:
                print(f"  ... and {len(failures) - 30} more")
    if ran < args.min_cases:
        print(f"only {ran} cases ran (< {args.min_cases}): too few to prove anything")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
