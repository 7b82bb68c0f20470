#!/usr/bin/env python3
"""One large input cut into pieces for every --jobs worker (split_input): the
report must be byte for byte the unsplit scan's, for any --jobs and any piece
size, with the whole file's lines and columns, its errors capped across the
pieces, and children whose controller is pieces earlier still reported on the
controller only.

Run by ctest: split_test.py KGUARD_BINARY CORPORA_DIR
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

KGUARD, CORPORA = sys.argv[1:3]
del sys.argv[1:3]
REAL_WORLD = os.path.join(CORPORA, "real-world")

# The unsplit scan, then pieces of the default size on 1-3 workers, of 64 KiB
# (many pieces per worker) and of 1 byte (every document or item its own piece).
VARIANTS = [("--split-size", "0", "-j", "1"), ("-j", "1"), ("-j", "2"), ("-j", "3"),
            ("--split-size", "64KiB", "-j", "2"), ("--split-size", "1", "-j", "2")]
# Under the sanitizers (ctest sets KGUARD_SANITIZED) every piece size on two workers: the same
# code paths in two thirds of the scans; the other builds run all six.
if os.environ.get("KGUARD_SANITIZED"):
    VARIANTS = [VARIANTS[0], VARIANTS[2], VARIANTS[4], VARIANTS[5]]

REPLICA_SET = {
    "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web", "namespace": "n"},
    "spec": {"selector": {"matchLabels": {"a": "b"}},
             "template": {"metadata": {"labels": {"a": "b"}},
                          "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
OWNED_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "owned", "namespace": "n",
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                                      "controller": True}]},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "securityContext": {"privileged": True}}]}}
EXPIRED = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "expired", "namespace": "n",
                 "annotations": {"kguard.io/exempt": "all", "kguard.io/exempt-until": "2020-01-01",
                                 "kguard.io/exempt-reason": "old"}},
    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def real_world_files():
    return sorted(os.path.join(dp, f) for dp, _, fs in os.walk(REAL_WORLD) for f in fs
                  if f.endswith(".yaml"))


def scan(path, *args):
    p = subprocess.run([KGUARD, "scan", "--no-config", "-o", "json", *args, path],
                       capture_output=True, text=True, timeout=300)
    # The only byte that may differ between two runs is the time of the run.
    return p.returncode, re.sub(r'"generatedAt": *"[^"]*"', '"generatedAt": ""', p.stdout), p.stderr


class Split(unittest.TestCase):
    def same_for_every_variant(self, path, *extra):
        code, reference, err = scan(path, *VARIANTS[0], *extra)
        self.assertIn(code, (0, 1, 2), err)  # 2: input errors
        for v in VARIANTS[1:]:
            with self.subTest(variant=v):
                c, out, e = scan(path, *v, *extra)
                self.assertEqual(c, code, e)
                self.assertTrue(out == reference, f"{v} gives another report than the unsplit scan")
        return json.loads(reference)

    def test_yaml_stream(self):
        # The real-world corpus as one 8.5 MB stream (several pieces), with a
        # syntax error every tenth file, a duplicate key, an expired exemption
        # and a Pod whose ReplicaSet is the stream's first document.
        parts = ["---\n" + yaml.safe_dump(REPLICA_SET)]
        bad_lines = []
        for i, f in enumerate(real_world_files()):
            parts.append("---\n" + read(f) + "\n")
            if i % 10 == 9:
                parts.append("---\nkind: Pod\nbad: [1, 2\n")
                bad_lines.append(sum(p.count("\n") for p in parts))
                parts.append("---\n" + yaml.safe_dump(OWNED_POD))
                parts.append("---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: d}\nmetadata: {name: e}\n")
        parts.append("---\n" + yaml.safe_dump(EXPIRED))
        with tempfile.TemporaryDirectory() as d:
            big = os.path.join(d, "big.yaml")
            write(big, "".join(parts))
            r = self.same_for_every_variant(big)
            self.assertGreaterEqual(len(bad_lines), 4)
            # libyaml marks the unclosed sequence where the next document starts.
            self.assertEqual([e["line"] for e in r["errors"] if "invalid YAML" in e["message"]],
                             [n + 1 for n in bad_lines])
            self.assertEqual(len([e for e in r["errors"] if "duplicate" in e["message"]]), len(bad_lines))
            self.assertFalse([f for f in r["findings"] if f["name"] == "owned"])
            self.assertTrue([f for f in r["findings"] if f["name"] == "web"])
            self.assertTrue([w for w in r["warnings"] if "expired on 2020-01-01" in w["message"]])
            # Errors are capped per file across its pieces: the first 3, then one line counting the rest.
            capped = self.same_for_every_variant(big, "--max-errors-per-file", "3")
            self.assertEqual(len(capped["errors"]), 4)
            self.assertEqual(capped["errors"][:3], r["errors"][:3])
            self.assertIn(f"{len(r['errors']) - 3} more error(s) in this file not listed",
                          capped["errors"][3]["message"])

    def list_items(self):
        items = [REPLICA_SET]
        for f in real_world_files():
            # Every scalar a string: the corpus has YAML 1.1 scalars safe_load refuses.
            for doc in yaml.load_all(read(f), Loader=yaml.BaseLoader):
                if isinstance(doc, dict):
                    items.append(doc)
        # A snapshot lists by kind: the ReplicaSet's Pod far after it.
        return items + [OWNED_POD, EXPIRED]

    def test_json_list(self):
        items = self.list_items()
        envelope = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}}
        with tempfile.TemporaryDirectory() as d:
            for name, text in [
                ("pretty.json", json.dumps({**envelope, "items": items}, indent=2, default=str)),
                # One line: columns far into it; and a byte order mark before it.
                ("minified.json", "\ufeff" + json.dumps({**envelope, "items": items}, default=str)),
                # items before the envelope's other keys, CRLF line ends.
                ("first.json", json.dumps({"items": items, **envelope}, indent=1,
                                          default=str).replace("\n", "\r\n")),
            ]:
                with self.subTest(file=name):
                    path = os.path.join(d, name)
                    write(path, text)
                    r = self.same_for_every_variant(path)
                    self.assertEqual(r["overview"]["objects"], len(items))
                    self.assertFalse([f for f in r["findings"] if f["name"] == "owned"])
                    self.assertTrue([f for f in r["findings"] if f["name"] == "web"])
                    self.assertTrue([w for w in r["warnings"] if "expired on 2020-01-01" in w["message"]])
                    paths = [f["location"]["path"] for f in r["findings"] if f["name"] == "expired"]
                    self.assertTrue(paths and all(p.startswith(f"items[{len(items) - 1}]") for p in paths))

    def test_json_list_errors_and_duplicates(self):
        # A broken item ends the whole List's parse where the error is, a
        # duplicate key in the envelope is reported before its items' : both
        # make the split scan give the input back to the unsplit loader.
        items = [json.dumps(i, indent=2, default=str) for i in self.list_items()]
        mid = len(items) // 2
        dup_item = items[:]
        dup_item[mid] = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "1", "k": "2"}}'
        broken = items[:]
        broken[mid] = '{"apiVersion": "v1", "kind": "Pod", "spec": tru}'
        with tempfile.TemporaryDirectory() as d:
            for name, text in [
                ("dup-item.json", '{"kind": "List", "items": [\n' + ",\n".join(dup_item) + "\n]}\n"),
                ("dup-envelope.json", '{"kind": "List", "metadata": {"a": 1, "a": 2}, "items": [\n' +
                 ",\n".join(items) + "\n]}\n"),
                ("broken.json", '{"kind": "List", "items": [\n' + ",\n".join(broken) + "\n]}\n"),
                ("trailing-comma.json", '{"kind": "List", "items": [\n' + ",\n".join(items) + ",\n]}\n"),
                ("two-values.json", '{"kind": "List", "items": [\n' + ",\n".join(items) + '\n]}\n{"kind": "List", "items": []}\n'),
            ]:
                with self.subTest(file=name):
                    path = os.path.join(d, name)
                    write(path, text)
                    r = self.same_for_every_variant(path)
                    if name == "dup-item.json":
                        self.assertEqual([e["message"][:9] for e in r["errors"]], ["duplicate"])
                    if name in ("broken.json", "trailing-comma.json"):
                        self.assertTrue(r["errors"] and "invalid JSON" in r["errors"][0]["message"])


if __name__ == "__main__":
    unittest.main()
