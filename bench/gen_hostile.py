#!/usr/bin/env python3
"""Hostile inputs for kguard's loader benchmark (bench/run_hostile_bench.sh).

Usage: gen_hostile.py OUTDIR [--scale S]
       gen_hostile.py --honest FILE MB     a realistic multi-document file of MB megabytes with many
                                           findings: examples/insecure repeated, each copy renamed

Writes one file per shape into OUTDIR; each is named SHAPE-SIZE.EXT so the bench can show how time
grows with size.  Everything is deterministic (no randomness).  --scale multiplies the sizes
(default 1; the tests use small scales, the bench 1).
"""

import os
import re
import sys

OBJ = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: default\n"
    "data:\n  key: value\n"
)


def write(path, data):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode) as f:
        f.write(data)


def honest(path, mb):
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "examples", "insecure")
    docs = []
    for name in sorted(os.listdir(src)):
        with open(os.path.join(src, name)) as f:
            docs.append(f.read().strip("\n").removeprefix("---\n"))
    base = "\n---\n".join(docs) + "\n---\n"
    top_name = re.compile(r"^(  name: )(\S+)$", re.M)
    limit = mb << 20
    written = 0
    with open(path, "w") as f:
        i = 0
        while written < limit:
            chunk = top_name.sub(lambda m: f"{m.group(1)}{m.group(2)}-{i}", base)
            f.write(chunk)
            written += len(chunk)
            i += 1


def main():
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    if args[0] == "--honest":
        honest(args[1], int(args[2]))
        return
    out = args[0]
    scale = 1.0
    if "--scale" in args:
        scale = float(args[args.index("--scale") + 1])
    os.makedirs(out, exist_ok=True)

    def n(x):
        return max(1, int(x * scale))

    # Deep flow nesting: time used to grow with the square of the depth.
    for size in (50_000, 100_000, 200_000, 400_000):
        write(f"{out}/nested-brackets-{n(size)}.yaml", "[" * n(size) + "\n")
        write(f"{out}/nested-braces-{n(size)}.yaml", "{" * n(size) + "\n")
    # The same after a valid document: the rest of the stream must still be read.
    write(f"{out}/nested-after-object-{n(200_000)}.yaml",
          OBJ.format(i=0) + "---\nkey: " + "[" * n(200_000) + "\n---\n" + OBJ.format(i=1))
    # JSON-looking deep nesting (the JSON loader, then its YAML fallback).
    write(f"{out}/nested-json-{n(400_000)}.json", '{"a":' * n(400_000) + "\n")
    # Deep block nesting: one key per line, each one space deeper.
    depth = n(3_000)
    write(f"{out}/deep-block-{depth}.yaml", "".join(" " * d + "a:\n" for d in range(depth)))
    # Block sequences on one line: `- - - - ...`.
    write(f"{out}/deep-dashes-{n(200_000)}.yaml", "- " * n(200_000) + "x\n")
    # Duplicate keys: 10 MB of them in one ConfigMap.
    count = n(1_400_000)
    write(f"{out}/duplicate-keys-{count}.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\ndata:\n" + "  a: b\n" * count)
    # One huge scalar (64 MB).
    write(f"{out}/huge-scalar-{n(64 << 20)}.yaml",
          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "
          + "x" * n(64 << 20) + "\n")
    # Many tiny documents, none of them an object (each one an error before the cap).
    write(f"{out}/tiny-documents-{n(1_000_000)}.yaml", "---\na: 1\n" * n(1_000_000))
    # Alias bomb ("billion laughs").
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for k in range(1, 12):
        lines.append(f"a{k}: &a{k} [" + ",".join([f"*a{k-1}"] * 10) + "]")
    write(f"{out}/alias-bomb.yaml", "\n".join(lines) + "\n")
    # Merge keys: one anchor of many keys merged many times into one mapping.
    keys = n(1_000)
    text = "base: &base\n" + "".join(f"  k{i}: v\n" for i in range(keys))
    text += "merged:\n  <<: [" + ", ".join(["*base"] * n(1_000)) + "]\n"
    write(f"{out}/merge-bomb-{keys}.yaml", text)
    # Long lines: a 32 MB plain scalar key line and a 32 MB flow sequence on one line.
    write(f"{out}/long-line-{n(32 << 20)}.yaml", "k" * n(32 << 20) + ": v\n")
    write(f"{out}/long-flow-line-{n(8 << 20)}.yaml", "items: [" + "a, " * n(8 << 20) + "a]\n")


if __name__ == "__main__":
    main()
